//===- hello.cpp - The smallest Cleave program ----------------------------===//
//
// One entry and nothing else. Built as an ordinary program it greets the
// world; compiled with `cleave build` it serves GET /hello?name=... and
// answers with the greeting as a JSON string.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <iostream>
#include <string>

CLEAVE_ENTRY("GET /hello") std::string hello(std::string name) {
  return "Hello, " + name + "!";
}

int main() {
  std::cout << hello("world") << "\n";
  return 0;
}
