#include "integration/scim_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>

namespace roster::testing::scim {

namespace json = boost::json;

std::string CreateToken(const std::string& data_dir, const std::string& env, const std::vector<std::string>& scopes) {
  std::vector<std::string> args = {"scim", "token", "create", "--env", env};
  for (const auto& s : scopes) args.insert(args.end(), {"--scope", s});
  args.insert(args.end(), {"--json", "--data-dir", data_dir});
  auto r = RunRoster(args);
  if (r.exit_code != 0) throw std::runtime_error("roster scim token create failed: " + r.err);
  return std::string(json::parse(r.out).at("token").as_string());
}

std::string Unique(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(::getpid() % 100000) + "x" + std::to_string(counter++);
}

HttpResponse ScimClient::Send(const std::string& method, const std::string& path, const std::string& body,
                              Headers extra) {
  Headers h = {{"Authorization", "Bearer " + token_}, {"Accept", "application/scim+json"}};
  if (!body.empty()) h.emplace_back("Content-Type", "application/scim+json");
  h.insert(h.end(), extra.begin(), extra.end());
  return client_.Send(method, "/scim/v2" + path, body, h);
}

std::string Str(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const auto* m = v.as_object().if_contains(key);
  return m != nullptr && m->is_string() ? std::string(m->as_string()) : std::string();
}

void ExpectError(const HttpResponse& r, long status, const std::string& scim_type, const std::string& mentions) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/scim+json") << r.body;
  const json::value j = r.Json();
  ASSERT_TRUE(j.is_object()) << r.body;
  ASSERT_TRUE(j.as_object().contains("schemas")) << r.body;
  EXPECT_EQ(j.at("schemas"), (json::array{kErrorSchema})) << r.body;
  EXPECT_EQ(Str(j, "status"), std::to_string(status)) << r.body;
  EXPECT_FALSE(Str(j, "detail").empty()) << r.body;
  if (!scim_type.empty()) EXPECT_EQ(Str(j, "scimType"), scim_type) << r.body;
  if (!mentions.empty()) EXPECT_NE(Str(j, "detail").find(mentions), std::string::npos) << r.body;
}

json::array ExpectList(const HttpResponse& r, std::int64_t total) {
  EXPECT_EQ(r.status, 200) << r.body;
  const json::value j = r.Json();
  if (!j.is_object() || !j.as_object().contains("totalResults")) {
    ADD_FAILURE() << "not a ListResponse: " << r.body;
    return {};
  }
  EXPECT_EQ(j.at("schemas"), (json::array{kListResponse})) << r.body;
  EXPECT_TRUE(j.at("totalResults").is_int64()) << r.body;
  EXPECT_EQ(j.at("totalResults").to_number<std::int64_t>(), total) << r.body;
  const auto* resources = j.as_object().if_contains("Resources");
  if (resources == nullptr) {
    // §3.4.2: Resources MAY be left out when there are none; Entra and Okta show it empty.
    EXPECT_EQ(total, 0) << r.body;
    return {};
  }
  EXPECT_TRUE(resources->is_array()) << r.body;
  return resources->is_array() ? resources->as_array() : json::array{};
}

}  // namespace roster::testing::scim
