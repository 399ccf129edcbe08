//===- StateMachine.h - Cut a function into resumable steps -----*- C++ -*-===//
//
// The per-unit half of lowering (DESIGN.md, section 2.4), while the AST is
// alive. A function with suspensions (see Analysis/Lowering.h) becomes a
// state machine: a copy of its body in which
//   - every suspension records its call (arguments as a frame), saves the
//     variables live after the call (Clang's CFG and LiveVariables) in a
//     continuation frame, and returns; a label after it is where the next
//     step resumes, with the callee's value in a temporary;
//   - locals whose declaration a resume would jump over live for the whole
//     machine, and their declarations become assignments;
//   - a range-for around a suspension walks its range by index, so that the
//     position survives the frame;
//   - `return e` hands e to the runtime as the value frame.
// A function that is only the callee of a boundary gets a one-step machine
// that decodes its arguments and calls it.
//
// Errors (with notes at the variable and at the boundary): a live value
// that cannot be carried, a suspension in a try block, in a lambda, in a
// loop condition or a conditional operand, crossed by goto, or reached
// again through recursion.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_EMIT_STATEMACHINE_H
#define CLEAVE_EMIT_STATEMACHINE_H

#include "cleave/Analysis/Lowering.h"
#include "cleave/Analysis/Serializable.h"
#include "cleave/Frontend/Diagnostics.h"
#include "cleave/Frontend/Program.h"

#include "clang/AST/Decl.h"
#include "clang/Rewrite/Core/Rewriter.h"
#include "llvm/ADT/MapVector.h"

#include <functional>
#include <optional>
#include <string>

namespace cleave {

struct MachineContext {
  clang::ASTContext &Ctx;
  Reporter &Report;
  SerializableChecker &Types;
  const LoweringPlan &Plan;
  std::function<SourcePos(clang::SourceLocation)> PosOf;
  /// Applies the unit's own rewrites (state uses) to a fresh rewriter.
  std::function<void(clang::Rewriter &)> BaseEdits;
  /// Text the unit's rewritten copy inserts before a location: the
  /// declarations of the machines of member functions, at the end of their
  /// classes.
  std::vector<std::pair<clang::SourceLocation, std::string>> UnitInsertions;
  /// The program's exception classes that handlers around boundaries catch
  /// (and the unit's classes derived from them), each with the expression
  /// that registers it with the runtime (carryClass, handler.h).
  llvm::MapVector<const clang::CXXRecordDecl *, std::string> Carried;
  /// Every class the unit defines, once a handler needs them.
  std::optional<std::vector<const clang::CXXRecordDecl *>> AllClasses;
};

/// Appends \p FD's machine (and, for an entry, its JSON adapters) to \p Out
/// and records its steps and edges in \p Node. Returns false after
/// reporting errors.
bool emitMachine(MachineContext &MC, const clang::FunctionDecl *FD,
                 FunctionNode &Node, std::string &Out);

/// "cleave_step_" + a C identifier spelling of \p MachineName.
std::string machineSymbol(const std::string &MachineName);

} // namespace cleave

#endif // CLEAVE_EMIT_STATEMACHINE_H
