// PingOne access tokens (dialects/pingone/jwt.h). Any token: verification never
// crashes and, without the key, never succeeds. Tokens whose header and payload come from
// the input and that are signed with the key reach the claim readers: those never crash,
// and what SignJwt issues always verifies to the same claims.
#include <fuzzer/FuzzedDataProvider.h>

#include "crypto/base64.h"
#include "crypto/mac.h"
#include "dialects/pingone/jwt.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  using namespace roster::dialects::pingone;
  constexpr std::string_view kKey = "0123456789abcdef0123456789abcdef";
  const JwtExpectations expect{"https://auth.example/env/as", "https://api.example/v1", 1'700'000'000, 30};
  const std::string_view text = fuzz::Text(data, size);
  if (VerifyJwt(text, kKey, expect)) fuzz::Finding("an unsigned token verifies", text);

  FuzzedDataProvider in(data, size);
  const std::string header = in.ConsumeRandomLengthString(200);
  const std::string payload = in.ConsumeRandomLengthString(2000);
  const std::string input = crypto::Base64UrlEncode(header) + "." + crypto::Base64UrlEncode(payload);
  const std::string token = input + "." + crypto::Base64UrlEncode(crypto::Hmac(crypto::MacAlgorithm::kSha256, kKey, input));
  (void)VerifyJwt(token, kKey, expect);

  AccessClaims claims;
  claims.iss = expect.issuer;
  claims.aud = expect.audience;
  claims.sub = claims.client_id = in.ConsumeRandomLengthString(40);
  claims.env = in.ConsumeRandomLengthString(40);
  claims.jti = in.ConsumeRandomLengthString(40);
  claims.scope = in.ConsumeRandomLengthString(40);
  claims.iat = expect.now - in.ConsumeIntegralInRange<std::int64_t>(0, 3600);
  claims.exp = expect.now + in.ConsumeIntegralInRange<std::int64_t>(1, 3600);
  claims.gen = in.ConsumeIntegralInRange<std::int64_t>(0, 1 << 20);
  // Claims are JSON strings: valid UTF-8, each of them (a sequence split between two
  // claims is valid in their concatenation only).
  for (const std::string* claim : {&claims.sub, &claims.env, &claims.jti, &claims.scope}) {
    boost::system::error_code ec;
    (void)boost::json::parse(boost::json::serialize(boost::json::value(boost::json::string(*claim))), ec);
    if (ec) return 0;
  }
  auto back = VerifyJwt(SignJwt(claims, kKey), kKey, expect);
  if (!back) fuzz::Finding("an issued token does not verify", back.error().message);
  if (back->sub != claims.sub || back->env != claims.env || back->jti != claims.jti || back->scope != claims.scope ||
      back->iat != claims.iat || back->exp != claims.exp || back->gen != claims.gen)
    fuzz::Finding("an issued token's claims change");
  return 0;
}
