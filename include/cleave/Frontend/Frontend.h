//===- Frontend.h - The program model of one translation unit --*- C++ -*-===//
//
// The frontend finds the annotated declarations of one translation unit,
// checks them, and records them in the program model (Program.h), with what
// the later per-unit passes (lowering, rewriting, glue; driven by
// Driver/Unit.h while the AST is alive) need from the AST.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_FRONTEND_FRONTEND_H
#define CLEAVE_FRONTEND_FRONTEND_H

#include "cleave/Frontend/Diagnostics.h"
#include "cleave/Frontend/Program.h"

#include "clang/AST/ASTContext.h"
#include "clang/Tooling/Tooling.h"

#include <memory>
#include <vector>

namespace cleave {

class SerializableChecker;

/// What the later passes over a unit need from its AST, beside the unit's
/// part of the program model.
struct UnitModel {
  /// Entries and function definitions, as indices into the unit's
  /// Functions.
  std::vector<std::pair<size_t, const clang::FunctionDecl *>> EntryDecls;
  std::vector<std::pair<size_t, const clang::FunctionDecl *>> Definitions;
  /// The code spelling of each state variable's type, per unit's States.
  std::vector<std::string> StateTypes;
  /// Every evaluated use of state in the unit.
  std::vector<std::pair<const clang::Expr *, const clang::VarDecl *>> StateUses;
  /// Where a declaration of state without CLEAVE_STATE starts: it becomes
  /// thread_local like the annotated one.
  std::vector<clang::SourceLocation> ThreadLocalAt;
};

/// Checks the annotations of the unit of \p Ctx and records it in \p Unit
/// and \p Model. Problems are reported through \p Report; \p Types keeps
/// the types that need generated codecs.
void buildUnitModel(clang::ASTContext &Ctx, Reporter &Report,
                    SerializableChecker &Types, TranslationUnit &Unit,
                    UnitModel &Model);

/// Where \p Loc is, as the program model records it (absolute file).
SourcePos sourcePos(const clang::SourceManager &SM, clang::SourceLocation Loc);
/// The absolute path of the main file of \p SM.
std::string mainFilePath(const clang::SourceManager &SM);
/// Every file \p SM has read, absolute and sorted: the main file and every
/// header, system ones included (as `-MD` lists them).
std::vector<std::string> inputFiles(const clang::SourceManager &SM);

/// "cleave_handler_" + a C identifier spelling of \p QualifiedName.
std::string handlerSymbol(const std::string &QualifiedName);
/// "cleave_state_" + a C identifier spelling of \p QualifiedName.
std::string stateSymbol(const std::string &QualifiedName);

} // namespace cleave

#endif // CLEAVE_FRONTEND_FRONTEND_H
