// Malformed trigger strings are reported at the offending character.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

CLEAVE_ENTRY("FETCH /x") int a() { return 1; }
// expected-error@-1 {{malformed trigger 'FETCH /x': unknown method 'FETCH'; expected GET, POST, PUT, PATCH or DELETE}}

CLEAVE_ENTRY("GET") int b() { return 1; }
// expected-error@-1 {{malformed trigger 'GET': expected "METHOD /path"}}

CLEAVE_ENTRY("") int c() { return 1; }
// expected-error@-1 {{malformed trigger '': expected "METHOD /path"}}

CLEAVE_ENTRY("POST orders") int d() { return 1; }
// expected-error@-1 {{malformed trigger 'POST orders': path must start with '/'}}

CLEAVE_ENTRY("GET /a?b=1") int e() { return 1; }
// expected-error@-1 {{malformed trigger 'GET /a?b=1': invalid character '?' in path}}

CLEAVE_ENTRY("GET /a b") int f() { return 1; }
// expected-error@-1 {{malformed trigger 'GET /a b': invalid character space in path}}

CLEAVE_ENTRY("get /x") int g() { return 1; }
// expected-error@-1 {{unknown method 'get'}}

CLEAVE_ENTRY("GET /a//b") int h() { return 1; }
// expected-error@-1 {{empty path segment}}

// A good one next to the bad ones is not reported.
CLEAVE_ENTRY("DELETE /items") void ok() {}
