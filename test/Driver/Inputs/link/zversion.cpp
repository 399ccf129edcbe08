// An entry that needs zlib: its handler library must link -lz.
#include <cleave/cleave.h>
#include <zlib.h>
#include <string>

CLEAVE_ENTRY("GET /zv")
std::string zv() { return zlibVersion(); }

int main() { return zv().empty(); }
