#include "service/invitations.h"

#include <gtest/gtest.h>

#include <string>

#include "service/service_test_support.h"

namespace roster::service {
namespace {

using core::ErrorCode;

class InvitationAccessTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  InvitationAccessTest()
      : ServiceFixture("roster-invitations-") {
    env_ = directory_.CreateEnvironment("default")->id;
  }
  core::Principal As(core::Scopes scopes) {
    core::Principal p;
    p.environment_id = env_;
    p.scopes = scopes;
    return p;
  }
  InvitationAccess Admin() { return InvitationAccess(records_, As(core::kAllScopes)); }
  std::string Location(const std::string& name) {
    LocationAccess locations(records_, As(core::kAllScopes));
    LocationTypeFields t;
    t.name = "Type " + name;
    auto type = locations.CreateType(t);
    EXPECT_TRUE(type.has_value());
    LocationFields f;
    f.name = name;
    f.type_id = type ? type->id : "";
    auto l = locations.Create(f);
    EXPECT_TRUE(l.has_value());
    return l ? l->id : std::string();
  }

  std::string env_;
};

TEST_F(InvitationAccessTest, CreatesReadsAndFindsByEmail) {
  const std::string a = Location("North"), b = Location("South");
  InvitationFields f;
  f.email = "JDoe@Example.org";
  f.role = "App Editor";
  f.locations = {{a, b}, b};
  f.profile = "Facility User";
  f.user_data = boost::json::object{{"k", "v"}};
  f.tableau_groups = {"city"};
  f.invited_by = "inviter";
  auto created = Admin().Create(f);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(created->body.at("email").as_string(), "jdoe@example.org");
  EXPECT_EQ(created->body.at("primary_location_id").as_string(), b);
  EXPECT_EQ(created->body.at("assigned_location_ids").as_array().size(), 2u);
  EXPECT_EQ(created->body.at("profile").as_string(), "Facility User");
  EXPECT_TRUE(created->body.at("tableau_role").is_null());
  auto read = Admin().Get(created->id);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->body.at("role").as_string(), "App Editor");
  auto found = Admin().FindByEmail("JDOE@example.org");
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->id, created->id);
  auto listed = Admin().List(0, 10);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(InvitationAccessTest, RefusesASecondInvitationOfTheSameEmail) {
  InvitationFields f;
  f.email = "a@example.org";
  f.role = "Read Only";
  ASSERT_TRUE(Admin().Create(f).has_value());
  f.email = "A@EXAMPLE.ORG";
  auto again = Admin().Create(f);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().message, kInvitationTaken);
}

TEST_F(InvitationAccessTest, RefusesBadFieldsAndWritesNothing) {
  InvitationFields f;
  f.email = "not-an-email";
  f.role = "Read Only";
  auto bad_email = Admin().Create(f);
  ASSERT_FALSE(bad_email.has_value());
  EXPECT_EQ(bad_email.error().message, "User has an invalid email address for their email");
  f.email = "b@example.org";
  f.role = "";
  EXPECT_EQ(Admin().Create(f).error().code, ErrorCode::kInvalidArgument);
  f.role = "Read Only";
  f.locations = {{"00000000-0000-4000-8000-000000000000"}, ""};
  auto bad_location = Admin().Create(f);
  ASSERT_FALSE(bad_location.has_value());
  EXPECT_EQ(bad_location.error().code, ErrorCode::kInvalidArgument);
  auto listed = Admin().List(0, 10);
  ASSERT_TRUE(listed.has_value());
  EXPECT_TRUE(listed->empty());
}

TEST_F(InvitationAccessTest, InvitingNeedsCredentialsAdmin) {
  InvitationFields f;
  f.email = "c@example.org";
  f.role = "Read Only";
  auto denied = InvitationAccess(records_, As(core::kAllScopes & ~core::kCredentialsAdmin)).Create(f);
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
}

TEST_F(InvitationAccessTest, AcceptTakesThePendingInvitationOnce) {
  InvitationFields f;
  f.email = "joiner@example.org";
  f.role = "Read Only";
  auto created = Admin().Create(f);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(Admin().Accept("Joiner@Example.org")->value().id, created->id);
  // Taken: no longer pending, not accepted twice, and the email may be invited again.
  EXPECT_FALSE(Admin().Accept("joiner@example.org")->has_value());
  EXPECT_FALSE(Admin().FindByEmail("joiner@example.org")->has_value());
  EXPECT_EQ(Admin().Get(created->id).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(Admin().Create(f).has_value());
  // Accepting needs credentials:admin.
  EXPECT_EQ(InvitationAccess(records_, As(core::kAllScopes & ~core::kCredentialsAdmin)).Accept(f.email).error().code,
            ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace roster::service
