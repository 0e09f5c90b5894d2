// libsodium behind small value types. Only crypto/*.cc includes sodium.h.
//
// Key hierarchy: a 32-byte master key (key file, mode 0600) derives, with
// crypto_kdf, a wrapping key (for per-environment data keys), an index root (for
// per-environment blind-index keys) and a digest key (for API keys and tokens).
// Profiles are sealed with XChaCha20-Poly1305 under the environment's data key; the
// associated data binds each ciphertext to its row. All functions are thread-safe.
#pragma once

#include <atomic>

#include <array>
#include <cstdint>
#include <memory>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace roster::crypto {

// Call once before anything else; throws std::runtime_error if libsodium cannot start.
void Init();

// 32 secret bytes, wiped on destruction.
class SecretKey {
 public:
  SecretKey() = default;
  ~SecretKey();
  SecretKey(const SecretKey& other) = default;
  SecretKey& operator=(const SecretKey& other) = default;
  static SecretKey Random();
  static core::Result<SecretKey> FromBytes(std::string_view bytes);  // exactly 32 bytes
  const std::uint8_t* data() const { return bytes_.data(); }
  std::uint8_t* data() { return bytes_.data(); }
  static constexpr std::size_t size() { return 32; }

 private:
  std::array<std::uint8_t, 32> bytes_{};
};

// Renames the key file `from` over `to` and syncs their directory (a rotated master
// key's switch); throws std::runtime_error.
void ReplaceKeyFile(const std::string& from, const std::string& to);

// Reads the master key file, or creates it (mode 0600, exclusive create) when absent.
// Throws std::runtime_error on I/O failure or a malformed file.
SecretKey LoadOrCreateKeyFile(const std::string& path, bool create);
// Writes `key` as a new key file (64 hex characters, mode 0600, exclusive create).
void WriteKeyFile(const std::string& path, const SecretKey& key);

struct EnvironmentKeys {
  SecretKey data;   // the newest data key: seals profiles
  SecretKey index;  // keys blind indexes (generation 0; service/index_keys.h)
  std::vector<SecretKey> older;  // older data keys (a rotation under way), newest first: open only
  // Index-key generations (`roster env rotate-index-key`): index_steps[g - 1] turns a
  // digest of generation g - 1 into one of generation g. Lookups use index_read; writes
  // hold every claim under each generation from index_low to index_steps.size().
  std::vector<SecretKey> index_steps;
  std::int64_t index_read = 0, index_low = 0;
};

// Which index-key generations an environment uses (kept after its wrapped data keys).
struct IndexGenerations {
  std::int64_t low = 0, read = 0, high = 0;  // low <= read <= high
  bool operator==(const IndexGenerations&) const = default;
};

// Opens a value sealed under any of the environment's data keys, the newest first.
core::Result<std::string> OpenAny(const EnvironmentKeys& keys, std::string_view sealed, std::string_view associated);

// The master key wraps (seals) every data key, and the roots: the blind-index root, the
// token digest key and the audit key. A store made before master-key rotation derived
// the roots from the master key; they are stored wrapped since (WrapRoots/AdoptRoots),
// with values unchanged, so a new master key re-wraps them and every blind index, API
// key digest and audit chain stays valid. Thread-safe; SwitchMaster may run while other
// threads unwrap.
class Keyring {
 public:
  // Roots derived from `master` (the values a store keeps for ever once wrapped).
  explicit Keyring(const SecretKey& master);
  // `roots`'s roots under another master key (a rotation's new key).
  Keyring(const SecretKey& master, const Keyring& roots);
  Keyring(const Keyring&) = delete;
  Keyring& operator=(const Keyring&) = delete;

  // A keyed hash of a master key: tells which key a store is wrapped under, nothing else.
  static std::string Fingerprint(const SecretKey& master);
  // The fingerprint of the master key in use.
  std::string Fingerprint() const;
  // The roots sealed under the master key in use, and the reverse: kInternal if they do
  // not open under it. AdoptRoots replaces the roots: call before the keyring is used.
  std::string WrapRoots() const;
  core::Status AdoptRoots(std::string_view wrapped);
  // Uses another master key from now on (the roots stay): a rotation another process made.
  void SwitchMaster(const SecretKey& master);
  // An environment's key list re-wrapped under `to`'s master key (same keys, same order);
  // kInternal if the list does not unwrap under this one.
  core::Result<std::string> Rewrap(std::string_view environment_id, std::string_view wrapped,
                                   const Keyring& to) const;

  // A fresh data key for `environment_id`, and its wrapped form for storage.
  std::string NewWrappedDataKey(std::string_view environment_id) const;
  // An environment's stored keys are a list of wrapped data keys, newest first: each
  // wrapped key has a fixed size, so the list is their concatenation and a list of one
  // is what an environment made before rotation stored.
  static std::size_t WrappedKeyCount(std::string_view wrapped);
  // The list with a fresh key in front, and the list cut to its newest key.
  std::string PrependNewDataKey(std::string_view environment_id, std::string_view wrapped) const;
  static std::string NewestOnly(std::string_view wrapped);
  // The index-key generations the stored list names (0, 0, 0 for a list without any), and
  // the list naming others (its data keys unchanged).
  static IndexGenerations IndexGenerationsOf(std::string_view wrapped);
  static std::string WithIndexGenerations(std::string_view wrapped, const IndexGenerations& generations);
  // Unwraps a stored key list (data: the newest; older: the rest); kInternal if a key
  // was not wrapped by this master key for this environment, or the list is malformed.
  core::Result<EnvironmentKeys> Unwrap(std::string_view environment_id,
                                       std::string_view wrapped) const;
  // Keyed digest of an API key or token (stored instead of the secret).
  std::string Digest(std::string_view secret) const;
  // Keyed BLAKE2b-256 (crypto_generichash) under the audit key, derived from the master
  // key: links and signs the audit chain (service/audit.h). 32 raw bytes.
  std::string AuditMac(std::string_view bytes) const;

 private:
  SecretKey WrapKey() const;

  mutable std::mutex mu_;  // guards wrap_key_ and fingerprint_
  SecretKey wrap_key_;
  std::string fingerprint_;
  SecretKey index_root_, digest_key_, audit_key_;
};

// XChaCha20-Poly1305: returns nonce || ciphertext || tag.
std::string Seal(const SecretKey& key, std::string_view plaintext, std::string_view associated);
core::Result<std::string> Open(const SecretKey& key, std::string_view sealed,
                               std::string_view associated);

// Keyed BLAKE2b-256 over (kind, value): equal inputs give equal digests, nothing else.
std::string BlindIndex(const SecretKey& index_key, std::string_view kind, std::string_view value);

// 256 random bits as 64 lower-case hex characters.
std::string RandomToken();
// A secret (the master key in a backup) sealed under a passphrase: an argon2id-derived
// key (a random salt, the cost stored with it) and XChaCha20-Poly1305. OpenWithPassphrase
// fails with kPermissionDenied for a wrong passphrase or a changed blob.
std::string SealWithPassphrase(std::string_view secret, std::string_view passphrase);
core::Result<std::string> OpenWithPassphrase(std::string_view sealed, std::string_view passphrase);

// Random (version 4) UUID, canonical lower-case.
std::string NewUuid();
std::string ToHex(std::string_view bytes);
// Constant-time equality.
bool SecretsEqual(std::string_view a, std::string_view b);

struct PasswordParams {
  std::uint64_t ops_limit = 2;                      // t
  std::size_t mem_limit_bytes = 19ull * 1024 * 1024;  // m = 19 MiB (OWASP)
  // Hashes running at once (0: one per core). Callers beyond it wait without using CPU,
  // so a larger pool of request threads keeps every core hashing while some threads
  // wait on disk, and memory stays bounded at max_concurrency x m.
  unsigned max_concurrency = 0;
};

// argon2id PHC strings ("$argon2id$v=19$m=19456,t=2,p=1$..."). Thread-safe.
class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordParams params);
  // kResourceExhausted if memory could not be allocated.
  core::Result<std::string> Hash(std::string_view password) const;
  bool Verify(std::string_view phc, std::string_view password) const;
  // VerifyLegacyPassword (legacy_password.h) inside the same concurrency cap: an imported
  // scrypt or bcrypt hash costs as much as argon2id, or more.
  core::Result<bool> VerifyImported(std::string_view encoded, std::string_view password) const;
  bool NeedsRehash(std::string_view phc) const;
  const PasswordParams& params() const { return params_; }
  // argon2id work done so far: Hash and Verify calls (tests and benches read them).
  std::uint64_t hash_count() const { return hashes_.load(std::memory_order_relaxed); }
  std::uint64_t verify_count() const { return verifications_.load(std::memory_order_relaxed); }
  // The concurrency cap's state, for metrics.
  struct SlotStats {
    unsigned slots = 0, in_use = 0, waiting = 0;
    std::uint64_t waits = 0;   // calls that waited for a slot
    double wait_seconds = 0;   // their waiting, in total
  };
  SlotStats slot_stats() const { return slots_->Stats(); }

 private:
  // At most max_concurrency hashes at once, granted first come, first served, so a
  // burst's latency is spread evenly instead of leaving some callers waiting for ever.
  class FairSlots {
   public:
    explicit FairSlots(unsigned count) : count_(count), free_(count) {}
    void Acquire();
    void Release();
    SlotStats Stats();

   private:
    struct Waiter {
      std::condition_variable cv;
      bool granted = false;
    };
    std::mutex mu_;
    const unsigned count_;
    unsigned free_;
    std::uint64_t waits_ = 0;
    double wait_seconds_ = 0;
    std::deque<Waiter*> queue_;  // a released slot goes straight to the oldest waiter
  };

  PasswordParams params_;
  std::unique_ptr<FairSlots> slots_;
  mutable std::atomic<std::uint64_t> hashes_{0}, verifications_{0};
};

}  // namespace roster::crypto
