// Application credentials after creation: `roster quickblox app rotate-secret`,
// `rotate-key` and `delete`, and the check every QB-Token request makes that its
// session's application still stands (CheckSessionApp). Application records are read
// uncached, so a change by any process (the CLI, another server) holds from the next
// request on. See docs/dialects/quickblox.md, "Rotation and revocation".
#include "core/rules.h"
#include "crypto/crypto.h"
#include "dialects/quickblox/common.h"

namespace roster::dialects::quickblox {
namespace json = boost::json;
using core::ErrorCode;

namespace {

std::vector<service::Claim> AppClaims(const service::Record& app) {
  return {{kAppKeyClaim, StringMember(app.body, "api_key_id"), true}};
}

// The environment named `environment_name` and its application `application_id`.
struct NamedApp {
  service::Environment environment;
  service::Record app;
};

core::Result<NamedApp> FindApp(const Services& s, const std::string& environment_name, std::int64_t number) {
  auto environment = s.directory.FindEnvironment(environment_name);
  if (!environment) {
    if (environment.error().code == ErrorCode::kNotFound)
      return core::NotFound("no environment named '" + environment_name + "'");
    return std::unexpected(environment.error());
  }
  if (number <= 0) return core::InvalidArgument("id", "--id must be an application id (a positive whole number)");
  auto app = s.records.GetByNumber(kAppKind, number);
  if (!app || app->environment_id != environment->id) {
    if (app || app.error().code == ErrorCode::kNotFound)
      return core::NotFound("no application " + std::to_string(number) + " in environment '" + environment_name +
                            "'");
    return std::unexpected(app.error());
  }
  return NamedApp{*environment, std::move(*app)};
}

// What the application's key `key_id` was made for (its APIs and scopes), so a rotated
// key may do exactly what the old one did; this API's defaults if it is gone.
core::Result<service::KeyGrant> GrantOf(const Services& s, const std::string& environment_name,
                                        const std::string& key_id) {
  service::KeyGrant grant;
  grant.apis = core::kQuickBloxApi;
  auto keys = s.directory.ListApiKeys(environment_name);
  if (!keys) return std::unexpected(keys.error());
  for (const auto& k : *keys)
    if (k.id == key_id) {
      grant.apis = k.apis;
      grant.scopes = k.scopes;
    }
  return grant;
}

core::Result<service::Record> UpdateApp(const Services& s, const NamedApp& named, const service::RecordChange& change) {
  auto updated = s.records.Update(named.app.environment_id, kAppKind, named.app.id, change, AppClaims);
  if (!updated && updated.error().code == ErrorCode::kNotFound)
    return core::NotFound("no application " + std::to_string(named.app.number) + " in environment '" +
                          named.environment.name + "'");
  return updated;
}

}  // namespace

std::int64_t SessionGeneration(const service::Record& app) { return IntMember(app.body, kSessionGenerationMember); }

core::Status CheckSessionApp(const service::Record& app, const service::Record& session) {
  if (app.environment_id != session.environment_id ||
      IntMember(session.body, kSessionGenerationMember) != SessionGeneration(app))
    return core::Fail(ErrorCode::kUnauthenticated, "Required session does not exist");
  return {};
}

core::Result<json::object> RotateApplicationSecret(Services s, const std::string& environment_name,
                                                   std::int64_t application_id, bool end_sessions) {
  auto named = FindApp(s, environment_name, application_id);
  if (!named) return std::unexpected(named.error());
  const std::string auth_secret = crypto::RandomToken();
  // One write: POST /session.json reads the application record and checks the signature
  // against the secret it holds, so a signature made with the old secret fails from
  // this commit on, in every process.
  auto rotated = UpdateApp(s, *named, [&](service::Record& app) -> core::Status {
    app.body["auth_secret"] = auth_secret;
    if (end_sessions) app.body[kSessionGenerationMember] = SessionGeneration(app) + 1;
    return {};
  });
  if (!rotated) return std::unexpected(rotated.error());
  return json::object{{"applicationId", rotated->number},
                      {"authKey", StringMember(rotated->body, "auth_key")},
                      {"authSecret", auth_secret},
                      {"sessionsEnded", end_sessions}};
}

core::Result<json::object> RotateApplicationKey(Services s, const std::string& environment_name,
                                                std::int64_t application_id) {
  auto named = FindApp(s, environment_name, application_id);
  if (!named) return std::unexpected(named.error());
  std::string old_key;  // as the write found it (a concurrent rotation may have moved it)
  // The same kind of key as CreateApplication's, for what the old one was.
  auto grant = GrantOf(s, named->environment.name, StringMember(named->app.body, "api_key_id"));
  if (!grant) return std::unexpected(grant.error());
  auto key = s.directory.CreateApiKey(named->environment.name, service::KeyRole::kApp, kKeyIdentifier, *grant);
  if (!key) return std::unexpected(key.error());
  // The application's key claim moves to the new key in one write: from then on the old
  // key names no application, which AuthenticateKey requires, in every process at once.
  auto moved = UpdateApp(s, *named, [&](service::Record& app) -> core::Status {
    old_key = StringMember(app.body, "api_key_id");
    app.body["api_key_id"] = key->info.id;
    return {};
  });
  if (!moved) {
    (void)s.directory.RevokeApiKey(key->info.id);  // no usable key without its application
    return std::unexpected(moved.error());
  }
  // Also revoked, so `roster key list` shows it and no other API accepts it.
  if (auto revoked = s.directory.RevokeApiKey(old_key);
      !revoked && revoked.error().code != ErrorCode::kNotFound &&
      revoked.error().code != ErrorCode::kFailedPrecondition)
    return std::unexpected(revoked.error());
  json::array scopes;
  for (const auto& n : core::ScopeNames(key->info.scopes)) scopes.emplace_back(n);
  return json::object{{"applicationId", moved->number},
                      {"apiKey", key->secret},
                      {"apiKeyScopes", std::move(scopes)},
                      {"revokedKeyId", old_key}};
}

core::Result<json::object> DeleteApplication(Services s, const std::string& environment_name,
                                             std::int64_t application_id) {
  auto named = FindApp(s, environment_name, application_id);
  if (!named) return std::unexpected(named.error());
  // Take: the record as deleted, so the key revoked below is the one it last named.
  auto deleted = s.records.Take(named->app.environment_id, kAppKind, named->app.id);
  if (!deleted) {
    if (deleted.error().code == ErrorCode::kNotFound)
      return core::NotFound("no application " + std::to_string(application_id) + " in environment '" +
                            environment_name + "'");
    return std::unexpected(deleted.error());
  }
  // Its sessions are refused from here on (CheckSessionApp finds no application) and its
  // key names none; the key is revoked too, for every API and `roster key list`.
  const std::string key_id = StringMember(deleted->body, "api_key_id");
  if (auto revoked = s.directory.RevokeApiKey(key_id);
      !revoked && revoked.error().code != ErrorCode::kNotFound &&
      revoked.error().code != ErrorCode::kFailedPrecondition)
    return std::unexpected(revoked.error());
  return json::object{{"applicationId", named->app.number}, {"deleted", true}, {"revokedKeyId", key_id}};
}

}  // namespace roster::dialects::quickblox
