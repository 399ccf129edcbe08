//===- codec.h - JSON encoding of values for generated handlers -*- C++ -*-===//
//
// Support for the serializers that `cleave build` generates. The compiler
// writes one `Codec<T>` specialization per user struct it needs; this header
// provides the rest: arithmetic types, bool, enums, std::string, std::vector,
// std::map and std::unordered_map with string keys, std::optional.
//
// Decoding is strict and says where it failed: a DecodeError carries the path
// of the offending field ("o.lines[2].qty") and what was wrong with it.
// Included by generated code only, in C++17 or later.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_CODEC_H
#define CLEAVE_CODEC_H

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace cleave {
namespace codec {

using Json = nlohmann::json;

/// Where a decoder is in the argument object. A chain of frames on the stack,
/// so building it costs nothing unless an error is reported.
struct Path {
  const Path *Parent = nullptr;
  const char *Key = nullptr; // a member or parameter name, or
  size_t Index = 0;          // an array index when Key is null
  const std::string *MapKey = nullptr;

  std::string str() const {
    std::string Prefix = Parent ? Parent->str() : std::string();
    if (MapKey)
      return Prefix + "[\"" + *MapKey + "\"]";
    if (!Key)
      return Prefix + "[" + std::to_string(Index) + "]";
    return Prefix.empty() ? std::string(Key) : Prefix + "." + Key;
  }
};

/// A value that does not fit the C++ type it is decoded into.
class DecodeError : public std::runtime_error {
public:
  DecodeError(std::string Field, const std::string &Message)
      : std::runtime_error(Field.empty() ? Message : Field + ": " + Message),
        Field(std::move(Field)), Message(Message) {}
  std::string Field;
  std::string Message;
};

[[noreturn]] inline void fail(const Path &P, const std::string &Message) {
  throw DecodeError(P.str(), Message);
}

inline const char *kindOf(const Json &J) {
  switch (J.type()) {
  case Json::value_t::null:
    return "null";
  case Json::value_t::boolean:
    return "a boolean";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned:
    return "an integer";
  case Json::value_t::number_float:
    return "a number";
  case Json::value_t::string:
    return "a string";
  case Json::value_t::array:
    return "an array";
  case Json::value_t::object:
    return "an object";
  default:
    return "an unsupported value";
  }
}

/// The primary template is left undefined: a type without a codec is a
/// compile error in the generated code, never a silent fallback.
template <class T, class Enable = void> struct Codec;

template <> struct Codec<bool> {
  static void encode(Json &J, bool V) { J = V; }
  static void decode(const Json &J, bool &V, const Path &P) {
    if (!J.is_boolean())
      fail(P, std::string("expected a boolean, got ") + kindOf(J));
    V = J.get<bool>();
  }
  static void decodeText(const std::string &S, bool &V, const Path &P) {
    if (S == "true" || S == "1")
      V = true;
    else if (S == "false" || S == "0")
      V = false;
    else
      fail(P, "expected true or false, got '" + S + "'");
  }
};

template <class T>
struct Codec<
    T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static void encode(Json &J, T V) {
    if constexpr (std::is_signed_v<T>)
      J = static_cast<std::int64_t>(V);
    else
      J = static_cast<std::uint64_t>(V);
  }
  static void decode(const Json &J, T &V, const Path &P) {
    if (J.is_number_unsigned()) {
      auto U = J.get<std::uint64_t>();
      if (U > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        fail(P, "integer " + std::to_string(U) + " is out of range");
      V = static_cast<T>(U);
      return;
    }
    if (J.is_number_integer()) {
      auto I = J.get<std::int64_t>();
      if (I < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
          (I > 0 &&
           static_cast<std::uint64_t>(I) >
               static_cast<std::uint64_t>(std::numeric_limits<T>::max())))
        fail(P, "integer " + std::to_string(I) + " is out of range");
      V = static_cast<T>(I);
      return;
    }
    if (J.is_number_float()) {
      double D = J.get<double>();
      if (std::trunc(D) == D &&
          D >= static_cast<double>(std::numeric_limits<T>::min()) &&
          D <= static_cast<double>(std::numeric_limits<T>::max())) {
        V = static_cast<T>(D);
        return;
      }
      fail(P, "expected an integer, got " + J.dump());
    }
    fail(P, std::string("expected an integer, got ") + kindOf(J));
  }
  static void decodeText(const std::string &S, T &V, const Path &P) {
    const char *End = S.data() + S.size();
    auto [Ptr, Ec] = std::from_chars(S.data(), End, V);
    if (Ec == std::errc::result_out_of_range)
      fail(P, "integer '" + S + "' is out of range");
    if (Ec != std::errc() || Ptr != End || S.empty())
      fail(P, "expected an integer, got '" + S + "'");
  }
};

template <class T>
struct Codec<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static void encode(Json &J, T V) { J = static_cast<double>(V); }
  static void decode(const Json &J, T &V, const Path &P) {
    if (!J.is_number())
      fail(P, std::string("expected a number, got ") + kindOf(J));
    V = static_cast<T>(J.get<double>());
  }
  static void decodeText(const std::string &S, T &V, const Path &P) {
    // strtod rather than from_chars: libstdc++ 12 has floating from_chars,
    // but older ones do not, and user code may build with them.
    char *End = nullptr;
    errno = 0;
    double D = std::strtod(S.c_str(), &End);
    if (S.empty() || End != S.c_str() + S.size() || errno == ERANGE)
      fail(P, "expected a number, got '" + S + "'");
    V = static_cast<T>(D);
  }
};

template <class T> struct Codec<T, std::enable_if_t<std::is_enum_v<T>>> {
  using U = std::underlying_type_t<T>;
  static void encode(Json &J, T V) { Codec<U>::encode(J, static_cast<U>(V)); }
  static void decode(const Json &J, T &V, const Path &P) {
    U Raw{};
    Codec<U>::decode(J, Raw, P);
    V = static_cast<T>(Raw);
  }
  static void decodeText(const std::string &S, T &V, const Path &P) {
    U Raw{};
    Codec<U>::decodeText(S, Raw, P);
    V = static_cast<T>(Raw);
  }
};

template <> struct Codec<std::string> {
  static void encode(Json &J, const std::string &V) { J = V; }
  static void decode(const Json &J, std::string &V, const Path &P) {
    if (!J.is_string())
      fail(P, std::string("expected a string, got ") + kindOf(J));
    V = J.get_ref<const std::string &>();
  }
  static void decodeText(const std::string &S, std::string &V, const Path &) {
    V = S;
  }
};

template <class T, class A> struct Codec<std::vector<T, A>> {
  static void encode(Json &J, const std::vector<T, A> &V) {
    J = Json::array();
    auto &Arr = J.get_ref<Json::array_t &>();
    Arr.reserve(V.size());
    for (const auto &E : V) {
      Arr.emplace_back();
      Codec<T>::encode(Arr.back(), E);
    }
  }
  static void decode(const Json &J, std::vector<T, A> &V, const Path &P) {
    if (!J.is_array())
      fail(P, std::string("expected an array, got ") + kindOf(J));
    V.clear();
    V.reserve(J.size());
    size_t I = 0;
    for (const auto &E : J) {
      Path Sub{&P, nullptr, I++};
      T Item{};
      Codec<T>::decode(E, Item, Sub);
      V.push_back(std::move(Item));
    }
  }
};

/// std::map and std::unordered_map with std::string keys: a JSON object.
template <class M> struct MapCodec {
  using T = typename M::mapped_type;
  static void encode(Json &J, const M &V) {
    J = Json::object();
    for (const auto &[K, E] : V)
      Codec<T>::encode(J[K], E);
  }
  static void decode(const Json &J, M &V, const Path &P) {
    if (!J.is_object())
      fail(P, std::string("expected an object, got ") + kindOf(J));
    V.clear();
    for (auto It = J.begin(); It != J.end(); ++It) {
      Path Sub{&P, nullptr, 0, &It.key()};
      T Item{};
      Codec<T>::decode(It.value(), Item, Sub);
      V.emplace(It.key(), std::move(Item));
    }
  }
};
template <class T, class C, class A>
struct Codec<std::map<std::string, T, C, A>>
    : MapCodec<std::map<std::string, T, C, A>> {};
template <class T, class H, class E, class A>
struct Codec<std::unordered_map<std::string, T, H, E, A>>
    : MapCodec<std::unordered_map<std::string, T, H, E, A>> {};

template <class T> struct Codec<std::optional<T>> {
  static void encode(Json &J, const std::optional<T> &V) {
    if (V)
      Codec<T>::encode(J, *V);
    else
      J = nullptr;
  }
  static void decode(const Json &J, std::optional<T> &V, const Path &P) {
    if (J.is_null()) {
      V.reset();
      return;
    }
    T Item{};
    Codec<T>::decode(J, Item, P);
    V = std::move(Item);
  }
};

template <class T> struct IsOptional : std::false_type {};
template <class T> struct IsOptional<std::optional<T>> : std::true_type {};

template <class T, class = void> struct HasDecodeText : std::false_type {};
template <class T>
struct HasDecodeText<T,
                     std::void_t<decltype(Codec<T>::decodeText(
                         std::declval<const std::string &>(),
                         std::declval<T &>(), std::declval<const Path &>()))>>
    : std::true_type {};

template <class T> void encode(Json &J, const T &V) { Codec<T>::encode(J, V); }

template <class T> void decode(const Json &J, T &V, const Path &P) {
  Codec<T>::decode(J, V, P);
}

/// Decodes member \p Key of object \p J into \p V. A missing member is an
/// error unless \p V is a std::optional, which is then left empty.
template <class T>
void decodeMember(const Json &J, const char *Key, T &V, const Path &P) {
  Path Sub{&P, Key};
  auto It = J.find(Key);
  if (It == J.end()) {
    if constexpr (IsOptional<T>::value) {
      V.reset();
      return;
    } else {
      fail(Sub, "missing field");
    }
  }
  Codec<T>::decode(*It, V, Sub);
}

template <class T> void encodeMember(Json &J, const char *Key, const T &V) {
  Codec<T>::encode(J[Key], V);
}

/// Decodes a value given as text (a query-string parameter): scalars and
/// strings are parsed by their type, anything else as JSON text.
template <class T> void decodeText(const std::string &S, T &V, const Path &P) {
  if constexpr (IsOptional<T>::value) {
    typename T::value_type Item{};
    decodeText(S, Item, P);
    V = std::move(Item);
  } else if constexpr (HasDecodeText<T>::value) {
    Codec<T>::decodeText(S, V, P);
  } else {
    Json J = Json::parse(S, nullptr, /*allow_exceptions=*/false);
    if (J.is_discarded())
      fail(P, "expected JSON text, got '" + S + "'");
    Codec<T>::decode(J, V, P);
  }
}

} // namespace codec
} // namespace cleave

#endif // CLEAVE_CODEC_H
