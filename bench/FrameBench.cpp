//===- FrameBench.cpp - Binary frames against nlohmann::json --------------===//
//
// The frame benchmark of issue 3: a round trip (encode, then decode into a
// fresh value) of a struct with 4 ints, 2 strings of 16 bytes and a
// std::vector<double> of 16, through the generated-style FrameCodec and
// through nlohmann::json (to_json, dump, parse, from_json), in the same run.
// After the runs it prints how many times faster the frame is; the target
// is 20x. Figures only: nothing here fails on timing.
//
//===----------------------------------------------------------------------===//

#include "cleave/frame.h"

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

struct Payload {
  int A = 0;
  int B = 0;
  int C = 0;
  int D = 0;
  std::string Name;
  std::string Note;
  std::vector<double> Samples;
};

bool operator==(const Payload &X, const Payload &Y) {
  return X.A == Y.A && X.B == Y.B && X.C == Y.C && X.D == Y.D &&
         X.Name == Y.Name && X.Note == Y.Note && X.Samples == Y.Samples;
}

// By hand, as a user of nlohmann::json would write them.
void to_json(nlohmann::json &J, const Payload &P) {
  J = nlohmann::json{{"a", P.A},
                     {"b", P.B},
                     {"c", P.C},
                     {"d", P.D},
                     {"name", P.Name},
                     {"note", P.Note},
                     {"samples", P.Samples}};
}
void from_json(const nlohmann::json &J, Payload &P) {
  J.at("a").get_to(P.A);
  J.at("b").get_to(P.B);
  J.at("c").get_to(P.C);
  J.at("d").get_to(P.D);
  J.at("name").get_to(P.Name);
  J.at("note").get_to(P.Note);
  J.at("samples").get_to(P.Samples);
}

Payload makePayload() {
  Payload P;
  P.A = 42;
  P.B = -7;
  P.C = 1 << 20;
  P.D = 123456789;
  P.Name = "customer-0000001"; // 16 bytes: past the small-string buffer
  P.Note = "note-abcdefghijk";
  for (int I = 0; I < 16; ++I)
    P.Samples.push_back(I * 1.1 + 0.123);
  return P;
}

} // namespace

// Exactly what the compiler generates for Payload: one line per member.
namespace cleave::frame {
template <> struct FrameCodec<Payload> {
  static void encode(FrameWriter &W, const Payload &V) {
    frameMember(W, V.A);
    frameMember(W, V.B);
    frameMember(W, V.C);
    frameMember(W, V.D);
    frameMember(W, V.Name);
    frameMember(W, V.Note);
    frameMember(W, V.Samples);
  }
  static bool decode(FrameReader &R, Payload &V) {
    frameMember(R, V.A);
    frameMember(R, V.B);
    frameMember(R, V.C);
    frameMember(R, V.D);
    frameMember(R, V.Name);
    frameMember(R, V.Note);
    frameMember(R, V.Samples);
    return R.ok();
  }
};
} // namespace cleave::frame

namespace {

using cleave::frame::decodeFrame;
using cleave::frame::encodeFrame;

// A new buffer and a new value every time, as a step gets them: the
// message is a new string and the resumed step's locals are fresh.
void BM_FrameRoundTrip(benchmark::State &State) {
  const Payload In = makePayload();
  for (auto _ : State) {
    std::string Bytes;
    encodeFrame(Bytes, In);
    Payload Out;
    if (!decodeFrame(Bytes, Out)) {
      State.SkipWithError("frame did not decode");
      break;
    }
    benchmark::DoNotOptimize(Out);
  }
}
BENCHMARK(BM_FrameRoundTrip);

void BM_JsonRoundTrip(benchmark::State &State) {
  const Payload In = makePayload();
  for (auto _ : State) {
    nlohmann::json J = In;
    std::string Text = J.dump();
    Payload Out = nlohmann::json::parse(Text).get<Payload>();
    benchmark::DoNotOptimize(Out);
  }
}
BENCHMARK(BM_JsonRoundTrip);

// The parts, for reading the figures above; not used in the ratio.
void BM_FrameRoundTripReused(benchmark::State &State) {
  const Payload In = makePayload();
  std::string Bytes;
  Payload Out;
  for (auto _ : State) {
    Bytes.clear();
    encodeFrame(Bytes, In);
    if (!decodeFrame(Bytes, Out)) {
      State.SkipWithError("frame did not decode");
      break;
    }
    benchmark::DoNotOptimize(Out);
  }
}
BENCHMARK(BM_FrameRoundTripReused);

void BM_FrameEncode(benchmark::State &State) {
  const Payload In = makePayload();
  for (auto _ : State) {
    std::string Bytes;
    encodeFrame(Bytes, In);
    benchmark::DoNotOptimize(Bytes);
  }
}
BENCHMARK(BM_FrameEncode);

void BM_FrameDecode(benchmark::State &State) {
  std::string Bytes;
  encodeFrame(Bytes, makePayload());
  for (auto _ : State) {
    Payload Out;
    if (!decodeFrame(Bytes, Out)) {
      State.SkipWithError("frame did not decode");
      break;
    }
    benchmark::DoNotOptimize(Out);
  }
}
BENCHMARK(BM_FrameDecode);

void BM_JsonEncode(benchmark::State &State) {
  const Payload In = makePayload();
  for (auto _ : State) {
    std::string Text = nlohmann::json(In).dump();
    benchmark::DoNotOptimize(Text);
  }
}
BENCHMARK(BM_JsonEncode);

void BM_JsonDecode(benchmark::State &State) {
  const std::string Text = nlohmann::json(makePayload()).dump();
  for (auto _ : State) {
    Payload Out = nlohmann::json::parse(Text).get<Payload>();
    benchmark::DoNotOptimize(Out);
  }
}
BENCHMARK(BM_JsonDecode);

/// Prints as the console reporter does and keeps each benchmark's CPU time
/// per iteration (seconds), one entry per repetition.
class RecordingReporter : public benchmark::ConsoleReporter {
public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run> &Runs) override {
    ConsoleReporter::ReportRuns(Runs);
    for (const Run &R : Runs)
      if (R.run_type == Run::RT_Iteration && !R.error_occurred)
        Seconds[R.run_name.function_name].push_back(
            R.GetAdjustedCPUTime() /
            benchmark::GetTimeUnitMultiplier(R.time_unit));
  }

  /// The median over repetitions, or 0 when \p Name did not run.
  double median(const std::string &Name) const {
    auto It = Seconds.find(Name);
    if (It == Seconds.end() || It->second.empty())
      return 0;
    std::vector<double> V = It->second;
    std::sort(V.begin(), V.end());
    std::size_t N = V.size();
    return N % 2 ? V[N / 2] : (V[N / 2 - 1] + V[N / 2]) / 2;
  }

private:
  std::map<std::string, std::vector<double>> Seconds;
};

/// Both paths must carry the same value, or the comparison is meaningless.
bool checkBothRoundTrip() {
  const Payload In = makePayload();
  std::string Bytes;
  encodeFrame(Bytes, In);
  Payload ViaFrame;
  auto Status = decodeFrame(Bytes, ViaFrame);
  Payload ViaJson =
      nlohmann::json::parse(nlohmann::json(In).dump()).get<Payload>();
  if (!Status || !(ViaFrame == In) || !(ViaJson == In)) {
    std::fprintf(stderr, "FrameBench: a round trip changed the value (%s)\n",
                 Status.str().c_str());
    return false;
  }
  std::printf("payload: frame %zu bytes, json %zu bytes\n", Bytes.size(),
              nlohmann::json(In).dump().size());
  return true;
}

std::string perOp(double Seconds) {
  char Buf[32];
  if (Seconds < 1e-6)
    std::snprintf(Buf, sizeof(Buf), "%.0f ns", Seconds * 1e9);
  else
    std::snprintf(Buf, sizeof(Buf), "%.2f us", Seconds * 1e6);
  return Buf;
}

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  if (!checkBothRoundTrip())
    return 1;

  RecordingReporter Reporter(isatty(STDOUT_FILENO)
                                 ? benchmark::ConsoleReporter::OO_ColorTabular
                                 : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&Reporter);
  benchmark::Shutdown();

  double Frame = Reporter.median("BM_FrameRoundTrip");
  double Json = Reporter.median("BM_JsonRoundTrip");
  if (Frame <= 0 || Json <= 0) {
    std::printf("frame vs nlohmann::json: not computed (run both "
                "BM_FrameRoundTrip and BM_JsonRoundTrip)\n");
    return 0;
  }
  double Ratio = Json / Frame;
  std::printf("frame round trip is %.1fx faster than nlohmann::json (target "
              ">= 20x): frame %s, json %s per round trip%s\n",
              Ratio, perOp(Frame).c_str(), perOp(Json).c_str(),
              Ratio >= 20 ? "" : " -- BELOW TARGET");
  return 0;
}
