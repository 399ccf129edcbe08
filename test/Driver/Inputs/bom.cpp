// A source that starts with a UTF-8 byte order mark (bom.test).
#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /q") int q(int x) { return quote(x) + 1; }
