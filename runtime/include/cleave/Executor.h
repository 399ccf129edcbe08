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
// are applied when it returns, before the next step runs.
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
#include <optional>
#include <memory>
#include <mutex>
#include <string>
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
    /// Every step's next message, and a dedup record, are committed with
    /// its state writes, so that recover() can finish the chains a crash
    /// interrupted. Off for an in-memory store, where nothing survives.
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

  unsigned workers() const { return static_cast<unsigned>(Threads.size()); }

  struct Cont;
  struct Join;
  struct Task {
    int Machine = -1;
    uint32_t Step = 0;
    std::string Frame;
    std::string Input;
    std::shared_ptr<Cont> Then;
    // Durable chains: where the step is in its invocation.
    std::string Invocation;
    std::string Prefix; ///< "" for the entry's chain, "3.1:" for an element
    uint32_t Seq = 0;
    bool Queued = false; ///< its message is in the store's queue
    std::string messageId() const {
      return Invocation + "/" + Prefix + std::to_string(Seq);
    }
  };

private:
  struct StepResult;
  void submit(Task T);
  void work();
  void runChain(Task T);
  /// Runs one step as a transaction, again while its commit conflicts.
  /// Returns false when the chain must not go on (a duplicate run).
  bool runStep(Task &T, StepResult &R, Task &Next, std::vector<Task> &Spawn);
  /// Delivers a chain's value (or failure) to \p K; returns true and sets
  /// \p Next when this worker should go on with another step.
  bool deliver(const std::shared_ptr<Cont> &K, int Status, std::string Value,
               Task &Next);
  std::string encodeMessage(const Task &T) const;
  bool decodeMessage(const Message &M, Task &T);
  std::string encodeStack(const std::shared_ptr<Cont> &K) const;
  std::shared_ptr<Cont> decodeStack(const std::string &Bytes);
  std::shared_ptr<Join> recoveredJoin(const std::string &Id);
  /// The results of a join, from the store; false until all are in.
  bool collectJoin(Join &J, std::string &List);
  /// Commits the join's firing (once) and sets \p Next to its resume.
  bool fireJoin(Join &J, std::string List, Task &Next);
  std::string newInvocationId();

  const Module &Mod;
  StateStore &Store;
  StateLockTable &Locks;
  std::vector<MachineInfo> Machines;
  Options Opts;
  std::mutex IdMutex;
  uint64_t IdSeed = 0, IdCount = 0;
  /// Joins rebuilt by recover(), by id.
  std::mutex JoinsMutex;
  std::map<std::string, std::shared_ptr<Join>> Recovered;

  std::mutex QueueMutex;
  std::condition_variable QueueReady;
  std::deque<Task> Queue;
  bool Stopping = false;
  std::vector<std::thread> Threads;
};

} // namespace cleave::rt

#endif // CLEAVE_EXECUTOR_H
