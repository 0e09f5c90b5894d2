// Issue 18 part A against the real binary: what a client sends or the machine does never
// loses data. Deep documents and inexact numbers (findings 1 and 2) through every API;
// SIGKILL at random moments under load (every acknowledged write survives, nothing is
// duplicated, every queued mail is delivered, the database passes integrity_check); a
// full disk (503 in each API's shape, reads keep working, writes resume by themselves);
// a PostgreSQL restart under load (503 while it is down, the pool recovers, nothing
// acknowledged is lost).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "integration/harness.h"
#include "integration/scim_support.h"

namespace roster::testing {
namespace {

namespace json = boost::json;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// ---- helpers ------------------------------------------------------------------------

std::string Base64(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kTable[(v >> shift) & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    for (int shift : {18, 12, 6}) out += kTable[(v >> shift) & 63];
    out += "=";
  }
  return out;
}

std::string Encode(std::string_view s) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string Form(const Pairs& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) out += (out.empty() ? "" : "&") + k + "=" + Encode(v);
  return out;
}

// {"k":{"k":...1...}} nested `depth` deep.
std::string Nested(int depth, const std::string& key = "k") {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"" + key + "\":";
  s += "1";
  for (int i = 0; i < depth; ++i) s += "}";
  return s;
}

std::string Str(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const auto* m = v.as_object().if_contains(key);
  return m && m->is_string() ? std::string(m->as_string()) : std::string();
}

// The four APIs over one data directory: Catalyze, PingOne and QuickBlox in the
// environment "default", CommCare in the project space "demo".
struct Apis {
  std::string catalyze;                 // admin key
  std::string pingone_env, pingone_client, pingone_secret;
  std::int64_t qb_app = 0;
  std::string qb_auth_key, qb_auth_secret, qb_api_key;
  std::string commcare;                 // "ApiKey email:key"
  std::string scim;                     // a SCIM bearer token with every scope

  static Apis Init(const std::string& data_dir, const std::vector<std::string>& init_args = {}) {
    Apis a;
    if (init_args.empty()) {
      a.catalyze = InitDataDir(data_dir);
    } else {
      std::vector<std::string> args = {"init", "--data-dir", data_dir, "--json"};
      args.insert(args.end(), init_args.begin(), init_args.end());
      auto r = RunRoster(args);
      if (r.exit_code != 0) throw std::runtime_error("init failed: " + r.err);
      a.catalyze = std::string(json::parse(r.out).at("adminKey").as_string());
    }
    auto off = RunRoster({"env", "set", "default", "--catalyze-activation", "none", "--data-dir", data_dir});
    if (off.exit_code != 0) throw std::runtime_error("env set failed: " + off.err);
    auto p = RunRoster({"pingone", "app", "create", "--env", "default", "--scope", "all", "--data-dir", data_dir, "--json"});
    if (p.exit_code != 0) throw std::runtime_error("pingone app create failed: " + p.err);
    const json::value pj = json::parse(p.out);
    a.pingone_env = Str(pj, "environmentId");
    a.pingone_client = Str(pj, "clientId");
    a.pingone_secret = Str(pj, "clientSecret");
    auto q = RunRoster({"quickblox", "app", "create", "--env", "default", "--allow-user-list", "--allow-contact-fields",
                        "--scope", "signup", "--scope", "profile:read", "--scope", "profile:write", "--scope",
                        "users:list", "--scope", "contact:read", "--json", "--data-dir", data_dir});
    if (q.exit_code != 0) throw std::runtime_error("quickblox app create failed: " + q.err);
    const json::value qj = json::parse(q.out);
    a.qb_app = qj.at("applicationId").as_int64();
    a.qb_auth_key = Str(qj, "authKey");
    a.qb_auth_secret = Str(qj, "authSecret");
    a.qb_api_key = Str(qj, "apiKey");
    auto c = RunRoster({"commcare", "web-user", "create", "--domain", "demo", "--email", "admin@example.org", "--scope",
                        "profile:read", "--scope", "profile:write", "--scope", "users:list", "--scope", "contact:read",
                        "--scope", "groups:write", "--data-dir", data_dir, "--json"});
    if (c.exit_code != 0) throw std::runtime_error("commcare web-user create failed: " + c.err);
    const json::value cj = json::parse(c.out);
    a.commcare = "ApiKey " + Str(cj, "username") + ":" + Str(cj, "apiKey");
    a.scim = scim::CreateToken(data_dir, "default", {"all"});
    return a;
  }

  Headers Catalyze() const { return CatalyzeHeaders(catalyze); }
  Headers CommCare() const { return {{"Authorization", commcare}}; }
  Headers QuickBlox(bool form = true) const {
    Headers h{{"Authorization", "ApiKey " + qb_api_key}};
    if (form) h.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return h;
  }
  std::string PingOneUsers() const { return "/v1/environments/" + pingone_env + "/users"; }
  // A worker-app token (empty if the server did not answer 200).
  std::string PingOneToken(Client& client) const {
    auto r = client.Send("POST", "/" + pingone_env + "/as/token", "grant_type=client_credentials",
                         {{"Authorization", "Basic " + Base64(pingone_client + ":" + pingone_secret)},
                          {"Content-Type", "application/x-www-form-urlencoded"}});
    return r.status == 200 ? Str(r.Json(), "access_token") : std::string();
  }
  static Headers Bearer(const std::string& token, const std::string& type = "application/json") {
    return {{"Authorization", "Bearer " + token}, {"Content-Type", type}};
  }
  Headers Scim() const { return {{"Authorization", "Bearer " + scim}, {"Content-Type", "application/scim+json"}}; }
  // POST /session.json, signed; with a user's login and password when given.
  HttpResponse QuickBloxSession(Client& client, const std::string& login = "", const std::string& password = "") const {
    static std::atomic<int> nonces{1};
    Pairs pairs = {{"application_id", std::to_string(qb_app)},
                   {"auth_key", qb_auth_key},
                   {"nonce", std::to_string(::getpid() % 1000 * 1000000 + nonces++)},
                   {"timestamp", std::to_string(std::time(nullptr))}};
    if (!login.empty()) {
      pairs.emplace_back("user[login]", login);
      pairs.emplace_back("user[password]", password);
    }
    std::vector<std::string> items;
    for (const auto& [k, v] : pairs) items.push_back(k + "=" + v);
    std::sort(items.begin(), items.end());
    std::string to_sign;
    for (const auto& item : items) to_sign += (to_sign.empty() ? "" : "&") + item;
    pairs.emplace_back("signature", HmacSha1Hex(qb_auth_secret, to_sign));
    return client.Send("POST", "/session.json", Form(pairs),
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
};

std::string CommCareUsers(const std::string& rest = "") { return "/a/demo/api/v0.5/user/" + rest; }
std::string CommCareGroups(const std::string& rest = "") { return "/a/demo/api/v0.5/group/" + rest; }
constexpr const char* kPingOneImport = "application/vnd.pingidentity.user.import+json";
constexpr const char* kPingOneCheck = "application/vnd.pingidentity.password.check+json";
constexpr const char* kPingOneSendCode = "application/vnd.pingidentity.password.sendRecoveryCode+json";

// ---- each API's 503 -------------------------------------------------------------------

void ExpectCatalyze503(const HttpResponse& r) {
  ExpectCatalyzeError(r, 503, "");
}
void ExpectPingOne503(const HttpResponse& r) {
  EXPECT_EQ(r.status, 503) << r.body;
  const json::value j = r.Json();
  EXPECT_EQ(Str(j, "code"), "SERVICE_UNAVAILABLE") << r.body;
  EXPECT_FALSE(Str(j, "id").empty()) << r.body;
}
void ExpectQuickBlox503(const HttpResponse& r) {
  EXPECT_EQ(r.status, 503) << r.body;
  const json::value j = r.Json();
  ASSERT_TRUE(j.is_object() && j.as_object().contains("errors")) << r.body;
  const json::value& errors = j.at("errors");
  EXPECT_TRUE(errors.is_array() || (errors.is_object() && errors.as_object().contains("base"))) << r.body;
}
void ExpectCommCare503(const HttpResponse& r) {
  EXPECT_EQ(r.status, 503) << r.body;
  const json::value j = r.Json();
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_TRUE(j.as_object().contains("error") || j.as_object().contains("error_message")) << r.body;
}

// ================================================= findings 1 and 2, through every API

class DocumentPolicyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    apis_ = new Apis(Apis::Init(dir_->path()));
    server_ = new Server(dir_->path());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete apis_;
    delete dir_;
  }
  // Every user list of every API answers 200 (Catalyze lists only for a session: it
  // reads `user_id`, which may be empty, by id).
  void ExpectEveryListReads(const std::string& token, const std::string& user_id = "") {
    EXPECT_EQ(client_.Send("GET", apis_->PingOneUsers(), "", Apis::Bearer(token)).status, 200);
    if (!user_id.empty()) {
      EXPECT_EQ(client_.Send("GET", "/v2/users/" + user_id, "", apis_->Catalyze()).status, 200);
    }
    EXPECT_EQ(client_.Send("GET", "/users.json", "", apis_->QuickBlox(false)).status, 200);
    EXPECT_EQ(client_.Send("GET", CommCareUsers(), "", apis_->CommCare()).status, 200);
    EXPECT_EQ(client_.Send("GET", CommCareGroups(), "", apis_->CommCare()).status, 200);
  }

  static TempDir* dir_;
  static Apis* apis_;
  static Server* server_;
  Client client_{server_->base_url()};
};
TempDir* DocumentPolicyTest::dir_ = nullptr;
Apis* DocumentPolicyTest::apis_ = nullptr;
Server* DocumentPolicyTest::server_ = nullptr;

// Finding 1: a PingOne JSON attribute as deep as a body may carry (31 under the body's
// object) is created and then read, listed in every API and deleted; its PingOne state
// is kept. One level deeper is refused with 400 naming the attribute, storing nothing.
TEST_F(DocumentPolicyTest, ADeepPingOneAttributeReadsBackEverywhereAndADeeperOneIsRefused) {
  const std::string token = apis_->PingOneToken(client_);
  ASSERT_FALSE(token.empty());
  // The schema id, then the attribute (JSON type).
  auto schemas = client_.Send("GET", "/v1/environments/" + apis_->pingone_env + "/schemas", "", Apis::Bearer(token));
  ASSERT_EQ(schemas.status, 200) << schemas.body;
  const json::value sj = schemas.Json();
  const std::string schema_id = Str(sj.at("_embedded").at("schemas").at(0), "id");
  auto attribute = client_.Send("POST",
                                "/v1/environments/" + apis_->pingone_env + "/schemas/" + schema_id + "/attributes",
                                R"({"name":"prefs","type":"JSON","enabled":true})", Apis::Bearer(token));
  ASSERT_EQ(attribute.status, 201) << attribute.body;

  const std::string deep = Nested(31);
  auto created = client_.Send("POST", apis_->PingOneUsers(),
                              R"({"username":"deep-one","mfaEnabled":true,"prefs":)" + deep + "}", Apis::Bearer(token));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Str(created.Json(), "id");
  auto got = client_.Send("GET", apis_->PingOneUsers() + "/" + id, "", Apis::Bearer(token));
  ASSERT_EQ(got.status, 200) << got.body;
  const json::value gj = got.Json();
  EXPECT_EQ(gj.at("prefs"), json::parse(deep));
  EXPECT_EQ(gj.at("mfaEnabled"), true);  // the PingOne state survived
  ExpectEveryListReads(token, id);
  EXPECT_EQ(client_.Send("DELETE", apis_->PingOneUsers() + "/" + id, "", Apis::Bearer(token)).status, 204);

  auto refused = client_.Send("POST", apis_->PingOneUsers(),
                              R"({"username":"deeper-one","prefs":)" + Nested(32) + "}", Apis::Bearer(token));
  EXPECT_EQ(refused.status, 400) << refused.body;
  const json::value rj = refused.Json();
  EXPECT_EQ(Str(rj, "code"), "INVALID_DATA") << refused.body;
  ASSERT_TRUE(rj.as_object().contains("details")) << refused.body;
  EXPECT_EQ(Str(rj.at("details").at(0), "target").substr(0, 5), "prefs") << refused.body;
  auto none = client_.Send("GET", apis_->PingOneUsers() + "?filter=" + Encode("username eq \"deeper-one\""), "",
                           Apis::Bearer(token));
  EXPECT_EQ(none.Json().at("count"), 0) << none.body;
}

// Finding 1: a CommCare group whose metadata nests 31 deep is created and every group
// and user list still reads; deeper is refused naming `metadata`.
TEST_F(DocumentPolicyTest, ADeepCommCareGroupReadsBackAndADeeperOneIsRefused) {
  auto created = client_.Send("POST", CommCareGroups(), R"({"name":"deep group","metadata":)" + Nested(31) + "}",
                              apis_->CommCare());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Str(created.Json(), "id");
  auto got = client_.Send("GET", CommCareGroups(id + "/"), "", apis_->CommCare());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.Json().at("metadata"), json::parse(Nested(31)));
  ExpectEveryListReads(apis_->PingOneToken(client_));
  EXPECT_EQ(client_.Send("DELETE", CommCareGroups(id + "/"), "", apis_->CommCare()).status, 204);

  auto refused = client_.Send("POST", CommCareGroups(), R"({"name":"deeper","metadata":)" + Nested(32) + "}",
                              apis_->CommCare());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("metadata"), std::string::npos) << refused.body;
}

// Finding 1 for Catalyze and QuickBlox bodies: too deep is a 400 naming the field in
// each API's shape.
TEST_F(DocumentPolicyTest, TooDeepBodiesAreRefusedNamingTheFieldInEveryShape) {
  auto catalyze = client_.Send("POST", "/v2/users",
                               R"({"username":"deepc","password":"pw-123456","email":{"primary":"d@example.com"},)"
                               R"("extras":)" + Nested(32) + "}",
                               apis_->Catalyze());
  ExpectCatalyzeError(catalyze, 400, "extras");
  auto qb = client_.Send("POST", "/users.json", R"({"user":{"login":"deepq","password":"Passw0rd!","custom_data":"x",)"
                                               R"("tag_list":)" + Nested(32) + "}}",
                         {{"Authorization", "ApiKey " + apis_->qb_api_key}, {"Content-Type", "application/json"}});
  EXPECT_EQ(qb.status, 400) << qb.body;
  EXPECT_NE(qb.body.find("tag_list"), std::string::npos) << qb.body;
}

// Finding 2: Catalyze extras come back exactly as sent, or are refused naming the field.
TEST_F(DocumentPolicyTest, NumbersInExtrasAreKeptExactlyOrRefused) {
  for (const char* inexact : {"1e999999", R"({"a":12345678901234567890123})", "-1e400", R"([0.10000000000000000001])"}) {
    auto r = client_.Send("POST", "/v2/users",
                          std::string(R"({"username":"num","password":"pw-123456","email":{"primary":"n@example.com"},)") +
                              R"("extras":)" + inexact + "}",
                          apis_->Catalyze());
    ExpectCatalyzeError(r, 400, "extras");
  }
  // Nothing was stored: the username is still free.
  const std::string extras = R"({"big":18446744073709551615,"neg":-9223372036854775808,"frac":0.1,"exp":1.5E300})";
  auto ok = client_.Send("POST", "/v2/users",
                         R"({"username":"num","password":"pw-123456","email":{"primary":"n@example.com"},"extras":)" +
                             extras + "}",
                         apis_->Catalyze());
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto got = client_.Send("GET", "/v2/users/" + Str(ok.Json(), "usersId"), "", apis_->Catalyze());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.Json().at("extras"), json::parse(extras)) << got.body;
}

// ======================================================================== finding 4

TEST(ConfigFileTest, RosterTomlIsCreatedPrivateEvenUnderAPermissiveUmask) {
  TempDir dir;
  const std::string data = dir / "data";
  ::mkdir(data.c_str(), 0755);
  // A file left readable by an earlier binary is made private too.
  std::ofstream(data + "/roster.toml") << "database = \"sqlite\"\n";
  ::chmod((data + "/roster.toml").c_str(), 0644);
  const mode_t old = ::umask(0);
  auto r = RunRoster({"init", "--data-dir", data, "--database", "sqlite", "--json"});
  ::umask(old);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat((data + "/roster.toml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_NE(ReadFile(data + "/roster.toml").find("sqlite"), std::string::npos);
  EXPECT_FALSE(std::ifstream(data + "/roster.toml.new").good());
}

// The key file's directory entry is synced: strace (where installed) sees an fsync of
// the directory after master.key is written.
TEST(ConfigFileTest, InitSyncsTheKeyFilesDirectory) {
  if (Shell("command -v strace >/dev/null") != 0) GTEST_SKIP() << "strace is not installed";
  TempDir dir;
  const std::string data = dir / "data";
  const std::string trace = dir / "trace";
  std::string shell_out;
  // LeakSanitizer cannot run under ptrace: a sanitizer build's binary is traced without it.
  const int rc = Shell("ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" strace -f -o " + trace +
                           " -e trace=openat,fsync " + std::string(kRosterBinary) + " init --data-dir " + data +
                           " --json",
                       &shell_out);
  if (rc != 0 && shell_out.find("PTRACE") != std::string::npos) GTEST_SKIP() << "ptrace is not permitted here";
  ASSERT_EQ(rc, 0) << shell_out;
  const std::string out = ReadFile(trace);
  // openat(AT_FDCWD, "DATA", O_RDONLY|...O_DIRECTORY) = N, then fsync(N), after the key.
  const auto key = out.find(data + "/master.key\", O_WRONLY");
  ASSERT_NE(key, std::string::npos) << out;
  const auto dir_open = out.find("\"" + data + "\", O_RDONLY", key);
  ASSERT_NE(dir_open, std::string::npos) << out;
  EXPECT_NE(out.substr(dir_open, out.find('\n', dir_open) - dir_open).find("O_DIRECTORY"), std::string::npos);
  const auto eq = out.find("= ", dir_open);
  const std::string fd = out.substr(eq + 2, out.find('\n', eq) - eq - 2);
  EXPECT_NE(out.find("fsync(" + fd + ")", dir_open), std::string::npos) << out;
}

// ============================================================ the load and its ledger

// What the clients were told. A write is "acknowledged" when its API answered success;
// a write whose answer never came (the server died) may or may not have happened.
struct Ledger {
  std::mutex mu;
  // api -> ids of acknowledged users, and their usernames.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> users;
  int user_attempts_unanswered = 0;  // creates sent without a success answer
  std::vector<std::string> mail_to;  // addresses a queued mail was acknowledged for
  // The CommCare group's members: the last acknowledged list and every list sent
  // after it without an answer (any of them may be what the store holds).
  std::vector<std::string> group_acked;
  std::vector<std::vector<std::string>> group_maybe;
  // api ("pingone", "scim") -> users whose joining the API's group was acknowledged.
  std::map<std::string, std::vector<std::string>> joined;
  std::size_t group_changes = 0;  // acknowledged CommCare group updates
  int acknowledged = 0, refused = 0, failed = 0;
};

std::string Unique(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(::getpid() % 100000) + "n" + std::to_string(counter++);
}

// One client per API, sending until `stop`: creates users, signs in, changes the group,
// asks for mail. Statuses other than success are tallied; 5xx other than 503 and any
// 4xx are failures of the test (the server must answer 503 or nothing).
// The groups the load changes: CommCare's always; PingOne's and SCIM's when set (then
// PingOne users are imported with a password, sign in, join the group and ask for a
// recovery code, and a fifth client creates SCIM users and adds them to its group).
struct LoadGroups {
  std::string commcare, pingone, scim;
};

class Load {
 public:
  Load(const Apis& apis, const std::string& base_url, Ledger& ledger, std::string group_id)
      : Load(apis, base_url, ledger, LoadGroups{std::move(group_id), "", ""}) {}
  Load(const Apis& apis, const std::string& base_url, Ledger& ledger, LoadGroups groups)
      : apis_(apis), base_(base_url), ledger_(ledger), group_(std::move(groups.commcare)),
        pingone_group_(std::move(groups.pingone)), scim_group_(std::move(groups.scim)) {}
  ~Load() { Stop(); }
  void Start() {
    threads_.emplace_back([this] { Catalyze(); });
    threads_.emplace_back([this] { PingOne(); });
    threads_.emplace_back([this] { QuickBlox(); });
    threads_.emplace_back([this] { CommCare(); });
    if (!scim_group_.empty()) threads_.emplace_back([this] { Scim(); });
  }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }
  // Statuses that are neither success nor 503 nor a dead connection (status 0).
  std::vector<std::string> Unexpected() {
    std::lock_guard lock(ledger_.mu);
    return unexpected_;
  }
  int Unavailable() const { return unavailable_; }

 private:
  // A request the dying server never answered is status 0 (curl throws on an empty reply).
  template <class F, class T>
  static T Safe(F&& f, T otherwise) {
    try {
      return f();
    } catch (const std::exception&) {
      return otherwise;
    }
  }
  template <class... A>
  static HttpResponse Send(Client& c, A&&... args) {
    return Safe([&] { return c.Send(std::forward<A>(args)...); }, HttpResponse{});
  }
  // Tallies one answer; true for success.
  bool Tally(const char* what, const HttpResponse& r, std::initializer_list<long> ok) {
    std::lock_guard lock(ledger_.mu);
    if (std::find(ok.begin(), ok.end(), r.status) != ok.end()) {
      ++ledger_.acknowledged;
      return true;
    }
    if (r.status == 503) {
      ++unavailable_;
      ++ledger_.refused;
    } else if (r.status == 0) {
      ++ledger_.failed;
    } else {
      unexpected_.push_back(std::string(what) + " " + std::to_string(r.status) + " " + r.body.substr(0, 200));
    }
    return false;
  }
  void AddUser(const std::string& api, const std::string& id, const std::string& name) {
    std::lock_guard lock(ledger_.mu);
    ledger_.users[api].emplace_back(id, name);
  }
  void Unanswered() {
    std::lock_guard lock(ledger_.mu);
    ++ledger_.user_attempts_unanswered;
  }
  std::optional<std::pair<std::string, std::string>> AnyUser(const std::string& api) {
    std::lock_guard lock(ledger_.mu);
    auto& v = ledger_.users[api];
    if (v.empty()) return std::nullopt;
    return v[v.size() - 1 - (counter_++ % v.size())];
  }
  void Mailed(const std::string& address) {
    std::lock_guard lock(ledger_.mu);
    ledger_.mail_to.push_back(address);
  }
  void Joined(const std::string& api, const std::string& id) {
    std::lock_guard lock(ledger_.mu);
    ledger_.joined[api].push_back(id);
  }

  void Catalyze() {
    Client c(base_);
    for (int i = 0; !stop_; ++i) {
      // First a mail and a sign-in for a user an earlier round acknowledged (rounds are
      // short), then a new user.
      if (auto u = AnyUser("catalyze")) {
        auto m = Send(c, "POST", "/v2/users/forgotUsername",
                      json::serialize(json::object{{"email", u->second + "@example.com"}}), apis_.Catalyze());
        if (Tally("catalyze mail", m, {200})) Mailed(u->second + "@example.com");
        if (i % 2 == 0)
          Tally("catalyze signin",
                Send(c, "POST", "/v2/auth/signin",
                     json::serialize(json::object{{"username", u->second}, {"password", "pw-123456"}}),
                     apis_.Catalyze()),
                {200});
      }
      const std::string name = Unique("cat");
      auto r = Send(c, "POST", "/v2/users",
                    json::serialize(json::object{{"username", name},
                                                 {"password", "pw-123456"},
                                                 {"email", {{"primary", name + "@example.com"}}}}),
                    apis_.Catalyze());
      if (Tally("catalyze create", r, {200})) AddUser("catalyze", Str(r.Json(), "usersId"), name);
      else Unanswered();
    }
  }
  void PingOne() {
    Client c(base_);
    std::string token;
    while (!stop_ && token.empty()) {
      token = Safe([&] { return apis_.PingOneToken(c); }, std::string());
      if (token.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (int i = 0; !stop_; ++i) {
      const std::string name = Unique("p1");
      if (pingone_group_.empty()) {
        auto r = Send(c, "POST", apis_.PingOneUsers(),
                      json::serialize(json::object{{"username", name}, {"email", name + "@example.com"}}),
                      Apis::Bearer(token));
        if (Tally("pingone create", r, {201})) AddUser("pingone", Str(r.Json(), "id"), name);
        else Unanswered();
        continue;
      }
      // A new user, imported with a password, joins the group and asks for a recovery
      // code by mail (once per user: codes are throttled per user); every other time an
      // earlier user signs in (the password check).
      if (i % 2 == 1) {
        if (auto u = AnyUser("pingone"))
          Tally("pingone signin",
                Send(c, "POST", apis_.PingOneUsers() + "/" + u->first + "/password",
                     json::serialize(json::object{{"password", "Crash-Pass1!"}}), Apis::Bearer(token, kPingOneCheck)),
                {200});
      }
      auto r = Send(c, "POST", apis_.PingOneUsers(),
                    json::serialize(json::object{{"username", name},
                                                 {"email", name + "@example.com"},
                                                 {"password", {{"value", "Crash-Pass1!"}}}}),
                    Apis::Bearer(token, kPingOneImport));
      if (!Tally("pingone create", r, {201})) {
        Unanswered();
        continue;
      }
      const std::string id = Str(r.Json(), "id");
      AddUser("pingone", id, name);
      auto g = Send(c, "POST", apis_.PingOneUsers() + "/" + id + "/memberOfGroups",
                    json::serialize(json::object{{"id", pingone_group_}}), Apis::Bearer(token));
      if (Tally("pingone group", g, {201})) Joined("pingone", id);
      if (Tally("pingone mail", Send(c, "POST", apis_.PingOneUsers() + "/" + id + "/password", "",
                                     Apis::Bearer(token, kPingOneSendCode)),
                {200}))
        Mailed(name + "@example.com");
    }
  }
  void Scim() {
    Client c(base_);
    while (!stop_) {
      const std::string name = Unique("sc");
      auto r = Send(c, "POST", "/scim/v2/Users",
                    json::serialize(json::object{
                        {"schemas", json::array{scim::kUserSchema}},
                        {"userName", name},
                        {"emails", json::array{json::object{{"value", name + "@example.com"}, {"primary", true}}}}}),
                    apis_.Scim());
      if (!Tally("scim create", r, {201})) {
        Unanswered();
        continue;
      }
      const std::string id = Str(r.Json(), "id");
      AddUser("scim", id, name);
      auto g = Send(c, "PATCH", "/scim/v2/Groups/" + scim_group_,
                    json::serialize(json::object{
                        {"schemas", json::array{scim::kPatchOp}},
                        {"Operations", json::array{json::object{
                                           {"op", "add"},
                                           {"path", "members"},
                                           {"value", json::array{json::object{{"value", id}}}}}}}}),
                    apis_.Scim());
      if (Tally("scim group", g, {200, 204})) Joined("scim", id);
    }
  }
  void QuickBlox() {
    Client c(base_);
    for (int i = 0; !stop_; ++i) {
      const std::string name = Unique("qb");
      auto r = Send(c, "POST", "/users.json",
                      Form({{"user[login]", name}, {"user[password]", "Passw0rd!"}, {"user[email]", name + "@example.com"}}),
                      apis_.QuickBlox());
      if (Tally("quickblox create", r, {201})) {
        const json::value j = r.Json();
        AddUser("quickblox", std::to_string(j.at("user").at("id").as_int64()), name);
      } else {
        Unanswered();
      }
      if (i % 2 == 1) {
        if (auto u = AnyUser("quickblox")) {
          auto s = Safe([&] { return apis_.QuickBloxSession(c, u->second, "Passw0rd!"); }, HttpResponse{});
          if (Tally("quickblox signin", s, {201})) {
            const std::string token(s.Json().at("session").at("token").as_string());
            auto m = Send(c, "GET", "/users/password/reset.json?email=" + Encode(u->second + "@example.com"), "",
                            Headers{{"QB-Token", token}});
            if (Tally("quickblox mail", m, {200})) Mailed(u->second + "@example.com");
          }
        }
      }
    }
  }
  void CommCare() {
    Client c(base_);
    while (!stop_) {
      const std::string name = Unique("cc");
      auto r = Send(c, "POST", CommCareUsers(),
                      json::serialize(json::object{{"username", name}, {"password", "pw-123456"}}), apis_.CommCare());
      if (Tally("commcare create", r, {201})) AddUser("commcare", Str(r.Json(), "id"), name);
      else Unanswered();
      // The group: the last few acknowledged workers.
      std::vector<std::string> members;
      {
        std::lock_guard lock(ledger_.mu);
        auto& v = ledger_.users["commcare"];
        for (std::size_t k = v.size() > 3 ? v.size() - 3 : 0; k < v.size(); ++k) members.push_back(v[k].first);
        ledger_.group_maybe.push_back(members);
      }
      json::array users;
      for (const auto& m : members) users.emplace_back(m);
      auto g = Send(c, "PUT", CommCareGroups(group_ + "/"), json::serialize(json::object{{"users", users}}),
                      apis_.CommCare());
      if (Tally("commcare group", g, {200, 202, 204})) {
        std::lock_guard lock(ledger_.mu);
        ledger_.group_acked = members;
        ++ledger_.group_changes;
        ledger_.group_maybe.clear();
      }
    }
  }

  const Apis& apis_;
  std::string base_;
  Ledger& ledger_;
  std::string group_;
  std::string pingone_group_, scim_group_;
  std::atomic<bool> stop_{false};
  std::atomic<int> unavailable_{0};
  std::atomic<unsigned> counter_{0};
  std::vector<std::string> unexpected_;
  std::vector<std::thread> threads_;
};

// Every acknowledged user reads back through its API, once; the group holds a list a
// client sent; every acknowledged mail arrived.
void ExpectLedgerHolds(const Apis& apis, Client& c, Ledger& ledger) {
  const std::string token = apis.PingOneToken(c);
  ASSERT_FALSE(token.empty());
  std::set<std::string> seen;
  for (const auto& [api, users] : ledger.users) {
    for (const auto& [id, name] : users) {
      EXPECT_TRUE(seen.insert(id).second) << api << " acknowledged " << id << " twice";
      HttpResponse r;
      if (api == "catalyze") r = c.Send("GET", "/v2/users/" + id, "", apis.Catalyze());
      if (api == "pingone") r = c.Send("GET", apis.PingOneUsers() + "/" + id, "", Apis::Bearer(token));
      if (api == "quickblox") r = c.Send("GET", "/users/" + id + ".json", "", apis.QuickBlox(false));
      if (api == "commcare") r = c.Send("GET", CommCareUsers(id + "/"), "", apis.CommCare());
      if (api == "scim") r = c.Send("GET", "/scim/v2/Users/" + id, "", apis.Scim());
      ASSERT_EQ(r.status, 200) << api << " " << id << " acknowledged but lost: " << r.body;
      EXPECT_NE(r.body.find(name), std::string::npos) << api << " " << id << ": " << r.body;
    }
  }
}

std::vector<std::string> GroupMembers(const Apis& apis, Client& c, const std::string& group) {
  auto r = c.Send("GET", CommCareGroups(group + "/"), "", apis.CommCare());
  std::vector<std::string> out;
  const json::value j = r.Json();
  if (!j.is_object() || !j.as_object().contains("users")) return out;
  for (const auto& u : j.at("users").as_array()) out.emplace_back(u.as_string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Sqlite(const std::string& db, const std::string& sql) {
  std::string out;
  Shell("sqlite3 " + db + " \"" + sql + "\"", &out);
  out.erase(out.find_last_not_of("\n") + 1);
  return out;
}

// ========================================================================= crashes

// SIGKILL at random moments, 50 times, while clients of every API create users, sign in,
// change a group and ask for mail: Catalyze (create, sign-in, mail), PingOne (import with
// a password, password check, group membership, recovery-code mail), QuickBlox (create,
// session sign-in, reset mail), CommCare (create, group members) and SCIM (create, group
// PATCH). After the last restart every acknowledged write is there (read through the API
// that made it), nothing is duplicated, every acknowledged mail was delivered at least
// once and the database passes integrity_check.
TEST(CrashTest, SigkillUnderLoadLosesNothingAcknowledged) {
  if (UsingPostgres()) GTEST_SKIP() << "runs in the SQLite pass (it checks the SQLite file)";
  if (Shell("command -v sqlite3 >/dev/null") != 0) GTEST_SKIP() << "the sqlite3 shell is not installed";
  TempDir dir, mail_dir;
  const Apis apis = Apis::Init(dir.path());
  SmtpSink sink(mail_dir.path());
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--smtp-url", sink.url(), "--smtp-from", "roster@example.test", "--signin-max-attempts",
                           "1000"});
  LoadGroups groups;
  {
    Server server(dir.path(), args);
    Client c(server.base_url());
    auto g = c.Send("POST", CommCareGroups(), R"({"name":"crash group"})", apis.CommCare());
    ASSERT_EQ(g.status, 201) << g.body;
    groups.commcare = Str(g.Json(), "id");
    const std::string token = apis.PingOneToken(c);
    ASSERT_FALSE(token.empty());
    auto p = c.Send("POST", "/v1/environments/" + apis.pingone_env + "/groups", R"({"name":"crash pingone group"})",
                    Apis::Bearer(token));
    ASSERT_EQ(p.status, 201) << p.body;
    groups.pingone = Str(p.Json(), "id");
    auto s = c.Send("POST", "/scim/v2/Groups",
                    json::serialize(json::object{{"schemas", json::array{scim::kGroupSchema}},
                                                 {"displayName", "crash scim group"}}),
                    apis.Scim());
    ASSERT_EQ(s.status, 201) << s.body;
    groups.scim = Str(s.Json(), "id");
  }
  const std::string group = groups.commcare;
  const std::string db = dir / "roster.db";
  const long before = std::stol(Sqlite(db, "SELECT count(*) FROM users"));  // the CommCare web user
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> run_ms(20, 400);
  Ledger ledger;
  for (int round = 0; round < 50; ++round) {
    Server server(dir.path(), args);
    Load load(apis, server.base_url(), ledger, groups);
    load.Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(rng)));
    server.Kill9();
    load.Stop();
    for (const auto& u : load.Unexpected()) ADD_FAILURE() << "round " << round << " (seed " << seed << "): " << u;
  }
  Server server(dir.path(), args);
  Client c(server.base_url());
  ExpectLedgerHolds(apis, c, ledger);
  // The group holds the last acknowledged list, or one sent after it.
  std::vector<std::vector<std::string>> possible = ledger.group_maybe;
  possible.push_back(ledger.group_acked);
  for (auto& p : possible) std::sort(p.begin(), p.end());
  EXPECT_NE(std::find(possible.begin(), possible.end(), GroupMembers(apis, c, group)), possible.end());
  // Every acknowledged PingOne and SCIM membership is there.
  {
    const std::string token = apis.PingOneToken(c);
    for (const auto& id : ledger.joined["pingone"]) {
      auto r = c.Send("GET", apis.PingOneUsers() + "/" + id + "/memberOfGroups", "", Apis::Bearer(token));
      EXPECT_NE(r.body.find(groups.pingone), std::string::npos) << "pingone " << id << " left the group: " << r.body;
    }
    auto r = c.Send("GET", "/scim/v2/Groups/" + groups.scim, "", apis.Scim());
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& id : ledger.joined["scim"])
      EXPECT_NE(r.body.find(id), std::string::npos) << "scim " << id << " left the group";
  }
  // Nothing duplicated: no more users than were acknowledged or left unanswered.
  std::size_t acknowledged = 0;
  for (const auto& [api, users] : ledger.users) acknowledged += users.size();
  const long stored = std::stol(Sqlite(db, "SELECT count(*) FROM users")) - before;
  EXPECT_GE(stored, static_cast<long>(acknowledged));
  EXPECT_LE(stored, static_cast<long>(acknowledged) + ledger.user_attempts_unanswered);
  // Every acknowledged mail arrives (a message claimed by a killed server waits for its
  // lease, a minute at most).
  for (const auto& address : ledger.mail_to)
    EXPECT_FALSE(sink.WaitForMessagesTo(address, 1, 90).empty()) << "no mail to " << address << " (seed " << seed << ")";
  EXPECT_EQ(server.Terminate(), 0);
  EXPECT_EQ(Sqlite(db, "PRAGMA integrity_check"), "ok");
  EXPECT_GT(acknowledged, 50u) << "the load made too little progress to prove anything";
  EXPECT_GT(ledger.mail_to.size(), 0u);
  EXPECT_GT(ledger.joined["pingone"].size(), 0u);
  EXPECT_GT(ledger.joined["scim"].size(), 0u);
  std::string per_api;
  for (const auto& [api, users] : ledger.users) per_api += " " + api + " " + std::to_string(users.size());
  std::printf("crash test: seed %u, 50 kills; acknowledged: %zu users (%s), %zu mails, %zu PingOne and %zu SCIM group "
              "joins, %zu CommCare group changes; %d creates unanswered, %ld users stored\n",
              seed, acknowledged, per_api.c_str() + 1, ledger.mail_to.size(), ledger.joined["pingone"].size(),
              ledger.joined["scim"].size(), ledger.group_changes, ledger.user_attempts_unanswered, stored);
}

// ======================================================================= disk full

// The data directory on a 12 MiB tmpfs, filled up under load: every API's writes fail
// with 503 in its own shape (never a crash or a 500), reads keep working, and writes
// resume by themselves once space is freed. The database passes integrity_check.
// A 12 MB tmpfs holding the data directory, and a file that fills what is left of it.
class SmallDisk {
 public:
  // Empty skip_reason: mounted.
  SmallDisk() : mount_point_(outer_ / "small") {
    if (UsingPostgres()) {
      skip_reason_ = "runs in the SQLite pass (the data directory holds the database)";
      return;
    }
    if (::geteuid() != 0) {
      skip_reason_ = "mounting the tmpfs this test fills needs root; run as root to include it";
      return;
    }
    ::mkdir(mount_point_.c_str(), 0700);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=12m,mode=0700") != 0) {
      skip_reason_ = std::string("cannot mount a tmpfs here (") + std::strerror(errno) +
                     "); run as root with CAP_SYS_ADMIN";
      return;
    }
    mounted_ = true;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }
  const std::string& skip_reason() const { return skip_reason_; }
  std::string data() const { return mount_point_ + "/data"; }
  // Writes a megabyte at a time until the disk refuses.
  void Fill() const {
    std::ofstream out(filler(), std::ios::binary);
    const std::string mb(1 << 20, 'f');
    while (out.write(mb.data(), mb.size()) && out.flush()) {
    }
  }
  bool Free() const { return ::unlink(filler().c_str()) == 0; }

 private:
  std::string filler() const { return mount_point_ + "/filler"; }
  TempDir outer_;
  std::string mount_point_;
  std::string skip_reason_;
  bool mounted_ = false;
};

// With the audit trail off, a full disk stops writes only. (With it on, reads stop too:
// the next test.)
TEST(DiskFullTest, WritesAnswer503ReadsWorkAndWritesResumeWhenSpaceReturns) {
  SmallDisk disk;
  if (!disk.skip_reason().empty()) GTEST_SKIP() << disk.skip_reason();
  const std::string data = disk.data();
  const Apis apis = Apis::Init(data);
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--audit", "off"});
  Server server(data, args);
  Client c(server.base_url());
  auto g = c.Send("POST", CommCareGroups(), R"({"name":"full group"})", apis.CommCare());
  ASSERT_EQ(g.status, 201) << g.body;
  const std::string group = Str(g.Json(), "id");

  Ledger ledger;
  Load load(apis, server.base_url(), ledger, group);
  load.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Fill what is left, a megabyte at a time, while the load runs.
  disk.Fill();
  // The load now meets a full disk; wait until it has seen 503s.
  EXPECT_TRUE(WaitFor([&] { return load.Unavailable() > 20; }, 60)) << load.Unavailable();
  load.Stop();
  for (const auto& u : load.Unexpected()) ADD_FAILURE() << u;

  // Each API's write, in its own shape (a few tries: a write may still fit in a page
  // SQLite had already).
  const std::string token = apis.PingOneToken(c);
  ASSERT_FALSE(token.empty());
  auto until_503 = [](const std::function<HttpResponse()>& send) {
    HttpResponse r;
    for (int i = 0; i < 50; ++i) {
      r = send();
      if (r.status == 503) break;
      EXPECT_TRUE(r.status < 500) << r.status << " " << r.body;
    }
    return r;
  };
  ExpectCatalyze503(until_503([&] {
    const std::string name = Unique("fullc");
    return c.Send("POST", "/v2/users",
                  json::serialize(json::object{{"username", name}, {"password", "pw-123456"}, {"email", {{"primary", name + "@example.com"}}}}),
                  apis.Catalyze());
  }));
  ExpectPingOne503(until_503([&] {
    return c.Send("POST", apis.PingOneUsers(), json::serialize(json::object{{"username", Unique("fullp")}}),
                  Apis::Bearer(token));
  }));
  ExpectQuickBlox503(until_503([&] {
    return c.Send("POST", "/users.json", Form({{"user[login]", Unique("fullq")}, {"user[password]", "Passw0rd!"}}),
                  apis.QuickBlox());
  }));
  ExpectCommCare503(until_503([&] {
    return c.Send("POST", CommCareUsers(), json::serialize(json::object{{"username", Unique("fullm")}, {"password", "pw-123456"}}),
                  apis.CommCare());
  }));
  // Reads keep working, through every API.
  ExpectLedgerHolds(apis, c, ledger);
  EXPECT_EQ(c.Send("GET", "/users.json", "", apis.QuickBlox(false)).status, 200);
  EXPECT_EQ(c.Send("GET", CommCareGroups(), "", apis.CommCare()).status, 200);

  // Space returns: writes resume without a restart.
  ASSERT_TRUE(disk.Free());
  EXPECT_TRUE(WaitFor([&] {
    const std::string name = Unique("backc");
    return c.Send("POST", "/v2/users",
                  json::serialize(json::object{{"username", name}, {"password", "pw-123456"}, {"email", {{"primary", name + "@example.com"}}}}),
                  apis.Catalyze())
               .status == 200;
  }));
  EXPECT_EQ(c.Send("POST", apis.PingOneUsers(), json::serialize(json::object{{"username", Unique("backp")}}),
                   Apis::Bearer(token)).status, 201);
  EXPECT_EQ(c.Send("POST", "/users.json", Form({{"user[login]", Unique("backq")}, {"user[password]", "Passw0rd!"}}),
                   apis.QuickBlox()).status, 201);
  EXPECT_EQ(c.Send("POST", CommCareUsers(), json::serialize(json::object{{"username", Unique("backm")}, {"password", "pw-123456"}}),
                   apis.CommCare()).status, 201);
  ExpectLedgerHolds(apis, c, ledger);
  EXPECT_EQ(server.Terminate(), 0);
  if (Shell("command -v sqlite3 >/dev/null") == 0) {
    EXPECT_EQ(Sqlite(data + "/roster.db", "PRAGMA integrity_check"), "ok");
  }
}

// With the audit trail on, a read whose record cannot be made durable does not leave:
// the user's profile is answered with 503 in each API's shape (fail closed), and reads
// resume, with their records, once space returns.
TEST(DiskFullTest, AuditedReadsAnswer503UntilTheirRecordsFitThenResume) {
  SmallDisk disk;
  if (!disk.skip_reason().empty()) GTEST_SKIP() << disk.skip_reason();
  const std::string data = disk.data();
  const Apis apis = Apis::Init(data);
  Server server(data);  // the audit trail is on by default
  Client c(server.base_url());
  const std::string name = Unique("audfull");
  auto created = c.Send("POST", "/v2/users",
                        json::serialize(json::object{{"username", name}, {"password", "pw-123456"},
                                                     {"email", {{"primary", name + "@example.com"}}}}),
                        apis.Catalyze());
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = Str(created.Json(), "usersId");
  ASSERT_EQ(c.Send("GET", "/v2/users/" + id, "", apis.Catalyze()).status, 200);

  disk.Fill();
  // A few reads may still find room in pages SQLite already has; then every one is refused.
  HttpResponse r;
  int ok = 0;
  for (int i = 0; i < 400; ++i) {
    r = c.Send("GET", "/v2/users/" + id, "", apis.Catalyze());
    if (r.status == 503) break;
    EXPECT_EQ(r.status, 200) << r.body;
    ++ok;
  }
  ExpectCatalyze503(r);
  EXPECT_EQ(r.body.find(name), std::string::npos) << "a refused read must not carry the profile: " << r.body;
  const std::string token = apis.PingOneToken(c);
  if (!token.empty()) {
    auto p = c.Send("GET", apis.PingOneUsers() + "/" + id, "", Apis::Bearer(token));
    ExpectPingOne503(p);
    EXPECT_EQ(p.body.find(name), std::string::npos) << p.body;
  }

  ASSERT_TRUE(disk.Free());
  EXPECT_TRUE(WaitFor([&] { return c.Send("GET", "/v2/users/" + id, "", apis.Catalyze()).status == 200; }));
  EXPECT_EQ(server.Terminate(), 0);
  // Every read that was answered left its record; the chain is whole.
  const auto verify = RunRoster({"audit", "verify", "--env", "default", "--data-dir", data});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  const auto exported = RunRoster({"audit", "export", "--data-dir", data, "--env", "default", "--subject", id});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  int reads = 0;
  for (std::size_t at = 0; (at = exported.out.find("\"action\":\"user.read\"", at)) != std::string::npos; ++at) ++reads;
  EXPECT_GE(reads, ok + 2) << exported.out;
}

// ============================================================== PostgreSQL restarts

// A PostgreSQL server of the test's own, stopped and started under load: requests in
// flight and during the outage answer 503 in their API's shape (never 500), the pool
// recovers without restarting roster, and every acknowledged write is there afterwards.
TEST(PostgresRestartTest, RequestsAnswer503ThePoolRecoversAndNothingAcknowledgedIsLost) {
  if (UsingPostgres()) GTEST_SKIP() << "runs once, in the SQLite pass, with a cluster of its own";
  if (!OwnPostgresCluster::Installed()) GTEST_SKIP() << "PostgreSQL is not installed";
  OwnPostgresCluster cluster;
  ASSERT_FALSE(cluster.dsn().empty()) << cluster.error();
  const std::string& dsn = cluster.dsn();

  TempDir dir;
  const Apis apis = Apis::Init(dir.path(), {"--database", dsn});
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--db-pool-size", "4"});
  Server server(dir.path(), args);
  Client c(server.base_url());
  auto g = c.Send("POST", CommCareGroups(), R"({"name":"pg group"})", apis.CommCare());
  ASSERT_EQ(g.status, 201) << g.body;
  const std::string group = Str(g.Json(), "id");

  Ledger ledger;
  for (int restart = 0; restart < 2; ++restart) {
    Load load(apis, server.base_url(), ledger, group);
    load.Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::string out;
    ASSERT_EQ(cluster.Run("pause", &out), 0) << out;
    EXPECT_TRUE(WaitFor([&] { return load.Unavailable() > 4; }, 30)) << load.Unavailable();
    ASSERT_EQ(cluster.Run("resume", &out), 0) << out;
    const int before = ledger.acknowledged;
    // The same server, the same pool: writes succeed again.
    EXPECT_TRUE(WaitFor([&] { return ledger.acknowledged > before + 20; }, 30)) << ledger.acknowledged;
    load.Stop();
    for (const auto& u : load.Unexpected()) ADD_FAILURE() << "restart " << restart << ": " << u;
  }
  // Each API's 503 while the server is down, then its recovery.
  std::string out;
  const std::string token = apis.PingOneToken(c);
  ASSERT_FALSE(token.empty());
  ASSERT_EQ(cluster.Run("pause", &out), 0) << out;
  auto until_503 = [](const std::function<HttpResponse()>& send) {
    HttpResponse r;
    WaitFor([&] {
      r = send();
      return r.status == 503;
    }, 15);
    return r;
  };
  ExpectCatalyze503(until_503([&] {
    return c.Send("POST", "/v2/users",
                  json::serialize(json::object{{"username", Unique("pgc")}, {"password", "pw-123456"}, {"email", {{"primary", "pg@example.com"}}}}),
                  apis.Catalyze());
  }));
  ExpectPingOne503(until_503([&] {
    return c.Send("POST", apis.PingOneUsers(), json::serialize(json::object{{"username", Unique("pgp")}}),
                  Apis::Bearer(token));
  }));
  ExpectQuickBlox503(until_503([&] {
    return c.Send("POST", "/users.json", Form({{"user[login]", Unique("pgq")}, {"user[password]", "Passw0rd!"}}),
                  apis.QuickBlox());
  }));
  ExpectCommCare503(until_503([&] {
    return c.Send("POST", CommCareUsers(), json::serialize(json::object{{"username", Unique("pgm")}, {"password", "pw-123456"}}),
                  apis.CommCare());
  }));
  ASSERT_EQ(cluster.Run("resume", &out), 0) << out;
  EXPECT_TRUE(WaitFor([&] {
    return c.Send("POST", CommCareUsers(), json::serialize(json::object{{"username", Unique("pgback")}, {"password", "pw-123456"}}),
                  apis.CommCare())
               .status == 201;
  }));
  ExpectLedgerHolds(apis, c, ledger);
  EXPECT_GT(ledger.acknowledged, 40);
}

}  // namespace
}  // namespace roster::testing
