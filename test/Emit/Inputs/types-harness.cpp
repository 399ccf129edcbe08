// Round-trips the types of types.cpp through the generated JSON and frame
// codecs, and rebuilds a Ledger from a frame without its constructors.
#include GENERATED

#include <cstdio>
#include <new>

int main() {
  Everything E;
  E.i64 = -9007199254740991;
  E.u64 = 18446744073709551615ull;
  E.f = 1.5f;
  E.d = 4.9e-324;
  E.side = Side::Sell;
  E.venue = Dark;
  E.dq = {1, 2};
  E.ls = {"x"};
  E.top[1] = {10.5, 3};
  E.s = {3, 1};
  E.ms = {Side::Sell, Side::Sell};
  E.us = {"b", "a"};
  E.byId = {{-4, {1.25, 2}}};
  E.bySide = {{Side::Buy, 1}};
  E.mm = {{"k", 1}, {"k", 2}};
  E.grid = {{{1, 2}, "a"}};
  E.p = {"p", Lit};
  E.t = {1, "t", Side::Sell};
  E.best = book::Level{2.5, 1};
  E.v = std::string("str");
  E.ledger.add(5, Side::Buy);

  cleave::codec::Json J;
  cleave::codec::encode(J, E);
  std::printf("json: %s\n", J.dump().c_str());
  Everything Back;
  cleave::codec::decode(cleave::codec::Json::parse(J.dump()), Back,
                        cleave::codec::Path{nullptr, "e"});
  cleave::codec::Json Again;
  cleave::codec::encode(Again, Back);
  std::printf("json round trip: %s\n", Again == J ? "same" : "DIFFERENT");

  std::string Bytes;
  cleave::frame::encodeFrame(Bytes, E);
  Everything FromFrame;
  auto St = cleave::frame::decodeFrame(Bytes, FromFrame);
  cleave::codec::Json Third;
  cleave::codec::encode(Third, FromFrame);
  std::printf("frame round trip: %s\n",
              St && Third == J ? "same" : St.str().c_str());

  try {
    cleave::codec::decode(
        cleave::codec::Json::parse(R"({"total": 1, "sides": ["Hold"],
                                       "names": {}, "notes": []})"),
        Back.ledger, cleave::codec::Path{nullptr, "l"});
  } catch (const cleave::codec::DecodeError &Err) {
    std::printf("refused: %s\n", Err.what());
  }

  static_assert(cleave::frame::IsResurrectable<Ledger>::value);
  static_assert(!cleave::frame::IsQuiet<Ledger>::value);
  static_assert(cleave::frame::IsQuiet<book::Level>::value);
  Bytes.clear();
  cleave::frame::encodeFrame(Bytes, E.ledger);
  cleave::frame::FrameReader R(Bytes);
  if (!cleave::frame::readFrameHeader(R))
    return 1;
  alignas(Ledger) unsigned char Storage[sizeof(Ledger)];
  int Before = Built;
  auto Made = cleave::frame::constructFrame<Ledger>(R, Storage);
  auto *L = std::launder(reinterpret_cast<Ledger *>(Storage));
  std::printf("rebuilt: %s, sum %ld, %zu sides, %zu notes, %d constructors\n",
              Made.str().c_str(), L->sum(), L->history().size(),
              L->log().size(), Built - Before);
  cleave::frame::releaseQuietly(L);
  return 0;
}
