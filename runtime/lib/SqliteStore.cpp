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

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cleave::rt {

namespace {

/// PRAGMA application_id of a Cleave state database ("Clev"): tells our file
/// from any other SQLite database before we change anything in it.
constexpr int32_t CleaveApplicationId = 0x436c6576;
/// PRAGMA user_version: the layout of the tables below. A runtime refuses a
/// file with another version rather than misread it.
constexpr int SchemaVersion = 1;

// What a commit costs is mostly the b-tree pages it changes: in WAL mode
// each one is a frame appended to the log. Measured on the development
// machine: about 5 us for a transaction, plus about 9 us a frame with 4 KB
// pages or 3.5 us with 1 KB pages. A step commit changes a row or two in
// each of `state`, `done` and `queue`, so the layout keeps that to one
// b-tree per table:
//
//   - every table is WITHOUT ROWID: the key is the b-tree's own key, not a
//     second index beside a rowid table;
//   - the queue is keyed by message id (what Dequeue looks up) with no
//     index on `seq`, which would be a fourth b-tree: the store numbers
//     messages itself (NextSeq), and pending(), which only a restarting
//     runtime calls, sorts the queue;
//   - 1 KB pages: values, ids and messages are small (JSON text, message
//     bodies of a hundred bytes to a few KB); a step commit takes about two
//     thirds of its time with 4 KB pages. Fixed when the file is created.
constexpr int PageSize = 1024;
constexpr const char *CreateSchema = R"sql(
CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT, version INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE TABLE queue(id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
                   body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE done(id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
)sql";

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
  SqliteStore(std::string Path, sqlite3 *Db) : Path(std::move(Path)), Db(Db) {}
  ~SqliteStore() override;

  /// Checks or creates the schema, sets the journal mode and prepares the
  /// statements.
  Result<void> init();

  Result<Versioned> read(std::string_view Key) override;
  Result<CommitStatus> commit(const CommitRequest &C) override;
  Result<std::vector<Message>> pending() override;
  Result<std::optional<std::string>> meta(std::string_view Key) override;
  Result<std::vector<std::pair<std::string, std::string>>>
  list(std::string_view Prefix) override;

private:
  /// An Error naming the database and SQLite's own explanation.
  Error fail(std::string_view What) const {
    return Error(fmt::format("state database '{}': {}: {}", Path, What,
                             sqlite3_errmsg(Db)));
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

  /// The version stored for \p Key (0: absent), or an Error. Called with
  /// the mutex held.
  Result<uint64_t> versionOf(std::string_view Key);
  /// Makes NextSeq greater than the seq of every queued message. Called
  /// inside a write transaction.
  Result<void> syncSeq();
  /// Applies \p C inside the open transaction. The caller rolls back
  /// unless it returns Committed.
  Result<CommitStatus> applyLocked(const CommitRequest &C);

  const std::string Path;
  sqlite3 *Db;
  std::mutex Mutex;

  /// The seq of the next message enqueued, valid while no other connection
  /// (another process on the same file) has written since SeqDataVersion.
  int64_t NextSeq = 0;
  std::optional<int64_t> SeqDataVersion;

  Stmt Begin, Commit, Rollback;
  Stmt ReadState, AddDone, WriteState, RemoveMessage, AddMessage, SetMeta,
      EraseMeta, ReadMeta, ReadQueue, ListFrom, ListRange, MaxSeq, DataVersion;
};

SqliteStore::~SqliteStore() {
  // Statements first: sqlite3_close refuses a connection with live ones.
  for (Stmt *S : {&Begin, &Commit, &Rollback, &ReadState, &AddDone, &WriteState,
                  &RemoveMessage, &AddMessage, &SetMeta, &EraseMeta, &ReadMeta,
                  &ReadQueue, &ListFrom, &ListRange, &MaxSeq, &DataVersion})
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
  // FULL would fsync on every COMMIT: StoreBench prints what that costs.
  if (Result<void> R = exec("PRAGMA synchronous = NORMAL",
                            "cannot set the synchronous mode");
      !R)
    return R;

  struct {
    Stmt *S;
    const char *Sql;
  } const Statements[] = {
      {&Begin, "BEGIN IMMEDIATE"},
      {&Commit, "COMMIT"},
      {&Rollback, "ROLLBACK"},
      {&ReadState, "SELECT value, version FROM state WHERE key = ?1"},
      {&AddDone, "INSERT OR IGNORE INTO done(id) VALUES (?1)"},
      {&WriteState, "INSERT INTO state(key, value, version) VALUES (?1, ?2, 1) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                    "version = version + 1"},
      {&RemoveMessage, "DELETE FROM queue WHERE id = ?1"},
      // REPLACE: a message whose id is still queued is replaced by the new
      // one, which goes to the end of the queue (see the note on Message).
      {&AddMessage,
       "INSERT OR REPLACE INTO queue(id, seq, body) VALUES (?1, ?2, ?3)"},
      {&SetMeta, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)"},
      {&EraseMeta, "DELETE FROM meta WHERE key = ?1"},
      {&ReadMeta, "SELECT value FROM meta WHERE key = ?1"},
      {&ReadQueue, "SELECT id, body FROM queue ORDER BY seq"},
      {&MaxSeq, "SELECT ifnull(max(seq), 0) FROM queue"},
      {&DataVersion, "PRAGMA data_version"},
      // Keys compare with memcmp (the BINARY collation), the order of
      // std::string: a prefix's keys are the range [Prefix, successor).
      {&ListFrom, "SELECT key, value FROM state WHERE key >= ?1 "
                  "AND value IS NOT NULL ORDER BY key"},
      {&ListRange, "SELECT key, value FROM state WHERE key >= ?1 AND key < ?2 "
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

Result<uint64_t> SqliteStore::versionOf(std::string_view Key) {
  sqlite3_stmt *S = ReadState.get();
  Resetter R(S);
  if (!bindText(S, 1, Key))
    return fail("cannot read a version");
  switch (sqlite3_step(S)) {
  case SQLITE_ROW:
    return static_cast<uint64_t>(sqlite3_column_int64(S, 1));
  case SQLITE_DONE:
    return uint64_t(0);
  default:
    return fail(fmt::format("cannot read the version of '{}'", Key));
  }
}

Result<void> SqliteStore::syncSeq() {
  // data_version changes when another connection commits, never on this
  // one's own commits: while it stays put, NextSeq is still right. Else
  // (the first enqueue, or another process wrote) the queue is scanned.
  int64_t Now = 0;
  {
    sqlite3_stmt *S = DataVersion.get();
    Resetter R(S);
    if (sqlite3_step(S) != SQLITE_ROW)
      return fail("cannot read the data version");
    Now = sqlite3_column_int64(S, 0);
  }
  if (SeqDataVersion && *SeqDataVersion == Now)
    return Result<void>::success();
  sqlite3_stmt *S = MaxSeq.get();
  Resetter R(S);
  if (sqlite3_step(S) != SQLITE_ROW)
    return fail("cannot read the queue");
  NextSeq = sqlite3_column_int64(S, 0) + 1;
  SeqDataVersion = Now;
  return Result<void>::success();
}

Result<CommitStatus> SqliteStore::applyLocked(const CommitRequest &C) {
  // The same order as MemoryStateStore: versions first, then dedup ids, and
  // nothing else written before both checks pass.
  for (const auto &[Key, Version] : C.Expect) {
    Result<uint64_t> Have = versionOf(Key);
    if (!Have)
      return Have.error();
    if (*Have != Version)
      return CommitStatus::Conflict;
  }
  // Recording a dedup id and checking for it are one statement: inserting
  // nothing means the id was there, unless this request listed it twice.
  for (size_t I = 0; I < C.Done.size(); ++I) {
    const std::string &Id = C.Done[I];
    if (!bindText(AddDone.get(), 1, Id) || !run(AddDone.get()))
      return fail(fmt::format("cannot record dedup id '{}'", Id));
    if (sqlite3_changes(Db) == 0 &&
        std::find(C.Done.begin(), C.Done.begin() + I, Id) == C.Done.begin() + I)
      return CommitStatus::Duplicate;
  }
  // Consuming is deleting: a message that deletes no row was gone already,
  // unless this request listed it before.
  for (size_t I = 0; I < C.Consume.size(); ++I) {
    const std::string &Id = C.Consume[I];
    if (!bindText(RemoveMessage.get(), 1, Id) || !run(RemoveMessage.get()))
      return fail(fmt::format("cannot consume message '{}'", Id));
    if (sqlite3_changes(Db) == 0 &&
        std::find(C.Consume.begin(), C.Consume.begin() + I, Id) ==
            C.Consume.begin() + I)
      return CommitStatus::Duplicate;
  }
  for (const auto &[Key, Value] : C.Writes)
    if (!bindText(WriteState.get(), 1, Key) ||
        !bindText(WriteState.get(), 2, Value) || !run(WriteState.get()))
      return fail(fmt::format("cannot write state '{}'", Key));
  for (const std::string &Id : C.Dequeue)
    if (!bindText(RemoveMessage.get(), 1, Id) || !run(RemoveMessage.get()))
      return fail(fmt::format("cannot dequeue message '{}'", Id));
  if (!C.Enqueue.empty())
    if (Result<void> R = syncSeq(); !R)
      return R.error();
  for (const Message &M : C.Enqueue)
    if (!bindText(AddMessage.get(), 1, M.Id) ||
        sqlite3_bind_int64(AddMessage.get(), 2, NextSeq++) != SQLITE_OK ||
        !bindBlob(AddMessage.get(), 3, M.Body) || !run(AddMessage.get()))
      return fail(fmt::format("cannot enqueue message '{}'", M.Id));
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

Result<CommitStatus> SqliteStore::commit(const CommitRequest &C) {
  std::lock_guard<std::mutex> Lock(Mutex);
  if (!run(Begin.get()))
    return fail("cannot begin a transaction");
  Result<CommitStatus> S = applyLocked(C);
  if (S && *S == CommitStatus::Committed) {
    if (run(Commit.get()))
      return S;
    S = fail("cannot commit");
  }
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
  while ((Rc = sqlite3_step(S)) == SQLITE_ROW)
    Out.push_back(Message{columnString(S, 0), columnString(S, 1)});
  if (Rc != SQLITE_DONE)
    return fail("cannot read the queue");
  return Out;
}

Result<std::optional<std::string>> SqliteStore::meta(std::string_view Key) {
  std::lock_guard<std::mutex> Lock(Mutex);
  sqlite3_stmt *S = ReadMeta.get();
  Resetter R(S);
  if (!bindText(S, 1, Key))
    return fail("cannot read a record");
  switch (sqlite3_step(S)) {
  case SQLITE_ROW:
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
  while ((Rc = sqlite3_step(S)) == SQLITE_ROW)
    Out.emplace_back(columnString(S, 0), columnString(S, 1));
  if (Rc != SQLITE_DONE)
    return fail(fmt::format("cannot list state under '{}'", Prefix));
  return Out;
}

} // namespace

Result<std::unique_ptr<StateStore>> openSqliteStore(const std::string &Path) {
  if (Path.empty())
    return Error("no path given for the SQLite state database");
  std::filesystem::path Parent = std::filesystem::path(Path).parent_path();
  if (!Parent.empty()) {
    std::error_code Ec;
    std::filesystem::create_directories(Parent, Ec);
    if (Ec)
      return Error(fmt::format("cannot create directory '{}' for state "
                               "database '{}': {}",
                               Parent.string(), Path, Ec.message()));
  }
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
  auto Store = std::make_unique<SqliteStore>(Path, Db);
  if (Result<void> R = Store->init(); !R)
    return R.error();
  return std::unique_ptr<StateStore>(std::move(Store));
}

} // namespace cleave::rt
