// What every CommCare route shares: the caller model (a web user's API key, sent as
// `ApiKey <email>:<key>` or HTTP Basic), the domain check, body parsing and the two
// CommCare error shapes.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "dialects/commcare/commcare.h"
#include "dialects/commcare/mapping.h"

namespace roster::dialects::commcare {

// The services plus the start-up configuration every handler needs.
struct Context {
  Services s;
  std::string account_root;  // HQ_ACCOUNT_ROOT, e.g. "commcarehq.org"
};

// An authenticated web user acting on the domain named in the URL.
struct Caller {
  service::ApiKeyInfo key;
  std::string email;        // normalized (lower-cased)
  std::string web_user_id;  // its record id
  service::Environment domain;
  core::Principal principal;  // the web user's key and its scopes
};

// Web users are records of this kind with a unique claim on the normalized email; the
// body holds {"email", "key_id"}.
inline constexpr const char* kWebUserKind = "commcare.web_user";
inline constexpr const char* kWebUserEmailClaim = "commcare.web_user.email";

// The user and web-user APIs answer {"error": "..."}; the group API {"error_message": "..."}.
enum class Shape { kError, kErrorMessage };

int StatusOf(core::ErrorCode code);
http::Response ErrorResponse(int status, std::string_view message, Shape shape = Shape::kError);
// Renders a service error: 4xx with its message; 5xx with a generic one. Credentials
// errors (401, 403) are {"error"} whatever the shape, as CommCare's authentication layer.
http::Response Fail(const core::Error& e, Shape shape = Shape::kError);
http::Response Json(int status, const boost::json::value& body);
// A response without a body (CommCare's 202 for retire, 204 for group delete).
http::Response Empty(int status);

// Authenticates the caller and checks that `domain` is the key's domain: kUnauthenticated
// (401) for missing, malformed or unknown credentials, kPermissionDenied (403) for valid
// credentials of another (or no such) domain.
core::Result<Caller> Authorize(const Context& c, const http::Request& req, std::string_view domain);

core::Result<boost::json::object> ParseBody(const http::Request& req);
// `format`: only json (the default) is served.
core::Status CheckFormat(const std::vector<QueryParam>& query);

// Runs `body` for an authorized caller; errors rendered in `shape`.
template <class F>
http::Handler Authorized(const Context& c, Shape shape, F body) {
  return [c, shape, body](const http::Request& req, const http::PathParams& params) {
    auto caller = Authorize(c, req, params.Get("domain"));
    if (!caller) return Fail(caller.error(), shape);
    return body(*caller, req, params);
  };
}

void MountUsers(http::Router& router, const Context& c);
void MountGroups(http::Router& router, const Context& c);
void MountWebUsers(http::Router& router, const Context& c);

}  // namespace roster::dialects::commcare
