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
#include "cleave/Frontend/Names.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"

#include <cctype>
#include <functional>
#include <optional>
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

/// Whether the type written before a name has parentheses of a declarator
/// around the name (`int (*f)(int)`, `int (&r)[3]`), rather than in a
/// decltype, a template argument or an attribute.
bool declaratorAroundName(const std::string &TypeText) {
  int Angle = 0;
  for (size_t I = 0; I < TypeText.size(); ++I) {
    char C = TypeText[I];
    if (C == '<')
      ++Angle;
    else if (C == '>' && Angle > 0)
      --Angle;
    else if (C == '(' && Angle == 0) {
      // A decltype(...), typeof(...) or alignas(...) is part of the type.
      size_t W = I;
      while (W > 0 && (std::isalnum(static_cast<unsigned char>(TypeText[W - 1])) ||
                       TypeText[W - 1] == '_'))
        --W;
      if (W == I) // no keyword before it
        return true;
      int Depth = 1;
      while (++I < TypeText.size() && Depth > 0)
        Depth += TypeText[I] == '(' ? 1 : TypeText[I] == ')' ? -1 : 0;
      --I;
    }
  }
  return false;
}

/// The value of a default argument as code the caller can evaluate, for a
/// parameter of type \p Code: a constant (a number, a truth value, an
/// enumerator, a string literal), or empty. Anything else would have to be
/// spelled in the scope of the callee's declaration.
std::string defaultArgumentText(const Expr *E, const ASTContext &Ctx,
                                const std::string &Code) {
  const Expr *Bare = E->IgnoreImplicit();
  // std::string("...") and the like: one argument, the rest defaulted.
  if (const auto *C = dyn_cast<CXXConstructExpr>(Bare); C && C->getNumArgs()) {
    bool Rest = true;
    for (unsigned I = 1; I < C->getNumArgs(); ++I)
      Rest &= isa<CXXDefaultArgExpr>(C->getArg(I));
    if (Rest)
      Bare = C->getArg(0)->IgnoreImplicit();
  }
  if (const auto *L = dyn_cast<StringLiteral>(Bare))
    return L->isOrdinary() ? cppStringLiteral(L->getString().str())
                           : std::string();
  if (E->isValueDependent() || E->isTypeDependent())
    return {};
  Expr::EvalResult R;
  if (!E->EvaluateAsRValue(R, Ctx) || R.HasSideEffects)
    return {};
  if (R.Val.isInt()) {
    const llvm::APSInt &V = R.Val.getInt();
    std::string Digits = llvm::toString(V, 10);
    std::string Suffix = V.isUnsigned() ? "ULL" : "LL";
    if (V.getSignificantBits() > 64)
      return {};
    // The most negative value has no literal of its own.
    if (V.isSigned() && V.getBitWidth() == 64 && V.isMinSignedValue())
      return "static_cast<" + Code + ">(-9223372036854775807LL - 1)";
    return "static_cast<" + Code + ">(" + Digits + Suffix + ")";
  }
  if (R.Val.isFloat()) {
    const llvm::APFloat &F = R.Val.getFloat();
    if (!F.isFinite())
      return {};
    char Buf[64];
    F.convertToHexString(Buf, 0, false, llvm::APFloat::rmNearestTiesToEven);
    return "static_cast<" + Code + ">(" + std::string(Buf) + "L)";
  }
  return {};
}

} // namespace

std::string MachineBuilder::restoreLists(const Carrier &C) const {
  std::set<unsigned> Fresh;
  for (unsigned K : C.Needed)
    if (!C.Live.count(K) && !C.FromCallee.count(K))
      Fresh.insert(K);
  std::string Lists = carrierList(C.Live) + ", " + carrierList(Fresh);
  if (C.FromCallee.empty())
    return Lists;
  std::string Outs;
  for (const auto &[K, I] : C.FromCallee)
    Outs += (Outs.empty() ? "{" : ", {") + std::to_string(K) + "u, " +
            std::to_string(I) + "u}";
  return Lists + ", {" + Outs + "}";
}

std::string MachineBuilder::carrierList(const std::set<unsigned> &At) const {
  PointSet Runs;
  for (unsigned K : At)
    Runs.append(K);
  return carrierList(Runs);
}

std::string MachineBuilder::carrierList(const PointSet &At) const {
  // Runs of three or more points are written as one range {Lo, Hi}: a value
  // carried across the many stops of one statement is carried at
  // consecutive points, and listing each would make the output quadratic.
  std::string S = "{";
  for (auto [Lo, Hi] : At.runs()) {
    S += S.size() > 1 ? ", " : "";
    if (Hi - Lo >= 2) {
      S += "{" + std::to_string(Lo) + "u, " + std::to_string(Hi) + "u}";
      continue;
    }
    for (unsigned K = Lo; K <= Hi; ++K)
      S += (K == Lo ? "" : ", ") + std::to_string(K) + "u";
  }
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
    if (Expr.empty() || (Expr.find(',') != std::string::npos && Init[0] == '{')) {
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
  // inside, unless a rewritten header took it in (Consumed). Kept in the
  // order the statements were first met (the stops' source order), not by
  // address, so that the output is the same from run to run.
  llvm::MapVector<const Stmt *, std::string> Outer, Before, After;
  llvm::DenseSet<const Stmt *> Consumed;
  // What runs before an anchor, in evaluation order: the stops, and the
  // decisions of the operators between them and the anchor.
  llvm::MapVector<const Stmt *, std::vector<std::pair<unsigned, std::string>>>
      Items;

  // --- Each stop: its value replaces the call --------------------------------
  auto DoStop = [&](Stop &S) {
    const FunctionDecl *Callee = S.Callee;
    std::string Name = MC.Plan.Machines.count(S.Plan->Callee)
                           ? MC.Plan.Machines.at(S.Plan->Callee)
                           : qualifiedName(Callee);
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
    // Inside an operand that runs only sometimes, the stop is made only when
    // it runs; its value, when a later stop's frame carries it, is restored
    // outside, from a frame that says whether it ran.
    std::string G = guardOf(S.Anchor, S.Call);
    std::string Keep;
    if (!G.empty() && S.ResultCode != "void" && !PendingAt[S.Index - 1].empty()) {
      Keep = "cleave_r.keepValue<" + S.ResultCode + ">(" + K + ", " + Pending +
             "); ";
      Pending = "{}";
    }
    std::string Prologue;
    if (S.Plan->Kind == SuspensionKind::FanOut) {
      if (Callee->getNumParams() != 1) {
        MC.Report.error(S.Call->getBeginLoc(),
                        "cleave::parallel_map needs a function of one "
                        "parameter");
        OK = false;
        return;
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
      // The object of a member function goes first (bindInOut checked it).
      if (const auto *MD = dyn_cast<CXXMethodDecl>(Callee);
          MD && !MD->isStatic())
        if (const auto *MCall = dyn_cast<CXXMemberCallExpr>(S.Call)) {
          const Expr *Obj = MCall->getImplicitObjectArgument();
          const auto *ME =
              dyn_cast<MemberExpr>(MCall->getCallee()->IgnoreParens());
          // An implicit `this` has no text of its own.
          const auto *This = dyn_cast<CXXThisExpr>(Obj->IgnoreParenImpCasts());
          std::string ObjText = This && This->isImplicit()
                                    ? std::string("this")
                                    : text(Obj->getSourceRange());
          if (ME && ME->isArrow())
            ObjText = "(*" + ObjText + ")";
          Args += "cleave_s.arg<" +
                  typeCode(Ctx.getRecordType(MD->getParent())) + ">(" +
                  ObjText + "); ";
        }
      for (unsigned I = 0; I < S.Call->getNumArgs(); ++I) {
        const Expr *A = S.Call->getArg(I);
        if (I >= Callee->getNumParams())
          break;
        const ParmVarDecl *P = Callee->getParamDecl(I);
        QualType PT = P->getType();
        std::string ArgText;
        if (const auto *D = dyn_cast<CXXDefaultArgExpr>(A)) {
          ArgText = defaultArgumentText(D->getExpr(), Ctx, typeCode(PT));
          if (ArgText.empty()) {
            MC.Report.error(S.Call->getBeginLoc(),
                            "parameter '" + P->getNameAsString() + "' of '" +
                                Callee->getNameAsString() +
                                "' takes its default argument, which is not a "
                                "constant; across a boundary write it out");
            MC.Report.note(P->getLocation(), "the parameter is declared here");
            OK = false;
            continue;
          }
        } else {
          ArgText = text(A->getSourceRange());
        }
        if (auto Pr = parameterProblem(Callee, PT)) {
          MC.Report.error(A->getBeginLoc(),
                          "argument '" + P->getNameAsString() + "' of '" +
                              Callee->getNameAsString() +
                              "' cannot cross the boundary: " + Pr->Reason);
          if (Pr->NoteLoc.isValid())
            MC.Report.note(Pr->NoteLoc, Pr->Note);
          OK = false;
          continue;
        }
        // An in-out parameter is copied in; its variable comes back from
        // the callee (bindInOut).
        if (isInOut(P)) {
          Args += "cleave_s.arg<" +
                  typeCode(PT.getNonReferenceType().getUnqualifiedType()) +
                  ">(" + ArgText + "); ";
          continue;
        }
        // Evaluated as the call would: a std::move leaves the caller's
        // object moved from, as in the plain program.
        Args += std::string(PT->isReferenceType() ? "cleave_s.arg<"
                                                   : "cleave_s.argByValue<") +
                typeCode(PT) + ">(" + ArgText + "); ";
      }
      // Places passed to in-out parameters get their values back when the
      // step arrives, before the callee's exception (if any) is thrown.
      std::string GiveBack;
      for (const auto &[E, Index] : S.Places)
        GiveBack += "cleave_r.giveBack(" + std::to_string(Index) + "u, " +
                    text(E->getSourceRange()) + "); ";
      Prologue = "if (cleave_r.stop<" + S.ResultCode + ">(" + K + ", " +
                 Pending + (GiveBack.empty() ? "" : ", true") + ")) { " +
                 Args + "cleave_s.call(" + Quoted + ", " + K + ", " +
                 S.Layout + Save + "); cleave_r.suspend(); return; } ";
      if (!GiveBack.empty())
        Prologue += "if (cleave_r.arrivedAt(" + K + ")) { " + GiveBack +
                    "cleave_r.settle(); } ";
    }
    std::string Value = "cleave_r.value<" + S.ResultCode + ">(" + K + ")";
    bool Discarded =
        isa<Expr>(S.Anchor) && cast<Expr>(S.Anchor)->IgnoreImplicit() == S.Call;
    Rw.ReplaceText(CharSourceRange::getTokenRange(
                       SM.getFileLoc(S.Call->getBeginLoc()),
                       SM.getFileLoc(S.Call->getEndLoc())),
                   Discarded && S.ResultCode != "void" ? "(void)" + Value
                                                       : Value);
    if (!G.empty())
      Prologue = Keep + "if (" + G + ") { " + Prologue + "} ";
    Items[S.Anchor].push_back({offsetOf(S.Call->getEndLoc()), Prologue});
    if (S.Wrap && !Outer.count(S.Anchor)) {
      Outer[S.Anchor] = "{ ";
      After[S.Anchor] += " }";
    }
  };

  // --- Decisions: operators that run an operand only sometimes ---------------
  for (Decision &D : Decisions)
    for (const Stop &S : Stops)
      if (S.Anchor == D.Anchor && encloses(D.Second, S.Call)) {
        D.Lo = D.Hi == 0 ? S.Index : std::min(D.Lo, S.Index);
        D.Hi = std::max(D.Hi, S.Index);
      }
  auto DoDecision = [&](const Decision *D) {
    std::string Guard = guardOf(D->Anchor, D->Op);
    std::string First = text(D->First->getSourceRange());
    std::string Id = std::to_string(D->Id) + "u";
    const auto *B = dyn_cast<BinaryOperator>(D->Op);
    std::string Text, Replace;
    if (B && B->isCommaOp()) {
      // The left operand runs before the stops of the right one.
      Text = "if (" + (Guard.empty() ? "" : Guard + " && ") +
             "!cleave_r.skipping()) (void)(" + First + "); ";
      Replace = "(void)0";
    } else {
      bool Or = B && B->getOpcode() == BO_LOr;
      // While resuming: the operand that holds the resume point is taken,
      // and a decision taken before an earlier stop comes from the frame.
      std::string In = D->Hi != 0 ? "cleave_r.in(" + std::to_string(D->Lo) +
                                        "u, " + std::to_string(D->Hi) + "u)"
                                  : std::string("false");
      std::string Keep;
      if (!D->FlagAt.empty()) {
        Keep = "cleave_r.keep(" + Id + ", " + carrierList(D->FlagAt) + "); ";
        In = "cleave_r.kept(" + Id + ", " + In + ")";
      }
      Text = "cleave_r.decide(" + Id + ", cleave_r.skipping() ? " + In + " : " +
             (Or ? "!" : "") + "static_cast<bool>(" + First + ")); ";
      if (!Guard.empty())
        Text = "if (" + Guard + ") " + Text;
      Text = Keep + Text;
      Replace = std::string(Or ? "!" : "") + "cleave_r.decided(" + Id + ")";
    }
    Rw.ReplaceText(CharSourceRange::getCharRange(
                       SM.getFileLoc(D->First->getBeginLoc()),
                       endOfToken(D->First->getEndLoc())),
                   Replace);
    Items[D->Anchor].push_back({offsetOf(D->Second->getBeginLoc()), Text});
  };
  // Inner ones first: the text of a call's arguments, or of a condition,
  // holds what the calls and operators inside it were rewritten to.
  auto Length = [&](const Stmt *X) {
    return offsetOf(X->getEndLoc()) - offsetOf(X->getBeginLoc());
  };
  std::vector<std::pair<unsigned, std::function<void()>>> Work;
  for (Stop &S : Stops)
    Work.push_back({Length(S.Call), [&DoStop, &S] { DoStop(S); }});
  for (const Decision &D : Decisions)
    Work.push_back({Length(D.Op), [&DoDecision, &D] { DoDecision(&D); }});
  std::stable_sort(Work.begin(), Work.end(),
                   [](const auto &A, const auto &B) { return A.first < B.first; });
  for (auto &W : Work)
    W.second();
  if (!OK)
    return false;
  for (auto &[A, List] : Items) {
    std::stable_sort(List.begin(), List.end(),
                     [](const auto &X, const auto &Y) { return X.first < Y.first; });
    for (const auto &Item : List)
      Before[A] += Item.second;
  }

  // --- decltype(v) of a local held in a Local names a reference now ----------
  for (const DecltypeTypeLoc &TL : Decltypes) {
    const auto *R = dyn_cast_or_null<DeclRefExpr>(TL.getUnderlyingExpr());
    const VarDecl *V = R ? carriedVar(R->getDecl()) : nullptr;
    auto It = V ? CarrierOf.find(V) : CarrierOf.end();
    if (It == CarrierOf.end() || Carriers[It->second].How != Carrier::Slot ||
        V->getType()->isReferenceType() || TL.getBeginLoc().isMacroID())
      continue;
    // A replacement, not insertions: a declaration that starts with the
    // decltype is replaced as a whole later, and text inserted at its start
    // would be counted in and out of that range differently.
    SourceRange TR(SM.getFileLoc(TL.getBeginLoc()), SM.getFileLoc(TL.getEndLoc()));
    Rw.ReplaceText(CharSourceRange::getCharRange(TR.getBegin(),
                                                 endOfToken(TR.getEnd())),
                   "::std::remove_reference_t<" + text(TR) + ">");
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
                      SourceLocation End, bool &Fine,
                      const std::string *Written = nullptr) -> std::string {
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
        Written ? *Written
                : text(SM.getFileLoc(Begin), SM.getFileLoc(V->getLocation()));
    std::string InitText = text(NameEnd, SM.getFileLoc(End));
    QualType T = V->getType();
    if (T->isArrayType() || declaratorAroundName(TypeText)) {
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
      // `T &r = e;`, `T &r(e);` and `T &r{e};` bind r to e alike.
      std::string Init = trim(InitText);
      if (Init.size() >= 2 && ((Init.front() == '(' && Init.back() == ')') ||
                               (Init.front() == '{' && Init.back() == '}')))
        Init = "= " + Init.substr(1, Init.size() - 2);
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

  // `T a = x, *b = y;` with a or b in a Local is one declaration per name,
  // in order: `T a = x; T *b = y;`.
  auto SplitDecl = [&](const DeclStmt *DS) -> bool {
    const auto *V0 = dyn_cast<VarDecl>(*DS->decl_begin());
    if (!V0 || inMacro(DS) || V0->getTypeSpecEndLoc().isInvalid()) {
      MC.Report.error(DS->getBeginLoc(),
                      "declare each variable of this declaration on its own: "
                      "one of them lives across a boundary");
      return false;
    }
    SourceLocation SpecEnd = endOfToken(V0->getTypeSpecEndLoc());
    std::string Spec = text(SM.getFileLoc(DS->getBeginLoc()), SpecEnd);
    SourceLocation Prev = SpecEnd;
    std::string Out;
    for (const Decl *D : DS->decls()) {
      const auto *V = dyn_cast<VarDecl>(D);
      if (!V) {
        MC.Report.error(D->getLocation(),
                        "declare each variable of this declaration on its "
                        "own: one of them lives across a boundary");
        return false;
      }
      std::string Declarator =
          llvm::StringRef(text(Prev, SM.getFileLoc(V->getLocation())))
              .ltrim(" \t\n,")
              .str();
      std::string TypeText = Spec + " " + Declarator;
      SourceLocation End = endOfToken(V->getSourceRange().getEnd());
      // The stops (and decisions) of this declarator's initializer come
      // right before it, after the declarators before it.
      unsigned From = offsetOf(V->getLocation()), To = offsetOf(End);
      for (const auto &[Key, Text] : Items[DS])
        if (Key >= From && Key <= To)
          Out += Text;
      auto It = CarrierOf.find(V);
      if (It != CarrierOf.end() && Carriers[It->second].How == Carrier::Slot &&
          !Carriers[It->second].Param) {
        bool Fine = true;
        Out += DeclText(Carriers[It->second], nullptr, End, Fine, &TypeText) +
               " ";
        if (!Fine)
          return false;
      } else {
        Out += TypeText + text(SM.getFileLoc(V->getLocation()), End) + "; ";
      }
      Prev = End;
    }
    Rw.ReplaceText(CharSourceRange::getCharRange(SM.getFileLoc(DS->getBeginLoc()),
                                                 afterStmt(DS)),
                   Out);
    // What went before it is inside it now, also where a statement's head
    // takes the declaration in.
    Consumed.insert(DS);
    Before[DS].clear();
    return true;
  };
  llvm::DenseSet<const DeclStmt *> Split;
  // A declaration of several variables with a stop in an initializer: the
  // stop comes after the variables declared before it.
  for (const auto &[A, List] : Items)
    if (const auto *DS = dyn_cast<DeclStmt>(A); DS && !DS->isSingleDecl())
      if (Split.insert(DS).second)
        OK &= SplitDecl(DS);
  for (const Carrier &C : Carriers) {
    if (C.Param || C.LoopVar || C.How == Carrier::Remat)
      continue;
    const VarDecl *V = C.Var;
    const Stmt *P = parentOfDecl(V);
    const auto *DS = dyn_cast_or_null<DeclStmt>(P);
    if (!DS || isConditionVariable(V)) // written with its statement's head
      continue;
    if (!DS->isSingleDecl()) {
      if (Split.insert(DS).second)
        OK &= SplitDecl(DS);
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

  // --- Loops whose head is on the way -----------------------------------------
  // The text of the stops and decisions before a part of a head.
  auto Take = [&](const Stmt *A) -> std::string {
    if (!A)
      return {};
    Consumed.insert(A);
    return Before.count(A) ? Before[A] : std::string();
  };
  // The variable a condition declares, as a statement: restored or absent in
  // a Local when it lives across a stop, as written otherwise. \p End is
  // where its initializer ends.
  auto CondDecl = [&](const VarDecl *CV, SourceLocation End,
                      bool &Fine) -> std::string {
    auto It = CarrierOf.find(CV);
    if (It != CarrierOf.end() && Carriers[It->second].How == Carrier::Slot)
      return DeclText(Carriers[It->second], nullptr, End, Fine);
    if (CV->getLocation().isMacroID()) {
      MC.Report.error(CV->getLocation(),
                      "'" + CV->getNameAsString() +
                          "' is declared in a loop condition around a "
                          "boundary inside a macro expansion, which cannot be "
                          "rewritten");
      Fine = false;
      return {};
    }
    return text(SM.getFileLoc(CV->getBeginLoc()), SM.getFileLoc(End)) + ";";
  };
  // The test of a loop, inside `for (;;)`: while resuming, the step is past
  // it on its way to the resume point.
  auto Test = [&](const VarDecl *CV, const Expr *Cond, SourceLocation End,
                  bool &Fine) -> std::string {
    if (CV)
      return CondDecl(CV, End, Fine) +
             " if (!cleave_r.skipping() && !static_cast<bool>(" +
             CV->getNameAsString() + ")) break; ";
    if (Cond)
      return "if (!cleave_r.skipping() && !(" + text(Cond->getSourceRange()) +
             ")) break; ";
    return {};
  };
  // `continue` in the body of a loop whose next test or increment now
  // follows the body: a jump to it.
  auto Continues = [&](const Stmt *LoopBody, const std::string &Label) {
    std::vector<const ContinueStmt *> Found;
    std::function<void(const Stmt *)> Walk = [&](const Stmt *X) {
      if (!X || isa<ForStmt>(X) || isa<WhileStmt>(X) || isa<DoStmt>(X) ||
          isa<CXXForRangeStmt>(X) || isa<LambdaExpr>(X) || isa<BlockExpr>(X))
        return;
      if (const auto *C = dyn_cast<ContinueStmt>(X)) {
        Found.push_back(C);
        return;
      }
      for (const Stmt *Child : X->children())
        Walk(Child);
    };
    Walk(LoopBody);
    bool Fine = true;
    for (const ContinueStmt *C : Found) {
      if (C->getContinueLoc().isMacroID()) {
        MC.Report.error(C->getContinueLoc(),
                        "a continue inside a macro expansion cannot be "
                        "rewritten; its loop's head holds a boundary");
        Fine = false;
        continue;
      }
      Rw.ReplaceText(CharSourceRange::getCharRange(
                         C->getContinueLoc(), endOfToken(C->getContinueLoc())),
                     "goto " + Label);
    }
    return Fine;
  };
  // What guards a body when the resume point can be after it, in the
  // increment or the test of a do loop.
  auto BodyGuard = [&](const Stmt *LoopBody) -> std::string {
    if (!onPath(LoopBody))
      return "if (!cleave_r.skipping()) { ";
    auto [Lo, Hi] = rangeOf(LoopBody);
    return "if (!cleave_r.skipping() || cleave_r.in(" + std::to_string(Lo) +
           "u, " + std::to_string(Hi) + "u)) { ";
  };
  // while (c) b         for (;;) { S(c) if (!c) break; b }
  // do b while (c);     for (;;) { G { b } next: ; S(c) if (!c) break; }
  // for (i; c; n) b     { i for (;;) { S(c) if (!c) break; G { b }
  //                                     next: ; S(n) n; } }
  // S(x) is the stops of x; G guards the body when the step can resume after
  // it (in n or the do loop's c); a continue in b jumps to next.
  auto LoopHead = [&](const Stmt *L) -> bool {
    bool Fine = true;
    std::string Label = "cleave_next" + std::to_string(++Counter);
    if (const auto *W = dyn_cast<WhileStmt>(L)) {
      std::string Head = "for (;;) { " + Take(W->getConditionVariableDeclStmt()) +
                         Take(W->getCond());
      Head += Test(W->getConditionVariable(), W->getCond(), W->getRParenLoc(),
                   Fine);
      Rw.ReplaceText(CharSourceRange::getCharRange(
                         SM.getFileLoc(W->getWhileLoc()),
                         endOfToken(W->getRParenLoc())),
                     Head);
      After[W] = " }" + After[W];
      return Fine;
    }
    if (const auto *D = dyn_cast<DoStmt>(L)) {
      std::string Tail = "} " + Label + ": ; " + Take(D->getCond()) +
                         Test(nullptr, D->getCond(), {}, Fine) + "}";
      Fine &= Continues(D->getBody(), Label);
      Rw.ReplaceText(CharSourceRange::getCharRange(SM.getFileLoc(D->getDoLoc()),
                                                   endOfToken(D->getDoLoc())),
                     "for (;;) { " + BodyGuard(D->getBody()));
      Rw.ReplaceText(CharSourceRange::getCharRange(
                         SM.getFileLoc(D->getWhileLoc()), afterStmt(D)),
                     Tail);
      return Fine;
    }
    const auto *F = cast<ForStmt>(L);
    std::string Head = "{ ";
    if (const Stmt *Init = F->getInit())
      Head += Take(Init) +
              text(SM.getFileLoc(Init->getBeginLoc()), afterStmt(Init)) + " ";
    Head += "for (;;) { " + Take(F->getConditionVariableDeclStmt()) +
            Take(F->getCond());
    if (const VarDecl *CV = F->getConditionVariable()) {
      // The condition's initializer ends at the second semicolon.
      std::optional<Token> Semi =
          Lexer::findNextToken(SM.getFileLoc(CV->getEndLoc()), SM, LO);
      if (!Semi || Semi->isNot(tok::semi)) {
        MC.Report.error(CV->getLocation(),
                        "cannot find the end of the condition declaring '" +
                            CV->getNameAsString() + "'");
        return false;
      }
      Head += Test(CV, nullptr, Semi->getLocation(), Fine);
    } else {
      Head += Test(nullptr, F->getCond(), {}, Fine);
    }
    std::string Tail;
    if (const Expr *Inc = F->getInc()) {
      Fine &= Continues(F->getBody(), Label);
      Head += onPath(Inc) ? BodyGuard(F->getBody()) : "{ ";
      Tail = " } " + Label + ": ; " + Take(Inc) + "(void)(" +
             text(Inc->getSourceRange()) + "); } }";
    } else {
      Tail = " } }";
    }
    Rw.ReplaceText(CharSourceRange::getCharRange(SM.getFileLoc(F->getForLoc()),
                                                 endOfToken(F->getRParenLoc())),
                   Head);
    // Inside what goes around the loop (a block's guard).
    After[F] = Tail + After[F];
    return Fine;
  };

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
      // `if constexpr` takes the same branch in every step: the one that
      // holds the resume point, and its condition stays a constant.
      if (InBranch && !If->isConstexpr())
        Cond = "cleave_r.skipping() ? " + Branches(If->getThen()) +
               " : " + Cond;
      if (!If->getInit() && !CV) {
        if (InBranch && !If->isConstexpr())
          Rw.ReplaceText(CharSourceRange::getTokenRange(
                             SM.getFileLoc(If->getCond()->getBeginLoc()),
                             SM.getFileLoc(If->getCond()->getEndLoc())),
                         Cond);
        continue;
      }
      // `if (init; T v = e)` is `{ init; T v = e; if (v) ... }`. The stops
      // of the condition (of e, when it declares v) come before v, which
      // takes the value of the call they make.
      std::string Head = "{ ";
      if (const Stmt *Init = If->getInit()) {
        Head += Before[Init];
        Consumed.insert(Init);
        Head += text(SM.getFileLoc(Init->getBeginLoc()), afterStmt(Init)) + " ";
      }
      Head += Before[If];
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
      Consumed.insert(If);
      Rw.ReplaceText(CharSourceRange::getTokenRange(SM.getFileLoc(If->getIfLoc()),
                                                    SM.getFileLoc(If->getRParenLoc())),
                     Head + (If->isConstexpr() ? "if constexpr (" : "if (") +
                         Cond + ")");
      After[If] += " }";
      continue;
    }
    // A loop whose head holds a stop (or declares a variable that lives
    // around one) becomes `for (;;)` with its test inside; see LoopHead.
    if ((isa<WhileStmt>(S) || isa<DoStmt>(S) || isa<ForStmt>(S)) &&
        headOnPath(S)) {
      OK &= LoopHead(S);
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
      // `switch (init; T v = e)` is `{ init; T v = e; switch (v) }`; the
      // jumps to the case that holds the resume point come after v.
      std::string Jumps;
      auto Blockify = [&] {
        const Stmt *Init = Sw->getInit();
        const VarDecl *CV = Sw->getConditionVariable();
        if (!Init && !CV) {
          Before[Sw] += Jumps;
          return;
        }
        std::string Head = "{ ";
        if (Init) {
          Head += Before[Init];
          Consumed.insert(Init);
          Head += text(SM.getFileLoc(Init->getBeginLoc()), afterStmt(Init)) + " ";
        }
        Head += Before[Sw];
        Consumed.insert(Sw);
        std::string Cond;
        if (CV) {
          bool Fine = true;
          Head += CondDecl(CV, Sw->getRParenLoc(), Fine) + " ";
          OK &= Fine;
          Cond = CV->getNameAsString();
        } else {
          Cond = text(Sw->getCond()->getSourceRange());
        }
        Rw.ReplaceText(CharSourceRange::getCharRange(
                           SM.getFileLoc(Sw->getSwitchLoc()),
                           endOfToken(Sw->getRParenLoc())),
                       Head + Jumps + "switch (" + Cond + ")");
        After[Sw] += " }";
      };
      if (!CS || !onPath(CS)) {
        Blockify();
        continue;
      }
      // Enter at the case before the statement that holds the resume point.
      const Stmt *Label = nullptr;
      // In the order of the cases: the labels are numbered as they come.
      llvm::MapVector<const Stmt *, std::pair<unsigned, unsigned>> Regions;
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
      Jumps = "if (cleave_r.skipping()) { " + Jumps + "} ";
      Blockify();
      continue;
    }
  }
  if (!OK)
    return false;

  // --- Handlers on the way ---------------------------------------------------
  // A handler that holds a resume point keeps the exception it caught; a
  // step resuming in it enters its try block and throws that exception
  // again before anything else, so that the handler takes it as it took the
  // original (docs/splitting.md, "Exceptions").
  llvm::MapVector<const CXXTryStmt *, std::pair<unsigned, unsigned>> Rethrow;
  auto LBrace = [&](const Stmt *Block) {
    SourceLocation L = SM.getFileLoc(cast<CompoundStmt>(Block)->getLBracLoc());
    return CharSourceRange::getTokenRange(L, L);
  };
  for (const Handler &H : Handlers) {
    auto [Lo, Hi] = rangeOf(H.Catch);
    auto [It, New] = Rethrow.try_emplace(H.Try, Lo, Hi);
    if (!New) {
      It->second.first = std::min(It->second.first, Lo);
      It->second.second = std::max(It->second.second, Hi);
    }
    Rw.ReplaceText(LBrace(H.Catch->getHandlerBlock()),
                   "{ cleave_r.enterHandler(" + std::to_string(H.Id) + "u); ");
  }
  for (const auto &[T, LoHi] : Rethrow)
    Rw.ReplaceText(LBrace(T->getTryBlock()),
                   "{ if (cleave_r.skipping() && cleave_r.in(" +
                       std::to_string(LoHi.first) + "u, " +
                       std::to_string(LoHi.second) +
                       "u)) cleave_r.throwHandled(); ");

  // --- What goes around statements --------------------------------------------
  // Statements that start (or end) at one place nest: the outer one's text
  // goes outside. Text inserted before a place goes in front of what is
  // there, so the inner statements go first; text inserted after it goes
  // behind, so the inner statements go first there too.
  auto Span = [&](const Stmt *S) {
    return std::make_pair(offsetOf(S->getBeginLoc()),
                          offsetOf(afterStmt(S)));
  };
  auto InnerFirst = [&](const Stmt *A, const Stmt *B) {
    auto [AB, AE] = Span(A);
    auto [BB, BE] = Span(B);
    if (AB != BB)
      return AB > BB;
    return AE < BE;
  };
  std::vector<const Stmt *> Starts;
  for (const auto &[S, Text] : Outer)
    Starts.push_back(S);
  for (const auto &[S, Text] : Before)
    if (!Outer.count(S))
      Starts.push_back(S);
  std::stable_sort(Starts.begin(), Starts.end(), InnerFirst);
  for (const Stmt *S : Starts) {
    std::string Text = Outer[S] + (Consumed.count(S) ? "" : Before[S]);
    if (!Text.empty())
      Rw.InsertTextBefore(SM.getFileLoc(S->getBeginLoc()), Text);
  }
  std::vector<const Stmt *> Ends;
  for (const auto &[S, Text] : After)
    if (!Text.empty())
      Ends.push_back(S);
  std::stable_sort(Ends.begin(), Ends.end(), [&](const Stmt *A, const Stmt *B) {
    auto [AB, AE] = Span(A);
    auto [BB, BE] = Span(B);
    if (AE != BE)
      return AE < BE;
    return AB > BB; // the inner one starts later
  });
  for (const Stmt *S : Ends)
    Rw.InsertTextAfter(afterStmt(S), After[S]);
  return OK;
}

} // namespace machine
} // namespace cleave
