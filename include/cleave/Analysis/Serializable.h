//===- Serializable.h - Which types can cross a boundary ------*- C++ -*-===//
//
// Decides whether a C++ type can be turned into JSON and into a binary frame
// (and back) by the codecs the compiler generates and the runtime provides:
// bool, every integer and floating type, enumerations, std::string, the
// standard sequences, sets, maps, pair, tuple, optional, variant, and classes
// whose bases and data members are themselves serializable, public or not.
// Anything else is explained: the member path to the part that fails, the
// reason, and the declaration to blame.
//
// It also answers what the lowering needs to rebuild a value from a frame
// without running user-written constructors (frame::IsQuiet and
// frame::IsResurrectable in runtime/include/cleave/frame.h): which types are
// quiet and which are resurrectable.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_ANALYSIS_SERIALIZABLE_H
#define CLEAVE_ANALYSIS_SERIALIZABLE_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <optional>
#include <string>

namespace cleave {

/// Why a type cannot be serialized.
struct SerializeProblem {
  /// "'char16_t' is not supported ..." for the type itself, or prefixed by
  /// the member path when a part of it fails: "Order.lines[].sku: ...".
  std::string Reason;
  clang::SourceLocation NoteLoc; ///< the declaration to point at, if any
  std::string Note;              ///< the note's text
};

/// Checks types and remembers the classes and enumerations that need
/// generated codecs.
class SerializableChecker {
public:
  explicit SerializableChecker(clang::ASTContext &Ctx);
  ~SerializableChecker();
  SerializableChecker(const SerializableChecker &) = delete;
  SerializableChecker &operator=(const SerializableChecker &) = delete;

  /// Checks \p T (references and cv-qualifiers already stripped by the
  /// caller). On success the classes and enumerations it contains are added
  /// to records() and enums().
  std::optional<SerializeProblem> check(clang::QualType T);

  /// As check(), for a value that only travels in continuation frames: it
  /// is rebuilt in place there (frame::constructFrame), so a class with
  /// constructors of its own needs no default constructor. A class accepted
  /// this way is still refused by a later check().
  std::optional<SerializeProblem> checkFrame(clang::QualType T);

  /// Every class that needs a codec, dependencies (bases, members) before
  /// dependents where they do not recurse.
  const llvm::SetVector<const clang::CXXRecordDecl *> &records() const {
    return Records;
  }

  /// Every enumeration that needs a table of enumerator names.
  const llvm::SetVector<const clang::EnumDecl *> &enums() const {
    return Enums;
  }

  /// The enumerations that the checker of \p Ctx has accepted so far; empty
  /// when there is none. Lets glue generation find them from the context.
  static llvm::ArrayRef<const clang::EnumDecl *>
  enumsOf(const clang::ASTContext &Ctx);

  /// Whether running \p T's special members is unobservable: no
  /// user-provided constructor, destructor, copy, move or assignment, and
  /// no default member initializer with side effects, anywhere among its
  /// subobjects and elements. Mirrors frame::IsQuiet. \p T must have passed
  /// check().
  bool isQuiet(clang::QualType T);

  /// Whether frame::constructFrame applies to \p T: a quiet type, or a class
  /// whose bases and fields are quiet or themselves resurrectable. Mirrors
  /// frame::IsResurrectable. \p T must have passed check().
  bool isResurrectable(clang::QualType T);

  /// The data members a codec encodes, bases' members first.
  static void
  collectFields(const clang::CXXRecordDecl *RD,
                llvm::SmallVectorImpl<const clang::FieldDecl *> &Out);

private:
  /// checkTypeOnce, remembered for the types found fine: a type made of
  /// the same types many times over (a pair of pairs, 20 deep) is checked
  /// once per type, not once per path.
  std::optional<SerializeProblem> checkType(clang::QualType T,
                                            const std::string &Path,
                                            unsigned Depth);
  std::optional<SerializeProblem> checkTypeOnce(clang::QualType T,
                                                const std::string &Path,
                                                unsigned Depth);
  std::optional<SerializeProblem>
  checkRecord(const clang::CXXRecordDecl *RD, clang::QualType T,
              const std::string &Path, unsigned Depth);
  std::optional<SerializeProblem> checkNameable(const clang::TagDecl *D,
                                                const std::string &Name);
  bool quiet(clang::QualType T, bool Resurrect);

  clang::ASTContext &Ctx;
  llvm::SetVector<const clang::CXXRecordDecl *> Records;
  llvm::SetVector<const clang::EnumDecl *> Enums;
  llvm::SmallPtrSet<const clang::CXXRecordDecl *, 8> InProgress;
  /// checkFrame() is running; and the classes it accepted that have no
  /// default constructor.
  bool FrameOnly = false;
  llvm::SmallPtrSet<const clang::CXXRecordDecl *, 4> WithoutDefault;
  llvm::DenseMap<const clang::CXXRecordDecl *, bool> QuietCache[2];
  /// Canonical types found fine below the top, per FrameOnly; and how many
  /// times a class being checked was taken as fine (a result that relied
  /// on one is not remembered).
  llvm::DenseSet<void *> Fine[2];
  unsigned Assumed = 0;
  /// spelledLength() of the types seen.
  llvm::DenseMap<const clang::Type *, size_t> SpelledLengths;
};

} // namespace cleave

#endif // CLEAVE_ANALYSIS_SERIALIZABLE_H
