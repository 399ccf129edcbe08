// Which maps are stored per key: a std::map or std::unordered_map whose
// every use outside main() is a keyed access.
// Every other map is stored whole, and the remark names the use that keeps
// it so. The handler library must build: the keyed view offers every access
// the analysis accepts.
// RUN: rm -rf %t
// RUN: cleave build -q -Rcleave -o %t %s -- -std=c++20 2> %t.remarks
// RUN: FileCheck %s --check-prefix=REMARK --implicit-check-not=remark: < %t.remarks
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/manifest.yaml
// RUN: FileCheck %s --check-prefix=CODE < %t/src/granularity.cpp

#include <cleave/cleave.h>

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

// Keyed by every accepted form.
CLEAVE_STATE() std::map<std::string, long> keyed = {{"a", 1}};
// REMARK-DAG: granularity.cpp:[[@LINE-1]]:44: remark: state 'keyed' is stored per key, as 'keyed/<key>': every use is a keyed access
CLEAVE_STATE() std::unordered_map<std::string, std::string> by_id;
// REMARK-DAG: granularity.cpp:[[@LINE-1]]:61: remark: state 'by_id' is stored per key, as 'by_id/<key>'
// Never used at all: per key, vacuously.
CLEAVE_STATE() std::map<std::string, int> unused;
// REMARK-DAG: granularity.cpp:[[@LINE-1]]:43: remark: state 'unused' is stored per key

// Each of these is kept whole by one use.
CLEAVE_STATE() std::map<std::string, int> sized;
CLEAVE_STATE() std::map<std::string, int> walked;
CLEAVE_STATE() std::map<std::string, int> passed;
CLEAVE_STATE() std::map<std::string, int> stepped;
CLEAVE_STATE() std::map<std::string, int> bound;
CLEAVE_STATE() std::map<std::string, int> returned;
CLEAVE_STATE() std::map<std::string, int> erased_by_iterator;
// Not a map: nothing to explain.
CLEAVE_STATE() std::vector<int> list;

int total_of(const std::map<std::string, int> &m) { return (int)m.size(); }

CLEAVE_ENTRY("POST /keyed") long use_keyed(std::string k, std::string id) {
  keyed[k] += 1;
  long v = keyed.at(k) + (long)keyed.count("a");
  if (keyed.contains("gone"))
    keyed.erase("gone");
  auto it = keyed.find(k);
  if (it != keyed.end())
    v += it->second + (long)(*it).first.size();
  if (keyed.find("b") == keyed.end())
    keyed["b"] = 2;
  if (auto found = keyed.find("a"); found != keyed.cend())
    found->second += 1;
  by_id[id] = k;
  return v + (long)by_id.at(id).size();
}
// CODE: ::cleave::rt::stateKeys(::keyed, "keyed")[k] += 1;
// CODE: auto it = ::cleave::rt::stateKeys(::keyed, "keyed").find(k);

CLEAVE_ENTRY("POST /whole") int use_whole(std::string k) {
  int n = (int)sized.size();
  // REMARK-DAG: granularity.cpp:[[@LINE-1]]:16: remark: state 'sized' is stored as one value: this use calls 'size', which is not a keyed access
  for (const auto &[key, value] : walked)
    // REMARK-DAG: granularity.cpp:[[@LINE-1]]:35: remark: state 'walked' is stored as one value: this use iterates over it, which is not a keyed access
    n += value;
  n += total_of(passed);
  // REMARK-DAG: granularity.cpp:[[@LINE-1]]:17: remark: state 'passed' is stored as one value: this use passes it to 'total_of', which is not a keyed access
  auto it = stepped.find(k);
  // REMARK-DAG: granularity.cpp:[[@LINE-1]]:13: remark: state 'stepped' is stored as one value: this use calls 'find' and uses the iterator other than by '->', '*' or a comparison with end(), which is not a keyed access
  if (it != stepped.end())
    ++it;
  auto &alias = bound;
  // REMARK-DAG: granularity.cpp:[[@LINE-1]]:17: remark: state 'bound' is stored as one value: this use binds it to 'alias', which is not a keyed access
  alias[k] = 1;
  auto pos = erased_by_iterator.find(k);
  // REMARK-DAG: granularity.cpp:[[@LINE-1]]:14: remark: state 'erased_by_iterator' is stored as one value: this use calls 'find' and uses the iterator other than by '->', '*' or a comparison with end()
  if (pos != erased_by_iterator.end())
    erased_by_iterator.erase(pos);
  list.push_back(n);
  return n;
}

CLEAVE_ENTRY("GET /returned") std::map<std::string, int> get_returned() {
  return returned;
  // REMARK-DAG: granularity.cpp:[[@LINE-1]]:10: remark: state 'returned' is stored as one value: this use copies it, which is not a keyed access
}

// main() is not deployed: its uses do not count.
int main() {
  return (int)keyed.size() + (int)by_id.size() + (int)unused.size();
}

// MANIFEST-LABEL: state:
// MANIFEST:        - name: keyed
// MANIFEST:          granularity: key
// MANIFEST:        - name: by_id
// MANIFEST:          granularity: key
// MANIFEST:        - name: unused
// MANIFEST:          granularity: key
// MANIFEST:        - name: sized
// MANIFEST:          granularity: whole
// MANIFEST:        - name: walked
// MANIFEST:          granularity: whole
// MANIFEST:        - name: list
// MANIFEST:          granularity: whole
