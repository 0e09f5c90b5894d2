// CommCare HQ's OAuth2 provider (django-oauth-toolkit behind /oauth/authorize/ and
// /oauth/token/), its metadata, and the administration of its clients. The grant rules
// are service::OAuthServer's; this file is the wire: the sign-in and consent page of a
// web user, the redirects, the token endpoint's form and JSON, RFC 6749's error shapes.
// docs/dialects/commcare.md, "OAuth2".
#include <memory>
#include <variant>

#include "crypto/base64.h"
#include "crypto/crypto.h"
#include "crypto/mac.h"
#include "dialects/commcare/common.h"
#include "http/form.h"
#include "service/http_credentials.h"
#include "service/oauth.h"

#include "core/rules.h"

namespace roster::dialects::commcare {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr std::size_t kMaxFormFields = 16;

// ---- pages ----

http::Response Page(int status, std::string_view title, const std::string& body_html) {
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers = {{"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"},
               {"Cache-Control", "no-store"}};
  r.body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + http::EscapeHtml(title) +
           "</title><style>body{font-family:sans-serif;max-width:30em;margin:2em auto}label{display:block;"
           "margin:.5em 0}</style></head><body><h1>" +
           http::EscapeHtml(title) + "</h1>\n" + body_html + "\n</body></html>\n";
  return r;
}

// A request the page cannot redirect (bad client_id or redirect_uri, RFC 6749 §4.1.2.1),
// or a form that was altered: an HTML error page.
http::Response ErrorPage(int status, std::string_view message) {
  return Page(status, "Authorization error", "<p class=\"error\">" + http::EscapeHtml(message) + "</p>");
}

std::string WithQuery(const std::string& uri, const std::vector<QueryParam>& params) {
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + EncodeQuery(params);
}

http::Response Redirect(const std::string& location) {
  http::Response r;
  r.status = 302;
  r.content_type = "text/html; charset=utf-8";
  r.headers = {{"Location", location}, {"Cache-Control", "no-store"}, {"Referrer-Policy", "no-referrer"}};
  return r;
}

// RFC 6749 §4.1.2.1: the error sent back to the client's redirect URI.
http::Response RedirectError(const std::string& redirect_uri, const service::AuthorizationRequest& r,
                             std::string_view error, std::string_view description) {
  std::vector<QueryParam> params{{"error", std::string(error)}, {"error_description", std::string(description)}};
  if (!r.state.empty()) params.push_back({"state", r.state});
  return Redirect(WithQuery(redirect_uri, params));
}

// The parameters an authorization request carries, from the query (GET) or the form (POST).
template <class Get>
service::AuthorizationRequest ReadAuthorization(const Get& get) {
  service::AuthorizationRequest r;
  r.response_type = get("response_type").value_or("");
  r.client_id = get("client_id").value_or("");
  auto redirect = get("redirect_uri");
  r.redirect_uri_given = redirect.has_value() && !redirect->empty();
  r.redirect_uri = redirect.value_or("");
  r.scope = get("scope").value_or("");
  r.state = get("state").value_or("");
  r.code_challenge = get("code_challenge").value_or("");
  r.code_challenge_method = get("code_challenge_method").value_or("");
  return r;
}

service::OAuthServer ServerFor(const Context& c);

// The consent page: who asks (the client's name), for what (the scopes), a sign-in form
// for a web user (email and password) with the request's parameters and the signed
// csrf_token as hidden fields. Every value is escaped.
http::Response ConsentPage(int status, const service::OAuthClient& client, const service::AuthorizationRequest& r,
                           const std::vector<std::string>& scopes, const std::string& csrf, std::string_view error,
                           std::string_view username) {
  std::string html;
  if (!error.empty()) html += "<p class=\"error\" role=\"alert\">" + http::EscapeHtml(error) + "</p>\n";
  html += "<p><strong>" + http::EscapeHtml(client.name) +
          "</strong> asks to access the CommCare APIs as you, with these scopes:</p>\n<ul>\n";
  for (const auto& s : scopes) {
    std::string what = s == "access_apis" ? "Access API data on all your CommCare projects"
                                          : "Only the project space '" + s.substr(s.find(':') + 1) + "'";
    html += "<li><code>" + http::EscapeHtml(s) + "</code>: " + http::EscapeHtml(what) + "</li>\n";
  }
  html += "</ul>\n<form method=\"post\" action=\"/oauth/authorize/\">\n";
  const auto hidden = [&](std::string_view name, std::string_view value) {
    html += "<input type=\"hidden\" name=\"" + http::EscapeHtml(name) + "\" value=\"" + http::EscapeHtml(value) +
            "\">\n";
  };
  hidden("response_type", r.response_type);
  hidden("client_id", r.client_id);
  if (r.redirect_uri_given) hidden("redirect_uri", r.redirect_uri);
  hidden("scope", r.scope);
  hidden("state", r.state);
  hidden("code_challenge", r.code_challenge);
  hidden("code_challenge_method", r.code_challenge_method);
  hidden("csrf_token", csrf);
  html += "<label>Email <input type=\"email\" name=\"username\" autocomplete=\"username\" required value=\"" +
          http::EscapeHtml(username) + "\"></label>\n";
  html += "<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" "
          "required></label>\n";
  html += "<button type=\"submit\" name=\"allow\" value=\"Authorize\">Authorize</button>\n";
  html += "<button type=\"submit\" name=\"cancel\" value=\"Cancel\" formnovalidate>Cancel</button>\n</form>";
  return Page(status, "Authorize " + client.name, html);
}

// The web user's binding (service/oauth.h): its key id and password hash, so a new key,
// a revoked one or a new password ends its tokens; empty when deactivated or without a
// key (no API access).
std::string BindingOf(const service::Record& web_user) {
  const auto* key_id = web_user.body.if_contains("key_id");
  if (!WebUserEnabled(web_user) || !key_id || !key_id->is_string() || key_id->get_string().empty()) return {};
  std::string material = "commcare.web_user\n" + std::string(key_id->get_string()) + "\n";
  if (const auto* hash = web_user.body.if_contains("password_hash"); hash && hash->is_string())
    material += hash->get_string();
  return crypto::ToHex(crypto::Digest(crypto::MacAlgorithm::kSha256, material));
}

service::OAuthServer ServerFor(const Context& c) {
  Services s = c.s;
  return service::OAuthServer(
      c.s, [s](const std::string& environment_id, const std::string& account_id) -> core::Result<std::string> {
        auto web_user = s.records.Get(environment_id, kWebUserKind, account_id);
        if (!web_user) return std::unexpected(web_user.error());
        std::string binding = BindingOf(*web_user);
        if (binding.empty()) return binding;
        // The key the record names must be live too (`roster key revoke ID` revokes it
        // without changing the record).
        auto env = s.directory.GetEnvironment(environment_id);
        if (!env) return std::unexpected(env.error());
        auto keys = s.directory.ListApiKeys(env->name);
        if (!keys) return std::unexpected(keys.error());
        const std::string key_id(web_user->body.at("key_id").as_string());
        for (const auto& k : *keys)
          if (k.id == key_id && !k.revoked) return binding;
        return std::string();
      });
}

// ---- the token endpoint's wire ----

http::Response OAuthJson(int status, const json::object& body) {
  http::Response r = http::Response::Json(status, json::serialize(body));
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

// RFC 6749 §5.2.
http::Response OAuthError(int status, std::string_view error, std::string_view description) {
  return OAuthJson(status, json::object{{"error", error}, {"error_description", description}});
}

http::Response TokenFailure(const core::Error& e, bool basic) {
  if (e.code == ErrorCode::kResourceExhausted)
    return http::WithRetryAfter(OAuthError(429, "temporarily_unavailable", e.message), e);
  if (e.code == ErrorCode::kUnauthenticated) {
    http::Response r = OAuthError(401, "invalid_client", e.message);
    if (basic) r.headers.emplace_back("WWW-Authenticate", std::string("Basic realm=\"") + kDigestRealm + "\"");
    return r;
  }
  if (e.code == ErrorCode::kInvalidArgument && !e.field.empty()) return OAuthError(400, e.field, e.message);
  if (e.code == ErrorCode::kUnavailable) return OAuthError(503, "temporarily_unavailable", "Retry later.");
  return OAuthError(500, "server_error", "internal error");
}

// A form value decoded as RFC 6749 §2.3.1 asks for the Basic user-id and password.
std::optional<std::string> FormDecode(std::string_view text) {
  auto pairs = http::ParseForm("v=" + std::string(text), 1);
  if (!pairs || pairs->empty()) return std::nullopt;
  return (*pairs)[0].second;
}

// A form POSTed to the token or the revocation endpoint, with the client's
// authentication: HTTP Basic (client_secret_basic) or the form (client_secret_post); a
// public client names itself by client_id (none).
struct ClientForm {
  std::vector<std::pair<std::string, std::string>> fields;
  std::string client_id, client_secret;
  bool secret_given = false;
  bool basic = false;
  std::optional<std::string> Get(std::string_view name) const {
    for (const auto& [k, v] : fields)
      if (k == name) return v;
    return std::nullopt;
  }
  // The client's authentication, into a TokenRequest or a RevocationRequest.
  template <class Request>
  void Authenticate(Request& r) const {
    r.client_id = client_id;
    r.client_secret = client_secret;
    r.secret_given = secret_given;
  }
};

// The form, or the error to answer; one token of the address's session budget (per
// address only: a client id is no verified credential, and naming one must not drain its
// bucket).
std::variant<http::Response, ClientForm> ReadClientForm(const Context& c, const http::Request& req) {
  const std::string_view type = req.Header("content-type");
  if (!type.starts_with("application/x-www-form-urlencoded"))
    return OAuthError(400, "invalid_request", "The body must be application/x-www-form-urlencoded.");
  auto fields = http::ParseForm(req.body, kMaxFormFields);
  if (!fields) return OAuthError(400, "invalid_request", "The form body is malformed or repeats a parameter.");
  ClientForm form;
  form.fields = std::move(*fields);
  form.client_id = form.Get("client_id").value_or("");
  const auto form_secret = form.Get("client_secret");
  const std::string_view authorization = req.Header("authorization");
  form.basic = authorization.size() > 6 && (authorization.substr(0, 6) == "Basic " ||
                                            authorization.substr(0, 6) == "basic ");
  if (form.basic) {
    const auto bad_client = [] {
      return TokenFailure(core::Error{ErrorCode::kUnauthenticated, "Client authentication failed.", "invalid_client"},
                          true);
    };
    if (form_secret) return OAuthError(400, "invalid_request", "Use one client authentication method, not two.");
    auto decoded = crypto::Base64Decode(authorization.substr(6));
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return bad_client();
    auto id = FormDecode(decoded->substr(0, colon));
    auto secret = FormDecode(decoded->substr(colon + 1));
    if (!id || !secret || (!form.client_id.empty() && form.client_id != *id)) return bad_client();
    form.client_id = *id;
    form.client_secret = *secret;
    form.secret_given = true;
  } else if (form_secret) {
    form.client_secret = *form_secret;
    form.secret_given = true;
  }
  if (auto st = c.s.users.Admit(service::ThrottledAction::kSession, req.peer, ""); !st)
    return TokenFailure(st.error(), form.basic);
  return form;
}

http::Response TokenEndpoint(const Context& c, const http::Request& req) {
  auto read = ReadClientForm(c, req);
  if (auto* refusal = std::get_if<http::Response>(&read)) return std::move(*refusal);
  const ClientForm& form = std::get<ClientForm>(read);
  service::TokenRequest t;
  t.grant_type = form.Get("grant_type").value_or("");
  t.code = form.Get("code").value_or("");
  t.redirect_uri_given = form.Get("redirect_uri");
  t.code_verifier = form.Get("code_verifier").value_or("");
  t.refresh_token = form.Get("refresh_token").value_or("");
  t.scope = form.Get("scope").value_or("");
  form.Authenticate(t);
  auto server = ServerFor(c);
  auto tokens = server.Token(t);
  if (!tokens) return TokenFailure(tokens.error(), form.basic);
  std::string scope;
  for (const auto& s : tokens->grant.scopes) scope += (scope.empty() ? "" : " ") + s;
  return OAuthJson(200, json::object{{"access_token", tokens->access_token},
                                     {"expires_in", tokens->expires_in_s},
                                     {"token_type", "Bearer"},
                                     {"scope", scope},
                                     {"refresh_token", tokens->refresh_token}});
}

// RFC 7009 (django-oauth-toolkit's RevokeTokenView at /oauth/revoke_token/): the form's
// `token` and `token_type_hint`, the client authenticated as at the token endpoint; 200
// with an empty body whether or not the token was live.
http::Response RevokeEndpoint(const Context& c, const http::Request& req) {
  auto read = ReadClientForm(c, req);
  if (auto* refusal = std::get_if<http::Response>(&read)) return std::move(*refusal);
  const ClientForm& form = std::get<ClientForm>(read);
  service::RevocationRequest r;
  r.token = form.Get("token").value_or("");
  r.token_type_hint = form.Get("token_type_hint").value_or("");
  form.Authenticate(r);
  if (auto st = ServerFor(c).Revoke(r); !st) return TokenFailure(st.error(), form.basic);
  http::Response ok = OAuthJson(200, json::object());
  ok.body.clear();  // oauthlib's revocation endpoint: an empty body, its JSON headers
  return ok;
}

// ---- the authorization endpoint ----

struct Checked {
  service::OAuthClient client;
  std::vector<std::string> scopes;
};

// The client and redirect URI (an HTML 400 when bad: never redirected), then the rest of
// the request (errors redirected to the client, RFC 6749 §4.1.2.1).
std::variant<Checked, http::Response> CheckRequest(service::OAuthServer& server,
                                                  const service::AuthorizationRequest& request) {
  auto client = server.CheckClient(request.client_id, request.redirect_uri, request.redirect_uri_given);
  if (!client) return client.error().code == ErrorCode::kInvalidArgument ? ErrorPage(400, client.error().message)
                                                                           : ErrorPage(503, "Retry later.");
  auto scopes = server.CheckAuthorization(request);
  if (!scopes) return RedirectError(client->redirect_uri, request, scopes.error().field, scopes.error().message);
  return Checked{std::move(*client), std::move(*scopes)};
}

// The request parameter given more than once (RFC 6749 §3.1: none may repeat), if any.
std::optional<std::string> Repeated(const std::vector<QueryParam>& query) {
  for (const char* name : {"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge",
                           "code_challenge_method"}) {
    int seen = 0;
    for (const auto& p : query) seen += p.key == name;
    if (seen > 1) return std::string(name);
  }
  return std::nullopt;
}

http::Response AuthorizeGet(const Context& c, const http::Request& req) {
  const auto query = ParseQuery(req.query);
  const auto request = ReadAuthorization([&](std::string_view k) { return QueryValue(query, k); });
  const auto repeated = Repeated(query);
  if (repeated && (*repeated == "client_id" || *repeated == "redirect_uri"))
    return ErrorPage(400, "The " + *repeated + " parameter is repeated.");
  auto server = ServerFor(c);
  auto checked = CheckRequest(server, request);
  if (auto* refused = std::get_if<http::Response>(&checked)) return std::move(*refused);
  const auto& [client, scopes] = std::get<Checked>(checked);
  if (repeated)
    return RedirectError(client.redirect_uri, request, "invalid_request",
                         "The " + *repeated + " parameter is repeated.");
  auto csrf = server.SignForm(client, request);
  if (!csrf) return ErrorPage(503, "Retry later.");
  return ConsentPage(200, client, request, scopes, *csrf, "", "");
}

http::Response AuthorizePost(const Context& c, const http::Request& req) {
  if (!req.Header("content-type").starts_with("application/x-www-form-urlencoded"))
    return ErrorPage(400, "The form must be sent as application/x-www-form-urlencoded.");
  auto form = http::ParseForm(req.body, kMaxFormFields);
  if (!form) return ErrorPage(400, "The form is malformed or repeats a field.");
  const auto get = [&](std::string_view name) -> std::optional<std::string> {
    for (const auto& [k, v] : *form)
      if (k == name) return v;
    return std::nullopt;
  };
  const auto request = ReadAuthorization(get);
  auto server = ServerFor(c);
  auto checked = CheckRequest(server, request);
  if (auto* refused = std::get_if<http::Response>(&checked)) return std::move(*refused);
  const auto& [checked_client, checked_scopes] = std::get<Checked>(checked);
  const service::OAuthClient* client = &checked_client;
  const std::vector<std::string>* scopes = &checked_scopes;
  // CSRF: the form must come from this page (a signed field over the request's
  // parameters, and the browser's same-origin headers).
  if (!http::SameOrigin(req)) return ErrorPage(403, "The form was posted from another site.");
  if (auto st = server.VerifyForm(*client, request, get("csrf_token").value_or("")); !st)
    return st.error().code == ErrorCode::kInvalidArgument ? ErrorPage(400, st.error().message)
                                                          : ErrorPage(503, "Retry later.");
  if (get("cancel")) return RedirectError(client->redirect_uri, request, "access_denied", "The user denied access.");
  if (!get("allow")) return ErrorPage(400, "Choose Authorize or Cancel.");

  const std::string username = get("username").value_or("");
  const std::string email = core::NormalizeEmail(username);
  const std::string password = get("password").value_or("");
  const auto again = [&](int status, std::string_view message) {
    auto csrf = server.SignForm(*client, request);
    if (!csrf) return ErrorPage(503, "Retry later.");
    return ConsentPage(status, *client, request, *scopes, *csrf, message, username);
  };
  if (email.empty() || password.empty()) return again(400, "Enter your email and password.");
  // The web user of the client's project space, by its email and password (argon2id),
  // through the service's password check (one token of the address's sign-in budget).
  auto found = c.s.records.Find(client->environment_id, kWebUserEmailClaim, email);
  if (!found) return ErrorPage(503, "Retry later.");
  const service::Record* web_user = nullptr;
  for (const auto& r : *found)
    if (r.kind == kWebUserKind) web_user = &r;
  service::HttpCredentials credentials(c.s, kDigestRealm);
  if (auto st = credentials.VerifyPassword(web_user ? &web_user->body : nullptr, password, req.peer); !st) {
    if (st.error().code == ErrorCode::kResourceExhausted)
      return http::WithRetryAfter(again(429, "Too many sign-in attempts; try again later."), st.error());
    if (st.error().code == ErrorCode::kUnauthenticated) return again(401, "Invalid email or password.");
    return ErrorPage(503, "Retry later.");
  }
  const std::string binding = BindingOf(*web_user);
  if (binding.empty()) return again(403, "This web user has no API access (deactivated, or its key was revoked).");
  auto code = server.IssueCode(*client, request, service::OAuthGrant{web_user->id, email, *scopes, binding});
  if (!code) return ErrorPage(503, "Retry later.");
  std::vector<QueryParam> params{{"code", *code}};
  if (!request.state.empty()) params.push_back({"state", request.state});
  return Redirect(WithQuery(client->redirect_uri, params));
}

// RFC 8414, as CommCare HQ's test of it asserts.
http::Response Metadata(const Context& c, const http::Request& req) {
  std::string base = c.public_url;
  if (base.empty()) {
    const std::string_view forwarded = req.Header("x-forwarded-proto");
    base = std::string(req.secure || forwarded == "https" ? "https" : "http") + "://" + std::string(req.Header("host"));
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return Json(200, json::object{{"issuer", base},
                                {"authorization_endpoint", base + "/oauth/authorize/"},
                                {"token_endpoint", base + "/oauth/token/"},
                                {"revocation_endpoint", base + "/oauth/revoke_token/"},
                                {"response_types_supported", json::array{"code"}},
                                {"grant_types_supported", json::array{"authorization_code", "refresh_token"}},
                                {"code_challenge_methods_supported", json::array{"S256"}},
                                {"scopes_supported", json::array{"access_apis"}},
                                {"token_endpoint_auth_methods_supported",
                                 json::array{"client_secret_basic", "client_secret_post", "none"}},
                                {"revocation_endpoint_auth_methods_supported",
                                 json::array{"client_secret_basic", "client_secret_post", "none"}}});
}

}  // namespace

core::Result<Caller> AuthorizeBearer(const Context& c, std::string_view token, std::string_view domain) {
  auto server = ServerFor(c);
  auto access = server.Authenticate(token);
  if (!access) return std::unexpected(access.error());
  auto env = c.s.directory.FindEnvironment(std::string(domain));
  const auto no_access = core::Fail(ErrorCode::kPermissionDenied,
                                    "You do not have access to project space '" + std::string(domain) + "'.");
  if (!env) return env.error().code == ErrorCode::kNotFound ? no_access : std::unexpected(env.error());
  if (!server.ScopesAllow(access->grant.scopes, domain))
    return core::Fail(ErrorCode::kPermissionDenied,
                      "The access token's scope does not include project space '" + std::string(domain) + "'.");
  auto caller = CallerOf(c, *env, access->grant.username);
  if (!caller) return std::unexpected(caller.error());
  if (!*caller) return no_access;
  (*caller)->principal.credential_id = access->token_id;
  return std::move(**caller);
}

core::Result<KeyHolder> AuthorizeBearerKey(const Context& c, std::string_view token) {
  auto access = ServerFor(c).Authenticate(token);
  if (!access) return std::unexpected(access.error());
  auto web_user = c.s.records.Get(access->environment_id, kWebUserKind, access->grant.account_id);
  if (!web_user) return core::Fail(ErrorCode::kUnauthenticated, "Invalid or expired access token.");
  auto env = c.s.directory.GetEnvironment(access->environment_id);
  if (!env) return std::unexpected(env.error());
  auto keys = c.s.directory.ListApiKeys(env->name);
  if (!keys) return std::unexpected(keys.error());
  const auto* key_id = web_user->body.if_contains("key_id");
  for (const auto& k : *keys)
    if (key_id && key_id->is_string() && k.id == key_id->get_string() && !k.revoked)
      return KeyHolder{access->grant.username, k, std::move(*web_user), std::nullopt};
  return core::Fail(ErrorCode::kUnauthenticated, "Invalid or expired access token.");
}

void MountOAuth(http::Router& router, const Context& c) {
  router.Add("GET", "/.well-known/oauth-authorization-server", http::Exec::kInline,
             [c](const http::Request& req, const http::PathParams&) { return Metadata(c, req); });
  router.Add("GET", "/oauth/authorize", http::Exec::kWorker,
             [c](const http::Request& req, const http::PathParams&) { return AuthorizeGet(c, req); });
  router.Add("POST", "/oauth/authorize", http::Exec::kWorker,
             [c](const http::Request& req, const http::PathParams&) { return AuthorizePost(c, req); });
  router.Add("POST", "/oauth/token", http::Exec::kWorker,
             [c](const http::Request& req, const http::PathParams&) { return TokenEndpoint(c, req); });
  router.Add("POST", "/oauth/revoke_token", http::Exec::kWorker,
             [c](const http::Request& req, const http::PathParams&) { return RevokeEndpoint(c, req); });
}

// ---- administration ----

namespace {

json::object ClientJson(const service::OAuthClient& client) {
  return json::object{{"client_id", client.client_id},
                      {"name", client.name},
                      {"redirect_uri", client.redirect_uri},
                      {"client_type", client.confidential ? "confidential" : "public"},
                      {"created_at_ms", client.created_at_ms}};
}

core::Result<service::Environment> Domain(const Services& s, const std::string& name) {
  auto env = s.directory.FindEnvironment(name);
  if (!env && env.error().code == ErrorCode::kNotFound)
    return core::Fail(ErrorCode::kNotFound, "no project space (environment) '" + name + "'", "env");
  return env;
}

}  // namespace

void AddOAuthCommands(CLI::App& commcare, const AddCommand& add) {
  struct Arguments {
    std::string env, name, redirect_uri, client_id;
    bool confidential = false;
  };
  auto args = std::make_shared<Arguments>();
  auto* clients = CommandGroup(commcare, "oauth-client", "OAuth2 clients (applications) of a project space");
  const auto env_option = [&](CLI::App* cmd) {
    cmd->add_option("--env,--domain", args->env, "Project space (environment) name")->required();
  };
  auto* create =
      clients->add_subcommand("create", "Register an OAuth2 client; a confidential one's secret is printed once");
  env_option(create);
  create->add_option("--name", args->name, "The name the consent page shows")->required();
  create->add_option("--redirect-uri", args->redirect_uri, "Its redirect URI (matched exactly)")->required();
  create->add_flag("--confidential", args->confidential, "A confidential client (with a secret); default: public");
  add(create, [args](const Services& s) -> core::Result<json::object> {
    auto env = Domain(s, args->env);
    if (!env) return std::unexpected(env.error());
    auto created = ServerFor(Context{s, kDefaultAccountRoot, ""})
                       .CreateClient({env->id, args->name, args->redirect_uri, args->confidential});
    if (!created) return std::unexpected(created.error());
    json::object out = ClientJson(created->client);
    if (!created->secret.empty()) out["client_secret"] = created->secret;
    return out;
  });
  auto* list = clients->add_subcommand("list", "List a project space's OAuth2 clients");
  env_option(list);
  add(list, [args](const Services& s) -> core::Result<json::object> {
    auto env = Domain(s, args->env);
    if (!env) return std::unexpected(env.error());
    auto listed = ServerFor(Context{s, kDefaultAccountRoot, ""}).ListClients(env->id);
    if (!listed) return std::unexpected(listed.error());
    json::array a;
    for (const auto& client : *listed) a.push_back(ClientJson(client));
    return json::object{{"clients", std::move(a)}};
  });
  auto* remove = clients->add_subcommand("delete", "Delete an OAuth2 client; its codes and tokens are refused at once");
  env_option(remove);
  remove->add_option("--client-id", args->client_id, "The client's client_id")->required();
  add(remove, [args](const Services& s) -> core::Result<json::object> {
    auto env = Domain(s, args->env);
    if (!env) return std::unexpected(env.error());
    if (auto st = ServerFor(Context{s, kDefaultAccountRoot, ""}).DeleteClient(env->id, args->client_id); !st)
      return std::unexpected(st.error());
    return json::object{{"client_id", args->client_id}, {"deleted", true}};
  });
}

}  // namespace roster::dialects::commcare
