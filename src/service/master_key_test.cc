#include "service/master_key.h"

#include <gtest/gtest.h>

#include <memory>

#include "service/audit.h"
#include "service/directory_service.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

using test_support::FakeClock;
using test_support::TempSqliteStore;

// One process's view of the store: its keyring (opened with `candidates`) and services.
struct Process {
  Process(store::Store& store, const core::Clock& clock, const std::vector<crypto::SecretKey>& candidates)
      : keyring(candidates.front()),
        hasher({1, 8 * 1024 * 1024}),
        opened(OpenKeyring(store, keyring, candidates, clock)),
        directory(store, keyring, clock),
        users(store, directory, keyring, hasher, clock, {60'000, 3'600'000}),
        audit(store, keyring, clock) {
    users.SetAuditLog(&audit);
  }
  crypto::Keyring keyring;
  crypto::PasswordHasher hasher;
  core::Result<std::size_t> opened;
  DirectoryService directory;
  UserService users;
  AuditLog audit;
};

class MasterKeyTest : public ::testing::Test {
 protected:
  MasterKeyTest() : store_("roster-mk-"), old_(crypto::SecretKey::Random()), next_(crypto::SecretKey::Random()) {}

  std::unique_ptr<Process> Start(std::vector<crypto::SecretKey> candidates) {
    return std::make_unique<Process>(*store_, clock_, candidates);
  }

  static core::Result<CreatedUser> Create(Process& p, const std::string& env, const std::string& username) {
    CreateUserRequest r;
    r.environment_id = env;
    r.user.username = username;
    r.user.profile.ssn = "123-45-6789";
    return p.users.Create(r);
  }

  core::Result<std::size_t> Rotate(Process& p) {
    return RewrapUnderMasterKey(*store_, p.keyring, next_, clock_, [&](const std::string& env) {
      return p.audit.CommandRow(env, "master-key rotate", "master-key.rotate", "", nullptr, kAuditCredentials);
    });
  }

  FakeClock clock_;
  TempSqliteStore store_;
  crypto::SecretKey old_, next_;
};

TEST_F(MasterKeyTest, ANewKeyOpensEverythingWithBlindIndexesApiKeysAndTheAuditChainUnchanged) {
  auto before = Start({old_});
  ASSERT_TRUE(before->opened.has_value()) << before->opened.error().message;
  EXPECT_EQ(*before->opened, 0u);
  const std::string env = before->directory.CreateEnvironment("default")->id;
  const std::string other = before->directory.CreateEnvironment("other")->id;
  auto user = Create(*before, env, "Ada");
  ASSERT_TRUE(user.has_value());
  auto key = before->directory.CreateApiKey("default", KeyRole::kAdmin, "");
  ASSERT_TRUE(key.has_value());
  const std::string old_fingerprint = store_->GetKeyring()->fingerprint;

  auto rewrapped = Rotate(*before);
  ASSERT_TRUE(rewrapped.has_value()) << rewrapped.error().message;
  EXPECT_EQ(*rewrapped, 2u);
  EXPECT_NE(store_->GetKeyring()->fingerprint, old_fingerprint);
  EXPECT_EQ(store_->GetKeyring()->fingerprint, crypto::Keyring::Fingerprint(next_));
  before.reset();

  // A process started with the new key reads the user, finds its username taken (the
  // blind index is unchanged), accepts the API key (the digest key is unchanged) and
  // verifies the audit chain across the rotation (the audit key is unchanged).
  auto after = Start({next_});
  ASSERT_TRUE(after->opened.has_value()) << after->opened.error().message;
  auto read = after->users.Get(env, user->user.id);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(read->profile.ssn, "123-45-6789");
  auto taken = Create(*after, env, "ADA");
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, core::ErrorCode::kAlreadyExists);
  EXPECT_TRUE(after->directory.AuthenticateApiKey(key->secret, "", core::kCatalyzeApi).has_value());
  EXPECT_TRUE(after->directory.KeysFor(other).has_value());
  ASSERT_TRUE(Create(*after, env, "bob").has_value());
  for (const std::string& e : {env, other}) {
    auto v = after->audit.Verify(e);
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->ok) << v->problem;
  }
  int rotations = 0;
  ASSERT_TRUE(after->audit
                  .Export(env, AuditFilter{},
                          [&](const store::AuditRow& r) {
                            if (r.action == "master-key.rotate") {
                              ++rotations;
                              EXPECT_EQ(r.principal_kind, "operator");
                              EXPECT_EQ(r.fields, "credentials");
                            }
                          })
                  .has_value());
  EXPECT_EQ(rotations, 1);

  // The old key opens nothing any more.
  auto stale = Start({old_});
  ASSERT_FALSE(stale->opened.has_value());
  EXPECT_EQ(stale->opened.error().code, core::ErrorCode::kPermissionDenied);
}

TEST_F(MasterKeyTest, TheStartFindsWhicheverOfTheTwoKeysTheStoreIsWrappedUnder) {
  auto first = Start({old_});
  const std::string env = first->directory.CreateEnvironment("default")->id;
  auto user = Create(*first, env, "ada");
  ASSERT_TRUE(user.has_value());
  // Killed after writing the new key file, before the commit: the old key opens it.
  auto before_commit = Start({old_, next_});
  ASSERT_TRUE(before_commit->opened.has_value());
  EXPECT_EQ(*before_commit->opened, 0u);
  ASSERT_TRUE(Rotate(*first).has_value());
  // Killed after the commit, before the rename: the new key does.
  auto after_commit = Start({old_, next_});
  ASSERT_TRUE(after_commit->opened.has_value());
  EXPECT_EQ(*after_commit->opened, 1u);
  EXPECT_TRUE(after_commit->users.Get(env, user->user.id).has_value());
}

TEST_F(MasterKeyTest, AStoreMadeBeforeRotationKeepsItsDerivedRootsAndRefusesAnotherKey) {
  const std::string username = "legacy";
  std::string env, id;
  {
    // No keyring row: the roots are derived from the key, as before master-key rotation.
    crypto::Keyring legacy(old_);
    crypto::PasswordHasher hasher({1, 8 * 1024 * 1024});
    DirectoryService directory(*store_, legacy, clock_);
    UserService users(*store_, directory, legacy, hasher, clock_, {60'000, 3'600'000});
    env = directory.CreateEnvironment("default")->id;
    CreateUserRequest r;
    r.environment_id = env;
    r.user.username = username;
    id = users.Create(r)->user.id;
  }
  ASSERT_EQ(store_->GetKeyring().error().code, core::ErrorCode::kNotFound);
  auto wrong = Start({next_});
  ASSERT_FALSE(wrong->opened.has_value());
  EXPECT_EQ(wrong->opened.error().code, core::ErrorCode::kPermissionDenied);
  EXPECT_EQ(store_->GetKeyring().error().code, core::ErrorCode::kNotFound);  // nothing written down

  auto p = Start({old_});
  ASSERT_TRUE(p->opened.has_value());
  ASSERT_TRUE(store_->GetKeyring().has_value());
  ASSERT_TRUE(Rotate(*p).has_value());
  p.reset();
  auto after = Start({next_});
  ASSERT_TRUE(after->opened.has_value());
  EXPECT_TRUE(after->users.Get(env, id).has_value());
  auto taken = Create(*after, env, username);
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, core::ErrorCode::kAlreadyExists);
}

TEST_F(MasterKeyTest, AServerHoldingTheOldKeyPicksUpTheNewOneAndNeverWrapsUnderTheOld) {
  auto server = Start({old_});
  const std::string env = server->directory.CreateEnvironment("default")->id;
  auto user = Create(*server, env, "ada");
  ASSERT_TRUE(user.has_value());
  auto rotator = Start({old_});
  ASSERT_TRUE(Rotate(*rotator).has_value());
  clock_.now += DirectoryService::kDataKeyTtlMs + 1;

  // Without the new key the server keeps its cached keys (their values did not change)...
  EXPECT_TRUE(server->users.Get(env, user->user.id).has_value());
  // ...but makes nothing wrapped under the old key: a new environment is refused.
  auto refused = server->directory.CreateEnvironment("refused");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kAborted);

  // Given the new key (its reloader finds it), it switches, and what it wraps from then
  // on opens under the new key.
  int reloads = 0;
  server->directory.SetMasterKeyReloader([&] {
    ++reloads;
    server->keyring.SwitchMaster(next_);
    return true;
  });
  clock_.now += DirectoryService::kDataKeyTtlMs + 1;
  EXPECT_TRUE(server->users.Get(env, user->user.id).has_value());
  EXPECT_EQ(reloads, 1);
  EXPECT_EQ(server->keyring.Fingerprint(), crypto::Keyring::Fingerprint(next_));
  auto created = server->directory.CreateEnvironment("later");
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(server->directory.AddDataKey(env).has_value());
  auto fresh = Start({next_});
  ASSERT_TRUE(fresh->opened.has_value());
  EXPECT_TRUE(fresh->directory.KeysFor(created->id).has_value());
  auto keys = fresh->directory.KeysFor(env);
  ASSERT_TRUE(keys.has_value());
  EXPECT_EQ(keys->older.size(), 1u);
  EXPECT_TRUE(fresh->users.Get(env, user->user.id).has_value());
}

TEST_F(MasterKeyTest, ARotationByAKeyThatIsNotTheStoresChangesNothing) {
  auto p = Start({old_});
  ASSERT_TRUE(p->directory.CreateEnvironment("default").has_value());
  const auto before = store_->GetKeyring()->fingerprint;
  crypto::Keyring stranger(crypto::SecretKey::Random());
  auto r = RewrapUnderMasterKey(*store_, stranger, next_, clock_, nullptr);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->GetKeyring()->fingerprint, before);
  // A list damaged (not wrapped by this key) stops the rotation before anything is written.
  ASSERT_TRUE(store_->CreateEnvironment({"x", "x", std::string(72, 'x'), 1}).has_value());
  auto damaged = Rotate(*p);
  ASSERT_FALSE(damaged.has_value());
  EXPECT_EQ(store_->GetKeyring()->fingerprint, before);
}

}  // namespace
}  // namespace roster::service
