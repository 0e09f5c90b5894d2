#include "crypto/legacy_password.h"

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "crypto/base64.h"
#include "crypto/crypto.h"

namespace roster::crypto {
namespace {

// Limits, see the header. They bound the cost of one verification whatever the input.
constexpr std::size_t kMaxEncodedLength = 4096;
constexpr std::size_t kMaxSaltBytes = 1024;
constexpr int kMinBcryptCost = 4, kMaxBcryptCost = 14;
constexpr std::uint64_t kMaxArgon2MemoryKiB = 65536, kMaxArgon2Passes = 10, kMaxArgon2Lanes = 8;
constexpr std::uint64_t kMaxPbkdf2Iterations = 1'000'000;
constexpr std::uint64_t kMaxScryptMemoryBytes = 64ull << 20, kMaxScryptWorkBytes = 256ull << 20;
constexpr std::uint64_t kMaxScryptParallelism = 16;

std::unexpected<core::Error> Malformed(std::string message) {
  return core::InvalidArgument("password", std::move(message));
}

const unsigned char* U(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Wipes a temporary copy of a password or derived key when it goes out of scope.
class Wiped {
 public:
  explicit Wiped(std::string value) : value_(std::move(value)) {}
  ~Wiped() { sodium_memzero(value_.data(), value_.size()); }
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  std::string& get() { return value_; }

 private:
  std::string value_;
};

std::uint64_t BigEndian(std::string_view bytes) {
  std::uint64_t out = 0;
  for (unsigned char c : bytes) out = out << 8 | c;
  return out;
}

// Strict unsigned decimal: digits only, no sign, no leading zeros.
std::optional<std::uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// ---- parsed forms -------------------------------------------------------------------

struct SaltedSha {
  const EVP_MD* md;
  std::string digest, salt;
};

struct Bcrypt {
  std::string setting;  // the whole "$2b$..." string; crypt reads cost and salt from it
};

struct Argon2 {
  bool id;               // argon2id, else argon2i
  std::string phc;       // the "$argon2..." string libsodium verifies
};

struct Pbkdf2 {
  const EVP_MD* md;
  std::string salt, key;
  std::uint32_t iterations;
};

struct Scrypt {
  std::string header;  // bytes 0..63, what the MAC covers
  std::string salt, mac;
  std::uint64_t n;
  std::uint32_t r, p;
};

using Parsed = std::variant<SaltedSha, Bcrypt, Argon2, Pbkdf2, Scrypt>;

// ---- parsers ------------------------------------------------------------------------

core::Result<Parsed> ParseSaltedSha(const EVP_MD* md, std::string_view body) {
  auto raw = Base64Decode(body);
  if (!raw) return Malformed("salted SHA value is not valid base64");
  const auto digest_size = static_cast<std::size_t>(EVP_MD_get_size(md));
  if (raw->size() <= digest_size || raw->size() - digest_size > kMaxSaltBytes)
    return Malformed("salted SHA value has the wrong length for its digest");
  return SaltedSha{md, raw->substr(0, digest_size), raw->substr(digest_size)};
}

bool IsBcryptBase64(char c) {
  return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9');
}

core::Result<Parsed> ParseBcrypt(std::string_view body) {
  // "$2b$" + two-digit cost + "$" + 22 salt + 31 hash characters.
  constexpr std::size_t kLength = 60;
  if (body.size() != kLength || body.substr(0, 2) != "$2" || body[3] != '$' || body[6] != '$')
    return Malformed("bcrypt value must look like $2b$10$ followed by 53 characters");
  if (body[2] != 'a' && body[2] != 'b' && body[2] != 'y')
    return Malformed("bcrypt variant must be $2a$, $2b$ or $2y$");
  if (body[4] < '0' || body[4] > '9' || body[5] < '0' || body[5] > '9')
    return Malformed("bcrypt cost must be two digits");
  const int value = (body[4] - '0') * 10 + (body[5] - '0');
  if (value < kMinBcryptCost || value > kMaxBcryptCost)
    return Malformed("bcrypt cost must be between 4 and 14");
  for (char c : body.substr(7))
    if (!IsBcryptBase64(c)) return Malformed("bcrypt salt and hash use an invalid character");
  return Bcrypt{std::string(body)};
}

// Splits "key=value" and checks the key.
std::optional<std::uint64_t> Argon2Param(std::string_view item, std::string_view key) {
  if (item.size() <= key.size() + 1 || item.substr(0, key.size()) != key || item[key.size()] != '=')
    return std::nullopt;
  return ParseDecimal(item.substr(key.size() + 1));
}

// Unpadded standard base64, as PHC strings use; returns the decoded size.
std::optional<std::size_t> PhcBase64Size(std::string_view text) {
  std::array<unsigned char, 128> out{};
  std::size_t length = 0;
  if (text.size() > 2 * out.size() ||
      sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length,
                        nullptr, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
    return std::nullopt;
  return length;
}

core::Result<Parsed> ParseArgon2(std::string_view body) {
  // $argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>
  std::vector<std::string_view> part;
  for (std::size_t start = 0;;) {
    const auto end = body.find('$', start);
    part.push_back(body.substr(start, end == body.npos ? body.npos : end - start));
    if (end == body.npos || part.size() > 6) break;
    start = end + 1;
  }
  if (part.size() != 6 || !part[0].empty())
    return Malformed("argon2 value must look like $argon2id$v=19$m=..,t=..,p=..$salt$hash");
  if (part[1] != "argon2id" && part[1] != "argon2i")
    return Malformed("argon2 variant must be argon2id or argon2i");
  if (part[2] != "v=19") return Malformed("argon2 version must be v=19");
  const std::string_view params = part[3];
  const auto c1 = params.find(','), c2 = params.find(',', c1 == params.npos ? c1 : c1 + 1);
  if (c1 == params.npos || c2 == params.npos)
    return Malformed("argon2 parameters must be m=..,t=..,p=..");
  const auto m = Argon2Param(params.substr(0, c1), "m");
  const auto t = Argon2Param(params.substr(c1 + 1, c2 - c1 - 1), "t");
  const auto p = Argon2Param(params.substr(c2 + 1), "p");
  if (!m || !t || !p) return Malformed("argon2 parameters must be m=..,t=..,p=..");
  if (*m > kMaxArgon2MemoryKiB) return Malformed("argon2 memory must be at most 65536 KiB");
  if (*t < 1 || *t > kMaxArgon2Passes) return Malformed("argon2 passes must be between 1 and 10");
  if (*p < 1 || *p > kMaxArgon2Lanes) return Malformed("argon2 lanes must be between 1 and 8");
  if (*m < 8 * *p) return Malformed("argon2 memory must be at least 8 KiB per lane");
  const auto salt = PhcBase64Size(part[4]);
  const auto hash = PhcBase64Size(part[5]);
  if (!salt || *salt < 8 || *salt > 64) return Malformed("argon2 salt must be 8..64 bytes of base64");
  if (!hash || *hash < 16 || *hash > 64) return Malformed("argon2 hash must be 16..64 bytes of base64");
  return Argon2{part[1] == "argon2id", std::string(body)};
}

core::Result<Parsed> ParsePbkdf2(std::string_view body) {
  auto decoded = Base64Decode(body);
  if (!decoded) return Malformed("PBKDF2 value is not valid base64");
  const std::string_view raw = *decoded;
  if (raw.size() < 4) return Malformed("PBKDF2 value is truncated");
  if (BigEndian(raw.substr(0, 2)) != 1) return Malformed("PBKDF2 version must be 1");
  const std::size_t salt_length = BigEndian(raw.substr(2, 2));
  if (salt_length < 1 || salt_length > kMaxSaltBytes)
    return Malformed("PBKDF2 salt length must be 1..1024 bytes");
  if (raw.size() < 4 + salt_length + 6) return Malformed("PBKDF2 value is truncated");
  const std::string_view salt = raw.substr(4, salt_length);
  const std::uint64_t iterations = BigEndian(raw.substr(4 + salt_length, 4));
  const std::uint64_t prf = BigEndian(raw.substr(8 + salt_length, 2));
  const std::string_view key = raw.substr(10 + salt_length);
  if (iterations < 1 || iterations > kMaxPbkdf2Iterations)
    return Malformed("PBKDF2 iterations must be between 1 and 1000000");
  const EVP_MD* md = prf == 1 ? EVP_sha1() : prf == 2 ? EVP_sha256() : prf == 3 ? EVP_sha512() : nullptr;
  if (md == nullptr) return Malformed("PBKDF2 function must be 1 (SHA-1), 2 (SHA-256) or 3 (SHA-512)");
  if (key.size() < 16 || key.size() > 64) return Malformed("PBKDF2 derived key must be 16..64 bytes");
  return Pbkdf2{md, std::string(salt), std::string(key), static_cast<std::uint32_t>(iterations)};
}

core::Result<Parsed> ParseScrypt(std::string_view body) {
  auto decoded = Base64Decode(body);
  if (!decoded) return Malformed("scrypt value is not valid base64");
  const std::string_view raw = *decoded;
  if (raw.size() != 96 || raw.substr(0, 6) != "scrypt" || raw[6] != '\0')
    return Malformed("scrypt value must be the 96-byte scrypt header");
  // The checksum catches a damaged import before any expensive work.
  unsigned char check[32];
  if (EVP_Digest(raw.data(), 48, check, nullptr, EVP_sha256(), nullptr) != 1 ||
      !SecretsEqual(raw.substr(48, 16), std::string_view(reinterpret_cast<char*>(check), 16)))
    return Malformed("scrypt header checksum does not match");
  const unsigned log_n = static_cast<unsigned char>(raw[7]);
  const std::uint64_t r = BigEndian(raw.substr(8, 4)), p = BigEndian(raw.substr(12, 4));
  if (log_n < 1 || log_n > 63 || r < 1 || p < 1) return Malformed("scrypt parameters are out of range");
  // 128 * N * r bytes of memory; compare in a width that cannot overflow: with
  // log_n <= 63 and r < 2^32 the memory check below rejects anything large first.
  if (log_n > 26 || r > (kMaxScryptMemoryBytes >> 7 >> log_n))
    return Malformed("scrypt memory (128 * N * r) must be at most 64 MiB");
  const std::uint64_t memory = (std::uint64_t{128} << log_n) * r;
  if (p > kMaxScryptParallelism || memory * p > kMaxScryptWorkBytes)
    return Malformed("scrypt parallelism must be at most 16 and 128 * N * r * p at most 256 MiB");
  return Scrypt{std::string(raw.substr(0, 64)), std::string(raw.substr(16, 32)),
                std::string(raw.substr(64, 32)), std::uint64_t{1} << log_n,
                static_cast<std::uint32_t>(r), static_cast<std::uint32_t>(p)};
}

core::Result<Parsed> Parse(std::string_view encoded) {
  if (encoded.size() > kMaxEncodedLength) return Malformed("pre-encoded password is too long");
  const auto close = encoded.find('}');
  if (encoded.empty() || encoded[0] != '{' || close == encoded.npos)
    return Malformed("pre-encoded password must start with a {SCHEME} prefix");
  // The scheme name is not echoed back: a mistyped value could be a cleartext password.
  const std::string_view scheme = encoded.substr(1, close - 1);
  const std::string_view body = encoded.substr(close + 1);
  if (EqualsIgnoreCase(scheme, "SSHA")) return ParseSaltedSha(EVP_sha1(), body);
  if (EqualsIgnoreCase(scheme, "SSHA256")) return ParseSaltedSha(EVP_sha256(), body);
  if (EqualsIgnoreCase(scheme, "SSHA384")) return ParseSaltedSha(EVP_sha384(), body);
  if (EqualsIgnoreCase(scheme, "SSHA512")) return ParseSaltedSha(EVP_sha512(), body);
  if (EqualsIgnoreCase(scheme, "BCRYPT")) return ParseBcrypt(body);
  if (EqualsIgnoreCase(scheme, "ARGON2")) return ParseArgon2(body);
  if (EqualsIgnoreCase(scheme, "PBKDF2")) return ParsePbkdf2(body);
  if (EqualsIgnoreCase(scheme, "SCRYPT")) return ParseScrypt(body);
  return Malformed(
      "unsupported password scheme; supported: {SSHA}, {SSHA256}, {SSHA384}, {SSHA512}, "
      "{BCRYPT}, {ARGON2}, {PBKDF2}, {SCRYPT}");
}

// ---- verifiers ----------------------------------------------------------------------

core::Result<bool> Verify(const SaltedSha& h, std::string_view password) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, h.md, nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
                  EVP_DigestUpdate(ctx, h.salt.data(), h.salt.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, out, &length) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return core::Internal("digest failed");
  const bool match = SecretsEqual(std::string_view(reinterpret_cast<char*>(out), length), h.digest);
  sodium_memzero(out, sizeof out);
  return match;
}

core::Result<bool> Verify(const Bcrypt& h, std::string_view password) {
  // crypt reads a C string: a password with a NUL byte cannot be the one that was hashed
  // by a system that hashed it in full, and must not match its truncated prefix.
  if (password.find('\0') != password.npos) return false;
  Wiped phrase{std::string(password)};
  auto data = std::make_unique<crypt_data>();
  errno = 0;
  const char* out = crypt_rn(phrase.get().c_str(), h.setting.c_str(), data.get(), sizeof(crypt_data));
  const bool match = out != nullptr && out[0] != '*' && SecretsEqual(out, h.setting);
  sodium_memzero(data.get(), sizeof(crypt_data));
  if (out == nullptr && errno == ENOMEM) return core::Fail(core::ErrorCode::kResourceExhausted, "out of memory");
  return match;
}

core::Result<bool> Verify(const Argon2& h, std::string_view password) {
  errno = 0;
  const int rc = h.id ? crypto_pwhash_argon2id_str_verify(h.phc.c_str(), password.data(), password.size())
                      : crypto_pwhash_argon2i_str_verify(h.phc.c_str(), password.data(), password.size());
  if (rc != 0 && errno == ENOMEM) return core::Fail(core::ErrorCode::kResourceExhausted, "out of memory");
  return rc == 0;
}

core::Result<bool> Verify(const Pbkdf2& h, std::string_view password) {
  Wiped key{std::string(h.key.size(), '\0')};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), U(h.salt),
                        static_cast<int>(h.salt.size()), static_cast<int>(h.iterations), h.md,
                        static_cast<int>(key.get().size()),
                        reinterpret_cast<unsigned char*>(key.get().data())) != 1)
    return core::Internal("PBKDF2 failed");
  return SecretsEqual(key.get(), h.key);
}

core::Result<bool> Verify(const Scrypt& h, std::string_view password) {
  Wiped key{std::string(64, '\0')};
  // OpenSSL counts V (128 * r * (N + 2)) and B (128 * r * p); allow both, and no more.
  const std::uint64_t max_memory = 128ull * h.r * (h.n + 2) + 128ull * h.r * h.p;
  if (EVP_PBE_scrypt(password.data(), password.size(), U(h.salt), h.salt.size(), h.n, h.r, h.p,
                     max_memory, reinterpret_cast<unsigned char*>(key.get().data()),
                     key.get().size()) != 1)
    return core::Fail(core::ErrorCode::kResourceExhausted, "scrypt could not run");
  // scrypt's own format proves the password with an HMAC keyed by the derived key's
  // second half, not by storing the key.
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const std::string_view hmac_key = std::string_view(key.get()).substr(32);
  if (HMAC(EVP_sha256(), hmac_key.data(), static_cast<int>(hmac_key.size()), U(h.header),
           h.header.size(), mac, &length) == nullptr)
    return core::Internal("HMAC failed");
  return SecretsEqual(std::string_view(reinterpret_cast<char*>(mac), length), h.mac);
}

}  // namespace

core::Status CheckLegacyPasswordFormat(std::string_view encoded) {
  auto parsed = Parse(encoded);
  if (!parsed) return std::unexpected(parsed.error());
  return {};
}

core::Result<bool> VerifyLegacyPassword(std::string_view encoded, std::string_view password) {
  auto parsed = Parse(encoded);
  if (!parsed) return std::unexpected(parsed.error());
  return std::visit([&](const auto& h) { return Verify(h, password); }, *parsed);
}

}  // namespace roster::crypto
