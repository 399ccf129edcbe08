//===- FuzzCheck.h - Invariant checks for the fuzz targets ------*- C++ -*-===//
//
// A broken invariant is a crash for libFuzzer: it prints what failed and
// aborts, so that the input is kept as a crash like any sanitizer report.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_FUZZ_FUZZCHECK_H
#define CLEAVE_FUZZ_FUZZCHECK_H

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(Cond, What)                                                 \
  do {                                                                         \
    if (!(Cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__,     \
                   __LINE__, What, #Cond);                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

#endif // CLEAVE_FUZZ_FUZZCHECK_H
