// Declarations shared by across-units.test: one defined nowhere and called,
// one defined nowhere and never called.
#pragma once
#include <cleave/cleave.h>
#include <string>
CLEAVE_FUNCTION("memory=1024") int never(int x);
CLEAVE_FUNCTION("memory=1024") int unused(int x);
