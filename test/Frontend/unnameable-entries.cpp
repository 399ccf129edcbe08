// The generated glue calls an entry or a boundary function by its qualified
// name: one that nothing outside a class or a function can name is refused
// where it is annotated, not by the library build.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

struct Host {
  CLEAVE_ENTRY("GET /hidden") friend int hidden() { return 1; }
  // expected-error@-1 {{CLEAVE_ENTRY cannot annotate a friend function declared only inside its class: nothing outside the class can name it; declare it at namespace scope too}}
};

// Declared at namespace scope too: it can be named.
int visible();
struct Guest {
  CLEAVE_ENTRY("GET /visible") friend int visible() { return 2; }
};

int user() {
  struct Local {
    CLEAVE_FUNCTION("memory=2048") static int local() { return 3; }
    // expected-error@-1 {{CLEAVE_FUNCTION cannot annotate a member of a class defined inside a function or of an unnamed class: nothing outside can name it}}
  };
  return Local::local();
}
