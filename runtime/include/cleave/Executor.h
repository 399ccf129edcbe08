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

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
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

  /// Starts \p Workers threads (at least one). \p Mod, \p Store and
  /// \p Locks must outlive the executor.
  Executor(const Module &Mod, StateStore &Store, StateLockTable &Locks,
           std::vector<MachineInfo> Machines, unsigned Workers);
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
  /// and returns its outcome.
  Outcome run(int Machine, std::string Args);

  unsigned workers() const { return static_cast<unsigned>(Threads.size()); }

  struct Cont;
  struct Join;
  struct Task {
    int Machine = -1;
    uint32_t Step = 0;
    std::string Frame;
    std::string Input;
    std::shared_ptr<Cont> Then;
  };

private:
  void submit(Task T);
  void work();
  void runChain(Task T);
  /// Delivers a chain's value (or failure) to \p K; returns true and sets
  /// \p Next when this worker should go on with another step.
  bool deliver(const std::shared_ptr<Cont> &K, int Status, std::string Value,
               Task &Next);

  const Module &Mod;
  StateStore &Store;
  StateLockTable &Locks;
  std::vector<MachineInfo> Machines;

  std::mutex QueueMutex;
  std::condition_variable QueueReady;
  std::deque<Task> Queue;
  bool Stopping = false;
  std::vector<std::thread> Threads;
};

} // namespace cleave::rt

#endif // CLEAVE_EXECUTOR_H
