// MailSender: the background half of the outbox. Mail is enqueued in the same
// transaction as the request that causes it (RecordService); this sender claims due
// messages with a lease, opens them, hands them to the transport, and removes each
// after delivery. A failed delivery is retried with exponential backoff; a sender that
// dies mid-delivery leaves a lease that runs out, so another pass (or process) sends
// the message: at least once, and once in the normal case.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/mail.h"
#include "service/directory_service.h"
#include "store/store.h"

namespace roster::service {

struct MailSenderOptions {
  int batch = 16;
  std::int64_t lease_ms = 60'000;         // longer than one delivery can take
  std::int64_t poll_ms = 250;
  std::int64_t backoff_base_ms = 1'000;
  std::int64_t backoff_max_ms = 5 * 60'000;
  std::int64_t max_attempts = 50;          // then the message is dropped, with a log line
  // Operational log lines (never an address, subject or body).
  std::function<void(const std::string&)> log;
};

class MailSender {
 public:
  // `transport` may be null: messages then wait in the outbox.
  MailSender(store::MailStore& store, DirectoryService& directory, core::MailTransport* transport,
             const core::Clock& clock, MailSenderOptions options = {});
  ~MailSender();
  MailSender(const MailSender&) = delete;
  MailSender& operator=(const MailSender&) = delete;

  void Start();  // the background loop
  void Stop();   // waits for the delivery in progress
  // One pass: claims due messages and tries each once. Returns how many were delivered.
  int RunOnce();

 private:
  void Loop();
  void Log(const std::string& line) const;

  store::MailStore& store_;
  DirectoryService& directory_;
  core::MailTransport* transport_;
  const core::Clock& clock_;
  MailSenderOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace roster::service
