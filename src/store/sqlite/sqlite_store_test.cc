#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

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

// Migration 7 rebuilds `audit_log` clustered on its key (WITHOUT ROWID) and drops the
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
  // forget migration 7, as a database written by the previous release is.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
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
DELETE FROM schema_migrations WHERE version = 7;
)sql";
  ASSERT_EQ(sqlite3_exec(db, older, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);

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

TEST(SqliteStoreTest, RefusesAnUnopenablePath) {
  EXPECT_THROW(Open({"/nonexistent-dir/x/roster.db"}), std::runtime_error);
}

}  // namespace
}  // namespace roster::store::sqlite
