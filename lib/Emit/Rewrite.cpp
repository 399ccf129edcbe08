//===- Rewrite.cpp - The rewritten copy of a translation unit ------------===//

#include "cleave/Emit/Rewrite.h"

#include "cleave/Emit/Glue.h"

#include "clang/Lex/Lexer.h"

#include <algorithm>

using namespace clang;

namespace cleave {

void rewritePerKeyUses(Rewriter &R, ASTContext &Ctx, const UnitModel &Model,
                       const LoweringPlan &Plan, Reporter *Report) {
  SourceManager &SM = Ctx.getSourceManager();
  FileID Main = SM.getMainFileID();
  for (const auto &[E, SV] : Model.StateUses) {
    std::string Name = qualifiedName(SV);
    if (!Plan.PerKey.count(Name))
      continue;
    CharSourceRange Range = Lexer::makeFileCharRange(
        CharSourceRange::getTokenRange(E->getSourceRange()), SM,
        Ctx.getLangOpts());
    if (Range.isInvalid()) {
      if (Report)
        Report->error(E->getExprLoc(),
                      "cannot rewrite this use of state variable '" + Name +
                          "': it is spelled inside a macro");
      continue;
    }
    if (SM.getFileID(Range.getBegin()) != Main) {
      if (Report)
        Report->error(E->getExprLoc(),
                      "state variable '" + Name +
                          "' is used in an included file; cleave rewrites "
                          "only the source files it is given, so move this "
                          "use into one of them");
      continue;
    }
    R.ReplaceText(Range, "::cleave::rt::stateKeys(::" + Name + ", \"" + Name +
                             "\")");
  }
}

std::string rewriteUnit(
    ASTContext &Ctx, const UnitModel &Model, const LoweringPlan &Plan,
    Reporter &Report,
    const std::vector<std::pair<SourceLocation, std::string>> &Insertions) {
  SourceManager &SM = Ctx.getSourceManager();
  Rewriter R(SM, Ctx.getLangOpts());
  FileID Main = SM.getMainFileID();
  rewritePerKeyUses(R, Ctx, Model, Plan, &Report);
  for (const auto &[At, Text] : Insertions)
    R.InsertTextBefore(At, Text);
  for (SourceLocation L : Model.ThreadLocalAt)
    R.InsertTextBefore(L, "thread_local ");
  // The monolith's main is not part of the deployment. Blank it line for
  // line so that everything after it keeps its line numbers.
  for (const Decl *D : Ctx.getTranslationUnitDecl()->decls()) {
    const auto *FD = dyn_cast<FunctionDecl>(D);
    if (!FD || !FD->isMain() || !FD->doesThisDeclarationHaveABody() ||
        !SM.isInMainFile(SM.getExpansionLoc(FD->getLocation())))
      continue;
    CharSourceRange Range = Lexer::makeFileCharRange(
        CharSourceRange::getTokenRange(FD->getSourceRange()), SM,
        Ctx.getLangOpts());
    if (Range.isInvalid())
      continue;
    std::string Old = R.getRewrittenText(Range);
    std::string Blank(std::count(Old.begin(), Old.end(), '\n'), '\n');
    R.ReplaceText(Range, "/* main() is left out of the deployment */" + Blank);
  }

  std::string Text;
  if (const RewriteBuffer *B = R.getRewriteBufferFor(Main))
    Text.assign(B->begin(), B->end());
  else
    Text = SM.getBufferData(Main).str();
  if (!Text.empty() && Text.back() != '\n')
    Text += '\n';
  std::string File = sourcePos(SM, SM.getLocForStartOfFile(Main)).File;
  return "#include <cleave/handler.h>\n#line 1 " + cppStringLiteral(File) +
         "\n" + Text;
}

} // namespace cleave
