#include "dialects/catalyze/catalyze.h"

#include <boost/json.hpp>

#include "dialects/catalyze/mapping.h"

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
    case ErrorCode::kResourceExhausted: return 503;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

http::Response Fail(const core::Error& e) {
  const int status = StatusOf(e.code);
  if (e.code == ErrorCode::kAlreadyExists && e.field == "username")
    return ErrorResponse(status, "username is already taken");
  // Internal details stay in the process; the client sees a generic message.
  if (status >= 500) return ErrorResponse(status, status == 503 ? "service unavailable, retry" : "internal error");
  return ErrorResponse(status, e.message);
}

http::Response Ok(json::object body) { return http::Response::Json(200, json::serialize(body)); }

// The caller of one request: an API key, and the user session if a Bearer was sent.
struct Caller {
  service::ApiKeyInfo key;
  std::optional<service::Session> session;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

core::Result<Caller> Authenticate(const Services& s, const http::Request& req) {
  // X-Api-Key: <browser|ios|android> <identifier> <key>
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
      (parts[0] != "browser" && parts[0] != "ios" && parts[0] != "android"))
    return core::Fail(ErrorCode::kUnauthenticated,
                      "X-Api-Key must be '<browser|ios|android> <identifier> <key>'");
  auto key = s.directory.AuthenticateApiKey(parts[2], parts[1]);
  if (!key) return std::unexpected(key.error());
  Caller caller{*key, std::nullopt};
  const std::string_view auth = Trim(req.Header("authorization"));
  if (!auth.empty()) {
    if (auth.size() < 7 || (auth.substr(0, 7) != "Bearer " && auth.substr(0, 7) != "bearer "))
      return core::Fail(ErrorCode::kUnauthenticated, "Authorization must be 'Bearer <sessionToken>'");
    auto session = s.users.AuthenticateSession(Trim(auth.substr(7)));
    if (!session) return std::unexpected(session.error());
    if (session->environment_id != key->environment_id)
      return core::Fail(ErrorCode::kUnauthenticated, "invalid session token");
    caller.session = *session;
  }
  return caller;
}

// Admin keys act on every user of their environment; anyone else only on the user of
// their own session.
core::Status MayActOn(const Caller& caller, std::string_view users_id) {
  if (caller.key.role == service::KeyRole::kAdmin) return {};
  if (!caller.session) return core::Fail(ErrorCode::kUnauthenticated, "a session token is required");
  if (caller.session->user_id != users_id)
    return core::Fail(ErrorCode::kPermissionDenied, "a user may only act on itself");
  return {};
}

core::Result<json::object> ParseBody(const http::Request& req) {
  if (req.body.empty()) return core::InvalidArgument("body", "request body must be a JSON object");
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 32;
  json::value v = json::parse(req.body, ec, {}, options);
  if (ec) return core::InvalidArgument("body", "request body is not valid JSON");
  if (!v.is_object()) return core::InvalidArgument("body", "request body must be a JSON object");
  return std::move(v.get_object());
}

}  // namespace

http::Response ErrorResponse(int status, std::string_view message) {
  json::object error{{"code", status}, {"message", message}};
  json::object body{{"errors", json::array{std::move(error)}}};
  return http::Response::Json(status, json::serialize(body));
}

void Mount(http::Router& router, Services s) {
  router.SetErrorRenderer("/v2", ErrorResponse);

  router.Add("POST", "/v2/users", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
    auto caller = Authenticate(s, req);
    if (!caller) return Fail(caller.error());
    auto body = ParseBody(req);
    if (!body) return Fail(body.error());
    auto password = ReadPassword(*body);
    if (!password) return Fail(password.error());
    if (!*password) return ErrorResponse(400, "password is required");
    service::CreateUserRequest request;
    request.environment_id = caller->key.environment_id;
    request.password = std::move(*password);
    request.issue_session = true;
    request.user.active = false;  // Catalyze creates users inactive
    if (auto st = ApplyFields(*body, request.user, s.clock.NowMillis()); !st) return Fail(st.error());
    if (auto st = CheckRequired(request.user); !st) return Fail(st.error());
    auto created = s.users.Create(request);
    if (!created) return Fail(created.error());
    json::object out = ToWire(created->user, s.clock.NowMillis());
    out["sessionToken"] = *created->session_token;
    return Ok(std::move(out));
  });

  router.Add("GET", "/v2/users/{usersId}", http::Exec::kInline,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req);
               if (!caller) return Fail(caller.error());
               const std::string id(params.Get("usersId"));
               if (auto st = MayActOn(*caller, id); !st) return Fail(st.error());
               auto user = s.users.Get(caller->key.environment_id, id);
               if (!user) return Fail(user.error());
               return Ok(ToWire(*user, s.clock.NowMillis()));
             });

  router.Add("PUT", "/v2/users/{usersId}", http::Exec::kWorker,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req);
               if (!caller) return Fail(caller.error());
               const std::string id(params.Get("usersId"));
               if (auto st = MayActOn(*caller, id); !st) return Fail(st.error());
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               auto password = ReadPassword(*body);
               if (!password) return Fail(password.error());
               const auto now = s.clock.NowMillis();
               auto user = s.users.Update(
                   caller->key.environment_id, id,
                   [&](core::User& u) -> core::Status {
                     if (auto st = ApplyFields(*body, u, now); !st) return st;
                     return CheckRequired(u);
                   },
                   *password);
               if (!user) return Fail(user.error());
               return Ok(ToWire(*user, now));
             });

  router.Add("DELETE", "/v2/users/{usersId}", http::Exec::kWorker,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req);
               if (!caller) return Fail(caller.error());
               const std::string id(params.Get("usersId"));
               if (auto st = MayActOn(*caller, id); !st) return Fail(st.error());
               if (auto st = s.users.Delete(caller->key.environment_id, id); !st) return Fail(st.error());
               return Ok(json::object{});
             });
}

}  // namespace roster::dialects::catalyze
