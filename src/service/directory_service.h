// DirectoryService: environments (tenants), their data keys, and API keys. Used by the
// CLI to provision and by every dialect to authenticate callers. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/access.h"
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
  core::Apis apis = 0;      // the APIs it may be presented to
  core::Scopes scopes = 0;  // what it may do there (core/access.h)
};

// What a new key is for. `apis` 0: an admin key is for every API, an app key for
// Catalyze. No scopes: the defaults of its kind for its first API (core::DefaultScopes).
struct KeyGrant {
  core::Apis apis = 0;
  std::optional<core::Scopes> scopes;
  core::CredentialKind kind = core::CredentialKind::kAppKey;  // for the defaults of an app key
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
  // By name; kNotFound.
  Result<Environment> FindEnvironment(const std::string& name);
  // By id; kNotFound.
  Result<Environment> GetEnvironment(const std::string& id);
  // By id, else by name (a path segment that may hold either); kNotFound.
  Result<Environment> ResolveEnvironment(std::string_view id_or_name);
  // The environment named `name`, created if missing; race-safe (a concurrent creation
  // wins and is returned).
  Result<Environment> EnsureEnvironment(const std::string& name);
  Result<std::vector<Environment>> ListEnvironments();

  Result<NewApiKey> CreateApiKey(const std::string& environment_name, KeyRole role,
                                 const std::string& identifier, const KeyGrant& grant = {});
  Result<std::vector<ApiKeyInfo>> ListApiKeys(const std::string& environment_name);
  Status RevokeApiKey(const std::string& id);
  // kUnauthenticated for an unknown or revoked key, an identifier the key is not bound
  // to, or an API it was not made for. Each failure reads the same to the caller.
  // `info.scopes` are what it may do through `api`.
  Result<ApiKeyInfo> AuthenticateApiKey(std::string_view secret, std::string_view identifier, core::Api api);

  // The environment's keys, unwrapped and cached; the cache is re-read from the store
  // when it is kDataKeyTtlMs old, so a data key another process added (a rotation) seals
  // here within that time. kNotFound for an unknown id.
  Result<crypto::EnvironmentKeys> KeysFor(const std::string& environment_id);
  // Opens a value sealed under any of the environment's data keys (`keys`, from
  // KeysFor). A value sealed under a key not in `keys` (another process rotated since)
  // re-reads the environment's keys once and tries those before failing. Every service
  // opens sealed values through this.
  Result<std::string> OpenSealed(const std::string& environment_id, const crypto::EnvironmentKeys& keys,
                                 std::string_view sealed, std::string_view associated);
  // The environment's keys read from the store now (the cache refilled).
  Result<crypto::EnvironmentKeys> RefreshKeys(const std::string& environment_id);

  // Data-key rotation (service/data_key_rotation.h). How many data keys the environment
  // holds now (read from the store).
  Result<std::size_t> DataKeyCount(const std::string& environment_id);
  // Puts a new data key in front of the environment's keys, durably, if it holds only
  // one (else keeps the newest it has: a rotation under way is resumed, not restarted);
  // returns the key count.
  Result<std::size_t> AddDataKey(const std::string& environment_id);
  // Keeps only the newest data key: call once every sealed row opens under it.
  Status DropOlderDataKeys(const std::string& environment_id);
  // Called when a key list does not unwrap under the keyring's master key (another
  // process rotated the master key): the hook switches the keyring to the store's new
  // master key if it can find it, and says whether it did (cli/master_key.h). Without
  // one, or when it cannot, a cached list is kept (a rotation changes no key's value).
  // Call once, before serving.
  void SetMasterKeyReloader(std::function<bool()> reload) { reload_master_ = std::move(reload); }
  // Called with the id of each environment this service creates, once the store holds it
  // (not for one a concurrent creation made first). Its error is the creator's to report:
  // the environment exists either way. MarkNewEnvironmentsIndexed (search_upgrade.h) sets it.
  void SetEnvironmentCreated(std::function<Status(const std::string& environment_id)> created) {
    environment_created_ = std::move(created);
  }

  // How long a process seals under a cached key list at most before re-reading it.
  static constexpr std::int64_t kDataKeyTtlMs = 5'000;

  // Keeps API key lookups in memory, if the store reports revocations made by any process
  // (PostgreSQL does; SQLite, read in-process, gains little and does not). A revocation
  // empties the cache as soon as the store hears of it; while the store cannot hear (its
  // channel is down) nothing cached is used. Entries also expire after kKeyCacheTtlMs.
  // Call once, before serving. True if the cache is on.
  bool EnableKeyCache();

  static constexpr std::int64_t kKeyCacheTtlMs = 30'000;
  static constexpr std::size_t kKeyCacheMaxEntries = 4096;

 private:
  Result<store::ApiKeyRow> LookUpKey(const std::string& digest);
  // Forgets every cached key; `live` says whether the cache may be filled again.
  void ForgetKeys(std::optional<bool> live);

  // The list unwrapped, after a master-key reload if the keyring's key does not open it.
  Result<crypto::EnvironmentKeys> Unwrap(const store::EnvironmentRow& env);

  store::DirectoryStore& store_;
  const crypto::Keyring& keyring_;
  std::function<bool()> reload_master_;
  std::function<Status(const std::string&)> environment_created_;
  const core::Clock& clock_;
  std::mutex mu_;
  struct CachedDataKeys {
    crypto::EnvironmentKeys keys;
    std::int64_t fetched_at_ms = 0;
  };
  std::map<std::string, CachedDataKeys, std::less<>> keys_;

  struct CachedKey {
    store::ApiKeyRow row;
    std::int64_t fetched_at_ms = 0;
  };
  std::mutex key_mu_;
  bool key_cache_live_ = false;
  std::uint64_t key_generation_ = 0;  // bumped by every ForgetKeys
  std::unordered_map<std::string, CachedKey> key_cache_;  // by key digest
  std::unique_ptr<store::Watch> key_watch_;  // last: stopped before the members it calls
};

}  // namespace roster::service
