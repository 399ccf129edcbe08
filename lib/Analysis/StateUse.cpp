//===- StateUse.cpp - How an expression uses program state -------------===//

#include "cleave/Analysis/StateUse.h"

#include "clang/AST/Attr.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/StmtCXX.h"

using namespace clang;

namespace cleave {

const VarDecl *asStateVar(const Decl *D) {
  const auto *VD = dyn_cast_or_null<VarDecl>(D);
  if (!VD)
    return nullptr;
  for (const VarDecl *R : VD->redecls())
    for (const auto *A : R->specific_attrs<AnnotateAttr>())
      if (A->getAnnotation() == "cleave.state")
        return VD->getCanonicalDecl();
  return nullptr;
}

namespace {

/// Whether binding to a parameter or variable of type \p T may modify.
StateAccess bindingAccess(QualType T) {
  if (const auto *R = T->getAs<ReferenceType>())
    return R->getPointeeType().isConstQualified() ? StateAccess::Read
                                                  : StateAccess::ReadWrite;
  return StateAccess::Read;
}

/// A non-const member function picked only because the object is not const:
/// it has a const twin, and returns a reference, so what the caller does with
/// that reference decides the access (`m.at(k)` read, `m.at(k) = 1` write).
bool isAccessorOfNonConstObject(const CXXMethodDecl *MD) {
  if (!MD || MD->isConst() || !MD->getReturnType()->isLValueReferenceType())
    return false;
  for (const NamedDecl *ND : MD->getParent()->lookup(MD->getDeclName())) {
    const auto *Other = dyn_cast<CXXMethodDecl>(ND->getUnderlyingDecl());
    if (Other && Other != MD && Other->isConst() &&
        Other->getNumParams() == MD->getNumParams())
      return true;
  }
  return false;
}

} // namespace

bool isUnevaluatedUse(const Expr *Ref, ASTContext &Ctx) {
  DynTypedNode Node = DynTypedNode::create(*Ref);
  for (unsigned Depth = 0; Depth < 64; ++Depth) {
    auto Parents = Ctx.getParents(Node);
    if (Parents.empty())
      return false;
    const DynTypedNode &P = Parents[0];
    if (const auto *U = P.get<UnaryExprOrTypeTraitExpr>())
      return U->getKind() != UETT_VecStep;
    if (P.get<CXXNoexceptExpr>())
      return true;
    if (const auto *T = P.get<CXXTypeidExpr>())
      return !T->isPotentiallyEvaluated();
    if (P.get<TypeLoc>())
      return true; // decltype(x) and friends
    if (P.get<Decl>())
      return false;
    Node = P;
  }
  return false;
}

StateAccess classifyStateUse(const Expr *Ref, ASTContext &Ctx) {
  const Expr *Cur = Ref;
  for (unsigned Depth = 0; Depth < 64; ++Depth) {
    auto Parents = Ctx.getParents(*Cur);
    if (Parents.empty())
      return StateAccess::ReadWrite;
    const DynTypedNode &P = Parents[0];

    if (const auto *ICE = P.get<ImplicitCastExpr>()) {
      if (ICE->getCastKind() == CK_LValueToRValue)
        return StateAccess::Read;
      if (ICE->getCastKind() == CK_NoOp ||
          ICE->getCastKind() == CK_DerivedToBase ||
          ICE->getCastKind() == CK_UncheckedDerivedToBase) {
        // A cast to const is how a const member function gets its object.
        if (ICE->getType().isConstQualified())
          return StateAccess::Read;
        Cur = ICE;
        continue;
      }
      return StateAccess::Read;
    }
    if (const auto *PE = P.get<ParenExpr>()) {
      Cur = PE;
      continue;
    }
    if (const auto *ME = P.get<MemberExpr>()) {
      if (const auto *MD = dyn_cast<CXXMethodDecl>(ME->getMemberDecl())) {
        if (MD->isConst() || MD->isStatic())
          return StateAccess::Read;
        if (!isAccessorOfNonConstObject(MD))
          return StateAccess::ReadWrite;
        // Follow the call's result instead.
        auto CallParents = Ctx.getParents(*ME);
        const auto *Call = CallParents.empty()
                               ? nullptr
                               : CallParents[0].get<CXXMemberCallExpr>();
        if (!Call)
          return StateAccess::ReadWrite;
        Cur = Call;
        continue;
      }
      Cur = ME; // a data member of the state object
      continue;
    }
    if (const auto *AS = P.get<ArraySubscriptExpr>()) {
      if (AS->getBase()->IgnoreParenImpCasts() == Cur->IgnoreParenImpCasts()) {
        Cur = AS;
        continue;
      }
      return StateAccess::Read;
    }
    if (const auto *Op = P.get<CXXOperatorCallExpr>()) {
      const auto *MD = dyn_cast_or_null<CXXMethodDecl>(Op->getCalleeDecl());
      if (Op->getNumArgs() > 0 && Op->getArg(0) == Cur) {
        if (MD) {
          if (MD->isConst())
            return StateAccess::Read;
          if (Op->getOperator() == OO_Equal)
            return StateAccess::Write;
          // v[i] on a vector is an accessor; m[k] on a map inserts.
          if (isAccessorOfNonConstObject(MD)) {
            Cur = Op;
            continue;
          }
          return StateAccess::ReadWrite;
        }
      }
      // An argument of an operator: like a call argument.
      if (const auto *FD =
              dyn_cast_or_null<FunctionDecl>(Op->getCalleeDecl())) {
        for (unsigned I = 0; I < Op->getNumArgs(); ++I) {
          if (Op->getArg(I) != Cur)
            continue;
          unsigned ParamIdx = MD ? I - 1 : I;
          if (MD && I == 0)
            return StateAccess::ReadWrite;
          if (ParamIdx < FD->getNumParams())
            return bindingAccess(FD->getParamDecl(ParamIdx)->getType());
        }
      }
      return StateAccess::ReadWrite;
    }
    if (const auto *BO = P.get<BinaryOperator>()) {
      if (BO->getLHS() == Cur) {
        if (BO->getOpcode() == BO_Assign)
          return StateAccess::Write;
        if (BO->isCompoundAssignmentOp())
          return StateAccess::ReadWrite;
      }
      return StateAccess::Read;
    }
    if (const auto *UO = P.get<UnaryOperator>()) {
      if (UO->isIncrementDecrementOp() || UO->getOpcode() == UO_AddrOf)
        return StateAccess::ReadWrite;
      return StateAccess::Read;
    }
    if (const auto *Call = P.get<CallExpr>()) {
      const auto *FD = Call->getDirectCallee();
      if (!FD)
        return StateAccess::ReadWrite;
      for (unsigned I = 0; I < Call->getNumArgs() && I < FD->getNumParams();
           ++I)
        if (Call->getArg(I) == Cur)
          return bindingAccess(FD->getParamDecl(I)->getType());
      return StateAccess::ReadWrite;
    }
    if (const auto *CE = P.get<CXXConstructExpr>()) {
      const CXXConstructorDecl *Ctor = CE->getConstructor();
      for (unsigned I = 0; I < CE->getNumArgs() && I < Ctor->getNumParams();
           ++I)
        if (CE->getArg(I) == Cur)
          return bindingAccess(Ctor->getParamDecl(I)->getType());
      return StateAccess::ReadWrite;
    }
    if (const auto *VD = P.get<VarDecl>()) {
      // `for (x : state)` binds the hidden __range variable by auto&&: what
      // matters is how the loop variable binds each element.
      if (VD->isImplicit()) {
        for (const auto &DS : Ctx.getParents(*VD))
          for (const auto &FP : Ctx.getParents(DS))
            if (const auto *FR = FP.get<CXXForRangeStmt>())
              if (const VarDecl *LV = FR->getLoopVariable())
                return bindingAccess(LV->getType());
      }
      return bindingAccess(VD->getType());
    }
    if (P.get<ReturnStmt>()) {
      // Returning a copy reads; returning a reference lets the caller write.
      return Cur->isLValue() && Cur->getType()->isReferenceType()
                 ? StateAccess::ReadWrite
                 : StateAccess::Read;
    }
    if (const auto *FR = P.get<CXXForRangeStmt>()) {
      if (const VarDecl *LV = FR->getLoopVariable())
        return bindingAccess(LV->getType());
      return StateAccess::ReadWrite;
    }
    if (const auto *MT = P.get<MaterializeTemporaryExpr>()) {
      Cur = MT;
      continue;
    }
    if (P.get<ConditionalOperator>()) {
      Cur = P.get<ConditionalOperator>();
      continue;
    }
    return StateAccess::ReadWrite;
  }
  return StateAccess::ReadWrite;
}

} // namespace cleave
