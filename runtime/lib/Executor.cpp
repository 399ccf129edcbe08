//===- Executor.cpp - Run functions that were cut into steps -------------===//
//
// Durable chains (Options::Durable). Each step commits, in one atomic store
// commit, its state writes, the consumption of its own queued message, and
// what comes next:
//   - a call or a resume: the next step's message;
//   - a fan-out: a join record ("join/<id>": how many elements, and the
//     continuation to resume) and one message per element;
//   - the last step of a fan-out element, whatever its outcome: its status
//     and value ("join/<id>/<slot>") and an arrival message
//     ("arrive/<id>/<slot>");
//   - the last step of a chain with an idempotency key: the outcome
//     ("idem/<key>").
// Consuming a message that is gone makes the commit a duplicate, so each
// step commits once, a step recovered while another run of it was under
// way included, and no dedup record outlives the message. When every
// element of a fan-out is in, the join fires once, in a commit of its own
// that consumes the arrivals and erases the join's records: it queues the
// resume with every value, or, if an element failed, hands the first
// failure by slot to where the fanning-out chain's failure goes (a join
// further out, or the outcome). A finished invocation leaves nothing in the
// store but the outcome kept for its idempotency key (see run()).
//
// A position is "<prefix><seq>": steps of one chain (calls included) count
// up, and element i of a fan-out at position p starts a chain with prefix
// "<prefix>p.i:". A message is "<invocation>/<position>". recover() rebuilds
// the tasks of every queued message.
//
// Without durability none of this is built: a step commits its state
// writes only, and a step of a function without state opens no
// transaction, so a hop costs two step calls and their frames.
//
//===----------------------------------------------------------------------===//

#include "cleave/Executor.h"

#include "cleave/handler.h"

#include <fmt/format.h>

#include <atomic>
#include <cassert>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <tuple>

namespace cleave::rt {

/// Where a value goes when a chain returns: the caller's resume step, one
/// element of a fan-out, or the code that started the chain.
struct Executor::Cont {
  enum Kind { Resume, Element, Root } K = Root;
  // Resume
  int Machine = -1;
  uint32_t Step = 0;
  Bytes Frame;
  std::shared_ptr<Cont> Parent;
  // Element
  std::shared_ptr<Join> J;
  size_t Slot = 0;
  // Root
  std::function<void(Outcome)> Done;
  std::string IdempotencyKey;
};

/// The join of a fan-out: fires once, when the last element is in.
struct Executor::Join {
  size_t Count = 0;
  std::atomic<size_t> Pending{0};
  /// Each element's status and value, written by the element before it
  /// counts Pending down, read by the last one.
  std::vector<int> Statuses;
  std::vector<std::string> Results;
  /// Durable: an element's end is not in the store (its commit failed), so
  /// the join cannot fire before a restart runs the element again.
  std::atomic<bool> Unrecorded{false};
  /// Durable: an element's end is in the store but not at hand (another
  /// run of its step committed it), so the results come from the store.
  std::atomic<bool> InStore{false};
  std::shared_ptr<Cont> Then; ///< the fanning-out caller's resume
  // Durable joins: where the join and its resume are.
  std::string Id;
  std::string ThenPrefix;
  uint32_t ThenSeq = 0;
  /// Rebuilt after a crash: the results are in the store, and every arrival
  /// checks them all.
  bool Recovered = false;
};

/// Whether the end of a chain, its value or failure, is in the store, as a
/// durable join must know before it fires. Always Recorded without
/// durability.
enum class Executor::Ending : uint8_t {
  Recorded,   ///< committed with the chain's last step
  Unrecorded, ///< its commit failed: a restart runs the step again
  InStore,    ///< committed by another run of the step: not at hand
};

/// How a chain ended at a step (when it did).
struct Executor::StepResult {
  int Status = CLEAVE_STEP_ERROR;
  Bytes Value;
  Bytes Outs; ///< a value's or exception's in-out parameters
  Ending End = Ending::Recorded;
};

namespace {

std::string errorJson(const std::string &Message) {
  return codec::Json{{"error", Message}}.dump(
      -1, ' ', false, codec::Json::error_handler_t::replace);
}

using StackEntry = std::tuple<std::string, uint32_t, std::string>;

/// The continuation past every caller of a chain: a join or its start.
const Executor::Cont &chainEnd(const Executor::Cont &K) {
  const Executor::Cont *C = &K;
  while (C->K == Executor::Cont::Resume)
    C = C->Parent.get();
  return *C;
}

std::string arrivalId(const std::string &Join, size_t Slot) {
  return "arrive/" + Join + "/" + std::to_string(Slot);
}
std::string slotKey(const std::string &Join, size_t Slot) {
  return "join/" + Join + "/" + std::to_string(Slot);
}

/// What whoever waits on a chain hears when its join cannot fire durably.
std::string joinNotStored() {
  return errorJson("the state store failed at a join; the request is resumed "
                   "when the runtime restarts");
}

/// Whether a chain's end goes to its caller: a value, or an exception the
/// caller may catch. Any other failure skips the callers.
bool passesToCaller(int Status) {
  return Status == CLEAVE_STEP_DONE || Status == CLEAVE_STEP_THROW;
}

/// What the code that started a chain hears of an exception no caller took
/// (CLEAVE_STEP_THROW): the 500 the plain program gives.
void settle(int &Status, std::string &Value) {
  if (Status != CLEAVE_STEP_THROW)
    return;
  std::string Message, Type, What;
  if (!frame::decodeFrame(Value, Message, Type, What))
    Message = "an exception escaped, and its description is damaged";
  Status = CLEAVE_STEP_ERROR;
  Value = errorJson(Message);
}

/// A chain's end as a join or an idempotency key keeps it.
std::string outcomeRecord(int Status, std::string_view Value) {
  std::string Rec;
  frame::encodeFrame(Rec, int32_t(Status), std::string(Value));
  return Rec;
}

/// The host callbacks of a step whose function uses no state: every access
/// is refused, as a transaction over no variables refuses it.
const cleave_host_v1 StatelessHost = {
    nullptr, [](void *, const char *, const char **, size_t *) { return -1; },
    [](void *, const char *, const char *, size_t) { return -1; }};

} // namespace

Executor::Executor(const Module &Mod, StateStore &Store, StateLockTable &Locks,
                   std::vector<MachineInfo> Machines, Options Opts)
    : Mod(Mod), Store(Store), Locks(Locks), Machines(std::move(Machines)),
      Opts(Opts) {
  IdSeed = std::random_device{}() ^
           (static_cast<uint64_t>(std::random_device{}()) << 32) ^
           static_cast<uint64_t>(
               std::chrono::steady_clock::now().time_since_epoch().count());
  unsigned Workers = Opts.Workers ? Opts.Workers : 1;
  for (unsigned I = 0; I < Workers; ++I)
    Threads.emplace_back([this] { work(); });
  if (Opts.Durable)
    OrphanThread = std::thread([this] { resumeOrphans(); });
}

void Executor::orphan(const std::string &MessageId) {
  {
    std::lock_guard<std::mutex> L(OrphansMutex);
    Orphans.insert(MessageId);
  }
  OrphansWake.notify_all();
}

void Executor::resumeOrphans() {
  auto Pause = std::chrono::seconds(1);
  std::unique_lock<std::mutex> L(OrphansMutex);
  for (;;) {
    OrphansWake.wait_for(L, Pause);
    {
      std::lock_guard<std::mutex> Q(QueueMutex);
      if (Stopping)
        return;
    }
    if (Orphans.empty()) {
      Pause = std::chrono::seconds(1);
      continue;
    }
    L.unlock();
    Result<std::vector<Message>> Pending = Store.pending();
    L.lock();
    if (!Pending) {
      Pause = std::min(Pause * 2, std::chrono::seconds(30));
      continue;
    }
    Pause = std::chrono::seconds(1);
    std::vector<Task> Again;
    for (const Message &M : *Pending)
      if (Orphans.count(M.Id)) {
        Task T;
        if (decodeMessage(M, T))
          Again.push_back(std::move(T));
      }
    // What is no longer queued was run elsewhere (another process, or a
    // restart); what is resubmitted is no orphan any more.
    Orphans.clear();
    if (!Again.empty())
      std::fprintf(stderr,
                   "cleave-run: the state store answers again; resuming %zu "
                   "step%s\n",
                   Again.size(), Again.size() == 1 ? "" : "s");
    L.unlock();
    submitAll(Again);
    L.lock();
  }
}

Executor::~Executor() {
  {
    std::lock_guard<std::mutex> L(QueueMutex);
    Stopping = true;
  }
  QueueReady.notify_all();
  for (std::thread &T : Threads)
    T.join();
  OrphansWake.notify_all();
  if (OrphanThread.joinable())
    OrphanThread.join();
}

int Executor::find(std::string_view Name) const {
  for (size_t I = 0; I < Machines.size(); ++I)
    if (Machines[I].Name == Name)
      return static_cast<int>(I);
  return -1;
}

std::string Executor::newInvocationId() {
  // 15 hex digits (60 bits): short enough for std::string's inline buffer,
  // since every step's task carries a copy. The process's random seed, XORed
  // with a bijection of a counter, never repeats within the process.
  std::lock_guard<std::mutex> L(IdMutex);
  uint64_t Id = (IdSeed ^ (++IdCount * 0x9e3779b97f4a7c15ull)) &
                0x0fffffffffffffffull;
  return fmt::format("{:015x}", Id);
}

void Executor::submit(Task T) {
  {
    std::lock_guard<std::mutex> L(QueueMutex);
    Queue.push_back(std::move(T));
  }
  QueueReady.notify_one();
}

void Executor::submitAll(std::vector<Task> &Tasks) {
  if (Tasks.empty())
    return;
  {
    std::lock_guard<std::mutex> L(QueueMutex);
    for (Task &T : Tasks)
      Queue.push_back(std::move(T));
  }
  Tasks.clear();
  QueueReady.notify_all();
}

void Executor::work() {
  for (;;) {
    Task T;
    {
      std::unique_lock<std::mutex> L(QueueMutex);
      // Chains in flight are finished before the workers stop: a fan-out's
      // elements must reach their join.
      QueueReady.wait(L, [&] { return Stopping || !Queue.empty(); });
      if (Queue.empty())
        return;
      T = std::move(Queue.front());
      Queue.pop_front();
    }
    runChain(std::move(T));
  }
}

void Executor::start(int Machine, std::string Args,
                     std::function<void(Outcome)> Done) {
  auto K = std::make_shared<Cont>();
  K->K = Cont::Root;
  K->Done = std::move(Done);
  Task T;
  T.Machine = Machine;
  T.Frame = std::move(Args);
  T.Then = std::move(K);
  if (Opts.Durable)
    T.Invocation = newInvocationId();
  submit(std::move(T));
}

Executor::Outcome Executor::run(int Machine, std::string Args,
                                std::string IdempotencyKey) {
  // The caller would only wait: it runs the chain itself, as a worker would,
  // so a request without a fan-out costs no thread wake-up at all. A
  // fan-out's other elements go to the pool, and the join may end the chain
  // on another worker; then the caller waits for it. (A promise would cost
  // a shared state on the heap.)
  struct Waiter {
    std::mutex Mutex;
    std::condition_variable Ready;
    std::optional<Outcome> O;
  } W;
  auto K = std::make_shared<Cont>();
  K->K = Cont::Root;
  K->Done = [&W](Outcome O) {
    // Notified under the lock: the caller cannot see the outcome, return
    // and destroy W before this is done with it.
    std::lock_guard<std::mutex> L(W.Mutex);
    W.O = std::move(O);
    W.Ready.notify_one();
  };
  K->IdempotencyKey = std::move(IdempotencyKey);
  Task T;
  T.Machine = Machine;
  T.Frame = std::move(Args);
  T.TakesKey = !K->IdempotencyKey.empty();
  T.Then = std::move(K);
  if (Opts.Durable)
    T.Invocation = newInvocationId();
  runChain(std::move(T));
  std::unique_lock<std::mutex> L(W.Mutex);
  W.Ready.wait(L, [&] { return W.O.has_value(); });
  return std::move(*W.O);
}

Result<std::optional<Executor::Outcome>>
Executor::response(const std::string &IdempotencyKey) {
  Result<std::optional<std::string>> M = Store.meta("idem/" + IdempotencyKey);
  if (!M)
    return M.error();
  if (!*M)
    return std::optional<Outcome>();
  Outcome O;
  int32_t Status = 0;
  if (!frame::decodeFrame(**M, Status, O.Body))
    return Error("the stored response for idempotency key '" +
                 IdempotencyKey + "' is damaged");
  O.Status = Status;
  return std::optional<Outcome>(std::move(O));
}

//===----------------------------------------------------------------------===//
// Messages
//===----------------------------------------------------------------------===//

std::string Executor::encodeStack(const Cont *K) const {
  std::vector<StackEntry> Stack;
  while (K->K == Cont::Resume) {
    Stack.emplace_back(Machines[K->Machine].Name, K->Step,
                       std::string(K->Frame.view()));
    K = K->Parent.get();
  }
  uint8_t Tag = K->K == Cont::Element ? 1 : 0;
  const std::string &Name = Tag ? K->J->Id : K->IdempotencyKey;
  uint64_t Slot = Tag ? K->Slot : 0;
  std::string Out;
  frame::encodeFrame(Out, Stack, Tag, Name, Slot);
  return Out;
}

std::string Executor::encodeMessage(const Task &T) const {
  std::string Out;
  frame::encodeFrame(Out, uint8_t(T.Thrown ? 1 : 0), Machines[T.Machine].Name,
                     std::string(T.Outs.view()), T.Step,
                     std::string(T.Frame.view()), std::string(T.Input.view()),
                     T.Invocation, T.Prefix, T.Seq, encodeStack(T.Then.get()));
  return Out;
}

void Executor::queueAfter(const Task &T, Task &N, CommitRequest &C) const {
  N.Invocation = T.Invocation;
  N.Prefix = T.Prefix;
  N.Seq = T.Seq + 1;
  N.Queued = true;
  C.Enqueue.push_back({N.messageId(), encodeMessage(N)});
}

std::shared_ptr<Executor::Cont>
Executor::decodeStack(const std::string &Bytes) {
  std::vector<StackEntry> Stack;
  uint8_t Tag = 0;
  std::string Name;
  uint64_t Slot = 0;
  if (!frame::decodeFrame(Bytes, Stack, Tag, Name, Slot))
    return nullptr;
  auto Tail = std::make_shared<Cont>();
  if (Tag == 1) {
    Tail->K = Cont::Element;
    Tail->J = recoveredJoin(Name);
    Tail->Slot = Slot;
    if (!Tail->J || Slot >= Tail->J->Count)
      return nullptr;
  } else {
    // The code that started the chain is gone; the outcome is kept only
    // for an idempotency key.
    Tail->K = Cont::Root;
    Tail->Done = [](Outcome) {};
    Tail->IdempotencyKey = Name;
  }
  for (auto It = Stack.rbegin(); It != Stack.rend(); ++It) {
    auto C = std::make_shared<Cont>();
    C->K = Cont::Resume;
    C->Machine = find(std::get<0>(*It));
    C->Step = std::get<1>(*It);
    C->Frame = std::move(std::get<2>(*It));
    C->Parent = std::move(Tail);
    if (C->Machine < 0)
      return nullptr;
    Tail = std::move(C);
  }
  return Tail;
}

std::shared_ptr<Executor::Join> Executor::recoveredJoin(const std::string &Id) {
  {
    std::lock_guard<std::mutex> L(JoinsMutex);
    auto It = Recovered.find(Id);
    if (It != Recovered.end())
      return It->second;
  }
  // Absent once the join has fired: its records leave with the firing.
  Result<std::optional<std::string>> Rec = Store.meta("join/" + Id);
  if (!Rec || !*Rec)
    return nullptr;
  uint64_t Count = 0;
  std::string ThenMachine, ThenFrame, ThenPrefix, ThenStack;
  uint32_t ThenStep = 0, ThenSeq = 0;
  if (!frame::decodeFrame(**Rec, Count, ThenMachine, ThenStep, ThenFrame,
                          ThenPrefix, ThenSeq, ThenStack))
    return nullptr;
  auto J = std::make_shared<Join>();
  J->Id = Id;
  J->Count = Count;
  J->Recovered = true;
  J->ThenPrefix = ThenPrefix;
  J->ThenSeq = ThenSeq;
  J->Then = std::make_shared<Cont>();
  J->Then->K = Cont::Resume;
  J->Then->Machine = find(ThenMachine);
  J->Then->Step = ThenStep;
  J->Then->Frame = std::move(ThenFrame);
  // The join's own continuation may end in another join: decoded outside
  // the lock, which that lookup takes.
  J->Then->Parent = decodeStack(ThenStack);
  if (J->Then->Machine < 0 || !J->Then->Parent)
    return nullptr;
  std::lock_guard<std::mutex> L(JoinsMutex);
  return Recovered.emplace(Id, J).first->second;
}

bool Executor::decodeMessage(const Message &M, Task &T) {
  uint8_t Kind = 0;
  std::string Machine, Outs, Frame, Input, Stack;
  if (!frame::decodeFrame(M.Body, Kind, Machine, Outs, T.Step, Frame, Input,
                          T.Invocation, T.Prefix, T.Seq, Stack) ||
      Kind > 1)
    return false;
  T.Thrown = Kind == 1; // a resume with the callee's exception
  T.Frame = std::move(Frame);
  T.Input = std::move(Input);
  T.Outs = std::move(Outs);
  T.Machine = find(Machine);
  T.Then = decodeStack(Stack);
  T.Queued = true;
  return T.Machine >= 0 && T.Then;
}

//===----------------------------------------------------------------------===//
// Joins
//===----------------------------------------------------------------------===//

void Executor::recordEnd(CommitRequest &C, const Cont &End, int Status,
                         std::string_view Value) const {
  if (End.K == Cont::Element && Opts.Durable) {
    C.Meta.emplace_back(slotKey(End.J->Id, End.Slot),
                        outcomeRecord(Status, Value));
    C.Enqueue.push_back({arrivalId(End.J->Id, End.Slot), std::string()});
  } else if (End.K == Cont::Root && !End.IdempotencyKey.empty()) {
    std::string Body(Value);
    settle(Status, Body);
    C.Meta.emplace_back("idem/" + End.IdempotencyKey,
                        outcomeRecord(Status, Body));
  }
}

bool Executor::collectJoin(const Join &J, int &Status, std::string &Value) {
  Status = CLEAVE_STEP_DONE;
  Value.clear();
  std::string Failure;
  for (size_t I = 0; I < J.Count; ++I) {
    Result<std::optional<std::string>> Rec = Store.meta(slotKey(J.Id, I));
    int32_t S = 0;
    std::string V;
    if (!Rec || !*Rec || !frame::decodeFrame(**Rec, S, V))
      return false;
    if (Status != CLEAVE_STEP_DONE)
      continue;
    if (S == CLEAVE_STEP_DONE) {
      appendListElement(Value, V);
    } else {
      Status = S;
      Failure = std::move(V);
    }
  }
  if (Status != CLEAVE_STEP_DONE)
    Value = std::move(Failure);
  return true;
}

bool Executor::deliver(const Cont &End, int Status, std::string Value, Ending E,
                       Task &Next) {
  assert(End.K != Cont::Resume && "a chain ends at a join or at its start");
  if (End.K == Cont::Root) {
    settle(Status, Value);
    End.Done(Outcome{Status, std::move(Value)});
    return false;
  }
  Join &J = *End.J;
  if (J.Recovered)
    return endJoin(J, Next); // the store knows which elements are in
  if (E == Ending::InStore) {
    J.InStore = true;
  } else {
    J.Statuses[End.Slot] = Status;
    J.Results[End.Slot] = std::move(Value);
    if (E == Ending::Unrecorded)
      J.Unrecorded = true;
  }
  // The last element to arrive runs the join. A failed element does not end
  // the fan-out early: the join fires once, when every element is in, so
  // that it fires the same way after a restart.
  if (J.Pending.fetch_sub(1) != 1)
    return false;
  return endJoin(J, Next);
}

bool Executor::ranElsewhere(const Cont &End, Task &Next) {
  if (End.K == Cont::Root) {
    // Not an error: the chain goes on where its step ran. The caller
    // learns that, and may wait for the recorded outcome (see run()).
    End.Done(Outcome{CLEAVE_STEP_ELSEWHERE, std::string()});
    return false;
  }
  return deliver(End, CLEAVE_STEP_ERROR, std::string(), Ending::InStore, Next);
}

bool Executor::endJoin(Join &J, Task &Next) {
  int Status = CLEAVE_STEP_DONE;
  std::string Value;
  bool Collected = true;
  if (J.Recovered || J.InStore) {
    Collected = collectJoin(J, Status, Value);
  } else {
    for (size_t I = 0; I < J.Count && Status == CLEAVE_STEP_DONE; ++I)
      if (J.Statuses[I] != CLEAVE_STEP_DONE) {
        Status = J.Statuses[I];
        Value = std::move(J.Results[I]);
      }
    if (Status == CLEAVE_STEP_DONE)
      for (const std::string &R : J.Results)
        appendListElement(Value, R);
  }
  if (J.Recovered && !Collected)
    return false; // not every element is in yet, or the join fired
  if (!J.Recovered && (!Collected || (Opts.Durable && J.Unrecorded))) {
    // An element's end is not in the store, so the join cannot fire: whoever
    // waits hears so, and a restart runs the element again and fires it.
    return deliver(chainEnd(*J.Then), CLEAVE_STEP_ERROR, joinNotStored(),
                   Ending::Unrecorded, Next);
  }
  return fireJoin(J, Status, std::move(Value), Next);
}

bool Executor::fireJoin(Join &J, int Status, std::string Value, Task &Next) {
  // An element's exception (the first by slot, as the plain loop meets it)
  // goes to the fanning-out caller, as a value does; any other failure goes
  // past it, to its chain's end.
  const bool Ok = Status == CLEAVE_STEP_DONE || Status == CLEAVE_STEP_THROW;
  const Cont &End = chainEnd(*J.Then);
  Next = Task();
  if (Ok) {
    Next.Machine = J.Then->Machine;
    Next.Step = J.Then->Step;
    Next.Input = std::move(Value);
    Next.Thrown = Status == CLEAVE_STEP_THROW;
    Next.Then = J.Then->Parent;
    // Only a durable join may try to fire again (after a store failure).
    Next.Frame = Opts.Durable ? J.Then->Frame : std::move(J.Then->Frame);
  }
  if (!Opts.Durable)
    return Ok || deliver(End, Status, std::move(Value), Ending::Recorded, Next);

  // Fire once, durably: the arrivals are consumed, the join's records
  // erased, and the resume queued or the failure recorded where it goes.
  CommitRequest C;
  C.Consume.reserve(J.Count);
  C.Meta.reserve(J.Count + 2);
  for (size_t I = 0; I < J.Count; ++I) {
    C.Consume.push_back(arrivalId(J.Id, I));
    C.Meta.emplace_back(slotKey(J.Id, I), std::string());
  }
  C.Meta.emplace_back("join/" + J.Id, std::string());
  if (Ok) {
    Next.Invocation = J.Id.substr(0, J.Id.find('/'));
    Next.Prefix = J.ThenPrefix;
    Next.Seq = J.ThenSeq;
    Next.Queued = true;
    C.Enqueue.push_back({Next.messageId(), encodeMessage(Next)});
  } else {
    recordEnd(C, End, Status, Value);
  }
  Result<CommitStatus> S = Store.commit(C);
  if (!S || *S != CommitStatus::Committed) {
    Next = Task();
    if (J.Recovered)
      return false; // fired already, or a restart fires it
    if (S)
      return ranElsewhere(End, Next);
    return deliver(End, CLEAVE_STEP_ERROR, joinNotStored(), Ending::Unrecorded,
                   Next);
  }
  if (J.Recovered) {
    std::lock_guard<std::mutex> L(JoinsMutex);
    Recovered.erase(J.Id);
  }
  return Ok || deliver(End, Status, std::move(Value), Ending::Recorded, Next);
}

//===----------------------------------------------------------------------===//
// Running chains
//===----------------------------------------------------------------------===//

bool Executor::runStep(Task &T, StepResult &R, Task &Next,
                       std::vector<Task> &Spawn) {
  const MachineInfo &M = Machines[T.Machine];
  const bool Durable = Opts.Durable;
  for (unsigned Attempt = 1;; ++Attempt) {
    if (Attempt > 1) {
      R = StepResult();
      Next = Task();
      Spawn.clear();
    }
    // A function without state has no locks to take and no writes to
    // buffer: its steps run without a transaction.
    std::unique_ptr<StateTransaction> Txn;
    if (!M.State.empty()) {
      auto Begun = StateTransaction::begin(Store, Locks, M.State);
      if (Begun)
        Txn = Begun.take();
      else
        R.Value = errorJson(fmt::format("cannot lock the state of '{}': {}",
                                        M.Name, Begun.error().message()));
    }
    cleave_step_reply_v1 Reply{};
    Reply.status = CLEAVE_STEP_ERROR;
    if (Txn || M.State.empty()) {
      cleave_step_call_v1 Call{T.Step,
                               T.Frame.data(),
                               T.Frame.size(),
                               T.Input.data(),
                               T.Input.size(),
                               Txn ? Txn->host() : &StatelessHost,
                               T.Thrown ? 1u : 0u,
                               T.Outs.data(),
                               T.Outs.size()};
      bool Threw = false;
      try {
        M.Machine->step(&Call, &Reply);
      } catch (...) {
        Threw = true; // the ABI forbids it; survive a hand-written step
      }
      if (Threw) {
        R.Value = errorJson(fmt::format(
            "step {} of '{}' threw across the C ABI", T.Step, M.Name));
        Txn.reset(); // nothing it recorded is trusted; its failure stands
        Reply = cleave_step_reply_v1{};
        Reply.status = CLEAVE_STEP_ERROR;
      } else {
        R.Status = Reply.status;
        R.Value = Bytes(Reply.value, Reply.value_len, Mod);
        R.Outs = Bytes(Reply.outs, Reply.outs_len, Mod);
      }
    }
    // The step's buffers go on to the next steps as they are.
    Bytes Frame(Reply.frame, Reply.frame_len, Mod);
    Bytes Args(Reply.args, Reply.args_len, Mod);
    const char *Callee = Reply.callee;
    uint32_t Resume = Reply.resume, Count = Reply.count;

    // What comes next, committed with the step.
    CommitRequest C;
    if (T.Queued)
      C.Consume.push_back(T.messageId());
    if (T.TakesKey)
      C.Done.push_back("idem/" + T.Then->IdempotencyKey);
    int To = -1;
    std::vector<std::string_view> Parts;
    if (R.Status == CLEAVE_STEP_CALL || R.Status == CLEAVE_STEP_FAN_OUT) {
      To = Callee ? find(Callee) : -1;
      if (To < 0) {
        R.Status = CLEAVE_STEP_ERROR;
        R.Value = errorJson(fmt::format("'{}' calls '{}', which the handler "
                                        "library does not run as steps",
                                        M.Name, Callee ? Callee : "?"));
      } else if (R.Status == CLEAVE_STEP_FAN_OUT &&
                 (!splitList(Args.data(), Args.size(), Parts) ||
                  Parts.size() != Count)) {
        R.Status = CLEAVE_STEP_ERROR;
        R.Value =
            errorJson(fmt::format("'{}' made a malformed fan-out", M.Name));
      }
    }
    // Without durability, nothing is encoded before the commit, so T's
    // continuation moves to the next task once the step has committed (a
    // conflict runs the step again from it): a call's resume takes it as
    // its parent, and a value going back to the caller takes the caller's
    // frame and continuation.
    Cont *Link = nullptr;
    bool TakeCaller = false;
    auto ResumeHere = [&] {
      auto K = std::make_shared<Cont>();
      K->K = Cont::Resume;
      K->Machine = T.Machine;
      K->Step = Resume;
      K->Frame = std::move(Frame);
      if (Durable)
        K->Parent = T.Then;
      else
        Link = K.get();
      return K;
    };
    if (R.Status == CLEAVE_STEP_CALL) {
      Next.Machine = To;
      Next.Frame = std::move(Args);
      Next.Then = ResumeHere();
      if (Durable)
        queueAfter(T, Next, C);
    } else if (R.Status == CLEAVE_STEP_FAN_OUT && Parts.empty()) {
      // Nothing to wait for: the join runs at once, with no results.
      Next.Machine = T.Machine;
      Next.Step = Resume;
      Next.Frame = std::move(Frame);
      Next.Then = T.Then;
      if (Durable)
        queueAfter(T, Next, C);
    } else if (R.Status == CLEAVE_STEP_FAN_OUT) {
      auto J = std::make_shared<Join>();
      J->Count = Parts.size();
      J->Pending = J->Count;
      J->Statuses.assign(J->Count, CLEAVE_STEP_DONE);
      J->Results.resize(J->Count);
      J->Then = ResumeHere();
      if (Durable) {
        J->Id = T.messageId();
        J->ThenPrefix = T.Prefix;
        J->ThenSeq = T.Seq + 1;
        std::string Rec;
        frame::encodeFrame(Rec, uint64_t(J->Count), M.Name, Resume,
                           std::string(J->Then->Frame.view()), T.Prefix,
                           T.Seq + 1, encodeStack(T.Then.get()));
        C.Meta.emplace_back("join/" + J->Id, std::move(Rec));
      }
      Spawn.reserve(J->Count - 1);
      for (size_t I = 0; I < J->Count; ++I) {
        Task &E = I == 0 ? Next : Spawn.emplace_back();
        E.Machine = To;
        E.Frame = std::string(Parts[I]);
        E.Then = std::make_shared<Cont>();
        E.Then->K = Cont::Element;
        E.Then->J = J;
        E.Then->Slot = I;
        if (Durable) {
          E.Invocation = T.Invocation;
          E.Prefix = fmt::format("{}{}.{}:", T.Prefix, T.Seq, I);
          E.Queued = true;
          C.Enqueue.push_back({E.messageId(), encodeMessage(E)});
        }
      }
    } else {
      if (R.Status != CLEAVE_STEP_DONE && R.Status != CLEAVE_STEP_THROW &&
          R.Status != CLEAVE_STEP_BAD_REQUEST &&
          R.Status != CLEAVE_STEP_ERROR) {
        R.Value = errorJson(fmt::format(
            "step {} of '{}' answered with unknown status {}", T.Step, M.Name,
            R.Status));
        R.Status = CLEAVE_STEP_ERROR;
      }
      if (R.Status != CLEAVE_STEP_DONE && R.Value.empty())
        R.Value = errorJson(fmt::format("'{}' failed without a message", M.Name));
      // Where the value goes: a caller, a join, or the chain's start. An
      // exception goes to the caller too, which throws it again where the
      // call was; any other failure skips the callers.
      const Cont &End = passesToCaller(R.Status) ? *T.Then : chainEnd(*T.Then);
      if (End.K == Cont::Resume) {
        Next.Machine = End.Machine;
        Next.Step = End.Step;
        Next.Input = std::move(R.Value);
        Next.Thrown = R.Status == CLEAVE_STEP_THROW;
        Next.Outs = std::move(R.Outs);
        if (Durable) {
          Next.Frame = End.Frame;
          Next.Then = End.Parent;
          queueAfter(T, Next, C);
        } else {
          TakeCaller = true;
        }
      } else {
        recordEnd(C, End, R.Status, R.Value.view());
      }
    }

    Result<CommitStatus> S = CommitStatus::Committed;
    if (Txn)
      S = Txn->commit(std::move(C));
    else if (!C.Consume.empty() || !C.Done.empty() || !C.Enqueue.empty() ||
             !C.Meta.empty())
      S = Store.commit(C);
    auto Fail = [&](int Status, std::string Why) {
      R.Status = Status;
      R.Value = std::move(Why);
      R.End = Ending::Unrecorded;
      Next = Task();
      Spawn.clear();
      return true;
    };
    // The store failed (an outage): the step's message, if it has one,
    // stays queued; it is run again once the store answers.
    if (!S && Durable && T.Queued)
      orphan(T.messageId());
    if (!S)
      return Fail(CLEAVE_STEP_ERROR,
                  errorJson(fmt::format("cannot save the state written by "
                                        "'{}': {}",
                                        M.Name, S.error().message())));
    if (*S == CommitStatus::Committed) {
      if (Link)
        Link->Parent = std::move(T.Then);
      if (TakeCaller) {
        // Moved when no other task holds the continuation.
        Cont &K = *T.Then;
        if (T.Then.use_count() == 1) {
          Next.Frame = std::move(K.Frame);
          Next.Then = std::move(K.Parent);
        } else {
          Next.Frame = K.Frame;
          Next.Then = K.Parent;
        }
      }
      return true;
    }
    if (*S == CommitStatus::Duplicate) {
      if (T.TakesKey) // the idempotency key is another chain's
        return Fail(CLEAVE_STEP_DUPLICATE,
                    errorJson("a request with this Idempotency-Key is in "
                              "progress"));
      return false; // this step ran already: its message is gone
    }
    if (Attempt >= Opts.MaxAttempts)
      return Fail(CLEAVE_STEP_UNAVAILABLE,
                  errorJson(fmt::format("'{}' could not commit: its state "
                                        "kept changing ({} attempts)",
                                        M.Name, Opts.MaxAttempts)));
    // Conflict: run the step again, from the same frame, after a pause
    // without the locks.
    Txn.reset();
    backOffAfterConflict(Attempt);
  }
}

void Executor::runChain(Task T) {
  for (;;) {
    // Fresh for each step, as runStep expects them.
    StepResult R;
    Task Next;
    std::vector<Task> Spawn;
    bool GoOn;
    if (T.Machine < 0 || static_cast<size_t>(T.Machine) >= Machines.size()) {
      GoOn = deliver(chainEnd(*T.Then), CLEAVE_STEP_ERROR,
                     errorJson("call of an unknown function"),
                     Ending::Unrecorded, Next);
    } else if (!runStep(T, R, Next, Spawn)) {
      // Another run of the step (recovered while this one ran, or a commit
      // resent after a broken connection) consumed its message first.
      GoOn = ranElsewhere(chainEnd(*T.Then), Next);
    } else {
      submitAll(Spawn);
      // A call, an element, an empty join, or a resume after a value; else
      // the chain ended here, and its value goes to a join or the caller.
      GoOn = Next.Machine >= 0 ||
             deliver(passesToCaller(R.Status) ? *T.Then : chainEnd(*T.Then),
                     R.Status, R.Value.take(), R.End, Next);
    }
    if (!GoOn)
      return;
    T = std::move(Next);
  }
}

Result<size_t> Executor::recover() {
  Result<std::vector<Message>> Pending = Store.pending();
  if (!Pending)
    return Pending.error();
  size_t Resumed = 0;
  std::set<std::string> Arrived; // joins with an arrival queued
  for (const Message &M : *Pending) {
    if (M.Id.rfind("arrive/", 0) == 0) {
      Arrived.insert(M.Id.substr(7, M.Id.rfind('/') - 7));
      continue;
    }
    Task T;
    if (!decodeMessage(M, T)) {
      std::fprintf(stderr, "cleave-run: cannot resume message '%s': it is "
                           "damaged or names an unknown function\n",
                   M.Id.c_str());
      continue;
    }
    ++Resumed;
    submit(std::move(T));
  }
  // A join whose last element committed before the crash but which had not
  // fired yet.
  for (const std::string &Id : Arrived) {
    std::shared_ptr<Join> J = recoveredJoin(Id);
    Task Next;
    if (J && endJoin(*J, Next)) {
      ++Resumed;
      submit(std::move(Next));
    }
  }
  return Resumed;
}

} // namespace cleave::rt
