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

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cleave::rt {

/// A store of named JSON values. Implementations are thread-safe.
class StateStore {
public:
  virtual ~StateStore();

  /// The JSON text stored for \p Name, std::nullopt when the store holds no
  /// value for it (the handler then starts from the variable's initializer),
  /// or an Error when the backend fails.
  virtual Result<std::optional<std::string>> get(std::string_view Name) = 0;

  /// Stores every (name, JSON text) pair, all or none: no reader ever sees
  /// some of the writes without the others.
  virtual Result<void> applyWrites(
      const std::vector<std::pair<std::string, std::string>> &Writes) = 0;
};

/// A StateStore in process memory, for tests and single-process runs;
/// everything is lost when the process exits.
class MemoryStateStore final : public StateStore {
public:
  Result<std::optional<std::string>> get(std::string_view Name) override;
  Result<void> applyWrites(
      const std::vector<std::pair<std::string, std::string>> &Writes) override;

private:
  std::mutex Mutex;
  std::unordered_map<std::string, std::string> Values;
};

/// One mutex per state variable, created up front for every name the
/// manifest mentions, so that taking a lock never has to modify the table
/// (and needs no lock of its own).
class StateLockTable {
public:
  explicit StateLockTable(const std::vector<std::string> &Names);

  /// Locks \p Names (sorted, without duplicates) in order. Every caller
  /// locking in the same order is what rules out deadlock. Fails, locking
  /// nothing, if a name is not in the table.
  Result<std::vector<std::unique_lock<std::mutex>>>
  lockAll(const std::vector<std::string> &Names);

private:
  std::map<std::string, std::mutex, std::less<>> Mutexes;
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

  /// Applies the buffered writes atomically. An invocation that wrote
  /// nothing commits without touching the store.
  Result<void> commit();

  /// Why the last get() or put() returned -1, for the server's log; empty
  /// if none did.
  const std::string &lastError() const { return LastError; }

private:
  StateTransaction(StateStore &Store, std::vector<std::string> Names,
                   std::vector<std::unique_lock<std::mutex>> Held);

  bool isLocked(std::string_view Name) const;
  /// Records why \p Name may not be used and returns the ABI's -1.
  int refuseUnlisted(std::string_view Name);

  StateStore &Store;
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
  std::string LastError;
};

} // namespace cleave::rt

#endif // CLEAVE_STATESTORE_H
