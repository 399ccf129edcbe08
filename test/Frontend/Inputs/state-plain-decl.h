// A declaration of a state variable without CLEAVE_STATE, in a header, for
// state-unannotated-decl.cpp.
extern long hits;
