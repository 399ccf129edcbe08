//===- Names.cpp - How declarations and types are spelled ----------------===//

#include "cleave/Frontend/Names.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/AST/QualTypeNames.h"
#include "llvm/Support/raw_ostream.h"

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

std::string codeTypeName(QualType T, const ASTContext &Ctx) {
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
