//===- Executor.cpp - Run functions that were cut into steps -------------===//

#include "cleave/Executor.h"

#include "cleave/handler.h"

#include <fmt/format.h>

#include <atomic>
#include <future>

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
};

/// The join of a fan-out: fires once, when the last element is in.
struct Executor::Join {
  std::atomic<size_t> Pending{0};
  std::atomic<bool> Failed{false};
  std::vector<std::string> Results;
  std::shared_ptr<Cont> Then; ///< the fanning-out caller's resume
};

namespace {

std::string errorJson(const std::string &Message) {
  return codec::Json{{"error", Message}}.dump(-1, ' ', false,
                                              codec::Json::error_handler_t::replace);
}

} // namespace

Executor::Executor(const Module &Mod, StateStore &Store, StateLockTable &Locks,
                   std::vector<MachineInfo> Machines, unsigned Workers)
    : Mod(Mod), Store(Store), Locks(Locks), Machines(std::move(Machines)) {
  if (Workers == 0)
    Workers = 1;
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
  submit(std::move(T));
}

Executor::Outcome Executor::run(int Machine, std::string Args) {
  // The caller would only wait: it runs the chain itself, as a worker would,
  // so a request without a fan-out costs no thread wake-up at all. A
  // fan-out's other elements go to the pool, and the join may end the chain
  // on another worker; then the caller waits for it.
  std::promise<Outcome> P;
  std::future<Outcome> F = P.get_future();
  auto K = std::make_shared<Cont>();
  K->K = Cont::Root;
  K->Done = [&P](Outcome O) { P.set_value(std::move(O)); };
  Task T;
  T.Machine = Machine;
  T.Frame = std::move(Args);
  T.Then = std::move(K);
  runChain(std::move(T));
  return F.get();
}

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
    Next.Frame = std::move(K->Frame);
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
    J.Results[K->Slot] = std::move(Value);
    if (J.Pending.fetch_sub(1) != 1 || J.Failed.load())
      return false;
    // The last element: this worker runs the join.
    std::string List;
    for (const std::string &R : J.Results)
      appendListElement(List, R);
    Next.Machine = J.Then->Machine;
    Next.Step = J.Then->Step;
    Next.Frame = std::move(J.Then->Frame);
    Next.Input = std::move(List);
    Next.Then = J.Then->Parent;
    return true;
  }
  }
  return false;
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
    const MachineInfo &M = Machines[T.Machine];
    int Status = CLEAVE_STEP_ERROR;
    std::string Value, Frame, Args;
    const char *Callee = nullptr;
    uint32_t Resume = 0, Count = 0;
    {
      auto Txn = StateTransaction::begin(Store, Locks, M.State);
      if (!Txn) {
        Value = errorJson(fmt::format("cannot lock the state of '{}': {}",
                                      M.Name, Txn.error().message()));
      } else {
        cleave_step_call_v1 Call{T.Step,        T.Frame.data(), T.Frame.size(),
                                 T.Input.data(), T.Input.size(), (*Txn)->host()};
        cleave_step_reply_v1 Reply{};
        Reply.status = CLEAVE_STEP_ERROR;
        bool Threw = false;
        try {
          M.Machine->step(&Call, &Reply);
        } catch (...) {
          Threw = true; // the ABI forbids it; survive a hand-written step
        }
        if (!Threw) {
          Status = Reply.status;
          if (Reply.value)
            Value.assign(Reply.value, Reply.value_len);
          if (Reply.frame)
            Frame.assign(Reply.frame, Reply.frame_len);
          if (Reply.args)
            Args.assign(Reply.args, Reply.args_len);
          Callee = Reply.callee;
          Resume = Reply.resume;
          Count = Reply.count;
          Mod.release(Reply.value);
          Mod.release(Reply.frame);
          Mod.release(Reply.args);
        } else {
          Value = errorJson(fmt::format("step {} of '{}' threw across the C ABI",
                                        T.Step, M.Name));
        }
        // The step's writes are applied before anything runs after it.
        if (!Threw) {
          if (Result<void> C = (*Txn)->commit(); !C) {
            Status = CLEAVE_STEP_ERROR;
            Value = errorJson(fmt::format("cannot save the state written by "
                                          "'{}': {}",
                                          M.Name, C.error().message()));
          }
        }
      }
    }

    Task Next;
    switch (Status) {
    case CLEAVE_STEP_DONE:
      if (deliver(T.Then, Status, std::move(Value), Next))
        break;
      return;
    case CLEAVE_STEP_CALL:
    case CLEAVE_STEP_FAN_OUT: {
      int To = Callee ? find(Callee) : -1;
      if (To < 0) {
        if (deliver(T.Then, CLEAVE_STEP_ERROR,
                    errorJson(fmt::format("'{}' calls '{}', which the handler "
                                          "library does not run as steps",
                                          M.Name, Callee ? Callee : "?")),
                    Next))
          break;
        return;
      }
      auto K = std::make_shared<Cont>();
      K->K = Cont::Resume;
      K->Machine = T.Machine;
      K->Step = Resume;
      K->Frame = std::move(Frame);
      K->Parent = std::move(T.Then);
      if (Status == CLEAVE_STEP_CALL) {
        Next.Machine = To;
        Next.Frame = std::move(Args);
        Next.Then = std::move(K);
        break;
      }
      std::vector<std::string_view> Parts;
      if (!splitList(Args.data(), Args.size(), Parts) || Parts.size() != Count) {
        if (deliver(K->Parent, CLEAVE_STEP_ERROR,
                    errorJson(fmt::format("'{}' made a malformed fan-out",
                                          M.Name)),
                    Next))
          break;
        return;
      }
      if (Parts.empty()) {
        // Nothing to wait for: the join runs at once, with no results.
        Next.Machine = K->Machine;
        Next.Step = K->Step;
        Next.Frame = std::move(K->Frame);
        Next.Then = K->Parent;
        break;
      }
      auto J = std::make_shared<Join>();
      J->Pending = Parts.size();
      J->Results.resize(Parts.size());
      J->Then = std::move(K);
      for (size_t I = Parts.size(); I-- > 0;) {
        Task E;
        E.Machine = To;
        E.Frame.assign(Parts[I]);
        E.Then = std::make_shared<Cont>();
        E.Then->K = Cont::Element;
        E.Then->J = J;
        E.Then->Slot = I;
        if (I == 0)
          Next = std::move(E);
        else
          submit(std::move(E));
      }
      break;
    }
    default:
      if (Status != CLEAVE_STEP_BAD_REQUEST && Status != CLEAVE_STEP_ERROR) {
        Value = errorJson(fmt::format("step {} of '{}' answered with unknown "
                                      "status {}",
                                      T.Step, M.Name, Status));
        Status = CLEAVE_STEP_ERROR;
      }
      if (Value.empty())
        Value = errorJson(fmt::format("'{}' failed without a message", M.Name));
      if (deliver(T.Then, Status, std::move(Value), Next))
        break;
      return;
    }
    T = std::move(Next);
  }
}

} // namespace cleave::rt
