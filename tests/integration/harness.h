// Test harness: temp data dirs, running the real `roster` binary (CLI and server),
// and a small libcurl HTTP client. Servers bind 127.0.0.1 port 0.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace roster::testing {

// Where the tests find what they run and read. Defined in paths.cc, the one source
// compiled with the build's absolute paths, so every other test source compiles to the
// same object in any checkout (ccache hits in a fresh clone, CI's sanitizer build too).
extern const char* const kRosterBinary;    // the `roster` binary under test
extern const char* const kTestSource;      // <checkout>/tests
extern const char* const kTestData;        // <checkout>/tests/data
extern const char* const kTestResponses;   // the OpenAPI response log ("" when not recorded)

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Calls `done` every 50 ms until it returns true or `seconds` pass (waiting for a
// background effect, not timing it).
bool WaitFor(const std::function<bool()>& done, int seconds = 20);

// Runs `command` in a shell; its exit status, with what it wrote (stdout and stderr) in `out`.
int Shell(const std::string& command, std::string* out = nullptr);

// A PostgreSQL cluster of a test's own (scripts/pg-test-cluster.sh start, in a fresh
// directory under /tmp), for tests that stop or pause their store under load; stopped and
// removed when it goes out of scope. Skip the test when Installed() is false.
class OwnPostgresCluster {
 public:
  static bool Installed();  // PostgreSQL's server binaries are there
  OwnPostgresCluster();     // starts it; dsn() is empty and error() says why when it could not
  ~OwnPostgresCluster();
  OwnPostgresCluster(const OwnPostgresCluster&) = delete;
  OwnPostgresCluster& operator=(const OwnPostgresCluster&) = delete;
  const std::string& dsn() const { return dsn_; }
  const std::string& error() const { return error_; }
  // `pause` (stop the server, keep its data) or `resume` (start it on the same port):
  // the script's exit status, its output in `out`.
  int Run(const std::string& action, std::string* out = nullptr);

 private:
  std::string script_, dir_, dsn_, error_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

// Sends `data` over a plain TCP connection to 127.0.0.1:`port` and reads until the
// server closes it; `closed` says whether it did within `wait_s` seconds.
struct RawReply {
  std::string data;
  bool closed = false;
};
RawReply RawExchange(int port, const std::string& data, int wait_s);

// Percent-encodes everything but RFC 3986 unreserved characters (a query value).
std::string UrlEncode(std::string_view text);

// Runs `roster ARGS...` to completion.
CommandResult RunRoster(const std::vector<std::string>& args);
std::string ReadFile(const std::string& path);

// Which store the suite runs against: SQLite in the data dir, or (ROSTER_TEST_STORE=
// postgres) a fresh database per data dir on the server at ROSTER_TEST_POSTGRES_DSN.
bool UsingPostgres();
// A key revocation reaches a serving process at once on SQLite (lookups are not cached);
// on PostgreSQL, as soon as its NOTIFY arrives, normally within milliseconds. Calls
// `refused` (which should send one request) until it returns true: once on SQLite, for up
// to 5 s on PostgreSQL. False if it never did.
bool RefusedOnceRevocationArrives(const std::function<bool()>& refused);
// The PostgreSQL URL `data_dir` was initialised with (PostgreSQL mode only).
std::string DatabaseUrl(const std::string& data_dir);
// Every byte the store holds for `data_dir`: the SQLite file and its WAL, or a pg_dump.
std::string DumpStore(const std::string& data_dir);

// `roster init --json` on `data_dir` (with a fresh database when UsingPostgres());
// returns the admin key.
std::string InitDataDir(const std::string& data_dir);
// `roster key create --json`; returns the secret.
std::string CreateKey(const std::string& data_dir, const std::string& env, const std::string& role,
                      const std::string& identifier = "");

// Fast argon2id, and the request throttles off (suites send bursts from one address),
// for tests that are not about hashing cost or throttling. A test may append
// --throttle-per-address/--throttle-per-credential N: the last value given counts.
inline const std::vector<std::string> kFastHashing = {"--argon2-ops", "1", "--argon2-memory-kib", "8192",
                                                      "--throttle-per-address", "0", "--throttle-per-credential", "0"};

class Server {
 public:
  // Starts `roster serve` on 127.0.0.1:0 and waits for its "listening" line.
  Server(const std::string& data_dir, std::vector<std::string> extra_args = kFastHashing);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // SIGTERM and wait; returns the exit status (or -1 if killed by a signal).
  int Terminate();
  // SIGKILL and wait.
  void Kill9();
  // The next line the server printed on stdout after its "listening" line (e.g. "roster
  // metrics on URL"), waiting up to `seconds`; empty if none came.
  std::string NextLine(int seconds = 20);
  void Signal(int signal);
  const std::string& base_url() const { return base_url_; }
  int port() const { return port_; }
  std::string access_log_path() const { return data_dir_ + "/access.log"; }
  std::string stderr_path() const { return data_dir_ + "/server.err"; }

 private:
  std::string data_dir_;
  std::string base_url_;
  int port_ = 0;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stdout_rest_;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  long connects = 0;
  boost::json::value Json() const;  // null if the body is not JSON
  std::string Header(const std::string& lower_name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class Client {
 public:
  explicit Client(std::string base_url, std::string ca_file = "");
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body = "",
                    const Headers& headers = {});

 private:
  std::string base_url_, ca_file_;
  void* curl_;
};

// Outcome of sending many requests at once: how many got 200, 409, or anything else.
struct RaceTally {
  int ok = 0, conflict = 0, other = 0;
};
// Sends `count` POSTs to `path` at once, one thread and connection each; request i goes
// to base_url(i) with body(i) and `headers`. Transport failures count as `other`.
RaceTally RacePosts(int count, const std::function<std::string(int)>& base_url,
                    const std::function<std::string(int)>& body, const std::string& path,
                    const Headers& headers);

// A real SMTP server (tests/integration/smtp_sink.py on Debian's python3-aiosmtpd) that
// keeps every message it accepts as a file in `dir`.
class SmtpSink {
 public:
  // Listens on 127.0.0.1:`port` (0: a free one).
  explicit SmtpSink(std::string dir, int port = 0);
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;
  void Stop();
  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  // Every message received so far (an X-Envelope-To line, then the message), oldest first.
  std::vector<std::string> Messages() const;
  // Waits until at least `count` messages arrived or `seconds` passed; returns them.
  std::vector<std::string> WaitForMessages(std::size_t count, int seconds = 15) const;
  // The same, only the messages to `address` (all of them for an empty address).
  std::vector<std::string> MessagesTo(const std::string& address) const;
  std::vector<std::string> WaitForMessagesTo(const std::string& address, std::size_t count, int seconds = 15) const;

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// HMAC-SHA1 of `message` under `key`, in lower-case hex: QuickBlox session signatures, as
// a client computes them (the suites link no crypto library).
std::string HmacSha1Hex(std::string key, const std::string& message);

// Asserts a Catalyze error: `status`, and {"errors":[{"code": status, "message": ...}]}
// whose message contains `mentions`.
void ExpectCatalyzeError(const HttpResponse& r, long status, const std::string& mentions);

// Catalyze request headers for an API key (and optional session token).
Headers CatalyzeHeaders(const std::string& key, const std::string& session = "",
                        const std::string& identifier = "tests.roster");

}  // namespace roster::testing
