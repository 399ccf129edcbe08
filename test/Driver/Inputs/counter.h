// A header given to cleave build as a source (header-source.test): it is
// C++, as the program is.
#pragma once
#include <cleave/cleave.h>

#include <string>

CLEAVE_STATE() long hits = 0;

CLEAVE_ENTRY("GET /hit") std::string hit() { return std::to_string(++hits); }
