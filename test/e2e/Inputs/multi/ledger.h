// Shared declarations of the multi-unit deployment: every unit that uses
// state sees it declared with CLEAVE_STATE.
#include <cleave/cleave.h>

#include <map>
#include <string>

CLEAVE_STATE() extern std::map<std::string, long> balances;
CLEAVE_STATE() extern long attempts;
CLEAVE_STATE() extern long fees;

long fee_for(long amount); // helpers.cpp
