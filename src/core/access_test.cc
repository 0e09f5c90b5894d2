#include "core/access.h"

#include <gtest/gtest.h>

namespace roster::core {
namespace {

User Patient() {
  User u;
  u.id = "11111111-1111-4111-8111-111111111111";
  u.username = "pat";
  u.active = true;
  u.profile.name.given_name = "Pat";
  u.profile.emails = {{"home", "pat@example.com", true}};
  u.profile.phone_numbers = {{"mobile", "+15550100", false}};
  u.profile.ssn = "123-45-6789";
  u.profile.birth_date = "1980-02-03";
  u.profile.addresses = {Address{"home", "1 Main St", "", "Springfield", "IL", "62701", "US", std::nullopt}};
  u.profile.mrns = {{"inst", "MRN-1"}};
  u.attributes["a-diagnosis"] = "\"flu\"";
  u.attributes["a-team"] = "\"blue\"";
  return u;
}

AttributeSchema Schema() {
  AttributeSchema schema;
  AttributeDefinition diagnosis;
  diagnosis.id = "a-diagnosis";
  diagnosis.name = "diagnosis";
  diagnosis.phi = true;
  AttributeDefinition team;
  team.id = "a-team";
  team.name = "team";
  schema.attributes = {diagnosis, team};
  return schema;
}

Principal With(Scopes scopes, std::string self = {}) {
  Principal p;
  p.environment_id = "env";
  p.scopes = scopes;
  p.self_user_id = std::move(self);
  return p;
}

TEST(AccessTest, ScopeNamesRoundTripAndUnknownNamesAreNamed) {
  const Scopes some = kProfileRead | kPhiWrite | kSignUp;
  EXPECT_EQ(ScopeNames(some), (std::vector<std::string>{"profile:read", "phi:write", "signup"}));
  EXPECT_EQ(ParseScopes(ScopeNames(some)), some);
  EXPECT_EQ(ParseScopes({"all"}), kAllScopes);
  EXPECT_EQ(ParseScopes({"none"}), Scopes{0});
  std::string unknown;
  EXPECT_FALSE(ParseScopes({"profile:read", "root"}, &unknown).has_value());
  EXPECT_EQ(unknown, "root");
  auto from_cli = ScopesFromNames({"phi:read", "bogus"});
  ASSERT_FALSE(from_cli.has_value());
  EXPECT_EQ(from_cli.error().field, "scope");
  EXPECT_NE(from_cli.error().message.find("bogus"), std::string::npos);
  EXPECT_FALSE(ScopesFromNames({})->has_value());
  EXPECT_EQ(ParseApis({"catalyze", "quickblox"}), Apis{kCatalyzeApi | kQuickBloxApi});
  EXPECT_EQ(ParseApis({"all"}), kAllApis);
  EXPECT_FALSE(ParseApis({"ldap"}).has_value());
  EXPECT_EQ(ApiNames(kAllApis), (std::vector<std::string>{"all"}));
}

TEST(AccessTest, DefaultsFollowEachPlatformsModelAndNoManagementCredentialHasPhiOrPasswordSet) {
  EXPECT_EQ(DefaultScopes(CredentialKind::kAdminKey, kCatalyzeApi), kAllScopes);
  EXPECT_EQ(DefaultScopes(CredentialKind::kAppKey, kCatalyzeApi), Scopes{kSignUp});
  EXPECT_EQ(DefaultScopes(CredentialKind::kQuickBloxApp, kQuickBloxApi), Scopes{kSignUp | kProfileRead});
  EXPECT_EQ(DefaultScopes(CredentialKind::kUserSession, kCatalyzeApi), Scopes{kPasswordSet});
  EXPECT_EQ(DefaultScopes(CredentialKind::kUserSession, kQuickBloxApi), Scopes{0});
  for (auto [kind, api] : {std::pair{CredentialKind::kWorkerApp, kPingOneApi},
                           std::pair{CredentialKind::kWebUserKey, kCommCareApi},
                           std::pair{CredentialKind::kAppKey, kQuickBloxApi}}) {
    const Scopes s = DefaultScopes(kind, api);
    EXPECT_TRUE((s & kProfileRead) && (s & kProfileWrite) && (s & kUsersList)) << CredentialKindName(kind);
    EXPECT_FALSE(s & (kPhiRead | kPhiWrite | kPasswordSet | kCredentialsAdmin)) << CredentialKindName(kind);
  }
  EXPECT_TRUE(DefaultScopes(CredentialKind::kWorkerApp, kPingOneApi) & kSchemaWrite);
}

TEST(AccessTest, RedactOmitsPhiAndContactsByScopeButNeverFromOnesOwnView) {
  const AttributeSchema schema = Schema();
  User u = Patient();
  Redact(With(kProfileRead | kContactRead), u, &schema);
  EXPECT_TRUE(u.profile.ssn.empty());
  EXPECT_TRUE(u.profile.birth_date.empty());
  EXPECT_TRUE(u.profile.addresses.empty());
  EXPECT_TRUE(u.profile.mrns.empty());
  EXPECT_FALSE(u.attributes.contains("a-diagnosis"));
  EXPECT_EQ(u.attributes.at("a-team"), "\"blue\"");
  EXPECT_EQ(u.profile.emails.size(), 1u);
  EXPECT_EQ(u.profile.name.given_name, "Pat");

  User hidden = Patient();
  Redact(With(kProfileRead | kPhiRead), hidden, &schema);
  EXPECT_TRUE(hidden.profile.emails.empty());
  EXPECT_TRUE(hidden.profile.phone_numbers.empty());
  EXPECT_EQ(hidden.profile.ssn, "123-45-6789");

  User own = Patient();
  Redact(With(0, own.id), own, &schema);
  EXPECT_EQ(own.profile, Patient().profile);
  EXPECT_EQ(own.attributes, Patient().attributes);
  User all = Patient();
  Redact(With(kAllScopes), all, &schema);
  EXPECT_EQ(all.profile, Patient().profile);
  EXPECT_EQ(all.attributes, Patient().attributes);
}

TEST(AccessTest, WritingPhiNeedsPhiWriteAndTheErrorNamesTheField) {
  const AttributeSchema schema = Schema();
  const User before = Patient();
  User after = before;
  after.profile.ssn = "987-65-4321";
  auto st = CheckChange(With(kProfileWrite | kPhiRead), &before, after, &schema);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(st.error().field, "ssn");

  User attr = before;
  attr.attributes["a-diagnosis"] = "\"measles\"";
  auto refused = CheckChange(With(kProfileWrite), &before, attr, &schema);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().field, "diagnosis");

  User fine = before;
  fine.profile.ssn = "987-65-4321";
  EXPECT_TRUE(CheckChange(With(kProfileWrite | kPhiWrite), &before, fine, &schema).has_value());

  // A new user made for someone else: PHI needs phi:write too.
  User created = Patient();
  created.id.clear();
  auto made = CheckChange(With(kProfileWrite), nullptr, created, &schema);
  ASSERT_FALSE(made.has_value());
  EXPECT_EQ(made.error().field, "ssn");
}

TEST(AccessTest, PhiAndContactsACredentialNeverSawAreKeptWhenAReplaceLeavesThemOut) {
  const AttributeSchema schema = Schema();
  const User before = Patient();
  User replaced;  // a full replace by a credential that received the redacted user
  replaced.id = before.id;
  replaced.username = before.username;
  replaced.active = true;
  replaced.profile.name.given_name = "Patricia";
  replaced.attributes["a-team"] = "\"red\"";
  ASSERT_TRUE(CheckChange(With(kProfileWrite), &before, replaced, &schema).has_value());
  EXPECT_EQ(replaced.profile.ssn, before.profile.ssn);
  EXPECT_EQ(replaced.profile.addresses, before.profile.addresses);
  EXPECT_EQ(replaced.profile.emails, before.profile.emails);
  EXPECT_EQ(replaced.attributes.at("a-diagnosis"), "\"flu\"");
  EXPECT_EQ(replaced.attributes.at("a-team"), "\"red\"");
  EXPECT_EQ(replaced.profile.name.given_name, "Patricia");

  // One that could see them and left them out erases them: that is a PHI write.
  User cleared = before;
  cleared.profile.addresses.clear();
  auto st = CheckChange(With(kProfileWrite | kPhiRead), &before, cleared, &schema);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().field, "addresses");
}

TEST(AccessTest, OwnDataAndSignUpAreTheUsersOwnButActiveIsTheAdministrators) {
  const AttributeSchema schema = Schema();
  const User before = Patient();
  User mine = before;
  mine.profile.ssn = "000-00-0000";
  EXPECT_TRUE(CheckChange(With(0, before.id), &before, mine, &schema).has_value());

  User signing_up = Patient();
  signing_up.id.clear();
  EXPECT_TRUE(CheckChange(With(kSignUp), nullptr, signing_up, &schema).has_value());

  User activated = before;
  activated.active = false;
  auto st = CheckChange(With(0, before.id), &before, activated, &schema);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().field, "active");
  User same = before;  // sending its own state back unchanged is fine
  EXPECT_TRUE(CheckChange(With(0, before.id), &before, same, &schema).has_value());
  User archived = before;
  archived.archived = true;
  EXPECT_TRUE(CheckChange(With(kProfileWrite | kPhiWrite), &before, archived, &schema).has_value());
}

TEST(AccessTest, WhoMayReadListWriteAndSetPasswords) {
  const std::string me = "11111111-1111-4111-8111-111111111111";
  const std::string other = "22222222-2222-4222-8222-222222222222";
  EXPECT_TRUE(MayRead(With(0, me), me).has_value());
  EXPECT_EQ(MayRead(With(0, me), other).error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(MayRead(With(kProfileRead), other).has_value());
  EXPECT_FALSE(MayList(With(kProfileRead)).has_value());
  EXPECT_TRUE(MayList(With(kUsersList)).has_value());
  EXPECT_TRUE(MayWrite(With(0, me), me).has_value());
  EXPECT_FALSE(MayWrite(With(kProfileRead | kSignUp), other).has_value());
  EXPECT_TRUE(MayCreate(With(kSignUp)).has_value());
  EXPECT_FALSE(MayCreate(With(kProfileRead)).has_value());
  // password:set over itself (a Catalyze session), or over others with profile:write.
  EXPECT_TRUE(MaySetPassword(With(kPasswordSet, me), me).has_value());
  EXPECT_FALSE(MaySetPassword(With(kPasswordSet, me), other).has_value());
  EXPECT_FALSE(MaySetPassword(With(0, me), me).has_value());
  EXPECT_FALSE(MaySetPassword(With(kProfileWrite), other).has_value());
  EXPECT_TRUE(MaySetPassword(With(kProfileWrite | kPasswordSet), other).has_value());
  EXPECT_EQ(MaySetPassword(With(kProfileWrite), other).error().field, "password");
  EXPECT_FALSE(Require(With(kGroupsWrite), kSchemaWrite).has_value());
  EXPECT_TRUE(MayWriteGroups(With(kGroupsWrite)).has_value());
}

}  // namespace
}  // namespace roster::core
