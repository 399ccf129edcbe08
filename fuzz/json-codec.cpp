//===- json-codec.cpp - Fuzz parseJson and the JSON codecs ----------------===//
//
// The first byte picks a type, the rest is JSON text. Text that parses must
// print as JSON that parses back to the same value; a value that decodes
// must encode to JSON that decodes again without error and encodes the same.
// A decoder may refuse with a DecodeError only: any other exception escapes
// and is a crash.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"
#include "Types.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

using namespace cleave::codec;

namespace {

template <class T> void roundTrip(const Json &J) {
  T V{};
  try {
    decode(J, V, Path{nullptr, "v"});
  } catch (const DecodeError &E) {
    FUZZ_CHECK(!E.Message.empty(), "a refusal says why");
    return;
  }
  Json First;
  encode(First, V);
  T Again{};
  try {
    decode(First, Again, Path{nullptr, "v"});
  } catch (const DecodeError &E) {
    std::fprintf(stderr, "%s\n", E.what());
    FUZZ_CHECK(false, "what the encoder wrote decodes");
  }
  Json Second;
  encode(Second, Again);
  FUZZ_CHECK(First == Second, "decode and encode is the identity");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  if (Size == 0)
    return 0;
  const char *Text = reinterpret_cast<const char *>(Data) + 1;
  Json J;
  std::string Error;
  if (!parseJson(Text, Size - 1, J, Error)) {
    FUZZ_CHECK(!Error.empty(), "a parse error says why");
    return 0;
  }
  // What parses prints as JSON that parses to the same value.
  std::string Printed = J.dump();
  Json Back;
  FUZZ_CHECK(parseJson(Printed, Back, Error), "printed JSON parses");
  FUZZ_CHECK(Back == J, "printed JSON parses to the same value");

  switch (Data[0] % 16) {
  case 0:
    roundTrip<long>(J);
    break;
  case 1:
    roundTrip<std::int8_t>(J);
    break;
  case 2:
    roundTrip<std::uint64_t>(J);
    break;
  case 3:
    roundTrip<double>(J);
    break;
  case 4:
    roundTrip<float>(J);
    break;
  case 5:
    roundTrip<bool>(J);
    break;
  case 6:
    roundTrip<Side>(J);
    break;
  case 7:
    roundTrip<std::string>(J);
    break;
  case 8:
    roundTrip<std::vector<std::string>>(J);
    break;
  case 9:
    roundTrip<std::map<std::string, long>>(J);
    break;
  case 10:
    roundTrip<std::map<long, std::string>>(J);
    break;
  case 11:
    roundTrip<std::optional<long>>(J);
    break;
  case 12:
    roundTrip<Line>(J);
    break;
  case 13:
    roundTrip<std::vector<Line>>(J);
    break;
  case 14:
    roundTrip<std::variant<long, std::string>>(J);
    break;
  case 15:
    roundTrip<std::tuple<std::set<long>, std::unordered_map<std::string, double>,
                         std::map<Side, bool>>>(J);
    break;
  }
  return 0;
}
