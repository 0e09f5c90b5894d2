// The CommCare HQ dialect against the real binary: web users from the CLI, mobile
// workers, groups and web users over /a/{domain}/api/v0.5/, every route with its
// success and error paths, and the round trip with Catalyze over one directory.
#include <gtest/gtest.h>

#include <array>
#include <map>

#include <cstdlib>
#include <thread>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

std::string HexOf(const std::string& uuid) {
  std::string out;
  for (char c : uuid)
    if (c != '-') out.push_back(c);
  return out;
}

// 32 hex digits -> the canonical UUID other dialects use.
std::string Uuid(const std::string& hex) {
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

struct WebUser {
  std::string email, key;
};

// `roster commcare web-user create`; the command's JSON output. The suite's keys hold a
// web user's defaults plus password:set (it tests setting mobile workers' passwords);
// scopes_test.cc tests the defaults.
WebUser CreateWebUser(const std::string& data_dir, const std::string& domain, const std::string& email,
                      const std::vector<std::string>& more_scopes = {}) {
  std::vector<std::string> args = {"commcare", "web-user", "create", "--domain", domain, "--email", email,
                                   "--scope", "profile:read", "--scope", "profile:write", "--scope", "users:list",
                                   "--scope", "contact:read", "--scope", "groups:write", "--scope", "password:set",
                                   "--data-dir", data_dir, "--json"};
  for (const auto& scope : more_scopes) args.insert(args.end(), {"--scope", scope});
  auto r = RunRoster(args);
  if (r.exit_code != 0) throw std::runtime_error("web-user create failed: " + r.err);
  auto j = json::parse(r.out).as_object();
  return {std::string(j.at("username").as_string()), std::string(j.at("apiKey").as_string())};
}

Headers ApiKey(const WebUser& u) { return {{"Authorization", "ApiKey " + u.email + ":" + u.key}}; }

std::string Users(const std::string& domain, const std::string& rest = "") {
  return "/a/" + domain + "/api/v0.5/user/" + rest;
}
std::string Groups(const std::string& domain, const std::string& rest = "") {
  return "/a/" + domain + "/api/v0.5/group/" + rest;
}
std::string WebUsers(const std::string& domain, const std::string& rest = "") {
  return "/a/" + domain + "/api/v0.5/web-user/" + rest;
}

// The seed page's sample request (seed 001), groups left out (they must exist).
json::object SeedWorker(const std::string& username) {
  return json::parse(R"({
    "username": ")" + username + R"(",
    "password": "qwer1234",
    "first_name": "John",
    "last_name": "Doe",
    "default_phone_number": "+50253311399",
    "email": "jdoe@example.org",
    "language": "en",
    "phone_numbers": ["+50253311399", "50253314588"],
    "user_data": {"chw_id": "13/43/DFA"}
  })")
      .as_object();
}

class CommCareTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    InitDataDir(dir_->path());
    admin_ = CreateWebUser(dir_->path(), "demo", "Admin@Example.org");
    second_ = CreateWebUser(dir_->path(), "demo", "second@example.org");
    other_ = CreateWebUser(dir_->path(), "other", "admin@other.org");
    paging_ = CreateWebUser(dir_->path(), "paging", "pager@example.org");
    places_ = CreateWebUser(dir_->path(), "places", "planner@example.org");
    staff_admin_ = CreateWebUser(dir_->path(), "staff", "boss@example.org", {"credentials:admin"});
    staff_member_ = CreateWebUser(dir_->path(), "staff", "member@example.org");
    // Catalyze keys for the same domains (one directory).
    catalyze_admin_ = CreateKey(dir_->path(), "demo", "admin");
    server_ = new Server(dir_->path());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  // POST a mobile worker to `domain`; returns its 32-hex id.
  std::string CreateWorker(const json::object& body, const WebUser& as = admin_, const std::string& domain = "demo") {
    auto r = client_.Send("POST", Users(domain), json::serialize(body), ApiKey(as));
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(r.Json().at("id").as_string());
  }
  std::string CreateWorker(const std::string& username) {
    return CreateWorker(json::object{{"username", username}, {"password", "pw-123456"}});
  }
  std::string CreateGroup(const std::string& name, const json::array& users = {}, const WebUser& as = admin_,
                          const std::string& domain = "demo") {
    auto r = client_.Send("POST", Groups(domain), json::serialize(json::object{{"name", name}, {"users", users}}),
                          ApiKey(as));
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(r.Json().at("id").as_string());
  }
  json::object Get(const std::string& path, const WebUser& as = admin_) {
    auto r = client_.Send("GET", path, "", ApiKey(as));
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
    return r.Json().is_object() ? r.Json().as_object() : json::object();
  }
  long SignIn(const std::string& username, const std::string& password) {
    return client_
        .Send("POST", "/v2/auth/signin", json::serialize(json::object{{"username", username}, {"password", password}}),
              CatalyzeHeaders(catalyze_admin_))
        .status;
  }

  // `key` is "error" on the user and web-user APIs, "error_message" on the group API.
  static void ExpectError(const HttpResponse& r, long status, const std::string& mentions,
                          const std::string& key = "error") {
    EXPECT_EQ(r.status, status) << r.body;
    const json::value j = r.Json();
    ASSERT_TRUE(j.is_object()) << r.body;
    ASSERT_EQ(j.as_object().size(), 1u) << r.body;
    ASSERT_TRUE(j.as_object().contains(key)) << r.body;
    const std::string message(j.at(key).as_string());
    EXPECT_NE(message.find(mentions), std::string::npos) << message;
  }

  static TempDir* dir_;
  static WebUser admin_, second_, other_, paging_, places_, staff_admin_, staff_member_;
  static std::string catalyze_admin_;
  static Server* server_;
  Client client_{server_->base_url()};
};

TempDir* CommCareTest::dir_;
WebUser CommCareTest::admin_, CommCareTest::second_, CommCareTest::other_, CommCareTest::paging_,
    CommCareTest::places_, CommCareTest::staff_admin_, CommCareTest::staff_member_;
std::string CommCareTest::catalyze_admin_;
Server* CommCareTest::server_;

// ---- the CLI ----

TEST_F(CommCareTest, WebUserCreateCommandPrintsUsernameAndKey) {
  EXPECT_EQ(admin_.email, "admin@example.org");  // folded
  EXPECT_EQ(admin_.key.size(), 64u);
  // The domain's environment was created on first use.
  auto envs = RunRoster({"env", "list", "--data-dir", dir_->path(), "--json"});
  EXPECT_NE(envs.out.find("\"demo\""), std::string::npos) << envs.out;
  EXPECT_NE(envs.out.find("\"other\""), std::string::npos) << envs.out;
  // Without --json: one "key: value" line each.
  auto plain = RunRoster({"commcare", "web-user", "create", "--domain", "demo", "--email", "plain@example.org",
                          "--data-dir", dir_->path()});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("username: plain@example.org"), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("apiKey: "), std::string::npos) << plain.out;
  // A second web user with the same email (any case) in the domain is refused and
  // leaves no key behind; the same email in another domain is fine.
  auto keys_before = RunRoster({"key", "list", "--env", "demo", "--data-dir", dir_->path(), "--json"});
  auto dup = RunRoster({"commcare", "web-user", "create", "--domain", "demo", "--email", "ADMIN@example.org",
                        "--data-dir", dir_->path(), "--json"});
  EXPECT_NE(dup.exit_code, 0);
  EXPECT_NE(dup.err.find("already exists"), std::string::npos) << dup.err;
  auto keys_after = RunRoster({"key", "list", "--env", "demo", "--data-dir", dir_->path(), "--json"});
  EXPECT_EQ(json::parse(keys_after.out).at("keys").as_array().size(),
            json::parse(keys_before.out).at("keys").as_array().size());
  // Bad email, bad domain name.
  auto bad_email = RunRoster({"commcare", "web-user", "create", "--domain", "demo", "--email", "not-an-email",
                              "--data-dir", dir_->path()});
  EXPECT_NE(bad_email.exit_code, 0);
  EXPECT_NE(bad_email.err.find("email"), std::string::npos) << bad_email.err;
  auto bad_domain = RunRoster({"commcare", "web-user", "create", "--domain", "bad domain", "--email", "x@example.org",
                               "--data-dir", dir_->path()});
  EXPECT_NE(bad_domain.exit_code, 0);
  EXPECT_NE(RunRoster({"commcare", "web-user", "create", "--domain", "demo", "--data-dir", dir_->path()}).exit_code, 0);
}

// ---- credentials ----

TEST_F(CommCareTest, CallersWithoutValidCredentialsGet401) {
  const std::string path = Users("demo");
  ExpectError(client_.Send("GET", path), 401, "Authorization");
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "Token " + admin_.key}}), 401, "scheme");
  // Bearer is OAuth2's (commcare_oauth_test.cc): an API key is no access token.
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "Bearer " + admin_.key}}), 401, "access token");
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "ApiKey " + admin_.key}}), 401, "Malformed");
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "ApiKey admin@example.org:"}}), 401, "Malformed");
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "ApiKey admin@example.org:" + std::string(64, 'a')}}),
              401, "Invalid credentials");
  // Another web user's email with this key, and this email with another web user's key.
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "ApiKey second@example.org:" + admin_.key}}), 401,
              "Invalid credentials");
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "ApiKey admin@example.org:" + second_.key}}), 401,
              "Invalid credentials");
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "Basic %%%"}}), 401, "Basic");
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "Basic " + Base64("admin@example.org")}}), 401,
              "Malformed");
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "Basic " + Base64("admin@example.org:wrong")}}), 401,
              "Invalid credentials");
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "ApiKey " + std::string(600, 'x')}}), 401,
              "Invalid credentials");
  // A key that is not a web user's (an admin key, or an app key bound to the same
  // identifier) is no CommCare credential.
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "ApiKey admin@example.org:" + catalyze_admin_}}), 401,
              "Invalid credentials");
  const std::string bound = CreateKey(dir_->path(), "demo", "app", "admin@example.org");
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "ApiKey admin@example.org:" + bound}}), 401,
              "Invalid credentials");
  // 401s are {"error"} on the group API too, as CommCare's authentication layer.
  ExpectError(client_.Send("GET", Groups("demo")), 401, "Authorization");

  // What works: ApiKey (scheme and email in any case) and HTTP Basic with the same pair.
  EXPECT_EQ(client_.Send("GET", path, "", ApiKey(admin_)).status, 200);
  EXPECT_EQ(client_.Send("GET", path, "", {{"Authorization", "apikey ADMIN@example.org:" + admin_.key}}).status, 200);
  EXPECT_EQ(client_.Send("GET", path, "", {{"Authorization", "Basic " + Base64("admin@example.org:" + admin_.key)}})
                .status,
            200);
}

TEST_F(CommCareTest, EveryRouteRequiresCredentialsOfItsDomain) {
  const std::string user = CreateWorker("route-auth");
  const std::string group = CreateGroup("Route Auth");
  const std::string web_user(Get(WebUsers("demo", "?username=admin@example.org"))["objects"].at(0).at("id").as_string());
  struct Route {
    std::string method, path, body;
  } routes[] = {
      {"GET", Users("demo"), ""},
      {"POST", Users("demo"), R"({"username":"never","password":"pw-123456"})"},
      {"GET", Users("demo", user + "/"), ""},
      {"PUT", Users("demo", user + "/"), R"({"first_name":"Never"})"},
      {"DELETE", Users("demo", user + "/"), ""},
      {"POST", Users("demo", user + "/activate/"), ""},
      {"POST", Users("demo", user + "/deactivate/"), ""},
      {"GET", Groups("demo"), ""},
      {"POST", Groups("demo"), R"({"name":"Never"})"},
      {"GET", Groups("demo", group + "/"), ""},
      {"PUT", Groups("demo", group + "/"), R"({"name":"Never"})"},
      {"DELETE", Groups("demo", group + "/"), ""},
      {"GET", WebUsers("demo"), ""},
      {"GET", WebUsers("demo", web_user + "/"), ""},
  };
  for (const auto& r : routes) {
    SCOPED_TRACE(r.method + " " + r.path);
    ExpectError(client_.Send(r.method, r.path, r.body), 401, "Authorization");
    ExpectError(client_.Send(r.method, r.path, r.body, {{"Authorization", "ApiKey admin@example.org:x"}}), 401,
                "Invalid credentials");
    ExpectError(client_.Send(r.method, r.path, r.body, ApiKey(other_)), 403, "project space 'demo'");
  }
  // Nothing changed.
  auto w = Get(Users("demo", user + "/"));
  EXPECT_EQ(w["first_name"], "");
  EXPECT_EQ(w["is_active"], true);
  EXPECT_EQ(Get(Groups("demo", group + "/"))["name"], "Route Auth");
}

TEST_F(CommCareTest, RevokedKeyIsRefusedAndShownInactive) {
  // A domain of its own, so revoking does not disturb the other tests.
  const WebUser keeper = CreateWebUser(dir_->path(), "revoking", "keeper@example.org");
  const WebUser leaver = CreateWebUser(dir_->path(), "revoking", "leaver@example.org");
  EXPECT_EQ(client_.Send("GET", Users("revoking"), "", ApiKey(leaver)).status, 200);
  auto keys = RunRoster({"key", "list", "--env", "revoking", "--data-dir", dir_->path(), "--json"});
  std::string id;
  const json::value parsed = json::parse(keys.out);
  for (const auto& k : parsed.at("keys").as_array())
    if (k.at("identifier") == "leaver@example.org") id = std::string(k.at("id").as_string());
  ASSERT_FALSE(id.empty()) << keys.out;
  ASSERT_EQ(RunRoster({"key", "revoke", id, "--data-dir", dir_->path()}).exit_code, 0);
  ASSERT_TRUE(RefusedOnceRevocationArrives(
      [&] { return client_.Send("GET", Users("revoking"), "", ApiKey(leaver)).status == 401; }));
  ExpectError(client_.Send("GET", Users("revoking"), "", ApiKey(leaver)), 401, "Invalid credentials");
  auto list = Get(WebUsers("revoking", "?username=leaver@example.org"), keeper);
  ASSERT_EQ(list["objects"].as_array().size(), 1u);
  EXPECT_EQ(list["objects"].at(0).at("is_active"), false);
}

// `roster commcare web-user COMMAND --domain D --email E --json`, parsed; fails the test
// on a non-zero exit.
json::object WebUserCommand(const std::string& data_dir, const std::string& command, const std::string& domain,
                            const std::string& email) {
  auto r = RunRoster({"commcare", "web-user", command, "--domain", domain, "--email", email, "--data-dir", data_dir,
                      "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out).as_object() : json::object{};
}

TEST_F(CommCareTest, RevokeKeyCommandRefusesTheKeyAtOnceAndRotateKeyIssuesANewOne) {
  const WebUser keeper = CreateWebUser(dir_->path(), "rotating", "keeper@example.org");
  WebUser user = CreateWebUser(dir_->path(), "rotating", "Rotor@Example.org");
  ASSERT_EQ(client_.Send("GET", Users("rotating"), "", ApiKey(user)).status, 200);
  const auto active = [&] {
    auto list = Get(WebUsers("rotating", "?username=rotor@example.org"), keeper);
    return list["objects"].as_array().size() == 1u && list["objects"].at(0).at("is_active") == true;
  };
  EXPECT_TRUE(active());

  // Revoked: refused at once (no wait for a revocation to travel), shown inactive.
  const json::object revoked = WebUserCommand(dir_->path(), "revoke-key", "rotating", "ROTOR@example.org");
  EXPECT_EQ(revoked.at("username"), "rotor@example.org");
  EXPECT_FALSE(revoked.at("revokedKeyId").as_string().empty());
  ExpectError(client_.Send("GET", Users("rotating"), "", ApiKey(user)), 401, "Invalid credentials");
  ExpectError(client_.Send("GET", WebUsers("rotating"), "", ApiKey(user)), 401, "Invalid credentials");
  EXPECT_FALSE(active());
  // Nothing left to revoke.
  auto again = RunRoster({"commcare", "web-user", "revoke-key", "--domain", "rotating", "--email",
                          "rotor@example.org", "--data-dir", dir_->path()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("no API key"), std::string::npos) << again.err;

  // Rotated: a new key works, active again; the revoked one stays refused.
  const json::object rotated = WebUserCommand(dir_->path(), "rotate-key", "rotating", "rotor@example.org");
  EXPECT_FALSE(rotated.contains("revokedKeyId"));  // it had none
  const WebUser renewed{user.email, std::string(rotated.at("apiKey").as_string())};
  EXPECT_EQ(client_.Send("GET", Users("rotating"), "", ApiKey(renewed)).status, 200);
  ExpectError(client_.Send("GET", Users("rotating"), "", ApiKey(user)), 401, "Invalid credentials");
  EXPECT_TRUE(active());

  // Rotated while it has a key: the old one is refused at once, the new one works.
  const json::object second = WebUserCommand(dir_->path(), "rotate-key", "rotating", "rotor@example.org");
  EXPECT_FALSE(second.at("revokedKeyId").as_string().empty());
  ExpectError(client_.Send("GET", Users("rotating"), "", ApiKey(renewed)), 401, "Invalid credentials");
  user.key = std::string(second.at("apiKey").as_string());
  EXPECT_EQ(client_.Send("GET", Users("rotating"), "", ApiKey(user)).status, 200);
  // The other web user of the domain was never disturbed.
  EXPECT_EQ(client_.Send("GET", Users("rotating"), "", ApiKey(keeper)).status, 200);
  // The revoked keys are revoked for every API (`roster key list`).
  auto keys = RunRoster({"key", "list", "--env", "rotating", "--data-dir", dir_->path(), "--json"});
  int revoked_keys = 0;
  const json::value listed = json::parse(keys.out);
  for (const auto& k : listed.at("keys").as_array())
    if (k.at("identifier") == "rotor@example.org" && k.at("revoked") == true) ++revoked_keys;
  EXPECT_EQ(revoked_keys, 2) << keys.out;
}

TEST_F(CommCareTest, RotateKeyKeepsTheKeysScopesEvenAfterARevocation) {
  auto made = RunRoster({"commcare", "web-user", "create", "--domain", "rotating", "--email", "reader@example.org",
                         "--scope", "profile:read", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const json::object rotated = WebUserCommand(dir_->path(), "rotate-key", "rotating", "reader@example.org");
  EXPECT_EQ(rotated.at("scopes"), json::parse(made.out).at("scopes"));
  WebUserCommand(dir_->path(), "revoke-key", "rotating", "reader@example.org");
  const json::object again = WebUserCommand(dir_->path(), "rotate-key", "rotating", "reader@example.org");
  EXPECT_EQ(again.at("scopes"), (json::array{"profile:read"}));
}

TEST_F(CommCareTest, KeyCommandsNameAnUnknownDomainOrWebUser) {
  for (const auto& [command, domain, email, mentions] :
       std::vector<std::array<std::string, 4>>{{"revoke-key", "no-such-domain", "a@example.org", "no-such-domain"},
                                               {"rotate-key", "demo", "nobody@example.org", "nobody@example.org"},
                                               {"revoke-key", "demo", "admin@other.org", "admin@other.org"}}) {
    auto r = RunRoster({"commcare", "web-user", command, "--domain", domain, "--email", email, "--data-dir",
                        dir_->path()});
    EXPECT_NE(r.exit_code, 0) << command << " " << domain << " " << email;
    EXPECT_NE(r.err.find(mentions), std::string::npos) << r.err;
  }
  // The environment was not created, and the keys named still work.
  auto envs = RunRoster({"env", "list", "--data-dir", dir_->path(), "--json"});
  EXPECT_EQ(envs.out.find("no-such-domain"), std::string::npos) << envs.out;
  EXPECT_EQ(client_.Send("GET", Users("other"), "", ApiKey(other_)).status, 200);
}

TEST_F(CommCareTest, KeyOfOneDomainIsRefusedOnAnother) {
  // Valid credentials for another (or no such) domain: 403 {"error"}, on every API.
  ExpectError(client_.Send("GET", Users("other"), "", ApiKey(admin_)), 403, "project space");
  ExpectError(client_.Send("GET", Users("no-such-domain"), "", ApiKey(admin_)), 403, "project space");
  ExpectError(client_.Send("POST", Groups("other"), R"({"name":"x"})", ApiKey(admin_)), 403, "project space");
  ExpectError(client_.Send("GET", WebUsers("other"), "", ApiKey(admin_)), 403, "project space");
  // Ids of another domain are not found in this one.
  const std::string theirs = CreateWorker(json::object{{"username", "theirs"}, {"password", "pw-123456"}}, other_,
                                          "other");
  const std::string their_group = CreateGroup("Theirs", {}, other_, "other");
  ExpectError(client_.Send("GET", Users("demo", theirs + "/"), "", ApiKey(admin_)), 404, "No mobile worker");
  ExpectError(client_.Send("PUT", Users("demo", theirs + "/"), R"({"first_name":"X"})", ApiKey(admin_)), 404,
              "No mobile worker");
  ExpectError(client_.Send("DELETE", Users("demo", theirs + "/"), "", ApiKey(admin_)), 404, "No mobile worker");
  ExpectError(client_.Send("POST", Users("demo", theirs + "/deactivate/"), "", ApiKey(admin_)), 404,
              "No mobile worker");
  ExpectError(client_.Send("GET", Groups("demo", their_group + "/"), "", ApiKey(admin_)), 404, "No group",
              "error_message");
  ExpectError(client_.Send("DELETE", Groups("demo", their_group + "/"), "", ApiKey(admin_)), 404, "No group",
              "error_message");
  // ... nor usable as references.
  ExpectError(client_.Send("POST", Users("demo"),
                           json::serialize(json::object{
                               {"username", "cross"}, {"password", "pw-123456"}, {"groups", json::array{their_group}}}),
                           ApiKey(admin_)),
              400, "groups[0]");
  ExpectError(client_.Send("POST", Groups("demo"),
                           json::serialize(json::object{{"name", "Cross"}, {"users", json::array{theirs}}}),
                           ApiKey(admin_)),
              400, "users[0]", "error_message");
  ExpectError(client_.Send("GET", Users("demo", "?group=" + their_group), "", ApiKey(admin_)), 400, "no group");
  // The other domain's worker is untouched.
  EXPECT_EQ(Get(Users("other", theirs + "/"), other_)["is_active"], true);
}

// ---- mobile workers ----

TEST_F(CommCareTest, CreateReturns201WithTheWorker) {
  const std::string group = CreateGroup("Create Group");
  json::object body = SeedWorker("jdoe");
  body["groups"] = json::array{group};
  auto r = client_.Send("POST", Users("demo"), json::serialize(body), ApiKey(admin_));
  ASSERT_EQ(r.status, 201) << r.body;
  json::object got = r.Json().as_object();
  const std::string id(got.at("id").as_string());
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  EXPECT_EQ(got["user_id"], json::value(id));
  EXPECT_EQ(got["username"], "jdoe@demo.commcarehq.org");
  EXPECT_EQ(got["first_name"], "John");
  EXPECT_EQ(got["last_name"], "Doe");
  EXPECT_EQ(got["email"], "jdoe@example.org");
  // CommCare strips the leading '+' (strip_plus).
  EXPECT_EQ(got["default_phone_number"], "50253311399");
  EXPECT_EQ(got["phone_numbers"], json::parse(R"(["50253311399","50253314588"])"));
  EXPECT_EQ(got["groups"], json::array{group});
  // CommCare's injected keys (corehq/apps/api/tests/test_user_resources.py) and eulas.
  EXPECT_EQ(got["user_data"],
            json::parse(R"({"commcare_project":"demo","commcare_profile":"","chw_id":"13/43/DFA"})"));
  EXPECT_EQ(got["eulas"], "[]");
  EXPECT_EQ(got["language"], "en");
  EXPECT_EQ(got["is_active"], true);
  EXPECT_EQ(got["locations"], json::array());
  EXPECT_TRUE(got["primary_location"].is_null());
  EXPECT_EQ(got["resource_uri"], json::value("/a/demo/api/v0.5/user/" + id + "/"));
  EXPECT_EQ(r.Header("location"), "/a/demo/api/v0.5/user/" + id + "/");
  EXPECT_FALSE(got.contains("password"));
  EXPECT_EQ(r.body.find("qwer1234"), std::string::npos);
  // GET returns the same worker (and HTTP Basic works as well as ApiKey).
  auto read = client_.Send("GET", Users("demo", id + "/"), "",
                           {{"Authorization", "Basic " + Base64(admin_.email + ":" + admin_.key)}});
  ASSERT_EQ(read.status, 200) << read.body;
  got.erase("user_id");
  EXPECT_EQ(read.Json().as_object(), got);
  // The password is set: the worker signs in (through Catalyze, same directory).
  EXPECT_EQ(SignIn("jdoe@demo.commcarehq.org", "qwer1234"), 200);
  // The group lists the worker.
  EXPECT_EQ(Get(Groups("demo", group + "/"))["users"], json::array{id});
}

TEST_F(CommCareTest, UsernamesAreFormattedAndChecked) {
  auto created = client_.Send("POST", Users("demo"), R"({"username":"John  Smith","password":"pw-123456"})",
                              ApiKey(admin_));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json().at("username"), "john.smith@demo.commcarehq.org");
  auto full = client_.Send("POST", Users("demo"), R"({"username":"Full@Demo.CommCareHQ.org","password":"pw-123456"})",
                           ApiKey(admin_));
  ASSERT_EQ(full.status, 201) << full.body;
  EXPECT_EQ(full.Json().at("username"), "full@demo.commcarehq.org");
  struct Case {
    std::string username, message;
  } cases[] = {
      {"JOHN.SMITH", "Username 'john.smith@demo.commcarehq.org' is already taken or reserved."},
      {"john.smith@demo.commcarehq.org", "Username 'john.smith@demo.commcarehq.org' is already taken or reserved."},
      {"admin", "Username 'admin' is already taken or reserved."},
      {"demo_user", "Username 'demo_user' is already taken or reserved."},
      {"a..b", "Username may not contain consecutive . (period)."},
      {"ab.", "Username may not end with a . (period)."},
      {"a%b", "Username may not contain special characters."},
      {"jdoe@elsewhere.org", "Username 'jdoe@elsewhere.org' must end with @demo.commcarehq.org."},
      {std::string(70, 'x'), "must be a valid email address."},
      {"", "Username is required."},
  };
  for (const auto& c : cases) {
    auto r = client_.Send("POST", Users("demo"),
                          json::serialize(json::object{{"username", c.username}, {"password", "pw-123456"}}),
                          ApiKey(admin_));
    ExpectError(r, 400, c.message);
  }
  ExpectError(client_.Send("POST", Users("demo"), R"({"password":"pw-123456"})", ApiKey(admin_)), 400,
              "Username is required.");
  ExpectError(client_.Send("POST", Users("demo"), R"({"username":7,"password":"pw-123456"})", ApiKey(admin_)), 400,
              "username must be a string");
}

TEST_F(CommCareTest, CreateRejectsBadInputAndWritesNothing) {
  const std::string missing_group(32, 'a');
  struct Case {
    std::string body, mentions;
  } cases[] = {
      {"", "JSON object"},
      {"{not json", "not valid JSON"},
      {"[1]", "JSON object"},
      {R"({"username":"bad-1"})", "Password or connect username required"},
      {R"({"username":"bad-1","password":""})", "password"},
      {R"({"username":"bad-1","password":5})", "password"},
      {R"({"username":"bad-1","password":")" + std::string(1100, 'p') + "\"}", "password"},
      {R"({"username":"bad-1","password":"p","email":"nope"})", "email"},
      {R"({"username":"bad-1","password":"p","first_name":7})", "first_name"},
      {R"({"username":"bad-1","password":"p","last_name":")" + std::string(300, 'l') + "\"}", "last_name"},
      {R"({"username":"bad-1","password":"p","phone_numbers":"123"})", "phone_numbers"},
      {R"({"username":"bad-1","password":"p","phone_numbers":["123","abc"]})", "phone_numbers[1]"},
      {R"({"username":"bad-1","password":"p","default_phone_number":"call me"})", "default_phone_number"},
      {R"({"username":"bad-1","password":"p","user_data":"x"})", "user_data"},
      {R"({"username":"bad-1","password":"p","language":3})", "language"},
      {R"({"username":"bad-1","password":"p","groups":"g"})", "groups"},
      {R"({"username":"bad-1","password":"p","groups":["G"]})", "groups[0]"},
      {R"({"username":"bad-1","password":"p","groups":[")" + missing_group + R"("]})", "groups[0]"},
      {R"({"username":"bad-1","password":"p","locations":["26fc44e2792b4f2fa8ef86178f0a958e"]})", "locations"},
      {R"({"username":"bad-1","password":"p","primary_location":"26fc44e2792b4f2fa8ef86178f0a958e"})",
       "Primary location must be included in the list of locations."},
  };
  for (const auto& c : cases) ExpectError(client_.Send("POST", Users("demo"), c.body, ApiKey(admin_)), 400, c.mentions);
  // Nothing was written: the username is still free.
  auto ok = client_.Send("POST", Users("demo"), R"({"username":"bad-1","password":"pw-123456","locations":[]})",
                         ApiKey(admin_));
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(CommCareTest, ConcurrentCreatesOfOneUsernameYieldExactlyOne) {
  std::atomic<int> created{0}, taken{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      const std::string name = (i % 2) ? "RACER" : "racer";
      auto r = Client(server_->base_url())
                   .Send("POST", Users("demo"),
                         json::serialize(json::object{{"username", name}, {"password", "pw-123456"}}), ApiKey(admin_));
      if (r.status == 201) ++created;
      else if (r.status == 400 && r.body.find("already taken") != std::string::npos) ++taken;
      else ++other;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(taken, 15);
  EXPECT_EQ(other, 0);
}

TEST_F(CommCareTest, UnknownAndMalformedIdsAre404) {
  const std::string id = CreateWorker("id-format");
  const std::string unknown(32, 'b');
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::vector<std::string> bad_ids = {unknown, Uuid(id), std::string(32, 'Z'), id + "0", "%2e%2e"};
  if (upper != id) bad_ids.push_back(upper);
  for (const std::string& bad : bad_ids) {
    ExpectError(client_.Send("GET", Users("demo", bad + "/"), "", ApiKey(admin_)), 404, "No mobile worker");
    ExpectError(client_.Send("PUT", Users("demo", bad + "/"), "{}", ApiKey(admin_)), 404, "No mobile worker");
    ExpectError(client_.Send("DELETE", Users("demo", bad + "/"), "", ApiKey(admin_)), 404, "No mobile worker");
    ExpectError(client_.Send("POST", Users("demo", bad + "/activate/"), "", ApiKey(admin_)), 404, "No mobile worker");
  }
  // Transport errors in CommCare's shape: unknown route, other method, oversize body.
  ExpectError(client_.Send("GET", "/a/demo/api/v0.5/nothing/", "", ApiKey(admin_)), 404, "not found");
  ExpectError(client_.Send("PATCH", Users("demo", id + "/"), "{}", ApiKey(admin_)), 405, "method");
  ExpectError(client_.Send("POST", Users("demo"), std::string(2 << 20, 'x'), ApiKey(admin_)), 413, "too large");
}

TEST_F(CommCareTest, PutChangesOnlyWhatIsSentAndReplacesLists) {
  const std::string g1 = CreateGroup("Put One"), g2 = CreateGroup("Put Two");
  json::object body = SeedWorker("put-me");
  body["groups"] = json::array{g1};
  const std::string id = CreateWorker(body);
  const std::string path = Users("demo", id + "/");

  // Omitted fields are unchanged.
  auto r = client_.Send("PUT", path, R"({"first_name":"Jane"})", ApiKey(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.Json().as_object();
  EXPECT_EQ(j["first_name"], "Jane");
  EXPECT_EQ(j["last_name"], "Doe");
  EXPECT_EQ(j["email"], "jdoe@example.org");
  EXPECT_EQ(j["phone_numbers"].as_array().size(), 2u);
  EXPECT_EQ(j["groups"], json::array{g1});
  EXPECT_EQ(j["user_data"], json::parse(R"({"commcare_project":"demo","commcare_profile":"","chw_id":"13/43/DFA"})"));

  // phone_numbers, groups and user_data are replaced wholesale; the username may be
  // sent back unchanged (a GET-modify-PUT script does).
  r = client_.Send("PUT", path,
                   json::serialize(json::object{{"username", "put-me@demo.commcarehq.org"},
                                                {"phone_numbers", json::array{"+111222333"}},
                                                {"groups", json::array{g2}},
                                                {"user_data", json::object{{"village", "Patna"}}},
                                                {"email", "New@Example.org"},
                                                {"language", "fr"}}),
                   ApiKey(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  j = r.Json().as_object();
  EXPECT_EQ(j["phone_numbers"], json::array{"111222333"});
  EXPECT_EQ(j["default_phone_number"], "111222333");
  EXPECT_EQ(j["groups"], json::array{g2});
  EXPECT_EQ(j["user_data"], json::parse(R"({"commcare_project":"demo","commcare_profile":"","village":"Patna"})"));
  EXPECT_EQ(j["email"], "new@example.org");
  EXPECT_EQ(j["language"], "fr");
  EXPECT_EQ(j["username"], "put-me@demo.commcarehq.org");
  EXPECT_EQ(Get(Groups("demo", g1 + "/"))["users"], json::array());
  EXPECT_EQ(Get(Groups("demo", g2 + "/"))["users"], json::array{id});

  // default_phone_number joins the list at the front; null and [] clear.
  r = client_.Send("PUT", path, R"({"default_phone_number":"+444555666"})", ApiKey(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("phone_numbers"), json::parse(R"(["444555666","111222333"])"));
  r = client_.Send("PUT", path, R"({"phone_numbers":[],"groups":null,"user_data":null,"email":""})", ApiKey(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  j = r.Json().as_object();
  EXPECT_EQ(j["phone_numbers"], json::array());
  EXPECT_TRUE(j["default_phone_number"].is_null());
  EXPECT_EQ(j["groups"], json::array());
  EXPECT_EQ(j["user_data"], json::parse(R"({"commcare_project":"demo","commcare_profile":""})"));
  // The injected keys sent back (GET-modify-PUT) are not stored.
  r = client_.Send("PUT", path, json::serialize(json::object{{"user_data", j["user_data"]}}), ApiKey(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("user_data"), json::parse(R"({"commcare_project":"demo","commcare_profile":""})"));
  EXPECT_EQ(j["email"], "");

  // The stored worker is what PUT returned.
  EXPECT_EQ(Get(path), j);

  // A new password replaces the old one.
  EXPECT_EQ(SignIn("put-me@demo.commcarehq.org", "qwer1234"), 200);
  r = client_.Send("PUT", path, R"({"password":"another-secret"})", ApiKey(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("another-secret"), std::string::npos);
  EXPECT_EQ(SignIn("put-me@demo.commcarehq.org", "qwer1234"), 401);
  EXPECT_EQ(SignIn("put-me@demo.commcarehq.org", "another-secret"), 200);
}

TEST_F(CommCareTest, PutRejectsBadInputAndChangesNothing) {
  const std::string id = CreateWorker(SeedWorker("put-bad"));
  const std::string path = Users("demo", id + "/");
  const std::string before = client_.Send("GET", path, "", ApiKey(admin_)).body;
  struct Case {
    std::string body, mentions;
  } cases[] = {
      {"nope", "JSON"},
      {"", "JSON object"},
      {R"({"username":"someone-else","first_name":"X"})",
       "The request resulted in the following errors: Attempted to update unknown or non-editable field 'username'"},
      {R"({"username":5})", "non-editable field 'username'"},
      {R"({"first_name":"X","email":"bad"})", "email"},
      {R"({"first_name":"X","phone_numbers":[1]})", "phone_numbers[0]"},
      {R"({"first_name":"X","groups":[")" + std::string(32, 'c') + R"("]})", "groups[0]"},
      {R"({"first_name":"X","user_data":5})", "user_data"},
      {R"({"first_name":"X","password":""})", "password"},
      {R"({"first_name":"X","locations":["x"]})", "locations"},
  };
  for (const auto& c : cases) ExpectError(client_.Send("PUT", path, c.body, ApiKey(admin_)), 400, c.mentions);
  EXPECT_EQ(client_.Send("GET", path, "", ApiKey(admin_)).body, before);
}

TEST_F(CommCareTest, DeleteRetiresTheWorker) {
  const std::string id = CreateWorker(SeedWorker("retire-me"));
  auto r = client_.Send("DELETE", Users("demo", id + "/"), "", ApiKey(admin_));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body, "");
  // Still readable by id, hidden from the default list, shown with archived=true.
  auto got = Get(Users("demo", id + "/"));
  EXPECT_EQ(got["is_active"], false);
  const auto ids = [&](const std::string& query) {
    std::vector<std::string> out;
    json::object list = Get(Users("demo", "?limit=0" + query));
    for (const auto& o : list["objects"].as_array())
      out.emplace_back(o.at("id").as_string());
    return out;
  };
  const auto active = ids(""), archived = ids("&archived=true"), garbled = ids("&archived=perhaps");
  EXPECT_EQ(std::count(active.begin(), active.end(), id), 0);
  EXPECT_EQ(std::count(archived.begin(), archived.end(), id), 1);
  EXPECT_EQ(garbled, active);  // not a boolean: false, as CommCare
  // The username stays reserved; the worker cannot sign in; retiring again is fine.
  ExpectError(client_.Send("POST", Users("demo"), R"({"username":"retire-me","password":"pw-123456"})", ApiKey(admin_)),
              400, "Username 'retire-me@demo.commcarehq.org' is already taken or reserved.");
  EXPECT_EQ(SignIn("retire-me@demo.commcarehq.org", "qwer1234"), 401);
  EXPECT_EQ(client_.Send("DELETE", Users("demo", id + "/"), "", ApiKey(admin_)).status, 202);
  // A retired worker cannot be (de)activated.
  ExpectError(client_.Send("POST", Users("demo", id + "/activate/"), "", ApiKey(admin_)), 400, "retired");
  ExpectError(client_.Send("POST", Users("demo", id + "/deactivate/"), "", ApiKey(admin_)), 400, "retired");
}

TEST_F(CommCareTest, ActivateAndDeactivate) {
  const std::string id = CreateWorker(SeedWorker("toggle-me"));
  auto r = client_.Send("POST", Users("demo", id + "/deactivate/"), "", ApiKey(admin_));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.Json(), json::object());
  EXPECT_EQ(Get(Users("demo", id + "/"))["is_active"], false);
  EXPECT_EQ(SignIn("toggle-me@demo.commcarehq.org", "qwer1234"), 401);
  r = client_.Send("POST", Users("demo", id + "/activate"), "", ApiKey(admin_));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Get(Users("demo", id + "/"))["is_active"], true);
  EXPECT_EQ(SignIn("toggle-me@demo.commcarehq.org", "qwer1234"), 200);
  // A deactivated worker is still listed (it is not retired).
  auto list = Get(Users("demo", "?limit=0"));
  bool listed = false;
  for (const auto& o : list["objects"].as_array()) listed = listed || o.at("id") == json::value(id);
  EXPECT_TRUE(listed);
}

TEST_F(CommCareTest, ListPagesWithTastypieEnvelope) {
  // "paging" holds only what this test creates.
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(CreateWorker(json::object{{"username", "p" + std::to_string(i)}, {"password", "pw-123456"}}, paging_,
                               "paging"));
  }
  auto all = Get(Users("paging"), paging_);
  EXPECT_EQ(all["meta"], json::parse(R"({"limit":20,"next":null,"offset":0,"previous":null,"total_count":5})"));
  ASSERT_EQ(all["objects"].as_array().size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(all["objects"].at(i).at("id"), json::value(ids[i]));  // creation order

  // Following `next` visits every worker once.
  std::vector<std::string> seen;
  std::string next = Users("paging", "?limit=2");
  int pages = 0;
  while (!next.empty() && pages < 10) {
    auto page = Get(next, paging_);
    for (const auto& o : page["objects"].as_array()) seen.emplace_back(o.at("id").as_string());
    next = page["meta"].at("next").is_null() ? "" : std::string(page["meta"].at("next").as_string());
    ++pages;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, ids);
  auto middle = Get(Users("paging", "?limit=2&offset=2&format=json"), paging_);
  EXPECT_EQ(middle["meta"].at("next"), "/a/paging/api/v0.5/user/?format=json&limit=2&offset=4");
  EXPECT_EQ(middle["meta"].at("previous"), "/a/paging/api/v0.5/user/?format=json&limit=2&offset=0");
  EXPECT_EQ(Get(Users("paging", "?offset=50"), paging_)["objects"], json::array());
  EXPECT_EQ(Get(Users("paging", "?limit=0"), paging_)["meta"].at("limit"), 1000);
  EXPECT_EQ(Get(Users("paging", "?limit=5000"), paging_)["meta"].at("limit"), 1000);

  // Filter by group; retired members only with archived=true.
  auto g = client_.Send("POST", Groups("paging"),
                        json::serialize(json::object{{"name", "Odd"}, {"users", json::array{ids[1], ids[3]}}}),
                        ApiKey(paging_));
  ASSERT_EQ(g.status, 201) << g.body;
  const std::string group(g.Json().at("id").as_string());
  auto members = Get(Users("paging", "?group=" + group), paging_);
  EXPECT_EQ(members["meta"].at("total_count"), 2);
  EXPECT_EQ(members["objects"].at(0).at("id"), json::value(ids[1]));
  ASSERT_EQ(client_.Send("DELETE", Users("paging", ids[3] + "/"), "", ApiKey(paging_)).status, 202);
  EXPECT_EQ(Get(Users("paging", "?group=" + group), paging_)["meta"].at("total_count"), 1);
  auto retired = Get(Users("paging", "?group=" + group + "&archived=true"), paging_);
  EXPECT_EQ(retired["meta"].at("total_count"), 1);
  EXPECT_EQ(retired["objects"].at(0).at("id"), json::value(ids[3]));
  EXPECT_EQ(Get(Users("paging"), paging_)["meta"].at("total_count"), 4);

  // Bad parameters.
  ExpectError(client_.Send("GET", Users("paging", "?limit=ten"), "", ApiKey(paging_)), 400,
              "Invalid limit 'ten' provided. Please provide a positive integer.");
  ExpectError(client_.Send("GET", Users("paging", "?limit=-1"), "", ApiKey(paging_)), 400, ">= 0");
  ExpectError(client_.Send("GET", Users("paging", "?offset=x"), "", ApiKey(paging_)), 400,
              "Invalid offset 'x' provided. Please provide an integer.");
  ExpectError(client_.Send("GET", Users("paging", "?offset=-5"), "", ApiKey(paging_)), 400, ">= 0");
  ExpectError(client_.Send("GET", Users("paging", "?format=yaml"), "", ApiKey(paging_)), 400, "format");
  ExpectError(client_.Send("GET", Users("paging", ids[0] + "/?format=yaml"), "", ApiKey(paging_)), 400, "format");
  ExpectError(client_.Send("GET", Users("paging", "?group=" + std::string(32, 'd')), "", ApiKey(paging_)), 400,
              "Project paging has no group with id=" + std::string(32, 'd'));
  ExpectError(client_.Send("GET", Users("paging", "?group=nothex"), "", ApiKey(paging_)), 400, "has no group");
}

// ---- groups ----

TEST_F(CommCareTest, GroupCreateGetListUpdateDelete) {
  const std::string w1 = CreateWorker("grp-w1"), w2 = CreateWorker("grp-w2");
  auto r = client_.Send(
      "POST", Groups("demo"),
      json::serialize(json::object{{"name", "Wozzle"}, {"case_sharing", true}, {"metadata", json::object{{"k", "v"}}},
                                   {"users", json::array{w1}}}),
      ApiKey(admin_));
  ASSERT_EQ(r.status, 201) << r.body;
  auto g = r.Json().as_object();
  const std::string id(g.at("id").as_string());
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(g["name"], "Wozzle");
  EXPECT_EQ(g["domain"], "demo");
  EXPECT_EQ(g["case_sharing"], true);
  EXPECT_EQ(g["reporting"], true);  // CommCare's default
  EXPECT_EQ(g["metadata"], json::parse(R"({"k":"v"})"));
  EXPECT_EQ(g["users"], json::array{w1});
  EXPECT_EQ(g["resource_uri"], json::value("/a/demo/api/v0.5/group/" + id + "/"));
  EXPECT_EQ(r.Header("location"), "/a/demo/api/v0.5/group/" + id + "/");
  EXPECT_EQ(Get(Groups("demo", id + "/")), g);
  EXPECT_EQ(Get(Users("demo", w1 + "/"))["groups"], json::array{id});

  // Listed in the envelope.
  auto list = Get(Groups("demo", "?limit=1000"));
  EXPECT_EQ(list["meta"].at("limit"), 1000);
  bool found = false;
  for (const auto& o : list["objects"].as_array()) found = found || o == g;
  EXPECT_TRUE(found);
  EXPECT_EQ(list["meta"].at("total_count"), static_cast<std::int64_t>(list["objects"].as_array().size()));
  ExpectError(client_.Send("GET", Groups("demo", "?limit=x"), "", ApiKey(admin_)), 400, "Invalid limit",
              "error_message");
  ExpectError(client_.Send("GET", Groups("demo", "?format=yaml"), "", ApiKey(admin_)), 400, "format", "error_message");
  ExpectError(client_.Send("GET", Groups("demo", id + "/?format=yaml"), "", ApiKey(admin_)), 400, "format",
              "error_message");

  // PUT changes what is sent; users are replaced wholesale.
  r = client_.Send("PUT", Groups("demo", id + "/"),
                   json::serialize(json::object{{"name", "Wozzle 2"}, {"reporting", false}, {"users", json::array{w2}}}),
                   ApiKey(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  g = r.Json().as_object();
  EXPECT_EQ(g["name"], "Wozzle 2");
  EXPECT_EQ(g["reporting"], false);
  EXPECT_EQ(g["case_sharing"], true);
  EXPECT_EQ(g["metadata"], json::parse(R"({"k":"v"})"));
  EXPECT_EQ(g["users"], json::array{w2});
  EXPECT_EQ(Get(Groups("demo", id + "/")), g);
  EXPECT_EQ(Get(Users("demo", w1 + "/"))["groups"], json::array());
  // Renaming to its own name (any case) is fine.
  EXPECT_EQ(client_.Send("PUT", Groups("demo", id + "/"), R"({"name":"WOZZLE 2"})", ApiKey(admin_)).status, 200);

  // DELETE: 204, gone, the members stay.
  r = client_.Send("DELETE", Groups("demo", id + "/"), "", ApiKey(admin_));
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.body, "");
  ExpectError(client_.Send("GET", Groups("demo", id + "/"), "", ApiKey(admin_)), 404, "No group", "error_message");
  EXPECT_EQ(Get(Users("demo", w2 + "/"))["groups"], json::array());
}

TEST_F(CommCareTest, GroupErrorsUseErrorMessage) {
  const std::string w = CreateWorker("grp-err");
  const std::string id = CreateGroup("Taken Name");
  CreateGroup("Other Name");
  const std::string unknown_user(32, 'e');
  struct Case {
    std::string body, mentions;
  } cases[] = {
      {"", "JSON object"},
      {"{bad", "not valid JSON"},
      {R"({})", "name is required"},
      {R"({"name":""})", "name is required"},
      {R"({"name":5})", "name must be a string"},
      {R"({"name":")" + std::string(300, 'n') + "\"}", "at most 255"},
      {R"({"name":"taken name"})", "A group with name taken name already exists"},
      {R"({"name":"N1","case_sharing":"yes"})", "case_sharing"},
      {R"({"name":"N1","reporting":1})", "reporting"},
      {R"({"name":"N1","metadata":[]})", "metadata"},
      {R"({"name":"N1","users":"x"})", "users"},
      {R"({"name":"N1","users":["X"]})", "users[0]"},
      {R"({"name":"N1","users":[")" + w + R"(",")" + unknown_user + R"("]})", "users[1]"},
  };
  for (const auto& c : cases)
    ExpectError(client_.Send("POST", Groups("demo"), c.body, ApiKey(admin_)), 400, c.mentions, "error_message");
  // None of them was created.
  json::object all = Get(Groups("demo", "?limit=0"));
  for (const auto& o : all["objects"].as_array()) EXPECT_NE(o.at("name"), "N1");

  const std::string path = Groups("demo", id + "/");
  const std::string before = client_.Send("GET", path, "", ApiKey(admin_)).body;
  ExpectError(client_.Send("PUT", path, R"({"name":"OTHER NAME"})", ApiKey(admin_)), 400,
              "A group with this name already exists", "error_message");
  ExpectError(client_.Send("PUT", path, R"({"name":null})", ApiKey(admin_)), 400, "name", "error_message");
  ExpectError(client_.Send("PUT", path, R"({"case_sharing":true,"users":[")" + unknown_user + R"("]})", ApiKey(admin_)),
              400, "users[0]", "error_message");
  ExpectError(client_.Send("PUT", path, "[]", ApiKey(admin_)), 400, "JSON object", "error_message");
  EXPECT_EQ(client_.Send("GET", path, "", ApiKey(admin_)).body, before);

  for (const std::string& bad : {std::string(32, 'f'), Uuid(id), std::string("nope")}) {
    ExpectError(client_.Send("GET", Groups("demo", bad + "/"), "", ApiKey(admin_)), 404, "No group", "error_message");
    ExpectError(client_.Send("PUT", Groups("demo", bad + "/"), R"({"name":"x"})", ApiKey(admin_)), 404, "No group",
                "error_message");
    ExpectError(client_.Send("DELETE", Groups("demo", bad + "/"), "", ApiKey(admin_)), 404, "No group",
                "error_message");
  }
  // Credentials errors stay {"error"} on the group API.
  ExpectError(client_.Send("GET", path, "", {{"Authorization", "ApiKey admin@example.org:nope"}}), 401,
              "Invalid credentials");
  ExpectError(client_.Send("GET", Groups("other", id + "/"), "", ApiKey(admin_)), 403, "project space");
}

// ---- memberships are written with their entity (one transaction) ----

// docs/api/user-group.rst, "Bulk API": PATCH on the list creates several groups, 202.
TEST_F(CommCareTest, GroupBulkPatchCreatesTheDocsSampleGroups) {
  const std::string sample = R"({
      "objects": [
        {
          "case_sharing": false,
          "name": "Test 1",
          "reporting": true
        },
        {
          "case_sharing": true,
          "name": "Test 2",
          "reporting": true
        }
      ]
    })";
  auto r = client_.Send("PATCH", Groups("demo"), sample, ApiKey(admin_));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(r.body.empty()) << r.body;
  std::map<std::string, bool> sharing;
  auto list = Get(Groups("demo", "?limit=1000"));
  for (const auto& g : list.at("objects").as_array())
    sharing[std::string(g.at("name").as_string())] = g.at("case_sharing").as_bool();
  EXPECT_EQ(sharing.at("Test 1"), false);
  EXPECT_EQ(sharing.at("Test 2"), true);
  // A name taken (here or earlier in the batch) refuses the whole batch before any write.
  const std::string worker = CreateWorker("bulk-group-member");
  auto again = client_.Send(
      "PATCH", "/a/demo/api/group/v1/",
      R"({"objects":[{"name":"Test 3","users":[")" + worker + R"("]},{"name":"test 2"}]})", ApiKey(admin_));
  ExpectError(again, 400, "objects[1]: A group with name test 2 already exists", "error_message");
  auto twice = client_.Send("PATCH", Groups("demo"), R"({"objects":[{"name":"Test 4"},{"name":"TEST 4"}]})",
                            ApiKey(admin_));
  ExpectError(twice, 400, "objects[1]: A group with name TEST 4 already exists", "error_message");
  ExpectError(client_.Send("PATCH", Groups("demo"), R"({"objects":[{"name":"Test 5","users":["nope"]}]})",
                           ApiKey(admin_)),
              400, "objects[0]: ", "error_message");
  ExpectError(client_.Send("PATCH", Groups("demo"), R"({"objects":[{"case_sharing":true}]})", ApiKey(admin_)), 400,
              "objects[0]: ", "error_message");
  ExpectError(client_.Send("PATCH", Groups("demo"), R"({"name":"x"})", ApiKey(admin_)), 400,
              "objects must be a list of groups", "error_message");
  auto after = Get(Groups("demo", "?limit=1000"));
  for (const auto& g : after.at("objects").as_array()) {
    const std::string name(g.at("name").as_string());
    EXPECT_TRUE(name != "Test 3" && name != "Test 4" && name != "Test 5") << name;
  }
  // The same through the 2024 URL.
  EXPECT_EQ(client_.Send("PATCH", "/a/demo/api/group/v1/", R"({"objects":[{"name":"Test 6"}]})", ApiKey(admin_)).status,
            202);
}

TEST_F(CommCareTest, GroupCreateNamingAnUnknownUserLeavesNoGroup) {
  const std::string w = CreateWorker("atomic-member");
  const json::value groups_before = Get(Users("demo", w + "/"))["groups"];
  // A worker deleted (through Catalyze) is as unknown as one that never was.
  const std::string gone = CreateWorker("atomic-gone");
  ASSERT_EQ(client_.Send("DELETE", "/v2/users/" + Uuid(gone), "", CatalyzeHeaders(catalyze_admin_)).status, 200);
  for (const std::string& unknown : {gone, std::string(32, 'd')}) {
    ExpectError(client_.Send("POST", Groups("demo"),
                             json::serialize(json::object{{"name", "Atomic"}, {"users", json::array{w, unknown}}}),
                             ApiKey(admin_)),
                400, "users[1] is not a mobile worker", "error_message");
  }
  // No group behind: none listed, the worker joined none, and the name is still free.
  json::object all = Get(Groups("demo", "?limit=0"));
  for (const auto& o : all["objects"].as_array()) EXPECT_NE(o.at("name"), "Atomic");
  EXPECT_EQ(Get(Users("demo", w + "/"))["groups"], groups_before);
  const std::string id = CreateGroup("Atomic", json::array{w});
  EXPECT_EQ(Get(Groups("demo", id + "/"))["users"], json::array{w});
  EXPECT_EQ(Get(Users("demo", w + "/"))["groups"].as_array().back(), json::value(id));
}

TEST_F(CommCareTest, GroupUpdateNamingAnUnknownUserChangesNothing) {
  const std::string w1 = CreateWorker("atomic-upd-1"), w2 = CreateWorker("atomic-upd-2");
  const std::string id = CreateGroup("Atomic Update", json::array{w1});
  const std::string path = Groups("demo", id + "/");
  const std::string before = client_.Send("GET", path, "", ApiKey(admin_)).body;
  const json::value w2_groups = Get(Users("demo", w2 + "/"))["groups"];
  ExpectError(client_.Send("PUT", path,
                           json::serialize(json::object{{"name", "Atomic Renamed"},
                                                        {"case_sharing", true},
                                                        {"users", json::array{w2, std::string(32, 'd')}}}),
                           ApiKey(admin_)),
              400, "users[1] is not a mobile worker", "error_message");
  // Neither the fields nor the members changed.
  EXPECT_EQ(client_.Send("GET", path, "", ApiKey(admin_)).body, before);
  EXPECT_EQ(Get(Users("demo", w2 + "/"))["groups"], w2_groups);

  // The same change with known users lands whole.
  auto r = client_.Send(
      "PUT", path,
      json::serialize(json::object{{"name", "Atomic Renamed"}, {"case_sharing", true}, {"users", json::array{w2}}}),
      ApiKey(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("name"), "Atomic Renamed");
  EXPECT_EQ(r.Json().at("case_sharing"), true);
  EXPECT_EQ(r.Json().at("users"), json::array{w2});
  EXPECT_EQ(Get(path), r.Json().as_object());
}

TEST_F(CommCareTest, WorkerUpdateNamingAnUnknownGroupChangesNothing) {
  const std::string g1 = CreateGroup("Atomic Worker One"), g2 = CreateGroup("Atomic Worker Two");
  const std::string theirs = CreateGroup("Atomic Theirs", {}, other_, "other");
  const std::string gone = CreateGroup("Atomic Gone");
  ASSERT_EQ(client_.Send("DELETE", Groups("demo", gone + "/"), "", ApiKey(admin_)).status, 204);
  json::object body = SeedWorker("atomic-worker");
  body["groups"] = json::array{g1};
  const std::string id = CreateWorker(body);
  const std::string path = Users("demo", id + "/");
  const std::string before = client_.Send("GET", path, "", ApiKey(admin_)).body;

  for (const std::string& unknown : {gone, theirs, std::string(32, 'a')}) {
    ExpectError(client_.Send("PUT", path,
                             json::serialize(json::object{{"first_name", "Changed"},
                                                          {"password", "another-secret"},
                                                          {"groups", json::array{g2, unknown}}}),
                             ApiKey(admin_)),
                400, "groups[1] is not a group");
    // The profile, the password and the groups are as they were.
    EXPECT_EQ(client_.Send("GET", path, "", ApiKey(admin_)).body, before);
  }
  EXPECT_EQ(SignIn("atomic-worker@demo.commcarehq.org", "another-secret"), 401);
  EXPECT_EQ(SignIn("atomic-worker@demo.commcarehq.org", "qwer1234"), 200);
  EXPECT_EQ(Get(Groups("demo", g1 + "/"))["users"], json::array{id});
  EXPECT_EQ(Get(Groups("demo", g2 + "/"))["users"], json::array());

  // The same change with known groups lands whole.
  auto r = client_.Send(
      "PUT", path, json::serialize(json::object{{"first_name", "Changed"}, {"groups", json::array{g2}}}),
      ApiKey(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("first_name"), "Changed");
  EXPECT_EQ(r.Json().at("groups"), json::array{g2});
  EXPECT_EQ(Get(Groups("demo", g1 + "/"))["users"], json::array());
  EXPECT_EQ(Get(Groups("demo", g2 + "/"))["users"], json::array{id});
}

// ---- web users ----

TEST_F(CommCareTest, WebUsersListAndGet) {
  auto list = Get(WebUsers("demo"));
  EXPECT_EQ(list["meta"].at("limit"), 20);
  EXPECT_TRUE(list["meta"].at("previous").is_null());
  std::string admin_id;
  for (const auto& o : list["objects"].as_array()) {
    EXPECT_EQ(o.at("username"), o.at("email"));
    EXPECT_FALSE(o.as_object().contains("apiKey"));
    if (o.at("username") == "admin@example.org") admin_id = std::string(o.at("id").as_string());
  }
  ASSERT_EQ(admin_id.size(), 32u) << json::serialize(list);
  EXPECT_EQ(list["objects"].as_array().size(),
            static_cast<std::size_t>(list["meta"].at("total_count").as_int64()));
  EXPECT_EQ(json::serialize(list).find(admin_.key), std::string::npos);

  auto filtered = Get(WebUsers("demo", "?username=SECOND@example.org"));
  ASSERT_EQ(filtered["objects"].as_array().size(), 1u);
  EXPECT_EQ(filtered["objects"].at(0).at("username"), "second@example.org");
  EXPECT_EQ(filtered["meta"].at("total_count"), 1);
  EXPECT_EQ(Get(WebUsers("demo", "?web_username=nobody@example.org"))["objects"], json::array());

  auto one = Get(WebUsers("demo", admin_id + "/"));
  EXPECT_EQ(one["id"], json::value(admin_id));
  EXPECT_EQ(one["username"], "admin@example.org");
  EXPECT_EQ(one["is_admin"], true);
  EXPECT_EQ(one["role"], "Admin");
  EXPECT_EQ(one["is_active"], true);
  EXPECT_TRUE(one["permissions"].is_object());
  EXPECT_EQ(one["resource_uri"], json::value("/a/demo/api/v0.5/web-user/" + admin_id + "/"));

  // Unknown, malformed, another domain's: 404. Bad paging: 400.
  ExpectError(client_.Send("GET", WebUsers("demo", std::string(32, '1') + "/"), "", ApiKey(admin_)), 404,
              "No web user");
  ExpectError(client_.Send("GET", WebUsers("demo", Uuid(admin_id) + "/"), "", ApiKey(admin_)), 404, "No web user");
  auto theirs = Get(WebUsers("other"), other_);
  ASSERT_EQ(theirs["objects"].as_array().size(), 1u);
  const std::string their_id(theirs["objects"].at(0).at("id").as_string());
  ExpectError(client_.Send("GET", WebUsers("demo", their_id + "/"), "", ApiKey(admin_)), 404, "No web user");
  // A mobile worker's id is not a web user's.
  ExpectError(client_.Send("GET", WebUsers("demo", CreateWorker("not-web") + "/"), "", ApiKey(admin_)), 404,
              "No web user");
  ExpectError(client_.Send("GET", WebUsers("demo", "?offset=-1"), "", ApiKey(admin_)), 400, "Invalid offset");
  ExpectError(client_.Send("GET", WebUsers("demo", "?format=yaml"), "", ApiKey(admin_)), 400, "format");
  ExpectError(client_.Send("GET", WebUsers("demo", admin_id + "/?format=yaml"), "", ApiKey(admin_)), 400, "format");
  ExpectError(client_.Send("GET", WebUsers("demo")), 401, "Authorization");
  ExpectError(client_.Send("GET", WebUsers("demo", admin_id + "/")), 401, "Authorization");
  ExpectError(client_.Send("POST", WebUsers("demo"), "{}", ApiKey(admin_)), 405, "method");
}

// ---- one directory ----

// Deactivated or retired here, a worker's sessions in another API (Catalyze) end at once.
TEST_F(CommCareTest, DeactivatingOrRetiringAWorkerEndsItsSessionsInEveryApi) {
  const std::string off = CreateWorker("sessions-off"), retired = CreateWorker("sessions-retired");
  const auto session_of = [&](const std::string& username) {
    auto r = client_.Send("POST", "/v2/auth/signin",
                          json::serialize(json::object{{"username", username + "@demo.commcarehq.org"},
                                                       {"password", "pw-123456"}}),
                          CatalyzeHeaders(catalyze_admin_));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().is_object() ? std::string(r.Json().at("sessionToken").as_string()) : std::string();
  };
  const std::string off_token = session_of("sessions-off"), retired_token = session_of("sessions-retired");
  const auto read_with = [&](const std::string& hex, const std::string& token) {
    return client_.Send("GET", "/v2/users/" + Uuid(hex), "", CatalyzeHeaders(catalyze_admin_, token));
  };
  ASSERT_EQ(read_with(off, off_token).status, 200);
  ASSERT_EQ(read_with(retired, retired_token).status, 200);
  ASSERT_EQ(client_.Send("POST", Users("demo", off + "/deactivate/"), "", ApiKey(admin_)).status, 202);
  ExpectCatalyzeError(read_with(off, off_token), 401, "session");
  EXPECT_EQ(read_with(retired, retired_token).status, 200);  // another user's: untouched
  ASSERT_EQ(client_.Send("DELETE", Users("demo", retired + "/"), "", ApiKey(admin_)).status, 202);
  ExpectCatalyzeError(read_with(retired, retired_token), 401, "session");
  // Activated again, the worker signs in afresh; the old session stays ended.
  ASSERT_EQ(client_.Send("POST", Users("demo", off + "/activate/"), "", ApiKey(admin_)).status, 202);
  ExpectCatalyzeError(read_with(off, off_token), 401, "session");
  EXPECT_EQ(read_with(off, session_of("sessions-off")).status, 200);
}

TEST_F(CommCareTest, WorkerIsACatalyzeUserAndBack) {
  // CommCare -> Catalyze.
  const std::string hex = CreateWorker(SeedWorker("both-ways"));
  const std::string uuid = Uuid(hex);
  auto cat = client_.Send("GET", "/v2/users/" + uuid, "", CatalyzeHeaders(catalyze_admin_));
  ASSERT_EQ(cat.status, 200) << cat.body;
  auto c = cat.Json().as_object();
  EXPECT_EQ(c["usersId"], json::value(uuid));
  EXPECT_EQ(c["name"].at("firstName"), "John");
  EXPECT_EQ(c["name"].at("lastName"), "Doe");
  EXPECT_EQ(c["email"].at("primary"), "jdoe@example.org");
  EXPECT_EQ(c["phoneNumber"].at("mobile"), "50253311399");
  EXPECT_EQ(c["phoneNumber"].at("preferred"), "mobile");
  EXPECT_EQ(c["extras"], json::parse(R"({"chw_id":"13/43/DFA"})"));
  EXPECT_EQ(c["active"], true);
  // A Catalyze change shows in CommCare, CommCare's own fields untouched.
  auto put = client_.Send("PUT", "/v2/users/" + uuid, R"({"name":{"firstName":"Johnny"},"phoneNumber":{"work":"+999888777"}})",
                          CatalyzeHeaders(catalyze_admin_));
  ASSERT_EQ(put.status, 200) << put.body;
  auto w = Get(Users("demo", hex + "/"));
  EXPECT_EQ(w["first_name"], "Johnny");
  EXPECT_EQ(w["username"], "both-ways@demo.commcarehq.org");
  EXPECT_EQ(w["default_phone_number"], "50253311399");
  // Catalyze's own number keeps its '+': CommCare strips only what it writes.
  EXPECT_EQ(w["phone_numbers"], json::parse(R"(["50253311399","+999888777","50253314588"])"));
  EXPECT_EQ(w["language"], "en");
  // A CommCare phone change keeps Catalyze's type for numbers it already had.
  ASSERT_EQ(client_.Send("PUT", Users("demo", hex + "/"), R"({"default_phone_number":"+999888777"})", ApiKey(admin_))
                .status,
            200);
  c = client_.Send("GET", "/v2/users/" + uuid, "", CatalyzeHeaders(catalyze_admin_)).Json().as_object();
  EXPECT_EQ(c["phoneNumber"].at("work"), "999888777");  // CommCare wrote it, without '+'
  EXPECT_EQ(c["phoneNumber"].at("preferred"), "work");

  // Catalyze -> CommCare.
  auto made = client_.Send(
      "POST", "/v2/users",
      R"({"username":"cat-made","password":"pw-123456","email":{"primary":"Cat@Example.org"},"name":{"firstName":"Cat"},"extras":{"k":1}})",
      CatalyzeHeaders(catalyze_admin_));
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string cat_id(made.Json().at("usersId").as_string());
  auto back = Get(Users("demo", HexOf(cat_id) + "/"));
  EXPECT_EQ(back["username"], "cat-made");
  EXPECT_EQ(back["first_name"], "Cat");
  EXPECT_EQ(back["email"], "Cat@Example.org");
  EXPECT_EQ(back["user_data"], json::parse(R"({"commcare_project":"demo","commcare_profile":"","k":1})"));
  EXPECT_EQ(back["is_active"], false);  // Catalyze creates users inactive
  // One username index: a name taken in one dialect is taken in the other.
  EXPECT_EQ(client_
                .Send("POST", "/v2/users",
                      R"({"username":"BOTH-WAYS@demo.commcarehq.org","password":"pw-123456","email":{"primary":"b@example.org"}})",
                      CatalyzeHeaders(catalyze_admin_))
                .status,
            409);
  // Retiring in CommCare: Catalyze still reads the user, who can no longer sign in.
  ASSERT_EQ(client_.Send("DELETE", Users("demo", hex + "/"), "", ApiKey(admin_)).status, 202);
  c = client_.Send("GET", "/v2/users/" + uuid, "", CatalyzeHeaders(catalyze_admin_)).Json().as_object();
  EXPECT_EQ(c["active"], false);
}

TEST_F(CommCareTest, GroupsAreSharedWithCatalyze) {
  const std::string hex = CreateWorker("shared-member");
  const std::string group = CreateGroup("Shared", json::array{hex});
  // Catalyze sees the CommCare group and the membership.
  auto groups = client_.Send("GET", "/v2/users/" + Uuid(hex) + "/groups", "", CatalyzeHeaders(catalyze_admin_));
  ASSERT_EQ(groups.status, 200) << groups.body;
  // Catalyze's group items carry `default` (issue 15).
  EXPECT_EQ(groups.Json(), json::parse(R"([{"groupsId":")" + Uuid(group) + R"(","name":"Shared","default":false}])"));
  // A Catalyze rename keeps CommCare's own fields.
  ASSERT_EQ(client_.Send("PUT", Groups("demo", group + "/"), R"({"case_sharing":true})", ApiKey(admin_)).status, 200);
  auto renamed = client_.Send("PUT", "/v2/groups/" + Uuid(group), R"({"name":"Shared Renamed"})",
                              CatalyzeHeaders(catalyze_admin_));
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  auto g = Get(Groups("demo", group + "/"));
  EXPECT_EQ(g["name"], "Shared Renamed");
  EXPECT_EQ(g["case_sharing"], true);
  EXPECT_EQ(g["users"], json::array{hex});
  // A CommCare update keeps Catalyze's `default` flag, and a default group made in
  // Catalyze is joined by new CommCare workers (unless they name their groups).
  auto made = client_.Send("POST", "/v2/groups", R"({"name":"Everyone","default":true})",
                           CatalyzeHeaders(catalyze_admin_));
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string everyone = HexOf(std::string(made.Json().at("groupsId").as_string()));
  ASSERT_EQ(client_.Send("PUT", Groups("demo", everyone + "/"), R"({"metadata":{"a":1}})", ApiKey(admin_)).status, 200);
  auto cat_group = client_.Send("GET", "/v2/groups/" + Uuid(everyone), "", CatalyzeHeaders(catalyze_admin_));
  EXPECT_EQ(cat_group.Json().at("default"), true);
  auto joined = client_.Send("POST", Users("demo"), R"({"username":"joins-default","password":"pw-123456"})",
                             ApiKey(admin_));
  ASSERT_EQ(joined.status, 201) << joined.body;
  EXPECT_EQ(joined.Json().at("groups"), json::array{everyone});
  auto named = client_.Send("POST", Users("demo"),
                            json::serialize(json::object{{"username", "names-groups"},
                                                         {"password", "pw-123456"},
                                                         {"groups", json::array{group}}}),
                            ApiKey(admin_));
  ASSERT_EQ(named.status, 201) << named.body;
  EXPECT_EQ(named.Json().at("groups"), json::array{group});
  // Deleting through CommCare removes it for Catalyze too.
  ASSERT_EQ(client_.Send("DELETE", Groups("demo", everyone + "/"), "", ApiKey(admin_)).status, 204);
  EXPECT_EQ(client_.Send("GET", "/v2/groups/" + Uuid(everyone), "", CatalyzeHeaders(catalyze_admin_)).status, 404);
}

// ---- configuration ----

TEST(CommCareConfigTest, AccountRootComesFromTheEnvironment) {
  TempDir dir;
  InitDataDir(dir.path());
  const WebUser admin = CreateWebUser(dir.path(), "clinic", "boss@example.org");
  ::setenv("ROSTER_COMMCARE_ACCOUNT_ROOT", "example.net", 1);
  {
    Server server(dir.path());
    ::unsetenv("ROSTER_COMMCARE_ACCOUNT_ROOT");
    Client client(server.base_url());
    auto r = client.Send("POST", Users("clinic"), R"({"username":"jdoe","password":"pw-123456"})", ApiKey(admin));
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.Json().at("username"), "jdoe@clinic.example.net");
    r = client.Send("POST", Users("clinic"), R"({"username":"x@clinic.commcarehq.org","password":"pw-123456"})",
                    ApiKey(admin));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("@clinic.example.net"), std::string::npos) << r.body;
  }
  // An unusable root stops the server at start-up, naming the variable.
  ::setenv("ROSTER_COMMCARE_ACCOUNT_ROOT", "Not A Domain", 1);
  auto serve = RunRoster({"serve", "--data-dir", dir.path(), "--listen", "127.0.0.1:0"});
  ::unsetenv("ROSTER_COMMCARE_ACCOUNT_ROOT");
  EXPECT_NE(serve.exit_code, 0);
  EXPECT_NE(serve.err.find("ROSTER_COMMCARE_ACCOUNT_ROOT"), std::string::npos) << serve.err;
}

TEST(CommCareConfigTest, AccountRootComesFromTheServeFlagFirst) {
  TempDir dir;
  InitDataDir(dir.path());
  const WebUser admin = CreateWebUser(dir.path(), "clinic", "boss@example.org");
  ::setenv("ROSTER_COMMCARE_ACCOUNT_ROOT", "example.net", 1);
  {
    std::vector<std::string> args = kFastHashing;
    args.insert(args.end(), {"--commcare-account-root", "hq.example.org"});
    Server server(dir.path(), args);
    ::unsetenv("ROSTER_COMMCARE_ACCOUNT_ROOT");
    Client client(server.base_url());
    auto r = client.Send("POST", Users("clinic"), R"({"username":"jdoe","password":"pw-123456"})", ApiKey(admin));
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.Json().at("username"), "jdoe@clinic.hq.example.org");
  }
  auto serve = RunRoster({"serve", "--data-dir", dir.path(), "--listen", "127.0.0.1:0", "--commcare-account-root",
                          "Not A Domain"});
  EXPECT_NE(serve.exit_code, 0);
  EXPECT_NE(serve.err.find("--commcare-account-root"), std::string::npos) << serve.err;
}

// ---- versions: ETag and If-Match ------------------------------------------------

Headers ApiKeyIfMatch(const WebUser& u, const std::string& if_match) {
  Headers h = ApiKey(u);
  h.emplace_back("If-Match", if_match);
  return h;
}

TEST_F(CommCareTest, WorkersCarryAnETagAndHonourIfMatch) {
  auto created = client_.Send("POST", Users("demo"),
                              json::serialize(json::object{{"username", "etag-worker"}, {"password", "pw-123456"}}),
                              ApiKey(admin_));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("etag"), "W/\"1\"");
  const std::string path = Users("demo", std::string(created.Json().at("id").as_string()) + "/");
  EXPECT_EQ(client_.Send("GET", path, "", ApiKey(admin_)).Header("etag"), "W/\"1\"");

  auto put = client_.Send("PUT", path, R"({"first_name":"One"})", ApiKeyIfMatch(admin_, "W/\"1\""));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Header("etag"), "W/\"2\"");

  // Stale: 412 {"error": ...}, nothing changed; the worker is neither retired nor switched off.
  const std::string before = client_.Send("GET", path, "", ApiKey(admin_)).body;
  ExpectError(client_.Send("PUT", path, R"({"first_name":"Stale"})", ApiKeyIfMatch(admin_, "W/\"1\"")), 412,
              "changed");
  ExpectError(client_.Send("DELETE", path, "", ApiKeyIfMatch(admin_, "W/\"1\"")), 412, "changed");
  ExpectError(client_.Send("POST", path + "deactivate", "", ApiKeyIfMatch(admin_, "W/\"1\"")), 412, "changed");
  auto after = client_.Send("GET", path, "", ApiKey(admin_));
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.body, before);
  EXPECT_EQ(after.Header("etag"), "W/\"2\"");
  ExpectError(client_.Send("PUT", path, R"({"first_name":"Bad"})", ApiKeyIfMatch(admin_, "W/2")), 400, "If-Match");

  auto off = client_.Send("POST", path + "deactivate", "", ApiKeyIfMatch(admin_, "W/\"2\""));
  ASSERT_EQ(off.status, 202) << off.body;
  EXPECT_EQ(off.Header("etag"), "W/\"3\"");
  auto plain = client_.Send("PUT", path, R"({"first_name":"Plain"})", ApiKey(admin_));  // no If-Match: as before
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.Header("etag"), "W/\"4\"");
  auto retired = client_.Send("DELETE", path, "", ApiKeyIfMatch(admin_, "W/\"4\""));
  EXPECT_EQ(retired.status, 202) << retired.body;
  EXPECT_EQ(Get(path).at("first_name"), "Plain");
}

TEST_F(CommCareTest, GroupsCarryAnETagAndHonourIfMatch) {
  auto created = client_.Send("POST", Groups("demo"), R"({"name":"ETag group"})", ApiKey(admin_));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("etag"), "W/\"1\"");
  const std::string path = Groups("demo", std::string(created.Json().at("id").as_string()) + "/");
  EXPECT_EQ(client_.Send("GET", path, "", ApiKey(admin_)).Header("etag"), "W/\"1\"");
  auto put = client_.Send("PUT", path, R"({"name":"ETag group 2"})", ApiKeyIfMatch(admin_, "W/\"1\""));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Header("etag"), "W/\"2\"");
  ExpectError(client_.Send("PUT", path, R"({"name":"Stale"})", ApiKeyIfMatch(admin_, "W/\"1\"")), 412, "changed",
              "error_message");
  ExpectError(client_.Send("DELETE", path, "", ApiKeyIfMatch(admin_, "W/\"1\"")), 412, "changed", "error_message");
  auto after = client_.Send("GET", path, "", ApiKey(admin_));
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.Json().at("name"), "ETag group 2");
  EXPECT_EQ(after.Header("etag"), "W/\"2\"");
  EXPECT_EQ(client_.Send("DELETE", path, "", ApiKeyIfMatch(admin_, "W/\"2\"")).status, 204);
  EXPECT_EQ(client_.Send("GET", path, "", ApiKey(admin_)).status, 404);
}

// ---- locations and location types (domain "places") ----

std::string Types(const std::string& rest = "") { return "/a/places/api/v0.5/location_type/" + rest; }
std::string LocationsV1(const std::string& rest = "") { return "/a/places/api/v0.5/location/" + rest; }
std::string LocationsV2(const std::string& rest = "") { return "/a/places/api/location/v2/" + rest; }

class CommCareLocationsTest : public CommCareTest {
 protected:
  // POST a location type; returns its resource.
  json::object CreateType(const json::object& body) {
    auto r = client_.Send("POST", Types(), json::serialize(body), ApiKey(places_));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().is_object() ? r.Json().as_object() : json::object();
  }
  // POST a v2 location; returns its 32-hex location_id.
  std::string CreateLocation(const json::object& body) {
    auto r = client_.Send("POST", LocationsV2(), json::serialize(body), ApiKey(places_));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().is_object() ? std::string(r.Json().at("location_id").as_string()) : std::string();
  }
  // A state > county > city hierarchy of types with codes `prefix`_state, ...
  void Hierarchy(const std::string& prefix) {
    const auto state = CreateType({{"name", prefix + " State"}, {"code", prefix + "_state"}, {"administrative", true}});
    const auto county = CreateType({{"name", prefix + " County"}, {"code", prefix + "_county"}, {"parent", state.at("id")}});
    CreateType({{"name", prefix + " City"}, {"code", prefix + "_city"}, {"parent", county.at("resource_uri")}});
  }
};

TEST_F(CommCareLocationsTest, LocationTypesAreListedReadWrittenAndGuarded) {
  const auto state = CreateType({{"name", "Province"}, {"administrative", true}});
  EXPECT_EQ(state.at("code"), "province");  // made from the name
  EXPECT_EQ(state.at("domain"), "places");
  EXPECT_TRUE(state.at("parent").is_null());
  EXPECT_EQ(state.at("administrative"), true);
  EXPECT_EQ(state.at("shares_cases"), false);
  const std::string state_uri(state.at("resource_uri").as_string());
  EXPECT_EQ(state_uri, "/a/places/api/v0.5/location_type/" + std::to_string(state.at("id").as_int64()) + "/");
  const auto district = CreateType({{"name", "District"}, {"code", "District"}, {"parent", state_uri}});
  EXPECT_EQ(district.at("code"), "district");
  EXPECT_EQ(district.at("parent"), state.at("resource_uri"));
  const std::string district_path = Types(std::to_string(district.at("id").as_int64()) + "/");
  // Every URL version reads it.
  EXPECT_EQ(Get(district_path, places_).at("name"), "District");
  EXPECT_EQ(Get("/a/places/api/location_type/v1/" + std::to_string(district.at("id").as_int64()) + "/", places_)
                .at("code"),
            "district");
  const auto list = Get(Types("?limit=1"), places_);
  EXPECT_EQ(list.at("meta").at("limit"), 1);
  EXPECT_GE(list.at("meta").at("total_count").as_int64(), 2);
  EXPECT_FALSE(list.at("meta").at("next").is_null());
  // Errors: unknown ids, a taken code, an unknown field, a parent that is not a type.
  ExpectError(client_.Send("GET", Types("999999/"), "", ApiKey(places_)), 404, "No location type");
  ExpectError(client_.Send("GET", Types("abc/"), "", ApiKey(places_)), 404, "No location type");
  ExpectError(client_.Send("POST", Types(), R"({"name":"Again","code":"PROVINCE"})", ApiKey(places_)), 400,
              "A location type with this code already exists.");
  ExpectError(client_.Send("POST", Types(), R"({"name":"X","colour":"red"})", ApiKey(places_)), 400,
              "Invalid fields were included in request: ['colour'].");
  ExpectError(client_.Send("POST", Types(), R"({"name":"X","parent":999999})", ApiKey(places_)), 400,
              "The parent location type does not exist.");
  ExpectError(client_.Send("POST", Types(), R"({"code":"nameless"})", ApiKey(places_)), 400, "name is required");
  ExpectError(client_.Send("PUT", Types(std::to_string(state.at("id").as_int64()) + "/"),
                           json::serialize(json::object{{"parent", district.at("id")}}), ApiKey(places_)),
              400, "A location type cannot be its own ancestor.");
  // Rename; then delete: refused while it has a child type, fine after.
  auto renamed = client_.Send("PUT", district_path, R"({"name":"Region","shares_cases":true})", ApiKey(places_));
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.Json().at("name"), "Region");
  EXPECT_EQ(renamed.Json().at("shares_cases"), true);
  EXPECT_EQ(renamed.Json().at("code"), "district");
  const std::string state_path = Types(std::to_string(state.at("id").as_int64()) + "/");
  ExpectError(client_.Send("DELETE", state_path, "", ApiKey(places_)), 400,
              "This location type has child location types.");
  EXPECT_EQ(client_.Send("DELETE", district_path, "", ApiKey(places_)).status, 204);
  EXPECT_EQ(client_.Send("DELETE", state_path, "", ApiKey(places_)).status, 204);
  EXPECT_EQ(client_.Send("GET", state_path, "", ApiKey(places_)).status, 404);
  // Another domain's key sees nothing here.
  EXPECT_EQ(client_.Send("GET", Types(), "", ApiKey(admin_)).status, 403);
}

TEST_F(CommCareLocationsTest, DocumentedSampleRequestsCreateUpdateAndRead) {
  Hierarchy("doc");
  const std::string state = CreateLocation({{"name", "Virginia"}, {"location_type_code", "doc_state"}});
  const std::string county =
      CreateLocation({{"name", "Fairfax County"}, {"location_type_code", "doc_county"}, {"parent_location_id", state}});
  // docs/api/locations-v2.rst, "Create Location (Individual)", its example body (the
  // parent is ours).
  auto created = client_.Send("POST", LocationsV2(), R"({
        "latitude": "31.41",
        "location_data": {
            "pop": "1000"
        },
        "location_type_code": "doc_city",
        "longitude": null,
        "name": "Greenville",
        "parent_location_id": ")" + county + R"("
    })",
                              ApiKey(places_));
  ASSERT_EQ(created.status, 201) << created.body;
  const json::object city = created.Json().as_object();
  EXPECT_EQ(city.at("name"), "Greenville");
  EXPECT_EQ(city.at("site_code"), "greenville");
  EXPECT_EQ(city.at("latitude"), "31.41");
  EXPECT_TRUE(city.at("longitude").is_null());
  EXPECT_EQ(city.at("location_data"), (json::object{{"pop", "1000"}}));
  EXPECT_EQ(city.at("location_type_code"), "doc_city");
  EXPECT_EQ(city.at("location_type_name"), "doc City");
  EXPECT_EQ(city.at("parent_location_id"), json::value(county));
  EXPECT_EQ(city.at("domain"), "places");
  const std::string id(city.at("location_id").as_string());
  EXPECT_EQ(created.Header("location"), "/a/places/api/v0.5/location/" + id + "/");
  EXPECT_EQ(Get(LocationsV2(state + "/"), places_).at("parent_location_id"), "");
  // v1 (v0.5): integer id, type and parent as resource URIs that match theirs.
  const auto v1 = Get(LocationsV1(id + "/"), places_);
  EXPECT_TRUE(v1.at("id").is_int64());
  EXPECT_EQ(v1.at("location_id"), json::value(id));
  EXPECT_EQ(v1.at("parent"), json::value("/a/places/api/v0.5/location/" + county + "/"));
  EXPECT_EQ(Get(std::string(v1.at("parent").as_string()), places_).at("name"), "Fairfax County");
  const auto type = Get(std::string(v1.at("location_type").as_string()), places_);
  EXPECT_EQ(type.at("code"), "doc_city");
  EXPECT_EQ(type.at("resource_uri"), v1.at("location_type"));
  EXPECT_TRUE(Get(LocationsV1(state + "/"), places_).at("parent").is_null());
  EXPECT_EQ(Get("/a/places/api/location/v1/" + id + "/", places_).at("site_code"), "greenville");
  EXPECT_EQ(Get("/a/places/api/v0.6/location/" + id + "/", places_).at("location_type_code"), "doc_city");
  // "Update Location (Individual)": the fields that change.
  auto updated = client_.Send("PUT", LocationsV2(id + "/"),
                              R"({"name": "New Greenville", "site_code": "new_greenville", "longitude": -97.41})",
                              ApiKey(places_));
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.Json().at("name"), "New Greenville");
  EXPECT_EQ(updated.Json().at("site_code"), "new_greenville");
  EXPECT_EQ(updated.Json().at("longitude"), "-97.41");
  EXPECT_EQ(updated.Json().at("latitude"), "31.41");
  // Filters: v2 by site code, type code, parent and name; v1 by site code.
  const auto by_parent = Get(LocationsV2("?parent_location_id=" + county), places_);
  ASSERT_EQ(by_parent.at("objects").as_array().size(), 1u);
  EXPECT_EQ(by_parent.at("objects").as_array()[0].at("location_id"), json::value(id));
  EXPECT_EQ(Get(LocationsV2("?location_type_code=doc_state"), places_).at("meta").at("total_count"), 1);
  EXPECT_EQ(Get(LocationsV2("?name=Virginia"), places_).at("meta").at("total_count"), 1);
  EXPECT_EQ(Get(LocationsV2("?name=virginia"), places_).at("meta").at("total_count"), 0);
  EXPECT_EQ(Get(LocationsV1("?site_code=new_greenville"), places_).at("objects").as_array()[0].at("location_id"), json::value(id));
  EXPECT_EQ(Get(LocationsV2("?location_type_code=nope"), places_).at("meta").at("total_count"), 0);
}

TEST_F(CommCareLocationsTest, WritesBreakingTheRulesAreRefusedInCommCaresWords) {
  Hierarchy("rule");
  const std::string state = CreateLocation({{"name", "Ohio"}, {"location_type_code", "rule_state"}, {"site_code", "oh"}});
  const std::string county =
      CreateLocation({{"name", "Franklin"}, {"location_type_code", "rule_county"}, {"parent_location_id", state}});
  const std::string city =
      CreateLocation({{"name", "Columbus"}, {"location_type_code", "rule_city"}, {"parent_location_id", county}});
  const auto post = [&](const std::string& body) { return client_.Send("POST", LocationsV2(), body, ApiKey(places_)); };
  ExpectError(post(R"({"name":"Nameless type"})"), 400,
              "'name' and 'location_type_code' are required fields when creating a new location.");
  ExpectError(post(R"({"name":"X","location_type_code":"rule_state","elevation":3})"), 400,
              "Invalid fields were included in request: ['elevation'].");
  ExpectError(post(R"({"name":"X","location_type_code":"nope"})"), 400, "Location type with code 'nope' does not exist.");
  ExpectError(post(R"({"name":"Dup","location_type_code":"rule_state","site_code":"OH"})"), 400,
              "Location with this site code already exists. Location site code: OH.");
  ExpectError(post(R"({"name":"Ohio","location_type_code":"rule_state"})"), 400,
              "Location with same name and parent already exists.");
  ExpectError(post(R"({"name":"Skip","location_type_code":"rule_city","parent_location_id":")" + state + "\"}"), 400,
              "Parent cannot have children of this location's type.");
  ExpectError(post(R"({"name":"Under city","location_type_code":"rule_city","parent_location_id":")" + city + "\"}"),
              400, "The selected parent location cannot have child locations!");
  ExpectError(post(R"({"name":"Orphan","location_type_code":"rule_county","parent_location_id":")" +
                   std::string(32, 'a') + "\"}"),
              400, "Could not find parent location with the given ID.");
  ExpectError(post(R"({"name":"Loose county","location_type_code":"rule_county"})"), 400,
              "Location type 'rule_county' cannot be a root location's type.");
  ExpectError(post(R"({"name":"Far north","location_type_code":"rule_state","latitude":"95"})"), 400, "latitude");
  // PUT: an unknown id is CommCare's 400; location_id in the body is not a field there.
  ExpectError(client_.Send("PUT", LocationsV2(std::string(32, 'b') + "/"), R"({"name":"X"})", ApiKey(places_)), 400,
              "Could not update: could not find location with given ID " + std::string(32, 'b') + " on the domain.");
  ExpectError(client_.Send("PUT", LocationsV2(county + "/"), R"({"location_id":")" + county + "\"}", ApiKey(places_)),
              400, "Invalid fields were included in request: ['location_id'].");
  ExpectError(client_.Send("PUT", LocationsV2(county + "/"), R"({"location_type_code":"rule_city"})", ApiKey(places_)),
              400, "The type of a location with child locations cannot change.");
  ExpectError(client_.Send("GET", LocationsV2(std::string(32, 'c') + "/"), "", ApiKey(places_)), 404, "No location");
  // Deleting (Roster's): refused while it has children.
  ExpectError(client_.Send("DELETE", LocationsV2(county + "/"), "", ApiKey(places_)), 400,
              "This location has child locations.");
  EXPECT_EQ(client_.Send("DELETE", LocationsV2(city + "/"), "", ApiKey(places_)).status, 204);
  EXPECT_EQ(client_.Send("DELETE", LocationsV2(county + "/"), "", ApiKey(places_)).status, 204);
  EXPECT_EQ(client_.Send("GET", LocationsV1(county + "/"), "", ApiKey(places_)).status, 404);
  // v1 is read-only, as CommCare's.
  EXPECT_EQ(client_.Send("POST", LocationsV1(), R"({"name":"X"})", ApiKey(places_)).status, 405);
}

TEST_F(CommCareLocationsTest, BulkPatchCreatesAndUpdatesInOrder) {
  Hierarchy("bulk");
  const std::string state = CreateLocation({{"name", "Maine"}, {"location_type_code", "bulk_state"}});
  const std::string county =
      CreateLocation({{"name", "York"}, {"location_type_code", "bulk_county"}, {"parent_location_id", state}});
  const std::string old_city =
      CreateLocation({{"name", "Old Town"}, {"location_type_code", "bulk_city"}, {"parent_location_id", county}});
  // docs/api/locations-v2.rst, "Create and Update Locations (in Bulk)", its example body
  // with our ids.
  auto r = client_.Send("PATCH", LocationsV2(), R"({
        "objects": [
            {
                "name": "Newtown",
                "latitude": "31.41",
                "location_data": {
                    "pop": "1001"
                },
                "location_type_code": "bulk_city",
                "longitude": null,
                "parent_location_id": ")" + county + R"("
            },
            {
                "location_id": ")" + old_city + R"(",
                "name": "Springfield",
                "latitude": "32.42",
                "location_data": {
                    "pop": "1004"
                }
            }
        ]
    })",
                        ApiKey(places_));
  ASSERT_EQ(r.status, 202) << r.body;
  const json::value ids = r.Json();
  ASSERT_TRUE(ids.is_array()) << r.body;
  ASSERT_EQ(ids.as_array().size(), 2u);
  EXPECT_EQ(ids.as_array()[1], json::value(old_city));
  EXPECT_EQ(Get(LocationsV2(std::string(ids.as_array()[0].as_string()) + "/"), places_).at("name"), "Newtown");
  const auto springfield = Get(LocationsV2(old_city + "/"), places_);
  EXPECT_EQ(springfield.at("name"), "Springfield");
  EXPECT_EQ(springfield.at("location_data"), (json::object{{"pop", "1004"}}));
  // Over 100 objects; an entry that cannot be read: nothing is written.
  json::array many;
  for (int i = 0; i < 101; ++i) many.push_back(json::object{{"name", "n" + std::to_string(i)}});
  ExpectError(client_.Send("PATCH", LocationsV2(), json::serialize(json::object{{"objects", many}}), ApiKey(places_)),
              400, "Object count exceeds limit for PATCH method.");
  const auto before = Get(LocationsV2(), places_).at("meta").at("total_count");
  ExpectError(client_.Send("PATCH", LocationsV2(),
                           R"({"objects":[{"name":"Fine","location_type_code":"bulk_state"},{"name":"Bad","x":1}]})",
                           ApiKey(places_)),
              400, "objects[1]: Invalid fields were included in request: ['x'].");
  ExpectError(client_.Send("PATCH", LocationsV2(), R"({"objects":[{"location_id":"nope","name":"Z"}]})", ApiKey(places_)),
              400, "objects[0]: Could not update: could not find location with given ID nope on the domain.");
  EXPECT_EQ(Get(LocationsV2(), places_).at("meta").at("total_count"), before);
  ExpectError(client_.Send("PATCH", LocationsV2(), R"({"objects":{}})", ApiKey(places_)), 400, "objects");
}

TEST_F(CommCareLocationsTest, MobileWorkersAreAssignedLocationsWithAPrimaryOne) {
  Hierarchy("asg");
  const std::string state = CreateLocation({{"name", "Vermont"}, {"location_type_code", "asg_state"}});
  const std::string a =
      CreateLocation({{"name", "Addison"}, {"location_type_code", "asg_county"}, {"parent_location_id", state}});
  const std::string b =
      CreateLocation({{"name", "Bennington"}, {"location_type_code", "asg_county"}, {"parent_location_id", state}});
  // docs/api/mobile-worker.rst's create sample sends locations and primary_location.
  json::object body = SeedWorker("located");
  body["locations"] = json::array{a, b};
  body["primary_location"] = b;
  auto created = client_.Send("POST", "/a/places/api/v0.5/user/", json::serialize(body), ApiKey(places_));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(created.Json().at("id").as_string());
  const std::string path = "/a/places/api/v0.5/user/" + id + "/";
  auto got = Get(path, places_);
  EXPECT_EQ(got.at("locations"), (json::array{a, b}));
  EXPECT_EQ(got.at("primary_location"), json::value(b));
  const auto& user_data = got.at("user_data").as_object();
  EXPECT_EQ(user_data.at("commcare_location_id"), json::value(b));
  EXPECT_EQ(user_data.at("commcare_location_ids"), json::value(a + " " + b));
  EXPECT_EQ(user_data.at("commcare_primary_case_sharing_id"), json::value(b));
  EXPECT_EQ(user_data.at("chw_id"), "13/43/DFA");
  // The primary alone changes; locations alone keep a primary still among them.
  auto primary = client_.Send("PUT", path, json::serialize(json::object{{"primary_location", a}}), ApiKey(places_));
  ASSERT_EQ(primary.status, 200) << primary.body;
  EXPECT_EQ(primary.Json().at("primary_location"), json::value(a));
  auto fewer = client_.Send("PUT", path, json::serialize(json::object{{"locations", json::array{b}}}), ApiKey(places_));
  ASSERT_EQ(fewer.status, 200) << fewer.body;
  EXPECT_EQ(fewer.Json().at("locations"), (json::array{b}));
  EXPECT_EQ(fewer.Json().at("primary_location"), json::value(b));  // the old primary left: the first one
  // A primary not among them, an unknown location: 400, nothing changes.
  const std::string before = client_.Send("GET", path, "", ApiKey(places_)).body;
  ExpectError(client_.Send("PUT", path, json::serialize(json::object{{"primary_location", a}}), ApiKey(places_)), 400,
              "Primary location must be included in the list of locations.");
  ExpectError(client_.Send("PUT", path, json::serialize(json::object{{"locations", json::array{b, std::string(32, 'd')}}}),
                           ApiKey(places_)),
              400, "locations[1] is not a location of this project space");
  // Another domain's location is no location here.
  ExpectError(client_.Send("PUT", "/a/demo/api/v0.5/user/" + CreateWorker("far-away") + "/",
                           json::serialize(json::object{{"locations", json::array{a}}}), ApiKey(admin_)),
              400, "locations[0] is not a location of this project space");
  EXPECT_EQ(client_.Send("GET", path, "", ApiKey(places_)).body, before);
  // An assigned location cannot be deleted; unassigned, it can.
  ExpectError(client_.Send("DELETE", LocationsV2(b + "/"), "", ApiKey(places_)), 400,
              "Users are assigned to this location.");
  auto none = client_.Send("PUT", path, R"({"locations":[],"primary_location":null})", ApiKey(places_));
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(none.Json().at("locations"), json::array());
  EXPECT_TRUE(none.Json().at("primary_location").is_null());
  EXPECT_FALSE(none.Json().at("user_data").as_object().contains("commcare_location_id"));
  EXPECT_EQ(client_.Send("DELETE", LocationsV2(b + "/"), "", ApiKey(places_)).status, 204);
}

// webuser.rst, "User Enable/Disable API": POST .../web-user/{id}/activate/ and
// deactivate/, 202 {}; a deactivated web user's credentials are refused in the project
// space until it is activated again.
TEST_F(CommCareTest, WebUsersAreDeactivatedAndActivated) {
  const std::string list = "/a/staff/api/web-user/v1/";
  std::string member, boss;
  const auto listed = Get(list, staff_admin_);
  for (const auto& w : listed.at("objects").as_array()) {
    (w.at("username") == json::value("member@example.org") ? member : boss) = std::string(w.at("id").as_string());
  }
  ASSERT_FALSE(member.empty());
  ASSERT_FALSE(boss.empty());
  const std::string workers = "/a/staff/api/user/v1/";
  EXPECT_EQ(client_.Send("GET", workers, "", ApiKey(staff_member_)).status, 200);
  // Changing web users needs credentials:admin (a default web user's key lacks it).
  ExpectError(client_.Send("POST", list + boss + "/deactivate/", "", ApiKey(staff_member_)), 403, "credentials:admin");
  ExpectError(client_.Send("POST", list + boss + "/deactivate/", "", ApiKey(staff_admin_)), 400,
              "A web user cannot deactivate itself.");
  ExpectError(client_.Send("POST", list + std::string(32, 'e') + "/deactivate/", "", ApiKey(staff_admin_)), 404,
              "No web user with this id");
  ExpectError(client_.Send("POST", list + "nothex/activate/", "", ApiKey(staff_admin_)), 404, "No web user");
  auto off = client_.Send("POST", "/a/staff/api/v0.5/web-user/" + member + "/deactivate/", "", ApiKey(staff_admin_));
  ASSERT_EQ(off.status, 202) << off.body;
  EXPECT_EQ(off.Json(), json::object());
  EXPECT_EQ(client_.Send("GET", workers, "", ApiKey(staff_member_)).status, 401);
  EXPECT_EQ(Get(list + member + "/", staff_admin_).at("is_active"), false);
  auto on = client_.Send("POST", list + member + "/activate/", "{}", ApiKey(staff_admin_));
  ASSERT_EQ(on.status, 202) << on.body;
  EXPECT_EQ(client_.Send("GET", workers, "", ApiKey(staff_member_)).status, 200);
  EXPECT_EQ(Get(list + member + "/", staff_admin_).at("is_active"), true);
  // Another project space's key: 403.
  EXPECT_EQ(client_.Send("POST", list + member + "/deactivate/", "", ApiKey(admin_)).status, 403);
}


// ---- web-user writes and invitations (domain "places") ----

namespace {
// webuser.rst, "Web User Invitation Creation", sample input, unchanged.
constexpr const char* kInvitationSample = R"({
        "email": "jdoe@dimagi.com",
        "role": "App Editor",
        "primary_location_id": "26fc44e2792b4f2fa8ef86178f0a958e",
        "assigned_location_ids": [
            "26fc44e2792b4f2fa8ef86178f0a958e",
            "c1b029932ed442a6a846a4ea10e46a78"
        ],
        "profile": "Facility User",
        "user_data": {
            "Can Edit Client": "yes",
            "Can View Data": "yes"
        },
        "tableau_role": "Viewer",
        "tableau_groups": ["city", "county"]
    })";
// webuser.rst, "Web User Edit", sample input, unchanged.
constexpr const char* kWebUserEditSample = R"({
        "role":"App Editor",
        "primary_location_id":"26fc44e2792b4f2fa8ef86178f0a958e",
        "assigned_location_ids":["26fc44e2792b4f2fa8ef86178f0a958e", "c1b029932ed442a6a846a4ea10e46a78"],
        "profile": "Facility User",
        "user_data":{
            "Can Edit Client":"yes",
            "Can View Data": "yes",
            "Can Edit Data": ""
        },
        "tableau_role":"Viewer",
        "tableau_groups":["city", "county"]
    })";
constexpr const char* kSampleLocationsMissing =
    "Could not find location ids: 26fc44e2792b4f2fa8ef86178f0a958e, c1b029932ed442a6a846a4ea10e46a78.";

// The sample with its two location ids replaced by `a` and `b` (locations of Roster's).
std::string WithLocations(const char* sample, const std::string& a, const std::string& b) {
  std::string s(sample);
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"26fc44e2792b4f2fa8ef86178f0a958e", a},
                                 {"c1b029932ed442a6a846a4ea10e46a78", b}})
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at)) s.replace(at, from.size(), to);
  return s;
}
}  // namespace

class CommCareWebUserWritesTest : public CommCareLocationsTest {
 protected:
  static void SetUpTestSuite() {
    CommCareLocationsTest::SetUpTestSuite();
    inviter_ = CreateWebUser(dir_->path(), "places", "inviter@example.org", {"credentials:admin"});
    auto configured = RunRoster({"commcare", "domain", "configure", "--domain", "places", "--profile",
                                 "Facility User", "--tableau-group", "city", "--tableau-group", "county",
                                 "--data-dir", dir_->path(), "--json"});
    if (configured.exit_code != 0) throw std::runtime_error("domain configure failed: " + configured.err);
  }
  // {"errors": [message]}: CommCare's WebUserValidationException shape.
  static void ExpectErrors(const HttpResponse& r, const std::vector<std::string>& messages) {
    EXPECT_EQ(r.status, 400) << r.body;
    json::array want;
    for (const auto& m : messages) want.emplace_back(m);
    EXPECT_EQ(r.Json(), (json::object{{"errors", want}})) << r.body;
  }
  // Two locations of the domain (32-hex ids).
  std::pair<std::string, std::string> TwoLocations(const std::string& prefix) {
    Hierarchy(prefix);
    return {CreateLocation({{"name", prefix + " North"}, {"location_type_code", prefix + "_state"}}),
            CreateLocation({{"name", prefix + " South"}, {"location_type_code", prefix + "_state"}})};
  }
  std::string WebUserId(const std::string& email) {
    const auto listed = Get("/a/places/api/web-user/v1/?username=" + email, inviter_);
    const auto& objects = listed.at("objects").as_array();
    return objects.empty() ? std::string() : std::string(objects.front().at("id").as_string());
  }
  static WebUser inviter_;
};
WebUser CommCareWebUserWritesTest::inviter_;

// webuser.rst, "Web User Invitation Creation": the sample as written names locations of
// dimagi's server (refused in CommCare's words); with two of this domain's it is created,
// 201 with every field, and then readable (GET is Roster's).
TEST_F(CommCareWebUserWritesTest, InvitationDocSampleCreatesAnInvitation) {
  const std::string invitations = "/a/places/api/invitation/v1/";
  ExpectError(client_.Send("POST", invitations, kInvitationSample, ApiKey(inviter_)), 400, kSampleLocationsMissing);
  const auto [a, b] = TwoLocations("inv");
  auto r = client_.Send("POST", invitations, WithLocations(kInvitationSample, a, b), ApiKey(inviter_));
  ASSERT_EQ(r.status, 201) << r.body;
  auto created = r.Json().as_object();
  EXPECT_EQ(created.at("email"), "jdoe@dimagi.com");
  EXPECT_EQ(created.at("role"), "App Editor");
  EXPECT_EQ(created.at("primary_location_id"), json::value(a));
  EXPECT_EQ(created.at("assigned_location_ids"), (json::array{json::value(a), json::value(b)}));
  EXPECT_EQ(created.at("profile"), "Facility User");
  EXPECT_EQ(created.at("user_data"), (json::object{{"Can Edit Client", "yes"}, {"Can View Data", "yes"}}));
  EXPECT_EQ(created.at("tableau_role"), "Viewer");
  EXPECT_EQ(created.at("tableau_groups"), (json::array{"city", "county"}));
  const std::string id(created.at("id").as_string());
  EXPECT_EQ(id.size(), 36u);  // a dashed UUID, as CommCare's Invitation.uuid
  EXPECT_EQ(Get(invitations + id + "/", inviter_), created);
  EXPECT_EQ(Get("/a/places/api/v0.5/invitation/" + HexOf(id) + "/", inviter_), created);
  // A location the pending invitation assigns is not deleted under it.
  ExpectError(client_.Send("DELETE", LocationsV2(b + "/"), "", ApiKey(places_)), 400,
              "A pending invitation assigns this location.");
  const auto listed = Get(invitations, inviter_);
  EXPECT_EQ(listed.at("meta").at("total_count"), 1);
  EXPECT_EQ(listed.at("objects").at(0), created);
  // One pending invitation per email (any case); a web user of the domain is not invited.
  const std::string taken = "A user with this email address is already in this project or has a pending invitation.";
  ExpectErrors(client_.Send("POST", invitations, json::serialize(json::object{{"email", "JDoe@Dimagi.com"},
                                                                              {"role", "Read Only"}}),
                            ApiKey(inviter_)),
               {taken});
  ExpectErrors(client_.Send("POST", invitations,
                            json::serialize(json::object{{"email", "planner@example.org"}, {"role", "Read Only"}}),
                            ApiKey(inviter_)),
               {taken});
  ExpectError(client_.Send("GET", invitations + std::string(32, 'e') + "/", "", ApiKey(inviter_)), 404,
              "No invitation with this id");
}

// corehq/apps/api/validation.py (WebUserResourceSpec) and user_importer/validation.py:
// each refusal in CommCare's words, and nothing written.
TEST_F(CommCareWebUserWritesTest, InvitationErrorsAreCommCaresAndWriteNothing) {
  const std::string invitations = "/a/places/api/invitation/v1/";
  const auto post = [&](const json::object& body, const WebUser& as = inviter_) {
    return client_.Send("POST", invitations, json::serialize(body), ApiKey(as));
  };
  const auto before = Get(invitations, inviter_).at("meta").at("total_count");
  const auto [a, b] = TwoLocations("bad");
  ExpectErrors(post({{"role", "App Editor"}}), {"'email' is required for each user"});
  ExpectErrors(post({{"email", "x@example.org"}}), {"'role' required for each user"});
  ExpectErrors(post({{"email", "not-an-email"}, {"role", "App Editor"}}),
               {"User has an invalid email address for their email"});
  ExpectErrors(post({{"email", "x@example.org"}, {"role", "Chief"}}),
               {"Role 'Chief' does not exist or you do not have permission to access it"});
  ExpectErrors(post({{"email", "x@example.org"}, {"role", "Read Only"}, {"primary_location_id", a}}),
               {"Both primary_location and locations must be provided together."});
  ExpectErrors(post({{"email", "x@example.org"}, {"role", "Read Only"}, {"primary_location_id", a},
                     {"assigned_location_ids", json::array{json::value(b)}}}),
               {"Primary location must be one of the user's locations"});
  ExpectErrors(post({{"email", "x@example.org"}, {"role", "Read Only"}, {"primary_location_id", ""},
                     {"assigned_location_ids", json::array{json::value(b)}}}),
               {"Primary location can't be empty if the user has any locations set"});
  ExpectErrors(post({{"email", "x@example.org"}, {"role", "Read Only"}, {"profile", "Nurse"}}),
               {"Profile 'Nurse' does not exist"});
  ExpectErrors(post({{"email", "x@example.org"}, {"role", "Read Only"}, {"tableau_role", "Boss"}}),
               {"Invalid tableau role: 'Boss'. Please choose one of the following: Explorer, ExplorerCanPublish, "
                "SiteAdministratorExplorer, Viewer, Unlicensed"});
  ExpectErrors(post({{"email", "x@example.org"}, {"role", "Read Only"}, {"tableau_groups", json::array{"town"}}}),
               {"These groups, town, are not valid for this domain. Please choose from the following: city, county"});
  ExpectErrors(post({{"email", "x@example.org"}, {"role", "Read Only"}, {"user_data", {{"commcare_profile", "1"}}}}),
               {"'commcare_profile' is defined by the profile so cannot be set directly"});
  ExpectErrors(post({{"email", "x@example.org"}, {"role", "Read Only"}, {"nickname", "X"}, {"is_admin", true}}),
               {"Invalid parameter(s): nickname, is_admin"});
  ExpectErrors(post({{"email", "x@example.org"}, {"role", 3}}), {"'role' must be a string"});
  ExpectError(post({{"email", "x@example.org"}, {"role", "Read Only"}, {"primary_location_id", a},
                    {"assigned_location_ids", json::array{json::value(a), json::value(std::string(32, 'f'))}}}),
              400, "Could not find location ids: " + std::string(32, 'f') + ".");
  // A domain without profiles or Tableau (staff): CommCare's privilege messages.
  ExpectErrors(client_.Send("POST", "/a/staff/api/invitation/v1/",
                            json::serialize(json::object{{"email", "y@example.org"},
                                                         {"role", "Read Only"},
                                                         {"profile", "Facility User"},
                                                         {"tableau_role", "Viewer"}}),
                            ApiKey(staff_admin_)),
               {"You do not have permission to edit Tableau Configuration.",
                "This domain does not have user profile privileges."});
  // Inviting needs credentials:admin.
  ExpectError(post({{"email", "x@example.org"}, {"role", "Read Only"}}, places_), 403, "credentials:admin");
  ExpectError(client_.Send("POST", invitations, "not json", ApiKey(inviter_)), 400, "");
  EXPECT_EQ(Get(invitations, inviter_).at("meta").at("total_count"), before);
}

// webuser.rst, "Web User Edit": PATCH .../web-user/v1/{id}/ answers 202 with the web
// user; user_data is merged, the other fields replaced.
TEST_F(CommCareWebUserWritesTest, WebUserEditDocSampleUpdatesTheWebUser) {
  const std::string id = WebUserId("planner@example.org");
  ASSERT_FALSE(id.empty());
  const std::string path = "/a/places/api/web-user/v1/" + id + "/";
  ExpectError(client_.Send("PATCH", path, kWebUserEditSample, ApiKey(inviter_)), 400, kSampleLocationsMissing);
  const auto [a, b] = TwoLocations("edit");
  auto r = client_.Send("PATCH", path, WithLocations(kWebUserEditSample, a, b), ApiKey(inviter_));
  ASSERT_EQ(r.status, 202) << r.body;
  auto patched = r.Json().as_object();
  EXPECT_EQ(patched.at("role"), "App Editor");
  EXPECT_EQ(patched.at("is_admin"), false);
  EXPECT_EQ(patched.at("primary_location_id"), json::value(a));
  EXPECT_EQ(patched.at("assigned_location_ids"), (json::array{json::value(a), json::value(b)}));
  EXPECT_EQ(patched.at("profile"), "Facility User");
  EXPECT_EQ(patched.at("user_data"),
            (json::object{{"Can Edit Client", "yes"}, {"Can View Data", "yes"}, {"Can Edit Data", ""}}));
  EXPECT_EQ(patched.at("tableau_role"), "Viewer");
  EXPECT_EQ(patched.at("tableau_groups"), (json::array{"city", "county"}));
  EXPECT_EQ(patched.at("resource_uri"), json::value("/a/places/api/v0.5/web-user/" + id + "/"));
  EXPECT_EQ(Get(path, inviter_), patched);
  // user_data is merged; fields not sent stay.
  auto merged = client_.Send("PATCH", "/a/places/api/v0.5/web-user/" + id + "/",
                             R"({"user_data": {"Can View Data": "no", "Team": "B"}})", ApiKey(inviter_));
  ASSERT_EQ(merged.status, 202) << merged.body;
  EXPECT_EQ(merged.Json().at("user_data"),
            (json::object{{"Can Edit Client", "yes"}, {"Can View Data", "no"}, {"Can Edit Data", ""}, {"Team", "B"}}));
  EXPECT_EQ(merged.Json().at("role"), "App Editor");
  EXPECT_EQ(merged.Json().at("primary_location_id"), json::value(a));
  // A location the web user holds is not deleted under it.
  ExpectError(client_.Send("DELETE", LocationsV2(b + "/"), "", ApiKey(places_)), 400,
              "Web users are assigned to this location.");
  // Back to Admin, locations cleared; then the location goes.
  auto cleared = client_.Send("PATCH", path, R"({"role": "Admin", "primary_location_id": "", "assigned_location_ids": []})",
                              ApiKey(inviter_));
  ASSERT_EQ(cleared.status, 202) << cleared.body;
  EXPECT_EQ(cleared.Json().at("is_admin"), true);
  EXPECT_EQ(cleared.Json().at("primary_location_id"), nullptr);
  EXPECT_EQ(cleared.Json().at("assigned_location_ids"), json::array());
  EXPECT_EQ(client_.Send("DELETE", LocationsV2(b + "/"), "", ApiKey(places_)).status, 204);
}

TEST_F(CommCareWebUserWritesTest, WebUserEditErrorsAreCommCaresAndChangeNothing) {
  const std::string id = WebUserId("planner@example.org");
  ASSERT_FALSE(id.empty());
  const std::string path = "/a/places/api/web-user/v1/" + id + "/";
  const auto before = Get(path, inviter_);
  const auto patch = [&](const std::string& body, const WebUser& as = inviter_) {
    return client_.Send("PATCH", path, body, ApiKey(as));
  };
  ExpectErrors(patch(R"({"email": "new@example.org"})"), {"Invalid parameter(s): email"});
  ExpectErrors(patch(R"({"role": ""})"), {"'role' is required for each user"});
  ExpectErrors(patch(R"({"role": "Owner"})"), {"Role 'Owner' does not exist or you do not have permission to access it"});
  ExpectErrors(patch(R"({"assigned_location_ids": []})"),
               {"Both primary_location and locations must be provided together."});
  ExpectErrors(patch(R"({"tableau_role": "Boss"})"),
               {"Invalid tableau role: 'Boss'. Please choose one of the following: Explorer, ExplorerCanPublish, "
                "SiteAdministratorExplorer, Viewer, Unlicensed"});
  ExpectErrors(patch(R"({"user_data": "x"})"), {"'user_data' must be a dictionary"});
  ExpectError(patch(R"({"role": "Read Only"})", places_), 403, "credentials:admin");
  ExpectError(client_.Send("PATCH", "/a/places/api/web-user/v1/" + std::string(32, 'e') + "/", R"({"role": "Admin"})",
                           ApiKey(inviter_)),
              404, "No web user with this id");
  ExpectError(patch("[1]"), 400, "");
  EXPECT_EQ(Get(path, inviter_), before);
}

// user_updates.py (_update_user_role): `role` names a role of the project space; an
// unknown one is CommCare's "The role 'X' does not exist" (wrapped as obj_update's errors
// on PUT; refused on POST too, where CommCare drops the error and creates the worker).
TEST_F(CommCareTest, WorkerRoleIsOneOfTheProjectSpacesRoles) {
  auto created = client_.Send("POST", Users("demo"),
                              R"({"username": "roled", "password": "pw-123456", "role": "Field Implementer"})",
                              ApiKey(admin_));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json().at("role"), "Field Implementer");
  const std::string id(created.Json().at("id").as_string());
  auto changed = client_.Send("PUT", Users("demo", id + "/"), R"({"role": "Read Only"})", ApiKey(admin_));
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(Get(Users("demo", id + "/")).at("role"), "Read Only");
  ExpectError(client_.Send("PUT", Users("demo", id + "/"), R"({"role": "Chief", "first_name": "X"})", ApiKey(admin_)),
              400, "The request resulted in the following errors: The role 'Chief' does not exist");
  const auto after = Get(Users("demo", id + "/"));
  EXPECT_EQ(after.at("role"), "Read Only");
  EXPECT_EQ(after.at("first_name"), "");
  ExpectError(client_.Send("POST", Users("demo"), R"({"username": "unroled", "password": "pw-123456", "role": "Chief"})",
                           ApiKey(admin_)),
              400, "The role 'Chief' does not exist");
  EXPECT_EQ(Get("/a/demo/api/bulk-user/v1/?q=unroled").at("meta").at("total_count"), 0);  // nothing written
  auto plain = client_.Send("POST", Users("demo"), R"({"username": "roleless", "password": "pw-123456"})",
                            ApiKey(admin_));
  ASSERT_EQ(plain.status, 201) << plain.body;
  EXPECT_EQ(plain.Json().at("role"), nullptr);
}

// `roster commcare domain configure`: prints the lists it set; --domain is required; the
// lists replace the earlier ones (a domain configured without profiles refuses them).
TEST_F(CommCareWebUserWritesTest, DomainConfigureCommandSetsProfilesAndTableauGroups) {
  auto r = RunRoster({"commcare", "domain", "configure", "--domain", "staff", "--profile", "Nurse", "--data-dir",
                      dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), (json::object{{"domain", "staff"},
                                              {"profiles", json::array{"Nurse"}},
                                              {"tableau_groups", json::array()}}));
  const auto invite = [&](const std::string& email, const std::string& profile) {
    return client_.Send("POST", "/a/staff/api/invitation/v1/",
                        json::serialize(json::object{{"email", email}, {"role", "Read Only"}, {"profile", profile}}),
                        ApiKey(staff_admin_));
  };
  ExpectErrors(invite("p1@example.org", "Facility User"), {"Profile 'Facility User' does not exist"});
  EXPECT_EQ(invite("p1@example.org", "Nurse").status, 201);
  ASSERT_EQ(RunRoster({"commcare", "domain", "configure", "--domain", "staff", "--data-dir", dir_->path(), "--json"})
                .exit_code,
            0);
  ExpectErrors(invite("p2@example.org", "Nurse"), {"This domain does not have user profile privileges."});
  EXPECT_NE(RunRoster({"commcare", "domain", "configure", "--data-dir", dir_->path()}).exit_code, 0);
}
// Accepting an invitation (CommCare's accept flow): the web user of the invited email,
// made here by `roster commcare web-user create`, joins with the invitation's role,
// locations, profile, data and Tableau fields; the invitation is no longer pending.
TEST_F(CommCareWebUserWritesTest, CreatingTheInvitedWebUserAcceptsTheInvitation) {
  const std::string invitations = "/a/places/api/invitation/v1/";
  const auto [a, b] = TwoLocations("acc");
  auto invited = client_.Send("POST", invitations,
                              json::serialize(json::object{{"email", "Joiner@Example.org"},
                                                           {"role", "Read Only"},
                                                           {"primary_location_id", a},
                                                           {"assigned_location_ids", json::array{a, b}},
                                                           {"profile", "Facility User"},
                                                           {"user_data", {{"team", "north"}}},
                                                           {"tableau_role", "Viewer"},
                                                           {"tableau_groups", json::array{"city"}}}),
                              ApiKey(inviter_));
  ASSERT_EQ(invited.status, 201) << invited.body;
  const std::string id(invited.Json().at("id").as_string());
  auto r = RunRoster({"commcare", "web-user", "create", "--domain", "places", "--email", "joiner@example.org",
                      "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("acceptedInvitation"), json::value(id));
  const auto joined = Get("/a/places/api/web-user/v1/" + WebUserId("joiner@example.org") + "/", inviter_);
  EXPECT_EQ(joined.at("role"), "Read Only");
  EXPECT_EQ(joined.at("is_admin"), false);
  EXPECT_EQ(joined.at("primary_location_id"), json::value(a));
  EXPECT_EQ(joined.at("assigned_location_ids"), (json::array{json::value(a), json::value(b)}));
  EXPECT_EQ(joined.at("profile"), "Facility User");
  EXPECT_EQ(joined.at("user_data").at("team"), "north");
  EXPECT_EQ(joined.at("tableau_role"), "Viewer");
  EXPECT_EQ(joined.at("tableau_groups"), (json::array{"city"}));
  // No longer pending; the email is now a web user of the domain, so not invited again.
  ExpectError(client_.Send("GET", invitations + id + "/", "", ApiKey(inviter_)), 404, "No invitation with this id");
  ExpectErrors(client_.Send("POST", invitations,
                            json::serialize(json::object{{"email", "joiner@example.org"}, {"role", "Read Only"}}),
                            ApiKey(inviter_)),
               {"A user with this email address is already in this project or has a pending invitation."});
  // A web user made without an invitation is an Admin, as before.
  auto plain = RunRoster({"commcare", "web-user", "create", "--domain", "places", "--email", "plain@example.org",
                          "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_FALSE(json::parse(plain.out).as_object().contains("acceptedInvitation"));
  EXPECT_EQ(Get("/a/places/api/web-user/v1/" + WebUserId("plain@example.org") + "/", inviter_).at("role"), "Admin");
}

}  // namespace
}  // namespace roster::testing
