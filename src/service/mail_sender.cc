#include "service/mail_sender.h"

#include <algorithm>
#include <chrono>

#include "metrics/metrics.h"
#include "service/record_service.h"

namespace roster::service {
namespace {
metrics::Counter& MailCount(std::string_view outcome) {
  static auto& f = metrics::Registry::Global().AddCounter(
      "roster_mail_deliveries_total",
      "Outbox delivery attempts by outcome: sent, failed (retried later), dropped (attempts spent).", {"outcome"});
  return f.With({outcome});
}
[[maybe_unused]] const bool kMetricsRegistered = [] {
  for (const char* outcome : {"sent", "failed", "dropped"}) MailCount(outcome);
  return true;
}();
}  // namespace

MailSender::MailSender(store::MailStore& store, DirectoryService& directory, core::MailTransport* transport,
                       const core::Clock& clock, MailSenderOptions options)
    : store_(store), directory_(directory), transport_(transport), clock_(clock), options_(std::move(options)) {}

MailSender::~MailSender() { Stop(); }

void MailSender::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void MailSender::Start() {
  if (transport_ == nullptr) {
    auto waiting = store_.CountMail();
    Log("mail: no SMTP server configured (--smtp-url); " + std::to_string(waiting.value_or(0)) +
        " message(s) wait in the outbox and new ones will wait too");
    return;
  }
  thread_ = std::thread([this] { Loop(); });
}

void MailSender::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MailSender::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    int delivered = 0;
    try {
      delivered = RunOnce();
    } catch (const std::exception& e) {
      Log(std::string("mail: sender pass failed: ") + e.what());
    }
    lock.lock();
    // A full batch suggests more are due: go again at once.
    if (delivered < options_.batch)
      cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), [&] { return stopping_; });
  }
}

int MailSender::RunOnce() {
  if (transport_ == nullptr) return 0;
  const auto now = clock_.NowMillis();
  auto claimed = store_.ClaimMail(now, now + options_.lease_ms, options_.batch);
  if (!claimed) {
    Log("mail: cannot read the outbox: " + claimed.error().message);
    return 0;
  }
  int delivered = 0;
  for (const auto& row : *claimed) {
    auto keys = directory_.KeysFor(row.environment_id);
    auto mail = keys ? OpenMail(directory_, *keys, row.environment_id, row.sealed)
                     : core::Result<core::Mail>(std::unexpected(keys.error()));
    core::Status sent = mail ? transport_->Send(*mail) : core::Status(std::unexpected(mail.error()));
    if (sent) {
      // kNotFound: another sender delivered it after our lease ran out; nothing to do.
      if (auto st = store_.CompleteMail(row.id); !st && st.error().code != core::ErrorCode::kNotFound)
        Log("mail: message " + std::to_string(row.id) + " sent but not removed: " + st.error().message);
      ++delivered;
      MailCount("sent").Inc();
      continue;
    }
    const std::int64_t attempts = row.attempts + 1;
    MailCount(attempts >= options_.max_attempts ? "dropped" : "failed").Inc();
    if (attempts >= options_.max_attempts) {
      Log("mail: message " + std::to_string(row.id) + " dropped after " + std::to_string(attempts) +
          " attempts: " + sent.error().message);
      (void)store_.CompleteMail(row.id);
      continue;
    }
    const std::int64_t shift = std::min<std::int64_t>(attempts - 1, 20);
    const std::int64_t delay = std::min(options_.backoff_max_ms, options_.backoff_base_ms << shift);
    Log("mail: message " + std::to_string(row.id) + " not delivered (attempt " + std::to_string(attempts) +
        "), retrying in " + std::to_string(delay) + " ms: " + sent.error().message);
    if (auto st = store_.RetryMail(row.id, attempts, clock_.NowMillis() + delay); !st)
      Log("mail: cannot reschedule message " + std::to_string(row.id) + ": " + st.error().message);
  }
  return delivered;
}

}  // namespace roster::service
