// Included beside counter.h by a relative name, behind an include guard.
#ifndef SHOP_MONEY_H
#define SHOP_MONEY_H
struct Money {
  long cents = 0;
};
long quote(long x);
#endif
