// A program with state and a helper, but no CLEAVE_ENTRY: cleave build
// writes it and warns that nothing would be served.
#include <cleave/cleave.h>

CLEAVE_STATE() long total = 0;

long add(long by) { return total += by; }
