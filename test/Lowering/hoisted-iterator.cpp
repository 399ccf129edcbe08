// An iterator declared before a boundary and not used after it is hoisted
// to the top of the machine, as every local a resume would jump over. Its
// type is what `auto` deduced: for a map stored whole, the map's iterator
// (a member typedef of a class template, spelled as the type it names);
// for a map stored per key, the per-key view's iterator. The generated C++
// must compile.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep cross %t.remarks | FileCheck %s --implicit-check-not=remark:
// RUN: test -f %t/build/libcleave_handlers.so
// RUN: FileCheck %s --check-prefix=CODE < %t/src/hoisted-iterator.cpp

#include <cleave/cleave.h>

#include <map>
#include <string>
#include <vector>

CLEAVE_STATE() std::map<std::string, int> per_key = {{"a", 3}};
CLEAVE_STATE() std::map<std::string, int> whole = {{"a", 3}};

CLEAVE_FUNCTION("memory=2048") int price(std::string k) {
  return static_cast<int>(k.size());
}

CLEAVE_ENTRY("POST /keyed") int keyed(std::string k) {
  auto it = per_key.find(k);
  if (it != per_key.end())
    it->second -= 1;
  int p = price(k);
  // CHECK: hoisted-iterator.cpp:[[@LINE-1]]:11: remark: 1 value crosses the boundary at {{.*}}: k (std::string) [-Rcleave]
  return per_key.count(k) ? per_key.at(k) - p : p;
}

CLEAVE_ENTRY("POST /whole") int whole_map(std::string k) {
  auto it = whole.find(k);
  std::vector<int>::size_type n = whole.size();
  if (it != whole.end())
    it->second -= 1;
  int p = price(k);
  // CHECK: hoisted-iterator.cpp:[[@LINE-1]]:11: remark: 1 value crosses the boundary at {{.*}}: n (std::vector<int>::size_type) [-Rcleave]
  return static_cast<int>(n) + p;
}

int main() { return keyed("a") + whole_map("a"); }

// CODE: ::cleave::rt::KeyedState<decltype(::per_key)>::iterator it{};
// CODE: ::std::_Rb_tree_iterator<{{.*}}> it{};
