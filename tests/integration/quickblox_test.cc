// Integration tests for the QuickBlox dialect: every route over HTTP against the real
// binary (success and error paths), the round trip with the Catalyze dialect, and the
// official QuickBlox JavaScript SDK over HTTPS (tests/sdk/quickblox/sdk_run.js).
#include <gtest/gtest.h>

#include <limits>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// ---- wire helpers ------------------------------------------------------------------

// encodeURIComponent, as the SDK encodes values.
std::string Encode(std::string_view s) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || std::string_view("-_.!~*'()").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

// "k=v&..." with literal brackets in keys, as the SDK sends forms.
std::string Form(const Pairs& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) out += (out.empty() ? "" : "&") + k + "=" + Encode(v);
  return out;
}

const Headers kFormType = {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}};

Headers Qb(const std::string& token, bool form = true) {
  Headers h = form ? kFormType : Headers{};
  h.emplace_back("QB-Token", token);
  return h;
}

Headers Key(const std::string& api_key, bool form = true) {
  Headers h = form ? kFormType : Headers{};
  h.emplace_back("Authorization", "ApiKey " + api_key);
  return h;
}

// {"field": ["message", ...]} of a 422, or an empty object.
json::object Errors(const HttpResponse& r) {
  const json::value v = r.Json();
  if (!v.is_object() || !v.as_object().contains("errors") || !v.at("errors").is_object()) return {};
  return v.at("errors").as_object();
}

std::string FirstError(const HttpResponse& r, const std::string& field) {
  const json::object e = Errors(r);
  if (!e.contains(field) || e.at(field).as_array().empty()) return "<no " + field + " error in " + r.body + ">";
  return std::string(e.at(field).as_array()[0].as_string());
}

json::object UserOf(const HttpResponse& r) {
  const json::value v = r.Json();
  if (!v.is_object() || !v.as_object().contains("user")) return {};
  return v.at("user").as_object();
}

std::int64_t IdOf(const HttpResponse& r) {
  const json::object u = UserOf(r);
  return u.contains("id") ? u.at("id").as_int64() : 0;
}

std::string Unique(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(::getpid() % 100000) + "x" + std::to_string(counter++);
}

std::int64_t NowSeconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

struct App {
  std::int64_t id = 0;
  std::string auth_key, auth_secret, api_key;
};

App CreateApp(const std::string& data_dir) {
  // Listing and contact fields on, and an API key that may also set passwords: the suite
  // tests the API; scopes_test.cc tests the defaults.
  auto r = RunRoster({"quickblox", "app", "create", "--env", "default", "--allow-user-list", "--allow-contact-fields",
                      "--scope", "signup", "--scope", "profile:read", "--scope", "profile:write", "--scope",
                      "users:list", "--scope", "contact:read", "--scope", "password:set", "--json", "--data-dir",
                      data_dir});
  if (r.exit_code != 0) throw std::runtime_error("quickblox app create failed: " + r.err);
  const json::object o = json::parse(r.out).as_object();
  return App{o.at("applicationId").as_int64(), std::string(o.at("authKey").as_string()),
             std::string(o.at("authSecret").as_string()), std::string(o.at("apiKey").as_string())};
}

// How to build one POST /session.json.
struct SessionRequest {
  Pairs user;  // {"user[login]", "x"}, ...
  std::int64_t timestamp_offset = 0;
  std::optional<std::int64_t> timestamp;  // fixed, instead of now + offset
  std::string nonce;  // empty: a fresh one
  std::optional<std::string> auth_key, secret, application_id;
  bool json = false;
  bool tamper = false;  // change a parameter after signing
  Headers headers;
};

HttpResponse PostSession(Client& client, const App& app, SessionRequest req) {
  static std::atomic<int> nonces{1};
  if (req.nonce.empty()) req.nonce = std::to_string(::getpid() % 1000 * 100000 + nonces++);
  Pairs pairs = {{"application_id", req.application_id.value_or(std::to_string(app.id))},
                 {"auth_key", req.auth_key.value_or(app.auth_key)},
                 {"nonce", req.nonce},
                 {"timestamp", std::to_string(req.timestamp.value_or(NowSeconds() + req.timestamp_offset))}};
  pairs.insert(pairs.end(), req.user.begin(), req.user.end());
  std::vector<std::string> items;
  for (const auto& [k, v] : pairs) items.push_back(k + "=" + v);
  std::sort(items.begin(), items.end());
  std::string to_sign;
  for (const auto& item : items) to_sign += (to_sign.empty() ? "" : "&") + item;
  const std::string signature = HmacSha1Hex(req.secret.value_or(app.auth_secret), to_sign);
  if (req.tamper) pairs[2].second += "1";
  pairs.emplace_back("signature", signature);
  Headers headers = req.headers;
  std::string body;
  if (req.json) {
    json::object o, user;
    for (const auto& [k, v] : pairs) {
      if (k.starts_with("user[")) user[k.substr(5, k.size() - 6)] = v;
      else if (k == "application_id" || k == "timestamp") o[k] = std::stoll(v);
      else o[k] = v;
    }
    if (!user.empty()) o["user"] = user;
    body = json::serialize(o);
    headers.emplace_back("Content-Type", "application/json");
  } else {
    body = Form(pairs);
    headers.insert(headers.end(), kFormType.begin(), kFormType.end());
  }
  return client.Send("POST", "/session.json", body, headers);
}

// "YYYY-MM-DD HH:MM:SS UTC" -> seconds since the epoch.
std::int64_t ParseExpiration(const std::string& text) {
  std::tm tm{};
  if (text.size() != 23 || text.substr(19) != " UTC") return 0;
  if (::strptime(text.c_str(), "%Y-%m-%d %H:%M:%S", &tm) == nullptr) return 0;
  return static_cast<std::int64_t>(::timegm(&tm));
}

// ---- the shared server ---------------------------------------------------------------

class QuickBloxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    admin_ = InitDataDir(dir_->path());
    app_ = CreateApp(dir_->path());
    std::vector<std::string> args = kFastHashing;
    args.insert(args.end(), {"--signin-max-attempts", "50"});
    server_ = new Server(dir_->path(), args);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
    server_ = nullptr;
    dir_ = nullptr;
  }

  std::string AppToken() {
    auto r = PostSession(client_, app_, {});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().is_object() ? std::string(r.Json().at("session").at("token").as_string()) : "";
  }

  std::string UserToken(const std::string& login, const std::string& password) {
    SessionRequest req;
    req.user = {{"user[login]", login}, {"user[password]", password}};
    auto r = PostSession(client_, app_, req);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().is_object() ? std::string(r.Json().at("session").at("token").as_string()) : "";
  }

  // Creates a user with the API key; returns its wire form.
  json::object NewUser(const std::string& login, Pairs extra = {}, const std::string& password = "Passw0rd!") {
    Pairs pairs = {{"user[login]", login}, {"user[password]", password}};
    pairs.insert(pairs.end(), extra.begin(), extra.end());
    auto r = client_.Send("POST", "/users.json", Form(pairs), Key(app_.api_key));
    EXPECT_EQ(r.status, 201) << r.body;
    return UserOf(r);
  }

  static std::string Path(std::int64_t id) { return "/users/" + std::to_string(id) + ".json"; }

  static TempDir* dir_;
  static std::string admin_;
  static App app_;
  static Server* server_;
  Client client_{server_->base_url()};
};

TempDir* QuickBloxTest::dir_ = nullptr;
std::string QuickBloxTest::admin_;
App QuickBloxTest::app_;
Server* QuickBloxTest::server_ = nullptr;

// ---- applications ----------------------------------------------------------------------

TEST_F(QuickBloxTest, AppCreatePrintsCredentialsAndRefusesAnUnknownEnvironment) {
  EXPECT_GT(app_.id, 0);
  EXPECT_FALSE(app_.auth_key.empty());
  EXPECT_FALSE(app_.auth_secret.empty());
  EXPECT_FALSE(app_.api_key.empty());
  const App second = CreateApp(dir_->path());
  EXPECT_NE(second.id, app_.id);
  EXPECT_NE(second.auth_secret, app_.auth_secret);
  auto r = RunRoster({"quickblox", "app", "create", "--env", "nope", "--json", "--data-dir", dir_->path()});
  EXPECT_NE(r.exit_code, 0);
  // Two applications of one environment share its users.
  const std::int64_t id = NewUser(Unique("shared"))["id"].as_int64();
  EXPECT_EQ(client_.Send("GET", Path(id), "", Key(second.api_key)).status, 200);
}

// ---- POST /session.json ----------------------------------------------------------------

TEST_F(QuickBloxTest, CreatesApplicationSessionsFromFormAndJsonBodies) {
  for (bool as_json : {false, true}) {
    SessionRequest req;
    req.json = as_json;
    auto r = PostSession(client_, app_, req);
    ASSERT_EQ(r.status, 201) << r.body;
    const json::object s = r.Json().at("session").as_object();
    EXPECT_EQ(s.at("application_id").as_int64(), app_.id);
    EXPECT_EQ(s.at("user_id").as_int64(), 0);
    EXPECT_GT(s.at("id").as_int64(), 0);
    EXPECT_FALSE(s.at("token").as_string().empty());
    EXPECT_TRUE(s.contains("_id") && s.contains("nonce") && s.contains("ts") && s.contains("created_at"));
    // Sessions live 2 hours after their last request.
    const std::int64_t expires = ParseExpiration(r.Header("qb-token-expirationdate"));
    EXPECT_NEAR(static_cast<double>(expires), static_cast<double>(NowSeconds() + 7200), 120.0)
        << r.Header("qb-token-expirationdate");
    EXPECT_EQ(client_.Send("GET", "/session.json", "", Qb(std::string(s.at("token").as_string()))).status, 200);
  }
}

TEST_F(QuickBloxTest, CreatesUserSessionsByLoginOrEmailInFormOrJson) {
  const std::string login = Unique("sess");
  const std::int64_t id = NewUser(login, {{"user[email]", login + "@example.com"}})["id"].as_int64();
  struct Case {
    Pairs user;
    bool json;
  };
  for (const Case& c : {Case{{{"user[login]", login}, {"user[password]", "Passw0rd!"}}, false},
                        Case{{{"user[email]", login + "@Example.com"}, {"user[password]", "Passw0rd!"}}, false},
                        Case{{{"user[login]", login}, {"user[password]", "Passw0rd!"}}, true}}) {
    SessionRequest req;
    req.user = c.user;
    req.json = c.json;
    auto r = PostSession(client_, app_, req);
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.Json().at("session").at("user_id").as_int64(), id);
  }
  SessionRequest wrong;
  wrong.user = {{"user[login]", login}, {"user[password]", "wrong-password"}};
  auto r = PostSession(client_, app_, wrong);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Unauthorized");
  SessionRequest nobody;
  nobody.user = {{"user[login]", Unique("ghost")}, {"user[password]", "Passw0rd!"}};
  EXPECT_EQ(PostSession(client_, app_, nobody).status, 401);
  SessionRequest incomplete;
  incomplete.user = {{"user[login]", login}};
  EXPECT_EQ(PostSession(client_, app_, incomplete).status, 401);
}

TEST_F(QuickBloxTest, SessionRejectsBadSignatureAuthKeyApplicationAndMissingParameters) {
  SessionRequest tampered;
  tampered.tamper = true;
  auto r = PostSession(client_, app_, tampered);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(FirstError(r, "base"), "Unexpected signature");

  SessionRequest wrong_secret;
  wrong_secret.secret = "not-the-secret";
  r = PostSession(client_, app_, wrong_secret);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "base"), "Unexpected signature");

  SessionRequest wrong_key;
  wrong_key.auth_key = "not-the-auth-key";
  r = PostSession(client_, app_, wrong_key);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "base"), "Unexpected auth_key");

  SessionRequest unknown_app;
  unknown_app.application_id = "999999";
  r = PostSession(client_, app_, unknown_app);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "base"), "Unknown application");

  // A user's signature covers the password: changing it after signing is refused.
  SessionRequest user;
  user.user = {{"user[login]", "x"}, {"user[password]", "y"}};
  user.tamper = true;
  EXPECT_EQ(PostSession(client_, app_, user).status, 422);

  r = client_.Send("POST", "/session.json", Form({{"application_id", std::to_string(app_.id)}}), kFormType);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "auth_key"), "can't be blank");
  EXPECT_EQ(FirstError(r, "signature"), "can't be blank");
  r = client_.Send("POST", "/session.json", "{not json", {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.Json().at("code").is_null());
}

TEST_F(QuickBloxTest, SessionRejectsTimestampsOutsideTheWindowAndReusedNonces) {
  for (std::int64_t offset : {-2 * 3600, 2 * 3600}) {
    SessionRequest req;
    req.timestamp_offset = offset;
    auto r = PostSession(client_, app_, req);
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(FirstError(r, "base"), "Bad timestamp");
  }
  // The extremes of int64 are refused the same way (no overflow on the way: issue 18).
  for (std::int64_t extreme : {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    SessionRequest req;
    req.timestamp = extreme;
    auto r = PostSession(client_, app_, req);
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(FirstError(r, "base"), "Bad timestamp");
  }
  SessionRequest inside;
  inside.timestamp_offset = -50 * 60;
  EXPECT_EQ(PostSession(client_, app_, inside).status, 201);

  // The same request twice: the replay is refused, and still after the session ended.
  SessionRequest replay;
  replay.nonce = Unique("nonce");
  replay.timestamp = NowSeconds() - 10;
  auto r = PostSession(client_, app_, replay);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string token(r.Json().at("session").at("token").as_string());
  r = PostSession(client_, app_, replay);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(FirstError(r, "base"), "Nonce has already been used");
  ASSERT_EQ(client_.Send("DELETE", "/session.json", "", Qb(token)).status, 200);
  EXPECT_EQ(PostSession(client_, app_, replay).status, 422);
  // The same nonce at another second is another request.
  replay.timestamp = *replay.timestamp - 1;
  EXPECT_EQ(PostSession(client_, app_, replay).status, 201);
  // A user sign-in that failed cannot be replayed either (nor retried with that nonce).
  SessionRequest failed;
  failed.nonce = Unique("nonce");
  failed.timestamp = NowSeconds();
  failed.user = {{"user[login]", Unique("nobody")}, {"user[password]", "Passw0rd!"}};
  EXPECT_EQ(PostSession(client_, app_, failed).status, 401);
  EXPECT_EQ(PostSession(client_, app_, failed).status, 422);
}

TEST_F(QuickBloxTest, SessionCreationIgnoresAStaleToken) {
  SessionRequest req;
  req.headers = {{"QB-Token", "1_deadbeef"}};
  EXPECT_EQ(PostSession(client_, app_, req).status, 201);
}

// ---- GET|DELETE /session.json, POST|DELETE /login.json ----------------------------------

TEST_F(QuickBloxTest, GetAndDeleteSession) {
  const std::string token = AppToken();
  auto r = client_.Send("GET", "/session.json", "", Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("session").at("token").as_string(), token);
  EXPECT_EQ(r.Json().at("session").at("application_id").as_int64(), app_.id);
  EXPECT_NE(ParseExpiration(r.Header("qb-token-expirationdate")), 0);

  r = client_.Send("DELETE", "/session.json", "", Qb(token));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.body.empty());
  r = client_.Send("GET", "/session.json", "", Qb(token));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Required session does not exist");
  EXPECT_EQ(client_.Send("DELETE", "/session.json", "", Qb(token)).status, 401);

  r = client_.Send("GET", "/session.json", "", kFormType);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Token is required");
  // The API key has no session to show.
  EXPECT_EQ(client_.Send("GET", "/session.json", "", Key(app_.api_key)).status, 401);
  // Forged tokens: unknown number, right number with a wrong secret, no separator.
  const std::string number = token.substr(0, token.find('_'));
  for (const std::string& forged : {std::string("99999999_abc"), number + "_" + std::string(64, 'a'), std::string("garbage")})
    EXPECT_EQ(client_.Send("GET", "/session.json", "", Qb(forged)).status, 401) << forged;
}

TEST_F(QuickBloxTest, LoginBindsAUserToTheSameTokenAndLogoutUnbindsIt) {
  const std::string login = Unique("login");
  const auto user = NewUser(login, {{"user[email]", login + "@example.com"}});
  const std::int64_t id = user.at("id").as_int64();
  const std::string token = AppToken();
  // An application session may not change a user.
  auto r = client_.Send("PUT", Path(id), Form({{"user[full_name]", "X"}}), Qb(token));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(FirstError(r, "base"), "Forbidden. Need user.");

  r = client_.Send("POST", "/login.json", Form({{"login", login}, {"password", "wrong-pass"}}), Qb(token));
  EXPECT_EQ(r.status, 401);
  r = client_.Send("POST", "/login.json", Form({{"login", login}}), Qb(token));
  EXPECT_EQ(r.status, 401);
  r = client_.Send("POST", "/login.json", Form({{"login", login}, {"password", "Passw0rd!"}}), Qb(token));
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(IdOf(r), id);
  r = client_.Send("GET", "/session.json", "", Qb(token));
  EXPECT_EQ(r.Json().at("session").at("user_id").as_int64(), id);
  EXPECT_EQ(client_.Send("PUT", Path(id), Form({{"user[full_name]", "Bound"}}), Qb(token)).status, 200);

  r = client_.Send("DELETE", "/login.json", "", Qb(token));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(client_.Send("GET", "/session.json", "", Qb(token)).Json().at("session").at("user_id").as_int64(), 0);
  EXPECT_EQ(client_.Send("PUT", Path(id), Form({{"user[full_name]", "X"}}), Qb(token)).status, 403);
  EXPECT_EQ(client_.Send("GET", Path(id), "", Qb(token)).status, 200);  // still an application session

  // By email, in JSON.
  r = client_.Send("POST", "/login.json", json::serialize(json::object{{"email", login + "@example.com"},
                                                                       {"password", "Passw0rd!"}}),
                   {{"QB-Token", token}});
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(client_.Send("POST", "/login.json", Form({{"login", login}, {"password", "Passw0rd!"}}), kFormType).status,
            401);
  EXPECT_EQ(client_.Send("DELETE", "/login.json", "", kFormType).status, 401);
}

TEST_F(QuickBloxTest, AUserSessionEndsWhenTheUsersPasswordChangesElsewhere) {
  const std::string login = Unique("revoke");
  const std::int64_t id = NewUser(login)["id"].as_int64();
  const std::string token = UserToken(login, "Passw0rd!");
  EXPECT_EQ(client_.Send("GET", Path(id), "", Qb(token)).status, 200);
  auto r = client_.Send("PUT", Path(id), Form({{"user[password]", "An0ther-pass"}}), Key(app_.api_key));
  ASSERT_EQ(r.status, 200) << r.body;
  r = client_.Send("GET", Path(id), "", Qb(token));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Required session does not exist");
}

// ---- rotation and deletion of applications ---------------------------------------------

// `roster quickblox app COMMAND --env default --id APP [extra...] --json`, parsed; fails
// the test on a non-zero exit.
json::object AppCommand(const std::string& data_dir, const std::string& command, const App& app,
                        std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"quickblox", "app", command, "--env", "default", "--id", std::to_string(app.id)};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"--data-dir", data_dir, "--json"});
  auto r = RunRoster(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out).as_object() : json::object{};
}

// QuickBlox's 401 for a session that no longer stands.
void ExpectSessionGone(const HttpResponse& r) {
  EXPECT_EQ(r.status, 401) << r.body;
  ASSERT_TRUE(r.Json().is_object() && r.Json().at("errors").is_array()) << r.body;
  EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Required session does not exist");
}

TEST_F(QuickBloxTest, RotateSecretRefusesOldSignaturesAtOnceAndKeepsSessions) {
  App app = CreateApp(dir_->path());
  const std::string login = Unique("rot");
  const std::int64_t id = NewUser(login)["id"].as_int64();
  auto r = PostSession(client_, app, {});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string app_token(r.Json().at("session").at("token").as_string());
  SessionRequest signed_in;
  signed_in.user = {{"user[login]", login}, {"user[password]", "Passw0rd!"}};
  r = PostSession(client_, app, signed_in);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string user_token(r.Json().at("session").at("token").as_string());

  const json::object rotated = AppCommand(dir_->path(), "rotate-secret", app);
  EXPECT_EQ(rotated.at("applicationId").as_int64(), app.id);
  EXPECT_EQ(rotated.at("authKey").as_string(), app.auth_key);  // the auth key stays
  EXPECT_EQ(rotated.at("sessionsEnded"), false);
  const std::string fresh(rotated.at("authSecret").as_string());
  EXPECT_NE(fresh, app.auth_secret);

  // A signature made with the old secret: QuickBlox's 422.
  r = PostSession(client_, app, {});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(FirstError(r, "base"), "Unexpected signature");
  r = PostSession(client_, app, signed_in);
  EXPECT_EQ(r.status, 422) << r.body;
  // Sessions made before go on until they expire (the default).
  EXPECT_EQ(client_.Send("GET", "/session.json", "", Qb(app_token)).status, 200);
  EXPECT_EQ(client_.Send("PUT", Path(id), Form({{"user[full_name]", "Still in"}}), Qb(user_token)).status, 200);
  // The new secret signs.
  app.auth_secret = fresh;
  r = PostSession(client_, app, signed_in);
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(QuickBloxTest, RotateSecretWithEndSessionsEndsEverySessionOfThatApplicationOnly) {
  App app = CreateApp(dir_->path());
  const App other = CreateApp(dir_->path());
  const std::string login = Unique("end");
  const std::int64_t id = NewUser(login)["id"].as_int64();
  SessionRequest signed_in;
  signed_in.user = {{"user[login]", login}, {"user[password]", "Passw0rd!"}};
  std::vector<std::string> ended, kept;
  for (const SessionRequest& req : {SessionRequest{}, signed_in}) {
    auto r = PostSession(client_, app, req);
    ASSERT_EQ(r.status, 201) << r.body;
    ended.emplace_back(r.Json().at("session").at("token").as_string());
    r = PostSession(client_, other, req);
    ASSERT_EQ(r.status, 201) << r.body;
    kept.emplace_back(r.Json().at("session").at("token").as_string());
  }
  const json::object rotated = AppCommand(dir_->path(), "rotate-secret", app, {"--end-sessions"});
  EXPECT_EQ(rotated.at("sessionsEnded"), true);
  for (const auto& token : ended) {
    ExpectSessionGone(client_.Send("GET", "/session.json", "", Qb(token)));
    ExpectSessionGone(client_.Send("GET", Path(id), "", Qb(token)));
  }
  for (const auto& token : kept) EXPECT_EQ(client_.Send("GET", Path(id), "", Qb(token)).status, 200);
  // A session made with the new secret lives under the new generation.
  app.auth_secret = std::string(rotated.at("authSecret").as_string());
  auto r = PostSession(client_, app, signed_in);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string token(r.Json().at("session").at("token").as_string());
  EXPECT_EQ(client_.Send("PUT", Path(id), Form({{"user[full_name]", "Back"}}), Qb(token)).status, 200);
  // The API key is not a session: untouched.
  EXPECT_EQ(client_.Send("GET", Path(id), "", Key(app.api_key)).status, 200);
}

TEST_F(QuickBloxTest, RotateKeyRefusesTheOldKeyAtOnce) {
  const App app = CreateApp(dir_->path());
  const std::int64_t id = NewUser(Unique("rk"))["id"].as_int64();
  ASSERT_EQ(client_.Send("GET", Path(id), "", Key(app.api_key)).status, 200);
  const json::object rotated = AppCommand(dir_->path(), "rotate-key", app);
  const std::string fresh(rotated.at("apiKey").as_string());
  EXPECT_NE(fresh, app.api_key);
  auto r = client_.Send("GET", Path(id), "", Key(app.api_key));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Unauthorized");
  EXPECT_EQ(client_.Send("PUT", Path(id), Form({{"user[full_name]", "X"}}), Key(app.api_key)).status, 401);
  EXPECT_EQ(client_.Send("PUT", Path(id), Form({{"user[full_name]", "New key"}}), Key(fresh)).status, 200);
  // The old key is revoked for every API too.
  auto keys = RunRoster({"key", "list", "--env", "default", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  bool found = false;
  const json::value listed = json::parse(keys.out);
  for (const auto& k : listed.at("keys").as_array())
    if (k.at("id").as_string() == rotated.at("revokedKeyId").as_string()) found = k.at("revoked").as_bool();
  EXPECT_TRUE(found) << keys.out;
}

TEST_F(QuickBloxTest, RotateKeyKeepsTheKeysScopes) {
  auto made = RunRoster({"quickblox", "app", "create", "--env", "default", "--scope", "profile:read", "--scope",
                         "users:list", "--json", "--data-dir", dir_->path()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const json::object created = json::parse(made.out).as_object();
  App app;
  app.id = created.at("applicationId").as_int64();
  const json::object rotated = AppCommand(dir_->path(), "rotate-key", app);
  EXPECT_EQ(rotated.at("apiKeyScopes"), created.at("apiKeyScopes"));
  EXPECT_EQ(rotated.at("apiKeyScopes").as_array().size(), 2u) << made.out;
  // What the old key could not do, the new one cannot either.
  const std::string fresh(rotated.at("apiKey").as_string());
  EXPECT_EQ(client_.Send("GET", "/users.json", "", Key(fresh)).status, 200);
  const std::int64_t id = NewUser(Unique("scoped"))["id"].as_int64();
  EXPECT_EQ(client_.Send("PUT", Path(id), Form({{"user[full_name]", "X"}}), Key(fresh)).status, 403);
}

TEST_F(QuickBloxTest, DeleteEndsTheApplicationsSessionsAndKeyAtOnce) {
  const App app = CreateApp(dir_->path());
  const std::string login = Unique("del");
  const std::int64_t id = NewUser(login)["id"].as_int64();
  SessionRequest signed_in;
  signed_in.user = {{"user[login]", login}, {"user[password]", "Passw0rd!"}};
  std::vector<std::string> tokens;
  for (const SessionRequest& req : {SessionRequest{}, signed_in}) {
    auto r = PostSession(client_, app, req);
    ASSERT_EQ(r.status, 201) << r.body;
    tokens.emplace_back(r.Json().at("session").at("token").as_string());
  }
  const json::object deleted = AppCommand(dir_->path(), "delete", app);
  EXPECT_EQ(deleted.at("deleted"), true);
  for (const auto& token : tokens) {
    ExpectSessionGone(client_.Send("GET", "/session.json", "", Qb(token)));
    ExpectSessionGone(client_.Send("PUT", Path(id), Form({{"user[full_name]", "X"}}), Qb(token)));
  }
  auto r = client_.Send("GET", Path(id), "", Key(app.api_key));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Unauthorized");
  r = PostSession(client_, app, {});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(FirstError(r, "base"), "Unknown application");
  // The shared application is untouched; the deleted one is gone for every command.
  EXPECT_EQ(client_.Send("GET", Path(id), "", Key(app_.api_key)).status, 200);
  for (const char* command : {"delete", "rotate-secret", "rotate-key"}) {
    auto again = RunRoster({"quickblox", "app", command, "--env", "default", "--id", std::to_string(app.id),
                            "--data-dir", dir_->path()});
    EXPECT_NE(again.exit_code, 0) << command;
    EXPECT_NE(again.err.find("no application"), std::string::npos) << again.err;
  }
}

TEST_F(QuickBloxTest, AppCommandsNameWhatIsWrongAndChangeNothing) {
  ASSERT_EQ(RunRoster({"env", "create", "qb-elsewhere", "--data-dir", dir_->path()}).exit_code, 0);
  auto made = RunRoster({"quickblox", "app", "create", "--env", "qb-elsewhere", "--json", "--data-dir", dir_->path()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string elsewhere = std::to_string(json::parse(made.out).at("applicationId").as_int64());
  const std::string mine = std::to_string(app_.id);
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  for (const Case& c : {Case{{"rotate-secret", "--env", "default", "--id", "abc"}, "--id"},
                        Case{{"rotate-key", "--env", "default", "--id", "-3"}, "--id"},
                        Case{{"delete", "--env", "default", "--id", "0"}, "--id"},
                        Case{{"rotate-secret", "--env", "nope", "--id", mine}, "nope"},
                        Case{{"delete", "--env", "default", "--id", elsewhere}, "no application"},
                        Case{{"rotate-key", "--env", "default"}, "--id"}}) {
    std::vector<std::string> args = {"quickblox", "app"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), {"--data-dir", dir_->path()});
    auto r = RunRoster(args);
    EXPECT_NE(r.exit_code, 0) << c.args[0];
    EXPECT_NE(r.err.find(c.mentions), std::string::npos) << r.err;
  }
  EXPECT_EQ(PostSession(client_, app_, {}).status, 201);
  EXPECT_EQ(client_.Send("GET", "/users.json", "", Key(app_.api_key)).status, 200);
}

// Deactivated or deleted through another API (Catalyze), a user's QuickBlox session ends at once.
TEST_F(QuickBloxTest, AUserDeactivatedOrDeletedElsewhereLosesItsSessionAtOnce) {
  const auto uuid_of = [&](const std::string& login) {
    auto r = client_.Send("POST", "/v2/auth/signin",
                          json::serialize(json::object{{"username", login}, {"password", "Passw0rd!"}}),
                          CatalyzeHeaders(admin_));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().is_object() ? std::string(r.Json().at("usersId").as_string()) : std::string();
  };
  const auto expect_ended = [&](const HttpResponse& r) {
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Required session does not exist");
  };
  const std::string off = Unique("off"), gone = Unique("gone");
  const std::int64_t off_id = NewUser(off, {{"user[email]", off + "@example.com"}})["id"].as_int64();
  const std::int64_t gone_id = NewUser(gone)["id"].as_int64();
  const std::string off_token = UserToken(off, "Passw0rd!"), gone_token = UserToken(gone, "Passw0rd!");
  ASSERT_EQ(client_.Send("GET", Path(off_id), "", Qb(off_token)).status, 200);
  ASSERT_EQ(client_.Send("GET", Path(gone_id), "", Qb(gone_token)).status, 200);
  auto r = client_.Send("PUT", "/v2/users/" + uuid_of(off), R"({"active":false})", CatalyzeHeaders(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  expect_ended(client_.Send("GET", Path(off_id), "", Qb(off_token)));
  EXPECT_EQ(client_.Send("GET", Path(gone_id), "", Qb(gone_token)).status, 200);  // another user's: untouched
  r = client_.Send("DELETE", "/v2/users/" + uuid_of(gone), "", CatalyzeHeaders(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  expect_ended(client_.Send("GET", "/users.json", "", Qb(gone_token)));
}

// ---- callers and permissions -----------------------------------------------------------

TEST_F(QuickBloxTest, ApiKeyActsForTheApplicationAndOtherKeysAreRefused) {
  const std::int64_t id = NewUser(Unique("keyed"))["id"].as_int64();
  EXPECT_EQ(client_.Send("GET", Path(id), "", Key(app_.api_key)).status, 200);
  EXPECT_EQ(client_.Send("PUT", Path(id), Form({{"user[full_name]", "By key"}}), Key(app_.api_key)).status, 200);
  auto r = client_.Send("GET", Path(id), "", Key("not-a-key"));
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.Json().at("errors").is_array());
  // The environment's admin key belongs to no QuickBlox application.
  EXPECT_EQ(client_.Send("GET", Path(id), "", Key(admin_)).status, 401);
  EXPECT_EQ(client_.Send("GET", Path(id), "", {{"Authorization", "Bearer " + app_.api_key}}).status, 401);
  r = client_.Send("GET", Path(id), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Token is required");
  // No session, no expiry header.
  EXPECT_TRUE(client_.Send("GET", Path(id), "", Key(app_.api_key)).Header("qb-token-expirationdate").empty());
}

TEST_F(QuickBloxTest, AUserSessionActsOnlyForItself) {
  const std::string me = Unique("self"), other = Unique("other");
  const std::int64_t my_id = NewUser(me, {{"user[external_user_id]", "31000" + std::to_string(::getpid() % 1000)}})["id"].as_int64();
  const auto them = NewUser(other, {{"user[external_user_id]", "32000" + std::to_string(::getpid() % 1000)}});
  const std::int64_t their_id = them.at("id").as_int64();
  const std::string token = UserToken(me, "Passw0rd!");
  EXPECT_EQ(client_.Send("GET", Path(their_id), "", Qb(token)).status, 200);  // reading is open
  auto r = client_.Send("PUT", Path(their_id), Form({{"user[full_name]", "Hijack"}}), Qb(token));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(FirstError(r, "base"), "You don't have appropriate permissions to perform this operation");
  EXPECT_EQ(client_.Send("DELETE", Path(their_id), "", Qb(token)).status, 403);
  const std::string their_external = std::to_string(them.at("external_user_id").as_int64());
  EXPECT_EQ(client_.Send("DELETE", "/users/external/" + their_external + ".json", "", Qb(token)).status, 403);
  r = client_.Send("PUT", Path(my_id), Form({{"user[full_name]", "Me Myself"}}), Qb(token));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(UserOf(r).at("full_name").as_string(), "Me Myself");
  EXPECT_FALSE(r.Header("qb-token-expirationdate").empty());
  EXPECT_EQ(client_.Send("DELETE", Path(my_id), "", Qb(token)).status, 200);
  EXPECT_EQ(client_.Send("GET", Path(their_id), "", Key(app_.api_key)).status, 200);
}

// ---- POST /users.json -----------------------------------------------------------------

TEST_F(QuickBloxTest, SignUpWithAnApplicationSessionInFormOrJson) {
  const std::string token = AppToken();
  const std::string login = Unique("signup");
  const std::string external = std::to_string(100000 + ::getpid() % 100000);
  auto r = client_.Send("POST", "/users.json",
                        Form({{"user[custom_data]", R"({"plan":"free"})"}, {"user[email]", login + "@example.com"},
                              {"user[external_user_id]", external}, {"user[facebook_id]", "8887366" + external},
                              {"user[full_name]", "Test User  "}, {"user[login]", login + " "},
                              {"user[password]", "Passw0rd! "}, {"user[phone]", "+15550001234"},
                              {"user[tag_list]", "alpha, beta"}, {"user[website]", "https://example.com/x"},
                              {"user[blob_id]", "12"}}),
                        Qb(token));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_FALSE(r.Header("qb-token-expirationdate").empty());
  json::object u = UserOf(r);
  EXPECT_GT(u.at("id").as_int64(), 0);
  EXPECT_EQ(u.at("login").as_string(), login);  // trailing whitespace trimmed
  EXPECT_EQ(u.at("full_name").as_string(), "Test User");
  EXPECT_EQ(u.at("email").as_string(), login + "@example.com");
  EXPECT_EQ(u.at("external_user_id").as_int64(), std::stoll(external));
  EXPECT_EQ(u.at("facebook_id").as_string(), "8887366" + external);
  EXPECT_EQ(u.at("phone").as_string(), "+15550001234");
  EXPECT_EQ(u.at("website").as_string(), "https://example.com/x");
  EXPECT_EQ(u.at("custom_data").as_string(), R"({"plan":"free"})");
  EXPECT_EQ(u.at("user_tags").as_string(), "alpha,beta");
  EXPECT_EQ(u.at("blob_id").as_int64(), 12);
  EXPECT_TRUE(u.at("last_request_at").is_null());
  EXPECT_FALSE(u.contains("password"));
  // The password keeps its trailing space.
  SessionRequest req;
  req.user = {{"user[login]", login}, {"user[password]", "Passw0rd! "}};
  EXPECT_EQ(PostSession(client_, app_, req).status, 201);

  const std::string json_login = Unique("json");
  r = client_.Send("POST", "/users.json",
                   json::serialize(json::object{{"user", {{"login", json_login},
                                                          {"password", "Passw0rd!"},
                                                          {"external_user_id", 1236672 + ::getpid() % 1000},
                                                          {"tag_list", "marketing,seo"}}}}),
                   Qb(token, false));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(UserOf(r).at("login").as_string(), json_login);
  EXPECT_EQ(UserOf(r).at("user_tags").as_string(), "marketing,seo");
  EXPECT_TRUE(UserOf(r).at("external_user_id").is_int64());
}

TEST_F(QuickBloxTest, SignUpWithAnEmailOnly) {
  const std::string email = Unique("mailonly") + "@example.com";
  auto r = client_.Send("POST", "/users.json", Form({{"user[email]", email}, {"user[password]", "Passw0rd!"}}),
                        Key(app_.api_key));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(UserOf(r).at("login").is_null());
  SessionRequest req;
  req.user = {{"user[email]", email}, {"user[password]", "Passw0rd!"}};
  auto s = PostSession(client_, app_, req);
  ASSERT_EQ(s.status, 201) << s.body;
  EXPECT_EQ(s.Json().at("session").at("user_id").as_int64(), IdOf(r));
  // Its email is taken, for a login and for an email alike.
  r = client_.Send("POST", "/users.json", Form({{"user[email]", email}, {"user[password]", "Passw0rd!"}}),
                   Key(app_.api_key));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "email"), "has already been taken");
}

TEST_F(QuickBloxTest, SignUpAnswersNoDataAndValidationErrorsInQuickBloxShapes) {
  for (const std::string& body : {std::string(""), std::string("other=1"), std::string("user=")}) {
    auto r = client_.Send("POST", "/users.json", body, Key(app_.api_key));
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    EXPECT_EQ(r.body, R"({"code":null,"message":"No data was provided"})");
  }
  auto r = client_.Send("POST", "/users.json", R"({"user":{}})", Key(app_.api_key, false));
  EXPECT_EQ(r.status, 400);
  r = client_.Send("POST", "/users.json", "user[login", Key(app_.api_key));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.Json().at("code").is_null());

  r = client_.Send("POST", "/users.json",
                   Form({{"user[login]", Unique("bad")}, {"user[password]", "short"}, {"user[email]", "nope"},
                         {"user[full_name]", std::string(201, 'n')}, {"user[phone]", "call me"},
                         {"user[external_user_id]", "4294967296"}, {"user[facebook_id]", "zz-top"},
                         {"user[tag_list]", "a,b,c,d,e,f"}}),
                   Key(app_.api_key));
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(FirstError(r, "password"), "is too short (minimum is 8 characters)");
  EXPECT_EQ(FirstError(r, "email"), "should look like an email address");
  EXPECT_EQ(FirstError(r, "full_name"), "is too long (maximum is 200 characters)");
  EXPECT_EQ(FirstError(r, "phone"), "is not a number");
  EXPECT_EQ(FirstError(r, "external_user_id"), "must be less than 4 bytes");
  EXPECT_EQ(FirstError(r, "facebook_id"), "should be hexadecimal or decimal number");
  EXPECT_TRUE(Errors(r).contains("tag_list"));

  r = client_.Send("POST", "/users.json", Form({{"user[full_name]", "No Login"}, {"user[password]", "Passw0rd!"}}),
                   Key(app_.api_key));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "base"), "Login or email required");
  r = client_.Send("POST", "/users.json", Form({{"user[login]", Unique("nopw")}}), Key(app_.api_key));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "password"), "can't be blank");
}

TEST_F(QuickBloxTest, SignUpRefusesTakenLoginEmailExternalIdAndFacebookId) {
  const std::string login = Unique("taken");
  const std::string external = std::to_string(200000 + ::getpid() % 100000);
  const std::string facebook = "abc" + external;
  NewUser(login, {{"user[email]", login + "@example.com"},
                  {"user[external_user_id]", external},
                  {"user[facebook_id]", facebook}});
  // A form that gives one key twice is malformed.
  auto r = client_.Send("POST", "/users.json",
                        "user[login]=" + Unique("twice") + "&user[password]=Passw0rd!&user[email]=a%40b.co&user[email]=c%40d.co",
                        Key(app_.api_key));
  EXPECT_EQ(r.status, 400) << r.body;
  // Logins compare case-insensitively, emails too.
  r = client_.Send("POST", "/users.json",
                   Form({{"user[login]", "T" + login.substr(1)},
                         {"user[password]", "Passw0rd!"},
                         {"user[email]", login + "@EXAMPLE.com"},
                         {"user[external_user_id]", external},
                         {"user[facebook_id]", facebook}}),
                   Key(app_.api_key));
  ASSERT_EQ(r.status, 422) << r.body;
  for (const char* field : {"login", "email", "external_user_id", "facebook_id"})
    EXPECT_EQ(FirstError(r, field), "has already been taken") << field;
  // One at a time, each is still refused.
  for (const auto& [field, value] : Pairs{{"user[email]", login + "@example.com"},
                                          {"user[external_user_id]", external},
                                          {"user[facebook_id]", facebook}}) {
    r = client_.Send("POST", "/users.json",
                     Form({{"user[login]", Unique("fresh")}, {"user[password]", "Passw0rd!"}, {field, value}}),
                     Key(app_.api_key));
    EXPECT_EQ(r.status, 422) << field << ": " << r.body;
  }
}

// ---- GET|PUT|DELETE /users/{id}.json -----------------------------------------------------

TEST_F(QuickBloxTest, GetUserById) {
  const std::string login = Unique("get");
  const std::int64_t id = NewUser(login)["id"].as_int64();
  const std::string token = AppToken();
  auto r = client_.Send("GET", Path(id) + "?", "", Qb(token));  // the SDK's trailing '?'
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(UserOf(r).at("login").as_string(), login);
  for (const std::string& path : {std::string("/users/999999999.json"), std::string("/users/abc.json"),
                                  std::string("/users/0.json"), std::string("/users/-1.json")}) {
    r = client_.Send("GET", path, "", Qb(token));
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body, R"({"errors":{"base":["Entity you are looking for was not found."]}})");
  }
}

TEST_F(QuickBloxTest, UpdateUserInFormOrJsonAndRefuseTakenValues) {
  const std::string login = Unique("upd");
  const std::int64_t id = NewUser(login, {{"user[tag_list]", "a,b"}, {"user[phone]", "+15550001111"}})["id"].as_int64();
  const std::string other = Unique("updother");
  const std::string other_external = std::to_string(300000 + ::getpid() % 100000);
  NewUser(other, {{"user[email]", other + "@example.com"}, {"user[external_user_id]", other_external}});
  const std::string token = UserToken(login, "Passw0rd!");

  auto r = client_.Send("PUT", Path(id), Form({{"user[full_name]", "New Name"}, {"user[tag_list]", "gamma"},
                                               {"user[website]", "https://example.org/x"}, {"user[phone]", ""}}),
                        Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  json::object u = UserOf(r);
  EXPECT_EQ(u.at("full_name").as_string(), "New Name");
  EXPECT_EQ(u.at("user_tags").as_string(), "gamma");
  EXPECT_EQ(u.at("website").as_string(), "https://example.org/x");
  EXPECT_TRUE(u.at("phone").is_null());
  EXPECT_EQ(u.at("login").as_string(), login);

  r = client_.Send("PUT", Path(id), json::serialize(json::object{{"user", {{"custom_data", "json body"}, {"blob_id", 7}}}}),
                   Qb(token, false));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(UserOf(r).at("custom_data").as_string(), "json body");
  EXPECT_EQ(UserOf(r).at("full_name").as_string(), "New Name");

  r = client_.Send("PUT", Path(id), Form({{"user[email]", other + "@example.com"}}), Qb(token));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "email"), "has already been taken");
  r = client_.Send("PUT", Path(id), Form({{"user[external_user_id]", other_external}}), Qb(token));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "external_user_id"), "has already been taken");
  r = client_.Send("PUT", Path(id), Form({{"user[login]", other}}), Qb(token));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "login"), "has already been taken");
  r = client_.Send("PUT", Path(id), Form({{"user[email]", "bad"}}), Qb(token));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "email"), "should look like an email address");
  EXPECT_EQ(client_.Send("PUT", Path(id), "", Qb(token)).status, 400);
  EXPECT_EQ(client_.Send("PUT", "/users/999999999.json", Form({{"user[full_name]", "x"}}), Key(app_.api_key)).status,
            404);

  // A new login and a new external id; the old external id is free again.
  const std::string renamed = Unique("renamed");
  const std::string external = std::to_string(400000 + ::getpid() % 100000);
  r = client_.Send("PUT", Path(id), Form({{"user[login]", renamed}, {"user[external_user_id]", external}}), Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(UserOf(r).at("login").as_string(), renamed);
  EXPECT_EQ(client_.Send("GET", "/users/external/" + external + ".json", "", Qb(token)).status, 200);
  r = client_.Send("PUT", Path(id), Form({{"user[external_user_id]", ""}}), Qb(token));
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(UserOf(r).at("external_user_id").is_null());
  EXPECT_EQ(client_.Send("GET", "/users/external/" + external + ".json", "", Qb(token)).status, 404);
  NewUser(Unique("reuse"), {{"user[external_user_id]", external}});
}

TEST_F(QuickBloxTest, APasswordChangeByTheUserNeedsTheOldPassword) {
  const std::string login = Unique("pw");
  const std::int64_t id = NewUser(login)["id"].as_int64();
  const std::string token = UserToken(login, "Passw0rd!");
  const std::string other_token = UserToken(login, "Passw0rd!");

  auto r = client_.Send("PUT", Path(id), Form({{"user[password]", "N3w-Passw0rd"}}), Qb(token));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "old_password"), "can't be blank");
  r = client_.Send("PUT", Path(id), Form({{"user[old_password]", "wrong-one"}, {"user[password]", "N3w-Passw0rd"}}),
                   Qb(token));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "old_password"), "is incorrect");
  r = client_.Send("PUT", Path(id), Form({{"user[old_password]", "Passw0rd!"}, {"user[password]", "short"}}), Qb(token));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "password"), "is too short (minimum is 8 characters)");
  r = client_.Send("PUT", Path(id), Form({{"user[old_password]", "Passw0rd!"}, {"user[password]", "N3w-Passw0rd"}}),
                   Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  // The session that changed it goes on; the user's other sessions end.
  EXPECT_EQ(client_.Send("PUT", Path(id), Form({{"user[full_name]", "Still me"}}), Qb(token)).status, 200);
  EXPECT_EQ(client_.Send("GET", Path(id), "", Qb(other_token)).status, 401);
  r = client_.Send("POST", "/login.json", Form({{"login", login}, {"password", "Passw0rd!"}}), Qb(token));
  EXPECT_EQ(r.status, 401);
  EXPECT_FALSE(UserToken(login, "N3w-Passw0rd").empty());
  // The API key sets a password without the old one.
  r = client_.Send("PUT", Path(id), Form({{"user[password]", "Th1rd-passw0rd"}}), Key(app_.api_key));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(UserToken(login, "Th1rd-passw0rd").empty());
}

TEST_F(QuickBloxTest, DeleteUserAnswers200AndFreesItsValues) {
  const std::string login = Unique("del");
  const std::string external = std::to_string(500000 + ::getpid() % 100000);
  const std::int64_t id = NewUser(login, {{"user[external_user_id]", external}, {"user[email]", login + "@example.com"}})["id"].as_int64();
  auto r = client_.Send("DELETE", Path(id), "", Key(app_.api_key));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(client_.Send("GET", Path(id), "", Key(app_.api_key)).status, 404);
  EXPECT_EQ(client_.Send("DELETE", Path(id), "", Key(app_.api_key)).status, 404);
  const std::string token = AppToken();
  EXPECT_EQ(client_.Send("DELETE", Path(id), "", Qb(token)).status, 404);
  NewUser(login, {{"user[external_user_id]", external}, {"user[email]", login + "@example.com"}});
}

// ---- lists and lookups -----------------------------------------------------------------

TEST_F(QuickBloxTest, ListUsersWithPagesFiltersAndOrder) {
  const std::string tag = Unique("l");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(NewUser(tag + "_" + std::to_string(i), {{"user[full_name]", "Lister " + tag}})["id"].as_int64());
  const std::string token = AppToken();

  auto r = client_.Send("GET", "/users.json?", "", Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  json::object page = r.Json().as_object();
  EXPECT_EQ(page.at("current_page").as_int64(), 1);
  EXPECT_EQ(page.at("per_page").as_int64(), 10);
  EXPECT_GE(page.at("total_entries").as_int64(), 3);

  r = client_.Send("GET", "/users.json?filter[]=string%20login%20eq%20" + tag + "_1&page=1&per_page=10", "", Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  page = r.Json().as_object();
  EXPECT_EQ(page.at("total_entries").as_int64(), 1);
  ASSERT_EQ(page.at("items").as_array().size(), 1u);
  EXPECT_EQ(page.at("items").as_array()[0].at("user").at("id").as_int64(), ids[1]);

  // The SDK's merged list of filters, and an order.
  const std::string in = std::to_string(ids[0]) + "%2C" + std::to_string(ids[2]);
  r = client_.Send("GET", "/users.json?filter[]=number%20id%20in%20" + in + "%2Cstring%20full_name%20eq%20Lister%20" +
                              tag + "&order=desc%20string%20id",
                   "", Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  page = r.Json().as_object();
  ASSERT_EQ(page.at("items").as_array().size(), 2u);
  EXPECT_EQ(page.at("items").as_array()[0].at("user").at("id").as_int64(), ids[2]);
  EXPECT_EQ(page.at("items").as_array()[1].at("user").at("id").as_int64(), ids[0]);

  // Pages of one, past the end, and a capped per_page.
  const std::string by_name = "filter[]=string%20full_name%20eq%20Lister%20" + tag;
  r = client_.Send("GET", "/users.json?" + by_name + "&page=2&per_page=1&order=asc%20string%20id", "", Qb(token));
  page = r.Json().as_object();
  EXPECT_EQ(page.at("current_page").as_int64(), 2);
  EXPECT_EQ(page.at("total_entries").as_int64(), 3);
  ASSERT_EQ(page.at("items").as_array().size(), 1u);
  EXPECT_EQ(page.at("items").as_array()[0].at("user").at("id").as_int64(), ids[1]);
  r = client_.Send("GET", "/users.json?" + by_name + "&page=9", "", Qb(token));
  EXPECT_TRUE(r.Json().at("items").as_array().empty());
  r = client_.Send("GET", "/users.json?per_page=1000", "", Qb(token));
  EXPECT_EQ(r.Json().at("per_page").as_int64(), 100);
  // Dates in the SDK's "string" type, and filters as separate filter[] values.
  r = client_.Send("GET", "/users.json?filter[]=string%20created_at%20gt%202020-01-01T00%3A00%3A00Z&" + by_name, "",
                   Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("total_entries").as_int64(), 3);

  for (const std::string& bad : {std::string("filter[]=string%20login%20like%20x"), std::string("filter[]=number%20id%20eq%20abc"),
                                 std::string("order=sideways%20id")}) {
    r = client_.Send("GET", "/users.json?" + bad, "", Qb(token));
    EXPECT_EQ(r.status, 422) << bad;
    EXPECT_FALSE(Errors(r).empty()) << r.body;
  }
}

TEST_F(QuickBloxTest, LookupsByLoginEmailFacebookIdFullNameTagsAndPhone) {
  const std::string login = Unique("look");
  const std::int64_t id = NewUser(login, {{"user[email]", login + "@example.com"},
                                          {"user[facebook_id]", "1234" + std::to_string(::getpid())},
                                          {"user[full_name]", "Lookup Person " + login},
                                          {"user[tag_list]", login + "_t1," + login + "_t2"},
                                          {"user[phone]", "+1555" + std::to_string(::getpid())}})["id"].as_int64();
  const std::string token = AppToken();
  auto r = client_.Send("GET", "/users/by_login.json?login=" + login, "", Qb(token));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(IdOf(r), id);
  EXPECT_EQ(client_.Send("GET", "/users/by_login.json?login=" + Unique("nobody"), "", Qb(token)).status, 404);
  r = client_.Send("GET", "/users/by_email.json?email=" + Encode(login + "@EXAMPLE.com"), "", Qb(token));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(IdOf(r), id);
  EXPECT_EQ(client_.Send("GET", "/users/by_email.json?email=nobody%40example.com", "", Qb(token)).status, 404);
  r = client_.Send("GET", "/users/by_facebook_id.json?facebook_id=1234" + std::to_string(::getpid()), "", Qb(token));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(IdOf(r), id);
  EXPECT_EQ(client_.Send("GET", "/users/by_facebook_id.json?facebook_id=999", "", Qb(token)).status, 404);

  r = client_.Send("GET", "/users/by_full_name.json?full_name=" + Encode("person " + login) + "&page=1&per_page=5", "",
                   Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("total_entries").as_int64(), 1);
  EXPECT_EQ(r.Json().at("per_page").as_int64(), 5);
  EXPECT_EQ(client_.Send("GET", "/users/by_full_name.json", "", Qb(token)).status, 422);

  r = client_.Send("GET", "/users/by_tags.json?tags[]=" + login + "_t2%2Cnone", "", Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("total_entries").as_int64(), 1);
  EXPECT_EQ(r.Json().at("items").as_array()[0].at("user").at("id").as_int64(), id);
  r = client_.Send("GET", "/users/by_tags.json?tags=" + login + "_t1", "", Qb(token));
  EXPECT_EQ(r.Json().at("total_entries").as_int64(), 1);
  r = client_.Send("GET", "/users/by_tags.json?tags=nothing-" + login, "", Qb(token));
  EXPECT_EQ(r.Json().at("total_entries").as_int64(), 0);
  EXPECT_EQ(client_.Send("GET", "/users/by_tags.json", "", Qb(token)).status, 422);

  r = client_.Send("GET", "/users/phone.json?phone=" + Encode("+1555" + std::to_string(::getpid())), "", Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(r.Json().at("total_entries").as_int64(), 1);
  EXPECT_EQ(client_.Send("GET", "/users/by_login.json?login=" + login, "").status, 401);
}

TEST_F(QuickBloxTest, GetAndDeleteByExternalId) {
  const std::string login = Unique("ext");
  const std::string external = std::to_string(600000 + ::getpid() % 100000);
  const std::int64_t id = NewUser(login, {{"user[external_user_id]", external}})["id"].as_int64();
  const std::string token = AppToken();
  auto r = client_.Send("GET", "/users/external/" + external + ".json?", "", Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IdOf(r), id);
  EXPECT_EQ(client_.Send("GET", "/users/external/999999.json", "", Qb(token)).status, 404);
  EXPECT_EQ(client_.Send("GET", "/users/external/abc.json", "", Qb(token)).status, 404);
  r = client_.Send("DELETE", "/users/external/" + external + ".json", "", Qb(token));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(FirstError(r, "base"), "Forbidden. Need user.");
  const std::string user_token = UserToken(login, "Passw0rd!");
  r = client_.Send("DELETE", "/users/external/" + external + ".json", "", Qb(user_token));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(client_.Send("GET", Path(id), "", Qb(token)).status, 404);
  EXPECT_EQ(client_.Send("DELETE", "/users/external/" + external + ".json", "", Key(app_.api_key)).status, 404);
}

// ---- transport errors in QuickBlox's shape ----------------------------------------------

// Issue 15: every path is served without `.json` too, and last_request_at is kept (set at
// sign-in), filterable and orderable, without moving updated_at.
TEST_F(QuickBloxTest, PathsWithoutJsonAndLastRequestAt) {
  const auto user = NewUser(Unique("nojson"), {{"user[facebook_id]", "10"}});
  const std::int64_t id = user.at("id").as_int64();
  EXPECT_TRUE(user.at("last_request_at").is_null());  // never signed in
  auto r = client_.Send("GET", "/users/" + std::to_string(id), "", Key(app_.api_key));
  ASSERT_EQ(r.status, 200) << r.body;
  r = client_.Send("GET", "/users/by_login?login=" + std::string(user.at("login").as_string()), "", Key(app_.api_key));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(UserOf(r).at("id"), id);
  r = client_.Send("GET", "/users?per_page=1", "", Key(app_.api_key));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json().at("items").is_array());
  const std::string token = UserToken(std::string(user.at("login").as_string()), "Passw0rd!");
  r = client_.Send("GET", "/session", "", Qb(token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("session").at("user_id"), id);
  r = client_.Send("GET", Path(id), "", Key(app_.api_key));
  const json::object signed_in = UserOf(r);
  ASSERT_TRUE(signed_in.at("last_request_at").is_string()) << r.body;
  EXPECT_EQ(signed_in.at("updated_at"), user.at("updated_at"));  // bookkeeping, not a change
  // Filter and order on it; number comparisons on facebook_id compare numbers.
  const std::string login(user.at("login").as_string());
  r = client_.Send("GET", "/users.json?" + Form({{"filter[]", "string login eq " + login},
                                                {"filter[]", "date last_request_at ge 2020-01-01"},
                                                {"filter[]", "number facebook_id gt 9"},
                                                {"order", "desc date last_request_at"}}),
                   "", Key(app_.api_key));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("total_entries"), 1);
  ASSERT_EQ(client_.Send("DELETE", "/session", "", Qb(token)).status, 200);
  EXPECT_EQ(client_.Send("GET", "/session", "", Qb(token)).status, 401);
}

TEST_F(QuickBloxTest, UnknownPathsAndMethodsAnswerJson) {
  auto r = client_.Send("GET", "/users/a/b/c.json", "", Key(app_.api_key));
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.Json().at("errors").is_object());
  r = client_.Send("PUT", "/session.json", "", Key(app_.api_key));
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(r.Json().at("errors").at("base").is_array());
  r = client_.Send("PATCH", "/users.json", "", Key(app_.api_key));
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(r.Json().is_object());
}

// ---- one directory: QuickBlox and Catalyze see the same users -----------------------------

TEST_F(QuickBloxTest, UsersCreatedHereAreReadByCatalyzeAndTheOtherWayRound) {
  // QuickBlox -> Catalyze: sign in through Catalyze to learn the UUID, then read it.
  const std::string login = Unique("cross");
  const std::int64_t qb_id = NewUser(login, {{"user[email]", login + "@example.com"},
                                             {"user[full_name]", "Cross Dialect"},
                                             {"user[phone]", "+15550009999"}})["id"].as_int64();
  auto r = client_.Send("POST", "/v2/auth/signin",
                        json::serialize(json::object{{"username", login}, {"password", "Passw0rd!"}}),
                        CatalyzeHeaders(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string uuid(r.Json().at("usersId").as_string());
  r = client_.Send("GET", "/v2/users/" + uuid, "", CatalyzeHeaders(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("email").at("primary").as_string(), login + "@example.com");
  EXPECT_EQ(r.Json().at("phoneNumber").at("mobile").as_string(), "+15550009999");
  // A Catalyze change shows in QuickBlox.
  r = client_.Send("PUT", "/v2/users/" + uuid, R"({"email":{"primary":"changed-)" + login + R"(@example.com"}})",
                   CatalyzeHeaders(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  r = client_.Send("GET", Path(qb_id), "", Key(app_.api_key));
  EXPECT_EQ(UserOf(r).at("email").as_string(), "changed-" + login + "@example.com");

  // Catalyze -> QuickBlox.
  const std::string cat = Unique("catalyze");
  r = client_.Send("POST", "/v2/users",
                   json::serialize(json::object{{"username", cat},
                                                {"password", "Passw0rd!"},
                                                {"email", {{"primary", cat + "@example.com"}}},
                                                {"name", {{"firstName", "Cat"}, {"lastName", "Alyze"}}}}),
                   CatalyzeHeaders(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string cat_uuid(r.Json().at("usersId").as_string());
  r = client_.Send("GET", "/users/by_login.json?login=" + cat, "", Key(app_.api_key));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::int64_t cat_id = IdOf(r);
  r = client_.Send("GET", Path(cat_id), "", Key(app_.api_key));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(UserOf(r).at("full_name").as_string(), "Cat Alyze");
  EXPECT_EQ(UserOf(r).at("email").as_string(), cat + "@example.com");
  // Its email counts for QuickBlox uniqueness too.
  r = client_.Send("POST", "/users.json",
                   Form({{"user[login]", Unique("dup")}, {"user[password]", "Passw0rd!"}, {"user[email]", cat + "@example.com"}}),
                   Key(app_.api_key));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FirstError(r, "email"), "has already been taken");
  // A QuickBlox change shows in Catalyze; QuickBlox-only fields do not disturb it.
  r = client_.Send("PUT", Path(cat_id), Form({{"user[website]", "https://cat.example"}, {"user[phone]", "+15550002222"}}),
                   Key(app_.api_key));
  ASSERT_EQ(r.status, 200) << r.body;
  r = client_.Send("GET", "/v2/users/" + cat_uuid, "", CatalyzeHeaders(admin_));
  EXPECT_EQ(r.Json().at("name").at("firstName").as_string(), "Cat");
  EXPECT_EQ(r.Json().at("phoneNumber").at("mobile").as_string(), "+15550002222");

  // A QuickBlox user deleted through Catalyze frees its external id here.
  const std::string external = std::to_string(700000 + ::getpid() % 100000);
  const std::string gone = Unique("gone");
  NewUser(gone, {{"user[external_user_id]", external}});
  r = client_.Send("POST", "/v2/auth/signin", json::serialize(json::object{{"username", gone}, {"password", "Passw0rd!"}}),
                   CatalyzeHeaders(admin_));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(client_.Send("DELETE", "/v2/users/" + std::string(r.Json().at("usersId").as_string()), "",
                         CatalyzeHeaders(admin_)).status,
            200);
  EXPECT_EQ(client_.Send("GET", "/users/external/" + external + ".json", "", Key(app_.api_key)).status, 404);
  NewUser(Unique("heir"), {{"user[external_user_id]", external}});
}

// ---- password reset ------------------------------------------------------------------------

TEST(QuickBloxResetTest, ResetMailsATokenThatSetsANewPasswordOnce) {
  TempDir dir, mail_dir;
  const std::string admin = InitDataDir(dir.path());
  const App app = CreateApp(dir.path());
  SmtpSink sink(mail_dir.path());
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--smtp-url", sink.url(), "--smtp-from", "roster@example.test"});
  Server server(dir.path(), args);
  Client client(server.base_url());
  const std::string login = "resetme";
  auto r = client.Send("POST", "/users.json",
                       Form({{"user[login]", login}, {"user[password]", "Passw0rd!"}, {"user[email]", "resetme@example.com"}}),
                       Key(app.api_key));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string token = [&] {
    auto s = PostSession(client, app, {});
    return std::string(s.Json().at("session").at("token").as_string());
  }();
  // The same answer whether or not the address is known.
  auto unknown = client.Send("GET", "/users/password/reset.json?email=nobody%40example.com", "", Qb(token));
  auto known = client.Send("GET", "/users/password/reset.json?email=resetme%40example.com", "", Qb(token));
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(known.status, 200);
  EXPECT_EQ(unknown.body, known.body);
  EXPECT_EQ(client.Send("GET", "/users/password/reset.json", "", Qb(token)).status, 422);
  EXPECT_EQ(client.Send("GET", "/users/password/reset.json?email=a%40b.c", "").status, 401);

  const auto messages = sink.WaitForMessages(1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("resetme@example.com"), std::string::npos);
  std::smatch m;
  static const std::regex hex64("[0-9a-f]{64}");
  const std::string reset_token = std::regex_search(messages[0], m, hex64) ? m.str() : std::string();
  ASSERT_EQ(reset_token.size(), 64u) << messages[0];

  r = client.Send("POST", "/users/password/reset.json", Form({{"token", reset_token}, {"password", "short"}}), Qb(token));
  EXPECT_EQ(r.status, 422);
  r = client.Send("POST", "/users/password/reset.json", Form({{"token", std::string(64, 'a')}, {"password", "Fresh-passw0rd"}}),
                  Qb(token));
  EXPECT_EQ(r.status, 422);
  r = client.Send("POST", "/users/password/reset.json", Form({{"token", reset_token}, {"password", "Fresh-passw0rd"}}),
                  Qb(token));
  EXPECT_EQ(r.status, 200) << r.body;
  r = client.Send("POST", "/users/password/reset.json", Form({{"token", reset_token}, {"password", "Again-passw0rd"}}),
                  Qb(token));
  EXPECT_EQ(r.status, 422);
  SessionRequest req;
  req.user = {{"user[login]", login}, {"user[password]", "Fresh-passw0rd"}};
  EXPECT_EQ(PostSession(client, app, req).status, 201);
  (void)admin;
}

// Issue 15: the reset mail links to the reset page (src/dialects/pages/), QuickBlox's own
// web page's stand-in; it applies QuickBlox's password rule before spending the token.
TEST(QuickBloxResetTest, TheMailedLinkOpensTheResetPage) {
  TempDir dir, mail_dir;
  InitDataDir(dir.path());
  const App app = CreateApp(dir.path());
  SmtpSink sink(mail_dir.path());
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--smtp-url", sink.url(), "--smtp-from", "roster@example.test", "--public-url",
                           "https://id.example.test/"});
  Server server(dir.path(), args);
  Client client(server.base_url());
  auto r = client.Send("POST", "/users.json",
                       Form({{"user[login]", "paged"}, {"user[password]", "Passw0rd!"}, {"user[email]", "paged@example.com"}}),
                       Key(app.api_key));
  ASSERT_EQ(r.status, 201) << r.body;
  // Without .json, as QuickBlox serves it too.
  ASSERT_EQ(client.Send("GET", "/users/password/reset?email=paged%40example.com", "", Key(app.api_key)).status, 200);
  const auto messages = sink.WaitForMessages(1);
  ASSERT_EQ(messages.size(), 1u);
  std::smatch m;
  static const std::regex link("https://id\\.example\\.test(/pages/reset/quickblox\\?env=[0-9a-f-]+&token=[0-9a-f]{64})");
  ASSERT_TRUE(std::regex_search(messages[0], m, link)) << messages[0];
  auto page = client.Send("GET", m[1].str());
  ASSERT_EQ(page.status, 200) << page.body;
  std::smatch env, token;
  ASSERT_TRUE(std::regex_search(page.body, env, std::regex("name=\"env\" value=\"([^\"]+)\"")));
  ASSERT_TRUE(std::regex_search(page.body, token, std::regex("name=\"token\" value=\"([0-9a-f]{64})\"")));
  const Headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  const auto post = [&](const std::string& password) {
    return client.Send("POST", "/pages/reset/quickblox",
                       "env=" + env[1].str() + "&token=" + token[1].str() + "&password=" + password + "&confirm=" + password,
                       form);
  };
  EXPECT_EQ(post("short").status, 400);  // QuickBlox's 8 characters, before the token is spent
  auto done = post("Fresh-passw0rd");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(post("Other-passw0rd").status, 400);  // once
  SessionRequest req;
  req.user = {{"user[login]", "paged"}, {"user[password]", "Fresh-passw0rd"}};
  EXPECT_EQ(PostSession(client, app, req).status, 201);
}

// ---- session expiry --------------------------------------------------------------------------

// The 2-hour idle expiry cannot be waited for here; the expiry header is checked above.
// A user session also ends with its UserService session, whose idle timeout the server
// configures: with one second, a QuickBlox user session ends after a second of quiet.
TEST(QuickBloxExpiryTest, AnIdleUserSessionEnds) {
  TempDir dir;
  InitDataDir(dir.path());
  const App app = CreateApp(dir.path());
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--session-idle-seconds", "1"});
  Server server(dir.path(), args);
  Client client(server.base_url());
  auto r = client.Send("POST", "/users.json", Form({{"user[login]", "idle"}, {"user[password]", "Passw0rd!"}}),
                       Key(app.api_key));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::int64_t id = IdOf(r);
  SessionRequest req;
  req.user = {{"user[login]", "idle"}, {"user[password]", "Passw0rd!"}};
  r = PostSession(client, app, req);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string token(r.Json().at("session").at("token").as_string());
  EXPECT_EQ(client.Send("GET", "/users/" + std::to_string(id) + ".json", "", Qb(token)).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  r = client.Send("GET", "/users/" + std::to_string(id) + ".json", "", Qb(token));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Required session does not exist");
}

// ---- the official JavaScript SDK over HTTPS ----------------------------------------------------

// Runs `command` with stdout and stderr captured; returns the exit status.
int RunCapture(const std::string& command, std::string& output) {
  output.clear();
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

TEST(QuickBloxSdkTest, TheOfficialJavaScriptSdkWorksUnchangedOverHttps) {
  std::string ignored;
  if (RunCapture("command -v node", ignored) != 0)
    GTEST_SKIP() << "node is not installed: run scripts/sdk-setup.sh (scripts/test.sh does) to run the SDK test";
  const char* sdk_env = std::getenv("ROSTER_QB_SDK_DIR");
  const std::string sdk_dir = sdk_env && *sdk_env ? sdk_env : std::string(kTestSource) + "/sdk/quickblox";
  ASSERT_TRUE(std::filesystem::exists(sdk_dir + "/node_modules/quickblox"))
      << "the QuickBlox SDK is not installed in " << sdk_dir << ": run scripts/sdk-setup.sh";

  TempDir dir;
  InitDataDir(dir.path());
  const std::string cert = dir / "cert.pem", key = dir / "key.pem";
  const std::string openssl = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext "
                              "subjectAltName=DNS:localhost,IP:127.0.0.1 -days 1 -keyout " +
                              Quote(key) + " -out " + Quote(cert);
  std::string out;
  ASSERT_EQ(RunCapture(openssl, out), 0) << out;
  // The SDK's script lists and searches users: applications that allow it, one for each
  // run, so that the runs' session nonces are claimed apart (sdk_run.js gives each of its
  // own sessions a second of its own; two runs could meet in one second).
  std::map<std::string, json::object> apps;
  for (const char* hash : {"sha1", "sha256"}) {
    auto created = RunRoster({"quickblox", "app", "create", "--env", "default", "--allow-user-list",
                              "--allow-contact-fields", "--json", "--data-dir", dir.path()});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    apps[hash] = json::parse(created.out).as_object();
    for (const char* field : {"applicationId", "authKey", "authSecret", "apiKey"})
      ASSERT_TRUE(apps[hash].contains(field)) << created.out;
  }

  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--tls-cert", cert, "--tls-key", key});
  Server server(dir.path(), args);
  ASSERT_EQ(server.base_url().rfind("https://", 0), 0u);
  // The server listens on 127.0.0.1 only, and node 18 (Debian 12's) takes the first
  // address "localhost" resolves to, often ::1: ask it for IPv4 first.
  for (const char* hash : {"sha1", "sha256"}) {
    const json::object& app = apps[hash];
    const std::string command =
        "cd " + Quote(sdk_dir) + " && ROSTER_QB_API=" + Quote("localhost:" + std::to_string(server.port())) +
        " ROSTER_QB_APP_ID=" + std::to_string(app.at("applicationId").as_int64()) +
        " ROSTER_QB_AUTH_KEY=" + Quote(std::string(app.at("authKey").as_string())) +
        " ROSTER_QB_AUTH_SECRET=" + Quote(std::string(app.at("authSecret").as_string())) +
        " ROSTER_QB_HASH=" + hash + " NODE_EXTRA_CA_CERTS=" + Quote(cert) + " node --dns-result-order=ipv4first sdk_run.js";
    const int status = RunCapture(command, out);
    // The failed steps first: a long output may be cut short where it is shown.
    std::string failed;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
      if (line.find(R"("ok":false)") != std::string::npos) failed += line + "\n";
    EXPECT_EQ(status, 0) << "sdk_run.js (" << hash << ") failed; its failed steps:\n"
                         << failed << "its whole output:\n"
                         << out;
    EXPECT_NE(out.find(R"("step":"summary","ok":true)"), std::string::npos) << out;
  }
}

// ---- versions: ETag and If-Match ------------------------------------------------

Headers KeyIfMatch(const std::string& api_key, const std::string& if_match) {
  Headers h = Key(api_key);
  h.emplace_back("If-Match", if_match);
  return h;
}

TEST_F(QuickBloxTest, UsersCarryAnETagAndHonourIfMatch) {
  const std::string login = Unique("etag");
  const std::string external = std::to_string(800000 + ::getpid() % 100000);
  auto created = client_.Send("POST", "/users.json",
                              Form({{"user[login]", login}, {"user[password]", "Passw0rd!"},
                                    {"user[external_user_id]", external}}),
                              Key(app_.api_key));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("etag"), "W/\"1\"");
  const std::string path = Path(IdOf(created));
  auto read = client_.Send("GET", path, "", Key(app_.api_key));
  EXPECT_EQ(read.Header("etag"), "W/\"1\"");
  EXPECT_EQ(client_.Send("GET", "/users/external/" + external + ".json", "", Key(app_.api_key)).Header("etag"),
            "W/\"1\"");

  auto put = client_.Send("PUT", path, Form({{"user[full_name]", "One"}}), KeyIfMatch(app_.api_key, "W/\"1\""));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Header("etag"), "W/\"2\"");

  // Stale: 412 {"errors":{"base":[...]}}, nothing changed.
  const std::string before = client_.Send("GET", path, "", Key(app_.api_key)).body;
  auto stale = client_.Send("PUT", path, Form({{"user[full_name]", "Stale"}}), KeyIfMatch(app_.api_key, "W/\"1\""));
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_NE(FirstError(stale, "base").find("changed"), std::string::npos) << stale.body;
  EXPECT_EQ(client_.Send("DELETE", path, "", KeyIfMatch(app_.api_key, "W/\"1\"")).status, 412);
  EXPECT_EQ(client_.Send("DELETE", "/users/external/" + external + ".json", "", KeyIfMatch(app_.api_key, "W/\"1\""))
                .status,
            412);
  auto after = client_.Send("GET", path, "", Key(app_.api_key));
  ASSERT_EQ(after.status, 200);  // still there
  EXPECT_EQ(after.body, before);
  EXPECT_EQ(after.Header("etag"), "W/\"2\"");
  // Malformed: 400 {"code":null,"message":...} naming the header.
  auto bad = client_.Send("PUT", path, Form({{"user[full_name]", "Bad"}}), KeyIfMatch(app_.api_key, "2"));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("If-Match"), std::string::npos) << bad.body;
  // Without If-Match, as before.
  auto plain = client_.Send("PUT", path, Form({{"user[full_name]", "Plain"}}), Key(app_.api_key));
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.Header("etag"), "W/\"3\"");
  auto deleted =
      client_.Send("DELETE", "/users/external/" + external + ".json", "", KeyIfMatch(app_.api_key, "W/\"3\""));
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(client_.Send("GET", path, "", Key(app_.api_key)).status, 404);
}

// ---- throttling (issue 12) ---------------------------------------------------------------------

// 429 in QuickBlox's shape ({"errors":{"base":[...]}}) with Retry-After in whole seconds.
void ExpectTooMany(const HttpResponse& r) {
  EXPECT_EQ(r.status, 429) << r.body;
  const json::value j = r.Json();
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_TRUE(j.at("errors").at("base").is_array()) << r.body;
  const std::string retry = r.Header("retry-after");
  ASSERT_FALSE(retry.empty()) << r.body;
  EXPECT_GE(std::stoll(retry), 1);
}

TEST(QuickBloxThrottleTest, SessionsSignInsSignUpsAndResetsArePerApplicationWith429AndRetryAfter) {
  TempDir dir;
  InitDataDir(dir.path());
  const App app = CreateApp(dir.path());
  const App other = CreateApp(dir.path());
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--throttle-per-credential", "2"});
  Server server(dir.path(), args);
  Client client(server.base_url());
  // Application sessions: two, then 429; another application still gets one.
  auto first = PostSession(client, app, {});
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string token(first.Json().at("session").at("token").as_string());
  EXPECT_EQ(PostSession(client, app, {}).status, 201);
  ExpectTooMany(PostSession(client, app, {}));
  EXPECT_EQ(PostSession(client, other, {}).status, 201);
  // Sign-ups through a session: two, then 429; the application's API key is not throttled.
  auto sign_up = [&](const std::string& login, const Headers& h) {
    return client.Send("POST", "/users.json", Form({{"user[login]", login}, {"user[password]", "Passw0rd!"}}), h);
  };
  EXPECT_EQ(sign_up("one", Qb(token)).status, 201);
  EXPECT_EQ(sign_up("two", Qb(token)).status, 201);
  ExpectTooMany(sign_up("three", Qb(token)));
  EXPECT_EQ(sign_up("four", Key(app.api_key)).status, 201);
  // Sign-ins (a session with a user, or /login.json): two, then 429.
  SessionRequest with_user;
  with_user.user = {{"user[login]", "one"}, {"user[password]", "Passw0rd!"}};
  EXPECT_EQ(PostSession(client, other, with_user).status, 201);
  auto login = [&] {
    return client.Send("POST", "/login.json", Form({{"login", "one"}, {"password", "Passw0rd!"}}), Qb(token));
  };
  EXPECT_EQ(login().status, 202);
  EXPECT_EQ(login().status, 202);
  ExpectTooMany(login());
  EXPECT_EQ(PostSession(client, other, with_user).status, 201);  // other's second
  // Reset requests: two, then 429.
  auto reset = [&] { return client.Send("GET", "/users/password/reset.json?email=a%40example.com", "", Qb(token)); };
  EXPECT_EQ(reset().status, 200);
  EXPECT_EQ(reset().status, 200);
  ExpectTooMany(reset());
}

}  // namespace
}  // namespace roster::testing
