// Slow to parse (much of the standard library), with an error: given
// first, its diagnostics come first, though the other unit is done sooner.
#include <cleave/cleave.h>

#include <iostream>
#include <map>
#include <regex>

CLEAVE_ENTRY("GET /slow?") int slow() { return 1; }
