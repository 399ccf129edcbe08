// Compiles only when the compile command defines CLEAVE_TEST_DEFINED and
// CLEAVE_TEST_BEFORE: usage.test gives them with --extra-arg and
// --extra-arg-before on top of a compile database.
#include <cleave/cleave.h>

#ifndef CLEAVE_TEST_DEFINED
#error "CLEAVE_TEST_DEFINED is not defined"
#endif
#ifndef CLEAVE_TEST_BEFORE
#error "CLEAVE_TEST_BEFORE is not defined"
#endif

CLEAVE_ENTRY("GET /answer") int answer() { return 42; }
