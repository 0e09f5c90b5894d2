#include "store/postgres/notification_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <new>
#include <system_error>

namespace roster::store::postgres {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kConnectTimeout{5000};
constexpr milliseconds kFirstBackoff{100};

const char* const kKeys[] = {"connect_timeout", "fallback_application_name", "dbname", "client_encoding", nullptr};

}  // namespace

PGconn* Connect(const std::string& dsn, const char* connect_timeout_s) {
  // Entries before dbname are defaults the DSN may override; client_encoding comes after
  // it because the rest of Roster speaks UTF-8 only.
  const char* values[] = {connect_timeout_s, "roster", dsn.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectdbParams(kKeys, values, /*expand_dbname=*/1);
  if (conn == nullptr) throw std::bad_alloc();
  // Notices (e.g. "already exists, skipping") are not errors; keep them off stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return conn;
}

namespace {

enum class Wait { kReady, kTimeout, kStopped };

}  // namespace

NotificationWatch::NotificationWatch(std::string dsn, std::string channel, KeyChangeListener listener,
                                     Options options)
    : dsn_(std::move(dsn)), channel_(std::move(channel)), listener_(std::move(listener)), options_(options) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  thread_ = std::thread([this] { Run(); });
}

NotificationWatch::~NotificationWatch() {
  stop_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  ::close(wake_fd_);
}

void NotificationWatch::Tell(bool live) { listener_(live); }

// Waits until `fd` has `events`, `d` has passed, or the watch is stopped.
static Wait WaitFor(int wake_fd, const std::atomic<bool>& stop, int fd, short events, milliseconds d) {
  const auto deadline = Clock::now() + d;
  for (;;) {
    if (stop) return Wait::kStopped;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Wait::kTimeout;
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) return Wait::kStopped;  // cannot wait: give up on this watch
    if (stop) return Wait::kStopped;
    if (n > 0 && fds[0].revents != 0) return Wait::kReady;
  }
}

bool NotificationWatch::Pause(milliseconds d) {
  return WaitFor(wake_fd_, stop_, -1, 0, d) != Wait::kStopped;  // poll ignores fd -1
}

// Connects without blocking past kConnectTimeout or a stop. nullptr on failure.
static PGconn* ConnectAsync(const std::string& dsn, int wake_fd, const std::atomic<bool>& stop) {
  // The same parameters as Connect; connect_timeout is kept here instead.
  const char* values[] = {"0", "roster", dsn.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectStartParams(kKeys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return nullptr;
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  const auto deadline = Clock::now() + kConnectTimeout;
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (PQstatus(conn) != CONNECTION_BAD && status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED) {
    const short events = status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (WaitFor(wake_fd, stop, PQsocket(conn), events, left) != Wait::kReady) break;
    status = PQconnectPoll(conn);
  }
  if (status == PGRES_POLLING_OK && PQstatus(conn) == CONNECTION_OK) return conn;
  PQfinish(conn);
  return nullptr;
}

// Runs one command to completion without blocking past `d` or a stop.
static bool Command(PGconn* conn, const std::string& sql, int wake_fd, const std::atomic<bool>& stop,
                    milliseconds d) {
  if (!PQsendQuery(conn, sql.c_str())) return false;
  bool ok = true;
  for (;;) {
    if (!PQconsumeInput(conn)) return false;
    while (!PQisBusy(conn)) {
      PGresult* r = PQgetResult(conn);
      if (r == nullptr) return ok;
      const auto status = PQresultStatus(r);
      ok = ok && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK);
      PQclear(r);
    }
    if (WaitFor(wake_fd, stop, PQsocket(conn), POLLIN, d) != Wait::kReady) return false;
  }
}

void NotificationWatch::Run() {
  milliseconds backoff = kFirstBackoff;
  while (!stop_) {
    if (PGconn* conn = ConnectAsync(dsn_, wake_fd_, stop_)) {
      if (Command(conn, "LISTEN " + channel_, wake_fd_, stop_, options_.health_check)) {
        backoff = kFirstBackoff;
        Serve(conn);
      }
      PQfinish(conn);
    }
    if (stop_) return;
    Tell(false);
    if (!Pause(backoff)) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void NotificationWatch::Serve(PGconn* conn) {
  // Changes made before the LISTEN took effect were not heard: forget everything now.
  Tell(true);
  for (;;) {
    switch (WaitFor(wake_fd_, stop_, PQsocket(conn), POLLIN, options_.health_check)) {
      case Wait::kStopped:
        return;
      case Wait::kTimeout:
        // Quiet for a while: prove that the session still hears the server.
        if (!Command(conn, "SELECT 1", wake_fd_, stop_, options_.health_check)) return;
        break;
      case Wait::kReady:
        if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) return;
        break;
    }
    bool changed = false;
    while (PGnotify* n = PQnotifies(conn)) {
      changed = true;
      PQfreemem(n);
    }
    if (changed) Tell(true);
  }
}

}  // namespace roster::store::postgres
