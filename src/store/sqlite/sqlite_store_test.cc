#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
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

TEST(SqliteStoreTest, RefusesAnUnopenablePath) {
  EXPECT_THROW(Open({"/nonexistent-dir/x/roster.db"}), std::runtime_error);
}

}  // namespace
}  // namespace roster::store::sqlite
