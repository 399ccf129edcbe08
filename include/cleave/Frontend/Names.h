//===- Names.h - How declarations and types are spelled --------*- C++ -*-===//
//
// The names the program model records and generated code uses: qualified
// names of declarations, and types as people read them and as code that
// lives at global scope must spell them.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_FRONTEND_NAMES_H
#define CLEAVE_FRONTEND_NAMES_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"

#include "llvm/ADT/DenseMap.h"

#include <string>

namespace cleave {

/// The printing policy of generated code: no anonymous namespaces or tag
/// locations, template arguments spelled, `bool` for booleans.
clang::PrintingPolicy codePrintingPolicy(const clang::ASTContext &Ctx);

/// A type's name as generated code spells it: fully qualified from the
/// global namespace, anonymous namespaces left out.
std::string codeTypeName(clang::QualType T, const clang::ASTContext &Ctx);

/// About how many characters codeTypeName spells \p T with, found in time
/// linear in the number of distinct types it is made of (the spelling
/// itself may be exponentially longer: `P<Q, Q>` nested). \p Memo keeps the
/// lengths of the types seen, for the next call.
size_t spelledLength(clang::QualType T,
                     llvm::DenseMap<const clang::Type *, size_t> &Memo);

/// A declaration's qualified name without anonymous namespaces: "ns::stock".
std::string qualifiedName(const clang::NamedDecl *D);

/// A type's name as people read it: "std::map<std::string, int>".
std::string displayTypeName(clang::QualType T, const clang::ASTContext &Ctx);

} // namespace cleave

#endif // CLEAVE_FRONTEND_NAMES_H
