// No annotation is dropped silently: two of one kind with different texts
// on a function or its declarations, extra macro arguments, a deleted
// function, state in a class template, a wide string, and a long text,
// which the message cuts short.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

CLEAVE_ENTRY("GET /a") CLEAVE_ENTRY("GET /b") int a() { return 1; } // expected-note {{the other annotation is here}}
// expected-error@-1 {{'a' has two CLEAVE_ENTRY annotations with different triggers ('GET /a' and 'GET /b'); a function serves one route, so keep one}}

CLEAVE_FUNCTION("memory=2048") // expected-note {{the other annotation is here}}
CLEAVE_FUNCTION("memory=512") int f(int x) { return x; }
// expected-error@-1 {{'f' has two CLEAVE_FUNCTION annotations with different options ('memory=2048' and 'memory=512'); a function runs with one profile, so keep one}}

CLEAVE_FUNCTION("memory=4096") int p(int x); // expected-note {{the other annotation is here}}
CLEAVE_FUNCTION("memory=1024") int p(int x) { return x; }
// expected-error@-1 {{'p' has two CLEAVE_FUNCTION annotations with different options}}

// The same text twice, on a declaration and its definition, is one.
CLEAVE_FUNCTION("memory=1024") int q(int x);
CLEAVE_FUNCTION("memory=1024") int q(int x) { return x; }

CLEAVE_FUNCTION("memory=2048", "timeout=3") int g(int x) { return x; }
// expected-error@-1 {{CLEAVE_FUNCTION takes one string; write all its options in it, separated by commas ("memory=2048,timeout=3")}}

CLEAVE_ENTRY("GET /c") int c() = delete;
// expected-error@-1 {{CLEAVE_ENTRY cannot annotate a deleted function}}

template <class T> struct Tally {
  CLEAVE_STATE() static long hits;
  // expected-error@-1 {{CLEAVE_STATE cannot annotate a variable template or a static data member of a class template: each instantiation would be a variable of its own}}
};
template <class T> long Tally<T>::hits = 0;

// Twice on one declaration, even with one text: in the handler library
// each adds 'thread_local'.
CLEAVE_STATE() CLEAVE_STATE() long twice = 0; // expected-note {{the other annotation is here}}
// expected-error@-1 {{CLEAVE_STATE is written twice on the declaration of 'twice'; keep one (in the handler library each adds 'thread_local', and two do not compile)}}

CLEAVE_ENTRY(L"GET /w") int w() { return 0; }
// expected-error@-1 {{CLEAVE_ENTRY takes an ordinary string literal, not a wide, UTF-16 or UTF-32 one}}

CLEAVE_ENTRY("GET /xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx y") int v() { return 0; }
// expected-error@-1 {{malformed trigger 'GET /xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (95 characters)': invalid character space in path}}
