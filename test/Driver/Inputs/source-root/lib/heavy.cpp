#include "heavy.h"
#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int heavy(int x) { return x * 2; }
