// Shared declarations of the program that jobs.test builds.
#include <cleave/cleave.h>

#include <map>
#include <string>

CLEAVE_STATE() extern std::map<std::string, long> stock;

CLEAVE_FUNCTION("memory=2048") long quote(long qty);
long restock(const std::string &item, long qty);
