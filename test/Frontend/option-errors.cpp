// Unknown option keys and bad values in CLEAVE_FUNCTION and CLEAVE_STATE.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

CLEAVE_FUNCTION("mem=2048") int a() { return 1; }
// expected-error@-1 {{unknown option 'mem' in CLEAVE_FUNCTION; expected memory, timeout, gpu, concurrency, isolate or auth}}

CLEAVE_FUNCTION("memory=lots") int b() { return 1; }
// expected-error@-1 {{option 'memory' expects a positive integer, got 'lots'}}

CLEAVE_FUNCTION("memory=0") int c() { return 1; }
// expected-error@-1 {{option 'memory' expects a positive integer, got '0'}}

CLEAVE_FUNCTION("timeout=5,timeout=6") int d() { return 1; }
// expected-error@-1 {{option 'timeout' is given twice}}

CLEAVE_FUNCTION("isolate=maybe") int e() { return 1; }
// expected-error@-1 {{option 'isolate' takes no value or true/false, got 'maybe'}}

CLEAVE_FUNCTION("memory=512,,gpu=1") int f() { return 1; }
// expected-error@-1 {{empty option in CLEAVE_FUNCTION}}

CLEAVE_FUNCTION("auth=maybe") CLEAVE_ENTRY("GET /e2") int e2() { return 1; }
// expected-error@-1 {{option 'auth' expects token or none, got 'maybe'}}

CLEAVE_FUNCTION("auth") CLEAVE_ENTRY("GET /e3") int e3() { return 1; }
// expected-error@-1 {{option 'auth' expects token or none}}

// Only entries are called over HTTP, where a token is checked.
CLEAVE_FUNCTION("auth=token") int e4() { return 1; }
// expected-error@-1 {{option 'auth' applies to entries only; 'e4' has no CLEAVE_ENTRY}}

CLEAVE_STATE("consistency=strong") long g = 0;
// expected-error@-1 {{option 'consistency' expects linearizable or eventual, got 'strong'}}

CLEAVE_STATE("ttl=5") long h = 0;
// expected-error@-1 {{unknown option 'ttl' in CLEAVE_STATE; expected consistency}}

// Every valid form is accepted.
CLEAVE_FUNCTION() int ok1() { return 1; }
CLEAVE_FUNCTION("memory=2048, timeout=10, gpu=1, concurrency=8, isolate") int ok2() { return 1; }
CLEAVE_FUNCTION("isolate=false") int ok3() { return 1; }
CLEAVE_FUNCTION("auth=token") CLEAVE_ENTRY("GET /ok6") int ok6() { return 1; }
CLEAVE_FUNCTION("auth=none, memory=512") CLEAVE_ENTRY("GET /ok7") int ok7() { return 1; }
CLEAVE_STATE("consistency=eventual") long ok4 = 0;
CLEAVE_STATE("consistency=linearizable") long ok5 = 0;
