#include <cleave/cleave.h>

CLEAVE_STATE() long fees = 0;

CLEAVE_ENTRY("GET /fees") long total_fees() { return fees; }
