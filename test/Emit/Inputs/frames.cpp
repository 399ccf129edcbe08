#include <cleave/cleave.h>

#include <optional>
#include <string>
#include <vector>

struct Stop {
  std::string city;
  double km = 0;
};
struct Empty {};
struct Trip {
  std::string name;
  std::vector<Stop> stops;
  Empty marker;
  std::vector<Trip> next;
};

CLEAVE_ENTRY("POST /trip") Trip plan(Trip t) { return t; }
