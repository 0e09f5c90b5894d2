#include "dialects/catalyze/mapping.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace roster::dialects::catalyze {
namespace {

namespace json = boost::json;
constexpr std::int64_t kNow = 1623715200000;  // 2021-06-15

json::object Parse(std::string_view text) { return json::parse(text).as_object(); }

// The seed page's own sample request (seeds 000/004), server-owned fields included.
std::string SeedUser() {
  std::ifstream in(ROSTER_TEST_DATA "/catalyze/seed_user.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CatalyzeMappingTest, SeedUserRoundTripsThroughTheCanonicalUser) {
  const json::object in = Parse(SeedUser());
  core::User user;
  ASSERT_TRUE(ApplyFields(in, user, kNow).has_value());
  ASSERT_TRUE(CheckRequired(user).has_value());
  EXPECT_EQ(user.username, "username");
  EXPECT_EQ(user.profile.name.given_name, "first name");
  EXPECT_EQ(user.profile.PrimaryEmail()->value, "primary@email.com");
  user.id = "a564ef59-085b-4803-b514-37288e32709e";
  json::object out = ToWire(user, kNow);
  // Issue 15: the username comes back (the seed's own create response carries it, and the
  // iOS SDK's tests read it after sign-in); it used to be left out.
  EXPECT_EQ(out["username"], "username");
  EXPECT_FALSE(out.contains("password"));
  EXPECT_EQ(out["age"], 21);  // derived from dob, not the 99 sent
  for (const char* key : {"email", "name", "phoneNumber", "dob", "addresses", "gender", "maritalStatus", "religion",
                          "race", "ethnicity", "guardians", "confCode", "languages", "socialIds", "mrns",
                          "healthPlans", "avatar", "ssn", "profilePhoto", "extras"})
    EXPECT_EQ(out[key], in.at(key)) << key;
}

// The iOS SDK's testSave sets `type` ("Physician") and reads it back: kept as the
// canonical user type, cleared by null, refused when not a string.
TEST(CatalyzeMappingTest, TypeIsTheCanonicalUserType) {
  core::User user;
  ASSERT_TRUE(ApplyFields(Parse(R"({"type":"Physician"})"), user, kNow).has_value());
  EXPECT_EQ(user.profile.user_type, "Physician");
  EXPECT_EQ(ToWire(user, kNow)["type"], "Physician");
  ASSERT_TRUE(ApplyFields(Parse(R"({"type":null})"), user, kNow).has_value());
  EXPECT_TRUE(user.profile.user_type.empty());
  EXPECT_FALSE(ToWire(user, kNow).contains("type"));
  auto bad = ApplyFields(Parse(R"({"type":3})"), user, kNow);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().field, "type");
}

TEST(CatalyzeMappingTest, MergeReplacesPresentKeysAndNullClears) {
  core::User user;
  ASSERT_TRUE(ApplyFields(Parse(SeedUser()), user, kNow).has_value());
  ASSERT_TRUE(ApplyFields(Parse(R"({"email":{"work":"new@work.com","other":null},"gender":null,
                                    "mrns":[{"institutionsId":"i","mrn":"m"}],"extras":[1,2]})"),
                          user, kNow)
                  .has_value());
  json::object out = ToWire(user, kNow);
  EXPECT_EQ(out["email"], Parse(R"({"primary":"primary@email.com","secondary":"secondary@email.com","work":"new@work.com"})"));
  EXPECT_FALSE(out.contains("gender"));
  EXPECT_EQ(out["mrns"].as_array().size(), 1u);
  EXPECT_EQ(out["extras"], json::parse("[1,2]"));
  EXPECT_EQ(out["ssn"], "123456789");
}

TEST(CatalyzeMappingTest, BadValuesNameTheField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"username":5})", "username"},
      {R"({"username":""})", "username"},
      {R"({"email":"a@b.co"})", "email"},
      {R"({"email":null})", "email"},
      {R"({"email":{"primary":"nope"}})", "email.primary"},
      {R"({"email":{"work":7}})", "email.work"},
      {R"({"name":{"firstName":["x"]}})", "name.firstName"},
      {R"({"phoneNumber":{"home":"call me"}})", "phoneNumber.home"},
      {R"({"phoneNumber":{"preferred":"pager"}})", "phoneNumber.preferred"},
      {R"({"dob":"2001-02-29"})", "dob"},
      {R"({"dob":"2999-01-01"})", "dob"},
      {R"({"dob":20000101})", "dob"},
      {R"({"addresses":{}})", "addresses"},
      {R"({"addresses":[5]})", "addresses[0]"},
      {R"({"addresses":[{"geocode":{"latitude":91,"longitude":0}}]})", "addresses[0].geocode.latitude"},
      {R"({"addresses":[{"geocode":{"latitude":"1","longitude":0}}]})", "addresses[0].geocode.latitude"},
      {R"({"mrns":[{"mrn":1}]})", "mrns[0].mrn"},
      {R"({"ssn":123456789})", "ssn"},
      {R"({"gender":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})", "gender"},
  };
  for (const auto& c : cases) {
    core::User user;
    auto st = ApplyFields(Parse(c.body), user, kNow);
    ASSERT_FALSE(st.has_value()) << c.body;
    EXPECT_EQ(st.error().code, core::ErrorCode::kInvalidArgument) << c.body;
    EXPECT_EQ(st.error().field, c.field) << c.body;
    EXPECT_NE(st.error().message.find(c.field), std::string::npos) << st.error().message;
  }
}

TEST(CatalyzeMappingTest, RequiredFieldsAndPassword) {
  core::User user;
  EXPECT_EQ(CheckRequired(user).error().field, "username");
  user.username = "u";
  EXPECT_EQ(CheckRequired(user).error().field, "email.primary");
  EXPECT_FALSE(ReadPassword(Parse(R"({"password":1})")).has_value());
  EXPECT_FALSE(ReadPassword(Parse("{}"))->has_value());
  EXPECT_EQ(**ReadPassword(Parse(R"({"password":"p"})")), "p");
}

}  // namespace
}  // namespace roster::dialects::catalyze
