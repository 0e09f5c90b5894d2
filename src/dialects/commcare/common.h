// What every CommCare route shares: the caller model (a web user, by its API key sent as
// `ApiKey <email>:<key>` or HTTP Basic, or by its password over Basic or Digest), the domain check, body parsing and the two
// CommCare error shapes.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "dialects/commcare/commcare.h"
#include "dialects/commcare/mapping.h"
#include "service/web_users.h"

namespace roster::dialects::commcare {

// The services plus the start-up configuration every handler needs.
struct Context {
  Services s;
  std::string account_root;  // HQ_ACCOUNT_ROOT, e.g. "commcarehq.org"
  std::string public_url;    // where the pages the mails link to are served
};

// What a mailed link to `/pages/<page>?env=<environment_id>&token=` starts with (the
// token is appended): the confirmation and invitation mails' links.
std::string PageLink(const Context& c, std::string_view page, const std::string& environment_id);

// An authenticated web user acting on the domain named in the URL.
struct Caller {
  service::ApiKeyInfo key;
  std::string email;        // normalized (lower-cased)
  std::string web_user_id;  // its record id
  service::Environment domain;
  core::Principal principal;  // the web user's key and its scopes
};

// The realm of Basic and Digest challenges: CommCare HQ's (django-digest's default). A
// web user's stored Digest secrets are computed for it (service/http_credentials.h).
inline constexpr const char* kDigestRealm = service::kWebUserDigestRealm;

// Web users are records of this kind with a unique claim on the normalized email; the
// body holds {"email", "key_id"}.
inline constexpr const char* kWebUserKind = service::kWebUserKind;  // service/web_users.h
inline constexpr const char* kWebUserEmailClaim = service::kWebUserEmailClaim;

// A web user deactivated in its project space (POST .../web-user/{id}/deactivate/) has
// body "is_active": false: its credentials are refused there until it is activated.
inline bool WebUserEnabled(const service::Record& web_user) {
  const auto* v = web_user.body.if_contains("is_active");
  return !(v && v->is_bool() && !v->get_bool());
}

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
// Credentials: `ApiKey <email>:<key>`, Basic with the key or the web user's password,
// Digest (MD5 or SHA-256, qop=auth) with its password. A mobile worker's own password
// (Basic or Digest) is checked in its domain, then refused: 403 (kWorkerNoApiAccess) in
// its own domain, NoAccess in another. A key works in every domain where
// its email is a web user with a live key (acting with that membership's scopes).
core::Result<Caller> Authorize(const Context& c, const http::Request& req, std::string_view domain);
// A mobile worker signed in with its own password (Basic or Digest), in its domain.
struct Worker {
  core::User user;
  service::Environment domain;
};
// The 403 of a mobile worker on a project space's API (CommCare's
// require_api_permission('access_api'): the mobile-worker role grants no API access).
inline constexpr std::string_view kWorkerNoApiAccess =
    "Mobile workers do not have API access: their role does not grant 'access_api'.";

// For the routes outside a project space (identity, user_domains): a web user's own key,
// as `ApiKey` or Basic (no web-user password: there is no domain to hold one), or a mobile
// worker's own password over Basic (its username names its domain).
struct KeyHolder {
  std::string email;
  service::ApiKeyInfo key;
  service::Record web_user;  // in the key's own domain
  std::optional<Worker> worker;  // set (and key, web_user empty) for a mobile worker
};
core::Result<KeyHolder> AuthorizeKey(const Context& c, const http::Request& req);
// The caller `email` is in the environment: a web user there, enabled, with a live key
// (acting with its scopes); nullopt otherwise.
core::Result<std::optional<Caller>> CallerOf(const Context& c, const service::Environment& env,
                                             const std::string& email);
// `Authorization: Bearer <token>` (oauth.cc): an OAuth2 access token of a web user,
// acting in `domain` as its membership there does, if the token's scopes reach it
// (kPermissionDenied otherwise); kUnauthenticated for an unknown, expired or ended token.
core::Result<Caller> AuthorizeBearer(const Context& c, std::string_view token, std::string_view domain);
// The same outside a project space (identity, user_domains): the web user in the
// token's own project space.
core::Result<KeyHolder> AuthorizeBearerKey(const Context& c, std::string_view token);
// Whether `email` is a web user of the environment with a live key (a member there).
core::Result<bool> IsMember(const Context& c, const service::Environment& env, const std::string& email);

// The 401 for `e`, with the Digest (SHA-256, MD5; stale=true for an expired nonce) and
// Basic challenges.
http::Response Challenge(const Context& c, std::string_view domain, const core::Error& e);

core::Result<boost::json::object> ParseBody(const http::Request& req);
// `format`: json (the default) or xml (Tastypie's XML, rendered by Negotiated); others 400.
core::Status CheckFormat(const std::vector<QueryParam>& query);

// Runs `body` for an authorized caller; errors rendered in `shape`.
template <class F>
http::Handler Authorized(const Context& c, Shape shape, F body) {
  return [c, shape, body](const http::Request& req, const http::PathParams& params) {
    auto caller = Authorize(c, req, params.Get("domain"));
    if (!caller) {
      if (caller.error().code == core::ErrorCode::kUnauthenticated)
        return Challenge(c, params.Get("domain"), caller.error());
      return Fail(caller.error(), shape);
    }
    return body(*caller, req, params);
  };
}

// Every URL version CommCare serves `resource` at, mapped onto one handler: v0.4 and v0.5
// (/a/{domain}/api/v0.5/user) and the 2024 form (/a/{domain}/api/user/v1). `suffix`
// ("", "/{id}", "/{id}/activate") follows the resource.
std::vector<std::string> RoutesFor(std::string_view resource, std::string_view suffix = "");
// Every route answers in the format asked for (json, or Tastypie's XML: xml.h).
void AddRoutes(http::Router& router, const char* method, std::string_view resource, std::string_view suffix,
               http::Exec exec, const http::Handler& handler);
// `handler` answering XML when the request asks for it (xml.h's AsRequested).
http::Handler Negotiated(http::Handler handler);
// The list URI the request was made at, with CommCare's trailing slash
// ("/a/demo/api/user/v1/"): meta.next and previous keep the client's version.
std::string RequestListUri(const http::Request& req);

void MountUsers(http::Router& router, const Context& c);
void MountGroups(http::Router& router, const Context& c);
void MountWebUsers(http::Router& router, const Context& c);
void MountIdentity(http::Router& router, const Context& c);
void MountBulkUsers(http::Router& router, const Context& c);
void MountLocations(http::Router& router, const Context& c);
void MountInvitations(http::Router& router, const Context& c);
// /oauth/authorize/, /oauth/token/, /.well-known/oauth-authorization-server (oauth.cc).
void MountOAuth(http::Router& router, const Context& c);
// `roster commcare oauth-client create|list|delete`.
void AddOAuthCommands(CLI::App& commcare, const AddCommand& add);

}  // namespace roster::dialects::commcare
