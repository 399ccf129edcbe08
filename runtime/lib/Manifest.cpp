//===- Manifest.cpp - Read, write and render manifest.yaml ----------------===//
//
// A missing, mistyped or unknown field is an error pointing at the exact
// line and column, since a manifest is often edited by hand. Every change
// of the format gets a new apiVersion, so a runtime needs no leniency
// towards keys it does not know: a newer manifest is refused by its
// version. Only cleave/v1, the previous version, is read as it always was,
// with unknown keys skipped.
//
//===----------------------------------------------------------------------===//

#include "cleave/Manifest.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

namespace cleave::rt {

namespace {

/// The parser's own failure. yaml-cpp reports through exceptions already,
/// so the parser does too internally and parseManifest turns every one of
/// them into an Error; none leaves this file.
struct ParseFailure {
  Error E;
};

std::string joinAlternatives(std::initializer_list<std::string_view> Names) {
  std::string Out;
  size_t I = 0;
  for (std::string_view N : Names) {
    if (I != 0)
      Out += I + 1 == Names.size() ? " or " : ", ";
    Out += N;
    ++I;
  }
  return Out;
}

/// A cursor over a scalar, to match it against the patterns of YAML's
/// resolvers. By hand rather than with std::regex, whose matcher recurses
/// once a character and overflows the stack on a long scalar.
class Cursor {
public:
  explicit Cursor(std::string_view S) : S(S) {}

  bool done() const { return I == S.size(); }
  char peek() const { return done() ? '\0' : S[I]; }
  bool eat(char C) { return eatAny(std::string_view(&C, 1)); }
  bool eatAny(std::string_view Set) {
    if (done() || Set.find(S[I]) == std::string_view::npos)
      return false;
    ++I;
    return true;
  }
  /// Eats up to \p Max characters of \p Set; how many.
  size_t eatAll(std::string_view Set, size_t Max = std::string_view::npos) {
    size_t N = 0;
    while (N < Max && eatAny(Set))
      ++N;
    return N;
  }
  bool eatWord(std::string_view W) {
    if (S.substr(I, W.size()) != W)
      return false;
    I += W.size();
    return true;
  }
  bool eatOneOf(std::initializer_list<std::string_view> Words) {
    return std::any_of(Words.begin(), Words.end(),
                       [&](std::string_view W) { return eatWord(W); });
  }

private:
  std::string_view S;
  size_t I = 0;
};

constexpr std::string_view Digits = "0123456789";
constexpr std::string_view DigitsOr_ = "0123456789_";

/// `(:[0-5]?[0-9])+`: the base-60 part of YAML 1.1's `1:30`.
bool eatSexagesimal(Cursor &C) {
  bool Any = false;
  while (C.eat(':')) {
    char First = C.peek();
    if (!C.eatAny(Digits))
      return false;
    if (C.eatAny(Digits) && First > '5')
      return false;
    Any = true;
  }
  return Any;
}

/// `([eE][-+][0-9]+)?`, as YAML 1.1 writes exponents.
bool eatExponent(Cursor &C) {
  if (!C.eatAny("eE"))
    return true;
  return C.eatAny("+-") && C.eatAll(Digits) > 0;
}

/// YAML 1.1's int: `[-+]?(0b[01_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+
/// |[1-9][0-9_]*(:[0-5]?[0-9])+)`.
bool isYamlInt(std::string_view S) {
  Cursor C(S);
  C.eatAny("+-");
  if (C.eatWord("0b"))
    return C.eatAll("01_") > 0 && C.done();
  if (C.eatWord("0x"))
    return C.eatAll("0123456789abcdefABCDEF_") > 0 && C.done();
  if (C.eat('0'))
    return C.done() || (C.eatAll("01234567_") > 0 && C.done());
  if (!C.eatAny("123456789"))
    return false;
  C.eatAll(DigitsOr_);
  return C.done() || (eatSexagesimal(C) && C.done());
}

/// YAML 1.1's float: `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?`,
/// `\.[0-9][0-9_]*([eE][-+][0-9]+)?`, `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+
/// \.[0-9_]*`, `[-+]?\.(inf|Inf|INF)` or `\.(nan|NaN|NAN)`.
bool isYamlFloat(std::string_view S) {
  Cursor C(S);
  bool Signed = C.eatAny("+-");
  if (C.eat('.')) {
    if (C.eatOneOf({"inf", "Inf", "INF"}))
      return C.done();
    if (Signed)
      return false;
    if (C.eatOneOf({"nan", "NaN", "NAN"}))
      return C.done();
    if (!C.eatAny(Digits))
      return false;
    C.eatAll(DigitsOr_);
    return eatExponent(C) && C.done();
  }
  if (!C.eatAny(Digits))
    return false;
  C.eatAll(DigitsOr_);
  if (C.peek() == ':') {
    if (!eatSexagesimal(C) || !C.eat('.'))
      return false;
    C.eatAll(DigitsOr_);
    return C.done();
  }
  if (!C.eat('.'))
    return false;
  C.eatAll(DigitsOr_);
  return eatExponent(C) && C.done();
}

/// YAML 1.1's timestamp: `2001-12-14`, or `2001-12-14t21:59:43.10-05:00`
/// and its variants.
bool isYamlTimestamp(std::string_view S) {
  Cursor C(S);
  if (C.eatAll(Digits, 4) != 4 || !C.eat('-'))
    return false;
  size_t Month = C.eatAll(Digits, 2);
  if (Month == 0 || !C.eat('-'))
    return false;
  size_t Day = C.eatAll(Digits, 2);
  if (Day == 0)
    return false;
  if (C.done())
    return Month == 2 && Day == 2;
  if (!C.eatAny("Tt") && C.eatAll(" \t") == 0)
    return false;
  if (C.eatAll(Digits, 2) == 0 || !C.eat(':') || C.eatAll(Digits, 2) != 2 ||
      !C.eat(':') || C.eatAll(Digits, 2) != 2)
    return false;
  if (C.eat('.'))
    C.eatAll(Digits);
  size_t Blanks = C.eatAll(" \t");
  if (C.done())
    return Blanks == 0;
  if (C.eat('Z'))
    return C.done();
  if (!C.eatAny("+-") || C.eatAll(Digits, 2) == 0)
    return false;
  if (C.eat(':') && C.eatAll(Digits, 2) != 2)
    return false;
  return C.done();
}

/// YAML 1.2's core schema numbers that YAML 1.1 reads as strings: `1e3`,
/// `0o17`, and `0x1F` (which both read as integers).
bool isYaml12Number(std::string_view S) {
  Cursor C(S);
  if (C.eatWord("0o"))
    return C.eatAll("01234567") > 0 && C.done();
  if (C.eatWord("0x"))
    return C.eatAll("0123456789abcdefABCDEF") > 0 && C.done();
  C.eatAny("+-");
  if (C.eat('.')) {
    if (C.eatAll(Digits) == 0)
      return false;
  } else {
    if (C.eatAll(Digits) == 0)
      return false;
    if (C.eat('.'))
      C.eatAll(Digits);
  }
  if (C.eatAny("eE")) {
    C.eatAny("+-");
    if (C.eatAll(Digits) == 0)
      return false;
  }
  return C.done();
}

/// What PyYAML (a YAML 1.1 reader, and the one the schema is checked with)
/// makes of the plain scalar \p S: "a string", or the type its resolvers
/// give it.
std::string_view plainType(std::string_view S) {
  if (S.empty() || S == "~" || S == "null" || S == "Null" || S == "NULL")
    return "null";
  if (S == "<<" || S == "=")
    return "a merge key or a value key";
  for (std::string_view Word :
       {"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"})
    if (S == Word)
      return "a boolean";
  if (isYamlInt(S))
    return "an integer";
  if (isYamlFloat(S))
    return "a float";
  if (isYamlTimestamp(S))
    return "a date";
  return "a string";
}

/// Whether the writer quotes \p S: when PyYAML would not read it as a
/// string, nor the stricter YAML 1.1 (`y`, `n`) and YAML 1.2 (`1e3`,
/// `0o17`) readers.
bool needsQuotes(std::string_view S) {
  return plainType(S) != "a string" || S == "y" || S == "Y" || S == "n" ||
         S == "N" || isYaml12Number(S);
}

/// The keys cleave/v1 named without their units, and their v2 names.
constexpr std::pair<std::string_view, std::string_view> RenamedInV2[] = {
    {"memory", "memoryMiB"}, {"timeout", "timeoutSeconds"}, {"gpu", "gpus"}};

class ManifestParser {
public:
  explicit ManifestParser(std::string_view File) : File(File) {}

  Manifest parse(std::string_view Text);

private:
  std::string locate(const YAML::Mark &At, std::string_view Severity,
                     std::string_view Message) const {
    if (At.is_null())
      return fmt::format("{}: {}: {}", File, Severity, Message);
    // yaml-cpp counts from 0; diagnostics count from 1 like compilers do.
    return fmt::format("{}:{}:{}: {}: {}", File, At.line + 1, At.column + 1,
                       Severity, Message);
  }

  [[noreturn]] void fail(const YAML::Mark &At, std::string_view Message) const {
    throw ParseFailure{Error(locate(At, "error", Message), /*Located=*/true)};
  }

  /// An error with a second location, clang style: the note follows the
  /// error on its own line.
  [[noreturn]] void fail(const YAML::Mark &At, std::string_view Message,
                         const YAML::Mark &NoteAt,
                         std::string_view Note) const {
    throw ParseFailure{Error(locate(At, "error", Message) + "\n" +
                                 locate(NoteAt, "note", Note),
                             /*Located=*/true)};
  }

  /// The value of \p Key in mapping \p Map, if present. Looked up by hand
  /// rather than with operator[] so a lookup never inserts into the tree.
  std::optional<YAML::Node> find(const YAML::Node &Map,
                                 std::string_view Key) const {
    for (auto It = Map.begin(); It != Map.end(); ++It)
      if (It->first.IsScalar() && It->first.Scalar() == Key)
        return It->second;
    return std::nullopt;
  }

  YAML::Node require(const YAML::Node &Map, std::string_view Key,
                     std::string_view Where) const {
    if (std::optional<YAML::Node> V = find(Map, Key))
      return *V;
    fail(Map.Mark(), fmt::format("missing required key '{}'{}", Key, Where));
  }

  void expectMap(const YAML::Node &N, std::string_view What) const {
    if (!N.IsMap())
      fail(N.Mark(), fmt::format("{} must be a mapping", What));
  }

  /// In cleave/v2, refuses a key of mapping \p Map that is not one of
  /// \p Known, and a key given twice (YAML readers differ on which one
  /// counts).
  void checkKeys(const YAML::Node &Map,
                 std::initializer_list<std::string_view> Known,
                 std::string_view Where) const {
    if (V1)
      return;
    std::map<std::string, YAML::Mark> Seen;
    for (auto It = Map.begin(); It != Map.end(); ++It) {
      // A copy: the iterator's pair is a temporary.
      YAML::Node Key = It->first;
      if (!Key.IsScalar() || (Key.Tag() == "?" && !isPlainString(Key)))
        fail(Key.Mark(), fmt::format("a key must be a string{}", Where));
      auto [Prev, New] = Seen.emplace(Key.Scalar(), Key.Mark());
      if (!New)
        fail(Key.Mark(),
             fmt::format("duplicate key '{}'{}", Key.Scalar(), Where),
             Prev->second, "first given here");
      if (std::find(Known.begin(), Known.end(), Key.Scalar()) == Known.end())
        fail(Key.Mark(),
             fmt::format("unknown key '{}'{}", Key.Scalar(), Where));
    }
  }

  /// The resources' keys, with a message that names the renamed ones when
  /// the other version's name is used.
  void checkResourceKeys(const YAML::Node &Res, std::string_view Where) const {
    for (auto It = Res.begin(); It != Res.end(); ++It) {
      if (!It->first.IsScalar())
        continue;
      std::string Key = It->first.Scalar();
      for (auto [Old, New] : RenamedInV2) {
        if (!V1 && Key == Old)
          fail(It->first.Mark(),
               fmt::format("'{}'{} is the {} name of '{}'; this manifest is "
                           "{}",
                           Old, Where, ManifestPreviousApiVersion, New,
                           ManifestApiVersion));
        if (V1 && Key == New)
          fail(It->first.Mark(),
               fmt::format("'{}'{} is a {} key; this manifest is {}, which "
                           "calls it '{}'",
                           New, Where, ManifestApiVersion,
                           ManifestPreviousApiVersion, Old));
      }
    }
    checkKeys(Res, {"memoryMiB", "timeoutSeconds", "gpus", "concurrency"},
              Where);
  }

  /// A plain scalar (not quoted, not tagged) that YAML reads as a string.
  static bool isPlainString(const YAML::Node &N) {
    return plainType(N.Scalar()) == "a string";
  }

  /// What YAML reads scalar \p N as: "a string", "an integer", ... A
  /// quoted scalar is a string; an explicit tag says its type.
  static std::string typeOf(const YAML::Node &N) {
    const std::string &Tag = N.Tag();
    if (Tag == "?")
      return std::string(plainType(N.Scalar()));
    if (Tag == "!" || Tag == "tag:yaml.org,2002:str")
      return "a string";
    if (Tag == "tag:yaml.org,2002:int")
      return "an integer";
    if (Tag == "tag:yaml.org,2002:bool")
      return "a boolean";
    return fmt::format("a value tagged '{}'", Tag);
  }

  /// A list that may also be written as an empty value (`state:`).
  bool isList(const YAML::Node &N) const {
    return N.IsSequence() || N.IsNull();
  }

  void expectList(const YAML::Node &N, std::string_view What) const {
    if (!isList(N))
      fail(N.Mark(), fmt::format("{} must be a list", What));
  }

  std::string text(const YAML::Node &N, std::string_view Key) const {
    if (!N.IsScalar())
      fail(N.Mark(), fmt::format("'{}' must be a string", Key));
    if (!V1)
      if (std::string Type = typeOf(N); Type != "a string")
        fail(N.Mark(), fmt::format("'{}' must be a string; YAML reads {} as "
                                   "{} (quote it)",
                                   Key, N.Scalar(), Type));
    return N.Scalar();
  }

  std::string requireText(const YAML::Node &Map, std::string_view Key,
                          std::string_view Where) const {
    return text(require(Map, Key, Where), Key);
  }

  std::string optionalText(const YAML::Node &Map, std::string_view Key) const {
    if (std::optional<YAML::Node> V = find(Map, Key))
      return text(*V, Key);
    return {};
  }

  std::string oneOf(const YAML::Node &N, std::string_view Key,
                    std::initializer_list<std::string_view> Allowed) const {
    std::string V = text(N, Key);
    if (std::find(Allowed.begin(), Allowed.end(), V) == Allowed.end())
      fail(N.Mark(), fmt::format("invalid {} '{}'; expected {}", Key, V,
                                 joinAlternatives(Allowed)));
    return V;
  }

  int64_t count(const YAML::Node &N, std::string_view Key) const {
    // from_chars instead of yaml-cpp's stream-based conversion: it rejects
    // "1.5", "12abc" and " 1" alike, and never depends on the locale.
    int64_t V = -1;
    std::string Type;
    if (N.IsScalar()) {
      const std::string &S = N.Scalar();
      auto [End, Ec] = std::from_chars(S.data(), S.data() + S.size(), V);
      if (Ec != std::errc() || End != S.data() + S.size())
        V = -1;
      // In v2, an integer to every YAML reader, with the same value: not
      // quoted, and no leading zero (010 is 8 in YAML 1.1).
      Type = V1 ? "an integer" : typeOf(N);
      if (Type != "an integer" || (!V1 && S.size() > 1 && S[0] == '0'))
        V = -1;
    }
    if (V < 0)
      fail(N.Mark(), fmt::format("'{}' must be a non-negative integer{}", Key,
                                 !N.IsScalar() ? std::string()
                                 : Type == "a string"
                                     ? fmt::format(", not the string "
                                                   "'{}'",
                                                   N.Scalar())
                                     : fmt::format(", not '{}'", N.Scalar())));
    return V;
  }

  bool flag(const YAML::Node &N, std::string_view Key) const {
    bool V = false;
    if (!N.IsScalar() || !YAML::convert<bool>::decode(N, V) ||
        (!V1 && typeOf(N) != "a boolean"))
      fail(N.Mark(), fmt::format("'{}' must be true or false", Key));
    return V;
  }

  std::vector<std::string> names(const YAML::Node &Map,
                                 std::string_view Key) const {
    std::vector<std::string> Out;
    std::optional<YAML::Node> L = find(Map, Key);
    if (!L)
      return Out;
    expectList(*L, fmt::format("'{}'", Key));
    for (const YAML::Node &Item : *L)
      Out.push_back(text(Item, Key));
    return Out;
  }

  FunctionSpec parseFunction(const YAML::Node &N);
  void parseSteps(const YAML::Node &N, FunctionSpec &F, std::string_view Where);
  StateSpec parseState(const YAML::Node &N);

  std::string File;
  /// The manifest is of the previous version, cleave/v1.
  bool V1 = false;
  /// Edge callees, checked once every function is known: an edge may call
  /// a function listed after its caller.
  struct CalleeUse {
    std::string Edge; ///< "edge 2 of entry 'f'"
    std::string Callee;
    YAML::Mark At;
  };
  std::vector<CalleeUse> Callees;
};

/// The step ids a function has from \p First on, for messages: "1 to 3".
std::string stepRange(int64_t First, size_t Count) {
  int64_t Last = static_cast<int64_t>(Count) - 1;
  if (First == Last)
    return fmt::format("{}", First);
  return fmt::format("{} to {}", First, Last);
}

FunctionSpec ManifestParser::parseFunction(const YAML::Node &N) {
  expectMap(N, "a function");
  FunctionSpec F;
  F.Name = requireText(N, "name", " in function");
  std::string Where = fmt::format(" in function '{}'", F.Name);
  F.Kind =
      oneOf(require(N, "kind", Where), "kind", {"entry", "function", "helper"});
  if (F.isEntry())
    Where = fmt::format(" in entry '{}'", F.Name);
  checkKeys(N,
            {"name", "kind", "handler", "trigger", "params", "returns",
             "resources", "isolate", "auth", "source", "state", "calls",
             "machine", "steps", "edges"},
            Where);

  // Handler, trigger, params and returns are required of entries only, but
  // read whenever present so that writing the manifest back loses nothing.
  std::optional<YAML::Node> Handler = find(N, "handler");
  if (F.isEntry() && !Handler)
    require(N, "handler", Where);
  if (Handler)
    F.Handler = text(*Handler, "handler");

  std::optional<YAML::Node> Trigger = find(N, "trigger");
  if (F.isEntry() && !Trigger)
    require(N, "trigger", Where);
  if (Trigger) {
    expectMap(*Trigger, "'trigger'");
    checkKeys(*Trigger, {"method", "path"}, " in trigger");
    F.Method = oneOf(require(*Trigger, "method", " in trigger"), "method",
                     {"GET", "POST", "PUT", "PATCH", "DELETE"});
    YAML::Node Path = require(*Trigger, "path", " in trigger");
    F.Path = text(Path, "path");
    if (F.Path.empty() || F.Path.front() != '/')
      fail(Path.Mark(),
           fmt::format("trigger path '{}' must start with '/'", F.Path));
    if (F.Path.find_first_of("?#") != std::string::npos)
      fail(Path.Mark(), fmt::format("trigger path '{}' must not contain a "
                                    "query string or fragment",
                                    F.Path));
  }

  std::optional<YAML::Node> Params = find(N, "params");
  if (F.isEntry() && !Params)
    require(N, "params", Where);
  if (Params) {
    expectList(*Params, "'params'");
    for (const YAML::Node &P : *Params) {
      expectMap(P, "a parameter");
      checkKeys(P, {"name", "type"}, " in parameter");
      F.Params.push_back({requireText(P, "name", " in parameter"),
                          requireText(P, "type", " in parameter")});
    }
  }

  std::optional<YAML::Node> Returns = find(N, "returns");
  if (F.isEntry() && !Returns)
    require(N, "returns", Where);
  if (Returns)
    F.Returns = text(*Returns, "returns");

  YAML::Node Res = require(N, "resources", Where);
  expectMap(Res, "'resources'");
  checkResourceKeys(Res, fmt::format(" in resources of{}", Where.substr(3)));
  // v1 named the quantities without their units.
  auto Quantity = [&](std::string_view V2Key, std::string_view V1Key,
                      int64_t &Into) {
    std::string_view Key = V1 ? V1Key : V2Key;
    if (std::optional<YAML::Node> V = find(Res, Key))
      Into = count(*V, Key);
  };
  Quantity("memoryMiB", "memory", F.Resources.Memory);
  Quantity("timeoutSeconds", "timeout", F.Resources.Timeout);
  Quantity("gpus", "gpu", F.Resources.Gpu);
  Quantity("concurrency", "concurrency", F.Resources.Concurrency);

  if (std::optional<YAML::Node> V = find(N, "isolate"))
    F.Isolate = flag(*V, "isolate");
  if (std::optional<YAML::Node> V = find(N, "auth")) {
    F.Auth = text(*V, "auth");
    if (F.Auth != "token" && F.Auth != "none")
      fail(V->Mark(), fmt::format("'auth' must be token or none, not '{}'",
                                  F.Auth));
    if (!F.isEntry())
      fail(V->Mark(), fmt::format("'auth' is given for '{}', which is not "
                                  "an entry",
                                  F.Name));
  }
  F.Source = requireText(N, "source", Where);

  if (std::optional<YAML::Node> Uses = find(N, "state")) {
    expectList(*Uses, "'state'");
    for (const YAML::Node &U : *Uses) {
      expectMap(U, "a state use");
      checkKeys(U, {"name", "access"}, " in state use");
      StateUse Use;
      Use.Name = requireText(U, "name", " in state use");
      Use.Access = oneOf(require(U, "access", " in state use"), "access",
                         {"read", "write", "readwrite"});
      F.State.push_back(std::move(Use));
    }
  }
  if (std::optional<YAML::Node> Calls = find(N, "calls")) {
    expectList(*Calls, "'calls'");
    for (const YAML::Node &C : *Calls) {
      expectMap(C, "a call");
      checkKeys(C, {"callee", "placement", "reason", "source"}, " in call");
      CallSpec Call;
      Call.Callee = requireText(C, "callee", " in call");
      Call.Placement = oneOf(require(C, "placement", " in call"), "placement",
                             {"local", "boundary", "fanout"});
      if (std::optional<YAML::Node> R = find(C, "reason"))
        Call.Reason = text(*R, "reason");
      Call.Source = requireText(C, "source", " in call");
      F.Calls.push_back(std::move(Call));
    }
  }
  parseSteps(N, F, Where);
  return F;
}

void ManifestParser::parseSteps(const YAML::Node &N, FunctionSpec &F,
                                std::string_view Where) {
  F.Machine = optionalText(N, "machine");
  // Steps are read before edges whatever the key order, since edges name
  // steps by id.
  if (std::optional<YAML::Node> Steps = find(N, "steps")) {
    expectList(*Steps, "'steps'");
    for (const YAML::Node &S : *Steps) {
      expectMap(S, "a step");
      checkKeys(S, {"id", "source"}, " in step");
      StepSpec Step;
      YAML::Node Id = require(S, "id", " in step");
      Step.Id = count(Id, "id");
      // Ids are positions: the library's machine numbers its steps so.
      int64_t Expected = static_cast<int64_t>(F.Steps.size());
      if (Step.Id != Expected)
        fail(Id.Mark(), fmt::format("invalid step id {}{}; expected {} (steps "
                                    "are numbered from 0, in order)",
                                    Step.Id, Where, Expected));
      Step.Source = requireText(S, "source", " in step");
      F.Steps.push_back(std::move(Step));
    }
  }

  std::optional<YAML::Node> Edges = find(N, "edges");
  if (!Edges)
    return;
  expectList(*Edges, "'edges'");
  const int64_t StepCount = static_cast<int64_t>(F.Steps.size());
  for (const YAML::Node &E : *Edges) {
    expectMap(E, "an edge");
    checkKeys(E, {"from", "callee", "placement", "resume", "source", "carried"},
              " in edge");
    // Names the edge in messages, by position: "edge 2 of entry 'f'".
    std::string EdgeName =
        fmt::format("edge {} of {} '{}'", F.Edges.size(),
                    F.isEntry() ? "entry" : "function", F.Name);
    EdgeSpec Edge;
    YAML::Node From = require(E, "from", " in edge");
    expectList(From, "'from'");
    for (const YAML::Node &Id : From) {
      int64_t Step = count(Id, "from");
      if (Step >= StepCount)
        fail(Id.Mark(),
             fmt::format("invalid step {} in 'from' of {}; {}", Step, EdgeName,
                         StepCount == 0
                             ? std::string("the function has no steps")
                             : "expected " + stepRange(0, F.Steps.size())));
      Edge.From.push_back(Step);
    }
    YAML::Node Callee = require(E, "callee", " in edge");
    Edge.Callee = text(Callee, "callee");
    Callees.push_back({EdgeName, Edge.Callee, Callee.Mark()});
    Edge.Placement = oneOf(require(E, "placement", " in edge"), "placement",
                           {"boundary", "fanout", "local"});
    YAML::Node Resume = require(E, "resume", " in edge");
    Edge.Resume = count(Resume, "resume");
    // Step 0 is where the body starts; no call returns into it.
    if (Edge.Resume == 0 || Edge.Resume >= StepCount)
      fail(Resume.Mark(),
           fmt::format(
               "invalid resume step {} in {}; {}", Edge.Resume, EdgeName,
               StepCount == 0   ? std::string("the function has no steps")
               : StepCount == 1 ? std::string("the function has no step "
                                              "after step 0")
                                : "expected " + stepRange(1, F.Steps.size())));
    Edge.Source = requireText(E, "source", " in edge");
    if (std::optional<YAML::Node> Carried = find(E, "carried")) {
      expectList(*Carried, "'carried'");
      for (const YAML::Node &C : *Carried) {
        expectMap(C, "a carried variable");
        checkKeys(C, {"name", "type", "bytes"}, " in carried variable");
        CarriedSpec Var;
        Var.Name = requireText(C, "name", " in carried variable");
        Var.Type = requireText(C, "type", " in carried variable");
        Var.Bytes = count(require(C, "bytes", " in carried variable"), "bytes");
        Edge.Carried.push_back(std::move(Var));
      }
    }
    F.Edges.push_back(std::move(Edge));
  }
}

StateSpec ManifestParser::parseState(const YAML::Node &N) {
  expectMap(N, "a state variable");
  StateSpec S;
  S.Name = requireText(N, "name", " in state variable");
  std::string Where = fmt::format(" in state variable '{}'", S.Name);
  checkKeys(N,
            {"name", "type", "consistency", "granularity", "source", "readers",
             "writers"},
            Where);
  S.Type = optionalText(N, "type");
  S.Consistency = oneOf(require(N, "consistency", Where), "consistency",
                        {"linearizable", "eventual"});
  S.Granularity =
      oneOf(require(N, "granularity", Where), "granularity", {"whole", "key"});
  S.Source = optionalText(N, "source");
  S.Readers = names(N, "readers");
  S.Writers = names(N, "writers");
  return S;
}

Manifest ManifestParser::parse(std::string_view Text) {
  YAML::Node Root;
  try {
    Root = YAML::Load(std::string(Text));
  } catch (const YAML::Exception &E) {
    fail(E.mark, E.msg);
  }
  if (!Root.IsMap())
    fail(Root.Mark().is_null() ? YAML::Mark() : Root.Mark(),
         Root.IsNull() ? "the manifest is empty"
                       : "the manifest must be a mapping");

  Manifest M;
  YAML::Node Api = require(Root, "apiVersion", "");
  // Checked before anything else: a future version may have changed what
  // the other fields mean, so their errors would only mislead.
  std::string Version = text(Api, "apiVersion");
  V1 = Version == ManifestPreviousApiVersion;
  if (Version != ManifestApiVersion && !V1)
    fail(Api.Mark(),
         fmt::format("unsupported apiVersion '{}'; this runtime "
                     "reads {} and {}",
                     Version, ManifestApiVersion, ManifestPreviousApiVersion));
  checkKeys(Root,
            {"apiVersion", "kind", "name", "artifact", "functions", "state"},
            " at the top level");
  M.Kind = oneOf(require(Root, "kind", ""), "kind", {"Deployment"});
  M.Name = requireText(Root, "name", "");
  M.Artifact = requireText(Root, "artifact", "");

  std::map<std::string, YAML::Mark> FunctionAt;
  std::map<std::pair<std::string, std::string>,
           std::pair<std::string, YAML::Mark>>
      RouteAt;
  if (std::optional<YAML::Node> Fns = find(Root, "functions")) {
    expectList(*Fns, "'functions'");
    for (const YAML::Node &N : *Fns) {
      FunctionSpec F = parseFunction(N);
      YAML::Mark NameAt = find(N, "name")->Mark();
      auto [Prev, New] = FunctionAt.emplace(F.Name, NameAt);
      if (!New)
        fail(NameAt, fmt::format("duplicate function '{}'", F.Name),
             Prev->second, "first defined here");
      if (F.isEntry()) {
        YAML::Mark TriggerAt = find(N, "trigger")->Mark();
        auto [Other, Fresh] =
            RouteAt.emplace(std::make_pair(F.Method, F.Path),
                            std::make_pair(F.Name, TriggerAt));
        if (!Fresh)
          fail(TriggerAt,
               fmt::format("duplicate route {} {}: entries '{}' and '{}'",
                           F.Method, F.Path, Other->second.first, F.Name),
               Other->second.second,
               fmt::format("'{}' declares it here", Other->second.first));
      }
      M.Functions.push_back(std::move(F));
    }
  }
  for (const CalleeUse &Use : Callees)
    if (!FunctionAt.count(Use.Callee))
      fail(Use.At,
           fmt::format("{} calls unknown function '{}'", Use.Edge, Use.Callee));

  std::map<std::string, YAML::Mark> StateAt;
  if (std::optional<YAML::Node> Vars = find(Root, "state")) {
    expectList(*Vars, "'state'");
    for (const YAML::Node &N : *Vars) {
      StateSpec S = parseState(N);
      YAML::Mark NameAt = find(N, "name")->Mark();
      auto [Prev, New] = StateAt.emplace(S.Name, NameAt);
      if (!New)
        fail(NameAt, fmt::format("duplicate state variable '{}'", S.Name),
             Prev->second, "first defined here");
      M.State.push_back(std::move(S));
    }
  }
  return M;
}

} // namespace

/// Where \p Text stops being what a YAML stream may hold, and why: bytes
/// that are not well-formed UTF-8 (no overlong forms, surrogates or code
/// points past U+10FFFF), or a character YAML does not allow (C0 and C1
/// controls other than tab, line feed, carriage return and U+0085; U+FFFE,
/// U+FFFF), or a carriage return outside CR LF. yaml-cpp reads such bytes as they are but writes them back
/// otherwise (U+FFFD, escapes), so a manifest holding them would not read
/// back as it was written. npos when the whole text is fine.
static std::pair<size_t, std::string> findUnprintable(std::string_view Text) {
  size_t I = 0;
  while (I < Text.size()) {
    auto B = static_cast<unsigned char>(Text[I]);
    size_t Len = B < 0x80 ? 1 : B >= 0xC2 && B <= 0xDF ? 2
                             : B >= 0xE0 && B <= 0xEF ? 3
                             : B >= 0xF0 && B <= 0xF4 ? 4
                                                       : 0;
    if (Len == 0 || Len > Text.size() - I)
      return {I, "manifest is not valid UTF-8"};
    auto C1 = static_cast<unsigned char>(Len > 1 ? Text[I + 1] : 0x80);
    // The second byte's range depends on the first (Unicode table 3-7).
    unsigned char Lo = B == 0xE0 ? 0xA0 : B == 0xF0 ? 0x90 : 0x80;
    unsigned char Hi = B == 0xED ? 0x9F : B == 0xF4 ? 0x8F : 0xBF;
    if (Len > 1 && (C1 < Lo || C1 > Hi))
      return {I, "manifest is not valid UTF-8"};
    uint32_t Code = Len == 1 ? B : B & (0xFF >> (Len + 1));
    for (size_t K = 1; K < Len; ++K) {
      auto C = static_cast<unsigned char>(Text[I + K]);
      if ((C & 0xC0) != 0x80)
        return {I, "manifest is not valid UTF-8"};
      Code = (Code << 6) | (C & 0x3F);
    }
    bool Printable = Code == 0x09 || Code == 0x0A || Code == 0x0D ||
                     (Code >= 0x20 && Code <= 0x7E) || Code == 0x85 ||
                     (Code >= 0xA0 && Code <= 0xFFFD) || Code >= 0x10000;
    if (!Printable)
      return {I, fmt::format("manifest holds the control character U+{:04X}, "
                             "which YAML does not allow",
                             Code)};
    // YAML takes a lone CR for a line break, yaml-cpp for text: only CR LF.
    if (Code == 0x0D && (I + 1 == Text.size() || Text[I + 1] != '\n'))
      return {I, "manifest holds a carriage return that does not end a line "
                 "(only CR LF does)"};
    I += Len;
  }
  return {std::string_view::npos, ""};
}

Result<Manifest> parseManifest(std::string_view Text,
                               std::string_view DisplayName) {
  if (auto [Bad, Why] = findUnprintable(Text); Bad != std::string_view::npos) {
    std::string_view Before = Text.substr(0, Bad);
    size_t Line = 1 + std::count(Before.begin(), Before.end(), '\n');
    size_t LineStart = Before.rfind('\n');
    size_t Col = Bad - (LineStart == std::string_view::npos ? 0 : LineStart + 1) + 1;
    return Error(
        fmt::format("{}:{}:{}: error: {}", DisplayName, Line, Col, Why),
        /*Located=*/true);
  }
  try {
    return ManifestParser(DisplayName).parse(Text);
  } catch (const ParseFailure &F) {
    return F.E;
  } catch (const std::exception &E) {
    // yaml-cpp's API throws for misuse it detects (e.g. InvalidNode); the
    // parser should never trigger one, but a manifest must not crash us.
    return Error(fmt::format("{}: error: cannot read manifest: {}", DisplayName,
                             E.what()),
                 /*Located=*/true);
  }
}

Result<Manifest> loadManifest(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary);
  if (!In)
    return Error(fmt::format("cannot open manifest '{}': {}", Path,
                             std::strerror(errno)));
  std::ostringstream Text;
  Text << In.rdbuf();
  if (In.bad())
    return Error(fmt::format("cannot read manifest '{}'", Path));
  return parseManifest(Text.str(), Path);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {

/// A string value, written so that every YAML reader reads a string: a
/// scalar YAML would type otherwise (`yes`, `12`, `null`) is quoted.
struct Str {
  const std::string &S;
};

YAML::Emitter &operator<<(YAML::Emitter &Out, Str V) {
  if (needsQuotes(V.S))
    Out << YAML::DoubleQuoted;
  return Out << V.S;
}

void emitNameList(YAML::Emitter &Out, const char *Key,
                  const std::vector<std::string> &Names) {
  Out << YAML::Key << Key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string &N : Names)
    Out << Str{N};
  Out << YAML::EndSeq;
}

void emitEdge(YAML::Emitter &Out, const EdgeSpec &E) {
  Out << YAML::BeginMap;
  Out << YAML::Key << "from" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (int64_t Id : E.From)
    Out << Id;
  Out << YAML::EndSeq;
  Out << YAML::Key << "callee" << YAML::Value << Str{E.Callee};
  Out << YAML::Key << "placement" << YAML::Value << Str{E.Placement};
  Out << YAML::Key << "resume" << YAML::Value << E.Resume;
  Out << YAML::Key << "source" << YAML::Value << Str{E.Source};
  Out << YAML::Key << "carried" << YAML::Value;
  if (E.Carried.empty())
    Out << YAML::Flow;
  Out << YAML::BeginSeq;
  for (const CarriedSpec &C : E.Carried)
    Out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value
        << Str{C.Name} << YAML::Key << "type" << YAML::Value << Str{C.Type}
        << YAML::Key << "bytes" << YAML::Value << C.Bytes << YAML::EndMap;
  Out << YAML::EndSeq;
  Out << YAML::EndMap;
}

void emitFunction(YAML::Emitter &Out, const FunctionSpec &F) {
  Out << YAML::BeginMap;
  Out << YAML::Key << "name" << YAML::Value << Str{F.Name};
  Out << YAML::Key << "kind" << YAML::Value << Str{F.Kind};
  // Entry-only fields are written for every function that has them, so the
  // round trip is exact even for a hand-written function with a trigger.
  if (F.isEntry() || !F.Handler.empty())
    Out << YAML::Key << "handler" << YAML::Value << Str{F.Handler};
  if (F.isEntry() || !F.Method.empty() || !F.Path.empty()) {
    Out << YAML::Key << "trigger" << YAML::Value << YAML::BeginMap;
    Out << YAML::Key << "method" << YAML::Value << Str{F.Method};
    Out << YAML::Key << "path" << YAML::Value << Str{F.Path};
    Out << YAML::EndMap;
  }
  if (F.isEntry() || !F.Params.empty()) {
    Out << YAML::Key << "params" << YAML::Value;
    if (F.Params.empty())
      Out << YAML::Flow;
    Out << YAML::BeginSeq;
    for (const ParamSpec &P : F.Params)
      Out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << Str{P.Name} << YAML::Key << "type" << YAML::Value << Str{P.Type}
          << YAML::EndMap;
    Out << YAML::EndSeq;
  }
  if (F.isEntry() || !F.Returns.empty())
    Out << YAML::Key << "returns" << YAML::Value << Str{F.Returns};
  Out << YAML::Key << "resources" << YAML::Value << YAML::Flow
      << YAML::BeginMap;
  Out << YAML::Key << "memoryMiB" << YAML::Value << F.Resources.Memory;
  Out << YAML::Key << "timeoutSeconds" << YAML::Value << F.Resources.Timeout;
  Out << YAML::Key << "gpus" << YAML::Value << F.Resources.Gpu;
  Out << YAML::Key << "concurrency" << YAML::Value << F.Resources.Concurrency;
  Out << YAML::EndMap;
  Out << YAML::Key << "isolate" << YAML::Value << F.Isolate;
  if (!F.Auth.empty())
    Out << YAML::Key << "auth" << YAML::Value << Str{F.Auth};
  Out << YAML::Key << "source" << YAML::Value << Str{F.Source};
  if (!F.State.empty()) {
    Out << YAML::Key << "state" << YAML::Value << YAML::BeginSeq;
    for (const StateUse &U : F.State)
      Out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << Str{U.Name} << YAML::Key << "access" << YAML::Value
          << Str{U.Access} << YAML::EndMap;
    Out << YAML::EndSeq;
  }
  if (!F.Calls.empty()) {
    Out << YAML::Key << "calls" << YAML::Value << YAML::BeginSeq;
    for (const CallSpec &C : F.Calls)
      Out << YAML::Flow << YAML::BeginMap << YAML::Key << "callee"
          << YAML::Value << Str{C.Callee} << YAML::Key << "placement"
          << YAML::Value << Str{C.Placement} << YAML::Key << "reason"
          << YAML::Value << Str{C.Reason} << YAML::Key << "source"
          << YAML::Value << Str{C.Source} << YAML::EndMap;
    Out << YAML::EndSeq;
  }
  // Written only when present, so a manifest without steps reads as before.
  if (!F.Machine.empty())
    Out << YAML::Key << "machine" << YAML::Value << Str{F.Machine};
  if (!F.Steps.empty()) {
    Out << YAML::Key << "steps" << YAML::Value << YAML::BeginSeq;
    for (const StepSpec &S : F.Steps)
      Out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << S.Id
          << YAML::Key << "source" << YAML::Value << Str{S.Source}
          << YAML::EndMap;
    Out << YAML::EndSeq;
  }
  if (!F.Edges.empty()) {
    Out << YAML::Key << "edges" << YAML::Value << YAML::BeginSeq;
    for (const EdgeSpec &E : F.Edges)
      emitEdge(Out, E);
    Out << YAML::EndSeq;
  }
  Out << YAML::EndMap;
}

void emitState(YAML::Emitter &Out, const StateSpec &S) {
  Out << YAML::BeginMap;
  Out << YAML::Key << "name" << YAML::Value << Str{S.Name};
  Out << YAML::Key << "type" << YAML::Value << Str{S.Type};
  Out << YAML::Key << "consistency" << YAML::Value << Str{S.Consistency};
  Out << YAML::Key << "granularity" << YAML::Value << Str{S.Granularity};
  Out << YAML::Key << "source" << YAML::Value << Str{S.Source};
  emitNameList(Out, "readers", S.Readers);
  emitNameList(Out, "writers", S.Writers);
  Out << YAML::EndMap;
}

/// One line of comment: what would end it, or end the YAML, is dropped.
std::string commentLine(std::string_view Text) {
  std::string Out;
  for (char C : Text)
    Out += C == '\n' || C == '\r' ? ' ' : C;
  return Out;
}

} // namespace

std::string writeManifest(const Manifest &M, std::string_view Generator) {
  std::string Header;
  if (!Generator.empty())
    Header = fmt::format("# Generated by {}: do not edit.\n",
                         commentLine(Generator));
  // The schema as an installed Cleave has it (runtime/schema/ in its
  // sources).
  Header += fmt::format("# Format {} (docs/manifest.md), JSON Schema "
                        "share/cleave/manifest.schema.json.\n",
                        ManifestApiVersion);
  YAML::Emitter Out;
  Out << YAML::BeginMap;
  Out << YAML::Key << "apiVersion" << YAML::Value
      << std::string(ManifestApiVersion);
  Out << YAML::Key << "kind" << YAML::Value << Str{M.Kind};
  Out << YAML::Key << "name" << YAML::Value << Str{M.Name};
  Out << YAML::Key << "artifact" << YAML::Value << Str{M.Artifact};
  Out << YAML::Key << "functions" << YAML::Value;
  if (M.Functions.empty())
    Out << YAML::Flow;
  Out << YAML::BeginSeq;
  for (const FunctionSpec &F : M.Functions)
    emitFunction(Out, F);
  Out << YAML::EndSeq;
  Out << YAML::Key << "state" << YAML::Value;
  if (M.State.empty())
    Out << YAML::Flow;
  Out << YAML::BeginSeq;
  for (const StateSpec &S : M.State)
    emitState(Out, S);
  Out << YAML::EndSeq;
  Out << YAML::EndMap;
  return Header + Out.c_str() + "\n";
}

//===----------------------------------------------------------------------===//
// Rendering
//===----------------------------------------------------------------------===//

namespace {

/// Lays out rows in left-aligned columns two spaces apart. The last column
/// is not padded, so no line ends in blanks.
std::string formatColumns(const std::vector<std::vector<std::string>> &Rows) {
  std::vector<size_t> Width;
  for (const auto &Row : Rows) {
    Width.resize(std::max(Width.size(), Row.size()), 0);
    for (size_t I = 0; I < Row.size(); ++I)
      Width[I] = std::max(Width[I], Row[I].size());
  }
  std::string Out;
  for (const auto &Row : Rows) {
    std::string Line;
    for (size_t I = 0; I < Row.size(); ++I) {
      if (I + 1 == Row.size())
        Line += Row[I];
      else
        Line += fmt::format("{:<{}}  ", Row[I], Width[I]);
    }
    Out += Line + "\n";
  }
  return Out;
}

std::string joinOrDash(const std::vector<std::string> &Items) {
  return Items.empty() ? std::string("-")
                       : fmt::format("{}", fmt::join(Items, ", "));
}

std::string describeResources(const FunctionSpec &F) {
  std::string Out = fmt::format("mem={}MiB timeout={}s", F.Resources.Memory,
                                F.Resources.Timeout);
  if (F.Resources.Gpu != 0)
    Out += fmt::format(" gpu={}", F.Resources.Gpu);
  if (F.Resources.Concurrency != 0)
    Out += fmt::format(" concurrency={}", F.Resources.Concurrency);
  if (F.Isolate)
    Out += " isolate";
  if (!F.Auth.empty())
    Out += " auth=" + F.Auth;
  return Out;
}

/// What resumes at a step: "after quote (boundary), carries o (Order,
/// 56 B), qty (int, 4 B)".
std::string describeResume(const EdgeSpec &E) {
  std::vector<std::string> Vars;
  for (const CarriedSpec &C : E.Carried)
    Vars.push_back(fmt::format("{} ({}, {} B)", C.Name, C.Type, C.Bytes));
  return fmt::format("after {} ({}), carries {}", E.Callee, E.Placement,
                     Vars.empty() ? std::string("nothing")
                                  : fmt::format("{}", fmt::join(Vars, ", ")));
}

/// One section per function that runs as steps: each step, its source, and
/// the call it resumes after.
std::string describeSteps(const FunctionSpec &F) {
  std::vector<std::vector<std::string>> Rows;
  for (const StepSpec &S : F.Steps) {
    std::vector<std::string> Row = {fmt::format("  step {}", S.Id), S.Source};
    std::vector<std::string> Resumes;
    for (const EdgeSpec &E : F.Edges)
      if (E.Resume == S.Id)
        Resumes.push_back(describeResume(E));
    if (!Resumes.empty())
      Row.push_back(fmt::format("{}", fmt::join(Resumes, "; ")));
    Rows.push_back(std::move(Row));
  }
  return fmt::format("\nsteps of {}:\n", F.Name) + formatColumns(Rows);
}

} // namespace

std::string renderTable(const Manifest &M) {
  std::string Out = fmt::format("deployment {} ({})\nartifact: {}\n\n", M.Name,
                                ManifestApiVersion, M.Artifact);

  std::vector<std::vector<std::string>> Rows = {
      {"FUNCTION", "KIND", "TRIGGER", "RESOURCES", "STATE"}};
  for (const FunctionSpec &F : M.Functions) {
    std::vector<std::string> Uses;
    for (const StateUse &U : F.State)
      Uses.push_back(fmt::format("{} ({})", U.Name, U.Access));
    Rows.push_back({F.Name, F.Kind,
                    F.Method.empty() ? std::string("-")
                                     : fmt::format("{} {}", F.Method, F.Path),
                    describeResources(F), joinOrDash(Uses)});
  }
  Out += formatColumns(Rows);
  for (const FunctionSpec &F : M.Functions)
    if (!F.Steps.empty())
      Out += describeSteps(F);

  if (M.State.empty())
    return Out + "\n(no state)\n";
  Rows = {
      {"STATE", "TYPE", "CONSISTENCY", "GRANULARITY", "READERS", "WRITERS"}};
  for (const StateSpec &S : M.State)
    Rows.push_back({S.Name, S.Type.empty() ? std::string("-") : S.Type,
                    S.Consistency, S.Granularity, joinOrDash(S.Readers),
                    joinOrDash(S.Writers)});
  return Out + "\n" + formatColumns(Rows);
}

} // namespace cleave::rt
