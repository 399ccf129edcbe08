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

/// An inclusion directive of a unit, as the preprocessor resolved it.
struct Inclusion {
  clang::SourceLocation Hash;      ///< the directive's '#'
  clang::CharSourceRange Filename; ///< "name" or <name>, as written
  std::string Resolved;            ///< the file it named, by its real path
  bool Written = false;            ///< the name is spelled out, not a macro
  bool Angled = false;             ///< <name>: found on the search path only
};

/// Where the copies of a unit's edited headers go, relative to the
/// directory of its rewritten main file: cleave_include/<stem>_<hash>.
std::string headerCopyDir(llvm::StringRef Source);

/// The rewritten main file of the unit of \p Ctx, with the runtime's header
/// and a #line back to the original first; \p Insertions (text before a
/// location) go in too.
///
/// An insertion in an included file (the machine of a member function of a
/// class defined in a header) is made in a copy of that file, and so in a
/// copy of every file that includes it, up to the main file: each copy's
/// inclusion directives name the copies, or the files they named before by
/// their paths, so that every name resolves as in the original. The copies
/// go to \p Headers, as paths relative to the rewritten main file's
/// directory, with their text.
std::string rewriteUnit(
    clang::ASTContext &Ctx, const UnitModel &Model, const LoweringPlan &Plan,
    Reporter &Report,
    const std::vector<std::pair<clang::SourceLocation, std::string>>
        &Insertions,
    llvm::ArrayRef<Inclusion> Includes,
    std::vector<std::pair<std::string, std::string>> &Headers);

} // namespace cleave

#endif // CLEAVE_EMIT_REWRITE_H
