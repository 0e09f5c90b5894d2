// What every PingOne route shares: record kinds, the error shape, the caller (a worker
// application's access token), HAL links, body and query parsing, paging cursors and
// the environment's default population. See docs/dialects/pingone.md.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialects/pingone/jwt.h"
#include "dialects/pingone/pingone.h"
#include "service/attribute_schema.h"

namespace roster::dialects::pingone {

// Record kinds and claims of this dialect ("population" is shared: UserService joins
// default records of every kind, and other dialects may list populations).
inline constexpr const char* kAppKind = "pingone.app";
inline constexpr const char* kAppSecretClaim = "pingone.app.secret";
// The app body's secret generation: 0 at creation, +1 at each rotation (absent: 0).
inline constexpr const char* kAppGenerationMember = "secretGeneration";
inline constexpr const char* kSigningKeyKind = "pingone.signing_key";
inline constexpr const char* kSigningKeyClaim = "pingone.signing_key";
inline constexpr const char* kPopulationKind = "population";
inline constexpr const char* kPopulationNameClaim = "population.name";
// Unique: at most one population per environment holds it (the default one).
inline constexpr const char* kDefaultPopulationClaim = "pingone.population.default";
inline constexpr const char* kAttributeKind = service::kAttributeKind;
inline constexpr const char* kAttributeNameClaim = "pingone.attribute.name";

inline constexpr std::int64_t kTokenLifetimeSeconds = 3600;
inline constexpr const char* kAudience = "urn:roster:pingone:api";
// The issuer of an environment's tokens: "urn:roster:pingone:as:<envID>".
std::string IssuerOf(const std::string& environment_id);

// ---- errors -------------------------------------------------------------------

struct Detail {
  std::string code;  // INVALID_VALUE, REQUIRED_VALUE, UNIQUENESS_VIOLATION, ...
  std::string target;
  std::string message;
  boost::json::object inner;  // innerError, omitted when empty
};

// An error in PingOne's shape {"id","code","message","details":[...]}.
struct ApiError {
  int status = 400;
  std::string code;
  std::string message;
  std::vector<Detail> details;
  std::int64_t retry_after_s = 0;  // 429: sent as Retry-After
};

template <class T>
using Outcome = std::expected<T, ApiError>;
using Done = std::expected<void, ApiError>;

inline std::unexpected<ApiError> Fail(ApiError e) { return std::unexpected(std::move(e)); }

// 400 INVALID_DATA with these details.
ApiError InvalidData(std::vector<Detail> details);
// 400 INVALID_DATA with one detail.
ApiError InvalidValue(std::string target, std::string message, std::string detail_code = "INVALID_VALUE");
ApiError RequiredValue(std::string target, std::string message);
// 400 INVALID_REQUEST: the request as a whole is malformed (not JSON, bad query).
ApiError InvalidRequest(std::string message);
ApiError NotFoundError(std::string message = "The requested resource was not found.");
ApiError UnsupportedMediaType(std::string message);
ApiError Unauthorized();
// From a service error; `target_of` renames a canonical field to a PingOne attribute.
ApiError FromCore(const core::Error& e);

http::Response Render(const ApiError& e);
// The renderer registered for transport errors (404, 405, 413, 503) under /v1.
http::Response TransportError(int status, std::string_view message);
http::Response JsonResponse(int status, const boost::json::value& body);
http::Response NoContent();

// ---- shared state ---------------------------------------------------------------

// Services, configuration, and the signing keys already loaded (they never change once
// created).
class State {
 public:
  explicit State(Services services, Config config = {}) : s(services), config(std::move(config)) {}
  Services s;
  Config config;

  // The environment's token signing key, created (race-safely) when `create` is set.
  // kNotFound when it does not exist and `create` is false.
  core::Result<std::string> SigningKey(const std::string& environment_id, bool create);

 private:
  std::mutex mu_;
  std::map<std::string, std::string, std::less<>> keys_;
};

// ---- the caller --------------------------------------------------------------

// One authenticated API request: the environment of the path, and the links base.
struct Call {
  std::string env;   // environment id from the path, equal to the token's
  std::string base;  // "http://host" for HAL links
  AccessClaims claims;
  core::Principal principal;  // the worker application and its scopes
  const http::Request* req = nullptr;
  const http::PathParams* params = nullptr;
  std::string Param(std::string_view name) const { return std::string(params->Get(name)); }
  std::string EnvUrl() const { return base + "/v1/environments/" + env; }
};

using ApiHandler = std::function<Outcome<http::Response>(State&, const Call&)>;

// The user use cases as the calling application may perform them.
inline service::UserAccess Users(State& st, const Call& call) { return st.s.users.As(call.principal); }

// The worker application a token was issued to, as a principal: its scopes are those
// it was created with (`roster pingone app create --scope`), else a worker app's
// defaults (core::DefaultScopes). kUnauthenticated when the application is gone or the
// token predates its last secret rotation (CheckAppLive).
core::Result<core::Principal> WorkerPrincipal(State& st, const std::string& env, const AccessClaims& claims);

// Wraps a handler: verifies the Bearer token for the path's {envID} (every failure is
// the same 401, whether the environment exists or not) and renders errors.
// `required`: scopes the application must hold for this route (403 otherwise).
http::Handler Api(std::shared_ptr<State> state, ApiHandler handler, core::Scopes required = 0);

// A verified token was issued under the application's current secret (its `gen` is the
// app record's generation; WorkerPrincipal checks it on the record it reads anyway, so a
// rotation by any process is seen by the next request). kUnauthenticated otherwise.
core::Status CheckAppLive(const service::Record& app, const AccessClaims& claims);
// A worker application record's secret generation.
std::int64_t SecretGeneration(const service::Record& app);

// "http(s)://host[:port]" from the request (Host header, X-Forwarded-Proto), or the
// configured public URL when set.
std::string BaseUrl(const Config& config, const http::Request& req);

// ---- bodies and queries ----------------------------------------------------------

// The media type of the request without parameters, lower-cased.
std::string MediaType(const http::Request& req);
// A JSON object body; 400 INVALID_REQUEST otherwise.
Outcome<boost::json::object> ParseBody(const http::Request& req);
// Decoded query (or form) parameters; 400 INVALID_REQUEST for a malformed string or a
// repeated name.
Outcome<std::map<std::string, std::string>> ParseQuery(std::string_view query);
std::string UrlEncode(std::string_view text);

// limit (1..max, default `fallback`) and the cursor's position (0: from the start).
struct Paging {
  int limit = 100;
  std::int64_t after = 0;
};
Outcome<Paging> ReadPaging(const std::map<std::string, std::string>& query, int fallback, int max);
std::string EncodeCursor(std::int64_t after);

// Optional typed members. Absent: nullopt; wrong type: an INVALID_VALUE detail.
Outcome<std::optional<std::string>> OptionalString(const boost::json::object& o, std::string_view key,
                                                   const std::string& target, std::size_t max_chars);
Outcome<std::optional<bool>> OptionalBool(const boost::json::object& o, std::string_view key,
                                          const std::string& target);

// ---- populations -------------------------------------------------------------------

// The default population, creating one named "Default" when the environment has no
// population at all, or promoting the oldest one when none is default (a switch
// interrupted midway). Race-safe through the unique default claim.
// `created` (if given) says whether this call created it.
core::Result<service::Record> EnsureDefaultPopulation(State& st, const std::string& env, bool* created = nullptr);
// Puts every user of the environment who is in no population (created by another
// dialect before PingOne first used the environment) into `population_id`. O(users):
// run once, by `roster pingone app create` when it creates the default population.
core::Status AdoptUsersWithoutPopulation(State& st, const std::string& env, const std::string& population_id);
// The default population if there is one (never writes).
core::Result<std::optional<service::Record>> FindDefaultPopulation(State& st, const std::string& env);
// The population a user is in; a user in none (created by another dialect before the
// environment had populations) is shown in the default one. Empty if neither exists.
core::Result<std::string> PopulationOf(State& st, const std::string& env, const std::string& user_id,
                                       const std::optional<service::Record>& fallback);
std::vector<service::Claim> PopulationClaims(const service::Record& population);
std::string PopulationName(const service::Record& population);
bool PopulationIsDefault(const service::Record& population);

// If-Match (see http/etag.h) on a route of user {userID}, as the write's options, and on
// population {populationID}; a malformed one is 400 INVALID_DATA naming If-Match.
Outcome<service::WriteOptions> UserIfMatch(State& st, const Call& call);
Outcome<std::optional<std::int64_t>> PopulationIfMatch(State& st, const Call& call);

// The population as PingOne returns it (with userCount: its members).
Outcome<boost::json::object> PopulationWire(State& st, const Call& call, const service::Record& population);

// ---- passwords ---------------------------------------------------------------------

// Whether `value` is a pre-encoded password ("{SCHEME}..."), which is stored as is.
bool IsEncodedPassword(std::string_view value);
// The password policy cleartext passwords must meet (PingOne's standard policy): 400
// INVALID_DATA naming `target`, with innerError.unsatisfiedRequirements.
Done CheckPasswordPolicy(std::string_view password, const std::string& username, const std::string& target);

void MountToken(http::Router& router, std::shared_ptr<State> state);
void MountEnvironment(http::Router& router, std::shared_ptr<State> state);
void MountPopulations(http::Router& router, std::shared_ptr<State> state);
void MountSchemas(http::Router& router, std::shared_ptr<State> state);
void MountUsers(http::Router& router, std::shared_ptr<State> state);
void MountPasswords(http::Router& router, std::shared_ptr<State> state);
void MountGroups(http::Router& router, std::shared_ptr<State> state);

}  // namespace roster::dialects::pingone
