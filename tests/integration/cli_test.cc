// The command-line contract: subcommands, --json shapes, idempotent init.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

TEST(CliTest, EverySubcommandHasHelp) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--help"},
                                                                {"init", "--help"},
                                                                {"serve", "--help"},
                                                                {"env", "--help"},
                                                                {"env", "create", "--help"},
                                                                {"env", "list", "--help"},
                                                                {"key", "--help"},
                                                                {"key", "create", "--help"},
                                                                {"key", "list", "--help"},
                                                                {"key", "revoke", "--help"},
                                                                {"pingone", "app", "rotate-secret", "--help"},
                                                                {"pingone", "app", "delete", "--help"},
                                                                {"pingone", "app", "list", "--help"},
                                                                {"quickblox", "app", "rotate-secret", "--help"},
                                                                {"quickblox", "app", "rotate-key", "--help"},
                                                                {"quickblox", "app", "delete", "--help"},
                                                                {"commcare", "web-user", "revoke-key", "--help"},
                                                                {"commcare", "web-user", "rotate-key", "--help"}}) {
    auto r = RunRoster(args);
    EXPECT_EQ(r.exit_code, 0) << args.back();
    EXPECT_NE(r.out.find("--"), std::string::npos) << r.out;
  }
}

TEST(CliTest, InitCreatesPrivateKeyFileAndIsIdempotent) {
  TempDir dir;
  const std::string data = dir / "data";
  auto first = RunRoster({"init", "--data-dir", data, "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto j = json::parse(first.out).as_object();
  EXPECT_EQ(j.at("environment").at("name"), "default");
  EXPECT_EQ(j.at("environment").at("id").as_string().size(), 36u);
  EXPECT_EQ(j.at("adminKey").as_string().size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat((data + "/master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  auto second = RunRoster({"init", "--data-dir", data, "--json"});
  EXPECT_EQ(second.exit_code, 0);
  auto k = json::parse(second.out).as_object();
  EXPECT_FALSE(k.contains("adminKey"));
  EXPECT_EQ(k.at("environment").at("id"), j.at("environment").at("id"));
  auto plain = RunRoster({"init", "--data-dir", data});
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_NE(plain.out.find("already initialised"), std::string::npos);
  // Still exactly one key.
  auto keys = RunRoster({"key", "list", "--env", "default", "--data-dir", data, "--json"});
  EXPECT_EQ(json::parse(keys.out).at("keys").as_array().size(), 1u);
}

TEST(CliTest, EnvironmentsAndKeys) {
  TempDir dir;
  InitDataDir(dir.path());
  auto env = RunRoster({"env", "create", "clinic", "--data-dir", dir.path(), "--json"});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(json::parse(env.out).at("name"), "clinic");
  auto dup = RunRoster({"env", "create", "clinic", "--data-dir", dir.path()});
  EXPECT_NE(dup.exit_code, 0);
  EXPECT_NE(RunRoster({"env", "create", "bad name", "--data-dir", dir.path()}).exit_code, 0);
  auto list = RunRoster({"env", "list", "--data-dir", dir.path(), "--json"});
  EXPECT_EQ(json::parse(list.out).at("environments").as_array().size(), 2u);

  auto key = RunRoster({"key", "create", "--env", "clinic", "--role", "app", "--data-dir", dir.path(), "--json"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  auto kj = json::parse(key.out).as_object();
  EXPECT_EQ(kj.at("key").as_string().size(), 64u);
  const std::string id(kj.at("id").as_string());
  EXPECT_NE(RunRoster({"key", "create", "--env", "clinic", "--role", "root", "--data-dir", dir.path()}).exit_code, 0);
  EXPECT_NE(RunRoster({"key", "create", "--env", "nope", "--role", "app", "--data-dir", dir.path()}).exit_code, 0);

  auto keys = RunRoster({"key", "list", "--env", "clinic", "--data-dir", dir.path(), "--json"});
  auto arr = json::parse(keys.out).at("keys").as_array();
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0].at("role"), "app");
  EXPECT_EQ(keys.out.find(std::string(kj.at("key").as_string())), std::string::npos);  // never the secret

  EXPECT_EQ(RunRoster({"key", "revoke", id, "--data-dir", dir.path()}).exit_code, 0);
  EXPECT_NE(RunRoster({"key", "revoke", id, "--data-dir", dir.path()}).exit_code, 0);
  keys = RunRoster({"key", "list", "--env", "clinic", "--data-dir", dir.path(), "--json"});
  EXPECT_EQ(json::parse(keys.out).at("keys").at(0).at("revoked"), true);
}

TEST(CliTest, MasterKeyMayComeFromTheEnvironment) {
  TempDir dir;
  const std::string not_hex = "zz" + std::string(62, '0');
  ::setenv("ROSTER_MASTER_KEY", not_hex.c_str(), 1);
  auto bad = RunRoster({"init", "--data-dir", dir / "bad"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("ROSTER_MASTER_KEY"), std::string::npos) << bad.err;
  ::setenv("ROSTER_MASTER_KEY", std::string(64, '7').c_str(), 1);
  auto good = RunRoster({"init", "--data-dir", dir / "good", "--json"});
  auto list = RunRoster({"key", "list", "--env", "default", "--data-dir", dir / "good", "--json"});
  ::unsetenv("ROSTER_MASTER_KEY");
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "good/master.key"));  // nothing secret on disk
  // Without the key the data cannot be opened.
  EXPECT_NE(RunRoster({"key", "list", "--env", "default", "--data-dir", dir / "good"}).exit_code, 0);
}

TEST(CliTest, DataCommandsRefuseAnUninitialisedDirectory) {
  TempDir dir;
  auto r = RunRoster({"serve", "--data-dir", dir / "missing", "--listen", "127.0.0.1:0"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not initialised"), std::string::npos) << r.err;
}

TEST(CliTest, SessionLimitsDefaultToAal2AndRefuseNegativeValues) {
  auto help = RunRoster({"serve", "--help"});
  ASSERT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("=3600"), std::string::npos) << help.out;   // --session-idle-seconds
  EXPECT_NE(help.out.find("=86400"), std::string::npos) << help.out;  // --session-lifetime-seconds
  TempDir dir;
  for (const char* flag : {"--session-idle-seconds", "--session-lifetime-seconds"}) {
    auto r = RunRoster({"serve", "--data-dir", dir / "missing", flag, "-1"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace roster::testing
