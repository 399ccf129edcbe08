//===- SqliteStore.cpp - State in an SQLite file --------------------------===//
//
// The default durable backend: one SQLite database file, one connection
// guarded by a mutex, every commit one BEGIN IMMEDIATE ... COMMIT
// transaction run through prepared statements kept for the store's life.
//
// One connection is enough: SQLite admits one writer per file at a time
// whatever the number of connections, so more connections would only let
// reads overlap, and reads here are single-row lookups of a few
// microseconds (StoreBench measures commits from 4 threads).
//
//===----------------------------------------------------------------------===//

#include "cleave/StateStore.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <boost/crc.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <condition_variable>
#include <deque>
#include <functional>
#include <thread>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cleave::rt {

namespace {

/// PRAGMA application_id of a Cleave state database ("Clev"): tells our file
/// from any other SQLite database before we change anything in it.
constexpr int32_t CleaveApplicationId = 0x436c6576;
/// PRAGMA user_version: the layout of the tables below. A runtime refuses a
/// file with another version rather than misread it, except version 2,
/// which it upgrades in place (see upgradeFrom2). Version 1 kept the queue
/// and the dedup ids in two tables; version 2 had no checksums.
constexpr int SchemaVersion = 3;

// What a commit costs is mostly the b-tree pages it changes: in WAL mode
// each one is a frame appended to the log (two write() calls, and a copy
// into the database file at the next checkpoint). Measured on the
// development machine: about 5 us for a transaction that changes nothing
// (the file locks), 4 to 7 us more per changed page with 1 KB pages. A step
// commit writes a state row or two, consumes its own message (deletes it
// from the queue; a message already gone makes the commit a Duplicate) and
// queues the next one; the layout keeps that to two pages in the common
// case:
//
//   - every table is WITHOUT ROWID: the key is the b-tree's own key, not a
//     second index beside a rowid table;
//   - one table, `message`, holds both the queue and the dedup ids
//     (CommitRequest::Done, which idempotency keys use): a row per id,
//     queued while `seq` is not NULL, a dedup record while `done` is 1;
//   - ids are keyed by (head, num): "inv/41" is ("inv/", 41), an id that
//     does not end in a plain number is (id, -1). The next step's message
//     ("inv/42") then sits beside the row just consumed, on the same page,
//     however long the chain; in text order "inv/42" would come after
//     "inv/419";
//   - no index on `seq`, which would be another b-tree to change per step:
//     the store numbers messages itself (NextSeq), and pending(), which only
//     a restarting runtime calls, sorts the queue;
//   - 1 KB pages: values, ids and messages are small (JSON text, message
//     bodies of a hundred bytes to a few KB); a step commit takes about two
//     thirds of its time with 4 KB pages. Fixed when the file is created.
constexpr int PageSize = 1024;
constexpr const char *CreateSchema = R"sql(
CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT, version INTEGER NOT NULL,
                   sum INTEGER) WITHOUT ROWID;
CREATE TABLE message(head TEXT NOT NULL, num INTEGER NOT NULL,
                     done INTEGER NOT NULL, seq INTEGER, body BLOB,
                     sum INTEGER, PRIMARY KEY(head, num)) WITHOUT ROWID;
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL, sum INTEGER)
  WITHOUT ROWID;
)sql";

/// Version 2 to 3: the checksum columns, computed for what is there.
constexpr const char *UpgradeFrom2 = R"sql(
ALTER TABLE state ADD COLUMN sum INTEGER;
UPDATE state SET sum = cleave_sum(key, value, version);
ALTER TABLE message ADD COLUMN sum INTEGER;
UPDATE message SET sum = cleave_sum(head, num, body) WHERE body IS NOT NULL;
ALTER TABLE meta ADD COLUMN sum INTEGER;
UPDATE meta SET sum = cleave_sum(key, value);
PRAGMA user_version = 3;
)sql";

/// Rows whose checksum does not match, at most 8 ("state 'k'", ...).
constexpr const char *FindDamagedRows = R"sql(
SELECT printf('state %Q', key) FROM state
  WHERE sum IS NOT cleave_sum(key, value, version)
UNION ALL
SELECT printf('record %Q', key) FROM meta
  WHERE sum IS NOT cleave_sum(key, value)
UNION ALL
SELECT printf('queued step %Q', head || iif(num < 0, '', num)) FROM message
  WHERE body IS NOT NULL AND sum IS NOT cleave_sum(head, num, body)
LIMIT 8
)sql";

/// cleave_sum(...): the checksum of a row, kept beside it so that a byte
/// changed on disk inside a valid value (which SQLite's own checks cannot
/// see) is found when the row is read, not served. CRC-32C over each
/// argument's type, length and bytes, so that ('ab', 'c') and ('a', 'bc')
/// differ.
void sqlSum(sqlite3_context *Ctx, int Argc, sqlite3_value **Argv) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> Crc;
  auto Int = [&](uint64_t V) {
    unsigned char B[8];
    for (int I = 0; I < 8; ++I)
      B[I] = static_cast<unsigned char>(V >> (8 * I));
    Crc.process_bytes(B, sizeof(B));
  };
  for (int I = 0; I < Argc; ++I) {
    int Type = sqlite3_value_type(Argv[I]);
    Crc.process_byte(static_cast<unsigned char>(Type));
    switch (Type) {
    case SQLITE_INTEGER:
      Int(static_cast<uint64_t>(sqlite3_value_int64(Argv[I])));
      break;
    case SQLITE_FLOAT: {
      double D = sqlite3_value_double(Argv[I]);
      uint64_t Bits;
      std::memcpy(&Bits, &D, sizeof(Bits));
      Int(Bits);
      break;
    }
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
      const void *P =
          Type == SQLITE_TEXT
              ? static_cast<const void *>(sqlite3_value_text(Argv[I]))
              : sqlite3_value_blob(Argv[I]);
      int N = sqlite3_value_bytes(Argv[I]);
      Int(static_cast<uint64_t>(N));
      if (P && N > 0)
        Crc.process_bytes(P, static_cast<size_t>(N));
      break;
    }
    default: // NULL: its type is all there is
      break;
    }
  }
  sqlite3_result_int64(Ctx, static_cast<sqlite3_int64>(Crc.checksum()));
}

/// Versions the store remembers between commits (see Versions below) before
/// it forgets them all and starts again.
constexpr size_t MaxCachedVersions = 1 << 16;

/// A message id as the `message` table keys it: the id without its trailing
/// number, and that number; or the whole id and -1 when it does not end in
/// one written plainly (no leading zero, at most 18 digits), so that every
/// id has exactly one key and the id is head + num again.
struct MessageKey {
  std::string_view Head;
  int64_t Num;
};

MessageKey splitId(std::string_view Id) {
  size_t Start = Id.size();
  while (Start > 0 && Id[Start - 1] >= '0' && Id[Start - 1] <= '9')
    --Start;
  size_t Digits = Id.size() - Start;
  if (Digits == 0 || Digits > 18 || (Digits > 1 && Id[Start] == '0'))
    return {Id, -1};
  int64_t Num = 0;
  for (char D : Id.substr(Start))
    Num = Num * 10 + (D - '0');
  return {Id.substr(0, Start), Num};
}

std::string joinId(std::string_view Head, int64_t Num) {
  std::string Id(Head);
  if (Num >= 0)
    Id += std::to_string(Num);
  return Id;
}

/// Nanoseconds since the epoch: a lower bound for the next message's seq.
int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A prepared statement, finalized with its owner.
struct StmtDeleter {
  void operator()(sqlite3_stmt *S) const { sqlite3_finalize(S); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

/// Resets a statement when the scope that ran it ends, whichever way it
/// ends, so that it holds no read lock and can run again.
class Resetter {
public:
  explicit Resetter(sqlite3_stmt *S) : S(S) {}
  Resetter(const Resetter &) = delete;
  Resetter &operator=(const Resetter &) = delete;
  ~Resetter() { sqlite3_reset(S); }

private:
  sqlite3_stmt *S;
};

std::string columnString(sqlite3_stmt *S, int Col) {
  // column_blob returns the bytes of a TEXT value as stored, embedded NULs
  // included; a zero-length value comes back as a null pointer.
  const void *Data = sqlite3_column_blob(S, Col);
  int Len = sqlite3_column_bytes(S, Col);
  if (!Data || Len <= 0)
    return std::string();
  return std::string(static_cast<const char *>(Data), static_cast<size_t>(Len));
}

class SqliteStore final : public StateStore {
public:
  SqliteStore(std::string Path, sqlite3 *Db, bool Fsync)
      : Path(std::move(Path)), Db(Db), Fsync(Fsync) {}
  ~SqliteStore() override;

  /// Checks or creates the schema, sets the journal mode and prepares the
  /// statements.
  Result<void> init();

  Result<Versioned> read(std::string_view Key) override;
  Result<CommitStatus> commit(const CommitRequest &C) override;
  void whenDurable(std::function<void(Result<void>)> Then) override;
  Result<std::vector<Message>> pending() override;
  Result<std::optional<std::string>> meta(std::string_view Key) override;
  Result<std::vector<std::pair<std::string, std::string>>>
  list(std::string_view Prefix) override;
  Result<void> scanMeta(std::string_view Prefix,
                        const MetaVisitor &Visit) override;
  Result<void> healthy() override;
  /// With --durability=fsync: opens the WAL, syncs the folder (so that the
  /// files' names survive a power cut too) and starts the syncer.
  Result<void> startSyncer();

  /// Remembers which file the path names now, for fileChanged().
  void identifyFile();
  /// Runs SQLite's quick_check over the whole file, then checks every
  /// row's checksum: an Error naming the first problems when the file is
  /// damaged.
  Result<void> checkIntegrity();
  /// The checksum half of checkIntegrity(), under Mutex.
  Result<void> checkSums();

private:
  /// Whether the path still names the file this store opened: an Error
  /// when it was deleted or replaced (another file moved in its place).
  Result<void> checkFile() const;

  /// An Error naming the database and SQLite's own explanation.
  Error fail(std::string_view What) const {
    return Error(fmt::format("state database '{}': {}: {}", Path, What,
                             sqlite3_errmsg(Db)));
  }

  /// A row whose checksum does not match: never served.
  Error damaged(std::string_view What) const {
    return Error(fmt::format(
        "state database '{}' is damaged: the stored {} does not match its "
        "checksum (changed on disk); refusing to serve it: restore the file "
        "from a copy",
        Path, What));
  }

  Result<void> exec(const char *Sql, std::string_view What);
  Result<Stmt> prepare(const char *Sql);
  Result<void> checkSchema();

  /// Binds \p Text as TEXT (the comparisons on keys are on TEXT values: a
  /// BLOB never equals a TEXT in SQLite).
  bool bindText(sqlite3_stmt *S, int Index, std::string_view Text) {
    // A null pointer would bind SQL NULL, not an empty string.
    return sqlite3_bind_text64(S, Index, Text.data() ? Text.data() : "",
                               Text.size(), SQLITE_STATIC,
                               SQLITE_UTF8) == SQLITE_OK;
  }
  bool bindBlob(sqlite3_stmt *S, int Index, std::string_view Bytes) {
    // A null pointer would bind SQL NULL, which the NOT NULL columns refuse.
    return sqlite3_bind_blob64(S, Index, Bytes.empty() ? "" : Bytes.data(),
                               Bytes.size(), SQLITE_STATIC) == SQLITE_OK;
  }
  /// Runs a statement that returns no row.
  bool run(sqlite3_stmt *S) {
    Resetter R(S);
    return sqlite3_step(S) == SQLITE_DONE;
  }

  bool bindId(sqlite3_stmt *S, std::string_view Id) {
    MessageKey K = splitId(Id);
    return bindText(S, 1, K.Head) &&
           sqlite3_bind_int64(S, 2, K.Num) == SQLITE_OK;
  }

  /// The pager's count of changes to the file (SQLITE_FCNTL_DATA_VERSION),
  /// a function call where PRAGMA data_version would be a statement.
  std::optional<unsigned> dataVersion();
  /// Forgets the remembered versions if another connection (another
  /// process on the file) has committed since this store's last
  /// transaction.
  /// Called first in every write transaction, before Versions is used or
  /// changed.
  void checkVersions();
  /// The version stored for \p Key (0: absent), or an Error. Called inside
  /// a write transaction, after checkVersions().
  Result<uint64_t> versionOf(const std::string &Key);
  /// Makes NextSeq greater than the seq of every message enqueued so far,
  /// by any connection. Called inside a write transaction.
  Result<void> syncSeq();
  /// Applies \p C's Done, Dequeue and Enqueue inside the open transaction:
  /// Duplicate if a Done id was recorded already.
  Result<CommitStatus> applyMessages(const CommitRequest &C);
  /// Applies \p C inside the open transaction. The caller rolls back
  /// unless it returns Committed.
  Result<CommitStatus> applyLocked(const CommitRequest &C);
  /// meta() under Mutex.
  Result<std::optional<std::string>> metaLocked(std::string_view Key);

  const std::string Path;
  sqlite3 *Db;
  /// The device and inode the path named when the store opened it.
  dev_t FileDevice = 0;
  ino_t FileInode = 0;
  bool Identified = false;
  std::mutex Mutex;

  /// --durability=fsync: commits are written as in the default mode (to
  /// the WAL, not synced), and a syncer thread fdatasyncs the WAL behind
  /// them; whenDurable() calls back once a sync covers every commit made
  /// before it was called. One sync covers every commit written while the
  /// previous one ran (group commit), and a committer waits for no sync:
  /// its state locks are free at once, and the thread that ran it goes on
  /// with other requests while the answer waits.
  bool Fsync = false;
  /// Commits made by this connection (counted under Mutex, at COMMIT).
  std::atomic<uint64_t> Written{0};
  std::mutex SyncMutex;
  std::condition_variable SyncWake;
  /// Callbacks waiting for a sync, with the count of commits each needs;
  /// in that order, as Written only grows.
  std::deque<std::pair<uint64_t, std::function<void(Result<void>)>>> Waiting;
  uint64_t Synced = 0;
  std::optional<Error> SyncFailed;
  bool SyncStop = false;
  std::thread Syncer;
  /// The WAL, opened by the store to sync it (fdatasync covers every
  /// write to the file, whichever descriptor made it).
  int WalFd = -1;
  ino_t WalInode = 0;
  /// The syncer's loop.
  void syncLoop();
  /// Syncs the WAL once (reopening it if the path names another file).
  Result<void> syncWal();

  /// The seq of the next message enqueued. Seqs follow the clock (see
  /// syncSeq), so that every connection on the file numbers its messages
  /// after the ones committed before, without reading them.
  int64_t NextSeq = 0;
  /// Whether NextSeq is past every seq in the file as this store opened it.
  bool SeqScanned = false;

  /// The version of every state key this store has read or written through
  /// commit(), so that checking a step's Expect costs no statement: while
  /// the file's data version is the one this store's last transaction saw
  /// (VersionsDataVersion), no other connection has committed, and this
  /// store's own commits keep the map right. Keys written without a known
  /// version are left out.
  std::unordered_map<std::string, uint64_t> Versions;
  std::optional<unsigned> VersionsDataVersion;

  Stmt Begin, Commit, Rollback;
  Stmt ForgetDone, ListMetaFrom, ListMetaRange;
  Stmt ReadState, ReadVersion, WriteState, MarkDone, MarkDoneAndDequeue,
      DropMessage, ClearMessage, ConsumeMessage, AddMessage, SetMeta,
      EraseMeta, ReadMeta, ReadQueue, ListFrom, ListRange, MaxSeq;
};

SqliteStore::~SqliteStore() {
  if (Syncer.joinable()) {
    // It answers what waits before it goes.
    {
      std::lock_guard<std::mutex> L(SyncMutex);
      SyncStop = true;
    }
    SyncWake.notify_all();
    Syncer.join();
  }
  if (WalFd >= 0)
    ::close(WalFd);
  // Statements first: sqlite3_close refuses a connection with live ones.
  for (Stmt *S :
       {&Begin, &Commit, &Rollback, &ReadState, &ReadVersion, &WriteState,
        &ForgetDone, &ListMetaFrom, &ListMetaRange, &MarkDone,
        &MarkDoneAndDequeue, &DropMessage, &ClearMessage,
        &ConsumeMessage, &AddMessage, &SetMeta, &EraseMeta, &ReadMeta,
        &ReadQueue, &ListFrom, &ListRange, &MaxSeq})
    S->reset();
  sqlite3_close_v2(Db);
}

Result<void> SqliteStore::exec(const char *Sql, std::string_view What) {
  if (sqlite3_exec(Db, Sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail(What);
  return Result<void>::success();
}

Result<Stmt> SqliteStore::prepare(const char *Sql) {
  sqlite3_stmt *S = nullptr;
  if (sqlite3_prepare_v3(Db, Sql, -1, SQLITE_PREPARE_PERSISTENT, &S, nullptr) !=
      SQLITE_OK)
    return fail(fmt::format("cannot prepare '{}'", Sql));
  return Stmt(S);
}

/// Reads one integer PRAGMA (application_id, user_version).
static bool readPragma(sqlite3 *Db, const char *Sql, int64_t &Value) {
  sqlite3_stmt *S = nullptr;
  if (sqlite3_prepare_v2(Db, Sql, -1, &S, nullptr) != SQLITE_OK)
    return false;
  Stmt Owned(S);
  if (sqlite3_step(S) != SQLITE_ROW)
    return false;
  Value = sqlite3_column_int64(S, 0);
  return true;
}

Result<void> SqliteStore::checkSchema() {
  // Only takes effect on a file with no page yet: a new one.
  if (Result<void> R =
          exec(fmt::format("PRAGMA page_size = {}", PageSize).c_str(),
               "cannot set the page size");
      !R)
    return R;
  // The first statement to read the file is where SQLite finds out that it
  // is not a database at all (SQLITE_NOTADB).
  if (sqlite3_exec(Db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    if (sqlite3_errcode(Db) == SQLITE_NOTADB)
      return Error(fmt::format("'{}' is not a Cleave state database: {}", Path,
                               sqlite3_errmsg(Db)));
    return fail("cannot read the schema");
  }
  int64_t AppId = 0, Version = 0, Objects = 0;
  bool Read = readPragma(Db, "PRAGMA application_id", AppId) &&
              readPragma(Db, "PRAGMA user_version", Version) &&
              readPragma(Db, "SELECT count(*) FROM sqlite_schema", Objects);
  if (!Read) {
    Error E = sqlite3_errcode(Db) == SQLITE_NOTADB
                  ? Error(fmt::format("'{}' is not a Cleave state database: {}",
                                      Path, sqlite3_errmsg(Db)))
                  : fail("cannot read the schema");
    sqlite3_exec(Db, "ROLLBACK", nullptr, nullptr, nullptr);
    return E;
  }
  Result<void> Done = Result<void>::success();
  if (AppId == 0 && Objects == 0) {
    // A new (or empty) file: ours to lay out.
    Done = exec(CreateSchema, "cannot create the tables");
    if (Done)
      Done = exec(fmt::format("PRAGMA application_id = {}; "
                              "PRAGMA user_version = {}",
                              CleaveApplicationId, SchemaVersion)
                      .c_str(),
                  "cannot record the schema version");
  } else if (AppId != CleaveApplicationId) {
    Done = Error(fmt::format(
        "'{}' is not a Cleave state database (an SQLite database with "
        "application_id {:#x} and {} schema objects; Cleave's have "
        "application_id {:#x})",
        Path, static_cast<uint32_t>(AppId), Objects,
        static_cast<uint32_t>(CleaveApplicationId)));
  } else if (Version == 2) {
    Done = exec(UpgradeFrom2, "cannot add checksums to the file (upgrading "
                              "it from schema version 2)");
  } else if (Version != SchemaVersion) {
    Done = Error(fmt::format(
        "'{}' is a Cleave state database with schema version {}, but this "
        "runtime reads version {}",
        Path, Version, SchemaVersion));
  }
  if (!Done) {
    sqlite3_exec(Db, "ROLLBACK", nullptr, nullptr, nullptr);
    return Done;
  }
  return exec("COMMIT", "cannot create the tables");
}

Result<void> SqliteStore::init() {
  // Another process (a second cleave-run on the same file, or one being
  // restarted) may hold the write lock for a moment.
  sqlite3_busy_timeout(Db, 5000);
  sqlite3_extended_result_codes(Db, 1);
  if (Result<void> R = checkSchema(); !R)
    return R;

  // The journal mode is recorded in the file; set it after the checks above
  // so that a file that is not ours is left as it was.
  {
    sqlite3_stmt *S = nullptr;
    if (sqlite3_prepare_v2(Db, "PRAGMA journal_mode = WAL", -1, &S, nullptr) !=
        SQLITE_OK)
      return fail("cannot set WAL mode");
    Stmt Owned(S);
    if (sqlite3_step(S) != SQLITE_ROW)
      return fail("cannot set WAL mode");
    std::string Mode = columnString(S, 0);
    if (Mode != "wal")
      return Error(fmt::format("state database '{}': cannot set WAL mode "
                               "(the journal mode stays '{}')",
                               Path, Mode));
  }
  // synchronous=NORMAL in WAL mode: COMMIT appends the transaction to the
  // WAL with write() but does not fsync it; the WAL is synced at each
  // checkpoint. What write() returned lives in the kernel's page cache, so
  // a committed step survives the death of the process (kill -9, a crash
  // in a handler): the next open replays the WAL. Only an OS crash or a
  // power cut can lose the last transactions, and even then the file is
  // consistent (it rolls back to an earlier commit, never to a torn one).
  // --durability=fsync keeps NORMAL and syncs the WAL behind the commits
  // (see Fsync): FULL would fsync inside each COMMIT, holding the
  // connection, and the state locks of the step, for the whole sync.
  if (Result<void> R = exec("PRAGMA synchronous = NORMAL",
                            "cannot set the synchronous mode");
      !R)
    return R;
  // The file grows as dedup ids pile up. A checkpoint that makes it longer
  // has to change its size too, at a cost in the checkpoint's fsync: grow it
  // a megabyte at a time instead (a step commit about 4% faster).
  int Chunk = 1 << 20;
  sqlite3_file_control(Db, "main", SQLITE_FCNTL_CHUNK_SIZE, &Chunk);

  struct {
    Stmt *S;
    const char *Sql;
  } const Statements[] = {
      {&Begin, "BEGIN IMMEDIATE"},
      {&Commit, "COMMIT"},
      {&Rollback, "ROLLBACK"},
      {&ReadState, "SELECT value, version, "
                   "sum IS cleave_sum(key, value, version) "
                   "FROM state WHERE key = ?1"},
      {&ReadVersion, "SELECT version FROM state WHERE key = ?1"},
      {&WriteState,
       "INSERT INTO state(key, value, version, sum) "
       "VALUES (?1, ?2, 1, cleave_sum(?1, ?2, 1)) "
       "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
       "version = version + 1, "
       "sum = cleave_sum(key, excluded.value, version + 1)"},
      // Recording a dedup id and checking for it are one statement: it
      // changes no row when the id was recorded already.
      {&MarkDone, "INSERT INTO message(head, num, done) VALUES (?1, ?2, 1) "
                  "ON CONFLICT(head, num) DO UPDATE SET done = 1 "
                  "WHERE done = 0"},
      // The same for a step's own message, which leaves the queue.
      {&MarkDoneAndDequeue,
       "INSERT INTO message(head, num, done) VALUES (?1, ?2, 1) "
       "ON CONFLICT(head, num) DO UPDATE SET done = 1, seq = NULL, "
       "body = NULL, sum = NULL WHERE done = 0"},
      // A message dequeued without its id becoming a dedup record: the row
      // goes, unless it is one already.
      {&DropMessage,
       "DELETE FROM message WHERE head = ?1 AND num = ?2 AND done = 0"},
      {&ClearMessage, "UPDATE message SET seq = NULL, body = NULL, sum = NULL "
                      "WHERE head = ?1 AND num = ?2 AND seq IS NOT NULL"},
      // A queued message consumed by the step it starts: the row goes, and
      // deletes nothing if it was not queued.
      {&ConsumeMessage, "DELETE FROM message WHERE head = ?1 AND num = ?2 "
                        "AND done = 0 AND seq IS NOT NULL"},
      // A message whose id is still queued is replaced by the new one,
      // which goes to the end of the queue (see the note on Message).
      {&AddMessage,
       "INSERT INTO message(head, num, done, seq, body, sum) "
       "VALUES (?1, ?2, 0, ?3, ?4, cleave_sum(?1, ?2, ?4)) "
       "ON CONFLICT(head, num) DO UPDATE SET "
       "seq = excluded.seq, body = excluded.body, sum = excluded.sum"},
      // A dedup record erased; a message queued under the id stays.
      {&ForgetDone, "DELETE FROM message WHERE head = ?1 AND num = ?2 "
                    "AND done = 1 AND seq IS NULL"},
      // A batch of scanMeta: from ?1 (included), below ?2.
      {&ListMetaFrom, "SELECT key, value, sum IS cleave_sum(key, value) "
                      "FROM meta WHERE key >= ?1 ORDER BY key LIMIT ?3"},
      {&ListMetaRange, "SELECT key, value, sum IS cleave_sum(key, value) "
                       "FROM meta WHERE key >= ?1 AND key < ?2 ORDER BY key "
                       "LIMIT ?3"},
      {&SetMeta, "INSERT OR REPLACE INTO meta(key, value, sum) "
                 "VALUES (?1, ?2, cleave_sum(?1, ?2))"},
      {&EraseMeta, "DELETE FROM meta WHERE key = ?1"},
      {&ReadMeta, "SELECT value, sum IS cleave_sum(key, value) "
                  "FROM meta WHERE key = ?1"},
      {&ReadQueue, "SELECT head, num, body, sum IS cleave_sum(head, num, body) "
                   "FROM message WHERE seq IS NOT NULL ORDER BY seq"},
      {&MaxSeq, "SELECT ifnull(max(seq), 0) FROM message"},
      // Keys compare with memcmp (the BINARY collation), the order of
      // std::string: a prefix's keys are the range [Prefix, successor).
      {&ListFrom, "SELECT key, value, sum IS cleave_sum(key, value, version) "
                  "FROM state WHERE key >= ?1 "
                  "AND value IS NOT NULL ORDER BY key"},
      {&ListRange, "SELECT key, value, sum IS cleave_sum(key, value, version) "
                   "FROM state WHERE key >= ?1 AND key < ?2 "
                   "AND value IS NOT NULL ORDER BY key"},
  };
  for (const auto &[Slot, Sql] : Statements) {
    Result<Stmt> S = prepare(Sql);
    if (!S)
      return S.error();
    *Slot = S.take();
  }
  return Result<void>::success();
}

Result<Versioned> SqliteStore::read(std::string_view Key) {
  std::lock_guard<std::mutex> Lock(Mutex);
  sqlite3_stmt *S = ReadState.get();
  Resetter R(S);
  if (!bindText(S, 1, Key))
    return fail("cannot read state");
  switch (sqlite3_step(S)) {
  case SQLITE_ROW: {
    if (!sqlite3_column_int(S, 2))
      return damaged(fmt::format("state '{}'", Key));
    Versioned V;
    if (sqlite3_column_type(S, 0) != SQLITE_NULL)
      V.Value = columnString(S, 0);
    V.Version = static_cast<uint64_t>(sqlite3_column_int64(S, 1));
    return V;
  }
  case SQLITE_DONE:
    return Versioned{};
  default:
    return fail(fmt::format("cannot read state '{}'", Key));
  }
}

std::optional<unsigned> SqliteStore::dataVersion() {
  unsigned Version = 0;
  if (sqlite3_file_control(Db, "main", SQLITE_FCNTL_DATA_VERSION, &Version) !=
      SQLITE_OK)
    return std::nullopt;
  return Version;
}

void SqliteStore::checkVersions() {
  // The pager's data version moves on every commit to the file, this
  // connection's included, and is brought up to date when a transaction
  // begins. Unchanged since this store's last transaction (commit() reads
  // it again after its own COMMIT): no one else has committed since, and
  // Versions is right.
  std::optional<unsigned> Now = dataVersion();
  if (!Now || Now != VersionsDataVersion)
    Versions.clear();
  VersionsDataVersion = Now;
}

Result<uint64_t> SqliteStore::versionOf(const std::string &Key) {
  if (auto It = Versions.find(Key); It != Versions.end())
    return It->second;
  sqlite3_stmt *S = ReadVersion.get();
  Resetter R(S);
  if (!bindText(S, 1, Key))
    return fail("cannot read a version");
  uint64_t Version = 0;
  switch (sqlite3_step(S)) {
  case SQLITE_ROW:
    Version = static_cast<uint64_t>(sqlite3_column_int64(S, 0));
    break;
  case SQLITE_DONE:
    break;
  default:
    return fail(fmt::format("cannot read the version of '{}'", Key));
  }
  // Read inside the write transaction: what the file holds, whether or
  // not this commit goes through.
  if (Versions.size() >= MaxCachedVersions)
    Versions.clear();
  Versions.emplace(Key, Version);
  return Version;
}

Result<void> SqliteStore::syncSeq() {
  // Once per store, the queue as the file holds it (seqs written before a
  // clock was set back, or on another machine's clock).
  if (!SeqScanned) {
    sqlite3_stmt *S = MaxSeq.get();
    Resetter R(S);
    if (sqlite3_step(S) != SQLITE_ROW)
      return fail("cannot read the queue");
    NextSeq = std::max<int64_t>(NextSeq, sqlite3_column_int64(S, 0) + 1);
    SeqScanned = true;
  }
  // Then the clock: a message another connection enqueued got a seq below
  // the time its commit ended (a commit takes microseconds, far longer than
  // one nanosecond per message), and commits on one file follow each
  // other, so a seq at least the time now comes after it. This holds as
  // long as the system clock does not step back while two processes share
  // the file; a single process's seqs grow regardless.
  NextSeq = std::max(NextSeq, nowNs());
  return Result<void>::success();
}

Result<CommitStatus> SqliteStore::applyMessages(const CommitRequest &C) {
  for (const std::string &Id : C.Forget)
    if (!bindId(ForgetDone.get(), Id) || !run(ForgetDone.get()))
      return fail(fmt::format("cannot erase dedup id '{}'", Id));
  // Consuming is deleting: a message that deletes no row was not queued,
  // unless this request listed it before.
  for (size_t I = 0; I < C.Consume.size(); ++I) {
    const std::string &Id = C.Consume[I];
    if (!bindId(ConsumeMessage.get(), Id) || !run(ConsumeMessage.get()))
      return fail(fmt::format("cannot consume message '{}'", Id));
    if (sqlite3_changes(Db) == 0 &&
        std::find(C.Consume.begin(), C.Consume.begin() + I, Id) ==
            C.Consume.begin() + I)
      return CommitStatus::Duplicate;
  }
  for (size_t I = 0; I < C.Done.size(); ++I) {
    const std::string &Id = C.Done[I];
    bool Dequeued =
        std::find(C.Dequeue.begin(), C.Dequeue.end(), Id) != C.Dequeue.end();
    sqlite3_stmt *S = Dequeued ? MarkDoneAndDequeue.get() : MarkDone.get();
    if (!bindId(S, Id) || !run(S))
      return fail(fmt::format("cannot record dedup id '{}'", Id));
    // No change: the id was recorded already, unless this request listed
    // it twice.
    if (sqlite3_changes(Db) == 0 &&
        std::find(C.Done.begin(), C.Done.begin() + I, Id) == C.Done.begin() + I)
      return CommitStatus::Duplicate;
  }
  for (const std::string &Id : C.Dequeue) {
    if (std::find(C.Done.begin(), C.Done.end(), Id) != C.Done.end())
      continue; // dequeued with its dedup record above
    if (!bindId(DropMessage.get(), Id) || !run(DropMessage.get()) ||
        !bindId(ClearMessage.get(), Id) || !run(ClearMessage.get()))
      return fail(fmt::format("cannot dequeue message '{}'", Id));
  }
  if (!C.Enqueue.empty())
    if (Result<void> R = syncSeq(); !R)
      return R.error();
  for (const Message &M : C.Enqueue)
    if (!bindId(AddMessage.get(), M.Id) ||
        sqlite3_bind_int64(AddMessage.get(), 3, NextSeq++) != SQLITE_OK ||
        !bindBlob(AddMessage.get(), 4, M.Body) || !run(AddMessage.get()))
      return fail(fmt::format("cannot enqueue message '{}'", M.Id));
  return CommitStatus::Committed;
}

Result<CommitStatus> SqliteStore::applyLocked(const CommitRequest &C) {
  // The same checks as MemoryStateStore, in its order: versions first, then
  // dedup ids. Nothing is written before both pass, and then the tables
  // apart from `message` are written in any order: the writes to different
  // tables do not meet, and a transaction that does not commit leaves
  // nothing behind.
  checkVersions();
  for (const auto &[Key, Version] : C.Expect) {
    Result<uint64_t> Have = versionOf(Key);
    if (!Have)
      return Have.error();
    if (*Have != Version)
      return CommitStatus::Conflict;
  }
  for (const auto &[Key, Value] : C.MetaExpect) {
    Result<std::optional<std::string>> Have = metaLocked(Key);
    if (!Have)
      return Have.error();
    if (*Have != Value)
      return CommitStatus::Conflict;
  }
  Result<CommitStatus> Messages = applyMessages(C);
  if (!Messages || *Messages != CommitStatus::Committed)
    return Messages;
  for (const auto &[Key, Value] : C.Writes)
    if (!bindText(WriteState.get(), 1, Key) ||
        !bindText(WriteState.get(), 2, Value) || !run(WriteState.get()))
      return fail(fmt::format("cannot write state '{}'", Key));
  for (const auto &[Key, Value] : C.Meta) {
    bool Ok = Value.empty()
                  ? bindText(EraseMeta.get(), 1, Key) && run(EraseMeta.get())
                  : bindText(SetMeta.get(), 1, Key) &&
                        bindBlob(SetMeta.get(), 2, Value) && run(SetMeta.get());
    if (!Ok)
      return fail(fmt::format("cannot write record '{}'", Key));
  }
  return CommitStatus::Committed;
}

void SqliteStore::identifyFile() {
  struct stat St;
  if (::stat(Path.c_str(), &St) == 0) {
    FileDevice = St.st_dev;
    FileInode = St.st_ino;
    Identified = true;
  }
}

Result<void> SqliteStore::checkFile() const {
  if (!Identified)
    return {};
  struct stat St;
  if (::stat(Path.c_str(), &St) != 0)
    return Error(fmt::format(
        "state database '{}' was deleted while cleave-run was serving; "
        "refusing requests rather than acknowledge writes that the next "
        "start would not see (restart cleave-run)",
        Path));
  if (St.st_dev != FileDevice || St.st_ino != FileInode)
    return Error(fmt::format(
        "state database '{}' was replaced by another file while cleave-run "
        "was serving; refusing requests rather than acknowledge writes to a "
        "file that is no longer there (restart cleave-run)",
        Path));
  return {};
}

Result<void> SqliteStore::healthy() {
  if (Fsync) {
    std::lock_guard<std::mutex> L(SyncMutex);
    if (SyncFailed)
      return *SyncFailed;
  }
  return checkFile();
}

void SqliteStore::whenDurable(std::function<void(Result<void>)> Then) {
  if (!Fsync)
    return Then({});
  std::unique_lock<std::mutex> L(SyncMutex);
  uint64_t Needed = Written.load();
  if (SyncFailed || Needed <= Synced) {
    std::optional<Error> Failed = SyncFailed;
    L.unlock();
    return Failed ? Then(*Failed) : Then({});
  }
  Waiting.emplace_back(Needed, std::move(Then));
  L.unlock();
  SyncWake.notify_one();
}

Result<void> SqliteStore::syncWal() {
  std::string Wal = Path + "-wal";
  struct stat St;
  if (::stat(Wal.c_str(), &St) != 0)
    return Error(fmt::format("state database '{}': cannot find its WAL to "
                             "sync it: {}",
                             Path, std::strerror(errno)));
  if (WalFd < 0 || St.st_ino != WalInode) {
    if (WalFd >= 0)
      ::close(WalFd);
    WalFd = ::open(Wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (WalFd < 0)
      return Error(fmt::format("state database '{}': cannot open its WAL to "
                               "sync it: {}",
                               Path, std::strerror(errno)));
    WalInode = St.st_ino;
  }
  if (::fdatasync(WalFd) != 0)
    return Error(fmt::format("state database '{}': cannot sync its WAL to "
                             "disk: {}; writes since the last sync may not "
                             "survive a power cut, so nothing more is "
                             "acknowledged (restart cleave-run)",
                             Path, std::strerror(errno)));
  return {};
}

void SqliteStore::syncLoop() {
  std::unique_lock<std::mutex> L(SyncMutex);
  for (;;) {
    SyncWake.wait(L, [&] { return SyncStop || !Waiting.empty(); });
    if (Waiting.empty())
      return; // stopping, and nothing waits
    // Every commit counted now has been written: one sync covers them all,
    // and what commits during it waits for the next.
    uint64_t Target = Written.load();
    L.unlock();
    Result<void> R = syncWal();
    L.lock();
    if (R)
      Synced = std::max(Synced, Target);
    else if (!SyncFailed)
      SyncFailed = R.error();
    std::vector<std::function<void(Result<void>)>> Ready;
    while (!Waiting.empty() &&
           (SyncFailed || Waiting.front().first <= Synced)) {
      Ready.push_back(std::move(Waiting.front().second));
      Waiting.pop_front();
    }
    std::optional<Error> Failed = SyncFailed;
    L.unlock();
    for (auto &Then : Ready)
      Failed ? Then(*Failed) : Then({});
    L.lock();
  }
}

Result<void> SqliteStore::startSyncer() {
  if (!Fsync)
    return {};
  if (Result<void> R = syncWal(); !R)
    return R;
  // The folder holds the files' names: a file created since its last sync
  // (the WAL, the database itself) could vanish with it.
  std::filesystem::path Folder = std::filesystem::path(Path).parent_path();
  std::string Dir = Folder.empty() ? "." : Folder.string();
  int Fd = ::open(Dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (Fd < 0 || ::fsync(Fd) != 0) {
    int E = errno;
    if (Fd >= 0)
      ::close(Fd);
    return Error(fmt::format("cannot sync the folder '{}' of state database "
                             "'{}': {}",
                             Dir, Path, std::strerror(E)));
  }
  ::close(Fd);
  Syncer = std::thread([this] { syncLoop(); });
  return {};
}


Result<void> SqliteStore::checkSums() {
  sqlite3_stmt *S = nullptr;
  if (sqlite3_prepare_v2(Db, FindDamagedRows, -1, &S, nullptr) != SQLITE_OK)
    return fail("cannot check the stored checksums");
  Stmt Owned(S);
  std::string Rows;
  int Rc;
  while ((Rc = sqlite3_step(S)) == SQLITE_ROW)
    Rows += (Rows.empty() ? "" : ", ") + columnString(S, 0);
  if (Rc != SQLITE_DONE)
    return fail("cannot check the stored checksums");
  if (Rows.empty())
    return {};
  return Error(fmt::format(
      "state database '{}' is damaged (rows that do not match their "
      "checksums: {}); refusing to serve from it: restore it from a copy, or "
      "start with --skip-integrity-check to serve what can still be read",
      Path, Rows));
}

Result<void> SqliteStore::checkIntegrity() {
  std::lock_guard<std::mutex> Lock(Mutex);
  sqlite3_stmt *S = nullptr;
  if (sqlite3_prepare_v2(Db, "PRAGMA quick_check(8)", -1, &S, nullptr) !=
      SQLITE_OK)
    return fail("cannot check the file's integrity");
  Stmt Owned(S);
  std::string Problems;
  int Rc;
  while ((Rc = sqlite3_step(S)) == SQLITE_ROW) {
    std::string Row = columnString(S, 0);
    if (Row == "ok")
      return checkSums();
    // One line per problem; SQLite heads them with the schema's name.
    std::string_view Rest = Row;
    while (!Rest.empty()) {
      size_t End = Rest.find('\n');
      std::string_view Line = Rest.substr(0, End);
      Rest = End == std::string_view::npos ? "" : Rest.substr(End + 1);
      if (!Line.empty() && Line.rfind("*** ", 0) != 0)
        Problems += (Problems.empty() ? "" : "; ") + std::string(Line);
    }
  }
  if (Problems.empty())
    Problems = sqlite3_errmsg(Db);
  return Error(fmt::format(
      "state database '{}' is damaged ({}); refusing to serve from it: "
      "restore it from a copy, or start with --skip-integrity-check to serve "
      "what can still be read",
      Path, Problems));
}

Result<CommitStatus> SqliteStore::commit(const CommitRequest &C) {
  std::lock_guard<std::mutex> Lock(Mutex);
  // Acknowledged writes must reach the file the next start opens.
  if (Result<void> F = checkFile(); !F)
    return F.error();
  if (!run(Begin.get()))
    return fail("cannot begin a transaction");
  Result<CommitStatus> S = applyLocked(C);
  if (S && *S == CommitStatus::Committed) {
    if (run(Commit.get())) {
      // Under Mutex: a reader that sees this commit sees the count too, so
      // an answer built on it waits for its sync (whenDurable).
      Written.fetch_add(1);
      for (const auto &W : C.Writes)
        if (auto It = Versions.find(W.first); It != Versions.end())
          ++It->second;
      VersionsDataVersion = dataVersion();
      return S;
    }
    S = fail("cannot commit");
  }
  if (!S)
    VersionsDataVersion.reset(); // whatever failed, trust nothing remembered
  // A conflict, a duplicate or a failure: nothing may stay applied. If even
  // the rollback fails, SQLite has already rolled back (it does so itself on
  // the errors that leave a transaction unusable).
  if (!run(Rollback.get()) && sqlite3_get_autocommit(Db) == 0)
    return fail("cannot roll back");
  return S;
}

Result<std::vector<Message>> SqliteStore::pending() {
  std::lock_guard<std::mutex> Lock(Mutex);
  sqlite3_stmt *S = ReadQueue.get();
  Resetter R(S);
  std::vector<Message> Out;
  int Rc;
  while ((Rc = sqlite3_step(S)) == SQLITE_ROW) {
    Message M{joinId(columnString(S, 0), sqlite3_column_int64(S, 1)),
              columnString(S, 2)};
    if (!sqlite3_column_int(S, 3))
      return damaged(fmt::format("queued step '{}'", M.Id));
    Out.push_back(std::move(M));
  }
  if (Rc != SQLITE_DONE)
    return fail("cannot read the queue");
  return Out;
}

Result<std::optional<std::string>> SqliteStore::meta(std::string_view Key) {
  std::lock_guard<std::mutex> Lock(Mutex);
  return metaLocked(Key);
}

Result<std::optional<std::string>>
SqliteStore::metaLocked(std::string_view Key) {
  sqlite3_stmt *S = ReadMeta.get();
  Resetter R(S);
  if (!bindText(S, 1, Key))
    return fail("cannot read a record");
  switch (sqlite3_step(S)) {
  case SQLITE_ROW:
    if (!sqlite3_column_int(S, 1))
      return damaged(fmt::format("record '{}'", Key));
    return std::optional<std::string>(columnString(S, 0));
  case SQLITE_DONE:
    return std::optional<std::string>();
  default:
    return fail(fmt::format("cannot read record '{}'", Key));
  }
}

/// The smallest string greater than every string starting with \p Prefix,
/// or std::nullopt when there is none (\p Prefix empty or all 0xff bytes).
static std::optional<std::string> prefixEnd(std::string_view Prefix) {
  std::string End(Prefix);
  while (!End.empty() && static_cast<unsigned char>(End.back()) == 0xff)
    End.pop_back();
  if (End.empty())
    return std::nullopt;
  End.back() = static_cast<char>(static_cast<unsigned char>(End.back()) + 1);
  return End;
}

Result<std::vector<std::pair<std::string, std::string>>>
SqliteStore::list(std::string_view Prefix) {
  std::lock_guard<std::mutex> Lock(Mutex);
  std::optional<std::string> End = prefixEnd(Prefix);
  sqlite3_stmt *S = End ? ListRange.get() : ListFrom.get();
  Resetter R(S);
  if (!bindText(S, 1, Prefix) || (End && !bindText(S, 2, *End)))
    return fail("cannot list state");
  std::vector<std::pair<std::string, std::string>> Out;
  int Rc;
  while ((Rc = sqlite3_step(S)) == SQLITE_ROW) {
    if (!sqlite3_column_int(S, 2))
      return damaged(fmt::format("state '{}'", columnString(S, 0)));
    Out.emplace_back(columnString(S, 0), columnString(S, 1));
  }
  if (Rc != SQLITE_DONE)
    return fail(fmt::format("cannot list state under '{}'", Prefix));
  return Out;
}

Result<void> SqliteStore::scanMeta(std::string_view Prefix,
                                   const MetaVisitor &Visit) {
  std::optional<std::string> End = prefixEnd(Prefix);
  std::string From(Prefix);
  std::vector<std::pair<std::string, std::string>> Batch;
  bool First = true;
  for (;;) {
    Batch.clear();
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      sqlite3_stmt *S = End ? ListMetaRange.get() : ListMetaFrom.get();
      Resetter R(S);
      // After the first batch, from the last key seen, which comes again.
      if (!bindText(S, 1, From) || (End && !bindText(S, 2, *End)) ||
          sqlite3_bind_int64(S, 3, MetaScanBatch + (First ? 0 : 1)) !=
              SQLITE_OK)
        return fail("cannot list records");
      int Rc;
      while ((Rc = sqlite3_step(S)) == SQLITE_ROW) {
        std::string Key = columnString(S, 0);
        if (!First && Key == From)
          continue;
        if (!sqlite3_column_int(S, 2))
          return damaged(fmt::format("record '{}'", Key));
        Batch.emplace_back(std::move(Key), columnString(S, 1));
      }
      if (Rc != SQLITE_DONE)
        return fail(fmt::format("cannot list records under '{}'", Prefix));
    }
    for (const auto &[Key, Value] : Batch)
      Visit(Key, Value);
    if (Batch.size() < MetaScanBatch)
      return {};
    From = Batch.back().first;
    First = false;
  }
}

/// Reads a 32-bit word of a WAL: big-endian in the header and frame
/// headers; in the checksums, in the byte order the magic number names.
uint32_t walWord(const unsigned char *P, bool BigEndian = true) {
  return BigEndian ? (uint32_t(P[0]) << 24) | (uint32_t(P[1]) << 16) |
                         (uint32_t(P[2]) << 8) | uint32_t(P[3])
                   : (uint32_t(P[3]) << 24) | (uint32_t(P[2]) << 16) |
                         (uint32_t(P[1]) << 8) | uint32_t(P[0]);
}

/// The WAL checksum (sqlite.org/fileformat2.html, "Checksum Algorithm")
/// of \p N bytes (a multiple of 8), going on from \p S.
void walChecksum(const unsigned char *P, size_t N, bool BigEndian,
                 uint32_t S[2]) {
  for (size_t I = 0; I + 8 <= N; I += 8) {
    S[0] += walWord(P + I, BigEndian) + S[1];
    S[1] += walWord(P + I + 4, BigEndian) + S[0];
  }
}

/// Whether SQLite, opening \p DbPath, would silently drop commits from its
/// WAL. SQLite replays the WAL up to the first frame whose checksum fails
/// and ignores everything after it: right for a write torn by a crash (the
/// end of the log), silent loss for a damaged frame in the middle, with
/// sound commits after it. The second is told from the first because each
/// frame's checksum goes on from the one stored in the frame before, so
/// the frames after a damaged one still check against their neighbours.
/// Read before SQLite opens the file (it would rewrite the log from its
/// start at the next write).
Result<void> checkWal(const std::string &DbPath) {
  std::ifstream In(DbPath + "-wal", std::ios::binary);
  if (!In)
    return {}; // no log: nothing to replay
  std::string Bytes((std::istreambuf_iterator<char>(In)),
                    std::istreambuf_iterator<char>());
  if (Bytes.size() < 32)
    return {};
  const auto *P = reinterpret_cast<const unsigned char *>(Bytes.data());
  auto Damaged = [&](const std::string &Where) {
    return Error(fmt::format(
        "the WAL of state database '{}' is damaged ({}): SQLite would drop "
        "the commits after the damage without a word; refusing to serve "
        "from it: restore the files from a copy, or start with "
        "--skip-integrity-check to serve what SQLite keeps",
        DbPath, Where));
  };
  uint32_t Magic = walWord(P);
  uint32_t PageSize = walWord(P + 8);
  size_t Frames = (Bytes.size() - 32) / (24 + size_t(PageSize));
  if ((Magic != 0x377f0682 && Magic != 0x377f0683) || PageSize < 512 ||
      PageSize > 65536 || (PageSize & (PageSize - 1)))
    return Frames ? Damaged("its header is not a WAL header")
                  : Result<void>::success();
  bool Big = Magic & 1;
  uint32_t Sum[2] = {0, 0};
  walChecksum(P, 24, Big, Sum);
  if (Sum[0] != walWord(P + 24) || Sum[1] != walWord(P + 28))
    return Frames ? Damaged("its header's checksum does not match")
                  : Result<void>::success();
  const size_t FrameSize = 24 + size_t(PageSize);
  size_t FirstBad = 0; // 1-based; 0: none yet
  for (size_t I = 0; I < Frames; ++I) {
    const unsigned char *F = P + 32 + I * FrameSize;
    // Another generation's frames (the log restarted over them) end it.
    if (std::memcmp(F + 8, P + 16, 8) != 0)
      break;
    walChecksum(F, 8, Big, Sum);
    walChecksum(F + 24, PageSize, Big, Sum);
    bool Sound = Sum[0] == walWord(F + 16) && Sum[1] == walWord(F + 20);
    if (!Sound && !FirstBad)
      FirstBad = I + 1;
    if (Sound && FirstBad)
      return Damaged(fmt::format("frame {} of {} does not match its checksum, "
                                 "and frame {} after it does",
                                 FirstBad, Frames, I + 1));
    // The next frame goes on from what this one stores.
    Sum[0] = walWord(F + 16);
    Sum[1] = walWord(F + 20);
  }
  return {};
}

} // namespace

Result<std::unique_ptr<StateStore>> openSqliteStore(const std::string &Path,
                                                    bool CheckIntegrity,
                                                    bool Fsync) {
  if (Path.empty())
    return Error("no path given for the SQLite state database");
  std::filesystem::path Parent = std::filesystem::path(Path).parent_path();
  if (!Parent.empty() && !std::filesystem::exists(Parent)) {
    std::error_code Ec;
    std::filesystem::create_directories(Parent, Ec);
    // The folder it makes is the owner's alone; one that exists is left as
    // the operator made it.
    if (!Ec)
      std::filesystem::permissions(Parent, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, Ec);
    if (Ec)
      return Error(fmt::format("cannot create directory '{}' for state "
                               "database '{}': {}",
                               Parent.string(), Path, Ec.message()));
  }
  // The file is made 0600 before SQLite opens it, which gives its -wal and
  // -shm files the same mode; files that exist lose group and other access.
  {
    int Fd = ::open(Path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (Fd < 0)
      return Error(fmt::format("cannot open state database '{}': {}", Path,
                               std::strerror(errno)));
    ::close(Fd);
    for (const char *Suffix : {"", "-wal", "-shm"}) {
      std::string F = Path + Suffix;
      struct stat St;
      if (::stat(F.c_str(), &St) == 0 && (St.st_mode & 077) &&
          ::chmod(F.c_str(), St.st_mode & 0700) != 0)
        return Error(fmt::format("cannot make '{}' private (mode 0600): {}",
                                 F, std::strerror(errno)));
    }
  }
  if (CheckIntegrity)
    if (Result<void> R = checkWal(Path); !R)
      return R.error();
  sqlite3 *Db = nullptr;
  // NOMUTEX: the store's own mutex serializes every use of the connection.
  int Rc = sqlite3_open_v2(Path.c_str(), &Db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                               SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (Rc != SQLITE_OK) {
    std::string Why = Db ? sqlite3_errmsg(Db) : sqlite3_errstr(Rc);
    sqlite3_close_v2(Db);
    return Error(fmt::format("cannot open state database '{}': {}", Path, Why));
  }
  if (sqlite3_create_function_v2(Db, "cleave_sum", -1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                 sqlSum, nullptr, nullptr,
                                 nullptr) != SQLITE_OK) {
    std::string Why = sqlite3_errmsg(Db);
    sqlite3_close_v2(Db);
    return Error(fmt::format("cannot open state database '{}': {}", Path, Why));
  }
  auto Store = std::make_unique<SqliteStore>(Path, Db, Fsync);
  if (Result<void> R = Store->init(); !R)
    return R.error();
  if (CheckIntegrity)
    if (Result<void> R = Store->checkIntegrity(); !R)
      return R.error();
  Store->identifyFile();
  if (Result<void> R = Store->startSyncer(); !R)
    return R.error();
  return std::unique_ptr<StateStore>(std::move(Store));
}

} // namespace cleave::rt
