//===- HopBench.cpp - One boundary hop against a direct call --------------===//
//
// The hop benchmark: what one in-process boundary hop costs in the Cleave
// runtime, beside a direct C++ call of the same function, in the same run.
// The machines below are written exactly as `cleave build` generates them
// (a caller cut at its call of `f`, resumed with f's value) and run on an
// Executor with one worker, as cleave-run does.
//
// A hop is the caller stopping at the call (arguments and continuation
// frames), the callee's step 0 and its value frame, and the caller's resume
// (frames decoded); these functions use no state, so no step opens a state
// transaction (one with state adds BM_Part_Transaction). Executor::run()
// runs the chain on the calling thread but adds its own set-up (the root
// continuation, the wait for its outcome), so the hop itself is measured
// inside one chain: a caller calling f K times in a loop, both as a mean,
// (t(K) - t(0)) / K, and hop by hop, from timestamps the caller's loop takes
// each iteration, for p50 and p99.
//
// The target (issue): p50 <= 2 us and p99 <= 20 us. Figures only: nothing
// here fails on timing.
//
//===----------------------------------------------------------------------===//

#include "cleave/Executor.h"
#include "cleave/Module.h"
#include "cleave/StateStore.h"
#include "cleave/handler.h"

#include "RecordingReporter.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

//===----------------------------------------------------------------------===//
// The user's code, as in the translation unit `cleave build` rewrites.
//===----------------------------------------------------------------------===//

struct Small {
  int a = 0;
  int b = 0;
  double c = 0;
};

// Not inlined: a direct call across translation units, as in the program.
__attribute__((noinline)) double f(const Small &s) { return s.a + s.b + s.c; }

// Timestamps the timed loop takes, one per iteration and one after it. The
// chain runs on the one worker; run() returning orders the writes before
// the benchmark thread reads them.
static std::vector<std::int64_t> Stamps;

static std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

static void stamp() { Stamps.push_back(nowNs()); }

// The sources of the three callers (CLEAVE_ENTRY) that the machines below
// were generated from:
//
//   double hop(Small s, int n) { double r = f(s); return r + s.a + n; }
//   double loop(Small s, int k) {
//     double acc = 0;
//     for (int i = 0; i < k; ++i) { acc += f(s); }
//     return acc;
//   }
//   double timedLoop(Small s, int k) {
//     double acc = 0;
//     for (int i = 0; i < k; ++i) { stamp(); acc += f(s); }
//     stamp();
//     return acc;
//   }

//===----------------------------------------------------------------------===//
// What `cleave build` generates for them (the step functions and the module
// table), with the layout fingerprints it computes for each resume point.
// Kept as the compiler prints it, one line per source line of the body, so
// that it compares line for line with `cleave build` output.
//===----------------------------------------------------------------------===//

// clang-format off

namespace cleave {
namespace frame {
template <> struct FrameCodec<::Small> {
  static void encode(FrameWriter &W, const ::Small &V);
  static bool decode(FrameReader &R, ::Small &V);
};
inline void FrameCodec<::Small>::encode(FrameWriter &W, const ::Small &V) {
  frameMember(W, V.a);
  frameMember(W, V.b);
  frameMember(W, V.c);
}
inline bool FrameCodec<::Small>::decode(FrameReader &R, ::Small &V) {
  frameMember(R, V.a);
  frameMember(R, V.b);
  frameMember(R, V.c);
  return R.ok();
}
} // namespace frame
} // namespace cleave

int cleave_step_f(const cleave_step_call_v1 *Call,
                  cleave_step_reply_v1 *Reply) {
  ::cleave::rt::Step S(Call, Reply, "f");
  return S.run([&] {
    ::Small a0{};
    if (!S.args(a0))
      return;
    S.finish<double>(::f(a0));
  });
}

// Layout 0xafb6a26a: "hop#1;::Small;int".
static void cleave_machine_hop(::cleave::rt::Step &cleave_s) {
  ::Small s{};
  int n{};
  double cleave_t1{};
  switch (cleave_s.resumePoint()) {
  case 0:
    if (!cleave_s.args(s, n))
      return;
    break;
  case 1:
    if (!cleave_s.restore(0xafb6a26au, s, n))
      return;
    goto cleave_resume1;
  default:
    cleave_s.badStep();
    return;
  }
  { { cleave_s.arg<::Small>(s); cleave_s.call("f", 1u, 0xafb6a26au, s, n); return; } cleave_resume1:; cleave_t1 = cleave_s.result<double>(); double r = ::std::move(cleave_t1); return cleave_s.finish<double>( r + s.a + n); }
}
int cleave_step_hop(const cleave_step_call_v1 *Call,
                    cleave_step_reply_v1 *Reply) {
  ::cleave::rt::Step S(Call, Reply, "hop");
  return S.run([&] { ::cleave_machine_hop(S); });
}

// Layout 0x34e9f449: "loop#1;::Small;int;int;double".
static void cleave_machine_loop(::cleave::rt::Step &cleave_s) {
  ::Small s{};
  int k{};
  int i{};
  double acc{};
  double cleave_t1{};
  switch (cleave_s.resumePoint()) {
  case 0:
    if (!cleave_s.args(s, k))
      return;
    break;
  case 1:
    if (!cleave_s.restore(0x34e9f449u, s, k, i, acc))
      return;
    goto cleave_resume1;
  default:
    cleave_s.badStep();
    return;
  }
  { acc = 0; for (i = 0; i < k; ++i) { { cleave_s.arg<::Small>(s); cleave_s.call("f", 1u, 0x34e9f449u, s, k, i, acc); return; } cleave_resume1:; cleave_t1 = cleave_s.result<double>(); acc += ::std::move(cleave_t1); } return cleave_s.finish<double>( acc); }
}
int cleave_step_loop(const cleave_step_call_v1 *Call,
                     cleave_step_reply_v1 *Reply) {
  ::cleave::rt::Step S(Call, Reply, "loop");
  return S.run([&] { ::cleave_machine_loop(S); });
}

// Layout 0x5a664102: "timedLoop#1;::Small;int;int;double".
static void cleave_machine_timedLoop(::cleave::rt::Step &cleave_s) {
  ::Small s{};
  int k{};
  int i{};
  double acc{};
  double cleave_t1{};
  switch (cleave_s.resumePoint()) {
  case 0:
    if (!cleave_s.args(s, k))
      return;
    break;
  case 1:
    if (!cleave_s.restore(0x5a664102u, s, k, i, acc))
      return;
    goto cleave_resume1;
  default:
    cleave_s.badStep();
    return;
  }
  { acc = 0; for (i = 0; i < k; ++i) { stamp(); { cleave_s.arg<::Small>(s); cleave_s.call("f", 1u, 0x5a664102u, s, k, i, acc); return; } cleave_resume1:; cleave_t1 = cleave_s.result<double>(); acc += ::std::move(cleave_t1); } stamp(); return cleave_s.finish<double>( acc); }
}
int cleave_step_timedLoop(const cleave_step_call_v1 *Call,
                          cleave_step_reply_v1 *Reply) {
  ::cleave::rt::Step S(Call, Reply, "timedLoop");
  return S.run([&] { ::cleave_machine_timedLoop(S); });
}

// clang-format on

namespace {

// The callers are entries in the program; their JSON adapters are not on
// the path measured here, so the table leaves them out.
const cleave_machine_v1 Machines[] = {
    {"f", 1u, &cleave_step_f, nullptr, nullptr},
    {"hop", 2u, &cleave_step_hop, nullptr, nullptr},
    {"loop", 2u, &cleave_step_loop, nullptr, nullptr},
    {"timedLoop", 2u, &cleave_step_timedLoop, nullptr, nullptr},
};

void release(char *Body) { std::free(Body); }

const cleave_module_v1_t ModuleTable = {CLEAVE_ABI_VERSION, 0u, nullptr,
                                        &release,           4u, Machines};

} // namespace

// No CLEAVE_STATE variable: the registry the module generates is empty.
const ::cleave::rt::StateOps *cleave::rt::findStateOps(const char *Name) {
  (void)Name;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// The benchmarks.
//===----------------------------------------------------------------------===//

namespace {

using cleave::frame::decodeFrame;
using cleave::frame::encodeFrame;
using cleave::rt::Executor;

constexpr int ChainHops = 1000;

Small makeSmall() {
  Small S;
  S.a = 3;
  S.b = 4;
  S.c = 0.5;
  return S;
}

/// The runtime as cleave-run sets it up for an in-process module: no state,
/// one worker.
struct Runtime {
  cleave::rt::MemoryStateStore Store;
  cleave::rt::StateLockTable Locks{std::vector<std::string>()};
  std::unique_ptr<cleave::rt::Module> Mod;
  std::unique_ptr<Executor> Exec;
  int Hop = -1, Loop = -1, TimedLoop = -1;

  bool init() {
    auto M = cleave::rt::Module::fromTable(&ModuleTable, "HopBench");
    if (!M) {
      std::fprintf(stderr, "HopBench: %s\n", M.error().message().c_str());
      return false;
    }
    Mod = M.take();
    std::vector<Executor::MachineInfo> Infos;
    for (const cleave_machine_v1 &Mach : Machines)
      Infos.push_back({Mach.name, &Mach, {}});
    Exec = std::make_unique<Executor>(*Mod, Store, Locks, std::move(Infos),
                                      Executor::Options{1});
    Hop = Exec->find("hop");
    Loop = Exec->find("loop");
    TimedLoop = Exec->find("timedLoop");
    return true;
  }
};

Runtime *RT = nullptr;

/// Runs \p Machine and decodes its double; false (with a message) when the
/// chain failed.
bool runForDouble(int Machine, const std::string &Args, double &Value,
                  std::string &Why) {
  Executor::Outcome O = RT->Exec->run(Machine, Args);
  if (O.Status != CLEAVE_STEP_DONE) {
    Why = "status " + std::to_string(O.Status) + ": " + O.Body;
    return false;
  }
  if (auto St = decodeFrame(O.Body, Value); !St) {
    Why = "bad value frame: " + St.str();
    return false;
  }
  return true;
}

/// The p-th percentile (0..1) of sorted \p V, nearest rank.
double percentile(const std::vector<std::int64_t> &V, double P) {
  if (V.empty())
    return 0;
  std::size_t I = static_cast<std::size_t>(P * (V.size() - 1) + 0.5);
  return static_cast<double>(V[std::min(I, V.size() - 1)]);
}

void setPercentiles(benchmark::State &State, std::vector<std::int64_t> &V) {
  std::sort(V.begin(), V.end());
  State.counters["p50_ns"] = percentile(V, 0.50);
  State.counters["p90_ns"] = percentile(V, 0.90);
  State.counters["p99_ns"] = percentile(V, 0.99);
  State.counters["p999_ns"] = percentile(V, 0.999);
  State.counters["max_ns"] = V.empty() ? 0.0 : static_cast<double>(V.back());
  State.counters["samples"] = static_cast<double>(V.size());
}

/// Nanoseconds per direct call of f, timed in a batch (a single call is
/// below the clock's resolution).
double directCallNs() {
  const Small S = makeSmall();
  constexpr int N = 1 << 20;
  std::int64_t Start = nowNs();
  for (int I = 0; I < N; ++I) {
    benchmark::DoNotOptimize(S);
    double R = f(S);
    benchmark::DoNotOptimize(R);
  }
  return static_cast<double>(nowNs() - Start) / N;
}

// Benchmark 1: the baseline, the direct call of the callee.
void BM_DirectCall(benchmark::State &State) {
  const Small S = makeSmall();
  for (auto _ : State) {
    benchmark::DoNotOptimize(S);
    double R = f(S);
    benchmark::DoNotOptimize(R);
  }
}
BENCHMARK(BM_DirectCall);

// Benchmark 2: Executor::run of a caller with one hop, as a request meets
// it: the caller's step 0 (stops at the call, carrying s and n), f's step 0
// and the caller's step 1, all on this thread, and the promise that hands
// back the outcome. Each run is timed, for percentiles of the whole run().
void BM_RunOneHop(benchmark::State &State) {
  std::string Args;
  encodeFrame(Args, makeSmall(), 1);
  std::vector<std::int64_t> Samples;
  Samples.reserve(1 << 20);
  for (auto _ : State) {
    std::int64_t Start = nowNs();
    Executor::Outcome O = RT->Exec->run(RT->Hop, Args);
    std::int64_t Took = nowNs() - Start;
    if (O.Status != CLEAVE_STEP_DONE) {
      State.SkipWithError("the chain failed");
      break;
    }
    State.SetIterationTime(static_cast<double>(Took) * 1e-9);
    if (Samples.size() < Samples.capacity())
      Samples.push_back(Took);
    benchmark::DoNotOptimize(O);
  }
  setPercentiles(State, Samples);
}
BENCHMARK(BM_RunOneHop)->UseManualTime();

// The loop caller, calling f K times in one chain: run() of K = 0 is one
// step and no hop, so (t(K) - t(0)) / K is the hop alone. Wall time: the
// work is on the worker.
void BM_RunChain(benchmark::State &State) {
  std::string Args;
  encodeFrame(Args, makeSmall(), static_cast<int>(State.range(0)));
  for (auto _ : State) {
    Executor::Outcome O = RT->Exec->run(RT->Loop, Args);
    if (O.Status != CLEAVE_STEP_DONE) {
      State.SkipWithError("the chain failed");
      break;
    }
    benchmark::DoNotOptimize(O);
  }
  State.SetItemsProcessed(State.iterations() * State.range(0));
}
BENCHMARK(BM_RunChain)->Arg(0)->Arg(ChainHops)->UseRealTime();

// Hop by hop: the timed loop stamps the clock at the top of each iteration,
// so consecutive stamps are one hop apart (plus one clock read, reported as
// clock_ns). Percentiles over every hop of every chain; the time reported
// per iteration is one chain of ChainHops hops.
void BM_HopSampled(benchmark::State &State) {
  std::string Args;
  encodeFrame(Args, makeSmall(), ChainHops);
  std::vector<std::int64_t> Hops;
  Hops.reserve(static_cast<std::size_t>(State.max_iterations) * ChainHops);
  Stamps.reserve(ChainHops + 1);
  for (auto _ : State) {
    Stamps.clear();
    Executor::Outcome O = RT->Exec->run(RT->TimedLoop, Args);
    if (O.Status != CLEAVE_STEP_DONE || Stamps.size() != ChainHops + 1) {
      State.SkipWithError("the chain failed");
      break;
    }
    for (std::size_t I = 1; I < Stamps.size(); ++I)
      Hops.push_back(Stamps[I] - Stamps[I - 1]);
  }
  setPercentiles(State, Hops);
  double Direct = directCallNs();
  State.counters["direct_ns"] = Direct;
  State.counters["p50_x_direct"] = State.counters["p50_ns"] / Direct;
  State.counters["p99_x_direct"] = State.counters["p99_ns"] / Direct;
  std::int64_t Start = nowNs();
  constexpr int ClockReads = 1 << 16;
  for (int I = 0; I < ClockReads; ++I)
    benchmark::DoNotOptimize(nowNs());
  State.counters["clock_ns"] =
      static_cast<double>(nowNs() - Start) / ClockReads;
}
// About 0.6 ms a chain: 300 chains are 300,000 hops in well under a second.
BENCHMARK(BM_HopSampled)->Iterations(300)->UseRealTime();

//===----------------------------------------------------------------------===//
// The parts of a hop, each alone on this thread, for reading the figures
// above. Per hop in the chain: one callee step, one caller step (resume and
// the next call), and the Executor's bookkeeping (whatever the parts leave
// of the hop). A step of a function with state also opens and commits a
// state transaction, measured apart.
//===----------------------------------------------------------------------===//

void releaseReply(cleave_step_reply_v1 &Reply) {
  std::free(Reply.value);
  std::free(Reply.frame);
  std::free(Reply.args);
}

// f's step 0 on an arguments frame, as the worker calls it.
void BM_Part_CalleeStep(benchmark::State &State) {
  std::string Args;
  encodeFrame(Args, makeSmall());
  cleave::rt::MemoryStateStore Store;
  cleave::rt::StateLockTable Locks({});
  auto Txn = cleave::rt::StateTransaction::begin(Store, Locks, {});
  if (!Txn) {
    State.SkipWithError("no transaction");
    return;
  }
  cleave_step_call_v1 Call{0,       Args.data(), Args.size(),
                           nullptr, 0,           (*Txn)->host(), 0, nullptr, 0};
  for (auto _ : State) {
    cleave_step_reply_v1 Reply{};
    int Status = cleave_step_f(&Call, &Reply);
    if (Status != CLEAVE_STEP_DONE) {
      State.SkipWithError("the step failed");
      break;
    }
    benchmark::DoNotOptimize(Reply.value);
    releaseReply(Reply);
  }
}
BENCHMARK(BM_Part_CalleeStep);

// The loop's step 1 in the middle of the loop: restore the frame, decode
// f's value, encode the next call's arguments and continuation.
void BM_Part_CallerStep(benchmark::State &State) {
  std::string Frame, Value;
  encodeFrame(Frame, 0x34e9f449u, makeSmall(), ChainHops, 5, 37.5);
  encodeFrame(Value, 7.5);
  cleave::rt::MemoryStateStore Store;
  cleave::rt::StateLockTable Locks({});
  auto Txn = cleave::rt::StateTransaction::begin(Store, Locks, {});
  if (!Txn) {
    State.SkipWithError("no transaction");
    return;
  }
  cleave_step_call_v1 Call{1,
                           Frame.data(),
                           Frame.size(),
                           Value.data(),
                           Value.size(),
                           (*Txn)->host(),
                           0,
                           nullptr,
                           0};
  for (auto _ : State) {
    cleave_step_reply_v1 Reply{};
    int Status = cleave_step_loop(&Call, &Reply);
    if (Status != CLEAVE_STEP_CALL) {
      State.SkipWithError("the step did not call");
      break;
    }
    benchmark::DoNotOptimize(Reply.frame);
    releaseReply(Reply);
  }
}
BENCHMARK(BM_Part_CallerStep);

// The state transaction runStep opens and commits around each step of a
// function with state, here over no variable: the least it costs. A
// function without state runs its steps without one.
void BM_Part_Transaction(benchmark::State &State) {
  cleave::rt::MemoryStateStore Store;
  cleave::rt::StateLockTable Locks({});
  const std::vector<std::string> Names;
  for (auto _ : State) {
    auto Txn = cleave::rt::StateTransaction::begin(Store, Locks, Names);
    if (!Txn || !(*Txn)->commit()) {
      State.SkipWithError("the transaction failed");
      break;
    }
    benchmark::DoNotOptimize(Txn);
  }
}
BENCHMARK(BM_Part_Transaction);

using cleave::bench::RecordingReporter;


/// Every path must compute f's value, or the comparison is meaningless.
bool checkChains() {
  const Small S = makeSmall();
  const double Want = f(S);
  std::string Args, Why;
  double Got = 0;
  encodeFrame(Args, S, 2);
  if (!runForDouble(RT->Hop, Args, Got, Why) || Got != Want + S.a + 2) {
    std::fprintf(stderr, "HopBench: hop gave %g, want %g %s\n", Got,
                 Want + S.a + 2, Why.c_str());
    return false;
  }
  for (int Machine : {RT->Loop, RT->TimedLoop}) {
    Args.clear();
    encodeFrame(Args, S, 10);
    Stamps.clear();
    if (!runForDouble(Machine, Args, Got, Why) || Got != 10 * Want) {
      std::fprintf(stderr, "HopBench: loop gave %g, want %g %s\n", Got,
                   10 * Want, Why.c_str());
      return false;
    }
  }
  return true;
}

std::string perOp(double Ns) {
  char Buf[32];
  if (Ns < 10)
    std::snprintf(Buf, sizeof(Buf), "%.1f ns", Ns);
  else if (Ns < 1000)
    std::snprintf(Buf, sizeof(Buf), "%.0f ns", Ns);
  else
    std::snprintf(Buf, sizeof(Buf), "%.2f us", Ns / 1000);
  return Buf;
}

void printSummary(const RecordingReporter &Rep) {
  const double Direct = Rep.median("BM_DirectCall") * 1e9;
  const double Chain0 = Rep.median("BM_RunChain/0/real_time") * 1e9;
  const double ChainK =
      Rep.median("BM_RunChain/" + std::to_string(ChainHops) + "/real_time") *
      1e9;
  const std::string Sampled = "BM_HopSampled/iterations:300/real_time";
  const double P50 = Rep.counter(Sampled, "p50_ns");
  const double P99 = Rep.counter(Sampled, "p99_ns");
  if (Direct <= 0 || Chain0 <= 0 || ChainK <= 0 || P50 <= 0) {
    std::printf("hop vs direct call: not computed (run BM_DirectCall, "
                "BM_RunChain and BM_HopSampled)\n");
    return;
  }
  const double Mean = (ChainK - Chain0) / ChainHops;
  std::printf("direct call of f: %s\n", perOp(Direct).c_str());
  std::printf("one hop, mean over a chain of %d: %s (%.0fx the direct call)\n",
              ChainHops, perOp(Mean).c_str(), Mean / Direct);
  std::printf("one hop, hop by hop: p50 %s, p99 %s, p99.9 %s, max %s "
              "(p50 %.0fx the direct call; clock read %s included)\n",
              perOp(P50).c_str(), perOp(P99).c_str(),
              perOp(Rep.counter(Sampled, "p999_ns")).c_str(),
              perOp(Rep.counter(Sampled, "max_ns")).c_str(), P50 / Direct,
              perOp(Rep.counter(Sampled, "clock_ns")).c_str());
  std::printf("target p50 <= 2 us, p99 <= 20 us:%s%s\n",
              P50 <= 2000 ? " p50 met" : " p50 ABOVE TARGET",
              P99 <= 20000 ? ", p99 met" : ", p99 ABOVE TARGET");
  const std::string Run = "BM_RunOneHop/manual_time";
  std::printf("Executor::run of a one-hop caller (a whole request's chain): "
              "p50 %s, p99 %s\n",
              perOp(Rep.counter(Run, "p50_ns")).c_str(),
              perOp(Rep.counter(Run, "p99_ns")).c_str());
  const double Callee = Rep.median("BM_Part_CalleeStep") * 1e9;
  const double Caller = Rep.median("BM_Part_CallerStep") * 1e9;
  const double Txn = Rep.median("BM_Part_Transaction") * 1e9;
  if (Callee > 0 && Caller > 0)
    std::printf("a hop's parts: callee step %s, caller step %s, the rest (the "
                "Executor's bookkeeping) %s\n",
                perOp(Callee).c_str(), perOp(Caller).c_str(),
                perOp(Mean - Callee - Caller).c_str());
  if (Txn > 0)
    std::printf("a state transaction, which each step of a function with "
                "state adds: %s\n",
                perOp(Txn).c_str());
}

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  Runtime R;
  if (!R.init())
    return 1;
  RT = &R;
  if (!checkChains())
    return 1;

  RecordingReporter Reporter(isatty(STDOUT_FILENO)
                                 ? benchmark::ConsoleReporter::OO_ColorTabular
                                 : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&Reporter);
  benchmark::Shutdown();
  printSummary(Reporter);
  RT = nullptr;
  return 0;
}
