// PingOne user JSON <-> the canonical user. Pure functions, no I/O. The mapping table
// lives in docs/dialects/pingone.md; keep them in step.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>

#include "core/user.h"
#include "dialects/pingone/common.h"
#include "dialects/pingone/schema.h"

namespace roster::dialects::pingone {

enum class WriteMode {
  kCreate,   // POST (plain or import): applied to an empty user
  kReplace,  // PUT: every PingOne attribute absent from the body is cleared
  kMerge,    // PATCH: only attributes present change; null clears one
};

// What a body asks for besides profile attributes.
struct UserRequest {
  std::optional<std::string> population_id;  // population.id
  std::optional<bool> enabled;
  std::optional<bool> mfa_enabled;
  std::optional<std::string> password;  // import: password.value (cleartext or pre-encoded)
  bool force_change = false;            // import: password.forceChange
};

// The PingOne-only part of a user: dialect_json["pingone"] ({} if absent).
boost::json::object PingOneState(const core::User& user);
void SetPingOneState(core::User& user, const boost::json::object& state);
bool MfaEnabled(const core::User& user);

// Applies the PingOne attributes of `body` to `user`, validating everything and
// reporting every bad attribute at once (400 INVALID_DATA, one detail each). Read-only
// attributes (id, createdAt, _links, ...) are ignored, as are custom attributes that are
// not declared and enabled in `schema` (never stored). On kReplace/kMerge, `enabled`,
// `mfaEnabled` and `population` are only returned for the caller to compare: they have
// their own resources. `import` accepts `password` and `lifecycle.status`.
Outcome<UserRequest> ApplyUser(const boost::json::object& body, core::User& user, WriteMode mode, const Schema& schema,
                               bool import);

struct WireContext {
  std::string env;
  std::string env_url;        // ".../v1/environments/{envID}"
  std::string population_id;  // empty: unknown
  const Schema* schema = nullptr;
  std::int64_t now_ms = 0;  // judges account locks that end by themselves
};

// The user as PingOne returns it, with HAL links.
boost::json::object UserWire(const core::User& user, const WireContext& ctx);

}  // namespace roster::dialects::pingone
