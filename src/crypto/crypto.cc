#include "crypto/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "crypto/legacy_password.h"

namespace roster::crypto {
namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES] = {'r', 'o', 's', 't', 'e', 'r', 'k', '1'};
constexpr std::uint64_t kWrapSubkey = 1, kIndexSubkey = 2, kDigestSubkey = 3, kAuditSubkey = 4;

SecretKey Derive(const SecretKey& master, std::uint64_t id) {
  SecretKey out;
  crypto_kdf_derive_from_key(out.data(), out.size(), id, kKdfContext, master.data());
  return out;
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string WrapAd(std::string_view environment_id) {
  return "roster/datakey/v1/" + std::string(environment_id);
}

}  // namespace

void Init() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

SecretKey::~SecretKey() { sodium_memzero(bytes_.data(), bytes_.size()); }

SecretKey SecretKey::Random() {
  SecretKey k;
  randombytes_buf(k.data(), k.size());
  return k;
}

core::Result<SecretKey> SecretKey::FromBytes(std::string_view bytes) {
  if (bytes.size() != size()) return core::Internal("key must be 32 bytes");
  SecretKey k;
  std::memcpy(k.data(), bytes.data(), size());
  return k;
}

namespace {
// fsyncs the directory holding `path` (a created or renamed name is durable only then).
void SyncDirectoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dfd >= 0 && ::fsync(dfd) == 0;
  if (dfd >= 0) ::close(dfd);
  if (!synced) throw std::runtime_error("cannot sync the key file's directory " + dir + ": " + std::strerror(errno));
}
}  // namespace

void WriteKeyFile(const std::string& path, const SecretKey& key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create key file " + path + ": " + std::strerror(errno));
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, key.data(), key.size());
  hex[64] = '\n';
  const bool ok = ::write(fd, hex, 65) == 65 && ::fsync(fd) == 0;
  sodium_memzero(hex, sizeof hex);
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write key file " + path);
  // The new name is durable only once its directory is: without this a crash can lose
  // the key file of a store that already holds rows sealed under it.
  SyncDirectoryOf(path);
}

void ReplaceKeyFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    throw std::runtime_error("cannot rename " + from + " to " + to + ": " + std::strerror(errno));
  SyncDirectoryOf(to);
}

SecretKey LoadOrCreateKeyFile(const std::string& path, bool create) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    SecretKey key = SecretKey::Random();
    WriteKeyFile(path, key);
    return key;
  }
  if (fd < 0) throw std::runtime_error("cannot open key file " + path + ": " + std::strerror(errno));
  char buf[80];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  SecretKey key;
  std::size_t bin_len = 0;
  if (n < 64 || sodium_hex2bin(key.data(), key.size(), buf, static_cast<std::size_t>(n), "\n",
                               &bin_len, nullptr) != 0 ||
      bin_len != key.size()) {
    sodium_memzero(buf, sizeof buf);
    throw std::runtime_error("key file " + path + " is not 64 hex characters");
  }
  sodium_memzero(buf, sizeof buf);
  return key;
}

Keyring::Keyring(const SecretKey& master)
    : wrap_key_(Derive(master, kWrapSubkey)),
      fingerprint_(Fingerprint(master)),
      index_root_(Derive(master, kIndexSubkey)),
      digest_key_(Derive(master, kDigestSubkey)),
      audit_key_(Derive(master, kAuditSubkey)) {}

Keyring::Keyring(const SecretKey& master, const Keyring& roots)
    : wrap_key_(Derive(master, kWrapSubkey)),
      fingerprint_(Fingerprint(master)),
      index_root_(roots.index_root_),
      digest_key_(roots.digest_key_),
      audit_key_(roots.audit_key_) {}

namespace {
constexpr std::string_view kFingerprintInput = "roster/master-key/fingerprint/v1";
constexpr std::string_view kRootsAd = "roster/roots/v1";
}  // namespace

std::string Keyring::Fingerprint(const SecretKey& master) {
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(), U(kFingerprintInput),
                     kFingerprintInput.size(), master.data(), master.size());
  return out;
}

std::string Keyring::Fingerprint() const {
  std::lock_guard lock(mu_);
  return fingerprint_;
}

SecretKey Keyring::WrapKey() const {
  std::lock_guard lock(mu_);
  return wrap_key_;
}

std::string Keyring::WrapRoots() const {
  std::string roots;
  for (const SecretKey* k : {&index_root_, &digest_key_, &audit_key_})
    roots.append(reinterpret_cast<const char*>(k->data()), k->size());
  std::string out = Seal(WrapKey(), roots, kRootsAd);
  sodium_memzero(roots.data(), roots.size());
  return out;
}

core::Status Keyring::AdoptRoots(std::string_view wrapped) {
  auto roots = Open(WrapKey(), wrapped, kRootsAd);
  if (!roots || roots->size() != 3 * SecretKey::size()) return core::Internal("the roots do not open under this master key");
  std::memcpy(index_root_.data(), roots->data(), SecretKey::size());
  std::memcpy(digest_key_.data(), roots->data() + SecretKey::size(), SecretKey::size());
  std::memcpy(audit_key_.data(), roots->data() + 2 * SecretKey::size(), SecretKey::size());
  sodium_memzero(roots->data(), roots->size());
  return {};
}

void Keyring::SwitchMaster(const SecretKey& master) {
  SecretKey wrap = Derive(master, kWrapSubkey);
  std::string fingerprint = Fingerprint(master);
  std::lock_guard lock(mu_);
  wrap_key_ = wrap;
  fingerprint_ = std::move(fingerprint);
}

std::string Keyring::NewWrappedDataKey(std::string_view environment_id) const {
  SecretKey data = SecretKey::Random();
  return Seal(WrapKey(),
              std::string_view(reinterpret_cast<const char*>(data.data()), data.size()),
              WrapAd(environment_id));
}

namespace {
constexpr std::size_t kWrappedKeySize =
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + SecretKey::size() + crypto_aead_xchacha20poly1305_ietf_ABYTES;

// After the wrapped data keys, an environment that rotated its index key keeps a trailer:
// "ridx" and three big-endian 32-bit generations (low, read, high). Not secret: the
// generation keys are derived from the index root, which the master key wraps.
constexpr std::string_view kIndexMagic = "ridx";
constexpr std::size_t kIndexTrailerSize = 16;
static_assert(kIndexTrailerSize < kWrappedKeySize);

// The wrapped keys, without the trailer.
std::string_view KeysPart(std::string_view wrapped) {
  if (wrapped.size() % kWrappedKeySize == kIndexTrailerSize &&
      wrapped.substr(wrapped.size() - kIndexTrailerSize, kIndexMagic.size()) == kIndexMagic)
    return wrapped.substr(0, wrapped.size() - kIndexTrailerSize);
  return wrapped;
}
std::string_view TrailerPart(std::string_view wrapped) { return wrapped.substr(KeysPart(wrapped).size()); }

std::uint32_t Be32(std::string_view s) {
  std::uint32_t v = 0;
  for (char c : s.substr(0, 4)) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}
}  // namespace

std::size_t Keyring::WrappedKeyCount(std::string_view wrapped) {
  wrapped = KeysPart(wrapped);
  return wrapped.size() % kWrappedKeySize == 0 ? wrapped.size() / kWrappedKeySize : 0;
}

std::string Keyring::PrependNewDataKey(std::string_view environment_id, std::string_view wrapped) const {
  return NewWrappedDataKey(environment_id) + std::string(wrapped);
}

std::string Keyring::NewestOnly(std::string_view wrapped) {
  const std::string_view keys = KeysPart(wrapped);
  return std::string(keys.substr(0, std::min(keys.size(), kWrappedKeySize))) + std::string(TrailerPart(wrapped));
}

IndexGenerations Keyring::IndexGenerationsOf(std::string_view wrapped) {
  const std::string_view t = TrailerPart(wrapped);
  if (t.size() != kIndexTrailerSize) return {};
  return {Be32(t.substr(4)), Be32(t.substr(8)), Be32(t.substr(12))};
}

std::string Keyring::WithIndexGenerations(std::string_view wrapped, const IndexGenerations& g) {
  std::string out(KeysPart(wrapped));
  if (g == IndexGenerations{}) return out;  // as stored before index-key rotation
  out += kIndexMagic;
  for (const std::int64_t v : {g.low, g.read, g.high})
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((static_cast<std::uint32_t>(v) >> shift) & 0xff);
  return out;
}

core::Result<EnvironmentKeys> Keyring::Unwrap(std::string_view environment_id,
                                              std::string_view stored) const {
  const std::string_view wrapped = KeysPart(stored);
  const std::size_t count = WrappedKeyCount(wrapped);
  if (count == 0) return core::Internal("data key list is malformed");
  EnvironmentKeys keys;
  const SecretKey wrap_key = WrapKey();
  for (std::size_t i = 0; i < count; ++i) {
    auto raw = Open(wrap_key, wrapped.substr(i * kWrappedKeySize, kWrappedKeySize), WrapAd(environment_id));
    if (!raw) return core::Internal("data key does not unwrap under this master key");
    auto data = SecretKey::FromBytes(*raw);
    sodium_memzero(raw->data(), raw->size());
    if (!data) return std::unexpected(data.error());
    if (i == 0) keys.data = *data;
    else keys.older.push_back(*data);
  }
  // The index key depends on the master key and the environment only, so re-keying
  // profiles (a new data key) leaves every blind index valid.
  crypto_generichash(keys.index.data(), keys.index.size(), U(environment_id),
                     environment_id.size(), index_root_.data(), index_root_.size());
  // Generation g >= 1: keyed by the root too, over the environment and g, so each
  // rotation's key is new and none follows from another without the root.
  const IndexGenerations g = IndexGenerationsOf(stored);
  if (g.low > g.read || g.read > g.high) return core::Internal("index-key generations are malformed");
  for (std::int64_t i = 1; i <= g.high; ++i) {
    const std::string input = std::string(environment_id) + std::string("\0index-generation:", 18) + std::to_string(i);
    SecretKey step;
    crypto_generichash(step.data(), step.size(), U(input), input.size(), index_root_.data(), index_root_.size());
    keys.index_steps.push_back(step);
  }
  keys.index_read = g.read;
  keys.index_low = g.low;
  return keys;
}

core::Result<std::string> Keyring::Rewrap(std::string_view environment_id, std::string_view stored,
                                          const Keyring& to) const {
  const std::string_view wrapped = KeysPart(stored);
  const std::size_t count = WrappedKeyCount(wrapped);
  if (count == 0) return core::Internal("data key list is malformed");
  const SecretKey from_key = WrapKey(), to_key = to.WrapKey();
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    auto raw = Open(from_key, wrapped.substr(i * kWrappedKeySize, kWrappedKeySize), WrapAd(environment_id));
    if (!raw) return core::Internal("data key does not unwrap under this master key");
    out += Seal(to_key, *raw, WrapAd(environment_id));
    sodium_memzero(raw->data(), raw->size());
  }
  return out + std::string(TrailerPart(stored));
}

core::Result<std::string> OpenAny(const EnvironmentKeys& keys, std::string_view sealed, std::string_view associated) {
  auto plain = Open(keys.data, sealed, associated);
  for (std::size_t i = 0; !plain && i < keys.older.size(); ++i) plain = Open(keys.older[i], sealed, associated);
  return plain;
}

std::string Keyring::Digest(std::string_view secret) const {
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(), U(secret),
                     secret.size(), digest_key_.data(), digest_key_.size());
  return out;
}

std::string Keyring::AuditMac(std::string_view bytes) const {
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(), U(bytes), bytes.size(),
                     audit_key_.data(), audit_key_.size());
  return out;
}

std::string Seal(const SecretKey& key, std::string_view plaintext, std::string_view associated) {
  constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string out(kNonce + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, kNonce);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, &len, U(plaintext), plaintext.size(),
                                             U(associated), associated.size(), nullptr, nonce,
                                             key.data());
  out.resize(kNonce + len);
  return out;
}

core::Result<std::string> Open(const SecretKey& key, std::string_view sealed,
                               std::string_view associated) {
  constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (sealed.size() < kNonce + crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return core::Internal("sealed value is truncated");
  std::string out(sealed.size() - kNonce - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &len, nullptr, U(sealed) + kNonce,
          sealed.size() - kNonce, U(associated), associated.size(), U(sealed), key.data()) != 0)
    return core::Internal("sealed value failed authentication");
  out.resize(len);
  return out;
}

std::string BlindIndex(const SecretKey& index_key, std::string_view kind, std::string_view value) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, index_key.data(), index_key.size(), 32);
  crypto_generichash_update(&state, U(kind), kind.size());
  const unsigned char separator = 0;
  crypto_generichash_update(&state, &separator, 1);
  crypto_generichash_update(&state, U(value), value.size());
  std::string out(32, '\0');
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data()), out.size());
  return out;
}

std::string ToHex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), U(bytes), bytes.size());
  out.pop_back();
  return out;
}

std::string RandomToken() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  std::string out = ToHex(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  sodium_memzero(raw, sizeof raw);
  return out;
}

std::string NewUuid() {
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  const std::string hex = ToHex(std::string_view(reinterpret_cast<char*>(b), sizeof b));
  return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
         hex.substr(16, 4) + '-' + hex.substr(20, 12);
}

bool SecretsEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

PasswordHasher::PasswordHasher(PasswordParams params) : params_(params) {
  if (params_.max_concurrency == 0) params_.max_concurrency = std::max(1u, std::thread::hardware_concurrency());
  params_.max_concurrency = std::min(params_.max_concurrency, 4096u);
  slots_ = std::make_unique<FairSlots>(params_.max_concurrency);
}

void PasswordHasher::FairSlots::Acquire() {
  std::unique_lock lock(mu_);
  if (free_ > 0 && queue_.empty()) {
    --free_;
    return;
  }
  // Each waiter sleeps on its own condition: a release wakes exactly one thread (no
  // herd of waiters competing for the cores the hashes need).
  Waiter self;
  queue_.push_back(&self);
  const auto started = std::chrono::steady_clock::now();
  self.cv.wait(lock, [&] { return self.granted; });
  ++waits_;
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

PasswordHasher::SlotStats PasswordHasher::FairSlots::Stats() {
  std::lock_guard lock(mu_);
  return SlotStats{count_, count_ - free_, static_cast<unsigned>(queue_.size()), waits_, wait_seconds_};
}

void PasswordHasher::FairSlots::Release() {
  std::lock_guard lock(mu_);
  if (queue_.empty()) {
    ++free_;
    return;
  }
  Waiter* next = queue_.front();
  queue_.pop_front();
  next->granted = true;
  next->cv.notify_one();
}

namespace {
// Holds one hashing slot for its lifetime.
template <class Slots>
class Slot {
 public:
  explicit Slot(Slots& s) : s_(s) { s_.Acquire(); }
  ~Slot() { s_.Release(); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  Slots& s_;
};
}  // namespace

core::Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  hashes_.fetch_add(1, std::memory_order_relaxed);
  Slot slot(*slots_);
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params_.ops_limit,
                            params_.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0)
    return core::Fail(core::ErrorCode::kResourceExhausted, "password hashing is out of memory");
  return std::string(out);
}

bool PasswordHasher::Verify(std::string_view phc, std::string_view password) const {
  const std::string terminated(phc);
  verifications_.fetch_add(1, std::memory_order_relaxed);
  Slot slot(*slots_);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

core::Result<bool> PasswordHasher::VerifyImported(std::string_view encoded, std::string_view password) const {
  Slot slot(*slots_);
  return VerifyLegacyPassword(encoded, password);
}

bool PasswordHasher::NeedsRehash(std::string_view phc) const {
  const std::string terminated(phc);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), params_.ops_limit,
                                        params_.mem_limit_bytes) != 0;
}

namespace {
constexpr std::string_view kPassphraseMagic = "RPW1";
constexpr std::string_view kPassphraseAd = "roster passphrase-sealed secret v1";
// argon2id t=3, m=64 MiB: a second or so, once per backup or restore.
constexpr std::uint32_t kPassphraseOps = 3;
constexpr std::uint32_t kPassphraseMemKib = 64 * 1024;

void PutU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint32_t GetU32(std::string_view in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}
bool DeriveFromPassphrase(SecretKey& key, std::string_view passphrase, std::string_view salt, std::uint32_t ops,
                          std::uint32_t mem_kib) {
  return crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(),
                       reinterpret_cast<const unsigned char*>(salt.data()), ops,
                       static_cast<std::size_t>(mem_kib) * 1024, crypto_pwhash_ALG_ARGON2ID13) == 0;
}
}  // namespace

std::string SealWithPassphrase(std::string_view secret, std::string_view passphrase) {
  std::string salt(crypto_pwhash_SALTBYTES, '\0');
  randombytes_buf(salt.data(), salt.size());
  SecretKey key;
  if (!DeriveFromPassphrase(key, passphrase, salt, kPassphraseOps, kPassphraseMemKib))
    throw std::runtime_error("cannot derive a key from the passphrase (out of memory)");
  std::string out(kPassphraseMagic);
  PutU32(out, kPassphraseOps);
  PutU32(out, kPassphraseMemKib);
  out += salt;
  out += Seal(key, secret, kPassphraseAd);
  return out;
}

core::Result<std::string> OpenWithPassphrase(std::string_view sealed, std::string_view passphrase) {
  const auto refused = core::Fail(core::ErrorCode::kPermissionDenied, "wrong passphrase or damaged key");
  const std::size_t head = kPassphraseMagic.size() + 8 + crypto_pwhash_SALTBYTES;
  if (sealed.size() <= head || sealed.substr(0, kPassphraseMagic.size()) != kPassphraseMagic) return refused;
  const std::uint32_t ops = GetU32(sealed.substr(4));
  const std::uint32_t mem_kib = GetU32(sealed.substr(8));
  if (ops < 1 || ops > 20 || mem_kib < 8 || mem_kib > 4 * 1024 * 1024) return refused;
  SecretKey key;
  if (!DeriveFromPassphrase(key, passphrase, sealed.substr(12, crypto_pwhash_SALTBYTES), ops, mem_kib))
    return refused;
  auto opened = Open(key, sealed.substr(head), kPassphraseAd);
  if (!opened) return refused;
  return opened;
}

}  // namespace roster::crypto
