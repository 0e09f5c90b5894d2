// What every QuickBlox route shares: request parameters (form or JSON), the caller model
// (QB-Token session or `Authorization: ApiKey`), permissions, and QuickBlox's error shapes.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialects/quickblox/form.h"
#include "dialects/quickblox/quickblox.h"
#include "service/user_access.h"

namespace roster::dialects::quickblox {

// Record kinds and claims this dialect keeps (see docs/dialects/quickblox.md).
inline constexpr const char* kAppKind = "quickblox.app";
inline constexpr const char* kAppKeyClaim = "quickblox.app.api_key";
inline constexpr const char* kSessionKind = "quickblox.session";
// A session record carries the unique claim "<application>:<timestamp>:<nonce>" of the
// request that created it, so the same request is accepted once.
inline constexpr const char* kNonceClaim = "quickblox.nonce";
inline constexpr const char* kResetKind = "quickblox.reset";
inline constexpr const char* kResetClaim = "quickblox.reset";
// An application's session generation (body member of the application and of each
// session, absent: 0): `rotate-secret --end-sessions` moves the application's on, and a
// session made under another generation is refused.
inline constexpr const char* kSessionGenerationMember = "session_generation";
// The identifier the application's API key is bound to.
inline constexpr const char* kKeyIdentifier = "quickblox";

// Sessions live 2 hours after their last request; the expiry moves at most once a minute.
inline constexpr std::int64_t kSessionIdleMs = 2 * 60 * 60 * 1000;
inline constexpr std::int64_t kSessionRefreshMs = 60 * 1000;
// A session request's timestamp may be this far from the server's clock either way.
inline constexpr std::int64_t kTimestampWindowS = 60 * 60;

// ---- parameters ---------------------------------------------------------------------

// The request's parameters as one JSON object: the body (JSON, or form-urlencoded with
// `user[field]=` keys) merged with the query string (the body wins on a repeated key).
// `pairs` are the decoded `key=value` pairs a session signature is computed over.
struct Params {
  boost::json::object object;
  std::vector<FormPair> pairs;
  const http::Request* request = nullptr;  // set by the users routes, for headers (If-Match)
};

// kInvalidArgument for a malformed body or query (rendered as 400).
core::Result<Params> ParseParams(const http::Request& req);

// Members of a record body: an integer (0 if absent or another type), a string ("").
std::int64_t IntMember(const boost::json::object& o, std::string_view key);
std::string StringMember(const boost::json::object& o, std::string_view key);

// A parameter as text: a string as is, a number or boolean as written in JSON; nullopt
// when absent; an empty string for JSON null.
std::optional<std::string> Text(const boost::json::object& o, std::string_view key);

// ---- errors -------------------------------------------------------------------------

// 422 {"errors": {field: [messages]}}, Rails-style: every failing field at once.
class FieldErrors {
 public:
  void Add(std::string_view field, std::string_view message);
  bool empty() const { return errors_.empty(); }
  bool Has(std::string_view field) const { return errors_.contains(field); }
  http::Response Response() const;

 private:
  boost::json::object errors_;
};

// {"errors": {"base": [message]}}
http::Response BaseError(int status, std::string_view message);
// {"errors": [message]} (the shape of 401s; the SDK's session-expired hook reads it)
http::Response ListError(int status, std::string_view message);
// 400 {"code": null, "message": message}
http::Response BadRequest(std::string_view message);
inline http::Response NoData() { return BadRequest("No data was provided"); }
http::Response NotFound();
// A core error in QuickBlox's shape: kInvalidArgument 422 naming the field,
// kUnauthenticated 401, kPermissionDenied 403, kNotFound 404, kAlreadyExists 422
// "has already been taken", kResourceExhausted 429, kAborted 409, kVersionMismatch 412
// (If-Match), a malformed If-Match 400, 5xx generic.
http::Response Fail(const core::Error& e);
// The throttle's credential id of an application (service::Throttle).
inline std::string AppCredential(std::int64_t application_id) { return "qb-app:" + std::to_string(application_id); }
// Transport errors (404, 405, 413, 503...) under the dialect's paths.
http::Response RenderTransportError(int status, std::string_view message);

http::Response Json(int status, const boost::json::value& body);
// 200 with an empty body: what QuickBlox answers to DELETE (the SDK reads it as text).
http::Response Empty();

// ---- callers ------------------------------------------------------------------------

struct Caller {
  std::string environment_id;
  std::int64_t application_id = 0;
  bool api_key = false;  // `Authorization: ApiKey`: acts for the whole application
  // QB-Token callers: the session record and its token as sent.
  std::optional<service::Record> session;
  std::string token;
  std::string user_id;             // the session's user (UUID), empty for an application session
  std::int64_t expires_at_ms = 0;  // the session's expiry after this request
  core::Principal principal;       // the application (its settings), the API key, or the user
};

// The user use cases as the caller may perform them.
inline service::UserAccess Users(const Services& s, const Caller& caller) { return s.users.As(caller.principal); }

// An application's scopes: sign-up and users by id (core::DefaultScopes), plus listing
// and search (`allow_user_list`) and other users' email and phone (`allow_contact_fields`)
// when its settings allow them, as the QuickBlox dashboard's own settings do.
core::Scopes ApplicationScopes(const boost::json::object& app_body);

// Authenticates QB-Token (preferred when both are sent) or `Authorization: ApiKey <key>`.
// kUnauthenticated "Token is required" without either, "Required session does not exist"
// for an unknown, expired or ended session (or one whose user's session was revoked).
core::Result<Caller> Authenticate(const Services& s, const http::Request& req);

// The session was made under its application's current session generation and for its
// environment (apps.cc); AuthenticateToken checks it on the application record it reads
// anyway. kUnauthenticated "Required session does not exist" otherwise.
core::Status CheckSessionApp(const service::Record& app, const service::Record& session);
// An application record's session generation.
std::int64_t SessionGeneration(const service::Record& app);

// An application session (no user) that may not change users is told it needs a user,
// in QuickBlox's words; what else may change whom is the core's rule (service::UserAccess).
core::Status MayChange(const Caller& caller, const std::string& user_id);

// "YYYY-MM-DD HH:MM:SS UTC", the QB-Token-ExpirationDate format.
std::string ExpirationDate(std::int64_t ms);
// Adds QB-Token-ExpirationDate for a session caller.
http::Response WithExpiry(const Caller& caller, http::Response response);

// The session token is "<record number>_<secret>"; the record keeps a digest of the secret.
std::string SecretDigest(std::string_view secret);
// The claims of a session record (its nonce claim), re-derived on every update since an
// update replaces all of a record's claims.
std::vector<service::Claim> SessionClaims(const service::Record& session);

// ---- users (users.cc) ---------------------------------------------------------------

// The environment's user with QuickBlox id `number`, archived users excluded. kNotFound.
core::Result<core::User> UserByNumber(service::UserAccess users, std::int64_t number);
// Parses a path id "123.json" (or "123"): a positive integer, else nullopt.
std::optional<std::int64_t> PathId(std::string_view segment);

// Sets the user's last_request_at to now: a bookkeeping write (updated_at stays), made at
// sign-in and then at most once per session refresh interval.
core::Result<core::User> TouchUser(const Services& s, const std::string& environment_id, const std::string& user_id);

// Adds a route at `pattern` and, when it ends in ".json", at the same path without it:
// QuickBlox serves `/users` as `/users.json`, `/session` as `/session.json`, ...
void AddRoute(http::Router& router, std::string_view method, std::string_view pattern, http::Exec exec,
              const http::Handler& handler);

void MountSessions(http::Router& router, const Services& s);
// `public_url`: what the reset mail's link (the reset page) starts with.
void MountUsers(http::Router& router, const Services& s, const std::string& public_url);

}  // namespace roster::dialects::quickblox
