// CommCare HQ wire JSON <-> canonical user and shared group; ids, usernames, query
// strings and Tastypie paging. Pure functions, no I/O, so commcare_unit_test covers
// them. The mapping table lives in docs/dialects/commcare.md; keep them in step.
#pragma once

#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/user.h"
#include "dialects/commcare/commcare.h"
#include "service/locations.h"
#include "service/record_service.h"

namespace roster::dialects::commcare {

inline constexpr const char* kApiVersion = "v0.5";

// ---- ids: canonical UUIDs travel as 32 lower-case hex digits ----

std::string HexId(std::string_view uuid);
// 32 lower-case hex digits back to the canonical UUID; nullopt for anything else.
std::optional<std::string> UuidFromHex(std::string_view hex);

// "/a/{domain}/api/v0.5/{resource}/" and its detail form.
std::string ListUri(std::string_view domain, std::string_view resource);
std::string DetailUri(std::string_view domain, std::string_view resource, std::string_view uuid);

// ---- usernames ----

// CommCare's format_username + validate_mobile_username: `jdoe` or
// `jdoe@<domain>.<root>` -> `jdoe@<domain>.<root>`, whitespace runs to '.', lower-cased.
// kInvalidArgument (field "username") with CommCare's messages.
core::Result<std::string> MobileUsername(std::string_view raw, std::string_view domain, std::string_view root);
// The message for a username that is taken (or reserved).
std::string UsernameTakenMessage(std::string_view raw);

// ---- query strings ----

struct QueryParam {
  std::string key, value;
};
// application/x-www-form-urlencoded: '&'-separated, '+' is a space, %XX decoded (a
// malformed escape is kept literally). Empty pieces are skipped.
std::vector<QueryParam> ParseQuery(std::string_view raw);
// The last value of `key` (Django's QueryDict.get), if present.
std::optional<std::string> QueryValue(const std::vector<QueryParam>& query, std::string_view key);
// Django's QueryDict.urlencode: unreserved characters kept, space as '+', others %XX.
std::string EncodeQuery(const std::vector<QueryParam>& query);
// dimagi.utils.parsing.string_to_boolean; nullopt when the text is neither.
std::optional<bool> ParseBool(std::string_view text);

// ---- Tastypie paging ----

inline constexpr std::int64_t kDefaultLimit = 20;
inline constexpr std::int64_t kMaxLimit = 1000;

struct Page {
  std::int64_t limit = kDefaultLimit;
  std::int64_t offset = 0;
  bool Contains(std::int64_t index) const { return index >= offset && index - offset < limit; }
};
// `limit` (default 20; 0 or over 1000 means 1000) and `offset` (default 0), with
// Tastypie's messages for bad values (kInvalidArgument).
core::Result<Page> ReadPage(const std::vector<QueryParam>& query);
// {"limit","next","offset","previous","total_count"}; next/previous are `list_uri`
// with the request's other parameters, then limit and offset (null at either end).
boost::json::object PageMeta(const Page& page, std::int64_t total, std::string_view list_uri,
                             const std::vector<QueryParam>& query);
// Where a list walk goes on (a Roster parameter, `cursor=<after>[.<skip>]`, in meta.next
// when the read budget stopped a walk): after user number `after`, `skip` more matches
// still to pass over (at most the page's offset).
struct Cursor {
  std::int64_t after = 0;
  std::int64_t skip = 0;
};
// kInvalidArgument (field "cursor") when malformed.
core::Result<std::optional<Cursor>> ReadCursor(const std::vector<QueryParam>& query, const Page& page);
// `list_uri` with the request's other parameters, then limit, offset and cursor.
std::string CursorUri(std::string_view list_uri, const std::vector<QueryParam>& query, std::int64_t limit,
                      std::int64_t offset, const Cursor& cursor);

// ---- mobile workers ----

// user_data keys CommCare manages itself: injected on read, dropped on write.
inline constexpr std::array<const char*, 5> kSystemUserData = {
    "commcare_project", "commcare_profile", "commcare_location_id", "commcare_location_ids",
    "commcare_primary_case_sharing_id"};

// The writable fields of a mobile worker body, validated. Absent members stay nullopt;
// `null` clears (empty string / empty list).
struct UserFields {
  std::optional<std::string> first_name, last_name, email, language;
  std::optional<std::vector<std::string>> phone_numbers;
  std::optional<std::string> default_phone_number;
  std::optional<boost::json::object> user_data;
  std::optional<std::vector<std::string>> groups;  // canonical UUIDs, duplicates removed
  std::optional<std::vector<std::string>> locations;  // canonical UUIDs, duplicates removed
  std::optional<std::string> primary_location;         // canonical UUID; "" clears
  std::optional<std::string> password;
  std::optional<std::string> role;  // one of RoleNames(), kept in dialect_json["commcare"]
};
// Every project space's roles: CommCare's UserRolePresets and its Admin role.
const std::vector<std::string>& RoleNames();
// Tableau's site roles (corehq TableauUser.Roles).
const std::vector<std::string>& TableauRoles();
// The mobile worker's role ("" when none).
std::string RoleOf(const core::User& user);
// kInvalidArgument naming the field. `username` is not read here (see MobileUsername).
core::Result<UserFields> ReadUserFields(const boost::json::object& body);
// Applies the profile fields (not groups, not password) to `user`.
void ApplyUserFields(const UserFields& fields, core::User& user);
// CommCare's phone list over canonical contacts: the primary first, then the rest.
std::vector<std::string> PhoneList(const core::Profile& profile);
// The user as CommCare returns it; `group_ids` are canonical UUIDs. Never a password.
// With locations, user_data carries commcare_location_id(s) and
// commcare_primary_case_sharing_id as CommCare injects them.
boost::json::object UserWire(const core::User& user, const std::vector<std::string>& group_ids,
                             std::string_view domain, const service::LocationAssignment& locations = {});

// ---- groups ----

struct GroupFields {
  std::optional<std::string> name;
  std::optional<bool> case_sharing, reporting;
  std::optional<boost::json::object> metadata;
  std::optional<std::vector<std::string>> users;  // canonical UUIDs, duplicates removed
};
// `name` is required when creating. kInvalidArgument naming the field.
core::Result<GroupFields> ReadGroupFields(const boost::json::object& body, bool creating);
// Sets name and body["commcare"] (case_sharing, reporting, metadata); other dialects'
// keys are left alone. A new group gets "default": false.
void ApplyGroupFields(const GroupFields& fields, service::Record& group, bool creating);
// `member_ids` are canonical UUIDs.
boost::json::object GroupWire(const service::Record& group, const std::vector<std::string>& member_ids,
                              std::string_view domain);

}  // namespace roster::dialects::commcare
