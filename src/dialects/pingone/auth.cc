// Worker applications and their access tokens: `roster pingone app create`, the
// client-credentials token endpoint POST /{envID}/as/token, and GET /v1/environments/{envID}.
#include <boost/json.hpp>

#include "core/rules.h"
#include "crypto/base64.h"
#include "crypto/crypto.h"
#include "dialects/pingone/common.h"

namespace roster::dialects::pingone {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr std::size_t kMaxSecret = 256;

// An OAuth 2.0 error (RFC 6749 section 5.2), the token endpoint's own shape.
http::Response OAuthError(int status, std::string_view error, std::string_view description) {
  http::Response r = JsonResponse(status, json::object{{"error", error}, {"error_description", description}});
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"roster\"");
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

http::Response InvalidClient() { return OAuthError(401, "invalid_client", "Client authentication failed."); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The app's secret generation if the app exists in the environment and `secret` is its
// secret, else nullopt. Lookups go by keyed digests only: the secret is never stored nor
// compared in plaintext. The record is read before the secret's claim, so a rotation
// between the two reads refuses the old secret, and one after them leaves the token with
// the old generation, which CheckAppLive refuses.
core::Result<std::optional<std::int64_t>> CheckClient(State& st, const std::string& env, const std::string& client_id,
                                                      const std::string& secret) {
  const std::optional<std::int64_t> refused;
  if (!core::IsUuid(env) || !core::IsUuid(client_id) || secret.empty() || secret.size() > kMaxSecret) return refused;
  auto app = st.s.records.Get(env, kAppKind, client_id);
  if (!app) {
    if (app.error().code == ErrorCode::kNotFound) return refused;
    return std::unexpected(app.error());
  }
  auto holders = st.s.records.Find(env, kAppSecretClaim, secret);
  if (!holders) return std::unexpected(holders.error());
  for (const auto& r : *holders)
    if (r.kind == kAppKind && r.id == client_id) return SecretGeneration(*app);
  return refused;
}

http::Response Token(State& st, const http::Request& req, const std::string& env) {
  if (MediaType(req) != "application/x-www-form-urlencoded")
    return OAuthError(400, "invalid_request", "The body must be application/x-www-form-urlencoded.");
  auto form = ParseQuery(req.body);
  if (!form) return OAuthError(400, "invalid_request", "The form body is malformed or repeats a parameter.");
  const auto field = [&](const char* name) -> std::optional<std::string> {
    auto it = form->find(name);
    if (it == form->end()) return std::nullopt;
    return it->second;
  };
  const auto grant = field("grant_type");
  if (!grant || grant->empty()) return OAuthError(400, "invalid_request", "grant_type is required.");
  if (*grant != "client_credentials")
    return OAuthError(400, "unsupported_grant_type", "Only the client_credentials grant is supported.");

  std::string client_id, secret;
  const std::string_view auth = Trim(req.Header("authorization"));
  const bool in_form = field("client_id").has_value() || field("client_secret").has_value();
  if (!auth.empty()) {
    if (in_form) return OAuthError(400, "invalid_request", "Use one client authentication method, not two.");
    if (auth.size() < 7 || (auth.substr(0, 6) != "Basic " && auth.substr(0, 6) != "basic ")) return InvalidClient();
    auto decoded = crypto::Base64Decode(Trim(auth.substr(6)));
    if (!decoded) return InvalidClient();
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) return InvalidClient();
    // RFC 6749 section 2.3.1: both parts are form-urlencoded before encoding.
    auto parts = ParseQuery("id=" + decoded->substr(0, colon) + "&secret=" + decoded->substr(colon + 1));
    if (!parts) return InvalidClient();
    client_id = (*parts)["id"];
    secret = (*parts)["secret"];
  } else {
    client_id = field("client_id").value_or("");
    secret = field("client_secret").value_or("");
  }
  if (client_id.empty() || secret.empty()) return InvalidClient();
  auto generation = CheckClient(st, env, client_id, secret);
  if (!generation) return OAuthError(503, "temporarily_unavailable", "Retry later.");
  if (!*generation) return InvalidClient();
  // Per address and per worker application (service::Throttle); the OAuth shape.
  if (auto admitted = st.s.users.Admit(service::ThrottledAction::kSession, req.peer, "p1-app:" + client_id);
      !admitted)
    return http::WithRetryAfter(OAuthError(429, "temporarily_unavailable", "Too many token requests; retry later."),
                                admitted.error());

  // First use of the environment by PingOne: its default population and signing key.
  if (auto pop = EnsureDefaultPopulation(st, env); !pop)
    return OAuthError(503, "temporarily_unavailable", "Retry later.");
  auto key = st.SigningKey(env, true);
  if (!key) return OAuthError(503, "temporarily_unavailable", "Retry later.");
  const std::int64_t now = st.s.clock.NowMillis() / 1000;
  AccessClaims claims;
  claims.iss = IssuerOf(env);
  claims.aud = kAudience;
  claims.sub = client_id;
  claims.env = env;
  claims.client_id = client_id;
  claims.iat = now;
  claims.exp = now + kTokenLifetimeSeconds;
  claims.jti = crypto::NewUuid();
  claims.gen = **generation;
  http::Response r = JsonResponse(200, json::object{{"access_token", SignJwt(claims, *key)},
                                                    {"token_type", "Bearer"},
                                                    {"expires_in", kTokenLifetimeSeconds}});
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

}  // namespace

std::int64_t SecretGeneration(const service::Record& app) {
  const auto* v = app.body.if_contains(kAppGenerationMember);
  return v != nullptr && v->is_int64() ? v->get_int64() : 0;
}

core::Status CheckAppLive(const service::Record& app, const AccessClaims& claims) {
  if (SecretGeneration(app) != claims.gen)
    return core::Fail(ErrorCode::kUnauthenticated, "the token predates the application's secret");
  return {};
}

void MountToken(http::Router& router, std::shared_ptr<State> state) {
  router.Add("POST", "/{envID}/as/token", http::Exec::kWorker,
             [state](const http::Request& req, const http::PathParams& params) {
               return Token(*state, req, std::string(params.Get("envID")));
             });
}

void MountEnvironment(http::Router& router, std::shared_ptr<State> state) {
  router.Add("GET", "/v1/environments/{envID}", http::Exec::kInline,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               auto e = st.s.directory.GetEnvironment(call.env);
               if (!e) return Fail(e.error().code == ErrorCode::kNotFound ? NotFoundError() : FromCore(e.error()));
               const std::string self = call.EnvUrl();
               json::object links{{"self", {{"href", self}}},
                                  {"populations", {{"href", self + "/populations"}}},
                                  {"users", {{"href", self + "/users"}}},
                                  {"schemas", {{"href", self + "/schemas"}}},
                                  {"groups", {{"href", self + "/groups"}}}};
               // What PingOne's Environment requires: a self-hosted directory has no PingOne
               // region or licence, so region names none of PingOne's codes and the licence
               // is the environment itself.
               return JsonResponse(200, json::object{{"_links", std::move(links)},
                                                     {"id", e->id},
                                                     {"name", e->name},
                                                     {"type", "PRODUCTION"},
                                                     {"region", "SELF_HOSTED"},
                                                     {"license", {{"id", e->id}}}});
             }));
}

core::Result<core::Principal> WorkerPrincipal(State& st, const std::string& env, const AccessClaims& claims) {
  auto app = st.s.records.Get(env, kAppKind, claims.client_id);
  if (!app) {
    if (app.error().code == ErrorCode::kNotFound) return core::Fail(ErrorCode::kUnauthenticated, "no such application");
    return std::unexpected(app.error());
  }
  if (auto live = CheckAppLive(*app, claims); !live) return std::unexpected(live.error());
  core::Principal p;
  p.environment_id = env;
  p.api = core::kPingOneApi;
  p.kind = core::CredentialKind::kWorkerApp;
  p.credential_id = app->id;
  p.scopes = core::DefaultScopes(core::CredentialKind::kWorkerApp, core::kPingOneApi);
  if (const auto* v = app->body.if_contains("scopes"); v && v->is_array()) {
    std::vector<std::string> names;
    for (const auto& n : v->as_array())
      if (n.is_string()) names.emplace_back(n.as_string());
    p.scopes = core::ParseScopes(names).value_or(0);
  }
  return p;
}

namespace {

core::Result<service::Environment> NamedEnvironment(const Services& services, const std::string& name) {
  auto env = services.directory.FindEnvironment(name);
  if (!env && env.error().code == ErrorCode::kNotFound) return core::NotFound("no environment named '" + name + "'");
  return env;
}

// The worker application `client_id` of the environment: kInvalidArgument naming "id"
// for a malformed id, kNotFound for no such application.
core::Result<service::Record> NamedApp(const Services& services, const service::Environment& env,
                                       const std::string& client_id) {
  if (!core::IsUuid(client_id))
    return core::InvalidArgument("id", "--id must be a worker application's client id (a UUID)");
  auto app = services.records.Get(env.id, kAppKind, client_id);
  if (!app && app.error().code == ErrorCode::kNotFound)
    return core::NotFound("no worker application '" + client_id + "' in environment '" + env.name + "'");
  return app;
}

}  // namespace

core::Result<json::object> CreateWorkerApp(Services services, const std::string& environment_name,
                                           std::optional<core::Scopes> scopes) {
  auto env = NamedEnvironment(services, environment_name);
  if (!env) return std::unexpected(env.error());
  State st(services);
  bool created_default = false;
  auto pop = EnsureDefaultPopulation(st, env->id, &created_default);
  if (!pop) return std::unexpected(pop.error());
  if (created_default)
    if (auto adopted = AdoptUsersWithoutPopulation(st, env->id, pop->id); !adopted)
      return std::unexpected(adopted.error());
  const std::string secret = crypto::RandomToken();
  service::NewRecordRequest r;
  r.environment_id = env->id;
  r.kind = kAppKind;
  r.id = crypto::NewUuid();
  json::array scope_names;
  for (const auto& n :
       core::ScopeNames(scopes.value_or(core::DefaultScopes(core::CredentialKind::kWorkerApp, core::kPingOneApi))))
    scope_names.emplace_back(n);
  r.body = json::object{{"name", "Worker application"},
                        {"type", "WORKER"},
                        {"tokenEndpointAuthMethod", "CLIENT_SECRET_BASIC"},
                        {"scopes", scope_names}};
  r.claims = {{kAppSecretClaim, secret, true}};
  auto created = services.records.Create(r);
  if (!created) return std::unexpected(created.error());
  return json::object{{"environmentId", env->id},
                      {"clientId", created->id},
                      {"clientSecret", secret},
                      {"scopes", std::move(scope_names)}};
}

core::Result<json::object> RotateWorkerAppSecret(Services services, const std::string& environment_name,
                                                 const std::string& client_id) {
  auto env = NamedEnvironment(services, environment_name);
  if (!env) return std::unexpected(env.error());
  if (auto app = NamedApp(services, *env, client_id); !app) return std::unexpected(app.error());
  const std::string secret = crypto::RandomToken();
  const std::int64_t now = services.clock.NowMillis();
  // One write: the new secret's claim replaces the old one and the generation moves on,
  // so the old secret and every token issued under it are refused from this commit on.
  auto rotated = services.records.Update(
      env->id, kAppKind, client_id,
      [now](service::Record& app) -> core::Status {
        app.body[kAppGenerationMember] = SecretGeneration(app) + 1;
        app.body["secretRotatedAt"] = core::FormatTimestamp(now, true);
        return {};
      },
      [&secret](const service::Record&) { return std::vector<service::Claim>{{kAppSecretClaim, secret, true}}; });
  if (!rotated) return std::unexpected(rotated.error());
  return json::object{{"environmentId", env->id}, {"clientId", rotated->id}, {"clientSecret", secret}};
}

core::Result<json::object> DeleteWorkerApp(Services services, const std::string& environment_name,
                                           const std::string& client_id) {
  auto env = NamedEnvironment(services, environment_name);
  if (!env) return std::unexpected(env.error());
  if (auto app = NamedApp(services, *env, client_id); !app) return std::unexpected(app.error());
  if (auto deleted = services.records.Delete(env->id, kAppKind, client_id); !deleted) {
    if (deleted.error().code == ErrorCode::kNotFound)  // deleted meanwhile by someone else
      return core::NotFound("no worker application '" + client_id + "' in environment '" + env->name + "'");
    return std::unexpected(deleted.error());
  }
  return json::object{{"environmentId", env->id}, {"clientId", client_id}, {"deleted", true}};
}

core::Result<json::object> ListWorkerApps(Services services, const std::string& environment_name) {
  auto env = NamedEnvironment(services, environment_name);
  if (!env) return std::unexpected(env.error());
  json::array apps;
  for (std::int64_t after = 0;;) {
    constexpr int kPage = 500;
    auto page = services.records.List(env->id, kAppKind, after, kPage);
    if (!page) return std::unexpected(page.error());
    for (const auto& r : *page) {
      json::object app{{"clientId", r.id}, {"createdAt", core::FormatTimestamp(r.created_at_ms, true)}};
      for (const char* member : {"name", "type", "scopes", "secretRotatedAt"})
        if (const auto* v = r.body.if_contains(member)) app[member] = *v;
      apps.push_back(std::move(app));
    }
    if (static_cast<int>(page->size()) < kPage) break;
    after = page->back().number;
  }
  return json::object{{"environmentId", env->id}, {"apps", std::move(apps)}};
}

}  // namespace roster::dialects::pingone
