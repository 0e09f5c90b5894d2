// Authority: who may see and change what. Every credential (API key, PingOne worker
// application, QuickBlox application, CommCare web-user key, user session) becomes a
// Principal: the environment it belongs to, the API it was presented to, its scopes,
// and, for a user's own session, that user. The rules below are the directory's, not any
// API's: service::UserAccess applies them on every call, and each dialect only says
// which credential it authenticated. Pure values, no I/O.
//
// A principal acting on another user needs the scope for it; a user acting on itself
// always reads and writes its own profile, PHI included (the right of access), and sets
// its own password without the current one only where its session has password:set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/schema.h"
#include "core/user.h"

namespace roster::core {

// Scopes, as bits of one word.
enum Scope : std::uint32_t {
  kProfileRead = 1u << 0,       // read other users' profiles (by id)
  kProfileWrite = 1u << 1,      // create, change and delete other users
  kPhiRead = 1u << 2,           // receive PHI fields of other users
  kPhiWrite = 1u << 3,          // write PHI fields of other users
  kPasswordSet = 1u << 4,       // set a password without the current one
  kGroupsWrite = 1u << 5,       // create, change, delete groups and populations; memberships
  kSchemaWrite = 1u << 6,       // declare and change the environment's attributes
  kCredentialsAdmin = 1u << 7,  // create, rotate and revoke credentials; grant roles
  kUsersList = 1u << 8,         // list and search users
  kContactRead = 1u << 9,       // receive other users' email addresses and phone numbers
  kSignUp = 1u << 10,           // create a user account for oneself (self sign-up)
};
using Scopes = std::uint32_t;
inline constexpr Scopes kAllScopes = (1u << 11) - 1;

// "profile:read", ...; in bit order.
std::vector<std::string> ScopeNames(Scopes scopes);
// The scopes named; "*" or "all" is every scope. nullopt naming the first unknown one
// in `unknown`.
std::optional<Scopes> ParseScopes(const std::vector<std::string>& names, std::string* unknown = nullptr);
std::string_view ScopeName(Scope scope);
// `--scope` values of a command: nullopt when none are given (the defaults apply);
// kInvalidArgument (field "scope") naming an unknown one.
Result<std::optional<Scopes>> ScopesFromNames(const std::vector<std::string>& names);

// The APIs a credential may be presented to, as bits.
enum Api : std::uint32_t {
  kCatalyzeApi = 1u << 0,
  kPingOneApi = 1u << 1,
  kQuickBloxApi = 1u << 2,
  kCommCareApi = 1u << 3,
  kScimApi = 1u << 4,
};
using Apis = std::uint32_t;
inline constexpr Apis kAllApis = (1u << 5) - 1;
std::string_view ApiName(Api api);
// "catalyze", "pingone", "quickblox", "commcare", "scim"; "all" or "*" is every API.
std::optional<Apis> ParseApis(const std::vector<std::string>& names, std::string* unknown = nullptr);
std::vector<std::string> ApiNames(Apis apis);

// What kind of credential a principal authenticated with (for defaults and audit).
enum class CredentialKind {
  kAdminKey,        // `roster init`'s key, `roster key create --role admin`
  kAppKey,          // a Catalyze application key (browser, ios, android)
  kWorkerApp,       // a PingOne worker application's access token
  kQuickBloxApp,    // a QuickBlox application session, or its API key
  kWebUserKey,      // a CommCare web user's API key
  kUserSession,     // a user's own session (signed in through some API)
  kScimToken,       // a SCIM bearer token (`roster scim token create`), an identity provider's
};
std::string_view CredentialKindName(CredentialKind kind);

// The scopes a credential of `kind` made for `api` gets when none are named (the table
// in docs/security.md). A user session's scopes are those it has over itself beyond its
// profile (password:set where the platform lets a signed-in user set a new password
// without the current one) plus what the application credential it came through grants.
Scopes DefaultScopes(CredentialKind kind, Api api);

struct Principal {
  std::string environment_id;
  Api api = kCatalyzeApi;  // the API the request came through
  CredentialKind kind = CredentialKind::kAppKey;
  std::string credential_id;  // key, application or session id (for audit)
  Scopes scopes = 0;          // over other users (and, for password:set, over itself)
  std::string self_user_id;   // a user session's user; empty otherwise

  bool Has(Scopes s) const { return (scopes & s) == s; }
  bool IsSelf(std::string_view user_id) const { return !self_user_id.empty() && self_user_id == user_id; }
};

// The field groups of a user (for redaction, refusals and audit).
enum FieldGroup : std::uint32_t {
  kProfileFields = 1u << 0,
  kContactFields = 1u << 1,  // emails, phone numbers
  kPhiFields = 1u << 2,      // see IsPhi
  kPasswordField = 1u << 3,
};

// PHI of the canonical user: ssn, birthDate, mrns, healthPlans, guardians, race,
// ethnicity, religion, maritalStatus, gender, addresses, and the attributes the schema
// marks as PHI. The wire name of the first PHI field `user` holds, or empty.
std::string FirstPhiField(const User& user, const AttributeSchema* schema);
// Whether `name` (a canonical profile field's wire-neutral name: "ssn", "birthDate",
// "addresses", ...) is PHI.
bool IsPhiField(std::string_view name);

// What `principal` may see of `user`: PHI removed without phi:read, emails and phone
// numbers without contact:read; nothing removed from a user's own view of itself.
// `schema` (may be null) says which custom attributes are PHI.
void Redact(const Principal& principal, User& user, const AttributeSchema* schema);
// Whether Redact leaves the attribute at `path` (canonical, lower-case, as query/evaluate.h
// names it: "username", "name.familyname", "emails.value", ...) as it is on every user:
// the identity and name attributes always, emails and phone numbers with contact:read,
// anything else only with phi:read and contact:read (unknown paths: no).
bool RedactKeeps(const Principal& principal, std::string_view path);
// Whether Redact would remove anything from anyone's view (cheap pre-check).
bool SeesEverything(const Principal& principal, std::string_view user_id);

// May `principal` read the user `user_id` (by id)? kPermissionDenied otherwise.
Status MayRead(const Principal& principal, std::string_view user_id);
// May it list and search users?
Status MayList(const Principal& principal);
// May it create a user (profile:write, or sign-up for its own account)?
Status MayCreate(const Principal& principal);
// May it change or delete the user `user_id`?
Status MayWrite(const Principal& principal, std::string_view user_id);
// May it set `user_id`'s password without the current one?
Status MaySetPassword(const Principal& principal, std::string_view user_id);
Status MayWriteGroups(const Principal& principal);
// Any one scope, refused naming it.
Status Require(const Principal& principal, Scope scope);

// What a Catalyze supervisor's session adds over the application's users: reading and
// listing them (no PHI unless the key grants phi:read) and managing groups.
inline constexpr Scopes kSupervisorScopes = kProfileRead | kUsersList | kContactRead | kGroupsWrite;
Status MayWriteSchema(const Principal& principal);

// A write of `after` (the user as the change left it; `before` null for a create) by
// `principal`. Without phi:write (and not on itself, and not signing up), a PHI field
// given a new value refuses the write (kPermissionDenied naming the field), while PHI the
// principal could not see and therefore left out is kept as it was: a replace by a
// credential that never received PHI does not erase it. Likewise contact fields without
// contact:read.
Status CheckChange(const Principal& principal, const User* before, User& after, const AttributeSchema* schema);

}  // namespace roster::core
