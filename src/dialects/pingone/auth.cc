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

// The app exists in the environment and `secret` is its secret. Lookups go by keyed
// digests only: the secret is never stored nor compared in plaintext.
core::Result<bool> CheckClient(State& st, const std::string& env, const std::string& client_id,
                               const std::string& secret) {
  if (!core::IsUuid(env) || !core::IsUuid(client_id) || secret.empty() || secret.size() > kMaxSecret) return false;
  auto app = st.s.records.Get(env, kAppKind, client_id);
  if (!app) {
    if (app.error().code == ErrorCode::kNotFound) return false;
    return std::unexpected(app.error());
  }
  auto holders = st.s.records.Find(env, kAppSecretClaim, secret);
  if (!holders) return std::unexpected(holders.error());
  for (const auto& r : *holders)
    if (r.kind == kAppKind && r.id == client_id) return true;
  return false;
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
  auto ok = CheckClient(st, env, client_id, secret);
  if (!ok) return OAuthError(503, "temporarily_unavailable", "Retry later.");
  if (!*ok) return InvalidClient();
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
  http::Response r = JsonResponse(200, json::object{{"access_token", SignJwt(claims, *key)},
                                                    {"token_type", "Bearer"},
                                                    {"expires_in", kTokenLifetimeSeconds}});
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

}  // namespace

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
                                  {"schemas", {{"href", self + "/schemas"}}}};
               return JsonResponse(200, json::object{{"_links", std::move(links)}, {"id", e->id}, {"name", e->name}});
             }));
}

core::Result<core::Principal> WorkerPrincipal(State& st, const std::string& env, const AccessClaims& claims) {
  auto app = st.s.records.Get(env, kAppKind, claims.client_id);
  if (!app) {
    if (app.error().code == ErrorCode::kNotFound) return core::Fail(ErrorCode::kUnauthenticated, "no such application");
    return std::unexpected(app.error());
  }
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

core::Result<json::object> CreateWorkerApp(Services services, const std::string& environment_name,
                                           std::optional<core::Scopes> scopes) {
  auto env = services.directory.FindEnvironment(environment_name);
  if (!env) {
    if (env.error().code == ErrorCode::kNotFound)
      return core::NotFound("no environment named '" + environment_name + "'");
    return std::unexpected(env.error());
  }
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

}  // namespace roster::dialects::pingone
