// A handler around a boundary catches only what crosses one: a standard
// exception comes back as its standard class and its what(), a class of
// the program as itself, where it can be made again on the other side
// exactly (own-exceptions.cpp). A standard class that holds more than a
// message, a type that is not a class, and classes of the program that
// cannot be made again exactly are refused. The error is at the handler,
// with a note at the boundary.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <stdexcept>
#include <string>
#include <system_error>

struct Rejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Its constructor changes the message: made again from what(), it would
// say "detail: detail: ...".
struct Detailed : std::runtime_error { // expected-note {{'Detailed' is defined here}}
  explicit Detailed(const std::string &s) : std::runtime_error("detail: " + s) {}
};

// Data beside the message.
struct WithCode : std::runtime_error { // expected-note {{'WithCode' is defined here}}
  WithCode(const std::string &m, int c) : std::runtime_error(m), code(c) {}
  int code;
};

// Counts its copies: rebuilt on the other side, the count would differ.
int copies = 0;
struct Counted { // expected-note {{'Counted' is defined here}}
  Counted() = default;
  Counted(const Counted &) { ++copies; }
  int n = 0;
};

// Derived from a class that can cross, but it cannot.
struct Rejected2 : Rejected { // expected-note {{'Rejected2' is defined here}}
  explicit Rejected2(const std::string &m) : Rejected(m + "!") {}
};

CLEAVE_FUNCTION("memory=2048") int quote(int x) {
  if (x < 0)
    throw Rejected("negative");
  return x * 3;
}

CLEAVE_ENTRY("POST /detailed") int detailed(int x) {
  try {
    return quote(x); // expected-note {{the boundary is here}}
  } catch (const Detailed &) { // expected-error {{a handler around a boundary cannot catch 'Detailed': exceptions cross a boundary as themselves, but its constructor at line 23 does more than pass the message on to its base}}
    return -1;
  } catch (const std::exception &) {
    return -2;
  }
}

CLEAVE_ENTRY("POST /code") int code(int x) {
  try {
    return quote(x); // expected-note {{the boundary is here}}
  } catch (const WithCode &e) { // expected-error {{cannot catch 'WithCode': exceptions cross a boundary as themselves, but it derives from a standard exception and has data members of its own ('code')}}
    return e.code;
  }
}

CLEAVE_ENTRY("POST /counted") int counted(int x) {
  try {
    return quote(x); // expected-note {{the boundary is here}}
  } catch (const Counted &c) { // expected-error {{cannot catch 'Counted': exceptions cross a boundary as themselves, but it has constructors, a destructor or assignments of its own}}
    return c.n;
  }
}

CLEAVE_ENTRY("POST /derived") int derived(int x) {
  try {
    return quote(x); // expected-note {{the boundary is here}}
  } catch (const Rejected &) { // expected-error {{cannot catch 'Rejected': exceptions cross a boundary as themselves, but 'Rejected2', derived from it, cannot cross one: its constructor at line 42 does more than pass the message on to its base}}
    return -1;
  }
}

CLEAVE_ENTRY("POST /scalar") int scalar(int x) {
  try {
    return quote(x); // expected-note {{the boundary is here}}
  } catch (int) { // expected-error {{a handler around a boundary cannot catch 'int': an exception that is not a class cannot cross a boundary; throw a class}}
    return -1;
  }
}

CLEAVE_ENTRY("POST /system") int system(int x) {
  int r = 0;
  try {
    try {
      r = quote(x); // expected-note 2 {{the boundary is here}}
    } catch (const std::system_error &) { // expected-error {{cannot catch 'std::system_error': exceptions cross a boundary as themselves, but it is a standard class that holds more than its message}}
      r = -1;
    }
  } catch (const char *) { // expected-error {{cannot catch 'const char *'}}
    r = -2;
  }
  return r;
}

// A try statement without a boundary catches anything.
CLEAVE_ENTRY("POST /beside") int beside(int x) {
  int r = quote(x);
  try {
    if (r > 100)
      throw Detailed("large");
  } catch (const Detailed &) {
    r = 100;
  }
  return r;
}
