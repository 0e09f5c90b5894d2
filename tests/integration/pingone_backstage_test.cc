// A real PingOne client against Roster over https: Backstage's PingOne catalog importer
// (@backstage-community/plugin-catalog-backend-module-pingidentity, its
// PingIdentityEntityProvider run by tests/sdk/pingone/backstage_import.cjs, installed by
// scripts/sdk-setup.sh) imports an environment of 500 users and 20 nested groups,
// following _links.next, and what it hands the catalog is compared with what was created.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

constexpr int kUsers = 500;
constexpr int kGroups = 20;

int RunShell(const std::string& command, std::string& output) {
  output.clear();
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 65536> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

// Backstage's entity names: anything but [a-zA-Z0-9_.-] becomes "_" (its default transformers).
std::string EntityName(std::string name) {
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return name;
}

TEST(PingOneBackstageTest, ImporterReadsEveryUserGroupMembershipAndParentOverHttps) {
  std::string out;
  if (RunShell("command -v node", out) != 0) GTEST_SKIP() << "node is not installed: run scripts/sdk-setup.sh";
  const std::string sdk = std::string(kTestSource) + "/sdk/pingone";
  ASSERT_TRUE(std::filesystem::exists(sdk + "/node_modules/@backstage-community"))
      << "the Backstage PingOne importer is not installed in " << sdk << ": run scripts/sdk-setup.sh";

  TempDir dir;
  InitDataDir(dir.path());
  const std::string cert = dir / "cert.pem";
  const std::string openssl = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext "
                              "subjectAltName=DNS:localhost -days 1 -keyout " + (dir / "key.pem") + " -out " + cert +
                              " >/dev/null 2>&1";
  ASSERT_EQ(std::system(openssl.c_str()), 0);
  auto app = RunRoster({"pingone", "app", "create", "--env", "default", "--data-dir", dir.path(), "--json"});
  ASSERT_EQ(app.exit_code, 0) << app.err;
  const json::value credentials = json::parse(app.out);
  const std::string env = Str(credentials, "environmentId");
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--tls-cert", cert, "--tls-key", dir / "key.pem"});
  Server server(dir.path(), args);
  ASSERT_EQ(server.base_url().rfind("https://", 0), 0u);
  Client client(server.base_url(), cert);

  auto token = client.Send("POST", "/" + env + "/as/token",
                           "grant_type=client_credentials&client_id=" + Str(credentials, "clientId") +
                               "&client_secret=" + Str(credentials, "clientSecret"),
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(token.status, 200) << token.body;
  const Headers auth = {{"Authorization", "Bearer " + Str(token.Json(), "access_token")},
                        {"Content-Type", "application/json"}};
  const std::string base = "/v1/environments/" + env;
  const auto post = [&](const std::string& path, const json::object& body) {
    auto r = client.Send("POST", base + path, json::serialize(body), auth);
    EXPECT_EQ(r.status, 201) << path << ": " << r.body;
    return r.Json();
  };

  // 20 groups nested as a binary tree: group i's parent is group (i-1)/2.
  struct Expected {
    std::string name, email, display;
    std::set<std::string> groups;
  };
  std::vector<std::string> group_ids, group_names;
  std::map<std::string, std::string> parent_of;  // group name -> parent name
  for (int i = 0; i < kGroups; ++i) {
    const std::string name = "Team " + std::to_string(i);
    const json::value g = post("/groups", {{"name", name}, {"description", "group number " + std::to_string(i)}});
    ASSERT_TRUE(g.is_object());
    group_ids.push_back(Str(g, "id"));
    group_names.push_back(name);
    if (i > 0) {
      const int parent = (i - 1) / 2;
      post("/groups/" + group_ids.back() + "/memberOfGroups", {{"id", group_ids[parent]}});
      parent_of[EntityName(name)] = EntityName(group_names[parent]);
    }
  }
  // 500 users, each directly in group i % 20, every seventh in a second group too.
  std::map<std::string, Expected> expected;  // by id
  for (int i = 0; i < kUsers; ++i) {
    const std::string username = "user" + std::to_string(i) + "@example.org";
    const json::value u = post("/users", {{"username", username},
                                          {"email", "mail" + std::to_string(i) + "@example.org"},
                                          {"name", {{"given", "Given" + std::to_string(i)}, {"family", "Family"}}}});
    ASSERT_TRUE(u.is_object());
    const std::string id = Str(u, "id");
    Expected e{EntityName(username), "mail" + std::to_string(i) + "@example.org",
               "Given" + std::to_string(i) + " Family", {}};
    std::vector<int> groups = {i % kGroups};
    if (i % 7 == 0) groups.push_back((i + 5) % kGroups);
    for (int g : groups) {
      post("/users/" + id + "/memberOfGroups", {{"id", group_ids[g]}});
      e.groups.insert(EntityName(group_names[g]));
    }
    expected[id] = std::move(e);
  }

  const std::string command = "cd '" + sdk + "' && NODE_EXTRA_CA_CERTS='" + cert + "' ROSTER_URL='" +
                              server.base_url() + "' ROSTER_ENV_ID='" + env + "' ROSTER_CLIENT_ID='" +
                              Str(credentials, "clientId") + "' ROSTER_CLIENT_SECRET='" +
                              Str(credentials, "clientSecret") + "' node backstage_import.cjs 2>" +
                              (dir / "import.err");
  const int status = RunShell(command, out);
  std::string err;
  RunShell("cat '" + (dir / "import.err") + "'", err);
  ASSERT_EQ(status, 0) << err << out;
  const json::value imported = json::parse(out);

  // Groups: every one, with its description and its parent.
  const auto& groups = imported.at("groups").as_array();
  ASSERT_EQ(groups.size(), static_cast<std::size_t>(kGroups)) << out.substr(0, 2000);
  std::set<std::string> seen_groups;
  for (const auto& g : groups) {
    const std::string name = Str(g, "name");
    seen_groups.insert(Str(g, "id"));
    const auto it = parent_of.find(name);
    if (it == parent_of.end())
      EXPECT_TRUE(g.at("parent").is_null()) << name;
    else
      EXPECT_EQ(g.at("parent").is_string() ? Str(g, "parent") : "", it->second) << name;
    EXPECT_TRUE(Str(g, "description").starts_with("group number ")) << name;
  }
  EXPECT_EQ(seen_groups, std::set<std::string>(group_ids.begin(), group_ids.end()));

  // Users: every one, once, with email, display name and exactly its direct groups.
  const auto& users = imported.at("users").as_array();
  ASSERT_EQ(users.size(), static_cast<std::size_t>(kUsers));
  std::set<std::string> seen_users;
  for (const auto& u : users) {
    const std::string id = Str(u, "id");
    ASSERT_TRUE(seen_users.insert(id).second) << "imported twice: " << id;
    const auto it = expected.find(id);
    ASSERT_NE(it, expected.end()) << id;
    EXPECT_EQ(Str(u, "name"), it->second.name);
    EXPECT_EQ(Str(u, "email"), it->second.email);
    EXPECT_EQ(Str(u, "displayName"), it->second.display);
    std::set<std::string> member_of;
    for (const auto& g : u.at("memberOf").as_array()) member_of.insert(std::string(g.as_string()));
    EXPECT_EQ(member_of, it->second.groups) << it->second.name;
  }
  EXPECT_EQ(seen_users.size(), expected.size());

  // 500 users with the importer's page size of 100: it followed _links.next four times.
}

}  // namespace
}  // namespace roster::testing
