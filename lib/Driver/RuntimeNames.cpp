//===- RuntimeNames.cpp - What the handler library's headers declare ------===//

#include "cleave/Driver/RuntimeNames.h"

#include "cleave/Frontend/Diagnostics.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/DeclCXX.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendAction.h"
#include "clang/Frontend/TextDiagnosticPrinter.h"
#include "clang/Lex/Lexer.h"
#include "clang/Lex/Preprocessor.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/VirtualFileSystem.h"

#include <future>
#include <map>
#include <mutex>

using namespace clang;

namespace cleave {

namespace {

/// Calls \p Visit on every declaration that unqualified lookup at global
/// scope finds in \p DC: its own, and those of `extern "C"` blocks, unnamed
/// and inline namespaces and unscoped enumerations within it.
void forEachGlobal(const DeclContext *DC,
                   llvm::function_ref<void(const NamedDecl *)> Visit,
                   unsigned Depth = 0) {
  if (Depth > 64)
    return;
  for (const Decl *D : DC->decls()) {
    if (const auto *LS = dyn_cast<LinkageSpecDecl>(D)) {
      forEachGlobal(LS, Visit, Depth + 1);
      continue;
    }
    if (const auto *ND = dyn_cast<NamespaceDecl>(D);
        ND && (ND->isAnonymousNamespace() || ND->isInline()))
      forEachGlobal(ND, Visit, Depth + 1);
    if (const auto *ED = dyn_cast<EnumDecl>(D); ED && !ED->isScoped())
      for (const EnumConstantDecl *C : ED->enumerators())
        Visit(C);
    if (const auto *ND = dyn_cast<NamedDecl>(D);
        ND && ND->getIdentifier() && !ND->getName().empty())
      Visit(ND);
  }
}

/// The numbers of arguments a call of \p D may pass, or nothing for a
/// declaration that is not a function.
std::optional<std::pair<unsigned, unsigned>> arityOf(const NamedDecl *D) {
  if (const auto *Shadow = dyn_cast<UsingShadowDecl>(D))
    D = Shadow->getTargetDecl();
  if (const auto *FT = dyn_cast<FunctionTemplateDecl>(D))
    D = FT->getTemplatedDecl();
  const auto *FD = dyn_cast<FunctionDecl>(D);
  if (!FD)
    return std::nullopt;
  unsigned Max = FD->isVariadic() ? ~0u : FD->getNumParams();
  return std::make_pair(FD->getMinRequiredArguments(), Max);
}

/// Parses the handler library's headers, skipping function bodies, and
/// records the global names and macros they bring.
class NamesAction : public ASTFrontendAction {
public:
  explicit NamesAction(RuntimeNames &Out) : Out(Out) {}

  bool BeginInvocation(CompilerInstance &CI) override {
    CI.getFrontendOpts().SkipFunctionBodies = true;
    return true;
  }

  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &CI,
                                                 llvm::StringRef) override {
    struct Consumer : ASTConsumer {
      Consumer(RuntimeNames &Out, Preprocessor &PP) : Out(Out), PP(PP) {}
      void HandleTranslationUnit(ASTContext &Ctx) override {
        const SourceManager &SM = Ctx.getSourceManager();
        auto HeaderOf = [&SM](SourceLocation L) -> std::string {
          L = SM.getExpansionLoc(L);
          if (L.isInvalid() || SM.isInMainFile(L))
            return "";
          if (auto F = SM.getFileEntryRefForID(SM.getFileID(L)))
            return F->getName().str();
          return "";
        };
        forEachGlobal(Ctx.getTranslationUnitDecl(), [&](const NamedDecl *D) {
          std::string H = HeaderOf(D->getLocation());
          if (H.empty() || isa<UsingDecl>(D))
            return; // a using-declaration: its shadows count
          RuntimeNames::Global &G = Out.Globals[D->getName()];
          if (G.Header.empty())
            G.Header = H;
          if (auto A = arityOf(D))
            G.Arities.push_back(*A);
          else
            G.Functions = false;
          G.Namespace |= isa<NamespaceDecl>(D);
        });
        for (const auto &M : PP.macros()) {
          const MacroInfo *MI = PP.getMacroInfo(M.first);
          if (!MI)
            continue;
          std::string H = HeaderOf(MI->getDefinitionLoc());
          if (!H.empty())
            Out.Macros.try_emplace(M.first->getName(), H);
        }
      }
      RuntimeNames &Out;
      Preprocessor &PP;
    };
    return std::make_unique<Consumer>(Out, CI.getPreprocessor());
  }

private:
  RuntimeNames &Out;
};

std::shared_ptr<const RuntimeNames>
parseRuntimeNames(std::vector<std::string> CommandLine,
                  const std::string &Directory) {
  auto Names = std::make_shared<RuntimeNames>();
  llvm::SmallString<256> Path(Directory);
  llvm::sys::path::append(Path, "cleave-runtime-names.cpp");
  CommandLine.push_back(std::string(Path));

  auto Memory = llvm::makeIntrusiveRefCnt<llvm::vfs::InMemoryFileSystem>();
  Memory->addFile(
      Path, 0,
      llvm::MemoryBuffer::getMemBufferCopy("#define CLEAVE_HANDLER_LIBRARY 1\n"
                                           "#include <cleave/handler.h>\n"));
  auto Overlay = llvm::makeIntrusiveRefCnt<llvm::vfs::OverlayFileSystem>(
      llvm::vfs::getRealFileSystem());
  Overlay->pushOverlay(Memory);
  auto Files =
      llvm::makeIntrusiveRefCnt<FileManager>(FileSystemOptions(), Overlay);

  std::string Printed;
  llvm::raw_string_ostream OS(Printed);
  auto Opts = llvm::makeIntrusiveRefCnt<DiagnosticOptions>();
  Opts->ShowColors = false;
  TextDiagnosticPrinter Printer(OS, Opts.get());
  tooling::ToolInvocation Invocation(
      std::move(CommandLine), std::make_unique<NamesAction>(*Names),
      Files.get(), std::make_shared<PCHContainerOperations>());
  Invocation.setDiagnosticConsumer(&Printer);
  Invocation.setDiagnosticOptions(Opts.get());
  bool Ok = Invocation.run();
  if (!Ok || Printer.getNumErrors()) {
    llvm::StringRef First = llvm::StringRef(Printed).split('\n').first;
    Names->Failure = First.empty() ? "the compiler gave up" : First.str();
  }
  return Names;
}

} // namespace

std::shared_ptr<const RuntimeNames>
runtimeNamesFor(const std::vector<std::string> &Args, llvm::StringRef Source) {
  llvm::SmallString<256> Directory;
  if (llvm::sys::fs::current_path(Directory))
    Directory = "/";
  llvm::SmallString<256> AbsSource(Source);
  llvm::sys::fs::make_absolute(Directory, AbsSource);

  // The command line without the source, the headers it forces in (they
  // are the program's), nor Clang's verifier (the unit's expected
  // diagnostics are not the headers').
  std::vector<std::string> CommandLine;
  for (size_t I = 0; I < Args.size(); ++I) {
    llvm::StringRef A = Args[I];
    if (A == "-include" || A == "--include" || A == "-imacros" ||
        A == "-include-pch") {
      ++I;
      continue;
    }
    if (A.starts_with("-include") || A.starts_with("--include=") ||
        A.starts_with("-imacros"))
      continue;
    if (A == "-Xclang" && I + 1 < Args.size() &&
        llvm::StringRef(Args[I + 1]).starts_with("-verify")) {
      ++I;
      continue;
    }
    if (I > 0 && !A.starts_with("-")) {
      llvm::SmallString<256> Abs(A);
      llvm::sys::fs::make_absolute(Directory, Abs);
      if (A == Source || Abs == AbsSource)
        continue;
    }
    CommandLine.push_back(A.str());
  }

  std::string Key(Directory);
  for (const std::string &A : CommandLine)
    Key += '\0' + A;

  static std::mutex Lock;
  static std::map<std::string,
                  std::shared_future<std::shared_ptr<const RuntimeNames>>>
      Cache;
  std::promise<std::shared_ptr<const RuntimeNames>> Promise;
  std::shared_future<std::shared_ptr<const RuntimeNames>> Future;
  bool Mine = false;
  {
    std::lock_guard<std::mutex> Guard(Lock);
    auto [It, New] = Cache.try_emplace(Key);
    if (New) {
      It->second = Promise.get_future().share();
      Mine = true;
    }
    Future = It->second;
  }
  if (Mine)
    Promise.set_value(
        parseRuntimeNames(std::move(CommandLine), std::string(Directory)));
  return Future.get();
}

void checkRuntimeNames(ASTContext &Ctx, Preprocessor &PP, Reporter &Report,
                       const RuntimeNames &Names) {
  const SourceManager &SM = Ctx.getSourceManager();
  if (!Names.Failure.empty()) {
    Report.error(SM.getLocForStartOfFile(SM.getMainFileID()),
                 "the handler library compiles this unit after "
                 "cleave/handler.h, which does not compile with this unit's "
                 "flags: " +
                     Names.Failure);
    return;
  }
  auto InProgram = [&SM](SourceLocation L) {
    L = SM.getExpansionLoc(L);
    return L.isValid() && !SM.isInSystemHeader(L) &&
           SM.getFileEntryRefForID(SM.getFileID(L));
  };

  // Global names.
  llvm::StringSet<> Reported;
  const TranslationUnitDecl *TU = Ctx.getTranslationUnitDecl();
  forEachGlobal(TU, [&](const NamedDecl *D) {
    auto It = Names.Globals.find(D->getName());
    if (It == Names.Globals.end() || !InProgram(D->getLocation()))
      return;
    // A C library function the program declares itself.
    if (const auto *FD = dyn_cast<FunctionDecl>(D); FD && FD->isExternC())
      return;
    // Functions that no call could choose between (`std::string log()`
    // beside `double log(double)`) overload each other harmlessly.
    if (auto Mine = arityOf(D); Mine && It->second.Functions &&
                                llvm::none_of(It->second.Arities, [&](auto A) {
                                  return A.first <= Mine->second &&
                                         Mine->first <= A.second;
                                }))
      return;
    // A namespace the headers open too: the two are one.
    if (isa<NamespaceDecl>(D) && It->second.Namespace)
      return;
    // The program sees the headers' declaration already: nothing changes.
    for (const NamedDecl *Found : TU->lookup(D->getDeclName()))
      if (!InProgram(Found->getCanonicalDecl()->getLocation()))
        return;
    if (!Reported.insert(D->getName()).second)
      return;
    Report.error(D->getLocation(),
                 "'" + D->getName().str() +
                     "' is also declared at global scope by " +
                     It->second.Header +
                     ", which the handler library includes before this code "
                     "(cleave/handler.h); there the two would clash, or a "
                     "call could reach the other one; rename it, or put it "
                     "in a namespace");
  });

  // Identifiers that a header defines as a macro, which this unit does not
  // know as one.
  llvm::StringMap<std::string> Candidates;
  for (const auto &M : Names.Macros) {
    auto It = PP.getIdentifierTable().find(M.getKey());
    if (It == PP.getIdentifierTable().end())
      continue;
    const IdentifierInfo *II = It->getValue();
    if (II->hasMacroDefinition() || II->hadMacroDefinition())
      continue;
    Candidates.try_emplace(M.getKey(), M.getValue());
  }
  if (Candidates.empty())
    return;
  // The program's files, in the order the unit first entered them.
  std::vector<FileID> Files;
  for (auto It = SM.fileinfo_begin(); It != SM.fileinfo_end(); ++It) {
    FileID FID = SM.translateFile(It->first);
    if (FID.isValid() && SM.getFileCharacteristic(
                             SM.getLocForStartOfFile(FID)) == SrcMgr::C_User)
      Files.push_back(FID);
  }
  llvm::sort(Files);
  for (FileID FID : Files) {
    std::optional<llvm::MemoryBufferRef> Buffer = SM.getBufferOrNone(FID);
    if (!Buffer)
      continue;
    Lexer Raw(SM.getLocForStartOfFile(FID), Ctx.getLangOpts(),
              Buffer->getBufferStart(), Buffer->getBufferStart(),
              Buffer->getBufferEnd());
    Token T;
    bool End = false;
    while (!End) {
      End = Raw.LexFromRawLexer(T) || T.is(tok::eof);
      if (!T.is(tok::raw_identifier))
        continue;
      auto It = Candidates.find(T.getRawIdentifier());
      if (It == Candidates.end() || !Reported.insert(It->getKey()).second)
        continue;
      Report.error(T.getLocation(),
                   "'" + It->getKey().str() + "' is a macro of " +
                       It->getValue() +
                       ", which the handler library includes before this "
                       "code (cleave/handler.h), so there it would expand; "
                       "rename it, or include that header here as well");
    }
  }
}

} // namespace cleave
