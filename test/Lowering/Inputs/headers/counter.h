// A class defined in a header, for member-functions-refused.cpp and
// header-classes-refused.cpp.
#pragma once

int quote(int x);

class Counter {
public:
  int add(int x); // defined in the source file, reaches a boundary
  int n = 0;
};
