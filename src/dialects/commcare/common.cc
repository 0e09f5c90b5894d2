#include "dialects/commcare/common.h"

#include "core/rules.h"
#include "crypto/base64.h"

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

struct Credentials {
  std::string email, key;
};

// `Authorization: ApiKey <email>:<key>` or `Authorization: Basic base64(<email>:<key>)`.
core::Result<Credentials> ReadCredentials(const http::Request& req) {
  const std::string_view header = Trim(req.Header("authorization"));
  if (header.empty())
    return Unauthenticated("Authentication required: send 'Authorization: ApiKey <email>:<api key>' or HTTP Basic");
  if (header.size() > kMaxCredential) return Unauthenticated("Invalid credentials.");
  const std::size_t space = header.find(' ');
  const std::string_view scheme = header.substr(0, space);
  const std::string_view rest = space == std::string_view::npos ? std::string_view() : Trim(header.substr(space + 1));
  std::string pair;
  std::size_t colon = std::string::npos;
  if (IEquals(scheme, "ApiKey")) {
    pair = std::string(rest);
    colon = pair.rfind(':');
  } else if (IEquals(scheme, "Basic")) {
    auto decoded = crypto::Base64Decode(rest);
    if (!decoded) return Unauthenticated("Malformed Basic credentials.");
    pair = std::move(*decoded);
    colon = pair.find(':');  // RFC 7617: the user-id has no colon
  } else {
    return Unauthenticated("Unsupported authorization scheme: use 'ApiKey <email>:<api key>' or HTTP Basic");
  }
  if (colon == std::string::npos || colon == 0 || colon + 1 == pair.size())
    return Unauthenticated("Malformed credentials: expected <email>:<api key>");
  return Credentials{pair.substr(0, colon), pair.substr(colon + 1)};
}

}  // namespace

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

core::Result<Caller> Authorize(const Context& c, const http::Request& req, std::string_view domain) {
  auto credentials = ReadCredentials(req);
  if (!credentials) return std::unexpected(credentials.error());
  const std::string email = core::NormalizeEmail(credentials->email);
  if (!core::IsValidEmail(email)) return Unauthenticated("Invalid credentials.");
  auto key = c.s.directory.AuthenticateApiKey(credentials->key, email, core::kCommCareApi);
  if (!key) {
    if (key.error().code == ErrorCode::kUnauthenticated) return Unauthenticated("Invalid credentials.");
    return std::unexpected(key.error());
  }
  // Only a web user's own key: any other key of the environment (an admin key, another
  // dialect's key bound to the same identifier) is not a CommCare credential.
  auto found = c.s.records.Find(key->environment_id, kWebUserEmailClaim, email);
  if (!found) return std::unexpected(found.error());
  const service::Record* web_user = nullptr;
  for (const auto& r : *found) {
    const auto* key_id = r.body.if_contains("key_id");
    if (r.kind == kWebUserKind && key_id && key_id->is_string() && key_id->get_string() == key->id) web_user = &r;
  }
  if (!web_user) return Unauthenticated("Invalid credentials.");
  auto env = c.s.directory.FindEnvironment(std::string(domain));
  if (!env) {
    if (env.error().code != ErrorCode::kNotFound) return std::unexpected(env.error());
  }
  if (!env || env->id != key->environment_id)
    return core::Fail(ErrorCode::kPermissionDenied, "You do not have access to project space '" +
                                                        std::string(domain) + "'.");
  core::Principal principal;
  principal.environment_id = key->environment_id;
  principal.api = core::kCommCareApi;
  principal.kind = core::CredentialKind::kWebUserKey;
  principal.credential_id = key->id;
  principal.scopes = key->scopes;
  return Caller{*key, email, web_user->id, *env, std::move(principal)};
}

core::Result<json::object> ParseBody(const http::Request& req) { return http::ParseJsonObject(req.body); }

core::Status CheckFormat(const std::vector<QueryParam>& query) {
  if (auto format = QueryValue(query, "format"); format && *format != "json")
    return core::InvalidArgument("format", "format must be json: other formats are not supported by this server");
  return {};
}

}  // namespace roster::dialects::commcare
