// State declared, read and written in a header and through a macro, for
// state-header-macro.cpp.
#include <cleave/cleave.h>

CLEAVE_STATE() extern long in_header;
CLEAVE_STATE() extern long via_macro;

inline long bump_in_header() { return ++in_header; }

#define BUMP_MACRO() (++via_macro)
