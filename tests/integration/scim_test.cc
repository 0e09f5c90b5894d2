// The SCIM 2.0 dialect against the real binary: tokens, discovery, Users (create, read,
// replace, patch, delete, list, .search) with their error shapes (RFC 7644 §3.12),
// filters, paging, sorting, projection, ETags, and PHI by scope.
#include <gtest/gtest.h>

#include <set>

#include "integration/harness.h"
#include "integration/scim_support.h"

namespace roster::testing {
namespace {

namespace json = boost::json;
using scim::CreateToken;
using scim::Str;

constexpr const char* kUserUrn = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr const char* kEnterpriseUrn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
constexpr const char* kHealthUrn = "urn:roster:params:scim:schemas:extension:health:2.0:User";
constexpr const char* kPatchUrn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";





class ScimTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    InitDataDir(dir_->path());
    for (const char* env : {"other", "lists"}) {
      auto r = RunRoster({"env", "create", env, "--data-dir", dir_->path(), "--json"});
      if (r.exit_code != 0) throw std::runtime_error("env create failed: " + r.err);
    }
    token_ = new std::string(CreateToken(dir_->path(), "default", {"all"}));
    plain_ = new std::string(CreateToken(dir_->path(), "default"));
    other_ = new std::string(CreateToken(dir_->path(), "other", {"all"}));
    lists_ = new std::string(CreateToken(dir_->path(), "lists", {"all"}));
    server_ = new Server(dir_->path());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete token_;
    delete plain_;
    delete other_;
    delete lists_;
    delete dir_;
  }

  HttpResponse Scim(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::string& token = "", Headers extra = {}) {
    Headers h = {{"Authorization", "Bearer " + (token.empty() ? *token_ : token)},
                 {"Content-Type", "application/scim+json"}};
    for (auto& e : extra) {
      if (e.first == "Content-Type") h.erase(h.begin() + 1);  // replaced, not sent twice
      h.push_back(std::move(e));
    }
    return client_.Send(method, "/scim/v2" + path, body, h);
  }
  HttpResponse Scim(const std::string& method, const std::string& path, const json::object& body,
                    const std::string& token = "", Headers extra = {}) {
    return Scim(method, path, json::serialize(body), token, std::move(extra));
  }

  json::object NewUser(const std::string& user_name, json::object extra = {}, const std::string& token = "") {
    json::object body{{"schemas", json::array{kUserUrn}}, {"userName", user_name}};
    for (auto& [k, v] : extra) body[k] = v;
    auto r = Scim("POST", "/Users", body, token);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().is_object() ? r.Json().as_object() : json::object{};
  }

  static json::object PatchOp(json::array ops) {
    return json::object{{"schemas", json::array{kPatchUrn}}, {"Operations", std::move(ops)}};
  }

  static TempDir* dir_;
  static std::string* token_;  // every scope, environment "default"
  static std::string* plain_;  // a SCIM token's defaults, environment "default"
  static std::string* other_;
  static std::string* lists_;
  static Server* server_;
  Client client_{server_->base_url()};
};

TempDir* ScimTest::dir_ = nullptr;
std::string* ScimTest::token_ = nullptr;
std::string* ScimTest::plain_ = nullptr;
std::string* ScimTest::other_ = nullptr;
std::string* ScimTest::lists_ = nullptr;
Server* ScimTest::server_ = nullptr;

// ---- authentication and tokens ----------------------------------------------------

TEST_F(ScimTest, RequestsWithoutAValidBearerTokenAre401WithAChallenge) {
  for (const Headers& h : std::vector<Headers>{{},
                                               {{"Authorization", "Bearer "}},
                                               {{"Authorization", "Bearer not-a-token"}},
                                               {{"Authorization", "Basic " + *token_}}}) {
    auto r = client_.Send("GET", "/scim/v2/Users", "", h);
    scim::ExpectError(r, 401);
    EXPECT_NE(r.Header("www-authenticate").find("Bearer"), std::string::npos);
  }
  // A key made for another API is refused here.
  const std::string catalyze_key = CreateKey(dir_->path(), "default", "app");
  scim::ExpectError(Scim("GET", "/Users", "", catalyze_key), 401);
}

TEST_F(ScimTest, TokensAreListedWithoutSecretsAndRevokedAtOnce) {
  auto created = RunRoster({"scim", "token", "create", "--env", "default", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const json::value c = json::parse(created.out);
  const std::string token = Str(c, "token"), id = Str(c, "id");
  std::set<std::string> scopes;
  for (const auto& s : c.at("scopes").as_array()) scopes.insert(std::string(s.as_string()));
  EXPECT_EQ(scopes, (std::set<std::string>{"profile:read", "profile:write", "users:list", "contact:read",
                                           "groups:write"}));
  EXPECT_EQ(Scim("GET", "/Users?count=1", "", token).status, 200);

  auto listed = RunRoster({"scim", "token", "list", "--env", "default", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out.find(token), std::string::npos);
  EXPECT_NE(listed.out.find(id), std::string::npos);

  auto revoked =
      RunRoster({"scim", "token", "revoke", "--env", "default", "--id", id, "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_TRUE(RefusedOnceRevocationArrives([&] { return Scim("GET", "/Users?count=1", "", token).status == 401; }));
  auto again =
      RunRoster({"scim", "token", "revoke", "--env", "default", "--id", "nope", "--data-dir", dir_->path(), "--json"});
  EXPECT_NE(again.exit_code, 0);
}

// ---- discovery -----------------------------------------------------------------------

TEST_F(ScimTest, ServiceProviderConfigTellsTheLimitsEnforced) {
  auto r = Scim("GET", "/ServiceProviderConfig");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value j = r.Json();
  EXPECT_EQ(j.at("patch").at("supported"), true);
  EXPECT_EQ(j.at("bulk").at("supported"), true);
  EXPECT_EQ(j.at("bulk").at("maxOperations"), 1000);
  EXPECT_EQ(j.at("bulk").at("maxPayloadSize"), 1048576);
  EXPECT_EQ(j.at("filter").at("maxResults"), 1000);
  EXPECT_EQ(j.at("sort").at("supported"), true);
  EXPECT_EQ(j.at("etag").at("supported"), true);
  EXPECT_EQ(j.at("authenticationSchemes").at(0).at("type"), "oauthbearertoken");
}

TEST_F(ScimTest, ResourceTypesAndSchemasDescribeUsersAndGroups) {
  auto types = Scim("GET", "/ResourceTypes");
  ASSERT_EQ(types.status, 200) << types.body;
  EXPECT_EQ(types.Json().at("totalResults"), 2);
  auto user_type = Scim("GET", "/ResourceTypes/User");
  ASSERT_EQ(user_type.status, 200);
  EXPECT_EQ(user_type.Json().at("endpoint"), "/Users");
  scim::ExpectError(Scim("GET", "/ResourceTypes/Nope"), 404);

  auto schema = Scim("GET", std::string("/Schemas/") + kUserUrn);
  ASSERT_EQ(schema.status, 200) << schema.body;
  std::set<std::string> names;
  const json::value schema_json = schema.Json();  // kept: the loop below refers into it
  for (const auto& a : schema_json.at("attributes").as_array()) names.insert(std::string(a.at("name").as_string()));
  for (const char* n : {"userName", "name", "emails", "active", "password", "groups"}) EXPECT_TRUE(names.count(n)) << n;
  scim::ExpectError(Scim("GET", "/Schemas/urn:nope"), 404);
}

TEST_F(ScimTest, TheHealthSchemaListsPhiOnlyForATokenThatMayReadIt) {
  const auto attrs = [&](const std::string& token) {
    std::set<std::string> names;
    auto r = Scim("GET", std::string("/Schemas/") + kHealthUrn, "", token);
    EXPECT_EQ(r.status, 200) << r.body;
    const json::value j = r.Json();
    for (const auto& a : j.at("attributes").as_array()) names.insert(std::string(a.at("name").as_string()));
    return names;
  };
  EXPECT_TRUE(attrs(*token_).count("ssn"));
  EXPECT_FALSE(attrs(*plain_).count("ssn"));
  EXPECT_TRUE(attrs(*plain_).count("maidenName"));
}

// ---- users ------------------------------------------------------------------------

TEST_F(ScimTest, CreateReturns201WithLocationEtagAndMeta) {
  auto r = Scim("POST", "/Users",
                json::object{{"schemas", json::array{kUserUrn, kEnterpriseUrn}},
                             {"userName", "bjensen@example.com"},
                             {"externalId", "bjensen"},
                             {"name", {{"givenName", "Barbara"}, {"familyName", "Jensen"}}},
                             {"emails", json::array{{{"value", "bjensen@example.com"}, {"type", "work"}, {"primary", true}}}},
                             {"password", "t1meMa$heen"},
                             {kEnterpriseUrn, {{"department", "Tour Operations"}, {"employeeNumber", "701984"}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  const json::value j = r.Json();
  const std::string id = Str(j, "id");
  EXPECT_EQ(r.Header("content-type"), "application/scim+json");
  EXPECT_EQ(r.Header("location"), server_->base_url() + "/scim/v2/Users/" + id);
  EXPECT_EQ(r.Header("etag"), Str(j.at("meta"), "version"));
  EXPECT_EQ(Str(j.at("meta"), "resourceType"), "User");
  EXPECT_EQ(Str(j.at("meta"), "location"), r.Header("location"));
  EXPECT_FALSE(Str(j.at("meta"), "created").empty());
  EXPECT_EQ(j.at("active"), true);
  EXPECT_EQ(j.at(kEnterpriseUrn).at("department"), "Tour Operations");
  EXPECT_EQ(r.body.find("t1meMa$heen"), std::string::npos);  // password: returned never
  EXPECT_FALSE(j.as_object().contains("password"));

  auto read = Scim("GET", "/Users/" + id);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.Json().at("name").at("familyName"), "Jensen");
  EXPECT_EQ(read.Header("etag"), r.Header("etag"));
  // Another environment's token does not see it.
  scim::ExpectError(Scim("GET", "/Users/" + id, "", *other_), 404);
}

TEST_F(ScimTest, CreateRefusesBadBodiesNamingTheAttribute) {
  scim::ExpectError(Scim("POST", "/Users", "{not json"), 400, "invalidSyntax");
  scim::ExpectError(Scim("POST", "/Users", json::object{{"userName", "noschemas"}}), 400, "invalidSyntax", "schemas");
  scim::ExpectError(Scim("POST", "/Users", json::object{{"schemas", json::array{kUserUrn}}}), 400, "invalidValue",
                  "userName");
  scim::ExpectError(Scim("POST", "/Users",
                       json::object{{"schemas", json::array{kUserUrn}}, {"userName", "x1"}, {"emails", "a@b.c"}}),
                  400, "invalidValue", "emails");
  scim::ExpectError(Scim("POST", "/Users",
                       json::object{{"schemas", json::array{kUserUrn}}, {"userName", "x2"}, {"active", "maybe"}}),
                  400, "invalidValue", "active");
  scim::ExpectError(Scim("POST", "/Users", "{}", "", {{"Content-Type", "text/plain"}}), 415);
  // Nothing was created.
  auto list = Scim("GET", "/Users?filter=" + UrlEncode("userName sw \"x\""));
  EXPECT_EQ(list.Json().at("totalResults"), 0) << list.body;
}

TEST_F(ScimTest, UserNameIsUniqueCaseInsensitivelyAndExternalIdUniqueToo) {
  NewUser("Unique.Person", {{"externalId", "ext-unique"}});
  scim::ExpectError(Scim("POST", "/Users", json::object{{"schemas", json::array{kUserUrn}}, {"userName", "unique.person"}}),
                  409, "uniqueness", "userName");
  scim::ExpectError(Scim("POST", "/Users",
                       json::object{{"schemas", json::array{kUserUrn}}, {"userName", "u2"}, {"externalId", "ext-unique"}}),
                  409, "uniqueness", "externalId");
}

TEST_F(ScimTest, PutReplacesTheUserAndHonoursIfMatch) {
  auto u = NewUser("replace.me", {{"displayName", "Old"}, {"title", "Nurse"}});
  const std::string id = Str(u, "id");
  const std::string etag = Str(u.at("meta"), "version");
  json::object body{{"schemas", json::array{kUserUrn}}, {"userName", "replace.me"}, {"displayName", "New"}};
  auto stale = Scim("PUT", "/Users/" + id, body, "", {{"If-Match", "W/\"999\""}});
  scim::ExpectError(stale, 412);
  auto r = Scim("PUT", "/Users/" + id, body, "", {{"If-Match", etag}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("displayName"), "New");
  EXPECT_FALSE(r.Json().as_object().contains("title"));  // replaced: absent attributes are cleared
  EXPECT_NE(r.Header("etag"), etag);
  scim::ExpectError(Scim("PUT", "/Users/" + id, body, "", {{"If-Match", "3"}}), 400, "invalidValue", "If-Match");
  scim::ExpectError(Scim("PUT", "/Users/00000000-0000-4000-8000-000000000000", body), 404);
}

TEST_F(ScimTest, PatchAppliesEntraStyleOperations) {
  auto u = NewUser("patch.me", {{"emails", json::array{{{"value", "p@work.example"}, {"type", "work"}, {"primary", true}}}},
                                {"name", {{"givenName", "Pat"}, {"familyName", "Me"}}}});
  const std::string id = Str(u, "id");
  // Microsoft Entra ID: capitalised ops, active as a string, a value-filter path.
  auto r = Scim("PATCH", "/Users/" + id,
                PatchOp(json::array{
                    {{"op", "Replace"}, {"path", "active"}, {"value", "False"}},
                    {{"op", "Replace"}, {"path", "emails[type eq \"work\"].value"}, {"value", "pat@work.example"}},
                    {{"op", "Add"}, {"path", "name.givenName"}, {"value", "Patricia"}},
                    {{"op", "Add"},
                     {"path", std::string(kEnterpriseUrn) + ":department"},
                     {"value", "Radiology"}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value j = r.Json();
  EXPECT_EQ(j.at("active"), false);
  EXPECT_EQ(j.at("emails").at(0).at("value"), "pat@work.example");
  EXPECT_EQ(j.at("name").at("givenName"), "Patricia");
  EXPECT_EQ(j.at("name").at("familyName"), "Me");
  EXPECT_EQ(j.at(kEnterpriseUrn).at("department"), "Radiology");

  // Errors change nothing.
  scim::ExpectError(Scim("PATCH", "/Users/" + id, PatchOp(json::array{{{"op", "replace"}, {"path", "id"}, {"value", "x"}}})),
                  400, "mutability");
  scim::ExpectError(Scim("PATCH", "/Users/" + id, PatchOp(json::array{{{"op", "remove"}, {"path", "userName"}}})), 400,
                  "invalidValue", "userName");
  scim::ExpectError(Scim("PATCH", "/Users/" + id, json::object{{"Operations", json::array{}}}), 400, "invalidSyntax");
  auto after = Scim("GET", "/Users/" + id);
  EXPECT_EQ(after.Json().at("userName"), "patch.me");
  EXPECT_EQ(after.Header("etag"), r.Header("etag"));
}

TEST_F(ScimTest, DeleteIs204ThenTheUserIsGone) {
  auto u = NewUser("delete.me");
  const std::string id = Str(u, "id");
  scim::ExpectError(Scim("DELETE", "/Users/" + id, "", "", {{"If-Match", "W/\"77\""}}), 412);
  auto r = Scim("DELETE", "/Users/" + id);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(r.body.empty());
  scim::ExpectError(Scim("GET", "/Users/" + id), 404);
  scim::ExpectError(Scim("DELETE", "/Users/" + id), 404);
}

// ---- lists -------------------------------------------------------------------------

class ScimListTest : public ScimTest {
 protected:
  static void SetUpTestSuite() {
    ScimTest::SetUpTestSuite();
    Client c(server_->base_url());
    const char* people[][3] = {{"alice", "Alice", "Zed"}, {"bob", "Bob", "Young"}, {"carol", "Carol", "Xu"},
                               {"dave", "Dave", "Wong"},  {"erin", "Erin", "Vance"}};
    int i = 0;
    for (const auto& p : people) {
      json::object body{{"schemas", json::array{kUserUrn}},
                        {"userName", p[0]},
                        {"externalId", std::string("ext-") + p[0]},
                        {"name", {{"givenName", p[1]}, {"familyName", p[2]}}},
                        {"title", i % 2 == 0 ? "Nurse" : "Doctor"},
                        {"emails", json::array{{{"value", std::string(p[0]) + "@clinic.example"}, {"type", "work"}}}}};
      auto r = c.Send("POST", "/scim/v2/Users", json::serialize(body),
                      {{"Authorization", "Bearer " + *lists_}, {"Content-Type", "application/scim+json"}});
      if (r.status != 201) throw std::runtime_error("create failed: " + r.body);
      ++i;
    }
  }
  std::vector<std::string> Names(const std::string& query) {
    auto r = Scim("GET", "/Users?" + query, "", *lists_);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const json::value j = r.Json();
    for (const auto& u : j.at("Resources").as_array()) out.push_back(Str(u, "userName"));
    return out;
  }
};

TEST_F(ScimListTest, FiltersEveryOperatorAndCombination) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Names("filter=" + UrlEncode("userName eq \"ALICE\"")), V{"alice"});
  EXPECT_EQ(Names("filter=" + UrlEncode("externalId eq \"ext-bob\"")), V{"bob"});
  EXPECT_EQ(Names("filter=" + UrlEncode("userName ne \"alice\" and title eq \"Nurse\"")), (V{"carol", "erin"}));
  EXPECT_EQ(Names("filter=" + UrlEncode("name.givenName sw \"c\" or name.familyName ew \"ng\"")), (V{"bob", "carol", "dave"}));
  EXPECT_EQ(Names("filter=" + UrlEncode("emails co \"erin@\"")), V{"erin"});
  EXPECT_EQ(Names("filter=" + UrlEncode("emails[type eq \"work\" and value sw \"d\"]")), V{"dave"});
  EXPECT_EQ(Names("filter=" + UrlEncode("not (title eq \"Nurse\")")), (V{"bob", "dave"}));
  EXPECT_EQ(Names("filter=" + UrlEncode("userName gt \"carol\" and userName le \"erin\"")), (V{"dave", "erin"}));
  EXPECT_EQ(Names("filter=" + UrlEncode("nickName pr")), V{});
  EXPECT_EQ(Names("filter=" + UrlEncode("meta.created gt \"2000-01-01T00:00:00Z\"")).size(), 5u);
  scim::ExpectError(Scim("GET", "/Users?filter=" + UrlEncode("userName eqq \"x\""), "", *lists_), 400, "invalidFilter");
  scim::ExpectError(Scim("GET", "/Users?filter=" + UrlEncode("(userName eq \"x\""), "", *lists_), 400, "invalidFilter");
}

TEST_F(ScimListTest, PagesWithStartIndexAndCountAndTellsTheTotal) {
  auto r = Scim("GET", "/Users?startIndex=2&count=2", "", *lists_);
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value j = r.Json();
  EXPECT_EQ(j.at("schemas").at(0), "urn:ietf:params:scim:api:messages:2.0:ListResponse");
  EXPECT_EQ(j.at("totalResults"), 5);
  EXPECT_EQ(j.at("startIndex"), 2);
  EXPECT_EQ(j.at("itemsPerPage"), 2);
  EXPECT_EQ(Names("startIndex=2&count=2"), (std::vector<std::string>{"bob", "carol"}));
  EXPECT_EQ(Names("startIndex=5&count=10"), std::vector<std::string>{"erin"});
  EXPECT_TRUE(Names("startIndex=9").empty());
  auto zero = Scim("GET", "/Users?count=0", "", *lists_);
  EXPECT_EQ(zero.Json().at("totalResults"), 5);
  EXPECT_TRUE(zero.Json().at("Resources").as_array().empty());
  scim::ExpectError(Scim("GET", "/Users?count=abc", "", *lists_), 400, "invalidValue", "count");
}

TEST_F(ScimListTest, SortsByAnAttributeEitherWay) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Names("sortBy=name.familyName"), (V{"erin", "dave", "carol", "bob", "alice"}));
  EXPECT_EQ(Names("sortBy=userName&sortOrder=descending&count=2"), (V{"erin", "dave"}));
  EXPECT_EQ(Names("sortBy=title&filter=" + UrlEncode("title pr") + "&startIndex=4"), (V{"carol", "erin"}));
  scim::ExpectError(Scim("GET", "/Users?sortBy=userName&sortOrder=sideways", "", *lists_), 400, "invalidValue");
}

TEST_F(ScimListTest, AttributesAndExcludedAttributesShapeEachResource) {
  auto r = Scim("GET", "/Users?count=1&attributes=userName,name.givenName", "", *lists_);
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object u = r.Json().at("Resources").at(0).as_object();
  EXPECT_TRUE(u.contains("id"));
  EXPECT_TRUE(u.contains("userName"));
  EXPECT_EQ(u.at("name").as_object().size(), 1u);
  EXPECT_FALSE(u.contains("emails"));
  auto e = Scim("GET", "/Users?count=1&excludedAttributes=emails,meta", "", *lists_);
  const json::object v = e.Json().at("Resources").at(0).as_object();
  EXPECT_FALSE(v.contains("emails"));
  EXPECT_FALSE(v.contains("meta"));
  EXPECT_TRUE(v.contains("userName"));
}

TEST_F(ScimListTest, SearchByPostTakesTheSameParameters) {
  json::object body{{"schemas", json::array{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}},
                    {"filter", "title eq \"Doctor\""},
                    {"sortBy", "userName"},
                    {"sortOrder", "descending"},
                    {"attributes", json::array{"userName"}},
                    {"startIndex", 1},
                    {"count", 10}};
  auto r = Scim("POST", "/Users/.search", body, *lists_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("totalResults"), 2);
  EXPECT_EQ(Str(r.Json().at("Resources").at(0), "userName"), "dave");
  body.erase("schemas");
  scim::ExpectError(Scim("POST", "/Users/.search", body, *lists_), 400, "invalidSyntax");
}

// ---- PHI ---------------------------------------------------------------------------

TEST_F(ScimTest, HealthFieldsAreSeenAndWrittenOnlyWithPhiScopes) {
  auto u = NewUser("phi.person", {{"schemas", json::array{kUserUrn, kHealthUrn}},
                                  {kHealthUrn, {{"ssn", "123-45-6789"}, {"maidenName", "Smith"}}}});
  const std::string id = Str(u, "id");
  EXPECT_EQ(u.at(kHealthUrn).at("ssn"), "123-45-6789");
  auto plain = Scim("GET", "/Users/" + id, "", *plain_);
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.body.find("123-45-6789"), std::string::npos);
  EXPECT_EQ(plain.Json().at(kHealthUrn).at("maidenName"), "Smith");
  // A filter cannot probe what the token cannot see.
  auto probe = Scim("GET", "/Users?filter=" + UrlEncode(std::string(kHealthUrn) + ":ssn pr"), "", *plain_);
  EXPECT_EQ(probe.Json().at("totalResults"), 0) << probe.body;
  // Writing PHI needs phi:write: refused, nothing changed.
  auto write = Scim("PATCH", "/Users/" + id,
                    PatchOp(json::array{{{"op", "replace"}, {"path", std::string(kHealthUrn) + ":ssn"}, {"value", "999-99-9999"}}}),
                    *plain_);
  scim::ExpectError(write, 403);
  // A replace that leaves out the PHI it cannot see keeps it.
  auto put = Scim("PUT", "/Users/" + id,
                  json::object{{"schemas", json::array{kUserUrn}}, {"userName", "phi.person"}, {"title", "Patient"}},
                  *plain_);
  ASSERT_EQ(put.status, 200) << put.body;
  auto full = Scim("GET", "/Users/" + id);
  EXPECT_EQ(full.Json().at(kHealthUrn).at("ssn"), "123-45-6789");
  EXPECT_EQ(full.Json().at("title"), "Patient");
}

TEST_F(ScimTest, TransportErrorsComeInTheScimShape) {
  scim::ExpectError(Scim("GET", "/Nope"), 404);
  scim::ExpectError(Scim("DELETE", "/Users"), 405);
}

}  // namespace
}  // namespace roster::testing
