//===- Module.cpp - A loaded handler library ------------------------------===//

#include "cleave/Module.h"

#include <fmt/format.h>

#include <dlfcn.h>

#include <filesystem>
#include <system_error>

namespace cleave::rt {

namespace {

/// Checks a handler table and indexes it by name. Shared by both ways of
/// obtaining a table, so an in-process table in a test is held to exactly
/// the rules a real library is.
Result<std::map<std::string, cleave_handler_fn_v1, std::less<>>>
indexTable(const cleave_module_v1_t *Table, const std::string &Origin) {
  if (!Table)
    return Error(
        fmt::format("{}: the module entry point returned no table", Origin));
  if (Table->abi_version != CLEAVE_ABI_VERSION)
    return Error(fmt::format("{}: handler library uses ABI version {}, but "
                             "this runtime speaks version {}; rebuild it "
                             "with a matching cleave",
                             Origin, Table->abi_version, CLEAVE_ABI_VERSION));
  if (!Table->release)
    return Error(
        fmt::format("{}: handler table has no release function", Origin));
  if (Table->handler_count != 0 && !Table->handlers)
    return Error(fmt::format("{}: handler table claims {} handlers but has "
                             "none",
                             Origin, Table->handler_count));
  if (Table->machine_count != 0 && !Table->machines)
    return Error(fmt::format("{}: handler table claims {} machines but has "
                             "none",
                             Origin, Table->machine_count));
  for (uint32_t I = 0; I < Table->machine_count; ++I) {
    const cleave_machine_v1 &M = Table->machines[I];
    if (!M.name || !M.step || M.steps == 0)
      return Error(fmt::format("{}: machine #{} has no name, no step function "
                               "or no steps",
                               Origin, I));
    if ((M.args_from_json == nullptr) != (M.value_to_json == nullptr))
      return Error(fmt::format("{}: machine '{}' has only one of its two JSON "
                               "adapters",
                               Origin, M.name));
  }
  std::map<std::string, cleave_handler_fn_v1, std::less<>> Handlers;
  for (uint32_t I = 0; I < Table->handler_count; ++I) {
    const cleave_handler_v1 &H = Table->handlers[I];
    if (!H.name || !H.invoke)
      return Error(
          fmt::format("{}: handler #{} has no name or no function", Origin, I));
    if (!Handlers.emplace(H.name, H.invoke).second)
      return Error(
          fmt::format("{}: handler '{}' appears twice", Origin, H.name));
  }
  return Handlers;
}

} // namespace

Module::Module(void *Handle, const cleave_module_v1_t *Table,
               std::string Origin)
    : Handle(Handle), Table(Table), Origin(std::move(Origin)) {}

Module::~Module() {
  if (Handle)
    dlclose(Handle);
}

Result<std::unique_ptr<Module>>
Module::fromTable(const cleave_module_v1_t *Table, std::string Origin) {
  auto Handlers = indexTable(Table, Origin);
  if (!Handlers)
    return Handlers.error();
  std::unique_ptr<Module> M(new Module(nullptr, Table, std::move(Origin)));
  M->Handlers = Handlers.take();
  return M;
}

Result<std::unique_ptr<Module>> Module::load(const std::string &Path) {
  // dlopen's own message for a missing file is easy to misread (it also
  // covers a missing dependency of the library), so say which it is.
  std::error_code Ec;
  if (!std::filesystem::exists(Path, Ec))
    return Error(fmt::format("handler library '{}' does not exist; was the "
                             "output built?",
                             Path));
  // dlopen searches the library path for a name without a slash; the
  // artifact is always a file, so make sure it is read as a path.
  std::string Opened = Path.find('/') == std::string::npos ? "./" + Path : Path;
  // RTLD_NOW: an unresolved symbol should fail here, not in the middle of a
  // request. RTLD_LOCAL: two libraries never see each other's handlers.
  dlerror();
  void *Handle = dlopen(Opened.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!Handle) {
    const char *Why = dlerror();
    return Error(fmt::format("cannot load handler library '{}': {}", Path,
                             Why ? Why : "unknown error"));
  }
  dlerror();
  void *Sym = dlsym(Handle, CLEAVE_MODULE_SYMBOL);
  if (!Sym) {
    dlclose(Handle);
    return Error(fmt::format("'{}' is not a cleave handler library: it does "
                             "not export '{}'",
                             Path, CLEAVE_MODULE_SYMBOL));
  }
  auto Entry = reinterpret_cast<cleave_module_entry_v1>(Sym);
  const cleave_module_v1_t *Table = Entry();
  auto Handlers = indexTable(Table, Path);
  if (!Handlers) {
    dlclose(Handle);
    return Handlers.error();
  }
  std::unique_ptr<Module> M(new Module(Handle, Table, Path));
  M->Handlers = Handlers.take();
  return M;
}

Result<std::unique_ptr<Module>>
Module::loadForManifest(const Manifest &M, const std::string &ManifestPath) {
  std::filesystem::path Artifact(M.Artifact);
  if (Artifact.is_relative())
    Artifact = std::filesystem::path(ManifestPath).parent_path() / Artifact;
  auto Loaded = load(Artifact.lexically_normal().string());
  if (!Loaded)
    return Loaded;
  if (Result<void> Checked = (*Loaded)->verify(M); !Checked)
    return Checked.error();
  return Loaded;
}

cleave_handler_fn_v1 Module::find(std::string_view Name) const {
  auto It = Handlers.find(Name);
  return It == Handlers.end() ? nullptr : It->second;
}

const cleave_machine_v1 *Module::findMachine(std::string_view Name) const {
  for (uint32_t I = 0; I < Table->machine_count; ++I)
    if (Name == Table->machines[I].name)
      return &Table->machines[I];
  return nullptr;
}

Result<void> Module::verify(const Manifest &M) const {
  for (const FunctionSpec &F : M.Functions) {
    if (F.isEntry() && !find(F.Handler))
      return Error(fmt::format("handler library '{}' has no handler '{}' "
                               "for entry '{}'",
                               Origin, F.Handler, F.Name));
    if (F.Machine.empty())
      continue;
    const cleave_machine_v1 *Mach = findMachine(F.Machine);
    if (!Mach)
      return Error(fmt::format("handler library '{}' has no machine '{}' for "
                               "function '{}'",
                               Origin, F.Machine, F.Name));
    if (!F.Steps.empty() && Mach->steps != F.Steps.size())
      return Error(fmt::format("machine '{}' in '{}' has {} steps, but the "
                               "manifest lists {}; rebuild the deployment",
                               F.Machine, Origin, Mach->steps, F.Steps.size()));
    if (F.isEntry() && !Mach->args_from_json)
      return Error(fmt::format("machine '{}' in '{}' serves entry '{}' but has "
                               "no JSON adapters",
                               F.Machine, Origin, F.Name));
  }
  return Result<void>::success();
}

void Module::release(char *Body) const {
  if (Body)
    Table->release(Body);
}

} // namespace cleave::rt
