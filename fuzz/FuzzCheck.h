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
#include <string>
#include <string_view>

#define FUZZ_CHECK(Cond, What)                                                 \
  do {                                                                         \
    if (!(Cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__,     \
                   __LINE__, What, #Cond);                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

/// \p S with ASCII letters in lower case.
inline std::string lower(std::string_view S) {
  std::string Out(S);
  for (char &C : Out)
    if (C >= 'A' && C <= 'Z')
      C = static_cast<char>(C - 'A' + 'a');
  return Out;
}

#endif // CLEAVE_FUZZ_FUZZCHECK_H
