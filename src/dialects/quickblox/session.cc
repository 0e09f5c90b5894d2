// Applications, sessions and sign-in: POST|GET|DELETE /session.json, POST|DELETE /login.json.
#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "core/rules.h"
#include "crypto/crypto.h"
#include "dialects/quickblox/common.h"
#include "dialects/quickblox/mapping.h"
#include "dialects/quickblox/signature.h"
#include "http/etag.h"

namespace roster::dialects::quickblox {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr std::size_t kMaxNonce = 64;

std::optional<std::int64_t> ParseInt(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::value NumberOrText(const std::string& text) {
  if (auto v = ParseInt(text)) return *v;
  return json::value(text);
}

json::object SessionJson(const service::Record& r, const std::string& token) {
  const json::object& b = r.body;
  return json::object{{"_id", r.id},
                      {"id", r.number},
                      {"application_id", IntMember(b, "app")},
                      {"user_id", IntMember(b, "user_number")},
                      {"nonce", NumberOrText(Member(b, "nonce"))},
                      {"token", token},
                      {"ts", IntMember(b, "ts")},
                      {"created_at", core::FormatTimestamp(r.created_at_ms, false)},
                      {"updated_at", core::FormatTimestamp(r.updated_at_ms, false)}};
}

struct Credentials {
  std::string login, email, password;
};

// login|email + password from `o` (top level, as POST /login.json sends them) or from
// its `user` object (as POST /session.json does).
std::optional<Credentials> ReadCredentials(const json::object& o) {
  Credentials c;
  const json::object* from = &o;
  if (const auto* user = o.if_contains("user"); user != nullptr && user->is_object()) from = &user->get_object();
  c.login = Text(*from, "login").value_or("");
  c.email = Text(*from, "email").value_or("");
  c.password = Text(*from, "password").value_or("");
  if ((c.login.empty() && c.email.empty()) || c.password.empty()) return std::nullopt;
  return c;
}

// Who signs a user in or out: the application's session (its id is not at hand here).
core::Principal SignInPrincipal(const std::string& environment_id) {
  core::Principal p;
  p.environment_id = environment_id;
  p.api = core::kQuickBloxApi;
  p.kind = core::CredentialKind::kQuickBloxApp;
  return p;
}

// Password sign-in by login, or by email (the user holding it, else nobody: the
// service then spends the same time on a dummy hash).
core::Result<service::SignedIn> SignIn(const Services& s, const std::string& environment_id, const Credentials& c,
                                       const std::string& peer) {
  std::string username = c.login;
  if (username.empty()) {
    username = c.email;
    auto users = s.users.FindBy(environment_id, "email", c.email);
    if (!users) return std::unexpected(users.error());
    if (!users->empty()) username = users->front().username;
  }
  auto signed_in = s.users.As(SignInPrincipal(environment_id)).SignIn(username, c.password, peer);
  if (!signed_in) {
    if (signed_in.error().code == ErrorCode::kUnauthenticated)
      return core::Fail(ErrorCode::kUnauthenticated, "Unauthorized");
    return std::unexpected(signed_in.error());
  }
  // A sign-in is a request: last_request_at (best effort; the session refresh repeats it).
  if (auto touched = TouchUser(s, environment_id, signed_in->user.id)) signed_in->user = std::move(*touched);
  return signed_in;
}

// Ends the user half of a session (best effort: it may have ended already).
void EndUserSession(const Services& s, const service::Record& session) {
  const std::string token = Member(session.body, "user_token");
  if (!token.empty()) (void)s.users.As(SignInPrincipal(session.environment_id)).SignOut(token);
}

core::Result<service::Record> BindUser(const Services& s, const service::Record& session, const core::User& user,
                                       const std::string& user_token) {
  return s.records.Update(
      session.environment_id, kSessionKind, session.id,
      [&](service::Record& r) -> core::Status {
        r.body["user"] = user.id;
        r.body["user_number"] = user.number;
        r.body["user_token"] = user_token;
        return {};
      },
      SessionClaims);
}

// Ends a session. The record stays (invisible once it expires) until the request that
// created it is outside the timestamp window, so its nonce claim keeps refusing replays.
core::Status EndSession(const Services& s, const service::Record& session) {
  EndUserSession(s, session);
  const std::int64_t keep_until =
      std::max(s.clock.NowMillis() + 1000, (IntMember(session.body, "ts") + kTimestampWindowS) * 1000 + 1000);
  auto ended = s.records.Update(
      session.environment_id, kSessionKind, session.id,
      [&](service::Record& r) -> core::Status {
        r.body["ended"] = true;
        r.body["user"] = "";
        r.body["user_number"] = 0;
        r.body["user_token"] = "";
        r.expires_at_ms = keep_until;
        return {};
      },
      SessionClaims);
  if (!ended && ended.error().code != ErrorCode::kNotFound) return std::unexpected(ended.error());
  return {};
}

core::Result<Caller> SessionCaller(const Services& s, const http::Request& req) {
  auto caller = Authenticate(s, req);
  if (!caller) return caller;
  if (!caller->session) return core::Fail(ErrorCode::kUnauthenticated, "Token is required");
  return caller;
}

http::Response CreateSession(const Services& s, const http::Request& req) {
  auto params = ParseParams(req);
  if (!params) return BadRequest(params.error().message);
  const json::object& p = params->object;
  FieldErrors missing;
  for (const char* key : {"application_id", "auth_key", "timestamp", "nonce", "signature"})
    if (Text(p, key).value_or("").empty()) missing.Add(key, "can't be blank");
  if (!missing.empty()) return missing.Response();

  const auto app_id = ParseInt(*Text(p, "application_id"));
  auto app = app_id && *app_id > 0 ? s.records.GetByNumber(kAppKind, *app_id)
                                   : core::Result<service::Record>(core::NotFound("no application"));
  if (!app) {
    if (app.error().code != ErrorCode::kNotFound) return Fail(app.error());
    return BaseError(422, "Unknown application");
  }
  if (!crypto::SecretsEqual(*Text(p, "auth_key"), Member(app->body, "auth_key")))
    return BaseError(422, "Unexpected auth_key");
  const auto timestamp = ParseInt(*Text(p, "timestamp"));
  const std::int64_t now = s.clock.NowMillis();
  // Compared without subtracting the client's value, which may be any int64 (no overflow).
  const std::int64_t now_s = now / 1000;
  if (!timestamp || *timestamp < now_s - kTimestampWindowS || *timestamp > now_s + kTimestampWindowS)
    return BaseError(422, "Bad timestamp");
  if (auto st = VerifySessionSignature(params->pairs, Member(app->body, "auth_secret")); !st)
    return BaseError(422, "Unexpected signature");

  const std::string nonce = *Text(p, "nonce");
  if (nonce.size() > kMaxNonce) return BaseError(422, "Bad nonce");
  std::optional<Credentials> credentials;
  if (const auto* user = p.if_contains("user")) {
    // Only user[login]|user[email] + user[password] sign a user in here.
    if (!user->is_object()) return ListError(401, "Unauthorized");
    credentials = ReadCredentials(p);
    if (!credentials) return ListError(401, "Unauthorized");
  } else if (p.contains("provider")) {
    return BaseError(422, "Social sign-in is not supported");
  }
  // Per address and per application; with a user's password it is a sign-in.
  if (auto st = s.users.Admit(credentials ? service::ThrottledAction::kSignIn : service::ThrottledAction::kSession,
                              req.peer, AppCredential(app->number));
      !st)
    return Fail(st.error());

  // The session record carries the request's nonce claim: the same timestamp and nonce
  // are accepted once, and a replay is refused before any password is checked.
  const std::string secret = crypto::RandomToken();
  service::NewRecordRequest session;
  session.environment_id = app->environment_id;
  session.kind = kSessionKind;
  session.body = json::object{{"app", app->number}, {"secret", SecretDigest(secret)},
                              {"nonce", nonce},     {"ts", *timestamp},
                              {"refreshed_at", now}, {"user", ""},
                              {"user_number", 0},   {"user_token", ""}};
  // Ended with the application's sessions (CheckSessionApp), if it ends them.
  session.body[kSessionGenerationMember] = SessionGeneration(*app);
  session.expires_at_ms = now + kSessionIdleMs;
  service::Record probe;
  probe.body = session.body;
  session.claims = SessionClaims(probe);
  auto created = s.records.Create(session);
  if (!created) {
    if (created.error().code == ErrorCode::kAlreadyExists) return BaseError(422, "Nonce has already been used");
    return Fail(created.error());
  }
  if (credentials) {
    auto signed_in = SignIn(s, app->environment_id, *credentials, req.peer);
    if (!signed_in) {
      (void)EndSession(s, *created);
      return Fail(signed_in.error());
    }
    auto bound = BindUser(s, *created, signed_in->user, signed_in->session_token);
    if (!bound) {
      (void)s.users.SignOut(signed_in->session_token);
      return Fail(bound.error());
    }
    created = std::move(*bound);
  }
  const std::string token = std::to_string(created->number) + "_" + secret;
  http::Response r = Json(201, json::object{{"session", SessionJson(*created, token)}});
  r.headers.emplace_back("QB-Token-ExpirationDate", ExpirationDate(created->expires_at_ms));
  return r;
}

}  // namespace

void MountSessions(http::Router& router, const Services& s) {
  // Creating a session authenticates by signature; a QB-Token sent along is ignored.
  AddRoute(router, "POST", "/session.json", http::Exec::kWorker,
             [s](const http::Request& req, const http::PathParams&) { return CreateSession(s, req); });

  AddRoute(router, "GET", "/session.json", http::Exec::kInline, [s](const http::Request& req, const http::PathParams&) {
    auto caller = SessionCaller(s, req);
    if (!caller) return Fail(caller.error());
    return WithExpiry(*caller, Json(200, json::object{{"session", SessionJson(*caller->session, caller->token)}}));
  });

  AddRoute(router, "DELETE", "/session.json", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
    auto caller = SessionCaller(s, req);
    if (!caller) return Fail(caller.error());
    if (auto st = EndSession(s, *caller->session); !st) return Fail(st.error());
    return Empty();
  });

  // Signs a user in on the caller's session: the token stays the same.
  AddRoute(router, "POST", "/login.json", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
    auto caller = SessionCaller(s, req);
    if (!caller) return Fail(caller.error());
    auto params = ParseParams(req);
    if (!params) return WithExpiry(*caller, BadRequest(params.error().message));
    auto credentials = ReadCredentials(params->object);
    if (!credentials) return WithExpiry(*caller, ListError(401, "Unauthorized"));
    if (auto st = s.users.Admit(service::ThrottledAction::kSignIn, req.peer, AppCredential(caller->application_id));
        !st)
      return WithExpiry(*caller, Fail(st.error()));
    auto signed_in = SignIn(s, caller->environment_id, *credentials, req.peer);
    if (!signed_in) return WithExpiry(*caller, Fail(signed_in.error()));
    auto bound = BindUser(s, *caller->session, signed_in->user, signed_in->session_token);
    if (!bound) {
      (void)s.users.SignOut(signed_in->session_token);
      return Fail(bound.error().code == ErrorCode::kNotFound ? core::Error{ErrorCode::kUnauthenticated,
                                                                           "Required session does not exist", ""}
                                                             : bound.error());
    }
    if (Member(caller->session->body, "user_token") != signed_in->session_token) EndUserSession(s, *caller->session);
    return WithExpiry(*caller, http::WithETag(Json(202, json::object{{"user", ToWire(signed_in->user)}}),
                                              signed_in->user.version));
  });

  // Signs the user out; the session goes on as an application session.
  AddRoute(router, "DELETE", "/login.json", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
    auto caller = SessionCaller(s, req);
    if (!caller) return Fail(caller.error());
    if (caller->user_id.empty()) return WithExpiry(*caller, Empty());
    EndUserSession(s, *caller->session);
    auto updated = s.records.Update(
        caller->environment_id, kSessionKind, caller->session->id,
        [](service::Record& r) -> core::Status {
          r.body["user"] = "";
          r.body["user_number"] = 0;
          r.body["user_token"] = "";
          return {};
        },
        SessionClaims);
    if (!updated && updated.error().code != ErrorCode::kNotFound) return Fail(updated.error());
    return WithExpiry(*caller, Empty());
  });
}

core::Result<json::object> CreateApplication(Services s, const std::string& environment_name,
                                             const AppSettings& settings) {
  auto environment = s.directory.FindEnvironment(environment_name);
  if (!environment) return std::unexpected(environment.error());
  // The account API key: bound to the identifier "quickblox" and to this API, with a
  // QuickBlox API key's scopes (core::DefaultScopes: it manages the application's users,
  // without PHI or setting passwords unless granted).
  service::KeyGrant grant;
  grant.apis = core::kQuickBloxApi;  // its server-side key: this API only
  grant.scopes = settings.key_scopes;
  auto key = s.directory.CreateApiKey(environment_name, service::KeyRole::kApp, kKeyIdentifier, grant);
  if (!key) return std::unexpected(key.error());
  service::NewRecordRequest app;
  app.environment_id = environment->id;
  app.kind = kAppKind;
  const std::string auth_key = crypto::RandomToken().substr(0, 32);
  const std::string auth_secret = crypto::RandomToken();
  app.body = json::object{{"auth_key", auth_key},
                          {"auth_secret", auth_secret},
                          {"api_key_id", key->info.id},
                          {"allow_user_list", settings.allow_user_list.value_or(false)},
                          {"allow_contact_fields", settings.allow_contact_fields.value_or(false)}};
  app.claims = {{kAppKeyClaim, key->info.id, true}};
  auto created = s.records.Create(app);
  if (!created) {
    (void)s.directory.RevokeApiKey(key->info.id);
    return std::unexpected(created.error());
  }
  return json::object{{"applicationId", created->number},
                      {"authKey", auth_key},
                      {"authSecret", auth_secret},
                      {"apiKey", key->secret},
                      {"allowUserList", settings.allow_user_list.value_or(false)},
                      {"allowContactFields", settings.allow_contact_fields.value_or(false)},
                      {"apiKeyScopes", [&] {
                         json::array names;
                         for (const auto& n : core::ScopeNames(key->info.scopes)) names.emplace_back(n);
                         return names;
                       }()}};
}

}  // namespace roster::dialects::quickblox
