// The call to helper (helpers.cpp) stops this entry only because of what
// the other unit defines: the error comes from the whole-program plan.
#include <cleave/cleave.h>

int helper(int x);

CLEAVE_ENTRY("POST /skip") int skip(int x) {
  int q = 0;
  if (x < 0)
    goto done; // expected-error {{this goto jumps across a boundary; a function cut into steps cannot be resumed on the other side}}
  q = helper(x); // expected-note {{the boundary is here}}
done: // expected-note {{the label is here}}
  return q;
}
