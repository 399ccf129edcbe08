//===- codec.h - JSON encoding of values for generated handlers -*- C++ -*-===//
//
// Support for the serializers that `cleave build` generates. The compiler
// writes one `Codec<T>` specialization per user struct it needs, and one
// `EnumNames<E>` table per enumeration; this header provides the rest: bool,
// every integer and floating type, enumerations (by enumerator name),
// std::string, the sequence containers (vector, deque, list, array), the sets
// and maps (ordered, unordered, multi), pair, tuple, optional, variant and
// monostate.
//
// JSON forms, in short (docs/annotations.md has the full table):
//   integers, floating    a number, decoded exactly or refused
//   enumerations          "Name" (the underlying integer when unnamed)
//   sequences, sets       [e, ...]
//   maps                  {"key": v, ...} for string, integer and enum keys,
//                         [[k, v], ...] for other keys and for multimaps
//   pair, tuple           [a, b, ...]
//   optional              the value, or null
//   variant               {"index": i, "value": v}
//
// Unordered containers encode their elements in the order of their encoded
// JSON, so that equal containers print equally whatever their bucket order.
//
// Decoding is strict and says where it failed: a DecodeError carries the path
// of the offending field ("o.lines[2].qty") and what was wrong with it.
// Included by generated code only, in C++17 or later.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_CODEC_H
#define CLEAVE_CODEC_H

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
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

/// How deeply JSON text may nest arrays and objects. Decoding a value
/// recurses once per level (a struct that holds itself through a vector
/// nests as deeply as its data), so text nested deeper is refused before it
/// is decoded: 400 at the door, never a stack overflow.
constexpr std::size_t MaxJsonDepth = 512;

// The parts of JSON handling that are the same for every program (the
// parser, the printer, sorting) are compiled once, into the runtime's
// support library (libcleave_support.a, runtime/lib/JsonSupport.cpp),
// which every handler library links: a generated unit does not instantiate
// nlohmann's parser and serializer again.

/// Parses JSON text into \p Out; false, with \p Error saying why and where,
/// when it is not JSON. A number written with a fraction or an exponent
/// that is exactly an integer (`3.0`, `1e3`) is kept as that integer when it
/// fits 64 bits, so that an integer field takes it; any other such number
/// is a double, which an integer field refuses (nlohmann::json alone would
/// read `1.00000000000000001` as the double 1.0). A NUL byte is refused
/// wherever it is, and text nested deeper than MaxJsonDepth before it is
/// decoded.
bool parseJson(const char *Data, size_t Len, Json &Out, std::string &Error);
inline bool parseJson(const std::string &Text, Json &Out, std::string &Error) {
  return parseJson(Text.data(), Text.size(), Out, Error);
}

/// Whether decimal number text \p Raw (JSON syntax) is an integer, and its
/// magnitude when that fits 64 bits.
bool exactInteger(const std::string &Raw, std::uint64_t &Magnitude,
                  bool &Negative);

/// \p J as compact JSON text, invalid UTF-8 in its strings replaced by
/// U+FFFD: what a handler answers.
std::string dumpJson(const Json &J);

namespace detail {
/// Sorts JSON values by nlohmann's order (the encoding of unordered
/// containers).
void sortJson(Json::array_t &Values);
} // namespace detail

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

template <class T> void encode(Json &J, const T &V) { Codec<T>::encode(J, V); }

template <class T> void decode(const Json &J, T &V, const Path &P) {
  Codec<T>::decode(J, V, P);
}

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
  static bool fitsUnsigned(std::uint64_t U) {
    return U <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
  }
  static bool fitsSigned(std::int64_t I) {
    if (I < 0)
      return std::is_signed_v<T> &&
             I >= static_cast<std::int64_t>(std::numeric_limits<T>::min());
    return fitsUnsigned(static_cast<std::uint64_t>(I));
  }
  static void decode(const Json &J, T &V, const Path &P) {
    if (J.is_number_unsigned()) {
      auto U = J.get<std::uint64_t>();
      if (!fitsUnsigned(U))
        fail(P, "integer " + std::to_string(U) + " is out of range");
      V = static_cast<T>(U);
      return;
    }
    if (J.is_number_integer()) {
      auto I = J.get<std::int64_t>();
      if (!fitsSigned(I))
        fail(P, "integer " + std::to_string(I) + " is out of range");
      V = static_cast<T>(I);
      return;
    }
    if (J.is_number_float()) {
      // parseJson keeps every number that is exactly an integer of 64 bits
      // as one: a double here has a fraction (maybe too small for a double
      // to show, as in 1e-400), is out of range, or is -0.0, which is a
      // double's value.
      double D = J.get<double>();
      if (!std::isfinite(D) || std::trunc(D) != D ||
          std::fabs(D) < 9223372036854775808.0)
        fail(P, "expected an integer, got " + dumpJson(J));
      fail(P, "number " + dumpJson(J) + " is out of range");
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

/// float, double and long double travel as a JSON double: a long double is
/// rounded to double on the way out. JSON has no number for NaN and the
/// infinities: they travel as the strings "NaN", "Infinity" and "-Infinity"
/// (the convention of Protocol Buffers' JSON mapping), so that a value, a
/// state variable in particular, comes back as it was.
template <class T>
struct Codec<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static void encode(Json &J, T V) {
    if (std::isnan(V))
      J = "NaN";
    else if (std::isinf(V))
      J = V > 0 ? "Infinity" : "-Infinity";
    else
      J = static_cast<double>(V);
  }
  /// The value a spelling of NaN or an infinity names, if it is one.
  static bool nonFinite(const std::string &S, T &V) {
    if (S == "NaN")
      V = std::numeric_limits<T>::quiet_NaN();
    else if (S == "Infinity")
      V = std::numeric_limits<T>::infinity();
    else if (S == "-Infinity")
      V = -std::numeric_limits<T>::infinity();
    else
      return false;
    return true;
  }
  static void check(double D, const std::string &Shown, const Path &P) {
    if (!std::isfinite(D))
      fail(P, "number " + Shown + " is not finite");
    if constexpr (sizeof(T) < sizeof(double))
      if (std::fabs(D) > static_cast<double>(std::numeric_limits<T>::max()))
        fail(P, "number " + Shown + " is out of range");
  }
  static void decode(const Json &J, T &V, const Path &P) {
    if (J.is_string() && nonFinite(J.get_ref<const std::string &>(), V))
      return;
    if (!J.is_number())
      fail(P, std::string("expected a number, got ") + kindOf(J));
    double D = J.get<double>();
    check(D, dumpJson(J), P);
    V = static_cast<T>(D);
  }
  static void decodeText(const std::string &S, T &V, const Path &P) {
    if (nonFinite(S, V))
      return;
    // strtod rather than from_chars: libstdc++ 12 has floating from_chars,
    // but older ones do not, and user code may build with them.
    char *End = nullptr;
    errno = 0;
    double D = S.empty() || std::isspace(static_cast<unsigned char>(S[0]))
                   ? 0
                   : std::strtod(S.c_str(), &End);
    if (S.empty() || End != S.c_str() + S.size())
      fail(P, "expected a number, got '" + S + "'");
    // ERANGE also flags a subnormal result such as 4.9e-324, which is the
    // value written; only an overflow, or an underflow to zero, is refused.
    if (errno == ERANGE && (std::isinf(D) || D == 0))
      fail(P, "number '" + S + "' is out of range");
    check(D, "'" + S + "'", P);
    V = static_cast<T>(D);
  }
};

/// One enumerator and its name, as the compiler lists them.
template <class E> struct EnumName {
  E Value;
  const char *Name;
};

/// The enumerators of E. The compiler generates one specialization per
/// enumeration that crosses a boundary:
/// \code
///   template <> struct EnumNames<::Side> {
///     static constexpr EnumName<::Side> Table[] = {
///         {::Side::Buy, "Buy"}, {::Side::Sell, "Sell"}};
///   };
/// \endcode
/// An enumeration without one (or without enumerators) travels as its
/// underlying integer.
template <class E> struct EnumNames;

namespace detail {
template <class E, class = void> struct HasEnumNames : std::false_type {};
template <class E>
struct HasEnumNames<E, std::void_t<decltype(EnumNames<E>::Table)>>
    : std::true_type {};
} // namespace detail

/// Enumerations: the enumerator's name. A value without a name (a flag
/// combination, a cast) is its underlying integer, which decoding accepts
/// too, so that every value round-trips. An unknown name is refused.
template <class T> struct Codec<T, std::enable_if_t<std::is_enum_v<T>>> {
  using U = std::underlying_type_t<T>;
  static constexpr bool Named = detail::HasEnumNames<T>::value;

  /// The name of \p V, or null when it has none.
  static const char *nameOf(T V) {
    if constexpr (Named)
      for (const auto &E : EnumNames<T>::Table)
        if (E.Value == V)
          return E.Name;
    return nullptr;
  }
  /// Whether \p S names an enumerator; if so it is stored in \p V.
  static bool fromName(const std::string &S, T &V) {
    if constexpr (Named)
      for (const auto &E : EnumNames<T>::Table)
        if (S == E.Name) {
          V = E.Value;
          return true;
        }
    return false;
  }
  static void encode(Json &J, T V) {
    if (const char *Name = nameOf(V))
      J = Name;
    else
      Codec<U>::encode(J, static_cast<U>(V));
  }
  static void decode(const Json &J, T &V, const Path &P) {
    if (J.is_string()) {
      const auto &S = J.get_ref<const std::string &>();
      if (!fromName(S, V))
        fail(P, "unknown enumerator '" + S + "'");
      return;
    }
    if (!J.is_number())
      fail(P, std::string(Named ? "expected an enumerator name, got "
                                : "expected an integer, got ") +
                  kindOf(J));
    U Raw{};
    Codec<U>::decode(J, Raw, P);
    V = static_cast<T>(Raw);
  }
  /// Text that is a name, or else an integer that \p ParseInt reads.
  template <class ParseInt>
  static void fromText(const std::string &S, T &V, const Path &P,
                       ParseInt Parse) {
    if (fromName(S, V))
      return;
    if (!S.empty() && (S[0] == '-' || (S[0] >= '0' && S[0] <= '9'))) {
      U Raw{};
      Parse(S, Raw, P);
      V = static_cast<T>(Raw);
      return;
    }
    fail(P, "unknown enumerator '" + S + "'");
  }
  static void decodeText(const std::string &S, T &V, const Path &P) {
    fromText(S, V, P, &Codec<U>::decodeText);
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

template <> struct Codec<std::monostate> {
  static void encode(Json &J, std::monostate) { J = nullptr; }
  static void decode(const Json &J, std::monostate &, const Path &P) {
    if (!J.is_null())
      fail(P, std::string("expected null, got ") + kindOf(J));
  }
};

namespace detail {
inline const Json::array_t &expectArray(const Json &J, const Path &P) {
  if (!J.is_array())
    fail(P, std::string("expected an array, got ") + kindOf(J));
  return J.get_ref<const Json::array_t &>();
}

inline const Json::array_t &expectArray(const Json &J, size_t N,
                                        const Path &P) {
  const auto &A = expectArray(J, P);
  if (A.size() != N)
    fail(P, "expected an array of " + std::to_string(N) + " elements, got " +
                std::to_string(A.size()));
  return A;
}

/// Encodes every element of \p V into a JSON array; sorted for unordered
/// containers, whose iteration order is not a property of their value.
template <class C>
void encodeElements(Json &J, const C &V, bool Sorted = false) {
  J = Json::array();
  auto &Arr = J.get_ref<Json::array_t &>();
  for (const auto &E : V) {
    Arr.emplace_back();
    ::cleave::codec::encode(Arr.back(), static_cast<const typename C::value_type &>(E));
  }
  if (Sorted)
    sortJson(Arr);
}
} // namespace detail

/// vector, deque and list: a JSON array.
template <class C> struct SequenceCodec {
  using T = typename C::value_type;
  static void encode(Json &J, const C &V) { detail::encodeElements(J, V); }
  static void decode(const Json &J, C &V, const Path &P) {
    const auto &Arr = detail::expectArray(J, P);
    V.clear();
    if constexpr (std::is_same_v<C, std::vector<T, typename C::allocator_type>>)
      V.reserve(Arr.size());
    size_t I = 0;
    for (const auto &E : Arr) {
      Path Sub{&P, nullptr, I++};
      T Item{};
      Codec<T>::decode(E, Item, Sub);
      V.push_back(std::move(Item));
    }
  }
};
template <class T, class A>
struct Codec<std::vector<T, A>> : SequenceCodec<std::vector<T, A>> {};
template <class T, class A>
struct Codec<std::deque<T, A>> : SequenceCodec<std::deque<T, A>> {};
template <class T, class A>
struct Codec<std::list<T, A>> : SequenceCodec<std::list<T, A>> {};

/// std::array: a JSON array of exactly N elements.
template <class T, size_t N> struct Codec<std::array<T, N>> {
  static void encode(Json &J, const std::array<T, N> &V) {
    detail::encodeElements(J, V);
  }
  static void decode(const Json &J, std::array<T, N> &V, const Path &P) {
    const auto &Arr = detail::expectArray(J, N, P);
    for (size_t I = 0; I < N; ++I)
      Codec<T>::decode(Arr[I], V[I], Path{&P, nullptr, I});
  }
};

/// set, multiset, unordered_set, unordered_multiset: a JSON array. A set
/// refuses an element given twice: dropping it would change the value.
template <class C, bool Unique, bool Unordered> struct SetCodec {
  using T = typename C::value_type;
  static void encode(Json &J, const C &V) {
    detail::encodeElements(J, V, Unordered);
  }
  static void decode(const Json &J, C &V, const Path &P) {
    const auto &Arr = detail::expectArray(J, P);
    V.clear();
    size_t I = 0;
    for (const auto &E : Arr) {
      Path Sub{&P, nullptr, I++};
      T Item{};
      Codec<T>::decode(E, Item, Sub);
      size_t Before = V.size();
      V.insert(std::move(Item));
      if (Unique && V.size() == Before)
        fail(Sub, "duplicate set element");
    }
  }
};
template <class T, class C, class A>
struct Codec<std::set<T, C, A>>
    : SetCodec<std::set<T, C, A>, true, false> {};
template <class T, class C, class A>
struct Codec<std::multiset<T, C, A>>
    : SetCodec<std::multiset<T, C, A>, false, false> {};
template <class T, class H, class E, class A>
struct Codec<std::unordered_set<T, H, E, A>>
    : SetCodec<std::unordered_set<T, H, E, A>, true, true> {};
template <class T, class H, class E, class A>
struct Codec<std::unordered_multiset<T, H, E, A>>
    : SetCodec<std::unordered_multiset<T, H, E, A>, false, true> {};

/// How a map key is spelt as a JSON object key: strings as they are,
/// integers in decimal, enumerations by name. Other keys make the map an
/// array of [key, value] pairs.
template <class K, class = void> struct KeyText : std::false_type {};
template <> struct KeyText<std::string> : std::true_type {
  static std::string encode(const std::string &K) { return K; }
  static void decode(const std::string &S, std::string &K, const Path &) {
    K = S;
  }
};
template <class K>
struct KeyText<K, std::enable_if_t<std::is_integral_v<K> &&
                                   !std::is_same_v<K, bool>>>
    : std::true_type {
  static std::string encode(K V) { return std::to_string(V); }
  static void decode(const std::string &S, K &V, const Path &P) {
    Codec<K>::decodeText(S, V, P);
    // "07" and "7" would otherwise be one key given twice.
    if (std::to_string(V) != S)
      fail(P, "integer key '" + S + "' is not in canonical decimal form");
  }
};
template <class K>
struct KeyText<K, std::enable_if_t<std::is_enum_v<K>>> : std::true_type {
  using U = std::underlying_type_t<K>;
  static std::string encode(K V) {
    if (const char *Name = Codec<K>::nameOf(V))
      return Name;
    return KeyText<U>::encode(static_cast<U>(V));
  }
  static void decode(const std::string &S, K &V, const Path &P) {
    Codec<K>::fromText(S, V, P, &KeyText<U>::decode);
  }
};

/// map, unordered_map (JSON objects when KeyText<K> applies, else arrays of
/// [key, value] pairs), multimap and unordered_multimap (always pairs: an
/// object cannot hold a key twice). A unique map refuses a repeated key.
template <class M, bool Unique, bool Unordered> struct MapCodec {
  using K = typename M::key_type;
  using T = typename M::mapped_type;
  static constexpr bool AsObject = Unique && KeyText<K>::value;

  static void encode(Json &J, const M &V) {
    if constexpr (AsObject) {
      J = Json::object();
      for (const auto &KV : V)
        Codec<T>::encode(J[KeyText<K>::encode(KV.first)], KV.second);
    } else {
      J = Json::array();
      auto &Arr = J.get_ref<Json::array_t &>();
      for (const auto &KV : V) {
        Json Pair = Json::array();
        Pair.get_ref<Json::array_t &>().resize(2);
        Codec<K>::encode(Pair[0], KV.first);
        Codec<T>::encode(Pair[1], KV.second);
        Arr.push_back(std::move(Pair));
      }
      if (Unordered)
        detail::sortJson(Arr);
    }
  }

  static void decode(const Json &J, M &V, const Path &P) {
    V.clear();
    if constexpr (AsObject) {
      if (!J.is_object())
        fail(P, std::string("expected an object, got ") + kindOf(J));
      for (auto It = J.begin(); It != J.end(); ++It) {
        Path Sub{&P, nullptr, 0, &It.key()};
        K Key{};
        KeyText<K>::decode(It.key(), Key, Sub);
        T Item{};
        Codec<T>::decode(It.value(), Item, Sub);
        if (!V.emplace(std::move(Key), std::move(Item)).second)
          fail(Sub, "duplicate map key");
      }
    } else {
      const auto &Arr = detail::expectArray(J, P);
      size_t I = 0;
      for (const auto &E : Arr) {
        Path Sub{&P, nullptr, I++};
        const auto &Pair = detail::expectArray(E, 2, Sub);
        K Key{};
        Codec<K>::decode(Pair[0], Key, Path{&Sub, nullptr, 0});
        T Item{};
        Codec<T>::decode(Pair[1], Item, Path{&Sub, nullptr, 1});
        size_t Before = V.size();
        V.emplace(std::move(Key), std::move(Item));
        if (Unique && V.size() == Before)
          fail(Path{&Sub, nullptr, 0}, "duplicate map key");
      }
    }
  }
};
template <class K, class T, class C, class A>
struct Codec<std::map<K, T, C, A>>
    : MapCodec<std::map<K, T, C, A>, true, false> {};
template <class K, class T, class H, class E, class A>
struct Codec<std::unordered_map<K, T, H, E, A>>
    : MapCodec<std::unordered_map<K, T, H, E, A>, true, true> {};
template <class K, class T, class C, class A>
struct Codec<std::multimap<K, T, C, A>>
    : MapCodec<std::multimap<K, T, C, A>, false, false> {};
template <class K, class T, class H, class E, class A>
struct Codec<std::unordered_multimap<K, T, H, E, A>>
    : MapCodec<std::unordered_multimap<K, T, H, E, A>, false, true> {};

/// optional and unique_ptr (with the default deleter): null, or the value,
/// decoded into a value-initialized T.
template <class N, class T> struct NullableCodec {
  static void encode(Json &J, const N &V) {
    if (V)
      Codec<T>::encode(J, *V);
    else
      J = nullptr;
  }
  static void decode(const Json &J, N &V, const Path &P) {
    if (J.is_null()) {
      V.reset();
      return;
    }
    if constexpr (std::is_same_v<N, std::optional<T>>) {
      T Item{};
      Codec<T>::decode(J, Item, P);
      V = std::move(Item);
    } else {
      auto Item = std::make_unique<T>();
      Codec<T>::decode(J, *Item, P);
      V = std::move(Item);
    }
  }
};
template <class T>
struct Codec<std::optional<T>> : NullableCodec<std::optional<T>, T> {};
template <class T>
struct Codec<std::unique_ptr<T>> : NullableCodec<std::unique_ptr<T>, T> {};

/// pair and tuple: a JSON array with one element per member.
template <class A, class B> struct Codec<std::pair<A, B>> {
  static void encode(Json &J, const std::pair<A, B> &V) {
    J = Json::array();
    J.get_ref<Json::array_t &>().resize(2);
    Codec<A>::encode(J[0], V.first);
    Codec<B>::encode(J[1], V.second);
  }
  static void decode(const Json &J, std::pair<A, B> &V, const Path &P) {
    const auto &Arr = detail::expectArray(J, 2, P);
    Codec<A>::decode(Arr[0], V.first, Path{&P, nullptr, 0});
    Codec<B>::decode(Arr[1], V.second, Path{&P, nullptr, 1});
  }
};

template <class... Ts> struct Codec<std::tuple<Ts...>> {
  template <size_t... I>
  static void encodeAll(Json &J, const std::tuple<Ts...> &V,
                        std::index_sequence<I...>) {
    (Codec<Ts>::encode(J[I], std::get<I>(V)), ...);
  }
  template <size_t... I>
  static void decodeAll(const Json::array_t &Arr, std::tuple<Ts...> &V,
                        const Path &P, std::index_sequence<I...>) {
    (Codec<Ts>::decode(Arr[I], std::get<I>(V), Path{&P, nullptr, I}), ...);
  }
  static void encode(Json &J, const std::tuple<Ts...> &V) {
    J = Json::array();
    J.get_ref<Json::array_t &>().resize(sizeof...(Ts));
    encodeAll(J, V, std::index_sequence_for<Ts...>());
  }
  static void decode(const Json &J, std::tuple<Ts...> &V, const Path &P) {
    const auto &Arr = detail::expectArray(J, sizeof...(Ts), P);
    decodeAll(Arr, V, P, std::index_sequence_for<Ts...>());
  }
};

/// std::variant: {"index": i, "value": v}, i the zero-based alternative.
/// The index rather than a type name: alternatives may repeat a type
/// (variant<int, int>) and standard types have no stable name, while the
/// index is what std::variant itself exposes. A valueless variant cannot be
/// encoded (std::bad_variant_access).
template <class... Ts> struct Codec<std::variant<Ts...>> {
  using V_t = std::variant<Ts...>;
  static void encode(Json &J, const V_t &V) {
    if (V.valueless_by_exception())
      throw std::bad_variant_access();
    J = Json::object();
    J["index"] = V.index();
    std::visit([&J](const auto &Alt) { cleave::codec::encode(J["value"], Alt); },
               V);
  }
  template <size_t I>
  static void decodeAlt(const Json &J, V_t &V, const Path &P) {
    using Alt = std::variant_alternative_t<I, V_t>;
    Alt Item{};
    Codec<Alt>::decode(J, Item, P);
    V.template emplace<I>(std::move(Item));
  }
  template <size_t... I>
  static void decodeIndex(size_t Index, const Json &J, V_t &V, const Path &P,
                          std::index_sequence<I...>) {
    using Fn = void (*)(const Json &, V_t &, const Path &);
    static constexpr Fn Table[] = {&decodeAlt<I>...};
    Table[Index](J, V, P);
  }
  static void decode(const Json &J, V_t &V, const Path &P) {
    if (!J.is_object())
      fail(P, std::string("expected an object {\"index\", \"value\"}, got ") +
                  kindOf(J));
    Path IndexPath{&P, "index"};
    auto It = J.find("index");
    if (It == J.end())
      fail(IndexPath, "missing field");
    size_t Index = 0;
    Codec<size_t>::decode(*It, Index, IndexPath);
    if (Index >= sizeof...(Ts))
      fail(IndexPath, "alternative " + std::to_string(Index) +
                          " does not exist (the variant has " +
                          std::to_string(sizeof...(Ts)) + ")");
    Path ValuePath{&P, "value"};
    auto Val = J.find("value");
    if (Val == J.end())
      fail(ValuePath, "missing field");
    decodeIndex(Index, *Val, V, ValuePath, std::index_sequence_for<Ts...>());
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

/// Decodes a value given as text (a query-string parameter): scalars,
/// enumerators and strings are parsed by their type, anything else as JSON
/// text.
template <class T> void decodeText(const std::string &S, T &V, const Path &P) {
  if constexpr (IsOptional<T>::value) {
    typename T::value_type Item{};
    decodeText(S, Item, P);
    V = std::move(Item);
  } else if constexpr (HasDecodeText<T>::value) {
    Codec<T>::decodeText(S, V, P);
  } else {
    Json J;
    std::string Why;
    if (!parseJson(S, J, Why))
      fail(P, "expected JSON text, got '" + S + "'");
    Codec<T>::decode(J, V, P);
  }
}

} // namespace codec

namespace access {

/// Reaches a data member that is not public, for generated codecs, without
/// any change to its class. Access is not checked on the template arguments
/// of an explicit instantiation ([temp.spec]/6 in C++17), so the glue may
/// name `&Account::balance` there; the friend defined by the instantiation
/// hands the pointer out to code that finds it by argument-dependent lookup
/// on the tag. The compiler writes, per member:
/// \code
///   struct Account_balance {
///     friend constexpr auto memberPointer(Account_balance);
///   };
///   template struct Expose<Account_balance, &::Account::balance>;
/// \endcode
/// and reads the member as `V.*memberPointer(Account_balance{})`. The
/// return type is deduced, so the member's type (which may be a private
/// typedef) is never spelt.
template <class Tag, auto Pointer> struct Expose {
  friend constexpr auto memberPointer(Tag) { return Pointer; }
};

} // namespace access
} // namespace cleave

#endif // CLEAVE_CODEC_H
