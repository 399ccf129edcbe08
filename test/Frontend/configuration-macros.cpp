// A macro the program defines to configure a library that the handler
// library includes before the program's code (nlohmann/json, the C and C++
// libraries) would not apply there: it is refused where it is defined,
// with the command-line flag to use instead. The same macro given with -D
// applies to both and is fine.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -DJSON_NO_IO -Xclang -verify

#define _FILE_OFFSET_BITS 64 // expected-error {{'_FILE_OFFSET_BITS' configures the C and C++ libraries, which the handler library includes before this code, so it would not apply there; define it on the command line instead (-D_FILE_OFFSET_BITS), where it applies to both}}
#define JSON_USE_IMPLICIT_CONVERSIONS 0 // expected-error {{'JSON_USE_IMPLICIT_CONVERSIONS' configures nlohmann/json}}
#define _GLIBCXX_ASSERTIONS 1 // expected-error {{'_GLIBCXX_ASSERTIONS' configures the C++ library}}
#define JSON_FIELD_NAME "name" // a macro of the program's own: fine

#include <cleave/cleave.h>

CLEAVE_ENTRY("GET /a") int a() { return 1; }
