#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=512") long price(long qty);

// Also defined in defined-twice.cpp: the program would not link.
long total(long qty) { return price(qty) * 2; }

// Each unit's own: fine.
static long local_twice(long x) { return x * 2; }
inline long shared_inline(long x) { return x + 1; }
namespace {
long hidden(long x) { return x - 1; }
} // namespace

long other(long qty) { return local_twice(qty) + shared_inline(qty) + hidden(qty); }
