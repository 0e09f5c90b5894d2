#include "dialects/catalyze/catalyze.h"

#include <boost/json.hpp>

#include "dialects/catalyze/common.h"
#include "dialects/catalyze/mapping.h"
#include "dialects/openapi.h"
#include "http/etag.h"
#include "service/activations.h"
#include "query/filter.h"

namespace roster::dialects::catalyze {
namespace json = boost::json;
using core::ErrorCode;

// This API's OpenAPI document (openapi.json, embedded at build time).
extern const std::string_view kOpenApiDocument;

namespace {

// Users a search answers at most (within the query engine's budget of users read).
constexpr int kSearchLimit = 100;

// If-Match on /v2/users/{usersId} into options.expected_version.
core::Status IfMatch(service::UserAccess& users, const http::Request& req, const std::string& id,
                     service::WriteOptions& options) {
  auto expected = http::ExpectedVersion(req, [&] { return users.VersionOf(id); });
  if (!expected) return std::unexpected(expected.error());
  options.expected_version = *expected;
  return {};
}

}  // namespace

void Mount(http::Router& router, const Services& s, const Config& config) {
  router.SetErrorRenderer("/v2", ErrorResponse);
  MountUsers(router, s, config);
  MountAuth(router, s, config);
  MountGroups(router, s);
  MountOpenApi(router, "catalyze", kOpenApiDocument);
}

void MountUsers(http::Router& router, const Services& s, const Config& config) {
  router.Add("POST", "/v2/users", http::Exec::kWorker, [s, config](const http::Request& req, const http::PathParams&) {
    auto caller = Authenticate(s, req, SessionUse::kIgnore);
    if (!caller) return Fail(caller.error());
    // An app key's create is a sign-up: throttled per address and per key.
    if (caller->key.role != service::KeyRole::kAdmin)
      if (auto st = Admit(s, *caller, req, service::ThrottledAction::kSignUp); !st) return Fail(st.error());
    auto body = ParseBody(req);
    if (!body) return Fail(body.error());
    auto password = ReadPassword(*body);
    if (!password) return Fail(password.error());
    if (!*password) return ErrorResponse(400, "password is required");
    service::CreateUserRequest request;
    request.environment_id = caller->key.environment_id;  // joins the default groups too
    request.password = std::move(*password);
    request.issue_session = true;
    if (auto st = ApplyFields(*body, request.user, s.clock.NowMillis()); !st) return Fail(st.error());
    if (auto st = CheckRequired(request.user); !st) return Fail(st.error());
    // The environment's activation mode: `email` creates the user inactive with its
    // activation link and mail in the same write; `none` creates it active.
    service::Activations activations(s, PageLink(config, "activate", caller->key.environment_id));
    if (auto st = activations.PrepareSignUp(request); !st) return Fail(st.error());
    auto created = Users(s, *caller).Create(request);
    if (!created) return Fail(created.error());
    json::object out = ToWire(created->user, s.clock.NowMillis());
    out["sessionToken"] = *created->session_token;
    return http::WithETag(Ok(std::move(out)), created->user.version);
  });

  router.Add("GET", "/v2/users/{usersId}", http::Exec::kInline,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req);
               if (!caller) return Fail(caller.error());
               const std::string id(params.Get("usersId"));
               if (auto st = NeedsSession(*caller); !st) return Fail(st.error());
               if (auto st = SuperviseUsers(s, *caller, id, false); !st) return Fail(st.error());
               auto user = Users(s, *caller).Get(id);
               if (!user) return Fail(user.error());
               return http::WithETag(Ok(ToWire(*user, s.clock.NowMillis())), user->version);
             });

  router.Add("PUT", "/v2/users/{usersId}", http::Exec::kWorker,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req);
               if (!caller) return Fail(caller.error());
               const std::string id(params.Get("usersId"));
               if (auto st = NeedsSession(*caller); !st) return Fail(st.error());
               // A supervisor updates the users of its application (and may activate them).
               if (auto st = SuperviseUsers(s, *caller, id, true); !st) return Fail(st.error());
               auto users = Users(s, *caller);
               service::WriteOptions options;
               if (auto st = IfMatch(users, req, id, options); !st) return Fail(st.error());
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               auto password = ReadPassword(*body);
               if (!password) return Fail(password.error());
               // `active` is the administrator's (or a supervisor's) switch: the core refuses a
               // change of it without profile:write, and lets the SDK's whole-user save send
               // it back unchanged (core::CheckChange).
               std::optional<bool> active;
               if (const auto* v = body->if_contains("active")) {
                 if (!v->is_bool()) return ErrorResponse(400, "active must be true or false");
                 active = v->as_bool();
               }
               // A user changing its own password through its session stays signed in there.
               if (*password && caller->session && caller->session->user_id == id) options.keep_session = caller->token;
               const auto now = s.clock.NowMillis();
               auto user = users.Update(
                   id,
                   [&](core::User& u) -> core::Status {
                     if (active) u.active = *active;
                     if (auto st = ApplyFields(*body, u, now); !st) return st;
                     return CheckRequired(u);
                   },
                   *password, options);
               if (!user) return Fail(user.error());
               return http::WithETag(Ok(ToWire(*user, now)), user->version);
             });

  // Android's searchUsers: users whose username contains `partial` (case-insensitively),
  // through the service's query engine; users:list (an admin or server key with it, or a
  // supervisor's session).
  router.Add("GET", "/v2/users/{appId}/search/{partial}", http::Exec::kWorker,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req);
               if (!caller) return Fail(caller.error());
               if (auto st = NeedsSession(*caller); !st) return Fail(st.error());
               if (!caller->principal.Has(core::kUsersList))
                 if (auto supervisor = IsSupervisor(s, *caller); supervisor && *supervisor)
                   caller->principal.scopes |= core::kSupervisorScopes;
               if (auto st = CheckAppId(s, *caller, params.Get("appId")); !st) return Fail(st.error());
               const std::string partial(params.Get("partial"));
               if (partial.size() > 256) return ErrorResponse(400, "partial must be at most 256 bytes");
               const query::Node filter =
                   query::Compare(query::Path("userName"), query::Op::kCo, query::String(partial));
               service::UserQuery q;
               q.filter = &filter;
               q.page_size = kSearchLimit;
               auto found = Users(s, *caller).Query(std::move(q));
               if (!found) return Fail(found.error());
               json::array out;
               const auto now = s.clock.NowMillis();
               for (const auto& u : found->users) out.push_back(ToWire(u, now));
               return Ok(out);
             });

  router.Add("DELETE", "/v2/users/{usersId}", http::Exec::kWorker,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req);
               if (!caller) return Fail(caller.error());
               const std::string id(params.Get("usersId"));
               if (auto st = NeedsSession(*caller); !st) return Fail(st.error());
               auto users = Users(s, *caller);
               service::WriteOptions options;
               if (auto st = IfMatch(users, req, id, options); !st) return Fail(st.error());
               if (auto st = users.Delete(id, options); !st) return Fail(st.error());
               return Ok(json::object{});
             });
}

}  // namespace roster::dialects::catalyze
