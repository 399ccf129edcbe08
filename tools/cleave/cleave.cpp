//===- cleave.cpp - The cleave command line -------------------------------===//
//
// Option parsing and wiring only; the work is done in lib/.
//
//   cleave build [-p BUILD_DIR] [-o OUT] [-j N] [--no-build] SOURCES...
//                [-- FLAGS]
//   cleave inspect OUT
//
//===----------------------------------------------------------------------===//

#include "cleave/Config.h"
#include "cleave/Driver/Build.h"
#include "cleave/Manifest.h"
#include "cleave/StateStore.h"

#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

using namespace cleave;

namespace {

const char *Usage =
    "OVERVIEW: cleave - compile an annotated C++ program into a serverless "
    "deployment\n\n"
    "USAGE:\n"
    "  cleave build [options] SOURCES... [-- COMPILER FLAGS]\n"
    "  cleave inspect [--format=table|json|dot] OUT\n"
    "  cleave state OUT dump|get KEY [--state=STORE]\n\n"
    "BUILD OPTIONS:\n"
    "  -p DIR          read compile_commands.json from DIR (as every clang "
    "tool)\n"
    "  -o OUT          write the deployment to OUT (default: cleave-out)\n"
    "  --name NAME     the deployment's name (default: the first source's "
    "stem)\n"
    "  --no-build      write OUT but do not build its handler library\n"
    "  -j N, --jobs=N  parse and cut N units at a time (default: 1), and\n"
    "                  build the handler library with N jobs (default: one\n"
    "                  per core); every unit's AST stays in memory until\n"
    "                  the whole program is planned, whatever N is\n"
    "  -q, --quiet     no progress lines\n"
    "  -Rcleave        a remark for every placement decision (which calls\n"
    "                  stay local, which become boundaries, and why)\n\n"
    "  Without -p and without '--', the compile database is searched for\n"
    "  from the first source's directory upwards. With -p and no sources,\n"
    "  every file of the database is compiled.\n\n"
    "INSPECT:\n"
    "  cleave inspect OUT                 OUT/manifest.yaml as tables\n"
    "  cleave inspect --format=json OUT   ... as JSON, for scripts\n"
    "  cleave inspect --format=dot OUT    ... as a Graphviz graph "
    "(| dot -Tsvg)\n\n"
    "STATE:\n"
    "  cleave state OUT dump             every stored state value, as JSON\n"
    "  cleave state OUT get KEY          one value ('stock', 'stock/apple';\n"
    "                                    a map stored per key: its entries)\n"
    "  --state=STORE                     another store than cleave-run's\n"
    "                                    default OUT/.cleave/state.db:\n"
    "                                    sqlite:PATH or redis://HOST:PORT\n\n"
    "OTHER:\n"
    "  --help, --version\n";

int usageError(const std::string &Message) {
  llvm::errs() << "cleave: error: " << Message << "\n"
               << "run 'cleave --help' for usage\n";
  return 2;
}

int runBuildCommand(int Argc, const char **Argv) {
  // Argv[0] is the program, Argv[1] "build". Everything after "--" is
  // compiler flags for a fixed compile database. -Rcleave is cleave's own
  // remark flag wherever it is written: take it out before Clang sees it.
  BuildOptions Opts;
  int Kept = 0;
  for (int I = 0; I < Argc; ++I) {
    if (llvm::StringRef(Argv[I]) == "-Rcleave")
      Opts.Remarks = true;
    else
      Argv[Kept++] = Argv[I];
  }
  Argc = Kept;
  std::string ErrMsg;
  std::unique_ptr<clang::tooling::CompilationDatabase> DB =
      clang::tooling::FixedCompilationDatabase::loadFromCommandLine(Argc, Argv,
                                                                    ErrMsg);
  if (!ErrMsg.empty()) {
    // Clang's message carries its own "error: ".
    llvm::StringRef Msg(ErrMsg);
    Msg = Msg.trim();
    Msg.consume_front("error: ");
    return usageError(Msg.str());
  }

  std::string BuildPath;
  std::vector<std::string> Sources;
  for (int I = 2; I < Argc; ++I) {
    llvm::StringRef A = Argv[I];
    auto Value = [&](llvm::StringRef Flag, std::string &Out) -> bool {
      if (A == Flag) {
        if (I + 1 >= Argc)
          return false;
        Out = Argv[++I];
        return true;
      }
      if (A.starts_with(Flag.str() + "=")) {
        Out = A.drop_front(Flag.size() + 1).str();
        return true;
      }
      if (Flag.size() == 2 && A.starts_with(Flag) && A.size() > 2) {
        Out = A.drop_front(2).str();
        return true;
      }
      return false;
    };
    if (A == "--no-build") {
      Opts.RunBuild = false;
    } else if (A == "-q" || A == "--quiet") {
      Opts.Verbose = false;
    } else if (A.starts_with("-j") || A.starts_with("--jobs")) {
      std::string N;
      unsigned Jobs = 0;
      if (!(A.starts_with("-j") ? Value("-j", N) : Value("--jobs", N)) ||
          llvm::StringRef(N).getAsInteger(10, Jobs) || Jobs == 0)
        return usageError("-j needs a number of jobs, 1 or more");
      Opts.Jobs = Jobs;
    } else if (A.starts_with("-p")) {
      if (!Value("-p", BuildPath))
        return usageError("-p needs a directory");
    } else if (A.starts_with("-o")) {
      if (!Value("-o", Opts.OutDir))
        return usageError("-o needs a directory");
    } else if (A.starts_with("--name")) {
      if (!Value("--name", Opts.Name))
        return usageError("--name needs a value");
    } else if (A.starts_with("-")) {
      return usageError("unknown option '" + A.str() + "'");
    } else {
      Sources.push_back(A.str());
    }
  }

  if (!DB && !BuildPath.empty()) {
    if (!llvm::sys::fs::is_directory(BuildPath)) {
      llvm::errs() << "cleave: error: -p: no such directory: '" << BuildPath
                   << "'\n";
      return 1;
    }
    // Like every clang tool, search BuildPath and its parents.
    DB = clang::tooling::CompilationDatabase::autoDetectFromDirectory(BuildPath,
                                                                      ErrMsg);
    if (!DB) {
      llvm::errs() << "cleave: error: cannot load a compile database from '"
                   << BuildPath << "': " << ErrMsg << "\n";
      return 1;
    }
  }
  if (!DB && !Sources.empty()) {
    DB = clang::tooling::CompilationDatabase::autoDetectFromSource(Sources[0],
                                                                   ErrMsg);
    if (!DB) {
      llvm::errs() << "cleave: warning: no compile database found for '"
                   << Sources[0]
                   << "'; compiling without flags (pass -p BUILD_DIR or "
                      "flags after '--')\n";
      DB = std::make_unique<clang::tooling::FixedCompilationDatabase>(
          ".", std::vector<std::string>{});
    }
  }
  if (Sources.empty() && DB)
    Sources = DB->getAllFiles();
  if (Sources.empty())
    return usageError("no source files given");
  for (const auto &S : Sources)
    if (!llvm::sys::fs::exists(S)) {
      llvm::errs() << "cleave: error: no such file: '" << S << "'\n";
      return 1;
    }
  DB = clang::tooling::inferMissingCompileCommands(std::move(DB));
  return runBuild(*DB, Sources, Opts);
}

int runInspectCommand(int Argc, const char **Argv) {
  std::string Path, Format = "table";
  for (int I = 2; I < Argc; ++I) {
    llvm::StringRef A = Argv[I];
    if (A.consume_front("--format=")) {
      Format = A.str();
    } else if (A == "--format" && I + 1 < Argc) {
      Format = Argv[++I];
    } else if (A.starts_with("-")) {
      return usageError("unknown option '" + A.str() + "'");
    } else if (Path.empty()) {
      Path = A.str();
    } else {
      return usageError("inspect takes one argument: the output directory");
    }
  }
  if (Path.empty())
    return usageError("inspect takes one argument: the output directory");
  if (Format != "table" && Format != "json" && Format != "dot")
    return usageError("unknown format '" + Format +
                      "' (expected table, json or dot)");
  if (llvm::sys::fs::is_directory(Path)) {
    llvm::SmallString<256> P(Path);
    llvm::sys::path::append(P, "manifest.yaml");
    Path = std::string(P);
  }
  auto M = rt::loadManifest(Path);
  if (!M) {
    if (!M.error().isLocated())
      llvm::errs() << "cleave: error: ";
    llvm::errs() << M.error().message() << "\n";
    return 1;
  }
  if (Format == "json")
    llvm::outs() << rt::renderJson(*M);
  else if (Format == "dot")
    llvm::outs() << rt::renderDot(*M);
  else
    llvm::outs() << rt::renderTable(*M);
  return 0;
}

/// A stored value as JSON, or the text as a string if it is not JSON.
llvm::json::Value storedJson(const std::string &Text) {
  auto V = llvm::json::parse(Text);
  if (V)
    return std::move(*V);
  llvm::consumeError(V.takeError());
  return Text;
}

int runStateCommand(int Argc, const char **Argv) {
  std::vector<std::string> Args;
  std::string Spec;
  for (int I = 2; I < Argc; ++I) {
    llvm::StringRef A = Argv[I];
    if (A.consume_front("--state=")) {
      Spec = A.str();
    } else if (A == "--state" && I + 1 < Argc) {
      Spec = Argv[++I];
    } else if (A.starts_with("-") && A.size() > 1) {
      return usageError("unknown option '" + A.str() + "'");
    } else {
      Args.push_back(A.str());
    }
  }
  bool Dump = Args.size() == 2 && Args[1] == "dump";
  bool Get = Args.size() == 3 && Args[1] == "get";
  if (!Dump && !Get)
    return usageError("expected 'cleave state OUT dump' or 'cleave state OUT "
                      "get KEY'");
  if (Spec.empty()) {
    // cleave-run's default: the SQLite file beside the manifest.
    llvm::SmallString<256> Db(Args[0]);
    if (!llvm::sys::fs::is_directory(Args[0]))
      llvm::sys::path::remove_filename(Db);
    llvm::sys::path::append(Db, ".cleave", "state.db");
    if (!llvm::sys::fs::exists(Db)) {
      llvm::errs() << "cleave: error: no state yet: '" << Db
                   << "' does not exist (cleave-run creates it on its first "
                      "start)\n";
      return 1;
    }
    Spec = "sqlite:" + std::string(Db);
  }
  auto Store = rt::openStateStore(Spec);
  if (!Store) {
    llvm::errs() << "cleave: error: " << Store.error().message() << "\n";
    return 1;
  }
  if (Get) {
    auto V = (*Store)->get(Args[2]);
    if (!V) {
      llvm::errs() << "cleave: error: " << V.error().message() << "\n";
      return 1;
    }
    if (!*V) {
      // A map stored per key: its entries, under "name/<key>".
      auto Keys = (*Store)->list(Args[2] + "/");
      if (!Keys) {
        llvm::errs() << "cleave: error: " << Keys.error().message() << "\n";
        return 1;
      }
      llvm::json::Object O;
      for (const auto &[Key, Text] : *Keys)
        if (!Text.empty())
          O[Key.substr(Args[2].size() + 1)] = storedJson(Text);
      if (!Keys->empty()) {
        llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(O)))
                     << "\n";
        return 0;
      }
    }
    if (!*V || (*V)->empty()) {
      llvm::errs() << "cleave: error: no state '" << Args[2]
                   << "' is stored (a variable never written keeps its "
                      "initial value)\n";
      return 1;
    }
    llvm::outs() << llvm::formatv("{0:2}", storedJson(**V)) << "\n";
    return 0;
  }
  auto All = (*Store)->list("");
  if (!All) {
    llvm::errs() << "cleave: error: " << All.error().message() << "\n";
    return 1;
  }
  llvm::json::Object O;
  for (const auto &[Key, Text] : *All)
    if (!Text.empty()) // an entry erased from a map stored per key
      O[Key] = storedJson(Text);
  llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(O)))
               << "\n";
  return 0;
}

} // namespace

int main(int Argc, const char **Argv) {
  llvm::InitLLVM X(Argc, Argv);
  if (Argc < 2)
    return usageError("no command given (build, inspect, state)");
  llvm::StringRef Cmd = Argv[1];
  if (Cmd == "--help" || Cmd == "-h" || Cmd == "help") {
    llvm::outs() << Usage;
    return 0;
  }
  if (Cmd == "--version") {
    llvm::outs() << "cleave " << CLEAVE_VERSION << "\n";
    return 0;
  }
  if (Cmd == "build")
    return runBuildCommand(Argc, Argv);
  if (Cmd == "inspect")
    return runInspectCommand(Argc, Argv);
  if (Cmd == "state")
    return runStateCommand(Argc, Argv);
  return usageError("unknown command '" + Cmd.str() + "'");
}
