//===- ServerTest.cpp - Tests of the HTTP server over real sockets --------===//
//
// Each test starts a real Server on a free loopback port, with handlers that
// are plain functions in this file behind the same C ABI a handler library
// uses, and talks to it over HTTP.
//
//===----------------------------------------------------------------------===//

#include "cleave/Server.h"
#include "cleave/Manifest.h"
#include "cleave/Module.h"
#include "cleave/StateStore.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

using namespace cleave::rt;
using Json = nlohmann::json;

namespace {

//===----------------------------------------------------------------------===//
// Handlers
//===----------------------------------------------------------------------===//

int reply(cleave_reply_v1 *R, int Status, const std::string &Body) {
  R->status = Status;
  R->body = static_cast<char *>(std::malloc(Body.size() + 1));
  std::memcpy(R->body, Body.c_str(), Body.size() + 1);
  R->body_len = Body.size();
  return Status;
}

int replyEmpty(cleave_reply_v1 *R, int Status) {
  R->status = Status;
  R->body = nullptr;
  R->body_len = 0;
  return Status;
}

/// Answers with what it was called with.
int echo(const cleave_call_v1 *C, cleave_reply_v1 *R) {
  return reply(R, 200,
               "{\"strings\":" + std::to_string(C->args_are_strings) +
                   ",\"args\":" + std::string(C->args, C->args_len) + "}");
}

int nothing(const cleave_call_v1 *, cleave_reply_v1 *R) {
  return replyEmpty(R, 204);
}

int badArgument(const cleave_call_v1 *, cleave_reply_v1 *R) {
  return reply(R, 400,
               R"({"error":"o.qty: expected an integer","field":"o.qty"})");
}

int crash(const cleave_call_v1 *, cleave_reply_v1 *R) {
  return reply(R, 500, R"({"error":"exception in crash: kaput"})");
}

int crashSilently(const cleave_call_v1 *, cleave_reply_v1 *R) {
  return replyEmpty(R, 500);
}

int redirect(const cleave_call_v1 *, cleave_reply_v1 *R) {
  return reply(R, 302, "{}");
}

int okWithoutBody(const cleave_call_v1 *, cleave_reply_v1 *R) {
  return replyEmpty(R, 200);
}

/// Reads the "counter" state through the host table; -1 on failure.
long readCounter(const cleave_call_v1 *C) {
  const char *Data = nullptr;
  size_t Len = 0;
  int Got = C->host->state_get(C->host->ctx, "counter", &Data, &Len);
  if (Got < 0)
    return -1;
  return Got == 0 ? 0 : std::stol(std::string(Data, Len));
}

/// A read-modify-write with a pause in the middle, so that two invocations
/// not isolated from each other would lose updates.
int increment(const cleave_call_v1 *C, cleave_reply_v1 *R) {
  long N = readCounter(C);
  if (N < 0)
    return reply(R, 500, R"({"error":"cannot read state 'counter'"})");
  std::this_thread::sleep_for(std::chrono::microseconds(200));
  std::string Text = std::to_string(N + 1);
  if (C->host->state_put(C->host->ctx, "counter", Text.data(), Text.size()))
    return reply(R, 500, R"({"error":"cannot write state 'counter'"})");
  return reply(R, 200, Text);
}

/// Writes the counter, then reports an exception in user code. What a
/// handler records persists whatever its status (abi.h), as a change made
/// before a throw does in the plain program.
int incrementThenFail(const cleave_call_v1 *C, cleave_reply_v1 *R) {
  std::string Text = std::to_string(readCounter(C) + 1);
  C->host->state_put(C->host->ctx, "counter", Text.data(), Text.size());
  return reply(R, 500, R"({"error":"exception in increment_then_fail"})");
}

/// Writes the counter, then breaks the ABI with a status it does not allow:
/// nothing it did can be trusted, so the write is dropped.
int incrementThenRedirect(const cleave_call_v1 *C, cleave_reply_v1 *R) {
  std::string Text = std::to_string(readCounter(C) + 1);
  C->host->state_put(C->host->ctx, "counter", Text.data(), Text.size());
  return reply(R, 302, "{}");
}

int getCounter(const cleave_call_v1 *C, cleave_reply_v1 *R) {
  long N = readCounter(C);
  if (N < 0)
    return reply(R, 500, R"({"error":"cannot read state 'counter'"})");
  return reply(R, 200, std::to_string(N));
}

void releaseBody(char *Body) { std::free(Body); }

const cleave_handler_v1 Handlers[] = {
    {"echo", echo},
    {"nothing", nothing},
    {"bad_argument", badArgument},
    {"crash", crash},
    {"crash_silently", crashSilently},
    {"redirect", redirect},
    {"ok_without_body", okWithoutBody},
    {"increment", increment},
    {"increment_then_fail", incrementThenFail},
    {"increment_then_redirect", incrementThenRedirect},
    {"get_counter", getCounter},
};
const cleave_module_v1_t Table = {CLEAVE_ABI_VERSION,
                                  sizeof(Handlers) / sizeof(Handlers[0]),
                                  Handlers, releaseBody, 0, nullptr};

//===----------------------------------------------------------------------===//
// The deployment
//===----------------------------------------------------------------------===//

std::string entry(const std::string &Name, const std::string &Handler,
                  const std::string &Method, const std::string &Path,
                  const std::string &State = "") {
  std::string Text = "  - name: " + Name +
                     "\n    kind: entry"
                     "\n    handler: " +
                     Handler + "\n    trigger: {method: " + Method +
                     ", path: " + Path +
                     "}\n    params: []\n    returns: int\n"
                     "    resources: {}\n    source: test.cpp:1:1\n";
  if (!State.empty())
    Text += "    state: [{name: counter, access: " + State + "}]\n";
  return Text;
}

std::string testManifest() {
  return "apiVersion: cleave/v2\nkind: Deployment\nname: test\n"
         "artifact: in-process\nfunctions:\n" +
         entry("echo_post", "echo", "POST", "/echo") +
         entry("echo_get", "echo", "GET", "/echo") +
         entry("echo_put", "echo", "PUT", "/echo") +
         entry("echo_delete", "echo", "DELETE", "/echo") +
         entry("nothing", "nothing", "POST", "/nothing") +
         entry("bad_argument", "bad_argument", "POST", "/bad") +
         entry("crash", "crash", "POST", "/crash") +
         entry("crash_silently", "crash_silently", "POST", "/crash-silently") +
         entry("redirect", "redirect", "POST", "/redirect") +
         entry("ok_without_body", "ok_without_body", "POST", "/no-body") +
         entry("increment", "increment", "POST", "/counter", "readwrite") +
         entry("increment_then_fail", "increment_then_fail", "POST",
               "/counter/fail", "readwrite") +
         entry("increment_then_redirect", "increment_then_redirect", "POST",
               "/counter/redirect", "readwrite") +
         entry("get_counter", "get_counter", "GET", "/counter", "read") +
         // Uses the counter without declaring it: refused, not raced.
         entry("undeclared", "get_counter", "GET", "/undeclared") +
         "state:\n  - {name: counter, type: long, consistency: linearizable, "
         "granularity: whole}\n";
}

constexpr size_t TestBodyLimit = 1024;

class ServerTest : public ::testing::Test {
protected:
  void SetUp() override {
    Result<Manifest> M = parseManifest(testManifest(), "test.yaml");
    ASSERT_TRUE(M) << M.error().message();
    auto Loaded = Module::fromTable(&Table);
    ASSERT_TRUE(Loaded) << Loaded.error().message();
    Mod = Loaded.take();
    ServerOptions Options;
    Options.Port = 0;
    Options.MaxBodyBytes = TestBodyLimit;
    Options.Threads = 8;
    auto Created = Server::create(M.take(), *Mod, Store, Options);
    ASSERT_TRUE(Created) << Created.error().message();
    S = Created.take();
    Result<int> Bound = S->start();
    ASSERT_TRUE(Bound) << Bound.error().message();
    Port = *Bound;
    ASSERT_GT(Port, 0);
    ASSERT_EQ(S->port(), Port);
  }

  void TearDown() override {
    if (S)
      S->stop();
  }

  std::unique_ptr<httplib::Client> client() {
    auto C = std::make_unique<httplib::Client>("127.0.0.1", Port);
    C->set_read_timeout(10, 0);
    C->set_connection_timeout(5, 0);
    // httplib's client sends headers and body in separate writes; Nagle's
    // algorithm would hold the body for the server's delayed ACK.
    C->set_tcp_nodelay(true);
    return C;
  }

  /// Checks that the server still answers a plain request.
  void expectAlive() {
    auto Res = client()->Get("/echo?alive=yes");
    ASSERT_TRUE(Res) << "no answer: " << httplib::to_string(Res.error());
    EXPECT_EQ(Res->status, 200);
  }

  std::unique_ptr<Module> Mod;
  MemoryStateStore Store;
  std::unique_ptr<Server> S;
  int Port = 0;
};

/// The parsed JSON body of \p Res, or a string saying it was none.
Json bodyOf(const httplib::Result &Res) {
  if (!Res)
    return "<no response>";
  Json J = Json::parse(Res->body, nullptr, /*allow_exceptions=*/false);
  if (J.is_discarded())
    return "<not JSON: " + Res->body + ">";
  return J;
}

void expectJsonError(const httplib::Result &Res, int Status,
                     const std::string &Message) {
  ASSERT_TRUE(Res) << httplib::to_string(Res.error());
  EXPECT_EQ(Res->status, Status);
  EXPECT_EQ(Res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(bodyOf(Res), Json({{"error", Message}})) << Res->body;
}

/// A client connection speaking raw bytes, for requests httplib::Client
/// would not send.
class RawConnection {
public:
  explicit RawConnection(int Port) {
    Fd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(Fd, 0);
    // Never hang a test: a read waits at most a second.
    timeval Timeout{1, 0};
    ::setsockopt(Fd, SOL_SOCKET, SO_RCVTIMEO, &Timeout, sizeof(Timeout));
    sockaddr_in Addr{};
    Addr.sin_family = AF_INET;
    Addr.sin_port = htons(static_cast<uint16_t>(Port));
    Addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(Fd, reinterpret_cast<sockaddr *>(&Addr), sizeof(Addr)) != 0)
      ADD_FAILURE() << "cannot connect: " << std::strerror(errno);
  }
  ~RawConnection() { ::close(Fd); }

  void send(const std::string &Bytes) {
    size_t Sent = 0;
    while (Sent < Bytes.size()) {
      ssize_t N =
          ::send(Fd, Bytes.data() + Sent, Bytes.size() - Sent, MSG_NOSIGNAL);
      if (N <= 0)
        return;
      Sent += static_cast<size_t>(N);
    }
  }

  /// Reads one whole response (headers, then Content-Length bytes); empty
  /// if none arrives.
  std::string readResponse() {
    size_t HeaderEnd;
    while ((HeaderEnd = Pending.find("\r\n\r\n")) == std::string::npos)
      if (!fill())
        return {};
    size_t Length = 0;
    size_t At = Pending.find("Content-Length: ");
    if (At != std::string::npos && At < HeaderEnd)
      Length = std::stoul(Pending.substr(At + 16));
    size_t Total = HeaderEnd + 4 + Length;
    while (Pending.size() < Total)
      if (!fill())
        return {};
    std::string Response = Pending.substr(0, Total);
    Pending.erase(0, Total);
    return Response;
  }

  /// True if the server closes the connection (rather than falling silent).
  bool closedByServer() {
    while (fill())
      ;
    return Closed;
  }

private:
  bool fill() {
    char Buf[4096];
    ssize_t N = ::recv(Fd, Buf, sizeof(Buf), 0);
    if (N <= 0) {
      Closed = N == 0;
      return false;
    }
    Pending.append(Buf, static_cast<size_t>(N));
    return true;
  }

  int Fd = -1;
  std::string Pending;
  bool Closed = false;
};

//===----------------------------------------------------------------------===//
// Successful calls
//===----------------------------------------------------------------------===//

TEST_F(ServerTest, PostEchoesJsonArguments) {
  auto Res = client()->Post("/echo", R"({"o":{"item":"apple","qty":2}})",
                            "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 200);
  EXPECT_EQ(Res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(
      bodyOf(Res),
      Json::parse(R"({"strings":0,"args":{"o":{"item":"apple","qty":2}}})"));
}

TEST_F(ServerTest, EmptyBodyMeansNoArguments) {
  auto Res = client()->Post("/echo", "", "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 200);
  EXPECT_EQ(bodyOf(Res), Json::parse(R"({"strings":0,"args":{}})"));
  Res = client()->Put("/echo", "  {\"x\": null}  ", "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 200);
  EXPECT_EQ(bodyOf(Res), Json::parse(R"({"strings":0,"args":{"x":null}})"));
}

TEST_F(ServerTest, GetArgumentsComeFromTheQueryAsStrings) {
  auto Res = client()->Get("/echo?item=apple&qty=2&note=a%20b%26c&empty=");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 200);
  EXPECT_EQ(bodyOf(Res),
            Json::parse(R"({"strings":1,"args":{"item":"apple","qty":"2",
                            "note":"a b&c","empty":""}})"));
  Res = client()->Get("/echo");
  ASSERT_TRUE(Res);
  EXPECT_EQ(bodyOf(Res), Json::parse(R"({"strings":1,"args":{}})"));
}

TEST_F(ServerTest, DeleteArgumentsComeFromTheQuery) {
  auto Res = client()->Delete("/echo?id=7");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 200);
  EXPECT_EQ(bodyOf(Res), Json::parse(R"({"strings":1,"args":{"id":"7"}})"));
}

TEST_F(ServerTest, RepeatedQueryParameterIsRejected) {
  expectJsonError(client()->Get("/echo?a=1&a=2"), 400,
                  "query parameter 'a' is given more than once");
  expectAlive();
}

TEST_F(ServerTest, VoidAnswers204) {
  auto Res = client()->Post("/nothing", "{}", "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 204);
  EXPECT_TRUE(Res->body.empty());
}

//===----------------------------------------------------------------------===//
// Errors the server answers itself
//===----------------------------------------------------------------------===//

TEST_F(ServerTest, UnknownPathIs404) {
  expectJsonError(client()->Get("/nowhere"), 404, "no route for GET /nowhere");
  expectAlive();
  expectJsonError(client()->Post("/nowhere", "{\"a\":1}", "application/json"),
                  404, "no route for POST /nowhere");
  expectAlive();
  // No trailing-slash equivalence.
  expectJsonError(client()->Get("/echo/"), 404, "no route for GET /echo/");
  expectAlive();
}

TEST_F(ServerTest, OtherMethodIs405WithAllow) {
  auto Res = client()->Patch("/echo", "{}", "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 405);
  EXPECT_EQ(Res->get_header_value("Allow"), "DELETE, GET, POST, PUT");
  EXPECT_EQ(bodyOf(Res),
            Json({{"error", "method PATCH is not allowed for /echo"},
                  {"allowed", {"DELETE", "GET", "POST", "PUT"}}}));
  expectAlive();

  Res = client()->Post("/counter/fail?x=1", "{}", "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 500); // Found: the query string is not the path.

  Res = client()->Get("/counter/fail");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 405);
  EXPECT_EQ(Res->get_header_value("Allow"), "POST");

  // HEAD is not GET: an entry may change state, so it is not run for HEAD.
  Res = client()->Head("/counter");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 405);
  EXPECT_EQ(Res->get_header_value("Allow"), "GET, POST");
  expectAlive();
}

TEST_F(ServerTest, OversizedBodyIs413) {
  std::string Big(4096, 'x');
  expectJsonError(client()->Post("/echo", Big, "application/json"), 413,
                  "request body of 4096 bytes exceeds the limit of 1024 "
                  "bytes");
  expectAlive();

  // Chunked: no Content-Length to check up front, so the limit applies
  // while reading.
  auto Chunked = client()->Post(
      "/echo",
      [&](size_t Offset, httplib::DataSink &Sink) {
        if (Offset < Big.size())
          Sink.write(Big.data() + Offset, 512);
        else
          Sink.done();
        return true;
      },
      "application/json");
  expectJsonError(Chunked, 413,
                  "request body of 4096 bytes exceeds the limit of 1024 "
                  "bytes");
  expectAlive();

  // Exactly at the limit is fine.
  std::string Fits = "{\"s\":\"" + std::string(TestBodyLimit - 8, 'y') + "\"}";
  ASSERT_EQ(Fits.size(), TestBodyLimit);
  auto Res = client()->Post("/echo", Fits, "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 200);
}

TEST_F(ServerTest, OversizedBodyIsDrainedSoTheConnectionStaysInStep) {
  // Two requests on one connection, the first too large. If its body were
  // left unread, it would be parsed as the next request, and the real
  // second request would not be answered.
  const std::string Second = "GET /echo?n=2 HTTP/1.1\r\nHost: t\r\n\r\n";
  const std::string SecondAnswer = "{\"strings\":1,\"args\":{\"n\":\"2\"}}";
  {
    RawConnection C(Port);
    C.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n" +
           std::string(2000, 'x'));
    std::string First = C.readResponse();
    EXPECT_EQ(First.rfind("HTTP/1.1 413", 0), 0u) << First;
    EXPECT_EQ(First.find("Connection: close"), std::string::npos) << First;
    C.send(Second);
    std::string Next = C.readResponse();
    EXPECT_EQ(Next.rfind("HTTP/1.1 200", 0), 0u) << Next;
    EXPECT_NE(Next.find(SecondAnswer), std::string::npos) << Next;
  }
  {
    RawConnection C(Port);
    std::string Chunks;
    for (int I = 0; I < 4; ++I)
      Chunks += "200\r\n" + std::string(512, 'x') + "\r\n";
    C.send("POST /echo HTTP/1.1\r\nHost: t\r\n"
           "Transfer-Encoding: chunked\r\n\r\n" +
           Chunks + "0\r\n\r\n");
    std::string First = C.readResponse();
    EXPECT_EQ(First.rfind("HTTP/1.1 413", 0), 0u) << First;
    EXPECT_NE(First.find("request body of 2048 bytes exceeds the limit of "
                         "1024 bytes"),
              std::string::npos)
        << First;
    C.send(Second);
    std::string Next = C.readResponse();
    EXPECT_EQ(Next.rfind("HTTP/1.1 200", 0), 0u) << Next;
    EXPECT_NE(Next.find(SecondAnswer), std::string::npos) << Next;
  }
}

TEST_F(ServerTest, HugeDeclaredBodyIsRefusedWithoutReadingIt) {
  // Far past what is worth draining: answered at once, connection closed.
  RawConnection C(Port);
  C.send("POST /echo HTTP/1.1\r\nHost: t\r\n"
         "Content-Length: 100000000000\r\n\r\n{\"a\":");
  std::string Response = C.readResponse();
  EXPECT_EQ(Response.rfind("HTTP/1.1 413", 0), 0u) << Response;
  EXPECT_NE(Response.find("{\"error\":\"request body of 100000000000 bytes "
                          "exceeds the limit of 1024 bytes\"}"),
            std::string::npos)
      << Response;
  EXPECT_NE(Response.find("Connection: close"), std::string::npos) << Response;
  EXPECT_TRUE(C.closedByServer());
  expectAlive();
}

TEST_F(ServerTest, BodyWithoutLengthIsEmpty) {
  // No Content-Length and no Transfer-Encoding: the body is empty, and the
  // server must not wait for more.
  RawConnection C(Port);
  C.send("POST /echo HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string Response = C.readResponse();
  EXPECT_EQ(Response.rfind("HTTP/1.1 200", 0), 0u) << Response;
  EXPECT_NE(Response.find("{\"strings\":0,\"args\":{}}"), std::string::npos)
      << Response;
}

TEST_F(ServerTest, InvalidContentLengthIs400) {
  RawConnection C(Port);
  C.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ten\r\n\r\n");
  std::string Response = C.readResponse();
  EXPECT_EQ(Response.rfind("HTTP/1.1 400", 0), 0u) << Response;
  EXPECT_NE(Response.find("{\"error\":\"invalid Content-Length header\"}"),
            std::string::npos)
      << Response;
  EXPECT_TRUE(C.closedByServer());
  expectAlive();
}

TEST_F(ServerTest, MultipartBodyIsRefused) {
  httplib::MultipartFormDataItems Items = {{"o", "{}", "", ""}};
  expectJsonError(client()->Post("/echo", Items), 415,
                  "request body must be a JSON object, not "
                  "multipart/form-data");
  expectAlive();
}

TEST_F(ServerTest, MalformedJsonIs400WithTheParserMessage) {
  auto Res = client()->Post("/echo", "{\"a\": ", "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 400);
  EXPECT_EQ(Res->get_header_value("Content-Type"), "application/json");
  Json J = bodyOf(Res);
  ASSERT_TRUE(J.is_object()) << Res->body;
  std::string Message = J.value("error", "");
  EXPECT_EQ(
      Message.rfind("malformed JSON: at 'a': parse error at line 1, column 7", 0),
      0u)
      << Message;
  expectAlive();
}

TEST_F(ServerTest, OverflowingNumberIs400NamingTheField) {
  auto Res = client()->Post("/echo", R"({"a": {"qty": 1e400}})",
                            "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 400);
  std::string Message = bodyOf(Res).value("error", "");
  EXPECT_EQ(Message.rfind("malformed JSON: at 'a.qty': number overflow parsing "
                          "'1e400'",
                          0),
            0u)
      << Message;
  expectAlive();
}

TEST_F(ServerTest, NonObjectBodyIs400) {
  for (const char *Body : {"[1, 2]", "42", "\"text\"", "null"}) {
    expectJsonError(client()->Post("/echo", Body, "application/json"), 400,
                    "request body must be a JSON object");
    expectAlive();
  }
}

TEST_F(ServerTest, MalformedHttpGetsAJsonError) {
  RawConnection C(Port);
  C.send("NONSENSE\r\n\r\n");
  std::string Response = C.readResponse();
  EXPECT_EQ(Response.rfind("HTTP/1.1 400", 0), 0u) << Response;
  EXPECT_NE(Response.find("Content-Type: application/json"), std::string::npos)
      << Response;
  EXPECT_NE(Response.find("{\"error\":\"malformed request line\"}"),
            std::string::npos)
      << Response;
  expectAlive();
}

TEST_F(ServerTest, GetWithABodyIsRefusedAndTheConnectionClosed) {
  RawConnection C(Port);
  // The body is itself a request, which must not be run.
  C.send("GET /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 38\r\n\r\n"
         "POST /counter HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string Response = C.readResponse();
  EXPECT_EQ(Response.rfind("HTTP/1.1 400", 0), 0u) << Response;
  EXPECT_NE(Response.find("Connection: close"), std::string::npos) << Response;
  EXPECT_EQ(Response.find("Keep-Alive"), std::string::npos) << Response;
  EXPECT_NE(Response.find("{\"error\":\"a GET request must not have a body\"}"),
            std::string::npos)
      << Response;
  EXPECT_TRUE(C.closedByServer());
  EXPECT_EQ(Store.get("counter")->value_or("<none>"), "<none>");
  expectAlive();
}

//===----------------------------------------------------------------------===//
// Handler replies
//===----------------------------------------------------------------------===//

TEST_F(ServerTest, HandlerErrorsPassThrough) {
  auto Res = client()->Post("/bad", "{}", "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 400);
  EXPECT_EQ(Res->body,
            R"({"error":"o.qty: expected an integer","field":"o.qty"})");
  EXPECT_EQ(Res->get_header_value("Content-Type"), "application/json");
  expectAlive();

  Res = client()->Post("/crash", "{}", "application/json");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 500);
  EXPECT_EQ(Res->body, R"({"error":"exception in crash: kaput"})");
  expectAlive();

  expectJsonError(client()->Post("/crash-silently", "{}", "application/json"),
                  500, "'crash_silently' failed without a message");
  expectAlive();
}

TEST_F(ServerTest, BrokenRepliesBecome500) {
  expectJsonError(client()->Post("/redirect", "{}", "application/json"), 500,
                  "handler for 'redirect' answered with unexpected status "
                  "302");
  expectAlive();
  expectJsonError(client()->Post("/no-body", "{}", "application/json"), 500,
                  "handler for 'ok_without_body' answered 200 without a "
                  "body");
  expectAlive();
}

//===----------------------------------------------------------------------===//
// State
//===----------------------------------------------------------------------===//

TEST_F(ServerTest, StateWritesPersistUnlessTheReplyBreaksTheAbi) {
  auto C = client();
  for (int I = 1; I <= 3; ++I) {
    auto Res = C->Post("/counter", "{}", "application/json");
    ASSERT_TRUE(Res);
    EXPECT_EQ(Res->status, 200);
    EXPECT_EQ(Res->body, std::to_string(I));
  }
  // An exception in user code: the 500 passes through, the write before it
  // persists.
  auto Failed = C->Post("/counter/fail", "{}", "application/json");
  ASSERT_TRUE(Failed);
  EXPECT_EQ(Failed->status, 500);
  auto Res = C->Get("/counter");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 200);
  EXPECT_EQ(Res->body, "4");

  // A reply outside the ABI: its write is discarded.
  expectJsonError(C->Post("/counter/redirect", "{}", "application/json"), 500,
                  "handler for 'increment_then_redirect' answered with "
                  "unexpected status 302");
  Res = C->Get("/counter");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->body, "4");
  Result<std::optional<std::string>> Stored = Store.get("counter");
  ASSERT_TRUE(Stored);
  EXPECT_EQ(Stored->value_or("<none>"), "4");
}

TEST_F(ServerTest, UndeclaredStateIsRefused) {
  auto Res = client()->Get("/undeclared");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->status, 500);
  EXPECT_EQ(Res->body, R"({"error":"cannot read state 'counter'"})");
  expectAlive();
}

TEST_F(ServerTest, ConcurrentIncrementsAreLinearizable) {
  constexpr int Threads = 4, PerThread = 50;
  std::mutex SeenMutex;
  std::multiset<long> Seen;
  std::vector<std::thread> Workers;
  for (int T = 0; T < Threads; ++T)
    Workers.emplace_back([&] {
      auto C = client();
      C->set_keep_alive(true);
      for (int I = 0; I < PerThread; ++I) {
        auto Res = C->Post("/counter", "{}", "application/json");
        ASSERT_TRUE(Res) << httplib::to_string(Res.error());
        ASSERT_EQ(Res->status, 200) << Res->body;
        std::lock_guard<std::mutex> Lock(SeenMutex);
        Seen.insert(std::stol(Res->body));
      }
    });
  for (std::thread &W : Workers)
    W.join();

  // Every increment saw a distinct predecessor: the answers are exactly
  // 1..200, and the final value is 200.
  ASSERT_EQ(Seen.size(), size_t(Threads * PerThread));
  long Expected = 1;
  for (long V : Seen)
    EXPECT_EQ(V, Expected++);
  auto Res = client()->Get("/counter");
  ASSERT_TRUE(Res);
  EXPECT_EQ(Res->body, std::to_string(Threads * PerThread));
}

//===----------------------------------------------------------------------===//
// Lifecycle
//===----------------------------------------------------------------------===//

TEST_F(ServerTest, StopsAndRefusesConnections) {
  expectAlive();
  S->stop();
  EXPECT_EQ(S->port(), 0);
  S->stop(); // Idempotent.
  auto C = client();
  C->set_connection_timeout(1, 0);
  auto Res = C->Get("/echo");
  EXPECT_FALSE(Res);
}

TEST(ServerCreateTest, RejectsAModuleWithoutAnEntrysHandler) {
  Result<Manifest> M = parseManifest(testManifest(), "test.yaml");
  ASSERT_TRUE(M);
  const cleave_handler_v1 OnlyEcho[] = {{"echo", echo}};
  cleave_module_v1_t Small = {CLEAVE_ABI_VERSION, 1, OnlyEcho, releaseBody, 0, nullptr};
  auto Mod = Module::fromTable(&Small, "small");
  ASSERT_TRUE(Mod);
  MemoryStateStore Store;
  auto S = Server::create(M.take(), **Mod, Store);
  ASSERT_FALSE(S);
  EXPECT_EQ(S.error().message(),
            "handler library 'small' has no handler 'nothing' for entry "
            "'nothing'");
}

TEST(ServerCreateTest, ReportsAPortInUse) {
  Result<Manifest> M = parseManifest(testManifest(), "test.yaml");
  ASSERT_TRUE(M);
  auto Mod = Module::fromTable(&Table);
  ASSERT_TRUE(Mod);
  MemoryStateStore Store;
  ServerOptions Options;
  Options.Port = 0;
  auto First = Server::create(*M, **Mod, Store, Options);
  ASSERT_TRUE(First);
  Result<int> Port = (*First)->start();
  ASSERT_TRUE(Port);
  Options.Port = *Port;
  auto Second = Server::create(*M, **Mod, Store, Options);
  ASSERT_TRUE(Second);
  Result<int> Clash = (*Second)->start();
  ASSERT_FALSE(Clash);
  EXPECT_EQ(Clash.error().message(),
            "cannot listen on 127.0.0.1:" + std::to_string(*Port) +
                ": Address already in use");
}

//===----------------------------------------------------------------------===//
// Bearer tokens
//===----------------------------------------------------------------------===//

/// testManifest() with the functions of \p Extra added.
std::string withEntry(const std::string &Extra) {
  std::string Text = testManifest();
  Text.insert(Text.find("state:\n"), Extra);
  return Text;
}

/// A server for testManifest() plus the functions of \p Extra, with the
/// given tokens.
class AuthTest : public ::testing::Test {
protected:
  void start(std::vector<std::pair<std::string, std::string>> Tokens,
             const std::string &Extra = "", uint64_t IdempotencyTtl = 86400) {
    Result<Manifest> M = parseManifest(withEntry(Extra), "test.yaml");
    ASSERT_TRUE(M) << M.error().message();
    auto Loaded = Module::fromTable(&Table);
    ASSERT_TRUE(Loaded);
    Mod = Loaded.take();
    ServerOptions Options;
    Options.Port = 0;
    Options.Tokens = std::move(Tokens);
    Options.IdempotencyTtl = IdempotencyTtl;
    auto Created = Server::create(M.take(), *Mod, Store, Options);
    ASSERT_TRUE(Created) << Created.error().message();
    S = Created.take();
    Result<int> Bound = S->start();
    ASSERT_TRUE(Bound);
    Port = *Bound;
  }

  httplib::Result call(const std::string &Path, const std::string &Auth,
                       const std::string &Key = "") {
    httplib::Client C("127.0.0.1", Port);
    C.set_read_timeout(10, 0);
    httplib::Headers H;
    if (!Auth.empty())
      H.emplace("Authorization", Auth);
    if (!Key.empty())
      H.emplace("Idempotency-Key", Key);
    return C.Post(Path, H, "{}", "application/json");
  }

  void TearDown() override {
    if (S)
      S->stop();
  }

  std::unique_ptr<Module> Mod;
  MemoryStateStore Store;
  std::unique_ptr<Server> S;
  int Port = 0;
};

const std::string Alice = "alice-0123456789abcdef";
const std::string Bob = "bob-0123456789abcdef01";

TEST_F(AuthTest, TokensGuardEveryEntry) {
  start({{"alice", Alice}, {"bob", Bob}});
  auto None = call("/echo", "");
  ASSERT_TRUE(None);
  EXPECT_EQ(None->status, 401);
  EXPECT_EQ(None->get_header_value("WWW-Authenticate"),
            "Bearer realm=\"cleave\"");
  EXPECT_EQ(bodyOf(None)["error"],
            "'echo_post' requires a bearer token (Authorization: Bearer ...)");

  auto Wrong = call("/echo", "Bearer " + Alice + "x");
  ASSERT_TRUE(Wrong);
  EXPECT_EQ(Wrong->status, 401);
  EXPECT_EQ(Wrong->get_header_value("WWW-Authenticate"),
            "Bearer realm=\"cleave\", error=\"invalid_token\"");
  // A prefix of a token is not the token.
  auto Prefix = call("/echo", "Bearer " + Alice.substr(0, 10));
  ASSERT_TRUE(Prefix);
  EXPECT_EQ(Prefix->status, 401);

  for (const std::string &Bad : std::vector<std::string>{
           "Basic " + Alice, "Bearer", "Bearer ", Alice}) {
    auto Res = call("/echo", Bad);
    ASSERT_TRUE(Res);
    EXPECT_EQ(Res->status, 400) << Bad;
  }

  EXPECT_EQ(call("/echo", "Bearer " + Alice)->status, 200);
  EXPECT_EQ(call("/echo", "bearer " + Bob)->status, 200);
  // Refused calls ran nothing.
  EXPECT_EQ(call("/counter", "")->status, 401);
  EXPECT_EQ(Store.get("counter")->value_or("<none>"), "<none>");
}

TEST_F(AuthTest, AnEntryMarkedNoneStaysOpen) {
  start({{"alice", Alice}},
        "  - name: open\n    kind: entry\n    handler: echo\n"
        "    trigger: {method: POST, path: /open}\n    params: []\n"
        "    returns: int\n    resources: {}\n    auth: none\n"
        "    source: test.cpp:1:1\n");
  EXPECT_EQ(call("/open", "")->status, 200);
  EXPECT_EQ(call("/echo", "")->status, 401);
}

TEST_F(AuthTest, AnEntryMarkedTokenNeedsTokens) {
  Result<Manifest> M = parseManifest(
      withEntry(
          "  - name: guarded\n    kind: entry\n    handler: echo\n"
          "    trigger: {method: POST, path: /guarded}\n    params: []\n"
          "    returns: int\n    resources: {}\n    auth: token\n"
          "    source: test.cpp:1:1\n"),
      "test.yaml");
  ASSERT_TRUE(M) << M.error().message();
  auto Loaded = Module::fromTable(&Table);
  ASSERT_TRUE(Loaded);
  auto Created = Server::create(M.take(), **Loaded, Store);
  ASSERT_FALSE(Created);
  EXPECT_EQ(Created.error().message(),
            "entry 'guarded' requires a bearer token (auth=token), but no "
            "tokens were given (--auth-token-file)");
}

TEST_F(AuthTest, IdempotencyKeysAreScopedByCaller) {
  start({{"alice", Alice}, {"bob", Bob}});
  auto A1 = call("/counter", "Bearer " + Alice, "k1");
  ASSERT_TRUE(A1);
  EXPECT_EQ(A1->body, "1");
  // Bob's request with the same key is his own: it runs.
  auto B1 = call("/counter", "Bearer " + Bob, "k1");
  ASSERT_TRUE(B1);
  EXPECT_EQ(B1->body, "2");
  // Alice's retry gets her answer, and runs nothing.
  auto A2 = call("/counter", "Bearer " + Alice, "k1");
  ASSERT_TRUE(A2);
  EXPECT_EQ(A2->body, "1");
  EXPECT_EQ(Store.get("counter")->value_or("<none>"), "2");
}

TEST(LoadTokensTest, ReadsNamesTokensAndComments) {
  std::string Path = ::testing::TempDir() + "/tokens.txt";
  {
    std::ofstream Out(Path);
    Out << "# callers\n\nbilling 0123456789abcdef0123\r\n"
           "  fedcba9876543210fedc  \n";
  }
  auto T = loadTokens(Path);
  ASSERT_TRUE(T) << T.error().message();
  ASSERT_EQ(T->size(), 2u);
  EXPECT_EQ((*T)[0], std::make_pair(std::string("billing"),
                                    std::string("0123456789abcdef0123")));
  EXPECT_EQ((*T)[1].second, "fedcba9876543210fedc");
  EXPECT_EQ((*T)[1].first.rfind("token-", 0), 0u);
  EXPECT_EQ((*T)[1].first.size(), 6u + 12u);
}

TEST(LoadTokensTest, RefusesBadLines) {
  std::string Path = ::testing::TempDir() + "/bad-tokens.txt";
  auto With = [&](const std::string &Text) {
    std::ofstream(Path) << Text;
    auto T = loadTokens(Path);
    return T ? std::string("<accepted>") : T.error().message();
  };
  EXPECT_EQ(With("short\n"),
            Path + ":1: the token is 5 characters long; use at least 16 (32 "
                   "random bytes in hex, for example)");
  EXPECT_EQ(With("\na b c\n"),
            Path + ":2: expected a token, or a caller name and a token, "
                   "separated by a space");
  EXPECT_EQ(With("0123456789abcdef\"x\n"),
            Path + ":1: a token holds only letters, digits and - . _ ~ + / =");
  EXPECT_EQ(With("a/b 0123456789abcdef\n"),
            Path + ":1: a caller name holds only letters, digits and - _ .");
  EXPECT_EQ(With("0123456789abcdef\nx 0123456789abcdef\n"),
            Path + ":2: the same token is listed twice");
  EXPECT_EQ(With("# nothing\n"),
            "the token file '" + Path + "' lists no token");
  EXPECT_EQ(loadTokens(Path + ".missing").error().message(),
            "cannot read the token file '" + Path +
                ".missing': No such file or directory");
}

TEST_F(AuthTest, AKeyWithAnotherRequestIs422) {
  start({});
  httplib::Client C("127.0.0.1", Port);
  httplib::Headers H{{"Idempotency-Key", "k"}};
  auto First = C.Post("/echo", H, R"({"a":1})", "application/json");
  ASSERT_TRUE(First);
  EXPECT_EQ(First->status, 200);
  auto Same = C.Post("/echo", H, R"({"a":1})", "application/json");
  ASSERT_TRUE(Same);
  EXPECT_EQ(Same->body, First->body);
  auto Other = C.Post("/echo", H, R"({"a":2})", "application/json");
  ASSERT_TRUE(Other);
  EXPECT_EQ(Other->status, 422);
  EXPECT_EQ(bodyOf(Other)["error"],
            "this Idempotency-Key was used with a different request");
  // The same key on another entry is another key.
  auto Put = C.Put("/echo", H, R"({"a":2})", "application/json");
  ASSERT_TRUE(Put);
  EXPECT_EQ(Put->status, 200);
}

TEST_F(AuthTest, AnswersThatCommittedNothingAreNotKept) {
  start({});
  // The handler breaks the ABI: its write is dropped, nothing commits, and
  // a retry with the key runs again rather than replaying the 500.
  EXPECT_EQ(call("/counter/redirect", "", "k")->status, 500);
  EXPECT_EQ(call("/counter/redirect", "", "k")->status, 500);
  EXPECT_EQ(Store.get("counter")->value_or("<none>"), "<none>");
  // An exception in the program commits (its writes stay, as in the plain
  // program), so its answer is kept: the retry does not run again.
  EXPECT_EQ(call("/counter/fail", "", "f")->status, 500);
  EXPECT_EQ(call("/counter/fail", "", "f")->status, 500);
  EXPECT_EQ(Store.get("counter")->value_or("<none>"), "1");
}

TEST_F(AuthTest, AnExpiredIdempotencyKeyRunsAgain) {
  start({}, "", /*IdempotencyTtl=*/1);
  httplib::Client C("127.0.0.1", Port);
  httplib::Headers H{{"Idempotency-Key", "k"}};
  EXPECT_EQ(C.Post("/counter", H, "{}", "application/json")->body, "1");
  EXPECT_EQ(C.Post("/counter", H, "{}", "application/json")->body, "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  // Past its lifetime the key is free: the request runs, and holds it anew.
  EXPECT_EQ(C.Post("/counter", H, "{}", "application/json")->body, "2");
  EXPECT_EQ(C.Post("/counter", H, "{}", "application/json")->body, "2");
  // And with another body it is a new request too, once expired.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_EQ(C.Post("/counter", H, R"({"x":1})", "application/json")->body,
            "3");
}

/// The keys of every bookkeeping record in \p Store.
std::vector<std::string> recordsOf(StateStore &Store) {
  std::vector<std::string> Keys;
  Result<void> R = Store.scanMeta(
      "", [&](const std::string &Key, const std::string &) {
        Keys.push_back(Key);
      });
  EXPECT_TRUE(R) << R.error().message();
  return Keys;
}

TEST_F(AuthTest, ExpiredIdempotencyKeysAreRemoved) {
  // A lifetime of 3 s: swept every second.
  start({}, "", /*IdempotencyTtl=*/3);
  httplib::Client C("127.0.0.1", Port);
  // Keys may hold '#', which also parts a run's key from its generation.
  for (int I = 0; I < 50; ++I) {
    httplib::Headers H{
        {"Idempotency-Key", (I % 2 ? "k#" : "k") + std::to_string(I)}};
    ASSERT_EQ(C.Post("/counter", H, "{}", "application/json")->status, 200);
  }
  // A key's record and its answer.
  EXPECT_EQ(recordsOf(Store).size(), 100u);
  // Sweeps within the lifetime keep the keys: a repeat is answered as the
  // first request was.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  httplib::Headers First{{"Idempotency-Key", "k0"}};
  EXPECT_EQ(C.Post("/counter", First, "{}", "application/json")->body, "1");
  EXPECT_EQ(recordsOf(Store).size(), 100u);
  // Past it, the next sweep removes them all.
  auto Until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!recordsOf(Store).empty() && std::chrono::steady_clock::now() < Until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(recordsOf(Store), std::vector<std::string>());
  // And the key is free: the request runs again.
  EXPECT_EQ(C.Post("/counter", First, "{}", "application/json")->body, "51");
}

} // namespace
