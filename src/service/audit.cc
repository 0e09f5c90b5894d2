#include "service/audit.h"

#include <boost/json.hpp>

#include <algorithm>
#include <utility>

#include "core/holds.h"
#include "store/audit_chain.h"

namespace roster::service {

using core::ErrorCode;

std::string AuditFieldNames(std::uint32_t fields) {
  std::string out;
  for (auto [bit, name] : {std::pair{kAuditProfile, "profile"}, std::pair{kAuditPhi, "phi"},
                           std::pair{kAuditPassword, "password"}, std::pair{kAuditCredentials, "credentials"}}) {
    if ((fields & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

std::string AuditOutcome(const core::Error* error) {
  if (error == nullptr) return "ok";
  switch (error->code) {
    case ErrorCode::kInvalidArgument: return "invalid-argument";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kPermissionDenied: return "permission-denied";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kAlreadyExists: return "already-exists";
    case ErrorCode::kFailedPrecondition: return "failed-precondition";
    case ErrorCode::kAborted: return "aborted";
    case ErrorCode::kVersionMismatch: return "version-mismatch";
    case ErrorCode::kResourceExhausted: return "resource-exhausted";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

// A batch's outcome, told to the request waiting for it (a hold, or a blocked caller).
struct AuditLog::Ticket {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false, durable = false;
  core::HoldDone callback;

  void Complete(bool ok) {
    core::HoldDone call;
    {
      std::lock_guard lock(mu);
      done = true;
      durable = ok;
      call = std::move(callback);
    }
    cv.notify_all();
    if (call) call(ok);
  }
  void OnDone(core::HoldDone call) {
    {
      std::lock_guard lock(mu);
      if (!done) {
        callback = std::move(call);
        return;
      }
    }
    call(durable);
  }
  bool Wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    return durable;
  }
};

AuditLog::AuditLog(store::Store& store, const crypto::Keyring& keyring, const core::Clock& clock)
    : store_(store), keyring_(keyring), clock_(clock) {
  store_.SetAuditMac([&keyring](std::string_view bytes) { return keyring.AuditMac(bytes); });
  writer_ = std::thread([this] { Run(); });
  metrics_ = metrics::Registry::Global().AddCollector([this](metrics::Sample& out) {
    std::size_t queued = 0;
    std::int64_t oldest = 0;
    std::uint64_t appended = 0, batches = 0, failed = 0;
    {
      std::lock_guard lock(mu_);
      for (const auto& [rows, ticket] : queue_) queued += rows.size();
      oldest = inflight_oldest_ms_;
      if (oldest == 0 && !queue_.empty() && !queue_.front().first.empty()) oldest = queue_.front().first.front().at_ms;
      appended = appended_;
      batches = batches_;
      failed = failed_batches_;
    }
    const double lag = oldest == 0 ? 0.0 : std::max<std::int64_t>(0, clock_.NowMillis() - oldest) / 1000.0;
    out.Gauge("roster_audit_queue_records", "Audit records waiting for the group-commit writer.",
              static_cast<double>(queued));
    out.Gauge("roster_audit_lag_seconds",
              "Age of the oldest audit record not yet durable (0: none waiting); answers wait this long.", lag);
    out.Counter("roster_audit_records_total", "Audit records the group-commit writer made durable.",
                static_cast<double>(appended));
    out.Counter("roster_audit_batches_total", "Transactions of the group-commit writer.", static_cast<double>(batches));
    out.Counter("roster_audit_failed_batches_total",
                "Group commits that could not be written (their answers became 503).", static_cast<double>(failed));
  });
}

AuditLog::~AuditLog() {
  metrics_.reset();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

store::AuditRow AuditLog::Row(const core::Principal& principal, std::string_view action, std::string_view subject,
                              const core::Error* error, std::uint32_t fields) const {
  store::AuditRow r;
  r.environment_id = principal.environment_id;
  r.at_ms = clock_.NowMillis();
  r.principal_kind = std::string(core::CredentialKindName(principal.kind));
  r.principal_id = principal.credential_id;
  r.principal_user = principal.self_user_id;
  r.api = std::string(core::ApiName(principal.api));
  const core::RequestContext request = core::CurrentRequest();
  r.route = std::string(request.route);
  r.request_id = std::string(request.request_id);
  r.action = std::string(action);
  r.subject = std::string(subject);
  r.outcome = AuditOutcome(error);
  r.fields = AuditFieldNames(fields);
  return r;
}

store::AuditRow AuditLog::CommandRow(const std::string& environment_id, std::string_view command,
                                     std::string_view action, std::string_view subject, const core::Error* error,
                                     std::uint32_t fields) const {
  store::AuditRow r;
  r.environment_id = environment_id;
  r.at_ms = clock_.NowMillis();
  r.principal_kind = "operator";
  r.api = "cli";
  r.route = std::string(command);
  r.action = std::string(action);
  r.subject = std::string(subject);
  r.outcome = AuditOutcome(error);
  r.fields = AuditFieldNames(fields);
  return r;
}

core::Status AuditLog::Record(std::vector<store::AuditRow> rows) {
  if (rows.empty()) return {};
  auto ticket = std::make_shared<Ticket>();
  {
    std::lock_guard lock(mu_);
    queue_.emplace_back(std::move(rows), ticket);
  }
  cv_.notify_one();
  if (core::AddHold([ticket](core::HoldDone done) { ticket->OnDone(std::move(done)); })) return {};
  if (!ticket->Wait()) return core::Fail(ErrorCode::kUnavailable, "the audit record could not be written");
  return {};
}

void AuditLog::Run() {
  for (;;) {
    decltype(queue_) batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      batch.swap(queue_);
      busy_ = true;
      inflight_oldest_ms_ = batch.front().first.empty() ? clock_.NowMillis() : batch.front().first.front().at_ms;
    }
    // Everything that arrived while the last transaction committed goes in this one.
    std::vector<store::AuditRow> rows;
    for (auto& [r, ticket] : batch)
      for (auto& row : r) rows.push_back(std::move(row));
    auto st = store_.AppendAudit(rows);
    // A busy database (lock contention) is worth one more try before answers fail.
    if (!st && st.error().code == ErrorCode::kUnavailable) st = store_.AppendAudit(rows);
    {
      std::lock_guard lock(mu_);
      if (st) appended_ += rows.size();
      else ++failed_batches_;
      ++batches_;
      inflight_oldest_ms_ = 0;
    }
    for (auto& [r, ticket] : batch) ticket->Complete(st.has_value());
    batch.clear();  // the waiters' callbacks (and what they hold) go before Flush returns
    {
      std::lock_guard lock(mu_);
      busy_ = false;
    }
    idle_cv_.notify_all();
  }
}

void AuditLog::Flush() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return !busy_ && queue_.empty(); });
}

std::uint64_t AuditLog::appended() const {
  std::lock_guard lock(mu_);
  return appended_;
}
std::uint64_t AuditLog::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

core::Result<AuditVerification> AuditLog::Verify(const std::string& environment_id) {
  namespace chain = store::audit_chain;
  AuditVerification v;
  auto fail = [&](std::int64_t seq, std::string problem) {
    v.ok = false;
    v.bad_seq = seq;
    v.problem = std::move(problem);
    return v;
  };
  auto head = store_.GetAuditHead(environment_id);
  if (!head) return std::unexpected(head.error());
  auto checkpoints = store_.ListAuditCheckpoints(environment_id);
  if (!checkpoints) return std::unexpected(checkpoints.error());
  for (const auto& k : *checkpoints) {
    if (!crypto::SecretsEqual(k.mac, keyring_.AuditMac(chain::CheckpointBytes(k.environment_id, k.seq, k.hash,
                                                                                k.at_ms))))
      return fail(k.seq, "the checkpoint at record " + std::to_string(k.seq) + " is not signed by this key");
  }
  auto checkpoint_at = [&](std::int64_t seq) -> const store::AuditCheckpoint* {
    for (const auto& k : *checkpoints)
      if (k.seq == seq) return &k;
    return nullptr;
  };
  std::int64_t expected_seq = 0;
  std::string expected_prev, last_hash;
  constexpr int kPage = 1000;
  for (std::int64_t after = 0;;) {
    auto page = store_.ListAudit(environment_id, after, kPage);
    if (!page) return std::unexpected(page.error());
    for (const auto& row : *page) {
      const std::string n = std::to_string(row.seq);
      if (expected_seq == 0) {
        v.first_seq = row.seq;
        if (row.seq == 1) {
          expected_prev = chain::Genesis();
        } else if (const auto* k = checkpoint_at(row.seq - 1)) {
          expected_prev = k->hash;
        } else {
          return fail(row.seq - 1, "record " + std::to_string(row.seq - 1) +
                                       " is missing (deleted), and no signed checkpoint covers it");
        }
      } else if (row.seq != expected_seq) {
        return fail(expected_seq, "record " + std::to_string(expected_seq) + " is missing (deleted)");
      }
      if (!crypto::SecretsEqual(row.prev, expected_prev))
        return fail(row.seq, "record " + n +
                                 " does not follow the record before it (inserted, moved, or the one before it "
                                 "was changed)");
      if (!crypto::SecretsEqual(row.hash, keyring_.AuditMac(chain::RecordBytes(row))))
        return fail(row.seq, "record " + n + " was changed (its hash does not match its contents)");
      if (const auto* k = checkpoint_at(row.seq); k && !crypto::SecretsEqual(k->hash, row.hash))
        return fail(row.seq, "record " + n + " does not match its signed checkpoint");
      expected_prev = row.hash;
      expected_seq = row.seq + 1;
      last_hash = row.hash;
      ++v.records;
    }
    if (page->size() < static_cast<std::size_t>(kPage)) break;
    after = page->back().seq;
  }
  const std::int64_t last = expected_seq == 0 ? 0 : expected_seq - 1;
  if (!head->has_value()) {
    if (last != 0) return fail(1, "the chain has no signed head (its head was deleted)");
    return v;
  }
  const auto& h = **head;
  if (!crypto::SecretsEqual(h.mac, keyring_.AuditMac(chain::HeadBytes(h.environment_id, h.seq, h.hash))))
    return fail(h.seq, "the chain's head is not signed by this key");
  if (h.seq > last)
    return fail(last + 1, "record " + std::to_string(last + 1) + " is missing (deleted), and every one after it");
  if (h.seq < last)
    return fail(h.seq + 1, "record " + std::to_string(h.seq + 1) + " is past the signed head (inserted)");
  if (last != 0 && !crypto::SecretsEqual(h.hash, last_hash))
    return fail(last, "record " + std::to_string(last) + " does not match the signed head");
  return v;
}

core::Status AuditLog::Export(const std::string& environment_id, const AuditFilter& filter,
                              const std::function<void(const store::AuditRow&)>& each) {
  constexpr int kPage = 1000;
  for (std::int64_t after = 0;;) {
    auto page = store_.ListAudit(environment_id, after, kPage);
    if (!page) return std::unexpected(page.error());
    for (const auto& row : *page) {
      if (filter.since_ms && row.at_ms < *filter.since_ms) continue;
      if (filter.until_ms && row.at_ms >= *filter.until_ms) continue;
      if (filter.subject && row.subject != *filter.subject) continue;
      each(row);
    }
    if (page->size() < static_cast<std::size_t>(kPage)) return {};
    after = page->back().seq;
  }
}

core::Result<std::int64_t> AuditLog::Purge(const std::string& environment_id, std::int64_t retention_ms) {
  return store_.PurgeAudit(environment_id, clock_.NowMillis() - retention_ms);
}

std::string AuditJson(const store::AuditRow& row) {
  boost::json::array fields;
  std::string_view rest = row.fields;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    fields.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  boost::json::object o;
  o["seq"] = row.seq;
  o["at"] = row.at_ms;
  o["environment"] = row.environment_id;
  o["principal"] = {{"kind", row.principal_kind}, {"id", row.principal_id}, {"user", row.principal_user}};
  o["api"] = row.api;
  o["route"] = row.route;
  o["request_id"] = row.request_id;
  o["action"] = row.action;
  o["subject"] = row.subject;
  o["outcome"] = row.outcome;
  o["fields"] = std::move(fields);
  o["prev"] = crypto::ToHex(row.prev);
  o["hash"] = crypto::ToHex(row.hash);
  return boost::json::serialize(o);
}

}  // namespace roster::service
