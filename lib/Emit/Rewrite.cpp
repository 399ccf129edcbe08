//===- Rewrite.cpp - The rewritten copy of a translation unit ------------===//

#include "cleave/Emit/Rewrite.h"

#include "cleave/Emit/Glue.h"

#include "clang/Lex/Lexer.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstdio>
#include <map>

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

std::string headerCopyDir(llvm::StringRef Source) {
  // FNV-1a of the path: units with the same stem get their own directories.
  std::uint32_t H = 2166136261u;
  for (unsigned char C : Source)
    H = (H ^ C) * 16777619u;
  char Hex[9];
  std::snprintf(Hex, sizeof Hex, "%08x", H);
  return "cleave_include/" + llvm::sys::path::stem(Source).str() + "_" + Hex;
}

namespace {

/// The real path of the file of \p FID, or "" for a buffer without a file.
std::string realPathOf(const SourceManager &SM, FileID FID) {
  OptionalFileEntryRef F = SM.getFileEntryRefForID(FID);
  if (!F)
    return "";
  llvm::StringRef Real = SM.getFileManager().getCanonicalName(*F);
  return Real.str();
}

/// The text of \p FID as \p R rewrote it, ending in a newline.
std::string rewrittenText(Rewriter &R, FileID FID) {
  std::string Text;
  if (const RewriteBuffer *B = R.getRewriteBufferFor(FID))
    Text.assign(B->begin(), B->end());
  else
    Text = R.getSourceMgr().getBufferData(FID).str();
  if (!Text.empty() && Text.back() != '\n')
    Text += '\n';
  // A UTF-8 byte order mark belongs at the start of a file; the copy starts
  // with cleave's own lines.
  if (llvm::StringRef(Text).starts_with("\xEF\xBB\xBF"))
    Text.erase(0, 3);
  return Text;
}

/// Copies of the included files that \p R edited, and of every file on the
/// way from the main file to them, with their inclusion directives pointed
/// at the copies (see rewriteUnit). Returns false after reporting why an
/// edited file cannot be copied.
bool copyEditedHeaders(Rewriter &R, Reporter &Report,
                       llvm::ArrayRef<Inclusion> Includes,
                       const std::string &Dir,
                       std::vector<std::pair<std::string, std::string>> &Out) {
  SourceManager &SM = R.getSourceMgr();
  FileID Main = SM.getMainFileID();
  std::string MainPath = realPathOf(SM, Main);
  // The edited files, by real path, each with the first FileID the
  // preprocessor gave it (where the edits are).
  std::map<std::string, FileID> Copied;
  std::vector<std::string> Work;
  for (auto It = R.buffer_begin(); It != R.buffer_end(); ++It) {
    if (It->first == Main)
      continue;
    std::string P = realPathOf(SM, It->first);
    SourceLocation Start = SM.getLocForStartOfFile(It->first);
    if (P.empty() || SM.getFileID(SM.getIncludeLoc(It->first)).isInvalid()) {
      Report.error(Start, "cleave must add to this file in the handler "
                          "library's copy, but it is not included by an "
                          "#include directive of the source");
      return false;
    }
    if (Copied.emplace(P, It->first).second)
      Work.push_back(P);
  }
  if (Copied.empty())
    return true;
  // Every file that includes a copied file is copied too, up to the main
  // file, which is the rewritten unit itself.
  while (!Work.empty()) {
    std::string To = Work.back();
    Work.pop_back();
    for (const Inclusion &I : Includes) {
      if (I.Resolved != To)
        continue;
      FileID From = SM.getFileID(I.Hash);
      std::string P = realPathOf(SM, From);
      if (From == Main || P == MainPath)
        continue;
      if (P.empty()) {
        Report.error(SM.getLocForStartOfFile(Copied[To]),
                     "cleave must add to this file in the handler library's "
                     "copy, but it is included by a command-line -include, "
                     "which cannot be pointed at the copy; include it with "
                     "#include in the source instead");
        return false;
      }
      auto [It, New] = Copied.emplace(P, SM.translateFile(
                                             *SM.getFileEntryRefForID(From)));
      if (New)
        Work.push_back(P);
    }
  }
  // Names of the copies, one directory for the unit.
  std::map<std::string, std::string> NameOf;
  llvm::StringSet<> Taken;
  for (const auto &[P, FID] : Copied) {
    std::string Base = llvm::sys::path::filename(P).str();
    std::string Name = Base;
    for (unsigned N = 2; !Taken.insert(Name).second; ++N)
      Name = std::to_string(N) + "_" + Base;
    NameOf[P] = Name;
  }
  // Each directive of the main file or of a copy that names a copied file
  // names its copy. The other "..." directives of a copy name the files they
  // found by their real paths, since a copy is elsewhere and "..." looks
  // first beside the file that includes; <...> does not, and stays.
  bool OK = true;
  for (const Inclusion &I : Includes) {
    FileID From = SM.getFileID(I.Hash);
    bool InMain = From == Main;
    std::string FromPath = InMain ? MainPath : realPathOf(SM, From);
    auto C = Copied.find(FromPath);
    if (!InMain && (C == Copied.end() || C->second != From))
      continue;
    auto Target = NameOf.find(I.Resolved);
    if (Target == NameOf.end() && (InMain || I.Angled))
      continue;
    std::string Name = Target != NameOf.end()
                           ? (InMain ? Dir + "/" : std::string()) +
                                 Target->second
                           : I.Resolved;
    if (!I.Written || I.Filename.isInvalid() ||
        Name.find_first_of("\"\n") != std::string::npos) {
      if (Target == NameOf.end())
        continue; // found the same way from the copy: the name is absolute
      Report.error(I.Hash, "cleave must point this #include at its copy of "
                           "the file, but the file's name is spelled by a "
                           "macro");
      OK = false;
      continue;
    }
    R.ReplaceText(I.Filename, "\"" + Name + "\"");
  }
  if (!OK)
    return false;
  for (const auto &[P, FID] : Copied) {
    SourceLocation Start = SM.getLocForStartOfFile(FID);
    std::string Prefix =
        "#line 1 " + cppStringLiteral(sourcePos(SM, Start).File) + "\n";
    if (SM.getFileCharacteristic(Start) != SrcMgr::C_User)
      Prefix = "#pragma GCC system_header\n" + Prefix;
    Out.push_back({Dir + "/" + NameOf[P], Prefix + rewrittenText(R, FID)});
  }
  return true;
}

} // namespace

std::string rewriteUnit(
    ASTContext &Ctx, const UnitModel &Model, const LoweringPlan &Plan,
    Reporter &Report,
    const std::vector<std::pair<SourceLocation, std::string>> &Insertions,
    llvm::ArrayRef<Inclusion> Includes,
    std::vector<std::pair<std::string, std::string>> &Headers) {
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
  std::string File = sourcePos(SM, SM.getLocForStartOfFile(Main)).File;
  copyEditedHeaders(R, Report, Includes, headerCopyDir(File), Headers);

  return "#include <cleave/handler.h>\n#line 1 " + cppStringLiteral(File) +
         "\n" + rewrittenText(R, Main);
}

} // namespace cleave
