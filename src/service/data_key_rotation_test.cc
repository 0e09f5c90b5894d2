#include "service/data_key_rotation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>

#include "service/associated_data.h"
#include "service/record_service.h"
#include "service/run_lease.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

// The store's re-keying port, with a hook that runs once after the next listing (a
// server writing a row between the pass's read and its replacement).
class HookedResealStore final : public store::ResealStore {
 public:
  explicit HookedResealStore(store::ResealStore& inner) : inner_(inner) {}
  core::Result<std::vector<store::SealedValue>> ListSealed(store::SealedTable table, const std::string& env,
                                                           std::int64_t after, int limit) override {
    auto rows = inner_.ListSealed(table, env, after, limit);
    if (after_list && table == store::SealedTable::kUsers) std::exchange(after_list, nullptr)();
    return rows;
  }
  core::Result<bool> ReplaceSealed(store::SealedTable table, const std::string& env, std::int64_t number,
                                   const std::string& expected, const std::string& replacement) override {
    return inner_.ReplaceSealed(table, env, number, expected, replacement);
  }
  core::Result<IndexBatch> ListIndexEntries(store::IndexTable table, const std::string& env, std::int64_t generation,
                                            std::int64_t after, int rows) override {
    return inner_.ListIndexEntries(table, env, generation, after, rows);
  }
  core::Result<std::int64_t> CopyIndexEntries(store::IndexTable table, const std::string& env, std::int64_t generation,
                                              const std::vector<store::IndexCopy>& copies) override {
    return inner_.CopyIndexEntries(table, env, generation, copies);
  }
  core::Result<std::map<std::int64_t, std::int64_t>> CountIndexGenerations(store::IndexTable table,
                                                                           const std::string& env) override {
    return inner_.CountIndexGenerations(table, env);
  }
  core::Result<std::int64_t> DropIndexGenerations(const std::string& env, std::int64_t keep) override {
    return inner_.DropIndexGenerations(env, keep);
  }
  std::function<void()> after_list;

 private:
  store::ResealStore& inner_;
};

class DataKeyRotationTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  DataKeyRotationTest()
      : ServiceFixture("roster-rot-", {60'000, 3'600'000}) {
    env_ = directory_.CreateEnvironment("default")->id;
    options_.sleep = [this](std::int64_t ms) { clock_.now += ms; };  // no real waiting
    options_.rows_per_second = 8;  // batches of two rows
  }

  std::string CreateUser(const std::string& username) {
    CreateUserRequest r;
    r.environment_id = env_;
    r.user.username = username;
    r.user.profile.emails = {{"home", username + "@example.com", true}};
    r.user.profile.ssn = "123-45-6789";
    auto created = users_.Create(r);
    EXPECT_TRUE(created.has_value());
    return created ? created->user.id : "";
  }

  void Populate() {
    for (const char* name : {"ada", "bob", "cy", "dee", "eve"}) ids_.push_back(CreateUser(name));
    NewRecordRequest group;
    group.environment_id = env_;
    group.kind = "group";
    group.body = boost::json::object{{"name", "nurses"}};
    auto g = records_.Create(group);
    ASSERT_TRUE(g.has_value());
    ASSERT_TRUE(records_.SendMail(env_, Mail{"ada@example.com", "hello", "secret body"}).has_value());
  }

  // Every sealed row of the environment, and whether it opens under `key` alone.
  int RowsOpeningUnder(const crypto::SecretKey& key, int* total) {
    int opening = 0;
    *total = 0;
    for (auto table : {store::SealedTable::kUsers, store::SealedTable::kRecords, store::SealedTable::kMail}) {
      auto rows = store_->ListSealed(table, env_, 0, 1000);
      EXPECT_TRUE(rows.has_value());
      for (const auto& v : *rows) {
        ++*total;
        const std::string ad = table == store::SealedTable::kUsers     ? ProfileAssociatedData(env_, v.id)
                               : table == store::SealedTable::kRecords ? RecordAssociatedData(env_, v.kind, v.id)
                                                                       : MailAssociatedData(env_);
        if (crypto::Open(key, v.sealed, ad)) ++opening;
      }
    }
    return opening;
  }

  std::string env_;
  std::vector<std::string> ids_;
  DataKeyRotationOptions options_;
};

TEST_F(DataKeyRotationTest, ReSealsEveryRowUnderTheNewKeyAndDropsTheOldOne) {
  Populate();
  const crypto::SecretKey old_key = directory_.KeysFor(env_)->data;
  std::vector<core::User> before;
  for (const auto& id : ids_) before.push_back(*users_.Get(env_, id));
  std::vector<std::string> phases;
  options_.progress = [&](const DataKeyRotationProgress& p) { phases.push_back(p.phase); };

  auto done = RotateDataKey(directory_, records_, *store_, clock_, env_, options_);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->phase, "done");
  EXPECT_EQ(done->keys, 1);
  EXPECT_EQ(*directory_.DataKeyCount(env_), 1u);
  EXPECT_GE(done->resealed, 7);  // five users, the group, the mail (and the settings record)
  EXPECT_EQ(done->unreadable, 0);
  EXPECT_EQ(phases.front(), "settling");  // waited for servers before re-sealing
  EXPECT_NE(std::find(phases.begin(), phases.end(), "verifying"), phases.end());

  const crypto::SecretKey new_key = directory_.KeysFor(env_)->data;
  int total = 0;
  EXPECT_EQ(RowsOpeningUnder(old_key, &total), 0);
  EXPECT_EQ(RowsOpeningUnder(new_key, &total), total);
  EXPECT_GE(total, 8);
  // Every user reads as before: same profile, same version (ETag), same updated time.
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    auto after = users_.Get(env_, ids_[i]);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->username, before[i].username);
    EXPECT_EQ(after->profile.ssn, "123-45-6789");
    EXPECT_EQ(after->version, before[i].version);
    EXPECT_EQ(after->updated_at_ms, before[i].updated_at_ms);
  }
  auto mail = test_support::TakeOutbox(*store_, directory_, env_, clock_.now);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].body, "secret body");
  // Uniqueness still holds: the blind indexes did not move.
  CreateUserRequest dup;
  dup.environment_id = env_;
  dup.user.username = "ADA";
  EXPECT_EQ(users_.Create(dup).error().code, core::ErrorCode::kAlreadyExists);
  auto status = DataKeyRotationStatus(directory_, records_, env_);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->phase, "done");
}

TEST_F(DataKeyRotationTest, AnInterruptedRotationResumesWhereItStoppedAndLosesNoRow) {
  Populate();
  const crypto::SecretKey old_key = directory_.KeysFor(env_)->data;
  // Interrupt after every few batches (as a kill would), then run again, until done.
  int batches = 0, runs = 0;
  options_.progress = [&](const DataKeyRotationProgress& p) {
    if (p.phase != "settling" && p.phase != "done" && ++batches % 3 == 0) throw std::runtime_error("killed");
  };
  core::Result<DataKeyRotationProgress> result = core::Internal("not run");
  for (; runs < 30; ++runs) {
    try {
      result = RotateDataKey(directory_, records_, *store_, clock_, env_, options_);
      break;
    } catch (const std::runtime_error&) {
      auto status = DataKeyRotationStatus(directory_, records_, env_);
      ASSERT_TRUE(status.has_value());
      EXPECT_NE(status->phase, "none");
      EXPECT_EQ(status->keys, 2);  // the old key stays until the end
      for (const auto& id : ids_) EXPECT_TRUE(users_.Get(env_, id).has_value());  // readable throughout
    }
  }
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_GT(runs, 1);
  EXPECT_EQ(result->phase, "done");
  EXPECT_EQ(*directory_.DataKeyCount(env_), 1u);
  int total = 0;
  EXPECT_EQ(RowsOpeningUnder(old_key, &total), 0);
  EXPECT_EQ(RowsOpeningUnder(directory_.KeysFor(env_)->data, &total), total);
  for (const auto& id : ids_) EXPECT_TRUE(users_.Get(env_, id).has_value());
}

// One run at a time (run_lease.h): two runs at once would each add a key, and the first
// to finish would drop the key the other had just re-sealed rows under.
TEST_F(DataKeyRotationTest, ASecondRunIsRefusedBeforeItChangesAnythingUntilTheFirstIsGone) {
  Populate();
  const RunnerId me = ThisRunner();
  // Another live process of this host (the test's parent) holds the run.
  const RunnerId other{"another-run", me.host, static_cast<std::int64_t>(::getppid())};
  ASSERT_TRUE(SaveRunState(records_, env_, "dataKeyRotation", boost::json::object{{"phase", "settling"}}, other,
                           clock_.now, "x")
                  .has_value());
  auto refused = RotateDataKey(directory_, records_, *store_, clock_, env_, options_);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message.find("another run is doing the data-key rotation of this environment (process " +
                                         std::to_string(other.pid) + " on " + me.host),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(*directory_.DataKeyCount(env_), 1u);  // no key added

  // A run in progress here refuses a second one started while it runs.
  std::optional<core::Error> second;
  options_.progress = [&](const DataKeyRotationProgress& p) {
    if (p.phase != "resealing" || second) return;
    DataKeyRotationOptions again = options_;
    again.progress = nullptr;
    again.runner = other;
    auto r = RotateDataKey(directory_, records_, *store_, clock_, env_, again);
    second = r ? core::Error{} : r.error();
  };
  clock_.now += kRunLeaseMs + 1;  // the other's claim has expired: this run takes over
  auto done = RotateDataKey(directory_, records_, *store_, clock_, env_, options_);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->phase, "done");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->code, core::ErrorCode::kFailedPrecondition) << second->message;
  EXPECT_EQ(*directory_.DataKeyCount(env_), 1u);
  for (const auto& id : ids_) EXPECT_TRUE(users_.Get(env_, id).has_value());

  // The finished run released its claim: the next rotation starts at once, as does one
  // whose claim is held by a process of this host that is gone (killed).
  options_.progress = nullptr;
  ASSERT_TRUE(RotateDataKey(directory_, records_, *store_, clock_, env_, options_).has_value());
  const RunnerId killed{"killed-run", me.host, 0x3fffffff};  // beyond pid_max: no such process
  ASSERT_TRUE(SaveRunState(records_, env_, "dataKeyRotation", boost::json::object{{"phase", "done"}}, killed,
                           clock_.now, "x")
                  .has_value());
  auto resumed = RotateDataKey(directory_, records_, *store_, clock_, env_, options_);
  ASSERT_TRUE(resumed.has_value()) << resumed.error().message;
  EXPECT_EQ(resumed->phase, "done");
  for (const auto& id : ids_) EXPECT_EQ(users_.Get(env_, id)->profile.ssn, "123-45-6789");
}

TEST_F(DataKeyRotationTest, ARowChangedDuringThePassIsKeptAndLookedAtAgain) {
  Populate();
  HookedResealStore hooked(*store_);
  hooked.after_list = [&] {
    // A server updates ada between the pass's read and its replacement.
    ASSERT_TRUE(users_
                    .Update(env_, ids_[0],
                            [](core::User& u) -> core::Status {
                              u.profile.gender = "Female";
                              return {};
                            },
                            std::nullopt)
                    .has_value());
  };
  auto done = RotateDataKey(directory_, records_, hooked, clock_, env_, options_);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->changed, 1);
  EXPECT_EQ(done->phase, "done");
  auto ada = users_.Get(env_, ids_[0]);
  ASSERT_TRUE(ada.has_value());
  EXPECT_EQ(ada->profile.gender, "Female");  // the server's write won
  EXPECT_EQ(ada->version, 2);
  int total = 0;
  EXPECT_EQ(RowsOpeningUnder(directory_.KeysFor(env_)->data, &total), total);
}

TEST_F(DataKeyRotationTest, AnotherProcessSealsUnderTheNewKeyWithinTheTtlAndOpensItsRowsAtOnce) {
  Populate();
  // A second server on the same database, with its own key cache.
  DirectoryService server(*store_, keyring_, clock_);
  UserService server_users(*store_, server, keyring_, hasher_, clock_, {60'000, 3'600'000});
  const crypto::SecretKey old_key = server.KeysFor(env_)->data;
  ASSERT_EQ(*directory_.AddDataKey(env_), 2u);  // what a rotation does first
  const crypto::SecretKey new_key = directory_.KeysFor(env_)->data;
  EXPECT_FALSE(crypto::SecretsEqual(std::string_view(reinterpret_cast<const char*>(old_key.data()), 32),
                                    std::string_view(reinterpret_cast<const char*>(new_key.data()), 32)));
  // A row sealed under a key the server has not cached yet opens there (one refresh).
  const std::string fay = CreateUser("fay");
  auto read = server_users.Get(env_, fay);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(read->username, "fay");
  // And within kDataKeyTtlMs the server seals under the newest key.
  clock_.now += DirectoryService::kDataKeyTtlMs;
  EXPECT_TRUE(crypto::SecretsEqual(
      std::string_view(reinterpret_cast<const char*>(server.KeysFor(env_)->data.data()), 32),
      std::string_view(reinterpret_cast<const char*>(new_key.data()), 32)));
  EXPECT_EQ(server.KeysFor(env_)->older.size(), 1u);
  // Adding again while a rotation is under way keeps the keys (a resumed rotation).
  EXPECT_EQ(*directory_.AddDataKey(env_), 2u);
  ASSERT_TRUE(directory_.DropOlderDataKeys(env_).has_value());
  EXPECT_EQ(*directory_.DataKeyCount(env_), 1u);
}

TEST_F(DataKeyRotationTest, StatusOfAnEnvironmentNeverRotatedIsNone) {
  auto status = DataKeyRotationStatus(directory_, records_, env_);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->phase, "none");
  EXPECT_EQ(status->keys, 1);
  EXPECT_EQ(DataKeyRotationStatus(directory_, records_, "missing").error().code, core::ErrorCode::kNotFound);
}

}  // namespace
}  // namespace roster::service
