//===- Output.cpp - Write a deployment to disk -------------------------===//

#include "cleave/Emit/Output.h"

#include "cleave/Analysis/Placement.h"
#include "cleave/Config.h"
#include "cleave/Emit/Glue.h"
#include "cleave/Manifest.h"

#include "clang/Basic/Version.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <thread>

namespace cleave {

namespace {

std::string cmakeQuoted(llvm::StringRef S) {
  std::string Out = "\"";
  for (char C : S) {
    if (C == '"' || C == '\\' || C == '$' || C == ';')
      Out += '\\';
    Out += C;
  }
  return Out + "\"";
}

/// Writes \p Text to \p Path unless the file already holds it: an
/// unchanged file keeps its time stamp, so that building the deployment
/// again compiles only the units that changed.
llvm::Error writeFile(const std::string &Path, llvm::StringRef Text) {
  if (auto Old = llvm::MemoryBuffer::getFile(Path, /*IsText=*/true))
    if ((*Old)->getBuffer() == Text)
      return llvm::Error::success();
  std::error_code EC;
  llvm::raw_fd_ostream OS(Path, EC, llvm::sys::fs::OF_Text);
  if (EC)
    return llvm::createStringError(EC, "cannot write '%s': %s", Path.c_str(),
                                   EC.message().c_str());
  OS << Text;
  OS.close();
  if (OS.has_error())
    return llvm::createStringError(OS.error(), "cannot write '%s'",
                                   Path.c_str());
  return llvm::Error::success();
}

/// An entry machine's value-to-JSON adapter, generated beside ArgsSymbol.
std::string valueSymbol(const FunctionNode &F) {
  return "cleave_value_" + F.ArgsSymbol.substr(std::string("cleave_args_").size());
}

} // namespace

std::string renderManifest(const Program &P, const std::string &SourceBase) {
  rt::Manifest M;
  M.Name = P.Name;
  M.Artifact = ArtifactPath;
  std::map<std::string, std::set<std::string>> Readers, Writers;
  for (const FunctionNode *F : P.annotated()) {
    rt::FunctionSpec &S = M.Functions.emplace_back();
    S.Name = F->Name;
    S.Kind = F->IsEntry ? "entry" : "function";
    if (F->IsEntry) {
      S.Handler = F->Name;
      S.Method = F->Route->Method;
      S.Path = F->Route->Path;
      for (const Param &Par : F->Params) {
        auto &PS = S.Params.emplace_back();
        PS.Name = Par.Name;
        PS.Type = Par.Type;
      }
      S.Returns = F->Returns;
    }
    S.Resources.Memory = F->Res.MemoryMiB;
    S.Resources.Timeout = F->Res.TimeoutSec;
    S.Resources.Gpu = F->Res.Gpu;
    S.Resources.Concurrency = F->Res.Concurrency;
    S.Isolate = F->Res.Isolate;
    S.Auth = F->Res.Auth;
    S.Source = F->Pos.str(SourceBase);
    for (const auto &[Name, Access] : P.stateUsedBy(*F)) {
      auto &U = S.State.emplace_back();
      U.Name = Name;
      U.Access = accessName(Access);
      if (static_cast<int>(Access) & static_cast<int>(StateAccess::Read))
        Readers[Name].insert(F->Name);
      if (static_cast<int>(Access) & static_cast<int>(StateAccess::Write))
        Writers[Name].insert(F->Name);
    }
  }
  // M.Functions is in the order of P.annotated().
  std::map<const FunctionNode *, size_t> Index;
  std::vector<const FunctionNode *> Annotated = P.annotated();
  for (size_t I = 0; I < Annotated.size(); ++I)
    Index[Annotated[I]] = I;
  for (const Placement &Pl : placeCalls(P)) {
    auto It = Index.find(Pl.Owner);
    if (It == Index.end())
      continue;
    rt::CallSpec &C = M.Functions[It->second].Calls.emplace_back();
    C.Callee = Pl.Callee->Name;
    C.Placement = Pl.FanOut ? "fanout" : Pl.Boundary ? "boundary" : "local";
    C.Reason = Pl.Reason;
    C.Source = Pl.Site->Pos.str(SourceBase);
  }
  // Functions that run as steps: annotated ones carry their steps, plain
  // helpers that run as steps are listed as kind "helper".
  auto AddSteps = [&](const FunctionNode &F, rt::FunctionSpec &S) {
    S.Machine = F.MachineName;
    if (F.Edges.empty())
      return;
    for (size_t I = 0; I < F.Steps.size(); ++I)
      S.Steps.push_back({static_cast<int64_t>(I), F.Steps[I].str(SourceBase)});
    for (const StepEdge &E : F.Edges) {
      rt::EdgeSpec &ES = S.Edges.emplace_back();
      ES.From.assign(E.From.begin(), E.From.end());
      ES.Callee = E.Callee;
      ES.Placement = E.Placement;
      ES.Resume = E.Resume;
      ES.Source = E.Pos.str(SourceBase);
      for (const CarriedVar &C : E.Carried)
        ES.Carried.push_back({C.Name, C.Type, C.Bytes});
    }
  };
  for (size_t I = 0; I < Annotated.size(); ++I)
    AddSteps(*Annotated[I], M.Functions[I]);
  for (const auto &U : P.Units)
    for (const FunctionNode &F : U.Functions) {
      if (F.IsEntry || F.IsFunction || F.MachineName.empty())
        continue;
      rt::FunctionSpec &S = M.Functions.emplace_back();
      S.Name = F.MachineName;
      S.Kind = "helper";
      S.Source = F.Pos.str(SourceBase);
      for (const auto &[Name, Access] : P.stateUsedBy(F)) {
        auto &Use = S.State.emplace_back();
        Use.Name = Name;
        Use.Access = accessName(Access);
      }
      AddSteps(F, S);
    }
  for (const auto &U : P.Units)
    for (const StateVar &V : U.States) {
      rt::StateSpec &S = M.State.emplace_back();
      S.Name = V.Name;
      S.Type = V.Type;
      S.Consistency = consistencyName(V.Cons);
      S.Granularity = P.granularityOf(V).PerKey ? "key" : "whole";
      S.Source = V.Pos.str(SourceBase);
      S.Readers.assign(Readers[V.Name].begin(), Readers[V.Name].end());
      S.Writers.assign(Writers[V.Name].begin(), Writers[V.Name].end());
    }
  // The manifest's header names the compiler, so that a manifest says
  // which release and which Clang wrote it.
  return rt::writeManifest(M, "cleave " CLEAVE_VERSION " (" +
                                  clang::getClangFullVersion() + ")");
}

std::string renderModuleSource(const Program &P) {
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  OS << "// Generated by cleave: do not edit.\n"
     << "// The handler library's one exported symbol, its handler table, and\n"
     << "// the registry of state variables.\n\n"
     << "// Only the registry's header: the codecs in handler.h are for the\n"
     << "// units that hold the handlers.\n"
     << "#include <cleave/registry.h>\n\n"
     << "#include <cstdlib>\n#include <cstring>\n\n";
  std::vector<const FunctionNode *> Entries;
  for (const FunctionNode *F : P.annotated())
    if (F->IsEntry)
      Entries.push_back(F);
  std::vector<const StateVar *> States;
  for (const auto &U : P.Units)
    for (const StateVar &V : U.States)
      States.push_back(&V);

  for (const FunctionNode *F : Entries)
    OS << "int " << F->HandlerSymbol
       << "(const cleave_call_v1 *Call, cleave_reply_v1 *Reply) noexcept;\n";
  for (const StateVar *V : States)
    OS << "extern const ::cleave::rt::StateOps " << V->OpsSymbol << ";\n";
  std::vector<const FunctionNode *> Machines;
  for (const auto &U : P.Units)
    for (const FunctionNode &F : U.Functions)
      if (!F.MachineName.empty())
        Machines.push_back(&F);
  for (const FunctionNode *F : Machines) {
    OS << "int " << F->MachineSymbol
       << "(const cleave_step_call_v1 *Call, cleave_step_reply_v1 *Reply);\n";
    if (!F->ArgsSymbol.empty())
      OS << "int " << F->ArgsSymbol
         << "(const cleave_call_v1 *Call, cleave_reply_v1 *Reply);\n"
         << "int " << valueSymbol(*F)
         << "(const char *Value, size_t Len, cleave_reply_v1 *Reply);\n";
  }

  OS << "\nnamespace {\n\n";
  if (!Entries.empty()) {
    OS << "const cleave_handler_v1 Handlers[] = {\n";
    for (const FunctionNode *F : Entries)
      OS << "    {" << cppStringLiteral(F->Name) << ", &" << F->HandlerSymbol
         << "},\n";
    OS << "};\n";
  }
  if (!States.empty()) {
    OS << "const ::cleave::rt::StateOps *const States[] = {\n";
    for (const StateVar *V : States)
      OS << "    &" << V->OpsSymbol << ",\n";
    OS << "};\n";
  }
  if (!Machines.empty()) {
    OS << "const cleave_machine_v1 Machines[] = {\n";
    for (const FunctionNode *F : Machines) {
      OS << "    {" << cppStringLiteral(F->MachineName) << ", "
         << (F->Edges.size() + 1) << "u, &" << F->MachineSymbol << ", ";
      if (F->ArgsSymbol.empty())
        OS << "nullptr, nullptr},\n";
      else
        OS << "&" << F->ArgsSymbol << ", &" << valueSymbol(*F) << "},\n";
    }
    OS << "};\n";
  }
  // Per function, the variables stored whole that it may touch: what a
  // handler or step loads into its thread's copies before it runs. The
  // runtime locks the same lists, from the manifest; a map stored per key
  // is loaded through its per-key view instead.
  std::set<std::string> Whole;
  for (const StateVar *V : States)
    if (!P.granularityOf(*V).PerKey)
      Whole.insert(V->Name);
  std::vector<std::pair<std::string, std::string>> FunctionLists;
  unsigned Lists = 0;
  auto AddList = [&](const FunctionNode &F) {
    // Numbered on their own: a helper's list may be named by its machine
    // only, or (when the names agree) by nothing but the plan.
    std::string Array = "StateOf" + std::to_string(Lists++);
    OS << "const char *const " << Array << "[] = {";
    for (const auto &[Name, Access] : P.stateUsedBy(F))
      if (Whole.count(Name))
        OS << cppStringLiteral(Name) << ", ";
    OS << "nullptr};\n";
    if (F.IsEntry || F.IsFunction || F.MachineName == F.Name)
      FunctionLists.push_back({F.Name, Array});
    if (!F.MachineName.empty() && F.MachineName != F.Name)
      FunctionLists.push_back({F.MachineName, Array});
  };
  for (const auto &U : P.Units)
    for (const FunctionNode &F : U.Functions)
      if (F.IsEntry || F.IsFunction || !F.MachineName.empty())
        AddList(F);
  if (!FunctionLists.empty()) {
    OS << "const ::cleave::rt::FunctionState FunctionStates[] = {\n";
    for (const auto &[Name, Array] : FunctionLists)
      OS << "    {" << cppStringLiteral(Name) << ", " << Array << "},\n";
    OS << "};\n";
  }
  OS << "\nvoid release(char *Body) { std::free(Body); }\n\n"
     << "const cleave_module_v1_t Module = {CLEAVE_ABI_VERSION, "
     << Entries.size() << "u, " << (Entries.empty() ? "nullptr" : "Handlers")
     << ", &release, " << Machines.size() << "u, "
     << (Machines.empty() ? "nullptr" : "Machines") << "};\n\n"
     << "} // namespace\n\n"
     << "const ::cleave::rt::StateOps *\n"
     << "cleave::rt::findStateOps(const char *Name) {\n";
  if (States.empty())
    OS << "  (void)Name;\n";
  else
    OS << "  for (const ::cleave::rt::StateOps *S : States)\n"
       << "    if (std::strcmp(S->Name, Name) == 0)\n"
       << "      return S;\n";
  OS << "  return nullptr;\n}\n\n"
     << "extern \"C\" __attribute__((visibility(\"default\"))) const "
        "cleave_module_v1_t *\n"
     << "cleave_module_v1(void) {\n"
     << "  // The runtime asks for the table after loading the library, so the\n"
     << "  // initial values are taken after its static initialization.\n"
     << "  static const bool Registered =\n"
     << "      (::cleave::rt::registerModuleState("
     << (States.empty() ? "nullptr, 0u" : "States, " +
                                               std::to_string(States.size()) +
                                               "u")
     << ", "
     << (FunctionLists.empty()
             ? std::string("nullptr, 0u")
             : "FunctionStates, " + std::to_string(FunctionLists.size()) + "u")
     << "),\n       true);\n"
     << "  (void)Registered;\n  return &Module;\n}\n";
  return Text;
}

std::string renderCMakeLists(const Program &P, const OutputOptions &Opts) {
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  OS << "# Generated by cleave: do not edit. Builds the handler library that\n"
     << "# cleave-run loads (manifest.yaml names it as the artifact).\n"
     << "cmake_minimum_required(VERSION 3.16)\n"
     << "project("
     << "cleave_deployment LANGUAGES CXX)\n\n"
     << "if(NOT CMAKE_BUILD_TYPE)\n"
     << "  set(CMAKE_BUILD_TYPE Release)\n"
     << "endif()\n"
     << "# -O2 as a program's release build has it, not CMake's -O3, which\n"
     << "# compiles generated code slower; an -O flag of the program's own\n"
     << "# compile commands comes later and wins.\n"
     << "set(CMAKE_CXX_FLAGS_RELEASE \"-O2 -DNDEBUG\")\n\n"
     << "add_library(cleave_handlers SHARED\n"
     << "  src/cleave_module.cpp\n";
  for (const auto &U : P.Units)
    OS << "  src/" << U.OutputName << "\n";
  OS << ")\n"
     << "set_target_properties(cleave_handlers PROPERTIES\n"
     << "  CXX_STANDARD 17\n"
     << "  CXX_STANDARD_REQUIRED ON\n"
     << "  CXX_VISIBILITY_PRESET hidden\n"
     << "  VISIBILITY_INLINES_HIDDEN ON\n"
     << "  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})\n"
     << "# State is thread_local in the library (see cleave/cleave.h).\n"
     << "target_compile_definitions(cleave_handlers PRIVATE "
        "CLEAVE_HANDLER_LIBRARY)\n"
     << "target_include_directories(cleave_handlers PRIVATE "
     << cmakeQuoted(Opts.RuntimeIncludeDir) << ")\n";
  // A symbol the library needs and nothing it links defines would only
  // fail when cleave-run loads it: fail the link instead, naming it. A
  // sanitizer's symbols come from the executable that loads the library.
  bool Sanitized = llvm::any_of(P.Units, [](const TranslationUnit &U) {
    return llvm::any_of(U.Flags, [](const std::string &F) {
      return llvm::StringRef(F).starts_with("-fsanitize=");
    });
  });
  if (!Sanitized)
    OS << "target_link_options(cleave_handlers PRIVATE "
          "LINKER:--no-undefined)\n";
  if (!Opts.SupportLibrary.empty())
    OS << "# JSON parsing and printing, compiled once with Cleave.\n"
       << "target_link_libraries(cleave_handlers PRIVATE "
       << cmakeQuoted(Opts.SupportLibrary) << ")\n";
  if (!Opts.LinkFlags.empty()) {
    OS << "# The program's link arguments, from its compile commands or "
          "the\n# command line.\n"
       << "target_link_libraries(cleave_handlers PRIVATE";
    for (const std::string &F : Opts.LinkFlags)
      OS << "\n  " << cmakeQuoted(F);
    OS << ")\n";
  }
  OS << "\n# Each unit keeps the flags it had in the compile database.\n";
  for (const auto &U : P.Units) {
    if (U.Flags.empty())
      continue;
    OS << "set_source_files_properties(src/" << U.OutputName
       << " PROPERTIES COMPILE_OPTIONS\n  \"";
    for (size_t I = 0; I < U.Flags.size(); ++I) {
      std::string Quoted = cmakeQuoted(U.Flags[I]);
      OS << (I ? ";" : "") << Quoted.substr(1, Quoted.size() - 2);
    }
    OS << "\")\n";
  }
  return Text;
}

llvm::Error writeDeployment(const Program &P, const OutputOptions &Opts,
                            const std::string &SourceBase) {
  llvm::SmallString<256> Src(Opts.OutDir);
  llvm::sys::path::append(Src, "src");
  if (std::error_code EC = llvm::sys::fs::create_directories(Src))
    return llvm::createStringError(EC, "cannot create '%s': %s", Src.c_str(),
                                   EC.message().c_str());
  llvm::SmallString<256> AbsSrc(Src);
  llvm::sys::fs::make_absolute(AbsSrc);
  llvm::sys::path::remove_dots(AbsSrc, /*remove_dot_dot=*/true);
  for (const auto &U : P.Units) {
    llvm::SmallString<256> Path(Src), AbsPath(AbsSrc);
    llvm::sys::path::append(AbsPath, U.OutputName);
    llvm::sys::path::append(Path, U.OutputName);
    // The glue is reported at its own lines in the generated file, the user
    // code at its original ones.
    unsigned Line = static_cast<unsigned>(std::count(U.Rewritten.begin(),
                                                     U.Rewritten.end(), '\n')) +
                    2;
    std::string Text = U.Rewritten + "#line " + std::to_string(Line) + " " +
                       cppStringLiteral(AbsPath.str()) + "\n" + U.Glue;
    if (auto Err = writeFile(std::string(Path), Text))
      return Err;
    for (const auto &[Rel, HeaderText] : U.Headers) {
      llvm::SmallString<256> H(Src);
      llvm::sys::path::append(H, Rel);
      if (std::error_code EC = llvm::sys::fs::create_directories(
              llvm::sys::path::parent_path(H)))
        return llvm::createStringError(EC, "cannot create '%s': %s",
                                       H.c_str(), EC.message().c_str());
      if (auto Err = writeFile(std::string(H), HeaderText))
        return Err;
    }
  }
  llvm::SmallString<256> Module(Src);
  llvm::sys::path::append(Module, "cleave_module.cpp");
  if (auto Err = writeFile(std::string(Module), renderModuleSource(P)))
    return Err;
  llvm::SmallString<256> CMake(Opts.OutDir);
  llvm::sys::path::append(CMake, "CMakeLists.txt");
  if (auto Err = writeFile(std::string(CMake), renderCMakeLists(P, Opts)))
    return Err;
  llvm::SmallString<256> Manifest(Opts.OutDir);
  llvm::sys::path::append(Manifest, "manifest.yaml");
  return writeFile(std::string(Manifest), renderManifest(P, SourceBase));
}

/// \p Path as a Make rule spells it.
static std::string makeEscaped(llvm::StringRef Path) {
  std::string Out;
  for (char C : Path) {
    if (C == ' ' || C == '#' || C == '\\')
      Out += '\\';
    else if (C == '$')
      Out += '$';
    Out += C;
  }
  return Out;
}

llvm::Error writeDepfile(const Program &P, const OutputOptions &Opts,
                         const std::string &Path) {
  llvm::SmallString<256> Manifest(Opts.OutDir);
  llvm::sys::fs::make_absolute(Manifest);
  llvm::sys::path::remove_dots(Manifest, /*remove_dot_dot=*/true);
  llvm::sys::path::append(Manifest, "manifest.yaml");
  std::set<std::string> Inputs;
  for (const auto &U : P.Units)
    Inputs.insert(U.Inputs.begin(), U.Inputs.end());
  std::string Text = makeEscaped(Manifest) + ":";
  for (const std::string &In : Inputs)
    Text += " \\\n  " + makeEscaped(In);
  Text += "\n";
  if (auto Err = writeFile(Path, Text))
    return Err;
  int FD;
  if (std::error_code EC = llvm::sys::fs::openFileForWrite(
          Manifest, FD, llvm::sys::fs::CD_OpenExisting,
          llvm::sys::fs::OF_Append))
    return llvm::createStringError(EC, "cannot open '%s': %s",
                                   Manifest.c_str(), EC.message().c_str());
  std::error_code EC = llvm::sys::fs::setLastAccessAndModificationTime(
      FD, std::chrono::system_clock::now());
  llvm::sys::Process::SafelyCloseFileDescriptor(FD);
  if (EC)
    return llvm::createStringError(EC, "cannot update the time of '%s': %s",
                                   Manifest.c_str(), EC.message().c_str());
  return llvm::Error::success();
}

namespace {

/// One generated source, split into lines, with where its `#line`
/// directives send the lines after them.
struct GeneratedFile {
  std::unique_ptr<llvm::MemoryBuffer> Buffer;
  llvm::SmallVector<llvm::StringRef, 0> Lines;
  struct Region {
    size_t Physical; ///< the directive's own line, 1-based
    unsigned Line;   ///< the line number it gives the next line
    std::string File;
  };
  std::vector<Region> Regions;
};

/// The path and position a compiler diagnostic line starts with
/// (`FILE:LINE:COL: error: MESSAGE`), or nothing for any other line.
struct Diagnostic {
  llvm::StringRef File, Message;
  unsigned Line = 0, Column = 0;
};
std::optional<Diagnostic> parseError(llvm::StringRef Text) {
  for (llvm::StringRef Kind : {": fatal error: ", ": error: "}) {
    size_t At = Text.find(Kind);
    if (At == llvm::StringRef::npos)
      continue;
    Diagnostic D;
    D.Message = Text.substr(At + Kind.size());
    llvm::StringRef Head = Text.take_front(At);
    auto [Rest, Col] = Head.rsplit(':');
    auto [File, Line] = Rest.rsplit(':');
    if (File.empty() || Line.getAsInteger(10, D.Line) ||
        Col.getAsInteger(10, D.Column))
      return std::nullopt;
    D.File = File;
    return D;
  }
  return std::nullopt;
}

/// The errors of a failed build of the handler library in \p Log, located
/// in the program: an error in generated code is reported where the
/// program declares what that code is for (the `// cleave-for:` line above
/// it, Glue.h), with the generated line as a note; an error in the
/// program's own code, which the handler library compiles from a copy, gets
/// the copy's line as a note. Empty when the log has no error with a
/// position (a link failure): the caller shows the log instead.
std::string locateBuildErrors(llvm::StringRef Log, llvm::StringRef SrcDir) {
  constexpr unsigned MaxErrors = 20;
  std::map<std::string, GeneratedFile> Files;
  std::error_code EC;
  for (llvm::sys::fs::directory_iterator It(SrcDir, EC), End; It != End && !EC;
       It.increment(EC)) {
    auto Buf = llvm::MemoryBuffer::getFile(It->path(), /*IsText=*/true);
    if (!Buf)
      continue;
    GeneratedFile &F = Files[It->path()];
    F.Buffer = std::move(*Buf);
    F.Buffer->getBuffer().split(F.Lines, '\n');
    for (size_t I = 0; I < F.Lines.size(); ++I) {
      llvm::StringRef L = F.Lines[I];
      unsigned N = 0;
      if (!L.consume_front("#line ") || L.consumeInteger(10, N) ||
          !L.consume_front(" \"") || !L.consume_back("\""))
        continue;
      F.Regions.push_back({I + 1, N, L.str()});
    }
  }

  std::string Out;
  unsigned Shown = 0, More = 0;
  llvm::SmallVector<llvm::StringRef, 0> LogLines;
  Log.split(LogLines, '\n');
  for (llvm::StringRef Text : LogLines) {
    auto D = parseError(Text.rtrim());
    if (!D)
      continue;
    if (Shown == MaxErrors) {
      ++More;
      continue;
    }
    ++Shown;
    auto It = Files.find(D->File.str());
    if (It != Files.end()) {
      // Generated code: the nearest `// cleave-for:` above the line.
      const GeneratedFile &F = It->second;
      std::string Located;
      for (size_t I = std::min<size_t>(D->Line, F.Lines.size()); I > 0; --I) {
        llvm::StringRef L = F.Lines[I - 1];
        if (!L.consume_front("// cleave-for: "))
          continue;
        auto [Where, What] = L.split(": ");
        Located =
            (Where + ": error: " + D->Message + "\n" + D->File + ":" +
             llvm::Twine(D->Line) + ":" + llvm::Twine(D->Column) +
             ": note: in " + What.rtrim() + ", which cleave generates here\n")
                .str();
        break;
      }
      Out += Located.empty() ? Text.rtrim().str() + "\n" : Located;
      continue;
    }
    // The program's own code: where its copy is.
    Out += Text.rtrim().str() + "\n";
    for (const auto &[Path, F] : Files)
      for (size_t R = 0; R < F.Regions.size(); ++R) {
        const auto &Reg = F.Regions[R];
        size_t Next = R + 1 < F.Regions.size() ? F.Regions[R + 1].Physical
                                               : F.Lines.size() + 1;
        if (Reg.File != D->File || D->Line < Reg.Line ||
            Reg.Physical + 1 + (D->Line - Reg.Line) >= Next)
          continue;
        Out += Path + ":" +
               std::to_string(Reg.Physical + 1 + (D->Line - Reg.Line)) + ":" +
               std::to_string(D->Column) +
               ": note: the handler library compiles this line from its "
               "copy here\n";
        R = F.Regions.size();
        break;
      }
  }
  if (More)
    Out += std::to_string(More) + " more errors\n";
  return Out;
}

llvm::Error runLogged(llvm::ArrayRef<llvm::StringRef> Args,
                      const std::string &Log, const std::string &SrcDir = "") {
  // The child writes from offset 0 without truncating: start afresh.
  llvm::sys::fs::remove(Log);
  std::optional<llvm::StringRef> Redirects[] = {std::nullopt, Log, Log};
  std::string ErrMsg;
  int RC = llvm::sys::ExecuteAndWait(Args[0], Args, std::nullopt, Redirects, 0,
                                     0, &ErrMsg);
  if (RC == 0)
    return llvm::Error::success();
  std::string Tail;
  if (auto Buf = llvm::MemoryBuffer::getFile(Log)) {
    llvm::StringRef Text = (*Buf)->getBuffer();
    std::string Located = SrcDir.empty() ? "" : locateBuildErrors(Text, SrcDir);
    if (!Located.empty()) {
      // Errors located in the program, as a compiler reports them.
      llvm::errs() << Located;
      Tail = "";
    } else {
      Tail = Text.size() > 4000 ? Text.take_back(4000).str() : Text.str();
    }
  }
  return llvm::createStringError(
      std::make_error_code(std::errc::io_error),
      "building the handler library failed (%s)%s\n%s",
      ErrMsg.empty() ? ("exit code " + std::to_string(RC)).c_str()
                     : ErrMsg.c_str(),
      (", see " + Log).c_str(), Tail.c_str());
}

} // namespace

llvm::Error buildDeployment(const OutputOptions &Opts, unsigned Jobs,
                            bool Verbose) {
  auto CMake = llvm::sys::findProgramByName("cmake");
  if (!CMake)
    return llvm::createStringError(CMake.getError(),
                                   "cannot find 'cmake' on PATH; install it "
                                   "or pass --no-build");
  llvm::SmallString<256> BuildDir(Opts.OutDir);
  llvm::sys::path::append(BuildDir, "build");
  if (std::error_code EC = llvm::sys::fs::create_directories(BuildDir))
    return llvm::createStringError(EC, "cannot create '%s'", BuildDir.c_str());
  llvm::SmallString<256> ConfigureLog(BuildDir), Log(BuildDir);
  llvm::sys::path::append(ConfigureLog, "cleave-configure.log");
  llvm::sys::path::append(Log, "cleave-build.log");

  auto Start = std::chrono::steady_clock::now();
  if (Verbose)
    llvm::errs() << "cleave: building the handler library in " << BuildDir
                 << "\n";
  std::vector<std::string> Configure = {*CMake, "-S", Opts.OutDir, "-B",
                                        std::string(BuildDir)};
  // The compiler: CMAKE_CXX_COMPILER from the environment, else CXX (which
  // CMake reads itself), else the program's own.
  if (auto FromEnv = llvm::sys::Process::GetEnv("CMAKE_CXX_COMPILER"))
    Configure.push_back("-DCMAKE_CXX_COMPILER=" + *FromEnv);
  else if (!llvm::sys::Process::GetEnv("CXX") && !Opts.Compiler.empty())
    Configure.push_back("-DCMAKE_CXX_COMPILER=" + Opts.Compiler);
  if (llvm::sys::findProgramByName("ninja"))
    Configure.insert(Configure.end(), {"-G", "Ninja"});
  std::vector<llvm::StringRef> Args(Configure.begin(), Configure.end());
  if (auto Err = runLogged(Args, std::string(ConfigureLog)))
    return Err;
  // Ninja compiles in parallel by itself, Make does not: say how many.
  if (Jobs == 0)
    Jobs = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> Build = {*CMake, "--build", std::string(BuildDir),
                                    "--parallel", std::to_string(Jobs)};
  std::vector<llvm::StringRef> BuildArgs(Build.begin(), Build.end());
  llvm::SmallString<256> SrcDir(Opts.OutDir);
  llvm::sys::fs::make_absolute(SrcDir);
  llvm::sys::path::append(SrcDir, "src");
  if (auto Err = runLogged(BuildArgs, std::string(Log), std::string(SrcDir)))
    return Err;
  if (Verbose) {
    auto Ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - Start)
                  .count();
    llvm::errs() << llvm::formatv("cleave: built {0}/{1} in {2:f1} s\n",
                                  Opts.OutDir, ArtifactPath, Ms / 1000.0);
  }
  return llvm::Error::success();
}

} // namespace cleave
