//===- frame-decode.cpp - Fuzz the binary frame decoder -------------------===//
//
// The first byte picks the types of the frame, the rest is the frame. Any
// frame that decodes must encode canonically: re-encoding the value gives a
// frame no longer than the input that decodes again to a value that encodes
// to the same bytes. Line is also rebuilt in place (constructFrame, as a
// resumed step rebuilds a local), which must agree with plain decoding.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"
#include "Types.h"

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <tuple>

using namespace cleave::frame;

namespace {

/// Decodes \p Bytes as a frame of Ts and checks the round trip.
template <class... Ts> void roundTrip(std::string_view Bytes) {
  std::tuple<Ts...> Values{};
  FrameStatus S = std::apply(
      [&](Ts &...V) { return decodeFrame(Bytes, V...); }, Values);
  if (!S) {
    FUZZ_CHECK(!S.message().empty(), "a failed decode says why");
    FUZZ_CHECK(S.offset() <= Bytes.size(), "the error offset is in the frame");
    return;
  }
  std::string First;
  std::apply([&](const Ts &...V) { encodeFrame(First, V...); }, Values);
  FUZZ_CHECK(First.size() <= Bytes.size(),
             "the canonical encoding is no longer than what it came from");
  std::tuple<Ts...> Again{};
  FrameStatus S2 = std::apply(
      [&](Ts &...V) { return decodeFrame(First, V...); }, Again);
  FUZZ_CHECK(S2, "a frame the encoder wrote decodes");
  std::string Second;
  std::apply([&](const Ts &...V) { encodeFrame(Second, V...); }, Again);
  FUZZ_CHECK(First == Second, "decode and encode is the identity");

  // Every proper prefix of a valid frame is refused (its header no longer
  // matches), and so is the frame with a byte too many.
  if (!First.empty()) {
    std::tuple<Ts...> Cut{};
    FUZZ_CHECK(!std::apply(
                   [&](Ts &...V) {
                     return decodeFrame(
                         std::string_view(First).substr(0, First.size() - 1),
                         V...);
                   },
                   Cut),
               "a truncated frame is refused");
  }
}

/// Rebuilds a Line in raw storage from the payload of \p Bytes, as a resumed
/// step does, and checks it against plain decoding.
void rebuildLine(std::string_view Bytes) {
  Line Plain;
  FrameReader R1(Bytes);
  bool Decoded = FrameCodec<Line>::decode(R1, Plain) && R1.ok();

  alignas(Line) unsigned char Storage[sizeof(Line)];
  FrameReader R2(Bytes);
  bool Built = static_cast<bool>(constructFrame<Line>(R2, Storage));
  FUZZ_CHECK(Built == Decoded, "rebuilding agrees with decoding");
  FUZZ_CHECK(R1.offset() == R2.offset() || !Decoded,
             "rebuilding reads as many bytes as decoding");
  if (!Built)
    return;
  Line *Rebuilt = std::launder(reinterpret_cast<Line *>(Storage));
  std::string A, B;
  {
    FrameWriter W(A);
    FrameCodec<Line>::encode(W, Plain);
  }
  {
    FrameWriter W(B);
    FrameCodec<Line>::encode(W, *Rebuilt);
  }
  releaseQuietly(Rebuilt);
  FUZZ_CHECK(A == B, "the rebuilt Line equals the decoded one");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  if (Size == 0)
    return 0;
  std::string_view Bytes(reinterpret_cast<const char *>(Data) + 1, Size - 1);
  switch (Data[0] % 9) {
  case 0:
    roundTrip<long>(Bytes);
    break;
  case 1:
    roundTrip<std::string>(Bytes);
    break;
  case 2:
    roundTrip<std::vector<std::string>>(Bytes);
    break;
  case 3:
    roundTrip<std::map<std::string, long>>(Bytes);
    break;
  case 4:
    roundTrip<std::optional<std::string>, bool>(Bytes);
    break;
  case 5:
    roundTrip<Line>(Bytes);
    break;
  case 6:
    roundTrip<int, std::vector<Line>, std::optional<Line>>(Bytes);
    break;
  case 7:
    roundTrip<std::vector<double>, std::set<long>,
              std::variant<long, std::string>>(Bytes);
    break;
  case 8:
    rebuildLine(Bytes);
    break;
  }
  return 0;
}
