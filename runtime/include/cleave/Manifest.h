//===- Manifest.h - The deployment manifest (manifest.yaml) -----*- C++ -*-===//
//
// In-memory form of `manifest.yaml`, the one contract between the compiler
// and the runtime (docs/manifest.md). The structs mirror the file field for
// field; enumerated fields stay strings, validated when parsed, so that
// writing a manifest back gives exactly what was read.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_MANIFEST_H
#define CLEAVE_MANIFEST_H

#include "cleave/Result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cleave::rt {

/// The manifest version this runtime writes and reads. Any change to the
/// format gives it a new apiVersion (docs/manifest.md).
inline constexpr std::string_view ManifestApiVersion = "cleave/v2";

/// The previous version, which this runtime still reads: it names the
/// resources without their units (`memory`, `timeout`, `gpu`) and ignores
/// unknown keys.
inline constexpr std::string_view ManifestPreviousApiVersion = "cleave/v1";

/// One parameter of an entry: `{name: o, type: Order}`.
struct ParamSpec {
  std::string Name;
  std::string Type; ///< The C++ type as written by the compiler.

  bool operator==(const ParamSpec &) const = default;
};

/// `functions[].resources`; every field has the documented default.
struct ResourceSpec {
  int64_t Memory = 256;    ///< `memoryMiB`: MiB.
  int64_t Timeout = 30;    ///< `timeoutSeconds`: seconds.
  int64_t Gpu = 0;         ///< `gpus`: number of GPUs.
  int64_t Concurrency = 0; ///< Invocations at once; 0: the runtime's default.

  bool operator==(const ResourceSpec &) const = default;
};

/// One entry of `functions[].state`: a state variable the function (or
/// anything it calls) uses.
struct StateUse {
  std::string Name;
  std::string Access; ///< "read", "write" or "readwrite".

  bool operator==(const StateUse &) const = default;
};

/// One element of `functions[].calls`: a call to another annotated function
/// and where the compiler placed it.
struct CallSpec {
  std::string Callee;    ///< A function name of this manifest.
  std::string Placement; ///< "local", "boundary" or "fanout".
  std::string Reason;    ///< "memory 2048 MiB vs 256 MiB", ...
  std::string Source;    ///< file:line:col of the call.

  bool operator==(const CallSpec &) const = default;
};

/// One element of `functions`.
/// A variable carried in a continuation frame.
struct CarriedSpec {
  std::string Name;
  std::string Type;  ///< The C++ type, as written for people.
  int64_t Bytes = 0; ///< Estimated encoded size.

  bool operator==(const CarriedSpec &) const = default;
};

/// One step of a function that runs as steps. Step 0 starts at the body;
/// step k > 0 resumes after the call of edge k.
struct StepSpec {
  int64_t Id = 0;
  std::string Source; ///< file:line:col where the step starts.

  bool operator==(const StepSpec &) const = default;
};

/// caller step -> callee function -> resume step.
struct EdgeSpec {
  std::vector<int64_t> From; ///< Steps that reach the call.
  std::string Callee;        ///< A function name of this manifest.
  std::string Placement;     ///< "boundary", "fanout" or "local".
  int64_t Resume = 0;        ///< The step that resumes with the value.
  std::string Source;        ///< file:line:col of the call.
  std::vector<CarriedSpec> Carried;

  bool operator==(const EdgeSpec &) const = default;
};

struct FunctionSpec {
  std::string Name;    ///< Qualified C++ name, unique among functions.
  std::string Kind;    ///< "entry", "function" or "helper" (a plain
                       ///< function that runs as steps).
  std::string Handler; ///< Key into the library's handler table (entries).
  std::string Method;  ///< trigger.method: GET, POST, PUT, PATCH, DELETE.
  std::string Path;    ///< trigger.path, starting with '/'.
  std::vector<ParamSpec> Params;
  std::string Returns; ///< C++ return type; "void" answers 204.
  ResourceSpec Resources;
  bool Isolate = false;
  /// Entries only: "token" (a bearer token is required), "none" (open to
  /// anyone), or empty (as cleave-run is told: with --auth-token-file, a
  /// token is required).
  std::string Auth;
  std::string Source; ///< file:line:col of the definition.
  std::vector<StateUse> State;
  std::vector<CallSpec> Calls; ///< Calls made by this function's unit.
  /// Functions that run as steps: the library's machine of this name.
  std::string Machine;
  std::vector<StepSpec> Steps; ///< Empty unless it stops at boundaries.
  std::vector<EdgeSpec> Edges;

  bool isEntry() const { return Kind == "entry"; }
  bool operator==(const FunctionSpec &) const = default;
};

/// One element of the top-level `state` list: a CLEAVE_STATE variable.
struct StateSpec {
  std::string Name;        ///< Qualified name; the key in the state store.
  std::string Type;        ///< The C++ type.
  std::string Consistency; ///< "linearizable" or "eventual".
  std::string Granularity; ///< "whole", or "key": stored as "name/<key>".
  std::string Source;
  std::vector<std::string> Readers; ///< Function names.
  std::vector<std::string> Writers; ///< Function names.

  bool operator==(const StateSpec &) const = default;
};

/// The whole deployment, in the current format (ManifestApiVersion)
/// whatever version its text was in: a cleave/v1 manifest and its v2 form
/// parse to equal values.
struct Manifest {
  std::string Kind = "Deployment";
  std::string Name;
  std::string Artifact; ///< The handler library, relative to the manifest.
  std::vector<FunctionSpec> Functions;
  std::vector<StateSpec> State;

  bool operator==(const Manifest &) const = default;
};

/// Reads and parses the manifest at \p Path. Errors name the file, line and
/// column (`Path:LINE:COL: error: ...`); an unreadable file gives a bare
/// error naming the path.
Result<Manifest> loadManifest(const std::string &Path);

/// Parses manifest text, of apiVersion ManifestApiVersion or
/// ManifestPreviousApiVersion. \p DisplayName is the file name used in
/// error messages. Reports YAML syntax errors, an unknown apiVersion or
/// kind, a missing required key, a value of the wrong type, an invalid
/// enumerated value (method, kind, access, consistency, granularity,
/// placement), duplicate function or state names, two entries on the same
/// route, step ids not numbered 0, 1, ... in order, an edge whose `from` or
/// `resume` names a step its function lacks (or resumes at step 0), and an
/// edge whose callee is no function of the manifest.
///
/// In cleave/v2, an unknown or repeated key is an error too, and so is a
/// scalar that YAML types otherwise than the field (`name: 123`,
/// `memoryMiB: "512"`), so that the manifest means the same to every YAML
/// reader and to runtime/schema/manifest.schema.json. cleave/v1 manifests
/// are read as before (unknown keys ignored), except that a resource key of
/// v2 in them is an error.
Result<Manifest> parseManifest(std::string_view Text,
                               std::string_view DisplayName);

/// Serializes \p M as YAML, in the current format, such that
/// parseManifest(writeManifest(M)) == M for every manifest that parses.
/// The text starts with a comment naming \p Generator (the program and
/// version that wrote it, such as "cleave 0.1.0 (clang version 19.1.7)";
/// left out when empty) and a comment naming the format and its schema.
/// Strings that a YAML reader would type as something else (`yes`, `null`,
/// `12`) are quoted.
std::string writeManifest(const Manifest &M, std::string_view Generator = {});

/// Renders \p M as human-readable tables for `cleave inspect`: functions,
/// the steps of each function that has steps, then state.
std::string renderTable(const Manifest &M);

/// Renders \p M as JSON (for scripts): the manifest's own structure, keys
/// as in the YAML file.
std::string renderJson(const Manifest &M);

/// Renders \p M as a Graphviz digraph: entries (boxes, with their routes),
/// functions, state (cylinders); calls drawn by placement (local: thin,
/// boundary: bold, fan-out: dashed), state uses dotted and labelled with
/// their access, pointing the way the value goes (state to function for
/// read, function to state for write, both ways for readwrite). A function
/// with steps is a cluster of its steps, chained in the manifest's order,
/// with an arrow from each step that reaches a call to the callee
/// (labelled with what the frame carries) and a dashed one back to the
/// step that resumes. A legend cluster shows each shape and arrow.
std::string renderDot(const Manifest &M);

} // namespace cleave::rt

#endif // CLEAVE_MANIFEST_H
