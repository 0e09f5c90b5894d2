// `roster export` and `roster import` (issue 14): the real binary on a temp data dir, on
// SQLite and (pg.*) PostgreSQL: formats, refusals by line, --max-errors, a resume after
// SIGKILL, pre-hashed passwords signing in through an API, and the round trip.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "integration/harness.h"
#include "integration/scim_support.h"

namespace roster::testing {
namespace {
namespace json = boost::json;

constexpr const char* kEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
constexpr const char* kHealth = "urn:roster:params:scim:schemas:extension:health:2.0:User";
constexpr const char* kRoster = "urn:roster:params:scim:schemas:extension:roster:2.0:User";
// A {SSHA256} hash of "Imported-Pass1!" with the salt "roster-salt-0001" (as pingone_test).
constexpr const char* kSsha256 = "{SSHA256}2KIiy1DZeJ9891MilN1rGDWHEhPEiTkQof8noyijNfdyb3N0ZXItc2FsdC0wMDAx";

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<json::object> JsonLines(const std::string& text) {
  std::vector<json::object> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line).as_object());
  return out;
}

// A rich user: every part of the resource the export carries.
json::object RichUser(const std::string& username) {
  return json::object{
      {"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User", kEnterprise, kHealth, kRoster}},
      {"userName", username},
      {"externalId", "ext-" + username},
      {"active", true},
      {"name", {{"givenName", "Ada"}, {"familyName", "Lovelace, Countess"}, {"formatted", "Ada \"the\" Lovelace"}}},
      {"displayName", "Ada L."},
      {"title", "Analyst"},
      {"locale", "en-GB"},
      {"emails", json::array{{{"value", username + "@example.com"}, {"type", "work"}, {"primary", true}}}},
      {"phoneNumbers", json::array{{{"value", "+44 20 7946 0000"}, {"type", "mobile"}, {"primary", false}}}},
      {"addresses", json::array{{{"type", "home"}, {"streetAddress", "1 Main St\nFlat 2"}, {"locality", "London"},
                                 {"postalCode", "N1"}, {"country", "GB"}}}},
      {"roles", json::array{{{"value", "engineer"}}}},
      {kEnterprise, {{"employeeNumber", "701"}, {"department", "Engines"}}},
      {kHealth, {{"birthDate", "1815-12-10"}, {"gender", "female"}, {"mrns", json::array{{{"institutionId", "h1"}, {"mrn", "42"}}}}}},
      {kRoster, {{"externalIds", {{"facebook", "fb-" + username}}}, {"dialects", {{"quickblox", {{"tag_list", "a,b"}}}}}}},
  };
}

// The resource without what differs between two copies of one user (id, meta).
json::object Comparable(json::object o) {
  o.erase("id");
  o.erase("meta");
  return o;
}

std::map<std::string, json::object> ByUserName(const std::vector<json::object>& resources) {
  std::map<std::string, json::object> out;
  for (const auto& r : resources) out[std::string(r.at("userName").as_string())] = Comparable(r);
  return out;
}

class TransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = InitDataDir(dir_.path());
    for (const char* env : {"copy", "third"}) {
      auto r = RunRoster({"env", "create", env, "--data-dir", dir_.path(), "--json"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }

  CommandResult Import(const std::string& env, const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"import", "--env", env, file, "--data-dir", dir_.path(), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunRoster(args);
  }
  std::string Export(const std::string& env, std::vector<std::string> extra = {}) {
    const std::string out = dir_ / ("export-" + env + "-" + std::to_string(++exports_));
    std::vector<std::string> args{"export", "--env", env, "--out", out, "--data-dir", dir_.path(), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = RunRoster(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ReadFile(out);
  }
  std::string WriteLines(const std::string& name, const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    WriteFile(dir_ / name, text);
    return dir_ / name;
  }

  TempDir dir_;
  std::string admin_;
  int exports_ = 0;
};

TEST_F(TransferTest, ExportJsonLinesIsScimUsersWithoutPasswordHashesUnlessAsked) {
  const std::string file = WriteLines(
      "in.jsonl", {json::serialize(RichUser("ada")),
                   R"({"userName":"bob","password":"Bob-Password-1","emails":[{"value":"bob@example.com","primary":true}]})"});
  auto r = Import("default", file);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("imported").as_int64(), 2);

  auto users = JsonLines(Export("default"));
  ASSERT_EQ(users.size(), 2u);
  const auto& ada = users[0];
  EXPECT_EQ(ada.at("userName").as_string(), "ada");
  EXPECT_EQ(ada.at("schemas").as_array().front().as_string(), "urn:ietf:params:scim:schemas:core:2.0:User");
  EXPECT_EQ(ada.at("name").at("familyName").as_string(), "Lovelace, Countess");
  EXPECT_EQ(ada.at(kEnterprise).at("employeeNumber").as_string(), "701");
  EXPECT_EQ(ada.at(kHealth).at("birthDate").as_string(), "1815-12-10");
  EXPECT_EQ(ada.at(kRoster).at("externalIds").at("facebook").as_string(), "fb-ada");
  EXPECT_EQ(ada.at("meta").at("resourceType").as_string(), "User");
  for (const auto& u : users)
    if (const auto* ext = u.if_contains(kRoster)) EXPECT_FALSE(ext->as_object().contains("passwordHash"));

  auto with = JsonLines(Export("default", {"--with-password-hashes"}));
  ASSERT_EQ(with.size(), 2u);
  EXPECT_FALSE(with[0].at(kRoster).as_object().contains("passwordHash"));  // ada has none
  EXPECT_TRUE(std::string(with[1].at(kRoster).at("passwordHash").as_string()).starts_with("$argon2id$"));
}

TEST_F(TransferTest, ExportCsvHasAHeaderRowAndImportsBack) {
  ASSERT_EQ(Import("default", WriteLines("in.jsonl", {json::serialize(RichUser("ada")), json::serialize(RichUser("cy"))}))
                .exit_code,
            0);
  const std::string csv = Export("default", {"--format", "csv"});
  std::istringstream in(csv);
  std::string header;
  std::getline(in, header);
  EXPECT_TRUE(header.starts_with("id,externalId,userName,active,name.formatted,name.givenName")) << header;
  EXPECT_NE(header.find(kEnterprise), std::string::npos);
  // Quoted cells: a comma in familyName, quotes in formatted, a newline in streetAddress.
  EXPECT_NE(csv.find("\"Lovelace, Countess\""), std::string::npos);
  EXPECT_NE(csv.find("\"Ada \"\"the\"\" Lovelace\""), std::string::npos);

  WriteFile(dir_ / "users.csv", csv);
  auto r = Import("copy", dir_ / "users.csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("format").as_string(), "csv");
  EXPECT_EQ(json::parse(r.out).at("imported").as_int64(), 2);
  EXPECT_EQ(ByUserName(JsonLines(Export("copy"))), ByUserName(JsonLines(Export("default"))));
}

TEST_F(TransferTest, RoundTripGivesTheSameUsers) {
  std::vector<std::string> lines;
  for (int i = 0; i < 30; ++i) lines.push_back(json::serialize(RichUser("user" + std::to_string(i))));
  lines.push_back(R"({"userName":"archived-one","active":false,"urn:roster:params:scim:schemas:extension:roster:2.0:User":{"archived":true,"extras":{"k":[1,2]}}})");
  ASSERT_EQ(Import("default", WriteLines("in.jsonl", lines), {"--batch-size", "7"}).exit_code, 0);
  const auto original = JsonLines(Export("default"));
  ASSERT_EQ(original.size(), 31u);
  WriteFile(dir_ / "export.jsonl", Export("default"));
  auto r = Import("copy", dir_ / "export.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto copy = JsonLines(Export("copy"));
  EXPECT_EQ(ByUserName(copy), ByUserName(original));
  // New ids, same order.
  EXPECT_NE(copy[0].at("id"), original[0].at("id"));
  EXPECT_EQ(copy[30].at(kRoster).at("archived").as_bool(), true);
  EXPECT_EQ(copy[30].at(kRoster).at("extras").at("k").as_array().size(), 2u);
}

// Issue 13: users created by an import and profiles taken out by an export are on the
// environment's audit chain, like every API's, and carry no value.
TEST_F(TransferTest, ImportAndExportLeaveTheirAuditRecords) {
  const std::string file = WriteLines("in.jsonl", {json::serialize(RichUser("audited1")), R"({"userName":)",
                                                   json::serialize(RichUser("audited2"))});
  EXPECT_EQ(Import("default", file).exit_code, 2);
  const auto exported = JsonLines(Export("default", {"--with-password-hashes"}));
  ASSERT_EQ(exported.size(), 2u);
  std::set<std::string> ids;
  for (const auto& u : exported) ids.insert(std::string(u.at("id").as_string()));

  auto r = RunRoster({"audit", "export", "--env", "default", "--data-dir", dir_.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> created;
  int exports = 0;
  for (const auto& rec : JsonLines(r.out)) {
    const std::string action(rec.at("action").as_string());
    if (action == "user.create") {
      EXPECT_EQ(rec.at("api"), "cli");
      EXPECT_EQ(rec.at("route"), "import");
      EXPECT_EQ(rec.at("principal").at("kind"), "operator");
      EXPECT_EQ(rec.at("outcome"), "ok");
      created.insert(std::string(rec.at("subject").as_string()));
    } else if (action == "users.export") {
      ++exports;
      EXPECT_EQ(rec.at("route"), "export");
      EXPECT_EQ(rec.at("fields"), (json::array{"profile", "phi", "password"}));
    }
  }
  EXPECT_EQ(created, ids);  // the refused line left no record
  EXPECT_EQ(exports, 1);
  for (const char* value : {"audited1", "1815-12-10"}) EXPECT_EQ(r.out.find(value), std::string::npos) << value;
  auto verify = RunRoster({"audit", "verify", "--env", "default", "--data-dir", dir_.path()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(TransferTest, BadRowsAreReportedByLineAndTheRestLands) {
  const std::string file = WriteLines(
      "in.jsonl", {R"({"userName":"good1"})",
                   R"({"userName":)",                                        // 2: not JSON
                   R"({"displayName":"no username"})",                       // 3
                   R"({"userName":"x","emails":[{"type":"work"}]})",         // 4: an email without value
                   R"({"userName":"GOOD1"})",                                // 5: taken (folded) by line 1
                   "",                                                       // 6: blank, ignored
                   R"({"userName":"y","urn:roster:params:scim:schemas:extension:roster:2.0:User":{"passwordHash":"{MD5}abc"}})",  // 7
                   R"({"userName":"good2"})"});
  auto r = Import("default", file);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const json::value summary = json::parse(r.out);
  EXPECT_EQ(summary.at("imported").as_int64(), 2);
  EXPECT_EQ(summary.at("refused").as_int64(), 5);
  const auto& errors = summary.at("errors").as_array();
  ASSERT_EQ(errors.size(), 5u);
  std::map<std::int64_t, std::string> fields;
  for (const auto& e : errors) fields[e.at("line").as_int64()] = std::string(e.at("field").as_string());
  EXPECT_EQ(fields, (std::map<std::int64_t, std::string>{{2, ""},
                                                         {3, "userName"},
                                                         {4, "emails[0].value"},
                                                         {5, "username"},
                                                         {7, std::string(kRoster) + ":passwordHash"}}));
  EXPECT_NE(r.err.find("line 4: emails[0].value: emails[0].value is required"), std::string::npos) << r.err;
  const auto users = ByUserName(JsonLines(Export("default")));
  EXPECT_EQ(users.size(), 2u);
  EXPECT_TRUE(users.contains("good1") && users.contains("good2"));
}

TEST_F(TransferTest, MaxErrorsStopsTheImport) {
  std::vector<std::string> lines{R"({"userName":"first"})"};
  for (int i = 0; i < 3; ++i) lines.push_back(R"({"userName":""})");
  lines.push_back(R"({"userName":"after"})");
  auto r = Import("default", WriteLines("in.jsonl", lines), {"--max-errors", "2"});
  EXPECT_EQ(r.exit_code, 2);
  const json::value summary = json::parse(r.out);
  EXPECT_TRUE(summary.at("stopped").as_bool());
  EXPECT_EQ(summary.at("refused").as_int64(), 2);
  const auto users = ByUserName(JsonLines(Export("default")));
  EXPECT_TRUE(users.contains("first"));
  EXPECT_FALSE(users.contains("after"));
}

TEST_F(TransferTest, ARunAgainSkipsWhatLandedAndDuplicatesNothing) {
  const std::string file = WriteLines("in.jsonl", {R"({"userName":"one"})", R"({"userName":"two"})"});
  ASSERT_EQ(Import("default", file).exit_code, 0);
  auto again = Import("default", file);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const json::value summary = json::parse(again.out);
  EXPECT_EQ(summary.at("imported").as_int64(), 0);
  EXPECT_EQ(summary.at("skipped").as_int64(), 2);
  EXPECT_EQ(JsonLines(Export("default")).size(), 2u);
}

TEST_F(TransferTest, ResumesAfterSigkillWithoutLossOrDuplicates) {
  constexpr int kUsers = 3000;
  std::string text;
  for (int i = 0; i < kUsers; ++i) text += R"({"userName":"bulk)" + std::to_string(i) + "\"}\n";
  WriteFile(dir_ / "bulk.jsonl", text);
  const std::string err = dir_ / "import.err";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    const std::string file = dir_ / "bulk.jsonl", data = dir_.path();
    ::execl(kRosterBinary, kRosterBinary, "import", "--env", "default", file.c_str(), "--batch-size", "50",
            "--data-dir", data.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Killed once the first batch has committed (its progress line is out), wherever the
  // import is then.
  bool progressed = false;
  for (int i = 0; i < 600 && !progressed; ++i) {
    progressed = ReadFile(err).find("progress:") != std::string::npos;
    if (!progressed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(progressed) << ReadFile(err);

  auto r = Import("default", dir_ / "bulk.jsonl", {"--batch-size", "50"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json::value summary = json::parse(r.out);
  EXPECT_GE(summary.at("resumedAfterLine").as_int64(), 50);
  EXPECT_EQ(summary.at("imported").as_int64() + summary.at("skipped").as_int64(), kUsers);
  EXPECT_EQ(summary.at("refused").as_int64(), 0);  // nothing landed twice, so nothing was taken
  std::set<std::string> names;
  const auto users = JsonLines(Export("default"));
  for (const auto& u : users) names.insert(std::string(u.at("userName").as_string()));
  EXPECT_EQ(users.size(), static_cast<std::size_t>(kUsers));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kUsers));
}

// An import into an environment this build created (`init`'s default, `env create`'s)
// writes entries at the current search derivation, so the first start after it does not
// re-derive them before it listens (at a million users that pass took hours), and a
// prefix search finds the imported users at once.
TEST_F(TransferTest, ImportedUsersAreSearchableAtTheFirstStartWithoutAReindex) {
  std::vector<std::string> lines;
  for (int i = 0; i < 40; ++i) {
    lines.push_back(json::serialize(json::object{{"userName", "imp-" + std::to_string(i)}, {"active", true},
                                                 {"name", {{"familyName", "Importer"}}}}));
  }
  const std::string file = WriteLines("search.jsonl", lines);
  for (const char* env : {"default", "copy"}) {
    auto r = Import(env, file);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string token = scim::CreateToken(dir_.path(), "copy");
  Server server(dir_.path());
  scim::ScimClient client(server.base_url(), token);
  auto found = client.Send("GET", "/Users?filter=" + UrlEncode("name.familyName sw \"impo\"") + "&count=5");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.Json().at("totalResults").as_int64(), 40) << found.body;
  server.Terminate();
  const std::string log = ReadFile(server.stderr_path());
  EXPECT_EQ(log.find("search index"), std::string::npos) << "imported users were re-derived at start\n" << log;
}

TEST_F(TransferTest, PreHashedPasswordsSignInThroughAnApi) {
  json::object imported{{"userName", "legacy"}, {"active", true},
                        {kRoster, {{"passwordHash", kSsha256}}}};
  json::object native{{"userName", "native"}, {"active", true}, {"password", "Native-Pass1!"}};
  ASSERT_EQ(Import("default", WriteLines("in.jsonl", {json::serialize(imported), json::serialize(native)})).exit_code, 0);
  // Roster's own argon2id hashes travel too: exported, then imported elsewhere.
  WriteFile(dir_ / "hashes.jsonl", Export("default", {"--with-password-hashes"}));
  auto r = Import("copy", dir_ / "hashes.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::string app = CreateKey(dir_.path(), "default", "app");
  const std::string copy_app = CreateKey(dir_.path(), "copy", "app");
  Server server(dir_.path());
  Client client(server.base_url());
  auto sign_in = [&](const std::string& key, const std::string& user, const std::string& password) {
    return client.Send("POST", "/v2/auth/signin",
                       json::serialize(json::object{{"username", user}, {"password", password}}), CatalyzeHeaders(key))
        .status;
  };
  EXPECT_EQ(sign_in(app, "legacy", "Imported-Pass1!"), 200);
  EXPECT_EQ(sign_in(app, "legacy", "wrong-password"), 401);
  EXPECT_EQ(sign_in(copy_app, "legacy", "Imported-Pass1!"), 200);
  EXPECT_EQ(sign_in(copy_app, "native", "Native-Pass1!"), 200);
  EXPECT_EQ(sign_in(copy_app, "native", "wrong-password"), 401);
}

// A batch in which the store refuses a user in the middle (its username taken by an
// earlier user of the same batch) is written user by user: that line is refused with the
// store's error, the others of both batches land with their default group, their
// passwords and their audit records, and the chain verifies.
TEST_F(TransferTest, AUserRefusedMidBatchLeavesTheOthersWithGroupsPasswordsAndAVerifiedChain) {
  std::string group;
  {
    Server server(dir_.path());
    Client client(server.base_url());
    auto made = client.Send("POST", "/v2/groups", R"({"name":"everyone","default":true})", CatalyzeHeaders(admin_));
    ASSERT_EQ(made.status, 200) << made.body;
    group = std::string(made.Json().at("groupsId").as_string());
  }
  const std::string file = WriteLines(
      "in.jsonl", {R"({"userName":"member1","active":true,"password":"Member-Pass1!"})",
                   json::serialize(json::object{{"userName", "member2"}, {"active", true},
                                                {kRoster, {{"passwordHash", kSsha256}}}}),
                   R"({"userName":"MEMBER1"})",  // 3: taken (folded) by line 1 of its batch
                   R"({"userName":"member4"})", R"({"userName":"member5"})", R"({"userName":"member6"})"});
  auto r = Import("default", file, {"--batch-size", "3"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const json::value summary = json::parse(r.out);
  EXPECT_EQ(summary.at("imported").as_int64(), 5);
  EXPECT_EQ(summary.at("refused").as_int64(), 1);
  const auto& errors = summary.at("errors").as_array();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("line").as_int64(), 3);
  EXPECT_EQ(errors[0].at("field").as_string(), "username");

  std::set<std::string> ids;
  for (const auto& u : JsonLines(Export("default"))) ids.insert(std::string(u.at("id").as_string()));
  EXPECT_EQ(ids.size(), 5u);
  const std::string app = CreateKey(dir_.path(), "default", "app");
  {
    Server server(dir_.path());
    Client client(server.base_url());
    auto members = client.Send("GET", "/v2/groups/" + group + "/members", "", CatalyzeHeaders(admin_));
    ASSERT_EQ(members.status, 200) << members.body;
    std::set<std::string> member_ids;
    const json::value body = members.Json();
    for (const auto& id : body.as_array()) member_ids.insert(std::string(id.as_string()));
    EXPECT_EQ(member_ids, ids);
    auto sign_in = [&](const std::string& user, const std::string& password) {
      return client.Send("POST", "/v2/auth/signin",
                         json::serialize(json::object{{"username", user}, {"password", password}}), CatalyzeHeaders(app))
          .status;
    };
    EXPECT_EQ(sign_in("member1", "Member-Pass1!"), 200);
    EXPECT_EQ(sign_in("member2", "Imported-Pass1!"), 200);
  }

  auto audit = RunRoster({"audit", "export", "--env", "default", "--data-dir", dir_.path()});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  std::set<std::string> created;
  for (const auto& rec : JsonLines(audit.out))
    if (rec.at("action") == "user.create") created.insert(std::string(rec.at("subject").as_string()));
  EXPECT_EQ(created, ids);
  auto verify = RunRoster({"audit", "verify", "--env", "default", "--data-dir", dir_.path()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace roster::testing
