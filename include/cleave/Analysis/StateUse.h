//===- StateUse.h - How an expression uses program state ------*- C++ -*-===//
//
// Classifies one use of a CLEAVE_STATE variable as a read, a write, or both,
// from the expression around it: `x = 1` writes, `++x` and `m[k] -= 1` read
// and write, `m.at(k)` through a const method reads. Anything the rules do
// not recognize counts as read and write, which is always safe.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_ANALYSIS_STATEUSE_H
#define CLEAVE_ANALYSIS_STATEUSE_H

#include "cleave/Frontend/Program.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"

namespace cleave {

/// How the expression containing \p Ref uses the state variable it names.
StateAccess classifyStateUse(const clang::Expr *Ref, clang::ASTContext &Ctx);

/// True when \p Ref sits in an unevaluated operand (sizeof, alignof,
/// decltype, noexcept, typeid of a non-polymorphic type): no access at all.
bool isUnevaluatedUse(const clang::Expr *Ref, clang::ASTContext &Ctx);

/// The key type of a state variable of type \p T that may be stored per
/// key: a std::map or std::unordered_map (keyed by std::string, as every
/// serializable map is). A null type otherwise, with \p WhyNot saying why.
clang::QualType perKeyType(clang::QualType T, std::string &WhyNot);

/// True when \p Ref, a use of a map-typed state variable, is a keyed access:
/// `m[k]`, `m.at(k)`, `m.count(k)`, `m.contains(k)` or `m.erase(k)`.
/// Otherwise \p What describes the use ("calls 'size'").
bool isKeyedUse(const clang::Expr *Ref, clang::ASTContext &Ctx,
                std::string &What);

/// The state variable whose find() initializes \p Local, a local
/// `auto it = m.find(k)`; null for any other local.
const clang::VarDecl *findIteratorSource(const clang::VarDecl *Local);

/// The CLEAVE_STATE variable \p D declares, if it is one (the annotation may
/// sit on any redeclaration).
const clang::VarDecl *asStateVar(const clang::Decl *D);

} // namespace cleave

#endif // CLEAVE_ANALYSIS_STATEUSE_H
