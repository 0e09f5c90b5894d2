#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <condition_variable>
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

core::Error StepError(int rc, const char* what) {
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || (rc & 0xff) == SQLITE_BUSY)
    return core::Error{ErrorCode::kUnavailable, "database is busy", ""};
  if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR)
    return core::Error{ErrorCode::kUnavailable, "database cannot write", ""};
  return core::Error{ErrorCode::kInternal, std::string("database error in ") + what, ""};
}

bool IsConstraint(int rc) { return (rc & 0xff) == SQLITE_CONSTRAINT; }

// Runs `body` in one IMMEDIATE transaction; rolls back on any failure.
template <class F>
auto InTransaction(Connection& c, F&& body) -> decltype(body()) {
  if (!c.TryExec("BEGIN IMMEDIATE")) return std::unexpected(StepError(SQLITE_BUSY, "begin"));
  decltype(body()) result;
  try {
    result = body();
  } catch (...) {
    c.TryExec("ROLLBACK");
    throw;
  }
  if (!result) {
    c.TryExec("ROLLBACK");
    return result;
  }
  if (!c.TryExec("COMMIT")) {
    c.TryExec("ROLLBACK");
    return std::unexpected(StepError(sqlite3_errcode(c.raw()), "commit"));
  }
  return result;
}

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

  Status CreateApiKey(const ApiKeyRow& row) override {
    return Write([&]() -> Status {
      auto s = writer_.Prepare(
          "INSERT INTO api_keys(id, environment_id, role, identifier, digest, created_at) VALUES (?,?,?,?,?,?)");
      s.Text(1, row.id).Text(2, row.environment_id).Text(3, row.role).Text(4, row.identifier)
          .Blob(5, row.digest).Int(6, row.created_at_ms);
      const int rc = s.Step();
      if (IsConstraint(rc)) return core::AlreadyExists("key", "api key already exists");
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "create api key"));
      return {};
    });
  }
  Result<ApiKeyRow> FindApiKeyByDigest(const std::string& digest) override {
    return Read([&](Connection& c) -> Result<ApiKeyRow> {
      auto s = c.Prepare(
          "SELECT id, environment_id, role, identifier, digest, created_at, revoked_at FROM api_keys WHERE digest = ?");
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
          "SELECT id, environment_id, role, identifier, digest, created_at, revoked_at FROM api_keys "
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
    return Write([&]() -> Result<std::int64_t> {
      const UserRow& r = user.row;
      auto s = writer_.Prepare(
          "INSERT INTO users(id, environment_id, active, created_at, updated_at, version, sealed) "
          "VALUES (?,?,?,?,?,?,?)");
      s.Text(1, r.id).Text(2, r.environment_id).Int(3, r.active).Int(4, r.created_at_ms)
          .Int(5, r.updated_at_ms).Int(6, r.version).Blob(7, r.sealed);
      int rc = s.Step();
      if (IsConstraint(rc)) return core::AlreadyExists("id", "user id already exists");
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "insert user"));
      const std::int64_t number = writer_.LastRowId();
      if (auto st = InsertIndex(r.environment_id, number, user.index); !st) return std::unexpected(st.error());
      if (user.password_hash) {
        if (auto st = PutPassword(number, *user.password_hash); !st) return std::unexpected(st.error());
      }
      if (user.session) {
        if (auto st = InsertSession(*user.session, number); !st) return std::unexpected(st.error());
      }
      return number;
    });
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
      }
      if (update.revoke_sessions) {
        auto x = writer_.Prepare("DELETE FROM sessions WHERE user_number = ?");
        x.Int(1, number);
        if ((rc = x.Step()) != SQLITE_DONE) return std::unexpected(StepError(rc, "revoke sessions"));
      }
      return {};
    });
  }

  Status DeleteUser(const std::string& environment_id, const std::string& id) override {
    return Write([&]() -> Status {
      // Claims, credentials and sessions go by ON DELETE CASCADE in the same transaction.
      auto s = writer_.Prepare("DELETE FROM users WHERE id = ? AND environment_id = ?");
      s.Text(1, id).Text(2, environment_id);
      const int rc = s.Step();
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "delete user"));
      if (writer_.Changes() == 0) return core::NotFound("user not found");
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

 private:
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

  template <class F>
  auto Write(F&& body) -> decltype(body()) {
    std::lock_guard lock(write_mu_);
    return InTransaction(writer_, body);
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
    return k;
  }

  Status InsertIndex(const std::string& environment_id, std::int64_t number,
                     const std::vector<IndexEntry>& index) {
    for (const auto& e : index) {
      auto s = writer_.Prepare(
          "INSERT INTO user_index(environment_id, kind, digest, user_number, is_unique) VALUES (?,?,?,?,?)");
      s.Text(1, environment_id).Text(2, e.kind).Blob(3, e.digest).Int(4, number).Int(5, e.unique);
      const int rc = s.Step();
      if (IsConstraint(rc)) return core::AlreadyExists(e.kind, e.kind + " is already taken");
      if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "insert index"));
    }
    return {};
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

  Status InsertSession(const SessionRow& row, std::int64_t number) {
    auto s = writer_.Prepare(
        "INSERT INTO sessions(digest, user_number, created_at, last_used_at, expires_at) VALUES (?,?,?,?,?)");
    s.Blob(1, row.digest).Int(2, number).Int(3, row.created_at_ms).Int(4, row.last_used_at_ms)
        .Int(5, row.expires_at_ms);
    const int rc = s.Step();
    if (rc != SQLITE_DONE) return std::unexpected(StepError(rc, "insert session"));
    return {};
  }

  std::mutex write_mu_;
  Connection writer_;
  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<std::unique_ptr<Connection>> readers_;
  std::vector<Connection*> idle_;
};

}  // namespace

std::unique_ptr<Store> Open(const Options& options) { return std::make_unique<SqliteStore>(options); }

}  // namespace roster::store::sqlite
