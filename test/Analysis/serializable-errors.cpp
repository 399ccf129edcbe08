// Entry parameters, results and state must be serializable; each failure
// says why, with a note at the declaration to blame.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

class Account {
public:
  std::string owner;
private:
  long balance = 0; // expected-note 2 {{'balance' declared private here}}
};

struct Wrapper {
  int n = 0;
  std::vector<Account> accounts;
};

union Bits { // expected-note {{union declared here}}
  int i;
  float f;
};

struct Shape {
  virtual ~Shape() = default; // makes it polymorphic
  int sides = 0;
};
// expected-note@-4 {{declared here}}

CLEAVE_ENTRY("POST /a") int a(Account acc) { return (int)acc.owner.size(); }
// expected-error@-1 {{parameter 'acc' of entry 'a' cannot be serialized: 'Account' has private data member 'balance'}}

CLEAVE_ENTRY("POST /b") int b(Wrapper w) { return w.n; }
// expected-error@-1 {{parameter 'w' of entry 'b' cannot be serialized: member 'accounts' of 'Wrapper': 'Account' has private data member 'balance'}}

CLEAVE_ENTRY("POST /c") int c(int *p) { return *p; }
// expected-error@-1 {{parameter 'p' of entry 'c' cannot be serialized: 'int *' is a pointer}}

CLEAVE_ENTRY("POST /d") int d(int &r) { return r; }
// expected-error@-1 {{parameter 'r' of entry 'd' is a non-const reference; an entry receives its parameters by value}}

CLEAVE_ENTRY("POST /e") int e(Bits u) { return u.i; }
// expected-error@-1 {{parameter 'u' of entry 'e' cannot be serialized: 'Bits' is a union}}

CLEAVE_ENTRY("POST /f") int f(std::map<int, int> m) { return (int)m.size(); }
// expected-error@-1 {{'std::map<int, int>' has keys of type 'int'; map keys must be std::string}}

CLEAVE_ENTRY("POST /g") int g(std::set<int> s) { return (int)s.size(); }
// expected-error@-1 {{'std::set<int>' is not supported by generated serializers}}

CLEAVE_ENTRY("GET /h") FILE *h() { return nullptr; }
// expected-error@-1 {{return type of entry 'h' cannot be serialized: 'FILE *' is a pointer}}

CLEAVE_ENTRY("POST /i") int i(Shape s) { return s.sides; }
// expected-error@-1 {{'Shape' is polymorphic (has virtual functions)}}

CLEAVE_ENTRY("POST /j") int j(int) { return 0; }
// expected-error@-1 {{parameter 1 of entry 'j' has no name; the request names each parameter}}

CLEAVE_STATE() std::mutex lock;
// expected-error@-1 {{state variable 'lock' cannot be stored: 'std::mutex' is not supported by generated serializers}}

CLEAVE_ENTRY("POST /k") int k(int arr[3]) { return arr[0]; }
// expected-error@-1 {{'int *' is a pointer}}

// Everything supported, together, is accepted: const references, nested
// structs, containers, optional, enums, recursion through a vector.
enum class Color { Red, Green };
struct Node {
  std::string name;
  std::vector<Node> children;
};
struct Everything {
  bool b = false;
  char c = 0;
  unsigned long long u = 0;
  double d = 0;
  Color color = Color::Red;
  std::optional<std::string> note;
  std::map<std::string, std::vector<int>> index;
  Node tree;
};
CLEAVE_ENTRY("POST /ok") Everything ok(const Everything &e, Node n) { (void)n; return e; }
