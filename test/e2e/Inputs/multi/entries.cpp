// Entries of the multi-unit deployment.
#include "ledger.h"

#include <stdexcept>

struct Balance {
  std::string who;
  long amount = 0;
};

CLEAVE_ENTRY("POST /deposit") Balance deposit(std::string who, long amount) {
  balances[who] += amount - fee_for(amount);
  return {who, balances[who]};
}

// Counts the attempt before it can fail: in the plain program the count
// survives the exception, and so it does in the deployment.
CLEAVE_ENTRY("POST /withdraw") Balance withdraw(std::string who, long amount) {
  ++attempts;
  if (balances[who] < amount)
    throw std::runtime_error("insufficient funds");
  balances[who] -= amount;
  return {who, balances[who]};
}

CLEAVE_ENTRY("GET /attempts") long attempts_so_far() { return attempts; }

int main() { return deposit("ann", 10).amount == 9 ? 0 : 1; }
