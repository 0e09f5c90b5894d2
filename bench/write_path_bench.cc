// roster-write-bench: what the claims redesign added to every user write. Since issue 11
// each create and update loads the environment's attribute schema (to derive the claims
// of unique attributes and apply the schema's value rules). This measures, in one run on
// a real SQLite file (WAL, synchronous=FULL), a password-free UserService::Create and the
// schema load alone, with no attribute declared and with five (one unique), so the
// share of the write that the load costs can be read off directly.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "service/attribute_schema.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "service/user_service.h"
#include "store/sqlite/sqlite_store.h"

namespace {

using namespace roster;

struct Fixture {
  explicit Fixture(int attributes)
      : dir(std::filesystem::temp_directory_path() / ("roster-write-bench-" + std::to_string(::getpid()) + "-" +
                                                      std::to_string(attributes))),
        store((std::filesystem::remove_all(dir), std::filesystem::create_directories(dir),
               store::sqlite::Open({(dir / "roster.db").string()}))),
        keyring(crypto::SecretKey::Random()),
        hasher({1, 8 * 1024}),
        directory(*store, keyring, clock),
        users(*store, directory, keyring, hasher, clock),
        records(*store, directory, clock) {
    env = directory.CreateEnvironment("default")->id;
    for (int i = 0; i < attributes; ++i) {
      service::NewRecordRequest r;
      r.environment_id = env;
      r.kind = service::kAttributeKind;
      r.body = {{"name", "attr" + std::to_string(i)}, {"type", "STRING"}, {"enabled", true}, {"unique", i == 0}};
      (void)records.Create(r);
      attribute_ids.push_back(records.List(env, service::kAttributeKind, 0, 100)->back().id);
    }
  }
  ~Fixture() {
    store.reset();
    std::filesystem::remove_all(dir);
  }

  std::filesystem::path dir;
  core::SystemClock clock;
  std::unique_ptr<store::Store> store;
  crypto::Keyring keyring;
  crypto::PasswordHasher hasher;
  service::DirectoryService directory;
  service::UserService users;
  service::RecordService records;
  std::string env;
  std::vector<std::string> attribute_ids;
};

void BM_CreateUser(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  std::int64_t n = 0;
  for (auto _ : state) {
    service::CreateUserRequest r;
    r.environment_id = f.env;
    r.user.username = "u" + std::to_string(++n);
    r.user.profile.emails = {{"work", r.user.username + "@example.com", true}};
    for (const auto& id : f.attribute_ids) r.user.attributes[id] = "\"v" + std::to_string(n) + "\"";
    if (!f.users.Create(r)) state.SkipWithError("create failed");
  }
}
BENCHMARK(BM_CreateUser)->Arg(0)->Arg(5)->Unit(benchmark::kMicrosecond);

void BM_LoadAttributeSchema(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(service::LoadAttributeSchema(f.records, f.env));
}
BENCHMARK(BM_LoadAttributeSchema)->Arg(0)->Arg(5)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
