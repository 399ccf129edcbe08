//===- RecordingReporter.h - Benchmark figures for summaries ----*- C++ -*-===//
//
// A console reporter that also keeps every run's figures, so that a
// benchmark's main() can print ratios and percentiles after the runs.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_BENCH_RECORDINGREPORTER_H
#define CLEAVE_BENCH_RECORDINGREPORTER_H

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace cleave::bench {

/// Prints as the console reporter does and keeps each run's wall time per
/// iteration (seconds) and its counters, by run name, one value per
/// repetition.
class RecordingReporter : public benchmark::ConsoleReporter {
public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run> &Runs) override {
    ConsoleReporter::ReportRuns(Runs);
    for (const Run &R : Runs) {
      if (R.run_type != Run::RT_Iteration || R.error_occurred)
        continue;
      auto &Rec = Results[R.run_name.str()];
      Rec[""].push_back(R.GetAdjustedRealTime() /
                        benchmark::GetTimeUnitMultiplier(R.time_unit));
      for (const auto &[Name, C] : R.counters)
        Rec[Name].push_back(C.value);
    }
  }

  /// The median wall time over repetitions, or 0 when \p Name did not run.
  double median(const std::string &Name) const { return counter(Name, ""); }

  /// The median of counter \p Counter over the repetitions of \p Name, or 0.
  double counter(const std::string &Name, const std::string &Counter) const {
    auto It = Results.find(Name);
    if (It == Results.end())
      return 0;
    auto C = It->second.find(Counter);
    if (C == It->second.end() || C->second.empty())
      return 0;
    std::vector<double> V = C->second;
    std::sort(V.begin(), V.end());
    std::size_t N = V.size();
    return N % 2 ? V[N / 2] : (V[N / 2 - 1] + V[N / 2]) / 2;
  }

private:
  /// Per run name: the wall time (key "") and each counter, one value per
  /// repetition.
  std::map<std::string, std::map<std::string, std::vector<double>>> Results;
};

} // namespace cleave::bench

#endif // CLEAVE_BENCH_RECORDINGREPORTER_H
