#include "dialects/commcare/common.h"

#include "dialects/commcare/xml.h"

#include "core/rules.h"
#include "crypto/base64.h"
#include "crypto/crypto.h"
#include "service/http_credentials.h"

#include <cctype>

namespace roster::dialects::commcare {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr std::size_t kMaxCredential = 512;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::unexpected<core::Error> Unauthenticated(std::string message) {
  return core::Fail(ErrorCode::kUnauthenticated, std::move(message));
}

// What the Authorization header says: `ApiKey <email>:<key>`, `Basic base64(<email>:<key
// or password>)` or `Digest <params>` (RFC 7616).
struct Credentials {
  enum class Scheme { kApiKey, kBasic, kDigest, kBearer } scheme = Scheme::kApiKey;
  std::string email, secret;
  service::DigestResponse digest;
};

// RFC 7616 §3.4 / RFC 9110 §11: comma-separated auth-params, values a token or a quoted
// string (backslash escapes). kUnauthenticated when malformed or a required one is missing.
core::Result<service::DigestResponse> ParseDigest(std::string_view params) {
  service::DigestResponse d;
  std::size_t i = 0;
  const auto skip_space = [&] {
    while (i < params.size() && (params[i] == ' ' || params[i] == '\t' || params[i] == ',')) ++i;
  };
  for (skip_space(); i < params.size(); skip_space()) {
    const std::size_t eq = params.find('=', i);
    if (eq == std::string_view::npos) return Unauthenticated("Malformed Digest credentials.");
    std::string name(Trim(params.substr(i, eq - i)));
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    i = eq + 1;
    while (i < params.size() && params[i] == ' ') ++i;
    std::string value;
    if (i < params.size() && params[i] == '"') {
      ++i;
      bool closed = false;
      for (; i < params.size(); ++i) {
        if (params[i] == '\\' && i + 1 < params.size()) {
          value.push_back(params[++i]);
        } else if (params[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          value.push_back(params[i]);
        }
      }
      if (!closed) return Unauthenticated("Malformed Digest credentials.");
    } else {
      const std::size_t comma = params.find(',', i);
      value = std::string(Trim(params.substr(i, comma == std::string_view::npos ? comma : comma - i)));
      i = comma == std::string_view::npos ? params.size() : comma;
    }
    if (name == "username") d.username = std::move(value);
    else if (name == "realm") d.realm = std::move(value);
    else if (name == "nonce") d.nonce = std::move(value);
    else if (name == "uri") d.uri = std::move(value);
    else if (name == "response") d.response = std::move(value);
    else if (name == "algorithm") d.algorithm = std::move(value);
    else if (name == "cnonce") d.cnonce = std::move(value);
    else if (name == "nc") d.nc = std::move(value);
    else if (name == "qop") d.qop = std::move(value);
  }
  if (d.username.empty() || d.nonce.empty() || d.uri.empty() || d.response.empty())
    return Unauthenticated("Malformed Digest credentials: username, nonce, uri and response are required.");
  return d;
}

core::Result<Credentials> ReadCredentials(const http::Request& req) {
  const std::string_view header = Trim(req.Header("authorization"));
  if (header.empty())
    return Unauthenticated(
        "Authentication required: send 'Authorization: ApiKey <email>:<api key>', HTTP Basic or HTTP Digest");
  if (header.size() > kMaxCredential * 4) return Unauthenticated("Invalid credentials.");
  const std::size_t space = header.find(' ');
  const std::string_view scheme = header.substr(0, space);
  const std::string_view rest = space == std::string_view::npos ? std::string_view() : Trim(header.substr(space + 1));
  Credentials out;
  std::string pair;
  std::size_t colon = std::string::npos;
  if (IEquals(scheme, "Digest")) {
    auto digest = ParseDigest(rest);
    if (!digest) return std::unexpected(digest.error());
    out.scheme = Credentials::Scheme::kDigest;
    out.email = digest->username;
    out.digest = std::move(*digest);
    return out;
  }
  if (header.size() > kMaxCredential) return Unauthenticated("Invalid credentials.");
  if (IEquals(scheme, "Bearer")) {
    // An OAuth2 access token (oauth.cc): no email; the token names its web user.
    if (rest.empty()) return Unauthenticated("Malformed Bearer credentials.");
    out.scheme = Credentials::Scheme::kBearer;
    out.secret = std::string(rest);
    return out;
  }
  if (IEquals(scheme, "ApiKey")) {
    pair = std::string(rest);
    colon = pair.rfind(':');
  } else if (IEquals(scheme, "Basic")) {
    auto decoded = crypto::Base64Decode(rest);
    if (!decoded) return Unauthenticated("Malformed Basic credentials.");
    pair = std::move(*decoded);
    colon = pair.find(':');  // RFC 7617: the user-id has no colon
    out.scheme = Credentials::Scheme::kBasic;
  } else {
    return Unauthenticated(
        "Unsupported authorization scheme: use 'ApiKey <email>:<api key>', HTTP Basic, HTTP Digest or an OAuth2 "
        "Bearer token");
  }
  if (colon == std::string::npos || colon == 0 || colon + 1 == pair.size())
    return Unauthenticated("Malformed credentials: expected <email>:<api key or password>");
  out.email = pair.substr(0, colon);
  out.secret = pair.substr(colon + 1);
  return out;
}

// A web user of the environment: its record and, if it has a live key, that key (whose
// scopes it acts with, whichever credential it presented).
struct Member {
  service::Record record;
  std::optional<service::ApiKeyInfo> key;
};

core::Result<std::optional<Member>> MemberOf(const Context& c, const service::Environment& env,
                                             const std::string& email) {
  auto found = c.s.records.Find(env.id, kWebUserEmailClaim, email);
  if (!found) return std::unexpected(found.error());
  for (auto& r : *found) {
    if (r.kind != kWebUserKind) continue;
    Member m{std::move(r), std::nullopt};
    const auto* key_id = m.record.body.if_contains("key_id");
    if (key_id && key_id->is_string() && !key_id->get_string().empty()) {
      auto keys = c.s.directory.ListApiKeys(env.name);
      if (!keys) return std::unexpected(keys.error());
      for (const auto& k : *keys)
        if (k.id == key_id->get_string() && !k.revoked) m.key = k;
    }
    return std::optional<Member>(std::move(m));
  }
  return std::optional<Member>();
}

core::Result<Caller> CallerFor(const service::Environment& env, const std::string& email, const Member& m) {
  // A revoked or deactivated web user is inactive.
  if (!m.key || !WebUserEnabled(m.record)) return Unauthenticated("Invalid credentials.");
  core::Principal principal;
  principal.environment_id = env.id;
  principal.api = core::kCommCareApi;
  principal.kind = core::CredentialKind::kWebUserKey;
  principal.credential_id = m.key->id;
  principal.scopes = m.key->scopes;
  return Caller{*m.key, email, m.record.id, env, std::move(principal)};
}

core::Result<std::optional<service::Environment>> DomainOf(const Context& c, std::string_view domain) {
  auto env = c.s.directory.FindEnvironment(std::string(domain));
  if (!env) {
    if (env.error().code != ErrorCode::kNotFound) return std::unexpected(env.error());
    return std::optional<service::Environment>();
  }
  return std::optional<service::Environment>(std::move(*env));
}

std::unexpected<core::Error> NoAccess(std::string_view domain) {
  return core::Fail(ErrorCode::kPermissionDenied, "You do not have access to project space '" + std::string(domain) +
                                                      "'.");
}

// The domain a mobile worker's username names: `<name>@<domain>.<account root>`.
std::optional<std::string> WorkerDomainName(const Context& c, std::string_view username) {
  const std::size_t at = username.rfind('@');
  const std::string suffix = "." + c.account_root;
  if (at == std::string_view::npos || username.size() <= at + 1 + suffix.size() || !username.ends_with(suffix))
    return std::nullopt;
  return std::string(username.substr(at + 1, username.size() - at - 1 - suffix.size()));
}

std::string RequestTarget(const http::Request& req) {
  std::string target = req.path;
  if (!req.query.empty()) target += "?" + req.query;
  return target;
}

// A mobile worker's own password (Basic) or Digest response, checked by the service as a
// sign-in in the worker's domain (the one its username names; Digest with a nonce of
// `url_env`, the domain the request was made to). nullopt: no such domain or worker
// (refused, at the cost of a check).
core::Result<Worker> VerifyWorker(const Context& c, const http::Request& req, const service::Environment* url_env,
                                  const Credentials& cr, const std::string& username, std::string_view home_name) {
  auto home = DomainOf(c, home_name);
  if (!home) return std::unexpected(home.error());
  service::HttpCredentials credentials(c.s, kDigestRealm);
  core::Result<core::User> user = Unauthenticated("Invalid credentials.");
  if (cr.scheme == Credentials::Scheme::kDigest) {
    if (!url_env) return Unauthenticated("Invalid credentials.");
    if (*home) {
      user = credentials.VerifyUserDigest(url_env->id, (*home)->id, cr.digest, req.method, RequestTarget(req), req.peer);
    } else if (auto st = credentials.VerifyDigest(url_env->id, nullptr, cr.digest, req.method, RequestTarget(req),
                                                  req.peer);
               !st) {
      return std::unexpected(st.error());  // an unknown domain: as an unknown user
    }
  } else if (*home) {
    user = credentials.VerifyUserPassword((*home)->id, username, cr.secret, req.peer);
  } else if (auto st = credentials.VerifyPassword(nullptr, cr.secret, req.peer); !st) {
    return std::unexpected(st.error());
  }
  if (!user) {
    if (user.error().code == ErrorCode::kUnauthenticated && user.error().field.empty())
      return Unauthenticated("Invalid credentials.");
    return std::unexpected(user.error());
  }
  return Worker{std::move(*user), std::move(**home)};
}

// A password (Basic) or a Digest response, checked by the service against the web
// user's stored secrets in the URL's domain; a mobile worker's against its own.
core::Result<Caller> AuthorizePassword(const Context& c, const http::Request& req, std::string_view domain,
                                       const Credentials& cr, const std::string& email) {
  auto env = DomainOf(c, domain);
  if (!env) return std::unexpected(env.error());
  std::optional<Member> member;
  if (*env) {
    auto m = MemberOf(c, **env, email);
    if (!m) return std::unexpected(m.error());
    member = std::move(*m);
  }
  if (!member) {
    if (auto home = WorkerDomainName(c, email)) {
      auto worker = VerifyWorker(c, req, *env ? &**env : nullptr, cr, email, *home);
      if (!worker) return std::unexpected(worker.error());
      // CommCare authenticates the worker, then require_api_permission('access_api')
      // refuses it: a mobile worker's role grants no API access (403).
      if (!*env || (*env)->id != worker->domain.id) return NoAccess(domain);
      return core::Fail(ErrorCode::kPermissionDenied, std::string(kWorkerNoApiAccess));
    }
  }
  const json::object* secrets = member ? &member->record.body : nullptr;
  service::HttpCredentials credentials(c.s, kDigestRealm);
  if (cr.scheme == Credentials::Scheme::kDigest) {
    if (!*env) return Unauthenticated("Invalid credentials.");
    if (auto st = credentials.VerifyDigest((*env)->id, secrets, cr.digest, req.method, RequestTarget(req), req.peer);
        !st)
      return std::unexpected(st.error());
  } else {
    if (auto st = credentials.VerifyPassword(secrets, cr.secret, req.peer); !st)
      return std::unexpected(st.error());
  }
  if (!member) return Unauthenticated("Invalid credentials.");
  return CallerFor(**env, email, *member);
}

}  // namespace

namespace {

// A web user's own key (ApiKey or Basic): the key and its web-user record. nullopt when
// the secret is no key (Basic may then carry a password).
core::Result<std::optional<std::pair<service::ApiKeyInfo, service::Record>>> KeyCaller(const Context& c,
                                                                                       const Credentials& cr,
                                                                                       const std::string& email) {
  using Found = std::optional<std::pair<service::ApiKeyInfo, service::Record>>;
  auto key = c.s.directory.AuthenticateApiKey(cr.secret, email, core::kCommCareApi);
  if (!key) {
    if (key.error().code != ErrorCode::kUnauthenticated) return std::unexpected(key.error());
    return Found();
  }
  // Only a web user's own key: any other key of the environment (an admin key, another
  // dialect's key bound to the same identifier) is not a CommCare credential.
  auto found = c.s.records.Find(key->environment_id, kWebUserEmailClaim, email);
  if (!found) return std::unexpected(found.error());
  for (auto& r : *found) {
    const auto* key_id = r.body.if_contains("key_id");
    if (r.kind == kWebUserKind && key_id && key_id->is_string() && key_id->get_string() == key->id)
      return Found(std::pair{*key, std::move(r)});
  }
  return Unauthenticated("Invalid credentials.");
}

}  // namespace

core::Result<KeyHolder> AuthorizeKey(const Context& c, const http::Request& req) {
  auto credentials = ReadCredentials(req);
  if (!credentials) return std::unexpected(credentials.error());
  if (credentials->scheme == Credentials::Scheme::kBearer) return AuthorizeBearerKey(c, credentials->secret);
  const std::string email = core::NormalizeEmail(credentials->email);
  if (!core::IsValidEmail(email) || credentials->scheme == Credentials::Scheme::kDigest)
    return Unauthenticated("Invalid credentials.");
  auto found = KeyCaller(c, *credentials, email);
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    // A mobile worker with its own password (Basic): LoginAuthentication lets it in.
    if (credentials->scheme == Credentials::Scheme::kBasic)
      if (auto home = WorkerDomainName(c, email)) {
        auto worker = VerifyWorker(c, req, nullptr, *credentials, email, *home);
        if (!worker) return std::unexpected(worker.error());
        KeyHolder holder;
        holder.email = email;
        holder.worker = std::move(*worker);
        return holder;
      }
    return Unauthenticated("Invalid credentials.");
  }
  return KeyHolder{email, (*found)->first, (*found)->second, std::nullopt};
}

core::Result<Caller> Authorize(const Context& c, const http::Request& req, std::string_view domain) {
  auto credentials = ReadCredentials(req);
  if (!credentials) return std::unexpected(credentials.error());
  if (credentials->scheme == Credentials::Scheme::kBearer) return AuthorizeBearer(c, credentials->secret, domain);
  const std::string email = core::NormalizeEmail(credentials->email);
  if (!core::IsValidEmail(email)) return Unauthenticated("Invalid credentials.");
  if (credentials->scheme == Credentials::Scheme::kDigest) return AuthorizePassword(c, req, domain, *credentials, email);
  auto found = KeyCaller(c, *credentials, email);
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    // Basic may carry the web user's password instead of its key.
    if (credentials->scheme == Credentials::Scheme::kBasic)
      return AuthorizePassword(c, req, domain, *credentials, email);
    return Unauthenticated("Invalid credentials.");
  }
  const service::ApiKeyInfo* key = &(*found)->first;
  const service::Record* web_user = &(*found)->second;
  if (!WebUserEnabled(*web_user)) return Unauthenticated("Invalid credentials.");
  auto env = DomainOf(c, domain);
  if (!env) return std::unexpected(env.error());
  if (!*env) return NoAccess(domain);
  if ((*env)->id != key->environment_id) {
    // The key's user may belong to this project space too (a web user of the same email
    // with a live key there): it acts there as that membership allows.
    auto member = MemberOf(c, **env, email);
    if (!member) return std::unexpected(member.error());
    if (!*member || !(*member)->key) return NoAccess(domain);
    return CallerFor(**env, email, **member);
  }
  core::Principal principal;
  principal.environment_id = key->environment_id;
  principal.api = core::kCommCareApi;
  principal.kind = core::CredentialKind::kWebUserKey;
  principal.credential_id = key->id;
  principal.scopes = key->scopes;
  return Caller{*key, email, web_user->id, **env, std::move(principal)};
}


int StatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kFailedPrecondition: return 400;
    case ErrorCode::kAlreadyExists: return 400;  // CommCare answers duplicates with 400
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAborted: return 409;
    case ErrorCode::kVersionMismatch: return 412;
    case ErrorCode::kResourceExhausted: return 429;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

http::Response ErrorResponse(int status, std::string_view message, Shape shape) {
  const bool auth = status == 401 || status == 403;
  json::object body;
  body[shape == Shape::kErrorMessage && !auth ? "error_message" : "error"] = message;
  return http::Response::Json(status, json::serialize(body));
}

http::Response Fail(const core::Error& e, Shape shape) {
  const int status = StatusOf(e.code);
  // Internal details stay in the process.
  if (status >= 500) return ErrorResponse(status, status == 503 ? "service unavailable, retry" : "internal error", shape);
  return http::WithRetryAfter(ErrorResponse(status, e.message, shape), e);
}

http::Response Json(int status, const json::value& body) { return http::Response::Json(status, json::serialize(body)); }

http::Response Empty(int status) {
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  return r;
}

core::Result<std::optional<Caller>> CallerOf(const Context& c, const service::Environment& env,
                                             const std::string& email) {
  auto m = MemberOf(c, env, email);
  if (!m) return std::unexpected(m.error());
  if (!*m || !(*m)->key || !WebUserEnabled((*m)->record)) return std::optional<Caller>();
  auto caller = CallerFor(env, email, **m);
  if (!caller) return std::unexpected(caller.error());
  return std::optional<Caller>(std::move(*caller));
}

core::Result<bool> IsMember(const Context& c, const service::Environment& env, const std::string& email) {
  auto m = MemberOf(c, env, email);
  if (!m) return std::unexpected(m.error());
  return *m && (*m)->key.has_value() && WebUserEnabled((*m)->record);
}

http::Response Challenge(const Context& c, std::string_view domain, const core::Error& e) {
  http::Response r = Fail(e);
  // One nonce for both algorithms, SHA-256 first (RFC 7616 §3.7: preferred first); a
  // client that keeps one challenge (python-requests joins the header lines and keeps
  // the last value of each parameter) answers the MD5 one with the same nonce.
  std::string nonce;
  auto env = DomainOf(c, domain);
  if (env && *env) {
    auto issued = service::HttpCredentials(c.s, kDigestRealm).IssueNonce((*env)->id);
    if (issued) nonce = std::move(*issued);
  }
  if (nonce.empty()) nonce = crypto::RandomToken().substr(0, 32);  // no such domain: answers nothing
  const bool stale = e.field == service::kStaleNonceField;
  for (const char* algorithm : {"SHA-256", "MD5"}) {
    std::string value = std::string("Digest realm=\"") + kDigestRealm + "\", qop=\"auth\", algorithm=" + algorithm +
                        ", nonce=\"" + nonce + "\"";
    if (stale) value += ", stale=true";
    r.headers.emplace_back("WWW-Authenticate", std::move(value));
  }
  r.headers.emplace_back("WWW-Authenticate", std::string("Basic realm=\"") + kDigestRealm + "\"");
  return r;
}

std::vector<std::string> RoutesFor(std::string_view resource, std::string_view suffix) {
  std::vector<std::string> out;
  for (const char* version : {"v0.4", "v0.5"})
    out.push_back("/a/{domain}/api/" + std::string(version) + "/" + std::string(resource) + std::string(suffix));
  out.push_back("/a/{domain}/api/" + std::string(resource) + "/v1" + std::string(suffix));
  return out;
}

void AddRoutes(http::Router& router, const char* method, std::string_view resource, std::string_view suffix,
               http::Exec exec, const http::Handler& handler) {
  for (const auto& path : RoutesFor(resource, suffix)) router.Add(method, path, exec, Negotiated(handler));
}

http::Handler Negotiated(http::Handler handler) {
  return [handler = std::move(handler)](const http::Request& req, const http::PathParams& params) {
    return AsRequested(req, handler(req, params));
  };
}

std::string RequestListUri(const http::Request& req) {
  std::string uri = req.path;
  if (uri.empty() || uri.back() != '/') uri.push_back('/');
  return uri;
}

core::Result<json::object> ParseBody(const http::Request& req) { return http::ParseJsonObject(req.body); }

core::Status CheckFormat(const std::vector<QueryParam>& query) {
  if (auto format = QueryValue(query, "format"); format && *format != "json" && *format != "xml")
    return core::InvalidArgument("format", "format must be json or xml: other formats are not supported by this server");
  return {};
}

std::string PageLink(const Context& c, std::string_view page, const std::string& environment_id) {
  std::string base = c.public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/pages/" + std::string(page) + "?env=" + environment_id + "&token=";
}

}  // namespace roster::dialects::commcare
