//===- Placement.h - Decide where each call runs ----------------*- C++ -*-===//
//
// The allocator of Cleave (DESIGN.md, section 2.3): for every call from an
// entry or a CLEAVE_FUNCTION to another annotated function, through plain
// helpers in any unit, decide whether the call stays local (the callee is
// inlined into the caller's unit) or becomes a boundary:
//   - the callee's resource profile differs (memory, timeout, gpu,
//     concurrency);
//   - the callee says `isolate`;
//   - the call is a cleave::parallel_map fan-out.
// Works on the program model only, after every unit's AST is gone.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_ANALYSIS_PLACEMENT_H
#define CLEAVE_ANALYSIS_PLACEMENT_H

#include "cleave/Frontend/Program.h"

#include <string>
#include <vector>

namespace cleave {

struct Placement {
  const FunctionNode *Owner;  ///< the unit whose code makes the call
  const FunctionNode *Callee; ///< an annotated function
  const CallSite *Site;
  std::vector<const FunctionNode *> Via; ///< plain helpers on the way
  bool Boundary = false;
  bool FanOut = false;
  std::string Reason; ///< "memory 2048 MiB vs 256 MiB", "it is marked isolate"
};

/// Every placement decision of \p P, in a stable order: units reached from
/// the entries (entries in source order, then the functions that run as
/// their own units), each unit's calls in source order.
std::vector<Placement> placeCalls(const Program &P);

/// A call to an annotated function that would cross profiles, made where
/// cleave cannot cut (HiddenCall): an error.
struct HiddenCrossing {
  const FunctionNode *Owner;  ///< the unit that runs the code
  const FunctionNode *Caller; ///< the function whose code leads there
  const HiddenCall *Call;
  const FunctionNode *Callee;
  std::string Reason; ///< as Placement::Reason
};

/// Every hidden call of the functions each unit runs (its owner's own code,
/// helpers and callees that stay local) to an annotated function that
/// would run as its own function.
std::vector<HiddenCrossing> hiddenCrossings(const Program &P);

/// How \p Callee's profile differs from \p Caller's, "" when it does not:
/// "memory 2048 MiB vs 256 MiB, gpu 1 vs 0".
std::string profileDifference(const Resources &Callee, const Resources &Caller);

/// The remark text for one decision, as `-Rcleave` prints it.
std::string describePlacement(const Placement &D);

} // namespace cleave

#endif // CLEAVE_ANALYSIS_PLACEMENT_H
