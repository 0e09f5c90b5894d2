// Shared by the service tests: a clock the test sets, a real SQLite store in a fresh
// directory named after the running test, removed with it, and the services wired over them.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "service/services.h"
#include "service/user_service.h"
#include "store/sqlite/sqlite_store.h"

namespace roster::service::test_support {

class FakeClock : public core::Clock {
 public:
  std::int64_t NowMillis() const override { return now; }
  std::int64_t now = 1'700'000'000'000;
};

class TempSqliteStore {
 public:
  explicit TempSqliteStore(const std::string& prefix)
      : dir_(std::filesystem::temp_directory_path() /
             (prefix + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = store::sqlite::Open({(dir_ / "roster.db").string()});
  }
  ~TempSqliteStore() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  TempSqliteStore(const TempSqliteStore&) = delete;
  TempSqliteStore& operator=(const TempSqliteStore&) = delete;

  store::Store& operator*() const { return *store_; }
  store::Store* operator->() const { return store_.get(); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

// The services one server builds, over a fresh store named `prefix` + pid + test name: a
// random keyring and a cheap password hasher (one pass over 8 MiB: tests hash many
// passwords). Inherit it beside ::testing::Test; the test's own services, declared after
// it, are built over these. A test that needs another wiring (a wrapped store, a second
// server on the same store, a real hasher cost) builds its own.
struct ServiceFixture {
  explicit ServiceFixture(const std::string& prefix, SessionPolicy sessions = {})
      : store_(prefix),
        keyring_(crypto::SecretKey::Random()),
        hasher_({1, 8 * 1024 * 1024}),
        directory_(*store_, keyring_, clock_),
        users_(*store_, directory_, keyring_, hasher_, clock_, sessions),
        records_(*store_, directory_, clock_) {}

  Services services() { return {directory_, users_, records_, clock_}; }

  FakeClock clock_;
  TempSqliteStore store_;
  crypto::Keyring keyring_;
  crypto::PasswordHasher hasher_;
  DirectoryService directory_;
  UserService users_;
  RecordService records_;
};

// Every message waiting in the outbox of `environment_id`, opened (and taken out).
inline std::vector<Mail> TakeOutbox(store::Store& store, DirectoryService& directory, const std::string& environment_id,
                                    std::int64_t now_ms) {
  std::vector<Mail> out;
  auto rows = store.ClaimMail(now_ms, now_ms + 60'000, 100);
  EXPECT_TRUE(rows.has_value());
  if (!rows) return out;
  for (const auto& row : *rows) {
    auto mail = OpenMail(directory, *directory.KeysFor(environment_id), environment_id, row.sealed);
    EXPECT_TRUE(mail.has_value());
    if (mail) out.push_back(*mail);
    EXPECT_TRUE(store.CompleteMail(row.id).has_value());
  }
  return out;
}

// Damages user `user_id`'s sealed profile in place (same size, claims kept, version
// bumped): the row no reader can open, as a corrupted disk would leave it.
inline void DamageSealedProfile(store::Store& store, const std::string& environment_id, const std::string& user_id) {
  auto row = store.GetUser(environment_id, user_id);
  ASSERT_TRUE(row.has_value());
  store::UserUpdate damage;
  damage.row = *row;
  damage.row.version = row->version + 1;
  damage.row.sealed = std::string(row->sealed.size(), 'x');
  damage.expected_version = row->version;
  ASSERT_TRUE(store.UpdateUser(damage).has_value());
}

}  // namespace roster::service::test_support
