// The PATCH engine (RFC 7644 §3.5.2) over JSON resources, and attribute projection.
#include "dialects/scim/patch.h"

#include <gtest/gtest.h>

#include "dialects/scim/common.h"

namespace roster::dialects::scim {
namespace {
namespace json = boost::json;

const PatchTarget kUser{kUserSchema, {kEnterpriseSchema, kHealthSchema}, {"id", "meta", "groups"}};

json::object User() {
  return json::parse(R"({
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "id": "u1", "userName": "ann", "active": true,
    "name": {"givenName": "Ann", "familyName": "Lee"},
    "emails": [{"value": "ann@work.example", "type": "work", "primary": true},
               {"value": "ann@home.example", "type": "home", "primary": false}]
  })").as_object();
}

Outcome<void> Patch(json::object& resource, std::string_view ops) {
  auto body = json::parse(std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":)") +
                          std::string(ops) + "}")
                  .as_object();
  auto parsed = ParsePatch(body);
  if (!parsed) return Fail(parsed.error());
  return ApplyPatch(resource, *parsed, kUser);
}

TEST(ScimPatch, ReplaceWithPathAndCapitalisedOp) {
  auto u = User();
  ASSERT_TRUE(Patch(u, R"([{"op":"Replace","path":"name.givenName","value":"Anne"}])"));
  EXPECT_EQ(u["name"].as_object()["givenName"], "Anne");
  EXPECT_EQ(u["name"].as_object()["familyName"], "Lee");  // sub-attributes not named stay
}

TEST(ScimPatch, ValueFilterSetsTheMatchingElementOnly) {
  auto u = User();
  ASSERT_TRUE(Patch(u, R"([{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@new.example"}])"));
  EXPECT_EQ(u["emails"].as_array()[0].as_object()["value"], "a@new.example");
  EXPECT_EQ(u["emails"].as_array()[1].as_object()["value"], "ann@home.example");
}

TEST(ScimPatch, AddThroughAFilterThatMatchesNothingAddsTheElement) {
  auto u = User();
  ASSERT_TRUE(Patch(u, R"([{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+15550100"}])"));
  ASSERT_TRUE(u["phoneNumbers"].is_array());
  EXPECT_EQ(u["phoneNumbers"].as_array()[0], json::parse(R"({"type":"mobile","value":"+15550100"})"));
}

TEST(ScimPatch, ReplaceThroughAFilterThatMatchesNothingIsNoTarget) {
  auto u = User();
  auto st = Patch(u, R"([{"op":"replace","path":"emails[type eq \"other\"].value","value":"x@y.example"}])");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().scim_type, "noTarget");
}

TEST(ScimPatch, RemoveByFilterAndWholeAttribute) {
  auto u = User();
  ASSERT_TRUE(Patch(u, R"([{"op":"remove","path":"emails[type eq \"home\"]"}])"));
  EXPECT_EQ(u["emails"].as_array().size(), 1u);
  ASSERT_TRUE(Patch(u, R"([{"op":"remove","path":"name"}])"));
  EXPECT_FALSE(u.contains("name"));
}

TEST(ScimPatch, RemoveWithoutPathIsNoTarget) {
  auto u = User();
  auto st = Patch(u, R"([{"op":"remove"}])");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().scim_type, "noTarget");
}

TEST(ScimPatch, NoPathValueMergesAttributesExtensionsAndDottedKeys) {
  auto u = User();
  ASSERT_TRUE(Patch(u, R"([{"op":"replace","value":{"active":false,"name.familyName":"Li",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Cardiology"}}}])"));
  EXPECT_EQ(u["active"], false);
  EXPECT_EQ(u["name"].as_object()["familyName"], "Li");
  EXPECT_EQ(u[kEnterpriseSchema].as_object()["department"], "Cardiology");
  bool listed = false;
  for (const auto& s : u["schemas"].as_array()) listed = listed || (s.is_string() && s.get_string() == kEnterpriseSchema);
  EXPECT_TRUE(listed);  // the extension's URN joins schemas
}

TEST(ScimPatch, UrnPathReachesAnExtensionAttribute) {
  auto u = User();
  ASSERT_TRUE(Patch(
      u, R"([{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m1"}}])"));
  EXPECT_EQ(u[kEnterpriseSchema].as_object()["manager"].as_object()["value"], "m1");
}

TEST(ScimPatch, AddToMultiValuedAppendsAndKeepsOnePrimary) {
  auto u = User();
  ASSERT_TRUE(Patch(u, R"([{"op":"add","path":"emails","value":[{"value":"n@x.example","type":"other","primary":true}]}])"));
  const auto& emails = u["emails"].as_array();
  ASSERT_EQ(emails.size(), 3u);
  EXPECT_EQ(emails[0].as_object().at("primary"), false);
  EXPECT_EQ(emails[2].as_object().at("primary"), true);
}

TEST(ScimPatch, ReadOnlyAttributesAreMutabilityErrors) {
  auto u = User();
  auto st = Patch(u, R"([{"op":"replace","path":"id","value":"other"}])");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().scim_type, "mutability");
}

TEST(ScimPatch, MalformedInputIsRefusedWithItsScimType) {
  auto u = User();
  auto st = Patch(u, R"([{"op":"move","path":"userName","value":"x"}])");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().scim_type, "invalidSyntax");
  st = Patch(u, R"([{"op":"add","path":"emails[type eq","value":"x"}])");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().scim_type, "invalidPath");
  st = Patch(u, R"([{"op":"add","path":"urn:example:unknown:attr","value":"x"}])");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().scim_type, "invalidPath");
  st = Patch(u, R"([{"op":"add","path":"userName"}])");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().scim_type, "invalidValue");
}

TEST(ScimPatch, EntraRemovesMembersByValueWithoutAFilter) {
  auto g = json::parse(R"({"schemas":[],"id":"g","members":[{"value":"a"},{"value":"b"}]})").as_object();
  auto body = json::parse(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations":[{"op":"Remove","path":"members","value":[{"value":"a"}]}]})").as_object();
  auto ops = ParsePatch(body);
  ASSERT_TRUE(ops);
  ASSERT_TRUE(ApplyPatch(g, *ops, PatchTarget{kGroupSchema, {}, {"id", "meta"}}));
  EXPECT_EQ(g["members"], json::parse(R"([{"value":"b"}])"));
}

TEST(ScimProjection, AttributesKeepsOnlyThoseAndAlwaysReturned) {
  auto u = User();
  auto p = ParseProjection("userName,emails.value", "");
  ASSERT_TRUE(p);
  Project(u, *p, kUserSchema);
  EXPECT_TRUE(u.contains("id"));
  EXPECT_TRUE(u.contains("userName"));
  EXPECT_FALSE(u.contains("name"));
  EXPECT_EQ(u["emails"].as_array()[0], json::parse(R"({"value":"ann@work.example"})"));
}

TEST(ScimProjection, ExcludedAttributesRemovesButNeverId) {
  auto u = User();
  auto p = ParseProjection("", "emails,id,name.givenName");
  ASSERT_TRUE(p);
  Project(u, *p, kUserSchema);
  EXPECT_FALSE(u.contains("emails"));
  EXPECT_TRUE(u.contains("id"));
  EXPECT_FALSE(u["name"].as_object().contains("givenName"));
  EXPECT_TRUE(u["name"].as_object().contains("familyName"));
  EXPECT_FALSE(ParseProjection("bad name!", ""));
}

TEST(ScimPage, StartIndexAndCountFollowTheRfc) {
  auto p = ParsePage("0", "-3");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->start_index, 1);
  EXPECT_EQ(p->count, 0);
  p = ParsePage("", "99999");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->count, kMaxResults);
  EXPECT_FALSE(ParsePage("x", ""));
  EXPECT_FALSE(ParsePage("", "1.5"));
}

}  // namespace
}  // namespace roster::dialects::scim
