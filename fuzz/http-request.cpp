//===- http-request.cpp - Fuzz the HTTP layer over a socket ---------------===//
//
// The input is the bytes a client sends on one connection. A server of
// the runtime's HTTP layer (http::HttpServer, small limits, short
// timeouts) runs for the whole process on 127.0.0.1; each input is written
// to a new connection, whose write side is then shut, and everything the
// server sends is read until it closes. Its handler checks each request it
// is given (the limits held, the framing rules kept, the target decoded as
// parseTarget decodes it) and answers with a JSON body describing it:
// inline, from another thread, after the handler returns (defer), with
// Connection: close, with 204, by throwing, or by dropping the Responder,
// as the query's "answer" parameter says (else by the request's size).
//
// What comes back must be a sequence of well-formed HTTP/1.x responses: a
// status line with a known status, header fields ending in an empty line,
// a Content-Length that frames the body exactly (none on 204 and 100, the
// body left out on an answer to HEAD). The handler's answers carry
// X-Fuzz-Request, the request's number on the connection: every request it
// saw is answered once, in order, with the body it gave. Any other answer
// is an error from the layer itself (500 exactly where the handler threw
// or dropped its Responder, else 4xx or 505): application/json, a JSON
// object with an "error" string. After an answer that closes the
// connection nothing follows, and every answer but such a refusal answers
// a request line of its own. The server must close every connection
// without waiting for a timeout once the client is done (a hang is a
// crash), then still serve a request on a new connection and keep no
// connection open.
//
// CLEAVE_FUZZ_SHOW=1 prints what the server sent for each input.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "cleave/Http.h"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace cleave::rt;

namespace {

constexpr size_t MaxBodyBytes = 4096;
constexpr size_t MaxHeaderBytes = 2048;
constexpr size_t MaxTargetBytes = 1024;
constexpr size_t RequestsPerConnection = 8;
constexpr uint64_t DrainBytes = 64ull << 20;
/// How long one connection may take. The server's own timeouts are 300 ms
/// (late by up to its 250 ms sweep), and none should even be needed: the
/// client has sent everything and shut its write side.
constexpr std::chrono::seconds ExchangeLimit{3};

using Json = nlohmann::json;

/// How the handler answers a request.
enum class Answer { Inline, Thread, Defer, Close, Empty, Throw, Drop };
constexpr int AnswerKinds = 7;
const char *const AnswerNames[AnswerKinds] = {
    "inline", "thread", "defer", "close", "empty", "throw", "drop"};

/// A request the handler was given, and what it answered.
struct Seen {
  bool Head = false;
  unsigned Version = 11;
  int Status = 200;
  /// The answer carries X-Fuzz-Request (a 500 for Throw and Drop is the
  /// layer's own, with an error body).
  bool Tagged = true;
  bool Close = false;
  std::string Body;
};

/// Runs jobs on a thread of its own, for answers from outside the loop.
class Worker {
public:
  Worker() : Thread([this] { run(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Done = true;
    }
    Wake.notify_one();
    Thread.join();
  }

  void post(std::function<void()> Job) {
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Jobs.push_back(std::move(Job));
    }
    Wake.notify_one();
  }

private:
  void run() {
    std::unique_lock<std::mutex> Lock(Mutex);
    for (;;) {
      Wake.wait(Lock, [this] { return Done || !Jobs.empty(); });
      if (Jobs.empty())
        return;
      std::function<void()> Job = std::move(Jobs.front());
      Jobs.pop_front();
      Lock.unlock();
      Job();
      Lock.lock();
    }
  }

  std::mutex Mutex;
  std::condition_variable Wake;
  std::deque<std::function<void()>> Jobs;
  bool Done = false;
  std::thread Thread;
};

struct Fixture {
  Worker Answers;
  std::unique_ptr<http::HttpServer> Server;
  int Port = 0;
  std::mutex SeenMutex;
  /// By peer address ("127.1.2.3:PORT"), the requests of each connection.
  std::map<std::string, std::vector<Seen>> SeenByPeer;
};

Fixture *F = nullptr;
/// CLEAVE_FUZZ_SHOW set: print what the server sent for each input.
bool Show = false;

bool iequals(std::string_view A, std::string_view B) {
  if (A.size() != B.size())
    return false;
  for (size_t I = 0; I < A.size(); ++I) {
    auto Lower = [](char C) {
      return C >= 'A' && C <= 'Z' ? static_cast<char>(C - 'A' + 'a') : C;
    };
    if (Lower(A[I]) != Lower(B[I]))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view S) {
  while (!S.empty() && (S.front() == ' ' || S.front() == '\t'))
    S.remove_prefix(1);
  while (!S.empty() && (S.back() == ' ' || S.back() == '\t'))
    S.remove_suffix(1);
  return S;
}

/// Whether the comma-separated list \p Value holds \p Token.
bool hasToken(std::string_view Value, std::string_view Token) {
  for (;;) {
    size_t Comma = Value.find(',');
    if (iequals(trim(Value.substr(0, Comma)), Token))
      return true;
    if (Comma == std::string_view::npos)
      return false;
    Value.remove_prefix(Comma + 1);
  }
}

/// What the layer promises of a request it hands over.
void checkRequest(const http::Request &Req) {
  FUZZ_CHECK(!Req.Method.empty(), "a request has a method");
  FUZZ_CHECK(Req.Version == 10 || Req.Version == 11,
             "a request is HTTP/1.0 or HTTP/1.1");
  FUZZ_CHECK(Req.Target.size() <= MaxTargetBytes,
             "a request target is within MaxTargetBytes");
  FUZZ_CHECK(Req.Body.size() <= MaxBodyBytes,
             "a request body is within MaxBodyBytes");
  // Each field took at least "NAME:VALUE" and CR LF, and the section ends
  // with an empty line.
  size_t FieldBytes = 2;
  for (const auto &[Name, Value] : Req.Headers)
    FieldBytes += Name.size() + 1 + Value.size() + 2;
  FUZZ_CHECK(FieldBytes <= MaxHeaderBytes,
             "the header fields are within MaxHeaderBytes");
  size_t Hosts = Req.headers("Host").size();
  FUZZ_CHECK(Req.Version == 11 ? Hosts == 1 : Hosts <= 1,
             "an HTTP/1.1 request has one Host, an HTTP/1.0 one at most one");
  std::vector<std::string_view> Codings = Req.headers("Transfer-Encoding");
  FUZZ_CHECK(Codings.size() <= 1 &&
                 (Codings.empty() || iequals(trim(Codings[0]), "chunked")),
             "the only transfer coding is chunked, once");
  FUZZ_CHECK(Codings.empty() || Req.headers("Content-Length").empty(),
             "a request is not framed both by length and by chunks");
  bool TakesBody = Req.Method == "POST" || Req.Method == "PUT" ||
                   Req.Method == "PATCH" || Req.Method == "DELETE";
  FUZZ_CHECK(Req.Body.empty() || TakesBody,
             "only POST, PUT, PATCH and DELETE have a body");
  FUZZ_CHECK(Req.Path.find('\0') == std::string::npos,
             "a decoded path holds no NUL");
  std::string Path;
  std::vector<std::pair<std::string, std::string>> Query;
  FUZZ_CHECK(http::parseTarget(Req.Target, Path, Query),
             "the target of a request handed over parses");
  FUZZ_CHECK(Path == Req.Path && Query == Req.Query,
             "the path and query are those parseTarget reads");
  FUZZ_CHECK(Req.Target != "*" || Req.Method == "OPTIONS",
             "only OPTIONS has the target '*'");
}

Answer chooseAnswer(const http::Request &Req) {
  for (const auto &[Key, Value] : Req.Query)
    if (Key == "answer")
      for (int K = 0; K < AnswerKinds; ++K)
        if (Value == AnswerNames[K])
          return static_cast<Answer>(K);
  // Throw and Drop only when asked: the rest by turns.
  return static_cast<Answer>((Req.Target.size() + Req.Body.size()) % 5);
}

void handle(http::Request Req, http::Responder Respond) {
  checkRequest(Req);
  Answer How = chooseAnswer(Req);
  Seen S;
  S.Head = Req.Method == "HEAD";
  S.Version = Req.Version;
  size_t Index;
  {
    std::lock_guard<std::mutex> Lock(F->SeenMutex);
    Index = F->SeenByPeer[Req.Peer].size();
  }
  http::Response Res;
  Res.Headers.emplace_back("X-Fuzz-Request", std::to_string(Index));
  if (How == Answer::Empty) {
    Res.Status = 204;
  } else {
    Json Query = Json::array();
    for (const auto &[K, V] : Req.Query)
      Query.push_back({K, V});
    Res.Body = Json{{"method", Req.Method},
                    {"path", Req.Path},
                    {"query", Query},
                    {"body", Req.Body.size()},
                    {"version", Req.Version}}
                   .dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  Res.Close = How == Answer::Close;
  S.Status = Res.Status;
  S.Close = Res.Close;
  S.Body = Res.Body;
  if (How == Answer::Throw || How == Answer::Drop) {
    S.Status = 500;
    S.Tagged = false;
    S.Body.clear();
  }
  {
    std::lock_guard<std::mutex> Lock(F->SeenMutex);
    F->SeenByPeer[Req.Peer].push_back(std::move(S));
  }
  // std::function wants a copyable job.
  auto Shared = std::make_shared<http::Responder>(std::move(Respond));
  switch (How) {
  case Answer::Inline:
  case Answer::Close:
  case Answer::Empty:
    (*Shared)(std::move(Res));
    break;
  case Answer::Thread:
    F->Answers.post([Shared, Res] { (*Shared)(Res); });
    break;
  case Answer::Defer:
    F->Server->defer([Shared, Res] { (*Shared)(Res); });
    break;
  case Answer::Throw:
    throw std::runtime_error("the handler failed");
  case Answer::Drop:
    break;
  }
}

void startServer() {
  F = new Fixture;
  http::Limits L;
  L.MaxBodyBytes = MaxBodyBytes;
  L.MaxHeaderBytes = MaxHeaderBytes;
  L.MaxTargetBytes = MaxTargetBytes;
  L.HeaderTimeout = L.BodyTimeout = L.IdleTimeout =
      std::chrono::milliseconds(300);
  L.WriteTimeout = std::chrono::milliseconds(1000);
  L.MaxRequestsPerConnection = RequestsPerConnection;
  L.DrainBytes = DrainBytes;
  // Two loop threads: a deferred answer needs one left free for I/O.
  F->Server = std::make_unique<http::HttpServer>(L, handle, /*Threads=*/2);
  Result<int> Port = F->Server->start("127.0.0.1", 0);
  if (!Port) {
    std::fprintf(stderr, "cannot start the server: %s\n",
                 Port.error().message().c_str());
    std::exit(1);
  }
  F->Port = *Port;
  std::atexit([] {
    F->Server->stop(std::chrono::milliseconds(0));
    delete F;
    F = nullptr;
  });
}

/// Sends \p Input on a new connection, shuts the write side and returns
/// what the server sent until it closed. Sets \p Peer to the connection's
/// address as the server sees it.
std::string sendAndReceive(std::string_view Input, std::string &Peer) {
  int Fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(Fd >= 0, "a socket is made");
  // The client closes first (it shuts its write side), so each connection
  // leaves its port in TIME_WAIT for a minute: at a thousand connections a
  // second one address would run out of ports. Connections come from
  // 127.1.0.1 to 127.1.255.254 by turns, each address with ports of its
  // own.
  static uint32_t Source = 0;
  Source = Source % 0xfffe + 1;
  sockaddr_in From{};
  From.sin_family = AF_INET;
  From.sin_addr.s_addr = htonl(0x7f010000u | Source);
  int One = 1;
  ::setsockopt(Fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &One, sizeof(One));
  FUZZ_CHECK(::bind(Fd, reinterpret_cast<sockaddr *>(&From), sizeof(From)) == 0,
             "a loopback address takes a socket");
  sockaddr_in Addr{};
  Addr.sin_family = AF_INET;
  Addr.sin_port = htons(static_cast<uint16_t>(F->Port));
  Addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Without blocking: libFuzzer's timer signal would interrupt connect(),
  // and an interrupted connect() goes on without saying how it ends.
  ::fcntl(Fd, F_SETFL, ::fcntl(Fd, F_GETFL) | O_NONBLOCK);
  int Error = 0;
  if (::connect(Fd, reinterpret_cast<sockaddr *>(&Addr), sizeof(Addr)) != 0) {
    Error = errno;
    if (Error == EINPROGRESS || Error == EINTR) {
      pollfd P{Fd, POLLOUT, 0};
      int Ready;
      do
        Ready = ::poll(&P, 1, static_cast<int>(ExchangeLimit.count() * 1000));
      while (Ready < 0 && errno == EINTR);
      socklen_t ErrorLen = sizeof(Error);
      Error = Ready <= 0 ? ETIMEDOUT : 0;
      if (Ready > 0)
        ::getsockopt(Fd, SOL_SOCKET, SO_ERROR, &Error, &ErrorLen);
    }
  }
  if (Error != 0)
    std::fprintf(stderr, "connect: %s\n", std::strerror(Error));
  FUZZ_CHECK(Error == 0, "the server accepts a connection");
  sockaddr_in Local{};
  socklen_t Len = sizeof(Local);
  FUZZ_CHECK(::getsockname(Fd, reinterpret_cast<sockaddr *>(&Local), &Len) == 0,
             "a connected socket has an address");
  char Host[INET_ADDRSTRLEN] = "";
  ::inet_ntop(AF_INET, &Local.sin_addr, Host, sizeof(Host));
  Peer = std::string(Host) + ":" + std::to_string(ntohs(Local.sin_port));

  std::string Received;
  size_t Sent = 0;
  bool Shut = false;
  auto Deadline = std::chrono::steady_clock::now() + ExchangeLimit;
  for (;;) {
    if (Sent == Input.size() && !Shut) {
      ::shutdown(Fd, SHUT_WR);
      Shut = true;
    }
    pollfd P{Fd, static_cast<short>(POLLIN | (Shut ? 0 : POLLOUT)), 0};
    auto Left = std::chrono::duration_cast<std::chrono::milliseconds>(
        Deadline - std::chrono::steady_clock::now());
    int Ready =
        Left.count() > 0 ? ::poll(&P, 1, static_cast<int>(Left.count())) : 0;
    if (Ready < 0 && errno == EINTR)
      continue;
    if (Ready == 0) {
      std::fprintf(stderr,
                   "the server neither answered nor closed within %lld s "
                   "(%zu of %zu bytes sent, %zu received)\n",
                   static_cast<long long>(ExchangeLimit.count()), Sent,
                   Input.size(), Received.size());
      std::abort();
    }
    FUZZ_CHECK(Ready > 0, "poll works");
    if (P.revents & (POLLIN | POLLHUP | POLLERR)) {
      char Buf[16384];
      ssize_t N = ::recv(Fd, Buf, sizeof(Buf), 0);
      if (N > 0) {
        Received.append(Buf, static_cast<size_t>(N));
        continue;
      }
      if (N == 0)
        break;
      if (errno != EAGAIN && errno != EINTR) {
        // A reset can destroy answers the client has not read yet: the
        // layer lingers after a final answer so that it never happens.
        std::fprintf(stderr, "recv: %s (%zu bytes received)\n",
                     std::strerror(errno), Received.size());
        FUZZ_CHECK(false, "the server closes without resetting");
      }
    }
    if (!Shut && (P.revents & POLLOUT)) {
      ssize_t N =
          ::send(Fd, Input.data() + Sent, Input.size() - Sent, MSG_NOSIGNAL);
      if (N > 0) {
        Sent += static_cast<size_t>(N);
      } else if (errno != EAGAIN && errno != EINTR) {
        // The server closed while the client was still sending: what is
        // left is not read anyway.
        Sent = Input.size();
      }
    }
  }
  ::close(Fd);
  return Received;
}

std::vector<Seen> takeSeen(const std::string &Peer) {
  std::lock_guard<std::mutex> Lock(F->SeenMutex);
  auto It = F->SeenByPeer.find(Peer);
  if (It == F->SeenByPeer.end())
    return {};
  std::vector<Seen> Out = std::move(It->second);
  F->SeenByPeer.erase(It);
  return Out;
}

size_t countOf(std::string_view S, std::string_view What) {
  size_t N = 0;
  for (size_t At = S.find(What); At != std::string_view::npos;
       At = S.find(What, At + 1))
    ++N;
  return N;
}

bool isTokenChar(char C) {
  return (C >= 'a' && C <= 'z') || (C >= 'A' && C <= 'Z') ||
         (C >= '0' && C <= '9') ||
         (C != '\0' && std::strchr("!#$%&'*+-.^_`|~", C) != nullptr);
}

/// Checks \p Out, what the server sent for \p Input, against the requests
/// the handler saw.
void checkAnswers(std::string_view Input, std::string_view Out,
                  const std::vector<Seen> &Requests) {
  static const std::set<int> LayerStatuses = {400, 408, 413, 414,
                                              417, 431, 505};
  FUZZ_CHECK(Requests.size() <= RequestsPerConnection,
             "a connection serves at most MaxRequestsPerConnection requests");
  size_t Pos = 0, Next = 0, Answers = 0, Refusals = 0;
  while (Pos < Out.size()) {
    std::string_view Rest = Out.substr(Pos);
    size_t HeadEnd = Rest.find("\r\n\r\n");
    FUZZ_CHECK(HeadEnd != std::string_view::npos,
               "a response head ends with an empty line");
    std::string_view Head = Rest.substr(0, HeadEnd + 2);
    Pos += HeadEnd + 4;
    // Status line.
    size_t Eol = Head.find("\r\n");
    std::string_view Line = Head.substr(0, Eol);
    FUZZ_CHECK(Line.size() > 13 && (Line.substr(0, 9) == "HTTP/1.1 " ||
                                    Line.substr(0, 9) == "HTTP/1.0 "),
               "a response starts with an HTTP/1.x status line");
    unsigned Version = Line[7] == '1' ? 11 : 10;
    FUZZ_CHECK(Line[9] >= '1' && Line[9] <= '5' && Line[10] >= '0' &&
                   Line[10] <= '9' && Line[11] >= '0' && Line[11] <= '9' &&
                   Line[12] == ' ',
               "a status is three digits and a space");
    int Status = (Line[9] - '0') * 100 + (Line[10] - '0') * 10 + Line[11] - '0';
    FUZZ_CHECK(Line.find_first_of("\r\n", 13) == std::string_view::npos,
               "a status line is one line");
    // Fields.
    std::vector<std::pair<std::string_view, std::string_view>> Fields;
    for (std::string_view Rest = Head.substr(Eol + 2); !Rest.empty();) {
      size_t End = Rest.find("\r\n");
      FUZZ_CHECK(End != std::string_view::npos, "a field ends with CR LF");
      std::string_view Field = Rest.substr(0, End);
      Rest.remove_prefix(End + 2);
      size_t Colon = Field.find(':');
      FUZZ_CHECK(Colon != std::string_view::npos && Colon != 0,
                 "a field is NAME: VALUE");
      for (char C : Field.substr(0, Colon))
        FUZZ_CHECK(isTokenChar(C), "a field name is a token");
      Fields.emplace_back(Field.substr(0, Colon),
                          trim(Field.substr(Colon + 1)));
    }
    auto Values = [&Fields](std::string_view Name) {
      std::vector<std::string_view> Out;
      for (const auto &[N, V] : Fields)
        if (iequals(N, Name))
          Out.push_back(V);
      return Out;
    };

    if (Status == 100) {
      FUZZ_CHECK(Fields.empty(), "100 Continue has no fields");
      FUZZ_CHECK(lower(Input).find("100-continue") != std::string::npos,
                 "100 Continue answers an Expect: 100-continue");
      continue;
    }
    ++Answers;

    std::vector<std::string_view> Tag = Values("X-Fuzz-Request");
    const Seen *Request = nullptr;
    if (!Tag.empty()) {
      FUZZ_CHECK(Tag.size() == 1 && Tag[0] == std::to_string(Next),
                 "the handler's answers come once each, in order");
      FUZZ_CHECK(Next < Requests.size() && Requests[Next].Tagged,
                 "a tagged answer is to a request the handler answered");
      Request = &Requests[Next++];
      FUZZ_CHECK(Status == Request->Status,
                 "an answer has the handler's status");
      FUZZ_CHECK(Version == (Request->Version == 10 ? 10u : 11u),
                 "an answer has the request's version");
    } else if (Status == 500 && Next < Requests.size() &&
               !Requests[Next].Tagged) {
      // The handler threw or dropped its Responder.
      Request = &Requests[Next++];
    } else {
      FUZZ_CHECK(LayerStatuses.count(Status),
                 "the layer's own answers are 400, 408, 413, 414, 417, 431 "
                 "or 505");
    }
    bool Tagged = Request && Request->Tagged;

    // Framing.
    std::vector<std::string_view> Lengths = Values("Content-Length");
    std::string_view Body;
    bool Elided = false;
    if (Status == 204) {
      // RFC 9110 §8.6 (fuzz/regressions/http-request/204-content-length).
      FUZZ_CHECK(Lengths.empty(), "204 has no Content-Length");
      FUZZ_CHECK(Values("Content-Type").empty(), "204 has no Content-Type");
    } else {
      FUZZ_CHECK(Lengths.size() == 1 && !Lengths[0].empty() &&
                     Lengths[0].size() < 10 &&
                     Lengths[0].find_first_not_of("0123456789") ==
                         std::string_view::npos,
                 "a response has one Content-Length, in digits");
      size_t Length = std::stoul(std::string(Lengths[0]));
      // An answer to HEAD has its body's length and no body. The layer's
      // error bodies all start with '{', responses with 'H'.
      if (Request)
        Elided = Request->Head;
      else
        Elided = Length != 0 && (Pos == Out.size() || Out[Pos] != '{');
      if (Elided) {
        FUZZ_CHECK(Input.find("HEAD") != std::string_view::npos,
                   "only an answer to HEAD leaves its body out");
        if (Tagged)
          FUZZ_CHECK(Length == Request->Body.size(),
                     "an answer to HEAD has its body's length");
      } else {
        FUZZ_CHECK(Out.size() - Pos >= Length,
                   "a body is as long as its Content-Length");
        Body = Out.substr(Pos, Length);
        Pos += Length;
      }
    }

    if (Tagged) {
      if (!Elided)
        FUZZ_CHECK(Body == Request->Body, "an answer has the handler's body");
      if (!Request->Body.empty())
        FUZZ_CHECK(Values("Content-Type").size() == 1 &&
                       Values("Content-Type")[0] == "application/json",
                   "the handler's body is application/json");
    } else {
      FUZZ_CHECK(Values("Content-Type").size() == 1 &&
                     Values("Content-Type")[0] == "application/json",
                 "an error answer is application/json");
      if (!Elided) {
        Json J = Json::parse(Body, nullptr, /*allow_exceptions=*/false);
        FUZZ_CHECK(J.is_object() && J.contains("error") &&
                       J["error"].is_string() &&
                       !J["error"].get<std::string>().empty(),
                   "an error body is a JSON object with an \"error\" string");
      }
    }

    // HTTP/1.1 keeps a connection open unless told "close", HTTP/1.0
    // closes it unless told "keep-alive".
    bool Close = false, KeepAlive = false;
    for (std::string_view V : Values("Connection")) {
      Close |= hasToken(V, "close");
      KeepAlive |= hasToken(V, "keep-alive");
    }
    bool Final = Version == 11 ? Close : !KeepAlive;
    if (Request && Request->Close)
      FUZZ_CHECK(Final, "an answer with Close closes the connection");
    if (!Request && Final)
      ++Refusals;
    if (Final)
      FUZZ_CHECK(Pos == Out.size(),
                 "nothing follows an answer that closes the connection");
  }
  FUZZ_CHECK(Next == Requests.size(),
             "every request the handler saw is answered");
  FUZZ_CHECK(Refusals <= 1, "the layer refuses at most once, and closes");
  // Every answer but a refusal is to a request line that names its version.
  FUZZ_CHECK(Answers - Refusals <= countOf(Input, "HTTP/1."),
             "an answer answers a request");
}

/// A request on a new connection still gets its answer.
void checkServing() {
  static const std::string Probe =
      "GET /probe?answer=inline HTTP/1.1\r\nHost: fuzz\r\n"
      "Connection: close\r\n\r\n";
  std::string Peer;
  std::string Out = sendAndReceive(Probe, Peer);
  std::vector<Seen> Requests = takeSeen(Peer);
  FUZZ_CHECK(Requests.size() == 1, "the server still hands over a request");
  checkAnswers(Probe, Out, Requests);
  FUZZ_CHECK(Out.compare(0, 13, "HTTP/1.1 200 ") == 0,
             "the server still answers");
}

/// The server closed each connection before the client saw its end, but
/// the count drops just after: wait for it, briefly.
void checkAllClosed() {
  auto Deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (F->Server->connections() != 0) {
    FUZZ_CHECK(std::chrono::steady_clock::now() < Deadline,
               "every connection is closed once its client is done");
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *Argc, char ***Argv) {
  // The loop threads allocate and free outside the callback, so libFuzzer
  // would see more mallocs than frees after most inputs and run each again
  // under a leak check, a fifth of the speed. Leaks are still reported when
  // the process exits, after the server has stopped.
  static std::vector<char *> Args;
  bool Given = false;
  for (int I = 0; I < *Argc; ++I)
    Given |= std::strncmp((*Argv)[I], "-detect_leaks=", 14) == 0;
  if (!Given) {
    static char NoLeakCheck[] = "-detect_leaks=0";
    Args.assign(*Argv, *Argv + *Argc);
    Args.push_back(NoLeakCheck);
    Args.push_back(nullptr);
    *Argc += 1;
    *Argv = Args.data();
  }
  Show = std::getenv("CLEAVE_FUZZ_SHOW") != nullptr;
  startServer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  std::string_view Input(reinterpret_cast<const char *>(Data), Size);
  std::string Peer;
  std::string Out = sendAndReceive(Input, Peer);
  if (Show)
    std::fprintf(stderr, "--- sent %zu bytes, received:\n%s\n---\n", Size,
                 Out.c_str());
  checkAnswers(Input, Out, takeSeen(Peer));
  checkServing();
  checkAllClosed();
  return 0;
}
