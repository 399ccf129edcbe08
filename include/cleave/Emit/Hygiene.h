//===- Hygiene.h - Generated code that the program cannot change --*- C++ -*-===//
//
// The handler library compiles the program's own code, then the code cleave
// writes (codecs, handlers, the steps of cut functions), in one unit. The
// program's macros are still defined there. A macro of the program whose
// name the generated code uses itself (`#define Step 1`, `#define S(x)`) is
// undefined for the generated code with #pragma push_macro, unless the
// program's code that cleave copies there (the bodies of cut functions)
// uses it too: then the two cannot be told apart, and it is an error.
// Names that begin with `cleave_`, and the namespace `cleave`, are
// cleave's own: the program may not declare or define them.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_EMIT_HYGIENE_H
#define CLEAVE_EMIT_HYGIENE_H

#include "cleave/Frontend/Diagnostics.h"

#include "clang/AST/ASTContext.h"
#include "clang/Lex/Preprocessor.h"

#include <string>

namespace cleave {

/// Whether \p Name is reserved for generated code: `cleave` or `cleave_...`.
bool isReservedName(llvm::StringRef Name);

/// Reports the declarations of the program's own files with a reserved
/// name, and its declarations in namespace `cleave`.
void checkReservedNames(clang::ASTContext &Ctx, Reporter &Report);

/// Reports the macros the program defines with a reserved name.
void checkReservedMacros(const clang::Preprocessor &PP, Reporter &Report);

/// The lines to put between the program's code and \p Glue, the code
/// cleave writes after it: a push_macro and #undef for each macro of the
/// program that \p Glue names more often than the program's text in
/// \p Copied (the ranges cleave copies into it) does. A macro that both
/// need is reported, as is one that renames a word of \p Inserted (what
/// cleave inserts inside the program's own code, where its macros apply).
std::string macroGuards(const clang::Preprocessor &PP, Reporter &Report,
                        llvm::StringRef Glue,
                        llvm::ArrayRef<std::string> Inserted,
                        llvm::ArrayRef<clang::SourceRange> Copied);

} // namespace cleave

#endif // CLEAVE_EMIT_HYGIENE_H
