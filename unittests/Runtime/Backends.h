//===- Backends.h - The state stores a parameterized test runs on -*- C++ -*-===//
//
// The backends of StateStore, as a GoogleTest parameter: their names in
// test names ("AllBackends/.../Sqlite") and in failure messages. Shared by
// the store conformance tests and the durable executor tests.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_UNITTESTS_RUNTIME_BACKENDS_H
#define CLEAVE_UNITTESTS_RUNTIME_BACKENDS_H

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace cleave::test {

/// SqliteFsync is SQLite with --durability=fsync (group commit); the store
/// tests run it, the executor's run the three stores.
enum class Backend { Memory, Sqlite, SqliteFsync, Redis };

inline std::string nameOf(Backend B) {
  switch (B) {
  case Backend::Memory:
    return "Memory";
  case Backend::Sqlite:
    return "Sqlite";
  case Backend::SqliteFsync:
    return "SqliteFsync";
  case Backend::Redis:
    return "Redis";
  }
  return "Unknown";
}

// For GoogleTest's messages ("where GetParam() = Sqlite").
inline void PrintTo(Backend B, std::ostream *OS) { *OS << nameOf(B); }

inline std::string backendName(const testing::TestParamInfo<Backend> &Info) {
  return nameOf(Info.param);
}

/// Every backend, for INSTANTIATE_TEST_SUITE_P.
inline auto allBackends() {
  return testing::Values(Backend::Memory, Backend::Sqlite, Backend::Redis);
}

} // namespace cleave::test

#endif // CLEAVE_UNITTESTS_RUNTIME_BACKENDS_H
