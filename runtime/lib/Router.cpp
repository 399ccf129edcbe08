//===- Router.cpp - Map HTTP requests to manifest entries -----------------===//

#include "cleave/Router.h"

#include <fmt/format.h>

namespace cleave::rt {

Result<void> Router::add(std::string_view Method, std::string_view Path,
                         size_t Index) {
  auto &Methods = Routes[std::string(Path)];
  auto [It, New] = Methods.emplace(std::string(Method), Index);
  if (!New)
    return Error(fmt::format("duplicate route {} {}", Method, Path));
  return Result<void>::success();
}

RouteMatch Router::match(std::string_view Method,
                         std::string_view Target) const {
  return matchPath(Method, Target.substr(0, Target.find_first_of("?#")));
}

RouteMatch Router::matchPath(std::string_view Method,
                             std::string_view Path) const {
  RouteMatch M;
  auto It = Routes.find(Path);
  if (It == Routes.end())
    return M;
  auto Hit = It->second.find(std::string(Method));
  if (Hit != It->second.end()) {
    M.Status = RouteMatch::Found;
    M.Index = Hit->second;
    return M;
  }
  M.Status = RouteMatch::MethodNotAllowed;
  for (const auto &[Allowed, Index] : It->second)
    M.Allowed.push_back(Allowed);
  return M;
}

size_t Router::size() const {
  size_t N = 0;
  for (const auto &[Path, Methods] : Routes)
    N += Methods.size();
  return N;
}

Result<Router> Router::fromManifest(const Manifest &M) {
  Router R;
  for (size_t I = 0; I < M.Functions.size(); ++I) {
    const FunctionSpec &F = M.Functions[I];
    if (!F.isEntry())
      continue;
    if (Result<void> Added = R.add(F.Method, F.Path, I); !Added)
      return Added.error();
  }
  return R;
}

} // namespace cleave::rt
