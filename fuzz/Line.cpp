// The program gen-codecs.sh gives `cleave build --no-build`: one entry that
// takes and returns a Line, so that the compiler writes Line's codecs.
#include "Line.h"

#include <cleave/cleave.h>

CLEAVE_ENTRY("POST /line") Line echo(Line l) { return l; }
