//===- registry.h - The state registry of a handler library ---*- C++ -*-===//
//
// The part of the handler support (handler.h) that the generated module
// file, cleave_module.cpp, needs: the type-erased operations on a state
// variable and the registry of a library's variables. Kept apart from
// handler.h, which brings the JSON and frame codecs, so that the module
// file compiles in a fraction of the time.
//
// Included by generated code only, in C++17 or later.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_REGISTRY_H
#define CLEAVE_REGISTRY_H

#include "cleave/abi.h"

#include <cstddef>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cleave {
namespace rt {

/// What the runtime needs to do with a state variable without knowing its
/// C++ type. One per CLEAVE_STATE variable, defined in the glue of the
/// translation unit that defines the variable.
struct StateOps {
  const char *Name;
  void *(*Copy)(const void *From);
  void (*Destroy)(void *Obj);
  /// Decodes JSON text into *Obj; returns an error message, empty on success.
  std::string (*Decode)(const char *Data, size_t Len, void *Obj);
  std::string (*Encode)(const void *Obj);
  /// The calling thread's instance of the variable.
  void *(*Local)();
  /// Copy-assigns *From to *To.
  void (*Assign)(void *To, const void *From);
};

/// The module's table of state variables, generated in cleave_module.cpp.
const StateOps *findStateOps(const char *Name);

/// The state variables of a handler library and, per function, the ones
/// stored whole that it may touch. Filled once by the generated module
/// (registerModuleState) before any handler runs; read-only afterwards.
struct StateRegistry {
  struct Var {
    const StateOps *Ops = nullptr;
    /// The variable as it stood after the library's static initialization,
    /// and its encoding: the value of a variable the store has none for.
    void *Initial = nullptr;
    std::string InitialText;
  };
  std::vector<Var> Vars;
  /// Function name (the manifest's name, or a machine's name) to indices
  /// into Vars.
  std::unordered_map<std::string, std::vector<size_t>> ByFunction;

  const Var *find(const char *Name) const {
    for (const Var &V : Vars)
      if (std::strcmp(V.Ops->Name, Name) == 0)
        return &V;
    return nullptr;
  }
};

inline StateRegistry &stateRegistry() {
  static StateRegistry R;
  return R;
}

/// One function's list for registerModuleState: its name and the names of
/// the variables stored whole that it may touch, ending with nullptr.
struct FunctionState {
  const char *Function;
  const char *const *States;
};

/// Records the module's state variables, taking their initial values from
/// the calling thread (the one that loaded the library, after its static
/// initialization), and each function's list. Called once.
inline void registerModuleState(const StateOps *const *Ops, size_t NumOps,
                                const FunctionState *Functions,
                                size_t NumFunctions) {
  StateRegistry &R = stateRegistry();
  for (size_t I = 0; I < NumOps; ++I) {
    StateRegistry::Var V;
    V.Ops = Ops[I];
    V.Initial = Ops[I]->Copy(Ops[I]->Local());
    V.InitialText = Ops[I]->Encode(V.Initial);
    R.Vars.push_back(std::move(V));
  }
  for (size_t I = 0; I < NumFunctions; ++I) {
    std::vector<size_t> &List = R.ByFunction[Functions[I].Function];
    for (const char *const *N = Functions[I].States; *N; ++N)
      for (size_t J = 0; J < R.Vars.size(); ++J)
        if (std::strcmp(R.Vars[J].Ops->Name, *N) == 0)
          List.push_back(J);
  }
}

} // namespace rt
} // namespace cleave

#endif // CLEAVE_REGISTRY_H
