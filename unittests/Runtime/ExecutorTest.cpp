//===- ExecutorTest.cpp - Chains of steps on the worker pool ------------===//
//
// Machines written by hand the way the compiler writes them (with
// cleave::rt::Step), run by the Executor: calls and their resumes, fan-outs
// and their single join (empty input included), failures that end a chain
// once, and frames that are refused rather than misread. Durable chains run
// on every store backend, cut short by a store that goes down and resumed
// by a new executor on the store opened again: each ends once, and leaves
// nothing behind but the outcome kept for an idempotency key.
//
//===----------------------------------------------------------------------===//

#include "Backends.h"
#include "RedisServer.h"

#include "cleave/Executor.h"
#include "cleave/handler.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// Generated libraries define this in cleave_module.cpp; these machines use
// no state.
const cleave::rt::StateOps *cleave::rt::findStateOps(const char *) {
  return nullptr;
}

namespace {

using namespace cleave;
using namespace cleave::rt;
using cleave::test::RedisServer;

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
      std::vector<int> Ys = S.joined<int>(); // an element's exception: thrown
      ++Joins;
      for (int Y : Ys)
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

/// int guarded(int n) {
///   try { return twice(n); }
///   catch (const std::runtime_error &e) { return -1000 - strlen(e.what()); }
/// }
int guardedStep(const cleave_step_call_v1 *Call, cleave_step_reply_v1 *Reply) {
  Step S(Call, Reply, "guarded");
  return S.run([&] {
    int N = 0;
    if (S.resumePoint() == 0) {
      if (!S.args(N))
        return;
      S.arg<int>(N);
      S.call("twice", 1, 0x9u);
      return;
    }
    if (!S.restore(0x9u))
      return;
    try {
      S.finish<int>(S.result<int>());
    } catch (const std::runtime_error &E) {
      S.finish<int>(-1000 - static_cast<int>(std::strlen(E.what())));
    }
  });
}

void release(char *P) { std::free(P); }

const cleave_machine_v1 Machines[] = {
    {"twice", 1, &twiceStep, nullptr, nullptr},
    {"sum", 2, &sumStep, nullptr, nullptr},
    {"chain", 3, &chainStep, nullptr, nullptr},
    {"outer", 2, &outerStep, nullptr, nullptr},
    {"guarded", 2, &guardedStep, nullptr, nullptr},
};
const cleave_module_v1_t Table = {CLEAVE_ABI_VERSION, 0, nullptr, &release,
                                  5, Machines};

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

TEST_P(ExecutorTest, AnExceptionComesBackToTheCallersHandler) {
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("guarded"), argsFrame(5))), 10);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("guarded"), argsFrame(13))),
            -1000 - 7); // "unlucky"
}

TEST_P(ExecutorTest, AnUncaughtExceptionEndsWithTheErrorOfTheEntry) {
  // twice throws, chain does not catch: the exception goes up through chain
  // (whose step throws it again), and the answer names chain, as the plain
  // program's handler of chain would.
  Executor::Outcome O = Exec->run(Exec->find("chain"), argsFrame(13));
  EXPECT_EQ(O.Status, CLEAVE_STEP_ERROR);
  EXPECT_EQ(O.Body, R"({"error":"exception in chain: unlucky"})");
  O = Exec->run(Exec->find("outer"), argsFrame(std::vector<int>{4, 13}));
  EXPECT_EQ(O.Status, CLEAVE_STEP_ERROR);
  EXPECT_EQ(O.Body, R"({"error":"exception in outer: unlucky"})");
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
  // The first element's exception goes to sum's join step, which throws it
  // again where parallel_map was.
  EXPECT_EQ(O.Status, CLEAVE_STEP_ERROR);
  EXPECT_NE(O.Body.find("exception in sum: unlucky"), std::string::npos)
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

/// int peek(int n) { int a = twice(n); return a + hits; }, where hits is a
/// state variable the step after the call only reads: its commit carries
/// no write, only the consumption of its message.
int peekStep(const cleave_step_call_v1 *Call, cleave_step_reply_v1 *Reply) {
  Step S(Call, Reply, "peek");
  return S.run([&] {
    int N = 0;
    if (S.resumePoint() == 0) {
      if (!S.args(N))
        return;
      S.arg<int>(N);
      S.call("twice", 1, 0x5u);
      return;
    }
    if (!S.restore(0x5u))
      return;
    const char *Data = nullptr;
    size_t Len = 0;
    int Got = Call->host->state_get(Call->host->ctx, "hits", &Data, &Len);
    if (Got < 0)
      throw std::runtime_error("cannot read hits");
    int Hits = Got == 1 ? std::stoi(std::string(Data, Len)) : 0;
    S.finish<int>(S.result<int>() + Hits);
  });
}

const cleave_machine_v1 Peek = {"peek", 2, &peekStep, nullptr, nullptr};

/// A store that goes down after a number of commits, as a crash would cut a
/// chain short: what was committed stays.
class CrashingStore final : public StateStore {
public:
  explicit CrashingStore(StateStore &Real) : Real(Real) {}
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
  StateStore &Real;
};

/// Dedup ids, records and queued messages: what a store holds beside the
/// state.
struct Records {
  std::set<std::string> Done, Meta, Queue;
};

/// A store that forwards to another and keeps, from the requests that
/// committed, the records they left (for the in-memory store, which cannot
/// list its dedup ids) and how many commits wrote each record.
class LedgerStore final : public StateStore {
public:
  StateStore *Real = nullptr;

  Result<Versioned> read(std::string_view K) override { return Real->read(K); }
  Result<CommitStatus> commit(const CommitRequest &C) override {
    // One commit at a time, so that the ledger applies them in the store's
    // order.
    std::lock_guard<std::mutex> L(Mutex);
    Result<CommitStatus> S = Real->commit(C);
    if (!S || *S != CommitStatus::Committed)
      return S;
    Left.Done.insert(C.Done.begin(), C.Done.end());
    for (const auto *Ids : {&C.Consume, &C.Dequeue})
      for (const std::string &Id : *Ids)
        Left.Queue.erase(Id);
    for (const Message &M : C.Enqueue)
      Left.Queue.insert(M.Id);
    for (const auto &[Key, Value] : C.Meta) {
      if (Value.empty()) {
        Left.Meta.erase(Key);
      } else {
        Left.Meta.insert(Key);
        ++Writes[Key];
      }
    }
    return S;
  }
  Result<std::vector<Message>> pending() override { return Real->pending(); }
  Result<std::optional<std::string>> meta(std::string_view K) override {
    return Real->meta(K);
  }
  Result<std::vector<std::pair<std::string, std::string>>>
  list(std::string_view P) override {
    return Real->list(P);
  }

  Records left() {
    std::lock_guard<std::mutex> L(Mutex);
    return Left;
  }
  /// How many commits wrote record \p Key.
  int writesOf(const std::string &Key) {
    std::lock_guard<std::mutex> L(Mutex);
    auto It = Writes.find(Key);
    return It == Writes.end() ? 0 : It->second;
  }
  void clear() {
    std::lock_guard<std::mutex> L(Mutex);
    Left = Records();
    Writes.clear();
  }

private:
  std::mutex Mutex;
  Records Left;
  std::map<std::string, int> Writes;
};

std::string joined(const std::set<std::string> &S) {
  std::string Out;
  for (const std::string &E : S)
    Out += E + ";";
  return Out;
}

/// The rows of a one-column query on the SQLite file at \p Path.
std::set<std::string> sqliteColumn(const std::string &Path, const char *Sql) {
  std::set<std::string> Out;
  sqlite3 *Db = nullptr;
  if (sqlite3_open_v2(Path.c_str(), &Db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << Path;
    sqlite3_close_v2(Db);
    return Out;
  }
  sqlite3_stmt *S = nullptr;
  if (sqlite3_prepare_v2(Db, Sql, -1, &S, nullptr) == SQLITE_OK)
    while (sqlite3_step(S) == SQLITE_ROW)
      Out.insert(reinterpret_cast<const char *>(sqlite3_column_text(S, 0)));
  else
    ADD_FAILURE() << sqlite3_errmsg(Db);
  sqlite3_finalize(S);
  sqlite3_close_v2(Db);
  return Out;
}

/// The members (SMEMBERS) or fields (HKEYS) of a Redis key.
std::set<std::string> redisMembers(int Port, const char *Command,
                                   const char *Key) {
  std::set<std::string> Out;
  timeval Tv{1, 0};
  redisContext *C = redisConnectWithTimeout("127.0.0.1", Port, Tv);
  if (!C || C->err) {
    ADD_FAILURE() << "cannot reach redis-server on port " << Port;
    if (C)
      redisFree(C);
    return Out;
  }
  auto *R = static_cast<redisReply *>(redisCommand(C, "%s %s", Command, Key));
  if (R && R->type == REDIS_REPLY_ARRAY)
    for (size_t I = 0; I < R->elements; ++I)
      Out.insert(std::string(R->element[I]->str, R->element[I]->len));
  else
    ADD_FAILURE() << Command << " " << Key << " failed";
  if (R)
    freeReplyObject(R);
  redisFree(C);
  return Out;
}

using cleave::test::Backend;
using cleave::test::backendName;

/// Durable chains on every backend, through a ledger of what they commit.
/// A restart is a new executor on the store opened again (the in-memory
/// store stays, as it would in the process that holds it).
class DurableExecutorTest : public ::testing::TestWithParam<Backend> {
protected:
  static void TearDownTestSuite() { Redis.reset(); }

  void SetUp() override {
    auto M = Module::fromTable(&Table, "test");
    ASSERT_TRUE(M) << M.error().message();
    Mod = M.take();
    Joins = 0;
    Doubled = 0;
    if (GetParam() == Backend::Sqlite) {
      std::string Pattern =
          (std::filesystem::temp_directory_path() / "cleave-exec-XXXXXX")
              .string();
      ASSERT_TRUE(mkdtemp(Pattern.data())) << "cannot create a temp directory";
      Dir = Pattern;
    }
    if (GetParam() == Backend::Redis && !Redis) {
      std::string Why;
      Redis = RedisServer::start(Why);
      ASSERT_TRUE(Redis) << "cannot start redis-server: " << Why;
    }
    fresh("state");
  }

  void TearDown() override {
    Real.reset();
    std::error_code Ec;
    if (!Dir.empty())
      std::filesystem::remove_all(Dir, Ec);
  }

  /// Starts over with an empty store, \p Name telling SQLite files apart.
  void fresh(const std::string &Name) {
    Real.reset();
    Ledger.clear();
    switch (GetParam()) {
    case Backend::Memory:
      Spec = "memory";
      break;
    case Backend::Sqlite:
    case Backend::SqliteFsync:
      Spec = "sqlite:" + Dir + "/" + Name + ".db";
      DbPath = Dir + "/" + Name + ".db";
      break;
    case Backend::Redis:
      ASSERT_TRUE(Redis->flushAll()) << "redis-server does not answer";
      Spec = "redis://127.0.0.1:" + std::to_string(Redis->port());
      break;
    }
    reopen();
  }

  /// Opens the store again, as a restarted runtime does.
  void reopen() {
    if (GetParam() != Backend::Memory || !Real) {
      Real.reset();
      Result<std::unique_ptr<StateStore>> S = openStateStore(Spec);
      ASSERT_TRUE(S) << S.error().message();
      Real = S.take();
    }
    Ledger.Real = Real.get();
  }

  std::unique_ptr<Executor> make(StateStore &S, unsigned Workers = 2) {
    std::vector<Executor::MachineInfo> Infos;
    for (const cleave_machine_v1 &Mach : Machines)
      Infos.push_back({Mach.name, &Mach, {}});
    Infos.push_back({Peek.name, &Peek, {"hits"}});
    Executor::Options O;
    O.Workers = Workers;
    O.Durable = true;
    return std::make_unique<Executor>(*Mod, S, Locks, Infos, O);
  }

  /// What the store holds beside the state, read from the store itself
  /// where it can be listed.
  Records records() {
    switch (GetParam()) {
    case Backend::Memory:
      return Ledger.left();
    case Backend::Sqlite:
    case Backend::SqliteFsync:
      // An id is its head, then its number unless that is -1.
      return {sqliteColumn(DbPath, "SELECT head || iif(num < 0, '', num) "
                                   "FROM message WHERE done = 1"),
              sqliteColumn(DbPath, "SELECT key FROM meta"),
              sqliteColumn(DbPath, "SELECT head || iif(num < 0, '', num) "
                                   "FROM message WHERE seq IS NOT NULL")};
    case Backend::Redis:
      return {redisMembers(Redis->port(), "SMEMBERS", "cleave:done"),
              redisMembers(Redis->port(), "HKEYS", "cleave:meta"),
              redisMembers(Redis->port(), "HKEYS", "cleave:queue")};
    }
    return {};
  }

  /// Checks that the store holds nothing but the idempotency record of
  /// \p Key, written once: no dedup id, join, arrival or queued message.
  void expectOnlyTheAnswerOf(const std::string &Key, int Cut) {
    EXPECT_EQ(Ledger.writesOf("idem/" + Key), 1) << Cut;
    Records Left = records();
    EXPECT_EQ(joined(Left.Done), "idem/" + Key + ";") << Cut;
    EXPECT_EQ(joined(Left.Meta), "idem/" + Key + ";") << Cut;
    EXPECT_EQ(joined(Left.Queue), "") << Cut;
  }

  /// Waits for the outcome kept for \p Key, which a recovered chain commits.
  std::optional<Executor::Outcome> awaitResponse(Executor &E,
                                                 const std::string &Key) {
    for (int Wait = 0; Wait < 1000; ++Wait) {
      auto Kept = E.response(Key);
      if (!Kept) {
        ADD_FAILURE() << Kept.error().message();
        return std::nullopt;
      }
      if (*Kept)
        return **Kept;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return std::nullopt;
  }

  static std::unique_ptr<RedisServer> Redis;
  std::unique_ptr<Module> Mod;
  std::string Dir, Spec, DbPath;
  std::unique_ptr<StateStore> Real;
  LedgerStore Ledger;
  StateLockTable Locks{{"hits"}};
};

std::unique_ptr<RedisServer> DurableExecutorTest::Redis;

TEST_P(DurableExecutorTest, ChainsLeaveNothingQueued) {
  auto Exec = make(Ledger);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("outer"),
                                   argsFrame(std::vector<int>{1, 2, 3}))),
            113);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("chain"), argsFrame(5))), 32);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("sum"),
                                   argsFrame(std::vector<int>{}, 4))),
            4);
  Exec.reset();
  EXPECT_TRUE(Ledger.pending()->empty());
  EXPECT_EQ(Joins, 2);
}

TEST_P(DurableExecutorTest,
       FinishedInvocationsLeaveOnlyTheirIdempotencyRecords) {
  auto Exec = make(Ledger);
  // A nested fan-out, calls, an empty fan-out, a failed element (alone and
  // behind a call), with and without idempotency keys.
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("outer"),
                                   argsFrame(std::vector<int>{1, 2, 3}), "a")),
            113);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("chain"), argsFrame(5))), 32);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("sum"),
                                   argsFrame(std::vector<int>{}, 4), "b")),
            4);
  Executor::Outcome Failed = Exec->run(
      Exec->find("sum"), argsFrame(std::vector<int>{1, 13, 2}, 0), "c");
  EXPECT_EQ(Failed.Status, CLEAVE_STEP_ERROR);
  EXPECT_NE(Failed.Body.find("unlucky"), std::string::npos) << Failed.Body;
  EXPECT_EQ(
      Exec->run(Exec->find("sum"), argsFrame(std::vector<int>{13}, 0)).Status,
      CLEAVE_STEP_ERROR);
  EXPECT_EQ(Exec->run(Exec->find("outer"),
                      argsFrame(std::vector<int>{4, 13, 13}), "d")
                .Status,
            CLEAVE_STEP_ERROR);
  EXPECT_EQ(valueOf<int>(Exec->run(Exec->find("peek"), argsFrame(3))), 6);
  Exec.reset();
  EXPECT_EQ(Joins, 2);

  // No dedup id, join, slot or arrival is left: only what answers a
  // repeated request.
  Records Left = records();
  EXPECT_EQ(joined(Left.Done), "idem/a;idem/b;idem/c;idem/d;");
  EXPECT_EQ(joined(Left.Meta), "idem/a;idem/b;idem/c;idem/d;");
  EXPECT_EQ(joined(Left.Queue), "");
  // The ledger agrees with the store.
  Records Ledgered = Ledger.left();
  EXPECT_EQ(Ledgered.Done, Left.Done);
  EXPECT_EQ(Ledgered.Meta, Left.Meta);
  EXPECT_EQ(Ledgered.Queue, Left.Queue);
  for (const char *Key : {"idem/a", "idem/b", "idem/c", "idem/d"})
    EXPECT_EQ(Ledger.writesOf(Key), 1) << Key;
}

TEST_P(DurableExecutorTest, AnIdempotencyKeyKeepsTheOutcome) {
  auto Exec = make(Ledger);
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

TEST_P(DurableExecutorTest, RecoveryFinishesEveryInterruptedChain) {
  // Cut the chain after each possible number of commits, then let a new
  // executor on the store opened again recover it: the outcome is the
  // same, every step committed once, and nothing is left behind.
  for (int Cut = 1; Cut <= 12; ++Cut) {
    fresh("cut" + std::to_string(Cut));
    CrashingStore Crashing(Ledger);
    Crashing.CommitsLeft = Cut;
    const std::string Key = "cut" + std::to_string(Cut);
    {
      auto Exec = make(Crashing, 1);
      Exec->run(Exec->find("outer"), argsFrame(std::vector<int>{1, 2, 3, 4}),
                Key);
    }
    Joins = 0;
    reopen();
    auto Exec = make(Ledger, 2);
    Result<size_t> Resumed = Exec->recover();
    ASSERT_TRUE(Resumed) << Resumed.error().message();
    std::optional<Executor::Outcome> Kept = awaitResponse(*Exec, Key);
    ASSERT_TRUE(Kept) << "cut after " << Cut << " commits";
    EXPECT_EQ(valueOf<int>(*Kept), 100 + 2 * 10 + 1) << Cut;
    Exec.reset();
    EXPECT_LE(Joins, 1) << Cut;
    expectOnlyTheAnswerOf(Key, Cut);
  }
}

TEST_P(DurableExecutorTest, AFailedElementFiresTheJoinOnceAcrossARestart) {
  // sum([1, 13, 2]) commits its fan-out, three elements (13 throws), the
  // join's firing and the join's step, which throws the element's exception
  // again: cut after each, restart, and the request answers with it, once.
  for (int Cut = 1; Cut <= 7; ++Cut) {
    fresh("fail" + std::to_string(Cut));
    CrashingStore Crashing(Ledger);
    Crashing.CommitsLeft = Cut;
    const std::string Key = "fail" + std::to_string(Cut);
    {
      auto Exec = make(Crashing, 1);
      Executor::Outcome First = Exec->run(
          Exec->find("sum"), argsFrame(std::vector<int>{1, 13, 2}, 0), Key);
      EXPECT_EQ(First.Status, CLEAVE_STEP_ERROR) << Cut;
    }
    reopen();
    auto Exec = make(Ledger, 2);
    Result<size_t> Resumed = Exec->recover();
    ASSERT_TRUE(Resumed) << Resumed.error().message();
    std::optional<Executor::Outcome> Kept = awaitResponse(*Exec, Key);
    ASSERT_TRUE(Kept) << "cut after " << Cut << " commits";
    EXPECT_EQ(Kept->Status, CLEAVE_STEP_ERROR) << Cut;
    EXPECT_NE(Kept->Body.find("exception in sum: unlucky"), std::string::npos)
        << Kept->Body;
    Exec.reset();
    EXPECT_EQ(Joins, 0) << Cut;
    expectOnlyTheAnswerOf(Key, Cut);
  }
}

TEST_P(DurableExecutorTest, AnExceptionReachesTheCallerAcrossARestart) {
  // guarded(13) commits its call, twice's throw (a resume with the
  // exception) and its own end: cut after each, restart, and the resumed
  // caller's handler takes the exception.
  for (int Cut = 1; Cut <= 4; ++Cut) {
    fresh("throw" + std::to_string(Cut));
    CrashingStore Crashing(Ledger);
    Crashing.CommitsLeft = Cut;
    const std::string Key = "throw" + std::to_string(Cut);
    {
      auto Exec = make(Crashing, 1);
      Exec->run(Exec->find("guarded"), argsFrame(13), Key);
    }
    reopen();
    auto Exec = make(Ledger, 2);
    Result<size_t> Resumed = Exec->recover();
    ASSERT_TRUE(Resumed) << Resumed.error().message();
    std::optional<Executor::Outcome> Kept = awaitResponse(*Exec, Key);
    ASSERT_TRUE(Kept) << "cut after " << Cut << " commits";
    EXPECT_EQ(valueOf<int>(*Kept), -1007) << Cut;
    Exec.reset();
    expectOnlyTheAnswerOf(Key, Cut);
  }
}

TEST_P(DurableExecutorTest, AFailedElementWithoutAKeyLeavesNothing) {
  // The failure's arrival is recorded; after a restart the join fires with
  // it, and with no one to answer and no key, nothing stays in the store.
  for (int Cut = 1; Cut <= 4; ++Cut) {
    fresh("nokey" + std::to_string(Cut));
    CrashingStore Crashing(Ledger);
    Crashing.CommitsLeft = Cut;
    {
      auto Exec = make(Crashing, 1);
      Exec->run(Exec->find("sum"), argsFrame(std::vector<int>{13, 1, 13}, 0));
    }
    reopen();
    auto Exec = make(Ledger, 2);
    Result<size_t> Resumed = Exec->recover();
    ASSERT_TRUE(Resumed) << Resumed.error().message();
    Records Left;
    for (int Wait = 0; Wait < 1000; ++Wait) {
      Left = records();
      if (Left.Queue.empty() && Left.Meta.empty())
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    Exec.reset();
    Left = records();
    EXPECT_EQ(joined(Left.Done), "") << Cut;
    EXPECT_EQ(joined(Left.Meta), "") << Cut;
    EXPECT_EQ(joined(Left.Queue), "") << Cut;
    EXPECT_EQ(Joins, 0) << Cut;
  }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, DurableExecutorTest,
                         cleave::test::allBackends(), backendName);

TEST(StepTest, AFrameOfAnotherLayoutIsRefused) {
  // A continuation saved with layout 0x2 resumed by a build expecting 0x3.
  std::string Frame;
  frame::encodeFrame(Frame, std::uint32_t(0x2), 7);
  std::string Value;
  frame::encodeFrame(Value, 1);
  cleave_host_v1 Host{};
  cleave_step_call_v1 Call{2,     Frame.data(), Frame.size(), Value.data(),
                           Value.size(), &Host,     0, nullptr, 0};
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
    cleave_step_call_v1 Call{1, Frame.data(), Len, nullptr, 0, &Host, 0, nullptr, 0};
    cleave_step_reply_v1 Reply{};
    Step S(&Call, &Reply, "f");
    std::string V;
    EXPECT_FALSE(S.restore(0x3u, V)) << Len;
    EXPECT_EQ(Reply.status, CLEAVE_STEP_ERROR);
    std::free(Reply.value);
  }
}

TEST(StepTest, AResumeErrorThatTheProgramCatchesStillFailsTheStep) {
  // Resume point 1 of a machine whose frame carries an int, given a frame
  // without it; the program's catch-all takes the ResumeError and finishes.
  std::string Frame;
  frame::encodeFrame(Frame, std::uint32_t(0x3));
  cleave_host_v1 Host{};
  cleave_step_call_v1 Call{1, Frame.data(), Frame.size(), nullptr, 0, &Host, 0, nullptr, 0};
  cleave_step_reply_v1 Reply{};
  static const std::uint32_t Layouts[] = {0u, 0x3u};
  Step S(&Call, &Reply, "f");
  S.run([&] {
    Resume R(S, Layouts, 1u);
    ASSERT_TRUE(R.error().empty()) << R.error();
    try {
      (void)R.read<int>();
    } catch (...) {
    }
    S.finish<int>(1);
  });
  EXPECT_EQ(Reply.status, CLEAVE_STEP_ERROR);
  std::string Body(Reply.value, Reply.value_len);
  EXPECT_NE(Body.find("in f: cannot resume at step 1: bad continuation frame"),
            std::string::npos)
      << Body;
  std::free(Reply.value);
}

TEST(StepTest, AStateErrorThatTheProgramCatchesStillFailsTheStep) {
  cleave_host_v1 Host{};
  cleave_step_call_v1 Call{0, nullptr, 0, nullptr, 0, &Host, 0, nullptr, 0};
  cleave_step_reply_v1 Reply{};
  Step S(&Call, &Reply, "f");
  S.run([&] {
    try {
      S.failState("cannot read state 'stock/apple'");
    } catch (const std::exception &) {
    }
    S.finish<int>(1);
  });
  EXPECT_EQ(Reply.status, CLEAVE_STEP_ERROR);
  std::string Body(Reply.value, Reply.value_len);
  EXPECT_EQ(Body,
            R"({"error":"state error in f: cannot read state 'stock/apple'"})");
  std::free(Reply.value);
}

TEST(StepTest, AnEscapingExceptionIsDescribedForTheCaller) {
  cleave_host_v1 Host{};
  cleave_step_call_v1 Call{0, nullptr, 0, nullptr, 0, &Host, 0, nullptr, 0};
  cleave_step_reply_v1 Reply{};
  Step S(&Call, &Reply, "f");
  EXPECT_EQ(S.run([&] { throw std::out_of_range("no such sku"); }),
            CLEAVE_STEP_THROW);
  std::string Message, Type, What;
  ASSERT_TRUE(frame::decodeFrame(std::string_view(Reply.value, Reply.value_len),
                                 Message, Type, What));
  EXPECT_EQ(Message, "exception in f: no such sku");
  EXPECT_EQ(Type, "std::out_of_range");
  EXPECT_EQ(What, "no such sku");
  std::free(Reply.value);

  cleave_step_reply_v1 Other{};
  Step T(&Call, &Other, "g");
  EXPECT_EQ(T.run([&] { throw 42; }), CLEAVE_STEP_THROW);
  ASSERT_TRUE(frame::decodeFrame(std::string_view(Other.value, Other.value_len),
                                 Message, Type, What));
  EXPECT_EQ(Message, "unknown exception in g");
  EXPECT_EQ(Type, "");
  std::free(Other.value);
}

} // namespace
