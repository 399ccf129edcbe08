// A macro of the program that a function cut into steps uses, and whose
// name the generated code around that function also uses, cannot be
// undefined there: refused at its definition.
// RUN: rm -rf %t
// RUN: not cleave build --no-build -o %t %s -- -std=c++17 2>&1 | FileCheck %s

#include <cleave/cleave.h>

#define Step 2
// CHECK: user-macros-refused.cpp:[[@LINE-1]]:9: error: macro 'Step' is used in a function that cleave cuts into steps, and the code cleave generates around it names 'Step' too, which the macro would change; rename the macro

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /order") int order(int x) { return quote(x) + Step; }
