//===- Types.h - The types every codec target decodes -----------*- C++ -*-===//
//
// Line and its generated codecs, included after the runtime's codec headers
// as a generated unit includes them.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_FUZZ_TYPES_H
#define CLEAVE_FUZZ_TYPES_H

#include "Line.h"

#include <cleave/codec.h>
#include <cleave/frame.h>

#include "LineCodecs.inc"

#endif // CLEAVE_FUZZ_TYPES_H
