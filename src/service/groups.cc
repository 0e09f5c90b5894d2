#include "service/groups.h"

#include <algorithm>
#include <unordered_set>

#include "service/user_access.h"

namespace roster::service {
namespace {

using core::ErrorCode;

constexpr int kMaxMemberPage = 500;

// The store names a member that vanished between the lookup and the write "user" or
// "member"; the group model names the field "members".
core::Error MemberError(core::Error e) {
  if (e.code == ErrorCode::kNotFound && (e.field == "user" || e.field == "member")) {
    e.field = "members";
    e.message = "a member is not a user or group of this environment (deleted meanwhile?)";
  }
  return e;
}

// Drops repeats, keeping the first of each.
void Deduplicate(std::vector<std::string>& ids) {
  std::unordered_set<std::string> seen;
  std::erase_if(ids, [&](const std::string& id) { return !seen.insert(id).second; });
}

}  // namespace

core::Status GroupAccess::Resolve(const std::vector<MemberRef>& refs, std::vector<std::string>& users,
                                  std::vector<std::string>& groups) {
  for (const auto& ref : refs) {
    const bool may_be_user = !ref.type || *ref.type == MemberType::kUser;
    const bool may_be_group = !ref.type || *ref.type == MemberType::kGroup;
    if (may_be_user) {
      auto v = users_.VersionOf(env(), ref.id);
      if (v) {
        users.push_back(ref.id);
        continue;
      }
      if (v.error().code != ErrorCode::kNotFound) return std::unexpected(v.error());
    }
    if (may_be_group) {
      auto v = records_.VersionOf(env(), kGroupKind, ref.id);
      if (v) {
        groups.push_back(ref.id);
        continue;
      }
      if (v.error().code != ErrorCode::kNotFound) return std::unexpected(v.error());
    }
    const char* what = !ref.type ? "user or group" : may_be_user ? "user" : "group";
    return core::Fail(ErrorCode::kNotFound, std::string("members: no ") + what + " with id " + ref.id, "members");
  }
  Deduplicate(users);
  Deduplicate(groups);
  return {};
}

core::Result<Record> GroupAccess::Get(const std::string& id) { return records_.Get(env(), kGroupKind, id); }

core::Result<std::int64_t> GroupAccess::VersionOf(const std::string& id) {
  return records_.VersionOf(env(), kGroupKind, id);
}

core::Result<std::optional<Record>> GroupAccess::FindByName(const std::string& name) {
  auto found = records_.Find(env(), kGroupNameClaim, GroupNameKey(name));
  if (!found) return std::unexpected(found.error());
  for (auto& r : *found)
    if (r.kind == kGroupKind) return std::optional<Record>(std::move(r));
  return std::optional<Record>();
}

core::Result<std::vector<Record>> GroupAccess::List(std::int64_t after_number, int limit) {
  return records_.List(env(), kGroupKind, after_number, limit);
}

core::Result<Record> GroupAccess::Create(boost::json::object body, const std::vector<MemberRef>& members,
                                         const std::string& id) {
  if (auto st = core::MayWriteGroups(principal_); !st) return std::unexpected(st.error());
  Record group;
  group.body = std::move(body);
  if (auto st = CheckGroupName(GroupName(group)); !st) return std::unexpected(st.error());
  NewRecordRequest request;
  request.environment_id = env();
  request.kind = kGroupKind;
  request.claims = GroupClaims(group);
  request.body = std::move(group.body);
  request.id = id;
  if (auto st = Resolve(members, request.members, request.member_records); !st) return std::unexpected(st.error());
  auto created = records_.Create(request);
  if (!created) return std::unexpected(MemberError(created.error()));
  return created;
}

core::Result<Record> GroupAccess::Write(const std::string& id, const RecordChange& change,
                                        std::optional<std::int64_t> expected_version, const MemberWrite& members) {
  if (auto st = core::MayWriteGroups(principal_); !st) return std::unexpected(st.error());
  auto updated = records_.Update(
      env(), kGroupKind, id,
      [&](Record& g) -> core::Status {
        if (auto st = change(g); !st) return st;
        return CheckGroupName(GroupName(g));
      },
      GroupClaims, expected_version, members);
  if (!updated) return std::unexpected(MemberError(updated.error()));
  return updated;
}

core::Result<Record> GroupAccess::Update(const std::string& id, const RecordChange& change,
                                         std::optional<std::int64_t> expected_version,
                                         const std::optional<std::vector<MemberRef>>& members,
                                         const MemberEdits& edits) {
  if (auto st = core::MayWriteGroups(principal_); !st) return std::unexpected(st.error());
  MemberWrite write;
  if (members) {
    write.users.emplace();
    write.records.emplace();
    if (auto st = Resolve(*members, *write.users, *write.records); !st) return std::unexpected(st.error());
  }
  for (const auto& ref : edits.remove) {  // nothing to look up: removing a non-member is no error
    if (!ref.type || *ref.type == MemberType::kUser) write.changes.remove_users.push_back(ref.id);
    if (!ref.type || *ref.type == MemberType::kGroup) write.changes.remove_records.push_back(ref.id);
  }
  if (auto st = Resolve(edits.add, write.changes.add_users, write.changes.add_records); !st)
    return std::unexpected(st.error());
  return Write(id, change, expected_version, write);
}

core::Result<Record> GroupAccess::AddGroup(const std::string& id, const std::string& member_group_id,
                                           std::optional<std::int64_t> expected_version) {
  return Update(id, [](Record&) -> core::Status { return {}; }, expected_version, std::nullopt,
                MemberEdits{{{member_group_id, MemberType::kGroup}}, {}});
}

core::Result<Record> GroupAccess::RemoveGroup(const std::string& id, const std::string& member_group_id,
                                              std::optional<std::int64_t> expected_version) {
  return Update(id, [](Record&) -> core::Status { return {}; }, expected_version, std::nullopt,
                MemberEdits{{}, {{member_group_id, MemberType::kGroup}}});
}

core::Status GroupAccess::Delete(const std::string& id, std::optional<std::int64_t> expected_version) {
  if (auto st = core::MayWriteGroups(principal_); !st) return st;
  return records_.Delete(env(), kGroupKind, id, expected_version);
}

core::Result<MemberPage> GroupAccess::Members(const std::string& id, MemberPosition from, int limit) {
  if (auto st = core::MayList(principal_); !st) return std::unexpected(st.error());
  if (auto v = VersionOf(id); !v) return std::unexpected(v.error());  // a group, not another record
  const std::size_t room = static_cast<std::size_t>(std::clamp(limit, 1, kMaxMemberPage));
  MemberPage page;
  if (!from.users) {
    // One more than fits says whether another page follows.
    auto groups = records_.ListMemberRecords(env(), id, from.after, static_cast<int>(room) + 1);
    if (!groups) return std::unexpected(groups.error());
    if (groups->size() > room) {
      groups->resize(room);
      page.next = MemberPosition{false, groups->back().number};
      page.groups = std::move(*groups);
      return page;
    }
    page.groups = std::move(*groups);
    from = MemberPosition{true, 0};
  }
  const std::size_t left = room - page.groups.size();  // 0: a one-user read tells whether users follow
  auto users = users_.As(principal_).ListMembers(id, from.after, static_cast<int>(left) + 1);
  if (!users) return std::unexpected(users.error());
  if (users->users.size() > left) {
    users->users.resize(left);
    page.next = MemberPosition{true, left > 0 ? users->users.back().number : from.after};
  }
  page.users = std::move(users->users);
  return page;
}

core::Result<ContainingGroups> GroupAccess::Containing(const std::string& member_id, bool member_is_group) {
  // One deeper and one more than returned, to tell a cut answer from a complete one.
  auto rows = records_.ListContainers(env(), member_id, member_is_group, kGroupKind, kMaxGroupDepth + 1,
                                      kMaxContainingGroups + 1);
  if (!rows) return std::unexpected(rows.error());
  ContainingGroups out;
  for (auto& c : *rows) {
    if (c.depth > kMaxGroupDepth || out.groups.size() == static_cast<std::size_t>(kMaxContainingGroups)) {
      out.truncated = true;
      break;  // ordered by depth: everything after is cut as well
    }
    out.groups.push_back(std::move(c));
  }
  return out;
}

core::Result<ContainingGroups> GroupAccess::GroupsOfUser(const std::string& user_id) {
  if (auto st = core::MayRead(principal_, user_id); !st) return std::unexpected(st.error());
  return Containing(user_id, false);
}

core::Result<ContainingGroups> GroupAccess::GroupsOfGroup(const std::string& group_id) {
  if (auto v = VersionOf(group_id); !v) return std::unexpected(v.error());
  return Containing(group_id, true);
}

}  // namespace roster::service
