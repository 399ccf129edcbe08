//===- RedisStore.cpp - State in Redis ------------------------------------===//
//
// The backend for runs across processes and machines: the state, queue and
// bookkeeping in one Redis server, reached through hiredis. Every key is
// under "cleave:":
//
//   cleave:schema        the layout version of the keys below ("1")
//   cleave:s:<key>       a hash: v = the value, n = its version
//   cleave:keys          a sorted set of every state key, all at score 0, so
//                        that ZRANGEBYLEX lists a prefix in key order
//   cleave:queue         a hash: message id -> "<sequence number>:<body>"
//   cleave:seq           the last sequence number given to a message
//   cleave:done          a set of dedup ids
//   cleave:meta          a hash: bookkeeping records
//
// A commit is one Lua script, run by its SHA1 (EVALSHA) in one round trip,
// which Redis runs atomically: it checks the versions and dedup ids and
// applies everything, or nothing. The commit script names the keys under
// "cleave:" it always uses itself, and the list script builds the keys of
// the values it lists, which a single server allows; Redis Cluster would
// not (the keys span hash slots anyway).
//
// On loopback the script's own work is a good part of a commit beside the
// round trip (a step's commit script runs about 10 us on the server, a SET
// 0.3 us, per INFO commandstats on the development machine), so it makes
// few calls with few arguments: the queue is one hash, not a sorted set
// beside a hash (pending(), which only a restarting runtime calls, sorts
// it), a dedup id is checked and recorded by one SADD, a write whose
// version the step read is one HSET, and a key enters cleave:keys only on
// its first write.
//
// One connection guarded by a mutex: Redis runs commands one at a time, so a
// second connection would buy only overlap of network round trips.
//
//===----------------------------------------------------------------------===//

#include "cleave/StateStore.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <poll.h>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cleave::rt {

namespace {

constexpr std::string_view SchemaKey = "cleave:schema";
constexpr std::string_view SchemaVersion = "1";
constexpr std::string_view StatePrefix = "cleave:s:"; // 9 bytes: see the script
constexpr std::string_view KeysKey = "cleave:keys";
constexpr std::string_view QueueKey = "cleave:queue";
constexpr std::string_view MetaKey = "cleave:meta";

/// How long connecting may take, and how long one command may wait for its
/// reply, in seconds.
constexpr long ConnectTimeoutSeconds = 2;
constexpr long CommandTimeoutSeconds = 10;

// KEYS: the hash of every Expect key, then the hash of every Writes key.
// ARGV: 1 the nine counts (Expect, Done, Writes, Dequeue, Enqueue, Meta,
// Consume, MetaExpect, Forget), three bytes each, big-endian; then the
// expected versions, (key, value) per expected record (an empty value: the
// record is absent, as a stored record is never empty), the ids of the
// messages to consume, the dedup ids, (new version, value) per write, the
// ids to dequeue, (id, body) per message, (key, value) per record, the
// dedup ids to erase. A write's new version is the one its
// key's Expect implies (the caller counts repeated writes of one key),
// or empty when the key has no Expect: the script then increments the
// stored one.
// Returns 0 committed, 1 conflict, 2 duplicate (CommitStatus's order).
//
// Measured on the development machine (Redis 7.0), a script's time on the
// server goes to its redis.call()s (about 0.6 us each) and their arguments
// (about 0.15 us each), and every line of Lua costs some 30 ns: the counts
// are bytes (tonumber() on six decimal strings costs more than a
// redis.call), the keys the script finds by name are literals rather than
// KEYS, and a write whose version is known is one HSET of both fields.
constexpr const char *CommitScript = R"lua(
local e1, e2, e3, d1, d2, d3, w1, w2, w3, q1, q2, q3, n1, n2, n3, m1, m2, m3,
  c1, c2, c3, x1, x2, x3, f1, f2, f3 = string.byte(ARGV[1], 1, 27)
local nExpect, nDone, nWrites = (e1 * 256 + e2) * 256 + e3,
  (d1 * 256 + d2) * 256 + d3, (w1 * 256 + w2) * 256 + w3
local nDequeue, nEnqueue, nMeta = (q1 * 256 + q2) * 256 + q3,
  (n1 * 256 + n2) * 256 + n3, (m1 * 256 + m2) * 256 + m3
local nConsume = (c1 * 256 + c2) * 256 + c3
local nMetaExpect, nForget = (x1 * 256 + x2) * 256 + x3,
  (f1 * 256 + f2) * 256 + f3
local a = 2
for k = 1, nExpect do
  if (redis.call('HGET', KEYS[k], 'n') or '0') ~= ARGV[a] then return 1 end
  a = a + 1
end
for i = 1, nMetaExpect do
  if (redis.call('HGET', 'cleave:meta', ARGV[a]) or '') ~= ARGV[a + 1] then
    return 1
  end
  a = a + 2
end
-- A message to consume must still be queued: checked before anything is
-- written, taken out of the queue once the dedup ids pass too.
local consume = a
for i = 0, nConsume - 1 do
  if redis.call('HEXISTS', 'cleave:queue', ARGV[a + i]) == 0 then return 2 end
end
a = a + nConsume
-- SADD both checks and records an id. On one that was there already, the
-- ids this commit added are taken out again: the script is atomic, so no
-- one saw them. An id listed twice in this commit is no duplicate.
for i = 0, nDone - 1 do
  if redis.call('SADD', 'cleave:done', ARGV[a + i]) == 0 then
    local again = false
    for j = 0, i - 1 do
      if ARGV[a + j] == ARGV[a + i] then again = true end
    end
    if not again then
      for j = 0, i - 1 do redis.call('SREM', 'cleave:done', ARGV[a + j]) end
      return 2
    end
  end
end
a = a + nDone
for i = 0, nConsume - 1 do
  redis.call('HDEL', 'cleave:queue', ARGV[consume + i])
end
for k = nExpect + 1, nExpect + nWrites do
  local n = ARGV[a]
  if n == '' then
    redis.call('HSET', KEYS[k], 'v', ARGV[a + 1])
    if redis.call('HINCRBY', KEYS[k], 'n', 1) == 1 then n = '1' end
  else
    redis.call('HSET', KEYS[k], 'v', ARGV[a + 1], 'n', n)
  end
  -- A key's first write: list() finds it from now on.
  if n == '1' then
    redis.call('ZADD', 'cleave:keys', 0, string.sub(KEYS[k], 10))
  end
  a = a + 2
end
for i = 1, nDequeue do
  redis.call('HDEL', 'cleave:queue', ARGV[a])
  a = a + 1
end
if nEnqueue > 0 then
  -- An id still queued is replaced, and goes to the end.
  local seq = redis.call('INCRBY', 'cleave:seq', nEnqueue) - nEnqueue
  for i = 1, nEnqueue do
    redis.call('HSET', 'cleave:queue', ARGV[a], (seq + i) .. ':' .. ARGV[a + 1])
    a = a + 2
  end
end
for i = 1, nMeta do
  if ARGV[a + 1] == '' then
    redis.call('HDEL', 'cleave:meta', ARGV[a])
  else
    redis.call('HSET', 'cleave:meta', ARGV[a], ARGV[a + 1])
  end
  a = a + 2
end
for i = 1, nForget do
  redis.call('SREM', 'cleave:done', ARGV[a])
  a = a + 1
end
return 0
)lua";

// KEYS: 1 keys. ARGV: 1 the lower bound, 2 the upper bound (ZRANGEBYLEX
// syntax), 3 the prefix of state hashes. Returns key, value, ... in key
// order.
constexpr const char *ListScript = R"lua(
local keys = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2])
local out = {}
for i = 1, #keys do
  local v = redis.call('HGET', ARGV[3] .. keys[i], 'v')
  if v then
    out[#out + 1] = keys[i]
    out[#out + 1] = v
  end
end
return out
)lua";

struct ReplyDeleter {
  void operator()(redisReply *R) const { freeReplyObject(R); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext *C) const { redisFree(C); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

/// A Lua script and the SHA1 the server knows it by.
struct Script {
  const char *Source;
  std::string Sha;
};

/// Whether a command may be sent again after the connection broke with the
/// command's outcome unknown.
enum class Resend { Safe, Unsafe };

class RedisStore final : public StateStore {
public:
  RedisStore(std::string Host, int Port)
      : Host(std::move(Host)), Port(Port),
        Where(fmt::format("{}:{}", this->Host, Port)) {}

  /// Connects, checks the layout version, loads the scripts.
  Result<void> init();

  Result<Versioned> read(std::string_view Key) override;
  Result<CommitStatus> commit(const CommitRequest &C) override;
  Result<std::vector<Message>> pending() override;
  Result<std::optional<std::string>> meta(std::string_view Key) override;
  Result<void> scanMeta(std::string_view Prefix,
                        const MetaVisitor &Visit) override;
  Result<std::vector<std::pair<std::string, std::string>>>
  list(std::string_view Prefix) override;

private:
  Result<void> connect();
  /// Drops a connection the server has closed while it was idle (a
  /// restarted server, an idle timeout), so that the next command
  /// reconnects before it sends anything.
  void dropIfClosed();
  /// Sends one command and waits for its reply; an error reply is an
  /// Error. If the connection breaks, the command is sent again on a new
  /// connection only if \p R is Resend::Safe. Called with the mutex held.
  Result<Reply> command(const std::vector<std::string_view> &Args, Resend R);
  /// Runs \p S by its SHA1, loading it again if the server has forgotten it
  /// (a restart, SCRIPT FLUSH). \p Args starts with three slots this fills
  /// (EVALSHA, the SHA1, \p NumKeys), then the keys and arguments.
  Result<Reply> evalScript(Script &S, std::vector<std::string_view> &Args,
                           size_t NumKeys, Resend R);
  Error replyError(const redisReply &R) const {
    return Error(
        fmt::format("Redis at {}: {}", Where, std::string_view(R.str, R.len)));
  }

  const std::string Host;
  const int Port;
  const std::string Where; ///< "host:port", for messages
  std::mutex Mutex;
  Context Ctx;
  Script Commit{CommitScript, {}};
  Script List{ListScript, {}};
  // Buffers a command is built in, kept between calls (under the mutex) so
  // that a commit allocates nothing once they have grown.
  std::vector<const char *> Argv;
  std::vector<size_t> Lens;
  std::vector<std::string_view> CommitArgs;
  std::string CommitText;
};

std::string_view str(const redisReply *R) {
  return R->str ? std::string_view(R->str, R->len) : std::string_view();
}

Result<void> RedisStore::connect() {
  Ctx.reset();
  timeval Connect{ConnectTimeoutSeconds, 0};
  Context C(redisConnectWithTimeout(Host.c_str(), Port, Connect));
  if (!C)
    return Error(fmt::format("cannot reach Redis at {}: out of memory", Where));
  if (C->err)
    return Error(fmt::format("cannot reach Redis at {}: {}", Where, C->errstr));
  timeval Command{CommandTimeoutSeconds, 0};
  if (redisSetTimeout(C.get(), Command) != REDIS_OK ||
      redisEnableKeepAlive(C.get()) != REDIS_OK)
    return Error(fmt::format("cannot reach Redis at {}: {}", Where, C->errstr));
  Ctx = std::move(C);
  return Result<void>::success();
}

void RedisStore::dropIfClosed() {
  if (!Ctx)
    return;
  if (Ctx->err) {
    Ctx.reset();
    return;
  }
  // No reply is outstanding between commands, so anything to read on the
  // socket is the server closing it (or resetting it).
  pollfd P{Ctx->fd, POLLIN, 0};
  if (poll(&P, 1, 0) > 0)
    Ctx.reset();
}

Result<Reply> RedisStore::command(const std::vector<std::string_view> &Args,
                                  Resend R) {
  Argv.clear();
  Lens.clear();
  for (std::string_view A : Args) {
    Argv.push_back(A.data());
    Lens.push_back(A.size());
  }
  // Only a command that must not be sent twice needs to know, before it is
  // sent, that the connection still stands (a poll() per command): any
  // other one finds out from the missing reply and goes again.
  if (R == Resend::Unsafe)
    dropIfClosed();
  for (int Attempt = 0;; ++Attempt) {
    if (!Ctx)
      if (Result<void> C = connect(); !C)
        return C.error();
    Reply Rep(static_cast<redisReply *>(redisCommandArgv(
        Ctx.get(), static_cast<int>(Argv.size()), Argv.data(), Lens.data())));
    if (Rep) {
      if (Rep->type == REDIS_REPLY_ERROR)
        return replyError(*Rep);
      return Rep;
    }
    // The context is unusable after an I/O or protocol error.
    std::string Why = Ctx->errstr;
    Ctx.reset();
    if (R == Resend::Unsafe)
      return Error(fmt::format("lost the connection to Redis at {} ({}); the "
                               "command may or may not have been applied",
                               Where, Why));
    if (Attempt > 0)
      return Error(
          fmt::format("lost the connection to Redis at {}: {}", Where, Why));
  }
}

Result<Reply> RedisStore::evalScript(Script &S,
                                     std::vector<std::string_view> &Args,
                                     size_t NumKeys, Resend R) {
  assert(Args.size() >= 3 && "no room for EVALSHA, the SHA1 and the count");
  char Count[24];
  auto [End, Ec] = std::to_chars(Count, Count + sizeof(Count), NumKeys);
  (void)Ec;
  Args[0] = "EVALSHA";
  Args[1] = S.Sha;
  Args[2] = std::string_view(Count, static_cast<size_t>(End - Count));
  Result<Reply> Rep = command(Args, R);
  if (Rep)
    return Rep;
  const std::string NoScript = fmt::format("Redis at {}: NOSCRIPT", Where);
  if (Rep.error().message().compare(0, NoScript.size(), NoScript) != 0)
    return Rep;
  // EVAL caches the script again, so the next EVALSHA finds it.
  Args[0] = "EVAL";
  Args[1] = S.Source;
  return command(Args, R);
}

/// How long startup waits for a Redis that is loading its data set.
constexpr std::chrono::seconds MaxLoadWait{300};

Result<void> RedisStore::init() {
  std::lock_guard<std::mutex> Lock(Mutex);
  if (Result<void> C = connect(); !C)
    return C;
  // A server that is still loading its data set answers every command
  // with LOADING: wait for it, backing off, for up to MaxLoadWait, rather
  // than give up on a server that is merely starting.
  auto Started = std::chrono::steady_clock::now();
  auto Pause = std::chrono::milliseconds(50);
  for (bool Told = false;;) {
    Result<Reply> Ping = command({"PING"}, Resend::Safe);
    if (Ping)
      break;
    if (Ping.error().message().find(": LOADING") == std::string::npos)
      return Ping.error();
    if (std::chrono::steady_clock::now() - Started > MaxLoadWait)
      return Error(fmt::format("Redis at {} was still loading its data after "
                               "{} s",
                               Where, MaxLoadWait.count()));
    if (!Told) {
      fmt::print(stderr, "cleave-run: Redis at {} is loading its data; "
                         "waiting\n",
                 Where);
      Told = true;
    }
    std::this_thread::sleep_for(Pause);
    Pause = std::min(Pause * 2, std::chrono::milliseconds(2000));
  }
  // A new server gets the layout version; a server with another one
  // (an older or newer Cleave's keys) is refused rather than misread.
  Result<Reply> Set =
      command({"SET", SchemaKey, SchemaVersion, "NX"}, Resend::Safe);
  if (!Set)
    return Set.error();
  Result<Reply> Get = command({"GET", SchemaKey}, Resend::Safe);
  if (!Get)
    return Get.error();
  if ((*Get)->type != REDIS_REPLY_STRING || str(Get->get()) != SchemaVersion)
    return Error(fmt::format(
        "Redis at {} holds Cleave state with layout version '{}' in key "
        "'{}', but this runtime reads version {}",
        Where, (*Get)->type == REDIS_REPLY_STRING ? str(Get->get()) : "?",
        SchemaKey, SchemaVersion));
  for (Script *S : {&Commit, &List}) {
    Result<Reply> Sha = command({"SCRIPT", "LOAD", S->Source}, Resend::Safe);
    if (!Sha)
      return Sha.error();
    if ((*Sha)->type != REDIS_REPLY_STRING)
      return Error(
          fmt::format("Redis at {}: SCRIPT LOAD returned no SHA1", Where));
    S->Sha = std::string(str(Sha->get()));
  }
  return Result<void>::success();
}

Result<Versioned> RedisStore::read(std::string_view Key) {
  std::lock_guard<std::mutex> Lock(Mutex);
  std::string Hash = std::string(StatePrefix) + std::string(Key);
  Result<Reply> Rep = command({"HMGET", Hash, "v", "n"}, Resend::Safe);
  if (!Rep)
    return Rep.error();
  const redisReply *R = Rep->get();
  if (R->type != REDIS_REPLY_ARRAY || R->elements != 2)
    return Error(fmt::format("Redis at {}: unexpected reply to HMGET '{}'",
                             Where, Hash));
  Versioned V;
  if (R->element[0]->type == REDIS_REPLY_STRING)
    V.Value = std::string(str(R->element[0]));
  if (R->element[1]->type == REDIS_REPLY_STRING) {
    std::string_view N = str(R->element[1]);
    auto [End, Ec] = std::from_chars(N.data(), N.data() + N.size(), V.Version);
    if (Ec != std::errc() || End != N.data() + N.size())
      return Error(
          fmt::format("Redis at {}: bad version '{}' in '{}'", Where, N, Hash));
  }
  return V;
}

/// Appends \p N to \p Out in three bytes, big-endian.
static void appendCount(std::string &Out, size_t N) {
  Out.push_back(static_cast<char>((N >> 16) & 0xff));
  Out.push_back(static_cast<char>((N >> 8) & 0xff));
  Out.push_back(static_cast<char>(N & 0xff));
}

Result<CommitStatus> RedisStore::commit(const CommitRequest &C) {
  constexpr size_t MaxCount = (size_t(1) << 24) - 1;
  for (size_t N :
       {C.Expect.size(), C.Done.size(), C.Writes.size(), C.Dequeue.size(),
        C.Enqueue.size(), C.Meta.size(), C.Consume.size(),
        C.MetaExpect.size(), C.Forget.size()})
    if (N > MaxCount)
      return Error(fmt::format("Redis at {}: a commit of more than {} items "
                               "of one kind",
                               Where, MaxCount));

  std::lock_guard<std::mutex> Lock(Mutex);
  // The text the arguments point into: the counts, the key hashes and the
  // version numbers, laid out before any view is taken (the string must not
  // move once they are).
  std::string &Text = CommitText;
  Text.clear();
  size_t Need = 27;
  for (const auto &E : C.Expect)
    Need += StatePrefix.size() + E.first.size() + 20;
  for (const auto &W : C.Writes)
    Need += StatePrefix.size() + W.first.size() + 20;
  Text.reserve(Need);
  auto Append = [&](std::string_view Piece) {
    size_t At = Text.size();
    Text.append(Piece);
    return std::string_view(Text.data() + At, Piece.size());
  };
  auto AppendNumber = [&](uint64_t N) {
    char Digits[24];
    auto [End, Ec] = std::to_chars(Digits, Digits + sizeof(Digits), N);
    (void)Ec;
    return Append(std::string_view(Digits, static_cast<size_t>(End - Digits)));
  };
  auto AppendHash = [&](std::string_view Key) {
    size_t At = Text.size();
    Text.append(StatePrefix);
    Text.append(Key);
    return std::string_view(Text.data() + At, Text.size() - At);
  };

  std::vector<std::string_view> &Args = CommitArgs;
  Args.assign(3, std::string_view()); // EVALSHA, the SHA1, the key count
  for (const auto &E : C.Expect)
    Args.push_back(AppendHash(E.first));
  for (const auto &W : C.Writes)
    Args.push_back(AppendHash(W.first));
  size_t NumKeys = Args.size() - 3;
  size_t HeadAt = Text.size();
  for (size_t N :
       {C.Expect.size(), C.Done.size(), C.Writes.size(), C.Dequeue.size(),
        C.Enqueue.size(), C.Meta.size(), C.Consume.size(),
        C.MetaExpect.size(), C.Forget.size()})
    appendCount(Text, N);
  Args.push_back(std::string_view(Text.data() + HeadAt, Text.size() - HeadAt));
  for (const auto &E : C.Expect)
    Args.push_back(AppendNumber(E.second));
  for (const auto &[Key, Value] : C.MetaExpect) {
    Args.push_back(Key);
    Args.push_back(Value ? std::string_view(*Value) : std::string_view(""));
  }
  for (const std::string &Id : C.Consume)
    Args.push_back(Id);
  for (const std::string &Id : C.Done)
    Args.push_back(Id);
  // The version each write leaves if its key's Expect tells it: the
  // expected one plus one per write of the key so far. A step expects a
  // few keys; a large commit looks them up in a map.
  constexpr size_t FewExpects = 8;
  std::unordered_map<std::string_view, uint64_t> Expected;
  if (C.Expect.size() > FewExpects)
    for (const auto &[Key, Version] : C.Expect)
      Expected.emplace(Key, Version); // the first Expect of a key counts
  for (size_t I = 0; I < C.Writes.size(); ++I) {
    const auto &[Key, Value] = C.Writes[I];
    std::optional<uint64_t> Version;
    if (C.Expect.size() > FewExpects) {
      if (auto It = Expected.find(Key); It != Expected.end())
        Version = ++It->second;
    } else if (auto E =
                   std::find_if(C.Expect.begin(), C.Expect.end(),
                                [&](const auto &X) { return X.first == Key; });
               E != C.Expect.end()) {
      Version = E->second + 1 +
                static_cast<uint64_t>(std::count_if(
                    C.Writes.begin(), C.Writes.begin() + I,
                    [&](const auto &X) { return X.first == Key; }));
    }
    // Empty: the script increments the stored version.
    Args.push_back(Version ? AppendNumber(*Version) : std::string_view(""));
    Args.push_back(Value);
  }
  assert(Text.size() <= Need && "the text moved under its views");
  for (const std::string &Id : C.Dequeue)
    Args.push_back(Id);
  for (const Message &M : C.Enqueue) {
    Args.push_back(M.Id);
    Args.push_back(M.Body);
  }
  for (const auto &[Key, Value] : C.Meta) {
    Args.push_back(Key);
    Args.push_back(Value);
  }
  for (const std::string &Id : C.Forget)
    Args.push_back(Id);

  // Sent again after a broken connection only when it carries a dedup id
  // or a message to consume: if the first attempt was applied, the second
  // finds the id recorded or the message gone and reports Duplicate, which
  // a caller already reads as "this step's effects are in the store".
  // Without one, a resend could apply the writes twice. A compare-and-set
  // of a record is safe too: applied once, the second attempt conflicts,
  // and the caller reads the record to learn what happened.
  Resend R = C.Done.empty() && C.Consume.empty() && C.MetaExpect.empty()
                 ? Resend::Unsafe
                 : Resend::Safe;
  Result<Reply> Rep = evalScript(Commit, Args, NumKeys, R);
  if (!Rep)
    return Rep.error();
  if ((*Rep)->type != REDIS_REPLY_INTEGER || (*Rep)->integer < 0 ||
      (*Rep)->integer > 2)
    return Error(fmt::format(
        "Redis at {}: unexpected reply to the commit script", Where));
  static constexpr CommitStatus ByCode[] = {
      CommitStatus::Committed, CommitStatus::Conflict, CommitStatus::Duplicate};
  return ByCode[(*Rep)->integer];
}

Result<std::vector<Message>> RedisStore::pending() {
  Result<Reply> Rep = [&] {
    std::lock_guard<std::mutex> Lock(Mutex);
    return command({"HGETALL", QueueKey}, Resend::Safe);
  }();
  if (!Rep)
    return Rep.error();
  const redisReply *R = Rep->get();
  if (R->type != REDIS_REPLY_ARRAY || R->elements % 2 != 0)
    return Error(fmt::format("Redis at {}: unexpected reply to HGETALL '{}'",
                             Where, QueueKey));
  std::vector<std::pair<uint64_t, Message>> Queued;
  Queued.reserve(R->elements / 2);
  for (size_t I = 0; I < R->elements; I += 2) {
    std::string_view Entry = str(R->element[I + 1]);
    uint64_t Seq = 0;
    auto [End, Ec] =
        std::from_chars(Entry.data(), Entry.data() + Entry.size(), Seq);
    if (Ec != std::errc() || End == Entry.data() + Entry.size() || *End != ':')
      return Error(fmt::format("Redis at {}: bad entry for message '{}' in "
                               "'{}'",
                               Where, str(R->element[I]), QueueKey));
    size_t BodyAt = static_cast<size_t>(End - Entry.data()) + 1;
    Queued.push_back({Seq, Message{std::string(str(R->element[I])),
                                   std::string(Entry.substr(BodyAt))}});
  }
  std::sort(Queued.begin(), Queued.end(),
            [](const auto &X, const auto &Y) { return X.first < Y.first; });
  std::vector<Message> Out;
  Out.reserve(Queued.size());
  for (auto &[Seq, M] : Queued)
    Out.push_back(std::move(M));
  return Out;
}

Result<std::optional<std::string>> RedisStore::meta(std::string_view Key) {
  std::lock_guard<std::mutex> Lock(Mutex);
  Result<Reply> Rep = command({"HGET", MetaKey, Key}, Resend::Safe);
  if (!Rep)
    return Rep.error();
  if ((*Rep)->type != REDIS_REPLY_STRING)
    return std::optional<std::string>();
  return std::optional<std::string>(std::string(str(Rep->get())));
}

Result<std::vector<std::pair<std::string, std::string>>>
RedisStore::list(std::string_view Prefix) {
  // ZRANGEBYLEX compares with memcmp, the order of std::string: the
  // prefix's keys are [Prefix, its successor), or [Prefix, +) when no
  // successor exists (an empty prefix, or one of 0xff bytes only).
  std::string Lower = "[" + std::string(Prefix);
  std::string Upper(Prefix);
  while (!Upper.empty() && static_cast<unsigned char>(Upper.back()) == 0xff)
    Upper.pop_back();
  if (Upper.empty()) {
    Upper = "+";
  } else {
    Upper.back() =
        static_cast<char>(static_cast<unsigned char>(Upper.back()) + 1);
    Upper.insert(Upper.begin(), '(');
  }
  std::lock_guard<std::mutex> Lock(Mutex);
  std::vector<std::string_view> Args = {{},    {},    {},         KeysKey,
                                        Lower, Upper, StatePrefix};
  Result<Reply> Rep = evalScript(List, Args, 1, Resend::Safe);
  if (!Rep)
    return Rep.error();
  const redisReply *R = Rep->get();
  if (R->type != REDIS_REPLY_ARRAY || R->elements % 2 != 0)
    return Error(fmt::format("Redis at {}: unexpected reply to the list "
                             "script",
                             Where));
  std::vector<std::pair<std::string, std::string>> Out;
  Out.reserve(R->elements / 2);
  for (size_t I = 0; I < R->elements; I += 2)
    Out.emplace_back(std::string(str(R->element[I])),
                     std::string(str(R->element[I + 1])));
  return Out;
}

Result<void> RedisStore::scanMeta(std::string_view Prefix,
                                  const MetaVisitor &Visit) {
  // HSCAN walks the whole hash (MATCH filters on the server), a batch per
  // call: a record may come twice (the hash rehashed under the cursor).
  std::string Pattern;
  for (char Ch : Prefix) {
    if (Ch == '*' || Ch == '?' || Ch == '[' || Ch == ']' || Ch == '\\')
      Pattern.push_back('\\');
    Pattern.push_back(Ch);
  }
  Pattern.push_back('*');
  const std::string Count = std::to_string(MetaScanBatch);
  std::string Cursor = "0";
  std::vector<std::pair<std::string, std::string>> Batch;
  do {
    Batch.clear();
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Result<Reply> Rep = command(
          {"HSCAN", MetaKey, Cursor, "MATCH", Pattern, "COUNT", Count},
          Resend::Safe);
      if (!Rep)
        return Rep.error();
      const redisReply *R = Rep->get();
      if (R->type != REDIS_REPLY_ARRAY || R->elements != 2 ||
          R->element[0]->type != REDIS_REPLY_STRING ||
          R->element[1]->type != REDIS_REPLY_ARRAY ||
          R->element[1]->elements % 2 != 0)
        return Error(
            fmt::format("Redis at {}: unexpected reply to HSCAN", Where));
      Cursor = std::string(str(R->element[0]));
      const redisReply *Items = R->element[1];
      for (size_t I = 0; I < Items->elements; I += 2)
        Batch.emplace_back(std::string(str(Items->element[I])),
                           std::string(str(Items->element[I + 1])));
    }
    for (const auto &[Key, Value] : Batch)
      Visit(Key, Value);
  } while (Cursor != "0");
  return {};
}

} // namespace

Result<std::unique_ptr<StateStore>> openRedisStore(const std::string &Host,
                                                   int Port) {
  if (Host.empty())
    return Error("no host given for the Redis state store");
  if (Port <= 0 || Port > 65535)
    return Error(fmt::format("invalid port {} for Redis at {}", Port, Host));
  auto Store = std::make_unique<RedisStore>(Host, Port);
  if (Result<void> R = Store->init(); !R)
    return R.error();
  return std::unique_ptr<StateStore>(std::move(Store));
}

} // namespace cleave::rt
