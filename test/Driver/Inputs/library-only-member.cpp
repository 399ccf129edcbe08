#include <cleave/cleave.h>

// The handler library alone defines CLEAVE_HANDLER_LIBRARY: there the
// member that the generated codecs name is gone.
struct Order {
  long qty = 0;
#ifdef CLEAVE_HANDLER_LIBRARY
  long remark = 0;
#else
  long note = 0;
#endif
};

CLEAVE_STATE() long orders = 0;

CLEAVE_ENTRY("POST /order") long order(Order o) {
  orders += o.qty;
  return orders;
}
