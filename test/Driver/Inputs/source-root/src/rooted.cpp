#include "heavy.h"
#include <cleave/cleave.h>

CLEAVE_ENTRY("GET /twice")
int twice(int x) { return heavy(x); }
