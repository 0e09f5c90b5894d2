// What every SCIM route shares: schema URNs and limits, the error shape (RFC 7644
// §3.12), the caller (a bearer token), the Context and Reply every resource operation
// takes and gives (so /Bulk runs the same functions as the routes), request parsing,
// attribute projection (§3.4.2.5), list responses and ETags. See docs/dialects/scim.md.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialects/scim/scim.h"
#include "http/etag.h"
#include "service/user_access.h"
#include "service/user_resource.h"

namespace roster::dialects::scim {

inline constexpr std::string_view kPrefix = "/scim/v2";
inline constexpr std::string_view kContentType = "application/scim+json";

// Schema URNs (RFC 7643 §8.7, RFC 7644 §3.12 and §3.5.2, and Roster's own).
inline constexpr std::string_view kUserSchema = service::kUserSchema;
inline constexpr std::string_view kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
// The user's extensions (service/user_resource.h): enterprise, Roster's health fields,
// and the environment's declared attributes by name (its schema generated per environment).
inline constexpr std::string_view kEnterpriseSchema = service::kEnterpriseSchema;
inline constexpr std::string_view kHealthSchema = service::kHealthSchema;
inline constexpr std::string_view kAttributesSchema = service::kAttributesSchema;
inline constexpr std::string_view kListResponseSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr std::string_view kErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr std::string_view kPatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr std::string_view kSearchRequestSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
inline constexpr std::string_view kBulkRequestSchema = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
inline constexpr std::string_view kBulkResponseSchema = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
inline constexpr std::string_view kServiceProviderConfigSchema =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
inline constexpr std::string_view kResourceTypeSchema = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
inline constexpr std::string_view kSchemaSchema = "urn:ietf:params:scim:schemas:core:2.0:Schema";

// Limits, advertised by /ServiceProviderConfig exactly as enforced.
inline constexpr int kDefaultCount = 100;     // a list page without `count`
inline constexpr int kMaxResults = 1000;      // filter.maxResults: a page holds at most this
inline constexpr int kMaxOperations = 1000;   // bulk.maxOperations
inline constexpr std::size_t kMaxPayloadSize = 1 << 20;  // bulk.maxPayloadSize, bytes
inline constexpr int kMaxPatchOperations = 1000;         // operations in one PatchOp
// Users read at most to answer one list request that must see every match (a total,
// or sortBy); more: 400 tooMany (ask for a narrower filter, or page with a cursor).
inline constexpr int kListBudget = 10000;

// ---- errors (RFC 7644 §3.12) -----------------------------------------------------

struct Error {
  int status = 400;
  std::string scim_type;  // invalidFilter, tooMany, uniqueness, mutability, invalidSyntax,
                          // invalidPath, noTarget, invalidValue, invalidVers, sensitive; or empty
  std::string detail;
  std::int64_t retry_after_s = 0;  // 429: Retry-After
};

template <class T>
using Outcome = std::expected<T, Error>;

inline std::unexpected<Error> Fail(Error e) { return std::unexpected(std::move(e)); }
// 400 with this scimType.
Error BadRequest(std::string scim_type, std::string detail);
Error NotFoundError(std::string detail = "Resource not found");
// From a service error: 400 invalidValue naming the field, 409 uniqueness, 404, 412,
// 403, 401, 429, 503.
Error FromCore(const core::Error& e);
// The error as a SCIM body (Bulk puts it in an operation's `response`).
boost::json::object ErrorBody(const Error& e);

// ---- replies ---------------------------------------------------------------------

// What one resource operation gives: the HTTP route and /Bulk render it each their way.
struct Reply {
  int status = 200;
  boost::json::value body;                // null: no body (204)
  std::string location;                   // a created resource's URL
  std::optional<std::int64_t> version;    // sent as ETag W/"<version>"
};
using Result = Outcome<Reply>;

http::Response Render(const Error& e);
http::Response Render(const Reply& reply);
// The renderer registered for transport errors (404, 405, 413, 503) under /scim/v2.
http::Response TransportError(int status, std::string_view message);

// ---- the caller ---------------------------------------------------------------------

// Everything a resource operation needs: the services, who calls, and where it lives.
struct Context {
  Services s;
  core::Principal principal;
  std::string base;  // "https://host/scim/v2": the prefix of every location
  // Bulk's maxPayloadSize: kMaxPayloadSize, or the server's body limit if smaller.
  std::size_t max_payload = kMaxPayloadSize;
  service::UserAccess Users() const { return s.users.As(principal); }
  std::string UserLocation(std::string_view id) const { return base + "/Users/" + std::string(id); }
  std::string GroupLocation(std::string_view id) const { return base + "/Groups/" + std::string(id); }
};

// `Authorization: Bearer <token>`: a SCIM token (or an admin key) of some environment,
// which is the tenant. 401 (with WWW-Authenticate) for anything else.
Outcome<Context> Authenticate(const Services& s, const Config& config, const http::Request& req);

// ---- requests ---------------------------------------------------------------------

// A JSON object body: 400 invalidSyntax otherwise (or when larger than the limits of
// the JSON reader). An empty media type or application/json or application/scim+json.
Outcome<boost::json::object> ParseBody(const http::Request& req);
// Query parameters; a repeated one is 400 invalidSyntax.
Outcome<std::map<std::string, std::string>> ParseQuery(std::string_view query);

// The member `name` of `o`, compared case-insensitively (SCIM names are).
const boost::json::value* Member(const boost::json::object& o, std::string_view name);
// Case-insensitive ASCII equality.
bool IEquals(std::string_view a, std::string_view b);
// The `schemas` member lists `urn` (case-insensitively); 400 invalidSyntax if it lacks
// it or is not an array of strings.
Outcome<void> RequireSchema(const boost::json::object& body, std::string_view urn);

// If-Match, from the header or a Bulk operation's `version`.
using Precondition = std::optional<http::IfMatch>;
Outcome<Precondition> PreconditionOf(const http::Request& req);
Outcome<Precondition> PreconditionOf(std::string_view if_match_value);
// The version a write must find (WriteOptions::expected_version): nullopt without one or
// with "*"; `current` is read only when several tags are listed.
core::Result<std::optional<std::int64_t>> ExpectedVersion(const Precondition& p,
                                                          const std::function<core::Result<std::int64_t>()>& current);

// ---- attribute projection (RFC 7644 §3.4.2.5) -------------------------------------

// One attribute named by `attributes`/`excludedAttributes`: [urn ":"] name ["." sub].
struct AttrRef {
  std::string urn;   // empty: the resource's core schema; else the extension's URN (as given)
  std::string name;  // empty: the whole extension named by urn
  std::string sub;
};
struct Projection {
  std::vector<AttrRef> attributes;  // non-empty: return only these (and what is always returned)
  std::vector<AttrRef> excluded;
};
// From the comma-separated lists; 400 invalidValue naming the parameter when malformed.
Outcome<Projection> ParseProjection(std::string_view attributes, std::string_view excluded);
// Applies the projection to a rendered resource whose core schema is `core_urn`; `id`,
// `schemas` and the names in `always` are always kept.
void Project(boost::json::object& resource, const Projection& projection, std::string_view core_urn,
             std::initializer_list<std::string_view> always = {});

// ---- lists ------------------------------------------------------------------------

// startIndex (1-based; below 1 is 1) and count (0..kMaxResults; default kDefaultCount;
// negative is 0), from the query or a SearchRequest.
struct Page {
  std::int64_t start_index = 1;
  int count = kDefaultCount;
};
Outcome<Page> ParsePage(std::string_view start_index, std::string_view count);

boost::json::object ListResponse(std::vector<boost::json::value> resources, std::int64_t total, std::int64_t start_index);

// RFC 3339 UTC with milliseconds, as meta.created / meta.lastModified.
std::string Timestamp(std::int64_t ms);
boost::json::object Meta(std::string_view resource_type, std::int64_t created_ms, std::int64_t modified_ms,
                         std::string location, std::int64_t version);

}  // namespace roster::dialects::scim
