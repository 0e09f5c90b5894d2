// roster: the composition root. Parses the command line, builds the store, crypto and
// services once, and runs one subcommand; the APIs it serves and whose subcommands it
// offers are listed in registry.cc. The only code that names concrete adapters.
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <toml++/toml.h>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "core/clock.h"
#include "core/rules.h"
#include "crypto/crypto.h"
#include "cli/registry.h"
#include "mail/smtp_transport.h"
#include "service/activations.h"
#include "service/housekeeper.h"
#include "service/mail_sender.h"
#include "service/record_service.h"
#include "http/server.h"
#include "service/directory_service.h"
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

void WriteConfig(const std::string& data_dir, const std::string& database) {
  const fs::path path = fs::path(data_dir) / "roster.toml";
  toml::table config{{"database", database}};
  {
    std::ofstream out(path, std::ios::trunc);
    out << "# written by roster init\n" << config << "\n";
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);  // may hold a password
}

struct StoreOptions {
  std::string database;  // empty: the configured one, else SQLite in the data dir
  int pool_size = 1;     // PostgreSQL sessions: one call at a time, but serve's --db-pool-size
  crypto::PasswordParams password{};
  service::SessionPolicy sessions{};
  service::SignInPolicy sign_in{};
  service::ThrottlePolicy throttle{};
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
    directory = std::make_unique<service::DirectoryService>(*store, *keyring, clock);
    hasher = std::make_unique<crypto::PasswordHasher>(options.password);
    users = std::make_unique<service::UserService>(*store, *directory, *keyring, *hasher, clock, options.sessions,
                                                   options.sign_in, options.throttle);
    records = std::make_unique<service::RecordService>(*store, *directory, clock);
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
  cli::ResolveApiSettings(o.apis);
  service::ThrottlePolicy throttle;
  if (o.throttle_per_address >= 0) throttle.SetPerAddress(o.throttle_per_address);
  if (o.throttle_per_credential >= 0) throttle.SetPerCredential(o.throttle_per_credential);
  Context ctx(data_dir, false,
              {database, o.db_pool_size, {o.argon2_ops, o.argon2_memory_kib * 1024, o.hash_threads},
               {o.session_idle_s * 1000, o.session_lifetime_s * 1000},
               {o.signin_max_attempts, o.signin_window_s * 1000,
                o.signin_max_attempts_per_user >= 0 ? o.signin_max_attempts_per_user : 10 * o.signin_max_attempts},
               throttle});
  auto logger = spdlog::stderr_logger_mt("roster");
  // PostgreSQL tells every process of a key revocation, so lookups can be kept in memory.
  if (ctx.directory->EnableKeyCache()) logger->info("API key lookups cached; revocations heard via LISTEN/NOTIFY");
  std::shared_ptr<spdlog::logger> access =
      o.access_log.empty() ? spdlog::stderr_logger_mt("access") : spdlog::basic_logger_mt("access", o.access_log);
  access->set_pattern("%v");
  access->flush_on(spdlog::level::info);

  std::unique_ptr<mail::SmtpTransport> smtp;
  if (!o.smtp_url.empty()) smtp = std::make_unique<mail::SmtpTransport>(mail::SmtpOptions{o.smtp_url, o.smtp_from, o.smtp_starttls});
  service::MailSenderOptions mail_options;
  mail_options.log = [logger](const std::string& line) { logger->info(line); };
  service::MailSender mail_sender(*ctx.store, *ctx.directory, smtp.get(), ctx.clock, mail_options);
  mail_sender.Start();
  service::HousekeeperOptions housekeeping;
  housekeeping.counter_retention_ms = std::max<std::int64_t>(o.signin_window_s * 1000, 24 * 3600'000);
  housekeeping.log = [logger](const std::string& line) { logger->warn(line); };
  housekeeping.session_idle_ms = o.session_idle_s * 1000;
  housekeeping.session_lifetime_ms = o.session_lifetime_s * 1000;
  service::Housekeeper housekeeper(*ctx.store, ctx.clock, housekeeping);
  housekeeper.Start();

  http::Router router;
  router.Add("GET", "/healthz", http::Exec::kInline, [](const http::Request&, const http::PathParams&) {
    return http::Response::Json(200, R"({"status":"ok"})");
  });
  cli::MountApis(router, ctx.Services(), o.apis);

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
  so.access_log = [access](const http::AccessRecord& r) {
    json::object line{{"ts", core::FormatTimestamp(core::SystemClock().NowMillis(), true)},
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
  const auto port = server.Start();
  std::cout << "roster listening on " << (so.tls ? "https" : "http") << "://"
            << (so.host.find(':') != std::string::npos ? "[" + so.host + "]" : so.host) << ":" << port
            << std::endl;
  server.Run();
  logger->info("roster stopped");
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
  constexpr std::int64_t kMaxSessionSeconds = 10LL * 366 * 86400;  // ten years; milliseconds stay in range
  auto* serve = app.add_subcommand("serve", "Serve the HTTP APIs until SIGINT/SIGTERM");
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
  cli::AddApiOptions(*serve, serve_options.apis);

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

  auto* migrate = app.add_subcommand("migrate", "Apply pending schema migrations and exit");
  data_options(migrate);

  cli::CommandTable api_commands;
  cli::AddApiCommands(app, api_commands, as_json, data_options);

  CLI11_PARSE(app, argc, argv);
  try {
    if (init->parsed()) return Init(data_dir, database, as_json);
    if (serve->parsed()) return Serve(data_dir, database, serve_options);
    Context ctx(data_dir, false, {database});
    for (const auto& [command, action] : api_commands)
      if (command->parsed()) return cli::RunCommand(action, ctx.Services(), as_json);
    if (migrate->parsed()) std::cout << "roster: schema is up to date" << std::endl;
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
