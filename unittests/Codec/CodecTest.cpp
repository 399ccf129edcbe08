//===- CodecTest.cpp - Decoding errors and round trips of codecs ---------===//

#include "cleave/codec.h"

#include "gtest/gtest.h"

#include <cstring>
#include <cstdint>
#include <limits>

using namespace cleave::codec;

namespace {

/// Decodes \p Text into a T and returns the error's field and message, or
/// empty strings when decoding succeeded.
template <class T>
std::pair<std::string, std::string> decodeError(const char *Text) {
  T V{};
  Path P{nullptr, "x"};
  try {
    Json J;
    std::string Why;
    if (!parseJson(Text, std::strlen(Text), J, Why))
      return {"", "not JSON: " + Why};
    decode(J, V, P);
  } catch (const DecodeError &E) {
    return {E.Field, E.Message};
  }
  return {};
}

template <class T> T roundTrip(const T &V) {
  Json J;
  encode(J, V);
  T Out{};
  decode(Json::parse(J.dump()), Out, Path{nullptr, "x"});
  return Out;
}

TEST(CodecTest, IntegersCheckTypeAndRange) {
  EXPECT_EQ(decodeError<int>("5").second, "");
  EXPECT_EQ(decodeError<int>("\"5\"").second,
            "expected an integer, got a string");
  EXPECT_EQ(decodeError<int>("2.5").second, "expected an integer, got 2.5");
  EXPECT_EQ(decodeError<int>("2.0").second, ""); // the integer 2, written so
  EXPECT_EQ(decodeError<int>("4294967296").second,
            "integer 4294967296 is out of range");
  EXPECT_EQ(decodeError<unsigned>("-1").second, "integer -1 is out of range");
  EXPECT_EQ(decodeError<std::int8_t>("128").second,
            "integer 128 is out of range");
  EXPECT_EQ(decodeError<std::uint64_t>("18446744073709551615").second, "");
  EXPECT_EQ(decodeError<bool>("1").second,
            "expected a boolean, got an integer");
  EXPECT_EQ(decodeError<double>("null").second, "expected a number, got null");
  EXPECT_EQ(decodeError<std::string>("7").second,
            "expected a string, got an integer");
}

TEST(CodecTest, ExtremesRoundTrip) {
  EXPECT_EQ(roundTrip(std::numeric_limits<long>::min()),
            std::numeric_limits<long>::min());
  EXPECT_EQ(roundTrip(std::numeric_limits<unsigned long long>::max()),
            std::numeric_limits<unsigned long long>::max());
  EXPECT_DOUBLE_EQ(roundTrip(0.1), 0.1);
  EXPECT_EQ(roundTrip(std::string("\"quoted\" \xc3\xa9 \n")),
            "\"quoted\" \xc3\xa9 \n");
}

TEST(CodecTest, ContainersNameTheElementThatFailed) {
  auto [Field, Message] = decodeError<std::vector<int>>("[1, 2, \"three\"]");
  EXPECT_EQ(Field, "x[2]");
  EXPECT_EQ(Message, "expected an integer, got a string");

  auto [MField, MMessage] =
      decodeError<std::map<std::string, std::vector<int>>>(
          "{\"a\": [1], \"b\": [true]}");
  EXPECT_EQ(MField, "x[\"b\"][0]");
  EXPECT_EQ(MMessage, "expected an integer, got a boolean");

  EXPECT_EQ(decodeError<std::vector<int>>("{}").second,
            "expected an array, got an object");
  EXPECT_EQ((decodeError<std::map<std::string, int>>("[]").second),
            "expected an object, got an array");
}

TEST(CodecTest, OptionalIsNullOrValue) {
  EXPECT_EQ(roundTrip(std::optional<int>()), std::nullopt);
  EXPECT_EQ(roundTrip(std::optional<int>(3)), 3);
  Json J;
  encode(J, std::optional<std::string>());
  EXPECT_TRUE(J.is_null());
  EXPECT_EQ(decodeError<std::optional<int>>("\"a\"").second,
            "expected an integer, got a string");
}

TEST(CodecTest, UniquePtrIsNullOrItsObject) {
  EXPECT_EQ(roundTrip(std::unique_ptr<int>()), nullptr);
  std::unique_ptr<int> Back = roundTrip(std::make_unique<int>(7));
  ASSERT_NE(Back, nullptr);
  EXPECT_EQ(*Back, 7);
  auto Nested = roundTrip(std::make_unique<std::vector<std::string>>(
      std::vector<std::string>{"a", "b"}));
  ASSERT_NE(Nested, nullptr);
  EXPECT_EQ(Nested->size(), 2u);
  EXPECT_EQ(decodeError<std::unique_ptr<int>>("true").second,
            "expected an integer, got a boolean");
}

TEST(CodecTest, MissingMembers) {
  Json Obj = Json::parse(R"({"present": 1})");
  Path Root{nullptr, "o"};
  int Required = 0;
  try {
    decodeMember(Obj, "absent", Required, Root);
    FAIL() << "a missing required member must fail";
  } catch (const DecodeError &E) {
    EXPECT_EQ(E.Field, "o.absent");
    EXPECT_EQ(E.Message, "missing field");
  }
  std::optional<int> Optional = 5;
  decodeMember(Obj, "absent", Optional, Root);
  EXPECT_FALSE(Optional.has_value());
}

TEST(CodecTest, QueryTextIsParsedByType) {
  Path P{nullptr, "n"};
  int I = 0;
  decodeText("-42", I, P);
  EXPECT_EQ(I, -42);
  EXPECT_THROW(decodeText("42abc", I, P), DecodeError);
  EXPECT_THROW(decodeText("", I, P), DecodeError);
  EXPECT_THROW(decodeText("99999999999", I, P), DecodeError);
  double D = 0;
  decodeText("2.5e3", D, P);
  EXPECT_DOUBLE_EQ(D, 2500);
  EXPECT_THROW(decodeText("2.5x", D, P), DecodeError);
  bool B = false;
  decodeText("true", B, P);
  EXPECT_TRUE(B);
  EXPECT_THROW(decodeText("yes", B, P), DecodeError);
  std::string S;
  decodeText("123", S, P); // a string stays text, even when it looks numeric
  EXPECT_EQ(S, "123");
  std::vector<int> V;
  decodeText("[1,2]", V, P); // anything else is JSON text
  EXPECT_EQ(V, (std::vector<int>{1, 2}));
  EXPECT_THROW(decodeText("[1,", V, P), DecodeError);
  std::optional<int> O;
  decodeText("7", O, P);
  EXPECT_EQ(O, 7);
}

enum class Color : std::uint8_t { Red = 1, Blue = 2 };

TEST(CodecTest, EnumsAreTheirUnderlyingInteger) {
  Json J;
  encode(J, Color::Blue);
  EXPECT_EQ(J, Json(2));
  EXPECT_EQ(roundTrip(Color::Red), Color::Red);
  EXPECT_EQ(decodeError<Color>("300").second, "integer 300 is out of range");
}

// JSON nested past MaxJsonDepth is refused while it is read, without
// recursion: the decoders, which recurse once per level, never see it.
TEST(CodecTest, JsonDepthIsBounded) {
  auto Nested = [](std::size_t Depth) {
    return std::string(Depth, '[') + std::string(Depth, ']');
  };
  Json J;
  std::string Why;
  EXPECT_TRUE(parseJson(Nested(MaxJsonDepth), J, Why)) << Why;
  EXPECT_FALSE(parseJson(Nested(MaxJsonDepth + 1), J, Why));
  EXPECT_EQ(Why, "nested deeper than 512 levels of arrays and objects");
  // Far deeper, as an attacker sends it: the same answer.
  std::string Deep = "{\"a\": " + Nested(200000) + "}";
  EXPECT_FALSE(parseJson(Deep, J, Why));
  EXPECT_EQ(Why, "nested deeper than 512 levels of arrays and objects");
  // Objects count as arrays do.
  std::string Objects;
  for (std::size_t I = 0; I <= MaxJsonDepth; ++I)
    Objects += "{\"k\":";
  Objects += "1" + std::string(MaxJsonDepth + 1, '}');
  EXPECT_FALSE(parseJson(Objects, J, Why));
}

} // namespace
