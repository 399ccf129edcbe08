#include <cleave/cleave.h>

#if defined(__clang__)
#define ANSWER 42
#else
#define ANSWER __builtin_clang_only_marker()
#endif

CLEAVE_ENTRY("GET /answer") int answer() { return ANSWER; }
