//===- state-everywhere.h - State declared and used in a header -*- C++ -*-===//
//
// Part of the state-everywhere program (state-everywhere.cpp): state
// declared here with CLEAVE_STATE and defined in the program, read and
// written by inline functions of this header and through a macro.
//
//===----------------------------------------------------------------------===//

#ifndef STATE_EVERYWHERE_H
#define STATE_EVERYWHERE_H

#include <cleave/cleave.h>

#include <map>
#include <string>

CLEAVE_STATE() extern long visits;
// Used by key only, but here, where no per-key view can be put: stored whole.
CLEAVE_STATE() extern std::map<std::string, long> tags;

inline long visit() { return ++visits; }
inline long tag(const std::string &Key) { return tags[Key] += 1; }

/// Adds to the tally through a macro, as a logging or metrics macro would.
#define TALLY(n) (tally += (n))

#endif // STATE_EVERYWHERE_H
