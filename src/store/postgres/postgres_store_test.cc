// Runs against the server named by ROSTER_TEST_POSTGRES_DSN (a superuser DSN, e.g. the
// one scripts/pg-test-cluster.sh prints); every test gets a database of its own, dropped
// when the program ends. Without the variable every test is skipped.
#include "store/postgres/postgres_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/postgres/notification_watch.h"
#include "store/store_conformance.h"

namespace roster::store::postgres {
namespace {

using core::ErrorCode;

constexpr const char* kDsnVariable = "ROSTER_TEST_POSTGRES_DSN";

const char* ServerDsn() {
  const char* v = std::getenv(kDsnVariable);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

// A plain libpq session for test setup. SQL here only ever embeds names the test made.
class Admin {
 public:
  explicit Admin(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string message = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("admin connection: " + message);
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~Admin() { PQfinish(conn_); }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Returns the first column of the first row, or "" if there is none.
  std::string Query(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(r);
    std::string out;
    if (status == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    const std::string error = PQresultErrorMessage(r);
    PQclear(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(sql + ": " + error);
    return out;
  }

 private:
  PGconn* conn_;
};

// The DSN of another database on the server `dsn` points at, in keyword form (a URI
// cannot simply have a dbname appended).
std::string DsnFor(const std::string& dsn, const std::string& database) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    const std::string message = error ? error : "out of memory";
    PQfreemem(error);
    throw std::runtime_error("cannot parse " + std::string(kDsnVariable) + ": " + message);
  }
  std::string out;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "dbname") continue;
    out += std::string(o->keyword) + "='";
    for (const char ch : std::string_view(o->val)) {
      if (ch == '\\' || ch == '\'') out += '\\';
      out += ch;
    }
    out += "' ";
  }
  PQconninfoFree(options);
  return out + "dbname='" + database + "'";
}

struct Database {
  std::string name;
  std::string dsn;
};

// Creates empty databases and drops them once every test (and so every store) is done.
class Databases : public ::testing::Environment {
 public:
  Database Create() {
    static std::atomic<int> counter{0};
    // pid + counter is unique on this host; the random part keeps hosts sharing a server apart.
    const std::string name = "roster_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                             std::to_string(std::random_device{}() % 1000000);
    Admin(ServerDsn()).Query("CREATE DATABASE " + name);
    std::lock_guard lock(mu_);
    names_.push_back(name);
    return {name, DsnFor(ServerDsn(), name)};
  }

  void TearDown() override {
    if (names_.empty()) return;
    try {
      Admin admin(ServerDsn());
      for (const auto& name : names_) admin.Query("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "warning: test databases left behind: %s\n", e.what());  // best effort
    }
  }

 private:
  std::mutex mu_;
  std::vector<std::string> names_;
};

Databases* const databases = static_cast<Databases*>(::testing::AddGlobalTestEnvironment(new Databases));

void SkipWithoutServer() { GTEST_SKIP() << kDsnVariable << " is not set"; }

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformanceTest,
                         ::testing::Values(NamedStoreFactory{"postgres", []() -> std::unique_ptr<Store> {
                           if (ServerDsn() == nullptr) {
                             SkipWithoutServer();  // the fixture's SetUp then stops here
                             return nullptr;
                           }
                           return Open({databases->Create().dsn});
                         }}));

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ServerDsn() == nullptr) GTEST_SKIP() << kDsnVariable << " is not set";
  }

  // Ends every session on `db` and waits until the server has reaped them.
  static void TerminateSessions(const Database& db) {
    Admin admin(ServerDsn());
    // Client sessions only: an autovacuum worker may come and go on the database too.
    const std::string where =
        "WHERE datname = '" + db.name + "' AND pid <> pg_backend_pid() AND backend_type = 'client backend'";
    admin.Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity " + where);
    for (int i = 0; i < 200 && admin.Query("SELECT count(*) FROM pg_stat_activity " + where) != "0"; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(admin.Query("SELECT count(*) FROM pg_stat_activity " + where), "0");
  }
};

TEST_F(PostgresStoreTest, ReopensExistingDatabaseWithoutRemigrating) {
  const Database db = databases->Create();
  {
    auto store = Open({db.dsn, 2});
    ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
  }
  auto store = Open({db.dsn, 2});
  EXPECT_EQ(store->FindEnvironmentByName("default")->id, "e");
  EXPECT_EQ(Admin(db.dsn).Query("SELECT count(*) FROM schema_migrations"), "9");  // 8: no audit index by subject, 9: user blocks
}

TEST_F(PostgresStoreTest, BytesRoundTripExactly) {
  auto store = Open({databases->Create().dsn, 2});
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<char>(i));
  const std::string digest("\0\xff\0", 3);

  ASSERT_TRUE(store->CreateEnvironment({"e", "default", "", 1}).has_value());
  EXPECT_EQ(store->FindEnvironmentById("e")->wrapped_key, "");  // empty, not NULL
  ASSERT_TRUE(store->CreateApiKey({"k", "e", "admin", "", digest, 2, std::nullopt}).has_value());
  EXPECT_EQ(store->FindApiKeyByDigest(digest)->digest, digest);
  EXPECT_EQ(store->FindApiKeyByDigest(std::string("\0\xff", 2)).error().code, ErrorCode::kNotFound);

  NewUser u;
  u.row = UserRow{"u", 0, "e", true, 1, 1, 1, every_byte};
  u.index = {{"username", digest, true}};
  u.session = SessionRow{every_byte, "e", "u", 1, 1, -1};
  ASSERT_TRUE(store->InsertUser(u).has_value());
  auto got = store->GetUser("e", "u");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->sealed, every_byte);
  EXPECT_TRUE(got->active);
  EXPECT_EQ(store->FindUsers("e", "username", digest)->size(), 1u);
  auto session = store->FindSession(every_byte);
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->digest, every_byte);
  EXPECT_EQ(session->expires_at_ms, -1);
}

TEST_F(PostgresStoreTest, TextThatIsNotUtf8IsRejectedAndTheConnectionStaysUsable) {
  auto store = Open({databases->Create().dsn, 1});
  EXPECT_EQ(store->FindEnvironmentByName("\xff").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store->FindEnvironmentByName("default").error().code, ErrorCode::kNotFound);
}

TEST_F(PostgresStoreTest, ConcurrentUpdatesOfOneVersionHaveOneWinner) {
  auto store = Open({databases->Create().dsn, 8});
  ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
  NewUser u;
  u.row = UserRow{"u", 0, "e", false, 1, 1, 1, "v1"};
  ASSERT_TRUE(store->InsertUser(u).has_value());
  std::atomic<int> ok{0}, aborted{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      UserUpdate up;
      up.row = UserRow{"u", 0, "e", true, 1, 2, 2, "v2-" + std::to_string(i)};
      up.expected_version = 1;
      auto r = store->UpdateUser(up);
      if (r) ++ok;
      else if (r.error().code == ErrorCode::kAborted) ++aborted;
      else ++other;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(aborted, 7);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(store->GetUser("e", "u")->version, 2);
}

TEST_F(PostgresStoreTest, SessionsEndedWhileIdleAreReplacedBeforeAnyCallUsesThem) {
  const Database db = databases->Create();
  auto store = Open({db.dsn, 4});
  ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
  // Warm every pooled session, then end them all (a restart or failover looks the same).
  std::vector<std::thread> warm;
  for (int i = 0; i < 4; ++i) warm.emplace_back([&] { EXPECT_TRUE(store->FindEnvironmentById("e").has_value()); });
  for (auto& t : warm) t.join();
  ASSERT_NO_FATAL_FAILURE(TerminateSessions(db));
  // No call was on them, so no call fails: reads and writes alike, from several threads
  // so that every pooled session is met.
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto found = store->FindEnvironmentByName("default");
      if (!found) ADD_FAILURE() << "read: " << found.error().message;
      auto created = store->CreateEnvironment({"e" + std::to_string(i + 2), "env" + std::to_string(i), "w", 2});
      if (!created) ADD_FAILURE() << "write: " << created.error().message;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(store->ListEnvironments()->size(), 5u);
}

TEST_F(PostgresStoreTest, ACallOnASessionThatIsEndedFailsUnavailableAndTheNextOneSucceeds) {
  const Database db = databases->Create();
  auto store = Open({db.dsn, 1});
  ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
  NewUser u;
  u.row = UserRow{"u", 0, "e", false, 1, 1, 1, "v1"};
  ASSERT_TRUE(store->InsertUser(u).has_value());
  // Another session holds the user's row, so the update waits on it mid-transaction.
  Admin holder(db.dsn);
  holder.Query("BEGIN; SELECT 1 FROM users WHERE id = 'u' FOR UPDATE");
  UserUpdate up;
  up.row = UserRow{"u", 0, "e", true, 1, 2, 2, "v2"};
  up.expected_version = 1;
  Status during = core::NotFound("not run");
  std::thread updater([&] { during = store->UpdateUser(up); });
  Admin admin(ServerDsn());
  const std::string waiting = "FROM pg_stat_activity WHERE datname = '" + db.name +
                              "' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND backend_type = 'client backend'";
  for (int i = 0; i < 200 && admin.Query("SELECT count(*) " + waiting) != "1"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_EQ(admin.Query("SELECT count(pg_terminate_backend(pid)) " + waiting), "1");
  updater.join();
  ASSERT_FALSE(during.has_value());
  EXPECT_EQ(during.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(during.error().message, "database unavailable");
  holder.Query("ROLLBACK");
  // Nothing of the interrupted call was kept, and the pool's one session works again.
  EXPECT_EQ(store->GetUser("e", "u")->version, 1);
  EXPECT_TRUE(store->UpdateUser(up).has_value());
  EXPECT_EQ(store->GetUser("e", "u")->sealed, "v2");
}

// A bulk import's batch (InsertUsers) is written with a statement per table when nothing
// in it is refused, and user by user only when that one pass fails, for whatever reason.
// A statement trigger counts the statements that insert into user_index (a rolled-back
// pass's count rolls back with it); a second one fails every multi-row insert there, as
// any server error would fail the pass.
TEST_F(PostgresStoreTest, ABatchIsWrittenInOnePassAndUserByUserOnlyWhenThatPassFails) {
  const Database db = databases->Create();
  auto store = Open({db.dsn, 1});
  ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
  Admin admin(db.dsn);
  admin.Query(
      "CREATE TABLE index_statements(n BIGINT NOT NULL); INSERT INTO index_statements VALUES (0);"
      "CREATE FUNCTION count_index_statement() RETURNS trigger LANGUAGE plpgsql AS "
      "$$BEGIN UPDATE index_statements SET n = n + 1; RETURN NULL; END$$;"
      "CREATE TRIGGER count_index_statements AFTER INSERT ON user_index "
      "FOR EACH STATEMENT EXECUTE FUNCTION count_index_statement()");
  auto statements = [&] { return admin.Query("SELECT n FROM index_statements"); };
  auto batch_of = [](const std::string& prefix, int n) {
    UserBatch b;
    for (int i = 0; i < n; ++i) {
      NewUser u;
      const std::string id = prefix + std::to_string(i);
      u.row = UserRow{id, 0, "e", true, 1, 1, 1, "sealed:" + id};
      u.index = {{"username", id, true}, {"email", "shared", false}};
      b.users.push_back(std::move(u));
    }
    return b;
  };

  auto clean = store->InsertUsers(batch_of("a", 20));
  ASSERT_TRUE(clean.has_value()) << clean.error().message;
  for (const auto& r : *clean) EXPECT_TRUE(r.has_value());
  EXPECT_EQ(statements(), "1");  // the batch's 40 entries at once

  UserBatch mixed = batch_of("b", 5);
  mixed.users[2].index[0].digest = "a3";  // taken: the pass fails, b2 is refused alone
  auto written = store->InsertUsers(mixed);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  for (int i : {0, 1, 3, 4}) EXPECT_TRUE((*written)[i].has_value()) << i;
  ASSERT_FALSE((*written)[2].has_value());
  EXPECT_EQ((*written)[2].error().field, "username");
  EXPECT_EQ(statements(), "9");  // one per entry of the 4 users that landed

  admin.Query(
      "CREATE FUNCTION refuse_many() RETURNS trigger LANGUAGE plpgsql AS "
      "$$BEGIN IF (SELECT count(*) FROM inserted) > 1 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NULL; END$$;"
      "CREATE TRIGGER refuse_many AFTER INSERT ON user_index REFERENCING NEW TABLE AS inserted "
      "FOR EACH STATEMENT EXECUTE FUNCTION refuse_many()");
  auto fallback = store->InsertUsers(batch_of("c", 10));
  ASSERT_TRUE(fallback.has_value()) << fallback.error().message;
  for (std::size_t i = 0; i < fallback->size(); ++i) {
    ASSERT_TRUE((*fallback)[i].has_value()) << i;
    if (i > 0) {
      EXPECT_GT(*(*fallback)[i], *(*fallback)[i - 1]);
    }
    const std::string id = "c" + std::to_string(i);
    auto found = store->FindUsers("e", "username", id);
    ASSERT_TRUE(found.has_value());
    ASSERT_EQ(found->size(), 1u);
    EXPECT_EQ(found->front().number, *(*fallback)[i]);
  }
  EXPECT_EQ(statements(), "29");
  EXPECT_EQ(store->FindUsers("e", "email", "shared")->size(), 34u);
}

// Collects what a key watch tells, for tests to wait on.
class Heard {
 public:
  KeyChangeListener Listener() {
    return [this](bool live) {
      std::lock_guard lock(mu_);
      said_.push_back(live);
      cv_.notify_all();
    };
  }
  // Waits (up to 10 s) until the watch has said `live`; drops everything said up to it.
  bool WaitFor(bool live) {
    std::unique_lock lock(mu_);
    const bool heard = cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      return std::find(said_.begin(), said_.end(), live) != said_.end();
    });
    if (heard) said_.erase(said_.begin(), std::find(said_.begin(), said_.end(), live) + 1);
    return heard;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bool> said_;
};

// Migration 9 counts each environment's users per 1,024 numbers as rows of changes (a row
// per block a statement touched). A database from before it is counted once when it
// opens; every write after appends changes (a batch in one pass, single creates, a
// refused user adding none, deletes); once they pile up a reader folds them into a row
// per block, and every position and the count agree with a walk in number order before
// and after. Deleting an environment takes its rows with it.
TEST_F(PostgresStoreTest, UserBlockChangesAreCountedOnceFoldedWhenTheyPileUpAndGoWithTheEnvironment) {
  const Database db = databases->Create();
  int made = 0;
  const auto user = [&](const std::string& env) {
    NewUser u;
    const std::string id = "u" + std::to_string(made++);
    u.row = UserRow{id, 0, env, true, 1, 1, 1, "sealed:" + id};
    u.index = {{"username", id, true}};
    return u;
  };
  const auto batch_of = [&](int n) {
    UserBatch b;
    for (int i = 0; i < n; ++i) b.users.push_back(user(made % 3 == 0 ? "f" : "e"));
    return b;
  };
  {
    auto store = Open({db.dsn, 2});
    ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
    ASSERT_TRUE(store->CreateEnvironment({"f", "other", "w", 1}).has_value());
    for (int b = 0; b < 3; ++b) ASSERT_TRUE(store->InsertUsers(batch_of(1000)).has_value());
  }
  Admin admin(db.dsn);
  admin.Query(
      "DROP TRIGGER users_block_in ON users; DROP TRIGGER users_block_out ON users;"
      "DROP FUNCTION roster_users_added(); DROP FUNCTION roster_users_removed();"
      "DROP TABLE user_block_changes; DELETE FROM schema_migrations WHERE version >= 9");
  auto store = Open({db.dsn, 2});
  const auto changes = [&](const std::string& env) {
    return std::stoll(admin.Query("SELECT count(*) FROM user_block_changes WHERE environment_id = '" + env + "'"));
  };
  const auto agree = [&](const std::string& env) {
    std::vector<std::int64_t> numbers;
    const auto users = store->ListUsers(env, 0, 5000);
    ASSERT_TRUE(users.has_value());
    for (const auto& u : *users) numbers.push_back(u.number);
    EXPECT_EQ(*store->CountUsers(env), static_cast<std::int64_t>(numbers.size())) << env;
    for (std::size_t p = 0; p < numbers.size(); p += 7) {
      ASSERT_EQ(*store->UserNumberAt(env, static_cast<std::int64_t>(p)), numbers[p]) << env << " position " << p;
    }
    ASSERT_EQ(*store->UserNumberAt(env, static_cast<std::int64_t>(numbers.size()) - 1), numbers.back()) << env;
    EXPECT_EQ(*store->UserNumberAt(env, static_cast<std::int64_t>(numbers.size())), 0) << env;
  };
  agree("e");
  agree("f");
  EXPECT_EQ(changes("e"), 3);  // counted once: a row per block (numbers 1 to 3,000)

  UserBatch more = batch_of(600);
  more.users.push_back(user("e"));
  more.users.back().index[0].digest = "u1";  // refused: its claim is taken, and not counted
  auto written = store->InsertUsers(more);
  ASSERT_TRUE(written.has_value());
  EXPECT_FALSE(written->back().has_value());
  for (int i = 0; i < 150; ++i) ASSERT_TRUE(store->InsertUser(user("e")).has_value());
  const auto listed = store->ListUsers("e", 0, 5000);
  ASSERT_TRUE(listed.has_value());
  for (const auto& u : *listed) {
    if (u.number % 4 == 0 || (u.number > 1100 && u.number < 2100)) {
      ASSERT_TRUE(store->DeleteUser("e", u.id).has_value());
    }
  }
  EXPECT_GT(changes("e"), 200);  // a row per single create and per delete
  agree("e");                    // reading folds them
  // One row per block its users are in (blocks emptied by the deletes are gone).
  EXPECT_EQ(changes("e"), std::stoll(admin.Query("SELECT count(DISTINCT number >> 10) FROM users WHERE environment_id = 'e'")));
  agree("e");
  agree("f");

  // No store call deletes an environment; the schema's cascade does (the trigger must
  // add no change row for an environment being deleted, or its foreign key would fail).
  admin.Query("DELETE FROM environments WHERE id = 'f'");
  EXPECT_EQ(admin.Query("SELECT count(*) FROM users WHERE environment_id = 'f'"), "0");
  EXPECT_EQ(changes("f"), 0);
  agree("e");
}

TEST_F(PostgresStoreTest, AKeyRevokedByAnotherProcessIsHeardByTheWatch) {
  const Database db = databases->Create();
  auto watching = Open({db.dsn, 1});
  auto other = Open({db.dsn, 1});  // stands for `roster key revoke` or another server
  ASSERT_TRUE(other->CreateEnvironment({"e", "default", "w", 1}).has_value());
  ASSERT_TRUE(other->CreateApiKey({"k", "e", "app", "", "digest", 1, std::nullopt}).has_value());
  Heard heard;
  auto watch = watching->WatchApiKeys(heard.Listener());
  ASSERT_NE(watch, nullptr);
  ASSERT_TRUE(heard.WaitFor(true));  // listening
  ASSERT_TRUE(other->RevokeApiKey("k", 2).has_value());
  EXPECT_TRUE(heard.WaitFor(true));
  EXPECT_TRUE(watching->FindApiKeyByDigest("digest")->revoked_at_ms.has_value());
}

TEST_F(PostgresStoreTest, AKeyWatchThatLosesItsSessionSaysSoThenListensAgain) {
  const Database db = databases->Create();
  auto store = Open({db.dsn, 1});
  ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
  ASSERT_TRUE(store->CreateApiKey({"k", "e", "app", "", "digest", 1, std::nullopt}).has_value());
  Heard heard;
  auto watch = store->WatchApiKeys(heard.Listener());
  ASSERT_TRUE(heard.WaitFor(true));
  Admin(ServerDsn()).Query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
                           db.name + "' AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
  EXPECT_TRUE(heard.WaitFor(false));  // caches stop trusting what they hold
  EXPECT_TRUE(heard.WaitFor(true));   // reconnected and listening again
  Status revoked = core::NotFound("not tried");
  for (int attempt = 0; attempt < 3 && !revoked; ++attempt) revoked = store->RevokeApiKey("k", 2);
  ASSERT_TRUE(revoked.has_value());
  EXPECT_TRUE(heard.WaitFor(true));
}

TEST(PostgresKeyWatchTest, StopsPromptlyWhileTheServerIsUnreachable) {
  Heard heard;
  auto started = std::chrono::steady_clock::now();
  {
    // Port 1 on loopback refuses connections: the watch keeps retrying with backoff.
    NotificationWatch watch("postgresql://roster@127.0.0.1:1/none", "roster_api_keys", heard.Listener(), {});
    EXPECT_TRUE(heard.WaitFor(false));
    started = std::chrono::steady_clock::now();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
}

TEST_F(PostgresStoreTest, ProcessesMigratingAnEmptyDatabaseAtOnceAllSucceed) {
  for (int round = 0; round < 3; ++round) {
    const Database db = databases->Create();
    constexpr int kOpeners = 2;
    std::latch start(kOpeners);
    std::unique_ptr<Store> stores[kOpeners];
    std::string errors[kOpeners];
    std::vector<std::thread> threads;
    for (int i = 0; i < kOpeners; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        try {
          stores[i] = Open({db.dsn, 2});
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kOpeners; ++i) ASSERT_TRUE(stores[i]) << errors[i];
    EXPECT_EQ(Admin(db.dsn).Query("SELECT count(*) FROM schema_migrations"), "9");  // 8: no audit index by subject, 9: user blocks
    ASSERT_TRUE(stores[0]->CreateEnvironment({"e", "default", "w", 1}).has_value());
    EXPECT_EQ(stores[1]->FindEnvironmentByName("default")->id, "e");
  }
}

// Needs no server: nothing listens on port 1.
TEST(PostgresStoreOpenTest, RefusesAnUnreachableServer) {
  EXPECT_THROW(Open({"postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2"}), std::runtime_error);
}

}  // namespace
}  // namespace roster::store::postgres
