//===- Router.h - Map HTTP requests to manifest entries ---------*- C++ -*-===//
//
// Entries are served at fixed paths (`POST /orders`), so routing is an exact
// string match on the path, never a pattern. The router also says why a
// request did not match, which is what lets the server answer 404 and 405
// correctly (405 needs the methods the path does accept).
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_ROUTER_H
#define CLEAVE_ROUTER_H

#include "cleave/Manifest.h"
#include "cleave/Result.h"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cleave::rt {

/// The outcome of routing one request.
struct RouteMatch {
  enum StatusKind {
    Found,            ///< Index names the function.
    NotFound,         ///< No entry has this path: 404.
    MethodNotAllowed, ///< The path exists with other methods: 405.
  };
  StatusKind Status = NotFound;
  /// Index into Manifest::Functions when Status is Found.
  size_t Index = 0;
  /// The methods the path accepts, sorted, when Status is MethodNotAllowed
  /// (the value of the Allow header).
  std::vector<std::string> Allowed;
};

class Router {
public:
  /// Registers \p Method \p Path for function \p Index. Fails if the route
  /// is already taken.
  Result<void> add(std::string_view Method, std::string_view Path,
                   size_t Index);

  /// Routes a request. \p Target may carry a query string, which is ignored.
  /// Paths compare byte for byte: "/x/" and "/x" are different routes, as
  /// are "/X" and "/x", because an entry's path is whatever the user wrote
  /// in CLEAVE_ENTRY and guessing at equivalences would make two routes
  /// collide silently.
  RouteMatch match(std::string_view Method, std::string_view Target) const;

  /// Routes a request whose \p Path is already split from the query and
  /// decoded: a "?" in it is part of the path.
  RouteMatch matchPath(std::string_view Method, std::string_view Path) const;

  /// Number of routes registered.
  size_t size() const;

  /// A router with one route per entry of \p M; Index is the entry's
  /// position in M.Functions.
  static Result<Router> fromManifest(const Manifest &M);

private:
  /// Path -> (method -> function index). std::map keeps the methods sorted
  /// so the Allow list comes out in a stable order.
  std::map<std::string, std::map<std::string, size_t>, std::less<>> Routes;
};

} // namespace cleave::rt

#endif // CLEAVE_ROUTER_H
