// roster-signin-timing-bench: what a wrong password costs, by who it is for (issue 12,
// "Equal timing"). On a real SQLite file (WAL, synchronous=FULL) with the server's
// argon2id parameters, UserService::SignIn with a wrong password for an unknown user, a
// user imported with an {SSHA} hash, and an argon2id user, in round-robin order (so a
// drift of the machine's speed touches each alike), next to a raw argon2id verification
// (PasswordHasher::Verify). Prints the medians and the largest difference between the
// three sign-ins, relative to the fastest of them, as one JSON object.
// Usage: roster-signin-timing-bench [--samples N] [--ops T] [--mem-kib M]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "service/directory_service.h"
#include "service/user_service.h"
#include "store/sqlite/sqlite_store.h"

namespace {

using namespace roster;
using Clock = std::chrono::steady_clock;

// {SSHA} of "imported-pass", salt "saltsalt".
constexpr const char* kImportedSsha = "{SSHA}StK93Qx3raTY4cGjw4A0ZBRIPihzYWx0c2FsdA==";

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  int samples = 41;
  unsigned long long ops = 2, mem_kib = 19456;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--samples") samples = std::atoi(v);
    else if (a == "--ops") ops = std::strtoull(v, nullptr, 10);
    else if (a == "--mem-kib") mem_kib = std::strtoull(v, nullptr, 10);
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  if ((argc - 1) % 2 != 0 || samples < 1) {
    std::fprintf(stderr, "usage: %s [--samples N] [--ops T] [--mem-kib M]\n", argv[0]);
    return 2;
  }
  crypto::Init();
  const auto dir = std::filesystem::temp_directory_path() / ("roster-signin-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    core::SystemClock clock;
    auto store = store::sqlite::Open({(dir / "roster.db").string()});
    crypto::Keyring keyring(crypto::SecretKey::Random());
    crypto::PasswordHasher hasher({ops, mem_kib * 1024, 1});
    service::DirectoryService directory(*store, keyring, clock);
    // The server's lockout counting, with a budget out of reach: every attempt pays the
    // same two counter writes, and none is refused.
    service::UserService users(*store, directory, keyring, hasher, clock, {}, {1'000'000, 900'000, 10'000'000});
    const std::string env = directory.CreateEnvironment("default")->id;
    auto add = [&](const std::string& name, std::optional<std::string> password, std::optional<std::string> imported) {
      service::CreateUserRequest r;
      r.environment_id = env;
      r.user.username = name;
      r.user.active = true;
      r.password = std::move(password);
      r.imported_password_hash = std::move(imported);
      if (!users.Create(r)) {
        std::fprintf(stderr, "create %s failed\n", name.c_str());
        std::exit(1);
      }
    };
    add("argon", "right-password", std::nullopt);
    add("imported", std::nullopt, kImportedSsha);
    const std::string phc = hasher.Hash("right-password").value();

    const std::vector<std::string> who = {"unknown", "imported", "argon"};
    std::vector<std::vector<double>> ms(who.size() + 1);
    auto time_ms = [](auto&& f) {
      const auto start = Clock::now();
      f();
      return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    };
    (void)users.SignIn(env, "warm-up", "wrong-password", "192.0.2.1");  // the dummy hash is made once
    for (int i = 0; i < samples; ++i) {
      for (std::size_t w = 0; w < who.size(); ++w) {
        const std::string address = "192.0.2." + std::to_string(1 + i % 200);
        ms[w].push_back(time_ms([&] {
          auto r = users.SignIn(env, who[w] == "unknown" ? "nobody" : who[w], "wrong-password", address);
          if (r || r.error().code != core::ErrorCode::kUnauthenticated) std::exit(1);
        }));
      }
      ms[who.size()].push_back(time_ms([&] { (void)hasher.Verify(phc, "wrong-password"); }));
    }
    double fastest = 1e300, slowest = 0;
    std::printf("{\"samples\": %d, \"argon2id\": {\"t\": %llu, \"m_kib\": %llu}, \"median_ms\": {", samples, ops,
                mem_kib);
    for (std::size_t w = 0; w < who.size(); ++w) {
      const double m = Median(ms[w]);
      fastest = std::min(fastest, m);
      slowest = std::max(slowest, m);
      std::printf("\"wrong_password_%s\": %.3f, ", who[w].c_str(), m);
    }
    std::printf("\"raw_argon2id_verify\": %.3f}, \"spread_pct\": %.1f}\n", Median(ms[who.size()]),
                100.0 * (slowest - fastest) / fastest);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
