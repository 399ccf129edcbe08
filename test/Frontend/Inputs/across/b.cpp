#include "shared.h"
CLEAVE_STATE() std::string total = "";
CLEAVE_FUNCTION("memory=512") int conflict(int x) { return x; }
CLEAVE_ENTRY("GET /b") long b() { return static_cast<long>(total.size()) + conflict(2); }
