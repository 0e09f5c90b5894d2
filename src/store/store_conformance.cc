#include "store/store_conformance.h"

#include "store/audit_chain.h"

#include <algorithm>
#include <atomic>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

namespace roster::store {
namespace {

using core::ErrorCode;

NewUser MakeUser(const std::string& env, const std::string& id, const std::string& username_digest) {
  NewUser u;
  u.row = UserRow{id, 0, env, false, 1000, 1000, 1, "sealed:" + id};
  u.index = {{"username", username_digest, true}, {"email", "shared-email", false}};
  return u;
}

NewRecord MakeRecord(const std::string& env, const std::string& id, const std::string& kind,
                     std::int64_t expires_at_ms = 0) {
  NewRecord r;
  r.row = RecordRow{id, 0, env, kind, 1000, 1000, 1, expires_at_ms, "sealed:" + id};
  return r;
}

MailRow MakeMail(const std::string& env, std::int64_t next_attempt_at_ms, const std::string& body) {
  return MailRow{0, env, 1, next_attempt_at_ms, 0, body};
}

std::vector<std::string> Ids(const std::vector<UserRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}
std::vector<std::string> Ids(const std::vector<RecordRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}
std::vector<std::string> Bodies(const std::vector<MailRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.sealed);
  return out;
}

using Strings = std::vector<std::string>;

// An update of record `id` that leaves its row as it is (a new version) and changes only
// what the caller sets on it.
RecordUpdate Touch(Store& store, const std::string& env, const std::string& kind, const std::string& id) {
  RecordUpdate up;
  auto row = store.GetRecord(env, kind, id, 0);
  if (!row) return up;  // the caller's write then fails with kNotFound
  up.row = *row;
  up.expected_version = row->version;
  up.row.version = row->version + 1;
  return up;
}

std::vector<std::pair<std::string, int>> Depths(const std::vector<ContainingRecord>& rows) {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& r : rows) out.emplace_back(r.row.id, r.depth);
  return out;
}

using Depthed = std::vector<std::pair<std::string, int>>;

}  // namespace

void StoreConformanceTest::SetUp() {
  store_ = GetParam().make();
  if (IsSkipped()) return;  // the factory skipped the test (e.g. no server to test against)
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
  ASSERT_TRUE(store_->CreateApiKey({"k2", env_, "app", "com.example", "digest-2", 6, std::nullopt,
                                     "catalyze,quickblox", "signup,profile:read"})
                  .has_value());
  auto k = store_->FindApiKeyByDigest("digest-2");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->apis, "catalyze,quickblox");
  EXPECT_EQ(k->scopes, "signup,profile:read");
  EXPECT_EQ(store_->FindApiKeyByDigest("digest-1")->apis, "");
  EXPECT_EQ(store_->ListApiKeys(env_)->back().scopes, "signup,profile:read");
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

TEST_P(StoreConformanceTest, InsertUsersLeavesOutTheUsersThatFailAndUpdatesTheRecordWithTheRest) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u0", "taken")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "cp", "import")).has_value());
  UserBatch batch;
  batch.users = {MakeUser(env_, "u1", "ada"), MakeUser(env_, "u2", "taken"), MakeUser(env_, "u3", "ada"),
                 MakeUser(env_, "u4", "bob")};
  batch.users[0].password_hash = "hash-1";
  batch.record = RecordUpdate{RecordRow{"cp", 0, env_, "import", 1000, 2000, 2, 0, "sealed:cp-2"}, 1, {}};
  auto written = store_->InsertUsers(batch);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  ASSERT_EQ(written->size(), 4u);
  EXPECT_TRUE((*written)[0].has_value());
  EXPECT_EQ((*written)[1].error().field, "username");  // held by a stored user
  EXPECT_EQ((*written)[2].error().field, "username");  // held by an earlier user of the batch
  EXPECT_TRUE((*written)[3].has_value());
  EXPECT_EQ(store_->GetUser(env_, "u1")->number, *(*written)[0]);
  EXPECT_EQ(*store_->GetPasswordHash(env_, "u1"), "hash-1");
  EXPECT_EQ(store_->GetUser(env_, "u2").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetUser(env_, "u3").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindUsers(env_, "email", "shared-email")->size(), 3u);  // u0, u1, u4: nothing of u2, u3
  EXPECT_EQ(store_->GetRecord(env_, "import", "cp", 0)->version, 2);

  // A record at another version than expected fails the batch: nothing lands.
  UserBatch stale;
  stale.users = {MakeUser(env_, "u5", "cy")};
  stale.record = RecordUpdate{RecordRow{"cp", 0, env_, "import", 1000, 3000, 2, 0, "sealed:cp-2b"}, 1, {}};
  auto refused = store_->InsertUsers(stale);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kAborted);
  EXPECT_EQ(store_->GetUser(env_, "u5").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, InsertUsersWritesAWholeBatchWithEveryClaimPasswordMembershipInOrder) {
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g1", "group")).has_value());
  UserBatch batch;
  for (int i = 0; i < 300; ++i) {
    NewUser u = MakeUser(env_, "b" + std::to_string(i), "name-" + std::to_string(i));
    // Claim digests in no particular order (as keyed hashes are), and several kinds.
    u.index.push_back({"s^name", "prefix-" + std::to_string((i * 7919) % 300), false});
    u.index.push_back({"externalId", "ext-" + std::to_string(299 - i), true});
    if (i % 3 == 0) u.password_hash = "hash-" + std::to_string(i);
    if (i % 5 == 0) u.member_of = {"g1"};
    batch.users.push_back(std::move(u));
  }
  auto written = store_->InsertUsers(batch);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  ASSERT_EQ(written->size(), 300u);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE((*written)[i].has_value()) << i;
    if (i > 0) {
      EXPECT_GT(*(*written)[i], *(*written)[i - 1]);  // numbers in the batch's order
    }
    const std::string id = "b" + std::to_string(i);
    EXPECT_EQ(store_->GetUser(env_, id)->number, *(*written)[i]);
    EXPECT_EQ(Ids(*store_->FindUsers(env_, "externalId", "ext-" + std::to_string(299 - i))), Strings{id});
    EXPECT_EQ(Ids(*store_->FindUsers(env_, "s^name", "prefix-" + std::to_string((i * 7919) % 300))), Strings{id});
    if (i % 3 == 0) EXPECT_EQ(*store_->GetPasswordHash(env_, id), "hash-" + std::to_string(i));
    else EXPECT_EQ(store_->GetPasswordHash(env_, id).error().code, ErrorCode::kNotFound);
  }
  EXPECT_EQ(*store_->CountMembers(env_, "g1"), 60);
  EXPECT_EQ(store_->FindUsers(env_, "email", "shared-email")->size(), 300u);
}

TEST_P(StoreConformanceTest, InsertUsersLeavesOutOnlyTheUserThatFailsAndNotWhoSharedAClaimWithIt) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u0", "taken")).has_value());
  UserBatch batch;
  // u1 fails on its second claim (held by u0); u2 then holds "ada" as if u1 never came.
  batch.users = {MakeUser(env_, "u1", "ada"), MakeUser(env_, "u2", "ada"), MakeUser(env_, "u3", "cy")};
  batch.users[0].index.push_back({"username", "taken", true});
  batch.users[2].member_of = {"no-such-group"};  // fails alone
  auto written = store_->InsertUsers(batch);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  ASSERT_EQ(written->size(), 3u);
  EXPECT_EQ((*written)[0].error().field, "username");
  EXPECT_TRUE((*written)[1].has_value());
  EXPECT_FALSE((*written)[2].has_value());
  EXPECT_EQ(Ids(*store_->FindUsers(env_, "username", "ada")), Strings{"u2"});
  EXPECT_EQ(store_->GetUser(env_, "u1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetUser(env_, "u3").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->FindUsers(env_, "username", "cy")->empty());
}

TEST_P(StoreConformanceTest, FindUsersAfterPagesOneClaimInNumberOrder) {
  std::vector<std::int64_t> numbers;
  for (int i = 0; i < 5; ++i) {
    auto n = store_->InsertUser(MakeUser(env_, "p" + std::to_string(i), "p" + std::to_string(i)));
    ASSERT_TRUE(n.has_value());
    numbers.push_back(*n);
  }
  ASSERT_TRUE(store_->InsertUser(MakeUser(other_env_, "p9", "p9")).has_value());
  auto first = store_->FindUsersAfter(env_, "email", "shared-email", 0, 2);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(Ids(*first), (Strings{"p0", "p1"}));
  auto next = store_->FindUsersAfter(env_, "email", "shared-email", first->back().number, 10);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(Ids(*next), (Strings{"p2", "p3", "p4"}));
  EXPECT_TRUE(store_->FindUsersAfter(env_, "email", "shared-email", numbers.back(), 10)->empty());
  EXPECT_TRUE(store_->FindUsersAfter(env_, "email", "other-digest", 0, 10)->empty());
}

TEST_P(StoreConformanceTest, CountHoldersCountsOneEntrysHoldersAndThoseHoldingAnotherToo) {
  std::vector<std::int64_t> numbers;
  for (int i = 0; i < 6; ++i) {
    NewUser u = MakeUser(env_, "c" + std::to_string(i), "c" + std::to_string(i));
    if (i % 3 == 0) u.index.push_back({"marker", "m", false});  // c0, c3
    auto n = store_->InsertUser(u);
    ASSERT_TRUE(n.has_value());
    numbers.push_back(*n);
  }
  NewUser elsewhere = MakeUser(other_env_, "c9", "c9");
  elsewhere.index.push_back({"marker", "m", false});
  ASSERT_TRUE(store_->InsertUser(elsewhere).has_value());
  auto all = store_->CountHolders(env_, "email", "shared-email", 0, "marker", "m", 100);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->holders, 6);
  EXPECT_EQ(all->also, 2);
  auto after = store_->CountHolders(env_, "email", "shared-email", numbers[1], "marker", "m", 100);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->holders, 4);  // c2..c5
  EXPECT_EQ(after->also, 1);     // c3
  auto capped = store_->CountHolders(env_, "email", "shared-email", 0, "marker", "m", 3);
  ASSERT_TRUE(capped.has_value());
  EXPECT_EQ(capped->holders, 3);  // the cap, in number order: c0..c2
  EXPECT_EQ(capped->also, 1);
  auto none = store_->CountHolders(env_, "email", "other-digest", 0, "marker", "m", 100);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->holders, 0);
  EXPECT_EQ(none->also, 0);
  ASSERT_TRUE(store_->DeleteUser(env_, "c3"));
  EXPECT_EQ(store_->CountHolders(env_, "email", "shared-email", 0, "marker", "m", 100)->also, 1);
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

// Concurrent writes may share one transaction (SQLite's group commit, docs/architecture.md):
// a write that fails is undone alone and keeps its own error, the others land; of two
// writes claiming one value, whichever comes second is refused even within one commit.
TEST_P(StoreConformanceTest, ConcurrentWritesFailAloneAndTheOthersLand) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "held", "held")).has_value());
  constexpr int kWriters = 16;
  std::vector<Result<std::int64_t>> results(kWriters, std::unexpected(core::Error{ErrorCode::kInternal, "unset", ""}));
  std::latch start(kWriters);
  std::vector<std::thread> threads;
  // Every fourth writer claims the username "held" already has; writers 1 and 2 claim
  // one new username between them; the rest claim usernames of their own.
  auto username = [](int i) { return i % 4 == 0 ? std::string("held") : i == 1 || i == 2 ? "twin" : "own" + std::to_string(i); };
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = store_->InsertUser(MakeUser(env_, "w" + std::to_string(i), username(i)));
    });
  }
  for (auto& t : threads) t.join();
  int twins = 0;
  for (int i = 0; i < kWriters; ++i) {
    SCOPED_TRACE(i);
    if (i % 4 == 0) {
      ASSERT_FALSE(results[i].has_value());
      EXPECT_EQ(results[i].error().code, ErrorCode::kAlreadyExists);
      EXPECT_EQ(results[i].error().field, "username");
      EXPECT_EQ(store_->GetUser(env_, "w" + std::to_string(i)).error().code, ErrorCode::kNotFound);
    } else if (i == 1 || i == 2) {
      if (results[i]) ++twins;
      else EXPECT_EQ(results[i].error().code, ErrorCode::kAlreadyExists);
    } else {
      ASSERT_TRUE(results[i].has_value()) << results[i].error().message;
      auto row = store_->GetUser(env_, "w" + std::to_string(i));
      ASSERT_TRUE(row.has_value());
      EXPECT_EQ(row->number, *results[i]);
    }
  }
  EXPECT_EQ(twins, 1);
  auto twin = store_->FindUsers(env_, "username", "twin");
  ASSERT_TRUE(twin.has_value());
  ASSERT_EQ(twin->size(), 1u);
  EXPECT_TRUE((*twin)[0].id == "w1" || (*twin)[0].id == "w2");
  auto held = store_->FindUsers(env_, "username", "held");
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(Ids(*held), Strings{"held"});
}

TEST_P(StoreConformanceTest, ExclusiveClaimsAreRefusedWhileAnyOtherUserHoldsTheValue) {
  // u1 holds the email as a plain lookup (an API whose emails need not be unique).
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  NewUser u2 = MakeUser(env_, "u2", "bob");
  u2.index = {{"username", "bob", true}, {"email", "shared-email", true, true}};
  auto taken = store_->InsertUser(u2);
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(taken.error().field, "email");
  EXPECT_EQ(store_->GetUser(env_, "u2").error().code, ErrorCode::kNotFound);  // nothing written
  u2.index[1].digest = "bob-email";
  ASSERT_TRUE(store_->InsertUser(u2).has_value());
  // Exclusive against exclusive: the unique index decides; lookups still find the holder.
  NewUser u3 = MakeUser(env_, "u3", "cy");
  u3.index = {{"username", "cy", true}, {"email", "bob-email", true, true}};
  EXPECT_EQ(store_->InsertUser(u3).error().field, "email");
  EXPECT_EQ(Ids(*store_->FindUsers(env_, "email", "bob-email")), Strings{"u2"});
  // A user may keep its own exclusive value through an update; another may not take it.
  UserUpdate up;
  up.row = UserRow{"u2", 0, env_, false, 1000, 2000, 2, "sealed:v2"};
  up.expected_version = 1;
  up.index = u2.index;
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  UserUpdate steal;
  steal.row = UserRow{"u1", 0, env_, false, 1000, 2000, 2, "sealed:x"};
  steal.expected_version = 1;
  steal.index = {{"username", "ada", true}, {"email", "bob-email", true, true}};
  EXPECT_EQ(store_->UpdateUser(steal).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->GetUser(env_, "u1")->sealed, "sealed:u1");  // unchanged
  // Deleting the holder frees the value at once; other environments never clash.
  ASSERT_TRUE(store_->DeleteUser(env_, "u2").has_value());
  EXPECT_TRUE(store_->UpdateUser(steal).has_value());
  NewUser elsewhere = MakeUser(other_env_, "u9", "ada");
  elsewhere.index = {{"username", "ada", true}, {"email", "bob-email", true, true}};
  EXPECT_TRUE(store_->InsertUser(elsewhere).has_value());
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
  // A re-hash replaces only the hash it was computed from, and nothing else.
  EXPECT_EQ(store_->ReplacePasswordHash(env_, "u1", "$argon2id$old", "$argon2id$y").error().code, ErrorCode::kAborted);
  EXPECT_EQ(store_->ReplacePasswordHash(other_env_, "u1", "$argon2id$x", "$argon2id$y").error().code,
            ErrorCode::kAborted);
  EXPECT_EQ(store_->ReplacePasswordHash(env_, "u2", "$argon2id$x", "$argon2id$y").error().code,
            ErrorCode::kAborted);  // u2 has no password
  ASSERT_TRUE(store_->ReplacePasswordHash(env_, "u1", "$argon2id$x", "$argon2id$y").has_value());
  EXPECT_EQ(*store_->GetPasswordHash(env_, "u1"), "$argon2id$y");
  EXPECT_EQ(store_->GetUser(env_, "u1")->version, 2);
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

TEST_P(StoreConformanceTest, RevokingSessionsMayKeepOneOfTheUsers) {
  NewUser nu = MakeUser(env_, "u1", "ada");
  nu.session = SessionRow{"tok-1", env_, "u1", 10, 10, 0};
  ASSERT_TRUE(store_->InsertUser(nu).has_value());
  ASSERT_TRUE(store_->CreateSession(SessionRow{"tok-2", env_, "u1", 11, 11, 0}).has_value());
  ASSERT_TRUE(store_->CreateSession(SessionRow{"tok-3", env_, "u1", 12, 12, 0}).has_value());
  NewUser other = MakeUser(env_, "u2", "bob");
  other.session = SessionRow{"tok-9", env_, "u2", 10, 10, 0};
  ASSERT_TRUE(store_->InsertUser(other).has_value());

  UserUpdate up;
  up.row = UserRow{"u1", 0, env_, true, 1000, 2000, 2, "s2"};
  up.expected_version = 1;
  up.index = {{"username", "ada", true}};
  up.password_hash = "$argon2id$new";
  up.revoke_sessions = true;
  up.keep_session = "tok-2";
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  EXPECT_EQ(store_->FindSession("tok-1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSession("tok-2")->user_id, "u1");  // kept
  EXPECT_EQ(store_->FindSession("tok-3").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSession("tok-9")->user_id, "u2");  // another user's: untouched

  // Another user's session named as the one to keep keeps nothing of this user's.
  up.expected_version = 2;
  up.row.version = 3;
  up.keep_session = "tok-9";
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  EXPECT_EQ(store_->FindSession("tok-2").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSession("tok-9")->user_id, "u2");
}

TEST_P(StoreConformanceTest, AUserUpdateEnqueuesItsMailInTheSameTransaction) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u2", "bob")).has_value());
  UserUpdate up;
  up.row = UserRow{"u1", 0, env_, true, 1000, 2000, 2, "s2"};
  up.expected_version = 1;
  up.index = {{"username", "bob", true}};  // taken: the update fails, and its mail with it
  up.mail = {MakeMail(env_, 2000, "notice-1"), MakeMail(env_, 2000, "notice-2")};
  EXPECT_EQ(store_->UpdateUser(up).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(*store_->CountMail(), 0);
  up.expected_version = 7;  // stale: nothing either
  up.index = {{"username", "ada", true}};
  EXPECT_EQ(store_->UpdateUser(up).error().code, ErrorCode::kAborted);
  EXPECT_EQ(*store_->CountMail(), 0);
  up.expected_version = 1;
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  EXPECT_EQ(*store_->CountMail(), 2);
  auto mail = store_->ClaimMail(2000, 3000, 10);
  ASSERT_TRUE(mail.has_value());
  auto bodies = Bodies(*mail);
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (Strings{"notice-1", "notice-2"}));
  EXPECT_EQ((*mail)[0].environment_id, env_);
}

// A sign-up's link: records written with the user land with it, claims, mail and all,
// or nothing does (a taken username, a taken record claim).
TEST_P(StoreConformanceTest, AUserAndTheRecordsWrittenWithItLandTogetherOrNotAtAll) {
  const auto with_link = [&](const std::string& id, const std::string& username, const std::string& token) {
    NewUser u = MakeUser(env_, id, username);
    NewRecord link = MakeRecord(env_, "link-" + id, "activation", 5000);
    link.index = {{"activation.token", token, true}};
    link.mail = MakeMail(env_, 1000, "mail-" + id);
    u.records.push_back(std::move(link));
    return u;
  };
  auto first = store_->InsertUser(with_link("u1", "ada", "t1"));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_TRUE(store_->GetUser(env_, "u1").has_value());
  auto held = store_->FindRecords(env_, "activation.token", "t1", 1000);
  ASSERT_TRUE(held.has_value());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].id, "link-u1");
  EXPECT_EQ((*held)[0].expires_at_ms, 5000);
  EXPECT_EQ(*store_->CountMail(), 1);
  // The username is taken: neither the user nor its link nor its mail.
  EXPECT_EQ(store_->InsertUser(with_link("u2", "ada", "t2")).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->GetUser(env_, "u2").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetRecord(env_, "activation", "link-u2", 1000).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->FindRecords(env_, "activation.token", "t2", 1000)->empty());
  // The link's claim is taken: the user is not written either.
  EXPECT_EQ(store_->InsertUser(with_link("u3", "cy", "t1")).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->GetUser(env_, "u3").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->FindUsers(env_, "username", "cy")->empty());
  EXPECT_EQ(*store_->CountMail(), 1);
  // In a batch, a user with records is written user by user, records and all.
  UserBatch batch;
  batch.users.push_back(MakeUser(env_, "b1", "bo"));
  batch.users.push_back(with_link("b2", "bea", "t3"));
  auto written = store_->InsertUsers(batch);
  ASSERT_TRUE(written.has_value());
  ASSERT_EQ(written->size(), 2u);
  EXPECT_TRUE((*written)[0].has_value());
  EXPECT_TRUE((*written)[1].has_value());
  EXPECT_EQ(store_->FindRecords(env_, "activation.token", "t3", 1000)->size(), 1u);
  EXPECT_EQ(*store_->CountMail(), 2);
}

TEST_P(StoreConformanceTest, PurgeSessionsRemovesOnlyEndedSessions) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  // {digest, created, last used, expires}
  ASSERT_TRUE(store_->CreateSession(SessionRow{"expired", env_, "u1", 900, 990, 1000}).has_value());
  ASSERT_TRUE(store_->CreateSession(SessionRow{"idle", env_, "u1", 900, 500, 0}).has_value());
  ASSERT_TRUE(store_->CreateSession(SessionRow{"old", env_, "u1", 100, 990, 0}).has_value());
  ASSERT_TRUE(store_->CreateSession(SessionRow{"live", env_, "u1", 900, 990, 5000}).has_value());
  ASSERT_TRUE(store_->CreateSession(SessionRow{"forever", env_, "u1", 900, 990, 0}).has_value());
  // Rules off: only the absolute expiry counts.
  EXPECT_EQ(*store_->PurgeSessions(1000, 0, 0), 1);
  EXPECT_EQ(store_->FindSession("expired").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->FindSession("idle").has_value());
  EXPECT_TRUE(store_->FindSession("old").has_value());
  // Idle since 500 (at or before), created at or before 100.
  EXPECT_EQ(*store_->PurgeSessions(1000, 500, 100), 2);
  EXPECT_EQ(store_->FindSession("idle").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSession("old").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->FindSession("live").has_value());
  EXPECT_TRUE(store_->FindSession("forever").has_value());
  EXPECT_EQ(*store_->PurgeSessions(1000, 500, 100), 0);
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


// --- Listing and counting users

TEST_P(StoreConformanceTest, ConditionalDeleteRemovesOnlyTheExpectedVersion) {
  NewUser nu = MakeUser(env_, "u1", "ada");
  nu.password_hash = "$argon2id$p";
  nu.session = SessionRow{"tok-1", env_, "u1", 10, 10, 0};
  ASSERT_TRUE(store_->InsertUser(nu).has_value());
  UserUpdate up;
  up.row = UserRow{"u1", 0, env_, true, 1000, 2000, 2, "sealed:v2"};
  up.expected_version = 1;
  up.index = {{"username", "ada", true}};
  ASSERT_TRUE(store_->UpdateUser(up).has_value());

  EXPECT_EQ(store_->DeleteUser(env_, "u1", 1).error().code, ErrorCode::kAborted);  // stale: nothing removed
  EXPECT_EQ(store_->GetUser(env_, "u1")->sealed, "sealed:v2");
  EXPECT_TRUE(store_->FindSession("tok-1").has_value());
  EXPECT_EQ(*store_->GetPasswordHash(env_, "u1"), "$argon2id$p");
  EXPECT_EQ(store_->FindUsers(env_, "username", "ada")->size(), 1u);
  EXPECT_EQ(store_->DeleteUser(other_env_, "u1", 2).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteUser(env_, "missing", 2).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->DeleteUser(env_, "u1", 2).has_value());
  EXPECT_EQ(store_->GetUser(env_, "u1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSession("tok-1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteUser(env_, "u1", 2).error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g1", "group")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u2", "bob")).has_value());
  ASSERT_TRUE(store_->AddMember(env_, "g1", "u2").has_value());
  EXPECT_EQ(store_->DeleteRecord(env_, "group", "g1", 2).error().code, ErrorCode::kAborted);
  EXPECT_TRUE(store_->GetRecord(env_, "group", "g1", 0).has_value());
  EXPECT_EQ(*store_->CountMembers(env_, "g1"), 1);
  EXPECT_EQ(store_->DeleteRecord(env_, "population", "g1", 1).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->DeleteRecord(env_, "group", "g1", 1).has_value());
  EXPECT_EQ(store_->GetRecord(env_, "group", "g1", 0).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteRecord(env_, "group", "g1", 1).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, AConditionalDeleteAndAnUpdateOfOneVersionHaveOneWinner) {
  for (int round = 0; round < 10; ++round) {
    const std::string id = "race-" + std::to_string(round);
    ASSERT_TRUE(store_->InsertUser(MakeUser(env_, id, "digest-" + id)).has_value());
    std::latch start(2);
    Status updated, deleted;
    std::thread a([&] {
      UserUpdate up;
      up.row = UserRow{id, 0, env_, true, 1000, 2000, 2, "sealed:v2"};
      up.expected_version = 1;
      up.index = {{"username", "digest-" + id, true}};
      start.arrive_and_wait();
      updated = store_->UpdateUser(up);
    });
    std::thread b([&] {
      start.arrive_and_wait();
      deleted = store_->DeleteUser(env_, id, 1);
    });
    a.join();
    b.join();
    ASSERT_NE(updated.has_value(), deleted.has_value()) << round;
    if (updated) {
      EXPECT_EQ(deleted.error().code, ErrorCode::kAborted);
      EXPECT_EQ(store_->GetUser(env_, id)->version, 2);
    } else {
      EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);
      EXPECT_EQ(store_->GetUser(env_, id).error().code, ErrorCode::kNotFound);
    }
  }
}

TEST_P(StoreConformanceTest, ListsUsersInKeysetPagesWithinTheirEnvironment) {
  Strings expected;
  for (int i = 0; i < 7; ++i) {
    const std::string id = "u" + std::to_string(i);
    ASSERT_TRUE(store_->InsertUser(MakeUser(env_, id, "name-" + id)).has_value());
    expected.push_back(id);
    if (i % 2 == 0) {  // interleave the other environment's rows with ours
      ASSERT_TRUE(store_->InsertUser(MakeUser(other_env_, "o" + std::to_string(i), "name-" + id)).has_value());
    }
  }
  Strings seen;
  std::int64_t after = 0;
  std::vector<std::size_t> page_sizes;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = store_->ListUsers(env_, after, 3);
    ASSERT_TRUE(page.has_value());
    if (page->empty()) break;
    page_sizes.push_back(page->size());
    for (const auto& u : *page) {
      EXPECT_EQ(u.environment_id, env_);
      EXPECT_GT(u.number, after);  // strictly ascending: no overlap between pages
      after = u.number;
      seen.push_back(u.id);
    }
  }
  EXPECT_EQ(seen, expected);  // nothing skipped, nothing repeated, insertion order
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{3, 3, 1}));
  EXPECT_EQ(Ids(*store_->ListUsers(other_env_, 0, 100)), (Strings{"o0", "o2", "o4", "o6"}));
  EXPECT_EQ(*store_->CountUsers(env_), 7);
  EXPECT_EQ(*store_->CountUsers(other_env_), 4);
  EXPECT_EQ(*store_->CountUsers("env-none"), 0);
  EXPECT_EQ(*store_->UserNumberAt(env_, 0), store_->GetUser(env_, "u0")->number);
  EXPECT_EQ(*store_->UserNumberAt(env_, 4), store_->GetUser(env_, "u4")->number);
  EXPECT_EQ(*store_->UserNumberAt(env_, 7), 0);  // past the end
  EXPECT_EQ(*store_->UserNumberAt(other_env_, 1), store_->GetUser(other_env_, "o2")->number);
  EXPECT_EQ(*store_->UserNumberAt("env-none", 0), 0);
  EXPECT_TRUE(store_->ListUsers("env-none", 0, 10)->empty());
  EXPECT_TRUE(store_->ListUsers(env_, 0, 0)->empty());

  ASSERT_TRUE(store_->DeleteUser(env_, "u3").has_value());
  EXPECT_EQ(*store_->CountUsers(env_), 6);
  const auto first = store_->GetUser(env_, "u0")->number;
  EXPECT_EQ(Ids(*store_->ListUsers(env_, first, 3)), (Strings{"u1", "u2", "u4"}));
}

// Positions over thousands of numbers (SQLite counts users per 1,024 numbers): users of
// another environment between ours, a whole run of ours deleted (numbers 1,024 to 2,047,
// one of SQLite's blocks, left empty) and some scattered; every position must name the
// user a walk in number order finds there, and the one past the end nobody.
TEST_P(StoreConformanceTest, UserNumberAtFindsEveryPositionAcrossThousandsOfUsersAndDeletes) {
  int made = 0;
  for (int b = 0; b < 7; ++b) {
    UserBatch batch;
    for (int i = 0; i < 500; ++i, ++made) {
      const bool ours = made % 8 == 0;
      const std::string id = (ours ? "u" : "o") + std::to_string(made);
      batch.users.push_back(MakeUser(ours ? env_ : other_env_, id, "name-" + id));
    }
    auto written = store_->InsertUsers(batch);
    ASSERT_TRUE(written.has_value());
    for (const auto& w : *written) ASSERT_TRUE(w.has_value());
  }
  const auto walk = [&](const std::string& env) {
    std::vector<std::int64_t> numbers;
    std::int64_t after = 0;
    for (;;) {
      auto page = store_->ListUsers(env, after, 1000);
      EXPECT_TRUE(page.has_value());
      if (!page || page->empty()) return numbers;
      for (const auto& u : *page) numbers.push_back(after = u.number);
    }
  };
  auto ours = walk(env_);
  ASSERT_EQ(ours.size(), 3500u / 8 + 1);
  ASSERT_GT(ours.back(), 3000);
  int deleted = 0;
  const auto listed = store_->ListUsers(env_, 0, 1000);
  for (const auto& u : *listed) {
    if ((u.number >= 1024 && u.number < 2048) || u.number % 5 == 0) {
      ASSERT_TRUE(store_->DeleteUser(env_, u.id).has_value());
      ++deleted;
    }
  }
  ASSERT_GT(deleted, 128);
  for (const std::string& env : {env_, other_env_}) {
    const auto numbers = walk(env);
    EXPECT_EQ(*store_->CountUsers(env), static_cast<std::int64_t>(numbers.size()));
    for (std::size_t p = 0; p < numbers.size(); ++p) {
      ASSERT_EQ(*store_->UserNumberAt(env, static_cast<std::int64_t>(p)), numbers[p]) << env << " position " << p;
    }
    EXPECT_EQ(*store_->UserNumberAt(env, static_cast<std::int64_t>(numbers.size())), 0);
    EXPECT_EQ(*store_->UserNumberAt(env, -1), 0);
  }
  EXPECT_EQ(walk(env_).size(), ours.size() - static_cast<std::size_t>(deleted));
}

// --- Records

TEST_P(StoreConformanceTest, RecordsAreReadWithinTheirEnvironmentAndKind) {
  NewRecord nr = MakeRecord(env_, "g1", "group");
  nr.row.created_at_ms = 11;
  nr.row.updated_at_ms = 12;
  nr.row.version = 3;
  nr.row.expires_at_ms = 0;
  auto n = store_->InsertRecord(nr);
  ASSERT_TRUE(n.has_value());
  auto n2 = store_->InsertRecord(MakeRecord(other_env_, "g2", "group"));
  ASSERT_TRUE(n2.has_value());
  EXPECT_NE(*n, *n2);

  auto r = store_->GetRecord(env_, "group", "g1", 500);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->number, *n);
  EXPECT_EQ(r->id, "g1");
  EXPECT_EQ(r->environment_id, env_);
  EXPECT_EQ(r->kind, "group");
  EXPECT_EQ(r->created_at_ms, 11);
  EXPECT_EQ(r->updated_at_ms, 12);
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(r->expires_at_ms, 0);
  EXPECT_EQ(r->sealed, "sealed:g1");
  EXPECT_EQ(store_->GetRecord(other_env_, "group", "g1", 500).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetRecord(env_, "population", "g1", 500).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetRecord(env_, "group", "nope", 500).error().code, ErrorCode::kNotFound);

  // Ids are unique like user ids.
  auto dup = store_->InsertRecord(MakeRecord(env_, "g1", "group"));
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->GetRecord(env_, "group", "g1", 500)->sealed, "sealed:g1");

  // By number, across environments, still of one kind.
  auto by_number = store_->GetRecordByNumber("group", *n2, 500);
  ASSERT_TRUE(by_number.has_value());
  EXPECT_EQ(by_number->id, "g2");
  EXPECT_EQ(by_number->environment_id, other_env_);
  EXPECT_EQ(store_->GetRecordByNumber("group", *n, 500)->environment_id, env_);
  EXPECT_EQ(store_->GetRecordByNumber("population", *n2, 500).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetRecordByNumber("group", *n + *n2 + 100, 500).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, RecordNumbersAreNeverReused) {
  auto a = store_->InsertRecord(MakeRecord(env_, "a", "app"));
  auto b = store_->InsertRecord(MakeRecord(env_, "b", "app"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(store_->DeleteRecord(env_, "app", "b").has_value());
  auto c = store_->InsertRecord(MakeRecord(env_, "c", "app"));
  ASSERT_TRUE(c.has_value());
  EXPECT_GT(*b, *a);
  EXPECT_GT(*c, *b);
  EXPECT_EQ(store_->GetRecordByNumber("app", *b, 0).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, ListsRecordsInKeysetPagesOfOneKindAndEnvironment) {
  Strings expected;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "g" + std::to_string(i);
    ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, id, "group")).has_value());
    expected.push_back(id);
    ASSERT_TRUE(store_->InsertRecord(MakeRecord(other_env_, "o" + id, "group")).has_value());
    ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "p" + id, "population")).has_value());
    if (i == 2) {
      ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "expired", "group", 400)).has_value());
    }
  }
  Strings seen;
  std::int64_t after = 0;
  std::vector<std::size_t> page_sizes;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = store_->ListRecords(env_, "group", after, 2, 500);
    ASSERT_TRUE(page.has_value());
    if (page->empty()) break;
    page_sizes.push_back(page->size());
    for (const auto& r : *page) {
      EXPECT_EQ(r.environment_id, env_);
      EXPECT_EQ(r.kind, "group");
      EXPECT_GT(r.number, after);
      after = r.number;
      seen.push_back(r.id);
    }
  }
  EXPECT_EQ(seen, expected);  // the expired record is skipped, the pages stay full
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(store_->ListRecords(env_, "group", 0, 100, 399)->size(), 6u);  // not yet expired
  EXPECT_EQ(store_->ListRecords(other_env_, "group", 0, 100, 500)->size(), 5u);
  EXPECT_EQ(store_->ListRecords(env_, "population", 0, 100, 500)->size(), 5u);
  EXPECT_TRUE(store_->ListRecords(env_, "app", 0, 100, 500)->empty());
}

TEST_P(StoreConformanceTest, RecordUniqueClaimsRejectTheSecondRecordAndWriteNothing) {
  NewRecord a = MakeRecord(env_, "g1", "group");
  a.index = {{"group.name", "admins", true}, {"group.tag", "shared", false}};
  ASSERT_TRUE(store_->InsertRecord(a).has_value());

  NewRecord b = MakeRecord(env_, "g2", "group");
  b.index = {{"group.tag", "shared", false}, {"group.name", "admins", true}};
  b.mail = MakeMail(env_, 0, "welcome");
  auto dup = store_->InsertRecord(b);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(dup.error().field, "group.name");
  EXPECT_EQ(store_->GetRecord(env_, "group", "g2", 0).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindRecords(env_, "group.tag", "shared", 0)->size(), 1u);  // its other claim rolled back
  EXPECT_EQ(*store_->CountMail(), 0);                                           // and its mail

  // Another environment may hold the same claim; non-unique claims are shared.
  NewRecord c = MakeRecord(other_env_, "g3", "group");
  c.index = {{"group.name", "admins", true}};
  EXPECT_TRUE(store_->InsertRecord(c).has_value());
  b.index = {{"group.name", "staff", true}, {"group.tag", "shared", false}};
  ASSERT_TRUE(store_->InsertRecord(b).has_value());
  EXPECT_EQ(*store_->CountMail(), 1);  // enqueued with the record
  EXPECT_EQ(Ids(*store_->FindRecords(env_, "group.tag", "shared", 0)), (Strings{"g1", "g2"}));
  EXPECT_EQ(Ids(*store_->FindRecords(env_, "group.name", "admins", 0)), (Strings{"g1"}));
  EXPECT_EQ(Ids(*store_->FindRecords(other_env_, "group.name", "admins", 0)), (Strings{"g3"}));
  EXPECT_TRUE(store_->FindRecords(env_, "group.name", "nobody", 0)->empty());
}

TEST_P(StoreConformanceTest, RecordUpdatesCheckVersionAndReplaceClaims) {
  NewRecord a = MakeRecord(env_, "g1", "group");
  a.index = {{"group.name", "admins", true}};
  ASSERT_TRUE(store_->InsertRecord(a).has_value());
  NewRecord b = MakeRecord(env_, "g2", "group");
  b.index = {{"group.name", "staff", true}};
  ASSERT_TRUE(store_->InsertRecord(b).has_value());

  RecordUpdate up;
  up.row = RecordRow{"g1", 0, env_, "group", 1000, 2000, 2, 0, "sealed:v2"};
  up.expected_version = 1;
  up.index = {{"group.name", "root", true}};
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  auto r = store_->GetRecord(env_, "group", "g1", 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(r->updated_at_ms, 2000);
  EXPECT_EQ(r->created_at_ms, 1000);
  EXPECT_EQ(r->sealed, "sealed:v2");
  EXPECT_TRUE(store_->FindRecords(env_, "group.name", "admins", 0)->empty());  // old claim released
  EXPECT_EQ(Ids(*store_->FindRecords(env_, "group.name", "root", 0)), (Strings{"g1"}));
  NewRecord c = MakeRecord(env_, "g3", "group");
  c.index = {{"group.name", "admins", true}};
  EXPECT_TRUE(store_->InsertRecord(c).has_value());  // the released claim is free

  auto stale = store_->UpdateRecord(up);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, ErrorCode::kAborted);

  up.expected_version = 2;
  up.row.version = 3;
  up.row.sealed = "sealed:v3";
  up.index = {{"group.name", "staff", true}};
  auto clash = store_->UpdateRecord(up);
  ASSERT_FALSE(clash.has_value());
  EXPECT_EQ(clash.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(clash.error().field, "group.name");
  EXPECT_EQ(store_->GetRecord(env_, "group", "g1", 0)->sealed, "sealed:v2");  // rolled back whole
  EXPECT_EQ(Ids(*store_->FindRecords(env_, "group.name", "root", 0)), (Strings{"g1"}));

  // An update may set an expiry, after which the record is gone for readers.
  up.index = {};
  up.row.expires_at_ms = 3000;
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  EXPECT_EQ(store_->GetRecord(env_, "group", "g1", 2999)->expires_at_ms, 3000);
  EXPECT_EQ(store_->GetRecord(env_, "group", "g1", 3000).error().code, ErrorCode::kNotFound);

  up.expected_version = 3;
  up.row.kind = "population";  // id + environment + kind select the record
  EXPECT_EQ(store_->UpdateRecord(up).error().code, ErrorCode::kNotFound);
  up.row.kind = "group";
  up.row.environment_id = other_env_;
  EXPECT_EQ(store_->UpdateRecord(up).error().code, ErrorCode::kNotFound);
  up.row.environment_id = env_;
  up.row.id = "missing";
  EXPECT_EQ(store_->UpdateRecord(up).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, DeletingARecordFreesItsClaimsAndMemberships) {
  NewRecord a = MakeRecord(env_, "g1", "group");
  a.index = {{"group.name", "admins", true}};
  ASSERT_TRUE(store_->InsertRecord(a).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  ASSERT_TRUE(store_->AddMember(env_, "g1", "u1").has_value());

  EXPECT_EQ(store_->DeleteRecord(other_env_, "group", "g1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteRecord(env_, "population", "g1").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->DeleteRecord(env_, "group", "g1").has_value());
  EXPECT_EQ(store_->GetRecord(env_, "group", "g1", 0).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->FindRecords(env_, "group.name", "admins", 0)->empty());
  EXPECT_TRUE(store_->ListMemberships(env_, "u1", "group")->empty());
  EXPECT_EQ(store_->DeleteRecord(env_, "group", "g1").error().code, ErrorCode::kNotFound);

  NewRecord b = MakeRecord(env_, "g2", "group");
  b.index = {{"group.name", "admins", true}};
  EXPECT_TRUE(store_->InsertRecord(b).has_value());  // claim freed
}

TEST_P(StoreConformanceTest, ExpiredRecordsAreInvisibleToEveryRead) {
  NewRecord t = MakeRecord(env_, "t1", "token", 5000);
  t.index = {{"token.digest", "d1", true}};
  auto n = store_->InsertRecord(t);
  ASSERT_TRUE(n.has_value());
  NewRecord forever = MakeRecord(env_, "t2", "token", 0);
  forever.index = {{"token.digest", "d2", true}};
  ASSERT_TRUE(store_->InsertRecord(forever).has_value());

  // Live up to the instant before expires_at.
  EXPECT_TRUE(store_->GetRecord(env_, "token", "t1", 4999).has_value());
  EXPECT_TRUE(store_->GetRecordByNumber("token", *n, 4999).has_value());
  EXPECT_EQ(store_->FindRecords(env_, "token.digest", "d1", 4999)->size(), 1u);
  EXPECT_EQ(store_->ListRecords(env_, "token", 0, 10, 4999)->size(), 2u);

  // Expired from expires_at on.
  for (const std::int64_t now : {std::int64_t{5000}, std::int64_t{1} << 50}) {
    EXPECT_EQ(store_->GetRecord(env_, "token", "t1", now).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->GetRecordByNumber("token", *n, now).error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(store_->FindRecords(env_, "token.digest", "d1", now)->empty());
    EXPECT_EQ(Ids(*store_->ListRecords(env_, "token", 0, 10, now)), (Strings{"t2"}));
    // expires_at 0 means never.
    EXPECT_TRUE(store_->GetRecord(env_, "token", "t2", now).has_value());
    EXPECT_EQ(store_->FindRecords(env_, "token.digest", "d2", now)->size(), 1u);
  }
}

TEST_P(StoreConformanceTest, PurgeRemovesOnlyExpiredRecordsAndFreesTheirClaims) {
  NewRecord soon = MakeRecord(env_, "t1", "token", 5000);
  soon.index = {{"token.digest", "d1", true}};
  ASSERT_TRUE(store_->InsertRecord(soon).has_value());
  NewRecord later = MakeRecord(other_env_, "t2", "token", 9000);
  ASSERT_TRUE(store_->InsertRecord(later).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "t3", "token", 0)).has_value());
  EXPECT_EQ(*store_->PurgeExpiredRecords(4999), 0);
  EXPECT_EQ(*store_->PurgeExpiredRecords(5000), 1);
  EXPECT_EQ(*store_->PurgeExpiredRecords(5000), 0);
  // The unique claim went with the record: a new one may take it.
  NewRecord again = MakeRecord(env_, "t4", "token", 0);
  again.index = {{"token.digest", "d1", true}};
  EXPECT_TRUE(store_->InsertRecord(again).has_value());
  EXPECT_EQ(*store_->PurgeExpiredRecords(std::int64_t{1} << 50), 1);
  EXPECT_EQ(Ids(*store_->ListRecords(env_, "token", 0, 10, 0)), (Strings{"t3", "t4"}));
}

TEST_P(StoreConformanceTest, TakeRecordReturnsALiveRecordExactlyOnce) {
  NewRecord t = MakeRecord(env_, "t1", "token", 5000);
  t.index = {{"token.digest", "d1", true}};
  ASSERT_TRUE(store_->InsertRecord(t).has_value());
  EXPECT_EQ(store_->TakeRecord(other_env_, "token", "t1", 100).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->TakeRecord(env_, "group", "t1", 100).error().code, ErrorCode::kNotFound);
  auto taken = store_->TakeRecord(env_, "token", "t1", 100);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->id, "t1");
  EXPECT_EQ(taken->environment_id, env_);
  EXPECT_EQ(taken->sealed, "sealed:t1");
  EXPECT_EQ(taken->expires_at_ms, 5000);
  EXPECT_EQ(store_->TakeRecord(env_, "token", "t1", 100).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetRecord(env_, "token", "t1", 100).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->FindRecords(env_, "token.digest", "d1", 100)->empty());

  // An expired record cannot be taken, and is removed by the attempt.
  ASSERT_TRUE(store_->InsertRecord(t).has_value());
  EXPECT_EQ(store_->TakeRecord(env_, "token", "t1", 5000).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetRecord(env_, "token", "t1", 100).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->InsertRecord(t).has_value());  // id and claim were freed
}

TEST_P(StoreConformanceTest, ConcurrentTakesOfOneRecordHaveOneWinner) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 3; ++round) {
    const std::string id = "t" + std::to_string(round);
    ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, id, "token", 5000)).has_value());
    std::atomic<int> ok{0}, absent{0}, other{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        auto r = store_->TakeRecord(env_, "token", id, 100);
        if (r) ++ok;
        else if (r.error().code == ErrorCode::kNotFound) ++absent;
        else ++other;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(absent, kThreads - 1);
    EXPECT_EQ(other, 0);
  }
}

// --- Memberships

TEST_P(StoreConformanceTest, MembershipsAreIdempotentAndScopedToTheEnvironment) {
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g1", "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "p1", "population")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(other_env_, "g9", "group")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u2", "bob")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(other_env_, "u9", "ada")).has_value());

  ASSERT_TRUE(store_->AddMember(env_, "g1", "u1").has_value());
  ASSERT_TRUE(store_->AddMember(env_, "g1", "u1").has_value());  // idempotent
  ASSERT_TRUE(store_->AddMember(env_, "p1", "u1").has_value());
  EXPECT_EQ(*store_->CountMembers(env_, "g1"), 1);
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u1"}));
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "group")), (Strings{"g1"}));
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "population")), (Strings{"p1"}));
  EXPECT_TRUE(store_->ListMemberships(env_, "u2", "group")->empty());
  EXPECT_EQ(*store_->CountMembers(env_, "p1"), 1);

  // Ids from another environment, or none, name what is missing.
  auto check = [](const Status& st, const char* field) {
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(st.error().field, field);
  };
  check(store_->AddMember(env_, "g1", "u9"), "user");
  check(store_->AddMember(env_, "g9", "u1"), "record");
  check(store_->AddMember(env_, "g1", "nobody"), "user");
  check(store_->AddMember(env_, "nothing", "u1"), "record");
  check(store_->AddMember(other_env_, "g9", "u1"), "user");
  check(store_->RemoveMember(env_, "g1", "u9"), "user");
  check(store_->RemoveMember(env_, "g9", "u1"), "record");
  EXPECT_EQ(*store_->CountMembers(other_env_, "g9"), 0);

  auto members = store_->ListMembers(env_, "g9", 0, 10);
  ASSERT_FALSE(members.has_value());
  EXPECT_EQ(members.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(members.error().field, "record");
  auto count = store_->CountMembers(env_, "g9");
  ASSERT_FALSE(count.has_value());
  EXPECT_EQ(count.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(count.error().field, "record");
  auto memberships = store_->ListMemberships(env_, "u9", "group");
  ASSERT_FALSE(memberships.has_value());
  EXPECT_EQ(memberships.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(memberships.error().field, "user");

  // Removing a non-member is an error; removing a member is not.
  EXPECT_EQ(store_->RemoveMember(env_, "g1", "u2").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->RemoveMember(env_, "g1", "u1").has_value());
  EXPECT_EQ(store_->RemoveMember(env_, "g1", "u1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(*store_->CountMembers(env_, "g1"), 0);
  EXPECT_TRUE(store_->ListMembers(env_, "g1", 0, 10)->empty());
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "population")), (Strings{"p1"}));  // untouched
}

TEST_P(StoreConformanceTest, ListsMembersInKeysetPagesOfUserNumber) {
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g1", "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g2", "group")).has_value());
  Strings expected;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "u" + std::to_string(i);
    ASSERT_TRUE(store_->InsertUser(MakeUser(env_, id, id)).has_value());
    expected.push_back(id);
    ASSERT_TRUE(store_->AddMember(env_, "g2", id).has_value());
  }
  // Joined in reverse, listed in user-number order all the same.
  for (int i = 4; i >= 0; --i) ASSERT_TRUE(store_->AddMember(env_, "g1", expected[i]).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "outsider", "outsider")).has_value());

  Strings seen;
  std::int64_t after = 0;
  std::vector<std::size_t> page_sizes;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = store_->ListMembers(env_, "g1", after, 2);
    ASSERT_TRUE(page.has_value());
    if (page->empty()) break;
    page_sizes.push_back(page->size());
    for (const auto& u : *page) {
      EXPECT_GT(u.number, after);
      after = u.number;
      seen.push_back(u.id);
    }
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(*store_->CountMembers(env_, "g1"), 5);
  auto first = store_->ListMembers(env_, "g1", 0, 1);
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ(first->front().sealed, "sealed:u0");  // whole rows
}

TEST_P(StoreConformanceTest, SetMembersReplacesTheMembersAllOrNothing) {
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g1", "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g2", "group")).has_value());
  for (const char* id : {"u1", "u2", "u3"}) ASSERT_TRUE(store_->InsertUser(MakeUser(env_, id, id)).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(other_env_, "u9", "u9")).has_value());
  ASSERT_TRUE(store_->AddMember(env_, "g2", "u1").has_value());

  ASSERT_TRUE(store_->SetMembers(env_, "g1", {"u1", "u2"}).has_value());
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u1", "u2"}));
  ASSERT_TRUE(store_->SetMembers(env_, "g1", {"u3", "u2"}).has_value());
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u2", "u3"}));

  // One id that is not the environment's, and nothing changes.
  for (const Strings& bad : {Strings{"u1", "nobody"}, Strings{"u9"}, Strings{"u1", "u9", "u2"}}) {
    auto st = store_->SetMembers(env_, "g1", bad);
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(st.error().field, "user");
    EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u2", "u3"}));
  }
  auto no_record = store_->SetMembers(env_, "nothing", {"u1"});
  ASSERT_FALSE(no_record.has_value());
  EXPECT_EQ(no_record.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(no_record.error().field, "record");

  ASSERT_TRUE(store_->SetMembers(env_, "g1", {"u1", "u1"}).has_value());  // repeats are harmless
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u1"}));
  ASSERT_TRUE(store_->SetMembers(env_, "g1", {}).has_value());
  EXPECT_EQ(*store_->CountMembers(env_, "g1"), 0);
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g2", 0, 10)), (Strings{"u1"}));  // other records untouched
}

TEST_P(StoreConformanceTest, SetMembershipsReplacesOnlyRecordsOfTheKind) {
  for (const char* id : {"g1", "g2", "g3"}) ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, id, "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "p1", "population")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(other_env_, "g9", "group")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u2", "bob")).has_value());
  ASSERT_TRUE(store_->AddMember(env_, "g1", "u1").has_value());
  ASSERT_TRUE(store_->AddMember(env_, "p1", "u1").has_value());
  ASSERT_TRUE(store_->AddMember(env_, "g1", "u2").has_value());

  ASSERT_TRUE(store_->SetMemberships(env_, "u1", "group", {"g3", "g2"}).has_value());
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "group")), (Strings{"g2", "g3"}));
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "population")), (Strings{"p1"}));
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u2"}));  // other users untouched

  // A missing id, another environment's, or a record of another kind: nothing changes.
  for (const Strings& bad : {Strings{"g1", "nothing"}, Strings{"g9"}, Strings{"g1", "p1"}}) {
    auto st = store_->SetMemberships(env_, "u1", "group", bad);
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(st.error().field, "record");
    EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "group")), (Strings{"g2", "g3"}));
  }
  auto no_user = store_->SetMemberships(env_, "nobody", "group", {"g1"});
  ASSERT_FALSE(no_user.has_value());
  EXPECT_EQ(no_user.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(no_user.error().field, "user");

  ASSERT_TRUE(store_->SetMemberships(env_, "u1", "group", {}).has_value());
  EXPECT_TRUE(store_->ListMemberships(env_, "u1", "group")->empty());
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "population")), (Strings{"p1"}));
}

TEST_P(StoreConformanceTest, DeletingAUserOrARecordRemovesItsMemberships) {
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g1", "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g2", "group")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u2", "bob")).has_value());
  for (const char* g : {"g1", "g2"}) {
    for (const char* u : {"u1", "u2"}) ASSERT_TRUE(store_->AddMember(env_, g, u).has_value());
  }
  ASSERT_TRUE(store_->DeleteUser(env_, "u1").has_value());
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u2"}));
  EXPECT_EQ(*store_->CountMembers(env_, "g2"), 1);
  ASSERT_TRUE(store_->DeleteRecord(env_, "group", "g1").has_value());
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u2", "group")), (Strings{"g2"}));
  // A new user with the deleted one's id starts with no memberships.
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  EXPECT_TRUE(store_->ListMemberships(env_, "u1", "group")->empty());
}

TEST_P(StoreConformanceTest, InsertUserJoinsRecordsInTheSameTransaction) {
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g1", "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "p1", "population")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(other_env_, "g9", "group")).has_value());

  NewUser nu = MakeUser(env_, "u1", "ada");
  nu.member_of = {"g1", "p1"};
  ASSERT_TRUE(store_->InsertUser(nu).has_value());
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "group")), (Strings{"g1"}));
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "population")), (Strings{"p1"}));
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u1"}));

  // A record that is missing or another environment's: no user, no claim, no session.
  for (const Strings& bad : {Strings{"g1", "nothing"}, Strings{"g9"}}) {
    NewUser other = MakeUser(env_, "u2", "bob");
    other.member_of = bad;
    other.password_hash = "$argon2id$p";
    other.session = SessionRow{"tok-2", env_, "u2", 10, 10, 0};
    auto r = store_->InsertUser(other);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(r.error().field, "record");
    EXPECT_EQ(store_->GetUser(env_, "u2").error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->FindSession("tok-2").error().code, ErrorCode::kNotFound);
    EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u1"}));
  }
  EXPECT_TRUE(store_->InsertUser(MakeUser(env_, "u2", "bob")).has_value());  // the claim was never taken
}

TEST_P(StoreConformanceTest, InsertRecordJoinsMembersInTheSameTransaction) {
  for (const char* id : {"u1", "u2"}) ASSERT_TRUE(store_->InsertUser(MakeUser(env_, id, id)).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(other_env_, "u9", "u9")).has_value());

  NewRecord g1 = MakeRecord(env_, "g1", "group");
  g1.index = {{"group.name", "admins", true}};
  g1.members = {"u2", "u1", "u2"};  // repeats are harmless
  ASSERT_TRUE(store_->InsertRecord(g1).has_value());
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u1", "u2"}));
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u2", "group")), (Strings{"g1"}));

  // A user that is missing or another environment's: no record, no claim, no mail.
  for (const Strings& bad : {Strings{"u1", "nobody"}, Strings{"u9"}}) {
    NewRecord g2 = MakeRecord(env_, "g2", "group");
    g2.index = {{"group.name", "staff", true}};
    g2.mail = MakeMail(env_, 1, "welcome");
    g2.members = bad;
    auto r = store_->InsertRecord(g2);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(r.error().field, "user");
    EXPECT_EQ(store_->GetRecord(env_, "group", "g2", 0).error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(store_->FindRecords(env_, "group.name", "staff", 0)->empty());
    EXPECT_EQ(*store_->CountMail(), 0);
    EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "group")), (Strings{"g1"}));
  }
  NewRecord g2 = MakeRecord(env_, "g2", "group");
  g2.index = {{"group.name", "staff", true}};
  EXPECT_TRUE(store_->InsertRecord(g2).has_value());  // the claim was never taken
  EXPECT_EQ(*store_->CountMembers(env_, "g2"), 0);
}

TEST_P(StoreConformanceTest, UpdateRecordReplacesMembersInTheSameTransaction) {
  for (const char* id : {"u1", "u2", "u3"}) ASSERT_TRUE(store_->InsertUser(MakeUser(env_, id, id)).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(other_env_, "u9", "u9")).has_value());
  NewRecord g1 = MakeRecord(env_, "g1", "group");
  g1.index = {{"group.name", "admins", true}};
  g1.members = {"u1", "u2"};
  ASSERT_TRUE(store_->InsertRecord(g1).has_value());
  NewRecord g2 = MakeRecord(env_, "g2", "group");
  g2.members = {"u1"};
  ASSERT_TRUE(store_->InsertRecord(g2).has_value());

  RecordUpdate up;
  up.row = RecordRow{"g1", 0, env_, "group", 1000, 2000, 2, 0, "sealed:v2"};
  up.expected_version = 1;
  up.index = {{"group.name", "root", true}};
  up.members = Strings{"u3", "u2"};
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  EXPECT_EQ(store_->GetRecord(env_, "group", "g1", 0)->sealed, "sealed:v2");
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u2", "u3"}));
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g2", 0, 10)), (Strings{"u1"}));  // other records untouched

  // Without `members` the members stay.
  up.expected_version = 2;
  up.row.version = 3;
  up.row.sealed = "sealed:v3";
  up.members.reset();
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u2", "u3"}));

  // A user that is missing or another environment's: body, claims and members unchanged.
  up.expected_version = 3;
  up.row.version = 4;
  up.row.sealed = "sealed:v4";
  up.index = {{"group.name", "wheel", true}};
  for (const Strings& bad : {Strings{"u1", "nobody"}, Strings{"u9"}}) {
    up.members = bad;
    auto st = store_->UpdateRecord(up);
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(st.error().field, "user");
    auto r = store_->GetRecord(env_, "group", "g1", 0);
    EXPECT_EQ(r->version, 3);
    EXPECT_EQ(r->sealed, "sealed:v3");
    EXPECT_EQ(Ids(*store_->FindRecords(env_, "group.name", "root", 0)), (Strings{"g1"}));
    EXPECT_TRUE(store_->FindRecords(env_, "group.name", "wheel", 0)->empty());
    EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u2", "u3"}));
  }
  up.members = Strings{};  // empty: no members left
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  EXPECT_EQ(*store_->CountMembers(env_, "g1"), 0);
}

TEST_P(StoreConformanceTest, UpdateUserReplacesMembershipsInTheSameTransaction) {
  for (const char* id : {"g1", "g2", "g3"}) ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, id, "group")).has_value());
  for (const char* id : {"p1", "p2"})
    ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, id, "population")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(other_env_, "g9", "group")).has_value());
  NewUser nu = MakeUser(env_, "u1", "ada");
  nu.member_of = {"g1", "p1"};
  nu.password_hash = "$argon2id$old";
  nu.session = SessionRow{"tok-1", env_, "u1", 10, 10, 0};
  ASSERT_TRUE(store_->InsertUser(nu).has_value());
  NewUser other = MakeUser(env_, "u2", "bob");
  other.member_of = {"g1"};
  ASSERT_TRUE(store_->InsertUser(other).has_value());

  UserUpdate up;
  up.row = UserRow{"u1", 0, env_, true, 1000, 2000, 2, "sealed:v2"};
  up.expected_version = 1;
  up.index = {{"username", "ada", true}};
  up.memberships = {{"group", {"g3", "g2"}}, {"population", {"p2"}}};
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  EXPECT_EQ(store_->GetUser(env_, "u1")->sealed, "sealed:v2");
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "group")), (Strings{"g2", "g3"}));
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "population")), (Strings{"p2"}));
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u2"}));  // other users untouched

  // Only the kinds named are replaced.
  up.expected_version = 2;
  up.row.version = 3;
  up.row.sealed = "sealed:v3";
  up.memberships = {{"group", {"g1"}}};
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "group")), (Strings{"g1"}));
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "population")), (Strings{"p2"}));

  // A record that is missing, another environment's or of another kind: the profile,
  // claims, password, sessions and every membership stay as they were.
  up.expected_version = 3;
  up.row.version = 4;
  up.row.sealed = "sealed:v4";
  up.index = {{"username", "ada2", true}};
  up.password_hash = "$argon2id$new";
  up.revoke_sessions = true;
  for (const Strings& bad : {Strings{"g2", "nothing"}, Strings{"g9"}, Strings{"p1"}}) {
    up.memberships = {{"population", {"p1"}}, {"group", bad}};
    auto st = store_->UpdateUser(up);
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(st.error().field, "record");
    auto u = store_->GetUser(env_, "u1");
    EXPECT_EQ(u->version, 3);
    EXPECT_EQ(u->sealed, "sealed:v3");
    EXPECT_EQ(store_->FindUsers(env_, "username", "ada")->size(), 1u);
    EXPECT_TRUE(store_->FindUsers(env_, "username", "ada2")->empty());
    EXPECT_EQ(*store_->GetPasswordHash(env_, "u1"), "$argon2id$old");
    EXPECT_TRUE(store_->FindSession("tok-1").has_value());
    EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "group")), (Strings{"g1"}));
    EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "population")), (Strings{"p2"}));
  }
  up.memberships = {{"group", {}}};  // empty: out of every group
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  EXPECT_TRUE(store_->ListMemberships(env_, "u1", "group")->empty());
  EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "population")), (Strings{"p2"}));
}

// --- Records in records (groups in groups)

TEST_P(StoreConformanceTest, RecordsContainRecordsOfTheirKindAndEnvironment) {
  for (const char* id : {"g2", "g3", "g4"}) ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, id, "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "p1", "population")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(other_env_, "g9", "group")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());

  NewRecord g1 = MakeRecord(env_, "g1", "group");
  g1.index = {{"group.name", "admins", true}};
  g1.members = {"u1"};
  g1.member_records = {"g4", "g2", "g4", "g3"};  // repeats are harmless
  ASSERT_TRUE(store_->InsertRecord(g1).has_value());
  EXPECT_EQ(Ids(*store_->ListMemberRecords(env_, "g1", 0, 10)), (Strings{"g2", "g3", "g4"}));
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u1"}));  // users and records apart
  EXPECT_TRUE(store_->ListMemberRecords(env_, "g2", 0, 10)->empty());

  // Keyset pages in record-number order.
  Strings seen;
  std::int64_t after = 0;
  for (int guard = 0; guard < 5; ++guard) {
    auto page = store_->ListMemberRecords(env_, "g1", after, 2);
    ASSERT_TRUE(page.has_value());
    if (page->empty()) break;
    EXPECT_LE(page->size(), 2u);
    for (const auto& r : *page) {
      EXPECT_GT(r.number, after);
      after = r.number;
      seen.push_back(r.id);
    }
  }
  EXPECT_EQ(seen, (Strings{"g2", "g3", "g4"}));
  EXPECT_EQ(store_->ListMemberRecords(env_, "g1", 0, 1)->front().sealed, "sealed:g2");  // whole rows

  // A member that is missing, another environment's or of another kind: no record, no
  // claim, no members.
  for (const Strings& bad : {Strings{"g2", "nothing"}, Strings{"g9"}, Strings{"p1"}}) {
    NewRecord g5 = MakeRecord(env_, "g5", "group");
    g5.index = {{"group.name", "staff", true}};
    g5.members = {"u1"};
    g5.member_records = bad;
    auto r = store_->InsertRecord(g5);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(r.error().field, "member");
    EXPECT_EQ(store_->GetRecord(env_, "group", "g5", 0).error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(store_->FindRecords(env_, "group.name", "staff", 0)->empty());
    EXPECT_EQ(Ids(*store_->ListMemberships(env_, "u1", "group")), (Strings{"g1"}));
  }
  for (const std::string& env : {env_, other_env_}) {
    auto missing = store_->ListMemberRecords(env, env == env_ ? "nothing" : "g1", 0, 10);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(missing.error().field, "record");
  }
}

TEST_P(StoreConformanceTest, RecordUpdatesChangeMemberRecordsAndRefuseCycles) {
  for (const char* id : {"g1", "g2", "g3", "g4"})
    ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, id, "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "p1", "population")).has_value());
  for (const char* id : {"u1", "u2"}) ASSERT_TRUE(store_->InsertUser(MakeUser(env_, id, id)).has_value());

  // g1 > g2 > g3, by replacement and by change.
  auto up = Touch(*store_, env_, "group", "g1");
  up.member_records = Strings{"g2"};
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  up = Touch(*store_, env_, "group", "g2");
  up.changes.add_records = {"g3"};
  up.changes.add_users = {"u1"};
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  EXPECT_EQ(Ids(*store_->ListMemberRecords(env_, "g2", 0, 10)), (Strings{"g3"}));
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g2", 0, 10)), (Strings{"u1"}));
  EXPECT_EQ(store_->GetRecord(env_, "group", "g2", 0)->version, 2);

  // Itself, its container, its container's container: refused, nothing of the write
  // stays (body, claims, users, records).
  const std::vector<std::pair<std::string, Strings>> cycles = {
      {"g1", {"g1"}}, {"g2", {"g1"}}, {"g3", {"g4", "g1"}}, {"g3", {"g2"}}};
  for (const auto& [id, members] : cycles) {
    for (bool replace : {false, true}) {
      up = Touch(*store_, env_, "group", id);
      const std::int64_t version = up.expected_version;
      up.row.sealed = "sealed:changed";
      up.index = {{"group.name", "changed", true}};
      up.changes.add_users = {"u2"};
      if (replace) up.member_records = members;
      else up.changes.add_records = members;
      auto st = store_->UpdateRecord(up);
      ASSERT_FALSE(st.has_value()) << id;
      EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << id;
      EXPECT_EQ(st.error().field, "members") << id;
      auto row = store_->GetRecord(env_, "group", id, 0);
      EXPECT_EQ(row->version, version);
      EXPECT_NE(row->sealed, "sealed:changed");
      EXPECT_TRUE(store_->FindRecords(env_, "group.name", "changed", 0)->empty());
      EXPECT_TRUE(store_->ListMemberships(env_, "u2", "group")->empty());
    }
  }
  EXPECT_EQ(Ids(*store_->ListMemberRecords(env_, "g1", 0, 10)), (Strings{"g2"}));
  EXPECT_EQ(Ids(*store_->ListMemberRecords(env_, "g2", 0, 10)), (Strings{"g3"}));
  EXPECT_TRUE(store_->ListMemberRecords(env_, "g3", 0, 10)->empty());

  // A missing member or one of another kind names "member"; a sibling is fine.
  for (const Strings& bad : {Strings{"nothing"}, Strings{"p1"}}) {
    up = Touch(*store_, env_, "group", "g3");
    up.changes.add_records = bad;
    auto st = store_->UpdateRecord(up);
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(st.error().field, "member");
  }
  up = Touch(*store_, env_, "group", "g3");
  up.changes.add_records = {"g4"};
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  up = Touch(*store_, env_, "group", "g1");
  up.changes.add_records = {"g4", "g3"};  // a diamond is no cycle
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  EXPECT_EQ(Ids(*store_->ListMemberRecords(env_, "g1", 0, 10)), (Strings{"g2", "g3", "g4"}));

  // Removals, then additions; removing what is not there is no error.
  up = Touch(*store_, env_, "group", "g1");
  up.changes.remove_records = {"g2", "g4", "nothing", "p1"};
  up.changes.remove_users = {"u1", "nobody"};
  up.changes.add_users = {"u2"};
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  EXPECT_EQ(Ids(*store_->ListMemberRecords(env_, "g1", 0, 10)), (Strings{"g3"}));
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u2"}));
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g2", 0, 10)), (Strings{"u1"}));  // other records untouched

  // Without member_records or changes, the members stay; an empty replacement clears.
  up = Touch(*store_, env_, "group", "g1");
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  EXPECT_EQ(Ids(*store_->ListMemberRecords(env_, "g1", 0, 10)), (Strings{"g3"}));
  up = Touch(*store_, env_, "group", "g1");
  up.member_records = Strings{};
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  EXPECT_TRUE(store_->ListMemberRecords(env_, "g1", 0, 10)->empty());
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u2"}));
}

TEST_P(StoreConformanceTest, DeletingARecordRemovesItsMembershipsBothWays) {
  for (const char* id : {"g1", "g2", "g3"}) ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, id, "group")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  auto up = Touch(*store_, env_, "group", "g1");
  up.member_records = Strings{"g2"};
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  up = Touch(*store_, env_, "group", "g2");
  up.member_records = Strings{"g3"};
  up.members = Strings{"u1"};
  ASSERT_TRUE(store_->UpdateRecord(up).has_value());

  ASSERT_TRUE(store_->DeleteRecord(env_, "group", "g2").has_value());
  EXPECT_TRUE(store_->ListMemberRecords(env_, "g1", 0, 10)->empty());
  EXPECT_EQ(store_->ListContainingRecords(env_, "g3", true, "group", 8, 10)->size(), 0u);
  EXPECT_TRUE(store_->ListMemberships(env_, "u1", "group")->empty());
  // A new record with the deleted one's id starts with no members and in no record.
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g2", "group")).has_value());
  EXPECT_TRUE(store_->ListMemberRecords(env_, "g2", 0, 10)->empty());
  EXPECT_TRUE(store_->ListContainingRecords(env_, "g2", true, "group", 8, 10)->empty());
  // Expiry purges cascade the same way.
  NewRecord t = MakeRecord(env_, "g4", "group", 500);
  t.member_records = {"g3"};
  ASSERT_TRUE(store_->InsertRecord(t).has_value());
  EXPECT_EQ(Ids(*store_->ListMemberRecords(env_, "g4", 0, 10)), (Strings{"g3"}));
  EXPECT_EQ(*store_->PurgeExpiredRecords(1000), 1);
  EXPECT_TRUE(store_->ListContainingRecords(env_, "g3", true, "group", 8, 10)->empty());
}

TEST_P(StoreConformanceTest, ListsContainingRecordsByDepthWithinBounds) {
  // u1 in g4 and g5; g3 > g4; g2 > g3; g1 > g2 and g1 > g4 (a diamond); g6 > g1. p1 holds u1.
  for (const char* id : {"g1", "g2", "g3", "g4", "g5", "g6", "g7"})
    ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, id, "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "p1", "population")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u2", "bob")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(other_env_, "u9", "ada")).has_value());
  for (const char* g : {"g4", "g5", "p1"}) ASSERT_TRUE(store_->AddMember(env_, g, "u1").has_value());
  const std::vector<std::pair<std::string, Strings>> edges = {
      {"g3", {"g4"}}, {"g2", {"g3"}}, {"g1", {"g2", "g4"}}, {"g6", {"g1"}}};
  for (const auto& [parent, children] : edges) {
    auto up = Touch(*store_, env_, "group", parent);
    up.member_records = children;
    ASSERT_TRUE(store_->UpdateRecord(up).has_value());
  }

  EXPECT_EQ(Depths(*store_->ListContainingRecords(env_, "u1", false, "group", 10, 100)),
            (Depthed{{"g4", 1}, {"g5", 1}, {"g1", 2}, {"g3", 2}, {"g2", 3}, {"g6", 3}}));
  EXPECT_EQ(Depths(*store_->ListContainingRecords(env_, "u1", false, "population", 10, 100)), (Depthed{{"p1", 1}}));
  // Bounded by depth and by count.
  EXPECT_EQ(Depths(*store_->ListContainingRecords(env_, "u1", false, "group", 1, 100)),
            (Depthed{{"g4", 1}, {"g5", 1}}));
  EXPECT_EQ(Depths(*store_->ListContainingRecords(env_, "u1", false, "group", 2, 3)),
            (Depthed{{"g4", 1}, {"g5", 1}, {"g1", 2}}));
  EXPECT_TRUE(store_->ListContainingRecords(env_, "u1", false, "group", 0, 100)->empty());
  // From a record.
  EXPECT_EQ(Depths(*store_->ListContainingRecords(env_, "g4", true, "group", 10, 100)),
            (Depthed{{"g1", 1}, {"g3", 1}, {"g2", 2}, {"g6", 2}}));
  EXPECT_TRUE(store_->ListContainingRecords(env_, "g6", true, "group", 10, 100)->empty());
  EXPECT_TRUE(store_->ListContainingRecords(env_, "u2", false, "group", 10, 100)->empty());
  auto rows = store_->ListContainingRecords(env_, "u1", false, "group", 1, 1);
  EXPECT_EQ(rows->front().row.sealed, "sealed:g4");  // whole rows

  // A member the environment does not have.
  for (const auto& [id, is_record, field] :
       std::vector<std::tuple<std::string, bool, std::string>>{{"u9", false, "user"}, {"nobody", false, "user"},
                                                               {"nothing", true, "record"}, {"u1", true, "record"}}) {
    auto r = store_->ListContainingRecords(env_, id, is_record, "group", 10, 100);
    ASSERT_FALSE(r.has_value()) << id;
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(r.error().field, field);
  }
}

TEST_P(StoreConformanceTest, ConcurrentNestingWritesCannotCloseACycle) {
  // b > c and d > a exist; "a gets b" and "c gets d" race. Either alone is fine, both
  // close a > b > c > d > a: exactly one may win, however the writes interleave. The
  // two writes lock disjoint rows, so only the store's own serialisation can stop them.
  for (int round = 0; round < 20; ++round) {
    const std::string n = std::to_string(round);
    const std::string a = "a" + n, b = "b" + n, c = "c" + n, d = "d" + n;
    for (const auto& id : {a, b, c, d}) ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, id, "group")).has_value());
    for (const auto& [parent, child] : {std::pair{b, c}, std::pair{d, a}}) {
      auto up = Touch(*store_, env_, "group", parent);
      up.member_records = Strings{child};
      ASSERT_TRUE(store_->UpdateRecord(up).has_value());
    }
    std::latch start(2);
    Status first, second;
    auto one = Touch(*store_, env_, "group", a);
    one.changes.add_records = {b};
    auto two = Touch(*store_, env_, "group", c);
    two.changes.add_records = {d};
    std::thread x([&] {
      start.arrive_and_wait();
      first = store_->UpdateRecord(one);
    });
    std::thread y([&] {
      start.arrive_and_wait();
      second = store_->UpdateRecord(two);
    });
    x.join();
    y.join();
    ASSERT_TRUE(first.has_value() || second.has_value()) << round;
    ASSERT_FALSE(first.has_value() && second.has_value()) << round;
    const Status& lost = first ? second : first;
    EXPECT_EQ(lost.error().code, ErrorCode::kInvalidArgument) << round;
    EXPECT_EQ(lost.error().field, "members") << round;
  }
}

// --- Mail outbox

TEST_P(StoreConformanceTest, ClaimedMailIsLeasedUntilCompletedOrRetried) {
  auto m1 = store_->EnqueueMail(MakeMail(env_, 100, "one"));
  auto m2 = store_->EnqueueMail(MakeMail(other_env_, 50, "two"));
  auto m3 = store_->EnqueueMail(MakeMail(env_, 500, "three"));
  ASSERT_TRUE(m1 && m2 && m3);
  EXPECT_LT(*m1, *m2);
  EXPECT_LT(*m2, *m3);
  EXPECT_EQ(*store_->CountMail(), 3);
  EXPECT_TRUE(store_->ClaimMail(49, 1000, 10)->empty());  // nothing due yet

  // Oldest first, only what is due, at most `limit`.
  auto first = store_->ClaimMail(100, 200, 1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(Bodies(*first), (Strings{"one"}));
  EXPECT_EQ(first->front().id, *m1);
  EXPECT_EQ(first->front().environment_id, env_);
  EXPECT_EQ(first->front().created_at_ms, 1);
  EXPECT_EQ(first->front().attempts, 0);
  auto second = store_->ClaimMail(100, 200, 10);
  EXPECT_EQ(Bodies(*second), (Strings{"two"}));  // "one" is leased

  // Leased until 200: a second sender gets nothing meanwhile...
  EXPECT_TRUE(store_->ClaimMail(199, 300, 10)->empty());
  // ...and both come back when the lease ends without CompleteMail.
  auto again = store_->ClaimMail(200, 300, 10);
  EXPECT_EQ(Bodies(*again), (Strings{"one", "two"}));
  EXPECT_EQ(*store_->CountMail(), 3);  // leasing removes nothing

  ASSERT_TRUE(store_->CompleteMail(*m1).has_value());
  EXPECT_EQ(*store_->CountMail(), 2);
  EXPECT_EQ(store_->CompleteMail(*m1).error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(store_->RetryMail(*m2, 1, 1000).has_value());
  EXPECT_EQ(Bodies(*store_->ClaimMail(600, 1500, 10)), (Strings{"three"}));  // "two" waits until 1000
  auto retried = store_->ClaimMail(1000, 2000, 10);
  ASSERT_EQ(Bodies(*retried), (Strings{"two"}));
  EXPECT_EQ(retried->front().attempts, 1);
  EXPECT_EQ(retried->front().sealed, "two");
  EXPECT_EQ(store_->RetryMail(*m1, 1, 1000).error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(store_->CompleteMail(*m2).has_value());
  ASSERT_TRUE(store_->CompleteMail(*m3).has_value());
  EXPECT_EQ(*store_->CountMail(), 0);
  EXPECT_TRUE(store_->ClaimMail(1 << 30, (1 << 30) + 1, 10)->empty());
}

TEST_P(StoreConformanceTest, ConcurrentSendersNeverClaimTheSameMail) {
  constexpr int kMessages = 30;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(store_->EnqueueMail(MakeMail(env_, 10, "m" + std::to_string(i))).has_value());
  }
  std::mutex mu;
  std::vector<std::int64_t> claimed;
  std::atomic<int> errors{0};
  std::latch start(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int guard = 0; guard < kMessages; ++guard) {
        auto batch = store_->ClaimMail(100, 1000000, 3);
        if (!batch) {
          ++errors;
          return;
        }
        if (batch->empty()) return;
        std::lock_guard lock(mu);
        for (const auto& m : *batch) claimed.push_back(m.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(std::set<std::int64_t>(claimed.begin(), claimed.end()).size(), static_cast<std::size_t>(kMessages));
}

// --- Counters

TEST_P(StoreConformanceTest, CountersCountWithinAWindowAndRestartAfterIt) {
  const std::string key("login:\0\xff", 8);  // keys are bytes
  EXPECT_EQ(*store_->HitCounter(key, 1000, 100), 1);
  EXPECT_EQ(*store_->HitCounter(key, 1050, 100), 2);
  EXPECT_EQ(*store_->HitCounter(key, 1099, 100), 3);
  EXPECT_EQ(*store_->HitCounter("other", 1099, 100), 1);  // keys are independent
  EXPECT_EQ(*store_->HitCounter(key, 1100, 100), 1);      // window began 100 ms ago: a new one
  EXPECT_EQ(*store_->HitCounter(key, 1150, 100), 2);
  EXPECT_EQ(*store_->HitCounter(key, 1199, 100), 3);
  EXPECT_EQ(*store_->HitCounter(key, 5000, 100), 1);  // long after

  ASSERT_TRUE(store_->ResetCounter(key).has_value());
  EXPECT_EQ(*store_->HitCounter(key, 5001, 100), 1);
  ASSERT_TRUE(store_->ResetCounter("never-hit").has_value());

  // Purge drops windows that began before the cut-off, and only those.
  EXPECT_EQ(*store_->HitCounter("old", 2000, 1000000), 1);
  EXPECT_EQ(*store_->HitCounter("old", 2001, 1000000), 2);
  EXPECT_EQ(*store_->HitCounter("new", 3000, 1000000), 1);
  ASSERT_TRUE(store_->PurgeCounters(3000).has_value());
  EXPECT_EQ(*store_->HitCounter("old", 3001, 1000000), 1);  // purged: counting starts over
  EXPECT_EQ(*store_->HitCounter("new", 3001, 1000000), 2);  // window began at 3000: kept
}

TEST_P(StoreConformanceTest, ReadingACounterCountsNothingAndPrefixResetsDropOnlyTheirKeys) {
  EXPECT_EQ(store_->ReadCounter("none")->count, 0);
  EXPECT_EQ(*store_->HitCounter("user", 1000, 100), 1);
  EXPECT_EQ(*store_->HitCounter("user", 1010, 100), 2);
  auto window = store_->ReadCounter("user");
  ASSERT_TRUE(window.has_value());
  EXPECT_EQ(window->count, 2);
  EXPECT_EQ(window->window_start_ms, 1000);
  EXPECT_EQ(store_->ReadCounter("user")->count, 2);  // reading counts nothing
  EXPECT_EQ(*store_->HitCounter(std::string("user\x00\xff", 6), 1000, 100), 1);
  EXPECT_EQ(*store_->HitCounter("user/10.0.0.1", 1000, 100), 1);
  EXPECT_EQ(*store_->HitCounter("use", 1000, 100), 1);
  EXPECT_EQ(*store_->HitCounter("other", 1000, 100), 1);
  ASSERT_TRUE(store_->ResetCountersWithPrefix("user").has_value());
  EXPECT_EQ(store_->ReadCounter("user")->count, 0);
  EXPECT_EQ(store_->ReadCounter(std::string("user\x00\xff", 6))->count, 0);
  EXPECT_EQ(store_->ReadCounter("user/10.0.0.1")->count, 0);
  EXPECT_EQ(store_->ReadCounter("use")->count, 1);  // shorter than the prefix: kept
  EXPECT_EQ(store_->ReadCounter("other")->count, 1);
}

TEST_P(StoreConformanceTest, AnUpdateMayClearThePassword) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  UserUpdate up;
  up.row = UserRow{"u1", 0, env_, true, 1000, 2000, 2, "sealed:v2"};
  up.expected_version = 1;
  up.index = {{"username", "ada", true}};
  up.password_hash = "$argon2id$x";
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  ASSERT_EQ(*store_->GetPasswordHash(env_, "u1"), "$argon2id$x");
  up.expected_version = 2;
  up.row.version = 3;
  up.password_hash.reset();
  up.clear_password = true;
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  EXPECT_EQ(store_->GetPasswordHash(env_, "u1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetUser(env_, "u1")->version, 3);
  // Clearing none is no error.
  up.expected_version = 3;
  up.row.version = 4;
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
}

TEST_P(StoreConformanceTest, ConcurrentHitsAreCountedExactly) {
  constexpr int kThreads = 16, kHits = 10;
  std::mutex mu;
  std::vector<std::int64_t> counts;
  std::atomic<int> errors{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kHits; ++i) {
        auto n = store_->HitCounter("hot", 1000 + i, 60000);
        if (!n) {
          ++errors;
          continue;
        }
        std::lock_guard lock(mu);
        counts.push_back(*n);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0);
  // Every hit saw a count of its own: exactly 1..160, none lost, none repeated.
  std::ranges::sort(counts);
  std::vector<std::int64_t> expected(kThreads * kHits);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<std::int64_t>(i) + 1;
  EXPECT_EQ(counts, expected);
  EXPECT_EQ(*store_->HitCounter("hot", 2000, 60000), kThreads * kHits + 1);
}

// --- Sessions for existing users

TEST_P(StoreConformanceTest, CreateSessionNeedsAnExistingUserOfTheEnvironment) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  ASSERT_TRUE(store_->CreateSession(SessionRow{"tok-1", env_, "u1", 10, 11, 500}).has_value());
  auto s = store_->FindSession("tok-1");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->user_id, "u1");
  EXPECT_EQ(s->environment_id, env_);
  EXPECT_EQ(s->created_at_ms, 10);
  EXPECT_EQ(s->last_used_at_ms, 11);
  EXPECT_EQ(s->expires_at_ms, 500);
  ASSERT_TRUE(store_->CreateSession(SessionRow{"tok-2", env_, "u1", 20, 20, 0}).has_value());  // a second one

  EXPECT_EQ(store_->CreateSession(SessionRow{"tok-3", env_, "nobody", 10, 10, 0}).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(store_->CreateSession(SessionRow{"tok-4", other_env_, "u1", 10, 10, 0}).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSession("tok-3").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSession("tok-4").error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(store_->DeleteUser(env_, "u1").has_value());
  EXPECT_EQ(store_->FindSession("tok-1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSession("tok-2").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, ASessionAndAClearedCounterAreOneWrite) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  ASSERT_EQ(*store_->HitCounter("attempts", 100, 60'000), 1);
  ASSERT_EQ(*store_->HitCounter("attempts", 101, 60'000), 2);
  ASSERT_EQ(*store_->HitCounter("other", 101, 60'000), 1);
  ASSERT_TRUE(store_->CreateSessionClearingCounter(SessionRow{"tok-1", env_, "u1", 102, 102, 0}, "attempts").has_value());
  EXPECT_EQ(store_->FindSession("tok-1")->user_id, "u1");
  EXPECT_EQ(*store_->HitCounter("attempts", 103, 60'000), 1);  // cleared
  EXPECT_EQ(*store_->HitCounter("other", 103, 60'000), 2);     // untouched

  // No such user: neither the session nor the clearing happens.
  EXPECT_EQ(store_->CreateSessionClearingCounter(SessionRow{"tok-2", env_, "nobody", 104, 104, 0}, "attempts")
                .error()
                .code,
            ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindSession("tok-2").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(*store_->HitCounter("attempts", 105, 60'000), 2);
}

}  // namespace roster::store

namespace roster::store {

TEST_P(StoreConformanceTest, OperationsReportTheSchemaAndTheOutbox) {
  auto schema = store_->CheckSchema();
  ASSERT_TRUE(schema.has_value());
  EXPECT_GT(schema->known, 0);
  EXPECT_EQ(schema->applied, schema->known);
  auto empty = store_->Outbox();
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->depth, 0);
  EXPECT_EQ(empty->oldest_created_ms, 0);
  MailRow first{0, env_, 5000, 5000, 0, "m1"}, second{0, env_, 3000, 9000, 0, "m2"};
  ASSERT_TRUE(store_->EnqueueMail(first).has_value());
  ASSERT_TRUE(store_->EnqueueMail(second).has_value());
  auto two = store_->Outbox();
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->depth, 2);
  EXPECT_EQ(two->oldest_created_ms, 3000);
  const PoolStats pool = store_->Pool();
  EXPECT_GE(pool.size, pool.in_use);
  EXPECT_EQ(pool.in_use, 0);
}

}  // namespace roster::store

namespace roster::store {

TEST_P(StoreConformanceTest, EnvironmentKeysAreReplacedOnlyWhileAsExpected) {
  EXPECT_EQ(store_->ReplaceEnvironmentKeys(env_, "wrapped-0", "wrapped-9").error().code, ErrorCode::kAborted);
  EXPECT_EQ(store_->FindEnvironmentById(env_)->wrapped_key, "wrapped-1");
  ASSERT_TRUE(store_->ReplaceEnvironmentKeys(env_, "wrapped-1", "new+wrapped-1").has_value());
  EXPECT_EQ(store_->FindEnvironmentById(env_)->wrapped_key, "new+wrapped-1");
  EXPECT_EQ(store_->FindEnvironmentById(other_env_)->wrapped_key, "wrapped-2");  // untouched
  // The loser of two rotations that read the same keys changes nothing.
  EXPECT_EQ(store_->ReplaceEnvironmentKeys(env_, "wrapped-1", "other+wrapped-1").error().code, ErrorCode::kAborted);
  EXPECT_EQ(store_->FindEnvironmentById(env_)->wrapped_key, "new+wrapped-1");
  EXPECT_EQ(store_->ReplaceEnvironmentKeys("nope", "wrapped-1", "x").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformanceTest, SealedValuesAreListedByTableAndReplacedOnlyWhileUnchanged) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u1", "ada")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(other_env_, "x1", "ada")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u2", "bob")).has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u3", "cy")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g1", "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "t1", "token", /*expires_at_ms=*/5)).has_value());  // expired
  ASSERT_TRUE(store_->EnqueueMail(MakeMail(env_, 1, "mail-1")).has_value());
  ASSERT_TRUE(store_->EnqueueMail(MakeMail(other_env_, 1, "mail-x")).has_value());

  // Keyset pages of the environment's own rows, in number order.
  auto first = store_->ListSealed(SealedTable::kUsers, env_, 0, 2);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].id, "u1");
  EXPECT_EQ((*first)[0].sealed, "sealed:u1");
  EXPECT_EQ((*first)[1].id, "u2");
  auto rest = store_->ListSealed(SealedTable::kUsers, env_, first->back().number, 2);
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, "u3");
  auto records = store_->ListSealed(SealedTable::kRecords, env_, 0, 10);
  ASSERT_TRUE(records.has_value());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].kind, "group");
  EXPECT_EQ((*records)[1].id, "t1");  // expired records are sealed values too
  auto mail = store_->ListSealed(SealedTable::kMail, env_, 0, 10);
  ASSERT_TRUE(mail.has_value());
  ASSERT_EQ(mail->size(), 1u);
  EXPECT_EQ((*mail)[0].sealed, "mail-1");

  // Replaced only while still as read, and nothing else of the row changes.
  const auto before = *store_->GetUser(env_, "u1");
  const std::int64_t u1 = (*first)[0].number;
  EXPECT_FALSE(*store_->ReplaceSealed(SealedTable::kUsers, env_, u1, "sealed:other", "resealed:u1"));
  EXPECT_FALSE(*store_->ReplaceSealed(SealedTable::kUsers, other_env_, u1, "sealed:u1", "resealed:u1"));
  EXPECT_TRUE(*store_->ReplaceSealed(SealedTable::kUsers, env_, u1, "sealed:u1", "resealed:u1"));
  const auto after = *store_->GetUser(env_, "u1");
  EXPECT_EQ(after.sealed, "resealed:u1");
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.updated_at_ms, before.updated_at_ms);
  EXPECT_EQ(store_->FindUsers(env_, "username", "ada")->size(), 1u);  // claims kept
  EXPECT_FALSE(*store_->ReplaceSealed(SealedTable::kUsers, env_, u1, "sealed:u1", "again"));  // changed meanwhile

  EXPECT_TRUE(*store_->ReplaceSealed(SealedTable::kRecords, env_, (*records)[0].number, "sealed:g1", "resealed:g1"));
  EXPECT_EQ(store_->GetRecord(env_, "group", "g1", 0)->sealed, "resealed:g1");
  EXPECT_EQ(store_->GetRecord(env_, "group", "g1", 0)->version, 1);
  EXPECT_TRUE(*store_->ReplaceSealed(SealedTable::kMail, env_, (*mail)[0].number, "mail-1", "mail-1b"));
  EXPECT_EQ(store_->ListSealed(SealedTable::kMail, env_, 0, 10)->front().sealed, "mail-1b");
  EXPECT_EQ(store_->ListSealed(SealedTable::kMail, other_env_, 0, 10)->front().sealed, "mail-x");
  ASSERT_TRUE(store_->DeleteUser(env_, "u2").has_value());
  EXPECT_FALSE(*store_->ReplaceSealed(SealedTable::kUsers, env_, (*first)[1].number, "sealed:u2", "x"));  // gone
}

namespace {

// A stand-in MAC for the chain: deterministic, 32 bytes, different for different input.
std::string FakeMac(std::string_view bytes) {
  std::string out(32, '\0');
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < 32; ++i) {
    for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h ^= i;
    out[i] = static_cast<char>(h & 0xff);
  }
  return out;
}

AuditRow MakeAudit(const std::string& env, const std::string& action, const std::string& subject,
                   std::int64_t at_ms = 100) {
  AuditRow r;
  r.environment_id = env;
  r.at_ms = at_ms;
  r.principal_kind = "admin-key";
  r.principal_id = "k1";
  r.api = "catalyze";
  r.route = "/v2/users/{usersId}";
  r.request_id = "req-1";
  r.action = action;
  r.subject = subject;
  r.outcome = "ok";
  r.fields = "profile,phi";
  return r;
}

}  // namespace

TEST_P(StoreConformanceTest, AuditAppendsAreChainedPerEnvironmentInOrder) {
  EXPECT_EQ(store_->AppendAudit({MakeAudit(env_, "user.read", "u1")}).error().code, ErrorCode::kFailedPrecondition);
  store_->SetAuditMac(FakeMac);
  ASSERT_TRUE(store_->AppendAudit({MakeAudit(env_, "user.read", "u1"), MakeAudit(other_env_, "user.read", "x"),
                                   MakeAudit(env_, "user.list", "u2")})
                  .has_value());
  ASSERT_TRUE(store_->AppendAudit({MakeAudit(env_, "user.read", "u3")}).has_value());
  auto rows = store_->ListAudit(env_, 0, 10);
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 3u);
  std::string prev(32, '\0');
  for (std::int64_t i = 0; i < 3; ++i) {
    const AuditRow& r = (*rows)[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.seq, i + 1);
    EXPECT_EQ(r.prev, prev);
    EXPECT_EQ(r.hash.size(), 32u);
    prev = r.hash;
  }
  EXPECT_EQ((*rows)[1].action, "user.list");
  EXPECT_EQ((*rows)[1].subject, "u2");
  EXPECT_EQ((*rows)[1].route, "/v2/users/{usersId}");
  EXPECT_EQ((*rows)[1].fields, "profile,phi");
  auto head = store_->GetAuditHead(env_);
  ASSERT_TRUE(head.has_value() && head->has_value());
  EXPECT_EQ((*head)->seq, 3);
  EXPECT_EQ((*head)->hash, prev);
  EXPECT_EQ(store_->ListAudit(other_env_, 0, 10)->size(), 1u);
  EXPECT_EQ(store_->ListAudit(env_, 2, 10)->size(), 1u);
  EXPECT_FALSE(store_->GetAuditHead("env-none")->has_value());
}

TEST_P(StoreConformanceTest, AuditRowsOfAWriteCommitWithItOrNotAtAll) {
  store_->SetAuditMac(FakeMac);
  auto user = MakeUser(env_, "u1", "ada");
  user.audit = {MakeAudit(env_, "user.create", "u1")};
  ASSERT_TRUE(store_->InsertUser(user).has_value());
  auto dup = MakeUser(env_, "u2", "ada");
  dup.audit = {MakeAudit(env_, "user.create", "u2")};
  EXPECT_FALSE(store_->InsertUser(dup).has_value());  // the claim is taken: no record either
  auto row = store_->GetUser(env_, "u1");
  ASSERT_TRUE(row.has_value());
  UserUpdate up;
  up.row = *row;
  up.expected_version = row->version;
  up.row.version = row->version + 1;
  up.index = {{"username", "ada", true}};
  up.audit = {MakeAudit(env_, "user.update", "u1")};
  ASSERT_TRUE(store_->UpdateUser(up).has_value());
  EXPECT_FALSE(store_->UpdateUser(up).has_value());  // stale version: no record
  EXPECT_FALSE(store_->DeleteUser(env_, "u1", 1, {MakeAudit(env_, "user.delete", "u1")}).has_value());
  ASSERT_TRUE(store_->DeleteUser(env_, "u1", std::nullopt, {MakeAudit(env_, "user.delete", "u1")}).has_value());
  auto rows = store_->ListAudit(env_, 0, 10);
  ASSERT_TRUE(rows.has_value());
  std::vector<std::string> actions;
  for (const auto& r : *rows) actions.push_back(r.action + ":" + std::to_string(r.seq));
  EXPECT_EQ(actions, (Strings{"user.create:1", "user.update:2", "user.delete:3"}));
}

TEST_P(StoreConformanceTest, AuditCheckpointsAreTakenPeriodicallyAndPurgeKeepsTheNewestOld) {
  store_->SetAuditMac(FakeMac);
  std::vector<AuditRow> batch;
  for (std::int64_t i = 1; i <= kAuditCheckpointEvery * 2 + 10; ++i)
    batch.push_back(MakeAudit(env_, "user.read", "u", i < kAuditCheckpointEvery * 2 ? 100 : 5000));
  ASSERT_TRUE(store_->AppendAudit(batch).has_value());
  auto checkpoints = store_->ListAuditCheckpoints(env_);
  ASSERT_TRUE(checkpoints.has_value());
  ASSERT_EQ(checkpoints->size(), 2u);
  EXPECT_EQ((*checkpoints)[0].seq, kAuditCheckpointEvery);
  EXPECT_EQ((*checkpoints)[1].seq, kAuditCheckpointEvery * 2);
  EXPECT_EQ((*checkpoints)[0].mac.size(), 32u);
  // Records before 1000 ms: up to the first checkpoint only (the second was taken at 5000).
  auto purged = store_->PurgeAudit(env_, 1000);
  ASSERT_TRUE(purged.has_value());
  EXPECT_EQ(*purged, kAuditCheckpointEvery);
  auto rest = store_->ListAudit(env_, 0, 1);
  ASSERT_TRUE(rest.has_value() && !rest->empty());
  EXPECT_EQ(rest->front().seq, kAuditCheckpointEvery + 1);
  EXPECT_EQ(rest->front().prev, store_->ListAuditCheckpoints(env_)->front().hash);
  EXPECT_EQ(*store_->PurgeAudit(env_, 1000), 0);
}

// A bulk import's batches (InsertUsers) append their users' audit records to the chain
// in the batch's order, whether the batch is written at once or user by user (a refused
// user's record is left out with it): the chain verifies throughout, checkpoints included.
TEST_P(StoreConformanceTest, InsertUsersAppendsTheBatchsAuditRecordsToTheChainInOrder) {
  store_->SetAuditMac(FakeMac);
  auto audited = [&](const std::string& id, const std::string& username) {
    NewUser u = MakeUser(env_, id, username);
    u.audit = {MakeAudit(env_, "user.create", id)};
    return u;
  };
  UserBatch clean;  // crosses a checkpoint
  for (int i = 0; i < kAuditCheckpointEvery + 4; ++i)
    clean.users.push_back(audited("c" + std::to_string(i), "clean-" + std::to_string(i)));
  auto first = store_->InsertUsers(clean);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  for (const auto& r : *first) ASSERT_TRUE(r.has_value());
  UserBatch mixed;  // d1 is refused in the middle
  mixed.users = {audited("d0", "d0"), audited("d1", "clean-3"), audited("d2", "d2")};
  auto second = store_->InsertUsers(mixed);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_TRUE((*second)[0].has_value());
  EXPECT_EQ((*second)[1].error().field, "username");
  EXPECT_TRUE((*second)[2].has_value());

  Strings expected;
  for (const auto& u : clean.users) expected.push_back(u.row.id);
  expected.insert(expected.end(), {"d0", "d2"});
  auto rows = store_->ListAudit(env_, 0, 1000);
  ASSERT_TRUE(rows.has_value());
  Strings subjects;
  std::string prev = audit_chain::Genesis();
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const AuditRow& r = (*rows)[i];
    subjects.push_back(r.subject);
    EXPECT_EQ(r.seq, static_cast<std::int64_t>(i) + 1);
    EXPECT_EQ(r.prev, prev) << r.seq;
    EXPECT_EQ(r.hash, FakeMac(audit_chain::RecordBytes(r))) << r.seq;
    EXPECT_EQ(r.action, "user.create");
    prev = r.hash;
  }
  EXPECT_EQ(subjects, expected);
  auto head = store_->GetAuditHead(env_);
  ASSERT_TRUE(head.has_value() && head->has_value());
  EXPECT_EQ((*head)->seq, static_cast<std::int64_t>(expected.size()));
  EXPECT_EQ((*head)->hash, prev);
  EXPECT_EQ((*head)->mac, FakeMac(audit_chain::HeadBytes(env_, (*head)->seq, prev)));
  auto checkpoints = store_->ListAuditCheckpoints(env_);
  ASSERT_TRUE(checkpoints.has_value());
  ASSERT_EQ(checkpoints->size(), 1u);
  EXPECT_EQ((*checkpoints)[0].seq, kAuditCheckpointEvery);
  EXPECT_EQ((*checkpoints)[0].hash, (*rows)[kAuditCheckpointEvery - 1].hash);
}

// What one user at a time refuses, a batch refuses, and nothing else: a user id twice, an
// exclusive claim another user holds (stored, or a plain lookup of a later user of the
// batch, which one at a time does not see), a group missing; a session, a membership of
// several groups and each entry's key generation are written as InsertUser writes them.
TEST_P(StoreConformanceTest, InsertUsersRefusesWhatInsertUserRefusesAndWritesWhatItWrites) {
  ASSERT_TRUE(store_->InsertUser(MakeUser(env_, "u0", "ada")).has_value());  // holds shared-email (lookup)
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "g1", "group")).has_value());
  ASSERT_TRUE(store_->InsertRecord(MakeRecord(env_, "p1", "population")).has_value());
  UserBatch batch;
  batch.users = {MakeUser(env_, "u1", "bob"), MakeUser(env_, "u1", "cy"), MakeUser(env_, "u2", "dee"),
                 MakeUser(env_, "u3", "eve"), MakeUser(env_, "u4", "fay"), MakeUser(env_, "u5", "gus"),
                 MakeUser(env_, "u6", "hal")};
  batch.users[0].member_of = {"g1", "p1"};
  batch.users[0].session = SessionRow{"session-u1", env_, "u1", 1000, 1000, 0};
  // u1 again: the id is taken.
  batch.users[2].index = {{"username", "dee", true}, {"email", "shared-email", true, true}};  // held by u0
  batch.users[3].index = {{"username", "eve", true}, {"email", "eve-email", true, true}};
  batch.users[4].index = {{"username", "fay", true}, {"email", "eve-email", false}};  // a lookup: lands
  batch.users[5].member_of = {"g1", "no-such-group"};
  batch.users[6].index.push_back({"username", "hal-1", true, false, 1});  // under the next key too
  batch.users[6].member_of = {"g1"};
  auto written = store_->InsertUsers(batch);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  ASSERT_EQ(written->size(), 7u);
  EXPECT_TRUE((*written)[0].has_value());
  ASSERT_FALSE((*written)[1].has_value());
  EXPECT_EQ((*written)[1].error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ((*written)[1].error().field, "id");
  ASSERT_FALSE((*written)[2].has_value());
  EXPECT_EQ((*written)[2].error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ((*written)[2].error().field, "email");
  EXPECT_TRUE((*written)[3].has_value());
  EXPECT_TRUE((*written)[4].has_value());
  ASSERT_FALSE((*written)[5].has_value());
  EXPECT_EQ((*written)[5].error().code, ErrorCode::kNotFound);
  EXPECT_TRUE((*written)[6].has_value());

  EXPECT_TRUE(store_->FindUsers(env_, "username", "cy")->empty());
  EXPECT_TRUE(store_->FindUsers(env_, "username", "dee")->empty());
  EXPECT_EQ(Ids(*store_->FindUsers(env_, "email", "eve-email")), (Strings{"u3", "u4"}));
  EXPECT_EQ(store_->GetUser(env_, "u5").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u1", "u6"}));
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "p1", 0, 10)), Strings{"u1"});
  auto session = store_->FindSession("session-u1");
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->user_id, "u1");
  EXPECT_EQ(Ids(*store_->FindUsers(env_, "username", "hal-1")), Strings{"u6"});
  // u0's 2 entries, 2 each of u1, u3, u4 and u6, and u6's generation 1 entry.
  EXPECT_EQ(*store_->CountIndexGenerations(IndexTable::kUsers, env_),
            (std::map<std::int64_t, std::int64_t>{{0, 10}, {1, 1}}));

  // The same batch's users with nothing refused: every one lands, each as InsertUser
  // would have written it.
  UserBatch clean;
  clean.users = {MakeUser(env_, "v1", "ivy"), MakeUser(env_, "v2", "jo")};
  clean.users[0].index = {{"username", "ivy", true, false, 0}, {"username", "ivy-1", true, false, 1},
                          {"email", "ivy-email", true, true}};
  clean.users[1].member_of = {"g1", "p1", "g1"};
  clean.users[1].session = SessionRow{"session-v2", env_, "v2", 1000, 1000, 0};
  auto landed = store_->InsertUsers(clean);
  ASSERT_TRUE(landed.has_value()) << landed.error().message;
  EXPECT_TRUE((*landed)[0].has_value());
  EXPECT_TRUE((*landed)[1].has_value());
  EXPECT_EQ(Ids(*store_->FindUsers(env_, "username", "ivy-1")), Strings{"v1"});
  EXPECT_EQ(Ids(*store_->FindUsers(env_, "email", "ivy-email")), Strings{"v1"});
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "g1", 0, 10)), (Strings{"u1", "u6", "v2"}));
  EXPECT_EQ(Ids(*store_->ListMembers(env_, "p1", 0, 10)), (Strings{"u1", "v2"}));
  EXPECT_EQ(store_->FindSession("session-v2")->user_id, "v2");
  EXPECT_EQ(*store_->CountIndexGenerations(IndexTable::kUsers, env_),
            (std::map<std::int64_t, std::int64_t>{{0, 14}, {1, 2}}));
  // The exclusive claim refuses a later holder as InsertUser's does.
  NewUser later = MakeUser(env_, "v3", "kim");
  later.index = {{"username", "kim", true}, {"email", "ivy-email", true, true}};
  UserBatch after;
  after.users = {later};
  auto refused = store_->InsertUsers(after);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ((*refused)[0].error().field, "email");
}

TEST_P(StoreConformanceTest, AKeyringRotationReplacesEverythingOrNothing) {
  EXPECT_EQ(store_->GetKeyring().error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->CreateKeyring({"fp-1", "roots-1", 1}).has_value());
  EXPECT_EQ(store_->CreateKeyring({"fp-x", "roots-x", 1}).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->GetKeyring()->wrapped_roots, "roots-1");
  const std::vector<EnvironmentKeysChange> both{{env_, "wrapped-1", "re-1"}, {other_env_, "wrapped-2", "re-2"}};
  // A stale fingerprint, an environment's keys changed meanwhile, or an environment
  // left out (created meanwhile): nothing is written.
  EXPECT_EQ(store_->RotateKeyring("fp-0", {"fp-2", "roots-2", 2}, both, {}).error().code, ErrorCode::kAborted);
  EXPECT_EQ(store_->RotateKeyring("fp-1", {"fp-2", "roots-2", 2},
                                  {{env_, "wrapped-1", "re-1"}, {other_env_, "wrapped-0", "re-2"}}, {})
                .error()
                .code,
            ErrorCode::kAborted);
  EXPECT_EQ(store_->RotateKeyring("fp-1", {"fp-2", "roots-2", 2}, {both[0]}, {}).error().code, ErrorCode::kAborted);
  EXPECT_EQ(store_->GetKeyring()->fingerprint, "fp-1");
  EXPECT_EQ(store_->FindEnvironmentById(env_)->wrapped_key, "wrapped-1");
  // Its audit records are appended in the same transaction.
  store_->SetAuditMac(FakeMac);
  AuditRow record;
  record.environment_id = env_;
  record.action = "master-key.rotate";
  ASSERT_TRUE(store_->RotateKeyring("fp-1", {"fp-2", "roots-2", 2}, both, {record}).has_value());
  EXPECT_EQ(store_->GetKeyring()->fingerprint, "fp-2");
  EXPECT_EQ(store_->GetKeyring()->wrapped_roots, "roots-2");
  EXPECT_EQ(store_->FindEnvironmentById(env_)->wrapped_key, "re-1");
  EXPECT_EQ(store_->FindEnvironmentById(other_env_)->wrapped_key, "re-2");
  auto head = store_->GetAuditHead(env_);
  ASSERT_TRUE(head.has_value() && head->has_value());
  EXPECT_EQ((*head)->seq, 1);
  // An environment is created only under the fingerprint the keyring holds.
  EnvironmentRow stale{"env-3", "third", "w", 3};
  stale.master_fingerprint = "fp-1";
  EXPECT_EQ(store_->CreateEnvironment(stale).error().code, ErrorCode::kAborted);
  EXPECT_EQ(store_->FindEnvironmentById("env-3").error().code, ErrorCode::kNotFound);
  stale.master_fingerprint = "fp-2";
  EXPECT_TRUE(store_->CreateEnvironment(stale).has_value());
}

TEST_P(StoreConformanceTest, IndexEntriesAreCopiedToANewGenerationAndTheOldOnesDropped) {
  // u1 holds generation 0 only; u2 both (a write during a rotation); a user elsewhere too.
  auto u1 = store_->InsertUser(MakeUser(env_, "u1", "ada"));
  ASSERT_TRUE(u1.has_value());
  NewUser both = MakeUser(env_, "u2", "bob");
  both.index.push_back({"username", "bob-1", true, false, 1});
  both.index.push_back({"email", "shared-email-1", false, false, 1});
  auto u2 = store_->InsertUser(both);
  ASSERT_TRUE(u2.has_value());
  ASSERT_TRUE(store_->InsertUser(MakeUser(other_env_, "x1", "ada")).has_value());
  NewRecord group = MakeRecord(env_, "g1", "group");
  group.index = {{"group.name", "admins", true}};
  auto g1 = store_->InsertRecord(group);
  ASSERT_TRUE(g1.has_value());
  // A unique claim of generation 1 clashes with generation 1 only.
  NewUser clash = MakeUser(env_, "u3", "cy");
  clash.index.push_back({"username", "bob-1", true, false, 1});
  EXPECT_EQ(store_->InsertUser(clash).error().code, ErrorCode::kAlreadyExists);

  // Listing: the next rows in number order, their entries of one generation.
  auto first = store_->ListIndexEntries(IndexTable::kUsers, env_, 0, 0, 1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->rows, 1);
  EXPECT_EQ(first->last, *u1);
  ASSERT_EQ(first->entries.size(), 2u);  // username and email of u1
  auto second = store_->ListIndexEntries(IndexTable::kUsers, env_, 1, first->last, 10);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->rows, 1);  // u2 (x1 is elsewhere)
  EXPECT_EQ(second->entries.size(), 2u);
  auto none = store_->ListIndexEntries(IndexTable::kUsers, env_, 0, second->last, 10);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->rows, 0);

  // Copying: only from an entry still there; one already there is left; uniqueness kept.
  std::vector<IndexCopy> copies;
  for (const auto& e : first->entries) copies.push_back({e.number, e.kind, e.digest, e.digest + "-1"});
  copies.push_back({*u2, "username", "bob", "bob-1"});    // already there
  copies.push_back({*u1, "username", "gone", "gone-1"});  // no such entry (the row changed)
  auto copied = store_->CopyIndexEntries(IndexTable::kUsers, env_, 1, copies);
  ASSERT_TRUE(copied.has_value());
  EXPECT_EQ(*copied, 2);
  EXPECT_EQ(store_->FindUsers(env_, "username", "ada-1")->size(), 1u);
  EXPECT_TRUE(store_->FindUsers(env_, "username", "gone-1")->empty());
  NewUser taken = MakeUser(env_, "u4", "dee");
  taken.index.push_back({"username", "ada-1", true, false, 1});
  EXPECT_EQ(store_->InsertUser(taken).error().code, ErrorCode::kAlreadyExists);  // the copy is unique too
  auto records = store_->ListIndexEntries(IndexTable::kRecords, env_, 0, 0, 10);
  ASSERT_TRUE(records.has_value());
  ASSERT_EQ(records->entries.size(), 1u);
  EXPECT_EQ(records->entries[0].number, *g1);
  ASSERT_EQ(*store_->CopyIndexEntries(IndexTable::kRecords, env_, 1, {{*g1, "group.name", "admins", "admins-1"}}), 1);
  NewRecord dup = MakeRecord(env_, "g2", "group");
  dup.index = {{"group.name", "admins-1", true, false, 1}};
  EXPECT_EQ(store_->InsertRecord(dup).error().code, ErrorCode::kAlreadyExists);

  // Counting (one statement), then dropping every other generation of the environment.
  auto users = store_->CountIndexGenerations(IndexTable::kUsers, env_);
  ASSERT_TRUE(users.has_value());
  EXPECT_EQ(*users, (std::map<std::int64_t, std::int64_t>{{0, 4}, {1, 4}}));
  EXPECT_EQ(*store_->CountIndexGenerations(IndexTable::kRecords, env_),
            (std::map<std::int64_t, std::int64_t>{{0, 1}, {1, 1}}));
  auto dropped = store_->DropIndexGenerations(env_, 1);
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(*dropped, 5);
  EXPECT_EQ(*store_->CountIndexGenerations(IndexTable::kUsers, env_), (std::map<std::int64_t, std::int64_t>{{1, 4}}));
  EXPECT_TRUE(store_->FindUsers(env_, "username", "ada")->empty());
  EXPECT_EQ(store_->FindUsers(env_, "username", "bob-1")->size(), 1u);
  EXPECT_EQ(store_->FindUsers(other_env_, "username", "ada")->size(), 1u);  // other environments untouched
  // The old generation's value is free again (nothing holds it).
  EXPECT_TRUE(store_->InsertUser(MakeUser(env_, "u5", "ada")).has_value());
}

}  // namespace roster::store
