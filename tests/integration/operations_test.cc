// Operating Roster (issue 20): readiness, metrics, settings, logs, backup and restore,
// TLS reload, against the real binary.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "integration/harness.h"
#include "integration/scim_support.h"

namespace roster::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string Body(const json::object& o) { return json::serialize(o); }

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
}

// Sets an environment variable for the life of the object (the spawned binaries inherit it).
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// The metrics base URL from the server's "roster metrics on URL/metrics" line.
std::string MetricsBase(Server& server) {
  const std::string line = server.NextLine();
  const auto at = line.find("http://");
  const auto end = line.rfind("/metrics");
  if (at == std::string::npos || end == std::string::npos) return {};
  return line.substr(at, end - at);
}

// Sum of the samples of `name` whose labels contain every `label="value"` in `having`.
double Sample(const std::string& text, const std::string& name, const std::vector<std::string>& having = {}) {
  double total = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    bool match = true;
    for (const auto& h : having) match = match && line.find(h) != std::string::npos;
    if (match) total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

void ExpectPromtoolAccepts(const std::string& text, const std::string& dir) {
  std::string out;
  ASSERT_EQ(Shell("command -v promtool >/dev/null"), 0)
      << "promtool is missing: install Debian's prometheus package (scripts/install-deps.sh --test)";
  WriteFile(dir + "/scrape.txt", text);
  EXPECT_EQ(Shell("promtool check metrics < " + dir + "/scrape.txt", &out), 0) << out << "\n" << text;
}

// ---------------------------------------------------------------- readiness

TEST(ReadinessTest, ReadyWhenStoreMigrationsAndKeysAreFine) {
  TempDir dir;
  InitDataDir(dir.path());
  Server server(dir.path());
  Client client(server.base_url());
  auto ready = client.Send("GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.Json().at("status"), "ready");
  EXPECT_EQ(client.Send("GET", "/healthz").status, 200);
}

TEST(ReadinessTest, NotReadyWhenTheMasterKeyDoesNotOpenTheData) {
  TempDir dir;
  InitDataDir(dir.path());
  // Another key than the one the data was sealed with: the process runs (liveness) but
  // cannot serve (readiness).
  ScopedEnv key("ROSTER_MASTER_KEY", std::string(64, 'a'));
  Server server(dir.path());
  Client client(server.base_url());
  EXPECT_EQ(client.Send("GET", "/healthz").status, 200);
  auto ready = client.Send("GET", "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_EQ(ready.Json().at("check"), "keys") << ready.body;
  EXPECT_NE(ready.Json().at("reason").as_string().find("master key"), json::string::npos) << ready.body;
}

// A database whose schema is behind the binary's (as when a newer binary's migrations
// have not run) is not ready; 200 again once it is current.
TEST(ReadinessTest, NotReadyWhileMigrationsAreBehind) {
  if (UsingPostgres()) GTEST_SKIP() << "the check is the store's; SQLite is enough to see it";
  TempDir dir;
  InitDataDir(dir.path());
  Server server(dir.path());
  Client client(server.base_url());
  ASSERT_EQ(client.Send("GET", "/readyz").status, 200);
  const std::string db = dir / "roster.db";
  std::string out;
  ASSERT_EQ(Shell("sqlite3 " + db + " \"CREATE TABLE kept AS SELECT * FROM schema_migrations WHERE version = "
                  "(SELECT MAX(version) FROM schema_migrations); DELETE FROM schema_migrations WHERE version = "
                  "(SELECT version FROM kept)\"", &out),
            0)
      << out;
  auto behind = client.Send("GET", "/readyz");
  EXPECT_EQ(behind.status, 503) << behind.body;
  EXPECT_EQ(behind.Json().at("check"), "migrations") << behind.body;
  EXPECT_NE(behind.Json().at("reason").as_string().find("roster migrate"), json::string::npos) << behind.body;
  ASSERT_EQ(Shell("sqlite3 " + db + " 'INSERT INTO schema_migrations SELECT * FROM kept; DROP TABLE kept'", &out), 0)
      << out;
  EXPECT_EQ(client.Send("GET", "/readyz").status, 200);
}

// Stops and starts a PostgreSQL server of its own (scripts/pg-test-cluster.sh pause and
// resume): /readyz answers 503 naming the store while it is down, 200 once it is back,
// and /healthz stays 200 throughout.
TEST(ReadinessTest, FlipsWhenPostgresStopsAndReturnsWhenItStarts) {
  if (UsingPostgres()) GTEST_SKIP() << "runs once, in the SQLite pass, with a cluster of its own";
  if (!OwnPostgresCluster::Installed()) GTEST_SKIP() << "PostgreSQL is not installed";
  OwnPostgresCluster cluster;
  ASSERT_FALSE(cluster.dsn().empty()) << cluster.error();
  const std::string& dsn = cluster.dsn();

  TempDir dir;
  auto init = RunRoster({"init", "--data-dir", dir.path(), "--database", dsn, "--json"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  Server server(dir.path());
  Client client(server.base_url());
  EXPECT_EQ(client.Send("GET", "/readyz").status, 200);

  std::string out;
  ASSERT_EQ(cluster.Run("pause", &out), 0) << out;
  HttpResponse down;
  EXPECT_TRUE(WaitFor([&] {
    down = client.Send("GET", "/readyz");
    return down.status == 503;
  })) << down.status << " " << down.body;
  EXPECT_EQ(down.Json().at("check"), "store") << down.body;
  EXPECT_EQ(client.Send("GET", "/healthz").status, 200);

  ASSERT_EQ(cluster.Run("resume", &out), 0) << out;
  HttpResponse up;
  EXPECT_TRUE(WaitFor([&] {
    up = client.Send("GET", "/readyz");
    return up.status == 200;
  })) << up.status << " " << up.body;
}

// ---------------------------------------------------------------- metrics

TEST(MetricsTest, ServedOnItsOwnListenerValidAndMovingWithRequestsThrottlesAndMailFailures) {
  TempDir dir;
  const std::string admin = InitDataDir(dir.path());
  const std::string app = CreateKey(dir.path(), "default", "app");
  std::vector<std::string> args = kFastHashing;
  // Two requests per bucket (the last value given counts), a mail server that refuses.
  args.insert(args.end(), {"--throttle-per-address", "2", "--metrics-listen", "127.0.0.1:0", "--smtp-url",
                           "smtp://127.0.0.1:1", "--signin-max-attempts", "100"});
  Server server(dir.path(), args);
  const std::string base = MetricsBase(server);
  ASSERT_FALSE(base.empty());
  Client metrics(base), client(server.base_url());
  // Not on the main listener.
  EXPECT_EQ(client.Send("GET", "/metrics").status, 404);

  auto first = metrics.Send("GET", "/metrics");
  ASSERT_EQ(first.status, 200);
  EXPECT_NE(first.Header("content-type").find("text/plain; version=0.0.4"), std::string::npos);
  ExpectPromtoolAccepts(first.body, dir.path());
  for (const char* name : {"roster_argon2_slots", "roster_argon2_slots_in_use", "roster_argon2_wait_seconds_total",
                           "roster_worker_queue_depth", "roster_worker_rejections_total", "roster_outbox_messages",
                           "roster_outbox_oldest_age_seconds", "roster_mail_deliveries_total",
                           "roster_signin_failures_total", "roster_throttled_total", "process_resident_memory_bytes",
                           "process_open_fds", "process_cpu_seconds_total"})
    EXPECT_NE(first.body.find(std::string("\n") + name), std::string::npos) << name;
  if (UsingPostgres()) EXPECT_NE(first.body.find("roster_db_pool_in_use"), std::string::npos);

  // Requests: a user read by id counts under its route template, never its id.
  const std::string username = "metrics-sentinel-user", email = "metrics.sentinel@example.org";
  auto created = client.Send("POST", "/v2/users",
                             Body({{"username", username}, {"password", "correct horse 1"}, {"email", {{"primary", email}}}}),
                             CatalyzeHeaders(admin));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id(created.Json().at("usersId").as_string());
  ASSERT_EQ(client.Send("PUT", "/v2/users/" + id, Body({{"active", true}}), CatalyzeHeaders(admin)).status, 200);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).status, 200);
  EXPECT_EQ(client.Send("GET", "/v2/users/00000000-0000-4000-8000-000000000000", "", CatalyzeHeaders(admin)).status,
            404);

  // Sign-in: one wrong password, then the address's bucket (2) runs out.
  const auto sign_in = [&](const std::string& password) {
    return client.Send("POST", "/v2/auth/signin", Body({{"username", username}, {"password", password}}),
                       CatalyzeHeaders(app));
  };
  EXPECT_EQ(sign_in("wrong password").status, 401);
  long last = 0;
  for (int i = 0; i < 3; ++i) last = sign_in("correct horse 1").status;
  EXPECT_EQ(last, 429);

  // A message for the outbox, which the refusing server cannot take.
  EXPECT_EQ(client.Send("POST", "/v2/users/forgotUsername", Body({{"email", email}}), CatalyzeHeaders(app)).status,
            200);
  std::string text;
  EXPECT_TRUE(WaitFor([&] {
    text = metrics.Send("GET", "/metrics").body;
    return Sample(text, "roster_mail_deliveries_total", {"outcome=\"failed\""}) >= 1;
  })) << text;

  EXPECT_EQ(Sample(text, "roster_http_requests_total",
                   {"api=\"catalyze\"", "method=\"GET\"", "route=\"/v2/users/{usersId}\"", "status=\"2xx\""}),
            3)
      << text;
  EXPECT_EQ(Sample(text, "roster_http_requests_total", {"route=\"/v2/users/{usersId}\"", "status=\"4xx\""}), 1);
  EXPECT_EQ(Sample(text, "roster_http_request_duration_seconds_count",
                   {"api=\"catalyze\"", "method=\"GET\"", "route=\"/v2/users/{usersId}\""}),
            4);
  EXPECT_EQ(Sample(text, "roster_signin_failures_total"), 1) << text;
  EXPECT_GE(Sample(text, "roster_throttled_total", {"action=\"sign-in\""}), 1) << text;
  EXPECT_GE(Sample(text, "roster_outbox_messages"), 1) << text;
  EXPECT_GE(Sample(text, "process_resident_memory_bytes"), 1) << text;
  EXPECT_GE(Sample(text, "roster_argon2_slots"), 1) << text;
  // The audit writer: every read above was made durable by it; nothing waits, nothing failed.
  EXPECT_GE(Sample(text, "roster_audit_records_total"), 3) << text;
  EXPECT_GE(Sample(text, "roster_audit_batches_total"), 1) << text;
  EXPECT_EQ(Sample(text, "roster_audit_failed_batches_total"), 0) << text;
  EXPECT_NE(text.find("\nroster_audit_queue_records "), std::string::npos) << text;
  EXPECT_NE(text.find("\nroster_audit_lag_seconds "), std::string::npos) << text;
  // No label carries a user's value or a path value.
  for (const std::string& value : {username, email, id, std::string("00000000-0000-4000-8000-000000000000")})
    EXPECT_EQ(text.find(value), std::string::npos) << value;
  ExpectPromtoolAccepts(text, dir.path());
}

// ---------------------------------------------------------------- settings

json::array Settings(const CommandResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  boost::system::error_code ec;
  auto v = json::parse(r.out, ec);
  if (ec) return {};
  return v.at("settings").as_array();
}

// A valid value of a setting for one layer (0: file, 1: variable, 2: flag), by its type.
std::string SampleValue(const json::object& s, int layer) {
  const std::string key(s.at("key").as_string()), type(s.at("type").as_string());
  static const char* kLayer[] = {"file", "env", "flag"};
  if (type == "flag") return layer == 1 ? "false" : "true";
  if (type == "integer") {
    long base = 0;
    try {
      base = std::max(0L, std::stol(std::string(s.at("default").as_string())));
    } catch (...) {
    }
    return std::to_string(base + 1 + layer);
  }
  // Settings whose checks want a particular shape.
  if (key == "log-level") return std::vector<std::string>{"warn", "error", "debug"}[layer];
  if (key == "audit") return layer == 1 ? "on" : "off";  // each layer differs from the one below
  if (key == "commcare-account-root") return std::string(kLayer[layer]) + ".example";
  if (key.ends_with("-url") || key.find("origin") != std::string::npos)
    return "https://" + std::string(kLayer[layer]) + ".example";
  return std::string(kLayer[layer]) + "-" + key;
}

// Every setting `roster config show` lists (every serve option) is set in the config
// file, as a ROSTER_* variable and as a flag, each to another value; the variable must
// beat the file and the flag both. A new serve flag is covered without a line here
// (unless its check wants a value of a shape SampleValue does not make).
TEST(ConfigTest, PrecedenceHoldsForEverySetting) {
  TempDir dir;
  const json::array defaults = Settings(RunRoster({"config", "show", "--json"}));
  ASSERT_GE(defaults.size(), 30u);
  std::string file;
  std::vector<std::string> flags = {"config", "show", "--json", "--config", dir / "roster.toml"};
  std::vector<std::unique_ptr<ScopedEnv>> env;
  for (const auto& v : defaults) {
    const auto& s = v.as_object();
    EXPECT_EQ(s.at("source"), "default") << s;
    const std::string key(s.at("key").as_string()), type(s.at("type").as_string());
    EXPECT_EQ(std::string(s.at("flag").as_string()), "--" + key);
    std::string variable = "ROSTER_" + key;
    for (char& c : variable) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(std::string(s.at("variable").as_string()), variable);
    const std::string in_file = SampleValue(s, 0);
    file += key + " = " +
            (type == "integer" || type == "flag" ? in_file : type == "list" ? "[\"" + in_file + "\"]" : "\"" + in_file + "\"") +
            "\n";
  }
  WriteFile(dir / "roster.toml", file);
  const auto check = [&](const std::vector<std::string>& args, int layer, const char* source) {
    const json::array now = Settings(RunRoster(args));
    ASSERT_EQ(now.size(), defaults.size());
    for (std::size_t i = 0; i < now.size(); ++i) {
      const auto& s = now[i].as_object();
      EXPECT_EQ(s.at("source"), source) << s;
      const std::string expected = SampleValue(defaults[i].as_object(), layer);
      if (s.at("type") == "flag") {
        // A flag given on the command line is on; a variable may turn it off.
        EXPECT_EQ(std::string(s.at("value").as_string()), layer == 2 ? "true" : expected) << s;
      } else {
        EXPECT_EQ(std::string(s.at("value").as_string()), expected) << s;
      }
    }
  };
  SCOPED_TRACE("file only");
  check(flags, 0, "file");
  for (const auto& v : defaults) {
    const auto& s = v.as_object();
    env.push_back(std::make_unique<ScopedEnv>(std::string(s.at("variable").as_string()), SampleValue(s, 1)));
  }
  SCOPED_TRACE("file and variables");
  check(flags, 1, "environment");
  for (const auto& v : defaults) {
    const auto& s = v.as_object();
    flags.push_back(std::string(s.at("flag").as_string()));
    if (s.at("type") != "flag") flags.push_back(SampleValue(s, 2));
  }
  SCOPED_TRACE("file, variables and flags");
  check(flags, 2, "flag");
}

// docs/operations.md's settings table has a row for every setting: flag, variable, key.
TEST(ConfigTest, EveryServeSettingIsInTheOperationsTable) {
  const std::string doc = ReadFile(std::string(kTestSource) + "/../docs/operations.md");
  ASSERT_FALSE(doc.empty());
  for (const auto& v : Settings(RunRoster({"config", "show", "--json"}))) {
    const auto& s = v.as_object();
    const std::string row = "| `" + std::string(s.at("flag").as_string()) + "` | `" +
                            std::string(s.at("variable").as_string()) + "` | `" + std::string(s.at("key").as_string()) +
                            "` |";
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/operations.md has no row " << row;
  }
}

TEST(ConfigTest, UnknownKeysAndBadValuesAreErrorsNamingThem) {
  TempDir dir;
  WriteFile(dir / "a.toml", "listen = \"127.0.0.1:0\"\nlisten-port = 8080\n");
  auto unknown = RunRoster({"config", "show", "--config", dir / "a.toml"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("unknown key 'listen-port'"), std::string::npos) << unknown.err;
  // serve refuses the same file before it opens anything.
  auto serve = RunRoster({"serve", "--data-dir", dir / "none", "--config", dir / "a.toml"});
  EXPECT_NE(serve.exit_code, 0);
  EXPECT_NE(serve.err.find("listen-port"), std::string::npos) << serve.err;

  WriteFile(dir / "b.toml", "db-pool-size = 0\n");
  auto bad_file = RunRoster({"config", "show", "--config", dir / "b.toml"});
  EXPECT_NE(bad_file.exit_code, 0);
  EXPECT_NE(bad_file.err.find("key 'db-pool-size'"), std::string::npos) << bad_file.err;
  {
    ScopedEnv bad("ROSTER_COMMCARE_ACCOUNT_ROOT", "Not A Domain");
    auto bad_env = RunRoster({"config", "show"});
    EXPECT_NE(bad_env.exit_code, 0);
    EXPECT_NE(bad_env.err.find("ROSTER_COMMCARE_ACCOUNT_ROOT"), std::string::npos) << bad_env.err;
  }
  WriteFile(dir / "c.toml", "listen = [ [1] ]\n");
  EXPECT_NE(RunRoster({"config", "show", "--config", dir / "c.toml"}).exit_code, 0);
  WriteFile(dir / "d.toml", "listen = \n");
  auto broken = RunRoster({"config", "show", "--config", dir / "d.toml"});
  EXPECT_NE(broken.exit_code, 0);
  EXPECT_NE(broken.err.find("d.toml"), std::string::npos) << broken.err;
}

TEST(ConfigTest, ShowRedactsPasswords) {
  TempDir dir;
  WriteFile(dir / "r.toml", "smtp-url = \"smtps://mailer:Hunter2Secret@mail.example:465\"\n");
  ScopedEnv db("ROSTER_DATABASE", "postgresql://roster:PgSecret99@db.example/roster");
  for (const bool as_json : {false, true}) {
    std::vector<std::string> args = {"config", "show", "--config", dir / "r.toml"};
    if (as_json) args.push_back("--json");
    auto r = RunRoster(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("Hunter2Secret"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("PgSecret99"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("smtps://mailer:REDACTED@mail.example:465"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("postgresql://roster:REDACTED@db.example/roster"), std::string::npos) << r.out;
  }
}

TEST(ConfigTest, ServeTakesItsSettingsFromTheFile) {
  TempDir dir;
  InitDataDir(dir.path());
  WriteFile(dir / "serve.toml", "metrics-listen = \"127.0.0.1:0\"\nlog-level = \"warn\"\n");
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--config", dir / "serve.toml"});
  Server server(dir.path(), args);
  EXPECT_FALSE(MetricsBase(server).empty());
  EXPECT_EQ(Client(server.base_url()).Send("GET", "/healthz").status, 200);
  server.Terminate();
  // warn: the info lines (start, stop) are not written.
  EXPECT_EQ(ReadFile(server.stderr_path()).find("\"level\":\"info\""), std::string::npos)
      << ReadFile(server.stderr_path());
}

// ---------------------------------------------------------------- logs

// Sentinel values go in through the APIs; none may come out in the server's logs, every
// line of which is one JSON object with a level.
TEST(LogsTest, JsonLinesWithLevelsAndRequestIdsAndNoPersonalData) {
  TempDir dir;
  const std::string admin = InitDataDir(dir.path());
  const std::string app = CreateKey(dir.path(), "default", "app");
  Server server(dir.path());
  Client client(server.base_url());
  const std::vector<std::string> sentinels = {"LogSentinelUser", "log.sentinel.mail@example.org", "987650321",
                                              "Zebediah", "Quuxington", "LogSentinelPassw0rd"};
  auto created = client.Send("POST", "/v2/users",
                             Body({{"username", sentinels[0]},
                                   {"password", sentinels[5]},
                                   {"email", {{"primary", sentinels[1]}}},
                                   {"ssn", sentinels[2]},
                                   {"name", {{"firstName", sentinels[3]}, {"lastName", sentinels[4]}}}}),
                             CatalyzeHeaders(admin));
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id(created.Json().at("usersId").as_string());
  client.Send("PUT", "/v2/users/" + id, Body({{"active", true}}), CatalyzeHeaders(admin));
  client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin));
  client.Send("POST", "/v2/auth/signin", Body({{"username", sentinels[0]}, {"password", "wrong " + sentinels[5]}}),
              CatalyzeHeaders(app));
  client.Send("POST", "/v2/auth/signin", Body({{"username", sentinels[0]}, {"password", sentinels[5]}}),
              CatalyzeHeaders(app));
  client.Send("POST", "/v2/users/forgotUsername", Body({{"email", sentinels[1]}}), CatalyzeHeaders(app));
  client.Send("GET", "/v2/users/" + sentinels[1], "", CatalyzeHeaders(admin));  // a value in a path
  // PingOne and QuickBlox wires too: a bad body naming the sentinel.
  client.Send("POST", "/v1/environments/" + sentinels[0] + "/users", Body({{"username", sentinels[0]}}));
  client.Send("GET", "/users/by_email.json?email=" + sentinels[1]);
  server.Terminate();

  const std::string err = ReadFile(server.stderr_path()), access = ReadFile(server.access_log_path());
  for (const auto& s : sentinels) {
    EXPECT_EQ(err.find(s), std::string::npos) << s << " in stderr:\n" << err;
    EXPECT_EQ(access.find(s), std::string::npos) << s << " in the access log";
  }
  EXPECT_EQ(access.find(id), std::string::npos);
  int lines = 0;
  for (const std::string* text : {&err, &access}) {
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      boost::system::error_code ec;
      const auto v = json::parse(line, ec);
      ASSERT_FALSE(ec) << "not JSON: " << line;
      ASSERT_TRUE(v.is_object()) << line;
      EXPECT_TRUE(v.as_object().contains("level")) << line;
      EXPECT_TRUE(v.as_object().contains("ts")) << line;
      ++lines;
    }
  }
  EXPECT_GT(lines, 10);
  EXPECT_NE(access.find("\"rid\":\""), std::string::npos);
  EXPECT_NE(access.find("\"route\":\"/v2/users/{usersId}\""), std::string::npos);
  EXPECT_NE(err.find("\"msg\":\"roster stopped\""), std::string::npos) << err;
}

TEST(LogsTest, LogLevelLeavesOutLowerLevels) {
  TempDir dir;
  InitDataDir(dir.path());
  {
    std::vector<std::string> args = kFastHashing;
    args.insert(args.end(), {"--log-level", "error"});
    Server quiet(dir.path(), args);
    // Serving (so SIGTERM is handled, not fatal) before it is told to stop.
    ASSERT_EQ(Client(quiet.base_url()).Send("GET", "/healthz").status, 200);
    EXPECT_EQ(quiet.Terminate(), 0);
    EXPECT_EQ(ReadFile(quiet.stderr_path()).find("\"level\":\"info\""), std::string::npos);
  }
  fs::remove(dir / "server.err");
  Server normal(dir.path());
  ASSERT_EQ(Client(normal.base_url()).Send("GET", "/healthz").status, 200);
  EXPECT_EQ(normal.Terminate(), 0);
  EXPECT_NE(ReadFile(normal.stderr_path()).find("\"level\":\"info\""), std::string::npos);
  auto bad = RunRoster({"serve", "--data-dir", dir.path(), "--log-level", "loud"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--log-level"), std::string::npos) << bad.err;
}

// ---------------------------------------------------------------- backup and restore

// Users made through Catalyze by an admin key, one after another, until stopped.
class WriteLoad {
 public:
  WriteLoad(std::string base_url, std::string admin) : base_url_(std::move(base_url)), admin_(std::move(admin)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~WriteLoad() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // The users acknowledged so far (id by username).
  std::map<std::string, std::string> Acknowledged() {
    std::lock_guard lock(mu_);
    return acknowledged_;
  }
  int failures() const { return failures_; }

 private:
  void Run() {
    Client client(base_url_);
    for (int i = 0; !stop_; ++i) {
      const std::string name = "load-" + std::to_string(i);
      try {
        auto r = client.Send("POST", "/v2/users", Body({{"username", name}, {"password", "correct horse 1"}, {"email", {{"primary", name + "@example.org"}}}}),
                             CatalyzeHeaders(admin_));
        if (r.status == 200) {
          std::lock_guard lock(mu_);
          acknowledged_[name] = std::string(r.Json().at("usersId").as_string());
        } else {
          ++failures_;
        }
      } catch (const std::exception&) {
        ++failures_;
      }
    }
  }
  std::string base_url_, admin_;
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::mutex mu_;
  std::map<std::string, std::string> acknowledged_;
  std::thread thread_;
};

TEST(BackupTest, OnlineBackupUnderWriteLoadRestoresEveryAcknowledgedUser) {
  if (UsingPostgres()) GTEST_SKIP() << "PostgreSQL is backed up with pg_dump (BackupTest.PostgresPointsToPgDump)";
  TempDir dir, restored_parent;
  const std::string admin = InitDataDir(dir.path());
  Server server(dir.path());
  WriteLoad load(server.base_url(), admin);
  ASSERT_TRUE(WaitFor([&] { return load.Acknowledged().size() >= 20; }));
  // Everything acknowledged before the backup starts must be in it.
  const auto before = load.Acknowledged();
  ScopedEnv passphrase("ROSTER_BACKUP_PASSPHRASE", "a long backup passphrase");
  auto backup = RunRoster({"backup", "--data-dir", dir.path(), "--out", dir / "roster.backup", "--include-key", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  const auto during = load.Acknowledged();
  load.Stop();
  EXPECT_EQ(load.failures(), 0);
  EXPECT_GT(during.size(), before.size());  // the server took writes while it ran
  EXPECT_EQ(json::parse(backup.out).at("includesKey"), true);

  const std::string target = restored_parent / "restored";
  auto restore = RunRoster({"restore", "--data-dir", target, "--from", dir / "roster.backup", "--json"});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(json::parse(restore.out).at("keys"), "ok") << restore.out;
  std::string integrity;
  ASSERT_EQ(Shell("sqlite3 " + target + "/roster.db 'PRAGMA integrity_check'", &integrity), 0) << integrity;
  EXPECT_EQ(integrity, "ok\n");
  EXPECT_EQ(ReadFile(target + "/master.key"), ReadFile(dir / "master.key"));
  EXPECT_EQ(fs::status(target + "/master.key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  // The audit trail came along whole: the copy's chain verifies under the restored key.
  auto verify = RunRoster({"audit", "verify", "--data-dir", target, "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(json::parse(verify.out).at("ok"), true) << verify.out;

  Server again(target);
  Client client(again.base_url());
  for (const auto& [name, id] : before) {
    auto r = client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin));
    EXPECT_EQ(r.status, 200) << name << " " << r.body;
  }
  // The restored directory serves writes.
  EXPECT_EQ(client.Send("POST", "/v2/users", Body({{"username", "after-restore"}, {"password", "correct horse 1"}, {"email", {{"primary", "after@example.org"}}}}), CatalyzeHeaders(admin)).status, 200);
}

TEST(BackupTest, RestoreRefusesALiveOrNonEmptyDirectory) {
  if (UsingPostgres()) GTEST_SKIP() << "SQLite backups only";
  TempDir dir, other;
  const std::string admin = InitDataDir(dir.path());
  auto backup = RunRoster({"backup", "--data-dir", dir.path(), "--out", other / "b.backup"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  Server server(dir.path());
  Client client(server.base_url());
  auto kept = client.Send("POST", "/v2/users", Body({{"username", "kept"}, {"password", "correct horse 1"}, {"email", {{"primary", "kept@example.org"}}}}), CatalyzeHeaders(admin));
  ASSERT_EQ(kept.status, 200) << kept.body;
  const std::string kept_id(kept.Json().at("usersId").as_string());
  const std::string key_before = ReadFile(dir / "master.key");

  auto live = RunRoster({"restore", "--data-dir", dir.path(), "--from", other / "b.backup"});
  EXPECT_NE(live.exit_code, 0);
  EXPECT_NE(live.err.find("running server"), std::string::npos) << live.err;
  EXPECT_EQ(ReadFile(dir / "master.key"), key_before);
  // The server goes on with its data.
  EXPECT_EQ(client.Send("GET", "/v2/users/" + kept_id, "", CatalyzeHeaders(admin)).status, 200);

  fs::create_directories(other / "busy");
  WriteFile(other / "busy/notes.txt", "mine");
  auto non_empty = RunRoster({"restore", "--data-dir", other / "busy", "--from", other / "b.backup"});
  EXPECT_NE(non_empty.exit_code, 0);
  EXPECT_NE(non_empty.err.find("not empty"), std::string::npos) << non_empty.err;
  EXPECT_FALSE(fs::exists(other / "busy/roster.db"));

  // Without --include-key the key stays out; the restore says to bring it.
  auto restored = RunRoster({"restore", "--data-dir", other / "fresh", "--from", other / "b.backup", "--json"});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_FALSE(fs::exists(other / "fresh/master.key"));
  EXPECT_EQ(json::parse(restored.out).at("keyRestored"), false);
  // An existing backup file is never replaced.
  auto again = RunRoster({"backup", "--data-dir", dir.path(), "--out", other / "b.backup"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
}

TEST(BackupTest, TheKeyIsSealedUnderThePassphraseAndNeverTakenFromTheCommandLine) {
  if (UsingPostgres()) GTEST_SKIP() << "SQLite backups only";
  TempDir dir, out;
  InitDataDir(dir.path());
  std::string hex = ReadFile(dir / "master.key");
  hex.erase(hex.find_last_not_of("\n") + 1);
  // No passphrase: refused before anything is written.
  auto none = RunRoster({"backup", "--data-dir", dir.path(), "--out", out / "k.backup", "--include-key"});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("ROSTER_BACKUP_PASSPHRASE"), std::string::npos) << none.err;
  EXPECT_FALSE(fs::exists(out / "k.backup"));
  // There is no option to give it on the command line.
  EXPECT_NE(RunRoster({"backup", "--data-dir", dir.path(), "--out", out / "k.backup", "--include-key", "--passphrase",
                       "a long backup passphrase"})
                .exit_code,
            0);
  WriteFile(out / "pass", "a long backup passphrase\n");
  auto with_key = RunRoster(
      {"backup", "--data-dir", dir.path(), "--out", out / "k.backup", "--include-key", "--passphrase-file", out / "pass"});
  ASSERT_EQ(with_key.exit_code, 0) << with_key.err;
  const std::string file = ReadFile(out / "k.backup");
  EXPECT_EQ(file.find(hex), std::string::npos);
  EXPECT_NE(file.find("\"masterKey\""), std::string::npos);

  WriteFile(out / "wrong", "another long passphrase\n");
  auto wrong = RunRoster({"restore", "--data-dir", out / "r1", "--from", out / "k.backup", "--passphrase-file", out / "wrong"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("passphrase"), std::string::npos) << wrong.err;
  EXPECT_FALSE(fs::exists(out / "r1/roster.db"));
  auto right = RunRoster({"restore", "--data-dir", out / "r2", "--from", out / "k.backup", "--passphrase-file", out / "pass"});
  ASSERT_EQ(right.exit_code, 0) << right.err;
  EXPECT_EQ(ReadFile(out / "r2/master.key"), ReadFile(dir / "master.key"));

  // A damaged file is refused.
  WriteFile(out / "cut.backup", file.substr(0, file.size() / 2));
  auto cut = RunRoster({"restore", "--data-dir", out / "r3", "--from", out / "cut.backup", "--passphrase-file", out / "pass"});
  EXPECT_NE(cut.exit_code, 0);
  EXPECT_NE(cut.err.find("damaged"), std::string::npos) << cut.err;
}

TEST(BackupTest, PostgresPointsToPgDump) {
  if (!UsingPostgres()) GTEST_SKIP() << "the PostgreSQL pass";
  TempDir dir;
  InitDataDir(dir.path());
  auto r = RunRoster({"backup", "--data-dir", dir.path(), "--out", dir / "x.backup"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("pg_dump"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "x.backup"));
}

// docs/operations.md's PostgreSQL procedure: pg_dump while serving, pg_restore into a new
// database, a new data directory with the key file and the URL, roster migrate, serve.
TEST(BackupTest, PostgresPgDumpAndTheKeyFileRestoreEveryUser) {
  if (!UsingPostgres()) GTEST_SKIP() << "the PostgreSQL pass";
  TempDir dir, restored;
  const std::string admin = InitDataDir(dir.path());
  std::vector<std::string> ids;
  {
    Server server(dir.path());
    Client client(server.base_url());
    for (int i = 0; i < 5; ++i) {
      auto r = client.Send("POST", "/v2/users",
                           Body({{"username", "pg-" + std::to_string(i)},
                                 {"password", "correct horse 1"},
                                 {"email", {{"primary", "pg" + std::to_string(i) + "@example.org"}}}}),
                           CatalyzeHeaders(admin));
      ASSERT_EQ(r.status, 200) << r.body;
      ids.push_back(std::string(r.Json().at("usersId").as_string()));
    }
    const std::string url = DatabaseUrl(dir.path());
    std::string out;
    ASSERT_EQ(Shell("pg_dump --format=custom --file=" + (dir / "roster.dump") + " '" + url + "'", &out), 0) << out;
    const std::string target = url + "_restored";
    const std::string name = target.substr(target.rfind('/') + 1);
    ASSERT_EQ(Shell("psql -q '" + url + "' -c 'DROP DATABASE IF EXISTS " + name + "' -c 'CREATE DATABASE " + name + "'",
                    &out),
              0)
        << out;
    ASSERT_EQ(Shell("pg_restore --no-owner --dbname='" + target + "' " + (dir / "roster.dump"), &out), 0) << out;
    fs::copy_file(dir / "master.key", restored / "master.key");
    WriteFile(restored / "roster.toml", "database = \"" + target + "\"\n");
  }
  auto migrate = RunRoster({"migrate", "--data-dir", restored.path()});
  ASSERT_EQ(migrate.exit_code, 0) << migrate.err;
  Server again(restored.path());
  Client client(again.base_url());
  EXPECT_EQ(client.Send("GET", "/readyz").status, 200);
  for (const auto& id : ids) EXPECT_EQ(client.Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin)).status, 200);
}

// ---------------------------------------------------------------- TLS reload

void MakeCertificate(const std::string& dir, const std::string& name) {
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext "
                          "subjectAltName=DNS:localhost -days 1 -keyout " + dir + "/" + name + ".key -out " + dir +
                          "/" + name + ".pem >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

TEST(TlsReloadTest, SighupLoadsNewCertificatesAndKeepsOpenConnections) {
  TempDir dir;
  const std::string admin = InitDataDir(dir.path());
  MakeCertificate(dir.path(), "a");
  MakeCertificate(dir.path(), "b");
  fs::copy_file(dir / "a.pem", dir / "cert.pem");
  fs::copy_file(dir / "a.key", dir / "key.pem");
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--tls-cert", dir / "cert.pem", "--tls-key", dir / "key.pem"});
  Server server(dir.path(), args);
  Client open(server.base_url(), dir / "a.pem");
  auto first = open.Send("GET", "/healthz");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.connects, 1);

  fs::copy_file(dir / "b.pem", dir / "cert.pem", fs::copy_options::overwrite_existing);
  fs::copy_file(dir / "b.key", dir / "key.pem", fs::copy_options::overwrite_existing);
  server.Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return ReadFile(server.stderr_path()).find("TLS certificate reloaded") != std::string::npos; }))
      << ReadFile(server.stderr_path());
  // The open connection goes on (no new connect), a new one gets the new certificate.
  auto still = open.Send("GET", "/v2/users?username=nobody", "", CatalyzeHeaders(admin));
  EXPECT_NE(still.status, 0);
  EXPECT_EQ(still.connects, 0);
  EXPECT_EQ(Client(server.base_url(), dir / "b.pem").Send("GET", "/healthz").status, 200);
  EXPECT_THROW(Client(server.base_url(), dir / "a.pem").Send("GET", "/healthz"), std::runtime_error);

  // Broken files: the server says so and keeps the certificate it has.
  WriteFile(dir / "cert.pem", "not a certificate");
  server.Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return ReadFile(server.stderr_path()).find("TLS reload failed") != std::string::npos; }));
  EXPECT_EQ(Client(server.base_url(), dir / "b.pem").Send("GET", "/healthz").status, 200);
  EXPECT_EQ(server.Terminate(), 0);
}

// A database written before the search entries existed (issue 14: `eq`/`sw` answered from
// the blind indexes) holds users without them: serve re-derives them once, before it
// listens, so a prefix search still finds the older users; a second start does not.
TEST(SearchUpgradeTest, AnOlderDatabaseIsReindexedOnceAtStartSoPrefixSearchesFindItsUsers) {
  if (UsingPostgres()) GTEST_SKIP() << "the old database is made with sqlite3; the upgrade is the service's";
  TempDir dir;
  InitDataDir(dir.path());
  const std::string token = scim::CreateToken(dir.path());
  const std::string search = "/Users?filter=" + UrlEncode("name.familyName sw \"upgr\"");
  {
    Server server(dir.path());
    scim::ScimClient client(server.base_url(), token);
    for (const char* family : {"Upgrade", "Upgrader", "Other"}) {
      json::object user{{"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
                        {"userName", std::string("u-") + family},
                        {"name", json::object{{"familyName", family}}}};
      auto created = client.Send("POST", "/Users", user);
      ASSERT_EQ(created.status, 201) << created.body;
    }
    auto found = client.Send("GET", search);
    ASSERT_EQ(found.status, 200) << found.body;
    ASSERT_EQ(found.Json().at("totalResults").as_int64(), 2) << found.body;
    server.Terminate();
  }
  // What a database of the previous release looks like: no search entries, no record of
  // the derivation they follow.
  std::string out;
  ASSERT_EQ(Shell("sqlite3 " + (dir / "roster.db") +
                      " \"PRAGMA foreign_keys = ON; DELETE FROM user_index WHERE kind LIKE 's=%' OR kind LIKE 's^%'; "
                      "DELETE FROM records WHERE kind = 'environment.settings'; "
                      "SELECT count(*) FROM user_index WHERE kind LIKE 's%'\"",
                  &out),
            0)
      << out;
  ASSERT_EQ(out.substr(0, 1), "0") << out;
  fs::remove(dir / "server.err");  // each start's log on its own (the harness appends)
  {
    Server server(dir.path());
    scim::ScimClient client(server.base_url(), token);
    auto found = client.Send("GET", search);
    ASSERT_EQ(found.status, 200) << found.body;
    EXPECT_EQ(found.Json().at("totalResults").as_int64(), 2) << found.body;
    server.Terminate();
    const std::string log = ReadFile(server.stderr_path());
    EXPECT_NE(log.find("search index re-derived"), std::string::npos) << log;
    EXPECT_EQ(log.find("search index check failed"), std::string::npos) << log;
  }
  fs::remove(dir / "server.err");
  {
    Server server(dir.path());
    scim::ScimClient client(server.base_url(), token);
    EXPECT_EQ(client.Send("GET", search).Json().at("totalResults").as_int64(), 2);
    server.Terminate();
    const std::string log = ReadFile(server.stderr_path());
    EXPECT_EQ(log.find("search index"), std::string::npos) << "a current index is not re-derived at every start\n" << log;
  }
}

}  // namespace
}  // namespace roster::testing
