#include "service/throttle.h"

#include <gtest/gtest.h>

#include <string>

#include "service/service_test_support.h"

namespace roster::service {
namespace {

using core::ErrorCode;
using test_support::FakeClock;

constexpr auto kSignIn = ThrottledAction::kSignIn;

ThrottlePolicy Small() {
  ThrottlePolicy p;
  for (auto& a : p.actions) a = {{3, 10'000}, {5, 2'000}};  // address: 3, one per 10 s; key: 5, one per 2 s
  return p;
}

TEST(ThrottleTest, AnAddressGetsItsBurstThenWaitsForTheRefill) {
  FakeClock clock;
  Throttle t(clock, Small());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(t.Take(kSignIn, "203.0.113.7", "").has_value()) << i;
  auto refused = t.Take(kSignIn, "203.0.113.7", "");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(refused.error().retry_after_s, 10);
  clock.now += 4'000;
  EXPECT_EQ(t.Take(kSignIn, "203.0.113.7", "").error().retry_after_s, 6);  // refusals take nothing
  clock.now += 6'000;
  EXPECT_TRUE(t.Take(kSignIn, "203.0.113.7", "").has_value());
  EXPECT_FALSE(t.Take(kSignIn, "203.0.113.7", "").has_value());
  // Another address, and the same address for another action, have their own buckets.
  EXPECT_TRUE(t.Take(kSignIn, "198.51.100.2", "").has_value());
  EXPECT_TRUE(t.Take(ThrottledAction::kPasswordReset, "203.0.113.7", "").has_value());
}

TEST(ThrottleTest, ACredentialIsLimitedAcrossAddressesAndRefusedRequestsTakeNothing) {
  FakeClock clock;
  Throttle t(clock, Small());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(t.Take(kSignIn, "10.0.0." + std::to_string(i), "key:a").has_value()) << i;
  auto refused = t.Take(kSignIn, "10.0.0.9", "key:a");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().retry_after_s, 2);
  EXPECT_TRUE(t.Take(kSignIn, "10.0.0.9", "key:b").has_value());  // the refusal took no token from 10.0.0.9
  EXPECT_TRUE(t.Take(kSignIn, "10.0.0.9", "key:b").has_value());
  EXPECT_TRUE(t.Take(kSignIn, "10.0.0.9", "key:b").has_value());  // its third
  // The address is spent: key:b is not charged for the refusal.
  EXPECT_FALSE(t.Take(kSignIn, "10.0.0.9", "key:b").has_value());
  EXPECT_TRUE(t.Take(kSignIn, "10.0.0.10", "key:b").has_value());
  EXPECT_TRUE(t.Take(kSignIn, "10.0.0.11", "key:b").has_value());  // key:b's fifth
  EXPECT_FALSE(t.Take(kSignIn, "10.0.0.12", "key:b").has_value());
}

TEST(ThrottleTest, ZeroCapacityIsUnlimited) {
  FakeClock clock;
  ThrottlePolicy p;
  p.SetPerAddress(0);
  p.SetPerCredential(0);
  Throttle t(clock, p);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(t.Take(kSignIn, "203.0.113.7", "key:a").has_value());
  EXPECT_EQ(t.size(), 0u);
}

TEST(ThrottleTest, SetPerAddressIsABurstAndARatePerMinute) {
  FakeClock clock;
  ThrottlePolicy p;
  p.SetPerAddress(2);
  Throttle t(clock, p);
  EXPECT_TRUE(t.Take(kSignIn, "a", "").has_value());
  EXPECT_TRUE(t.Take(kSignIn, "a", "").has_value());
  EXPECT_EQ(t.Take(kSignIn, "a", "").error().retry_after_s, 30);
}

TEST(ThrottleTest, MemoryIsBoundedAndForgettingOnlyDropsRefilledOrOldestBuckets) {
  FakeClock clock;
  ThrottlePolicy p = Small();
  p.max_buckets = 100;
  Throttle t(clock, p);
  // One spent address, then many others.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t.Take(kSignIn, "attacker", "").has_value());
  for (int i = 0; i < 1000; ++i) {
    clock.now += 1;
    ASSERT_TRUE(t.Take(kSignIn, "client-" + std::to_string(i), "").has_value());
    ASSERT_LE(t.size(), 100u);
  }
  // Buckets that refilled go first: after 10 s every client bucket is full again.
  Throttle u(clock, p);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(u.Take(kSignIn, "attacker", "").has_value());
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(u.Take(kSignIn, "old-" + std::to_string(i), "").has_value());
  clock.now += 10'000;  // the old clients' buckets are full; the attacker's got one token back
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(u.Take(kSignIn, "new-" + std::to_string(i), "").has_value());
  ASSERT_TRUE(u.Take(kSignIn, "attacker", "").has_value());
  EXPECT_FALSE(u.Take(kSignIn, "attacker", "").has_value());  // its bucket was kept
}

}  // namespace
}  // namespace roster::service
