//===- StateMachine.cpp - Cut a function into resumable steps ------------===//

#include "cleave/Emit/StateMachine.h"

#include "cleave/Analysis/StateUse.h"
#include "cleave/Emit/Glue.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Index/USRGeneration.h"
#include "clang/Analysis/Analyses/LiveVariables.h"
#include "clang/Analysis/AnalysisDeclContext.h"
#include "clang/Analysis/CFG.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <functional>
#include <set>

using namespace clang;

namespace cleave {

namespace {

/// One suspension found in the body.
struct Site {
  const CallExpr *Call = nullptr;
  const Suspension *Plan = nullptr;
  const FunctionDecl *Callee = nullptr; ///< the function that runs
  unsigned Index = 0;                   ///< resume point, from 1
  const Stmt *Anchor = nullptr;         ///< the statement it stops before
  bool Wrap = false;                    ///< Anchor needs braces around it
  std::string ResultCode;               ///< callee's value type, "void"
  std::string ElemCode;                 ///< fan-out: one element's value
  std::string TempName;                 ///< holds the value after resuming
  std::string Prologue;
  std::string Layout;                   ///< "0x1234abcdu"
};

/// A range-for around a suspension, rewritten to walk its range by index.
struct IndexedLoop {
  const CXXForRangeStmt *Loop = nullptr;
  std::string Index;      ///< "cleave_i1"
  std::string RangeText;  ///< the range, rewritten
  const VarDecl *Root = nullptr; ///< the local variable the range names
};

/// How a local lives in the machine when a resume would jump over its
/// declaration.
struct Hoisted {
  std::string Name;      ///< its name in the machine
  bool ByPointer = false; ///< a reference: held as a pointer
  std::string CodeType;  ///< the value type, or the pointee type
};

/// A value in a continuation frame.
struct Carried {
  const VarDecl *Var = nullptr; ///< or null for a loop index / temporary
  std::string Code;             ///< how the machine names it
  std::string Display;
  QualType Type;
  std::string TypeName; ///< for people, when not from Type
};

std::string usrOf(const Decl *D) {
  llvm::SmallString<128> Buf;
  if (index::generateUSRForDecl(D->getCanonicalDecl(), Buf))
    return {};
  return std::string(Buf);
}

/// FNV-1a over \p Text: the layout fingerprint of a continuation frame.
uint32_t fingerprint(llvm::StringRef Text) {
  uint32_t H = 2166136261u;
  for (unsigned char C : Text) {
    H ^= C;
    H *= 16777619u;
  }
  return H;
}

class BodyScan : public RecursiveASTVisitor<BodyScan> {
public:
  bool TraverseLambdaExpr(LambdaExpr *E) {
    Lambdas.push_back(E);
    ++LambdaDepth;
    bool R = RecursiveASTVisitor::TraverseLambdaExpr(E);
    --LambdaDepth;
    return R;
  }
  bool VisitCallExpr(CallExpr *E) {
    Calls.push_back({E, LambdaDepth ? Lambdas.back() : nullptr});
    return true;
  }
  bool VisitReturnStmt(ReturnStmt *S) {
    if (!LambdaDepth)
      Returns.push_back(S);
    return true;
  }
  bool VisitDeclRefExpr(DeclRefExpr *E) {
    Refs.push_back(E);
    return true;
  }
  bool VisitVarDecl(VarDecl *V) {
    if (!LambdaDepth && !isa<ParmVarDecl>(V))
      Locals.push_back(V);
    return true;
  }
  bool VisitGotoStmt(GotoStmt *S) {
    if (!LambdaDepth)
      Gotos.push_back(S);
    return true;
  }
  bool VisitIndirectGotoStmt(IndirectGotoStmt *S) {
    if (!LambdaDepth)
      IndirectGotos.push_back(S);
    return true;
  }

  std::vector<std::pair<const CallExpr *, const LambdaExpr *>> Calls;
  std::vector<const ReturnStmt *> Returns;
  std::vector<const DeclRefExpr *> Refs;
  std::vector<const VarDecl *> Locals;
  std::vector<const LambdaExpr *> Lambdas;
  std::vector<const GotoStmt *> Gotos;
  std::vector<const IndirectGotoStmt *> IndirectGotos;

private:
  unsigned LambdaDepth = 0;
};

class MachineBuilder {
public:
  MachineBuilder(MachineContext &MC, const FunctionDecl *FD, FunctionNode &N)
      : MC(MC), Ctx(MC.Ctx), SM(Ctx.getSourceManager()),
        LO(Ctx.getLangOpts()), FD(FD), Node(N), Body(FD->getBody()) {}

  bool run(std::string &Out);

private:
  // --- Locations and text -------------------------------------------------

  SourceLocation endOfToken(SourceLocation L) const {
    return Lexer::getLocForEndOfToken(SM.getFileLoc(L), 0, SM, LO);
  }
  bool tokenIs(SourceLocation L, llvm::StringRef Spelling) const {
    L = SM.getFileLoc(L);
    SourceLocation E = endOfToken(L);
    if (E.isInvalid())
      return false;
    return Lexer::getSourceText(CharSourceRange::getCharRange(L, E), SM, LO) ==
           Spelling;
  }
  /// The location just past \p S, its semicolon included.
  SourceLocation afterStmt(const Stmt *S) const {
    SourceLocation End = SM.getFileLoc(S->getEndLoc());
    if (tokenIs(End, ";") || tokenIs(End, "}"))
      return endOfToken(End);
    SourceLocation After = Lexer::findLocationAfterToken(
        End, tok::semi, SM, LO, /*SkipTrailingWhitespaceAndNewLine=*/false);
    return After.isValid() ? After : endOfToken(End);
  }
  /// The rewritten text of \p R. A character range: a token range whose
  /// last token was replaced would be cut at the replacement's old length.
  std::string text(SourceRange R) const {
    return Rw.getRewrittenText(CharSourceRange::getCharRange(
        SM.getFileLoc(R.getBegin()), endOfToken(R.getEnd())));
  }
  /// Whether \p Inner lies within the source range of \p Outer.
  bool encloses(const Stmt *Outer, const Stmt *Inner) const {
    if (!Outer || !Inner)
      return false;
    SourceLocation B = SM.getFileLoc(Outer->getBeginLoc());
    SourceLocation E = SM.getFileLoc(Outer->getEndLoc());
    SourceLocation At = SM.getFileLoc(Inner->getBeginLoc());
    return !SM.isBeforeInTranslationUnit(At, B) &&
           !SM.isBeforeInTranslationUnit(E, At);
  }
  bool inMacro(const Stmt *S) const {
    return S->getBeginLoc().isMacroID() || S->getEndLoc().isMacroID();
  }
  std::string typeCode(QualType T) const {
    return codeTypeName(T.getNonReferenceType().getUnqualifiedType(), Ctx);
  }
  std::string typeDisplay(QualType T) const {
    return displayTypeName(T.getNonReferenceType().getUnqualifiedType(), Ctx);
  }

  // --- Parents --------------------------------------------------------------

  /// The parent statement of \p S, looking through declarations.
  const Stmt *parentOf(const Stmt *S) const {
    DynTypedNodeList Ps = Ctx.getParents(*S);
    while (!Ps.empty()) {
      if (const auto *P = Ps[0].get<Stmt>())
        return P;
      if (const auto *D = Ps[0].get<Decl>()) {
        if (isa<FunctionDecl>(D) || isa<BlockDecl>(D))
          return nullptr;
        Ps = Ctx.getParents(*D);
        continue;
      }
      return nullptr;
    }
    return nullptr;
  }

  // --- Steps ----------------------------------------------------------------

  bool findSites();
  bool placeSite(Site &S);
  bool checkGotos();
  void findHoisted();
  void hoistDeclsBefore(const Stmt *Child, const Stmt *Parent);
  void hoist(const VarDecl *V);
  bool computeLiveness();
  bool checkCarried(const Site &S, std::vector<Carried> &Set);
  std::vector<const VarDecl *> headReads(const Site &S);
  QualType carriedElementType(QualType T) const;
  bool emptyThenAssignable(QualType T) const;
  void computeEdges(CFG &G);
  bool checkLoops();
  bool rewriteBody();
  std::string assemble();
  std::string oneStepMachine();
  std::string entryAdapters();
  unsigned estimateBytes(QualType T, unsigned Depth = 0) const;

  MachineContext &MC;
  ASTContext &Ctx;
  SourceManager &SM;
  const LangOptions &LO;
  const FunctionDecl *FD;
  FunctionNode &Node;
  const Stmt *Body;
  Rewriter Rw;
  BodyScan Scan;

  std::vector<Site> Sites;
  std::vector<IndexedLoop> Loops;
  llvm::DenseMap<const VarDecl *, Hoisted> Hoist;
  std::vector<const VarDecl *> HoistOrder;
  std::vector<std::vector<Carried>> Live; // per site
  std::vector<std::vector<unsigned>> From; // per site
  std::string ReturnCode; // the function's value type, "void"
  std::string Symbol;
  std::string MachineFn;
  unsigned Counter = 0;
};

bool MachineBuilder::findSites() {
  Scan.TraverseStmt(const_cast<Stmt *>(Body));
  bool OK = true;
  for (const auto &[Call, Lambda] : Scan.Calls) {
    if (Call->getBeginLoc().isInvalid())
      continue;
    // A function that stops at boundaries cannot call itself: the inner call
    // would have to stop too, inside a step of the outer one.
    if (const FunctionDecl *Direct = Call->getDirectCallee();
        Direct && Direct->getCanonicalDecl() == FD->getCanonicalDecl()) {
      MC.Report.error(Call->getBeginLoc(),
                      "recursion through a boundary: '" + Node.Name +
                          "' calls itself, and a chain of steps cannot call "
                          "itself");
      MC.Report.note(FD->getLocation(), "'" + Node.Name + "' is defined here");
      OK = false;
      continue;
    }
    const Suspension *Sp = MC.Plan.find(Node.USR, MC.PosOf(Call->getBeginLoc()));
    if (!Sp)
      continue;
    // Several calls may start at one position (`f(x) + s`, `f(x).size()`):
    // the suspension is the one that calls its callee.
    const FunctionDecl *Direct = Call->getDirectCallee();
    if (!Direct)
      continue;
    if (Sp->Kind == SuspensionKind::FanOut
            ? Direct->getName() != "parallel_map"
            : usrOf(Direct) != Sp->Callee)
      continue;
    if (Lambda) {
      MC.Report.error(Call->getBeginLoc(),
                      "a boundary cannot be reached from inside a lambda: "
                      "the lambda's caller could not be resumed after it");
      MC.Report.note(Lambda->getBeginLoc(), "the lambda is here");
      OK = false;
      continue;
    }
    Site S;
    S.Call = Call;
    S.Plan = Sp;
    if (Sp->Kind == SuspensionKind::FanOut) {
      const Expr *Fn = Call->getArg(1)->IgnoreParenImpCasts();
      if (const auto *U = dyn_cast<UnaryOperator>(Fn))
        Fn = U->getSubExpr()->IgnoreParenImpCasts();
      if (const auto *Ref = dyn_cast<DeclRefExpr>(Fn))
        S.Callee = dyn_cast<FunctionDecl>(Ref->getDecl());
    } else {
      S.Callee = Call->getDirectCallee();
    }
    if (!S.Callee)
      continue;
    if (Sp->Recursive) {
      MC.Report.error(Call->getBeginLoc(),
                      "recursion through a boundary: '" +
                          S.Callee->getNameAsString() + "' reaches '" +
                          Node.Name +
                          "' again, and a chain of steps cannot call itself");
      MC.Report.note(FD->getLocation(), "'" + Node.Name + "' is defined here");
      OK = false;
      continue;
    }
    Sites.push_back(S);
  }
  // Evaluation order: a call's arguments before the call.
  std::stable_sort(Sites.begin(), Sites.end(), [&](const Site &A, const Site &B) {
    return SM.isBeforeInTranslationUnit(SM.getFileLoc(A.Call->getEndLoc()),
                                        SM.getFileLoc(B.Call->getEndLoc()));
  });
  for (size_t I = 0; I < Sites.size(); ++I)
    Sites[I].Index = static_cast<unsigned>(I + 1);
  for (Site &S : Sites)
    OK &= placeSite(S);
  return OK;
}

/// Finds the statement a suspension stops before, and rejects the places
/// a step cannot resume in.
bool MachineBuilder::placeSite(Site &S) {
  const Stmt *Child = S.Call;
  auto Fail = [&](const std::string &Why, SourceLocation NoteAt,
                  const std::string &Note) {
    MC.Report.error(S.Call->getBeginLoc(), Why);
    if (NoteAt.isValid())
      MC.Report.note(NoteAt, Note);
    return false;
  };
  if (inMacro(S.Call))
    return Fail("a boundary call cannot be cut inside a macro expansion", {},
                "");
  // Nothing above the call may be a try block or a handler, at any depth.
  for (const Stmt *P = parentOf(S.Call); P; P = parentOf(P))
    if (isa<CXXTryStmt>(P) || isa<CXXCatchStmt>(P))
      return Fail("a boundary inside a try block cannot be resumed: the "
                  "handler would not be there when the callee throws",
                  P->getBeginLoc(), "the try block is here");
  for (const Stmt *P = parentOf(Child); P; Child = P, P = parentOf(P)) {
    if (isa<CompoundStmt>(P)) {
      S.Anchor = Child;
      return true;
    }
    if (isa<CaseStmt>(P) || isa<DefaultStmt>(P) || isa<LabelStmt>(P)) {
      if (cast<Stmt>(P)->children().empty())
        continue;
      S.Anchor = Child;
      return true;
    }
    if (const auto *If = dyn_cast<IfStmt>(P)) {
      if (Child == If->getThen() || Child == If->getElse()) {
        S.Anchor = Child;
        S.Wrap = true;
        return true;
      }
      if (If->getInit() && Child != If->getInit())
        return Fail("a boundary in the condition of an if statement with an "
                    "init-statement cannot be cut; declare the variable "
                    "before the if",
                    If->getInit()->getBeginLoc(), "the init-statement is here");
      continue;
    }
    // A statement that is a loop's whole body gets braces around it.
    auto LoopBody = [&](const Stmt *LoopBodyStmt) {
      if (Child != LoopBodyStmt)
        return false;
      S.Anchor = Child;
      S.Wrap = true;
      return true;
    };
    const Stmt *WhileBody = nullptr;
    if (const auto *W = dyn_cast<WhileStmt>(P))
      WhileBody = W->getBody();
    else if (const auto *D = dyn_cast<DoStmt>(P))
      WhileBody = D->getBody();
    if (WhileBody) {
      if (LoopBody(WhileBody))
        return true;
      return Fail("a boundary in a loop condition cannot be resumed; call it "
                  "in the loop body and keep the result in a variable",
                  P->getBeginLoc(), "the loop is here");
    }
    if (const auto *F = dyn_cast<ForStmt>(P)) {
      if (LoopBody(F->getBody()))
        return true;
      if (Child == F->getInit())
        continue;
      return Fail("a boundary in a loop condition or increment cannot be "
                  "resumed; call it in the loop body",
                  F->getBeginLoc(), "the loop is here");
    }
    if (const auto *R = dyn_cast<CXXForRangeStmt>(P)) {
      if (LoopBody(R->getBody()))
        return true;
      continue;
    }
    if (const auto *Sw = dyn_cast<SwitchStmt>(P)) {
      if (Child == Sw->getBody()) {
        S.Anchor = Child;
        return true;
      }
      if (Sw->getInit() && Child != Sw->getInit())
        return Fail("a boundary in the condition of a switch statement with "
                    "an init-statement cannot be cut; declare the variable "
                    "before the switch",
                    Sw->getInit()->getBeginLoc(), "the init-statement is here");
      continue;
    }
    if (const auto *C = dyn_cast<AbstractConditionalOperator>(P)) {
      if (Child != C->getCond())
        return Fail("a boundary in an operand of ?: cannot be cut; use an "
                    "if statement",
                    P->getBeginLoc(), "the conditional expression is here");
      continue;
    }
    if (const auto *B = dyn_cast<BinaryOperator>(P)) {
      if ((B->isLogicalOp() || B->isCommaOp()) && Child == B->getRHS())
        return Fail("a boundary in the right operand of " +
                        B->getOpcodeStr().str() +
                        " cannot be cut; use an if statement",
                    P->getBeginLoc(), "the operator is here");
      continue;
    }
    if (isa<StmtExpr>(P))
      return Fail("a boundary inside a statement expression cannot be cut",
                  P->getBeginLoc(), "the statement expression is here");
  }
  return Fail("cannot find the statement around this boundary call", {}, "");
}

bool MachineBuilder::checkGotos() {
  bool OK = true;
  for (const IndirectGotoStmt *G : Scan.IndirectGotos) {
    MC.Report.error(G->getBeginLoc(),
                    "a computed goto in a function with boundaries cannot "
                    "be resumed");
    MC.Report.note(Sites.front().Call->getBeginLoc(), "the boundary is here");
    OK = false;
  }
  for (const GotoStmt *G : Scan.Gotos) {
    SourceLocation From = SM.getFileLoc(G->getBeginLoc());
    SourceLocation To = SM.getFileLoc(G->getLabel()->getLocation());
    bool Forward = SM.isBeforeInTranslationUnit(From, To);
    SourceLocation Lo = Forward ? From : To, Hi = Forward ? To : From;
    for (const Site &S : Sites) {
      SourceLocation At = SM.getFileLoc(S.Call->getBeginLoc());
      if (SM.isBeforeInTranslationUnit(Lo, At) &&
          SM.isBeforeInTranslationUnit(At, Hi)) {
        MC.Report.error(G->getBeginLoc(),
                        "this goto jumps across a boundary; a function cut "
                        "into steps cannot be resumed on the other side");
        MC.Report.note(S.Call->getBeginLoc(), "the boundary is here");
        MC.Report.note(G->getLabel()->getLocation(), "the label is here");
        OK = false;
        break;
      }
    }
  }
  return OK;
}

void MachineBuilder::hoist(const VarDecl *V) {
  if (V->isImplicit() || !V->hasLocalStorage() || isa<ParmVarDecl>(V) ||
      Hoist.count(V))
    return;
  Hoisted H;
  QualType T = V->getType();
  const Expr *Init = V->getInit();
  bool BindsTemporary =
      Init && isa<MaterializeTemporaryExpr>(Init->IgnoreImpCasts());
  if (T->isReferenceType() && !BindsTemporary) {
    H.ByPointer = true;
    H.Name = "cleave_ref_" + V->getNameAsString() + "_" +
             std::to_string(++Counter);
  } else {
    H.Name = V->getNameAsString();
  }
  // A pointer keeps the constness of what it points to.
  H.CodeType = H.ByPointer ? codeTypeName(T.getNonReferenceType(), Ctx)
                           : typeCode(T);
  // An iterator from find() on a map stored per key is the per-key view's.
  if (const VarDecl *SV = findIteratorSource(V)) {
    std::string Name = qualifiedName(SV);
    if (MC.Plan.PerKey.count(Name))
      H.CodeType = "::cleave::rt::KeyedState<decltype(::" + Name +
                   ")>::iterator";
  }
  Hoist[V] = H;
  HoistOrder.push_back(V);
}

void MachineBuilder::hoistDeclsBefore(const Stmt *Child, const Stmt *P) {
  auto FromDeclStmt = [&](const Stmt *S) {
    if (const auto *DS = dyn_cast_or_null<DeclStmt>(S))
      for (const Decl *D : DS->decls())
        if (const auto *V = dyn_cast<VarDecl>(D))
          hoist(V);
  };
  if (const auto *C = dyn_cast<CompoundStmt>(P)) {
    for (const Stmt *S : C->body()) {
      if (S == Child)
        break;
      while (const auto *L = dyn_cast<LabelStmt>(S))
        S = L->getSubStmt();
      FromDeclStmt(S);
    }
  } else if (const auto *F = dyn_cast<ForStmt>(P)) {
    if (Child != F->getInit())
      FromDeclStmt(F->getInit());
    if (F->getConditionVariable())
      hoist(F->getConditionVariable());
  } else if (const auto *If = dyn_cast<IfStmt>(P)) {
    if (Child == If->getThen() || Child == If->getElse()) {
      FromDeclStmt(If->getInit());
      if (If->getConditionVariable())
        hoist(If->getConditionVariable());
    }
  } else if (const auto *W = dyn_cast<WhileStmt>(P)) {
    if (W->getConditionVariable())
      hoist(W->getConditionVariable());
  } else if (const auto *Sw = dyn_cast<SwitchStmt>(P)) {
    if (Child == Sw->getBody()) {
      FromDeclStmt(Sw->getInit());
      if (Sw->getConditionVariable())
        hoist(Sw->getConditionVariable());
    }
  } else if (const auto *R = dyn_cast<CXXForRangeStmt>(P)) {
    if (Child == R->getBody()) {
      bool Known = false;
      for (const IndexedLoop &L : Loops)
        Known |= L.Loop == R;
      if (!Known) {
        IndexedLoop L;
        L.Loop = R;
        L.Index = "cleave_i" + std::to_string(++Counter);
        Loops.push_back(L);
      }
      hoist(R->getLoopVariable());
      FromDeclStmt(R->getInit());
    }
  }
}

void MachineBuilder::findHoisted() {
  for (const Site &S : Sites) {
    const Stmt *Child = S.Anchor;
    for (const Stmt *P = parentOf(Child); P && Child != Body;
         Child = P, P = parentOf(P))
      hoistDeclsBefore(Child, P);
  }
  // Names: a hoisted local shares the machine's scope with the parameters
  // and the other hoisted locals.
  llvm::StringSet<> Taken;
  for (const ParmVarDecl *P : FD->parameters())
    Taken.insert(P->getName());
  for (const VarDecl *V : HoistOrder) {
    Hoisted &H = Hoist[V];
    if (H.ByPointer)
      continue;
    if (!Taken.insert(H.Name).second)
      H.Name += "_cleave" + std::to_string(++Counter);
  }
}

unsigned MachineBuilder::estimateBytes(QualType T, unsigned Depth) const {
  T = T.getNonReferenceType().getCanonicalType().getUnqualifiedType();
  if (Depth > 4)
    return 8;
  if (T->isBooleanType())
    return 1;
  if (T->isScalarType())
    return static_cast<unsigned>(Ctx.getTypeSize(T) / 8);
  if (const auto *A = Ctx.getAsConstantArrayType(T))
    return static_cast<unsigned>(A->getSize().getZExtValue()) *
           estimateBytes(A->getElementType(), Depth + 1);
  const auto *RD = T->getAsCXXRecordDecl();
  if (!RD)
    return 8;
  auto Arg = [&](unsigned I) -> QualType {
    if (const auto *S = dyn_cast<ClassTemplateSpecializationDecl>(RD))
      if (I < S->getTemplateArgs().size() &&
          S->getTemplateArgs()[I].getKind() == TemplateArgument::Type)
        return S->getTemplateArgs()[I].getAsType();
    return {};
  };
  if (RD->isInStdNamespace()) {
    llvm::StringRef Name = RD->getName();
    if (Name == "basic_string")
      return 8 + 16;
    if (Name == "optional" && !Arg(0).isNull())
      return 1 + estimateBytes(Arg(0), Depth + 1);
    if ((Name == "vector" || Name == "deque" || Name == "list" ||
         Name == "set") &&
        !Arg(0).isNull())
      return 8 + 4 * estimateBytes(Arg(0), Depth + 1);
    if ((Name == "map" || Name == "unordered_map") && !Arg(1).isNull())
      return 8 + 4 * (estimateBytes(Arg(0), Depth + 1) +
                      estimateBytes(Arg(1), Depth + 1));
  }
  unsigned Sum = 0;
  llvm::SmallVector<const FieldDecl *, 8> Fields;
  if (RD->hasDefinition())
    SerializableChecker::collectFields(RD, Fields);
  for (const FieldDecl *F : Fields)
    Sum += estimateBytes(F->getType(), Depth + 1);
  return Sum;
}

bool MachineBuilder::computeLiveness() {
  AnalysisDeclContextManager Mgr(Ctx);
  AnalysisDeclContext *AC = Mgr.getContext(FD);
  AC->getCFGBuildOptions().setAllAlwaysAdd();
  CFG *G = AC->getCFG();
  LiveVariables *LV = G ? AC->getAnalysis<LiveVariables>() : nullptr;
  if (!G || !LV) {
    MC.Report.error(FD->getLocation(),
                    "cannot analyse the control flow of '" + Node.Name +
                        "' to cut it into steps");
    return false;
  }
  std::vector<const VarDecl *> Vars(FD->param_begin(), FD->param_end());
  for (const VarDecl *V : Scan.Locals)
    if (V->hasLocalStorage() && !V->isImplicit())
      Vars.push_back(V);

  bool OK = true;
  Live.assign(Sites.size(), {});
  for (size_t I = 0; I < Sites.size(); ++I) {
    const Site &S = Sites[I];
    const CFGBlock *Block = nullptr;
    const Stmt *Next = nullptr;
    for (const CFGBlock *B : *G) {
      bool Found = false;
      for (auto It = B->begin(); It != B->end(); ++It) {
        auto CS = It->getAs<CFGStmt>();
        if (!CS)
          continue;
        if (Found) {
          Next = CS->getStmt();
          break;
        }
        Found = CS->getStmt() == S.Call;
      }
      if (Found) {
        Block = B;
        break;
      }
    }
    std::vector<Carried> Set;
    // Adds local \p V to the frame, once.
    auto Carry = [&](const VarDecl *V) {
      for (const Carried &X : Set)
        if (X.Var == V)
          return;
      Carried C;
      C.Var = V;
      C.Code = Hoist.count(V) ? Hoist[V].Name : V->getNameAsString();
      C.Display = V->getNameAsString();
      C.Type = V->getType();
      Set.push_back(C);
    };
    if (Block) {
      for (const VarDecl *V : Vars) {
        bool IsLive = Next ? LV->isLive(Next, V) : LV->isLive(Block, V);
        if (!IsLive)
          continue;
        // A reference from a range-for that walks by index is bound again
        // when the step resumes.
        bool Rebound = false;
        for (const IndexedLoop &L : Loops)
          Rebound |= L.Loop->getLoopVariable() == V && Hoist.count(V) &&
                     Hoist[V].ByPointer;
        if (!Rebound)
          Carry(V);
      }
    }
    // The rest of the statement runs after the resume: what it reads
    // travels even where the CFG evaluates it before the call (the
    // left-hand side of `acc += f(x)`).
    for (const VarDecl *V : headReads(S))
      if (std::count(Vars.begin(), Vars.end(), V))
        Carry(V);
    // Every range-for around the call goes on: its index and its range.
    for (const IndexedLoop &L : Loops) {
      if (!encloses(L.Loop->getBody(), S.Call))
        continue;
      Carried C;
      C.Code = L.Index;
      C.Display = L.Loop->getLoopVariable()->getNameAsString() + ".index";
      C.Type = Ctx.getSizeType();
      C.TypeName = "std::size_t";
      Set.push_back(C);
      if (L.Root)
        Carry(L.Root);
    }
    // Values of earlier calls in the same statement, not yet used.
    for (size_t J = 0; J < I; ++J) {
      const Site &E = Sites[J];
      if (E.Anchor != S.Anchor || E.ResultCode == "void")
        continue;
      SourceLocation B = SM.getFileLoc(S.Call->getBeginLoc());
      SourceLocation EB = SM.getFileLoc(E.Call->getBeginLoc());
      if (SM.isBeforeInTranslationUnit(B, EB) ||
          (B == EB && E.Call != S.Call))
        continue; // an argument of this call
      Carried C;
      C.Code = E.TempName;
      C.Display = E.Callee->getNameAsString() + "()";
      C.Type = E.Callee->getReturnType();
      if (E.Plan->Kind == SuspensionKind::FanOut)
        C.Type = QualType(); // the joined vector
      Set.push_back(C);
    }
    OK &= checkCarried(S, Set);
    Live[I] = std::move(Set);
  }
  computeEdges(*G);
  return OK;
}

std::vector<const VarDecl *> MachineBuilder::headReads(const Site &S) {
  // The part of the anchor statement that runs after the resume.
  std::vector<const Stmt *> Heads;
  const Stmt *A = S.Anchor;
  if (const auto *If = dyn_cast<IfStmt>(A))
    Heads = {If->getInit(), If->getCond()};
  else if (const auto *Sw = dyn_cast<SwitchStmt>(A))
    Heads = {Sw->getInit(), Sw->getCond()};
  else if (const auto *F = dyn_cast<ForStmt>(A))
    Heads = {F->getInit()};
  else if (const auto *R = dyn_cast<CXXForRangeStmt>(A))
    Heads = {R->getInit(), R->getRangeInit()};
  else if (isa<Expr>(A) || isa<DeclStmt>(A) || isa<ReturnStmt>(A))
    Heads = {A};
  llvm::SmallPtrSet<const Stmt *, 4> Skip;
  for (const Site &O : Sites)
    if (O.Anchor == S.Anchor && O.Index <= S.Index)
      Skip.insert(O.Call);
  // Variables the head declares itself are defined after the resume.
  llvm::SmallPtrSet<const VarDecl *, 4> Own;
  std::function<void(const Stmt *)> Declared = [&](const Stmt *X) {
    if (!X || isa<LambdaExpr>(X))
      return;
    if (const auto *DS = dyn_cast<DeclStmt>(X))
      for (const Decl *D : DS->decls())
        if (const auto *V = dyn_cast<VarDecl>(D))
          Own.insert(V);
    for (const Stmt *C : X->children())
      Declared(C);
  };
  for (const Stmt *H : Heads)
    Declared(H);
  if (const auto *If = dyn_cast<IfStmt>(A); If && If->getConditionVariable())
    Own.insert(If->getConditionVariable());
  if (const auto *Sw = dyn_cast<SwitchStmt>(A); Sw && Sw->getConditionVariable())
    Own.insert(Sw->getConditionVariable());
  std::vector<const VarDecl *> Out;
  std::function<void(const Stmt *)> Walk = [&](const Stmt *X) {
    if (!X || Skip.count(X) || isa<LambdaExpr>(X))
      return;
    if (const auto *B = dyn_cast<BinaryOperator>(X);
        B && B->getOpcode() == BO_Assign &&
        isa<DeclRefExpr>(B->getLHS()->IgnoreParens())) {
      Walk(B->getRHS());
      return;
    }
    if (const auto *R = dyn_cast<DeclRefExpr>(X))
      if (const auto *V = dyn_cast<VarDecl>(R->getDecl()))
        if (!Own.count(V) && std::find(Out.begin(), Out.end(), V) == Out.end())
          Out.push_back(V);
    for (const Stmt *C : X->children())
      Walk(C);
  };
  for (const Stmt *H : Heads)
    Walk(H);
  return Out;
}

/// Whether a hoisted local of type \p T can be declared empty (`T v{};`) at
/// the top of the machine and assigned where it was declared.
bool MachineBuilder::emptyThenAssignable(QualType T) const {
  T = T.getNonReferenceType().getCanonicalType();
  const auto *RD = T->getAsCXXRecordDecl();
  if (!RD || !RD->hasDefinition())
    return !T->isArrayType();
  RD = RD->getDefinition();
  if (RD->isAggregate() && !RD->isLambda())
    return true;
  // Implicit members are taken to exist; declared ones must not be deleted.
  bool Default = RD->needsImplicitDefaultConstructor();
  for (const CXXConstructorDecl *C : RD->ctors())
    Default |= C->isDefaultConstructor() && !C->isDeleted();
  bool Assign = RD->needsImplicitCopyAssignment() ||
                RD->needsImplicitMoveAssignment();
  for (const CXXMethodDecl *M : RD->methods())
    Assign |= (M->isCopyAssignmentOperator() || M->isMoveAssignmentOperator()) &&
              !M->isDeleted();
  return Default && Assign;
}

/// Frames (unlike JSON) hold fixed-size arrays: the type to check for a
/// carried std::array or C array is its element's.
QualType MachineBuilder::carriedElementType(QualType T) const {
  for (unsigned Depth = 0; Depth < 8; ++Depth) {
    QualType C = T.getCanonicalType();
    if (const auto *A = Ctx.getAsConstantArrayType(C)) {
      T = A->getElementType().getUnqualifiedType();
      continue;
    }
    const auto *Spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
        C->getAsCXXRecordDecl());
    if (Spec && Spec->isInStdNamespace() && Spec->getName() == "array" &&
        Spec->getTemplateArgs().size() > 0 &&
        Spec->getTemplateArgs()[0].getKind() == TemplateArgument::Type) {
      T = Spec->getTemplateArgs()[0].getAsType().getUnqualifiedType();
      continue;
    }
    break;
  }
  return T;
}

bool MachineBuilder::checkCarried(const Site &S, std::vector<Carried> &Set) {
  bool OK = true;
  for (const Carried &C : Set) {
    if (!C.Var)
      continue;
    const VarDecl *V = C.Var;
    if (isa<DecompositionDecl>(V))
      continue; // reported where it is declared, since it cannot be hoisted
    std::string Why;
    SourceLocation NoteAt;
    std::string Note;
    QualType T = V->getType();
    if (T->isReferenceType() && !isa<ParmVarDecl>(V) && Hoist.count(V) &&
        Hoist[V].ByPointer) {
      Why = "it is a reference, and what it refers to does not travel "
            "with the frame";
    } else if (T->isReferenceType() && !isa<ParmVarDecl>(V) &&
               !Hoist.count(V)) {
      Why = "it is a reference, and what it refers to does not travel "
            "with the frame";
    } else if (const auto *RD = T.getNonReferenceType()->getAsCXXRecordDecl();
               RD && RD->isLambda()) {
      Why = "it is a lambda";
    } else if (auto P = MC.Types.check(
                   carriedElementType(T.getNonReferenceType().getUnqualifiedType()))) {
      Why = P->Reason;
      NoteAt = P->NoteLoc;
      Note = P->Note;
    }
    if (Why.empty())
      continue;
    // Point at the first use after the call, where the value is needed.
    SourceLocation UseAt;
    SourceLocation After = SM.getFileLoc(S.Call->getEndLoc());
    for (const DeclRefExpr *R : Scan.Refs)
      if (R->getDecl() == V &&
          SM.isBeforeInTranslationUnit(After, SM.getFileLoc(R->getBeginLoc()))) {
        UseAt = R->getBeginLoc();
        break;
      }
    // Next read on the following turn of a loop around the call.
    if (UseAt.isInvalid())
      for (const Stmt *P = parentOf(S.Call); P && UseAt.isInvalid();
           P = parentOf(P)) {
        if (!isa<ForStmt>(P) && !isa<WhileStmt>(P) && !isa<DoStmt>(P) &&
            !isa<CXXForRangeStmt>(P))
          continue;
        for (const DeclRefExpr *R : Scan.Refs)
          if (R->getDecl() == V && encloses(P, R)) {
            UseAt = R->getBeginLoc();
            break;
          }
      }
    if (UseAt.isInvalid())
      UseAt = S.Call->getBeginLoc();
    MC.Report.error(UseAt, "'" + V->getNameAsString() + "' (" +
                               typeDisplay(T) +
                               ") is used after the boundary but cannot be "
                               "carried across it: " +
                               Why);
    MC.Report.note(V->getLocation(), "'" + V->getNameAsString() +
                                         "' is declared here");
    MC.Report.note(S.Call->getBeginLoc(),
                   "the boundary: '" + S.Callee->getNameAsString() + "' " +
                       (S.Plan->Kind == SuspensionKind::Local
                            ? "runs as steps of its own"
                            : "runs as its own function"));
    if (NoteAt.isValid())
      MC.Report.note(NoteAt, Note);
    OK = false;
  }
  return OK;
}

void MachineBuilder::computeEdges(CFG &G) {
  llvm::DenseMap<const Stmt *, unsigned> SiteOf;
  for (const Site &S : Sites)
    SiteOf[S.Call] = S.Index;
  From.assign(Sites.size(), {});
  // Which suspensions each step reaches before any other.
  auto Walk = [&](unsigned Origin, const CFGBlock *Start, unsigned Index) {
    std::set<const CFGBlock *> Seen;
    std::vector<std::pair<const CFGBlock *, unsigned>> Work{{Start, Index}};
    while (!Work.empty()) {
      auto [B, I] = Work.back();
      Work.pop_back();
      bool Stopped = false;
      for (unsigned E = I; E < B->size(); ++E) {
        auto CS = (*B)[E].getAs<CFGStmt>();
        if (!CS)
          continue;
        auto It = SiteOf.find(CS->getStmt());
        if (It == SiteOf.end())
          continue;
        auto &F = From[It->second - 1];
        if (std::find(F.begin(), F.end(), Origin) == F.end())
          F.push_back(Origin);
        Stopped = true;
        break;
      }
      if (Stopped)
        continue;
      for (const CFGBlock *Succ : B->succs())
        if (Succ && Seen.insert(Succ).second)
          Work.push_back({Succ, 0});
    }
  };
  Walk(0, &G.getEntry(), 0);
  for (const CFGBlock *B : G)
    for (unsigned E = 0; E < B->size(); ++E)
      if (auto CS = (*B)[E].getAs<CFGStmt>()) {
        auto It = SiteOf.find(CS->getStmt());
        if (It != SiteOf.end())
          Walk(It->second, B, E + 1);
      }
  for (auto &F : From)
    std::sort(F.begin(), F.end());
}

bool MachineBuilder::checkLoops() {
  bool OK = true;
  // Range-for loops walked by index: their range must stay put.
  for (IndexedLoop &L : Loops) {
    const Expr *Range = L.Loop->getRangeInit()->IgnoreParenImpCasts();
    const Expr *Root = Range;
    while (const auto *M = dyn_cast<MemberExpr>(Root->IgnoreParenImpCasts()))
      Root = M->getBase();
    const auto *Ref = dyn_cast<DeclRefExpr>(Root->IgnoreParenImpCasts());
    const auto *V = Ref ? dyn_cast<VarDecl>(Ref->getDecl()) : nullptr;
    QualType RT = L.Loop->getRangeInit()->getType().getCanonicalType();
    bool Indexable = Ctx.getAsConstantArrayType(RT) != nullptr;
    if (const auto *RD = RT->getAsCXXRecordDecl())
      Indexable |= RD->isInStdNamespace() &&
                   (RD->getName() == "vector" || RD->getName() == "array" ||
                    RD->getName() == "basic_string");
    if (!V) {
      MC.Report.error(L.Loop->getRangeInit()->getBeginLoc(),
                      "a range-for around a boundary must walk a named "
                      "variable, so that the range is still there when the "
                      "loop resumes; bind the range to a local variable first");
      OK = false;
      continue;
    }
    if (!Indexable) {
      MC.Report.error(L.Loop->getRangeInit()->getBeginLoc(),
                      "a range-for around a boundary resumes by position, so "
                      "it must walk a std::vector, std::array, std::string "
                      "or an array, not '" +
                          typeDisplay(RT) + "'");
      OK = false;
      continue;
    }
    if (V->hasLocalStorage())
      L.Root = V;
  }
  if (!OK)
    return false;

  return OK;
}

bool MachineBuilder::rewriteBody() {
  Rw.setSourceMgr(SM, LO);
  MC.BaseEdits(Rw);
  bool OK = true;

  // Uses of hoisted locals.
  for (const DeclRefExpr *R : Scan.Refs) {
    const auto *V = dyn_cast<VarDecl>(R->getDecl());
    if (!V || !Hoist.count(V))
      continue;
    const Hoisted &H = Hoist[V];
    if (!H.ByPointer && H.Name == V->getName())
      continue;
    if (R->getLocation().isMacroID()) {
      MC.Report.error(R->getLocation(),
                      "cannot rewrite this use of '" + V->getNameAsString() +
                          "': it is spelled inside a macro");
      OK = false;
      continue;
    }
    Rw.ReplaceText(SM.getFileLoc(R->getLocation()),
                   V->getName().size(),
                   H.ByPointer ? "(*" + H.Name + ")" : H.Name);
  }
  for (const LambdaExpr *L : Scan.Lambdas)
    for (const LambdaCapture &C : L->explicit_captures()) {
      if (!C.capturesVariable())
        continue;
      const auto *V = dyn_cast<VarDecl>(C.getCapturedVar());
      if (!V || !Hoist.count(V))
        continue;
      const Hoisted &H = Hoist[V];
      if (!H.ByPointer && H.Name == V->getName())
        continue;
      if (H.ByPointer && C.getCaptureKind() == LCK_ByCopy) {
        MC.Report.error(C.getLocation(),
                        "cannot capture '" + V->getNameAsString() +
                            "' by copy here; capture it by reference");
        OK = false;
        continue;
      }
      Rw.ReplaceText(SM.getFileLoc(C.getLocation()), V->getName().size(),
                     H.Name);
    }

  // Each call that stops: its value comes from a temporary.
  for (Site &S : Sites) {
    const Expr *C = S.Call;
    const FunctionDecl *Callee = S.Callee;
    std::string Name = MC.Plan.Machines.count(S.Plan->Callee)
                           ? MC.Plan.Machines.at(S.Plan->Callee)
                           : Callee->getQualifiedNameAsString();
    std::string Quoted = cppStringLiteral(Name);
    QualType RT = Callee->getReturnType();
    S.ResultCode = RT->isVoidType() ? "void" : typeCode(RT);
    if (!RT->isVoidType()) {
      if (auto P = MC.Types.check(RT.getNonReferenceType().getUnqualifiedType())) {
        MC.Report.error(C->getBeginLoc(), "the value of '" +
                                              Callee->getNameAsString() +
                                              "' cannot cross the boundary: " +
                                              P->Reason);
        if (P->NoteLoc.isValid())
          MC.Report.note(P->NoteLoc, P->Note);
        OK = false;
      }
    }
    std::string Args;
    if (S.Plan->Kind == SuspensionKind::FanOut) {
      if (Callee->getNumParams() != 1) {
        MC.Report.error(C->getBeginLoc(),
                        "cleave::parallel_map needs a function of one "
                        "parameter");
        OK = false;
        continue;
      }
      std::string P = typeCode(Callee->getParamDecl(0)->getType());
      S.Prologue = "cleave_s.fanOut<" + P + ">(" + Quoted + ", " +
                   std::to_string(S.Index) + "u, " + "%LAYOUT%" + ", " +
                   text(S.Call->getArg(0)->getSourceRange());
      if (!RT->isVoidType()) {
        S.ElemCode = S.ResultCode;
        S.ResultCode = "::std::vector<" + S.ResultCode + ">";
      }
    } else {
      for (unsigned I = 0; I < S.Call->getNumArgs(); ++I) {
        const Expr *A = S.Call->getArg(I);
        if (I >= Callee->getNumParams())
          break;
        const ParmVarDecl *P = Callee->getParamDecl(I);
        QualType PT = P->getType();
        if (isa<CXXDefaultArgExpr>(A)) {
          MC.Report.error(C->getBeginLoc(),
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
        if (auto Pr = MC.Types.check(PT.getNonReferenceType().getUnqualifiedType())) {
          MC.Report.error(A->getBeginLoc(),
                          "argument '" + P->getNameAsString() + "' of '" +
                              Callee->getNameAsString() +
                              "' cannot cross the boundary: " + Pr->Reason);
          if (Pr->NoteLoc.isValid())
            MC.Report.note(Pr->NoteLoc, Pr->Note);
          OK = false;
          continue;
        }
        Args += "cleave_s.arg<" + typeCode(PT) + ">(" +
                text(A->getSourceRange()) + "); ";
      }
      S.Prologue = Args + "cleave_s.call(" + Quoted + ", " +
                   std::to_string(S.Index) + "u, %LAYOUT%";
    }
    if (S.ResultCode != "void") {
      S.TempName = "cleave_t" + std::to_string(S.Index);
      // A value the statement discards stays discarded without a warning.
      Rw.ReplaceText(CharSourceRange::getTokenRange(
                         SM.getFileLoc(C->getBeginLoc()),
                         SM.getFileLoc(C->getEndLoc())),
                     isa<Expr>(S.Anchor) &&
                             cast<Expr>(S.Anchor)->IgnoreImplicit() == C
                         ? "(void)" + S.TempName
                                   : "::std::move(" + S.TempName + ")");
    } else {
      Rw.ReplaceText(CharSourceRange::getTokenRange(
                         SM.getFileLoc(C->getBeginLoc()),
                         SM.getFileLoc(C->getEndLoc())),
                     "(void)0");
    }
  }
  if (!OK)
    return false;

  // Declarations of hoisted locals become assignments.
  for (const VarDecl *V : HoistOrder) {
    const Hoisted &H = Hoist[V];
    bool LoopVar = false;
    for (const IndexedLoop &L : Loops)
      LoopVar |= L.Loop->getLoopVariable() == V;
    if (LoopVar)
      continue;
    if (isa<DecompositionDecl>(V) || V->getType()->isArrayType()) {
      MC.Report.error(V->getLocation(),
                      (isa<DecompositionDecl>(V)
                           ? std::string("this structured binding")
                           : "'" + V->getNameAsString() + "'") +
                          " is declared before a boundary in the same scope, "
                          "where a resumed step cannot declare it again; " +
                          (V->getType()->isArrayType()
                               ? "use a std::array"
                               : "use a plain variable instead of a "
                                 "structured binding"));
      OK = false;
      continue;
    }
    if (const auto *RD = V->getType()->getAsCXXRecordDecl();
        RD && RD->isLambda()) {
      MC.Report.error(V->getLocation(),
                      "lambda '" + V->getNameAsString() +
                          "' is declared before a boundary in the same scope; "
                          "a resumed step cannot declare it again");
      MC.Report.note(Sites.front().Call->getBeginLoc(), "the boundary is here");
      OK = false;
      continue;
    }
    if (!H.ByPointer && !emptyThenAssignable(V->getType())) {
      MC.Report.error(V->getLocation(),
                      "'" + V->getNameAsString() + "' (" +
                          typeDisplay(V->getType()) +
                          ") is declared before a boundary in the same scope, "
                          "where a resumed step cannot declare it again, and "
                          "its type cannot be made empty and assigned later; "
                          "end its scope before the boundary");
      MC.Report.note(Sites.front().Call->getBeginLoc(), "the boundary is here");
      OK = false;
      continue;
    }
    const DeclStmt *DS = nullptr;
    DynTypedNodeList Ps = Ctx.getParents(*V);
    if (!Ps.empty())
      DS = Ps[0].get<DeclStmt>();
    bool CondVar = !DS;
    if (CondVar || V->getLocation().isMacroID()) {
      MC.Report.error(V->getLocation(),
                      "'" + V->getNameAsString() +
                          "' is declared in a condition around a boundary; "
                          "declare it before the statement");
      OK = false;
      continue;
    }
    bool First = *DS->decl_begin() == V;
    if (!First && (V->getType()->isPointerType() ||
                   V->getType()->isReferenceType())) {
      MC.Report.error(V->getLocation(),
                      "declare '" + V->getNameAsString() +
                          "' in a declaration of its own: it lives across a "
                          "boundary");
      OK = false;
      continue;
    }
    SourceLocation NameEnd = endOfToken(V->getLocation());
    SourceLocation Begin =
        First ? SM.getFileLoc(DS->getBeginLoc()) : SM.getFileLoc(V->getLocation());
    const Expr *Init = V->getInit();
    std::string Lead;
    if (H.ByPointer) {
      if (!Init || V->getInitStyle() != VarDecl::CInit) {
        MC.Report.error(V->getLocation(),
                        "bind reference '" + V->getNameAsString() +
                            "' with '=': it lives across a boundary");
        OK = false;
        continue;
      }
      Lead = H.Name;
      Rw.InsertTextBefore(SM.getFileLoc(Init->getBeginLoc()), "&(");
      Rw.InsertTextAfterToken(SM.getFileLoc(Init->getEndLoc()), ")");
    } else {
      const auto *Construct =
          Init ? dyn_cast<CXXConstructExpr>(Init->IgnoreImplicit()) : nullptr;
      bool Written = Init && !(Construct && Construct->getNumArgs() == 0 &&
                               Construct->getParenOrBraceRange().isInvalid());
      if (!Written) {
        Lead = H.Name + " = " + H.CodeType + "()";
      } else if (V->getInitStyle() == VarDecl::CInit) {
        Lead = H.Name;
        SourceLocation IB = SM.getFileLoc(Init->getBeginLoc());
        if (tokenIs(IB, "{"))
          Rw.InsertTextBefore(IB, H.CodeType);
      } else {
        Lead = H.Name + " = " + H.CodeType;
      }
    }
    Rw.ReplaceText(CharSourceRange::getCharRange(Begin, NameEnd), Lead);
  }

  // Returns hand their value to the runtime.
  if (!FD->getReturnType()->isVoidType())
    for (const ReturnStmt *R : Scan.Returns) {
      const Expr *E = R->getRetValue();
      if (!E || inMacro(R))
        continue;
      Rw.ReplaceText(SM.getFileLoc(R->getBeginLoc()), 6,
                     "return cleave_s.finish<" + ReturnCode + ">(");
      Rw.InsertTextAfterToken(SM.getFileLoc(E->getEndLoc()), ")");
    }

  // Range-for headers walk by index.
  for (IndexedLoop &L : Loops) {
    L.RangeText = "(" + text(L.Loop->getRangeInit()->getSourceRange()) + ")";
    Rw.ReplaceText(CharSourceRange::getTokenRange(
                       SM.getFileLoc(L.Loop->getForLoc()),
                       SM.getFileLoc(L.Loop->getRParenLoc())),
                   "for (" + L.Index + " = 0; " + L.Index + " < ::std::size(" +
                       L.RangeText + "); ++" + L.Index + ")");
  }

  // Stops, before the statements they are in.
  for (size_t I = 0; I < Sites.size(); ++I) {
    Site &S = Sites[I];
    std::string Save;
    for (const Carried &C : Live[I])
      Save += ", " + C.Code;
    // The frame's layout: the function, the resume point, the types.
    std::string Shape = Node.MachineName + "#" + std::to_string(S.Index);
    for (const Carried &C : Live[I])
      Shape += ";" + (C.Type.isNull() ? S.ResultCode : typeCode(C.Type));
    char Hex[16];
    snprintf(Hex, sizeof(Hex), "0x%08xu", fingerprint(Shape));
    S.Layout = Hex;
    std::string Pro = S.Prologue;
    Pro.replace(Pro.rfind("%LAYOUT%"), 8, S.Layout);
    std::string Text = "{ " + Pro + Save +
                       "); return; } cleave_resume" +
                       std::to_string(S.Index) + ":; ";
    // A range-for's reference is bound again to the element it walks.
    for (const IndexedLoop &L : Loops) {
      const Hoisted &H = Hoist[L.Loop->getLoopVariable()];
      if (H.ByPointer && encloses(L.Loop->getBody(), S.Call))
        Text += H.Name + " = &" + L.RangeText + "[" + L.Index + "]; ";
    }
    if (!S.TempName.empty())
      Text += S.TempName + " = cleave_s." +
              (S.Plan->Kind == SuspensionKind::FanOut
                   ? "joined<" + S.ElemCode + ">()"
                   : "result<" + S.ResultCode + ">()") +
              "; ";
    else
      Text += "cleave_s.result<void>(); ";
    S.Prologue = Text;
  }
  // Several stops before one statement go in evaluation order.
  std::map<const Stmt *, std::string> Before;
  std::map<const Stmt *, bool> Wrap;
  for (const Site &S : Sites) {
    Before[S.Anchor] += S.Prologue;
    Wrap[S.Anchor] = Wrap[S.Anchor] || S.Wrap;
  }
  for (const auto &[Anchor, Text] : Before) {
    SourceLocation B = SM.getFileLoc(Anchor->getBeginLoc());
    if (Wrap[Anchor]) {
      Rw.InsertTextBefore(B, "{ " + Text);
      Rw.InsertTextBefore(afterStmt(Anchor), " }");
    } else {
      Rw.InsertTextBefore(B, Text);
    }
  }
  // Range-for loop variables are bound at the top of each iteration.
  for (const IndexedLoop &L : Loops) {
    const VarDecl *LV = L.Loop->getLoopVariable();
    const Hoisted &H = Hoist[LV];
    std::string Bind = H.ByPointer
                           ? H.Name + " = &" + L.RangeText + "[" + L.Index + "]; "
                           : H.Name + " = " + L.RangeText + "[" + L.Index + "]; ";
    const Stmt *LB = L.Loop->getBody();
    if (const auto *CS = dyn_cast<CompoundStmt>(LB)) {
      Rw.InsertTextAfterToken(SM.getFileLoc(CS->getLBracLoc()), " " + Bind);
    } else {
      Rw.InsertTextBefore(SM.getFileLoc(LB->getBeginLoc()), "{ " + Bind);
      Rw.InsertTextAfterToken(afterStmt(LB).getLocWithOffset(-1), " }");
    }
  }
  return OK;
}

std::string MachineBuilder::assemble() {
  std::string S;
  llvm::raw_string_ostream OS(S);
  // The namespaces around the function, so that its body finds its names.
  std::vector<const NamespaceDecl *> NS;
  for (const DeclContext *DC = FD->getDeclContext(); DC && !DC->isTranslationUnit();
       DC = DC->getParent())
    if (const auto *N = dyn_cast<NamespaceDecl>(DC))
      NS.insert(NS.begin(), N);
  std::string Qual = "::";
  for (const NamespaceDecl *N : NS) {
    OS << (N->isInline() ? "inline " : "") << "namespace "
       << (N->isAnonymousNamespace() ? "" : N->getName().str() + " ") << "{\n";
    if (!N->isAnonymousNamespace())
      Qual += N->getName().str() + "::";
  }
  OS << "static void " << MachineFn << "(::cleave::rt::Step &cleave_s) {\n";
  std::string Params;
  for (const ParmVarDecl *P : FD->parameters()) {
    std::string Name = P->getName().empty()
                           ? "cleave_unnamed" + std::to_string(P->getFunctionScopeIndex())
                           : P->getName().str();
    OS << "  " << typeCode(P->getType()) << " " << Name << "{};\n";
    Params += (Params.empty() ? "" : ", ") + Name;
  }
  for (const VarDecl *V : HoistOrder) {
    const Hoisted &H = Hoist[V];
    if (H.ByPointer)
      OS << "  " << H.CodeType << " *" << H.Name << " = nullptr;\n";
    else
      OS << "  " << H.CodeType << " " << H.Name << "{};\n";
  }
  for (const IndexedLoop &L : Loops)
    OS << "  ::std::size_t " << L.Index << " = 0;\n";
  for (const Site &St : Sites)
    if (!St.TempName.empty())
      OS << "  " << St.ResultCode << " " << St.TempName << "{};\n";
  OS << "  switch (cleave_s.resumePoint()) {\n"
     << "  case 0:\n    if (!cleave_s.args(" << Params << "))\n      return;\n"
     << "    break;\n";
  for (size_t I = 0; I < Sites.size(); ++I) {
    const Site &St = Sites[I];
    std::string Restore = St.Layout;
    for (const Carried &C : Live[I])
      Restore += ", " + C.Code;
    OS << "  case " << St.Index << ":\n    if (!cleave_s.restore(" << Restore
       << "))\n      return;\n";
    OS << "    goto cleave_resume" << St.Index << ";\n";
  }
  OS << "  default:\n    cleave_s.badStep();\n    return;\n  }\n";
  PresumedLoc PL = SM.getPresumedLoc(SM.getFileLoc(Body->getBeginLoc()));
  if (PL.isValid())
    OS << "#line " << PL.getLine() << " " << cppStringLiteral(PL.getFilename())
       << "\n";
  OS << text(Body->getSourceRange()) << "\n}\n";
  for (size_t I = 0; I < NS.size(); ++I)
    OS << "}\n";
  OS << "int " << Symbol
     << "(const cleave_step_call_v1 *Call, cleave_step_reply_v1 *Reply) {\n"
     << "  ::cleave::rt::Step S(Call, Reply, " << cppStringLiteral(Node.MachineName)
     << ");\n  return S.run([&] { " << Qual << MachineFn << "(S); });\n}\n";
  return S;
}

std::string MachineBuilder::oneStepMachine() {
  std::string S;
  llvm::raw_string_ostream OS(S);
  OS << "int " << Symbol
     << "(const cleave_step_call_v1 *Call, cleave_step_reply_v1 *Reply) {\n"
     << "  ::cleave::rt::Step S(Call, Reply, " << cppStringLiteral(Node.MachineName)
     << ");\n  return S.run([&] {\n";
  std::string Params;
  unsigned I = 0;
  for (const ParmVarDecl *P : FD->parameters()) {
    std::string N = "a" + std::to_string(I++);
    OS << "    " << typeCode(P->getType()) << " " << N << "{};\n";
    Params += (Params.empty() ? "" : ", ") + N;
  }
  OS << "    if (!S.args(" << Params << "))\n      return;\n";
  std::string Callee = "::" + FD->getQualifiedNameAsString();
  if (FD->getReturnType()->isVoidType())
    OS << "    " << Callee << "(" << Params << ");\n";
  else
    OS << "    S.finish<" << ReturnCode << ">(" << Callee << "(" << Params
       << "));\n";
  OS << "  });\n}\n";
  return S;
}

std::string MachineBuilder::entryAdapters() {
  std::string S;
  llvm::raw_string_ostream OS(S);
  OS << "int " << Node.ArgsSymbol
     << "(const cleave_call_v1 *Call, cleave_reply_v1 *Reply) {\n"
     << "  ::cleave::rt::Invocation Inv(Call, Reply, "
     << cppStringLiteral(Node.Name) << ");\n"
     << "  if (!Inv.parseArgs())\n    return Inv.finish();\n";
  std::string Params;
  unsigned I = 0;
  for (const ParmVarDecl *P : FD->parameters()) {
    std::string N = "a" + std::to_string(I++);
    OS << "  " << typeCode(P->getType()) << " " << N << "{};\n"
       << "  if (!Inv.arg(" << cppStringLiteral(P->getName()) << ", " << N
       << "))\n    return Inv.finish();\n";
    Params += ", " + N;
  }
  OS << "  std::string Frame;\n  ::cleave::frame::encodeFrame(Frame" << Params
     << ");\n  Inv.reply(200, Frame);\n  return Inv.finish();\n}\n";
  OS << "int cleave_value_"
     << Node.ArgsSymbol.substr(std::string("cleave_args_").size())
     << "(const char *Value, size_t Len, cleave_reply_v1 *Reply) {\n"
     << "  return ::cleave::rt::valueToJson<" << ReturnCode
     << ">(Value, Len, Reply);\n}\n";
  return S;
}

bool MachineBuilder::run(std::string &Out) {
  Node.MachineName = MC.Plan.Machines.at(Node.USR);
  Symbol = machineSymbol(Node.MachineName);
  Node.MachineSymbol = Symbol;
  MachineFn = "cleave_machine_" + Symbol.substr(std::string("cleave_step_").size());
  QualType RT = FD->getReturnType();
  ReturnCode = RT->isVoidType() ? "void" : typeCode(RT);
  Node.ValueCode = ReturnCode;
  Node.Steps.push_back(MC.PosOf(Body->getBeginLoc()));

  if (FD->isVariadic() || isa<CXXMethodDecl>(FD)) {
    MC.Report.error(FD->getLocation(),
                    "'" + Node.Name +
                        "' would run as steps, which needs a free function "
                        "without variadic parameters");
    return false;
  }
  for (const ParmVarDecl *P : FD->parameters()) {
    QualType T = P->getType();
    if (T->isLValueReferenceType() && !T.getNonReferenceType().isConstQualified()) {
      MC.Report.error(P->getLocation(),
                      "'" + Node.Name + "' runs as steps, so it receives its "
                      "parameters by value; '" + P->getNameAsString() +
                          "' is a non-const reference");
      return false;
    }
    if (auto Pr = MC.Types.check(T.getNonReferenceType().getUnqualifiedType())) {
      MC.Report.error(P->getLocation(),
                      "parameter '" + P->getNameAsString() + "' of '" +
                          Node.Name + "' cannot cross a boundary: " + Pr->Reason);
      if (Pr->NoteLoc.isValid())
        MC.Report.note(Pr->NoteLoc, Pr->Note);
      return false;
    }
  }
  if (!RT->isVoidType())
    if (auto Pr = MC.Types.check(RT.getNonReferenceType().getUnqualifiedType())) {
      MC.Report.error(FD->getLocation(), "the value of '" + Node.Name +
                                             "' cannot cross a boundary: " +
                                             Pr->Reason);
      return false;
    }

  bool Split = MC.Plan.Sites.count(Node.USR);
  if (Split) {
    if (!findSites())
      return false;
    if (Sites.empty()) {
      Split = false;
    } else {
      if (!checkGotos())
        return false;
      findHoisted();
      // Result types are needed for the liveness of pending values.
      for (Site &S : Sites) {
        QualType CRT = S.Callee->getReturnType();
        S.ResultCode = CRT->isVoidType() ? "void" : typeCode(CRT);
        if (S.Plan->Kind == SuspensionKind::FanOut && !CRT->isVoidType())
          S.ResultCode = "::std::vector<" + S.ResultCode + ">";
        if (!CRT->isVoidType())
          S.TempName = "cleave_t" + std::to_string(S.Index);
      }
      if (!checkLoops() || !computeLiveness())
        return false;
      if (!rewriteBody())
        return false;
      Out += assemble();
      for (size_t I = 0; I < Sites.size(); ++I) {
        const Site &S = Sites[I];
        Node.Steps.push_back(MC.PosOf(S.Call->getBeginLoc()));
        StepEdge E;
        E.From = From[I];
        E.Callee = MC.Plan.Machines.count(S.Plan->Callee)
                       ? MC.Plan.Machines.at(S.Plan->Callee)
                       : S.Callee->getQualifiedNameAsString();
        E.Placement = suspensionKindName(S.Plan->Kind);
        E.Resume = S.Index;
        E.Pos = MC.PosOf(S.Call->getBeginLoc());
        for (const Carried &C : Live[I]) {
          QualType T = C.Type;
          std::string Type = !C.TypeName.empty() ? C.TypeName
                             : T.isNull()        ? "std::vector"
                                                 : typeDisplay(T);
          E.Carried.push_back(
              {C.Display, Type, T.isNull() ? 8u : estimateBytes(T)});
        }
        Node.Edges.push_back(std::move(E));
      }
    }
  }
  if (!Split)
    Out += oneStepMachine();
  if (Node.IsEntry) {
    Node.ArgsSymbol = "cleave_args_" + Symbol.substr(std::string("cleave_step_").size());
    Out += entryAdapters();
  }
  return true;
}

} // namespace

bool emitMachine(MachineContext &MC, const FunctionDecl *FD, FunctionNode &Node,
                 std::string &Out) {
  return MachineBuilder(MC, FD, Node).run(Out);
}

} // namespace cleave
