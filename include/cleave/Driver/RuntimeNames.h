//===- RuntimeNames.h - What the handler library's headers declare -*- C++
//-*-===//
//
// The handler library compiles each rewritten unit after
// `#include <cleave/handler.h>`, which brings the C and C++ libraries' and
// nlohmann/json's headers with it. A name the program gives something at
// global scope that one of those headers declares too (`index` and <cstring>,
// `log` and <cmath>), and an identifier of the program that one of them
// defines as a macro (`assert`), would change there: a clash, or, worse, a
// call that picks another function than in the program. The program is
// compiled as a plain program without those headers, so cleave compares:
// the headers are parsed once per set of compiler flags, and each unit's
// global names and identifiers are checked against what they declare.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_DRIVER_RUNTIMENAMES_H
#define CLEAVE_DRIVER_RUNTIMENAMES_H

#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>
#include <vector>

namespace clang {
class ASTContext;
class Preprocessor;
} // namespace clang

namespace cleave {

class Reporter;

/// The global names and macros that `#include <cleave/handler.h>` brings
/// into a unit, each with the header that declares it.
struct RuntimeNames {
  struct Global {
    std::string Header;
    /// Whether every declaration of the name is a function (or function
    /// template), and the numbers of arguments each takes: [min, max].
    bool Functions = true;
    /// Whether it names a namespace, which the program may reopen.
    bool Namespace = false;
    std::vector<std::pair<unsigned, unsigned>> Arities;
  };
  llvm::StringMap<Global> Globals;
  llvm::StringMap<std::string> Macros;
  /// Set when the headers do not compile with the unit's flags: the first
  /// error, as Clang printed it.
  std::string Failure;
};

/// What the handler library's headers declare when compiled with \p Args,
/// the unit's adjusted command line (compiler first) less its source file
/// \p Source. Parsed once per distinct command line, in the working
/// directory of the caller; safe to call from several threads.
std::shared_ptr<const RuntimeNames>
runtimeNamesFor(const std::vector<std::string> &Args, llvm::StringRef Source);

/// Reports, as located errors, each global declaration and each identifier
/// of the program (outside system headers) that \p Names would change in
/// the handler library, once per name.
void checkRuntimeNames(clang::ASTContext &Ctx, clang::Preprocessor &PP,
                       Reporter &Report, const RuntimeNames &Names);

} // namespace cleave

#endif // CLEAVE_DRIVER_RUNTIMENAMES_H
