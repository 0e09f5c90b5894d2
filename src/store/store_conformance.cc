#include "store/store_conformance.h"

#include <atomic>
#include <thread>

namespace roster::store {
namespace {

using core::ErrorCode;

NewUser MakeUser(const std::string& env, const std::string& id, const std::string& username_digest) {
  NewUser u;
  u.row = UserRow{id, 0, env, false, 1000, 1000, 1, "sealed:" + id};
  u.index = {{"username", username_digest, true}, {"email", "shared-email", false}};
  return u;
}

}  // namespace

void StoreConformanceTest::SetUp() {
  store_ = GetParam()();
  ASSERT_TRUE(store_->CreateEnvironment({env_, "default", "wrapped-1", 1}).has_value());
  ASSERT_TRUE(store_->CreateEnvironment({other_env_, "other", "wrapped-2", 2}).has_value());
}

TEST_P(StoreConformanceTest, EnvironmentsHaveUniqueNames) {
  auto dup = store_->CreateEnvironment({"env-3", "default", "w", 3});
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->FindEnvironmentByName("default")->id, env_);
  EXPECT_EQ(store_->FindEnvironmentById(env_)->wrapped_key, "wrapped-1");
  EXPECT_EQ(store_->FindEnvironmentByName("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->ListEnvironments()->size(), 2u);
}

TEST_P(StoreConformanceTest, ApiKeysAreFoundByDigestAndRevokedOnce) {
  ASSERT_TRUE(store_->CreateApiKey({"k1", env_, "admin", "", "digest-1", 5, std::nullopt}).has_value());
  ASSERT_TRUE(store_->CreateApiKey({"k2", env_, "app", "com.example", "digest-2", 6, std::nullopt}).has_value());
  auto k = store_->FindApiKeyByDigest("digest-2");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->id, "k2");
  EXPECT_EQ(k->identifier, "com.example");
  EXPECT_FALSE(k->revoked_at_ms.has_value());
  EXPECT_EQ(store_->FindApiKeyByDigest("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->ListApiKeys(env_)->size(), 2u);
  EXPECT_EQ(store_->ListApiKeys(other_env_)->size(), 0u);
  ASSERT_TRUE(store_->RevokeApiKey("k1", 9).has_value());
  EXPECT_EQ(store_->FindApiKeyByDigest("digest-1")->revoked_at_ms, 9);
  EXPECT_EQ(store_->RevokeApiKey("k1", 10).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->RevokeApiKey("k9", 10).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, InsertsAndReadsUsersWithinTheirEnvironment) {
  auto n = store_->InsertUser(MakeUser(env_, "u1", "ada"));
  ASSERT_TRUE(n.has_value());
  auto u = store_->GetUser(env_, "u1");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->number, *n);
  EXPECT_EQ(u->sealed, "sealed:u1");
  EXPECT_EQ(store_->GetUser(other_env_, "u1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindUsers(env_, "username", "ada")->size(), 1u);
  EXPECT_EQ(store_->FindUsers(other_env_, "username", "ada")->size(), 0u);
}

TEST_P(StoreConformanceTest, UniqueClaimsRejectTheSecondUserAndWriteNothing) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  auto dup = store_->InsertUser(MakeUser(env_, "u2", "ada"));
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(dup.error().field, "username");
  EXPECT_EQ(store_->GetUser(env_, "u2").error().code, ErrorCode::kNotFound);
  // Another environment may hold the same claim; non-unique claims are shared.
  EXPECT_TRUE(store_->InsertUser(MakeUser(other_env_, "u3", "ada")).has_value());
  EXPECT_TRUE(store_->InsertUser(MakeUser(env_, "u4", "bob")).has_value());
  EXPECT_EQ(store_->FindUsers(env_, "email", "shared-email")->size(), 2u);
}

TEST_P(StoreConformanceTest, ConcurrentInsertsOfOneClaimYieldExactlyOneUser) {
  std::atomic<int> ok{0}, taken{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      auto r = store_->InsertUser(MakeUser(env_, "c" + std::to_string(i), "same"));
      if (r) ++ok;
      else if (r.error().code == ErrorCode::kAlreadyExists) ++taken;
      else ++other;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(taken, 15);
  EXPECT_EQ(other, 0);
}

TEST_P(StoreConformanceTest, UpdatesCheckVersionAndClaims) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u2", "bob")).has_value());
  UserUpdate up;
  up.row = UserRow{"u1", 0, env_, true, 1000, 2000, 2, "sealed:v2"};
  up.expected_version = 1;
  up.index = {{"username", "ada2", true}};
  up.password_hash = "$argon2id$x";
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  auto u = store_->GetUser(env_, "u1");
  EXPECT_EQ(u->version, 2);
  EXPECT_TRUE(u->active);
  EXPECT_EQ(u->sealed, "sealed:v2");
  EXPECT_EQ(*store_->GetPasswordHash(env_, "u1"), "$argon2id$x");
  EXPECT_EQ(store_->FindUsers(env_, "username", "ada")->size(), 0u);  // old claim released
  EXPECT_EQ(store_->FindUsers(env_, "username", "ada2")->size(), 1u);

  EXPECT_EQ(store_->UpdateUser(up).error().code, ErrorCode::kAborted);  // stale version
  up.expected_version = 2;
  up.row.version = 3;
  up.row.sealed = "sealed:v3";
  up.index = {{"username", "bob", true}};
  auto clash = store_->UpdateUser(up);
  EXPECT_EQ(clash.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->GetUser(env_, "u1")->sealed, "sealed:v2");  // rolled back whole
  EXPECT_EQ(store_->FindUsers(env_, "username", "ada2")->size(), 1u);
  up.row.id = "missing";
  EXPECT_EQ(store_->UpdateUser(up).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, SessionsLiveWithTheirUser) {
  NewUser nu = MakeUser(env_, "u1", "ada");
  nu.password_hash = "$argon2id$p";
  nu.session = SessionRow{"tok-1", env_, "u1", 10, 10, 0};
  ASSERT_TRUE(store_->InsertUser(nu).has_value());
  auto s = store_->FindSession("tok-1");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->user_id, "u1");
  EXPECT_EQ(s->environment_id, env_);
  ASSERT_TRUE(store_->TouchSession("tok-1", 99).has_value());
  EXPECT_EQ(store_->FindSession("tok-1")->last_used_at_ms, 99);
  EXPECT_EQ(store_->FindSession("nope").error().code, ErrorCode::kNotFound);

  UserUpdate up;
  up.row = UserRow{"u1", 0, env_, false, 1000, 2000, 2, "s"};
  up.expected_version = 1;
  up.index = {{"username", "ada", true}};
  up.revoke_sessions = true;
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  EXPECT_EQ(store_->FindSession("tok-1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteSession("tok-1").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, DeleteRemovesEverythingOfTheUser) {
  NewUser nu = MakeUser(env_, "u1", "ada");
  nu.password_hash = "$argon2id$p";
  nu.session = SessionRow{"tok-1", env_, "u1", 10, 10, 0};
  ASSERT_TRUE(store_->InsertUser(nu).has_value());
  EXPECT_EQ(store_->DeleteUser(other_env_, "u1").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->DeleteUser(env_, "u1").has_value());
  EXPECT_EQ(store_->GetUser(env_, "u1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSession("tok-1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetPasswordHash(env_, "u1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindUsers(env_, "email", "shared-email")->size(), 0u);
  EXPECT_TRUE(store_->InsertUser(MakeUser(env_, "u5", "ada")).has_value());  // claim freed
  EXPECT_EQ(store_->DeleteUser(env_, "u1").error().code, ErrorCode::kNotFound);
}

}  // namespace roster::store
