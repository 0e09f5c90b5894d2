// User lists over one environment larger than the query engine's read budget (1000
// users per request): QuickBlox keyset pages and `next_filter`, CommCare's `cursor` in
// meta.next, PingOne's `_links.next`; each request reads at most the budget.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "integration/harness.h"
#include "integration/scim_support.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

constexpr int kUsers = 1005;  // the budget (1000) and five more

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? kAlphabet[v & 63] : '=');
  }
  return out;
}

std::string Str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

class LargeListTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    InitDataDir(dir_->path());
    auto run = [](const std::vector<std::string>& args) {
      auto r = RunRoster(args);
      if (r.exit_code != 0) throw std::runtime_error(args[0] + " failed: " + r.err);
      return json::parse(r.out);
    };
    const auto web = run({"commcare", "web-user", "create", "--domain", "lists", "--email", "admin@example.org",
                          "--data-dir", dir_->path(), "--json"});
    commcare_auth_ = "ApiKey " + Str(web, "username") + ":" + Str(web, "apiKey");
    qb_key_ = Str(run({"quickblox", "app", "create", "--env", "lists", "--data-dir", dir_->path(), "--json"}), "apiKey");
    const auto p1 = run({"pingone", "app", "create", "--env", "lists", "--data-dir", dir_->path(), "--json"});
    env_ = Str(p1, "environmentId");
    scim_token_ = scim::CreateToken(dir_->path(), "lists");
    server_ = new Server(dir_->path());

    Client client(server_->base_url());
    auto token = client.Send("POST", "/" + env_ + "/as/token", "grant_type=client_credentials",
                             {{"Authorization", "Basic " + Base64(Str(p1, "clientId") + ":" + Str(p1, "clientSecret"))},
                              {"Content-Type", "application/x-www-form-urlencoded"}});
    if (token.status != 200) throw std::runtime_error("token: " + token.body);
    bearer_ = "Bearer " + Str(token.Json(), "access_token");
    for (int i = 0; i < kUsers; ++i) {
      const std::string body = R"({"username":"big-)" + std::to_string(i) + R"(","name":{"given":"Big","family":"User )" +
                               std::to_string(i) + R"("}})";
      auto r = client.Send("POST", "/v1/environments/" + env_ + "/users", body,
                           {{"Authorization", bearer_}, {"Content-Type", "application/json"}});
      if (r.status != 201) throw std::runtime_error("create: " + r.body);
    }
    // QuickBlox ids are the users' numbers, in creation order.
    auto all = client.Send("GET", "/users.json?per_page=100&page=1", "", {{"Authorization", "ApiKey " + qb_key_}});
    first_number_ = all.Json().at("items").as_array()[0].at("user").at("id").as_int64();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  json::object Qb(const std::string& query) {
    auto r = client_.Send("GET", "/users.json?" + query, "", {{"Authorization", "ApiKey " + qb_key_}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().as_object();
  }
  static std::vector<std::string> Logins(const json::object& page) {
    std::vector<std::string> out;
    for (const auto& item : page.at("items").as_array()) out.push_back(Str(item.at("user"), "login"));
    return out;
  }
  json::object CommCare(const std::string& path_and_query) {
    auto r = client_.Send("GET", path_and_query, "", {{"Authorization", commcare_auth_}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().as_object();
  }

  static TempDir* dir_;
  static Server* server_;
  static std::string env_, bearer_, qb_key_, commcare_auth_, scim_token_;
  static std::int64_t first_number_;
  Client client_{server_->base_url()};
};

TempDir* LargeListTest::dir_ = nullptr;
Server* LargeListTest::server_ = nullptr;
std::string LargeListTest::env_, LargeListTest::bearer_, LargeListTest::qb_key_, LargeListTest::commcare_auth_,
    LargeListTest::scim_token_;
std::int64_t LargeListTest::first_number_ = 0;

TEST_F(LargeListTest, QuickBloxUnfilteredPagesAreKeysetPagesAtAnyDepth) {
  auto page = Qb("per_page=10&page=101");
  EXPECT_EQ(page.at("total_entries").as_int64(), kUsers);
  EXPECT_EQ(Logins(page), (std::vector<std::string>{"big-1000", "big-1001", "big-1002", "big-1003", "big-1004"}));
  EXPECT_FALSE(page.contains("next_filter"));
  page = Qb("per_page=3&order=desc%20number%20id");
  EXPECT_EQ(Logins(page), (std::vector<std::string>{"big-1004", "big-1003", "big-1002"}));
  page = Qb("per_page=3&page=335&order=desc%20number%20id");  // positions 1..3 from the start
  EXPECT_EQ(Logins(page), (std::vector<std::string>{"big-2", "big-1", "big-0"}));
  EXPECT_EQ(Logins(Qb("per_page=3&page=335&order=desc%20created_at")).back(), "big-0");  // created_at: id order
  EXPECT_TRUE(Qb("per_page=3&page=336&order=desc%20created_at").at("items").as_array().empty());
  EXPECT_TRUE(Qb("per_page=10&page=102").at("items").as_array().empty());
}

TEST_F(LargeListTest, QuickBloxFilteredListsReadOneWindowAndSayWhereToGoOn) {
  auto page = Qb("filter[]=string%20full_name%20eq%20Big%20User%201003");
  EXPECT_EQ(page.at("total_entries").as_int64(), 0);
  ASSERT_TRUE(page.contains("next_filter")) << json::serialize(page);
  const std::string next = Str(page, "next_filter");
  EXPECT_EQ(next, "number id gt " + std::to_string(first_number_ + 999));  // the 1000th user
  std::string encoded;
  for (char c : next) encoded += c == ' ' ? std::string("%20") : std::string(1, c);
  page = Qb("filter[]=string%20full_name%20eq%20Big%20User%201003&filter[]=" + encoded);
  EXPECT_EQ(page.at("total_entries").as_int64(), 1);
  EXPECT_EQ(Logins(page), std::vector<std::string>{"big-1003"});
  EXPECT_FALSE(page.contains("next_filter"));
  // Narrowed by the blind index: no window at all.
  page = Qb("filter[]=string%20login%20eq%20BIG-1004");
  EXPECT_EQ(Logins(page), std::vector<std::string>{"big-1004"});
  EXPECT_FALSE(page.contains("next_filter"));
}

TEST_F(LargeListTest, CommCareFollowsTheCursorPastTheBudget) {
  const std::string list = "/a/lists/api/v0.5/user/";
  auto first = CommCare(list + "?limit=10&offset=995");
  auto names = [](const json::object& page) {
    std::vector<std::string> out;
    for (const auto& o : page.at("objects").as_array()) out.push_back(Str(o, "first_name") + Str(o, "last_name"));
    return out;
  };
  const auto& meta = first.at("meta").as_object();
  EXPECT_EQ(names(first).size(), 5u);  // users 995..999: the budget ended the walk there
  EXPECT_EQ(meta.at("total_count").as_int64(), 1000);  // so far
  const std::string next = Str(meta, "next");
  EXPECT_NE(next.find("offset=1000&cursor=" + std::to_string(first_number_ + 999)), std::string::npos) << next;
  auto second = CommCare(next);
  EXPECT_EQ(names(second).size(), 5u);  // 1000..1004
  EXPECT_EQ(second.at("meta").at("total_count").as_int64(), kUsers);
  EXPECT_TRUE(second.at("meta").at("next").is_null());

  // An offset past the budget is reached over two requests.
  auto deep = CommCare(list + "?limit=2&offset=1002");
  EXPECT_TRUE(deep.at("objects").as_array().empty());
  const std::string go_on = Str(deep.at("meta"), "next");
  EXPECT_NE(go_on.find("offset=1002&cursor=" + std::to_string(first_number_ + 999) + ".2"), std::string::npos) << go_on;
  auto reached = CommCare(go_on);
  EXPECT_EQ(names(reached), (std::vector<std::string>{"BigUser 1002", "BigUser 1003"}));
  EXPECT_EQ(reached.at("meta").at("total_count").as_int64(), kUsers);
  EXPECT_NE(Str(reached.at("meta"), "next").find("offset=1004&cursor="), std::string::npos);

  auto bad = client_.Send("GET", list + "?cursor=x", "", {{"Authorization", commcare_auth_}});
  EXPECT_EQ(bad.status, 400) << bad.body;
}

TEST_F(LargeListTest, PingOneFilteredPagesFollowNextWithinTheBudget) {
  // A one-letter prefix is not indexed, so this "or" is a scan of the budget, then _links.next.
  const std::string path = "/v1/environments/" + env_ + "/users?limit=5&filter=" +
                           std::string("name.family%20sw%20%22User%201002%22%20or%20name.given%20sw%20%22x%22");
  auto r = client_.Send("GET", path, "", {{"Authorization", bearer_}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto page = r.Json().as_object();
  ASSERT_EQ(page.at("size").as_int64(), 0) << r.body;  // 1000 users read, none matched yet
  const std::string next = Str(page.at("_links").at("next"), "href");
  r = client_.Send("GET", next.substr(next.find("/v1/")), "", {{"Authorization", bearer_}});
  ASSERT_EQ(r.status, 200) << r.body;
  page = r.Json().as_object();
  ASSERT_EQ(page.at("size").as_int64(), 1);
  EXPECT_EQ(Str(page.at("_embedded").at("users").as_array()[0], "username"), "big-1002");
  EXPECT_FALSE(page.at("_links").as_object().contains("next"));
}

// Names and usernames are searched through the prefix blind index: the whole result in
// one request, however deep in the environment the matches are.
TEST_F(LargeListTest, EveryApiAnswersAPrefixSearchInOneRequest) {
  auto pingone = [&](const std::string& filter) {
    auto r = client_.Send("GET", "/v1/environments/" + env_ + "/users?limit=20&filter=" + filter, "",
                          {{"Authorization", bearer_}});
    EXPECT_EQ(r.status, 200) << r.body;
    auto body = r.Json();
    std::vector<std::string> out;
    const auto& links = body.at("_links").as_object();
    EXPECT_FALSE(links.contains("next")) << filter;
    if (body.as_object().contains("_embedded"))
      for (const auto& u : body.at("_embedded").at("users").as_array()) out.push_back(Str(u, "username"));
    return out;
  };
  // "User 100" prefixes users 100 and 1000..1004: the last ones lie past the read budget.
  EXPECT_EQ(pingone("name.family%20sw%20%22user%20100%22"),
            (std::vector<std::string>{"big-100", "big-1000", "big-1001", "big-1002", "big-1003", "big-1004"}));
  EXPECT_EQ(pingone("name.family%20eq%20%22USER%201002%22"), std::vector<std::string>{"big-1002"});
  EXPECT_EQ(pingone("username%20sw%20%22BIG-1003%22%20or%20username%20sw%20%22big-1004%22"),
            (std::vector<std::string>{"big-1003", "big-1004"}));

  scim::ScimClient scim(server_->base_url(), scim_token_);
  auto r = scim.Send("GET", "/Users?filter=name.familyName%20sw%20%22User%20100%22&count=50");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.Json();
  EXPECT_EQ(body.at("totalResults").as_int64(), 6) << r.body;
  r = scim.Send("GET", "/Users?filter=userName%20sw%20%22big-1004%22%20and%20name.familyName%20eq%20%22user%201004%22");
  ASSERT_EQ(r.status, 200) << r.body;
  body = r.Json();
  EXPECT_EQ(body.at("totalResults").as_int64(), 1) << r.body;

  // QuickBlox: `in` over logins is a union of blind-index lookups, no window.
  auto page = Qb("filter[]=string%20login%20in%20big-1004,BIG-3");
  EXPECT_EQ(Logins(page), (std::vector<std::string>{"big-3", "big-1004"}));
  EXPECT_FALSE(page.contains("next_filter"));
}

}  // namespace
}  // namespace roster::testing
