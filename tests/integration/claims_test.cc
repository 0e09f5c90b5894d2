// Unique identifiers are claims written in the user's own transaction: concurrent
// writers of one value, through any API and any process, yield exactly one holder,
// the rest get the API's own conflict error, and a value is free again the moment its
// holder lets it go. On PostgreSQL the writers are split over two server processes
// sharing the database; on SQLite they share one process (one file, one writer).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

struct Tally {
  int ok = 0, conflict = 0, other = 0;
};

// Runs send(i) for i in [0, count) at once, one thread and connection each, and counts
// `ok_status`, conflicts `is_conflict` accepts, and everything else.
Tally Race(int count, const std::function<HttpResponse(int)>& send, long ok_status,
           const std::function<bool(const HttpResponse&)>& is_conflict) {
  std::atomic<int> ok{0}, conflict{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      try {
        const HttpResponse r = send(i);
        if (r.status == ok_status) ++ok;
        else if (is_conflict(r)) ++conflict;
        else ++other;
      } catch (const std::exception&) {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  return Tally{ok, conflict, other};
}

// QuickBlox's 422 {"errors":{field:["has already been taken"]}}.
bool QuickBloxTaken(const HttpResponse& r, const std::string& field) {
  if (r.status != 422) return false;
  const json::value j = r.Json();
  const auto* errors = j.is_object() ? j.as_object().if_contains("errors") : nullptr;
  const auto* messages = errors && errors->is_object() ? errors->as_object().if_contains(field) : nullptr;
  return messages && messages->is_array() && !messages->as_array().empty() &&
         messages->as_array()[0] == "has already been taken";
}

// PingOne's 400 INVALID_DATA with a UNIQUENESS_VIOLATION detail on `target`.
bool PingOneTaken(const HttpResponse& r, const std::string& target) {
  if (r.status != 400) return false;
  const json::value j = r.Json();
  if (!j.is_object() || j.as_object().if_contains("details") == nullptr) return false;
  for (const auto& d : j.at("details").as_array())
    if (d.at("code") == "UNIQUENESS_VIOLATION" && d.at("target") == target.c_str()) return true;
  return false;
}

class ClaimsRaceTest : public ::testing::Test {
 protected:
  static constexpr int kWriters = 32;

  void SetUp() override {
    InitDataDir(first_.path());
    if (UsingPostgres()) {
      // A second stateless process: the same master key and database, its own data dir.
      for (const char* file : {"master.key", "roster.toml"})
        std::filesystem::copy_file(first_ / file, second_ / file);
    }
    auto qb = RunRoster({"quickblox", "app", "create", "--env", "default", "--json", "--data-dir", first_.path()});
    ASSERT_EQ(qb.exit_code, 0) << qb.err;
    qb_key_ = std::string(json::parse(qb.out).at("apiKey").as_string());
    auto p1 = RunRoster({"pingone", "app", "create", "--env", "default", "--json", "--data-dir", first_.path()});
    ASSERT_EQ(p1.exit_code, 0) << p1.err;
    const json::value app = json::parse(p1.out);
    env_ = std::string(app.at("environmentId").as_string());
    p1_id_ = std::string(app.at("clientId").as_string());
    p1_secret_ = std::string(app.at("clientSecret").as_string());
    a_ = std::make_unique<Server>(first_.path());
    if (UsingPostgres()) b_ = std::make_unique<Server>(second_.path());
  }

  // Request i goes to server a or b alternately (one server on SQLite).
  const std::string& Url(int i) const { return (b_ && i % 2 ? b_ : a_)->base_url(); }

  Headers QuickBlox() const {
    return {{"Authorization", "ApiKey " + qb_key_}, {"Content-Type", "application/json"}};
  }
  HttpResponse QbCreate(int i, const json::object& user) {
    return Client(Url(i)).Send("POST", "/users.json", json::serialize(json::object{{"user", user}}), QuickBlox());
  }
  HttpResponse QbUpdate(int i, std::int64_t id, const json::object& user) {
    return Client(Url(i)).Send("PUT", "/users/" + std::to_string(id) + ".json",
                               json::serialize(json::object{{"user", user}}), QuickBlox());
  }
  std::int64_t QbUser(const std::string& login) {
    auto r = QbCreate(0, {{"login", login}, {"password", "Passw0rd!"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().at("user").at("id").as_int64();
  }

  Headers PingOne() {
    if (p1_token_.empty()) {
      auto r = Client(a_->base_url())
                   .Send("POST", "/" + env_ + "/as/token",
                         "grant_type=client_credentials&client_id=" + p1_id_ + "&client_secret=" + p1_secret_,
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
      EXPECT_EQ(r.status, 200) << r.body;
      p1_token_ = std::string(r.Json().at("access_token").as_string());
    }
    return {{"Authorization", "Bearer " + p1_token_}, {"Content-Type", "application/json"}};
  }
  std::string P1(const std::string& path) const { return "/v1/environments/" + env_ + path; }

  TempDir first_, second_;
  std::unique_ptr<Server> a_, b_;
  std::string qb_key_, env_, p1_id_, p1_secret_, p1_token_;
};

TEST_F(ClaimsRaceTest, OneQuickBloxExternalUserIdHasExactlyOneHolderAcrossProcesses) {
  const auto created = Race(
      kWriters,
      [&](int i) {
        return QbCreate(i, {{"login", "ext-c" + std::to_string(i)}, {"password", "Passw0rd!"},
                            {"external_user_id", "424242"}});
      },
      201, [](const HttpResponse& r) { return QuickBloxTaken(r, "external_user_id"); });
  EXPECT_EQ(created.ok, 1);
  EXPECT_EQ(created.conflict, kWriters - 1);
  EXPECT_EQ(created.other, 0);

  std::vector<std::int64_t> ids;
  for (int i = 0; i < kWriters; ++i) ids.push_back(QbUser("ext-u" + std::to_string(i)));
  const auto updated = Race(
      kWriters, [&](int i) { return QbUpdate(i, ids[i], {{"external_user_id", "434343"}}); }, 200,
      [](const HttpResponse& r) { return QuickBloxTaken(r, "external_user_id"); });
  EXPECT_EQ(updated.ok, 1);
  EXPECT_EQ(updated.conflict, kWriters - 1);
  EXPECT_EQ(updated.other, 0);

  // The holder, found through the value, deleted: the value is free at once.
  Client c(a_->base_url());
  auto holder = c.Send("GET", "/users/external/434343.json", "", QuickBlox());
  ASSERT_EQ(holder.status, 200) << holder.body;
  const auto holder_id = holder.Json().at("user").at("id").as_int64();
  EXPECT_EQ(c.Send("DELETE", "/users/" + std::to_string(holder_id) + ".json", "", QuickBlox()).status, 200);
  EXPECT_EQ(c.Send("GET", "/users/external/434343.json", "", QuickBlox()).status, 404);
  auto again = QbUpdate(1, ids[holder_id == ids[0] ? 1 : 0], {{"external_user_id", "434343"}});
  EXPECT_EQ(again.status, 200) << again.body;
}

TEST_F(ClaimsRaceTest, OneQuickBloxEmailHasExactlyOneHolderAcrossProcesses) {
  const auto created = Race(
      kWriters,
      [&](int i) {
        return QbCreate(i, {{"login", "mail-c" + std::to_string(i)}, {"password", "Passw0rd!"},
                            {"email", i % 2 ? "Same@Example.com" : "same@example.com"}});
      },
      201, [](const HttpResponse& r) { return QuickBloxTaken(r, "email"); });
  EXPECT_EQ(created.ok, 1);
  EXPECT_EQ(created.conflict, kWriters - 1);
  EXPECT_EQ(created.other, 0);

  std::vector<std::int64_t> ids;
  for (int i = 0; i < kWriters; ++i) ids.push_back(QbUser("mail-u" + std::to_string(i)));
  const auto updated = Race(
      kWriters, [&](int i) { return QbUpdate(i, ids[i], {{"email", "moved@example.com"}}); }, 200,
      [](const HttpResponse& r) { return QuickBloxTaken(r, "email"); });
  EXPECT_EQ(updated.ok, 1);
  EXPECT_EQ(updated.conflict, kWriters - 1);
  EXPECT_EQ(updated.other, 0);

  Client c(a_->base_url());
  auto holder = c.Send("GET", "/users/by_email.json?email=moved%40example.com", "", QuickBlox());
  ASSERT_EQ(holder.status, 200) << holder.body;
  const auto holder_id = holder.Json().at("user").at("id").as_int64();
  // The holder changes its email: the old one is free in the same write.
  EXPECT_EQ(QbUpdate(0, holder_id, {{"email", "elsewhere@example.com"}}).status, 200);
  auto again = QbUpdate(1, ids[holder_id == ids[0] ? 1 : 0], {{"email", "moved@example.com"}});
  EXPECT_EQ(again.status, 200) << again.body;
}

TEST_F(ClaimsRaceTest, OneUniqueSchemaAttributeValueHasExactlyOneHolderAcrossProcesses) {
  Client c(a_->base_url());
  auto schemas = c.Send("GET", P1("/schemas"), "", PingOne());
  ASSERT_EQ(schemas.status, 200) << schemas.body;
  const std::string schema_id(schemas.Json().at("_embedded").at("schemas").as_array()[0].at("id").as_string());
  auto declared = c.Send("POST", P1("/schemas/" + schema_id + "/attributes"),
                         R"({"name":"badge","type":"STRING","enabled":true,"unique":true})", PingOne());
  ASSERT_EQ(declared.status, 201) << declared.body;
  const Headers auth = PingOne();

  const auto created = Race(
      kWriters,
      [&](int i) {
        return Client(Url(i)).Send("POST", P1("/users"),
                                   json::serialize(json::object{{"username", "badge-c" + std::to_string(i)},
                                                                {"badge", i % 2 ? "B-7" : "b-7"}}),
                                   auth);
      },
      201, [](const HttpResponse& r) { return PingOneTaken(r, "badge"); });
  EXPECT_EQ(created.ok, 1);
  EXPECT_EQ(created.conflict, kWriters - 1);
  EXPECT_EQ(created.other, 0);

  std::vector<std::string> ids;
  for (int i = 0; i < kWriters; ++i) {
    auto r = c.Send("POST", P1("/users"), json::serialize(json::object{{"username", "badge-u" + std::to_string(i)}}),
                    auth);
    ASSERT_EQ(r.status, 201) << r.body;
    ids.emplace_back(r.Json().at("id").as_string());
  }
  const auto updated = Race(
      kWriters,
      [&](int i) { return Client(Url(i)).Send("PATCH", P1("/users/" + ids[i]), R"({"badge":"B-8"})", auth); }, 200,
      [](const HttpResponse& r) { return PingOneTaken(r, "badge"); });
  EXPECT_EQ(updated.ok, 1);
  EXPECT_EQ(updated.conflict, kWriters - 1);
  EXPECT_EQ(updated.other, 0);

  // The holder deleted: the value is free at once.
  std::string holder;
  for (const auto& id : ids) {
    auto r = c.Send("GET", P1("/users/" + id), "", auth);
    if (r.Json().as_object().if_contains("badge") != nullptr) holder = id;
  }
  ASSERT_FALSE(holder.empty());
  EXPECT_EQ(c.Send("DELETE", P1("/users/" + holder), "", auth).status, 204);
  const std::string other = holder == ids[0] ? ids[1] : ids[0];
  auto again = c.Send("PATCH", P1("/users/" + other), R"({"badge":"b-8"})", auth);
  EXPECT_EQ(again.status, 200) << again.body;
}

}  // namespace
}  // namespace roster::testing
