//===- StateStore.h - Program state held for handlers -----------*- C++ -*-===//
//
// CLEAVE_STATE variables live in a state store, keyed by the variable's
// qualified name, as JSON text. The store interface is deliberately small
// (read one value, apply a batch of writes atomically) so the durable
// backends that come later (SQLite, Redis) fit under it unchanged.
//
// Isolation between concurrent invocations is not the store's job: a
// StateTransaction locks every variable a function may touch, in one global
// order, for the whole call, and buffers the call's writes until it commits.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_STATESTORE_H
#define CLEAVE_STATESTORE_H

#include "cleave/Result.h"
#include "cleave/abi.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cleave::rt {

/// A value and the version it was read at. Version 0 means the store holds
/// no value for the key; every committed write of a key increments it.
struct Versioned {
  std::optional<std::string> Value;
  uint64_t Version = 0;
};

/// A queued step, kept in the store until the step that consumes it
/// commits: what a restarted runtime resumes.
///
/// Ids are unique: enqueueing an id that is still queued is a caller error.
/// The durable stores then keep only the later message, at the end of the
/// queue; MemoryStateStore keeps both.
struct Message {
  std::string Id;   ///< unique: "<invocation>/<step number>"
  std::string Body; ///< opaque to the store
};

/// Everything one step commits, applied atomically (all or nothing):
///   - Expect: every key still has the version the step read (0: absent);
///   - Done: none of these dedup ids is recorded yet; they are recorded;
///   - Writes: new values, each key's version incremented;
///   - Consume: every one of these messages is still queued; they leave the
///     queue. A message is consumed once, so the step that consumes it
///     commits once, and no record of that is left behind;
///   - Dequeue / Enqueue: the step's own message leaves the queue, the next
///     steps' messages enter it;
///   - Meta: bookkeeping records (idempotency responses, joins), written
///     without version checks; an empty value erases the record;
///   - MetaExpect: every one of these records still holds the given value
///     (std::nullopt: is absent), a compare-and-set on bookkeeping;
///   - Forget: these dedup ids are erased, whether recorded or not (what
///     an expired idempotency key leaves behind).
/// Expect and MetaExpect are checked first (Conflict), then Done and
/// Consume (Duplicate).
struct CommitRequest {
  std::vector<std::pair<std::string, uint64_t>> Expect;
  std::vector<std::string> Done;
  /// An id listed twice in one request is consumed once, as with Done.
  std::vector<std::string> Consume;
  std::vector<std::pair<std::string, std::string>> Writes;
  std::vector<std::string> Dequeue;
  std::vector<Message> Enqueue;
  std::vector<std::pair<std::string, std::string>> Meta;
  std::vector<std::pair<std::string, std::optional<std::string>>> MetaExpect;
  std::vector<std::string> Forget;
};

enum class CommitStatus {
  Committed,
  Conflict,  ///< an Expect version did not match: nothing was applied
  Duplicate, ///< a Done id was already recorded, or a message to consume
             ///< was not queued: nothing was applied
};

/// How many records StateStore::scanMeta reads per batch.
constexpr size_t MetaScanBatch = 1000;

/// A store of state values (JSON text, keyed by a variable's qualified name,
/// or "name/<key>" for a map stored per key, where an empty value records
/// an erased entry), with the queue of pending
/// steps and the runtime's bookkeeping beside them, so that one atomic
/// commit covers a step's state writes, its next message and its dedup
/// record. Implementations are thread-safe.
class StateStore {
public:
  virtual ~StateStore();

  /// The value stored for \p Key with its version, or an Error when the
  /// backend fails.
  virtual Result<Versioned> read(std::string_view Key) = 0;

  /// Applies \p C atomically, or reports why it did not.
  virtual Result<CommitStatus> commit(const CommitRequest &C) = 0;

  /// Every queued message, in the order they were enqueued.
  virtual Result<std::vector<Message>> pending() = 0;

  /// A bookkeeping record written through CommitRequest::Meta.
  virtual Result<std::optional<std::string>> meta(std::string_view Key) = 0;

  /// Every state value whose key starts with \p Prefix, sorted by key.
  virtual Result<std::vector<std::pair<std::string, std::string>>>
  list(std::string_view Prefix) = 0;

  /// Calls \p Visit with every bookkeeping record whose key starts with
  /// \p Prefix, a batch at a time, without the store's lock held between
  /// batches (\p Visit may commit). Records written or erased meanwhile
  /// may be seen or not, and Redis may show one twice and in no order; the
  /// caller, a sweep that comes back, allows it. An Error by default: a
  /// store that cannot list its records keeps expired idempotency keys.
  using MetaVisitor =
      std::function<void(const std::string &Key, const std::string &Value)>;
  virtual Result<void> scanMeta(std::string_view Prefix,
                                const MetaVisitor &Visit);

  /// Whether the store can take requests now. An SQLite store whose file
  /// was deleted or replaced under the running server is not: what it
  /// acknowledged would vanish at the next start. The server answers 503
  /// while this fails.
  virtual Result<void> healthy();

  /// Calls \p Then once every commit made before this call would survive
  /// a power cut, or with the Error that stopped that: an answer built on
  /// state goes out only then. At once by default (and for SQLite in the
  /// default durability); an SQLite store with --durability=fsync calls it
  /// from its syncer thread after the next sync of its WAL.
  virtual void whenDurable(std::function<void(Result<void>)> Then);

  /// The value for \p Key, std::nullopt when there is none.
  Result<std::optional<std::string>> get(std::string_view Key);

  /// Stores every (key, JSON text) pair atomically, without version checks.
  Result<void>
  applyWrites(const std::vector<std::pair<std::string, std::string>> &Writes);
};

/// A StateStore in process memory, for tests and single-process runs;
/// everything is lost when the process exits.
class MemoryStateStore final : public StateStore {
public:
  Result<Versioned> read(std::string_view Key) override;
  Result<CommitStatus> commit(const CommitRequest &C) override;
  Result<std::vector<Message>> pending() override;
  Result<std::optional<std::string>> meta(std::string_view Key) override;
  Result<std::vector<std::pair<std::string, std::string>>>
  list(std::string_view Prefix) override;
  Result<void> scanMeta(std::string_view Prefix,
                        const MetaVisitor &Visit) override;

private:
  std::mutex Mutex;
  std::map<std::string, Versioned, std::less<>> Values;
  std::set<std::string, std::less<>> Done;
  std::vector<Message> Queue;
  std::map<std::string, std::string, std::less<>> Meta;
};

/// The SQLite backend: one database file in WAL mode (tables `state`,
/// `message`: the queue and the dedup ids, `meta`); each commit is one
/// SQLite transaction. Creates the file and its parent directories if missing; refuses a file that is
/// not a Cleave state database or has another schema version. A commit
/// survives the process being killed; an OS crash may lose the last ones
/// (synchronous=NORMAL).
/// Created with openSqliteStore.
///
/// The file (and its -wal and -shm companions) is made 0600, and a folder it
/// creates 0700: state is the program's data. At open, SQLite's quick_check
/// reads the whole file: a damaged one is refused, naming what is wrong,
/// unless \p CheckIntegrity is false (cleave-run --skip-integrity-check).
/// With \p Fsync, whenDurable() calls back once the commits before it are
/// synced to disk, and one sync covers every commit written while the one
/// before ran (group commit); without it, a commit survives the process
/// but not a power cut.
Result<std::unique_ptr<StateStore>>
openSqliteStore(const std::string &Path, bool CheckIntegrity = true,
                bool Fsync = false);

/// The Redis backend, through hiredis: every key under "cleave:" (state
/// values and versions in hashes "cleave:s:<key>", the queue in a hash,
/// dedup ids in a set), each commit one Lua script (atomic on the server).
/// Fails if the server cannot be reached.
Result<std::unique_ptr<StateStore>> openRedisStore(const std::string &Host,
                                                   int Port);

/// Opens the store named by a `--state` option: "memory",
/// "sqlite:PATH" (or a path ending in .db), or "redis://HOST:PORT".
/// \p Fsync asks for commits synced to disk before they return; only
/// SQLite offers it (an error otherwise).
Result<std::unique_ptr<StateStore>> openStateStore(const std::string &Spec,
                                                   bool CheckIntegrity = true,
                                                   bool Fsync = false);

/// Waits before attempt \p Attempt + 1 of a step whose commit conflicted:
/// a random time, up to 50 µs doubled per attempt, so that steps racing for
/// one key do not collide again in lockstep.
void backOffAfterConflict(unsigned Attempt);

/// One mutex per state variable, created up front for every name the
/// manifest mentions, so that taking a lock never has to modify the table
/// (and needs no lock of its own).
class StateLockTable {
public:
  explicit StateLockTable(const std::vector<std::string> &Names);

  /// Locks \p Names (sorted, without duplicates) in order, except maps
  /// stored per key. Every caller locking in the same order is what rules
  /// out deadlock. Fails, locking nothing, if a name is not in the table.
  Result<std::vector<std::unique_lock<std::mutex>>>
  lockAll(const std::vector<std::string> &Names);

  /// Marks \p Names as `consistency=eventual`: their reads are served from
  /// a cache beside the workers, refreshed from the store when older than
  /// the cache's lifetime, and their writes are applied last-writer-wins
  /// (no version check).
  void markEventual(const std::vector<std::string> &Names);
  bool isEventual(std::string_view Name) const {
    return Eventual.count(variableOf(Name)) != 0;
  }

  /// Marks \p Names as maps stored per key (granularity `key`): their
  /// values live under "name/<key>", no mutex is taken for them, and a
  /// step's reads of them are checked by version when it commits
  /// (optimistic: a conflict runs the step again).
  void markKeyed(const std::vector<std::string> &Names);
  bool isKeyed(std::string_view Name) const { return Keyed.count(Name) != 0; }
  /// The variable a store key belongs to: "stock" for "stock/apple" when
  /// stock is stored per key, else the key itself.
  std::string_view variableOf(std::string_view Key) const;
  /// Whether \p Key is one key of a map stored per key ("stock/apple").
  bool isKey(std::string_view Key) const {
    return variableOf(Key).size() != Key.size();
  }
  /// The cached value of an eventual variable, if fresh; \p Present tells
  /// whether the store held one.
  bool cached(std::string_view Name, std::string &Value, bool &Present);
  void cache(std::string_view Name, std::optional<std::string> Value);

private:
  std::map<std::string, std::mutex, std::less<>> Mutexes;
  std::set<std::string, std::less<>> Eventual;
  std::set<std::string, std::less<>> Keyed;
  struct Cached {
    std::optional<std::string> Value;
    std::chrono::steady_clock::time_point Loaded;
  };
  std::mutex CacheMutex;
  std::map<std::string, Cached, std::less<>> Cache;
};

/// The state side of one invocation: holds the locks on the variables the
/// function may use, answers the handler's reads (its own earlier writes
/// first, then the store), buffers its writes, and applies them to the store
/// on commit(). Destroying it without commit() discards the writes; either
/// way the locks are released on destruction.
class StateTransaction {
public:
  /// Locks \p Names (any order, duplicates allowed) in \p Locks.
  static Result<std::unique_ptr<StateTransaction>>
  begin(StateStore &Store, StateLockTable &Locks,
        std::vector<std::string> Names);

  StateTransaction(const StateTransaction &) = delete;
  StateTransaction &operator=(const StateTransaction &) = delete;

  /// The host callback table to pass in cleave_call_v1::host. Valid as long
  /// as this transaction.
  const cleave_host_v1 *host() const { return &Host; }

  /// The same operations as the host callbacks, with their return codes.
  int get(std::string_view Name, const char **Data, size_t *Len);
  int put(std::string_view Name, std::string_view Value);

  /// Applies the buffered writes atomically, together with \p With (the
  /// runtime's queue and dedup records), provided that no value this
  /// transaction read has changed since (CommitStatus::Conflict: nothing is
  /// applied, and the step runs again). A transaction with nothing to apply
  /// commits without touching the store.
  Result<CommitStatus> commit(CommitRequest With = {});

  /// Why the last get() or put() returned -1, for the server's log; empty
  /// if none did.
  const std::string &lastError() const { return LastError; }

private:
  StateTransaction(StateStore &Store, StateLockTable &Locks,
                   std::vector<std::string> Names,
                   std::vector<std::unique_lock<std::mutex>> Held);

  bool isLocked(std::string_view Name) const;
  /// Records why \p Name may not be used and returns the ABI's -1.
  int refuseUnlisted(std::string_view Name);

  StateStore &Store;
  StateLockTable &Locks;
  std::vector<std::string> Names; // Sorted; the variables locked.
  std::vector<std::unique_lock<std::mutex>> Held;
  cleave_host_v1 Host;
  /// Every value read or written. The ABI promises that a value get()
  /// hands out stays valid until the handler returns, even if the handler
  /// writes the variable again, so no value is freed before the transaction
  /// ends (a deque never moves its elements).
  std::deque<std::string> Texts;
  /// The latest write per variable, in name order.
  std::map<std::string, const std::string *, std::less<>> Writes;
  /// Values read from the store, each read at most once per transaction.
  std::map<std::string, const std::string *, std::less<>> ReadCache;
  /// The version of every value read, absent ones included.
  std::map<std::string, uint64_t, std::less<>> Seen;
  /// A key of a map stored per key was read: check Seen even without writes.
  bool CheckReads = false;
  std::string LastError;
};

} // namespace cleave::rt

#endif // CLEAVE_STATESTORE_H
