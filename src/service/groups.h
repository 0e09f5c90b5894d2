// Groups as every dialect shares them: records of kind "group" whose body holds
// "name" (string), "default" (bool) and, under a key named after a dialect, whatever
// that dialect keeps of its own (CommCare's case_sharing, reporting, metadata). A
// dialect updates its own key and leaves the others alone. Names are unique per
// environment, compared case-insensitively; default groups are joined by new users.
//
// Groups contain users and groups (nested: SCIM members of type Group, PingOne
// memberOfGroups). A group never contains itself, directly or through its members.
// GroupAccess is the group use cases as one principal may perform them, for every API.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/access.h"
#include "core/rules.h"
#include "core/user.h"
#include "service/record_service.h"
#include "service/user_service.h"

namespace roster::service {

inline constexpr const char* kGroupKind = "group";
inline constexpr const char* kGroupNameClaim = "group.name";
inline constexpr std::size_t kMaxGroupNameLength = 255;

inline std::string GroupName(const Record& group) {
  const auto* v = group.body.if_contains("name");
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline bool GroupIsDefault(const Record& group) {
  const auto* v = group.body.if_contains("default");
  return v && v->is_bool() && v->as_bool();
}

// kInvalidArgument (field "name") unless 1..255 characters of valid UTF-8 with no
// control characters.
inline core::Status CheckGroupName(const std::string& name) {
  if (name.empty()) return core::InvalidArgument("name", "name is required");
  if (!core::IsValidUtf8(name)) return core::InvalidArgument("name", "name must be valid UTF-8");
  if (core::CodePoints(name) > kMaxGroupNameLength)
    return core::InvalidArgument("name", "name must be at most 255 characters");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return core::InvalidArgument("name", "name must not contain control characters");
  return {};
}

// The value of a group's name claim: names compare case-insensitively.
inline std::string GroupNameKey(const std::string& name) {
  auto folded = core::FoldUsername(name);
  return folded ? *folded : name;
}

inline std::vector<Claim> GroupClaims(const Record& group) {
  std::vector<Claim> claims;
  claims.push_back({kGroupNameClaim, GroupNameKey(GroupName(group)), true});
  if (GroupIsDefault(group)) claims.push_back({kDefaultClaim, "1", false});
  return claims;
}

// How deep GroupsOf follows groups in groups, and how many groups it returns at most.
inline constexpr int kMaxGroupDepth = 32;
inline constexpr int kMaxContainingGroups = 1000;

enum class MemberType { kUser, kGroup };

// A member named in a write: an id, with its type if the wire gave one (SCIM's `type`
// is optional: Entra ID sends bare ids). An untyped id is a user's if a user has it,
// else a group's.
struct MemberRef {
  std::string id;
  std::optional<MemberType> type;
};

// Members removed, then added, by an update (after a replacement, if any). Removing a
// member that is not one is no error.
struct MemberEdits {
  std::vector<MemberRef> add;
  std::vector<MemberRef> remove;
  bool empty() const { return add.empty() && remove.empty(); }
};

// Where a page of a group's members starts: its groups first (in number order), then its
// users (in user-number order).
struct MemberPosition {
  bool users = false;
  std::int64_t after = 0;
};

struct MemberPage {
  std::vector<Record> groups;
  std::vector<core::User> users;        // as the principal may see them
  std::optional<MemberPosition> next;   // where the next page starts; none: the last page
};

// Direct groups first, then by depth; `truncated` when groups deeper than kMaxGroupDepth
// or more than kMaxContainingGroups were left out.
struct ContainingGroups {
  std::vector<Container> groups;
  bool truncated = false;
};

// The group use cases as `principal` may perform them: writes need groups:write (checked
// here, for every API); listing members lists users (users:list, and each user as the
// principal may see it); a user's groups need profile:read (or the user's own session).
// Errors: kPermissionDenied; kNotFound for the group itself; kInvalidArgument "name";
// kAlreadyExists "group.name"; kNotFound "members" for a member id that names no user or
// group of the environment; kInvalidArgument "members" for a write that would make a
// group contain itself. A cheap value: build one per request.
class GroupAccess {
 public:
  GroupAccess(RecordService& records, UserService& users, core::Principal principal)
      : records_(records), users_(users), principal_(std::move(principal)) {}

  const core::Principal& principal() const { return principal_; }

  core::Result<Record> Get(const std::string& id);
  core::Result<std::int64_t> VersionOf(const std::string& id);
  // The group named `name`, compared as group names are (case-insensitively).
  core::Result<std::optional<Record>> FindByName(const std::string& name);
  // Keyset page of the environment's groups in number order.
  core::Result<std::vector<Record>> List(std::int64_t after_number, int limit);

  // `body` holds at least "name"; `id` empty: a new UUID. One transaction with members.
  core::Result<Record> Create(boost::json::object body, const std::vector<MemberRef>& members,
                              const std::string& id = {});
  // Applies `change` to the body (the name is checked after), replaces the members with
  // `members` if given, then applies `edits`: one transaction, a new version. With
  // `expected_version`, kVersionMismatch unless the group is still at it.
  core::Result<Record> Update(const std::string& id, const RecordChange& change,
                              std::optional<std::int64_t> expected_version,
                              const std::optional<std::vector<MemberRef>>& members, const MemberEdits& edits = {});
  // The group `member_group_id` joins (leaves) group `id`: a new version of `id`.
  core::Result<Record> AddGroup(const std::string& id, const std::string& member_group_id,
                                std::optional<std::int64_t> expected_version = std::nullopt);
  core::Result<Record> RemoveGroup(const std::string& id, const std::string& member_group_id,
                                   std::optional<std::int64_t> expected_version = std::nullopt);
  // With every membership of the group, both ways, in the same transaction.
  core::Status Delete(const std::string& id, std::optional<std::int64_t> expected_version = std::nullopt);

  // At most `limit` (1..500) members from `from`.
  core::Result<MemberPage> Members(const std::string& id, MemberPosition from, int limit);
  // The groups containing the user (or the group), directly and through groups.
  core::Result<ContainingGroups> GroupsOfUser(const std::string& user_id);
  core::Result<ContainingGroups> GroupsOfGroup(const std::string& group_id);

 private:
  const std::string& env() const { return principal_.environment_id; }
  // Sorts members into user ids and group ids, looking up untyped ones (and checking
  // typed ones exist, so an error names the id).
  core::Status Resolve(const std::vector<MemberRef>& refs, std::vector<std::string>& users,
                       std::vector<std::string>& groups);
  core::Result<Record> Write(const std::string& id, const RecordChange& change,
                             std::optional<std::int64_t> expected_version, const MemberWrite& members);
  core::Result<ContainingGroups> Containing(const std::string& member_id, bool member_is_group);

  RecordService& records_;
  UserService& users_;
  core::Principal principal_;
};

}  // namespace roster::service
