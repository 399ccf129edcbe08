//===- thrown.h - Exceptions that cross a boundary --------------*- C++ -*-===//
//
// An exception that escapes a function cut into steps, or that a handler
// holds across a boundary, travels as text: the standard class it is
// carried as (exception_types.def) and its what(), or a class of the
// program that a handler around a boundary catches, by name, with the
// object's members (carryClass in handler.h). Thrown again on the other
// side, it is caught by the same handlers as the original, since a handler
// around a boundary catches only those classes or `...`
// (docs/splitting.md, "Exceptions").
//
// Included by generated code only (through resume.h), C++17.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_THROWN_H
#define CLEAVE_THROWN_H

#include <cxxabi.h>

#include <any>
#include <cstdlib>
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
#include <vector>

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

/// A class of the program that a handler around a boundary catches
/// (registered by generated code, carryClass): an exception of exactly that
/// class crosses as the class's name ("::ns::Rejected") and a payload, and is
/// thrown again as an object of that class, equal to the original.
struct CarriedClass {
  std::string Name;
  const std::type_info *Type;
  /// Whether the exception is an instance of the class (or derives from it).
  bool (*IsA)(std::exception_ptr);
  /// The payload of an exception of exactly this class.
  std::string (*Encode)(std::exception_ptr);
  /// Throws an equal object from the payload.
  void (*Throw)(const std::string &);
};

/// Every carried class of the handler library, registered as it loads.
inline std::vector<CarriedClass> &carriedClasses() {
  static std::vector<CarriedClass> Classes;
  return Classes;
}

/// The carried class named \p Name ("::ns::Rejected"), or null.
inline const CarriedClass *findCarried(const std::string &Name) {
  for (const CarriedClass &C : carriedClasses())
    if (C.Name == Name)
      return &C;
  return nullptr;
}

namespace detail {

template <class T> bool isA(std::exception_ptr P) {
  try {
    std::rethrow_exception(P);
  } catch (const T &) {
    return true;
  } catch (...) {
    return false;
  }
}

/// The name of the type of the exception being handled, readable.
inline std::string currentExceptionTypeName() {
  const std::type_info *T = abi::__cxa_current_exception_type();
  if (!T)
    return "?";
  int Status = 0;
  char *D = abi::__cxa_demangle(T->name(), nullptr, nullptr, &Status);
  std::string Name = Status == 0 && D ? D : T->name();
  std::free(D);
  return Name;
}

} // namespace detail

/// What an exception is described as when it cannot cross: the caller's
/// step fails with the second member as its error, which no handler of the
/// program can take.
inline const char *const UncarriedException = "!";

/// Describes the exception \p P: a carried class of the program (exactly
/// its class), else the most derived class of exception_types.def that it
/// is an instance of, and its what(). An instance of a class derived from a
/// carried class that is not carried itself cannot be described faithfully
/// (a handler of the program takes its base): UncarriedException, and why.
inline ThrownText describeException(std::exception_ptr P) {
  try {
    std::rethrow_exception(P);
  } catch (...) {
    const std::type_info *Type = abi::__cxa_current_exception_type();
    for (const CarriedClass &C : carriedClasses())
      if (Type && *Type == *C.Type)
        return {C.Name, C.Encode(P)};
    for (const CarriedClass &C : carriedClasses())
      if (C.IsA(P)) {
        return {UncarriedException,
                "an exception of class '" + detail::currentExceptionTypeName() +
                    "' cannot cross a boundary: it derives from '" +
                    C.Name.substr(2) +
                    "', which a handler around a boundary catches, but "
                    "cleave build saw no definition of it in a unit with "
                    "such a handler"};
      }
  }
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

/// The message of the 500 that \p P gives where it leaves an entry:
/// "exception in F: what()" for a std::exception, "unknown exception in F"
/// for anything else, as the plain program's handler says.
inline std::string exceptionMessage(std::exception_ptr P,
                                    const std::string &Function) {
  try {
    std::rethrow_exception(P);
  } catch (const std::exception &E) {
    const char *W = E.what();
    return "exception in " + Function + ": " + (W ? W : "");
  } catch (...) {
    return "unknown exception in " + Function;
  }
}

/// Why \p T cannot be thrown again, or "" when it can: it was described as
/// UncarriedException, or names a carried class this library does not have.
inline std::string uncarried(const ThrownText &T) {
  if (T.first == UncarriedException)
    return T.second.empty() ? "an exception cannot cross a boundary" : T.second;
  if (T.first.compare(0, 2, "::") == 0 && !findCarried(T.first))
    return "an exception of class '" + T.first.substr(2) +
           "' came back from a boundary, but this handler library does not "
           "carry that class";
  return "";
}

/// Throws what \p T describes: an object of its class with its what(), or,
/// for an exception that was not a std::exception, one only `catch (...)`
/// takes. uncarried(T) must be empty.
[[noreturn]] inline void throwDescribed(const ThrownText &T) {
  if (const CarriedClass *C = findCarried(T.first))
    C->Throw(T.second);
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
