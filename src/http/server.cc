#include "http/server.h"

#include "http/wire.h"

#include <openssl/ssl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace roster::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::size_t kReadChunk = 16 * 1024;
// After an error response the client may still be sending; reading (and dropping)
// its input briefly before closing avoids a TCP reset that would destroy the
// response in flight. Up to 4 MiB (a client a few times over the 1 MiB default body
// limit is still read to its end: at 1 MiB a 2 MiB upload raced the close and the
// client could see a reset instead of its 413) and at most 1 s (busy machines).
constexpr std::chrono::milliseconds kLingerTimeout{1000};
constexpr std::size_t kLingerMaxBytes = 4 << 20;
constexpr std::chrono::milliseconds kTlsShutdownTimeout{2000};
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

std::string NewRequestId() {
  // Correlation ids, not secrets: a per-thread PRNG seeded from the OS is enough.
  thread_local std::mt19937_64 rng = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t value = rng();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i) {
    id[i] = kHex[value & 0xf];
    value >>= 4;
  }
  return id;
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != s.npos; }

// Bounded FIFO pool for Exec::kWorker routes. Jobs beyond `capacity` queued ones are
// refused so overload turns into fast 503s instead of unbounded latency.
class WorkerPool {
 public:
  ~WorkerPool() { Shutdown(); }

  void Start(int threads, std::size_t capacity) {
    std::lock_guard lock(mu_);
    capacity_ = capacity;
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }

  bool TryPost(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || threads_.empty() || queue_.size() >= capacity_) {
        ++rejected_;
        return false;
      }
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }

  void Read(ServerStats& stats) {
    std::lock_guard lock(mu_);
    stats.worker_queue_depth = queue_.size();
    stats.worker_queue_capacity = capacity_;
    stats.workers = static_cast<int>(threads_.size());
    stats.workers_busy = busy_;
    stats.worker_rejections = rejected_;
  }

  // Lets running jobs finish, drops queued ones, joins the threads.
  void Shutdown() {
    std::deque<std::function<void()>> dropped;
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      dropped.swap(queue_);
      threads.swap(threads_);
    }
    cv_.notify_all();
    for (auto& thread : threads) thread.join();
    dropped.clear();  // outside the lock: destroying jobs may destroy sessions
  }

 private:
  void Loop() {
    // Slightly lower priority so I/O threads keep accepting and parsing under CPU
    // load; failure (e.g. restricted container) is harmless.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5);
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        ++busy_;
      }
      try {
        job();
      } catch (...) {
        // Jobs handle their own errors; nothing useful to do with a stray one.
      }
      job = nullptr;
      std::lock_guard lock(mu_);
      --busy_;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  std::size_t capacity_ = 0;
  int busy_ = 0;
  std::uint64_t rejected_ = 0;
  bool stopping_ = false;
};

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Thread-safe: asks the session to finish its current request and close.
  virtual void Drain() = 0;
};

class Engine {
 public:
  Engine(const Router& router, ServerOptions options)
      : router_(router),
        options_(std::move(options)),
        ioc_(std::max(1, ThreadCount(options_.io_threads))),
        acceptor_(asio::make_strand(ioc_)),
        drain_timer_(acceptor_.get_executor()),
        retry_timer_(acceptor_.get_executor()) {}

  ~Engine() {
    Stop();
    {
      std::lock_guard lock(mu_);
      destroying_ = true;
    }
    ioc_.stop();
    pool_.Shutdown();
  }

  std::uint16_t Start();
  void Run();
  void Stop();

  const Router& router() const { return router_; }
  const ServerOptions& options() const { return options_; }
  bool ReloadTls(std::string* error);
  ServerStats Stats() {
    ServerStats stats;
    pool_.Read(stats);
    std::lock_guard lock(mu_);
    stats.connections = sessions_.size();
    stats.tls_reloads = tls_reloads_;
    return stats;
  }

  // Returns true when the server is already stopping (the session should drain).
  bool Register(const std::shared_ptr<SessionBase>& session) {
    std::lock_guard lock(mu_);
    sessions_.emplace(session.get(), session);
    return stopping_;
  }

  void Unregister(SessionBase* session) {
    std::lock_guard lock(mu_);
    sessions_.erase(session);
    if (stopping_ && sessions_.empty() && !destroying_) ioc_.stop();
  }

  bool TrySubmit(std::function<void()> job) { return pool_.TryPost(std::move(job)); }

  void LogAccess(const AccessRecord& record) const {
    if (!options_.access_log) return;
    try {
      options_.access_log(record);
    } catch (...) {
      // A failing log sink must not take the connection down.
    }
  }

 private:
  static int ThreadCount(int requested) {
    if (requested > 0) return requested;
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  // A new server context from the TLS files; throws std::runtime_error naming them.
  std::shared_ptr<asio::ssl::context> LoadTls() const;
  void WatchReloadSignal(asio::signal_set& signals);
  void DoAccept();
  void OnAccept(error_code ec, tcp::socket socket);
  void RunLoop();

  const Router& router_;
  ServerOptions options_;

  // Declared before ioc_: sessions destroyed by ~io_context still unregister here.
  std::mutex mu_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
  bool stopping_ = false;    // guarded by mu_
  bool destroying_ = false;  // guarded by mu_
  std::atomic<bool> started_{false};
  std::atomic<bool> ran_{false};
  // The context new connections get. A reload swaps in a new one; the ones before stay
  // alive (connections made with them keep using them), a few KiB per reload.
  std::mutex tls_mu_;
  std::shared_ptr<asio::ssl::context> ssl_ctx_;                  // guarded by tls_mu_
  std::vector<std::shared_ptr<asio::ssl::context>> retired_tls_;  // guarded by tls_mu_
  std::uint64_t tls_reloads_ = 0;                                 // guarded by mu_

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer drain_timer_;
  asio::steady_timer retry_timer_;
  // Declared after ioc_: queued jobs hold sessions whose sockets need a live ioc_.
  WorkerPool pool_;
};

// One connection. Stream is beast::tcp_stream or beast::ssl_stream<tcp_stream>.
// Every member is touched only on the connection's strand; a worker job gets its
// own copies of the request and match and posts the response back to the strand.
template <class Stream>
class Session final : public SessionBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Session(Engine& engine, std::string peer, Args&&... stream_args)
      : engine_(engine),
        stream_(std::forward<Args>(stream_args)...),
        executor_(stream_.get_executor()),
        peer_(std::move(peer)) {}

  ~Session() override { engine_.Unregister(this); }

  void Start() {
    const bool drain = engine_.Register(shared_from_this());
    asio::dispatch(executor_, [self = Self(), drain] {
      if (drain) self->draining_ = true;
      self->Guard([&] { self->Begin(); });
    });
  }

  void Drain() override {
    asio::post(executor_, [self = Self()] {
      self->draining_ = true;
      // No request in progress: nothing to finish, close now.
      if (self->state_ == State::kIdle || self->state_ == State::kHandshake ||
          self->state_ == State::kClosing) {
        beast::get_lowest_layer(self->stream_).cancel();
      }
    });
  }

 private:
  enum class State { kNew, kHandshake, kIdle, kReading, kBusy, kClosing, kClosed };

  // Per-request facts needed after the handler ran: response framing and the log.
  struct Pending {
    std::string request_id;
    std::string method = "-";
    std::string route = "-";
    std::string path = "/";
    unsigned version = 11;
    bool keep_alive = false;
    bool linger = false;
    std::size_t bytes_in = 0;
    Clock::time_point started;
    std::string peer;  // the client's address as the request saw it
    std::string group = "-";
    HeaderList cors;   // CORS headers the response carries (Router::CorsHeaders)
  };

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }

  auto& Lowest() { return beast::get_lowest_layer(stream_); }

  // Top-level guard for every completion handler: nothing escapes into the io loop.
  template <class F>
  void Guard(F&& f) {
    try {
      f();
    } catch (...) {
      if (state_ == State::kBusy && !writing_) {
        try {
          pending_.keep_alive = false;
          Write(InternalError());
          return;
        } catch (...) {
        }
      }
      Close();
    }
  }

  Response InternalError() const {
    return engine_.router().RenderError(pending_.path, 500, "internal error");
  }

  void Begin() {
    if (draining_) return Close();  // accepted just as Stop() ran
    if constexpr (kTls) {
      state_ = State::kHandshake;
      Lowest().expires_after(engine_.options().header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = Self()](error_code ec) {
        self->Guard([&] { self->OnHandshake(ec); });
      });
    } else {
      ReadRequest();
    }
  }

  void OnHandshake(error_code ec) {
    if (ec) return Close();
    ReadRequest();
  }

  void ReadRequest() {
    if (draining_ && buffer_.size() == 0) return Shutdown(false);
    parser_.emplace();
    Limit(*parser_, engine_.options().body_limit);
    const auto& options = engine_.options();
    if (buffer_.size() > 0) {  // pipelined bytes: a request has already started
      state_ = State::kReading;
      Lowest().expires_after(options.header_timeout);
      return ReadHeader();
    }
    // Wait for the first byte under the idle timeout (a fresh connection gets the
    // header timeout: it has not earned keep-alive patience yet).
    state_ = State::kIdle;
    Lowest().expires_after(first_request_ ? options.header_timeout : options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = Self()](error_code ec, std::size_t n) {
                              self->Guard([&] { self->OnFirstBytes(ec, n); });
                            });
  }

  void OnFirstBytes(error_code ec, std::size_t n) {
    buffer_.commit(n);
    if (ec || n == 0) return Close();
    state_ = State::kReading;
    // The first request keeps the deadline set at connect time, so a slow client
    // cannot stretch it by trickling bytes.
    if (!first_request_) Lowest().expires_after(engine_.options().header_timeout);
    ReadHeader();
  }

  void ReadHeader() {
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = Self()](error_code ec, std::size_t n) {
                               self->Guard([&] { self->OnHeader(ec, n); });
                             });
  }

  void OnHeader(error_code ec, std::size_t n) {
    pending_ = Pending{};
    pending_.bytes_in = n;
    if (ec) return OnReadError(ec);
    const auto& message = parser_->get();
    pending_.path = std::string(PathOf(message.target()));
    // Without this, clients like curl stall ~1 s before sending larger bodies.
    const bool expects_continue = message.version() >= 11 && !parser_->is_done() &&
                                  beast::iequals(message[bhttp::field::expect], "100-continue");
    if (!expects_continue) return ReadBody();
    Lowest().expires_after(engine_.options().header_timeout);
    asio::async_write(stream_, asio::buffer(kContinue, sizeof(kContinue) - 1),
                      [self = Self()](error_code ec, std::size_t) {
                        self->Guard([&] {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
                      });
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_, [self = Self()](error_code ec, std::size_t n) {
      self->Guard([&] { self->OnBody(ec, n); });
    });
  }

  void OnBody(error_code ec, std::size_t n) {
    pending_.bytes_in += n;
    if (ec) return OnReadError(ec);
    OnRequest();
  }

  void OnReadError(error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return SendError(413, "request body too large");
    }
    if (ec == bhttp::error::header_limit) {
      return SendError(431, "request header fields too large");
    }
    // Transport trouble (timeout, reset, cancel, truncation): no one to answer.
    if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category() ||
        ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
      return Close();
    }
    SendError(400, "bad request");
  }

  // Error detected while reading: answer and close, the stream position is unknown.
  void SendError(int status, std::string_view message) {
    state_ = State::kBusy;
    pending_.request_id = NewRequestId();
    pending_.started = Clock::now();
    pending_.keep_alive = false;
    pending_.linger = true;
    // The start line is parsed before any header field, so the target is known even
    // when a header (e.g. an oversize Content-Length) stopped the parse: errors are
    // then rendered in the shape of the API the client was calling.
    if (parser_ && !parser_->get().target().empty()) {
      pending_.method = std::string(parser_->get().method_string());
      pending_.version = parser_->get().version();
      pending_.path = std::string(PathOf(parser_->get().target()));
    } else {
      pending_.path = "/";
    }
    Write(engine_.router().RenderError(pending_.path, status, message));
  }

  void OnRequest() {
    state_ = State::kBusy;
    first_request_ = false;
    auto& message = parser_->get();
    Request request = FromWire(message);
    request.request_id = NewRequestId();
    request.peer = peer_;
    request.secure = kTls;
    if (engine_.options().trust_forwarded_for)
      if (std::string forwarded = ForwardedClient(request); !forwarded.empty()) request.peer = std::move(forwarded);
    pending_.peer = request.peer;

    pending_.request_id = request.request_id;
    pending_.method = request.method;
    pending_.path = request.path;
    pending_.version = message.version();
    pending_.keep_alive = message.keep_alive();
    pending_.started = Clock::now();
    parser_.reset();

    const Router& router = engine_.router();
    pending_.cors = router.CorsHeaders(request);
    Match match = router.Find(request.method, request.path);
    if (match.route == nullptr) {
      // Handle renders the same 404/405 and adds Allow for 405.
      return Write(router.Handle(request));
    }
    pending_.route = match.route->pattern;
    pending_.group = match.route->group.empty() ? "-" : match.route->group;
    request.route = match.route->pattern;
    if (match.route->exec == Exec::kInline) {
      return Deliver(router.Run(match, request));
    }
    // The job owns its inputs and keeps the session alive until it posts back.
    auto job = [self = Self(), match = std::move(match), request = std::move(request)] {
      Response response;
      try {
        response = self->engine_.router().Run(match, request);
      } catch (...) {
        response = Response::Json(500, R"({"error":"internal error"})");
      }
      asio::post(self->executor_, [self, response = std::move(response)]() mutable {
        self->Guard([&] { self->Deliver(std::move(response)); });
      });
    };
    if (!engine_.TrySubmit(std::move(job))) {
      Write(router.RenderError(pending_.path, 503, "server busy"));
    }
  }

  // Writes the response once its holds (core/holds.h) are released, without blocking
  // this thread meanwhile; a failed hold sends a 503 instead.
  void Deliver(Response response) {
    if (response.holds.empty()) return Write(std::move(response));
    state_ = State::kBusy;
    struct Pending {
      std::mutex mu;
      std::size_t left = 0;
      bool durable = true;
      Response response;
    };
    auto pending = std::make_shared<Pending>();
    std::vector<core::Hold> holds = std::exchange(response.holds, {});
    pending->left = holds.size();
    pending->response = std::move(response);
    for (auto& hold : holds) {
      hold([self = Self(), pending](bool durable) {
        {
          std::lock_guard lock(pending->mu);
          pending->durable = pending->durable && durable;
          if (--pending->left != 0) return;
        }
        asio::post(self->executor_, [self, pending] {
          self->Guard([&] {
            if (pending->durable) return self->Write(std::move(pending->response));
            self->Write(self->engine_.router().RenderError(self->pending_.path, 503, "service unavailable"));
          });
        });
      });
    }
  }

  void Write(Response response) {
    writing_ = true;
    state_ = State::kBusy;
    response_ = {};
    response_.version(pending_.version);
    const int status = response.status >= 100 && response.status <= 599 ? response.status : 500;
    response_.result(static_cast<unsigned>(status));
    response_.set(bhttp::field::content_type, response.content_type);
    response_.set("X-Request-Id", pending_.request_id);
    response_.set(bhttp::field::cache_control, "no-store");
    for (const auto& [name, value] : response.headers) {
      // Handler headers may not forge framing or split the response.
      if (name.empty() || HasLineBreak(name) || HasLineBreak(value)) continue;
      const bhttp::field field = bhttp::string_to_field(name);
      if (field == bhttp::field::content_length || field == bhttp::field::connection ||
          field == bhttp::field::transfer_encoding || beast::iequals(name, "x-request-id")) {
        continue;
      }
      if (field == bhttp::field::content_type || field == bhttp::field::cache_control) {
        response_.set(field, value);
      } else {
        response_.insert(name, value);
      }
    }
    // CORS headers (set: a preflight's answer already has the same ones).
    for (const auto& [name, value] : pending_.cors) response_.set(name, value);
    pending_.cors.clear();
    response_.body() = std::move(response.body);
    response_.keep_alive(pending_.keep_alive && !draining_);
    response_.prepare_payload();
    Lowest().expires_after(engine_.options().header_timeout);
    bhttp::async_write(stream_, response_, [self = Self()](error_code ec, std::size_t n) {
      self->Guard([&] { self->OnWrite(ec, n); });
    });
  }

  void OnWrite(error_code ec, std::size_t bytes_out) {
    writing_ = false;
    AccessRecord record;
    record.request_id = pending_.request_id;
    record.method = pending_.method;
    record.route = pending_.route;
    record.group = pending_.group;
    record.status = static_cast<int>(response_.result_int());
    record.millis =
        std::chrono::duration<double, std::milli>(Clock::now() - pending_.started).count();
    record.bytes_in = pending_.bytes_in;
    record.bytes_out = bytes_out;
    record.peer = pending_.peer.empty() ? peer_ : pending_.peer;
    engine_.LogAccess(record);

    if (ec) return Close();
    const bool keep_alive = response_.keep_alive() && !draining_;
    response_ = {};
    if (!keep_alive) return Shutdown(pending_.linger);
    ReadRequest();
  }

  void Shutdown(bool linger) {
    state_ = State::kClosing;
    if constexpr (kTls) {
      // close_notify, then wait briefly for the peer's; this also drains its input.
      Lowest().expires_after(std::min<std::chrono::milliseconds>(engine_.options().header_timeout,
                                                                 kTlsShutdownTimeout));
      stream_.async_shutdown([self = Self()](error_code) { self->Close(); });
    } else {
      error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      if (!linger) return Close();
      Lowest().expires_after(kLingerTimeout);
      Discard();
    }
  }

  void Discard() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = Self()](error_code ec, std::size_t n) {
                              self->discarded_ += n;
                              if (ec || self->discarded_ > kLingerMaxBytes) {
                                return self->Close();
                              }
                              self->Guard([&] { self->Discard(); });
                            });
  }

  void Close() {
    state_ = State::kClosed;
    error_code ignored;
    Lowest().socket().close(ignored);
  }

  Engine& engine_;
  Stream stream_;
  // Copy of the strand executor; worker threads post through it without touching
  // stream_.
  const asio::any_io_executor executor_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  Pending pending_;
  State state_ = State::kNew;
  bool draining_ = false;
  bool first_request_ = true;
  bool writing_ = false;
  std::size_t discarded_ = 0;
};

std::shared_ptr<asio::ssl::context> Engine::LoadTls() const {
  const TlsFiles& files = *options_.tls;
  try {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ctx->use_certificate_chain_file(files.cert_pem_path);
    ctx->use_private_key_file(files.key_pem_path, asio::ssl::context::pem);
    // A key that does not belong to the certificate would fail every handshake.
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
      throw std::runtime_error("the key does not match the certificate");
    return ctx;
  } catch (const std::exception& e) {
    throw std::runtime_error("http: cannot load TLS certificate/key (" + files.cert_pem_path +
                             ", " + files.key_pem_path + "): " + e.what());
  }
}

bool Engine::ReloadTls(std::string* error) {
  if (!options_.tls) {
    if (error) *error = "no TLS files configured";
    return false;
  }
  std::shared_ptr<asio::ssl::context> fresh;
  try {
    fresh = LoadTls();
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return false;
  }
  {
    std::lock_guard lock(tls_mu_);
    if (ssl_ctx_) retired_tls_.push_back(std::move(ssl_ctx_));
    ssl_ctx_ = std::move(fresh);
  }
  std::lock_guard lock(mu_);
  ++tls_reloads_;
  return true;
}

void Engine::WatchReloadSignal(asio::signal_set& signals) {
  signals.async_wait([this, &signals](error_code ec, int) {
    if (ec) return;
    std::string error;
    const bool ok = ReloadTls(&error);
    if (options_.tls_reloaded) {
      try {
        options_.tls_reloaded(ok, ok ? std::string("TLS certificate reloaded") : error);
      } catch (...) {
      }
    }
    WatchReloadSignal(signals);
  });
}

std::uint16_t Engine::Start() {
  if (started_.exchange(true)) throw std::runtime_error("http: server already started");
  if (options_.tls) ssl_ctx_ = LoadTls();

  const std::string where = options_.host + ":" + std::to_string(options_.port);
  tcp::resolver resolver(ioc_);
  error_code ec;
  const auto endpoints =
      resolver.resolve(options_.host, std::to_string(options_.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    throw std::runtime_error("http: cannot resolve listen address " + where + ": " +
                             (ec ? ec.message() : "no addresses"));
  }
  // "localhost" may yield ::1 on a host without IPv6; take the first that binds.
  std::string last_error = "no usable address";
  for (const auto& entry : endpoints) {
    const tcp::endpoint endpoint = entry.endpoint();
    error_code step;
    acceptor_.open(endpoint.protocol(), step);
    if (!step) acceptor_.set_option(asio::socket_base::reuse_address(true), step);
    if (!step) acceptor_.bind(endpoint, step);
    if (!step) acceptor_.listen(asio::socket_base::max_listen_connections, step);
    if (!step) break;
    last_error = step.message();
    error_code ignored;
    acceptor_.close(ignored);
  }
  if (!acceptor_.is_open()) {
    throw std::runtime_error("http: cannot listen on " + where + ": " + last_error);
  }
  const std::uint16_t port = acceptor_.local_endpoint(ec).port();
  if (ec) throw std::runtime_error("http: cannot read bound port: " + ec.message());
  DoAccept();
  return port;
}

void Engine::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Engine::OnAccept(error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open()) return;  // Stop() closed it
  if (ec) {
    // Typically EMFILE/ENFILE: back off instead of spinning on the same error.
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([this](error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) DoAccept();
    });
    return;
  }
  try {
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const tcp::endpoint remote = socket.remote_endpoint(ignored);
    std::string peer = ignored ? std::string("-") : remote.address().to_string();
    std::shared_ptr<asio::ssl::context> tls;
    {
      std::lock_guard lock(tls_mu_);
      tls = ssl_ctx_;
    }
    if (tls) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(*this, std::move(peer),
                                                                      std::move(socket), *tls)
          ->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(*this, std::move(peer), std::move(socket))
          ->Start();
    }
  } catch (...) {
    // Out of memory or similar for this connection only; keep accepting.
  }
  DoAccept();
}

void Engine::RunLoop() {
  // A throwing handler must not kill an I/O thread; resume the loop instead.
  while (true) {
    try {
      ioc_.run();
      return;
    } catch (...) {
    }
  }
}

void Engine::Run() {
  if (!started_) throw std::runtime_error("http: Run() before Start()");
  if (ran_.exchange(true)) throw std::runtime_error("http: Run() called twice");
  pool_.Start(ThreadCount(options_.worker_threads), options_.worker_queue);

  std::optional<asio::signal_set> signals, reload;
  if (options_.handle_signals) {
    signals.emplace(ioc_, SIGINT, SIGTERM);
    signals->async_wait([this](error_code ec, int) {
      if (!ec) Stop();
    });
    reload.emplace(ioc_, SIGHUP);
    WatchReloadSignal(*reload);
  }

  // Sessions waiting on a worker job have no pending I/O, so the io_context must not
  // stop when it runs out of work; it stops only via Stop()'s drain logic.
  auto work = asio::make_work_guard(ioc_);
  std::vector<std::thread> threads;
  const int count = ThreadCount(options_.io_threads);
  for (int i = 1; i < count; ++i) threads.emplace_back([this] { RunLoop(); });
  RunLoop();
  for (auto& thread : threads) thread.join();
  // Running worker jobs finish; their post-backs find a stopped io_context and are
  // dropped with it.
  pool_.Shutdown();
}

void Engine::Stop() {
  std::vector<std::weak_ptr<SessionBase>> sessions;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    sessions.reserve(sessions_.size());
    for (const auto& [key, session] : sessions_) sessions.push_back(session);
  }
  asio::post(acceptor_.get_executor(), [this] {
    error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
  });
  if (sessions.empty()) {
    ioc_.stop();
    return;
  }
  for (const auto& weak : sessions) {
    if (auto session = weak.lock()) session->Drain();
  }
  asio::post(acceptor_.get_executor(), [this] {
    drain_timer_.expires_after(options_.drain_timeout);
    drain_timer_.async_wait([this](error_code ec) {
      if (!ec) ioc_.stop();  // stragglers are cut off with the io_context
    });
  });
}

}  // namespace

class Server::Impl {
 public:
  Impl(const Router& router, ServerOptions options) : engine(router, std::move(options)) {}
  Engine engine;
};

Server::Server(const Router& router, ServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

Server::~Server() = default;

std::uint16_t Server::Start() { return impl_->engine.Start(); }

void Server::Run() { impl_->engine.Run(); }

void Server::Stop() { impl_->engine.Stop(); }

bool Server::ReloadTls(std::string* error) { return impl_->engine.ReloadTls(error); }

ServerStats Server::Stats() const { return impl_->engine.Stats(); }

}  // namespace roster::http
