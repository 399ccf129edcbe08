// Scanned without error, refused when it is cut: its diagnostics come
// after the plan, and before those of the units given after it.
#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /skip") int skip(int x) {
  int q = 0;
  if (x < 0)
    goto done;
  q = quote(x);
done:
  return q;
}
