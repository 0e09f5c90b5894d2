// HS256 JSON Web Tokens (RFC 7519, compact JWS of RFC 7515) for the access tokens the
// PingOne dialect issues to worker applications. Pure functions, no I/O.
//
// Roster both issues and checks these tokens, so verification accepts exactly what
// SignJwt produces and nothing looser: the header must name alg "HS256" (never "none",
// another algorithm, or a key the token carries itself), the HMAC is compared in
// constant time before any claim is read, and every registered claim we rely on must
// be present with the right JSON type. Every failure is kUnauthenticated with a short
// reason that never repeats the token or any value from it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace roster::dialects::pingone {

// The claims of a worker-app access token. Member names are the JSON claim names.
struct AccessClaims {
  std::string iss;        // issuer: the environment's auth base URL
  std::string aud;        // audience: the API base URL the token is good for
  std::string sub;        // subject: the worker application's client id
  std::string env;        // environment id
  std::string client_id;  // the worker application's client id
  std::int64_t iat = 0;   // issued at, seconds since the Unix epoch
  std::int64_t exp = 0;   // expires at, seconds since the Unix epoch
  std::string jti;        // unique token id
  std::string scope;      // space-separated scopes; may be empty
  std::int64_t gen = 0;   // the application's secret generation when issued (0 if absent)
};

// What the verifier requires of a token besides a good signature.
struct JwtExpectations {
  std::string issuer;       // iss must equal this exactly
  std::string audience;     // aud must be a string equal to this exactly
  std::int64_t now = 0;     // current time, seconds since the Unix epoch
  std::int64_t leeway = 0;  // seconds of clock skew tolerated on exp, iat and nbf
};

// Tokens longer than this are refused before any parsing.
inline constexpr std::size_t kMaxJwtLength = 8192;

// header.payload.signature with header {"alg":"HS256","typ":"JWT"}. `key` must not be
// empty (a programming error: the token would not verify).
std::string SignJwt(const AccessClaims& claims, std::string_view key);

// The claims of `token` if it is an HS256 JWT signed with `key` that meets
// `expected`: exactly three base64url segments (no padding), a JSON object header
// whose alg is exactly "HS256" and that has no "crit" member (other header members,
// jku, x5u, jwk, kid included, are ignored and never used to find a key), a valid
// signature, a JSON object payload with string iss, aud, sub, env, client_id, jti and
// integer iat, exp (scope: a string, gen: an integer, if present), exp > now - leeway, iat <= now +
// leeway, nbf (if present, an integer) <= now + leeway, and iss/aud equal to the
// expectations. An empty `key` verifies nothing.
core::Result<AccessClaims> VerifyJwt(std::string_view token, std::string_view key,
                                     const JwtExpectations& expected);

}  // namespace roster::dialects::pingone
