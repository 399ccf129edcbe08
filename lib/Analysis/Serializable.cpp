//===- Serializable.cpp - Which types can cross a boundary -------------===//
//
// The rules follow what the codecs can do (runtime/include/cleave/codec.h,
// frame.h) and what generated code can name: a type the checker accepts must
// get codecs that compile. Every refusal names the member path to the part
// that fails, so that a problem deep inside a parameter's type is found
// without reading every declaration on the way.
//
//===----------------------------------------------------------------------===//

#include "cleave/Analysis/Serializable.h"
#include "cleave/Frontend/Names.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/AST/Expr.h"
#include "clang/AST/Type.h"

#include <map>
#include <mutex>

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

/// The longest spelling of a class that generated code may have to write.
constexpr size_t MaxSpelledLength = size_t(1) << 16;

SerializeProblem problem(std::string Reason, SourceLocation Loc = {},
                         std::string Note = {}) {
  return SerializeProblem{std::move(Reason), Loc, std::move(Note)};
}

/// The standard templates the runtime has codecs for, and which of their
/// template arguments hold values (the rest are comparators, hashes,
/// allocators and sizes).
struct StdTemplate {
  const char *Name;
  unsigned ValueArgs; ///< leading type arguments that are values; 0 = all
};
constexpr StdTemplate StdTemplates[] = {
    {"vector", 1},        {"deque", 1},          {"list", 1},
    {"array", 1},         {"set", 1},            {"multiset", 1},
    {"unordered_set", 1}, {"unordered_multiset", 1},
    {"map", 2},           {"multimap", 2},       {"unordered_map", 2},
    {"unordered_multimap", 2},
    {"pair", 2},          {"tuple", 0},          {"optional", 1},
    {"variant", 0},       {"unique_ptr", 1},
};

/// std::ostringstream, std::istringstream, std::stringstream: they travel in
/// continuation frames (their text, positions and format state), not in
/// JSON.
bool isStringStream(const CXXRecordDecl *RD) {
  const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD);
  if (!Spec || !RD->isInStdNamespace())
    return false;
  StringRef N = Spec->getName();
  if (N != "basic_ostringstream" && N != "basic_istringstream" &&
      N != "basic_stringstream")
    return false;
  const TemplateArgumentList &Args = Spec->getTemplateArgs();
  if (Args.size() < 1 || Args[0].getKind() != TemplateArgument::Type)
    return false;
  QualType C = Args[0].getAsType();
  return C->isSpecificBuiltinType(BuiltinType::Char_S) ||
         C->isSpecificBuiltinType(BuiltinType::Char_U);
}

const StdTemplate *findStdTemplate(const CXXRecordDecl *RD) {
  const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD);
  if (!Spec || !RD->isInStdNamespace())
    return nullptr;
  for (const StdTemplate &T : StdTemplates)
    if (Spec->getName() == T.Name)
      return &T;
  return nullptr;
}

/// The value-holding type arguments of a supported standard template, with
/// the path step that leads into each ("[]", "{}", ".first", "<1>").
llvm::SmallVector<std::pair<QualType, std::string>, 4>
valueArgs(const CXXRecordDecl *RD, const StdTemplate &T) {
  llvm::SmallVector<std::pair<QualType, std::string>, 4> Out;
  const auto *Spec = cast<ClassTemplateSpecializationDecl>(RD);
  llvm::SmallVector<QualType, 4> Types;
  for (const TemplateArgument &A : Spec->getTemplateArgs().asArray()) {
    if (A.getKind() == TemplateArgument::Pack) {
      for (const TemplateArgument &P : A.pack_elements())
        if (P.getKind() == TemplateArgument::Type)
          Types.push_back(P.getAsType());
    } else if (A.getKind() == TemplateArgument::Type) {
      Types.push_back(A.getAsType());
    }
  }
  StringRef Name = T.Name;
  unsigned N = T.ValueArgs ? std::min<unsigned>(T.ValueArgs, Types.size())
                           : Types.size();
  for (unsigned I = 0; I < N; ++I) {
    std::string Step = "[]";
    if (Name == "pair")
      Step = I == 0 ? ".first" : ".second";
    else if (Name == "tuple" || Name == "variant")
      Step = "<" + std::to_string(I) + ">";
    else if (T.ValueArgs == 2 && I == 0)
      Step = "{}";
    else if (Name == "optional" || Name == "unique_ptr")
      Step = "";
    Out.push_back({Types[I], Step});
  }
  return Out;
}

/// Which special member of \p RD is deleted or not public, if any: codecs
/// default-construct, copy and move values.
std::optional<std::string> blockedSpecialMember(const CXXRecordDecl *RD) {
  // Implicit members are deleted because of a member or base, which the
  // check of that member or base explains better.
  for (const CXXConstructorDecl *C : RD->ctors()) {
    bool Blocked =
        !C->isImplicit() && (C->isDeleted() || C->getAccess() != AS_public);
    if (!Blocked)
      continue;
    if (C->isDefaultConstructor())
      return std::string("default constructor");
    if (C->isCopyConstructor())
      return std::string("copy constructor");
    if (C->isMoveConstructor())
      return std::string("move constructor");
  }
  for (const CXXMethodDecl *M : RD->methods()) {
    bool Blocked =
        !M->isImplicit() && (M->isDeleted() || M->getAccess() != AS_public);
    if (Blocked && M->isCopyAssignmentOperator())
      return std::string("copy assignment operator");
    if (Blocked && M->isMoveAssignmentOperator())
      return std::string("move assignment operator");
  }
  if (const CXXDestructorDecl *D = RD->getDestructor())
    if (!D->isImplicit() && (D->isDeleted() || D->getAccess() != AS_public))
      return std::string("destructor");
  // A declared move operation deletes the implicit copy constructor.
  if ((RD->hasUserDeclaredMoveConstructor() ||
       RD->hasUserDeclaredMoveAssignment()) &&
      !RD->hasUserDeclaredCopyConstructor())
    return std::string("copy constructor");
  return std::nullopt;
}

/// Whether \p RD itself (not its subobjects) has a user-provided special
/// member or a default member initializer with side effects.
bool hasOwnNoise(const CXXRecordDecl *RD, const ASTContext &Ctx) {
  // Only the constructors that copies, moves and value-initialization run:
  // a constructor from other arguments runs only where the program calls it.
  // A constructor template may be chosen to copy.
  for (const CXXConstructorDecl *C : RD->ctors())
    if (C->isUserProvided() &&
        (C->isDefaultConstructor() || C->isCopyOrMoveConstructor() ||
         C->getInheritedConstructor()))
      return true;
  for (const Decl *D : RD->decls())
    if (const auto *FT = dyn_cast<FunctionTemplateDecl>(D))
      if (isa<CXXConstructorDecl>(FT->getTemplatedDecl()))
        return true;
  if (const CXXDestructorDecl *D = RD->getDestructor())
    if (D->isUserProvided())
      return true;
  for (const CXXMethodDecl *M : RD->methods())
    if ((M->isCopyAssignmentOperator() || M->isMoveAssignmentOperator()) &&
        M->isUserProvided())
      return true;
  for (const FieldDecl *F : RD->fields())
    if (const Expr *Init = F->getInClassInitializer())
      if (Init->HasSideEffects(Ctx))
        return true;
  return false;
}

/// Each context's checker, so that glue generation can find its enums.
std::mutex RegistryLock;
std::map<const ASTContext *, const llvm::SetVector<const EnumDecl *> *>
    Registry;

} // namespace

SerializableChecker::SerializableChecker(ASTContext &Ctx) : Ctx(Ctx) {
  // The first checker of a context is the one that checks its entries and
  // state; a later one (asked only whether types are quiet) does not
  // replace it.
  std::lock_guard<std::mutex> Lock(RegistryLock);
  Registry.emplace(&Ctx, &Enums);
}

SerializableChecker::~SerializableChecker() {
  std::lock_guard<std::mutex> Lock(RegistryLock);
  auto It = Registry.find(&Ctx);
  if (It != Registry.end() && It->second == &Enums)
    Registry.erase(It);
}

llvm::ArrayRef<const EnumDecl *>
SerializableChecker::enumsOf(const ASTContext &Ctx) {
  std::lock_guard<std::mutex> Lock(RegistryLock);
  auto It = Registry.find(&Ctx);
  if (It == Registry.end())
    return {};
  return It->second->getArrayRef();
}

std::optional<SerializeProblem> SerializableChecker::check(QualType T) {
  if (T.isNull())
    return problem("the type is invalid");
  return checkType(T, typeName(T, Ctx), 0);
}

std::optional<SerializeProblem> SerializableChecker::checkFrame(QualType T) {
  FrameOnly = true;
  std::optional<SerializeProblem> P = check(T);
  FrameOnly = false;
  return P;
}

std::optional<SerializeProblem>
SerializableChecker::checkNameable(const TagDecl *D, const std::string &Name) {
  if (!D->getIdentifier() && !D->getTypedefNameForAnonDecl())
    return problem(Name + " is an anonymous " +
                       (isa<EnumDecl>(D) ? "enumeration" : "struct") +
                       "; generated code cannot name it",
                   D->getLocation(), "declared here");
  for (const DeclContext *DC = D->getDeclContext(); DC;
       DC = DC->getParent()) {
    if (DC->isFunctionOrMethod())
      return problem(Name +
                         " is declared inside a function; generated code "
                         "cannot name it",
                     D->getLocation(), "declared here");
  }
  for (const Decl *Inner = D; isa<CXXRecordDecl>(Inner->getDeclContext());
       Inner = cast<Decl>(Inner->getDeclContext()))
    if (Inner->getAccess() != AS_public)
      return problem(Name + " is a " +
                         (Inner->getAccess() == AS_private ? "private"
                                                           : "protected") +
                         " nested type; generated code cannot name it",
                     Inner->getLocation(), "declared here");
  return std::nullopt;
}

std::optional<SerializeProblem>
SerializableChecker::checkType(QualType T, const std::string &Path,
                               unsigned Depth) {
  void *Key = T.isNull() ? nullptr : T.getCanonicalType().getAsOpaquePtr();
  llvm::DenseSet<void *> &Known = Fine[FrameOnly];
  if (Key && Depth > 0 && Known.count(Key))
    return std::nullopt;
  unsigned Before = Assumed;
  auto P = checkTypeOnce(T, Path, Depth);
  if (!P && Key && Depth > 0 && Assumed == Before)
    Known.insert(Key);
  return P;
}

std::optional<SerializeProblem>
SerializableChecker::checkTypeOnce(QualType T, const std::string &Path,
                                   unsigned Depth) {
  auto Fail = [&](SerializeProblem P) -> std::optional<SerializeProblem> {
    if (Depth > 0)
      P.Reason = Path + ": " + P.Reason;
    return P;
  };
  if (T.isNull())
    return Fail(problem("the type is invalid"));
  QualType CanonQ = T.getCanonicalType();
  // Spelled only for a message: a type may be huge once spelled out.
  auto Name = [&] { return "'" + typeName(T, Ctx) + "'"; };
  if (CanonQ.isVolatileQualified())
    return Fail(problem(Name() + " is volatile"));
  if (Depth > 0 && CanonQ.isConstQualified())
    return Fail(problem(Name() + " is const; decoding assigns to it"));
  QualType Canon = CanonQ.getUnqualifiedType();
  const Type *Ty = Canon.getTypePtr();

  if (Ty->isDependentType())
    return Fail(problem(Name() + " depends on a template parameter"));
  if (const auto *BT = dyn_cast<BuiltinType>(Ty)) {
    switch (BT->getKind()) {
    case BuiltinType::Int128:
    case BuiltinType::UInt128:
      return Fail(problem(Name() + " is wider than JSON numbers allow"));
    case BuiltinType::WChar_S:
    case BuiltinType::WChar_U:
    case BuiltinType::Char16:
    case BuiltinType::Char32:
      return Fail(problem(Name() + " is a wide character type; use std::string "
                                 "or an integer type"));
    case BuiltinType::Half:
    case BuiltinType::Float16:
    case BuiltinType::BFloat16:
    case BuiltinType::Float128:
    case BuiltinType::Ibm128:
      return Fail(problem(Name() + " is not a standard floating type; use "
                                 "float, double or long double"));
    default:
      break;
    }
    if (BT->isBooleanType() || BT->isInteger() || BT->isFloatingPoint())
      return std::nullopt;
    return Fail(problem(Name() + " is not a data type"));
  }
  if (const auto *ET = Ty->getAs<EnumType>()) {
    const EnumDecl *ED = ET->getDecl()->getDefinition();
    if (!ED)
      return Fail(problem(Name() + " is an incomplete enumeration",
                          ET->getDecl()->getLocation(), "declared here"));
    if (auto P = checkNameable(ED, Name()))
      return Fail(*P);
    Enums.insert(ED);
    return std::nullopt;
  }
  if (Ty->isPointerType() || Ty->isMemberPointerType() ||
      Ty->isBlockPointerType() || Ty->isNullPtrType())
    return Fail(problem(Name() + " is a pointer"));
  if (Ty->isReferenceType())
    return Fail(problem(Name() + " is a reference"));
  if (Ty->isArrayType())
    return Fail(problem(Name() + " is a C array; use std::vector or std::array"));
  if (Ty->isFunctionType())
    return Fail(problem(Name() + " is a function"));

  const CXXRecordDecl *RD = Ty->getAsCXXRecordDecl();
  if (!RD)
    return Fail(problem(Name() + " is not supported by generated serializers"));
  if (RD->isLambda())
    return Fail(problem(Name() + " is a lambda"));
  if (RD->isUnion())
    return Fail(problem(Name() + " is a union", RD->getLocation(),
                        "union declared here"));

  if (RD->isInStdNamespace()) {
    const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD);
    if (Spec && Spec->getName() == "basic_string") {
      if (isStdString(Canon))
        return std::nullopt;
      return Fail(problem(Name() + " is not supported; use std::string"));
    }
    if (!Spec && RD->getName() == "monostate")
      return std::nullopt;
    if (isStringStream(RD)) {
      if (FrameOnly)
        return std::nullopt;
      return Fail(problem(Name() + " is a string stream; it crosses a boundary "
                                 "as a local, in a continuation frame, but "
                                 "not as JSON"));
    }
    if (const StdTemplate *ST = Spec ? findStdTemplate(RD) : nullptr) {
      StringRef TName = ST->Name;
      if (TName == "array") {
        const TemplateArgumentList &Args = Spec->getTemplateArgs();
        if (Args.size() > 1 &&
            Args[1].getKind() == TemplateArgument::Integral &&
            Args[1].getAsIntegral() == 0)
          return Fail(problem(Name() + " has no elements"));
      }
      auto Args = valueArgs(RD, *ST);
      if (Args.empty())
        return Fail(problem(Name() + " has no elements"));
      if (TName == "optional" && !Args.empty()) {
        const CXXRecordDecl *Inner =
            Args[0].first.getCanonicalType()->getAsCXXRecordDecl();
        if (Inner && Inner->isInStdNamespace() &&
            Inner->getName() == "optional")
          return Fail(problem(Name() + " nests optionals; null could not tell "
                                     "the empty one apart"));
      }
      if (TName == "unique_ptr") {
        const TemplateArgumentList &TA = Spec->getTemplateArgs();
        QualType Elem = TA[0].getAsType();
        const CXXRecordDecl *Del = TA.size() > 1 && TA[1].getKind() ==
                                                         TemplateArgument::Type
                                       ? TA[1].getAsType()->getAsCXXRecordDecl()
                                       : nullptr;
        if (Elem->isArrayType())
          return Fail(problem(Name() + " owns an array; use std::vector"));
        if (!Del || !Del->isInStdNamespace() ||
            Del->getName() != "default_delete")
          return Fail(problem(Name() + " has a deleter of its own, which "
                                     "generated code cannot rebuild"));
        if (const CXXRecordDecl *ER = Elem->getAsCXXRecordDecl())
          if ((ER = ER->getDefinition()))
            for (const Decl *D : ER->decls())
              if (const FunctionDecl *FD = D->getAsFunction();
                  FD && (FD->getOverloadedOperator() == OO_New ||
                         FD->getOverloadedOperator() == OO_Delete))
                return Fail(problem(
                    Name() + " owns a class with an allocation function of its "
                           "own, which a rebuilt object would not come from",
                    ER->getLocation(), "declared here"));
      }
      // In a frame, a container, an optional or a unique_ptr rebuilds an
      // element without a default constructor as a frame rebuilds a local
      // (frame::decodeElement); a pair, tuple, variant or array decodes into
      // value-initialized members, as JSON does everywhere.
      bool WasFrameOnly = FrameOnly;
      FrameOnly = FrameOnly && TName != "pair" && TName != "tuple" &&
                  TName != "variant" && TName != "array";
      std::optional<SerializeProblem> P;
      for (const auto &[Arg, Step] : Args)
        if ((P = checkType(Arg, Path + Step, Depth + 1)))
          break;
      FrameOnly = WasFrameOnly;
      return P;
    }
    return Fail(problem(
        Name() + " is not supported by generated serializers (supported: "
               "std::string, std::vector, std::deque, std::list, std::array, "
               "std::set, std::multiset, std::unordered_set, std::map, "
               "std::multimap, std::unordered_map, std::pair, std::tuple, "
               "std::optional, std::variant, std::monostate, std::unique_ptr; "
               "in continuation frames also the string streams)"));
  }
  if (auto P = checkNameable(RD, Name()))
    return Fail(*P);
  return checkRecord(RD, T, Path, Depth);
}

std::optional<SerializeProblem>
SerializableChecker::checkRecord(const CXXRecordDecl *RD, QualType T,
                                 const std::string &Path, unsigned Depth) {
  auto Fail = [&](SerializeProblem P) -> std::optional<SerializeProblem> {
    if (Depth > 0)
      P.Reason = Path + ": " + P.Reason;
    return P;
  };
  // Spelled only for a message: a type may be huge once spelled out.
  auto Name = [&] { return "'" + typeName(T, Ctx) + "'"; };
  const CXXRecordDecl *Def = RD->getDefinition();
  if (!Def)
    return Fail(problem(Name() + " is an incomplete type", RD->getLocation(),
                        "declared here"));
  if (Def->isInvalidDecl())
    return Fail(problem(Name() + " is invalid"));
  if (Records.count(Def) || InProgress.count(Def)) {
    Assumed += !Records.count(Def);
    if (!FrameOnly && WithoutDefault.count(Def))
      return Fail(problem(Name() + " has no default constructor",
                          Def->getLocation(), "declared here"));
    return std::nullopt;
  }
  // Generated code spells the class in full (its codec is a specialization
  // for it): template arguments that repeat a type at each level of
  // nesting (`P<Q, Q>`) make that text exponential in the nesting.
  if (isa<ClassTemplateSpecializationDecl>(Def))
    if (size_t Length = spelledLength(Ctx.getRecordType(Def), SpelledLengths);
        Length > MaxSpelledLength)
      return Fail(problem(
          "'" + Def->getNameAsString() + "<...>' takes about " +
              std::to_string(Length) +
              " characters to spell in the code cleave generates (at most " +
              std::to_string(MaxSpelledLength) +
              " are allowed): its template arguments repeat types at each "
              "level of nesting",
          Def->getLocation(), "declared here"));
  if (Def->isPolymorphic())
    return Fail(problem(Name() + " is polymorphic (has virtual functions)",
                        Def->getLocation(), "declared here"));
  // A frame rebuilds such a class field by field (frame::constructFrame).
  if (!Def->isAggregate() && !Def->hasDefaultConstructor()) {
    if (!FrameOnly)
      return Fail(problem(Name() + " has no default constructor",
                          Def->getLocation(), "declared here"));
    WithoutDefault.insert(Def);
  }
  if (auto Member = blockedSpecialMember(Def))
    return Fail(problem(Name() + " has a deleted or non-public " + *Member,
                        Def->getLocation(), "declared here"));

  InProgress.insert(Def);
  auto Done = [&](std::optional<SerializeProblem> P) {
    InProgress.erase(Def);
    return P;
  };
  // Path of the members: bases' members are encoded at the same level.
  std::string Prefix = Depth > 0 ? Path : typeName(T, Ctx);
  for (const CXXBaseSpecifier &B : Def->bases()) {
    if (B.isVirtual())
      return Done(Fail(problem(Name() + " has a virtual base class",
                               B.getBeginLoc(), "base declared here")));
    const CXXRecordDecl *BaseRD = B.getType()->getAsCXXRecordDecl();
    if (!BaseRD)
      return Done(Fail(problem(Name() + " has a base that is not a class")));
    std::string BaseName = "'" + typeName(B.getType(), Ctx) + "'";
    if (BaseRD->isInStdNamespace())
      return Done(Fail(problem(Name() + " derives from standard library class " +
                                   BaseName,
                               B.getBeginLoc(), "base declared here")));
    if (auto P = checkNameable(BaseRD, BaseName))
      return Done(Fail(*P));
    if (auto P = checkRecord(BaseRD, B.getType(), Prefix, Depth + 1)) {
      if (P->NoteLoc.isInvalid()) {
        P->NoteLoc = B.getBeginLoc();
        P->Note = "base declared here";
      }
      return Done(P);
    }
  }
  llvm::SmallVector<const FieldDecl *, 8> All;
  collectFields(Def, All);
  for (const FieldDecl *F : Def->fields()) {
    std::string Member = "'" + F->getNameAsString() + "'";
    std::string Sub = Prefix + "." + F->getNameAsString();
    auto At = [&](std::string Reason) {
      // The member itself is at fault: its path is the place.
      return Done(problem(Sub + ": " + Reason, F->getLocation(),
                          Member + " declared here"));
    };
    if (F->isInvalidDecl())
      return Done(Fail(problem(Name() + " has an invalid data member")));
    if (F->isUnnamedBitField() || F->getName().empty() ||
        F->isAnonymousStructOrUnion()) {
      std::string Reason =
          Name() + " has an anonymous member; generated code cannot name it";
      return Done(Fail(problem(Reason, F->getLocation(), "declared here")));
    }
    if (F->isBitField())
      return At("bit-field " + Member + " cannot be bound to a reference");
    QualType FT = F->getType();
    if (FT->isReferenceType())
      return At("reference member " + Member + " cannot be decoded");
    if (FT.isConstQualified())
      return At("const member " + Member + " cannot be decoded");
    unsigned Named = 0;
    for (const FieldDecl *Other : All)
      Named += Other->getName() == F->getName();
    if (Named > 1)
      return At(Name() + " and a base both have a member named " + Member +
                "; JSON keys must differ");
    if (auto P = checkType(FT, Sub, Depth + 1)) {
      if (P->NoteLoc.isInvalid()) {
        P->NoteLoc = F->getLocation();
        P->Note = Member + " declared here";
      }
      return Done(P);
    }
  }
  InProgress.erase(Def);
  Records.insert(Def);
  return std::nullopt;
}

bool SerializableChecker::quiet(QualType T, bool Resurrect) {
  QualType Canon = T.getCanonicalType().getUnqualifiedType();
  if (Canon->isReferenceType() || Canon->isPointerType())
    return false;
  if (Canon->isBuiltinType() || Canon->isEnumeralType())
    return true;
  const CXXRecordDecl *RD = Canon->getAsCXXRecordDecl();
  if (!RD || !(RD = RD->getDefinition()))
    return false;
  if (RD->isInStdNamespace()) {
    if (isStdString(Canon) || RD->getName() == "monostate" ||
        isStringStream(RD))
      return true;
    const StdTemplate *ST = findStdTemplate(RD);
    if (!ST)
      return false;
    // A unique_ptr rebuilds its object as a frame does a local.
    if (StringRef(ST->Name) == "unique_ptr")
      return quiet(valueArgs(RD, *ST).front().first, Resurrect);
    // A container runs its elements' special members itself, so it is
    // resurrectable only when it is quiet.
    for (const auto &Arg : valueArgs(RD, *ST))
      if (!quiet(Arg.first, /*Resurrect=*/false))
        return false;
    return true;
  }
  if (RD->isPolymorphic())
    return false;
  auto &Cache = QuietCache[Resurrect];
  auto It = Cache.find(RD);
  if (It != Cache.end())
    return It->second;
  // A class that contains itself (through a container) is assumed quiet
  // while its members are looked at; any noise found on the way decides.
  // A class rebuilt member by member may make noise of its own, as long as
  // each base and field can be rebuilt.
  Cache[RD] = true;
  bool Result = Resurrect || !hasOwnNoise(RD, Ctx);
  for (const CXXBaseSpecifier &B : RD->bases())
    Result = Result && quiet(B.getType(), Resurrect);
  for (const FieldDecl *F : RD->fields())
    Result = Result && quiet(F->getType(), Resurrect);
  Cache[RD] = Result;
  return Result;
}

bool SerializableChecker::isQuiet(QualType T) { return quiet(T, false); }

bool SerializableChecker::isResurrectable(QualType T) {
  return quiet(T, true);
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
