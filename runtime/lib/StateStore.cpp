//===- StateStore.cpp - Program state held for handlers -------------------===//

#include "cleave/StateStore.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <random>
#include <thread>

namespace cleave::rt {

StateStore::~StateStore() = default;

//===----------------------------------------------------------------------===//
// MemoryStateStore
//===----------------------------------------------------------------------===//

Result<std::optional<std::string>> StateStore::get(std::string_view Key) {
  Result<Versioned> V = read(Key);
  if (!V)
    return V.error();
  return std::move(V->Value);
}

Result<void> StateStore::applyWrites(
    const std::vector<std::pair<std::string, std::string>> &Writes) {
  CommitRequest C;
  C.Writes = Writes;
  Result<CommitStatus> S = commit(C);
  if (!S)
    return S.error();
  return Result<void>::success();
}

Result<Versioned> MemoryStateStore::read(std::string_view Key) {
  std::lock_guard<std::mutex> Lock(Mutex);
  auto It = Values.find(Key);
  if (It == Values.end())
    return Versioned{};
  return It->second;
}

Result<CommitStatus> MemoryStateStore::commit(const CommitRequest &C) {
  std::lock_guard<std::mutex> Lock(Mutex);
  for (const auto &[Key, Version] : C.Expect) {
    auto It = Values.find(Key);
    if ((It == Values.end() ? 0 : It->second.Version) != Version)
      return CommitStatus::Conflict;
  }
  for (const auto &[Key, Value] : C.MetaExpect) {
    auto It = Meta.find(Key);
    if (It == Meta.end() ? Value.has_value() : It->second != Value)
      return CommitStatus::Conflict;
  }
  for (const std::string &Id : C.Done)
    if (Done.count(Id))
      return CommitStatus::Duplicate;
  for (const std::string &Id : C.Consume)
    if (std::none_of(Queue.begin(), Queue.end(),
                     [&](const Message &M) { return M.Id == Id; }))
      return CommitStatus::Duplicate;
  for (const std::string &Id : C.Forget)
    Done.erase(Id);
  Done.insert(C.Done.begin(), C.Done.end());
  for (const auto &[Key, Value] : C.Writes) {
    Versioned &V = Values[Key];
    V.Value = Value;
    ++V.Version;
  }
  for (const std::string &Id : C.Consume)
    Queue.erase(std::remove_if(Queue.begin(), Queue.end(),
                               [&](const Message &M) { return M.Id == Id; }),
                Queue.end());
  for (const std::string &Id : C.Dequeue)
    Queue.erase(std::remove_if(Queue.begin(), Queue.end(),
                               [&](const Message &M) { return M.Id == Id; }),
                Queue.end());
  Queue.insert(Queue.end(), C.Enqueue.begin(), C.Enqueue.end());
  for (const auto &[Key, Value] : C.Meta) {
    if (Value.empty())
      Meta.erase(Key);
    else
      Meta[Key] = Value;
  }
  return CommitStatus::Committed;
}

Result<std::vector<Message>> MemoryStateStore::pending() {
  std::lock_guard<std::mutex> Lock(Mutex);
  return Queue;
}

Result<std::optional<std::string>>
MemoryStateStore::meta(std::string_view Key) {
  std::lock_guard<std::mutex> Lock(Mutex);
  auto It = Meta.find(Key);
  if (It == Meta.end())
    return std::optional<std::string>();
  return std::optional<std::string>(It->second);
}

Result<std::vector<std::pair<std::string, std::string>>>
MemoryStateStore::list(std::string_view Prefix) {
  std::lock_guard<std::mutex> Lock(Mutex);
  std::vector<std::pair<std::string, std::string>> Out;
  for (auto It = Values.lower_bound(Prefix);
       It != Values.end() && std::string_view(It->first).substr(0, Prefix.size()) == Prefix;
       ++It)
    if (It->second.Value)
      Out.emplace_back(It->first, *It->second.Value);
  return Out;
}

Result<void> MemoryStateStore::scanMeta(std::string_view Prefix,
                                        const MetaVisitor &Visit) {
  std::vector<std::pair<std::string, std::string>> Batch;
  std::string After;
  do {
    Batch.clear();
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      auto It = After.empty() ? Meta.lower_bound(Prefix)
                              : Meta.upper_bound(After);
      for (; It != Meta.end() && Batch.size() < MetaScanBatch &&
             std::string_view(It->first).starts_with(Prefix);
           ++It)
        Batch.emplace_back(It->first, It->second);
    }
    for (const auto &[Key, Value] : Batch)
      Visit(Key, Value);
    if (!Batch.empty())
      After = Batch.back().first;
  } while (Batch.size() == MetaScanBatch);
  return {};
}

void backOffAfterConflict(unsigned Attempt) {
  thread_local std::minstd_rand Random(std::random_device{}());
  unsigned Limit = 50u << std::min(Attempt, 10u);
  std::this_thread::sleep_for(
      std::chrono::microseconds(Random() % (Limit + 1)));
}

//===----------------------------------------------------------------------===//
// StateLockTable
//===----------------------------------------------------------------------===//

StateLockTable::StateLockTable(const std::vector<std::string> &Names) {
  for (const std::string &N : Names)
    Mutexes.try_emplace(N);
}

Result<std::vector<std::unique_lock<std::mutex>>>
StateLockTable::lockAll(const std::vector<std::string> &Names) {
  std::vector<std::mutex *> Order;
  for (const std::string &N : Names) {
    auto It = Mutexes.find(N);
    if (It == Mutexes.end())
      return Error(fmt::format("no lock for state variable '{}'", N));
    if (!isKeyed(N))
      Order.push_back(&It->second);
  }
  std::vector<std::unique_lock<std::mutex>> Held;
  Held.reserve(Order.size());
  for (std::mutex *M : Order)
    Held.emplace_back(*M);
  return Held;
}

namespace {
/// How long a cached eventual value is served before the store is asked
/// again: the staleness another process's writes may see.
constexpr std::chrono::milliseconds CacheLifetime(1000);
} // namespace

void StateLockTable::markEventual(const std::vector<std::string> &Names) {
  Eventual.insert(Names.begin(), Names.end());
}

void StateLockTable::markKeyed(const std::vector<std::string> &Names) {
  Keyed.insert(Names.begin(), Names.end());
}

std::string_view StateLockTable::variableOf(std::string_view Key) const {
  if (Keyed.empty())
    return Key;
  size_t Slash = Key.find('/');
  if (Slash != std::string_view::npos && isKeyed(Key.substr(0, Slash)))
    return Key.substr(0, Slash);
  return Key;
}

bool StateLockTable::cached(std::string_view Name, std::string &Value,
                            bool &Present) {
  std::lock_guard<std::mutex> L(CacheMutex);
  auto It = Cache.find(Name);
  if (It == Cache.end() ||
      std::chrono::steady_clock::now() - It->second.Loaded > CacheLifetime)
    return false;
  Present = It->second.Value.has_value();
  if (Present)
    Value = *It->second.Value;
  return true;
}

void StateLockTable::cache(std::string_view Name,
                           std::optional<std::string> Value) {
  std::lock_guard<std::mutex> L(CacheMutex);
  Cache.insert_or_assign(std::string(Name),
                         Cached{std::move(Value), std::chrono::steady_clock::now()});
}

//===----------------------------------------------------------------------===//
// StateTransaction
//===----------------------------------------------------------------------===//

namespace {

// The host callbacks run inside handler code: nothing may be thrown through
// them, so every failure, allocation included, becomes the -1 return code.
int hostStateGet(void *Ctx, const char *Name, const char **Data, size_t *Len) {
  if (!Ctx || !Name || !Data || !Len)
    return -1;
  try {
    return static_cast<StateTransaction *>(Ctx)->get(Name, Data, Len);
  } catch (...) {
    return -1;
  }
}

int hostStatePut(void *Ctx, const char *Name, const char *Data, size_t Len) {
  if (!Ctx || !Name || (!Data && Len != 0))
    return -1;
  try {
    return static_cast<StateTransaction *>(Ctx)->put(
        Name, std::string_view(Data ? Data : "", Len));
  } catch (...) {
    return -1;
  }
}

} // namespace

Result<std::unique_ptr<StateTransaction>>
StateTransaction::begin(StateStore &Store, StateLockTable &Locks,
                        std::vector<std::string> Names) {
  std::sort(Names.begin(), Names.end());
  Names.erase(std::unique(Names.begin(), Names.end()), Names.end());
  auto Held = Locks.lockAll(Names);
  if (!Held)
    return Held.error();
  return std::unique_ptr<StateTransaction>(
      new StateTransaction(Store, Locks, std::move(Names), Held.take()));
}

StateTransaction::StateTransaction(
    StateStore &Store, StateLockTable &Locks, std::vector<std::string> Names,
    std::vector<std::unique_lock<std::mutex>> Held)
    : Store(Store), Locks(Locks), Names(std::move(Names)),
      Held(std::move(Held)) {
  Host.ctx = this;
  Host.state_get = hostStateGet;
  Host.state_put = hostStatePut;
}

bool StateTransaction::isLocked(std::string_view Name) const {
  // A map stored per key is used one key at a time, never whole.
  std::string_view Var = Locks.variableOf(Name);
  if (Locks.isKey(Name) != Locks.isKeyed(Var))
    return false;
  return std::binary_search(Names.begin(), Names.end(), Var);
}

int StateTransaction::refuseUnlisted(std::string_view Name) {
  // A variable the manifest does not list for this function is not locked,
  // so using it would race with other invocations. Refusing makes a
  // manifest that under-reports state fail loudly instead of corrupting it.
  LastError = fmt::format(
      "state '{}' is not listed for this function in the manifest", Name);
  return -1;
}

int StateTransaction::get(std::string_view Name, const char **Data,
                          size_t *Len) {
  if (!isLocked(Name))
    return refuseUnlisted(Name);
  // Read your own writes: a handler that writes then reads sees the write.
  auto Found = Writes.find(Name);
  if (Found == Writes.end()) {
    Found = ReadCache.find(Name);
    if (Found == ReadCache.end()) {
      // Eventual state comes from the cache while it is fresh, and is
      // written back without a version check.
      if (Locks.isEventual(Name)) {
        std::string Text;
        bool Present = false;
        if (Locks.cached(Name, Text, Present)) {
          if (!Present)
            return 0;
          Texts.push_back(std::move(Text));
          Found = ReadCache.emplace(std::string(Name), &Texts.back()).first;
          *Data = Found->second->data();
          *Len = Found->second->size();
          return 1;
        }
      }
      Result<Versioned> Value = Store.read(Name);
      if (!Value) {
        LastError = fmt::format("cannot read state '{}': {}", Name,
                                Value.error().message());
        return -1;
      }
      // The commit checks that nothing changed what this step read.
      if (Locks.isEventual(Name)) {
        Locks.cache(Name, Value->Value);
      } else {
        Seen.insert_or_assign(std::string(Name), Value->Version);
        // No mutex guards a key: its read is checked even if the step
        // writes nothing, so that what a step saw was one snapshot.
        if (Locks.isKey(Name))
          CheckReads = true;
      }
      if (!Value->Value)
        return 0;
      Texts.push_back(std::move(*Value->Value));
      Found = ReadCache.emplace(std::string(Name), &Texts.back()).first;
    }
  }
  *Data = Found->second->data();
  *Len = Found->second->size();
  return 1;
}

int StateTransaction::put(std::string_view Name, std::string_view Value) {
  if (!isLocked(Name))
    return refuseUnlisted(Name);
  Texts.emplace_back(Value);
  Writes.insert_or_assign(std::string(Name), &Texts.back());
  return 0;
}

Result<CommitStatus> StateTransaction::commit(CommitRequest With) {
  // Only what was written is checked: a step that only read commits nothing
  // of its own, and what it read was current when it read it.
  if (!Writes.empty() || CheckReads)
    for (const auto &[Name, Version] : Seen)
      With.Expect.emplace_back(Name, Version);
  With.Writes.reserve(With.Writes.size() + Writes.size());
  for (const auto &[Name, Value] : Writes)
    With.Writes.emplace_back(Name, *Value);
  if (With.Writes.empty() && With.Expect.empty() && With.Done.empty() &&
      With.Consume.empty() && With.Dequeue.empty() && With.Enqueue.empty() &&
      With.Meta.empty() && With.MetaExpect.empty() && With.Forget.empty())
    return CommitStatus::Committed;
  Result<CommitStatus> Applied = Store.commit(With);
  if (Applied && *Applied == CommitStatus::Committed) {
    for (const auto &[Name, Value] : Writes)
      if (Locks.isEventual(Name))
        Locks.cache(Name, *Value);
    Writes.clear();
  }
  return Applied;
}

//===----------------------------------------------------------------------===//
// Choosing a backend
//===----------------------------------------------------------------------===//

Result<void> StateStore::healthy() { return {}; }

Result<void> StateStore::scanMeta(std::string_view, const MetaVisitor &) {
  return Error("this state store cannot list its records");
}

void StateStore::whenDurable(std::function<void(Result<void>)> Then) {
  Then({});
}

Result<std::unique_ptr<StateStore>> openStateStore(const std::string &Spec,
                                                   bool CheckIntegrity,
                                                   bool Fsync) {
  std::string_view S = Spec;
  bool Sqlite = S.substr(0, 7) == "sqlite:" ||
                (S.size() > 3 && S.substr(S.size() - 3) == ".db");
  if (Fsync && !Sqlite)
    return Error(fmt::format(
        "--durability=fsync needs an SQLite store, not '{}'{}", Spec,
        S.substr(0, 8) == "redis://"
            ? " (for Redis, set 'appendfsync always' in its configuration)"
            : ""));
  if (S == "memory")
    return std::unique_ptr<StateStore>(new MemoryStateStore());
  if (S.substr(0, 8) == "redis://") {
    std::string_view HostPort = S.substr(8);
    while (!HostPort.empty() && HostPort.back() == '/')
      HostPort.remove_suffix(1);
    size_t Colon = HostPort.rfind(':');
    std::string Host(HostPort.substr(0, Colon));
    int Port = 6379;
    if (Colon != std::string_view::npos) {
      std::string_view P = HostPort.substr(Colon + 1);
      auto [End, Ec] = std::from_chars(P.data(), P.data() + P.size(), Port);
      if (Ec != std::errc() || End != P.data() + P.size() || Port <= 0 ||
          Port > 65535)
        return Error(fmt::format("invalid port in '{}'", Spec));
    }
    if (Host.empty())
      return Error(fmt::format("no host in '{}'", Spec));
    return openRedisStore(Host, Port);
  }
  if (S.substr(0, 7) == "sqlite:")
    return openSqliteStore(std::string(S.substr(7)), CheckIntegrity, Fsync);
  if (S.size() > 3 && S.substr(S.size() - 3) == ".db")
    return openSqliteStore(Spec, CheckIntegrity, Fsync);
  return Error(fmt::format("unknown state store '{}'; expected memory, "
                           "sqlite:PATH or redis://HOST:PORT",
                           Spec));
}

} // namespace cleave::rt
