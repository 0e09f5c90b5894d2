// roster: the composition root. Parses the command line, builds the store, crypto and
// services once, and runs one subcommand; the APIs it serves and whose subcommands it
// offers are listed in registry.cc. The only code that names concrete adapters.
#include <fcntl.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <toml++/toml.h>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "core/clock.h"
#include "core/rules.h"
#include "crypto/base64.h"
#include "crypto/crypto.h"
#include "cli/audit.h"
#include "cli/master_key.h"
#include "cli/operations.h"
#include "cli/registry.h"
#include "cli/rotation.h"
#include "cli/routes.h"
#include "cli/settings.h"
#include "cli/transfer.h"
#include "metrics/metrics.h"
#include "mail/smtp_transport.h"
#include "service/activations.h"
#include "service/search_upgrade.h"
#include "service/housekeeper.h"
#include "service/mail_sender.h"
#include "service/record_service.h"
#include "service/unreadable.h"
#include "http/server.h"
#include "service/directory_service.h"
#include "service/readiness.h"
#include "service/user_service.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace roster;

constexpr const char* kDefaultEnvironment = "default";

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

// DATA/roster.toml remembers choices made at init (the database URL) so every later
// subcommand on the same data directory uses them without repeating flags.
std::string ConfiguredDatabase(const std::string& data_dir) {
  const fs::path path = fs::path(data_dir) / "roster.toml";
  if (!fs::exists(path)) return {};
  try {
    const toml::table config = toml::parse_file(path.string());
    return config["database"].value_or(std::string());
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(path.string() + ": " + std::string(e.description()));
  }
}

// The file may hold a database password: it is created 0600 (never readable by others,
// not even for a moment), written whole under a temporary name, synced, renamed over
// the old one, and its directory synced.
void WriteConfig(const std::string& data_dir, const std::string& database) {
  const fs::path path = fs::path(data_dir) / "roster.toml";
  const fs::path temporary = fs::path(data_dir) / "roster.toml.new";
  toml::table config{{"database", database}};
  std::ostringstream text;
  text << "# written by roster init\n" << config << "\n";
  const std::string bytes = text.str();
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + temporary.string() + ": " + std::strerror(errno));
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
  const int dfd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dfd >= 0 && ::fsync(dfd) == 0;
  if (dfd >= 0) ::close(dfd);
  if (!synced) throw std::runtime_error("cannot sync " + data_dir + ": " + std::strerror(errno));
}

struct StoreOptions {
  std::string database;  // empty: the configured one, else SQLite in the data dir
  int pool_size = 1;     // PostgreSQL sessions: one call at a time, but serve's --db-pool-size
  crypto::PasswordParams password{};
  service::SessionPolicy sessions{};
  service::SignInPolicy sign_in{};
  service::ThrottlePolicy throttle{};
  // serve: a master key that opens nothing is reported by readiness (the process stays
  // live); every other command refuses to run.
  bool tolerate_wrong_key = false;
};

// Everything a data-touching subcommand needs, opened from the data directory.
struct Context {
  Context(const std::string& data_dir, bool create, StoreOptions options = {}) {
    crypto::Init();
    if (create) {
      fs::create_directories(data_dir);
      ::chmod(data_dir.c_str(), 0700);
    } else if (!fs::exists(fs::path(data_dir) / "master.key") && !std::getenv("ROSTER_MASTER_KEY")) {
      throw std::runtime_error("data directory " + data_dir + " is not initialised; run 'roster init --data-dir " +
                               data_dir + "' first");
    }
    master = LoadMasterKey(data_dir, create);
    keyring = std::make_unique<crypto::Keyring>(master);
    std::string database = options.database.empty() ? ConfiguredDatabase(data_dir) : options.database;
    if (database.empty() || database == "sqlite") {
      store = store::sqlite::Open({(fs::path(data_dir) / "roster.db").string()});
    } else if (IsPostgresUrl(database)) {
      store = store::postgres::Open({database, options.pool_size});
    } else {
      throw std::runtime_error("--database must be 'sqlite' or a postgres:// URL");
    }
    // Which of the key files opens the store (a master-key rotation may have been killed).
    const bool key_from_environment = std::getenv("ROSTER_MASTER_KEY") && *std::getenv("ROSTER_MASTER_KEY");
    try {
      master = cli::OpenMasterKey(data_dir, key_from_environment, master, *store, *keyring, clock);
    } catch (const std::runtime_error& e) {
      if (!options.tolerate_wrong_key) throw;
      std::cerr << "roster: " << e.what() << std::endl;
    }
    directory = std::make_unique<service::DirectoryService>(*store, *keyring, clock);
    if (!key_from_environment) directory->SetMasterKeyReloader(cli::MasterKeyReloader(data_dir, *store, *keyring));
    hasher = std::make_unique<crypto::PasswordHasher>(options.password);
    users = std::make_unique<service::UserService>(*store, *directory, *keyring, *hasher, clock, options.sessions,
                                                   options.sign_in, options.throttle);
    records = std::make_unique<service::RecordService>(*store, *directory, clock);
    service::MarkNewEnvironmentsIndexed(*directory, *records);
    audit = std::make_unique<service::AuditLog>(*store, *keyring, clock);
    users->SetAuditLog(audit.get());
  }

  // What every API and API subcommand is given.
  service::Services Services() { return {*directory, *users, *records, clock}; }

  static crypto::SecretKey LoadMasterKey(const std::string& data_dir, bool create) {
    // The key may come from the environment (e.g. a secrets manager) instead of a file.
    if (const char* hex = std::getenv("ROSTER_MASTER_KEY"); hex && *hex) {
      std::string bytes;
      const std::string_view h(hex);
      if (h.size() != 64 || h.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos)
        throw std::runtime_error("ROSTER_MASTER_KEY must be 64 hex characters");
      for (std::size_t i = 0; i < 64; i += 2) bytes.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
      auto key = crypto::SecretKey::FromBytes(bytes);
      if (!key) throw std::runtime_error("ROSTER_MASTER_KEY must be 64 hex characters");
      return *key;
    }
    return crypto::LoadOrCreateKeyFile((fs::path(data_dir) / "master.key").string(), create);
  }

  core::SystemClock clock;
  crypto::SecretKey master;
  std::unique_ptr<crypto::Keyring> keyring;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<service::DirectoryService> directory;
  std::unique_ptr<crypto::PasswordHasher> hasher;
  std::unique_ptr<service::UserService> users;
  std::unique_ptr<service::RecordService> records;
  std::unique_ptr<service::AuditLog> audit;  // stops (writing what is queued) before the store closes
};

template <class T>
T OrThrow(core::Result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

void PrintJson(const json::value& v) { std::cout << json::serialize(v) << std::endl; }

json::array Strings(const std::vector<std::string>& names) {
  json::array out;
  for (const auto& n : names) out.emplace_back(n);
  return out;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out.empty() ? "-" : out;
}

int Init(const std::string& data_dir, const std::string& database, bool as_json) {
  if (!database.empty()) {
    fs::create_directories(data_dir);
    const std::string configured = ConfiguredDatabase(data_dir);
    if (!configured.empty() && configured != database)
      throw std::runtime_error(data_dir + " is already initialised with another database");
    WriteConfig(data_dir, database);
  }
  Context ctx(data_dir, true, {database});
  auto existing = ctx.directory->FindEnvironment(kDefaultEnvironment);
  if (existing) {
    if (as_json) {
      PrintJson(json::object{{"environment", {{"id", existing->id}, {"name", existing->name}}},
                             {"alreadyInitialized", true}});
    } else {
      std::cout << "roster: " << data_dir << " is already initialised; nothing changed (no new key)." << std::endl;
    }
    return 0;
  }
  auto env = OrThrow(ctx.directory->CreateEnvironment(kDefaultEnvironment));
  auto key = OrThrow(ctx.directory->CreateApiKey(kDefaultEnvironment, service::KeyRole::kAdmin, ""));
  if (as_json) {
    PrintJson(json::object{{"environment", {{"id", env.id}, {"name", env.name}}}, {"adminKey", key.secret}});
  } else {
    std::cout << "roster: initialised " << data_dir << " with environment '" << env.name << "'.\n"
              << "Admin API key (shown once, keep it secret): " << key.secret << "\n"
              << "Use it as: X-Api-Key: browser admin " << key.secret << std::endl;
  }
  return 0;
}

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert, tls_key, access_log;
  int io_threads = 0, worker_threads = 0;
  std::size_t body_limit = 1 << 20;
  int header_timeout_s = 10;
  int idle_timeout_s = 60;
  std::uint64_t argon2_ops = 2;
  std::size_t argon2_memory_kib = 19 * 1024;
  // NIST SP 800-63B-4 AAL2 (docs/security.md): 1 hour idle, 24 hours overall.
  std::int64_t session_idle_s = service::SessionPolicy::kDefaultIdleTimeoutMs / 1000;
  std::int64_t session_lifetime_s = service::SessionPolicy::kDefaultAbsoluteLifetimeMs / 1000;
  int db_pool_size = 8;
  unsigned hash_threads = 0;
  std::int64_t signin_max_attempts = 5, signin_window_s = 900;
  std::int64_t signin_max_attempts_per_user = -1;  // -1: ten times signin_max_attempts
  std::int64_t throttle_per_address = -1, throttle_per_credential = -1;  // -1: the policy's defaults
  bool trust_forwarded_for = false;
  std::string smtp_url, smtp_from = "roster@localhost";
  bool smtp_starttls = false;
  std::string metrics_listen;  // empty: no metrics listener
  std::string log_level = "info";
  std::string audit = "on";  // off: no audit records (benchmarks only)
  std::int64_t audit_retention_days = service::kDefaultAuditRetentionMs / (24 * 3600'000);
  cli::ApiSettings apis;  // settings that belong to one API (--public-url, ...)
};

std::pair<std::string, std::uint16_t> SplitListen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--listen must be HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const int port = std::stoi(listen.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::runtime_error("--listen port must be 0-65535");
  return {host, static_cast<std::uint16_t>(port)};
}

int Serve(const std::string& data_dir, const std::string& database, ServeOptions o) {
  o.apis.body_limit = o.body_limit;
  cli::ResolveApiSettings(o.apis);
  service::ThrottlePolicy throttle;
  if (o.throttle_per_address >= 0) throttle.SetPerAddress(o.throttle_per_address);
  if (o.throttle_per_credential >= 0) throttle.SetPerCredential(o.throttle_per_credential);
  Context ctx(data_dir, false,
              {database, o.db_pool_size, {o.argon2_ops, o.argon2_memory_kib * 1024, o.hash_threads},
               {o.session_idle_s * 1000, o.session_lifetime_s * 1000},
               {o.signin_max_attempts, o.signin_window_s * 1000,
                o.signin_max_attempts_per_user >= 0 ? o.signin_max_attempts_per_user : 10 * o.signin_max_attempts},
               throttle, true});
  auto logger = cli::JsonLogger("roster", o.log_level);
  if (o.audit == "off") {
    ctx.users->SetAuditLog(nullptr);
    logger->warn("audit trail off (--audit off): reads and writes of users leave no record");
  }
  // Held while serving: `roster restore` refuses a directory a server is using.
  const cli::DataDirLock lock = cli::DataDirLock::Shared(data_dir);
  // PostgreSQL tells every process of a key revocation, so lookups can be kept in memory.
  if (ctx.directory->EnableKeyCache()) logger->info("API key lookups cached; revocations heard via LISTEN/NOTIFY");
  std::shared_ptr<spdlog::logger> access =
      o.access_log.empty() ? spdlog::stderr_logger_mt("access") : spdlog::basic_logger_mt("access", o.access_log);
  access->set_pattern("%v");
  access->flush_on(spdlog::level::info);
  cli::ServeMetrics serve_metrics(*ctx.store, *ctx.hasher, ctx.clock);

  std::unique_ptr<mail::SmtpTransport> smtp;
  if (!o.smtp_url.empty()) smtp = std::make_unique<mail::SmtpTransport>(mail::SmtpOptions{o.smtp_url, o.smtp_from, o.smtp_starttls});
  service::MailSenderOptions mail_options;
  mail_options.log = [logger](const std::string& line) { logger->info(line); };
  service::MailSender mail_sender(*ctx.store, *ctx.directory, smtp.get(), ctx.clock, mail_options);
  mail_sender.Start();
  service::HousekeeperOptions housekeeping;
  housekeeping.counter_retention_ms = std::max<std::int64_t>(o.signin_window_s * 1000, 24 * 3600'000);
  housekeeping.log = [logger](const std::string& line) { logger->warn(line); };
  service::SetUnreadableRowLog([logger](const std::string& line) { logger->warn(line); });
  housekeeping.session_idle_ms = o.session_idle_s * 1000;
  housekeeping.session_lifetime_ms = o.session_lifetime_s * 1000;
  housekeeping.audit_retention_ms = o.audit_retention_days * 24 * 3600'000;
  service::Housekeeper housekeeper(*ctx.store, ctx.clock, housekeeping);
  housekeeper.Start();

  // Search entries written before this build's derivation (service/search_upgrade.h):
  // re-derived once, before the index answers any search.
  if (auto envs = ctx.directory->ListEnvironments(); !envs) {
    logger->error("search index check skipped", {{"error", envs.error().message}});
  } else {
    for (const auto& env : *envs) {
      auto s = ctx.Services();
      if (auto done = service::EnsureSearchIndexed(s.users, s.records, env.id); !done)
        logger->error("search index check failed; searches may miss older users",
                      {{"environment", env.id}, {"error", done.error().message}});
      else if (*done)
        logger->info("search index re-derived for this release", {{"environment", env.id}});
    }
  }

  http::Router router;
  cli::AddProbes(router, *ctx.store, *ctx.directory);
  cli::MountApis(router, ctx.Services(), o.apis);
  cli::MountAuditRoute(router, *ctx.directory, *ctx.audit);

  http::ServerOptions so;
  std::tie(so.host, so.port) = SplitListen(o.listen);
  so.io_threads = o.io_threads;
  // Worker threads spend part of each request waiting on fsync or the database; with
  // more of them than cores (hashing itself is capped at --hash-threads) every core keeps
  // hashing while others wait.
  so.worker_threads = o.worker_threads ? o.worker_threads : 4 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  so.body_limit = o.body_limit;
  so.trust_forwarded_for = o.trust_forwarded_for;
  so.header_timeout = std::chrono::seconds(o.header_timeout_s);
  so.idle_timeout = std::chrono::seconds(o.idle_timeout_s);
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    if (o.tls_cert.empty() || o.tls_key.empty()) throw std::runtime_error("--tls-cert and --tls-key go together");
    so.tls = http::TlsFiles{o.tls_cert, o.tls_key};
  }
  // Only the request's shape goes to the access log: never a path value, query, header
  // or body, so no profile value, password, token or key can reach it.
  so.tls_reloaded = [logger, tls = so.tls.has_value()](bool ok, const std::string& message) {
    if (!tls) logger->info("SIGHUP: no TLS certificate to reload");
    else if (ok) logger->info(message);
    else logger->error("TLS reload failed, the previous certificate stays in use: " + message);
  };
  so.access_log = [access, logger, &serve_metrics](const http::AccessRecord& r) {
    serve_metrics.Record(r);
    // A server error also goes to the main log, with the request id to find its access line.
    if (r.status >= 500) logger->error("request failed", {{"rid", r.request_id}, {"route", r.route}, {"status", r.status}});
    json::object line{{"ts", core::FormatTimestamp(core::SystemClock().NowMillis(), true)},
                      {"level", "info"},
                      {"rid", r.request_id},
                      {"method", r.method},
                      {"route", r.route},
                      {"status", r.status},
                      {"ms", std::round(r.millis * 1000) / 1000},
                      {"in", r.bytes_in},
                      {"out", r.bytes_out},
                      {"peer", r.peer}};
    access->info(json::serialize(line));
  };
  http::Server server(router, so);
  serve_metrics.Watch(server);
  const auto port = server.Start();
  // Metrics on their own listener (none unless --metrics-listen), with the probes.
  std::unique_ptr<cli::MetricsListener> metrics_listener;
  if (!o.metrics_listen.empty()) {
    const auto [metrics_host, metrics_port] = SplitListen(o.metrics_listen);
    metrics_listener = std::make_unique<cli::MetricsListener>(metrics_host, metrics_port, *ctx.store, *ctx.directory);
  }
  const auto url = [](const std::string& host, std::uint16_t p, bool tls) {
    return std::string(tls ? "https" : "http") + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
           ":" + std::to_string(p);
  };
  std::cout << "roster listening on " << url(so.host, port, so.tls.has_value()) << std::endl;
  if (metrics_listener)
    std::cout << "roster metrics on " << url(metrics_listener->host(), metrics_listener->port(), false) << "/metrics"
              << std::endl;
  logger->info("roster serving", {{"listen", url(so.host, port, so.tls.has_value())}});
  server.Run();
  // Answers still waiting for their audit records hold their sessions through callbacks
  // the audit writer calls; they must be told while the server's io_context exists.
  if (ctx.audit) ctx.audit->Flush();
  metrics_listener.reset();
  logger->info("roster stopped");
  return 0;
}

// A consistent online copy of the data directory's database into one file (the store's
// backup method: SQLite's online backup API), with the master key sealed under a
// passphrase when asked. Servers keep serving writes meanwhile.
// `roster routes`: mounts the probes and every API as serve does, over a throwaway data
// directory (no handler runs), and prints the routes (cli/routes.h).
int Routes(bool as_json) {
  const cli::ScratchDirectory scratch;
  Context ctx(scratch.path().string(), true, {"sqlite"});
  cli::ApiSettings settings;
  settings.body_limit = ServeOptions{}.body_limit;
  cli::ResolveApiSettings(settings);
  http::Router router;
  cli::AddProbes(router, *ctx.store, *ctx.directory);
  cli::MountApis(router, ctx.Services(), settings);
  cli::PrintRoutes(router, std::cout, as_json);
  return 0;
}

int Backup(const std::string& data_dir, const std::string& database, const std::string& out, bool include_key,
           const std::string& passphrase_file, bool as_json) {
  if (fs::exists(out)) throw std::runtime_error(out + " exists; give a new file");
  // Read the passphrase first: a mistake costs nothing.
  const std::string passphrase = include_key ? cli::ReadPassphrase(passphrase_file) : std::string();
  Context ctx(data_dir, false, {database});
  const std::string copy = out + ".db-partial";
  fs::remove(copy);
  if (auto st = ctx.store->BackupTo(copy); !st) {
    fs::remove(copy);
    if (st.error().code == core::ErrorCode::kFailedPrecondition)
      throw std::runtime_error("this data directory uses PostgreSQL: back it up with pg_dump and copy the key "
                               "files (docs/operations.md, Backup and restore)");
    throw std::runtime_error(st.error().message);
  }
  const auto integrity = store::sqlite::IntegrityCheck(copy);
  if (!integrity || *integrity != "ok") {
    fs::remove(copy);
    throw std::runtime_error("the copy failed its integrity check: " +
                             (integrity ? *integrity : integrity.error().message));
  }
  cli::BackupHeader header;
  header.store = "sqlite";
  header.database_bytes = fs::file_size(copy);
  header.created_at = core::FormatTimestamp(ctx.clock.NowMillis(), true);
  if (include_key)
    header.sealed_master_key = crypto::Base64Encode(crypto::SealWithPassphrase(
        std::string_view(reinterpret_cast<const char*>(ctx.master.data()), ctx.master.size()), passphrase));
  try {
    cli::WriteBackupFile(out, header, copy);
  } catch (...) {
    fs::remove(copy);
    throw;
  }
  fs::remove(copy);
  if (as_json) {
    PrintJson(json::object{{"out", out}, {"databaseBytes", header.database_bytes}, {"includesKey", include_key},
                           {"integrity", "ok"}});
  } else {
    std::cout << "roster: backed up " << data_dir << " to " << out << " (" << header.database_bytes
              << " bytes of database" << (include_key ? ", master key sealed under the passphrase" : ", no key")
              << ")" << std::endl;
  }
  return 0;
}

// Restores a backup file into a new data directory: refused onto a directory a server
// holds, or any non-empty one.
int Restore(const std::string& data_dir, const std::string& from, const std::string& passphrase_file, bool as_json) {
  if (fs::exists(data_dir) && cli::DataDirLock::Held(data_dir))
    throw std::runtime_error(data_dir + " is in use by a running server; restore into a new directory");
  if (fs::exists(data_dir) && !fs::is_empty(data_dir))
    throw std::runtime_error(data_dir + " is not empty; restore into a new directory");
  std::uint64_t offset = 0;
  const cli::BackupHeader header = cli::ReadBackupHeader(from, &offset);
  if (header.store != "sqlite") throw std::runtime_error(from + ": unknown store '" + header.store + "'");
  std::optional<crypto::SecretKey> key;
  if (!header.sealed_master_key.empty()) {
    crypto::Init();
    auto sealed = crypto::Base64Decode(header.sealed_master_key);
    if (!sealed) throw std::runtime_error(from + ": the sealed master key is damaged");
    auto opened = crypto::OpenWithPassphrase(*sealed, cli::ReadPassphrase(passphrase_file));
    if (!opened) throw std::runtime_error("the passphrase does not open the backup's master key");
    key = OrThrow(crypto::SecretKey::FromBytes(*opened));
  }
  fs::create_directories(data_dir);
  ::chmod(data_dir.c_str(), 0700);
  const cli::DataDirLock lock = cli::DataDirLock::Exclusive(data_dir);
  if (!lock.locked()) throw std::runtime_error(data_dir + " is in use by a running server");
  const fs::path db = fs::path(data_dir) / "roster.db";
  const fs::path partial = fs::path(data_dir) / "roster.db.restoring";
  {
    std::ifstream in(from, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset));
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + partial.string());
    std::vector<char> buf(1 << 20);
    bool ok = true;
    while (ok && in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto n = static_cast<std::size_t>(in.gcount());
      if (n == 0) break;
      ok = ::write(fd, buf.data(), n) == static_cast<ssize_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + partial.string());
  }
  const auto integrity = store::sqlite::IntegrityCheck(partial.string());
  if (!integrity || *integrity != "ok") {
    fs::remove(partial);
    throw std::runtime_error("the restored database failed its integrity check: " +
                             (integrity ? *integrity : integrity.error().message));
  }
  fs::rename(partial, db);
  if (key) crypto::WriteKeyFile((fs::path(data_dir) / "master.key").string(), *key);
  // With a key at hand (restored, or ROSTER_MASTER_KEY), prove it opens the data.
  std::string keys = "not checked: copy the master key into " + data_dir + " (or set ROSTER_MASTER_KEY)";
  if (key || std::getenv("ROSTER_MASTER_KEY")) {
    Context ctx(data_dir, false);
    const auto ready = service::CheckReadiness(*ctx.store, *ctx.directory);
    if (!ready.ready) throw std::runtime_error("restored, but not usable: " + ready.reason);
    keys = "ok";
  }
  if (as_json) {
    PrintJson(json::object{{"dataDir", data_dir}, {"integrity", "ok"}, {"keyRestored", key.has_value()}, {"keys", keys}});
  } else {
    std::cout << "roster: restored " << from << " into " << data_dir << " (integrity ok; keys " << keys << ")"
              << std::endl;
  }
  return 0;
}

// `roster config show`: every serve setting, its effective value (passwords redacted) and
// where it came from.
int ShowConfig(const std::vector<cli::Setting>& settings, bool as_json) {
  if (as_json) {
    json::array a;
    for (const auto& s : settings) {
      json::array values;
      for (const auto& v : s.values) values.emplace_back(cli::RedactSecrets(v));
      a.push_back(json::object{{"key", s.key},
                               {"flag", s.flag},
                               {"variable", s.variable},
                               {"type", s.type},
                               {"value", cli::DisplayValue(s)},
                               {"values", std::move(values)},
                               {"default", cli::RedactSecrets(s.default_value)},
                               {"source", cli::SourceName(s.source)}});
    }
    PrintJson(json::object{{"settings", std::move(a)}});
  } else {
    for (const auto& s : settings)
      std::cout << s.key << " = " << cli::DisplayValue(s) << "    (" << cli::SourceName(s.source) << ")\n";
    std::cout << std::flush;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"roster: a self-hosted user directory for personal and health data"};
  app.require_subcommand(1);
  std::string data_dir = "./data";
  std::string database;
  bool as_json = false;
  const auto data_options = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", data_dir, "Data directory")->capture_default_str();
    cmd->add_option("--database", database,
                    "'sqlite' (default: DATA/roster.db) or a postgres:// URL; init remembers it in DATA/roster.toml");
  };

  auto* init = app.add_subcommand("init", "Create the data directory, the 'default' environment and an admin key");
  data_options(init);
  init->add_flag("--json", as_json, "Print one JSON object");

  ServeOptions serve_options;
  std::string config_file;
  constexpr std::int64_t kMaxSessionSeconds = 10LL * 366 * 86400;  // ten years; milliseconds stay in range
  auto* serve = app.add_subcommand("serve", "Serve the HTTP APIs until SIGINT/SIGTERM (SIGHUP reloads TLS files)");
  auto* config = app.add_subcommand("config", "Show the settings serve would use");
  config->require_subcommand(1);
  auto* config_show = config->add_subcommand("show", "Print serve's effective settings (secrets redacted) and their source");
  config_show->add_flag("--json", as_json, "Print one JSON object");
  // Every option added here is a setting: a flag, a config key and a ROSTER_* variable
  // (cli/settings.h). serve and config show take the same ones (the loop's body is not
  // re-indented, so that flags added by other changes merge cleanly).
  for (CLI::App* serve : {serve, config_show}) {
  serve->add_option("--config", config_file,
                    "TOML file of settings: keys are the flags without dashes (default: ROSTER_CONFIG)");
  data_options(serve);
  serve->add_option("--db-pool-size", serve_options.db_pool_size, "PostgreSQL connections")->capture_default_str()->check(CLI::Range(1, 256));
  serve->add_option("--listen", serve_options.listen, "HOST:PORT to listen on (port 0 picks one)")->capture_default_str();
  serve->add_option("--tls-cert", serve_options.tls_cert, "TLS certificate chain (PEM)");
  serve->add_option("--tls-key", serve_options.tls_key, "TLS private key (PEM)");
  serve->add_option("--io-threads", serve_options.io_threads, "I/O threads (0: one per core)")->capture_default_str();
  serve->add_option("--worker-threads", serve_options.worker_threads,
                    "Worker threads for password hashing and durable writes (0: four per core)")->capture_default_str();
  serve->add_option("--hash-threads", serve_options.hash_threads,
                    "argon2id hashes running at once (0: one per core)")->capture_default_str();
  serve->add_option("--body-limit", serve_options.body_limit, "Largest request body in bytes")->capture_default_str();
  serve->add_option("--header-timeout-seconds", serve_options.header_timeout_s,
                    "Time a client has to send a request's headers")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  serve->add_option("--idle-timeout-seconds", serve_options.idle_timeout_s,
                    "Time a keep-alive connection may stay idle between requests")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  serve->add_option("--argon2-ops", serve_options.argon2_ops, "argon2id iterations (t)")->capture_default_str()->check(CLI::Range(1, 10));
  serve->add_option("--argon2-memory-kib", serve_options.argon2_memory_kib, "argon2id memory in KiB (m)")->capture_default_str()->check(CLI::Range(8, 4 * 1024 * 1024));
  serve->add_option("--session-idle-seconds", serve_options.session_idle_s,
                    "User session idle timeout (0: none; default NIST SP 800-63B-4 AAL2)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, kMaxSessionSeconds));
  serve->add_option("--session-lifetime-seconds", serve_options.session_lifetime_s,
                    "User session absolute lifetime (0: none; default NIST SP 800-63B-4 AAL2)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, kMaxSessionSeconds));
  serve->add_option("--access-log", serve_options.access_log, "Access log file (JSON lines; default stderr)");
  serve->add_option("--signin-max-attempts", serve_options.signin_max_attempts,
                    "Sign-in attempts allowed per username per window (0: unlimited)")->capture_default_str()->check(CLI::Range(0, 1000000));
  serve->add_option("--signin-window-seconds", serve_options.signin_window_s, "Sign-in throttling window")->capture_default_str()->check(CLI::Range(1, 86400 * 30));
  serve->add_option("--signin-max-attempts-per-user", serve_options.signin_max_attempts_per_user,
                    "Sign-in attempts allowed per username per window from all addresses together (0: no ceiling; "
                    "default: ten times --signin-max-attempts)")->check(CLI::Range(0, 100000000));
  serve->add_option("--throttle-per-address", serve_options.throttle_per_address,
                    "Sign-in, sign-up, session, username-reminder and reset requests per minute per client address, "
                    "each (0: unlimited; default: per action, see docs/security.md)")->check(CLI::Range(0, 1000000))->take_last();
  serve->add_option("--throttle-per-credential", serve_options.throttle_per_credential,
                    "The same per API key or application (0: unlimited; default: per action)")->check(CLI::Range(0, 1000000))->take_last();
  serve->add_flag("--trust-forwarded-for", serve_options.trust_forwarded_for,
                  "Take the client address from X-Forwarded-For (only behind a reverse proxy every request passes)");
  serve->add_option("--smtp-url", serve_options.smtp_url,
                    "SMTP server for the mail outbox, smtp://host:port or smtps://user:pass@host:port (unset: mail waits)");
  serve->add_option("--smtp-from", serve_options.smtp_from, "Sender address of outgoing mail")->capture_default_str();
  serve->add_flag("--smtp-starttls", serve_options.smtp_starttls, "Require STARTTLS on smtp:// URLs");
  serve->add_option("--metrics-listen", serve_options.metrics_listen,
                    "HOST:PORT for GET /metrics (Prometheus), /healthz and /readyz on a listener of their own "
                    "(default: none, no metrics served)");
  serve->add_option("--audit", serve_options.audit, "Audit trail of every user read and write: on or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  serve->add_option("--audit-retention-days", serve_options.audit_retention_days,
                    "Audit records older than this are purged (up to a signed checkpoint)")
      ->capture_default_str()
      ->check(CLI::Range(1, 36500));
  serve->add_option("--log-level", serve_options.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  cli::AddApiOptions(*serve, serve_options.apis);
  }

  std::string out_file, from_file, passphrase_file;
  bool include_key = false;
  auto* backup = app.add_subcommand("backup", "Copy the data directory's database into one file, online");
  data_options(backup);
  backup->add_option("--out", out_file, "The backup file to create")->required();
  backup->add_flag("--include-key", include_key,
                   "Put the master key in the backup, sealed under a passphrase (--passphrase-file or "
                   "ROSTER_BACKUP_PASSPHRASE)");
  backup->add_option("--passphrase-file", passphrase_file, "File whose first line is the passphrase");
  backup->add_flag("--json", as_json, "Print one JSON object");
  auto* restore = app.add_subcommand("restore", "Restore a backup file into a new, empty data directory");
  restore->add_option("--data-dir", data_dir, "The new data directory")->required();
  restore->add_option("--from", from_file, "The backup file")->required();
  restore->add_option("--passphrase-file", passphrase_file, "File whose first line is the passphrase");
  restore->add_flag("--json", as_json, "Print one JSON object");

  auto* env = app.add_subcommand("env", "Manage environments (tenants)");
  env->require_subcommand(1);
  std::string env_name;
  auto* env_create = env->add_subcommand("create", "Create an environment");
  env_create->add_option("NAME", env_name, "Environment name")->required();
  data_options(env_create);
  env_create->add_flag("--json", as_json, "Print one JSON object");
  auto* env_list = env->add_subcommand("list", "List environments");
  data_options(env_list);
  env_list->add_flag("--json", as_json, "Print one JSON object");
  auto* env_set = env->add_subcommand("set", "Change an environment's settings");
  env_set->add_option("NAME", env_name, "Environment name or id")->required();
  std::string catalyze_activation;
  env_set->add_option("--catalyze-activation", catalyze_activation,
                      "How Catalyze sign-ups become active: email (an activation link is mailed; the default) "
                      "or none (active at creation)")
      ->check(CLI::IsMember({"email", "none"}))
      ->required();
  data_options(env_set);
  env_set->add_flag("--json", as_json, "Print one JSON object");
  auto* env_rotate = env->add_subcommand("rotate-data-key",
                                         "Rotate an environment's data key online: re-seal every row under a new "
                                         "key, resumably (run it again after an interruption)");
  env_rotate->add_option("NAME", env_name, "Environment name or id")->required();
  double rotate_rate = 500;
  bool rotate_status = false;
  env_rotate->add_option("--rate", rotate_rate, "Rows visited per second at most (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  env_rotate->add_flag("--status", rotate_status, "Show where the rotation is; change nothing");
  data_options(env_rotate);
  env_rotate->add_flag("--json", as_json, "Print one JSON object");
  auto* env_rotate_index = env->add_subcommand("rotate-index-key",
                                               "Rotate an environment's blind-index key online: re-index every claim "
                                               "under a new key generation, uniqueness held throughout, resumably "
                                               "(run it again after an interruption)");
  env_rotate_index->add_option("NAME", env_name, "Environment name or id")->required();
  env_rotate_index->add_option("--rate", rotate_rate, "Rows visited per second at most (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  env_rotate_index->add_flag("--status", rotate_status, "Show where the rotation is; change nothing");
  data_options(env_rotate_index);
  env_rotate_index->add_flag("--json", as_json, "Print one JSON object");

  auto* key = app.add_subcommand("key", "Manage API keys");
  key->require_subcommand(1);
  std::string role = "app", identifier, key_id;
  std::vector<std::string> key_apis, key_scopes;
  auto* key_create = key->add_subcommand("create", "Create an API key");
  key_create->add_option("--env", env_name, "Environment name")->required();
  key_create->add_option("--role", role, "admin or app (default app)")->check(CLI::IsMember({"admin", "app"}));
  key_create->add_option("--api", key_apis,
                         "An API it may be presented to: catalyze, pingone, quickblox, commcare, scim or all "
                         "(repeatable; default: all for an admin key, catalyze for an app key)");
  key_create->add_option("--scope", key_scopes,
                         "A scope (repeatable; default: every scope for an admin key, signup for an app key; "
                         "see docs/security.md)");
  key_create->add_option("--identifier", identifier, "Bind the key to this app identifier (default: any)");
  data_options(key_create);
  key_create->add_flag("--json", as_json, "Print one JSON object");
  auto* key_list = key->add_subcommand("list", "List an environment's API keys (never the secrets)");
  key_list->add_option("--env", env_name, "Environment name")->required();
  data_options(key_list);
  key_list->add_flag("--json", as_json, "Print one JSON object");
  auto* key_revoke = key->add_subcommand("revoke", "Revoke an API key");
  key_revoke->add_option("ID", key_id, "Key id")->required();
  data_options(key_revoke);
  key_revoke->add_flag("--json", as_json, "Print one JSON object");

  auto* master_key = app.add_subcommand("master-key", "Manage the master key");
  master_key->require_subcommand(1);
  auto* master_key_rotate = master_key->add_subcommand(
      "rotate", "Replace the master key: re-wrap every data key under a new one (DATA/master.key), crash-safely");
  int master_key_step_delay_ms = 0;
  master_key_rotate->add_option("--step-delay-ms", master_key_step_delay_ms, "")->group("");  // tests kill it there
  data_options(master_key_rotate);
  master_key_rotate->add_flag("--json", as_json, "Print one JSON object");

  auto* migrate = app.add_subcommand("migrate", "Apply pending schema migrations and exit");
  data_options(migrate);

  cli::AuditCommandOptions audit_options;
  auto* audit = app.add_subcommand("audit", "Verify and export the audit trail");
  audit->require_subcommand(1);
  auto* audit_verify = audit->add_subcommand("verify", "Check every record of the hash chain; exit 1 naming the first bad one");
  audit_verify->add_option("--env", audit_options.env, "Environment name or id (default: every environment)");
  data_options(audit_verify);
  audit_verify->add_flag("--json", as_json, "Print one JSON object");
  auto* audit_export = audit->add_subcommand("export", "Print an environment's audit records as JSON Lines");
  audit_export->add_option("--env", audit_options.env, "Environment name or id")->required();
  audit_export->add_option("--since", audit_options.since, "From this time (RFC 3339 UTC, or epoch milliseconds)");
  audit_export->add_option("--until", audit_options.until, "Before this time (RFC 3339 UTC, or epoch milliseconds)");
  audit_export->add_option("--subject", audit_options.subject, "Only records about this user id");
  data_options(audit_export);
  audit_export->add_flag("--json", as_json, "JSON Lines (the only format; accepted for symmetry)");

  auto* routes = app.add_subcommand("routes", "List every route serve mounts: method, path template and API");
  routes->add_flag("--json", as_json, "Print one JSON object");

  cli::ExportOptions export_options;
  auto* export_cmd = app.add_subcommand("export", "Write an environment's users as JSON Lines (SCIM User resources) or CSV");
  export_cmd->add_option("--env", export_options.environment, "Environment name or id")->required();
  export_cmd->add_option("--out", export_options.out, "The file to write (default: standard output)");
  export_cmd->add_option("--format", export_options.format, "jsonl or csv")
      ->capture_default_str()
      ->check(CLI::IsMember({"jsonl", "csv"}));
  export_cmd->add_flag("--with-password-hashes", export_options.with_password_hashes,
                       "Include each user's password hash (argon2id PHC string) in Roster's extension");
  data_options(export_cmd);
  export_cmd->add_flag("--json", as_json, "Print the summary as one JSON object (on standard error with no --out)");
  cli::ImportOptions import_options;
  bool no_progress = false;
  auto* import_cmd = app.add_subcommand("import", "Create users from a JSON Lines or CSV file (resumable)");
  import_cmd->add_option("--env", import_options.environment, "Environment name or id")->required();
  import_cmd->add_option("FILE", import_options.file, "The file to import")->required();
  import_cmd->add_option("--format", import_options.format, "jsonl or csv (default: csv for a .csv file, else jsonl)")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  import_cmd->add_option("--max-errors", import_options.max_errors, "Stop once this many rows were refused (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  import_cmd->add_option("--batch-size", import_options.batch_size, "Users written per transaction")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  import_cmd->add_flag("--no-progress", no_progress, "No progress on standard error");
  data_options(import_cmd);
  import_cmd->add_flag("--json", as_json, "Print the summary as one JSON object");

  cli::CommandTable api_commands;
  cli::AddApiCommands(app, api_commands, as_json, data_options);

  CLI11_PARSE(app, argc, argv);
  try {
    if (init->parsed()) return Init(data_dir, database, as_json);
    if (serve->parsed() || config_show->parsed()) {
      CLI::App& command = serve->parsed() ? *serve : *config_show;
      if (config_file.empty())
        if (const char* v = std::getenv("ROSTER_CONFIG"); v && *v) config_file = v;
      const auto settings = cli::ApplySettings(command, config_file, [](const char* name) { return std::getenv(name); });
      if (config_show->parsed()) return ShowConfig(settings, as_json);
      return Serve(data_dir, database, serve_options);
    }
    if (routes->parsed()) return Routes(as_json);
    if (backup->parsed()) return Backup(data_dir, database, out_file, include_key, passphrase_file, as_json);
    if (restore->parsed()) return Restore(data_dir, from_file, passphrase_file, as_json);
    Context ctx(data_dir, false, {database});
    if (export_cmd->parsed() || import_cmd->parsed()) {
      json::object summary;
      if (export_cmd->parsed()) {
        summary = cli::Export(ctx.Services(), export_options, ctx.audit.get());
      } else {
        import_options.progress = !no_progress;
        summary = cli::Import(ctx.Services(), import_options, ctx.audit.get());
      }
      std::ostream& out = export_cmd->parsed() && export_options.out.empty() ? std::cerr : std::cout;
      if (as_json) {
        out << json::serialize(summary) << std::endl;
      } else if (export_cmd->parsed()) {
        out << "exported " << summary["exported"].as_int64() << " users (" << summary["unreadable"].as_int64()
            << " unreadable skipped)" << std::endl;
      } else {
        out << "imported " << summary["imported"].as_int64() << " users, refused " << summary["refused"].as_int64()
            << ", skipped " << summary["skipped"].as_int64() << " lines a previous run committed"
            << (summary["stopped"].as_bool() ? "; stopped at --max-errors" : "") << std::endl;
      }
      return import_cmd->parsed() && summary["refused"].as_int64() > 0 ? 2 : 0;
    }
    for (const auto& [command, action] : api_commands)
      if (command->parsed()) return cli::RunCommand(action, ctx.Services(), as_json);
    if (migrate->parsed()) std::cout << "roster: schema is up to date" << std::endl;
    if (master_key_rotate->parsed())
      return cli::RotateMasterKey(data_dir, std::getenv("ROSTER_MASTER_KEY") && *std::getenv("ROSTER_MASTER_KEY"),
                                  *ctx.store, *ctx.keyring, *ctx.audit, ctx.clock, master_key_step_delay_ms, as_json);
    if (audit_verify->parsed()) return cli::AuditVerify(*ctx.directory, *ctx.audit, audit_options, as_json);
    if (audit_export->parsed()) return cli::AuditExport(*ctx.directory, *ctx.audit, audit_options);
    if (env_create->parsed()) {
      auto e = OrThrow(ctx.directory->CreateEnvironment(env_name));
      if (as_json) PrintJson(json::object{{"id", e.id}, {"name", e.name}});
      else std::cout << "created environment " << e.name << " (" << e.id << ")" << std::endl;
    } else if (env_set->parsed()) {
      auto e = OrThrow(ctx.directory->ResolveEnvironment(env_name));
      if (auto st = service::Activations(ctx.Services()).SetMode(e.id, *service::ParseActivationMode(catalyze_activation));
          !st)
        throw std::runtime_error(st.error().message);
      if (as_json) PrintJson(json::object{{"id", e.id}, {"name", e.name}, {"catalyzeActivation", catalyze_activation}});
      else std::cout << "environment " << e.name << ": catalyze activation " << catalyze_activation << std::endl;
    } else if (env_rotate->parsed()) {
      return cli::RotateDataKey(*ctx.directory, *ctx.records, *ctx.store, *ctx.audit, env_name, rotate_rate, rotate_status,
                                as_json);
    } else if (env_rotate_index->parsed()) {
      return cli::RotateIndexKey(*ctx.directory, *ctx.records, *ctx.store, *ctx.audit, env_name, rotate_rate,
                                 rotate_status, as_json);
    } else if (env_list->parsed()) {
      json::array a;
      for (const auto& e : OrThrow(ctx.directory->ListEnvironments())) {
        if (as_json) a.push_back(json::object{{"id", e.id}, {"name", e.name}});
        else std::cout << e.id << "  " << e.name << "\n";
      }
      if (as_json) PrintJson(json::object{{"environments", std::move(a)}});
    } else if (key_create->parsed()) {
      service::KeyGrant grant;
      std::string unknown;
      auto apis = core::ParseApis(key_apis, &unknown);
      if (!apis) throw std::runtime_error("unknown API '" + unknown + "'");
      grant.apis = *apis;
      grant.scopes = OrThrow(core::ScopesFromNames(key_scopes));
      auto k = OrThrow(ctx.directory->CreateApiKey(env_name, *service::ParseRole(role), identifier, grant));
      if (auto st = ctx.audit->Record(ctx.audit->CommandRow(k.info.environment_id, "key create", "credential.create",
                                                             k.info.id, nullptr, service::kAuditCredentials));
          !st)
        throw std::runtime_error(st.error().message);
      if (as_json) {
        PrintJson(json::object{{"key", k.secret},
                               {"id", k.info.id},
                               {"role", role},
                               {"identifier", identifier},
                               {"apis", Strings(core::ApiNames(k.info.apis))},
                               {"scopes", Strings(core::ScopeNames(k.info.scopes))}});
      } else {
        std::cout << "key id " << k.info.id << " (" << role << ")\napis: " << Join(core::ApiNames(k.info.apis))
                  << "\nscopes: " << Join(core::ScopeNames(k.info.scopes)) << "\nsecret (shown once): " << k.secret
                  << std::endl;
      }
    } else if (key_list->parsed()) {
      json::array a;
      for (const auto& k : OrThrow(ctx.directory->ListApiKeys(env_name))) {
        if (as_json) {
          a.push_back(json::object{{"id", k.id},
                                   {"role", service::RoleName(k.role)},
                                   {"identifier", k.identifier},
                                   {"apis", Strings(core::ApiNames(k.apis))},
                                   {"scopes", Strings(core::ScopeNames(k.scopes))},
                                   {"createdAt", core::FormatTimestamp(k.created_at_ms, false)},
                                   {"revoked", k.revoked}});
        } else {
          std::cout << k.id << "  " << service::RoleName(k.role) << "  "
                    << (k.identifier.empty() ? "*" : k.identifier) << "  " << Join(core::ApiNames(k.apis)) << "  "
                    << Join(core::ScopeNames(k.scopes)) << "  " << core::FormatTimestamp(k.created_at_ms, false) << (k.revoked ? "  revoked" : "") << "\n";
        }
      }
      if (as_json) PrintJson(json::object{{"keys", std::move(a)}});
    } else if (key_revoke->parsed()) {
      auto st = ctx.directory->RevokeApiKey(key_id);
      if (!st) throw std::runtime_error(st.error().message);
      if (as_json) PrintJson(json::object{{"id", key_id}, {"revoked", true}});
      else std::cout << "revoked " << key_id << std::endl;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "roster: " << e.what() << std::endl;
    return 1;
  }
}
