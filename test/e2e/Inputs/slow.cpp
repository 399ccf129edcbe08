//===- slow.cpp - Entries that take their time, for the server's limits ---===//
//
// The end-to-end tests of connection handling, admission and deadlines
// (connections.py, limits.py) need requests that stay in flight for as long
// as they say, and a trace in the state of the ones that committed.
//
// Each call names itself with an `id` and marks `done[id]` when it ends. The
// map is used only by key, so the deployment stores it per key and takes no
// lock on it: calls with different ids run side by side. (A single counter
// would be locked for the whole of each call, and the slow calls would run
// one after the other whatever the server's limits allow.)
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>

/// Per call id, how many times a call with that id committed.
CLEAVE_STATE() std::map<std::string, long> done;

struct Span {
  /// When the call started and ended, in microseconds of the monotonic
  /// clock: the test compares spans with each other, never with its own
  /// clock.
  long long started_us = 0;
  long long ended_us = 0;
};

static long long nowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

static void pause(long ms) {
  if (ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

/// Sleeps \p ms milliseconds, then marks \p id; returns its new mark.
CLEAVE_ENTRY("POST /sleep") long sleep_then_mark(std::string id, long ms) {
  pause(ms);
  done[id] += 1;
  return done[id];
}

/// The same with a deadline of one second: a call past it is answered 504
/// and its mark must not be committed.
CLEAVE_FUNCTION("timeout=1")
CLEAVE_ENTRY("POST /deadline") long mark_before_deadline(std::string id,
                                                         long ms) {
  pause(ms);
  done[id] += 1;
  return done[id];
}

/// At most two calls at once; each says when it ran.
CLEAVE_FUNCTION("concurrency=2")
CLEAVE_ENTRY("POST /pair") Span two_at_a_time(long ms) {
  Span s;
  s.started_us = nowUs();
  pause(ms);
  s.ended_us = nowUs();
  return s;
}

/// The mark of \p id: 0 if no call with that id committed.
CLEAVE_ENTRY("GET /done") long mark_of(std::string id) {
  return done.count(id) ? done.at(id) : 0;
}

CLEAVE_ENTRY("GET /echo") std::string echo(std::string text) { return text; }

int main() {
  sleep_then_mark("a", 10);
  mark_before_deadline("b", 10);
  Span s = two_at_a_time(10);
  std::cout << "a=" << mark_of("a") << " b=" << mark_of("b") << " c="
            << mark_of("c") << " span=" << (s.ended_us - s.started_us) / 1000
            << " ms " << echo("ok") << "\n";
  return 0;
}
