#include "core/profile_codec.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace roster::core {
namespace {

TEST(ProfileCodecTest, RoundTripsEveryField) {
  User u;
  u.username = "Ada";
  Profile& p = u.profile;
  p.name = {"Ada L", "Ada", "King", "Lovelace", "Lady", "II"};
  p.display_name = "ada";
  p.emails = {{"home", "ada@example.com", true}, {"work", "ada@work.example", false}};
  p.phone_numbers = {{"mobile", "4143334444", true}};
  p.addresses = {{"Home", "1 Main", "Apt 2", "Milwaukee", "WI", "53202", "US", Geocode{1.5, -2.25}},
                 {"Work", "2 Main", "", "", "", "", "", std::nullopt}};
  p.photos = {{"thumbnail", "http://a/b.png"}};
  p.maiden_name = "Byron";
  p.birth_date = "1815-12-10";
  p.gender = "Female";
  p.ssn = "123456789";
  p.mrns = {{"inst", "mrn1"}};
  p.health_plans = {{"inst", "current", "g", "1", "2"}};
  p.guardians = {{"2", "father"}};
  p.languages = {{"English", "Expressed written"}};
  p.social_ids = {{"@ada", "twitter"}};
  p.extras_json = R"({"a":[1,2,{"b":null}]})";
  User back;
  ASSERT_TRUE(DecodeSealed(EncodeSealed(u), back).has_value());
  EXPECT_EQ(back.username, "Ada");
  EXPECT_EQ(back.profile, u.profile);
}

// Found by fuzz_profile_codec: a geocode Boost.JSON 1.81 would read back one ulp off.
TEST(ProfileCodecTest, RoundTripsGeocodesExactly) {
  User u;
  u.username = "geo";
  u.profile.addresses = {{"Home", "", "", "", "", "", "", Geocode{-46.582037902777444, 104.47399113092115}}};
  u.attributes["a"] = boost::json::serialize(boost::json::value(-172.43127776997827));
  User back;
  ASSERT_TRUE(DecodeSealed(EncodeSealed(u), back).has_value());
  ASSERT_EQ(back.profile.addresses.size(), 1u);
  EXPECT_EQ(back.profile.addresses[0].geocode, u.profile.addresses[0].geocode);
  EXPECT_EQ(back.profile, u.profile);
  EXPECT_EQ(back.attributes, u.attributes);
}

// Found by fuzz_profile_codec: a stored geocode member that is not a number threw out of
// DecodeSealed (boost::json::value::to_number). The geocode is left out instead.
TEST(ProfileCodecTest, AGeocodeThatIsNotANumberIsLeftOutNotThrown) {
  for (const char* text : {R"({"username":"geo","addresses":[{"type":"Home","geocode":{"latitude":"x","longitude":1.5}}]})",
                           R"({"username":"geo","addresses":[{"type":"Home","geocode":{"latitude":1,"longitude":null}}]})"}) {
    User back;
    ASSERT_TRUE(DecodeSealed(text, back).has_value()) << text;
    ASSERT_EQ(back.profile.addresses.size(), 1u);
    EXPECT_EQ(back.profile.addresses[0].type, "Home");
    EXPECT_FALSE(back.profile.addresses[0].geocode.has_value()) << text;
  }
}

TEST(ProfileCodecTest, RoundTripsExternalIdsAndAttributes) {
  User u;
  u.username = "a1";
  u.external_ids["facebook"] = "8887366";
  u.attributes["4f1c"] = R"({"k":[1,2]})";
  u.attributes["9a2b"] = R"("blue")";
  User back;
  ASSERT_TRUE(DecodeSealed(EncodeSealed(u), back).has_value());
  EXPECT_EQ(back.external_ids, u.external_ids);
  EXPECT_EQ(back.attributes, u.attributes);
}

TEST(ProfileCodecTest, ReadsDialectKeptValuesOfEarlierProfilesAsCanonical) {
  // Sealed before attributes and external ids were canonical.
  const std::string old = R"({"username":"a2","dialects":{"pingone":{"custom":{"4f1c":"blue"},"mfa":true},)"
                          R"("quickblox":{"facebook_id":"77","tag_list":"x"}}})";
  User back;
  ASSERT_TRUE(DecodeSealed(old, back).has_value());
  EXPECT_EQ(back.attributes.at("4f1c"), R"("blue")");
  EXPECT_EQ(back.external_ids.at("facebook"), "77");
  EXPECT_EQ(back.dialect_json.at("pingone"), R"({"mfa":true})");
  EXPECT_EQ(back.dialect_json.at("quickblox"), R"({"tag_list":"x"})");
}

TEST(ProfileCodecTest, RoundTripsArchiveExternalIdAndDialectData) {
  User u;
  u.username = "w1";
  u.archived = true;
  u.locked_at_ms = 1700000000000;
  u.unlock_at_ms = 1700000060000;
  u.external_id = "ext-42";
  u.dialect_json["quickblox"] = R"({"tag_list":"a,b","blob_id":7})";
  User back;
  ASSERT_TRUE(DecodeSealed(EncodeSealed(u), back).has_value());
  EXPECT_TRUE(back.archived);
  EXPECT_EQ(back.locked_at_ms, 1700000000000);
  EXPECT_EQ(back.unlock_at_ms, 1700000060000);
  EXPECT_TRUE(back.LockedAt(1700000059999));
  EXPECT_FALSE(back.LockedAt(1700000060000));
  EXPECT_EQ(back.external_id, "ext-42");
  ASSERT_EQ(back.dialect_json.size(), 1u);
  EXPECT_EQ(back.dialect_json["quickblox"], R"({"tag_list":"a,b","blob_id":7})");
  User plain;
  ASSERT_TRUE(DecodeSealed(EncodeSealed(User{}), plain).has_value());
  EXPECT_FALSE(plain.archived);
  EXPECT_FALSE(plain.LockedAt(1700000000000));
  EXPECT_TRUE(plain.dialect_json.empty());
}

TEST(ProfileCodecTest, RejectsGarbage) {
  User u;
  EXPECT_FALSE(DecodeSealed("not json", u).has_value());
  EXPECT_FALSE(DecodeSealed("[1,2]", u).has_value());
}

}  // namespace
}  // namespace roster::core
