// Entries, functions and state are found across translation units, in
// namespaces, as static members; the state each entry uses is followed
// through plain helpers, also into another unit.
// RUN: cleave build -q --no-build --name shop -o %t %s %S/Inputs/discovery-helpers.cpp -- -std=c++17
// RUN: FileCheck %s < %t/manifest.yaml

#include <cleave/cleave.h>

#include <map>
#include <string>

namespace inv {
CLEAVE_STATE() std::map<std::string, int> stock;
}
struct Stats {
  CLEAVE_STATE("consistency=eventual") static long hits;
};
long Stats::hits = 0;

int bump(); // defined in Inputs/discovery-helpers.cpp, touches 'audit'

CLEAVE_FUNCTION("memory=1024,timeout=5") int weigh(int n) { return n * 2; }

CLEAVE_ENTRY("GET /stock") int stock_of(std::string item) {
  ++Stats::hits;
  return inv::stock.count(item) ? inv::stock.at(item) : 0;
}

CLEAVE_ENTRY("POST /stock") void restock(std::string item, int qty) {
  inv::stock[item] += weigh(qty) + bump();
}

int main() { return stock_of("x"); }

// CHECK:      apiVersion: cleave/v2
// CHECK-NEXT: kind: Deployment
// CHECK-NEXT: name: shop
// CHECK-NEXT: artifact: build/libcleave_handlers.so
// CHECK-NEXT: functions:
// CHECK-NEXT:   - name: weigh
// CHECK-NEXT:     kind: function
// CHECK-NEXT:     resources: {memoryMiB: 1024, timeoutSeconds: 5, gpus: 0, concurrency: 0}
// CHECK-NEXT:     isolate: false
// CHECK-NEXT:     source: {{.*}}discovery.cpp:22:46
// CHECK-NEXT:     machine: weigh
// CHECK-NEXT:   - name: stock_of
// CHECK-NEXT:     kind: entry
// CHECK-NEXT:     handler: stock_of
// CHECK-NEXT:     trigger:
// CHECK-NEXT:       method: GET
// CHECK-NEXT:       path: /stock
// CHECK-NEXT:     params:
// CHECK-NEXT:       - {name: item, type: std::string}
// CHECK-NEXT:     returns: int
// CHECK:          state:
// CHECK-NEXT:       - {name: Stats::hits, access: readwrite}
// CHECK-NEXT:       - {name: inv::stock, access: read}
// CHECK-NEXT:   - name: restock
// CHECK-NEXT:     kind: entry
// CHECK:            method: POST
// CHECK-NEXT:       path: /stock
// CHECK-NEXT:     params:
// CHECK-NEXT:       - {name: item, type: std::string}
// CHECK-NEXT:       - {name: qty, type: int}
// CHECK-NEXT:     returns: void
// CHECK:          state:
// CHECK-NEXT:       - {name: audit, access: readwrite}
// CHECK-NEXT:       - {name: inv::stock, access: readwrite}
// CHECK-NEXT:     calls:
// CHECK-NEXT:       - {callee: weigh, placement: boundary, reason: "memory 1024 MiB vs 256 MiB, timeout 5 s vs 30 s", source: {{.*}}discovery.cpp:30:23}
// The boundary cuts restock in two; `item` is read again after the call.
// CHECK-NEXT:     machine: restock
// CHECK-NEXT:     steps:
// CHECK-NEXT:       - id: 0
// CHECK-NEXT:         source: {{.*}}discovery.cpp:29:69
// CHECK-NEXT:       - id: 1
// CHECK-NEXT:         source: {{.*}}discovery.cpp:30:23
// CHECK-NEXT:     edges:
// CHECK-NEXT:       - from: [0]
// CHECK-NEXT:         callee: weigh
// CHECK-NEXT:         placement: boundary
// CHECK-NEXT:         resume: 1
// CHECK-NEXT:         source: {{.*}}discovery.cpp:30:23
// CHECK-NEXT:         carried:
// CHECK-NEXT:           - {name: item, type: std::string, bytes: 24}
// CHECK-NEXT: state:
// CHECK-NEXT:   - name: inv::stock
// CHECK-NEXT:     type: std::map<std::string, int>
// CHECK-NEXT:     consistency: linearizable
// CHECK-NEXT:     granularity: key
// CHECK-NEXT:     source: {{.*}}discovery.cpp:13:43
// CHECK-NEXT:     readers: [restock, stock_of]
// CHECK-NEXT:     writers: [restock]
// CHECK-NEXT:   - name: Stats::hits
// CHECK-NEXT:     type: long
// CHECK-NEXT:     consistency: eventual
// CHECK:        - name: audit
// CHECK-NEXT:     type: std::vector<std::string>
// CHECK:          readers: [restock]
// CHECK-NEXT:     writers: [restock]
