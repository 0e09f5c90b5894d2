// The SCIM conformance harness (tests/sdk/scim/conformance.mjs): SCIMMY, a third-party
// RFC 7643/7644 implementation on npm, judges every response of a real server, Microsoft's
// SCIM reference test collection is replayed, and SCIMMY's PATCH and filter results are
// compared with the server's. Installed by scripts/sdk-setup.sh (scripts/test.sh runs it).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <sys/wait.h>

#include "integration/harness.h"
#include "integration/scim_support.h"

namespace roster::testing {
namespace {

// Runs `command` with stdout and stderr captured; returns the exit status.
int RunCommand(const std::string& command, std::string& output) {
  output.clear();
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ScimConformanceTest, ScimmyAcceptsEveryResponseAndAgreesOnPatchAndFilters) {
  std::string out;
  if (RunCommand("command -v node", out) != 0)
    GTEST_SKIP() << "node is not installed: run scripts/sdk-setup.sh (scripts/test.sh does)";
  const char* env = std::getenv("ROSTER_SCIM_SDK_DIR");
  const std::string dir = env && *env ? env : std::string(kTestSource) + "/sdk/scim";
  ASSERT_TRUE(std::filesystem::exists(dir + "/node_modules/scimmy"))
      << "SCIMMY is not installed in " << dir << ": run scripts/sdk-setup.sh";
  TempDir data;
  InitDataDir(data.path());
  // Every scope: the reference collection writes addresses, which are PHI here.
  const std::string token = scim::CreateToken(data.path(), "default", {"all"});
  Server server(data.path());
  // The token goes through the environment, never the command line.
  ::setenv("ROSTER_SCIM_TOKEN", token.c_str(), 1);
  const int status = RunCommand("cd '" + dir + "' && ROSTER_SCIM_URL='" + server.base_url() +
                             "/scim/v2' node conformance.mjs",
                         out);
  ::unsetenv("ROSTER_SCIM_TOKEN");
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find(" passed, 0 failed"), std::string::npos) << out;
}

}  // namespace
}  // namespace roster::testing
