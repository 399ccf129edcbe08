//===- Server.cpp - Serve a deployment's entries over HTTP ----------------===//
//
// cpp-httplib does the HTTP; this file decides every answer. All requests
// go through our own catch-all handlers so that 404, 405 and 413 follow the
// runtime's JSON error convention instead of httplib's empty bodies.
//
// Two httplib behaviours shape the code:
//  - The pre-routing handler runs before the body is read, and the content
//    reader handlers let us read it ourselves. Methods that carry arguments
//    in a body (POST, PUT, PATCH, DELETE) take the reader path, where the
//    size limit is enforced while reading, for chunked bodies too; all other
//    methods are answered in pre-routing.
//  - httplib offers no way for a handler to close the connection. Leaving
//    unread body bytes on a kept-alive connection would make the next
//    "request" whatever those bytes say, so a body is always drained, and
//    where it cannot be (it is absurdly large, or unreadable) the response
//    is sent through a content provider that reports failure after writing
//    it, which makes httplib close the socket.
//
//===----------------------------------------------------------------------===//

#include "cleave/Server.h"

#include "cleave/Executor.h"
#include "cleave/Router.h"
#include "cleave/codec.h"
#include "cleave/frame.h"

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

namespace cleave::rt {

namespace {

using Json = nlohmann::ordered_json;

/// How much of an oversized body we read and throw away to keep the
/// connection usable. Past this the connection is closed instead: draining
/// gigabytes to answer 413 would let one client tie up a worker.
constexpr uint64_t DrainLimitBytes = 64ull << 20;

constexpr const char *JsonType = "application/json";

/// Serializes JSON for a response. Text from the request (a path, a query
/// value) may not be UTF-8; replacing bad bytes keeps an error message
/// printable instead of failing to report the error.
std::string dumpJson(const Json &J) {
  return J.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void replyError(httplib::Response &Res, int Status, std::string_view Message,
                Json Extra = Json::object()) {
  Json Body = {{"error", Message}};
  Body.update(Extra);
  Res.status = Status;
  Res.set_content(dumpJson(Body), JsonType);
}

/// Makes httplib close the connection once \p Res is sent (see the file
/// comment). Call after the body is set.
void closeAfterReply(httplib::Response &Res) {
  auto Body = std::make_shared<std::string>(std::move(Res.body));
  Res.body.clear();
  std::string Type = Res.get_header_value("Content-Type");
  Res.headers.erase("Content-Type");
  Res.set_header("Connection", "close");
  if (Body->empty())
    return; // Nothing to provide; the client still sees Connection: close.
  Res.set_content_provider(
      Body->size(), Type,
      [Body](size_t Offset, size_t Length, httplib::DataSink &Sink) {
        Sink.write(Body->data() + Offset, Length);
        return false; // Everything is written; "failing" closes the socket.
      });
}

bool hasBody(const httplib::Request &Req) {
  if (Req.has_header("Transfer-Encoding"))
    return true;
  std::string Length = Req.get_header_value("Content-Length");
  return !Length.empty() && Length != "0";
}

/// Content-Length as a number; std::nullopt if absent or not a number.
std::optional<uint64_t> contentLength(const httplib::Request &Req) {
  if (!Req.has_header("Content-Length"))
    return std::nullopt;
  std::string Text = Req.get_header_value("Content-Length");
  uint64_t N = 0;
  auto [End, Ec] = std::from_chars(Text.data(), Text.data() + Text.size(), N);
  if (Ec != std::errc() || End != Text.data() + Text.size())
    return std::nullopt;
  return N;
}

std::string tooLargeMessage(uint64_t Size, bool Exact, size_t Limit) {
  return fmt::format("request body of {}{} bytes exceeds the limit of {} "
                     "bytes",
                     Exact ? "" : "more than ", Size, Limit);
}

/// What reading a request body produced.
struct Body {
  std::string Text;
  uint64_t Size = 0;
  bool TooLarge = false;
  bool SizeExact = true; ///< False when we stopped counting.
  /// Why the body could not be read (a 400), empty if it could.
  std::string Failure;
  /// False when bytes of the body may remain unread on the connection.
  bool Drained = true;
};

/// Reads the body through httplib's content reader, keeping at most
/// \p Limit bytes (none unless \p Keep) and draining the rest.
Body readBody(const httplib::Request &Req, httplib::Response &Res,
              const httplib::ContentReader &Reader, size_t Limit, bool Keep) {
  Body B;
  std::optional<uint64_t> Length = contentLength(Req);
  // With neither header the body is empty (RFC 9112 §6.3). httplib would
  // instead read until the client closes, stalling until its read timeout.
  if (!Length && !Req.has_header("Transfer-Encoding")) {
    if (Req.has_header("Content-Length")) {
      B.Failure = "invalid Content-Length header";
      B.Drained = false;
    }
    return B;
  }
  if (Length && *Length > Limit) {
    B.TooLarge = true;
    B.Size = *Length;
    if (*Length - Limit > DrainLimitBytes) {
      B.Drained = false;
      return B;
    }
    // httplib itself skips a body whose Content-Length is over its payload
    // limit (set to ours), reading it without storing it, and fails with
    // 413; nothing of the body stays on the connection.
    Reader([](const char *, size_t) { return true; });
    Res.status = -1;
    return B;
  }
  bool Ok = Reader([&](const char *Data, size_t N) {
    B.Size += N;
    if (B.Size <= Limit) {
      if (Keep)
        B.Text.append(Data, N);
      return true;
    }
    if (!B.TooLarge) {
      B.TooLarge = true;
      std::string().swap(B.Text); // Free it now: the body is refused.
    }
    // Keep draining a while so the connection stays in step.
    return B.Size - Limit <= DrainLimitBytes;
  });
  Res.status = -1; // httplib records its own verdict here; ours comes later.
  if (!Ok) {
    B.Drained = false;
    if (B.TooLarge)
      B.SizeExact = false;
    else
      B.Failure = "cannot read the request body";
  }
  // httplib does not read a DELETE body that has no Content-Length.
  if (Req.method == "DELETE" && !Length && Req.has_header("Transfer-Encoding"))
    B.Drained = false;
  return B;
}

/// The arguments of a GET or DELETE: the query string as a JSON object of
/// strings. Fails with a message on a repeated or non-UTF-8 parameter.
Result<std::string> queryArgs(const httplib::Request &Req) {
  Json Args = Json::object();
  for (const auto &[Key, Value] : Req.params) {
    if (Args.contains(Key))
      return Error(
          fmt::format("query parameter '{}' is given more than once", Key));
    Args[Key] = Value;
  }
  try {
    return Args.dump();
  } catch (const Json::type_error &) {
    return Error("query string is not valid UTF-8");
  }
}

const char *describeHttpStatus(int Status) {
  switch (Status) {
  case 400:
    return "malformed HTTP request";
  case 404:
    return "not found";
  case 413:
    return "request body too large";
  case 414:
    return "request URI too long";
  case 416:
    return "invalid Range header";
  case 417:
    return "expectation failed";
  default:
    return "request failed";
  }
}

} // namespace

struct Server::Impl {
  Impl(Manifest M, const Module &Mod, StateStore &Store, ServerOptions Options,
       Router Routes, std::vector<std::string> AllState)
      : M(std::move(M)), Mod(Mod), Store(Store), Options(std::move(Options)),
        Routes(std::move(Routes)), Locks(AllState) {}

  void install();
  void serveWithoutBody(const httplib::Request &Req, httplib::Response &Res);
  void serveWithBody(const httplib::Request &Req, httplib::Response &Res,
                     const httplib::ContentReader &Reader);
  void replyNoRoute(const httplib::Request &Req, httplib::Response &Res,
                    const RouteMatch &Match);
  void invoke(size_t Index, const httplib::Request &Req,
              const std::string &Args, bool ArgsAreStrings,
              httplib::Response &Res);
  void logFailure(const httplib::Request &Req, std::string_view Function,
                  std::string_view What);

  Manifest M;
  const Module &Mod;
  StateStore &Store;
  ServerOptions Options;
  Router Routes;
  StateLockTable Locks;
  /// Per function index: its handler (null unless an entry) and the state
  /// it may use, sorted, which is the set and order of locks it takes.
  std::vector<cleave_handler_fn_v1> Handlers;
  std::vector<std::vector<std::string>> StateOf;
  /// Per function index: its machine in Steps when it is an entry that runs
  /// as steps, otherwise -1.
  std::vector<int> EntryMachine;
  std::unique_ptr<Executor> Steps;

  /// The request's Idempotency-Key, scoped to the entry, or "".
  std::string idempotencyKey(const httplib::Request &Req,
                             const FunctionSpec &F) const {
    std::string K = Req.get_header_value("Idempotency-Key");
    return K.empty() ? K : F.Name + "/" + K;
  }
  /// The answer committed for an idempotency key by a handler.
  Result<std::optional<std::pair<int, std::string>>>
  storedResponse(const std::string &Key) {
    Result<std::optional<std::string>> M = Store.meta("idem/" + Key);
    if (!M)
      return M.error();
    if (!*M)
      return std::optional<std::pair<int, std::string>>();
    int32_t Status = 0;
    std::string Body;
    if (!frame::decodeFrame(**M, Status, Body))
      return Error("the stored response for an idempotency key is damaged");
    return std::optional<std::pair<int, std::string>>({Status, Body});
  }
  void invokeSteps(size_t Index, const httplib::Request &Req,
                   const std::string &Args, bool ArgsAreStrings,
                   httplib::Response &Res);

  httplib::Server Http;
  std::thread Listener;
  std::atomic<bool> ListenReturned{false};
  std::mutex StopMutex;
  int BoundPort = 0;
};

void Server::Impl::install() {
  Http.set_payload_max_length(Options.MaxBodyBytes);
  // httplib writes a response's headers and body separately; with Nagle's
  // algorithm on, the body then waits for the client's delayed ACK (~40 ms
  // per request on Linux).
  Http.set_tcp_nodelay(true);
  // httplib's default socket options include SO_REUSEPORT, which lets a
  // second server bind the same port and silently take half the traffic; a
  // port in use must be an error. SO_REUSEADDR alone still allows a quick
  // restart.
  Http.set_socket_options([](socket_t Sock) {
    int On = 1;
    ::setsockopt(Sock, SOL_SOCKET, SO_REUSEADDR, &On, sizeof(On));
  });
  if (Options.Threads != 0) {
    unsigned N = Options.Threads;
    Http.new_task_queue = [N] { return new httplib::ThreadPool(N); };
  }

  Http.set_pre_routing_handler(
      [this](const httplib::Request &Req, httplib::Response &Res) {
        // httplib would cut the response to a requested byte range; a
        // range of a JSON reply is meaningless, so the header is dropped.
        // The request object is a local of httplib's, not a const object.
        const_cast<httplib::Request &>(Req).ranges.clear();
        const std::string &Method = Req.method;
        if (Method == "POST" || Method == "PUT" || Method == "PATCH" ||
            Method == "DELETE")
          return httplib::Server::HandlerResponse::Unhandled;
        serveWithoutBody(Req, Res);
        return httplib::Server::HandlerResponse::Handled;
      });

  auto WithBody = [this](const httplib::Request &Req, httplib::Response &Res,
                         const httplib::ContentReader &Reader) {
    serveWithBody(Req, Res, Reader);
  };
  Http.Post(".*", WithBody);
  Http.Put(".*", WithBody);
  Http.Patch(".*", WithBody);
  Http.Delete(".*", WithBody);

  // Reached for errors httplib answers on its own (a malformed request
  // line, an over-long URI) and for every error status we set. Ours always
  // carry a Content-Type; httplib's never do, and get a JSON body here.
  Http.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request &, httplib::Response &Res) {
        if (Res.has_header("Content-Type"))
          return httplib::Server::HandlerResponse::Unhandled;
        replyError(Res, Res.status, describeHttpStatus(Res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));

  Http.set_exception_handler([this](const httplib::Request &Req,
                                    httplib::Response &Res,
                                    std::exception_ptr Ex) {
    std::string What = "unknown exception";
    try {
      if (Ex)
        std::rethrow_exception(Ex);
    } catch (const std::exception &E) {
      What = E.what();
    } catch (...) {
    }
    logFailure(Req, "-", "internal error: " + What);
    replyError(Res, 500, "internal error in the runtime");
  });

  // Runs after httplib has added its Keep-Alive header; a response that
  // closes the connection should not also advertise keeping it.
  Http.set_post_routing_handler(
      [](const httplib::Request &, httplib::Response &Res) {
        if (Res.get_header_value("Connection") == "close")
          Res.headers.erase("Keep-Alive");
      });
}

void Server::Impl::replyNoRoute(const httplib::Request &Req,
                                httplib::Response &Res,
                                const RouteMatch &Match) {
  if (Match.Status == RouteMatch::NotFound) {
    replyError(Res, 404,
               fmt::format("no route for {} {}", Req.method, Req.path));
    return;
  }
  replyError(
      Res, 405,
      fmt::format("method {} is not allowed for {}", Req.method, Req.path),
      {{"allowed", Match.Allowed}});
  Res.set_header("Allow", fmt::format("{}", fmt::join(Match.Allowed, ", ")));
}

void Server::Impl::serveWithoutBody(const httplib::Request &Req,
                                    httplib::Response &Res) {
  // httplib never reads the body of these methods; answering would leave
  // it on the connection to be parsed as the next request.
  if (hasBody(Req)) {
    replyError(Res, 400,
               fmt::format("a {} request must not have a body", Req.method));
    closeAfterReply(Res);
    return;
  }
  RouteMatch Match = Routes.match(Req.method, Req.path);
  if (Match.Status != RouteMatch::Found)
    return replyNoRoute(Req, Res, Match);
  // Only GET reaches this point: the manifest allows no other body-less
  // method.
  Result<std::string> Args = queryArgs(Req);
  if (!Args)
    return replyError(Res, 400, Args.error().message());
  invoke(Match.Index, Req, *Args, /*ArgsAreStrings=*/true, Res);
}

void Server::Impl::serveWithBody(const httplib::Request &Req,
                                 httplib::Response &Res,
                                 const httplib::ContentReader &Reader) {
  // A multipart body needs httplib's multipart reader, and is never JSON.
  if (Req.is_multipart_form_data()) {
    replyError(Res, 415,
               "request body must be a JSON object, not "
               "multipart/form-data");
    return closeAfterReply(Res);
  }
  RouteMatch Match = Routes.match(Req.method, Req.path);
  bool Found = Match.Status == RouteMatch::Found;
  // DELETE takes its arguments from the query string; its body, like that
  // of a request with no route, is drained but not kept.
  bool Keep = Found && Req.method != "DELETE";
  Body B = readBody(Req, Res, Reader, Options.MaxBodyBytes, Keep);

  if (!B.Failure.empty())
    replyError(Res, 400, B.Failure);
  else if (!Found)
    replyNoRoute(Req, Res, Match);
  else if (B.TooLarge)
    replyError(Res, 413,
               tooLargeMessage(B.Size, B.SizeExact, Options.MaxBodyBytes));
  if (Res.status != -1) {
    if (!B.Drained)
      closeAfterReply(Res);
    return;
  }

  if (Req.method == "DELETE") {
    Result<std::string> Args = queryArgs(Req);
    if (!Args)
      return replyError(Res, 400, Args.error().message());
    return invoke(Match.Index, Req, *Args, /*ArgsAreStrings=*/true, Res);
  }

  // Validated here, so a handler only ever sees a JSON object; it still gets
  // the original text, parsed once more by its generated decoder.
  if (B.Text.empty())
    B.Text = "{}";
  // Parsed as the handler parses it (codec::parseJson: numbers exact), so
  // an error names where in the body it is.
  {
    codec::Json Parsed;
    std::string Why;
    if (!codec::parseJson(B.Text, Parsed, Why))
      return replyError(Res, 400, "malformed JSON: " + Why);
    if (!Parsed.is_object())
      return replyError(Res, 400, "request body must be a JSON object");
  }
  invoke(Match.Index, Req, B.Text, /*ArgsAreStrings=*/false, Res);
}

void Server::Impl::logFailure(const httplib::Request &Req,
                              std::string_view Function,
                              std::string_view What) {
  // One fmt::print is one write, so concurrent lines do not interleave.
  fmt::print(stderr, "cleave-run: {} {} (function {}): {}\n", Req.method,
             Req.path, Function, What);
}

namespace {

/// How many times a call or step runs when its commit keeps conflicting.
constexpr unsigned MaxAttempts = 8;

/// The host of code that must not touch state (argument decoding).
const cleave_host_v1 &statelessHost() {
  static const cleave_host_v1 Host = {
      nullptr,
      [](void *, const char *, const char **, size_t *) { return -1; },
      [](void *, const char *, const char *, size_t) { return -1; }};
  return Host;
}

/// Calls a JSON adapter of a machine and copies its reply out.
std::pair<int, std::string> adapterReply(const Module &Mod,
                                         cleave_reply_v1 &Reply) {
  std::pair<int, std::string> Out{Reply.status, std::string()};
  if (Reply.body)
    Out.second.assign(Reply.body, Reply.body_len);
  Mod.release(Reply.body);
  return Out;
}

} // namespace

void Server::Impl::invokeSteps(size_t Index, const httplib::Request &Req,
                               const std::string &Args, bool ArgsAreStrings,
                               httplib::Response &Res) {
  const FunctionSpec &F = M.Functions[Index];
  int Machine = EntryMachine[Index];
  const cleave_machine_v1 *Mach = Mod.findMachine(F.Machine);
  cleave_call_v1 Call{Args.c_str(), Args.size(), ArgsAreStrings ? 1 : 0,
                      &statelessHost()};
  cleave_reply_v1 Reply{500, nullptr, 0};
  auto [Status, Frame] =
      (Mach->args_from_json(&Call, &Reply), adapterReply(Mod, Reply));
  if (Status != 200) {
    if (Frame.empty() || (Status != 400 && Status != 500))
      return replyError(Res, 500,
                        fmt::format("cannot decode the arguments of '{}'",
                                    F.Name));
    Res.status = Status;
    return Res.set_content(Frame, JsonType);
  }
  // The whole chain runs before the entry answers. With an idempotency key
  // a repeated request gets the outcome of the first, which ran once.
  std::string Key = idempotencyKey(Req, F);
  Executor::Outcome O;
  std::optional<Executor::Outcome> Kept;
  if (!Key.empty()) {
    auto Stored = Steps->response(Key);
    if (!Stored)
      return replyError(Res, 500, Stored.error().message());
    Kept = std::move(*Stored);
  }
  if (Kept) {
    O = std::move(*Kept);
  } else {
    O = Steps->run(Machine, std::move(Frame), Key);
    if (O.Status == Executor::CLEAVE_STEP_DUPLICATE) {
      // The first request with this key is still running: wait for it.
      for (int Wait = 0; Wait < 3000; ++Wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        auto Stored = Steps->response(Key);
        if (Stored && *Stored) {
          O = std::move(**Stored);
          break;
        }
      }
    }
  }
  if (O.Status == Executor::CLEAVE_STEP_DUPLICATE ||
      O.Status == Executor::CLEAVE_STEP_UNAVAILABLE) {
    Res.status = O.Status;
    return Res.set_content(O.Body, JsonType);
  }
  if (O.Status != CLEAVE_STEP_DONE) {
    if (O.Status != CLEAVE_STEP_BAD_REQUEST)
      logFailure(Req, F.Name, O.Body);
    Res.status = O.Status == CLEAVE_STEP_BAD_REQUEST ? 400 : 500;
    return Res.set_content(O.Body, JsonType);
  }
  cleave_reply_v1 Value{500, nullptr, 0};
  auto [VStatus, Text] =
      (Mach->value_to_json(O.Body.data(), O.Body.size(), &Value),
       adapterReply(Mod, Value));
  Res.status = VStatus;
  if (VStatus == 204)
    return;
  if (VStatus != 200 || Text.empty()) {
    logFailure(Req, F.Name, "cannot encode the value as JSON");
    return replyError(Res, 500,
                      fmt::format("'{}' returned a value that cannot be "
                                  "encoded",
                                  F.Name));
  }
  Res.set_content(Text, JsonType);
}

void Server::Impl::invoke(size_t Index, const httplib::Request &Req,
                          const std::string &Args, bool ArgsAreStrings,
                          httplib::Response &Res) {
  const FunctionSpec &F = M.Functions[Index];
  if (Req.has_header("Idempotency-Key")) {
    const std::string K = Req.get_header_value("Idempotency-Key");
    bool Printable = !K.empty() && K.size() <= 255;
    for (unsigned char C : K)
      Printable &= C >= 0x21 && C <= 0x7e;
    if (!Printable)
      return replyError(Res, 400,
                        "Idempotency-Key must be 1 to 255 visible ASCII "
                        "characters");
  }
  // A store that cannot keep what it acknowledges (its file deleted or
  // replaced under the server) takes no request: 503 until an operator
  // restarts, and the reason in the log.
  if (Result<void> H = Store.healthy(); !H) {
    logFailure(Req, F.Name, H.error().message());
    Res.set_header("Retry-After", "30");
    return replyError(Res, 503, H.error().message());
  }
  if (EntryMachine[Index] >= 0)
    return invokeSteps(Index, Req, Args, ArgsAreStrings, Res);
  // The locks are held from before the handler reads any state until its
  // writes are applied, which makes each invocation atomic and isolated.
  // A repeated request with an idempotency key gets the first answer.
  std::string Key = idempotencyKey(Req, F);
  if (!Key.empty()) {
    auto Stored = storedResponse(Key);
    if (!Stored)
      return replyError(Res, 500, Stored.error().message());
    if (*Stored) {
      Res.status = (*Stored)->first;
      if (Res.status != 204)
        Res.set_content((*Stored)->second, JsonType);
      return;
    }
  }
  // A conflict (another process changed what the call read) runs the call
  // again, a bounded number of times.
  for (unsigned Attempt = 1;; ++Attempt) {
    auto Txn = StateTransaction::begin(Store, Locks, StateOf[Index]);
    if (!Txn) {
      logFailure(Req, F.Name, Txn.error().message());
      return replyError(Res, 500,
                        fmt::format("cannot lock the state of '{}'", F.Name));
    }

    cleave_call_v1 Call;
    Call.args = Args.c_str();
    Call.args_len = Args.size();
    Call.args_are_strings = ArgsAreStrings ? 1 : 0;
    Call.host = (*Txn)->host();
    cleave_reply_v1 Reply;
    Reply.status = 500;
    Reply.body = nullptr;
    Reply.body_len = 0;
    bool Threw = false;
    try {
      Handlers[Index](&Call, &Reply);
    } catch (...) {
      // The ABI forbids this; generated handlers catch everything. Survive a
      // hand-written one that does not, rather than take the server down.
      Threw = true;
    }

    // Copy the body out and give it back at once, so that no path below can
    // forget to release it.
    std::string Text;
    if (!Threw) {
      if (Reply.body)
        Text.assign(Reply.body, Reply.body_len);
      Mod.release(Reply.body);
    }

    auto Fail = [&](std::string Message) {
      logFailure(Req, F.Name, Message);
      replyError(Res, 500, Message);
    };
    // A reply that breaks the ABI says nothing trustworthy about the writes
    // either, so they are dropped with it.
    if (Threw)
      return Fail(fmt::format("handler for '{}' threw an exception across the "
                              "C ABI",
                              F.Name));
    if (Reply.status != 200 && Reply.status != 204 && Reply.status != 400 &&
        Reply.status != 500)
      return Fail(fmt::format("handler for '{}' answered with unexpected "
                              "status {}",
                              F.Name, Reply.status));
    if (Reply.status == 200 && Text.empty())
      return Fail(
          fmt::format("handler for '{}' answered 200 without a body", F.Name));

    // Every recorded write is applied, whatever the status (abi.h): the
    // handler records only what must persist, which after an exception in
    // user code is what the function changed before it threw, as in the plain
    // program.
    CommitRequest Record;
    if (!Key.empty()) {
      std::string Rec;
      frame::encodeFrame(Rec, int32_t(Reply.status), Text);
      Record.Done.push_back("idem/" + Key);
      Record.Meta.emplace_back("idem/" + Key, std::move(Rec));
    }
    Result<CommitStatus> Committed = (*Txn)->commit(std::move(Record));
    if (!Committed)
      return Fail(fmt::format("cannot save the state written by '{}': {}",
                              F.Name, Committed.error().message()));
    if (*Committed == CommitStatus::Duplicate) {
      // Another request with this key committed first: answer as it did.
      Txn->reset();
      for (int Wait = 0; Wait < 3000; ++Wait) {
        if (auto Stored = storedResponse(Key); Stored && *Stored) {
          Res.status = (*Stored)->first;
          if (Res.status != 204)
            Res.set_content((*Stored)->second, JsonType);
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      return replyError(Res, 409,
                        "a request with this Idempotency-Key is in "
                        "progress");
    }
    if (*Committed != CommitStatus::Committed) {
      if (Attempt < MaxAttempts) {
        Txn->reset(); // release the locks while waiting
        backOffAfterConflict(Attempt);
        continue;
      }
      logFailure(Req, F.Name, "state kept changing under it; gave up");
      return replyError(Res, 503,
                        fmt::format("'{}' could not commit: its state kept "
                                    "changing ({} attempts)",
                                    F.Name, MaxAttempts));
    }

    if (Reply.status == 500) {
      std::string Why = Text.empty() ? "no details" : Text;
      if (!(*Txn)->lastError().empty())
        Why += "; state: " + (*Txn)->lastError();
      logFailure(Req, F.Name, Why);
    }
    Res.status = Reply.status;
    if (Reply.status == 204)
      return;
    if (Text.empty())
      return replyError(Res, Reply.status,
                        fmt::format("'{}' failed without a message", F.Name));
    return Res.set_content(Text, JsonType);
  }
}

//===----------------------------------------------------------------------===//
// Server
//===----------------------------------------------------------------------===//

Server::Server(std::unique_ptr<Impl> I) : I(std::move(I)) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::create(Manifest M, const Module &Mod,
                                               StateStore &Store,
                                               ServerOptions Options) {
  Result<Router> Routes = Router::fromManifest(M);
  if (!Routes)
    return Routes.error();
  if (Result<void> Verified = Mod.verify(M); !Verified)
    return Verified.error();

  std::vector<std::string> AllState;
  for (const StateSpec &S : M.State)
    AllState.push_back(S.Name);
  std::vector<std::vector<std::string>> StateOf;
  std::vector<cleave_handler_fn_v1> Handlers;
  for (const FunctionSpec &F : M.Functions) {
    std::vector<std::string> Names;
    for (const StateUse &U : F.State)
      Names.push_back(U.Name);
    std::sort(Names.begin(), Names.end());
    Names.erase(std::unique(Names.begin(), Names.end()), Names.end());
    AllState.insert(AllState.end(), Names.begin(), Names.end());
    StateOf.push_back(std::move(Names));
    Handlers.push_back(F.isEntry() ? Mod.find(F.Handler) : nullptr);
  }

  // Functions that run as steps go to the executor.
  std::vector<Executor::MachineInfo> Machines;
  std::vector<int> EntryMachine;
  for (size_t Fn = 0; Fn < M.Functions.size(); ++Fn) {
    const FunctionSpec &F = M.Functions[Fn];
    EntryMachine.push_back(-1);
    if (F.Machine.empty())
      continue;
    if (F.isEntry())
      EntryMachine.back() = static_cast<int>(Machines.size());
    Machines.push_back({F.Machine, Mod.findMachine(F.Machine), StateOf[Fn]});
  }
  for (const FunctionSpec &F : M.Functions)
    for (const EdgeSpec &E : F.Edges) {
      bool Known = false;
      for (const Executor::MachineInfo &Mi : Machines)
        Known |= Mi.Name == E.Callee;
      if (!Known)
        return Error(fmt::format("function '{}' calls '{}' across a boundary, "
                                 "but '{}' has no machine in the manifest",
                                 F.Name, E.Callee, E.Callee));
    }
  unsigned Workers = Options.StepWorkers
                         ? Options.StepWorkers
                         : std::max(2u, std::thread::hardware_concurrency());

  auto I = std::make_unique<Impl>(std::move(M), Mod, Store, std::move(Options),
                                  Routes.take(), AllState);
  I->StateOf = std::move(StateOf);
  I->Handlers = std::move(Handlers);
  I->EntryMachine = std::move(EntryMachine);
  std::vector<std::string> Eventual, Keyed;
  for (const StateSpec &St : I->M.State) {
    if (St.Consistency == "eventual")
      Eventual.push_back(St.Name);
    if (St.Granularity == "key")
      Keyed.push_back(St.Name);
  }
  I->Locks.markEventual(Eventual);
  I->Locks.markKeyed(Keyed);
  if (!Machines.empty()) {
    Executor::Options EO;
    EO.Workers = Workers;
    EO.Durable = I->Options.DurableState;
    EO.MaxAttempts = MaxAttempts;
    I->Steps = std::make_unique<Executor>(Mod, Store, I->Locks,
                                          std::move(Machines), EO);
    // Chains a crash interrupted go on before new requests are taken.
    if (EO.Durable) {
      Result<size_t> Resumed = I->Steps->recover();
      if (!Resumed)
        return Error(fmt::format("cannot read the queued steps: {}",
                                 Resumed.error().message()));
      if (*Resumed)
        fmt::print(stderr, "cleave-run: resuming {} interrupted step{}\n",
                   *Resumed, *Resumed == 1 ? "" : "s");
    }
  }
  I->install();
  return std::unique_ptr<Server>(new Server(std::move(I)));
}

Result<int> Server::start() {
  std::lock_guard<std::mutex> Lock(I->StopMutex);
  if (I->Listener.joinable())
    return Error("the server is already running");
  const ServerOptions &O = I->Options;
  errno = 0;
  int Port = O.Port == 0 ? I->Http.bind_to_any_port(O.Host)
                         : (I->Http.bind_to_port(O.Host, O.Port) ? O.Port : -1);
  if (Port < 0) {
    int Why = errno;
    return Error(fmt::format("cannot listen on {}:{}{}{}", O.Host, O.Port,
                             Why ? ": " : "", Why ? std::strerror(Why) : ""));
  }
  I->ListenReturned = false;
  I->Listener = std::thread([Impl = I.get()] {
    Impl->Http.listen_after_bind();
    Impl->ListenReturned = true;
  });
  // httplib's stop() does nothing before the accept loop is up, so only
  // report success (and so allow a stop) once it is.
  while (!I->Http.is_running() && !I->ListenReturned)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (I->ListenReturned) {
    I->Listener.join();
    return Error(
        fmt::format("the server on {}:{} stopped at once", O.Host, Port));
  }
  I->BoundPort = Port;
  return Port;
}

void Server::stop() {
  std::lock_guard<std::mutex> Lock(I->StopMutex);
  if (!I->Listener.joinable())
    return;
  // Closes the listening socket; listen_after_bind then waits for the
  // requests in flight before it returns.
  if (I->Http.is_running())
    I->Http.stop();
  I->Listener.join();
  I->BoundPort = 0;
}

int Server::port() const { return I->BoundPort; }

size_t Server::entryCount() const { return I->Routes.size(); }

} // namespace cleave::rt
