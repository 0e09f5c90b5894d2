#include "integration/harness.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace roster::testing {
namespace json = boost::json;

namespace {

// What `fd` yields up to the first newline (or less, if it closes or `within` passes).
std::string ReadLine(int fd, std::chrono::seconds within) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  return line;
}

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(kRosterBinary));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

int WaitStatus(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
} curl_global;

std::string PostgresDsn() {
  const char* dsn = std::getenv("ROSTER_TEST_POSTGRES_DSN");
  return dsn ? dsn : "";
}

// Skips the whole suite in PostgreSQL mode when no server was given.
class StoreEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (UsingPostgres() && PostgresDsn().empty()) GTEST_SKIP() << "ROSTER_TEST_POSTGRES_DSN is not set";
  }
};
const auto* const store_environment = ::testing::AddGlobalTestEnvironment(new StoreEnvironment);

// Creates an empty database on the test server; returns its URL.
std::string FreshDatabase() {
  static std::atomic<int> counter{0};
  const std::string name = "roster_it_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::string dsn = PostgresDsn();
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    PQfinish(conn);
    throw std::runtime_error("cannot reach the test PostgreSQL server");
  }
  PQclear(PQexec(conn, ("DROP DATABASE IF EXISTS " + name).c_str()));
  PGresult* r = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  PQfinish(conn);
  if (!ok) throw std::runtime_error("cannot create test database " + name);
  return dsn.substr(0, dsn.rfind('/') + 1) + name;
}

}  // namespace

RawReply RawExchange(int port, const std::string& data, int wait_s) {
  RawReply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return reply;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size())) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        reply.closed = true;
        break;
      }
      reply.data.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

bool RefusedOnceRevocationArrives(const std::function<bool()>& refused) {
  if (!UsingPostgres()) return refused();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    if (refused()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool UsingPostgres() {
  const char* store = std::getenv("ROSTER_TEST_STORE");
  return store && std::string_view(store) == "postgres";
}

std::string DatabaseUrl(const std::string& data_dir) {
  const std::string config = ReadFile(data_dir + "/roster.toml");
  const auto start = config.find("postgres");
  if (start == std::string::npos) throw std::runtime_error(data_dir + " does not use PostgreSQL");
  // roster.toml holds `database = '<url>'` (or with double quotes).
  return config.substr(start, config.find_first_of("'\"", start) - start);
}

std::string DumpStore(const std::string& data_dir) {
  if (!UsingPostgres()) return ReadFile(data_dir + "/roster.db") + ReadFile(data_dir + "/roster.db-wal");
  const std::string url = DatabaseUrl(data_dir);
  TempDir out;
  const std::string cmd = "pg_dump --data-only '" + url + "' > " + (out / "dump.sql") + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("pg_dump failed");
  return ReadFile(out / "dump.sql");
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "roster-it-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandResult RunRoster(const std::vector<std::string>& args) {
  TempDir io;
  const std::string out = io / "out", err = io / "err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  auto argv = Argv(args);
  pid_t pid;
  const int rc = posix_spawn(&pid, kRosterBinary, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot spawn roster");
  CommandResult result;
  result.exit_code = WaitStatus(pid);
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  return result;
}

std::string InitDataDir(const std::string& data_dir) {
  std::vector<std::string> args = {"init", "--data-dir", data_dir, "--json"};
  if (UsingPostgres()) {
    args.push_back("--database");
    args.push_back(FreshDatabase());
  }
  auto r = RunRoster(args);
  if (r.exit_code != 0) throw std::runtime_error("roster init failed: " + r.err);
  return std::string(json::parse(r.out).at("adminKey").as_string());
}

int Shell(const std::string& command, std::string* out) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::string text;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
  const int status = ::pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool OwnPostgresCluster::Installed() { return Shell("ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null") == 0; }

OwnPostgresCluster::OwnPostgresCluster() : script_(std::string(kTestSource) + "/../scripts/pg-test-cluster.sh") {
  char dir_template[] = "/tmp/roster-own-pg-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = dir_template;
  std::string out;
  if (Shell(script_ + " start " + dir_, &out) != 0) {
    error_ = out;
    return;
  }
  // The DSN is the script's last line (anything before it went to stderr).
  out.erase(out.find_last_not_of('\n') + 1);
  dsn_ = out.substr(out.find_last_of('\n') + 1);
}

OwnPostgresCluster::~OwnPostgresCluster() {
  if (!dir_.empty()) Shell(script_ + " stop " + dir_);
}

int OwnPostgresCluster::Run(const std::string& action, std::string* out) {
  return Shell(script_ + " " + action + " " + dir_, out);
}

bool WaitFor(const std::function<bool()>& done, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::string CreateKey(const std::string& data_dir, const std::string& env, const std::string& role,
                      const std::string& identifier) {
  std::vector<std::string> args = {"key", "create", "--env", env, "--role", role, "--data-dir", data_dir, "--json"};
  if (!identifier.empty()) {
    args.push_back("--identifier");
    args.push_back(identifier);
  }
  auto r = RunRoster(args);
  if (r.exit_code != 0) throw std::runtime_error("roster key create failed: " + r.err);
  return std::string(json::parse(r.out).at("key").as_string());
}

Server::Server(const std::string& data_dir, std::vector<std::string> extra_args) : data_dir_(data_dir) {
  std::vector<std::string> args = {"serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0",
                                   "--access-log", access_log_path()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  const std::string err = stderr_path();
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  auto argv = Argv(args);
  const int rc = posix_spawn(&pid_, kRosterBinary, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  stdout_fd_ = pipe_fds[0];
  if (rc != 0) throw std::runtime_error("cannot spawn roster serve");
  // Read the "roster listening on http(s)://127.0.0.1:PORT" line, 20 s at most.
  std::string line = ReadLine(stdout_fd_, std::chrono::seconds(20));
  // More lines may have come with it (the metrics listener's): keep them for NextLine.
  if (const auto end = line.find('\n'); end != std::string::npos) {
    stdout_rest_ = line.substr(end + 1);
    line.resize(end);
  }
  const auto at = line.find("listening on ");
  const auto colon = line.rfind(':');
  if (at == std::string::npos || colon == std::string::npos) {
    Kill9();
    throw std::runtime_error("roster serve did not start: " + ReadFile(err));
  }
  port_ = std::stoi(line.substr(colon + 1));
  const std::string scheme = line.find("https://") != std::string::npos ? "https" : "http";
  // TLS tests reach the server by name so the certificate's CN matches.
  base_url_ = scheme + "://" + (scheme == "https" ? "localhost" : "127.0.0.1") + ":" + std::to_string(port_);
}

Server::~Server() {
  if (pid_ > 0) Terminate();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  // In the sanitizer build (docs/testing.md) a finding in the server fails the test that
  // ran it, even when the server answered every request.
  const std::string err = ReadFile(stderr_path());
  for (const char* mark : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"})
    if (const auto at = err.find(mark); at != std::string::npos)
      ADD_FAILURE() << "sanitizer finding in roster serve:\n" << err.substr(at > 200 ? at - 200 : 0, 6000);
}

std::string Server::NextLine(int seconds) {
  if (stdout_rest_.find('\n') == std::string::npos)
    stdout_rest_ += ReadLine(stdout_fd_, std::chrono::seconds(seconds));
  const auto end = stdout_rest_.find('\n');
  if (end == std::string::npos) return {};
  std::string line = stdout_rest_.substr(0, end);
  stdout_rest_.erase(0, end + 1);
  return line;
}

void Server::Signal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

int Server::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const int status = WaitStatus(pid_);
  pid_ = -1;
  return status;
}

void Server::Kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  WaitStatus(pid_);
  pid_ = -1;
}

json::value HttpResponse::Json() const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return ec ? json::value() : v;
}

std::string HttpResponse::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return {};
}

Client::Client(std::string base_url, std::string ca_file)
    : base_url_(std::move(base_url)), ca_file_(std::move(ca_file)), curl_(curl_easy_init()) {}

namespace {

// While the file kTestResponses names exists (ctest's openapi_responses fixture
// creates it before the integration tests and removes it after validating it), every
// Client records its responses into it: one JSON line {"method","path","status",
// "content_type","body"} per response, appended in one write. The OpenAPI validation
// (tests/sdk/openapi/validate.mjs) checks each against its API's document.
// (When Client gets its observer hook, this becomes every Client's default observer.)
void RecordResponse(const std::string& method, const std::string& path, const HttpResponse& response) {
  static const std::string file = kTestResponses;
  static const bool recording = !file.empty() && std::filesystem::exists(file);
  if (!recording) return;
  boost::json::object line{{"method", method},
                           {"path", path},
                           {"status", response.status},
                           {"content_type", response.Header("content-type")},
                           {"body", response.body}};
  const std::string text = boost::json::serialize(line) + "\n";
  // O_APPEND: one write per line, so the suites' parallel processes never interleave.
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return;
  [[maybe_unused]] const auto written = ::write(fd, text.data(), text.size());
  ::close(fd);
}

}  // namespace

Client::~Client() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

namespace {
std::size_t CollectBody(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}
std::size_t CollectHeader(char* data, std::size_t size, std::size_t n, void* out) {
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    static_cast<HttpResponse*>(out)->headers.emplace_back(std::move(name), std::move(value));
  }
  return size * n;
}
}  // namespace

HttpResponse Client::Send(const std::string& method, const std::string& path, const std::string& body,
                          const Headers& headers) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  HttpResponse r;
  const std::string url = base_url_ + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (!body.empty() || method == "POST" || method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  if (method == "GET") curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  if (!ca_file_.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  }
  curl_slist* list = curl_slist_append(nullptr, "Expect:");
  bool has_accept = false;  // a test's own Accept replaces the default
  for (const auto& [k, v] : headers) has_accept = has_accept || k == "Accept";
  if (!has_accept) list = curl_slist_append(list, "Accept: application/json");
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    has_type = has_type || k == "Content-Type";
    list = curl_slist_append(list, (k + ": " + v).c_str());
  }
  if (!has_type && !body.empty()) list = curl_slist_append(list, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) throw std::runtime_error(std::string("curl: ") + curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &r.connects);
  RecordResponse(method, path, r);
  return r;
}

RaceTally RacePosts(int count, const std::function<std::string(int)>& base_url,
                    const std::function<std::string(int)>& body, const std::string& path,
                    const Headers& headers) {
  std::atomic<int> ok{0}, conflict{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      try {
        const long status = Client(base_url(i)).Send("POST", path, body(i), headers).status;
        ++(status == 200 ? ok : status == 409 ? conflict : other);
      } catch (const std::exception&) {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  return RaceTally{ok, conflict, other};
}

SmtpSink::SmtpSink(std::string dir, int port) : dir_(std::move(dir)) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  const std::vector<std::string> args = {"/usr/bin/python3", std::string(kTestSource) + "/integration/smtp_sink.py", dir_,
                                         std::to_string(port)};
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, "/usr/bin/python3", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    throw std::runtime_error("cannot start the SMTP sink (is python3-aiosmtpd installed?)");
  }
  const std::string line = ReadLine(pipe_fds[0], std::chrono::seconds(20));
  ::close(pipe_fds[0]);
  if (line.find('\n') == std::string::npos) {
    Stop();
    throw std::runtime_error("the SMTP sink did not start");
  }
  port_ = std::stoi(line);
}

SmtpSink::~SmtpSink() { Stop(); }

void SmtpSink::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::vector<std::string> SmtpSink::Messages() const {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir_))
    if (entry.path().extension() == ".eml") names.push_back(entry.path().string());
  std::sort(names.begin(), names.end());
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(ReadFile(n));
  return out;
}

std::vector<std::string> SmtpSink::WaitForMessages(std::size_t count, int seconds) const {
  return WaitForMessagesTo("", count, seconds);
}

std::vector<std::string> SmtpSink::MessagesTo(const std::string& address) const {
  std::vector<std::string> out;
  for (auto& m : Messages())
    if (address.empty() || m.find("X-Envelope-To: " + address + "\r\n") == 0) out.push_back(std::move(m));
  return out;
}

std::vector<std::string> SmtpSink::WaitForMessagesTo(const std::string& address, std::size_t count, int seconds) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  auto messages = MessagesTo(address);
  while (messages.size() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    messages = MessagesTo(address);
  }
  return messages;
}

namespace {

std::uint32_t Rotl(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

std::string Sha1(const std::string& message) {
  std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string m = message;
  const std::uint64_t bits = static_cast<std::uint64_t>(message.size()) * 8;
  m += '\x80';
  while (m.size() % 64 != 56) m += '\0';
  for (int i = 7; i >= 0; --i) m += static_cast<char>((bits >> (i * 8)) & 0xff);
  for (std::size_t off = 0; off < m.size(); off += 64) {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      w[i] = 0;
      for (int k = 0; k < 4; ++k) w[i] = (w[i] << 8) | static_cast<std::uint8_t>(m[off + 4 * i + k]);
    }
    for (int i = 16; i < 80; ++i) w[i] = Rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f, k;
      if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
      else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
      else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      else f = b ^ c ^ d, k = 0xCA62C1D6;
      const std::uint32_t t = Rotl(a, 5) + f + e + k + w[i];
      e = d, d = c, c = Rotl(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  std::string out;
  for (std::uint32_t v : h)
    for (int i = 3; i >= 0; --i) out += static_cast<char>((v >> (i * 8)) & 0xff);
  return out;
}

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += {digits[c >> 4], digits[c & 15]};
  return out;
}

}  // namespace

std::string HmacSha1Hex(std::string key, const std::string& message) {
  if (key.size() > 64) key = Sha1(key);
  key.resize(64, '\0');
  std::string inner(64, '\0'), outer(64, '\0');
  for (int i = 0; i < 64; ++i) {
    inner[i] = static_cast<char>(key[i] ^ 0x36);
    outer[i] = static_cast<char>(key[i] ^ 0x5c);
  }
  return Hex(Sha1(outer + Sha1(inner + message)));
}

void ExpectCatalyzeError(const HttpResponse& r, long status, const std::string& mentions) {
  EXPECT_EQ(r.status, status) << r.body;
  const json::value j = r.Json();
  ASSERT_TRUE(j.is_object()) << r.body;
  const auto* errors = j.as_object().if_contains("errors");
  ASSERT_TRUE(errors != nullptr && errors->is_array() && errors->as_array().size() == 1u) << r.body;
  const auto& error = errors->as_array()[0];
  EXPECT_EQ(error.at("code").as_int64(), status) << r.body;
  const std::string message(error.at("message").as_string());
  EXPECT_NE(message.find(mentions), std::string::npos) << message;
}

Headers CatalyzeHeaders(const std::string& key, const std::string& session, const std::string& identifier) {
  Headers h = {{"X-Api-Key", "browser " + identifier + " " + key}};
  if (!session.empty()) h.emplace_back("Authorization", "Bearer " + session);
  return h;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

}  // namespace roster::testing
