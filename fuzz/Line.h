//===- Line.h - The user struct the fuzz targets decode ---------*- C++ -*-===//
//
// A struct as a Cleave program would write it, with a member of each kind the
// codecs treat differently: string, integer, floating, bool, enumeration,
// optional, sequence and map. Its codecs are those `cleave build` generates
// (LineCodecs.inc, made by gen-codecs.sh from Line.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_FUZZ_LINE_H
#define CLEAVE_FUZZ_LINE_H

#include <map>
#include <optional>
#include <string>
#include <vector>

enum class Side { Buy, Sell };

struct Line {
  std::string item;
  long qty = 0;
  double price = 0;
  bool gift = false;
  Side side = Side::Buy;
  std::optional<std::string> note;
  std::vector<std::string> tags;
  std::map<std::string, long> counts;
};

#endif // CLEAVE_FUZZ_LINE_H
