//===- switch.cpp - Boundaries in the cases of a switch ------------------===//
//
// The example behind test/Lowering/switch.test. `price` and `stamp` run as
// their own functions, so every call of them is a boundary: in a case, in a
// braced case with its own locals, in a case that falls through into the
// next, and in the condition of a switch. The PLACE and CARRY lines are
// checked against `cleave build -Rcleave`: every frame carries exactly the
// variables read after its call.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <stdexcept>
#include <string>

struct Ticket {
  std::string kind;
  int amount = 0;
};

struct Outcome {
  std::string route;
  int total = 0;
  int calls = 0;
};

CLEAVE_STATE() long handled = 0;

CLEAVE_FUNCTION("memory=2048") int price(int amount) {
  if (amount < 0)
    throw std::invalid_argument("negative amount");
  return amount * 3 + 1;
}

CLEAVE_FUNCTION("isolate") std::string stamp(std::string kind) {
  return "[" + kind + "]";
}

CLEAVE_ENTRY("POST /route") Outcome route(Ticket t, int mode, int bonus) {
  Outcome o;
  int extra = bonus * 2; // read by case 1's call only
  int calls = 0;
  switch (mode) {
  case 0:
    o.total = price(t.amount);
    // PLACE: switch.cpp:[[@LINE-1]]:15: remark: 'price' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: switch.cpp:[[@LINE-2]]:15: remark: 2 values cross the boundary at {{.*}}switch.cpp:[[@LINE-2]]:15: o (Outcome), calls (int) [-Rcleave]
    ++calls;
    break;
  case 1: {
    int p = price(t.amount + extra);
    // PLACE: switch.cpp:[[@LINE-1]]:13: remark: 'price' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: switch.cpp:[[@LINE-2]]:13: remark: 4 values cross the boundary at {{.*}}switch.cpp:[[@LINE-2]]:13: t (Ticket), bonus (int), o (Outcome), calls (int) [-Rcleave]
    o.total = p + bonus;
    o.route = stamp(t.kind);
    // PLACE: switch.cpp:[[@LINE-1]]:15: remark: 'stamp' runs as its own function: it is marked isolate [-Rcleave]
    // CARRY: switch.cpp:[[@LINE-2]]:15: remark: 2 values cross the boundary at {{.*}}switch.cpp:[[@LINE-2]]:15: o (Outcome), calls (int) [-Rcleave]
    calls += 2;
    break;
  }
  case 2:
    o.total = price(t.amount);
    // PLACE: switch.cpp:[[@LINE-1]]:15: remark: 'price' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: switch.cpp:[[@LINE-2]]:15: remark: 4 values cross the boundary at {{.*}}switch.cpp:[[@LINE-2]]:15: t (Ticket), mode (int), o (Outcome), calls (int) [-Rcleave]
    ++calls;
    [[fallthrough]];
  case 3:
    o.route += stamp(t.kind + "/" + std::to_string(mode));
    // PLACE: switch.cpp:[[@LINE-1]]:16: remark: 'stamp' runs as its own function: it is marked isolate [-Rcleave]
    // CARRY: switch.cpp:[[@LINE-2]]:16: remark: 2 values cross the boundary at {{.*}}switch.cpp:[[@LINE-2]]:16: o (Outcome), calls (int) [-Rcleave]
    ++calls;
    break;
  default:
    o.route = "none";
  }
  ++handled;
  o.calls = calls;
  return o;
}

// The call in the condition: the frame carries what the cases read.
CLEAVE_ENTRY("POST /bucket")
std::string bucket(int amount, std::string a, std::string b, std::string c) {
  std::string unused = a + b + c;
  switch (price(amount) % 4) {
  // PLACE: switch.cpp:[[@LINE-1]]:11: remark: 'price' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: switch.cpp:[[@LINE-2]]:11: remark: 3 values cross the boundary at {{.*}}switch.cpp:[[@LINE-2]]:11: a (std::string), b (std::string), c (std::string) [-Rcleave]
  case 0:
    return a;
  case 1:
    return b;
  default:
    ++handled;
    return c;
  }
}

CLEAVE_ENTRY("GET /handled") long handled_count() { return handled; }

int main() {
  Ticket t;
  t.kind = "bus";
  t.amount = 4;
  for (int mode = 0; mode < 5; ++mode) {
    Outcome o = route(t, mode, 1);
    (void)o;
  }
  return bucket(1, "a", "b", "c") == "c" ? 0 : 1;
}
