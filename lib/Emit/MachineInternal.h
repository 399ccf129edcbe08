//===- MachineInternal.h - The parts of cutting a function ------*- C++ -*-===//
//
// Private to lib/Emit. Cutting one function into a state machine happens in
// four parts, one file each, all working on one MachineBuilder:
//   - CutPoints.cpp: the calls that stop the function, the statement each
//     one stops before (its anchor), the nesting that leads to it, and the
//     places a step cannot stop in;
//   - Liveness.cpp: the locals a resumed step passes the declaration of,
//     which of them each resume point needs, and how each one gets there
//     (carried in the frame, rebuilt, or absent), with the errors;
//   - FrameLayout.cpp: what each continuation frame holds, in the order a
//     resumed step reads it, its fingerprint, the manifest's edges;
//   - Resume.cpp: the rewritten body (structured resume, docs/splitting.md);
//   - StateMachine.cpp: the machine around the body and the adapters.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_LIB_EMIT_MACHINEINTERNAL_H
#define CLEAVE_LIB_EMIT_MACHINEINTERNAL_H

#include "cleave/Emit/StateMachine.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/AST/TypeLoc.h"
#include "clang/Analysis/Analyses/LiveVariables.h"
#include "clang/Analysis/CFG.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Lex/Lexer.h"
#include "clang/Rewrite/Core/Rewriter.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cleave {
namespace machine {

/// A call that stops the function: a boundary, a fan-out or a local hop.
struct Stop {
  const clang::CallExpr *Call = nullptr;
  const Suspension *Plan = nullptr;
  const clang::FunctionDecl *Callee = nullptr; ///< the function that runs
  unsigned Index = 0;                          ///< resume point, from 1
  /// The statement the step stops before, and re-runs with the callee's
  /// value in the call's place when it resumes.
  const clang::Stmt *Anchor = nullptr;
  bool Wrap = false; ///< Anchor is a branch or loop body of its own
  std::string ResultCode; ///< the callee's value type, "void"
  std::string ElemCode;   ///< fan-out: one element's value type
  std::string Args;       ///< code evaluating the arguments into the call
  std::string Layout;     ///< "0x1234abcdu"
  /// The variables the call passes to the callee's in-out parameters, with
  /// each parameter's index among them: they come back from the callee.
  /// (This function's own object, passed to a non-const member function,
  /// is in SelfFromCallee.)
  std::vector<std::pair<const clang::VarDecl *, unsigned>> Outs;
  /// Places (`v[i]`, `o.line`, a member of this) the call passes to in-out
  /// parameters: named again when the step resumes, and given the callee's
  /// final value in place.
  std::vector<std::pair<const clang::Expr *, unsigned>> Places;
};

/// A parameter taken by non-const lvalue reference: in a function cut into
/// steps, copied in with the arguments and out with the value.
inline bool isInOut(const clang::ParmVarDecl *P) {
  clang::QualType T = P->getType();
  return T->isLValueReferenceType() &&
         !T.getNonReferenceType().isConstQualified();
}

/// An operator between a stop and the statement it stops before that
/// evaluates an operand only sometimes (?:, &&, ||) or only after another
/// one (the comma operator). The step takes the decision before the stop, in
/// a flag of the resume object (cleave_r.decide), and the operator reads the
/// flag when the statement runs (again) with the callee's value; a resumed
/// step does not evaluate the condition again, it knows which operand holds
/// its resume point.
struct Decision {
  const clang::Expr *Op = nullptr;
  const clang::Expr *First = nullptr;  ///< the condition, the left operand
  const clang::Expr *Second = nullptr; ///< ?: true arm, or the right operand
  const clang::Stmt *Anchor = nullptr;
  unsigned Id = 0;
  /// The stops in Second (Hi == 0: none).
  unsigned Lo = 0, Hi = 0;
  /// Resume points after the operator in the same statement: their frames
  /// carry the flag, since the statement runs the operator again there.
  std::set<unsigned> FlagAt;
};

/// A handler that holds a stop. It keeps the exception it caught
/// (cleave_r.enterHandler), the frames of its stops carry it, and a step
/// resuming in it throws it again at the start of its try block
/// (cleave_r.throwHandled), so that the handler takes it as it took the
/// original.
struct Handler {
  const clang::CXXCatchStmt *Catch = nullptr;
  const clang::CXXTryStmt *Try = nullptr;
  unsigned Id = 0;
};

/// A local (or parameter) whose declaration a resumed step passes on its
/// way to a resume point.
struct Carrier {
  enum Kind {
    Slot,  ///< held in a cleave::rt::Local: restored or absent on the way
    Remat, ///< its declaration runs again: rebuilt from what is there
  };
  const clang::VarDecl *Var = nullptr; ///< also a ParmVarDecl or a
                                       ///< DecompositionDecl
  bool Param = false;
  bool LoopVar = false;   ///< a range-for's variable
  Kind How = Slot;
  /// Resume points whose path passes the declaration, and the ones among
  /// them whose rest of the function uses the variable.
  std::set<unsigned> Passed, Needed;
  /// Resume points among Needed whose rest reads the value: it travels.
  /// Elsewhere in Needed it is only written before it is read, and starts
  /// afresh (value-initialized) when its type makes that unobservable.
  std::set<unsigned> Live;
  /// Resume points whose call passed it to an in-out parameter (the
  /// parameter's index): it comes back from the callee, not the frame.
  std::map<unsigned, unsigned> FromCallee;
  std::string SlotName; ///< "cleave_l3", "cleave_p0"
  std::string Reason;   ///< why it is rebuilt, for the remark
  unsigned Order = 0;   ///< where a resumed step restores it
};

/// A range-for around a stop, walked by a cleave::rt::Cursor.
struct Loop {
  const clang::CXXForRangeStmt *For = nullptr;
  std::string Cursor;   ///< "cleave_c1"
  std::string Range;    ///< "cleave_range1"
  unsigned Lo = 0, Hi = 0;
  /// The range is a temporary: it travels in the frame (a Carrier of its
  /// own, named by the loop variable with ".range").
  bool Temporary = false;
  std::string TemporarySlot;
  std::string Position; ///< "index", "key", "keys"
  unsigned Order = 0;
};

/// A set of resume points kept as sorted, disjoint ranges: the later stops
/// of a statement that carry an earlier call's value are consecutive, and
/// a set of each would make a statement of N calls cost N * N.
class PointSet {
public:
  /// Adds \p K, which is greater than every point already in the set.
  void append(unsigned K) {
    if (!Runs.empty() && Runs.back().second + 1 == K)
      Runs.back().second = K;
    else
      Runs.push_back({K, K});
  }
  bool count(unsigned K) const {
    auto It = std::upper_bound(
        Runs.begin(), Runs.end(), K,
        [](unsigned X, const std::pair<unsigned, unsigned> &R) {
          return X < R.first;
        });
    return It != Runs.begin() && K <= std::prev(It)->second;
  }
  bool empty() const { return Runs.empty(); }
  const std::vector<std::pair<unsigned, unsigned>> &runs() const {
    return Runs;
  }

private:
  std::vector<std::pair<unsigned, unsigned>> Runs;
};

/// One value of a continuation frame.
struct FrameItem {
  std::string Save;    ///< how the stopping step names it
  std::string Display; ///< for people: "acc", "x.index", "cost()"
  std::string TypeName; ///< for people
  std::string TypeCode; ///< for the fingerprint
  clang::QualType Type; ///< for the size estimate; may be null
  unsigned Order = 0;
  unsigned Sub = 0; ///< within one statement: where it is restored
  /// The values of the calls of resume points PendingOf..PendingTo, saved
  /// as they are (not pendingIf) one after another; 0 for other items.
  unsigned PendingOf = 0, PendingTo = 0;
  unsigned Bytes = 0; ///< the estimated size, where Type cannot say
};

class MachineBuilder {
public:
  MachineBuilder(MachineContext &MC, const clang::FunctionDecl *FD,
                 FunctionNode &N);
  bool run(std::string &Out);

  // --- The machine (StateMachine.cpp) --------------------------------------
  bool checkSignature();
  /// Why an argument of \p F's parameter of type \p PT cannot cross a
  /// boundary, if it cannot. An entry's parameter is also decoded from JSON
  /// into a value-initialized object; any other function's is rebuilt from
  /// the caller's frame (Local::argument), which needs no default
  /// constructor where frame::constructFrame applies.
  std::optional<SerializeProblem> parameterProblem(const clang::FunctionDecl *F,
                                                   clang::QualType PT);
  std::string assemble();
  std::string oneStepMachine();
  std::string entryAdapters();
  void recordSteps();

  // --- Locations and text (StateMachine.cpp) ------------------------------
  clang::SourceLocation endOfToken(clang::SourceLocation L) const;
  bool tokenIs(clang::SourceLocation L, llvm::StringRef Spelling) const;
  clang::SourceLocation afterStmt(const clang::Stmt *S) const;
  std::string text(clang::SourceRange R) const;
  std::string text(clang::SourceLocation B, clang::SourceLocation E) const;
  bool encloses(const clang::Stmt *Outer, const clang::Stmt *Inner) const;
  bool encloses(clang::SourceRange Outer, clang::SourceLocation At) const;
  /// \p S's range in the file, remembered: a chain of N binary operators
  /// takes N steps to find its first token.
  clang::SourceRange fileRange(const clang::Stmt *S) const;
  bool inMacro(const clang::Stmt *S) const;
  unsigned offsetOf(clang::SourceLocation L) const;
  std::string typeCode(clang::QualType T) const;
  std::string typeDisplay(clang::QualType T) const;
  const clang::Stmt *parentOf(const clang::Stmt *S) const;
  const clang::Stmt *parentOfDecl(const clang::Decl *D) const;
  /// \p S without the labels, case and default labels in front of it.
  static const clang::Stmt *unlabeled(const clang::Stmt *S);

  // --- Thrown.cpp ----------------------------------------------------------
  /// Whether \p C, called with a message, makes an object whose what() is
  /// that message and does nothing else: an empty body, and the message
  /// passed unchanged to a base constructor that does the same (or to a
  /// standard exception's).
  bool passesMessageOn(const clang::CXXConstructorDecl *C,
                       unsigned Depth) const;
  /// Why exceptions of the program's class \p RD cannot cross a boundary as
  /// themselves; otherwise sets \p Registration.
  std::optional<SerializeProblem>
  carriedClassProblem(const clang::CXXRecordDecl *RD,
                      std::string &Registration);
  /// Makes exceptions of the class that handler \p C catches, and of the
  /// unit's classes derived from it, cross boundaries as themselves
  /// (MC.Carried); false after reporting why they cannot.
  bool carryCaught(const clang::CXXCatchStmt *C,
                   clang::SourceLocation Boundary);

  // --- CutPoints.cpp -------------------------------------------------------
  bool findStops();
  bool placeStop(Stop &S);
  bool checkGotos();
  /// The arguments of in-out parameters: each a variable of this function,
  /// passed once, of the parameter's own type; fills Stop::Outs and
  /// Carrier::FromCallee. After findCarriers.
  bool bindInOut();
  /// Whether \p E names a place a resumed step can name again: a local
  /// variable (or this function's object), or a member or element of one,
  /// with indices free of side effects.
  bool isPlace(const clang::Expr *E) const;
  /// The handlers of a try statement around a stop catch only what crosses
  /// a boundary (exception_types.def, or `...`); fills Handlers.
  bool checkHandlers();
  /// The condition under which \p X runs in \p Anchor, from the decisions
  /// around it: `cleave_r.decided(2u) && !cleave_r.decided(3u)`, or "".
  std::string guardOf(const clang::Stmt *Anchor, const clang::Stmt *X) const;
  /// Whether stop \p J's value is not waiting when the step stops at \p K:
  /// a decision used it up (J in a condition, K in an operand it decides
  /// on), or J and K are in the two arms of one ?:.
  bool decidedBefore(const Stop &J, const Stop &K) const;
  /// Where, in its statement, the step reaches a stop or takes a decision:
  /// the order of what it restores there.
  unsigned keyOf(const Stop &S) const;
  unsigned keyOf(const Decision &D) const;
  /// The head of a loop (its condition, condition variable or increment)
  /// holds a stop, or declares a variable around one: the loop is rewritten
  /// as `for (;;)` with the test inside.
  bool headOnPath(const clang::Stmt *Loop) const;
  /// Whether \p V is the variable declared in the condition of an if, a
  /// loop or a switch.
  bool isConditionVariable(const clang::VarDecl *V) const;
  void markPaths();
  bool onPath(const clang::Stmt *S) const { return Range.count(S); }
  std::pair<unsigned, unsigned> rangeOf(const clang::Stmt *S) const {
    return Range.lookup(S);
  }
  /// The statements inside the arguments of stops up to \p K of \p K's
  /// anchor: they run in the step that stops, not in the one that resumes.
  bool inStopArgs(const clang::Stmt *S, unsigned K) const;
  /// The first stop of \p Anchor among \p Firsts (an ArgOf entry); ~0u
  /// when none passes the statement in its arguments.
  static unsigned
  firstArgStop(llvm::ArrayRef<std::pair<const clang::Stmt *, unsigned>> Firsts,
               const clang::Stmt *Anchor);
  /// A variable \p Anchor reads (or only assigns, with `=`) when it runs
  /// again: at the resume points before Until, where no argument of a call
  /// that stopped took the read.
  struct Reread {
    const clang::VarDecl *Var;
    bool Assigned;
    unsigned Until;
  };
  const std::vector<Reread> &rereads(const clang::Stmt *Anchor) const;
  /// The references to declarations inside \p Anchor, a statement with
  /// stops (remembered: asked once per stop).
  const std::vector<const clang::DeclRefExpr *> &
  refsIn(const clang::Stmt *Anchor) const;

  // --- Liveness.cpp --------------------------------------------------------
  bool findCarriers();
  bool computeNeeded();
  bool decide();
  bool isQuietType(clang::QualType T, unsigned Depth = 0) const;
  bool isLibraryClass(const clang::CXXRecordDecl *RD) const;
  const clang::CXXRecordDecl *localClassIn(clang::QualType T,
                                           unsigned Depth = 0) const;
  const char *heldResource(clang::QualType T) const;
  bool hasEffectfulDestructor(clang::QualType T, unsigned Depth = 0) const;
  bool isResurrectable(clang::QualType T, std::string &Why,
                       unsigned Depth = 0) const;
  bool isPureInit(const clang::Expr *E, std::string &Why) const;
  bool isFreshable(clang::QualType T, unsigned Depth = 0) const;
  std::set<const clang::VarDecl *> readsAfter(const Stop &S,
                                              const clang::CFGBlock *Block,
                                              const clang::Stmt *Next,
                                              clang::LiveVariables *LV) const;
  bool isModified(const clang::VarDecl *V) const;
  const clang::VarDecl *carriedVar(const clang::Decl *D) const;

  // --- FrameLayout.cpp -----------------------------------------------------
  void layoutFrames();
  void computeEdges();
  unsigned estimateBytes(clang::QualType T, unsigned Depth = 0) const;

  // --- Resume.cpp ----------------------------------------------------------
  void planLoops();
  bool checkJumpsOverLocals();
  bool rewriteBody();
  std::string carrierList(const std::set<unsigned> &At) const;
  std::string carrierList(const PointSet &At) const;
  /// `{carried}, {fresh}`: where a Local is restored, and where it starts
  /// afresh.
  std::string restoreLists(const Carrier &C) const;

  MachineContext &MC;
  clang::ASTContext &Ctx;
  clang::SourceManager &SM;
  const clang::LangOptions &LO;
  const clang::FunctionDecl *FD;
  FunctionNode &Node;
  const clang::Stmt *Body;
  clang::Rewriter Rw;

  /// A member function: its class. The machine is a member function added
  /// to the class (in the unit's rewritten copy), static for a static one,
  /// so that the body finds the class's names and members and `this` is
  /// the object; the object is an in-out parameter of a non-const member
  /// function (copied in, and back to the caller at the end).
  const clang::CXXRecordDecl *Class = nullptr;
  bool HasSelf = false; ///< a non-static member function
  /// Resume points whose call passed this function's own object to a
  /// non-const member function: it comes back from the callee.
  std::map<unsigned, unsigned> SelfFromCallee;

  std::vector<Stop> Stops;
  std::vector<Decision> Decisions;
  std::vector<Handler> Handlers;
  /// Every statement on the way to a stop, with the first and last resume
  /// point inside it.
  llvm::DenseMap<const clang::Stmt *, std::pair<unsigned, unsigned>> Range;
  mutable llvm::DenseMap<const clang::Stmt *, clang::SourceRange> FileRanges;
  mutable llvm::DenseMap<const clang::Stmt *, std::vector<Reread>> Rereads;
  mutable llvm::DenseMap<const clang::Stmt *,
                         std::vector<const clang::DeclRefExpr *>>
      RefsIn;
  /// Where the stops' calls are, as nested ranges of offsets in their
  /// files: the calls around a location are found without a walk over
  /// every stop (inStopArgs).
  class CallSpans {
  public:
    explicit CallSpans(const MachineBuilder &M);
    /// The stops whose calls may hold \p At, in no order.
    std::vector<unsigned> around(const clang::SourceManager &SM,
                                 clang::SourceLocation At) const;

  private:
    struct Span {
      clang::FileID File;
      unsigned Begin, End, Stop;
      unsigned Parent; ///< 1 + the index of the enclosing span; 0: none
    };
    std::vector<Span> Sorted;
    std::vector<unsigned> Loose; ///< calls that span files: always asked
  };
  mutable std::optional<CallSpans> Spans;
  /// Per statement asked about: the anchors whose stops pass it in their
  /// arguments, each with the first such stop (inStopArgs).
  mutable llvm::DenseMap<const clang::Stmt *,
                         llvm::SmallVector<std::pair<const clang::Stmt *, unsigned>, 1>>
      ArgOf;
  std::vector<Carrier> Carriers;
  llvm::DenseMap<const clang::VarDecl *, unsigned> CarrierOf;
  std::vector<Loop> Loops;
  std::vector<std::vector<FrameItem>> Frames; ///< per stop
  std::vector<std::vector<unsigned>> From;    ///< per stop
  /// Pending values: the resume points whose frame carries the value of
  /// stop k (index k - 1), an earlier call of the same statement.
  std::vector<PointSet> PendingAt;
  std::vector<const clang::DeclRefExpr *> Refs;
  std::vector<const clang::ReturnStmt *> Returns;
  std::vector<const clang::VarDecl *> Locals;
  std::vector<const clang::LambdaExpr *> Lambdas;
  std::vector<const clang::GotoStmt *> Gotos;
  std::vector<clang::DecltypeTypeLoc> Decltypes;
  std::vector<const clang::IndirectGotoStmt *> IndirectGotos;
  std::vector<std::pair<const clang::CallExpr *, const clang::LambdaExpr *>>
      Calls;
  std::string ReturnCode; ///< the function's value type, "void"
  std::string Symbol;
  std::string MachineFn;
  unsigned Counter = 0;
  bool Failed = false; ///< an error was reported by a part returning void
};

} // namespace machine
} // namespace cleave

#endif // CLEAVE_LIB_EMIT_MACHINEINTERNAL_H
