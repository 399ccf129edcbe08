//===- Unit.cpp - The passes over one translation unit -------------------===//

#include "cleave/Driver/Unit.h"

#include "cleave/Analysis/Lowering.h"
#include "cleave/Analysis/Serializable.h"
#include "cleave/Driver/RuntimeNames.h"
#include "cleave/Emit/Glue.h"
#include "cleave/Emit/Hygiene.h"
#include "cleave/Emit/Rewrite.h"
#include "cleave/Emit/StateMachine.h"
#include "cleave/Frontend/Frontend.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/Basic/Stack.h"
#include "clang/Basic/Version.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/CompilerInvocation.h"
#include "clang/Frontend/FrontendAction.h"
#include "clang/Frontend/TextDiagnosticPrinter.h"
#include "clang/Lex/PPCallbacks.h"
#include "clang/Lex/Preprocessor.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/VirtualFileSystem.h"
#include "llvm/TargetParser/Host.h"

#include <functional>

using namespace clang;

namespace cleave {

namespace {

/// Lowers the functions of the unit that run as steps; their machines, and
/// in \p Insertions what the unit's rewritten copy must declare for them.
std::string
lowerUnit(ASTContext &Ctx, Reporter &Report, SerializableChecker &Types,
          const LoweringPlan &Plan, TranslationUnit &Unit,
          const UnitModel &Model,
          std::vector<std::pair<SourceLocation, std::string>> &Insertions) {
  const SourceManager &SM = Ctx.getSourceManager();
  MachineContext MC{
      Ctx, Report, Types, Plan,
      [&SM](SourceLocation L) { return sourcePos(SM, L); },
      [&](Rewriter &R) { rewritePerKeyUses(R, Ctx, Model, Plan, nullptr); },
      {}, {}, {}};
  std::string Out;
  for (const auto &[Index, FD] : Model.Definitions) {
    FunctionNode &N = Unit.Functions[Index];
    if (Plan.isMachine(N.USR))
      emitMachine(MC, FD, N, Out);
  }
  Insertions = std::move(MC.UnitInsertions);
  // The program's exception classes that cross boundaries, registered as
  // the handler library loads.
  unsigned N = 0;
  for (const auto &[RD, Registration] : MC.Carried)
    Out += "static const bool cleave_carried_" + std::to_string(N++) +
           " = " + Registration + ";\n";
  return Out;
}

/// The unit's glue: codecs, handlers, state descriptors.
std::string glueOf(ASTContext &Ctx, SerializableChecker &Types,
                   const TranslationUnit &Unit, const UnitModel &Model) {
  std::vector<GlueEntry> Entries;
  for (const auto &[Index, FD] : Model.EntryDecls) {
    const FunctionNode &N = Unit.Functions[Index];
    if (N.ReturnsCode.empty() || N.Params.size() != FD->getNumParams())
      continue; // an error was reported
    Entries.push_back({&N, "::" + N.Name});
  }
  std::vector<GlueState> States;
  for (size_t I = 0; I < Unit.States.size(); ++I)
    States.push_back({&Unit.States[I], Model.StateTypes[I]});
  return generateGlue(Ctx, Types.records().getArrayRef(), Entries, States);
}

/// The libraries the handler library includes before the program's code
/// (cleave/handler.h), which a macro the program defines first configures:
/// the library it configures, or null.
const char *configuredLibrary(llvm::StringRef Name) {
  static const char *const Json[] = {
      "JSON_ASSERT", "JSON_CATCH_USER", "JSON_DIAGNOSTICS",
      "JSON_DIAGNOSTIC_POSITIONS", "JSON_DISABLE_ENUM_SERIALIZATION",
      "JSON_HAS_CPP_11", "JSON_HAS_CPP_14", "JSON_HAS_CPP_17",
      "JSON_HAS_CPP_20", "JSON_HAS_EXPERIMENTAL_FILESYSTEM",
      "JSON_HAS_FILESYSTEM", "JSON_HAS_RANGES", "JSON_HAS_STATIC_RTTI",
      "JSON_HAS_THREE_WAY_COMPARISON", "JSON_NOEXCEPTION", "JSON_NO_IO",
      "JSON_SKIP_LIBRARY_VERSION_CHECK",
      "JSON_SKIP_UNSUPPORTED_COMPILER_CHECK", "JSON_THROW_USER",
      "JSON_TRY_USER", "JSON_USE_GLOBAL_UDLS",
      "JSON_USE_IMPLICIT_CONVERSIONS",
      "JSON_USE_LEGACY_DISCARDED_VALUE_COMPARISON",
      "NLOHMANN_JSON_NAMESPACE_NO_VERSION"};
  static const char *const Std[] = {
      "_BSD_SOURCE", "_DEFAULT_SOURCE", "_FILE_OFFSET_BITS", "_FORTIFY_SOURCE",
      "_ISOC11_SOURCE", "_LARGEFILE64_SOURCE",
      "_POSIX_C_SOURCE", "_REENTRANT", "_TIME_BITS", "_XOPEN_SOURCE",
      "__STDC_CONSTANT_MACROS", "__STDC_FORMAT_MACROS",
      "__STDC_LIMIT_MACROS", "__STDC_WANT_LIB_EXT1__"};
  for (const char *N : Json)
    if (Name == N)
      return "nlohmann/json";
  for (const char *N : Std)
    if (Name == N)
      return "the C and C++ libraries";
  if (Name.starts_with("_GLIBCXX_") || Name.starts_with("_LIBCPP_"))
    return "the C++ library";
  return nullptr;
}

/// Records the unit's inclusion directives, for the copies of the headers
/// that its rewritten copy edits, and the configuration macros it defines
/// for libraries the handler library includes before its code.
class PreprocessorRecorder : public PPCallbacks {
public:
  PreprocessorRecorder(const SourceManager &SM, std::vector<Inclusion> &Out,
                  std::vector<std::pair<SourceLocation, std::string>> &Config)
      : SM(SM), Out(Out), Config(Config) {}

  void MacroDefined(const Token &Name, const MacroDirective *) override {
    SourceLocation L = Name.getLocation();
    if (L.isInvalid() || !L.isFileID() || SM.isInSystemHeader(L) ||
        !SM.getFileEntryRefForID(SM.getFileID(L)))
      return; // the command line, a builtin, a library's own
    if (const IdentifierInfo *II = Name.getIdentifierInfo())
      if (configuredLibrary(II->getName()))
        Config.push_back({L, II->getName().str()});
  }

  void InclusionDirective(SourceLocation HashLoc, const Token &,
                          llvm::StringRef, bool IsAngled,
                          CharSourceRange FilenameRange,
                          OptionalFileEntryRef File, llvm::StringRef,
                          llvm::StringRef, const Module *, bool,
                          SrcMgr::CharacteristicKind) override {
    if (!File || HashLoc.isInvalid() || !HashLoc.isFileID())
      return;
    Inclusion I;
    I.Hash = HashLoc;
    I.Filename = FilenameRange;
    I.Angled = IsAngled;
    FileManager &FM = const_cast<SourceManager &>(SM).getFileManager();
    I.Resolved = FM.getCanonicalName(*File).str();
    bool Invalid = false;
    I.Written = FilenameRange.isValid() &&
                FilenameRange.getBegin().isFileID() &&
                FilenameRange.getEnd().isFileID();
    if (I.Written) {
      const char *C = SM.getCharacterData(FilenameRange.getBegin(), &Invalid);
      I.Written = !Invalid && (*C == '"' || *C == '<');
    }
    Out.push_back(std::move(I));
  }

private:
  const SourceManager &SM;
  std::vector<Inclusion> &Out;
  std::vector<std::pair<SourceLocation, std::string>> &Config;
};

/// Hands the parsed unit to its UnitPass, while Clang's parser still owns
/// the AST.
class Consumer : public ASTConsumer {
public:
  explicit Consumer(std::function<void(ASTContext &)> OnParsed)
      : OnParsed(std::move(OnParsed)) {}
  void HandleTranslationUnit(ASTContext &Ctx) override { OnParsed(Ctx); }

private:
  std::function<void(ASTContext &)> OnParsed;
};

/// Parses a unit, recording its inclusion directives and configuration
/// macros on the way.
class Action : public ASTFrontendAction {
public:
  Action(std::vector<Inclusion> &Includes,
         std::vector<std::pair<SourceLocation, std::string>> &Config,
         std::function<void(ASTContext &)> OnParsed)
      : Includes(Includes), Config(Config), OnParsed(std::move(OnParsed)) {}

  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &CI,
                                                 llvm::StringRef) override {
    CI.getPreprocessor().addPPCallbacks(std::make_unique<PreprocessorRecorder>(
        CI.getSourceManager(), Includes, Config));
    return std::make_unique<Consumer>(OnParsed);
  }

private:
  std::vector<Inclusion> &Includes;
  std::vector<std::pair<SourceLocation, std::string>> &Config;
  std::function<void(ASTContext &)> OnParsed;
};

} // namespace

class UnitPass::Impl : public tooling::ToolAction {
public:
  Impl(tooling::CompileCommand Command, tooling::ArgumentsAdjuster Adjust)
      : Command(std::move(Command)), Adjust(std::move(Adjust)), OS(Output) {
    // The buffer goes to stderr: Clang's options (-fcolor-diagnostics, or
    // stderr being a terminal) decide whether diagnostics are in colour.
    OS.enable_colors(true);
  }

  ~Impl() override { release(); }

  void scan() {
    // Clang's guard against deep recursion measures from here.
    noteBottomOfStack();
    std::vector<std::string> Args = Command.CommandLine;
    if (Adjust)
      Args = Adjust(Args, Command.Filename);
    ScanArgs = Args;
    // Each unit has its own file manager: units may be parsed on several
    // threads, and no stat cache or file entry is shared between them.
    Files = llvm::makeIntrusiveRefCnt<FileManager>(
        FileSystemOptions(), llvm::vfs::getRealFileSystem());
    // What the driver reports about the command line (an unknown option),
    // formatted as ToolInvocation would, into the unit's buffer.
    std::vector<const char *> Argv;
    for (const std::string &A : Args)
      Argv.push_back(A.c_str());
    DriverDiagOpts = CreateAndPopulateDiagOpts(Argv).release();
    DriverPrinter =
        std::make_unique<TextDiagnosticPrinter>(OS, DriverDiagOpts.get());
    tooling::ToolInvocation Invocation(
        std::move(Args), this, Files.get(),
        std::make_shared<PCHContainerOperations>());
    Invocation.setDiagnosticOptions(DriverDiagOpts.get());
    Invocation.setDiagnosticConsumer(DriverPrinter.get());
    if (!Invocation.run() && !CI) {
      // The driver gave up before there was a compiler instance.
      Failed = true;
      Finished = true;
      release();
      return;
    }
    if (!NeedsEmission)
      end();
  }

  void emit(const LoweringPlan &Plan) {
    assert(NeedsEmission && !Finished && "emit() on a unit scan() finished");
    noteBottomOfStack();
    std::vector<std::pair<SourceLocation, std::string>> Insertions;
    std::string Machines =
        lowerUnit(*Ctx, *Report, *Types, Plan, Unit, Model, Insertions);
    if (!CI->getDiagnostics().hasErrorOccurred()) {
      Unit.Rewritten = rewriteUnit(*Ctx, Model, Plan, *Report, Insertions,
                                   Includes, Unit.Headers);
      Unit.Glue = glueOf(*Ctx, *Types, Unit, Model);
      if (!Machines.empty())
        Unit.Glue +=
            "// ===== Steps: functions cut at their boundaries. =====\n" +
            Machines;
      // The program's macros stay out of the code that follows its own.
      std::vector<std::string> Inserted;
      for (const auto &[At, Text] : Insertions)
        Inserted.push_back(Text);
      std::vector<SourceRange> Copied;
      for (const auto &[Index, FD] : Model.Definitions)
        if (Plan.isMachine(Unit.Functions[Index].USR) && FD->getBody())
          Copied.push_back(FD->getSourceRange());
      Unit.Rewritten += macroGuards(CI->getPreprocessor(), *Report, Unit.Glue,
                                    Inserted, Copied);
    }
    end();
  }

  /// Creates the unit's compiler instance for the invocation the driver
  /// built, and parses; what CompilerInstance::ExecuteAction does up to the
  /// end of the source file, which waits until the unit is emitted.
  bool runInvocation(std::shared_ptr<CompilerInvocation> Invocation,
                     FileManager *FM,
                     std::shared_ptr<PCHContainerOperations> PCHContainerOps,
                     DiagnosticConsumer *) override {
    CI = std::make_unique<CompilerInstance>(std::move(PCHContainerOps));
    CI->setInvocation(std::move(Invocation));
    CI->setFileManager(FM);
    CI->setVerboseOutputStream(OS);
    CI->createDiagnostics(
        new TextDiagnosticPrinter(OS, &CI->getDiagnosticOpts()),
        /*ShouldOwnClient=*/true);
    if (!CI->hasDiagnostics())
      return false;
    CI->createSourceManager(*FM);
    Verify = CI->getDiagnosticOpts().VerifyDiagnostics;

    Act = std::make_unique<Action>(Includes, Config,
                                   [this](ASTContext &C) { scanAST(C); });
    const FrontendOptions &FEOpts = CI->getFrontendOpts();
    assert(FEOpts.Inputs.size() == 1 && "a tool invocation has one input");
    if (!Act->PrepareToExecute(*CI) || !CI->createTarget())
      return true;
    if (CI->getHeaderSearchOpts().Verbose)
      OS << "clang -cc1 version " CLANG_VERSION_STRING << " based upon LLVM "
         << LLVM_VERSION_STRING << " default target "
         << llvm::sys::getDefaultTargetTriple() << "\n";
    if (!Act->BeginSourceFile(*CI, FEOpts.Inputs.front()))
      return true;
    Begun = true;
    if (llvm::Error Err = Act->Execute())
      llvm::consumeError(std::move(Err)); // as ExecuteAction does
    return true;
  }

  tooling::CompileCommand Command;
  tooling::ArgumentsAdjuster Adjust;
  /// The unit's command line, adjusted, as it was parsed.
  std::vector<std::string> ScanArgs;
  std::string Output;
  llvm::raw_string_ostream OS;

  bool Verify = false;
  bool NeedsEmission = false;
  bool Finished = false;
  bool Failed = false;
  bool HasModel = false;
  TranslationUnit Unit;

private:
  /// The scan, as the parser hands over the AST: the unit's program model,
  /// or its errors.
  void scanAST(ASTContext &C) {
    Ctx = &C;
    DiagnosticsEngine &Diags = CI->getDiagnostics();
    const SourceManager &SM = C.getSourceManager();
    Report = std::make_unique<Reporter>(Diags);
    Types = std::make_unique<SerializableChecker>(C);
    bool Broken = Diags.hasErrorOccurred() && !Verify;
    Unit.Source = mainFilePath(SM);
    Unit.Inputs = inputFiles(SM);
    if (!C.getLangOpts().CPlusPlus17) {
      if (!Broken)
        Report->error(SM.getLocForStartOfFile(SM.getMainFileID()),
                      "cleave needs C++17 or later; this translation unit "
                      "is compiled as an older C++ or as C");
      return;
    }
    if (Broken) {
      // The unit has failed, but the other units' lowering still depends
      // on what it declares: its model, with nothing more reported.
      Diags.setSuppressAllDiagnostics(true);
      buildUnitModel(C, *Report, *Types, Unit, Model);
      Diags.setSuppressAllDiagnostics(false);
      HasModel = true;
      return;
    }
    // cleave/handler.h comes first in the rewritten unit: a library it
    // includes would not see the program's configuration of it.
    for (const auto &[At, Name] : Config)
      Report->error(At, "'" + Name + "' configures " +
                            configuredLibrary(Name) +
                            ", which the handler library includes before "
                            "this code, so it would not apply there; define "
                            "it on the command line instead (-D" +
                            Name + "), where it applies to both");
    checkReservedNames(C, *Report);
    checkReservedMacros(CI->getPreprocessor(), *Report);
    buildUnitModel(C, *Report, *Types, Unit, Model);
    HasModel = true;
    // The handler library compiles the program after the runtime's
    // headers: what they declare must not change it.
    if (!Diags.hasErrorOccurred())
      checkRuntimeNames(C, CI->getPreprocessor(), *Report,
                        *runtimeNamesFor(ScanArgs, Command.Filename));
    NeedsEmission = !Diags.hasErrorOccurred();
  }

  /// Ends the unit as CompilerInstance::ExecuteAction does: the verifier
  /// checks the diagnostics, "N errors generated.", and the AST is freed.
  void end() {
    // The checker's entry in the registry of contexts goes before the
    // context does: another unit's context may take its address.
    Types.reset();
    Report.reset();
    Ctx = nullptr;
    if (Begun)
      Act->EndSourceFile();
    CI->printDiagnosticStats();
    Failed = CI->getDiagnostics().getClient()->getNumErrors() != 0;
    CI->getDiagnosticClient().finish();
    Finished = true;
    release();
  }

  /// Frees the unit's AST and compiler instance: the action first, as it
  /// may refer to the instance.
  void release() {
    Types.reset();
    Report.reset();
    Model = UnitModel();
    Act.reset();
    CI.reset();
    Files.reset();
    DriverPrinter.reset();
  }

  IntrusiveRefCntPtr<FileManager> Files;
  IntrusiveRefCntPtr<DiagnosticOptions> DriverDiagOpts;
  std::unique_ptr<TextDiagnosticPrinter> DriverPrinter;
  std::unique_ptr<CompilerInstance> CI;
  std::unique_ptr<Action> Act;
  bool Begun = false;

  std::vector<Inclusion> Includes;
  std::vector<std::pair<SourceLocation, std::string>> Config;
  ASTContext *Ctx = nullptr;
  std::unique_ptr<Reporter> Report;
  std::unique_ptr<SerializableChecker> Types;
  UnitModel Model;
};

UnitPass::UnitPass(tooling::CompileCommand Command,
                   tooling::ArgumentsAdjuster Adjust)
    : P(std::make_unique<Impl>(std::move(Command), std::move(Adjust))) {}

UnitPass::~UnitPass() = default;

void UnitPass::scan() { P->scan(); }

const TranslationUnit *UnitPass::scanned() const {
  return P->HasModel ? &P->Unit : nullptr;
}

void UnitPass::emit(const LoweringPlan &Plan) { P->emit(Plan); }

bool UnitPass::needsEmission() const {
  return P->NeedsEmission && !P->Finished;
}

bool UnitPass::finished() const { return P->Finished; }

std::string UnitPass::takeOutput() {
  std::string Out = std::move(P->Output);
  P->Output.clear();
  return Out;
}

bool UnitPass::failed() const { return P->Failed; }

bool UnitPass::verified() const { return P->Verify; }

TranslationUnit UnitPass::takeUnit() {
  assert(P->Finished && !P->Failed && !P->Verify &&
         "only a finished unit without errors has a result");
  return std::move(P->Unit);
}

} // namespace cleave
