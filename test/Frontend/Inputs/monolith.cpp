// Every form of every annotation, in an ordinary program.
#include <cleave/cleave.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

CLEAVE_STATE() std::map<std::string, int> stock = {{"apple", 5}};
CLEAVE_STATE("consistency=eventual") long orders = 0;

CLEAVE_FUNCTION() int square(int x) { return x * x; }
CLEAVE_FUNCTION("memory=2048,isolate") int twice(int x) { return 2 * x; }

CLEAVE_ENTRY("POST /orders") bool place(std::string item, int qty) {
  if (stock[item] < qty)
    return false;
  stock[item] -= twice(qty) / 2;
  ++orders;
  return true;
}

int main() {
  bool Ok = place("apple", 1);
  std::vector<int> In = {1, 2, 3};
  std::vector<int> Sq = cleave::parallel_map(In, square);
  std::cout << "order " << orders << ": " << (Ok ? "ok" : "refused") << ", "
            << stock["apple"] << " left, squares";
  for (int S : Sq)
    std::cout << " " << S;
  std::cout << "\n";
}
