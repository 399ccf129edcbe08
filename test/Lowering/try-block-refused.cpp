// A handler around a boundary catches only what crosses one: the callee's
// exception comes back as its standard class and its what(), so a handler
// of the program's own class, of a standard class that holds more than a
// message, or of a type that is not a class could not take it as the plain
// program does. The error is at the handler, with a note at the boundary.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <stdexcept>
#include <system_error>

struct Rejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

CLEAVE_FUNCTION("memory=2048") int quote(int x) {
  if (x < 0)
    throw Rejected("negative");
  return x * 3;
}

CLEAVE_ENTRY("POST /own") int own(int x) {
  try {
    return quote(x); // expected-note {{the boundary is here}}
  } catch (const Rejected &) { // expected-error {{a handler around a boundary cannot catch 'Rejected': an exception crosses a boundary as its standard class and its what(), so only std::exception, its standard subclasses and '...' can be caught here}}
    return -1;
  } catch (const std::exception &) {
    return -2;
  }
}

CLEAVE_ENTRY("POST /scalar") int scalar(int x) {
  try {
    return quote(x); // expected-note {{the boundary is here}}
  } catch (int) { // expected-error {{a handler around a boundary cannot catch 'int'}}
    return -1;
  }
}

CLEAVE_ENTRY("POST /system") int system(int x) {
  int r = 0;
  try {
    try {
      r = quote(x); // expected-note 2 {{the boundary is here}}
    } catch (const std::system_error &) { // expected-error {{cannot catch 'std::system_error'}}
      r = -1;
    }
  } catch (const char *) { // expected-error {{cannot catch 'const char *'}}
    r = -2;
  }
  return r;
}

// In a handler too: the step resuming there throws the exception again.
CLEAVE_ENTRY("POST /handler") int handler(int x) {
  try {
    if (x < 0)
      throw Rejected("negative");
  } catch (const Rejected &) { // expected-error {{cannot catch 'Rejected'}}
    return quote(-x); // expected-note {{the boundary is here}}
  }
  return 0;
}

// A try statement without a boundary catches anything.
CLEAVE_ENTRY("POST /beside") int beside(int x) {
  int r = quote(x);
  try {
    if (r > 100)
      throw Rejected("large");
  } catch (const Rejected &) {
    r = 100;
  }
  return r;
}
