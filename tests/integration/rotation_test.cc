// Rotation and revocation reach every server at once: a PingOne worker app's secret
// rotation and deletion, a QuickBlox application's API key rotation and deletion, and a
// CommCare web user's key revocation and rotation, each made by the CLI (a third
// process), are refused by the very next request to either server. On PostgreSQL two
// `roster serve` processes share the database; on SQLite one server shares the file
// with the CLI. No retry loop: these checks read the credential's record on every
// request, so nothing waits for a notification to travel.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <memory>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

std::string Str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

class RotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitDataDir(first_.path());
    if (UsingPostgres()) {
      // A second stateless process: the same master key and database, its own data dir.
      for (const char* file : {"master.key", "roster.toml"})
        std::filesystem::copy_file(first_ / file, second_ / file);
    }
    a_ = std::make_unique<Server>(first_.path());
    if (UsingPostgres()) b_ = std::make_unique<Server>(second_.path());
  }

  // Runs `roster ARGS --json` against the data dir of the second process (the first on
  // SQLite): the change comes from neither server's memory.
  json::object Cli(std::vector<std::string> args) {
    args.insert(args.end(), {"--data-dir", (b_ ? second_ : first_).path(), "--json"});
    auto r = RunRoster(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out).as_object() : json::object{};
  }

  // Every server: a (and b on PostgreSQL).
  std::vector<Server*> Servers() const {
    std::vector<Server*> out{a_.get()};
    if (b_) out.push_back(b_.get());
    return out;
  }

  TempDir first_, second_;
  std::unique_ptr<Server> a_, b_;
};

TEST_F(RotationTest, PingOneRotationAndDeletionAreRefusedByEveryServerAtOnce) {
  const json::object app = Cli({"pingone", "app", "create", "--env", "default"});
  const std::string env = Str(app, "environmentId"), id = Str(app, "clientId");
  const auto token = [&](Server& server, const std::string& secret) {
    return Client(server.base_url())
        .Send("POST", "/" + env + "/as/token", "grant_type=client_credentials&client_id=" + id + "&client_secret=" +
                                                   secret,
              {{"Content-Type", "application/x-www-form-urlencoded"}});
  };
  const auto get = [&](Server& server, const std::string& bearer) {
    return Client(server.base_url())
        .Send("GET", "/v1/environments/" + env + "/users", "", {{"Authorization", "Bearer " + bearer}});
  };
  auto issued = token(*a_, Str(app, "clientSecret"));
  ASSERT_EQ(issued.status, 200) << issued.body;
  const std::string before = Str(issued.Json(), "access_token");
  for (Server* s : Servers()) ASSERT_EQ(get(*s, before).status, 200);

  const std::string fresh = Str(Cli({"pingone", "app", "rotate-secret", "--env", "default", "--id", id}),
                                "clientSecret");
  for (Server* s : Servers()) {
    auto r = get(*s, before);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(Str(r.Json(), "code"), "ACCESS_FAILED");
    r = token(*s, Str(app, "clientSecret"));
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(Str(r.Json(), "error"), "invalid_client");
  }
  // A token of the new secret, issued by the last server, works on every one.
  issued = token(*Servers().back(), fresh);
  ASSERT_EQ(issued.status, 200) << issued.body;
  const std::string after = Str(issued.Json(), "access_token");
  for (Server* s : Servers()) EXPECT_EQ(get(*s, after).status, 200);

  Cli({"pingone", "app", "delete", "--env", "default", "--id", id});
  for (Server* s : Servers()) {
    auto r = get(*s, after);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(Str(r.Json(), "code"), "ACCESS_FAILED");
    EXPECT_EQ(token(*s, fresh).status, 401);
  }
}

TEST_F(RotationTest, QuickBloxKeyRotationAndDeletionAreRefusedByEveryServerAtOnce) {
  const json::object app = Cli({"quickblox", "app", "create", "--env", "default"});
  const std::string id = std::to_string(app.at("applicationId").as_int64());
  const auto list = [&](Server& server, const std::string& key) {
    return Client(server.base_url()).Send("GET", "/users.json", "", {{"Authorization", "ApiKey " + key}});
  };
  const std::string before = Str(app, "apiKey");
  for (Server* s : Servers()) ASSERT_EQ(list(*s, before).status, 200);

  const std::string after = Str(Cli({"quickblox", "app", "rotate-key", "--env", "default", "--id", id}), "apiKey");
  for (Server* s : Servers()) {
    auto r = list(*s, before);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Unauthorized");
    EXPECT_EQ(list(*s, after).status, 200);
  }

  Cli({"quickblox", "app", "delete", "--env", "default", "--id", id});
  for (Server* s : Servers()) {
    auto r = list(*s, after);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.Json().at("errors").as_array()[0].as_string(), "Unauthorized");
  }
}

TEST_F(RotationTest, CommCareKeyRevocationIsRefusedByEveryServerAtOnce) {
  const json::object made = Cli({"commcare", "web-user", "create", "--domain", "ward", "--email", "nurse@example.org"});
  const auto get = [&](Server& server, const std::string& key) {
    return Client(server.base_url())
        .Send("GET", "/a/ward/api/v0.5/user/", "", {{"Authorization", "ApiKey nurse@example.org:" + key}});
  };
  const std::string before = Str(made, "apiKey");
  // Twice each, so a server that keeps key lookups in memory has this one cached.
  for (Server* s : Servers())
    for (int i = 0; i < 2; ++i) ASSERT_EQ(get(*s, before).status, 200);

  Cli({"commcare", "web-user", "revoke-key", "--domain", "ward", "--email", "nurse@example.org"});
  for (Server* s : Servers()) {
    auto r = get(*s, before);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(Str(r.Json(), "error"), "Invalid credentials.");
  }
  const std::string after =
      Str(Cli({"commcare", "web-user", "rotate-key", "--domain", "ward", "--email", "nurse@example.org"}), "apiKey");
  for (Server* s : Servers()) {
    EXPECT_EQ(get(*s, after).status, 200);
    EXPECT_EQ(get(*s, before).status, 401);
  }
}

}  // namespace
}  // namespace roster::testing
