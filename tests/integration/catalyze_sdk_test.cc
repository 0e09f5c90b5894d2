// Catalyze's own SDKs against Roster (issue 15): a client that replays the request shapes
// of the iOS, Android and JavaScript SDKs, over HTTPS, through sign-up -> activation mail
// (read from the real SMTP sink) -> the activation page -> sign-in -> read -> save the
// profile -> sign-out. Written from the SDKs' sources:
//   iOS     kindlycare/catalyze-ios-sdk: catalyze-ios-sdk/CatalyzeHTTPManager.m (JSON
//           serializer, `Authorization: Bearer %@` of a nil token = "Bearer (null)",
//           X-Api-Key on every call), CatalyzeUser.m (signUp body with inviteCode, signIn,
//           saveInBackground PUTs [self JSON:] = the whole user back, logout GET
//           /auth/signout), JSONObject.m (dates as yyyy-MM-dd, createdAt as
//           yyyy-MM-dd'T'HH:mm:ss'Z'), "catalyze-ios-sdk Tests/CatalyzeUserTest.m" (username
//           after sign-in, `type` "Physician" saved and read back).
//   Android Pact/android-sdk: catalyze-android/.../AuthorizationInterceptor.java ("Bearer " +
//           a null session token = "Bearer null", X-Api-Key), .../api/CatalyzeAPI.java
//           (POST /auth/signin, POST /auth/signout, GET /users/{appId}/search/{partial}).
//   JS      smstromb/catalyze-js-sdk: src/core.js (signUp without a session, verifyToken
//           GET "auth/verify/", signOut GET), src/jquery-catalyze.js (crossDomain $.ajax:
//           a JSON string body under jQuery's default form content type, "Bearer " +
//           token), so a browser preflights.
// The API reference mirror rr1000/resources_2.0 source/baas/api-reference (headers,
// add-a-supervisor, password-reset) gave the shapes the SDKs leave out.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <regex>
#include <thread>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

constexpr const char* kPublicUrl = "https://id.example.test";
constexpr const char* kPassword = "sdk password 1";

std::string Body(const json::object& o) { return json::serialize(o); }

// Extracts `name`'s value from a hidden input of an HTML form.
std::string Hidden(const std::string& html, const std::string& name) {
  std::smatch m;
  const std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  return std::regex_search(html, m, re) ? m[1].str() : std::string();
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + k + "=" + UrlEncode(v);
  return out;
}

std::string Today() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

class CatalyzeSdkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    mail_dir_ = new TempDir();
    admin_ = InitDataDir(dir_->path());
    key_ = CreateKey(dir_->path(), "default", "app");
    cert_ = *dir_ / "cert.pem";
    const std::string openssl = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext "
                                "subjectAltName=DNS:localhost -days 1 -keyout " + (*dir_ / "key.pem") +
                                " -out " + cert_ + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(openssl.c_str()), 0);
    sink_ = new SmtpSink(mail_dir_->path());
    std::vector<std::string> args = kFastHashing;
    args.insert(args.end(), {"--smtp-url", sink_->url(), "--smtp-from", "roster@example.test", "--tls-cert", cert_,
                             "--tls-key", *dir_ / "key.pem", "--public-url", kPublicUrl});
    server_ = new Server(dir_->path(), args);
    ASSERT_EQ(server_->base_url().rfind("https://", 0), 0u);
    env_id_ = std::string(json::parse(RunRoster({"env", "list", "--data-dir", dir_->path(), "--json"}).out)
                              .at("environments").at(0).at("id").as_string());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete sink_;
    delete mail_dir_;
    delete dir_;
  }

  // The X-Api-Key each SDK sends: "<platform> <identifier> <key>".
  static std::string ApiKey(const std::string& platform) { return platform + " tests.roster " + key_; }
  std::string Origin() const { return "https://localhost:" + std::to_string(server_->port()); }

  // Messages to `address`, waiting for `count` of them.
  static std::vector<std::string> WaitForMailTo(const std::string& address, std::size_t count) {
    return sink_->WaitForMessagesTo(address, count, 20);
  }

  // The link of `page` a message carries, as a path on this server (the mail names the
  // --public-url).
  static std::string LinkIn(const std::string& message, const std::string& page) {
    std::smatch m;
    const std::regex re(std::string(kPublicUrl) + "(/pages/" + page + "\\?env=[0-9a-f-]+&token=[0-9a-f]{64})");
    return std::regex_search(message, m, re) ? m[1].str() : std::string();
  }

  // Follows the activation link in the newest mail to `email` and confirms on the page,
  // as a person in a browser would.
  void Activate(const std::string& email) {
    auto mail = WaitForMailTo(email, 1);
    ASSERT_EQ(mail.size(), 1u) << "no activation mail to " << email;
    const std::string link = LinkIn(mail.back(), "activate");
    ASSERT_FALSE(link.empty()) << mail.back();
    auto page = client_.Send("GET", link);
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(page.Header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(page.Header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(page.Header("referrer-policy"), "no-referrer");
    EXPECT_EQ(page.body.find("<script"), std::string::npos);
    const std::string form = FormEncode({{"env", Hidden(page.body, "env")}, {"token", Hidden(page.body, "token")}});
    const Headers browser = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", Origin()},
                             {"Sec-Fetch-Site", "same-origin"}};
    auto done = client_.Send("POST", "/pages/activate", form, browser);
    ASSERT_EQ(done.status, 200) << done.body;
    EXPECT_NE(done.body.find("Account activated"), std::string::npos);
    // The link works once.
    EXPECT_EQ(client_.Send("POST", "/pages/activate", form, browser).status, 400);
  }

  static TempDir* dir_;
  static TempDir* mail_dir_;
  static SmtpSink* sink_;
  static Server* server_;
  static std::string admin_, key_, cert_, env_id_;
  Client client_{server_->base_url(), cert_};
};

TempDir* CatalyzeSdkTest::dir_ = nullptr;
TempDir* CatalyzeSdkTest::mail_dir_ = nullptr;
SmtpSink* CatalyzeSdkTest::sink_ = nullptr;
Server* CatalyzeSdkTest::server_ = nullptr;
std::string CatalyzeSdkTest::admin_, CatalyzeSdkTest::key_, CatalyzeSdkTest::cert_, CatalyzeSdkTest::env_id_;

// CatalyzeHTTPManager.m + CatalyzeUser.m: every call carries Content-Type JSON, the
// X-Api-Key and "Bearer <token>", where a missing token prints as "(null)".
TEST_F(CatalyzeSdkTest, IosSdkSignUpActivateSignInSaveSignOut) {
  const Headers no_session = {{"Content-Type", "application/json"},
                              {"Authorization", "Bearer (null)"},
                              {"X-Api-Key", ApiKey("ios")}};
  // signUpWithUsernameInBackground: username, email, name, password, inviteCode "".
  auto up = client_.Send("POST", "/v2/users",
                         Body({{"username", "ios-user"},
                               {"email", {{"primary", "ios@example.org"}}},
                               {"name", {{"firstName", "Io"}, {"lastName", "Ess"}}},
                               {"password", kPassword},
                               {"inviteCode", ""}}),
                         no_session);
  ASSERT_EQ(up.status, 200) << up.body;
  const json::object created = up.Json().as_object();
  EXPECT_EQ(created.at("username"), "ios-user");
  EXPECT_EQ(created.at("active"), false);
  const std::string id(created.at("usersId").as_string());
  // Not active yet: sign-in answers the same 401 as a wrong password.
  const std::string signin = Body({{"username", "ios-user"}, {"password", kPassword}});
  EXPECT_EQ(client_.Send("POST", "/v2/auth/signin", signin, no_session).status, 401);
  ASSERT_NO_FATAL_FAILURE(Activate("ios@example.org"));

  // logInWithUsernameInBackground, still "Bearer (null)".
  auto in = client_.Send("POST", "/v2/auth/signin", signin, no_session);
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_EQ(in.Json().at("username"), "ios-user");  // CatalyzeUserTest asserts it
  const std::string token(in.Json().at("sessionToken").as_string());
  const Headers session = {{"Content-Type", "application/json"},
                           {"Authorization", "Bearer " + token},
                           {"X-Api-Key", ApiKey("ios")}};

  // retrieveInBackground, then saveInBackground: the whole user back, with setType and
  // setDob(today) as the SDK's testSave does (active, usersId, createdAt... included).
  auto read = client_.Send("GET", "/v2/users/" + id, "", session);
  ASSERT_EQ(read.status, 200) << read.body;
  json::object whole = read.Json().as_object();
  EXPECT_EQ(whole.at("active"), true);
  whole["type"] = "Physician";
  whole["dob"] = Today();
  auto saved = client_.Send("PUT", "/v2/users/" + id, Body(whole), session);
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(saved.Json().at("type"), "Physician");
  auto again = client_.Send("GET", "/v2/users/" + id, "", session);
  EXPECT_EQ(again.Json().at("type"), "Physician");
  EXPECT_EQ(again.Json().at("dob").as_string(), Today());
  // The same save switching itself off is still the administrator's.
  whole["active"] = false;
  EXPECT_EQ(client_.Send("PUT", "/v2/users/" + id, Body(whole), session).status, 403);

  // logout: GET /auth/signout; the token is then no session, and a read needs one.
  ASSERT_EQ(client_.Send("GET", "/v2/auth/signout", "", session).status, 200);
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + id, "", session).status, 401);
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + id, "", no_session).status, 401);
}

// AuthorizationInterceptor.java: "Bearer " + a null token is "Bearer null"; the
// Retrofit interface signs out with POST and searches by partial username.
TEST_F(CatalyzeSdkTest, AndroidSdkSignUpActivateSignInSaveSearchSignOut) {
  const Headers no_session = {{"Content-Type", "application/json"},
                              {"Authorization", "Bearer null"},
                              {"X-Api-Key", ApiKey("android")}};
  // createUser(@Body CatalyzeUser): Gson leaves null members out.
  auto up = client_.Send("POST", "/v2/users",
                         Body({{"username", "droid-user"},
                               {"password", kPassword},
                               {"email", {{"primary", "droid@example.org"}}},
                               {"name", {{"firstName", "Andy"}}}}),
                         no_session);
  ASSERT_EQ(up.status, 200) << up.body;
  const std::string id(up.Json().at("usersId").as_string());
  const std::string stale(up.Json().at("sessionToken").as_string());
  ASSERT_NO_FATAL_FAILURE(Activate("droid@example.org"));

  // An app that kept the sign-up's token sends it to sign in: ignored there.
  Headers old_token = no_session;
  old_token[1].second = "Bearer " + stale;
  auto in = client_.Send("POST", "/v2/auth/signin", Body({{"username", "droid-user"}, {"password", kPassword}}),
                         old_token);
  ASSERT_EQ(in.status, 200) << in.body;
  const std::string token(in.Json().at("sessionToken").as_string());
  Headers session = no_session;
  session[1].second = "Bearer " + token;

  auto read = client_.Send("GET", "/v2/users/" + id, "", session);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.Json().at("username"), "droid-user");
  // updateUser(@Body CatalyzeUser): the user object back with a change.
  json::object user = read.Json().as_object();
  user["name"].as_object()["lastName"] = "Droid";
  auto saved = client_.Send("PUT", "/v2/users/" + id, Body(user), session);
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(saved.Json().at("name").at("lastName"), "Droid");

  // searchUsers: users:list, so a plain user's session is refused (a supervisor's is
  // not: see SupervisorsSearchReadAndUpdateTheirApplicationsUsers).
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + env_id_ + "/search/droid", "", session).status, 403);

  // signOut: POST /auth/signout.
  ASSERT_EQ(client_.Send("POST", "/v2/auth/signout", "", session).status, 200);
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + id, "", session).status, 401);
}

// jquery-catalyze.js in a browser on another origin: crossDomain $.ajax with X-Api-Key
// (and Authorization) headers, so the browser preflights; data is JSON.stringify'd
// under jQuery's default content type.
TEST_F(CatalyzeSdkTest, JsSdkFromABrowserPreflightsSignsUpVerifiesAndSignsOut) {
  const std::string page_origin = "https://app.example.org";
  auto preflight = client_.Send("OPTIONS", "/v2/users", "",
                                {{"Origin", page_origin},
                                 {"Access-Control-Request-Method", "POST"},
                                 {"Access-Control-Request-Headers", "x-api-key"}});
  ASSERT_EQ(preflight.status, 204) << preflight.body;
  EXPECT_EQ(preflight.Header("access-control-allow-origin"), page_origin);
  EXPECT_NE(preflight.Header("access-control-allow-methods").find("POST"), std::string::npos);
  EXPECT_NE(preflight.Header("access-control-allow-headers").find("X-Api-Key"), std::string::npos);
  EXPECT_EQ(preflight.Header("access-control-allow-credentials"), "");

  const Headers browser = {{"Origin", page_origin},
                           {"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"},
                           {"X-Api-Key", ApiKey("browser")}};
  auto up = client_.Send("POST", "/v2/users",
                         Body({{"username", "js-user"}, {"password", kPassword}, {"email", {{"primary", "js@example.org"}}}}),
                         browser);
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(up.Header("access-control-allow-origin"), page_origin);
  EXPECT_NE(up.Header("access-control-expose-headers").find("ETag"), std::string::npos);
  const std::string id(up.Json().at("usersId").as_string());
  ASSERT_NO_FATAL_FAILURE(Activate("js@example.org"));

  auto in = client_.Send("POST", "/v2/auth/signin", Body({{"username", "js-user"}, {"password", kPassword}}), browser);
  ASSERT_EQ(in.status, 200) << in.body;
  const std::string token(in.Json().at("sessionToken").as_string());
  Headers session = browser;
  session.emplace_back("Authorization", "Bearer " + token);
  auto verify_preflight = client_.Send("OPTIONS", "/v2/auth/verify/", "",
                                       {{"Origin", page_origin},
                                        {"Access-Control-Request-Method", "GET"},
                                        {"Access-Control-Request-Headers", "authorization,x-api-key"}});
  EXPECT_EQ(verify_preflight.status, 204);
  // verifyToken: GET "auth/verify/" (the SDK's trailing slash).
  auto verified = client_.Send("GET", "/v2/auth/verify/", "", session);
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(verified.Json().at("usersId").as_string(), id);
  // Session.updateUser: PUT users/{id} with the object.
  auto saved = client_.Send("PUT", "/v2/users/" + id, Body({{"extras", {{"theme", "dark"}}}}), session);
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(saved.Json().at("extras").at("theme"), "dark");
  ASSERT_EQ(client_.Send("GET", "/v2/auth/signout", "", session).status, 200);
  EXPECT_EQ(client_.Send("GET", "/v2/auth/verify/", "", session).status, 401);
  // The JS SDK's "Bearer undefined" before any sign-in is no session either.
  Headers undefined_token = browser;
  undefined_token.emplace_back("Authorization", "Bearer undefined");
  EXPECT_EQ(client_.Send("GET", "/v2/auth/verify", "", undefined_token).status, 401);
}

// A token on a route that needs no session is ignored whatever it is; on one that needs
// a session an unknown token is still 401.
TEST_F(CatalyzeSdkTest, TokensAreIgnoredOnlyWhereNoSessionIsNeeded) {
  for (const char* bearer : {"Bearer", "Bearer ", "Bearer (null)", "Bearer null", "Bearer not-a-session"}) {
    const Headers h = {{"Authorization", bearer}, {"X-Api-Key", ApiKey("ios")}};
    EXPECT_EQ(client_.Send("POST", "/v2/users/forgotUsername", Body({{"email", "nobody@example.org"}}), h).status,
              200)
        << bearer;
    EXPECT_EQ(client_.Send("GET", "/v2/" + env_id_ + "/reset/user/nobody", "", h).status, 200) << bearer;
    auto me = client_.Send("GET", "/v2/auth/verify", "", h);
    EXPECT_EQ(me.status, 401) << bearer;
  }
  // "Basic ..." is not a bearer token at all: where a session counts, 401.
  ExpectCatalyzeError(
      client_.Send("GET", "/v2/auth/verify", "", {{"Authorization", "Basic eDp5"}, {"X-Api-Key", ApiKey("ios")}}),
      401, "Bearer");
}

// The reset mail links to a page with a form; the form is CSRF-safe and a typo does not
// spend the link.
TEST_F(CatalyzeSdkTest, PasswordResetThroughTheMailedPage) {
  auto up = client_.Send("POST", "/v2/users",
                         Body({{"username", "forgetful"}, {"password", kPassword}, {"email", {{"primary", "forget@example.org"}}}}),
                         {{"X-Api-Key", ApiKey("ios")}});
  ASSERT_EQ(up.status, 200) << up.body;
  ASSERT_NO_FATAL_FAILURE(Activate("forget@example.org"));
  ASSERT_EQ(client_.Send("GET", "/v2/" + env_id_ + "/reset/user/forgetful", "", {{"X-Api-Key", ApiKey("ios")}}).status,
            200);
  auto mail = WaitForMailTo("forget@example.org", 2);
  ASSERT_EQ(mail.size(), 2u);
  const std::string link = LinkIn(mail.back(), "reset/catalyze");
  ASSERT_FALSE(link.empty()) << mail.back();
  auto page = client_.Send("GET", link);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("type=\"password\""), std::string::npos);
  const std::string env = Hidden(page.body, "env"), token = Hidden(page.body, "token");
  const Headers same = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", Origin()}};
  const std::string good =
      FormEncode({{"env", env}, {"token", token}, {"password", "new pass 2"}, {"confirm", "new pass 2"}});
  // Another site posting the form: refused, token unspent.
  auto cross = client_.Send("POST", "/pages/reset/catalyze", good,
                            {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(cross.status, 403);
  auto cross_site = client_.Send("POST", "/pages/reset/catalyze", good,
                                 {{"Content-Type", "application/x-www-form-urlencoded"}, {"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(cross_site.status, 403);
  auto typo = client_.Send("POST", "/pages/reset/catalyze",
                           FormEncode({{"env", env}, {"token", token}, {"password", "new pass 2"}, {"confirm", "new pass 3"}}),
                           same);
  EXPECT_EQ(typo.status, 400);
  auto done = client_.Send("POST", "/pages/reset/catalyze", good, same);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(client_.Send("POST", "/pages/reset/catalyze", good, same).status, 400);  // once
  EXPECT_EQ(client_.Send("POST", "/v2/auth/signin", Body({{"username", "forgetful"}, {"password", "new pass 2"}}),
                         {{"X-Api-Key", ApiKey("ios")}})
                .status,
            200);
  // Markup in a link's values comes back escaped, never as markup.
  auto hostile = client_.Send("GET", "/pages/reset/catalyze?env=%3Cb%3E&token=%22%3E%3Cscript%3Ex");
  ASSERT_EQ(hostile.status, 200);
  EXPECT_EQ(hostile.body.find("<script"), std::string::npos);
  EXPECT_NE(hostile.body.find("&quot;&gt;&lt;script&gt;x"), std::string::npos);
}

// `roster env set NAME --catalyze-activation none`: sign-ups are active at once, no mail.
TEST_F(CatalyzeSdkTest, ActivationNoneMakesSignUpsActive) {
  TempDir dir;
  InitDataDir(dir.path());
  const std::string key = CreateKey(dir.path(), "default", "app");
  auto set = RunRoster({"env", "set", "default", "--catalyze-activation", "none", "--data-dir", dir.path(), "--json"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(json::parse(set.out).at("catalyzeActivation"), "none");
  EXPECT_NE(RunRoster({"env", "set", "default", "--catalyze-activation", "sms", "--data-dir", dir.path()}).exit_code, 0);
  TempDir mail;
  SmtpSink sink(mail.path());
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--smtp-url", sink.url(), "--smtp-from", "roster@example.test"});
  Server server(dir.path(), args);
  Client client(server.base_url());
  const Headers h = {{"X-Api-Key", "android tests.roster " + key}, {"Authorization", "Bearer null"}};
  auto up = client.Send("POST", "/v2/users",
                        Body({{"username", "quick"}, {"password", kPassword}, {"email", {{"primary", "q@example.org"}}}}),
                        h);
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(up.Json().at("active"), true);
  EXPECT_EQ(client.Send("POST", "/v2/auth/signin", Body({{"username", "quick"}, {"password", kPassword}}), h).status,
            200);
  // Back to email, live: the next sign-up is inactive and mailed.
  ASSERT_EQ(RunRoster({"env", "set", "default", "--catalyze-activation", "email", "--data-dir", dir.path()}).exit_code, 0);
  auto next = client.Send("POST", "/v2/users",
                          Body({{"username", "slow"}, {"password", kPassword}, {"email", {{"primary", "s@example.org"}}}}),
                          h);
  EXPECT_EQ(next.Json().at("active"), false);
  auto messages = sink.WaitForMessages(1, 20);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].find("X-Envelope-To: s@example.org\r\n"), 0u);
}

// Node apps use a `server` key; supervisors (POST /v2/app/supervisor/{username}, admin)
// search, read and update the users of their application.
TEST_F(CatalyzeSdkTest, SupervisorsSearchReadAndUpdateTheirApplicationsUsers) {
  const Headers server_key = {{"X-Api-Key", "server tests.roster " + admin_}};
  for (const char* name : {"sup-boss", "sup-patient"}) {
    auto r = client_.Send("POST", "/v2/users",
                          Body({{"username", name}, {"password", kPassword},
                                {"email", {{"primary", std::string(name) + "@example.org"}}}}),
                          server_key);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  auto found = client_.Send("GET", "/v2/users/" + env_id_ + "/search/SUP-", "", server_key);
  ASSERT_EQ(found.status, 200) << found.body;
  ASSERT_EQ(found.Json().as_array().size(), 2u);
  std::string boss, patient;
  const json::value listed = found.Json();
  for (const auto& u : listed.as_array())
    (u.at("username") == "sup-boss" ? boss : patient) = std::string(u.at("usersId").as_string());
  for (const auto& id : {boss, patient})
    ASSERT_EQ(client_.Send("PUT", "/v2/users/" + id, Body({{"active", true}}), server_key).status, 200);
  ASSERT_EQ(client_.Send("POST", "/v2/app/supervisor/sup-boss", "{}", server_key).status, 200);
  // A supervisor's role is granted by an admin only.
  EXPECT_EQ(client_.Send("POST", "/v2/app/supervisor/sup-patient", "{}", {{"X-Api-Key", ApiKey("ios")}}).status, 403);

  auto in = client_.Send("POST", "/v2/auth/signin", Body({{"username", "sup-boss"}, {"password", kPassword}}),
                         {{"X-Api-Key", ApiKey("ios")}});
  ASSERT_EQ(in.status, 200) << in.body;
  const Headers sup = {{"X-Api-Key", ApiKey("ios")},
                       {"Authorization", "Bearer " + std::string(in.Json().at("sessionToken").as_string())}};
  auto search = client_.Send("GET", "/v2/users/" + env_id_ + "/search/patient", "", sup);
  ASSERT_EQ(search.status, 200) << search.body;
  ASSERT_EQ(search.Json().as_array().size(), 1u);
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + patient, "", sup).status, 200);
  auto changed = client_.Send("PUT", "/v2/users/" + patient, Body({{"active", false}, {"name", {{"firstName", "P"}}}}), sup);
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.Json().at("active"), false);
  EXPECT_EQ(client_.Send("DELETE", "/v2/users/" + patient, "", sup).status, 403);  // reading and updating only
  // Group items carry `default`, in the user's groups too.
  auto ward = client_.Send("POST", "/v2/groups", Body({{"name", "ward"}}), sup);
  ASSERT_EQ(ward.status, 200) << ward.body;
  const std::string ward_id(ward.Json().at("groupsId").as_string());
  ASSERT_EQ(client_.Send("POST", "/v2/groups/" + ward_id + "/users/" + patient, "", sup).status, 200);
  auto groups = client_.Send("GET", "/v2/users/" + patient + "/groups", "", sup);
  ASSERT_EQ(groups.status, 200) << groups.body;
  ASSERT_EQ(groups.Json().as_array().size(), 1u);
  EXPECT_EQ(groups.Json().at(0).at("default"), false);
  // Removed, the supervisor is a plain user again.
  ASSERT_EQ(client_.Send("DELETE", "/v2/app/supervisor/sup-boss", "", server_key).status, 200);
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + patient, "", sup).status, 403);
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + env_id_ + "/search/patient", "", sup).status, 403);
}

}  // namespace
}  // namespace roster::testing
