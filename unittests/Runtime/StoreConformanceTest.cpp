//===- StoreConformanceTest.cpp - Every state backend, one behaviour ------===//
//
// The same tests against every StateStore backend: in memory (the
// reference), an SQLite file in a fresh directory, and a real redis-server
// this suite starts on a free loopback port. Then what only one backend
// has: SQLite's file across close, reopen and a killed process; Redis's
// connection failures.
//
//===----------------------------------------------------------------------===//

#include "Backends.h"
#include "RedisServer.h"

#include "cleave/StateStore.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace cleave::rt;
using cleave::test::RedisServer;

namespace {

using cleave::test::Backend;
using cleave::test::backendName;

/// A fresh directory under the system's temporary directory, removed with
/// its contents on destruction.
class TempDir {
public:
  TempDir() {
    std::string Pattern =
        (std::filesystem::temp_directory_path() / "cleave-store-XXXXXX")
            .string();
    if (mkdtemp(Pattern.data()))
      Path = Pattern;
  }
  ~TempDir() {
    std::error_code Ec;
    if (!Path.empty())
      std::filesystem::remove_all(Path, Ec);
  }
  const std::string &path() const { return Path; }
  std::string file(const std::string &Name) const { return Path + "/" + Name; }

private:
  std::string Path;
};

/// The string form of a queue, "id=body;..." (bodies without NULs), for
/// readable failures.
std::string queueOf(StateStore &S) {
  Result<std::vector<Message>> Q = S.pending();
  EXPECT_TRUE(Q) << Q.error().message();
  if (!Q)
    return "<error>";
  std::string Out;
  for (const Message &M : *Q)
    Out += M.Id + "=" + M.Body + ";";
  return Out;
}

std::string valueOf(StateStore &S, const std::string &Key) {
  Result<Versioned> V = S.read(Key);
  EXPECT_TRUE(V) << V.error().message();
  if (!V || !V->Value)
    return "<none>";
  return *V->Value;
}

uint64_t versionOf(StateStore &S, const std::string &Key) {
  Result<Versioned> V = S.read(Key);
  EXPECT_TRUE(V) << V.error().message();
  return V ? V->Version : ~uint64_t(0);
}

std::string metaOf(StateStore &S, const std::string &Key) {
  Result<std::optional<std::string>> V = S.meta(Key);
  EXPECT_TRUE(V) << V.error().message();
  if (!V || !*V)
    return "<none>";
  return **V;
}

std::string listOf(StateStore &S, const std::string &Prefix) {
  auto L = S.list(Prefix);
  EXPECT_TRUE(L) << L.error().message();
  if (!L)
    return "<error>";
  std::string Out;
  for (const auto &[Key, Value] : *L)
    Out += Key + "=" + Value + ";";
  return Out;
}

/// Commits \p C and returns its status; a backend error fails the test.
CommitStatus commitOf(StateStore &S, const CommitRequest &C) {
  Result<CommitStatus> R = S.commit(C);
  EXPECT_TRUE(R) << R.error().message();
  return R ? *R : CommitStatus::Conflict;
}

class StoreConformanceTest : public testing::TestWithParam<Backend> {
protected:
  static void TearDownTestSuite() { Redis.reset(); }

  void SetUp() override {
    switch (GetParam()) {
    case Backend::Memory:
      Spec = "memory";
      break;
    case Backend::Sqlite:
    case Backend::SqliteFsync:
      ASSERT_FALSE(Dir.path().empty()) << "cannot create a temp directory";
      Spec = "sqlite:" + Dir.file("state.db");
      Fsync = GetParam() == Backend::SqliteFsync;
      break;
    case Backend::Redis:
      if (!Redis) {
        std::string Why;
        Redis = RedisServer::start(Why);
        // Not a skip: scripts/install-deps.sh installs redis-server, and a
        // backend that is never tested is a backend that breaks unseen.
        ASSERT_TRUE(Redis) << "cannot start redis-server: " << Why;
      }
      ASSERT_TRUE(Redis->flushAll()) << "redis-server does not answer";
      Spec = "redis://127.0.0.1:" + std::to_string(Redis->port());
      break;
    }
    Result<std::unique_ptr<StateStore>> S =
        openStateStore(Spec, /*CheckIntegrity=*/true, Fsync);
    ASSERT_TRUE(S) << S.error().message();
    Store = S.take();
  }

  StateStore &store() { return *Store; }

  static std::unique_ptr<RedisServer> Redis;
  TempDir Dir;
  std::string Spec;
  bool Fsync = false;
  std::unique_ptr<StateStore> Store;
};

std::unique_ptr<RedisServer> StoreConformanceTest::Redis;

TEST_P(StoreConformanceTest, ReadsAbsentAndPresentKeysWithVersions) {
  Result<Versioned> Absent = store().read("a");
  ASSERT_TRUE(Absent) << Absent.error().message();
  EXPECT_FALSE(Absent->Value);
  EXPECT_EQ(Absent->Version, 0u);

  CommitRequest C;
  C.Writes = {{"a", "1"}, {"empty", ""}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(valueOf(store(), "a"), "1");
  EXPECT_EQ(versionOf(store(), "a"), 1u);
  // An empty value is a value, not an absent key.
  Result<Versioned> Empty = store().read("empty");
  ASSERT_TRUE(Empty);
  ASSERT_TRUE(Empty->Value);
  EXPECT_EQ(*Empty->Value, "");
  EXPECT_EQ(Empty->Version, 1u);

  ASSERT_TRUE(store().applyWrites({{"a", "[2]"}}));
  EXPECT_EQ(valueOf(store(), "a"), "[2]");
  EXPECT_EQ(versionOf(store(), "a"), 2u);
  EXPECT_EQ(versionOf(store(), "empty"), 1u);
  EXPECT_EQ(versionOf(store(), "b"), 0u);

  Result<std::optional<std::string>> Got = store().get("a");
  ASSERT_TRUE(Got);
  EXPECT_EQ(*Got, std::optional<std::string>("[2]"));
}

/// whenDurable() answers every caller once, after the commits made before
/// it: at once where commits are durable when they return (or nothing was
/// committed), from the syncer after a sync with --durability=fsync; and a
/// store being closed answers what still waits.
TEST_P(StoreConformanceTest, WhenDurableAnswersEveryCallerAfterItsCommits) {
  const std::thread::id Me = std::this_thread::get_id();
  std::thread::id By;
  bool Called = false;
  store().whenDurable([&](Result<void> R) {
    EXPECT_TRUE(R) << R.error().message();
    By = std::this_thread::get_id();
    Called = true;
  });
  EXPECT_TRUE(Called) << "nothing committed, yet the caller waits";
  EXPECT_EQ(By, Me);

  CommitRequest C;
  C.Writes = {{"a", "1"}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  std::promise<std::thread::id> After;
  store().whenDurable([&](Result<void> R) {
    EXPECT_TRUE(R) << R.error().message();
    After.set_value(std::this_thread::get_id());
  });
  std::future<std::thread::id> F = After.get_future();
  ASSERT_EQ(F.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  if (GetParam() == Backend::SqliteFsync)
    EXPECT_NE(F.get(), Me) << "answered before the syncer synced the commit";
  else
    EXPECT_EQ(F.get(), Me);

  // Committers on several threads, each waiting for its own commit.
  std::atomic<int> Answered{0};
  std::vector<std::thread> Threads;
  for (int T = 0; T < 4; ++T)
    Threads.emplace_back([&, T] {
      for (int I = 0; I < 25; ++I) {
        CommitRequest W;
        W.Writes = {{"k" + std::to_string(T), std::to_string(I)}};
        if (commitOf(store(), W) != CommitStatus::Committed)
          return;
        store().whenDurable([&](Result<void> R) {
          EXPECT_TRUE(R) << R.error().message();
          Answered.fetch_add(1);
        });
      }
    });
  for (std::thread &T : Threads)
    T.join();
  for (int Wait = 0; Wait < 1000 && Answered.load() < 100; ++Wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(Answered.load(), 100);

  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  std::atomic<bool> Last{false};
  store().whenDurable([&](Result<void> R) {
    EXPECT_TRUE(R) << R.error().message();
    Last = true;
  });
  Store.reset();
  EXPECT_TRUE(Last) << "a store closed with a caller still waiting";
}

TEST_P(StoreConformanceTest, RepeatedKeysInOneCommit) {
  CommitRequest C;
  C.Writes = {{"a", "1"}, {"a", "2"}};
  C.Done = {"d", "d"};
  C.Meta = {{"m", "x"}, {"m", "y"}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  // Every write counts, the last one wins.
  EXPECT_EQ(valueOf(store(), "a"), "2");
  EXPECT_EQ(versionOf(store(), "a"), 2u);
  EXPECT_EQ(metaOf(store(), "m"), "y");
  CommitRequest Again;
  Again.Done = {"d"};
  EXPECT_EQ(commitOf(store(), Again), CommitStatus::Duplicate);
}

TEST_P(StoreConformanceTest, EveryWriteOfAnExpectedKeyCounts) {
  // Keys with an Expect and without, written more than once, new and old:
  // versions count writes, and list() finds every key written.
  CommitRequest C;
  C.Expect = {{"a", 0}};
  C.Writes = {{"a", "1"}, {"a", "2"}, {"b", "x"}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(versionOf(store(), "a"), 2u);
  EXPECT_EQ(versionOf(store(), "b"), 1u);
  EXPECT_EQ(listOf(store(), ""), "a=2;b=x;");
  C.Expect = {{"a", 2}, {"c", 0}, {"a", 2}};
  C.Writes = {{"a", "3"}, {"c", "5"}, {"b", "y"}, {"a", "4"}, {"c", "6"}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(versionOf(store(), "a"), 4u);
  EXPECT_EQ(versionOf(store(), "b"), 2u);
  EXPECT_EQ(versionOf(store(), "c"), 2u);
  EXPECT_EQ(listOf(store(), ""), "a=4;b=y;c=6;");
  // A stale Expect among them writes nothing.
  C.Expect = {{"a", 4}, {"c", 1}};
  C.Writes = {{"a", "5"}, {"d", "7"}};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Conflict);
  EXPECT_EQ(versionOf(store(), "a"), 4u);
  EXPECT_EQ(listOf(store(), ""), "a=4;b=y;c=6;");
}

TEST_P(StoreConformanceTest, MatchingExpectCommits) {
  ASSERT_TRUE(store().applyWrites({{"a", "1"}}));
  CommitRequest C;
  C.Expect = {{"a", 1}, {"b", 0}};
  C.Writes = {{"a", "10"}, {"b", "20"}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(valueOf(store(), "a"), "10");
  EXPECT_EQ(versionOf(store(), "a"), 2u);
  EXPECT_EQ(valueOf(store(), "b"), "20");
  EXPECT_EQ(versionOf(store(), "b"), 1u);
  // An Expect alone, writing nothing, commits too.
  CommitRequest ReadOnly;
  ReadOnly.Expect = {{"a", 2}, {"c", 0}};
  EXPECT_EQ(commitOf(store(), ReadOnly), CommitStatus::Committed);
}

/// The state the Conflict and Duplicate tests start from: one value, one
/// queued message, one record, one dedup id.
void seed(StateStore &S) {
  CommitRequest C;
  C.Writes = {{"a", "1"}};
  C.Enqueue = {{"m1", "body1"}};
  C.Meta = {{"r", "x"}};
  C.Done = {"d0"};
  ASSERT_EQ(commitOf(S, C), CommitStatus::Committed);
}

/// Everything seed() stored is there, and nothing else.
void expectSeedOnly(StateStore &S) {
  EXPECT_EQ(valueOf(S, "a"), "1");
  EXPECT_EQ(versionOf(S, "a"), 1u);
  EXPECT_EQ(valueOf(S, "b"), "<none>");
  EXPECT_EQ(versionOf(S, "b"), 0u);
  EXPECT_EQ(queueOf(S), "m1=body1;");
  EXPECT_EQ(metaOf(S, "r"), "x");
  EXPECT_EQ(metaOf(S, "s"), "<none>");
  EXPECT_EQ(listOf(S, ""), "a=1;");
}

/// A commit touching everything seed() stored, plus \p Done.
CommitRequest everything(std::vector<std::string> Done) {
  CommitRequest C;
  C.Done = std::move(Done);
  C.Writes = {{"a", "2"}, {"b", "3"}};
  C.Dequeue = {"m1"};
  C.Enqueue = {{"m2", "body2"}};
  C.Meta = {{"r", ""}, {"s", "y"}};
  return C;
}

TEST_P(StoreConformanceTest, StaleExpectAppliesNothing) {
  seed(store());
  CommitRequest C = everything({"d1"});
  C.Expect = {{"b", 0}, {"a", 0}}; // a is at version 1
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Conflict);
  expectSeedOnly(store());
  // d1 was not recorded either: the same step commits once its versions
  // are right.
  C.Expect = {{"b", 0}, {"a", 1}};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(valueOf(store(), "a"), "2");
  EXPECT_EQ(queueOf(store()), "m2=body2;");
  EXPECT_EQ(metaOf(store(), "r"), "<none>");
  EXPECT_EQ(metaOf(store(), "s"), "y");
}

TEST_P(StoreConformanceTest, RecordedDoneIdAppliesNothing) {
  seed(store());
  CommitRequest C = everything({"d9", "d0"});
  C.Expect = {{"a", 1}};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Duplicate);
  expectSeedOnly(store());
  // d9, listed before the duplicate, was not recorded.
  CommitRequest D;
  D.Done = {"d9"};
  EXPECT_EQ(commitOf(store(), D), CommitStatus::Committed);
  EXPECT_EQ(commitOf(store(), D), CommitStatus::Duplicate);
}

TEST_P(StoreConformanceTest, ExpectIsCheckedBeforeDone) {
  seed(store());
  CommitRequest C = everything({"d0"});
  C.Expect = {{"a", 7}};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Conflict);
  expectSeedOnly(store());
}

TEST_P(StoreConformanceTest, AMessageIsConsumedOnce) {
  seed(store());
  CommitRequest C = everything({});
  C.Dequeue.clear();
  C.Consume = {"m1", "m1"}; // listed twice: consumed once
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(valueOf(store(), "a"), "2");
  EXPECT_EQ(queueOf(store()), "m2=body2;");
  // The same step again: its message is gone, nothing is applied, and no
  // record of the first commit was needed to tell.
  C.Writes = {{"a", "9"}};
  C.Consume = {"m2", "m1"};
  C.Enqueue = {{"m3", "body3"}};
  C.Meta = {{"s", "z"}};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Duplicate);
  EXPECT_EQ(valueOf(store(), "a"), "2");
  EXPECT_EQ(queueOf(store()), "m2=body2;");
  EXPECT_EQ(metaOf(store(), "s"), "y");
}

TEST_P(StoreConformanceTest, AGoneMessageRecordsNoDoneId) {
  seed(store());
  CommitRequest C = everything({"d7"});
  C.Consume = {"gone"};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Duplicate);
  expectSeedOnly(store());
  CommitRequest D;
  D.Done = {"d7"};
  EXPECT_EQ(commitOf(store(), D), CommitStatus::Committed);
}

TEST_P(StoreConformanceTest, ExpectIsCheckedBeforeConsume) {
  seed(store());
  CommitRequest C = everything({});
  C.Consume = {"gone"};
  C.Expect = {{"a", 7}};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Conflict);
  expectSeedOnly(store());
}

TEST_P(StoreConformanceTest, QueueKeepsEnqueueOrder) {
  EXPECT_EQ(queueOf(store()), "");
  CommitRequest C;
  C.Enqueue = {{"m1", "a"}, {"m2", "b"}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  C.Enqueue = {{"m3", "c"}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "m1=a;m2=b;m3=c;");

  // Dequeue from the middle; a missing id is no error.
  CommitRequest D;
  D.Dequeue = {"m2", "nope"};
  ASSERT_EQ(commitOf(store(), D), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "m1=a;m3=c;");

  // Dequeue the tail, then enqueue: the new message still comes last.
  D.Dequeue = {"m3"};
  D.Enqueue = {{"m4", "d"}, {"m0", "e"}};
  ASSERT_EQ(commitOf(store(), D), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "m1=a;m4=d;m0=e;");

  // A step's commit: its own message leaves, the next one enters.
  D.Dequeue = {"m1"};
  D.Enqueue = {{"m1/next", "f"}};
  ASSERT_EQ(commitOf(store(), D), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "m4=d;m0=e;m1/next=f;");

  D.Dequeue = {"m4", "m0", "m1/next"};
  D.Enqueue.clear();
  ASSERT_EQ(commitOf(store(), D), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "");
}

TEST_P(StoreConformanceTest, MessageBodiesAreBinary) {
  std::string Body("\0head\0\0tail\0", 12);
  for (int B = 0; B < 256; ++B)
    Body.push_back(static_cast<char>(B));
  CommitRequest C;
  C.Enqueue = {{"bin", Body}, {"empty", ""}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  Result<std::vector<Message>> Q = store().pending();
  ASSERT_TRUE(Q) << Q.error().message();
  ASSERT_EQ(Q->size(), 2u);
  EXPECT_EQ((*Q)[0].Id, "bin");
  EXPECT_EQ((*Q)[0].Body.size(), Body.size());
  EXPECT_EQ((*Q)[0].Body, Body);
  EXPECT_EQ((*Q)[1].Id, "empty");
  EXPECT_EQ((*Q)[1].Body, "");
}

TEST_P(StoreConformanceTest, IdsThatDifferOnlyInTheirDigitsStayApart) {
  // Ids ending in digits written in more than one way (leading zeros, too
  // many digits for a 64-bit number), or in none.
  const std::vector<std::string> Ids = {"m1",
                                        "m01",
                                        "m001",
                                        "m10",
                                        "m",
                                        "",
                                        "7",
                                        "07",
                                        "0",
                                        "00",
                                        "a/0",
                                        "a/",
                                        "a/9",
                                        "a/10",
                                        "x/1234567890123456789",
                                        "x/123456789012345678"};
  CommitRequest C;
  for (const std::string &Id : Ids)
    C.Enqueue.push_back({Id, "<" + Id + ">"});
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  std::string All;
  for (const std::string &Id : Ids)
    All += Id + "=<" + Id + ">;";
  EXPECT_EQ(queueOf(store()), All);

  // A dedup id is one id, not any that reads as the same number.
  CommitRequest D;
  D.Done = {"m01", "a/10", "x/1234567890123456789"};
  ASSERT_EQ(commitOf(store(), D), CommitStatus::Committed);
  for (const char *Id : {"m1", "m001", "a/1", "a/010", "x/123456789012345678",
                         "x/234567890123456789"}) {
    CommitRequest E;
    E.Done = {Id};
    EXPECT_EQ(commitOf(store(), E), CommitStatus::Committed) << Id;
  }
  for (const char *Id : {"m01", "a/10", "x/1234567890123456789"}) {
    CommitRequest E;
    E.Done = {Id};
    EXPECT_EQ(commitOf(store(), E), CommitStatus::Duplicate) << Id;
  }
  // Recording dedup ids left the queue as it was.
  EXPECT_EQ(queueOf(store()), All);
}

TEST_P(StoreConformanceTest, DedupIdsAndQueuedMessagesAreIndependent) {
  // A queued message's id recorded as done stays queued; a done id
  // dequeued stays done; dequeuing and recording one id in one commit does
  // both; a done id can be queued again.
  CommitRequest C;
  C.Enqueue = {{"s/1", "one"}, {"s/2", "two"}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  CommitRequest D;
  D.Done = {"s/1"};
  ASSERT_EQ(commitOf(store(), D), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "s/1=one;s/2=two;");

  CommitRequest Q;
  Q.Dequeue = {"s/1"};
  ASSERT_EQ(commitOf(store(), Q), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "s/2=two;");
  EXPECT_EQ(commitOf(store(), D), CommitStatus::Duplicate);

  // A step's commit: its own message leaves and its id is recorded, the
  // next one enters (an id never seen before may be dequeued too).
  CommitRequest Step;
  Step.Done = {"s/2", "s/0"};
  Step.Dequeue = {"s/2", "s/0"};
  Step.Enqueue = {{"s/3", "three"}};
  ASSERT_EQ(commitOf(store(), Step), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "s/3=three;");
  EXPECT_EQ(commitOf(store(), Step), CommitStatus::Duplicate);
  EXPECT_EQ(queueOf(store()), "s/3=three;");

  // A done id queued again is queued, and still done.
  CommitRequest Again;
  Again.Enqueue = {{"s/2", "again"}};
  ASSERT_EQ(commitOf(store(), Again), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "s/3=three;s/2=again;");
  CommitRequest Done2;
  Done2.Done = {"s/2"};
  EXPECT_EQ(commitOf(store(), Done2), CommitStatus::Duplicate);
  // A duplicate in a step's commit leaves its message queued.
  CommitRequest One;
  One.Done = {"s/2"};
  One.Dequeue = {"s/2"};
  One.Enqueue = {{"s/4", "four"}};
  EXPECT_EQ(commitOf(store(), One), CommitStatus::Duplicate);
  EXPECT_EQ(queueOf(store()), "s/3=three;s/2=again;");

  // The usual step: one id done and dequeued, one message queued.
  One.Done = {"s/3"};
  One.Dequeue = {"s/3"};
  ASSERT_EQ(commitOf(store(), One), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "s/2=again;s/4=four;");
  EXPECT_EQ(commitOf(store(), One), CommitStatus::Duplicate);
  EXPECT_EQ(queueOf(store()), "s/2=again;s/4=four;");
  // The same with the id it dequeues queued again.
  One.Done = {"s/5"};
  One.Dequeue = {"s/5"};
  One.Enqueue = {{"s/5", "five"}};
  ASSERT_EQ(commitOf(store(), One), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "s/2=again;s/4=four;s/5=five;");
  EXPECT_EQ(commitOf(store(), One), CommitStatus::Duplicate);
  EXPECT_EQ(queueOf(store()), "s/2=again;s/4=four;s/5=five;");
  One.Done = {"s/4"};
  One.Dequeue = {"s/4"};
  One.Enqueue = {{"s/3", "done, queued"}};
  ASSERT_EQ(commitOf(store(), One), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "s/2=again;s/5=five;s/3=done, queued;");
}

TEST_P(StoreConformanceTest, LargeCommitsApplyEverything) {
  // More items of each kind than a byte counts.
  constexpr int N = 700;
  CommitRequest C;
  std::string Queue, List;
  for (int I = 0; I < N; ++I) {
    std::string K = "k" + std::to_string(1000 + I);
    C.Expect.emplace_back(K, 0);
    C.Writes.emplace_back(K, std::to_string(I));
    C.Done.push_back("d/" + std::to_string(I));
    C.Enqueue.push_back({"q/" + std::to_string(I), std::to_string(I)});
    C.Meta.emplace_back("m" + std::to_string(I), "x");
    Queue += "q/" + std::to_string(I) + "=" + std::to_string(I) + ";";
    List += K + "=" + std::to_string(I) + ";";
  }
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), Queue);
  EXPECT_EQ(listOf(store(), "k"), List);
  EXPECT_EQ(versionOf(store(), "k1699"), 1u);
  EXPECT_EQ(metaOf(store(), "m699"), "x");
  CommitRequest D;
  D.Done = {"d/699"};
  EXPECT_EQ(commitOf(store(), D), CommitStatus::Duplicate);
  // All of it again, dequeuing: the Done ids make it a duplicate.
  C.Dequeue.clear();
  for (const Message &M : C.Enqueue)
    C.Dequeue.push_back(M.Id);
  C.Enqueue.clear();
  for (auto &E : C.Expect)
    E.second = 1;
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Duplicate);
  EXPECT_EQ(queueOf(store()), Queue);
  C.Done.clear();
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "");
  EXPECT_EQ(versionOf(store(), "k1699"), 2u);
}

TEST_P(StoreConformanceTest, MetaRecordsSetAndErase) {
  EXPECT_EQ(metaOf(store(), "idem/1"), "<none>");
  std::string Binary("r\0\xff", 3);
  CommitRequest C;
  C.Meta = {{"idem/1", "200 ok"}, {"join/2", Binary}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(metaOf(store(), "idem/1"), "200 ok");
  EXPECT_EQ(metaOf(store(), "join/2"), Binary);

  C.Meta = {{"idem/1", "201 again"}, {"join/2", ""}, {"never", ""}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(metaOf(store(), "idem/1"), "201 again");
  EXPECT_EQ(metaOf(store(), "join/2"), "<none>");
  EXPECT_EQ(metaOf(store(), "never"), "<none>");
  // Records are not state: list() does not see them.
  EXPECT_EQ(listOf(store(), ""), "");
}

TEST_P(StoreConformanceTest, MetaExpectIsACompareAndSet) {
  std::string Binary("g\0\xff", 3);
  CommitRequest C;
  C.MetaExpect = {{"idemreq/k", std::nullopt}};
  C.Meta = {{"idemreq/k", Binary}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  // Expected absent, present now: nothing of the commit is applied.
  C.Meta = {{"idemreq/k", "other"}};
  C.Writes = {{"a", "1"}};
  C.Done = {"d"};
  C.Forget = {"f"};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Conflict);
  EXPECT_EQ(metaOf(store(), "idemreq/k"), Binary);
  EXPECT_EQ(versionOf(store(), "a"), 0u);
  // A value that differs in its last byte conflicts; the stored one
  // commits, and so does an absent record expected absent.
  C.MetaExpect = {{"idemreq/k", std::string("g\0\xfe", 3)}};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Conflict);
  C.MetaExpect = {{"idemreq/k", Binary}, {"idemreq/none", std::nullopt}};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(metaOf(store(), "idemreq/k"), "other");
  EXPECT_EQ(valueOf(store(), "a"), "1");
  // Checked before dedup ids: "d" is recorded, but the record conflicts.
  C.MetaExpect = {{"idemreq/k", Binary}};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Conflict);
}

TEST_P(StoreConformanceTest, ForgottenDedupIdsCanBeRecordedAgain) {
  CommitRequest C;
  C.Done = {"idem/k#41", "idemreq/k#41", "run/7"};
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Duplicate);
  // A message queued under an id that is forgotten stays queued.
  CommitRequest Q;
  Q.Enqueue = {{"idem/q#1", "body"}};
  ASSERT_EQ(commitOf(store(), Q), CommitStatus::Committed);
  CommitRequest F;
  F.Forget = {"idem/k#41", "idemreq/k#41", "never/recorded", "idem/q#1"};
  ASSERT_EQ(commitOf(store(), F), CommitStatus::Committed);
  EXPECT_EQ(queueOf(store()), "idem/q#1=body;");
  // "run/7" was not forgotten.
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Duplicate);
  C.Done = {"idem/k#41", "idemreq/k#41"};
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Committed);
  EXPECT_EQ(commitOf(store(), C), CommitStatus::Duplicate);
}

TEST_P(StoreConformanceTest, ScanMetaVisitsEveryRecordOfAPrefix) {
  // More than two batches, beside records the prefix does not cover; the
  // prefix holds glob characters, which Redis's MATCH would read as such.
  const std::string Prefix = "k*[?]\\/";
  std::set<std::string> Written;
  CommitRequest C;
  for (int I = 0; I < 2 * static_cast<int>(MetaScanBatch) + 7; ++I) {
    std::string Key = Prefix + std::to_string(I);
    C.Meta.emplace_back(Key, "v" + std::to_string(I));
    Written.insert(Key);
  }
  C.Meta.emplace_back("k*[?]\\", "shorter");
  C.Meta.emplace_back("kx[?]\\/1", "glob match only");
  C.Meta.emplace_back("k*[?]\\0", "next byte");
  ASSERT_EQ(commitOf(store(), C), CommitStatus::Committed);
  std::set<std::string> Seen;
  bool ValuesRight = true;
  // Erasing each record from inside the visitor: the store's lock is not
  // held while it runs.
  Result<void> R = store().scanMeta(
      Prefix, [&](const std::string &Key, const std::string &Value) {
        ValuesRight &= Value == "v" + Key.substr(Prefix.size());
        Seen.insert(Key);
        CommitRequest E;
        E.MetaExpect.emplace_back(Key, Value);
        E.Meta.emplace_back(Key, "");
        (void)store().commit(E);
      });
  ASSERT_TRUE(R) << R.error().message();
  EXPECT_TRUE(ValuesRight);
  EXPECT_EQ(Seen, Written);
  for (const std::string &Key : Written)
    ASSERT_EQ(metaOf(store(), Key), "<none>") << Key;
  EXPECT_EQ(metaOf(store(), "k*[?]\\"), "shorter");
  EXPECT_EQ(metaOf(store(), "kx[?]\\/1"), "glob match only");
  EXPECT_EQ(metaOf(store(), "k*[?]\\0"), "next byte");
  Seen.clear();
  R = store().scanMeta(Prefix, [&](const std::string &Key,
                                   const std::string &) { Seen.insert(Key); });
  ASSERT_TRUE(R) << R.error().message();
  EXPECT_TRUE(Seen.empty());
}

TEST_P(StoreConformanceTest, ListsAPrefixInKeyOrder) {
  ASSERT_TRUE(store().applyWrites({{"stock/kiwi", "3"},
                                   {"stocks", "9"},
                                   {"stock", "1"},
                                   {"stock/apple", "5"},
                                   {"stock0", "0"},
                                   {"stoc", "-"},
                                   {"stock/\xc3\xa9pi", "7"},
                                   {"stock/", "root"},
                                   {"a", "x"},
                                   {"z\xff", "y"},
                                   {"z\xff\x01", "w"},
                                   {"\xff\xff", "v"}}));
  // Not "stocks", "stock0" or "stock": they only share "stock". Bytes
  // above 0x7f sort after ASCII (keys compare as unsigned bytes).
  EXPECT_EQ(listOf(store(), "stock/"),
            "stock/=root;stock/apple=5;stock/kiwi=3;stock/\xc3\xa9pi=7;");
  EXPECT_EQ(listOf(store(), "stock/k"), "stock/kiwi=3;");
  EXPECT_EQ(listOf(store(), "stock/z"), "");
  EXPECT_EQ(listOf(store(), "stocks"), "stocks=9;");
  EXPECT_EQ(listOf(store(), "z\xff"), "z\xff=y;z\xff\x01=w;");
  EXPECT_EQ(listOf(store(), "\xff"), "\xff\xff=v;");
  EXPECT_EQ(listOf(store(), ""),
            "a=x;stoc=-;stock=1;stock/=root;stock/apple=5;stock/kiwi=3;"
            "stock/\xc3\xa9pi=7;stock0=0;stocks=9;z\xff=y;z\xff\x01=w;"
            "\xff\xff=v;");
  // A key read but never written is not listed.
  EXPECT_EQ(versionOf(store(), "stock/pear"), 0u);
  EXPECT_EQ(listOf(store(), "stock/p"), "");
}

TEST_P(StoreConformanceTest, ConcurrentExpectIncrementsAreLinearizable) {
  constexpr int Threads = 4;
  constexpr int PerThread = 50;
  std::atomic<int> Conflicts{0};
  std::atomic<int> Failures{0};
  std::vector<std::thread> Workers;
  for (int T = 0; T < Threads; ++T)
    Workers.emplace_back([&, T] {
      for (int I = 0; I < PerThread; ++I) {
        // Read, compute, commit only if nobody wrote in between; else again.
        while (true) {
          Result<Versioned> V = store().read("counter");
          if (!V) {
            ++Failures;
            return;
          }
          long Now = V->Value ? std::stol(*V->Value) : 0;
          CommitRequest C;
          C.Expect = {{"counter", V->Version}};
          C.Writes = {{"counter", std::to_string(Now + 1)}};
          C.Done = {std::to_string(T) + "/" + std::to_string(I)};
          Result<CommitStatus> S = store().commit(C);
          if (!S || *S == CommitStatus::Duplicate) {
            ++Failures;
            return;
          }
          if (*S == CommitStatus::Committed)
            break;
          ++Conflicts;
        }
      }
    });
  for (std::thread &W : Workers)
    W.join();
  EXPECT_EQ(Failures.load(), 0);
  EXPECT_EQ(valueOf(store(), "counter"), std::to_string(Threads * PerThread));
  EXPECT_EQ(versionOf(store(), "counter"),
            static_cast<uint64_t>(Threads * PerThread));
  RecordProperty("conflicts", Conflicts.load());
}

INSTANTIATE_TEST_SUITE_P(AllBackends, StoreConformanceTest,
                         testing::Values(Backend::Memory, Backend::Sqlite,
                                         Backend::SqliteFsync, Backend::Redis),
                         backendName);

//===----------------------------------------------------------------------===//
// SQLite: the file itself
//===----------------------------------------------------------------------===//

std::unique_ptr<StateStore> openSqlite(const std::string &Path) {
  Result<std::unique_ptr<StateStore>> S = openSqliteStore(Path);
  EXPECT_TRUE(S) << S.error().message();
  return S ? S.take() : nullptr;
}

/// Runs \p Sql on the file with SQLite directly, as another program would.
bool runSql(const std::string &Path, const char *Sql) {
  sqlite3 *Db = nullptr;
  bool Ok = sqlite3_open(Path.c_str(), &Db) == SQLITE_OK &&
            sqlite3_exec(Db, Sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(Db);
  return Ok;
}

/// What seed() stores, after more of everything.
void fill(StateStore &S) {
  seed(S);
  CommitRequest C;
  C.Expect = {{"a", 1}};
  C.Writes = {{"a", "2"}, {"b", "[\"b\"]"}};
  C.Enqueue = {{"m2", std::string("x\0y", 3)}};
  C.Done = {"d1"};
  C.Meta = {{"s", "y"}};
  ASSERT_EQ(commitOf(S, C), CommitStatus::Committed);
}

void expectFilled(StateStore &S) {
  EXPECT_EQ(valueOf(S, "a"), "2");
  EXPECT_EQ(versionOf(S, "a"), 2u);
  EXPECT_EQ(valueOf(S, "b"), "[\"b\"]");
  EXPECT_EQ(versionOf(S, "b"), 1u);
  EXPECT_EQ(queueOf(S), std::string("m1=body1;m2=x\0y;", 16));
  EXPECT_EQ(metaOf(S, "r"), "x");
  EXPECT_EQ(metaOf(S, "s"), "y");
  EXPECT_EQ(listOf(S, ""), "a=2;b=[\"b\"];");
  CommitRequest D;
  D.Done = {"d1"};
  EXPECT_EQ(commitOf(S, D), CommitStatus::Duplicate);
  D.Done = {"d0"};
  EXPECT_EQ(commitOf(S, D), CommitStatus::Duplicate);
}

TEST(SqliteStoreTest, ReopenedFileKeepsEverything) {
  TempDir Dir;
  // The parent directories do not exist yet: opening creates them.
  std::string Path = Dir.file("deep/er/state.db");
  {
    auto S = openSqlite(Path);
    ASSERT_TRUE(S);
    fill(*S);
  }
  auto S = openSqlite(Path);
  ASSERT_TRUE(S);
  expectFilled(*S);
  // The queue goes on in order after the reopen.
  CommitRequest C;
  C.Dequeue = {"m1"};
  C.Enqueue = {{"m3", "z"}};
  ASSERT_EQ(commitOf(*S, C), CommitStatus::Committed);
  EXPECT_EQ(queueOf(*S), std::string("m2=x\0y;m3=z;", 12));
}

TEST(SqliteStoreTest, KilledProcessLosesNoCommit) {
  TempDir Dir;
  std::string Path = Dir.file("state.db");
  pid_t Child = fork();
  ASSERT_GE(Child, 0);
  if (Child == 0) {
    // The store is never closed: the WAL is not checkpointed, the
    // connection not shut down. Only what COMMIT wrote is there.
    Result<std::unique_ptr<StateStore>> S = openSqliteStore(Path);
    if (!S)
      _exit(1);
    CommitRequest C;
    C.Writes = {{"a", "1"}};
    C.Enqueue = {{"m1", "body1"}};
    C.Meta = {{"r", "x"}};
    C.Done = {"d0"};
    if (!(*S)->commit(C))
      _exit(2);
    C = CommitRequest();
    C.Expect = {{"a", 1}};
    C.Writes = {{"a", "2"}, {"b", "[\"b\"]"}};
    C.Enqueue = {{"m2", std::string("x\0y", 3)}};
    C.Done = {"d1"};
    C.Meta = {{"s", "y"}};
    if (!(*S)->commit(C))
      _exit(3);
    kill(getpid(), SIGKILL);
    _exit(4);
  }
  int Status = 0;
  ASSERT_EQ(waitpid(Child, &Status, 0), Child);
  ASSERT_TRUE(WIFSIGNALED(Status) && WTERMSIG(Status) == SIGKILL)
      << "the child did not commit (status " << Status << ")";
  auto S = openSqlite(Path);
  ASSERT_TRUE(S);
  expectFilled(*S);
}

TEST(SqliteStoreTest, TwoStoresOnOneFileShareTheQueueOrder) {
  // Two runtimes (here two connections) on one file: each numbers the
  // messages it enqueues, and must notice the other's.
  TempDir Dir;
  std::string Path = Dir.file("state.db");
  auto A = openSqlite(Path);
  auto B = openSqlite(Path);
  ASSERT_TRUE(A && B);
  CommitRequest C;
  C.Enqueue = {{"a1", "1"}};
  ASSERT_EQ(commitOf(*A, C), CommitStatus::Committed);
  C.Enqueue = {{"b1", "2"}, {"b2", "3"}};
  ASSERT_EQ(commitOf(*B, C), CommitStatus::Committed);
  C.Enqueue = {{"a2", "4"}};
  ASSERT_EQ(commitOf(*A, C), CommitStatus::Committed);
  C.Enqueue = {{"b3", "5"}};
  ASSERT_EQ(commitOf(*B, C), CommitStatus::Committed);
  EXPECT_EQ(queueOf(*A), "a1=1;b1=2;b2=3;a2=4;b3=5;");
  EXPECT_EQ(queueOf(*B), "a1=1;b1=2;b2=3;a2=4;b3=5;");
  // And the versions each one checks are the other's too.
  CommitRequest W;
  W.Expect = {{"k", 0}};
  W.Writes = {{"k", "a"}};
  ASSERT_EQ(commitOf(*A, W), CommitStatus::Committed);
  EXPECT_EQ(commitOf(*B, W), CommitStatus::Conflict);
  EXPECT_EQ(valueOf(*B, "k"), "a");
}

TEST(SqliteStoreTest, VersionsCommittedByAnotherStoreAreSeen) {
  // Each store remembers the versions its commits saw; another store's
  // commit on the same file must make it look again.
  TempDir Dir;
  std::string Path = Dir.file("state.db");
  auto A = openSqlite(Path);
  auto B = openSqlite(Path);
  ASSERT_TRUE(A && B);
  CommitRequest W;
  W.Expect = {{"k", 0}};
  W.Writes = {{"k", "b1"}};
  ASSERT_EQ(commitOf(*B, W), CommitStatus::Committed); // B: k at 1
  W.Expect = {{"k", 1}};
  W.Writes = {{"k", "a2"}};
  ASSERT_EQ(commitOf(*A, W), CommitStatus::Committed); // k at 2
  W.Writes = {{"k", "b2"}};
  EXPECT_EQ(commitOf(*B, W), CommitStatus::Conflict);
  W.Expect = {{"k", 2}};
  EXPECT_EQ(commitOf(*B, W), CommitStatus::Committed);
  EXPECT_EQ(valueOf(*A, "k"), "b2");
  EXPECT_EQ(versionOf(*A, "k"), 3u);

  // A write without an Expect, by another store, between two of B's.
  CommitRequest Blind;
  Blind.Writes = {{"k", "a4"}};
  ASSERT_EQ(commitOf(*A, Blind), CommitStatus::Committed); // k at 4
  Blind.Writes = {{"j", "b"}};
  ASSERT_EQ(commitOf(*B, Blind), CommitStatus::Committed);
  W.Expect = {{"k", 3}};
  EXPECT_EQ(commitOf(*B, W), CommitStatus::Conflict);
  W.Expect = {{"k", 4}};
  EXPECT_EQ(commitOf(*B, W), CommitStatus::Committed);

  // And by another program altogether.
  ASSERT_TRUE(runSql(Path, "UPDATE state SET version = 9 WHERE key = 'k'"));
  W.Expect = {{"k", 5}};
  EXPECT_EQ(commitOf(*B, W), CommitStatus::Conflict);
  W.Expect = {{"k", 9}};
  EXPECT_EQ(commitOf(*B, W), CommitStatus::Committed);
}

TEST(SqliteStoreTest, FileThatIsNotADatabaseIsRefused) {
  TempDir Dir;
  std::string Path = Dir.file("notes.db");
  {
    std::ofstream Out(Path);
    Out << "these are my notes, not a database; they must stay as they are\n"
        << std::string(200, 'x') << "\n";
  }
  Result<std::unique_ptr<StateStore>> S = openSqliteStore(Path);
  ASSERT_FALSE(S);
  EXPECT_NE(S.error().message().find(Path), std::string::npos)
      << S.error().message();
  EXPECT_NE(S.error().message().find("is not a Cleave state database"),
            std::string::npos)
      << S.error().message();
  EXPECT_NE(S.error().message().find("file is not a database"),
            std::string::npos)
      << S.error().message();
}

TEST(SqliteStoreTest, OtherSqliteDatabaseIsRefusedAndLeftAlone) {
  TempDir Dir;
  std::string Path = Dir.file("app.db");
  ASSERT_TRUE(runSql(Path, "CREATE TABLE users(name TEXT); "
                           "INSERT INTO users VALUES ('ann')"));
  Result<std::unique_ptr<StateStore>> S = openSqliteStore(Path);
  ASSERT_FALSE(S);
  EXPECT_NE(
      S.error().message().find("'" + Path + "' is not a Cleave state database"),
      std::string::npos)
      << S.error().message();
  // Neither tables nor the journal mode were changed.
  sqlite3 *Db = nullptr;
  ASSERT_EQ(sqlite3_open(Path.c_str(), &Db), SQLITE_OK);
  sqlite3_stmt *Q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(Db,
                               "SELECT group_concat(name) FROM sqlite_schema",
                               -1, &Q, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(Q), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char *>(sqlite3_column_text(Q, 0)),
               "users");
  sqlite3_finalize(Q);
  ASSERT_EQ(sqlite3_prepare_v2(Db, "PRAGMA journal_mode", -1, &Q, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(Q), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char *>(sqlite3_column_text(Q, 0)),
               "delete");
  sqlite3_finalize(Q);
  sqlite3_close(Db);
}

TEST(SqliteStoreTest, OtherSchemaVersionIsRefused) {
  TempDir Dir;
  std::string Path = Dir.file("state.db");
  ASSERT_TRUE(openSqlite(Path));
  ASSERT_TRUE(runSql(Path, "PRAGMA user_version = 7"));
  Result<std::unique_ptr<StateStore>> S = openSqliteStore(Path);
  ASSERT_FALSE(S);
  EXPECT_NE(S.error().message().find("schema version 7, but this runtime "
                                     "reads version 3"),
            std::string::npos)
      << S.error().message();
}

/// A value changed on disk inside valid text (a flipped digit: SQLite's own
/// checks see nothing wrong) is never served: reading it is an error naming
/// it, and the startup check refuses the file, for state, records and
/// queued steps alike.
TEST(SqliteStoreTest, ChangedValuesAreFoundNotServed) {
  TempDir Dir;
  std::string Path = Dir.file("state.db");
  {
    auto S = openSqlite(Path);
    ASSERT_TRUE(S);
    CommitRequest C;
    C.Writes = {{"total", "424242"}, {"other", "1"}};
    C.Meta = {{"idem/k", "answer 200"}};
    C.Enqueue = {{"inv/7", "frame"}};
    ASSERT_EQ(commitOf(*S, C), CommitStatus::Committed);
  }
  ASSERT_TRUE(runSql(Path, "UPDATE state SET value = '424243' "
                           "WHERE key = 'total'; "
                           "UPDATE meta SET value = 'answer 500'; "
                           "UPDATE message SET body = 'framf'"));
  Result<std::unique_ptr<StateStore>> Checked = openSqliteStore(Path);
  ASSERT_FALSE(Checked);
  const std::string &Why = Checked.error().message();
  for (const char *Named : {"state 'total'", "record 'idem/k'",
                            "queued step 'inv/7'", "checksum", Path.c_str()})
    EXPECT_NE(Why.find(Named), std::string::npos) << Named << ": " << Why;
  EXPECT_EQ(Why.find("'other'"), std::string::npos) << Why;

  Result<std::unique_ptr<StateStore>> S =
      openSqliteStore(Path, /*CheckIntegrity=*/false);
  ASSERT_TRUE(S) << S.error().message();
  Result<Versioned> Total = (*S)->read("total");
  ASSERT_FALSE(Total) << "served " << Total->Value.value_or("(none)");
  EXPECT_NE(Total.error().message().find("state 'total'"), std::string::npos)
      << Total.error().message();
  EXPECT_FALSE((*S)->list("to"));
  EXPECT_FALSE((*S)->meta("idem/k"));
  EXPECT_FALSE((*S)->pending());
  // The rest is served, and a new write makes the row whole again.
  EXPECT_EQ(valueOf(**S, "other"), "1");
  CommitRequest Fix;
  Fix.Writes = {{"total", "1"}};
  ASSERT_EQ(commitOf(**S, Fix), CommitStatus::Committed);
  EXPECT_EQ(valueOf(**S, "total"), "1");
}

/// A file of schema version 2 (no checksums) is upgraded in place: every
/// row gets its checksum and reads as before.
TEST(SqliteStoreTest, Version2FileIsUpgraded) {
  TempDir Dir;
  std::string Path = Dir.file("state.db");
  ASSERT_TRUE(runSql(
      Path,
      "PRAGMA page_size = 1024; PRAGMA journal_mode = WAL;"
      "CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT, "
      "version INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE message(head TEXT NOT NULL, num INTEGER NOT NULL, "
      "done INTEGER NOT NULL, seq INTEGER, body BLOB, "
      "PRIMARY KEY(head, num)) WITHOUT ROWID;"
      "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) "
      "WITHOUT ROWID;"
      "INSERT INTO state VALUES ('k', '\"v\"', 4);"
      "INSERT INTO message VALUES ('inv/', 3, 0, 1, x'00ff');"
      "INSERT INTO message VALUES ('d', -1, 1, NULL, NULL);"
      "INSERT INTO meta VALUES ('r', x'01');"
      "PRAGMA application_id = 1131177334; PRAGMA user_version = 2;"));
  auto S = openSqlite(Path);
  ASSERT_TRUE(S);
  Result<Versioned> K = S->read("k");
  ASSERT_TRUE(K) << K.error().message();
  EXPECT_EQ(K->Value, std::optional<std::string>("\"v\""));
  EXPECT_EQ(K->Version, 4u);
  Result<std::vector<Message>> Queue = S->pending();
  ASSERT_TRUE(Queue) << Queue.error().message();
  ASSERT_EQ(Queue->size(), 1u);
  EXPECT_EQ((*Queue)[0].Id, "inv/3");
  EXPECT_EQ((*Queue)[0].Body, std::string("\0\xff", 2));
  Result<std::optional<std::string>> R = S->meta("r");
  ASSERT_TRUE(R) << R.error().message();
  EXPECT_EQ(*R, std::optional<std::string>("\x01"));
  // The dedup id still counts.
  CommitRequest Again;
  Again.Done = {"d"};
  EXPECT_EQ(commitOf(*S, Again), CommitStatus::Duplicate);
  S.reset();
  // And the file now says version 3, and opens with its checks.
  EXPECT_TRUE(openSqlite(Path));
}

TEST(SqliteStoreTest, UncreatableDirectoryIsAClearError) {
  TempDir Dir;
  std::string Blocker = Dir.file("file");
  std::ofstream(Blocker) << "x";
  // A directory cannot be created under a regular file.
  std::string Path = Blocker + "/sub/state.db";
  Result<std::unique_ptr<StateStore>> S = openSqliteStore(Path);
  ASSERT_FALSE(S);
  EXPECT_NE(S.error().message().find("cannot create directory"),
            std::string::npos)
      << S.error().message();
  EXPECT_NE(S.error().message().find(Path), std::string::npos)
      << S.error().message();
}

//===----------------------------------------------------------------------===//
// Redis: the connection
//===----------------------------------------------------------------------===//

TEST(RedisStoreTest, UnreachableServerIsAClearError) {
  int Port = cleave::test::freeLoopbackPort();
  ASSERT_NE(Port, 0);
  Result<std::unique_ptr<StateStore>> S = openRedisStore("127.0.0.1", Port);
  ASSERT_FALSE(S);
  EXPECT_EQ(S.error().message(),
            "cannot reach Redis at 127.0.0.1:" + std::to_string(Port) +
                ": Connection refused");
}

TEST(RedisStoreTest, ReconnectsToARestartedServer) {
  std::string Why;
  std::unique_ptr<RedisServer> Server = RedisServer::start(Why);
  ASSERT_TRUE(Server) << "cannot start redis-server: " << Why;
  int Port = Server->port();
  Result<std::unique_ptr<StateStore>> S = openRedisStore("127.0.0.1", Port);
  ASSERT_TRUE(S) << S.error().message();
  StateStore &Store = **S;
  ASSERT_TRUE(Store.applyWrites({{"a", "1"}}));

  // While the server is down, every call fails with an error.
  Server->stop();
  Result<Versioned> Down = Store.read("a");
  ASSERT_FALSE(Down);
  EXPECT_NE(
      Down.error().message().find("Redis at 127.0.0.1:" + std::to_string(Port)),
      std::string::npos)
      << Down.error().message();

  // A new server (no persistence: empty, without the scripts loaded) on
  // the same port: the store reconnects and loads its scripts again.
  Server = RedisServer::start(Why, Port);
  ASSERT_TRUE(Server) << "cannot restart redis-server: " << Why;
  EXPECT_EQ(versionOf(Store, "a"), 0u);
  CommitRequest C;
  C.Expect = {{"a", 0}};
  C.Writes = {{"a", "2"}};
  C.Done = {"d"};
  EXPECT_EQ(commitOf(Store, C), CommitStatus::Committed);
  EXPECT_EQ(valueOf(Store, "a"), "2");

  // The server closing an idle connection is noticed before the next
  // command is sent: even a commit without a dedup id goes through.
  ASSERT_TRUE(cleave::test::redisSimpleCommand(
      Port, {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}));
  CommitRequest Plain;
  Plain.Writes = {{"a", "3"}};
  EXPECT_EQ(commitOf(Store, Plain), CommitStatus::Committed);
  EXPECT_EQ(versionOf(Store, "a"), 2u);
}

TEST(RedisStoreTest, OtherLayoutVersionIsRefused) {
  std::string Why;
  std::unique_ptr<RedisServer> Server = RedisServer::start(Why);
  ASSERT_TRUE(Server) << "cannot start redis-server: " << Why;
  ASSERT_TRUE(cleave::test::redisSimpleCommand(Server->port(),
                                               {"SET", "cleave:schema", "2"}));
  Result<std::unique_ptr<StateStore>> S =
      openRedisStore("127.0.0.1", Server->port());
  ASSERT_FALSE(S);
  EXPECT_NE(S.error().message().find("layout version '2'"), std::string::npos)
      << S.error().message();
}

} // namespace
