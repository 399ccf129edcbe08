// The handler library compiles the program after cleave/handler.h, which
// brings the C and C++ libraries' headers and nlohmann/json with it. A global
// name of the program that one of those headers declares too, or an
// identifier that one of them defines as a macro, would clash there or, worse,
// change which function a call reaches; each is refused where the program
// writes it. What the program already sees (here std::size_t, strlen
// through <cstring>) is no change and stays fine.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>
#include <cstring>
#include <string>

// <cmath>: a call log(2.5) would reach ::log(double) in the handler library.
double log(int x) { return x * 2.0; } // expected-error-re {{'log' is also declared at global scope by {{.*}}, which the handler library includes before this code (cleave/handler.h); there the two would clash, or a call could reach the other one; rename it, or put it in a namespace}}

// Unnamed namespaces and unscoped enumerations are searched as the global
// scope is.
namespace {
long acosh = 4; // expected-error-re {{'acosh' is also declared at global scope by {{.*}}}}
}
enum Mode { lgamma, Other }; // expected-error-re {{'lgamma' is also declared at global scope by {{.*}}}}

// A macro of <cassert> would expand in the handler library.
int assert(bool b) { return b ? 1 : 0; } // expected-error-re {{'assert' is a macro of {{.*}}assert.h, which the handler library includes before this code (cleave/handler.h), so there it would expand; rename it, or include that header here as well}}

// Fine: declared by a header this unit includes, in a namespace, a member,
// a local, or a C function the program declares itself.
std::size_t size_of(const char *s) { return std::strlen(s); }
namespace shop { double log(int x) { return x; } }
struct Row { int sqrt = 0; };
extern "C" double cbrt(double);
// No call could choose between this and ::floor(double): they overload.
CLEAVE_ENTRY("GET /floor") long floor() { return 1; }

CLEAVE_STATE() long hits = 0;

CLEAVE_ENTRY("POST /f") double f(long n) {
  long exp = n;
  hits += exp;
  return log(static_cast<int>(n)) + assert(n > 0) + acosh + shop::log(1);
}

int main() { return 0; }
