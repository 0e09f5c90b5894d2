// Catalyze sessions, username reminders, password resets and mail templates.
#include <map>

#include "core/rules.h"
#include "dialects/catalyze/common.h"
#include "dialects/catalyze/mapping.h"
#include "service/mail_templates.h"
#include "service/password_resets.h"

namespace roster::dialects::catalyze {
namespace json = boost::json;
using core::ErrorCode;

namespace {

// Catalyze's reset tokens (records of their own: see service::PasswordResets), mailed
// with a link to the reset page of the environment.
service::ResetTokens ResetTokensFor(const Config& config, const std::string& environment_id) {
  auto tokens = ResetTokenKinds();
  tokens.link_base = PageLink(config, "reset/catalyze", environment_id);
  return tokens;
}
// Mail a requester can trigger for one address or username per hour.
constexpr std::int64_t kMailBudget = service::PasswordResets::kMailBudget;
constexpr std::int64_t kMailWindowMs = service::PasswordResets::kMailWindowMs;

// The environment's display name, for templates.
std::string EnvironmentName(const Services& s, const std::string& environment_id) {
  auto environment = s.directory.GetEnvironment(environment_id);
  return environment ? environment->name : environment_id;
}

core::Result<core::Mail> Render(const Services& s, const std::string& environment_id, const std::string& name,
                                const std::string& to, const std::map<std::string, std::string>& vars) {
  auto t = service::LoadTemplate(s.records, environment_id, name);
  if (!t) return std::unexpected(t.error());
  return core::Mail{to, service::RenderTemplate(t->subject, vars), service::RenderTemplate(t->body, vars)};
}

}  // namespace

service::ResetTokens ResetTokenKinds() { return {"catalyze.reset", "reset.token"}; }

void MountAuth(http::Router& router, const Services& s, const Config& config) {
  router.Add("POST", "/v2/auth/signin", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
    auto caller = Authenticate(s, req, SessionUse::kIgnore);
    if (!caller) return Fail(caller.error());
    if (auto st = Admit(s, *caller, req, service::ThrottledAction::kSignIn); !st) return Fail(st.error());
    auto body = ParseBody(req);
    if (!body) return Fail(body.error());
    auto username = RequiredString(*body, "username", 1024);
    if (!username) return Fail(username.error());
    auto password = RequiredString(*body, "password", 1024);
    if (!password) return Fail(password.error());
    auto signed_in = s.users.As(caller->principal).SignIn(*username, *password, req.peer);
    if (!signed_in) return Fail(signed_in.error());
    json::object out = ToWire(signed_in->user, s.clock.NowMillis());
    out["sessionToken"] = signed_in->session_token;
    return Ok(out);
  });

  // GET as the iOS and JS SDKs send it, POST as Android's does.
  for (const char* method : {"GET", "POST"})
    router.Add(method, "/v2/auth/signout", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
      auto caller = Authenticate(s, req);
      if (!caller) return Fail(caller.error());
      if (!caller->session) return ErrorResponse(401, "a session token is required");
      if (auto st = s.users.As(caller->principal).SignOut(caller->token); !st) return Fail(st.error());
      return Ok(json::object{});
    });

  // The JS SDK's verifyToken: a live session answers its user (as GET /v2/users/{id}
  // would), anything else 401.
  router.Add("GET", "/v2/auth/verify", http::Exec::kInline, [s](const http::Request& req, const http::PathParams&) {
    auto caller = Authenticate(s, req);
    if (!caller) return Fail(caller.error());
    if (!caller->session) return ErrorResponse(401, "a session token is required");
    auto user = Users(s, *caller).Get(caller->session->user_id);
    if (!user) return Fail(user.error());
    return Ok(ToWire(*user, s.clock.NowMillis()));
  });

  router.Add("POST", "/v2/users/forgotUsername", http::Exec::kWorker,
             [s](const http::Request& req, const http::PathParams&) {
               auto caller = Authenticate(s, req, SessionUse::kIgnore);
               if (!caller) return Fail(caller.error());
               if (auto st = Admit(s, *caller, req, service::ThrottledAction::kForgotUsername); !st)
                 return Fail(st.error());
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               auto email = RequiredString(*body, "email", 254);
               if (!email) return Fail(email.error());
               if (!core::IsValidEmail(*email)) return ErrorResponse(400, "email is not a valid email address");
               const std::string env = caller->key.environment_id;
               const std::string address = core::NormalizeEmail(*email);
               auto budget = s.users.HitMailBudget(env, "forgot:" + address, kMailBudget, kMailWindowMs);
               if (!budget) return Fail(budget.error());
               auto users = s.users.FindBy(env, "email", address);
               if (!users) return Fail(users.error());
               bool sent = false;
               if (*budget) {
                 for (const auto& user : *users) {
                   const auto* primary = user.profile.PrimaryEmail();
                   if (primary == nullptr || core::NormalizeEmail(primary->value) != address) continue;
                   auto mail = Render(s, env, "forgot_username", primary->value,
                                      {{"username", user.username}, {"environment", EnvironmentName(s, env)}});
                   if (!mail) return Fail(mail.error());
                   if (auto st = s.records.SendMail(env, *mail); !st) return Fail(st.error());
                   sent = true;
                 }
               }
               // The same number of durable writes whether or not a message went out.
               if (!sent) (void)s.users.HitMailBudget(env, "pad", 0, kMailWindowMs);
               return Ok(json::object{});
             });

  router.Add("GET", "/v2/{appId}/reset/user/{username}", http::Exec::kWorker,
             [s, config](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req, SessionUse::kIgnore);
               if (!caller) return Fail(caller.error());
               if (auto st = CheckAppId(s, *caller, params.Get("appId")); !st) return Fail(st.error());
               if (auto st = Admit(s, *caller, req, service::ThrottledAction::kPasswordReset); !st)
                 return Fail(st.error());
               const std::string env = caller->key.environment_id;
               const std::string username(params.Get("username"));
               auto folded = core::FoldUsername(username);
               if (!folded) return ErrorResponse(400, "username is not valid");
               auto users = s.users.FindBy(env, "username", username);
               if (!users) return Fail(users.error());
               const core::User* user = users->empty() ? nullptr : &users->front();
               auto sent = service::PasswordResets(s, ResetTokensFor(config, env)).Request(env, "reset:" + *folded, user);
               if (!sent) return Fail(sent.error());
               return Ok(json::object{});
             });

  // Consumes a reset token: {"token", "password"}. Single use; ends every session.
  router.Add("POST", "/v2/{appId}/reset/user/{username}", http::Exec::kWorker,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req, SessionUse::kIgnore);
               if (!caller) return Fail(caller.error());
               if (auto st = CheckAppId(s, *caller, params.Get("appId")); !st) return Fail(st.error());
               if (auto st = Admit(s, *caller, req, service::ThrottledAction::kPasswordReset); !st)
                 return Fail(st.error());
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               auto token = RequiredString(*body, "token", 256);
               if (!token) return Fail(token.error());
               auto password = RequiredString(*body, "password", 1024);
               if (!password) return Fail(password.error());
               const std::string env = caller->key.environment_id;
               const auto invalid = ErrorResponse(400, "reset token is invalid or expired");
               // The token completes only for the user the path names.
               auto users = s.users.FindBy(env, "username", std::string(params.Get("username")));
               if (!users) return Fail(users.error());
               if (users->empty()) return invalid;
               auto reset = service::PasswordResets(s, ResetTokenKinds()).Complete(env, *token, *password, users->front().id);
               if (!reset) return reset.error().code == ErrorCode::kNotFound ? invalid : Fail(reset.error());
               return Ok(json::object{});
             });

  router.Add("GET", "/v2/app/{appId}/templates/{name}", http::Exec::kInline,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req);
               if (!caller) return Fail(caller.error());
               if (auto st = MustHave(*caller, core::kSchemaWrite); !st) return Fail(st.error());
               if (auto st = CheckAppId(s, *caller, params.Get("appId")); !st) return Fail(st.error());
               const std::string name(params.Get("name"));
               if (!service::IsKnownTemplate(name)) return ErrorResponse(404, "no such template");
               auto t = service::LoadTemplate(s.records, caller->key.environment_id, name);
               if (!t) return Fail(t.error());
               return Ok(json::object{{"name", name}, {"subject", t->subject}, {"body", t->body}});
             });

  router.Add("PUT", "/v2/app/{appId}/templates/{name}", http::Exec::kWorker,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req);
               if (!caller) return Fail(caller.error());
               if (auto st = MustHave(*caller, core::kSchemaWrite); !st) return Fail(st.error());
               if (auto st = CheckAppId(s, *caller, params.Get("appId")); !st) return Fail(st.error());
               const std::string name(params.Get("name"));
               if (!service::IsKnownTemplate(name)) return ErrorResponse(404, "no such template");
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               auto subject = RequiredString(*body, "subject", 200);
               if (!subject) return Fail(subject.error());
               auto text = RequiredString(*body, "body", 16 * 1024);
               if (!text) return Fail(text.error());
               if (auto st = service::SaveTemplate(s.records, caller->key.environment_id, name, {*subject, *text}); !st)
                 return Fail(st.error());
               return Ok(json::object{{"name", name}, {"subject", *subject}, {"body", *text}});
             });
}

}  // namespace roster::dialects::catalyze
