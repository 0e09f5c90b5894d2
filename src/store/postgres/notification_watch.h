// A LISTEN on one PostgreSQL channel, on a connection of its own, reported to a
// store::KeyChangeListener from a thread of its own. The listener hears live = true once
// the LISTEN is in place and after every notification; live = false when the connection
// is lost (or a health check finds it dead), after which it reconnects with backoff and
// says live = true again. Destruction stops the thread promptly.
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "store/store.h"

namespace roster::store::postgres {

// Opens a session with Roster's defaults (UTF-8, application name); `dsn` may override
// all but the encoding. Never nullptr; check PQstatus.
PGconn* Connect(const std::string& dsn, const char* connect_timeout_s);

class NotificationWatch final : public Watch {
 public:
  struct Options {
    std::chrono::milliseconds health_check{5000};  // idle this long: check the session
    std::chrono::milliseconds max_backoff{5000};   // between reconnection attempts
  };
  // `channel` must be a plain identifier (it is spliced into LISTEN).
  NotificationWatch(std::string dsn, std::string channel, KeyChangeListener listener, Options options);
  ~NotificationWatch() override;

 private:
  void Run();
  // Holds one session until it fails or Stop; false if it could not be set up.
  void Serve(PGconn* conn);
  // Sleeps up to `d`, or less if stopped. False once stopped.
  bool Pause(std::chrono::milliseconds d);
  void Tell(bool live);

  const std::string dsn_;
  const std::string channel_;
  const KeyChangeListener listener_;
  const Options options_;
  int wake_fd_ = -1;  // eventfd: written by the destructor
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace roster::store::postgres
