#include "service/directory_service.h"

namespace roster::service {
namespace {

bool ValidEnvironmentName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string> SplitNames(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (comma != 0) out.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

core::Api FirstApi(core::Apis apis) {
  for (std::uint32_t bit = 1; bit <= core::kAllApis; bit <<= 1)
    if (apis & bit) return static_cast<core::Api>(bit);
  return core::kCatalyzeApi;
}

// A key's grant as stored. Keys made before keys carried one (empty columns) keep
// working where they did: an admin key everywhere with every scope; a QuickBlox
// application's key (identifier "quickblox") there; any other app key for Catalyze and
// CommCare (whose web-user keys were such keys), with that API's defaults.
ApiKeyInfo ToInfo(const store::ApiKeyRow& row) {
  ApiKeyInfo info{row.id, row.environment_id, row.role == "admin" ? KeyRole::kAdmin : KeyRole::kApp,
                  row.identifier, row.created_at_ms, row.revoked_at_ms.has_value()};
  if (row.apis.empty()) {
    if (info.role == KeyRole::kAdmin) {
      info.apis = core::kAllApis;
      info.scopes = core::kAllScopes;
    } else if (row.identifier == "quickblox") {
      info.apis = core::kQuickBloxApi;
      info.scopes = core::DefaultScopes(core::CredentialKind::kAppKey, core::kQuickBloxApi);
    } else {
      info.apis = core::kCatalyzeApi | core::kCommCareApi;
      info.scopes = core::DefaultScopes(core::CredentialKind::kAppKey, core::kCatalyzeApi);
    }
    return info;
  }
  info.apis = core::ParseApis(SplitNames(row.apis)).value_or(0);
  info.scopes = core::ParseScopes(SplitNames(row.scopes)).value_or(0);
  return info;
}

}  // namespace

std::string_view RoleName(KeyRole role) { return role == KeyRole::kAdmin ? "admin" : "app"; }

std::optional<KeyRole> ParseRole(std::string_view name) {
  if (name == "admin") return KeyRole::kAdmin;
  if (name == "app") return KeyRole::kApp;
  return std::nullopt;
}

Result<Environment> DirectoryService::CreateEnvironment(const std::string& name) {
  if (!ValidEnvironmentName(name))
    return core::InvalidArgument("name", "environment name must be 1-64 of A-Z a-z 0-9 . _ -");
  store::EnvironmentRow row{crypto::NewUuid(), name, {}, clock_.NowMillis()};
  for (int attempt = 0;; ++attempt) {
    // Wrapped under the master key the store holds, or refused (a rotation meanwhile).
    row.master_fingerprint = keyring_.Fingerprint();
    row.wrapped_key = keyring_.NewWrappedDataKey(row.id);
    auto st = store_.CreateEnvironment(row);
    if (st) break;
    if (st.error().code != core::ErrorCode::kAborted || attempt > 0 || !reload_master_ || !reload_master_())
      return std::unexpected(st.error());
  }
  if (environment_created_) {
    if (auto st = environment_created_(row.id); !st) return std::unexpected(st.error());
  }
  return Environment{row.id, row.name};
}

Result<Environment> DirectoryService::FindEnvironment(const std::string& name) {
  auto row = store_.FindEnvironmentByName(name);
  if (!row) return std::unexpected(row.error());
  return Environment{row->id, row->name};
}

Result<Environment> DirectoryService::GetEnvironment(const std::string& id) {
  auto row = store_.FindEnvironmentById(id);
  if (!row) return std::unexpected(row.error());
  return Environment{row->id, row->name};
}

Result<Environment> DirectoryService::ResolveEnvironment(std::string_view id_or_name) {
  const std::string key(id_or_name);
  auto by_id = GetEnvironment(key);
  if (by_id || by_id.error().code != core::ErrorCode::kNotFound) return by_id;
  return FindEnvironment(key);
}

Result<Environment> DirectoryService::EnsureEnvironment(const std::string& name) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto env = FindEnvironment(name);
    if (env || env.error().code != core::ErrorCode::kNotFound) return env;
    auto created = CreateEnvironment(name);
    if (created || created.error().code != core::ErrorCode::kAlreadyExists) return created;
  }
  return core::Internal("cannot create environment '" + name + "'");
}

Result<std::vector<Environment>> DirectoryService::ListEnvironments() {
  auto rows = store_.ListEnvironments();
  if (!rows) return std::unexpected(rows.error());
  std::vector<Environment> out;
  for (const auto& r : *rows) out.push_back({r.id, r.name});
  return out;
}

Result<NewApiKey> DirectoryService::CreateApiKey(const std::string& environment_name, KeyRole role,
                                                 const std::string& identifier, const KeyGrant& grant) {
  if (identifier.size() > 255 || identifier.find_first_of(" \t\r\n") != std::string::npos)
    return core::InvalidArgument("identifier", "identifier must be at most 255 characters without spaces");
  auto env = store_.FindEnvironmentByName(environment_name);
  if (!env) return std::unexpected(env.error());
  NewApiKey key;
  key.secret = crypto::RandomToken();
  const core::Apis apis = grant.apis & core::kAllApis
                              ? grant.apis & core::kAllApis
                              : (role == KeyRole::kAdmin ? core::kAllApis : core::kCatalyzeApi);
  const core::Scopes scopes =
      grant.scopes ? *grant.scopes & core::kAllScopes
                   : core::DefaultScopes(role == KeyRole::kAdmin ? core::CredentialKind::kAdminKey : grant.kind,
                                         FirstApi(apis));
  store::ApiKeyRow row{crypto::NewUuid(), env->id, std::string(RoleName(role)), identifier,
                       keyring_.Digest(key.secret), clock_.NowMillis(), std::nullopt,
                       JoinNames(core::ApiNames(apis)),
                       scopes == 0 ? std::string("none") : JoinNames(core::ScopeNames(scopes))};
  if (auto st = store_.CreateApiKey(row); !st) return std::unexpected(st.error());
  key.info = ToInfo(row);
  return key;
}

Result<std::vector<ApiKeyInfo>> DirectoryService::ListApiKeys(const std::string& environment_name) {
  auto env = store_.FindEnvironmentByName(environment_name);
  if (!env) return std::unexpected(env.error());
  auto rows = store_.ListApiKeys(env->id);
  if (!rows) return std::unexpected(rows.error());
  std::vector<ApiKeyInfo> out;
  for (const auto& r : *rows) out.push_back(ToInfo(r));
  return out;
}

Status DirectoryService::RevokeApiKey(const std::string& id) {
  auto st = store_.RevokeApiKey(id, clock_.NowMillis());
  if (st) ForgetKeys(std::nullopt);  // this process need not wait for the store's word
  return st;
}

bool DirectoryService::EnableKeyCache() {
  if (key_watch_) return true;
  key_watch_ = store_.WatchApiKeys([this](bool live) { ForgetKeys(live); });
  return key_watch_ != nullptr;
}

void DirectoryService::ForgetKeys(std::optional<bool> live) {
  std::lock_guard lock(key_mu_);
  key_cache_.clear();
  ++key_generation_;
  if (live) key_cache_live_ = *live;
}

Result<store::ApiKeyRow> DirectoryService::LookUpKey(const std::string& digest) {
  const std::int64_t now = clock_.NowMillis();
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(key_mu_);
    if (key_cache_live_) {
      if (auto it = key_cache_.find(digest);
          it != key_cache_.end() && now - it->second.fetched_at_ms < kKeyCacheTtlMs && now >= it->second.fetched_at_ms)
        return it->second.row;
    }
    generation = key_generation_;
  }
  auto row = store_.FindApiKeyByDigest(digest);
  if (!row) return row;  // unknown keys are not cached: guessing must not fill memory
  std::lock_guard lock(key_mu_);
  // A change heard while the store was being read may postdate what it returned.
  if (key_cache_live_ && generation == key_generation_) {
    if (key_cache_.size() >= kKeyCacheMaxEntries) key_cache_.clear();
    key_cache_.insert_or_assign(digest, CachedKey{*row, now});
  }
  return row;
}

Result<ApiKeyInfo> DirectoryService::AuthenticateApiKey(std::string_view secret,
                                                        std::string_view identifier, core::Api api) {
  auto row = LookUpKey(keyring_.Digest(secret));
  if (!row) {
    if (row.error().code == core::ErrorCode::kNotFound)
      return core::Fail(core::ErrorCode::kUnauthenticated, "invalid api key");
    return std::unexpected(row.error());
  }
  if (row->revoked_at_ms || (!row->identifier.empty() && row->identifier != identifier))
    return core::Fail(core::ErrorCode::kUnauthenticated, "invalid api key");
  ApiKeyInfo info = ToInfo(*row);
  // A key of one API presented to another reads like an unknown key.
  if (!(info.apis & api)) return core::Fail(core::ErrorCode::kUnauthenticated, "invalid api key");
  if (row->apis.empty() && info.role == KeyRole::kApp && api == core::kCommCareApi)
    info.scopes = core::DefaultScopes(core::CredentialKind::kWebUserKey, api);
  return info;
}

Result<crypto::EnvironmentKeys> DirectoryService::KeysFor(const std::string& environment_id) {
  {
    const std::int64_t now = clock_.NowMillis();
    std::lock_guard lock(mu_);
    if (auto it = keys_.find(environment_id);
        it != keys_.end() && now - it->second.fetched_at_ms < kDataKeyTtlMs && now >= it->second.fetched_at_ms)
      return it->second.keys;
  }
  return RefreshKeys(environment_id);
}

Result<crypto::EnvironmentKeys> DirectoryService::RefreshKeys(const std::string& environment_id) {
  const std::int64_t now = clock_.NowMillis();
  auto env = store_.FindEnvironmentById(environment_id);
  if (!env) return std::unexpected(env.error());
  auto keys = Unwrap(*env);
  if (!keys) {
    // The master key was rotated and this process cannot find the new one (yet): the
    // keys it holds are still the environment's (a master-key rotation re-wraps them,
    // values unchanged).
    std::lock_guard lock(mu_);
    if (auto it = keys_.find(environment_id); it != keys_.end()) return it->second.keys;
    return std::unexpected(keys.error());
  }
  std::lock_guard lock(mu_);
  keys_.insert_or_assign(environment_id, CachedDataKeys{*keys, now});
  return *keys;
}

Result<crypto::EnvironmentKeys> DirectoryService::Unwrap(const store::EnvironmentRow& env) {
  auto keys = keyring_.Unwrap(env.id, env.wrapped_key);
  if (!keys && reload_master_ && reload_master_()) keys = keyring_.Unwrap(env.id, env.wrapped_key);
  return keys;
}

Result<std::string> DirectoryService::OpenSealed(const std::string& environment_id,
                                                 const crypto::EnvironmentKeys& keys, std::string_view sealed,
                                                 std::string_view associated) {
  auto plain = crypto::OpenAny(keys, sealed, associated);
  if (plain) return plain;
  auto fresh = RefreshKeys(environment_id);
  if (!fresh) return plain;
  return crypto::OpenAny(*fresh, sealed, associated);
}

Result<std::size_t> DirectoryService::DataKeyCount(const std::string& environment_id) {
  auto env = store_.FindEnvironmentById(environment_id);
  if (!env) return std::unexpected(env.error());
  return crypto::Keyring::WrappedKeyCount(env->wrapped_key);
}

Result<std::size_t> DirectoryService::AddDataKey(const std::string& environment_id) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto env = store_.FindEnvironmentById(environment_id);
    if (!env) return std::unexpected(env.error());
    const std::size_t count = crypto::Keyring::WrappedKeyCount(env->wrapped_key);
    if (count == 0) return core::Internal("data key list is malformed");
    if (count > 1) {
      if (auto keys = RefreshKeys(environment_id); !keys) return std::unexpected(keys.error());
      return count;
    }
    // The new key is wrapped under the master key that wraps the list read, never
    // under one a rotation has just replaced.
    if (auto keys = Unwrap(*env); !keys) return std::unexpected(keys.error());
    auto st = store_.ReplaceEnvironmentKeys(environment_id, env->wrapped_key,
                                            keyring_.PrependNewDataKey(environment_id, env->wrapped_key));
    if (st) {
      if (auto keys = RefreshKeys(environment_id); !keys) return std::unexpected(keys.error());
      return count + 1;
    }
    if (st.error().code != core::ErrorCode::kAborted) return std::unexpected(st.error());
  }
  return core::Fail(core::ErrorCode::kAborted, "the environment's keys keep changing");
}

Status DirectoryService::DropOlderDataKeys(const std::string& environment_id) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto env = store_.FindEnvironmentById(environment_id);
    if (!env) return std::unexpected(env.error());
    if (crypto::Keyring::WrappedKeyCount(env->wrapped_key) <= 1) return {};
    auto st = store_.ReplaceEnvironmentKeys(environment_id, env->wrapped_key,
                                            crypto::Keyring::NewestOnly(env->wrapped_key));
    if (st) {
      if (auto keys = RefreshKeys(environment_id); !keys) return std::unexpected(keys.error());
      return {};
    }
    if (st.error().code != core::ErrorCode::kAborted) return std::unexpected(st.error());
  }
  return core::Fail(core::ErrorCode::kAborted, "the environment's keys keep changing");
}

}  // namespace roster::service
