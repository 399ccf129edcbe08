//===- Thrown.cpp - The program's exception classes across boundaries ----===//
//
// A handler around a boundary may catch a class of the program. Exceptions
// of that class, and of every class the unit defines that derives from it,
// then cross as themselves (runtime/include/cleave/thrown.h): a class that
// is not a standard exception travels by its members and is rebuilt
// without a constructor of the program's, which only a quiet class allows;
// a class derived from a standard exception travels as its message and is
// made again from it, which only a class that adds no members and whose
// constructors pass the message on unchanged allows
// (docs/splitting.md, "Exceptions").
//
//===----------------------------------------------------------------------===//

#include "MachineInternal.h"

#include "cleave/Emit/Glue.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"

namespace cleave {
namespace machine {

using namespace clang;

namespace {

bool isStdClass(const CXXRecordDecl *RD, llvm::StringRef Name) {
  return RD && RD->isInStdNamespace() && RD->getIdentifier() &&
         RD->getName() == Name;
}

/// The standard exception classes made from their message
/// (exception_types.def, third column 1).
bool madeFromText(const CXXRecordDecl *RD) {
  if (!RD || !RD->isInStdNamespace() || !RD->getIdentifier())
    return false;
  std::string Name = "std::" + RD->getName().str();
  static const std::pair<const char *, bool> Classes[] = {
#define CLEAVE_EXCEPTION(Class, Spelling, FromText) {Spelling, FromText},
#include "cleave/exception_types.def"
#undef CLEAVE_EXCEPTION
  };
  for (const auto &[C, FromText] : Classes)
    if (Name == C)
      return FromText;
  return false;
}

bool derivesFromStdException(const CXXRecordDecl *RD) {
  RD = RD->getDefinition();
  if (!RD)
    return false;
  if (isStdClass(RD, "exception"))
    return true;
  for (const CXXBaseSpecifier &B : RD->bases())
    if (const CXXRecordDecl *Base = B.getType()->getAsCXXRecordDecl())
      if (derivesFromStdException(Base))
        return true;
  return false;
}

/// std::string, const std::string &, std::string_view or const char *: what
/// a constructor that takes the message may take.
bool takesText(QualType T) {
  T = T.getNonReferenceType().getCanonicalType();
  if (const auto *PT = T->getAs<PointerType>())
    return PT->getPointeeType().getUnqualifiedType()->isCharType();
  const CXXRecordDecl *RD = T->getAsCXXRecordDecl();
  if (!RD || !RD->isInStdNamespace())
    return false;
  const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD);
  if (!Spec || (Spec->getName() != "basic_string" &&
                Spec->getName() != "basic_string_view"))
    return false;
  return Spec->getTemplateArgs()[0].getAsType()->isCharType();
}

/// \p E, past the conversions C++ makes of a message on its way to a base
/// (copies, temporaries, a std::string made from a const char *).
const Expr *pastConversions(const Expr *E) {
  while (E) {
    const Expr *Next = E->IgnoreImplicit()->IgnoreParens();
    if (const auto *CE = dyn_cast<CXXConstructExpr>(Next))
      if (CE->getNumArgs() >= 1 && takesText(CE->getType()) &&
          (CE->getNumArgs() == 1 || isa<CXXDefaultArgExpr>(CE->getArg(1))))
        Next = CE->getArg(0);
    if (Next == E)
      return E;
    E = Next;
  }
  return E;
}

} // namespace

bool MachineBuilder::passesMessageOn(const CXXConstructorDecl *C,
                                     unsigned Depth) const {
  if (!C || Depth > 32)
    return false;
  if (madeFromText(C->getParent()))
    return C->getNumParams() >= 1 && takesText(C->getParamDecl(0)->getType());
  if (C->isInheritingConstructor())
    return passesMessageOn(C->getInheritedConstructor().getConstructor(),
                           Depth + 1);
  if (C->getNumParams() != 1 || !takesText(C->getParamDecl(0)->getType()))
    return false;
  const FunctionDecl *Def = nullptr;
  if (!C->hasBody(Def) || !Def)
    return false;
  const auto *Body = dyn_cast_or_null<CompoundStmt>(Def->getBody());
  if (!Body || !Body->body_empty())
    return false;
  const auto *CD = cast<CXXConstructorDecl>(Def);
  const ParmVarDecl *P = CD->getParamDecl(0);
  bool Passed = false;
  for (const CXXCtorInitializer *I : CD->inits()) {
    if (!I->isBaseInitializer())
      return false;
    const auto *CE = dyn_cast<CXXConstructExpr>(
        I->getInit()->IgnoreImplicit()->IgnoreParens());
    if (!CE || CE->getNumArgs() < 1)
      return false;
    const auto *Ref = dyn_cast<DeclRefExpr>(pastConversions(CE->getArg(0)));
    if (!Ref || Ref->getDecl() != P ||
        !passesMessageOn(CE->getConstructor(), Depth + 1))
      return false;
    Passed = true;
  }
  return Passed;
}

std::optional<SerializeProblem>
MachineBuilder::carriedClassProblem(const CXXRecordDecl *RD,
                                    std::string &Registration) {
  auto Problem = [&](std::string Why) {
    SerializeProblem P;
    P.Reason = std::move(Why);
    P.NoteLoc = RD->getLocation();
    P.Note = "'" + RD->getNameAsString() + "' is defined here";
    return P;
  };
  RD = RD->getDefinition();
  if (!RD)
    return SerializeProblem{"it is an incomplete class", {}, {}};
  if (RD->isInStdNamespace())
    return SerializeProblem{"it is a standard class that holds more than its "
                            "message",
                            {},
                            {}};
  if (RD->isInAnonymousNamespace() || !RD->getIdentifier() ||
      RD->isLocalClass())
    return Problem("it has no name that is the same in every unit (it is "
                   "unnamed, local, or in an anonymous namespace)");
  for (const DeclContext *DC = RD; isa<CXXRecordDecl>(DC->getParent());
       DC = DC->getParent())
    if (cast<CXXRecordDecl>(DC)->getAccess() != AS_public)
      return Problem("it is a private or protected nested class");
  std::string Code = typeCode(Ctx.getRecordType(RD));
  std::string Key = cppStringLiteral(Code);

  if (!derivesFromStdException(RD)) {
    // Its members travel; it is rebuilt without a constructor of yours.
    QualType T = Ctx.getRecordType(RD);
    if (auto P = MC.Types.checkFrame(T)) {
      P->Reason = "its members cannot travel: " + P->Reason;
      return P;
    }
    if (!MC.Types.isQuiet(T))
      return Problem("it has constructors, a destructor or assignments of "
                     "its own, which would run again when it is rebuilt on "
                     "the other side of the boundary");
    Registration = "::cleave::rt::carryClass<" + Code + ">(" + Key + ")";
    return std::nullopt;
  }

  // Derived from a standard exception: it is made again from its message.
  const CXXRecordDecl *Std = nullptr;
  for (const CXXRecordDecl *C = RD; C;) {
    if (C->isInStdNamespace()) {
      Std = C;
      break;
    }
    if (C->getNumBases() != 1 || C->getNumVBases() != 0 ||
        C->bases_begin()->getAccessSpecifier() != AS_public)
      return Problem("it derives from a standard exception through other "
                     "than one public base per class");
    if (!C->field_empty())
      return Problem(
          "it derives from a standard exception and has data members of its "
          "own ('" +
          C->field_begin()->getNameAsString() +
          "'), but such a class crosses a boundary as its message alone; "
          "put the data in the message, or throw a class of plain data "
          "members that does not derive from a standard exception");
    if (const CXXDestructorDecl *D = C->getDestructor();
        D && D->isUserProvided())
      return Problem("it has a destructor of its own, which would run again "
                     "when it is made on the other side of the boundary");
    for (const CXXMethodDecl *M : C->methods())
      if (M->getIdentifier() && M->getName() == "what")
        return Problem("it defines what(), but a class derived from a "
                       "standard exception crosses a boundary as its "
                       "message, made again by a constructor that takes it");
    C = C->bases_begin()->getType()->getAsCXXRecordDecl();
    C = C ? C->getDefinition() : nullptr;
  }
  if (!Std || !madeFromText(Std))
    return Problem("it derives from '" + (Std ? "std::" + Std->getNameAsString()
                                              : std::string("?")) +
                   "', which is not made from a message; derive from "
                   "std::runtime_error or std::logic_error");
  // Every constructor that a message could call must pass it on unchanged
  // (or be inherited from one that does), and one must exist.
  bool Found = false, TakesString = false;
  auto Consider = [&](const CXXConstructorDecl *C) -> bool {
    if (C->isCopyOrMoveConstructor() || C->getMinRequiredArguments() > 1 ||
        C->getNumParams() == 0)
      return true;
    if (!takesText(C->getParamDecl(0)->getType()))
      return true;
    if (C->getAccess() != AS_public || !passesMessageOn(C, 0))
      return false;
    Found = true;
    TakesString |= !C->getParamDecl(0)->getType()->isPointerType();
    return true;
  };
  for (const Decl *D : RD->decls()) {
    const auto *FT = dyn_cast<FunctionTemplateDecl>(D);
    if (FT && isa<CXXConstructorDecl>(FT->getTemplatedDecl()))
      return Problem("it has a constructor template, so cleave cannot tell "
                     "which constructor its message would call");
    if (const auto *C = dyn_cast<CXXConstructorDecl>(D)) {
      if (!Consider(C))
        return Problem("its constructor at line " +
                       std::to_string(SM.getPresumedLineNumber(
                           C->getLocation())) +
                       " does more than pass the message on to its base, "
                       "but a class derived from a standard exception "
                       "crosses a boundary as its message, made again by "
                       "that constructor");
    } else if (const auto *S = dyn_cast<ConstructorUsingShadowDecl>(D)) {
      if (const auto *C = dyn_cast<CXXConstructorDecl>(S->getTargetDecl()))
        if (!Consider(C))
          return Problem("a constructor it inherits does more than pass the "
                         "message on to its base");
    }
  }
  if (!Found)
    return Problem("it has no public constructor that takes the message "
                   "alone, but a class derived from a standard exception "
                   "crosses a boundary as its message, made again by such a "
                   "constructor");
  Registration = "::cleave::rt::carryClass<" + Code + ">(" + Key +
                 ", [](const ::std::string &W) { throw " + Code + "(W" +
                 (TakesString ? "" : ".c_str()") + "); })";
  return std::nullopt;
}

bool MachineBuilder::carryCaught(const CXXCatchStmt *C,
                                 SourceLocation Boundary) {
  QualType Caught = C->getCaughtType().getNonReferenceType();
  const CXXRecordDecl *RD = Caught->getAsCXXRecordDecl();
  auto Refuse = [&](const std::string &Why, SourceLocation NoteLoc,
                    const std::string &Note) {
    MC.Report.error(C->getBeginLoc(),
                    "a handler around a boundary cannot catch '" +
                        typeDisplay(Caught) + "': " + Why);
    if (NoteLoc.isValid())
      MC.Report.note(NoteLoc, Note);
    MC.Report.note(Boundary, "the boundary is here");
    return false;
  };
  if (!RD)
    return Refuse("an exception that is not a class cannot cross a boundary; "
                  "throw a class", {}, {});
  RD = RD->getDefinition();
  if (!RD)
    return Refuse("it is an incomplete class", {}, {});
  // The class and every class of the unit derived from it: the exception a
  // handler takes is any of them.
  std::vector<const CXXRecordDecl *> Classes{RD};
  if (!MC.AllClasses) {
    MC.AllClasses.emplace();
    std::vector<const DeclContext *> Work{Ctx.getTranslationUnitDecl()};
    while (!Work.empty()) {
      const DeclContext *DC = Work.back();
      Work.pop_back();
      for (const Decl *D : DC->decls()) {
        if (const auto *NS = dyn_cast<NamespaceDecl>(D))
          Work.push_back(NS);
        else if (const auto *LS = dyn_cast<LinkageSpecDecl>(D))
          Work.push_back(LS);
        else if (const auto *R = dyn_cast<CXXRecordDecl>(D);
                 R && R->isThisDeclarationADefinition() &&
                 !R->isDependentContext() && !R->isInStdNamespace()) {
          MC.AllClasses->push_back(R);
          Work.push_back(R);
        }
      }
    }
  }
  for (const CXXRecordDecl *Other : *MC.AllClasses)
    if (Other != RD && Other->hasDefinition() && Other->isDerivedFrom(RD))
      Classes.push_back(Other);
  for (const CXXRecordDecl *K : Classes) {
    if (MC.Carried.count(K))
      continue;
    std::string Registration;
    if (auto P = carriedClassProblem(K, Registration)) {
      std::string Why = P->Reason;
      if (K != RD)
        Why = "'" + typeDisplay(Ctx.getRecordType(K)) + "', derived from it, "
              "cannot cross one: " + Why;
      return Refuse("exceptions cross a boundary as themselves, but " + Why,
                    P->NoteLoc, P->Note);
    }
    MC.Carried.insert({K, std::move(Registration)});
  }
  return true;
}

} // namespace machine
} // namespace cleave
