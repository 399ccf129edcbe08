// A header's function, which cleave does not cut: it calls a function of
// another profile.
#pragma once
int quote(int x);
inline int price_with_tax(int x) { return quote(x) + 1; }
