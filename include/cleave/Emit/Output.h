//===- Output.h - Write a deployment to disk ------------------*- C++ -*-===//
//
// Writes OUT/: the rewritten units and their glue under src/, the module
// table (src/cleave_module.cpp), a CMake project that builds the handler
// library, and manifest.yaml. Optionally builds the project into OUT/build.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_EMIT_OUTPUT_H
#define CLEAVE_EMIT_OUTPUT_H

#include "cleave/Frontend/Program.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace cleave {

struct OutputOptions {
  std::string OutDir;
  std::string RuntimeIncludeDir; ///< where <cleave/handler.h> lives
  std::string SupportLibrary;    ///< libcleave_support.a, linked first
  /// Linked into the handler library, in order (target_link_libraries).
  std::vector<std::string> LinkFlags;
  /// The C++ compiler of the handler library's build; empty: CMake's
  /// choice (CXX, else c++). CMAKE_CXX_COMPILER in the environment wins.
  std::string Compiler;
};

/// The library file name the generated CMake project produces.
inline constexpr const char *ArtifactPath = "build/libcleave_handlers.so";

/// The manifest as YAML text.
std::string renderManifest(const Program &P, const std::string &SourceBase);

/// The module table source: handler table and state registry.
std::string renderModuleSource(const Program &P);

/// The CMake project that builds the handler library.
std::string renderCMakeLists(const Program &P, const OutputOptions &Opts);

/// Writes every file of the deployment under Opts.OutDir. A file whose
/// content is already there is not written again: it keeps its time stamp,
/// and the build does not compile it again.
llvm::Error writeDeployment(const Program &P, const OutputOptions &Opts,
                            const std::string &SourceBase);

/// Writes a Make-style dependency file at \p Path naming OUT/manifest.yaml
/// as depending on every file the units read, and updates the manifest's
/// time, so that the build tool that ran cleave sees the step done even
/// when no generated file changed.
llvm::Error writeDepfile(const Program &P, const OutputOptions &Opts,
                         const std::string &Path);

/// Configures and builds OUT/build with CMake, logging to
/// OUT/build/cleave-build.log; on failure the error carries the log's tail.
/// \p Jobs units are compiled at a time (0: as many as the machine has
/// cores). The build is incremental: writeDeployment() leaves a file that
/// would not change untouched, so only what changed is compiled again.
llvm::Error buildDeployment(const OutputOptions &Opts, unsigned Jobs,
                            bool Verbose);

} // namespace cleave

#endif // CLEAVE_EMIT_OUTPUT_H
