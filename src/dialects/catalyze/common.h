// What every Catalyze route shares: the caller model (X-Api-Key + optional Bearer),
// permissions, body parsing, and error rendering in Catalyze's shape.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "dialects/catalyze/catalyze.h"

namespace roster::dialects::catalyze {

// The caller of one request: an API key, and the user session if a Bearer was sent.
struct Caller {
  service::ApiKeyInfo key;
  std::optional<service::Session> session;
  std::string token;  // the Bearer token as sent (for sign-out), empty without one
};

http::Response Fail(const core::Error& e);
http::Response Ok(const boost::json::value& body);

core::Result<Caller> Authenticate(const Services& s, const http::Request& req);
// Admin keys act on every user of their environment; anyone else only on the user of
// their own session.
core::Status MayActOn(const Caller& caller, std::string_view users_id);
// Groups and supervisors are managed with an admin key or by a supervisor's session.
core::Status MaySupervise(const Services& s, const Caller& caller);
core::Status MustBeAdmin(const Caller& caller);
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

void MountUsers(http::Router& router, const Services& s);
void MountAuth(http::Router& router, const Services& s);
void MountGroups(http::Router& router, const Services& s);

}  // namespace roster::dialects::catalyze
