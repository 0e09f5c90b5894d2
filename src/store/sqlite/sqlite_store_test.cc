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

TEST(SqliteStoreTest, RefusesAnUnopenablePath) {
  EXPECT_THROW(Open({"/nonexistent-dir/x/roster.db"}), std::runtime_error);
}

}  // namespace
}  // namespace roster::store::sqlite
