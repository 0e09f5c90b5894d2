// The storage port: plain rows in and out, split by role and privilege. Values that
// are secret or personal arrive already sealed, digested or hashed: a store never sees
// plaintext PII. Every write is one transaction; uniqueness is enforced by unique
// indexes (a violated one returns kAlreadyExists naming the index kind in
// Error::field). Implementations are safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace roster::store {

using core::Result;
using core::Status;

struct EnvironmentRow {
  std::string id;
  std::string name;
  std::string wrapped_key;  // data key sealed by the master key
  std::int64_t created_at_ms = 0;
};

struct ApiKeyRow {
  std::string id;
  std::string environment_id;
  std::string role;        // "admin" | "app"
  std::string identifier;  // bound app identifier, empty = any
  std::string digest;      // keyed digest of the secret
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> revoked_at_ms;
};

// A blind-index claim: (kind, digest) points at one user. Unique kinds (username) are
// enforced by a unique index per environment; others (email) are lookups only.
struct IndexEntry {
  std::string kind;
  std::string digest;
  bool unique = false;
};

struct UserRow {
  std::string id;
  std::int64_t number = 0;  // assigned by the store on insert
  std::string environment_id;
  bool active = false;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t version = 1;
  std::string sealed;  // the sealed profile
};

struct SessionRow {
  std::string digest;
  std::string environment_id;
  std::string user_id;
  std::int64_t created_at_ms = 0;
  std::int64_t last_used_at_ms = 0;
  std::int64_t expires_at_ms = 0;  // 0 = no absolute expiry
};

struct NewUser {
  UserRow row;
  std::vector<IndexEntry> index;
  std::optional<std::string> password_hash;
  std::optional<SessionRow> session;  // issued in the same transaction
};

struct UserUpdate {
  UserRow row;  // id + environment_id select the user; other fields are the new values
  std::int64_t expected_version = 0;  // kAborted if the stored version differs
  std::vector<IndexEntry> index;      // replaces every claim of the user
  std::optional<std::string> password_hash;
  bool revoke_sessions = false;
};

// Environments and API keys: the control plane.
class DirectoryStore {
 public:
  virtual ~DirectoryStore() = default;
  // kAlreadyExists (field "name") if the name is taken.
  virtual Status CreateEnvironment(const EnvironmentRow& row) = 0;
  // kNotFound if absent.
  virtual Result<EnvironmentRow> FindEnvironmentByName(const std::string& name) = 0;
  virtual Result<EnvironmentRow> FindEnvironmentById(const std::string& id) = 0;
  virtual Result<std::vector<EnvironmentRow>> ListEnvironments() = 0;

  virtual Status CreateApiKey(const ApiKeyRow& row) = 0;
  // kNotFound if no key has this digest (revoked keys are returned; callers check).
  virtual Result<ApiKeyRow> FindApiKeyByDigest(const std::string& digest) = 0;
  virtual Result<std::vector<ApiKeyRow>> ListApiKeys(const std::string& environment_id) = 0;
  // kNotFound if no such key, kFailedPrecondition if already revoked.
  virtual Status RevokeApiKey(const std::string& id, std::int64_t now_ms) = 0;
};

// Profiles. Never returns credentials.
class UserStore {
 public:
  virtual ~UserStore() = default;
  // Returns the assigned number. kAlreadyExists (field = index kind) on a unique claim.
  virtual Result<std::int64_t> InsertUser(const NewUser& user) = 0;
  // kNotFound if the environment has no such user.
  virtual Result<UserRow> GetUser(const std::string& environment_id, const std::string& id) = 0;
  virtual Result<std::vector<UserRow>> FindUsers(const std::string& environment_id,
                                                 const std::string& kind,
                                                 const std::string& digest) = 0;
  // kNotFound, kAborted (version moved on), kAlreadyExists (unique claim taken).
  virtual Status UpdateUser(const UserUpdate& update) = 0;
  // Removes the user with its claims, credentials and sessions. kNotFound if absent.
  virtual Status DeleteUser(const std::string& environment_id, const std::string& id) = 0;
};

// Password hashes: only the credential path depends on this port.
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  // kNotFound if the user has no password.
  virtual Result<std::string> GetPasswordHash(const std::string& environment_id,
                                              const std::string& user_id) = 0;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // kNotFound if no live row has this digest.
  virtual Result<SessionRow> FindSession(const std::string& digest) = 0;
  virtual Status TouchSession(const std::string& digest, std::int64_t now_ms) = 0;
  virtual Status DeleteSession(const std::string& digest) = 0;
};

// One object serving every port over one database.
class Store : public DirectoryStore, public UserStore, public CredentialStore, public SessionStore {};

}  // namespace roster::store
