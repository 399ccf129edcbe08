// Quick to parse, with an error.
#include <cleave/cleave.h>

CLEAVE_ENTRY("GET /fast?") int fast() { return 2; }
