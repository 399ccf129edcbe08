//===- Server.cpp - Serve a deployment's entries over HTTP ----------------===//
//
// The HTTP layer (Http.cpp) reads and frames requests on its event loop;
// this file decides every answer. Routing and the checks that need no work
// answer on the loop. Everything that runs a function goes to a pool of
// workers, admitted per function: at most `concurrency` run at once (the
// manifest's resources), the excess waits in a bounded queue, and past that
// the client gets 429 (the function's queue is full) or 503 (the server's
// is). A request still unanswered at its function's `timeoutSeconds` gets
// 504, and what it did is not committed.
//
//===----------------------------------------------------------------------===//

#include "cleave/Server.h"

#include "cleave/Executor.h"
#include "cleave/Http.h"
#include "cleave/Router.h"
#include "cleave/codec.h"
#include "cleave/frame.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <array>
#include <charconv>
#include <random>
#include <cctype>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

namespace cleave::rt {

namespace {

using Json = nlohmann::ordered_json;
using http::Request;
using http::Response;

constexpr const char *JsonType = "application/json";

void replyError(Response &Res, int Status, std::string_view Message,
                Json Extra = Json::object()) {
  Json Body = {{"error", Message}};
  Body.update(Extra);
  Res.Status = Status;
  Res.Body = Body.dump(-1, ' ', false, Json::error_handler_t::replace);
  Res.ContentType = JsonType;
}

void setBody(Response &Res, int Status, std::string Body) {
  Res.Status = Status;
  Res.Body = std::move(Body);
  Res.ContentType = JsonType;
}

using Digest = std::array<unsigned char, 32>;

/// SHA-256 of \p Text (OpenSSL's libcrypto).
Digest sha256(std::string_view Text) {
  Digest D{};
  unsigned Len = 0;
  EVP_Digest(Text.data(), Text.size(), D.data(), &Len, EVP_sha256(), nullptr);
  return D;
}

std::string hex(const unsigned char *Data, size_t N) {
  std::string Out;
  for (size_t I = 0; I < N; ++I)
    Out += fmt::format("{:02x}", Data[I]);
  return Out;
}

/// The RFC 6750 b64token alphabet.
bool tokenChar(unsigned char C) {
  return std::isalnum(C) || C == '-' || C == '.' || C == '_' || C == '~' ||
         C == '+' || C == '/' || C == '=';
}

/// Whether a Content-Type names multipart/form-data (media types compare
/// without case).
bool isMultipart(std::string_view Type) {
  while (!Type.empty() && (Type.front() == ' ' || Type.front() == '\t'))
    Type.remove_prefix(1);
  constexpr std::string_view Multipart = "multipart/form-data";
  if (Type.size() < Multipart.size())
    return false;
  for (size_t I = 0; I < Multipart.size(); ++I)
    if (std::tolower(static_cast<unsigned char>(Type[I])) != Multipart[I])
      return false;
  return true;
}

} // namespace

Result<void> checkIdempotencyKey(const std::vector<std::string_view> &Values) {
  if (Values.empty())
    return {};
  if (Values.size() > 1)
    return Error("Idempotency-Key is given more than once");
  std::string_view K = Values.front();
  bool Printable = !K.empty() && K.size() <= 255;
  for (unsigned char C : K)
    Printable &= C >= 0x21 && C <= 0x7e;
  if (!Printable)
    return Error("Idempotency-Key must be 1 to 255 visible ASCII characters");
  return {};
}

Result<std::string> queryArgs(const Request &Req) {
  Json Args = Json::object();
  for (const auto &[Key, Value] : Req.Query) {
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

namespace {

/// Decides when each request runs, per lane (a function): a lane runs at
/// most its limit at once and, over all lanes, at most Threads run. A
/// request that can run now runs on the loop thread that read it; the rest
/// wait in their lane's queue, and start in arrival order as running ones
/// finish. Nothing here blocks.
class Admission {
public:
  enum class Admit { RunNow, Queued, LaneFull, Full };
  using Job = std::function<void()>;

  Admission(unsigned Threads, size_t MaxQueued, std::vector<unsigned> Limits,
            size_t LaneQueue)
      : Threads(Threads), MaxQueued(MaxQueued), LaneQueue(LaneQueue),
        Lanes(Limits.size()) {
    for (size_t L = 0; L < Limits.size(); ++L)
      Lanes[L].Limit = Limits[L];
  }

  /// RunNow: the caller runs \p J, then calls finished(). Queued: \p J is
  /// kept, and finished() hands it out when its turn comes.
  Admit admit(size_t Lane, Job &J) {
    std::lock_guard<std::mutex> Lock(Mutex);
    LaneState &L = Lanes[Lane];
    if (L.Waiting.empty() && canRun(L)) {
      ++L.Active;
      ++Running;
      return Admit::RunNow;
    }
    if (Waiting >= MaxQueued)
      return Admit::Full;
    // A function's own queue bounds only a function with its own limit;
    // the others share the server's.
    if (L.Limit != 0 && L.Waiting.size() >= LaneQueue)
      return Admit::LaneFull;
    L.Waiting.push_back({NextSeq++, std::move(J)});
    ++Waiting;
    return Admit::Queued;
  }

  /// A job of \p Lane ended. Returns the next job to start, if one may
  /// start now (its lane and slot are taken for it), with its lane.
  std::optional<std::pair<size_t, Job>> finished(size_t Lane) {
    std::lock_guard<std::mutex> Lock(Mutex);
    --Lanes[Lane].Active;
    --Running;
    // The oldest waiting job whose lane has room.
    LaneState *Best = nullptr;
    size_t BestLane = 0;
    for (size_t I = 0; I < Lanes.size(); ++I) {
      LaneState &L = Lanes[I];
      if (!L.Waiting.empty() && canRun(L) &&
          (!Best || L.Waiting.front().first < Best->Waiting.front().first)) {
        Best = &L;
        BestLane = I;
      }
    }
    if (!Best)
      return std::nullopt;
    Job J = std::move(Best->Waiting.front().second);
    Best->Waiting.pop_front();
    --Waiting;
    ++Best->Active;
    ++Running;
    return std::make_pair(BestLane, std::move(J));
  }

private:
  struct LaneState {
    unsigned Limit = 0; ///< 0: none of its own
    unsigned Active = 0;
    std::deque<std::pair<uint64_t, Job>> Waiting;
  };

  bool canRun(const LaneState &L) const {
    return Running < Threads && (L.Limit == 0 || L.Active < L.Limit);
  }

  std::mutex Mutex;
  unsigned Threads;
  size_t MaxQueued, LaneQueue;
  size_t Running = 0, Waiting = 0;
  uint64_t NextSeq = 0;
  std::vector<LaneState> Lanes;
};

/// One admitted request: whoever claims it first answers it, the worker
/// that ran it or the deadline timer.
struct Pending {
  Pending(http::Responder R, const FunctionSpec &F, std::string Caller)
      : Reply(std::move(R)), F(F), Caller(std::move(Caller)) {}
  http::Responder Reply;
  const FunctionSpec &F;
  /// Who called ("" for an open entry): scopes the Idempotency-Key.
  std::string Caller;
  /// With an Idempotency-Key: the scoped key, the run this request claimed
  /// ("<key>#<generation>", the key the answer is committed under), the
  /// claim's record, and whether the run committed.
  std::string ClaimKey, RunKey, ClaimRecord;
  bool Committed = false;
  std::atomic<bool> Claimed{false};

  bool claim() { return !Claimed.exchange(true); }
  /// claim() for the worker, which may ask more than once.
  bool take() {
    if (!Mine)
      Mine = claim();
    return Mine;
  }

private:
  bool Mine = false; ///< the worker's: it claimed the request
};

} // namespace

Result<std::vector<std::pair<std::string, std::string>>>
loadTokens(const std::string &Path) {
  std::ifstream In(Path);
  if (!In)
    return Error(fmt::format("cannot read the token file '{}': {}", Path,
                             std::strerror(errno)));
  std::vector<std::pair<std::string, std::string>> Out;
  std::string Line;
  for (unsigned N = 1; std::getline(In, Line); ++N) {
    if (!Line.empty() && Line.back() == '\r')
      Line.pop_back();
    size_t First = Line.find_first_not_of(" \t");
    if (First == std::string::npos || Line[First] == '#')
      continue;
    std::string_view Rest = std::string_view(Line).substr(First);
    while (!Rest.empty() && (Rest.back() == ' ' || Rest.back() == '\t'))
      Rest.remove_suffix(1);
    std::string Name;
    std::string_view Token = Rest;
    if (size_t Space = Rest.find_first_of(" \t");
        Space != std::string_view::npos) {
      Name = std::string(Rest.substr(0, Space));
      Token = Rest.substr(Rest.find_first_not_of(" \t", Space));
    }
    auto Where = [&] { return fmt::format("{}:{}", Path, N); };
    if (Token.find_first_of(" \t") != std::string_view::npos)
      return Error(fmt::format("{}: expected a token, or a caller name and "
                               "a token, separated by a space",
                               Where()));
    for (unsigned char C : Token)
      if (!tokenChar(C))
        return Error(fmt::format("{}: a token holds only letters, digits "
                                 "and - . _ ~ + / =",
                                 Where()));
    if (Token.size() < 16)
      return Error(fmt::format("{}: the token is {} characters long; use "
                               "at least 16 (32 random bytes in hex, for "
                               "example)",
                               Where(), Token.size()));
    for (unsigned char C : Name)
      if (!std::isalnum(C) && C != '-' && C != '_' && C != '.')
        return Error(fmt::format("{}: a caller name holds only letters, "
                                 "digits and - _ .",
                                 Where()));
    if (Name.empty())
      Name = "token-" + hex(sha256(Token).data(), 6);
    for (const auto &[OtherName, OtherToken] : Out)
      if (OtherToken == Token)
        return Error(fmt::format("{}: the same token is listed twice",
                                 Where()));
    Out.emplace_back(std::move(Name), std::string(Token));
  }
  if (Out.empty())
    return Error(fmt::format("the token file '{}' lists no token", Path));
  return Out;
}

struct Server::Impl {
  Impl(Manifest M, const Module &Mod, StateStore &Store, ServerOptions Options,
       Router Routes, std::vector<std::string> AllState)
      : M(std::move(M)), Mod(Mod), Store(Store), Options(std::move(Options)),
        Routes(std::move(Routes)), Locks(AllState) {}

  /// The caller of a request to \p F: "" for an open entry, the token's
  /// caller name when the token is right; std::nullopt after answering
  /// 400 or 401 into \p Res.
  std::optional<std::string> authenticate(const Request &Req,
                                          const FunctionSpec &F,
                                          Response &Res) const;
  /// Per token: the caller it names and the SHA-256 of the token. Tokens
  /// are compared by digest, in constant time, all of them every time.
  std::vector<std::pair<std::string, Digest>> TokenDigests;

  /// Called on the HTTP loop for every request: answers what needs no
  /// work, admits the rest to the workers.
  void handle(Request Req, http::Responder Reply);
  /// Runs an admitted request on a worker.
  void run(size_t Index, Request &Req, Pending &P);
  void replyNoRoute(const Request &Req, Response &Res,
                    const RouteMatch &Match);
  void invoke(size_t Index, const Request &Req, const std::string &Args,
              bool ArgsAreStrings, Response &Res, Pending &P);
  void logFailure(const Request &Req, std::string_view Function,
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

  /// The request's Idempotency-Key, scoped to the caller and the entry,
  /// or "". A caller name holds no "/", so scopes cannot collide.
  std::string idempotencyKey(const Request &Req, const FunctionSpec &F,
                             const std::string &Caller) const {
    std::string K(Req.header("Idempotency-Key").value_or(""));
    if (K.empty())
      return K;
    return (Caller.empty() ? "" : "@" + Caller + "/") + F.Name + "/" + K;
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
  void invokeSteps(size_t Index, const Request &Req, const std::string &Args,
                   bool ArgsAreStrings, Response &Res, Pending &P);
  /// Answers with the outcome of a chain.
  void answerOutcome(size_t Index, const Request &Req, Executor::Outcome O,
                     Response &Res);

  /// What claiming an Idempotency-Key gave.
  struct Claim {
    enum KindT {
      Run,      ///< this request runs, as RunKey
      Replay,   ///< the run RunKey holds the key: answer as it does
      Mismatch, ///< the key belongs to a different request (422)
      Failed,   ///< the store failed (Message)
    } Kind = Failed;
    std::string RunKey, Record, Message;
  };
  /// Claims \p Key for a request whose hash is \p Hash. The key's record
  /// ("idemreq/<key>") names the run holding it (a generation, random),
  /// when it was claimed and by what request; the record is replaced by a
  /// compare-and-set, so exactly one request runs per generation. A record
  /// past the key's lifetime, or released by a run that committed nothing,
  /// gives way to a new generation, and what the old one left goes in the
  /// same commit.
  Claim claimKey(const std::string &Key, const std::string &Hash);
  /// Marks the claim of \p P released: its run committed nothing.
  void releaseClaim(Pending &P);
  /// Answers as run \p RunKey did, if it has an answer; false if not.
  bool replay(const std::string &RunKey, bool IsChain, size_t Index,
              const Request &Req, Response &Res);

  /// Runs \p J (of function \p Lane), then whatever may start after it.
  void runJob(size_t Lane, Admission::Job J, bool OnLoop);
  /// Answers 504 to the requests past their deadline; on its own thread,
  /// so that busy loop threads cannot delay it.
  void sweepDeadlines();

  std::unique_ptr<Admission> Admit;
  /// Functions run on the loop thread that read their request (no
  /// hand-off) while fewer than InlineLimit do; the rest on these threads.
  std::atomic<unsigned> Inline{0};
  unsigned InlineLimit = 1;
  /// Jobs that may run but found every inline slot taken: the next loop
  /// thread to finish one takes the oldest, with no hand-off. The sweep
  /// moves one that waited longer than BacklogWait to a worker, as the
  /// slots may be held by slow functions.
  std::mutex BacklogMutex;
  struct Backlogged {
    std::chrono::steady_clock::time_point Since;
    size_t Lane;
    Admission::Job Job;
  };
  std::deque<Backlogged> Backlog;
  static constexpr std::chrono::milliseconds BacklogWait{10};
  /// Takes an inline slot for the oldest backlogged job, if both exist, and
  /// runs it on this loop thread once the current handler returns.
  void takeBacklog();
  std::unique_ptr<boost::asio::thread_pool> Workers;
  /// Requests admitted and not answered, with their deadlines. Claimed
  /// ones are dropped at each sweep, so this holds about what is in flight.
  std::mutex DeadlineMutex;
  std::condition_variable DeadlineWake;
  std::vector<std::pair<std::chrono::steady_clock::time_point,
                        std::weak_ptr<Pending>>>
      Deadlines;
  bool DeadlineStop = false;
  std::thread DeadlineThread;
  /// Removes what expired Idempotency-Keys left in the store, every
  /// KeySweepInterval, on its own thread (DeadlineMutex guards the stop).
  std::condition_variable KeySweepWake;
  void sweepKeysLoop();
  /// One pass: the records of expired or released keys, then the answers
  /// of runs whose key has moved on.
  void sweepKeys();
  std::thread KeySweepThread;
  std::chrono::seconds KeySweepInterval{60};
  std::unique_ptr<http::HttpServer> Http;
  std::mutex StopMutex;
  bool Running = false;
  int BoundPort = 0;
};

void Server::Impl::replyNoRoute(const Request &Req, Response &Res,
                                const RouteMatch &Match) {
  if (Match.Status == RouteMatch::NotFound) {
    replyError(Res, 404,
               fmt::format("no route for {} {}", Req.Method, Req.Path));
    return;
  }
  replyError(
      Res, 405,
      fmt::format("method {} is not allowed for {}", Req.Method, Req.Path),
      {{"allowed", Match.Allowed}});
  Res.Headers.emplace_back("Allow",
                           fmt::format("{}", fmt::join(Match.Allowed, ", ")));
}

std::optional<std::string>
Server::Impl::authenticate(const Request &Req, const FunctionSpec &F,
                           Response &Res) const {
  bool Required = F.Auth == "token" || (F.Auth.empty() && !TokenDigests.empty());
  if (!Required)
    return std::string();
  // RFC 6750: no credentials is 401 with a challenge; a malformed header
  // is 400 invalid_request; a wrong token is 401 invalid_token.
  std::vector<std::string_view> Given = Req.headers("Authorization");
  auto Refuse = [&](int Status, std::string_view Code,
                    std::string_view Message) {
    replyError(Res, Status, Message);
    Res.Headers.emplace_back(
        "WWW-Authenticate",
        Code.empty() ? std::string("Bearer realm=\"cleave\"")
                     : fmt::format("Bearer realm=\"cleave\", error=\"{}\"",
                                   Code));
    return std::nullopt;
  };
  if (Given.empty())
    return Refuse(401, "", fmt::format("'{}' requires a bearer token "
                                       "(Authorization: Bearer ...)",
                                       F.Name));
  std::string_view H = Given.front();
  constexpr std::string_view Scheme = "bearer ";
  bool SchemeOk = Given.size() == 1 && H.size() > Scheme.size();
  for (size_t I = 0; SchemeOk && I < Scheme.size(); ++I)
    SchemeOk = std::tolower(static_cast<unsigned char>(H[I])) == Scheme[I];
  if (!SchemeOk)
    return Refuse(400, "invalid_request",
                  "the Authorization header must be one 'Bearer <token>'");
  std::string_view Token = H.substr(Scheme.size());
  Digest D = sha256(Token);
  // Every configured token is compared, none skipped: the time taken says
  // nothing about which one, if any, matched, or how much of it.
  const std::string *Found = nullptr;
  for (const auto &[Name, Known] : TokenDigests)
    if (CRYPTO_memcmp(D.data(), Known.data(), D.size()) == 0)
      Found = &Name;
  if (!Found)
    return Refuse(401, "invalid_token", "the bearer token is not valid");
  return *Found;
}

void Server::Impl::handle(Request Req, http::Responder Reply) {
  Response Res;
  RouteMatch Match = Routes.matchPath(Req.Method, Req.Path);
  if (Match.Status != RouteMatch::Found) {
    replyNoRoute(Req, Res, Match);
    return Reply(std::move(Res));
  }
  const FunctionSpec &Fn = M.Functions[Match.Index];
  std::optional<std::string> Caller = authenticate(Req, Fn, Res);
  if (!Caller)
    return Reply(std::move(Res));
  // A multipart body is never the JSON object an entry takes.
  if (auto Type = Req.header("Content-Type"); Type && isMultipart(*Type)) {
    replyError(Res, 415,
               "request body must be a JSON object, not "
               "multipart/form-data");
    return Reply(std::move(Res));
  }
  // The key is checked before any work.
  if (Result<void> K = checkIdempotencyKey(Req.headers("Idempotency-Key"));
      !K) {
    replyError(Res, 400, K.error().message());
    return Reply(std::move(Res));
  }

  size_t Index = Match.Index;
  const FunctionSpec &F = Fn;
  // Not make_shared: the deadline list's weak_ptr would keep the whole
  // object's memory until the next sweep.
  std::shared_ptr<Pending> P(
      new Pending(std::move(Reply), F, std::move(*Caller)));
  // The deadline runs from admission: a request that waited in the queue
  // past its function's timeout is answered 504 without running.
  if (F.Resources.Timeout > 0) {
    std::lock_guard<std::mutex> Lock(DeadlineMutex);
    Deadlines.emplace_back(std::chrono::steady_clock::now() +
                               std::chrono::seconds(F.Resources.Timeout),
                           P);
  }
  auto Shared = std::make_shared<Request>(std::move(Req));
  Admission::Job Job = [this, Index, Shared, P] {
    if (P->Claimed)
      return; // past its deadline while queued
    run(Index, *Shared, *P);
  };
  Admission::Admit A = Admit->admit(Index, Job);
  // Run on this loop thread while fewer than InlineLimit run on loops, out
  // of the connection's strand (which must stay free to send a 504 at the
  // deadline); otherwise backlogged (see takeBacklog).
  if (A == Admission::Admit::RunNow) {
    if (Inline.fetch_add(1) < InlineLimit)
      return Http->defer([this, Index, Job = std::move(Job)]() mutable {
        runJob(Index, std::move(Job), /*OnLoop=*/true);
      });
    Inline.fetch_sub(1);
    {
      std::lock_guard<std::mutex> L(BacklogMutex);
      Backlog.push_back(
          {std::chrono::steady_clock::now(), Index, std::move(Job)});
    }
    // A slot may have come free since: then nobody else would look.
    return takeBacklog();
  }
  if (A == Admission::Admit::Queued || !P->claim())
    return;
  Response Busy;
  Busy.Headers.emplace_back("Retry-After", "1");
  if (A == Admission::Admit::LaneFull)
    replyError(Busy, 429,
               fmt::format("too many requests for '{}': {} running and the "
                           "queue is full",
                           F.Name, F.Resources.Concurrency));
  else
    replyError(Busy, 503, "the server is busy: its request queue is full");
  P->Reply(std::move(Busy));
}

void Server::Impl::takeBacklog() {
  if (Inline.fetch_add(1) >= InlineLimit) {
    Inline.fetch_sub(1);
    return;
  }
  std::unique_lock<std::mutex> L(BacklogMutex);
  if (Backlog.empty()) {
    L.unlock();
    Inline.fetch_sub(1);
    return;
  }
  Backlogged B = std::move(Backlog.front());
  Backlog.pop_front();
  L.unlock();
  Http->defer([this, Lane = B.Lane, Job = std::move(B.Job)]() mutable {
    runJob(Lane, std::move(Job), /*OnLoop=*/true);
  });
}

void Server::Impl::runJob(size_t Lane, Admission::Job J, bool OnLoop) {
  J();
  J = nullptr;
  if (OnLoop) {
    Inline.fetch_sub(1);
    takeBacklog();
  }
  // What waited for this one starts on a worker: this thread has the
  // answer it just gave to write.
  if (auto Next = Admit->finished(Lane))
    boost::asio::post(*Workers, [this, Next = std::move(*Next)]() mutable {
      runJob(Next.first, std::move(Next.second), false);
    });
}

void Server::Impl::sweepDeadlines() {
  std::unique_lock<std::mutex> Lock(DeadlineMutex);
  while (!DeadlineStop) {
    DeadlineWake.wait_for(Lock, BacklogWait);
    auto Now = std::chrono::steady_clock::now();
    // Backlogged jobs the loop threads did not take in time go to workers.
    {
      std::lock_guard<std::mutex> L(BacklogMutex);
      while (!Backlog.empty() && Now - Backlog.front().Since > BacklogWait) {
        Backlogged B = std::move(Backlog.front());
        Backlog.pop_front();
        boost::asio::post(*Workers, [this, Lane = B.Lane,
                                     Job = std::move(B.Job)]() mutable {
          runJob(Lane, std::move(Job), false);
        });
      }
    }
    std::vector<std::shared_ptr<Pending>> Late;
    std::erase_if(Deadlines, [&](auto &D) {
      std::shared_ptr<Pending> P = D.second.lock();
      if (!P || P->Claimed)
        return true;
      if (D.first > Now)
        return false;
      Late.push_back(std::move(P));
      return true;
    });
    Lock.unlock();
    for (const std::shared_ptr<Pending> &P : Late) {
      if (!P->claim())
        continue;
      const FunctionSpec &F = P->F;
      fmt::print(stderr,
                 "cleave-run: function {} passed its timeout of {} s; "
                 "answered 504, and nothing it does is committed\n",
                 F.Name, F.Resources.Timeout);
      Response Late;
      replyError(Late, 504,
                 fmt::format("'{}' did not finish within its timeout of {} "
                             "s",
                             F.Name, F.Resources.Timeout));
      P->Reply(std::move(Late));
    }
    Late.clear();
    Lock.lock();
  }
}

void Server::Impl::run(size_t Index, Request &Req, Pending &P) {
  Response Res;
  Res.Status = -1;
  const std::string &Method = Req.Method;
  // GET and DELETE take their arguments from the query string (a DELETE
  // body is read and dropped); the others take a JSON object in the body.
  if (Method == "GET" || Method == "DELETE") {
    Result<std::string> Args = queryArgs(Req);
    if (!Args)
      replyError(Res, 400, Args.error().message());
    else
      invoke(Index, Req, *Args, /*ArgsAreStrings=*/true, Res, P);
  } else {
    std::string Text = Req.Body.empty() ? std::string("{}")
                                        : std::move(Req.Body);
    // Parsed as the handler parses it (codec::parseJson: numbers exact), so
    // an error names where in the body it is. A handler only ever sees a
    // JSON object; it still gets the original text.
    codec::Json Parsed;
    std::string Why;
    if (!codec::parseJson(Text, Parsed, Why))
      replyError(Res, 400, "malformed JSON: " + Why);
    else if (!Parsed.is_object())
      replyError(Res, 400, "request body must be a JSON object");
    else
      invoke(Index, Req, Text, /*ArgsAreStrings=*/false, Res, P);
  }
  if (Res.Status == -1 || !P.take())
    return; // answered by the deadline
  // Nothing goes out before the state it was built on is durable: with
  // --durability=fsync, after the next sync of the store; the thread goes
  // on meanwhile.
  auto Answer = std::make_shared<std::pair<http::Responder, Response>>(
      std::move(P.Reply), std::move(Res));
  Store.whenDurable([Answer](Result<void> Synced) {
    if (!Synced) {
      fmt::print(stderr, "cleave-run: {}\n", Synced.error().message());
      Answer->second = Response();
      replyError(Answer->second, 500,
                 "the state store could not make this request's writes "
                 "durable; they may or may not survive a power cut");
    }
    Answer->first(std::move(Answer->second));
  });
}

void Server::Impl::logFailure(const Request &Req, std::string_view Function,
                              std::string_view What) {
  // One fmt::print is one write, so concurrent lines do not interleave.
  fmt::print(stderr, "cleave-run: {} {} (function {}): {}\n", Req.Method,
             Req.Path, Function, What);
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

namespace {

/// An Idempotency-Key's record: the generation holding it, when it was
/// claimed (Unix seconds), the hash of the request, and whether its run
/// gave it up.
struct KeyRecord {
  int64_t Gen = 0;
  int64_t Created = 0;
  std::string Hash;
  bool Released = false;

  std::string encode() const {
    std::string Out;
    frame::encodeFrame(Out, Gen, Created, Hash, Released);
    return Out;
  }
  bool decode(std::string_view Bytes) {
    return bool(frame::decodeFrame(Bytes, Gen, Created, Hash, Released));
  }
};

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A new generation for an Idempotency-Key: random, so that a key whose
/// record was swept away never hands a later request the generation of an
/// earlier run, which may still be running. Below 10^18: the SQLite store
/// keys an id by its trailing number when it has at most 18 digits.
int64_t newGeneration() {
  thread_local std::mt19937_64 Random(std::random_device{}());
  return static_cast<int64_t>(Random() % 1000000000000000000ull);
}

/// Adds to \p C the erasure of what run \p Gen of key \p Key left: its
/// answer and its dedup ids ("idemreq/<key>#<gen>" is what claimed a
/// generation in files written before claims were compare-and-set).
void forgetRun(CommitRequest &C, const std::string &Key, int64_t Gen) {
  std::string Run = Key + "#" + std::to_string(Gen);
  C.Meta.emplace_back("idem/" + Run, std::string());
  C.Forget.push_back("idem/" + Run);
  C.Forget.push_back("idemreq/" + Run);
}

} // namespace

Server::Impl::Claim Server::Impl::claimKey(const std::string &Key,
                                           const std::string &Hash) {
  Claim C;
  const std::string Name = "idemreq/" + Key;
  for (unsigned Attempt = 0; Attempt < MaxAttempts; ++Attempt) {
    Result<std::optional<std::string>> Stored = Store.meta(Name);
    if (!Stored) {
      C.Message = Stored.error().message();
      return C;
    }
    KeyRecord Old;
    bool Have = Stored->has_value();
    if (Have && !Old.decode(**Stored)) {
      C.Message = "the record of an idempotency key is damaged";
      return C;
    }
    int64_t Now = unixNow();
    if (Have && !Old.Released &&
        Now - Old.Created < static_cast<int64_t>(Options.IdempotencyTtl)) {
      if (Old.Hash != Hash) {
        C.Kind = Claim::Mismatch;
        return C;
      }
      C.RunKey = Key + "#" + std::to_string(Old.Gen);
      C.Kind = Claim::Replay;
      return C;
    }
    KeyRecord New;
    New.Gen = newGeneration();
    New.Created = Now;
    New.Hash = Hash;
    CommitRequest R;
    R.MetaExpect.emplace_back(Name, *Stored);
    R.Meta.emplace_back(Name, New.encode());
    if (Have)
      forgetRun(R, Key, Old.Gen);
    Result<CommitStatus> Done = Store.commit(R);
    if (!Done) {
      C.Message = Done.error().message();
      return C;
    }
    bool Mine = *Done == CommitStatus::Committed;
    if (!Mine) {
      // A commit sent again after a broken connection conflicts with its
      // own first attempt: the record is then this claim's.
      Result<std::optional<std::string>> Now = Store.meta(Name);
      Mine = Now && *Now && **Now == R.Meta.front().second;
    }
    if (Mine) {
      C.Kind = Claim::Run;
      C.RunKey = Key + "#" + std::to_string(New.Gen);
      C.Record = New.encode();
      return C;
    }
    // Another request claimed the key first: look again.
  }
  C.Message = "the idempotency key kept being claimed by other requests";
  return C;
}

void Server::Impl::sweepKeys() {
  const std::string Records = "idemreq/";
  const auto Ttl = static_cast<int64_t>(Options.IdempotencyTtl);
  int64_t Now = unixNow();
  auto Report = [](const Error &E) {
    fmt::print(stderr,
               "cleave-run: cannot remove expired idempotency keys: {}\n",
               E.message());
  };
  // Keys past their lifetime, or given up by a run that committed
  // nothing: the record goes with the run's answer and dedup ids, provided
  // that no request claimed the key again meanwhile.
  Result<void> Scanned = Store.scanMeta(
      Records, [&](const std::string &Name, const std::string &Bytes) {
        // Every record under the prefix is a key's (a key may hold '#').
        KeyRecord R;
        if (!R.decode(Bytes) || (!R.Released && Now - R.Created < Ttl))
          return;
        CommitRequest C;
        C.MetaExpect.emplace_back(Name, Bytes);
        C.Meta.emplace_back(Name, std::string());
        forgetRun(C, Name.substr(Records.size()), R.Gen);
        if (Result<CommitStatus> Done = Store.commit(C); !Done)
          Report(Done.error());
      });
  if (!Scanned)
    return Report(Scanned.error());
  // Answers of runs that are no longer their key's generation: a run that
  // finished after its key expired or was claimed again. A generation
  // never comes back, so one that is not its key's now never will be.
  Scanned = Store.scanMeta(
      "idem/", [&](const std::string &Name, const std::string &Bytes) {
        size_t Hash = Name.rfind('#');
        if (Hash == std::string::npos)
          return;
        std::string Key = Name.substr(5, Hash - 5);
        int64_t Gen = 0;
        std::string_view Digits = std::string_view(Name).substr(Hash + 1);
        auto [End, Ec] = std::from_chars(
            Digits.data(), Digits.data() + Digits.size(), Gen);
        if (Ec != std::errc() || End != Digits.data() + Digits.size())
          return;
        Result<std::optional<std::string>> Stored =
            Store.meta(Records + Key);
        if (!Stored)
          return Report(Stored.error());
        KeyRecord R;
        if (*Stored && (!R.decode(**Stored) || R.Gen == Gen))
          return;
        CommitRequest C;
        C.MetaExpect.emplace_back(Name, Bytes);
        forgetRun(C, Key, Gen);
        if (Result<CommitStatus> Done = Store.commit(C); !Done)
          Report(Done.error());
      });
  if (!Scanned)
    Report(Scanned.error());
}

void Server::Impl::sweepKeysLoop() {
  std::unique_lock<std::mutex> Lock(DeadlineMutex);
  while (!KeySweepWake.wait_for(Lock, KeySweepInterval,
                                [&] { return DeadlineStop; })) {
    Lock.unlock();
    sweepKeys();
    Lock.lock();
  }
}

void Server::Impl::releaseClaim(Pending &P) {
  KeyRecord R;
  if (!R.decode(P.ClaimRecord))
    return;
  R.Released = true;
  CommitRequest C;
  C.Meta.emplace_back("idemreq/" + P.ClaimKey, R.encode());
  // Best effort: a claim left behind is given up at its lease.
  (void)Store.commit(C);
}

bool Server::Impl::replay(const std::string &RunKey, bool IsChain,
                          size_t Index, const Request &Req, Response &Res) {
  if (IsChain) {
    auto Stored = Steps->response(RunKey);
    if (!Stored) {
      replyError(Res, 500, Stored.error().message());
      return true;
    }
    if (!*Stored)
      return false;
    answerOutcome(Index, Req, std::move(**Stored), Res);
    return true;
  }
  auto Stored = storedResponse(RunKey);
  if (!Stored) {
    replyError(Res, 500, Stored.error().message());
    return true;
  }
  if (!*Stored)
    return false;
  Res.Status = (*Stored)->first;
  if (Res.Status != 204)
    Res.Body = (*Stored)->second;
  return true;
}

void Server::Impl::invokeSteps(size_t Index, const Request &Req,
                               const std::string &Args, bool ArgsAreStrings,
                               Response &Res, Pending &P) {
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
    return setBody(Res, Status, Frame);
  }
  // The whole chain runs before the entry answers. With an idempotency key
  // (the run it claimed) its outcome is kept for a repeated request.
  const std::string &Key = P.RunKey;
  Executor::Outcome O = Steps->run(Machine, std::move(Frame), Key);
  if (!Key.empty() && (O.Status == Executor::CLEAVE_STEP_DUPLICATE ||
                       O.Status == Executor::CLEAVE_STEP_ELSEWHERE)) {
    // Another run holds this run key, or took this chain over: it started
    // before a crash (recovery finishes it), runs in another process, or
    // is still going. Wait for its outcome.
    for (int Wait = 0; Wait < 3000; ++Wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      auto Stored = Steps->response(Key);
      if (Stored && *Stored) {
        O = std::move(**Stored);
        break;
      }
    }
  }
  // A chain that started commits its outcome, whatever it is, except when
  // its commits kept conflicting.
  P.Committed = O.Status != Executor::CLEAVE_STEP_UNAVAILABLE;
  if (O.Status == Executor::CLEAVE_STEP_ELSEWHERE) {
    // Another cleave-run on the same store took the chain over; it ran,
    // and runs on, there. Its outcome is recorded only under a key (and
    // was not yet, after the wait above): say so, rather than claim the
    // request failed.
    Res.Status = 202;
    Res.Body =
        Json{{"status", "running elsewhere"},
             {"detail", fmt::format("'{}' was taken over by another "
                                    "cleave-run sharing the state store, "
                                    "which finishes it; its outcome is not "
                                    "known here{}",
                                    F.Name,
                                    Key.empty() ? " (with an Idempotency-Key, "
                                                  "a retry returns it)"
                                                : "")}}
            .dump();
    return;
  }
  answerOutcome(Index, Req, std::move(O), Res);
}

void Server::Impl::answerOutcome(size_t Index, const Request &Req,
                                 Executor::Outcome O, Response &Res) {
  const FunctionSpec &F = M.Functions[Index];
  const cleave_machine_v1 *Mach = Mod.findMachine(F.Machine);
  if (O.Status == Executor::CLEAVE_STEP_DUPLICATE ||
      O.Status == Executor::CLEAVE_STEP_UNAVAILABLE) {
    return setBody(Res, O.Status, O.Body);
  }
  if (O.Status != CLEAVE_STEP_DONE) {
    if (O.Status != CLEAVE_STEP_BAD_REQUEST)
      logFailure(Req, F.Name, O.Body);
    return setBody(Res, O.Status == CLEAVE_STEP_BAD_REQUEST ? 400 : 500, O.Body);
  }
  cleave_reply_v1 Value{500, nullptr, 0};
  auto [VStatus, Text] =
      (Mach->value_to_json(O.Body.data(), O.Body.size(), &Value),
       adapterReply(Mod, Value));
  Res.Status = VStatus;
  if (VStatus == 204)
    return;
  if (VStatus != 200 || Text.empty()) {
    logFailure(Req, F.Name, "cannot encode the value as JSON");
    return replyError(Res, 500,
                      fmt::format("'{}' returned a value that cannot be "
                                  "encoded",
                                  F.Name));
  }
  setBody(Res, Res.Status, Text);
}

void Server::Impl::invoke(size_t Index, const Request &Req,
                          const std::string &Args, bool ArgsAreStrings,
                          Response &Res, Pending &P) {
  const FunctionSpec &F = M.Functions[Index];
  // A store that cannot keep what it acknowledges (its file deleted or
  // replaced under the server) takes no request: 503 until an operator
  // restarts, and the reason in the log.
  if (Result<void> H = Store.healthy(); !H) {
    logFailure(Req, F.Name, H.error().message());
    Res.Headers.emplace_back("Retry-After", "30");
    return replyError(Res, 503, H.error().message());
  }
  bool IsChain = EntryMachine[Index] >= 0;
  // With an Idempotency-Key, the request claims the key's next run, or
  // gets the answer of the run that holds it (see claimKey).
  std::string Key = idempotencyKey(Req, F, P.Caller);
  if (!Key.empty()) {
    std::string Hash =
        hex(sha256(Req.Method + "\n" + Req.Path + "\n" + Args).data(), 32);
    Claim C = claimKey(Key, Hash);
    if (C.Kind == Claim::Failed) {
      logFailure(Req, F.Name, C.Message);
      return replyError(Res, 500, C.Message);
    }
    if (C.Kind == Claim::Mismatch)
      return replyError(Res, 422,
                        "this Idempotency-Key was used with a different "
                        "request");
    // The run holding the key may have answered; if not, it may still be
    // running, or its process may have died before committing. Running
    // again under the same run key is safe either way: the run's commit
    // records the key's dedup id, so one of them commits and the other
    // waits for its answer.
    if (C.Kind == Claim::Replay && replay(C.RunKey, IsChain, Index, Req, Res))
      return;
    P.RunKey = C.RunKey;
    if (C.Kind == Claim::Run) {
      P.ClaimKey = Key;
      P.ClaimRecord = C.Record;
    }
  }
  // A claim whose run commits nothing (a runtime failure, a deadline) is
  // released, so that a retry runs.
  struct Release {
    Impl &I;
    Pending &P;
    ~Release() {
      if (!P.ClaimKey.empty() && !P.Committed)
        I.releaseClaim(P);
    }
  } Releaser{*this, P};
  if (IsChain)
    return invokeSteps(Index, Req, Args, ArgsAreStrings, Res, P);
  // The locks are held from before the handler reads any state until its
  // writes are applied, which makes each invocation atomic and isolated.
  Key = P.RunKey;
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
    // Past its deadline the client has had its 504, so nothing this call
    // did may remain; once claimed here, the deadline no longer answers.
    if (!P.take()) {
      Res.Status = -1;
      return;
    }
    Result<CommitStatus> Committed = (*Txn)->commit(std::move(Record));
    if (!Committed)
      return Fail(fmt::format("cannot save the state written by '{}': {}",
                              F.Name, Committed.error().message()));
    P.Committed = *Committed == CommitStatus::Committed;
    if (*Committed == CommitStatus::Duplicate) {
      // Another request with this key committed first: answer as it did.
      Txn->reset();
      for (int Wait = 0; Wait < 3000; ++Wait) {
        if (auto Stored = storedResponse(Key); Stored && *Stored) {
          Res.Status = (*Stored)->first;
          if (Res.Status != 204)
            Res.Body = (*Stored)->second;
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
    Res.Status = Reply.status;
    if (Reply.status == 204)
      return;
    if (Text.empty())
      return replyError(Res, Reply.status,
                        fmt::format("'{}' failed without a message", F.Name));
    return setBody(Res, Res.Status, Text);
  }
}

//===----------------------------------------------------------------------===//
// Server
//===----------------------------------------------------------------------===//

Server::Server(std::unique_ptr<Impl> I) : I(std::move(I)) {}

Server::~Server() {
  stop();
  // The HTTP layer goes first: nothing can be admitted after it.
  I->Http.reset();
  if (I->Workers)
    I->Workers->join();
  {
    std::lock_guard<std::mutex> Lock(I->DeadlineMutex);
    I->DeadlineStop = true;
  }
  I->DeadlineWake.notify_all();
  I->KeySweepWake.notify_all();
  if (I->DeadlineThread.joinable())
    I->DeadlineThread.join();
  if (I->KeySweepThread.joinable())
    I->KeySweepThread.join();
}

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

  Options.Http.MaxBodyBytes = Options.MaxBodyBytes;
  for (const FunctionSpec &F : M.Functions)
    if (F.isEntry() && F.Auth == "token" && Options.Tokens.empty())
      return Error(fmt::format("entry '{}' requires a bearer token "
                               "(auth=token), but no tokens were given "
                               "(--auth-token-file)",
                               F.Name));
  auto I = std::make_unique<Impl>(std::move(M), Mod, Store, std::move(Options),
                                  Routes.take(), AllState);
  for (const auto &[Name, Token] : I->Options.Tokens)
    I->TokenDigests.emplace_back(Name, sha256(Token));
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
  std::vector<unsigned> Concurrency;
  for (const FunctionSpec &F : I->M.Functions)
    Concurrency.push_back(static_cast<unsigned>(
        F.Resources.Concurrency > 0 ? F.Resources.Concurrency
                                    : I->Options.DefaultConcurrency));
  unsigned Threads = I->Options.Threads
                         ? I->Options.Threads
                         : std::max(8u, 2 * std::thread::hardware_concurrency());
  I->Admit = std::make_unique<Admission>(Threads, I->Options.MaxQueued,
                                         std::move(Concurrency),
                                         I->Options.MaxQueuedPerFunction);
  I->DeadlineThread = std::thread([Impl = I.get()] { Impl->sweepDeadlines(); });
  // Expired keys stay at most a quarter of their lifetime (5 min at most)
  // past it.
  I->KeySweepInterval = std::chrono::seconds(
      std::clamp<uint64_t>(I->Options.IdempotencyTtl / 4, 1, 300));
  I->KeySweepThread = std::thread([Impl = I.get()] { Impl->sweepKeysLoop(); });
  Impl *Raw = I.get();
  // An event loop per core, each reading, running and answering its own
  // connections' requests on one thread (the HTTP layer adds a helper to a
  // loop held by a slow function). More would only take turns on the cores.
  unsigned Cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned Loops = Cores;
  I->InlineLimit = Cores;
  I->Workers = std::make_unique<boost::asio::thread_pool>(Threads);
  I->Http = std::make_unique<http::HttpServer>(
      I->Options.Http,
      [Raw](Request Req, http::Responder Reply) {
        Raw->handle(std::move(Req), std::move(Reply));
      },
      Loops);
  return std::unique_ptr<Server>(new Server(std::move(I)));
}

Result<int> Server::start() {
  std::lock_guard<std::mutex> Lock(I->StopMutex);
  if (I->Running)
    return Error("the server is already running");
  const ServerOptions &O = I->Options;
  Result<int> Port = I->Http->start(O.Host, O.Port);
  if (!Port)
    return Port.error();
  I->Running = true;
  I->BoundPort = *Port;
  return *Port;
}

size_t Server::stop() {
  std::lock_guard<std::mutex> Lock(I->StopMutex);
  if (!I->Running)
    return 0;
  I->Running = false;
  // Requests still queued are run and answered within the drain time too:
  // they are connections in the middle of a request.
  size_t Left = I->Http->stop(I->Options.Drain);
  // A worker still inside a function cannot be joined: the process ends
  // with it (cleave-run exits at once).
  if (Left != 0)
    (void)I->Workers.release();
  I->BoundPort = 0;
  return Left;
}

int Server::port() const { return I->BoundPort; }

size_t Server::entryCount() const { return I->Routes.size(); }

} // namespace cleave::rt
