#include "dialects/catalyze/catalyze.h"

#include <boost/json.hpp>

#include "dialects/catalyze/common.h"
#include "dialects/catalyze/mapping.h"
#include "http/etag.h"

namespace roster::dialects::catalyze {
namespace json = boost::json;
using core::ErrorCode;

namespace {

// If-Match on /v2/users/{usersId} into options.expected_version.
core::Status IfMatch(service::UserAccess& users, const http::Request& req, const std::string& id,
                     service::WriteOptions& options) {
  auto expected = http::ExpectedVersion(req, [&] { return users.VersionOf(id); });
  if (!expected) return std::unexpected(expected.error());
  options.expected_version = *expected;
  return {};
}

}  // namespace

void Mount(http::Router& router, const Services& s) {
  router.SetErrorRenderer("/v2", ErrorResponse);
  MountUsers(router, s);
  MountAuth(router, s);
  MountGroups(router, s);
}

void MountUsers(http::Router& router, const Services& s) {
  router.Add("POST", "/v2/users", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
    auto caller = Authenticate(s, req);
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
    request.user.active = false;  // Catalyze creates users inactive
    if (auto st = ApplyFields(*body, request.user, s.clock.NowMillis()); !st) return Fail(st.error());
    if (auto st = CheckRequired(request.user); !st) return Fail(st.error());
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
               auto users = Users(s, *caller);
               service::WriteOptions options;
               if (auto st = IfMatch(users, req, id, options); !st) return Fail(st.error());
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               auto password = ReadPassword(*body);
               if (!password) return Fail(password.error());
               // `active` is the administrator's switch (an inactive user cannot sign in):
               // the core refuses a change of it by a credential without profile:write.
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
