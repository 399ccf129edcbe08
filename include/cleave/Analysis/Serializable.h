//===- Serializable.h - Which types can cross a boundary ------*- C++ -*-===//
//
// Decides whether a C++ type can be turned into JSON (and back) by the
// serializers the compiler generates: arithmetic types, bool, enums,
// std::string, std::vector, std::map / std::unordered_map with std::string
// keys, std::optional, and structs whose data members are all public and
// themselves serializable. Anything else is explained: the reason, and the
// declaration to blame.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_ANALYSIS_SERIALIZABLE_H
#define CLEAVE_ANALYSIS_SERIALIZABLE_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <optional>
#include <string>

namespace cleave {

/// Why a type cannot be serialized.
struct SerializeProblem {
  std::string Reason;            ///< "'Secret' has private data member 'x'"
  clang::SourceLocation NoteLoc; ///< the declaration to point at, if any
  std::string Note;              ///< the note's text
};

/// Checks types and remembers the user structs that need generated codecs.
class SerializableChecker {
public:
  explicit SerializableChecker(clang::ASTContext &Ctx) : Ctx(Ctx) {}

  /// Checks \p T (references and cv-qualifiers already stripped by the
  /// caller). On success the structs it contains are added to records().
  std::optional<SerializeProblem> check(clang::QualType T);

  /// Every struct that needs a codec, dependencies before dependents.
  const llvm::SetVector<const clang::CXXRecordDecl *> &records() const {
    return Records;
  }

  /// The data members a codec encodes, bases' members first.
  static void
  collectFields(const clang::CXXRecordDecl *RD,
                llvm::SmallVectorImpl<const clang::FieldDecl *> &Out);

private:
  std::optional<SerializeProblem> checkRecord(const clang::CXXRecordDecl *RD,
                                              clang::QualType T,
                                              bool NeedsCodec = true);

  clang::ASTContext &Ctx;
  llvm::SetVector<const clang::CXXRecordDecl *> Records;
  llvm::SmallPtrSet<const clang::CXXRecordDecl *, 8> InProgress;
};

} // namespace cleave

#endif // CLEAVE_ANALYSIS_SERIALIZABLE_H
