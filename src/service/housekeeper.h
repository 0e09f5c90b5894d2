// Housekeeper: a background thread of `serve` that deletes what has outlived its use:
// expired records (application sessions, reset codes, nonces), user sessions past their
// lifetime or idle timeout, and counter windows older than any window in use. Safe with
// several processes (each delete is idempotent).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "store/store.h"

namespace roster::service {

struct HousekeeperOptions {
  std::int64_t interval_ms = 5 * 60'000;
  std::int64_t counter_retention_ms = 24 * 3600'000;  // >= the longest counter window
  std::function<void(const std::string&)> log;        // failures only
  // The user sessions' policy (SessionPolicy): sessions idle or alive that long are
  // refused already, and deleted here; 0 keeps sessions on that count.
  std::int64_t session_idle_ms = 0;
  std::int64_t session_lifetime_ms = 0;
  // Audit records older than this are purged up to a signed checkpoint, so what is kept
  // still verifies (service/audit.h); 0 keeps every record.
  std::int64_t audit_retention_ms = 0;
};

class Housekeeper {
 public:
  Housekeeper(store::Store& store, const core::Clock& clock, HousekeeperOptions options = {})
      : store_(store), clock_(clock), options_(std::move(options)) {}
  ~Housekeeper() { Stop(); }
  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  void Start() {
    thread_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!stopping_) {
        lock.unlock();
        RunOnce();
        lock.lock();
        cv_.wait_for(lock, std::chrono::milliseconds(options_.interval_ms), [&] { return stopping_; });
      }
    });
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // One pass; returns how many records and sessions it deleted.
  std::int64_t RunOnce() {
    const auto now = clock_.NowMillis();
    auto purged = store_.PurgeExpiredRecords(now);
    if (!purged && options_.log) options_.log("housekeeping: cannot purge expired records: " + purged.error().message);
    auto sessions = store_.PurgeSessions(now, options_.session_idle_ms ? now - options_.session_idle_ms : 0,
                                         options_.session_lifetime_ms ? now - options_.session_lifetime_ms : 0);
    if (!sessions && options_.log) options_.log("housekeeping: cannot purge sessions: " + sessions.error().message);
    if (auto st = store_.PurgeCounters(now - options_.counter_retention_ms); !st && options_.log)
      options_.log("housekeeping: cannot purge counters: " + st.error().message);
    if (options_.audit_retention_ms > 0) {
      auto environments = store_.ListEnvironments();
      for (const auto& env : environments ? *environments : std::vector<store::EnvironmentRow>{})
        if (auto n = store_.PurgeAudit(env.id, now - options_.audit_retention_ms); !n && options_.log)
          options_.log("housekeeping: cannot purge audit records: " + n.error().message);
    }
    return purged.value_or(0) + sessions.value_or(0);
  }

 private:
  store::Store& store_;
  const core::Clock& clock_;
  HousekeeperOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace roster::service
