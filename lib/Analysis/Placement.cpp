//===- Placement.cpp - Decide where each call runs -----------------------===//

#include "cleave/Analysis/Placement.h"

#include <set>

namespace cleave {

std::string profileDifference(const Resources &Callee,
                              const Resources &Caller) {
  std::string Out;
  auto Add = [&](const std::string &Part) {
    Out += (Out.empty() ? "" : ", ") + Part;
  };
  auto Num = [](unsigned V, const char *Unit) {
    return std::to_string(V) + Unit;
  };
  auto Conc = [](unsigned V) {
    return V ? std::to_string(V) : std::string("the runtime's default");
  };
  if (Callee.MemoryMiB != Caller.MemoryMiB)
    Add("memory " + Num(Callee.MemoryMiB, " MiB") + " vs " +
        Num(Caller.MemoryMiB, " MiB"));
  if (Callee.TimeoutSec != Caller.TimeoutSec)
    Add("timeout " + Num(Callee.TimeoutSec, " s") + " vs " +
        Num(Caller.TimeoutSec, " s"));
  if (Callee.Gpu != Caller.Gpu)
    Add("gpu " + Num(Callee.Gpu, "") + " vs " + Num(Caller.Gpu, ""));
  if (Callee.Concurrency != Caller.Concurrency)
    Add("concurrency " + Conc(Callee.Concurrency) + " vs " +
        Conc(Caller.Concurrency));
  return Out;
}

namespace {

class Placer {
public:
  explicit Placer(const Program &P) : P(P) {}

  std::vector<Placement> run() {
    std::vector<const FunctionNode *> Owners;
    for (const FunctionNode *F : P.annotated())
      if (F->IsEntry)
        Owners.push_back(F);
    std::set<const FunctionNode *> Queued(Owners.begin(), Owners.end());
    // A boundary's callee runs as a unit of its own: place its calls too.
    for (size_t I = 0; I < Owners.size(); ++I) {
      size_t First = Out.size();
      std::set<const FunctionNode *> Visited{Owners[I]};
      std::vector<const FunctionNode *> Via;
      walk(Owners[I], Owners[I], Via, Visited);
      for (size_t J = First; J < Out.size(); ++J)
        if (Out[J].Boundary && Queued.insert(Out[J].Callee).second)
          Owners.push_back(Out[J].Callee);
    }
    return std::move(Out);
  }

private:
  void walk(const FunctionNode *Owner, const FunctionNode *N,
            std::vector<const FunctionNode *> &Via,
            std::set<const FunctionNode *> &Visited) {
    for (const CallSite &S : N->Calls) {
      const FunctionNode *C = P.findFunction(S.Callee);
      if (!C)
        continue; // defined outside the program: a library call
      bool Annotated = C->IsEntry || C->IsFunction;
      if (!Annotated && !S.FanOut) {
        // A plain helper is part of whichever unit calls it.
        if (Visited.insert(C).second) {
          Via.push_back(C);
          walk(Owner, C, Via, Visited);
          Via.pop_back();
        }
        continue;
      }
      Placement D{Owner, C, &S, Via, false, false, {}};
      if (S.FanOut) {
        D.Boundary = D.FanOut = true;
        D.Reason = "parallel_map";
      } else if (C->Res.Isolate) {
        D.Boundary = true;
        D.Reason = "it is marked isolate";
      } else {
        D.Reason = profileDifference(C->Res, Owner->Res);
        D.Boundary = !D.Reason.empty();
        if (!D.Boundary)
          D.Reason = "same resource profile";
      }
      Out.push_back(D);
      if (!D.Boundary && Visited.insert(C).second) {
        // Inlined: its calls are made from the owner's unit.
        Via.push_back(C);
        walk(Owner, C, Via, Visited);
        Via.pop_back();
      }
    }
  }

  const Program &P;
  std::vector<Placement> Out;
};

} // namespace

std::vector<Placement> placeCalls(const Program &P) { return Placer(P).run(); }

std::vector<HiddenCrossing> hiddenCrossings(const Program &P) {
  std::vector<HiddenCrossing> Out;
  std::set<std::pair<const FunctionNode *, const HiddenCall *>> Reported;
  // Each unit: its owner, and what runs in it (Placement::Via, callees
  // that stay local), as the placement walks them.
  std::vector<const FunctionNode *> Owners;
  for (const FunctionNode *F : P.annotated())
    Owners.push_back(F);
  for (const FunctionNode *Owner : Owners) {
    std::set<const FunctionNode *> Visited{Owner};
    std::vector<const FunctionNode *> Work{Owner};
    while (!Work.empty()) {
      const FunctionNode *N = Work.back();
      Work.pop_back();
      for (const HiddenCall &H : N->Hidden) {
        const FunctionNode *C = P.findFunction(H.Callee);
        if (!C || !(C->IsEntry || C->IsFunction))
          continue;
        std::string Why = C->Res.Isolate
                              ? std::string("it is marked isolate")
                              : profileDifference(C->Res, Owner->Res);
        if (!Why.empty() && Reported.insert({N, &H}).second)
          Out.push_back({Owner, N, &H, C, Why});
      }
      for (const CallSite &S : N->Calls) {
        const FunctionNode *C = P.findFunction(S.Callee);
        if (!C || S.FanOut)
          continue;
        bool Annotated = C->IsEntry || C->IsFunction;
        bool Local = !Annotated || (!C->Res.Isolate &&
                                    profileDifference(C->Res, Owner->Res).empty());
        if (Local && Visited.insert(C).second)
          Work.push_back(C);
      }
    }
  }
  return Out;
}

std::string describePlacement(const Placement &D) {
  std::string Where;
  if (!D.Via.empty()) {
    Where = " (reached from '" + D.Owner->Name + "' through";
    for (size_t I = 0; I < D.Via.size(); ++I)
      Where += (I ? ", '" : " '") + D.Via[I]->Name + "'";
    Where += ")";
  }
  if (D.FanOut)
    return "'" + D.Callee->Name +
           "' fans out: one invocation per element, then a join that "
           "restores input order" +
           Where;
  if (D.Boundary)
    return "'" + D.Callee->Name + "' runs as its own function: " + D.Reason +
           Where;
  return "'" + D.Callee->Name + "' stays local in '" + D.Owner->Name +
         "': " + D.Reason + Where;
}

} // namespace cleave
