// SCIM 2.0 /Groups against the real binary: every route, every PATCH form (RFC 7644
// §3.5.2, and Microsoft Entra ID's and Okta's member batches), nested members and the
// refused cycle, If-Match, filters, paging, projection, error shapes (§3.12), and the
// same groups through Catalyze and CommCare.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "integration/harness.h"
#include "integration/scim_support.h"

namespace roster::testing {
namespace {

namespace json = boost::json;
using scim::Str;

constexpr const char* kUserUrn = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr const char* kGroupUrn = "urn:ietf:params:scim:schemas:core:2.0:Group";
constexpr const char* kPatchUrn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
constexpr const char* kSearchUrn = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
constexpr const char* kNoSuchId = "9a0c6f7e-0000-4000-8000-000000000000";




json::array Ops(std::initializer_list<json::value> ops) { return json::array(ops.begin(), ops.end()); }

class ScimGroupsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    InitDataDir(dir_->path());
    for (const char* env : {"other", "lists"}) {
      auto r = RunRoster({"env", "create", env, "--data-dir", dir_->path(), "--json"});
      if (r.exit_code != 0) throw std::runtime_error("env create failed: " + r.err);
    }
    token_ = new std::string(scim::CreateToken(dir_->path(), "default", {"all"}));
    reader_ = new std::string(scim::CreateToken(dir_->path(), "default", {"profile:read", "users:list"}));
    lists_ = new std::string(scim::CreateToken(dir_->path(), "lists", {"all"}));
    other_ = new std::string(scim::CreateToken(dir_->path(), "other", {"all"}));
    catalyze_ = new std::string(CreateKey(dir_->path(), "default", "admin"));
    auto web = RunRoster({"commcare", "web-user", "create", "--domain", "default", "--email", "admin@example.org",
                          "--data-dir", dir_->path(), "--json"});
    if (web.exit_code != 0) throw std::runtime_error("web-user create failed: " + web.err);
    const json::value w = json::parse(web.out);
    commcare_ = new std::string("ApiKey " + Str(w, "username") + ":" + Str(w, "apiKey"));
    server_ = new Server(dir_->path());
  }
  static void TearDownTestSuite() {
    delete server_;
    for (auto* s : {token_, reader_, lists_, other_, catalyze_, commcare_}) delete s;
    delete dir_;
  }

  HttpResponse ScimText(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& token = "", Headers extra = {}) {
    Headers h = {{"Authorization", "Bearer " + (token.empty() ? *token_ : token)},
                 {"Content-Type", "application/scim+json"}};
    for (auto& e : extra) h.push_back(std::move(e));
    return client_.Send(method, "/scim/v2" + path, body, h);
  }
  // A JSON body; null: none.
  HttpResponse Scim(const std::string& method, const std::string& path, const json::value& body = nullptr,
                    const std::string& token = "", Headers extra = {}) {
    return ScimText(method, path, body.is_null() ? std::string() : json::serialize(body), token, std::move(extra));
  }

  std::string NewUser(const std::string& user_name, const std::string& display = "") {
    json::object body{{"schemas", json::array{kUserUrn}}, {"userName", user_name}};
    if (!display.empty()) body["displayName"] = display;
    auto r = Scim("POST", "/Users", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(r.Json(), "id");
  }
  json::object NewGroup(const std::string& name, json::array members = {}, const std::string& token = "") {
    json::object body{{"schemas", json::array{kGroupUrn}}, {"displayName", name}};
    if (!members.empty()) body["members"] = std::move(members);
    auto r = Scim("POST", "/Groups", body, token);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().is_object() ? r.Json().as_object() : json::object{};
  }
  std::string NewGroupId(const std::string& name, json::array members = {}) {
    return Str(NewGroup(name, std::move(members)), "id");
  }
  json::object Read(const std::string& id, const std::string& query = "") {
    auto r = Scim("GET", "/Groups/" + id + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().is_object() ? r.Json().as_object() : json::object{};
  }
  HttpResponse Patch(const std::string& id, json::array ops, Headers extra = {}) {
    return Scim("PATCH", "/Groups/" + id,
                json::object{{"schemas", json::array{kPatchUrn}}, {"Operations", std::move(ops)}}, "",
                std::move(extra));
  }
  // The member ids of a group, in the order returned.
  std::vector<std::string> MemberIds(const std::string& id) {
    std::vector<std::string> out;
    const json::object g = Read(id);
    if (const auto* m = g.if_contains("members"))
      for (const auto& e : m->as_array()) out.push_back(Str(e, "value"));
    return out;
  }
  std::set<std::string> MemberSet(const std::string& id) {
    auto v = MemberIds(id);
    return {v.begin(), v.end()};
  }
  // The ids of a list response's resources.
  static std::vector<std::string> Ids(const HttpResponse& r) {
    std::vector<std::string> out;
    const json::value j = r.Json();
    if (!j.is_object() || !j.as_object().contains("Resources")) return out;
    for (const auto& e : j.at("Resources").as_array()) out.push_back(Str(e, "id"));
    return out;
  }
  static json::value Ref(const std::string& id) { return json::object{{"value", id}}; }
  static json::value Ref(const std::string& id, const char* type) { return json::object{{"value", id}, {"type", type}}; }

  static TempDir* dir_;
  static std::string* token_;     // every scope, environment "default"
  static std::string* reader_;    // profile:read and users:list only
  static std::string* lists_;     // every scope, environment "lists" (its own groups only)
  static std::string* other_;     // every scope, environment "other"
  static std::string* catalyze_;  // a Catalyze admin key, environment "default"
  static std::string* commcare_;  // a CommCare web user's Authorization, domain "default"
  static Server* server_;
  Client client_{server_->base_url()};
};

TempDir* ScimGroupsTest::dir_ = nullptr;
std::string* ScimGroupsTest::token_ = nullptr;
std::string* ScimGroupsTest::reader_ = nullptr;
std::string* ScimGroupsTest::lists_ = nullptr;
std::string* ScimGroupsTest::other_ = nullptr;
std::string* ScimGroupsTest::catalyze_ = nullptr;
std::string* ScimGroupsTest::commcare_ = nullptr;
Server* ScimGroupsTest::server_ = nullptr;

// ---- create, read, replace, delete -------------------------------------------------------

TEST_F(ScimGroupsTest, CreateReadAndDeleteAGroupWithUserAndGroupMembers) {
  const std::string ada = NewUser("crd.ada", "Ada Lovelace");
  const std::string inner = NewGroupId("CRD Inner");
  json::object body{{"schemas", json::array{kGroupUrn}},
                    {"displayName", "CRD Outer"},
                    {"externalId", "ext-crd"},
                    {"members", json::array{Ref(ada), Ref(inner, "Group")}}};
  auto r = Scim("POST", "/Groups", body);
  ASSERT_EQ(r.status, 201) << r.body;
  const json::value g = r.Json();
  const std::string id = Str(g, "id");
  EXPECT_EQ(g.at("schemas"), json::array{kGroupUrn});
  EXPECT_EQ(Str(g, "displayName"), "CRD Outer");
  EXPECT_EQ(Str(g, "externalId"), "ext-crd");
  const json::value& meta = g.at("meta");
  EXPECT_EQ(Str(meta, "resourceType"), "Group");
  EXPECT_EQ(Str(meta, "version"), "W/\"1\"");
  EXPECT_FALSE(Str(meta, "created").empty());
  EXPECT_FALSE(Str(meta, "lastModified").empty());
  EXPECT_TRUE(Str(meta, "location").ends_with("/scim/v2/Groups/" + id)) << Str(meta, "location");
  EXPECT_EQ(r.Header("location"), Str(meta, "location"));
  EXPECT_EQ(r.Header("etag"), "W/\"1\"");
  EXPECT_EQ(r.Header("content-type"), "application/scim+json");
  // Groups first, then users; each with $ref, display and type.
  const json::array& members = g.at("members").as_array();
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(Str(members[0], "value"), inner);
  EXPECT_EQ(Str(members[0], "type"), "Group");
  EXPECT_EQ(Str(members[0], "display"), "CRD Inner");
  EXPECT_TRUE(Str(members[0], "$ref").ends_with("/scim/v2/Groups/" + inner));
  EXPECT_EQ(Str(members[1], "value"), ada);
  EXPECT_EQ(Str(members[1], "type"), "User");
  EXPECT_EQ(Str(members[1], "display"), "Ada Lovelace");
  EXPECT_TRUE(Str(members[1], "$ref").ends_with("/scim/v2/Users/" + ada));

  auto read = Scim("GET", "/Groups/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.Json(), g);
  EXPECT_EQ(read.Header("etag"), "W/\"1\"");

  ASSERT_EQ(Scim("DELETE", "/Groups/" + id).status, 204);
  scim::ExpectError(Scim("GET", "/Groups/" + id), 404);
  scim::ExpectError(Scim("DELETE", "/Groups/" + id), 404);
  // The inner group and the user stay, no longer anyone's members.
  EXPECT_EQ(Scim("GET", "/Groups/" + inner).status, 200);
  EXPECT_EQ(Scim("GET", "/Users/" + ada).status, 200);
}

TEST_F(ScimGroupsTest, CreateRefusesBadBodiesAndTakenNamesChangingNothing) {
  NewGroup("Taken Name");
  scim::ExpectError(Scim("POST", "/Groups", json::object{{"displayName", "No Schema"}}), 400, "invalidSyntax");
  scim::ExpectError(Scim("POST", "/Groups", json::object{{"schemas", json::array{kGroupUrn}}}), 400, "invalidValue",
                  "displayName");
  scim::ExpectError(Scim("POST", "/Groups", json::object{{"schemas", json::array{kGroupUrn}}, {"displayName", 7}}), 400,
                  "invalidValue", "displayName");
  scim::ExpectError(ScimText("POST", "/Groups", "{not json"), 400, "invalidSyntax");
  // Names are unique case-insensitively, as in every API.
  scim::ExpectError(Scim("POST", "/Groups",
                       json::object{{"schemas", json::array{kGroupUrn}}, {"displayName", "taken NAME"}}),
                  409, "uniqueness", "displayName");
  // A member that is nobody, or of the wrong type: 400 naming members, no group.
  for (const json::value& bad : {Ref(kNoSuchId), Ref(NewUser("bad.member"), "Group"), json::value(json::object{}),
                                 json::value(json::object{{"value", kNoSuchId}, {"type", "Robot"}})}) {
    scim::ExpectError(Scim("POST", "/Groups",
                         json::object{{"schemas", json::array{kGroupUrn}},
                                      {"displayName", "Never Made"},
                                      {"members", json::array{bad}}}),
                    400, "invalidValue", "members");
  }
  auto found = Scim("GET", "/Groups?filter=" + UrlEncode("displayName eq \"Never Made\""));
  EXPECT_EQ(found.Json().at("totalResults"), 0);
  // Without groups:write: 403, nothing made.
  scim::ExpectError(Scim("POST", "/Groups",
                       json::object{{"schemas", json::array{kGroupUrn}}, {"displayName", "Reader's"}}, *reader_),
                  403);
  EXPECT_EQ(Scim("GET", "/Groups?filter=" + UrlEncode("displayName eq \"Reader's\"")).Json().at("totalResults"), 0);
}

TEST_F(ScimGroupsTest, PutReplacesEverythingAndHonoursIfMatch) {
  const std::string ada = NewUser("put.ada"), bob = NewUser("put.bob");
  const std::string sub = NewGroupId("PUT Sub");
  const std::string id = NewGroupId("PUT Group", json::array{Ref(ada)});
  json::object body{{"schemas", json::array{kGroupUrn}},
                    {"id", "ignored"},
                    {"displayName", "PUT Renamed"},
                    {"externalId", "ext-put"},
                    {"members", json::array{Ref(bob, "User"), Ref(sub)}}};
  scim::ExpectError(Scim("PUT", "/Groups/" + id, body, "", {{"If-Match", "W/\"9\""}}), 412);
  EXPECT_EQ(Str(Read(id), "displayName"), "PUT Group");
  auto r = Scim("PUT", "/Groups/" + id, body, "", {{"If-Match", "W/\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json(), "id"), id);
  EXPECT_EQ(Str(r.Json(), "displayName"), "PUT Renamed");
  EXPECT_EQ(Str(r.Json(), "externalId"), "ext-put");
  EXPECT_EQ(r.Header("etag"), "W/\"2\"");
  EXPECT_EQ(MemberIds(id), (std::vector<std::string>{sub, bob}));
  // Absent attributes are cleared: no externalId, no members.
  r = Scim("PUT", "/Groups/" + id, json::object{{"schemas", json::array{kGroupUrn}}, {"displayName", "PUT Bare"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.Json().as_object().contains("externalId"));
  EXPECT_TRUE(MemberIds(id).empty());
  scim::ExpectError(Scim("PUT", "/Groups/" + std::string(kNoSuchId), body), 404);
  scim::ExpectError(Scim("DELETE", "/Groups/" + id, nullptr, "", {{"If-Match", "W/\"1\""}}), 412);
  EXPECT_EQ(Scim("DELETE", "/Groups/" + id, nullptr, "", {{"If-Match", "W/\"3\""}}).status, 204);
}

// ---- PATCH ----------------------------------------------------------------------------------

TEST_F(ScimGroupsTest, PatchAddsRemovesAndReplacesMembersInEveryForm) {
  const std::string a = NewUser("patch.a"), b = NewUser("patch.b"), c = NewUser("patch.c");
  const std::string sub = NewGroupId("Patch Sub");
  const std::string id = NewGroupId("Patch Members");

  // add with a path (RFC 7644 §3.5.2.1), users and a group, lower-case op.
  auto r = Patch(id, Ops({json::object{{"op", "add"}, {"path", "members"},
                                       {"value", json::array{Ref(a), Ref(b), Ref(sub, "Group")}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(MemberSet(id), (std::set<std::string>{a, b, sub}));
  EXPECT_EQ(r.Header("etag"), "W/\"2\"");
  // remove through a value filter (§3.5.2.2), as Okta sends it.
  r = Patch(id, Ops({json::object{{"op", "remove"}, {"path", "members[value eq \"" + a + "\"]"}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(MemberSet(id), (std::set<std::string>{b, sub}));
  // remove by value, capitalised (Microsoft Entra ID).
  r = Patch(id, Ops({json::object{{"op", "Remove"}, {"path", "members"}, {"value", json::array{Ref(b)}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(MemberSet(id), (std::set<std::string>{sub}));
  // replace the members (§3.5.2.3).
  r = Patch(id, Ops({json::object{{"op", "replace"}, {"path", "members"}, {"value", json::array{Ref(c), Ref(a)}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(MemberSet(id), (std::set<std::string>{a, c}));
  // a filter other than value eq: evaluated on the members (here: the users).
  Patch(id, Ops({json::object{{"op", "add"}, {"path", "members"}, {"value", json::array{Ref(sub)}}}}));
  r = Patch(id, Ops({json::object{{"op", "remove"}, {"path", "members[type eq \"User\"]"}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(MemberSet(id), (std::set<std::string>{sub}));
  // no path: the value's members (§3.5.2.1 / §3.5.2.3).
  r = Patch(id, Ops({json::object{{"op", "add"}, {"value", json::object{{"members", json::array{Ref(b)}}}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(MemberSet(id), (std::set<std::string>{sub, b}));
  r = Patch(id, Ops({json::object{{"op", "replace"}, {"value", json::object{{"members", json::array{Ref(c)}}}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(MemberSet(id), (std::set<std::string>{c}));
  // operations apply in order: add then remove the same member leaves it out.
  r = Patch(id, Ops({json::object{{"op", "add"}, {"path", "members"}, {"value", json::array{Ref(a)}}},
                     json::object{{"op", "remove"}, {"path", "members[value eq \"" + a + "\"]"}},
                     json::object{{"op", "add"}, {"path", "members"}, {"value", json::array{Ref(b)}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(MemberSet(id), (std::set<std::string>{b, c}));
  // remove "members" without a value: all of them.
  r = Patch(id, Ops({json::object{{"op", "remove"}, {"path", "members"}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(MemberIds(id).empty());
  // removing a member that is not one is no error.
  EXPECT_EQ(Patch(id, Ops({json::object{{"op", "remove"}, {"path", "members[value eq \"" + a + "\"]"}}})).status, 200);
}

// Microsoft Entra ID, "Tutorial: Develop and plan provisioning for a SCIM endpoint"
// (learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups),
// group requests: members added and removed in batches, capitalised ops, a no-path
// Replace of displayName carrying the id, and the probe filter with excludedAttributes.
TEST_F(ScimGroupsTest, EntraIdGroupRequestsReplay) {
  std::vector<std::string> users;
  for (int i = 0; i < 5; ++i) users.push_back(NewUser("entra.member" + std::to_string(i)));
  auto created = ScimText("POST", "/Groups",
                          R"({"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName",)"
                      R"("meta":{"resourceType":"Group"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Str(created.Json(), "id");
  EXPECT_TRUE(created.Json().at("members").as_array().empty());

  auto probe = Scim("GET", "/Groups?excludedAttributes=members&filter=" + UrlEncode("displayName eq \"displayName\""));
  ASSERT_EQ(probe.status, 200) << probe.body;
  EXPECT_EQ(probe.Json().at("totalResults"), 1);
  EXPECT_FALSE(probe.Json().at("Resources").at(0).as_object().contains("members"));
  EXPECT_EQ(Str(probe.Json().at("Resources").at(0), "id"), id);

  auto byext = Scim("GET", "/Groups?filter=" + UrlEncode("externalId eq \"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\""));
  EXPECT_EQ(Ids(byext), (std::vector<std::string>{id}));

  // A no-path Replace carrying the id back.
  auto r = ScimText("PATCH", "/Groups/" + id,
                    R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace",)"
                R"("value":{"id":")" + id + R"(","displayName":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json(), "displayName"), "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName");
  EXPECT_EQ(Str(r.Json(), "id"), id);

  // Members added in one batch, then removed in another.
  json::array adds;
  for (const auto& u : users) adds.push_back(Ref(u));
  r = Patch(id, Ops({json::object{{"op", "Add"}, {"path", "members"}, {"value", adds}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(MemberSet(id), std::set<std::string>(users.begin(), users.end()));
  r = Patch(id, Ops({json::object{{"op", "Remove"}, {"path", "members"},
                                  {"value", json::array{Ref(users[0]), Ref(users[3])}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(MemberSet(id), (std::set<std::string>{users[1], users[2], users[4]}));
  // Entra's membership probe: is this user a member?
  auto member = Scim("GET", "/Groups?excludedAttributes=members&filter=" +
                                UrlEncode("id eq \"" + id + "\" and members[value eq \"" + users[1] + "\"]"));
  EXPECT_EQ(member.Json().at("totalResults"), 1) << member.body;
  auto not_member = Scim("GET", "/Groups?excludedAttributes=members&filter=" +
                                    UrlEncode("id eq \"" + id + "\" and members[value eq \"" + users[0] + "\"]"));
  EXPECT_EQ(not_member.Json().at("totalResults"), 0) << not_member.body;
  EXPECT_EQ(Scim("DELETE", "/Groups/" + id).status, 204);
}

TEST_F(ScimGroupsTest, PatchChangesDisplayNameAndExternalIdWithAndWithoutPath) {
  const std::string id = NewGroupId("Patch Attrs");
  auto r = Patch(id, Ops({json::object{{"op", "replace"}, {"path", "displayName"}, {"value", "Patched Name"}},
                          json::object{{"op", "add"}, {"path", "externalId"}, {"value", "ext-1"}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json(), "displayName"), "Patched Name");
  EXPECT_EQ(Str(r.Json(), "externalId"), "ext-1");
  r = Patch(id, Ops({json::object{{"op", "Replace"}, {"value", json::object{{"externalId", "ext-2"}}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json(), "externalId"), "ext-2");
  r = Patch(id, Ops({json::object{{"op", "remove"}, {"path", "externalId"}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.Json().as_object().contains("externalId"));
  EXPECT_EQ(r.Header("etag"), "W/\"4\"");

  // Refused, changing nothing: no displayName, a read-only or unknown attribute, a member's
  // sub-attribute, a taken name, a malformed PatchOp.
  NewGroup("Patch Other");
  scim::ExpectError(Patch(id, Ops({json::object{{"op", "remove"}, {"path", "displayName"}}})), 400, "invalidValue",
                  "displayName");
  scim::ExpectError(Patch(id, Ops({json::object{{"op", "replace"}, {"path", "id"}, {"value", "x"}}})), 400,
                  "mutability");
  scim::ExpectError(Patch(id, Ops({json::object{{"op", "replace"}, {"path", "nickName"}, {"value", "x"}}})), 400,
                  "invalidPath");
  scim::ExpectError(Patch(id, Ops({json::object{{"op", "replace"}, {"path", "members.display"}, {"value", "x"}}})), 400,
                  "mutability");
  scim::ExpectError(Patch(id, Ops({json::object{{"op", "replace"}, {"path", "displayName"}, {"value", "PATCH OTHER"}}})),
                  409, "uniqueness");
  scim::ExpectError(Patch(id, Ops({json::object{{"op", "jump"}, {"path", "displayName"}, {"value", "x"}}})), 400);
  scim::ExpectError(Scim("PATCH", "/Groups/" + id, json::object{{"Operations", json::array{}}}), 400, "invalidSyntax");
  scim::ExpectError(Patch(kNoSuchId, Ops({json::object{{"op", "replace"}, {"path", "displayName"}, {"value", "x"}}})),
                  404);
  const json::object g = Read(id);
  EXPECT_EQ(Str(g, "displayName"), "Patched Name");
  EXPECT_EQ(Str(g.at("meta"), "version"), "W/\"4\"");
  // If-Match.
  scim::ExpectError(Patch(id, Ops({json::object{{"op", "replace"}, {"path", "displayName"}, {"value", "x"}}}),
                        {{"If-Match", "W/\"3\""}}),
                  412);
  EXPECT_EQ(Patch(id, Ops({json::object{{"op", "replace"}, {"path", "displayName"}, {"value", "Matched"}}}),
                  {{"If-Match", "W/\"4\""}})
                .status,
            200);
  // Without groups:write.
  auto denied = Scim("PATCH", "/Groups/" + id,
                     json::object{{"schemas", json::array{kPatchUrn}},
                                  {"Operations", Ops({json::object{{"op", "replace"}, {"path", "displayName"},
                                                                   {"value", "Nope"}}})}},
                     *reader_);
  scim::ExpectError(denied, 403);
  scim::ExpectError(Scim("DELETE", "/Groups/" + id, nullptr, *reader_), 403);
  EXPECT_EQ(Str(Read(id), "displayName"), "Matched");
}

// ---- nesting -------------------------------------------------------------------------------

TEST_F(ScimGroupsTest, GroupsNestButACycleIsRefused) {
  const std::string ada = NewUser("nest.ada");
  const std::string c = NewGroupId("Nest C", json::array{Ref(ada)});
  const std::string b = NewGroupId("Nest B", json::array{Ref(c, "Group")});
  const std::string a = NewGroupId("Nest A");
  ASSERT_EQ(Patch(a, Ops({json::object{{"op", "add"}, {"path", "members"}, {"value", json::array{Ref(b)}}}})).status,
            200);
  // Itself, directly or through its members: 400 naming members, nothing changes.
  for (const auto& [group, member] : std::vector<std::pair<std::string, std::string>>{{a, a}, {c, a}, {b, a}}) {
    scim::ExpectError(
        Patch(group, Ops({json::object{{"op", "add"}, {"path", "members"}, {"value", json::array{Ref(member)}}}})),
        400, "invalidValue", "members");
  }
  json::object put{{"schemas", json::array{kGroupUrn}}, {"displayName", "Nest C"}, {"members", json::array{Ref(a)}}};
  scim::ExpectError(Scim("PUT", "/Groups/" + c, put), 400, "invalidValue", "members");
  EXPECT_EQ(MemberIds(c), (std::vector<std::string>{ada}));
  EXPECT_EQ(MemberIds(a), (std::vector<std::string>{b}));
  // Deleting the middle group unlinks both sides.
  ASSERT_EQ(Scim("DELETE", "/Groups/" + b).status, 204);
  EXPECT_TRUE(MemberIds(a).empty());
  ASSERT_EQ(Patch(c, Ops({json::object{{"op", "add"}, {"path", "members"}, {"value", json::array{Ref(a)}}}})).status,
            200);  // no longer a cycle
  // Groups of another environment are not members here.
  const std::string theirs = Str(NewGroup("Nest Theirs", {}, *other_), "id");
  scim::ExpectError(
      Patch(a, Ops({json::object{{"op", "add"}, {"path", "members"}, {"value", json::array{Ref(theirs)}}}})), 400,
      "invalidValue", "members");
  scim::ExpectError(Scim("GET", "/Groups/" + theirs), 404);
}

TEST_F(ScimGroupsTest, AUsersGroupsAreDirectAndIndirect) {
  const std::string ada = NewUser("groups.ada");
  const std::string team = NewGroupId("Groups Team", json::array{Ref(ada)});
  const std::string dept = NewGroupId("Groups Dept", json::array{Ref(team, "Group")});
  const std::string org = NewGroupId("Groups Org", json::array{Ref(dept, "Group"), Ref(ada)});
  auto r = Scim("GET", "/Users/" + ada);
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, std::string> types;
  const json::value user = r.Json();
  for (const auto& g : user.at("groups").as_array()) types[Str(g, "value")] = Str(g, "type");
  EXPECT_EQ(types, (std::map<std::string, std::string>{{team, "direct"}, {org, "direct"}, {dept, "indirect"}}));
  // Leaving the inner group: the indirect one goes with it.
  ASSERT_EQ(Patch(team, Ops({json::object{{"op", "remove"}, {"path", "members[value eq \"" + ada + "\"]"}}})).status,
            200);
  types.clear();
  const json::value after = Scim("GET", "/Users/" + ada).Json();
  for (const auto& g : after.at("groups").as_array()) types[Str(g, "value")] = Str(g, "type");
  EXPECT_EQ(types, (std::map<std::string, std::string>{{org, "direct"}}));
}

// ---- lists -----------------------------------------------------------------------------------

TEST_F(ScimGroupsTest, ListsFilterPageAndProject) {
  // Its own environment, so the counts are exact.
  const std::string& t = *lists_;
  auto user = Scim("POST", "/Users", json::object{{"schemas", json::array{kUserUrn}}, {"userName", "lists.ada"}}, t);
  ASSERT_EQ(user.status, 201);
  const std::string ada = Str(user.Json(), "id");
  std::vector<std::string> ids;
  for (const char* name : {"Alpha", "Beta", "Gamma", "Delta"}) ids.push_back(Str(NewGroup(name, {}, t), "id"));
  auto nested = NewGroup("Epsilon", json::array{Ref(ada), Ref(ids[0], "Group")}, t);
  ids.push_back(Str(nested, "id"));
  auto get = [&](const std::string& query) { return Scim("GET", "/Groups" + query, nullptr, t); };

  auto all = get("");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.Json().at("schemas").at(0), "urn:ietf:params:scim:api:messages:2.0:ListResponse");
  EXPECT_EQ(all.Json().at("totalResults"), 5);
  EXPECT_EQ(Ids(all), ids);
  auto page = get("?startIndex=2&count=2");
  EXPECT_EQ(page.Json().at("totalResults"), 5);
  EXPECT_EQ(page.Json().at("startIndex"), 2);
  EXPECT_EQ(page.Json().at("itemsPerPage"), 2);
  EXPECT_EQ(Ids(page), (std::vector<std::string>{ids[1], ids[2]}));
  EXPECT_TRUE(Ids(get("?startIndex=9")).empty());

  const auto filtered = [&](const std::string& filter) { return Ids(get("?filter=" + UrlEncode(filter))); };
  EXPECT_EQ(filtered("displayName eq \"gamma\""), (std::vector<std::string>{ids[2]}));  // caseExact false
  EXPECT_EQ(filtered("displayName sw \"D\""), (std::vector<std::string>{ids[3]}));
  EXPECT_EQ(filtered("id eq \"" + ids[1] + "\""), (std::vector<std::string>{ids[1]}));
  EXPECT_EQ(filtered("members.value eq \"" + ada + "\""), (std::vector<std::string>{ids[4]}));
  EXPECT_EQ(filtered("members[value eq \"" + ids[0] + "\"]"), (std::vector<std::string>{ids[4]}));
  EXPECT_EQ(filtered("members[type eq \"Group\"]"), (std::vector<std::string>{ids[4]}));
  EXPECT_EQ(filtered("displayName eq \"Alpha\" or displayName eq \"Beta\""), (std::vector<std::string>{ids[0], ids[1]}));
  EXPECT_EQ(filtered("not (displayName co \"a\")"), (std::vector<std::string>{ids[4]}));  // Epsilon
  EXPECT_EQ(filtered("meta.resourceType eq \"Group\" and displayName ew \"TA\""),
            (std::vector<std::string>{ids[1], ids[3]}));
  EXPECT_TRUE(filtered("displayName eq \"Nobody\"").empty());
  scim::ExpectError(get("?filter=" + UrlEncode("displayName eq")), 400, "invalidFilter");

  auto sorted = get("?sortBy=displayName&sortOrder=descending");
  EXPECT_EQ(Ids(sorted), (std::vector<std::string>{ids[2], ids[4], ids[3], ids[1], ids[0]}));

  // Projection: excludedAttributes=members (Entra, Okta), attributes=displayName.
  auto excluded = get("?excludedAttributes=members&filter=" + UrlEncode("displayName eq \"Epsilon\""));
  const json::object e = excluded.Json().at("Resources").at(0).as_object();
  EXPECT_FALSE(e.contains("members"));
  EXPECT_EQ(Str(e, "displayName"), "Epsilon");
  auto only = get("?attributes=displayName&filter=" + UrlEncode("displayName eq \"Epsilon\""));
  const json::object o = only.Json().at("Resources").at(0).as_object();
  EXPECT_EQ(Str(o, "displayName"), "Epsilon");
  EXPECT_EQ(Str(o, "id"), ids[4]);
  EXPECT_FALSE(o.contains("members"));
  EXPECT_FALSE(o.contains("meta"));
  auto one = Scim("GET", "/Groups/" + ids[4] + "?attributes=members.value", nullptr, t);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.Json().at("members").as_array().size(), 2u);
  EXPECT_FALSE(one.Json().as_object().contains("displayName"));

  // POST /Groups/.search: the same query in a body.
  auto search = Scim("POST", "/Groups/.search",
                     json::object{{"schemas", json::array{kSearchUrn}},
                                  {"filter", "displayName sw \"G\" or displayName sw \"B\""},
                                  {"excludedAttributes", json::array{"members"}},
                                  {"startIndex", 1},
                                  {"count", 1}},
                     t);
  ASSERT_EQ(search.status, 200) << search.body;
  EXPECT_EQ(search.Json().at("totalResults"), 2);
  EXPECT_EQ(Ids(search), (std::vector<std::string>{ids[1]}));
  scim::ExpectError(Scim("POST", "/Groups/.search", json::object{{"filter", "displayName pr"}}, t), 400,
                  "invalidSyntax");
}

// ---- one directory ---------------------------------------------------------------------------

TEST_F(ScimGroupsTest, TheSameGroupsAsCatalyzeAndCommCare) {
  const std::string ada = NewUser("shared.ada");
  const std::string scim_group = NewGroupId("Shared From SCIM", json::array{Ref(ada)});
  // Catalyze reads it by id, with its name.
  auto cat = client_.Send("GET", "/v2/groups/" + scim_group, "", CatalyzeHeaders(*catalyze_));
  ASSERT_EQ(cat.status, 200) << cat.body;
  EXPECT_EQ(Str(cat.Json(), "name"), "Shared From SCIM");
  // CommCare sees the same group with its member (32-hex ids).
  const auto hex = [](std::string s) {
    std::erase(s, '-');
    return s;
  };
  auto cc = client_.Send("GET", "/a/default/api/v0.5/group/" + hex(scim_group) + "/", "",
                         {{"Authorization", *commcare_}});
  ASSERT_EQ(cc.status, 200) << cc.body;
  EXPECT_EQ(Str(cc.Json(), "name"), "Shared From SCIM");
  EXPECT_EQ(cc.Json().at("users"), json::array{json::value(hex(ada))});

  // A Catalyze group is a SCIM group, found by its name; its name stays unique across APIs.
  auto made = client_.Send("POST", "/v2/groups", R"({"name":"Shared From Catalyze"})", CatalyzeHeaders(*catalyze_));
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string cat_group = Str(made.Json(), "groupsId");
  auto found = Scim("GET", "/Groups?filter=" + UrlEncode("displayName eq \"shared from catalyze\""));
  EXPECT_EQ(Ids(found), (std::vector<std::string>{cat_group}));
  scim::ExpectError(Scim("POST", "/Groups",
                       json::object{{"schemas", json::array{kGroupUrn}}, {"displayName", "SHARED FROM CATALYZE"}}),
                  409, "uniqueness");
  // A SCIM rename and member change show through CommCare; CommCare's fields survive SCIM writes.
  ASSERT_EQ(Patch(cat_group, Ops({json::object{{"op", "replace"}, {"path", "displayName"}, {"value", "Renamed By SCIM"}},
                                  json::object{{"op", "add"}, {"path", "members"}, {"value", json::array{Ref(ada)}}}}))
                .status,
            200);
  auto cc2 = client_.Send("GET", "/a/default/api/v0.5/group/" + hex(cat_group) + "/", "", {{"Authorization", *commcare_}});
  ASSERT_EQ(cc2.status, 200) << cc2.body;
  EXPECT_EQ(Str(cc2.Json(), "name"), "Renamed By SCIM");
  EXPECT_EQ(cc2.Json().at("users"), json::array{json::value(hex(ada))});
  // Deleted through Catalyze: gone from SCIM.
  ASSERT_EQ(client_.Send("DELETE", "/v2/groups/" + cat_group, "", CatalyzeHeaders(*catalyze_)).status / 100, 2);
  scim::ExpectError(Scim("GET", "/Groups/" + cat_group), 404);
}

}  // namespace
}  // namespace roster::testing
