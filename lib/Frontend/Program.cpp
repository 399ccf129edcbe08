//===- Program.cpp - The program model shared by all phases ------------===//

#include "cleave/Frontend/Program.h"

#include "llvm/ADT/StringRef.h"

#include <set>

namespace cleave {

std::string SourcePos::str(const std::string &Base) const {
  std::string F = File;
  llvm::StringRef B = llvm::StringRef(Base).rtrim('/');
  if (!B.empty() && F.size() > B.size() + 1 &&
      F.compare(0, B.size(), B.str()) == 0 && F[B.size()] == '/')
    F = F.substr(B.size() + 1);
  return F + ":" + std::to_string(Line) + ":" + std::to_string(Column);
}

const char *accessName(StateAccess A) {
  switch (A) {
  case StateAccess::Read:
    return "read";
  case StateAccess::Write:
    return "write";
  case StateAccess::ReadWrite:
    return "readwrite";
  }
  return "readwrite";
}

const char *consistencyName(Consistency C) {
  return C == Consistency::Eventual ? "eventual" : "linearizable";
}

std::vector<const FunctionNode *> Program::annotated() const {
  std::vector<const FunctionNode *> Out;
  for (const auto &U : Units)
    for (const auto &F : U.Functions)
      if (F.IsEntry || F.IsFunction)
        Out.push_back(&F);
  return Out;
}

const FunctionNode *Program::findFunction(const std::string &USR) const {
  for (const auto &U : Units)
    for (const auto &F : U.Functions)
      if (F.USR == USR)
        return &F;
  return nullptr;
}

namespace {

/// Follows \p F through every unit: the state found, and the first call that
/// makes it all state, if any.
std::optional<AllStateReason>
reachAcross(const Program &P, const FunctionNode &F,
            std::map<std::string, StateAccess> &Out) {
  std::set<std::string> Derived;
  for (const auto &U : P.Units)
    Derived.insert(U.DerivedLibraryClasses.begin(),
                   U.DerivedLibraryClasses.end());
  std::set<std::string> Seen;
  std::vector<const FunctionNode *> Work{&F};
  Seen.insert(F.USR);
  while (!Work.empty()) {
    const FunctionNode *N = Work.back();
    Work.pop_back();
    if (N->CallsUnknown)
      return AllStateReason{N->UnknownPos.valid() ? N->UnknownPos : N->Pos,
                            N->UnknownWhy.empty()
                                ? "'" + N->Name +
                                      "' makes a call the analysis cannot "
                                      "follow"
                                : N->UnknownWhy};
    for (const std::string &C : N->Dispatches)
      if (Derived.count(C))
        return AllStateReason{
            N->Pos, "'" + N->Name +
                        "' makes a virtual call through a library class "
                        "that a class of the program, or a library template "
                        "instantiated with one, derives from"};
    for (const auto &[Name, Access] : N->State) {
      auto [It, New] = Out.emplace(Name, Access);
      if (!New)
        It->second = It->second | Access;
    }
    for (const auto &C : N->Callees) {
      if (!Seen.insert(C).second)
        continue;
      // Defined in none of the units: it may call back into any of them.
      const FunctionNode *Callee = P.findFunction(C);
      if (!Callee)
        return AllStateReason{N->Pos, "'" + N->Name +
                                          "' calls a function that none of "
                                          "the given sources defines"};
      Work.push_back(Callee);
    }
  }
  return std::nullopt;
}

} // namespace

std::map<std::string, StateAccess>
Program::stateUsedBy(const FunctionNode &F) const {
  std::map<std::string, StateAccess> Out;
  if (reachAcross(*this, F, Out))
    for (const auto &U : Units)
      for (const StateVar &V : U.States)
        Out[V.Name] = StateAccess::ReadWrite;
  return Out;
}

std::optional<AllStateReason>
Program::allStateReason(const FunctionNode &F) const {
  std::map<std::string, StateAccess> Out;
  return reachAcross(*this, F, Out);
}

Granularity Program::granularityOf(const StateVar &V) const {
  Granularity G;
  if (V.KeyType.empty()) {
    G.Why = V.WholeType;
    return G;
  }
  for (const auto &U : Units) {
    auto It = U.WholeUses.find(V.Name);
    if (It == U.WholeUses.end())
      continue;
    G.Use = It->second;
    G.Why = !It->second.Why.empty()
                ? It->second.Why
                : "this use " + It->second.What +
                      ", which is not a keyed access";
    return G;
  }
  G.PerKey = true;
  G.Why = "every use is a keyed access (m[k], m.at(k), m.count(k), "
          "m.contains(k), m.erase(k), or m.find(k) compared with m.end())";
  return G;
}

} // namespace cleave
