#include "dialects/quickblox/mapping.h"

#include <gtest/gtest.h>

namespace roster::dialects::quickblox {
namespace {

namespace json = boost::json;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

// The 422 body of `errors` as an object (empty when there are none).
json::object ErrorsOf(const FieldErrors& errors) {
  if (errors.empty()) return {};
  return json::parse(errors.Response().body).as_object().at("errors").as_object();
}

TEST(QuickBloxMapping, CreateMapsEveryFieldAndTrimsTrailingWhitespace) {
  core::User user;
  FieldErrors errors;
  ApplyUser(Obj(R"({"login":"alice  ","email":"Alice@Example.com ","full_name":"Alice A ","phone":"+1 555 0001",
                    "website":"https://a.example","external_user_id":"1236672","facebook_id":"8887366",
                    "blob_id":"42","custom_data":"{\"plan\":\"free\"}","tag_list":" alpha, beta,,alpha",
                    "age_over16":"true","parents_contacts":"mum"})"),
            true, user, errors);
  ASSERT_TRUE(errors.empty()) << json::serialize(ErrorsOf(errors));
  EXPECT_EQ(user.username, "alice");
  ASSERT_NE(user.profile.PrimaryEmail(), nullptr);
  EXPECT_EQ(user.profile.PrimaryEmail()->value, "Alice@Example.com");
  EXPECT_EQ(user.profile.name.formatted, "Alice A");
  EXPECT_EQ(user.external_id, "1236672");
  user.number = 7;
  const json::object wire = ToWire(user);
  EXPECT_EQ(wire.at("id").as_int64(), 7);
  EXPECT_EQ(wire.at("login").as_string(), "alice");
  EXPECT_EQ(wire.at("phone").as_string(), "+1 555 0001");
  EXPECT_EQ(wire.at("website").as_string(), "https://a.example");
  EXPECT_EQ(wire.at("external_user_id").to_number<std::int64_t>(), 1236672);
  EXPECT_EQ(wire.at("facebook_id").as_string(), "8887366");
  EXPECT_EQ(wire.at("blob_id").as_int64(), 42);
  EXPECT_EQ(wire.at("custom_data").as_string(), "{\"plan\":\"free\"}");
  EXPECT_EQ(wire.at("user_tags").as_string(), "alpha,beta");
  EXPECT_TRUE(wire.at("age_over16").as_bool());
  EXPECT_FALSE(wire.at("allow_sales_activities").as_bool());
  EXPECT_EQ(wire.at("parents_contacts").as_string(), "mum");
  EXPECT_TRUE(wire.at("twitter_id").is_null());
  EXPECT_TRUE(wire.at("last_request_at").is_null());
  EXPECT_FALSE(wire.contains("password"));
  EXPECT_EQ(user.external_id, "1236672");
  EXPECT_EQ(user.external_ids.at(kFacebookSource), "8887366");
  EXPECT_EQ(WireField(service::kExternalIdClaim, user), "external_user_id");
  EXPECT_EQ(WireField(service::ExternalIdClaimKind(kFacebookSource), user), "facebook_id");
  EXPECT_EQ(WireField(service::kEmailClaim, user), "email");
}

TEST(QuickBloxMapping, EmailOnlyUserHasTheEmailAsUsernameAndNoLogin) {
  core::User user;
  FieldErrors errors;
  ApplyUser(Obj(R"({"email":"bob@example.com"})"), true, user, errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(user.username, "bob@example.com");
  EXPECT_TRUE(HasNoLogin(user));
  EXPECT_TRUE(ToWire(user).at("login").is_null());
  // Changing the email moves the username along; setting a login ends that.
  ApplyUser(Obj(R"({"email":"bob2@example.com"})"), false, user, errors);
  EXPECT_EQ(user.username, "bob2@example.com");
  ApplyUser(Obj(R"({"login":"bobby"})"), false, user, errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(user.username, "bobby");
  EXPECT_FALSE(HasNoLogin(user));
  EXPECT_EQ(ToWire(user).at("login").as_string(), "bobby");
}

TEST(QuickBloxMapping, ValidationCollectsQuickBloxMessages) {
  core::User user;
  FieldErrors errors;
  ApplyUser(Obj(R"({"login":"x","email":"not-an-email","full_name":")" + std::string(201, 'a') +
                R"(","phone":"call me","external_user_id":"4294967296","facebook_id":"xyz!",
                    "tag_list":"a,b,c,d,e,f","blob_id":"-1","age_over16":"maybe"})"),
            true, user, errors);
  const json::object e = ErrorsOf(errors);
  EXPECT_EQ(e.at("email").as_array()[0].as_string(), "should look like an email address");
  EXPECT_EQ(e.at("full_name").as_array()[0].as_string(), "is too long (maximum is 200 characters)");
  EXPECT_EQ(e.at("phone").as_array()[0].as_string(), "is not a number");
  EXPECT_EQ(e.at("external_user_id").as_array()[0].as_string(), "must be less than 4 bytes");
  EXPECT_EQ(e.at("facebook_id").as_array()[0].as_string(), "should be hexadecimal or decimal number");
  EXPECT_TRUE(e.contains("tag_list"));
  EXPECT_EQ(e.at("blob_id").as_array()[0].as_string(), "is not a number");
  EXPECT_EQ(e.at("age_over16").as_array()[0].as_string(), "is invalid");

  FieldErrors more;
  ApplyUser(Obj(R"({"external_user_id":"12ab"})"), true, user = {}, more);
  auto password = ReadPassword(Obj(R"({"password":"short"})"), true, more);
  EXPECT_FALSE(password);
  const json::object m = ErrorsOf(more);
  EXPECT_EQ(m.at("external_user_id").as_array()[0].as_string(), "is not a number");
  EXPECT_EQ(m.at("base").as_array()[0].as_string(), "Login or email required");
  EXPECT_EQ(m.at("password").as_array()[0].as_string(), "is too short (minimum is 8 characters)");
}

TEST(QuickBloxMapping, PasswordsAreNotTrimmedAndRequiredOnCreate) {
  FieldErrors errors;
  EXPECT_EQ(ReadPassword(Obj(R"({"password":"secret pw  "})"), true, errors).value_or(""), "secret pw  ");
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(ReadPassword(Obj(R"({})"), false, errors));
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(ReadPassword(Obj(R"({})"), true, errors));
  EXPECT_EQ(ErrorsOf(errors).at("password").as_array()[0].as_string(), "can't be blank");
}

TEST(QuickBloxMapping, EmptyValuesClearAndJsonNumbersAreAccepted) {
  core::User user;
  FieldErrors errors;
  ApplyUser(Obj(R"({"login":"carol","external_user_id":777,"blob_id":5,"phone":"+15550001234","tag_list":["t1","t2"]})"),
            true, user, errors);
  ASSERT_TRUE(errors.empty()) << json::serialize(ErrorsOf(errors));
  EXPECT_EQ(user.external_id, "777");
  EXPECT_EQ(ToWire(user).at("user_tags").as_string(), "t1,t2");
  ApplyUser(Obj(R"({"external_user_id":"","blob_id":null,"phone":"","tag_list":""})"), false, user, errors);
  ASSERT_TRUE(errors.empty());
  const json::object wire = ToWire(user);
  EXPECT_TRUE(wire.at("external_user_id").is_null());
  EXPECT_TRUE(wire.at("blob_id").is_null());
  EXPECT_TRUE(wire.at("phone").is_null());
  EXPECT_TRUE(wire.at("user_tags").is_null());
}

TEST(QuickBloxMapping, FullNameFallsBackToTheStructuredName) {
  core::User user;
  user.username = "dave";
  user.profile.name.given_name = "Dave";
  user.profile.name.family_name = "Jones";
  EXPECT_EQ(ToWire(user).at("full_name").as_string(), "Dave Jones");
  EXPECT_EQ(SplitTags(" a ,b,a,, c"), (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace roster::dialects::quickblox
