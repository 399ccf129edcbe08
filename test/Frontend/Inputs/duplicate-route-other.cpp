// Second unit for duplicate-route.cpp.

#include <cleave/cleave.h>

CLEAVE_ENTRY("POST /orders") int place_again(int n) { return n + 1; }
