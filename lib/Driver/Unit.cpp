//===- Unit.cpp - The passes over one translation unit -------------------===//

#include "cleave/Driver/Unit.h"

#include "cleave/Analysis/Lowering.h"
#include "cleave/Analysis/Placement.h"
#include "cleave/Analysis/Serializable.h"
#include "cleave/Emit/Glue.h"
#include "cleave/Emit/Rewrite.h"
#include "cleave/Emit/StateMachine.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendAction.h"
#include "clang/Lex/PPCallbacks.h"
#include "clang/Lex/Preprocessor.h"

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

class Consumer : public ASTConsumer {
public:
  Consumer(CompilerInstance &CI, FrontendResult &Result,
           const std::vector<Inclusion> &Includes,
           const std::vector<std::pair<SourceLocation, std::string>> &Config)
      : CI(CI), Result(Result), Includes(Includes), Config(Config) {}

  void HandleTranslationUnit(ASTContext &Ctx) override {
    DiagnosticsEngine &Diags = CI.getDiagnostics();
    bool Verify = CI.getDiagnosticOpts().VerifyDiagnostics;
    if (Verify)
      ++Result.VerifiedUnits;
    if (Diags.hasErrorOccurred() && !Verify && !Result.ScanOnly) {
      ++Result.FailedUnits;
      return;
    }
    TranslationUnit Unit;
    const SourceManager &SM = Ctx.getSourceManager();
    Unit.Source = mainFilePath(SM);
    Reporter Report(Diags);
    if (!Ctx.getLangOpts().CPlusPlus17) {
      Report.error(SM.getLocForStartOfFile(SM.getMainFileID()),
                   "cleave needs C++17 or later; this translation unit is "
                   "compiled as an older C++ or as C");
      ++Result.FailedUnits;
      return;
    }
    // cleave/handler.h comes first in the rewritten unit: a library it
    // includes would not see the program's configuration of it.
    for (const auto &[At, Name] : Config)
      Report.error(At, "'" + Name + "' configures " +
                           configuredLibrary(Name) +
                           ", which the handler library includes before "
                           "this code, so it would not apply there; define "
                           "it on the command line instead (-D" + Name +
                           "), where it applies to both");
    SerializableChecker Types(Ctx);
    UnitModel Model;
    buildUnitModel(Ctx, Report, Types, Unit, Model);
    if (!Diags.hasErrorOccurred() && !Result.ScanOnly)
      emit(Ctx, Report, Types, Unit, Model);
    if (Diags.hasErrorOccurred() && !Result.ScanOnly) {
      if (!Verify)
        ++Result.FailedUnits;
      return;
    }
    if (!Verify || Result.ScanOnly)
      Result.Units.push_back(std::move(Unit));
  }

private:
  /// Lowering, rewriting and glue, with the whole-program plan, or with a
  /// plan of this unit alone (enough for a program of one unit).
  void emit(ASTContext &Ctx, Reporter &Report, SerializableChecker &Types,
            TranslationUnit &Unit, const UnitModel &Model) {
    const LoweringPlan *Plan = Result.Plan;
    LoweringPlan Local;
    if (!Plan) {
      Program P;
      P.Units.push_back(Unit);
      Local = planLowering(P, placeCalls(P));
      Plan = &Local;
    }
    std::vector<std::pair<SourceLocation, std::string>> Insertions;
    std::string Machines =
        lowerUnit(Ctx, Report, Types, *Plan, Unit, Model, Insertions);
    if (CI.getDiagnostics().hasErrorOccurred())
      return;
    Unit.Rewritten = rewriteUnit(Ctx, Model, *Plan, Report, Insertions,
                                 Includes, Unit.Headers);
    Unit.Glue = glueOf(Ctx, Types, Unit, Model);
    if (!Machines.empty())
      Unit.Glue +=
          "// ===== Steps: functions cut at their boundaries. =====\n" +
          Machines;
  }

  CompilerInstance &CI;
  FrontendResult &Result;
  const std::vector<Inclusion> &Includes;
  const std::vector<std::pair<SourceLocation, std::string>> &Config;
};

class Action : public ASTFrontendAction {
public:
  explicit Action(FrontendResult &Result) : Result(Result) {}
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &CI,
                                                 llvm::StringRef) override {
    Includes.clear();
    Config.clear();
    CI.getPreprocessor().addPPCallbacks(std::make_unique<PreprocessorRecorder>(
        CI.getSourceManager(), Includes, Config));
    return std::make_unique<Consumer>(CI, Result, Includes, Config);
  }

private:
  FrontendResult &Result;
  std::vector<Inclusion> Includes;
  std::vector<std::pair<SourceLocation, std::string>> Config;
};

class Factory : public tooling::FrontendActionFactory {
public:
  explicit Factory(FrontendResult &Result) : Result(Result) {}
  std::unique_ptr<FrontendAction> create() override {
    return std::make_unique<Action>(Result);
  }

private:
  FrontendResult &Result;
};

} // namespace

std::unique_ptr<tooling::FrontendActionFactory>
newFrontendActionFactory(FrontendResult &Result) {
  return std::make_unique<Factory>(Result);
}

} // namespace cleave
