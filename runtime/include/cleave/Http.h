//===- Http.h - The runtime's HTTP/1.1 server -------------------*- C++ -*-===//
//
// The connection layer of cleave-run, on Boost.Beast and Asio: an event
// loop accepts connections, reads and parses requests and writes responses,
// so an idle or slow connection costs a socket and a buffer, not a thread.
// What a request means (routing, running a function) is decided by the
// application's handler, which answers through a Responder from any thread.
//
// Framing is strict (RFC 9112): a request whose length is ambiguous gets
// 400 and the connection is closed, because a server and a proxy that
// disagree on where a request ends can be made to run a request nobody
// sent. Every answer this layer produces itself is a JSON object with an
// "error" member, as the rest of the runtime's are.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_HTTP_H
#define CLEAVE_HTTP_H

#include "cleave/Result.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cleave::rt::http {

/// One request, read in full and checked for framing.
struct Request {
  std::string Method;
  /// The request target as sent ("/orders?id=3").
  std::string Target;
  /// The path, percent-decoded; an encoded "?" or "/" is part of it.
  std::string Path;
  /// The query parameters in order, percent-decoded, "+" read as a space.
  std::vector<std::pair<std::string, std::string>> Query;
  /// Header fields in order; names as sent.
  std::vector<std::pair<std::string, std::string>> Headers;
  std::string Body;
  /// 10 for HTTP/1.0, 11 for HTTP/1.1.
  unsigned Version = 11;
  /// The client's address, for the log.
  std::string Peer;

  /// The values of header \p Name (compared without case), in order.
  std::vector<std::string_view> headers(std::string_view Name) const;
  /// The first value of header \p Name, if any.
  std::optional<std::string_view> header(std::string_view Name) const;
};

struct Response {
  int Status = 200;
  /// Extra header fields (Content-Type, Content-Length and Connection are
  /// set by the server).
  std::vector<std::pair<std::string, std::string>> Headers;
  std::string Body;
  /// Content-Type of a non-empty body.
  std::string ContentType = "application/json";
  /// Close the connection after this response.
  bool Close = false;
};

/// A response whose body is {"error": Message}.
Response errorResponse(int Status, std::string_view Message);

/// Answers one request. Call it exactly once, from any thread; a request
/// left unanswered is answered 500 when the Responder is destroyed.
class Responder {
public:
  class Target;
  explicit Responder(std::shared_ptr<Target> T);
  Responder(Responder &&) noexcept;
  Responder &operator=(Responder &&) noexcept;
  Responder(const Responder &) = delete;
  Responder &operator=(const Responder &) = delete;
  ~Responder();

  void operator()(Response R);

private:
  std::shared_ptr<Target> T;
};

/// Called on a loop thread, in the connection's strand, for each request.
/// It may defer the work to the same thread (HttpServer::defer; the answer
/// is then written with no hand-off), or queue it and answer later from any
/// thread. A loop whose threads are all held by one handler or job for more
/// than 10 ms gets a helper thread, so slow work does not stop its other
/// connections for longer than that.
using Handler = std::function<void(Request, Responder)>;

struct Limits {
  /// Largest request body; a larger one gets 413.
  size_t MaxBodyBytes = 6291456;
  /// Longest request target; a longer one gets 414.
  size_t MaxTargetBytes = 8192;
  /// Largest header field section (fields, their line ends and the blank
  /// line); a larger one gets 431. Also bounds a chunk-size line and the
  /// trailer section.
  size_t MaxHeaderBytes = 16384;
  /// From the first byte of a request to the end of its header fields; a
  /// client slower than this gets 408 (slowloris).
  std::chrono::milliseconds HeaderTimeout{10000};
  /// To read a body, once the header is in.
  std::chrono::milliseconds BodyTimeout{30000};
  /// An idle keep-alive connection is closed after this.
  std::chrono::milliseconds IdleTimeout{30000};
  /// To write one response to a client that does not read it.
  std::chrono::milliseconds WriteTimeout{30000};
  /// Open connections; the next ones wait in the kernel's backlog.
  size_t MaxConnections = 10000;
  /// Requests served on one connection before it is closed; 0 for no
  /// limit.
  size_t MaxRequestsPerConnection = 1000;
  /// Of a too-large body, how much is read and thrown away to keep the
  /// connection in step; past this the connection is closed instead.
  uint64_t DrainBytes = 64ull << 20;
};

/// Splits a request target into a decoded path and query. Fails with the
/// reason on a target that is not origin-form ("/..."), a bad percent
/// escape, or a decoded NUL.
Result<void> parseTarget(std::string_view Target, std::string &Path,
                         std::vector<std::pair<std::string, std::string>> &Query);

class HttpServer {
public:
  /// \p Threads event loops, a thread each, run I/O and whatever the
  /// handler runs on them; a connection belongs to one loop.
  HttpServer(Limits L, Handler H, unsigned Threads = 1);
  ~HttpServer();
  HttpServer(const HttpServer &) = delete;
  HttpServer &operator=(const HttpServer &) = delete;

  /// Binds \p Host:\p Port (0 picks a free port) and starts the event loop.
  /// Returns the bound port.
  Result<int> start(const std::string &Host, int Port);

  /// Stops accepting, closes idle connections at once, lets requests
  /// already read or being read be answered (with Connection: close), and
  /// waits up to \p Drain for that. Then closes whatever is left and joins
  /// the event loop. Returns the number of requests still unanswered when
  /// the time ran out (0 when everything drained).
  size_t stop(std::chrono::milliseconds Drain);

  /// Runs \p Job on this loop thread once the current handler returns (on
  /// any loop thread when called from elsewhere). A function run this way
  /// holds no connection's strand, so its request can still be answered
  /// (504 at a deadline) while it runs.
  void defer(std::function<void()> Job);

  /// Connections open now.
  size_t connections() const;

  struct Impl;

private:
  std::shared_ptr<Impl> I;
};

} // namespace cleave::rt::http

#endif // CLEAVE_HTTP_H
