//===- Unit.h - The passes over one translation unit -----------*- C++ -*-===//
//
// The per-unit half of `cleave build`. A unit is parsed once, and its AST
// stays alive between two passes:
//   - the scan: the frontend (the unit's program model, Frontend.h), which
//     the whole-program plan (Analysis/Lowering.h) needs from every unit;
//   - the emission, with that plan: the lowering of the unit's functions
//     that run as steps (Emit/StateMachine.h), the rewriting of its source
//     (Emit/Rewrite.h) and its glue (Emit/Glue.h).
// The whole-program half (Build.h) works on the models the units leave
// behind.
//
// Units are independent of each other and may be parsed and emitted on
// different threads: everything Clang and Cleave print about a unit goes to
// the unit's own buffer, which the driver prints in the order of the
// sources. The one thing units share is the process's working directory:
// the driver runs a unit only while it is the directory of the unit's
// compile command, as ClangTool does.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_DRIVER_UNIT_H
#define CLEAVE_DRIVER_UNIT_H

#include "cleave/Frontend/Program.h"

#include "clang/Tooling/ArgumentsAdjusters.h"
#include "clang/Tooling/CompilationDatabase.h"

#include <memory>
#include <string>

namespace cleave {

struct LoweringPlan;

/// One translation unit of `cleave build`: its compiler instance, kept
/// from the parse in scan() to the end of emit().
class UnitPass {
public:
  /// A unit compiled with \p Command (as the compile database gives it;
  /// \p Adjust is applied to its command line first).
  UnitPass(clang::tooling::CompileCommand Command,
           clang::tooling::ArgumentsAdjuster Adjust);
  ~UnitPass();
  UnitPass(const UnitPass &) = delete;
  UnitPass &operator=(const UnitPass &) = delete;

  /// Parses the unit and builds its part of the program model. A unit that
  /// fails here (it does not parse, is not C++17, or its annotations are
  /// wrong) is finished: its AST is gone and its output complete.
  void scan();

  /// The unit's part of the program model, for the whole-program plan: set
  /// after scan() for every unit with an AST of C++17 or later, even one
  /// with errors, as the other units' lowering depends on what it declares.
  const TranslationUnit *scanned() const;

  /// Whether the unit waits for emit(): scan() left it without errors.
  bool needsEmission() const;

  /// Lowers, rewrites and generates the glue of a unit that needs it, with
  /// the whole program's \p Plan, then finishes the unit.
  void emit(const LoweringPlan &Plan);

  /// Whether the unit is finished: its AST is freed, and under `-Xclang
  /// -verify` its diagnostics are checked.
  bool finished() const;

  /// What Clang and Cleave printed about the unit so far, as a compiler
  /// prints it: diagnostics, then "N errors generated." once finished.
  /// Taking it empties the buffer.
  std::string takeOutput();

  /// Once finished: whether Clang reported an error (under -verify: a
  /// diagnostic that did not match), as ClangTool counts a failed file.
  bool failed() const;
  /// Whether the unit is run under `-Xclang -verify`: its diagnostics are
  /// checked by Clang's verifier, and nothing of it is written.
  bool verified() const;
  /// Once finished without errors and not verified: the unit, rewritten
  /// and with its glue. Moves it out.
  TranslationUnit takeUnit();

private:
  class Impl;
  std::unique_ptr<Impl> P;
};

} // namespace cleave

#endif // CLEAVE_DRIVER_UNIT_H
