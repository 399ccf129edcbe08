// A class defined in a header, whose member functions reach a boundary and
// are defined in two units (header-class.test).
#pragma once
long quote(long x);
class Counter {
public:
  long add(long x); // a.cpp
  long sub(long x); // b.cpp
  long n = 0;
};
