//===- FrameTest.cpp - Binary frames: round trips and corrupt input -------===//

#include "cleave/frame.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>

using namespace cleave::frame;

namespace {

enum class Color : std::uint8_t { Red, Green, Blue };
enum Legacy { LegacyA = 1, LegacyB = 1000 };

// Copied as bytes: every member is a scalar and there is no padding.
struct Point {
  std::int32_t X = 0;
  std::int32_t Y = 0;
};
bool operator==(const Point &A, const Point &B) {
  return A.X == B.X && A.Y == B.Y;
}

struct Line {
  std::string Item;
  int Qty = 0;
  double Price = 0;
  bool Gift = false;
};
bool operator==(const Line &A, const Line &B) {
  return A.Item == B.Item && A.Qty == B.Qty && A.Price == B.Price &&
         A.Gift == B.Gift;
}

struct Address {
  std::string Street;
  std::optional<std::string> Zip;
};
bool operator==(const Address &A, const Address &B) {
  return A.Street == B.Street && A.Zip == B.Zip;
}

// Its codec returns false without recording an error.
struct Silent {
  int V = 0;
};

struct Order {
  std::string Customer;
  std::vector<Line> Lines;
  std::optional<Address> Ship;
  std::map<std::string, int> Tags;
  Color Colour = Color::Red;
  Point Where;
  std::vector<Point> Path;
  int Grid[3] = {};
};
bool operator==(const Order &A, const Order &B) {
  return A.Customer == B.Customer && A.Lines == B.Lines && A.Ship == B.Ship &&
         A.Tags == B.Tags && A.Colour == B.Colour && A.Where == B.Where &&
         A.Path == B.Path && std::equal(A.Grid, A.Grid + 3, B.Grid);
}

} // namespace

// The codecs as the compiler generates them, one line per member; Line stops
// at the first error, Order relies on the reader's sticky error.
namespace cleave::frame {
template <> struct FrameCodec<Point> : FrameTrivialCodec<Point> {};

template <> struct FrameCodec<Silent> {
  static void encode(FrameWriter &W, const Silent &V) { frameMember(W, V.V); }
  static bool decode(FrameReader &R, Silent &V) {
    return frameMember(R, V.V) && V.V != 13;
  }
};

template <> struct FrameCodec<Line> {
  static void encode(FrameWriter &W, const Line &V) {
    frameMember(W, V.Item);
    frameMember(W, V.Qty);
    frameMember(W, V.Price);
    frameMember(W, V.Gift);
  }
  static bool decode(FrameReader &R, Line &V) {
    return frameMember(R, V.Item) && frameMember(R, V.Qty) &&
           frameMember(R, V.Price) && frameMember(R, V.Gift);
  }
};

template <> struct FrameCodec<Address> {
  static void encode(FrameWriter &W, const Address &V) {
    frameMember(W, V.Street);
    frameMember(W, V.Zip);
  }
  static bool decode(FrameReader &R, Address &V) {
    return frameMember(R, V.Street) && frameMember(R, V.Zip);
  }
};

template <> struct FrameCodec<Order> {
  static void encode(FrameWriter &W, const Order &V) {
    frameMember(W, V.Customer);
    frameMember(W, V.Lines);
    frameMember(W, V.Ship);
    frameMember(W, V.Tags);
    frameMember(W, V.Colour);
    frameMember(W, V.Where);
    frameMember(W, V.Path);
    frameMember(W, V.Grid);
  }
  static bool decode(FrameReader &R, Order &V) {
    // The reader's error is sticky, so the members need no && chain.
    frameMember(R, V.Customer);
    frameMember(R, V.Lines);
    frameMember(R, V.Ship);
    frameMember(R, V.Tags);
    frameMember(R, V.Colour);
    frameMember(R, V.Where);
    frameMember(R, V.Path);
    frameMember(R, V.Grid);
    return R.ok();
  }
};
} // namespace cleave::frame

namespace {

template <class... Ts> std::string frameOf(const Ts &...Values) {
  std::string Out;
  encodeFrame(Out, Values...);
  return Out;
}

/// Decodes from a heap copy of exactly Bytes.size() bytes, so that a read
/// past the end is caught by AddressSanitizer rather than landing in the
/// spare capacity of a std::string.
template <class... Ts>
FrameStatus decodeExact(std::string_view Bytes, Ts &...Values) {
  std::unique_ptr<char[]> Copy(new char[Bytes.size()]);
  if (!Bytes.empty())
    std::memcpy(Copy.get(), Bytes.data(), Bytes.size());
  return decodeFrame(std::string_view(Copy.get(), Bytes.size()), Values...);
}

template <class T> T roundTrip(const T &V) {
  std::string F = frameOf(V);
  T Out{};
  FrameStatus S = decodeExact(F, Out);
  EXPECT_TRUE(S) << S.str();
  return Out;
}

template <class T> void expectRoundTrip(const T &V) {
  EXPECT_TRUE(roundTrip(V) == V);
}

/// Sets the header's payload length to what follows it, so that a cut or
/// edited frame gets past the header check into the value decoders.
void fixPayloadLength(std::string &F) {
  ASSERT_GE(F.size(), FrameHeaderSize);
  std::uint64_t Payload = F.size() - FrameHeaderSize;
  std::memcpy(&F[4], &Payload, sizeof(Payload));
}

/// A frame header followed by whatever \p Body writes.
template <class Fn> std::string handMade(Fn Body) {
  std::string F;
  {
    FrameWriter W(F);
    char Header[FrameHeaderSize] = {'C', 'L', 'F', 1};
    W.write(Header, sizeof(Header));
    Body(W);
  }
  fixPayloadLength(F);
  return F;
}

Order sampleOrder() {
  Order O;
  O.Customer = "ann";
  O.Lines = {
      {"apple", 2, 0.5, false}, {"pear", 1, 1.25, true}, {"", 0, 0, false}};
  O.Ship = Address{"1 Main St", std::string("12345")};
  O.Tags = {{"vip", 1}, {"region", 7}};
  O.Colour = Color::Blue;
  O.Where = {-3, 4};
  O.Path = {{1, 2}, {3, 4}, {5, 6}};
  O.Grid[0] = 7;
  O.Grid[2] = -9;
  return O;
}

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

TEST(FrameTest, IntegersRoundTripAtTheirLimits) {
  auto Check = [](auto Zero) {
    using T = decltype(Zero);
    expectRoundTrip(T(0));
    expectRoundTrip(std::numeric_limits<T>::min());
    expectRoundTrip(std::numeric_limits<T>::max());
    EXPECT_EQ(frameOf(Zero).size(), FrameHeaderSize + sizeof(T));
  };
  Check(std::int8_t());
  Check(std::uint8_t());
  Check(std::int16_t());
  Check(std::uint16_t());
  Check(std::int32_t());
  Check(std::uint32_t());
  Check(std::int64_t());
  Check(std::uint64_t());
  Check(char());
  Check(char16_t());
  Check(long());
  Check(static_cast<unsigned long long>(0));
}

TEST(FrameTest, FloatingPointKeepsItsBits) {
  expectRoundTrip(1.5f);
  expectRoundTrip(-2.25);
  expectRoundTrip(std::numeric_limits<double>::infinity());
  expectRoundTrip(std::numeric_limits<double>::denorm_min());
  expectRoundTrip(static_cast<long double>(1) / 3);
  EXPECT_TRUE(std::signbit(roundTrip(-0.0)));
  double NaN = std::numeric_limits<double>::quiet_NaN();
  double Back = roundTrip(NaN);
  EXPECT_EQ(std::memcmp(&NaN, &Back, sizeof(double)), 0);
}

TEST(FrameTest, BoolsAndEnums) {
  expectRoundTrip(true);
  expectRoundTrip(false);
  EXPECT_EQ(frameOf(true).back(), '\1');
  EXPECT_EQ(frameOf(false).back(), '\0');
  expectRoundTrip(Color::Green);
  expectRoundTrip(LegacyB);
  EXPECT_EQ(frameOf(Color::Blue).size(), FrameHeaderSize + 1);
}

TEST(FrameTest, StringsOfEveryLengthClass) {
  expectRoundTrip(std::string());
  expectRoundTrip(std::string("abc"));
  expectRoundTrip(std::string("a\0b\xff", 4));
  // The varint length grows a byte at 128 and at 16384.
  for (std::size_t N : {127u, 128u, 16383u, 16384u, 100000u}) {
    std::string S(N, 'x');
    S[N / 2] = '\0';
    expectRoundTrip(S);
    std::size_t LengthBytes = N < 128 ? 1 : N < 16384 ? 2 : 3;
    EXPECT_EQ(frameOf(S).size(), FrameHeaderSize + LengthBytes + N) << N;
  }
}

TEST(FrameTest, Vectors) {
  expectRoundTrip(std::vector<int>());
  std::vector<int> Many(1000);
  for (int I = 0; I < 1000; ++I)
    Many[I] = I * I - 500;
  expectRoundTrip(Many);
  expectRoundTrip(std::vector<double>{1.5, -2, 1e300});
  expectRoundTrip(std::vector<bool>{true, false, true, true});
  expectRoundTrip(std::vector<bool>());
  expectRoundTrip(std::vector<std::string>{"", "a", std::string(300, 'z')});
  expectRoundTrip(std::vector<std::vector<int>>{{}, {1}, {2, 3}});
  expectRoundTrip(std::vector<std::optional<int>>{1, std::nullopt, 3});
  expectRoundTrip(std::vector<Color>{Color::Blue, Color::Red});
  expectRoundTrip(std::vector<char>{'a', '\0', 'b'});
  // Scalars and trivially copyable structs go as one block, no per-element
  // framing.
  EXPECT_EQ(frameOf(std::vector<double>(16)).size(),
            FrameHeaderSize + 1 + 16 * sizeof(double));
  std::vector<Point> Pts = {{1, 2}, {3, 4}};
  expectRoundTrip(Pts);
  EXPECT_EQ(frameOf(Pts).size(), FrameHeaderSize + 1 + 2 * sizeof(Point));
}

TEST(FrameTest, Maps) {
  expectRoundTrip(std::map<std::string, int>());
  expectRoundTrip(std::map<std::string, int>{{"a", 1}, {"b", -2}});
  expectRoundTrip(std::unordered_map<std::string, std::vector<double>>{
      {"x", {1, 2}}, {"y", {}}, {"z", {3}}});
  expectRoundTrip(std::map<int, std::string>{{3, "three"}, {-1, "minus"}});
  expectRoundTrip(std::map<std::string, std::map<std::string, int>>{
      {"outer", {{"inner", 1}}}, {"empty", {}}});
}

TEST(FrameTest, OptionalsPairsTuplesArrays) {
  expectRoundTrip(std::optional<int>());
  expectRoundTrip(std::optional<int>(42));
  expectRoundTrip(std::optional<std::string>("s"));
  expectRoundTrip(std::optional<std::vector<int>>(std::vector<int>{1, 2}));
  expectRoundTrip(std::optional<std::optional<int>>(std::optional<int>()));
  expectRoundTrip(std::pair<std::string, int>("k", 9));
  expectRoundTrip(std::tuple<int, std::string, bool>(1, "two", true));
  expectRoundTrip(std::array<int, 4>{1, 2, 3, 4});
  expectRoundTrip(std::array<std::string, 2>{"a", "bc"});
  EXPECT_EQ(frameOf(std::array<std::int16_t, 3>{}).size(), FrameHeaderSize + 6);
}

TEST(FrameTest, GeneratedStructCodecs) {
  Order O = sampleOrder();
  expectRoundTrip(O);
  Order Bare;
  expectRoundTrip(Bare);
  expectRoundTrip(std::vector<Order>{O, Bare, O});
  expectRoundTrip(std::map<std::string, Order>{{"first", O}, {"second", Bare}});
  expectRoundTrip(std::optional<Order>(O));
  expectRoundTrip(Point{-1, 1});
}

TEST(FrameTest, SeveralValuesInOneFrame) {
  Order O = sampleOrder();
  std::string F = frameOf(O, 5, std::string("x"), std::vector<double>{1, 2});
  Order O2;
  int I = 0;
  std::string S;
  std::vector<double> D;
  FrameStatus St = decodeExact(F, O2, I, S, D);
  ASSERT_TRUE(St) << St.str();
  EXPECT_TRUE(O2 == O);
  EXPECT_EQ(I, 5);
  EXPECT_EQ(S, "x");
  EXPECT_EQ(D, (std::vector<double>{1, 2}));

  // A tuple is its elements with nothing around them.
  EXPECT_EQ(frameOf(std::make_tuple(5, std::string("x"))),
            frameOf(5, std::string("x")));

  // A boundary with nothing live carries an empty frame.
  std::string Empty = frameOf();
  EXPECT_EQ(Empty.size(), FrameHeaderSize);
  EXPECT_TRUE(decodeExact(Empty));
}

TEST(FrameTest, LayoutIsHeaderThenValues) {
  std::int32_t I = 0x01020304;
  std::string F = frameOf(I, std::string("hi"), true);
  std::string Expected = "CLF\x01";
  std::uint64_t Payload = 4 + 1 + 2 + 1;
  Expected.append(reinterpret_cast<const char *>(&Payload), 8);
  Expected.append(reinterpret_cast<const char *>(&I), 4);
  Expected += "\x02hi\x01";
  EXPECT_EQ(F, Expected);
}

TEST(FrameTest, EncodingAppendsToTheBuffer) {
  std::string S = "xyz";
  encodeFrame(S, 7, std::string("seven"));
  encodeFrame(S, 8);
  std::string First = frameOf(7, std::string("seven"));
  ASSERT_EQ(S.size(), 3 + First.size() + FrameHeaderSize + 4);
  EXPECT_EQ(S.substr(0, 3), "xyz");
  EXPECT_EQ(S.substr(3, First.size()), First);
  int Eight = 0;
  ASSERT_TRUE(decodeFrame(std::string_view(S).substr(3 + First.size()), Eight));
  EXPECT_EQ(Eight, 8);

  std::vector<char> V = {'a'};
  encodeFrame(V, 7, std::string("seven"));
  ASSERT_EQ(V.size(), 1 + First.size());
  EXPECT_EQ(std::string(V.begin() + 1, V.end()), First);
}

TEST(FrameTest, WriterGrowsAndTrims) {
  std::string Out;
  {
    FrameWriter W(Out);
    for (int I = 0; I < 100000; ++I)
      W.writeRaw(I);
    EXPECT_EQ(W.size(), 400000u);
    W.finish();
    EXPECT_EQ(Out.size(), 400000u);
    W.writeByte(1); // still usable after finish()
  }
  ASSERT_EQ(Out.size(), 400001u);
  int Last = 0;
  std::memcpy(&Last, &Out[399996], sizeof(int));
  EXPECT_EQ(Last, 99999);
}

TEST(FrameTest, DecodingReplacesWhatTheValuesHeld) {
  std::vector<int> V = {9, 9, 9};
  std::map<std::string, int> M = {{"old", 1}};
  std::string S = "old";
  std::optional<int> O = 3;
  std::vector<std::string> VS = {"a", "b"};
  ASSERT_TRUE(
      decodeFrame(frameOf(std::vector<int>{1},
                          std::map<std::string, int>{{"new", 2}}, std::string(),
                          std::optional<int>(), std::vector<std::string>{"c"}),
                  V, M, S, O, VS));
  EXPECT_EQ(V, std::vector<int>{1});
  EXPECT_EQ(M, (std::map<std::string, int>{{"new", 2}}));
  EXPECT_EQ(S, "");
  EXPECT_FALSE(O);
  EXPECT_EQ(VS, std::vector<std::string>{"c"});
}

//===----------------------------------------------------------------------===//
// Bad input
//===----------------------------------------------------------------------===//

// Every kind of value, so that a cut or a flipped bit lands in each decoder.
struct Sample {
  Order O = sampleOrder();
  std::vector<bool> Flags = {true, false, true};
  std::optional<std::vector<std::string>> Names =
      std::vector<std::string>{"x", "yy"};
  std::map<int, std::pair<std::string, double>> Index = {{1, {"one", 1.0}},
                                                         {2, {"two", 2.0}}};
  std::array<std::int16_t, 3> Arr = {1, -1, 2};
  std::uint64_t Big = 1ull << 40;

  std::string encode() const {
    return frameOf(O, Flags, Names, Index, Arr, Big);
  }
  FrameStatus decode(std::string_view Bytes) {
    return decodeExact(Bytes, O, Flags, Names, Index, Arr, Big);
  }
};

TEST(FrameTest, EveryTruncationIsAnError) {
  const std::string F = Sample().encode();
  ASSERT_TRUE(Sample().decode(F));
  for (std::size_t N = 0; N < F.size(); ++N) {
    // As cut: the header's length catches it.
    Sample S;
    FrameStatus St = S.decode(std::string_view(F).substr(0, N));
    EXPECT_FALSE(St) << "prefix " << N;
    EXPECT_FALSE(St.message().empty());
    if (N < FrameHeaderSize)
      continue;
    // With the length fixed up: the value decoders must catch it.
    std::string Cut = F.substr(0, N);
    fixPayloadLength(Cut);
    Sample T;
    St = T.decode(Cut);
    EXPECT_FALSE(St) << "prefix " << N;
    EXPECT_LE(St.offset(), N) << St.str();
  }
}

TEST(FrameTest, RandomCorruptionNeverCrashes) {
  const std::string F = Sample().encode();
  std::mt19937 Rng(20240611);
  auto Pick = [&Rng](std::size_t N) {
    return std::uniform_int_distribution<std::size_t>(0, N - 1)(Rng);
  };
  int Decoded = 0, Rejected = 0;
  for (int Case = 0; Case < 4000; ++Case) {
    std::string C = F;
    switch (Case % 5) {
    case 0: // flip one to three bits
      for (std::size_t K = 1 + Pick(3); K; --K)
        C[Pick(C.size())] ^= static_cast<char>(1 << Pick(8));
      break;
    case 1: // a random byte
      C[Pick(C.size())] = static_cast<char>(Pick(256));
      break;
    case 2: // a byte that looks like a long varint
      C[FrameHeaderSize + Pick(C.size() - FrameHeaderSize)] = '\xff';
      break;
    case 3: // a byte inserted
      C.insert(C.begin() + Pick(C.size() + 1), static_cast<char>(Pick(256)));
      break;
    case 4: // a byte removed
      C.erase(C.begin() + Pick(C.size()));
      break;
    }
    // Half the cases get past the header's length check.
    if (Case % 2 && C.size() >= FrameHeaderSize)
      fixPayloadLength(C);
    Sample S;
    FrameStatus St = S.decode(C);
    if (!St) {
      ++Rejected;
      EXPECT_FALSE(St.message().empty());
      EXPECT_LE(St.offset(), C.size()) << St.str();
      continue;
    }
    ++Decoded;
    // Whatever decoded is a valid value: it encodes and decodes again to a
    // fixed point.
    std::string Again = S.encode();
    Sample S2;
    ASSERT_TRUE(S2.decode(Again)) << "case " << Case;
    EXPECT_EQ(S2.encode(), Again) << "case " << Case;
  }
  // The seed gives both outcomes; if either count is zero, the decoders
  // accept everything or nothing.
  EXPECT_GT(Decoded, 100);
  EXPECT_GT(Rejected, 100);
}

// Records the largest single allocation, to show that a length prefix is
// checked before anything is allocated for it.
inline std::size_t LargestAllocation = 0;
template <class T> struct CountingAllocator {
  using value_type = T;
  CountingAllocator() = default;
  template <class U> CountingAllocator(const CountingAllocator<U> &) {}
  T *allocate(std::size_t N) {
    LargestAllocation = std::max(LargestAllocation, N * sizeof(T));
    return std::allocator<T>().allocate(N);
  }
  void deallocate(T *P, std::size_t N) { std::allocator<T>().deallocate(P, N); }
  template <class U> bool operator==(const CountingAllocator<U> &) const {
    return true;
  }
  template <class U> bool operator!=(const CountingAllocator<U> &) const {
    return false;
  }
};

TEST(FrameTest, HugeLengthsAreRejectedBeforeAllocating) {
  // 2^61 doubles would be 2^64 bytes: a check that multiplied would wrap.
  for (std::uint64_t Count : {std::uint64_t(1) << 61, std::uint64_t(1) << 40,
                              std::uint64_t(-1), std::uint64_t(3)}) {
    std::string F = handMade([&](FrameWriter &W) {
      W.writeLength(Count);
      W.writeRaw(1.0);
      W.writeRaw(2.0);
    });
    LargestAllocation = 0;
    std::vector<double, CountingAllocator<double>> V;
    FrameStatus St = decodeExact(F, V);
    EXPECT_FALSE(St) << Count;
    EXPECT_EQ(St.offset(), FrameHeaderSize);
    EXPECT_EQ(St.message(), "vector length " + std::to_string(Count) +
                                " exceeds the 16 bytes left");
    EXPECT_EQ(LargestAllocation, 0u);
  }
  // The largest count that fits is accepted.
  std::string Fits = handMade([](FrameWriter &W) {
    W.writeLength(2);
    W.writeRaw(1.0);
    W.writeRaw(2.0);
  });
  std::vector<double> D;
  EXPECT_TRUE(decodeExact(Fits, D));
  EXPECT_EQ(D, (std::vector<double>{1, 2}));

  std::string Str = handMade([](FrameWriter &W) {
    W.writeLength(std::uint64_t(1) << 62);
    W.write("abc", 3);
  });
  std::string S;
  FrameStatus St = decodeExact(Str, S);
  EXPECT_EQ(St.str(),
            "at byte 12: string length 4611686018427387904 exceeds the 3 "
            "bytes left");

  std::string Strings = handMade([](FrameWriter &W) {
    W.writeLength(std::uint64_t(1) << 40);
    W.writeLength(0);
  });
  LargestAllocation = 0;
  std::vector<std::string, CountingAllocator<std::string>> VS;
  EXPECT_FALSE(decodeExact(Strings, VS));
  EXPECT_EQ(LargestAllocation, 0u);

  LargestAllocation = 0;
  std::map<std::string, int, std::less<std::string>,
           CountingAllocator<std::pair<const std::string, int>>>
      M;
  EXPECT_FALSE(decodeExact(Strings, M));
  EXPECT_EQ(LargestAllocation, 0u);

  LargestAllocation = 0;
  std::unordered_map<std::string, int, std::hash<std::string>,
                     std::equal_to<std::string>,
                     CountingAllocator<std::pair<const std::string, int>>>
      U;
  EXPECT_FALSE(decodeExact(Strings, U));
  EXPECT_EQ(LargestAllocation, 0u);

  // A nested length is checked against what is left at its own position.
  std::vector<std::string> Nested;
  std::string Inner = handMade([](FrameWriter &W) {
    W.writeLength(2);
    W.writeLength(1);
    W.write("a", 1);
    W.writeLength(1000);
  });
  St = decodeExact(Inner, Nested);
  EXPECT_EQ(St.str(),
            "at byte 15: string length 1000 exceeds the 0 bytes left");
}

TEST(FrameTest, MalformedLengths) {
  std::string S;
  std::string Overlong = handMade([](FrameWriter &W) {
    for (int I = 0; I < 9; ++I)
      W.writeByte(0xff);
    W.writeByte(0x02); // bit 64
  });
  EXPECT_EQ(decodeExact(Overlong, S).message(),
            "length does not fit in 64 bits");
  std::string Endless = handMade([](FrameWriter &W) {
    for (int I = 0; I < 20; ++I)
      W.writeByte(0x80);
  });
  EXPECT_EQ(decodeExact(Endless, S).message(),
            "length does not fit in 64 bits");
  std::string Cut = handMade([](FrameWriter &W) { W.writeByte(0x80); });
  EXPECT_EQ(decodeExact(Cut, S).str(), "at byte 12: truncated length");
  // 2^63 is a valid varint but, as a length, far too big.
  std::string Max =
      handMade([](FrameWriter &W) { W.writeLength(std::uint64_t(1) << 63); });
  EXPECT_EQ(decodeExact(Max, S).message(),
            "string length 9223372036854775808 exceeds the 0 bytes left");
}

TEST(FrameTest, InvalidBoolsAndOptionalTagsAreRejected) {
  std::string F = frameOf(7, true);
  F.back() = 2;
  int I = 0;
  bool B = false;
  EXPECT_EQ(decodeExact(F, I, B).str(), "at byte 16: invalid bool byte 2");

  std::string VB = frameOf(std::vector<bool>{true, false});
  VB.back() = '\xff';
  std::vector<bool> Flags;
  EXPECT_EQ(decodeExact(VB, Flags).str(), "at byte 14: invalid bool byte 255");

  std::string O = frameOf(std::optional<int>(5));
  O[FrameHeaderSize] = 2;
  std::optional<int> Opt;
  EXPECT_EQ(decodeExact(O, Opt).str(), "at byte 12: invalid optional tag 2");

  // A bool inside a generated struct inside a vector: the offset is exact.
  std::vector<Line> Lines = {{"a", 1, 2.0, true}};
  std::string L = frameOf(Lines);
  ASSERT_EQ(L.back(), '\1');
  L.back() = 7;
  std::vector<Line> Back;
  EXPECT_EQ(decodeExact(L, Back).offset(), L.size() - 1);
}

TEST(FrameTest, DuplicateMapKeysAreRejected) {
  std::string F = handMade([](FrameWriter &W) {
    W.writeLength(2);
    frameMember(W, std::string("a"));
    frameMember(W, 1);
    frameMember(W, std::string("a"));
    frameMember(W, 2);
  });
  std::map<std::string, int> M;
  EXPECT_EQ(decodeExact(F, M).str(), "at byte 19: duplicate map key");
  std::unordered_map<std::string, int> U;
  EXPECT_EQ(decodeExact(F, U).str(), "at byte 19: duplicate map key");
}

TEST(FrameTest, TrailingBytesAreRejected) {
  int I = 0;
  std::string F = frameOf(1) + "x";
  EXPECT_EQ(decodeExact(F, I).str(),
            "at byte 16: 1 trailing bytes after the frame");
  fixPayloadLength(F);
  EXPECT_EQ(decodeExact(F, I).str(),
            "at byte 16: 1 trailing bytes after the last value");
  // Fewer values than were encoded: the rest is trailing; more: truncated.
  std::string Two = frameOf(1, 2);
  EXPECT_EQ(decodeExact(Two, I).str(),
            "at byte 16: 4 trailing bytes after the last value");
  int J = 0, K = 0;
  EXPECT_EQ(decodeExact(Two, I, J, K).str(),
            "at byte 20: truncated frame: 4 bytes needed, 0 left");
}

TEST(FrameTest, BadHeadersAreRejected) {
  int I = 0;
  EXPECT_EQ(decodeFrame(std::string_view(), I).str(),
            "at byte 0: truncated frame header: 0 of 12 bytes");
  std::string F = frameOf(1);
  EXPECT_EQ(decodeExact(F.substr(0, 11), I).str(),
            "at byte 0: truncated frame header: 11 of 12 bytes");
  std::string Magic = F;
  Magic[0] = 'X';
  EXPECT_EQ(decodeExact(Magic, I).str(), "at byte 0: not a frame: bad magic");
  std::string Version = F;
  Version[3] = 2;
  EXPECT_EQ(decodeExact(Version, I).str(),
            "at byte 3: unsupported frame version 2 (expected 1)");
  EXPECT_EQ(decodeExact(F.substr(0, 14), I).str(),
            "at byte 4: truncated frame: payload of 4 bytes, 2 present");
}

TEST(FrameTest, ACodecThatRejectsSilentlyStillFails) {
  Silent S;
  EXPECT_TRUE(decodeExact(frameOf(Silent{12}), S));
  EXPECT_EQ(decodeExact(frameOf(Silent{13}), S).str(),
            "at byte 16: invalid value");
}

TEST(FrameTest, ReaderKeepsTheFirstError) {
  const char Bytes[] = {1, 2, 3};
  FrameReader R(Bytes, sizeof(Bytes));
  std::uint8_t B = 0;
  EXPECT_TRUE(R.readByte(B));
  EXPECT_EQ(B, 1);
  std::int32_t I = 0;
  EXPECT_FALSE(R.readRaw(I));
  EXPECT_FALSE(R.ok());
  // Later reads fail as well, and do not replace the error.
  EXPECT_FALSE(R.readByte(B));
  EXPECT_FALSE(R.fail("second"));
  EXPECT_EQ(R.status().str(),
            "at byte 1: truncated frame: 4 bytes needed, 2 left");
}

} // namespace
