//===- Build.cpp - The `cleave build` pipeline ---------------------------===//

#include "cleave/Driver/Build.h"

#include "cleave/Analysis/Lowering.h"
#include "cleave/Analysis/Placement.h"
#include "cleave/Config.h"
#include "cleave/Driver/Unit.h"
#include "cleave/Emit/Output.h"
#include "cleave/Frontend/Annotations.h"
#include "cleave/Frontend/Diagnostics.h"
#include "cleave/Frontend/Frontend.h"

#include "clang/Basic/DiagnosticOptions.h"
#include "clang/Basic/FileManager.h"
#include "clang/Basic/LangOptions.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Basic/Stack.h"
#include "clang/Frontend/TextDiagnosticPrinter.h"
#include "clang/Tooling/ArgumentsAdjusters.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/VirtualFileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>

using namespace clang;

namespace cleave {

namespace {

/// Diagnostics about the program as a whole, reported after every unit's
/// AST is gone: files are reopened to show the source line and caret.
class ProgramDiagnostics {
public:
  ProgramDiagnostics()
      : DiagOpts(new DiagnosticOptions()),
        Printer(llvm::errs(), DiagOpts.get()),
        Diags(new DiagnosticIDs(), DiagOpts.get(), &Printer,
              /*ShouldOwnClient=*/false),
        FM(FileSystemOptions()), SM(Diags, FM), Report(Diags) {
    DiagOpts->ShowColors = llvm::errs().has_colors();
    Diags.setSourceManager(&SM);
    Printer.BeginSourceFile(LangOpts, nullptr);
  }
  ~ProgramDiagnostics() { Printer.EndSourceFile(); }

  SourceLocation locate(const SourcePos &P) {
    if (!P.valid())
      return {};
    auto FE = FM.getOptionalFileRef(P.File);
    if (!FE)
      return {};
    FileID FID = SM.getOrCreateFileID(*FE, SrcMgr::C_User);
    return SM.translateLineCol(FID, P.Line, P.Column);
  }

  Reporter &report() { return Report; }
  bool failed() const { return Diags.hasErrorOccurred(); }

private:
  LangOptions LangOpts;
  IntrusiveRefCntPtr<DiagnosticOptions> DiagOpts;
  TextDiagnosticPrinter Printer;
  DiagnosticsEngine Diags;
  FileManager FM;
  SourceManager SM;
  Reporter Report;
};

/// Checks what no single unit can see. Returns false after reporting errors.
bool checkProgram(const Program &P) {
  ProgramDiagnostics D;
  Reporter &R = D.report();

  std::map<std::string, const FunctionNode *> Routes, Names;
  for (const FunctionNode *F : P.annotated()) {
    auto [It, New] = Names.emplace(F->Name, F);
    if (!New) {
      R.error(D.locate(F->Pos), "another annotated function is also named '" +
                                    F->Name +
                                    "'; deployment names must be unique");
      R.note(D.locate(It->second->Pos), "the other one is here");
    }
    if (!F->IsEntry)
      continue;
    auto [RIt, RNew] = Routes.emplace(F->Route->str(), F);
    if (!RNew) {
      R.error(D.locate(F->RoutePos), "route '" + F->Route->str() +
                                         "' is already served by entry '" +
                                         RIt->second->Name + "'");
      R.note(D.locate(RIt->second->RoutePos), "first served here");
    }
  }

  std::map<std::string, const StateVar *> Defined;
  for (const auto &U : P.Units)
    for (const StateVar &V : U.States) {
      auto [It, New] = Defined.emplace(V.Name, &V);
      if (!New) {
        R.error(D.locate(V.Pos), "state variable '" + V.Name +
                                     "' is defined in two translation units");
        R.note(D.locate(It->second->Pos), "the other definition is here");
      }
    }
  // The deployment links every unit into one library, as the program is
  // linked: a function defined twice would leave the plan to pick one body.
  std::map<std::string, const FunctionNode *> Bodies;
  for (const auto &U : P.Units)
    for (const FunctionNode &F : U.Functions) {
      if (!F.OneDefinition)
        continue;
      auto [It, New] = Bodies.emplace(F.USR, &F);
      if (!New) {
        R.error(D.locate(F.Pos), "function '" + F.Name +
                                     "' is defined in two translation units");
        R.note(D.locate(It->second->Pos), "the other definition is here");
      }
    }
  std::map<std::string, const StateVar *> ByUSR;
  for (const auto &U : P.Units)
    for (const StateVar &V : U.States)
      ByUSR.emplace(V.USR, &V);
  for (const auto &U : P.Units)
    for (const GlobalUse &G : U.PlainGlobals) {
      auto It = ByUSR.find(G.USR);
      if (It == ByUSR.end())
        continue;
      R.error(D.locate(G.Pos),
              "'" + G.Name +
                  "' is program state, but this translation unit declares it "
                  "without CLEAVE_STATE, so this use cannot go through the "
                  "state store; declare it with CLEAVE_STATE (for example in "
                  "a shared header)");
      R.note(D.locate(It->second->Pos), "declared as CLEAVE_STATE here");
    }

  // The annotations of one declaration, as every unit sees them: one text
  // per kind, one type per state variable, and a definition somewhere.
  std::map<std::pair<std::string, std::string>, const AnnotatedDecl *> First;
  std::map<std::string, const AnnotatedDecl *> StateType;
  std::set<std::string> DefinedUSRs, Called;
  for (const auto &U : P.Units) {
    for (const FunctionNode &F : U.Functions) {
      DefinedUSRs.insert(F.USR);
      for (const CallSite &C : F.Calls)
        Called.insert(C.Callee);
    }
    for (const AnnotatedDecl &A : U.Annotated)
      if (A.Defined)
        DefinedUSRs.insert(A.USR);
  }
  std::set<std::string> Undefined;
  for (const auto &U : P.Units)
    for (const AnnotatedDecl &A : U.Annotated) {
      auto [It, New] = First.emplace(std::make_pair(A.USR, A.Macro), &A);
      if (!New && It->second->Text != A.Text) {
        R.error(D.locate(A.Pos),
                "'" + A.Name + "' is annotated " + A.Macro + "(\"" +
                    elide(A.Text) + "\") here and " + A.Macro + "(\"" +
                    elide(It->second->Text) +
                    "\") elsewhere; every declaration must say the same");
        R.note(D.locate(It->second->Pos), "the other annotation is here");
      }
      if (A.Macro == "CLEAVE_STATE") {
        auto [SIt, SNew] = StateType.emplace(A.USR, &A);
        if (!SNew && SIt->second->Type != A.Type) {
          R.error(D.locate(A.Pos),
                  "state variable '" + A.Name + "' is declared here as '" +
                      A.TypeShown + "' and elsewhere as '" +
                      SIt->second->TypeShown +
                      "'; every declaration must have the same type");
          R.note(D.locate(SIt->second->Pos), "the other declaration is here");
        }
        continue;
      }
      if (!DefinedUSRs.count(A.USR) && Undefined.insert(A.USR).second) {
        std::string Msg = "'" + A.Name + "' is annotated " + A.Macro +
                          ", but none of the sources given to cleave build "
                          "defines it";
        if (Called.count(A.USR) || A.Macro == "CLEAVE_ENTRY")
          R.error(D.locate(A.Pos),
                  Msg + "; give cleave build the source that does");
        else
          R.warning(D.locate(A.Pos), Msg + ", so the annotation has no effect");
      }
    }

  llvm::StringSet<> Reported;
  for (const auto &U : P.Units)
    for (const FunctionNode &F : U.Functions)
      for (const auto &[Name, Access] : F.State)
        if (!Defined.count(Name) && Reported.insert(Name).second)
          R.error(D.locate(F.Pos),
                  "state variable '" + Name + "' is used by '" + F.Name +
                      "' but defined in none of the translation units given "
                      "to cleave");
  // A call that would cross profiles where cleave cannot cut: in a
  // constructor or destructor, a default argument or member initializer,
  // or a function of a header.
  for (const HiddenCrossing &X : hiddenCrossings(P)) {
    R.error(D.locate(X.Call->Pos),
            "'" + X.Callee->Name + "' runs as its own function (" + X.Reason +
                "), but '" + X.Caller->Name + "' reaches it through " +
                X.Call->Via +
                ", where cleave cannot cut the code; call it in '" +
                X.Caller->Name + "' itself, where the value is needed");
    if (X.Call->CallPos.valid() && !(X.Call->CallPos.File == X.Call->Pos.File &&
                                     X.Call->CallPos.Line == X.Call->Pos.Line))
      R.note(D.locate(X.Call->CallPos), "'" + X.Callee->Name +
                                            "' is called here");
  }
  return !D.failed();
}

/// "2 values cross the boundary at shop.cpp:14:16: o (Order), qty (int)"
std::string describeCarried(const StepEdge &E, llvm::StringRef Base) {
  size_t N = E.Carried.size();
  std::string Out = N == 0   ? std::string("no value crosses")
                    : N == 1 ? std::string("1 value crosses")
                             : std::to_string(N) + " values cross";
  Out += E.Placement == "local" ? " the hop into '" + E.Callee + "'" : " the boundary";
  Out += " at " + E.Pos.str(Base.str());
  for (size_t I = 0; I < N; ++I)
    Out += (I ? ", " : ": ") + E.Carried[I].Name + " (" + E.Carried[I].Type + ")";
  return Out;
}

bool isOptionWithValue(llvm::StringRef A) {
  return A == "-o" || A == "-MF" || A == "-MT" || A == "-MQ" ||
         A == "-Xclang" || A == "-x";
}

bool isPathOption(llvm::StringRef A) {
  return A == "-I" || A == "-isystem" || A == "-iquote" || A == "-idirafter" ||
         A == "-include" || A == "-imacros" || A == "-isysroot" ||
         A == "--sysroot";
}

std::string absoluteIn(llvm::StringRef Dir, llvm::StringRef Path) {
  if (llvm::sys::path::is_absolute(Path))
    return Path.str();
  llvm::SmallString<256> Abs(Dir);
  llvm::sys::path::append(Abs, Path);
  llvm::sys::path::remove_dots(Abs, /*remove_dot_dot=*/true);
  return std::string(Abs);
}

} // namespace

size_t linkArgument(const std::vector<std::string> &Args, size_t I,
                    llvm::StringRef Directory,
                    std::vector<std::string> *Out) {
  llvm::StringRef A = Args[I];
  auto Take = [&](std::string Flag) {
    if (Out)
      Out->push_back(std::move(Flag));
  };
  if ((A == "-l" || A == "-L" || A == "-Xlinker") && I + 1 < Args.size()) {
    Take(A == "-L" ? "-L" + absoluteIn(Directory, Args[I + 1])
                   : A.str() == "-l" ? "-l" + Args[I + 1]
                                     : "-Wl," + Args[I + 1]);
    return 2;
  }
  if (A.starts_with("-L") && A.size() > 2) {
    Take("-L" + absoluteIn(Directory, A.drop_front(2)));
    return 1;
  }
  if ((A.starts_with("-l") && A.size() > 2) || A.starts_with("-Wl,") ||
      A == "-rdynamic" || A.starts_with("-fuse-ld=")) {
    Take(A.str());
    return 1;
  }
  // A library named by its file: libx.a, libx.so, libx.so.1.2.
  llvm::StringRef Name = llvm::sys::path::filename(A);
  auto IsSharedLibrary = [](llvm::StringRef N) {
    size_t At = N.rfind(".so");
    if (At == llvm::StringRef::npos || At == 0)
      return false;
    llvm::StringRef Version = N.drop_front(At + 3);
    bool Numbers = llvm::all_of(
        Version, [](char C) { return C == '.' || llvm::isDigit(C); });
    return Numbers && !Version.ends_with(".") &&
           (Version.empty() || Version.starts_with("."));
  };
  if (!A.starts_with("-") && (Name.ends_with(".a") || IsSharedLibrary(Name))) {
    Take(absoluteIn(Directory, A));
    return 1;
  }
  return 0;
}

std::vector<std::string>
linkFlagsForHandlers(const tooling::CompileCommand &Cmd) {
  std::vector<std::string> Out;
  const auto &Args = Cmd.CommandLine;
  for (size_t I = 1; I < Args.size();) {
    size_t N = linkArgument(Args, I, Cmd.Directory, &Out);
    if (Args[I] == "-pthread")
      Out.push_back("-pthread");
    I += N ? N : 1;
  }
  return Out;
}

std::vector<std::string>
flagsForRewrittenUnit(const tooling::CompileCommand &Cmd) {
  std::vector<std::string> Out;
  const auto &Args = Cmd.CommandLine;
  std::string Input = absoluteIn(Cmd.Directory, Cmd.Filename);
  for (size_t I = 1; I < Args.size(); ++I) {
    llvm::StringRef A = Args[I];
    if (A == "-c" || A == "-S" || A == "-E" || A == "-MD" || A == "-MMD" ||
        A == "-MP" || A == "--" || A == "-fsyntax-only" ||
        A.starts_with("--driver-mode="))
      continue;
    if (isOptionWithValue(A)) {
      ++I;
      continue;
    }
    if (A.starts_with("-o") || A.starts_with("-MF") || A.starts_with("-MT") ||
        A.starts_with("-MQ"))
      continue;
    if (!A.starts_with("-") && absoluteIn(Cmd.Directory, A) == Input)
      continue;
    // The link's, not the compile's (linkFlagsForHandlers).
    if (size_t N = linkArgument(Args, I, Cmd.Directory, nullptr)) {
      I += N - 1;
      continue;
    }
    if (isPathOption(A) && I + 1 < Args.size()) {
      Out.push_back(A.str());
      Out.push_back(absoluteIn(Cmd.Directory, Args[++I]));
      continue;
    }
    bool Joined = false;
    for (llvm::StringRef P : {"-I", "-isystem", "-iquote", "-idirafter"})
      if (A.starts_with(P) && A.size() > P.size()) {
        Out.push_back(P.str() +
                      absoluteIn(Cmd.Directory, A.drop_front(P.size())));
        Joined = true;
        break;
      }
    if (!Joined)
      Out.push_back(A.str());
  }
  // The rewritten copy lives elsewhere: find the original's "..." includes.
  Out.push_back("-iquote");
  Out.push_back(std::string(llvm::sys::path::parent_path(Input)));
  return Out;
}

namespace {

/// The adjustments ClangTool makes to every command line (no output file,
/// -fsyntax-only, no dependency file), then Cleave's own: the resource
/// directory of Clang's builtin headers, the runtime's headers after the
/// program's, and C++ for a header given as a source.
tooling::ArgumentsAdjuster commandAdjuster(std::string ResourceDir,
                                           std::string RuntimeInclude) {
  tooling::ArgumentsAdjuster Own =
      [ResourceDir, RuntimeInclude](const tooling::CommandLineArguments &Args,
                                    llvm::StringRef File) {
        // Link arguments only make Clang warn that they are unused.
        tooling::CommandLineArguments Out;
        for (size_t I = 0; I < Args.size();) {
          size_t N = I == 0 ? 0 : linkArgument(Args, I, "", nullptr);
          if (!N)
            Out.push_back(Args[I]);
          I += N ? N : 1;
        }
        bool HasResourceDir = false, HasLanguage = false;
        for (const auto &A : Args) {
          HasResourceDir |= llvm::StringRef(A).starts_with("-resource-dir");
          HasLanguage |= llvm::StringRef(A).starts_with("-x");
        }
        // A header given as a source is C++, as a Cleave program is; Clang
        // would take a `.h` for C.
        llvm::StringRef Ext = llvm::sys::path::extension(File);
        if (!HasLanguage && (Ext == ".h" || Ext == ".hh" || Ext == ".hpp" ||
                             Ext == ".hxx" || Ext == ".H"))
          Out.insert(Out.begin() + (Out.empty() ? 0 : 1), "-xc++");
        // Insert before any "--" or input: at position 1.
        auto At = Out.begin() + (Out.empty() ? 0 : 1);
        std::vector<std::string> Extra;
        if (!HasResourceDir)
          Extra.push_back("-resource-dir=" + ResourceDir);
        Extra.push_back("-idirafter");
        Extra.push_back(RuntimeInclude);
        Out.insert(At, Extra.begin(), Extra.end());
        return Out;
      };
  tooling::ArgumentsAdjuster Adjust =
      tooling::combineAdjusters(tooling::getClangStripOutputAdjuster(),
                                tooling::getClangSyntaxOnlyAdjuster());
  Adjust = tooling::combineAdjusters(
      Adjust, tooling::getClangStripDependencyFileAdjuster());
  return tooling::combineAdjusters(Adjust, Own);
}

/// Prints what the units print, in the order of the sources whichever
/// order the threads finish them in, so that -j N prints what -j 1 does:
///   - a unit's header (its progress line) once every unit before it has
///     been scanned;
///   - a unit's output (its diagnostics, as a compiler prints them) once
///     the unit is finished, after its header and every output before it;
///     when both are due, the output goes first.
/// Units that fail in the scan are reported as soon as the units before
/// them are; the first unit to wait for the plan holds back the output of
/// the units after it until it has been cut.
class OrderedOutput {
public:
  explicit OrderedOutput(std::vector<std::string> Headers)
      : Headers(std::move(Headers)), Scanned(this->Headers.size()),
        Outputs(this->Headers.size()) {
    std::lock_guard<std::mutex> Lock(Mutex);
    flush();
  }

  /// Unit \p I has been scanned; \p Output is set if it is finished.
  void scanned(size_t I, std::optional<std::string> Output) {
    std::lock_guard<std::mutex> Lock(Mutex);
    Scanned[I] = true;
    Outputs[I] = std::move(Output);
    flush();
  }

  /// Unit \p I, scanned before, is finished.
  void finished(size_t I, std::string Output) {
    std::lock_guard<std::mutex> Lock(Mutex);
    Outputs[I] = std::move(Output);
    flush();
  }

private:
  void flush() {
    for (;;) {
      if (PrintedOutputs < PrintedHeaders && Outputs[PrintedOutputs]) {
        llvm::errs() << *Outputs[PrintedOutputs];
        Outputs[PrintedOutputs++]->clear();
      } else if (PrintedHeaders < Headers.size() &&
                 (PrintedHeaders == 0 || Scanned[PrintedHeaders - 1])) {
        llvm::errs() << Headers[PrintedHeaders++];
      } else {
        break;
      }
    }
    llvm::errs().flush();
  }

  std::mutex Mutex;
  std::vector<std::string> Headers;
  std::vector<bool> Scanned;
  std::vector<std::optional<std::string>> Outputs;
  size_t PrintedHeaders = 0, PrintedOutputs = 0;
};

/// One compile command of one source, in the order of the sources.
struct Job {
  std::string File;      ///< the source, absolute, as ClangTool names it
  std::string Directory; ///< the command's directory, absolute
  std::unique_ptr<UnitPass> Pass; ///< null: no compile command
};

/// Runs \p Run on every job that \p Wanted accepts, on \p Pool's threads
/// (on this one without a pool). The process has one working directory,
/// and a unit's relative paths are relative to its command's directory:
/// the jobs of one directory run together, in it.
void forEachJob(std::vector<Job> &Jobs, llvm::ThreadPoolInterface *Pool,
                llvm::function_ref<bool(const Job &)> Wanted,
                std::function<void(size_t)> Run) {
  llvm::MapVector<llvm::StringRef, std::vector<size_t>> ByDirectory;
  for (size_t I = 0; I < Jobs.size(); ++I)
    if (Wanted(Jobs[I]))
      ByDirectory[Jobs[I].Directory].push_back(I);
  for (const auto &[Directory, Indices] : ByDirectory) {
    if (std::error_code EC = llvm::sys::fs::set_current_path(Directory))
      llvm::report_fatal_error("cannot change into the directory '" +
                               llvm::Twine(Directory) +
                               "' of a compile command: " + EC.message());
    for (size_t I : Indices) {
      if (!Pool) {
        Run(I);
        continue;
      }
      // Clang counts on a stack of DesiredStackSize for deeply nested
      // code; a thread of the pool may have less than the main thread.
      Pool->async([&Run, I] {
        llvm::CrashRecoveryContext().RunSafelyOnThread(
            [&Run, I] { Run(I); }, DesiredStackSize);
      });
    }
    if (Pool)
      Pool->wait();
  }
}

} // namespace

std::string runtimeIncludeDir() {
  // Installed, cleave is PREFIX/bin/cleave and the headers are in
  // PREFIX/include, wherever PREFIX has moved; in its build tree, the
  // headers are in the source tree, whose path was recorded at configure
  // time.
  std::string Exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  if (!Exe.empty()) {
    llvm::SmallString<256> Include(
        llvm::sys::path::parent_path(llvm::sys::path::parent_path(Exe)));
    llvm::sys::path::append(Include, "include");
    llvm::SmallString<256> Probe(Include);
    llvm::sys::path::append(Probe, "cleave", "handler.h");
    if (llvm::sys::fs::is_regular_file(Probe))
      return std::string(Include);
  }
  return CLEAVE_RUNTIME_INCLUDE_DIR;
}

std::string runtimeSupportLibrary() {
  std::string Exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  if (!Exe.empty()) {
    llvm::SmallString<256> Lib(
        llvm::sys::path::parent_path(llvm::sys::path::parent_path(Exe)));
    llvm::sys::path::append(Lib, CLEAVE_INSTALL_LIBDIR, "libcleave_support.a");
    if (llvm::sys::fs::is_regular_file(Lib))
      return std::string(Lib);
  }
  return CLEAVE_SUPPORT_LIBRARY;
}

int runBuild(const tooling::CompilationDatabase &DB,
             const std::vector<std::string> &Sources,
             const BuildOptions &Opts) {
  std::string RuntimeInclude = Opts.RuntimeIncludeDir.empty()
                                   ? runtimeIncludeDir()
                                   : Opts.RuntimeIncludeDir;
  std::string ResourceDir =
      Opts.ResourceDir.empty() ? CLEAVE_RESOURCE_DIR : Opts.ResourceDir;
  tooling::ArgumentsAdjuster Adjust =
      commandAdjuster(ResourceDir, RuntimeInclude);

  // Every source's compile commands, as ClangTool would run them, with the
  // lines ClangTool prints about them.
  llvm::SmallString<256> InitialDir;
  if (std::error_code EC = llvm::sys::fs::current_path(InitialDir)) {
    llvm::errs() << "cleave: error: cannot get the working directory: "
                 << EC.message() << "\n";
    return 1;
  }
  std::vector<Job> Jobs;
  std::vector<std::string> Headers;
  unsigned Counter = 0;
  for (const std::string &Source : Sources) {
    auto File =
        tooling::getAbsolutePath(*llvm::vfs::getRealFileSystem(), Source);
    if (!File) {
      llvm::errs() << "Skipping " << Source
                   << ". Error while getting an absolute path: "
                   << llvm::toString(File.takeError()) << "\n";
      continue;
    }
    std::vector<tooling::CompileCommand> Commands =
        DB.getCompileCommands(*File);
    if (Commands.empty()) {
      Jobs.push_back({*File, "", nullptr});
      Headers.push_back("");
      continue;
    }
    for (tooling::CompileCommand &Cmd : Commands) {
      llvm::SmallString<256> Dir(Cmd.Directory);
      llvm::sys::fs::make_absolute(InitialDir, Dir);
      llvm::sys::path::remove_dots(Dir, /*remove_dot_dot=*/true);
      Jobs.push_back({*File, std::string(Dir),
                      std::make_unique<UnitPass>(std::move(Cmd), Adjust)});
      Headers.push_back(Opts.Verbose && Sources.size() > 1
                            ? "[" + std::to_string(++Counter) + "/" +
                                  std::to_string(Sources.size()) +
                                  "] Processing file " + *File + ".\n"
                            : "");
    }
  }

  // Where a function stops depends on every unit (a callee's profile, a
  // helper in another unit): every unit is parsed and scanned, the plan is
  // made from all their models, and then the units are cut, each on the
  // AST of its one parse.
  std::optional<llvm::DefaultThreadPool> Pool;
  if (Opts.Jobs > 1 && Jobs.size() > 1)
    Pool.emplace(llvm::hardware_concurrency(Opts.Jobs));
  llvm::ThreadPoolInterface *Threads = Pool ? &*Pool : nullptr;
  auto Finish = [&Jobs](size_t I) -> std::optional<std::string> {
    const Job &J = Jobs[I];
    if (!J.Pass)
      return "Skipping " + J.File + ". Compile command not found.\n";
    if (!J.Pass->finished())
      return std::nullopt;
    std::string Out = J.Pass->takeOutput();
    if (J.Pass->failed())
      Out += "Error while processing " + J.File + ".\n";
    return Out;
  };
  OrderedOutput Output(std::move(Headers));
  for (size_t I = 0; I < Jobs.size(); ++I)
    if (!Jobs[I].Pass)
      Output.scanned(I, Finish(I));
  forEachJob(
      Jobs, Threads, [](const Job &J) { return J.Pass != nullptr; },
      [&](size_t I) {
        Jobs[I].Pass->scan();
        Output.scanned(I, Finish(I));
      });

  Program Model;
  for (const Job &J : Jobs)
    if (J.Pass)
      if (const TranslationUnit *U = J.Pass->scanned())
        Model.Units.push_back(*U);
  LoweringPlan Plan = planLowering(Model, placeCalls(Model));
  Model = Program();

  forEachJob(
      Jobs, Threads,
      [](const Job &J) { return J.Pass && J.Pass->needsEmission(); },
      [&](size_t I) {
        Jobs[I].Pass->emit(Plan);
        Output.finished(I, *Finish(I));
      });
  Pool.reset();
  if (std::error_code EC = llvm::sys::fs::set_current_path(InitialDir))
    llvm::errs() << "Error when trying to restore working dir: " << EC.message()
                 << "\n";

  bool Failed = false;
  unsigned Verified = 0;
  for (const Job &J : Jobs) {
    Failed |= !J.Pass || J.Pass->failed();
    Verified += J.Pass && J.Pass->verified();
  }
  if (Verified)
    return Failed ? 1 : 0;
  if (Failed)
    return 1;

  Program P;
  P.Name = Opts.Name;
  if (P.Name.empty() && !Sources.empty())
    P.Name = llvm::sys::path::stem(Sources.front()).str();
  for (Job &J : Jobs)
    P.Units.push_back(J.Pass->takeUnit());

  llvm::StringSet<> Taken;
  std::vector<std::string> LinkFlags = Opts.LinkFlags;
  std::string Compiler;
  for (auto &U : P.Units) {
    std::string Stem = llvm::sys::path::stem(U.Source).str();
    std::string Name = Stem + ".cpp";
    for (unsigned N = 2; Taken.count(Name) || Name == "cleave_module.cpp"; ++N)
      Name = Stem + "_" + std::to_string(N) + ".cpp";
    Taken.insert(Name);
    U.OutputName = Name;
    auto Cmds = DB.getCompileCommands(U.Source);
    if (Cmds.empty())
      continue;
    U.Flags = flagsForRewrittenUnit(Cmds.front());
    for (std::string &F : linkFlagsForHandlers(Cmds.front()))
      if (!llvm::is_contained(LinkFlags, F))
        LinkFlags.push_back(std::move(F));
    // The project's compiler builds the handler library, as it builds the
    // program; a fixed database's placeholder names none.
    if (Compiler.empty() && !Cmds.front().CommandLine.empty()) {
      llvm::StringRef Exe = Cmds.front().CommandLine.front();
      if (Exe != "clang-tool" && Exe.contains("++")) {
        std::string Found = Exe.str();
        if (!llvm::sys::path::is_absolute(Exe)) {
          auto OnPath = llvm::sys::findProgramByName(Exe);
          Found = OnPath ? *OnPath : "";
        }
        if (!Found.empty() && llvm::sys::fs::can_execute(Found))
          Compiler = Found;
      }
    }
  }

  if (!checkProgram(P))
    return 1;
  llvm::SmallString<256> Cwd;
  llvm::sys::fs::current_path(Cwd);
  if (Opts.Remarks) {
    ProgramDiagnostics D;
    for (const Placement &Pl : placeCalls(P))
      D.report().remark(D.locate(Pl.Site->Pos),
                        describePlacement(Pl) + " [-Rcleave]");
    for (const auto &U : P.Units)
      for (const FunctionNode &F : U.Functions)
        for (const StepEdge &E : F.Edges) {
          D.report().remark(D.locate(E.Pos), describeCarried(E, Cwd) +
                                                 " [-Rcleave]");
          for (const RebuiltVar &V : E.Rebuilt)
            D.report().remark(D.locate(E.Pos),
                              "'" + V.Name + "' (" + V.Type +
                                  ") is rebuilt after the boundary instead "
                                  "of carried: " +
                                  V.Why + " [-Rcleave]");
        }
    // A function that may touch every state variable locks and loads all
    // of it: say which call decided that.
    bool HasState = llvm::any_of(
        P.Units, [](const TranslationUnit &U) { return !U.States.empty(); });
    if (HasState)
      for (const FunctionNode *F : P.annotated())
        if (auto Why = P.allStateReason(*F))
          D.report().remark(D.locate(Why->Pos),
                            "'" + F->Name +
                                "' may touch every state variable: " +
                                Why->Why + " [-Rcleave]");
    for (const auto &U : P.Units)
      for (const StateVar &V : U.States) {
        // Only a map has a choice to explain.
        if (V.KeyType.empty())
          continue;
        Granularity G = P.granularityOf(V);
        std::string Msg =
            G.PerKey ? "state '" + V.Name + "' is stored per key, as '" +
                           V.Name + "/<key>': " + G.Why
                     : "state '" + V.Name + "' is stored as one value: " +
                           G.Why;
        D.report().remark(D.locate(G.Use ? G.Use->Pos : V.Pos),
                          Msg + " [-Rcleave]");
      }
  }

  OutputOptions Out;
  Out.OutDir = Opts.OutDir;
  Out.RuntimeIncludeDir = RuntimeInclude;
  Out.SupportLibrary = runtimeSupportLibrary();
  Out.LinkFlags = std::move(LinkFlags);
  Out.Compiler = std::move(Compiler);
  std::string SourceBase = std::string(Cwd);
  if (!Opts.SourceRoot.empty()) {
    llvm::SmallString<256> Root(Opts.SourceRoot);
    llvm::sys::fs::make_absolute(InitialDir, Root);
    llvm::sys::path::remove_dots(Root, /*remove_dot_dot=*/true);
    SourceBase = std::string(Root);
  }
  if (auto Err = writeDeployment(P, Out, SourceBase)) {
    llvm::errs() << "cleave: error: " << llvm::toString(std::move(Err)) << "\n";
    return 1;
  }
  if (!Opts.Depfile.empty())
    if (auto Err = writeDepfile(P, Out, Opts.Depfile)) {
      llvm::errs() << "cleave: error: " << llvm::toString(std::move(Err))
                   << "\n";
      return 1;
    }
  unsigned Entries = 0;
  for (const FunctionNode *F : P.annotated())
    Entries += F->IsEntry;
  // Not an error (a deployment may be built before its entries are
  // written), but nothing would be served: say so, also under -q.
  if (Entries == 0)
    llvm::errs() << "cleave: warning: the deployment has no entries: no "
                    "function of the sources is marked CLEAVE_ENTRY(\"METHOD "
                    "/path\"), so cleave-run would serve nothing\n";
  if (Opts.Verbose) {
    llvm::errs() << "cleave: wrote " << Opts.OutDir << "/manifest.yaml ("
                 << Entries << (Entries == 1 ? " entry" : " entries") << ", "
                 << P.Units.size() << (P.Units.size() == 1 ? " unit" : " units")
                 << ")\n";
  }
  if (!Opts.RunBuild)
    return 0;
  if (auto Err = buildDeployment(Out, Opts.Jobs, Opts.Verbose)) {
    llvm::errs() << "cleave: error: " << llvm::toString(std::move(Err)) << "\n";
    return 1;
  }
  return 0;
}

} // namespace cleave
