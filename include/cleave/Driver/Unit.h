//===- Unit.h - The passes over one translation unit -----------*- C++ -*-===//
//
// The per-unit half of `cleave build`, a Clang frontend action. While a
// unit's AST is alive it runs, in order: the frontend (the unit's program
// model, Frontend.h), the lowering of its functions that run as steps
// (Emit/StateMachine.h), the rewriting of its source (Emit/Rewrite.h) and
// its glue (Emit/Glue.h). The whole-program half (Build.h) works on the
// model the units leave behind.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_DRIVER_UNIT_H
#define CLEAVE_DRIVER_UNIT_H

#include "cleave/Frontend/Frontend.h"

#include "clang/Tooling/Tooling.h"

#include <memory>

namespace cleave {

/// An action factory for ClangTool::run that appends one TranslationUnit per
/// successfully processed source to \p Result.
std::unique_ptr<clang::tooling::FrontendActionFactory>
newFrontendActionFactory(FrontendResult &Result);

} // namespace cleave

#endif // CLEAVE_DRIVER_UNIT_H
