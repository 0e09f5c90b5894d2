// Throttle: token buckets per client address and per credential for the requests an
// attacker repeats (sign-in, sign-up, session creation, username reminders, password
// resets). Every API takes one token from both buckets of its action before doing the
// work; an empty bucket refuses with kResourceExhausted and the seconds until a token is
// back (Error::retry_after_s, sent as Retry-After).
//
// Per process: the table lives in memory, so N servers behind a balancer admit up to N
// times the budget. Memory is bounded: at most `max_buckets` entries; a bucket that has
// refilled is dropped first (forgetting it changes nothing), then the least recently used
// (which can only hand that client a fresh bucket). Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/error.h"

namespace roster::service {

enum class ThrottledAction {
  kSignIn,          // password sign-in (Catalyze /v2/auth/signin, QuickBlox login)
  kSignUp,          // a user created by a non-admin caller (self sign-up)
  kSession,         // an application session or token (QuickBlox, PingOne)
  kForgotUsername,  // a username reminder mail
  kPasswordReset,   // a reset request (mail) or its completion (a new password)
};
inline constexpr std::size_t kThrottledActionCount = 5;
std::string_view ThrottledActionName(ThrottledAction action);

// `capacity` requests at once, then one more every `refill_ms`. capacity 0: unlimited.
struct BucketLimit {
  std::int64_t capacity = 0;
  std::int64_t refill_ms = 0;
};

struct ActionLimits {
  BucketLimit per_address;
  BucketLimit per_credential;
};

// The defaults (docs/security.md, "Throttling"): an address is one person or one office
// behind NAT; a credential is an application whose users all share it.
struct ThrottlePolicy {
  std::array<ActionLimits, kThrottledActionCount> actions = {{
      // kSignIn: 20 at once, 20/min per address; 300 at once, 10/s per credential.
      {{20, 3'000}, {300, 100}},
      // kSignUp: 10 at once, 10/min per address; 100 at once, 5/s per credential.
      {{10, 6'000}, {100, 200}},
      // kSession: 60 at once, 60/min per address; 600 at once, 20/s per credential.
      {{60, 1'000}, {600, 50}},
      // kForgotUsername: 5 at once, 5/min per address; 60 at once, 1/s per credential.
      {{5, 12'000}, {60, 1'000}},
      // kPasswordReset: 10 at once, 10/min per address; 100 at once, 5/s per credential.
      {{10, 6'000}, {100, 200}},
  }};
  std::size_t max_buckets = 100'000;

  ActionLimits& operator[](ThrottledAction a) { return actions[static_cast<std::size_t>(a)]; }
  const ActionLimits& operator[](ThrottledAction a) const { return actions[static_cast<std::size_t>(a)]; }
  // Every action's per-address (per-credential) bucket: `per_minute` at once and
  // `per_minute` a minute (0: unlimited). What serve's --throttle-per-address and
  // --throttle-per-credential set.
  void SetPerAddress(std::int64_t per_minute);
  void SetPerCredential(std::int64_t per_minute);
};

class Throttle {
 public:
  explicit Throttle(const core::Clock& clock, ThrottlePolicy policy = {}) : clock_(clock), policy_(policy) {}

  // Takes one token from `action`'s bucket for `address` and from its bucket for
  // `credential` (an authenticated credential's id; empty: none). Either empty: nothing
  // is taken and kResourceExhausted says when to retry (at least 1 s).
  core::Status Take(ThrottledAction action, std::string_view address, std::string_view credential);

  std::size_t size() const;

 private:
  struct Bucket {
    BucketLimit limit;
    double tokens = 0;
    std::int64_t updated_ms = 0;
  };
  // The bucket's tokens now (refilled since its last update, at most capacity).
  static double Level(const Bucket& b, std::int64_t now);
  Bucket& Find(std::string key, const BucketLimit& limit, std::int64_t now);
  void MakeRoom(std::int64_t now);

  const core::Clock& clock_;
  ThrottlePolicy policy_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace roster::service
