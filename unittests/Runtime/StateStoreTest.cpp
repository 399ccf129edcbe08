//===- StateStoreTest.cpp - Tests of state storage and isolation ----------===//

#include "cleave/StateStore.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace cleave::rt;

namespace {

std::string valueOf(StateStore &S, const std::string &Name) {
  Result<std::optional<std::string>> V = S.get(Name);
  EXPECT_TRUE(V);
  if (!V || !*V)
    return "<none>";
  return **V;
}

/// Reads through the C callback table, the way a handler does.
std::string hostGet(const cleave_host_v1 *Host, const char *Name,
                    int *Code = nullptr) {
  const char *Data = nullptr;
  size_t Len = 0;
  int Got = Host->state_get(Host->ctx, Name, &Data, &Len);
  if (Code)
    *Code = Got;
  return Got == 1 ? std::string(Data, Len) : "<" + std::to_string(Got) + ">";
}

int hostPut(const cleave_host_v1 *Host, const char *Name,
            const std::string &Value) {
  return Host->state_put(Host->ctx, Name, Value.data(), Value.size());
}

TEST(StateStoreTest, MemoryStoreGetAndApply) {
  MemoryStateStore S;
  EXPECT_EQ(valueOf(S, "a"), "<none>");
  ASSERT_TRUE(S.applyWrites({{"a", "1"}, {"b", "[2]"}}));
  EXPECT_EQ(valueOf(S, "a"), "1");
  EXPECT_EQ(valueOf(S, "b"), "[2]");
  ASSERT_TRUE(S.applyWrites({{"a", "3"}}));
  EXPECT_EQ(valueOf(S, "a"), "3");
  EXPECT_EQ(valueOf(S, "b"), "[2]");
}

TEST(StateStoreTest, WritesAppliedOnCommit) {
  MemoryStateStore S;
  StateLockTable Locks({"counter", "log"});
  {
    auto T = StateTransaction::begin(S, Locks, {"log", "counter"});
    ASSERT_TRUE(T);
    const cleave_host_v1 *Host = (*T)->host();
    int Code = 0;
    EXPECT_EQ(hostGet(Host, "counter", &Code), "<0>");
    EXPECT_EQ(Code, 0); // No value yet: the handler uses the initializer.
    EXPECT_EQ(hostPut(Host, "counter", "1"), 0);
    EXPECT_EQ(hostPut(Host, "log", "[\"x\"]"), 0);
    // Not visible to others before commit.
    EXPECT_EQ(valueOf(S, "counter"), "<none>");
    ASSERT_TRUE((*T)->commit());
  }
  EXPECT_EQ(valueOf(S, "counter"), "1");
  EXPECT_EQ(valueOf(S, "log"), "[\"x\"]");
}

TEST(StateStoreTest, WritesDiscardedWithoutCommit) {
  MemoryStateStore S;
  ASSERT_TRUE(S.applyWrites({{"counter", "5"}}));
  StateLockTable Locks({"counter"});
  {
    auto T = StateTransaction::begin(S, Locks, {"counter"});
    ASSERT_TRUE(T);
    EXPECT_EQ(hostPut((*T)->host(), "counter", "6"), 0);
    // The invocation is abandoned (its reply broke the ABI): no commit().
  }
  EXPECT_EQ(valueOf(S, "counter"), "5");
}

TEST(StateStoreTest, ReadsOwnWritesAndKeepsValuesAlive) {
  MemoryStateStore S;
  ASSERT_TRUE(S.applyWrites({{"v", "\"stored\""}}));
  StateLockTable Locks({"v"});
  auto T = StateTransaction::begin(S, Locks, {"v"});
  ASSERT_TRUE(T);
  const char *First = nullptr;
  size_t FirstLen = 0;
  ASSERT_EQ((*T)->get("v", &First, &FirstLen), 1);
  EXPECT_EQ(std::string(First, FirstLen), "\"stored\"");
  ASSERT_EQ((*T)->put("v", "\"a\""), 0);
  const char *Second = nullptr;
  size_t SecondLen = 0;
  ASSERT_EQ((*T)->get("v", &Second, &SecondLen), 1);
  EXPECT_EQ(std::string(Second, SecondLen), "\"a\"");
  ASSERT_EQ((*T)->put("v", "\"b\""), 0);
  // Earlier values stay valid until the transaction ends, as the ABI says.
  EXPECT_EQ(std::string(First, FirstLen), "\"stored\"");
  EXPECT_EQ(std::string(Second, SecondLen), "\"a\"");
  EXPECT_EQ(hostGet((*T)->host(), "v"), "\"b\"");
  ASSERT_TRUE((*T)->commit());
  EXPECT_EQ(valueOf(S, "v"), "\"b\"");
}

TEST(StateStoreTest, UnlistedStateIsRefused) {
  MemoryStateStore S;
  StateLockTable Locks({"mine", "other"});
  auto T = StateTransaction::begin(S, Locks, {"mine"});
  ASSERT_TRUE(T);
  int Code = 0;
  hostGet((*T)->host(), "other", &Code);
  EXPECT_EQ(Code, -1);
  EXPECT_EQ((*T)->lastError(),
            "state 'other' is not listed for this function in the manifest");
  EXPECT_EQ(hostPut((*T)->host(), "other", "1"), -1);
  ASSERT_TRUE((*T)->commit());
  EXPECT_EQ(valueOf(S, "other"), "<none>");
}

TEST(StateStoreTest, UnknownLockNameFails) {
  MemoryStateStore S;
  StateLockTable Locks({"a"});
  auto T = StateTransaction::begin(S, Locks, {"a", "zzz"});
  ASSERT_FALSE(T);
  EXPECT_EQ(T.error().message(), "no lock for state variable 'zzz'");
  // Nothing stays locked after the failure.
  auto Again = StateTransaction::begin(S, Locks, {"a"});
  EXPECT_TRUE(Again);
}

/// A backend that is down.
class BrokenStore final : public StateStore {
public:
  Result<Versioned> read(std::string_view) override {
    return Error("connection refused");
  }
  Result<CommitStatus> commit(const CommitRequest &) override {
    return Error("disk full");
  }
  Result<std::vector<Message>> pending() override {
    return Error("connection refused");
  }
  Result<std::optional<std::string>> meta(std::string_view) override {
    return Error("connection refused");
  }
  Result<std::vector<std::pair<std::string, std::string>>>
  list(std::string_view) override {
    return Error("connection refused");
  }
};

TEST(StateStoreTest, StoreFailuresReachTheHandlerAndCommit) {
  BrokenStore S;
  StateLockTable Locks({"a"});
  auto T = StateTransaction::begin(S, Locks, {"a"});
  ASSERT_TRUE(T);
  int Code = 0;
  hostGet((*T)->host(), "a", &Code);
  EXPECT_EQ(Code, -1);
  EXPECT_EQ((*T)->lastError(), "cannot read state 'a': connection refused");
  EXPECT_EQ(hostPut((*T)->host(), "a", "1"), 0);
  Result<CommitStatus> C = (*T)->commit();
  ASSERT_FALSE(C);
  EXPECT_EQ(C.error().message(), "disk full");
}

TEST(StateStoreTest, TransactionsOnSharedStateExcludeEachOther) {
  MemoryStateStore S;
  StateLockTable Locks({"a", "b"});
  auto First = StateTransaction::begin(S, Locks, {"a"});
  ASSERT_TRUE(First);
  std::atomic<bool> SecondStarted{false}, SecondLocked{false};
  std::thread Other([&] {
    SecondStarted = true;
    auto Second = StateTransaction::begin(S, Locks, {"b", "a"});
    SecondLocked = true;
    EXPECT_TRUE(Second);
  });
  while (!SecondStarted)
    std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(SecondLocked) << "a second transaction got 'a' while held";
  First->reset(); // Ends the first transaction, releasing 'a'.
  Other.join();
  EXPECT_TRUE(SecondLocked);
}

TEST(StateStoreTest, OpposingLockOrdersDoNotDeadlock) {
  // Each thread lists the same two variables in a different order; without
  // the sorted locking order this deadlocks quickly.
  MemoryStateStore S;
  StateLockTable Locks({"a", "b"});
  auto Work = [&](std::vector<std::string> Names) {
    for (int I = 0; I < 20000; ++I) {
      auto T = StateTransaction::begin(S, Locks, Names);
      ASSERT_TRUE(T);
      const char *Data = nullptr;
      size_t Len = 0;
      int N = (*T)->get("a", &Data, &Len) == 1
                  ? std::stoi(std::string(Data, Len))
                  : 0;
      ASSERT_EQ((*T)->put("a", std::to_string(N + 1)), 0);
      ASSERT_TRUE((*T)->commit());
    }
  };
  std::thread T1(Work, std::vector<std::string>{"a", "b"});
  std::thread T2(Work, std::vector<std::string>{"b", "a"});
  T1.join();
  T2.join();
  EXPECT_EQ(valueOf(S, "a"), "40000");
}

TEST(StateStoreTest, ALinearizableReadThatChangedConflicts) {
  MemoryStateStore S;
  StateLockTable Locks({"a"});
  ASSERT_TRUE(S.applyWrites({{"a", "1"}}));
  auto T = StateTransaction::begin(S, Locks, {"a"});
  ASSERT_TRUE(T);
  int Code = 0;
  EXPECT_EQ(hostGet((*T)->host(), "a", &Code), "1");
  // Another process writes "a" between the read and the commit.
  ASSERT_TRUE(S.applyWrites({{"a", "5"}}));
  EXPECT_EQ(hostPut((*T)->host(), "a", "2"), 0);
  auto C = (*T)->commit();
  ASSERT_TRUE(C);
  EXPECT_EQ(*C, CommitStatus::Conflict);
  EXPECT_EQ(valueOf(S, "a"), "5");
}

TEST(StateStoreTest, EventualStateIsCachedAndLastWriterWins) {
  MemoryStateStore S;
  StateLockTable Locks({"e"});
  Locks.markEventual({"e"});
  ASSERT_TRUE(S.applyWrites({{"e", "1"}}));
  int Code = 0;
  {
    auto T = StateTransaction::begin(S, Locks, {"e"});
    ASSERT_TRUE(T);
    EXPECT_EQ(hostGet((*T)->host(), "e", &Code), "1");
  }
  // A write by another process is not seen while the cache is fresh...
  ASSERT_TRUE(S.applyWrites({{"e", "7"}}));
  auto T = StateTransaction::begin(S, Locks, {"e"});
  ASSERT_TRUE(T);
  EXPECT_EQ(hostGet((*T)->host(), "e", &Code), "1");
  // ...and a write over it is applied without a version check.
  EXPECT_EQ(hostPut((*T)->host(), "e", "2"), 0);
  auto C = (*T)->commit();
  ASSERT_TRUE(C);
  EXPECT_EQ(*C, CommitStatus::Committed);
  EXPECT_EQ(valueOf(S, "e"), "2");
  T->reset();
  // The cache holds the value this process wrote.
  auto U = StateTransaction::begin(S, Locks, {"e"});
  ASSERT_TRUE(U);
  EXPECT_EQ(hostGet((*U)->host(), "e", &Code), "2");
}

TEST(StateStoreTest, AMapStoredPerKeyIsUsedOneKeyAtATime) {
  MemoryStateStore S;
  StateLockTable Locks({"m", "whole"});
  Locks.markKeyed({"m"});
  ASSERT_TRUE(S.applyWrites({{"m/a", "1"}}));
  auto T = StateTransaction::begin(S, Locks, {"m", "whole"});
  ASSERT_TRUE(T);
  const cleave_host_v1 *Host = (*T)->host();
  int Code = 0;
  EXPECT_EQ(hostGet(Host, "m/a", &Code), "1");
  EXPECT_EQ(hostGet(Host, "m/b", &Code), "<0>");
  EXPECT_EQ(hostGet(Host, "m/x/y", &Code), "<0>"); // a key with a slash
  // The map itself, and a key of a variable stored whole, are refused.
  EXPECT_EQ(hostGet(Host, "m", &Code), "<-1>");
  EXPECT_NE((*T)->lastError().find("'m' is not listed"), std::string::npos);
  EXPECT_EQ(hostGet(Host, "whole/a", &Code), "<-1>");
  EXPECT_EQ(hostPut(Host, "m/b", "2"), 0);
  EXPECT_EQ(hostPut(Host, "m/a", ""), 0); // an erased entry
  auto C = (*T)->commit();
  ASSERT_TRUE(C);
  EXPECT_EQ(*C, CommitStatus::Committed);
  EXPECT_EQ(valueOf(S, "m/b"), "2");
  EXPECT_EQ(valueOf(S, "m/a"), "");
}

TEST(StateStoreTest, KeysTakeNoLock) {
  MemoryStateStore S;
  StateLockTable Locks({"m", "whole"});
  Locks.markKeyed({"m"});
  // On one thread: a second transaction over the same whole variable would
  // wait forever, over the same map stored per key it does not wait.
  auto T = StateTransaction::begin(S, Locks, {"m"});
  ASSERT_TRUE(T);
  auto U = StateTransaction::begin(S, Locks, {"m"});
  ASSERT_TRUE(U);
  // Two steps write one key: the one that commits second read a version
  // that changed, and runs again.
  int Code = 0;
  EXPECT_EQ(hostGet((*T)->host(), "m/k", &Code), "<0>");
  EXPECT_EQ(hostGet((*U)->host(), "m/k", &Code), "<0>");
  EXPECT_EQ(hostPut((*T)->host(), "m/k", "1"), 0);
  EXPECT_EQ(hostPut((*U)->host(), "m/k", "2"), 0);
  auto First = (*T)->commit();
  ASSERT_TRUE(First);
  EXPECT_EQ(*First, CommitStatus::Committed);
  auto Second = (*U)->commit();
  ASSERT_TRUE(Second);
  EXPECT_EQ(*Second, CommitStatus::Conflict);
  EXPECT_EQ(valueOf(S, "m/k"), "1");
}

TEST(StateStoreTest, AKeyReadWithoutWritesIsStillChecked) {
  // A step that only reads two keys must have seen one snapshot: without
  // a lock, its reads are checked when it commits.
  MemoryStateStore S;
  StateLockTable Locks({"m"});
  Locks.markKeyed({"m"});
  ASSERT_TRUE(S.applyWrites({{"m/a", "1"}, {"m/b", "1"}}));
  auto T = StateTransaction::begin(S, Locks, {"m"});
  ASSERT_TRUE(T);
  int Code = 0;
  EXPECT_EQ(hostGet((*T)->host(), "m/a", &Code), "1");
  ASSERT_TRUE(S.applyWrites({{"m/a", "0"}, {"m/b", "2"}}));
  EXPECT_EQ(hostGet((*T)->host(), "m/b", &Code), "2");
  auto C = (*T)->commit();
  ASSERT_TRUE(C);
  EXPECT_EQ(*C, CommitStatus::Conflict);
}

TEST(StateStoreTest, EventualKeysAreCachedPerKey) {
  MemoryStateStore S;
  StateLockTable Locks({"e"});
  Locks.markKeyed({"e"});
  Locks.markEventual({"e"});
  EXPECT_TRUE(Locks.isEventual("e/a"));
  EXPECT_EQ(Locks.variableOf("e/a/b"), "e");
  ASSERT_TRUE(S.applyWrites({{"e/a", "1"}}));
  int Code = 0;
  {
    auto T = StateTransaction::begin(S, Locks, {"e"});
    ASSERT_TRUE(T);
    EXPECT_EQ(hostGet((*T)->host(), "e/a", &Code), "1");
  }
  ASSERT_TRUE(S.applyWrites({{"e/a", "7"}}));
  auto T = StateTransaction::begin(S, Locks, {"e"});
  ASSERT_TRUE(T);
  EXPECT_EQ(hostGet((*T)->host(), "e/a", &Code), "1"); // from the cache
  EXPECT_EQ(hostGet((*T)->host(), "e/b", &Code), "<0>");
  EXPECT_EQ(hostPut((*T)->host(), "e/a", "2"), 0);
  auto C = (*T)->commit();
  ASSERT_TRUE(C);
  EXPECT_EQ(*C, CommitStatus::Committed); // last writer wins
  EXPECT_EQ(valueOf(S, "e/a"), "2");
}

} // namespace
