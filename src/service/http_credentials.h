// Passwords of accounts held as records (CommCare's web users) and the HTTP
// authentication schemes that check them: Basic (RFC 7617) against an argon2id hash, and
// Digest (RFC 7616: MD5 and SHA-256, qop=auth) against the stored HA1. The rules live
// here (what is stored, how a response is verified, nonce expiry and replay, throttling);
// a dialect parses the Authorization header into DigestResponse and renders the
// challenge.
//
// What is stored, in the account record's body (sealed under the environment's data key,
// like every record and profile; never in plaintext at rest, never logged):
//   "password_hash": argon2id PHC string (Basic),
//   "digest_realm":  the realm the HA1s were computed for,
//   "digest_ha1":    {"MD5": hex, "SHA-256": hex}, H(username:realm:password).
// An HA1 is a password equivalent for that realm (whoever holds it can answer Digest
// challenges), so it is only as safe as the data key; docs/security.md says so.
//
// Nonces are stateless: "<expiry ms>.<32 hex random>.<32 hex MAC>", the MAC keyed by the
// environment's index key, so a challenge costs no write. Replay refusal is stateful: the
// first use of a nonce creates a record (kind kDigestNonceKind, unique claim on the
// nonce, expiring with it) holding the highest nonce count seen; a response must carry a
// higher `nc` than any accepted before.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "service/services.h"

namespace roster::service {

inline constexpr const char* kDigestNonceKind = "http.digest.nonce";
// The Digest secret of a user of the directory (a CommCare mobile worker): a record of
// this kind per user (unique claim on the user id), body {"user_id", "password_fingerprint",
// "digest_realm", "digest_ha1"}, the HA1s as DigestSecrets makes them for web users.
inline constexpr const char* kUserDigestKind = "http.digest.user";
// Error::field of the kUnauthenticated answer for a well-formed response whose nonce has
// expired: the dialect's challenge says stale=true (the client retries with a new nonce
// without asking the user again).
inline constexpr const char* kStaleNonceField = "nonce.stale";

enum class DigestAlgorithm { kMd5, kSha256 };
std::string_view DigestAlgorithmName(DigestAlgorithm algorithm);  // "MD5", "SHA-256"
// Case-insensitive; absent (empty) means MD5 (RFC 7616 §3.4). nullopt: not supported
// (the -sess variants included).
std::optional<DigestAlgorithm> ParseDigestAlgorithm(std::string_view name);
// Hex H(text) for the algorithm.
std::string DigestHash(DigestAlgorithm algorithm, std::string_view text);

// The parameters of an `Authorization: Digest ...` header, unquoted.
struct DigestResponse {
  std::string username, realm, nonce, uri, response, algorithm, cnonce, nc, qop;
};

struct DigestPolicy {
  std::int64_t nonce_lifetime_ms = 5 * 60 * 1000;
};

class HttpCredentials {
 public:
  HttpCredentials(const Services& services, std::string realm, DigestPolicy policy = {})
      : s_(services), realm_(std::move(realm)), policy_(policy) {}

  const std::string& realm() const { return realm_; }

  // The body members that store `password` for the account `username` (see above).
  // kInvalidArgument (field "password") for an empty password or one over 1024 bytes.
  core::Result<boost::json::object> PasswordSecrets(std::string_view username, std::string_view password) const;
  // The Digest members of PasswordSecrets alone ("digest_realm", "digest_ha1").
  boost::json::object DigestSecrets(std::string_view username, std::string_view password) const;

  // HTTP Basic with a password: one token of the sign-in throttle for the client address
  // (kResourceExhausted with retry_after_s when spent; not per username, which anyone
  // could name to drain another's bucket), then one argon2id
  // verification against account["password_hash"] (a dummy one when `account` is null
  // or has no password, so an unknown user costs the same). kUnauthenticated if wrong.
  core::Status VerifyPassword(const boost::json::object* account, const std::string& password,
                              std::string_view address);

  // Users of the directory (CommCare's mobile workers) with their own password.
  //
  // The Digest secret of user `user_id` of `environment_id`, for `username` and its
  // `password` (just set, or just verified): written to the user's kUserDigestKind record
  // with the fingerprint (SHA-256) of the password hash the user holds now. A password
  // set later by any API, removed, or re-hashed, changes that hash, and the secret then
  // answers nothing (VerifyUserDigest) until this is called again: the record needs no
  // write in the user's own transaction to stay safe. No write when the record is current.
  core::Status StoreUserDigest(const std::string& environment_id, const std::string& user_id,
                               std::string_view username, const std::string& password);
  // HTTP Basic with a user's password, checked as a sign-in (UserService::CheckSignIn: the
  // lockout counts, inactive, retired and locked users refused) after one token of the
  // sign-in throttle for the address, opening no session. On success the user's Digest
  // secret is (re)stored when it is missing or stale (StoreUserDigest). kUnauthenticated,
  // kResourceExhausted (retry_after_s).
  core::Result<core::User> VerifyUserPassword(const std::string& environment_id, const std::string& username,
                                              const std::string& password, std::string_view address);
  // HTTP Digest for a user of `environment_id` with a nonce issued for
  // `nonce_environment_id` (the environment the request was made to): VerifyDigest against
  // the user's current Digest secret, inside UserService::CheckSignIn (lockout counts,
  // inactive and retired users refused). Errors as VerifyDigest's.
  core::Result<core::User> VerifyUserDigest(const std::string& nonce_environment_id,
                                            const std::string& environment_id, const DigestResponse& r,
                                            std::string_view method, std::string_view request_target,
                                            std::string_view address);

  // A fresh nonce for a challenge on `environment_id`.
  core::Result<std::string> IssueNonce(const std::string& environment_id);

  // Verifies a Digest response for `method` on `request_target` (path and query as sent)
  // against `account` (null: unknown user, refused). Takes one token of the session
  // throttle for the client address (60 at once, 60 a minute by default) when the nonce
  // is not yet proven by `r.username` (a response of that username verified with it),
  // before the response is checked: guesses pay, a client reusing its nonce does not. kUnauthenticated for anything wrong: another
  // realm, unsupported algorithm or qop, a uri that is not the request's, a forged or
  // another environment's nonce, a wrong response, or a nonce count not above the last
  // accepted (replay); field kStaleNonceField when only the nonce's age is wrong.
  core::Status VerifyDigest(const std::string& environment_id, const boost::json::object* account,
                            const DigestResponse& r, std::string_view method, std::string_view request_target,
                            std::string_view address);

 private:
  // The user's Digest secret record, if it matches the password hash the user holds now.
  core::Result<std::optional<boost::json::object>> CurrentUserDigest(const std::string& environment_id,
                                                                     const std::string& user_id);
  core::Result<std::string> PasswordFingerprint(const std::string& environment_id, const std::string& user_id);
  core::Result<std::string> NonceMac(const std::string& environment_id, std::string_view payload);
  core::Status AcceptNonceCount(const std::string& environment_id, const std::string& nonce, const std::string& username,
                                std::int64_t expires_ms,
                                std::int64_t nc);

  Services s_;
  std::string realm_;
  DigestPolicy policy_;
};

}  // namespace roster::service
