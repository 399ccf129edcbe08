// Every declaration of state must carry CLEAVE_STATE: in the handler
// library state is thread_local, and C++ wants every declaration of a
// thread_local variable to say so. A declaration in the source file is
// given the specifier; one in a header cannot be and is an error.
// RUN: not cleave build -q --no-build -o %t %s -- -std=c++17 2>&1 | FileCheck %s

#include "Inputs/state-plain-decl.h"

#include <cleave/cleave.h>

CLEAVE_STATE() long hits = 0;
// CHECK: state-plain-decl.h:3:13: error: this declaration of state variable 'hits' lacks CLEAVE_STATE; state is thread_local in the handler library, so every declaration of it must carry the annotation

CLEAVE_ENTRY("GET /hits") long get_hits() { return hits; }
