//===- Names.cpp - How declarations and types are spelled ----------------===//

#include "cleave/Frontend/Names.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/AST/QualTypeNames.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>

using namespace clang;

namespace cleave {

PrintingPolicy codePrintingPolicy(const ASTContext &Ctx) {
  PrintingPolicy P(Ctx.getLangOpts());
  P.SuppressUnwrittenScope = true;
  P.AnonymousTagLocations = false;
  P.SuppressTemplateArgsInCXXConstructors = false;
  P.Bool = true;
  return P;
}

/// Whether the spelling of \p T, as written, names something that may not
/// be in scope where generated code writes it: an expression (`decltype(x)`
/// of a parameter, `std::array<int, N>` of a local constant) or an alias
/// declared inside a function. Aliases at namespace or class scope are not
/// looked through: their names are what the user wrote, and what is spelled.
static bool spellsLocalNames(QualType T, unsigned Depth = 0) {
  if (T.isNull() || Depth > 256)
    return false;
  const Type *Ty = T.getTypePtr();
  if (isa<DecltypeType, TypeOfExprType>(Ty))
    return true;
  if (const auto *TT = dyn_cast<TypedefType>(Ty))
    return TT->getDecl()->getDeclContext()->isFunctionOrMethod();
  if (const auto *ET = dyn_cast<ElaboratedType>(Ty)) {
    for (const NestedNameSpecifier *Q = ET->getQualifier(); Q;
         Q = Q->getPrefix())
      if (const Type *QT = Q->getAsType())
        if (spellsLocalNames(QualType(QT, 0), Depth + 1))
          return true;
    return spellsLocalNames(ET->getNamedType(), Depth + 1);
  }
  if (const auto *TST = dyn_cast<TemplateSpecializationType>(Ty)) {
    for (const TemplateArgument &A : TST->template_arguments()) {
      if (A.getKind() == TemplateArgument::Expression)
        return true;
      if (A.getKind() == TemplateArgument::Type &&
          spellsLocalNames(A.getAsType(), Depth + 1))
        return true;
    }
    return false;
  }
  if (const auto *PT = dyn_cast<PointerType>(Ty))
    return spellsLocalNames(PT->getPointeeType(), Depth + 1);
  if (const auto *RT = dyn_cast<ReferenceType>(Ty))
    return spellsLocalNames(RT->getPointeeTypeAsWritten(), Depth + 1);
  if (const auto *AT = dyn_cast<ArrayType>(Ty))
    return isa<VariableArrayType, DependentSizedArrayType>(AT) ||
           spellsLocalNames(AT->getElementType(), Depth + 1);
  if (const auto *FT = dyn_cast<FunctionProtoType>(Ty)) {
    if (spellsLocalNames(FT->getReturnType(), Depth + 1))
      return true;
    for (QualType P : FT->param_types())
      if (spellsLocalNames(P, Depth + 1))
        return true;
    return false;
  }
  if (const auto *MP = dyn_cast<MemberPointerType>(Ty))
    return spellsLocalNames(MP->getPointeeType(), Depth + 1) ||
           spellsLocalNames(QualType(MP->getClass(), 0), Depth + 1);
  QualType Next = Ty->getLocallyUnqualifiedSingleStepDesugaredType();
  return Next.getTypePtr() != Ty && spellsLocalNames(Next, Depth + 1);
}

namespace {

/// The template arguments of \p Spec that did not come from its
/// parameters' defaults: those a program writes.
llvm::ArrayRef<TemplateArgument>
writtenArguments(const ClassTemplateSpecializationDecl *Spec) {
  llvm::ArrayRef<TemplateArgument> Args = Spec->getTemplateArgs().asArray();
  while (!Args.empty() && Args.back().getIsDefaulted())
    Args = Args.drop_back();
  return Args;
}

/// Rebuilds a canonical type with the template arguments that a class
/// template specialization took from its parameters' defaults left out, as
/// the user would write it (`std::vector<long>`, not `std::vector<long,
/// std::allocator<long>>`). Spelled out, a default that repeats an earlier
/// argument (`template <class T, class U = std::vector<T>>`) doubles the
/// text at each level of nesting.
class DefaultArguments {
public:
  explicit DefaultArguments(const ASTContext &Ctx) : Ctx(Ctx) {}

  QualType elide(QualType T) {
    QualType C = T.getCanonicalType();
    const Type *Ty = C.getTypePtr();
    auto It = Memo.find(Ty);
    QualType R = It != Memo.end() ? It->second : (Memo[Ty] = rebuild(Ty));
    return Ctx.getQualifiedType(R, C.getLocalQualifiers());
  }

private:
  QualType rebuild(const Type *Ty) {
    if (const auto *PT = dyn_cast<PointerType>(Ty))
      return Ctx.getPointerType(elide(PT->getPointeeType()));
    if (const auto *LR = dyn_cast<LValueReferenceType>(Ty))
      return Ctx.getLValueReferenceType(elide(LR->getPointeeType()));
    if (const auto *RR = dyn_cast<RValueReferenceType>(Ty))
      return Ctx.getRValueReferenceType(elide(RR->getPointeeType()));
    if (const auto *CA = dyn_cast<ConstantArrayType>(Ty))
      return Ctx.getConstantArrayType(
          elide(CA->getElementType()), CA->getSize(), nullptr,
          CA->getSizeModifier(), CA->getIndexTypeCVRQualifiers());
    if (const auto *IA = dyn_cast<IncompleteArrayType>(Ty))
      return Ctx.getIncompleteArrayType(elide(IA->getElementType()),
                                        IA->getSizeModifier(),
                                        IA->getIndexTypeCVRQualifiers());
    if (const auto *FP = dyn_cast<FunctionProtoType>(Ty)) {
      llvm::SmallVector<QualType, 4> Params;
      for (QualType P : FP->param_types())
        Params.push_back(elide(P));
      return Ctx.getFunctionType(elide(FP->getReturnType()), Params,
                                 FP->getExtProtoInfo());
    }
    const auto *Spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
        Ty->getAsCXXRecordDecl());
    if (!Spec || !isa<RecordType>(Ty))
      return QualType(Ty, 0);
    llvm::SmallVector<TemplateArgument, 4> Kept;
    for (const TemplateArgument &A : writtenArguments(Spec))
      Kept.push_back(argument(A));
    return Ctx.getTemplateSpecializationType(
        TemplateName(Spec->getSpecializedTemplate()), Kept,
        Ctx.getRecordType(Spec));
  }

  TemplateArgument argument(const TemplateArgument &A) {
    if (A.getKind() == TemplateArgument::Type)
      return TemplateArgument(elide(A.getAsType()));
    if (A.getKind() == TemplateArgument::Pack) {
      llvm::SmallVector<TemplateArgument, 4> Elements;
      for (const TemplateArgument &E : A.pack_elements())
        Elements.push_back(argument(E));
      return TemplateArgument::CreatePackCopy(const_cast<ASTContext &>(Ctx),
                                              Elements);
    }
    return A;
  }

  const ASTContext &Ctx;
  llvm::DenseMap<const Type *, QualType> Memo;
};

} // namespace

std::string codeTypeName(QualType T, const ASTContext &Ctx) {
  // Written with a parameter's decltype or a local name, the type is spelled
  // as what it stands for: generated code has neither in scope.
  if (spellsLocalNames(T))
    T = Ctx.getQualifiedType(T.getCanonicalType().getTypePtr(),
                             T.getLocalQualifiers());
  // A type with no sugar left (a class the generated code names, a deduced
  // type) is spelled without its default template arguments.
  if (T.isCanonical())
    T = DefaultArguments(Ctx).elide(T);
  // A member typedef of a class template specialization, as `auto` often
  // deduces (std::map<K, V>::iterator), loses its class on the way through
  // TypeName: name the class in front of it. Written with its class
  // (`Deep<25>::T`), it keeps the user's spelling: the type it stands for
  // may be far longer (a pair of pairs, 25 deep).
  const auto *Written = dyn_cast<ElaboratedType>(T.getTypePtr());
  if (const auto *TT = T->getAs<TypedefType>())
    if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(
            TT->getDecl()->getDeclContext());
        Spec && !(Written && Written->getQualifier())) {
      auto *Class = NestedNameSpecifier::Create(
          Ctx, nullptr, /*Template=*/false,
          Ctx.getRecordType(Spec).getTypePtr());
      T = Ctx.getQualifiedType(
          Ctx.getElaboratedType(ElaboratedTypeKeyword::None, Class,
                                QualType(TT, 0)),
          T.getLocalQualifiers());
    }
  return TypeName::getFullyQualifiedName(T, Ctx, codePrintingPolicy(Ctx),
                                         /*WithGlobalNsPrefix=*/true);
}

size_t spelledLength(QualType T, llvm::DenseMap<const Type *, size_t> &Memo) {
  constexpr size_t Cap = size_t(1) << 40;
  const Type *Ty = T.getCanonicalType().getTypePtr();
  if (auto It = Memo.find(Ty); It != Memo.end())
    return It->second;
  Memo[Ty] = 16; // a type cannot contain itself; this only guards the walk
  size_t N = 16;
  auto Add = [&](size_t More) { N = std::min(Cap, N + More); };
  if (const auto *PT = Ty->getAs<PointerType>()) {
    Add(spelledLength(PT->getPointeeType(), Memo));
  } else if (const auto *RT = Ty->getAs<ReferenceType>()) {
    Add(spelledLength(RT->getPointeeType(), Memo));
  } else if (const auto *AT = dyn_cast<ArrayType>(Ty)) {
    Add(spelledLength(AT->getElementType(), Memo));
  } else if (const auto *FP = dyn_cast<FunctionProtoType>(Ty)) {
    Add(spelledLength(FP->getReturnType(), Memo));
    for (QualType P : FP->param_types())
      Add(spelledLength(P, Memo));
  } else if (const auto *MP = dyn_cast<MemberPointerType>(Ty)) {
    Add(spelledLength(MP->getPointeeType(), Memo));
    Add(spelledLength(QualType(MP->getClass(), 0), Memo));
  } else if (const auto *TD = Ty->getAsTagDecl()) {
    Add(qualifiedName(TD).size());
    if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(TD)) {
      std::function<void(const TemplateArgument &)> Arg =
          [&](const TemplateArgument &A) {
            Add(4);
            if (A.getKind() == TemplateArgument::Type)
              Add(spelledLength(A.getAsType(), Memo));
            else if (A.getKind() == TemplateArgument::Pack)
              for (const TemplateArgument &E : A.pack_elements())
                Arg(E);
            else
              Add(16);
          };
      for (const TemplateArgument &A : writtenArguments(Spec))
        Arg(A);
    }
  }
  return Memo[Ty] = N;
}

std::string qualifiedName(const NamedDecl *D) {
  PrintingPolicy P(D->getASTContext().getLangOpts());
  P.SuppressUnwrittenScope = true;
  std::string S;
  llvm::raw_string_ostream OS(S);
  D->printQualifiedName(OS, P);
  return S;
}

std::string displayTypeName(QualType T, const ASTContext &Ctx) {
  std::string S = T.getAsString(codePrintingPolicy(Ctx));
  // An alias of the standard library's own (`auto p = std::make_unique<int>`
  // deduces `__detail::__unique_ptr_t<int>`): the type it stands for.
  if (S.find("__") != std::string::npos)
    S = T.getCanonicalType().getAsString(codePrintingPolicy(Ctx));
  return S;
}

} // namespace cleave
