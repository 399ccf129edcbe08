//===- bank.cpp - A transfer in three isolated steps ----------------------===//
//
// Twenty accounts and an audit log. A transfer runs as three calls of
// isolated functions, each a boundary and so its own step in a deployment:
// `debit` takes the amount from the payer, `credit` gives it to the payee and
// `audit_append` records it. A debit that would overdraw refuses (returns
// false), and then nothing else happens. test/e2e/fault.py kills the runtime
// in the middle of such chains and checks that money is neither created nor
// lost and that every step took effect exactly once.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

struct Audit {
  long seq = 0; // position in the log: 0, 1, 2, ...
  std::string id; // the transfer's id
  std::string from;
  std::string to;
  long amount = 0;
};

struct Receipt {
  std::string id;
  bool ok = false; // false when the payer had too little
  long seq = -1;   // the audit entry, -1 when not ok
};

CLEAVE_STATE() std::map<std::string, long> balances = {
    {"acct00", 1000},
    {"acct01", 1000},
    {"acct02", 1000},
    {"acct03", 1000},
    {"acct04", 1000},
    {"acct05", 1000},
    {"acct06", 1000},
    {"acct07", 1000},
    {"acct08", 1000},
    {"acct09", 1000},
    {"acct10", 1000},
    {"acct11", 1000},
    {"acct12", 1000},
    {"acct13", 1000},
    {"acct14", 1000},
    {"acct15", 1000},
    {"acct16", 1000},
    {"acct17", 1000},
    {"acct18", 1000},
    {"acct19", 1000}
};
CLEAVE_STATE() std::vector<Audit> audit_log;

constexpr long MaxAmount = 1000000;

/// Takes \p amount from \p account; false (and no change) when the balance
/// is too small. Unknown accounts throw.
CLEAVE_FUNCTION("isolate") bool debit(std::string account, long amount) {
  auto it = balances.find(account);
  if (it == balances.end())
    throw std::invalid_argument("no account '" + account + "'");
  if (it->second < amount)
    return false;
  it->second -= amount;
  return true;
}

/// Gives \p amount to \p account. Unknown accounts throw.
CLEAVE_FUNCTION("isolate") void credit(std::string account, long amount) {
  auto it = balances.find(account);
  if (it == balances.end())
    throw std::invalid_argument("no account '" + account + "'");
  it->second += amount;
}

/// Appends an entry for a transfer to the log and returns its sequence
/// number, the log's length before it.
CLEAVE_FUNCTION("isolate")
long audit_append(std::string id, std::string from, std::string to,
                  long amount) {
  Audit a;
  a.seq = static_cast<long>(audit_log.size());
  a.id = id;
  a.from = from;
  a.to = to;
  a.amount = amount;
  audit_log.push_back(a);
  return a.seq;
}

/// Moves \p amount from \p from to \p to. Both accounts must exist (checked
/// before any money moves, so a bad payee never leaves a debit behind).
CLEAVE_ENTRY("POST /transfer")
Receipt transfer(std::string id, std::string from, std::string to,
                 long amount) {
  if (id.empty())
    throw std::invalid_argument("a transfer needs an id");
  if (amount <= 0 || amount > MaxAmount)
    throw std::invalid_argument("amount must be from 1 to " +
                                std::to_string(MaxAmount));
  if (from == to)
    throw std::invalid_argument("a transfer needs two accounts");
  if (balances.count(from) == 0 || balances.count(to) == 0)
    throw std::invalid_argument("unknown account");
  Receipt r;
  r.id = id;
  bool taken = debit(from, amount);
  if (!taken)
    return r;
  credit(to, amount);
  long seq = audit_append(id, from, to, amount);
  r.ok = true;
  r.seq = seq;
  return r;
}

CLEAVE_ENTRY("GET /balances") std::map<std::string, long> all_balances() {
  return balances;
}

CLEAVE_ENTRY("GET /total") long total() {
  long sum = 0;
  for (const auto &[name, balance] : balances)
    sum += balance;
  return sum;
}

CLEAVE_ENTRY("GET /audit") std::vector<Audit> audit() { return audit_log; }

int main() {
  Receipt r = transfer("t1", "acct00", "acct01", 250);
  std::cout << r.id << ": " << (r.ok ? "ok" : "refused") << ", seq " << r.seq
            << "\n";
  r = transfer("t2", "acct02", "acct03", 5000);
  std::cout << r.id << ": " << (r.ok ? "ok" : "refused") << "\n";
  std::cout << "total " << total() << ", " << audit().size()
            << " audit entries\n";
  return 0;
}
