#include "service/throttle.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace roster::service {
namespace {

// Keys are bounded: an address or credential id longer than this is cut (neither is
// ever this long when genuine).
constexpr std::size_t kMaxKeyPart = 256;

std::string Key(ThrottledAction action, char kind, std::string_view value) {
  std::string key;
  key.reserve(3 + std::min(value.size(), kMaxKeyPart));
  key.push_back(static_cast<char>('0' + static_cast<int>(action)));
  key.push_back(kind);
  key.push_back('/');
  key.append(value.substr(0, kMaxKeyPart));
  return key;
}

void SetAll(ThrottlePolicy& policy, BucketLimit ActionLimits::*member, std::int64_t per_minute) {
  for (auto& a : policy.actions)
    a.*member = per_minute > 0 ? BucketLimit{per_minute, std::max<std::int64_t>(1, 60'000 / per_minute)}
                               : BucketLimit{};
}

}  // namespace

std::string_view ThrottledActionName(ThrottledAction action) {
  switch (action) {
    case ThrottledAction::kSignIn: return "sign-in";
    case ThrottledAction::kSignUp: return "sign-up";
    case ThrottledAction::kSession: return "session";
    case ThrottledAction::kForgotUsername: return "forgot-username";
    case ThrottledAction::kPasswordReset: return "password-reset";
  }
  return "?";
}

void ThrottlePolicy::SetPerAddress(std::int64_t per_minute) { SetAll(*this, &ActionLimits::per_address, per_minute); }
void ThrottlePolicy::SetPerCredential(std::int64_t per_minute) {
  SetAll(*this, &ActionLimits::per_credential, per_minute);
}

double Throttle::Level(const Bucket& b, std::int64_t now) {
  const double capacity = static_cast<double>(b.limit.capacity);
  if (now <= b.updated_ms || b.limit.refill_ms <= 0) return std::min(b.tokens, capacity);
  return std::min(capacity, b.tokens + static_cast<double>(now - b.updated_ms) / static_cast<double>(b.limit.refill_ms));
}

void Throttle::MakeRoom(std::int64_t now) {
  // First the buckets that have refilled: a fresh bucket would be the same.
  std::erase_if(buckets_, [&](const auto& entry) {
    return Level(entry.second, now) >= static_cast<double>(entry.second.limit.capacity);
  });
  if (buckets_.size() + 2 <= policy_.max_buckets) return;
  // Then the least recently used half.
  std::vector<std::int64_t> times;
  times.reserve(buckets_.size());
  for (const auto& [key, b] : buckets_) times.push_back(b.updated_ms);
  auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
  std::nth_element(times.begin(), middle, times.end());
  const std::int64_t cut = *middle;
  std::erase_if(buckets_, [&](const auto& entry) { return entry.second.updated_ms <= cut; });
}

Throttle::Bucket& Throttle::Find(std::string key, const BucketLimit& limit, std::int64_t now) {
  auto it = buckets_.find(key);
  if (it != buckets_.end()) return it->second;
  return buckets_.emplace(std::move(key), Bucket{limit, static_cast<double>(limit.capacity), now}).first->second;
}

core::Status Throttle::Take(ThrottledAction action, std::string_view address, std::string_view credential) {
  const ActionLimits& limits = policy_[action];
  const std::int64_t now = clock_.NowMillis();
  std::lock_guard lock(mutex_);
  // Room for both buckets first: no bucket goes while this call holds one.
  if (buckets_.size() + 2 > policy_.max_buckets) MakeRoom(now);
  Bucket* taken[2] = {nullptr, nullptr};
  std::size_t n = 0;
  std::int64_t wait_ms = 0;
  const auto check = [&](char kind, std::string_view value, const BucketLimit& limit) {
    if (limit.capacity <= 0) return;
    Bucket& b = Find(Key(action, kind, value), limit, now);
    const double level = Level(b, now);
    b.tokens = level;
    b.updated_ms = std::max(b.updated_ms, now);
    if (level >= 1.0) {
      taken[n++] = &b;
    } else {
      const auto ms = static_cast<std::int64_t>(std::ceil((1.0 - level) * static_cast<double>(b.limit.refill_ms)));
      wait_ms = std::max(wait_ms, ms);
    }
  };
  check('a', address, limits.per_address);
  // Without a credential (none authenticated) only the address counts.
  if (!credential.empty()) check('c', credential, limits.per_credential);
  if (wait_ms > 0)
    return core::TooManyRequests("too many " + std::string(ThrottledActionName(action)) + " requests; retry later",
                                 std::max<std::int64_t>(1, (wait_ms + 999) / 1000));
  for (std::size_t i = 0; i < n; ++i) taken[i]->tokens -= 1.0;
  return {};
}

std::size_t Throttle::size() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace roster::service
