// The dialect in process (router + services over a SQLite store) with a clock the test
// controls: what the integration suite cannot do, such as letting an hour pass or
// signing tokens with the environment's own key but wrong claims.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>

#include "crypto/base64.h"
#include "crypto/crypto.h"
#include "dialects/pingone/common.h"
#include "dialects/pingone/pingone.h"
#include "store/sqlite/sqlite_store.h"

namespace roster::dialects::pingone {
namespace {

namespace json = boost::json;

class FakeClock : public core::Clock {
 public:
  std::int64_t NowMillis() const override { return now; }
  std::int64_t now = 1'800'000'000'000;
};

class PingOneApiTest : public ::testing::Test {
 protected:
  PingOneApiTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("roster-pingone-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        store_((crypto::Init(), std::filesystem::remove_all(dir_), std::filesystem::create_directories(dir_),
                store::sqlite::Open({(dir_ / "roster.db").string()}))),
        keyring_(crypto::SecretKey::Random()),
        hasher_({1, 8 * 1024 * 1024}),
        directory_(*store_, keyring_, clock_),
        users_(*store_, directory_, keyring_, hasher_, clock_),
        records_(*store_, directory_, clock_) {
    env_ = directory_.CreateEnvironment("default")->id;
    other_ = directory_.CreateEnvironment("other")->id;
    Mount(router_, services(), {});
    auto app = CreateWorkerApp(services(), "default");
    EXPECT_TRUE(app.has_value());
    client_ = std::string(app->at("clientId").as_string());
    secret_ = std::string(app->at("clientSecret").as_string());
  }
  ~PingOneApiTest() override { std::filesystem::remove_all(dir_); }

  Services services() { return Services{directory_, users_, records_, clock_}; }

  http::Response Send(const std::string& method, const std::string& path, const std::string& body,
                      std::vector<std::pair<std::string, std::string>> headers) {
    http::Request r;
    r.method = method;
    const auto q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) r.query = path.substr(q + 1);
    r.body = body;
    r.headers = std::move(headers);
    r.headers.emplace_back("host", "roster.test");
    return router_.Handle(r);
  }

  std::string Token() {
    auto r = Send("POST", "/" + env_ + "/as/token",
                  "grant_type=client_credentials&client_id=" + client_ + "&client_secret=" + secret_,
                  {{"content-type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(json::parse(r.body).at("access_token").as_string());
  }

  int ListUsers(const std::string& token, const std::string& env) {
    return Send("GET", "/v1/environments/" + env + "/users", "", {{"authorization", "Bearer " + token}}).status;
  }

  // A token signed with the environment's real key, with the claims given.
  std::string Forge(const AccessClaims& claims) {
    State st(services());
    auto key = st.SigningKey(env_, false);
    EXPECT_TRUE(key.has_value());
    return SignJwt(claims, *key);
  }

  AccessClaims Good() const {
    AccessClaims c;
    c.iss = IssuerOf(env_);
    c.aud = kAudience;
    c.sub = client_;
    c.env = env_;
    c.client_id = client_;
    c.iat = clock_.now / 1000;
    c.exp = c.iat + 3600;
    c.jti = "t";
    return c;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  crypto::Keyring keyring_;
  crypto::PasswordHasher hasher_;
  service::DirectoryService directory_;
  service::UserService users_;
  service::RecordService records_;
  http::Router router_;
  std::string env_, other_, client_, secret_;
};

TEST_F(PingOneApiTest, TokensExpireAfterOneHour) {
  const std::string token = Token();
  EXPECT_EQ(ListUsers(token, env_), 200);
  clock_.now += 3599 * 1000;
  EXPECT_EQ(ListUsers(token, env_), 200);
  clock_.now += 10 * 1000;  // past exp, beyond the 5 s leeway
  auto r = Send("GET", "/v1/environments/" + env_ + "/users", "", {{"authorization", "Bearer " + token}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::parse(r.body).at("code").as_string(), "ACCESS_FAILED");
  EXPECT_EQ(ListUsers(Token(), env_), 200);  // a fresh token works
}

TEST_F(PingOneApiTest, EveryClaimIsChecked) {
  (void)Token();  // creates the signing key
  EXPECT_EQ(ListUsers(Forge(Good()), env_), 200);
  AccessClaims c = Good();
  c.iss = "https://auth.pingone.com/" + env_ + "/as";
  EXPECT_EQ(ListUsers(Forge(c), env_), 401);
  c = Good();
  c.aud = "https://api.pingone.com";
  EXPECT_EQ(ListUsers(Forge(c), env_), 401);
  c = Good();
  c.env = other_;
  EXPECT_EQ(ListUsers(Forge(c), env_), 401);
  c = Good();
  c.exp = c.iat - 60;
  EXPECT_EQ(ListUsers(Forge(c), env_), 401);
  c = Good();
  c.iat += 600;  // issued in the future
  c.exp += 600;
  EXPECT_EQ(ListUsers(Forge(c), env_), 401);
  // Never valid on another environment, whose key differs.
  EXPECT_EQ(ListUsers(Forge(Good()), other_), 401);
}

TEST_F(PingOneApiTest, SigningKeyIsSealedAndStable) {
  const std::string a = Token();
  State st(services());
  auto key = st.SigningKey(env_, false);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), 32u);
  // A second State (another process) reads the same key: tokens stay valid.
  State again(services());
  EXPECT_EQ(again.SigningKey(env_, true).value(), *key);
  auto found = records_.Find(env_, kSigningKeyClaim, "1");
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->size(), 1u);
  auto row = store_->GetRecord(env_, kSigningKeyKind, found->front().id, clock_.now);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->sealed.find(crypto::Base64Encode(*key)), std::string::npos);
  EXPECT_EQ(ListUsers(a, env_), 200);
}

TEST_F(PingOneApiTest, AnEnvironmentLeftWithoutADefaultPopulationGetsOneBack) {
  const std::string token = Token();
  const auto auth = [&] {
    return std::vector<std::pair<std::string, std::string>>{{"authorization", "Bearer " + token},
                                                            {"content-type", "application/json"}};
  };
  const std::string base = "/v1/environments/" + env_;
  auto second = Send("POST", base + "/populations", R"({"name":"Second"})", auth());
  ASSERT_EQ(second.status, 201) << second.body;
  // A switch interrupted between its two writes: no population is the default.
  State st(services());
  auto current = FindDefaultPopulation(st, env_);
  ASSERT_TRUE(current.has_value() && current->has_value());
  const std::string first_id = (*current)->id;
  ASSERT_TRUE(records_
                  .Update(
                      env_, kPopulationKind, first_id,
                      [](service::Record& p) -> core::Status {
                        p.body["default"] = false;
                        return {};
                      },
                      PopulationClaims)
                  .has_value());
  ASSERT_FALSE(FindDefaultPopulation(st, env_)->has_value());
  // The next user without a population repairs it: the oldest population is promoted.
  auto user = Send("POST", base + "/users", R"({"username":"after-crash"})", auth());
  ASSERT_EQ(user.status, 201) << user.body;
  EXPECT_EQ(json::parse(user.body).at("population").at("id").as_string(), first_id);
  auto list = Send("GET", base + "/populations", "", auth());
  int defaults = 0;
  const json::value listed = json::parse(list.body);
  for (const auto& p : listed.at("_embedded").at("populations").as_array())
    defaults += p.at("default").as_bool() ? 1 : 0;
  EXPECT_EQ(defaults, 1);
}

TEST_F(PingOneApiTest, AUniqueValueIsHeldByItsUserAndFreedAtOnceWhateverDeletesIt) {
  const std::string token = Token();
  const auto auth = [&] {
    return std::vector<std::pair<std::string, std::string>>{{"authorization", "Bearer " + token},
                                                            {"content-type", "application/json"}};
  };
  const std::string base = "/v1/environments/" + env_;
  auto schemas = json::parse(Send("GET", base + "/schemas", "", auth()).body);
  const std::string schema_id(schemas.at("_embedded").at("schemas").as_array()[0].at("id").as_string());
  auto declared = Send("POST", base + "/schemas/" + schema_id + "/attributes",
                       R"({"name":"badge","type":"STRING","enabled":true,"unique":true})", auth());
  ASSERT_EQ(declared.status, 201) << declared.body;
  auto a = Send("POST", base + "/users", R"({"username":"holder","badge":"B-1"})", auth());
  ASSERT_EQ(a.status, 201) << a.body;
  // Folded like a username: "b-1" is the same value.
  auto clash = Send("POST", base + "/users", R"({"username":"taker","badge":"b-1"})", auth());
  EXPECT_EQ(clash.status, 400) << clash.body;
  EXPECT_NE(clash.body.find("UNIQUENESS_VIOLATION"), std::string::npos);
  EXPECT_NE(clash.body.find(R"("target":"badge")"), std::string::npos) << clash.body;
  // Deleted through the service (as any other API would): the value is free at once.
  ASSERT_TRUE(users_.Delete(env_, std::string(json::parse(a.body).at("id").as_string())).has_value());
  auto later = Send("POST", base + "/users", R"({"username":"taker","badge":"B-1"})", auth());
  EXPECT_EQ(later.status, 201) << later.body;
  // Changing the value through an update frees the old one in the same write.
  const std::string taker_id(json::parse(later.body).at("id").as_string());
  auto moved = Send("PATCH", base + "/users/" + taker_id, R"({"badge":"B-2"})", auth());
  EXPECT_EQ(moved.status, 200) << moved.body;
  auto third = Send("POST", base + "/users", R"({"username":"third","badge":"B-1"})", auth());
  EXPECT_EQ(third.status, 201) << third.body;
  auto fourth = Send("POST", base + "/users", R"({"username":"fourth","badge":"B-2"})", auth());
  EXPECT_EQ(fourth.status, 400) << fourth.body;
}
// Throttling refusals (issue 12) come out as PingOne's REQUEST_LIMITED with Retry-After.
TEST(PingOneErrors, TooManyRequestsCarriesRetryAfter) {
  const http::Response r = Render(FromCore(core::TooManyRequests("too many", 12).error()));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(boost::json::parse(r.body).at("code"), "REQUEST_LIMITED");
  bool found = false;
  for (const auto& [name, value] : r.headers)
    if (name == "Retry-After") found = value == "12";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace roster::dialects::pingone
