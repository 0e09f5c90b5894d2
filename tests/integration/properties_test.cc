// The properties that matter most: durability across kill -9, no plaintext PII at rest,
// no secret in any log, TLS, tenant isolation, graceful shutdown.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

std::string Body(const std::string& username, const std::string& email) {
  return json::serialize(json::object{{"username", username}, {"password", "pw-123456"}, {"email", {{"primary", email}}}});
}

TEST(PropertiesTest, AcknowledgedCreatesSurviveKill9) {
  TempDir dir;
  const std::string admin = InitDataDir(dir.path());
  std::vector<std::string> ids;
  {
    Server server(dir.path());
    Client client(server.base_url());
    for (int i = 0; i < 20; ++i) {
      auto r = client.Send("POST", "/v2/users", Body("durable" + std::to_string(i), "d@example.com"),
                           CatalyzeHeaders(admin));
      ASSERT_EQ(r.status, 200) << r.body;
      ids.emplace_back(r.Json().at("usersId").as_string());
    }
    server.Kill9();
  }
  Server again(dir.path());
  Client client(again.base_url());
  for (const auto& id : ids) EXPECT_EQ(client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).status, 200);
  EXPECT_EQ(client.Send("POST", "/v2/users", Body("DURABLE0", "x@example.com"), CatalyzeHeaders(admin)).status, 409);
}

TEST(PropertiesTest, NoPlaintextProfileValueAtRestAndNoSecretInLogs) {
  TempDir dir;
  const std::string admin = InitDataDir(dir.path());
  const std::string password = "Sentinel-Password-7731";
  std::string token;
  {
    Server server(dir.path());
    Client client(server.base_url());
    const json::object user{
        {"username", "sentinel-username-5521"},
        {"password", password},
        {"email", {{"primary", "sentinel.primary@example.org"}, {"work", "sentinel.work@example.org"}}},
        {"name", {{"firstName", "Sentinelfirst"}, {"lastName", "Sentinellast"}}},
        {"ssn", "987-65-4320"},
        {"mrns", json::array{json::object{{"institutionsId", "inst"}, {"mrn", "MRN-SENTINEL-42"}}}},
        {"extras", {{"note", "sentinel-extra-value"}}}};
    auto r = client.Send("POST", "/v2/users", json::serialize(user), CatalyzeHeaders(admin));
    ASSERT_EQ(r.status, 200) << r.body;
    token = std::string(r.Json().at("sessionToken").as_string());
    const std::string id(r.Json().at("usersId").as_string());
    EXPECT_EQ(client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin, token)).status, 200);
    EXPECT_EQ(client.Send("PUT", "/v2/users/" + id, R"({"ssn":"987-65-4320"})", CatalyzeHeaders(admin)).status, 200);
    // Read the files while the server runs, so the WAL still holds the recent writes.
    const std::string db = DumpStore(dir.path());
    ASSERT_GT(db.size(), 1000u);
    for (const char* sentinel : {"sentinel-username-5521", "sentinel.primary@example.org", "sentinel.work@example.org",
                                 "Sentinelfirst", "Sentinellast", "987-65-4320", "MRN-SENTINEL-42",
                                 "sentinel-extra-value", "Sentinel-Password-7731"})
      EXPECT_EQ(db.find(sentinel), std::string::npos) << sentinel << " found in the database";
    EXPECT_EQ(db.find(token), std::string::npos);
    EXPECT_EQ(db.find(admin), std::string::npos);
  }
  const std::string logs = ReadFile(dir / "access.log") + ReadFile(dir / "server.err");
  ASSERT_NE(logs.find("\"route\":\"/v2/users\""), std::string::npos) << logs;
  ASSERT_NE(logs.find("\"route\":\"/v2/users/{usersId}\""), std::string::npos) << logs;
  for (const std::string& secret : {password, token, admin, std::string("987-65-4320"),
                                    std::string("sentinel.primary@example.org"), std::string("sentinel-username-5521")})
    EXPECT_EQ(logs.find(secret), std::string::npos) << "secret found in logs";
}

TEST(PropertiesTest, KeysOfOneEnvironmentNeverSeeAnother) {
  TempDir dir;
  const std::string admin = InitDataDir(dir.path());
  ASSERT_EQ(RunRoster({"env", "create", "other", "--data-dir", dir.path()}).exit_code, 0);
  const std::string other_admin = CreateKey(dir.path(), "other", "admin");
  Server server(dir.path());
  Client client(server.base_url());
  auto r = client.Send("POST", "/v2/users", Body("tenant-a", "a@example.com"), CatalyzeHeaders(admin));
  ASSERT_EQ(r.status, 200);
  const std::string id(r.Json().at("usersId").as_string());
  const std::string token(r.Json().at("sessionToken").as_string());
  EXPECT_EQ(client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(other_admin)).status, 404);
  EXPECT_EQ(client.Send("DELETE", "/v2/users/" + id, "", CatalyzeHeaders(other_admin)).status, 404);
  EXPECT_EQ(client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(other_admin, token)).status, 401);
  // The same username is free in the other environment.
  EXPECT_EQ(client.Send("POST", "/v2/users", Body("TENANT-A", "a@example.com"), CatalyzeHeaders(other_admin)).status, 200);
}

TEST(PropertiesTest, RevokedKeyIsRefusedAtOnce) {
  TempDir dir;
  InitDataDir(dir.path());
  auto created = RunRoster({"key", "create", "--env", "default", "--role", "app", "--data-dir", dir.path(), "--json"});
  auto j = json::parse(created.out).as_object();
  const std::string key(j.at("key").as_string()), id(j.at("id").as_string());
  Server server(dir.path());
  Client client(server.base_url());
  EXPECT_EQ(client.Send("POST", "/v2/users", Body("before-revoke", "a@example.com"), CatalyzeHeaders(key)).status, 200);
  ASSERT_EQ(RunRoster({"key", "revoke", id, "--data-dir", dir.path()}).exit_code, 0);
  EXPECT_EQ(client.Send("POST", "/v2/users", Body("after-revoke", "a@example.com"), CatalyzeHeaders(key)).status, 401);
}

TEST(PropertiesTest, ServesHttpsWithAVerifiedCertificate) {
  TempDir dir;
  const std::string admin = InitDataDir(dir.path());
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext "
                          "subjectAltName=DNS:localhost -days 1 -keyout " + (dir / "key.pem") + " -out " +
                          (dir / "cert.pem") + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--tls-cert", dir / "cert.pem", "--tls-key", dir / "key.pem"});
  Server server(dir.path(), args);
  ASSERT_EQ(server.base_url().rfind("https://", 0), 0u);
  Client client(server.base_url(), dir / "cert.pem");
  auto r = client.Send("POST", "/v2/users", Body("tls-user", "t@example.com"), CatalyzeHeaders(admin));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id(r.Json().at("usersId").as_string());
  EXPECT_EQ(client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).status, 200);
  // Plain HTTP to the TLS port does not get a response it could mistake for success.
  Client plain("http://127.0.0.1:" + std::to_string(server.port()));
  try {
    EXPECT_NE(plain.Send("GET", "/healthz").status, 200);
  } catch (const std::exception&) {
  }
}

TEST(PropertiesTest, TwoProcessesOnOneDatabaseActAsOne) {
  if (!UsingPostgres()) GTEST_SKIP() << "several processes share one PostgreSQL, not one SQLite file";
  TempDir first, second;
  const std::string admin = InitDataDir(first.path());
  // A second stateless process: the same master key and database, its own data dir.
  for (const char* file : {"master.key", "roster.toml"})
    std::filesystem::copy_file(first / file, second / file);
  Server a(first.path()), b(second.path());
  const RaceTally t = RacePosts(
      32, [&](int i) { return (i % 2 ? a : b).base_url(); },
      [](int i) { return Body(i % 3 ? "Shared-Name" : "shared-name", "s@example.com"); }, "/v2/users",
      CatalyzeHeaders(admin));
  EXPECT_EQ(t.ok, 1);
  EXPECT_EQ(t.conflict, 31);
  EXPECT_EQ(t.other, 0);
  Client ca(a.base_url()), cb(b.base_url());
  auto created = ca.Send("POST", "/v2/users", Body("written-by-a", "w@example.com"), CatalyzeHeaders(admin));
  ASSERT_EQ(created.status, 200);
  const std::string id(created.Json().at("usersId").as_string());
  EXPECT_EQ(cb.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).status, 200);
  EXPECT_EQ(cb.Send("PUT", "/v2/users/" + id, R"({"gender":"F"})", CatalyzeHeaders(admin)).status, 200);
  EXPECT_EQ(ca.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).Json().at("gender"), "F");
}

TEST(PropertiesTest, SigtermExitsCleanly) {
  TempDir dir;
  InitDataDir(dir.path());
  Server server(dir.path());
  EXPECT_EQ(Client(server.base_url()).Send("GET", "/healthz").status, 200);
  EXPECT_EQ(server.Terminate(), 0);
}

}  // namespace
}  // namespace roster::testing
