// Every credential has a scope (issue 12): one server, one environment, the four APIs,
// every credential made with the CLI. The attack of the issue refused step by step; the
// matrix credential kind x API x PHI field, read and write; the defaults of each
// credential kind as docs/security.md tables them; keys of another API refused; the
// QuickBlox list and contact settings; Catalyze self-activation.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <functional>
#include <set>
#include <stdexcept>

#include <unistd.h>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

// PHI values that appear nowhere else: a response that does not carry PHI never holds them.
constexpr const char* kSsn = "078-05-1120";
constexpr const char* kZip = "53202-4417";
constexpr const char* kWorkZip = "60601-7781";
constexpr const char* kPassword = "Patient-Pass-1!";
constexpr const char* kSetType = "application/vnd.pingidentity.password.set+json";

// Every PHI field of the Catalyze wire (src/dialects/catalyze/mapping.cc).
const std::vector<std::string> kCatalyzePhi = {"ssn",  "dob",       "addresses", "mrns",   "healthPlans", "guardians",
                                               "race", "ethnicity", "religion",  "gender", "maritalStatus"};

std::string Unique(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(::getpid() % 100000) + "x" + std::to_string(counter++);
}


std::string Str(const json::value& v, const char* key) {
  if (!v.is_object()) return {};
  const auto* m = v.as_object().if_contains(key);
  return m != nullptr && m->is_string() ? std::string(m->as_string()) : std::string();
}

std::set<std::string> Names(const json::value& v) {
  std::set<std::string> out;
  if (v.is_array())
    for (const auto& n : v.as_array())
      if (n.is_string()) out.emplace(n.as_string());
  return out;
}

bool Holds(const HttpResponse& r, const std::string& text) { return r.body.find(text) != std::string::npos; }

json::object RunJson(const std::vector<std::string>& args) {
  auto r = RunRoster(args);
  if (r.exit_code != 0) throw std::runtime_error("roster " + args[0] + " failed: " + r.err);
  return json::parse(r.out).as_object();
}

const std::set<std::string> kEveryScope = {"profile:read", "profile:write", "phi:read",   "phi:write",
                                           "password:set", "groups:write",  "schema:write", "credentials:admin",
                                           "users:list",   "contact:read",  "signup"};

struct PingOneApp {
  std::string env, client, secret;
};

struct QuickBloxApp {
  std::int64_t id = 0;
  std::string auth_key, auth_secret, api_key;
};

struct WebUser {
  std::string email, key;
};

// A patient made by the admin key through Catalyze.
struct Patient {
  std::string id, username, email, session;
};

class ScopesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    admin_ = InitDataDir(dir_->path());
    app_key_ = CreateKey(dir_->path(), "default", "app");
    // A Catalyze key that manages users but holds no PHI scope.
    profile_key_ = Str(RunJson({"key", "create", "--env", "default", "--scope", "profile:write", "--scope",
                                "profile:read", "--json", "--data-dir", dir_->path()}),
                       "key");
    worker_ = new PingOneApp(MakePingOneApp({}));
    phi_worker_ = new PingOneApp(MakePingOneApp({"--scope", "all"}));
    qb_ = new QuickBloxApp(MakeQuickBloxApp());
    web_user_ = new WebUser(MakeWebUser());
    server_ = new Server(dir_->path());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete worker_;
    delete phi_worker_;
    delete qb_;
    delete web_user_;
    delete dir_;
  }

  static std::vector<std::string> Cli(std::vector<std::string> args) {
    args.insert(args.end(), {"--json", "--data-dir", dir_->path()});
    return args;
  }
  static PingOneApp MakePingOneApp(const std::vector<std::string>& scopes) {
    std::vector<std::string> args = {"pingone", "app", "create", "--env", "default"};
    args.insert(args.end(), scopes.begin(), scopes.end());
    const json::object o = RunJson(Cli(args));
    return {Str(o, "environmentId"), Str(o, "clientId"), Str(o, "clientSecret")};
  }
  static QuickBloxApp MakeQuickBloxApp() {
    const json::object o = RunJson(Cli({"quickblox", "app", "create", "--env", "default"}));
    return {o.at("applicationId").as_int64(), Str(o, "authKey"), Str(o, "authSecret"), Str(o, "apiKey")};
  }
  static WebUser MakeWebUser() {
    const std::string email = Unique("webuser") + "@example.org";
    const json::object o = RunJson(Cli({"commcare", "web-user", "create", "--domain", "default", "--email", email}));
    return {Str(o, "username"), Str(o, "apiKey")};
  }

  // ---- Catalyze ----
  HttpResponse Catalyze(const std::string& method, const std::string& path, const std::string& key,
                        const std::string& session = "", const std::string& body = "") {
    return client_.Send(method, path, body, CatalyzeHeaders(key, session));
  }

  // A patient with every PHI field, made by the admin key and activated.
  Patient NewPatient() {
    Patient p;
    p.username = Unique("patient");
    p.email = p.username + "@example.com";
    json::object user = json::parse(ReadFile(std::string(kTestData) + "/catalyze/seed_user.json")).as_object();
    for (const char* drop : {"sessionToken", "usersId", "active", "createdAt", "updatedAt", "age"}) user.erase(drop);
    user["username"] = p.username;
    user["password"] = kPassword;
    user["email"] = json::object{{"primary", p.email}};
    user["ssn"] = kSsn;
    json::array addresses = user["addresses"].as_array();
    addresses[0].as_object()["zipCode"] = kZip;
    addresses.push_back(json::object{{"type", "Work"}, {"addressLine1", "1 Wacker Dr"}, {"city", "Chicago"},
                                     {"state", "Illinois"}, {"zipCode", kWorkZip}});
    user["addresses"] = addresses;
    auto r = Catalyze("POST", "/v2/users", admin_, "", json::serialize(user));
    EXPECT_EQ(r.status, 200) << r.body;
    p.id = Str(r.Json(), "usersId");
    p.session = Str(r.Json(), "sessionToken");
    auto on = Catalyze("PUT", "/v2/users/" + p.id, admin_, "", R"({"active":true})");
    EXPECT_EQ(on.status, 200) << on.body;
    return p;
  }

  // A user signed up through the Catalyze application key: (id, session).
  std::pair<std::string, std::string> SignUp() {
    const std::string name = Unique("member");
    auto r = Catalyze("POST", "/v2/users", app_key_, "",
                      json::serialize(json::object{
                          {"username", name}, {"password", kPassword}, {"email", {{"primary", name + "@example.com"}}}}));
    EXPECT_EQ(r.status, 200) << r.body;
    return {Str(r.Json(), "usersId"), Str(r.Json(), "sessionToken")};
  }

  // ---- PingOne ----
  std::string PingOneToken(const PingOneApp& app) {
    auto r = client_.Send("POST", "/" + app.env + "/as/token",
                          "grant_type=client_credentials&client_id=" + app.client + "&client_secret=" + app.secret,
                          {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return Str(r.Json(), "access_token");
  }
  HttpResponse PingOne(const PingOneApp& app, const std::string& method, const std::string& path,
                       const std::string& body = "", const std::string& type = "application/json") {
    return client_.Send(method, "/v1/environments/" + app.env + path, body,
                        {{"Authorization", "Bearer " + PingOneToken(app)}, {"Content-Type", type}});
  }
  // PingOne's 403: ACCESS_FAILED with an INSUFFICIENT_PERMISSIONS detail (on `target`, if given).
  static void ExpectPingOneDenied(const HttpResponse& r, const std::string& target = "") {
    EXPECT_EQ(r.status, 403) << r.body;
    const json::value j = r.Json();
    EXPECT_EQ(Str(j, "code"), "ACCESS_FAILED") << r.body;
    EXPECT_FALSE(Str(j, "id").empty()) << r.body;
    bool named = false;
    if (j.is_object() && j.as_object().contains("details"))
      for (const auto& d : j.at("details").as_array())
        named = named || (Str(d, "code") == "INSUFFICIENT_PERMISSIONS" && (target.empty() || Str(d, "target") == target));
    EXPECT_TRUE(named) << "wanted INSUFFICIENT_PERMISSIONS on '" << target << "': " << r.body;
  }

  // ---- QuickBlox ----
  // POST /session.json signed with the application's secret; `user` adds login and password.
  std::string QuickBloxSession(const QuickBloxApp& app, const std::string& login = "") {
    static std::atomic<int> nonces{1};
    std::vector<std::pair<std::string, std::string>> pairs = {
        {"application_id", std::to_string(app.id)},
        {"auth_key", app.auth_key},
        {"nonce", std::to_string(::getpid() % 1000 * 100000 + nonces++)},
        {"timestamp", std::to_string(static_cast<long long>(std::time(nullptr)))}};
    if (!login.empty()) {
      pairs.emplace_back("user[login]", login);
      pairs.emplace_back("user[password]", kPassword);
    }
    std::vector<std::string> items;
    for (const auto& [k, v] : pairs) items.push_back(k + "=" + v);
    std::sort(items.begin(), items.end());
    std::string to_sign, body;
    for (const auto& item : items) to_sign += (to_sign.empty() ? "" : "&") + item;
    pairs.emplace_back("signature", HmacSha1Hex(app.auth_secret, to_sign));
    for (const auto& [k, v] : pairs) body += (body.empty() ? "" : "&") + k + "=" + UrlEncode(v);
    auto r = client_.Send("POST", "/session.json", body, {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().is_object() ? std::string(r.Json().at("session").at("token").as_string()) : "";
  }
  static Headers QbToken(const std::string& token) { return {{"QB-Token", token}}; }
  static Headers QbKey(const std::string& key) { return {{"Authorization", "ApiKey " + key}}; }
  // The QuickBlox number of a user (looked up with the application's API key).
  std::int64_t QuickBloxId(const std::string& username) {
    auto r = client_.Send("GET", "/users/by_login.json?login=" + UrlEncode(username), "", QbKey(qb_->api_key));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().is_object() ? r.Json().at("user").at("id").as_int64() : 0;
  }
  static std::string QbPath(std::int64_t n) { return "/users/" + std::to_string(n) + ".json"; }

  // ---- CommCare ----
  static Headers CommCareKey(const WebUser& u) { return {{"Authorization", "ApiKey " + u.email + ":" + u.key}}; }
  static std::string Worker(const std::string& uuid) {
    std::string hex;
    for (char c : uuid)
      if (c != '-') hex.push_back(c);
    return "/a/default/api/v0.5/user/" + hex;
  }

  static TempDir* dir_;
  static std::string admin_, app_key_, profile_key_;
  static PingOneApp *worker_, *phi_worker_;
  static QuickBloxApp* qb_;
  static WebUser* web_user_;
  static Server* server_;
  Client client_{server_->base_url()};
};

TempDir* ScopesTest::dir_;
std::string ScopesTest::admin_, ScopesTest::app_key_, ScopesTest::profile_key_;
PingOneApp *ScopesTest::worker_, *ScopesTest::phi_worker_;
QuickBloxApp* ScopesTest::qb_;
WebUser* ScopesTest::web_user_;
Server* ScopesTest::server_;

// ---- 1. the attack of the issue, refused ------------------------------------------------

TEST_F(ScopesTest, QuickBloxApiKeyCannotSignInThroughCatalyzeNorSetAPasswordWithoutTheOldOne) {
  const Patient p = NewPatient();
  const std::string signin = json::serialize(json::object{{"username", p.username}, {"password", kPassword}});
  // The Catalyze application key signs the patient in: the refusal below is the key's.
  ASSERT_EQ(client_.Send("POST", "/v2/auth/signin", signin, CatalyzeHeaders(app_key_)).status, 200);
  ExpectCatalyzeError(client_.Send("POST", "/v2/auth/signin", signin, {{"X-Api-Key", "browser quickblox " + qb_->api_key}}),
                      401, "");

  const std::int64_t n = QuickBloxId(p.username);
  auto set = client_.Send("PUT", QbPath(n), R"({"user":{"password":"Attacker-Pass-9!"}})", QbKey(qb_->api_key));
  EXPECT_EQ(set.status, 422) << set.body;
  EXPECT_TRUE(set.Json().is_object() && set.Json().at("errors").as_object().contains("old_password")) << set.body;
  // The password is unchanged.
  EXPECT_EQ(client_.Send("POST", "/v2/auth/signin", signin, CatalyzeHeaders(app_key_)).status, 200);
  EXPECT_EQ(client_.Send("POST", "/v2/auth/signin",
                         json::serialize(json::object{{"username", p.username}, {"password", "Attacker-Pass-9!"}}),
                         CatalyzeHeaders(app_key_))
                .status,
            401);
}

TEST_F(ScopesTest, QuickBloxApplicationSessionNeitherFindsNorListsNorSeesContactFields) {
  const Patient p = NewPatient();
  const std::string token = QuickBloxSession(*qb_);
  const std::int64_t n = QuickBloxId(p.username);
  auto by_email = client_.Send("GET", "/users/by_email.json?email=" + UrlEncode(p.email), "", QbToken(token));
  EXPECT_EQ(by_email.status, 403) << by_email.body;
  EXPECT_FALSE(Holds(by_email, p.email));
  auto list = client_.Send("GET", "/users.json", "", QbToken(token));
  EXPECT_EQ(list.status, 403) << list.body;
  EXPECT_FALSE(Holds(list, p.username));
  auto one = client_.Send("GET", QbPath(n), "", QbToken(token));
  ASSERT_EQ(one.status, 200) << one.body;
  const json::object user = one.Json().at("user").as_object();
  EXPECT_EQ(Str(user, "login"), p.username);
  for (const char* contact : {"email", "phone"})
    EXPECT_TRUE(!user.contains(contact) || user.at(contact).is_null() || Str(user, contact).empty())
        << contact << ": " << one.body;
  EXPECT_FALSE(Holds(one, p.email));
  EXPECT_FALSE(Holds(one, "4143334444"));  // the patient's mobile number
  EXPECT_FALSE(Holds(one, kSsn));
}

TEST_F(ScopesTest, CommCareWebUserKeyIsRefusedByCatalyze) {
  const Patient p = NewPatient();
  // The key works where it was made for.
  ASSERT_EQ(client_.Send("GET", Worker(p.id), "", CommCareKey(*web_user_)).status, 200);
  ExpectCatalyzeError(client_.Send("GET", "/v2/users/" + p.id, "", CatalyzeHeaders(web_user_->key, "", web_user_->email)),
                      401, "");
  ExpectCatalyzeError(client_.Send("POST", "/v2/auth/signin",
                                   json::serialize(json::object{{"username", p.username}, {"password", kPassword}}),
                                   CatalyzeHeaders(web_user_->key, "", web_user_->email)),
                      401, "");
}

TEST_F(ScopesTest, DefaultPingOneWorkerAndCommCareKeyCannotSetPasswords) {
  const Patient p = NewPatient();
  auto set = PingOne(*worker_, "PUT", "/users/" + p.id + "/password",
                     json::serialize(json::object{{"value", "Attacker-Pass-9!"}, {"forceChange", false}}), kSetType);
  ExpectPingOneDenied(set);
  auto change = client_.Send("PUT", Worker(p.id), R"({"password":"Attacker-Pass-9!"})", CommCareKey(*web_user_));
  EXPECT_EQ(change.status, 403) << change.body;
  EXPECT_FALSE(Str(change.Json(), "error").empty()) << change.body;
  // Neither changed it.
  EXPECT_EQ(client_.Send("POST", "/v2/auth/signin",
                         json::serialize(json::object{{"username", p.username}, {"password", kPassword}}),
                         CatalyzeHeaders(app_key_))
                .status,
            200);
}

// ---- 2. credential kind x API x PHI field ------------------------------------------------

TEST_F(ScopesTest, PhiReachesOnlyCredentialsThatMayReadIt) {
  const Patient p = NewPatient();
  const std::string other_session = SignUp().second;
  const std::int64_t n = QuickBloxId(p.username);
  const std::string qb_session = QuickBloxSession(*qb_);
  struct Case {
    std::string name;
    std::function<HttpResponse()> send;
    long status;
    bool phi;        // the postal code (and, on Catalyze, the SSN) in the body
    bool catalyze;   // a Catalyze user: every PHI member present (phi) or absent (!phi)
  };
  const std::string me = "/v2/users/" + p.id;
  const std::vector<Case> cases = {
      {"catalyze admin key", [&] { return Catalyze("GET", me, admin_); }, 200, true, true},
      {"catalyze app key + own session", [&] { return Catalyze("GET", me, app_key_, p.session); }, 200, true, true},
      {"catalyze app key + another user's session", [&] { return Catalyze("GET", me, app_key_, other_session); }, 403,
       false, false},
      {"catalyze profile key (no phi:read)", [&] { return Catalyze("GET", me, profile_key_); }, 200, false, true},
      {"pingone default worker", [&] { return PingOne(*worker_, "GET", "/users/" + p.id); }, 200, false, false},
      {"pingone worker --scope all", [&] { return PingOne(*phi_worker_, "GET", "/users/" + p.id); }, 200, true, false},
      {"commcare default web-user key", [&] { return client_.Send("GET", Worker(p.id), "", CommCareKey(*web_user_)); },
       200, false, false},
      {"quickblox default api key", [&] { return client_.Send("GET", QbPath(n), "", QbKey(qb_->api_key)); }, 200, false,
       false},
      {"quickblox default application session", [&] { return client_.Send("GET", QbPath(n), "", QbToken(qb_session)); },
       200, false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const HttpResponse r = c.send();
    EXPECT_EQ(r.status, c.status) << r.body;
    // PingOne's wire has no SSN; the other wires carry no PHI at all.
    EXPECT_EQ(Holds(r, kSsn), c.phi && c.catalyze) << r.body;
    EXPECT_EQ(Holds(r, kZip), c.phi) << r.body;
    if (!c.phi) EXPECT_FALSE(Holds(r, kWorkZip)) << r.body;
    if (c.catalyze && r.status == 200) {
      const json::object u = r.Json().as_object();
      for (const auto& field : kCatalyzePhi) EXPECT_EQ(u.contains(field), c.phi) << field << ": " << r.body;
      EXPECT_EQ(Str(u, "usersId"), p.id);
    }
  }
  // PingOne: `address` only with phi:read.
  EXPECT_FALSE(PingOne(*worker_, "GET", "/users/" + p.id).Json().as_object().contains("address"));
  auto full = PingOne(*phi_worker_, "GET", "/users/" + p.id);
  ASSERT_TRUE(full.Json().as_object().contains("address")) << full.body;
  EXPECT_EQ(Str(full.Json().at("address"), "postalCode"), kZip);
}

TEST_F(ScopesTest, PingOneFilterCannotTestTheAddressWithoutPhiRead) {
  // PingOne filters on address.* (issue 16), and addresses are PHI: a worker application
  // without phi:read filters over users whose PHI it cannot see, so an address filter
  // matches nobody, the right postal code as much as a wrong one (no oracle); one with
  // phi:read finds the patient.
  const Patient p = NewPatient();
  const std::string filter = "/users?filter=" + UrlEncode(std::string("address.postalCode eq \"") + kZip + "\"");
  for (const std::string& path :
       {filter, "/users?filter=" + UrlEncode(std::string("address.postalCode sw \"") + std::string(kZip).substr(0, 3) + "\"")}) {
    auto r = PingOne(*worker_, "GET", path);
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = r.Json();
    EXPECT_TRUE(body.at("_embedded").at("users").as_array().empty()) << r.body;
    EXPECT_FALSE(Holds(r, p.id));  // (its self link echoes the filter, zip and all)
  }
  auto phi = PingOne(*phi_worker_, "GET", filter);
  ASSERT_EQ(phi.status, 200) << phi.body;
  EXPECT_TRUE(Holds(phi, p.id)) << phi.body;
  // A filter the worker may test still finds the patient, without the address.
  auto found = PingOne(*worker_, "GET", "/users?filter=" + UrlEncode("username eq \"" + p.username + "\""));
  ASSERT_EQ(found.status, 200) << found.body;
  ASSERT_EQ(found.Json().at("_embedded").at("users").as_array().size(), 1u) << found.body;
  EXPECT_FALSE(Holds(found, kZip));
}

TEST_F(ScopesTest, PingOneWritesPhiOnlyWithPhiWriteAndAReplaceKeepsWhatItCouldNotSee) {
  const Patient p = NewPatient();
  const std::string path = "/users/" + p.id;
  const std::string moved = R"({"address":{"streetAddress":"9 Elm St","postalCode":"10001-0001"}})";
  auto denied = PingOne(*worker_, "PATCH", path, moved);
  ExpectPingOneDenied(denied, "address");
  EXPECT_FALSE(Holds(denied, kZip));
  EXPECT_EQ(Str(PingOne(*phi_worker_, "GET", path).Json().at("address"), "postalCode"), kZip);  // unchanged

  // A full replace by the worker that never saw the addresses keeps them.
  json::object seen = PingOne(*worker_, "GET", path).Json().as_object();
  ASSERT_FALSE(seen.contains("address"));
  json::object replace{{"username", seen.at("username")}, {"email", seen.at("email")},
                       {"name", json::object{{"given", "Replaced"}}}};
  auto put = PingOne(*worker_, "PUT", path, json::serialize(replace));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_FALSE(Holds(put, kZip));
  auto back = Catalyze("GET", "/v2/users/" + p.id, admin_);
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(Str(back.Json().at("name"), "firstName"), "Replaced");
  ASSERT_EQ(back.Json().at("addresses").as_array().size(), 2u) << back.body;
  EXPECT_TRUE(Holds(back, kZip) && Holds(back, kWorkZip) && Holds(back, kSsn)) << back.body;

  // With phi:write the same change goes through.
  auto allowed = PingOne(*phi_worker_, "PATCH", path, moved);
  ASSERT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_EQ(Str(allowed.Json().at("address"), "postalCode"), "10001-0001");
}

TEST_F(ScopesTest, CatalyzeWritesPhiWithPhiWriteOrOnItsOwnProfile) {
  const Patient p = NewPatient();
  const std::string path = "/v2/users/" + p.id;
  ExpectCatalyzeError(Catalyze("PUT", path, profile_key_, "", R"({"ssn":"111-22-3333"})"), 403, "ssn");
  // Without PHI the same key changes the profile, and the PHI it never saw stays.
  auto name = Catalyze("PUT", path, profile_key_, "", R"({"name":{"firstName":"Renamed"}})");
  ASSERT_EQ(name.status, 200) << name.body;
  EXPECT_FALSE(Holds(name, kSsn));
  EXPECT_TRUE(Holds(Catalyze("GET", path, admin_), kSsn));
  // The patient's own session writes its own PHI (right of access).
  auto own = Catalyze("PUT", path, app_key_, p.session, R"({"ssn":"111-22-3333"})");
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(Str(own.Json(), "ssn"), "111-22-3333");
  EXPECT_EQ(Str(Catalyze("GET", path, admin_).Json(), "ssn"), "111-22-3333");
  // Another user's session writes nothing of it.
  const std::string other_session = SignUp().second;
  EXPECT_EQ(Catalyze("PUT", path, app_key_, other_session, R"({"ssn":"999-99-9999"})").status, 403);
  EXPECT_EQ(Str(Catalyze("GET", path, admin_).Json(), "ssn"), "111-22-3333");
}

// ---- 3. defaults of each credential kind ----------------------------------------------------

TEST_F(ScopesTest, KeyListShowsTheInitAdminKeyWithEveryApiAndScope) {
  const json::object listed = RunJson(Cli({"key", "list", "--env", "default"}));
  bool found = false;
  for (const auto& k : listed.at("keys").as_array()) {
    if (Str(k, "role") != "admin") continue;
    found = true;
    EXPECT_EQ(Names(k.at("apis")), std::set<std::string>{"all"}) << json::serialize(k);
    EXPECT_EQ(Names(k.at("scopes")), kEveryScope) << json::serialize(k);
  }
  EXPECT_TRUE(found) << json::serialize(listed);
}

TEST_F(ScopesTest, EachCredentialCommandPrintsItsDefaultScopes) {
  const json::object key = RunJson(Cli({"key", "create", "--env", "default"}));
  EXPECT_EQ(Names(key.at("apis")), std::set<std::string>{"catalyze"});
  EXPECT_EQ(Names(key.at("scopes")), std::set<std::string>{"signup"});
  // key list shows the same.
  bool listed = false;
  const json::object keys = RunJson(Cli({"key", "list", "--env", "default"}));
  for (const auto& k : keys.at("keys").as_array()) {
    if (Str(k, "id") != Str(key, "id")) continue;
    listed = true;
    EXPECT_EQ(Names(k.at("apis")), std::set<std::string>{"catalyze"});
    EXPECT_EQ(Names(k.at("scopes")), std::set<std::string>{"signup"});
  }
  EXPECT_TRUE(listed);
  const json::object admin = RunJson(Cli({"key", "create", "--env", "default", "--role", "admin"}));
  EXPECT_EQ(Names(admin.at("apis")), std::set<std::string>{"all"});
  EXPECT_EQ(Names(admin.at("scopes")), kEveryScope);

  const json::object worker = RunJson(Cli({"pingone", "app", "create", "--env", "default"}));
  EXPECT_EQ(Names(worker.at("scopes")), (std::set<std::string>{"profile:read", "profile:write", "users:list",
                                                               "contact:read", "groups:write", "schema:write"}));
  const json::object qb = RunJson(Cli({"quickblox", "app", "create", "--env", "default"}));
  EXPECT_EQ(Names(qb.at("apiKeyScopes")),
            (std::set<std::string>{"signup", "profile:read", "profile:write", "users:list", "contact:read"}));
  EXPECT_EQ(qb.at("allowUserList"), false);
  EXPECT_EQ(qb.at("allowContactFields"), false);
  const json::object web = RunJson(
      Cli({"commcare", "web-user", "create", "--domain", "default", "--email", Unique("defaults") + "@example.org"}));
  EXPECT_EQ(Names(web.at("scopes")),
            (std::set<std::string>{"profile:read", "profile:write", "users:list", "contact:read", "groups:write"}));

  // --scope replaces the defaults.
  const json::object granted = RunJson(Cli({"pingone", "app", "create", "--env", "default", "--scope", "phi:read"}));
  EXPECT_EQ(Names(granted.at("scopes")), std::set<std::string>{"phi:read"});
}

TEST_F(ScopesTest, UnknownScopesAndApisAreRefusedByName) {
  const std::vector<std::vector<std::string>> commands = {
      {"key", "create", "--env", "default", "--scope", "bogus"},
      {"key", "create", "--env", "default", "--scope", "signup", "--scope", "bogus"},
      {"pingone", "app", "create", "--env", "default", "--scope", "bogus"},
      {"quickblox", "app", "create", "--env", "default", "--scope", "bogus"},
      {"commcare", "web-user", "create", "--domain", "default", "--email", Unique("bogus") + "@example.org", "--scope",
       "bogus"},
  };
  const std::string before = RunRoster(Cli({"key", "list", "--env", "default"})).out;
  for (const auto& args : commands) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    auto r = RunRoster(Cli(args));
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE((r.err + r.out).find("bogus"), std::string::npos) << r.err << r.out;
  }
  auto api = RunRoster(Cli({"key", "create", "--env", "default", "--api", "nope"}));
  EXPECT_NE(api.exit_code, 0) << api.out;
  EXPECT_NE((api.err + api.out).find("nope"), std::string::npos) << api.err;
  // None of them made a key.
  EXPECT_EQ(json::parse(RunRoster(Cli({"key", "list", "--env", "default"})).out).at("keys").as_array().size(),
            json::parse(before).at("keys").as_array().size());
}

// ---- 4. a key of another API ------------------------------------------------------------------

TEST_F(ScopesTest, KeyOfAnotherApiIsRefusedUnlessMadeForAll) {
  const std::string commcare = Str(RunJson(Cli({"key", "create", "--env", "default", "--api", "commcare"})), "key");
  const std::string all =
      Str(RunJson(Cli({"key", "create", "--env", "default", "--api", "all", "--scope", "signup"})), "key");
  const std::string name = Unique("anyapi");
  const std::string body = json::serialize(
      json::object{{"username", name}, {"password", kPassword}, {"email", {{"primary", name + "@example.com"}}}});
  ExpectCatalyzeError(Catalyze("POST", "/v2/users", commcare, "", body), 401, "");
  auto created = Catalyze("POST", "/v2/users", all, "", body);
  ASSERT_EQ(created.status, 200) << created.body;
  // Made only with signup: it reads nobody without a session.
  EXPECT_NE(Catalyze("GET", "/v2/users/" + Str(created.Json(), "usersId"), all).status, 200);
}

// ---- 5. the QuickBlox list and contact settings ---------------------------------------------

TEST_F(ScopesTest, QuickBloxListAndContactSettingsApplyToOpenSessionsAtOnce) {
  const QuickBloxApp app = MakeQuickBloxApp();
  const Patient p = NewPatient();
  const std::int64_t n = QuickBloxId(p.username);
  const std::string token = QuickBloxSession(app);
  const std::string login = "/users/by_login.json?login=" + UrlEncode(p.username);
  EXPECT_EQ(client_.Send("GET", "/users.json", "", QbToken(token)).status, 403);
  EXPECT_EQ(client_.Send("GET", login, "", QbToken(token)).status, 403);

  const auto update = [&](const char* flag, const char* value) {
    auto r = RunRoster(Cli({"quickblox", "app", "update", "--env", "default", "--id", std::to_string(app.id), flag,
                            value}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  update("--allow-user-list", "true");
  auto list = client_.Send("GET", "/users.json?per_page=100", "", QbToken(token));
  EXPECT_EQ(list.status, 200) << list.body;
  auto found = client_.Send("GET", login, "", QbToken(token));
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_FALSE(Holds(found, p.email));  // contact fields still hidden
  EXPECT_FALSE(Holds(client_.Send("GET", QbPath(n), "", QbToken(token)), p.email));

  update("--allow-contact-fields", "true");
  auto shown = client_.Send("GET", QbPath(n), "", QbToken(token));
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(Str(shown.Json().at("user"), "email"), p.email);
  EXPECT_FALSE(Holds(shown, kSsn));  // never PHI
  EXPECT_FALSE(Holds(shown, kZip));

  // Off again: the same session loses both at once.
  update("--allow-user-list", "false");
  update("--allow-contact-fields", "false");
  EXPECT_EQ(client_.Send("GET", "/users.json", "", QbToken(token)).status, 403);
  EXPECT_FALSE(Holds(client_.Send("GET", QbPath(n), "", QbToken(token)), p.email));
}

// ---- 6. Catalyze self-activation ---------------------------------------------------------------

TEST_F(ScopesTest, CatalyzeUserCannotActivateItselfButTheWholeUserSaveWithItsStatePasses) {
  const auto [id, session] = SignUp();
  const std::string path = "/v2/users/" + id;
  ExpectCatalyzeError(Catalyze("PUT", path, app_key_, session, R"({"active":true})"), 403, "profile:write");
  // The iOS SDK saves the user whole, as it read it (`active` included, unchanged).
  auto read = Catalyze("GET", path, app_key_, session);
  ASSERT_EQ(read.status, 200) << read.body;
  json::object whole = read.Json().as_object();
  ASSERT_EQ(whole.at("active"), false);
  whole["name"] = json::object{{"firstName", "Saved"}};
  auto saved = Catalyze("PUT", path, app_key_, session, json::serialize(whole));
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(Str(saved.Json().at("name"), "firstName"), "Saved");
  auto back = Catalyze("GET", path, admin_);
  EXPECT_EQ(back.Json().at("active"), false);
  EXPECT_EQ(Str(back.Json().at("name"), "firstName"), "Saved");
}

}  // namespace
}  // namespace roster::testing
