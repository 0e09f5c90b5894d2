#include "service/audit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/holds.h"
#include "service/service_test_support.h"

namespace roster::service {
namespace {

using test_support::FakeClock;
using test_support::TempSqliteStore;

class AuditLogTest : public ::testing::Test {
 protected:
  AuditLogTest() : keyring_(crypto::SecretKey::Random()), other_keyring_(crypto::SecretKey::Random()) {}
  void SetUp() override { crypto::Init(); }

  core::Principal Admin() {
    core::Principal p;
    p.environment_id = "env-1";
    p.kind = core::CredentialKind::kAdminKey;
    p.credential_id = "key-1";
    return p;
  }

  TempSqliteStore store_{"roster-audit-test-"};
  crypto::Keyring keyring_, other_keyring_;
  FakeClock clock_;
};

TEST_F(AuditLogTest, RowsNameThePrincipalTheRequestAndTheFieldGroupsOnly) {
  AuditLog log(*store_, keyring_, clock_);
  core::HoldScope scope("/v2/users/{usersId}", "rid-1");
  core::Error denied{core::ErrorCode::kPermissionDenied, "no", ""};
  auto row = log.Row(Admin(), "user.read", "u1", &denied, kAuditProfile | kAuditPhi);
  EXPECT_EQ(row.environment_id, "env-1");
  EXPECT_EQ(row.at_ms, clock_.now);
  EXPECT_EQ(row.principal_kind, "admin_key");
  EXPECT_EQ(row.principal_id, "key-1");
  EXPECT_EQ(row.api, "catalyze");
  EXPECT_EQ(row.route, "/v2/users/{usersId}");
  EXPECT_EQ(row.request_id, "rid-1");
  EXPECT_EQ(row.outcome, "permission-denied");
  EXPECT_EQ(row.fields, "profile,phi");
  EXPECT_EQ(AuditFieldNames(kAuditPassword | kAuditCredentials | kAuditProfile), "profile,password,credentials");
  EXPECT_EQ(AuditOutcome(nullptr), "ok");
}

TEST_F(AuditLogTest, ConcurrentRecordsAreAllDurableAndTheChainVerifies) {
  AuditLog log(*store_, keyring_, clock_);
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        EXPECT_TRUE(log.Record(log.Row(Admin(), "user.read", "u" + std::to_string(t), nullptr, kAuditProfile)).has_value());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(log.appended(), static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_LE(log.batches(), static_cast<std::uint64_t>(kThreads * kEach));
  auto v = log.Verify("env-1");
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->records, kThreads * kEach);
  int exported = 0;
  ASSERT_TRUE(log.Export("env-1", AuditFilter{std::nullopt, std::nullopt, "u3"},
                         [&](const store::AuditRow& r) {
                           EXPECT_EQ(r.subject, "u3");
                           ++exported;
                         })
                  .has_value());
  EXPECT_EQ(exported, kEach);
}

TEST_F(AuditLogTest, InsideARequestTheAnswerIsHeldUntilTheRecordIsDurable) {
  AuditLog log(*store_, keyring_, clock_);
  std::vector<core::Hold> holds;
  {
    core::HoldScope scope("/r", "rid");
    ASSERT_TRUE(log.Record(log.Row(Admin(), "user.read", "u1", nullptr, kAuditProfile)).has_value());
    holds = scope.Take();
  }
  ASSERT_EQ(holds.size(), 1u);
  EXPECT_TRUE(core::AwaitHolds(std::move(holds)));
  EXPECT_EQ(store_->ListAudit("env-1", 0, 10)->size(), 1u);
}

// `roster serve` flushes the writer after the HTTP server stopped and before it goes:
// every held answer's callback has been told, and what it captured (the session, which
// needs the server's io_context to close) released, by the time Flush returns.
TEST_F(AuditLogTest, FlushReturnsOnceEveryHeldAnswerWasToldAndReleased) {
  AuditLog log(*store_, keyring_, clock_);
  constexpr int kAnswers = 50;
  std::atomic<int> told = 0, released = 0;
  struct Session {
    explicit Session(std::atomic<int>& r) : released(r) {}
    ~Session() { ++released; }
    std::atomic<int>& released;
  };
  for (int i = 0; i < kAnswers; ++i) {
    std::vector<core::Hold> holds;
    {
      core::HoldScope scope("/r", "rid-" + std::to_string(i));
      ASSERT_TRUE(log.Record(log.Row(Admin(), "user.read", "u" + std::to_string(i), nullptr, kAuditProfile)).has_value());
      holds = scope.Take();
    }
    ASSERT_EQ(holds.size(), 1u);
    auto session = std::make_shared<Session>(released);
    holds.front()([session, &told](bool durable) {
      if (durable) ++told;
    });
  }
  log.Flush();
  EXPECT_EQ(told.load(), kAnswers);
  EXPECT_EQ(released.load(), kAnswers);
  EXPECT_EQ(store_->ListAudit("env-1", 0, 100)->size(), static_cast<std::size_t>(kAnswers));
  log.Flush();  // nothing queued: returns at once
}

TEST_F(AuditLogTest, AnotherKeyCannotVouchForTheChain) {
  {
    AuditLog log(*store_, keyring_, clock_);
    ASSERT_TRUE(log.Record(log.Row(Admin(), "user.read", "u1", nullptr, kAuditProfile)).has_value());
  }
  AuditLog other(*store_, other_keyring_, clock_);
  auto v = other.Verify("env-1");
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->bad_seq, 1);
}

TEST_F(AuditLogTest, PurgeKeepsTheRestVerifiable) {
  AuditLog log(*store_, keyring_, clock_);
  std::vector<store::AuditRow> rows;
  for (std::int64_t i = 0; i < store::kAuditCheckpointEvery + 5; ++i)
    rows.push_back(log.Row(Admin(), "user.read", "u", nullptr, kAuditProfile));
  ASSERT_TRUE(log.Record(rows).has_value());
  clock_.now += 7 * 24 * 3600'000ll;
  auto purged = log.Purge("env-1", 24 * 3600'000ll);
  ASSERT_TRUE(purged.has_value());
  EXPECT_EQ(*purged, store::kAuditCheckpointEvery);
  auto v = log.Verify("env-1");
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->records, 5);
  EXPECT_EQ(v->first_seq, store::kAuditCheckpointEvery + 1);
}

}  // namespace
}  // namespace roster::service
