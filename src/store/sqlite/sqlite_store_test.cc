#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "store/store_conformance.h"

namespace roster::store::sqlite {
namespace {

std::string TempDbPath() {
  static std::atomic<int> counter{0};
  const auto dir = std::filesystem::temp_directory_path() /
                   ("roster-sqlite-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "roster.db").string();
}

// Runs `sql` on the database at `path` outside the store: taking a migration back out,
// as a database of an earlier release is.
void AsOlderRelease(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}
// Migrations 9 (user_counts) and 10 (user_blocks) taken back out, their versions not.
constexpr const char* kWithoutUserCounts =
    "DROP TRIGGER users_count_in; DROP TRIGGER users_count_out; DROP TABLE user_counts;";
constexpr const char* kWithoutUserBlocks =
    "DROP TRIGGER users_block_in; DROP TRIGGER users_block_out; DROP TABLE user_blocks;";

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
                         ::testing::Values(NamedStoreFactory{"sqlite", [] { return Open({TempDbPath()}); }}));

TEST(SqliteStoreTest, ReopensExistingDatabaseWithoutRemigrating) {
  const std::string path = TempDbPath();
  {
    auto store = Open({path});
    ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
  }
  auto store = Open({path});
  EXPECT_EQ(store->FindEnvironmentByName("default")->id, "e");
}

TEST(SqliteStoreTest, BackupCopiesAConsistentDatabaseThatPassesItsIntegrityCheck) {
  const std::string path = TempDbPath();
  auto store = Open({path});
  ASSERT_TRUE(store->CreateEnvironment({"env-1", "default", "wrapped", 1}).has_value());
  const std::string copy = path + ".backup";
  ASSERT_TRUE(store->BackupTo(copy).has_value());
  // Writes after the copy are not in it; the copy opens as a store of its own.
  ASSERT_TRUE(store->CreateEnvironment({"env-2", "later", "wrapped", 2}).has_value());
  auto integrity = IntegrityCheck(copy);
  ASSERT_TRUE(integrity.has_value());
  EXPECT_EQ(*integrity, "ok");
  auto restored = Open({copy});
  auto environments = restored->ListEnvironments();
  ASSERT_TRUE(environments.has_value());
  ASSERT_EQ(environments->size(), 1u);
  EXPECT_EQ((*environments)[0].name, "default");
  EXPECT_FALSE(IntegrityCheck(path + ".missing").has_value());
}

// Migration 8 rebuilds `audit_log` clustered on its key (WITHOUT ROWID) and drops the
// index by subject. A database whose trail was written in the older shape keeps every
// record, byte for byte, and the chain goes on from its head.
TEST(SqliteStoreTest, TheAuditTrailOfAnOlderDatabaseMovesToOneBTreeWithEveryRecordKept) {
  const std::string path = TempDbPath();
  auto row = [](std::string subject) {
    AuditRow r;
    r.environment_id = "env-1";
    r.at_ms = 1000;
    r.principal_kind = "api-key";
    r.principal_id = "key-1";
    r.api = "catalyze";
    r.route = "GET /v2/users/{id}";
    r.request_id = "req";
    r.action = "read";
    r.subject = std::move(subject);
    r.outcome = "ok";
    r.fields = "profile,phi";
    return r;
  };
  auto mac = [](std::string_view bytes) { return std::string(32, static_cast<char>(bytes.size() & 0x7f)); };
  std::vector<AuditRow> before;
  {
    auto store = Open({path});
    store->SetAuditMac(mac);
    ASSERT_TRUE(store->CreateEnvironment({"env-1", "default", "w", 1}).has_value());
    ASSERT_TRUE(store->AppendAudit({row("user-1"), row("user-2"), row("user-3")}).has_value());
    before = *store->ListAudit("env-1", 0, 100);
    ASSERT_EQ(before.size(), 3u);
  }
  // Put the trail back in migration 5's shape (a rowid table and the subject index) and
  // forget migration 8, as a database written by the previous release is.
  const char* older = R"sql(
CREATE TABLE audit_log_old AS SELECT * FROM audit_log;
DROP TABLE audit_log;
CREATE TABLE audit_log (
  environment_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, principal_kind TEXT NOT NULL,
  principal_id TEXT NOT NULL, principal_user TEXT NOT NULL, api TEXT NOT NULL, route TEXT NOT NULL,
  request_id TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL, outcome TEXT NOT NULL,
  fields TEXT NOT NULL, prev BLOB NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (environment_id, seq));
INSERT INTO audit_log SELECT * FROM audit_log_old;
DROP TABLE audit_log_old;
CREATE INDEX audit_log_by_subject ON audit_log(environment_id, subject);
DELETE FROM schema_migrations WHERE version >= 8;
)sql";
  ASSERT_NO_FATAL_FAILURE(AsOlderRelease(path, std::string(older) + kWithoutUserCounts + kWithoutUserBlocks));

  auto store = Open({path});
  store->SetAuditMac(mac);
  auto after = store->ListAudit("env-1", 0, 100);
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ((*after)[i].seq, before[i].seq);
    EXPECT_EQ((*after)[i].subject, before[i].subject);
    EXPECT_EQ((*after)[i].fields, before[i].fields);
    EXPECT_EQ((*after)[i].prev, before[i].prev);
    EXPECT_EQ((*after)[i].hash, before[i].hash);
  }
  ASSERT_TRUE(store->AppendAudit({row("user-4")}).has_value());
  auto grown = store->ListAudit("env-1", 0, 100);
  ASSERT_EQ(grown->size(), 4u);
  EXPECT_EQ(grown->back().seq, 4);
  EXPECT_EQ(grown->back().prev, before.back().hash);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string shape;
  int indexes = -1;
  sqlite3_exec(
      db, "SELECT sql FROM sqlite_master WHERE name = 'audit_log'",
      [](void* out, int, char** v, char**) { *static_cast<std::string*>(out) = v[0] ? v[0] : ""; return 0; }, &shape,
      nullptr);
  sqlite3_exec(
      db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_log' AND sql IS NOT NULL",
      [](void* out, int, char** v, char**) { *static_cast<int*>(out) = std::atoi(v[0]); return 0; }, &indexes,
      nullptr);
  sqlite3_close(db);
  EXPECT_NE(shape.find("WITHOUT ROWID"), std::string::npos) << shape;
  EXPECT_EQ(indexes, 0);
}

NewUser User(const std::string& id, const std::string& username) {
  NewUser u;
  u.row = UserRow{id, 0, "e", false, 1000, 1000, 1, "sealed:" + id};
  u.index = {{"username", username, true}};
  return u;
}

// Migration 9 keeps each environment's number of users in `user_counts` by triggers. A
// database written before it gets the counts of the users it holds, and every insert
// (one or a batch) and delete after that moves them in its own transaction.
TEST(SqliteStoreTest, UserCountsOfAnOlderDatabaseAreCountedOnceAndThenKeptByEveryWrite) {
  const std::string path = TempDbPath();
  {
    auto store = Open({path});
    ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
    ASSERT_TRUE(store->CreateEnvironment({"f", "other", "w", 1}).has_value());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->InsertUser(User("u" + std::to_string(i), "n" + std::to_string(i))));
  }
  ASSERT_NO_FATAL_FAILURE(AsOlderRelease(
      path, std::string(kWithoutUserCounts) + kWithoutUserBlocks + "DELETE FROM schema_migrations WHERE version >= 9;"));

  auto store = Open({path});
  EXPECT_EQ(*store->CountUsers("e"), 3);
  EXPECT_EQ(*store->CountUsers("f"), 0);
  UserBatch batch;
  for (int i = 3; i < 6; ++i) batch.users.push_back(User("u" + std::to_string(i), "n" + std::to_string(i)));
  batch.users.push_back(User("dup", "n0"));  // refused: its claim is taken, and not counted
  auto written = store->InsertUsers(batch);
  ASSERT_TRUE(written.has_value());
  EXPECT_FALSE((*written)[3].has_value());
  EXPECT_EQ(*store->CountUsers("e"), 6);
  NewUser elsewhere = User("x", "x");
  elsewhere.row.environment_id = "f";
  ASSERT_TRUE(store->InsertUser(elsewhere).has_value());
  EXPECT_EQ(*store->CountUsers("f"), 1);
  ASSERT_TRUE(store->DeleteUser("e", "u1").has_value());
  EXPECT_EQ(store->DeleteUser("e", "u1").error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(*store->CountUsers("e"), 5);
  EXPECT_EQ(store->InsertUser(User("dup", "n2")).error().code, core::ErrorCode::kAlreadyExists);
  EXPECT_EQ(*store->CountUsers("e"), 5);
}

// Migration 10 counts each environment's users per 1,024 user numbers in `user_blocks`
// (UserNumberAt sums them). A database from before it is counted once when it opens, and
// every write after keeps the counts: positions across blocks, with users of another
// environment among them, a refused user and deletes, agree with a walk in number order.
TEST(SqliteStoreTest, UserBlocksOfAnOlderDatabaseAreCountedOnceAndThenKeptByEveryWrite) {
  const std::string path = TempDbPath();
  const auto numbers_of = [](Store& store, const std::string& env) {
    std::vector<std::int64_t> numbers;
    const auto users = store.ListUsers(env, 0, 5000);
    for (const auto& u : *users) numbers.push_back(u.number);
    return numbers;
  };
  const auto agree = [&](Store& store, const std::string& env) {
    const auto numbers = numbers_of(store, env);
    for (std::size_t p = 0; p < numbers.size(); ++p) {
      ASSERT_EQ(*store.UserNumberAt(env, static_cast<std::int64_t>(p)), numbers[p]) << env << " position " << p;
    }
    EXPECT_EQ(*store.UserNumberAt(env, static_cast<std::int64_t>(numbers.size())), 0);
  };
  int made = 0;
  const auto batch_of = [&](int n) {
    UserBatch batch;
    for (int i = 0; i < n; ++i, ++made) {
      NewUser u = User("u" + std::to_string(made), "n" + std::to_string(made));
      if (made % 3 == 0) u.row.environment_id = "f";
      batch.users.push_back(std::move(u));
    }
    return batch;
  };
  {
    auto store = Open({path});
    ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
    ASSERT_TRUE(store->CreateEnvironment({"f", "other", "w", 1}).has_value());
    for (int b = 0; b < 3; ++b) ASSERT_TRUE(store->InsertUsers(batch_of(1000)).has_value());
  }
  ASSERT_NO_FATAL_FAILURE(
      AsOlderRelease(path, std::string(kWithoutUserBlocks) + "DELETE FROM schema_migrations WHERE version >= 10;"));

  auto store = Open({path});
  agree(*store, "e");
  agree(*store, "f");
  UserBatch more = batch_of(600);
  more.users.push_back(User("dup", "n1"));  // refused: its claim is taken, and not counted
  auto written = store->InsertUsers(more);
  ASSERT_TRUE(written.has_value());
  EXPECT_FALSE(written->back().has_value());
  const auto users = store->ListUsers("e", 0, 5000);
  for (const auto& u : *users) {
    if (u.number % 4 == 0 || (u.number > 1100 && u.number < 2100)) {
      ASSERT_TRUE(store->DeleteUser("e", u.id).has_value());
    }
  }
  agree(*store, "e");
  agree(*store, "f");
  EXPECT_EQ(*store->CountUsers("e"), static_cast<std::int64_t>(numbers_of(*store, "e").size()));
}

void WaitUntil(const std::function<bool()>& done) {
  while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Group commit, made deterministic: another connection holds the write lock, so the first
// write's leader waits in BEGIN while six more writes queue up in a known order; once the
// lock is let go those six are one batch (one transaction, one COMMIT). Within it a write
// that fails (a username a stored user holds; the second of two writes claiming one new
// username) is rolled back to its savepoint with its own error, and the writes before and
// after it land.
TEST(SqliteStoreTest, QueuedWritesCommitAsOneBatchInWhichAFailingWriteIsUndoneAlone) {
  const std::string path = TempDbPath();
  auto store = Open({path, 2, 60'000});
  ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
  ASSERT_TRUE(store->InsertUser(User("held", "held")).has_value());

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  const std::vector<std::pair<std::string, std::string>> writes = {
      {"first", "first"}, {"a", "a"}, {"dup", "held"}, {"b", "b"}, {"twin1", "twin"}, {"twin2", "twin"}, {"c", "c"}};
  std::vector<std::optional<Result<std::int64_t>>> results(writes.size());
  std::vector<std::thread> threads;
  const WriteStats before = GetWriteStats(*store);
  for (std::size_t i = 0; i < writes.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = store->InsertUser(User(writes[i].first, writes[i].second)); });
    if (i == 0) WaitUntil([&] { return GetWriteStats(*store).batches == before.batches + 1; });  // the leader
    else WaitUntil([&] { return GetWriteStats(*store).queued == i; });
  }
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  for (auto& t : threads) t.join();
  sqlite3_close(other);

  const WriteStats after = GetWriteStats(*store);
  EXPECT_EQ(after.batches, before.batches + 2);
  EXPECT_EQ(after.writes, before.writes + writes.size());
  EXPECT_EQ(after.largest, writes.size() - 1);
  EXPECT_EQ(after.queued, 0u);
  for (std::size_t i = 0; i < writes.size(); ++i) {
    SCOPED_TRACE(writes[i].first);
    ASSERT_TRUE(results[i].has_value());
    const auto& r = *results[i];
    if (writes[i].first == "dup" || writes[i].first == "twin2") {
      ASSERT_FALSE(r.has_value());
      EXPECT_EQ(r.error().code, core::ErrorCode::kAlreadyExists);
      EXPECT_EQ(r.error().field, "username");
      EXPECT_EQ(store->GetUser("e", writes[i].first).error().code, core::ErrorCode::kNotFound);
    } else {
      ASSERT_TRUE(r.has_value()) << r.error().message;
      auto row = store->GetUser("e", writes[i].first);
      ASSERT_TRUE(row.has_value());
      EXPECT_EQ(row->number, *r);
    }
  }
  auto twin = store->FindUsers("e", "username", "twin");
  ASSERT_TRUE(twin.has_value());
  ASSERT_EQ(twin->size(), 1u);
  EXPECT_EQ((*twin)[0].id, "twin1");
}

// A write the store refuses before it reaches SQLite's lock (BEGIN cannot start: another
// connection holds the lock past the busy timeout) fails every write of its batch with
// kUnavailable, and the next batch writes normally.
TEST(SqliteStoreTest, ABatchThatCannotBeginFailsEveryWriteWithUnavailable) {
  const std::string path = TempDbPath();
  auto store = Open({path, 2, 50});
  ASSERT_TRUE(store->CreateEnvironment({"e", "default", "w", 1}).has_value());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto refused = store->InsertUser(User("u1", "u1"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kUnavailable);
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_EQ(store->GetUser("e", "u1").error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(store->InsertUser(User("u1", "u1")).has_value());
}

TEST(SqliteStoreTest, RefusesAnUnopenablePath) {
  EXPECT_THROW(Open({"/nonexistent-dir/x/roster.db"}), std::runtime_error);
}

}  // namespace
}  // namespace roster::store::sqlite
