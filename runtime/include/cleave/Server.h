//===- Server.h - Serve a deployment's entries over HTTP --------*- C++ -*-===//
//
// The HTTP front of the runtime: every entry of the manifest answers at its
// route, following the convention of DESIGN.md §1 (a JSON object of
// arguments in, the return value as JSON out). Every error the server itself
// produces is a JSON object with an "error" member, so clients parse one
// shape whatever went wrong.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_SERVER_H
#define CLEAVE_SERVER_H

#include "cleave/Http.h"
#include "cleave/Manifest.h"
#include "cleave/Module.h"
#include "cleave/Result.h"
#include "cleave/StateStore.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace cleave::rt {

struct ServerOptions {
  /// Interface to listen on; loopback unless told otherwise.
  std::string Host = "127.0.0.1";
  /// TCP port; 0 picks a free one (see Server::port()).
  int Port = 8080;
  /// Largest request body accepted; a larger one gets 413.
  size_t MaxBodyBytes = 6291456; // 6 MiB, AWS Lambda's synchronous limit.
  /// The connection layer's limits and timeouts (its MaxBodyBytes is set
  /// from the one above).
  http::Limits Http;
  /// Threads that run functions; 0 uses twice the hardware threads, at
  /// least 8.
  unsigned Threads = 0;
  /// Requests admitted and waiting for a thread, over all functions; past
  /// it a request gets 503 with Retry-After.
  size_t MaxQueued = 1024;
  /// Requests waiting for one function whose `concurrency` is reached;
  /// past it a request gets 429 with Retry-After.
  size_t MaxQueuedPerFunction = 256;
  /// Invocations of a function at once when its manifest says 0; 0 bounds
  /// them only by Threads.
  unsigned DefaultConcurrency = 0;
  /// How long stop() waits for requests in flight.
  std::chrono::milliseconds Drain{10000};
  /// Bearer tokens that may call the entries, each with the caller it
  /// names (see loadTokens). With none, only entries marked auth=token
  /// need one, and the server refuses to start if there are any.
  std::vector<std::pair<std::string, std::string>> Tokens;
  /// How long an Idempotency-Key holds its answer, in seconds; after it, a
  /// request with the key runs again.
  uint64_t IdempotencyTtl = 86400;
  /// Workers that run the steps of functions cut at boundaries; 0 uses one
  /// per hardware thread, at least 2.
  unsigned StepWorkers = 0;
  /// The store survives a restart (SQLite, Redis): steps queue their next
  /// message and a dedup record with their writes, and interrupted chains
  /// are resumed when the server is created.
  bool DurableState = false;
};

/// Checks the values of a request's Idempotency-Key header: at most one,
/// of 1 to 255 visible ASCII characters. Fails with the 400's message.
Result<void> checkIdempotencyKey(const std::vector<std::string_view> &Values);

/// The arguments of a GET or DELETE: the query parameters as a JSON object
/// of strings (its text). Fails with the 400's message on a repeated or
/// non-UTF-8 parameter.
Result<std::string> queryArgs(const http::Request &Req);

/// Reads a token file: one token per line, optionally after the name of
/// the caller it stands for and a space ("billing 9f86d0..."); blank lines
/// and lines starting with '#' are skipped. A token is at least 16
/// characters of the RFC 6750 token alphabet. Returns (caller, token)
/// pairs; a token without a name is named "token-" and the first 12 hex
/// digits of its SHA-256. Fails, naming the line, on anything else.
Result<std::vector<std::pair<std::string, std::string>>>
loadTokens(const std::string &Path);

class Server {
public:
  /// Prepares a server for the entries of \p M, calling handlers from \p Mod
  /// with state in \p Store. \p Mod and \p Store must outlive the server.
  /// Fails if two entries share a route or \p Mod lacks an entry's handler.
  static Result<std::unique_ptr<Server>> create(Manifest M, const Module &Mod,
                                                StateStore &Store,
                                                ServerOptions Options = {});

  /// Stops the server if it is running.
  ~Server();
  Server(const Server &) = delete;
  Server &operator=(const Server &) = delete;

  /// Binds the listening socket and serves in background threads. Returns
  /// once requests are being accepted, with the bound port.
  Result<int> start();

  /// Stops accepting connections, closes idle ones, and lets the requests
  /// already accepted finish, for at most ServerOptions::Drain. Returns how
  /// many were still running then (0 when everything drained); those are
  /// left to end with the process. Safe to call more than once, and without
  /// start().
  size_t stop();

  /// The bound port after start(), otherwise 0.
  int port() const;

  /// Number of entries served.
  size_t entryCount() const;

  struct Impl;

private:
  explicit Server(std::unique_ptr<Impl> I);
  std::unique_ptr<Impl> I;
};

} // namespace cleave::rt

#endif // CLEAVE_SERVER_H
