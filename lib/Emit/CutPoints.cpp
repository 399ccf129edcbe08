//===- CutPoints.cpp - Where a function stops, and the way back there ----===//
//
// Finds the calls that stop a function (the plan's suspensions), the
// statement each one stops before (its anchor), and the nesting of
// statements that leads from the body to it: a resumed step walks down that
// nesting again. Refuses the places a step cannot stop in.
//
//===----------------------------------------------------------------------===//

#include "MachineInternal.h"

#include "cleave/Analysis/StateUse.h"

#include "clang/Index/USRGeneration.h"

#include <algorithm>

using namespace clang;

namespace cleave {
namespace machine {

namespace {

/// Whether a handler of \p T catches only exceptions as they come back
/// from a boundary: a class of exception_types.def, by value or reference.
bool crossesBoundary(QualType T) {
  T = T.getNonReferenceType().getCanonicalType();
  const auto *RD = T->getAsCXXRecordDecl();
  if (!RD || !RD->isInStdNamespace() || !RD->getIdentifier())
    return false;
  std::string Name = "std::" + RD->getName().str();
  static const char *const Classes[] = {
#define CLEAVE_EXCEPTION(Class, Spelling, FromText) Spelling,
#include "cleave/exception_types.def"
#undef CLEAVE_EXCEPTION
  };
  for (const char *C : Classes)
    if (Name == C)
      return true;
  return false;
}

std::string usrOf(const Decl *D) {
  llvm::SmallString<128> Buf;
  if (index::generateUSRForDecl(D->getCanonicalDecl(), Buf))
    return {};
  return std::string(Buf);
}

/// Collects what the parts need from a body, outside lambdas where a
/// statement of the function itself is meant.
class BodyScan : public RecursiveASTVisitor<BodyScan> {
public:
  explicit BodyScan(MachineBuilder &B) : B(B) {}
  bool TraverseLambdaExpr(LambdaExpr *E) {
    B.Lambdas.push_back(E);
    ++LambdaDepth;
    bool R = RecursiveASTVisitor::TraverseLambdaExpr(E);
    --LambdaDepth;
    return R;
  }
  bool VisitCallExpr(CallExpr *E) {
    B.Calls.push_back({E, LambdaDepth ? B.Lambdas.back() : nullptr});
    return true;
  }
  bool VisitReturnStmt(ReturnStmt *S) {
    if (!LambdaDepth)
      B.Returns.push_back(S);
    return true;
  }
  bool VisitDeclRefExpr(DeclRefExpr *E) {
    B.Refs.push_back(E);
    return true;
  }
  bool VisitVarDecl(VarDecl *V) {
    if (!LambdaDepth && !isa<ParmVarDecl>(V))
      B.Locals.push_back(V);
    return true;
  }
  bool VisitDecltypeTypeLoc(DecltypeTypeLoc TL) {
    B.Decltypes.push_back(TL);
    return true;
  }
  bool VisitGotoStmt(GotoStmt *S) {
    if (!LambdaDepth)
      B.Gotos.push_back(S);
    return true;
  }
  bool VisitIndirectGotoStmt(IndirectGotoStmt *S) {
    if (!LambdaDepth)
      B.IndirectGotos.push_back(S);
    return true;
  }

private:
  MachineBuilder &B;
  unsigned LambdaDepth = 0;
};

} // namespace

bool MachineBuilder::findStops() {
  BodyScan(*this).TraverseStmt(const_cast<Stmt *>(Body));
  bool OK = true;
  for (const auto &[Call, Lambda] : Calls) {
    if (Call->getBeginLoc().isInvalid() || isNotRunHere(Call, Ctx))
      continue;
    const Suspension *Sp = MC.Plan.find(Node.USR, MC.PosOf(Call->getBeginLoc()));
    if (!Sp)
      continue;
    // Several calls may start at one position (`f(x) + s`, `f(x).size()`):
    // the suspension is the one that calls its callee.
    const FunctionDecl *Direct = Call->getDirectCallee();
    if (!Direct)
      continue;
    if (Sp->Kind == SuspensionKind::FanOut
            ? !Direct->getIdentifier() || Direct->getName() != "parallel_map"
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
    Stop S;
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
    Stops.push_back(S);
  }
  // Evaluation order: a call's arguments before the call.
  std::stable_sort(Stops.begin(), Stops.end(), [&](const Stop &A, const Stop &B) {
    return SM.isBeforeInTranslationUnit(SM.getFileLoc(A.Call->getEndLoc()),
                                        SM.getFileLoc(B.Call->getEndLoc()));
  });
  for (size_t I = 0; I < Stops.size(); ++I)
    Stops[I].Index = static_cast<unsigned>(I + 1);
  for (Stop &S : Stops)
    OK &= placeStop(S);
  return OK;
}

/// Finds the statement a stop is made before, and rejects the places a step
/// cannot resume in.
bool MachineBuilder::placeStop(Stop &S) {
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
  // A statement expression's block is a statement list of its own, which
  // the walk below would take for the function's.
  for (const Stmt *P = parentOf(S.Call); P && P != Body; P = parentOf(P))
    if (isa<StmtExpr>(P))
      return Fail("a boundary inside a statement expression cannot be cut",
                  P->getBeginLoc(), "the statement expression is here");
  // Operators between the call and its statement that decide whether (or
  // when) the call's operand runs.
  std::vector<std::pair<const Expr *, const Expr *>> Deciding; // (op, second)
  auto Anchor = [&](const Stmt *A, bool Wrap) {
    S.Anchor = A;
    S.Wrap = Wrap && !isa<CompoundStmt>(A);
    for (const auto &[Op, Second] : Deciding) {
      auto It = std::find_if(Decisions.begin(), Decisions.end(),
                             [&](const Decision &D) { return D.Op == Op; });
      if (It == Decisions.end()) {
        Decision D;
        D.Op = Op;
        D.Second = Second;
        D.First = isa<ConditionalOperator>(Op)
                      ? cast<ConditionalOperator>(Op)->getCond()
                      : cast<BinaryOperator>(Op)->getLHS();
        D.Anchor = A;
        D.Id = static_cast<unsigned>(Decisions.size() + 1);
        Decisions.push_back(D);
      }
    }
    return true;
  };
  for (const Stmt *P = parentOf(Child); P; Child = P, P = parentOf(P)) {
    if (isa<CompoundStmt>(P))
      return Anchor(Child, false);
    if (isa<CaseStmt>(P) || isa<DefaultStmt>(P) || isa<LabelStmt>(P)) {
      if (cast<Stmt>(P)->children().empty())
        continue;
      return Anchor(Child, false);
    }
    if (const auto *If = dyn_cast<IfStmt>(P)) {
      if (Child == If->getThen() || Child == If->getElse())
        return Anchor(Child, true);
      // The init-statement runs before the if, in a block of its own.
      if (Child == If->getInit())
        return Anchor(Child, false);
      continue; // the condition: the if is the anchor
    }
    // A loop's head: the condition (or the variable it declares) and the
    // increment are statements of their own inside `for (;;)`.
    if (const auto *W = dyn_cast<WhileStmt>(P))
      return Anchor(Child, Child == W->getBody());
    if (const auto *D = dyn_cast<DoStmt>(P))
      return Anchor(Child, Child == D->getBody());
    if (const auto *F = dyn_cast<ForStmt>(P))
      return Anchor(Child, Child == F->getBody());
    if (const auto *R = dyn_cast<CXXForRangeStmt>(P)) {
      if (Child == R->getBody())
        return Anchor(Child, true);
      continue; // the range: the loop is the anchor
    }
    if (const auto *Sw = dyn_cast<SwitchStmt>(P)) {
      if (Child == Sw->getBody()) {
        if (!isa<CompoundStmt>(Child))
          return Fail("a boundary in the body of a switch must be inside "
                      "braces",
                      P->getBeginLoc(), "the switch is here");
        return Anchor(Child, false);
      }
      // The init-statement runs before the switch, in a block of its own.
      if (Sw->getInit() && Child == Sw->getInit())
        return Anchor(Child, false);
      continue;
    }
    if (const auto *C = dyn_cast<ConditionalOperator>(P)) {
      if (Child != C->getCond())
        Deciding.push_back({C, C->getTrueExpr()});
      continue;
    }
    if (isa<BinaryConditionalOperator>(P))
      return Fail("a boundary in an operand of ?: without a middle operand "
                  "cannot be cut; write the condition out",
                  P->getBeginLoc(), "the conditional expression is here");
    if (const auto *B = dyn_cast<BinaryOperator>(P)) {
      if ((B->isLogicalOp() || B->isCommaOp()) && Child == B->getRHS())
        Deciding.push_back({B, B->getRHS()});
      continue;
    }
  }
  return Fail("cannot find the statement around this boundary call", {}, "");
}

std::string MachineBuilder::guardOf(const Stmt *Anchor, const Stmt *X) const {
  // Outermost first: an inner flag is set only where the outer one holds.
  std::vector<const Decision *> On;
  for (const Decision &D : Decisions)
    if (D.Anchor == Anchor && D.Op != X && encloses(D.Op, X) &&
        !encloses(D.First, X))
      On.push_back(&D);
  std::sort(On.begin(), On.end(), [&](const Decision *A, const Decision *B) {
    return encloses(A->Op, B->Op) && A->Op != B->Op;
  });
  std::string G;
  for (const Decision *D : On) {
    if (isa<BinaryOperator>(D->Op) && cast<BinaryOperator>(D->Op)->isCommaOp())
      continue; // the right operand of a comma always runs
    bool Taken = !isa<ConditionalOperator>(D->Op) || encloses(D->Second, X);
    G += std::string(G.empty() ? "" : " && ") + (Taken ? "" : "!") +
         "cleave_r.decided(" + std::to_string(D->Id) + "u)";
  }
  return G;
}

unsigned MachineBuilder::keyOf(const Stop &S) const {
  return offsetOf(S.Call->getEndLoc());
}

unsigned MachineBuilder::keyOf(const Decision &D) const {
  return offsetOf(D.Second->getBeginLoc());
}

bool MachineBuilder::decidedBefore(const Stop &J, const Stop &K) const {
  for (const Decision &D : Decisions) {
    if (D.Anchor != J.Anchor || !encloses(D.Op, J.Call))
      continue;
    // J in the condition: the decision used its value up, and K, later, is
    // in an operand decided on or after the operator, which the statement
    // runs again from the decision.
    if (encloses(D.First, J.Call) && !encloses(D.First, K.Call))
      return true;
    if (!encloses(D.Op, K.Call))
      continue;
    // J and K in the two arms of ?: never run in one evaluation.
    if (isa<ConditionalOperator>(D.Op) && !encloses(D.First, J.Call) &&
        !encloses(D.First, K.Call) &&
        encloses(D.Second, J.Call) != encloses(D.Second, K.Call))
      return true;
  }
  return false;
}

bool MachineBuilder::headOnPath(const Stmt *Loop) const {
  const Stmt *Body = nullptr;
  const VarDecl *CV = nullptr;
  const Stmt *Head[3] = {nullptr, nullptr, nullptr};
  if (const auto *W = dyn_cast<WhileStmt>(Loop)) {
    Body = W->getBody();
    CV = W->getConditionVariable();
    Head[0] = W->getCond();
    Head[1] = W->getConditionVariableDeclStmt();
  } else if (const auto *D = dyn_cast<DoStmt>(Loop)) {
    Head[0] = D->getCond();
  } else if (const auto *F = dyn_cast<ForStmt>(Loop)) {
    Body = F->getBody();
    CV = F->getConditionVariable();
    Head[0] = F->getCond();
    Head[1] = F->getConditionVariableDeclStmt();
    Head[2] = F->getInc();
  } else {
    return false;
  }
  for (const Stmt *H : Head)
    if (H && onPath(H))
      return true;
  // A variable declared in the condition, alive around a stop in the body.
  return CV && Body && onPath(Body);
}

bool MachineBuilder::isConditionVariable(const VarDecl *V) const {
  const Stmt *DS = parentOfDecl(V);
  const Stmt *P = DS && isa<DeclStmt>(DS) ? parentOf(DS) : DS;
  if (!P)
    return false;
  if (const auto *If = dyn_cast<IfStmt>(P))
    return If->getConditionVariable() == V;
  if (const auto *W = dyn_cast<WhileStmt>(P))
    return W->getConditionVariable() == V;
  if (const auto *F = dyn_cast<ForStmt>(P))
    return F->getConditionVariable() == V;
  if (const auto *Sw = dyn_cast<SwitchStmt>(P))
    return Sw->getConditionVariable() == V;
  return false;
}

bool MachineBuilder::checkGotos() {
  bool OK = true;
  for (const IndirectGotoStmt *G : IndirectGotos) {
    MC.Report.error(G->getBeginLoc(),
                    "a computed goto in a function with boundaries cannot "
                    "be resumed");
    MC.Report.note(Stops.front().Call->getBeginLoc(), "the boundary is here");
    OK = false;
  }
  for (const GotoStmt *G : Gotos) {
    SourceLocation From = SM.getFileLoc(G->getBeginLoc());
    SourceLocation To = SM.getFileLoc(G->getLabel()->getLocation());
    bool Forward = SM.isBeforeInTranslationUnit(From, To);
    SourceLocation Lo = Forward ? From : To, Hi = Forward ? To : From;
    for (const Stop &S : Stops) {
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

bool MachineBuilder::isPlace(const Expr *E) const {
  E = E->IgnoreParens();
  if (const auto *C = dyn_cast<ImplicitCastExpr>(E))
    return (C->getCastKind() == CK_NoOp ||
            C->getCastKind() == CK_ArrayToPointerDecay) &&
           isPlace(C->getSubExpr());
  if (const auto *R = dyn_cast<DeclRefExpr>(E)) {
    const auto *V = dyn_cast<VarDecl>(R->getDecl());
    return V && V->hasLocalStorage() && !isa<DecompositionDecl>(V) &&
           CarrierOf.count(V) &&
           (!V->getType()->isReferenceType() || isa<ParmVarDecl>(V));
  }
  if (isa<CXXThisExpr>(E))
    return HasSelf;
  if (const auto *M = dyn_cast<MemberExpr>(E)) {
    if (!isa<FieldDecl>(M->getMemberDecl()))
      return false;
    if (M->isArrow())
      return isa<CXXThisExpr>(M->getBase()->IgnoreParenImpCasts()) && HasSelf;
    return isPlace(M->getBase());
  }
  // An index free of side effects is the same when the step names the
  // place again at once after the callee returns.
  auto Index = [&](const Expr *I) { return !I->HasSideEffects(Ctx, false); };
  if (const auto *A = dyn_cast<ArraySubscriptExpr>(E))
    return isPlace(A->getBase()) && Index(A->getIdx());
  // `v[i]` and `v.at(i)` of a standard sequence, `m[k]` and `m.at(k)` of a
  // map. `m[k]` inserts k when it is missing, once, where the call is
  // evaluated, as in the plain program: the map carried across then holds
  // it, so naming the place again finds it.
  auto StdSequence = [](QualType T, bool Maps) {
    const auto *RD = T.getNonReferenceType()->getAsCXXRecordDecl();
    if (!RD || !RD->isInStdNamespace() || !RD->getIdentifier())
      return false;
    llvm::StringRef N = RD->getName();
    return N == "vector" || N == "deque" || N == "array" ||
           N == "basic_string" ||
           (Maps && (N == "map" || N == "unordered_map"));
  };
  if (const auto *O = dyn_cast<CXXOperatorCallExpr>(E))
    return O->getOperator() == OO_Subscript && O->getNumArgs() == 2 &&
           StdSequence(O->getArg(0)->getType(), true) &&
           isPlace(O->getArg(0)) && Index(O->getArg(1));
  if (const auto *MC2 = dyn_cast<CXXMemberCallExpr>(E)) {
    const CXXMethodDecl *MD = MC2->getMethodDecl();
    return MD && MD->getIdentifier() && MD->getName() == "at" &&
           MC2->getNumArgs() == 1 &&
           StdSequence(MC2->getImplicitObjectArgument()->getType(), true) &&
           isPlace(MC2->getImplicitObjectArgument()) && Index(MC2->getArg(0));
  }
  return false;
}

bool MachineBuilder::bindInOut() {
  bool OK = true;
  for (Stop &S : Stops) {
    // What the call passes to in-out parameters, with the index of each
    // among them: the object of a non-const member function first.
    struct InOut {
      const Expr *Arg;
      unsigned Out;
      std::string What;
      QualType Want; ///< the parameter's type, without the reference
      bool Arrow;    ///< the object of `p->f()`: Arg is the pointer
    };
    std::vector<InOut> Passed;
    unsigned Index = 0;
    if (const auto *MD = dyn_cast<CXXMethodDecl>(S.Callee);
        MD && !MD->isStatic()) {
      const auto *MCall = dyn_cast<CXXMemberCallExpr>(S.Call);
      if (!MCall) {
        MC.Report.error(S.Call->getBeginLoc(),
                        "'" + MD->getQualifiedNameAsString() +
                            "' runs as steps; call it as a member function of "
                            "an object (`shop.buy(x)`)");
        OK = false;
        continue;
      }
      const auto *ME = dyn_cast<MemberExpr>(MCall->getCallee()->IgnoreParens());
      if (!MD->isConst())
        Passed.push_back({MCall->getImplicitObjectArgument(), Index++,
                          "its object",
                          Ctx.getRecordType(MD->getParent()).getCanonicalType(),
                          ME && ME->isArrow()});
    }
    for (unsigned I = 0; I < S.Callee->getNumParams(); ++I) {
      const ParmVarDecl *P = S.Callee->getParamDecl(I);
      if (!isInOut(P))
        continue;
      const Expr *Arg = I < S.Call->getNumArgs() ? S.Call->getArg(I) : nullptr;
      if (S.Plan->Kind == SuspensionKind::FanOut || !Arg) {
        MC.Report.error(S.Call->getBeginLoc(),
                        "'" + S.Callee->getNameAsString() +
                            "' takes parameter '" + P->getNameAsString() +
                            "' by non-const reference; cleave::parallel_map "
                            "passes each element by value");
        MC.Report.note(P->getLocation(), "the parameter is declared here");
        OK = false;
        Index++;
        continue;
      }
      Passed.push_back({Arg, Index++, "parameter '" + P->getNameAsString() + "'",
                        P->getType()
                            .getNonReferenceType()
                            .getCanonicalType()
                            .getUnqualifiedType(),
                        false});
    }
    for (const auto &[Arg, Out, What, Want, Arrow] : Passed) {
      const Expr *E = Arg->IgnoreParenImpCasts();
      auto Refuse = [&](const std::string &Why) {
        MC.Report.error(Arg->getBeginLoc().isValid() ? Arg->getBeginLoc()
                                                     : S.Call->getBeginLoc(),
                        "'" + S.Callee->getQualifiedNameAsString() +
                            "' takes " + What +
                            " by non-const reference, and across a boundary "
                            "its final value comes back to what the call "
                            "passed there; " +
                            Why);
        OK = false;
      };
      // What is passed, whole: the variable, or this function's object.
      const Expr *Whole = E;
      while (true) {
        if (const auto *M = dyn_cast<MemberExpr>(Whole))
          Whole = M->getBase()->IgnoreParenImpCasts();
        else if (const auto *A = dyn_cast<ArraySubscriptExpr>(Whole))
          Whole = A->getBase()->IgnoreParenImpCasts();
        else if (const auto *O = dyn_cast<CXXOperatorCallExpr>(Whole))
          Whole = O->getArg(0)->IgnoreParenImpCasts();
        else if (const auto *C = dyn_cast<CXXMemberCallExpr>(Whole))
          Whole = C->getImplicitObjectArgument()->IgnoreParenImpCasts();
        else
          break;
      }
      const auto *R = dyn_cast<DeclRefExpr>(Whole);
      const auto *V = R ? dyn_cast<VarDecl>(R->getDecl()) : nullptr;
      if (Arrow && !isa<CXXThisExpr>(E)) {
        Refuse("call it on a variable of the calling function, or a member "
               "or element of one, not through a pointer");
        continue;
      }
      if (!isPlace(E) || (!Arrow && !E->isLValue())) {
        Refuse("pass a variable of the calling function, or a member or "
               "element of one, whose indices have no side effects");
        continue;
      }
      // Passed once: another argument naming it would see a copy, where
      // the plain program sees the object the callee changes.
      bool Again = false;
      for (unsigned J = 0; J < S.Call->getNumArgs() && !Again; ++J)
        if (S.Call->getArg(J) != Arg && J < S.Callee->getNumParams() &&
            S.Callee->getParamDecl(J)->getType()->isReferenceType())
          for (const DeclRefExpr *Ref : Refs)
            if (V && Ref->getDecl() == V && encloses(S.Call->getArg(J), Ref))
              Again = true;
      for (const InOut &O : Passed)
        if (O.Arg != Arg && !V && isa<CXXThisExpr>(Whole)) {
          // Two places in this function's object: `f(a_, b_)` may alias.
          const Expr *OW = O.Arg->IgnoreParenImpCasts();
          while (const auto *M = dyn_cast<MemberExpr>(OW))
            OW = M->getBase()->IgnoreParenImpCasts();
          Again |= isa<CXXThisExpr>(OW);
        }
      if (Again) {
        Refuse("'" + (V ? V->getNameAsString() : std::string("*this")) +
               "' is passed to it more than once");
        continue;
      }
      QualType PT = E->getType().getCanonicalType().getUnqualifiedType();
      if (E == Whole && V) {
        // A variable comes back whole, at its declaration.
        QualType VT = V->getType()
                          .getNonReferenceType()
                          .getCanonicalType()
                          .getUnqualifiedType();
        if (VT != Want) {
          Refuse("'" + V->getNameAsString() + "' is a '" + typeDisplay(VT) +
                 "', and only a variable of the parameter's own type comes "
                 "back whole");
          continue;
        }
        S.Outs.push_back({V, Out});
        Carriers[CarrierOf[V]].FromCallee[S.Index] = Out;
        continue;
      }
      if (E == Whole && isa<CXXThisExpr>(Whole)) {
        if (Class != cast<CXXMethodDecl>(S.Callee)->getParent()) {
          Refuse("'*this' is not of the member function's own class");
          continue;
        }
        SelfFromCallee[S.Index] = Out;
        continue;
      }
      // A member or an element: named again, and rebuilt in place.
      if (!MC.Types.isResurrectable(PT)) {
        Refuse("'" + typeDisplay(PT) + "' cannot be rebuilt in place");
        continue;
      }
      S.Places.push_back({E, Out});
    }
  }
  return OK;
}

bool MachineBuilder::checkHandlers() {
  bool OK = true;
  // Try statements in source order, so that errors and handler numbers
  // come out in the order of the source.
  std::vector<const CXXTryStmt *> Tries;
  for (const auto &[S, R] : Range)
    if (const auto *T = dyn_cast<CXXTryStmt>(S))
      Tries.push_back(T);
  std::sort(Tries.begin(), Tries.end(), [&](const Stmt *A, const Stmt *B) {
    return offsetOf(A->getBeginLoc()) < offsetOf(B->getBeginLoc());
  });
  for (const CXXTryStmt *T : Tries) {
    const Stop &First = Stops[rangeOf(T).first - 1];
    for (unsigned I = 0; I < T->getNumHandlers(); ++I) {
      const CXXCatchStmt *C = T->getHandler(I);
      QualType Caught = C->getCaughtType();
      // A standard class crosses as its class and what(); a class of the
      // program, as itself, where it can (Thrown.cpp).
      if (!Caught.isNull() && !crossesBoundary(Caught) &&
          !carryCaught(C, First.Call->getBeginLoc()))
        OK = false;
      if (onPath(C)) {
        Handler H;
        H.Catch = C;
        H.Try = T;
        H.Id = static_cast<unsigned>(Handlers.size() + 1);
        Handlers.push_back(H);
      }
    }
  }
  return OK;
}

void MachineBuilder::markPaths() {
  for (const Stop &S : Stops) {
    for (const Stmt *P = S.Anchor; P; P = parentOf(P)) {
      auto [It, New] = Range.try_emplace(P, S.Index, S.Index);
      if (!New) {
        It->second.first = std::min(It->second.first, S.Index);
        It->second.second = std::max(It->second.second, S.Index);
      }
      if (P == Body)
        break;
    }
  }
}

bool MachineBuilder::inStopArgs(const Stmt *X, unsigned K) const {
  // Asked for every pair of a statement and a stop: what stops pass X in
  // their arguments is found once per X, among the calls around it.
  auto [It, New] = ArgOf.try_emplace(X);
  if (New) {
    if (!Spans)
      Spans.emplace(*this);
    std::vector<unsigned> Around = Spans->around(SM, fileRange(X).getBegin());
    llvm::sort(Around);
    for (unsigned Index : Around) {
      const Stop &S = Stops[Index - 1];
      if (!encloses(S.Call, X) ||
          llvm::none_of(S.Call->arguments(),
                        [&](const Expr *A) { return encloses(A, X); }))
        continue;
      if (llvm::none_of(It->second,
                        [&](const auto &P) { return P.first == S.Anchor; }))
        It->second.push_back({S.Anchor, S.Index});
    }
  }
  return firstArgStop(It->second, Stops[K - 1].Anchor) <= K;
}

unsigned MachineBuilder::firstArgStop(
    llvm::ArrayRef<std::pair<const Stmt *, unsigned>> Firsts,
    const Stmt *Anchor) {
  for (const auto &[A, First] : Firsts)
    if (A == Anchor)
      return First;
  return ~0u;
}

const std::vector<MachineBuilder::Reread> &
MachineBuilder::rereads(const Stmt *Anchor) const {
  auto [It, New] = Rereads.try_emplace(Anchor);
  if (!New)
    return It->second;
  std::vector<Reread> &Out = It->second;
  for (const DeclRefExpr *R : refsIn(Anchor)) {
    const VarDecl *V = carriedVar(R->getDecl());
    if (!V)
      continue;
    const Stmt *P = parentOf(R);
    while (P && isa<ImplicitCastExpr>(P))
      P = parentOf(P);
    const auto *B = dyn_cast_or_null<BinaryOperator>(P);
    bool Assigned = B && B->getOpcode() == BO_Assign &&
                    B->getLHS()->IgnoreParens() == R;
    inStopArgs(R, 1); // fills ArgOf[R]
    unsigned Until = firstArgStop(ArgOf.find(R)->second, Anchor);
    auto Same = llvm::find_if(Out, [&](const Reread &E) {
      return E.Var == V && E.Assigned == Assigned;
    });
    if (Same == Out.end())
      Out.push_back({V, Assigned, Until});
    else
      Same->Until = std::max(Same->Until, Until);
  }
  return Out;
}

MachineBuilder::CallSpans::CallSpans(const MachineBuilder &M) {
  const SourceManager &SM = M.SM;
  for (const Stop &S : M.Stops) {
    SourceRange R = M.fileRange(S.Call);
    auto [F, B] = SM.getDecomposedLoc(R.getBegin());
    auto [FE, E] = SM.getDecomposedLoc(R.getEnd());
    if (F != FE || F.isInvalid())
      Loose.push_back(S.Index);
    else
      Sorted.push_back({F, B, E, S.Index, 0});
  }
  llvm::sort(Sorted, [](const Span &A, const Span &B) {
    if (A.File != B.File)
      return A.File < B.File;
    return A.Begin != B.Begin ? A.Begin < B.Begin : A.End > B.End;
  });
  // Calls nest: each one's parent is the nearest earlier span that has it.
  std::vector<unsigned> Open;
  for (unsigned I = 0; I < Sorted.size(); ++I) {
    while (!Open.empty() && (Sorted[Open.back()].File != Sorted[I].File ||
                             Sorted[Open.back()].End < Sorted[I].Begin))
      Open.pop_back();
    Sorted[I].Parent = Open.empty() ? 0 : Open.back() + 1;
    Open.push_back(I);
  }
}

std::vector<unsigned>
MachineBuilder::CallSpans::around(const SourceManager &SM,
                                  SourceLocation At) const {
  std::vector<unsigned> Out = Loose;
  auto [F, Offset] = SM.getDecomposedLoc(At);
  auto Next = std::upper_bound(
      Sorted.begin(), Sorted.end(), std::make_pair(F, Offset),
      [](const std::pair<FileID, unsigned> &P, const Span &S) {
        return P.first != S.File ? P.first < S.File : P.second < S.Begin;
      });
  unsigned I = Next - Sorted.begin(); // one past the span to start from
  while (I && (Sorted[I - 1].File != F || Sorted[I - 1].End < Offset))
    I = Sorted[I - 1].Parent;
  for (; I; I = Sorted[I - 1].Parent)
    Out.push_back(Sorted[I - 1].Stop);
  return Out;
}

const std::vector<const DeclRefExpr *> &
MachineBuilder::refsIn(const Stmt *Anchor) const {
  auto [It, New] = RefsIn.try_emplace(Anchor);
  if (New)
    for (const DeclRefExpr *R : Refs)
      if (encloses(Anchor, R))
        It->second.push_back(R);
  return It->second;
}

} // namespace machine
} // namespace cleave
