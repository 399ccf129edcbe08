//===- pipeline.cpp - Boundaries inside loops -----------------------------===//
//
// A job runs in rounds; each round is one call of `stage`, which has its own
// resource profile, so in the deployment every such call is a boundary. The
// entries call it inside loops of every kind: a counted `for` with an
// accumulator, a `while` with the call in an `if` condition and an early
// `return`, a range-for over a vector with a nested loop, and a `while` that
// runs until a target is reached. The call sits in a declaration, an
// assignment, a compound assignment, an expression statement, a `return` and
// an `if` condition.
//
// `stages_started` is counted before each call and `stages_finished` after
// it, so the two differ by the calls that threw. Amounts are whole cents
// (`stage` returns them in currency units, and every sum is rounded to
// cents), so the monolith and the deployment agree on every bit of them.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

struct Job {
  std::string name;
  long base = 0;            // cents, 0 to MaxBase
  std::vector<int> factors; // percent, 0 to MaxFactor; round r uses r mod size
};

struct Report {
  std::string name;
  double total = 0;
  int rounds = 0;
  std::vector<double> per_round; // the running total after each round
  std::string trace;
};

struct Found {
  bool found = false;
  int index = -1;
  std::string name;
  int tried = 0;
};

struct Grid {
  std::vector<std::vector<double>> rows;
  double total = 0;
  int cells = 0;
  int skipped = 0;
};

struct Counters {
  long started = 0;
  long finished = 0;
};

CLEAVE_STATE() long stages_started = 0;
CLEAVE_STATE() long stages_finished = 0;
CLEAVE_STATE("consistency=eventual") std::map<std::string, double> best_total;

constexpr long MaxBase = 1000000000; // cents
constexpr int MaxFactor = 10000;     // percent
constexpr int MaxRounds = 40;
constexpr double Budget = 1000000; // what one run may add up to

static double round_to_cents(double x) { return std::round(x * 100) / 100; }

/// \p x, a whole number of cents, as text: "12.50", "-0.07".
static std::string cents_text(double x) {
  long cents = std::lround(x * 100);
  std::string sign = cents < 0 ? "-" : "";
  cents = std::labs(cents);
  std::string frac = std::to_string(cents % 100);
  return sign + std::to_string(cents / 100) + "." +
         (frac.size() < 2 ? "0" : "") + frac;
}

/// Round \p round of \p j: its base scaled by the round's factor, in whole
/// cents (truncated), plus one cent per round; returned in currency units.
CLEAVE_FUNCTION("memory=1024") double stage(const Job &j, int round) {
  if (round < 0)
    throw std::invalid_argument("round " + std::to_string(round) +
                                " is negative");
  if (j.factors.empty())
    throw std::invalid_argument("job '" + j.name + "' has no factors");
  if (j.base < 0 || j.base > MaxBase)
    throw std::out_of_range("base of job '" + j.name + "' is out of range");
  long factor = j.factors[static_cast<size_t>(round) % j.factors.size()];
  if (factor < 0 || factor > MaxFactor)
    throw std::out_of_range("factor " + std::to_string(factor) + " of job '" +
                            j.name + "' is out of range");
  long cents = j.base * factor / 100 + round;
  return cents / 100.0;
}

/// Runs \p rounds rounds of \p job and sums them. Throws when the running
/// total goes over the budget; the rounds before it stay counted.
CLEAVE_ENTRY("POST /run") Report run(Job job, int rounds) {
  if (rounds < 0 || rounds > MaxRounds)
    throw std::runtime_error("rounds must be from 0 to " +
                             std::to_string(MaxRounds) + ", not " +
                             std::to_string(rounds));
  std::string banner = "running " + job.name; // dead once the loop starts
  if (banner.size() > 100)
    throw std::invalid_argument("job name is too long");
  Report report;
  report.name = job.name;
  std::string trace = job.name + ":";
  double acc = 0;
  for (int round = 0; round < rounds; ++round) {
    ++stages_started;
    int remaining = rounds - round; // dead after the call
    if (remaining == 1)
      trace += " last";
    acc += stage(job, round);
    acc = round_to_cents(acc);
    ++stages_finished;
    report.per_round.push_back(acc);
    trace += " " + std::to_string(round) + "=" + cents_text(acc);
    if (acc > Budget)
      throw std::runtime_error("job '" + job.name +
                               "' is over budget after round " +
                               std::to_string(round));
  }
  report.total = acc;
  report.rounds = rounds;
  report.trace = trace;
  if (acc > best_total[job.name])
    best_total[job.name] = acc;
  return report;
}

/// The first of \p jobs whose first round is worth at least \p threshold.
CLEAVE_ENTRY("POST /first-over")
Found first_over(std::vector<Job> jobs, double threshold) {
  Found found;
  int i = 0;
  int n = static_cast<int>(jobs.size());
  while (i < n) {
    Job job = jobs[i];
    ++stages_started;
    if (stage(job, 0) >= threshold) {
      ++stages_finished;
      found.found = true;
      found.index = i;
      found.name = job.name;
      found.tried = i + 1;
      return found;
    }
    ++stages_finished;
    ++i;
  }
  found.tried = n;
  return found;
}

/// One row per job of \p jobs, with the value of each of \p rounds rounds.
/// A job without a name is skipped; a round worth nothing ends its row.
CLEAVE_ENTRY("POST /grid") Grid grid(std::vector<Job> jobs, int rounds) {
  if (rounds < 0 || rounds > MaxRounds)
    throw std::invalid_argument("rounds out of range");
  Grid g;
  for (Job job : jobs) {
    if (job.name.empty()) {
      ++g.skipped;
      continue;
    }
    stage(job, 0); // throws before the row starts if the job cannot run
    std::vector<double> row;
    for (int round = 0; round < rounds; ++round) {
      double value = stage(job, round);
      row.push_back(value);
      g.total = round_to_cents(g.total + value);
      ++g.cells;
      if (value == 0)
        break;
    }
    g.rows.push_back(row);
  }
  return g;
}

/// Runs rounds of \p job until their sum reaches \p target; gives up after
/// MaxRounds rounds.
CLEAVE_ENTRY("POST /until") Report until(Job job, double target) {
  Report report;
  report.name = job.name;
  std::string trace = job.name + ":";
  double acc = 0;
  int round = 0;
  while (acc < target) {
    if (round == MaxRounds)
      throw std::runtime_error("job '" + job.name + "' did not reach " +
                               cents_text(target) + " in " +
                               std::to_string(MaxRounds) + " rounds");
    double value = 0;
    ++stages_started;
    value = stage(job, round);
    ++stages_finished;
    acc = round_to_cents(acc + value);
    report.per_round.push_back(acc);
    trace += " " + cents_text(value);
    ++round;
  }
  report.total = acc;
  report.rounds = round;
  report.trace = trace;
  return report;
}

/// One round of a job with a single factor.
CLEAVE_ENTRY("GET /stage")
double stage_of(std::string name, long base, int factor, int round) {
  Job j;
  j.name = name;
  j.base = base;
  j.factors = {factor};
  return stage(j, round);
}

CLEAVE_ENTRY("GET /best") double best_of(std::string name) {
  auto it = best_total.find(name);
  return it == best_total.end() ? 0 : it->second;
}

CLEAVE_ENTRY("GET /counters") Counters counters() {
  Counters c;
  c.started = stages_started;
  c.finished = stages_finished;
  return c;
}

int main() {
  Job job;
  job.name = "alpha";
  job.base = 1250;
  job.factors = {100, 50, 200};
  Report r = run(job, 4);
  std::cout << r.trace << " -> " << cents_text(r.total) << "\n";
  Grid g = grid({job, job}, 3);
  std::cout << g.cells << " cells, total " << cents_text(g.total) << "\n";
  try {
    run(job, MaxRounds + 1);
  } catch (const std::runtime_error &e) {
    std::cout << "refused: " << e.what() << "\n";
  }
  Counters c = counters();
  std::cout << c.started << " stages started, " << c.finished << " finished\n";
  return 0;
}
