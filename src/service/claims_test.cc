// Claims: every unique identifier of a user is derived by UserService and written in the
// user's own transaction; the attribute schema's value rules are the directory's.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/pattern.h"
#include "service/attribute_schema.h"
#include "service/record_service.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

namespace json = boost::json;
using core::ErrorCode;

class ClaimsTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  ClaimsTest()
      : ServiceFixture("roster-claims-") {
    env_ = directory_.CreateEnvironment("default")->id;
  }

  // Declares an attribute as a dialect would (the body layout AttributeFromRecord reads).
  std::string Declare(json::object body) {
    NewRecordRequest r;
    r.environment_id = env_;
    r.kind = kAttributeKind;
    body.emplace("enabled", true);
    r.body = std::move(body);
    return records_.Create(r)->id;
  }

  core::Result<CreatedUser> Create(const std::string& username, const std::function<void(core::User&)>& set = {},
                                    WriteOptions options = {}) {
    CreateUserRequest r;
    r.environment_id = env_;
    r.user.username = username;
    if (set) set(r.user);
    r.options = options;
    return users_.Create(r);
  }

  core::Result<core::User> Change(const std::string& id, const std::function<void(core::User&)>& set,
                                  WriteOptions options = {}) {
    return users_.Update(
        env_, id,
        [&](core::User& u) -> core::Status {
          set(u);
          return {};
        },
        std::nullopt, options);
  }

  static void Email(core::User& u, const std::string& email) { u.profile.emails = {{"work", email, true}}; }

  std::string env_;
};

TEST_F(ClaimsTest, ExternalIdsAreUniquePerSourceAndFoundByTheirClaim) {
  auto a = Create("a", [](core::User& u) {
    u.external_id = "E-1";
    u.external_ids["facebook"] = "77";
  });
  ASSERT_TRUE(a.has_value());
  auto same_external = Create("b", [](core::User& u) { u.external_id = "E-1"; });
  ASSERT_FALSE(same_external.has_value());
  EXPECT_EQ(same_external.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(same_external.error().field, kExternalIdClaim);
  auto same_facebook = Create("b", [](core::User& u) { u.external_ids["facebook"] = "77"; });
  EXPECT_EQ(same_facebook.error().field, ExternalIdClaimKind("facebook"));
  // The same value under another source is another claim; exact, not folded.
  EXPECT_TRUE(Create("b", [](core::User& u) {
                u.external_ids["other"] = "77";
                u.external_id = "e-1";
              }).has_value());
  EXPECT_EQ(users_.FindBy(env_, kExternalIdClaim, "E-1")->front().id, a->user.id);
  EXPECT_EQ(users_.FindBy(env_, ExternalIdClaimKind("facebook"), "77")->front().id, a->user.id);
  EXPECT_TRUE(users_.FindBy(env_, kExternalIdClaim, "")->empty());
  // Dropping the value frees it in the same write.
  ASSERT_TRUE(Change(a->user.id, [](core::User& u) { u.external_ids.clear(); }).has_value());
  EXPECT_TRUE(Create("c", [](core::User& u) { u.external_ids["facebook"] = "77"; }).has_value());
}

TEST_F(ClaimsTest, AnExclusiveEmailIsRefusedWhileAnyUserHoldsItAndOnlyWhenAWriteSetsIt) {
  WriteOptions exclusive;
  exclusive.exclusive_email = true;
  auto plain = Create("plain", [](core::User& u) { Email(u, "Shared@Example.com"); });
  ASSERT_TRUE(plain.has_value());
  // Another API without the rule may share the email...
  auto twin = Create("twin", [](core::User& u) { Email(u, "shared@example.com"); });
  ASSERT_TRUE(twin.has_value());
  // ...but a write with the rule may not take an email anyone holds.
  auto refused = Create("qb", [](core::User& u) { Email(u, "shared@example.com"); }, exclusive);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().field, kEmailClaim);
  auto qb = Create("qb", [](core::User& u) { Email(u, "qb@example.com"); }, exclusive);
  ASSERT_TRUE(qb.has_value());
  EXPECT_EQ(Create("qb2", [](core::User& u) { Email(u, "QB@example.com"); }, exclusive).error().field, kEmailClaim);
  // The twin keeps working under the rule as long as its email is left as it is.
  EXPECT_TRUE(Change(twin->user.id, [](core::User& u) { u.profile.title = "Dr"; }, exclusive).has_value());
  EXPECT_EQ(Change(twin->user.id, [](core::User& u) { Email(u, "qb@example.com"); }, exclusive).error().field,
            kEmailClaim);
  // Conflicts reports what the write would be refused for, and nothing the user holds itself.
  core::User probe;
  probe.username = "Plain";
  Email(probe, "qb@example.com");
  EXPECT_EQ(*users_.Conflicts(env_, probe, exclusive), (std::vector<std::string>{kUsernameClaim, kEmailClaim}));
  auto self = users_.Get(env_, qb->user.id);
  EXPECT_TRUE(users_.Conflicts(env_, *self, exclusive)->empty());
}

TEST_F(ClaimsTest, UniqueSchemaAttributesAreClaimsAndValuesFollowTheSchemaRules) {
  const std::string badge = Declare({{"name", "badge"}, {"type", "STRING"}, {"unique", true}});
  const std::string color = Declare({{"name", "color"},
                                     {"type", "STRING"},
                                     {"enumeratedValues", json::array{json::object{{"value", "red"}}}},
                                     {"regexValidation", json::object{{"pattern", "[a-z]+"}}}});
  auto a = Create("a", [&](core::User& u) { u.attributes[badge] = R"("B-1")"; });
  ASSERT_TRUE(a.has_value());
  auto clash = Create("b", [&](core::User& u) { u.attributes[badge] = R"("b-1")"; });  // folded: the same
  ASSERT_FALSE(clash.has_value());
  EXPECT_EQ(clash.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(clash.error().field, core::AttributeClaimKind(badge));
  // A value against the schema is refused whichever API sends it, naming the attribute.
  auto wrong = Create("b", [&](core::User& u) { u.attributes[color] = R"("blue")"; });
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(wrong.error().field, "color");
  EXPECT_EQ(Create("b", [&](core::User& u) { u.attributes[badge] = "42"; }).error().field, "badge");
  EXPECT_EQ(Create("b", [&](core::User& u) { u.attributes["undeclared"] = R"("x")"; }).error().field, "attributes");
  EXPECT_TRUE(Create("b", [&](core::User& u) { u.attributes[color] = R"("red")"; }).has_value());
  // Deleting the holder frees the value at once.
  ASSERT_TRUE(users_.Delete(env_, a->user.id).has_value());
  EXPECT_TRUE(Create("c", [&](core::User& u) { u.attributes[badge] = R"("B-1")"; }).has_value());
}

TEST(AttributeRules, CheckTypesSizesEnumerationsAndPatterns) {
  using Kind = core::AttributeViolation::Kind;
  core::AttributeDefinition a;
  a.name = "tags";
  a.type = "STRING";
  a.multi_valued = true;
  EXPECT_FALSE(core::CheckAttributeValue(a, json::array{"x", "y"}).has_value());
  EXPECT_EQ(core::CheckAttributeValue(a, "x")->kind, Kind::kInvalid);
  json::array many(core::kMaxAttributeValues + 1, json::value("x"));
  EXPECT_EQ(core::CheckAttributeValue(a, many)->kind, Kind::kSizeLimit);
  a.multi_valued = false;
  EXPECT_EQ(core::CheckAttributeValue(a, json::array{"x"})->kind, Kind::kInvalid);
  EXPECT_EQ(core::CheckAttributeValue(a, json::string(core::kMaxAttributeString + 1, 'x'))->kind, Kind::kSizeLimit);
  a.enumerated = {{"red", "", false}, {"old", "", true}};
  EXPECT_FALSE(core::CheckAttributeValue(a, "red").has_value());
  EXPECT_EQ(core::CheckAttributeValue(a, "old")->kind, Kind::kNotEnumerated);  // archived
  a.enumerated.clear();
  a.pattern = core::PatternRule{"[A-Z]{2}", "two capitals", {}, {}, nullptr};
  a.pattern->compiled = std::make_shared<const core::Pattern>(*core::Pattern::Compile("[A-Z]{2}"));
  EXPECT_FALSE(core::CheckAttributeValue(a, "AB").has_value());
  auto v = core::CheckAttributeValue(a, "ABC");
  EXPECT_EQ(v->kind, Kind::kPattern);
  EXPECT_EQ(v->message, "two capitals");
  a.type = "BOOLEAN";
  EXPECT_EQ(core::CheckAttributeValue(a, "true")->kind, Kind::kInvalid);
  a.type = "JSON";
  EXPECT_FALSE(core::CheckAttributeValue(a, json::object{{"k", 1}}).has_value());
  EXPECT_EQ(core::CheckAttributeValue(a, 1)->kind, Kind::kInvalid);
}

}  // namespace
}  // namespace roster::service
