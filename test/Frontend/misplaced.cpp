// Annotations on the wrong kind of declaration.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

CLEAVE_ENTRY("GET /v") int not_a_function = 0;
// expected-error@-1 {{CLEAVE_ENTRY applies to free functions, not to a variable}}

CLEAVE_FUNCTION() long also_not = 0;
// expected-error@-1 {{CLEAVE_FUNCTION applies to free functions, not to a variable}}

CLEAVE_STATE() int state_fn() { return 0; }
// expected-error@-1 {{CLEAVE_STATE applies to variables at namespace scope and static data members, not to a function}}

struct CLEAVE_STATE() Tagged { int x; };
// expected-error@-1 {{CLEAVE_STATE applies to variables at namespace scope and static data members, not to a type}}

struct Widget {
  CLEAVE_ENTRY("GET /m") int method() { return 1; }
  // expected-error@-1 {{CLEAVE_ENTRY applies to free functions, not to a member function}}
  CLEAVE_STATE() int field = 0;
  // expected-error@-1 {{not to a non-static data member}}
  CLEAVE_STATE() static long counter; // a static data member is fine
};
long Widget::counter = 0;

template <class T> CLEAVE_ENTRY("GET /t") T templ(T x) { return x; }
// expected-error@-1 {{CLEAVE_ENTRY applies to free functions, not to a function template}}

void locals(CLEAVE_STATE() int param) {
  // expected-error@-1 {{not to a parameter}}
  CLEAVE_STATE() int local = 0;
  // expected-error@-1 {{not to a local variable}}
  CLEAVE_STATE() static int counted = 0;
  // expected-error@-1 {{not to a static local variable}}
  CLEAVE_STATE() thread_local int per_thread = 0;
  // expected-error@-1 {{not to a thread_local variable}}
  (void)param; (void)local; (void)counted; (void)per_thread;
}

CLEAVE_STATE() constexpr int fixed = 3;
// expected-error@-1 {{not to a constexpr variable}}

CLEAVE_ENTRY("GET /v") int variadic(int, ...) { return 1; }
// expected-error@-1 {{CLEAVE_ENTRY cannot annotate a variadic function}}

CLEAVE_ENTRY("GET /") int main() { return 0; }
// expected-error@-1 {{CLEAVE_ENTRY cannot annotate 'main': it is the monolith's driver and is left out of the deployment}}
