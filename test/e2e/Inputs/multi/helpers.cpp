// A plain helper in a third unit, which the entries reach: its state use
// is found through the call graph.
#include "ledger.h"

long fee_for(long amount) {
  long fee = amount / 10;
  fees += fee;
  return fee;
}
