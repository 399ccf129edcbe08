// State used in a header and through a macro is found as any other use, and
// works without rewriting: the manifest lists it for the entry, the
// rewritten unit leaves the uses as written, and a definition without the
// annotation becomes thread_local like the annotated declarations.
// RUN: cleave build -q --no-build -o %t %s -- -std=c++17
// RUN: FileCheck %s < %t/manifest.yaml
// RUN: grep -v SRC %t/src/state-header-macro.cpp | FileCheck --check-prefix=SRC %s

#include "Inputs/state-header.h"

long in_header = 0;
CLEAVE_STATE() long via_macro = 0;
// SRC:      {{^}}thread_local long in_header = 0;
// SRC-NEXT: {{^}}CLEAVE_STATE() long via_macro = 0;

CLEAVE_ENTRY("POST /header") long header_use() { return bump_in_header(); }
// CHECK-LABEL: - name: header_use
// CHECK:       state:
// CHECK-NEXT:    - {name: in_header, access: readwrite}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: macro_use

CLEAVE_ENTRY("POST /macro") long macro_use() { return BUMP_MACRO(); }
// SRC: long macro_use() { return BUMP_MACRO(); }
// CHECK:       state:
// CHECK-NEXT:    - {name: via_macro, access: readwrite}
// CHECK-NOT:     {name:
// CHECK-LABEL: {{^}}state:
