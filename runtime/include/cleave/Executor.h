//===- Executor.h - Run functions that were cut into steps ------*- C++ -*-===//
//
// A pool of workers that runs chains of steps (abi.h, "Steps"). A chain
// starts with a machine's step 0 and its arguments frame; each step either
// returns a value, which goes to whoever waits for it, or stops at a call:
//   - a call pushes a continuation (the caller's resume step and frame) and
//     runs the callee's step 0;
//   - a fan-out runs the callee once per element, on the other workers too,
//     and a join resumes the caller once, with every result in input order,
//     when the last element is done (at once for an empty input);
//   - a value pops the continuation and resumes the caller with it.
// The worker that finishes a step runs the next one itself, so a hop along
// a chain costs no thread wake-up: only a fan-out's extra elements and a new
// chain wait in the queue.
//
// Each step is one state transaction: it locks the state its function may
// use, in the global order, for the length of the step only, and its writes
// are applied when it returns, before the next step runs. A function that
// uses no state runs its steps without a transaction.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_EXECUTOR_H
#define CLEAVE_EXECUTOR_H

#include "cleave/Module.h"
#include "cleave/StateStore.h"
#include "cleave/frame.h"

#include <condition_variable>
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
#include <thread>
#include <vector>

namespace cleave::rt {

class Executor {
public:
  struct MachineInfo {
    std::string Name;
    const cleave_machine_v1 *Machine = nullptr;
    std::vector<std::string> State; ///< sorted: the locks each step takes
  };

  /// How a chain ended: CLEAVE_STEP_DONE with the value frame, or an error
  /// status (400, 500) with a JSON body.
  struct Outcome {
    int Status = CLEAVE_STEP_ERROR;
    std::string Body;
  };

  struct Options {
    unsigned Workers = 2; ///< at least one
    /// Every step consumes its own queued message and queues the next
    /// steps' in the commit of its state writes, so that recover() can
    /// finish the chains a crash interrupted, each step committing once.
    /// Off for an in-memory store, where nothing survives: a step then
    /// commits its state writes only.
    bool Durable = false;
    /// Runs of a step whose commit conflicts, before the chain fails (503).
    unsigned MaxAttempts = 8;
  };

  /// Starts the workers. \p Mod, \p Store and \p Locks must outlive the
  /// executor.
  Executor(const Module &Mod, StateStore &Store, StateLockTable &Locks,
           std::vector<MachineInfo> Machines, Options Opts);
  /// Finishes the chains in flight, then joins the workers.
  ~Executor();
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;

  /// The index of machine \p Name, or -1.
  int find(std::string_view Name) const;

  /// Runs machine \p Machine on \p Args (an arguments frame). \p Done is
  /// called exactly once, on a worker, when the chain ends.
  void start(int Machine, std::string Args, std::function<void(Outcome)> Done);

  /// Runs the chain on the calling thread (its fan-outs on the workers too)
  /// and returns its outcome. With an idempotency key, the outcome is
  /// committed with the chain's last step, for replies to a repeated
  /// request (see response()), and a request whose key was taken by another
  /// chain gets CLEAVE_STEP_DUPLICATE.
  ///
  /// The key and its outcome are kept as long as the store keeps its
  /// records. They are the only records a finished chain leaves behind.
  /// The server passes a key per run ("<key>#<generation>"), and expires a
  /// key by moving it to its next generation (Server.cpp, claimKey).
  Outcome run(int Machine, std::string Args, std::string IdempotencyKey = {});

  /// The outcome committed for \p IdempotencyKey, if that chain has ended.
  Result<std::optional<Outcome>> response(const std::string &IdempotencyKey);

  /// Resumes every chain whose next step is queued in the store (after a
  /// crash), on the workers. Returns how many messages were resumed.
  Result<size_t> recover();

  /// An outcome status beside CLEAVE_STEP_*: the idempotency key belongs to
  /// another chain, which has not ended yet.
  static constexpr int CLEAVE_STEP_DUPLICATE = 409;
  /// The commit kept conflicting.
  static constexpr int CLEAVE_STEP_UNAVAILABLE = 503;
  /// The chain was taken over by another runtime sharing the store (it
  /// recovered the chain's queued step at its start): that one finishes
  /// it, and this caller does not see the outcome. With an idempotency key
  /// it is recorded, under the key, when the chain ends.
  static constexpr int CLEAVE_STEP_ELSEWHERE = 202;

  unsigned workers() const { return static_cast<unsigned>(Threads.size()); }

  /// A frame or value a task carries: bytes the executor made, or a buffer
  /// a step returned, kept as the step made it rather than copied, and
  /// released through the handler library that allocated it.
  class Bytes {
  public:
    Bytes() = default;
    /// Implicit: a string the executor built is a task's bytes as it is.
    Bytes(std::string Text) : Text(std::move(Text)) {}
    /// Takes \p Data, \p Size bytes allocated by \p Mod's library (or
    /// null).
    Bytes(char *Data, size_t Size, const Module &Mod)
        : Adopted(Data, Release(&Mod)), Size(Data ? Size : 0) {}
    Bytes(const Bytes &Other) : Text(Other.view()) {}
    Bytes &operator=(const Bytes &Other) { return *this = Bytes(Other); }
    Bytes(Bytes &&) = default;
    Bytes &operator=(Bytes &&) = default;

    const char *data() const { return Adopted ? Adopted.get() : Text.data(); }
    size_t size() const { return Adopted ? Size : Text.size(); }
    bool empty() const { return size() == 0; }
    std::string_view view() const { return {data(), size()}; }
    /// The bytes as a std::string, moved out when they are one.
    std::string take() {
      if (!Adopted)
        return std::move(Text);
      std::string Out(view());
      Adopted.reset();
      return Out;
    }

  private:
    struct Release {
      Release() : Mod(nullptr) {}
      explicit Release(const Module *Mod) : Mod(Mod) {}
      void operator()(char *P) const { Mod->release(P); }
      const Module *Mod;
    };
    std::string Text;
    std::unique_ptr<char, Release> Adopted;
    size_t Size = 0;
  };

  struct Cont;
  struct Join;
  struct Task {
    int Machine = -1;
    uint32_t Step = 0;
    Bytes Frame;
    Bytes Input;
    /// A resume whose Input is the exception the callee let escape.
    bool Thrown = false;
    /// A resume: the final values of the callee's in-out parameters.
    Bytes Outs;
    std::shared_ptr<Cont> Then;
    /// The first step of a chain run() started with an idempotency key: its
    /// commit takes the key.
    bool TakesKey = false;
    // Durable chains only: where the step is in its invocation.
    bool Queued = false; ///< its message is in the store's queue
    uint32_t Seq = 0;
    std::string Invocation;
    std::string Prefix; ///< "" for the entry's chain, "3.1:" for an element
    std::string messageId() const {
      return Invocation + "/" + Prefix + std::to_string(Seq);
    }
  };

private:
  enum class Ending : uint8_t;
  struct StepResult;
  void submit(Task T);
  void submitAll(std::vector<Task> &Tasks);
  void work();
  void runChain(Task T);
  /// Runs one step as a transaction, again while its commit conflicts.
  /// Sets \p Next (and \p Spawn, a fan-out's other elements) to what runs
  /// next, or \p R to how the chain ended; all three are fresh on entry.
  /// Returns false when another run of the step committed first: the chain
  /// goes on there.
  bool runStep(Task &T, StepResult &R, Task &Next, std::vector<Task> &Spawn);
  /// Hands a chain's value or failure to \p End, the chain's start or the
  /// fan-out element it is. Returns true and sets \p Next when a join fired
  /// and this worker should go on with its resume.
  bool deliver(const Cont &End, int Status, std::string Value, Ending E,
               Task &Next);
  /// A step that another run committed first: whoever waits on the chain
  /// hears so.
  bool ranElsewhere(const Cont &End, Task &Next);
  /// Fires \p J if every element is in.
  bool endJoin(Join &J, Task &Next);
  /// Commits the firing of \p J (once) with its results (\p Status DONE and
  /// the list) or the first failure, and sets \p Next to its resume.
  bool fireJoin(Join &J, int Status, std::string Value, Task &Next);
  /// The results of a join, from the store: false until all are in. Sets
  /// \p Status and \p Value to the list, or to the first failure by slot.
  bool collectJoin(const Join &J, int &Status, std::string &Value);
  /// Adds to \p C what the end of a chain at \p End commits: an element's
  /// status and value with its arrival, or the outcome kept for an
  /// idempotency key.
  void recordEnd(CommitRequest &C, const Cont &End, int Status,
                 std::string_view Value) const;
  /// Places \p N after \p T in T's chain and queues its message in \p C.
  void queueAfter(const Task &T, Task &N, CommitRequest &C) const;
  std::string encodeMessage(const Task &T) const;
  bool decodeMessage(const Message &M, Task &T);
  std::string encodeStack(const Cont *K) const;
  std::shared_ptr<Cont> decodeStack(const std::string &Bytes);
  std::shared_ptr<Join> recoveredJoin(const std::string &Id);
  std::string newInvocationId();

  const Module &Mod;
  StateStore &Store;
  StateLockTable &Locks;
  std::vector<MachineInfo> Machines;
  Options Opts;
  std::mutex IdMutex;
  uint64_t IdSeed = 0, IdCount = 0;
  /// Joins rebuilt by recover(), by id, until they fire.
  std::mutex JoinsMutex;
  std::map<std::string, std::shared_ptr<Join>> Recovered;

  std::mutex QueueMutex;
  std::condition_variable QueueReady;
  std::deque<Task> Queue;
  bool Stopping = false;
  std::vector<std::thread> Threads;

  /// Queued messages of this executor's chains whose step could not
  /// commit because the store failed (an outage): they stay queued, and
  /// resumeOrphans() runs them again once the store answers, without a
  /// restart. Only this executor's own: another process's queued steps are
  /// its business.
  std::mutex OrphansMutex;
  std::set<std::string> Orphans;
  void orphan(const std::string &MessageId);
  /// Every second while there are orphans (backing off to 30 s while the
  /// store fails): resubmits those still queued.
  void resumeOrphans();
  std::condition_variable OrphansWake;
  std::thread OrphanThread;
};

} // namespace cleave::rt

#endif // CLEAVE_EXECUTOR_H
