//===- ManifestRender.cpp - The manifest as JSON and as a graph ----------===//
//
// The machine-readable and the drawable views of a manifest, for
// `cleave inspect --format=json` and `--format=dot`.
//
//===----------------------------------------------------------------------===//

#include "cleave/Manifest.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cleave::rt {

std::string renderJson(const Manifest &M) {
  using Json = nlohmann::ordered_json;
  Json Root = {{"apiVersion", M.ApiVersion},
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
    J["resources"] = {{"memory", F.Resources.Memory},
                      {"timeout", F.Resources.Timeout},
                      {"gpu", F.Resources.Gpu},
                      {"concurrency", F.Resources.Concurrency}};
    J["isolate"] = F.Isolate;
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

} // namespace

std::string renderDot(const Manifest &M) {
  std::string Out = fmt::format(
      "digraph {} {{\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n"
      "  edge [fontname=\"Helvetica\", fontsize=10];\n",
      dotQuoted(M.Name));
  for (const FunctionSpec &F : M.Functions) {
    std::string Label = F.Name;
    if (F.isEntry())
      Label = F.Method + " " + F.Path + "\n" + F.Name;
    Label +=
        fmt::format("\n{} MiB, {} s", F.Resources.Memory, F.Resources.Timeout);
    if (F.Resources.Gpu)
      Label += fmt::format(", {} gpu", F.Resources.Gpu);
    Out += fmt::format(
        "  {} [shape={}, label={}];\n", dotQuoted("fn:" + F.Name),
        F.isEntry() ? "box, style=bold" : "ellipse", dotQuoted(Label));
  }
  for (const StateSpec &S : M.State)
    Out += fmt::format("  {} [shape=cylinder, label={}];\n",
                       dotQuoted("state:" + S.Name),
                       dotQuoted(S.Name + "\n" + S.Consistency));
  for (const FunctionSpec &F : M.Functions) {
    for (const CallSpec &C : F.Calls) {
      const char *Style = C.Placement == "boundary" ? "style=bold, color=red"
                          : C.Placement == "fanout" ? "style=dashed, color=blue"
                                                    : "color=gray40";
      std::string Label = C.Placement == "local" ? "local" : C.Reason;
      if (C.Placement == "fanout")
        Label = "fan-out";
      Out +=
          fmt::format("  {} -> {} [{}, label={}];\n", dotQuoted("fn:" + F.Name),
                      dotQuoted("fn:" + C.Callee), Style, dotQuoted(Label));
    }
    for (const StateUse &U : F.State)
      Out += fmt::format(
          "  {} -> {} [style=dotted, arrowhead={}, label={}];\n",
          dotQuoted("fn:" + F.Name), dotQuoted("state:" + U.Name),
          U.Access == "read" ? "none" : "normal", dotQuoted(U.Access));
  }
  return Out + "}\n";
}

} // namespace cleave::rt
