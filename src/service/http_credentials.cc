#include "service/http_credentials.h"

#include <charconv>

#include "crypto/crypto.h"
#include "crypto/mac.h"
#include "crypto/md5.h"
#include "service/throttle.h"

namespace roster::service {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr std::size_t kMaxPassword = 1024;

// argon2id at the default parameters (crypto::PasswordParams): verification reads the
// parameters from the stored PHC string, so only new hashes and the dummy use these. Its
// own concurrency cap (one hash per core), beside the user service's.
const crypto::PasswordHasher& Hasher() {
  static const crypto::PasswordHasher hasher{crypto::PasswordParams{}};
  return hasher;
}

// Verifies against `phc`; an empty one costs a dummy verification, then fails, so an
// unknown account answers as slowly as a wrong password.
bool VerifyHash(std::string_view phc, const std::string& password) {
  if (!phc.empty()) return Hasher().Verify(phc, password);
  static const std::string dummy = Hasher().Hash(crypto::RandomToken()).value_or("");
  (void)Hasher().Verify(dummy, password);
  return false;
}

std::unexpected<core::Error> Refused(std::string message = "Invalid credentials.", std::string field = "") {
  core::Error e{ErrorCode::kUnauthenticated, std::move(message), std::move(field)};
  return std::unexpected(std::move(e));
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view Text(const json::object* o, std::string_view key) {
  if (!o) return {};
  const auto* v = o->if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

bool IsHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return !s.empty();
}

}  // namespace

std::string_view DigestAlgorithmName(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kSha256 ? "SHA-256" : "MD5";
}

std::optional<DigestAlgorithm> ParseDigestAlgorithm(std::string_view name) {
  if (name.empty() || IEquals(name, "MD5")) return DigestAlgorithm::kMd5;
  if (IEquals(name, "SHA-256")) return DigestAlgorithm::kSha256;
  return std::nullopt;
}

std::string DigestHash(DigestAlgorithm algorithm, std::string_view text) {
  return crypto::ToHex(algorithm == DigestAlgorithm::kSha256 ? crypto::Digest(crypto::MacAlgorithm::kSha256, text)
                                                              : crypto::Md5(text));
}

core::Result<json::object> HttpCredentials::PasswordSecrets(std::string_view username,
                                                            std::string_view password) const {
  if (password.empty()) return core::InvalidArgument("password", "password must not be empty");
  if (password.size() > kMaxPassword) return core::InvalidArgument("password", "password is too long");
  auto hash = Hasher().Hash(password);
  if (!hash) return std::unexpected(hash.error());
  json::object out = DigestSecrets(username, password);
  out["password_hash"] = *hash;
  return out;
}

json::object HttpCredentials::DigestSecrets(std::string_view username, std::string_view password) const {
  const std::string a1 = std::string(username) + ":" + realm_ + ":" + std::string(password);
  json::object out;
  out["digest_realm"] = realm_;
  out["digest_ha1"] = json::object{{"MD5", DigestHash(DigestAlgorithm::kMd5, a1)},
                                   {"SHA-256", DigestHash(DigestAlgorithm::kSha256, a1)}};
  return out;
}

core::Result<std::string> HttpCredentials::PasswordFingerprint(const std::string& environment_id,
                                                               const std::string& user_id) {
  auto phc = s_.users.PasswordHashOf(environment_id, user_id);
  if (!phc) return std::unexpected(phc.error());
  return crypto::ToHex(crypto::Digest(crypto::MacAlgorithm::kSha256, *phc));
}

core::Result<std::optional<json::object>> HttpCredentials::CurrentUserDigest(const std::string& environment_id,
                                                                            const std::string& user_id) {
  using None = std::optional<json::object>;
  auto found = s_.records.Find(environment_id, kUserDigestKind, user_id);
  if (!found) return std::unexpected(found.error());
  if (found->empty()) return None();
  auto fingerprint = PasswordFingerprint(environment_id, user_id);
  if (!fingerprint) {
    if (fingerprint.error().code == ErrorCode::kNotFound) return None();  // no password (any more)
    return std::unexpected(fingerprint.error());
  }
  const json::object& body = found->front().body;
  if (Text(&body, "user_id") != user_id ||
      !crypto::SecretsEqual(std::string(Text(&body, "password_fingerprint")), *fingerprint))
    return None();
  return None(body);
}

core::Status HttpCredentials::StoreUserDigest(const std::string& environment_id, const std::string& user_id,
                                              std::string_view username, const std::string& password) {
  if (password.empty() || password.size() > kMaxPassword) return core::InvalidArgument("password", "bad password");
  auto fingerprint = PasswordFingerprint(environment_id, user_id);
  if (!fingerprint) return std::unexpected(fingerprint.error());
  json::object body = DigestSecrets(username, password);
  body["user_id"] = user_id;
  body["password_fingerprint"] = *fingerprint;
  const auto claims = [&user_id](const Record&) { return std::vector<Claim>{{kUserDigestKind, user_id, true}}; };
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto found = s_.records.Find(environment_id, kUserDigestKind, user_id);
    if (!found) return std::unexpected(found.error());
    if (found->empty()) {
      NewRecordRequest request;
      request.environment_id = environment_id;
      request.kind = kUserDigestKind;
      request.body = body;
      request.claims = claims(Record{});
      auto created = s_.records.Create(request);
      if (created) return {};
      if (created.error().code != ErrorCode::kAlreadyExists) return std::unexpected(created.error());
      continue;  // written concurrently: replace it
    }
    if (found->front().body == body) return {};
    auto updated = s_.records.Update(
        environment_id, kUserDigestKind, found->front().id,
        [&body](Record& r) -> core::Status {
          r.body = body;
          return {};
        },
        claims);
    if (updated) return {};
    if (updated.error().code == ErrorCode::kNotFound) continue;
    return std::unexpected(updated.error());
  }
  return core::Fail(ErrorCode::kAborted, "the Digest secret is being written concurrently; retry");
}

core::Result<core::User> HttpCredentials::VerifyUserPassword(const std::string& environment_id,
                                                             const std::string& username, const std::string& password,
                                                             std::string_view address) {
  if (auto st = s_.users.Admit(ThrottledAction::kSignIn, address, ""); !st) return std::unexpected(st.error());
  auto user = s_.users.CheckSignIn(environment_id, username, address, s_.users.PasswordCheck(environment_id, password));
  if (!user) return std::unexpected(user.error());
  // The password is known to be right here: Digest needs its secret for it.
  auto current = CurrentUserDigest(environment_id, user->id);
  if (current && !*current) (void)StoreUserDigest(environment_id, user->id, user->username, password);
  return user;
}

core::Result<core::User> HttpCredentials::VerifyUserDigest(const std::string& nonce_environment_id,
                                                           const std::string& environment_id, const DigestResponse& r,
                                                           std::string_view method, std::string_view request_target,
                                                           std::string_view address) {
  return s_.users.CheckSignIn(
      environment_id, r.username, address, [&](const core::User* user) -> core::Result<bool> {
        std::optional<json::object> secret;
        if (user) {
          auto current = CurrentUserDigest(environment_id, user->id);
          if (!current) return std::unexpected(current.error());
          secret = std::move(*current);
        }
        auto st = VerifyDigest(nonce_environment_id, secret ? &*secret : nullptr, r, method, request_target, address);
        if (st) return true;
        // A wrong response is a wrong password; the rest (throttle, stale, replay) is said as is.
        if (st.error().code == ErrorCode::kUnauthenticated && st.error().field.empty() &&
            st.error().message == "Invalid credentials.")
          return false;
        return std::unexpected(st.error());
      });
}

core::Status HttpCredentials::VerifyPassword(const json::object* account, const std::string& password,
                                             std::string_view address) {
  if (auto st = s_.users.Admit(ThrottledAction::kSignIn, address, ""); !st) return st;
  // An unknown account or one without a password costs one (dummy) verification too.
  if (!VerifyHash(Text(account, "password_hash"), password)) return Refused();
  return {};
}

core::Result<std::string> HttpCredentials::NonceMac(const std::string& environment_id, std::string_view payload) {
  auto keys = s_.directory.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  return crypto::ToHex(crypto::BlindIndex(keys->index, kDigestNonceKind, payload)).substr(0, 32);
}

core::Result<std::string> HttpCredentials::IssueNonce(const std::string& environment_id) {
  const std::string payload =
      std::to_string(s_.clock.NowMillis() + policy_.nonce_lifetime_ms) + "." + crypto::RandomToken().substr(0, 32);
  auto mac = NonceMac(environment_id, payload);
  if (!mac) return std::unexpected(mac.error());
  return payload + "." + *mac;
}

core::Status HttpCredentials::AcceptNonceCount(const std::string& environment_id, const std::string& nonce,
                                               const std::string& username,
                                               std::int64_t expires_ms, std::int64_t nc) {
  const auto claims = [&nonce](const Record&) { return std::vector<Claim>{{kDigestNonceKind, nonce, true}}; };
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto found = s_.records.Find(environment_id, kDigestNonceKind, nonce);
    if (!found) return std::unexpected(found.error());
    if (found->empty()) {
      NewRecordRequest request;
      request.environment_id = environment_id;
      request.kind = kDigestNonceKind;
      request.body = json::object{{"nc", nc}, {"username", username}};
      request.claims = claims(Record{});
      request.expires_at_ms = expires_ms;
      auto created = s_.records.Create(request);
      if (created) return {};
      if (created.error().code != ErrorCode::kAlreadyExists) return std::unexpected(created.error());
      continue;  // another request used the nonce first: compare with its count
    }
    const Record& seen = found->front();
    auto updated = s_.records.Update(
        environment_id, kDigestNonceKind, seen.id,
        [nc](Record& r) -> core::Status {
          const auto* last = r.body.if_contains("nc");
          if (last && last->is_int64() && last->get_int64() >= nc)
            return core::Fail(ErrorCode::kUnauthenticated, "The nonce count was used before (replay).");
          r.body["nc"] = nc;
          return {};
        },
        claims);
    if (updated) return {};
    if (updated.error().code == ErrorCode::kNotFound) continue;  // expired and purged meanwhile
    return std::unexpected(updated.error());
  }
  return core::Fail(ErrorCode::kAborted, "the nonce is in use by concurrent requests; retry");
}

core::Status HttpCredentials::VerifyDigest(const std::string& environment_id, const json::object* account,
                                           const DigestResponse& r, std::string_view method,
                                           std::string_view request_target, std::string_view address) {
  const auto algorithm = ParseDigestAlgorithm(r.algorithm);
  if (!algorithm) return Refused("Unsupported Digest algorithm: use MD5 or SHA-256.");
  if (r.realm != realm_) return Refused();
  if (r.qop != "auth") return Refused("Digest responses must use qop=auth.");
  if (r.uri != request_target) return Refused("The Digest uri is not the request's.");
  if (r.nc.size() != 8 || !IsHex(r.nc) || r.cnonce.empty()) return Refused("Malformed Digest nc or cnonce.");
  // The nonce: ours (MAC), for this environment, and not expired.
  const std::size_t first = r.nonce.find('.');
  const std::size_t last = r.nonce.rfind('.');
  if (first == std::string::npos || first == last) return Refused();
  const std::string payload = r.nonce.substr(0, last);
  auto mac = NonceMac(environment_id, payload);
  if (!mac) return std::unexpected(mac.error());
  if (!crypto::SecretsEqual(*mac, std::string_view(r.nonce).substr(last + 1))) return Refused();
  std::int64_t expires_ms = 0;
  if (std::from_chars(payload.data(), payload.data() + first, expires_ms).ec != std::errc()) return Refused();
  // The throttle counts guesses, not requests: a nonce this username already proved (its
  // record is written only once a response of the username verified) is the password
  // holder's, and its later requests cost nothing; any other response costs one token of
  // the address's session bucket, before anything about the password is computed. So a
  // client paging with one nonce pays once per nonce lifetime, and a guess (which never
  // proves its nonce for the username it guesses) pays every time.
  auto proven = s_.records.Find(environment_id, kDigestNonceKind, r.nonce);
  if (!proven) return std::unexpected(proven.error());
  const bool own_nonce =
      !proven->empty() && Text(&proven->front().body, "username") == std::string_view(r.username);
  if (!own_nonce)
    if (auto st = s_.users.Admit(ThrottledAction::kSession, address, ""); !st) return st;
  // The response, against the HA1 stored for this realm.
  const json::object* ha1s = nullptr;
  if (account && Text(account, "digest_realm") == realm_) {
    if (const auto* h = account->if_contains("digest_ha1"); h && h->is_object()) ha1s = &h->get_object();
  }
  const std::string_view ha1 = Text(ha1s, DigestAlgorithmName(*algorithm));
  const std::string ha2 = DigestHash(*algorithm, std::string(method) + ":" + r.uri);
  const std::string expected =
      DigestHash(*algorithm, std::string(ha1) + ":" + r.nonce + ":" + r.nc + ":" + r.cnonce + ":" + r.qop + ":" + ha2);
  if (ha1.empty() || !crypto::SecretsEqual(expected, r.response)) return Refused();
  if (expires_ms <= s_.clock.NowMillis()) return Refused("The nonce has expired.", kStaleNonceField);
  const auto nc = static_cast<std::int64_t>(std::stoull(r.nc, nullptr, 16));
  return AcceptNonceCount(environment_id, r.nonce, r.username, expires_ms, nc);
}

}  // namespace roster::service
