// What every Catalyze route shares: the caller model (X-Api-Key + optional Bearer),
// permissions, body parsing, and error rendering in Catalyze's shape.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "dialects/catalyze/catalyze.h"
#include "service/user_access.h"

namespace roster::dialects::catalyze {

// The caller of one request: an API key, and the user session if a Bearer was sent.
struct Caller {
  service::ApiKeyInfo key;
  std::optional<service::Session> session;
  std::string token;  // the Bearer token as sent (for sign-out), empty without one
  core::Principal principal;  // the key, or the session's user through the key
};

// The user use cases as the caller may perform them.
inline service::UserAccess Users(const Services& s, const Caller& caller) { return s.users.As(caller.principal); }

http::Response Fail(const core::Error& e);
http::Response Ok(const boost::json::value& body);

// Whether a route looks at the caller's session. The SDKs send `Authorization: Bearer`
// on every call, before any session exists (iOS `Bearer (null)`, Android `Bearer null`,
// the JS SDK `Bearer undefined`, or an old token): routes that need no session (sign-up,
// sign-in, username reminders, resets) ignore whatever token came.
enum class SessionUse { kUse, kIgnore };

// An absent, empty, `(null)`, `null` or `undefined` Bearer is no session on any route;
// on a kUse route any other token must be a live session of the key's environment (401).
core::Result<Caller> Authenticate(const Services& s, const http::Request& req, SessionUse use = SessionUse::kUse);
// A credential that reads no other user must come with a session (Catalyze's 401).
core::Status NeedsSession(const Caller& caller);
// May the caller read `users_id` (its own user, or profile:read)?
core::Status MayActOn(const Caller& caller, std::string_view users_id);
// Groups are managed with groups:write, or by a supervisor's session, whose scopes
// grow by core::kSupervisorScopes.
core::Status MaySupervise(const Services& s, Caller& caller);
core::Status MustHave(const Caller& caller, core::Scope scope);
// Whether the caller's session user is one of the environment's supervisors.
core::Result<bool> IsSupervisor(const Services& s, const Caller& caller);
// A supervisor's session acting on another user of its application: reads them, and with
// `write` changes them (activation included). Adds those scopes; nothing otherwise.
core::Status SuperviseUsers(const Services& s, Caller& caller, std::string_view users_id, bool write);
// `{appId}` in a path names the caller's environment, by id or by name.
core::Status CheckAppId(const Services& s, const Caller& caller, std::string_view app_id);

// One token of `action`'s throttle for the client's address and the caller's API key
// (service::Throttle); kResourceExhausted with a retry-after when spent.
core::Status Admit(const Services& s, const Caller& caller, const http::Request& req, service::ThrottledAction action);

core::Result<boost::json::object> ParseBody(const http::Request& req);
// A required, non-empty string member of `body`; kInvalidArgument naming it.
core::Result<std::string> RequiredString(const boost::json::object& body, const char* key, std::size_t max_bytes);

inline constexpr const char* kSupervisorKind = "catalyze.role";
inline constexpr const char* kSupervisorClaim = "catalyze.role";

// The link a mail carries to one of the pages (src/dialects/pages/): the public URL, the
// page's path and the environment; the token is appended.
std::string PageLink(const Config& config, std::string_view page, const std::string& environment_id);

void MountUsers(http::Router& router, const Services& s, const Config& config);
void MountAuth(http::Router& router, const Services& s, const Config& config);
void MountGroups(http::Router& router, const Services& s);

}  // namespace roster::dialects::catalyze
