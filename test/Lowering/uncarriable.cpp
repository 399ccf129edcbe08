// A value that is live after a boundary must travel in the frame. When it
// cannot (a pointer, a reference or an iterator into data that stays
// behind, a mutex, a FILE *, a lambda, a class with private members),
// cleave says so at the first use after the call, with a note at the
// variable's declaration and a note at the boundary.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

class Secret {
public:
  int shown = 0;

private:
  int hidden = 0;
};

CLEAVE_ENTRY("POST /pointer") int pointer(int x) {
  int local = x;
  int *ptr = &local; // expected-note {{'ptr' is declared here}}
  int q = quote(x);  // expected-note {{the boundary: 'quote' runs as its own function}}
  return *ptr + q;   // expected-error {{'ptr' (int *) is used after the boundary but cannot be carried across it: 'int *' is a pointer}}
}

// A reference into a vector that changes size cannot be bound again.
CLEAVE_ENTRY("POST /reference") int reference(std::vector<int> v) {
  int &ref = v[0];    // expected-note {{'ref' is declared here}}
  v.push_back(1);
  int q = quote(v[1]); // expected-note {{the boundary: 'quote' runs as its own function}}
  ref += q;           // expected-error {{is used after the boundary but cannot be carried across it: it is a reference, and what it refers to does not travel with the frame}}
  return v[0];
}

CLEAVE_ENTRY("POST /iterator") int iterator(std::vector<int> v) {
  auto it = v.begin(); // expected-note {{'it' is declared here}}
  int q = quote(*it);  // expected-note {{the boundary: 'quote' runs as its own function}}
  ++it;                // expected-error {{is used after the boundary but cannot be carried across it}}
  return *it + q;
}
// The reason names the iterator's internals, with a note in the library:
// expected-note-re@* 0-1 {{'{{[^']*}}' declared{{.*}} here}}

CLEAVE_ENTRY("POST /mutex") int mutex(int x) {
  std::mutex mu;                        // expected-note {{'mu' is declared here}}
  int q = quote(x);                     // expected-note {{the boundary: 'quote' runs as its own function}}
  std::lock_guard<std::mutex> guard(mu); // expected-error {{'mu' (std::mutex) is used after the boundary but cannot be carried across it: 'std::mutex' is not supported by generated serializers}}
  return q;
}

CLEAVE_ENTRY("POST /file") int file(int x) {
  FILE *f = std::fopen("/dev/null", "w"); // expected-note {{'f' is declared here}}
  int q = quote(x);                       // expected-note {{the boundary: 'quote' runs as its own function}}
  std::fputs("done", f);                  // expected-error {{'f' (FILE *) is used after the boundary but cannot be carried across it: 'FILE *' is a pointer}}
  std::fclose(f);
  return q;
}

CLEAVE_ENTRY("POST /lambda") int lambda(int x) {
  int base = x;
  auto add = [base](int y) { return base + y; }; // expected-note {{'add' is declared here}}
  base += 1;
  int q = quote(x);                        // expected-note {{the boundary: 'quote' runs as its own function}}
  return add(q) + base;                    // expected-error {{'add' ((lambda)) is used after the boundary but cannot be carried across it: it is a lambda}}
}

// A class with private data travels: the generated code reaches it.
CLEAVE_ENTRY("POST /secret") int secret(int x) {
  Secret s;
  int q = quote(x);
  return s.shown + q;
}

// Values that are dead after the call may be anything. (Locals declared
// before a boundary in the same block must also be hoisted, which a lambda
// or a lock cannot be: they are in an inner block here, see unhoistable.cpp.)
CLEAVE_ENTRY("POST /dead") int dead(int x) {
  int local = x;
  int *ptr = &local;
  Secret s;
  int before = *ptr + s.shown;
  {
    std::mutex mu;
    std::lock_guard<std::mutex> guard(mu);
    auto twice = [](int y) { return 2 * y; };
    before = twice(before);
  }
  FILE *f = nullptr;
  int first = quote(before);
  f = std::fopen("/dev/null", "r"); // written before it is read
  if (f)
    std::fclose(f);
  return first;
}
