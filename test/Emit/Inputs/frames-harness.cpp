// Round-trips a value through the generated frame codecs of frames.cpp.
#include GENERATED

#include <cstdio>

int main() {
  Trip T{"Lisbon", {{"Porto", 313.5}, {"Faro", 278}}, {}, {}};
  T.next.push_back(Trip{"Evora", {{"Beja", 78}}, {}, {}});
  std::string Bytes;
  cleave::frame::encodeFrame(Bytes, T, 42L);
  Trip Back;
  long N = 0;
  auto Status = cleave::frame::decodeFrame(Bytes, Back, N);
  if (!Status || N != 42 || Back.name != T.name || Back.stops.size() != 2 ||
      Back.stops[1].km != 278 || Back.next.size() != 1 ||
      Back.next[0].stops[0].city != "Beja") {
    std::printf("round trip failed\n");
    return 1;
  }
  std::printf("round trip ok: %s, %zu stops, %zu alternative\n",
              Back.name.c_str(), Back.stops.size(), Back.next.size());
  size_t Rejected = 0;
  for (size_t Len = 0; Len < Bytes.size(); ++Len) {
    Trip Partial;
    long M = 0;
    if (!cleave::frame::decodeFrame(std::string_view(Bytes.data(), Len),
                                    Partial, M))
      ++Rejected;
  }
  std::printf("truncated frames rejected: %zu of %zu\n", Rejected,
              Bytes.size());
  return Rejected == Bytes.size() ? 0 : 1;
}
