#include "cli/operations.h"

#include <fcntl.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/rules.h"
#include "service/readiness.h"

namespace roster::cli {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr char kBackupMagic[] = "ROSTER-BACKUP 1";

}  // namespace

// --- logs

Log::Log(const std::string& name, const std::string& level) : name_(name) {
  const auto parsed = spdlog::level::from_str(level);
  // from_str answers "off" for anything it does not know.
  if (parsed == spdlog::level::off && level != "off")
    throw std::runtime_error("--log-level must be one of trace, debug, info, warn, error, off");
  logger_ = spdlog::get(name);
  if (!logger_) logger_ = spdlog::stderr_logger_mt(name);
  logger_->set_pattern("%v");
  logger_->set_level(parsed);
  logger_->flush_on(spdlog::level::trace);
}

void Log::Write(int level, const std::string& msg, json::object fields) const {
  const auto l = static_cast<spdlog::level::level_enum>(level);
  if (!logger_->should_log(l)) return;
  json::object line{{"ts", core::FormatTimestamp(core::SystemClock().NowMillis(), true)},
                    {"level", spdlog::level::to_string_view(l).data()},
                    {"logger", name_},
                    {"msg", msg}};
  for (auto& [k, v] : fields) line[k] = std::move(v);
  logger_->log(l, json::serialize(line));
}

void Log::info(const std::string& msg, json::object fields) const { Write(spdlog::level::info, msg, std::move(fields)); }
void Log::warn(const std::string& msg, json::object fields) const { Write(spdlog::level::warn, msg, std::move(fields)); }
void Log::error(const std::string& msg, json::object fields) const {
  Write(spdlog::level::err, msg, std::move(fields));
}

std::shared_ptr<Log> JsonLogger(const std::string& name, const std::string& level) {
  return std::make_shared<Log>(name, level);
}

// --- the data directory's lock

namespace {
int OpenLockFile(const std::string& data_dir) {
  const std::string path = (fs::path(data_dir) / "roster.lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  return fd;
}
}  // namespace

DataDirLock DataDirLock::Shared(const std::string& data_dir) {
  const int fd = OpenLockFile(data_dir);
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    ::close(fd);
    throw std::runtime_error(data_dir + " is being restored; start the server when the restore is done");
  }
  return DataDirLock(fd);
}

DataDirLock DataDirLock::Exclusive(const std::string& data_dir) {
  const int fd = OpenLockFile(data_dir);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return DataDirLock(-1);
  }
  return DataDirLock(fd);
}

bool DataDirLock::Held(const std::string& data_dir) {
  const std::string path = (fs::path(data_dir) / "roster.lock").string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

// --- probes

void AddProbes(http::Router& router, store::Store& store, service::DirectoryService& directory) {
  router.Add("GET", "/healthz", http::Exec::kInline, [](const http::Request&, const http::PathParams&) {
    return http::Response::Json(200, R"({"status":"ok"})");
  });
  // On a worker: the checks wait on the database.
  router.Add("GET", "/readyz", http::Exec::kWorker, [&store, &directory](const http::Request&, const http::PathParams&) {
    const auto r = service::CheckReadiness(store, directory);
    if (r.ready) return http::Response::Json(200, R"({"status":"ready"})");
    return http::Response::Json(
        503, json::serialize(json::object{{"status", "not ready"}, {"check", r.check}, {"reason", r.reason}}));
  });
}

// --- metrics

namespace {
// A resource of bounded size (argon2id slots, database connections): its size, the part
// in use, and the waits for it (PREFIX_waits_total, PREFIX_wait_seconds_total).
struct BoundedNames {
  const char *size, *size_help, *in_use, *in_use_help, *prefix, *who, *what;
};
void SampleBounded(metrics::Sample& s, const BoundedNames& n, double size, double in_use, std::uint64_t waits,
                   double wait_seconds) {
  const std::string who(n.who), what(n.what);
  std::string capitalised = who;
  capitalised[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(capitalised[0])));
  s.Gauge(n.size, n.size_help, size);
  s.Gauge(n.in_use, n.in_use_help, in_use);
  s.Counter(std::string(n.prefix) + "_waits_total", capitalised + " that had to wait for " + what + ".",
            static_cast<double>(waits));
  s.Counter(std::string(n.prefix) + "_wait_seconds_total",
            "Time " + who + " waited for " + what + ", in total.", wait_seconds);
}
}  // namespace

ServeMetrics::ServeMetrics(store::Store& store, const crypto::PasswordHasher& hasher, const core::Clock& clock)
    : requests_(metrics::Registry::Global().AddCounter(
          "roster_http_requests_total", "HTTP requests answered, by API, method, route template and status class.",
          {"api", "method", "route", "status"})),
      latency_(metrics::Registry::Global().AddHistogram(
          "roster_http_request_duration_seconds",
          "Time from a request's last byte read to its response written, by API, method and route template.",
          {"api", "method", "route"}, metrics::LatencyBuckets())) {
  auto& registry = metrics::Registry::Global();
  collectors_.push_back(registry.AddCollector(metrics::CollectProcess));
  collectors_.push_back(registry.AddCollector([&hasher](metrics::Sample& s) {
    const auto slots = hasher.slot_stats();
    SampleBounded(s, {"roster_argon2_slots", "argon2id hashes allowed at once (--hash-threads).",
                      "roster_argon2_slots_in_use", "argon2id hashes running now.", "roster_argon2",
                      "password checks", "an argon2id slot"},
                  slots.slots, slots.in_use, slots.waits, slots.wait_seconds);
    s.Gauge("roster_argon2_waiting", "Password checks waiting for an argon2id slot now.", slots.waiting);
  }));
  collectors_.push_back(registry.AddCollector([&store, &clock](metrics::Sample& s) {
    const auto pool = store.Pool();
    if (pool.size > 0)
      SampleBounded(s, {"roster_db_pool_connections", "Database connections in the pool (--db-pool-size).",
                        "roster_db_pool_in_use", "Database connections lent out now.", "roster_db_pool",
                        "database calls", "a free connection"},
                    pool.size, pool.in_use, pool.waits, pool.wait_seconds);
    const auto outbox = store.Outbox();
    s.Gauge("roster_store_up", "1 when the database answered this scrape's outbox query, else 0.", outbox ? 1 : 0);
    if (outbox) {
      s.Gauge("roster_outbox_messages", "Mail messages waiting in the outbox.", static_cast<double>(outbox->depth));
      const double age =
          outbox->oldest_created_ms > 0
              ? static_cast<double>(std::max<std::int64_t>(0, clock.NowMillis() - outbox->oldest_created_ms)) / 1000
              : 0;
      s.Gauge("roster_outbox_oldest_age_seconds", "Age of the oldest message in the outbox (0 when empty).", age);
    }
  }));
}

void ServeMetrics::Watch(const http::Server& server) {
  collectors_.push_back(metrics::Registry::Global().AddCollector([&server](metrics::Sample& s) {
    const auto stats = server.Stats();
    s.Gauge("roster_worker_threads", "Worker threads (--worker-threads).", stats.workers);
    s.Gauge("roster_worker_busy", "Worker threads running a request now.", stats.workers_busy);
    s.Gauge("roster_worker_queue_depth", "Requests waiting for a worker thread.",
            static_cast<double>(stats.worker_queue_depth));
    s.Gauge("roster_worker_queue_capacity", "Requests that may wait for a worker before 503.",
            static_cast<double>(stats.worker_queue_capacity));
    s.Counter("roster_worker_rejections_total", "Requests refused with 503 because the worker queue was full.",
              static_cast<double>(stats.worker_rejections));
    s.Gauge("roster_http_connections", "Open client connections.", static_cast<double>(stats.connections));
    s.Counter("roster_tls_reloads_total", "TLS certificate reloads (SIGHUP) that succeeded.",
              static_cast<double>(stats.tls_reloads));
  }));
}

void ServeMetrics::Record(const http::AccessRecord& r) {
  // Route templates and API names only: a path value never becomes a label.
  requests_.With({r.group, r.method, r.route, metrics::StatusClass(r.status)}).Inc();
  latency_.With({r.group, r.method, r.route}).Observe(r.millis / 1000);
}

MetricsListener::MetricsListener(const std::string& host, std::uint16_t port, store::Store& store,
                                 service::DirectoryService& directory)
    : host_(host) {
  router_.SetGroup("metrics");
  router_.Add("GET", "/metrics", http::Exec::kWorker, [](const http::Request&, const http::PathParams&) {
    http::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics::Registry::Global().Render();
    return r;
  });
  AddProbes(router_, store, directory);
  http::ServerOptions options;
  options.host = host;
  options.port = port;
  options.io_threads = 1;
  options.worker_threads = 1;
  options.worker_queue = 16;
  options.handle_signals = false;
  server_ = std::make_unique<http::Server>(router_, options);
  port_ = server_->Start();
  thread_ = std::thread([this] { server_->Run(); });
}

MetricsListener::~MetricsListener() {
  server_->Stop();
  if (thread_.joinable()) thread_.join();
}

// --- backup file

void WriteBackupFile(const std::string& out, const BackupHeader& header, const std::string& database_copy) {
  json::object h{{"store", header.store},
                 {"databaseBytes", header.database_bytes},
                 {"createdAt", header.created_at}};
  if (!header.sealed_master_key.empty()) h["masterKey"] = header.sealed_master_key;
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + out + ": " + std::strerror(errno));
  const auto write_all = [&](const char* data, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd, data, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) throw std::runtime_error("cannot write " + out + ": " + std::strerror(errno));
      data += w;
      n -= static_cast<std::size_t>(w);
    }
  };
  try {
    const std::string head = std::string(kBackupMagic) + "\n" + json::serialize(h) + "\n";
    write_all(head.data(), head.size());
    std::ifstream in(database_copy, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + database_copy);
    std::vector<char> buf(1 << 20);
    std::uint64_t copied = 0;
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto n = static_cast<std::size_t>(in.gcount());
      if (n == 0) break;
      write_all(buf.data(), n);
      copied += n;
    }
    if (copied != header.database_bytes) throw std::runtime_error("the database copy changed while it was packed");
    if (::fsync(fd) != 0) throw std::runtime_error("cannot sync " + out + ": " + std::strerror(errno));
    ::close(fd);
  } catch (...) {
    ::close(fd);
    ::unlink(out.c_str());
    throw;
  }
}

BackupHeader ReadBackupHeader(const std::string& path, std::uint64_t* data_offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string magic, line;
  std::getline(in, magic);
  if (magic != kBackupMagic) throw std::runtime_error(path + " is not a roster backup");
  std::getline(in, line);
  boost::system::error_code ec;
  const json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) throw std::runtime_error(path + ": the backup header is damaged");
  const auto& o = v.as_object();
  BackupHeader h;
  if (auto* s = o.if_contains("store"); s && s->is_string()) h.store = std::string(s->as_string());
  if (auto* n = o.if_contains("databaseBytes"); n && n->is_number()) h.database_bytes = n->to_number<std::uint64_t>();
  if (auto* c = o.if_contains("createdAt"); c && c->is_string()) h.created_at = std::string(c->as_string());
  if (auto* k = o.if_contains("masterKey"); k && k->is_string()) h.sealed_master_key = std::string(k->as_string());
  *data_offset = magic.size() + 1 + line.size() + 1;
  const auto size = fs::file_size(path);
  if (size != *data_offset + h.database_bytes) throw std::runtime_error(path + " is truncated or damaged");
  return h;
}

std::string ReadPassphrase(const std::string& passphrase_file) {
  std::string passphrase;
  if (!passphrase_file.empty()) {
    std::ifstream in(passphrase_file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read the passphrase file " + passphrase_file);
    std::getline(in, passphrase);
    if (!passphrase.empty() && passphrase.back() == '\r') passphrase.pop_back();
  } else if (const char* v = std::getenv("ROSTER_BACKUP_PASSPHRASE"); v != nullptr) {
    passphrase = v;
  } else {
    throw std::runtime_error("the master key is sealed under a passphrase: give --passphrase-file FILE or set "
                             "ROSTER_BACKUP_PASSPHRASE");
  }
  if (passphrase.size() < 8) throw std::runtime_error("the passphrase must have at least 8 characters");
  return passphrase;
}

}  // namespace roster::cli
