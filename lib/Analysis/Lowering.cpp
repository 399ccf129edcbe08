//===- Lowering.cpp - Which functions run as steps ------------------------===//

#include "cleave/Analysis/Lowering.h"

#include <functional>

namespace cleave {

const char *suspensionKindName(SuspensionKind K) {
  switch (K) {
  case SuspensionKind::Boundary:
    return "boundary";
  case SuspensionKind::FanOut:
    return "fanout";
  case SuspensionKind::Local:
    return "local";
  }
  return "boundary";
}

const Suspension *LoweringPlan::find(const std::string &Caller,
                                     const SourcePos &P) const {
  auto It = Sites.find(Caller);
  if (It == Sites.end())
    return nullptr;
  for (const Suspension &S : It->second)
    if (S.Pos.Line == P.Line && S.Pos.Column == P.Column && S.Pos.File == P.File)
      return &S;
  return nullptr;
}

LoweringPlan planLowering(const Program &P,
                          const std::vector<Placement> &Placements) {
  LoweringPlan Plan;
  for (const auto &U : P.Units)
    for (const StateVar &V : U.States)
      if (P.granularityOf(V).PerKey)
        Plan.PerKey.insert(V.Name);
  std::map<std::string, const FunctionNode *> Nodes;
  for (const auto &U : P.Units)
    for (const FunctionNode &F : U.Functions)
      Nodes.emplace(F.USR, &F);

  // Everything reached from an entry, through any call.
  std::set<std::string> Reached;
  std::vector<const FunctionNode *> Work;
  for (const FunctionNode *F : P.annotated())
    if (F->IsEntry && Reached.insert(F->USR).second)
      Work.push_back(F);
  while (!Work.empty()) {
    const FunctionNode *F = Work.back();
    Work.pop_back();
    for (const CallSite &S : F->Calls) {
      auto It = Nodes.find(S.Callee);
      if (It != Nodes.end() && Reached.insert(S.Callee).second)
        Work.push_back(It->second);
    }
  }

  // Calls placed as boundaries, by the node whose body makes them. A call
  // is a boundary when any unit that reaches it places it so.
  std::set<std::pair<std::string, const CallSite *>> Stops;
  std::set<std::string> Started; // callees that run as their own machine
  for (const Placement &Pl : Placements) {
    if (!Pl.Boundary)
      continue;
    const FunctionNode *Caller = Pl.Via.empty() ? Pl.Owner : Pl.Via.back();
    Stops.insert({Caller->USR, Pl.Site});
    Started.insert(Pl.Callee->USR);
  }

  std::set<std::string> Split;
  for (const auto &[Caller, Site] : Stops)
    Split.insert(Caller);
  // A caller of a split function stops there too, to the fixpoint.
  for (bool Changed = true; Changed;) {
    Changed = false;
    for (const auto &[USR, F] : Nodes) {
      if (!Reached.count(USR) || Split.count(USR))
        continue;
      for (const CallSite &S : F->Calls)
        if (!S.FanOut && Split.count(S.Callee)) {
          Split.insert(USR);
          Changed = true;
          break;
        }
    }
  }

  for (const std::string &USR : Split) {
    const FunctionNode *F = Nodes.at(USR);
    for (const CallSite &S : F->Calls) {
      Suspension Sp{S.Pos, S.Callee, SuspensionKind::Local};
      if (Stops.count({USR, &S}))
        Sp.Kind = S.FanOut ? SuspensionKind::FanOut : SuspensionKind::Boundary;
      else if (S.FanOut || !Split.count(S.Callee))
        continue;
      Plan.Sites[USR].push_back(Sp);
    }
  }

  std::set<std::string> Names;
  auto AddMachine = [&](const std::string &USR) {
    auto It = Nodes.find(USR);
    if (It == Nodes.end() || Plan.Machines.count(USR))
      return;
    std::string Name = It->second->Name;
    for (unsigned N = 2; Names.count(Name); ++N)
      Name = It->second->Name + "#" + std::to_string(N);
    Names.insert(Name);
    Plan.Machines.emplace(USR, Name);
  };
  // Annotated functions first, so that they keep their own names.
  for (const FunctionNode *F : P.annotated())
    if (Split.count(F->USR) || Started.count(F->USR))
      AddMachine(F->USR);
  for (const std::string &USR : Split)
    AddMachine(USR);
  for (const std::string &USR : Started)
    AddMachine(USR);
  return Plan;
}

} // namespace cleave
