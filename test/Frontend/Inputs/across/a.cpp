#include "shared.h"
CLEAVE_STATE() extern long total;
CLEAVE_FUNCTION("memory=2048") int conflict(int x);
CLEAVE_ENTRY("GET /a") long a() { return total + never(1); }
