// The generated glue needs C++17; an older standard is refused up front.
// RUN: not cleave build --no-build -o %t %s -- -std=c++14 2>&1 | FileCheck %s
// CHECK: cxx-standard.cpp:1:1: error: cleave needs C++17 or later; this translation unit is compiled as an older C++ or as C

int answer() { return 42; }
