//===- request-parts.cpp - Fuzz the parts of a request read as text -------===//
//
// The first byte picks what the rest is:
//   0: a request target for http::parseTarget, whose query then goes to
//      queryArgs;
//   1: one Idempotency-Key value for checkIdempotencyKey;
//   2: Idempotency-Key values separated by '\n';
//   3: query pairs for queryArgs, each key and value a length byte and that
//      many bytes (any bytes, NUL included, which a target cannot carry).
// parseTarget is checked against a reference parser written here from the
// rules Http.h and Http.cpp state (origin-form, absolute-form and '*'; no
// fragment; strict %XX escapes, none of them NUL; an encoded '/' kept as
// "%2F" in the path; '+' a space in the query; empty pairs skipped, a pair
// without a name refused); a target that parses re-encodes to one that
// parses to the same parts. checkIdempotencyKey takes exactly one value of
// 1 to 255 bytes in 0x21..0x7e. queryArgs prints a JSON object of the pairs
// in order, or names the first repeated parameter, or says the text is not
// UTF-8.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "cleave/Http.h"
#include "cleave/Server.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace cleave::rt;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;


struct Parts {
  std::string Path;
  Pairs Query;
};

bool isHex(char C) {
  return C != '\0' && std::strchr("0123456789abcdefABCDEF", C) != nullptr;
}

bool isUnreserved(unsigned char C) {
  return (C >= 'a' && C <= 'z') || (C >= 'A' && C <= 'Z') ||
         (C >= '0' && C <= '9') || C == '-' || C == '.' || C == '_' || C == '~';
}

/// The reference percent-decoder: "%" and two hex digits is a byte, which
/// may not be NUL; in the query '+' is a space; in the path an encoded '/'
/// stays "%2F".
std::optional<std::string> referenceDecode(std::string_view In, bool Query) {
  std::string Out;
  for (size_t I = 0; I < In.size();) {
    if (In[I] != '%') {
      Out += Query && In[I] == '+' ? ' ' : In[I];
      ++I;
      continue;
    }
    if (In.size() - I < 3 || !isHex(In[I + 1]) || !isHex(In[I + 2]))
      return std::nullopt;
    unsigned long Byte = std::stoul(std::string(In.substr(I + 1, 2)), nullptr,
                                    /*base=*/16);
    if (Byte == 0)
      return std::nullopt;
    if (Byte == '/' && !Query)
      Out += "%2F";
    else
      Out += static_cast<char>(Byte);
    I += 3;
  }
  return Out;
}

/// The raw path of \p Target once an absolute-form prefix is dropped, or
/// nothing when no path can be read from it; "*" stays "*".
std::optional<std::string> referenceOriginForm(std::string_view Target) {
  for (std::string_view Scheme : {"http://", "https://"}) {
    if (lower(Target.substr(0, Scheme.size())) != Scheme)
      continue;
    std::string_view Rest = Target.substr(Scheme.size());
    size_t Start = Rest.find_first_of("/?");
    if (Start == std::string_view::npos)
      return std::string("/");
    if (Rest[Start] == '?')
      return std::nullopt;
    return std::string(Rest.substr(Start));
  }
  return std::string(Target);
}

std::optional<Parts> referenceParse(std::string_view Target) {
  std::optional<std::string> Origin = referenceOriginForm(Target);
  if (!Origin)
    return std::nullopt;
  if (*Origin == "*")
    return Parts{"*", {}};
  if (Origin->empty() || (*Origin)[0] != '/' ||
      Origin->find('#') != std::string::npos)
    return std::nullopt;
  size_t Mark = Origin->find('?');
  std::optional<std::string> Path =
      referenceDecode(std::string_view(*Origin).substr(0, Mark), false);
  if (!Path)
    return std::nullopt;
  Parts P{*Path, {}};
  if (Mark == std::string::npos)
    return P;
  // Split on every '&', then each piece at its first '='.
  std::string Query = Origin->substr(Mark + 1);
  std::vector<std::string> Pieces(1);
  for (char C : Query) {
    if (C == '&')
      Pieces.emplace_back();
    else
      Pieces.back() += C;
  }
  for (const std::string &Piece : Pieces) {
    if (Piece.empty())
      continue;
    size_t Eq = Piece.find('=');
    std::optional<std::string> Key =
        referenceDecode(std::string_view(Piece).substr(0, Eq), true);
    if (!Key || Key->empty())
      return std::nullopt;
    std::string Value;
    if (Eq != std::string::npos) {
      std::optional<std::string> V =
          referenceDecode(std::string_view(Piece).substr(Eq + 1), true);
      if (!V)
        return std::nullopt;
      Value = *V;
    }
    P.Query.emplace_back(*Key, Value);
  }
  return P;
}

/// Percent-encodes every byte but the unreserved ones (and '/' in a path).
/// A space in the query is written as '+' or as "%20" by turns, since
/// both must read back as a space.
std::string encode(std::string_view S, bool Query, bool PlusForSpace) {
  static const char Digits[] = "0123456789ABCDEF";
  std::string Out;
  for (unsigned char C : S) {
    if (isUnreserved(C) || (!Query && C == '/')) {
      Out += static_cast<char>(C);
    } else if (Query && PlusForSpace && C == ' ') {
      Out += '+';
    } else {
      Out += '%';
      Out += Digits[C >> 4];
      Out += Digits[C & 15];
    }
  }
  return Out;
}

size_t count(std::string_view S, char C) {
  size_t N = 0;
  for (char D : S)
    N += D == C;
  return N;
}

void checkQueryArgs(const Pairs &Query);

void checkTarget(std::string_view Target) {
  std::string Path = "unset";
  Pairs Query{{"unset", "unset"}};
  // The view ends where the input does, so a read past it is ASan's
  // (fuzz/regressions/request-parts/scheme-case-overread).
  Result<void> R = http::parseTarget(Target, Path, Query);
  std::optional<Parts> Expected = referenceParse(Target);
  FUZZ_CHECK(bool(R) == Expected.has_value(),
             "parseTarget accepts exactly what the reference parser does");
  if (!R) {
    FUZZ_CHECK(!R.error().message().empty(), "a refusal says why");
    return;
  }
  FUZZ_CHECK(Path == Expected->Path, "the decoded path is the reference's");
  FUZZ_CHECK(Query == Expected->Query, "the query pairs are the reference's");
  for (const auto &[K, V] : Query)
    FUZZ_CHECK(!K.empty(), "a query parameter has a name");
  // A literal NUL is the caller's to refuse (Beast takes no control
  // character in a target), and encoded it would be refused: the checks
  // below are for the targets a request can carry.
  if (Target.find('\0') != std::string_view::npos) {
    checkQueryArgs(Query);
    return;
  }
  FUZZ_CHECK(Path.find('\0') == std::string::npos,
             "a decoded path holds no NUL");
  for (const auto &[K, V] : Query)
    FUZZ_CHECK(K.find('\0') == std::string::npos &&
                   V.find('\0') == std::string::npos,
               "a decoded query pair holds no NUL");
  if (Path == "*") {
    FUZZ_CHECK(Query.empty(), "'*' has no query");
    return;
  }
  // An escape never makes a separator: the decoded path has the slashes
  // the raw one spells, and an encoded one reads "%2F".
  std::string Raw = *referenceOriginForm(Target);
  Raw = Raw.substr(0, Raw.find('?'));
  FUZZ_CHECK(count(Path, '/') == count(Raw, '/'),
             "the decoded path has exactly the literal slashes");
  auto Occurrences = [](std::string_view S, std::string_view What) {
    size_t N = 0;
    for (size_t At = S.find(What); At != std::string_view::npos;
         At = S.find(What, At + 1))
      ++N;
    return N;
  };
  FUZZ_CHECK(Occurrences(Path, "%2F") >= Occurrences(lower(Raw), "%2f"),
             "each encoded slash stays \"%2F\"");

  // Round trip: the parts re-encoded parse to the same parts.
  std::string Again = encode(Path, /*Query=*/false, false);
  for (size_t I = 0; I < Query.size(); ++I) {
    Again += I == 0 ? '?' : '&';
    Again += encode(Query[I].first, true, I % 2 == 0);
    Again += '=';
    Again += encode(Query[I].second, true, I % 2 == 1);
  }
  std::string Path2;
  Pairs Query2;
  Result<void> R2 = http::parseTarget(Again, Path2, Query2);
  if (!R2)
    std::fprintf(stderr, "re-encoded target: %s\n  %s\n", Again.c_str(),
                 R2.error().message().c_str());
  FUZZ_CHECK(R2, "a re-encoded target parses");
  FUZZ_CHECK(Path2 == Path, "a re-encoded path decodes to the same path");
  FUZZ_CHECK(Query2 == Query, "re-encoded query pairs decode to the same");
  checkQueryArgs(Query);
}

/// UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing
/// past U+10FFFF.
bool validUtf8(std::string_view S) {
  for (size_t I = 0; I < S.size();) {
    unsigned char C = S[I];
    size_t Len;
    uint32_t Code;
    if (C < 0x80) {
      ++I;
      continue;
    }
    if (C >= 0xC2 && C <= 0xDF) {
      Len = 2;
      Code = C & 0x1F;
    } else if (C >= 0xE0 && C <= 0xEF) {
      Len = 3;
      Code = C & 0x0F;
    } else if (C >= 0xF0 && C <= 0xF4) {
      Len = 4;
      Code = C & 0x07;
    } else {
      return false;
    }
    if (S.size() - I < Len)
      return false;
    for (size_t K = 1; K < Len; ++K) {
      unsigned char D = S[I + K];
      if ((D & 0xC0) != 0x80)
        return false;
      Code = Code << 6 | (D & 0x3F);
    }
    static const uint32_t Least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (Code < Least[Len] || Code > 0x10FFFF ||
        (Code >= 0xD800 && Code <= 0xDFFF))
      return false;
    I += Len;
  }
  return true;
}

void checkQueryArgs(const Pairs &Query) {
  http::Request Req;
  Req.Query = Query;
  Result<std::string> R = queryArgs(Req);

  std::optional<std::string> Repeated;
  std::set<std::string> Keys;
  bool Utf8 = true;
  for (const auto &[K, V] : Query) {
    if (!Keys.insert(K).second && !Repeated)
      Repeated = K;
    Utf8 &= validUtf8(K) && validUtf8(V);
  }
  if (Repeated) {
    FUZZ_CHECK(!R, "a repeated parameter is refused");
    FUZZ_CHECK(R.error().message() == "query parameter '" + *Repeated +
                                          "' is given more than once",
               "the refusal names the first repeated parameter");
    return;
  }
  if (!Utf8) {
    FUZZ_CHECK(!R, "a parameter that is not UTF-8 is refused");
    FUZZ_CHECK(R.error().message() == "query string is not valid UTF-8",
               "the refusal says the text is not UTF-8");
    return;
  }
  FUZZ_CHECK(R, "distinct UTF-8 parameters are accepted");
  nlohmann::ordered_json J =
      nlohmann::ordered_json::parse(*R, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(J.is_object(), "the arguments are a JSON object");
  FUZZ_CHECK(J.size() == Query.size(), "one member per parameter");
  size_t I = 0;
  for (auto It = J.begin(); It != J.end(); ++It, ++I) {
    FUZZ_CHECK(It.key() == Query[I].first, "members keep the query's order");
    FUZZ_CHECK(It.value().is_string() &&
                   It.value().get<std::string>() == Query[I].second,
               "each member is its parameter's value as a string");
  }
}

void checkIdempotency(const std::vector<std::string_view> &Values) {
  Result<void> R = checkIdempotencyKey(Values);
  bool Expected = true;
  if (Values.size() > 1) {
    Expected = false;
  } else if (Values.size() == 1) {
    std::string_view K = Values[0];
    Expected = !K.empty() && K.size() <= 255;
    for (unsigned char C : K)
      Expected = Expected && C >= 0x21 && C <= 0x7e;
  }
  FUZZ_CHECK(bool(R) == Expected,
             "a key is accepted exactly when it is given once, as 1 to 255 "
             "visible ASCII characters");
  if (!R)
    FUZZ_CHECK(!R.error().message().empty(), "a refusal says why");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  if (Size == 0)
    return 0;
  std::string_view Rest(reinterpret_cast<const char *>(Data) + 1, Size - 1);
  switch (Data[0] % 4) {
  case 0:
    checkTarget(Rest);
    break;
  case 1:
    checkIdempotency({Rest});
    break;
  case 2: {
    std::vector<std::string_view> Values;
    for (size_t Start = 0;;) {
      size_t End = Rest.find('\n', Start);
      Values.push_back(Rest.substr(Start, End - Start));
      if (End == std::string_view::npos)
        break;
      Start = End + 1;
    }
    checkIdempotency(Values);
    break;
  }
  case 3: {
    Pairs Query;
    auto Take = [&Rest] {
      size_t N = Rest.empty() ? 0 : static_cast<unsigned char>(Rest[0]);
      Rest.remove_prefix(Rest.empty() ? 0 : 1);
      std::string S(Rest.substr(0, N));
      Rest.remove_prefix(S.size());
      return S;
    };
    while (!Rest.empty()) {
      std::string K = Take();
      Query.emplace_back(K, Take());
    }
    checkQueryArgs(Query);
    break;
  }
  }
  return 0;
}
