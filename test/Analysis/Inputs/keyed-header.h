// Keyed accesses of a map written in a header and in a macro, for
// granularity-spelling.cpp.
#include <cleave/cleave.h>

#include <map>
#include <string>

CLEAVE_STATE() extern std::map<std::string, long> in_header;

inline long bump_in_header(const std::string &k) { return ++in_header[k]; }
