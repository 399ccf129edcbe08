#include <cleave/cleave.h>
#include <string>

#include "flags.h"

#ifdef GREETING
CLEAVE_ENTRY("GET /greet") std::string greet() { return GREETING + suffix(); }
#endif
