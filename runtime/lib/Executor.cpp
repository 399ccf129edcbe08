//===- Executor.cpp - Run functions that were cut into steps -------------===//
//
// Durable chains. Each step commits, in one atomic store commit, its state
// writes, a dedup record (its message id, "<invocation>/<position>"), the
// removal of its own queued message, and what comes next:
//   - a call or a resume: the next step's message;
//   - a fan-out: a join record ("join/<id>": how many elements, and the
//     continuation to resume) and one message per element;
//   - the last step of a fan-out element: its value ("join/<id>/<slot>")
//     and an arrival message ("arrive/<id>/<slot>"); the join fires, once,
//     in a commit of its own guarded by the dedup record "join/<id>", which
//     also removes the arrivals and queues the resume;
//   - the last step of a chain with an idempotency key: the outcome
//     ("idem/<key>").
// A position is "<prefix><seq>": steps of one chain (calls included) count
// up, and element i of a fan-out at position p starts a chain with prefix
// "<prefix>p.i:". recover() rebuilds the tasks of every queued message.
//
//===----------------------------------------------------------------------===//

#include "cleave/Executor.h"

#include "cleave/handler.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <future>
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
  std::string Frame;
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
  std::string Id;
  size_t Count = 0;
  std::atomic<size_t> Pending{0};
  std::atomic<bool> Failed{false};
  std::vector<std::string> Results;
  std::shared_ptr<Cont> Then; ///< the fanning-out caller's resume
  std::string ThenPrefix;     ///< the resume step's position
  uint32_t ThenSeq = 0;
  /// Rebuilt after a crash: the results are in the store, and every arrival
  /// checks them all.
  bool Recovered = false;
};

/// What a step did.
struct Executor::StepResult {
  int Status = CLEAVE_STEP_ERROR;
  std::string Value, Frame, Args;
  const char *Callee = nullptr;
  uint32_t Resume = 0, Count = 0;
};

namespace {

std::string errorJson(const std::string &Message) {
  return codec::Json{{"error", Message}}.dump(
      -1, ' ', false, codec::Json::error_handler_t::replace);
}

using StackEntry = std::tuple<std::string, uint32_t, std::string>;

/// The continuation past every caller of a chain: a join or its start.
std::shared_ptr<Executor::Cont> chainEnd(std::shared_ptr<Executor::Cont> K) {
  while (K && K->K == Executor::Cont::Resume)
    K = K->Parent;
  return K;
}

std::string arrivalId(const std::string &Join, size_t Slot) {
  return "arrive/" + Join + "/" + std::to_string(Slot);
}
std::string slotKey(const std::string &Join, size_t Slot) {
  return "join/" + Join + "/" + std::to_string(Slot);
}

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
}

Executor::~Executor() {
  {
    std::lock_guard<std::mutex> L(QueueMutex);
    Stopping = true;
  }
  QueueReady.notify_all();
  for (std::thread &T : Threads)
    T.join();
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
  T.Invocation = newInvocationId();
  submit(std::move(T));
}

Executor::Outcome Executor::run(int Machine, std::string Args,
                                std::string IdempotencyKey) {
  // The caller would only wait: it runs the chain itself, as a worker would,
  // so a request without a fan-out costs no thread wake-up at all. A
  // fan-out's other elements go to the pool, and the join may end the chain
  // on another worker; then the caller waits for it.
  std::promise<Outcome> P;
  std::future<Outcome> F = P.get_future();
  auto K = std::make_shared<Cont>();
  K->K = Cont::Root;
  K->Done = [&P](Outcome O) { P.set_value(std::move(O)); };
  K->IdempotencyKey = std::move(IdempotencyKey);
  Task T;
  T.Machine = Machine;
  T.Frame = std::move(Args);
  T.Then = std::move(K);
  T.Invocation = newInvocationId();
  runChain(std::move(T));
  return F.get();
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

std::string Executor::encodeStack(const std::shared_ptr<Cont> &K) const {
  std::vector<StackEntry> Stack;
  const Cont *C = K.get();
  while (C && C->K == Cont::Resume) {
    Stack.emplace_back(Machines[C->Machine].Name, C->Step, C->Frame);
    C = C->Parent.get();
  }
  uint8_t Tag = C && C->K == Cont::Element ? 1 : 0;
  std::string Name = !C ? std::string()
                     : Tag ? C->J->Id
                           : C->IdempotencyKey;
  uint64_t Slot = Tag ? C->Slot : 0;
  std::string Out;
  frame::encodeFrame(Out, Stack, Tag, Name, Slot);
  return Out;
}

std::string Executor::encodeMessage(const Task &T) const {
  std::string Out;
  frame::encodeFrame(Out, uint8_t(0), Machines[T.Machine].Name, T.Step,
                     T.Frame, T.Input, T.Invocation, T.Prefix, T.Seq,
                     encodeStack(T.Then));
  return Out;
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
    if (!Tail->J)
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
    C->Frame = std::get<2>(*It);
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
  J->Then->Frame = ThenFrame;
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
  std::string Machine, Stack;
  if (!frame::decodeFrame(M.Body, Kind, Machine, T.Step, T.Frame, T.Input,
                          T.Invocation, T.Prefix, T.Seq, Stack) ||
      Kind != 0)
    return false;
  T.Machine = find(Machine);
  T.Then = decodeStack(Stack);
  T.Queued = true;
  return T.Machine >= 0 && T.Then;
}

bool Executor::collectJoin(Join &J, std::string &List) {
  List.clear();
  for (size_t I = 0; I < J.Count; ++I) {
    Result<std::optional<std::string>> V = Store.meta(slotKey(J.Id, I));
    if (!V || !*V)
      return false;
    appendListElement(List, **V);
  }
  return true;
}

bool Executor::fireJoin(Join &J, std::string List, Task &Next) {
  Next = Task();
  Next.Machine = J.Then->Machine;
  Next.Step = J.Then->Step;
  Next.Frame = J.Then->Frame;
  Next.Input = std::move(List);
  Next.Then = J.Then->Parent;
  Next.Prefix = J.ThenPrefix;
  Next.Seq = J.ThenSeq;
  Next.Invocation = J.Id.substr(0, J.Id.find('/'));
  if (!Opts.Durable)
    return true;
  // Fire once, durably: the resume is queued and the arrivals leave.
  CommitRequest C;
  C.Done.push_back("join/" + J.Id);
  for (size_t I = 0; I < J.Count; ++I)
    C.Dequeue.push_back(arrivalId(J.Id, I));
  C.Enqueue.push_back({Next.messageId(), encodeMessage(Next)});
  Result<CommitStatus> S = Store.commit(C);
  if (!S || *S != CommitStatus::Committed)
    return false; // fired already, or the store is down: recovery will
  Next.Queued = true;
  return true;
}

//===----------------------------------------------------------------------===//
// Running chains
//===----------------------------------------------------------------------===//

bool Executor::deliver(const std::shared_ptr<Cont> &K, int Status,
                       std::string Value, Task &Next) {
  bool Ok = Status == CLEAVE_STEP_DONE;
  switch (K->K) {
  case Cont::Root:
    K->Done(Outcome{Status, std::move(Value)});
    return false;
  case Cont::Resume:
    if (!Ok)
      return deliver(K->Parent, Status, std::move(Value), Next);
    Next.Machine = K->Machine;
    Next.Step = K->Step;
    Next.Frame = K->Frame;
    Next.Input = std::move(Value);
    Next.Then = K->Parent;
    return true;
  case Cont::Element: {
    Join &J = *K->J;
    if (!Ok) {
      // The first failure ends the caller's chain; the other elements
      // still run to the end, and their results are dropped.
      bool First = !J.Failed.exchange(true);
      J.Pending.fetch_sub(1);
      if (First)
        return deliver(J.Then->Parent, Status, std::move(Value), Next);
      return false;
    }
    std::string List;
    if (J.Recovered) {
      // Rebuilt after a crash: the store knows which elements are in.
      if (!collectJoin(J, List))
        return false;
    } else {
      J.Results[K->Slot] = std::move(Value);
      if (J.Pending.fetch_sub(1) != 1 || J.Failed.load())
        return false;
      // The last element: this worker runs the join.
      for (const std::string &R : J.Results)
        appendListElement(List, R);
    }
    if (fireJoin(J, std::move(List), Next))
      return true;
    if (J.Recovered)
      return false; // another arrival fired it
    // The store failed: whoever waits hears so; recovery finishes the chain.
    return deliver(J.Then->Parent, CLEAVE_STEP_ERROR,
                   errorJson("the state store failed at a join; the request "
                             "is resumed when the runtime restarts"),
                   Next);
  }
  }
  return false;
}

bool Executor::runStep(Task &T, StepResult &R, Task &Next,
                       std::vector<Task> &Spawn) {
  const MachineInfo &M = Machines[T.Machine];
  for (unsigned Attempt = 1;; ++Attempt) {
    R = StepResult();
    Next = Task();
    Spawn.clear();
    auto Txn = StateTransaction::begin(Store, Locks, M.State);
    if (!Txn) {
      R.Value = errorJson(fmt::format("cannot lock the state of '{}': {}",
                                      M.Name, Txn.error().message()));
      return true;
    }
    cleave_step_call_v1 Call{T.Step,         T.Frame.data(), T.Frame.size(),
                             T.Input.data(), T.Input.size(), (*Txn)->host()};
    cleave_step_reply_v1 Reply{};
    Reply.status = CLEAVE_STEP_ERROR;
    bool Threw = false;
    try {
      M.Machine->step(&Call, &Reply);
    } catch (...) {
      Threw = true; // the ABI forbids it; survive a hand-written step
    }
    if (Threw) {
      R.Value = errorJson(
          fmt::format("step {} of '{}' threw across the C ABI", T.Step, M.Name));
      return true; // nothing it recorded is trusted
    }
    R.Status = Reply.status;
    if (Reply.value)
      R.Value.assign(Reply.value, Reply.value_len);
    if (Reply.frame)
      R.Frame.assign(Reply.frame, Reply.frame_len);
    if (Reply.args)
      R.Args.assign(Reply.args, Reply.args_len);
    R.Callee = Reply.callee;
    R.Resume = Reply.resume;
    R.Count = Reply.count;
    Mod.release(Reply.value);
    Mod.release(Reply.frame);
    Mod.release(Reply.args);

    // What comes next, committed with the step.
    CommitRequest C;
    bool Durable = Opts.Durable;
    if (Durable) {
      C.Done.push_back(T.messageId());
      if (T.Queued)
        C.Dequeue.push_back(T.messageId());
    }
    const Cont *Root = chainEnd(T.Then).get();
    if (T.Seq == 0 && T.Prefix.empty() && !T.Queued && Root &&
        Root->K == Cont::Root && !Root->IdempotencyKey.empty())
      C.Done.push_back("idem/" + Root->IdempotencyKey);
    auto Queue = [&](const Task &N) {
      if (Durable)
        C.Enqueue.push_back({N.messageId(), encodeMessage(N)});
    };
    bool Finished = R.Status != CLEAVE_STEP_CALL &&
                    R.Status != CLEAVE_STEP_FAN_OUT;
    std::shared_ptr<Join> NewJoin;
    std::vector<std::string_view> Parts;
    if (R.Status == CLEAVE_STEP_CALL || R.Status == CLEAVE_STEP_FAN_OUT) {
      int To = R.Callee ? find(R.Callee) : -1;
      if (To < 0) {
        R.Status = CLEAVE_STEP_ERROR;
        R.Value = errorJson(fmt::format("'{}' calls '{}', which the handler "
                                        "library does not run as steps",
                                        M.Name, R.Callee ? R.Callee : "?"));
        Finished = true;
      } else {
        auto K = std::make_shared<Cont>();
        K->K = Cont::Resume;
        K->Machine = T.Machine;
        K->Step = R.Resume;
        K->Frame = R.Frame;
        K->Parent = T.Then;
        if (R.Status == CLEAVE_STEP_CALL) {
          Next.Machine = To;
          Next.Frame = R.Args;
          Next.Then = K;
          Next.Invocation = T.Invocation;
          Next.Prefix = T.Prefix;
          Next.Seq = T.Seq + 1;
          Next.Queued = Durable;
          Queue(Next);
        } else if (!splitList(R.Args.data(), R.Args.size(), Parts) ||
                   Parts.size() != R.Count) {
          R.Status = CLEAVE_STEP_ERROR;
          R.Value = errorJson(
              fmt::format("'{}' made a malformed fan-out", M.Name));
          Finished = true;
        } else if (Parts.empty()) {
          // Nothing to wait for: the join runs at once, with no results.
          Next.Machine = T.Machine;
          Next.Step = R.Resume;
          Next.Frame = R.Frame;
          Next.Then = T.Then;
          Next.Invocation = T.Invocation;
          Next.Prefix = T.Prefix;
          Next.Seq = T.Seq + 1;
          Next.Queued = Durable;
          Queue(Next);
        } else {
          NewJoin = std::make_shared<Join>();
          NewJoin->Id = T.messageId();
          NewJoin->Count = Parts.size();
          NewJoin->Pending = Parts.size();
          NewJoin->Results.resize(Parts.size());
          NewJoin->Then = K;
          NewJoin->ThenPrefix = T.Prefix;
          NewJoin->ThenSeq = T.Seq + 1;
          if (Durable) {
            std::string Rec;
            frame::encodeFrame(Rec, uint64_t(Parts.size()), M.Name, R.Resume,
                               R.Frame, T.Prefix, T.Seq + 1,
                               encodeStack(T.Then));
            C.Meta.emplace_back("join/" + NewJoin->Id, std::move(Rec));
          }
          for (size_t I = 0; I < Parts.size(); ++I) {
            Task E;
            E.Machine = To;
            E.Frame.assign(Parts[I]);
            E.Then = std::make_shared<Cont>();
            E.Then->K = Cont::Element;
            E.Then->J = NewJoin;
            E.Then->Slot = I;
            E.Invocation = T.Invocation;
            E.Prefix = T.Prefix + std::to_string(T.Seq) + "." +
                       std::to_string(I) + ":";
            E.Queued = Durable;
            Queue(E);
            if (I == 0)
              Next = std::move(E);
            else
              Spawn.push_back(std::move(E));
          }
        }
      }
    }
    if (Finished) {
      if (R.Status != CLEAVE_STEP_DONE && R.Status != CLEAVE_STEP_BAD_REQUEST &&
          R.Status != CLEAVE_STEP_ERROR) {
        R.Value = errorJson(fmt::format(
            "step {} of '{}' answered with unknown status {}", T.Step, M.Name,
            R.Status));
        R.Status = CLEAVE_STEP_ERROR;
      }
      if (R.Status != CLEAVE_STEP_DONE && R.Value.empty())
        R.Value = errorJson(fmt::format("'{}' failed without a message", M.Name));
      // Where the value goes: a caller, a join, or the chain's end.
      const Cont *To = R.Status == CLEAVE_STEP_DONE ? T.Then.get()
                                                    : chainEnd(T.Then).get();
      if (To && To->K == Cont::Resume) {
        Next.Machine = To->Machine;
        Next.Step = To->Step;
        Next.Frame = To->Frame;
        Next.Input = R.Value;
        Next.Then = To->Parent;
        Next.Invocation = T.Invocation;
        Next.Prefix = T.Prefix;
        Next.Seq = T.Seq + 1;
        Next.Queued = Durable;
        Queue(Next);
      } else if (To && To->K == Cont::Element) {
        if (Durable && R.Status == CLEAVE_STEP_DONE) {
          C.Meta.emplace_back(slotKey(To->J->Id, To->Slot), R.Value);
          C.Enqueue.push_back({arrivalId(To->J->Id, To->Slot), std::string()});
        }
      } else if (To && To->K == Cont::Root && !To->IdempotencyKey.empty()) {
        std::string Rec;
        frame::encodeFrame(Rec, int32_t(R.Status), R.Value);
        C.Meta.emplace_back("idem/" + To->IdempotencyKey, std::move(Rec));
      }
    }

    Result<CommitStatus> S = (*Txn)->commit(std::move(C));
    if (!S) {
      R.Status = CLEAVE_STEP_ERROR;
      R.Value = errorJson(fmt::format("cannot save the state written by '{}': {}",
                                      M.Name, S.error().message()));
      Next = Task();
      Spawn.clear();
      return true;
    }
    if (*S == CommitStatus::Duplicate) {
      if (T.Seq == 0 && T.Prefix.empty() && !T.Queued) {
        // The idempotency key is another chain's.
        R.Status = CLEAVE_STEP_DUPLICATE;
        R.Value = errorJson("a request with this Idempotency-Key is in "
                            "progress");
        Next = Task();
        Spawn.clear();
        return true;
      }
      return false; // this step ran already
    }
    if (*S == CommitStatus::Committed)
      return true;
    if (Attempt >= Opts.MaxAttempts) {
      R.Status = CLEAVE_STEP_UNAVAILABLE;
      R.Value = errorJson(fmt::format("'{}' could not commit: its state kept "
                                      "changing ({} attempts)",
                                      M.Name, Opts.MaxAttempts));
      Next = Task();
      Spawn.clear();
      return true;
    }
    // Conflict: run the step again, from the same frame.
  }
}

void Executor::runChain(Task T) {
  for (;;) {
    if (T.Machine < 0 || static_cast<size_t>(T.Machine) >= Machines.size()) {
      Task Next;
      if (deliver(T.Then, CLEAVE_STEP_ERROR,
                  errorJson("call of an unknown function"), Next)) {
        T = std::move(Next);
        continue;
      }
      return;
    }
    StepResult R;
    Task Next;
    std::vector<Task> Spawn;
    if (!runStep(T, R, Next, Spawn)) {
      // The step ran already (a recovered copy of it): this run stops, and
      // a caller waiting on it hears so.
      Task Ignored;
      std::shared_ptr<Cont> Target = chainEnd(T.Then);
      if (Target && Target->K == Cont::Root)
        deliver(Target, CLEAVE_STEP_ERROR,
                errorJson("this step was run by another worker"), Ignored);
      return;
    }
    for (Task &S : Spawn)
      submit(std::move(S));
    if (Next.Machine >= 0) {
      // A call, an element, an empty join, or a resume after a value.
      T = std::move(Next);
      continue;
    }
    // The chain ended here: the value goes to a join or the caller.
    Task After;
    std::shared_ptr<Cont> Target =
        R.Status == CLEAVE_STEP_DONE ? T.Then : chainEnd(T.Then);
    if (!Target)
      return;
    if (deliver(Target, R.Status, std::move(R.Value), After)) {
      if (After.Invocation.empty()) {
        After.Invocation = T.Invocation;
        After.Prefix = T.Prefix;
        After.Seq = T.Seq + 1;
      }
      T = std::move(After);
      continue;
    }
    return;
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
    std::string List;
    Task Next;
    if (J && collectJoin(*J, List) && fireJoin(*J, std::move(List), Next)) {
      ++Resumed;
      submit(std::move(Next));
    }
  }
  return Resumed;
}

} // namespace cleave::rt
