// roster-hash-bench: raw argon2id throughput with libsodium, the ceiling for
// password creates/s. N threads hash in a loop for S seconds; prints one JSON line.
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  unsigned threads = std::thread::hardware_concurrency();
  double seconds = 5;
  unsigned long long ops = 2;
  unsigned long long mem_kib = 19456;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--threads") threads = std::strtoul(v, nullptr, 10);
    else if (a == "--seconds") seconds = std::strtod(v, nullptr);
    else if (a == "--ops") ops = std::strtoull(v, nullptr, 10);
    else if (a == "--mem-kib") mem_kib = std::strtoull(v, nullptr, 10);
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  if ((argc - 1) % 2 != 0 || threads == 0 || seconds <= 0) {
    std::fprintf(stderr, "usage: %s [--threads N] [--seconds S] [--ops T] [--mem-kib M]\n", argv[0]);
    return 2;
  }
  if (sodium_init() < 0) { std::fprintf(stderr, "sodium_init failed\n"); return 1; }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  std::atomic<unsigned long long> total{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      char out[crypto_pwhash_STRBYTES];
      const std::string pw = "pw-123456-" + std::to_string(t);
      unsigned long long n = 0;
      while (Clock::now() < deadline) {
        if (crypto_pwhash_str_alg(out, pw.data(), pw.size(), ops, mem_kib * 1024,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0) {
          failed = true;
          break;
        }
        ++n;
      }
      total += n;
    });
  }
  for (auto& th : pool) th.join();
  // Divide by the real elapsed time: the last hash of each thread ends after the deadline.
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) { std::fprintf(stderr, "crypto_pwhash_str_alg failed (out of memory?)\n"); return 1; }
  std::printf("{\"hashes_per_s\": %.2f, \"threads\": %u, \"ops\": %llu, \"mem_kib\": %llu}\n",
              total / elapsed, threads, ops, mem_kib);
  return 0;
}
