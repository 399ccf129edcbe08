//===- Liveness.cpp - Which locals each resume point needs ----------------===//
//
// A resumed step walks down the nesting to its resume point and passes the
// declarations before it on that way (its *carriers*: parameters, locals of
// the enclosing blocks, the variables of if/for headers and range-fors).
// For each resume point this decides, as a register allocator decides what
// to spill, how each carrier gets there:
//   - a carrier the rest of the function uses (it is referenced where
//     control can go after the call without declaring it again, or its
//     destructor has effects and will run) travels in the continuation
//     frame, and is restored at its own declaration;
//   - a carrier that cannot travel but whose initializer can run again
//     (constants, values that never change, the standard library's
//     constructors and const members, lambdas) is rebuilt there instead:
//     its declaration simply runs again (rematerialization);
//   - a carrier nothing after the call uses is absent: its name is bound,
//     but no object is made.
// "Used after the call" is a liveness in which a write counts as a use (a
// write needs the object to exist) and only the declaration kills, computed
// over Clang's CFG, plus what the anchor statement re-runs when it resumes.
//
//===----------------------------------------------------------------------===//

#include "MachineInternal.h"

#include "cleave/Analysis/StateUse.h"

#include "clang/Analysis/Analyses/LiveVariables.h"
#include "clang/Analysis/AnalysisDeclContext.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/BitVector.h"

#include <algorithm>
#include <deque>

using namespace clang;

namespace cleave {
namespace machine {

const VarDecl *MachineBuilder::carriedVar(const Decl *D) const {
  if (const auto *B = dyn_cast_or_null<BindingDecl>(D))
    return dyn_cast_or_null<VarDecl>(B->getDecomposedDecl());
  return dyn_cast_or_null<VarDecl>(D);
}

bool MachineBuilder::findCarriers() {
  bool OK = true;
  auto Add = [&](const VarDecl *V, const Stmt *Scope, SourceLocation After,
                 bool Param, bool LoopVar) {
    if (!V || V->isInvalidDecl() || !V->hasLocalStorage() || CarrierOf.count(V))
      return;
    Carrier C;
    C.Var = V;
    C.Param = Param;
    C.LoopVar = LoopVar;
    for (const Stop &S : Stops) {
      if (Scope && !encloses(Scope, S.Call))
        continue;
      if (After.isValid() &&
          !SM.isBeforeInTranslationUnit(SM.getFileLoc(After),
                                        SM.getFileLoc(S.Call->getBeginLoc())))
        continue;
      C.Passed.insert(S.Index);
    }
    if (C.Passed.empty())
      return;
    C.Order = Param ? cast<ParmVarDecl>(V)->getFunctionScopeIndex()
                    : 1000 + offsetOf(V->getLocation());
    CarrierOf[V] = Carriers.size();
    Carriers.push_back(std::move(C));
  };
  auto FromDeclStmt = [&](const Stmt *S, const Stmt *Scope) {
    if (const auto *DS = dyn_cast_or_null<DeclStmt>(S))
      for (const Decl *D : DS->decls())
        Add(dyn_cast<VarDecl>(D), Scope, D->getEndLoc(), false, false);
  };
  // A variable declared in a condition lives in the statement: a stop in
  // its own initializer comes before it, one in the body after it.
  auto ConditionVariable = [&](const VarDecl *V, const Stmt *Owner) {
    if (V)
      Add(V, Owner, V->getEndLoc(), false, false);
  };

  std::function<void(const Stmt *)> Visit = [&](const Stmt *S) {
    if (!S || !onPath(S))
      return;
    if (const auto *CS = dyn_cast<CompoundStmt>(S)) {
      for (const Stmt *Child : CS->body()) {
        const Stmt *E = unlabeled(Child);
        FromDeclStmt(E, CS);
        Visit(E);
      }
      return;
    }
    if (const auto *If = dyn_cast<IfStmt>(S)) {
      FromDeclStmt(If->getInit(), If);
      if (const VarDecl *CV = If->getConditionVariable())
        Add(CV, If, CV->getEndLoc(), false, false);
      Visit(If->getThen());
      Visit(If->getElse());
      return;
    }
    if (const auto *F = dyn_cast<ForStmt>(S)) {
      FromDeclStmt(F->getInit(), F);
      ConditionVariable(F->getConditionVariable(), F);
      Visit(F->getBody());
      return;
    }
    if (const auto *W = dyn_cast<WhileStmt>(S)) {
      ConditionVariable(W->getConditionVariable(), W);
      Visit(W->getBody());
      return;
    }
    if (const auto *D = dyn_cast<DoStmt>(S)) {
      Visit(D->getBody());
      return;
    }
    // The variable a handler declares is not carried: a step resuming in
    // the handler throws the exception again, and the handler binds it.
    if (const auto *T = dyn_cast<CXXTryStmt>(S)) {
      Visit(T->getTryBlock());
      for (unsigned I = 0; I < T->getNumHandlers(); ++I)
        Visit(T->getHandler(I)->getHandlerBlock());
      return;
    }
    if (const auto *R = dyn_cast<CXXForRangeStmt>(S)) {
      if (onPath(R->getBody())) {
        Loop L;
        L.For = R;
        ++Counter;
        L.Cursor = "cleave_c" + std::to_string(Counter);
        L.Range = "cleave_range" + std::to_string(Counter);
        std::tie(L.Lo, L.Hi) = rangeOf(R->getBody());
        L.Order = 1000 + offsetOf(R->getBeginLoc());
        Loops.push_back(L);
        Add(R->getLoopVariable(), R->getBody(), {}, false, true);
      }
      Visit(R->getBody());
      return;
    }
    if (const auto *Sw = dyn_cast<SwitchStmt>(S)) {
      ConditionVariable(Sw->getConditionVariable(), Sw);
      FromDeclStmt(Sw->getInit(), Sw);
      Visit(Sw->getBody());
      return;
    }
  };
  for (const ParmVarDecl *P : FD->parameters())
    Add(P, nullptr, {}, true, false);
  Visit(Body);
  return OK;
}

// --- What a type's special members do --------------------------------------

namespace {

QualType templateArg(const CXXRecordDecl *RD, unsigned I) {
  if (const auto *S = dyn_cast<ClassTemplateSpecializationDecl>(RD))
    if (I < S->getTemplateArgs().size() &&
        S->getTemplateArgs()[I].getKind() == TemplateArgument::Type)
      return S->getTemplateArgs()[I].getAsType();
  return {};
}

/// Applies \p Pred to what a value of \p RD holds: the template arguments
/// of a standard type, or the bases and fields of another class.
template <class Fn> bool anyPart(const CXXRecordDecl *RD, Fn &&Pred) {
  if (RD->isInStdNamespace()) {
    if (const auto *S = dyn_cast<ClassTemplateSpecializationDecl>(RD))
      for (unsigned I = 0; I < S->getTemplateArgs().size(); ++I)
        if (QualType A = templateArg(RD, I); !A.isNull() && Pred(A))
          return true;
    return false;
  }
  for (const CXXBaseSpecifier &B : RD->bases())
    if (Pred(B.getType()))
      return true;
  for (const FieldDecl *F : RD->fields())
    if (Pred(F->getType()))
      return true;
  return false;
}

} // namespace

const CXXRecordDecl *MachineBuilder::localClassIn(QualType T,
                                                  unsigned Depth) const {
  if (Depth > 12)
    return nullptr;
  T = T.getNonReferenceType().getCanonicalType();
  if (const auto *A = Ctx.getAsArrayType(T))
    return localClassIn(A->getElementType(), Depth + 1);
  const auto *RD = T->getAsCXXRecordDecl();
  if (!RD)
    return nullptr;
  if (RD->isLocalClass() && !RD->isLambda())
    return RD;
  const CXXRecordDecl *Found = nullptr;
  if (RD->hasDefinition())
    anyPart(RD->getDefinition(), [&](QualType P) {
      Found = localClassIn(P, Depth + 1);
      return Found != nullptr;
    });
  return Found;
}

const char *MachineBuilder::heldResource(QualType T) const {
  // Standard classes whose destructor gives something back: a lock, a
  // thread, an open file.
  static const char *const Held[][2] = {
      {"lock_guard", "a lock"},        {"unique_lock", "a lock"},
      {"scoped_lock", "a lock"},       {"shared_lock", "a lock"},
      {"thread", "a thread"},          {"jthread", "a thread"},
      {"basic_fstream", "an open file"}, {"basic_ofstream", "an open file"},
      {"basic_ifstream", "an open file"}};
  const auto *RD = T.getNonReferenceType()->getAsCXXRecordDecl();
  if (!RD || !RD->isInStdNamespace())
    return nullptr;
  for (const auto &H : Held)
    if (RD->getName() == H[0])
      return H[1];
  return nullptr;
}

bool MachineBuilder::hasEffectfulDestructor(QualType T, unsigned Depth) const {
  if (heldResource(T))
    return true;
  if (Depth > 12)
    return false;
  T = T.getNonReferenceType().getCanonicalType();
  if (const auto *A = Ctx.getAsArrayType(T))
    return hasEffectfulDestructor(A->getElementType(), Depth + 1);
  const auto *RD = T->getAsCXXRecordDecl();
  if (!RD || !RD->hasDefinition())
    return false;
  RD = RD->getDefinition();
  if (!RD->isInStdNamespace())
    if (const CXXDestructorDecl *D = RD->getDestructor();
        D && D->isUserProvided())
      return true;
  return anyPart(RD, [&](QualType P) {
    return hasEffectfulDestructor(P, Depth + 1);
  });
}

bool MachineBuilder::isLibraryClass(const CXXRecordDecl *RD) const {
  // The standard library's classes, and their helpers in implementation
  // namespaces (__gnu_cxx::__normal_iterator): what a system header declares.
  return RD->isInStdNamespace() ||
         SM.isInSystemHeader(SM.getFileLoc(RD->getLocation()));
}

bool MachineBuilder::isQuietType(QualType T, unsigned Depth) const {
  if (Depth > 12)
    return true;
  T = T.getNonReferenceType().getCanonicalType();
  if (const auto *A = Ctx.getAsArrayType(T))
    return isQuietType(A->getElementType(), Depth + 1);
  const auto *RD = T->getAsCXXRecordDecl();
  if (!RD || !RD->hasDefinition())
    return true;
  RD = RD->getDefinition();
  if (!isLibraryClass(RD)) {
    if (RD->isPolymorphic())
      return false;
    for (const CXXConstructorDecl *C : RD->ctors())
      if (C->isUserProvided())
        return false;
    if (const CXXDestructorDecl *D = RD->getDestructor(); D && D->isUserProvided())
      return false;
    for (const CXXMethodDecl *M : RD->methods())
      if ((M->isCopyAssignmentOperator() || M->isMoveAssignmentOperator()) &&
          M->isUserProvided())
        return false;
  }
  return !anyPart(RD, [&](QualType P) { return !isQuietType(P, Depth + 1); });
}

bool MachineBuilder::isResurrectable(QualType T, std::string &Why,
                                     unsigned Depth) const {
  if (isQuietType(T) || Depth > 12)
    return true;
  T = T.getNonReferenceType().getCanonicalType();
  if (const auto *A = Ctx.getAsConstantArrayType(T))
    return isResurrectable(A->getElementType(), Why, Depth + 1);
  const auto *RD = T->getAsCXXRecordDecl();
  if (!RD || !RD->hasDefinition())
    return true;
  RD = RD->getDefinition();
  if (RD->isInStdNamespace()) {
    Why = "'" + typeDisplay(T) +
          "' holds a type with user-written constructors or destructor, "
          "which the container would run again when it is rebuilt from the "
          "frame";
    return false;
  }
  if (RD->isPolymorphic()) {
    Why = "'" + typeDisplay(T) + "' is polymorphic";
    return false;
  }
  for (const CXXBaseSpecifier &B : RD->bases())
    if (!isResurrectable(B.getType(), Why, Depth + 1))
      return false;
  for (const FieldDecl *F : RD->fields())
    if (!isResurrectable(F->getType(), Why, Depth + 1))
      return false;
  return true;
}

namespace {

/// A member of a standard class that reads its object even where it is not
/// const: the accessors of containers and strings.
bool isStdAccessor(const CXXMethodDecl *M) {
  if (!M || !M->getParent()->isInStdNamespace())
    return false;
  if (M->isConst())
    return true;
  static const char *const Readers[] = {
      "begin", "end", "rbegin", "rend", "find", "count", "lower_bound",
      "upper_bound", "equal_range", "at", "front", "back", "data"};
  llvm::StringRef Class = M->getParent()->getName();
  if (M->getOverloadedOperator() == OO_Subscript)
    return Class != "map" && Class != "unordered_map";
  if (!M->getDeclName().isIdentifier())
    return false;
  for (const char *N : Readers)
    if (M->getName() == N)
      return true;
  return false;
}

} // namespace

bool MachineBuilder::isModified(const VarDecl *V) const {
  if (V->getType().isConstQualified() && !V->getType()->isReferenceType())
    return false;
  for (const DeclRefExpr *R : Refs) {
    if (carriedVar(R->getDecl()) != V)
      continue;
    if (isUnevaluatedUse(R, Ctx))
      continue;
    // `v.begin()`, `v[i]`, `s.size()`: reads of a standard object.
    const Stmt *P = parentOf(R);
    while (P && (isa<ImplicitCastExpr>(P) || isa<ParenExpr>(P)))
      P = parentOf(P);
    if (const auto *M = dyn_cast_or_null<MemberExpr>(P))
      if (isStdAccessor(dyn_cast<CXXMethodDecl>(M->getMemberDecl())))
        continue;
    if (const auto *O = dyn_cast_or_null<CXXOperatorCallExpr>(P))
      if (O->getNumArgs() > 0 && O->getArg(0)->IgnoreImpCasts() == R &&
          isStdAccessor(dyn_cast_or_null<CXXMethodDecl>(O->getDirectCallee())))
        continue;
    StateAccess A = classifyStateUse(R, Ctx);
    if (A != StateAccess::Read)
      return true;
  }
  for (const LambdaExpr *L : Lambdas)
    for (const LambdaCapture &C : L->captures())
      if (C.capturesVariable() && C.getCaptureKind() == LCK_ByRef &&
          carriedVar(C.getCapturedVar()) == V)
        return true;
  return false;
}

bool MachineBuilder::isPureInit(const Expr *E, std::string &Why) const {
  if (!E)
    return true;
  E = E->IgnoreParens();
  if (isa<IntegerLiteral>(E) || isa<FloatingLiteral>(E) ||
      isa<CharacterLiteral>(E) || isa<StringLiteral>(E) ||
      isa<CXXBoolLiteralExpr>(E) || isa<CXXNullPtrLiteralExpr>(E) ||
      isa<UnaryExprOrTypeTraitExpr>(E) || isa<ImplicitValueInitExpr>(E) ||
      isa<CXXScalarValueInitExpr>(E) || isa<SizeOfPackExpr>(E))
    return true;
  if (const auto *R = dyn_cast<DeclRefExpr>(E)) {
    const ValueDecl *D = R->getDecl();
    if (isa<EnumConstantDecl>(D) || isa<FunctionDecl>(D))
      return true;
    const VarDecl *V = carriedVar(D);
    if (!V)
      return false;
    if (asStateVar(V)) {
      Why = "it reads state '" + V->getNameAsString() +
            "', which may change across the boundary";
      return false;
    }
    if (V->hasLocalStorage()) {
      if (isModified(V)) {
        Why = "it reads '" + V->getNameAsString() + "', which changes";
        return false;
      }
      return true;
    }
    if (V->getType().isConstQualified() || V->isConstexpr())
      return true;
    Why = "it reads '" + V->getNameAsString() + "', a global that may change";
    return false;
  }
  if (const auto *L = dyn_cast<LambdaExpr>(E)) {
    if (L->isMutable()) {
      Why = "it is a mutable lambda";
      return false;
    }
    for (const LambdaCapture &C : L->captures()) {
      if (!C.capturesVariable())
        continue;
      const VarDecl *V = carriedVar(C.getCapturedVar());
      if (C.getCaptureKind() == LCK_ByCopy && V && V->hasLocalStorage() &&
          isModified(V)) {
        Why = "it captures '" + V->getNameAsString() +
              "' by copy, and that changes";
        return false;
      }
    }
    for (const Expr *Init : L->capture_inits())
      if (Init && !isa<DeclRefExpr>(Init->IgnoreImplicit()) &&
          !isPureInit(Init, Why))
        return false;
    return true;
  }
  if (const auto *C = dyn_cast<CXXConstructExpr>(E)) {
    const CXXRecordDecl *RD = C->getConstructor()->getParent();
    if (!RD->isInStdNamespace() && C->getConstructor()->isUserProvided()) {
      Why = "it runs the constructor of '" + RD->getNameAsString() + "'";
      return false;
    }
    for (const Expr *A : C->arguments())
      if (!isPureInit(A, Why))
        return false;
    return true;
  }
  if (const auto *C = dyn_cast<CallExpr>(E)) {
    const FunctionDecl *F = C->getDirectCallee();
    if (!F) {
      Why = "it calls a function the compiler cannot see";
      return false;
    }
    static const char *const Impure[] = {"rand", "random_device", "now",
                                         "time", "shuffle", "getenv",
                                         "generate_canonical", "clock"};
    bool Std = F->isInStdNamespace() ||
               (isa<CXXMethodDecl>(F) &&
                cast<CXXMethodDecl>(F)->getParent()->isInStdNamespace());
    if (isa<CXXOperatorCallExpr>(C) && !Std) {
      Why = "it calls '" + F->getNameAsString() + "'";
      return false;
    }
    if (!Std || (F->getIdentifier() && std::count(std::begin(Impure),
                                                  std::end(Impure),
                                                  F->getName()))) {
      Why = "it calls '" + F->getNameAsString() + "'";
      return false;
    }
    if (const auto *M = dyn_cast<CXXMethodDecl>(F);
        M && !M->isStatic() && !isStdAccessor(M)) {
      Why = "it calls '" + F->getNameAsString() + "', which is not const";
      return false;
    }
    if (const auto *MC2 = dyn_cast<CXXMemberCallExpr>(C))
      if (!isPureInit(MC2->getImplicitObjectArgument(), Why))
        return false;
    for (const Expr *A : C->arguments())
      if (!isPureInit(A, Why))
        return false;
    return true;
  }
  if (const auto *U = dyn_cast<UnaryOperator>(E)) {
    if (U->isIncrementDecrementOp()) {
      Why = "it changes a value";
      return false;
    }
    return isPureInit(U->getSubExpr(), Why);
  }
  if (const auto *B = dyn_cast<BinaryOperator>(E)) {
    if (B->isAssignmentOp()) {
      Why = "it assigns a value";
      return false;
    }
    return isPureInit(B->getLHS(), Why) && isPureInit(B->getRHS(), Why);
  }
  if (const auto *C = dyn_cast<AbstractConditionalOperator>(E))
    return isPureInit(C->getCond(), Why) && isPureInit(C->getTrueExpr(), Why) &&
           isPureInit(C->getFalseExpr(), Why);
  if (const auto *M = dyn_cast<MemberExpr>(E))
    return isPureInit(M->getBase(), Why);
  if (const auto *A = dyn_cast<ArraySubscriptExpr>(E))
    return isPureInit(A->getBase(), Why) && isPureInit(A->getIdx(), Why);
  if (const auto *I = dyn_cast<InitListExpr>(E)) {
    for (const Expr *X : I->inits())
      if (!isPureInit(X, Why))
        return false;
    return true;
  }
  if (const auto *D = dyn_cast<CXXDefaultArgExpr>(E))
    return isPureInit(D->getExpr(), Why);
  if (const auto *D = dyn_cast<CXXDefaultInitExpr>(E))
    return isPureInit(D->getExpr(), Why);
  if (isa<CastExpr>(E) || isa<MaterializeTemporaryExpr>(E) ||
      isa<ExprWithCleanups>(E) || isa<CXXBindTemporaryExpr>(E) ||
      isa<CXXStdInitializerListExpr>(E) || isa<ConstantExpr>(E)) {
    for (const Stmt *Child : E->children())
      if (const auto *X = dyn_cast_or_null<Expr>(Child))
        if (!isPureInit(X, Why))
          return false;
    return true;
  }
  Why = "its initializer cannot be evaluated again";
  return false;
}

// --- Needed: the dataflow ---------------------------------------------------

bool MachineBuilder::computeNeeded() {
  AnalysisDeclContextManager Mgr(Ctx);
  AnalysisDeclContext *AC = Mgr.getContext(FD);
  AC->getCFGBuildOptions().setAllAlwaysAdd();
  // Every operand that the code may run: a statement runs again when a step
  // resumes in it, and what it reads there must be consistent with what a
  // step passing it carries on (`true || f(v)` still names v).
  AC->getCFGBuildOptions().PruneTriviallyFalseEdges = false;
  // A call in a try block may go to its handlers: what they use is used
  // after a boundary call there, since the callee's exception comes back
  // to the step that resumes.
  AC->getCFGBuildOptions().AddEHEdges = true;
  CFG *G = AC->getCFG();
  if (!G) {
    MC.Report.error(FD->getLocation(), "cannot analyse the control flow of '" +
                                           Node.Name + "' to cut it into steps");
    return false;
  }
  unsigned N = Carriers.size();
  auto IndexOf = [&](const Decl *D) -> int {
    const VarDecl *V = carriedVar(D);
    auto It = V ? CarrierOf.find(V) : CarrierOf.end();
    return It == CarrierOf.end() ? -1 : static_cast<int>(It->second);
  };
  // The transfer function of one element, backwards.
  auto Transfer = [&](const CFGElement &El, llvm::BitVector &Live) {
    auto CS = El.getAs<CFGStmt>();
    if (!CS)
      return;
    const Stmt *S = CS->getStmt();
    if (const auto *DS = dyn_cast<DeclStmt>(S)) {
      for (const Decl *D : DS->decls())
        if (int I = IndexOf(D); I >= 0)
          Live.reset(I);
      return;
    }
    if (const auto *R = dyn_cast<DeclRefExpr>(S)) {
      if (int I = IndexOf(R->getDecl()); I >= 0)
        Live.set(I);
      return;
    }
    if (const auto *L = dyn_cast<LambdaExpr>(S))
      for (const LambdaCapture &C : L->captures())
        if (C.capturesVariable())
          if (int I = IndexOf(C.getCapturedVar()); I >= 0)
            Live.set(I);
  };
  LiveVariables *LV = AC->getAnalysis<LiveVariables>();
  std::vector<llvm::BitVector> In(G->getNumBlockIDs(), llvm::BitVector(N)),
      Out(G->getNumBlockIDs(), llvm::BitVector(N));
  std::deque<const CFGBlock *> Work(G->begin(), G->end());
  llvm::DenseSet<const CFGBlock *> Queued(G->begin(), G->end());
  while (!Work.empty()) {
    const CFGBlock *B = Work.front();
    Work.pop_front();
    Queued.erase(B);
    llvm::BitVector Live(N);
    for (const CFGBlock *Succ : B->succs())
      if (Succ)
        Live |= In[Succ->getBlockID()];
    Out[B->getBlockID()] = Live;
    for (auto It = B->rbegin(); It != B->rend(); ++It)
      Transfer(*It, Live);
    if (Live != In[B->getBlockID()]) {
      In[B->getBlockID()] = Live;
      for (const CFGBlock *Pred : B->preds())
        if (Pred && Queued.insert(Pred).second)
          Work.push_back(Pred);
    }
  }

  // What is live after each stop's call: its element in the first block
  // that has it, the block walked backwards once for all its stops (a
  // statement of many calls is one block).
  llvm::DenseMap<const Stmt *, llvm::SmallVector<unsigned, 1>> StopOfCall;
  for (const Stop &S : Stops)
    StopOfCall[S.Call].push_back(S.Index);
  std::vector<std::pair<const CFGBlock *, unsigned>> CallAt(Stops.size(),
                                                            {nullptr, 0});
  for (const CFGBlock *B : *G)
    for (unsigned I = 0; I < B->size(); ++I)
      if (auto CS = (*B)[I].getAs<CFGStmt>())
        if (auto It = StopOfCall.find(CS->getStmt()); It != StopOfCall.end())
          for (unsigned K : It->second)
            if (!CallAt[K - 1].first || CallAt[K - 1].first == B)
              CallAt[K - 1] = {B, I};
  // The first block with each stop's call, and the statement after the
  // call there (for Clang's liveness, readsAfter).
  std::vector<std::pair<const CFGBlock *, const Stmt *>> After(
      Stops.size(), {nullptr, nullptr});
  for (const CFGBlock *B : *G) {
    llvm::SmallVector<unsigned, 4> Waiting;
    for (const CFGElement &El : *B) {
      auto CS = El.getAs<CFGStmt>();
      if (!CS)
        continue;
      for (unsigned K : Waiting)
        After[K - 1].second = CS->getStmt();
      Waiting.clear();
      if (auto It = StopOfCall.find(CS->getStmt()); It != StopOfCall.end())
        for (unsigned K : It->second)
          if (!After[K - 1].first) {
            After[K - 1].first = B;
            Waiting.push_back(K);
          }
    }
  }
  std::vector<llvm::BitVector> LiveAfter(Stops.size(), llvm::BitVector(N));
  llvm::DenseMap<const CFGBlock *, std::vector<unsigned>> StopsIn;
  for (const Stop &S : Stops)
    if (CallAt[S.Index - 1].first)
      StopsIn[CallAt[S.Index - 1].first].push_back(S.Index);
  for (auto &[B, Ks] : StopsIn) {
    llvm::sort(Ks, [&](unsigned X, unsigned Y) {
      return CallAt[X - 1].second > CallAt[Y - 1].second;
    });
    llvm::BitVector Live = Out[B->getBlockID()];
    unsigned I = B->size();
    for (unsigned K : Ks) {
      for (; I > CallAt[K - 1].second + 1; --I)
        Transfer((*B)[I - 1], Live);
      LiveAfter[K - 1] = Live;
    }
  }

  for (const Stop &S : Stops) {
    llvm::BitVector Live = LiveAfter[S.Index - 1];
    // The anchor runs again when the step resumes, but for the arguments of
    // its calls up to this one.
    for (const Reread &E : rereads(S.Anchor))
      if (E.Until > S.Index)
        if (int I = IndexOf(E.Var); I >= 0)
          Live.set(I);
    // What the rest reads before it writes (Clang's liveness), and what the
    // anchor reads when it runs again: a variable needed only to be written
    // to can start afresh instead of travelling.
    std::set<const VarDecl *> Reads =
        readsAfter(S, After[S.Index - 1].first, After[S.Index - 1].second, LV);
    for (unsigned I = 0; I < N; ++I) {
      Carrier &C = Carriers[I];
      if (!C.Passed.count(S.Index))
        continue;
      bool Dtor = hasEffectfulDestructor(C.Var->getType());
      if (!Live.test(I) && !Dtor)
        continue;
      C.Needed.insert(S.Index);
      if (Dtor || Reads.count(C.Var) || isa<DecompositionDecl>(C.Var) ||
          !isFreshable(C.Var->getType()))
        C.Live.insert(S.Index);
    }
    // A variable passed to an in-out parameter comes back from the callee;
    // a place passed there is named again (what names it travels).
    for (const auto &[V, Index] : S.Outs)
      Carriers[CarrierOf.lookup(V)].Needed.insert(S.Index);
    for (const auto &[E, Index] : S.Places)
      for (const DeclRefExpr *R : Refs)
        if (encloses(E, R))
          if (int I = IndexOf(R->getDecl()); I >= 0) {
            Carriers[I].Needed.insert(S.Index);
            Carriers[I].Live.insert(S.Index);
          }
  }
  // This function's own in-out parameters go back to its caller at its
  // end: they are there at every resume point.
  for (const ParmVarDecl *P : FD->parameters())
    if (isInOut(P)) {
      Carrier &C = Carriers[CarrierOf.lookup(P)];
      C.Needed.insert(C.Passed.begin(), C.Passed.end());
      C.Live.insert(C.Passed.begin(), C.Passed.end());
    }
  return true;
}

std::set<const VarDecl *>
MachineBuilder::readsAfter(const Stop &S, const CFGBlock *Block,
                           const Stmt *Next, LiveVariables *LV) const {
  std::set<const VarDecl *> Out;
  if (LV && Block)
    for (const Carrier &C : Carriers)
      if (Next ? LV->isLive(Next, C.Var) : LV->isLive(Block, C.Var))
        Out.insert(C.Var);
  // The anchor runs again: what it reads, but for the plain assignments it
  // makes and the arguments of its calls up to this one.
  for (const Reread &E : rereads(S.Anchor))
    if (!E.Assigned && E.Until > S.Index)
      Out.insert(E.Var);
  return Out;
}

bool MachineBuilder::isFreshable(QualType T, unsigned Depth) const {
  if (Depth > 12 || !isQuietType(T))
    return false;
  T = T.getCanonicalType();
  if (T->isReferenceType() || T.isConstQualified())
    return false;
  if (T->isScalarType())
    return true;
  if (const auto *A = Ctx.getAsConstantArrayType(T))
    return isFreshable(A->getElementType(), Depth + 1);
  const auto *RD = T->getAsCXXRecordDecl();
  if (!RD || !RD->hasDefinition())
    return false;
  RD = RD->getDefinition();
  if (RD->isInStdNamespace()) {
    static const char *const Containers[] = {
        "basic_string", "vector", "deque", "list", "set", "multiset",
        "unordered_set", "unordered_multiset", "map", "multimap",
        "unordered_map", "unordered_multimap", "optional"};
    for (const char *N : Containers)
      if (RD->getName() == N)
        return true;
    if (RD->getName() == "pair" || RD->getName() == "tuple" ||
        RD->getName() == "array") {
      const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD);
      if (!Spec)
        return false;
      for (const TemplateArgument &A : Spec->getTemplateArgs().asArray()) {
        if (A.getKind() == TemplateArgument::Type &&
            !isFreshable(A.getAsType(), Depth + 1))
          return false;
        if (A.getKind() == TemplateArgument::Pack)
          for (const TemplateArgument &P : A.pack_elements())
            if (P.getKind() == TemplateArgument::Type &&
                !isFreshable(P.getAsType(), Depth + 1))
              return false;
      }
      return true;
    }
    return false;
  }
  if (!RD->isAggregate() || RD->isLambda())
    return false;
  for (const CXXBaseSpecifier &B : RD->bases())
    if (!isFreshable(B.getType(), Depth + 1))
      return false;
  for (const FieldDecl *F : RD->fields())
    if (!isFreshable(F->getType(), Depth + 1))
      return false;
  return true;
}

// --- Deciding how each carrier gets there -----------------------------------

namespace {

/// Frames (unlike JSON) hold fixed-size arrays: the type to check for a
/// carried std::array or C array is its element's.
QualType carriedElementType(QualType T, const ASTContext &Ctx) {
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

} // namespace

bool MachineBuilder::decide() {
  bool OK = true;
  // A reference binds a temporary only where its initializer materializes
  // one: then it is an object like any other.
  auto IsReference = [](const VarDecl *V) {
    if (!V->getType()->isReferenceType() || isa<ParmVarDecl>(V))
      return false;
    const Expr *Init = V->getInit();
    return !(Init && isa<MaterializeTemporaryExpr>(Init->IgnoreImplicit()));
  };
  // A range-for walks its range by position after a resume: the variables
  // that name the range must be there too.
  for (const Loop &L : Loops)
    for (const DeclRefExpr *R : Refs)
      if (encloses(L.For->getRangeInit(), R))
        if (const VarDecl *V = carriedVar(R->getDecl()); V && CarrierOf.count(V)) {
          Carrier &C = Carriers[CarrierOf[V]];
          for (unsigned K = L.Lo; K <= L.Hi; ++K)
            if (C.Passed.count(K)) {
              C.Needed.insert(K);
              C.Live.insert(K);
            }
        }
  // Rebuilt carriers need what their initializer reads: iterate.
  bool Changed = true;
  std::vector<bool> Reported(Carriers.size(), false);
  while (Changed) {
    Changed = false;
    for (unsigned I = 0; I < Carriers.size(); ++I) {
      Carrier &C = Carriers[I];
      const VarDecl *V = C.Var;
      std::string WhyNotRebuilt;
      bool Pure = !C.Param && !C.LoopVar && V->getInit() &&
                  isPureInit(V->getInit(), WhyNotRebuilt) &&
                  (IsReference(V) || isQuietType(V->getType())) &&
                  (IsReference(V) || !isModified(V));
      if (C.LoopVar) {
        // A range-for's variable: a reference is bound again from the
        // cursor; a copy may have changed since, and travels where it is
        // needed (elsewhere copying it again is harmless when quiet).
        Pure = IsReference(V) ||
               (C.Needed.empty() && isQuietType(V->getType()));
      }
      std::string WhyNotCarried;
      SourceLocation NoteAt;
      std::string Note;
      QualType T = V->getType();
      if (C.Live.empty())
        ; // nothing travels: the type need not be serializable
      else if (T->isArrayType())
        WhyNotCarried = "it is a C array; a std::array travels";
      else if (IsReference(V))
        WhyNotCarried = "it is a reference, and what it refers to does not "
                        "travel with the frame";
      else if (const auto *RD = T.getNonReferenceType()->getAsCXXRecordDecl();
               RD && RD->isLambda())
        WhyNotCarried = "it is a lambda";
      else if (const CXXRecordDecl *Local = localClassIn(T))
        WhyNotCarried = "'" + Local->getNameAsString() +
                        "' is a class defined inside a function, which the "
                        "generated serializers cannot name";
      else if (const char *Held = heldResource(T))
        WhyNotCarried = std::string("it holds ") + Held +
                        ", which cannot be held while another function runs";
      else if (auto P = MC.Types.checkFrame(carriedElementType(
                   T.getNonReferenceType().getUnqualifiedType(), Ctx))) {
        WhyNotCarried = P->Reason;
        NoteAt = P->NoteLoc;
        Note = P->Note;
      } else {
        // What the runtime can rebuild from a frame (frame::IsResurrectable).
        QualType O = T.getNonReferenceType().getUnqualifiedType();
        std::string Why;
        if (!Ctx.getAsArrayType(O) && !MC.Types.isResurrectable(O))
          WhyNotCarried = isResurrectable(O, Why) ? "its constructors or "
                                                    "destructor would run "
                                                    "again when it is rebuilt "
                                                    "from the frame"
                                                  : Why;
      }
      // Needed nowhere: absent wherever a step passes it, so that nothing
      // runs its initializer again, unless only its declaration as written
      // can bind the name (an array, a function pointer spelled around the
      // name, an initializer list).
      auto Spelled = [&] {
        QualType U = T.getNonReferenceType();
        if (U->isArrayType() || U->isFunctionPointerType() ||
            U->isMemberPointerType() || V->getLocation().isMacroID() ||
            isa<DecompositionDecl>(V))
          return true;
        const auto *RD = U->getAsCXXRecordDecl();
        return RD && RD->isInStdNamespace() &&
               RD->getName() == "initializer_list";
      };
      Carrier::Kind How;
      // A constexpr variable is a constant: its declaration as written
      // gives it again in every step.
      if (V->isConstexpr())
        How = Carrier::Remat;
      else if (C.Needed.empty())
        How = Pure && (C.LoopVar || Spelled()) ? Carrier::Remat
                                               : Carrier::Slot;
      else if (C.Live.empty())
        How = Carrier::Slot; // starts afresh where it is needed
      else if (WhyNotCarried.empty() && !(Pure && C.LoopVar))
        How = Carrier::Slot;
      else if (Pure)
        How = Carrier::Remat;
      else {
        if (!Reported[I]) {
          Reported[I] = true;
          unsigned K = *C.Needed.begin();
          const Stop &S = Stops[K - 1];
          // Point at the first use after the call, where the value is needed.
          SourceLocation UseAt;
          SourceLocation After = SM.getFileLoc(S.Call->getEndLoc());
          for (const DeclRefExpr *R : Refs)
            if (carriedVar(R->getDecl()) == V &&
                SM.isBeforeInTranslationUnit(After,
                                             SM.getFileLoc(R->getBeginLoc()))) {
              UseAt = R->getBeginLoc();
              break;
            }
          // Next read on the following turn of a loop around the call.
          for (const Stmt *P = parentOf(S.Call); P && UseAt.isInvalid();
               P = parentOf(P)) {
            if (!isa<ForStmt>(P) && !isa<WhileStmt>(P) && !isa<DoStmt>(P) &&
                !isa<CXXForRangeStmt>(P))
              continue;
            for (const DeclRefExpr *R : Refs)
              if (carriedVar(R->getDecl()) == V && encloses(P, R)) {
                UseAt = R->getBeginLoc();
                break;
              }
          }
          bool Dtor = hasEffectfulDestructor(T);
          if (UseAt.isInvalid())
            UseAt = Dtor ? V->getLocation() : S.Call->getBeginLoc();
          std::string Name = isa<DecompositionDecl>(V)
                                 ? std::string("this structured binding")
                                 : "'" + V->getNameAsString() + "'";
          if (WhyNotCarried.empty())
            WhyNotCarried = WhyNotRebuilt;
          MC.Report.error(UseAt, Name + " (" + typeDisplay(T) + ") " +
                                     (Dtor && UseAt == V->getLocation()
                                          ? "is alive across the boundary and "
                                            "its destructor has effects, but "
                                            "it cannot be carried across it: "
                                          : "is used after the boundary but "
                                            "cannot be carried across it: ") +
                                     WhyNotCarried);
          MC.Report.note(V->getLocation(),
                         (isa<DecompositionDecl>(V) ? std::string("it")
                                                    : "'" + V->getNameAsString() +
                                                          "'") +
                             " is declared here");
          MC.Report.note(S.Call->getBeginLoc(),
                         "the boundary: '" + S.Callee->getNameAsString() + "' " +
                             (S.Plan->Kind == SuspensionKind::Local
                                  ? "runs as steps of its own"
                                  : "runs as its own function"));
          if (NoteAt.isValid())
            MC.Report.note(NoteAt, Note);
          OK = false;
        }
        continue;
      }
      {
        Changed |= How != C.How;
        C.How = How;
        // A range-for's reference is bound again as the loop does anyway.
        if (How == Carrier::Remat && !C.Needed.empty() &&
            !WhyNotCarried.empty() && !C.LoopVar)
          C.Reason = WhyNotCarried;
      }
      // What a rebuilt declaration reads must be there when it runs again:
      // at every resume point whose way passes it, needed there or not.
      if (How == Carrier::Remat) {
        std::vector<const Decl *> Reads;
        for (const DeclRefExpr *R : Refs)
          if (V->getInit() && encloses(V->getInit(), R))
            Reads.push_back(R->getDecl());
        for (const LambdaExpr *L : Lambdas)
          if (V->getInit() && encloses(V->getInit(), L))
            for (const LambdaCapture &Cap : L->captures())
              if (Cap.capturesVariable())
                Reads.push_back(Cap.getCapturedVar());
        for (const Decl *D : Reads) {
          const VarDecl *RV = carriedVar(D);
          auto It = RV ? CarrierOf.find(RV) : CarrierOf.end();
          if (It == CarrierOf.end() || It->second == I)
            continue;
          Carrier &Dep = Carriers[It->second];
          for (unsigned K : C.Passed)
            if (Dep.Passed.count(K)) {
              Changed |= Dep.Needed.insert(K).second;
              Changed |= Dep.Live.insert(K).second;
            }
        }
      }
    }
  }
  // What comes back from a callee is not in the frame.
  for (Carrier &C : Carriers)
    for (const auto &[K, Index] : C.FromCallee)
      C.Live.erase(K);
  return OK;
}

} // namespace machine
} // namespace cleave
