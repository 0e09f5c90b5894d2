// The audit trail: who touched which user, how, and with what outcome; never a value.
// Decided here, in the service layer, from the principal (core/access.h) and what a use
// case read or wrote; dialects pass only the route template and request id (on the
// Principal). A write's record is appended in the write's own store transaction
// (WriteOptions::audit); every other record (reads, refusals, failed writes, sign-ins)
// goes through AuditLog::Record, whose writer thread appends the records of many
// requests in one transaction (group commit) and releases each answer (core/holds.h)
// only once its records are durable. The store chains each environment's records with
// a keyed hash (crypto::Keyring::AuditMac); Verify walks the chain. docs/security.md.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/access.h"
#include "core/clock.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "metrics/metrics.h"
#include "store/store.h"

namespace roster::service {

// Field groups a record says were read or written.
enum AuditFields : std::uint32_t {
  kAuditProfile = 1u << 0,
  kAuditPhi = 1u << 1,
  kAuditPassword = 1u << 2,
  kAuditCredentials = 1u << 3,
};
// "profile,phi,password,credentials" (those set, in that order).
std::string AuditFieldNames(std::uint32_t fields);
// "ok", or the error's code in kebab case ("permission-denied").
std::string AuditOutcome(const core::Error* error);

// HIPAA's documentation period (45 CFR 164.316(b)(2)): six years.
inline constexpr std::int64_t kDefaultAuditRetentionMs = 6ll * 365 * 24 * 60 * 60 * 1000 + 2ll * 24 * 60 * 60 * 1000;

struct AuditVerification {
  bool ok = true;
  std::int64_t records = 0;   // records checked
  std::int64_t first_seq = 0; // the first record kept (after a purge, > 1)
  std::int64_t bad_seq = 0;   // the first record found wrong (0: none)
  std::string problem;        // what is wrong with it; empty when ok
};

struct AuditFilter {
  std::optional<std::int64_t> since_ms, until_ms;  // at_ms in [since, until)
  std::optional<std::string> subject;
};

class AuditLog {
 public:
  // Gives the store the chain's MAC and starts the writer thread.
  AuditLog(store::Store& store, const crypto::Keyring& keyring, const core::Clock& clock);
  ~AuditLog();  // writes what is queued, then stops
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // A record of `action` on `subject` by `principal` in its request.
  store::AuditRow Row(const core::Principal& principal, std::string_view action, std::string_view subject,
                      const core::Error* error, std::uint32_t fields) const;
  // A record of an administrative command (`roster ...`) run on this host.
  store::AuditRow CommandRow(const std::string& environment_id, std::string_view command, std::string_view action,
                             std::string_view subject, const core::Error* error, std::uint32_t fields) const;

  // Appends through the group-commit writer. Inside a request (a HoldScope on this
  // thread) it returns at once and the answer waits for durability; elsewhere it waits
  // and reports whether the records are durable.
  core::Status Record(std::vector<store::AuditRow> rows);
  core::Status Record(store::AuditRow row) { return Record(std::vector<store::AuditRow>{std::move(row)}); }
  // Returns once every record queued so far has been written (or failed) and its
  // waiters told, the writer keeps running. `roster serve` calls it after the HTTP
  // server stopped and before it is destroyed: a request's hold callback, told from
  // the writer thread, posts to that server's io_context and holds its session.
  void Flush();

  // Walks the environment's chain from its first kept record (or a signed checkpoint
  // before it) to its signed head, and names the first record that was edited,
  // deleted, inserted or moved.
  core::Result<AuditVerification> Verify(const std::string& environment_id);
  // The environment's records matching `filter`, in chain order.
  core::Status Export(const std::string& environment_id, const AuditFilter& filter,
                      const std::function<void(const store::AuditRow&)>& each);
  // Deletes records older than `retention_ms` up to a checkpoint (the rest verifies).
  core::Result<std::int64_t> Purge(const std::string& environment_id, std::int64_t retention_ms);

  // Records appended through the writer, and the transactions that carried them.
  std::uint64_t appended() const;
  std::uint64_t batches() const;

 private:
  struct Ticket;
  void Run();

  store::Store& store_;
  const crypto::Keyring& keyring_;
  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::vector<store::AuditRow>, std::shared_ptr<Ticket>>> queue_;
  bool stop_ = false;
  std::uint64_t appended_ = 0, batches_ = 0, failed_batches_ = 0;
  std::int64_t inflight_oldest_ms_ = 0;  // the batch being committed: its oldest record's time (0: none)
  bool busy_ = false;                    // a batch is being written or its waiters told
  std::condition_variable idle_cv_;      // busy_ fell with the queue empty (Flush)
  std::thread writer_;
  // roster_audit_* at every scrape: queue depth, lag, records, batches, failures.
  std::unique_ptr<metrics::Registry::Registration> metrics_;
};

// One export line: a JSON object with every field but the chain's bytes as hex.
std::string AuditJson(const store::AuditRow& row);

}  // namespace roster::service
