// A map whose uses are all keyed accesses is still stored whole when one of
// them is spelled where cleave cannot put the per-key view: in an included
// file or inside a macro's definition. The remark says which use; nothing
// fails, and the thread's copy serves the use as any other state. A map
// named in a macro's argument is spelled in the source and keeps its view.
// RUN: rm -rf %t
// RUN: cleave build -q --no-build -Rcleave -o %t %s -- -std=c++17 2> %t.remarks
// RUN: FileCheck %s --check-prefix=REMARK --implicit-check-not=remark: < %t.remarks
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/manifest.yaml
// RUN: grep -v CODE %t/src/granularity-spelling.cpp | FileCheck %s --check-prefix=CODE

#include "Inputs/keyed-header.h"

#define BUMP(m, k) (++m[k])
#define BUMP_IN_MACRO(k) (++in_macro[k])

std::map<std::string, long> in_header;
CLEAVE_STATE() std::map<std::string, long> in_macro;
CLEAVE_STATE() std::map<std::string, long> in_source;
// REMARK-DAG: keyed-header.h:10:61: remark: state 'in_header' is stored as one value: this keyed access is spelled in an included file, where cleave cannot route it through the per-key view [-Rcleave]
// REMARK-DAG: granularity-spelling.cpp:[[@LINE+11]]:10: remark: state 'in_macro' is stored as one value: this keyed access is spelled inside a macro, where cleave cannot route it through the per-key view [-Rcleave]
// REMARK-DAG: granularity-spelling.cpp:[[@LINE-3]]:44: remark: state 'in_source' is stored per key
// MANIFEST:      - name: in_header
// MANIFEST:        granularity: whole
// MANIFEST:      - name: in_macro
// MANIFEST:        granularity: whole
// MANIFEST:      - name: in_source
// MANIFEST:        granularity: key

CLEAVE_ENTRY("POST /bump") long bump(std::string k) {
  in_source[k] += 1;
  return BUMP_IN_MACRO(k) + BUMP(in_source, k) + bump_in_header(k) +
         in_header.count(k);
}
// CODE:      ::cleave::rt::stateKeys(::in_source, "in_source")[k] += 1;
// CODE-NEXT: return BUMP_IN_MACRO(k) + BUMP(::cleave::rt::stateKeys(::in_source, "in_source"), k) + bump_in_header(k) +
// CODE-NEXT: in_header.count(k);
