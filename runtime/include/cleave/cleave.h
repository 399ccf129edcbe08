//===- cleave.h - Annotations and intrinsics for Cleave programs -*- C++ -*-===//
//
// The one header a Cleave program includes. Under Clang the annotations leave
// an `annotate` attribute that the cleave compiler reads; under any other
// compiler they expand to nothing. Either way the program builds and runs as
// an ordinary monolith: the intrinsics below have plain sequential
// definitions.
//
// Works in C++17 and later, under GCC and Clang, without warnings at
// -Wall -Wextra.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_CLEAVE_H
#define CLEAVE_CLEAVE_H

// Said once, here, rather than as errors in what follows.
#if !defined(__cplusplus) || __cplusplus < 201703L
#error "Cleave needs C++17 or later: compile this unit with -std=c++17 (or a later standard)"
// The annotations vanish, so that this is the only error the header gives.
#define CLEAVE_ENTRY(trigger)
#define CLEAVE_FUNCTION(...)
#define CLEAVE_STATE(...)
#else

#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

// In the handler library that `cleave build` generates (its CMake project
// defines CLEAVE_HANDLER_LIBRARY), program state is thread_local: each
// worker thread holds the copy that the invocation it runs loaded from the
// state store, so code anywhere (headers, macros, templates, destructors,
// default arguments, lambdas) touches the invocation's value without being
// rewritten. Every declaration carries the specifier, as C++ requires,
// because every declaration of state carries CLEAVE_STATE.
#if defined(CLEAVE_HANDLER_LIBRARY)
#define CLEAVE_STATE_STORAGE_ thread_local
#else
#define CLEAVE_STATE_STORAGE_
#endif

// The optional argument is pasted after an empty string literal, so that
// `CLEAVE_FUNCTION()` yields "" and `CLEAVE_FUNCTION("memory=2048")` yields
// "" "memory=2048", without __VA_OPT__ (C++20 only).
#if defined(__clang__)
/// An HTTP-triggered entry point: `CLEAVE_ENTRY("POST /orders")`.
#define CLEAVE_ENTRY(trigger) [[clang::annotate("cleave.entry", trigger)]]
/// A unit with its own resource profile: `CLEAVE_FUNCTION("memory=2048")`.
#define CLEAVE_FUNCTION(...) [[clang::annotate("cleave.function", "" __VA_ARGS__)]]
/// Program state held in the state store: `CLEAVE_STATE("consistency=eventual")`.
#define CLEAVE_STATE(...)                                                      \
  [[clang::annotate("cleave.state", "" __VA_ARGS__)]] CLEAVE_STATE_STORAGE_
#else
#define CLEAVE_ENTRY(trigger)
#define CLEAVE_FUNCTION(...)
#define CLEAVE_STATE(...) CLEAVE_STATE_STORAGE_
#endif

namespace cleave {

/// Applies \p Fn to every element of \p Items and returns the results in
/// input order. In the monolith this is a plain loop; the compiler turns it
/// into one invocation of \p Fn per element and a join.
template <class Container, class Fn>
auto parallel_map(const Container &Items, Fn &&F) {
  using Elem = decltype(*std::begin(Items));
  using Result = std::decay_t<std::invoke_result_t<Fn &, Elem>>;
  std::vector<Result> Out;
  for (auto &&Item : Items)
    Out.push_back(F(Item));
  return Out;
}

} // namespace cleave

#endif // C++17

#endif // CLEAVE_CLEAVE_H
