//===- Module.h - A loaded handler library ----------------------*- C++ -*-===//
//
// The handler library built from `cleave build` output exports one symbol
// (CLEAVE_MODULE_SYMBOL) returning its handler table (abi.h). A Module opens
// the library, checks the table and indexes the handlers by name. Tests can
// also wrap a table that lives in the test binary itself.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_MODULE_H
#define CLEAVE_MODULE_H

#include "cleave/Manifest.h"
#include "cleave/Result.h"
#include "cleave/abi.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace cleave::rt {

class Module {
public:
  /// Opens the shared library at \p Path and reads its handler table. Fails
  /// with a message naming the path if the file is missing, dlopen fails
  /// (with dlerror's text), the symbol is absent, or the library was built
  /// for another ABI version.
  static Result<std::unique_ptr<Module>> load(const std::string &Path);

  /// Wraps a handler table already in this process. \p Origin names it in
  /// error messages.
  static Result<std::unique_ptr<Module>>
  fromTable(const cleave_module_v1_t *Table,
            std::string Origin = "<in-process module>");

  /// Opens the artifact \p M names; a relative artifact path is resolved
  /// against the folder holding the manifest at \p ManifestPath. Then checks
  /// that the library has a handler for every entry (see verify()).
  static Result<std::unique_ptr<Module>>
  loadForManifest(const Manifest &M, const std::string &ManifestPath);

  ~Module();
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;

  /// The handler named \p Name, or null.
  cleave_handler_fn_v1 find(std::string_view Name) const;

  /// The machine (a function that runs as steps) called \p Name, or null.
  const cleave_machine_v1 *findMachine(std::string_view Name) const;

  /// Checks that every entry of \p M has its handler in this module.
  Result<void> verify(const Manifest &M) const;

  /// Gives a reply body back to the library that allocated it. Null is fine.
  void release(char *Body) const;

  /// Where the module came from: the library path or the fromTable origin.
  const std::string &origin() const { return Origin; }

private:
  Module(void *Handle, const cleave_module_v1_t *Table, std::string Origin);

  /// The dlopen handle, or null for an in-process table.
  void *Handle;
  const cleave_module_v1_t *Table;
  std::string Origin;
  std::map<std::string, cleave_handler_fn_v1, std::less<>> Handlers;
};

} // namespace cleave::rt

#endif // CLEAVE_MODULE_H
