// An entry defined in an included file has no unit to carry its handler.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -I%S/Inputs -Xclang -verify

#include "entry-in-header.h"
// expected-error@entry-in-header.h:5 {{entry 'from_header' is defined in an included file; define it in one of the source files given to cleave}}

CLEAVE_ENTRY("GET /here") int here() { return from_header() + helper(); }
