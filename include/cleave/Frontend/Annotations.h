//===- Annotations.h - Parse annotation arguments --------------*- C++ -*-===//
//
// The strings inside CLEAVE_ENTRY, CLEAVE_FUNCTION and CLEAVE_STATE. Parsing
// is independent of Clang so it can be unit-tested; errors carry the byte
// offset into the string so that diagnostics can point at the character.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_FRONTEND_ANNOTATIONS_H
#define CLEAVE_FRONTEND_ANNOTATIONS_H

#include "cleave/Frontend/Program.h"

#include <string>
#include <string_view>
#include <variant>

namespace cleave {

/// A problem in an annotation string, at byte \p Offset.
struct AnnotationError {
  std::string Message;
  size_t Offset = 0;
};

/// Parses "METHOD /path". The method is one of GET, POST, PUT, PATCH, DELETE;
/// the path starts with '/' and holds only unreserved URL characters and '/'.
/// \p S for a message: control characters escaped, and cut short past 60
/// characters, so that a long text does not flood the terminal.
std::string elide(std::string_view S);

std::variant<Trigger, AnnotationError> parseTrigger(std::string_view Text);

/// Parses CLEAVE_FUNCTION options: "memory=MiB,timeout=s,gpu=N,concurrency=N,
/// isolate". An empty string gives the defaults.
std::variant<Resources, AnnotationError>
parseFunctionOptions(std::string_view Text);

/// Parses CLEAVE_STATE options: "consistency=linearizable|eventual".
std::variant<Consistency, AnnotationError>
parseStateOptions(std::string_view Text);

} // namespace cleave

#endif // CLEAVE_FRONTEND_ANNOTATIONS_H
