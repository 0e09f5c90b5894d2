// Server: Boost.Beast HTTP/1.1 (plain or TLS) in front of a Router. I/O threads parse
// and write; routes marked Exec::kWorker run on a bounded worker pool so CPU-heavy work
// (argon2id) never blocks an I/O thread. Body limit (413), header and idle timeouts,
// keep-alive, X-Request-Id on every response, one access-log record per request.
// Stop() (or SIGINT/SIGTERM when handle_signals) stops accepting, lets in-flight
// requests finish and returns from Run(); SIGHUP reloads the TLS files (ReloadTls).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/router.h"

namespace roster::http {

struct AccessRecord {
  std::string request_id;
  std::string method;
  std::string route;  // route template, or "-" when none matched
  std::string group;  // the route's group (its API), or "-" when none matched
  int status = 0;
  double millis = 0;
  std::size_t bytes_in = 0;
  std::size_t bytes_out = 0;
  std::string peer;
};

struct TlsFiles {
  std::string cert_pem_path;
  std::string key_pem_path;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 picks a free port; Start() returns it
  int io_threads = 0;         // 0: one per core
  int worker_threads = 0;     // 0: one per core
  std::size_t worker_queue = 1024;  // queued worker jobs beyond this get 503
  std::size_t body_limit = 1 << 20;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{10'000};
  std::optional<TlsFiles> tls;
  bool handle_signals = true;
  // Take the client's address from X-Forwarded-For (ForwardedClient) instead of the
  // connection: only behind a reverse proxy that every request passes through.
  bool trust_forwarded_for = false;
  std::function<void(const AccessRecord&)> access_log;  // may be empty
  // Called after each SIGHUP (with handle_signals) or ReloadTls(): whether the TLS files
  // were loaded again, and why not. May be empty.
  std::function<void(bool ok, const std::string& message)> tls_reloaded;
};

// Figures for metrics, read without stopping the server.
struct ServerStats {
  std::size_t worker_queue_depth = 0;   // worker jobs waiting
  std::size_t worker_queue_capacity = 0;
  int workers = 0;                      // worker threads
  int workers_busy = 0;                 // running a job now
  std::uint64_t worker_rejections = 0;  // jobs refused with 503 (queue full)
  std::size_t connections = 0;          // open now
  std::uint64_t tls_reloads = 0;        // successful certificate reloads
};

class Server {
 public:
  Server(const Router& router, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; throws std::runtime_error on failure. Returns the bound port.
  std::uint16_t Start();
  // Serves until Stop() or a signal; drains in-flight requests, then returns.
  void Run();
  // Thread-safe; may be called from any thread.
  void Stop();
  // Loads the TLS certificate and key files again for new connections; open
  // connections keep theirs. Thread-safe. False (and the old files stay in use) when
  // they cannot be loaded; `error` says why.
  bool ReloadTls(std::string* error = nullptr);
  ServerStats Stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roster::http
