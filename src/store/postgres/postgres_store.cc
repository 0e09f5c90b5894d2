#include "store/postgres/postgres_store.h"

#include "store/audit_chain.h"
#include "store/import_order.h"

#include "store/postgres/notification_watch.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace roster::store::postgres {
namespace {

// Key revocations are announced on this channel (see WatchApiKeys).
constexpr const char* kKeyChannel = "roster_api_keys";
constexpr const char* kNotifyKeyChange = "NOTIFY roster_api_keys";

using core::ErrorCode;
using core::Fail;

// Migrations are append-only: a released step is never edited, a change is a new step.
// The schema mirrors the SQLite adapter's; BYTEA holds digests and sealed blobs.
constexpr const char* kMigrations[] = {
    // 1: environments, keys, users, blind indexes, credentials, sessions.
    R"sql(
CREATE TABLE environments (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  wrapped_key BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  identifier TEXT NOT NULL,
  digest BYTEA NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX api_keys_by_env ON api_keys(environment_id);
CREATE TABLE users (
  number BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  active BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version BIGINT NOT NULL,
  sealed BYTEA NOT NULL
);
CREATE TABLE user_index (
  environment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  digest BYTEA NOT NULL,
  user_number BIGINT NOT NULL REFERENCES users(number) ON DELETE CASCADE,
  is_unique BOOLEAN NOT NULL,
  PRIMARY KEY (environment_id, kind, digest, user_number)
);
CREATE UNIQUE INDEX user_index_unique ON user_index(environment_id, kind, digest) WHERE is_unique;
CREATE INDEX user_index_by_user ON user_index(user_number);
CREATE TABLE credentials (
  user_number BIGINT PRIMARY KEY REFERENCES users(number) ON DELETE CASCADE,
  password_hash TEXT NOT NULL
);
CREATE TABLE sessions (
  digest BYTEA PRIMARY KEY,
  user_number BIGINT NOT NULL REFERENCES users(number) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_number);
)sql",
    // 2: records (groups, populations, applications, tokens) with their blind indexes,
    // memberships, the mail outbox, rate counters; users by environment for paging.
    R"sql(
CREATE INDEX users_by_env ON users(environment_id, number);
CREATE TABLE records (
  number BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version BIGINT NOT NULL,
  expires_at BIGINT NOT NULL DEFAULT 0,
  sealed BYTEA NOT NULL
);
CREATE INDEX records_by_kind ON records(environment_id, kind, number);
CREATE TABLE record_index (
  environment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  digest BYTEA NOT NULL,
  record_number BIGINT NOT NULL REFERENCES records(number) ON DELETE CASCADE,
  is_unique BOOLEAN NOT NULL,
  PRIMARY KEY (environment_id, kind, digest, record_number)
);
CREATE UNIQUE INDEX record_index_unique ON record_index(environment_id, kind, digest) WHERE is_unique;
CREATE INDEX record_index_by_record ON record_index(record_number);
CREATE TABLE memberships (
  record_number BIGINT NOT NULL REFERENCES records(number) ON DELETE CASCADE,
  user_number BIGINT NOT NULL REFERENCES users(number) ON DELETE CASCADE,
  PRIMARY KEY (record_number, user_number)
);
CREATE INDEX memberships_by_user ON memberships(user_number);
CREATE TABLE outbox (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  attempts BIGINT NOT NULL,
  sealed BYTEA NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_attempt_at);
CREATE TABLE counters (
  key BYTEA PRIMARY KEY,
  window_start BIGINT NOT NULL,
  count BIGINT NOT NULL
);
)sql",
    // 3: the APIs and scopes each key was made for (empty: made before keys had them).
    R"sql(
ALTER TABLE api_keys ADD COLUMN apis TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
)sql",
    // 4: records in records (a group in a group); gone with either record.
    R"sql(
CREATE TABLE record_members (
  record_number BIGINT NOT NULL REFERENCES records(number) ON DELETE CASCADE,
  member_number BIGINT NOT NULL REFERENCES records(number) ON DELETE CASCADE,
  PRIMARY KEY (record_number, member_number),
  CHECK (record_number <> member_number)
);
CREATE INDEX record_members_by_member ON record_members(member_number);
)sql",
    // 5: the audit trail, hash-chained per environment (store/audit_chain.h).
    R"sql(
CREATE TABLE audit_log (
  environment_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  at BIGINT NOT NULL,
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
  prev BYTEA NOT NULL,
  hash BYTEA NOT NULL,
  PRIMARY KEY (environment_id, seq)
);
CREATE INDEX audit_log_by_subject ON audit_log(environment_id, subject);
CREATE TABLE audit_heads (
  environment_id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  hash BYTEA NOT NULL,
  mac BYTEA NOT NULL
);
CREATE TABLE audit_checkpoints (
  environment_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  hash BYTEA NOT NULL,
  at BIGINT NOT NULL,
  mac BYTEA NOT NULL,
  PRIMARY KEY (environment_id, seq)
);
)sql",
    // 6: the keyring (master-key fingerprint and the wrapped roots), for master-key rotation.
    R"sql(
CREATE TABLE keyring (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  fingerprint BYTEA NOT NULL,
  wrapped_roots BYTEA NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql",
    // 7: the blind-index key generation of each index entry, for index-key rotation.
    R"sql(
ALTER TABLE user_index ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE record_index ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
)sql",
    // 8: no index of the audit trail by subject: no query used it (`audit export
    // --subject` walks the chain in order), and every audited read paid for it.
    R"sql(
DROP INDEX IF EXISTS audit_log_by_subject;
)sql",
    // 9: each environment's users counted per 1,024 user numbers (number >> 10), as rows of
    // changes: a statement-level trigger appends one row per block an inserting or
    // deleting statement touched, so concurrent creates never wait on one another's
    // counter row. CountUsers and UserNumberAt sum them (the block holding a position,
    // then fewer than 1,024 entries of users_by_env skipped in it, instead of `offset`
    // entries: ~50 ms at a million) and fold them into one row per block once they pile
    // up. An environment's rows go with it; a cascaded delete adds none for it.
    R"sql(
CREATE TABLE user_block_changes (
  environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  block BIGINT NOT NULL,
  users BIGINT NOT NULL
);
CREATE INDEX user_block_changes_by_env ON user_block_changes(environment_id, block);
INSERT INTO user_block_changes(environment_id, block, users)
  SELECT environment_id, number >> 10, count(*) FROM users GROUP BY environment_id, number >> 10;
CREATE FUNCTION roster_users_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO user_block_changes(environment_id, block, users)
    SELECT environment_id, number >> 10, count(*) FROM added GROUP BY environment_id, number >> 10;
  RETURN NULL;
END $$;
CREATE FUNCTION roster_users_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO user_block_changes(environment_id, block, users)
    SELECT r.environment_id, r.number >> 10, -count(*) FROM removed r
    WHERE EXISTS (SELECT 1 FROM environments e WHERE e.id = r.environment_id)
    GROUP BY r.environment_id, r.number >> 10;
  RETURN NULL;
END $$;
CREATE TRIGGER users_block_in AFTER INSERT ON users REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION roster_users_added();
CREATE TRIGGER users_block_out AFTER DELETE ON users REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION roster_users_removed();
)sql",
};

// Serialises migrations across processes. Advisory locks are per database, so the key
// only has to be the same in every Roster binary ("Roster" in ASCII).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(90638631855474)";

// Built-in type OIDs (fixed in the catalog; pg_type_d.h is a server header).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

// A statement with a name unique in this file: the name identifies its prepared form
// on every connection.
struct Query {
  const char* name;
  const char* sql;
};

// One parameter. Everything goes in binary format: text and bytea as their raw bytes
// (exact round trip, no NUL terminator needed, embedded NULs are not truncated), integers
// as big-endian int8, booleans as one byte. The referenced bytes must outlive the call.
class Param {
 public:
  static Param Of(Oid type, std::string_view bytes) { return Param(type, bytes); }
  static Param Int(std::int64_t v) {
    Param p(kInt8Oid, {});
    auto u = static_cast<std::uint64_t>(v);
    for (int i = 7; i >= 0; --i, u >>= 8) p.inline_[i] = static_cast<char>(u & 0xff);
    p.inline_size_ = 8;
    return p;
  }
  static Param Bool(bool v) {
    Param p(kBoolOid, {});
    p.inline_[0] = v ? 1 : 0;
    p.inline_size_ = 1;
    return p;
  }

  Oid type() const { return type_; }
  // Never null: a null value pointer would send SQL NULL.
  const char* data() const { return inline_size_ ? inline_ : (bytes_.data() ? bytes_.data() : ""); }
  int size() const { return inline_size_ ? inline_size_ : static_cast<int>(bytes_.size()); }

 private:
  Param(Oid type, std::string_view bytes) : type_(type), bytes_(bytes) {}
  Oid type_;
  std::string_view bytes_;
  char inline_[8] = {};
  int inline_size_ = 0;
};

Param Text(std::string_view v) { return Param::Of(kTextOid, v); }
Param Bytes(std::string_view v) { return Param::Of(kByteaOid, v); }
Param Int(std::int64_t v) { return Param::Int(v); }
Param Bool(bool v) { return Param::Bool(v); }

// A one-dimensional array parameter without NULLs, in the binary format the server's
// array_recv reads: ndim, flags, element type, (length, lower bound), then each element
// as its length and bytes. A batch statement takes one per column and unnests them.
class Array {
 public:
  static Array Text() { return Array(kTextArrayOid, kTextOid); }
  static Array Bytes() { return Array(kByteaArrayOid, kByteaOid); }
  static Array Int() { return Array(kInt8ArrayOid, kInt8Oid); }
  static Array Bool() { return Array(kBoolArrayOid, kBoolOid); }

  Array& Add(const char*) = delete;  // not a bool
  Array& Add(std::string_view v) {
    PutInt32(static_cast<std::int32_t>(v.size()));
    elements_.append(v);
    ++count_;
    return *this;
  }
  Array& Add(std::int64_t v) {
    PutInt32(8);
    auto u = static_cast<std::uint64_t>(v);
    for (int shift = 56; shift >= 0; shift -= 8) elements_.push_back(static_cast<char>((u >> shift) & 0xff));
    ++count_;
    return *this;
  }
  Array& Add(bool v) {
    PutInt32(1);
    elements_.push_back(v ? 1 : 0);
    ++count_;
    return *this;
  }
  std::size_t size() const { return count_; }

  // The parameter; it refers to this array, which must outlive the call.
  Param param() {
    bytes_.clear();
    Put(bytes_, 1);  // ndim
    Put(bytes_, 0);  // no NULLs
    Put(bytes_, static_cast<std::int32_t>(element_));
    Put(bytes_, static_cast<std::int32_t>(count_));
    Put(bytes_, 1);  // lower bound
    bytes_.append(elements_);
    return Param::Of(type_, bytes_);
  }

 private:
  static constexpr Oid kBoolArrayOid = 1000;
  static constexpr Oid kByteaArrayOid = 1001;
  static constexpr Oid kTextArrayOid = 1009;
  static constexpr Oid kInt8ArrayOid = 1016;

  Array(Oid type, Oid element) : type_(type), element_(element) {}
  static void Put(std::string& out, std::int32_t v) {
    const auto u = static_cast<std::uint32_t>(v);
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xff));
  }
  void PutInt32(std::int32_t v) { Put(elements_, v); }

  Oid type_;
  Oid element_;
  std::size_t count_ = 0;
  std::string elements_;
  std::string bytes_;
};

// A result in binary format; owns the PGresult. A null result (libpq could not even
// send the command) counts as failed with no SQLSTATE, i.e. a broken connection.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r) {}

  bool ok() const {
    const auto s = r_ ? PQresultStatus(r_.get()) : PGRES_FATAL_ERROR;
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
  }
  std::string_view sqlstate() const {
    const char* s = r_ ? PQresultErrorField(r_.get(), PG_DIAG_SQLSTATE) : nullptr;
    return s ? s : "";
  }
  bool IsUniqueViolation() const { return sqlstate() == "23505"; }
  std::string message() const { return r_ ? PQresultErrorMessage(r_.get()) : "no result"; }

  int size() const { return r_ ? PQntuples(r_.get()) : 0; }
  // Rows changed by INSERT/UPDATE/DELETE.
  std::int64_t affected() const {
    const std::string_view n = r_ ? PQcmdTuples(r_.get()) : "";
    std::int64_t v = 0;
    std::from_chars(n.data(), n.data() + n.size(), v);
    return v;
  }

  // TEXT and BYTEA columns alike: binary format carries the bytes as they are.
  std::string String(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
  }
  // Any integer column: big-endian two's complement of 2, 4 or 8 bytes.
  std::int64_t Int(int row, int col) const {
    const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col));
    const int n = PQgetlength(r_.get(), row, col);
    std::uint64_t u = (n > 0 && (p[0] & 0x80)) ? ~std::uint64_t{0} : 0;  // sign-extend
    for (int i = 0; i < n; ++i) u = (u << 8) | p[i];
    return static_cast<std::int64_t>(u);
  }
  bool Bool(int row, int col) const {
    return PQgetlength(r_.get(), row, col) == 1 && *PQgetvalue(r_.get(), row, col) != 0;
  }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> r_;
};

core::Error Unavailable() { return core::Error{ErrorCode::kUnavailable, "database unavailable", ""}; }

class Connection {
 public:
  explicit Connection(const std::string& dsn) {
    conn_ = Connect(dsn, "10");
    if (PQstatus(conn_) != CONNECTION_OK || !Setup()) {
      std::string message = PQerrorMessage(conn_);
      while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
      PQfinish(conn_);
      throw std::runtime_error("cannot connect to PostgreSQL: " + message);
    }
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `q` with binary parameters and results, preparing it on first use here.
  Rows Exec(const Query& q, std::initializer_list<Param> params) {
    std::vector<Oid> types;
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats(params.size(), 1);
    for (const Param& p : params) {
      types.push_back(p.type());
      values.push_back(p.data());
      lengths.push_back(p.size());
    }
    const int n = static_cast<int>(params.size());
    if (!prepared_.contains(q.name)) {
      Rows prepared(PQprepare(conn_, q.name, q.sql, n, types.data()));
      if (!prepared.ok()) return prepared;
      prepared_.insert(q.name);
    }
    return Rows(PQexecPrepared(conn_, q.name, n, values.data(), lengths.data(), formats.data(),
                               /*resultFormat=*/1));
  }

  // Parameterless commands (transaction control, migrations) over the simple protocol,
  // which also accepts several statements in one string.
  Rows Simple(const char* sql) { return Rows(PQexec(conn_, sql)); }

  // Maps a failed result to the port's error. A lost or terminated session marks the
  // connection for reset; messages never carry parameter values.
  core::Error Failure(const Rows& r, const char* what) {
    const std::string_view state = r.sqlstate();
    if (PQstatus(conn_) != CONNECTION_OK || state.empty() || state.starts_with("08") || state == "57P01" ||
        state == "57P02" || state == "57P03") {
      broken_ = true;
      return Unavailable();
    }
    // Lock contention and cancellation: the session is fine, the call may be retried.
    if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014")
      return core::Error{ErrorCode::kUnavailable, "database is busy", ""};
    if (state.starts_with("53")) return core::Error{ErrorCode::kUnavailable, "database is out of resources", ""};
    // Bytes that are not valid UTF-8 cannot be TEXT (SQLite would have stored them).
    if (state == "22021" || state == "22P05")
      return core::Error{ErrorCode::kInvalidArgument, "text is not valid UTF-8", ""};
    return core::Error{ErrorCode::kInternal, std::string("database error in ") + what, ""};
  }

  // Makes the connection fit for a new call: reconnects after a failure and ends a
  // transaction an interrupted call left open. False if the server is still unreachable.
  bool Recover() {
    if (!broken_ && PQstatus(conn_) == CONNECTION_OK && !EndedWhileIdle()) {
      switch (PQtransactionStatus(conn_)) {
        case PQTRANS_IDLE:
          return true;
        case PQTRANS_INTRANS:
        case PQTRANS_INERROR:
          if (Simple("ROLLBACK").ok()) return true;
          break;
        default:  // a command still in flight or an unknown state: start over
          break;
      }
    }
    // A new session has neither our settings nor our prepared statements.
    prepared_.clear();
    PQreset(conn_);
    broken_ = PQstatus(conn_) != CONNECTION_OK || !Setup();
    return !broken_;
  }

 private:
  // Per-session settings, applied on connect and after every reset.
  bool Setup() {
    // An acknowledged write must be durable even if the server's default says otherwise.
    return Simple("SET synchronous_commit = on").ok();
  }

  // A pooled session can die while idle (server restart, failover, an administrator's
  // pg_terminate_backend) and nobody notices until it is used. The server says goodbye
  // before it hangs up, and an idle session of ours is otherwise never spoken to (no
  // LISTEN here), so anything to read means the session is ending: start a new one
  // rather than wait for the hang-up. One poll(2), no round trip, so a call is not lent
  // a session already known dead.
  bool EndedWhileIdle() {
    pollfd p{PQsocket(conn_), POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  PGconn* conn_ = nullptr;
  bool broken_ = false;
  std::unordered_set<std::string_view> prepared_;  // names of Query literals
};

// --- Statements. One per use so each has a single parameter signature.
constexpr Query kSchemaVersion{"schema_version", "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"};
constexpr Query kRecordMigration{"record_migration", "INSERT INTO schema_migrations(version) VALUES ($1)"};

constexpr Query kInsertEnvironment{
    "insert_environment", "INSERT INTO environments(id, name, wrapped_key, created_at) VALUES ($1, $2, $3, $4)"};
constexpr Query kFindEnvironmentByName{
    "find_environment_by_name", "SELECT id, name, wrapped_key, created_at FROM environments WHERE name = $1"};
constexpr Query kFindEnvironmentById{
    "find_environment_by_id", "SELECT id, name, wrapped_key, created_at FROM environments WHERE id = $1"};
// COLLATE "C" orders by bytes, as SQLite does, whatever the database's collation.
constexpr Query kListEnvironments{
    "list_environments",
    "SELECT id, name, wrapped_key, created_at FROM environments ORDER BY created_at, name COLLATE \"C\""};

constexpr Query kReplaceEnvironmentKeys{
    "replace_environment_keys", "UPDATE environments SET wrapped_key = $3 WHERE id = $1 AND wrapped_key = $2"};
constexpr Query kEnvironmentExists{"environment_exists", "SELECT 1 FROM environments WHERE id = $1"};

// The keyring. An environment's creation reads the fingerprint FOR SHARE, a rotation
// updates the row first: so one waits for the other, and a creation after a rotation
// sees the new fingerprint while a rotation after a creation counts the new environment.
constexpr Query kGetKeyring{"get_keyring", "SELECT fingerprint, wrapped_roots, updated_at FROM keyring WHERE id = 1"};
constexpr Query kKeyringForShare{"keyring_for_share", "SELECT fingerprint FROM keyring WHERE id = 1 FOR SHARE"};
constexpr Query kCreateKeyring{
    "create_keyring", "INSERT INTO keyring(id, fingerprint, wrapped_roots, updated_at) VALUES (1, $1, $2, $3)"};
constexpr Query kRotateKeyring{
    "rotate_keyring",
    "UPDATE keyring SET fingerprint = $2, wrapped_roots = $3, updated_at = $4 WHERE id = 1 AND fingerprint = $1"};
constexpr Query kCountEnvironments{"count_environments", "SELECT count(*)::bigint FROM environments"};

// --- Re-keying: one statement per table.
constexpr Query kListSealedUsers{
    "list_sealed_users",
    "SELECT number::bigint, id, ''::text, sealed FROM users WHERE environment_id = $1 AND number > $2 "
    "ORDER BY number LIMIT $3"};
constexpr Query kListSealedRecords{
    "list_sealed_records",
    "SELECT number::bigint, id, kind, sealed FROM records WHERE environment_id = $1 AND number > $2 "
    "ORDER BY number LIMIT $3"};
constexpr Query kListSealedMail{
    "list_sealed_mail",
    "SELECT id::bigint, ''::text, ''::text, sealed FROM outbox WHERE environment_id = $1 AND id > $2 "
    "ORDER BY id LIMIT $3"};
constexpr Query kReplaceSealedUser{
    "replace_sealed_user", "UPDATE users SET sealed = $4 WHERE number = $1 AND environment_id = $2 AND sealed = $3"};
constexpr Query kReplaceSealedRecord{
    "replace_sealed_record",
    "UPDATE records SET sealed = $4 WHERE number = $1 AND environment_id = $2 AND sealed = $3"};
constexpr Query kReplaceSealedMail{
    "replace_sealed_mail", "UPDATE outbox SET sealed = $4 WHERE id = $1 AND environment_id = $2 AND sealed = $3"};

constexpr Query kInsertApiKey{
    "insert_api_key",
    "INSERT INTO api_keys(id, environment_id, role, identifier, digest, created_at, apis, scopes) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
constexpr Query kFindApiKey{
    "find_api_key",
    "SELECT id, environment_id, role, identifier, digest, created_at, revoked_at, apis, scopes FROM api_keys WHERE digest = $1"};
constexpr Query kListApiKeys{
    "list_api_keys",
    "SELECT id, environment_id, role, identifier, digest, created_at, revoked_at, apis, scopes FROM api_keys "
    "WHERE environment_id = $1 ORDER BY created_at, id COLLATE \"C\""};
constexpr Query kRevokeApiKey{
    "revoke_api_key", "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL"};
constexpr Query kApiKeyExists{"api_key_exists", "SELECT 1 FROM api_keys WHERE id = $1"};

constexpr Query kInsertAudit{
    "insert_audit",
    "INSERT INTO audit_log(environment_id, seq, at, principal_kind, principal_id, principal_user, api, route, "
    "request_id, action, subject, outcome, fields, prev, hash) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"};
constexpr Query kListAudit{
    "list_audit",
    "SELECT environment_id, seq, at, principal_kind, principal_id, principal_user, api, route, request_id, "
    "action, subject, outcome, fields, prev, hash FROM audit_log WHERE environment_id = $1 AND seq > $2 "
    "ORDER BY seq LIMIT $3"};
// A chain's head row exists (seq 0: no records yet) and is locked by the appending
// transaction, so appends to one environment's chain follow one another.
constexpr Query kEnsureAuditHead{
    "ensure_audit_head",
    "INSERT INTO audit_heads(environment_id, seq, hash, mac) VALUES ($1, 0, ''::bytea, ''::bytea) "
    "ON CONFLICT (environment_id) DO NOTHING"};
constexpr Query kLockAuditHead{
    "lock_audit_head", "SELECT environment_id, seq, hash, mac FROM audit_heads WHERE environment_id = $1 FOR UPDATE"};
constexpr Query kGetAuditHead{
    "get_audit_head", "SELECT environment_id, seq, hash, mac FROM audit_heads WHERE environment_id = $1 AND seq > 0"};
constexpr Query kSetAuditHead{
    "set_audit_head", "UPDATE audit_heads SET seq = $2, hash = $3, mac = $4 WHERE environment_id = $1"};
constexpr Query kInsertAuditCheckpoint{
    "insert_audit_checkpoint",
    "INSERT INTO audit_checkpoints(environment_id, seq, hash, at, mac) VALUES ($1, $2, $3, $4, $5)"};
constexpr Query kListAuditCheckpoints{
    "list_audit_checkpoints",
    "SELECT environment_id, seq, hash, at, mac FROM audit_checkpoints WHERE environment_id = $1 ORDER BY seq"};
constexpr Query kAuditPurgeLimit{
    "audit_purge_limit",
    "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints WHERE environment_id = $1 AND at < $2"};
constexpr Query kPurgeAudit{"purge_audit", "DELETE FROM audit_log WHERE environment_id = $1 AND seq <= $2"};
constexpr Query kPurgeAuditCheckpoints{
    "purge_audit_checkpoints", "DELETE FROM audit_checkpoints WHERE environment_id = $1 AND seq < $2"};

constexpr Query kInsertUser{
    "insert_user",
    "INSERT INTO users(id, environment_id, active, created_at, updated_at, version, sealed) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING number"};
constexpr Query kGetUser{
    "get_user",
    "SELECT number, id, environment_id, active, created_at, updated_at, version, sealed "
    "FROM users WHERE id = $1 AND environment_id = $2"};
constexpr Query kFindUsers{
    "find_users",
    "SELECT u.number, u.id, u.environment_id, u.active, u.created_at, u.updated_at, u.version, u.sealed "
    "FROM user_index i JOIN users u ON u.number = i.user_number "
    "WHERE i.environment_id = $1 AND i.kind = $2 AND i.digest = $3 ORDER BY u.number"};
constexpr Query kFindUsersAfter{
    "find_users_after",
    "SELECT u.number, u.id, u.environment_id, u.active, u.created_at, u.updated_at, u.version, u.sealed "
    "FROM user_index i JOIN users u ON u.number = i.user_number "
    "WHERE i.environment_id = $1 AND i.kind = $2 AND i.digest = $3 AND i.user_number > $4 "
    "ORDER BY i.user_number LIMIT $5"};
constexpr Query kCountHolders{
    "count_holders",
    // The holders are a range of the primary key; each one's other entry is a random
    // seek, made only when anyone holds that entry at all.
    "WITH h AS (SELECT user_number FROM user_index WHERE environment_id = $1 AND kind = $2 AND digest = $3 "
    "AND user_number > $4 ORDER BY user_number LIMIT $7) "
    "SELECT (SELECT count(*) FROM h), CASE WHEN EXISTS (SELECT 1 FROM user_index WHERE environment_id = $1 "
    "AND kind = $5 AND digest = $6) THEN (SELECT count(*) FROM h WHERE EXISTS (SELECT 1 FROM user_index a "
    "WHERE a.environment_id = $1 AND a.kind = $5 AND a.digest = $6 AND a.user_number = h.user_number)) "
    "ELSE 0 END"};
// FOR UPDATE holds the row until commit, so a concurrent update waits and then sees the
// new version instead of both passing the check.
constexpr Query kLockUser{
    "lock_user", "SELECT number, version FROM users WHERE id = $1 AND environment_id = $2 FOR UPDATE"};
constexpr Query kUpdateUser{
    "update_user", "UPDATE users SET active = $1, updated_at = $2, version = $3, sealed = $4 WHERE number = $5"};
constexpr Query kDeleteUser{"delete_user", "DELETE FROM users WHERE id = $1 AND environment_id = $2"};
constexpr Query kDeleteUserIndex{"delete_user_index", "DELETE FROM user_index WHERE user_number = $1"};
constexpr Query kInsertUserIndex{
    "insert_user_index",
    "INSERT INTO user_index(environment_id, kind, digest, user_number, is_unique, generation) "
    "VALUES ($1, $2, $3, $4, $5, $6)"};
constexpr Query kClaimHeldElsewhere{
    "claim_held_elsewhere",
    "SELECT 1 FROM user_index WHERE environment_id = $1 AND kind = $2 AND digest = $3 AND user_number <> $4 "
    "LIMIT 1"};
constexpr Query kPutPassword{
    "put_password",
    "INSERT INTO credentials(user_number, password_hash) VALUES ($1, $2) "
    "ON CONFLICT (user_number) DO UPDATE SET password_hash = EXCLUDED.password_hash"};
constexpr Query kClearPassword{"clear_password", "DELETE FROM credentials WHERE user_number = $1"};
constexpr Query kReplacePassword{
    "replace_password",
    "UPDATE credentials SET password_hash = $4 WHERE password_hash = $3 AND user_number = "
    "(SELECT number FROM users WHERE id = $1 AND environment_id = $2)"};
constexpr Query kGetPassword{
    "get_password",
    "SELECT c.password_hash FROM credentials c JOIN users u ON u.number = c.user_number "
    "WHERE u.id = $1 AND u.environment_id = $2"};

// --- A bulk import's batch in one pass (InsertUsers): a statement per table, each row a
// position in its array parameters. Users in the batch's order (WITH ORDINALITY ...
// ORDER BY), so their numbers rise in it; each number comes back with its user's id.
constexpr Query kInsertUsersBatch{
    "insert_users_batch",
    "INSERT INTO users(id, environment_id, active, created_at, updated_at, version, sealed) "
    "SELECT id, env, active, created, updated, version, sealed "
    "FROM unnest($1::text[], $2::text[], $3::bool[], $4::int8[], $5::int8[], $6::int8[], $7::bytea[]) "
    "WITH ORDINALITY AS x(id, env, active, created, updated, version, sealed, ord) ORDER BY ord "
    "RETURNING id, number"};
constexpr Query kInsertUserIndexBatch{
    "insert_user_index_batch",
    "INSERT INTO user_index(environment_id, kind, digest, user_number, is_unique, generation) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::int8[], $5::bool[], $6::int8[])"};
// Whether any of the batch's exclusive claims is held by another user (kClaimHeldElsewhere
// for them all).
constexpr Query kClaimsHeldElsewhere{
    "claims_held_elsewhere",
    "SELECT 1 FROM unnest($1::text[], $2::text[], $3::bytea[], $4::int8[]) AS x(env, kind, digest, number) "
    "WHERE EXISTS (SELECT 1 FROM user_index i WHERE i.environment_id = x.env AND i.kind = x.kind "
    "AND i.digest = x.digest AND i.user_number <> x.number) LIMIT 1"};
constexpr Query kPutPasswords{
    "put_passwords",
    "INSERT INTO credentials(user_number, password_hash) SELECT * FROM unnest($1::int8[], $2::text[]) "
    "ON CONFLICT (user_number) DO UPDATE SET password_hash = EXCLUDED.password_hash"};
// The records the batch's users join, locked as kLockRecordKey locks one: each found
// (id, environment) pair's position and number.
constexpr Query kLockRecordKeys{
    "lock_record_keys",
    "SELECT x.ord, r.number FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(id, env, ord) "
    "JOIN records r ON r.id = x.id AND r.environment_id = x.env FOR KEY SHARE OF r"};
constexpr Query kAddMembers{
    "add_members",
    "INSERT INTO memberships(record_number, user_number) SELECT * FROM unnest($1::int8[], $2::int8[]) "
    "ON CONFLICT DO NOTHING"};
constexpr Query kInsertAuditBatch{
    "insert_audit_batch",
    "INSERT INTO audit_log(environment_id, seq, at, principal_kind, principal_id, principal_user, api, route, "
    "request_id, action, subject, outcome, fields, prev, hash) "
    "SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[], "
    "$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bytea[], $15::bytea[])"};

constexpr Query kInsertSession{
    "insert_session",
    "INSERT INTO sessions(digest, user_number, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5)"};
constexpr Query kFindSession{
    "find_session",
    "SELECT s.digest, u.environment_id, u.id, s.created_at, s.last_used_at, s.expires_at "
    "FROM sessions s JOIN users u ON u.number = s.user_number WHERE s.digest = $1"};
constexpr Query kTouchSession{"touch_session", "UPDATE sessions SET last_used_at = $1 WHERE digest = $2"};
constexpr Query kDeleteSession{"delete_session", "DELETE FROM sessions WHERE digest = $1"};
constexpr Query kDeleteUserSessions{"delete_user_sessions", "DELETE FROM sessions WHERE user_number = $1"};
constexpr Query kDeleteOtherUserSessions{"delete_other_user_sessions",
                                         "DELETE FROM sessions WHERE user_number = $1 AND digest <> $2"};
// $2, $3: the idle and creation limits (the least int8 when off: matches no row).
constexpr Query kPurgeSessions{
    "purge_sessions",
    "DELETE FROM sessions WHERE (expires_at <> 0 AND expires_at <= $1) OR last_used_at <= $2 OR created_at <= $3"};
// The user a new session or membership names. FOR KEY SHARE keeps a concurrent delete of
// the row waiting until this transaction ends, so the foreign key that follows holds.
constexpr Query kLockUserKey{
    "lock_user_key", "SELECT number FROM users WHERE id = $1 AND environment_id = $2 FOR KEY SHARE"};

constexpr Query kListUsers{
    "list_users",
    "SELECT number, id, environment_id, active, created_at, updated_at, version, sealed "
    "FROM users WHERE environment_id = $1 AND number > $2 ORDER BY number LIMIT $3"};
// Migration 9's change rows: the environment's users, its change rows and its blocks.
constexpr Query kCountUsers{"count_users",
                            "SELECT coalesce(sum(users), 0)::bigint, count(*), count(DISTINCT block) "
                            "FROM user_block_changes WHERE environment_id = $1"};
// The number at position $2: the block holding it by the blocks' running sums, then the
// rest of the way in it; with the change rows and blocks counted (one snapshot).
constexpr Query kUserNumberAt{
    "user_number_at",
    "WITH blocks AS (SELECT block, sum(users)::bigint AS n, count(*) AS changes FROM user_block_changes "
    "WHERE environment_id = $1 GROUP BY block), "
    "running AS (SELECT block, n, (sum(n) OVER (ORDER BY block))::bigint - n AS before FROM blocks), "
    "hit AS (SELECT block, before FROM running WHERE before + n > $2 ORDER BY block LIMIT 1) "
    "SELECT (SELECT u.number FROM users u WHERE u.environment_id = $1 AND u.number >= (SELECT block FROM hit) << 10 "
    "ORDER BY u.number OFFSET $2 - (SELECT before FROM hit) LIMIT 1), "
    "(SELECT coalesce(sum(changes), 0)::bigint FROM blocks), (SELECT count(*) FROM blocks)"};
// Folds an environment's change rows into one per block (blocks at 0 go). Rows appended
// by transactions this statement does not see stay, and are folded next time.
constexpr Query kFoldUserBlocks{
    "fold_user_blocks",
    "WITH gone AS (DELETE FROM user_block_changes WHERE environment_id = $1 RETURNING block, users) "
    "INSERT INTO user_block_changes(environment_id, block, users) "
    "SELECT $1, block, sum(users)::bigint FROM gone GROUP BY block HAVING sum(users) <> 0"};

// --- Records. A record is live while expires_at is 0 or still ahead of the caller's
// now_ms; every read filters on it.
constexpr Query kInsertRecord{
    "insert_record",
    "INSERT INTO records(id, environment_id, kind, created_at, updated_at, version, expires_at, sealed) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING number"};
constexpr Query kGetRecord{
    "get_record",
    "SELECT number, id, environment_id, kind, created_at, updated_at, version, expires_at, sealed FROM records "
    "WHERE id = $1 AND environment_id = $2 AND kind = $3 AND (expires_at = 0 OR expires_at > $4)"};
constexpr Query kGetRecordByNumber{
    "get_record_by_number",
    "SELECT number, id, environment_id, kind, created_at, updated_at, version, expires_at, sealed FROM records "
    "WHERE number = $1 AND kind = $2 AND (expires_at = 0 OR expires_at > $3)"};
constexpr Query kFindRecords{
    "find_records",
    "SELECT r.number, r.id, r.environment_id, r.kind, r.created_at, r.updated_at, r.version, r.expires_at, r.sealed "
    "FROM record_index i JOIN records r ON r.number = i.record_number "
    "WHERE i.environment_id = $1 AND i.kind = $2 AND i.digest = $3 AND (r.expires_at = 0 OR r.expires_at > $4) "
    "ORDER BY r.number"};
constexpr Query kListRecords{
    "list_records",
    "SELECT number, id, environment_id, kind, created_at, updated_at, version, expires_at, sealed FROM records "
    "WHERE environment_id = $1 AND kind = $2 AND number > $3 AND (expires_at = 0 OR expires_at > $4) "
    "ORDER BY number LIMIT $5"};
constexpr Query kLockRecord{
    "lock_record",
    "SELECT number, version FROM records WHERE id = $1 AND environment_id = $2 AND kind = $3 FOR UPDATE"};
constexpr Query kUpdateRecord{
    "update_record",
    "UPDATE records SET updated_at = $1, version = $2, expires_at = $3, sealed = $4 WHERE number = $5"};
constexpr Query kDeleteRecord{
    "delete_record", "DELETE FROM records WHERE id = $1 AND environment_id = $2 AND kind = $3"};
// Deletes whether live or not; the caller reports an expired one as absent. Concurrent
// takers queue on the row lock and all but the first then find nothing to delete.
constexpr Query kTakeRecord{
    "take_record",
    "DELETE FROM records WHERE id = $1 AND environment_id = $2 AND kind = $3 RETURNING "
    "number, id, environment_id, kind, created_at, updated_at, version, expires_at, sealed"};
constexpr Query kDeleteRecordIndex{"delete_record_index", "DELETE FROM record_index WHERE record_number = $1"};
constexpr Query kInsertRecordIndex{
    "insert_record_index",
    "INSERT INTO record_index(environment_id, kind, digest, record_number, is_unique, generation) "
    "VALUES ($1, $2, $3, $4, $5, $6)"};

// --- Index-key rotation.
constexpr Query kListUserIndexBatch{
    "list_user_index_batch",
    "WITH batch AS (SELECT number FROM users WHERE environment_id = $1 AND number > $2 ORDER BY number LIMIT $3) "
    "SELECT b.number::bigint, i.kind, i.digest FROM batch b LEFT JOIN user_index i "
    "ON i.user_number = b.number AND i.generation = $4 ORDER BY b.number"};
constexpr Query kListRecordIndexBatch{
    "list_record_index_batch",
    "WITH batch AS (SELECT number FROM records WHERE environment_id = $1 AND number > $2 ORDER BY number LIMIT $3) "
    "SELECT b.number::bigint, i.kind, i.digest FROM batch b LEFT JOIN record_index i "
    "ON i.record_number = b.number AND i.generation = $4 ORDER BY b.number"};
constexpr Query kCopyUserIndex{
    "copy_user_index",
    "INSERT INTO user_index(environment_id, kind, digest, user_number, is_unique, generation) "
    "SELECT environment_id, kind, $5, user_number, is_unique, $6 FROM user_index "
    "WHERE environment_id = $1 AND kind = $2 AND digest = $3 AND user_number = $4 AND generation = $6 - 1 "
    "ON CONFLICT DO NOTHING"};
constexpr Query kCopyRecordIndex{
    "copy_record_index",
    "INSERT INTO record_index(environment_id, kind, digest, record_number, is_unique, generation) "
    "SELECT environment_id, kind, $5, record_number, is_unique, $6 FROM record_index "
    "WHERE environment_id = $1 AND kind = $2 AND digest = $3 AND record_number = $4 AND generation = $6 - 1 "
    "ON CONFLICT DO NOTHING"};
constexpr Query kCountUserIndex{
    "count_user_index", "SELECT generation, COUNT(*)::bigint FROM user_index WHERE environment_id = $1 GROUP BY generation"};
constexpr Query kCountRecordIndex{
    "count_record_index", "SELECT generation, COUNT(*)::bigint FROM record_index WHERE environment_id = $1 GROUP BY generation"};
constexpr Query kDropUserIndexGenerations{
    "drop_user_index_generations", "DELETE FROM user_index WHERE environment_id = $1 AND generation <> $2"};
constexpr Query kDropRecordIndexGenerations{
    "drop_record_index_generations", "DELETE FROM record_index WHERE environment_id = $1 AND generation <> $2"};

// --- Memberships. Records are resolved by id alone (any kind) or by id and kind.
constexpr Query kLockRecordKey{
    "lock_record_key", "SELECT number FROM records WHERE id = $1 AND environment_id = $2 FOR KEY SHARE"};
constexpr Query kLockRecordKeyOfKind{
    "lock_record_key_of_kind",
    "SELECT number FROM records WHERE id = $1 AND environment_id = $2 AND kind = $3 FOR KEY SHARE"};
constexpr Query kAddMember{
    "add_member",
    "INSERT INTO memberships(record_number, user_number) VALUES ($1, $2) ON CONFLICT DO NOTHING"};
constexpr Query kRemoveMember{
    "remove_member", "DELETE FROM memberships WHERE record_number = $1 AND user_number = $2"};
constexpr Query kClearMembers{"clear_members", "DELETE FROM memberships WHERE record_number = $1"};
constexpr Query kClearMemberships{
    "clear_memberships",
    "DELETE FROM memberships m USING records r "
    "WHERE m.user_number = $1 AND r.number = m.record_number AND r.kind = $2"};
// One row per member, or one all-NULL row for a record without (more) members, or no row
// at all if the environment has no such record: one statement tells the cases apart.
constexpr Query kListMembers{
    "list_members",
    "SELECT u.number, u.id, u.environment_id, u.active, u.created_at, u.updated_at, u.version, u.sealed "
    "FROM records r LEFT JOIN LATERAL ("
    "SELECT x.* FROM memberships m JOIN users x ON x.number = m.user_number "
    "WHERE m.record_number = r.number AND x.number > $3 ORDER BY x.number LIMIT $4) u ON true "
    "WHERE r.id = $1 AND r.environment_id = $2 ORDER BY u.number"};
constexpr Query kCountMembers{
    "count_members",
    "SELECT (SELECT count(*) FROM memberships m WHERE m.record_number = r.number) "
    "FROM records r WHERE r.id = $1 AND r.environment_id = $2"};
constexpr Query kListMemberships{
    "list_memberships",
    "SELECT r.number, r.id, r.environment_id, r.kind, r.created_at, r.updated_at, r.version, r.expires_at, r.sealed "
    "FROM users u LEFT JOIN LATERAL ("
    "SELECT x.* FROM memberships m JOIN records x ON x.number = m.record_number "
    "WHERE m.user_number = u.number AND x.kind = $3) r ON true "
    "WHERE u.id = $1 AND u.environment_id = $2 ORDER BY r.number"};

// --- Records in records.
constexpr Query kAddMemberRecord{
    "add_member_record",
    "INSERT INTO record_members(record_number, member_number) VALUES ($1, $2) ON CONFLICT DO NOTHING"};
constexpr Query kClearMemberRecords{"clear_member_records", "DELETE FROM record_members WHERE record_number = $1"};
constexpr Query kRemoveMemberById{
    "remove_member_by_id",
    "DELETE FROM memberships m USING users u "
    "WHERE m.record_number = $1 AND u.number = m.user_number AND u.id = $2 AND u.environment_id = $3"};
constexpr Query kRemoveMemberRecordById{
    "remove_member_record_by_id",
    "DELETE FROM record_members m USING records r "
    "WHERE m.record_number = $1 AND r.number = m.member_number AND r.id = $2 AND r.environment_id = $3"};
// Serialises the writes that add member records in one environment, so the cycle check
// of each sees the edges of the others. NO KEY UPDATE does not conflict with the KEY
// SHARE locks foreign keys take: user and record writes of the environment go on.
constexpr Query kLockNesting{"lock_nesting", "SELECT 1 FROM environments WHERE id = $1 FOR NO KEY UPDATE"};
// A row if record $1 contains itself through its member records. UNION ends the walk.
constexpr Query kContainsItself{
    "contains_itself",
    "WITH RECURSIVE down(n) AS (SELECT member_number FROM record_members WHERE record_number = $1 "
    "UNION SELECT rm.member_number FROM record_members rm JOIN down ON rm.record_number = down.n) "
    "SELECT 1 FROM down WHERE n = $1 LIMIT 1"};
// As kListMembers: an all-NULL row for a record without (more) member records, none
// for no such record.
constexpr Query kListMemberRecords{
    "list_member_records",
    "SELECT x.number, x.id, x.environment_id, x.kind, x.created_at, x.updated_at, x.version, x.expires_at, x.sealed "
    "FROM records p LEFT JOIN LATERAL ("
    "SELECT y.* FROM record_members m JOIN records y ON y.number = m.member_number "
    "WHERE m.record_number = p.number AND y.number > $3 ORDER BY y.number LIMIT $4) x ON true "
    "WHERE p.id = $1 AND p.environment_id = $2 ORDER BY x.number"};
constexpr Query kUserInEnvironment{"user_in_environment",
                                   "SELECT 1 FROM users WHERE id = $1 AND environment_id = $2"};
constexpr Query kRecordInEnvironment{"record_in_environment",
                                     "SELECT 1 FROM records WHERE id = $1 AND environment_id = $2"};
// The records containing a user (or a record), each at its least depth. UNION keeps each
// (record, depth) once; the depth bound ends the walk.
#define ROSTER_CONTAINING(BASE)                                                                                     \
  "WITH RECURSIVE up(number, depth) AS (" BASE                                                                      \
  " UNION SELECT rm.record_number, up.depth + 1 FROM record_members rm JOIN up ON rm.member_number = up.number "   \
  "WHERE up.depth < $4) "                                                                                           \
  "SELECT r.number, r.id, r.environment_id, r.kind, r.created_at, r.updated_at, r.version, r.expires_at, r.sealed, " \
  "MIN(up.depth) AS d FROM up JOIN records r ON r.number = up.number "                                              \
  "WHERE r.kind = $3 GROUP BY r.number ORDER BY d, r.number LIMIT $5"
constexpr Query kContainingUser{
    "containing_user", ROSTER_CONTAINING("SELECT m.record_number, 1 FROM memberships m "
                                         "JOIN users x ON x.number = m.user_number "
                                         "WHERE x.id = $1 AND x.environment_id = $2")};
constexpr Query kContainingRecord{
    "containing_record", ROSTER_CONTAINING("SELECT rm.record_number, 1 FROM record_members rm "
                                           "JOIN records x ON x.number = rm.member_number "
                                           "WHERE x.id = $1 AND x.environment_id = $2")};
#undef ROSTER_CONTAINING

// --- Mail outbox.
constexpr Query kEnqueueMail{
    "enqueue_mail",
    "INSERT INTO outbox(environment_id, created_at, next_attempt_at, attempts, sealed) "
    "VALUES ($1, $2, $3, $4, $5) RETURNING id"};
// SKIP LOCKED: senders in other processes claiming at the same moment take disjoint
// messages instead of waiting for each other or taking the same one.
constexpr Query kClaimMail{
    "claim_mail",
    "UPDATE outbox SET next_attempt_at = $2 WHERE id IN ("
    "SELECT id FROM outbox WHERE next_attempt_at <= $1 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) "
    "RETURNING id, environment_id, created_at, next_attempt_at, attempts, sealed"};
constexpr Query kCompleteMail{"complete_mail", "DELETE FROM outbox WHERE id = $1"};
constexpr Query kRetryMail{"retry_mail", "UPDATE outbox SET attempts = $1, next_attempt_at = $2 WHERE id = $3"};
constexpr Query kCountMail{"count_mail", "SELECT count(*) FROM outbox"};
constexpr Query kOutboxStats{"outbox_stats", "SELECT count(*), COALESCE(min(created_at), 0) FROM outbox"};

// --- Counters. One statement, so concurrent hits on a key serialise on its row (or on
// the conflicting insert) and each sees the count the previous one left. Both CASEs read
// the row as it was before this hit.
constexpr Query kHitCounter{
    "hit_counter",
    "INSERT INTO counters(key, window_start, count) VALUES ($1, $2, 1) ON CONFLICT (key) DO UPDATE SET "
    "window_start = CASE WHEN counters.window_start <= $2 - $3 THEN $2 ELSE counters.window_start END, "
    "count = CASE WHEN counters.window_start <= $2 - $3 THEN 1 ELSE counters.count + 1 END "
    "RETURNING count"};
constexpr Query kResetCounter{"reset_counter", "DELETE FROM counters WHERE key = $1"};
constexpr Query kReadCounter{"read_counter", "SELECT count, window_start FROM counters WHERE key = $1"};
constexpr Query kResetCountersWithPrefix{
    "reset_counters_with_prefix", "DELETE FROM counters WHERE substring(key from 1 for octet_length($1)) = $1"};
constexpr Query kPurgeCounters{"purge_counters", "DELETE FROM counters WHERE window_start < $1"};
constexpr Query kPurgeExpiredRecords{"purge_expired_records",
                                     "DELETE FROM records WHERE expires_at <> 0 AND expires_at <= $1"};

UserRow ReadUser(const Rows& r, int i) {
  UserRow u;
  u.number = r.Int(i, 0);
  u.id = r.String(i, 1);
  u.environment_id = r.String(i, 2);
  u.active = r.Bool(i, 3);
  u.created_at_ms = r.Int(i, 4);
  u.updated_at_ms = r.Int(i, 5);
  u.version = r.Int(i, 6);
  u.sealed = r.String(i, 7);
  return u;
}

ApiKeyRow ReadKey(const Rows& r, int i) {
  ApiKeyRow k{r.String(i, 0), r.String(i, 1), r.String(i, 2), r.String(i, 3), r.String(i, 4), r.Int(i, 5),
              std::nullopt};
  if (!r.IsNull(i, 6)) k.revoked_at_ms = r.Int(i, 6);
  k.apis = r.String(i, 7);
  k.scopes = r.String(i, 8);
  return k;
}

EnvironmentRow ReadEnvironment(const Rows& r, int i) {
  return EnvironmentRow{r.String(i, 0), r.String(i, 1), r.String(i, 2), r.Int(i, 3)};
}

RecordRow ReadRecord(const Rows& r, int i) {
  RecordRow row;
  row.number = r.Int(i, 0);
  row.id = r.String(i, 1);
  row.environment_id = r.String(i, 2);
  row.kind = r.String(i, 3);
  row.created_at_ms = r.Int(i, 4);
  row.updated_at_ms = r.Int(i, 5);
  row.version = r.Int(i, 6);
  row.expires_at_ms = r.Int(i, 7);
  row.sealed = r.String(i, 8);
  return row;
}

MailRow ReadMail(const Rows& r, int i) {
  return MailRow{r.Int(i, 0), r.String(i, 1), r.Int(i, 2), r.Int(i, 3), r.Int(i, 4), r.String(i, 5)};
}

bool Live(const RecordRow& row, std::int64_t now_ms) { return row.expires_at_ms == 0 || row.expires_at_ms > now_ms; }

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(const Options& options) : dsn_(options.dsn) {
    // Migrate on the first connection before opening the rest: a schema error should
    // fail Open without holding pool_size sessions.
    connections_.push_back(std::make_unique<Connection>(options.dsn));
    Migrate(*connections_.front());
    for (int i = 1; i < std::max(1, options.pool_size); ++i)
      connections_.push_back(std::make_unique<Connection>(options.dsn));
    for (auto& c : connections_) idle_.push_back(c.get());
  }

  // --- DirectoryStore
  Status CreateEnvironment(const EnvironmentRow& row) override {
    return Write([&](Connection& c) -> Status {
      if (!row.master_fingerprint.empty()) {
        Rows k = c.Exec(kKeyringForShare, {});
        if (!k.ok()) return std::unexpected(c.Failure(k, "create environment"));
        if (k.size() > 0 && k.String(0, 0) != row.master_fingerprint)
          return Fail(ErrorCode::kAborted, "the master key was rotated meanwhile");
      }
      Rows r = c.Exec(kInsertEnvironment,
                      {Text(row.id), Text(row.name), Bytes(row.wrapped_key), Int(row.created_at_ms)});
      if (r.IsUniqueViolation()) return core::AlreadyExists("name", "environment name is taken");
      if (!r.ok()) return std::unexpected(c.Failure(r, "create environment"));
      return {};
    });
  }
  Result<EnvironmentRow> FindEnvironmentByName(const std::string& name) override {
    return FindEnvironment(kFindEnvironmentByName, name);
  }
  Result<EnvironmentRow> FindEnvironmentById(const std::string& id) override {
    return FindEnvironment(kFindEnvironmentById, id);
  }
  Result<std::vector<EnvironmentRow>> ListEnvironments() override {
    return Read([&](Connection& c) -> Result<std::vector<EnvironmentRow>> {
      Rows r = c.Exec(kListEnvironments, {});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list environments"));
      std::vector<EnvironmentRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReadEnvironment(r, i));
      return out;
    });
  }

  Status ReplaceEnvironmentKeys(const std::string& id, const std::string& expected,
                                const std::string& replacement) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kReplaceEnvironmentKeys, {Text(id), Bytes(expected), Bytes(replacement)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "replace environment keys"));
      if (r.affected() == 1) return {};
      Rows q = c.Exec(kEnvironmentExists, {Text(id)});
      if (!q.ok()) return std::unexpected(c.Failure(q, "replace environment keys"));
      if (q.size() > 0) return Fail(ErrorCode::kAborted, "environment keys changed meanwhile");
      return core::NotFound("no such environment");
    });
  }

  Result<KeyringRow> GetKeyring() override {
    return Read([&](Connection& c) -> Result<KeyringRow> {
      Rows r = c.Exec(kGetKeyring, {});
      if (!r.ok()) return std::unexpected(c.Failure(r, "read keyring"));
      if (r.size() == 0) return core::NotFound("no keyring");
      return KeyringRow{r.String(0, 0), r.String(0, 1), r.Int(0, 2)};
    });
  }
  Status CreateKeyring(const KeyringRow& row) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kCreateKeyring, {Bytes(row.fingerprint), Bytes(row.wrapped_roots), Int(row.updated_at_ms)});
      if (r.IsUniqueViolation()) return core::AlreadyExists("keyring", "the keyring exists");
      if (!r.ok()) return std::unexpected(c.Failure(r, "create keyring"));
      return {};
    });
  }
  Status RotateKeyring(const std::string& expected_fingerprint, const KeyringRow& row,
                       const std::vector<EnvironmentKeysChange>& environments,
                       const std::vector<AuditRow>& audit) override {
    return Write([&](Connection& c) -> Status {
      const auto changed = Fail(ErrorCode::kAborted, "the keys changed meanwhile");
      Rows k = c.Exec(kRotateKeyring, {Bytes(expected_fingerprint), Bytes(row.fingerprint), Bytes(row.wrapped_roots),
                                       Int(row.updated_at_ms)});
      if (!k.ok()) return std::unexpected(c.Failure(k, "rotate keyring"));
      if (k.affected() != 1) return changed;
      Rows n = c.Exec(kCountEnvironments, {});
      if (!n.ok()) return std::unexpected(c.Failure(n, "rotate keyring"));
      if (n.Int(0, 0) != static_cast<std::int64_t>(environments.size())) return changed;
      for (const auto& e : environments) {
        Rows r = c.Exec(kReplaceEnvironmentKeys, {Text(e.id), Bytes(e.expected), Bytes(e.replacement)});
        if (!r.ok()) return std::unexpected(c.Failure(r, "rotate keyring"));
        if (r.affected() != 1) return changed;
      }
      return AppendAuditIn(c, audit);
    });
  }

  // --- ResealStore
  Result<std::vector<SealedValue>> ListSealed(SealedTable table, const std::string& environment_id,
                                              std::int64_t after_number, int limit) override {
    const Query& q = table == SealedTable::kUsers     ? kListSealedUsers
                     : table == SealedTable::kRecords ? kListSealedRecords
                                                      : kListSealedMail;
    return Read([&](Connection& c) -> Result<std::vector<SealedValue>> {
      Rows r = c.Exec(q, {Text(environment_id), Int(after_number), Int(limit)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list sealed values"));
      std::vector<SealedValue> out;
      for (int i = 0; i < r.size(); ++i) out.push_back({r.Int(i, 0), r.String(i, 1), r.String(i, 2), r.String(i, 3)});
      return out;
    });
  }
  Result<bool> ReplaceSealed(SealedTable table, const std::string& environment_id, std::int64_t number,
                             const std::string& expected, const std::string& replacement) override {
    const Query& q = table == SealedTable::kUsers     ? kReplaceSealedUser
                     : table == SealedTable::kRecords ? kReplaceSealedRecord
                                                      : kReplaceSealedMail;
    return Write([&](Connection& c) -> Result<bool> {
      Rows r = c.Exec(q, {Int(number), Text(environment_id), Bytes(expected), Bytes(replacement)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "replace sealed value"));
      return r.affected() == 1;
    });
  }

  Result<IndexBatch> ListIndexEntries(IndexTable table, const std::string& environment_id, std::int64_t generation,
                                      std::int64_t after_number, int rows) override {
    const Query& q = table == IndexTable::kUsers ? kListUserIndexBatch : kListRecordIndexBatch;
    return Read([&](Connection& c) -> Result<IndexBatch> {
      Rows r = c.Exec(q, {Text(environment_id), Int(after_number), Int(rows), Int(generation)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list index entries"));
      IndexBatch out;
      for (int i = 0; i < r.size(); ++i) {
        if (r.Int(i, 0) != out.last) ++out.rows;
        out.last = r.Int(i, 0);
        if (!r.IsNull(i, 1)) out.entries.push_back({r.Int(i, 0), r.String(i, 1), r.String(i, 2)});
      }
      return out;
    });
  }
  Result<std::int64_t> CopyIndexEntries(IndexTable table, const std::string& environment_id, std::int64_t generation,
                                        const std::vector<IndexCopy>& copies) override {
    const Query& q = table == IndexTable::kUsers ? kCopyUserIndex : kCopyRecordIndex;
    return Write([&](Connection& c) -> Result<std::int64_t> {
      std::int64_t added = 0;
      for (const auto& copy : copies) {
        Rows r = c.Exec(q, {Text(environment_id), Text(copy.kind), Bytes(copy.from), Int(copy.number),
                            Bytes(copy.to), Int(generation)});
        if (!r.ok()) return std::unexpected(c.Failure(r, "copy index entries"));
        added += r.affected();
      }
      return added;
    });
  }
  Result<std::map<std::int64_t, std::int64_t>> CountIndexGenerations(IndexTable table,
                                                                     const std::string& environment_id) override {
    const Query& q = table == IndexTable::kUsers ? kCountUserIndex : kCountRecordIndex;
    return Read([&](Connection& c) -> Result<std::map<std::int64_t, std::int64_t>> {
      Rows r = c.Exec(q, {Text(environment_id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "count index entries"));
      std::map<std::int64_t, std::int64_t> out;
      for (int i = 0; i < r.size(); ++i) out[r.Int(i, 0)] = r.Int(i, 1);
      return out;
    });
  }
  Result<std::int64_t> DropIndexGenerations(const std::string& environment_id, std::int64_t keep) override {
    return Write([&](Connection& c) -> Result<std::int64_t> {
      std::int64_t dropped = 0;
      for (const Query* q : {&kDropUserIndexGenerations, &kDropRecordIndexGenerations}) {
        Rows r = c.Exec(*q, {Text(environment_id), Int(keep)});
        if (!r.ok()) return std::unexpected(c.Failure(r, "drop index entries"));
        dropped += r.affected();
      }
      return dropped;
    });
  }

  Status CreateApiKey(const ApiKeyRow& row) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kInsertApiKey, {Text(row.id), Text(row.environment_id), Text(row.role), Text(row.identifier),
                                      Bytes(row.digest), Int(row.created_at_ms), Text(row.apis), Text(row.scopes)});
      if (r.IsUniqueViolation()) return core::AlreadyExists("key", "api key already exists");
      if (!r.ok()) return std::unexpected(c.Failure(r, "create api key"));
      return {};
    });
  }
  Result<ApiKeyRow> FindApiKeyByDigest(const std::string& digest) override {
    return Read([&](Connection& c) -> Result<ApiKeyRow> {
      Rows r = c.Exec(kFindApiKey, {Bytes(digest)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "find api key"));
      if (r.size() == 0) return core::NotFound("no such api key");
      return ReadKey(r, 0);
    });
  }
  Result<std::vector<ApiKeyRow>> ListApiKeys(const std::string& environment_id) override {
    return Read([&](Connection& c) -> Result<std::vector<ApiKeyRow>> {
      Rows r = c.Exec(kListApiKeys, {Text(environment_id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list api keys"));
      std::vector<ApiKeyRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReadKey(r, i));
      return out;
    });
  }
  Status RevokeApiKey(const std::string& id, std::int64_t now_ms) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kRevokeApiKey, {Int(now_ms), Text(id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "revoke api key"));
      if (r.affected() == 1) {
        // Delivered to every watching process when this transaction commits.
        Rows n = c.Simple(kNotifyKeyChange);
        if (!n.ok()) return std::unexpected(c.Failure(n, "revoke api key"));
        return {};
      }
      Rows q = c.Exec(kApiKeyExists, {Text(id)});
      if (!q.ok()) return std::unexpected(c.Failure(q, "revoke api key"));
      if (q.size() > 0) return Fail(ErrorCode::kFailedPrecondition, "api key is already revoked");
      return core::NotFound("no such api key");
    });
  }

  std::unique_ptr<Watch> WatchApiKeys(KeyChangeListener listener) override {
    return std::make_unique<NotificationWatch>(dsn_, kKeyChannel, std::move(listener), NotificationWatch::Options{});
  }

  // --- UserStore
  Result<std::int64_t> InsertUser(const NewUser& user) override {
    return Write([&](Connection& c) -> Result<std::int64_t> { return InsertUserRow(c, user); });
  }
  // A batch is written in one pass first (InsertUsersAtOnce: a statement per table for
  // the whole batch) behind a savepoint. If any of it fails (a claim taken, a group
  // missing, anything), that pass is rolled back and the batch is written user by user,
  // each behind its own savepoint, which decides exactly which users are left out and
  // with which error: the one pass is only ever taken whole.
  Result<std::vector<Result<std::int64_t>>> InsertUsers(const UserBatch& batch) override {
    return Write([&](Connection& c) -> Result<std::vector<Result<std::int64_t>>> {
      std::vector<Result<std::int64_t>> out;
      out.reserve(batch.users.size());
      std::optional<std::vector<std::int64_t>> numbers;
      if (!batch.users.empty()) {
        if (Rows sp = c.Simple("SAVEPOINT import_batch"); !sp.ok()) return std::unexpected(c.Failure(sp, "savepoint"));
        numbers = InsertUsersAtOnce(c, batch.users);
        if (!numbers) {
          if (Rows rb = c.Simple("ROLLBACK TO SAVEPOINT import_batch"); !rb.ok())
            return std::unexpected(c.Failure(rb, "rollback to savepoint"));
        }
        if (Rows rel = c.Simple("RELEASE SAVEPOINT import_batch"); !rel.ok())
          return std::unexpected(c.Failure(rel, "release savepoint"));
      }
      if (numbers) {
        out.assign(numbers->begin(), numbers->end());
      } else {
        for (const auto& user : batch.users) {
          if (Rows sp = c.Simple("SAVEPOINT import_user"); !sp.ok())
            return std::unexpected(c.Failure(sp, "savepoint"));
          auto number = InsertUserRow(c, user);
          if (!number) {
            if (Rows rb = c.Simple("ROLLBACK TO SAVEPOINT import_user"); !rb.ok())
              return std::unexpected(c.Failure(rb, "rollback to savepoint"));
          }
          if (Rows rel = c.Simple("RELEASE SAVEPOINT import_user"); !rel.ok())
            return std::unexpected(c.Failure(rel, "release savepoint"));
          out.push_back(std::move(number));
        }
      }
      if (batch.record) {
        if (auto st = UpdateRecordRow(c, *batch.record); !st) return std::unexpected(st.error());
      }
      return out;
    });
  }
  // InsertUsers' one pass, inside its savepoint: the users' numbers in the batch's order,
  // or nullopt if any statement failed or found a claim held (the caller rolls back and
  // goes user by user). Everything InsertUserRow writes, a table at a time: the users
  // rows, every claim and search entry of the batch sorted by (environment, kind,
  // digest), the index's key order, then the exclusive claims' check, passwords,
  // sessions, memberships, and the batch's audit records appended in its order.
  std::optional<std::vector<std::int64_t>> InsertUsersAtOnce(Connection& c, const std::vector<NewUser>& users) {
    // Records written with a user: InsertUserRow's, user by user.
    for (const auto& user : users)
      if (!user.records.empty()) return std::nullopt;
    const std::size_t n = users.size();
    std::vector<std::int64_t> numbers(n, 0);
    {
      auto id = Array::Text(), env = Array::Text(), active = Array::Bool(), created = Array::Int(),
           updated = Array::Int(), version = Array::Int(), sealed = Array::Bytes();
      std::unordered_map<std::string_view, std::size_t> slot;
      for (std::size_t k = 0; k < n; ++k) {
        const UserRow& u = users[k].row;
        id.Add(u.id);
        env.Add(u.environment_id);
        active.Add(u.active);
        created.Add(u.created_at_ms);
        updated.Add(u.updated_at_ms);
        version.Add(u.version);
        sealed.Add(u.sealed);
        slot.emplace(u.id, k);
      }
      Rows r = c.Exec(kInsertUsersBatch, {id.param(), env.param(), active.param(), created.param(), updated.param(),
                                          version.param(), sealed.param()});
      if (!r.ok() || r.size() != static_cast<int>(n)) return std::nullopt;
      for (int i = 0; i < r.size(); ++i) {
        auto it = slot.find(r.String(i, 0));
        if (it == slot.end() || numbers[it->second] != 0) return std::nullopt;
        numbers[it->second] = r.Int(i, 1);
      }
    }
    {
      const auto order = IndexEntriesInKeyOrder(users);
      auto env = Array::Text(), kind = Array::Text(), digest = Array::Bytes(), number = Array::Int(),
           unique = Array::Bool(), generation = Array::Int();
      auto held_env = Array::Text(), held_kind = Array::Text(), held_digest = Array::Bytes(),
           held_number = Array::Int();
      for (const auto& [u, i] : order) {
        const IndexEntry& e = users[u].index[i];
        env.Add(users[u].row.environment_id);
        kind.Add(e.kind);
        digest.Add(e.digest);
        number.Add(numbers[u]);
        unique.Add(e.unique || e.exclusive);
        generation.Add(e.generation);
        if (e.exclusive) {
          held_env.Add(users[u].row.environment_id);
          held_kind.Add(e.kind);
          held_digest.Add(e.digest);
          held_number.Add(numbers[u]);
        }
      }
      if (!order.empty()) {
        Rows r = c.Exec(kInsertUserIndexBatch, {env.param(), kind.param(), digest.param(), number.param(),
                                                unique.param(), generation.param()});
        if (!r.ok()) return std::nullopt;
      }
      // Against every holder, the batch's own included: stricter than one user at a time,
      // which only sees the users before it; a refusal here is decided user by user.
      if (held_env.size() > 0) {
        Rows h = c.Exec(kClaimsHeldElsewhere,
                        {held_env.param(), held_kind.param(), held_digest.param(), held_number.param()});
        if (!h.ok() || h.size() > 0) return std::nullopt;
      }
    }
    {
      auto number = Array::Int(), hash = Array::Text();
      for (std::size_t k = 0; k < n; ++k) {
        if (!users[k].password_hash) continue;
        number.Add(numbers[k]);
        hash.Add(*users[k].password_hash);
      }
      if (number.size() > 0) {
        if (Rows r = c.Exec(kPutPasswords, {number.param(), hash.param()}); !r.ok()) return std::nullopt;
      }
    }
    for (std::size_t k = 0; k < n; ++k) {
      if (users[k].session && !InsertSession(c, *users[k].session, numbers[k])) return std::nullopt;
    }
    {
      // Each (record id, environment) looked up once; joins[j] = (its position, user).
      std::map<std::pair<std::string_view, std::string_view>, std::size_t> records;
      std::vector<std::pair<std::size_t, std::size_t>> joins;
      auto record_id = Array::Text(), record_env = Array::Text();
      for (std::size_t k = 0; k < n; ++k) {
        for (const auto& id : users[k].member_of) {
          auto [it, added] = records.emplace(std::pair<std::string_view, std::string_view>(id, users[k].row.environment_id),
                                             records.size());
          if (added) {
            record_id.Add(id);
            record_env.Add(users[k].row.environment_id);
          }
          joins.emplace_back(it->second, k);
        }
      }
      if (!joins.empty()) {
        Rows r = c.Exec(kLockRecordKeys, {record_id.param(), record_env.param()});
        if (!r.ok() || r.size() != static_cast<int>(records.size())) return std::nullopt;  // one missing
        std::vector<std::int64_t> record_numbers(records.size());
        for (int i = 0; i < r.size(); ++i) record_numbers[static_cast<std::size_t>(r.Int(i, 0) - 1)] = r.Int(i, 1);
        auto record = Array::Int(), user = Array::Int();
        for (const auto& [p, k] : joins) {
          record.Add(record_numbers[p]);
          user.Add(numbers[k]);
        }
        if (Rows m = c.Exec(kAddMembers, {record.param(), user.param()}); !m.ok()) return std::nullopt;
      }
    }
    std::vector<AuditRow> audit;
    for (const auto& user : users) audit.insert(audit.end(), user.audit.begin(), user.audit.end());
    if (!AppendAuditIn(c, audit)) return std::nullopt;
    return numbers;
  }

  Result<std::int64_t> InsertUserRow(Connection& c, const NewUser& user) {
    {
      const UserRow& u = user.row;
      Rows r = c.Exec(kInsertUser, {Text(u.id), Text(u.environment_id), Bool(u.active), Int(u.created_at_ms),
                                    Int(u.updated_at_ms), Int(u.version), Bytes(u.sealed)});
      if (r.IsUniqueViolation()) return core::AlreadyExists("id", "user id already exists");
      if (!r.ok()) return std::unexpected(c.Failure(r, "insert user"));
      const std::int64_t number = r.Int(0, 0);
      if (auto st = InsertIndex(c, u.environment_id, number, user.index); !st) return std::unexpected(st.error());
      if (user.password_hash) {
        if (auto st = PutPassword(c, number, *user.password_hash); !st) return std::unexpected(st.error());
      }
      if (user.session) {
        if (auto st = InsertSession(c, *user.session, number); !st) return std::unexpected(st.error());
      }
      for (const auto& record_id : user.member_of) {
        auto record = Resolve(c, kLockRecordKey, {Text(record_id), Text(u.environment_id)}, "record");
        if (!record) return std::unexpected(record.error());
        Rows m = c.Exec(kAddMember, {Int(*record), Int(number)});
        if (!m.ok()) return std::unexpected(c.Failure(m, "add member"));
      }
      if (auto st = AppendAuditIn(c, user.audit); !st) return std::unexpected(st.error());
      for (const auto& record : user.records)
        if (auto inserted = InsertRecordRow(c, record); !inserted) return std::unexpected(inserted.error());
      return number;
    }
  }

  Result<UserRow> GetUser(const std::string& environment_id, const std::string& id) override {
    return Read([&](Connection& c) -> Result<UserRow> {
      Rows r = c.Exec(kGetUser, {Text(id), Text(environment_id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "get user"));
      if (r.size() == 0) return core::NotFound("user not found");
      return ReadUser(r, 0);
    });
  }

  Result<std::vector<UserRow>> FindUsers(const std::string& environment_id, const std::string& kind,
                                         const std::string& digest) override {
    return Read([&](Connection& c) -> Result<std::vector<UserRow>> {
      Rows r = c.Exec(kFindUsers, {Text(environment_id), Text(kind), Bytes(digest)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "find users"));
      std::vector<UserRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReadUser(r, i));
      return out;
    });
  }

  Result<std::vector<UserRow>> FindUsersAfter(const std::string& environment_id, const std::string& kind,
                                              const std::string& digest, std::int64_t after_number,
                                              int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<UserRow>> {
      Rows r = c.Exec(kFindUsersAfter, {Text(environment_id), Text(kind), Bytes(digest), Int(after_number),
                                        Int(std::max(limit, 0))});
      if (!r.ok()) return std::unexpected(c.Failure(r, "find users"));
      std::vector<UserRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReadUser(r, i));
      return out;
    });
  }

  Result<HolderCount> CountHolders(const std::string& environment_id, const std::string& kind,
                                   const std::string& digest, std::int64_t after_number, const std::string& also_kind,
                                   const std::string& also_digest, std::int64_t cap) override {
    return Read([&](Connection& c) -> Result<HolderCount> {
      Rows r = c.Exec(kCountHolders, {Text(environment_id), Text(kind), Bytes(digest), Int(after_number),
                                      Text(also_kind), Bytes(also_digest), Int(std::max<std::int64_t>(cap, 0))});
      if (!r.ok()) return std::unexpected(c.Failure(r, "count holders"));
      return HolderCount{r.Int(0, 0), r.Int(0, 1)};
    });
  }

  Status UpdateUser(const UserUpdate& update) override {
    return Write([&](Connection& c) -> Status {
      const UserRow& u = update.row;
      Rows q = c.Exec(kLockUser, {Text(u.id), Text(u.environment_id)});
      if (!q.ok()) return std::unexpected(c.Failure(q, "update user"));
      if (q.size() == 0) return core::NotFound("user not found");
      const std::int64_t number = q.Int(0, 0);
      if (q.Int(0, 1) != update.expected_version) return Fail(ErrorCode::kAborted, "user was changed concurrently");
      Rows s = c.Exec(kUpdateUser,
                      {Bool(u.active), Int(u.updated_at_ms), Int(u.version), Bytes(u.sealed), Int(number)});
      if (!s.ok()) return std::unexpected(c.Failure(s, "update user"));
      Rows d = c.Exec(kDeleteUserIndex, {Int(number)});
      if (!d.ok()) return std::unexpected(c.Failure(d, "update user index"));
      if (auto st = InsertIndex(c, u.environment_id, number, update.index); !st) return st;
      if (update.password_hash) {
        if (auto st = PutPassword(c, number, *update.password_hash); !st) return st;
      } else if (update.clear_password) {
        Rows x = c.Exec(kClearPassword, {Int(number)});
        if (!x.ok()) return std::unexpected(c.Failure(x, "clear password"));
      }
      if (update.revoke_sessions) {
        Rows x = update.keep_session ? c.Exec(kDeleteOtherUserSessions, {Int(number), Bytes(*update.keep_session)})
                                     : c.Exec(kDeleteUserSessions, {Int(number)});
        if (!x.ok()) return std::unexpected(c.Failure(x, "revoke sessions"));
      }
      for (const auto& set : update.memberships) {
        if (auto st = ReplaceMemberships(c, u.environment_id, number, set.kind, set.record_ids); !st) return st;
      }
      for (const auto& mail : update.mail) {
        if (auto id = InsertMail(c, mail); !id) return std::unexpected(id.error());
      }
      return AppendAuditIn(c, update.audit);
    });
  }

  Status DeleteUser(const std::string& environment_id, const std::string& id,
                    std::optional<std::int64_t> expected_version = std::nullopt,
                    const std::vector<AuditRow>& audit = {}) override {
    return Write([&](Connection& c) -> Status {
      if (expected_version) {
        // The row lock holds until commit: no write comes between this check and the delete.
        Rows q = c.Exec(kLockUser, {Text(id), Text(environment_id)});
        if (!q.ok()) return std::unexpected(c.Failure(q, "delete user"));
        if (q.size() == 0) return core::NotFound("user not found");
        if (q.Int(0, 1) != *expected_version) return Fail(ErrorCode::kAborted, "user was changed concurrently");
      }
      // Claims, credentials and sessions go by ON DELETE CASCADE in the same transaction.
      Rows r = c.Exec(kDeleteUser, {Text(id), Text(environment_id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "delete user"));
      if (r.affected() == 0) return core::NotFound("user not found");
      return AppendAuditIn(c, audit);
    });
  }

  Result<std::vector<UserRow>> ListUsers(const std::string& environment_id, std::int64_t after_number,
                                         int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<UserRow>> {
      Rows r = c.Exec(kListUsers, {Text(environment_id), Int(after_number), Int(std::max(limit, 0))});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list users"));
      std::vector<UserRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReadUser(r, i));
      return out;
    });
  }

  Result<std::int64_t> CountUsers(const std::string& environment_id) override {
    return Read([&](Connection& c) -> Result<std::int64_t> {
      Rows r = c.Exec(kCountUsers, {Text(environment_id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "count users"));
      const std::int64_t users = r.Int(0, 0);
      FoldUserBlocksIfPiledUp(c, environment_id, r.Int(0, 1), r.Int(0, 2));
      return users;
    });
  }

  Result<std::int64_t> UserNumberAt(const std::string& environment_id, std::int64_t offset) override {
    if (offset < 0) return std::int64_t{0};
    return Read([&](Connection& c) -> Result<std::int64_t> {
      Rows r = c.Exec(kUserNumberAt, {Text(environment_id), Int(offset)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "user number at"));
      const std::int64_t number = r.IsNull(0, 0) ? 0 : r.Int(0, 0);  // null: past the end
      FoldUserBlocksIfPiledUp(c, environment_id, r.Int(0, 1), r.Int(0, 2));
      return number;
    });
  }
  // Once an environment's change rows outnumber its blocks by more than two to one (plus
  // some slack), a reader folds them: each read then sums about one row per block.
  // Best effort: a fold that fails (a concurrent fold's locks) leaves the rows, which
  // still sum to the same counts.
  static void FoldUserBlocksIfPiledUp(Connection& c, const std::string& environment_id, std::int64_t changes,
                                      std::int64_t blocks) {
    if (changes <= 2 * blocks + 64) return;
    (void)c.Exec(kFoldUserBlocks, {Text(environment_id)});
  }

  // --- CredentialStore
  Result<std::string> GetPasswordHash(const std::string& environment_id, const std::string& user_id) override {
    return Read([&](Connection& c) -> Result<std::string> {
      Rows r = c.Exec(kGetPassword, {Text(user_id), Text(environment_id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "get password"));
      if (r.size() == 0) return core::NotFound("no password");
      return r.String(0, 0);
    });
  }

  Status ReplacePasswordHash(const std::string& environment_id, const std::string& user_id,
                             const std::string& expected, const std::string& replacement) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kReplacePassword, {Text(user_id), Text(environment_id), Text(expected), Text(replacement)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "replace password"));
      if (r.affected() == 0) return Fail(ErrorCode::kAborted, "password changed meanwhile");
      return {};
    });
  }

  // --- SessionStore
  Result<SessionRow> FindSession(const std::string& digest) override {
    return Read([&](Connection& c) -> Result<SessionRow> {
      Rows r = c.Exec(kFindSession, {Bytes(digest)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "find session"));
      if (r.size() == 0) return core::NotFound("no such session");
      return SessionRow{r.String(0, 0), r.String(0, 1), r.String(0, 2), r.Int(0, 3), r.Int(0, 4), r.Int(0, 5)};
    });
  }
  Status TouchSession(const std::string& digest, std::int64_t now_ms) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kTouchSession, {Int(now_ms), Bytes(digest)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "touch session"));
      return {};
    });
  }
  Result<std::int64_t> PurgeSessions(std::int64_t now_ms, std::int64_t idle_since_ms,
                                     std::int64_t created_since_ms) override {
    return Write([&](Connection& c) -> Result<std::int64_t> {
      constexpr std::int64_t kOff = std::numeric_limits<std::int64_t>::min();
      Rows r = c.Exec(kPurgeSessions, {Int(now_ms), Int(idle_since_ms ? idle_since_ms : kOff),
                                       Int(created_since_ms ? created_since_ms : kOff)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "purge sessions"));
      return r.affected();
    });
  }
  // --- AuditStore
  void SetAuditMac(AuditMac mac) override {
    std::lock_guard lock(audit_mu_);
    audit_mac_ = std::move(mac);
  }
  Status AppendAudit(const std::vector<AuditRow>& rows) override {
    if (rows.empty()) return {};
    return Write([&](Connection& c) -> Status { return AppendAuditIn(c, rows); });
  }
  Result<std::vector<AuditRow>> ListAudit(const std::string& environment_id, std::int64_t after_seq,
                                          int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<AuditRow>> {
      Rows r = c.Exec(kListAudit, {Text(environment_id), Int(after_seq), Int(std::max(limit, 0))});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list audit"));
      std::vector<AuditRow> out;
      for (int i = 0; i < r.size(); ++i)
        out.push_back(AuditRow{r.String(i, 0), r.Int(i, 1), r.Int(i, 2), r.String(i, 3), r.String(i, 4),
                               r.String(i, 5), r.String(i, 6), r.String(i, 7), r.String(i, 8), r.String(i, 9),
                               r.String(i, 10), r.String(i, 11), r.String(i, 12), r.String(i, 13), r.String(i, 14)});
      return out;
    });
  }
  Result<std::optional<AuditHead>> GetAuditHead(const std::string& environment_id) override {
    return Read([&](Connection& c) -> Result<std::optional<AuditHead>> {
      Rows r = c.Exec(kGetAuditHead, {Text(environment_id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "audit head"));
      if (r.size() == 0) return std::optional<AuditHead>{};
      return std::optional<AuditHead>(AuditHead{r.String(0, 0), r.Int(0, 1), r.String(0, 2), r.String(0, 3)});
    });
  }
  Result<std::vector<AuditCheckpoint>> ListAuditCheckpoints(const std::string& environment_id) override {
    return Read([&](Connection& c) -> Result<std::vector<AuditCheckpoint>> {
      Rows r = c.Exec(kListAuditCheckpoints, {Text(environment_id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list audit checkpoints"));
      std::vector<AuditCheckpoint> out;
      for (int i = 0; i < r.size(); ++i)
        out.push_back({r.String(i, 0), r.Int(i, 1), r.String(i, 2), r.Int(i, 3), r.String(i, 4)});
      return out;
    });
  }
  Result<std::int64_t> PurgeAudit(const std::string& environment_id, std::int64_t before_ms) override {
    return Write([&](Connection& c) -> Result<std::int64_t> {
      Rows q = c.Exec(kAuditPurgeLimit, {Text(environment_id), Int(before_ms)});
      if (!q.ok()) return std::unexpected(c.Failure(q, "purge audit"));
      const std::int64_t upto = q.Int(0, 0);
      if (upto == 0) return std::int64_t{0};
      Rows d = c.Exec(kPurgeAudit, {Text(environment_id), Int(upto)});
      if (!d.ok()) return std::unexpected(c.Failure(d, "purge audit"));
      Rows k = c.Exec(kPurgeAuditCheckpoints, {Text(environment_id), Int(upto)});
      if (!k.ok()) return std::unexpected(c.Failure(k, "purge audit"));
      return d.affected();
    });
  }

  Status DeleteSession(const std::string& digest) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kDeleteSession, {Bytes(digest)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "delete session"));
      if (r.affected() == 0) return core::NotFound("no such session");
      return {};
    });
  }
  Status CreateSession(const SessionRow& row) override {
    return Write([&](Connection& c) -> Status {
      auto user = Resolve(c, kLockUserKey, {Text(row.user_id), Text(row.environment_id)}, "user");
      if (!user) return std::unexpected(user.error());
      return InsertSession(c, row, *user);
    });
  }
  Status CreateSessionClearingCounter(const SessionRow& row, const std::string& counter_key) override {
    return Write([&](Connection& c) -> Status {
      auto user = Resolve(c, kLockUserKey, {Text(row.user_id), Text(row.environment_id)}, "user");
      if (!user) return std::unexpected(user.error());
      if (auto st = InsertSession(c, row, *user); !st) return st;
      return DeleteCounter(c, counter_key);
    });
  }

  // --- RecordStore
  Result<std::int64_t> InsertRecord(const NewRecord& record) override {
    return Write([&](Connection& c) -> Result<std::int64_t> { return InsertRecordRow(c, record); });
  }
  // InsertRecord's writes, inside the caller's transaction (InsertRecord's, InsertUser's).
  Result<std::int64_t> InsertRecordRow(Connection& c, const NewRecord& record) {
    {
      const RecordRow& x = record.row;
      Rows r = c.Exec(kInsertRecord, {Text(x.id), Text(x.environment_id), Text(x.kind), Int(x.created_at_ms),
                                      Int(x.updated_at_ms), Int(x.version), Int(x.expires_at_ms), Bytes(x.sealed)});
      if (r.IsUniqueViolation()) return core::AlreadyExists("id", "record id already exists");
      if (!r.ok()) return std::unexpected(c.Failure(r, "insert record"));
      const std::int64_t number = r.Int(0, 0);
      if (auto st = InsertRecordIndex(c, x.environment_id, number, record.index); !st)
        return std::unexpected(st.error());
      if (record.mail) {
        if (auto id = InsertMail(c, *record.mail); !id) return std::unexpected(id.error());
      }
      if (!record.members.empty()) {
        if (auto st = ReplaceMembers(c, x.environment_id, number, record.members); !st)
          return std::unexpected(st.error());
      }
      // A new record contains nothing yet, so no member record can lead back to it.
      if (auto st = JoinRecords(c, x.environment_id, x.kind, number, record.member_records); !st)
        return std::unexpected(st.error());
      return number;
    }
  }

  Result<RecordRow> GetRecord(const std::string& environment_id, const std::string& kind, const std::string& id,
                              std::int64_t now_ms) override {
    return Read([&](Connection& c) -> Result<RecordRow> {
      Rows r = c.Exec(kGetRecord, {Text(id), Text(environment_id), Text(kind), Int(now_ms)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "get record"));
      if (r.size() == 0) return core::NotFound("record not found");
      return ReadRecord(r, 0);
    });
  }

  Result<RecordRow> GetRecordByNumber(const std::string& kind, std::int64_t number, std::int64_t now_ms) override {
    return Read([&](Connection& c) -> Result<RecordRow> {
      Rows r = c.Exec(kGetRecordByNumber, {Int(number), Text(kind), Int(now_ms)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "get record"));
      if (r.size() == 0) return core::NotFound("record not found");
      return ReadRecord(r, 0);
    });
  }

  Result<std::vector<RecordRow>> FindRecords(const std::string& environment_id, const std::string& index_kind,
                                             const std::string& digest, std::int64_t now_ms) override {
    return Read([&](Connection& c) -> Result<std::vector<RecordRow>> {
      Rows r = c.Exec(kFindRecords, {Text(environment_id), Text(index_kind), Bytes(digest), Int(now_ms)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "find records"));
      std::vector<RecordRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReadRecord(r, i));
      return out;
    });
  }

  Result<std::vector<RecordRow>> ListRecords(const std::string& environment_id, const std::string& kind,
                                             std::int64_t after_number, int limit, std::int64_t now_ms) override {
    return Read([&](Connection& c) -> Result<std::vector<RecordRow>> {
      Rows r = c.Exec(kListRecords, {Text(environment_id), Text(kind), Int(after_number), Int(now_ms),
                                     Int(std::max(limit, 0))});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list records"));
      std::vector<RecordRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReadRecord(r, i));
      return out;
    });
  }

  Status UpdateRecord(const RecordUpdate& update) override {
    return Write([&](Connection& c) -> Status { return UpdateRecordRow(c, update); });
  }
  Status UpdateRecordRow(Connection& c, const RecordUpdate& update) {
    {
      const RecordRow& x = update.row;
      Rows q = c.Exec(kLockRecord, {Text(x.id), Text(x.environment_id), Text(x.kind)});
      if (!q.ok()) return std::unexpected(c.Failure(q, "update record"));
      if (q.size() == 0) return core::NotFound("record not found");
      const std::int64_t number = q.Int(0, 0);
      if (q.Int(0, 1) != update.expected_version) return Fail(ErrorCode::kAborted, "record was changed concurrently");
      Rows s = c.Exec(kUpdateRecord,
                      {Int(x.updated_at_ms), Int(x.version), Int(x.expires_at_ms), Bytes(x.sealed), Int(number)});
      if (!s.ok()) return std::unexpected(c.Failure(s, "update record"));
      Rows d = c.Exec(kDeleteRecordIndex, {Int(number)});
      if (!d.ok()) return std::unexpected(c.Failure(d, "update record index"));
      if (auto st = InsertRecordIndex(c, x.environment_id, number, update.index); !st) return st;
      if (update.members) {
        if (auto st = ReplaceMembers(c, x.environment_id, number, *update.members); !st) return st;
      }
      return ChangeMemberRecords(c, x.environment_id, x.kind, number, update);
    }
  }

  Status DeleteRecord(const std::string& environment_id, const std::string& kind, const std::string& id,
                      std::optional<std::int64_t> expected_version = std::nullopt) override {
    return Write([&](Connection& c) -> Status {
      if (expected_version) {
        Rows q = c.Exec(kLockRecord, {Text(id), Text(environment_id), Text(kind)});
        if (!q.ok()) return std::unexpected(c.Failure(q, "delete record"));
        if (q.size() == 0) return core::NotFound("record not found");
        if (q.Int(0, 1) != *expected_version) return Fail(ErrorCode::kAborted, "record was changed concurrently");
      }
      // Claims and memberships go by ON DELETE CASCADE in the same transaction.
      Rows r = c.Exec(kDeleteRecord, {Text(id), Text(environment_id), Text(kind)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "delete record"));
      if (r.affected() == 0) return core::NotFound("record not found");
      return {};
    });
  }

  Result<RecordRow> TakeRecord(const std::string& environment_id, const std::string& kind, const std::string& id,
                               std::int64_t now_ms) override {
    // The deletion of an expired record commits too, so the result says "absent" only
    // after the transaction.
    auto taken = Write([&](Connection& c) -> Result<std::optional<RecordRow>> {
      Rows r = c.Exec(kTakeRecord, {Text(id), Text(environment_id), Text(kind)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "take record"));
      if (r.size() == 0) return std::optional<RecordRow>();
      return std::optional<RecordRow>(ReadRecord(r, 0));
    });
    if (!taken) return std::unexpected(taken.error());
    if (!*taken || !Live(**taken, now_ms)) return core::NotFound("record not found");
    return std::move(**taken);
  }

  // --- MembershipStore
  Status AddMember(const std::string& environment_id, const std::string& record_id,
                   const std::string& user_id) override {
    return Write([&](Connection& c) -> Status {
      auto record = Resolve(c, kLockRecordKey, {Text(record_id), Text(environment_id)}, "record");
      if (!record) return std::unexpected(record.error());
      auto user = Resolve(c, kLockUserKey, {Text(user_id), Text(environment_id)}, "user");
      if (!user) return std::unexpected(user.error());
      Rows r = c.Exec(kAddMember, {Int(*record), Int(*user)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "add member"));
      return {};
    });
  }

  Status RemoveMember(const std::string& environment_id, const std::string& record_id,
                      const std::string& user_id) override {
    return Write([&](Connection& c) -> Status {
      auto record = Resolve(c, kLockRecordKey, {Text(record_id), Text(environment_id)}, "record");
      if (!record) return std::unexpected(record.error());
      auto user = Resolve(c, kLockUserKey, {Text(user_id), Text(environment_id)}, "user");
      if (!user) return std::unexpected(user.error());
      Rows r = c.Exec(kRemoveMember, {Int(*record), Int(*user)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "remove member"));
      if (r.affected() == 0) return core::NotFound("user is not a member");
      return {};
    });
  }

  Status SetMembers(const std::string& environment_id, const std::string& record_id,
                    const std::vector<std::string>& user_ids) override {
    return Write([&](Connection& c) -> Status {
      auto record = Resolve(c, kLockRecordKey, {Text(record_id), Text(environment_id)}, "record");
      if (!record) return std::unexpected(record.error());
      return ReplaceMembers(c, environment_id, *record, user_ids);
    });
  }

  Status SetMemberships(const std::string& environment_id, const std::string& user_id, const std::string& kind,
                        const std::vector<std::string>& record_ids) override {
    return Write([&](Connection& c) -> Status {
      auto user = Resolve(c, kLockUserKey, {Text(user_id), Text(environment_id)}, "user");
      if (!user) return std::unexpected(user.error());
      return ReplaceMemberships(c, environment_id, *user, kind, record_ids);
    });
  }

  Result<std::vector<UserRow>> ListMembers(const std::string& environment_id, const std::string& record_id,
                                           std::int64_t after_number, int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<UserRow>> {
      Rows r = c.Exec(kListMembers, {Text(record_id), Text(environment_id), Int(after_number),
                                     Int(std::max(limit, 0))});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list members"));
      if (r.size() == 0) return Fail(ErrorCode::kNotFound, "record not found", "record");
      std::vector<UserRow> out;
      for (int i = 0; i < r.size(); ++i) {
        if (!r.IsNull(i, 0)) out.push_back(ReadUser(r, i));
      }
      return out;
    });
  }

  Result<std::int64_t> CountMembers(const std::string& environment_id, const std::string& record_id) override {
    return Read([&](Connection& c) -> Result<std::int64_t> {
      Rows r = c.Exec(kCountMembers, {Text(record_id), Text(environment_id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "count members"));
      if (r.size() == 0) return Fail(ErrorCode::kNotFound, "record not found", "record");
      return r.Int(0, 0);
    });
  }

  Result<std::vector<RecordRow>> ListMemberships(const std::string& environment_id, const std::string& user_id,
                                                 const std::string& kind) override {
    return Read([&](Connection& c) -> Result<std::vector<RecordRow>> {
      Rows r = c.Exec(kListMemberships, {Text(user_id), Text(environment_id), Text(kind)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list memberships"));
      if (r.size() == 0) return Fail(ErrorCode::kNotFound, "user not found", "user");
      std::vector<RecordRow> out;
      for (int i = 0; i < r.size(); ++i) {
        if (!r.IsNull(i, 0)) out.push_back(ReadRecord(r, i));
      }
      return out;
    });
  }

  Result<std::vector<RecordRow>> ListMemberRecords(const std::string& environment_id, const std::string& record_id,
                                                   std::int64_t after_number, int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<RecordRow>> {
      Rows r = c.Exec(kListMemberRecords, {Text(record_id), Text(environment_id), Int(after_number),
                                           Int(std::max(limit, 0))});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list member records"));
      if (r.size() == 0) return Fail(ErrorCode::kNotFound, "record not found", "record");
      std::vector<RecordRow> out;
      for (int i = 0; i < r.size(); ++i) {
        if (!r.IsNull(i, 0)) out.push_back(ReadRecord(r, i));
      }
      return out;
    });
  }

  Result<std::vector<ContainingRecord>> ListContainingRecords(const std::string& environment_id,
                                                              const std::string& member_id, bool member_is_record,
                                                              const std::string& kind, int max_depth,
                                                              int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<ContainingRecord>> {
      Rows e = c.Exec(member_is_record ? kRecordInEnvironment : kUserInEnvironment,
                      {Text(member_id), Text(environment_id)});
      if (!e.ok()) return std::unexpected(c.Failure(e, "list containing records"));
      if (e.size() == 0) {
        const char* field = member_is_record ? "record" : "user";
        return Fail(ErrorCode::kNotFound, std::string(field) + " not found", field);
      }
      if (limit <= 0 || max_depth <= 0) return std::vector<ContainingRecord>{};
      Rows r = c.Exec(member_is_record ? kContainingRecord : kContainingUser,
                      {Text(member_id), Text(environment_id), Text(kind), Int(max_depth), Int(limit)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "list containing records"));
      std::vector<ContainingRecord> out;
      for (int i = 0; i < r.size(); ++i) out.push_back({ReadRecord(r, i), static_cast<int>(r.Int(i, 9))});
      return out;
    });
  }

  // --- MailStore
  Result<std::int64_t> EnqueueMail(const MailRow& mail) override {
    return Write([&](Connection& c) -> Result<std::int64_t> { return InsertMail(c, mail); });
  }

  Result<std::vector<MailRow>> ClaimMail(std::int64_t now_ms, std::int64_t lease_until_ms, int limit) override {
    auto claimed = Write([&](Connection& c) -> Result<std::vector<MailRow>> {
      Rows r = c.Exec(kClaimMail, {Int(now_ms), Int(lease_until_ms), Int(std::max(limit, 0))});
      if (!r.ok()) return std::unexpected(c.Failure(r, "claim mail"));
      std::vector<MailRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReadMail(r, i));
      return out;
    });
    // RETURNING keeps no order.
    if (claimed) std::ranges::sort(*claimed, {}, &MailRow::id);
    return claimed;
  }

  Status CompleteMail(std::int64_t id) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kCompleteMail, {Int(id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "complete mail"));
      if (r.affected() == 0) return core::NotFound("no such mail");
      return {};
    });
  }

  Status RetryMail(std::int64_t id, std::int64_t attempts, std::int64_t next_attempt_at_ms) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kRetryMail, {Int(attempts), Int(next_attempt_at_ms), Int(id)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "retry mail"));
      if (r.affected() == 0) return core::NotFound("no such mail");
      return {};
    });
  }

  Result<std::int64_t> CountMail() override {
    return Read([&](Connection& c) -> Result<std::int64_t> {
      Rows r = c.Exec(kCountMail, {});
      if (!r.ok()) return std::unexpected(c.Failure(r, "count mail"));
      return r.Int(0, 0);
    });
  }

  // --- OperationsStore
  Result<SchemaStatus> CheckSchema() override {
    return Read([&](Connection& c) -> Result<SchemaStatus> {
      Rows r = c.Exec(kSchemaVersion, {});
      if (!r.ok()) return std::unexpected(c.Failure(r, "read schema version"));
      return SchemaStatus{r.Int(0, 0), static_cast<std::int64_t>(std::size(kMigrations))};
    });
  }
  Result<OutboxStats> Outbox() override {
    return Read([&](Connection& c) -> Result<OutboxStats> {
      Rows r = c.Exec(kOutboxStats, {});
      if (!r.ok()) return std::unexpected(c.Failure(r, "read outbox"));
      return OutboxStats{r.Int(0, 0), r.Int(0, 1)};
    });
  }
  PoolStats Pool() const override {
    std::lock_guard lock(mu_);
    const int size = static_cast<int>(connections_.size());
    return PoolStats{size, size - static_cast<int>(idle_.size()), waits_, wait_seconds_};
  }

  // --- CounterStore
  Result<std::int64_t> HitCounter(const std::string& key, std::int64_t now_ms, std::int64_t window_ms) override {
    return Write([&](Connection& c) -> Result<std::int64_t> {
      Rows r = c.Exec(kHitCounter, {Bytes(key), Int(now_ms), Int(window_ms)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "hit counter"));
      return r.Int(0, 0);
    });
  }

  Status ResetCounter(const std::string& key) override {
    return Write([&](Connection& c) -> Status { return DeleteCounter(c, key); });
  }

  Result<CounterWindow> ReadCounter(const std::string& key) override {
    return Read([&](Connection& c) -> Result<CounterWindow> {
      Rows r = c.Exec(kReadCounter, {Bytes(key)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "read counter"));
      if (r.size() == 0) return CounterWindow{};
      return CounterWindow{r.Int(0, 0), r.Int(0, 1)};
    });
  }

  Status ResetCountersWithPrefix(const std::string& prefix) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kResetCountersWithPrefix, {Bytes(prefix)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "reset counters"));
      return {};
    });
  }

  Result<std::int64_t> PurgeExpiredRecords(std::int64_t now_ms) override {
    return Write([&](Connection& c) -> Result<std::int64_t> {
      Rows r = c.Exec(kPurgeExpiredRecords, {Int(now_ms)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "purge expired records"));
      return r.affected();
    });
  }
  Status PurgeCounters(std::int64_t before_ms) override {
    return Write([&](Connection& c) -> Status {
      Rows r = c.Exec(kPurgeCounters, {Int(before_ms)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "purge counters"));
      return {};
    });
  }

 private:
  // Applies the missing steps in one transaction. The advisory lock is taken before
  // anything else, so a second process starting at the same moment waits, then finds
  // the steps recorded and applies none.
  static void Migrate(Connection& c) {
    auto run = [&](const char* sql) {
      if (Rows r = c.Simple(sql); !r.ok()) throw std::runtime_error("cannot migrate the database: " + r.message());
    };
    run("BEGIN");
    try {
      run(kMigrationLock);
      run("CREATE TABLE IF NOT EXISTS schema_migrations ("
          "version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      Rows v = c.Exec(kSchemaVersion, {});
      if (!v.ok()) throw std::runtime_error("cannot migrate the database: " + v.message());
      const std::int64_t current = v.Int(0, 0);
      const auto known = static_cast<std::int64_t>(std::size(kMigrations));
      if (current > known) throw std::runtime_error("database schema is newer than this binary");
      for (std::int64_t step = current + 1; step <= known; ++step) {
        run(kMigrations[step - 1]);
        Rows r = c.Exec(kRecordMigration, {Int(step)});
        if (!r.ok()) throw std::runtime_error("cannot record migration: " + r.message());
      }
      run("COMMIT");
    } catch (...) {
      c.Simple("ROLLBACK");
      throw;
    }
  }

  // Links and appends `rows` in `c`'s open transaction, each environment's chain head
  // locked until commit.
  Status AppendAuditIn(Connection& c, const std::vector<AuditRow>& rows) {
    if (rows.empty()) return {};
    AuditMac mac;
    {
      std::lock_guard lock(audit_mu_);
      mac = audit_mac_;
    }
    if (!mac) return Fail(ErrorCode::kFailedPrecondition, "the audit chain has no key");
    for (auto& group : audit_chain::ByEnvironment(rows)) {
      const std::string& env = group.front().environment_id;
      Rows e = c.Exec(kEnsureAuditHead, {Text(env)});
      if (!e.ok()) return std::unexpected(c.Failure(e, "audit head"));
      Rows h = c.Exec(kLockAuditHead, {Text(env)});
      if (!h.ok()) return std::unexpected(c.Failure(h, "audit head"));
      std::optional<AuditHead> head;
      if (h.size() > 0 && h.Int(0, 1) > 0) head = AuditHead{h.String(0, 0), h.Int(0, 1), h.String(0, 2), h.String(0, 3)};
      auto linked = audit_chain::Link(mac, env, head, group);
      if (auto st = InsertAuditRows(c, group); !st) return st;
      for (const auto& k : linked.checkpoints) {
        Rows i = c.Exec(kInsertAuditCheckpoint,
                        {Text(k.environment_id), Int(k.seq), Bytes(k.hash), Int(k.at_ms), Bytes(k.mac)});
        if (!i.ok()) return std::unexpected(c.Failure(i, "audit checkpoint"));
      }
      Rows u = c.Exec(kSetAuditHead,
                      {Text(env), Int(linked.head.seq), Bytes(linked.head.hash), Bytes(linked.head.mac)});
      if (!u.ok()) return std::unexpected(c.Failure(u, "audit head"));
    }
    return {};
  }

  // Linked audit rows into audit_log: one statement for one row, one for many.
  static Status InsertAuditRows(Connection& c, const std::vector<AuditRow>& rows) {
    if (rows.size() == 1) {
      const AuditRow& r = rows.front();
      Rows i = c.Exec(kInsertAudit, {Text(r.environment_id), Int(r.seq), Int(r.at_ms), Text(r.principal_kind),
                                     Text(r.principal_id), Text(r.principal_user), Text(r.api), Text(r.route),
                                     Text(r.request_id), Text(r.action), Text(r.subject), Text(r.outcome),
                                     Text(r.fields), Bytes(r.prev), Bytes(r.hash)});
      if (!i.ok()) return std::unexpected(c.Failure(i, "append audit"));
      return {};
    }
    auto env = Array::Text(), seq = Array::Int(), at = Array::Int(), principal_kind = Array::Text(),
         principal_id = Array::Text(), principal_user = Array::Text(), api = Array::Text(), route = Array::Text(),
         request_id = Array::Text(), action = Array::Text(), subject = Array::Text(), outcome = Array::Text(),
         fields = Array::Text(), prev = Array::Bytes(), hash = Array::Bytes();
    for (const auto& r : rows) {
      env.Add(r.environment_id);
      seq.Add(r.seq);
      at.Add(r.at_ms);
      principal_kind.Add(r.principal_kind);
      principal_id.Add(r.principal_id);
      principal_user.Add(r.principal_user);
      api.Add(r.api);
      route.Add(r.route);
      request_id.Add(r.request_id);
      action.Add(r.action);
      subject.Add(r.subject);
      outcome.Add(r.outcome);
      fields.Add(r.fields);
      prev.Add(r.prev);
      hash.Add(r.hash);
    }
    Rows i = c.Exec(kInsertAuditBatch,
                    {env.param(), seq.param(), at.param(), principal_kind.param(), principal_id.param(),
                     principal_user.param(), api.param(), route.param(), request_id.param(), action.param(),
                     subject.param(), outcome.param(), fields.param(), prev.param(), hash.param()});
    if (!i.ok()) return std::unexpected(c.Failure(i, "append audit"));
    return {};
  }

  // Lends an idle connection to `body`, after making it fit for use.
  template <class F>
  auto WithConnection(F&& body) -> decltype(body(std::declval<Connection&>())) {
    Connection* c;
    {
      std::unique_lock lock(mu_);
      if (idle_.empty()) {
        const auto started = std::chrono::steady_clock::now();
        cv_.wait(lock, [&] { return !idle_.empty(); });
        ++waits_;
        wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      }
      c = idle_.back();  // LIFO: the warmest connection, and failures stay on one
      idle_.pop_back();
    }
    struct Return {
      PostgresStore* self;
      Connection* c;
      ~Return() {
        {
          std::lock_guard lock(self->mu_);
          self->idle_.push_back(c);
        }
        self->cv_.notify_one();
      }
    } give_back{this, c};
    if (!c->Recover()) return std::unexpected(Unavailable());
    return body(*c);
  }

  // A single statement needs no explicit transaction.
  template <class F>
  auto Read(F&& body) -> decltype(body(std::declval<Connection&>())) {
    return WithConnection(body);
  }

  // Runs `body` in one transaction; rolls back on any failure.
  template <class F>
  auto Write(F&& body) -> decltype(body(std::declval<Connection&>())) {
    using R = decltype(body(std::declval<Connection&>()));
    return WithConnection([&](Connection& c) -> R {
      if (Rows b = c.Simple("BEGIN"); !b.ok()) return std::unexpected(c.Failure(b, "begin"));
      R result;
      try {
        result = body(c);
      } catch (...) {
        c.Simple("ROLLBACK");  // do not hold locks until the connection's next use
        throw;
      }
      if (!result) {
        c.Simple("ROLLBACK");
        return result;
      }
      if (Rows commit = c.Simple("COMMIT"); !commit.ok()) {
        // Lost with the connection, the outcome is unknown: kUnavailable says "retry".
        const core::Error error = c.Failure(commit, "commit");
        c.Simple("ROLLBACK");
        return std::unexpected(error);
      }
      return result;
    });
  }

  Result<EnvironmentRow> FindEnvironment(const Query& q, const std::string& key) {
    return Read([&](Connection& c) -> Result<EnvironmentRow> {
      Rows r = c.Exec(q, {Text(key)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "find environment"));
      if (r.size() == 0) return core::NotFound("environment not found");
      return ReadEnvironment(r, 0);
    });
  }

  // Blind-index claims of a user, or of a record: the same columns in two tables. One
  // statement per claim so a violation names the kind that clashed.
  // `held` (users only): finds another holder of an exclusive claim's (kind, digest).
  static Status InsertClaims(Connection& c, const Query& q, const Query* held, const char* what,
                             const std::string& environment_id, std::int64_t number,
                             const std::vector<IndexEntry>& index) {
    for (const auto& e : index) {
      Rows r = c.Exec(q, {Text(environment_id), Text(e.kind), Bytes(e.digest), Int(number),
                          Bool(e.unique || e.exclusive), Int(e.generation)});
      if (r.IsUniqueViolation()) return core::AlreadyExists(e.kind, e.kind + " is already taken");
      if (!r.ok()) return std::unexpected(c.Failure(r, what));
      if (e.exclusive && held != nullptr) {
        Rows h = c.Exec(*held, {Text(environment_id), Text(e.kind), Bytes(e.digest), Int(number)});
        if (!h.ok()) return std::unexpected(c.Failure(h, what));
        if (h.size() > 0) return core::AlreadyExists(e.kind, e.kind + " is already taken");
      }
    }
    return {};
  }
  static Status InsertIndex(Connection& c, const std::string& environment_id, std::int64_t number,
                            const std::vector<IndexEntry>& index) {
    return InsertClaims(c, kInsertUserIndex, &kClaimHeldElsewhere, "insert index", environment_id, number, index);
  }
  static Status InsertRecordIndex(Connection& c, const std::string& environment_id, std::int64_t number,
                                  const std::vector<IndexEntry>& index) {
    return InsertClaims(c, kInsertRecordIndex, nullptr, "insert record index", environment_id, number, index);
  }

  // The record's members become `user_ids` (each locked against deletion first, or
  // kNotFound "user"); the caller's transaction undoes everything on error.
  static Status ReplaceMembers(Connection& c, const std::string& environment_id, std::int64_t record,
                               const std::vector<std::string>& user_ids) {
    std::vector<std::int64_t> users;
    for (const auto& user_id : user_ids) {
      auto user = Resolve(c, kLockUserKey, {Text(user_id), Text(environment_id)}, "user");
      if (!user) return std::unexpected(user.error());
      users.push_back(*user);
    }
    Rows d = c.Exec(kClearMembers, {Int(record)});
    if (!d.ok()) return std::unexpected(c.Failure(d, "set members"));
    for (const std::int64_t user : users) {
      Rows r = c.Exec(kAddMember, {Int(record), Int(user)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "set members"));
    }
    return {};
  }
  // The user's memberships among records of `kind` become `record_ids` (kNotFound
  // "record" for an id that is not a record of that kind in the environment).
  static Status ReplaceMemberships(Connection& c, const std::string& environment_id, std::int64_t user,
                                   const std::string& kind, const std::vector<std::string>& record_ids) {
    std::vector<std::int64_t> records;
    for (const auto& record_id : record_ids) {
      auto record = Resolve(c, kLockRecordKeyOfKind, {Text(record_id), Text(environment_id), Text(kind)}, "record");
      if (!record) return std::unexpected(record.error());
      records.push_back(*record);
    }
    Rows d = c.Exec(kClearMemberships, {Int(user), Text(kind)});
    if (!d.ok()) return std::unexpected(c.Failure(d, "set memberships"));
    for (const std::int64_t record : records) {
      Rows r = c.Exec(kAddMember, {Int(record), Int(user)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "set memberships"));
    }
    return {};
  }

  // Member records (by id: records of `kind` in the environment, each locked against
  // deletion, kNotFound "member" otherwise) joined to record `number`.
  static Status JoinRecords(Connection& c, const std::string& environment_id, const std::string& kind,
                            std::int64_t number, const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      auto member = Resolve(c, kLockRecordKeyOfKind, {Text(id), Text(environment_id), Text(kind)}, "member");
      if (!member) return std::unexpected(member.error());
      if (*member == number) return ContainsItself();
      Rows r = c.Exec(kAddMemberRecord, {Int(number), Int(*member)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "add member record"));
    }
    return {};
  }
  // A record update's member records and member changes, then the cycle check, under
  // the environment's nesting lock when a member record is added.
  static Status ChangeMemberRecords(Connection& c, const std::string& environment_id, const std::string& kind,
                                    std::int64_t number, const RecordUpdate& update) {
    const MemberChanges& changes = update.changes;
    const bool adds = !changes.add_records.empty() || (update.member_records && !update.member_records->empty());
    if (adds) {
      Rows l = c.Exec(kLockNesting, {Text(environment_id)});
      if (!l.ok()) return std::unexpected(c.Failure(l, "lock member records"));
    }
    if (update.member_records) {
      Rows d = c.Exec(kClearMemberRecords, {Int(number)});
      if (!d.ok()) return std::unexpected(c.Failure(d, "set member records"));
      if (auto st = JoinRecords(c, environment_id, kind, number, *update.member_records); !st) return st;
    }
    for (const auto& id : changes.remove_users) {
      Rows d = c.Exec(kRemoveMemberById, {Int(number), Text(id), Text(environment_id)});
      if (!d.ok()) return std::unexpected(c.Failure(d, "remove member"));
    }
    for (const auto& id : changes.remove_records) {
      Rows d = c.Exec(kRemoveMemberRecordById, {Int(number), Text(id), Text(environment_id)});
      if (!d.ok()) return std::unexpected(c.Failure(d, "remove member record"));
    }
    for (const auto& id : changes.add_users) {
      auto user = Resolve(c, kLockUserKey, {Text(id), Text(environment_id)}, "user");
      if (!user) return std::unexpected(user.error());
      Rows r = c.Exec(kAddMember, {Int(number), Int(*user)});
      if (!r.ok()) return std::unexpected(c.Failure(r, "add member"));
    }
    if (auto st = JoinRecords(c, environment_id, kind, number, changes.add_records); !st) return st;
    if (!adds) return {};
    // Only this record's members changed, so a new cycle would pass through it.
    Rows q = c.Exec(kContainsItself, {Int(number)});
    if (!q.ok()) return std::unexpected(c.Failure(q, "check member records"));
    if (q.size() > 0) return ContainsItself();
    return {};
  }
  static std::unexpected<core::Error> ContainsItself() {
    return core::InvalidArgument("members", "a record may not contain itself, directly or through its members");
  }

  // The number of the row `q` selects (and locks), or kNotFound naming `field`.
  static Result<std::int64_t> Resolve(Connection& c, const Query& q, std::initializer_list<Param> params,
                                      const std::string& field) {
    Rows r = c.Exec(q, params);
    if (!r.ok()) return std::unexpected(c.Failure(r, "resolve id"));
    if (r.size() == 0) return Fail(ErrorCode::kNotFound, field + " not found", field);
    return r.Int(0, 0);
  }

  static Result<std::int64_t> InsertMail(Connection& c, const MailRow& mail) {
    Rows r = c.Exec(kEnqueueMail, {Text(mail.environment_id), Int(mail.created_at_ms), Int(mail.next_attempt_at_ms),
                                   Int(mail.attempts), Bytes(mail.sealed)});
    if (!r.ok()) return std::unexpected(c.Failure(r, "enqueue mail"));
    return r.Int(0, 0);
  }

  static Status PutPassword(Connection& c, std::int64_t number, const std::string& hash) {
    Rows r = c.Exec(kPutPassword, {Int(number), Text(hash)});
    if (!r.ok()) return std::unexpected(c.Failure(r, "store password"));
    return {};
  }

  static Status DeleteCounter(Connection& c, const std::string& key) {
    Rows r = c.Exec(kResetCounter, {Bytes(key)});
    if (!r.ok()) return std::unexpected(c.Failure(r, "reset counter"));
    return {};
  }

  static Status InsertSession(Connection& c, const SessionRow& row, std::int64_t number) {
    Rows r = c.Exec(kInsertSession, {Bytes(row.digest), Int(number), Int(row.created_at_ms),
                                     Int(row.last_used_at_ms), Int(row.expires_at_ms)});
    if (!r.ok()) return std::unexpected(c.Failure(r, "insert session"));
    return {};
  }

  const std::string dsn_;
  std::vector<std::unique_ptr<Connection>> connections_;
  mutable std::mutex mu_;
  std::mutex audit_mu_;
  AuditMac audit_mac_;  // set once by the service (SetAuditMac); guarded by audit_mu_
  std::uint64_t waits_ = 0;     // guarded by mu_: borrowers that found no idle connection
  double wait_seconds_ = 0;     // guarded by mu_
  std::condition_variable cv_;
  std::vector<Connection*> idle_;
};

}  // namespace

std::unique_ptr<Store> Open(const Options& options) { return std::make_unique<PostgresStore>(options); }

}  // namespace roster::store::postgres
