#include "service/index_key_rotation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "service/index_keys.h"
#include "service/record_service.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

using test_support::FakeClock;
using test_support::TempSqliteStore;

// A server: its own key cache over the shared store and clock.
struct Server {
  Server(store::Store& store, crypto::Keyring& keyring, crypto::PasswordHasher& hasher, FakeClock& clock)
      : directory(store, keyring, clock),
        users(store, directory, keyring, hasher, clock, {60'000, 3'600'000}),
        records(store, directory, clock) {}
  DirectoryService directory;
  UserService users;
  RecordService records;
};

class IndexKeyRotationTest : public ::testing::Test {
 protected:
  IndexKeyRotationTest()
      : store_("roster-irot-"),
        keyring_(crypto::SecretKey::Random()),
        hasher_({1, 8 * 1024 * 1024}),
        a_(*store_, keyring_, hasher_, clock_),
        b_(*store_, keyring_, hasher_, clock_) {
    env_ = a_.directory.CreateEnvironment("default")->id;
    options_.sleep = [this](std::int64_t ms) { clock_.now += ms; };  // no real waiting
    options_.rows_per_second = 8;  // batches of two rows
  }

  core::Result<CreatedUser> Create(Server& s, const std::string& username) {
    CreateUserRequest r;
    r.environment_id = env_;
    r.user.username = username;
    r.user.profile.emails = {{"home", username + "@example.com", true}};
    return s.users.Create(r);
  }

  void Populate() {
    for (const char* name : {"ada", "bob", "cy", "dee", "eve"}) {
      auto created = Create(a_, name);
      ASSERT_TRUE(created.has_value()) << created.error().message;
      names_.push_back(name);
    }
    NewRecordRequest group;
    group.environment_id = env_;
    group.kind = "group";
    group.body = boost::json::object{{"name", "nurses"}};
    group.claims = {{"group.name", "nurses", true}};
    ASSERT_TRUE(a_.records.Create(group).has_value());
  }

  // Entries per generation, users' and records' together.
  std::map<std::int64_t, std::int64_t> Generations() {
    std::map<std::int64_t, std::int64_t> out;
    for (auto t : {store::IndexTable::kUsers, store::IndexTable::kRecords}) {
      auto counts = store_->CountIndexGenerations(t, env_);
      EXPECT_TRUE(counts.has_value());
      if (counts)
        for (const auto& [g, n] : *counts) out[g] += n;
    }
    return out;
  }

  // Every user is found by username and email, and the group by its name, on `s`.
  void ExpectEveryoneFound(Server& s) {
    for (const auto& name : names_) {
      auto by_name = s.users.FindBy(env_, kUsernameClaim, name);
      ASSERT_TRUE(by_name.has_value()) << name;
      EXPECT_EQ(by_name->size(), 1u) << name;
      auto by_email = s.users.FindBy(env_, kEmailClaim, name + "@example.com");
      ASSERT_TRUE(by_email.has_value()) << name;
      EXPECT_EQ(by_email->size(), 1u) << name;
    }
    auto group = s.records.Find(env_, "group.name", "nurses");
    ASSERT_TRUE(group.has_value());
    EXPECT_EQ(group->size(), 1u);
  }

  // A taken username and a taken group name are refused on `s`.
  void ExpectUniquenessEnforced(Server& s) {
    auto dup = Create(s, "ADA");
    ASSERT_FALSE(dup.has_value());
    EXPECT_EQ(dup.error().code, core::ErrorCode::kAlreadyExists);
    NewRecordRequest group;
    group.environment_id = env_;
    group.kind = "group";
    group.body = boost::json::object{{"name", "nurses"}};
    group.claims = {{"group.name", "nurses", true}};
    auto g = s.records.Create(group);
    ASSERT_FALSE(g.has_value());
    EXPECT_EQ(g.error().code, core::ErrorCode::kAlreadyExists);
  }

  FakeClock clock_;
  TempSqliteStore store_;
  crypto::Keyring keyring_;
  crypto::PasswordHasher hasher_;
  Server a_, b_;
  std::string env_;
  std::vector<std::string> names_;
  IndexKeyRotationOptions options_;
};

TEST_F(IndexKeyRotationTest, ReIndexesEveryClaimUnderTheNewGenerationAndDropsTheOld) {
  Populate();
  EXPECT_EQ(Generations().size(), 1u);
  const std::int64_t entries = Generations()[0];
  std::vector<std::string> phases;
  options_.progress = [&](const IndexKeyRotationProgress& p) {
    if (phases.empty() || phases.back() != p.phase) phases.push_back(p.phase);
  };
  auto done = RotateIndexKey(a_.directory, a_.records, *store_, clock_, env_, options_);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->phase, "done");
  EXPECT_EQ(done->generation, 1);
  EXPECT_GE(done->visited, 6);
  EXPECT_EQ(done->dropped, done->copied);  // every old entry had its copy
  EXPECT_EQ(phases, (std::vector<std::string>{"settling", "copying", "switching", "dropping", "done"}));
  // Only generation 1 is left, as many entries as before (the settings record's included).
  const auto after = Generations();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after.begin()->first, 1);
  EXPECT_GE(after.begin()->second, entries);
  EXPECT_EQ(a_.directory.KeysFor(env_)->index_read, 1);
  ExpectEveryoneFound(a_);
  ExpectEveryoneFound(b_);  // another server picks the new generation up (its cache expired)
  ExpectUniquenessEnforced(b_);
  // The digests changed: a generation-0 digest finds nobody.
  const auto keys = *a_.directory.KeysFor(env_);
  auto old = store_->FindUsers(env_, kUsernameClaim, crypto::BlindIndex(keys.index, kUsernameClaim, "ada"));
  ASSERT_TRUE(old.has_value());
  EXPECT_TRUE(old->empty());
  EXPECT_EQ(store_->FindUsers(env_, kUsernameClaim, ClaimLookup(keys, kUsernameClaim, "ada"))->size(), 1u);

  // A second rotation goes on from generation 1.
  auto again = RotateIndexKey(a_.directory, a_.records, *store_, clock_, env_, options_);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->from, 1);
  EXPECT_EQ(again->generation, 2);
  EXPECT_EQ(Generations().begin()->first, 2);
  ExpectEveryoneFound(a_);
  auto status = IndexKeyRotationStatus(a_.records, *store_, env_);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->phase, "done");
  EXPECT_EQ(status->generation, 2);
}

// In every phase, on a server that knows the rotation and on one whose key cache is
// still from before the last step: clashing writes are refused, new ones are found.
TEST_F(IndexKeyRotationTest, UniquenessHoldsInEveryPhaseOnFreshAndStaleServers) {
  Populate();
  ExpectEveryoneFound(b_);  // b caches the keys from before the rotation
  std::set<std::string> seen;
  int created = 0;
  options_.progress = [&](const IndexKeyRotationProgress& p) {
    if (!seen.insert(p.phase).second) return;  // once per phase, at its start
    for (Server* s : {&a_, &b_}) {
      ExpectUniquenessEnforced(*s);
      // The same new name on both servers: exactly one wins, whichever view each has.
      const std::string name = "new-" + p.phase + "-" + std::to_string(created++);
      auto first = Create(*s, name);
      ASSERT_TRUE(first.has_value()) << p.phase << ": " << first.error().message;
      auto second = Create(s == &a_ ? b_ : a_, name);
      ASSERT_FALSE(second.has_value()) << p.phase;
      EXPECT_EQ(second.error().code, core::ErrorCode::kAlreadyExists);
      names_.push_back(name);
    }
    ExpectEveryoneFound(a_);
    ExpectEveryoneFound(b_);
  };
  auto done = RotateIndexKey(a_.directory, a_.records, *store_, clock_, env_, options_);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_GE(seen.size(), 5u);
  ASSERT_EQ(Generations().size(), 1u);
  EXPECT_EQ(Generations().begin()->first, 1);
  ExpectEveryoneFound(a_);
  ExpectEveryoneFound(b_);
  ExpectUniquenessEnforced(a_);
}

TEST_F(IndexKeyRotationTest, AnInterruptedRotationResumesAndEveryoneStaysFound) {
  Populate();
  for (int i = 0; i < 12; ++i) {
    names_.push_back("u" + std::to_string(i));
    ASSERT_TRUE(Create(a_, names_.back()).has_value());
  }
  int steps = 0, runs = 0;
  options_.progress = [&](const IndexKeyRotationProgress& p) {
    if (p.phase != "done" && ++steps % 3 == 0) throw std::runtime_error("killed");
  };
  core::Result<IndexKeyRotationProgress> result = core::Internal("not run");
  for (; runs < 60; ++runs) {
    try {
      result = RotateIndexKey(a_.directory, a_.records, *store_, clock_, env_, options_);
      break;
    } catch (const std::runtime_error&) {
      clock_.now += DirectoryService::kDataKeyTtlMs;  // b's cache expires now and then
      ExpectEveryoneFound(a_);
      ExpectEveryoneFound(b_);
      ExpectUniquenessEnforced(b_);
    }
  }
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_GT(runs, 3);
  EXPECT_EQ(result->phase, "done");
  EXPECT_EQ(result->to, 1);  // one rotation, resumed, not several
  ASSERT_EQ(Generations().size(), 1u);
  EXPECT_EQ(Generations().begin()->first, 1);
  ExpectEveryoneFound(a_);
  ExpectUniquenessEnforced(a_);
}

// One run at a time (run_lease.h): a second run, while one is waiting or copying, is
// refused before it moves a generation; the first ends the rotation alone.
TEST_F(IndexKeyRotationTest, ASecondRunIsRefusedWhileTheFirstRuns) {
  Populate();
  const RunnerId other{"another-run", ThisRunner().host, static_cast<std::int64_t>(::getppid())};
  std::vector<std::string> refused_in;
  options_.progress = [&](const IndexKeyRotationProgress& p) {
    if (p.phase == "done" || std::find(refused_in.begin(), refused_in.end(), p.phase) != refused_in.end()) return;
    IndexKeyRotationOptions again = options_;
    again.progress = nullptr;
    again.runner = other;
    auto r = RotateIndexKey(b_.directory, b_.records, *store_, clock_, env_, again);
    ASSERT_FALSE(r.has_value()) << p.phase;
    EXPECT_EQ(r.error().code, core::ErrorCode::kFailedPrecondition);
    EXPECT_NE(r.error().message.find("another run is doing the index-key rotation of this environment"),
              std::string::npos)
        << r.error().message;
    refused_in.push_back(p.phase);
  };
  auto done = RotateIndexKey(a_.directory, a_.records, *store_, clock_, env_, options_);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->phase, "done");
  EXPECT_EQ(refused_in, (std::vector<std::string>{"settling", "copying", "switching", "dropping"}));
  EXPECT_EQ(Generations(), (std::map<std::int64_t, std::int64_t>{{1, Generations()[1]}}));
  ExpectEveryoneFound(a_);
  ExpectUniquenessEnforced(b_);
  // Released at the end: the other runner may rotate next, at once.
  IndexKeyRotationOptions next = options_;
  next.progress = nullptr;
  next.runner = other;
  auto second = RotateIndexKey(b_.directory, b_.records, *store_, clock_, env_, next);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->to, 2);
}

TEST_F(IndexKeyRotationTest, TheKeyListKeepsItsGenerationsThroughDataAndMasterKeyChanges) {
  const std::string wrapped = keyring_.NewWrappedDataKey("env-x");
  const crypto::IndexGenerations g{1, 2, 2};
  const std::string with = crypto::Keyring::WithIndexGenerations(wrapped, g);
  EXPECT_EQ(crypto::Keyring::IndexGenerationsOf(wrapped), crypto::IndexGenerations{});
  EXPECT_EQ(crypto::Keyring::IndexGenerationsOf(with), g);
  EXPECT_EQ(crypto::Keyring::WrappedKeyCount(with), 1u);
  const std::string two = keyring_.PrependNewDataKey("env-x", with);
  EXPECT_EQ(crypto::Keyring::WrappedKeyCount(two), 2u);
  EXPECT_EQ(crypto::Keyring::IndexGenerationsOf(two), g);
  EXPECT_EQ(crypto::Keyring::IndexGenerationsOf(crypto::Keyring::NewestOnly(two)), g);
  EXPECT_EQ(crypto::Keyring::WrappedKeyCount(crypto::Keyring::NewestOnly(two)), 1u);
  const crypto::Keyring next(crypto::SecretKey::Random(), keyring_);
  auto rewrapped = keyring_.Rewrap("env-x", two, next);
  ASSERT_TRUE(rewrapped.has_value());
  EXPECT_EQ(crypto::Keyring::IndexGenerationsOf(*rewrapped), g);
  auto keys = next.Unwrap("env-x", *rewrapped);
  ASSERT_TRUE(keys.has_value());
  EXPECT_EQ(keys->index_steps.size(), 2u);
  EXPECT_EQ(keys->index_read, 2);
  EXPECT_EQ(keys->index_low, 1);
  // The generation keys depend on the root and the environment, not on the master key.
  auto same = keyring_.Unwrap("env-x", two);
  ASSERT_TRUE(same.has_value());
  EXPECT_TRUE(crypto::SecretsEqual(std::string(reinterpret_cast<const char*>(same->index_steps[1].data()), 32),
                                   std::string(reinterpret_cast<const char*>(keys->index_steps[1].data()), 32)));
  // Writes hold generations 1 and 2, lookups use 2.
  auto entries = WithGenerations(*keys, {{"username", crypto::BlindIndex(keys->index, "username", "ada"), true}});
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].generation, 1);
  EXPECT_EQ(entries[1].generation, 2);
  EXPECT_EQ(entries[1].digest, ClaimLookup(*keys, "username", "ada"));
  EXPECT_NE(entries[0].digest, entries[1].digest);
  EXPECT_TRUE(entries[1].unique);
}

}  // namespace
}  // namespace roster::service
