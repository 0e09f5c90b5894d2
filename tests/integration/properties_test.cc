// The properties that matter most: durability across kill -9, no plaintext PII at rest,
// no secret in any log, TLS, tenant isolation, graceful shutdown.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

TEST(PropertiesTest, RevokedKeyIsRefusedFromThenOn) {
  TempDir dir;
  InitDataDir(dir.path());
  auto created = RunRoster({"key", "create", "--env", "default", "--role", "app", "--data-dir", dir.path(), "--json"});
  auto j = json::parse(created.out).as_object();
  const std::string key(j.at("key").as_string()), id(j.at("id").as_string());
  Server server(dir.path());
  Client client(server.base_url());
  EXPECT_EQ(client.Send("POST", "/v2/users", Body("before-revoke", "a@example.com"), CatalyzeHeaders(key)).status, 200);
  ASSERT_EQ(RunRoster({"key", "revoke", id, "--data-dir", dir.path()}).exit_code, 0);
  int attempt = 0;
  auto refused = [&] {
    const std::string name = "after-revoke-" + std::to_string(++attempt);
    return client.Send("POST", "/v2/users", Body(name, "a@example.com"), CatalyzeHeaders(key)).status == 401;
  };
  EXPECT_TRUE(RefusedOnceRevocationArrives(refused));
  EXPECT_TRUE(refused());  // and stays refused
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

  // Both processes keep key lookups in memory; a key revoked by a third process (the CLI)
  // is refused by both, and only that key.
  auto made = RunRoster({"key", "create", "--env", "default", "--role", "admin", "--data-dir", first.path(), "--json"});
  const auto key = json::parse(made.out).as_object();
  const std::string secret(key.at("key").as_string()), key_id(key.at("id").as_string());
  for (Client* c : {&ca, &cb}) {
    EXPECT_EQ(c->Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(secret)).status, 200);
    EXPECT_EQ(c->Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(secret)).status, 200);  // from memory
  }
  ASSERT_EQ(RunRoster({"key", "revoke", key_id, "--data-dir", second.path()}).exit_code, 0);
  for (Client* c : {&ca, &cb}) {
    EXPECT_TRUE(RefusedOnceRevocationArrives(
        [&] { return c->Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(secret)).status == 401; }));
    EXPECT_EQ(c->Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).status, 200);
  }
}

// A plain libpq session on the database behind a server, for acting behind its back.
// SQL here embeds only values the test made.
class SqlSession {
 public:
  explicit SqlSession(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      PQfinish(conn_);
      throw std::runtime_error("cannot reach the test database");
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~SqlSession() { PQfinish(conn_); }
  SqlSession(const SqlSession&) = delete;
  SqlSession& operator=(const SqlSession&) = delete;

  // The first column of the first row, or "".
  std::string Query(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(r);
    std::string out = status == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw std::runtime_error("query failed: " + sql);
    return out;
  }
  // Polls `count_sql` (up to 5 s) until it reads `want`.
  bool WaitFor(const std::string& count_sql, const std::string& want) {
    for (int i = 0; i < 200; ++i) {
      if (Query(count_sql) == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

 private:
  PGconn* conn_;
};

TEST(PropertiesTest, ALostDatabaseSessionFailsOnlyTheRequestThatWasOnItWith503) {
  if (!UsingPostgres()) GTEST_SKIP() << "database sessions are PostgreSQL's";
  TempDir dir;
  const std::string admin = InitDataDir(dir.path());
  Server server(dir.path());
  Client client(server.base_url());
  auto created = client.Send("POST", "/v2/users", Body("lost-session", "l@example.com"), CatalyzeHeaders(admin));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id(created.Json().at("usersId").as_string());
  SqlSession sql(DatabaseUrl(dir.path()));
  const std::string others = " FROM pg_stat_activity WHERE datname = current_database()"
                             " AND pid <> pg_backend_pid() AND backend_type = 'client backend'";

  // Every session of the server ends while idle (a restart or failover looks the same):
  // no request was on one, so none fails, not even the first on each pooled session.
  const std::string pids = sql.Query("SELECT string_agg(pid::text, ',')" + others);
  ASSERT_FALSE(pids.empty());
  sql.Query("SELECT count(pg_terminate_backend(pid))" + others);
  ASSERT_TRUE(sql.WaitFor("SELECT count(*) FROM pg_stat_activity WHERE pid IN (" + pids + ")", "0"));
  std::vector<int> statuses(16);
  std::vector<std::thread> readers;
  for (int i = 0; i < 16; ++i)
    readers.emplace_back([&, i] {
      statuses[i] = Client(server.base_url()).Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).status;
    });
  for (auto& t : readers) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 16);

  // A request whose session ends under it (here: waiting on a row another session
  // holds) gets a 503 in the dialect's shape, changes nothing, and the next one succeeds.
  const std::string before = client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).body;
  SqlSession holder(DatabaseUrl(dir.path()));
  holder.Query("BEGIN; SELECT 1 FROM users WHERE id = '" + id + "' FOR UPDATE");
  HttpResponse during;
  std::thread writer([&] {
    during = Client(server.base_url()).Send("PUT", "/v2/users/" + id, R"({"gender":"F"})", CatalyzeHeaders(admin));
  });
  const std::string waiting = others + " AND wait_event_type = 'Lock'";
  const bool waited = sql.WaitFor("SELECT count(*)" + waiting, "1");
  sql.Query("SELECT count(pg_terminate_backend(pid))" + waiting);
  writer.join();
  ASSERT_TRUE(waited);
  ExpectCatalyzeError(during, 503, "");
  holder.Query("ROLLBACK");
  EXPECT_EQ(client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).body, before);
  EXPECT_EQ(client.Send("PUT", "/v2/users/" + id, R"({"gender":"F"})", CatalyzeHeaders(admin)).status, 200);
  EXPECT_EQ(client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).Json().at("gender"), "F");
}

// Hashing runs on the worker pool behind a cap (--hash-threads); reads run on the I/O
// threads. So reads sent while a burst of sign-ups is queued behind the cap are answered
// at once, not after the queued sign-ups (measured in sign-ups answered meanwhile, not in
// seconds).
TEST(PropertiesTest, ABurstOfSignUpsDoesNotStallReads) {
  TempDir dir;
  const std::string admin = InitDataDir(dir.path());
  // One costly hash at a time, so the burst lasts (16 x 64 MiB, t=3: over a second).
  Server server(dir.path(), {"--argon2-ops", "3", "--argon2-memory-kib", "65536", "--hash-threads", "1"});
  Client client(server.base_url());
  auto target = client.Send("POST", "/v2/users", Body("read-target", "r@example.com"), CatalyzeHeaders(admin));
  ASSERT_EQ(target.status, 200) << target.body;
  const std::string id(target.Json().at("usersId").as_string());

  constexpr int kBurst = 16;
  std::atomic<int> answered{0};
  std::vector<int> statuses(kBurst);
  std::vector<std::thread> burst;
  for (int i = 0; i < kBurst; ++i)
    burst.emplace_back([&, i] {
      const std::string name = "burst-" + std::to_string(i);
      statuses[i] = Client(server.base_url()).Send("POST", "/v2/users", Body(name, name + "@example.com"),
                                                   CatalyzeHeaders(admin)).status;
      ++answered;
    });
  // Under way: the first sign-up of the burst has been answered.
  for (int i = 0; i < 3000 && answered == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int answered_before = answered;
  int reads_ok = 0;
  for (int i = 0; i < 5; ++i)
    reads_ok += client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).status == 200;
  const int answered_after = answered;
  for (auto& t : burst) t.join();
  EXPECT_EQ(reads_ok, 5);
  EXPECT_GE(answered_before, 1);
  // The reads took less time than two sign-ups of the burst: they did not queue behind
  // it (on the worker pool they would wait for at least the 8 sign-ups queued there).
  EXPECT_LE(answered_after - answered_before, 2);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), kBurst);
}

TEST(PropertiesTest, HeaderAndIdleTimeoutsAreSetFromTheCommandLine) {
  TempDir dir;
  InitDataDir(dir.path());
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--header-timeout-seconds", "1", "--idle-timeout-seconds", "1"});
  Server server(dir.path(), args);
  // A keep-alive request is answered, then the idle connection is closed.
  const RawReply idle = RawExchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 10);
  EXPECT_TRUE(idle.data.starts_with("HTTP/1.1 200")) << idle.data.substr(0, 80);
  EXPECT_TRUE(idle.closed);
  // Headers that never end are not waited for.
  const RawReply slow = RawExchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n", 10);
  EXPECT_EQ(slow.data, "");
  EXPECT_TRUE(slow.closed);
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

namespace roster::testing {
namespace {

// Every dialect's writing routes, fed malformed and hostile bodies and queries: every
// answer is a 4xx (never a 5xx, a hang or a crash), and the server keeps serving.
TEST(PropertiesTest, HostileInputNeverCausesA5xxInAnyDialect) {
  TempDir dir;
  const std::string admin = InitDataDir(dir.path());
  auto run_json = [&](const std::vector<std::string>& args) {
    auto r = RunRoster(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out).as_object();
  };
  const auto pingone = run_json({"pingone", "app", "create", "--env", "default", "--json", "--data-dir", dir.path()});
  const auto quickblox = run_json({"quickblox", "app", "create", "--env", "default", "--json", "--data-dir", dir.path()});
  const auto commcare = run_json({"commcare", "web-user", "create", "--domain", "default", "--email",
                                  "admin@example.org", "--json", "--data-dir", dir.path()});
  Server server(dir.path());
  Client client(server.base_url());

  // One user and one group to aim the by-id routes at.
  auto user = client.Send("POST", "/v2/users", Body("target", "target@example.com"), CatalyzeHeaders(admin));
  ASSERT_EQ(user.status, 200) << user.body;
  const std::string uuid(user.Json().at("usersId").as_string());
  std::string hex = uuid;
  std::erase(hex, '-');
  auto group = client.Send("POST", "/v2/groups", R"({"name":"g"})", CatalyzeHeaders(admin));
  ASSERT_EQ(group.status, 200) << group.body;
  const std::string gid(group.Json().at("groupsId").as_string());
  const std::string env(pingone.at("environmentId").as_string());
  auto token = client.Send("POST", "/" + env + "/as/token",
                           "grant_type=client_credentials&client_id=" + std::string(pingone.at("clientId").as_string()) +
                               "&client_secret=" + std::string(pingone.at("clientSecret").as_string()),
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(token.status, 200) << token.body;
  const Headers catalyze = CatalyzeHeaders(admin);
  const Headers ping = {{"Authorization", "Bearer " + std::string(token.Json().at("access_token").as_string())}};
  const Headers qb = {{"Authorization", "ApiKey " + std::string(quickblox.at("apiKey").as_string())}};
  const Headers cc = {{"Authorization", "ApiKey admin@example.org:" + std::string(commcare.at("apiKey").as_string())}};
  const std::string p1 = "/v1/environments/" + env;
  const std::string a = "/a/default/api/v0.5";
  struct Target {
    const char* method;
    std::string path;
    const Headers* headers;
  };
  const std::vector<Target> targets = {
      {"POST", "/v2/users", &catalyze},
      {"PUT", "/v2/users/" + uuid, &catalyze},
      {"POST", "/v2/auth/signin", &catalyze},
      {"POST", "/v2/users/forgotUsername", &catalyze},
      {"POST", "/v2/groups", &catalyze},
      {"PUT", "/v2/groups/" + gid, &catalyze},
      {"POST", "/v2/default/reset/user/target", &catalyze},
      {"PUT", "/v2/app/default/templates/forgot_username", &catalyze},
      {"POST", p1 + "/users", &ping},
      {"PUT", p1 + "/users/" + uuid, &ping},
      {"PATCH", p1 + "/users/" + uuid, &ping},
      {"PUT", p1 + "/users/" + uuid + "/enabled", &ping},
      {"PUT", p1 + "/users/" + uuid + "/password", &ping},
      {"PUT", p1 + "/users/" + uuid + "/population", &ping},
      {"POST", p1 + "/populations", &ping},
      {"GET", p1 + "/users?filter=%28%28%28username%20eq&limit=-1&cursor=%00", &ping},
      {"POST", "/session.json", &qb},
      {"POST", "/users.json", &qb},
      {"PUT", "/users/1.json", &qb},
      {"GET", "/users.json?filter[]=number%20id%20between%20x&order=sideways&per_page=-5&page=%zz", &qb},
      {"POST", a + "/user/", &cc},
      {"PUT", a + "/user/" + hex + "/", &cc},
      {"POST", a + "/group/", &cc},
      {"GET", a + "/user/?limit=-1&offset=abc&group=%ff", &cc},
  };
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"", "application/json"},
      {"{", "application/json"},
      {"null", "application/json"},
      {"[1,2,3]", "application/json"},
      {std::string(1000, '[') + std::string(1000, ']'), "application/json"},
      {"{\"username\":\"\xff\xfe\",\"name\":\"\xc3\"}", "application/json"},
      {R"({"username":[],"password":{},"email":7,"name":"x","user":{"login":[],"password":1},"phone_numbers":"x",)"
       R"("groups":"x","user_data":[],"population":{"id":5},"enabled":"yes","users":7,"default":"no",)"
       R"("subject":{},"body":[],"token":false,"value":null,"addresses":{"a":1},"dob":"2999-99-99"})",
       "application/json"},
      {"{\"username\":\"" + std::string(200'000, 'a') + "\"}", "application/json"},
      {"user[login]=%zz&user[password]=&user[[x]]=1&&=&user=1", "application/x-www-form-urlencoded"},
      {"\x00\x01\x02garbage", "text/plain"},
      {"{\"a\":1}", "application/vnd.pingidentity.password.set+json"},
  };
  int answers = 0;
  std::map<long, int> statuses;
  for (const auto& t : targets) {
    for (const auto& [body, type] : bodies) {
      Headers h = *t.headers;
      h.emplace_back("Content-Type", type);
      auto r = client.Send(t.method, t.path, body, h);
      EXPECT_GE(r.status, 200) << t.method << " " << t.path << " <- " << body.substr(0, 80);
      EXPECT_LT(r.status, 500) << t.method << " " << t.path << " <- " << body.substr(0, 80) << " -> " << r.body;
      // Every caller is authenticated and every target exists: the refusals are about
      // the input, not a missed route or credential (which would make this test vacuous).
      EXPECT_NE(r.status, 401) << t.method << " " << t.path << " -> " << r.body;
      EXPECT_NE(r.status, 404) << t.method << " " << t.path << " -> " << r.body;
      ++statuses[r.status];
      ++answers;
    }
  }
  EXPECT_EQ(answers, static_cast<int>(targets.size() * bodies.size()));
  EXPECT_GT(statuses[400] + statuses[422], answers / 2);
  EXPECT_EQ(client.Send("GET", "/healthz").status, 200);
  EXPECT_EQ(client.Send("GET", "/v2/users/" + uuid, "", catalyze).status, 200);  // the target is intact

  // No dialect's credential reached a log, whatever the input.
  const std::string logs = ReadFile(server.access_log_path()) + ReadFile(server.stderr_path());
  for (const std::string& secret : {admin, std::string(pingone.at("clientSecret").as_string()),
                                   std::string(token.Json().at("access_token").as_string()),
                                   std::string(quickblox.at("authSecret").as_string()),
                                   std::string(quickblox.at("apiKey").as_string()),
                                   std::string(commcare.at("apiKey").as_string())})
    EXPECT_EQ(logs.find(secret), std::string::npos) << "a credential is in the logs";
  EXPECT_EQ(logs.find("target@example.com"), std::string::npos);
}

}  // namespace
}  // namespace roster::testing
