//===- handover.cpp - A chain another cleave-run can take over ------------===//
//
// The end-to-end test of two cleave-run processes on one SQLite file
// (handover.py). `run` calls `slow_double`, which has another resource
// profile, so `run` is cut there into steps: the call's message is queued in
// the store while `slow_double` sleeps, and a second cleave-run started on
// the same file resumes it at its start. Whichever process commits the step
// first finishes the chain; `done` shows that it ended exactly once.
//
// Which process wins is up to the test, through the environment of each
// process: with HANDOVER_LAG_MS set, `slow_double` of an odd `x` sleeps that
// much longer in this process, so that a process started later without it
// commits first. Even values are never delayed: the process that started
// the chain wins.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>

/// Per call id, how many times a chain with that id ran to its end. The map
/// is used only by key, so chains with different ids take no common lock.
CLEAVE_STATE() std::map<std::string, long> done;

/// HANDOVER_LAG_MS of this process, or 0.
static long lagOfThisProcess() {
  const char *Text = std::getenv("HANDOVER_LAG_MS");
  return Text ? std::atol(Text) : 0;
}

/// A callee with its own resource profile: every call to it is a boundary.
/// Sleeps \p ms milliseconds (plus the process's lag for an odd \p x), then
/// returns twice \p x.
CLEAVE_FUNCTION("memory=2048") long slow_double(long x, long ms) {
  if (x % 2 != 0)
    ms += lagOfThisProcess();
  if (ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return 2 * x;
}

/// 2 * x + 1, after a stay of \p ms milliseconds in `slow_double`; marks
/// \p id once the value is back.
CLEAVE_ENTRY("POST /run") long run(std::string id, long x, long ms) {
  long doubled = slow_double(x, ms); // a boundary: another memory size
  done[id] += 1;
  return doubled + 1;
}

/// How many chains named \p id ran to their end: 0 if none did.
CLEAVE_ENTRY("GET /done") long done_of(std::string id) {
  return done.count(id) ? done.at(id) : 0;
}

int main() {
  long v = run("a", 20, 10);
  std::cout << "run=" << v << " done=" << done_of("a") << "\n";
  return 0;
}
