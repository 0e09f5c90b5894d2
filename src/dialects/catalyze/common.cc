#include "dialects/catalyze/common.h"

namespace roster::dialects::catalyze {
namespace json = boost::json;
using core::ErrorCode;

namespace {

int StatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kFailedPrecondition: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kAborted: return 409;
    case ErrorCode::kVersionMismatch: return 412;
    case ErrorCode::kResourceExhausted: return 429;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

http::Response ErrorResponse(int status, std::string_view message) {
  json::object error{{"code", status}, {"message", message}};
  json::object body{{"errors", json::array{std::move(error)}}};
  return http::Response::Json(status, json::serialize(body));
}

http::Response Fail(const core::Error& e) {
  const int status = StatusOf(e.code);
  if (e.code == ErrorCode::kAlreadyExists && e.field == "username")
    return ErrorResponse(status, "username is already taken");
  // Internal details stay in the process; the client sees a generic message.
  if (status >= 500) return ErrorResponse(status, status == 503 ? "service unavailable, retry" : "internal error");
  return http::WithRetryAfter(ErrorResponse(status, e.message), e);
}

core::Status Admit(const Services& s, const Caller& caller, const http::Request& req, service::ThrottledAction action) {
  return s.users.Admit(action, req.peer, "key:" + caller.key.id);
}

http::Response Ok(const json::value& body) { return http::Response::Json(200, json::serialize(body)); }

namespace {
// What the SDKs send as a token when they have none.
bool IsNoToken(std::string_view token) {
  return token.empty() || token == "(null)" || token == "null" || token == "undefined" || token == "nil";
}
}  // namespace

core::Result<Caller> Authenticate(const Services& s, const http::Request& req, SessionUse use) {
  // X-Api-Key: <browser|ios|android|server> <identifier> <key>
  const std::string_view header = Trim(req.Header("x-api-key"));
  if (header.empty()) return core::Fail(ErrorCode::kUnauthenticated, "X-Api-Key header is required");
  std::string_view parts[3];
  std::string_view rest = header;
  for (int i = 0; i < 3; ++i) {
    rest = Trim(rest);
    const auto space = rest.find(' ');
    parts[i] = i < 2 ? rest.substr(0, space) : rest;
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (parts[i].empty() || (i < 2 && space == std::string_view::npos)) break;
  }
  if (parts[2].empty() || parts[2].find(' ') != std::string_view::npos ||
      (parts[0] != "browser" && parts[0] != "ios" && parts[0] != "android" && parts[0] != "server"))
    return core::Fail(ErrorCode::kUnauthenticated,
                      "X-Api-Key must be '<browser|ios|android|server> <identifier> <key>'");
  auto key = s.directory.AuthenticateApiKey(parts[2], parts[1], core::kCatalyzeApi);
  if (!key) return std::unexpected(key.error());
  Caller caller{*key, std::nullopt, {}, {}};
  caller.principal.environment_id = key->environment_id;
  caller.principal.api = core::kCatalyzeApi;
  caller.principal.kind =
      key->role == service::KeyRole::kAdmin ? core::CredentialKind::kAdminKey : core::CredentialKind::kAppKey;
  caller.principal.credential_id = key->id;
  caller.principal.scopes = key->scopes;
  const std::string_view auth = Trim(req.Header("authorization"));
  if (use == SessionUse::kIgnore) return caller;
  if (!auth.empty()) {
    const std::string_view scheme = auth.substr(0, auth.find(' '));
    if (scheme != "Bearer" && scheme != "bearer")
      return core::Fail(ErrorCode::kUnauthenticated, "Authorization must be 'Bearer <sessionToken>'");
    const std::string_view token = Trim(auth.substr(scheme.size()));
    if (IsNoToken(token)) return caller;
    caller.token = std::string(token);
    auto session = s.users.AuthenticateSession(caller.token);
    if (!session) return std::unexpected(session.error());
    if (session->environment_id != key->environment_id)
      return core::Fail(ErrorCode::kUnauthenticated, "invalid session token");
    caller.session = *session;
    caller.principal.kind = core::CredentialKind::kUserSession;
    caller.principal.self_user_id = session->user_id;
    caller.principal.scopes |= core::DefaultScopes(core::CredentialKind::kUserSession, core::kCatalyzeApi);
  }
  return caller;
}

core::Status NeedsSession(const Caller& caller) {
  if (!caller.session && !caller.principal.Has(core::kProfileRead))
    return core::Fail(ErrorCode::kUnauthenticated, "a session token is required");
  return {};
}

core::Status MayActOn(const Caller& caller, std::string_view users_id) {
  if (auto st = NeedsSession(caller); !st) return st;
  return core::MayRead(caller.principal, users_id);
}

core::Status MustHave(const Caller& caller, core::Scope scope) { return core::Require(caller.principal, scope); }

core::Result<bool> IsSupervisor(const Services& s, const Caller& caller) {
  if (!caller.session) return false;
  auto roles = s.records.MembershipsOf(caller.key.environment_id, caller.session->user_id, kSupervisorKind);
  if (!roles) return std::unexpected(roles.error());
  return !roles->empty();
}

core::Status MaySupervise(const Services& s, Caller& caller) {
  if (caller.principal.Has(core::kGroupsWrite)) return {};
  if (!caller.session) return core::Fail(ErrorCode::kUnauthenticated, "a session token is required");
  auto supervisor = IsSupervisor(s, caller);
  if (!supervisor) return std::unexpected(supervisor.error());
  if (!*supervisor)
    return core::Fail(ErrorCode::kPermissionDenied, "this requires a supervisor or the groups:write scope");
  caller.principal.scopes |= core::kSupervisorScopes;
  return {};
}

core::Status SuperviseUsers(const Services& s, Caller& caller, std::string_view users_id, bool write) {
  if (!caller.session || caller.session->user_id == users_id) return {};
  auto supervisor = IsSupervisor(s, caller);
  if (!supervisor) return std::unexpected(supervisor.error());
  if (*supervisor) caller.principal.scopes |= core::kSupervisorScopes | (write ? core::Scopes{core::kProfileWrite} : 0u);
  return {};
}

core::Status CheckAppId(const Services& s, const Caller& caller, std::string_view app_id) {
  if (app_id == caller.key.environment_id) return {};
  auto env = s.directory.ResolveEnvironment(app_id);
  if (env && env->id == caller.key.environment_id) return {};
  return core::NotFound("no such application");
}

std::string PageLink(const Config& config, std::string_view page, const std::string& environment_id) {
  std::string base = config.public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/pages/" + std::string(page) + "?env=" + environment_id + "&token=";
}

core::Result<json::object> ParseBody(const http::Request& req) { return http::ParseJsonObject(req.body); }

core::Result<std::string> RequiredString(const json::object& body, const char* key, std::size_t max_bytes) {
  const auto* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return core::InvalidArgument(key, std::string(key) + " is required");
  if (!v->is_string()) return core::InvalidArgument(key, std::string(key) + " must be a string");
  const auto& str = v->get_string();
  if (str.empty()) return core::InvalidArgument(key, std::string(key) + " is required");
  if (str.size() > max_bytes)
    return core::InvalidArgument(key, std::string(key) + " must be at most " + std::to_string(max_bytes) + " bytes");
  return std::string(str);
}

}  // namespace roster::dialects::catalyze
