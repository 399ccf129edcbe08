//===- Http.cpp - The runtime's HTTP/1.1 server ---------------------------===//
//
// Boost.Beast parses and serializes; Asio runs an event loop per core, a
// thread each (see EventLoop for why not one loop on many threads, and for
// the helpers a loop gets while slow work holds it). Each connection is a
// Session driving a Beast request parser by hand (read some bytes, put()
// them) so that it can look at a request's header before its body arrives,
// keep pipelined bytes for the next request, and tell a connection that is
// merely idle from one that is halfway through a request. A session's
// socket and timer live on a strand of their own, so its handlers never run
// at once, whichever thread runs them; the handler may answer on the same
// thread, with no hand-off (see Responder).
//
// Timeouts are a deadline per session that one sweep checks four times a
// second, rather than a timer per session: re-arming a timer at every phase
// of every request costs system calls and cancelled handlers on the path of
// each request, and beast::tcp_stream's timeouts close the socket, while a
// slow client should still be told 408. A timeout is therefore late by up
// to the sweep's period.
//
//===----------------------------------------------------------------------===//

#include "cleave/Http.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace cleave::rt::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

/// Beast 1.81's string_view is Boost's own, with no conversion to std's.
std::string_view sv(beast::string_view S) { return {S.data(), S.size()}; }

/// ASCII comparison without case, as header names and tokens compare.
/// (Beast 1.81's iequals reads a byte past both strings when they differ
/// only in case.)
bool iequals(std::string_view A, std::string_view B) {
  if (A.size() != B.size())
    return false;
  for (size_t I = 0; I < A.size(); ++I) {
    unsigned char X = static_cast<unsigned char>(A[I]);
    unsigned char Y = static_cast<unsigned char>(B[I]);
    if (X >= 'A' && X <= 'Z')
      X = static_cast<unsigned char>(X - 'A' + 'a');
    if (Y >= 'A' && Y <= 'Z')
      Y = static_cast<unsigned char>(Y - 'A' + 'a');
    if (X != Y)
      return false;
  }
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// Requests and responses
//===----------------------------------------------------------------------===//

std::vector<std::string_view> Request::headers(std::string_view Name) const {
  std::vector<std::string_view> Out;
  for (const auto &[N, V] : Headers)
    if (iequals(N, Name))
      Out.push_back(V);
  return Out;
}

std::optional<std::string_view> Request::header(std::string_view Name) const {
  for (const auto &[N, V] : Headers)
    if (iequals(N, Name))
      return std::string_view(V);
  return std::nullopt;
}

Response errorResponse(int Status, std::string_view Message) {
  using Json = nlohmann::ordered_json;
  Response R;
  R.Status = Status;
  // Text from the request (a path, a header) may not be UTF-8; replacing
  // bad bytes keeps the message printable instead of failing to report.
  R.Body = Json{{"error", Message}}.dump(-1, ' ', false,
                                         Json::error_handler_t::replace);
  return R;
}

namespace {

int hexDigit(char C) {
  if (C >= '0' && C <= '9')
    return C - '0';
  if (C >= 'a' && C <= 'f')
    return C - 'a' + 10;
  if (C >= 'A' && C <= 'F')
    return C - 'A' + 10;
  return -1;
}

/// Percent-decodes \p In; "+" becomes a space when \p Plus (query text).
/// With \p KeepSlash, an encoded "/" stays encoded (as "%2F"): it is not a
/// path separator (RFC 3986 §2.2), and decoding it would let
/// "/orders%2Fbatch" reach the entry at "/orders/batch".
Result<std::string> decode(std::string_view In, bool Plus,
                           std::string_view What, bool KeepSlash = false) {
  std::string Out;
  Out.reserve(In.size());
  for (size_t I = 0; I < In.size(); ++I) {
    char C = In[I];
    if (C == '%') {
      int Hi = I + 2 < In.size() ? hexDigit(In[I + 1]) : -1;
      int Lo = I + 2 < In.size() ? hexDigit(In[I + 2]) : -1;
      if (Hi < 0 || Lo < 0)
        return Error(fmt::format("bad percent escape in the {}", What));
      C = static_cast<char>(Hi * 16 + Lo);
      I += 2;
      if (C == '\0')
        return Error(fmt::format("the {} holds an encoded NUL", What));
      if (C == '/' && KeepSlash) {
        Out += "%2F";
        continue;
      }
    } else if (C == '+' && Plus) {
      C = ' ';
    }
    Out.push_back(C);
  }
  return Out;
}

} // namespace

Result<void>
parseTarget(std::string_view Target, std::string &Path,
            std::vector<std::pair<std::string, std::string>> &Query) {
  // absolute-form (RFC 9112 §3.2.2), which a server must accept: the path
  // is what follows the authority.
  for (std::string_view Scheme : {"http://", "https://"})
    if (Target.size() >= Scheme.size() &&
        iequals(Target.substr(0, Scheme.size()), Scheme)) {
      size_t Slash = Target.find_first_of("/?", Scheme.size());
      Target = Slash == std::string_view::npos ? std::string_view("/")
                                               : Target.substr(Slash);
      if (Target.front() == '?')
        return Error("the request target has no path");
      break;
    }
  // asterisk-form (OPTIONS *) names no resource: it routes nowhere.
  if (Target == "*") {
    Path = "*";
    Query.clear();
    return {};
  }
  if (Target.empty() || Target.front() != '/')
    return Error("the request target must be a path starting with '/'");
  // A client never sends a fragment.
  if (Target.find('#') != std::string_view::npos)
    return Error("the request target holds a fragment ('#')");
  // The query starts at the first literal "?", before anything is decoded:
  // an encoded "%3F" is part of the path.
  size_t Q = Target.find('?');
  std::string_view RawPath = Target.substr(0, Q);
  Result<std::string> P =
      decode(RawPath, /*Plus=*/false, "path", /*KeepSlash=*/true);
  if (!P)
    return P.error();
  Path = P.take();
  Query.clear();
  if (Q == std::string_view::npos)
    return {};
  std::string_view Rest = Target.substr(Q + 1);
  while (!Rest.empty()) {
    size_t Amp = Rest.find('&');
    std::string_view Pair = Rest.substr(0, Amp);
    Rest = Amp == std::string_view::npos ? std::string_view()
                                         : Rest.substr(Amp + 1);
    if (Pair.empty())
      continue; // "a=1&&b=2", a trailing "&"
    size_t Eq = Pair.find('=');
    Result<std::string> K =
        decode(Pair.substr(0, Eq), /*Plus=*/true, "query string");
    if (!K)
      return K.error();
    if (K->empty())
      return Error("the query string has a parameter without a name");
    std::string V;
    if (Eq != std::string_view::npos) {
      Result<std::string> D =
          decode(Pair.substr(Eq + 1), /*Plus=*/true, "query string");
      if (!D)
        return D.error();
      V = D.take();
    }
    Query.emplace_back(K.take(), std::move(V));
  }
  return {};
}

namespace {

/// A request body that keeps at most Cap bytes and counts the rest, so a
/// too-large body can be read and dropped (the connection stays in step)
/// without being stored.
struct CappedBody {
  struct value_type {
    std::string Text;
    uint64_t Size = 0;
    size_t Cap = 0;
  };

  class reader {
  public:
    template <bool IsRequest, class Fields>
    reader(bhttp::header<IsRequest, Fields> &, value_type &V) : V(V) {}

    void init(const boost::optional<std::uint64_t> &Length,
              beast::error_code &Ec) {
      if (Length && *Length <= V.Cap)
        V.Text.reserve(static_cast<size_t>(*Length));
      Ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence &Buffers, beast::error_code &Ec) {
      size_t N = 0;
      for (auto B : beast::buffers_range_ref(Buffers)) {
        N += B.size();
        if (V.Size + B.size() <= V.Cap)
          V.Text.append(static_cast<const char *>(B.data()), B.size());
        else if (!V.Text.empty())
          std::string().swap(V.Text); // refused: free it now
        V.Size += B.size();
      }
      Ec = {};
      return N;
    }

    void finish(beast::error_code &Ec) { Ec = {}; }

  private:
    value_type &V;
  };
};

using Parser = bhttp::request_parser<CappedBody>;

std::string tooLarge(uint64_t Size, bool Exact, size_t Limit) {
  return fmt::format("request body of {}{} bytes exceeds the limit of {} "
                     "bytes",
                     Exact ? "" : "more than ", Size, Limit);
}

/// The answer to a request Beast could not parse.
std::string describe(beast::error_code Ec) {
  using E = bhttp::error;
  if (Ec == E::bad_method || Ec == E::bad_target || Ec == E::bad_version)
    return "malformed request line";
  if (Ec == E::bad_field || Ec == E::bad_value)
    return "malformed header field";
  if (Ec == E::bad_obs_fold)
    return "header field folded over lines (obsolete, not accepted)";
  if (Ec == E::bad_line_ending)
    return "malformed HTTP request: lines must end in CR LF";
  if (Ec == E::bad_content_length)
    return "invalid Content-Length header";
  if (Ec == E::bad_transfer_encoding)
    return "invalid Transfer-Encoding: repeated, or given with "
           "Content-Length";
  if (Ec == E::bad_chunk || Ec == E::bad_chunk_extension)
    return "malformed chunked body";
  return "malformed HTTP request: " + Ec.message();
}

/// A Host value is a host (a name, an IPv4 address or a bracketed IPv6
/// one) and an optional port (RFC 9110 §7.2, RFC 3986 §3.2.2).
bool validHost(std::string_view H) {
  for (unsigned char C : H)
    if (!std::isalnum(C) &&
        (C == 0 || std::strchr("-._~!$&'()*+,;=:[]%", C) == nullptr))
      return false;
  return true;
}

/// Methods whose requests carry no content here. A body on one of them is
/// refused rather than skipped: a client sending one is confused about
/// where its request ends, and the bytes might be a request of their own.
bool takesBody(std::string_view Method) {
  return Method == "POST" || Method == "PUT" || Method == "PATCH" ||
         Method == "DELETE";
}

std::string_view trim(std::string_view S) {
  while (!S.empty() && (S.front() == ' ' || S.front() == '\t'))
    S.remove_prefix(1);
  while (!S.empty() && (S.back() == ' ' || S.back() == '\t'))
    S.remove_suffix(1);
  return S;
}

} // namespace

//===----------------------------------------------------------------------===//
// The server
//===----------------------------------------------------------------------===//

/// A thread running an event loop, and since when it has been inside one
/// handler or job (0 while it is not).
struct Runner {
  std::atomic<std::chrono::steady_clock::rep> BusySince{0};
  std::thread Thread;
  bool Helper = false;
  /// A helper that has left its loop, to be joined.
  std::atomic<bool> Done{false};
};

/// One event loop: an io_context run by one thread, its owner, so that a
/// request is read, run and answered on that thread with no other thread
/// woken. (One io_context run by several threads hands completions to
/// whichever thread waits, several futex wake-ups per request; with one
/// client, `make bench` measured a one-step entry at 0.67 of a hand-written
/// server's rate that way, and at 0.91 on loops of their own.)
///
/// When every thread of a loop has been held by one handler or job for
/// longer than HelperAfter (a slow function run inline, say), the watchdog
/// adds a helper thread to the loop, so that its other connections are
/// still read, timed out and answered; a helper leaves once another thread
/// of the loop is free. Sessions keep their strands, so that
/// a loop run by two threads still runs one session's handlers one at a
/// time.
struct EventLoop {
  asio::io_context Io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      KeepRunning;
  std::mutex RunnersMutex;
  std::vector<std::unique_ptr<Runner>> Runners;
};

/// The loop thread this is, if any, and its loop.
thread_local Runner *CurrentRunner = nullptr;
thread_local EventLoop *CurrentLoop = nullptr;

/// Marks this loop thread busy while a handler or job runs, for the
/// watchdog.
class BusyMark {
public:
  BusyMark() : R(CurrentRunner) {
    if (!R)
      return;
    // Only the runner's own thread writes its mark.
    Before = R->BusySince.load(std::memory_order_relaxed);
    if (Before == 0)
      R->BusySince.store(
          std::chrono::steady_clock::now().time_since_epoch().count(),
          std::memory_order_relaxed);
  }
  ~BusyMark() {
    if (R)
      R->BusySince.store(Before, std::memory_order_relaxed);
  }
  BusyMark(const BusyMark &) = delete;
  BusyMark &operator=(const BusyMark &) = delete;

private:
  Runner *R;
  std::chrono::steady_clock::rep Before = 0;
};

class Session;

struct HttpServer::Impl {
  Impl(Limits L, Handler H, unsigned Threads)
      : Loops(makeLoops(Threads)), L(std::move(L)), H(std::move(H)) {}

  static std::vector<std::unique_ptr<EventLoop>> makeLoops(unsigned N) {
    std::vector<std::unique_ptr<EventLoop>> Loops;
    for (unsigned I = 0; I < std::max(1u, N); ++I)
      Loops.push_back(std::make_unique<EventLoop>());
    return Loops;
  }

  void accept();
  void sessionClosed(Session *S);
  /// Cancels what waits past its deadline.
  void sweep();
  /// The watchdog's thread: adds helpers to held loops, joins helpers that
  /// left, and sweeps deadlines every SweepEvery.
  void watch();
  void startRunner(EventLoop &Loop, bool Helper);
  /// The runners of \p Loop other than \p Me that are free (not held past
  /// \p Since, or not busy at all).
  static bool anotherFree(EventLoop &Loop, const Runner *Me,
                          std::chrono::steady_clock::rep Since);
  /// The loop a new connection or an outside job goes to.
  EventLoop &nextLoop() {
    return *Loops[NextLoop.fetch_add(1, std::memory_order_relaxed) %
                  Loops.size()];
  }
  /// The sessions open now (copied: closing one edits the set).
  std::vector<std::shared_ptr<Session>> sessions() {
    std::lock_guard<std::mutex> Lock(SessionsMutex);
    return {Sessions.begin(), Sessions.end()};
  }
  /// Wakes stop(); under the mutex so that the wake-up cannot fall between
  /// its check and its wait.
  void notifyDrain() {
    { std::lock_guard<std::mutex> Lock(Mutex); }
    Drained.notify_all();
  }

  static constexpr std::chrono::milliseconds HelperAfter{10};
  static constexpr std::chrono::milliseconds SweepEvery{250};
  /// Helpers one loop may have at once (each is held by a job).
  static constexpr size_t MaxHelpers = 64;

  // Declared first so that they are destroyed last: handlers still queued
  // in them own sessions, whose sockets must go before the context does.
  std::vector<std::unique_ptr<EventLoop>> Loops;
  std::atomic<size_t> NextLoop{0};
  Limits L;
  Handler H;
  /// The acceptor, its retry timer and AcceptPaused live on this strand.
  asio::strand<asio::io_context::executor_type> AcceptStrand{
      asio::make_strand(Loops.front()->Io)};
  tcp::acceptor Acceptor{AcceptStrand};
  asio::steady_timer AcceptRetry{AcceptStrand};
  std::thread Watchdog;
  std::mutex WatchMutex;
  std::condition_variable WatchWake;
  bool WatchStop = false;
  std::mutex SessionsMutex;
  std::set<std::shared_ptr<Session>> Sessions;
  bool AcceptPaused = false;
  std::atomic<bool> Stopping{false};
  /// This object, for the Responders (set by HttpServer).
  std::weak_ptr<Impl> Self;

  std::atomic<size_t> Open{0};
  /// Requests handed to the handler and not answered yet.
  std::atomic<size_t> Unanswered{0};
  std::mutex Mutex;
  std::condition_variable Drained;
  bool Running = false;
  /// Loop threads still running handlers after stop() gave up on them.
  bool Detached = false;
};

class Session : public std::enable_shared_from_this<Session> {
public:
  Session(HttpServer::Impl &Srv, tcp::socket Socket)
      : Srv(Srv), Socket(std::move(Socket)) {
    beast::error_code Ec;
    auto Remote = this->Socket.remote_endpoint(Ec);
    if (!Ec)
      Peer = fmt::format("{}:{}", Remote.address().to_string(), Remote.port());
  }

  void start() {
    asio::dispatch(Socket.get_executor(),
                   [Self = shared_from_this()] { Self->waitForRequest(); });
  }

  /// The strand this session's handlers run on.
  tcp::socket::executor_type executor() { return Socket.get_executor(); }

  /// Shutdown: an idle connection closes now; one mid-request finishes it.
  void stopIfIdle() {
    asio::dispatch(executor(), [Self = shared_from_this()] {
      if (Self->Phase == Idle)
        Self->close();
    });
  }

  void abort() {
    asio::dispatch(executor(), [Self = shared_from_this()] { Self->close(); });
  }

  void answer(Response R) {
    if (Phase != Working)
      return;
    Srv.Unanswered.fetch_sub(1);
    send(std::move(R), !KeepAlive);
  }

  enum PhaseKind { Idle, Reading, Working, Writing, Lingering, Closed };
  PhaseKind Phase = Idle;

private:
  using Clock = std::chrono::steady_clock;

  void arm(std::chrono::milliseconds After) {
    TimedOut = false;
    Deadline.store((Clock::now() + After).time_since_epoch().count(),
                   std::memory_order_relaxed);
  }

  void disarm() {
    Deadline.store(0, std::memory_order_relaxed);
    TimedOut = false;
  }

public:
  /// From the sweep: past its deadline, the operation waiting is cancelled
  /// and its handler sees TimedOut.
  void checkDeadline(Clock::rep Now) {
    Clock::rep D = Deadline.load(std::memory_order_relaxed);
    if (D == 0 || D > Now)
      return;
    asio::dispatch(executor(), [Self = shared_from_this()] {
      Clock::rep D = Self->Deadline.load(std::memory_order_relaxed);
      if (Self->Phase == Closed || D == 0 ||
          D > Clock::now().time_since_epoch().count())
        return; // re-armed meanwhile
      Self->Deadline.store(0, std::memory_order_relaxed);
      Self->TimedOut = true;
      beast::error_code Ignored;
      Self->Socket.cancel(Ignored);
    });
  }

private:

  void waitForRequest() {
    Phase = Idle;
    if (Srv.Stopping)
      return close();
    P.emplace();
    // The limit covers the request line too; 414 and 431 are told apart
    // when it is hit (see fail()).
    // A backstop: checkHead() applies the limits first.
    P->header_limit(static_cast<std::uint32_t>(
        Srv.L.MaxHeaderBytes + Srv.L.MaxTargetBytes + 64));
    P->body_limit(Srv.L.MaxBodyBytes + Srv.L.DrainBytes);
    P->get().body().Cap = Srv.L.MaxBodyBytes;
    HeaderChecked = false;
    HeadBytes = 0;
    BodyBytes = 0;
    LineLen = 0;
    BlankLines = 0;
    Carry.clear();
    RequestLine.clear();
    Fields.clear();
    ForceClose = false;
    if (Buf.size() != 0) { // pipelined
      Phase = Reading;
      arm(Srv.L.HeaderTimeout);
      return parse();
    }
    arm(Srv.L.IdleTimeout);
    readMore();
  }

  void readMore() {
    constexpr size_t Chunk = 16384;
    Socket.async_read_some(
        Buf.prepare(Chunk),
        [Self = shared_from_this()](beast::error_code Ec, size_t N) {
          Self->onRead(Ec, N);
        });
  }

  void onRead(beast::error_code Ec, size_t N) {
    if (Phase == Closed)
      return;
    if (Ec) {
      if (TimedOut && Phase == Reading)
        return reject(408, HeaderChecked
                               ? "request body not received in time"
                               : "request header not received in time");
      // Idle and timed out, closed by the client, or shut down.
      return close();
    }
    Buf.commit(N);
    if (Phase == Idle) {
      if (Srv.Stopping) // it arrived as the server stops: not accepted
        return close();
      Phase = Reading;
      arm(Srv.L.HeaderTimeout);
    }
    parse();
  }

  std::string_view buffered() const {
    return {static_cast<const char *>(Buf.data().data()), Buf.size()};
  }

  /// Checks the head's bytes before Beast parses them: the request line
  /// and field section limits (Beast's single limit covers both, and not
  /// every way of sending a head), and no folded lines. Also drops the
  /// empty lines a client may send before a request line (RFC 9112 §2.2).
  /// False if the request was refused.
  bool checkHead() {
    if (HeadBytes == 0)
      while (BlankLines < 8 && buffered().substr(0, 2) == "\r\n") {
        Buf.consume(2);
        ++BlankLines;
      }
    // The request line may be the target and what surrounds it (checked
    // exactly once parsed); the field section counts its line ends and the
    // blank line that ends it.
    const size_t LineMax = Srv.L.MaxTargetBytes + 64,
                 FieldsMax = Srv.L.MaxHeaderBytes;
    std::string_view D = buffered();
    // Never look further than a head can reach.
    std::string Window = Carry;
    Window.append(D.substr(0, std::min(D.size(), LineMax + FieldsMax + 8)));
    size_t Base = HeadBytes - Carry.size(); // head offset of Window[0]
    size_t End = Window.find("\r\n\r\n");
    std::string_view Head(Window);
    if (End != std::string::npos)
      Head = Head.substr(0, End + 4);
    size_t SoFar = Base + Head.size();
    if (LineLen == 0) {
      size_t Eol = Head.find('\n');
      if (Eol != std::string_view::npos) {
        LineLen = Base + Eol + 1;
        RequestLine = std::string(Head.substr(0, Eol));
      }
    }
    if ((LineLen == 0 && SoFar > LineMax + 2) || LineLen > LineMax + 2) {
      reject(414, fmt::format("request target longer than {} bytes",
                              Srv.L.MaxTargetBytes));
      return false;
    }
    if (LineLen != 0 && SoFar - LineLen > FieldsMax) {
      reject(431, fmt::format("request header fields larger than {} bytes",
                              FieldsMax));
      return false;
    }
    // A field line that starts with a space or tab continues the one
    // before (obs-fold); parsers disagree on it, so it is refused.
    for (size_t I = 0; I + 1 < Head.size(); ++I)
      if (Head[I] == '\n' && (Head[I + 1] == ' ' || Head[I + 1] == '\t') &&
          Base + I + 1 >= LineLen) {
        reject(400, "header field folded over lines (obsolete, not "
                    "accepted)");
        return false;
      }
    return true;
  }

  /// After put() consumed \p Used bytes of the head.
  void consumedHead(size_t Used) {
    if (Used == 0)
      return;
    std::string_view D = buffered().substr(0, Used);
    Carry.append(D.substr(D.size() > 3 ? D.size() - 3 : 0));
    if (Carry.size() > 3)
      Carry.erase(0, Carry.size() - 3);
    HeadBytes += Used;
  }

  void parse() {
    while (Buf.size() != 0 && !P->is_done()) {
      if (!P->is_header_done() && !checkHead())
        return;
      beast::error_code Ec;
      bool InHead = !P->is_header_done();
      size_t Used = P->put(Buf.data(), Ec);
      if (InHead)
        consumedHead(Used);
      else
        BodyBytes += Used;
      Buf.consume(Used);
      if (Ec == bhttp::error::need_more) {
        // In a chunked body, what is left unparsed is a chunk-size line or
        // the trailer section; neither may grow without bound.
        if (HeaderChecked && Buf.size() > Srv.L.MaxHeaderBytes)
          return reject(400, "chunk-size line or trailer section longer "
                             "than the header limit");
        break;
      }
      if (Ec)
        return fail(Ec);
      // Chunk framing (sizes, extensions, trailers) many times the data
      // itself is an attack on the parser, not a way to send a body.
      if (HeaderChecked && BodyBytes > Srv.L.MaxHeaderBytes &&
          BodyBytes - P->get().body().Size >
              Srv.L.MaxHeaderBytes + 8 * P->get().body().Size)
        return reject(400, "chunked framing larger than the data it carries");
      if (P->is_header_done() && !HeaderChecked) {
        HeaderChecked = true;
        if (!checkHeader())
          return;
        if (!P->is_done())
          arm(Srv.L.BodyTimeout);
        if (Continue && !P->is_done()) {
          Continue = false;
          return sendContinue();
        }
      }
      if (Used == 0)
        break;
    }
    if (P->is_done())
      return dispatch();
    readMore();
  }

  void fail(beast::error_code Ec) {
    if (Ec == bhttp::error::header_limit)
      return reject(431, fmt::format("request header fields larger than {} "
                                     "bytes",
                                     Srv.L.MaxHeaderBytes));
    if (Ec == bhttp::error::body_limit) {
      // At the header when Content-Length says so (Beast refuses it before
      // the header counts as done, so the field is read as sent), else by
      // a chunk size.
      std::string_view Field = sv(P->get()[bhttp::field::content_length]);
      uint64_t Length = 0;
      auto [End, Err] =
          std::from_chars(Field.data(), Field.data() + Field.size(), Length);
      if (!Field.empty() && Err == std::errc() &&
          End == Field.data() + Field.size())
        return reject(413, tooLarge(Length, true, Srv.L.MaxBodyBytes));
      return reject(413, tooLarge(Srv.L.MaxBodyBytes + Srv.L.DrainBytes,
                                  false, Srv.L.MaxBodyBytes));
    }
    // Beast takes only HTTP/1.0 and 1.1; a well-formed request line with
    // another version gets 505.
    if (Ec == bhttp::error::bad_version && wellFormedOtherVersion())
      return reject(505, "only HTTP/1.0 and HTTP/1.1 are supported");
    return reject(400, describe(Ec));
  }

  /// "METHOD SP TARGET SP HTTP/d.d CR": a request line whose only fault is
  /// its version.
  bool wellFormedOtherVersion() const {
    std::string_view Line = RequestLine;
    if (Line.empty() || Line.back() != '\r')
      return false;
    Line.remove_suffix(1);
    if (std::count(Line.begin(), Line.end(), ' ') != 2 || Line.size() < 9)
      return false;
    std::string_view V = Line.substr(Line.size() - 9);
    auto Digit = [](char C) { return C >= '0' && C <= '9'; };
    return V.substr(0, 6) == " HTTP/" && Digit(V[6]) && V[7] == '.' &&
           Digit(V[8]);
  }

  /// Checks what Beast leaves to the application. False if the request was
  /// refused (the answer is on its way).
  bool checkHeader() {
    const auto &Req = P->get();
    Continue = false;
    if (Req.version() != 10 && Req.version() != 11) {
      reject(505, "only HTTP/1.0 and HTTP/1.1 are supported");
      return false;
    }
    if (Req.target().size() > Srv.L.MaxTargetBytes) {
      reject(414, fmt::format("request target longer than {} bytes",
                              Srv.L.MaxTargetBytes));
      return false;
    }
    // Beast accepts a Transfer-Encoding list that does not end in chunked
    // (the body would then run to the end of the connection, which a
    // request cannot do), codings it does not apply, and parameters on
    // chunked. Only "chunked" alone is understood here.
    size_t Codings = 0;
    bool OnlyChunked = true;
    for (auto [It, End] = Req.equal_range(bhttp::field::transfer_encoding);
         It != End; ++It) {
      std::string_view Rest = sv(It->value());
      while (true) {
        size_t Comma = Rest.find(',');
        std::string_view C = trim(Rest.substr(0, Comma));
        if (!C.empty()) {
          ++Codings;
          OnlyChunked &= iequals(C, "chunked");
        }
        if (Comma == std::string_view::npos)
          break;
        Rest.remove_prefix(Comma + 1);
      }
    }
    bool HasCoding = Req.count(bhttp::field::transfer_encoding) != 0;
    if (HasCoding && (Codings != 1 || !OnlyChunked)) {
      reject(400, "unsupported Transfer-Encoding: only 'chunked' is "
                  "accepted");
      return false;
    }
    size_t Hosts = Req.count(bhttp::field::host);
    if ((Req.version() == 11 && Hosts != 1) || Hosts > 1) {
      reject(400, Hosts ? "more than one Host header"
                        : "an HTTP/1.1 request must have a Host header");
      return false;
    }
    if (Hosts && !validHost(sv(Req[bhttp::field::host]))) {
      reject(400, "invalid Host header");
      return false;
    }
    // An HTTP/1.0 message with Transfer-Encoding has faulty framing: it is
    // answered, and the connection closed (RFC 9112 §6.1).
    ForceClose = HasCoding && Req.version() == 10;
    // The fields as they are now: trailer fields, which Beast adds to the
    // same set later, are not header fields (RFC 9110 §6.5.1).
    for (const auto &F : Req)
      Fields.emplace_back(std::string(sv(F.name_string())),
                          std::string(sv(F.value())));
    bool HasBody = P->chunked() || P->content_length().value_or(0) != 0;
    std::string_view Method = sv(Req.method_string());
    if (HasBody && !takesBody(Method)) {
      reject(400, fmt::format("a {} request must not have a body", Method));
      return false;
    }
    // A Content-Length past MaxBodyBytes + DrainBytes never gets here:
    // Beast refuses it as body_limit (see fail()).
    if (Req.count(bhttp::field::expect)) {
      auto It = Req.find(bhttp::field::expect);
      if (Req.count(bhttp::field::expect) != 1 ||
          !iequals(trim(sv(It->value())), "100-continue")) {
        reject(417, "only 'Expect: 100-continue' is supported");
        return false;
      }
      // Told before sending a body it cannot know we would drain.
      if (auto Length = P->content_length();
          Length && *Length > Srv.L.MaxBodyBytes) {
        reject(413, tooLarge(*Length, true, Srv.L.MaxBodyBytes));
        return false;
      }
      Continue = HasBody && Req.version() == 11;
    }
    return true;
  }

  void sendContinue() {
    static const char Interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(Socket, asio::buffer(Interim, sizeof(Interim) - 1),
                      [Self = shared_from_this()](beast::error_code Ec,
                                                  size_t) {
                        if (Ec || Self->Phase == Closed)
                          return Self->close();
                        Self->parse();
                      });
  }

  void dispatch() {
    disarm();
    auto &Msg = P->get();
    Request Req;
    Req.Method = std::string(Msg.method_string());
    Req.Target = std::string(Msg.target());
    Req.Version = Msg.version();
    Req.Peer = Peer;
    Req.Headers = std::move(Fields);
    ++Served;
    KeepAlive = P->keep_alive() && !Srv.Stopping && !ForceClose &&
                (Srv.L.MaxRequestsPerConnection == 0 ||
                 Served < Srv.L.MaxRequestsPerConnection);
    IsHead = Msg.method() == bhttp::verb::head;
    Version = Msg.version();
    CappedBody::value_type &B = Msg.body();
    if (B.Size > B.Cap)
      return send(errorResponse(413, tooLarge(B.Size, true, B.Cap)),
                  !KeepAlive);
    Req.Body = std::move(B.Text);
    if (Result<void> T = parseTarget(Req.Target, Req.Path, Req.Query); !T)
      return send(errorResponse(400, T.error().message()), !KeepAlive);
    if (Req.Target == "*" && Req.Method != "OPTIONS")
      return send(errorResponse(400, "only OPTIONS may have the target '*'"),
                  !KeepAlive);

    Phase = Working;
    Srv.Unanswered.fetch_add(1);
    auto Target =
        std::make_shared<Responder::Target>(Srv.Self, shared_from_this());
    try {
      BusyMark Busy;
      Srv.H(std::move(Req), Responder(Target));
    } catch (const std::exception &E) {
      fmt::print(stderr, "cleave-run: internal error: {}\n", E.what());
      answer(errorResponse(500, "internal error in the runtime"));
    }
  }

  /// Answers from this layer: the connection closes.
  void reject(int Status, std::string_view Message) {
    Version = P && P->is_header_done() ? P->get().version() : 11;
    IsHead = false;
    send(errorResponse(Status, Message), /*Close=*/true);
  }

  void send(Response R, bool Close) {
    Close |= R.Close || Srv.Stopping;
    auto Res = std::make_shared<bhttp::response<bhttp::string_body>>();
    Res->version(Version == 10 ? 10 : 11);
    Res->result(static_cast<unsigned>(R.Status));
    for (auto &[Name, Value] : R.Headers)
      Res->insert(Name, Value);
    bool NoBody = R.Status == 204 || R.Status == 304 || R.Status < 200;
    if (!NoBody && !R.Body.empty())
      Res->set(bhttp::field::content_type, R.ContentType);
    if (!NoBody)
      Res->body() = std::move(R.Body);
    Res->keep_alive(!Close);
    Res->prepare_payload();
    // Beast gives a 204 "Content-Length: 0", which RFC 9110 §8.6 forbids.
    if (NoBody)
      Res->erase(bhttp::field::content_length);
    if (IsHead)
      Res->body().clear(); // Content-Length stays that of the body
    Phase = Writing;
    arm(Srv.L.WriteTimeout);
    bhttp::async_write(Socket, *Res,
                       [Self = shared_from_this(), Res,
                        Close](beast::error_code Ec, size_t) {
                         if (Self->Phase == Closed)
                           return;
                         if (Ec)
                           return Self->close();
                         if (Close)
                           return Self->linger();
                         Self->waitForRequest();
                       });
  }

  /// Closes after a final answer without losing it: a socket closed with
  /// unread bytes sends RST, which can destroy the response before the
  /// client reads it. So stop sending, read and drop what the client still
  /// sends for a while, then close.
  void linger() {
    Phase = Lingering;
    beast::error_code Ec;
    Socket.shutdown(tcp::socket::shutdown_send, Ec);
    if (Ec)
      return close();
    // Shorter while stopping: the drain time is bounded.
    arm(std::chrono::milliseconds(Srv.Stopping ? 300 : 2000));
    Buf.clear();
    drain();
  }

  void drain() {
    Socket.async_read_some(
        Buf.prepare(65536),
        [Self = shared_from_this()](beast::error_code Ec, size_t N) {
          if (Self->Phase == Closed)
            return;
          Self->Lingered += N;
          if (Ec || Self->Lingered > Self->Srv.L.DrainBytes)
            return Self->close();
          Self->drain();
        });
  }

  void close() {
    if (Phase == Closed)
      return;
    if (Phase == Working) { // the answer will find nothing to write to
      Srv.Unanswered.fetch_sub(1);
    }
    Phase = Closed;
    Deadline.store(0, std::memory_order_relaxed);
    beast::error_code Ec;
    Socket.close(Ec);
    Srv.sessionClosed(this);
  }

  HttpServer::Impl &Srv;
  tcp::socket Socket;
  /// Clock ticks of the current deadline; 0 for none.
  std::atomic<Clock::rep> Deadline{0};
  beast::flat_buffer Buf;
  std::optional<Parser> P;
  std::string Peer;
  bool TimedOut = false;
  /// Of the request being read: head bytes Beast consumed, the last three
  /// of them, body bytes it consumed (framing included), the request
  /// line's length with its line end and its text, empty lines skipped
  /// before it, and the header fields.
  size_t HeadBytes = 0;
  std::string Carry;
  uint64_t BodyBytes = 0;
  size_t LineLen = 0;
  std::string RequestLine;
  unsigned BlankLines = 0;
  std::vector<std::pair<std::string, std::string>> Fields;
  bool ForceClose = false;
  bool HeaderChecked = false;
  bool Continue = false;
  bool KeepAlive = true;
  bool IsHead = false;
  unsigned Version = 11;
  size_t Served = 0;
  uint64_t Lingered = 0;
};

//===----------------------------------------------------------------------===//
// Responder
//===----------------------------------------------------------------------===//

class Responder::Target {
public:
  Target(std::weak_ptr<HttpServer::Impl> Srv, std::weak_ptr<Session> S)
      : Srv(std::move(Srv)), S(std::move(S)) {}

  void answer(Response R) {
    if (Answered.exchange(true))
      return;
    // Holding the server keeps its loop alive while posting. Posting keeps
    // the session alive until the loop runs the answer; a stopped loop
    // destroys the handler, and the session with it.
    std::shared_ptr<HttpServer::Impl> Server = Srv.lock();
    std::shared_ptr<Session> Strong = S.lock();
    if (!Server || !Strong)
      return;
    // Deferred onto the session's strand: from a loop thread it runs on
    // that thread once the current handler returns, with no other thread
    // woken; from any other thread it is queued like a post.
    asio::defer(Strong->executor(), [Strong, R = std::move(R)]() mutable {
      Strong->answer(std::move(R));
    });
  }

  bool answered() const { return Answered; }

private:
  std::weak_ptr<HttpServer::Impl> Srv;
  std::weak_ptr<Session> S;
  std::atomic<bool> Answered{false};
};

Responder::Responder(std::shared_ptr<Target> T) : T(std::move(T)) {}
Responder::Responder(Responder &&) noexcept = default;
Responder &Responder::operator=(Responder &&) noexcept = default;
Responder::~Responder() {
  if (T && !T->answered())
    T->answer(errorResponse(500, "internal error: the request was dropped"));
}

void Responder::operator()(Response R) {
  if (T)
    T->answer(std::move(R));
}

//===----------------------------------------------------------------------===//
// HttpServer
//===----------------------------------------------------------------------===//

void HttpServer::Impl::accept() {
  // Each connection gets a strand of its own, on the next loop.
  auto Strand = asio::make_strand(nextLoop().Io);
  Acceptor.async_accept(Strand, [this](beast::error_code Ec,
                                       tcp::socket Socket) {
    if (Ec == asio::error::operation_aborted || Stopping)
      return;
    if (Ec) {
      // Out of descriptors or memory: wait a little rather than spin.
      fmt::print(stderr, "cleave-run: cannot accept a connection: {}\n",
                 Ec.message());
      AcceptRetry.expires_after(std::chrono::milliseconds(100));
      AcceptRetry.async_wait([this](beast::error_code E) {
        if (!E && !Stopping)
          accept();
      });
      return;
    }
    beast::error_code Ignored;
    Socket.set_option(tcp::no_delay(true), Ignored);
    auto S = std::make_shared<Session>(*this, std::move(Socket));
    {
      std::lock_guard<std::mutex> Lock(SessionsMutex);
      Sessions.insert(S);
    }
    Open.fetch_add(1);
    S->start();
    if (Open.load() >= L.MaxConnections) {
      AcceptPaused = true; // the rest wait in the backlog
      return;
    }
    accept();
  });
}

void HttpServer::Impl::sessionClosed(Session *S) {
  // The set's reference is dropped last thing: it may be the only one.
  std::shared_ptr<Session> Keep;
  {
    std::lock_guard<std::mutex> Lock(SessionsMutex);
    for (auto It = Sessions.begin(); It != Sessions.end(); ++It)
      if (It->get() == S) {
        Keep = *It;
        Sessions.erase(It);
        break;
      }
  }
  if (!Keep)
    return;
  Open.fetch_sub(1);
  notifyDrain();
  asio::post(AcceptStrand, [this] {
    if (AcceptPaused && !Stopping && Open.load() < L.MaxConnections) {
      AcceptPaused = false;
      accept();
    }
  });
}

void HttpServer::Impl::sweep() {
  auto Now = std::chrono::steady_clock::now().time_since_epoch().count();
  std::lock_guard<std::mutex> Lock(SessionsMutex);
  for (const auto &S : Sessions)
    S->checkDeadline(Now);
}

bool HttpServer::Impl::anotherFree(EventLoop &Loop, const Runner *Me,
                                   std::chrono::steady_clock::rep Since) {
  for (const auto &R : Loop.Runners) {
    if (R.get() == Me || R->Done.load())
      continue;
    auto B = R->BusySince.load(std::memory_order_relaxed);
    if (B == 0 || B > Since)
      return true;
  }
  return false;
}

void HttpServer::Impl::startRunner(EventLoop &Loop, bool Helper) {
  auto R = std::make_unique<Runner>();
  Runner *Me = R.get();
  Me->Helper = Helper;
  Loop.Runners.push_back(std::move(R));
  Me->Thread = std::thread([this, &Loop, Me] {
    CurrentRunner = Me;
    CurrentLoop = &Loop;
    for (;;) {
      try {
        if (!Me->Helper) {
          Loop.Io.run();
          return;
        }
        // A helper stays while every other thread of its loop is held.
        for (;;) {
          Loop.Io.run_one_for(std::chrono::milliseconds(50));
          if (Loop.Io.stopped())
            break;
          std::lock_guard<std::mutex> Lock(Loop.RunnersMutex);
          auto Held = (std::chrono::steady_clock::now() - HelperAfter)
                          .time_since_epoch()
                          .count();
          // Marked under the lock, so that two helpers cannot each leave
          // on the strength of the other.
          if (Me->BusySince.load() == 0 && anotherFree(Loop, Me, Held)) {
            Me->Done = true;
            break;
          }
        }
        // What the last handler deferred went to the loop's queue without
        // waking anyone (Asio expects this thread to run it next): posted
        // from outside the loop, this wakes a thread that stays.
        asio::post(Loop.Io, [] {});
        return;
      } catch (const std::exception &E) {
        // A bug in a completion handler must not stop every connection.
        fmt::print(stderr,
                   "cleave-run: internal error in the HTTP loop: {}\n",
                   E.what());
      }
    }
  });
}

void HttpServer::Impl::watch() {
  using Clock = std::chrono::steady_clock;
  auto NextSweep = Clock::now() + SweepEvery;
  std::unique_lock<std::mutex> Lock(WatchMutex);
  while (!WatchStop) {
    WatchWake.wait_for(Lock, HelperAfter);
    if (WatchStop)
      break;
    auto Now = Clock::now();
    auto Held = (Now - HelperAfter).time_since_epoch().count();
    for (const auto &Loop : Loops) {
      std::lock_guard<std::mutex> R(Loop->RunnersMutex);
      std::erase_if(Loop->Runners, [](const std::unique_ptr<Runner> &X) {
        if (!X->Done.load())
          return false;
        X->Thread.join();
        return true;
      });
      if (!anotherFree(*Loop, nullptr, Held) &&
          Loop->Runners.size() <= MaxHelpers)
        startRunner(*Loop, /*Helper=*/true);
    }
    if (Now >= NextSweep) {
      NextSweep = Now + SweepEvery;
      sweep();
    }
  }
}

HttpServer::HttpServer(Limits L, Handler H, unsigned Threads)
    : I(std::make_shared<Impl>(std::move(L), std::move(H), Threads)) {
  I->Self = I;
}

void HttpServer::defer(std::function<void()> Job) {
  auto Run = [Job = std::move(Job)] {
    BusyMark Busy;
    Job();
  };
  // On a loop thread of this server: on the same thread, no other woken.
  if (CurrentLoop)
    for (const auto &Loop : I->Loops)
      if (Loop.get() == CurrentLoop)
        return asio::defer(Loop->Io, std::move(Run));
  asio::post(I->nextLoop().Io, std::move(Run));
}

HttpServer::~HttpServer() {
  stop(std::chrono::milliseconds(0));
  // Loop threads left inside a handler still use the loop: it must outlive
  // them, and the process ends soon after (see Server::stop).
  if (I->Detached)
    new std::shared_ptr<Impl>(I);
}

Result<int> HttpServer::start(const std::string &Host, int Port) {
  std::lock_guard<std::mutex> Lock(I->Mutex);
  if (I->Running)
    return Error("the server is already running");
  beast::error_code Ec;
  auto Address = asio::ip::make_address(Host, Ec);
  tcp::endpoint Endpoint;
  if (!Ec) {
    Endpoint = tcp::endpoint(Address, static_cast<unsigned short>(Port));
  } else {
    tcp::resolver Resolver(I->Loops.front()->Io);
    auto Found = Resolver.resolve(Host, std::to_string(Port), Ec);
    if (Ec || Found.empty())
      return Error(fmt::format("cannot listen on {}:{}: {}", Host, Port,
                               Ec ? Ec.message() : "no address"));
    Endpoint = Found.begin()->endpoint();
  }
  auto Fail = [&](std::string_view Step) {
    beast::error_code Ignored;
    I->Acceptor.close(Ignored);
    return Error(fmt::format("cannot listen on {}:{}: {}{}", Host, Port,
                             Step, Ec.message()));
  };
  I->Acceptor.open(Endpoint.protocol(), Ec);
  if (Ec)
    return Fail("");
  // SO_REUSEADDR allows a quick restart; SO_REUSEPORT is never set, so a
  // second server on the same port is an error, not half the traffic.
  I->Acceptor.set_option(asio::socket_base::reuse_address(true), Ec);
  I->Acceptor.bind(Endpoint, Ec);
  if (Ec)
    return Fail("");
  I->Acceptor.listen(asio::socket_base::max_listen_connections, Ec);
  if (Ec)
    return Fail("");
  int Bound = I->Acceptor.local_endpoint().port();
  I->Stopping = false;
  I->Running = true;
  // The loop threads stay up while every connection waits for its function
  // and nothing is being accepted (at the connection limit, or stopping).
  for (const auto &Loop : I->Loops) {
    Loop->Io.restart();
    Loop->KeepRunning.emplace(Loop->Io.get_executor());
  }
  asio::post(I->AcceptStrand, [Impl = I.get()] { Impl->accept(); });
  for (const auto &Loop : I->Loops) {
    std::lock_guard<std::mutex> R(Loop->RunnersMutex);
    I->startRunner(*Loop, /*Helper=*/false);
  }
  I->WatchStop = false;
  I->Watchdog = std::thread([Impl = I.get()] { Impl->watch(); });
  return Bound;
}

size_t HttpServer::stop(std::chrono::milliseconds Drain) {
  std::unique_lock<std::mutex> Lock(I->Mutex);
  if (!I->Running)
    return 0;
  Impl *Srv = I.get();
  Srv->Stopping = true;
  asio::post(Srv->AcceptStrand, [Srv] {
    beast::error_code Ignored;
    Srv->Acceptor.close(Ignored);
    Srv->AcceptRetry.cancel();
  });
  for (const auto &S : Srv->sessions())
    S->stopIfIdle();
  auto Deadline = std::chrono::steady_clock::now() + Drain;
  Srv->Drained.wait_until(Lock, Deadline,
                          [Srv] { return Srv->Open.load() == 0; });
  size_t Left = Srv->Unanswered.load();
  for (const auto &S : Srv->sessions())
    S->abort();
  // The aborts run on the loop; give them a moment before stopping it.
  Srv->Drained.wait_for(Lock, std::chrono::milliseconds(100),
                        [Srv] { return Srv->Open.load() == 0; });
  {
    std::lock_guard<std::mutex> W(Srv->WatchMutex);
    Srv->WatchStop = true;
  }
  Srv->WatchWake.notify_all();
  Srv->Watchdog.join();
  for (const auto &Loop : Srv->Loops) {
    Loop->KeepRunning.reset();
    Loop->Io.stop();
  }
  Lock.unlock();
  // A loop thread still inside a handler (a function that does not return)
  // cannot be joined; it is left to end with the process.
  for (const auto &Loop : Srv->Loops) {
    std::vector<std::unique_ptr<Runner>> Runners;
    {
      // A helper looks at the list as it leaves: not joined under the lock.
      std::lock_guard<std::mutex> R(Loop->RunnersMutex);
      Runners.swap(Loop->Runners);
    }
    for (const auto &Run : Runners)
      if (Left == 0)
        Run->Thread.join();
      else
        Run->Thread.detach();
    if (Left != 0) { // a detached thread still uses its Runner
      std::lock_guard<std::mutex> R(Loop->RunnersMutex);
      for (auto &Run : Runners)
        Loop->Runners.push_back(std::move(Run));
    }
  }
  Srv->Detached = Left != 0;
  Lock.lock();
  Srv->Running = false;
  return Left;
}

size_t HttpServer::connections() const { return I->Open.load(); }

} // namespace cleave::rt::http
