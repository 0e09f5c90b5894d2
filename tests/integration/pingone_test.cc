// The PingOne Platform dialect against the real binary: worker-app tokens, users,
// populations, schema attributes and passwords, every route with its error paths, and
// the round trip with the Catalyze dialect over one directory.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

// ---- small helpers ------------------------------------------------------------------

std::string Base64(std::string_view in, bool url) {
  static constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* table = url ? kUrl : kStd;
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    if (!url) out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    if (!url) out += "=";
  }
  return out;
}

std::string Base64UrlDecode(std::string_view in) {
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (char c : in) {
    int d = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
            : c == '_'             ? 63
                                   : -1;
    if (d < 0) continue;
    value = (value << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xFF));
    }
  }
  return out;
}


// The part of an absolute href after the server's base URL.
std::string PathOf(const std::string& href) {
  const auto scheme = href.find("://");
  if (scheme == std::string::npos) return href;
  return href.substr(href.find('/', scheme + 3));
}

std::string Str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

struct App {
  std::string env, client, secret;
};

// ---- OpenAPI conformance --------------------------------------------------------------
// Every response a PingOne test receives is recorded (method, path, status, body) and,
// when the test ends, validated against PingOne's OpenAPI description
// (../shared/reference/pingone-openapi/, the Go SDK's) by tests/sdk/pingone/openapi_check.mjs
// (Ajv), installed by scripts/sdk-setup.sh.

class ResponseRecorder {
 public:
  explicit ResponseRecorder(std::string file) : file_(std::move(file)) { std::filesystem::remove(file_); }
  void Record(const std::string& method, const std::string& path, const HttpResponse& r) {
    std::ofstream out(file_, std::ios::app);
    out << json::serialize(json::object{{"method", method}, {"path", path}, {"status", r.status}, {"body", r.body}})
        << "\n";
    ++count_;
  }
  // Fails the current test unless every recorded response validates.
  void Validate() {
    if (count_ == 0) return;
    std::string out;
    if (Shell("command -v node", &out) != 0) {
      std::fprintf(stderr, "node is not installed: the OpenAPI check is skipped (run scripts/sdk-setup.sh)\n");
      return;
    }
    const std::string dir = std::string(kTestSource) + "/sdk/pingone";
    ASSERT_TRUE(std::filesystem::exists(dir + "/node_modules/ajv"))
        << "Ajv is not installed in " << dir << ": run scripts/sdk-setup.sh";
    const int status = Shell("cd '" + dir + "' && node openapi_check.mjs '" + file_ + "'", &out);
    EXPECT_EQ(status, 0) << "responses that do not conform to PingOne's OpenAPI description:\n" << out;
    std::filesystem::remove(file_);
    count_ = 0;
  }

 private:
  std::string file_;
  int count_ = 0;
};

// The harness's client, recording every response it returns.
class RecordingClient {
 public:
  RecordingClient(std::string base_url, ResponseRecorder& recorder) : client_(std::move(base_url)), recorder_(recorder) {}
  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body = "",
                    const Headers& headers = {}) {
    HttpResponse r = client_.Send(method, path, body, headers);
    recorder_.Record(method, path, r);
    return r;
  }

 private:
  Client client_;
  ResponseRecorder& recorder_;
};

// A {SSHA256} hash of "Imported-Pass1!" with the salt "roster-salt-0001".
constexpr const char* kSsha256 = "{SSHA256}2KIiy1DZeJ9891MilN1rGDWHEhPEiTkQof8noyijNfdyb3N0ZXItc2FsdC0wMDAx";
constexpr const char* kImportType = "application/vnd.pingidentity.user.import+json";
constexpr const char* kSetType = "application/vnd.pingidentity.password.set+json";
constexpr const char* kResetType = "application/vnd.pingidentity.password.reset+json";
constexpr const char* kCheckType = "application/vnd.pingidentity.password.check+json";
constexpr const char* kLockType = "application/vnd.pingidentity.account.lock+json";
constexpr const char* kUnlockType = "application/vnd.pingidentity.account.unlock+json";
constexpr const char* kSetValueType = "application/vnd.pingidentity.password.setValue+json";
constexpr const char* kForceChangeType = "application/vnd.pingidentity.password.forceChange";
constexpr const char* kSendCodeType = "application/vnd.pingidentity.password.sendRecoveryCode+json";
constexpr const char* kRecoverType = "application/vnd.pingidentity.password.recover+json";
constexpr const char* kPasswordUnlockType = "application/vnd.pingidentity.password.unlock+json";

class PingOneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    admin_ = InitDataDir(dir_->path());
    for (const char* env : {"other", "listing", "pops", "schema", "race", "late", "standard"}) {
      auto r = RunRoster({"env", "create", env, "--data-dir", dir_->path(), "--json"});
      if (r.exit_code != 0) throw std::runtime_error("env create failed: " + r.err);
    }
    main_ = new App(CreateApp("default"));
    other_ = new App(CreateApp("other"));
    listing_ = new App(CreateApp("listing"));
    pops_ = new App(CreateApp("pops"));
    schema_ = new App(CreateApp("schema"));
    standard_ = new App(CreateApp("standard"));
    late_admin_ = CreateKey(dir_->path(), "late", "admin");
    server_ = new Server(dir_->path());
  }
  static void TearDownTestSuite() {
    delete server_;
    for (App* a : {main_, other_, listing_, pops_, schema_, standard_}) delete a;
    delete dir_;
  }

  // The suite's applications hold every scope (PHI and password:set included): it tests
  // the API, not the defaults (scopes_test.cc does).
  static App CreateApp(const std::string& env) {
    auto r = RunRoster(
        {"pingone", "app", "create", "--env", env, "--scope", "all", "--data-dir", dir_->path(), "--json"});
    if (r.exit_code != 0) throw std::runtime_error("pingone app create failed: " + r.err);
    const json::value j = json::parse(r.out);
    return App{Str(j, "environmentId"), Str(j, "clientId"), Str(j, "clientSecret")};
  }

  static Headers BasicAuth(const std::string& id, const std::string& secret) {
    return {{"Authorization", "Basic " + Base64(id + ":" + secret, false)},
            {"Content-Type", "application/x-www-form-urlencoded"}};
  }

  std::string Token(const App& app) {
    auto r = client_.Send("POST", "/" + app.env + "/as/token", "grant_type=client_credentials",
                          BasicAuth(app.client, app.secret));
    EXPECT_EQ(r.status, 200) << r.body;
    return Str(r.Json(), "access_token");
  }

  // Authorization (and Content-Type) for API calls with a token of `app`.
  Headers Auth(const App& app, const std::string& type = "application/json") {
    auto& cached = tokens_[app.env + "/" + app.client];  // per application: each has its own scopes
    if (cached.empty()) cached = Token(app);
    return {{"Authorization", "Bearer " + cached}, {"Content-Type", type}};
  }

  static std::string Env(const App& app) { return "/v1/environments/" + app.env; }

  void TearDown() override { recorder_.Validate(); }

  HttpResponse Api(const App& app, const std::string& method, const std::string& path, const std::string& body = "",
                   const std::string& type = "application/json") {
    return client_.Send(method, Env(app) + path, body, Auth(app, type));
  }
  HttpResponse Api(const App& app, const std::string& method, const std::string& path, const json::value& body,
                   const std::string& type = "application/json") {
    return Api(app, method, path, json::serialize(body), type);
  }

  json::object CreateUser(const App& app, json::object body) {
    auto r = Api(app, "POST", "/users", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().is_object() ? r.Json().as_object() : json::object{};
  }

  // A PingOne error: status, top-level code, and (if given) a detail with that code
  // and target.
  static void ExpectError(const HttpResponse& r, long status, const std::string& code,
                          const std::string& detail_code = "", const std::string& target = "") {
    EXPECT_EQ(r.status, status) << r.body;
    const json::value j = r.Json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_TRUE(j.as_object().contains("id")) << r.body;
    EXPECT_TRUE(j.at("id").is_string());
    EXPECT_EQ(Str(j, "code"), code) << r.body;
    EXPECT_FALSE(Str(j, "message").empty());
    if (detail_code.empty()) return;
    ASSERT_TRUE(j.as_object().contains("details")) << r.body;
    bool found = false;
    for (const auto& d : j.at("details").as_array())
      found = found || (Str(d, "code") == detail_code && (target.empty() || Str(d, "target") == target));
    EXPECT_TRUE(found) << "wanted " << detail_code << " on " << target << ": " << r.body;
  }

  std::string DefaultPopulation(const App& app) {
    auto r = Api(app, "GET", "/populations?limit=1000");
    EXPECT_EQ(r.status, 200) << r.body;
    const json::value reply1 = r.Json();
    for (const auto& p : reply1.at("_embedded").at("populations").as_array())
      if (p.at("default").as_bool()) return Str(p, "id");
    return {};
  }

  static TempDir* dir_;
  static std::string admin_, late_admin_;
  static App *main_, *other_, *listing_, *pops_, *schema_;
  static App* standard_;  // an environment whose standard attributes are switched on and off
  static Server* server_;
  std::map<std::string, std::string> tokens_;
  ResponseRecorder recorder_{dir_->path() + "/responses-" + std::to_string(::getpid()) + ".jsonl"};
  RecordingClient client_{server_->base_url(), recorder_};
};

TempDir* PingOneTest::dir_;
std::string PingOneTest::admin_, PingOneTest::late_admin_;
App *PingOneTest::main_, *PingOneTest::other_, *PingOneTest::listing_, *PingOneTest::pops_, *PingOneTest::schema_;
App* PingOneTest::standard_;
Server* PingOneTest::server_;

// ---- worker applications and tokens ---------------------------------------------------

TEST_F(PingOneTest, AppCreatePrintsExactlyTheThreeCredentialsAndTheScopes) {
  auto r = RunRoster({"pingone", "app", "create", "--env", "default", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json::object j = json::parse(r.out).as_object();
  EXPECT_EQ(j.size(), 4u) << r.out;
  // A worker application's defaults: everything in its environment but PHI, setting
  // passwords and credentials.
  EXPECT_EQ(json::serialize(j.at("scopes")),
            R"(["profile:read","profile:write","groups:write","schema:write","users:list","contact:read"])");
  auto bogus = RunRoster(
      {"pingone", "app", "create", "--env", "default", "--scope", "root", "--data-dir", dir_->path(), "--json"});
  EXPECT_NE(bogus.exit_code, 0);
  EXPECT_NE(bogus.err.find("root"), std::string::npos) << bogus.err;
  EXPECT_EQ(Str(j, "environmentId"), main_->env);
  EXPECT_EQ(Str(j, "clientId").size(), 36u);
  EXPECT_GE(Str(j, "clientSecret").size(), 32u);
  // The secret is stored as a keyed digest only.
  EXPECT_EQ(DumpStore(dir_->path()).find(Str(j, "clientSecret")), std::string::npos);

  auto missing = RunRoster({"pingone", "app", "create", "--env", "nope", "--data-dir", dir_->path(), "--json"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("nope"), std::string::npos) << missing.err;
}

TEST_F(PingOneTest, TokenByBasicAuthIsAnHs256JwtForOneHour) {
  auto r = client_.Send("POST", "/" + main_->env + "/as/token", "grant_type=client_credentials",
                        BasicAuth(main_->client, main_->secret));
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value j = r.Json();
  EXPECT_EQ(Str(j, "token_type"), "Bearer");
  EXPECT_EQ(j.at("expires_in").as_int64(), 3600);
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  const std::string token = Str(j, "access_token");
  ASSERT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  const json::value header = json::parse(Base64UrlDecode(token.substr(0, token.find('.'))));
  EXPECT_EQ(Str(header, "alg"), "HS256");
  const std::string payload_b64 = token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1);
  const json::value claims = json::parse(Base64UrlDecode(payload_b64));
  EXPECT_EQ(Str(claims, "env"), main_->env);
  EXPECT_EQ(Str(claims, "client_id"), main_->client);
  EXPECT_EQ(Str(claims, "iss"), "urn:roster:pingone:as:" + main_->env);
  EXPECT_EQ(Str(claims, "aud"), "urn:roster:pingone:api");
  EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 3600);
  // The token works.
  auto me = client_.Send("GET", Env(*main_), "", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Str(me.Json(), "id"), main_->env);
  EXPECT_EQ(Str(me.Json(), "name"), "default");
}

TEST_F(PingOneTest, TokenByClientSecretPost) {
  auto r = client_.Send("POST", "/" + main_->env + "/as/token",
                        "grant_type=client_credentials&client_id=" + main_->client + "&client_secret=" + main_->secret,
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Str(r.Json(), "access_token").empty());
}

TEST_F(PingOneTest, TokenErrorsUseTheOAuthShape) {
  const std::string path = "/" + main_->env + "/as/token";
  const auto expect = [](const HttpResponse& r, long status, const std::string& error) {
    EXPECT_EQ(r.status, status) << r.body;
    ASSERT_TRUE(r.Json().is_object()) << r.body;
    EXPECT_EQ(Str(r.Json(), "error"), error) << r.body;
    EXPECT_EQ(r.body.find("access_token"), std::string::npos);
  };
  expect(client_.Send("POST", path, "grant_type=client_credentials", BasicAuth(main_->client, "wrong")), 401,
         "invalid_client");
  expect(client_.Send("POST", path, "grant_type=client_credentials",
                      BasicAuth("7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f", main_->secret)),
         401, "invalid_client");
  expect(client_.Send("POST", path, "grant_type=client_credentials",
                      {{"Content-Type", "application/x-www-form-urlencoded"}}),
         401, "invalid_client");
  expect(client_.Send("POST", path, "grant_type=client_credentials",
                      {{"Authorization", "Basic !!!"}, {"Content-Type", "application/x-www-form-urlencoded"}}),
         401, "invalid_client");
  expect(client_.Send("POST", path, "scope=x", BasicAuth(main_->client, main_->secret)), 400, "invalid_request");
  expect(client_.Send("POST", path, "grant_type=password", BasicAuth(main_->client, main_->secret)), 400,
         "unsupported_grant_type");
  expect(client_.Send("POST", path, "grant_type=client_credentials&grant_type=client_credentials",
                      BasicAuth(main_->client, main_->secret)),
         400, "invalid_request");
  expect(client_.Send("POST", path, R"({"grant_type":"client_credentials"})",
                      {{"Authorization", "Basic " + Base64(main_->client + ":" + main_->secret, false)},
                       {"Content-Type", "application/json"}}),
         400, "invalid_request");
  auto both = BasicAuth(main_->client, main_->secret);
  expect(client_.Send("POST", path, "grant_type=client_credentials&client_id=" + main_->client, both), 400,
         "invalid_request");
  // One environment's credentials on another environment, or on none.
  expect(client_.Send("POST", "/" + other_->env + "/as/token", "grant_type=client_credentials",
                      BasicAuth(main_->client, main_->secret)),
         401, "invalid_client");
  expect(client_.Send("POST", "/00000000-0000-4000-8000-000000000000/as/token", "grant_type=client_credentials",
                      BasicAuth(main_->client, main_->secret)),
         401, "invalid_client");
  expect(client_.Send("POST", "/not-an-env/as/token", "grant_type=client_credentials",
                      BasicAuth(main_->client, main_->secret)),
         401, "invalid_client");
}

TEST_F(PingOneTest, ApiRefusesMissingForgedAndForeignTokens) {
  const std::string users = Env(*main_) + "/users";
  ExpectError(client_.Send("GET", users), 401, "ACCESS_FAILED");
  ExpectError(client_.Send("GET", users, "", {{"Authorization", "Bearer nonsense"}}), 401, "ACCESS_FAILED");
  ExpectError(client_.Send("GET", users, "", {{"Authorization", "Basic " + Base64("a:b", false)}}), 401,
              "ACCESS_FAILED");
  const std::string token = Token(*main_);
  const auto first = token.find('.'), last = token.rfind('.');
  const std::string payload = token.substr(first + 1, last - first - 1);
  // alg "none", with and without a signature.
  const std::string none = Base64(R"({"alg":"none","typ":"JWT"})", true);
  ExpectError(client_.Send("GET", users, "", {{"Authorization", "Bearer " + none + "." + payload + "."}}), 401,
              "ACCESS_FAILED");
  ExpectError(client_.Send("GET", users, "", {{"Authorization", "Bearer " + none + "." + payload + ".x"}}), 401,
              "ACCESS_FAILED");
  // A tampered payload (another environment) under the original signature.
  json::object claims = json::parse(Base64UrlDecode(payload)).as_object();
  claims["env"] = other_->env;
  const std::string forged = token.substr(0, first) + "." + Base64(json::serialize(claims), true) + token.substr(last);
  ExpectError(client_.Send("GET", Env(*other_) + "/users", "", {{"Authorization", "Bearer " + forged}}), 401,
              "ACCESS_FAILED");
  // A flipped signature.
  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  ExpectError(client_.Send("GET", users, "", {{"Authorization", "Bearer " + flipped}}), 401, "ACCESS_FAILED");
  const auto ok = client_.Send("GET", users, "", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(PingOneTest, TokenOfOneEnvironmentLeaksNothingOfAnother) {
  auto other_user = CreateUser(*other_, {{"username", "other-secret-user"}, {"email", "hidden@example.com"}});
  const std::string id = Str(other_user, "id");
  const Headers main_token = Auth(*main_);
  const auto a = client_.Send("GET", Env(*other_) + "/users/" + id, "", main_token);
  const auto b = client_.Send("GET", Env(*other_) + "/users", "", main_token);
  const auto c = client_.Send("GET", "/v1/environments/00000000-0000-4000-8000-000000000000/users", "", main_token);
  const auto d = client_.Send("DELETE", Env(*other_) + "/users/" + id, "", main_token);
  for (const auto* r : {&a, &b, &c, &d}) {
    ExpectError(*r, 401, "ACCESS_FAILED");
    EXPECT_EQ(r->body.find("hidden"), std::string::npos);
    EXPECT_EQ(r->body.find("other-secret-user"), std::string::npos);
  }
  // Same answer for an existing foreign environment as for none at all.
  json::object ja = a.Json().as_object(), jc = c.Json().as_object();
  ja.erase("id");
  jc.erase("id");
  EXPECT_EQ(ja, jc);
  // The user is untouched.
  EXPECT_EQ(Api(*other_, "GET", "/users/" + id).status, 200);
  // And the user is not visible in the first environment either.
  ExpectError(Api(*main_, "GET", "/users/" + id), 404, "NOT_FOUND");
}

TEST_F(PingOneTest, TransportErrorsUsePingOneShape) {
  ExpectError(Api(*main_, "GET", "/nothing-here"), 404, "NOT_FOUND");
  auto r = Api(*main_, "DELETE", "/users");
  ExpectError(r, 405, "METHOD_NOT_ALLOWED");
  EXPECT_NE(r.Header("allow").find("GET"), std::string::npos);
  ExpectError(Api(*main_, "PATCH", ""), 405, "METHOD_NOT_ALLOWED");
}

// ---- rotation and deletion of worker applications ----------------------------------

// `roster pingone app ARGS... --env default --data-dir D --json`, parsed; fails the test
// on a non-zero exit.
json::object AppCommand(const std::string& data_dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"pingone", "app"});
  args.insert(args.end(), {"--data-dir", data_dir, "--json"});
  auto r = RunRoster(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out).as_object() : json::object{};
}

TEST_F(PingOneTest, RotateSecretRefusesTheOldSecretAndEveryEarlierTokenAtOnce) {
  App app = CreateApp("default");
  const std::string before = Token(app);
  const Headers old_token = {{"Authorization", "Bearer " + before}};
  ASSERT_EQ(client_.Send("GET", Env(app) + "/users", "", old_token).status, 200);

  const json::object rotated = AppCommand(dir_->path(), {"rotate-secret", "--env", "default", "--id", app.client});
  EXPECT_EQ(rotated.size(), 3u);
  EXPECT_EQ(Str(rotated, "environmentId"), app.env);
  EXPECT_EQ(Str(rotated, "clientId"), app.client);
  const std::string fresh = Str(rotated, "clientSecret");
  EXPECT_GE(fresh.size(), 32u);
  EXPECT_NE(fresh, app.secret);
  EXPECT_EQ(DumpStore(dir_->path()).find(fresh), std::string::npos);

  // The token issued before: PingOne's own 401, on every route.
  ExpectError(client_.Send("GET", Env(app) + "/users", "", old_token), 401, "ACCESS_FAILED");
  ExpectError(client_.Send("GET", Env(app), "", old_token), 401, "ACCESS_FAILED");
  // The old secret: the token endpoint's OAuth 401.
  auto r = client_.Send("POST", "/" + app.env + "/as/token", "grant_type=client_credentials",
                        BasicAuth(app.client, app.secret));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(Str(r.Json(), "error"), "invalid_client");
  // The new secret works, and so do its tokens.
  app.secret = fresh;
  const std::string after = Token(app);
  EXPECT_EQ(client_.Send("GET", Env(app) + "/users", "", {{"Authorization", "Bearer " + after}}).status, 200);
  // Rotating again refuses the second token too; other applications are untouched.
  AppCommand(dir_->path(), {"rotate-secret", "--env", "default", "--id", app.client});
  ExpectError(client_.Send("GET", Env(app) + "/users", "", {{"Authorization", "Bearer " + after}}), 401,
              "ACCESS_FAILED");
  EXPECT_EQ(Api(*main_, "GET", "/users").status, 200);
}

TEST_F(PingOneTest, DeleteRefusesTheApplicationsTokensAtOnce) {
  const App app = CreateApp("default");
  const Headers token = {{"Authorization", "Bearer " + Token(app)}};
  ASSERT_EQ(client_.Send("GET", Env(app) + "/users", "", token).status, 200);
  const json::object deleted = AppCommand(dir_->path(), {"delete", "--env", "default", "--id", app.client});
  EXPECT_EQ(Str(deleted, "clientId"), app.client);
  EXPECT_EQ(deleted.at("deleted"), true);
  ExpectError(client_.Send("GET", Env(app) + "/users", "", token), 401, "ACCESS_FAILED");
  auto r = client_.Send("POST", "/" + app.env + "/as/token", "grant_type=client_credentials",
                        BasicAuth(app.client, app.secret));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(Str(r.Json(), "error"), "invalid_client");
  EXPECT_EQ(Api(*main_, "GET", "/users").status, 200);
  // Gone: a second delete and a rotation name it as unknown.
  for (const char* command : {"delete", "rotate-secret"}) {
    auto again = RunRoster({"pingone", "app", command, "--env", "default", "--id", app.client, "--data-dir",
                            dir_->path()});
    EXPECT_NE(again.exit_code, 0) << command;
    EXPECT_NE(again.err.find("no worker application"), std::string::npos) << again.err;
  }
}

TEST_F(PingOneTest, AppListShowsEveryApplicationButNoSecret) {
  const App app = CreateApp("late");
  const App second = CreateApp("late");
  AppCommand(dir_->path(), {"rotate-secret", "--env", "late", "--id", second.client});
  auto r = RunRoster({"pingone", "app", "list", "--env", "late", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find(app.secret), std::string::npos);
  EXPECT_EQ(r.out.find("ecret\""), std::string::npos) << r.out;  // no clientSecret member
  const json::object list = json::parse(r.out).as_object();
  EXPECT_EQ(Str(list, "environmentId"), app.env);
  std::map<std::string, json::object> by_id;
  for (const auto& a : list.at("apps").as_array()) by_id[Str(a, "clientId")] = a.as_object();
  ASSERT_EQ(by_id.size(), 2u) << r.out;
  EXPECT_EQ(Str(by_id[app.client], "type"), "WORKER");
  EXPECT_FALSE(Str(by_id[app.client], "createdAt").empty());
  EXPECT_FALSE(by_id[app.client].contains("secretRotatedAt"));
  EXPECT_FALSE(Str(by_id[second.client], "secretRotatedAt").empty());
  AppCommand(dir_->path(), {"delete", "--env", "late", "--id", app.client});
  const json::object after = AppCommand(dir_->path(), {"list", "--env", "late"});
  ASSERT_EQ(after.at("apps").as_array().size(), 1u);
  EXPECT_EQ(Str(after.at("apps").as_array()[0], "clientId"), second.client);
  // A rotation keeps the application's scopes.
  const json::object scoped = AppCommand(dir_->path(), {"create", "--env", "late", "--scope", "profile:read"});
  AppCommand(dir_->path(), {"rotate-secret", "--env", "late", "--id", Str(scoped, "clientId")});
  const json::object listed = AppCommand(dir_->path(), {"list", "--env", "late"});
  int seen = 0;
  for (const auto& a : listed.at("apps").as_array())
    if (Str(a, "clientId") == Str(scoped, "clientId")) {
      ++seen;
      EXPECT_EQ(a.at("scopes"), (json::array{"profile:read"}));
    }
  EXPECT_EQ(seen, 1);
}

TEST_F(PingOneTest, AppCommandsNameWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  for (const Case& c : {Case{{"rotate-secret", "--env", "default", "--id", "not-a-uuid"}, "--id"},
                        Case{{"delete", "--env", "default", "--id", "not-a-uuid"}, "--id"},
                        Case{{"rotate-secret", "--env", "nope", "--id", main_->client}, "nope"},
                        Case{{"list", "--env", "nope"}, "nope"},
                        // An application of another environment is not found in this one.
                        Case{{"delete", "--env", "default", "--id", other_->client}, "no worker application"},
                        Case{{"rotate-secret", "--env", "default"}, "--id"}}) {
    std::vector<std::string> args = {"pingone", "app"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), {"--data-dir", dir_->path()});
    auto r = RunRoster(args);
    EXPECT_NE(r.exit_code, 0) << c.args[0];
    EXPECT_NE(r.err.find(c.mentions), std::string::npos) << r.err;
  }
  // Nothing changed: the applications named still work.
  EXPECT_EQ(Api(*main_, "GET", "/users").status, 200);
  EXPECT_EQ(Api(*other_, "GET", "/users").status, 200);
}

// ---- users ---------------------------------------------------------------------------

TEST_F(PingOneTest, CreateUserAnswersLikeTheSeedAndDropsUndeclaredAttributes) {
  // The seed's own request (department and locales are not declared in this schema).
  json::object seed{{"email", "marysample@example.com"},
                    {"name", {{"given", "Mary"}, {"family", "Sample"}}},
                    {"population", {{"id", DefaultPopulation(*main_)}}},
                    {"username", "marysample"},
                    {"department", "engineering-dropped-value"},
                    {"locales", {"Sydney", "London"}}};
  auto r = Api(*main_, "POST", "/users", seed);
  ASSERT_EQ(r.status, 201) << r.body;
  const json::object u = r.Json().as_object();
  const std::string id = Str(u, "id");
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(Str(u, "username"), "marysample");
  EXPECT_EQ(Str(u, "email"), "marysample@example.com");
  EXPECT_EQ(Str(u.at("name"), "given"), "Mary");
  EXPECT_EQ(Str(u.at("name"), "family"), "Sample");
  EXPECT_EQ(Str(u.at("environment"), "id"), main_->env);
  EXPECT_EQ(Str(u.at("population"), "id"), DefaultPopulation(*main_));
  EXPECT_EQ(Str(u.at("lifecycle"), "status"), "ACCOUNT_OK");
  EXPECT_EQ(Str(u.at("identityProvider"), "type"), "PING_ONE");
  EXPECT_TRUE(u.at("enabled").as_bool());
  EXPECT_FALSE(u.at("mfaEnabled").as_bool());
  const std::string created = Str(u, "createdAt");
  ASSERT_EQ(created.size(), 24u) << created;  // 2020-02-18T20:50:14.092Z
  EXPECT_EQ(created[19], '.');
  EXPECT_EQ(created.back(), 'Z');
  EXPECT_EQ(Str(u, "updatedAt").size(), 24u);
  for (const char* link :
       {"self", "environment", "population", "password", "password.reset", "password.set", "password.check"})
    EXPECT_TRUE(u.at("_links").as_object().contains(link)) << link;
  EXPECT_NE(Str(u.at("_links").at("self"), "href").find("/v1/environments/" + main_->env + "/users/" + id),
            std::string::npos);
  EXPECT_FALSE(u.contains("department"));
  EXPECT_FALSE(u.contains("locales"));

  // Read back: same user, still without the undeclared attributes.
  auto got = Api(*main_, "GET", "/users/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Str(got.Json(), "username"), "marysample");
  EXPECT_FALSE(got.Json().as_object().contains("department"));
  // Declaring the attribute afterwards does not bring the dropped value back: it was
  // never stored (nor is it anywhere in the store's bytes).
  auto schema = Api(*main_, "GET", "/schemas");
  const std::string schema_id = Str(schema.Json().at("_embedded").at("schemas").as_array()[0], "id");
  auto declared = Api(*main_, "POST", "/schemas/" + schema_id + "/attributes",
                      json::object{{"name", "department"}, {"type", "STRING"}, {"enabled", true}});
  ASSERT_EQ(declared.status, 201) << declared.body;
  got = Api(*main_, "GET", "/users/" + id);
  EXPECT_FALSE(got.Json().as_object().contains("department")) << got.body;
  EXPECT_EQ(DumpStore(dir_->path()).find("engineering-dropped-value"), std::string::npos);
  ASSERT_EQ(Api(*main_, "DELETE", "/schemas/" + schema_id + "/attributes/" + Str(declared.Json(), "id")).status, 204);
}

TEST_F(PingOneTest, CreateUserAcceptsEveryStandardAttribute) {
  json::object body{{"username", "Full.User"},
                    {"email", "full@example.com"},
                    {"name",
                     {{"given", "Full"},
                      {"family", "User"},
                      {"middle", "M"},
                      {"formatted", "Dr Full M User"},
                      {"honorificPrefix", "Dr"},
                      {"honorificSuffix", "PhD"}}},
                    {"nickname", "fu"},
                    {"title", "Engineer"},
                    {"type", "Employee"},
                    {"preferredLanguage", "en"},
                    {"locale", "en-US"},
                    {"timezone", "America/Los_Angeles"},
                    {"externalId", "EXT-1"},
                    {"accountId", "ACC-1"},
                    {"mobilePhone", "+1 555 0100"},
                    {"primaryPhone", "+1 555 0199"},
                    {"address",
                     {{"streetAddress", "1 Main St"},
                      {"locality", "Springfield"},
                      {"region", "IL"},
                      {"postalCode", "62701"},
                      {"countryCode", "US"}}},
                    {"photo", {{"href", "https://example.com/p.png"}}},
                    {"enabled", false},
                    {"mfaEnabled", true}};
  auto u = CreateUser(*main_, body);
  auto got = Api(*main_, "GET", "/users/" + Str(u, "id")).Json().as_object();
  for (const char* key : {"username", "email", "nickname", "title", "type", "preferredLanguage", "locale", "timezone",
                          "externalId", "accountId", "mobilePhone", "primaryPhone"})
    EXPECT_EQ(got.at(key), body.at(key)) << key;
  EXPECT_EQ(got.at("name"), body.at("name"));
  EXPECT_EQ(got.at("address"), body.at("address"));
  EXPECT_EQ(got.at("photo"), body.at("photo"));
  EXPECT_FALSE(got.at("enabled").as_bool());
  EXPECT_TRUE(got.at("mfaEnabled").as_bool());
}

TEST_F(PingOneTest, CreateUserErrors) {
  ExpectError(Api(*main_, "POST", "/users", json::object{{"email", "x@example.com"}}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "username");
  CreateUser(*main_, {{"username", "TakenName"}});
  // Case-insensitive, unique across the environment's populations.
  ExpectError(Api(*main_, "POST", "/users", json::object{{"username", "takenname"}}), 400, "INVALID_DATA",
              "UNIQUENESS_VIOLATION", "username");
  ExpectError(Api(*main_, "POST", "/users", json::object{{"username", "e1"}, {"email", "not-an-email"}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "email");
  ExpectError(Api(*main_, "POST", "/users", json::object{{"username", std::string(129, 'a')}}), 400, "INVALID_DATA",
              "SIZE_LIMIT_EXCEEDED", "username");
  // Every bad attribute is reported at once.
  auto many = Api(*main_, "POST", "/users",
                  json::object{{"username", "e2"},
                               {"email", 5},
                               {"name", "x"},
                               {"address", {{"countryCode", "usa"}}},
                               {"timezone", "not a zone"},
                               {"photo", {{"href", "ftp://x"}}}});
  ExpectError(many, 400, "INVALID_DATA", "INVALID_VALUE", "email");
  EXPECT_EQ(many.Json().at("details").as_array().size(), 5u) << many.body;
  ExpectError(Api(*main_, "POST", "/users", json::object{{"username", "e3"}, {"population", {{"id", "nope"}}}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "population.id");
  ExpectError(
      Api(*main_, "POST", "/users",
          json::object{{"username", "e4"}, {"identityProvider", {{"id", "3c6a1b1e-0000-4000-8000-000000000000"}}}}),
      400, "INVALID_DATA", "INVALID_VALUE", "identityProvider.id");
  ExpectError(Api(*main_, "POST", "/users", json::object{{"username", "e5"}, {"enabled", "yes"}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "enabled");
  ExpectError(Api(*main_, "POST", "/users", std::string("{not json")), 400, "INVALID_REQUEST");
  ExpectError(Api(*main_, "POST", "/users", std::string("[]")), 400, "INVALID_REQUEST");
  ExpectError(Api(*main_, "POST", "/users", std::string("")), 400, "INVALID_REQUEST");
  ExpectError(Api(*main_, "POST", "/users", json::object{{"username", "e6"}}, "text/plain"), 415,
              "UNSUPPORTED_MEDIA_TYPE");
  // None of the refused users exists.
  for (const char* name : {"e1", "e2", "e3", "e4", "e5", "e6"}) {
    auto found = Api(*main_, "GET", "/users?filter=" + UrlEncode(std::string("username eq \"") + name + "\""));
    EXPECT_EQ(found.Json().at("size").as_int64(), 0) << name;
  }
}

TEST_F(PingOneTest, ClientInputNeverCausesA5xx) {
  const auto user = CreateUser(*main_, {{"username", "fuzz-target"}});
  const std::string id = Str(user, "id");
  const std::vector<std::string> bodies = {"",
                                           "null",
                                           "0",
                                           "\"x\"",
                                           "{",
                                           "{}",
                                           "[{}]",
                                           R"({"username":null})",
                                           R"({"username":{"a":1}})",
                                           R"({"username":"ok","name":[1,2]})",
                                           R"({"username":"ok","address":null,"photo":null,"name":null})",
                                           std::string(40, '[') + std::string(40, ']'),
                                           R"({"username":"\u0000"})",
                                           R"({"username":"a\ud800"})",
                                           R"({"username":"ok","population":"x"})",
                                           R"({"username":"ok","lifecycle":{"status":7}})",
                                           R"({"username":"ok","password":{"value":7}})",
                                           R"({"enabled":null,"mfaEnabled":null})"};
  for (const auto& body : bodies) {
    for (const auto& [method, path] :
         std::vector<std::pair<std::string, std::string>>{{"POST", "/users"},
                                                          {"PUT", "/users/" + id},
                                                          {"PATCH", "/users/" + id},
                                                          {"PUT", "/users/" + id + "/enabled"},
                                                          {"PUT", "/users/" + id + "/population"},
                                                          {"POST", "/populations"},
                                                          {"POST", "/groups"},
                                                          {"POST", "/users/" + id + "/memberOfGroups"}}) {
      auto r = Api(*main_, method, path, body);
      EXPECT_LT(r.status, 500) << method << " " << path << " " << body << " -> " << r.body;
      auto imported = Api(*main_, method, path, body, kImportType);
      EXPECT_LT(imported.status, 500) << method << " " << path << " " << body << " -> " << imported.body;
    }
  }
  for (const std::string& q :
       std::vector<std::string>{"limit=abc", "limit=-1", "cursor=%%%", "filter=%22", "filter=" + std::string(3000, 'a'),
                                "cursor=" + std::string(100, 'A'), "filter=username%20eq%20%22x%22&filter=y"}) {
    auto r = client_.Send("GET", Env(*main_) + "/users?" + q, "", Auth(*main_));
    EXPECT_EQ(r.status, 400) << q << " -> " << r.body;
  }
}

TEST_F(PingOneTest, ReadUser) {
  auto u = CreateUser(*main_, {{"username", "reader"}, {"email", "reader@example.com"}});
  auto r = Api(*main_, "GET", "/users/" + Str(u, "id"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().as_object(), u);
  ExpectError(Api(*main_, "GET", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f"), 404, "NOT_FOUND");
  ExpectError(Api(*main_, "GET", "/users/not-a-uuid"), 404, "NOT_FOUND");
}

TEST_F(PingOneTest, PutReplacesEveryPingOneAttribute) {
  auto u = CreateUser(*main_, {{"username", "replace-me"},
                               {"email", "replace@example.com"},
                               {"name", {{"given", "Old"}, {"family", "Name"}}},
                               {"title", "Boss"},
                               {"mobilePhone", "+1 555 0101"}});
  const std::string id = Str(u, "id");
  auto r = Api(*main_, "PUT", "/users/" + id,
               json::object{{"username", "Replaced-Me"},
                            {"name", {{"given", "New"}}},
                            {"nickname", "nn"},
                            // read-only members are ignored; equal values of the
                            // separately managed ones are accepted
                            {"id", "ignored"},
                            {"createdAt", "ignored"},
                            {"enabled", true},
                            {"mfaEnabled", false},
                            {"population", u.at("population")}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object got = Api(*main_, "GET", "/users/" + id).Json().as_object();
  EXPECT_EQ(Str(got, "username"), "Replaced-Me");
  EXPECT_EQ(got.at("name"), (json::object{{"given", "New"}}));
  EXPECT_EQ(Str(got, "nickname"), "nn");
  EXPECT_FALSE(got.contains("email"));
  EXPECT_FALSE(got.contains("title"));
  EXPECT_FALSE(got.contains("mobilePhone"));
  EXPECT_EQ(Str(got, "id"), id);
  EXPECT_EQ(Str(got, "createdAt"), Str(u, "createdAt"));
  EXPECT_GE(Str(got, "updatedAt"), Str(u, "updatedAt"));
}

TEST_F(PingOneTest, PutErrorsChangeNothing) {
  auto u = CreateUser(*main_, {{"username", "put-errors"}, {"email", "pe@example.com"}});
  CreateUser(*main_, {{"username", "put-errors-other"}});
  const std::string id = Str(u, "id");
  ExpectError(Api(*main_, "PUT", "/users/" + id, json::object{{"email", "x@example.com"}}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "username");
  ExpectError(Api(*main_, "PUT", "/users/" + id, json::object{{"username", "PUT-ERRORS-OTHER"}}), 400, "INVALID_DATA",
              "UNIQUENESS_VIOLATION", "username");
  ExpectError(Api(*main_, "PUT", "/users/" + id, json::object{{"username", "put-errors"}, {"enabled", false}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "enabled");
  ExpectError(Api(*main_, "PUT", "/users/" + id, json::object{{"username", "put-errors"}, {"mfaEnabled", true}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "mfaEnabled");
  ExpectError(
      Api(*main_, "PUT", "/users/" + id,
          json::object{{"username", "put-errors"}, {"population", {{"id", "3c6a1b1e-0000-4000-8000-000000000000"}}}}),
      400, "INVALID_DATA", "INVALID_VALUE", "population.id");
  ExpectError(Api(*main_, "PUT", "/users/" + id, json::object{{"username", "put-errors"}, {"email", "bad"}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "email");
  ExpectError(Api(*main_, "PUT", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f", json::object{{"username", "zz"}}), 404,
              "NOT_FOUND");
  ExpectError(Api(*main_, "PUT", "/users/" + id, json::object{{"username", "x"}}, "text/plain"), 415,
              "UNSUPPORTED_MEDIA_TYPE");
  EXPECT_EQ(Api(*main_, "GET", "/users/" + id).Json().as_object(), u);
}

TEST_F(PingOneTest, PatchMergesOnlyWhatIsSent) {
  auto u = CreateUser(*main_, {{"username", "patch-me"},
                               {"email", "patch@example.com"},
                               {"name", {{"given", "Pat"}, {"family", "Ch"}}},
                               {"title", "T"},
                               {"address", {{"locality", "Paris"}, {"countryCode", "FR"}}}});
  const std::string id = Str(u, "id");
  auto r = Api(*main_, "PATCH", "/users/" + id,
               json::object{{"name", {{"family", "Changed"}}}, {"title", nullptr}, {"address", {{"region", "IDF"}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object got = Api(*main_, "GET", "/users/" + id).Json().as_object();
  EXPECT_EQ(got.at("name"), (json::object{{"given", "Pat"}, {"family", "Changed"}}));
  EXPECT_FALSE(got.contains("title"));
  EXPECT_EQ(Str(got, "email"), "patch@example.com");
  EXPECT_EQ(got.at("address"), (json::object{{"locality", "Paris"}, {"region", "IDF"}, {"countryCode", "FR"}}));
  EXPECT_EQ(Str(got, "username"), "patch-me");
  // null clears a whole object.
  ASSERT_EQ(Api(*main_, "PATCH", "/users/" + id, json::object{{"address", nullptr}}).status, 200);
  EXPECT_FALSE(Api(*main_, "GET", "/users/" + id).Json().as_object().contains("address"));

  // A bad patch changes nothing.
  const json::object before = Api(*main_, "GET", "/users/" + id).Json().as_object();
  ExpectError(Api(*main_, "PATCH", "/users/" + id, json::object{{"nickname", "ok"}, {"email", "bad"}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "email");
  ExpectError(Api(*main_, "PATCH", "/users/" + id, json::object{{"username", nullptr}}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "username");
  ExpectError(Api(*main_, "PATCH", "/users/" + id, json::object{{"enabled", false}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "enabled");
  ExpectError(Api(*main_, "PATCH", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f", json::object{{"title", "x"}}), 404,
              "NOT_FOUND");
  EXPECT_EQ(Api(*main_, "GET", "/users/" + id).Json().as_object(), before);
}

TEST_F(PingOneTest, DeleteUser) {
  auto u = CreateUser(*main_, {{"username", "delete-me"}});
  const std::string id = Str(u, "id");
  auto r = Api(*main_, "DELETE", "/users/" + id);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(r.body.empty());
  ExpectError(Api(*main_, "GET", "/users/" + id), 404, "NOT_FOUND");
  ExpectError(Api(*main_, "DELETE", "/users/" + id), 404, "NOT_FOUND");
  // The username is free again.
  CreateUser(*main_, {{"username", "delete-me"}});
}

TEST_F(PingOneTest, EnabledAndMfaEnabledHaveTheirOwnResources) {
  auto u = CreateUser(*main_, {{"username", "flags"}});
  const std::string id = Str(u, "id");
  for (const std::string member : {"enabled", "mfaEnabled"}) {
    const bool initial = member == "enabled";
    auto got = Api(*main_, "GET", "/users/" + id + "/" + member);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.Json().at(member).as_bool(), initial);
    auto put = Api(*main_, "PUT", "/users/" + id + "/" + member, json::object{{member, !initial}});
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.Json().at(member).as_bool(), !initial);
    EXPECT_EQ(Api(*main_, "GET", "/users/" + id).Json().at(member).as_bool(), !initial);
    ExpectError(Api(*main_, "PUT", "/users/" + id + "/" + member, json::object{}), 400, "INVALID_DATA",
                "REQUIRED_VALUE", member);
    ExpectError(Api(*main_, "PUT", "/users/" + id + "/" + member, json::object{{member, "true"}}), 400, "INVALID_DATA",
                "INVALID_VALUE", member);
    ExpectError(
        Api(*main_, "PUT", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/" + member, json::object{{member, true}}), 404,
        "NOT_FOUND");
    ExpectError(Api(*main_, "GET", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/" + member), 404, "NOT_FOUND");
  }
}

TEST_F(PingOneTest, UserPopulationResource) {
  auto pop = Api(*main_, "POST", "/populations", json::object{{"name", "Movers"}});
  ASSERT_EQ(pop.status, 201) << pop.body;
  const std::string pop_id = Str(pop.Json(), "id");
  auto u = CreateUser(*main_, {{"username", "mover"}});
  const std::string id = Str(u, "id");
  auto got = Api(*main_, "GET", "/users/" + id + "/population");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Str(got.Json(), "id"), DefaultPopulation(*main_));
  auto put = Api(*main_, "PUT", "/users/" + id + "/population", json::object{{"id", pop_id}});
  ASSERT_EQ(put.status, 200) << put.body;
  // PingOne answers the user's population reference, not the user.
  EXPECT_EQ(Str(put.Json(), "id"), pop_id);
  EXPECT_FALSE(put.Json().as_object().contains("username")) << put.body;
  EXPECT_EQ(Str(Api(*main_, "GET", "/users/" + id).Json().at("population"), "id"), pop_id);
  EXPECT_EQ(Str(Api(*main_, "GET", "/users/" + id + "/population").Json(), "name"), "Movers");
  EXPECT_EQ(Api(*main_, "GET", "/populations/" + pop_id).Json().at("userCount").as_int64(), 1);
  // Listing by population goes by its members.
  auto listed = Api(*main_, "GET", "/users?filter=" + UrlEncode("population.id eq \"" + pop_id + "\""));
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.Json().at("size").as_int64(), 1) << listed.body;
  EXPECT_EQ(Str(listed.Json().at("_embedded").at("users").as_array()[0], "id"), id);
  for (const std::string& unknown :
       std::vector<std::string>{"7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f", DefaultPopulation(*other_)}) {
    auto nobody = Api(*main_, "GET", "/users?filter=" + UrlEncode("population.id eq \"" + unknown + "\""));
    ASSERT_EQ(nobody.status, 200) << nobody.body;
    EXPECT_EQ(nobody.Json().at("size").as_int64(), 0) << nobody.body;
  }
  ExpectError(Api(*main_, "PUT", "/users/" + id + "/population", json::object{{"id", "nope"}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "id");
  ExpectError(Api(*main_, "PUT", "/users/" + id + "/population", json::object{}), 400, "INVALID_DATA", "REQUIRED_VALUE",
              "id");
  ExpectError(
      Api(*main_, "PUT", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/population", json::object{{"id", pop_id}}), 404,
      "NOT_FOUND");
  ExpectError(Api(*main_, "GET", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/population"), 404, "NOT_FOUND");
  // A population of another environment is not one of this environment.
  const std::string foreign = DefaultPopulation(*other_);
  ExpectError(Api(*main_, "PUT", "/users/" + id + "/population", json::object{{"id", foreign}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "id");
  ExpectError(
      Api(*main_, "POST", "/users", json::object{{"username", "foreign-pop"}, {"population", {{"id", foreign}}}}), 400,
      "INVALID_DATA", "INVALID_VALUE", "population.id");
}

TEST_F(PingOneTest, ConcurrentCreatesOfOneUsernameLeaveOneUser) {
  constexpr int kThreads = 8;
  const Headers auth = Auth(*main_);
  std::atomic<int> created{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      Client c(server_->base_url());
      auto r = c.Send("POST", Env(*main_) + "/users",
                      json::serialize(json::object{{"username", i % 2 ? "Racer" : "racer"}}), auth);
      if (r.status == 201)
        ++created;
      else if (r.status == 400 && r.body.find("UNIQUENESS_VIOLATION") != std::string::npos)
        ++conflicts;
      else
        ++other;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
}

// ---- listing -------------------------------------------------------------------------

TEST_F(PingOneTest, ListUsersPagesWithCursorsAndFilters) {
  const App& app = *listing_;
  std::set<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    auto u = CreateUser(app, {{"username", "lister" + std::to_string(i)},
                              {"email", "l" + std::to_string(i) + "@Example.com"},
                              {"name", {{"given", i < 3 ? "Ann" : "Bob"}, {"family", "Smith"}}},
                              {"externalId", "X" + std::to_string(i)},
                              {"enabled", i != 6}});
    ids.insert(Str(u, "id"));
  }
  // All pages, following _links.next.
  std::set<std::string> seen;
  std::string path = Env(app) + "/users?limit=3";
  int pages = 0;
  while (!path.empty()) {
    auto r = client_.Send("GET", path, "", Auth(app));
    ASSERT_EQ(r.status, 200) << r.body;
    const json::object j = r.Json().as_object();
    const auto& users = j.at("_embedded").at("users").as_array();
    EXPECT_EQ(j.at("size").as_int64(), static_cast<std::int64_t>(users.size()));
    EXPECT_EQ(j.at("count").as_int64(), 7);
    EXPECT_LE(users.size(), 3u);
    for (const auto& u : users) EXPECT_TRUE(seen.insert(Str(u, "id")).second) << "repeated " << Str(u, "id");
    const auto& links = j.at("_links").as_object();
    path = links.contains("next") ? PathOf(Str(links.at("next"), "href")) : "";
    ASSERT_LT(++pages, 10);
  }
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(pages, 3);

  const auto filtered = [&](const std::string& filter) {
    auto r = client_.Send("GET", Env(app) + "/users?filter=" + UrlEncode(filter), "", Auth(app));
    EXPECT_EQ(r.status, 200) << filter << ": " << r.body;
    std::set<std::string> names;
    if (r.status != 200) return names;
    const json::value reply2 = r.Json();
    for (const auto& u : reply2.at("_embedded").at("users").as_array()) names.insert(Str(u, "username"));
    return names;
  };
  using Names = std::set<std::string>;
  EXPECT_EQ(filtered(R"(username eq "LISTER4")"), (Names{"lister4"}));
  EXPECT_EQ(filtered(R"(email eq "l2@example.com")"), (Names{"lister2"}));
  EXPECT_EQ(filtered(R"(name.given sw "an")"), (Names{"lister0", "lister1", "lister2"}));
  EXPECT_EQ(filtered(R"((name.family eq "Smith") and (name.given sw "B"))"),
            (Names{"lister3", "lister4", "lister5", "lister6"}));
  EXPECT_EQ(filtered(R"(externalId eq "x1" or username eq "lister5")"), (Names{"lister1", "lister5"}));
  EXPECT_EQ(filtered("enabled eq false"), (Names{"lister6"}));
  EXPECT_EQ(filtered("population.id eq \"" + DefaultPopulation(app) + "\" and username sw \"lister0\""),
            (Names{"lister0"}));
  EXPECT_EQ(filtered(R"(username eq "nobody")"), Names{});

  // A filtered listing pages too.
  std::set<std::string> bobs;
  path = Env(app) + "/users?limit=2&filter=" + UrlEncode(R"(name.given eq "Bob")");
  while (!path.empty()) {
    auto r = client_.Send("GET", path, "", Auth(app));
    ASSERT_EQ(r.status, 200) << r.body;
    const json::value reply3 = r.Json();
    for (const auto& u : reply3.at("_embedded").at("users").as_array()) bobs.insert(Str(u, "username"));
    const json::value reply4 = r.Json();
    const auto& links = reply4.at("_links").as_object();
    path = links.contains("next") ? PathOf(Str(links.at("next"), "href")) : "";
  }
  EXPECT_EQ(bobs, (Names{"lister3", "lister4", "lister5", "lister6"}));

  const auto bad = [&](const std::string& query, const std::string& detail, const std::string& target) {
    ExpectError(client_.Send("GET", Env(app) + "/users?" + query, "", Auth(app)), 400, "INVALID_DATA", detail, target);
  };
  bad("filter=" + UrlEncode(R"(username co "x")"), "INVALID_FILTER", "filter");
  bad("filter=" + UrlEncode(R"(lastSignOn.at eq "x")"), "INVALID_FILTER", "filter");
  bad("filter=" + UrlEncode(R"(username eq )"), "INVALID_FILTER", "filter");
  bad("limit=0", "OUT_OF_RANGE", "limit");
  bad("limit=1001", "OUT_OF_RANGE", "limit");
  bad("cursor=bm90LW91cnM", "INVALID_VALUE", "cursor");
}

// ---- populations ---------------------------------------------------------------------

TEST_F(PingOneTest, PopulationsLifecycleAndExactlyOneDefault) {
  const App& app = *pops_;
  const std::string first_default = DefaultPopulation(app);
  ASSERT_FALSE(first_default.empty());

  auto created = Api(app, "POST", "/populations", json::object{{"name", "Sales"}, {"description", "The sellers"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const json::object sales = created.Json().as_object();
  const std::string sales_id = Str(sales, "id");
  EXPECT_EQ(Str(sales, "name"), "Sales");
  EXPECT_EQ(Str(sales, "description"), "The sellers");
  EXPECT_FALSE(sales.at("default").as_bool());
  EXPECT_EQ(sales.at("userCount").as_int64(), 0);
  EXPECT_EQ(Str(sales.at("environment"), "id"), app.env);

  ExpectError(Api(app, "POST", "/populations", json::object{{"name", "SALES"}}), 400, "INVALID_DATA",
              "UNIQUENESS_VIOLATION", "name");
  ExpectError(Api(app, "POST", "/populations", json::object{{"description", "x"}}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "name");
  ExpectError(Api(app, "POST", "/populations", json::object{{"name", "x"}, {"default", "yes"}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "default");
  ExpectError(Api(app, "POST", "/populations", std::string("{")), 400, "INVALID_REQUEST");

  auto got = Api(app, "GET", "/populations/" + sales_id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Str(got.Json(), "name"), "Sales");
  ExpectError(Api(app, "GET", "/populations/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f"), 404, "NOT_FOUND");

  // Rename; then make it the default: the old default stops being one.
  auto renamed = Api(app, "PUT", "/populations/" + sales_id, json::object{{"name", "Sales EMEA"}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Str(renamed.Json(), "name"), "Sales EMEA");
  EXPECT_FALSE(renamed.Json().as_object().contains("description"));
  ExpectError(Api(app, "PUT", "/populations/" + sales_id, json::object{{"name", ""}}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "name");
  ExpectError(Api(app, "PUT", "/populations/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f", json::object{{"name", "x"}}), 404,
              "NOT_FOUND");
  auto made = Api(app, "PUT", "/populations/" + sales_id, json::object{{"name", "Sales EMEA"}, {"default", true}});
  ASSERT_EQ(made.status, 200) << made.body;
  EXPECT_TRUE(made.Json().at("default").as_bool());
  EXPECT_FALSE(Api(app, "GET", "/populations/" + first_default).Json().at("default").as_bool());
  EXPECT_EQ(DefaultPopulation(app), sales_id);
  ExpectError(Api(app, "PUT", "/populations/" + sales_id, json::object{{"name", "Sales EMEA"}, {"default", false}}),
              400, "INVALID_DATA", "INVALID_VALUE", "default");

  // New users join the new default.
  auto u = CreateUser(app, {{"username", "seller"}});
  EXPECT_EQ(Str(u.at("population"), "id"), sales_id);

  // A population created as the default takes over in one step.
  auto third = Api(app, "POST", "/populations", json::object{{"name", "Third"}, {"default", true}});
  ASSERT_EQ(third.status, 201) << third.body;
  EXPECT_TRUE(third.Json().at("default").as_bool());
  int defaults = 0;
  const json::value reply5 = Api(app, "GET", "/populations").Json();
  for (const auto& p : reply5.at("_embedded").at("populations").as_array())
    defaults += p.at("default").as_bool() ? 1 : 0;
  EXPECT_EQ(defaults, 1);

  // Delete: refused with members or as the default; fine when empty.
  ExpectError(Api(app, "DELETE", "/populations/" + sales_id), 400, "REQUEST_FAILED", "INVALID_VALUE", "userCount");
  ExpectError(Api(app, "DELETE", "/populations/" + Str(third.Json(), "id")), 400, "REQUEST_FAILED", "INVALID_VALUE",
              "default");
  ASSERT_EQ(Api(app, "DELETE", "/users/" + Str(u, "id")).status, 204);
  EXPECT_EQ(Api(app, "DELETE", "/populations/" + sales_id).status, 204);
  ExpectError(Api(app, "GET", "/populations/" + sales_id), 404, "NOT_FOUND");
  ExpectError(Api(app, "DELETE", "/populations/" + sales_id), 404, "NOT_FOUND");
}

TEST_F(PingOneTest, ListPopulationsFiltersAndPages) {
  const App& app = *pops_;
  for (const char* name : {"dev-a", "dev-b", "dev-c", "prod"})
    ASSERT_EQ(Api(app, "POST", "/populations", json::object{{"name", name}}).status, 201);
  const auto names = [&](const std::string& query) {
    std::vector<std::string> out;
    std::string path = Env(app) + "/populations?" + query;
    while (!path.empty()) {
      auto r = client_.Send("GET", path, "", Auth(app));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      const json::value reply6 = r.Json();
      for (const auto& p : reply6.at("_embedded").at("populations").as_array()) out.push_back(Str(p, "name"));
      const json::value reply7 = r.Json();
      const auto& links = reply7.at("_links").as_object();
      path = links.contains("next") ? PathOf(Str(links.at("next"), "href")) : "";
    }
    return out;
  };
  EXPECT_EQ(names("filter=" + UrlEncode(R"(name sw "dev")")), (std::vector<std::string>{"dev-a", "dev-b", "dev-c"}));
  EXPECT_EQ(names("limit=1&filter=" + UrlEncode(R"(name sw "DEV")")),
            (std::vector<std::string>{"dev-a", "dev-b", "dev-c"}));
  auto prod = Api(app, "GET", "/populations?filter=" + UrlEncode(R"(name eq "prod")"));
  const std::string prod_id = Str(prod.Json().at("_embedded").at("populations").as_array()[0], "id");
  EXPECT_EQ(names("filter=" + UrlEncode("id eq \"" + prod_id + "\"")), (std::vector<std::string>{"prod"}));
  auto all = names("limit=2");
  EXPECT_GE(all.size(), 5u);
  ExpectError(Api(app, "GET", "/populations?filter=" + UrlEncode(R"(description eq "x")")), 400, "INVALID_DATA",
              "INVALID_FILTER", "filter");
  ExpectError(Api(app, "GET", "/populations?limit=0"), 400, "INVALID_DATA", "OUT_OF_RANGE", "limit");
  ExpectError(Api(app, "GET", "/populations?cursor=zzz"), 400, "INVALID_DATA", "INVALID_VALUE", "cursor");
}

TEST_F(PingOneTest, FirstUseOfAnEnvironmentCreatesOneDefaultPopulationUnderRace) {
  const App app = CreateApp("race");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      Client c(server_->base_url());
      auto r = c.Send("POST", "/" + app.env + "/as/token", "grant_type=client_credentials",
                      BasicAuth(app.client, app.secret));
      if (r.status == 200) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  auto r = Api(app, "GET", "/populations");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value reply8 = r.Json();
  const auto& pops = reply8.at("_embedded").at("populations").as_array();
  ASSERT_EQ(pops.size(), 1u) << r.body;
  EXPECT_TRUE(pops[0].at("default").as_bool());
}

// ---- passwords -----------------------------------------------------------------------

TEST_F(PingOneTest, ImportWithCleartextPasswordThenCheckSetAndReset) {
  auto r = Api(*main_, "POST", "/users",
               json::object{{"username", "importer"},
                            {"password", {{"value", "Str0ng-Pass!"}, {"forceChange", true}}},
                            {"lifecycle", {{"status", "VERIFICATION_REQUIRED"}}},
                            {"mfaEnabled", true}},
               kImportType);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = Str(r.Json(), "id");
  EXPECT_EQ(Str(r.Json().at("lifecycle"), "status"), "VERIFICATION_REQUIRED");
  EXPECT_TRUE(r.Json().at("mfaEnabled").as_bool());
  EXPECT_EQ(r.body.find("Str0ng-Pass!"), std::string::npos);
  EXPECT_EQ(DumpStore(dir_->path()).find("Str0ng-Pass!"), std::string::npos);

  const std::string path = "/users/" + id + "/password";
  auto check = Api(*main_, "POST", path, json::object{{"password", "Str0ng-Pass!"}}, kCheckType);
  ASSERT_EQ(check.status, 200) << check.body;
  EXPECT_EQ(Str(check.Json(), "status"), "MUST_CHANGE_PASSWORD");
  ExpectError(Api(*main_, "POST", path, json::object{{"password", "wrong"}}, kCheckType), 400, "INVALID_DATA",
              "INVALID_VALUE", "password");
  ExpectError(Api(*main_, "POST", path, json::object{}, kCheckType), 400, "INVALID_DATA", "REQUIRED_VALUE", "password");

  // Set (administrator): policy applies unless bypassed; pre-encoded values only on import.
  auto set = Api(*main_, "PUT", path, json::object{{"value", "An0ther-Pass?"}, {"forceChange", false}}, kSetType);
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(Str(set.Json(), "status"), "OK");
  EXPECT_EQ(Api(*main_, "POST", path, json::object{{"password", "An0ther-Pass?"}}, kCheckType).status, 200);
  EXPECT_EQ(Api(*main_, "POST", path, json::object{{"password", "Str0ng-Pass!"}}, kCheckType).status, 400);
  auto weak = Api(*main_, "PUT", path, json::object{{"value", "weak"}}, kSetType);
  ExpectError(weak, 400, "INVALID_DATA", "INVALID_VALUE", "value");
  EXPECT_NE(weak.body.find("unsatisfiedRequirements"), std::string::npos) << weak.body;
  ExpectError(Api(*main_, "PUT", path, json::object{{"value", kSsha256}}, kSetType), 400, "INVALID_DATA",
              "INVALID_VALUE", "value");
  ExpectError(Api(*main_, "PUT", path, json::object{{"forceChange", true}}, kSetType), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "value");
  EXPECT_EQ(Api(*main_, "PUT", path, json::object{{"value", "weak"}, {"bypassPolicy", true}}, kSetType).status, 200);
  EXPECT_EQ(Api(*main_, "POST", path, json::object{{"password", "weak"}}, kCheckType).status, 200);

  // Reset (with the current password).
  ExpectError(Api(*main_, "PUT", path, json::object{{"currentPassword", "nope"}, {"newPassword", "Brand-N3w-Pass"}},
                  kResetType),
              400, "INVALID_DATA", "INVALID_VALUE", "currentPassword");
  ExpectError(Api(*main_, "PUT", path, json::object{{"currentPassword", "weak"}, {"newPassword", "short"}}, kResetType),
              400, "INVALID_DATA", "INVALID_VALUE", "newPassword");
  ExpectError(Api(*main_, "PUT", path, json::object{{"currentPassword", "weak"}}, kResetType), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "newPassword");
  auto reset = Api(*main_, "PUT", path, json::object{{"currentPassword", "weak"}, {"newPassword", "Brand-N3w-Pass"}},
                   kResetType);
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(Api(*main_, "POST", path, json::object{{"password", "Brand-N3w-Pass"}}, kCheckType).status, 200);

  // The operation is chosen by Content-Type: anything else is 415.
  ExpectError(Api(*main_, "PUT", path, json::object{{"value", "An0ther-Pass?"}}), 415, "UNSUPPORTED_MEDIA_TYPE");
  ExpectError(Api(*main_, "PUT", path, json::object{{"value", "An0ther-Pass?"}}, kCheckType), 415,
              "UNSUPPORTED_MEDIA_TYPE");
  ExpectError(Api(*main_, "POST", path, json::object{{"password", "x"}}, kSetType), 415, "UNSUPPORTED_MEDIA_TYPE");
  ExpectError(Api(*main_, "POST", path, json::object{{"password", "x"}}), 415, "UNSUPPORTED_MEDIA_TYPE");
  // Unknown users.
  const std::string ghost = "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/password";
  ExpectError(Api(*main_, "POST", ghost, json::object{{"password", "x"}}, kCheckType), 404, "NOT_FOUND");
  ExpectError(Api(*main_, "PUT", ghost, json::object{{"value", "An0ther-Pass?"}}, kSetType), 404, "NOT_FOUND");
  ExpectError(
      Api(*main_, "PUT", ghost, json::object{{"currentPassword", "a"}, {"newPassword", "An0ther-Pass?"}}, kResetType),
      404, "NOT_FOUND");
}

// The password hashes the store holds now (not bytes of earlier versions of rows, which
// a SQLite file keeps in free pages and WAL frames).
std::string CurrentPasswordHashes(const std::string& data_dir) {
  if (UsingPostgres()) return DumpStore(data_dir);
  const std::string cmd =
      "sqlite3 -readonly '" + data_dir + "/roster.db' 'SELECT password_hash FROM credentials' 2>/dev/null";
  std::string out;
  if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    ::pclose(pipe);
  }
  return out;
}

TEST_F(PingOneTest, PasswordStateSaysNoPasswordOkOrMustChange) {
  const std::string id = Str(CreateUser(*main_, {{"username", "pw-state"}}), "id");
  auto none = Api(*main_, "GET", "/users/" + id + "/password");
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(Str(none.Json(), "status"), "NO_PASSWORD");
  EXPECT_EQ(Str(none.Json().at("user"), "id"), id);
  ASSERT_EQ(Api(*main_, "PUT", "/users/" + id + "/password", json::object{{"value", "Fresh-Pass1!"}}, kSetType).status,
            200);
  EXPECT_EQ(Str(Api(*main_, "GET", "/users/" + id + "/password").Json(), "status"), "OK");
  ASSERT_EQ(Api(*main_, "PUT", "/users/" + id + "/password",
                json::object{{"value", "Other-Pass2!"}, {"forceChange", true}}, kSetType)
                .status,
            200);
  EXPECT_EQ(Str(Api(*main_, "GET", "/users/" + id + "/password").Json(), "status"), "MUST_CHANGE_PASSWORD");
  ExpectError(Api(*main_, "GET", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/password"), 404, "NOT_FOUND");
}

// ---- account lock ------------------------------------------------------------------------

TEST_F(PingOneTest, ALockedAccountShowsLockedAndSignsInThroughNoApiUntilUnlocked) {
  auto r = Api(*main_, "POST", "/users",
               json::object{{"username", "lock.me"}, {"password", {{"value", "Lock-Pass1!"}}}}, kImportType);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = Str(r.Json(), "id");
  EXPECT_EQ(r.Json().at("account"), (json::object{{"canAuthenticate", true}, {"status", "OK"}}));
  const auto sign_in = [&] {
    return client_.Send("POST", "/v2/auth/signin",
                        json::serialize(json::object{{"username", "lock.me"}, {"password", "Lock-Pass1!"}}),
                        CatalyzeHeaders(admin_));
  };
  auto before = sign_in();
  ASSERT_EQ(before.status, 200) << before.body;
  const std::string session = Str(before.Json(), "sessionToken");

  auto locked = Api(*main_, "POST", "/users/" + id, std::string(""), kLockType);
  ASSERT_EQ(locked.status, 200) << locked.body;
  EXPECT_EQ(Str(locked.Json(), "id"), id);
  EXPECT_EQ(Str(locked.Json().at("account"), "status"), "LOCKED");
  EXPECT_FALSE(locked.Json().at("account").at("canAuthenticate").as_bool());
  EXPECT_TRUE(locked.Json().at("account").as_object().contains("lockedAt"));
  EXPECT_FALSE(locked.Json().at("account").as_object().contains("unlockAt"));
  EXPECT_TRUE(locked.Json().at("enabled").as_bool());  // locked is not disabled
  EXPECT_FALSE(locked.Header("etag").empty());
  const json::value read = Api(*main_, "GET", "/users/" + id).Json();
  EXPECT_EQ(Str(read.at("account"), "status"), "LOCKED");
  // Through Catalyze: the password is right, the account is locked: refused as any
  // failed sign-in, and the session it had ended with the lock.
  EXPECT_EQ(sign_in().status, 401);
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_, session)).status, 401);
  // Still readable and listed (a lock is not a deletion); locking again keeps lockedAt.
  auto again = Api(*main_, "POST", "/users/" + id, json::object{}, kLockType);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json().at("account").at("lockedAt"), locked.Json().at("account").at("lockedAt"));

  auto unlocked = Api(*main_, "POST", "/users/" + id, std::string(""), kUnlockType);
  ASSERT_EQ(unlocked.status, 200) << unlocked.body;
  EXPECT_EQ(unlocked.Json().at("account"), (json::object{{"canAuthenticate", true}, {"status", "OK"}}));
  EXPECT_EQ(sign_in().status, 200);
}

TEST_F(PingOneTest, ALockWithUnlockAtSaysWhenAndOneInThePastLocksNothing) {
  const std::string id = Str(CreateUser(*main_, {{"username", "lock.until"}}), "id");
  auto until = Api(*main_, "POST", "/users/" + id, json::object{{"unlockAt", "2099-06-07T23:59:59Z"}}, kLockType);
  ASSERT_EQ(until.status, 200) << until.body;
  const json::value account = until.Json().at("account");
  EXPECT_EQ(Str(account, "status"), "LOCKED");
  EXPECT_EQ(Str(account, "unlockAt"), "2099-06-07T23:59:59.000Z");
  EXPECT_GT(account.at("secondsUntilUnlock").as_int64(), 0);
  // With an offset, to the same instant.
  auto offset = Api(*main_, "POST", "/users/" + id, json::object{{"unlockAt", "2099-06-08T01:59:59+02:00"}}, kLockType);
  ASSERT_EQ(offset.status, 200) << offset.body;
  EXPECT_EQ(Str(offset.Json().at("account"), "unlockAt"), "2099-06-07T23:59:59.000Z");
  auto past = Api(*main_, "POST", "/users/" + id, json::object{{"unlockAt", "2001-01-01T00:00:00Z"}}, kLockType);
  ASSERT_EQ(past.status, 200) << past.body;
  EXPECT_EQ(Str(past.Json().at("account"), "status"), "OK");
  EXPECT_TRUE(past.Json().at("account").at("canAuthenticate").as_bool());
}

TEST_F(PingOneTest, AccountLockErrorsChangeNothing) {
  const std::string id = Str(CreateUser(*main_, {{"username", "lock.errors"}}), "id");
  const std::string path = "/users/" + id;
  ExpectError(Api(*main_, "POST", path, json::object{{"unlockAt", "tomorrow"}}, kLockType), 400, "INVALID_DATA",
              "INVALID_VALUE", "unlockAt");
  ExpectError(Api(*main_, "POST", path, json::object{{"unlockAt", 7}}, kLockType), 400, "INVALID_DATA",
              "INVALID_VALUE", "unlockAt");
  ExpectError(Api(*main_, "POST", path, std::string("[1]"), kLockType), 400, "INVALID_REQUEST");
  ExpectError(Api(*main_, "POST", path, std::string("{not json"), kLockType), 400, "INVALID_REQUEST");
  ExpectError(Api(*main_, "POST", path, json::object{}), 415, "UNSUPPORTED_MEDIA_TYPE");
  ExpectError(Api(*main_, "POST", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f", std::string(""), kLockType), 404, "NOT_FOUND");
  ExpectError(client_.Send("POST", Env(*main_) + path, "", {{"Content-Type", kLockType}}), 401, "ACCESS_FAILED");
  EXPECT_EQ(Str(Api(*main_, "GET", path).Json().at("account"), "status"), "OK");
  // If-Match holds here too.
  auto stale = client_.Send("POST", Env(*main_) + path, "", [&] {
    Headers h = Auth(*main_, kLockType);
    h.push_back({"If-Match", "W/\"1000\""});
    return h;
  }());
  ExpectError(stale, 412, "PRECONDITION_FAILED");
  EXPECT_EQ(Str(Api(*main_, "GET", path).Json().at("account"), "status"), "OK");
}

TEST_F(PingOneTest, SetValueSetsLikeSetAndUnsetsWithoutAValue) {
  const std::string id = Str(CreateUser(*main_, {{"username", "set.value"}}), "id");
  const std::string path = "/users/" + id + "/password";
  auto set = Api(*main_, "PUT", path, json::object{{"value", "Set-Value1!"}, {"forceChange", true}}, kSetValueType);
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(Str(set.Json(), "status"), "MUST_CHANGE_PASSWORD");
  EXPECT_EQ(Api(*main_, "POST", path, json::object{{"password", "Set-Value1!"}}, kCheckType).status, 200);
  ExpectError(Api(*main_, "PUT", path, json::object{{"value", "weak"}}, kSetValueType), 400, "INVALID_DATA",
              "INVALID_VALUE", "value");
  EXPECT_EQ(Api(*main_, "PUT", path, json::object{{"value", "weak"}, {"bypassPolicy", true}}, kSetValueType).status, 200);
  ExpectError(Api(*main_, "PUT", path, json::object{{"value", 7}}, kSetValueType), 400, "INVALID_DATA",
              "INVALID_VALUE", "value");
  ExpectError(Api(*main_, "PUT", path, json::object{{"value", ""}}, kSetValueType), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "value");
  EXPECT_EQ(Api(*main_, "POST", path, json::object{{"password", "weak"}}, kCheckType).status, 200);
  // forceChange without a value names itself, and unsets nothing.
  ExpectError(Api(*main_, "PUT", path, json::object{{"forceChange", true}}, kSetValueType), 400, "INVALID_DATA",
              "INVALID_VALUE", "forceChange");
  EXPECT_EQ(Str(Api(*main_, "GET", path).Json(), "status"), "OK");
  // set still requires a value.
  ExpectError(Api(*main_, "PUT", path, json::object{}, kSetType), 400, "INVALID_DATA", "REQUIRED_VALUE", "value");
  // PingOne's unset: setValue without a value (or with null) leaves the user no password.
  auto unset = Api(*main_, "PUT", path, json::object{}, kSetValueType);
  ASSERT_EQ(unset.status, 200) << unset.body;
  EXPECT_EQ(Str(unset.Json(), "status"), "NO_PASSWORD");
  EXPECT_FALSE(unset.Json().as_object().contains("lastChangedAt"));
  EXPECT_FALSE(unset.Header("etag").empty());
  EXPECT_EQ(Str(Api(*main_, "GET", path).Json(), "status"), "NO_PASSWORD");
  ExpectError(Api(*main_, "POST", path, json::object{{"password", "weak"}}, kCheckType), 400, "INVALID_DATA",
              "INVALID_VALUE", "password");
  // forceChange needs a password to change.
  ExpectError(Api(*main_, "POST", path, std::string(), "application/vnd.pingidentity.password.forceChange"), 400,
              "REQUEST_FAILED");
  // Unsetting none is no error; null is absent; a password can be set again.
  EXPECT_EQ(Api(*main_, "PUT", path, json::object{{"value", nullptr}}, kSetValueType).status, 200);
  ASSERT_EQ(Api(*main_, "PUT", path, json::object{{"value", "Set-Value2!"}}, kSetValueType).status, 200);
  EXPECT_EQ(Api(*main_, "POST", path, json::object{{"password", "Set-Value2!"}}, kCheckType).status, 200);
  ExpectError(Api(*main_, "PUT", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/password", json::object{},
                  kSetValueType),
              404, "NOT_FOUND");
  ExpectError(Api(*main_, "PUT", path, json::object{{"value", "Set-Value1!"}}, "application/json"), 415,
              "UNSUPPORTED_MEDIA_TYPE");
}

TEST_F(PingOneTest, ForceChangeKeepsThePasswordAndAsksForANewOne) {
  auto r = Api(*main_, "POST", "/users",
               json::object{{"username", "force.change"}, {"password", {{"value", "Force-Pass1!"}}}}, kImportType);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string path = "/users/" + Str(r.Json(), "id") + "/password";
  for (const std::string& type : {std::string(kForceChangeType), std::string(kForceChangeType) + "+json"}) {
    auto forced = Api(*main_, "POST", path, std::string(""), type);
    ASSERT_EQ(forced.status, 200) << forced.body;
    EXPECT_EQ(Str(forced.Json(), "status"), "MUST_CHANGE_PASSWORD");
    EXPECT_FALSE(forced.Header("etag").empty());
  }
  EXPECT_EQ(Str(Api(*main_, "GET", path).Json(), "status"), "MUST_CHANGE_PASSWORD");
  EXPECT_EQ(Api(*main_, "POST", path, json::object{{"password", "Force-Pass1!"}}, kCheckType).status, 200);
  // A user without a password has nothing to change.
  const std::string none = "/users/" + Str(CreateUser(*main_, {{"username", "force.none"}}), "id") + "/password";
  ExpectError(Api(*main_, "POST", none, std::string(""), kForceChangeType), 400, "REQUEST_FAILED");
  EXPECT_EQ(Str(Api(*main_, "GET", none).Json(), "status"), "NO_PASSWORD");
  ExpectError(Api(*main_, "POST", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/password", std::string(""), kForceChangeType), 404,
              "NOT_FOUND");
  ExpectError(Api(*main_, "POST", path, std::string(""), "application/vnd.pingidentity.password.bogus+json"), 415,
              "UNSUPPORTED_MEDIA_TYPE");
}

TEST_F(PingOneTest, ImportPreEncodedPasswordIsVerifiedThenUpgraded) {
  if (!UsingPostgres() && std::system("command -v sqlite3 >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "the sqlite3 command is needed to read the stored hash";
  auto r = Api(*main_, "POST", "/users", json::object{{"username", "legacy"}, {"password", {{"value", kSsha256}}}},
               kImportType);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = Str(r.Json(), "id");
  EXPECT_NE(CurrentPasswordHashes(dir_->path()).find(kSsha256), std::string::npos);  // stored as imported
  const std::string path = "/users/" + id + "/password";
  ExpectError(Api(*main_, "POST", path, json::object{{"password", "Imported-Pass2!"}}, kCheckType), 400, "INVALID_DATA",
              "INVALID_VALUE", "password");
  EXPECT_NE(CurrentPasswordHashes(dir_->path()).find(kSsha256), std::string::npos);
  ASSERT_EQ(Api(*main_, "POST", path, json::object{{"password", "Imported-Pass1!"}}, kCheckType).status, 200);
  // Upgraded to argon2id on the first successful verification.
  EXPECT_EQ(CurrentPasswordHashes(dir_->path()).find(kSsha256), std::string::npos);
  EXPECT_EQ(Api(*main_, "POST", path, json::object{{"password", "Imported-Pass1!"}}, kCheckType).status, 200);
}

TEST_F(PingOneTest, ImportErrors) {
  ExpectError(
      Api(*main_, "POST", "/users", json::object{{"username", "imp1"}, {"password", {{"value", "weak"}}}}, kImportType),
      400, "INVALID_DATA", "INVALID_VALUE", "password.value");
  ExpectError(Api(*main_, "POST", "/users",
                  json::object{{"username", "imp2"}, {"password", {{"value", "{SSHA256}not-base64!"}}}}, kImportType),
              400, "INVALID_DATA", "INVALID_VALUE", "password.value");
  ExpectError(
      Api(*main_, "POST", "/users", json::object{{"username", "imp3"}, {"password", "Str0ng-Pass!"}}, kImportType), 400,
      "INVALID_DATA", "INVALID_VALUE", "password");
  ExpectError(
      Api(*main_, "POST", "/users", json::object{{"username", "imp4"}, {"password", json::object{}}}, kImportType), 400,
      "INVALID_DATA", "REQUIRED_VALUE", "password.value");
  ExpectError(Api(*main_, "POST", "/users", json::object{{"username", "imp5"}, {"lifecycle", {{"status", "LOCKED"}}}},
                  kImportType),
              400, "INVALID_DATA", "INVALID_VALUE", "lifecycle.status");
  ExpectError(Api(*main_, "POST", "/users",
                  json::object{{"username", "imp6"}, {"password", {{"value", "Str0ng-Pass!"}, {"forceChange", 1}}}},
                  kImportType),
              400, "INVALID_DATA", "INVALID_VALUE", "password.forceChange");
  // No partial write: none of them exists.
  for (const char* name : {"imp1", "imp2", "imp3", "imp4", "imp5", "imp6"}) {
    auto found = Api(*main_, "GET", "/users?filter=" + UrlEncode(std::string("username eq \"") + name + "\""));
    EXPECT_EQ(found.Json().at("size").as_int64(), 0) << name;
  }
}

TEST_F(PingOneTest, PlainCreateIgnoresAPasswordMember) {
  auto u = CreateUser(*main_, {{"username", "no-password"}, {"password", {{"value", "Str0ng-Pass!"}}}});
  ExpectError(Api(*main_, "POST", "/users/" + Str(u, "id") + "/password", json::object{{"password", "Str0ng-Pass!"}},
                  kCheckType),
              400, "INVALID_DATA", "INVALID_VALUE", "password");
}

// ---- schema and custom attributes -------------------------------------------------------

class PingOneSchemaTest : public PingOneTest {
 protected:
  std::string SchemaId() {
    auto r = Api(*schema_, "GET", "/schemas");
    EXPECT_EQ(r.status, 200) << r.body;
    return Str(r.Json().at("_embedded").at("schemas").as_array()[0], "id");
  }
  HttpResponse Declare(const json::object& attribute) {
    return Api(*schema_, "POST", "/schemas/" + SchemaId() + "/attributes", attribute);
  }
  std::string MustDeclare(const json::object& attribute) {
    auto r = Declare(attribute);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(r.Json(), "id") : "";
  }
};

TEST_F(PingOneSchemaTest, SchemaListsStandardAttributes) {
  auto r = Api(*schema_, "GET", "/schemas");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value reply9 = r.Json();
  const auto& schemas = reply9.at("_embedded").at("schemas").as_array();
  ASSERT_EQ(schemas.size(), 1u);
  EXPECT_EQ(Str(schemas[0], "name"), "User");
  const std::string id = Str(schemas[0], "id");
  auto one = Api(*schema_, "GET", "/schemas/" + id);
  ASSERT_EQ(one.status, 200);
  std::map<std::string, json::value> by_name;
  const json::value reply10 = one.Json();
  for (const auto& a : reply10.at("attributes").as_array()) by_name[Str(a, "name")] = a;
  ASSERT_TRUE(by_name.count("username"));
  EXPECT_EQ(Str(by_name["username"], "schemaType"), "CORE");
  EXPECT_TRUE(by_name["username"].at("unique").as_bool());
  EXPECT_EQ(Str(by_name["name"], "type"), "COMPLEX");
  EXPECT_EQ(Str(by_name["email"], "schemaType"), "STANDARD");
  auto attributes = Api(*schema_, "GET", "/schemas/" + id + "/attributes");
  ASSERT_EQ(attributes.status, 200);
  EXPECT_GE(attributes.Json().at("size").as_int64(), 15);
  const std::string email_id = Str(by_name["email"], "id");
  EXPECT_EQ(Str(Api(*schema_, "GET", "/schemas/" + id + "/attributes/" + email_id).Json(), "name"), "email");
  ExpectError(Api(*schema_, "PUT", "/schemas/" + id + "/attributes/" + Str(by_name["username"], "id"),
                  json::object{{"name", "username"}, {"type", "STRING"}, {"enabled", false}}),
              400, "REQUEST_FAILED");
  ExpectError(Api(*schema_, "DELETE", "/schemas/" + id + "/attributes/" + email_id), 400, "REQUEST_FAILED");
  ExpectError(Api(*schema_, "GET", "/schemas/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f"), 404, "NOT_FOUND");
  ExpectError(Api(*schema_, "GET", "/schemas/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/attributes"), 404, "NOT_FOUND");
  ExpectError(Api(*schema_, "GET", "/schemas/" + id + "/attributes/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f"), 404,
              "NOT_FOUND");
  // Another environment's schema id is not this environment's.
  ExpectError(Api(*main_, "GET", "/schemas/" + id), 404, "NOT_FOUND");
}

TEST_F(PingOneSchemaTest, DeclareReadUpdateDeleteCustomAttributes) {
  auto r = Declare({{"name", "costCenter"},
                    {"type", "STRING"},
                    {"enabled", true},
                    {"displayName", "Cost center"},
                    {"description", "Where the money goes"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const json::object a = r.Json().as_object();
  const std::string id = Str(a, "id");
  EXPECT_EQ(Str(a, "schemaType"), "CUSTOM");
  EXPECT_EQ(Str(a, "displayName"), "Cost center");
  EXPECT_FALSE(a.at("multiValued").as_bool());
  const std::string base = "/schemas/" + SchemaId() + "/attributes/" + id;
  EXPECT_EQ(Api(*schema_, "GET", base).Json().as_object(), a);

  auto put = Api(*schema_, "PUT", base, json::object{{"name", "costCenter"}, {"type", "STRING"}, {"enabled", true}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_FALSE(put.Json().as_object().contains("description"));
  auto patch = Api(*schema_, "PATCH", base, json::object{{"description", "again"}});
  ASSERT_EQ(patch.status, 200) << patch.body;
  EXPECT_EQ(Str(patch.Json(), "description"), "again");
  ExpectError(Api(*schema_, "PATCH", base, json::object{{"type", "BOOLEAN"}}), 400, "INVALID_DATA", "INVALID_VALUE",
              "type");
  ExpectError(Api(*schema_, "PATCH", base, json::object{{"name", "renamed"}}), 400, "INVALID_DATA", "INVALID_VALUE",
              "name");
  ExpectError(Api(*schema_, "PATCH", base, json::object{{"unique", true}}), 400, "INVALID_DATA", "INVALID_VALUE",
              "unique");
  ExpectError(Api(*schema_, "PUT", base, json::object{{"name", "costCenter"}, {"type", "STRING"}}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "enabled");
  const std::string ghost = "/schemas/" + SchemaId() + "/attributes/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f";
  ExpectError(Api(*schema_, "PATCH", ghost, json::object{{"description", "x"}}), 404, "NOT_FOUND");
  ExpectError(Api(*schema_, "PUT", ghost, json::object{{"name", "g"}, {"type", "STRING"}, {"enabled", true}}), 404,
              "NOT_FOUND");
  ExpectError(Api(*schema_, "DELETE", ghost), 404, "NOT_FOUND");
  ExpectError(Api(*schema_, "PATCH", "/schemas/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/attributes/" + id,
                  json::object{{"description", "x"}}),
              404, "NOT_FOUND");
  ExpectError(Api(*schema_, "DELETE", "/schemas/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/attributes/" + id), 404,
              "NOT_FOUND");
  ExpectError(Api(*schema_, "PATCH", base, std::string("{")), 400, "INVALID_REQUEST");
  EXPECT_EQ(Api(*schema_, "DELETE", base).status, 204);
  ExpectError(Api(*schema_, "GET", base), 404, "NOT_FOUND");
}

TEST_F(PingOneSchemaTest, DeclarationErrors) {
  MustDeclare({{"name", "dupAttr"}, {"type", "STRING"}, {"enabled", true}});
  ExpectError(Declare({{"name", "dupAttr"}, {"type", "BOOLEAN"}, {"enabled", true}}), 400, "INVALID_DATA",
              "UNIQUENESS_VIOLATION", "name");
  ExpectError(Declare({{"name", "Email"}, {"type", "STRING"}, {"enabled", true}}), 400, "INVALID_DATA", "INVALID_VALUE",
              "name");
  ExpectError(Declare({{"name", "9lives"}, {"type", "STRING"}, {"enabled", true}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "name");
  ExpectError(Declare({{"type", "STRING"}, {"enabled", true}}), 400, "INVALID_DATA", "REQUIRED_VALUE", "name");
  ExpectError(Declare({{"name", "t1"}, {"type", "NUMBER"}, {"enabled", true}}), 400, "INVALID_DATA", "INVALID_VALUE",
              "type");
  ExpectError(Declare({{"name", "t2"}, {"type", "COMPLEX"}, {"enabled", true}}), 400, "INVALID_DATA", "INVALID_VALUE",
              "type");
  ExpectError(Declare({{"name", "t3"}, {"type", "STRING"}}), 400, "INVALID_DATA", "REQUIRED_VALUE", "enabled");
  ExpectError(Declare({{"name", "t4"}, {"type", "STRING"}, {"enabled", true}, {"unique", true}, {"multiValued", true}}),
              400, "INVALID_DATA", "INVALID_VALUE", "unique");
  ExpectError(
      Declare({{"name", "t5"}, {"type", "BOOLEAN"}, {"enabled", true}, {"enumeratedValues", {{{"value", "a"}}}}}), 400,
      "INVALID_DATA", "INVALID_VALUE", "enumeratedValues");
  ExpectError(Declare({{"name", "t6"},
                       {"type", "STRING"},
                       {"enabled", true},
                       {"enumeratedValues", {{{"value", "a"}}, {{"value", "a"}}}}}),
              400, "INVALID_DATA", "INVALID_VALUE", "enumeratedValues[1].value");
  ExpectError(
      Declare({{"name", "t7"}, {"type", "STRING"}, {"enabled", true}, {"regexValidation", {{"pattern", "(a"}}}}), 400,
      "INVALID_DATA", "INVALID_VALUE", "regexValidation.pattern");
  ExpectError(
      Declare({{"name", "t8"}, {"type", "STRING"}, {"enabled", true}, {"regexValidation", {{"pattern", "(a)\\1"}}}}),
      400, "INVALID_DATA", "INVALID_VALUE", "regexValidation.pattern");
  ExpectError(Declare({{"name", "t9"},
                       {"type", "STRING"},
                       {"enabled", true},
                       {"regexValidation", {{"pattern", "[0-9]+"}, {"valuesPatternShouldMatch", {"12a"}}}}}),
              400, "INVALID_DATA", "INVALID_VALUE", "regexValidation.valuesPatternShouldMatch");
  ExpectError(Declare({{"name", "t10"},
                       {"type", "STRING"},
                       {"enabled", true},
                       {"regexValidation", {{"pattern", "[0-9]+"}, {"valuesPatternShouldNotMatch", {"12"}}}}}),
              400, "INVALID_DATA", "INVALID_VALUE", "regexValidation.valuesPatternShouldNotMatch");
  ExpectError(Api(*schema_, "POST", "/schemas/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/attributes",
                  json::object{{"name", "t11"}, {"type", "STRING"}, {"enabled", true}}),
              404, "NOT_FOUND");
}

TEST_F(PingOneSchemaTest, DeclaredValuesAreValidatedStoredAndFilterable) {
  MustDeclare({{"name", "locales"}, {"type", "STRING"}, {"enabled", true}, {"multiValued", true}});
  MustDeclare({{"name", "team"},
               {"type", "STRING"},
               {"enabled", true},
               {"enumeratedValues", {{{"value", "red"}}, {{"value", "blue"}, {"description", "Blue team"}}}}});
  MustDeclare({{"name", "badge"},
               {"type", "STRING"},
               {"enabled", true},
               {"regexValidation",
                {{"pattern", "[A-Z]{2}-\\d{3}"},
                 {"requirements", "two letters, a dash, three digits"},
                 {"valuesPatternShouldMatch", {"AB-123"}},
                 {"valuesPatternShouldNotMatch", {"ab-123"}}}}});
  MustDeclare({{"name", "prefs"}, {"type", "JSON"}, {"enabled", true}});
  MustDeclare({{"name", "vip"}, {"type", "BOOLEAN"}, {"enabled", true}});
  // Catastrophic-backtracking shapes are accepted and stay cheap.
  MustDeclare({{"name", "slow"}, {"type", "STRING"}, {"enabled", true}, {"regexValidation", {{"pattern", "(a+)+b"}}}});

  json::object body{{"username", "custom1"},       {"locales", {"Sydney", "London"}},        {"team", "blue"},
                    {"badge", "XY-042"},           {"prefs", {{"theme", "dark"}, {"n", 3}}}, {"vip", true},
                    {"undeclaredThing", "dropped"}};
  auto u = CreateUser(*schema_, body);
  for (const char* key : {"locales", "team", "badge", "prefs", "vip"}) EXPECT_EQ(u.at(key), body.at(key)) << key;
  EXPECT_FALSE(u.contains("undeclaredThing"));
  auto got = Api(*schema_, "GET", "/users/" + Str(u, "id")).Json().as_object();
  EXPECT_EQ(got.at("locales"), body.at("locales"));

  const auto bad = [&](json::object extra, const std::string& target, const std::string& code = "INVALID_VALUE") {
    extra["username"] = "custom-bad";
    ExpectError(Api(*schema_, "POST", "/users", extra), 400, "INVALID_DATA", code, target);
  };
  bad({{"locales", "Sydney"}}, "locales");  // multi-valued: always an array
  bad({{"locales", {1, 2}}}, "locales");
  bad({{"team", "green"}}, "team");
  bad({{"team", {"red"}}}, "team");
  bad({{"badge", "xy-042"}}, "badge");
  bad({{"prefs", "dark"}}, "prefs");
  bad({{"vip", "yes"}}, "vip");
  bad({{"slow", std::string(2000, 'a') + "c"}}, "slow");
  auto enum_error = Api(*schema_, "POST", "/users", json::object{{"username", "custom-bad"}, {"team", "green"}});
  EXPECT_NE(enum_error.body.find("allowedValues"), std::string::npos) << enum_error.body;

  // PATCH changes one custom value; null removes it; PUT without it removes it.
  const std::string id = Str(u, "id");
  ASSERT_EQ(Api(*schema_, "PATCH", "/users/" + id, json::object{{"team", "red"}, {"vip", nullptr}}).status, 200);
  got = Api(*schema_, "GET", "/users/" + id).Json().as_object();
  EXPECT_EQ(Str(got, "team"), "red");
  EXPECT_FALSE(got.contains("vip"));
  EXPECT_EQ(got.at("badge"), body.at("badge"));
  ASSERT_EQ(Api(*schema_, "PUT", "/users/" + id, json::object{{"username", "custom1"}, {"team", "blue"}}).status, 200);
  got = Api(*schema_, "GET", "/users/" + id).Json().as_object();
  EXPECT_EQ(Str(got, "team"), "blue");
  EXPECT_FALSE(got.contains("badge"));
  EXPECT_FALSE(got.contains("locales"));

  // Declared STRING attributes can be filtered on.
  CreateUser(*schema_, {{"username", "custom2"}, {"team", "red"}});
  auto list = Api(*schema_, "GET", "/users?filter=" + UrlEncode(R"(team eq "RED")"));
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.Json().at("size").as_int64(), 1);
  EXPECT_EQ(Str(list.Json().at("_embedded").at("users").as_array()[0], "username"), "custom2");
}

TEST_F(PingOneSchemaTest, RequiredAndDisabledAttributes) {
  const std::string required =
      MustDeclare({{"name", "office"}, {"type", "STRING"}, {"enabled", true}, {"required", true}});
  ExpectError(Api(*schema_, "POST", "/users", json::object{{"username", "req1"}}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "office");
  auto u = CreateUser(*schema_, {{"username", "req1"}, {"office", "Lyon"}});
  ExpectError(Api(*schema_, "PATCH", "/users/" + Str(u, "id"), json::object{{"office", nullptr}}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "office");
  // Disabled: hidden, and values sent are ignored.
  const std::string base = "/schemas/" + SchemaId() + "/attributes/" + required;
  ASSERT_EQ(Api(*schema_, "PATCH", base, json::object{{"enabled", false}}).status, 200);
  auto v = CreateUser(*schema_, {{"username", "req2"}, {"office", "Nice"}});
  EXPECT_FALSE(v.contains("office"));
  EXPECT_FALSE(Api(*schema_, "GET", "/users/" + Str(u, "id")).Json().as_object().contains("office"));
  // Re-enabled: the value stored before comes back, the one sent while disabled does not.
  ASSERT_EQ(Api(*schema_, "PATCH", base, json::object{{"enabled", true}, {"required", false}}).status, 200);
  EXPECT_EQ(Str(Api(*schema_, "GET", "/users/" + Str(u, "id")).Json(), "office"), "Lyon");
  EXPECT_FALSE(Api(*schema_, "GET", "/users/" + Str(v, "id")).Json().as_object().contains("office"));
  ASSERT_EQ(Api(*schema_, "DELETE", base).status, 204);
  EXPECT_FALSE(Api(*schema_, "GET", "/users/" + Str(u, "id")).Json().as_object().contains("office"));
}

TEST_F(PingOneSchemaTest, APhiAttributeAndAddressesAreHiddenAndGuardedWithoutPhiScopes) {
  auto declared =
      Declare(json::object{{"name", "diagnosis"}, {"type", "STRING"}, {"enabled", true}, {"phi", true}});
  ASSERT_EQ(declared.status, 201) << declared.body;
  EXPECT_TRUE(declared.Json().at("phi").as_bool());
  const json::object u = CreateUser(*schema_, json::object{{"username", "phi-holder"},
                                                            {"diagnosis", "influenza-b"},
                                                            {"address", {{"postalCode", "62701"}}}});
  ASSERT_TRUE(u.contains("id"));
  const std::string path = "/users/" + Str(u, "id");
  // An application made with the defaults (no phi:*) in the same environment.
  auto made = RunRoster({"pingone", "app", "create", "--env", "schema", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const json::value j = json::parse(made.out);
  const App plain{Str(j, "environmentId"), Str(j, "clientId"), Str(j, "clientSecret")};

  auto seen = Api(plain, "GET", path);
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(seen.body.find("influenza-b"), std::string::npos) << seen.body;
  EXPECT_EQ(seen.body.find("62701"), std::string::npos) << seen.body;
  EXPECT_FALSE(seen.Json().as_object().contains("diagnosis"));
  // Its filters test what it sees: nothing.
  auto filtered = Api(plain, "GET", "/users?filter=" + UrlEncode(R"(diagnosis eq "influenza-b")"));
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  EXPECT_EQ(filtered.Json().at("_embedded").at("users").as_array().size(), 0u) << filtered.body;

  // Writing PHI is refused naming the field; other changes keep the PHI it never saw.
  ExpectError(Api(plain, "PATCH", path, json::object{{"diagnosis", "measles"}}), 403, "ACCESS_FAILED",
              "INSUFFICIENT_PERMISSIONS", "diagnosis");
  ExpectError(Api(plain, "PATCH", path, json::object{{"address", {{"postalCode", "10001"}}}}), 403, "ACCESS_FAILED",
              "INSUFFICIENT_PERMISSIONS", "address");
  auto replaced = Api(plain, "PUT", path, json::object{{"username", "phi-holder"}, {"nickname", "Phi"}});
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  auto full = Api(*schema_, "GET", path);
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_EQ(Str(full.Json(), "diagnosis"), "influenza-b");
  EXPECT_EQ(Str(full.Json().at("address"), "postalCode"), "62701");
  EXPECT_EQ(Str(full.Json(), "nickname"), "Phi");
}

TEST_F(PingOneSchemaTest, UniqueAttributesAreUniqueAcrossUsers) {
  MustDeclare({{"name", "employeeId"}, {"type", "STRING"}, {"enabled", true}, {"unique", true}});
  auto a = CreateUser(*schema_, {{"username", "uniq-a"}, {"employeeId", "E-1"}});
  ExpectError(Api(*schema_, "POST", "/users", json::object{{"username", "uniq-b"}, {"employeeId", "e-1"}}), 400,
              "INVALID_DATA", "UNIQUENESS_VIOLATION", "employeeId");
  auto b = CreateUser(*schema_, {{"username", "uniq-b"}, {"employeeId", "E-2"}});
  ExpectError(Api(*schema_, "PATCH", "/users/" + Str(b, "id"), json::object{{"employeeId", "E-1"}}), 400,
              "INVALID_DATA", "UNIQUENESS_VIOLATION", "employeeId");
  // Re-sending one's own value is fine.
  EXPECT_EQ(
      Api(*schema_, "PATCH", "/users/" + Str(a, "id"), json::object{{"employeeId", "E-1"}, {"title", "x"}}).status,
      200);
  // A changed value frees the old one; a deleted user frees theirs.
  ASSERT_EQ(Api(*schema_, "PATCH", "/users/" + Str(a, "id"), json::object{{"employeeId", "E-3"}}).status, 200);
  EXPECT_EQ(Api(*schema_, "PATCH", "/users/" + Str(b, "id"), json::object{{"employeeId", "E-1"}}).status, 200);
  ASSERT_EQ(Api(*schema_, "DELETE", "/users/" + Str(a, "id")).status, 204);
  CreateUser(*schema_, {{"username", "uniq-c"}, {"employeeId", "E-3"}});
  // Concurrent claims of one value: one wins.
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, conflicts{0};
  const Headers auth = Auth(*schema_);
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      Client c(server_->base_url());
      auto r = c.Send(
          "POST", Env(*schema_) + "/users",
          json::serialize(json::object{{"username", "uniq-race-" + std::to_string(i)}, {"employeeId", "E-9"}}), auth);
      if (r.status == 201)
        ++created;
      else if (r.status == 400 && r.body.find("UNIQUENESS_VIOLATION") != std::string::npos)
        ++conflicts;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), 5);
}

// ---- standard attributes enabled and disabled ---------------------------------------------
// A standard attribute's `enabled` is the environment's setting (a record of the
// directory, kept across servers): disabled, it is not returned on users, ignored on
// writes (neither set nor cleared) and refused in filters.

class PingOneStandardAttributeTest : public PingOneTest {
 protected:
  // The standard_ environment's attributes by name.
  std::map<std::string, json::value> Attributes() {
    auto r = Api(*standard_, "GET", "/schemas");
    EXPECT_EQ(r.status, 200) << r.body;
    const json::value reply = r.Json();
    std::map<std::string, json::value> out;
    for (const auto& a : reply.at("_embedded").at("schemas").as_array()[0].at("attributes").as_array())
      out[Str(a, "name")] = a;
    return out;
  }
  std::string Path(const json::value& attribute) {
    return "/schemas/" + Str(attribute.at("schema"), "id") + "/attributes/" + Str(attribute, "id");
  }
};

TEST_F(PingOneStandardAttributeTest, ADisabledStandardAttributeIsHiddenIgnoredAndNotFilterable) {
  auto attributes = Attributes();
  const json::value nickname = attributes["nickname"];
  const json::value address = attributes["address"];
  EXPECT_TRUE(nickname.at("enabled").as_bool());
  const std::string id = Str(CreateUser(*standard_, {{"username", "std.one"},
                                                     {"nickname", "Nick"},
                                                     {"address", {{"locality", "Paris"}}}}),
                             "id");
  // As Terraform's pingone_schema_attribute sends it: every member read back, enabled changed.
  json::object body = nickname.as_object();
  for (const char* key : {"_links", "id", "environment", "schema"}) body.erase(key);
  body["enabled"] = false;
  auto off = Api(*standard_, "PUT", Path(nickname), body);
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_FALSE(off.Json().at("enabled").as_bool());
  EXPECT_EQ(Str(off.Json(), "schemaType"), "STANDARD");
  EXPECT_FALSE(Api(*standard_, "GET", Path(nickname)).Json().at("enabled").as_bool());
  EXPECT_FALSE(Attributes()["nickname"].at("enabled").as_bool());
  ASSERT_EQ(Api(*standard_, "PATCH", Path(address), json::object{{"enabled", false}}).status, 200);

  // Not returned on reads and lists.
  auto read = Api(*standard_, "GET", "/users/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_FALSE(read.Json().as_object().contains("nickname")) << read.body;
  EXPECT_FALSE(read.Json().as_object().contains("address")) << read.body;
  auto list = Api(*standard_, "GET", "/users?filter=" + std::string("username%20eq%20%22std.one%22"));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body.find("Nick"), std::string::npos) << list.body;
  // Ignored on writes: a create does not store it, a replace does not clear it, a merge
  // does not change it.
  const std::string other = Str(CreateUser(*standard_, {{"username", "std.two"}, {"nickname", "Dropped"}}), "id");
  auto put = Api(*standard_, "PUT", "/users/" + id, json::object{{"username", "std.one"}, {"title", "Chef"}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_FALSE(put.Json().as_object().contains("nickname"));
  ASSERT_EQ(Api(*standard_, "PATCH", "/users/" + id, json::object{{"nickname", "Changed"}}).status, 200);
  // Refused in filters, by name.
  ExpectError(Api(*standard_, "GET", "/users?filter=nickname%20eq%20%22Nick%22"), 400, "INVALID_DATA",
              "INVALID_FILTER", "filter");
  ExpectError(Api(*standard_, "GET", "/users?filter=address.locality%20eq%20%22Paris%22"), 400, "INVALID_DATA",
              "INVALID_FILTER", "filter");

  // Enabled again: the values kept while it was disabled are back, the ignored ones never were.
  auto on = Api(*standard_, "PATCH", Path(nickname), json::object{{"enabled", true}});
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_TRUE(on.Json().at("enabled").as_bool());
  ASSERT_EQ(Api(*standard_, "PUT", Path(address), json::object{{"enabled", true}}).status, 200);
  auto back = Api(*standard_, "GET", "/users/" + id);
  EXPECT_EQ(Str(back.Json(), "nickname"), "Nick") << back.body;
  EXPECT_EQ(Str(back.Json().at("address"), "locality"), "Paris") << back.body;
  EXPECT_EQ(Str(back.Json(), "title"), "Chef");
  EXPECT_FALSE(Api(*standard_, "GET", "/users/" + other).Json().as_object().contains("nickname"));
  auto found = Api(*standard_, "GET", "/users?filter=nickname%20eq%20%22Nick%22");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.Json().at("count").as_int64(), 1);
}

TEST_F(PingOneStandardAttributeTest, StandardAttributeWritesNameWhatCannotChangeAndChangeNothing) {
  auto attributes = Attributes();
  const json::value email = attributes["email"];
  // Core attributes cannot change at all; no attribute of the schema can be deleted.
  ExpectError(Api(*standard_, "PUT", Path(attributes["username"]), json::object{{"enabled", false}}), 400,
              "REQUEST_FAILED");
  ExpectError(Api(*standard_, "PATCH", Path(attributes["enabled"]), json::object{{"enabled", false}}), 400,
              "REQUEST_FAILED");
  ExpectError(Api(*standard_, "DELETE", Path(email)), 400, "REQUEST_FAILED");
  // Of a standard one, only enabled: required on PUT, a boolean; the others name themselves.
  ExpectError(Api(*standard_, "PUT", Path(email), json::object{{"name", "email"}}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "enabled");
  ExpectError(Api(*standard_, "PATCH", Path(email), json::object{{"enabled", nullptr}}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "enabled");
  ExpectError(Api(*standard_, "PUT", Path(email), json::object{{"enabled", "no"}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "enabled");
  ExpectError(Api(*standard_, "PUT", Path(email), json::object{{"enabled", false}, {"name", "mail"}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "name");
  ExpectError(Api(*standard_, "PUT", Path(email), json::object{{"enabled", false}, {"type", "JSON"}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "type");
  ExpectError(Api(*standard_, "PUT", Path(email), json::object{{"enabled", false}, {"unique", true}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "unique");
  ExpectError(Api(*standard_, "PATCH", Path(email), json::object{{"multiValued", true}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "multiValued");
  ExpectError(Api(*standard_, "PATCH", Path(email),
                  json::object{{"regexValidation", {{"pattern", ".*"}, {"requirements", "any"}}}}),
              400, "INVALID_DATA", "INVALID_VALUE", "regexValidation");
  ExpectError(Api(*standard_, "PATCH", Path(email), json::object{{"description", "mail"}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "description");
  ExpectError(Api(*standard_, "PATCH", Path(email), std::string("[1]")), 400, "INVALID_REQUEST");
  // None of it changed anything; an empty PATCH changes nothing either.
  auto same = Api(*standard_, "PATCH", Path(email), json::object{});
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_TRUE(same.Json().at("enabled").as_bool());
  EXPECT_TRUE(Api(*standard_, "GET", Path(email)).Json().at("enabled").as_bool());
  // Another environment's attribute id is unknown here; so is an unknown schema.
  auto foreign = Api(*main_, "PUT", Path(email), json::object{{"enabled", false}});
  EXPECT_EQ(foreign.status, 404) << foreign.body;
  EXPECT_EQ(Api(*standard_, "PUT", "/schemas/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/attributes/" + Str(email, "id"),
                json::object{{"enabled", false}})
                .status,
            404);
  // Without schema:write, 403.
  auto app = RunRoster({"pingone", "app", "create", "--env", "standard", "--scope", "profile:read", "--data-dir",
                        dir_->path(), "--json"});
  ASSERT_EQ(app.exit_code, 0) << app.err;
  const json::value j = json::parse(app.out);
  const App reader{Str(j, "environmentId"), Str(j, "clientId"), Str(j, "clientSecret")};
  EXPECT_EQ(Api(reader, "PUT", Path(email), json::object{{"enabled", false}}).status, 403);
  EXPECT_TRUE(Api(*standard_, "GET", Path(email)).Json().at("enabled").as_bool());
}

// The setting is the directory's: a server sharing the database sees it on its next
// request (with PostgreSQL, a second server; with SQLite, the one).
TEST(PingOneSharedSchemaTest, AStandardAttributeDisabledThroughOneServerIsDisabledOnAnother) {
  TempDir first, second;
  InitDataDir(first.path());
  if (UsingPostgres())
    for (const char* file : {"master.key", "roster.toml"})
      std::filesystem::copy_file(std::filesystem::path(first.path()) / file, std::filesystem::path(second.path()) / file);
  auto created = RunRoster(
      {"pingone", "app", "create", "--env", "default", "--scope", "all", "--data-dir", first.path(), "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const json::value app = json::parse(created.out);
  Server a(first.path());
  std::unique_ptr<Server> b;
  if (UsingPostgres()) b = std::make_unique<Server>(second.path());
  Client ca(a.base_url()), cb(b ? b->base_url() : a.base_url());
  auto token = ca.Send("POST", "/" + Str(app, "environmentId") + "/as/token",
                       "grant_type=client_credentials&client_id=" + Str(app, "clientId") +
                           "&client_secret=" + Str(app, "clientSecret"),
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(token.status, 200) << token.body;
  const Headers auth{{"Authorization", "Bearer " + Str(token.Json(), "access_token")},
                     {"Content-Type", "application/json"}};
  const std::string env = "/v1/environments/" + Str(app, "environmentId");
  auto user = cb.Send("POST", env + "/users", R"({"username":"shared","title":"Chef"})", auth);
  ASSERT_EQ(user.status, 201) << user.body;
  auto schema = ca.Send("GET", env + "/schemas", "", auth);
  ASSERT_EQ(schema.status, 200) << schema.body;
  const json::value reply = schema.Json();
  std::string title;
  for (const auto& attribute : reply.at("_embedded").at("schemas").as_array()[0].at("attributes").as_array())
    if (Str(attribute, "name") == "title")
      title = "/schemas/" + Str(attribute.at("schema"), "id") + "/attributes/" + Str(attribute, "id");
  ASSERT_FALSE(title.empty());
  ASSERT_EQ(ca.Send("PATCH", env + title, R"({"enabled":false})", auth).status, 200);
  auto hidden = cb.Send("GET", env + "/users/" + Str(user.Json(), "id"), "", auth);
  ASSERT_EQ(hidden.status, 200) << hidden.body;
  EXPECT_FALSE(hidden.Json().as_object().contains("title")) << hidden.body;
  EXPECT_FALSE(cb.Send("GET", env + title, "", auth).Json().at("enabled").as_bool());
  ASSERT_EQ(cb.Send("PATCH", env + title, R"({"enabled":true})", auth).status, 200);
  EXPECT_EQ(Str(ca.Send("GET", env + "/users/" + Str(user.Json(), "id"), "", auth).Json(), "title"), "Chef");
}

// ---- one directory ---------------------------------------------------------------------

TEST_F(PingOneTest, UserCreatedThroughCatalyzeIsReadableAndUpdatableHere) {
  json::object catalyze_user{{"username", "cat.user"},
                             {"password", "pw-123456"},
                             {"email", {{"primary", "cat@example.com"}, {"work", "cat.work@example.com"}}},
                             {"name", {{"firstName", "Cat"}, {"lastName", "Alyze"}, {"maidenName", "Maid"}}},
                             {"phoneNumber", {{"mobile", "+1 555 0111"}, {"preferred", "mobile"}}},
                             {"dob", "1990-01-02"},
                             {"extras", {{"k", "v"}}}};
  auto created = client_.Send("POST", "/v2/users", json::serialize(catalyze_user), CatalyzeHeaders(admin_));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = Str(created.Json(), "usersId");

  auto got = Api(*main_, "GET", "/users/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  const json::object u = got.Json().as_object();
  EXPECT_EQ(Str(u, "username"), "cat.user");
  EXPECT_EQ(Str(u, "email"), "cat@example.com");
  EXPECT_EQ(u.at("name"), (json::object{{"given", "Cat"}, {"family", "Alyze"}}));
  EXPECT_EQ(Str(u, "mobilePhone"), "+1 555 0111");
  EXPECT_FALSE(u.at("enabled").as_bool());  // Catalyze creates users inactive
  EXPECT_EQ(Str(u.at("population"), "id"), DefaultPopulation(*main_));

  // Update here; Catalyze sees the change and keeps what PingOne has no field for.
  ASSERT_EQ(Api(*main_, "PATCH", "/users/" + id, json::object{{"name", {{"given", "Kat"}}}, {"title", "Dr"}}).status,
            200);
  ASSERT_EQ(Api(*main_, "PUT", "/users/" + id + "/enabled", json::object{{"enabled", true}}).status, 200);
  auto back = client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_));
  ASSERT_EQ(back.status, 200) << back.body;
  const json::value c = back.Json();
  EXPECT_EQ(Str(c.at("name"), "firstName"), "Kat");
  EXPECT_EQ(Str(c.at("name"), "lastName"), "Alyze");
  EXPECT_EQ(Str(c.at("name"), "maidenName"), "Maid");
  EXPECT_EQ(Str(c.at("email"), "primary"), "cat@example.com");
  EXPECT_EQ(Str(c.at("email"), "work"), "cat.work@example.com");
  EXPECT_EQ(Str(c, "dob"), "1990-01-02");
  EXPECT_EQ(c.at("extras"), (json::object{{"k", "v"}}));
  EXPECT_TRUE(c.at("active").as_bool());
  // A PingOne PUT replaces PingOne's attributes only: Catalyze-only data stays.
  ASSERT_EQ(Api(*main_, "PUT", "/users/" + id,
                json::object{{"username", "cat.user"}, {"email", "cat2@example.com"}, {"enabled", true}})
                .status,
            200);
  const json::value c2 = client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_)).Json();
  EXPECT_EQ(Str(c2.at("email"), "primary"), "cat2@example.com");
  EXPECT_EQ(Str(c2, "dob"), "1990-01-02");
  EXPECT_EQ(c2.at("extras"), (json::object{{"k", "v"}}));
  EXPECT_FALSE(c2.at("name").as_object().contains("firstName"));
  // And the password set through Catalyze checks here.
  EXPECT_EQ(
      Api(*main_, "POST", "/users/" + id + "/password", json::object{{"password", "pw-123456"}}, kCheckType).status,
      200);
}

TEST_F(PingOneTest, UsersCreatedBeforePingOneFirstUseJoinTheDefaultPopulation) {
  auto created = client_.Send(
      "POST", "/v2/users",
      json::serialize(json::object{
          {"username", "early.bird"}, {"password", "pw-123456"}, {"email", {{"primary", "early@example.com"}}}}),
      CatalyzeHeaders(late_admin_));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = Str(created.Json(), "usersId");
  const App late = CreateApp("late");  // the environment's first worker application
  const std::string pop = DefaultPopulation(late);
  auto u = Api(late, "GET", "/users/" + id);
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(Str(u.Json().at("population"), "id"), pop);
  EXPECT_EQ(Api(late, "GET", "/populations/" + pop).Json().at("userCount").as_int64(), 1);
}

TEST_F(PingOneTest, UserCreatedHereIsReadableAndUpdatableThroughCatalyze) {
  auto u = CreateUser(*main_, {{"username", "ping.user"},
                               {"email", "ping@example.com"},
                               {"name", {{"given", "Ping"}, {"family", "One"}}},
                               {"primaryPhone", "+1 555 0122"}});
  const std::string id = Str(u, "id");
  auto got = client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Str(got.Json().at("email"), "primary"), "ping@example.com");
  EXPECT_EQ(Str(got.Json().at("name"), "firstName"), "Ping");
  EXPECT_EQ(Str(got.Json().at("name"), "lastName"), "One");
  EXPECT_TRUE(got.Json().at("active").as_bool());

  auto put = client_.Send("PUT", "/v2/users/" + id,
                          json::serialize(json::object{{"name", {{"lastName", "Two"}}}, {"dob", "1980-05-06"}}),
                          CatalyzeHeaders(admin_));
  ASSERT_EQ(put.status, 200) << put.body;
  const json::object back = Api(*main_, "GET", "/users/" + id).Json().as_object();
  EXPECT_EQ(back.at("name"), (json::object{{"given", "Ping"}, {"family", "Two"}}));
  EXPECT_EQ(Str(back, "primaryPhone"), "+1 555 0122");
  EXPECT_EQ(Str(back, "username"), "ping.user");
  // Deleted here, gone there.
  ASSERT_EQ(Api(*main_, "DELETE", "/users/" + id).status, 204);
  EXPECT_EQ(client_.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_)).status, 404);
}

// `serve --public-url` sets the base of every link, whatever Host the request carries.
// ---- groups ----------------------------------------------------------------------------

TEST_F(PingOneTest, GroupsCreateReadReplaceListAndDelete) {
  const App& app = *main_;
  auto created = Api(app, "POST", "/groups",
                     json::object{{"name", "Engineering"},
                                  {"description", "Builds things"},
                                  {"externalId", "ext-eng"},
                                  {"customData", {{"cost", "42"}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const json::value g = created.Json();
  const std::string id = Str(g, "id");
  EXPECT_EQ(Str(g, "name"), "Engineering");
  EXPECT_EQ(Str(g, "displayName"), "Engineering");
  EXPECT_EQ(Str(g, "description"), "Builds things");
  EXPECT_EQ(Str(g, "externalId"), "ext-eng");
  EXPECT_EQ(Str(g.at("customData"), "cost"), "42");
  EXPECT_EQ(Str(g.at("environment"), "id"), app.env);
  EXPECT_EQ(created.Header("etag"), "W/\"1\"");

  auto read = Api(app, "GET", "/groups/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.Json(), g);

  // PUT replaces: what is left out is cleared.
  auto put = Api(app, "PUT", "/groups/" + id, json::object{{"name", "Engineers"}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Str(put.Json(), "name"), "Engineers");
  EXPECT_FALSE(put.Json().as_object().contains("description")) << put.body;
  EXPECT_FALSE(put.Json().as_object().contains("externalId")) << put.body;

  // Errors, each in PingOne's shape naming the attribute, changing nothing.
  ExpectError(Api(app, "POST", "/groups", json::object{}), 400, "INVALID_DATA", "REQUIRED_VALUE", "name");
  ExpectError(Api(app, "POST", "/groups", json::object{{"name", 7}}), 400, "INVALID_DATA", "INVALID_VALUE", "name");
  ExpectError(Api(app, "POST", "/groups", json::object{{"name", "ENGINEERS"}}), 400, "INVALID_DATA",
              "UNIQUENESS_VIOLATION", "name");
  ExpectError(Api(app, "POST", "/groups", json::object{{"name", "x"}, {"customData", "no"}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "customData");
  ExpectError(Api(app, "POST", "/groups", json::object{{"name", "x"}, {"userFilter", "title eq \"a\""}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "userFilter");
  ExpectError(Api(app, "POST", "/groups", std::string("not json")), 400, "INVALID_REQUEST");
  ExpectError(Api(app, "PUT", "/groups/" + id, json::object{{"name", ""}}), 400, "INVALID_DATA", "REQUIRED_VALUE",
              "name");
  ExpectError(client_.Send("PUT", Env(app) + "/groups/" + id, R"({"name":"Stale"})",
                           {{"Authorization", Auth(app)[0].second}, {"If-Match", "W/\"1\""}}),
              412, "PRECONDITION_FAILED");
  ExpectError(Api(app, "GET", "/groups/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f"), 404, "NOT_FOUND");
  ExpectError(Api(app, "GET", "/groups/not-a-uuid"), 404, "NOT_FOUND");
  EXPECT_EQ(Str(Api(app, "GET", "/groups/" + id).Json(), "name"), "Engineers");

  // Lists page by _links.next, in creation order.
  std::set<std::string> ids{id};
  for (int i = 0; i < 4; ++i) {
    auto r = Api(app, "POST", "/groups", json::object{{"name", "Paged " + std::to_string(i)}});
    ASSERT_EQ(r.status, 201) << r.body;
    ids.insert(Str(r.Json(), "id"));
  }
  std::set<std::string> seen;
  std::string path = Env(app) + "/groups?limit=2";
  int pages = 0;
  while (!path.empty() && pages < 10) {
    auto r = client_.Send("GET", path, "", Auth(app));
    ASSERT_EQ(r.status, 200) << r.body;
    const json::value j = r.Json();
    for (const auto& item : j.at("_embedded").at("groups").as_array()) seen.insert(Str(item, "id"));
    EXPECT_EQ(j.at("size").as_int64(), static_cast<std::int64_t>(j.at("_embedded").at("groups").as_array().size()));
    path = j.at("_links").as_object().contains("next") ? PathOf(Str(j.at("_links").at("next"), "href")) : "";
    ++pages;
  }
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(pages, 3);
  auto by_name = Api(app, "GET", "/groups?filter=" + UrlEncode(R"(name eq "engineers")"));
  ASSERT_EQ(by_name.status, 200) << by_name.body;
  EXPECT_EQ(by_name.Json().at("count").as_int64(), 1);
  EXPECT_EQ(Str(by_name.Json().at("_embedded").at("groups").as_array()[0], "id"), id);
  ExpectError(Api(app, "GET", "/groups?filter=" + UrlEncode(R"(description eq "x")")), 400, "INVALID_DATA",
              "INVALID_FILTER", "filter");
  ExpectError(Api(app, "GET", "/groups?limit=0"), 400, "INVALID_DATA", "OUT_OF_RANGE", "limit");

  EXPECT_EQ(Api(app, "DELETE", "/groups/" + id).status, 204);
  ExpectError(Api(app, "GET", "/groups/" + id), 404, "NOT_FOUND");
  ExpectError(Api(app, "DELETE", "/groups/" + id), 404, "NOT_FOUND");
  // Another environment's groups are not this one's.
  ExpectError(Api(*other_, "GET", "/groups/" + *ids.rbegin()), 404, "NOT_FOUND");
}

TEST_F(PingOneTest, GroupsCountTheirDirectUsersAndOnRequestEveryNestedUser) {
  const App& app = *main_;
  const auto group = [&](const std::string& name) {
    auto r = Api(app, "POST", "/groups", json::object{{"name", name}});
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.Json().at("directMemberCounts"), (json::object{{"users", 0}})) << r.body;
    return Str(r.Json(), "id");
  };
  const std::string outer = group("Counted Outer"), inner = group("Counted Inner");
  ASSERT_EQ(Api(app, "POST", "/groups/" + inner + "/memberOfGroups", json::object{{"id", outer}}).status, 201);
  const std::string a = Str(CreateUser(app, {{"username", "count.a"}}), "id");
  const std::string b = Str(CreateUser(app, {{"username", "count.b"}}), "id");
  const std::string c = Str(CreateUser(app, {{"username", "count.c"}}), "id");
  for (const auto& [user, target] : std::vector<std::pair<std::string, std::string>>{
           {a, outer}, {b, inner}, {c, inner}, {a, inner}})
    ASSERT_EQ(Api(app, "POST", "/users/" + user + "/memberOfGroups", json::object{{"id", target}}).status, 201);
  auto plain = Api(app, "GET", "/groups/" + outer);
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.Json().at("directMemberCounts"), (json::object{{"users", 1}}));
  EXPECT_FALSE(plain.Json().as_object().contains("totalMemberCounts"));
  auto total = Api(app, "GET", "/groups/" + outer + "?include=totalMemberCounts");
  ASSERT_EQ(total.status, 200) << total.body;
  EXPECT_EQ(total.Json().at("totalMemberCounts"), (json::object{{"users", 3}}));  // a once, b, c
  auto inner_total = Api(app, "GET", "/groups/" + inner + "?include=totalMemberCounts");
  EXPECT_EQ(inner_total.Json().at("directMemberCounts"), (json::object{{"users", 3}}));
  EXPECT_EQ(inner_total.Json().at("totalMemberCounts"), (json::object{{"users", 3}}));
  ExpectError(Api(app, "GET", "/groups/" + outer + "?include=everything"), 400, "INVALID_DATA", "INVALID_VALUE",
              "include");
  auto replaced = Api(app, "PUT", "/groups/" + inner, json::object{{"name", "Counted Inner"}});
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.Json().at("directMemberCounts"), (json::object{{"users", 3}}));
}

TEST_F(PingOneTest, NestedGroupsAndUserMemberships) {
  const App& app = *main_;
  const auto group = [&](const std::string& name) {
    auto r = Api(app, "POST", "/groups", json::object{{"name", name}});
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(r.Json(), "id");
  };
  const std::string top = group("Top"), middle = group("Middle"), leaf = group("Leaf");
  // leaf in middle in top.
  auto nested = Api(app, "POST", "/groups/" + leaf + "/memberOfGroups", json::object{{"id", middle}});
  ASSERT_EQ(nested.status, 201) << nested.body;
  EXPECT_EQ(Str(nested.Json(), "id"), middle);
  EXPECT_EQ(Str(nested.Json(), "type"), "DIRECT");
  ASSERT_EQ(Api(app, "POST", "/groups/" + middle + "/memberOfGroups", json::object{{"id", top}}).status, 201);
  // A cycle is refused, naming the group.
  ExpectError(Api(app, "POST", "/groups/" + top + "/memberOfGroups", json::object{{"id", leaf}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "id");
  ExpectError(Api(app, "POST", "/groups/" + top + "/memberOfGroups", json::object{{"id", top}}), 400, "INVALID_DATA",
              "INVALID_VALUE", "id");
  ExpectError(Api(app, "POST", "/groups/" + top + "/memberOfGroups", json::object{}), 400, "INVALID_DATA",
              "REQUIRED_VALUE", "id");
  ExpectError(Api(app, "POST", "/groups/" + top + "/memberOfGroups",
                  json::object{{"id", "7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f"}}),
              400, "INVALID_DATA", "INVALID_VALUE", "id");

  auto of_leaf = Api(app, "GET", "/groups/" + leaf + "/memberOfGroups");
  ASSERT_EQ(of_leaf.status, 200) << of_leaf.body;
  {
    const json::value j = of_leaf.Json();
    const auto& items = j.at("_embedded").at("groupMemberships").as_array();
    ASSERT_EQ(items.size(), 2u) << of_leaf.body;
    EXPECT_EQ(Str(items[0], "id"), middle);
    EXPECT_EQ(Str(items[0], "type"), "DIRECT");
    EXPECT_EQ(Str(items[0], "name"), "Middle");
    EXPECT_EQ(Str(items[1], "id"), top);
    EXPECT_EQ(Str(items[1], "type"), "INDIRECT");
    EXPECT_EQ(j.at("count").as_int64(), 2);
  }
  auto direct = Api(app, "GET", "/groups/" + leaf + "/memberOfGroups?filter=" + UrlEncode(R"(type eq "DIRECT")"));
  ASSERT_EQ(direct.status, 200) << direct.body;
  EXPECT_EQ(direct.Json().at("size").as_int64(), 1);
  ExpectError(Api(app, "GET", "/groups/" + leaf + "/memberOfGroups?filter=" + UrlEncode(R"(name eq "x")")), 400,
              "INVALID_DATA", "INVALID_FILTER", "filter");

  // A user in the leaf group is in all three; its direct group is the leaf.
  const std::string alice = Str(CreateUser(app, {{"username", "grp-alice"}}), "id");
  const std::string bob = Str(CreateUser(app, {{"username", "grp-bob"}}), "id");
  auto joined = Api(app, "POST", "/users/" + alice + "/memberOfGroups", json::object{{"id", leaf}});
  ASSERT_EQ(joined.status, 201) << joined.body;
  EXPECT_EQ(Str(joined.Json(), "id"), leaf);
  ASSERT_EQ(Api(app, "POST", "/users/" + bob + "/memberOfGroups", json::object{{"id", top}}).status, 201);
  ExpectError(Api(app, "POST", "/users/" + alice + "/memberOfGroups", json::object{{"id", "nope"}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "id");
  ExpectError(Api(app, "POST", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/memberOfGroups", json::object{{"id", top}}),
              404, "NOT_FOUND");
  ExpectError(Api(app, "GET", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/memberOfGroups"), 404, "NOT_FOUND");
  ExpectError(Api(app, "GET", "/groups/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/memberOfGroups"), 404, "NOT_FOUND");

  auto alices = Api(app, "GET", "/users/" + alice + "/memberOfGroups");
  ASSERT_EQ(alices.status, 200) << alices.body;
  {
    const json::value j = alices.Json();
    const auto& items = j.at("_embedded").at("groupMemberships").as_array();
    ASSERT_EQ(items.size(), 3u) << alices.body;
    EXPECT_EQ(Str(items[0], "id"), leaf);
    EXPECT_EQ(Str(items[0], "type"), "DIRECT");
  }
  auto with_ids = Api(app, "GET", "/users/" + alice + "?include=memberOfGroupIDs,memberOfGroupNames");
  ASSERT_EQ(with_ids.status, 200) << with_ids.body;
  {
    const json::value j = with_ids.Json();
    std::set<std::string> ids, names;
    for (const auto& v : j.at("memberOfGroupIDs").as_array()) ids.insert(std::string(v.as_string()));
    for (const auto& v : j.at("memberOfGroupNames").as_array()) names.insert(std::string(v.as_string()));
    EXPECT_EQ(ids, (std::set<std::string>{top, middle, leaf}));
    EXPECT_EQ(names, (std::set<std::string>{"Top", "Middle", "Leaf"}));
  }
  EXPECT_FALSE(Api(app, "GET", "/users/" + alice).Json().as_object().contains("memberOfGroupIDs"));
  ExpectError(Api(app, "GET", "/users/" + alice + "?include=everything"), 400, "INVALID_DATA", "INVALID_VALUE",
              "include");

  // memberOfGroups[id eq ...] lists a group's direct members, with the total.
  const auto members = [&](const std::string& group_id) {
    auto r = Api(app, "GET", "/users?filter=" + UrlEncode("memberOfGroups[id eq \"" + group_id + "\"]"));
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> out;
    if (r.status != 200) return out;
    const json::value j = r.Json();
    for (const auto& u : j.at("_embedded").at("users").as_array()) out.insert(Str(u, "username"));
    EXPECT_EQ(j.at("count").as_int64(), static_cast<std::int64_t>(out.size())) << r.body;
    return out;
  };
  EXPECT_EQ(members(leaf), (std::set<std::string>{"grp-alice"}));
  EXPECT_EQ(members(top), (std::set<std::string>{"grp-bob"}));
  EXPECT_EQ(members(middle), std::set<std::string>{});  // leaf is in it, alice only through leaf
  EXPECT_EQ(members("7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f"), std::set<std::string>{});
  auto either = Api(app, "GET", "/users?filter=" + UrlEncode("memberOfGroups[id eq \"" + leaf +
                                                             "\"] or memberOfGroups[id eq \"" + top + "\"]"));
  ASSERT_EQ(either.status, 200) << either.body;
  EXPECT_EQ(either.Json().at("size").as_int64(), 2);
  // A user in two groups matches both at once.
  ASSERT_EQ(Api(app, "POST", "/users/" + bob + "/memberOfGroups", json::object{{"id", middle}}).status, 201);
  auto both = Api(app, "GET", "/users?filter=" + UrlEncode("memberOfGroups[id eq \"" + top +
                                                           "\"] and memberOfGroups[id eq \"" + middle + "\"]"));
  ASSERT_EQ(both.status, 200) << both.body;
  EXPECT_EQ(both.Json().at("size").as_int64(), 1) << both.body;
  ExpectError(Api(app, "GET", "/users?filter=" + UrlEncode(R"(memberOfGroups[id sw "a"])")), 400, "INVALID_DATA",
              "INVALID_FILTER", "filter");
  ExpectError(Api(app, "GET", "/users?filter=" + UrlEncode(R"(memberOfGroups[id eq "a")")), 400, "INVALID_DATA",
              "INVALID_FILTER", "filter");

  // Leaving: the user, then the nesting.
  EXPECT_EQ(Api(app, "DELETE", "/users/" + alice + "/memberOfGroups/" + leaf).status, 204);
  ExpectError(Api(app, "DELETE", "/users/" + alice + "/memberOfGroups/" + leaf), 404, "NOT_FOUND");
  EXPECT_EQ(members(leaf), std::set<std::string>{});
  EXPECT_EQ(Api(app, "DELETE", "/groups/" + leaf + "/memberOfGroups/" + middle).status, 204);
  EXPECT_EQ(Api(app, "GET", "/groups/" + leaf + "/memberOfGroups").Json().at("count").as_int64(), 0);
  // Deleting a group removes its memberships both ways.
  EXPECT_EQ(Api(app, "DELETE", "/groups/" + top).status, 204);
  EXPECT_EQ(Api(app, "GET", "/users/" + bob + "/memberOfGroups").Json().at("count").as_int64(), 1);  // middle
  EXPECT_EQ(Api(app, "GET", "/groups/" + middle + "/memberOfGroups").Json().at("count").as_int64(), 0);
}

TEST_F(PingOneTest, APingOneGroupIsTheDirectorysGroupThatScimSees) {
  const App& app = *main_;
  auto parent = Api(app, "POST", "/groups", json::object{{"name", "Shared Parent"}, {"externalId", "shared-ext"}});
  auto child = Api(app, "POST", "/groups", json::object{{"name", "Shared Child"}});
  ASSERT_EQ(parent.status, 201) << parent.body;
  ASSERT_EQ(child.status, 201) << child.body;
  const std::string parent_id = Str(parent.Json(), "id"), child_id = Str(child.Json(), "id");
  const std::string user = Str(CreateUser(app, {{"username", "shared-member"}}), "id");
  ASSERT_EQ(Api(app, "POST", "/groups/" + child_id + "/memberOfGroups", json::object{{"id", parent_id}}).status, 201);
  ASSERT_EQ(Api(app, "POST", "/users/" + user + "/memberOfGroups", json::object{{"id", parent_id}}).status, 201);

  auto token = RunRoster({"scim", "token", "create", "--env", "default", "--json", "--data-dir", dir_->path()});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  const std::string bearer = "Bearer " + Str(json::parse(token.out), "token");
  auto scim = client_.Send("GET", "/scim/v2/Groups/" + parent_id, "", {{"Authorization", bearer}});
  ASSERT_EQ(scim.status, 200) << scim.body;
  const json::value g = scim.Json();
  EXPECT_EQ(Str(g, "displayName"), "Shared Parent");
  EXPECT_EQ(Str(g, "externalId"), "shared-ext");
  std::set<std::string> members;
  for (const auto& m : g.at("members").as_array()) members.insert(Str(m, "value"));
  EXPECT_EQ(members, (std::set<std::string>{child_id, user}));
  // And back: a member SCIM removes is gone here too.
  auto patch = client_.Send(
      "PATCH", "/scim/v2/Groups/" + parent_id,
      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \")" +
          user + R"(\"]"}]})",
      {{"Authorization", bearer}, {"Content-Type", "application/scim+json"}});
  ASSERT_TRUE(patch.status == 200 || patch.status == 204) << patch.body;
  EXPECT_EQ(Api(app, "GET", "/users/" + user + "/memberOfGroups").Json().at("count").as_int64(), 0);
}

// ---- shapes ------------------------------------------------------------------------------

TEST_F(PingOneTest, UserShapeCarriesAccountVerifyStatusLifecycleAndIdentityProvider) {
  const App& app = *main_;
  const json::object u = CreateUser(app, {{"username", "shape-user"}, {"email", "shape@example.org"}});
  for (const json::value& j : {json::value(u), Api(app, "GET", "/users/" + Str(u, "id")).Json()}) {
    EXPECT_TRUE(j.at("account").at("canAuthenticate").as_bool());
    EXPECT_EQ(Str(j.at("account"), "status"), "OK");
    EXPECT_EQ(Str(j, "verifyStatus"), "NOT_INITIATED");
    EXPECT_FALSE(j.at("emailVerified").as_bool());
    EXPECT_EQ(Str(j.at("identityProvider"), "type"), "PING_ONE");
    EXPECT_EQ(Str(j.at("lifecycle"), "status"), "ACCOUNT_OK");
    EXPECT_FALSE(j.at("mfaEnabled").as_bool());
  }
  // A disabled user cannot authenticate.
  ASSERT_EQ(Api(app, "PUT", "/users/" + Str(u, "id") + "/enabled", json::object{{"enabled", false}}).status, 200);
  EXPECT_FALSE(Api(app, "GET", "/users/" + Str(u, "id")).Json().at("account").at("canAuthenticate").as_bool());
}

TEST_F(PingOneTest, PopulationShapeKeepsThemePolicyLanguageAndAlternativeIdentifiers) {
  const App& app = *pops_;
  const std::string theme = "0b7c4b1e-4f43-4a8e-9b35-6a7c0e1d2f3a", policy = "5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b";
  auto created = Api(app, "POST", "/populations",
                     json::object{{"name", "Shaped"},
                                  {"theme", {{"id", theme}}},
                                  {"passwordPolicy", {{"id", policy}}},
                                  {"preferredLanguage", "fr"},
                                  {"alternativeIdentifiers", json::array{"shaped", "formes"}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Str(created.Json(), "id");
  for (const json::value& p : {created.Json(), Api(app, "GET", "/populations/" + id).Json()}) {
    EXPECT_EQ(Str(p.at("theme"), "id"), theme);
    EXPECT_EQ(Str(p.at("passwordPolicy"), "id"), policy);
    EXPECT_EQ(Str(p, "preferredLanguage"), "fr");
    EXPECT_EQ(json::serialize(p.at("alternativeIdentifiers")), R"(["shaped","formes"])");
    EXPECT_EQ(p.at("userCount").as_int64(), 0);
  }
  // PUT replaces: what is left out is cleared.
  auto put = Api(app, "PUT", "/populations/" + id, json::object{{"name", "Shaped"}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_FALSE(put.Json().as_object().contains("theme")) << put.body;
  EXPECT_FALSE(put.Json().as_object().contains("alternativeIdentifiers")) << put.body;
  ExpectError(Api(app, "POST", "/populations", json::object{{"name", "Bad"}, {"theme", {{"id", "x"}}}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "theme.id");
  ExpectError(Api(app, "POST", "/populations", json::object{{"name", "Bad"}, {"passwordPolicy", "x"}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "passwordPolicy.id");
  ExpectError(Api(app, "POST", "/populations", json::object{{"name", "Bad"}, {"alternativeIdentifiers", json::array{1}}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "alternativeIdentifiers");
  ExpectError(Api(app, "POST", "/populations", json::object{{"name", "Bad"}, {"preferredLanguage", 3}}), 400,
              "INVALID_DATA", "INVALID_VALUE", "preferredLanguage");
}

// ---- filters -----------------------------------------------------------------------------

TEST_F(PingOneTest, FiltersOnEveryDocumentedAttribute) {
  const App& app = *main_;
  const json::object full = CreateUser(
      app, {{"username", "flt-full"},
            {"email", "full.person@filters.example"},
            {"name",
             {{"given", "Gina"}, {"family", "Fuller"}, {"middle", "Mae"}, {"formatted", "Gina Mae Fuller"},
              {"honorificPrefix", "Dr"}, {"honorificSuffix", "PhD"}}},
            {"nickname", "Gigi"},
            {"title", "Surgeon"},
            {"type", "Staff"},
            {"locale", "fr-FR"},
            {"timezone", "Europe/Paris"},
            {"preferredLanguage", "fr"},
            {"mobilePhone", "+33 6 12 34 56 78"},
            {"primaryPhone", "+33 1 23 45 67 89"},
            {"photo", {{"href", "https://img.example/gina.png"}}},
            {"address",
             {{"streetAddress", "1 Rue de Rivoli"}, {"locality", "Paris"}, {"region", "IDF"}, {"postalCode", "75001"},
              {"countryCode", "FR"}}},
            {"externalId", "flt-ext-1"},
            {"accountId", "ACC-77"}});
  CreateUser(app, {{"username", "flt-plain"}, {"email", "plain@other.example"}, {"enabled", false}});
  const std::string within = R"( and username sw "flt-")";
  const auto names = [&](const std::string& filter) {
    auto r = Api(app, "GET", "/users?filter=" + UrlEncode("(" + filter + ")" + within));
    EXPECT_EQ(r.status, 200) << filter << ": " << r.body;
    std::set<std::string> out;
    if (r.status != 200) return out;
    const json::value j = r.Json();
    for (const auto& u : j.at("_embedded").at("users").as_array()) out.insert(Str(u, "username"));
    return out;
  };
  using Names = std::set<std::string>;
  const Names only_full{"flt-full"};
  // eq and sw (ignoring case) on every string attribute PingOne filters on.
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"username", "FLT-FULL", "flt-fu"},
      {"email", "FULL.PERSON@filters.example", "full."},
      {"externalId", "FLT-EXT-1", "flt-ext"},
      {"accountId", "acc-77", "ACC"},
      {"id", Str(full, "id"), Str(full, "id").substr(0, 8)},
      {"name.given", "gina", "Gi"},
      {"name.family", "FULLER", "Full"},
      {"name.middle", "Mae", "M"},
      {"name.formatted", "Gina Mae Fuller", "Gina Mae"},
      {"name.honorificPrefix", "dr", "D"},
      {"name.honorificSuffix", "PhD", "Ph"},
      {"nickname", "Gigi", "gi"},
      {"title", "surgeon", "Sur"},
      {"type", "Staff", "st"},
      {"locale", "fr-FR", "fr"},
      {"timezone", "Europe/Paris", "Europe/"},
      {"preferredLanguage", "FR", "f"},
      {"mobilePhone", "+33 6 12 34 56 78", "+33 6"},
      {"primaryPhone", "+33 1 23 45 67 89", "+33 1"},
      {"photo.href", "https://img.example/gina.png", "https://img."},
      {"address.streetAddress", "1 rue de rivoli", "1 Rue"},
      {"address.locality", "Paris", "Par"},
      {"address.region", "IDF", "I"},
      {"address.postalCode", "75001", "750"},
      {"address.countryCode", "FR", "F"},
      {"population.id", DefaultPopulation(app), DefaultPopulation(app).substr(0, 8)},
      {"lifecycle.status", "ACCOUNT_OK", "ACCOUNT"},
  };
  for (const auto& [attribute, equal, prefix] : cases) {
    const Names want = attribute == "population.id" || attribute == "lifecycle.status"
                           ? Names{"flt-full", "flt-plain"}
                           : only_full;
    EXPECT_EQ(names(attribute + " eq \"" + equal + "\""), want) << attribute;
    EXPECT_EQ(names(attribute + " sw \"" + prefix + "\""), want) << attribute;
    EXPECT_EQ(names(attribute + " eq \"no-such-value\""), Names{}) << attribute;
  }
  // ew where PingOne has it: email, name.given, name.family.
  EXPECT_EQ(names(R"(email ew "@filters.example")"), only_full);
  EXPECT_EQ(names(R"(name.given ew "NA")"), only_full);
  EXPECT_EQ(names(R"(name.family ew "ller")"), only_full);
  // Booleans, quoted (as Terraform sends them) or not.
  EXPECT_EQ(names(R"(enabled eq "true")"), only_full);
  EXPECT_EQ(names(R"(enabled eq "FALSE")"), Names{"flt-plain"});
  EXPECT_EQ(names("enabled eq true"), only_full);
  EXPECT_EQ(names(R"(mfaEnabled eq "false")"), (Names{"flt-full", "flt-plain"}));
  // and / or / parentheses.
  EXPECT_EQ(names(R"(name.given eq "Gina" or email sw "plain")"), (Names{"flt-full", "flt-plain"}));
  EXPECT_EQ(names(R"((title eq "Surgeon") and (locale eq "de-DE"))"), Names{});

  // Everything else is refused in PingOne's shape, naming the filter.
  for (const std::string bad : {R"(username ew "full")", R"(nickname ew "gi")", R"(enabled eq "yes")",
                                R"(enabled sw "t")", R"(title eq true)", R"(lastSignOn.at eq "x")",
                                R"(password eq "x")", R"(username co "x")", R"(username ne "x")",
                                R"(memberOfGroups[name eq "x"])", R"(username eq 3)"})
    ExpectError(Api(app, "GET", "/users?filter=" + UrlEncode(bad)), 400, "INVALID_DATA", "INVALID_FILTER", "filter");
}

TEST_F(PingOneTest, FilteredListsCountEveryMatchAcrossPages) {
  const App& app = *main_;
  for (int i = 0; i < 5; ++i) CreateUser(app, {{"username", "counted" + std::to_string(i)}, {"title", "CountedAcrossPages"}});
  CreateUser(app, {{"username", "uncounted"}, {"title", "Other"}});
  std::string path = Env(app) + "/users?limit=2&filter=" + UrlEncode(R"(title eq "countedacrosspages")");
  int pages = 0;
  std::int64_t seen = 0;
  while (!path.empty() && pages < 10) {
    auto r = client_.Send("GET", path, "", Auth(app));
    ASSERT_EQ(r.status, 200) << r.body;
    const json::value j = r.Json();
    ASSERT_TRUE(j.as_object().contains("count")) << r.body;
    EXPECT_EQ(j.at("count").as_int64(), 5) << r.body;
    seen += j.at("size").as_int64();
    path = j.at("_links").as_object().contains("next") ? PathOf(Str(j.at("_links").at("next"), "href")) : "";
    ++pages;
  }
  EXPECT_EQ(seen, 5);
  EXPECT_GE(pages, 3);
}

// Totals over every page, whether the engine counts them from the search index alone (an
// `eq`, or a `sw` exactly as long as an indexed prefix: 6 here) or by opening candidates
// (a 5- or 7-letter `sw`), and the unfiltered total (SQLite keeps it in a row its
// triggers update) after a delete.
TEST_F(PingOneTest, SearchTotalsAreExactOnEveryPageHoweverTheyAreCounted) {
  const App& app = *main_;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(Str(CreateUser(app, {{"username", "kp" + std::to_string(i)}, {"name", {{"family", "Kontrapunkt"}}}}), "id"));
  CreateUser(app, {{"username", "kp-short"}, {"name", {{"family", "KONTRA"}}}});
  const auto total = [&](const std::string& filter) {
    std::string path = Env(app) + "/users?limit=2" + (filter.empty() ? "" : "&filter=" + UrlEncode(filter));
    std::set<std::int64_t> counts;
    std::int64_t seen = 0;
    for (int pages = 0; !path.empty() && pages < 10; ++pages) {
      auto r = client_.Send("GET", path, "", Auth(app));
      EXPECT_EQ(r.status, 200) << r.body;
      const json::value j = r.Json();
      if (!j.is_object() || !j.as_object().contains("count")) {
        ADD_FAILURE() << filter << ": no count in " << r.body;
        return std::int64_t{-1};
      }
      counts.insert(j.at("count").as_int64());
      seen += j.at("size").as_int64();
      path = j.at("_links").as_object().contains("next") ? PathOf(Str(j.at("_links").at("next"), "href")) : "";
      if (filter.empty()) return *counts.begin();  // the unfiltered total: the first page says it
    }
    EXPECT_EQ(counts.size(), 1u) << filter;  // the same total on every page
    EXPECT_EQ(*counts.begin(), seen) << filter;
    return *counts.begin();
  };
  EXPECT_EQ(total(R"(name.family sw "kontra")"), 6);   // from the index
  EXPECT_EQ(total(R"(name.family sw "KONTR")"), 6);    // the 4-prefix's candidates, opened
  EXPECT_EQ(total(R"(name.family sw "kontrap")"), 5);  // the 6-prefix's candidates, opened
  EXPECT_EQ(total(R"(name.family eq "kontrapunkt")"), 5);
  EXPECT_EQ(total(R"(name.family eq "Kontra")"), 1);
  const std::int64_t everyone = total("");
  ASSERT_EQ(Api(app, "DELETE", "/users/" + ids[2]).status, 204);
  EXPECT_EQ(total(R"(name.family sw "kontra")"), 5);
  EXPECT_EQ(total(R"(name.family eq "kontrapunkt")"), 4);
  EXPECT_EQ(total(R"(name.family sw "kontrap")"), 4);
  EXPECT_EQ(total(""), everyone - 1);
}

TEST(PingOneConfigTest, LinksUseThePublicUrlWhenConfigured) {
  TempDir dir;
  InitDataDir(dir.path());
  auto app = RunRoster({"pingone", "app", "create", "--env", "default", "--data-dir", dir.path(), "--json"});
  ASSERT_EQ(app.exit_code, 0) << app.err;
  const json::value creds = json::parse(app.out);
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--public-url", "https://id.example.org/"});
  Server server(dir.path(), args);
  Client client(server.base_url());
  const std::string env = Str(creds, "environmentId");
  auto token = client.Send("POST", "/" + env + "/as/token",
                           "grant_type=client_credentials&client_id=" + Str(creds, "clientId") +
                               "&client_secret=" + Str(creds, "clientSecret"),
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(token.status, 200) << token.body;
  auto r = client.Send("POST", "/v1/environments/" + env + "/users", R"({"username":"linked"})",
                       {{"Authorization", "Bearer " + Str(token.Json(), "access_token")},
                        {"Content-Type", "application/json"},
                        {"Host", "attacker.example.com"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string self = Str(r.Json().at("_links").at("self"), "href");
  EXPECT_EQ(self.rfind("https://id.example.org/v1/environments/" + env + "/users/", 0), 0u) << self;
  auto bad = RunRoster({"serve", "--data-dir", dir.path(), "--listen", "127.0.0.1:0", "--public-url", "ftp://x"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--public-url"), std::string::npos) << bad.err;
}

// ---- versions: ETag and If-Match ------------------------------------------------

TEST_F(PingOneTest, UsersCarryAnETagAndHonourIfMatch) {
  const auto send = [&](const std::string& method, const std::string& path, const json::value& body,
                        const std::string& if_match, const std::string& type = "application/json") {
    Headers h = Auth(*main_, type);
    h.emplace_back("If-Match", if_match);
    return client_.Send(method, Env(*main_) + path, json::serialize(body), h);
  };
  auto created = Api(*main_, "POST", "/users", json::object{{"username", "etag-user"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("etag"), "W/\"1\"");
  const std::string user = "/users/" + Str(created.Json(), "id");
  auto read = Api(*main_, "GET", user);
  EXPECT_EQ(read.Header("etag"), "W/\"1\"");

  auto patched = send("PATCH", user, json::object{{"nickname", "One"}}, read.Header("etag"));
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.Header("etag"), "W/\"2\"");
  EXPECT_EQ(Api(*main_, "GET", user).Header("etag"), "W/\"2\"");

  // Stale: 412 PRECONDITION_FAILED, and nothing changes, whatever the route.
  const std::string before = Api(*main_, "GET", user).body;
  ExpectError(send("PATCH", user, json::object{{"nickname", "Stale"}}, "W/\"1\""), 412, "PRECONDITION_FAILED");
  ExpectError(send("PUT", user, json::object{{"username", "etag-user"}, {"nickname", "Stale"}}, "W/\"1\""), 412,
              "PRECONDITION_FAILED");
  ExpectError(send("PUT", user + "/enabled", json::object{{"enabled", false}}, "W/\"1\""), 412,
              "PRECONDITION_FAILED");
  ExpectError(send("PUT", user + "/password", json::object{{"value", "An0ther-Pass?"}}, "W/\"1\"", kSetType), 412,
              "PRECONDITION_FAILED");
  ExpectError(send("PUT", user + "/population", json::object{{"id", DefaultPopulation(*main_)}}, "W/\"1\""), 412,
              "PRECONDITION_FAILED");
  ExpectError(send("DELETE", user, json::object{}, "W/\"1\""), 412, "PRECONDITION_FAILED");
  auto after = Api(*main_, "GET", user);
  ASSERT_EQ(after.status, 200);  // still there
  EXPECT_EQ(after.body, before);
  EXPECT_EQ(after.Header("etag"), "W/\"2\"");
  // Malformed: 400 naming the header.
  ExpectError(send("PATCH", user, json::object{{"nickname", "Bad"}}, "2"), 400, "INVALID_DATA", "INVALID_VALUE",
              "If-Match");

  // The sub-resource writes take the current ETag and answer the next one.
  auto enabled = send("PUT", user + "/enabled", json::object{{"enabled", false}}, "W/\"2\"");
  ASSERT_EQ(enabled.status, 200) << enabled.body;
  EXPECT_EQ(enabled.Header("etag"), "W/\"3\"");
  auto password = send("PUT", user + "/password", json::object{{"value", "An0ther-Pass?"}}, "W/\"3\"", kSetType);
  ASSERT_EQ(password.status, 200) << password.body;
  EXPECT_EQ(password.Header("etag"), "W/\"4\"");
  auto moved = send("PUT", user + "/population", json::object{{"id", DefaultPopulation(*main_)}}, "W/\"4\"");
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(moved.Header("etag"), "W/\"5\"");
  // Without If-Match, as before; with *, any version.
  auto plain = Api(*main_, "PATCH", user, json::object{{"nickname", "Plain"}});
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.Header("etag"), "W/\"6\"");
  auto deleted = send("DELETE", user, json::object{}, "*");
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  ExpectError(Api(*main_, "GET", user), 404, "NOT_FOUND");
}

TEST_F(PingOneTest, PopulationsCarryAnETagAndHonourIfMatch) {
  const auto send = [&](const std::string& method, const std::string& path, const json::value& body,
                        const std::string& if_match) {
    Headers h = Auth(*pops_);
    h.emplace_back("If-Match", if_match);
    return client_.Send(method, Env(*pops_) + path, json::serialize(body), h);
  };
  auto created = Api(*pops_, "POST", "/populations", json::object{{"name", "ETag pop"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("etag"), "W/\"1\"");
  const std::string path = "/populations/" + Str(created.Json(), "id");
  EXPECT_EQ(Api(*pops_, "GET", path).Header("etag"), "W/\"1\"");
  auto put = send("PUT", path, json::object{{"name", "ETag pop 2"}}, "W/\"1\"");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Header("etag"), "W/\"2\"");
  ExpectError(send("PUT", path, json::object{{"name", "Stale"}}, "W/\"1\""), 412, "PRECONDITION_FAILED");
  ExpectError(send("PUT", path, json::object{{"name", "Stale"}, {"default", true}}, "W/\"1\""), 412,
              "PRECONDITION_FAILED");
  ExpectError(send("DELETE", path, json::object{}, "W/\"1\""), 412, "PRECONDITION_FAILED");
  auto after = Api(*pops_, "GET", path);
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(Str(after.Json(), "name"), "ETag pop 2");
  EXPECT_FALSE(after.Json().at("default").as_bool());
  EXPECT_EQ(after.Header("etag"), "W/\"2\"");
  EXPECT_EQ(send("DELETE", path, json::object{}, "W/\"2\"").status, 204);
  ExpectError(Api(*pops_, "GET", path), 404, "NOT_FOUND");
}

// ---- throttling (issue 12) ------------------------------------------------------

TEST(PingOneThrottleTest, TokensPerWorkerAppAndPerAddressGet429WithRetryAfterInTheOAuthShape) {
  TempDir dir;
  InitDataDir(dir.path());
  auto create = [&] {
    auto r = RunRoster({"pingone", "app", "create", "--env", "default", "--data-dir", dir.path(), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const json::value j = json::parse(r.out);
    return App{Str(j, "environmentId"), Str(j, "clientId"), Str(j, "clientSecret")};
  };
  const App a = create(), b = create();
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--throttle-per-credential", "2", "--throttle-per-address", "5", "--trust-forwarded-for"});
  Server server(dir.path(), args);
  Client client(server.base_url());
  auto token = [&](const App& app, const std::string& address) {
    return client.Send("POST", "/" + app.env + "/as/token",
                       "grant_type=client_credentials&client_id=" + app.client + "&client_secret=" + app.secret,
                       {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Forwarded-For", address}});
  };
  auto expect_limited = [](const HttpResponse& r) {
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(Str(r.Json(), "error"), "temporarily_unavailable") << r.body;
    EXPECT_FALSE(Str(r.Json(), "error_description").empty());
    ASSERT_FALSE(r.Header("retry-after").empty());
    EXPECT_GE(std::stoll(r.Header("retry-after")), 1);
  };
  EXPECT_EQ(token(a, "203.0.113.1").status, 200);
  EXPECT_EQ(token(a, "203.0.113.2").status, 200);
  auto limited = token(a, "203.0.113.3");  // the app's third: per credential
  expect_limited(limited);
  EXPECT_EQ(std::stoll(limited.Header("retry-after")), 30);  // 2 a minute
  EXPECT_EQ(token(b, "203.0.113.3").status, 200);  // another app (the refusal took nothing)
  // Per address: five from one address, whichever apps.
  EXPECT_EQ(token(b, "203.0.113.3").status, 200);
  const App c = create(), d = create(), e = create();
  EXPECT_EQ(token(c, "203.0.113.3").status, 200);
  EXPECT_EQ(token(c, "203.0.113.3").status, 200);
  EXPECT_EQ(token(d, "203.0.113.3").status, 200);  // the address's fifth (a's refusal took none)
  expect_limited(token(e, "203.0.113.3"));
  EXPECT_EQ(token(e, "203.0.113.4").status, 200);
}


// ---- password recovery (mail) and unlock -------------------------------------------------
// A server with a mail sink: sendRecoveryCode mails an 8-character code through the
// outbox (the environment's password_reset template), recover takes it once.

class PingOneRecoveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    mail_dir_ = new TempDir();
    InitDataDir(dir_->path());
    auto r = RunRoster(
        {"pingone", "app", "create", "--env", "default", "--scope", "all", "--data-dir", dir_->path(), "--json"});
    if (r.exit_code != 0) throw std::runtime_error("pingone app create failed: " + r.err);
    const json::value j = json::parse(r.out);
    app_ = new App{Str(j, "environmentId"), Str(j, "clientId"), Str(j, "clientSecret")};
    sink_ = new SmtpSink(mail_dir_->path());
    std::vector<std::string> args = kFastHashing;
    // A ceiling of 2 sign-in attempts per username from every address together, 5 per address.
    args.insert(args.end(), {"--smtp-url", sink_->url(), "--smtp-from", "roster@example.test", "--signin-max-attempts",
                             "5", "--signin-max-attempts-per-user", "2"});
    server_ = new Server(dir_->path(), args);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete sink_;
    delete app_;
    delete mail_dir_;
    delete dir_;
  }

  HttpResponse Api(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& type) {
    if (token_.empty()) {
      auto t = client_.Send("POST", "/" + app_->env + "/as/token",
                            "grant_type=client_credentials&client_id=" + app_->client + "&client_secret=" + app_->secret,
                            {{"Content-Type", "application/x-www-form-urlencoded"}});
      EXPECT_EQ(t.status, 200) << t.body;
      token_ = Str(t.Json(), "access_token");
    }
    return client_.Send(method, "/v1/environments/" + app_->env + path, body,
                        {{"Authorization", "Bearer " + token_}, {"Content-Type", type}});
  }
  std::string CreateUser(const std::string& username, const std::string& email) {
    json::object body{{"username", username}, {"password", {{"value", "Recover-Old1!"}}}};
    if (!email.empty()) body["email"] = email;
    auto r = Api("POST", "/users", json::serialize(body), kImportType);
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(r.Json(), "id");
  }
  HttpResponse SignIn(const std::string& username, const std::string& password) {
    return client_.Send("POST", "/v2/auth/signin",
                        json::serialize(json::object{{"username", username}, {"password", password}}),
                        CatalyzeHeaders(admin_key()));
  }
  static std::string admin_key() {
    static const std::string key = CreateKey(dir_->path(), "default", "admin");
    return key;
  }
  // The 8-character code in the last message to `address`.
  static std::string CodeIn(const std::string& message) {
    std::smatch m;
    static const std::regex code("\\b[A-Z0-9]{8}\\b");
    std::string body = message.substr(message.find("\r\n\r\n") == std::string::npos ? 0 : message.find("\r\n\r\n"));
    return std::regex_search(body, m, code) ? m.str() : std::string();
  }

  static TempDir* dir_;
  static TempDir* mail_dir_;
  static App* app_;
  static SmtpSink* sink_;
  static Server* server_;
  std::string token_;
  Client client_{server_->base_url()};
};

TempDir* PingOneRecoveryTest::dir_;
TempDir* PingOneRecoveryTest::mail_dir_;
App* PingOneRecoveryTest::app_;
SmtpSink* PingOneRecoveryTest::sink_;
Server* PingOneRecoveryTest::server_;

TEST_F(PingOneRecoveryTest, SendRecoveryCodeMailsACodeThatRecoverTakesOnce) {
  const std::string id = CreateUser("recover.me", "recover.me@example.com");
  const std::string path = "/users/" + id + "/password";
  ASSERT_EQ(Api("PUT", path, json::serialize(json::object{{"value", "Recover-Old1!"}, {"forceChange", true}}),
                kSetType).status, 200);
  auto sent = Api("POST", path, "", kSendCodeType);
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(Str(sent.Json(), "status"), "MUST_CHANGE_PASSWORD");
  // The set above sent its notice first ("Your password was changed"); then the code.
  const auto mail = sink_->WaitForMessagesTo("recover.me@example.com", 2);
  ASSERT_EQ(mail.size(), 2u);
  // Its own wording: a code to enter, no link to open.
  ASSERT_NE(mail.back().find("Subject: Your password recovery code"), std::string::npos) << mail.back();
  EXPECT_EQ(mail.back().find("Open this link"), std::string::npos) << mail.back();
  const std::string code = CodeIn(mail.back());
  ASSERT_EQ(code.size(), 8u) << mail.back();
  EXPECT_EQ(sent.body.find(code), std::string::npos);  // never in the answer

  // The policy is checked first: a weak password leaves the code usable.
  auto weak = Api("POST", path, json::serialize(json::object{{"recoveryCode", code}, {"newPassword", "weak"}}),
                  kRecoverType);
  EXPECT_EQ(weak.status, 400) << weak.body;
  EXPECT_NE(weak.body.find("newPassword"), std::string::npos) << weak.body;
  auto wrong = Api("POST", path, json::serialize(json::object{{"recoveryCode", "ZZZZZZZZ"}, {"newPassword", "Recover-New2!"}}),
                   kRecoverType);
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  EXPECT_NE(wrong.body.find("\"target\":\"recoveryCode\""), std::string::npos) << wrong.body;
  std::string lower = code;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto done = Api("POST", path, json::serialize(json::object{{"recoveryCode", lower}, {"newPassword", "Recover-New2!"}}),
                  kRecoverType);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Str(done.Json(), "status"), "OK");
  EXPECT_EQ(SignIn("recover.me", "Recover-New2!").status, 200);
  // Once only.
  auto again = Api("POST", path, json::serialize(json::object{{"recoveryCode", code}, {"newPassword", "Recover-New3!"}}),
                   kRecoverType);
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_EQ(SignIn("recover.me", "Recover-New2!").status, 200);
  // Missing members name themselves.
  auto missing = Api("POST", path, json::serialize(json::object{{"newPassword", "Recover-New3!"}}), kRecoverType);
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("\"target\":\"recoveryCode\""), std::string::npos) << missing.body;
}

TEST_F(PingOneRecoveryTest, ACodeIsForItsOwnUserOnly) {
  const std::string a = CreateUser("code.a", "code.a@example.com");
  const std::string b = CreateUser("code.b", "code.b@example.com");
  ASSERT_EQ(Api("POST", "/users/" + a + "/password", "", kSendCodeType).status, 200);
  const auto mail = sink_->WaitForMessagesTo("code.a@example.com", 1);
  ASSERT_EQ(mail.size(), 1u);
  const std::string code = CodeIn(mail.back());
  auto other = Api("POST", "/users/" + b + "/password",
                   json::serialize(json::object{{"recoveryCode", code}, {"newPassword", "Recover-New2!"}}), kRecoverType);
  EXPECT_EQ(other.status, 400) << other.body;
  auto own = Api("POST", "/users/" + a + "/password",
                 json::serialize(json::object{{"recoveryCode", code}, {"newPassword", "Recover-New2!"}}), kRecoverType);
  EXPECT_EQ(own.status, 200) << own.body;
}

TEST_F(PingOneRecoveryTest, SendRecoveryCodeRefusesWhomItCannotMail) {
  const std::string no_email = CreateUser("code.noemail", "");
  auto r = Api("POST", "/users/" + no_email + "/password", "", kSendCodeType);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("REQUEST_FAILED"), std::string::npos);
  // Without a password.
  auto plain = Api("POST", "/users", json::serialize(json::object{{"username", "code.nopass"}, {"email", "np@example.com"}}),
                   "application/json");
  ASSERT_EQ(plain.status, 201) << plain.body;
  auto nopass = Api("POST", "/users/" + Str(plain.Json(), "id") + "/password", "", kSendCodeType);
  EXPECT_EQ(nopass.status, 400) << nopass.body;
  // Disabled.
  const std::string off = CreateUser("code.off", "off@example.com");
  ASSERT_EQ(Api("PUT", "/users/" + off + "/enabled", R"({"enabled":false})", "application/json").status, 200);
  auto disabled = Api("POST", "/users/" + off + "/password", "", kSendCodeType);
  EXPECT_EQ(disabled.status, 400) << disabled.body;
  EXPECT_NE(disabled.body.find("disabled"), std::string::npos) << disabled.body;
  EXPECT_EQ(Api("POST", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/password", "", kSendCodeType).status, 404);
  EXPECT_TRUE(sink_->MessagesTo("off@example.com").empty());
  EXPECT_TRUE(sink_->MessagesTo("np@example.com").empty());
}

TEST_F(PingOneRecoveryTest, PasswordStateSaysPasswordLockedOutWhileTheSignInLockoutHolds) {
  const std::string id = CreateUser("locked.out", "");
  const std::string path = "/users/" + id + "/password";
  const auto state = [&] { return Api("GET", path, "", "application/json"); };
  EXPECT_EQ(Str(state().Json(), "status"), "OK");
  EXPECT_EQ(SignIn("locked.out", "wrong").status, 401);
  EXPECT_EQ(Str(state().Json(), "status"), "OK");  // one attempt of the ceiling of 2 left
  EXPECT_EQ(SignIn("locked.out", "wrong").status, 401);
  auto locked = state();
  ASSERT_EQ(locked.status, 200) << locked.body;
  EXPECT_EQ(Str(locked.Json(), "status"), "PASSWORD_LOCKED_OUT");
  const auto seconds = locked.Json().at("secondsUntilUnlock").as_int64();
  EXPECT_GT(seconds, 0);
  EXPECT_LE(seconds, 15 * 60);
  // Reading it counted nothing, and the account itself is not locked (that is account.status).
  EXPECT_EQ(Str(state().Json(), "status"), "PASSWORD_LOCKED_OUT");
  EXPECT_EQ(Str(Api("GET", "/users/" + id, "", "application/json").Json().at("account"), "status"), "OK");
  // A locked-out password is not checked.
  auto check = Api("POST", path, json::serialize(json::object{{"password", "Recover-Old1!"}}), kCheckType);
  EXPECT_EQ(check.status, 400) << check.body;
  EXPECT_NE(check.body.find("REQUEST_FAILED"), std::string::npos) << check.body;
  EXPECT_NE(check.body.find("PASSWORD_LOCKED_OUT"), std::string::npos) << check.body;
  EXPECT_EQ(SignIn("locked.out", "Recover-Old1!").status, 429);
  // An administrator's unlock ends it.
  auto unlocked = Api("POST", path, "", kPasswordUnlockType);
  ASSERT_EQ(unlocked.status, 200) << unlocked.body;
  EXPECT_EQ(Str(unlocked.Json(), "status"), "OK");
  EXPECT_FALSE(unlocked.Json().as_object().contains("secondsUntilUnlock"));
  EXPECT_EQ(SignIn("locked.out", "Recover-Old1!").status, 200);
  // So does an administrator's new password (PingOne's administrative reset). (The
  // success above counted one attempt of the ceiling: one more wrong one reaches it.)
  EXPECT_EQ(SignIn("locked.out", "wrong").status, 401);
  EXPECT_EQ(Str(state().Json(), "status"), "PASSWORD_LOCKED_OUT");
  auto set = Api("PUT", path, json::serialize(json::object{{"value", "Recover-New2!"}}), kSetType);
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(Str(set.Json(), "status"), "OK");
  EXPECT_EQ(SignIn("locked.out", "Recover-New2!").status, 200);
  // A user without a password is NO_PASSWORD, locked out or not.
  ASSERT_EQ(Api("PUT", path, "{}", kSetValueType).status, 200);
  EXPECT_EQ(SignIn("locked.out", "wrong").status, 401);
  EXPECT_EQ(SignIn("locked.out", "wrong").status, 429);
  EXPECT_EQ(Str(state().Json(), "status"), "NO_PASSWORD");
}

TEST_F(PingOneRecoveryTest, PasswordUnlockEndsTheSignInLockoutAcrossAddresses) {
  const std::string id = CreateUser("unlock.me", "");
  // The ceiling of 2: the third attempt is refused (429), right password or not.
  for (int i = 0; i < 2; ++i) EXPECT_EQ(SignIn("unlock.me", "wrong").status, 401);
  EXPECT_EQ(SignIn("unlock.me", "Recover-Old1!").status, 429);
  auto unlocked = Api("POST", "/users/" + id + "/password", "", kPasswordUnlockType);
  ASSERT_EQ(unlocked.status, 200) << unlocked.body;
  EXPECT_EQ(Str(unlocked.Json(), "status"), "OK");
  EXPECT_EQ(SignIn("unlock.me", "Recover-Old1!").status, 200);
  // Without +json too; an unknown user is 404.
  EXPECT_EQ(Api("POST", "/users/" + id + "/password", "", "application/vnd.pingidentity.password.unlock").status, 200);
  EXPECT_EQ(Api("POST", "/users/7d0c6f63-8a44-4b4f-9a4c-2b3e6c1d0e9f/password", "", kPasswordUnlockType).status, 404);
}

}  // namespace
}  // namespace roster::testing
