#include "dialects/pingone/jwt.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <optional>

#include "crypto/base64.h"
#include "crypto/crypto.h"
#include "crypto/mac.h"

namespace roster::dialects::pingone {
namespace {

namespace json = boost::json;

// The one header SignJwt writes; verification parses headers rather than comparing to
// this, so tokens stay valid if member order or typ ever change.
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

std::unexpected<core::Error> Unauthenticated(std::string reason) {
  return core::Fail(core::ErrorCode::kUnauthenticated, "invalid access token: " + std::move(reason));
}

std::string Sign(std::string_view signing_input, std::string_view key) {
  return crypto::Hmac(crypto::MacAlgorithm::kSha256, key, signing_input);
}

// A base64url segment holding a JSON object, or nullopt.
std::optional<json::object> DecodeObject(std::string_view segment) {
  auto bytes = crypto::Base64UrlDecode(segment);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(*bytes, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

// Splits at '.' into exactly three non-empty segments.
std::optional<std::array<std::string_view, 3>> Segments(std::string_view token) {
  const auto first = token.find('.');
  if (first == token.npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == token.npos || token.find('.', second + 1) != token.npos) return std::nullopt;
  std::array<std::string_view, 3> out{token.substr(0, first),
                                      token.substr(first + 1, second - first - 1),
                                      token.substr(second + 1)};
  for (auto s : out)
    if (s.empty()) return std::nullopt;
  return out;
}

bool ReadString(const json::object& o, std::string_view name, std::string& out) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return false;
  out = std::string(v->as_string());
  return true;
}

// NumericDate as an integer; fractional or out-of-range values are refused because
// SignJwt never writes them.
bool ReadInteger(const json::value& v, std::int64_t& out) {
  if (v.is_int64()) {
    out = v.as_int64();
    return true;
  }
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(v.as_uint64());
    return true;
  }
  return false;
}

bool ReadInteger(const json::object& o, std::string_view name, std::int64_t& out) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && ReadInteger(*v, out);
}

core::Status CheckHeader(std::string_view segment) {
  auto header = DecodeObject(segment);
  if (!header) return Unauthenticated("malformed header");
  const json::value* alg = header->if_contains("alg");
  // Exact, case-sensitive: "none", "hs256", "HS512" and RS256 are all refused, so the
  // token can never pick a weaker check or a key of its own.
  if (alg == nullptr || !alg->is_string() || alg->as_string() != "HS256")
    return Unauthenticated("unsupported algorithm");
  // RFC 7515 4.1.11: a recipient must reject extensions it does not understand.
  if (header->contains("crit")) return Unauthenticated("unsupported critical header");
  return {};
}

core::Result<AccessClaims> ReadClaims(const json::object& payload) {
  AccessClaims c;
  if (!ReadString(payload, "iss", c.iss) || !ReadString(payload, "aud", c.aud) ||
      !ReadString(payload, "sub", c.sub) || !ReadString(payload, "env", c.env) ||
      !ReadString(payload, "client_id", c.client_id) || !ReadString(payload, "jti", c.jti))
    return Unauthenticated("missing or malformed claim");
  if (!ReadInteger(payload, "iat", c.iat) || !ReadInteger(payload, "exp", c.exp))
    return Unauthenticated("missing or malformed time claim");
  if (payload.contains("scope") && !ReadString(payload, "scope", c.scope))
    return Unauthenticated("malformed scope claim");
  if (payload.contains("gen") && !ReadInteger(payload, "gen", c.gen)) return Unauthenticated("malformed gen claim");
  return c;
}

// later - earlier for later >= earlier, exact over the whole int64 range.
std::uint64_t Gap(std::int64_t later, std::int64_t earlier) {
  return static_cast<std::uint64_t>(later) - static_cast<std::uint64_t>(earlier);
}

core::Status CheckTimes(const json::object& payload, const AccessClaims& c,
                        const JwtExpectations& expected) {
  // Differences via Gap, so a hostile exp or iat near the int64 limits cannot overflow.
  const auto now = expected.now;
  const std::uint64_t leeway = expected.leeway < 0 ? 0 : static_cast<std::uint64_t>(expected.leeway);
  // Valid while now < exp + leeway.
  if (c.exp <= now && Gap(now, c.exp) >= leeway) return Unauthenticated("token has expired");
  if (c.iat > now && Gap(c.iat, now) > leeway) return Unauthenticated("token is issued in the future");
  if (const json::value* nbf = payload.if_contains("nbf")) {
    std::int64_t not_before = 0;
    if (!ReadInteger(*nbf, not_before)) return Unauthenticated("missing or malformed time claim");
    if (not_before > now && Gap(not_before, now) > leeway) return Unauthenticated("token is not yet valid");
  }
  return {};
}

}  // namespace

std::string SignJwt(const AccessClaims& claims, std::string_view key) {
  json::object payload;
  payload["iss"] = claims.iss;
  payload["aud"] = claims.aud;
  payload["sub"] = claims.sub;
  payload["env"] = claims.env;
  payload["client_id"] = claims.client_id;
  payload["iat"] = claims.iat;
  payload["exp"] = claims.exp;
  payload["jti"] = claims.jti;
  payload["scope"] = claims.scope;
  if (claims.gen != 0) payload["gen"] = claims.gen;  // absent reads as 0
  std::string token = crypto::Base64UrlEncode(kHeader) + '.' +
                      crypto::Base64UrlEncode(json::serialize(payload));
  const std::string signature = crypto::Base64UrlEncode(Sign(token, key));
  return token + '.' + signature;
}

core::Result<AccessClaims> VerifyJwt(std::string_view token, std::string_view key,
                                     const JwtExpectations& expected) {
  if (key.empty()) return Unauthenticated("no verification key");
  if (token.size() > kMaxJwtLength) return Unauthenticated("token is too long");
  const auto segments = Segments(token);
  if (!segments) return Unauthenticated("token must have three segments");
  const auto& [header, payload, signature] = *segments;

  if (auto ok = CheckHeader(header); !ok) return std::unexpected(ok.error());

  // The signature covers the segments as sent, so check it before reading any claim.
  auto sent = crypto::Base64UrlDecode(signature);
  if (!sent) return Unauthenticated("malformed signature");
  const std::string_view signing_input = token.substr(0, header.size() + 1 + payload.size());
  if (!crypto::SecretsEqual(Sign(signing_input, key), *sent)) return Unauthenticated("bad signature");

  const auto object = DecodeObject(payload);
  if (!object) return Unauthenticated("malformed payload");
  auto claims = ReadClaims(*object);
  if (!claims) return claims;
  if (auto ok = CheckTimes(*object, *claims, expected); !ok) return std::unexpected(ok.error());
  if (claims->iss != expected.issuer) return Unauthenticated("wrong issuer");
  if (claims->aud != expected.audience) return Unauthenticated("wrong audience");
  return claims;
}

}  // namespace roster::dialects::pingone
