// What `serve` offers operators besides the APIs: JSON logs, the probes (/healthz,
// /readyz), the metrics (figures gathered from the server, the hasher and the store, and
// the listener that serves them), the data directory's lock, and the backup file.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "http/router.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "service/directory_service.h"
#include "store/store.h"

namespace spdlog {
class logger;
}

namespace roster::cli {

// One JSON object per line on stderr: {"ts","level","logger","msg", fields...}. The
// message and fields are the caller's: never a profile value, password, token or key.
class Log {
 public:
  Log(const std::string& name, const std::string& level);
  void info(const std::string& msg, boost::json::object fields = {}) const;
  void warn(const std::string& msg, boost::json::object fields = {}) const;
  void error(const std::string& msg, boost::json::object fields = {}) const;

 private:
  void Write(int level, const std::string& msg, boost::json::object fields) const;
  std::string name_;
  std::shared_ptr<spdlog::logger> logger_;
};
// Throws std::runtime_error for a level other than trace, debug, info, warn, error, off.
std::shared_ptr<Log> JsonLogger(const std::string& name, const std::string& level);

// DATA/roster.lock: `serve` holds it shared, `restore` exclusive.
class DataDirLock {
 public:
  // Throws std::runtime_error when a restore holds the directory.
  static DataDirLock Shared(const std::string& data_dir);
  // Fails (returns an unlocked lock) when a server holds it.
  static DataDirLock Exclusive(const std::string& data_dir);
  // True when some process holds DATA/roster.lock (a server is running on it).
  static bool Held(const std::string& data_dir);
  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock(const DataDirLock&) = delete;
  ~DataDirLock();
  bool locked() const { return fd_ >= 0; }

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// GET /healthz (the process answers) and GET /readyz (service::CheckReadiness: 200, or
// 503 with the failed check and why).
void AddProbes(http::Router& router, store::Store& store, service::DirectoryService& directory);

// The figures of one `serve`: requests by API, route template, method and status
// class, with latency histograms (Record, from the access record); and, read at each
// scrape, the worker pool, argon2id slots, database pool, outbox and process.
class ServeMetrics {
 public:
  ServeMetrics(store::Store& store, const crypto::PasswordHasher& hasher, const core::Clock& clock);
  void Watch(const http::Server& server);
  void Record(const http::AccessRecord& record);

 private:
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& latency_;
  std::vector<std::unique_ptr<metrics::Registry::Registration>> collectors_;
};

// A second HTTP listener with GET /metrics (Prometheus text format), /healthz and
// /readyz, on its own threads. Stops when destroyed.
class MetricsListener {
 public:
  MetricsListener(const std::string& host, std::uint16_t port, store::Store& store,
                  service::DirectoryService& directory);
  ~MetricsListener();
  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }

 private:
  std::string host_;
  std::uint16_t port_ = 0;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

// The backup file: a header line, one JSON line, then the database copy.
//   ROSTER-BACKUP 1\n{"store":"sqlite","databaseBytes":N,"createdAt":...,"masterKey":B64?}\n<bytes>
struct BackupHeader {
  std::string store;
  std::uint64_t database_bytes = 0;
  std::string created_at;
  std::string sealed_master_key;  // empty: the key is not in the backup
};
// Writes header + the file at `database_copy` to `out` (mode 0600; refuses to replace).
void WriteBackupFile(const std::string& out, const BackupHeader& header, const std::string& database_copy);
// Reads the header; the database bytes follow at the returned offset.
BackupHeader ReadBackupHeader(const std::string& path, std::uint64_t* data_offset);
// The passphrase from --passphrase-file or ROSTER_BACKUP_PASSPHRASE (never the command
// line); throws std::runtime_error when neither is set or it is empty.
std::string ReadPassphrase(const std::string& passphrase_file);

}  // namespace roster::cli
