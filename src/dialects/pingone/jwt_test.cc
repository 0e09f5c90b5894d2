#include "dialects/pingone/jwt.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <climits>
#include <string>

#include "crypto/base64.h"
#include "crypto/crypto.h"
#include "crypto/mac.h"

namespace roster::dialects::pingone {
namespace {

namespace json = boost::json;

constexpr std::string_view kKey = "0123456789abcdef0123456789abcdef";
constexpr std::int64_t kNow = 1700000000;

AccessClaims SampleClaims() {
  AccessClaims c;
  c.iss = "https://auth.example.test/env-1/as";
  c.aud = "https://api.example.test";
  c.sub = "client-1";
  c.env = "env-1";
  c.client_id = "client-1";
  c.iat = kNow;
  c.exp = kNow + 3600;
  c.jti = "token-1";
  c.scope = "p1:read:user p1:update:user";
  return c;
}

JwtExpectations Expect(std::int64_t now = kNow, std::int64_t leeway = 0) {
  return {"https://auth.example.test/env-1/as", "https://api.example.test", now, leeway};
}

json::object SamplePayload() {
  const AccessClaims c = SampleClaims();
  return {{"iss", c.iss}, {"aud", c.aud},   {"sub", c.sub}, {"env", c.env},    {"client_id", c.client_id},
          {"iat", c.iat}, {"exp", c.exp},   {"jti", c.jti}, {"scope", c.scope}};
}

std::string B64(std::string_view bytes) { return crypto::Base64UrlEncode(bytes); }

// A token assembled by hand, the way an attacker would: any header and payload text,
// signed with HS256 (or HS512) under `key`.
std::string Forge(std::string_view header, std::string_view payload, std::string_view key = kKey,
                  crypto::MacAlgorithm mac = crypto::MacAlgorithm::kSha256) {
  const std::string input = B64(header) + "." + B64(payload);
  return input + "." + B64(crypto::Hmac(mac, key, input));
}

std::string Forge(std::string_view header, const json::object& payload, std::string_view key = kKey) {
  return Forge(header, json::serialize(payload), key);
}

constexpr std::string_view kGoodHeader = R"({"alg":"HS256","typ":"JWT"})";

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override { crypto::Init(); }

  // Rejected as kUnauthenticated with a reason that contains no part of the token.
  static void ExpectRejected(const std::string& token, std::string_view reason_part = {},
                             const JwtExpectations& expected = Expect(), std::string_view key = kKey) {
    auto result = VerifyJwt(token, key, expected);
    ASSERT_FALSE(result.has_value()) << "accepted: " << token;
    EXPECT_EQ(result.error().code, core::ErrorCode::kUnauthenticated);
    if (!reason_part.empty()) {
      EXPECT_NE(result.error().message.find(reason_part), std::string::npos) << result.error().message;
    }
    std::size_t start = 0;
    while (start < token.size()) {
      auto dot = token.find('.', start);
      if (dot == std::string::npos) dot = token.size();
      const std::string segment = token.substr(start, dot - start);
      if (segment.size() >= 6) {
        EXPECT_EQ(result.error().message.find(segment), std::string::npos) << result.error().message;
      }
      start = dot + 1;
    }
  }
};

TEST_F(JwtTest, MatchesAnIndependentImplementation) {
  // python3: b64u(json.dumps(claims, separators=(",", ":"))) in the same member order,
  // signed with hmac.new(key, header + "." + payload, hashlib.sha256).
  EXPECT_EQ(SignJwt(SampleClaims(), kKey),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS50ZXN0L2Vudi0xL2FzIiwiYXVkIjoiaHR0cHM6Ly9hcGkuZXhh"
            "bXBsZS50ZXN0Iiwic3ViIjoiY2xpZW50LTEiLCJlbnYiOiJlbnYtMSIsImNsaWVudF9pZCI6ImNsaWVudC0xIiwi"
            "aWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAsImp0aSI6InRva2VuLTEiLCJzY29wZSI6InAxOnJlYWQ6"
            "dXNlciBwMTp1cGRhdGU6dXNlciJ9."
            "IXpKm1C0WInZk0VvWjNYwUmhSHLNNZ1W0C-WK_RIZIA");
}

TEST_F(JwtTest, RoundTripsEveryClaim) {
  auto claims = VerifyJwt(SignJwt(SampleClaims(), kKey), kKey, Expect());
  ASSERT_TRUE(claims.has_value()) << claims.error().message;
  const AccessClaims want = SampleClaims();
  EXPECT_EQ(claims->iss, want.iss);
  EXPECT_EQ(claims->aud, want.aud);
  EXPECT_EQ(claims->sub, want.sub);
  EXPECT_EQ(claims->env, want.env);
  EXPECT_EQ(claims->client_id, want.client_id);
  EXPECT_EQ(claims->iat, want.iat);
  EXPECT_EQ(claims->exp, want.exp);
  EXPECT_EQ(claims->jti, want.jti);
  EXPECT_EQ(claims->scope, want.scope);
}

TEST_F(JwtTest, TokensAreUrlSafeWithoutPadding) {
  AccessClaims c = SampleClaims();
  c.scope = "?>?>?>~~~>>>?~?~";  // bytes that give + and / in the standard alphabet
  const std::string token = SignJwt(c, kKey);
  EXPECT_EQ(token.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
            std::string::npos);
  EXPECT_TRUE(VerifyJwt(token, kKey, Expect()).has_value());
}

TEST_F(JwtTest, ScopeIsOptional) {
  json::object payload = SamplePayload();
  payload.erase("scope");
  auto claims = VerifyJwt(Forge(kGoodHeader, payload), kKey, Expect());
  ASSERT_TRUE(claims.has_value()) << claims.error().message;
  EXPECT_EQ(claims->scope, "");
}

TEST_F(JwtTest, GenerationRoundTripsAndIsZeroWhenAbsent) {
  AccessClaims c = SampleClaims();
  c.gen = 7;
  auto claims = VerifyJwt(SignJwt(c, kKey), kKey, Expect());
  ASSERT_TRUE(claims.has_value()) << claims.error().message;
  EXPECT_EQ(claims->gen, 7);
  auto plain = VerifyJwt(SignJwt(SampleClaims(), kKey), kKey, Expect());
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  EXPECT_EQ(plain->gen, 0);
  for (json::value bad : {json::value("7"), json::value(7.5), json::value(true), json::value(nullptr)}) {
    json::object payload = SamplePayload();
    payload["gen"] = bad;
    ExpectRejected(Forge(kGoodHeader, payload), "gen claim");
  }
}

// ---- header -------------------------------------------------------------------------

TEST_F(JwtTest, RejectsAlgNoneWithEmptySignature) {
  const std::string unsigned_token =
      B64(R"({"alg":"none","typ":"JWT"})") + "." + B64(json::serialize(SamplePayload())) + ".";
  ExpectRejected(unsigned_token);
  // ... and with the HS256 signature of another token pasted on.
  const std::string real = SignJwt(SampleClaims(), kKey);
  ExpectRejected(unsigned_token + real.substr(real.rfind('.') + 1), "algorithm");
  ExpectRejected(Forge(R"({"alg":"none"})", SamplePayload()), "algorithm");
  ExpectRejected(Forge(R"({"alg":"None"})", SamplePayload()), "algorithm");
}

TEST_F(JwtTest, RejectsEveryOtherAlgorithmSpelling) {
  for (const char* header : {
           R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"HS384"})",   R"({"alg":"RS256"})",
           R"({"alg":"ES256"})",            R"({"alg":"hs256"})",   R"({"alg":"Hs256"})",
           R"({"alg":"HS256 "})",           R"({"alg":""})",        R"({"alg":null})",
           R"({"alg":256})",                R"({"alg":["HS256"]})", R"({"typ":"JWT"})",
           R"({})",
       }) {
    SCOPED_TRACE(header);
    ExpectRejected(Forge(header, SamplePayload()), "algorithm");
  }
  // Signed with HS512 under the right key: still refused, the header decides nothing.
  ExpectRejected(Forge(R"({"alg":"HS512"})", json::serialize(SamplePayload()), kKey,
                       crypto::MacAlgorithm::kSha512),
                 "algorithm");
}

TEST_F(JwtTest, RejectsCriticalHeaderExtensions) {
  ExpectRejected(Forge(R"({"alg":"HS256","crit":["exp"],"exp":1})", SamplePayload()), "critical");
  ExpectRejected(Forge(R"({"alg":"HS256","crit":[]})", SamplePayload()), "critical");
}

TEST_F(JwtTest, IgnoresKeyHintsInTheHeader) {
  // A token may say where to find a key; it is never fetched or used. The HS256 key
  // decides, so a token signed with our key verifies and one signed with the key the
  // header offers does not.
  const std::string header =
      R"({"alg":"HS256","kid":"k1","jku":"https://evil.test/jwks","x5u":"https://evil.test/c",)"
      R"("jwk":{"kty":"oct","k":"ZXZpbA"}})";
  EXPECT_TRUE(VerifyJwt(Forge(header, SamplePayload()), kKey, Expect()).has_value());
  ExpectRejected(Forge(header, SamplePayload(), "evil"), "signature");
}

TEST_F(JwtTest, AcceptsAnyHeaderMemberOrder) {
  EXPECT_TRUE(VerifyJwt(Forge(R"({"typ":"JWT","alg":"HS256"})", SamplePayload()), kKey, Expect()));
  EXPECT_TRUE(VerifyJwt(Forge(R"({"alg":"HS256"})", SamplePayload()), kKey, Expect()));
}

TEST_F(JwtTest, RejectsMalformedHeaders) {
  ExpectRejected(Forge("not json", SamplePayload()), "header");
  ExpectRejected(Forge(R"(["alg","HS256"])", SamplePayload()), "header");
  ExpectRejected(Forge(R"("HS256")", SamplePayload()), "header");
  ExpectRejected(Forge(R"({"alg":"HS256")", SamplePayload()), "header");
  ExpectRejected(Forge(R"({"alg":"HS256"} x)", SamplePayload()), "header");
}

// ---- signature ----------------------------------------------------------------------

TEST_F(JwtTest, RejectsATamperedPayload) {
  const std::string token = SignJwt(SampleClaims(), kKey);
  const auto first = token.find('.'), last = token.rfind('.');
  json::object payload = SamplePayload();
  payload["sub"] = "admin-client";
  const std::string tampered =
      token.substr(0, first + 1) + B64(json::serialize(payload)) + token.substr(last);
  ExpectRejected(tampered, "signature");
  // Swapping in another valid token's payload fails the same way.
  AccessClaims other = SampleClaims();
  other.env = "env-2";
  const std::string donor = SignJwt(other, kKey);
  ExpectRejected(token.substr(0, first + 1) +
                     donor.substr(donor.find('.') + 1, donor.rfind('.') - donor.find('.') - 1) +
                     token.substr(last),
                 "signature");
}

TEST_F(JwtTest, RejectsWrongKeysAndDamagedSignatures) {
  const std::string token = SignJwt(SampleClaims(), kKey);
  ExpectRejected(token, "signature", Expect(), "another key");
  ExpectRejected(SignJwt(SampleClaims(), "another key"), "signature");

  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  ExpectRejected(flipped, "signature");
  ExpectRejected(token.substr(0, token.size() - 1), "signature");  // truncated
  ExpectRejected(token + "AA", "signature");                       // lengthened
  ExpectRejected(token + "=", "signature");                        // padded
}

TEST_F(JwtTest, EmptyKeyVerifiesNothing) {
  ExpectRejected(SignJwt(SampleClaims(), ""), "key", Expect(), "");
}

// ---- claims -------------------------------------------------------------------------

TEST_F(JwtTest, EnforcesExpiryWithLeeway) {
  AccessClaims c = SampleClaims();
  c.exp = kNow;  // expires at the second it becomes now
  ExpectRejected(SignJwt(c, kKey), "expired");
  c.exp = kNow + 1;
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kKey), kKey, Expect()).has_value());

  c.exp = kNow - 29;
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kKey), kKey, Expect(kNow, 30)).has_value());
  c.exp = kNow - 30;
  ExpectRejected(SignJwt(c, kKey), "expired", Expect(kNow, 30));
  c.exp = kNow - 3600;
  ExpectRejected(SignJwt(c, kKey), "expired", Expect(kNow, 30));
}

TEST_F(JwtTest, RejectsTokensIssuedInTheFuture) {
  AccessClaims c = SampleClaims();
  c.iat = kNow + 1;
  ExpectRejected(SignJwt(c, kKey), "future");
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kKey), kKey, Expect(kNow, 1)).has_value());
  c.iat = kNow + 31;
  ExpectRejected(SignJwt(c, kKey), "future", Expect(kNow, 30));
}

TEST_F(JwtTest, HonoursNotBefore) {
  json::object payload = SamplePayload();
  payload["nbf"] = kNow + 60;
  ExpectRejected(Forge(kGoodHeader, payload), "not yet valid");
  EXPECT_TRUE(VerifyJwt(Forge(kGoodHeader, payload), kKey, Expect(kNow + 60)).has_value());
  payload["nbf"] = "soon";
  ExpectRejected(Forge(kGoodHeader, payload), "time claim");
}

TEST_F(JwtTest, ExtremeTimesDoNotOverflow) {
  AccessClaims c = SampleClaims();
  c.exp = INT64_MAX;
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kKey), kKey, Expect(kNow, INT64_MAX)).has_value());
  c.exp = INT64_MIN;
  ExpectRejected(SignJwt(c, kKey), "expired", Expect(kNow, 30));
  ExpectRejected(SignJwt(c, kKey), "expired", Expect(INT64_MAX, INT64_MAX));
  c = SampleClaims();
  c.iat = INT64_MAX;
  ExpectRejected(SignJwt(c, kKey), "future", Expect(INT64_MIN, 30));
  c.iat = INT64_MIN;
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kKey), kKey, Expect()).has_value());
  // A negative leeway counts as none.
  c = SampleClaims();
  EXPECT_TRUE(VerifyJwt(SignJwt(c, kKey), kKey, Expect(kNow, -100)).has_value());
}

TEST_F(JwtTest, RequiresExactIssuerAndAudience) {
  const std::string token = SignJwt(SampleClaims(), kKey);
  JwtExpectations e = Expect();
  e.issuer = "https://auth.example.test/env-2/as";
  ExpectRejected(token, "issuer", e);
  e = Expect();
  e.issuer += "/";
  ExpectRejected(token, "issuer", e);
  e = Expect();
  e.audience = "https://API.example.test";
  ExpectRejected(token, "audience", e);
  // An audience list is not what we issue.
  json::object payload = SamplePayload();
  payload["aud"] = json::array{"https://api.example.test"};
  ExpectRejected(Forge(kGoodHeader, payload), "claim");
}

TEST_F(JwtTest, RequiresEveryClaimWithItsType) {
  for (const char* name : {"iss", "aud", "sub", "env", "client_id", "jti", "iat", "exp"}) {
    SCOPED_TRACE(name);
    json::object payload = SamplePayload();
    payload.erase(name);
    ExpectRejected(Forge(kGoodHeader, payload), "claim");
    payload[name] = nullptr;
    ExpectRejected(Forge(kGoodHeader, payload), "claim");
  }
  for (const char* name : {"iss", "sub", "client_id", "scope"}) {
    SCOPED_TRACE(name);
    json::object payload = SamplePayload();
    payload[name] = 42;
    ExpectRejected(Forge(kGoodHeader, payload), "claim");
  }
  for (json::value bad : {json::value("1700003600"), json::value(1700003600.5), json::value(true),
                          json::value(18446744073709551615ull)}) {
    json::object payload = SamplePayload();
    payload["exp"] = bad;
    ExpectRejected(Forge(kGoodHeader, payload), "time claim");
  }
}

TEST_F(JwtTest, RejectsMalformedPayloads) {
  ExpectRejected(Forge(kGoodHeader, std::string_view("not json")), "payload");
  ExpectRejected(Forge(kGoodHeader, std::string_view("[1,2]")), "payload");
  ExpectRejected(Forge(kGoodHeader, std::string_view("{\"iss\":\"\xff\"}")), "payload");  // bad UTF-8
}

// ---- shape --------------------------------------------------------------------------

TEST_F(JwtTest, RejectsGarbage) {
  const std::string token = SignJwt(SampleClaims(), kKey);
  const auto first = token.find('.');
  for (const std::string& bad : {
           std::string(), std::string("."), std::string(".."), std::string("..."),
           std::string("abc"), std::string("a.b"), std::string("a.b.c"), std::string("a.b.c.d"),
           token + ".", "." + token, token + "." + token.substr(token.rfind('.') + 1),
           token.substr(0, first) + ".." + token.substr(token.rfind('.') + 1),
           " " + token, token + " ", token + "\n",
           "Bearer " + token,
           // The header with standard-alphabet padding appended.
           token.substr(0, first) + "=" + token.substr(first),
           std::string("eyJhbGciOiJIUzI1NiJ9.e30.!!!!"),
       }) {
    SCOPED_TRACE(bad);
    ExpectRejected(bad);
  }
}

TEST_F(JwtTest, RejectsOverlongTokensBeforeParsing) {
  AccessClaims c = SampleClaims();
  c.scope = std::string(kMaxJwtLength, 'x');
  ExpectRejected(SignJwt(c, kKey), "too long");
  ExpectRejected(std::string(kMaxJwtLength + 1, 'A'), "too long");
  // Just under the cap is fine.
  c.scope = std::string(5000, 'x');
  const std::string token = SignJwt(c, kKey);
  ASSERT_LE(token.size(), kMaxJwtLength);
  EXPECT_TRUE(VerifyJwt(token, kKey, Expect()).has_value());
}

}  // namespace
}  // namespace roster::dialects::pingone
