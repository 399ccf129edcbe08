//===- Build.h - The `cleave build` pipeline -------------------*- C++ -*-===//
//
// Runs the frontend over every source of the compile database, checks the
// program as a whole (routes, names, state definitions), writes the
// deployment and, unless told not to, builds its handler library.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_DRIVER_BUILD_H
#define CLEAVE_DRIVER_BUILD_H

#include "clang/Tooling/CompilationDatabase.h"

#include <string>
#include <vector>

namespace cleave {

struct BuildOptions {
  std::string OutDir = "cleave-out";
  std::string Name;     ///< deployment name; default: first source
  bool RunBuild = true; ///< build OUT/build after writing OUT
  bool Verbose = true;  ///< progress lines on stderr
  bool Remarks = false; ///< -Rcleave: explain every decision
  /// -j: threads that parse and emit the units, and jobs of the handler
  /// library's build. 0 (not given): one thread, and as many build jobs as
  /// the machine has cores.
  unsigned Jobs = 0;
  /// The folder the manifest's `source:` paths are relative to (files
  /// outside it keep their absolute paths); empty: the working directory.
  std::string SourceRoot;
  /// Link arguments for the handler library (-l, -L, -Wl,..., library
  /// files), besides those of the compile commands.
  std::vector<std::string> LinkFlags;
  /// The file to write the build's dependencies to (Make syntax), empty:
  /// none.
  std::string Depfile;
  std::string RuntimeIncludeDir; ///< defaults to the configured one
  std::string ResourceDir;       ///< defaults to the configured one
};

/// The folder holding <cleave/cleave.h> and the headers generated code
/// includes: PREFIX/include beside an installed PREFIX/bin/cleave, else the
/// source tree's runtime/include.
std::string runtimeIncludeDir();

/// The support library every handler library links: libcleave_support.a
/// in PREFIX/<libdir> beside an installed PREFIX/bin/cleave, else the
/// build tree's.
std::string runtimeSupportLibrary();

/// Runs `cleave build`. Returns the process exit code: 0 on success, 1 when
/// any diagnostic error was reported or a step failed.
int runBuild(const clang::tooling::CompilationDatabase &DB,
             const std::vector<std::string> &Sources, const BuildOptions &Opts);

/// If Args[I] starts a link argument (-l, -L, -Wl,..., -Xlinker, a library
/// file, -rdynamic, -fuse-ld=), how many arguments it spans, after adding
/// it to \p Out (when given) with its paths made absolute in \p Directory;
/// 0 otherwise.
size_t linkArgument(const std::vector<std::string> &Args, size_t I,
                    llvm::StringRef Directory, std::vector<std::string> *Out);

/// The link arguments of a compile command, for the handler library.
std::vector<std::string>
linkFlagsForHandlers(const clang::tooling::CompileCommand &Cmd);

/// The flags to compile the rewritten copy of a unit: the compile command
/// without the compiler, the input, the output and dependency-file options,
/// with relative include paths made absolute.
std::vector<std::string>
flagsForRewrittenUnit(const clang::tooling::CompileCommand &Cmd);

} // namespace cleave

#endif // CLEAVE_DRIVER_BUILD_H
