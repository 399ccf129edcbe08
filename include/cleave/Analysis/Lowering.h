//===- Lowering.h - Which functions run as steps, and where they stop -*- C++ -*-===//
//
// The whole-program half of lowering (DESIGN.md, section 2.4). From the
// placement decisions it works out which calls stop a function (a
// suspension) and which functions therefore run as chains of steps:
//   - a call placed as a boundary or fan-out stops its caller;
//   - a function with a suspension runs as steps, and so does every
//     function that calls it from code reached by an entry: such a call is a
//     suspension too (a local hop: the callee's steps run in the same
//     process, and the caller resumes with its value);
//   - the callee of a boundary or fan-out runs as a machine of its own, even
//     when it never stops.
// Works on the program model only; the per-unit half (StateMachine.h) cuts
// the function bodies while their ASTs are alive.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_ANALYSIS_LOWERING_H
#define CLEAVE_ANALYSIS_LOWERING_H

#include "cleave/Analysis/Placement.h"
#include "cleave/Frontend/Program.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace cleave {

enum class SuspensionKind { Boundary, FanOut, Local };
const char *suspensionKindName(SuspensionKind K); ///< "boundary", "fanout", "local"

struct Suspension {
  SourcePos Pos;      ///< the call, as CallSite::Pos
  std::string Callee; ///< USR
  SuspensionKind Kind = SuspensionKind::Boundary;
};

struct LoweringPlan {
  /// Functions that run as steps, by USR, with their machine names (the
  /// function's name; a plain helper overloaded with another gets "#2"...).
  std::map<std::string, std::string> Machines;
  /// The suspensions of each function that has any, by caller USR.
  std::map<std::string, std::vector<Suspension>> Sites;
  /// State variables stored per key, by name (Program::granularityOf).
  std::set<std::string> PerKey;

  bool isMachine(const std::string &USR) const { return Machines.count(USR); }
  const Suspension *find(const std::string &Caller, const SourcePos &P) const;
};

LoweringPlan planLowering(const Program &P,
                          const std::vector<Placement> &Placements);

} // namespace cleave

#endif // CLEAVE_ANALYSIS_LOWERING_H
