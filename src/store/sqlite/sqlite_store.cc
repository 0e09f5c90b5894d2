#include "store/sqlite/sqlite_store.h"

#include "store/audit_chain.h"
#include "store/import_order.h"

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <optional>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace roster::store::sqlite {
namespace {

using core::ErrorCode;
using core::Fail;

// Migrations are append-only: a released step is never edited, a change is a new step.
constexpr const char* kMigrations[] = {
    // 1: environments, keys, users, blind indexes, credentials, sessions.
    R"sql(
CREATE TABLE environments (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  wrapped_key BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  identifier TEXT NOT NULL,
  digest BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX api_keys_by_env ON api_keys(environment_id);
CREATE TABLE users (
  number INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  active INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  sealed BLOB NOT NULL
);
CREATE TABLE user_index (
  environment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  digest BLOB NOT NULL,
  user_number INTEGER NOT NULL REFERENCES users(number) ON DELETE CASCADE,
  is_unique INTEGER NOT NULL,
  PRIMARY KEY (environment_id, kind, digest, user_number)
) WITHOUT ROWID;
CREATE UNIQUE INDEX user_index_unique ON user_index(environment_id, kind, digest) WHERE is_unique = 1;
CREATE INDEX user_index_by_user ON user_index(user_number);
CREATE TABLE credentials (
  user_number INTEGER PRIMARY KEY REFERENCES users(number) ON DELETE CASCADE,
  password_hash TEXT NOT NULL
);
CREATE TABLE sessions (
  digest BLOB PRIMARY KEY,
  user_number INTEGER NOT NULL REFERENCES users(number) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions(user_number);
)sql",
    // 2: records (groups, populations, applications, tokens), memberships, outbox, counters.
    R"sql(
CREATE TABLE records (
  number INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0,
  sealed BLOB NOT NULL
);
CREATE INDEX records_by_kind ON records(environment_id, kind, number);
CREATE INDEX users_by_env ON users(environment_id, number);
CREATE TABLE record_index (
  environment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  digest BLOB NOT NULL,
  record_number INTEGER NOT NULL REFERENCES records(number) ON DELETE CASCADE,
  is_unique INTEGER NOT NULL,
  PRIMARY KEY (environment_id, kind, digest, record_number)
) WITHOUT ROWID;
CREATE UNIQUE INDEX record_index_unique ON record_index(environment_id, kind, digest) WHERE is_unique = 1;
CREATE INDEX record_index_by_record ON record_index(record_number);
CREATE TABLE memberships (
  record_number INTEGER NOT NULL REFERENCES records(number) ON DELETE CASCADE,
  user_number INTEGER NOT NULL REFERENCES users(number) ON DELETE CASCADE,
  PRIMARY KEY (record_number, user_number)
) WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships(user_number);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  sealed BLOB NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_attempt_at);
CREATE TABLE counters (
  key BLOB PRIMARY KEY,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
    // 3: the APIs and scopes each key was made for (empty: made before keys had them).
    R"sql(
ALTER TABLE api_keys ADD COLUMN apis TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
)sql",
    // 4: records in records (a group in a group); gone with either record.
    R"sql(
CREATE TABLE record_members (
  record_number INTEGER NOT NULL REFERENCES records(number) ON DELETE CASCADE,
  member_number INTEGER NOT NULL REFERENCES records(number) ON DELETE CASCADE,
  PRIMARY KEY (record_number, member_number),
  CHECK (record_number <> member_number)
) WITHOUT ROWID;
CREATE INDEX record_members_by_member ON record_members(member_number);
)sql",
    // 5: the audit trail, hash-chained per environment (store/audit_chain.h).
    R"sql(
CREATE TABLE audit_log (
  environment_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  principal_kind TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  principal_user TEXT NOT NULL,
  api TEXT NOT NULL,
  route TEXT NOT NULL,
  request_id TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  outcome TEXT NOT NULL,
  fields TEXT NOT NULL,
  prev BLOB NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (environment_id, seq)
);
CREATE INDEX audit_log_by_subject ON audit_log(environment_id, subject);
CREATE TABLE audit_heads (
  environment_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  mac BLOB NOT NULL
);
CREATE TABLE audit_checkpoints (
  environment_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  at INTEGER NOT NULL,
  mac BLOB NOT NULL,
  PRIMARY KEY (environment_id, seq)
);
)sql",
    // 6: the keyring (master-key fingerprint and the wrapped roots), for master-key rotation.
    R"sql(
CREATE TABLE keyring (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  fingerprint BLOB NOT NULL,
  wrapped_roots BLOB NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql",
    // 7: the blind-index key generation of each index entry, for index-key rotation.
    R"sql(
ALTER TABLE user_index ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE record_index ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
)sql",
    // 8: the audit trail in one B-tree per record: `audit_log` clustered on its key
    // (WITHOUT ROWID: no rowid table beside the key's index), and no index by subject,
    // which no query used (`audit export --subject` walks the chain in order). Every
    // audited read pays for each B-tree its record lands in (docs/benchmarks.md).
    R"sql(
CREATE TABLE audit_log_clustered (
  environment_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  principal_kind TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  principal_user TEXT NOT NULL,
  api TEXT NOT NULL,
  route TEXT NOT NULL,
  request_id TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  outcome TEXT NOT NULL,
  fields TEXT NOT NULL,
  prev BLOB NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (environment_id, seq)
) WITHOUT ROWID;
INSERT INTO audit_log_clustered(environment_id, seq, at, principal_kind, principal_id, principal_user, api, route,
  request_id, action, subject, outcome, fields, prev, hash)
  SELECT environment_id, seq, at, principal_kind, principal_id, principal_user, api, route,
  request_id, action, subject, outcome, fields, prev, hash FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_clustered RENAME TO audit_log;
)sql",
    // 9: each environment's number of users, kept by triggers in the writing transaction,
    // so CountUsers reads one row instead of counting the environment's index (an
    // unfiltered list's total: ~50 ms at a million users from the page cache, ~0.5 s
    // from disk; docs/benchmarks.md).
    R"sql(
CREATE TABLE user_counts (
  environment_id TEXT PRIMARY KEY REFERENCES environments(id) ON DELETE CASCADE,
  users INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO user_counts(environment_id, users) SELECT environment_id, COUNT(*) FROM users GROUP BY environment_id;
CREATE TRIGGER users_count_in AFTER INSERT ON users BEGIN
  INSERT INTO user_counts(environment_id, users) VALUES (NEW.environment_id, 1)
    ON CONFLICT(environment_id) DO UPDATE SET users = users + 1;
END;
CREATE TRIGGER users_count_out AFTER DELETE ON users BEGIN
  UPDATE user_counts SET users = users - 1 WHERE environment_id = OLD.environment_id;
END;
)sql",
    // 10: each environment's users counted per block of 1,024 user numbers (number >> 10),
    // kept by triggers in the writing transaction like user_counts, so UserNumberAt (a
    // SCIM startIndex, a QuickBlox page) sums block counts to the block holding a position
    // and skips fewer than 1,024 entries in it, instead of skipping `offset` entries of
    // users_by_env (~47 ms at a million; docs/benchmarks.md). A block emptied by deletes
    // keeps its row at 0: at most one row per 1,024 numbers the environment ever used.
    R"sql(
CREATE TABLE user_blocks (
  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  block INTEGER NOT NULL,
  users INTEGER NOT NULL,
  PRIMARY KEY (environment_id, block)
) WITHOUT ROWID;
INSERT INTO user_blocks(environment_id, block, users)
  SELECT environment_id, number >> 10, COUNT(*) FROM users GROUP BY environment_id, number >> 10;
CREATE TRIGGER users_block_in AFTER INSERT ON users BEGIN
  INSERT INTO user_blocks(environment_id, block, users) VALUES (NEW.environment_id, NEW.number >> 10, 1)
    ON CONFLICT(environment_id, block) DO UPDATE SET users = users + 1;
END;
CREATE TRIGGER users_block_out AFTER DELETE ON users BEGIN
  UPDATE user_blocks SET users = users - 1 WHERE environment_id = OLD.environment_id AND block = OLD.number >> 10;
END;
)sql",
};

// A prepared statement borrowed from a connection's cache; reset on destruction.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }
  std::string ColText(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i))) : std::string();
  }
  std::string ColBlob(int i) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, i));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i))) : std::string();
  }
  std::int64_t ColInt(int i) const { return sqlite3_column_int64(s_, i); }
  bool ColNull(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_;
};

class Connection {
 public:
  Connection(const std::string& path, int busy_timeout_ms, bool read_only) {
    const int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open database " + path + ": " + message);
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    sqlite3_extended_result_codes(db_, 1);
    Exec("PRAGMA foreign_keys=ON");
    Exec("PRAGMA synchronous=FULL");
  }
  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err ? err : "unknown error";
      sqlite3_free(err);
      throw std::runtime_error("sqlite: " + message);
    }
  }
  // Like Exec, but reports failure as a value (for statements on the request path).
  bool TryExec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

  Stmt Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
        throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
      it = cache_.emplace(sql, s).first;
    }
    return Stmt(it->second);
  }
  int Changes() const { return sqlite3_changes(db_); }
  std::int64_t LastRowId() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* raw() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::map<const char*, sqlite3_stmt*> cache_;  // keyed by the literal's address
};

// What the service hears of a failed statement: a store that cannot take the write now
// (busy, disk full, an I/O error, a file it cannot open) is kUnavailable, which every
// API answers with 503 in its own shape; the write may be retried once space is freed.
core::Error StepError(int rc, const char* what) {
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
    return core::Error{ErrorCode::kUnavailable, "database is busy", ""};
  if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN ||
      (rc & 0xff) == SQLITE_NOMEM)
    return core::Error{ErrorCode::kUnavailable, "database cannot write", ""};
  return core::Error{ErrorCode::kInternal, std::string("database error in ") + what, ""};
}

bool IsConstraint(int rc) { return (rc & 0xff) == SQLITE_CONSTRAINT; }

// The writer's page cache while it writes a bulk import's batch (KiB): about the index
// pages a batch of a few thousand users touches (UserStore::InsertUsers).
#define ROSTER_BULK_CACHE_KIB 262144
#define ROSTER_STRINGIFY2(x) #x
#define ROSTER_STRINGIFY(x) ROSTER_STRINGIFY2(x)

UserRow ReadUser(const Stmt& s) {
  UserRow u;
  u.number = s.ColInt(0);
  u.id = s.ColText(1);
  u.environment_id = s.ColText(2);
  u.active = s.ColInt(3) != 0;
  u.created_at_ms = s.ColInt(4);
  u.updated_at_ms = s.ColInt(5);
  u.version = s.ColInt(6);
  u.sealed = s.ColBlob(7);
  return u;
}

// Column lists as macros so statements stay string literals (the statement cache is
// keyed by the literal's address).
#define ROSTER_USER_COLUMNS "u.number, u.id, u.environment_id, u.active, u.created_at, u.updated_at, u.version, u.sealed"
#define ROSTER_RECORD_COLUMNS \
  "r.number, r.id, r.environment_id, r.kind, r.created_at, r.updated_at, r.version, r.expires_at, r.sealed"
#define ROSTER_LIVE "(r.expires_at = 0 OR r.expires_at > ?)"

RecordRow ReadRecord(const Stmt& s) {
  RecordRow r;
  r.number = s.ColInt(0);
  r.id = s.ColText(1);
  r.environment_id = s.ColText(2);
  r.kind = s.ColText(3);
  r.created_at_ms = s.ColInt(4);
  r.updated_at_ms = s.ColInt(5);
  r.version = s.ColInt(6);
  r.expires_at_ms = s.ColInt(7);
  r.sealed = s.ColBlob(8);
  return r;
}

MailRow ReadMail(const Stmt& s) {
  return MailRow{s.ColInt(0), s.ColText(1), s.ColInt(2), s.ColInt(3), s.ColInt(4), s.ColBlob(5)};
}

// Collects every row of a stepped statement; `what` names the operation on failure.
template <class Row, class Reader>
Result<std::vector<Row>> Collect(Stmt& s, Reader read, const char* what) {
  std::vector<Row> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(read(s));
  if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, what));
  return out;
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const Options& options) : writer_(options.path, options.busy_timeout_ms, false) {
    writer_.Exec("PRAGMA journal_mode=WAL");
    Migrate();
    for (int i = 0; i < std::max(1, options.read_connections); ++i)
      readers_.push_back(std::make_unique<Connection>(options.path, options.busy_timeout_ms, true));
    for (auto& r : readers_) idle_.push_back(r.get());
  }

  // --- DirectoryStore
  Status CreateEnvironment(const EnvironmentRow& row) override {
    return Write([&]() -> Status {
      if (!row.master_fingerprint.empty()) {
        auto k = writer_.Prepare("SELECT fingerprint FROM keyring WHERE id = 1");
        if (k.Step() == SQLITE_ROW && k.ColBlob(0) != row.master_fingerprint)
          return Fail(ErrorCode::kAborted, "the master key was rotated meanwhile");
      }
      auto s = writer_.Prepare("INSERT INTO environments(id, name, wrapped_key, created_at) VALUES (?,?,?,?)");
      s.Text(1, row.id).Text(2, row.name).Blob(3, row.wrapped_key).Int(4, row.created_at_ms);
      const int rc = s.Step();
      if (IsConstraint(rc)) return core::AlreadyExists("name", "environment name is taken");
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "create environment"));
      return {};
    });
  }
  Result<EnvironmentRow> FindEnvironmentByName(const std::string& name) override {
    return FindEnvironment("SELECT id, name, wrapped_key, created_at FROM environments WHERE name = ?", name);
  }
  Result<EnvironmentRow> FindEnvironmentById(const std::string& id) override {
    return FindEnvironment("SELECT id, name, wrapped_key, created_at FROM environments WHERE id = ?", id);
  }
  Result<std::vector<EnvironmentRow>> ListEnvironments() override {
    return Read([&](Connection& c) -> Result<std::vector<EnvironmentRow>> {
      auto s = c.Prepare("SELECT id, name, wrapped_key, created_at FROM environments ORDER BY created_at, name");
      std::vector<EnvironmentRow> out;
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW)
        out.push_back({s.ColText(0), s.ColText(1), s.ColBlob(2), s.ColInt(3)});
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "list environments"));
      return out;
    });
  }

  Status ReplaceEnvironmentKeys(const std::string& id, const std::string& expected,
                                const std::string& replacement) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare("UPDATE environments SET wrapped_key = ?3 WHERE id = ?1 AND wrapped_key = ?2");
      s.Text(1, id).Blob(2, expected).Blob(3, replacement);
      if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "replace environment keys"));
      if (writer_.Changes() == 1) return {};
      auto q = writer_.Prepare("SELECT 1 FROM environments WHERE id = ?");
      q.Text(1, id);
      if (q.Step() == SQLITE_ROW) return Fail(ErrorCode::kAborted, "environment keys changed meanwhile");
      return core::NotFound("no such environment");
    });
  }

  Result<KeyringRow> GetKeyring() override {
    return Read([&](Connection& c) -> Result<KeyringRow> {
      auto s = c.Prepare("SELECT fingerprint, wrapped_roots, updated_at FROM keyring WHERE id = 1");
      const int rc = s.Step();
      if (rc == SQLITE_DONE) return core::NotFound("no keyring");
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "read keyring"));
      return KeyringRow{s.ColBlob(0), s.ColBlob(1), s.ColInt(2)};
    });
  }
  Status CreateKeyring(const KeyringRow& row) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare("INSERT INTO keyring(id, fingerprint, wrapped_roots, updated_at) VALUES (1,?,?,?)");
      s.Blob(1, row.fingerprint).Blob(2, row.wrapped_roots).Int(3, row.updated_at_ms);
      const int rc = s.Step();
      if (IsConstraint(rc)) return core::AlreadyExists("keyring", "the keyring exists");
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "create keyring"));
      return {};
    });
  }
  Status RotateKeyring(const std::string& expected_fingerprint, const KeyringRow& row,
                       const std::vector<EnvironmentKeysChange>& environments,
                       const std::vector<AuditRow>& audit) override {
    return Write([&]() -> Status {
      const auto changed = Fail(ErrorCode::kAborted, "the keys changed meanwhile");
      auto k = writer_.Prepare(
          "UPDATE keyring SET fingerprint = ?2, wrapped_roots = ?3, updated_at = ?4 WHERE id = 1 AND fingerprint = ?1");
      k.Blob(1, expected_fingerprint).Blob(2, row.fingerprint).Blob(3, row.wrapped_roots).Int(4, row.updated_at_ms);
      if (const int rc = k.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "rotate keyring"));
      if (writer_.Changes() != 1) return changed;
      auto n = writer_.Prepare("SELECT count(*) FROM environments");
      if (n.Step() != SQLITE_ROW) return std::unexpected(StepError(SQLITE_ERROR, "count environments"));
      if (n.ColInt(0) != static_cast<std::int64_t>(environments.size())) return changed;
      for (const auto& e : environments) {
        auto s = writer_.Prepare("UPDATE environments SET wrapped_key = ?3 WHERE id = ?1 AND wrapped_key = ?2");
        s.Text(1, e.id).Blob(2, e.expected).Blob(3, e.replacement);
        if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "rotate keyring"));
        if (writer_.Changes() != 1) return changed;
      }
      return AppendAuditIn(audit);
    });
  }

  Status CreateApiKey(const ApiKeyRow& row) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare(
          "INSERT INTO api_keys(id, environment_id, role, identifier, digest, created_at, apis, scopes) "
          "VALUES (?,?,?,?,?,?,?,?)");
      s.Text(1, row.id).Text(2, row.environment_id).Text(3, row.role).Text(4, row.identifier)
          .Blob(5, row.digest).Int(6, row.created_at_ms).Text(7, row.apis).Text(8, row.scopes);
      const int rc = s.Step();
      if (IsConstraint(rc)) return core::AlreadyExists("key", "api key already exists");
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "create api key"));
      return {};
    });
  }
  Result<ApiKeyRow> FindApiKeyByDigest(const std::string& digest) override {
    return Read([&](Connection& c) -> Result<ApiKeyRow> {
      auto s = c.Prepare(
          "SELECT id, environment_id, role, identifier, digest, created_at, revoked_at, apis, scopes FROM api_keys WHERE digest = ?");
      s.Blob(1, digest);
      const int rc = s.Step();
      if (rc == SQLITE_DONE) return core::NotFound("no such api key");
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "find api key"));
      return ReadKey(s);
    });
  }
  Result<std::vector<ApiKeyRow>> ListApiKeys(const std::string& environment_id) override {
    return Read([&](Connection& c) -> Result<std::vector<ApiKeyRow>> {
      auto s = c.Prepare(
          "SELECT id, environment_id, role, identifier, digest, created_at, revoked_at, apis, scopes FROM api_keys "
          "WHERE environment_id = ? ORDER BY created_at, id");
      s.Text(1, environment_id);
      std::vector<ApiKeyRow> out;
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadKey(s));
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "list api keys"));
      return out;
    });
  }
  Status RevokeApiKey(const std::string& id, std::int64_t now_ms) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
      s.Int(1, now_ms).Text(2, id);
      const int rc = s.Step();
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "revoke api key"));
      if (writer_.Changes() == 1) return {};
      auto q = writer_.Prepare("SELECT 1 FROM api_keys WHERE id = ?");
      q.Text(1, id);
      if (q.Step() == SQLITE_ROW) return Fail(ErrorCode::kFailedPrecondition, "api key is already revoked");
      return core::NotFound("no such api key");
    });
  }

  // --- UserStore
  Result<std::int64_t> InsertUser(const NewUser& user) override {
    return Write([&]() -> Result<std::int64_t> { return InsertUserRow(user); });
  }
  // A bulk import's batch. The fast path writes the whole batch at once: every users row
  // (appended in number order), then every claim and search entry of the batch sorted by
  // (kind, digest), so consecutive inserts land on neighbouring index pages instead of
  // a random leaf each, then each user's password, memberships and audit. If anything
  // in it fails (a claim taken, a group missing), it is rolled back and the batch is
  // written again user by user, each behind its own savepoint, which decides exactly
  // which users are left out: the fast path is only ever taken whole.
  Result<std::vector<Result<std::int64_t>>> InsertUsers(const UserBatch& batch) override {
    return Write([&]() -> Result<std::vector<Result<std::int64_t>>> {
      // The import's working set: a leaf per index entry of the batch. SQLite's default
      // 2 MiB cache spills those pages to the WAL mid-transaction and reads them back.
      writer_.TryExec("PRAGMA cache_size=-" ROSTER_STRINGIFY(ROSTER_BULK_CACHE_KIB));
      if (!writer_.TryExec("SAVEPOINT import_batch")) return std::unexpected(StepError(SQLITE_BUSY, "savepoint"));
      auto fast = InsertUsersAtOnce(batch.users);
      if (!fast) {
        writer_.TryExec("ROLLBACK TO import_batch");
        writer_.TryExec("RELEASE import_batch");
        return std::unexpected(fast.error());
      }
      std::vector<Result<std::int64_t>> out;
      if (*fast) {
        writer_.TryExec("RELEASE import_batch");
        out = std::move(**fast);
      } else {
        writer_.TryExec("ROLLBACK TO import_batch");
        writer_.TryExec("RELEASE import_batch");
        out.reserve(batch.users.size());
        for (const auto& user : batch.users) {
          if (!writer_.TryExec("SAVEPOINT import_user")) return std::unexpected(StepError(SQLITE_BUSY, "savepoint"));
          auto number = InsertUserRow(user);
          if (!number) writer_.TryExec("ROLLBACK TO import_user");
          writer_.TryExec("RELEASE import_user");
          out.push_back(std::move(number));
        }
      }
      if (batch.record) {
        if (auto st = UpdateRecordRow(*batch.record); !st) return std::unexpected(st.error());
      }
      return out;
    });
  }
  // InsertUsers' fast path, inside its savepoint: the users' numbers, or nullopt when a
  // user would be left out (the caller rolls back and goes user by user), or the error
  // that fails the whole batch (the store cannot write).
  Result<std::optional<std::vector<Result<std::int64_t>>>> InsertUsersAtOnce(const std::vector<NewUser>& users) {
    using Out = std::optional<std::vector<Result<std::int64_t>>>;
    // Records written with a user: InsertUserRow's, user by user.
    for (const auto& user : users)
      if (!user.records.empty()) return Out{};
    std::vector<std::int64_t> numbers;
    numbers.reserve(users.size());
    for (const auto& user : users) {
      auto number = InsertUsersRow(user.row);
      if (!number && number.error().code == ErrorCode::kAlreadyExists) return Out{};
      if (!number) return std::unexpected(number.error());
      numbers.push_back(*number);
    }
    // (user, entry) in (environment, kind, digest) order, the table's key order; a claim
    // two users of the batch share is refused here and decided user by user.
    const auto order = IndexEntriesInKeyOrder(users);
    for (const auto& [u, i] : order) {
      const IndexEntry& e = users[u].index[i];
      const std::string& environment_id = users[u].row.environment_id;
      auto s = writer_.Prepare(
          "INSERT INTO user_index(environment_id, kind, digest, user_number, is_unique, generation) "
          "VALUES (?,?,?,?,?,?)");
      s.Text(1, environment_id).Text(2, e.kind).Blob(3, e.digest).Int(4, numbers[u]).Int(5, e.unique || e.exclusive)
          .Int(6, e.generation);
      const int rc = s.Step();
      if (IsConstraint(rc)) return Out{};
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "insert index"));
      if (e.exclusive) {
        auto h = writer_.Prepare(
            "SELECT 1 FROM user_index WHERE environment_id = ? AND kind = ? AND digest = ? AND user_number <> ? LIMIT 1");
        h.Text(1, environment_id).Text(2, e.kind).Blob(3, e.digest).Int(4, numbers[u]);
        const int hrc = h.Step();
        if (hrc == SQLITE_ROW) return Out{};
        if (hrc != SQLITE_DONE) return std::unexpected(StepError(hrc, "insert index"));
      }
    }
    std::vector<Result<std::int64_t>> out;
    out.reserve(users.size());
    for (std::size_t u = 0; u < users.size(); ++u) {
      const NewUser& user = users[u];
      const std::int64_t number = numbers[u];
      // Whatever fails here fails one user in InsertUserRow: the user-by-user path decides.
      if (user.password_hash && !PutPassword(number, *user.password_hash)) return Out{};
      if (user.session && !InsertSession(*user.session, number)) return Out{};
      for (const auto& record_id : user.member_of) {
        auto record = RecordNumber(user.row.environment_id, record_id);
        if (!record || !Join(*record, number)) return Out{};
      }
      if (!AppendAuditIn(user.audit)) return Out{};
      out.push_back(number);
    }
    return Out{std::move(out)};
  }
  // The users row alone: its number. kAlreadyExists "id".
  Result<std::int64_t> InsertUsersRow(const UserRow& r) {
    auto s = writer_.Prepare(
        "INSERT INTO users(id, environment_id, active, created_at, updated_at, version, sealed) "
        "VALUES (?,?,?,?,?,?,?)");
    s.Text(1, r.id).Text(2, r.environment_id).Int(3, r.active).Int(4, r.created_at_ms)
        .Int(5, r.updated_at_ms).Int(6, r.version).Blob(7, r.sealed);
    const int rc = s.Step();
    if (IsConstraint(rc)) return core::AlreadyExists("id", "user id already exists");
    if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "insert user"));
    return writer_.LastRowId();
  }
  Result<std::int64_t> InsertUserRow(const NewUser& user) {
    {
      const UserRow& r = user.row;
      auto inserted = InsertUsersRow(r);
      if (!inserted) return inserted;
      const std::int64_t number = *inserted;
      if (auto st = InsertIndex(r.environment_id, number, user.index); !st) return std::unexpected(st.error());
      if (user.password_hash) {
        if (auto st = PutPassword(number, *user.password_hash); !st) return std::unexpected(st.error());
      }
      if (user.session) {
        if (auto st = InsertSession(*user.session, number); !st) return std::unexpected(st.error());
      }
      for (const auto& record_id : user.member_of) {
        auto record = RecordNumber(r.environment_id, record_id);
        if (!record) return std::unexpected(record.error());
        if (auto st = Join(*record, number); !st) return std::unexpected(st.error());
      }
      if (auto st = AppendAuditIn(user.audit); !st) return std::unexpected(st.error());
      for (const auto& record : user.records)
        if (auto inserted = InsertRecordRow(record); !inserted) return std::unexpected(inserted.error());
      return number;
    }
  }

  Result<UserRow> GetUser(const std::string& environment_id, const std::string& id) override {
    return Read([&](Connection& c) -> Result<UserRow> {
      auto s = c.Prepare(
          "SELECT number, id, environment_id, active, created_at, updated_at, version, sealed "
          "FROM users WHERE id = ? AND environment_id = ?");
      s.Text(1, id).Text(2, environment_id);
      const int rc = s.Step();
      if (rc == SQLITE_DONE) return core::NotFound("user not found");
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "get user"));
      return ReadUser(s);
    });
  }

  Result<std::vector<UserRow>> FindUsers(const std::string& environment_id, const std::string& kind,
                                         const std::string& digest) override {
    return Read([&](Connection& c) -> Result<std::vector<UserRow>> {
      auto s = c.Prepare(
          "SELECT u.number, u.id, u.environment_id, u.active, u.created_at, u.updated_at, u.version, u.sealed "
          "FROM user_index i JOIN users u ON u.number = i.user_number "
          "WHERE i.environment_id = ? AND i.kind = ? AND i.digest = ? ORDER BY u.number");
      s.Text(1, environment_id).Text(2, kind).Blob(3, digest);
      std::vector<UserRow> out;
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadUser(s));
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "find users"));
      return out;
    });
  }

  Result<std::vector<UserRow>> FindUsersAfter(const std::string& environment_id, const std::string& kind,
                                              const std::string& digest, std::int64_t after_number,
                                              int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<UserRow>> {
      auto s = c.Prepare(
          "SELECT u.number, u.id, u.environment_id, u.active, u.created_at, u.updated_at, u.version, u.sealed "
          "FROM user_index i JOIN users u ON u.number = i.user_number "
          "WHERE i.environment_id = ? AND i.kind = ? AND i.digest = ? AND i.user_number > ? "
          "ORDER BY i.user_number LIMIT ?");
      s.Text(1, environment_id).Text(2, kind).Blob(3, digest).Int(4, after_number).Int(5, std::max(limit, 0));
      std::vector<UserRow> out;
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadUser(s));
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "find users"));
      return out;
    });
  }

  Result<HolderCount> CountHolders(const std::string& environment_id, const std::string& kind,
                                   const std::string& digest, std::int64_t after_number, const std::string& also_kind,
                                   const std::string& also_digest, std::int64_t cap) override {
    return Read([&](Connection& c) -> Result<HolderCount> {
      // A range of the primary key (environment_id, kind, digest, user_number): the
      // holders lie side by side, a leaf or two for a hundred.
      HolderCount out;
      auto s = c.Prepare(
          "SELECT count(*) FROM (SELECT 1 FROM user_index WHERE environment_id = ? AND kind = ? AND digest = ? "
          "AND user_number > ? LIMIT ?)");
      s.Text(1, environment_id).Text(2, kind).Blob(3, digest).Int(4, after_number).Int(5, std::max<std::int64_t>(cap, 0));
      if (int rc = s.Step(); rc != SQLITE_ROW) return std::unexpected(StepError(rc, "count holders"));
      out.holders = s.ColInt(0);
      if (out.holders == 0) return out;
      // Each holder's other entry is a random seek: only when anyone holds it at all.
      auto any = c.Prepare("SELECT 1 FROM user_index WHERE environment_id = ? AND kind = ? AND digest = ? LIMIT 1");
      any.Text(1, environment_id).Text(2, also_kind).Blob(3, also_digest);
      int rc = any.Step();
      if (rc == SQLITE_DONE) return out;
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "count holders"));
      auto both = c.Prepare(
          "SELECT count(*) FROM (SELECT user_number FROM user_index WHERE environment_id = ?1 AND kind = ?2 "
          "AND digest = ?3 AND user_number > ?4 ORDER BY user_number LIMIT ?7) h WHERE EXISTS (SELECT 1 "
          "FROM user_index a WHERE a.environment_id = ?1 AND a.kind = ?5 AND a.digest = ?6 "
          "AND a.user_number = h.user_number)");
      both.Text(1, environment_id).Text(2, kind).Blob(3, digest).Int(4, after_number).Text(5, also_kind);
      both.Blob(6, also_digest).Int(7, out.holders);
      if (rc = both.Step(); rc != SQLITE_ROW) return std::unexpected(StepError(rc, "count holders"));
      out.also = both.ColInt(0);  // of the first `holders` holders: at most as many
      return out;
    });
  }

  Status UpdateUser(const UserUpdate& update) override {
    return Write([&]() -> Status {
      const UserRow& r = update.row;
      auto q = writer_.Prepare("SELECT number, version FROM users WHERE id = ? AND environment_id = ?");
      q.Text(1, r.id).Text(2, r.environment_id);
      int rc = q.Step();
      if (rc == SQLITE_DONE) return core::NotFound("user not found");
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "update user"));
      const std::int64_t number = q.ColInt(0);
      if (q.ColInt(1) != update.expected_version)
        return Fail(ErrorCode::kAborted, "user was changed concurrently");
      auto s = writer_.Prepare(
          "UPDATE users SET active = ?, updated_at = ?, version = ?, sealed = ? WHERE number = ?");
      s.Int(1, r.active).Int(2, r.updated_at_ms).Int(3, r.version).Blob(4, r.sealed).Int(5, number);
      if ((rc = s.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "update user"));
      auto d = writer_.Prepare("DELETE FROM user_index WHERE user_number = ?");
      d.Int(1, number);
      if ((rc = d.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "update user index"));
      if (auto st = InsertIndex(r.environment_id, number, update.index); !st) return st;
      if (update.password_hash) {
        if (auto st = PutPassword(number, *update.password_hash); !st) return st;
      } else if (update.clear_password) {
        auto x = writer_.Prepare("DELETE FROM credentials WHERE user_number = ?");
        x.Int(1, number);
        if ((rc = x.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "clear password"));
      }
      if (update.revoke_sessions) {
        auto x = writer_.Prepare(update.keep_session ? "DELETE FROM sessions WHERE user_number = ? AND digest <> ?"
                                                     : "DELETE FROM sessions WHERE user_number = ?");
        x.Int(1, number);
        if (update.keep_session) x.Blob(2, *update.keep_session);
        if ((rc = x.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "revoke sessions"));
      }
      for (const auto& set : update.memberships) {
        if (auto st = ReplaceMemberships(r.environment_id, number, set.kind, set.record_ids); !st) return st;
      }
      for (const auto& mail : update.mail) {
        if (auto id = InsertMail(mail); !id) return std::unexpected(id.error());
      }
      return AppendAuditIn(update.audit);
    });
  }

  Status DeleteUser(const std::string& environment_id, const std::string& id,
                    std::optional<std::int64_t> expected_version = std::nullopt,
                    const std::vector<AuditRow>& audit = {}) override {
    return Write([&]() -> Status {
      if (expected_version) {
        // Under the write lock: nothing changes the version between this read and the delete.
        auto q = writer_.Prepare("SELECT version FROM users WHERE id = ? AND environment_id = ?");
        q.Text(1, id).Text(2, environment_id);
        const int rc = q.Step();
        if (rc == SQLITE_DONE) return core::NotFound("user not found");
        if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "delete user"));
        if (q.ColInt(0) != *expected_version) return Fail(ErrorCode::kAborted, "user was changed concurrently");
      }
      // Claims, credentials and sessions go by ON DELETE CASCADE in the same transaction.
      auto s = writer_.Prepare("DELETE FROM users WHERE id = ? AND environment_id = ?");
      s.Text(1, id).Text(2, environment_id);
      const int rc = s.Step();
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "delete user"));
      if (writer_.Changes() == 0) return core::NotFound("user not found");
      return AppendAuditIn(audit);
    });
  }

  Result<std::vector<UserRow>> ListUsers(const std::string& environment_id, std::int64_t after_number,
                                         int limit) override {
    if (limit <= 0) return std::vector<UserRow>{};
    return Read([&](Connection& c) -> Result<std::vector<UserRow>> {
      auto s = c.Prepare("SELECT " ROSTER_USER_COLUMNS " FROM users u "
                         "WHERE u.environment_id = ? AND u.number > ? ORDER BY u.number LIMIT ?");
      s.Text(1, environment_id).Int(2, after_number).Int(3, limit);
      return Collect<UserRow>(s, ReadUser, "list users");
    });
  }
  Result<std::int64_t> CountUsers(const std::string& environment_id) override {
    return Read([&](Connection& c) -> Result<std::int64_t> {
      // Kept by migration 9's triggers.
      auto s = c.Prepare("SELECT users FROM user_counts WHERE environment_id = ?");
      s.Text(1, environment_id);
      const int rc = s.Step();
      if (rc == SQLITE_DONE) return std::int64_t{0};
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "count users"));
      return s.ColInt(0);
    });
  }
  Result<std::int64_t> UserNumberAt(const std::string& environment_id, std::int64_t offset) override {
    if (offset < 0) return std::int64_t{0};
    return Read([&](Connection& c) -> Result<std::int64_t> {
      // The block holding position `offset` from migration 10's counts, then the rest of
      // the way inside it. `blocks` stays open (not reset) while `in` runs: one snapshot.
      auto blocks = c.Prepare("SELECT block, users FROM user_blocks WHERE environment_id = ? ORDER BY block");
      blocks.Text(1, environment_id);
      std::int64_t before = 0;  // users in the blocks before this one
      int rc;
      while ((rc = blocks.Step()) == SQLITE_ROW) {
        const std::int64_t users = blocks.ColInt(1);
        if (offset < before + users) break;
        before += users;
      }
      if (rc == SQLITE_DONE) return std::int64_t{0};  // past the end
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "user number at"));
      auto in = c.Prepare(
          "SELECT number FROM users WHERE environment_id = ? AND number >= ? ORDER BY number LIMIT 1 OFFSET ?");
      in.Text(1, environment_id).Int(2, blocks.ColInt(0) << 10).Int(3, offset - before);
      rc = in.Step();
      if (rc == SQLITE_DONE) return std::int64_t{0};
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "user number at"));
      return in.ColInt(0);
    });
  }

  // --- RecordStore
  Result<std::int64_t> InsertRecord(const NewRecord& record) override {
    return Write([&]() -> Result<std::int64_t> { return InsertRecordRow(record); });
  }
  // InsertRecord's writes, inside the caller's transaction (InsertRecord's, InsertUser's).
  Result<std::int64_t> InsertRecordRow(const NewRecord& record) {
    {
      const RecordRow& r = record.row;
      auto s = writer_.Prepare(
          "INSERT INTO records(id, environment_id, kind, created_at, updated_at, version, expires_at, sealed) "
          "VALUES (?,?,?,?,?,?,?,?)");
      s.Text(1, r.id).Text(2, r.environment_id).Text(3, r.kind).Int(4, r.created_at_ms).Int(5, r.updated_at_ms)
          .Int(6, r.version).Int(7, r.expires_at_ms).Blob(8, r.sealed);
      const int rc = s.Step();
      if (IsConstraint(rc)) return core::AlreadyExists("id", "record id already exists");
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "insert record"));
      const std::int64_t number = writer_.LastRowId();
      if (auto st = InsertRecordIndex(r.environment_id, number, record.index); !st)
        return std::unexpected(st.error());
      if (record.mail) {
        if (auto id = InsertMail(*record.mail); !id) return std::unexpected(id.error());
      }
      if (auto st = JoinUsers(r.environment_id, number, record.members); !st) return std::unexpected(st.error());
      // A new record contains nothing yet, so no member record can lead back to it.
      if (auto st = JoinRecords(r.environment_id, r.kind, number, record.member_records); !st)
        return std::unexpected(st.error());
      return number;
    }
  }
  Result<RecordRow> GetRecord(const std::string& environment_id, const std::string& kind, const std::string& id,
                              std::int64_t now_ms) override {
    return Read([&](Connection& c) -> Result<RecordRow> {
      auto s = c.Prepare("SELECT " ROSTER_RECORD_COLUMNS " FROM records r "
                         "WHERE r.id = ? AND r.environment_id = ? AND r.kind = ? AND " ROSTER_LIVE);
      s.Text(1, id).Text(2, environment_id).Text(3, kind).Int(4, now_ms);
      return One(s, "get record");
    });
  }
  Result<RecordRow> GetRecordByNumber(const std::string& kind, std::int64_t number, std::int64_t now_ms) override {
    return Read([&](Connection& c) -> Result<RecordRow> {
      auto s = c.Prepare("SELECT " ROSTER_RECORD_COLUMNS " FROM records r "
                         "WHERE r.number = ? AND r.kind = ? AND " ROSTER_LIVE);
      s.Int(1, number).Text(2, kind).Int(3, now_ms);
      return One(s, "get record");
    });
  }
  Result<std::vector<RecordRow>> FindRecords(const std::string& environment_id, const std::string& index_kind,
                                             const std::string& digest, std::int64_t now_ms) override {
    return Read([&](Connection& c) -> Result<std::vector<RecordRow>> {
      auto s = c.Prepare("SELECT " ROSTER_RECORD_COLUMNS " FROM record_index i "
                         "JOIN records r ON r.number = i.record_number "
                         "WHERE i.environment_id = ? AND i.kind = ? AND i.digest = ? AND " ROSTER_LIVE
                         " ORDER BY r.number");
      s.Text(1, environment_id).Text(2, index_kind).Blob(3, digest).Int(4, now_ms);
      return Collect<RecordRow>(s, ReadRecord, "find records");
    });
  }
  Result<std::vector<RecordRow>> ListRecords(const std::string& environment_id, const std::string& kind,
                                             std::int64_t after_number, int limit, std::int64_t now_ms) override {
    if (limit <= 0) return std::vector<RecordRow>{};
    return Read([&](Connection& c) -> Result<std::vector<RecordRow>> {
      auto s = c.Prepare("SELECT " ROSTER_RECORD_COLUMNS " FROM records r "
                         "WHERE r.environment_id = ? AND r.kind = ? AND r.number > ? AND " ROSTER_LIVE
                         " ORDER BY r.number LIMIT ?");
      s.Text(1, environment_id).Text(2, kind).Int(3, after_number).Int(4, now_ms).Int(5, limit);
      return Collect<RecordRow>(s, ReadRecord, "list records");
    });
  }
  Status UpdateRecord(const RecordUpdate& update) override {
    return Write([&]() -> Status { return UpdateRecordRow(update); });
  }
  Status UpdateRecordRow(const RecordUpdate& update) {
    {
      const RecordRow& r = update.row;
      auto q = writer_.Prepare("SELECT number, version FROM records WHERE id = ? AND environment_id = ? AND kind = ?");
      q.Text(1, r.id).Text(2, r.environment_id).Text(3, r.kind);
      int rc = q.Step();
      if (rc == SQLITE_DONE) return core::NotFound("record not found");
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "update record"));
      const std::int64_t number = q.ColInt(0);
      if (q.ColInt(1) != update.expected_version)
        return Fail(ErrorCode::kAborted, "record was changed concurrently");
      auto s = writer_.Prepare(
          "UPDATE records SET updated_at = ?, version = ?, expires_at = ?, sealed = ? WHERE number = ?");
      s.Int(1, r.updated_at_ms).Int(2, r.version).Int(3, r.expires_at_ms).Blob(4, r.sealed).Int(5, number);
      if ((rc = s.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "update record"));
      auto d = writer_.Prepare("DELETE FROM record_index WHERE record_number = ?");
      d.Int(1, number);
      if ((rc = d.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "update record index"));
      if (auto st = InsertRecordIndex(r.environment_id, number, update.index); !st) return st;
      if (update.members) {
        if (auto st = ReplaceMembers(r.environment_id, number, *update.members); !st) return st;
      }
      return ChangeMemberRecords(r.environment_id, r.kind, number, update);
    }
  }
  Status DeleteRecord(const std::string& environment_id, const std::string& kind, const std::string& id,
                      std::optional<std::int64_t> expected_version = std::nullopt) override {
    return Write([&]() -> Status {
      if (expected_version) {
        auto q = writer_.Prepare("SELECT version FROM records WHERE id = ? AND environment_id = ? AND kind = ?");
        q.Text(1, id).Text(2, environment_id).Text(3, kind);
        const int rc = q.Step();
        if (rc == SQLITE_DONE) return core::NotFound("record not found");
        if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "delete record"));
        if (q.ColInt(0) != *expected_version) return Fail(ErrorCode::kAborted, "record was changed concurrently");
      }
      // Claims and memberships go by ON DELETE CASCADE.
      auto s = writer_.Prepare("DELETE FROM records WHERE id = ? AND environment_id = ? AND kind = ?");
      s.Text(1, id).Text(2, environment_id).Text(3, kind);
      const int rc = s.Step();
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "delete record"));
      if (writer_.Changes() == 0) return core::NotFound("record not found");
      return {};
    });
  }
  Result<RecordRow> TakeRecord(const std::string& environment_id, const std::string& kind, const std::string& id,
                               std::int64_t now_ms) override {
    auto row = Write([&]() -> Result<RecordRow> {
      auto s = writer_.Prepare(
          "DELETE FROM records WHERE id = ? AND environment_id = ? AND kind = ? "
          "RETURNING number, id, environment_id, kind, created_at, updated_at, version, expires_at, sealed");
      s.Text(1, id).Text(2, environment_id).Text(3, kind);
      return One(s, "take record");
    });
    // An expired token is removed as well (committed above), but it is not taken.
    if (row && row->expires_at_ms != 0 && row->expires_at_ms <= now_ms) return core::NotFound("record not found");
    return row;
  }

  Result<std::int64_t> PurgeExpiredRecords(std::int64_t now_ms) override {
    return Write([&]() -> Result<std::int64_t> {
      auto s = writer_.Prepare("DELETE FROM records WHERE expires_at <> 0 AND expires_at <= ?");
      s.Int(1, now_ms);
      if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "purge expired records"));
      return static_cast<std::int64_t>(writer_.Changes());
    });
  }

  // --- MembershipStore
  Status AddMember(const std::string& environment_id, const std::string& record_id,
                   const std::string& user_id) override {
    return Write([&]() -> Status {
      auto record = RecordNumber(environment_id, record_id);
      if (!record) return std::unexpected(record.error());
      auto user = UserNumber(environment_id, user_id);
      if (!user) return std::unexpected(user.error());
      return Join(*record, *user);
    });
  }
  Status RemoveMember(const std::string& environment_id, const std::string& record_id,
                      const std::string& user_id) override {
    return Write([&]() -> Status {
      auto record = RecordNumber(environment_id, record_id);
      if (!record) return std::unexpected(record.error());
      auto user = UserNumber(environment_id, user_id);
      if (!user) return std::unexpected(user.error());
      auto s = writer_.Prepare("DELETE FROM memberships WHERE record_number = ? AND user_number = ?");
      s.Int(1, *record).Int(2, *user);
      const int rc = s.Step();
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "remove member"));
      if (writer_.Changes() == 0) return core::NotFound("user is not a member");
      return {};
    });
  }
  Status SetMembers(const std::string& environment_id, const std::string& record_id,
                    const std::vector<std::string>& user_ids) override {
    return Write([&]() -> Status {
      auto record = RecordNumber(environment_id, record_id);
      if (!record) return std::unexpected(record.error());
      return ReplaceMembers(environment_id, *record, user_ids);
    });
  }
  Status SetMemberships(const std::string& environment_id, const std::string& user_id, const std::string& kind,
                        const std::vector<std::string>& record_ids) override {
    return Write([&]() -> Status {
      auto user = UserNumber(environment_id, user_id);
      if (!user) return std::unexpected(user.error());
      return ReplaceMemberships(environment_id, *user, kind, record_ids);
    });
  }
  Result<std::vector<UserRow>> ListMembers(const std::string& environment_id, const std::string& record_id,
                                           std::int64_t after_number, int limit) override {
    if (limit <= 0) return std::vector<UserRow>{};
    return Read([&](Connection& c) -> Result<std::vector<UserRow>> {
      if (auto st = Exists(c, "SELECT 1 FROM records WHERE id = ? AND environment_id = ?", record_id, environment_id,
                           "record");
          !st)
        return std::unexpected(st.error());
      auto s = c.Prepare("SELECT " ROSTER_USER_COLUMNS " FROM memberships m "
                         "JOIN records r ON r.number = m.record_number JOIN users u ON u.number = m.user_number "
                         "WHERE r.id = ? AND r.environment_id = ? AND u.number > ? ORDER BY u.number LIMIT ?");
      s.Text(1, record_id).Text(2, environment_id).Int(3, after_number).Int(4, limit);
      return Collect<UserRow>(s, ReadUser, "list members");
    });
  }
  Result<std::int64_t> CountMembers(const std::string& environment_id, const std::string& record_id) override {
    return Read([&](Connection& c) -> Result<std::int64_t> {
      if (auto st = Exists(c, "SELECT 1 FROM records WHERE id = ? AND environment_id = ?", record_id, environment_id,
                           "record");
          !st)
        return std::unexpected(st.error());
      auto s = c.Prepare("SELECT COUNT(*) FROM memberships m JOIN records r ON r.number = m.record_number "
                         "WHERE r.id = ? AND r.environment_id = ?");
      s.Text(1, record_id).Text(2, environment_id);
      const int rc = s.Step();
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "count members"));
      return s.ColInt(0);
    });
  }
  Result<std::vector<RecordRow>> ListMemberships(const std::string& environment_id, const std::string& user_id,
                                                 const std::string& kind) override {
    return Read([&](Connection& c) -> Result<std::vector<RecordRow>> {
      if (auto st = Exists(c, "SELECT 1 FROM users WHERE id = ? AND environment_id = ?", user_id, environment_id,
                           "user");
          !st)
        return std::unexpected(st.error());
      auto s = c.Prepare("SELECT " ROSTER_RECORD_COLUMNS " FROM memberships m "
                         "JOIN records r ON r.number = m.record_number JOIN users u ON u.number = m.user_number "
                         "WHERE u.id = ? AND u.environment_id = ? AND r.kind = ? ORDER BY r.number");
      s.Text(1, user_id).Text(2, environment_id).Text(3, kind);
      return Collect<RecordRow>(s, ReadRecord, "list memberships");
    });
  }

  Result<std::vector<RecordRow>> ListMemberRecords(const std::string& environment_id, const std::string& record_id,
                                                   std::int64_t after_number, int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<RecordRow>> {
      if (auto st = Exists(c, "SELECT 1 FROM records WHERE id = ? AND environment_id = ?", record_id, environment_id,
                           "record");
          !st)
        return std::unexpected(st.error());
      if (limit <= 0) return std::vector<RecordRow>{};
      auto s = c.Prepare("SELECT " ROSTER_RECORD_COLUMNS " FROM record_members m "
                         "JOIN records p ON p.number = m.record_number JOIN records r ON r.number = m.member_number "
                         "WHERE p.id = ? AND p.environment_id = ? AND r.number > ? ORDER BY r.number LIMIT ?");
      s.Text(1, record_id).Text(2, environment_id).Int(3, after_number).Int(4, limit);
      return Collect<RecordRow>(s, ReadRecord, "list member records");
    });
  }
  Result<std::vector<ContainingRecord>> ListContainingRecords(const std::string& environment_id,
                                                              const std::string& member_id, bool member_is_record,
                                                              const std::string& kind, int max_depth,
                                                              int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<ContainingRecord>> {
      if (auto st = member_is_record
                        ? Exists(c, "SELECT 1 FROM records WHERE id = ? AND environment_id = ?", member_id,
                                 environment_id, "record")
                        : Exists(c, "SELECT 1 FROM users WHERE id = ? AND environment_id = ?", member_id,
                                 environment_id, "user");
          !st)
        return std::unexpected(st.error());
      if (limit <= 0 || max_depth <= 0) return std::vector<ContainingRecord>{};
      // UNION keeps each (record, depth) once; the depth bound ends the walk.
#define ROSTER_CONTAINING(BASE)                                                                           \
  "WITH RECURSIVE up(number, depth) AS (" BASE                                                            \
  " UNION SELECT rm.record_number, up.depth + 1 FROM record_members rm JOIN up ON rm.member_number = up.number " \
  "WHERE up.depth < ?4) "                                                                                 \
  "SELECT " ROSTER_RECORD_COLUMNS ", MIN(up.depth) AS d FROM up JOIN records r ON r.number = up.number "  \
  "WHERE r.kind = ?3 GROUP BY r.number ORDER BY d, r.number LIMIT ?5"
      auto s = c.Prepare(member_is_record
                             ? ROSTER_CONTAINING("SELECT rm.record_number, 1 FROM record_members rm "
                                                 "JOIN records x ON x.number = rm.member_number "
                                                 "WHERE x.id = ?1 AND x.environment_id = ?2")
                             : ROSTER_CONTAINING("SELECT m.record_number, 1 FROM memberships m "
                                                 "JOIN users x ON x.number = m.user_number "
                                                 "WHERE x.id = ?1 AND x.environment_id = ?2"));
#undef ROSTER_CONTAINING
      s.Text(1, member_id).Text(2, environment_id).Text(3, kind).Int(4, max_depth).Int(5, limit);
      return Collect<ContainingRecord>(
          s, [](const Stmt& st) { return ContainingRecord{ReadRecord(st), static_cast<int>(st.ColInt(9))}; },
          "list containing records");
    });
  }

  // --- MailStore
  Result<std::int64_t> EnqueueMail(const MailRow& mail) override {
    return Write([&]() -> Result<std::int64_t> { return InsertMail(mail); });
  }
  Result<std::vector<MailRow>> ClaimMail(std::int64_t now_ms, std::int64_t lease_until_ms, int limit) override {
    if (limit <= 0) return std::vector<MailRow>{};
    return Write([&]() -> Result<std::vector<MailRow>> {
      // The writer lock and IMMEDIATE transaction make the claim atomic across processes.
      auto s = writer_.Prepare(
          "UPDATE outbox SET next_attempt_at = ? WHERE id IN "
          "(SELECT id FROM outbox WHERE next_attempt_at <= ? ORDER BY id LIMIT ?) "
          "RETURNING id, environment_id, created_at, next_attempt_at, attempts, sealed");
      s.Int(1, lease_until_ms).Int(2, now_ms).Int(3, limit);
      auto rows = Collect<MailRow>(s, ReadMail, "claim mail");
      if (rows) std::sort(rows->begin(), rows->end(), [](const MailRow& a, const MailRow& b) { return a.id < b.id; });
      return rows;
    });
  }
  Status CompleteMail(std::int64_t id) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare("DELETE FROM outbox WHERE id = ?");
      s.Int(1, id);
      const int rc = s.Step();
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "complete mail"));
      if (writer_.Changes() == 0) return core::NotFound("no such message");
      return {};
    });
  }
  Status RetryMail(std::int64_t id, std::int64_t attempts, std::int64_t next_attempt_at_ms) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare("UPDATE outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?");
      s.Int(1, attempts).Int(2, next_attempt_at_ms).Int(3, id);
      const int rc = s.Step();
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "retry mail"));
      if (writer_.Changes() == 0) return core::NotFound("no such message");
      return {};
    });
  }
  Result<std::int64_t> CountMail() override {
    return Read([&](Connection& c) -> Result<std::int64_t> {
      auto s = c.Prepare("SELECT COUNT(*) FROM outbox");
      const int rc = s.Step();
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "count mail"));
      return s.ColInt(0);
    });
  }

  // --- ResealStore
  static const char* SealedSelect(SealedTable table) {
    switch (table) {
      case SealedTable::kUsers:
        return "SELECT number, id, '', sealed FROM users WHERE environment_id = ? AND number > ? "
               "ORDER BY number LIMIT ?";
      case SealedTable::kRecords:
        return "SELECT number, id, kind, sealed FROM records WHERE environment_id = ? AND number > ? "
               "ORDER BY number LIMIT ?";
      case SealedTable::kMail:
        return "SELECT id, '', '', sealed FROM outbox WHERE environment_id = ? AND id > ? ORDER BY id LIMIT ?";
    }
    return "";
  }
  Result<std::vector<SealedValue>> ListSealed(SealedTable table, const std::string& environment_id,
                                              std::int64_t after_number, int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<SealedValue>> {
      auto s = c.Prepare(SealedSelect(table));
      s.Text(1, environment_id).Int(2, after_number).Int(3, limit);
      std::vector<SealedValue> out;
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) out.push_back({s.ColInt(0), s.ColText(1), s.ColText(2), s.ColBlob(3)});
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "list sealed values"));
      return out;
    });
  }
  Result<bool> ReplaceSealed(SealedTable table, const std::string& environment_id, std::int64_t number,
                             const std::string& expected, const std::string& replacement) override {
    const char* sql =
        table == SealedTable::kUsers     ? "UPDATE users SET sealed = ?4 WHERE number = ?1 AND environment_id = ?2 AND sealed = ?3"
        : table == SealedTable::kRecords ? "UPDATE records SET sealed = ?4 WHERE number = ?1 AND environment_id = ?2 AND sealed = ?3"
                                         : "UPDATE outbox SET sealed = ?4 WHERE id = ?1 AND environment_id = ?2 AND sealed = ?3";
    return Write([&]() -> Result<bool> {
      auto s = writer_.Prepare(sql);
      s.Int(1, number).Text(2, environment_id).Blob(3, expected).Blob(4, replacement);
      if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "replace sealed value"));
      return writer_.Changes() == 1;
    });
  }

  Result<IndexBatch> ListIndexEntries(IndexTable table, const std::string& environment_id, std::int64_t generation,
                                      std::int64_t after_number, int rows) override {
    const char* sql =
        table == IndexTable::kUsers
            ? "WITH batch AS (SELECT number FROM users WHERE environment_id = ?1 AND number > ?2 ORDER BY number "
              "LIMIT ?3) SELECT b.number, i.kind, i.digest FROM batch b LEFT JOIN user_index i "
              "ON i.user_number = b.number AND i.generation = ?4 ORDER BY b.number"
            : "WITH batch AS (SELECT number FROM records WHERE environment_id = ?1 AND number > ?2 ORDER BY number "
              "LIMIT ?3) SELECT b.number, i.kind, i.digest FROM batch b LEFT JOIN record_index i "
              "ON i.record_number = b.number AND i.generation = ?4 ORDER BY b.number";
    return Read([&](Connection& c) -> Result<IndexBatch> {
      auto s = c.Prepare(sql);
      s.Text(1, environment_id).Int(2, after_number).Int(3, rows).Int(4, generation);
      IndexBatch out;
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) {
        if (s.ColInt(0) != out.last) ++out.rows;
        out.last = s.ColInt(0);
        if (!s.ColNull(1)) out.entries.push_back({s.ColInt(0), s.ColText(1), s.ColBlob(2)});
      }
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "list index entries"));
      return out;
    });
  }
  Result<std::int64_t> CopyIndexEntries(IndexTable table, const std::string& environment_id, std::int64_t generation,
                                        const std::vector<IndexCopy>& copies) override {
    const char* sql =
        table == IndexTable::kUsers
            ? "INSERT OR IGNORE INTO user_index(environment_id, kind, digest, user_number, is_unique, generation) "
              "SELECT environment_id, kind, ?5, user_number, is_unique, ?6 FROM user_index "
              "WHERE environment_id = ?1 AND kind = ?2 AND digest = ?3 AND user_number = ?4 AND generation = ?6 - 1"
            : "INSERT OR IGNORE INTO record_index(environment_id, kind, digest, record_number, is_unique, generation) "
              "SELECT environment_id, kind, ?5, record_number, is_unique, ?6 FROM record_index "
              "WHERE environment_id = ?1 AND kind = ?2 AND digest = ?3 AND record_number = ?4 AND generation = ?6 - 1";
    return Write([&]() -> Result<std::int64_t> {
      std::int64_t added = 0;
      for (const auto& copy : copies) {
        auto s = writer_.Prepare(sql);
        s.Text(1, environment_id).Text(2, copy.kind).Blob(3, copy.from).Int(4, copy.number).Blob(5, copy.to)
            .Int(6, generation);
        if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "copy index entries"));
        added += writer_.Changes();
      }
      return added;
    });
  }
  Result<std::map<std::int64_t, std::int64_t>> CountIndexGenerations(IndexTable table,
                                                                     const std::string& environment_id) override {
    const char* sql = table == IndexTable::kUsers
                          ? "SELECT generation, COUNT(*) FROM user_index WHERE environment_id = ? GROUP BY generation"
                          : "SELECT generation, COUNT(*) FROM record_index WHERE environment_id = ? GROUP BY generation";
    return Read([&](Connection& c) -> Result<std::map<std::int64_t, std::int64_t>> {
      auto s = c.Prepare(sql);
      s.Text(1, environment_id);
      std::map<std::int64_t, std::int64_t> out;
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) out[s.ColInt(0)] = s.ColInt(1);
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "count index entries"));
      return out;
    });
  }
  Result<std::int64_t> DropIndexGenerations(const std::string& environment_id, std::int64_t keep) override {
    return Write([&]() -> Result<std::int64_t> {
      std::int64_t dropped = 0;
      for (const char* sql : {"DELETE FROM user_index WHERE environment_id = ? AND generation <> ?",
                              "DELETE FROM record_index WHERE environment_id = ? AND generation <> ?"}) {
        auto s = writer_.Prepare(sql);
        s.Text(1, environment_id).Int(2, keep);
        if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "drop index entries"));
        dropped += writer_.Changes();
      }
      return dropped;
    });
  }

  // --- OperationsStore
  Result<SchemaStatus> CheckSchema() override {
    return Read([&](Connection& c) -> Result<SchemaStatus> {
      auto s = c.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      const int rc = s.Step();
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "read schema version"));
      return SchemaStatus{s.ColInt(0), static_cast<std::int64_t>(std::size(kMigrations))};
    });
  }
  Result<OutboxStats> Outbox() override {
    return Read([&](Connection& c) -> Result<OutboxStats> {
      auto s = c.Prepare("SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM outbox");
      const int rc = s.Step();
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "read outbox"));
      return OutboxStats{s.ColInt(0), s.ColInt(1)};
    });
  }
  // sqlite3_backup from a read connection: one read transaction over a WAL snapshot, so
  // the copy is consistent and writers go on meanwhile.
  Status BackupTo(const std::string& path) override {
    return Read([&](Connection& c) -> Status {
      sqlite3* out = nullptr;
      if (sqlite3_open_v2(path.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          nullptr) != SQLITE_OK) {
        sqlite3_close(out);
        return core::Fail(ErrorCode::kFailedPrecondition, "cannot create " + path);
      }
      sqlite3_backup* backup = sqlite3_backup_init(out, "main", c.raw(), "main");
      int rc = backup ? sqlite3_backup_step(backup, -1) : sqlite3_errcode(out);
      if (backup) sqlite3_backup_finish(backup);
      if (rc == SQLITE_DONE) rc = sqlite3_errcode(out);
      sqlite3_close(out);
      if (rc != SQLITE_OK && rc != SQLITE_DONE)
        return core::Fail(ErrorCode::kUnavailable, std::string("backup failed: ") + sqlite3_errstr(rc));
      return {};
    });
  }

  // --- CounterStore
  Result<std::int64_t> HitCounter(const std::string& key, std::int64_t now_ms, std::int64_t window_ms) override {
    return Write([&]() -> Result<std::int64_t> {
      auto s = writer_.Prepare(
          "INSERT INTO counters(key, window_start, count) VALUES (?1, ?2, 1) "
          "ON CONFLICT(key) DO UPDATE SET "
          "count = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE count + 1 END, "
          "window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END "
          "RETURNING count");
      s.Blob(1, key).Int(2, now_ms).Int(3, window_ms);
      const int rc = s.Step();
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "hit counter"));
      return s.ColInt(0);
    });
  }
  Status ResetCounter(const std::string& key) override {
    return Write([&]() -> Status { return DeleteCounter(key); });
  }
  Result<CounterWindow> ReadCounter(const std::string& key) override {
    return Read([&](Connection& c) -> Result<CounterWindow> {
      auto s = c.Prepare("SELECT count, window_start FROM counters WHERE key = ?");
      s.Blob(1, key);
      const int rc = s.Step();
      if (rc == SQLITE_DONE) return CounterWindow{};
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "read counter"));
      return CounterWindow{s.ColInt(0), s.ColInt(1)};
    });
  }
  Status ResetCountersWithPrefix(const std::string& prefix) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare("DELETE FROM counters WHERE substr(key, 1, ?2) = ?1");
      s.Blob(1, prefix).Int(2, static_cast<std::int64_t>(prefix.size()));
      if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "reset counters"));
      return {};
    });
  }
  Status PurgeCounters(std::int64_t before_ms) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare("DELETE FROM counters WHERE window_start < ?");
      s.Int(1, before_ms);
      if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "purge counters"));
      return {};
    });
  }

  // --- CredentialStore
  Result<std::string> GetPasswordHash(const std::string& environment_id, const std::string& user_id) override {
    return Read([&](Connection& c) -> Result<std::string> {
      auto s = c.Prepare(
          "SELECT c.password_hash FROM credentials c JOIN users u ON u.number = c.user_number "
          "WHERE u.id = ? AND u.environment_id = ?");
      s.Text(1, user_id).Text(2, environment_id);
      const int rc = s.Step();
      if (rc == SQLITE_DONE) return core::NotFound("no password");
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "get password"));
      return s.ColText(0);
    });
  }

  Status ReplacePasswordHash(const std::string& environment_id, const std::string& user_id,
                             const std::string& expected, const std::string& replacement) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare(
          "UPDATE credentials SET password_hash = ?4 WHERE password_hash = ?3 AND user_number = "
          "(SELECT number FROM users WHERE id = ?1 AND environment_id = ?2)");
      s.Text(1, user_id).Text(2, environment_id).Text(3, expected).Text(4, replacement);
      if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "replace password"));
      if (writer_.Changes() == 0) return Fail(ErrorCode::kAborted, "password changed meanwhile");
      return {};
    });
  }

  // --- SessionStore
  Result<SessionRow> FindSession(const std::string& digest) override {
    return Read([&](Connection& c) -> Result<SessionRow> {
      auto s = c.Prepare(
          "SELECT s.digest, u.environment_id, u.id, s.created_at, s.last_used_at, s.expires_at "
          "FROM sessions s JOIN users u ON u.number = s.user_number WHERE s.digest = ?");
      s.Blob(1, digest);
      const int rc = s.Step();
      if (rc == SQLITE_DONE) return core::NotFound("no such session");
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "find session"));
      return SessionRow{s.ColBlob(0), s.ColText(1), s.ColText(2), s.ColInt(3), s.ColInt(4), s.ColInt(5)};
    });
  }
  Status TouchSession(const std::string& digest, std::int64_t now_ms) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare("UPDATE sessions SET last_used_at = ? WHERE digest = ?");
      s.Int(1, now_ms).Blob(2, digest);
      const int rc = s.Step();
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "touch session"));
      return {};
    });
  }
  Status CreateSession(const SessionRow& row) override {
    return Write([&]() -> Status {
      auto user = UserNumber(row.environment_id, row.user_id);
      if (!user) return std::unexpected(user.error());
      return InsertSession(row, *user);
    });
  }
  Status CreateSessionClearingCounter(const SessionRow& row, const std::string& counter_key) override {
    return Write([&]() -> Status {
      auto user = UserNumber(row.environment_id, row.user_id);
      if (!user) return std::unexpected(user.error());
      if (auto st = InsertSession(row, *user); !st) return st;
      return DeleteCounter(counter_key);
    });
  }
  Result<std::int64_t> PurgeSessions(std::int64_t now_ms, std::int64_t idle_since_ms,
                                     std::int64_t created_since_ms) override {
    return Write([&]() -> Result<std::int64_t> {
      auto s = writer_.Prepare(
          "DELETE FROM sessions WHERE (expires_at <> 0 AND expires_at <= ?) OR last_used_at <= ? OR created_at <= ?");
      constexpr std::int64_t kOff = std::numeric_limits<std::int64_t>::min();  // matches no row
      s.Int(1, now_ms).Int(2, idle_since_ms ? idle_since_ms : kOff).Int(3, created_since_ms ? created_since_ms : kOff);
      const int rc = s.Step();
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "purge sessions"));
      return static_cast<std::int64_t>(writer_.Changes());
    });
  }
  Status DeleteSession(const std::string& digest) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare("DELETE FROM sessions WHERE digest = ?");
      s.Blob(1, digest);
      const int rc = s.Step();
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "delete session"));
      if (writer_.Changes() == 0) return core::NotFound("no such session");
      return {};
    });
  }

  WriteStats Stats() {
    std::lock_guard lock(queue_mu_);
    WriteStats out = write_stats_;
    out.queued = queue_.size();
    return out;
  }

  // --- AuditStore
  void SetAuditMac(AuditMac mac) override {
    std::lock_guard lock(write_mu_);
    audit_mac_ = std::move(mac);
  }
  Status AppendAudit(const std::vector<AuditRow>& rows) override {
    if (rows.empty()) return {};
    return Write([&]() -> Status { return AppendAuditIn(rows); });
  }
  Result<std::vector<AuditRow>> ListAudit(const std::string& environment_id, std::int64_t after_seq,
                                          int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<AuditRow>> {
      auto s = c.Prepare(
          "SELECT environment_id, seq, at, principal_kind, principal_id, principal_user, api, route, request_id, "
          "action, subject, outcome, fields, prev, hash FROM audit_log WHERE environment_id = ? AND seq > ? "
          "ORDER BY seq LIMIT ?");
      s.Text(1, environment_id).Int(2, after_seq).Int(3, std::max(limit, 0));
      return Collect<AuditRow>(
          s,
          [](const Stmt& q) {
            return AuditRow{q.ColText(0),  q.ColInt(1),   q.ColInt(2),   q.ColText(3),  q.ColText(4),
                            q.ColText(5),  q.ColText(6),  q.ColText(7),  q.ColText(8),  q.ColText(9),
                            q.ColText(10), q.ColText(11), q.ColText(12), q.ColBlob(13), q.ColBlob(14)};
          },
          "list audit");
    });
  }
  Result<std::optional<AuditHead>> GetAuditHead(const std::string& environment_id) override {
    return Read([&](Connection& c) { return ReadHead(c, environment_id); });
  }
  Result<std::vector<AuditCheckpoint>> ListAuditCheckpoints(const std::string& environment_id) override {
    return Read([&](Connection& c) -> Result<std::vector<AuditCheckpoint>> {
      auto s = c.Prepare(
          "SELECT environment_id, seq, hash, at, mac FROM audit_checkpoints WHERE environment_id = ? ORDER BY seq");
      s.Text(1, environment_id);
      return Collect<AuditCheckpoint>(
          s, [](const Stmt& q) { return AuditCheckpoint{q.ColText(0), q.ColInt(1), q.ColBlob(2), q.ColInt(3), q.ColBlob(4)}; },
          "list audit checkpoints");
    });
  }
  Result<std::int64_t> PurgeAudit(const std::string& environment_id, std::int64_t before_ms) override {
    return Write([&]() -> Result<std::int64_t> {
      auto q = writer_.Prepare(
          "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints WHERE environment_id = ? AND at < ?");
      q.Text(1, environment_id).Int(2, before_ms);
      int rc = q.Step();
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "purge audit"));
      const std::int64_t upto = q.ColInt(0);
      if (upto == 0) return std::int64_t{0};
      auto d = writer_.Prepare("DELETE FROM audit_log WHERE environment_id = ? AND seq <= ?");
      d.Text(1, environment_id).Int(2, upto);
      if ((rc = d.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "purge audit"));
      const std::int64_t removed = writer_.Changes();
      auto k = writer_.Prepare("DELETE FROM audit_checkpoints WHERE environment_id = ? AND seq < ?");
      k.Text(1, environment_id).Int(2, upto);
      if ((rc = k.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "purge audit"));
      return removed;
    });
  }

 private:
  static Result<std::optional<AuditHead>> ReadHead(Connection& c, const std::string& environment_id) {
    auto s = c.Prepare("SELECT environment_id, seq, hash, mac FROM audit_heads WHERE environment_id = ?");
    s.Text(1, environment_id);
    const int rc = s.Step();
    if (rc == SQLITE_DONE) return std::optional<AuditHead>{};
    if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "audit head"));
    return std::optional<AuditHead>(AuditHead{s.ColText(0), s.ColInt(1), s.ColBlob(2), s.ColBlob(3)});
  }

  // Links and appends `rows` in the writer's open transaction.
  Status AppendAuditIn(const std::vector<AuditRow>& rows) {
    if (rows.empty()) return {};
    if (!audit_mac_) return Fail(ErrorCode::kFailedPrecondition, "the audit chain has no key");
    for (auto& group : audit_chain::ByEnvironment(rows)) {
      const std::string& env = group.front().environment_id;
      auto head = ReadHead(writer_, env);
      if (!head) return std::unexpected(head.error());
      auto linked = audit_chain::Link(audit_mac_, env, *head, group);
      int rc;
      for (const auto& r : group) {
        auto s = writer_.Prepare(
            "INSERT INTO audit_log(environment_id, seq, at, principal_kind, principal_id, principal_user, api, route, "
            "request_id, action, subject, outcome, fields, prev, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        s.Text(1, r.environment_id).Int(2, r.seq).Int(3, r.at_ms).Text(4, r.principal_kind).Text(5, r.principal_id)
            .Text(6, r.principal_user).Text(7, r.api).Text(8, r.route).Text(9, r.request_id).Text(10, r.action)
            .Text(11, r.subject).Text(12, r.outcome).Text(13, r.fields).Blob(14, r.prev).Blob(15, r.hash);
        if ((rc = s.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "append audit"));
      }
      for (const auto& k : linked.checkpoints) {
        auto s = writer_.Prepare(
            "INSERT INTO audit_checkpoints(environment_id, seq, hash, at, mac) VALUES (?,?,?,?,?)");
        s.Text(1, k.environment_id).Int(2, k.seq).Blob(3, k.hash).Int(4, k.at_ms).Blob(5, k.mac);
        if ((rc = s.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "audit checkpoint"));
      }
      auto h = writer_.Prepare(
          "INSERT INTO audit_heads(environment_id, seq, hash, mac) VALUES (?,?,?,?) ON CONFLICT(environment_id) "
          "DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac");
      h.Text(1, env).Int(2, linked.head.seq).Blob(3, linked.head.hash).Blob(4, linked.head.mac);
      if ((rc = h.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "audit head"));
    }
    return {};
  }


  void Migrate() {
    writer_.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    // IMMEDIATE takes the write lock first, so two processes starting at once apply
    // each step exactly once.
    writer_.Exec("BEGIN IMMEDIATE");
    try {
      std::int64_t current = 0;
      {
        auto s = writer_.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        if (s.Step() == SQLITE_ROW) current = s.ColInt(0);
      }
      const auto known = static_cast<std::int64_t>(std::size(kMigrations));
      if (current > known) throw std::runtime_error("database schema is newer than this binary");
      for (std::int64_t v = current + 1; v <= known; ++v) {
        writer_.Exec(kMigrations[v - 1]);
        auto s = writer_.Prepare("INSERT INTO schema_migrations(version, applied_at) VALUES (?, strftime('%s','now'))");
        s.Int(1, v);
        if (s.Step() != SQLITE_DONE) throw std::runtime_error("cannot record migration");
      }
      writer_.Exec("COMMIT");
    } catch (...) {
      writer_.TryExec("ROLLBACK");
      throw;
    }
  }

  // Group commit (docs/architecture.md, "Group commit"). A write is a closure run on
  // the writer connection; the caller queues it and waits. Whoever finds no batch being
  // committed becomes the leader: it takes every queued write, runs them in one
  // IMMEDIATE transaction, each inside its own savepoint (a write that fails is rolled
  // back to it and keeps its own error; the others stay), commits once (one fsync), and
  // wakes the writers of the batch, which answer only now that their write is durable.
  // A failed COMMIT fails the whole batch with kUnavailable, as one write's did before.
  template <class F>
  auto Write(F&& body) -> decltype(body()) {
    using R = decltype(body());
    std::optional<R> result;
    QueuedWrite w{[&] {
                    result.emplace(body());
                    return result->has_value();
                  },
                  [&](const core::Error& e) { result.emplace(std::unexpected(e)); }};
    Commit(w);
    if (w.exception) std::rethrow_exception(w.exception);
    return std::move(*result);
  }

  struct QueuedWrite {
    std::function<bool()> run;                     // in the open transaction; true: keep its changes
    std::function<void(const core::Error&)> fail;  // its changes were lost with the transaction
    std::exception_ptr exception;                  // what `run` threw (rethrown to its caller)
    bool done = false;                             // guarded by queue_mu_
  };

  void Commit(QueuedWrite& w) {
    std::unique_lock lock(queue_mu_);
    queue_.push_back(&w);
    while (!w.done) {
      if (committing_) {
        queue_cv_.wait(lock);
        continue;
      }
      committing_ = true;
      std::vector<QueuedWrite*> batch;
      batch.swap(queue_);
      ++write_stats_.batches;
      write_stats_.writes += batch.size();
      write_stats_.largest = std::max<std::uint64_t>(write_stats_.largest, batch.size());
      lock.unlock();
      struct Hand {  // whatever happens in the batch, its writers are woken and the next may lead
        SqliteStore* self;
        std::unique_lock<std::mutex>& lock;
        std::vector<QueuedWrite*>& batch;
        ~Hand() {
          lock.lock();
          self->committing_ = false;
          for (QueuedWrite* q : batch) q->done = true;
          self->queue_cv_.notify_all();
        }
      } hand{this, lock, batch};
      std::lock_guard writer(write_mu_);
      RunBatch(batch);
    }
  }

  // The leader's part: `batch` in as few transactions as the database allows (one,
  // unless a failing write took the transaction down with it: SQLite rolls back the
  // whole transaction on some I/O errors, and then the writes before it are lost and
  // the writes after it start a new transaction).
  void RunBatch(const std::vector<QueuedWrite*>& batch) {
    const core::Error lost = StepError(SQLITE_IOERR, "write");
    std::size_t next = 0;
    while (next < batch.size()) {
      if (!writer_.TryExec("BEGIN IMMEDIATE")) {
        // Whatever stops a transaction from starting (busy, no space for the WAL) is
        // temporary as far as the callers know.
        core::Error e = StepError(sqlite3_extended_errcode(writer_.raw()), "begin");
        if (e.code == ErrorCode::kInternal) e = StepError(SQLITE_BUSY, "begin");
        for (; next < batch.size(); ++next) batch[next]->fail(e);
        return;
      }
      std::vector<QueuedWrite*> kept;
      bool open = true;
      while (open && next < batch.size()) {
        QueuedWrite& w = *batch[next++];
        if (!writer_.TryExec("SAVEPOINT group_write")) {
          w.fail(StepError(sqlite3_extended_errcode(writer_.raw()), "savepoint"));
          open = sqlite3_get_autocommit(writer_.raw()) == 0;
          continue;
        }
        bool ok = false;
        try {
          ok = w.run();
        } catch (...) {
          w.exception = std::current_exception();
        }
        if (ok) {
          writer_.TryExec("RELEASE group_write");
          kept.push_back(&w);
          continue;
        }
        // Undo this write only; `w` keeps its own error.
        if (sqlite3_get_autocommit(writer_.raw()) != 0 || !writer_.TryExec("ROLLBACK TO group_write") ||
            !writer_.TryExec("RELEASE group_write")) {
          open = false;  // the transaction is gone, or in a state we do not trust
        }
      }
      if (!open) {
        if (sqlite3_get_autocommit(writer_.raw()) == 0) writer_.TryExec("ROLLBACK");
        for (QueuedWrite* k : kept) k->fail(lost);
        continue;
      }
      if (kept.empty()) {
        writer_.TryExec("ROLLBACK");
        continue;
      }
      if (!writer_.TryExec("COMMIT")) {
        const int rc = sqlite3_extended_errcode(writer_.raw());  // the COMMIT's, before ROLLBACK sets its own
        writer_.TryExec("ROLLBACK");
        const core::Error e = StepError(rc, "commit");
        for (QueuedWrite* k : kept) k->fail(e);
      }
    }
  }

  template <class F>
  auto Read(F&& body) -> decltype(body(std::declval<Connection&>())) {
    Connection* c;
    {
      std::unique_lock lock(read_mu_);
      read_cv_.wait(lock, [&] { return !idle_.empty(); });
      c = idle_.back();
      idle_.pop_back();
    }
    struct Return {
      SqliteStore* self;
      Connection* c;
      ~Return() {
        {
          std::lock_guard lock(self->read_mu_);
          self->idle_.push_back(c);
        }
        self->read_cv_.notify_one();
      }
    } give_back{this, c};
    return body(*c);
  }

  Result<EnvironmentRow> FindEnvironment(const char* sql, const std::string& key) {
    return Read([&](Connection& c) -> Result<EnvironmentRow> {
      auto s = c.Prepare(sql);
      s.Text(1, key);
      const int rc = s.Step();
      if (rc == SQLITE_DONE) return core::NotFound("environment not found");
      if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, "find environment"));
      return EnvironmentRow{s.ColText(0), s.ColText(1), s.ColBlob(2), s.ColInt(3)};
    });
  }

  static ApiKeyRow ReadKey(const Stmt& s) {
    ApiKeyRow k{s.ColText(0), s.ColText(1), s.ColText(2), s.ColText(3), s.ColBlob(4), s.ColInt(5), std::nullopt};
    if (!s.ColNull(6)) k.revoked_at_ms = s.ColInt(6);
    k.apis = s.ColText(7);
    k.scopes = s.ColText(8);
    return k;
  }

  // Blind-index claims of a user, or of a record: the same columns in two tables. One
  // statement per claim so a violation names the kind that clashed.
  // `held` (users only): finds another holder of an exclusive claim's (kind, digest).
  Status InsertClaims(const char* sql, const char* held, const char* what, const std::string& environment_id,
                      std::int64_t number, const std::vector<IndexEntry>& index) {
    for (const auto& e : index) {
      auto s = writer_.Prepare(sql);
      s.Text(1, environment_id).Text(2, e.kind).Blob(3, e.digest).Int(4, number).Int(5, e.unique || e.exclusive)
          .Int(6, e.generation);
      const int rc = s.Step();
      if (IsConstraint(rc)) return core::AlreadyExists(e.kind, e.kind + " is already taken");
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, what));
      if (e.exclusive && held != nullptr) {
        auto h = writer_.Prepare(held);
        h.Text(1, environment_id).Text(2, e.kind).Blob(3, e.digest).Int(4, number);
        const int hrc = h.Step();
        if (hrc == SQLITE_ROW) return core::AlreadyExists(e.kind, e.kind + " is already taken");
        if (hrc != SQLITE_DONE) return std::unexpected(StepError(hrc, what));
      }
    }
    return {};
  }
  Status InsertIndex(const std::string& environment_id, std::int64_t number, const std::vector<IndexEntry>& index) {
    return InsertClaims(
        "INSERT INTO user_index(environment_id, kind, digest, user_number, is_unique, generation) VALUES (?,?,?,?,?,?)",
        "SELECT 1 FROM user_index WHERE environment_id = ? AND kind = ? AND digest = ? AND user_number <> ? LIMIT 1",
        "insert index", environment_id, number, index);
  }

  Status PutPassword(std::int64_t number, const std::string& hash) {
    auto s = writer_.Prepare(
        "INSERT INTO credentials(user_number, password_hash) VALUES (?, ?) "
        "ON CONFLICT(user_number) DO UPDATE SET password_hash = excluded.password_hash");
    s.Int(1, number).Text(2, hash);
    const int rc = s.Step();
    if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "store password"));
    return {};
  }

  // Inside a write transaction.
  Status DeleteCounter(const std::string& key) {
    auto s = writer_.Prepare("DELETE FROM counters WHERE key = ?");
    s.Blob(1, key);
    if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "reset counter"));
    return {};
  }

  Status InsertSession(const SessionRow& row, std::int64_t number) {
    auto s = writer_.Prepare(
        "INSERT INTO sessions(digest, user_number, created_at, last_used_at, expires_at) VALUES (?,?,?,?,?)");
    s.Blob(1, row.digest).Int(2, number).Int(3, row.created_at_ms).Int(4, row.last_used_at_ms)
        .Int(5, row.expires_at_ms);
    const int rc = s.Step();
    if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "insert session"));
    return {};
  }

  // kNotFound naming `field` unless `sql` (two text parameters) finds a row.
  static Status Exists(Connection& c, const char* sql, const std::string& a, const std::string& b, const char* field) {
    auto s = c.Prepare(sql);
    s.Text(1, a).Text(2, b);
    const int rc = s.Step();
    if (rc == SQLITE_ROW) return {};
    if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "find"));
    return Fail(ErrorCode::kNotFound, std::string("no such ") + field, field);
  }

  static Result<RecordRow> One(Stmt& s, const char* what) {
    const int rc = s.Step();
    if (rc == SQLITE_DONE) return core::NotFound("record not found");
    if (rc != SQLITE_ROW) return std::unexpected(StepError(rc, what));
    return ReadRecord(s);
  }

  // Inside a write: the number of a record (of `kind`, when given) in the environment.
  Result<std::int64_t> RecordNumber(const std::string& environment_id, const std::string& id,
                                    const std::string* kind = nullptr) {
    auto s = writer_.Prepare("SELECT number, kind FROM records WHERE id = ? AND environment_id = ?");
    s.Text(1, id).Text(2, environment_id);
    const int rc = s.Step();
    if (rc == SQLITE_ROW && (kind == nullptr || s.ColText(1) == *kind)) return s.ColInt(0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return std::unexpected(StepError(rc, "find record"));
    return Fail(ErrorCode::kNotFound, "no such record: " + id, "record");
  }
  Result<std::int64_t> UserNumber(const std::string& environment_id, const std::string& id) {
    auto s = writer_.Prepare("SELECT number FROM users WHERE id = ? AND environment_id = ?");
    s.Text(1, id).Text(2, environment_id);
    const int rc = s.Step();
    if (rc == SQLITE_ROW) return s.ColInt(0);
    if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "find user"));
    return Fail(ErrorCode::kNotFound, "no such user: " + id, "user");
  }
  Status Join(std::int64_t record_number, std::int64_t user_number) {
    auto s = writer_.Prepare("INSERT OR IGNORE INTO memberships(record_number, user_number) VALUES (?, ?)");
    s.Int(1, record_number).Int(2, user_number);
    if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "add member"));
    return {};
  }
  // Joins each user (by id; kNotFound "user" if not the environment's) to the record.
  Status JoinUsers(const std::string& environment_id, std::int64_t record, const std::vector<std::string>& user_ids) {
    for (const auto& user_id : user_ids) {
      auto user = UserNumber(environment_id, user_id);
      if (!user) return std::unexpected(user.error());
      if (auto st = Join(record, *user); !st) return st;
    }
    return {};
  }
  // The record's members become `user_ids`; the caller's transaction undoes it on error.
  Status ReplaceMembers(const std::string& environment_id, std::int64_t record,
                        const std::vector<std::string>& user_ids) {
    auto d = writer_.Prepare("DELETE FROM memberships WHERE record_number = ?");
    d.Int(1, record);
    if (const int rc = d.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "set members"));
    return JoinUsers(environment_id, record, user_ids);
  }
  // The user's memberships among records of `kind` become `record_ids`.
  Status ReplaceMemberships(const std::string& environment_id, std::int64_t user, const std::string& kind,
                            const std::vector<std::string>& record_ids) {
    auto d = writer_.Prepare(
        "DELETE FROM memberships WHERE user_number = ? AND record_number IN "
        "(SELECT number FROM records WHERE environment_id = ? AND kind = ?)");
    d.Int(1, user).Text(2, environment_id).Text(3, kind);
    if (const int rc = d.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "set memberships"));
    for (const auto& record_id : record_ids) {
      auto record = RecordNumber(environment_id, record_id, &kind);
      if (!record) return std::unexpected(record.error());
      if (auto st = Join(*record, user); !st) return st;
    }
    return {};
  }
  // Member records (by id: records of `kind` in the environment, kNotFound "member"
  // otherwise) joined to record `number`; the caller checks for a cycle after.
  Status JoinRecords(const std::string& environment_id, const std::string& kind, std::int64_t number,
                     const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      auto member = RecordNumber(environment_id, id, &kind);
      if (!member && member.error().code == ErrorCode::kNotFound)
        return Fail(ErrorCode::kNotFound, "no such member record: " + id, "member");
      if (!member) return std::unexpected(member.error());
      if (*member == number) return ContainsItself();
      auto s = writer_.Prepare("INSERT OR IGNORE INTO record_members(record_number, member_number) VALUES (?, ?)");
      s.Int(1, number).Int(2, *member);
      if (const int rc = s.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "add member record"));
    }
    return {};
  }
  // A record update's member records and member changes, then the cycle check. The
  // write lock serialises every such write, so the check sees every committed edge.
  Status ChangeMemberRecords(const std::string& environment_id, const std::string& kind, std::int64_t number,
                             const RecordUpdate& update) {
    const MemberChanges& changes = update.changes;
    bool added = !changes.add_records.empty();
    if (update.member_records) {
      auto d = writer_.Prepare("DELETE FROM record_members WHERE record_number = ?");
      d.Int(1, number);
      if (const int rc = d.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "set member records"));
      if (auto st = JoinRecords(environment_id, kind, number, *update.member_records); !st) return st;
      added = added || !update.member_records->empty();
    }
    for (const auto& id : changes.remove_users) {
      auto d = writer_.Prepare(
          "DELETE FROM memberships WHERE record_number = ? AND user_number IN "
          "(SELECT number FROM users WHERE id = ? AND environment_id = ?)");
      d.Int(1, number).Text(2, id).Text(3, environment_id);
      if (const int rc = d.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "remove member"));
    }
    for (const auto& id : changes.remove_records) {
      auto d = writer_.Prepare(
          "DELETE FROM record_members WHERE record_number = ? AND member_number IN "
          "(SELECT number FROM records WHERE id = ? AND environment_id = ?)");
      d.Int(1, number).Text(2, id).Text(3, environment_id);
      if (const int rc = d.Step(); rc != SQLITE_DONE) return std::unexpected(StepError(rc, "remove member record"));
    }
    if (auto st = JoinUsers(environment_id, number, changes.add_users); !st) return st;
    if (auto st = JoinRecords(environment_id, kind, number, changes.add_records); !st) return st;
    if (!added) return {};
    // Only this record's members changed, so a new cycle would pass through it.
    auto q = writer_.Prepare(
        "WITH RECURSIVE down(n) AS (SELECT member_number FROM record_members WHERE record_number = ?1 "
        "UNION SELECT rm.member_number FROM record_members rm JOIN down ON rm.record_number = down.n) "
        "SELECT 1 FROM down WHERE n = ?1 LIMIT 1");
    q.Int(1, number);
    const int rc = q.Step();
    if (rc == SQLITE_ROW) return ContainsItself();
    if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "check member records"));
    return {};
  }
  static std::unexpected<core::Error> ContainsItself() {
    return core::InvalidArgument("members", "a record may not contain itself, directly or through its members");
  }
  Status InsertRecordIndex(const std::string& environment_id, std::int64_t number,
                           const std::vector<IndexEntry>& index) {
    return InsertClaims(
        "INSERT INTO record_index(environment_id, kind, digest, record_number, is_unique, generation) "
        "VALUES (?,?,?,?,?,?)",
        nullptr, "insert record index", environment_id, number, index);
  }
  Result<std::int64_t> InsertMail(const MailRow& mail) {
    auto s = writer_.Prepare(
        "INSERT INTO outbox(environment_id, created_at, next_attempt_at, attempts, sealed) VALUES (?,?,?,?,?)");
    s.Text(1, mail.environment_id).Int(2, mail.created_at_ms).Int(3, mail.next_attempt_at_ms)
        .Int(4, mail.attempts).Blob(5, mail.sealed);
    const int rc = s.Step();
    if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "enqueue mail"));
    return writer_.LastRowId();
  }

  std::mutex write_mu_;  // held by the leader while it runs a batch on writer_
  AuditMac audit_mac_;  // set once by the service (SetAuditMac); guarded by write_mu_
  std::mutex queue_mu_;  // guards queue_, committing_, write_stats_ and each QueuedWrite::done
  std::condition_variable queue_cv_;
  std::vector<QueuedWrite*> queue_;  // writes waiting for the next batch
  bool committing_ = false;          // a leader is running a batch
  WriteStats write_stats_;
  Connection writer_;
  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<std::unique_ptr<Connection>> readers_;
  std::vector<Connection*> idle_;
};

}  // namespace

Result<std::string> IntegrityCheck(const std::string& path) {
  try {
    Connection c(path, 5000, true);
    auto s = c.Prepare("PRAGMA integrity_check");
    std::string out;
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) out += (out.empty() ? "" : "\n") + s.ColText(0);
    if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "integrity check"));
    return out;
  } catch (const std::exception& e) {
    return core::Fail(ErrorCode::kFailedPrecondition, e.what());
  }
}

std::unique_ptr<Store> Open(const Options& options) { return std::make_unique<SqliteStore>(options); }

WriteStats GetWriteStats(Store& store) {
  auto* s = dynamic_cast<SqliteStore*>(&store);
  return s ? s->Stats() : WriteStats{};
}

}  // namespace roster::store::sqlite
