// `roster env rotate-data-key` while `roster serve` runs (two servers on one PostgreSQL
// database; one server sharing the SQLite file with the CLI): users made through two
// APIs (Catalyze, SCIM) before, during and after the rotation read back through both,
// every sealed row ends under the new key with its version and updated time unchanged,
// the old key is gone, and a rotation killed (SIGKILL) at random moments and run again
// finishes with every user readable and every uniqueness rule enforced.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "integration/harness.h"
#include "integration/scim_support.h"

extern char** environ;

namespace roster::testing {
namespace {

namespace json = boost::json;

std::string Str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

// One line per row of `sql` run on the data dir's database (sqlite3 or psql).
std::string Query(const std::string& data_dir, const std::string& sql) {
  const std::string cmd = UsingPostgres() ? "psql -qAt '" + DatabaseUrl(data_dir) + "' -c \"" + sql + "\""
                                          : "sqlite3 -readonly '" + data_dir + "/roster.db' \"" + sql + "\"";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << cmd;
  return out;
}

// id -> "version|updated_at|hex(sealed)" of every user, and every record's and mail's sealed bytes.
std::map<std::string, std::string> SealedRows(const std::string& data_dir) {
  const std::string hex = UsingPostgres() ? "encode(sealed, 'hex')" : "hex(sealed)";
  std::map<std::string, std::string> out;
  const std::string text =
      Query(data_dir, "SELECT 'u' || id || '|' || version || '|' || updated_at || '|' || " + hex + " FROM users "
                      "UNION ALL SELECT 'r' || id || '|' || version || '|' || updated_at || '|' || " + hex +
                      " FROM records UNION ALL SELECT 'm' || id || '|0|0|' || " + hex + " FROM outbox");
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = text.substr(start, end - start);
    const auto bar = line.find('|');
    if (bar != std::string::npos) out[line.substr(0, bar)] = line.substr(bar + 1);
  }
  return out;
}

class DataKeyRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = InitDataDir(first_.path());
    if (UsingPostgres()) {
      for (const char* file : {"master.key", "roster.toml"}) std::filesystem::copy_file(first_ / file, second_ / file);
    }
    app_ = CreateKey(first_.path(), "default", "app");
    scim_ = scim::CreateToken(first_.path());
    a_ = std::make_unique<Server>(first_.path());
    if (UsingPostgres()) b_ = std::make_unique<Server>(second_.path());
  }

  std::vector<Server*> Servers() const {
    std::vector<Server*> out{a_.get()};
    if (b_) out.push_back(b_.get());
    return out;
  }
  // The CLI runs against the second process's data dir on PostgreSQL, the shared file on SQLite.
  const std::string& CliDir() const { return b_ ? second_.path() : first_.path(); }

  // A user through Catalyze (even i) or SCIM (odd i), on server i % servers; its id.
  std::string CreateUser(int i, const std::string& name) {
    Server& s = *Servers()[i % Servers().size()];
    if (i % 2 == 0) {
      auto r = Client(s.base_url())
                   .Send("POST", "/v2/users",
                         json::serialize(json::object{{"username", name},
                                                      {"password", "pw-123456"},
                                                      {"email", {{"primary", name + "@example.com"}}}}),
                         CatalyzeHeaders(app_));
      EXPECT_EQ(r.status, 200) << r.body;
      return r.status == 200 ? Str(r.Json(), "usersId") : "";
    }
    auto r = scim::ScimClient(s.base_url(), scim_)
                 .Send("POST", "/Users",
                       json::object{{"schemas", json::array{scim::kUserSchema}},
                                    {"userName", name},
                                    {"emails", json::array{json::object{{"value", name + "@example.com"}}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(r.Json(), "id") : "";
  }

  // Reads every user through both APIs on every server.
  void ExpectEveryUserReadable() {
    for (Server* s : Servers()) {
      for (const auto& [id, name] : users_) {
        auto c = Client(s->base_url()).Send("GET", "/v2/users/" + id, "", CatalyzeHeaders(admin_));
        EXPECT_EQ(c.status, 200) << name << ": " << c.body;
        if (c.status == 200) EXPECT_EQ(Str(c.Json(), "username"), name);
        auto g = scim::ScimClient(s->base_url(), scim_).Send("GET", "/Users/" + id);
        EXPECT_EQ(g.status, 200) << name << ": " << g.body;
        if (g.status == 200) EXPECT_EQ(Str(g.Json(), "userName"), name);
      }
    }
  }

  // Taken usernames are refused by both APIs.
  void ExpectUniquenessEnforced() {
    const auto& [id, name] = *users_.begin();
    (void)id;
    auto c = Client(a_->base_url())
                 .Send("POST", "/v2/users",
                       json::serialize(json::object{
                           {"username", name}, {"password", "pw-123456"}, {"email", {{"primary", "x@example.com"}}}}),
                       CatalyzeHeaders(app_));
    EXPECT_EQ(c.status, 409) << c.body;
    auto s = scim::ScimClient(Servers().back()->base_url(), scim_)
                 .Send("POST", "/Users", json::object{{"schemas", json::array{scim::kUserSchema}}, {"userName", name}});
    EXPECT_EQ(s.status, 409) << s.body;
  }

  void AddUsers(int count, const std::string& prefix) {
    for (int i = 0; i < count; ++i) {
      const std::string name = prefix + std::to_string(i);
      const std::string id = CreateUser(static_cast<int>(users_.size()), name);
      if (!id.empty()) users_[id] = name;
    }
  }

  json::object Rotate(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"env", "rotate-data-key", "default", "--data-dir", CliDir(), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = RunRoster(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out).as_object() : json::object{};
  }

  // The old key is gone and every row changed its sealed bytes only.
  void ExpectEveryRowResealed(const std::map<std::string, std::string>& before, const std::string& old_keys) {
    EXPECT_EQ(Query(first_.path(), "SELECT length(wrapped_key) FROM environments"), "72\n");  // one key
    EXPECT_NE(Query(first_.path(), "SELECT " + std::string(UsingPostgres() ? "encode(wrapped_key, 'hex')"
                                                                           : "hex(wrapped_key)") +
                                       " FROM environments"),
              old_keys);
    const auto after = SealedRows(first_.path());
    for (const auto& [row, was] : before) {
      auto it = after.find(row);
      if (it == after.end()) continue;  // a token or mail that was used up meanwhile
      if (row[0] == 'u') {
        // Same version and updated time (ETag unchanged), other sealed bytes.
        EXPECT_EQ(it->second.substr(0, it->second.rfind('|')), was.substr(0, was.rfind('|'))) << row;
        EXPECT_NE(it->second, was) << row;
      }
    }
  }

  std::string OldKeys() {
    return Query(first_.path(), "SELECT " + std::string(UsingPostgres() ? "encode(wrapped_key, 'hex')"
                                                                        : "hex(wrapped_key)") +
                                    " FROM environments");
  }

  TempDir first_, second_;
  std::string admin_, app_, scim_;
  std::unique_ptr<Server> a_, b_;
  std::map<std::string, std::string> users_;  // id -> username
};

TEST_F(DataKeyRotationTest, EveryRowIsResealedWhileServersKeepServing) {
  AddUsers(12, "before");
  const auto before = SealedRows(first_.path());
  const std::string old_keys = OldKeys();
  // Writes keep going through both APIs while the rotation runs.
  std::atomic<bool> stop = false;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      AddUsers(1, "during" + std::to_string(i) + "-");
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  const json::object done = Rotate({"--rate", "50"});
  stop = true;
  writer.join();
  EXPECT_EQ(Str(done, "phase"), "done");
  EXPECT_EQ(done.at("keys").as_int64(), 1);
  EXPECT_EQ(done.at("unreadable").as_int64(), 0);
  EXPECT_GE(done.at("resealed").as_int64(), 12);
  ExpectEveryRowResealed(before, old_keys);
  AddUsers(4, "after");
  ExpectEveryUserReadable();
  ExpectUniquenessEnforced();
  const json::object status = Rotate({"--status"});
  EXPECT_EQ(Str(status, "phase"), "done");
  EXPECT_EQ(status.at("keys").as_int64(), 1);
}

// Starts roster with `args`, its standard error in `err`, and SIGKILLs it once `err` holds
// `mark` (or after `delay` when `mark` is empty), running `meanwhile` first, while it still
// runs; true if it had finished by itself first.
bool RunAndKill(const std::vector<std::string>& args, const std::string& err, const std::string& mark,
                std::chrono::milliseconds delay, const std::function<void()>& meanwhile = {}) {
  std::filesystem::remove(err);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid;
  const int rc = posix_spawn(&pid, kRosterBinary, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot spawn roster");
  const auto deadline = std::chrono::steady_clock::now() + (mark.empty() ? delay : std::chrono::seconds(30));
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!mark.empty() && ReadFile(err).find(mark) != std::string::npos) break;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (meanwhile) meanwhile();
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return false;
}

// `roster env rotate-data-key`, SIGKILLed after `delay` (see RunAndKill).
bool RunDataKeyRotationAndKill(const std::string& data_dir, std::chrono::milliseconds delay) {
  return RunAndKill({kRosterBinary, "env", "rotate-data-key", "default", "--rate", "2", "--data-dir", data_dir, "--json"},
                    data_dir + "/rotate.err", "", delay);
}

// One run at a time: a second `rotate-data-key` while one runs is refused before it adds a
// key (two would each add one, and the first to finish would drop the other's); once the
// first is killed, the next run takes over at once and finishes.
TEST_F(DataKeyRotationTest, ASecondRunIsRefusedWhileOneRunsAndTakesOverOnceItIsKilled) {
  AddUsers(6, "one");
  const std::vector<std::string> rotate{kRosterBinary, "env", "rotate-data-key", "default", "--data-dir", CliDir()};
  CommandResult second;
  const bool finished = RunAndKill(rotate, CliDir() + "/first.err", "settling", std::chrono::seconds(30), [&] {
    second = RunRoster({"env", "rotate-data-key", "default", "--data-dir", CliDir(), "--json"});
  });
  EXPECT_FALSE(finished);
  EXPECT_NE(second.exit_code, 0) << second.out;
  EXPECT_NE(second.err.find("another run is doing the data-key rotation of this environment (process "),
            std::string::npos)
      << second.err;
  EXPECT_EQ(second.out, "");
  const json::object status = Rotate({"--status"});
  EXPECT_EQ(Str(status, "phase"), "settling");
  EXPECT_EQ(status.at("keys").as_int64(), 2);  // the first run's key alone

  const json::object done = Rotate({"--rate", "50"});  // the killed run's claim is taken over
  EXPECT_EQ(Str(done, "phase"), "done");
  EXPECT_EQ(done.at("keys").as_int64(), 1);
  EXPECT_EQ(done.at("unreadable").as_int64(), 0);
  ExpectEveryUserReadable();
  ExpectUniquenessEnforced();
}

TEST_F(DataKeyRotationTest, ARotationKilledAtRandomMomentsAndRunAgainLosesNothing) {
  AddUsers(30, "k");
  const auto before = SealedRows(first_.path());
  const std::string old_keys = OldKeys();
  std::mt19937 random(std::random_device{}());
  // The first run waits for servers to pick up the new key (DirectoryService::kDataKeyTtlMs
  // twice); kill it there once, then at random moments of the re-sealing.
  std::uniform_int_distribution<int> first_ms(50, 3'000), later_ms(100, 1'500);
  bool finished = RunDataKeyRotationAndKill(CliDir(), std::chrono::milliseconds(first_ms(random)));
  int kills = finished ? 0 : 1;
  for (int i = 0; i < 19 && !finished; ++i) {
    ExpectEveryUserReadable();  // reads work between kills
    // The second run waits out what is left of the 11 s, and is killed near its end or
    // early in the re-sealing; every later one within 1.5 s, at 2 rows/s: 19 runs visit
    // fewer rows than the two passes over the 30 users need, so the rotation is killed
    // 20 times (issue 13) before the last run finishes it.
    finished = RunDataKeyRotationAndKill(CliDir(), std::chrono::milliseconds(i == 0 ? 9'000 + later_ms(random) : later_ms(random)));
    if (!finished) ++kills;
  }
  EXPECT_EQ(kills, 20);
  const json::object done = Rotate();  // runs to the end
  EXPECT_EQ(Str(done, "phase"), "done");
  EXPECT_EQ(done.at("keys").as_int64(), 1);
  EXPECT_EQ(done.at("unreadable").as_int64(), 0);
  ExpectEveryRowResealed(before, old_keys);
  ExpectEveryUserReadable();
  ExpectUniquenessEnforced();
  AddUsers(2, "afterkill");
  ExpectEveryUserReadable();
}

}  // namespace
}  // namespace roster::testing

namespace roster::testing {
namespace {

// `roster master-key rotate` on the same directories: servers keep serving and pick up
// the new key without a restart; killed at any step, the directory starts and reads
// every user with one of the two keys.
class MasterKeyRotationTest : public DataKeyRotationTest {
 protected:
  std::string KeyFile(const std::string& dir) { return ReadFile(dir + "/master.key"); }

  // `roster audit verify` opens the store (which key, finishing a killed rotation's
  // switch) and walks every chain, the rotation's records included.
  void ExpectTheDirectoryOpensAndVerifies() {
    auto r = RunRoster({"audit", "verify", "--data-dir", CliDir(), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_FALSE(std::filesystem::exists(CliDir() + "/master.key.next"));
  }

  // Restarts the servers: each starts from its directory's key file alone.
  void RestartServers() {
    if (UsingPostgres()) {  // the operator's copy of the new key
      std::filesystem::remove(first_ / "master.key");
      std::filesystem::copy_file(second_ / "master.key", first_ / "master.key");
    }
    a_.reset();
    b_.reset();
    a_ = std::make_unique<Server>(first_.path());
    if (UsingPostgres()) b_ = std::make_unique<Server>(second_.path());
  }
};

TEST_F(MasterKeyRotationTest, EveryServerPicksUpTheNewKeyWithoutARestartAndTheOldOneOpensNothing) {
  AddUsers(6, "before");
  const std::string old_key = KeyFile(CliDir()), old_keys = OldKeys();
  auto r = RunRoster({"master-key", "rotate", "--data-dir", CliDir(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json::object done = json::parse(r.out).as_object();
  EXPECT_TRUE(done.at("rotated").as_bool());
  EXPECT_EQ(done.at("environments").as_int64(), 1);
  EXPECT_NE(Str(done, "fingerprint"), Str(done, "oldFingerprint"));
  EXPECT_NE(KeyFile(CliDir()), old_key);
  EXPECT_FALSE(std::filesystem::exists(CliDir() + "/master.key.next"));
  EXPECT_NE(OldKeys(), old_keys);                          // the data key re-wrapped...
  EXPECT_EQ(Query(first_.path(), "SELECT length(wrapped_key) FROM environments"), "72\n");  // ...still one
  // Reads and writes go on through every server (a server whose directory still holds
  // the old key file keeps the data keys it has: their values did not change).
  ExpectEveryUserReadable();
  AddUsers(2, "during");
  ExpectUniquenessEnforced();
  // The operator copies the new key to every server's directory; then a new data key
  // (wrapped under the new master key) reaches every server without a restart.
  if (UsingPostgres()) {
    std::filesystem::remove(first_ / "master.key");
    std::filesystem::copy_file(second_ / "master.key", first_ / "master.key");
  }
  const json::object data = Rotate({"--rate", "0"});
  EXPECT_EQ(Str(data, "phase"), "done");
  AddUsers(4, "after");
  ExpectEveryUserReadable();
  ExpectUniquenessEnforced();
  ExpectTheDirectoryOpensAndVerifies();
  auto exported = RunRoster({"audit", "export", "--env", "default", "--data-dir", CliDir()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("\"master-key.rotate\""), std::string::npos);
  EXPECT_NE(exported.out.find("\"data-key.rotate\""), std::string::npos);
  // The old key opens nothing: a directory holding only it does not start.
  TempDir stale;
  {
    for (const char* file : {"roster.toml", "roster.db", "roster.db-wal"})
      if (std::filesystem::exists(CliDir() + "/" + file)) std::filesystem::copy_file(CliDir() + "/" + file, stale / file);
  }
  {
    std::FILE* f = std::fopen((stale / "master.key").c_str(), "w");
    std::fputs(old_key.c_str(), f);
    std::fclose(f);
  }
  auto refused = RunRoster({"env", "list", "--data-dir", stale.path()});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("does not open this store"), std::string::npos) << refused.err;
  // Servers restarted from their key files read everything.
  RestartServers();
  ExpectEveryUserReadable();
}

// `roster master-key rotate`, SIGKILLed once its standard error holds `mark` (see RunAndKill).
bool RunRotateAndKill(const std::string& data_dir, const std::string& mark, std::chrono::milliseconds delay) {
  return RunAndKill({kRosterBinary, "master-key", "rotate", "--step-delay-ms", "200", "--data-dir", data_dir, "--json"},
                    data_dir + "/rotate.err", mark, delay);
}

TEST_F(MasterKeyRotationTest, ARotationKilledAtTwentyMomentsLeavesADirectoryThatStartsAndReadsEveryUser) {
  AddUsers(10, "k");
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(0, 900);
  int kills = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string before = KeyFile(CliDir());
    // Every third kill right after the new key file is durable (before the commit), every
    // third right after the commit (before the switch of files), the rest at random.
    const std::string mark = i % 3 == 0 ? "new key written" : i % 3 == 1 ? "(committed)" : "";
    const bool finished = RunRotateAndKill(CliDir(), mark, std::chrono::milliseconds(delay_ms(random)));
    if (!finished) ++kills;
    ExpectTheDirectoryOpensAndVerifies();
    if (!finished && i % 3 == 0) EXPECT_EQ(KeyFile(CliDir()), before) << i;  // never committed: the old key stays
    if (!finished && i % 3 == 1) EXPECT_NE(KeyFile(CliDir()), before) << i;  // committed: the new key took over
    ExpectEveryUserReadable();
  }
  EXPECT_GE(kills, 14);
  AddUsers(2, "afterkill");
  RestartServers();
  ExpectEveryUserReadable();
  ExpectUniquenessEnforced();
}

}  // namespace
}  // namespace roster::testing

namespace roster::testing {
namespace {

// `roster env rotate-index-key` on the same directories: clients keep creating users with
// clashing usernames through two APIs on every server while it runs (exactly one of each
// pair wins), every user is found by `eq` and `sw` afterwards, no index entry of the old
// generation is left; killed at 20 moments and run again, it loses nothing.
class IndexKeyRotationTest : public DataKeyRotationTest {
 protected:
  json::object RotateIndex(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"env", "rotate-index-key", "default", "--data-dir", CliDir(), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = RunRoster(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out).as_object() : json::object{};
  }

  // SCIM userName filter on server `s`: the names found.
  std::vector<std::string> Filter(Server& s, const std::string& filter) {
    auto r = scim::ScimClient(s.base_url(), scim_).Send("GET", "/Users?count=1000&filter=" + UrlEncode(filter));
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> names;
    if (r.status != 200) return names;
    auto body = r.Json();
    for (const auto& u : body.at("Resources").as_array()) names.push_back(Str(u, "userName"));
    return names;
  }

  // Every user is found by `userName eq` and by `userName sw` (its whole name) on every server.
  void ExpectEveryUserFound() {
    for (Server* s : Servers()) {
      for (const auto& [id, name] : users_) {
        EXPECT_EQ(Filter(*s, "userName eq \"" + name + "\""), std::vector<std::string>{name}) << name;
        const auto sw = Filter(*s, "userName sw \"" + name + "\"");
        EXPECT_NE(std::find(sw.begin(), sw.end(), name), sw.end()) << name;
      }
    }
  }

  // Index entries per generation, "generation|count" lines (users' and records').
  std::string EntriesByGeneration() {
    return Query(first_.path(),
                 "SELECT generation || '|' || COUNT(*) FROM (SELECT generation FROM user_index UNION ALL "
                 "SELECT generation FROM record_index) AS e GROUP BY generation ORDER BY generation");
  }
};

TEST_F(IndexKeyRotationTest, ClashingWritesDuringTheRotationHaveOneWinnerAndEveryoneIsFoundAfter) {
  AddUsers(10, "before");
  std::atomic<bool> stop = false;
  std::map<std::string, int> winners;  // username -> successful creations
  std::mutex mu;
  // Each name is created at once through Catalyze on the first server and SCIM on the last.
  std::thread clients([&] {
    for (int i = 0; !stop; ++i) {
      const std::string name = "clash" + std::to_string(i);
      std::string a_id, b_id;
      std::thread a([&] {
        auto r = Client(a_->base_url())
                     .Send("POST", "/v2/users",
                           json::serialize(json::object{{"username", name},
                                                        {"password", "pw-123456"},
                                                        {"email", {{"primary", name + "@example.com"}}}}),
                           CatalyzeHeaders(app_));
        EXPECT_TRUE(r.status == 200 || r.status == 409) << r.body;
        if (r.status == 200) a_id = Str(r.Json(), "usersId");
      });
      auto r = scim::ScimClient(Servers().back()->base_url(), scim_)
                   .Send("POST", "/Users", json::object{{"schemas", json::array{scim::kUserSchema}}, {"userName", name}});
      EXPECT_TRUE(r.status == 201 || r.status == 409) << r.body;
      if (r.status == 201) b_id = Str(r.Json(), "id");
      a.join();
      std::lock_guard lock(mu);
      winners[name] = !a_id.empty() + !b_id.empty();
      if (!a_id.empty()) users_[a_id] = name;
      if (!b_id.empty()) users_[b_id] = name;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const json::object done = RotateIndex({"--rate", "20"});
  stop = true;
  clients.join();
  EXPECT_EQ(Str(done, "phase"), "done");
  EXPECT_EQ(done.at("generation").as_int64(), 1);
  EXPECT_GE(done.at("visited").as_int64(), 10);
  EXPECT_GT(winners.size(), 20u);  // clashes in every phase
  for (const auto& [name, wins] : winners) EXPECT_EQ(wins, 1) << name;
  EXPECT_EQ(EntriesByGeneration().substr(0, 2), "1|");  // no entry of generation 0 left
  EXPECT_EQ(EntriesByGeneration().find('\n'), EntriesByGeneration().size() - 1);
  ExpectEveryUserFound();
  ExpectEveryUserReadable();
  ExpectUniquenessEnforced();
  const json::object status = RotateIndex({"--status"});
  EXPECT_EQ(Str(status, "phase"), "done");
  EXPECT_EQ(status.at("generation").as_int64(), 1);
}

TEST_F(IndexKeyRotationTest, ARotationKilledAtTwentyMomentsAndRunAgainLosesNothing) {
  AddUsers(30, "k");
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> ms(100, 1'500);
  // Twenty moments over every phase (each state is held 11 s; the copying pass at 2
  // rows/s takes ~17 s): random ones (within 1.5 s of a start), and the first report of
  // copying, switching and dropping (right after each state change); the last two land
  // in the dropping wait, well before it ends.
  std::vector<std::string> marks{"", "", ": copying"};
  marks.insert(marks.end(), 12, "");
  for (const char* m : {": switching", "", ": dropping", "", ""}) marks.push_back(m);
  int kills = 0;
  for (const auto& mark : marks) {
    const bool finished =
        RunAndKill({kRosterBinary, "env", "rotate-index-key", "default", "--rate", "2", "--data-dir", CliDir(), "--json"},
                   CliDir() + "/rotate-index.err", mark, std::chrono::milliseconds(ms(random)));
    if (finished) break;
    ++kills;
    ExpectUniquenessEnforced();  // between kills: clashes refused, users found
    const auto& [id, name] = *users_.rbegin();
    (void)id;
    EXPECT_EQ(Filter(*Servers().back(), "userName eq \"" + name + "\""), std::vector<std::string>{name});
  }
  EXPECT_EQ(kills, 20);
  const json::object done = RotateIndex();  // runs to the end
  EXPECT_EQ(Str(done, "phase"), "done");
  EXPECT_EQ(done.at("from").as_int64(), 0);  // the one rotation, resumed
  EXPECT_EQ(done.at("generation").as_int64(), 1);
  EXPECT_EQ(EntriesByGeneration().substr(0, 2), "1|");
  EXPECT_EQ(EntriesByGeneration().find('\n'), EntriesByGeneration().size() - 1);
  ExpectEveryUserReadable();
  ExpectEveryUserFound();
  ExpectUniquenessEnforced();
  AddUsers(2, "afterkill");
  ExpectEveryUserFound();
}

}  // namespace
}  // namespace roster::testing
