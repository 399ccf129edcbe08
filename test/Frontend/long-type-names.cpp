// Generated code spells each class it encodes in full (its codec is a
// specialization for it). A class whose template arguments repeat a type at
// every level of nesting is short to write through aliases and exponential
// to spell out: refused, with the size, before any code is written.
// Default template arguments are left out of the spelling, as the program
// leaves them out (type-spelling.cpp); a long but fair type stays fine.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

template <class A, class B> struct P2 { A a; B b; }; // expected-note {{declared here}}
using Q0 = long;
using Q1 = P2<Q0, Q0>;
using Q2 = P2<Q1, Q1>;
using Q3 = P2<Q2, Q2>;
using Q4 = P2<Q3, Q3>;
using Q5 = P2<Q4, Q4>;
using Q6 = P2<Q5, Q5>;
using Q7 = P2<Q6, Q6>;
using Q8 = P2<Q7, Q7>;
using Q9 = P2<Q8, Q8>;
using Q10 = P2<Q9, Q9>;
using Q11 = P2<Q10, Q10>;
using Q12 = P2<Q11, Q11>;
using Q13 = P2<Q12, Q12>;
using Q14 = P2<Q13, Q13>;
using Q15 = P2<Q14, Q14>;
using Q16 = P2<Q15, Q15>;
using Q17 = P2<Q16, Q16>;
using Q18 = P2<Q17, Q17>;
using Q19 = P2<Q18, Q18>;
using Q20 = P2<Q19, Q19>;

CLEAVE_ENTRY("POST /deep") long deep(Q20 q) { (void)q; return 1; } // expected-error-re {{parameter 'q' of entry 'deep' cannot be serialized: 'P2<...>' takes about {{[0-9]+}} characters to spell in the code cleave generates (at most 65536 are allowed): its template arguments repeat types at each level of nesting}}

// Ten levels: about 16 KB, fine.
CLEAVE_ENTRY("POST /fair") long fair(Q10 q) { (void)q; return 2; }

int main() { return 0; }
