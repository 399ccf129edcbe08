//===- Resume.cpp - The body of a state machine: structured resume -------===//
//
// The machine runs a copy of the user's body, rewritten so that a step can
// start at its beginning or resume after any call that stops it
// (docs/splitting.md, "How a step resumes"). Nothing is hoisted and no goto
// jumps over a declaration:
//   - before the statement a call stops (its anchor), the stop: while
//     running, evaluate the call's arguments, save the frame and return;
//     while resuming there, take the callee's value, which replaces the call
//     in the statement;
//   - in a block on the way to a resume point, statements before the way on
//     are skipped while resuming (`if (!cleave_r.skipping()) { ... }`), and
//     the statement on the way is entered only when the resume point lies
//     inside it;
//   - an if whose branch holds the resume point takes that branch without
//     evaluating its condition again, a loop enters its body without its
//     condition, a range-for continues from the position in the frame, a
//     switch enters at the case that holds the resume point;
//   - a declaration on the way makes its object as the user wrote it, or,
//     while resuming, restores it from the frame (or leaves it absent) in a
//     cleave::rt::Local, under the user's own name.
//
//===----------------------------------------------------------------------===//

#include "MachineInternal.h"

#include "cleave/Emit/Glue.h"

#include "llvm/ADT/StringExtras.h"

#include <regex>

using namespace clang;

namespace cleave {
namespace machine {

namespace {

std::string trim(llvm::StringRef S) { return S.trim().str(); }

/// Whether \p Text holds the keyword `auto`.
bool spellsAuto(const std::string &Text) {
  static const std::regex Auto("(^|[^A-Za-z0-9_])auto([^A-Za-z0-9_]|$)");
  return std::regex_search(Text, Auto);
}

/// A range expression that names an object, so that it can be evaluated
/// again when the loop resumes: a variable, or a member of one.
bool namesObject(const Expr *E) {
  E = E->IgnoreParenImpCasts();
  if (const auto *R = dyn_cast<DeclRefExpr>(E))
    return isa<VarDecl>(R->getDecl()) || isa<BindingDecl>(R->getDecl());
  if (const auto *M = dyn_cast<MemberExpr>(E))
    return !M->isArrow() && namesObject(M->getBase());
  return false;
}

} // namespace

std::string MachineBuilder::restoreLists(const Carrier &C) const {
  std::set<unsigned> Fresh;
  for (unsigned K : C.Needed)
    if (!C.Live.count(K))
      Fresh.insert(K);
  return carrierList(C.Live) + ", " + carrierList(Fresh);
}

std::string MachineBuilder::carrierList(const std::set<unsigned> &At) const {
  std::string S = "{";
  for (unsigned K : At)
    S += (S.size() > 1 ? ", " : "") + std::to_string(K) + "u";
  return S + "}";
}

/// The declaration of a carrier held in a Local: \p TypeText is its type as
/// written (maybe with `auto`), \p Declarator its name (or `[a, b]`),
/// \p InitText its initializer as written after the name (`= e`, `(a, b)`,
/// `{a}` or nothing).
static std::string slotText(const Carrier &C, std::string TypeText,
                            const std::string &Declarator,
                            const std::string &InitText, bool Binding,
                            std::string &Error) {
  std::string Init = trim(InitText);
  std::string Expr; // the value, for decltype
  if (!Init.empty() && Init[0] == '=') {
    Init = trim(llvm::StringRef(Init).drop_front());
    Expr = Init;
    if (Init.empty() || Init[0] != '{')
      Init = "(" + Init + ")";
  } else if (!Init.empty()) {
    Expr = Init.substr(1, Init.size() - 2);
  }
  // A reference bound to a temporary is an object like any other.
  while (!TypeText.empty() &&
         (TypeText.back() == '&' || TypeText.back() == ' '))
    TypeText.pop_back();
  if (spellsAuto(TypeText)) {
    if (Expr.empty() || Expr.find(',') != std::string::npos && Init[0] == '{') {
      Error = "its type is deduced from an initializer the compiler cannot "
              "spell again";
      return {};
    }
    static const std::regex Auto("(^|[^A-Za-z0-9_])auto([^A-Za-z0-9_]|$)");
    TypeText = std::regex_replace(
        TypeText, Auto, "$1::std::decay_t<decltype((" + Expr + "))>$2");
  }
  std::string T = "cleave_T" + C.SlotName.substr(std::string("cleave_l").size());
  std::string S = "using " + T + " = " + TypeText + "; ::cleave::rt::Local<" +
                  T + "> " + C.SlotName + "(cleave_r); " +
                  (Binding ? "auto &" : T + " &") + Declarator +
                  " = cleave_r.skipping() ? " + C.SlotName + ".resume(" +
                  "%LIST%" + ") : " + C.SlotName + ".make(::new (" +
                  C.SlotName + ".raw()) " + T + Init + ");";
  return S;
}

void MachineBuilder::planLoops() {
  for (Loop &L : Loops) {
    const Expr *RangeInit = L.For->getRangeInit();
    QualType RT = RangeInit->getType().getNonReferenceType().getCanonicalType();
    L.Position = "index";
    if (const auto *RD = RT->getAsCXXRecordDecl(); RD && RD->isInStdNamespace()) {
      llvm::StringRef N = RD->getName();
      if (N == "map" || N == "set" || N == "multimap" || N == "multiset")
        L.Position = "key";
      else if (N == "unordered_map" || N == "unordered_set")
        L.Position = "keys";
      else if (N == "unordered_multimap" || N == "unordered_multiset") {
        MC.Report.error(RangeInit->getBeginLoc(),
                        "a range-for around a boundary cannot walk '" +
                            typeDisplay(RT) +
                            "': a copy of it from the frame need not visit "
                            "its repeated keys in the same order");
        MC.Report.note(Stops[L.Lo - 1].Call->getBeginLoc(), "the boundary is here");
        Failed = true;
      }
    }
    if (!namesObject(RangeInit)) {
      L.Temporary = true;
      L.TemporarySlot = "cleave_lr" + std::to_string(++Counter);
      if (auto P = MC.Types.check(RT.getUnqualifiedType())) {
        MC.Report.error(RangeInit->getBeginLoc(),
                        "the range of a range-for around a boundary is a "
                        "temporary that travels with the frame, but it "
                        "cannot: " +
                            P->Reason);
        MC.Report.note(Stops[L.Lo - 1].Call->getBeginLoc(), "the boundary is here");
        if (P->NoteLoc.isValid())
          MC.Report.note(P->NoteLoc, P->Note);
        Failed = true;
      }
    }
  }
}

bool MachineBuilder::checkJumpsOverLocals() {
  // A Local is a declaration with an initializer: a goto (the user's) that
  // jumped over the plain declaration would jump over it too.
  bool OK = true;
  for (const GotoStmt *G : Gotos) {
    SourceLocation From = SM.getFileLoc(G->getBeginLoc());
    SourceLocation To = SM.getFileLoc(G->getLabel()->getLocation());
    if (!SM.isBeforeInTranslationUnit(From, To))
      continue;
    for (const Carrier &C : Carriers) {
      if (C.How != Carrier::Slot || C.Param)
        continue;
      SourceLocation At = SM.getFileLoc(C.Var->getLocation());
      if (SM.isBeforeInTranslationUnit(From, At) &&
          SM.isBeforeInTranslationUnit(At, To)) {
        MC.Report.error(G->getBeginLoc(),
                        "this goto jumps over the declaration of '" +
                            C.Var->getNameAsString() +
                            "', which lives across a boundary");
        MC.Report.note(C.Var->getLocation(), "declared here");
        OK = false;
        break;
      }
    }
  }
  return OK;
}

bool MachineBuilder::rewriteBody() {
  Rw.setSourceMgr(SM, LO);
  MC.BaseEdits(Rw);
  bool OK = checkJumpsOverLocals();
  // Text around statements: Outer (guards, braces) outside, Before (stops)
  // inside, unless a rewritten header took it in (Consumed).
  std::map<const Stmt *, std::string> Outer, Before, After;
  llvm::DenseSet<const Stmt *> Consumed;

  // --- Each stop: its value replaces the call --------------------------------
  for (Stop &S : Stops) {
    const FunctionDecl *Callee = S.Callee;
    std::string Name = MC.Plan.Machines.count(S.Plan->Callee)
                           ? MC.Plan.Machines.at(S.Plan->Callee)
                           : Callee->getQualifiedNameAsString();
    std::string Quoted = cppStringLiteral(Name);
    QualType RT = Callee->getReturnType();
    if (!RT->isVoidType())
      if (auto P = MC.Types.check(RT.getNonReferenceType().getUnqualifiedType())) {
        MC.Report.error(S.Call->getBeginLoc(),
                        "the value of '" + Callee->getNameAsString() +
                            "' cannot cross the boundary: " + P->Reason);
        if (P->NoteLoc.isValid())
          MC.Report.note(P->NoteLoc, P->Note);
        OK = false;
      }
    std::string Save;
    for (const FrameItem &I : Frames[S.Index - 1])
      Save += ", " + I.Save;
    std::string K = std::to_string(S.Index) + "u";
    std::string Pending = carrierList(PendingAt[S.Index - 1]);
    std::string Prologue;
    if (S.Plan->Kind == SuspensionKind::FanOut) {
      if (Callee->getNumParams() != 1) {
        MC.Report.error(S.Call->getBeginLoc(),
                        "cleave::parallel_map needs a function of one "
                        "parameter");
        OK = false;
        continue;
      }
      std::string P = typeCode(Callee->getParamDecl(0)->getType());
      Prologue = "if (cleave_r.stopJoin<" +
                 (S.ElemCode.empty() ? std::string("void") : S.ElemCode) +
                 ">(" + K + ", " + Pending + ")) { cleave_s.fanOut<" + P +
                 ">(" + Quoted + ", " + K + ", " + S.Layout + ", " +
                 text(S.Call->getArg(0)->getSourceRange()) + Save +
                 "); cleave_r.suspend(); return; } ";
    } else {
      std::string Args;
      for (unsigned I = 0; I < S.Call->getNumArgs(); ++I) {
        const Expr *A = S.Call->getArg(I);
        if (I >= Callee->getNumParams())
          break;
        const ParmVarDecl *P = Callee->getParamDecl(I);
        QualType PT = P->getType();
        if (isa<CXXDefaultArgExpr>(A)) {
          MC.Report.error(S.Call->getBeginLoc(),
                          "parameter '" + P->getNameAsString() + "' of '" +
                              Callee->getNameAsString() +
                              "' takes its default argument; across a "
                              "boundary every argument must be written");
          OK = false;
          continue;
        }
        if (PT->isLValueReferenceType() &&
            !PT.getNonReferenceType().isConstQualified()) {
          MC.Report.error(A->getBeginLoc(),
                          "'" + Callee->getNameAsString() +
                              "' takes parameter '" + P->getNameAsString() +
                              "' by non-const reference; a call that crosses "
                              "a boundary passes values");
          MC.Report.note(P->getLocation(), "the parameter is declared here");
          OK = false;
          continue;
        }
        if (auto Pr =
                MC.Types.check(PT.getNonReferenceType().getUnqualifiedType())) {
          MC.Report.error(A->getBeginLoc(),
                          "argument '" + P->getNameAsString() + "' of '" +
                              Callee->getNameAsString() +
                              "' cannot cross the boundary: " + Pr->Reason);
          if (Pr->NoteLoc.isValid())
            MC.Report.note(Pr->NoteLoc, Pr->Note);
          OK = false;
          continue;
        }
        // Evaluated as the call would: a std::move leaves the caller's
        // object moved from, as in the plain program.
        Args += std::string(PT->isReferenceType() ? "cleave_s.arg<"
                                                   : "cleave_s.argByValue<") +
                typeCode(PT) + ">(" + text(A->getSourceRange()) + "); ";
      }
      Prologue = "if (cleave_r.stop<" + S.ResultCode + ">(" + K + ", " +
                 Pending + ")) { " + Args + "cleave_s.call(" + Quoted + ", " +
                 K + ", " + S.Layout + Save +
                 "); cleave_r.suspend(); return; } ";
    }
    std::string Value = "cleave_r.value<" + S.ResultCode + ">(" + K + ")";
    bool Discarded =
        isa<Expr>(S.Anchor) && cast<Expr>(S.Anchor)->IgnoreImplicit() == S.Call;
    Rw.ReplaceText(CharSourceRange::getTokenRange(
                       SM.getFileLoc(S.Call->getBeginLoc()),
                       SM.getFileLoc(S.Call->getEndLoc())),
                   Discarded && S.ResultCode != "void" ? "(void)" + Value
                                                       : Value);
    Before[S.Anchor] += Prologue;
    if (S.Wrap && !Outer.count(S.Anchor)) {
      Outer[S.Anchor] = "{ ";
      After[S.Anchor] += " }";
    }
  }
  if (!OK)
    return false;

  // --- decltype(v) of a local held in a Local names a reference now ----------
  for (const DecltypeTypeLoc &TL : Decltypes) {
    const auto *R = dyn_cast_or_null<DeclRefExpr>(TL.getUnderlyingExpr());
    const VarDecl *V = R ? carriedVar(R->getDecl()) : nullptr;
    auto It = V ? CarrierOf.find(V) : CarrierOf.end();
    if (It == CarrierOf.end() || Carriers[It->second].How != Carrier::Slot ||
        V->getType()->isReferenceType() || TL.getBeginLoc().isMacroID())
      continue;
    Rw.InsertTextBefore(SM.getFileLoc(TL.getBeginLoc()),
                        "::std::remove_reference_t<");
    Rw.InsertTextAfterToken(SM.getFileLoc(TL.getEndLoc()), ">");
  }

  // --- Returns hand their value to the runtime -------------------------------
  if (!FD->getReturnType()->isVoidType())
    for (const ReturnStmt *R : Returns) {
      const Expr *E = R->getRetValue();
      if (!E || inMacro(R))
        continue;
      Rw.ReplaceText(SM.getFileLoc(R->getBeginLoc()), 6,
                     "return cleave_s.finish<" + ReturnCode + ">(");
      Rw.InsertTextAfterToken(SM.getFileLoc(E->getEndLoc()), ")");
    }

  // --- Declarations on the way ------------------------------------------------
  // The text of a carrier's declaration: Remat ones are left as written.
  auto DeclText = [&](const Carrier &C, const DeclStmt *DS,
                      SourceLocation End, bool &Fine) -> std::string {
    const VarDecl *V = C.Var;
    if (V->getLocation().isMacroID() || (DS && inMacro(DS))) {
      MC.Report.error(V->getLocation(),
                      "'" + V->getNameAsString() +
                          "' lives across a boundary and is declared inside a "
                          "macro expansion, which cannot be rewritten");
      Fine = false;
      return {};
    }
    SourceLocation Begin = DS ? DS->getBeginLoc() : V->getBeginLoc();
    bool Binding = isa<DecompositionDecl>(V);
    SourceLocation NameEnd;
    std::string Declarator;
    if (Binding) {
      // `[a, b]`: from the bracket to the closing one.
      SourceLocation L = V->getLocation();
      auto Bindings = cast<DecompositionDecl>(V)->bindings();
      SourceLocation Last = Bindings.back()->getLocation();
      NameEnd = Lexer::findLocationAfterToken(SM.getFileLoc(Last), tok::r_square,
                                              SM, LO, false);
      if (NameEnd.isInvalid()) {
        Fine = false;
        return {};
      }
      Declarator = text(SM.getFileLoc(L), NameEnd);
    } else {
      NameEnd = endOfToken(V->getLocation());
      Declarator = V->getNameAsString();
    }
    std::string TypeText =
        text(SM.getFileLoc(Begin), SM.getFileLoc(V->getLocation()));
    std::string InitText = text(NameEnd, SM.getFileLoc(End));
    QualType T = V->getType();
    if (T->isArrayType() || TypeText.find('(') != std::string::npos) {
      MC.Report.error(V->getLocation(),
                      "'" + V->getNameAsString() +
                          "' lives across a boundary; declare it with a plain "
                          "type (a std::array for an array)");
      Fine = false;
      return {};
    }
    if (T->isReferenceType() && !(V->getInit() && isa<MaterializeTemporaryExpr>(
                                                      V->getInit()->IgnoreImplicit()))) {
      // A reference nothing after the resume point uses: bound to nothing.
      std::string Init = trim(InitText);
      if (Init.empty() || Init[0] != '=') {
        MC.Report.error(V->getLocation(),
                        "bind reference '" + V->getNameAsString() +
                            "' with '=': it lives across a boundary");
        Fine = false;
        return {};
      }
      Init = trim(llvm::StringRef(Init).drop_front());
      return TypeText + Declarator + " = cleave_r.skipping() ? "
             "::cleave::rt::absent<decltype((" + Init + "))>() : (" + Init + ");";
    }
    std::string Error;
    std::string S = slotText(C, TypeText, Declarator, InitText, Binding, Error);
    if (!Error.empty()) {
      MC.Report.error(V->getLocation(), "'" + V->getNameAsString() +
                                            "' lives across a boundary, but " +
                                            Error + "; spell its type");
      Fine = false;
      return {};
    }
    size_t At = S.find("%LIST%");
    S.replace(At, 6, restoreLists(C));
    return S;
  };

  for (const Carrier &C : Carriers) {
    if (C.Param || C.LoopVar || C.How == Carrier::Remat)
      continue;
    const VarDecl *V = C.Var;
    const Stmt *P = parentOfDecl(V);
    const auto *DS = dyn_cast_or_null<DeclStmt>(P);
    if (!DS) // an if's condition variable: written with its header
      continue;
    if (!DS->isSingleDecl()) {
      MC.Report.error(V->getLocation(),
                      "declare '" + V->getNameAsString() +
                          "' in a declaration of its own: it lives across a "
                          "boundary");
      OK = false;
      continue;
    }
    bool Fine = true;
    std::string S = DeclText(C, DS, DS->getEndLoc(), Fine);
    if (!Fine) {
      OK = false;
      continue;
    }
    // The declaration's range ends at its semicolon.
    Rw.ReplaceText(CharSourceRange::getCharRange(SM.getFileLoc(DS->getBeginLoc()),
                                                 afterStmt(DS)),
                   S);
  }
  if (!OK)
    return false;

  // --- Blocks on the way: skip what comes before it ---------------------------
  for (const auto &[S, R] : Range) {
    const auto *CS = dyn_cast<CompoundStmt>(S);
    if (!CS)
      continue;
    // The last statement on the way: after it, nothing is skipped.
    int Last = -1, I = 0;
    for (const Stmt *Child : CS->body()) {
      if (onPath(unlabeled(Child)))
        Last = I;
      ++I;
    }
    I = 0;
    for (const Stmt *Child : CS->body()) {
      if (I++ >= Last)
        break;
      const Stmt *E = unlabeled(Child);
      if (isa<DeclStmt>(E) || isa<NullStmt>(E) || onPath(E))
        continue;
      Outer[E] = "if (!cleave_r.skipping()) { " + Outer[E];
      After[E] += " }";
    }
    for (const Stmt *Child : CS->body()) {
      const Stmt *E = unlabeled(Child);
      if (!onPath(E) || isa<DeclStmt>(E) || rangeOf(E) == R)
        continue;
      auto [Lo, Hi] = rangeOf(E);
      Outer[E] = "if (!cleave_r.skipping() || cleave_r.in(" +
                 std::to_string(Lo) + "u, " + std::to_string(Hi) + "u)) { " +
                 Outer[E];
      After[E] += " }";
    }
  }

  // --- Statements on the way ---------------------------------------------------
  // The branch that holds the resume point is taken without the condition:
  // the then-branch when it holds it, otherwise the else-branch.
  auto Branches = [&](const Stmt *Then) -> std::string {
    if (Then && onPath(Then)) {
      auto [Lo, Hi] = rangeOf(Then);
      return "cleave_r.in(" + std::to_string(Lo) + "u, " + std::to_string(Hi) +
             "u)";
    }
    return "false";
  };
  for (const auto &[S, R] : Range) {
    if (const auto *If = dyn_cast<IfStmt>(S)) {
      bool InBranch = (If->getThen() && onPath(If->getThen())) ||
                      (If->getElse() && onPath(If->getElse()));
      const VarDecl *CV = If->getConditionVariable();
      std::string Cond;
      if (CV)
        Cond = "static_cast<bool>(" + CV->getNameAsString() + ")";
      else
        Cond = "(" + text(If->getCond()->getSourceRange()) + ")";
      if (InBranch)
        Cond = "cleave_r.skipping() ? " + Branches(If->getThen()) +
               " : " + Cond;
      if (!If->getInit() && !CV) {
        if (InBranch)
          Rw.ReplaceText(CharSourceRange::getTokenRange(
                             SM.getFileLoc(If->getCond()->getBeginLoc()),
                             SM.getFileLoc(If->getCond()->getEndLoc())),
                         Cond);
        continue;
      }
      // `if (init; T v = e)` is `{ init; T v = e; if (v) ... }`.
      std::string Head = "{ ";
      if (const Stmt *Init = If->getInit()) {
        Head += Before[Init];
        Consumed.insert(Init);
        Head += text(SM.getFileLoc(Init->getBeginLoc()), afterStmt(Init)) + " ";
      }
      if (CV) {
        auto It = CarrierOf.find(CV);
        std::string Decl;
        SourceLocation End = If->getRParenLoc();
        if (It != CarrierOf.end() && Carriers[It->second].How == Carrier::Slot) {
          bool Fine = true;
          Decl = DeclText(Carriers[It->second], nullptr, End, Fine);
          if (!Fine) {
            OK = false;
            continue;
          }
        } else {
          Decl = text(SM.getFileLoc(CV->getBeginLoc()), SM.getFileLoc(End)) + ";";
        }
        Head += Decl + " ";
      }
      Head += Before[If];
      Consumed.insert(If);
      Rw.ReplaceText(CharSourceRange::getTokenRange(SM.getFileLoc(If->getIfLoc()),
                                                    SM.getFileLoc(If->getRParenLoc())),
                     Head + "if (" + Cond + ")");
      After[If] += " }";
      continue;
    }
    if (const auto *W = dyn_cast<WhileStmt>(S)) {
      if (!onPath(W->getBody()))
        continue;
      Rw.ReplaceText(CharSourceRange::getTokenRange(
                         SM.getFileLoc(W->getCond()->getBeginLoc()),
                         SM.getFileLoc(W->getCond()->getEndLoc())),
                     "cleave_r.skipping() || (" +
                         text(W->getCond()->getSourceRange()) + ")");
      continue;
    }
    if (const auto *F = dyn_cast<ForStmt>(S)) {
      std::string Cond =
          F->getCond() ? "cleave_r.skipping() || (" +
                             text(F->getCond()->getSourceRange()) + ")"
                       : std::string();
      if (!F->getInit()) {
        if (F->getCond() && onPath(F->getBody()))
          Rw.ReplaceText(CharSourceRange::getTokenRange(
                             SM.getFileLoc(F->getCond()->getBeginLoc()),
                             SM.getFileLoc(F->getCond()->getEndLoc())),
                         Cond);
        continue;
      }
      // `for (init; c; i) b` is `{ init; for (; c; i) b }`.
      const Stmt *Init = F->getInit();
      std::string Head = "{ " + Before[Init];
      Consumed.insert(Init);
      Head += text(SM.getFileLoc(Init->getBeginLoc()), afterStmt(Init));
      std::string Inc = F->getInc() ? text(F->getInc()->getSourceRange()) : "";
      Rw.ReplaceText(CharSourceRange::getTokenRange(SM.getFileLoc(F->getForLoc()),
                                                    SM.getFileLoc(F->getRParenLoc())),
                     Head + " for (; " + Cond + "; " + Inc + ")");
      After[F] += " }";
      continue;
    }
    if (const auto *RF = dyn_cast<CXXForRangeStmt>(S)) {
      const Loop *L = nullptr;
      for (const Loop &X : Loops)
        if (X.For == RF)
          L = &X;
      if (!L)
        continue; // the call is in the range: the loop is its anchor
      std::string RangeText = text(RF->getRangeInit()->getSourceRange());
      // The loop variable as written, read before the header is replaced.
      const VarDecl *LV = RF->getLoopVariable();
      std::string Written =
          text(SM.getFileLoc(LV->getBeginLoc()), SM.getFileLoc(RF->getColonLoc()));
      std::string LVType = text(SM.getFileLoc(LV->getBeginLoc()),
                                SM.getFileLoc(LV->getLocation()));
      std::string Head = "{ ";
      if (L->Temporary) {
        std::string T = "cleave_Tr" + L->TemporarySlot.substr(9);
        std::set<unsigned> All;
        for (unsigned K = L->Lo; K <= L->Hi; ++K)
          All.insert(K);
        Head += "using " + T + " = ::std::decay_t<decltype((" + RangeText +
                "))>; ::cleave::rt::Local<" + T + "> " + L->TemporarySlot +
                "(cleave_r); " + T + " &" + L->Range +
                " = cleave_r.skipping() ? " + L->TemporarySlot + ".resume(" +
                carrierList(All) + ", {}) : " + L->TemporarySlot +
                ".make(::new (" + L->TemporarySlot + ".raw()) " + T + "(" +
                RangeText + ")); ";
      } else {
        Head += "auto &&" + L->Range + " = " + RangeText + "; ";
      }
      Head += "::cleave::rt::Cursor<decltype(" + L->Range + ")> " + L->Cursor +
              "(" + L->Range + ", cleave_r, " + std::to_string(L->Lo) + "u, " +
              std::to_string(L->Hi) + "u); ";
      Head += "for (; " + L->Cursor + ".more(); " + L->Cursor + ".next())";
      Rw.ReplaceText(CharSourceRange::getTokenRange(SM.getFileLoc(RF->getForLoc()),
                                                    SM.getFileLoc(RF->getRParenLoc())),
                     Head);
      After[RF] += " }";
      // The loop variable, from the cursor.
      std::string Bind;
      auto It = CarrierOf.find(LV);
      if (It != CarrierOf.end() && Carriers[It->second].How == Carrier::Slot) {
        const Carrier &C = Carriers[It->second];
        bool Binding = isa<DecompositionDecl>(LV);
        std::string Declarator =
            Binding ? Written.substr(Written.find('['))
                    : LV->getNameAsString();
        std::string TypeText =
            Binding ? Written.substr(0, Written.find('[')) : LVType;
        std::string Error;
        Bind = slotText(C, TypeText, trim(Declarator),
                        "= " + L->Cursor + ".get()", Binding, Error);
        if (!Error.empty()) {
          MC.Report.error(LV->getLocation(), "'" + LV->getNameAsString() +
                                                 "' lives across a boundary, "
                                                 "but " + Error);
          OK = false;
          continue;
        }
        Bind.replace(Bind.find("%LIST%"), 6, restoreLists(C));
      } else {
        Bind = trim(Written) + " = " + L->Cursor + ".get();";
      }
      const Stmt *B = RF->getBody();
      if (const auto *CS = dyn_cast<CompoundStmt>(B)) {
        Rw.InsertTextAfterToken(SM.getFileLoc(CS->getLBracLoc()), " " + Bind);
      } else {
        Outer[B] = "{ " + Bind + " " + Outer[B];
        After[B] += " }";
      }
      continue;
    }
    if (const auto *Sw = dyn_cast<SwitchStmt>(S)) {
      const auto *CS = dyn_cast_or_null<CompoundStmt>(Sw->getBody());
      // `switch (init; c)` is `{ init; switch (c) }`.
      auto Blockify = [&] {
        const Stmt *Init = Sw->getInit();
        if (!Init)
          return;
        std::string Head = "{ " + Before[Init];
        Consumed.insert(Init);
        Head += text(SM.getFileLoc(Init->getBeginLoc()), afterStmt(Init)) + " " +
                Before[Sw];
        Consumed.insert(Sw);
        Rw.ReplaceText(CharSourceRange::getTokenRange(
                           SM.getFileLoc(Sw->getSwitchLoc()),
                           SM.getFileLoc(Sw->getRParenLoc())),
                       Head + "switch (" +
                           text(Sw->getCond()->getSourceRange()) + ")");
        After[Sw] += " }";
      };
      if (!CS || !onPath(CS)) {
        Blockify();
        continue;
      }
      // Enter at the case before the statement that holds the resume point.
      std::string Jumps;
      const Stmt *Label = nullptr;
      std::map<const Stmt *, std::pair<unsigned, unsigned>> Regions;
      for (const Stmt *Child : CS->body()) {
        if (isa<SwitchCase>(Child))
          Label = Child;
        const Stmt *E = unlabeled(Child);
        if (!onPath(E))
          continue;
        if (!Label) {
          MC.Report.error(E->getBeginLoc(),
                          "a boundary in a switch before its first case "
                          "cannot be resumed");
          OK = false;
          break;
        }
        auto [Lo, Hi] = rangeOf(E);
        auto [RIt, New] = Regions.try_emplace(Label, Lo, Hi);
        if (!New) {
          RIt->second.first = std::min(RIt->second.first, Lo);
          RIt->second.second = std::max(RIt->second.second, Hi);
        }
      }
      for (const auto &[Lbl, LoHi] : Regions) {
        std::string Name = "cleave_enter" + std::to_string(++Counter);
        Jumps += "if (cleave_r.in(" + std::to_string(LoHi.first) + "u, " +
                 std::to_string(LoHi.second) + "u)) goto " + Name + "; ";
        Rw.InsertTextBefore(SM.getFileLoc(Lbl->getBeginLoc()), Name + ": ");
      }
      Before[Sw] = "if (cleave_r.skipping()) { " + Jumps + "} " + Before[Sw];
      Blockify();
      continue;
    }
  }
  if (!OK)
    return false;

  // --- What goes around statements --------------------------------------------
  std::set<const Stmt *> Starts;
  for (const auto &[S, Text] : Outer)
    Starts.insert(S);
  for (const auto &[S, Text] : Before)
    Starts.insert(S);
  for (const Stmt *S : Starts) {
    std::string Text = Outer[S] + (Consumed.count(S) ? "" : Before[S]);
    if (!Text.empty())
      Rw.InsertTextBefore(SM.getFileLoc(S->getBeginLoc()), Text);
  }
  for (const auto &[S, Text] : After)
    if (!Text.empty())
      Rw.InsertTextAfter(afterStmt(S), Text);
  return OK;
}

} // namespace machine
} // namespace cleave
