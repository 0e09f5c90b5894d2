// The Catalyze v2 users API against the real binary: every route, every error path.
#include <gtest/gtest.h>


#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

// The seed page's own sample request (seeds 000/004) under another username.
std::string SeedUser(const std::string& username) {
  json::object user = json::parse(ReadFile(std::string(kTestData) + "/catalyze/seed_user.json")).as_object();
  user["username"] = username;
  return json::serialize(user);
}

std::string Minimal(const std::string& username, const std::string& email = "m@example.com") {
  return json::serialize(json::object{{"username", username}, {"password", "pw-123456"}, {"email", {{"primary", email}}}});
}

class CatalyzeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    admin_ = InitDataDir(dir_->path());
    app_ = CreateKey(dir_->path(), "default", "app");
    bound_ = CreateKey(dir_->path(), "default", "app", "com.example.bound");
    server_ = new Server(dir_->path());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  // Creates a user with the app key; returns (usersId, sessionToken).
  std::pair<std::string, std::string> CreateUser(const std::string& username) {
    auto r = client_.Send("POST", "/v2/users", Minimal(username), CatalyzeHeaders(app_));
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = r.Json().as_object();
    return {std::string(j.at("usersId").as_string()), std::string(j.at("sessionToken").as_string())};
  }

  static void ExpectError(const HttpResponse& r, long status, const std::string& mentions) {
    ExpectCatalyzeError(r, status, mentions);
  }

  static TempDir* dir_;
  static std::string admin_, app_, bound_;
  static Server* server_;
  Client client_{server_->base_url()};
};

TempDir* CatalyzeTest::dir_;
std::string CatalyzeTest::admin_, CatalyzeTest::app_, CatalyzeTest::bound_;
Server* CatalyzeTest::server_;

TEST_F(CatalyzeTest, HealthzAnswersWithRequestId) {
  auto a = client_.Send("GET", "/healthz");
  auto b = client_.Send("GET", "/healthz");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.Json().at("status"), "ok");
  EXPECT_FALSE(a.Header("x-request-id").empty());
  EXPECT_NE(a.Header("x-request-id"), b.Header("x-request-id"));
}

TEST_F(CatalyzeTest, CreateReturnsTheSeedProfileWithoutSecrets) {
  auto r = client_.Send("POST", "/v2/users", SeedUser("SeedUser"), CatalyzeHeaders(app_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.Header("x-request-id").empty());
  json::object got = r.Json().as_object();
  json::object sent = json::parse(SeedUser("SeedUser")).as_object();
  for (const char* key : {"email", "name", "phoneNumber", "dob", "addresses", "gender", "maritalStatus", "religion",
                          "race", "ethnicity", "guardians", "confCode", "languages", "socialIds", "mrns",
                          "healthPlans", "avatar", "ssn", "profilePhoto", "extras"})
    EXPECT_EQ(got[key], sent[key]) << key;
  // Changed for issue 15: the username comes back, as the seed's own create response
  // shows and the SDKs read it (it used to be left out).
  EXPECT_EQ(got["username"], "SeedUser");
  EXPECT_FALSE(got.contains("password"));
  EXPECT_EQ(got["active"], false);  // server-owned: the sent "active":true is ignored
  EXPECT_NE(got["usersId"], sent["usersId"]);
  EXPECT_EQ(got["usersId"].as_string().size(), 36u);
  EXPECT_EQ(got["sessionToken"].as_string().size(), 64u);
  EXPECT_TRUE(got["age"].is_int64());
  EXPECT_GE(got["age"].as_int64(), 25);
  EXPECT_EQ(got["createdAt"].as_string().size(), 20u);  // YYYY-MM-DDTHH:MM:SSZ
  EXPECT_EQ(got["createdAt"], got["updatedAt"]);

  // The new user's session reads the same profile back.
  const std::string id(got["usersId"].as_string()), token(got["sessionToken"].as_string());
  auto read = client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(app_, token));
  ASSERT_EQ(read.status, 200) << read.body;
  json::object back = read.Json().as_object();
  got.erase("sessionToken");
  EXPECT_EQ(back, got);
}

TEST_F(CatalyzeTest, AdminKeyReadsAnyUserWithoutSession) {
  auto [id, token] = CreateUser("admin-reads");
  auto r = client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("email").at("primary"), "m@example.com");
}

TEST_F(CatalyzeTest, CallersWithoutValidCredentialsGet401) {
  auto [id, token] = CreateUser("auth-target");
  ExpectError(client_.Send("POST", "/v2/users", Minimal("x1")), 401, "X-Api-Key");
  ExpectError(client_.Send("POST", "/v2/users", Minimal("x1"), {{"X-Api-Key", app_}}), 401, "X-Api-Key");
  ExpectError(client_.Send("POST", "/v2/users", Minimal("x1"), {{"X-Api-Key", "desktop app " + app_}}), 401,
              "X-Api-Key");
  ExpectError(client_.Send("POST", "/v2/users", Minimal("x1"), CatalyzeHeaders(std::string(64, 'a'))), 401,
              "api key");
  ExpectError(client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(app_)), 401, "session");
  ExpectError(client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(app_, "bogus")), 401, "session");
  ExpectError(client_.Send("GET", "/v2/users/" + id, "", {{"X-Api-Key", "ios x " + app_}, {"Authorization", "Basic abc"}}),
              401, "Bearer");
  // A key bound to an app identifier accepts only that identifier.
  ExpectError(client_.Send("POST", "/v2/users", Minimal("x1"), CatalyzeHeaders(bound_, "", "com.example.other")), 401,
              "api key");
  auto ok = client_.Send("POST", "/v2/users", Minimal("bound-ok"), CatalyzeHeaders(bound_, "", "com.example.bound"));
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(CatalyzeTest, AUserActsOnlyOnItself) {
  auto [alice, alice_token] = CreateUser("alice-self");
  auto [bob, bob_token] = CreateUser("bob-self");
  ExpectError(client_.Send("GET", "/v2/users/" + bob, "", CatalyzeHeaders(app_, alice_token)), 403, "profile:read");
  ExpectError(client_.Send("PUT", "/v2/users/" + bob, R"({"gender":"x"})", CatalyzeHeaders(app_, alice_token)), 403,
              "itself");
  ExpectError(client_.Send("DELETE", "/v2/users/" + bob, "", CatalyzeHeaders(app_, alice_token)), 403, "itself");
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + bob, "", CatalyzeHeaders(app_, bob_token)).status, 200);
}

TEST_F(CatalyzeTest, CreateRejectsBadInputAndWritesNothing) {
  struct Case {
    std::string body;
    std::string mentions;
  } cases[] = {
      {"", "JSON object"},
      {"{not json", "not valid JSON"},
      {"[1,2]", "JSON object"},
      {R"({"password":"p","email":{"primary":"a@b.co"}})", "username"},
      {R"({"username":"bad-1","email":{"primary":"a@b.co"}})", "password"},
      {R"({"username":"bad-1","password":"p"})", "email.primary"},
      {R"({"username":"bad-1","password":"p","email":{}})", "email.primary"},
      {R"({"username":"bad-1","password":"p","email":{"primary":"not-an-email"}})", "email.primary"},
      {R"({"username":12,"password":"p","email":{"primary":"a@b.co"}})", "username"},
      {R"({"username":"bad-1","password":12,"email":{"primary":"a@b.co"}})", "password"},
      {R"({"username":"bad-1","password":"p","email":{"primary":"a@b.co"},"dob":"2001-02-30"})", "dob"},
      {R"({"username":"bad-1","password":"p","email":{"primary":"a@b.co"},"name":{"firstName":7}})", "name.firstName"},
      {R"({"username":"bad-1","password":"p","email":{"primary":"a@b.co"},"addresses":[{"geocode":{"latitude":200,"longitude":0}}]})",
       "addresses[0].geocode.latitude"},
      {R"({"username":"bad-1","password":"p","email":{"primary":"a@b.co"},"ssn":123})", "ssn"},
      {R"({"username":")" + std::string(300, 'u') + R"(","password":"p","email":{"primary":"a@b.co"}})", "username"},
      {R"({"username":"bad-1","password":"p","email":{"primary":"a@b.co"},"gender":")" + std::string(300, 'g') + "\"}",
       "gender"},
      {R"({"username":"bad-1","password":")" + std::string(1100, 'p') + R"(","email":{"primary":"a@b.co"}})", "password"},
  };
  for (const auto& c : cases) ExpectError(client_.Send("POST", "/v2/users", c.body, CatalyzeHeaders(app_)), 400, c.mentions);
  // Nothing was written: the username used by the bad requests is still free.
  EXPECT_EQ(client_.Send("POST", "/v2/users", Minimal("bad-1"), CatalyzeHeaders(app_)).status, 200);
}

TEST_F(CatalyzeTest, DuplicateUsernameIsA409WhateverTheCase) {
  CreateUser("Dupe.User");
  ExpectError(client_.Send("POST", "/v2/users", Minimal("dupe.user"), CatalyzeHeaders(app_)), 409, "username");
  ExpectError(client_.Send("POST", "/v2/users", Minimal("DUPE.USER"), CatalyzeHeaders(app_)), 409, "username");
}

TEST_F(CatalyzeTest, UnknownAndMalformedIdsAre404) {
  ExpectError(client_.Send("GET", "/v2/users/a564ef59-085b-4803-b514-37288e32709e", "", CatalyzeHeaders(admin_)), 404,
              "not found");
  ExpectError(client_.Send("GET", "/v2/users/not-a-uuid", "", CatalyzeHeaders(admin_)), 404, "not found");
  ExpectError(client_.Send("GET", "/v2/users/%2e%2e%2fetc", "", CatalyzeHeaders(admin_)), 404, "not found");
  ExpectError(client_.Send("PUT", "/v2/users/a564ef59-085b-4803-b514-37288e32709e", "{}", CatalyzeHeaders(admin_)),
              404, "not found");
  ExpectError(client_.Send("DELETE", "/v2/users/a564ef59-085b-4803-b514-37288e32709e", "", CatalyzeHeaders(admin_)),
              404, "not found");
  ExpectError(client_.Send("GET", "/v2/nothing-here", "", CatalyzeHeaders(admin_)), 404, "not found");
  ExpectError(client_.Send("PATCH", "/v2/users", "{}", CatalyzeHeaders(admin_)), 405, "method");
}

TEST_F(CatalyzeTest, PutMergesAndNullClears) {
  auto created = client_.Send("POST", "/v2/users", SeedUser("merge-me"), CatalyzeHeaders(app_));
  ASSERT_EQ(created.status, 200);
  const std::string id(created.Json().at("usersId").as_string());
  const std::string token(created.Json().at("sessionToken").as_string());
  auto r = client_.Send("PUT", "/v2/users/" + id,
                        R"({"email":{"work":"new@work.com"},"name":{"firstName":"New"},"gender":null,"extras":[1]})",
                        CatalyzeHeaders(app_, token));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.Json().as_object();
  EXPECT_EQ(j["email"].at("work"), "new@work.com");
  EXPECT_EQ(j["email"].at("primary"), "primary@email.com");
  EXPECT_EQ(j["name"].at("firstName"), "New");
  EXPECT_EQ(j["name"].at("lastName"), "last name");
  EXPECT_FALSE(j.contains("gender"));
  EXPECT_EQ(j["extras"], json::parse("[1]"));
  EXPECT_EQ(j["ssn"], "123456789");
  EXPECT_TRUE(j.contains("username"));  // issue 15: returned on every user response
  // The stored user is what PUT returned.
  auto read = client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_));
  EXPECT_EQ(read.Json().as_object(), j);
}

TEST_F(CatalyzeTest, PutRejectsBadInputAndChangesNothing) {
  auto [id, token] = CreateUser("put-bad");
  CreateUser("put-taken");
  const auto before = client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_)).body;
  ExpectError(client_.Send("PUT", "/v2/users/" + id, "nope", CatalyzeHeaders(admin_)), 400, "JSON");
  ExpectError(client_.Send("PUT", "/v2/users/" + id, R"({"email":null})", CatalyzeHeaders(admin_)), 400, "email");
  ExpectError(client_.Send("PUT", "/v2/users/" + id, R"({"email":{"primary":null}})", CatalyzeHeaders(admin_)), 400,
              "email.primary");
  ExpectError(client_.Send("PUT", "/v2/users/" + id, R"({"dob":"1999-02-29","gender":"F"})", CatalyzeHeaders(admin_)),
              400, "dob");
  ExpectError(client_.Send("PUT", "/v2/users/" + id, R"({"password":""})", CatalyzeHeaders(admin_)), 400, "password");
  ExpectError(client_.Send("PUT", "/v2/users/" + id, R"({"username":"PUT-TAKEN","gender":"F"})", CatalyzeHeaders(admin_)),
              409, "username");
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_)).body, before);
}

TEST_F(CatalyzeTest, PutUsernameAndPassword) {
  auto [id, token] = CreateUser("rename-me");
  auto r = client_.Send("PUT", "/v2/users/" + id, R"({"username":"Renamed"})", CatalyzeHeaders(app_, token));
  ASSERT_EQ(r.status, 200) << r.body;
  // The old name is free again and the new one is taken.
  CreateUser("rename-me");
  ExpectError(client_.Send("POST", "/v2/users", Minimal("renamed"), CatalyzeHeaders(app_)), 409, "username");
  // A new password set through a session ends the user's other sessions; that one goes on.
  ASSERT_EQ(client_.Send("PUT", "/v2/users/" + id, R"({"active":true})", CatalyzeHeaders(admin_)).status, 200);
  auto signed_in = client_.Send("POST", "/v2/auth/signin", R"({"username":"renamed","password":"pw-123456"})",
                                CatalyzeHeaders(app_));
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  const std::string other(signed_in.Json().at("sessionToken").as_string());
  r = client_.Send("PUT", "/v2/users/" + id, R"({"password":"another-secret"})", CatalyzeHeaders(app_, token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(app_, token)).status, 200);
  ExpectError(client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(app_, other)), 401, "session");
  // Set by an admin, it ends every session.
  r = client_.Send("PUT", "/v2/users/" + id, R"({"password":"third-secret"})", CatalyzeHeaders(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectError(client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(app_, token)), 401, "session");
}

TEST_F(CatalyzeTest, DeleteIsIrreversible) {
  auto [id, token] = CreateUser("delete-me");
  auto r = client_.Send("DELETE", "/v2/users/" + id, "", CatalyzeHeaders(app_, token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), json::object{});
  ExpectError(client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_)), 404, "not found");
  ExpectError(client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(app_, token)), 401, "session");
  CreateUser("DELETE-ME");  // the username is free
}

TEST_F(CatalyzeTest, OversizeBodyIs413InCatalyzeShape) {
  const std::string huge = R"({"username":"big","password":"p","email":{"primary":"a@b.co"},"extras":")" +
                           std::string(2 << 20, 'x') + "\"}";
  ExpectError(client_.Send("POST", "/v2/users", huge, CatalyzeHeaders(app_)), 413, "too large");
  EXPECT_EQ(Client(server_->base_url()).Send("POST", "/v2/users", Minimal("big"), CatalyzeHeaders(app_)).status, 200);
}

TEST_F(CatalyzeTest, ConcurrentCreatesOfOneUsernameYieldExactlyOne) {
  // Request i upper-cases the letters of "racer" picked by the bits of i.
  const auto body = [](int i) {
    std::string name = "racer";
    for (std::size_t b = 0; b < name.size(); ++b)
      if ((i >> b) & 1) name[b] = static_cast<char>(std::toupper(name[b]));
    return Minimal(name);
  };
  const RaceTally t = RacePosts(32, [](int) { return server_->base_url(); }, body, "/v2/users", CatalyzeHeaders(app_));
  EXPECT_EQ(t.ok, 1);
  EXPECT_EQ(t.conflict, 31);
  EXPECT_EQ(t.other, 0);
}

TEST_F(CatalyzeTest, KeepAliveReusesTheConnection) {
  auto first = client_.Send("GET", "/healthz");
  auto second = client_.Send("GET", "/healthz");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.connects, 0);
}

// ---- versions: ETag and If-Match ------------------------------------------------

Headers IfMatch(Headers headers, const std::string& value) {
  headers.emplace_back("If-Match", value);
  return headers;
}

TEST_F(CatalyzeTest, UsersCarryAnETagAndHonourIfMatch) {
  auto created = client_.Send("POST", "/v2/users", Minimal("etag-user"), CatalyzeHeaders(app_));
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.Header("etag"), "W/\"1\"");
  const std::string id(created.Json().at("usersId").as_string());
  const std::string path = "/v2/users/" + id;
  auto read = client_.Send("GET", path, "", CatalyzeHeaders(admin_));
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.Header("etag"), "W/\"1\"");

  // The current ETag: the write goes through and answers the next one.
  auto put = client_.Send("PUT", path, R"({"gender":"F"})", IfMatch(CatalyzeHeaders(admin_), read.Header("etag")));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Header("etag"), "W/\"2\"");
  EXPECT_EQ(client_.Send("GET", path, "", CatalyzeHeaders(admin_)).Header("etag"), "W/\"2\"");

  // A stale one: 412 in Catalyze's shape, nothing changed.
  const auto before = client_.Send("GET", path, "", CatalyzeHeaders(admin_)).body;
  auto stale = client_.Send("PUT", path, R"({"gender":"M"})", IfMatch(CatalyzeHeaders(admin_), "W/\"1\""));
  ExpectError(stale, 412, "changed");
  EXPECT_TRUE(stale.Header("etag").empty());
  EXPECT_EQ(client_.Send("GET", path, "", CatalyzeHeaders(admin_)).body, before);
  ExpectError(client_.Send("DELETE", path, "", IfMatch(CatalyzeHeaders(admin_), "W/\"1\"")), 412, "changed");
  EXPECT_EQ(client_.Send("GET", path, "", CatalyzeHeaders(admin_)).status, 200);  // still there

  // A malformed If-Match is a 400 naming the header, and changes nothing.
  ExpectError(client_.Send("PUT", path, R"({"gender":"M"})", IfMatch(CatalyzeHeaders(admin_), "2")), 400, "If-Match");
  // A strong tag, a list and * are conditions too.
  auto strong = client_.Send("PUT", path, R"({"gender":"M"})", IfMatch(CatalyzeHeaders(admin_), "\"2\""));
  ASSERT_EQ(strong.status, 200) << strong.body;
  EXPECT_EQ(strong.Header("etag"), "W/\"3\"");
  auto listed = client_.Send("PUT", path, R"({"gender":"F"})", IfMatch(CatalyzeHeaders(admin_), "W/\"1\", W/\"3\""));
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.Header("etag"), "W/\"4\"");
  auto any = client_.Send("PUT", path, R"({"gender":"M"})", IfMatch(CatalyzeHeaders(admin_), "*"));
  ASSERT_EQ(any.status, 200) << any.body;
  EXPECT_EQ(any.Header("etag"), "W/\"5\"");
  // Without If-Match, as before.
  auto plain = client_.Send("PUT", path, R"({"gender":"F"})", CatalyzeHeaders(admin_));
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.Header("etag"), "W/\"6\"");

  auto deleted = client_.Send("DELETE", path, "", IfMatch(CatalyzeHeaders(admin_), "W/\"6\""));
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  ExpectError(client_.Send("GET", path, "", CatalyzeHeaders(admin_)), 404, "not found");
  ExpectError(client_.Send("DELETE", path, "", IfMatch(CatalyzeHeaders(admin_), "*")), 404, "not found");
}

TEST_F(CatalyzeTest, GroupsCarryAnETagAndHonourIfMatch) {
  auto created = client_.Send("POST", "/v2/groups", R"({"name":"ETag group"})", CatalyzeHeaders(admin_));
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.Header("etag"), "W/\"1\"");
  const std::string path = "/v2/groups/" + std::string(created.Json().at("groupsId").as_string());
  auto read = client_.Send("GET", path, "", CatalyzeHeaders(admin_));
  EXPECT_EQ(read.Header("etag"), "W/\"1\"");
  auto put = client_.Send("PUT", path, R"({"name":"ETag group 2"})", IfMatch(CatalyzeHeaders(admin_), "W/\"1\""));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Header("etag"), "W/\"2\"");
  ExpectError(client_.Send("PUT", path, R"({"name":"Stale"})", IfMatch(CatalyzeHeaders(admin_), "W/\"1\"")), 412,
              "changed");
  ExpectError(client_.Send("DELETE", path, "", IfMatch(CatalyzeHeaders(admin_), "W/\"1\"")), 412, "changed");
  auto after = client_.Send("GET", path, "", CatalyzeHeaders(admin_));
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.Json().at("name"), "ETag group 2");
  EXPECT_EQ(after.Header("etag"), "W/\"2\"");
  ASSERT_EQ(client_.Send("DELETE", path, "", IfMatch(CatalyzeHeaders(admin_), "W/\"2\"")).status, 200);
  ExpectError(client_.Send("GET", path, "", CatalyzeHeaders(admin_)), 404, "group");
}

}  // namespace
}  // namespace roster::testing
