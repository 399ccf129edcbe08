//===- Serializable.cpp - Which types can cross a boundary -------------===//

#include "cleave/Analysis/Serializable.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/AST/Type.h"

using namespace clang;

namespace cleave {

namespace {

std::string typeName(QualType T, const ASTContext &Ctx) {
  PrintingPolicy P(Ctx.getLangOpts());
  P.SuppressUnwrittenScope = true;
  P.AnonymousTagLocations = false;
  return T.getAsString(P);
}

bool isStdString(QualType T) {
  const auto *RD = T.getCanonicalType()->getAsCXXRecordDecl();
  const auto *Spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(RD);
  if (!Spec || !Spec->isInStdNamespace() || Spec->getName() != "basic_string")
    return false;
  const TemplateArgumentList &Args = Spec->getTemplateArgs();
  if (Args.size() < 1 || Args[0].getKind() != TemplateArgument::Type)
    return false;
  QualType C = Args[0].getAsType().getCanonicalType();
  return C->isSpecificBuiltinType(BuiltinType::Char_S) ||
         C->isSpecificBuiltinType(BuiltinType::Char_U);
}

SerializeProblem problem(std::string Reason, SourceLocation Loc = {},
                         std::string Note = {}) {
  return SerializeProblem{std::move(Reason), Loc, std::move(Note)};
}

} // namespace

std::optional<SerializeProblem> SerializableChecker::check(QualType T) {
  if (T.isNull())
    return problem("the type is invalid");
  QualType Canon = T.getCanonicalType().getUnqualifiedType();
  const Type *Ty = Canon.getTypePtr();
  std::string Name = "'" + typeName(T, Ctx) + "'";

  if (Ty->isDependentType())
    return problem(Name + " depends on a template parameter");
  if (const auto *BT = dyn_cast<BuiltinType>(Ty)) {
    switch (BT->getKind()) {
    case BuiltinType::Int128:
    case BuiltinType::UInt128:
      return problem(Name + " is wider than JSON numbers allow");
    default:
      break;
    }
    if (BT->isBooleanType() || BT->isInteger() || BT->isFloatingPoint())
      return std::nullopt;
    return problem(Name + " is not a data type");
  }
  if (Ty->isEnumeralType())
    return std::nullopt;
  if (Ty->isPointerType() || Ty->isMemberPointerType() ||
      Ty->isBlockPointerType() || Ty->isNullPtrType())
    return problem(Name + " is a pointer");
  if (Ty->isReferenceType())
    return problem(Name + " is a reference");
  if (Ty->isArrayType())
    return problem(Name + " is a C array; use std::vector");
  if (Ty->isFunctionType())
    return problem(Name + " is a function");

  const CXXRecordDecl *RD = Ty->getAsCXXRecordDecl();
  if (!RD)
    return problem(Name + " is not supported by generated serializers");
  if (RD->isLambda())
    return problem(Name + " is a lambda");
  if (RD->isUnion())
    return problem(Name + " is a union", RD->getLocation(),
                   "union declared here");

  if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD);
      Spec && RD->isInStdNamespace()) {
    StringRef TName = Spec->getName();
    const TemplateArgumentList &Args = Spec->getTemplateArgs();
    auto TypeArg = [&](unsigned I) {
      return I < Args.size() && Args[I].getKind() == TemplateArgument::Type
                 ? Args[I].getAsType()
                 : QualType();
    };
    if (TName == "basic_string") {
      if (isStdString(Canon))
        return std::nullopt;
      return problem(Name + " is not supported; use std::string");
    }
    if (TName == "vector" || TName == "optional")
      return check(TypeArg(0));
    if (TName == "map" || TName == "unordered_map") {
      if (!isStdString(TypeArg(0)))
        return problem(Name + " has keys of type '" +
                       typeName(TypeArg(0), Ctx) +
                       "'; map keys must be std::string");
      return check(TypeArg(1));
    }
  }
  if (RD->isInStdNamespace())
    return problem(Name +
                   " is not supported by generated serializers (supported: "
                   "std::string, std::vector, std::map and "
                   "std::unordered_map with std::string keys, std::optional)");
  return checkRecord(RD, T);
}

std::optional<SerializeProblem>
SerializableChecker::checkRecord(const CXXRecordDecl *RD, QualType T,
                                 bool NeedsCodec) {
  std::string Name = "'" + typeName(T, Ctx) + "'";
  const CXXRecordDecl *Def = RD->getDefinition();
  if (!Def)
    return problem(Name + " is an incomplete type", RD->getLocation(),
                   "declared here");
  if (Def->isInvalidDecl())
    return problem(Name + " is invalid");
  if (Records.count(Def) || InProgress.count(Def))
    return std::nullopt;
  if (Def->isPolymorphic())
    return problem(Name + " is polymorphic (has virtual functions)",
                   Def->getLocation(), "declared here");
  if (!Def->isAggregate() && !Def->hasDefaultConstructor())
    return problem(Name + " has no default constructor", Def->getLocation(),
                   "declared here");

  InProgress.insert(Def);
  auto Done = [&](std::optional<SerializeProblem> P) {
    InProgress.erase(Def);
    return P;
  };
  for (const CXXBaseSpecifier &B : Def->bases()) {
    if (B.isVirtual())
      return Done(problem(Name + " has a virtual base class", B.getBeginLoc(),
                          "base declared here"));
    if (B.getAccessSpecifier() != AS_public)
      return Done(problem(Name + " has a non-public base class",
                          B.getBeginLoc(), "base declared here"));
    const CXXRecordDecl *BaseRD = B.getType()->getAsCXXRecordDecl();
    if (!BaseRD)
      return Done(problem(Name + " has a base that is not a class"));
    // The base's fields are encoded inline; it needs no codec of its own.
    if (auto P = checkRecord(BaseRD, B.getType(), /*NeedsCodec=*/false))
      return Done(P);
  }
  for (const FieldDecl *F : Def->fields()) {
    std::string Member = "'" + F->getNameAsString() + "'";
    if (F->isInvalidDecl())
      return Done(problem(Name + " has an invalid data member"));
    if (F->getAccess() != AS_public) {
      const char *Kind = F->getAccess() == AS_private ? "private" : "protected";
      return Done(problem(Name + " has " + Kind + " data member " + Member,
                          F->getLocation(),
                          Member + " declared " + Kind + " here"));
    }
    if (F->isUnnamedBitField() || F->getName().empty())
      return Done(problem(Name + " has an anonymous member", F->getLocation(),
                          "declared here"));
    if (F->isBitField())
      return Done(problem(Name + " has bit-field " + Member, F->getLocation(),
                          "declared here"));
    QualType FT = F->getType();
    if (FT->isReferenceType())
      return Done(problem(Name + " has reference member " + Member,
                          F->getLocation(), "declared here"));
    if (FT.isConstQualified())
      return Done(problem(Name + " has const member " + Member,
                          F->getLocation(), "declared here"));
    if (auto P = check(FT)) {
      P->Reason = "member " + Member + " of " + Name + ": " + P->Reason;
      if (P->NoteLoc.isInvalid()) {
        P->NoteLoc = F->getLocation();
        P->Note = Member + " declared here";
      }
      return Done(P);
    }
  }
  InProgress.erase(Def);
  if (NeedsCodec)
    Records.insert(Def);
  return std::nullopt;
}

void SerializableChecker::collectFields(
    const CXXRecordDecl *RD, llvm::SmallVectorImpl<const FieldDecl *> &Out) {
  RD = RD->getDefinition();
  if (!RD)
    return;
  for (const CXXBaseSpecifier &B : RD->bases())
    if (const CXXRecordDecl *BaseRD = B.getType()->getAsCXXRecordDecl())
      collectFields(BaseRD, Out);
  for (const FieldDecl *F : RD->fields())
    Out.push_back(F);
}

} // namespace cleave
