//===- Frontend.cpp - The program model of one translation unit --------===//
//
// One pass over a translation unit, while its AST is alive, that builds its
// part of the program model and nothing else:
//   1. check every Cleave annotation where it is written (kind of
//      declaration, trigger and option strings);
//   2. record each function definition of the main file in the program
//      model, with the state it may touch through everything it may run
//      (StateReachAnalysis), and for annotated ones their signature,
//      checked for serializability;
//   3. remember what the later passes need from the AST (UnitModel): the
//      definitions, the entries, the uses and declarations of state.
// Lowering, rewriting and glue are driven by Driver/Unit.cpp.
//
//===----------------------------------------------------------------------===//

#include "cleave/Frontend/Frontend.h"

#include "cleave/Analysis/Serializable.h"
#include "cleave/Analysis/StateUse.h"
#include "cleave/Frontend/Annotations.h"
#include "cleave/Frontend/Diagnostics.h"
#include "cleave/Frontend/Names.h"

#include "clang/AST/Attr.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Index/USRGeneration.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <functional>
#include <variant>

using namespace clang;

namespace cleave {

namespace {

/// A C identifier for a qualified name, different for different names:
/// each part between "::" is written as its length and its text, a byte
/// that cannot be in an identifier as _xHH ("ns::f" is "2ns1f", "ns__f" is
/// "5ns__f", "f#2" is "4f_x232").
std::string identifierSpelling(llvm::StringRef Name) {
  std::string Out;
  llvm::SmallVector<llvm::StringRef, 4> Parts;
  Name.split(Parts, "::");
  for (llvm::StringRef Part : Parts) {
    std::string Text;
    for (char C : Part)
      if (llvm::isAlnum(C) || C == '_')
        Text += C;
      else
        Text += llvm::formatv("_x{0:x-2}", static_cast<unsigned char>(C)).str();
    Out += std::to_string(Text.size()) + Text;
  }
  return Out;
}

} // namespace

std::string handlerSymbol(const std::string &QualifiedName) {
  return "cleave_handler_" + identifierSpelling(QualifiedName);
}

std::string stateSymbol(const std::string &QualifiedName) {
  return "cleave_state_" + identifierSpelling(QualifiedName);
}

std::string machineSymbol(const std::string &MachineName) {
  return "cleave_step_" + identifierSpelling(MachineName);
}

namespace {

enum class AnnotationKind { Entry, Function, State, Unknown };

AnnotationKind kindOf(const AnnotateAttr *A) {
  llvm::StringRef K = A->getAnnotation();
  if (K == "cleave.entry")
    return AnnotationKind::Entry;
  if (K == "cleave.function")
    return AnnotationKind::Function;
  if (K == "cleave.state")
    return AnnotationKind::State;
  return AnnotationKind::Unknown;
}

const char *macroName(AnnotationKind K) {
  switch (K) {
  case AnnotationKind::Entry:
    return "CLEAVE_ENTRY";
  case AnnotationKind::Function:
    return "CLEAVE_FUNCTION";
  case AnnotationKind::State:
    return "CLEAVE_STATE";
  case AnnotationKind::Unknown:
    break;
  }
  return "this annotation";
}

/// The string argument of a Cleave annotation, if it has one.
const StringLiteral *anyAnnotationString(const AnnotateAttr *A) {
  if (A->args_size() < 1)
    return nullptr;
  const Expr *E = *A->args_begin();
  return E ? dyn_cast<StringLiteral>(E->IgnoreParenImpCasts()) : nullptr;
}

/// The annotation's text: an ordinary (or UTF-8) string literal.
const StringLiteral *annotationString(const AnnotateAttr *A) {
  const StringLiteral *S = anyAnnotationString(A);
  return S && (S->isOrdinary() || S->isUTF8()) ? S : nullptr;
}

/// "a data member", "a local variable", ...: what a misplaced annotation sits
/// on, for the diagnostic.
std::string describeDecl(const Decl *D) {
  if (const auto *FD = dyn_cast<FunctionDecl>(D)) {
    if (FD->getDescribedFunctionTemplate() || FD->isTemplateInstantiation() ||
        FD->isFunctionTemplateSpecialization())
      return "a function template";
    if (const auto *MD = dyn_cast<CXXMethodDecl>(FD)) {
      if (MD->getParent()->isLambda())
        return "a lambda";
      if (isa<CXXConstructorDecl>(MD))
        return "a constructor";
      if (isa<CXXDestructorDecl>(MD))
        return "a destructor";
      return MD->isStatic() ? "a static member function" : "a member function";
    }
    return "a function";
  }
  if (isa<ParmVarDecl>(D))
    return "a parameter";
  if (const auto *VD = dyn_cast<VarDecl>(D)) {
    if (VD->getTLSKind() != VarDecl::TLS_None)
      return "a thread_local variable";
    if (VD->isStaticLocal())
      return "a static local variable";
    if (VD->isLocalVarDecl())
      return "a local variable";
    if (VD->isConstexpr())
      return "a constexpr variable";
    if (VD->getDescribedVarTemplate())
      return "a variable template";
    return "a variable";
  }
  if (isa<FieldDecl>(D))
    return "a non-static data member";
  if (isa<TagDecl>(D))
    return "a type";
  if (isa<NamespaceDecl>(D))
    return "a namespace";
  return "this declaration";
}

std::string usrOf(const Decl *D) {
  llvm::SmallString<128> Buf;
  if (index::generateUSRForDecl(D, Buf))
    return {};
  return std::string(Buf);
}

/// A free function or static member function, not a template or lambda:
/// the kind of declaration CLEAVE_ENTRY / CLEAVE_FUNCTION may sit on.
bool isFreeFunction(const FunctionDecl *FD) {
  const auto *MD = dyn_cast<CXXMethodDecl>(FD);
  return !(MD && (!MD->isStatic() || MD->getParent()->isLambda())) &&
         FD->getTemplatedKind() == FunctionDecl::TK_NonTemplate &&
         !FD->getDescribedFunctionTemplate();
}

/// Whether CLEAVE_ENTRY / CLEAVE_FUNCTION may annotate \p FD: a free
/// function other than `main`, and not variadic.
bool isAnnotatableFunction(const FunctionDecl *FD) {
  return isFreeFunction(FD) && !FD->isMain() && !FD->isVariadic();
}

/// Whether CLEAVE_STATE may sit on \p VD: a variable at namespace scope or
/// a static data member, not thread_local, constexpr or a template.
bool isStateCandidate(const VarDecl *VD) {
  return !isa<ParmVarDecl>(VD) && VD->hasGlobalStorage() &&
         !VD->isStaticLocal() && VD->getTLSKind() == VarDecl::TLS_None &&
         !VD->isConstexpr() && !VD->isTemplated() &&
         !isa<VarTemplateSpecializationDecl>(VD);
}

/// \p Path made absolute against the working directory, without dots.
std::string absolutePath(llvm::StringRef Path) {
  llvm::SmallString<256> Abs(Path);
  llvm::sys::fs::make_absolute(Abs);
  llvm::sys::path::remove_dots(Abs, /*remove_dot_dot=*/true);
  return std::string(Abs);
}

class UnitAnalysis;

/// Visits the whole unit once, collecting what the later steps need.
class UnitVisitor : public RecursiveASTVisitor<UnitVisitor> {
public:
  explicit UnitVisitor(UnitAnalysis &A) : A(A) {}
  bool shouldVisitTemplateInstantiations() const { return false; }
  bool shouldVisitImplicitCode() const { return false; }

  bool VisitDecl(Decl *D);
  bool VisitFunctionDecl(FunctionDecl *FD);
  bool VisitVarDecl(VarDecl *VD);
  bool VisitDeclRefExpr(DeclRefExpr *E);
  bool VisitMemberExpr(MemberExpr *E);

private:
  UnitAnalysis &A;
};

/// Collects the call sites of a function body, including those in template
/// instantiations it calls into, for placement and lowering.
class BodyVisitor : public RecursiveASTVisitor<BodyVisitor> {
public:
  BodyVisitor(ASTContext &Ctx, FunctionNode &Node,
              std::function<SourcePos(SourceLocation)> PosOf)
      : Ctx(Ctx), Node(Node), PosOf(std::move(PosOf)) {}
  bool shouldVisitTemplateInstantiations() const { return true; }

  bool VisitCallExpr(CallExpr *E) {
    // A call the C++ compiler evaluates, or that is never evaluated
    // (`decltype(quote(x))`, a template argument), runs nowhere.
    if (const FunctionDecl *F = E->getDirectCallee();
        F && !isNotRunHere(E, Ctx))
      addCallSite(E, F);
    return true;
  }

private:
  void addCallSite(const CallExpr *E, const FunctionDecl *F) {
    if (E->getBeginLoc().isInvalid())
      return;
    // cleave::parallel_map(items, fn): a fan-out over fn.
    if (F->getName() == "parallel_map" && E->getNumArgs() == 2 &&
        F->getDeclContext()->isNamespace() &&
        cast<NamespaceDecl>(F->getDeclContext())->getName() == "cleave") {
      const Expr *Fn = E->getArg(1)->IgnoreParenImpCasts();
      if (const auto *U = dyn_cast<UnaryOperator>(Fn))
        Fn = U->getSubExpr()->IgnoreParenImpCasts();
      if (const auto *Ref = dyn_cast<DeclRefExpr>(Fn))
        if (const auto *Target = dyn_cast<FunctionDecl>(Ref->getDecl())) {
          std::string U = usrOf(Target->getCanonicalDecl());
          if (!U.empty())
            Node.Calls.push_back({U, PosOf(E->getBeginLoc()), true});
        }
      return;
    }
    std::string U = usrOf(F->getCanonicalDecl());
    if (!U.empty() && U != Node.USR)
      Node.Calls.push_back({U, PosOf(E->getBeginLoc()), false});
  }

  ASTContext &Ctx;
  FunctionNode &Node;
  std::function<SourcePos(SourceLocation)> PosOf;
};

/// Finds the annotated functions that a function's code reaches where
/// cleave sees no call of its own (HiddenCall): through the constructors
/// and destructors that declarations, temporaries, `new` and `delete` run,
/// default arguments, default member initializers, and the bodies of
/// functions the program's sources do not define (a header's). From such a
/// place, everything that can run is followed.
class HiddenCalls : public RecursiveASTVisitor<HiddenCalls> {
public:
  /// A place to follow, and the way to it from the function.
  struct Work {
    const FunctionDecl *Fn = nullptr; ///< a function's body, or
    const Expr *E = nullptr;          ///< an expression (a default)
    SourceLocation Hop;
    std::string Via;
  };

  HiddenCalls(ASTContext &Ctx, FunctionNode &Node,
              std::function<SourcePos(SourceLocation)> PosOf,
              std::function<bool(const FunctionDecl *)> IsSource)
      : Ctx(Ctx), SM(Ctx.getSourceManager()), Node(Node),
        PosOf(std::move(PosOf)), IsSource(std::move(IsSource)) {}

  bool shouldVisitTemplateInstantiations() const { return true; }
  /// The semantic form of an initializer list holds the default member
  /// initializers an aggregate's initialization runs.
  bool shouldVisitImplicitCode() const { return true; }

  void run(const FunctionDecl *FD) {
    Seen.insert(FD);
    TraverseStmt(FD->getBody());
    // Each place once; a bound keeps a huge program's walk short.
    for (size_t I = 0; I < Queue.size() && Seen.size() < 20000; ++I) {
      Current = Queue[I];
      InHidden = true;
      if (Current.E) {
        TraverseStmt(const_cast<Expr *>(Current.E));
        continue;
      }
      const FunctionDecl *F = Current.Fn;
      if (const auto *C = dyn_cast<CXXConstructorDecl>(F))
        for (const CXXCtorInitializer *Init : C->inits())
          TraverseStmt(Init->getInit());
      if (const auto *D = dyn_cast<CXXDestructorDecl>(F))
        destroysMembers(D->getParent());
      TraverseStmt(F->getBody());
    }
  }

  bool VisitCallExpr(CallExpr *E) {
    const FunctionDecl *F = E->getDirectCallee();
    if (!F || isNotRunHere(E, Ctx))
      return true;
    if (InHidden) {
      if (isAnnotated(F))
        record(F, E->getBeginLoc());
      follow(F, E->getBeginLoc(), {});
      return true;
    }
    // A call cleave sees: placed, unless the function is defined nowhere in
    // the program's sources (a header's function).
    if (isAnnotated(F) || IsSource(F))
      return true;
    follow(F, E->getBeginLoc(), "'" + qualifiedName(F) + "', which is defined in " + fileOf(F));
    return true;
  }

  bool VisitCXXConstructExpr(CXXConstructExpr *E) {
    if (!isNotRunHere(E, Ctx))
      follow(E->getConstructor(), E->getBeginLoc(),
             "the constructor of '" +
                 qualifiedName(E->getConstructor()->getParent()) + "'");
    return true;
  }
  bool VisitCXXBindTemporaryExpr(CXXBindTemporaryExpr *E) {
    if (!isNotRunHere(E, Ctx))
      if (const CXXDestructorDecl *D = E->getTemporary()->getDestructor())
        follow(D, E->getBeginLoc(), destructorOf(D));
    return true;
  }
  bool VisitCXXDeleteExpr(CXXDeleteExpr *E) {
    if (const auto *RD = E->getDestroyedType()->getAsCXXRecordDecl())
      if (RD->hasDefinition())
        if (const CXXDestructorDecl *D = RD->getDestructor())
          follow(D, E->getBeginLoc(), destructorOf(D));
    return true;
  }
  bool VisitVarDecl(VarDecl *V) {
    if (!V->hasLocalStorage() || isa<ParmVarDecl>(V))
      return true;
    if (const auto *RD =
            Ctx.getBaseElementType(V->getType())->getAsCXXRecordDecl())
      if (RD->hasDefinition())
        if (const CXXDestructorDecl *D = RD->getDestructor())
          follow(D, V->getLocation(), destructorOf(D));
    return true;
  }
  bool VisitCXXDefaultArgExpr(CXXDefaultArgExpr *E) {
    const ParmVarDecl *P = E->getParam();
    std::string Of;
    if (const auto *F = dyn_cast_or_null<FunctionDecl>(P->getDeclContext()))
      Of = " of '" + qualifiedName(F) + "'";
    queue({nullptr, E->getExpr(), E->getUsedLocation(),
           "a default argument" + Of});
    return true;
  }
  bool VisitCXXDefaultInitExpr(CXXDefaultInitExpr *E) {
    queue({nullptr, E->getExpr(), E->getUsedLocation(),
           "the default member initializer of '" +
               qualifiedName(E->getField()) + "'"});
    return true;
  }

private:
  bool isAnnotated(const FunctionDecl *F) const {
    for (const FunctionDecl *R : F->redecls())
      for (const auto *A : R->specific_attrs<AnnotateAttr>())
        if (A->getAnnotation() == "cleave.entry" ||
            A->getAnnotation() == "cleave.function")
          return true;
    return false;
  }
  bool isLibrary(const Decl *D) const {
    return D->getLocation().isInvalid() ||
           SM.isInSystemHeader(SM.getExpansionLoc(D->getLocation()));
  }
  std::string fileOf(const FunctionDecl *F) const {
    const FunctionDecl *Def = F->getDefinition();
    PresumedLoc P = SM.getPresumedLoc(
        SM.getExpansionLoc((Def ? Def : F)->getLocation()));
    return P.isValid() ? llvm::sys::path::filename(P.getFilename()).str()
                       : std::string("another file");
  }
  std::string destructorOf(const CXXDestructorDecl *D) const {
    return "the destructor of '" + qualifiedName(D->getParent()) + "'";
  }

  /// Follows \p F, run from \p At: from the function's own code, a new way
  /// (\p Via); from a place already followed, the same way.
  void follow(const FunctionDecl *F, SourceLocation At, std::string Via) {
    if (!F || isLibrary(F))
      return;
    const FunctionDecl *Def = F->getDefinition();
    if (!Def && F->isDefaulted())
      Def = F; // an implicit member: its initializers still run
    if (!Def)
      return;
    queue({Def, nullptr, At, std::move(Via)});
  }
  void queue(Work W) {
    if (W.Fn && !Seen.insert(W.Fn).second)
      return;
    if (W.E && !SeenExprs.insert(W.E).second)
      return;
    if (InHidden) {
      W.Hop = Current.Hop;
      W.Via = Current.Via;
    }
    Queue.push_back(std::move(W));
  }
  void destroysMembers(const CXXRecordDecl *RD) {
    auto Of = [&](QualType T) {
      if (const auto *C = Ctx.getBaseElementType(T)->getAsCXXRecordDecl())
        if (C->hasDefinition())
          if (const CXXDestructorDecl *D = C->getDestructor())
            follow(D, {}, {});
    };
    for (const FieldDecl *F : RD->fields())
      Of(F->getType());
    for (const CXXBaseSpecifier &B : RD->bases())
      Of(B.getType());
  }
  void record(const FunctionDecl *Callee, SourceLocation At) {
    std::string USR = usrOf(Callee->getCanonicalDecl());
    if (USR.empty() || USR == Node.USR)
      return;
    SourcePos Hop = PosOf(Current.Hop);
    for (const HiddenCall &H : Node.Hidden)
      if (H.Callee == USR && H.Pos.File == Hop.File && H.Pos.Line == Hop.Line &&
          H.Pos.Column == Hop.Column)
        return;
    Node.Hidden.push_back({USR, Hop, Current.Via, PosOf(At)});
  }

  ASTContext &Ctx;
  const SourceManager &SM;
  FunctionNode &Node;
  std::function<SourcePos(SourceLocation)> PosOf;
  std::function<bool(const FunctionDecl *)> IsSource;
  std::vector<Work> Queue;
  llvm::SmallPtrSet<const FunctionDecl *, 32> Seen;
  llvm::SmallPtrSet<const Expr *, 32> SeenExprs;
  Work Current;
  bool InHidden = false;
};

class UnitAnalysis {
public:
  UnitAnalysis(ASTContext &Ctx, Reporter &Report,
               SerializableChecker &Types, TranslationUnit &Unit,
               UnitModel &Model)
      : Ctx(Ctx), SM(Ctx.getSourceManager()), Report(Report), Types(Types),
        Unit(Unit), Model(Model), Reach(Ctx) {}

  void run() {
    UnitVisitor(*this).TraverseDecl(Ctx.getTranslationUnitDecl());
    noteWholeUses();
    for (const CXXRecordDecl *RD : Reach.derivedLibraryClasses()) {
      std::string USR = usrOf(RD);
      if (!USR.empty())
        Unit.DerivedLibraryClasses.push_back(std::move(USR));
    }
    Model.EntryDecls = EntryDecls;
    Model.Definitions = Definitions;
    Model.StateTypes = StateTypes;
    Model.StateUses = StateUses;
    Model.ThreadLocalAt = ThreadLocalAt;
  }

  // --- Step 1: annotations where they are written ---------------------------

  void checkAnnotation(Decl *D, const AnnotateAttr *A) {
    AnnotationKind K = kindOf(A);
    SourceLocation Loc = A->getLocation();
    if (K == AnnotationKind::Unknown) {
      Report.error(Loc, "unknown Cleave annotation '" +
                            A->getAnnotation().str() + "'");
      return;
    }
    if (K == AnnotationKind::Entry || K == AnnotationKind::Function) {
      const auto *FD = dyn_cast<FunctionDecl>(D);
      if (!FD || !isFreeFunction(FD)) {
        Report.error(Loc, std::string(macroName(K)) +
                              " applies to free functions, not to " +
                              describeDecl(D));
        return;
      }
      if (FD->isMain()) {
        Report.error(Loc, std::string(macroName(K)) +
                              " cannot annotate 'main': it is the monolith's "
                              "driver and is left out of the deployment");
        return;
      }
      if (FD->isVariadic()) {
        Report.error(Loc, std::string(macroName(K)) +
                              " cannot annotate a variadic function");
        return;
      }
      // The generated glue calls the function by its qualified name.
      if (FD->getFriendObjectKind() != Decl::FOK_None &&
          llvm::all_of(FD->redecls(), [](const FunctionDecl *R) {
            return R->getLexicalDeclContext()->isRecord();
          })) {
        Report.error(Loc, std::string(macroName(K)) +
                              " cannot annotate a friend function declared "
                              "only inside its class: nothing outside the "
                              "class can name it; declare it at namespace "
                              "scope too");
        return;
      }
      for (const DeclContext *DC = FD->getDeclContext(); DC;
           DC = DC->getParent()) {
        const auto *RD = dyn_cast<CXXRecordDecl>(DC);
        if (DC->isFunctionOrMethod() || (RD && !RD->getIdentifier())) {
          Report.error(Loc, std::string(macroName(K)) +
                                " cannot annotate a member of a class defined "
                                "inside a function or of an unnamed class: "
                                "nothing outside can name it");
          return;
        }
      }
    } else {
      const auto *VD = dyn_cast<VarDecl>(D);
      if (VD && VD->hasGlobalStorage() && !VD->isStaticLocal() &&
          VD->isTemplated()) {
        Report.error(Loc, "CLEAVE_STATE cannot annotate a variable template "
                          "or a static data member of a class template: "
                          "each instantiation would be a variable of its "
                          "own; make it a variable of a class that is not "
                          "a template");
        return;
      }
      if (!VD || !isStateCandidate(VD)) {
        Report.error(Loc, std::string("CLEAVE_STATE applies to variables at "
                                      "namespace scope and static data "
                                      "members, not to ") +
                              describeDecl(D));
        return;
      }
    }

    const StringLiteral *S = annotationString(A);
    if (!S) {
      const StringLiteral *Any = anyAnnotationString(A);
      Report.error(Any ? Any->getBeginLoc() : Loc,
                   std::string(macroName(K)) +
                       (Any ? " takes an ordinary string literal, not a wide, "
                              "UTF-16 or UTF-32 one"
                            : " takes one string literal argument"));
      return;
    }
    if (A->args_size() > 1) {
      const Expr *Extra = *(A->args_begin() + 1);
      Report.error(Extra ? Extra->getBeginLoc() : Loc,
                   std::string(macroName(K)) +
                       (K == AnnotationKind::Entry
                            ? " takes one string, its trigger"
                            : " takes one string; write all its options in "
                              "it, separated by commas "
                              "(\"memory=2048,timeout=3\")"));
      return;
    }
    if (const auto *FD = dyn_cast<FunctionDecl>(D); FD && FD->isDeleted()) {
      Report.error(Loc, std::string(macroName(K)) +
                            " cannot annotate a deleted function");
      return;
    }
    checkAgainstOthers(D, A, K, S);
    AnnotatedDecl Rec;
    Rec.USR = usrOf(D->getCanonicalDecl());
    Rec.Name = qualifiedName(cast<NamedDecl>(D));
    Rec.Macro = macroName(K);
    Rec.Text = S->getString().str();
    Rec.Pos = posOf(Loc);
    if (const auto *FD = dyn_cast<FunctionDecl>(D)) {
      Rec.Defined = FD->doesThisDeclarationHaveABody();
    } else if (const auto *VD = dyn_cast<VarDecl>(D)) {
      QualType T = VD->getType().getUnqualifiedType();
      Rec.Type = T.getCanonicalType().getAsString(codePrintingPolicy(Ctx));
      Rec.TypeShown = displayTypeName(T, Ctx);
      Rec.Defined = VD->isThisDeclarationADefinition() == VarDecl::Definition;
    }
    if (!Rec.USR.empty())
      Unit.Annotated.push_back(std::move(Rec));
    std::optional<AnnotationError> Err;
    if (K == AnnotationKind::Entry) {
      auto R = parseTrigger(S->getString());
      if (auto *E = std::get_if<AnnotationError>(&R))
        Err = *E;
    } else if (K == AnnotationKind::Function) {
      auto R = parseFunctionOptions(S->getString());
      if (auto *E = std::get_if<AnnotationError>(&R))
        Err = *E;
    } else {
      auto R = parseStateOptions(S->getString());
      if (auto *E = std::get_if<AnnotationError>(&R))
        Err = *E;
    }
    if (Err)
      Report.error(stringLocation(S, Err->Offset), Err->Message);
  }

  /// A second annotation of the same kind on \p D or another declaration
  /// of it, with another text: one of them would be dropped.
  void checkAgainstOthers(const Decl *D, const AnnotateAttr *A,
                          AnnotationKind K, const StringLiteral *S) {
    const Decl *Canon = D->getCanonicalDecl();
    for (const Decl *R : Canon->redecls())
      for (const auto *Other : R->specific_attrs<AnnotateAttr>()) {
        if (Other == A)
          return; // only annotations before this one are compared
        if (Other->isInherited() || kindOf(Other) != K)
          continue;
        if (K == AnnotationKind::State && R == D) {
          // In the handler library each CLEAVE_STATE adds `thread_local`
          // after its attribute: written twice, the declaration is not C++.
          Report.error(A->getLocation(),
                       "CLEAVE_STATE is written twice on the declaration of '" +
                           qualifiedName(cast<NamedDecl>(D)) +
                           "'; keep one (in the handler library each adds "
                           "'thread_local', and two do not compile)");
          Report.note(Other->getLocation(), "the other annotation is here");
          return;
        }
        const StringLiteral *OS = annotationString(Other);
        if (!OS || OS->getString() == S->getString())
          continue;
        std::string Why =
            K == AnnotationKind::Entry
                ? "triggers ('" + elide(OS->getString()) + "' and '" +
                      elide(S->getString()) +
                      "'); a function serves one route, so keep one"
                : "options ('" + elide(OS->getString()) + "' and '" +
                      elide(S->getString()) + "'); a " +
                      (K == AnnotationKind::Function
                           ? "function runs with one profile"
                           : "state variable has one set of options") +
                      ", so keep one";
        Report.error(A->getLocation(), "'" +
                                           qualifiedName(cast<NamedDecl>(D)) +
                                           "' has two " + macroName(K) +
                                           " annotations with different " +
                                           Why);
        Report.note(Other->getLocation(), "the other annotation is here");
        return;
      }
  }

  SourceLocation stringLocation(const StringLiteral *S, size_t Offset) {
    if (Offset >= S->getLength())
      return S->getBeginLoc();
    return S->getLocationOfByte(static_cast<unsigned>(Offset), SM,
                                Ctx.getLangOpts(), Ctx.getTargetInfo());
  }

  // --- Step 2: the program model --------------------------------------------

  bool inMainFile(SourceLocation Loc) const {
    return Loc.isValid() && SM.isInMainFile(SM.getExpansionLoc(Loc));
  }

  SourcePos posOf(SourceLocation Loc) const { return sourcePos(SM, Loc); }

  /// Collects every Cleave annotation on \p D, inherited ones included.
  static llvm::SmallVector<const AnnotateAttr *, 2>
  cleaveAttrs(const Decl *D, AnnotationKind K) {
    llvm::SmallVector<const AnnotateAttr *, 2> Out;
    for (const auto *A : D->specific_attrs<AnnotateAttr>())
      if (kindOf(A) == K)
        Out.push_back(A);
    return Out;
  }

  void addFunction(FunctionDecl *FD) {
    if (FD->isInvalidDecl() || !FD->doesThisDeclarationHaveABody() ||
        FD->isDependentContext() || FD->isMain())
      return;
    if (!inMainFile(FD->getLocation())) {
      // An entry's handler is generated beside its definition, in a unit
      // cleave rewrites: an entry defined in a header has none.
      if (!cleaveAttrs(FD, AnnotationKind::Entry).empty() &&
          ReportedHeaderEntries.insert(FD->getCanonicalDecl()).second)
        Report.error(FD->getLocation(),
                     "entry '" + qualifiedName(FD) +
                         "' is defined in an included file; define it in one "
                         "of the source files given to cleave");
      return;
    }
    FunctionNode Node;
    Node.USR = usrOf(FD->getCanonicalDecl());
    if (Node.USR.empty())
      return;
    Node.Name = qualifiedName(FD);
    Node.Pos = posOf(FD->getLocation());
    Node.OneDefinition = FD->getFormalLinkage() == Linkage::External &&
                         !FD->isInlined() && !FD->isTemplateInstantiation();
    BodyVisitor(Ctx, Node, [this](SourceLocation L) {
      return posOf(L);
    }).TraverseStmt(FD->getBody());
    HiddenCalls(
        Ctx, Node, [this](SourceLocation L) { return posOf(L); },
        [this](const FunctionDecl *F) {
          const FunctionDecl *Def = F->getDefinition();
          return Def && !Def->isDependentContext() &&
                 inMainFile(Def->getLocation());
        })
        .run(FD);
    addReach(FD, Node);

    auto Entries = cleaveAttrs(FD, AnnotationKind::Entry);
    auto Functions = cleaveAttrs(FD, AnnotationKind::Function);
    if (!Entries.empty() || !Functions.empty()) {
      // Placement errors were reported where the annotation is written.
      if (!isAnnotatableFunction(FD))
        return;
      if (!Functions.empty()) {
        Node.IsFunction = true;
        if (const StringLiteral *S = annotationString(Functions.front())) {
          auto R = parseFunctionOptions(S->getString());
          if (auto *Res = std::get_if<Resources>(&R))
            Node.Res = *Res;
        }
        // Only an entry is called over HTTP, where a token is checked.
        if (!Node.Res.Auth.empty() && Entries.empty())
          Report.error(Functions.front()->getLocation(),
                       "option 'auth' applies to entries only; '" +
                           qualifiedName(FD) + "' has no CLEAVE_ENTRY");
      }
      if (!Entries.empty())
        addEntry(FD, Entries.front(), Node);
    }
    Definitions.push_back({Unit.Functions.size(), FD});
    Unit.Functions.push_back(std::move(Node));
  }

  /// Records in \p Node the state \p FD may touch in this unit, and what
  /// it may run that the unit cannot see.
  void addReach(const FunctionDecl *FD, FunctionNode &Node) {
    StateReach R = Reach.reach(FD);
    for (const auto &[SV, Access] : R.State) {
      auto [It, New] = Node.State.emplace(qualifiedName(SV), Access);
      if (!New)
        It->second = It->second | Access;
    }
    auto Unknown = [&](SourceLocation L, std::string Why) {
      if (Node.CallsUnknown)
        return;
      Node.CallsUnknown = true;
      // A call inside the standard library is reported at the function.
      Node.UnknownPos = L.isValid() && !SM.isInSystemHeader(SM.getFileLoc(L))
                            ? posOf(L)
                            : Node.Pos;
      Node.UnknownWhy = std::move(Why);
    };
    if (R.Unknown)
      Unknown(R.UnknownLoc, R.UnknownWhy);
    for (const FunctionDecl *F : R.External) {
      std::string USR = usrOf(F->getCanonicalDecl());
      if (USR.empty())
        Unknown(F->getLocation(), "'" + Node.Name + "' calls '" +
                                      qualifiedName(F) +
                                      "', which the analysis cannot name");
      else if (USR != Node.USR)
        Node.Callees.push_back(std::move(USR));
    }
    for (const CXXRecordDecl *RD : R.Dispatch) {
      std::string USR = usrOf(RD);
      if (USR.empty())
        Unknown(RD->getLocation(), "'" + Node.Name +
                                       "' makes a virtual call through '" +
                                       qualifiedName(RD) + "'");
      else
        Node.Dispatches.push_back(std::move(USR));
    }
  }

  void addEntry(FunctionDecl *FD, const AnnotateAttr *A, FunctionNode &Node) {
    const StringLiteral *S = annotationString(A);
    if (!S)
      return;
    auto R = parseTrigger(S->getString());
    if (!std::holds_alternative<Trigger>(R))
      return;
    Node.IsEntry = true;
    Node.Route = std::get<Trigger>(R);
    Node.RoutePos = posOf(S->getBeginLoc());
    Node.HandlerSymbol = handlerSymbol(Node.Name);

    for (unsigned I = 0; I < FD->getNumParams(); ++I) {
      const ParmVarDecl *P = FD->getParamDecl(I);
      std::string Where = "parameter '" + P->getNameAsString() +
                          "' of entry '" + Node.Name + "'";
      if (P->getName().empty()) {
        Report.error(P->getBeginLoc(),
                     "parameter " + std::to_string(I + 1) + " of entry '" +
                         Node.Name +
                         "' has no name; the request names each parameter");
        continue;
      }
      QualType T = P->getType();
      if (const auto *Ref = T->getAs<LValueReferenceType>();
          Ref && !Ref->getPointeeType().isConstQualified()) {
        Report.error(P->getLocation(),
                     Where + " is a non-const reference; an entry receives "
                             "its parameters by value");
        continue;
      }
      QualType VT = T.getNonReferenceType().getUnqualifiedType();
      if (!checkType(VT, P->getLocation(), Where + " cannot be serialized"))
        continue;
      Node.Params.push_back(Param{P->getNameAsString(),
                                  displayTypeName(P->getType(), Ctx),
                                  codeTypeName(VT, Ctx)});
    }

    QualType RT = FD->getReturnType();
    Node.Returns = displayTypeName(RT, Ctx);
    if (RT->isVoidType()) {
      Node.ReturnsCode = "void";
    } else {
      QualType VT = RT.getNonReferenceType().getUnqualifiedType();
      SourceLocation Loc = FD->getReturnTypeSourceRange().getBegin();
      if (Loc.isInvalid())
        Loc = FD->getLocation();
      if (checkType(VT, Loc,
                    "return type of entry '" + Node.Name +
                        "' cannot be serialized"))
        Node.ReturnsCode = codeTypeName(VT, Ctx);
    }
    EntryDecls.push_back({Unit.Functions.size(), FD});
  }

  bool checkType(QualType T, SourceLocation Loc, const std::string &What) {
    auto Problem = Types.check(T);
    if (!Problem)
      return true;
    Report.error(Loc, What + ": " + Problem->Reason);
    if (Problem->NoteLoc.isValid())
      Report.note(Problem->NoteLoc, Problem->Note);
    return false;
  }

  void addState(VarDecl *VD) {
    if (VD->isInvalidDecl() || !inMainFile(VD->getLocation()) ||
        VD->isThisDeclarationADefinition() != VarDecl::Definition)
      return;
    auto Attrs = cleaveAttrs(VD, AnnotationKind::State);
    if (Attrs.empty() || !isStateCandidate(VD))
      return;
    StateVar S;
    S.USR = usrOf(VD->getCanonicalDecl());
    S.Name = qualifiedName(VD);
    QualType T = VD->getType().getUnqualifiedType();
    S.Type = displayTypeName(T, Ctx);
    S.Pos = posOf(VD->getLocation());
    S.OpsSymbol = stateSymbol(S.Name);
    if (const StringLiteral *Str = annotationString(Attrs.front())) {
      auto R = parseStateOptions(Str->getString());
      if (auto *C = std::get_if<Consistency>(&R))
        S.Cons = *C;
    }
    if (!checkType(T, VD->getLocation(),
                   "state variable '" + S.Name + "' cannot be stored"))
      return;
    // The generated glue reaches each thread's copy from namespace scope.
    for (const Decl *D = VD; D && !isa<TranslationUnitDecl>(D);
         D = dyn_cast<Decl>(D->getDeclContext()))
      if (D->getAccess() == AS_private || D->getAccess() == AS_protected) {
        Report.error(VD->getLocation(),
                     "state variable '" + S.Name +
                         "' must be reachable from namespace scope; make it "
                         "(and the classes around it) public");
        return;
      }
    QualType Key = perKeyType(T, S.WholeType);
    if (!Key.isNull())
      S.KeyType = displayTypeName(Key, Ctx);
    StateTypes.push_back(codeTypeName(T, Ctx));
    Unit.States.push_back(std::move(S));
  }

  /// Remembers the first use of a global that this unit does not know as
  /// state, in case another unit does.
  void addPlainGlobalUse(const Expr *E, const VarDecl *VD) {
    if (!VD->hasGlobalStorage() || VD->isStaticLocal() ||
        !VD->hasExternalFormalLinkage() || !inMainFile(E->getExprLoc()))
      return;
    std::string USR = usrOf(VD->getCanonicalDecl());
    if (USR.empty() || !PlainGlobalsSeen.insert(USR).second)
      return;
    Unit.PlainGlobals.push_back(
        {USR, qualifiedName(VD), posOf(E->getExprLoc())});
  }

  /// Records, per map-typed state variable, the first use outside main()
  /// that is not a keyed access: it keeps the map stored whole.
  void noteWholeUses() {
    std::vector<SourceRange> Mains;
    for (const Decl *D : Ctx.getTranslationUnitDecl()->decls())
      if (const auto *FD = dyn_cast<FunctionDecl>(D))
        if (FD->isMain() && FD->doesThisDeclarationHaveABody())
          Mains.push_back(FD->getSourceRange());
    for (const auto &[E, SV] : StateUses) {
      std::string WhyNot;
      if (perKeyType(SV->getType().getUnqualifiedType(), WhyNot).isNull())
        continue;
      SourceLocation L = E->getExprLoc();
      if (llvm::any_of(Mains, [&](SourceRange R) {
            return SM.isPointWithin(L, R.getBegin(), R.getEnd());
          }))
        continue;
      std::string What;
      if (!isKeyedUse(E, Ctx, What)) {
        Unit.WholeUses.try_emplace(qualifiedName(SV),
                                   WholeUse{posOf(L), What, ""});
        continue;
      }
      // A keyed access reaches the map through its per-key view, which the
      // rewritten unit spells at the use; where cleave cannot rewrite the
      // text, the map is stored whole and the thread's copy serves the use.
      if (const char *Where = unrewritableUse(E))
        Unit.WholeUses.try_emplace(
            qualifiedName(SV),
            WholeUse{posOf(L), What,
                     std::string("this keyed access is spelled ") + Where +
                         ", where cleave cannot route it through the "
                         "per-key view"});
    }
  }

  /// Why the text of \p E cannot be rewritten ("inside a macro", "in an
  /// included file"), or null when it can.
  const char *unrewritableUse(const Expr *E) const {
    CharSourceRange Range = Lexer::makeFileCharRange(
        CharSourceRange::getTokenRange(E->getSourceRange()), SM,
        Ctx.getLangOpts());
    if (Range.isInvalid())
      return "inside a macro";
    if (SM.getFileID(Range.getBegin()) != SM.getMainFileID())
      return "in an included file";
    return nullptr;
  }

  /// A declaration of state that does not carry CLEAVE_STATE itself (an
  /// out-of-class definition of a static member, or a definition after an
  /// annotated `extern` declaration): in the handler library the others are
  /// thread_local, so this one must say so too.
  void addUnannotatedStateDecl(VarDecl *VD) {
    if (VD->isInvalidDecl() || !asStateVar(VD) ||
        VD->getTLSKind() != VarDecl::TLS_None)
      return;
    for (const auto *A : VD->specific_attrs<AnnotateAttr>())
      if (kindOf(A) == AnnotationKind::State && !A->isInherited())
        return;
    SourceLocation Begin = VD->getOuterLocStart();
    if (Begin.isValid() && Begin.isFileID() && SM.isInMainFile(Begin)) {
      ThreadLocalAt.push_back(Begin);
      return;
    }
    Report.error(VD->getLocation(),
                 "this declaration of state variable '" + qualifiedName(VD) +
                     "' lacks CLEAVE_STATE; state is thread_local in the "
                     "handler library, so every declaration of it must carry "
                     "the annotation");
  }

  void addStateUse(const Expr *E, const VarDecl *SV) {
    if (E->containsErrors() || isUnevaluatedUse(E, Ctx))
      return;
    if (!Seen.insert(E->getBeginLoc().getRawEncoding()).second)
      return;
    StateUses.push_back({E, SV});
  }

  ASTContext &Ctx;
  SourceManager &SM;
  Reporter &Report;
  SerializableChecker &Types;
  TranslationUnit &Unit;
  UnitModel &Model;
  std::vector<std::pair<size_t, const FunctionDecl *>> EntryDecls;
  std::vector<std::pair<size_t, const FunctionDecl *>> Definitions;
  std::vector<std::string> StateTypes;
  std::vector<std::pair<const Expr *, const VarDecl *>> StateUses;
  StateReachAnalysis Reach;
  /// Where a declaration of state without CLEAVE_STATE starts.
  std::vector<SourceLocation> ThreadLocalAt;
  llvm::DenseSet<unsigned> Seen;
  llvm::StringSet<> PlainGlobalsSeen;
  llvm::SmallPtrSet<const Decl *, 4> ReportedHeaderEntries;
};

bool UnitVisitor::VisitDecl(Decl *D) {
  if (D->isInvalidDecl())
    return true;
  for (const auto *Attr : D->specific_attrs<AnnotateAttr>())
    if (!Attr->isInherited() && Attr->getAnnotation().starts_with("cleave."))
      A.checkAnnotation(D, Attr);
  return true;
}

bool UnitVisitor::VisitFunctionDecl(FunctionDecl *FD) {
  A.addFunction(FD);
  return true;
}

bool UnitVisitor::VisitVarDecl(VarDecl *VD) {
  A.addState(VD);
  A.addUnannotatedStateDecl(VD);
  return true;
}

bool UnitVisitor::VisitDeclRefExpr(DeclRefExpr *E) {
  if (const VarDecl *SV = asStateVar(E->getDecl()))
    A.addStateUse(E, SV);
  else if (const auto *VD = dyn_cast<VarDecl>(E->getDecl()))
    A.addPlainGlobalUse(E, VD);
  return true;
}

bool UnitVisitor::VisitMemberExpr(MemberExpr *E) {
  if (const VarDecl *SV = asStateVar(E->getMemberDecl()))
    A.addStateUse(E, SV);
  return true;
}

} // namespace

SourcePos sourcePos(const SourceManager &SM, SourceLocation Loc) {
  SourcePos P;
  PresumedLoc PL = SM.getPresumedLoc(SM.getFileLoc(Loc));
  if (PL.isInvalid())
    return P;
  P.File = absolutePath(PL.getFilename());
  P.Line = PL.getLine();
  P.Column = PL.getColumn();
  return P;
}

std::string mainFilePath(const SourceManager &SM) {
  if (auto FE = SM.getFileEntryRefForID(SM.getMainFileID()))
    return absolutePath(FE->getName());
  return {};
}

std::vector<std::string> inputFiles(const SourceManager &SM) {
  std::vector<std::string> Out;
  for (auto It = SM.fileinfo_begin(); It != SM.fileinfo_end(); ++It)
    Out.push_back(absolutePath(It->first.getName()));
  llvm::sort(Out);
  Out.erase(std::unique(Out.begin(), Out.end()), Out.end());
  return Out;
}

void buildUnitModel(ASTContext &Ctx, Reporter &Report,
                    SerializableChecker &Types, TranslationUnit &Unit,
                    UnitModel &Model) {
  UnitAnalysis(Ctx, Report, Types, Unit, Model).run();
}

} // namespace cleave
