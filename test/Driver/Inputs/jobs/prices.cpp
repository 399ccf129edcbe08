// The function with its own resources.
#include "prices.h"

CLEAVE_FUNCTION("memory=2048") long quote(long qty) { return qty * 3; }
