#include "service/groups.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "service/service_test_support.h"

namespace roster::service {
namespace {

using core::ErrorCode;
using Strings = std::vector<std::string>;

class GroupAccessTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  GroupAccessTest()
      : ServiceFixture("roster-groups-", {60'000, 3'600'000}) {
    env_ = directory_.CreateEnvironment("default")->id;
  }

  GroupAccess As(core::Scopes scopes, std::string self = {}) {
    core::Principal p;
    p.environment_id = env_;
    p.scopes = scopes;
    p.self_user_id = std::move(self);
    return GroupAccess(records_, users_, p);
  }
  GroupAccess Admin() { return As(core::kAllScopes); }

  std::string User(const std::string& username) {
    CreateUserRequest r;
    r.environment_id = env_;
    r.user.username = username;
    auto created = users_.Create(r);
    EXPECT_TRUE(created.has_value());
    return created ? created->user.id : std::string();
  }
  std::string Group(const std::string& name, const std::vector<MemberRef>& members = {}) {
    auto g = Admin().Create(boost::json::object{{"name", name}}, members);
    EXPECT_TRUE(g.has_value()) << name;
    return g ? g->id : std::string();
  }
  Strings MemberGroups(const std::string& id) {
    Strings out;
    auto page = Admin().Members(id, {}, 500);
    EXPECT_TRUE(page.has_value());
    if (page)
      for (const auto& g : page->groups) out.push_back(GroupName(g));
    return out;
  }
  Strings MemberUsers(const std::string& id) {
    Strings out;
    auto page = Admin().Members(id, {}, 500);
    if (page)
      for (const auto& u : page->users) out.push_back(u.username);
    return out;
  }
  std::vector<std::pair<std::string, int>> Containers(const core::Result<ContainingGroups>& r) {
    std::vector<std::pair<std::string, int>> out;
    EXPECT_TRUE(r.has_value());
    if (r)
      for (const auto& c : r->groups) out.emplace_back(GroupName(c.record), c.depth);
    return out;
  }
  static void ExpectError(const core::Status& st, ErrorCode code, const std::string& field) {
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, code) << st.error().message;
    EXPECT_EQ(st.error().field, field) << st.error().message;
  }
  template <class T>
  static void ExpectError(const core::Result<T>& r, ErrorCode code, const std::string& field) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, code) << r.error().message;
    EXPECT_EQ(r.error().field, field) << r.error().message;
  }

  std::string env_;
};

using Depths = std::vector<std::pair<std::string, int>>;

TEST_F(GroupAccessTest, GroupsContainGroupsButNeverThemselves) {
  const auto a = Group("A"), b = Group("B"), c = Group("C");
  auto added = Admin().AddGroup(a, b);
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(added->version, 2);  // a membership change is a new version of the group
  ASSERT_TRUE(Admin().AddGroup(b, c).has_value());
  ASSERT_TRUE(Admin().AddGroup(b, c).has_value());  // idempotent
  EXPECT_EQ(MemberGroups(a), (Strings{"B"}));
  EXPECT_EQ(MemberGroups(b), (Strings{"C"}));

  // Itself, directly or through members: refused naming "members", nothing changes.
  ExpectError(Admin().AddGroup(a, a), ErrorCode::kInvalidArgument, "members");
  ExpectError(Admin().AddGroup(c, a), ErrorCode::kInvalidArgument, "members");
  ExpectError(Admin().AddGroup(b, a), ErrorCode::kInvalidArgument, "members");
  ExpectError(Admin().Update(c, [](Record&) -> core::Status { return {}; }, std::nullopt,
                             std::vector<MemberRef>{{a, std::nullopt}}),
              ErrorCode::kInvalidArgument, "members");
  EXPECT_EQ(Admin().Get(c)->version, 1);
  EXPECT_TRUE(MemberGroups(c).empty());

  // A diamond is fine; removal undoes.
  ASSERT_TRUE(Admin().AddGroup(a, c).has_value());
  EXPECT_EQ(MemberGroups(a), (Strings{"B", "C"}));
  ASSERT_TRUE(Admin().RemoveGroup(a, b).has_value());
  ASSERT_TRUE(Admin().RemoveGroup(a, b).has_value());  // not a member: no error
  EXPECT_EQ(MemberGroups(a), (Strings{"C"}));
  ASSERT_TRUE(Admin().RemoveGroup(b, c).has_value());
  ASSERT_TRUE(Admin().AddGroup(c, b).has_value());  // no longer a cycle

  // Unknown groups, and users where a group is meant.
  const auto u = User("ada");
  ExpectError(Admin().AddGroup(a, "5f0c6f7e-0000-4000-8000-000000000000"), ErrorCode::kNotFound, "members");
  ExpectError(Admin().AddGroup(a, u), ErrorCode::kNotFound, "members");
  EXPECT_EQ(Admin().AddGroup("5f0c6f7e-0000-4000-8000-000000000000", a).error().code, ErrorCode::kNotFound);
}

TEST_F(GroupAccessTest, WritesNeedGroupsWrite) {
  const auto a = Group("A"), b = Group("B");
  const auto u = User("ada");
  auto reader = As(core::kAllScopes & ~core::kGroupsWrite);
  const auto nothing = [](Record&) -> core::Status { return {}; };
  EXPECT_EQ(reader.Create(boost::json::object{{"name", "C"}}, {}).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(reader.AddGroup(a, b).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(reader.RemoveGroup(a, b).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(reader.Update(a, nothing, std::nullopt, std::nullopt, MemberEdits{{{u, std::nullopt}}, {}}).error().code,
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(reader.Delete(a).error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(Admin().FindByName("C")->has_value());
  EXPECT_TRUE(MemberGroups(a).empty());
  EXPECT_TRUE(MemberUsers(a).empty());
  EXPECT_EQ(Admin().Get(a)->version, 1);
  // Reads need no more than the environment; members are users, so users:list.
  EXPECT_TRUE(reader.Get(a).has_value());
  EXPECT_EQ(As(core::kAllScopes & ~core::kUsersList).Members(a, {}, 10).error().code, ErrorCode::kPermissionDenied);
}

TEST_F(GroupAccessTest, MembersAreUsersAndGroupsTypedOrNot) {
  const auto ada = User("ada"), bob = User("bob");
  const auto inner = Group("Inner");
  // Untyped ids are looked up; typed ones must be of their type.
  const auto g = Group("Outer", {{ada, std::nullopt}, {inner, std::nullopt}, {bob, MemberType::kUser}, {ada, std::nullopt}});
  EXPECT_EQ(MemberGroups(g), (Strings{"Inner"}));
  EXPECT_EQ(MemberUsers(g), (Strings{"ada", "bob"}));

  // An id of nothing, or of the other type: no group, and its name stays free.
  for (const MemberRef& bad : {MemberRef{"9a0c6f7e-0000-4000-8000-000000000000", std::nullopt},
                               MemberRef{ada, MemberType::kGroup}, MemberRef{inner, MemberType::kUser}}) {
    ExpectError(Admin().Create(boost::json::object{{"name", "Bad"}}, {{bob, std::nullopt}, bad}), ErrorCode::kNotFound,
                "members");
    EXPECT_FALSE(Admin().FindByName("bad")->has_value());
  }

  // Replacement, then edits: removals (untyped removes either sort), then additions.
  const auto other = Group("Other");
  const auto nothing = [](Record&) -> core::Status { return {}; };
  auto up = Admin().Update(g, nothing, std::nullopt, std::vector<MemberRef>{{bob, std::nullopt}, {other, std::nullopt}},
                           MemberEdits{{{inner, MemberType::kGroup}}, {{bob, std::nullopt}}});
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(MemberGroups(g), (Strings{"Inner", "Other"}));
  EXPECT_TRUE(MemberUsers(g).empty());
  up = Admin().Update(g, nothing, std::nullopt, std::nullopt,
                      MemberEdits{{{ada, std::nullopt}}, {{other, std::nullopt}, {"no-such-id", std::nullopt}}});
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(MemberGroups(g), (Strings{"Inner"}));
  EXPECT_EQ(MemberUsers(g), (Strings{"ada"}));
  // An unknown added id fails the whole update, body included.
  auto renamed = Admin().Update(
      g,
      [](Record& r) -> core::Status {
        r.body["name"] = "Renamed";
        return {};
      },
      std::nullopt, std::nullopt, MemberEdits{{{"9a0c6f7e-0000-4000-8000-000000000000", std::nullopt}}, {}});
  ExpectError(renamed, ErrorCode::kNotFound, "members");
  EXPECT_EQ(GroupName(*Admin().Get(g)), "Outer");
}

TEST_F(GroupAccessTest, NamesAreCheckedUniqueAndFoundCaseInsensitively) {
  const auto g = Group("Nurses");
  auto found = Admin().FindByName("NURSES");
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->id, g);
  EXPECT_FALSE(Admin().FindByName("Doctors")->has_value());
  ExpectError(Admin().Create(boost::json::object{{"name", "nurses"}}, {}), ErrorCode::kAlreadyExists, "group.name");
  ExpectError(Admin().Create(boost::json::object{}, {}), ErrorCode::kInvalidArgument, "name");
  const auto other = Group("Doctors");
  const auto rename = [](std::string name) {
    return [name](Record& r) -> core::Status {
      r.body["name"] = name;
      return {};
    };
  };
  ExpectError(Admin().Update(other, rename("NURSES"), std::nullopt, std::nullopt), ErrorCode::kAlreadyExists,
              "group.name");
  ExpectError(Admin().Update(other, rename(""), std::nullopt, std::nullopt), ErrorCode::kInvalidArgument, "name");
  // If-Match: the version read must still be the group's.
  ExpectError(Admin().Update(other, rename("Surgeons"), 7, std::nullopt), ErrorCode::kVersionMismatch, "version");
  ASSERT_TRUE(Admin().Update(other, rename("Surgeons"), 1, std::nullopt).has_value());
  EXPECT_EQ(Admin().Delete(other, 1).error().code, ErrorCode::kVersionMismatch);
  ASSERT_TRUE(Admin().Delete(other, 2).has_value());
}

TEST_F(GroupAccessTest, MembersArePagedGroupsFirstThenUsers) {
  std::vector<MemberRef> members;
  for (const char* name : {"G1", "G2", "G3"}) members.push_back({Group(name), MemberType::kGroup});
  for (const char* name : {"u1", "u2", "u3", "u4"}) members.push_back({User(name), MemberType::kUser});
  const auto g = Group("All", members);

  Strings seen;
  std::vector<std::size_t> sizes;
  MemberPosition at;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = Admin().Members(g, at, 2);
    ASSERT_TRUE(page.has_value());
    sizes.push_back(page->groups.size() + page->users.size());
    for (const auto& r : page->groups) seen.push_back(GroupName(r));
    for (const auto& u : page->users) seen.push_back(u.username);
    if (!page->next) break;
    at = *page->next;
  }
  EXPECT_EQ(seen, (Strings{"G1", "G2", "G3", "u1", "u2", "u3", "u4"}));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 2, 1}));

  // Exactly a page of groups and no users: no next page.
  const auto only = Group("Only", {members[0], members[1]});
  auto page = Admin().Members(only, {}, 2);
  EXPECT_EQ(page->groups.size(), 2u);
  EXPECT_FALSE(page->next.has_value());
  EXPECT_EQ(Admin().Members("9a0c6f7e-0000-4000-8000-000000000000", {}, 2).error().code, ErrorCode::kNotFound);
}

TEST_F(GroupAccessTest, AUsersGroupsAreDirectAndIndirect) {
  const auto ada = User("ada"), bob = User("bob");
  const auto c = Group("C", {{ada, MemberType::kUser}});
  const auto b = Group("B", {{c, MemberType::kGroup}});
  const auto a = Group("A", {{b, MemberType::kGroup}, {bob, MemberType::kUser}});
  const auto d = Group("D", {{ada, MemberType::kUser}, {a, MemberType::kGroup}});

  EXPECT_EQ(Containers(Admin().GroupsOfUser(ada)), (Depths{{"C", 1}, {"D", 1}, {"B", 2}, {"A", 3}}));
  EXPECT_EQ(Containers(Admin().GroupsOfUser(bob)), (Depths{{"A", 1}, {"D", 2}}));
  EXPECT_EQ(Containers(Admin().GroupsOfGroup(c)), (Depths{{"B", 1}, {"A", 2}, {"D", 3}}));
  EXPECT_FALSE(Admin().GroupsOfUser(ada)->truncated);

  // Another user's groups need profile:read; a user's own session reads its own.
  EXPECT_EQ(As(core::kUsersList).GroupsOfUser(ada).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(Containers(As(0, ada).GroupsOfUser(ada)).size(), 4u);
  EXPECT_EQ(Admin().GroupsOfUser("9a0c6f7e-0000-4000-8000-000000000000").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Admin().GroupsOfGroup(ada).error().code, ErrorCode::kNotFound);
}

TEST_F(GroupAccessTest, TransitiveGroupsAreBoundedInDepth) {
  // ada in L0; L(i+1) contains L(i): a chain deeper than the bound.
  const auto ada = User("ada");
  std::string below = Group("L0", {{ada, MemberType::kUser}});
  for (int i = 1; i <= kMaxGroupDepth + 1; ++i) below = Group("L" + std::to_string(i), {{below, MemberType::kGroup}});
  auto groups = Admin().GroupsOfUser(ada);
  ASSERT_TRUE(groups.has_value());
  EXPECT_TRUE(groups->truncated);
  ASSERT_EQ(groups->groups.size(), static_cast<std::size_t>(kMaxGroupDepth));
  EXPECT_EQ(GroupName(groups->groups.back().record), "L" + std::to_string(kMaxGroupDepth - 1));
  EXPECT_EQ(groups->groups.back().depth, kMaxGroupDepth);
}

TEST_F(GroupAccessTest, DeletingAGroupRemovesItsMembershipsBothWays) {
  const auto ada = User("ada");
  const auto c = Group("C");
  const auto b = Group("B", {{c, MemberType::kGroup}, {ada, MemberType::kUser}});
  const auto a = Group("A", {{b, MemberType::kGroup}});
  ASSERT_TRUE(Admin().Delete(b).has_value());
  EXPECT_TRUE(MemberGroups(a).empty());
  EXPECT_TRUE(Containers(Admin().GroupsOfGroup(c)).empty());
  EXPECT_TRUE(Containers(Admin().GroupsOfUser(ada)).empty());
  EXPECT_EQ(Admin().Get(b).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(Admin().Create(boost::json::object{{"name", "B"}}, {}).has_value());  // the name is free again
}

}  // namespace
}  // namespace roster::service
