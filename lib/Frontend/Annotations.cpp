//===- Annotations.cpp - Parse annotation arguments --------------------===//

#include "cleave/Frontend/Annotations.h"

#include <charconv>
#include <cstdio>
#include <functional>
#include <vector>

namespace cleave {

std::string elide(std::string_view S) {
  std::string Out;
  for (char C : S.substr(0, 60)) {
    if (static_cast<unsigned char>(C) < 0x20 || C == 0x7f) {
      char Buf[8];
      std::snprintf(Buf, sizeof Buf, "\\x%02x", static_cast<unsigned char>(C));
      Out += Buf;
    } else {
      Out += C;
    }
  }
  if (S.size() > 60)
    Out += "... (" + std::to_string(S.size()) + " characters)";
  return Out;
}

std::variant<Trigger, AnnotationError> parseTrigger(std::string_view Text) {
  const char *Expected = "expected \"METHOD /path\"";
  size_t Space = Text.find(' ');
  if (Text.empty() || Space == std::string_view::npos || Space == 0)
    return AnnotationError{std::string("malformed trigger '") +
                               elide(Text) + "': " + Expected,
                           0};
  std::string_view Method = Text.substr(0, Space);
  static const char *const Methods[] = {"GET", "POST", "PUT", "PATCH",
                                        "DELETE"};
  bool Known = false;
  for (const char *M : Methods)
    Known |= Method == M;
  if (!Known)
    return AnnotationError{"malformed trigger '" + elide(Text) +
                               "': unknown method '" + elide(Method) +
                               "'; expected GET, POST, PUT, PATCH or DELETE",
                           0};
  std::string_view Path = Text.substr(Space + 1);
  size_t PathOffset = Space + 1;
  if (Path.empty() || Path[0] != '/')
    return AnnotationError{"malformed trigger '" + elide(Text) +
                               "': path must start with '/'",
                           PathOffset};
  for (size_t I = 0; I < Path.size(); ++I) {
    char C = Path[I];
    bool Ok = (C >= 'a' && C <= 'z') || (C >= 'A' && C <= 'Z') ||
              (C >= '0' && C <= '9') || C == '-' || C == '.' || C == '_' ||
              C == '~' || C == '/';
    if (!Ok) {
      std::string Shown = C == ' '    ? std::string("space")
                          : C == '\t' ? std::string("tab")
                                      : "'" + std::string(1, C) + "'";
      return AnnotationError{"malformed trigger '" + elide(Text) +
                                 "': invalid character " + Shown + " in path",
                             PathOffset + I};
    }
    if (C == '/' && I + 1 < Path.size() && Path[I + 1] == '/')
      return AnnotationError{"malformed trigger '" + elide(Text) +
                                 "': empty path segment",
                             PathOffset + I};
  }
  return Trigger{std::string(Method), std::string(Path)};
}

namespace {

/// One "key" or "key=value" item of an option list.
struct Option {
  std::string_view Key, Value;
  size_t KeyOffset = 0, ValueOffset = 0;
  bool HasValue = false;
};

std::vector<Option> splitOptions(std::string_view Text) {
  std::vector<Option> Out;
  size_t Pos = 0;
  auto IsSpace = [](char C) { return C == ' ' || C == '\t'; };
  while (Pos <= Text.size()) {
    size_t End = Text.find(',', Pos);
    if (End == std::string_view::npos)
      End = Text.size();
    size_t B = Pos, E = End;
    while (B < E && IsSpace(Text[B]))
      ++B;
    while (E > B && IsSpace(Text[E - 1]))
      --E;
    Option O;
    std::string_view Item = Text.substr(B, E - B);
    size_t Eq = Item.find('=');
    O.KeyOffset = B;
    if (Eq == std::string_view::npos) {
      O.Key = Item;
    } else {
      size_t KE = Eq;
      while (KE > 0 && IsSpace(Item[KE - 1]))
        --KE;
      size_t VB = Eq + 1;
      while (VB < Item.size() && IsSpace(Item[VB]))
        ++VB;
      O.Key = Item.substr(0, KE);
      O.Value = Item.substr(VB);
      O.ValueOffset = B + VB;
      O.HasValue = true;
    }
    // A trailing comma or an empty string yields an empty item: skip it
    // only when it is the whole text, so "memory=1,,gpu=1" is still caught.
    if (!(Item.empty() &&
          Text.find_first_not_of(" \t") == std::string_view::npos))
      Out.push_back(O);
    if (End == Text.size())
      break;
    Pos = End + 1;
  }
  return Out;
}

/// Applies each option through \p Apply, rejecting empty items, unknown keys
/// (Apply returns false) and keys given twice.
std::optional<AnnotationError> forEachOption(
    std::string_view Text, const char *Macro, const char *KeyList,
    const std::function<std::optional<AnnotationError>(const Option &,
                                                       bool &Known)> &Apply) {
  std::vector<std::string_view> Seen;
  for (const Option &O : splitOptions(Text)) {
    if (O.Key.empty())
      return AnnotationError{std::string("empty option in ") + Macro,
                             O.KeyOffset};
    for (std::string_view S : Seen)
      if (S == O.Key)
        return AnnotationError{
            "option '" + elide(O.Key) + "' is given twice", O.KeyOffset};
    Seen.push_back(O.Key);
    bool Known = true;
    if (auto Err = Apply(O, Known))
      return Err;
    if (!Known)
      return AnnotationError{"unknown option '" + elide(O.Key) + "' in " +
                                 Macro + "; expected " + KeyList,
                             O.KeyOffset};
  }
  return std::nullopt;
}

std::optional<AnnotationError> parseCount(const Option &O, unsigned &Out,
                                          bool AllowZero) {
  const char *What =
      AllowZero ? "a non-negative integer" : "a positive integer";
  if (!O.HasValue || O.Value.empty())
    return AnnotationError{
        "option '" + elide(O.Key) + "' expects " + What, O.KeyOffset};
  unsigned V = 0;
  const char *End = O.Value.data() + O.Value.size();
  auto [Ptr, Ec] = std::from_chars(O.Value.data(), End, V);
  if (Ec != std::errc() || Ptr != End || (!AllowZero && V == 0))
    return AnnotationError{"option '" + elide(O.Key) + "' expects " +
                               What + ", got '" + elide(O.Value) + "'",
                           O.ValueOffset};
  Out = V;
  return std::nullopt;
}

} // namespace

std::variant<Resources, AnnotationError>
parseFunctionOptions(std::string_view Text) {
  Resources R;
  auto Err = forEachOption(
      Text, "CLEAVE_FUNCTION",
      "memory, timeout, gpu, concurrency, isolate or auth",
      [&](const Option &O, bool &Known) -> std::optional<AnnotationError> {
        if (O.Key == "memory")
          return parseCount(O, R.MemoryMiB, /*AllowZero=*/false);
        if (O.Key == "timeout")
          return parseCount(O, R.TimeoutSec, /*AllowZero=*/false);
        if (O.Key == "gpu")
          return parseCount(O, R.Gpu, /*AllowZero=*/true);
        if (O.Key == "concurrency")
          return parseCount(O, R.Concurrency, /*AllowZero=*/false);
        if (O.Key == "isolate") {
          if (!O.HasValue || O.Value == "true") {
            R.Isolate = true;
            return std::nullopt;
          }
          if (O.Value == "false")
            return std::nullopt;
          return AnnotationError{"option 'isolate' takes no value or "
                                 "true/false, got '" +
                                     elide(O.Value) + "'",
                                 O.ValueOffset};
        }
        if (O.Key == "auth") {
          if (O.HasValue && (O.Value == "token" || O.Value == "none")) {
            R.Auth = O.Value;
            return std::nullopt;
          }
          return AnnotationError{"option 'auth' expects token or none" +
                                     (O.HasValue ? ", got '" +
                                                       elide(O.Value) + "'"
                                                 : std::string()),
                                 O.HasValue ? O.ValueOffset : O.KeyOffset};
        }
        Known = false;
        return std::nullopt;
      });
  if (Err)
    return *Err;
  return R;
}

std::variant<Consistency, AnnotationError>
parseStateOptions(std::string_view Text) {
  Consistency C = Consistency::Linearizable;
  auto Err = forEachOption(
      Text, "CLEAVE_STATE", "consistency",
      [&](const Option &O, bool &Known) -> std::optional<AnnotationError> {
        if (O.Key != "consistency") {
          Known = false;
          return std::nullopt;
        }
        if (O.Value == "linearizable")
          C = Consistency::Linearizable;
        else if (O.Value == "eventual")
          C = Consistency::Eventual;
        else
          return AnnotationError{"option 'consistency' expects linearizable "
                                 "or eventual, got '" +
                                     elide(O.Value) + "'",
                                 O.HasValue ? O.ValueOffset : O.KeyOffset};
        return std::nullopt;
      });
  if (Err)
    return *Err;
  return C;
}

} // namespace cleave
