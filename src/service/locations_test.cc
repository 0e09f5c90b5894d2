#include "service/locations.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "service/invitations.h"
#include "service/service_test_support.h"
#include "service/web_users.h"

namespace roster::service {
namespace {

using core::ErrorCode;

class LocationAccessTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  LocationAccessTest()
      : ServiceFixture("roster-locations-", {60'000, 3'600'000}) {
    env_ = directory_.CreateEnvironment("default")->id;
  }

  LocationAccess As(core::Scopes scopes) {
    core::Principal p;
    p.environment_id = env_;
    p.scopes = scopes;
    return LocationAccess(records_, p);
  }
  LocationAccess Admin() { return As(core::kAllScopes); }

  std::string Type(const std::string& name, const std::string& parent = {}) {
    LocationTypeFields f;
    f.name = name;
    if (!parent.empty()) f.parent_id = parent;
    auto t = Admin().CreateType(f);
    EXPECT_TRUE(t.has_value()) << name << ": " << (t ? "" : t.error().message);
    return t ? t->id : std::string();
  }
  core::Result<Record> Place(const std::string& name, const std::string& type, const std::string& parent = {},
                             std::optional<std::string> site_code = std::nullopt) {
    LocationFields f;
    f.name = name;
    f.type_id = type;
    if (!parent.empty()) f.parent_id = parent;
    f.site_code = site_code;
    return Admin().Create(f);
  }
  std::string Location(const std::string& name, const std::string& type, const std::string& parent = {}) {
    auto l = Place(name, type, parent);
    EXPECT_TRUE(l.has_value()) << name << ": " << (l ? "" : l.error().message);
    return l ? l->id : std::string();
  }
  template <class T>
  static void ExpectError(const core::Result<T>& r, ErrorCode code, const std::string& field,
                          const std::string& message = {}) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, code) << r.error().message;
    EXPECT_EQ(r.error().field, field) << r.error().message;
    if (!message.empty()) {
      EXPECT_EQ(r.error().message, message);
    }
  }

  std::string env_;
};

TEST_F(LocationAccessTest, TypesGetSlugCodesUniquePerEnvironmentAndParentsThatExist) {
  const std::string state = Type("State");
  auto t = Admin().GetType(state);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(BodyText(*t, "code"), "state");
  EXPECT_EQ(BodyText(*t, "parent_id"), "");
  LocationTypeFields again;
  again.name = "Other";
  again.code = "STATE";  // codes are lower-cased, then unique
  ExpectError(Admin().CreateType(again), ErrorCode::kAlreadyExists, kLocationTypeCodeClaim);
  LocationTypeFields orphan;
  orphan.name = "District";
  orphan.parent_id = "00000000-0000-4000-8000-000000000000";
  ExpectError(Admin().CreateType(orphan), ErrorCode::kInvalidArgument, "parent");
  auto by_code = Admin().FindTypeByCode("State");
  ASSERT_TRUE(by_code.has_value() && by_code->has_value());
  EXPECT_EQ((*by_code)->id, state);
  auto by_number = Admin().GetTypeByNumber(t->number);
  ASSERT_TRUE(by_number.has_value());
  EXPECT_EQ(by_number->id, state);
}

TEST_F(LocationAccessTest, TypeParentCannotMakeACycleOrMoveUnderLocations) {
  const std::string state = Type("State");
  const std::string district = Type("District", state);
  const std::string facility = Type("Facility", district);
  LocationTypeFields f;
  f.parent_id = facility;
  ExpectError(Admin().UpdateType(state, f), ErrorCode::kInvalidArgument, "parent",
              "A location type cannot be its own ancestor.");
  f.parent_id = state;
  ExpectError(Admin().UpdateType(state, f), ErrorCode::kInvalidArgument, "parent");
  // Facility may move under State while no location is a facility...
  EXPECT_TRUE(Admin().UpdateType(facility, f).has_value());
  // ...but not once one is.
  const std::string ma = Location("Massachusetts", state);
  Location("Clinic", facility, ma);
  f.parent_id = district;
  ExpectError(Admin().UpdateType(facility, f), ErrorCode::kInvalidArgument, "parent");
}

TEST_F(LocationAccessTest, ALocationsTypeMustBeAChildTypeOfItsParentsType) {
  const std::string state = Type("State");
  const std::string district = Type("District", state);
  const std::string facility = Type("Facility", district);
  const std::string ma = Location("Massachusetts", state);
  const std::string suffolk = Location("Suffolk", district, ma);
  Location("Boston Clinic", facility, suffolk);
  // A district at the root, a facility directly under a state, a state under a district.
  ExpectError(Place("Loose", district), ErrorCode::kInvalidArgument, "location_type_code",
              "Location type 'district' cannot be a root location's type.");
  ExpectError(Place("Skip", facility, ma), ErrorCode::kInvalidArgument, "location_type_code",
              "Parent cannot have children of this location's type.");
  const std::string clinic = Location("Other Clinic", facility, suffolk);
  ExpectError(Place("Under clinic", state, clinic), ErrorCode::kInvalidArgument, "parent_location_id",
              "The selected parent location cannot have child locations!");
  ExpectError(Place("Nowhere", district, "00000000-0000-4000-8000-000000000000"), ErrorCode::kInvalidArgument,
              "parent_location_id", "Could not find parent location with the given ID.");
  ExpectError(Place("No type", "00000000-0000-4000-8000-000000000000"), ErrorCode::kInvalidArgument,
              "location_type_code");
  // An update is held to the same rules; a location with children keeps its type.
  LocationFields move;
  move.parent_id = "";
  ExpectError(Admin().Update(suffolk, move), ErrorCode::kInvalidArgument, "location_type_code");
  LocationFields retype;
  retype.type_id = facility;
  ExpectError(Admin().Update(suffolk, retype), ErrorCode::kInvalidArgument, "location_type_code",
              "The type of a location with child locations cannot change.");
  LocationFields self;
  self.parent_id = suffolk;
  ExpectError(Admin().Update(suffolk, self), ErrorCode::kInvalidArgument, "parent_location_id");
}

TEST_F(LocationAccessTest, SiteCodesAreUniqueGeneratedFromNamesAndSiblingNamesUnique) {
  const std::string state = Type("State");
  const std::string county = Type("County", state);
  auto ma = Place("Massachusetts", state);
  ASSERT_TRUE(ma.has_value());
  EXPECT_EQ(BodyText(*ma, "site_code"), "massachusetts");
  // Two counties of the same name in different states: the second site code is numbered.
  const std::string ny = Location("New York", state);
  auto a = Place("Essex County", county, ma->id);
  auto b = Place("Essex County", county, ny);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(BodyText(*a, "site_code"), "essex_county");
  EXPECT_EQ(BodyText(*b, "site_code"), "essex_county1");
  // Same name under the same parent (case-insensitively): refused.
  ExpectError(Place("essex county", county, ma->id), ErrorCode::kAlreadyExists, kLocationSiblingClaim);
  // A given site code is lower-cased and must be free.
  ExpectError(Place("Middlesex", county, ma->id, "ESSEX_COUNTY"), ErrorCode::kAlreadyExists, kLocationSiteCodeClaim);
  auto m = Place("Middlesex", county, ma->id, " MidSex ");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(BodyText(*m, "site_code"), "midsex");
  auto found = Admin().FindBySiteCode("MIDSEX");
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->id, m->id);
  // Renaming onto a sibling's name is refused; a new site code onto a taken one too.
  LocationFields rename;
  rename.name = "Essex County";
  ExpectError(Admin().Update(m->id, rename), ErrorCode::kAlreadyExists, kLocationSiblingClaim);
  LocationFields recode;
  recode.site_code = "massachusetts";
  ExpectError(Admin().Update(m->id, recode), ErrorCode::kAlreadyExists, kLocationSiteCodeClaim);
}

TEST_F(LocationAccessTest, CoordinatesAndNamesAreChecked) {
  const std::string state = Type("State");
  LocationFields f;
  f.name = "Somewhere";
  f.type_id = state;
  f.latitude = std::optional<std::string>("91");
  ExpectError(Admin().Create(f), ErrorCode::kInvalidArgument, "latitude");
  f.latitude = std::optional<std::string>("4x");
  ExpectError(Admin().Create(f), ErrorCode::kInvalidArgument, "latitude");
  f.latitude = std::optional<std::string>("-42.36");
  f.longitude = std::optional<std::string>("-181");
  ExpectError(Admin().Create(f), ErrorCode::kInvalidArgument, "longitude");
  f.longitude = std::optional<std::string>("-71.05");
  auto ok = Admin().Create(f);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->body.at("latitude").as_string(), "-42.36");
  LocationFields unnamed;
  unnamed.type_id = state;
  ExpectError(Admin().Create(unnamed), ErrorCode::kInvalidArgument, "name",
              "'name' and 'location_type_code' are required fields when creating a new location.");
}

TEST_F(LocationAccessTest, DeletingRefusesParentsAssignedLocationsAndUsedTypes) {
  const std::string state = Type("State");
  const std::string county = Type("County", state);
  const std::string ma = Location("Massachusetts", state);
  const std::string essex = Location("Essex", county, ma);
  auto parent = Admin().Delete(ma);
  ASSERT_FALSE(parent.has_value());
  EXPECT_EQ(parent.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(parent.error().message, "This location has child locations.");
  auto used = Admin().DeleteType(state);
  ASSERT_FALSE(used.has_value());
  EXPECT_EQ(used.error().message, "This location type has locations.");
  ASSERT_TRUE(Admin().Delete(essex).has_value());
  const std::string region = Type("Region");
  Type("Zone", region);
  auto parent_type = Admin().DeleteType(region);
  ASSERT_FALSE(parent_type.has_value());
  EXPECT_EQ(parent_type.error().message, "This location type has child location types.");
  const std::string essex2 = Location("Essex", county, ma);
  CreateUserRequest r;
  r.environment_id = env_;
  r.user.username = "worker";
  r.member_of.push_back({kLocationKind, essex2});
  auto user = users_.Create(r);
  ASSERT_TRUE(user.has_value());
  auto refused = Admin().Delete(essex2);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message, "Users are assigned to this location.");
  ASSERT_TRUE(records_.SetMemberships(env_, user->user.id, kLocationKind, {}).has_value());
  EXPECT_TRUE(Admin().Delete(essex2).has_value());
  EXPECT_TRUE(Admin().DeleteType(county).has_value());
  EXPECT_EQ(Admin().Get(essex2).error().code, ErrorCode::kNotFound);
}

// Web users and invitations hold their locations in their records (web_users.h,
// invitations.h), not as memberships: a location one of them names is not deleted under
// it, on the environment's first scan page and past it.
TEST_F(LocationAccessTest, DeletingRefusesALocationAWebUserOrAPendingInvitationNames) {
  const std::string state = Type("State");
  const std::string kept = Location("Ohio", state), named = Location("Utah", state);
  // More web users than one scan page, the last naming the location beside another.
  for (int i = 0; i <= 500; ++i) {
    NewRecordRequest r;
    r.environment_id = env_;
    r.kind = kWebUserKind;
    r.body = {{"email", "admin" + std::to_string(i) + "@example.org"}, {"key_id", "k"}};
    if (i == 500) {
      r.body["primary_location_id"] = kept;
      r.body["assigned_location_ids"] = boost::json::array{kept.c_str(), named.c_str()};
    }
    ASSERT_TRUE(records_.Create(r).has_value()) << i;
  }
  auto by_web_user = Admin().Delete(named);
  ASSERT_FALSE(by_web_user.has_value());
  EXPECT_EQ(by_web_user.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(by_web_user.error().message, "Web users are assigned to this location.");
  EXPECT_TRUE(Admin().Get(named).has_value());

  InvitationFields invited;
  invited.email = "new@example.org";
  invited.role = "Read Only";
  invited.locations = {{named}, named};
  core::Principal admin;
  admin.environment_id = env_;
  admin.scopes = core::kAllScopes;
  ASSERT_TRUE(InvitationAccess(records_, admin).Create(invited).has_value());
  const std::string other = Location("Iowa", state);
  invited.email = "other@example.org";
  invited.locations = {{other}, other};
  ASSERT_TRUE(InvitationAccess(records_, admin).Create(invited).has_value());
  auto by_invitation = Admin().Delete(other);
  ASSERT_FALSE(by_invitation.has_value());
  EXPECT_EQ(by_invitation.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(by_invitation.error().message, "A pending invitation assigns this location.");
  // Accepted, the invitation no longer holds it; a location nobody names goes.
  ASSERT_TRUE(InvitationAccess(records_, admin).Accept("other@example.org").has_value());
  EXPECT_TRUE(Admin().Delete(other).has_value());
  const std::string unnamed = Location("Maine", state);
  EXPECT_TRUE(Admin().Delete(unnamed).has_value());
  EXPECT_EQ(Admin().Get(unnamed).error().code, ErrorCode::kNotFound);
}

TEST_F(LocationAccessTest, WritesNeedGroupsWrite) {
  const std::string state = Type("State");
  LocationFields f;
  f.name = "Massachusetts";
  f.type_id = state;
  EXPECT_EQ(As(core::kProfileRead).Create(f).error().code, ErrorCode::kPermissionDenied);
  LocationTypeFields t;
  t.name = "County";
  EXPECT_EQ(As(core::kProfileRead).CreateType(t).error().code, ErrorCode::kPermissionDenied);
}

TEST_F(LocationAccessTest, AssignmentNeedsKnownLocationsAndAPrimaryAmongThemFirstByDefault) {
  const std::string state = Type("State");
  const std::string ma = Location("Massachusetts", state);
  const std::string ny = Location("New York", state);
  EXPECT_TRUE(Admin().CheckAssignment({{ma, ny}, ny}).has_value());
  EXPECT_TRUE(Admin().CheckAssignment({{}, ""}).has_value());
  auto unknown = Admin().CheckAssignment({{ma, "00000000-0000-4000-8000-000000000000"}, ma});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().field, "locations[1]");
  auto outside = Admin().CheckAssignment({{ma}, ny});
  ASSERT_FALSE(outside.has_value());
  EXPECT_EQ(outside.error().field, "primary_location");
  EXPECT_EQ(outside.error().message, "Primary location must be included in the list of locations.");
  auto first = Admin().CheckAssignment({{ny, ma}, ""});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->primary, ny);
  auto twice = Admin().CheckAssignment({{ma, ma}, ma});
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().field, "locations[1]");

  // Stored: memberships plus the primary in the user; a primary no longer among the
  // memberships reads as none.
  CreateUserRequest r;
  r.environment_id = env_;
  r.user.username = "worker";
  SetPrimaryLocation(r.user, ny);
  r.member_of = {{kLocationKind, ma}, {kLocationKind, ny}};
  auto user = users_.Create(r);
  ASSERT_TRUE(user.has_value());
  auto a = Admin().AssignmentOf(user->user);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->locations.size(), 2u);
  EXPECT_EQ(a->primary, ny);
  ASSERT_TRUE(records_.SetMemberships(env_, user->user.id, kLocationKind, {ma}).has_value());
  a = Admin().AssignmentOf(user->user);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->locations, std::vector<std::string>{ma});
  EXPECT_EQ(a->primary, "");
}

TEST(LocationSlugTest, LowerCasesAndJoinsWordsWithUnderscores) {
  EXPECT_EQ(LocationSlug("Essex County"), "essex_county");
  EXPECT_EQ(LocationSlug("  St. John's -- East  "), "st_john_s_east");
  EXPECT_EQ(LocationSlug("###"), "");
}

}  // namespace
}  // namespace roster::service
