// DirectoryService: environments (tenants), their data keys, and API keys. Used by the
// CLI to provision and by every dialect to authenticate callers. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "store/store.h"

namespace roster::service {

using core::Result;
using core::Status;

struct Environment {
  std::string id;
  std::string name;
};

enum class KeyRole { kAdmin, kApp };

struct ApiKeyInfo {
  std::string id;
  std::string environment_id;
  KeyRole role = KeyRole::kApp;
  std::string identifier;  // empty: accepts any identifier
  std::int64_t created_at_ms = 0;
  bool revoked = false;
};

struct NewApiKey {
  ApiKeyInfo info;
  std::string secret;  // shown once, never stored
};

std::string_view RoleName(KeyRole role);
std::optional<KeyRole> ParseRole(std::string_view name);

class DirectoryService {
 public:
  DirectoryService(store::DirectoryStore& store, const crypto::Keyring& keyring, const core::Clock& clock)
      : store_(store), keyring_(keyring), clock_(clock) {}

  // kInvalidArgument for a bad name (1..64 of [A-Za-z0-9._-]), kAlreadyExists if taken.
  Result<Environment> CreateEnvironment(const std::string& name);
  Result<Environment> FindEnvironment(const std::string& name);
  Result<std::vector<Environment>> ListEnvironments();

  Result<NewApiKey> CreateApiKey(const std::string& environment_name, KeyRole role,
                                 const std::string& identifier);
  Result<std::vector<ApiKeyInfo>> ListApiKeys(const std::string& environment_name);
  Status RevokeApiKey(const std::string& id);
  // kUnauthenticated for an unknown or revoked key, or an identifier the key is not
  // bound to. Each failure reads the same to the caller.
  Result<ApiKeyInfo> AuthenticateApiKey(std::string_view secret, std::string_view identifier);

  // The environment's keys, unwrapped once and cached. kNotFound for an unknown id.
  Result<crypto::EnvironmentKeys> KeysFor(const std::string& environment_id);

 private:
  store::DirectoryStore& store_;
  const crypto::Keyring& keyring_;
  const core::Clock& clock_;
  std::mutex mu_;
  std::map<std::string, crypto::EnvironmentKeys, std::less<>> keys_;
};

}  // namespace roster::service
