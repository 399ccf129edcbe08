//===- StateStore.cpp - Program state held for handlers -------------------===//

#include "cleave/StateStore.h"

#include <fmt/format.h>

#include <algorithm>

namespace cleave::rt {

StateStore::~StateStore() = default;

//===----------------------------------------------------------------------===//
// MemoryStateStore
//===----------------------------------------------------------------------===//

Result<std::optional<std::string>>
MemoryStateStore::get(std::string_view Name) {
  std::lock_guard<std::mutex> Lock(Mutex);
  auto It = Values.find(std::string(Name));
  if (It == Values.end())
    return std::optional<std::string>();
  return std::optional<std::string>(It->second);
}

Result<void> MemoryStateStore::applyWrites(
    const std::vector<std::pair<std::string, std::string>> &Writes) {
  std::lock_guard<std::mutex> Lock(Mutex);
  for (const auto &[Name, Value] : Writes)
    Values[Name] = Value;
  return Result<void>::success();
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
    Order.push_back(&It->second);
  }
  std::vector<std::unique_lock<std::mutex>> Held;
  Held.reserve(Order.size());
  for (std::mutex *M : Order)
    Held.emplace_back(*M);
  return Held;
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
      new StateTransaction(Store, std::move(Names), Held.take()));
}

StateTransaction::StateTransaction(
    StateStore &Store, std::vector<std::string> Names,
    std::vector<std::unique_lock<std::mutex>> Held)
    : Store(Store), Names(std::move(Names)), Held(std::move(Held)) {
  Host.ctx = this;
  Host.state_get = hostStateGet;
  Host.state_put = hostStatePut;
}

bool StateTransaction::isLocked(std::string_view Name) const {
  return std::binary_search(Names.begin(), Names.end(), Name);
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
      Result<std::optional<std::string>> Value = Store.get(Name);
      if (!Value) {
        LastError = fmt::format("cannot read state '{}': {}", Name,
                                Value.error().message());
        return -1;
      }
      if (!*Value)
        return 0;
      Texts.push_back(std::move(**Value));
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

Result<void> StateTransaction::commit() {
  if (Writes.empty())
    return Result<void>::success();
  std::vector<std::pair<std::string, std::string>> Batch;
  Batch.reserve(Writes.size());
  for (const auto &[Name, Value] : Writes)
    Batch.emplace_back(Name, *Value);
  Result<void> Applied = Store.applyWrites(Batch);
  if (Applied)
    Writes.clear();
  return Applied;
}

} // namespace cleave::rt
