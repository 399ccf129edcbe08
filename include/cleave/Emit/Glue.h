//===- Glue.h - Generated code appended to each translation unit -*- C++
//-*-===//
//
// The glue that turns a rewritten translation unit into part of a handler
// library: a JSON codec for every user struct that crosses the HTTP boundary
// or lives in the state store, one handler per entry (decode the arguments,
// call the function, encode the result), and the type-erased operations of
// each state variable the unit defines.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_EMIT_GLUE_H
#define CLEAVE_EMIT_GLUE_H

#include "cleave/Frontend/Names.h"
#include "cleave/Frontend/Program.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "llvm/ADT/ArrayRef.h"

#include <string>

namespace cleave {

struct GlueEntry {
  const FunctionNode *Node;
  std::string Callee; ///< how glue at global scope names it: "::place_order"
};

struct GlueState {
  const StateVar *Var;
  std::string CodeType; ///< fully qualified type
};

/// The glue text for one unit. \p Records must list dependencies first.
std::string generateGlue(clang::ASTContext &Ctx,
                         llvm::ArrayRef<const clang::CXXRecordDecl *> Records,
                         llvm::ArrayRef<GlueEntry> Entries,
                         llvm::ArrayRef<GlueState> States);

/// A C++ string literal (or #line file name) holding \p S.
std::string cppStringLiteral(llvm::StringRef S);

/// A comment line that names what the generated code after it is for:
/// `// cleave-for: FILE:LINE:COL: WHAT`. Should the C++ compiler fail on
/// that code, `cleave build` reports the failure at \p At, in the program,
/// with the generated line as a note (Output.h). Empty for an invalid \p At.
std::string forMarker(const SourcePos &At, llvm::StringRef What);

} // namespace cleave

#endif // CLEAVE_EMIT_GLUE_H
