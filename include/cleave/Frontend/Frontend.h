//===- Frontend.h - Analyse and rewrite each translation unit --*- C++ -*-===//
//
// The per-unit half of `cleave build`: a Clang frontend action that finds the
// annotated declarations of one translation unit, checks them, records them
// in the program model, and produces the unit's rewritten source and glue.
// Everything that needs the AST happens here, while it is alive; the
// whole-program half (routes, call graph closure, output) works on the model.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_FRONTEND_FRONTEND_H
#define CLEAVE_FRONTEND_FRONTEND_H

#include "cleave/Frontend/Program.h"

#include "clang/Tooling/Tooling.h"

#include <memory>
#include <vector>

namespace cleave {

struct LoweringPlan;

struct FrontendResult {
  /// Input: where functions stop, for the whole program. Without one, each
  /// unit plans from what it sees itself (enough for a one-unit program).
  const LoweringPlan *Plan = nullptr;
  /// Input: only build the program model (a first pass over every unit, for
  /// the whole-program plan); nothing is rewritten or generated, and units
  /// are kept even when their diagnostics failed.
  bool ScanOnly = false;

  std::vector<TranslationUnit> Units;
  /// Units whose own diagnostics (syntax or Cleave errors) failed.
  unsigned FailedUnits = 0;
  /// Units run under `-Xclang -verify`: their diagnostics are checked by
  /// Clang's verifier, and nothing is emitted.
  unsigned VerifiedUnits = 0;
};

/// An action factory for ClangTool::run that appends one TranslationUnit per
/// successfully analysed source to \p Result.
std::unique_ptr<clang::tooling::FrontendActionFactory>
newFrontendActionFactory(FrontendResult &Result);

/// "cleave_handler_" + a C identifier spelling of \p QualifiedName.
std::string handlerSymbol(const std::string &QualifiedName);
/// "cleave_state_" + a C identifier spelling of \p QualifiedName.
std::string stateSymbol(const std::string &QualifiedName);

} // namespace cleave

#endif // CLEAVE_FRONTEND_FRONTEND_H
