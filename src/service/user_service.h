// UserService: the use cases on users (create, read, merge-update, delete) and their
// sessions. The only code that seals profiles, derives blind indexes, hashes
// passwords and issues tokens. Dialects call it with canonical users; every call is
// scoped to one environment. Thread-safe; Create and Update hash passwords (argon2id),
// so call them from a worker thread, never an I/O thread.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/user.h"
#include "crypto/crypto.h"
#include "service/directory_service.h"
#include "store/store.h"

namespace roster::service {

struct SessionPolicy {
  std::int64_t idle_timeout_ms = 0;      // 0: never idles out
  std::int64_t absolute_lifetime_ms = 0;  // 0: never expires (Catalyze's behaviour)
};

struct CreateUserRequest {
  std::string environment_id;
  core::User user;  // username, active and profile are taken; ids and times are assigned
  std::optional<std::string> password;
  bool issue_session = false;
};

struct CreatedUser {
  core::User user;
  std::optional<std::string> session_token;  // shown once
};

struct Session {
  std::string environment_id;
  std::string user_id;
};

// Applies a change to a user; returns an error to abort the update unchanged.
using UserChange = std::function<core::Status(core::User&)>;

class UserService {
 public:
  UserService(store::UserStore& users, store::SessionStore& sessions, DirectoryService& directory,
              const crypto::Keyring& keyring, const crypto::PasswordHasher& hasher,
              const core::Clock& clock, SessionPolicy policy = {})
      : users_(users), sessions_(sessions), directory_(directory), keyring_(keyring),
        hasher_(hasher), clock_(clock), policy_(policy) {}

  // kInvalidArgument (bad username or email), kAlreadyExists (field "username").
  core::Result<CreatedUser> Create(const CreateUserRequest& request);
  // kNotFound for an id that is not a user of the environment (malformed ids included).
  core::Result<core::User> Get(const std::string& environment_id, const std::string& id);
  // Reads, applies `change`, re-validates and writes, retrying if the user changed
  // concurrently. A new password is re-hashed and revokes the user's other sessions.
  core::Result<core::User> Update(const std::string& environment_id, const std::string& id,
                                  const UserChange& change,
                                  const std::optional<std::string>& new_password);
  // Irreversible: profile, index entries, credentials and sessions. kNotFound.
  core::Status Delete(const std::string& environment_id, const std::string& id);

  // kUnauthenticated for an unknown, expired or idle-timed-out token.
  core::Result<Session> AuthenticateSession(std::string_view token);

 private:
  core::Result<std::vector<store::IndexEntry>> IndexFor(const crypto::EnvironmentKeys& keys,
                                                        const core::User& user);
  std::string AssociatedData(const core::User& user) const;
  core::Result<core::User> Unseal(const crypto::EnvironmentKeys& keys, const store::UserRow& row);

  store::UserStore& users_;
  store::SessionStore& sessions_;
  DirectoryService& directory_;
  const crypto::Keyring& keyring_;
  const crypto::PasswordHasher& hasher_;
  const core::Clock& clock_;
  SessionPolicy policy_;
};

}  // namespace roster::service
