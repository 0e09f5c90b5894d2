// The query engine: index selection, keyset continuation, and the bound on work.
#include <gtest/gtest.h>

#include "query/scim.h"
#include "service/record_service.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

class UserQueryTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  UserQueryTest()
      : ServiceFixture("roster-query-") {
    env_ = directory_.CreateEnvironment("default")->id;
  }

  // Users u0..u{n-1}; u{i} has title "even"/"odd" and email u{i}@example.com.
  std::vector<core::User> Populate(int n, const std::vector<MembershipRef>& member_of = {},
                                   const std::string& prefix = "u") {
    std::vector<core::User> out;
    for (int i = 0; i < n; ++i) {
      CreateUserRequest r;
      r.environment_id = env_;
      r.user.username = prefix + std::to_string(i);
      r.user.profile.title = i % 2 == 0 ? "even" : "odd";
      r.user.profile.emails = {{"work", prefix + std::to_string(i) + "@example.com", true}};
      r.member_of = member_of;
      auto created = users_.Create(r);
      EXPECT_TRUE(created.has_value());
      out.push_back(created->user);
    }
    return out;
  }

  query::Node Filter(std::string_view text) {
    auto parsed = query::ParseScimFilter(text);
    EXPECT_TRUE(parsed) << text;
    return parsed ? *parsed : query::Node{};
  }

  static std::vector<std::string> Names(const QueryResult& r) {
    std::vector<std::string> out;
    for (const auto& u : r.users) out.push_back(u.username);
    return out;
  }

  std::string env_;
};

TEST_F(UserQueryTest, ReadsAtMostTheBudgetAndSaysWhereToContinue) {
  const auto all = Populate(60);
  const query::Node none = Filter(R"(title eq "nobody")");
  UserQuery q{.environment_id = env_, .filter = &none, .page_size = 10, .budget = 25};
  auto r = users_.Query(q);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->users.empty());
  EXPECT_EQ(r->rows_read, 25);
  EXPECT_TRUE(r->budget_hit);
  EXPECT_EQ(r->next_after, all[24].number);  // the last number read
  EXPECT_EQ(r->plan, "scan");

  // Following the continuation covers the rest, each call within the budget.
  q.after = r->next_after;
  r = users_.Query(q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows_read, 25);
  EXPECT_EQ(r->next_after, all[49].number);
  q.after = r->next_after;
  r = users_.Query(q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows_read, 10);
  EXPECT_FALSE(r->budget_hit);
  EXPECT_EQ(r->next_after, 0);  // the end
}

TEST_F(UserQueryTest, PagesContinueWithoutGapsOrRepeats) {
  Populate(23);
  const query::Node odd = Filter(R"(title eq "ODD")");
  std::vector<std::string> seen;
  UserQuery q{.environment_id = env_, .filter = &odd, .page_size = 4};
  for (int guard = 0; guard < 10; ++guard) {
    auto r = users_.Query(q);
    ASSERT_TRUE(r);
    EXPECT_LE(r->users.size(), 4u);
    for (auto& n : Names(*r)) seen.push_back(n);
    if (r->next_after == 0) break;
    EXPECT_EQ(r->next_after, r->page_end);  // a further match is known: go on after the page
    q.after = r->next_after;
  }
  std::vector<std::string> expected;
  for (int i = 1; i < 23; i += 2) expected.push_back("u" + std::to_string(i));
  EXPECT_EQ(seen, expected);
}

TEST_F(UserQueryTest, UnfilteredPageReadsOnlyThePageAndOneMore) {
  const auto all = Populate(30);
  UserQuery q{.environment_id = env_, .page_size = 10};
  auto r = users_.Query(q);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->users.size(), 10u);
  EXPECT_EQ(r->rows_read, 11);
  EXPECT_EQ(r->next_after, all[9].number);
  q.skip = 5;
  r = users_.Query(q);
  ASSERT_TRUE(r);
  EXPECT_EQ(Names(*r).front(), "u5");
  EXPECT_EQ(r->rows_read, 16);
}

TEST_F(UserQueryTest, UsesTheBlindIndexForUsernameAndPrimaryEmail) {
  Populate(40);
  const query::Node by_name = Filter(R"(userName eq "U17" and title eq "odd")");
  auto r = users_.Query({.environment_id = env_, .filter = &by_name, .budget = 5});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->plan, "username");
  EXPECT_EQ(Names(*r), std::vector<std::string>{"u17"});
  EXPECT_EQ(r->rows_read, 1);

  const query::Node by_email = Filter(R"(emails[value eq "U33@example.com" and primary eq true])");
  r = users_.Query({.environment_id = env_, .filter = &by_email, .budget = 5});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->plan, "s=emails.value");
  EXPECT_EQ(Names(*r), std::vector<std::string>{"u33"});

  auto tagged = users_.Update(env_, users_.FindBy(env_, "username", "u5")->front().id, [](core::User& u) -> core::Status {
    u.external_id = "Ext-5";
    return {};
  }, std::nullopt);
  ASSERT_TRUE(tagged);
  const query::Node by_external = Filter(R"(externalId eq "Ext-5")");
  r = users_.Query({.environment_id = env_, .filter = &by_external, .budget = 5});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->plan, "externalId");
  EXPECT_EQ(Names(*r), std::vector<std::string>{"u5"});

  // The index narrows only what every match must satisfy: an "or" with an unindexed
  // operand scans.
  const query::Node either = Filter(R"(userName eq "u1" or title eq "none")");
  r = users_.Query({.environment_id = env_, .filter = &either});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->plan, "scan");
  EXPECT_EQ(Names(*r), std::vector<std::string>{"u1"});
  // Every email is in the search index, primary or not.
  const query::Node any_email = Filter(R"(emails.value eq "u2@example.com")");
  r = users_.Query({.environment_id = env_, .filter = &any_email});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->plan, "s=emails.value");
  EXPECT_EQ(Names(*r), std::vector<std::string>{"u2"});
}

TEST_F(UserQueryTest, NumberRangeMovesTheKeysetStartAndEnd) {
  const auto all = Populate(30);
  const std::string text =
      "number gt " + std::to_string(all[19].number) + " and number le " + std::to_string(all[22].number);
  const query::Node range = Filter(text);
  auto r = users_.Query({.environment_id = env_, .filter = &range, .budget = 5});
  ASSERT_TRUE(r);
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"u20", "u21", "u22"}));
  EXPECT_LE(r->rows_read, 4);  // started at u20, stopped past u22
  EXPECT_FALSE(r->budget_hit);
  EXPECT_EQ(r->next_after, 0);
}

TEST_F(UserQueryTest, MembersOfARecordAndArchivedUsers) {
  auto group = records_.Create({.environment_id = env_, .kind = "group"});
  ASSERT_TRUE(group);
  Populate(5);
  const auto members = Populate(3, {{"group", group->id}}, "m");
  auto archived = users_.Update(env_, members[1].id, [](core::User& u) -> core::Status {
    u.archived = true;
    return {};
  }, std::nullopt);
  ASSERT_TRUE(archived);

  auto r = users_.Query({.environment_id = env_, .within_record = group->id});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->plan, "members");
  EXPECT_EQ(r->users.size(), 2u);  // the archived member is left out
  EXPECT_EQ(r->rows_read, 3);
  r = users_.Query({.environment_id = env_, .within_record = group->id, .archived = ArchivedUsers::kOnly});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->users.size(), 1u);
  EXPECT_EQ(r->users.front().id, members[1].id);
  r = users_.Query({.environment_id = env_, .archived = ArchivedUsers::kInclude});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->users.size(), 8u);
}

TEST_F(UserQueryTest, CountingKeepsReadingWithinTheBudget) {
  Populate(30);
  const query::Node even = Filter(R"(title eq "even")");
  auto r = users_.Query({.environment_id = env_, .filter = &even, .page_size = 3, .skip = 2, .count = true});
  ASSERT_TRUE(r);
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"u4", "u6", "u8"}));
  EXPECT_EQ(r->matched, 15);  // every even user, read to the end
  EXPECT_EQ(r->next_after, 0);
  r = users_.Query({.environment_id = env_, .filter = &even, .page_size = 3, .count = true, .budget = 10});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->matched, 5);  // u0..u8 within the 10 rows read
  EXPECT_TRUE(r->budget_hit);
  EXPECT_EQ(r->rows_read, 10);
}

TEST_F(UserQueryTest, ExtensionAttributesAreEvaluated) {
  Populate(4);
  const query::Node tagged = Filter(R"(urn:test:tag eq "x")");
  const query::Extension ext = [](const core::User& u, const query::AttrPath& p) -> std::optional<query::Values> {
    if (p.schema != "urn:test") return std::nullopt;
    return query::Values{query::Text(u.username == "u2" ? "x" : "y")};
  };
  auto r = users_.Query({.environment_id = env_, .filter = &tagged, .extension = ext});
  ASSERT_TRUE(r);
  EXPECT_EQ(Names(*r), std::vector<std::string>{"u2"});
}

}  // namespace
}  // namespace roster::service

namespace roster::service {
namespace {

TEST_F(UserQueryTest, CountIsExactAfterThisProcessWritesThoughKeptForASecond) {
  Populate(3);
  EXPECT_EQ(*users_.Count(env_), 3);
  const auto more = Populate(2, {}, "m");
  EXPECT_EQ(*users_.Count(env_), 5);  // creates drop the kept count
  ASSERT_TRUE(users_.Delete(env_, more[0].id));
  EXPECT_EQ(*users_.Count(env_), 4);
  // A row written behind the service's back (another process) shows once the second is over.
  ASSERT_TRUE(store_->DeleteUser(env_, more[1].id));
  EXPECT_EQ(*users_.Count(env_), 4);
  clock_.now += 1000;
  EXPECT_EQ(*users_.Count(env_), 3);
}

}  // namespace
}  // namespace roster::service
