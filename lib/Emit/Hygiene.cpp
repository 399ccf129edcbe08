//===- Hygiene.cpp - Generated code that the program cannot change -------===//

#include "cleave/Emit/Hygiene.h"

#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Lex/Lexer.h"
#include "clang/Lex/MacroInfo.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <vector>

using namespace clang;

namespace cleave {

namespace {

/// Whether \p L is in cleave/cleave.h, which the program includes.
bool isCleaveHeader(const SourceManager &SM, SourceLocation L) {
  auto File = SM.getFileEntryRefForID(SM.getFileID(SM.getExpansionLoc(L)));
  if (!File)
    return false;
  llvm::StringRef Path = File->getName();
  return llvm::sys::path::filename(Path) == "cleave.h" &&
         llvm::sys::path::filename(llvm::sys::path::parent_path(Path)) ==
             "cleave";
}


/// How often each identifier occurs in \p Code, generated C++ (string and
/// character literals, comments and directives' file names skipped).
llvm::StringMap<unsigned> wordsOf(llvm::StringRef Code) {
  llvm::StringMap<unsigned> Out;
  size_t I = 0, N = Code.size();
  auto Skip = [&](char Close) {
    for (++I; I < N && Code[I] != Close; ++I)
      if (Code[I] == '\\')
        ++I;
    ++I;
  };
  while (I < N) {
    char C = Code[I];
    if (C == '"' || C == '\'') {
      // A raw string: R"delim( ... )delim".
      if (C == '"' && I > 0 && Code[I - 1] == 'R') {
        size_t Open = Code.find('(', I);
        if (Open == llvm::StringRef::npos)
          break;
        std::string End =
            ")" + Code.slice(I + 1, Open).str() + "\"";
        size_t Close = Code.find(End, Open);
        I = Close == llvm::StringRef::npos ? N : Close + End.size();
        continue;
      }
      Skip(C);
    } else if (Code.substr(I).starts_with("//")) {
      I = std::min(Code.find('\n', I), N);
    } else if (Code.substr(I).starts_with("/*")) {
      size_t Close = Code.find("*/", I + 2);
      I = Close == llvm::StringRef::npos ? N : Close + 2;
    } else if (llvm::isAlpha(C) || C == '_') {
      size_t B = I;
      while (I < N && (llvm::isAlnum(Code[I]) || Code[I] == '_'))
        ++I;
      ++Out[Code.slice(B, I)];
    } else if (llvm::isDigit(C)) {
      while (I < N && (llvm::isAlnum(Code[I]) || Code[I] == '_' ||
                       Code[I] == '.' || Code[I] == '\''))
        ++I;
    } else {
      ++I;
    }
  }
  return Out;
}

/// The macros the program's own files define that are still defined at the
/// end of the unit, with where.
std::vector<std::pair<const IdentifierInfo *, const MacroInfo *>>
programMacros(const Preprocessor &PP) {
  const SourceManager &SM = PP.getSourceManager();
  std::vector<std::pair<const IdentifierInfo *, const MacroInfo *>> Out;
  for (const auto &[II, State] : PP.macros()) {
    const MacroInfo *MI = PP.getMacroInfo(II);
    if (!MI || MI->isBuiltinMacro())
      continue;
    SourceLocation L = MI->getDefinitionLoc();
    if (L.isInvalid() || !L.isFileID() || SM.isInSystemHeader(L) ||
        !SM.getFileEntryRefForID(SM.getFileID(L)) || isCleaveHeader(SM, L))
      continue; // the command line, a builtin, a library's own, cleave's
    Out.push_back({II, MI});
  }
  // In the order of the source, for stable diagnostics.
  std::sort(Out.begin(), Out.end(), [&](const auto &A, const auto &B) {
    return SM.isBeforeInTranslationUnit(A.second->getDefinitionLoc(),
                                        B.second->getDefinitionLoc());
  });
  return Out;
}

/// Finds the program's declarations with a name of cleave's.
class ReservedNames : public RecursiveASTVisitor<ReservedNames> {
public:
  ReservedNames(const SourceManager &SM, Reporter &Report)
      : SM(SM), Report(Report) {}

  bool shouldVisitTemplateInstantiations() const { return false; }
  bool shouldVisitImplicitCode() const { return false; }

  bool TraverseDecl(Decl *D) {
    if (D && !isa<TranslationUnitDecl>(D) &&
        (D->getLocation().isInvalid() ||
         SM.isInSystemHeader(SM.getExpansionLoc(D->getLocation())) ||
         isCleaveHeader(SM, D->getLocation())))
      return true; // a library's own, cleave's, or the compiler's
    return RecursiveASTVisitor::TraverseDecl(D);
  }

  bool VisitNamedDecl(NamedDecl *D) {
    const IdentifierInfo *II = D->getIdentifier();
    if (!II || D->isImplicit())
      return true;
    if (const auto *NS = dyn_cast<NamespaceDecl>(D);
        NS && II->getName() == "cleave" &&
        NS->getParent()->getRedeclContext()->isTranslationUnit())
      Report.error(D->getLocation(),
                   "namespace 'cleave' is cleave's own; the program may not "
                   "declare anything in it");
    else
      checkName(II, D->getLocation());
    return true;
  }
  /// A label is no declaration the traversal visits.
  bool VisitLabelStmt(LabelStmt *S) {
    checkName(S->getDecl()->getIdentifier(), S->getIdentLoc());
    return true;
  }

  void checkName(const IdentifierInfo *II, SourceLocation At) {
    if (II && II->getName().starts_with("cleave_"))
      Report.error(At, "'" + II->getName().str() +
                           "': names that begin with 'cleave_' are reserved "
                           "for the code cleave generates");
  }

private:
  const SourceManager &SM;
  Reporter &Report;
};

} // namespace

void checkReservedNames(ASTContext &Ctx, Reporter &Report) {
  ReservedNames(Ctx.getSourceManager(), Report)
      .TraverseDecl(Ctx.getTranslationUnitDecl());
}

bool isReservedName(llvm::StringRef Name) {
  return Name == "cleave" || Name.starts_with("cleave_");
}

void checkReservedMacros(const Preprocessor &PP, Reporter &Report) {
  for (const auto &[II, MI] : programMacros(PP))
    if (isReservedName(II->getName()))
      Report.error(MI->getDefinitionLoc(),
                   "macro '" + II->getName().str() +
                       "': names that begin with 'cleave_', and 'cleave', "
                       "are reserved for the code cleave generates");
}

std::string macroGuards(const Preprocessor &PP, Reporter &Report,
                        llvm::StringRef Glue,
                        llvm::ArrayRef<std::string> Inserted,
                        llvm::ArrayRef<SourceRange> Copied) {
  const SourceManager &SM = PP.getSourceManager();
  llvm::StringMap<unsigned> InGlue = wordsOf(Glue);
  llvm::StringMap<unsigned> InCopied;
  for (SourceRange R : Copied) {
    CharSourceRange Range = CharSourceRange::getTokenRange(
        SM.getFileLoc(R.getBegin()), SM.getFileLoc(R.getEnd()));
    bool Invalid = false;
    llvm::StringRef Text =
        Lexer::getSourceText(Range, SM, PP.getLangOpts(), &Invalid);
    if (Invalid)
      continue;
    for (const auto &E : wordsOf(Text))
      InCopied[E.getKey()] += E.getValue();
  }
  std::string Out;
  for (const auto &[II, MI] : programMacros(PP)) {
    llvm::StringRef Name = II->getName();
    if (isReservedName(Name))
      continue; // reported by checkReservedMacros
    for (const std::string &Text : Inserted)
      if (wordsOf(Text).count(Name)) {
        Report.error(MI->getDefinitionLoc(),
                     "macro '" + Name.str() +
                         "' would change the declarations cleave adds to "
                         "the program's classes, which name '" + Name.str() +
                         "' themselves; rename the macro");
        break;
      }
    unsigned G = InGlue.lookup(Name), C = InCopied.lookup(Name);
    if (G <= C)
      continue; // only the program's own text names it
    if (C > 0) {
      Report.error(MI->getDefinitionLoc(),
                   "macro '" + Name.str() +
                       "' is used in a function that cleave cuts into "
                       "steps, and the code cleave generates around it "
                       "names '" + Name.str() +
                       "' too, which the macro would change; rename the "
                       "macro");
      continue;
    }
    Out += "#pragma push_macro(\"" + Name.str() + "\")\n#undef " +
           Name.str() + "\n";
  }
  return Out;
}

} // namespace cleave
