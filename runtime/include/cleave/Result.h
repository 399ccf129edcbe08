//===- Result.h - Value-or-error results for the runtime --------*- C++ -*-===//
//
// The runtime reports failures as values: a Result<T> holds either a T or an
// Error. It stands in for llvm::Expected, which the runtime cannot use (it
// ships without LLVM), and it never throws, so it can sit right next to the
// C ABI where no exception may pass.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_RESULT_H
#define CLEAVE_RESULT_H

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace cleave::rt {

/// A failure with a message for the user. A *located* error is already a
/// complete diagnostic (`FILE:LINE:COL: error: ...`), so a tool prints it as
/// is; any other error is a bare message that the tool prefixes with its own
/// name (`cleave-run: error: ...`).
class Error {
public:
  explicit Error(std::string Message, bool Located = false)
      : Message(std::move(Message)), Located(Located) {}

  const std::string &message() const { return Message; }
  bool isLocated() const { return Located; }

private:
  std::string Message;
  bool Located;
};

/// Either a value of type T or an Error. Test it before use:
/// \code
///   Result<Manifest> M = loadManifest(Path);
///   if (!M)
///     return M.error();
///   use(*M);
/// \endcode
template <class T> class [[nodiscard]] Result {
public:
  Result(T Value) : Storage(std::in_place_index<0>, std::move(Value)) {}
  Result(Error E) : Storage(std::in_place_index<1>, std::move(E)) {}

  explicit operator bool() const { return Storage.index() == 0; }

  T &operator*() {
    assert(*this && "dereferencing a Result that holds an error");
    return std::get<0>(Storage);
  }
  const T &operator*() const {
    assert(*this && "dereferencing a Result that holds an error");
    return std::get<0>(Storage);
  }
  T *operator->() { return &**this; }
  const T *operator->() const { return &**this; }

  /// Moves the value out; only valid when the result holds one.
  T take() { return std::move(**this); }

  const Error &error() const {
    assert(!*this && "asking a successful Result for its error");
    return std::get<1>(Storage);
  }

private:
  std::variant<T, Error> Storage;
};

/// Success without a value, or an Error.
template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error E) : Failure(std::move(E)) {}

  static Result success() { return Result(); }

  explicit operator bool() const { return !Failure; }

  const Error &error() const {
    assert(Failure && "asking a successful Result for its error");
    return *Failure;
  }

private:
  std::optional<Error> Failure;
};

} // namespace cleave::rt

#endif // CLEAVE_RESULT_H
