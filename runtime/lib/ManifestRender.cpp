//===- ManifestRender.cpp - The manifest as JSON and as a graph ----------===//
//
// The machine-readable and the drawable views of a manifest, for
// `cleave inspect --format=json` and `--format=dot`.
//
//===----------------------------------------------------------------------===//

#include "cleave/Manifest.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <utility>

namespace cleave::rt {

std::string renderJson(const Manifest &M) {
  using Json = nlohmann::ordered_json;
  Json Root = {{"apiVersion", ManifestApiVersion},
               {"kind", M.Kind},
               {"name", M.Name},
               {"artifact", M.Artifact},
               {"functions", Json::array()},
               {"state", Json::array()}};
  for (const FunctionSpec &F : M.Functions) {
    Json J = {{"name", F.Name}, {"kind", F.Kind}};
    if (F.isEntry()) {
      J["handler"] = F.Handler;
      J["trigger"] = {{"method", F.Method}, {"path", F.Path}};
      J["params"] = Json::array();
      for (const ParamSpec &P : F.Params)
        J["params"].push_back({{"name", P.Name}, {"type", P.Type}});
      J["returns"] = F.Returns;
    }
    J["resources"] = {{"memoryMiB", F.Resources.Memory},
                      {"timeoutSeconds", F.Resources.Timeout},
                      {"gpus", F.Resources.Gpu},
                      {"concurrency", F.Resources.Concurrency}};
    J["isolate"] = F.Isolate;
    if (!F.Auth.empty())
      J["auth"] = F.Auth;
    J["source"] = F.Source;
    J["state"] = Json::array();
    for (const StateUse &U : F.State)
      J["state"].push_back({{"name", U.Name}, {"access", U.Access}});
    J["calls"] = Json::array();
    for (const CallSpec &C : F.Calls)
      J["calls"].push_back({{"callee", C.Callee},
                            {"placement", C.Placement},
                            {"reason", C.Reason},
                            {"source", C.Source}});
    if (!F.Machine.empty())
      J["machine"] = F.Machine;
    J["steps"] = Json::array();
    for (const StepSpec &S : F.Steps)
      J["steps"].push_back({{"id", S.Id}, {"source", S.Source}});
    J["edges"] = Json::array();
    for (const EdgeSpec &E : F.Edges) {
      Json Carried = Json::array();
      for (const CarriedSpec &C : E.Carried)
        Carried.push_back(
            {{"name", C.Name}, {"type", C.Type}, {"bytes", C.Bytes}});
      J["edges"].push_back({{"from", E.From},
                            {"callee", E.Callee},
                            {"placement", E.Placement},
                            {"resume", E.Resume},
                            {"source", E.Source},
                            {"carried", std::move(Carried)}});
    }
    Root["functions"].push_back(std::move(J));
  }
  for (const StateSpec &S : M.State)
    Root["state"].push_back({{"name", S.Name},
                             {"type", S.Type},
                             {"consistency", S.Consistency},
                             {"granularity", S.Granularity},
                             {"source", S.Source},
                             {"readers", S.Readers},
                             {"writers", S.Writers}});
  return Root.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

namespace {

/// A Graphviz double-quoted string.
std::string dotQuoted(std::string_view S) {
  std::string Out = "\"";
  for (char C : S) {
    if (C == '"' || C == '\\')
      Out += '\\';
    if (C == '\n') {
      Out += "\\n";
      continue;
    }
    Out += C;
  }
  return Out + "\"";
}

const char *placementColor(std::string_view Placement) {
  return Placement == "boundary" ? "red"
         : Placement == "fanout" ? "blue"
                                 : "gray40";
}

/// Boundaries bold, fan-outs dashed, local calls thin.
std::string placementStyle(std::string_view Placement) {
  const char *Style = Placement == "boundary" ? "style=bold, "
                      : Placement == "fanout" ? "style=dashed, "
                                              : "";
  return fmt::format("{}color={}", Style, placementColor(Placement));
}

/// The text of a function's node, or of its cluster when it runs as steps.
std::string functionLabel(const FunctionSpec &F) {
  std::string Label = F.Name;
  if (F.isEntry())
    Label = F.Method + " " + F.Path + "\n" + F.Name;
  Label +=
      fmt::format("\n{} MiB, {} s", F.Resources.Memory, F.Resources.Timeout);
  if (F.Resources.Gpu)
    Label += fmt::format(", {} gpu", F.Resources.Gpu);
  return Label;
}

/// "o: Order, qty: int (68 B)": what an edge's frame carries.
std::string carriedLabel(const EdgeSpec &E) {
  if (E.Carried.empty())
    return "nothing carried";
  std::string Out;
  int64_t Bytes = 0;
  for (const CarriedSpec &C : E.Carried) {
    if (!Out.empty())
      Out += ", ";
    Out += C.Name + ": " + C.Type;
    Bytes += C.Bytes;
  }
  return Out + fmt::format(" ({} B)", Bytes);
}

std::string stepNode(std::string_view Function, int64_t Id) {
  return dotQuoted(fmt::format("step:{}:{}", Function, Id));
}

/// The arrow from a step to the next one the manifest lists: hollow, so
/// that it is not taken for a call.
constexpr std::string_view NextStepStyle = "color=gray60, arrowhead=empty";

/// A state use drawn in the direction the value goes: from the state for
/// `read`, to it for `write`, both ways for `readwrite`.
std::string stateUseArrow(std::string_view Function, std::string_view State,
                          std::string_view Access, std::string_view Clip) {
  if (Access == "read")
    return fmt::format("{} -> {} [{}style=dotted, label=\"read\"]", State,
                       Function, Clip);
  return fmt::format("{} -> {} [{}style=dotted, {}label={}]", Function, State,
                     Clip, Access == "write" ? "" : "dir=both, ",
                     dotQuoted(Access));
}

/// The legend: one sample of each node shape and each arrow, in a cluster
/// of its own whose node ids ("legend:...") no manifest node can take.
std::string legend() {
  std::string Out = "  subgraph \"cluster_legend\" {\n"
                    "    label=\"legend\";\n"
                    "    style=dashed;\n"
                    "    color=gray60;\n"
                    "    fontname=\"Helvetica\";\n"
                    "    \"legend:entry\" [shape=box, style=bold, "
                    "label=\"entry\\nMETHOD /path\\nMiB, s\"];\n"
                    "    \"legend:function\" [shape=ellipse, "
                    "label=\"function or helper\\nMiB, s\"];\n"
                    "    \"legend:state\" [shape=cylinder, "
                    "label=\"state\\nconsistency\"];\n"
                    "    subgraph \"cluster_legend_steps\" {\n"
                    "      label=\"runs as steps\";\n"
                    "      style=rounded;\n"
                    "      \"legend:step:0\" [shape=box, style=rounded, "
                    "label=\"step 0\\nsource\"];\n"
                    "      \"legend:step:1\" [shape=box, style=rounded, "
                    "label=\"step 1\\nsource\"];\n";
  Out += fmt::format("      \"legend:step:0\" -> \"legend:step:1\" [{}, "
                     "label=\"next step\"];\n    }}\n",
                     NextStepStyle);
  // Each arrow between two words that say what its ends are.
  auto Arrow = [&](std::string_view Id, std::string_view From,
                   std::string_view To, std::string Attrs) {
    Out +=
        fmt::format("    \"legend:{0}:from\" [shape=plaintext, label={1}];"
                    "\n    \"legend:{0}:to\" [shape=plaintext, label={2}];"
                    "\n    \"legend:{0}:from\" -> \"legend:{0}:to\" [{3}];\n",
                    Id, dotQuoted(From), dotQuoted(To), Attrs);
  };
  Arrow("local", "caller", "callee",
        placementStyle("local") + ", label=\"local call\"");
  Arrow("boundary", "caller", "callee",
        placementStyle("boundary") +
            ", label=\"boundary call (what the frame carries)\"");
  Arrow("fanout", "caller", "callee",
        placementStyle("fanout") + ", label=\"fan-out\"");
  Arrow("value", "callee", "resume step", "style=dashed, label=\"value\"");
  for (std::string_view Access : {"read", "write", "readwrite"})
    Out += fmt::format(
        "    \"legend:{0}:state\" [shape=plaintext, label=\"state\"];\n"
        "    \"legend:{0}:function\" [shape=plaintext, "
        "label=\"function\"];\n"
        "    {1};\n",
        Access,
        stateUseArrow(dotQuoted(fmt::format("legend:{}:function", Access)),
                      dotQuoted(fmt::format("legend:{}:state", Access)), Access,
                      ""));
  return Out + "  }\n";
}

/// Node ids: "fn:NAME", "step:NAME:ID" and "state:NAME", always quoted, so
/// that any C++ name is a valid id and the three kinds never collide. A
/// function with steps has no node of its own: its cluster
/// "cluster_NAME" stands for it, and arrows to or from the function are
/// drawn to its first step, clipped at the cluster's border.
class DotGraph {
public:
  explicit DotGraph(const Manifest &M) {
    for (const FunctionSpec &F : M.Functions)
      ByName.emplace(F.Name, &F);
  }

  bool hasSteps(std::string_view Name) const {
    auto It = ByName.find(std::string(Name));
    return It != ByName.end() && !It->second->Steps.empty();
  }

  /// The node standing for function \p Name, and the attribute \p Clip
  /// ("lhead" or "ltail") that clips the arrow at its cluster, unless the
  /// arrow's other end is function \p Other itself.
  std::pair<std::string, std::string>
  nodeFor(std::string_view Name, std::string_view Clip,
          std::string_view Other = {}) const {
    if (!hasSteps(Name))
      return {dotQuoted(fmt::format("fn:{}", Name)), ""};
    const FunctionSpec &F = *ByName.at(std::string(Name));
    std::string Node = stepNode(F.Name, F.Steps.front().Id);
    if (Name == Other)
      return {Node, ""};
    return {Node, fmt::format("{}={}, ", Clip,
                              dotQuoted(fmt::format("cluster_{}", Name)))};
  }

private:
  std::map<std::string, const FunctionSpec *> ByName;
};

} // namespace

std::string renderDot(const Manifest &M) {
  DotGraph G(M);
  bool AnySteps =
      std::any_of(M.Functions.begin(), M.Functions.end(),
                  [](const FunctionSpec &F) { return !F.Steps.empty(); });
  std::string Out = fmt::format(
      "digraph {} {{\n  rankdir=LR;\n{}  node [fontname=\"Helvetica\"];\n"
      "  edge [fontname=\"Helvetica\", fontsize=10];\n",
      dotQuoted(M.Name), AnySteps ? "  compound=true;\n" : "");
  for (const FunctionSpec &F : M.Functions) {
    if (F.Steps.empty()) {
      Out +=
          fmt::format("  {} [shape={}, label={}];\n", dotQuoted("fn:" + F.Name),
                      F.isEntry() ? "box, style=bold" : "ellipse",
                      dotQuoted(functionLabel(F)));
      continue;
    }
    Out +=
        fmt::format("  subgraph {} {{\n    label={};\n    style={};\n"
                    "    fontname=\"Helvetica\";\n",
                    dotQuoted("cluster_" + F.Name), dotQuoted(functionLabel(F)),
                    F.isEntry() ? "bold" : "rounded");
    for (const StepSpec &S : F.Steps)
      Out += fmt::format("    {} [shape=box, style=rounded, label={}];\n",
                         stepNode(F.Name, S.Id),
                         dotQuoted(fmt::format("step {}\n{}", S.Id, S.Source)));
    // The steps in the order the manifest lists them.
    for (size_t I = 1; I < F.Steps.size(); ++I)
      Out += fmt::format("    {} -> {} [{}];\n",
                         stepNode(F.Name, F.Steps[I - 1].Id),
                         stepNode(F.Name, F.Steps[I].Id), NextStepStyle);
    Out += "  }\n";
  }
  for (const StateSpec &S : M.State)
    Out += fmt::format("  {} [shape=cylinder, label={}];\n",
                       dotQuoted("state:" + S.Name),
                       dotQuoted(S.Name + "\n" + S.Consistency));

  // A call that is also an edge is drawn once, as the edge, which says more.
  std::set<std::pair<std::string, std::string>> EdgeCalls;
  for (const FunctionSpec &F : M.Functions)
    for (const EdgeSpec &E : F.Edges)
      EdgeCalls.emplace(E.Callee, E.Source);
  for (const FunctionSpec &F : M.Functions) {
    for (const CallSpec &C : F.Calls) {
      if (EdgeCalls.count({C.Callee, C.Source}))
        continue;
      std::string Label = C.Placement == "local" ? "local" : C.Reason;
      if (C.Placement == "fanout")
        Label = "fan-out";
      auto [Tail, TailClip] = G.nodeFor(F.Name, "ltail", C.Callee);
      auto [Head, HeadClip] = G.nodeFor(C.Callee, "lhead", F.Name);
      Out +=
          fmt::format("  {} -> {} [{}{}{}, label={}];\n", Tail, Head, TailClip,
                      HeadClip, placementStyle(C.Placement), dotQuoted(Label));
    }
    for (const EdgeSpec &E : F.Edges) {
      auto [Head, HeadClip] = G.nodeFor(E.Callee, "lhead", F.Name);
      for (int64_t From : E.From)
        Out += fmt::format(
            "  {} -> {} [{}{}, label={}];\n", stepNode(F.Name, From), Head,
            HeadClip, placementStyle(E.Placement), dotQuoted(carriedLabel(E)));
      auto [Tail, TailClip] = G.nodeFor(E.Callee, "ltail", F.Name);
      Out += fmt::format("  {} -> {} [{}style=dashed, color={}, "
                         "label=\"value\"];\n",
                         Tail, stepNode(F.Name, E.Resume), TailClip,
                         placementColor(E.Placement));
    }
    for (const StateUse &U : F.State) {
      auto [Node, Clip] =
          G.nodeFor(F.Name, U.Access == "read" ? "lhead" : "ltail");
      Out += "  " +
             stateUseArrow(Node, dotQuoted("state:" + U.Name), U.Access, Clip) +
             ";\n";
    }
  }
  return Out + legend() + "}\n";
}

} // namespace cleave::rt
