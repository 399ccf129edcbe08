// A helper that reaches a boundary, so that a call to it stops its caller
// in the other unit; and an error of this unit's own, under -verify.
#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

int helper(int x) { return quote(x) + 1; }

CLEAVE_ENTRY("GET /v") int not_a_function = 0;
// expected-error@-1 {{CLEAVE_ENTRY applies to free functions, not to a variable}}
