// A boundary inside a GNU statement expression is refused, wherever it sits
// in it: the statement expression's block is not a statement of the
// function that a step could resume in.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /se") int se(int x) {
  int r = ({ int t = quote(x); t + 1; }); // expected-error {{a boundary inside a statement expression cannot be cut}} expected-note {{the statement expression is here}}
  return r;
}

CLEAVE_ENTRY("POST /nested") int nested(int x) {
  int r = ({
    int t = 0;
    if (x > 0) { t = quote(x); } // expected-error {{a boundary inside a statement expression cannot be cut}}
    t;
  }); // expected-note@-4 {{the statement expression is here}}
  return r;
}
