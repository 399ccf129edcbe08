//===- StateUse.h - How an expression uses program state ------*- C++ -*-===//
//
// Classifies one use of a CLEAVE_STATE variable as a read, a write, or both,
// from the expression around it: `x = 1` writes, `++x` and `m[k] -= 1` read
// and write, `m.at(k)` through a const method reads. Anything the rules do
// not recognize counts as read and write, which is always safe.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_ANALYSIS_STATEUSE_H
#define CLEAVE_ANALYSIS_STATEUSE_H

#include "cleave/Frontend/Program.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"

#include <memory>
#include <utility>
#include <vector>

namespace cleave {

/// How the expression containing \p Ref uses the state variable it names.
StateAccess classifyStateUse(const clang::Expr *Ref, clang::ASTContext &Ctx);

/// True when \p Ref sits in an unevaluated operand (sizeof, alignof,
/// decltype, noexcept, typeid of a non-polymorphic type): no access at all.
bool isUnevaluatedUse(const clang::Expr *Ref, clang::ASTContext &Ctx);

/// True when \p E does not run where it is written: an unevaluated operand
/// (isUnevaluatedUse), or an expression evaluated by the C++ compiler (a
/// constant expression: a template argument, an array bound, a case label,
/// the condition of `if constexpr`, a `static_assert`, the initializer of a
/// `constexpr` variable). A call there is no boundary.
bool isNotRunHere(const clang::Expr *E, clang::ASTContext &Ctx);

/// The key type of a state variable of type \p T that may be stored per
/// key: a std::map or std::unordered_map (keyed by std::string, as every
/// serializable map is). A null type otherwise, with \p WhyNot saying why.
clang::QualType perKeyType(clang::QualType T, std::string &WhyNot);

/// True when \p Ref, a use of a map-typed state variable, is a keyed access:
/// `m[k]`, `m.at(k)`, `m.count(k)`, `m.contains(k)` or `m.erase(k)`.
/// Otherwise \p What describes the use ("calls 'size'").
bool isKeyedUse(const clang::Expr *Ref, clang::ASTContext &Ctx,
                std::string &What);

/// The state variable whose find() initializes \p Local, a local
/// `auto it = m.find(k)`; null for any other local.
const clang::VarDecl *findIteratorSource(const clang::VarDecl *Local);

/// The CLEAVE_STATE variable \p D declares, if it is one (the annotation may
/// sit on any redeclaration).
const clang::VarDecl *asStateVar(const clang::Decl *D);

/// What running one function may do to program state, found by following
/// everything it can run that the unit's AST holds: calls and operators,
/// constructors with their member initializers and default member
/// initializers, destructors (of locals, parameters, temporaries, thrown
/// objects, members and bases, through delete), default arguments, lambdas
/// it creates, and the bodies of functions in headers and of every template
/// instantiation. Unevaluated operands do not count.
struct StateReach {
  /// Each CLEAVE_STATE variable (canonical declaration) it may touch.
  std::vector<std::pair<const clang::VarDecl *, StateAccess>> State;
  /// Functions it may call that the unit declares but does not define, and
  /// that are not library functions: the unit defining them tells the rest.
  std::vector<const clang::FunctionDecl *> External;
  /// Library classes (declared in system headers) through which it may
  /// make a virtual call, or which it hands to a library function defined
  /// elsewhere: it reaches the program through them only if the program
  /// derives a class from one.
  std::vector<const clang::CXXRecordDecl *> Dispatch;
  /// It may call a target the analysis cannot know: through a function
  /// pointer or member pointer, a virtual function of a class of the
  /// program, or a library function given a function pointer or an object
  /// of a polymorphic class of the program. It may then touch any state.
  bool Unknown = false;
  /// Where the first such call is, and what it does ("'f' calls through a
  /// function or member pointer").
  clang::SourceLocation UnknownLoc;
  std::string UnknownWhy;
};

/// Computes StateReach for functions of one translation unit, sharing the
/// work between them. A library function (declared in a system header)
/// that the unit does not define is assumed to call back into the program
/// only through what it is given, as StateReach::Dispatch and Unknown say.
class StateReachAnalysis {
public:
  explicit StateReachAnalysis(clang::ASTContext &Ctx);
  ~StateReachAnalysis();
  StateReachAnalysis(const StateReachAnalysis &) = delete;
  StateReachAnalysis &operator=(const StateReachAnalysis &) = delete;

  /// The state \p FD, a function definition, may reach.
  StateReach reach(const clang::FunctionDecl *FD);

  /// The library classes that some class defined outside system headers in
  /// this unit derives from, directly or not.
  std::vector<const clang::CXXRecordDecl *> derivedLibraryClasses();

private:
  struct Impl;
  std::unique_ptr<Impl> I;
};

} // namespace cleave

#endif // CLEAVE_ANALYSIS_STATEUSE_H
