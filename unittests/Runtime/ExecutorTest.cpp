//===- ExecutorTest.cpp - Chains of steps on the worker pool ------------===//
//
// Machines written by hand the way the compiler writes them (with
// cleave::rt::Step), run by the Executor: calls and their resumes, fan-outs
// and their single join (empty input included), failures that end a chain
// once, and frames that are refused rather than misread.
//
//===----------------------------------------------------------------------===//

#include "cleave/Executor.h"
#include "cleave/handler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

// Generated libraries define this in cleave_module.cpp; these machines use
// no state.
const cleave::rt::StateOps *cleave::rt::findStateOps(const char *) {
  return nullptr;
}

namespace {

using namespace cleave;
using namespace cleave::rt;

std::atomic<int> Joins{0};
std::atomic<int> Doubled{0};

/// double twice(int n) { return 2 * n; }, throwing for 13.
int twiceStep(const cleave_step_call_v1 *Call, cleave_step_reply_v1 *Reply) {
  Step S(Call, Reply, "twice");
  return S.run([&] {
    int N = 0;
    if (!S.args(N))
      return;
    if (N == 13)
      throw std::runtime_error("unlucky");
    ++Doubled;
    S.finish<int>(2 * N);
  });
}

/// int sum(std::vector<int> xs, int base) {
///   auto ys = cleave::parallel_map(xs, twice);
///   for (int y : ys) base += y;
///   return base;
/// }
int sumStep(const cleave_step_call_v1 *Call, cleave_step_reply_v1 *Reply) {
  Step S(Call, Reply, "sum");
  return S.run([&] {
    std::vector<int> Xs;
    int Base = 0;
    switch (S.resumePoint()) {
    case 0:
      if (!S.args(Xs, Base))
        return;
      S.fanOut<int>("twice", 1, 0xabcdu, Xs, Base);
      return;
    case 1: {
      if (!S.restore(0xabcdu, Base))
        return;
      ++Joins;
      for (int Y : S.joined<int>())
        Base += Y;
      S.finish<int>(Base);
      return;
    }
    default:
      S.badStep();
    }
  });
}

/// int chain(int n) { int a = twice(n); int b = twice(a + 1); return a + b; }
int chainStep(const cleave_step_call_v1 *Call, cleave_step_reply_v1 *Reply) {
  Step S(Call, Reply, "chain");
  return S.run([&] {
    int N = 0, A = 0;
    switch (S.resumePoint()) {
    case 0:
      if (!S.args(N))
        return;
      S.arg<int>(N);
      S.call("twice", 1, 0x1u);
      return;
    case 1:
      if (!S.restore(0x1u))
        return;
      A = S.result<int>();
      S.arg<int>(A + 1);
      S.call("twice", 2, 0x2u, A);
      return;
    case 2:
      if (!S.restore(0x2u, A))
        return;
      S.finish<int>(A + S.result<int>());
      return;
    default:
      S.badStep();
    }
  });
}

/// int outer(std::vector<int> xs) { return sum(xs, 100) + 1; }: a chain that
/// calls a machine that fans out.
int outerStep(const cleave_step_call_v1 *Call, cleave_step_reply_v1 *Reply) {
  Step S(Call, Reply, "outer");
  return S.run([&] {
    std::vector<int> Xs;
    if (S.resumePoint() == 0) {
      if (!S.args(Xs))
        return;
      S.arg<std::vector<int>>(Xs);
      S.arg<int>(100);
      S.call("sum", 1, 0x7u);
      return;
    }
    if (!S.restore(0x7u))
      return;
    S.finish<int>(S.result<int>() + 1);
  });
}

void release(char *P) { std::free(P); }

const cleave_machine_v1 Machines[] = {
    {"twice", 1, &twiceStep, nullptr, nullptr},
    {"sum", 2, &sumStep, nullptr, nullptr},
    {"chain", 3, &chainStep, nullptr, nullptr},
    {"outer", 2, &outerStep, nullptr, nullptr},
};
const cleave_module_v1_t Table = {CLEAVE_ABI_VERSION, 0, nullptr, &release,
                                  4, Machines};

template <class... Ts> std::string argsFrame(const Ts &...V) {
  std::string F;
  frame::encodeFrame(F, V...);
  return F;
}

template <class T> T valueOf(const Executor::Outcome &O) {
  T V{};
  EXPECT_EQ(O.Status, CLEAVE_STEP_DONE) << O.Body;
  EXPECT_TRUE(static_cast<bool>(frame::decodeFrame(O.Body, V)));
  return V;
}

class ExecutorTest : public ::testing::TestWithParam<unsigned> {
protected:
  void SetUp() override {
    auto M = Module::fromTable(&Table, "test");
    ASSERT_TRUE(M) << M.error().message();
    Mod = M.take();
    std::vector<Executor::MachineInfo> Infos;
    for (const cleave_machine_v1 &Mach : Machines)
      Infos.push_back({Mach.name, &Mach, {}});
    Exec = std::make_unique<Executor>(*Mod, Store, Locks, Infos,
                                      Executor::Options{GetParam()});
    Joins = 0;
    Doubled = 0;
  }

  std::unique_ptr<Module> Mod;
  MemoryStateStore Store;
  StateLockTable Locks{{}};
  std::unique_ptr<Executor> Exec;
};

TEST_P(ExecutorTest, CallsResumeTheCallerWithTheValue) {
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("chain"), argsFrame(5))),
            10 + 22);
  EXPECT_EQ(Doubled, 2);
}

TEST_P(ExecutorTest, FanOutJoinsOnceInInputOrder) {
  std::vector<int> Xs;
  for (int I = 0; I < 500; ++I)
    Xs.push_back(I % 7 == 0 ? -I : 2 * I); // never 13
  int Expected = 3;
  for (int X : Xs)
    Expected += 2 * X;
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("sum"), argsFrame(Xs, 3))),
            Expected);
  EXPECT_EQ(Joins, 1);
  EXPECT_EQ(Doubled, 500);
}

TEST_P(ExecutorTest, FanOutOverNothingJoinsAtOnce) {
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("sum"),
                                   argsFrame(std::vector<int>{}, 42))),
            42);
  EXPECT_EQ(Joins, 1);
  EXPECT_EQ(Doubled, 0);
}

TEST_P(ExecutorTest, NestedFanOutResumesTheOuterChain) {
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("outer"),
                                   argsFrame(std::vector<int>{1, 2, 3}))),
            100 + 12 + 1);
}

TEST_P(ExecutorTest, AFailedElementEndsTheChainOnceAndSkipsTheJoin) {
  std::vector<int> Xs = {1, 13, 2, 13, 3};
  std::atomic<int> Calls{0};
  std::promise<Executor::Outcome> P;
  Exec->start(Exec->find("sum"), argsFrame(Xs, 0), [&](Executor::Outcome O) {
    if (++Calls == 1)
      P.set_value(std::move(O));
  });
  Executor::Outcome O = P.get_future().get();
  EXPECT_EQ(O.Status, CLEAVE_STEP_ERROR);
  EXPECT_NE(O.Body.find("exception in twice: unlucky"), std::string::npos)
      << O.Body;
  // Let the other elements finish: they must not call back again.
  Exec.reset();
  EXPECT_EQ(Calls, 1);
  EXPECT_EQ(Joins, 0);
}

TEST_P(ExecutorTest, ManyChainsAtOnce) {
  std::vector<std::future<Executor::Outcome>> Futures;
  std::vector<std::promise<Executor::Outcome>> Promises(200);
  for (int I = 0; I < 200; ++I) {
    Futures.push_back(Promises[I].get_future());
    Exec->start(Exec->find("chain"), argsFrame(20 + 2 * I), // never 13
                [&Promises, I](Executor::Outcome O) {
                  Promises[I].set_value(std::move(O));
                });
  }
  for (int I = 0; I < 200; ++I)
    EXPECT_EQ(valueOf<int>(Futures[I].get()),
              2 * (20 + 2 * I) + 2 * (2 * (20 + 2 * I) + 1));
}

TEST_P(ExecutorTest, BadArgumentsAndUnknownMachines) {
  Executor::Outcome O = Exec->run(Exec->find("chain"), "not a frame");
  EXPECT_EQ(O.Status, CLEAVE_STEP_BAD_REQUEST);
  EXPECT_NE(O.Body.find("bad arguments frame for chain"), std::string::npos)
      << O.Body;
  O = Exec->run(-1, argsFrame(1));
  EXPECT_EQ(O.Status, CLEAVE_STEP_ERROR);
}

INSTANTIATE_TEST_SUITE_P(Workers, ExecutorTest, ::testing::Values(1u, 4u));

/// A store that goes down after a number of commits, as a crash would cut a
/// chain short: what was committed stays.
class CrashingStore final : public StateStore {
public:
  explicit CrashingStore(MemoryStateStore &Real) : Real(Real) {}
  std::atomic<int> CommitsLeft{1 << 30};

  Result<Versioned> read(std::string_view K) override { return Real.read(K); }
  Result<CommitStatus> commit(const CommitRequest &C) override {
    if (CommitsLeft.fetch_sub(1) <= 0)
      return Error("the store is gone");
    return Real.commit(C);
  }
  Result<std::vector<Message>> pending() override { return Real.pending(); }
  Result<std::optional<std::string>> meta(std::string_view K) override {
    return Real.meta(K);
  }
  Result<std::vector<std::pair<std::string, std::string>>>
  list(std::string_view P) override {
    return Real.list(P);
  }

private:
  MemoryStateStore &Real;
};

class DurableExecutorTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto M = Module::fromTable(&Table, "test");
    ASSERT_TRUE(M) << M.error().message();
    Mod = M.take();
    Joins = 0;
    Doubled = 0;
  }
  std::unique_ptr<Executor> make(StateStore &S, unsigned Workers = 2) {
    std::vector<Executor::MachineInfo> Infos;
    for (const cleave_machine_v1 &Mach : Machines)
      Infos.push_back({Mach.name, &Mach, {}});
    Executor::Options O;
    O.Workers = Workers;
    O.Durable = true;
    return std::make_unique<Executor>(*Mod, S, Locks, Infos, O);
  }

  std::unique_ptr<Module> Mod;
  MemoryStateStore Store;
  StateLockTable Locks{{}};
};

TEST_F(DurableExecutorTest, ChainsLeaveNothingQueued) {
  auto Exec = make(Store);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("outer"),
                                   argsFrame(std::vector<int>{1, 2, 3}))),
            113);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("chain"), argsFrame(5))), 32);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("sum"),
                                   argsFrame(std::vector<int>{}, 4))),
            4);
  Exec.reset();
  EXPECT_TRUE(Store.pending()->empty());
  EXPECT_EQ(Joins, 2);
}

TEST_F(DurableExecutorTest, AnIdempotencyKeyKeepsTheOutcome) {
  auto Exec = make(Store);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("chain"), argsFrame(5), "k1")),
            32);
  auto Kept = Exec->response("k1");
  ASSERT_TRUE(Kept && *Kept);
  EXPECT_EQ(valueOf<int>(**Kept), 32);
  // The same key again is not run a second time.
  Executor::Outcome Again = Exec->run(Exec->find("chain"), argsFrame(7), "k1");
  EXPECT_EQ(Again.Status, Executor::CLEAVE_STEP_DUPLICATE);
  EXPECT_EQ(Doubled, 2);
  EXPECT_FALSE(*Exec->response("k2"));
}

TEST_F(DurableExecutorTest, RecoveryFinishesEveryInterruptedChain) {
  // Cut the chain after each possible number of commits, then let a new
  // executor recover it: the outcome is the same, every step ran once.
  for (int Cut = 1; Cut <= 12; ++Cut) {
    MemoryStateStore Real;
    CrashingStore Crashing(Real);
    Crashing.CommitsLeft = Cut;
    std::string Key = "cut" + std::to_string(Cut);
    {
      auto Exec = make(Crashing, 1);
      Exec->run(Exec->find("outer"), argsFrame(std::vector<int>{1, 2, 3, 4}),
                Key);
    }
    Joins = 0;
    auto Exec = make(Real, 2);
    Result<size_t> Resumed = Exec->recover();
    ASSERT_TRUE(Resumed) << Resumed.error().message();
    for (int Wait = 0; Wait < 500 && !*Exec->response(Key); ++Wait)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto Kept = Exec->response(Key);
    ASSERT_TRUE(Kept && *Kept) << "cut after " << Cut << " commits";
    EXPECT_EQ(valueOf<int>(**Kept), 100 + 2 * 10 + 1) << Cut;
    Exec.reset();
    EXPECT_TRUE(Real.pending()->empty()) << Cut;
    EXPECT_LE(Joins, 1) << Cut;
  }
}

TEST(StepTest, AFrameOfAnotherLayoutIsRefused) {
  // A continuation saved with layout 0x2 resumed by a build expecting 0x3.
  std::string Frame;
  frame::encodeFrame(Frame, std::uint32_t(0x2), 7);
  std::string Value;
  frame::encodeFrame(Value, 1);
  cleave_host_v1 Host{};
  cleave_step_call_v1 Call{2, Frame.data(), Frame.size(), Value.data(),
                           Value.size(), &Host};
  cleave_step_reply_v1 Reply{};
  Step S(&Call, &Reply, "chain");
  int A = 0;
  EXPECT_FALSE(S.restore(0x3u, A));
  EXPECT_EQ(Reply.status, CLEAVE_STEP_ERROR);
  std::string Body(Reply.value, Reply.value_len);
  EXPECT_NE(Body.find("cannot resume chain at step 2: it was saved by another "
                      "build of the function (layout 00000002, this build has "
                      "00000003)"),
            std::string::npos)
      << Body;
  std::free(Reply.value);
}

TEST(StepTest, ATruncatedContinuationIsRefused) {
  std::string Frame;
  frame::encodeFrame(Frame, std::uint32_t(0x3), std::string("abc"));
  for (size_t Len = 0; Len < Frame.size(); ++Len) {
    cleave_host_v1 Host{};
    cleave_step_call_v1 Call{1, Frame.data(), Len, nullptr, 0, &Host};
    cleave_step_reply_v1 Reply{};
    Step S(&Call, &Reply, "f");
    std::string V;
    EXPECT_FALSE(S.restore(0x3u, V)) << Len;
    EXPECT_EQ(Reply.status, CLEAVE_STEP_ERROR);
    std::free(Reply.value);
  }
}

} // namespace
