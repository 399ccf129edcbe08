// Second unit for discovery.cpp: a plain helper that touches state.

#include <cleave/cleave.h>

#include <string>
#include <vector>

CLEAVE_STATE() std::vector<std::string> audit;

int bump() {
  audit.push_back("restock");
  return 0;
}
