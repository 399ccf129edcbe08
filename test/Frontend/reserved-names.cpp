// Names that begin with 'cleave_', and the namespace 'cleave', belong to the
// code cleave generates: the program may not declare or define them, so
// that nothing it writes can collide with a name of that code.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#define cleave_limit 10 // expected-error {{macro 'cleave_limit': names that begin with 'cleave_', and 'cleave', are reserved for the code cleave generates}}

namespace cleave { // expected-error {{namespace 'cleave' is cleave's own; the program may not declare anything in it}}
namespace rt {
struct Step {};
} // namespace rt
} // namespace cleave

int cleave_t1 = 3; // expected-error {{'cleave_t1': names that begin with 'cleave_' are reserved for the code cleave generates}}

struct cleave_frame { // expected-error {{'cleave_frame': names that begin with 'cleave_' are reserved}}
  int cleave_x; // expected-error {{'cleave_x': names that begin with 'cleave_' are reserved}}
};

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 2; }

CLEAVE_ENTRY("POST /order") int order(int cleave_s) { // expected-error {{'cleave_s': names that begin with 'cleave_' are reserved}}
  int cleave_r = quote(cleave_s); // expected-error {{'cleave_r': names that begin with 'cleave_' are reserved}}
  if (cleave_r > 3)
    goto cleave_resume1;
  return 0;
cleave_resume1: // expected-error {{'cleave_resume1': names that begin with 'cleave_' are reserved}}
  return cleave_r;
}

// A name of the program's own that merely contains "cleave" is fine, as is
// a namespace 'cleave' inside another.
namespace shop {
namespace cleave {
int cleaver = 1;
}
} // namespace shop
int my_cleave_count = 0;
