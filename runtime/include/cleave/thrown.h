//===- thrown.h - Exceptions that cross a boundary --------------*- C++ -*-===//
//
// An exception that escapes a function cut into steps, or that a handler
// holds across a boundary, travels as text: the standard class it is
// carried as (exception_types.def) and its what(). Thrown again on the other
// side, it is caught by the same handlers as the original, since a handler
// around a boundary catches only those classes or `...`
// (docs/splitting.md, "Exceptions").
//
// Included by generated code only (through resume.h), C++17.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_THROWN_H
#define CLEAVE_THROWN_H

#include <any>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <variant>

namespace cleave {
namespace rt {

/// An exception as it travels: the class it is carried as ("" for one that
/// is not a std::exception) and its what().
using ThrownText = std::pair<std::string, std::string>;

namespace detail {

/// A standard class made without its text, with a what() other than its
/// own: a subclass gives the text back.
template <class E> class Described : public E {
public:
  explicit Described(std::string Text) : Text(std::move(Text)) {}
  const char *what() const noexcept override { return Text.c_str(); }

private:
  std::string Text;
};

/// What an exception that is not a std::exception is thrown again as: only
/// `catch (...)` takes it, as only that took the original there.
struct Foreign {};

template <class E, bool FromText>
[[noreturn]] void throwAs(const std::string &What) {
  if constexpr (FromText) {
    throw E(What);
  } else {
    E Plain;
    if (What == Plain.what())
      throw Plain;
    throw Described<E>(What);
  }
}

} // namespace detail

/// Describes the exception \p P: the most derived class of
/// exception_types.def that it is an instance of, and its what().
inline ThrownText describeException(std::exception_ptr P) {
  try {
    std::rethrow_exception(P);
  } catch (const std::exception &E) {
    const char *W = E.what();
    std::string What = W ? W : "";
#define CLEAVE_EXCEPTION(Class, Spelling, FromText)                            \
  if (dynamic_cast<const Class *>(&E))                                         \
    return {Spelling, std::move(What)};
#include "cleave/exception_types.def"
#undef CLEAVE_EXCEPTION
    return {"std::exception", std::move(What)};
  } catch (...) {
    return {std::string(), std::string()};
  }
}

/// Throws what \p T describes: an object of its class with its what(), or,
/// for an exception that was not a std::exception, one only `catch (...)`
/// takes.
[[noreturn]] inline void throwDescribed(const ThrownText &T) {
#define CLEAVE_EXCEPTION(Class, Spelling, FromText)                            \
  if (T.first == Spelling)                                                     \
    detail::throwAs<Class, FromText>(T.second);
#include "cleave/exception_types.def"
#undef CLEAVE_EXCEPTION
  throw detail::Foreign{};
}

} // namespace rt
} // namespace cleave

#endif // CLEAVE_THROWN_H
