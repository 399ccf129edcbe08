// The state is defined here, away from the entries that use it.
#include "ledger.h"

std::map<std::string, long> balances = {{"bank", 100}};
long attempts = 0;
long fees = 0;
