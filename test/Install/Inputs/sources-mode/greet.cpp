#include <cleave/cleave.h>
#include <string>

CLEAVE_ENTRY("GET /greet") std::string greet(std::string name) {
  return std::string(GREETING) + ", " + name;
}
