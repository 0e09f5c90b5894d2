#include "http/server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace roster::http {
namespace {

using namespace std::chrono_literals;

class CurlEnvironment : public testing::Environment {
 public:
  void SetUp() override { curl_global_init(CURL_GLOBAL_DEFAULT); }
  void TearDown() override { curl_global_cleanup(); }
};
testing::Environment* const kCurlEnvironment =
    testing::AddGlobalTestEnvironment(new CurlEnvironment);

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  long connects = -1;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names

  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return {};
  }
};

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  static_cast<Reply*>(user)->body.append(data, size * count);
  return size * count;
}

size_t CollectHeader(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    static_cast<Reply*>(user)->headers.emplace_back(std::move(name), std::move(value));
  }
  return size * count;
}

struct RequestSpec {
  std::string method = "GET";
  std::string body;
  std::vector<std::string> headers;
};

// Performs one request on `curl`, which may be reused to exercise keep-alive.
Reply Perform(CURL* curl, const std::string& url, const RequestSpec& spec = {}) {
  Reply reply;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (spec.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, spec.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(spec.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST,
                     spec.method == "GET" ? nullptr : spec.method.c_str());
  }
  curl_slist* headers = nullptr;
  for (const auto& header : spec.headers) headers = curl_slist_append(headers, header.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  reply.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &reply.connects);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  return reply;
}

Reply Fetch(const std::string& url, const RequestSpec& spec = {}) {
  CURL* curl = curl_easy_init();
  Reply reply = Perform(curl, url, spec);
  curl_easy_cleanup(curl);
  return reply;
}

ServerOptions TestOptions() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.io_threads = 2;
  options.worker_threads = 2;
  options.handle_signals = false;
  options.header_timeout = 2s;
  options.idle_timeout = 5s;
  options.drain_timeout = 3s;
  return options;
}

// A Server running on a background thread for the duration of a test.
class TestServer {
 public:
  TestServer(const Router& router, ServerOptions options) : server_(router, std::move(options)) {
    port_ = server_.Start();
    thread_ = std::thread([this] {
      server_.Run();
      returned_ = true;
    });
  }
  ~TestServer() { Stop(); }

  void Stop() {
    server_.Stop();
    if (thread_.joinable()) thread_.join();
  }
  bool returned() const { return returned_; }
  std::uint16_t port() const { return port_; }
  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

 private:
  Server server_;
  std::uint16_t port_ = 0;
  std::atomic<bool> returned_{false};
  std::thread thread_;
};

// Blocks handlers until opened; counts how many are waiting.
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool AwaitEntered(int count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 3s, [&] { return entered_ >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool open_ = false;
};

Router BasicRouter() {
  Router router;
  router.Add("GET", "/inline", Exec::kInline, [](const Request& request, const PathParams&) {
    Response response = Response::Json(200, R"({"where":"inline"})");
    response.headers.emplace_back("X-Echo",
                                  std::string(request.Header("x-test")) + "|" + request.query);
    return response;
  });
  router.Add("GET", "/work/{id}", Exec::kWorker,
             [](const Request& request, const PathParams& params) {
               Response response = Response::Json(200, std::string(params.Get("id")));
               response.content_type = "text/plain";
               response.headers.emplace_back("X-Request-Seen", request.request_id);
               return response;
             });
  router.Add("POST", "/echo", Exec::kWorker, [](const Request& request, const PathParams&) {
    return Response::Json(200, request.body);
  });
  router.Add("GET", "/boom", Exec::kInline, [](const Request&, const PathParams&) -> Response {
    throw std::runtime_error("secret detail");
  });
  router.SetErrorRenderer("/", [](int status, std::string_view message) {
    return Response::Json(status, "custom " + std::to_string(status) + " " + std::string(message));
  });
  return router;
}

bool IsHex16(const std::string& id) {
  return id.size() == 16 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(ServerTest, InlineAndWorkerRoutes) {
  Router router = BasicRouter();
  TestServer server(router, TestOptions());

  Reply inline_reply = Fetch(server.Url("/inline?a=1&b=2"), {.headers = {"X-Test: hello"}});
  ASSERT_EQ(inline_reply.code, CURLE_OK);
  EXPECT_EQ(inline_reply.status, 200);
  EXPECT_EQ(inline_reply.body, R"({"where":"inline"})");
  EXPECT_EQ(inline_reply.Header("content-type"), "application/json");
  EXPECT_EQ(inline_reply.Header("cache-control"), "no-store");
  EXPECT_EQ(inline_reply.Header("content-length"), "18");
  EXPECT_EQ(inline_reply.Header("x-echo"), "hello|a=1&b=2");

  Reply worker_reply = Fetch(server.Url("/work/a%20b"));
  ASSERT_EQ(worker_reply.code, CURLE_OK);
  EXPECT_EQ(worker_reply.status, 200);
  EXPECT_EQ(worker_reply.body, "a b");
  EXPECT_EQ(worker_reply.Header("content-type"), "text/plain");
  // The id handed to the handler is the one sent back.
  EXPECT_EQ(worker_reply.Header("x-request-seen"), worker_reply.Header("x-request-id"));

  std::set<std::string> ids;
  for (const Reply& reply : {inline_reply, worker_reply, Fetch(server.Url("/inline"))}) {
    EXPECT_TRUE(IsHex16(reply.Header("x-request-id"))) << reply.Header("x-request-id");
    ids.insert(reply.Header("x-request-id"));
  }
  EXPECT_EQ(ids.size(), 3u);

  Reply boom = Fetch(server.Url("/boom"));
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(boom.body, "custom 500 internal error");
}

TEST(ServerTest, BodyLimitGives413FromRenderer) {
  Router router = BasicRouter();
  ServerOptions options = TestOptions();
  options.body_limit = 64;
  TestServer server(router, options);

  Reply small = Fetch(server.Url("/echo"), {.method = "POST", .body = "small body"});
  EXPECT_EQ(small.status, 200);
  EXPECT_EQ(small.body, "small body");

  Reply big = Fetch(server.Url("/echo"), {.method = "POST", .body = std::string(1000, 'x')});
  ASSERT_EQ(big.code, CURLE_OK);
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.body, "custom 413 request body too large");
  EXPECT_TRUE(IsHex16(big.Header("x-request-id")));
  EXPECT_EQ(big.Header("connection"), "close");

  // Large enough that curl sends Expect: 100-continue.
  Reply huge = Fetch(server.Url("/echo"), {.method = "POST", .body = std::string(200000, 'y')});
  ASSERT_EQ(huge.code, CURLE_OK);
  EXPECT_EQ(huge.status, 413);
}

TEST(ServerTest, ExpectContinueWithinLimitIsFast) {
  Router router = BasicRouter();
  TestServer server(router, TestOptions());
  const auto start = std::chrono::steady_clock::now();
  Reply reply = Fetch(server.Url("/echo"), {.method = "POST", .body = std::string(5000, 'z')});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body.size(), 5000u);
  // curl would wait ~1 s for a 100 Continue that never comes.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 800ms);
}

TEST(ServerTest, NotFoundAndMethodNotAllowedAreRendered) {
  Router router = BasicRouter();
  TestServer server(router, TestOptions());

  Reply missing = Fetch(server.Url("/nowhere"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "custom 404 not found");
  EXPECT_TRUE(IsHex16(missing.Header("x-request-id")));

  Reply wrong = Fetch(server.Url("/inline"), {.method = "DELETE"});
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.body, "custom 405 method not allowed");
  EXPECT_EQ(wrong.Header("allow"), "GET");
}

TEST(ServerTest, KeepAliveReusesConnection) {
  Router router = BasicRouter();
  TestServer server(router, TestOptions());
  CURL* curl = curl_easy_init();
  Reply first = Perform(curl, server.Url("/inline"));
  Reply second = Perform(curl, server.Url("/work/2"));
  curl_easy_cleanup(curl);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.connects, 1);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.connects, 0);
}

TEST(ServerTest, ConnectionCloseIsRespected) {
  Router router = BasicRouter();
  TestServer server(router, TestOptions());
  CURL* curl = curl_easy_init();
  Reply first = Perform(curl, server.Url("/inline"), {.headers = {"Connection: close"}});
  Reply second = Perform(curl, server.Url("/inline"));
  curl_easy_cleanup(curl);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.Header("connection"), "close");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.connects, 1);
}

TEST(ServerTest, AccessLogUsesRouteTemplate) {
  Router router = BasicRouter();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<AccessRecord> records;
  ServerOptions options = TestOptions();
  options.access_log = [&](const AccessRecord& record) {
    std::lock_guard lock(mu);
    records.push_back(record);
    cv.notify_all();
  };
  TestServer server(router, options);
  Reply work = Fetch(server.Url("/work/concrete-id?q=secret"));
  Reply missing = Fetch(server.Url("/missing/path"));
  ASSERT_EQ(work.status, 200);

  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 3s, [&] { return records.size() >= 2; }));
  std::sort(records.begin(), records.end(),
            [](const AccessRecord& a, const AccessRecord& b) { return a.status < b.status; });
  EXPECT_EQ(records[0].route, "/work/{id}");
  EXPECT_EQ(records[0].method, "GET");
  EXPECT_EQ(records[0].status, 200);
  EXPECT_EQ(records[0].request_id, work.Header("x-request-id"));
  EXPECT_EQ(records[0].peer, "127.0.0.1");
  EXPECT_GT(records[0].bytes_in, 0u);
  EXPECT_GT(records[0].bytes_out, 0u);
  EXPECT_GE(records[0].millis, 0.0);
  EXPECT_EQ(records[1].route, "-");
  EXPECT_EQ(records[1].status, 404);
  for (const AccessRecord& record : records) {
    for (const std::string* field : {&record.route, &record.method, &record.peer}) {
      EXPECT_EQ(field->find("concrete"), std::string::npos);
      EXPECT_EQ(field->find("secret"), std::string::npos);
    }
  }
}

// Sends raw bytes and returns whatever the server answers before closing.
std::string RawExchange(std::uint16_t port, const std::string& data) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval timeout{.tv_sec = 3, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size())) {
    char buffer[4096];
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) out.append(buffer, n);
  }
  close(fd);
  return out;
}

// The client's address is the connection's unless the server trusts a proxy's
// X-Forwarded-For, whose last entry (the one the proxy appended) it takes then.
TEST(ServerTest, PeerComesFromXForwardedForOnlyWhenTrusted) {
  Router router;
  router.Add("GET", "/peer", Exec::kInline, [](const Request& request, const PathParams&) {
    Response r = Response::Json(200, "{}");
    r.headers.emplace_back("X-Peer", request.peer);
    return r;
  });
  const std::vector<std::string> forwarded = {"X-Forwarded-For: 198.51.100.1, 203.0.113.7"};
  {
    TestServer server(router, TestOptions());
    EXPECT_EQ(Fetch(server.Url("/peer"), {.headers = forwarded}).Header("x-peer"), "127.0.0.1");
  }
  ServerOptions options = TestOptions();
  options.trust_forwarded_for = true;
  TestServer server(router, options);
  EXPECT_EQ(Fetch(server.Url("/peer"), {.headers = forwarded}).Header("x-peer"), "203.0.113.7");
  EXPECT_EQ(Fetch(server.Url("/peer"), {.headers = {"X-Forwarded-For: 2001:db8::1"}}).Header("x-peer"), "2001:db8::1");
  // Not an address, or none: the connection's.
  EXPECT_EQ(Fetch(server.Url("/peer"), {.headers = {"X-Forwarded-For: evil, unknown"}}).Header("x-peer"), "127.0.0.1");
  EXPECT_EQ(Fetch(server.Url("/peer")).Header("x-peer"), "127.0.0.1");
}

TEST(ServerTest, MalformedRequestsGet400And431) {
  Router router = BasicRouter();
  TestServer server(router, TestOptions());
  const std::string bad = RawExchange(server.port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_TRUE(bad.starts_with("HTTP/1.1 400")) << bad;
  EXPECT_NE(bad.find("X-Request-Id: "), std::string::npos);

  const std::string big_header =
      "GET /inline HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
  const std::string too_big = RawExchange(server.port(), big_header);
  EXPECT_TRUE(too_big.starts_with("HTTP/1.1 431")) << too_big.substr(0, 100);

  // Pipelined requests on one connection are answered in order.
  const std::string two =
      RawExchange(server.port(),
                  "GET /inline HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n"
                  "Connection: close\r\n\r\n");
  const size_t first = two.find("HTTP/1.1 200");
  const size_t second = two.find("HTTP/1.1 404");
  EXPECT_NE(first, std::string::npos);
  EXPECT_NE(second, std::string::npos);
  EXPECT_LT(first, second);
}

TEST(ServerTest, HeaderTimeoutClosesSlowClient) {
  Router router = BasicRouter();
  ServerOptions options = TestOptions();
  options.header_timeout = 200ms;
  TestServer server(router, options);
  const auto start = std::chrono::steady_clock::now();
  // An incomplete request: the server must give up and close, without answering.
  const std::string out = RawExchange(server.port(), "GET /inline HTTP/1.1\r\nHost: x\r\n");
  EXPECT_EQ(out, "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(ServerTest, IdleTimeoutClosesAnIdleKeepAliveConnection) {
  Router router = BasicRouter();
  ServerOptions options = TestOptions();
  options.idle_timeout = 200ms;
  TestServer server(router, options);
  const auto start = std::chrono::steady_clock::now();
  // One complete keep-alive request: answered, then the connection sits idle until the
  // server closes it (RawExchange reads to EOF, or gives up after 3 s).
  const std::string out = RawExchange(server.port(), "GET /inline HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200")) << out.substr(0, 100);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(ServerTest, TlsServesVerifiedHttps) {
  namespace fs = std::filesystem;
  char dir_template[] = "/tmp/roster_tls_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const fs::path dir = dir_template;
  const std::string key = (dir / "k.pem").string();
  const std::string cert = (dir / "c.pem").string();
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost -days 1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);

  Router router = BasicRouter();
  ServerOptions options = TestOptions();
  options.tls = TlsFiles{cert, key};
  {
    TestServer server(router, options);
    const std::string port = std::to_string(server.port());
    curl_slist* resolve = curl_slist_append(nullptr, ("localhost:" + port + ":127.0.0.1").c_str());
    CURL* curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(curl, CURLOPT_CAINFO, cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    Reply first = Perform(curl, "https://localhost:" + port + "/work/tls");
    Reply second = Perform(curl, "https://localhost:" + port + "/inline");
    curl_easy_cleanup(curl);
    curl_slist_free_all(resolve);
    ASSERT_EQ(first.code, CURLE_OK) << curl_easy_strerror(first.code);
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.body, "tls");
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.connects, 0);

    // Plain HTTP to the TLS port gets no HTTP answer.
    Reply plain = Fetch("http://127.0.0.1:" + port + "/inline");
    EXPECT_NE(plain.status, 200);
  }
  fs::remove_all(dir);
}

TEST(ServerTest, StartFailsClearlyWhenPortTaken) {
  Router router = BasicRouter();
  TestServer first(router, TestOptions());
  ServerOptions options = TestOptions();
  options.port = first.port();
  Server second(router, options);
  EXPECT_THROW(second.Start(), std::runtime_error);

  ServerOptions bad_tls = TestOptions();
  bad_tls.tls = TlsFiles{"/nonexistent/c.pem", "/nonexistent/k.pem"};
  Server third(router, bad_tls);
  EXPECT_THROW(third.Start(), std::runtime_error);
}

TEST(ServerTest, StopDrainsInFlightWorkerRequest) {
  Router router = BasicRouter();
  std::atomic<bool> entered{false};
  router.Add("GET", "/slow", Exec::kWorker, [&](const Request&, const PathParams&) {
    entered = true;
    std::this_thread::sleep_for(300ms);
    return Response::Json(200, "slow done");
  });
  ServerOptions options = TestOptions();
  options.idle_timeout = 30s;
  TestServer server(router, options);

  // An idle keep-alive connection must not hold up the drain.
  CURL* idle = curl_easy_init();
  ASSERT_EQ(Perform(idle, server.Url("/inline")).status, 200);

  Reply slow;
  std::thread client([&] { slow = Fetch(server.Url("/slow")); });
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!entered && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(entered);

  const auto start = std::chrono::steady_clock::now();
  server.Stop();  // returns once Run() has returned
  const auto stop_time = std::chrono::steady_clock::now() - start;
  client.join();
  curl_easy_cleanup(idle);

  EXPECT_TRUE(server.returned());
  EXPECT_EQ(slow.code, CURLE_OK);
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.body, "slow done");
  EXPECT_EQ(slow.Header("connection"), "close");
  EXPECT_LT(stop_time, 2s);
}

TEST(ServerTest, StopIsIdempotentAndWorksBeforeRun) {
  Router router = BasicRouter();
  Server server(router, TestOptions());
  server.Start();
  std::thread other([&] { server.Stop(); });
  server.Stop();
  other.join();
  const auto start = std::chrono::steady_clock::now();
  server.Run();  // already stopped: returns at once
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  server.Stop();
}

TEST(ServerTest, FullWorkerPoolGives503) {
  Router router = BasicRouter();
  Gate gate;
  router.Add("GET", "/block", Exec::kWorker, [&](const Request&, const PathParams&) {
    gate.Wait();
    return Response::Json(200, "released");
  });
  ServerOptions options = TestOptions();
  options.worker_threads = 1;
  options.worker_queue = 1;
  TestServer server(router, options);

  std::mutex mu;
  std::condition_variable cv;
  std::vector<Reply> replies;
  auto request = [&] {
    Reply reply = Fetch(server.Url("/block"));
    std::lock_guard lock(mu);
    replies.push_back(std::move(reply));
    cv.notify_all();
  };
  std::vector<std::thread> clients;
  clients.emplace_back(request);
  ASSERT_TRUE(gate.AwaitEntered(1));  // the only worker is now busy
  for (int i = 0; i < 3; ++i) clients.emplace_back(request);
  {
    // One request fits the queue; the other two are refused right away.
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, 3s, [&] { return replies.size() >= 2; }));
  }
  gate.Open();
  for (auto& client : clients) client.join();

  int ok = 0;
  int busy = 0;
  for (const Reply& reply : replies) {
    if (reply.status == 200) ++ok;
    if (reply.status == 503) {
      ++busy;
      EXPECT_EQ(reply.body, "custom 503 server busy");
    }
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(busy, 2);
}

}  // namespace
}  // namespace roster::http
