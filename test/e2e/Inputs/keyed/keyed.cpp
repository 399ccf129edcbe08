//===- keyed.cpp - Maps stored per key, against the monolith --------------===//
//
// Both maps are used only by key, so the deployment stores them per key
// ("shelves/apple"): an entry of the initial value is read until the key is
// first written, an erased entry stays erased (also one of the initial
// value), a reference from m[k] writes through, and an iterator from find()
// reads and writes its entry.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>

struct Shelf {
  int count = 0;
  std::string aisle;
};

CLEAVE_STATE()
std::map<std::string, Shelf> shelves = {{"apple", {5, "A1"}},
                                        {"pear", {2, "A2"}}};
CLEAVE_STATE() std::unordered_map<std::string, long> views;

CLEAVE_ENTRY("GET /shelf") Shelf shelf(std::string name) {
  ++views[name];
  return shelves.at(name); // a missing shelf throws: 500
}

CLEAVE_ENTRY("POST /stock") int stock(std::string name, int n,
                                      std::string aisle) {
  Shelf &s = shelves[name];
  s.count += n;
  if (!aisle.empty())
    s.aisle = aisle;
  return s.count;
}

CLEAVE_ENTRY("POST /take") int take(std::string name, int n) {
  auto it = shelves.find(name);
  if (it == shelves.end())
    throw std::runtime_error("no shelf " + name);
  if (it->second.count < n)
    return -1;
  it->second.count -= n;
  int left = it->second.count;
  if (left == 0)
    shelves.erase(name);
  return left;
}

CLEAVE_ENTRY("DELETE /shelf") bool drop(std::string name) {
  return shelves.erase(name) == 1;
}

CLEAVE_ENTRY("GET /has") bool has(std::string name) {
  return shelves.count(name) == 1;
}

CLEAVE_FUNCTION() int extra_for(std::string name) {
  return static_cast<int>(name.size());
}

// A boundary between two writes of the same key: the first is committed
// with the step, and the second step reads it back.
CLEAVE_ENTRY("POST /restock") int restock(std::string name) {
  shelves[name].count += 1;
  int extra = extra_for(name);
  shelves[name].count += extra;
  return shelves.at(name).count;
}

// An iterator from find() before a boundary: hoisted over the resume.
CLEAVE_ENTRY("POST /sell") int sell(std::string name) {
  auto it = shelves.find(name);
  if (it == shelves.end())
    return -1;
  it->second.count -= 1;
  int extra = extra_for(name);
  auto again = shelves.find(name);
  if (again != shelves.end())
    again->second.count -= extra;
  return again == shelves.end() ? -2 : again->second.count;
}

CLEAVE_ENTRY("GET /views") long views_of(std::string name) {
  return views.find(name) != views.end() ? views.at(name) : 0;
}

int main() { return shelf("apple").count == 5 ? 0 : 1; }
