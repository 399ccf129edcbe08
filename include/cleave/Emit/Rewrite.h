//===- Rewrite.h - The rewritten copy of a translation unit ----*- C++ -*-===//
//
// The user's own source, as the handler library compiles it: keyed uses of
// a map stored per key go through its per-key view, declarations of state
// without CLEAVE_STATE become thread_local, and the monolith's `main` is
// blanked line for line so that everything after it keeps its lines.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_EMIT_REWRITE_H
#define CLEAVE_EMIT_REWRITE_H

#include "cleave/Analysis/Lowering.h"
#include "cleave/Frontend/Diagnostics.h"
#include "cleave/Frontend/Frontend.h"

#include "clang/AST/ASTContext.h"
#include "clang/Rewrite/Core/Rewriter.h"

#include <string>

namespace cleave {

/// Rewrites, into \p R, every use of a map stored per key into its per-key
/// view. Uses that cannot be rewritten are reported through \p Report when
/// it is given. Every other use of state stays as written: it reaches the
/// thread's copy that the runtime fills.
void rewritePerKeyUses(clang::Rewriter &R, clang::ASTContext &Ctx,
                       const UnitModel &Model, const LoweringPlan &Plan,
                       Reporter *Report);

/// The rewritten main file of the unit of \p Ctx, with the runtime's header
/// and a #line back to the original first; \p Insertions (text before a
/// location) go in too.
std::string rewriteUnit(
    clang::ASTContext &Ctx, const UnitModel &Model, const LoweringPlan &Plan,
    Reporter &Report,
    const std::vector<std::pair<clang::SourceLocation, std::string>>
        &Insertions = {});

} // namespace cleave

#endif // CLEAVE_EMIT_REWRITE_H
