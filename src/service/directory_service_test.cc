#include "service/directory_service.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "service/service_test_support.h"

namespace roster::service {
namespace {

using core::ErrorCode;

using test_support::FakeClock;
using test_support::TempSqliteStore;

// A real (SQLite) directory store that counts key lookups and, unlike SQLite, offers a
// watch the test drives by hand, as PostgreSQL's LISTEN would.
class WatchableStore final : public store::DirectoryStore {
 public:
  explicit WatchableStore(store::DirectoryStore& inner) : inner_(inner) {}

  Status CreateEnvironment(const store::EnvironmentRow& row) override { return inner_.CreateEnvironment(row); }
  Result<store::EnvironmentRow> FindEnvironmentByName(const std::string& name) override {
    return inner_.FindEnvironmentByName(name);
  }
  Result<store::EnvironmentRow> FindEnvironmentById(const std::string& id) override {
    return inner_.FindEnvironmentById(id);
  }
  Result<std::vector<store::EnvironmentRow>> ListEnvironments() override { return inner_.ListEnvironments(); }
  Status CreateApiKey(const store::ApiKeyRow& row) override { return inner_.CreateApiKey(row); }
  Result<store::ApiKeyRow> FindApiKeyByDigest(const std::string& digest) override {
    ++lookups;
    auto row = inner_.FindApiKeyByDigest(digest);
    if (during_lookup) std::exchange(during_lookup, nullptr)();
    return row;
  }
  Result<std::vector<store::ApiKeyRow>> ListApiKeys(const std::string& environment_id) override {
    return inner_.ListApiKeys(environment_id);
  }
  Status RevokeApiKey(const std::string& id, std::int64_t now_ms) override { return inner_.RevokeApiKey(id, now_ms); }
  Status ReplaceEnvironmentKeys(const std::string& id, const std::string& expected,
                                const std::string& replacement) override {
    return inner_.ReplaceEnvironmentKeys(id, expected, replacement);
  }
  Result<store::KeyringRow> GetKeyring() override { return inner_.GetKeyring(); }
  Status CreateKeyring(const store::KeyringRow& row) override { return inner_.CreateKeyring(row); }
  Status RotateKeyring(const std::string& expected, const store::KeyringRow& row,
                       const std::vector<store::EnvironmentKeysChange>& environments,
                       const std::vector<store::AuditRow>& audit) override {
    return inner_.RotateKeyring(expected, row, environments, audit);
  }
  std::unique_ptr<store::Watch> WatchApiKeys(store::KeyChangeListener listener) override {
    listener_ = std::move(listener);
    return std::make_unique<store::Watch>();
  }

  // What the store's watch thread would say.
  void Tell(bool live) { listener_(live); }

  int lookups = 0;
  std::function<void()> during_lookup;  // runs once, after the next lookup read the store

 private:
  store::DirectoryStore& inner_;
  store::KeyChangeListener listener_;
};

class DirectoryServiceTest : public ::testing::Test {
 protected:
  DirectoryServiceTest()
      : sqlite_("roster-dir-"),
        store_(*sqlite_),
        keyring_(crypto::SecretKey::Random()),
        directory_(store_, keyring_, clock_) {
    EXPECT_TRUE(directory_.CreateEnvironment("default").has_value());
    auto key = directory_.CreateApiKey("default", KeyRole::kApp, "my.app");
    EXPECT_TRUE(key.has_value());
    id_ = key->info.id;
    secret_ = key->secret;
  }

  // Authenticates once; returns how many store lookups it took (0: from the cache).
  int LookupsFor(std::string_view secret, std::optional<ErrorCode>* failed = nullptr) {
    const int before = store_.lookups;
    auto info = directory_.AuthenticateApiKey(secret, "my.app", core::kCatalyzeApi);
    if (failed) *failed = info ? std::nullopt : std::optional(info.error().code);
    else EXPECT_TRUE(info.has_value());
    return store_.lookups - before;
  }

  FakeClock clock_;
  TempSqliteStore sqlite_;
  WatchableStore store_;
  crypto::Keyring keyring_;
  DirectoryService directory_;
  std::string id_, secret_;
};

TEST_F(DirectoryServiceTest, WithoutAWatchEveryLookupReadsTheStore) {
  DirectoryService plain(*sqlite_, keyring_, clock_);
  EXPECT_FALSE(plain.EnableKeyCache());  // SQLite cannot hear other processes' revocations
  EXPECT_TRUE(plain.AuthenticateApiKey(secret_, "my.app", core::kCatalyzeApi).has_value());
  ASSERT_TRUE(sqlite_->RevokeApiKey(id_, clock_.now).has_value());  // as `roster key revoke` would
  EXPECT_EQ(plain.AuthenticateApiKey(secret_, "my.app", core::kCatalyzeApi).error().code, ErrorCode::kUnauthenticated);
}

TEST_F(DirectoryServiceTest, CachesOnlyWhileTheWatchIsLive) {
  ASSERT_TRUE(directory_.EnableKeyCache());
  EXPECT_EQ(LookupsFor(secret_), 1);  // not live yet: the store has not confirmed its LISTEN
  EXPECT_EQ(LookupsFor(secret_), 1);
  store_.Tell(true);
  EXPECT_EQ(LookupsFor(secret_), 1);
  EXPECT_EQ(LookupsFor(secret_), 0);
  EXPECT_EQ(LookupsFor(secret_), 0);
  store_.Tell(false);  // channel down: nothing cached is trusted
  EXPECT_EQ(LookupsFor(secret_), 1);
  EXPECT_EQ(LookupsFor(secret_), 1);
  store_.Tell(true);
  EXPECT_EQ(LookupsFor(secret_), 1);
  EXPECT_EQ(LookupsFor(secret_), 0);
}

TEST_F(DirectoryServiceTest, ARevocationHeardFromAnotherProcessIsRefusedAtOnce) {
  ASSERT_TRUE(directory_.EnableKeyCache());
  store_.Tell(true);
  EXPECT_EQ(LookupsFor(secret_), 1);
  EXPECT_EQ(LookupsFor(secret_), 0);
  ASSERT_TRUE(sqlite_->RevokeApiKey(id_, clock_.now).has_value());  // another process
  store_.Tell(true);                                                  // ... and its NOTIFY
  std::optional<ErrorCode> failed;
  EXPECT_EQ(LookupsFor(secret_, &failed), 1);
  EXPECT_EQ(failed, ErrorCode::kUnauthenticated);
  EXPECT_EQ(LookupsFor(secret_, &failed), 0);  // a revoked key stays revoked: cached as such
  EXPECT_EQ(failed, ErrorCode::kUnauthenticated);
}

TEST_F(DirectoryServiceTest, ARevocationInThisProcessNeedNotWaitForTheWatch) {
  ASSERT_TRUE(directory_.EnableKeyCache());
  store_.Tell(true);
  EXPECT_EQ(LookupsFor(secret_), 1);
  ASSERT_TRUE(directory_.RevokeApiKey(id_).has_value());
  std::optional<ErrorCode> failed;
  LookupsFor(secret_, &failed);
  EXPECT_EQ(failed, ErrorCode::kUnauthenticated);
}

TEST_F(DirectoryServiceTest, AChangeHeardDuringALookupKeepsItsAnswerOutOfTheCache) {
  ASSERT_TRUE(directory_.EnableKeyCache());
  store_.Tell(true);
  // The row was read, then a revocation committed and was heard before the lookup could
  // cache its (now stale) row: it must not be cached.
  store_.during_lookup = [&] {
    ASSERT_TRUE(sqlite_->RevokeApiKey(id_, clock_.now).has_value());
    store_.Tell(true);
  };
  EXPECT_EQ(LookupsFor(secret_), 1);  // answered from the read it made before the revocation
  std::optional<ErrorCode> failed;
  EXPECT_EQ(LookupsFor(secret_, &failed), 1);
  EXPECT_EQ(failed, ErrorCode::kUnauthenticated);
}

TEST_F(DirectoryServiceTest, CachedKeysExpire) {
  ASSERT_TRUE(directory_.EnableKeyCache());
  store_.Tell(true);
  EXPECT_EQ(LookupsFor(secret_), 1);
  clock_.now += DirectoryService::kKeyCacheTtlMs - 1;
  EXPECT_EQ(LookupsFor(secret_), 0);
  clock_.now += 1;
  EXPECT_EQ(LookupsFor(secret_), 1);
  clock_.now -= 60'000;  // a clock stepped back does not stretch an entry's life
  EXPECT_EQ(LookupsFor(secret_), 1);
}

TEST_F(DirectoryServiceTest, UnknownKeysAreNeverCachedAndIdentifiersAreStillChecked) {
  ASSERT_TRUE(directory_.EnableKeyCache());
  store_.Tell(true);
  std::optional<ErrorCode> failed;
  EXPECT_EQ(LookupsFor("no-such-key", &failed), 1);
  EXPECT_EQ(failed, ErrorCode::kUnauthenticated);
  EXPECT_EQ(LookupsFor("no-such-key", &failed), 1);
  EXPECT_EQ(LookupsFor(secret_), 1);
  // A cached key bound to "my.app" still refuses another identifier.
  EXPECT_EQ(directory_.AuthenticateApiKey(secret_, "other.app", core::kCatalyzeApi).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(LookupsFor(secret_), 0);
}

}  // namespace
}  // namespace roster::service
