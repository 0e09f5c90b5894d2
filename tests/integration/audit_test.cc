// The audit trail end to end (issue 13): every API's reads and writes leave the records
// docs/security.md describes, field by field, and never a profile value; `roster audit
// verify` names a changed, deleted, inserted or swapped record; the export (CLI and
// GET /admin/v1/audit) carries the same records.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <mutex>
#include <thread>
#include <memory>
#include <sstream>

#include "integration/harness.h"
#include "integration/scim_support.h"

namespace roster::testing {
namespace {
namespace json = boost::json;

// Profile values the records must never carry.
constexpr const char* kSentinelSsn = "987650123";
constexpr const char* kSentinelName = "Zyxwvutsrqp";
constexpr const char* kSentinelEmail = "sentinel-7f3a@example.org";

std::vector<json::object> ExportLines(const std::string& text) {
  std::vector<json::object> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line).as_object());
  return out;
}

std::string S(const json::value& v) { return std::string(v.as_string()); }

// The records but those of exports (each export is recorded too, under its subject filter).
std::vector<json::object> WithoutExports(std::vector<json::object> records) {
  std::erase_if(records, [](const json::object& r) { return r.at("action").as_string() == "audit.export"; });
  return records;
}

std::string Fields(const json::object& record) {
  std::string out;
  for (const auto& f : record.at("fields").as_array()) out += (out.empty() ? "" : ",") + S(f);
  return out;
}

// SQL behind the server's back: sqlite3 on the data dir's file, or psql on its database.
void Sql(const std::string& data_dir, const std::string& sql) {
  const std::string command = UsingPostgres()
                                  ? "psql -q -v ON_ERROR_STOP=1 '" + DatabaseUrl(data_dir) + "' -c \"" + sql + "\""
                                  : "sqlite3 '" + data_dir + "/roster.db' \"" + sql + "\"";
  ASSERT_EQ(std::system((command + " >/dev/null").c_str()), 0) << sql;
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    admin_ = InitDataDir(dir_->path());
    app_ = CreateKey(dir_->path(), "default", "app", "tests.roster");
    server_ = std::make_unique<Server>(dir_->path());
    client_ = std::make_unique<Client>(server_->base_url());
  }

  std::vector<json::object> Export(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"audit", "export", "--env", "default", "--data-dir", dir_->path()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = RunRoster(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ExportLines(r.out);
  }
  CommandResult Verify() { return RunRoster({"audit", "verify", "--env", "default", "--data-dir", dir_->path()}); }

  // A Catalyze user with the sentinel values, made by the admin key.
  std::string CreateSentinelUser(const std::string& username) {
    json::object user{{"username", username},
                      {"password", "pw-123456"},
                      {"email", {{"primary", kSentinelEmail}}},
                      {"name", {{"firstName", kSentinelName}}},
                      {"ssn", kSentinelSsn}};
    auto r = client_->Send("POST", "/v2/users", json::serialize(user), CatalyzeHeaders(admin_));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? S(r.Json().at("usersId")) : std::string();
  }

  void ExpectNoValues(const std::string& text) {
    for (const char* v : {kSentinelSsn, kSentinelName, kSentinelEmail, "pw-123456"})
      EXPECT_EQ(text.find(v), std::string::npos) << "an audit record carries the value " << v;
  }

  std::unique_ptr<TempDir> dir_;
  std::string admin_, app_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(AuditTest, CatalyzeReadsAndWritesLeaveTheirRecordsFieldByField) {
  const std::string id = CreateSentinelUser("audited");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(client_->Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_)).status, 200);
  ASSERT_EQ(client_->Send("PUT", "/v2/users/" + id, R"({"name":{"firstName":"Other"}})", CatalyzeHeaders(admin_)).status,
            200);
  ASSERT_EQ(client_->Send("DELETE", "/v2/users/" + id, "", CatalyzeHeaders(admin_)).status, 200);

  auto records = WithoutExports(Export({"--subject", id}));
  ASSERT_EQ(records.size(), 4u);
  struct Want {
    const char* action;
    const char* route;
    const char* outcome;
    const char* fields;
    const char* kind;
  };
  const Want want[] = {
      {"user.create", "/v2/users", "ok", "profile,phi,password", "admin_key"},
      {"user.read", "/v2/users/{usersId}", "ok", "profile,phi", "admin_key"},
      {"user.update", "/v2/users/{usersId}", "ok", "profile,phi", "admin_key"},
      {"user.delete", "/v2/users/{usersId}", "ok", "profile", "admin_key"},
  };
  std::int64_t seq = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(S(r.at("action")), want[i].action);
    EXPECT_EQ(S(r.at("route")), want[i].route);
    EXPECT_EQ(S(r.at("outcome")), want[i].outcome);
    EXPECT_EQ(Fields(r), want[i].fields);
    EXPECT_EQ(S(r.at("principal").at("kind")), want[i].kind);
    EXPECT_FALSE(S(r.at("principal").at("id")).empty());
    EXPECT_EQ(S(r.at("api")), "catalyze");
    EXPECT_EQ(S(r.at("subject")), id);
    EXPECT_FALSE(S(r.at("request_id")).empty());
    EXPECT_GT(r.at("seq").as_int64(), seq);
    seq = r.at("seq").as_int64();
  }
  ExpectNoValues(RunRoster({"audit", "export", "--env", "default", "--data-dir", dir_->path()}).out);
  server_.reset();
  ExpectNoValues(DumpStore(dir_->path()));
  auto v = Verify();
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(AuditTest, SignInsSuccessAndFailureAndSessionEndAreRecorded) {
  const std::string id = CreateSentinelUser("signer");
  ASSERT_EQ(client_->Send("PUT", "/v2/users/" + id, R"({"active":true})", CatalyzeHeaders(admin_)).status, 200);
  auto bad = client_->Send("POST", "/v2/auth/signin", R"({"username":"signer","password":"wrong-pw"})",
                           CatalyzeHeaders(app_));
  EXPECT_EQ(bad.status, 401);
  auto good = client_->Send("POST", "/v2/auth/signin", R"({"username":"signer","password":"pw-123456"})",
                            CatalyzeHeaders(app_));
  ASSERT_EQ(good.status, 200) << good.body;
  const std::string token = S(good.Json().at("sessionToken"));
  ASSERT_EQ(client_->Send("GET", "/v2/auth/signout", "", CatalyzeHeaders(app_, token)).status, 200);
  std::vector<std::string> seen;
  for (const auto& r : Export())
    if (S(r.at("action")).starts_with("session."))
      seen.push_back(S(r.at("action")) + " " + S(r.at("subject")) + " " + S(r.at("outcome")) + " " + Fields(r) + " " +
                     S(r.at("principal").at("kind")));
  EXPECT_EQ(seen, (std::vector<std::string>{"session.sign-in  unauthenticated password app_key",
                                            "session.sign-in " + id + " ok password app_key",
                                            "session.end " + id + " ok  user_session"}));
}

TEST_F(AuditTest, ScimReadsAndListsAreRecordedPerUser) {
  const std::string id = CreateSentinelUser("scim-read");
  const std::string token = scim::CreateToken(dir_->path());
  const Headers auth{{"Authorization", "Bearer " + token}};
  ASSERT_EQ(client_->Send("GET", "/scim/v2/Users/" + id, "", auth).status, 200);
  ASSERT_EQ(client_->Send("GET", "/scim/v2/Users?filter=" + UrlEncode("userName eq \"scim-read\""), "", auth).status,
            200);
  std::vector<std::string> seen;
  for (const auto& r : Export({"--subject", id}))
    if (S(r.at("api")) == "scim") seen.push_back(S(r.at("action")) + " " + S(r.at("route")) + " " + Fields(r));
  // A SCIM token without phi:read receives no PHI: the records say profile only.
  EXPECT_EQ(seen, (std::vector<std::string>{"user.read /scim/v2/Users/{id} profile",
                                            "user.search /scim/v2/Users profile"}));
}

TEST_F(AuditTest, ExportFiltersByTimeAndTheAdminRouteServesTheSameRecords) {
  const std::string id = CreateSentinelUser("exported");
  ASSERT_EQ(client_->Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_)).status, 200);
  EXPECT_TRUE(Export({"--since", "2999-01-01T00:00:00Z"}).empty());
  EXPECT_EQ(Export({"--until", "2000-01-01"}).size(), 0u);
  EXPECT_EQ(RunRoster({"audit", "export", "--env", "default", "--since", "yesterday", "--data-dir", dir_->path()})
                .exit_code,
            1);
  auto cli = WithoutExports(Export({"--subject", id}));
  ASSERT_EQ(cli.size(), 2u);

  EXPECT_EQ(client_->Send("GET", "/admin/v1/audit?subject=" + id, "").status, 401);
  const std::string any_app = CreateKey(dir_->path(), "default", "app");
  EXPECT_EQ(client_->Send("GET", "/admin/v1/audit?subject=" + id, "", {{"X-Api-Key", any_app}}).status, 403);
  auto http = client_->Send("GET", "/admin/v1/audit?env=default&subject=" + id, "", {{"X-Api-Key", admin_}});
  ASSERT_EQ(http.status, 200) << http.body;
  EXPECT_EQ(http.Header("content-type"), "application/x-ndjson");
  auto lines = WithoutExports(ExportLines(http.body));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], cli[0]);
  EXPECT_EQ(lines[1], cli[1]);
  ExpectNoValues(http.body);
  EXPECT_EQ(client_->Send("GET", "/admin/v1/audit?since=never", "", {{"X-Api-Key", admin_}}).status, 400);
  // Each export is itself on the chain.
  int exports = 0;
  for (const auto& r : Export())
    if (S(r.at("action")) == "audit.export") ++exports;
  EXPECT_EQ(exports, 5);  // 4 by the CLI (this one is recorded before it reads; the refused one is not), 1 over HTTP
}

// kill -9 while creates are in flight: every user the store kept has its user.create
// record (the record is in the write's transaction), whether or not its answer left.
TEST_F(AuditTest, AKilledServerNeverLeavesAWriteWithoutItsRecord) {
  const std::string token = scim::CreateToken(dir_->path());
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::mutex mu;
  std::string refused;  // the first answer that was not 200
  std::vector<std::thread> writers;
  const std::string base = server_->base_url();
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      Client c(base);
      for (int i = 0; !stop; ++i) {
        json::object user{{"username", "crash-" + std::to_string(t) + "-" + std::to_string(i)},
                          {"password", "pw-123456"},
                          {"email", {{"primary", "crash-" + std::to_string(t) + "-" + std::to_string(i) + "@example.com"}}}};
        HttpResponse r;
        try {
          r = c.Send("POST", "/v2/users", json::serialize(user), CatalyzeHeaders(admin_));
        } catch (const std::runtime_error&) {
          continue;  // the server is gone (killed): no answer, so no promise
        }
        if (r.status == 200) {
          ++answered;
        } else if (r.status != 0) {
          std::lock_guard lock(mu);
          if (refused.empty()) refused = std::to_string(r.status) + " " + r.body;
        }
      }
    });
  const bool enough = WaitFor([&] { return answered >= 20; }, 60);
  if (!enough) {
    stop = true;
    for (auto& w : writers) w.join();
    std::lock_guard lock(mu);
    FAIL() << "only " << answered << " creates answered; first refusal: " << refused;
  }
  server_->Kill9();
  stop = true;
  for (auto& w : writers) w.join();
  server_ = std::make_unique<Server>(dir_->path());
  client_ = std::make_unique<Client>(server_->base_url());
  auto r = client_->Send("GET", "/scim/v2/Users?count=1000", "", {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.Json();
  std::set<std::string> users;
  for (const auto& u : body.at("Resources").as_array()) users.insert(S(u.at("id")));
  EXPECT_GE(users.size(), 20u);
  std::set<std::string> created;
  for (const auto& rec : Export())
    if (S(rec.at("action")) == "user.create" && S(rec.at("outcome")) == "ok") created.insert(S(rec.at("subject")));
  EXPECT_EQ(users, created);
  auto v = Verify();
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

// Builds a chain of a few records, stops the server, applies `tamper`, and expects
// `audit verify` to fail naming `named`.
class AuditVerifyTest : public AuditTest {
 protected:
  void Build() {
    const std::string id = CreateSentinelUser("chained");
    for (int i = 0; i < 4; ++i) ASSERT_EQ(client_->Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_)).status, 200);
    server_.reset();
    auto v = Verify();
    ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
    // The app key's creation (SetUp), the user's creation and four reads.
    EXPECT_NE(v.out.find("ok, 6 records"), std::string::npos) << v.out;
  }
  void ExpectBroken(const std::string& named) {
    auto v = Verify();
    EXPECT_EQ(v.exit_code, 1) << v.out;
    EXPECT_NE(v.out.find("BROKEN at record " + named + ":"), std::string::npos) << v.out;
  }
};

TEST_F(AuditVerifyTest, NamesAChangedRecord) {
  Build();
  Sql(dir_->path(), "UPDATE audit_log SET outcome = 'permission-denied' WHERE seq = 3");
  ExpectBroken("3");
}

TEST_F(AuditVerifyTest, NamesADeletedRecord) {
  Build();
  Sql(dir_->path(), "DELETE FROM audit_log WHERE seq = 2");
  ExpectBroken("2");
}

TEST_F(AuditVerifyTest, NamesADeletedLastRecord) {
  Build();
  Sql(dir_->path(), "DELETE FROM audit_log WHERE seq = 6");
  ExpectBroken("6");
}

TEST_F(AuditVerifyTest, NamesAnInsertedRecord) {
  Build();
  // Records 3.. move up one; a forged record 3 links to record 2's hash.
  Sql(dir_->path(), "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3");
  Sql(dir_->path(), "UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103");
  Sql(dir_->path(),
      "INSERT INTO audit_log SELECT environment_id, 3, at, principal_kind, principal_id, principal_user, api, route, "
      "request_id, action, subject, outcome, fields, hash, hash FROM audit_log WHERE seq = 2");
  ExpectBroken("3");
}

TEST_F(AuditVerifyTest, NamesSwappedRecords) {
  Build();
  Sql(dir_->path(), "UPDATE audit_log SET seq = 100 WHERE seq = 2");
  Sql(dir_->path(), "UPDATE audit_log SET seq = 2 WHERE seq = 4");
  Sql(dir_->path(), "UPDATE audit_log SET seq = 4 WHERE seq = 100");
  ExpectBroken("2");
}

}  // namespace
}  // namespace roster::testing
