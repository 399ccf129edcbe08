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

/// Records the unit's inclusion directives, for the copies of the headers
/// that its rewritten copy edits.
class IncludeRecorder : public PPCallbacks {
public:
  IncludeRecorder(const SourceManager &SM, std::vector<Inclusion> &Out)
      : SM(SM), Out(Out) {}

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
};

class Consumer : public ASTConsumer {
public:
  Consumer(CompilerInstance &CI, FrontendResult &Result,
           const std::vector<Inclusion> &Includes)
      : CI(CI), Result(Result), Includes(Includes) {}

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
};

class Action : public ASTFrontendAction {
public:
  explicit Action(FrontendResult &Result) : Result(Result) {}
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &CI,
                                                 llvm::StringRef) override {
    Includes.clear();
    CI.getPreprocessor().addPPCallbacks(
        std::make_unique<IncludeRecorder>(CI.getSourceManager(), Includes));
    return std::make_unique<Consumer>(CI, Result, Includes);
  }

private:
  FrontendResult &Result;
  std::vector<Inclusion> Includes;
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
