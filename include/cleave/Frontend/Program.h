//===- Program.h - The program model shared by all phases ------*- C++ -*-===//
//
// What the frontend learns from each translation unit, as plain data that
// outlives the AST: annotated functions, state variables, and enough of the
// call graph to follow calls across translation units. Later phases
// (placement, emission, the manifest) read only this model.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_FRONTEND_PROGRAM_H
#define CLEAVE_FRONTEND_PROGRAM_H

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cleave {

/// A source position that outlives its SourceManager.
struct SourcePos {
  std::string File; ///< absolute path
  unsigned Line = 0;
  unsigned Column = 0;

  bool valid() const { return Line != 0; }
  /// "file:line:col", with the file relative to \p Base when it lies below.
  std::string str(const std::string &Base = "") const;
};

/// A function's resource profile (CLEAVE_FUNCTION options).
struct Resources {
  unsigned MemoryMiB = 256;
  unsigned TimeoutSec = 30;
  unsigned Gpu = 0;
  unsigned Concurrency = 0; ///< 0: the runtime's default
  bool Isolate = false;
  /// Who may call an entry: "token" (a bearer token is required), "none"
  /// (anyone), or empty (as the deployment says). Not part of the profile:
  /// it does not decide where a function is cut.
  std::string Auth;

  /// The profile, which decides placement (Auth is not part of it).
  bool operator==(const Resources &O) const {
    return MemoryMiB == O.MemoryMiB && TimeoutSec == O.TimeoutSec &&
           Gpu == O.Gpu && Concurrency == O.Concurrency && Isolate == O.Isolate;
  }
};

/// An HTTP trigger ("POST /orders").
struct Trigger {
  std::string Method;
  std::string Path;
  std::string str() const { return Method + " " + Path; }
};

enum class StateAccess { Read = 1, Write = 2, ReadWrite = 3 };

inline StateAccess operator|(StateAccess A, StateAccess B) {
  return static_cast<StateAccess>(static_cast<int>(A) | static_cast<int>(B));
}
const char *accessName(StateAccess A);

enum class Consistency { Linearizable, Eventual };
const char *consistencyName(Consistency C);

struct Param {
  std::string Name;
  std::string Type;     ///< as written, for people: "const Order &"
  std::string CodeType; ///< fully qualified value type, for generated code
};

/// One call written in a function's body: the callee, and whether it is a
/// cleave::parallel_map fan-out over the callee.
struct CallSite {
  std::string Callee; ///< USR
  SourcePos Pos;
  bool FanOut = false;
};

/// A variable carried in a continuation frame across a suspension.
struct CarriedVar {
  std::string Name;
  std::string Type;   ///< as written, for people
  unsigned Bytes = 0; ///< estimated encoded size
};

/// A local that does not travel in a continuation frame but is built again
/// after the call from what does (rematerialization).
struct RebuiltVar {
  std::string Name;
  std::string Type; ///< as written, for people
  std::string Why;  ///< why it is not carried
};

/// One suspension of a function that runs as steps: the step that reaches
/// it, the callee, and the step that resumes with the callee's value.
struct StepEdge {
  std::vector<unsigned> From; ///< steps that can reach the call
  std::string Callee;         ///< the callee's machine name
  std::string Placement;      ///< "boundary", "fanout" or "local"
  unsigned Resume = 0;
  SourcePos Pos;
  std::vector<CarriedVar> Carried;
  std::vector<RebuiltVar> Rebuilt;
};

/// A function definition seen in some translation unit: annotated or a
/// plain helper, so that calls can be followed through helpers.
/// A call to an annotated function that the program's code makes where
/// cleave does not see a call: in a constructor or destructor run by a
/// declaration, a temporary or `delete`, in a default argument or a default
/// member initializer, or in a function that is not one of the program's
/// sources (defined in a header). cleave cannot cut there, so the callee
/// must run where the caller runs (checked with the whole program).
struct HiddenCall {
  std::string Callee; ///< USR of the annotated function
  SourcePos Pos;      ///< where the caller's code starts the way to it
  std::string Via;    ///< "the constructor of 'Order'"
  SourcePos CallPos;  ///< the call of the annotated function itself
};

struct FunctionNode {
  std::string USR;
  std::string Name; ///< qualified, without anonymous namespaces
  SourcePos Pos;
  /// Functions it may run that its unit declares but does not define
  /// (USRs): another unit defines them, or none does and they may do
  /// anything.
  std::vector<std::string> Callees;
  /// Defined with external linkage and not inline: a second definition in
  /// another unit would break the one definition rule.
  bool OneDefinition = false;
  std::vector<CallSite> Calls; ///< every direct call, in source order
  std::vector<HiddenCall> Hidden; ///< annotated functions reached unseen
  /// The state it may touch, by state name, through everything it may run
  /// that its unit defines (headers and template instantiations included;
  /// see StateReach in Analysis/StateUse.h).
  std::map<std::string, StateAccess> State;
  /// Library classes through which it may make a virtual call (USRs): it
  /// may reach any state if the program derives a class from one.
  std::vector<std::string> Dispatches;
  /// Makes a call the analysis cannot follow (a function pointer, a virtual
  /// function of the program, std::function): it may reach any state.
  bool CallsUnknown = false;
  /// The first such call, and what it does, for the remark.
  SourcePos UnknownPos;
  std::string UnknownWhy;

  // Annotated functions only.
  bool IsEntry = false;
  bool IsFunction = false; ///< carries CLEAVE_FUNCTION
  std::optional<Trigger> Route;
  SourcePos RoutePos;
  Resources Res;
  std::vector<Param> Params;
  std::string Returns;     ///< as written
  std::string ReturnsCode; ///< fully qualified, "void" for none
  std::string HandlerSymbol;

  // Functions that run as steps (see Analysis/Lowering.h).
  std::string MachineName;   ///< empty unless it runs as steps
  std::string MachineSymbol; ///< the step function in generated glue
  std::string ArgsSymbol;    ///< entries: JSON arguments to a frame
  std::string ValueCode;     ///< the value's type for value_to_json
  std::vector<SourcePos> Steps; ///< where each step starts; [0] is the body
  std::vector<StepEdge> Edges;
};

struct StateVar {
  std::string USR;
  std::string Name; ///< qualified; the key in the state store
  std::string Type;
  Consistency Cons = Consistency::Linearizable;
  SourcePos Pos;
  std::string OpsSymbol; ///< the StateOps object in generated glue
  /// A std::map or std::unordered_map: its key type, as written. Such a map is stored per key ("name/<key>") when
  /// every use in the program is a keyed access (Program::granularityOf).
  std::string KeyType;
  /// Why the type cannot be stored per key, when KeyType is empty.
  std::string WholeType;
};

/// A use of a state variable that keeps it whole: not a keyed access (m[k],
/// m.at(k), m.count(k), m.contains(k), m.erase(k)), or one spelled where
/// cleave cannot rewrite it.
struct WholeUse {
  SourcePos Pos;
  std::string What; ///< "calls 'size'", "iterates over it", ...
  /// The whole reason, when the use is a keyed access that cannot reach
  /// the per-key view (it is spelled in a header or a macro).
  std::string Why;
};

/// How a state variable is stored, and why.
struct Granularity {
  bool PerKey = false;
  /// A use that keeps a map whole, if that is the reason.
  std::optional<WholeUse> Use;
  std::string Why; ///< the reason, for remarks and the manifest reader
};

/// A use of a global variable whose declarations in that unit carry no
/// CLEAVE_STATE: checked against the state of the other units, since a use
/// the unit does not know to be state cannot be rewritten.
struct GlobalUse {
  std::string USR;
  std::string Name;
  SourcePos Pos;
};

/// Why a function may touch every state variable: a call the analysis
/// cannot follow, and where.
struct AllStateReason {
  SourcePos Pos;
  std::string Why;
};

/// A declaration that carries a Cleave annotation of its own, as one unit
/// sees it: what the whole program compares across units, so that no
/// annotation is dropped silently.
struct AnnotatedDecl {
  std::string USR;
  std::string Name;  ///< qualified
  std::string Macro; ///< "CLEAVE_ENTRY", "CLEAVE_FUNCTION", "CLEAVE_STATE"
  std::string Text;  ///< the annotation's string
  std::string Type;  ///< state: the variable's type, canonical
  std::string TypeShown; ///< state: the type as written
  SourcePos Pos;
  bool Defined = false; ///< a function with a body, a state definition
};

/// Everything one translation unit contributes.
struct TranslationUnit {
  std::string Source;             ///< absolute path of the main file
  std::string OutputName;         ///< file name under OUT/src
  std::vector<std::string> Flags; ///< compile flags to build the rewritten copy
  std::string Rewritten;          ///< the rewritten source, without glue
  /// Copies of included files that the rewritten source includes instead
  /// (rewriteUnit): paths relative to OUT/src, and their text.
  std::vector<std::pair<std::string, std::string>> Headers;
  std::string Glue;               ///< generated code appended to it
  /// Every file the unit read, main file and headers (--depfile).
  std::vector<std::string> Inputs;
  std::vector<FunctionNode> Functions;
  std::vector<StateVar> States;        ///< defined in this unit
  std::vector<AnnotatedDecl> Annotated; ///< every annotated declaration
  std::vector<GlobalUse> PlainGlobals; ///< first use of each, in this unit
  /// The first use of each map-typed state variable (by name) in this unit
  /// that is not a keyed access; main() does not count, as it is not
  /// deployed.
  std::map<std::string, WholeUse> WholeUses;
  /// Library classes (USRs) that classes defined in this unit outside
  /// system headers derive from.
  std::vector<std::string> DerivedLibraryClasses;
};

/// The whole program, all translation units together.
struct Program {
  std::string Name;
  std::vector<TranslationUnit> Units;

  /// Annotated functions across all units, in unit then source order.
  std::vector<const FunctionNode *> annotated() const;
  const FunctionNode *findFunction(const std::string &USR) const;
  /// State used by \p F and everything it may run, in any unit. A call that
  /// cannot be followed (see FunctionNode::CallsUnknown, Dispatches and
  /// Callees) makes it every state variable.
  std::map<std::string, StateAccess> stateUsedBy(const FunctionNode &F) const;
  /// Why stateUsedBy(F) is every state variable, if it is.
  std::optional<AllStateReason> allStateReason(const FunctionNode &F) const;
  /// Per key when the variable's type allows it and no unit uses it other
  /// than by key; otherwise one value.
  Granularity granularityOf(const StateVar &V) const;
};

} // namespace cleave

#endif // CLEAVE_FRONTEND_PROGRAM_H
