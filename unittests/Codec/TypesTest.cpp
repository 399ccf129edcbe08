//===- TypesTest.cpp - Every standard type in JSON and in frames ---------===//
//
// Each supported type round-trips through its JSON codec (codec.h) and its
// frame codec (frame.h), and prints the JSON form docs/annotations.md gives.
// Numbers that cannot be decoded exactly are refused, enumerators travel by
// name, and a failure names the path of the offending value.
//
//===----------------------------------------------------------------------===//

#include "cleave/codec.h"
#include "cleave/frame.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <limits>

using cleave::codec::Codec;
using cleave::codec::DecodeError;
using cleave::codec::Json;
using cleave::codec::Path;

namespace {

enum class Side : std::uint8_t { Buy, Sell };
enum Venue { Lit = 3, Dark = 7, Auction = -2 };
enum class Unnamed : int {};

} // namespace

// As the compiler generates them for enumerations that cross a boundary.
template <> struct cleave::codec::EnumNames<Side> {
  static constexpr EnumName<Side> Table[] = {{Side::Buy, "Buy"},
                                             {Side::Sell, "Sell"}};
};
template <> struct cleave::codec::EnumNames<Venue> {
  static constexpr EnumName<Venue> Table[] = {
      {Lit, "Lit"}, {Dark, "Dark"}, {Auction, "Auction"}};
};

namespace {

/// The JSON text of \p V.
template <class T> std::string json(const T &V) {
  Json J;
  cleave::codec::encode(J, V);
  return J.dump();
}

/// Decodes \p Text into a T as the runtime does (codec::parseJson); throws
/// DecodeError.
template <class T> T fromJson(const std::string &Text) {
  T V{};
  Json J;
  std::string Why;
  if (!cleave::codec::parseJson(Text, J, Why))
    throw DecodeError("x", "not JSON: " + Why);
  cleave::codec::decode(J, V, Path{nullptr, "x"});
  return V;
}

/// "field: message" of decoding \p Text into a T, or "ok".
template <class T> std::string refusal(const std::string &Text) {
  try {
    fromJson<T>(Text);
  } catch (const DecodeError &E) {
    return E.Field + ": " + E.Message;
  }
  return "ok";
}

template <class T> T throughFrame(const T &V) {
  std::string Bytes;
  cleave::frame::encodeFrame(Bytes, V);
  T Out{};
  auto St = cleave::frame::decodeFrame(Bytes, Out);
  EXPECT_TRUE(St) << St.str();
  return Out;
}

/// Checks that \p V prints as \p Expected and comes back equal from JSON
/// and from a frame.
template <class T> void roundTrips(const T &V, const std::string &Expected) {
  std::string Text = json(V);
  EXPECT_EQ(Text, Expected);
  EXPECT_TRUE(fromJson<T>(Text) == V) << Text;
  EXPECT_TRUE(throughFrame(V) == V) << Text;
}

TEST(TypesTest, IntegersOfEveryWidth) {
  roundTrips<signed char>(-128, "-128");
  roundTrips<unsigned char>(255, "255");
  roundTrips<char>('A', "65");
  roundTrips<short>(-32768, "-32768");
  roundTrips<unsigned short>(65535, "65535");
  roundTrips<int>(std::numeric_limits<int>::min(), "-2147483648");
  roundTrips<unsigned>(4294967295u, "4294967295");
  roundTrips<long long>(std::numeric_limits<long long>::min(),
                        "-9223372036854775808");
  roundTrips<std::int64_t>(std::numeric_limits<std::int64_t>::max(),
                           "9223372036854775807");
  roundTrips<std::uint64_t>(std::numeric_limits<std::uint64_t>::max(),
                            "18446744073709551615");
  roundTrips<bool>(true, "true");
}

TEST(TypesTest, FloatingTypes) {
  roundTrips(0.1, "0.1");
  // The smallest subnormal, printed in the fewest digits that read back.
  roundTrips(4.9e-324, "5e-324");
  EXPECT_EQ(fromJson<double>("4.9e-324"), 4.9e-324);
  roundTrips(std::numeric_limits<double>::max(), "1.7976931348623157e+308");
  roundTrips(-0.0, "-0.0");
  roundTrips(1.5f, "1.5");
  roundTrips<long double>(2.5L, "2.5");
  EXPECT_EQ(fromJson<double>("3"), 3.0); // an integer is a number too
}

TEST(TypesTest, OutOfRangeIntegersAreRefused) {
  // A number written with a fraction or exponent that is exactly an integer
  // is that integer; beyond 64 bits, or with a fraction, it is refused, never
  // wrapped or rounded.
  EXPECT_EQ(fromJson<std::int64_t>("9223372036854775807.0"),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(fromJson<std::int64_t>("-9223372036854775808.0"),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(refusal<std::int64_t>("9223372036854775808.0"),
            "x: integer 9223372036854775808 is out of range");
  EXPECT_EQ(refusal<std::int64_t>("-9223372036854775809"),
            "x: number -9.223372036854776e+18 is out of range");
  EXPECT_EQ(refusal<std::uint64_t>("18446744073709551844"),
            "x: number 1.8446744073709552e+19 is out of range");
  EXPECT_EQ(refusal<std::uint64_t>("18446744073709551616"),
            "x: number 1.8446744073709552e+19 is out of range");
  EXPECT_EQ(refusal<std::uint64_t>("-1"), "x: integer -1 is out of range");
  EXPECT_EQ(refusal<std::int8_t>("-129"), "x: integer -129 is out of range");
  EXPECT_EQ(refusal<std::uint8_t>("256"), "x: integer 256 is out of range");
  EXPECT_EQ(refusal<std::int16_t>("40000.0"),
            "x: integer 40000 is out of range");
  EXPECT_EQ(refusal<int>("2.5"), "x: expected an integer, got 2.5");
  EXPECT_EQ(refusal<int>("1e3"), "ok");
  EXPECT_EQ(fromJson<int>("1e3"), 1000);
  EXPECT_EQ(fromJson<int>("2.50e1"), 25);
  EXPECT_EQ(fromJson<int>("-0"), 0);
  EXPECT_EQ(refusal<int>("-0.0"), "x: expected an integer, got -0.0");
  EXPECT_EQ(fromJson<std::int64_t>("9007199254740991.0"), 9007199254740991);
  // Beyond 2^53 a double cannot hold it, and the text can.
  EXPECT_EQ(fromJson<std::int64_t>("9007199254740993.0"), 9007199254740993);
  EXPECT_EQ(fromJson<std::uint64_t>("1.8446744073709551615e19"),
            std::numeric_limits<std::uint64_t>::max());
  // Not an integer, though the nearest double is one.
  EXPECT_EQ(refusal<int>("1.00000000000000001"),
            "x: expected an integer, got 1.0");
  EXPECT_EQ(refusal<std::int64_t>("1e-400"), "x: expected an integer, got 0.0");
  // A double field takes what the text says, to the nearest double.
  EXPECT_EQ(fromJson<double>("1.00000000000000001"), 1.0);
  EXPECT_EQ(fromJson<double>("9007199254740993.0"), 9007199254740992.0);
  EXPECT_TRUE(std::signbit(fromJson<double>("-0.0")));
}

TEST(TypesTest, ExactIntegerTextIsRecognized) {
  std::uint64_t M = 0;
  bool Neg = false;
  EXPECT_TRUE(cleave::codec::exactInteger("120e-1", M, Neg));
  EXPECT_EQ(M, 12u);
  EXPECT_FALSE(cleave::codec::exactInteger("121e-1", M, Neg));
  EXPECT_TRUE(cleave::codec::exactInteger("-0.000", M, Neg));
  EXPECT_TRUE(Neg);
  EXPECT_EQ(M, 0u);
  EXPECT_FALSE(cleave::codec::exactInteger("1e20", M, Neg)); // beyond 64 bits
  EXPECT_FALSE(cleave::codec::exactInteger("1e99999999999", M, Neg));
  EXPECT_TRUE(cleave::codec::exactInteger("0e99999999999", M, Neg));
}

TEST(TypesTest, MalformedNumbersSayWhere) {
  Json J;
  std::string Why;
  EXPECT_FALSE(cleave::codec::parseJson(R"({"order": {"qty": [1, 1e400]}})", J,
                                        Why));
  EXPECT_EQ(Why.rfind("at 'order.qty[1]': number overflow parsing '1e400'", 0),
            0u)
      << Why;
}

TEST(TypesTest, NonFiniteAndOverflowingNumbersAreRefused) {
  // JSON text cannot hold them: nlohmann::json refuses to parse them.
  for (const char *Text : {"1e400", "-1e400", "NaN", "Infinity", "nan"})
    EXPECT_TRUE(Json::parse(Text, nullptr, false).is_discarded()) << Text;
  // A value built otherwise (or a float out of range) is refused by the
  // codec itself.
  double V = 0;
  Path P{nullptr, "x"};
  EXPECT_THROW(Codec<double>::decode(
                   Json(std::numeric_limits<double>::infinity()), V, P),
               DecodeError);
  EXPECT_THROW(Codec<double>::decode(
                   Json(std::numeric_limits<double>::quiet_NaN()), V, P),
               DecodeError);
  EXPECT_EQ(refusal<float>("1e39"), "x: number 1e+39 is out of range");
  // Query text goes through strtod, which knows other spellings of
  // infinities and NaN: only the codec's own are taken.
  for (const char *Text : {"1e400", "inf", "nan", "-inf", "infinity", " 1",
                           "1e-400", "+Infinity", "NAN"})
    EXPECT_THROW(cleave::codec::decodeText(Text, V, P), DecodeError) << Text;
  cleave::codec::decodeText("4.9e-324", V, P);
  EXPECT_EQ(V, 4.9e-324);
}

TEST(TypesTest, NaNAndTheInfinitiesTravelAsStrings) {
  // A double state variable (or value) that holds them comes back as it
  // was, as Protocol Buffers' JSON mapping spells them.
  double Inf = std::numeric_limits<double>::infinity();
  roundTrips(Inf, "\"Infinity\"");
  roundTrips(-Inf, "\"-Infinity\"");
  roundTrips(std::numeric_limits<float>::infinity(), "\"Infinity\"");
  Json J;
  cleave::codec::encode(J, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(J.dump(), "\"NaN\"");
  double V = 0;
  Path P{nullptr, "x"};
  cleave::codec::decode(J, V, P);
  EXPECT_TRUE(std::isnan(V));
  long double L = 0;
  cleave::codec::decode(Json("-Infinity"), L, P);
  EXPECT_EQ(L, -std::numeric_limits<long double>::infinity());
  cleave::codec::decodeText("NaN", V, P);
  EXPECT_TRUE(std::isnan(V));
  cleave::codec::decodeText("-Infinity", V, P);
  EXPECT_EQ(V, -Inf);
  // Any other string is still not a number.
  EXPECT_EQ(refusal<double>("\"nan\""), "x: expected a number, got a string");
  EXPECT_EQ(refusal<double>("\"1.5\""), "x: expected a number, got a string");
}

TEST(TypesTest, EnumsTravelByName) {
  roundTrips(Side::Sell, "\"Sell\"");
  roundTrips(Auction, "\"Auction\"");
  // A value without a name travels as its integer, and comes back.
  roundTrips(static_cast<Venue>(5), "5");
  roundTrips(static_cast<Side>(9), "9");
  roundTrips(static_cast<Unnamed>(4), "4");
  EXPECT_EQ(refusal<Side>("\"Hold\""), "x: unknown enumerator 'Hold'");
  EXPECT_EQ(refusal<Side>("\"sell\""), "x: unknown enumerator 'sell'");
  EXPECT_EQ(refusal<Side>("true"),
            "x: expected an enumerator name, got a boolean");
  EXPECT_EQ(refusal<Side>("300"), "x: integer 300 is out of range");
  Side S = Side::Buy;
  Path P{nullptr, "side"};
  cleave::codec::decodeText("Sell", S, P);
  EXPECT_EQ(S, Side::Sell);
  try {
    cleave::codec::decodeText("Hold", S, P);
    FAIL() << "an unknown name must be refused";
  } catch (const DecodeError &E) {
    EXPECT_EQ(E.Field, "side");
  }
}

TEST(TypesTest, Sequences) {
  roundTrips(std::vector<int>{1, 2, 3}, "[1,2,3]");
  roundTrips(std::vector<bool>{true, false}, "[true,false]");
  roundTrips(std::deque<std::string>{"a", "b"}, "[\"a\",\"b\"]");
  roundTrips(std::list<double>{0.5, -1.0}, "[0.5,-1.0]");
  roundTrips(std::array<int, 3>{4, 5, 6}, "[4,5,6]");
  roundTrips(std::array<Side, 1>{Side::Buy}, "[\"Buy\"]");
  EXPECT_EQ((refusal<std::array<int, 3>>("[1,2]")),
            "x: expected an array of 3 elements, got 2");
  EXPECT_EQ(refusal<std::list<int>>("[1,\"2\"]"),
            "x[1]: expected an integer, got a string");
}

TEST(TypesTest, Sets) {
  roundTrips(std::set<int>{3, 1, 2}, "[1,2,3]");
  roundTrips(std::multiset<int>{2, 1, 2}, "[1,2,2]");
  // Unordered containers print in the order of their encoded elements.
  roundTrips(std::unordered_set<std::string>{"pear", "apple", "fig"},
             "[\"apple\",\"fig\",\"pear\"]");
  roundTrips(std::unordered_multiset<int>{5, 5, 1}, "[1,5,5]");
  EXPECT_EQ(refusal<std::set<int>>("[1,2,1]"), "x[2]: duplicate set element");
  EXPECT_EQ(refusal<std::multiset<int>>("[1,2,1]"), "ok");
}

TEST(TypesTest, MapsWithStringIntegerAndEnumKeysAreObjects) {
  roundTrips(std::map<std::string, int>{{"b", 2}, {"a", 1}},
             "{\"a\":1,\"b\":2}");
  roundTrips(std::map<int, std::string>{{-5, "x"}, {10, "y"}},
             "{\"-5\":\"x\",\"10\":\"y\"}");
  roundTrips(std::unordered_map<std::uint64_t, bool>{
                 {18446744073709551615ull, true}},
             "{\"18446744073709551615\":true}");
  roundTrips(std::map<Side, int>{{Side::Sell, 2}, {Side::Buy, 1}},
             "{\"Buy\":1,\"Sell\":2}");
  EXPECT_EQ((refusal<std::map<int, int>>("{\"07\": 1}")),
            "x[\"07\"]: integer key '07' is not in canonical decimal form");
  EXPECT_EQ((refusal<std::map<int, int>>("{\"x\": 1}")),
            "x[\"x\"]: expected an integer, got 'x'");
  EXPECT_EQ((refusal<std::map<std::int8_t, int>>("{\"300\": 1}")),
            "x[\"300\"]: integer '300' is out of range");
  EXPECT_EQ((refusal<std::map<Side, int>>("{\"Hold\": 1}")),
            "x[\"Hold\"]: unknown enumerator 'Hold'");
}

TEST(TypesTest, OtherKeysAndMultimapsArePairs) {
  using Key = std::pair<int, std::string>;
  roundTrips(std::map<Key, int>{{{2, "b"}, 20}, {{1, "a"}, 10}},
             "[[[1,\"a\"],10],[[2,\"b\"],20]]");
  roundTrips(std::map<bool, int>{{true, 1}}, "[[true,1]]");
  roundTrips(std::map<double, int>{{0.5, 1}}, "[[0.5,1]]");
  roundTrips(std::multimap<std::string, int>{{"a", 1}, {"a", 2}},
             "[[\"a\",1],[\"a\",2]]");
  roundTrips(std::unordered_multimap<int, int>{{1, 2}, {1, 1}},
             "[[1,1],[1,2]]");
  EXPECT_EQ((refusal<std::map<bool, int>>("[[true,1],[true,2]]")),
            "x[1][0]: duplicate map key");
  EXPECT_EQ((refusal<std::map<bool, int>>("[[true]]")),
            "x[0]: expected an array of 2 elements, got 1");
  EXPECT_EQ((refusal<std::map<bool, int>>("[[1, 2]]")),
            "x[0][0]: expected a boolean, got an integer");
}

TEST(TypesTest, PairsTuplesOptionals) {
  roundTrips(std::pair<int, std::string>{1, "a"}, "[1,\"a\"]");
  roundTrips(std::tuple<int, Side, std::vector<int>>{7, Side::Buy, {1}},
             "[7,\"Buy\",[1]]");
  roundTrips(std::optional<int>{}, "null");
  roundTrips(std::optional<std::vector<int>>{std::vector<int>{}}, "[]");
  EXPECT_EQ((refusal<std::tuple<int, int>>("[1,2,3]")),
            "x: expected an array of 2 elements, got 3");
  EXPECT_EQ((refusal<std::pair<int, std::string>>("[1,2]")),
            "x[1]: expected a string, got an integer");
}

TEST(TypesTest, VariantsAreTaggedByIndex) {
  using V = std::variant<std::monostate, int, std::string, int>;
  roundTrips(V{}, "{\"index\":0,\"value\":null}");
  roundTrips(V{std::in_place_index<1>, 5}, "{\"index\":1,\"value\":5}");
  roundTrips(V{std::in_place_index<3>, 5}, "{\"index\":3,\"value\":5}");
  roundTrips(V{std::string("s")}, "{\"index\":2,\"value\":\"s\"}");
  EXPECT_EQ(refusal<V>("{\"index\":4,\"value\":1}"),
            "x.index: alternative 4 does not exist (the variant has 4)");
  EXPECT_EQ(refusal<V>("{\"index\":1}"), "x.value: missing field");
  EXPECT_EQ(refusal<V>("{\"value\":1}"), "x.index: missing field");
  EXPECT_EQ(refusal<V>("{\"index\":2,\"value\":1}"),
            "x.value: expected a string, got an integer");
  EXPECT_EQ(refusal<V>("[1,2]"),
            "x: expected an object {\"index\", \"value\"}, got an array");
}

TEST(TypesTest, NestedPathsNameTheValue) {
  using Book = std::map<std::string, std::vector<std::pair<Side, double>>>;
  EXPECT_EQ(refusal<Book>("{\"ACME\": [[\"Buy\", 1.5], [\"Hold\", 2]]}"),
            "x[\"ACME\"][1][0]: unknown enumerator 'Hold'");
}

TEST(TypesTest, CorruptFramesOfNewTypesAreRefused) {
  std::string Bytes;
  cleave::frame::encodeFrame(Bytes, std::variant<int, std::string>(3));
  Bytes[cleave::frame::FrameHeaderSize] = 5; // no alternative 5
  std::variant<int, std::string> V;
  auto St = cleave::frame::decodeFrame(Bytes, V);
  EXPECT_FALSE(St);
  EXPECT_EQ(St.message(), "invalid variant index 5");

  Bytes.clear();
  cleave::frame::encodeFrame(Bytes, std::multiset<int>{4, 4});
  std::set<int> S;
  St = cleave::frame::decodeFrame(Bytes, S);
  EXPECT_FALSE(St);
  EXPECT_EQ(St.message(), "duplicate set element");

  Bytes.clear();
  cleave::frame::encodeFrame(Bytes, std::deque<int>{1, 2});
  Bytes.resize(Bytes.size() - 1);
  std::deque<int> D;
  EXPECT_FALSE(cleave::frame::decodeFrame(Bytes, D));
}

} // namespace
