// A boundary call that is the object of a member call or the left operand
// of an overloaded operator: the enclosing call starts at the same source
// position as the boundary call, but it is not a boundary. Each statement
// stops once, and the frame carries what the rest of the statement reads.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q --no-build -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep cross %t.remarks | FileCheck %s --implicit-check-not=remark:
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/manifest.yaml

#include <cleave/cleave.h>

#include <string>

CLEAVE_FUNCTION("memory=1024") std::string label(int x) { return std::to_string(x); }

CLEAVE_ENTRY("POST /suffixed") std::string suffixed(int x, std::string suffix) {
  std::string s = label(x) + suffix;
  // CHECK: call-as-operand.cpp:[[@LINE-1]]:19: remark: 1 value crosses the boundary at {{.*}}: suffix (std::string) [-Rcleave]
  return s;
}

CLEAVE_ENTRY("POST /width") int width(int x) {
  int n = (int)label(x).size();
  // CHECK: call-as-operand.cpp:[[@LINE-1]]:16: remark: no value crosses the boundary at {{.*}} [-Rcleave]
  return n;
}

// MANIFEST:      - name: suffixed
// MANIFEST:          steps:
// MANIFEST-NEXT:       - id: 0
// MANIFEST-NEXT:         source: {{.*}}call-as-operand.cpp:16:80
// MANIFEST-NEXT:       - id: 1
// MANIFEST-NEXT:         source: {{.*}}call-as-operand.cpp:17:19
// MANIFEST-NEXT:     edges:
// MANIFEST-NEXT:       - from: [0]
// MANIFEST-NEXT:         callee: label
// MANIFEST-NEXT:         placement: boundary
// MANIFEST-NEXT:         resume: 1
// MANIFEST-NEXT:         source: {{.*}}call-as-operand.cpp:17:19
// MANIFEST-NEXT:         carried:
// MANIFEST-NEXT:           - {name: suffix, type: std::string, bytes: 24}
// MANIFEST-NEXT:   - name: width
