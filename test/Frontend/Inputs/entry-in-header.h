#include <cleave/cleave.h>

CLEAVE_FUNCTION() inline int helper() { return 1; } // a function is fine here

CLEAVE_ENTRY("GET /header") inline int from_header() { return 2; }
