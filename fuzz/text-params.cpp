//===- text-params.cpp - Fuzz parameters given as query text --------------===//
//
// The first byte picks a type, the rest is the parameter's text, decoded as
// decodeText decodes a query-string parameter. Integers, bools and
// enumerators are checked against a parser written here from the rules the
// codec documents (decimal digits with an optional '-', nothing else; true,
// false, 1, 0; an enumerator's name or its underlying integer); a double
// that decodes prints as text that decodes to the same double; a string is
// the text itself; any other type is read as its JSON text would be.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"
#include "Types.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using namespace cleave::codec;

namespace {

/// Decodes \p S as a T; whether it was accepted.
template <class T> bool decodeAs(const std::string &S, T &V) {
  try {
    decodeText(S, V, Path{nullptr, "p"});
    return true;
  } catch (const DecodeError &E) {
    FUZZ_CHECK(!E.Message.empty(), "a refusal says why");
    return false;
  }
}

/// The reference reading of an integer parameter: -?[0-9]+ within T.
template <class T> std::optional<T> referenceInteger(const std::string &S) {
  size_t I = 0;
  bool Negative = !S.empty() && S[0] == '-';
  if (Negative && !std::is_signed_v<T>)
    return std::nullopt;
  if (Negative)
    ++I;
  if (I == S.size())
    return std::nullopt;
  // Accumulate toward the sign so that the minimum of T fits.
  T V = 0;
  for (; I < S.size(); ++I) {
    if (S[I] < '0' || S[I] > '9')
      return std::nullopt;
    T D = static_cast<T>(S[I] - '0');
    if (Negative) {
      if (V < (std::numeric_limits<T>::min() + D) / 10)
        return std::nullopt;
      V = static_cast<T>(V * 10 - D);
    } else {
      if (V > (std::numeric_limits<T>::max() - D) / 10)
        return std::nullopt;
      V = static_cast<T>(V * 10 + D);
    }
  }
  return V;
}

template <class T> void checkInteger(const std::string &S) {
  T V{};
  bool Accepted = decodeAs(S, V);
  std::optional<T> Expected = referenceInteger<T>(S);
  FUZZ_CHECK(Accepted == Expected.has_value(),
             "an integer is accepted exactly when it is -?[0-9]+ in range");
  if (Accepted)
    FUZZ_CHECK(V == *Expected, "an integer reads as its digits say");
}

template <class T> void checkFloating(const std::string &S) {
  T V{};
  if (!decodeAs(S, V))
    return;
  if (std::isnan(V)) {
    FUZZ_CHECK(S == "NaN", "only NaN spells a NaN");
    return;
  }
  if (std::isinf(V)) {
    FUZZ_CHECK(S == "Infinity" || S == "-Infinity",
               "only Infinity and -Infinity spell an infinity");
    return;
  }
  char Buf[64];
  std::snprintf(Buf, sizeof(Buf), "%.17g", static_cast<double>(V));
  T Again{};
  FUZZ_CHECK(decodeAs(std::string(Buf), Again), "a printed number decodes");
  FUZZ_CHECK(std::memcmp(&Again, &V, sizeof(T)) == 0,
             "a printed number decodes to the same bits");
}

void checkBool(const std::string &S) {
  bool V = false;
  bool Accepted = decodeAs(S, V);
  bool Known = S == "true" || S == "1" || S == "false" || S == "0";
  FUZZ_CHECK(Accepted == Known, "a bool is true, false, 1 or 0");
  if (Accepted)
    FUZZ_CHECK(V == (S == "true" || S == "1"), "a bool reads as it says");
}

void checkEnum(const std::string &S) {
  Side V{};
  bool Accepted = decodeAs(S, V);
  using U = std::underlying_type_t<Side>;
  std::optional<U> Raw = referenceInteger<U>(S);
  if (S == "Buy" || S == "Sell") {
    FUZZ_CHECK(Accepted && V == (S == "Buy" ? Side::Buy : Side::Sell),
               "an enumerator's name reads as that enumerator");
    return;
  }
  FUZZ_CHECK(Accepted == Raw.has_value(),
             "an enumeration takes a name or its underlying integer");
  if (Accepted)
    FUZZ_CHECK(static_cast<U>(V) == *Raw, "an integer enumerator reads as is");
}

/// Types without a text form are read as their JSON text.
template <class T> void checkAsJson(const std::string &S) {
  T V{};
  bool Accepted = decodeAs(S, V);
  Json J;
  std::string Error;
  bool Expected = false;
  T W{};
  if (parseJson(S, J, Error)) {
    try {
      decode(J, W, Path{nullptr, "p"});
      Expected = true;
    } catch (const DecodeError &) {
    }
  }
  FUZZ_CHECK(Accepted == Expected, "text decodes as its JSON does");
  if (Accepted) {
    Json A, B;
    encode(A, V);
    encode(B, W);
    FUZZ_CHECK(A == B, "text decodes to what its JSON decodes to");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  if (Size == 0)
    return 0;
  std::string S(reinterpret_cast<const char *>(Data) + 1, Size - 1);
  switch (Data[0] % 12) {
  case 0:
    checkInteger<long>(S);
    break;
  case 1:
    checkInteger<int>(S);
    break;
  case 2:
    checkInteger<unsigned short>(S);
    break;
  case 3:
    checkInteger<std::uint64_t>(S);
    break;
  case 4:
    checkInteger<std::int8_t>(S);
    break;
  case 5:
    checkFloating<double>(S);
    break;
  case 6:
    checkFloating<float>(S);
    break;
  case 7:
    checkBool(S);
    break;
  case 8:
    checkEnum(S);
    break;
  case 9: {
    std::string V;
    FUZZ_CHECK(decodeAs(S, V) && V == S, "a string is its text");
    break;
  }
  case 10: {
    std::optional<long> V;
    long L = 0;
    bool Plain = decodeAs(S, L);
    FUZZ_CHECK(decodeAs(S, V) == Plain, "an optional reads as its value");
    if (Plain)
      FUZZ_CHECK(V && *V == L, "an optional holds what its value reads");
    break;
  }
  case 11:
    checkAsJson<std::vector<long>>(S);
    checkAsJson<Line>(S);
    break;
  }
  return 0;
}
