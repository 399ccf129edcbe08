// The monolith: one command per line on standard input, one line of output
// per command.
//
//   add <name> <qty>     item <name>     items
#include "entries.h"

#include <fmt/format.h>

#include <exception>
#include <iostream>
#include <sstream>
#include <string>

static void print(const inventory::Item &I) {
  fmt::print("{} {} {} {}\n", I.name, I.qty, I.label, I.tag);
}

int main() {
  std::string Line;
  while (std::getline(std::cin, Line)) {
    std::istringstream In(Line);
    std::string Command, Name;
    int Qty = 0;
    In >> Command;
    try {
      if (Command == "add" && In >> Name >> Qty) {
        print(add(Name, Qty));
      } else if (Command == "item" && In >> Name) {
        print(item(Name));
      } else if (Command == "items") {
        for (const inventory::Item &I : all())
          print(I);
        fmt::print("end\n");
      } else {
        fmt::print("error: unknown command '{}'\n", Line);
      }
    } catch (const std::exception &E) {
      fmt::print("error: {}\n", E.what());
    }
  }
}
