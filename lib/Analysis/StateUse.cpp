//===- StateUse.cpp - How an expression uses program state -------------===//

#include "cleave/Analysis/StateUse.h"

#include "clang/AST/Attr.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

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

namespace {

/// Whether \p E sits in an unevaluated operand or, with \p Constant, in an
/// expression the C++ compiler evaluates: one walk up its parents.
bool outsideRun(const Expr *E, ASTContext &Ctx, bool Constant) {
  DynTypedNode Node = DynTypedNode::create(*E);
  for (unsigned Depth = 0, Limit = Constant ? 256 : 64; Depth < Limit;
       ++Depth) {
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
      return true; // decltype(x) and friends, template arguments in types
    if (Constant) {
      if (P.get<ConstantExpr>() || P.get<StaticAssertDecl>())
        return true;
      if (const auto *If = P.get<IfStmt>())
        return If->isConstexpr() && Node.get<Stmt>() == If->getCond();
      if (const auto *VD = P.get<VarDecl>())
        return VD->isConstexpr();
    }
    if (P.get<Decl>())
      return false;
    Node = P;
  }
  return false;
}

} // namespace

bool isUnevaluatedUse(const Expr *Ref, ASTContext &Ctx) {
  return outsideRun(Ref, Ctx, /*Constant=*/false);
}

bool isNotRunHere(const Expr *E, ASTContext &Ctx) {
  return outsideRun(E, Ctx, /*Constant=*/true);
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
      if (ICE->getCastKind() == CK_ArrayToPointerDecay) {
        // An array used as a pointer: `a[i]` goes on as the element; any
        // other use may write through a pointer to non-const.
        auto Up = Ctx.getParents(*ICE);
        if (!Up.empty() && Up[0].get<ArraySubscriptExpr>()) {
          Cur = ICE;
          continue;
        }
        return ICE->getType()->getPointeeType().isConstQualified()
                   ? StateAccess::Read
                   : StateAccess::ReadWrite;
      }
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
    if (const auto *IL = P.get<InitListExpr>()) {
      // `{x}`: x initializes what the list makes, which binds as the list
      // does (`const T &r{x}` reads x), unless a reference member of an
      // aggregate that the list makes may write it.
      if (const auto *RD = IL->getType()->getAsCXXRecordDecl())
        for (const FieldDecl *F : RD->fields())
          if (F->getType()->isReferenceType() &&
              !F->getType().getNonReferenceType().isConstQualified())
            return StateAccess::ReadWrite;
      Cur = IL;
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

QualType perKeyType(QualType T, std::string &WhyNot) {
  const auto *Spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      T->getAsCXXRecordDecl());
  if (!Spec || !Spec->isInStdNamespace() ||
      (Spec->getName() != "map" && Spec->getName() != "unordered_map")) {
    WhyNot = "its type is not a std::map or std::unordered_map";
    return QualType();
  }
  // Serializable maps are keyed by std::string (Serializable.h), and that
  // is what "name/<key>" spells.
  QualType Key = Spec->getTemplateArgs()[0].getAsType().getCanonicalType();
  const auto *Str = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      Key->getAsCXXRecordDecl());
  if (Str && Str->isInStdNamespace() && Str->getName() == "basic_string")
    return Spec->getTemplateArgs()[0].getAsType();
  WhyNot = "its key type is not std::string";
  return QualType();
}

namespace {

/// \p E without the implicit nodes around a class value: casts, parens,
/// temporaries, and implicit copies or conversions of it.
const Expr *stripValue(const Expr *E) {
  for (;;) {
    const Expr *Next = E->IgnoreParenImpCasts();
    if (const auto *M = dyn_cast<MaterializeTemporaryExpr>(Next))
      Next = M->getSubExpr();
    else if (const auto *B = dyn_cast<CXXBindTemporaryExpr>(Next))
      Next = B->getSubExpr();
    else if (const auto *C = dyn_cast<ExprWithCleanups>(Next))
      Next = C->getSubExpr();
    else if (const auto *CE = dyn_cast<CXXConstructExpr>(Next);
             CE && CE->getNumArgs() == 1 && !isa<CXXTemporaryObjectExpr>(CE))
      Next = CE->getArg(0); // a copy, a move, or iterator to const_iterator
    if (Next == E)
      return E;
    E = Next;
  }
}

/// The parent of \p E above the implicit nodes stripValue() skips.
DynTypedNode valueParent(const Expr *E, ASTContext &Ctx, const Expr *&Child) {
  Child = E;
  for (unsigned Depth = 0; Depth < 16; ++Depth) {
    auto Parents = Ctx.getParents(*Child);
    if (Parents.empty())
      return DynTypedNode();
    const Expr *P = Parents[0].get<Expr>();
    if (!P || stripValue(P) != stripValue(Child))
      return Parents[0];
    Child = P;
  }
  return DynTypedNode();
}

const VarDecl *stateVarOf(const Expr *E) {
  E = E->IgnoreParenImpCasts();
  if (const auto *R = dyn_cast<DeclRefExpr>(E))
    return asStateVar(R->getDecl());
  if (const auto *M = dyn_cast<MemberExpr>(E))
    return asStateVar(M->getMemberDecl());
  return nullptr;
}

/// `SV.name(...)` for one of \p Names.
bool isStateCall(const Expr *E, const VarDecl *SV,
                 std::initializer_list<llvm::StringRef> Names) {
  const auto *Call = dyn_cast<CXXMemberCallExpr>(stripValue(E));
  if (!Call)
    return false;
  const auto *MD = Call->getMethodDecl();
  if (!MD || !MD->getIdentifier() ||
      llvm::find(Names, MD->getName()) == Names.end())
    return false;
  return stateVarOf(Call->getImplicitObjectArgument()) == SV;
}

/// Whether \p VD is a local `auto it = SV.find(k)`.
bool isFindIterator(const VarDecl *VD, const VarDecl *SV) {
  return VD && VD->isLocalVarDecl() && !VD->getType()->isReferenceType() &&
         VD->getType()->getContainedAutoType() && VD->getInit() &&
         isStateCall(VD->getInit(), SV, {"find"});
}

/// \p E names such a local.
bool namesFindIterator(const Expr *E, const VarDecl *SV) {
  const auto *R = dyn_cast<DeclRefExpr>(stripValue(E));
  return R && isFindIterator(dyn_cast<VarDecl>(R->getDecl()), SV);
}

/// `a == b` or `a != b`, as an overloaded operator or a built-in one.
bool comparison(const DynTypedNode &P, const Expr *&L, const Expr *&R) {
  if (const auto *Op = P.get<CXXOperatorCallExpr>()) {
    if ((Op->getOperator() != OO_EqualEqual &&
         Op->getOperator() != OO_ExclaimEqual) ||
        Op->getNumArgs() != 2)
      return false;
    L = Op->getArg(0);
    R = Op->getArg(1);
    return true;
  }
  if (const auto *BO = P.get<BinaryOperator>()) {
    if (BO->getOpcode() != BO_EQ && BO->getOpcode() != BO_NE)
      return false;
    L = BO->getLHS();
    R = BO->getRHS();
    return true;
  }
  return false;
}

/// Whether \p E, an iterator from SV.find(), is compared with SV.end().
bool comparedWithEnd(const Expr *E, const VarDecl *SV, ASTContext &Ctx) {
  const Expr *Child;
  DynTypedNode P = valueParent(E, Ctx, Child);
  const Expr *L, *R;
  if (!comparison(P, L, R))
    return false;
  const Expr *Other = stripValue(L) == stripValue(Child) ? R : L;
  return isStateCall(Other, SV, {"end", "cend"});
}

/// Every use of \p It (from SV.find()) in its function: `it->`, `*it`, and
/// comparisons with SV.end(), which a per-key map offers too.
bool iteratorUsesAreKeyed(const VarDecl *It, const VarDecl *SV,
                          ASTContext &Ctx) {
  const DeclContext *DC = It->getParentFunctionOrMethod();
  const auto *FD = dyn_cast_or_null<FunctionDecl>(DC);
  if (!FD || !FD->getBody())
    return false;
  struct Uses : RecursiveASTVisitor<Uses> {
    const VarDecl *Var;
    std::vector<const DeclRefExpr *> Found;
    bool VisitDeclRefExpr(DeclRefExpr *E) {
      if (E->getDecl() == Var)
        Found.push_back(E);
      return true;
    }
  } U;
  U.Var = It;
  U.TraverseStmt(FD->getBody());
  for (const DeclRefExpr *Use : U.Found) {
    const Expr *Child;
    DynTypedNode P = valueParent(Use, Ctx, Child);
    if (const auto *Op = P.get<CXXOperatorCallExpr>())
      if ((Op->getOperator() == OO_Arrow || Op->getOperator() == OO_Star) &&
          Op->getNumArgs() == 1)
        continue;
    if (!comparedWithEnd(Use, SV, Ctx))
      return false;
  }
  return true;
}

} // namespace

const VarDecl *findIteratorSource(const VarDecl *Local) {
  if (!Local || !Local->getInit())
    return nullptr;
  const auto *Call = dyn_cast<CXXMemberCallExpr>(stripValue(Local->getInit()));
  if (!Call)
    return nullptr;
  const VarDecl *SV = stateVarOf(Call->getImplicitObjectArgument());
  return SV && isFindIterator(Local, SV) ? SV : nullptr;
}

bool isKeyedUse(const Expr *Ref, ASTContext &Ctx, std::string &What) {
  const VarDecl *SV = stateVarOf(Ref);
  const Expr *Cur = Ref;
  for (unsigned Depth = 0; Depth < 8; ++Depth) {
    auto Parents = Ctx.getParents(*Cur);
    if (Parents.empty())
      break;
    const DynTypedNode &P = Parents[0];
    if (const auto *PE = P.get<ParenExpr>()) {
      Cur = PE;
      continue;
    }
    if (const auto *ICE = P.get<ImplicitCastExpr>()) {
      if (ICE->getCastKind() == CK_NoOp) {
        Cur = ICE;
        continue;
      }
      What = "reads it as a whole";
      return false;
    }
    if (const auto *Op = P.get<CXXOperatorCallExpr>()) {
      if (Op->getOperator() == OO_Subscript && Op->getNumArgs() == 2 &&
          Op->getArg(0) == Cur)
        return true;
      What = std::string("applies 'operator") +
             getOperatorSpelling(Op->getOperator()) + "' to it";
      return false;
    }
    if (const auto *ME = P.get<MemberExpr>()) {
      const auto *MD = dyn_cast<CXXMethodDecl>(ME->getMemberDecl());
      if (!MD || !MD->getIdentifier()) {
        What = "uses a member of it";
        return false;
      }
      llvm::StringRef Name = MD->getName();
      auto CallParents = Ctx.getParents(*ME);
      const auto *Call = CallParents.empty()
                             ? nullptr
                             : CallParents[0].get<CXXMemberCallExpr>();
      What = "calls '" + Name.str() + "'";
      if (!Call)
        return false;
      unsigned Args = Call->getNumArgs();
      if (Args == 1 && (Name == "at" || Name == "count" || Name == "contains"))
        return true;
      if (Args == 1 && Name == "erase" && MD->getNumParams() == 1) {
        // erase(key), not erase(iterator).
        const auto *Spec =
            cast<ClassTemplateSpecializationDecl>(MD->getParent());
        QualType Param = MD->getParamDecl(0)
                             ->getType()
                             .getNonReferenceType()
                             .getUnqualifiedType()
                             .getCanonicalType();
        return Param ==
               Spec->getTemplateArgs()[0].getAsType().getCanonicalType();
      }
      if (Args == 1 && Name == "find") {
        // The iterator is compared with end() at once, or kept in an auto
        // local that is only dereferenced and compared with end().
        if (comparedWithEnd(Call, SV, Ctx))
          return true;
        const Expr *Child;
        DynTypedNode VP = valueParent(Call, Ctx, Child);
        const auto *It = VP.get<VarDecl>();
        if (isFindIterator(It, SV) && iteratorUsesAreKeyed(It, SV, Ctx))
          return true;
        What = "calls 'find' and uses the iterator other than by '->', '*' "
               "or a comparison with end()";
        return false;
      }
      if (Args == 0 && (Name == "end" || Name == "cend")) {
        const Expr *Child;
        DynTypedNode CP = valueParent(Call, Ctx, Child);
        const Expr *L, *R;
        if (comparison(CP, L, R)) {
          const Expr *Other = stripValue(L) == stripValue(Child) ? R : L;
          if (isStateCall(Other, SV, {"find"}) ||
              namesFindIterator(Other, SV))
            return true;
        }
        What = "calls '" + Name.str() +
               "' other than to compare an iterator from find() with it";
        return false;
      }
      return false;
    }
    if (P.get<CXXForRangeStmt>() ||
        (P.get<VarDecl>() && P.get<VarDecl>()->isImplicit())) {
      What = "iterates over it";
      return false;
    }
    if (const auto *VD = P.get<VarDecl>()) {
      What = "binds it to '" + VD->getName().str() + "'";
      return false;
    }
    if (const auto *Call = P.get<CallExpr>()) {
      if (const FunctionDecl *FD = Call->getDirectCallee())
        if (FD->getIdentifier()) {
          What = "passes it to '" + FD->getName().str() + "'";
          return false;
        }
      What = "passes it to a function";
      return false;
    }
    if (P.get<CXXConstructExpr>()) {
      What = "copies it";
      return false;
    }
    if (P.get<BinaryOperator>()) {
      What = "assigns or compares it whole";
      return false;
    }
    if (P.get<UnaryOperator>()) {
      What = "takes its address";
      return false;
    }
    if (P.get<ReturnStmt>()) {
      What = "returns it";
      return false;
    }
    break;
  }
  What = "uses it as a whole";
  return false;
}

// --- Which state a function may reach -------------------------------------

namespace {

/// What one function definition does directly: state it names, functions it
/// may run, and calls whose target cannot be known.
struct Summary {
  llvm::MapVector<const VarDecl *, StateAccess> State;
  llvm::SetVector<const FunctionDecl *> Callees;
  llvm::SetVector<const CXXRecordDecl *> Dispatch;
  bool Unknown = false;
  /// The first call that made it Unknown, and why.
  SourceLocation UnknownLoc;
  std::string UnknownWhy;
};

/// Declared in a system header, or implicitly by the compiler.
bool isLibrary(const Decl *D) {
  SourceLocation L = D->getLocation();
  const SourceManager &SM = D->getASTContext().getSourceManager();
  return L.isInvalid() || SM.isInSystemHeader(SM.getExpansionLoc(L));
}

/// The destructor that ends an object of type \p T (or the elements of an
/// array of it), when it does anything.
const CXXDestructorDecl *destructorOf(QualType T, const ASTContext &Ctx) {
  if (T.isNull() || T->isReferenceType() || T->isDependentType())
    return nullptr;
  const auto *RD = Ctx.getBaseElementType(T)->getAsCXXRecordDecl();
  if (!RD || !RD->hasDefinition() || RD->hasTrivialDestructor())
    return nullptr;
  return RD->getDestructor();
}

class SummaryVisitor : public RecursiveASTVisitor<SummaryVisitor> {
public:
  SummaryVisitor(ASTContext &Ctx, Summary &S) : Ctx(Ctx), S(S) {}
  bool shouldVisitTemplateInstantiations() const { return true; }
  // Default arguments, default member initializers, the implicit parts of
  // range-for and the member initializers Sema adds run as written ones do.
  bool shouldVisitImplicitCode() const { return true; }
  // A lambda's body runs when its call operator is called: an edge below.
  bool shouldVisitLambdaBody() const { return false; }

  // Types hold only unevaluated and constant operands.
  bool TraverseTypeLoc(TypeLoc) { return true; }
  bool TraverseNestedNameSpecifierLoc(NestedNameSpecifierLoc) { return true; }
  bool TraverseUnaryExprOrTypeTraitExpr(UnaryExprOrTypeTraitExpr *E) {
    return E->getKind() == UETT_VecStep
               ? RecursiveASTVisitor::TraverseUnaryExprOrTypeTraitExpr(E)
               : true;
  }
  bool TraverseCXXNoexceptExpr(CXXNoexceptExpr *) { return true; }
  bool TraverseCXXTypeidExpr(CXXTypeidExpr *E) {
    return E->isPotentiallyEvaluated()
               ? RecursiveASTVisitor::TraverseCXXTypeidExpr(E)
               : true;
  }

  bool VisitCallExpr(CallExpr *E) {
    if (isa<CXXPseudoDestructorExpr>(E->getCallee()->IgnoreParenImpCasts()))
      return true;
    const FunctionDecl *F = E->getDirectCallee();
    // cleave::parallel_map(items, fn) over a named function runs fn: its
    // plain definition calls fn through a reference, which would count as
    // a call the analysis cannot follow.
    if (const FunctionDecl *Fn = F ? fanOutTarget(E, F) : nullptr) {
      callee(Fn);
      FanOutNames.insert(E->getCallee()->IgnoreParenImpCasts());
      return true;
    }
    if (!F) {
      if (!E->isTypeDependent() && !E->isValueDependent())
        unknown(E, "calls through a function or member pointer");
      return true;
    }
    if (const auto *MD = dyn_cast<CXXMethodDecl>(F); MD && MD->isVirtual()) {
      const Expr *Base = nullptr;
      bool Qualified = false;
      if (const auto *MC = dyn_cast<CXXMemberCallExpr>(E)) {
        if (const auto *ME =
                dyn_cast<MemberExpr>(MC->getCallee()->IgnoreParens())) {
          Qualified = ME->hasQualifier();
          Base = ME->getBase();
        }
      } else if (const auto *OC = dyn_cast<CXXOperatorCallExpr>(E)) {
        if (OC->getNumArgs() > 0)
          Base = OC->getArg(0);
      }
      if (!Qualified) {
        const CXXMethodDecl *Target =
            Base ? MD->getDevirtualizedMethod(Base, /*IsAppleKext=*/false)
                 : nullptr;
        if (Target)
          F = Target;
        else
          dispatch(MD, E);
      }
    }
    callee(F);
    const FunctionDecl *Def = nullptr;
    if (!F->hasBody(Def) && isLibrary(F))
      libraryCall(E);
    return true;
  }
  bool VisitCXXConstructExpr(CXXConstructExpr *E) {
    callee(E->getConstructor());
    return true;
  }
  bool VisitCXXInheritedCtorInitExpr(CXXInheritedCtorInitExpr *E) {
    callee(E->getConstructor());
    return true;
  }
  bool VisitCXXBindTemporaryExpr(CXXBindTemporaryExpr *E) {
    if (const CXXTemporary *T = E->getTemporary())
      callee(T->getDestructor());
    return true;
  }
  bool VisitVarDecl(VarDecl *VD) {
    callee(destructorOf(VD->getType(), Ctx));
    return true;
  }
  bool VisitCXXNewExpr(CXXNewExpr *E) {
    callee(E->getOperatorNew());
    callee(E->getOperatorDelete());
    return true;
  }
  bool VisitCXXDeleteExpr(CXXDeleteExpr *E) {
    callee(E->getOperatorDelete());
    if (const CXXDestructorDecl *D = destructorOf(E->getDestroyedType(), Ctx)) {
      if (D->isVirtual() &&
          !D->getDevirtualizedMethod(E->getArgument(), /*IsAppleKext=*/false))
        dispatch(D, E);
      callee(D);
    }
    return true;
  }
  bool VisitCXXThrowExpr(CXXThrowExpr *E) {
    if (const Expr *Sub = E->getSubExpr())
      callee(destructorOf(Sub->getType(), Ctx));
    return true;
  }
  bool VisitDeclRefExpr(DeclRefExpr *E) {
    if (const VarDecl *SV = asStateVar(E->getDecl()))
      state(SV, E);
    else if (const auto *F = dyn_cast<FunctionDecl>(E->getDecl());
             F && !FanOutNames.count(E))
      callee(F); // its address may be taken and called later
    return true;
  }
  bool VisitMemberExpr(MemberExpr *E) {
    if (const VarDecl *SV = asStateVar(E->getMemberDecl()))
      state(SV, E);
    return true;
  }
  bool VisitLambdaExpr(LambdaExpr *E) {
    callee(E->getCallOperator());
    return true;
  }

  /// What ending an object of class \p RD runs besides its destructor's
  /// body: the destructors of its members and bases.
  void members(const CXXRecordDecl *RD) {
    if (!RD || !RD->hasDefinition())
      return;
    for (const FieldDecl *F : RD->fields())
      callee(destructorOf(F->getType(), Ctx));
    for (const CXXBaseSpecifier &B : RD->bases())
      callee(destructorOf(B.getType(), Ctx));
    for (const CXXBaseSpecifier &B : RD->vbases())
      callee(destructorOf(B.getType(), Ctx));
  }

  void callee(const FunctionDecl *F) {
    if (!F)
      return;
    // A template stands for its instantiations.
    if (const FunctionTemplateDecl *T = F->getDescribedFunctionTemplate()) {
      for (const FunctionDecl *Spec : T->specializations())
        callee(Spec);
      return;
    }
    if (F->isDependentContext())
      return;
    S.Callees.insert(F->getCanonicalDecl());
  }

private:
  /// The function \p E, a call of \p F, fans out over when it is
  /// cleave::parallel_map(items, fn) with fn naming a function.
  static const FunctionDecl *fanOutTarget(const CallExpr *E,
                                          const FunctionDecl *F) {
    const auto *NS = dyn_cast<NamespaceDecl>(F->getDeclContext());
    if (F->getName() != "parallel_map" || E->getNumArgs() != 2 || !NS ||
        NS->getName() != "cleave" || !NS->getParent()->isTranslationUnit())
      return nullptr;
    const Expr *Fn = E->getArg(1)->IgnoreParenImpCasts();
    if (const auto *U = dyn_cast<UnaryOperator>(Fn))
      Fn = U->getSubExpr()->IgnoreParenImpCasts();
    const auto *Ref = dyn_cast<DeclRefExpr>(Fn);
    return Ref ? dyn_cast<FunctionDecl>(Ref->getDecl()) : nullptr;
  }

  /// A virtual call of \p MD at \p E that cannot be resolved here.
  void dispatch(const CXXMethodDecl *MD, const Expr *E) {
    if (isLibrary(MD->getParent()))
      S.Dispatch.insert(MD->getParent()->getCanonicalDecl());
    else
      unknown(E, "makes a virtual call of '" +
                     MD->getQualifiedNameAsString() + "'");
  }

  void unknown(const Expr *E, std::string Why) {
    if (!S.Unknown) {
      S.UnknownLoc = E->getExprLoc();
      S.UnknownWhy = std::move(Why);
    }
    S.Unknown = true;
  }

  /// A call of a library function the unit does not define: it can reach
  /// the program only through a function or member pointer, or through the
  /// virtual functions of an object it is given.
  void libraryCall(const CallExpr *E) {
    llvm::SmallVector<QualType, 4> Types;
    if (const auto *MC = dyn_cast<CXXMemberCallExpr>(E))
      if (const Expr *Obj = MC->getImplicitObjectArgument())
        Types.push_back(Obj->getType());
    for (const Expr *A : E->arguments())
      Types.push_back(A->getType());
    for (QualType T : Types) {
      T = T.getNonReferenceType();
      while (T->isPointerType())
        T = T->getPointeeType();
      T = Ctx.getBaseElementType(T);
      if (T->isFunctionType() || T->isMemberPointerType()) {
        unknown(E, "gives library function '" +
                       E->getDirectCallee()->getQualifiedNameAsString() +
                       "' a function or member pointer");
        continue;
      }
      const auto *RD = T->getAsCXXRecordDecl();
      if (!RD || !RD->hasDefinition() || !RD->isPolymorphic())
        continue;
      if (isLibrary(RD))
        S.Dispatch.insert(RD->getCanonicalDecl());
      else
        unknown(E, "gives library function '" +
                       E->getDirectCallee()->getQualifiedNameAsString() +
                       "' an object of polymorphic class '" +
                       RD->getQualifiedNameAsString() + "'");
    }
  }

  void state(const VarDecl *SV, const Expr *E) {
    if (E->containsErrors() || isUnevaluatedUse(E, Ctx))
      return;
    StateAccess Acc = classifyStateUse(E, Ctx);
    auto [It, New] = S.State.insert({SV, Acc});
    if (!New)
      It->second = It->second | Acc;
  }

  ASTContext &Ctx;
  Summary &S;
  /// The names of cleave::parallel_map in fan-outs over a named function,
  /// visited after their call: they do not count as calls of its plain
  /// definition.
  llvm::SmallPtrSet<const Expr *, 4> FanOutNames;
};

/// Whether \p T names something of the program: a class defined outside
/// system headers, or a library template instantiated with one.
bool involvesProgram(QualType T, unsigned Depth = 0);

bool involvesProgram(const TemplateArgument &A, unsigned Depth) {
  switch (A.getKind()) {
  case TemplateArgument::Type:
    return involvesProgram(A.getAsType(), Depth + 1);
  case TemplateArgument::Declaration:
    return !isLibrary(A.getAsDecl());
  case TemplateArgument::Pack:
    for (const TemplateArgument &P : A.pack_elements())
      if (involvesProgram(P, Depth))
        return true;
    return false;
  default:
    return false;
  }
}

bool involvesProgram(QualType T, unsigned Depth) {
  if (T.isNull() || Depth > 16)
    return false;
  T = T.getNonReferenceType();
  while (T->isPointerType() || T->isArrayType())
    T = T->isPointerType() ? T->getPointeeType()
                           : QualType(T->getArrayElementTypeNoTypeQual(), 0);
  if (const auto *FT = T->getAs<FunctionProtoType>()) {
    if (involvesProgram(FT->getReturnType(), Depth + 1))
      return true;
    for (QualType P : FT->param_types())
      if (involvesProgram(P, Depth + 1))
        return true;
    return false;
  }
  const auto *RD = T->getAsCXXRecordDecl();
  if (!RD)
    return false;
  if (!isLibrary(RD))
    return true;
  if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD))
    for (const TemplateArgument &A : Spec->getTemplateArgs().asArray())
      if (involvesProgram(A, Depth + 1))
        return true;
  return false;
}

/// Collects the library classes that classes of the program derive from: a
/// class defined outside system headers, or a library template instantiated
/// with one (the control block of a std::shared_ptr<T> ends a T of the
/// program in a virtual function of a library base).
class DerivedVisitor : public RecursiveASTVisitor<DerivedVisitor> {
public:
  bool shouldVisitTemplateInstantiations() const { return true; }
  bool VisitCXXRecordDecl(CXXRecordDecl *RD) {
    if (!RD->isThisDeclarationADefinition() || RD->isDependentType() ||
        !involvesProgram(QualType(RD->getTypeForDecl(), 0)))
      return true;
    RD->forallBases([&](const CXXRecordDecl *Base) {
      if (isLibrary(Base))
        Bases.insert(Base->getCanonicalDecl());
      return true;
    });
    return true;
  }
  llvm::SetVector<const CXXRecordDecl *> Bases;
};

} // namespace

struct StateReachAnalysis::Impl {
  explicit Impl(ASTContext &Ctx) : Ctx(Ctx) {}

  const Summary &summary(const FunctionDecl *Def) {
    auto It = Cache.find(Def);
    if (It != Cache.end())
      return *It->second;
    auto S = std::make_unique<Summary>();
    SummaryVisitor V(Ctx, *S);
    if (const auto *CD = dyn_cast<CXXConstructorDecl>(Def)) {
      for (const CXXCtorInitializer *Init : CD->inits())
        V.TraverseStmt(Init->getInit());
      // A constructor that throws ends the members it built.
      V.members(CD->getParent());
    }
    for (const ParmVarDecl *P : Def->parameters())
      V.callee(destructorOf(P->getType(), Ctx));
    if (Def->getBody())
      V.TraverseStmt(Def->getBody());
    if (const auto *DD = dyn_cast<CXXDestructorDecl>(Def))
      V.members(DD->getParent());
    const Summary &Out = *S;
    Cache.try_emplace(Def, std::move(S));
    return Out;
  }

  ASTContext &Ctx;
  llvm::DenseMap<const FunctionDecl *, std::unique_ptr<Summary>> Cache;
};

StateReachAnalysis::StateReachAnalysis(ASTContext &Ctx)
    : I(std::make_unique<Impl>(Ctx)) {}
StateReachAnalysis::~StateReachAnalysis() = default;

StateReach StateReachAnalysis::reach(const FunctionDecl *FD) {
  llvm::MapVector<const VarDecl *, StateAccess> State;
  llvm::SetVector<const FunctionDecl *> External;
  llvm::SetVector<const CXXRecordDecl *> Dispatch;
  StateReach R;
  llvm::SmallPtrSet<const FunctionDecl *, 32> Seen;
  llvm::SmallVector<const FunctionDecl *, 64> Work{FD->getCanonicalDecl()};
  Seen.insert(FD->getCanonicalDecl());
  while (!Work.empty()) {
    const FunctionDecl *F = Work.pop_back_val();
    const FunctionDecl *Def = nullptr;
    if (!F->hasBody(Def) || !Def) {
      // Defined nowhere in this unit. A library function was checked where
      // it is called; a trivial or deleted one runs nothing of the
      // program. A defaulted destructor still ends members and bases.
      if (const auto *DD = dyn_cast<CXXDestructorDecl>(F);
          DD && DD->isDefaulted()) {
        Summary S;
        SummaryVisitor V(I->Ctx, S);
        V.members(DD->getParent());
        for (const FunctionDecl *C : S.Callees)
          if (Seen.insert(C).second)
            Work.push_back(C);
        continue;
      }
      if (!isLibrary(F) && !F->getBuiltinID() && !F->isDeleted() &&
          !F->isTrivial() && !F->isDefaulted())
        External.insert(F);
      continue;
    }
    const Summary &S = I->summary(Def);
    for (const auto &[SV, Acc] : S.State) {
      auto [It, New] = State.insert({SV, Acc});
      if (!New)
        It->second = It->second | Acc;
    }
    Dispatch.insert(S.Dispatch.begin(), S.Dispatch.end());
    if (S.Unknown && !R.Unknown) {
      R.Unknown = true;
      R.UnknownLoc = S.UnknownLoc;
      R.UnknownWhy = "'" + Def->getQualifiedNameAsString() + "' " +
                     S.UnknownWhy;
    }
    for (const FunctionDecl *C : S.Callees)
      if (Seen.insert(C).second)
        Work.push_back(C);
  }
  R.State.assign(State.begin(), State.end());
  R.External.assign(External.begin(), External.end());
  R.Dispatch.assign(Dispatch.begin(), Dispatch.end());
  return R;
}

std::vector<const CXXRecordDecl *> StateReachAnalysis::derivedLibraryClasses() {
  DerivedVisitor V;
  V.TraverseDecl(I->Ctx.getTranslationUnitDecl());
  return {V.Bases.begin(), V.Bases.end()};
}

} // namespace cleave
