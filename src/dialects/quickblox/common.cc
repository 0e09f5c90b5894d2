#include "dialects/quickblox/common.h"

#include <charconv>

#include "core/json_policy.h"
#include "core/rules.h"
#include "crypto/crypto.h"
#include "crypto/mac.h"
#include "dialects/quickblox/mapping.h"

namespace roster::dialects::quickblox {
namespace json = boost::json;
using core::ErrorCode;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string ScalarText(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return {};
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  return json::serialize(v);
}

bool IsScalar(const json::value& v) { return !v.is_object() && !v.is_array(); }

// The pairs a JSON body would have had as a form: "k=v", "k[sub]=v", "k[]=v".
std::vector<FormPair> FlattenJson(const json::object& o) {
  std::vector<FormPair> pairs;
  for (const auto& [key, value] : o) {
    const std::string name(key);
    if (value.is_object()) {
      for (const auto& [sub, inner] : value.get_object())
        if (IsScalar(inner)) pairs.push_back({name + "[" + std::string(sub) + "]", ScalarText(inner)});
    } else if (value.is_array()) {
      for (const auto& inner : value.get_array())
        if (IsScalar(inner)) pairs.push_back({name + "[]", ScalarText(inner)});
    } else {
      pairs.push_back({name, ScalarText(value)});
    }
  }
  return pairs;
}

std::string TopName(const std::string& key) { return key.substr(0, key.find('[')); }

bool LooksLikeJson(const http::Request& req) {
  std::string type(req.Header("content-type"));
  for (auto& c : type)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (type.find("json") != std::string::npos) return true;
  if (type.find("x-www-form-urlencoded") != std::string::npos) return false;
  const auto first = req.body.find_first_not_of(" \t\r\n");
  return first != std::string::npos && req.body[first] == '{';
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

core::Result<Caller> AuthenticateToken(const Services& s, std::string_view token) {
  const auto missing = core::Fail(ErrorCode::kUnauthenticated, "Required session does not exist");
  if (token.size() > 256) return missing;
  const auto underscore = token.find('_');
  if (underscore == std::string_view::npos) return missing;
  const auto number = ParseInt(token.substr(0, underscore));
  const std::string_view secret = token.substr(underscore + 1);
  if (!number || *number <= 0 || secret.empty()) return missing;
  auto record = s.records.GetByNumber(kSessionKind, *number);
  if (!record) return record.error().code == ErrorCode::kNotFound ? missing : std::unexpected(record.error());
  if (!crypto::SecretsEqual(SecretDigest(secret), StringMember(record->body, "secret"))) return missing;
  if (const auto* ended = record->body.if_contains("ended"); ended != nullptr && ended->is_bool() && ended->get_bool())
    return missing;
  // The application's current settings (a change applies to its sessions at once) and
  // session generation (`rotate-secret --end-sessions`); gone: so are its sessions.
  auto app = s.records.GetByNumber(kAppKind, IntMember(record->body, "app"));
  if (!app) return app.error().code == ErrorCode::kNotFound ? missing : std::unexpected(app.error());
  if (auto live = CheckSessionApp(*app, *record); !live) return std::unexpected(live.error());

  Caller caller;
  caller.environment_id = record->environment_id;
  caller.application_id = IntMember(record->body, "app");
  caller.token = std::string(token);
  caller.user_id = StringMember(record->body, "user");
  if (!caller.user_id.empty()) {
    // The user half is a UserService session: a password change or the user's deletion
    // ends it, and with it this QuickBlox session.
    auto session = s.users.AuthenticateSession(StringMember(record->body, "user_token"));
    if (!session) return session.error().code == ErrorCode::kUnauthenticated ? missing : std::unexpected(session.error());
    if (session->user_id != caller.user_id || session->environment_id != caller.environment_id) return missing;
  }
  // Sessions expire 2 hours after their last request; move the expiry at most once a
  // minute so reads do not each become a write.
  const auto now = s.clock.NowMillis();
  if (now - IntMember(record->body, "refreshed_at") >= kSessionRefreshMs) {
    auto refreshed = s.records.Update(
        record->environment_id, kSessionKind, record->id,
        [now](service::Record& r) -> core::Status {
          r.expires_at_ms = now + kSessionIdleMs;
          r.body["refreshed_at"] = now;
          return {};
        },
        SessionClaims);
    if (!refreshed) return refreshed.error().code == ErrorCode::kNotFound ? missing : std::unexpected(refreshed.error());
    record = std::move(*refreshed);
    // last_request_at, at the same bounded rate (exact to the refresh interval).
    if (!caller.user_id.empty())
      if (auto touched = TouchUser(s, caller.environment_id, caller.user_id);
          !touched && touched.error().code == ErrorCode::kNotFound)
        return missing;
  }
  caller.expires_at_ms = record->expires_at_ms;
  caller.principal.environment_id = caller.environment_id;
  caller.principal.api = core::kQuickBloxApi;
  caller.principal.kind = caller.user_id.empty() ? core::CredentialKind::kQuickBloxApp : core::CredentialKind::kUserSession;
  caller.principal.credential_id = record->id;
  caller.principal.scopes = ApplicationScopes(app->body);
  if (!caller.user_id.empty()) {
    caller.principal.self_user_id = caller.user_id;
    caller.principal.scopes |= core::DefaultScopes(core::CredentialKind::kUserSession, core::kQuickBloxApi);
  }
  caller.session = std::move(*record);
  return caller;
}

core::Result<Caller> AuthenticateKey(const Services& s, std::string_view secret) {
  const auto refused = core::Fail(ErrorCode::kUnauthenticated, "Unauthorized");
  if (secret.empty() || secret.size() > 256) return refused;
  auto key = s.directory.AuthenticateApiKey(secret, kKeyIdentifier, core::kQuickBloxApi);
  if (!key) return key.error().code == ErrorCode::kUnauthenticated ? refused : std::unexpected(key.error());
  auto apps = s.records.Find(key->environment_id, kAppKeyClaim, key->id);
  if (!apps) return std::unexpected(apps.error());
  if (apps->empty()) return refused;  // another dialect's key: it names no application
  Caller caller;
  caller.environment_id = key->environment_id;
  caller.application_id = apps->front().number;
  caller.api_key = true;
  caller.principal.environment_id = caller.environment_id;
  caller.principal.api = core::kQuickBloxApi;
  caller.principal.kind = core::CredentialKind::kAppKey;
  caller.principal.credential_id = key->id;
  caller.principal.scopes = key->scopes;
  return caller;
}

}  // namespace

// ---- parameters ---------------------------------------------------------------------

std::int64_t IntMember(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return 0;
}

std::string StringMember(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

core::Result<Params> ParseParams(const http::Request& req) {
  Params p;
  if (LooksLikeJson(req)) {
    if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      auto parsed = core::ParseReceived(req.body);
      if (!parsed && parsed.error().field == "body") return core::InvalidArgument("body", "Request body is not valid JSON");
      if (!parsed) return core::InvalidArgument(parsed.error().field, parsed.error().field + " " + parsed.error().message);
      json::value& v = *parsed;
      if (!v.is_object()) return core::InvalidArgument("body", "Request body must be a JSON object");
      p.object = std::move(v.get_object());
      p.pairs = FlattenJson(p.object);
    }
  } else if (!req.body.empty()) {
    auto form = ParseForm(req.body);
    if (!form) return std::unexpected(form.error());
    p.object = std::move(form->object);
    p.pairs = std::move(form->pairs);
  }
  if (!req.query.empty()) {
    auto query = ParseForm(req.query);
    if (!query) return std::unexpected(query.error());
    for (auto& pair : query->pairs)
      if (!p.object.contains(TopName(pair.key))) p.pairs.push_back(std::move(pair));
    for (auto& [key, value] : query->object)
      if (!p.object.contains(key)) p.object.emplace(key, std::move(value));
  }
  return p;
}

std::optional<std::string> Text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (!IsScalar(*v)) return std::nullopt;
  return ScalarText(*v);
}

// ---- errors -------------------------------------------------------------------------

void FieldErrors::Add(std::string_view field, std::string_view message) {
  auto [it, inserted] = errors_.emplace(field, json::array());
  auto& list = it->value().as_array();
  for (const auto& m : list)
    if (m.as_string() == message) return;
  list.emplace_back(json::string(message));
}

http::Response FieldErrors::Response() const { return Json(422, json::object{{"errors", errors_}}); }

http::Response Json(int status, const json::value& body) {
  http::Response r = http::Response::Json(status, json::serialize(body));
  r.content_type = "application/json; charset=utf-8";
  return r;
}

http::Response Empty() {
  http::Response r = http::Response::Json(200, "");
  r.content_type = "application/json; charset=utf-8";
  return r;
}

http::Response BaseError(int status, std::string_view message) {
  return Json(status, json::object{{"errors", json::object{{"base", json::array{json::string(message)}}}}});
}

http::Response ListError(int status, std::string_view message) {
  return Json(status, json::object{{"errors", json::array{json::string(message)}}});
}

http::Response BadRequest(std::string_view message) {
  return Json(400, json::object{{"code", nullptr}, {"message", message}});
}

http::Response NotFound() { return BaseError(404, "Entity you are looking for was not found."); }

http::Response Fail(const core::Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kFailedPrecondition: {
      if (e.field == "If-Match") return BadRequest(e.message);  // a header, not a form field
      FieldErrors errors;
      errors.Add(e.field.empty() ? "base" : e.field, e.message);
      return errors.Response();
    }
    case ErrorCode::kUnauthenticated: return ListError(401, e.message);
    case ErrorCode::kPermissionDenied: return BaseError(403, e.message);
    case ErrorCode::kNotFound: return NotFound();
    case ErrorCode::kAlreadyExists: {
      FieldErrors errors;
      errors.Add(e.field == "username" || e.field.empty() ? "login" : e.field, "has already been taken");
      return errors.Response();
    }
    case ErrorCode::kAborted: return BaseError(409, "The user is being changed by others; retry");
    case ErrorCode::kVersionMismatch:
      return BaseError(412, "The user has changed since the If-Match version; read it again");
    case ErrorCode::kResourceExhausted: return http::WithRetryAfter(BaseError(429, "Too many requests; try again later"), e);
    case ErrorCode::kUnavailable: return BaseError(503, "Service unavailable, retry");
    case ErrorCode::kInternal: return BaseError(500, "Internal server error");
  }
  return BaseError(500, "Internal server error");
}

http::Response RenderTransportError(int status, std::string_view message) {
  switch (status) {
    case 404: return NotFound();
    case 405: return BaseError(405, "Method not allowed");
    case 413: return BaseError(413, "Request entity too large");
    case 503: return BaseError(503, "Service unavailable, retry");
    default: break;
  }
  if (status >= 500) return BaseError(status, "Internal server error");
  return BaseError(status, message);
}

// ---- callers ------------------------------------------------------------------------

core::Result<Caller> Authenticate(const Services& s, const http::Request& req) {
  const std::string_view token = Trim(req.Header("qb-token"));
  if (!token.empty()) return AuthenticateToken(s, token);
  const std::string_view authorization = Trim(req.Header("authorization"));
  if (!authorization.empty()) {
    if (!StartsWithNoCase(authorization, "ApiKey "))
      return core::Fail(ErrorCode::kUnauthenticated, "Authorization must be 'ApiKey <key>'");
    return AuthenticateKey(s, Trim(authorization.substr(7)));
  }
  return core::Fail(ErrorCode::kUnauthenticated, "Token is required");
}

core::Status MayChange(const Caller& caller, const std::string& user_id) {
  if (caller.user_id.empty() && !caller.principal.Has(core::kProfileWrite))
    return core::Fail(ErrorCode::kPermissionDenied, "Forbidden. Need user.");
  if (!core::MayWrite(caller.principal, user_id))
    return core::Fail(ErrorCode::kPermissionDenied, "You don't have appropriate permissions to perform this operation");
  return {};
}

core::Scopes ApplicationScopes(const json::object& app_body) {
  const auto flag = [&](const char* name) {
    const auto* v = app_body.if_contains(name);
    return v != nullptr && v->is_bool() && v->get_bool();
  };
  core::Scopes scopes = core::DefaultScopes(core::CredentialKind::kQuickBloxApp, core::kQuickBloxApi);
  if (flag("allow_user_list")) scopes |= core::kUsersList;
  if (flag("allow_contact_fields")) scopes |= core::kContactRead;
  return scopes;
}

std::string ExpirationDate(std::int64_t ms) {
  std::string t = core::FormatTimestamp(ms, false);  // 2019-08-27T20:19:08Z
  if (t.size() == 20) {
    t[10] = ' ';
    t.pop_back();
  }
  return t + " UTC";
}

http::Response WithExpiry(const Caller& caller, http::Response response) {
  if (caller.session) response.headers.emplace_back("QB-Token-ExpirationDate", ExpirationDate(caller.expires_at_ms));
  return response;
}

std::string SecretDigest(std::string_view secret) {
  return crypto::ToHex(crypto::Digest(crypto::MacAlgorithm::kSha256, secret));
}

std::vector<service::Claim> SessionClaims(const service::Record& session) {
  return {{kNonceClaim,
           std::to_string(IntMember(session.body, "app")) + ":" + std::to_string(IntMember(session.body, "ts")) + ":" +
               StringMember(session.body, "nonce"),
           true}};
}

core::Result<core::User> TouchUser(const Services& s, const std::string& environment_id, const std::string& user_id) {
  const auto now = s.clock.NowMillis();
  service::WriteOptions options;
  options.keep_updated_at = true;
  return s.users.Update(
      environment_id, user_id,
      [now](core::User& u) -> core::Status {
        SetLastRequestAt(u, now);
        return {};
      },
      std::nullopt, options);
}

void AddRoute(http::Router& router, std::string_view method, std::string_view pattern, http::Exec exec,
              const http::Handler& handler) {
  router.Add(method, pattern, exec, handler);
  if (pattern.ends_with(".json")) router.Add(method, pattern.substr(0, pattern.size() - 5), exec, handler);
}

std::optional<std::int64_t> PathId(std::string_view segment) {
  if (segment.ends_with(".json")) segment.remove_suffix(5);
  if (segment.empty() || segment.size() > 18) return std::nullopt;
  for (char c : segment)
    if (c < '0' || c > '9') return std::nullopt;
  auto v = ParseInt(segment);
  if (!v || *v <= 0) return std::nullopt;
  return v;
}

}  // namespace roster::dialects::quickblox
