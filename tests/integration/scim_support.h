// What the SCIM suites share: a bearer token made with the CLI, a client that speaks
// /scim/v2 with it, and the checks of RFC 7644's message shapes (errors §3.12,
// ListResponse §3.4.2).
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "integration/harness.h"

namespace roster::testing::scim {

inline constexpr const char* kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr const char* kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
inline constexpr const char* kEnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr const char* kPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr const char* kListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr const char* kErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr const char* kBulkRequest = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
inline constexpr const char* kBulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

// `roster scim token create --env ENV [--scope S ...] --json`: the token.
std::string CreateToken(const std::string& data_dir, const std::string& env = "default",
                        const std::vector<std::string>& scopes = {});

// A name unique in this process and among concurrent test processes.
std::string Unique(const std::string& prefix);

// A client of one server's /scim/v2 with one token. Paths are relative to /scim/v2.
class ScimClient {
 public:
  ScimClient(const std::string& base_url, std::string token) : client_(base_url), token_(std::move(token)) {}
  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body = "",
                    Headers extra = {});
  HttpResponse Send(const std::string& method, const std::string& path, const boost::json::value& body,
                    Headers extra = {}) {
    return Send(method, path, boost::json::serialize(body), std::move(extra));
  }
  const std::string& token() const { return token_; }

 private:
  Client client_;
  std::string token_;
};

// {"schemas":[Error], "status": "<status>" (a string, §3.12), "detail": ...} as
// application/scim+json with the HTTP status `status`, `scim_type` when not empty, and a
// detail containing `mentions` when not empty.
void ExpectError(const HttpResponse& r, long status, const std::string& scim_type = "",
                 const std::string& mentions = "");
// A 200 ListResponse whose totalResults is `total`; returns its Resources.
boost::json::array ExpectList(const HttpResponse& r, std::int64_t total);
// The string member `key` of an object, or "".
std::string Str(const boost::json::value& v, std::string_view key);

}  // namespace roster::testing::scim
