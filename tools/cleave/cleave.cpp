//===- cleave.cpp - The cleave command line -------------------------------===//
//
// Option parsing and wiring only; the work is done in lib/.
//
//   cleave build [-p BUILD_PATH] [-o OUT] [-j N] [--no-build] SOURCES...
//                [--extra-arg ARG] [-- FLAGS]
//   cleave inspect [--format=table|json|dot] OUT
//   cleave state OUT dump|get KEY [--state=STORE]
//
//===----------------------------------------------------------------------===//

#include "cleave/Config.h"
#include "cleave/Driver/Build.h"
#include "cleave/Manifest.h"
#include "cleave/StateStore.h"

#include "clang/Basic/Version.h"
#include "clang/Tooling/ArgumentsAdjusters.h"
#include "clang/Tooling/CommonOptionsParser.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

using namespace cleave;

namespace {

// Every option is an llvm::cl option of its command (exact names only: no
// prefix matching, so `-output` is an error, not `-o utput`). Usage errors
// exit 2 with a hint; `cleave COMMAND --help` lists a command's options.

llvm::cl::SubCommand BuildCmd("build",
                              "compile annotated C++ sources into a "
                              "deployment (manifest and handler library)");
llvm::cl::SubCommand InspectCmd("inspect",
                                "show a deployment's manifest as tables, "
                                "JSON or a Graphviz graph");
llvm::cl::SubCommand StateCmd("state",
                              "read the state a deployment has stored");

llvm::cl::OptionCategory BuildCat("cleave build options");

llvm::cl::list<std::string>
    Sources(llvm::cl::Positional, llvm::cl::desc("<source>..."),
            llvm::cl::sub(BuildCmd), llvm::cl::cat(BuildCat));
llvm::cl::opt<std::string> BuildPath(
    "p",
    llvm::cl::desc("read the compile database from <path>: a folder (and "
                   "its parents) holding compile_commands.json, or the file "
                   "itself, as every clang tool does"),
    llvm::cl::value_desc("path"), llvm::cl::sub(BuildCmd),
    llvm::cl::cat(BuildCat));
llvm::cl::list<std::string> ArgsAfter(
    "extra-arg",
    llvm::cl::desc("add <arg> at the end of every compile command"),
    llvm::cl::value_desc("arg"), llvm::cl::sub(BuildCmd),
    llvm::cl::cat(BuildCat));
llvm::cl::list<std::string> ArgsBefore(
    "extra-arg-before",
    llvm::cl::desc("add <arg> at the start of every compile command"),
    llvm::cl::value_desc("arg"), llvm::cl::sub(BuildCmd),
    llvm::cl::cat(BuildCat));
llvm::cl::opt<std::string>
    OutDir("o", llvm::cl::desc("write the deployment to <dir>"),
           llvm::cl::value_desc("dir"), llvm::cl::init("cleave-out"),
           llvm::cl::sub(BuildCmd), llvm::cl::cat(BuildCat));
llvm::cl::opt<std::string> DeploymentName(
    "name",
    llvm::cl::desc("the deployment's name (default: the first source's "
                   "file name without its extension)"),
    llvm::cl::value_desc("name"), llvm::cl::sub(BuildCmd),
    llvm::cl::cat(BuildCat));
llvm::cl::opt<std::string> SourceRoot(
    "source-root",
    llvm::cl::desc("write the manifest's source paths relative to <dir> "
                   "(default: the project of the compile database: its "
                   "CMake source folder, else its own folder; without a "
                   "database, the folder holding every source)"),
    llvm::cl::value_desc("dir"), llvm::cl::sub(BuildCmd),
    llvm::cl::cat(BuildCat));
llvm::cl::opt<std::string> Depfile(
    "depfile",
    llvm::cl::desc("write <file>, a Make-style list of every file the "
                   "sources read, as the dependencies of <dir>/manifest.yaml "
                   "(whose time cleave then updates); for build tools"),
    llvm::cl::value_desc("file"), llvm::cl::sub(BuildCmd),
    llvm::cl::cat(BuildCat));
llvm::cl::opt<bool>
    NoBuild("no-build",
            llvm::cl::desc("write the deployment's sources and manifest, "
                           "but do not build its handler library"),
            llvm::cl::sub(BuildCmd), llvm::cl::cat(BuildCat));
llvm::cl::opt<std::string> JobsText(
    "j",
    llvm::cl::desc("parse and cut <n> units at a time (default 1), and "
                   "build the handler library with <n> jobs (default: one "
                   "per core)"),
    llvm::cl::value_desc("n"), llvm::cl::Prefix, llvm::cl::sub(BuildCmd),
    llvm::cl::cat(BuildCat));
llvm::cl::alias JobsLong("jobs", llvm::cl::desc("the same as -j"),
                         llvm::cl::aliasopt(JobsText));
llvm::cl::opt<bool> Quiet("q", llvm::cl::desc("no progress lines"),
                          llvm::cl::sub(BuildCmd), llvm::cl::cat(BuildCat));
llvm::cl::alias QuietLong("quiet", llvm::cl::desc("the same as -q"),
                          llvm::cl::aliasopt(Quiet));
llvm::cl::opt<bool> Remarks(
    "Rcleave",
    llvm::cl::desc("a remark for every placement decision: which calls "
                   "stay local, which become boundaries, and why"),
    llvm::cl::sub(BuildCmd), llvm::cl::cat(BuildCat));

// Printed after the options of every command's --help.
llvm::cl::extrahelp MoreHelp(R"(
  cleave build [options] <source>... [-- <compiler flags>]
    The compile flags of each source come from a compile database: the one
    -p names, or else the first compile_commands.json found from the first
    source's folder upwards. Flags after '--' replace the database (a fixed
    one, for every source), as with every clang tool; --extra-arg and
    --extra-arg-before add to whichever is used. With -p and no sources,
    every file of the database is compiled.
  cleave inspect [--format=table|json|dot] <deployment>
  cleave state <deployment> dump | get <key> [--state=<store>]

  Exit status: 0 done; 1 the program was refused (located errors on
  stderr), a step failed, or the deployment or store could not be read;
  2 the command line is wrong.
)");

llvm::cl::opt<std::string>
    InspectPath(llvm::cl::Positional, llvm::cl::Required,
                llvm::cl::desc("<deployment folder or manifest.yaml>"),
                llvm::cl::sub(InspectCmd));
llvm::cl::opt<std::string> Format(
    "format",
    llvm::cl::desc("table (the default), json (for scripts) or dot (a "
                   "Graphviz graph: | dot -Tsvg > deployment.svg)"),
    llvm::cl::value_desc("format"), llvm::cl::init("table"),
    llvm::cl::sub(InspectCmd));

llvm::cl::list<std::string>
    StateArgs(llvm::cl::Positional, llvm::cl::OneOrMore,
              llvm::cl::desc("<deployment> dump | <deployment> get <key>"),
              llvm::cl::sub(StateCmd));
llvm::cl::opt<std::string> StateSpec(
    "state",
    llvm::cl::desc("the store to read, when it is not cleave-run's default "
                   "<deployment>/.cleave/state.db: sqlite:<path> or "
                   "redis://<host>:<port>"),
    llvm::cl::value_desc("store"), llvm::cl::sub(StateCmd));

int usageError(const std::string &Message, llvm::StringRef Command = "") {
  llvm::errs() << "cleave: error: " << Message << "\n"
               << "run 'cleave " << (Command.empty() ? "" : Command.str() + " ")
               << "--help' for usage\n";
  return 2;
}

/// The compile database given by -p, an Error's text otherwise.
std::unique_ptr<clang::tooling::CompilationDatabase>
loadBuildPath(std::string &ErrMsg) {
  using namespace clang::tooling;
  if (llvm::sys::fs::is_regular_file(BuildPath)) {
    if (llvm::sys::path::extension(BuildPath) != ".json") {
      ErrMsg = "-p: '" + BuildPath +
               "' is neither a folder nor a compile_commands.json file";
      return nullptr;
    }
    auto DB = JSONCompilationDatabase::loadFromFile(
        BuildPath, ErrMsg, JSONCommandLineSyntax::AutoDetect);
    if (!DB)
      ErrMsg = "cannot load the compile database '" + BuildPath +
               "': " + ErrMsg;
    return DB;
  }
  if (!llvm::sys::fs::is_directory(BuildPath)) {
    ErrMsg = "-p: no such folder or file: '" + BuildPath + "'";
    return nullptr;
  }
  // Like every clang tool, search BuildPath and its parents.
  auto DB = CompilationDatabase::autoDetectFromDirectory(BuildPath, ErrMsg);
  if (!DB)
    ErrMsg = "cannot load a compile database from '" + BuildPath +
             "': " + ErrMsg;
  return DB;
}

/// The folder at or above \p Start holding a compile database, as clang's
/// autodetection finds it; empty if none.
std::string databaseFolder(llvm::StringRef Start) {
  llvm::SmallString<256> Dir(Start);
  llvm::sys::fs::make_absolute(Dir);
  llvm::sys::path::remove_dots(Dir, /*remove_dot_dot=*/true);
  for (llvm::StringRef D = Dir; !D.empty();
       D = llvm::sys::path::parent_path(D))
    for (const char *Name : {"compile_commands.json", "compile_flags.txt"}) {
      llvm::SmallString<256> File(D);
      llvm::sys::path::append(File, Name);
      if (llvm::sys::fs::is_regular_file(File))
        return D.str();
    }
  return "";
}

/// The project a compile database belongs to: the source folder a CMake
/// build folder records (CMAKE_HOME_DIRECTORY in its CMakeCache.txt), else
/// the database's own folder.
std::string projectOf(const std::string &DatabaseFolder) {
  llvm::SmallString<256> Cache(DatabaseFolder);
  llvm::sys::path::append(Cache, "CMakeCache.txt");
  if (auto Buffer = llvm::MemoryBuffer::getFile(Cache)) {
    llvm::SmallVector<llvm::StringRef, 0> Lines;
    (*Buffer)->getBuffer().split(Lines, '\n');
    for (llvm::StringRef Line : Lines)
      if (Line.consume_front("CMAKE_HOME_DIRECTORY:INTERNAL="))
        if (llvm::sys::fs::is_directory(Line.rtrim("\r")))
          return Line.rtrim("\r").str();
  }
  return DatabaseFolder;
}

/// The deepest folder holding every one of \p Files.
std::string commonFolder(const std::vector<std::string> &Files) {
  std::string Common;
  for (const std::string &F : Files) {
    llvm::SmallString<256> Abs(F);
    llvm::sys::fs::make_absolute(Abs);
    llvm::sys::path::remove_dots(Abs, /*remove_dot_dot=*/true);
    llvm::StringRef Dir = llvm::sys::path::parent_path(Abs);
    if (Common.empty()) {
      Common = Dir.str();
      continue;
    }
    while (!Common.empty() && Common != "/" &&
           !(Dir == Common || Dir.starts_with(Common + "/")))
      Common = llvm::sys::path::parent_path(Common).str();
  }
  return Common;
}

/// The link arguments written after `--` (-l, -L, -Wl,...): the handler
/// library's, not the analysis's.
std::vector<std::string> LinkAfterDashes;

int runBuildCommand(std::unique_ptr<clang::tooling::CompilationDatabase> DB) {
  using namespace clang::tooling;
  BuildOptions Opts;
  Opts.OutDir = OutDir;
  Opts.Name = DeploymentName;
  Opts.RunBuild = !NoBuild;
  Opts.Depfile = Depfile;
  Opts.LinkFlags = LinkAfterDashes;
  Opts.Verbose = !Quiet;
  Opts.Remarks |= Remarks;
  if (JobsText.getNumOccurrences()) {
    unsigned Jobs = 0;
    if (llvm::StringRef(JobsText).getAsInteger(10, Jobs) || Jobs == 0)
      return usageError("-j needs a number of jobs, 1 or more", "build");
    Opts.Jobs = Jobs;
  }
  if (DB && BuildPath.getNumOccurrences())
    return usageError("-p and '--' both give the compile flags: use -p with "
                      "--extra-arg to add flags to a compile database",
                      "build");
  std::vector<std::string> Files(Sources.begin(), Sources.end());
  std::string ErrMsg;
  // Where the manifest's source paths start: never the working directory,
  // so that they stay the same wherever cleave runs.
  std::string DatabaseFolder;
  if (!DB && BuildPath.getNumOccurrences()) {
    DB = loadBuildPath(ErrMsg);
    if (!DB) {
      llvm::errs() << "cleave: error: " << ErrMsg << "\n";
      return 1;
    }
    DatabaseFolder = databaseFolder(
        llvm::sys::fs::is_regular_file(BuildPath)
            ? llvm::sys::path::parent_path(BuildPath)
            : llvm::StringRef(BuildPath));
  }
  if (!DB && !Files.empty()) {
    DB = CompilationDatabase::autoDetectFromSource(Files[0], ErrMsg);
    if (DB)
      DatabaseFolder = databaseFolder(llvm::sys::path::parent_path(Files[0]));
    if (!DB) {
      llvm::errs() << "cleave: warning: no compile database found for '"
                   << Files[0]
                   << "'; compiling without flags (pass -p BUILD_DIR or "
                      "flags after '--')\n";
      DB = std::make_unique<FixedCompilationDatabase>(
          ".", std::vector<std::string>{});
    }
  }
  if (Files.empty() && DB)
    Files = DB->getAllFiles();
  if (Files.empty())
    return usageError("no source files given", "build");
  for (const auto &S : Files)
    if (!llvm::sys::fs::exists(S)) {
      llvm::errs() << "cleave: error: no such file: '" << S << "'\n";
      return 1;
    }
  if (SourceRoot.getNumOccurrences()) {
    if (!llvm::sys::fs::is_directory(SourceRoot)) {
      llvm::errs() << "cleave: error: --source-root: no such folder: '"
                   << SourceRoot << "'\n";
      return 1;
    }
    Opts.SourceRoot = SourceRoot;
  } else {
    Opts.SourceRoot = DatabaseFolder.empty() ? commonFolder(Files)
                                             : projectOf(DatabaseFolder);
  }
  DB = inferMissingCompileCommands(std::move(DB));
  if (!ArgsBefore.empty() || !ArgsAfter.empty()) {
    auto Adjusted = std::make_unique<ArgumentsAdjustingCompilations>(
        std::move(DB));
    Adjusted->appendArgumentsAdjuster(getInsertArgumentAdjuster(
        std::vector<std::string>(ArgsBefore.begin(), ArgsBefore.end()),
        ArgumentInsertPosition::BEGIN));
    Adjusted->appendArgumentsAdjuster(getInsertArgumentAdjuster(
        std::vector<std::string>(ArgsAfter.begin(), ArgsAfter.end()),
        ArgumentInsertPosition::END));
    DB = std::move(Adjusted);
  }
  return runBuild(*DB, Files, Opts);
}

int runInspectCommand() {
  std::string Path = InspectPath;
  if (Format != "table" && Format != "json" && Format != "dot")
    return usageError("unknown format '" + Format +
                          "' (expected table, json or dot)",
                      "inspect");
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

int runStateCommand() {
  std::vector<std::string> Args(StateArgs.begin(), StateArgs.end());
  std::string Spec = StateSpec;
  bool Dump = Args.size() == 2 && Args[1] == "dump";
  bool Get = Args.size() == 3 && Args[1] == "get";
  if (!Dump && !Get)
    return usageError("expected 'cleave state OUT dump' or 'cleave state OUT "
                      "get KEY'",
                      "state");
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
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &OS) {
    OS << "cleave " << CLEAVE_VERSION << "\n"
       << "  built with " << clang::getClangFullVersion() << "\n";
  });
  if (Argc < 2)
    return usageError("no command given (build, inspect, state)");
  llvm::StringRef Cmd = Argv[1];
  if (!Cmd.starts_with("-") && Cmd != "build" && Cmd != "inspect" &&
      Cmd != "state" && Cmd != "help")
    return usageError("unknown command '" + Cmd.str() + "'");
  if (Cmd == "help")
    Argv[1] = "--help";

  // Flags after "--" are a fixed compile database, as with every clang
  // tool; -Rcleave is cleave's own flag wherever it is written, so it is
  // taken out of them before Clang sees it.
  std::unique_ptr<clang::tooling::CompilationDatabase> Fixed;
  bool RemarksAfterDashes = false;
  if (Cmd == "build") {
    for (int I = 0; I < Argc; ++I)
      if (llvm::StringRef(Argv[I]) == "--") {
        int Kept = I + 1;
        std::vector<std::string> After(Argv + I + 1, Argv + Argc);
        for (int J = I + 1; J < Argc; ++J) {
          if (llvm::StringRef(Argv[J]) == "-Rcleave") {
            RemarksAfterDashes = true;
          } else if (size_t N = cleave::linkArgument(
                         After, J - I - 1, ".", &LinkAfterDashes)) {
            J += N - 1;
          } else {
            Argv[Kept++] = Argv[J];
          }
        }
        Argc = Kept;
        break;
      }
    std::string ErrMsg;
    Fixed = clang::tooling::FixedCompilationDatabase::loadFromCommandLine(
        Argc, Argv, ErrMsg);
    if (!ErrMsg.empty()) {
      // Clang's message carries its own "error: ".
      llvm::StringRef Msg(ErrMsg);
      Msg = Msg.trim();
      Msg.consume_front("error: ");
      return usageError(Msg.str(), "build");
    }
  }

  std::string Errors;
  llvm::raw_string_ostream ErrStream(Errors);
  if (!llvm::cl::ParseCommandLineOptions(
          Argc, Argv,
          "cleave: compile an annotated C++ program into a serverless "
          "deployment\n",
          &ErrStream)) {
    // LLVM's lines: "cleave: <what is wrong>", then perhaps "cleave: Did
    // you mean ...?". Its own hint names argv[0]; ours names the command.
    // (A missing value is reported by LLVM itself, straight to stderr:
    // "cleave: for the -o option: requires a value!".)
    llvm::SmallVector<llvm::StringRef, 4> Lines;
    llvm::StringRef(Errors).trim().split(Lines, '\n', -1, false);
    for (size_t I = 0; I < Lines.size(); ++I) {
      llvm::StringRef Line = Lines[I].trim();
      Line.consume_front("cleave: ");
      Line = Line.take_front(Line.find(".  Try: "));
      Line = Line.take_front(Line.find(": See: "));
      llvm::errs() << (I == 0 ? "cleave: error: " : "cleave: note: ") << Line
                   << "\n";
    }
    llvm::errs() << "run 'cleave "
                 << (Cmd.starts_with("-") ? "" : Cmd.str() + " ")
                 << "--help' for usage\n";
    return 2;
  }
  if (BuildCmd) {
    Remarks = Remarks || RemarksAfterDashes;
    return runBuildCommand(std::move(Fixed));
  }
  if (InspectCmd)
    return runInspectCommand();
  if (StateCmd)
    return runStateCommand();
  return usageError("no command given (build, inspect, state)");
}
