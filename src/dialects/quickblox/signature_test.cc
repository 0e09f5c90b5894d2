#include "dialects/quickblox/signature.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crypto/crypto.h"

namespace roster::dialects::quickblox {
namespace {

using core::ErrorCode;
using crypto::MacAlgorithm;

constexpr std::string_view kSecret = "local-auth-secret";

// Verbatim POST /session.json bodies captured from quickblox@2.23.0
// (../shared/reference/quickblox-sdk-requests.md, section 2; checked there with openssl).
constexpr std::string_view kAppSessionBody =
    "application_id=1&auth_key=local-auth-key&nonce=2605&signature=4ee4857c485e91af861dbf2259e8b2f28510b061"
    "&timestamp=1795342065";
constexpr std::string_view kUserSessionBody =
    "application_id=1&auth_key=local-auth-key&nonce=9949&signature=9b93418d973b5316491d81279ee9426129a08c44"
    "&timestamp=1795342065&user[login]=bob2&user[password]=Passw0rd!bob2";
constexpr std::string_view kSha256SessionBody =
    "application_id=1&auth_key=local-auth-key&nonce=6532"
    "&signature=2a7606250677a18c3d9dd6aeffdb2029761da73ebb3a9200885dc2adc9b1f22c&timestamp=1795342066";

// A sha256 user session sent by quickblox@2.23.0 through tests/sdk/quickblox/sdk_run.js
// (ROSTER_QB_HASH=sha256); the signature re-checked with `openssl dgst -sha256 -hmac`.
constexpr std::string_view kSha256UserSessionBody =
    "application_id=1&auth_key=local-auth-key&nonce=8210"
    "&signature=9d1f5e75656a90774f26b9de217da7df4757d3de0d2390fbdef72d677da89928&timestamp=1795346282"
    "&user[login]=sdk_mwrqtlihhuvp&user[password]=N3wPassw0rd!mwrqtlihhuvp";

std::vector<FormPair> Pairs(std::string_view body) {
  auto form = ParseForm(body);
  EXPECT_TRUE(form.has_value()) << body;
  return form ? form->pairs : std::vector<FormPair>{};
}

std::vector<FormPair> Replace(std::vector<FormPair> pairs, std::string_view key, std::string value) {
  for (auto& pair : pairs) {
    if (pair.key == key) pair.value = std::move(value);
  }
  return pairs;
}

void ExpectCode(const core::Status& status, ErrorCode code) {
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, code) << status.error().message;
  EXPECT_EQ(status.error().field, "signature");
}

TEST(QuickbloxSignature, AppSessionStringToSignMatchesTheSdk) {
  EXPECT_EQ(StringToSign(Pairs(kAppSessionBody)),
            "application_id=1&auth_key=local-auth-key&nonce=2605&timestamp=1795342065");
}

TEST(QuickbloxSignature, UserSessionStringToSignMatchesTheSdk) {
  EXPECT_EQ(StringToSign(Pairs(kUserSessionBody)),
            "application_id=1&auth_key=local-auth-key&nonce=9949&timestamp=1795342065"
            "&user[login]=bob2&user[password]=Passw0rd!bob2");
}

TEST(QuickbloxSignature, SignReproducesTheCapturedSignatures) {
  EXPECT_EQ(Sign(MacAlgorithm::kSha1,
                 "application_id=1&auth_key=local-auth-key&nonce=2605&timestamp=1795342065", kSecret),
            "4ee4857c485e91af861dbf2259e8b2f28510b061");
  EXPECT_EQ(Sign(MacAlgorithm::kSha1,
                 "application_id=1&auth_key=local-auth-key&nonce=9949&timestamp=1795342065"
                 "&user[login]=bob2&user[password]=Passw0rd!bob2",
                 kSecret),
            "9b93418d973b5316491d81279ee9426129a08c44");
  EXPECT_EQ(Sign(MacAlgorithm::kSha256,
                 "application_id=1&auth_key=local-auth-key&nonce=6532&timestamp=1795342066", kSecret),
            "2a7606250677a18c3d9dd6aeffdb2029761da73ebb3a9200885dc2adc9b1f22c");
}

TEST(QuickbloxSignature, VerifiesTheCapturedSessions) {
  EXPECT_TRUE(VerifySessionSignature(Pairs(kAppSessionBody), kSecret).has_value());
  EXPECT_TRUE(VerifySessionSignature(Pairs(kUserSessionBody), kSecret).has_value());
  EXPECT_TRUE(VerifySessionSignature(Pairs(kSha256SessionBody), kSecret).has_value());
  EXPECT_TRUE(VerifySessionSignature(Pairs(kSha256UserSessionBody), kSecret).has_value());
}

TEST(QuickbloxSignature, VerifiesADirectStringToSign) {
  EXPECT_TRUE(VerifySignature("application_id=1&auth_key=local-auth-key&nonce=2605&timestamp=1795342065",
                              "4ee4857c485e91af861dbf2259e8b2f28510b061", kSecret)
                  .has_value());
}

TEST(QuickbloxSignature, HexIsCaseInsensitive) {
  auto upper = Replace(Pairs(kAppSessionBody), "signature", "4EE4857C485E91AF861DBF2259E8B2F28510B061");
  EXPECT_TRUE(VerifySessionSignature(upper, kSecret).has_value());
  auto mixed = Replace(Pairs(kSha256SessionBody), "signature",
                       "2A7606250677a18c3d9dd6aeffdb2029761DA73EBB3A9200885dc2adc9b1f22C");
  EXPECT_TRUE(VerifySessionSignature(mixed, kSecret).has_value());
}

TEST(QuickbloxSignature, PairOrderDoesNotMatter) {
  auto pairs = Pairs(kUserSessionBody);
  std::reverse(pairs.begin(), pairs.end());
  EXPECT_EQ(StringToSign(pairs), StringToSign(Pairs(kUserSessionBody)));
  EXPECT_TRUE(VerifySessionSignature(pairs, kSecret).has_value());
}

TEST(QuickbloxSignature, SignatureValuesAreRawNotUrlEncoded) {
  // The form carries "Passw0rd%21%20x"; the SDK signs the raw "Passw0rd! x".
  auto pairs = Pairs("application_id=1&auth_key=k&nonce=1&timestamp=2&user[login]=a%40b.c"
                     "&user[password]=Passw0rd%21%20x");
  EXPECT_EQ(StringToSign(pairs),
            "application_id=1&auth_key=k&nonce=1&timestamp=2&user[login]=a@b.c&user[password]=Passw0rd! x");
}

TEST(QuickbloxSignature, EmailUserSession) {
  auto pairs = Pairs("user[password]=p&user[email]=e%40x.org&timestamp=2&nonce=1&auth_key=k&application_id=7");
  EXPECT_EQ(StringToSign(pairs),
            "application_id=7&auth_key=k&nonce=1&timestamp=2&user[email]=e@x.org&user[password]=p");
}

TEST(QuickbloxSignature, SortsLikeJavaScriptNotByKey) {
  // JS sorts the "k=v" strings: "a!=2" < "a=1" because '!' (0x21) < '=' (0x3D),
  // although the key "a" sorts before "a!".
  std::vector<FormPair> pairs = {{"a", "1"}, {"a!", "2"}};
  EXPECT_EQ(StringToSign(pairs), "a!=2&a=1");
}

TEST(QuickbloxSignature, SortsByUtf16CodeUnits) {
  // node -e 'console.log(["x\uFF5E=2","x\u{1F600}=1","x\u00e9=3"].sort())' gives
  // é, 😀, ～: the surrogate pair D83D.. sorts below U+FF5E (unlike UTF-8 byte order).
  std::vector<FormPair> pairs = {
      {"x\xEF\xBD\x9E", "2"}, {"x\xF0\x9F\x98\x80", "1"}, {"x\xC3\xA9", "3"}};
  EXPECT_EQ(StringToSign(pairs), "x\xC3\xA9=3&x\xF0\x9F\x98\x80=1&x\xEF\xBD\x9E=2");
}

TEST(QuickbloxSignature, NestedMembersAreSortedWithinTheirGroup) {
  std::vector<FormPair> pairs = {
      {"user[password]", "p"}, {"zeta", "z"}, {"user[login]", "l"}, {"alpha", "a"}};
  EXPECT_EQ(StringToSign(pairs), "alpha=a&user[login]=l&user[password]=p&zeta=z");
}

TEST(QuickbloxSignature, SkipsOnlyTheSignaturePair) {
  std::vector<FormPair> pairs = {{"signature", "x"}, {"signatures", "y"}, {"a", ""}};
  EXPECT_EQ(StringToSign(pairs), "a=&signatures=y");
  EXPECT_EQ(StringToSign({}), "");
}

TEST(QuickbloxSignature, TamperedValueIsRejected) {
  ExpectCode(VerifySessionSignature(Replace(Pairs(kAppSessionBody), "nonce", "2606"), kSecret),
             ErrorCode::kUnauthenticated);
  ExpectCode(VerifySessionSignature(Replace(Pairs(kUserSessionBody), "user[login]", "bob3"), kSecret),
             ErrorCode::kUnauthenticated);
  ExpectCode(VerifySessionSignature(Replace(Pairs(kSha256SessionBody), "timestamp", "1795342067"), kSecret),
             ErrorCode::kUnauthenticated);
}

TEST(QuickbloxSignature, AddedOrRemovedPairIsRejected) {
  auto added = Pairs(kAppSessionBody);
  added.push_back({"user[login]", "bob2"});
  ExpectCode(VerifySessionSignature(added, kSecret), ErrorCode::kUnauthenticated);
  auto removed = Pairs(kUserSessionBody);
  std::erase_if(removed, [](const FormPair& p) { return p.key == "user[password]"; });
  ExpectCode(VerifySessionSignature(removed, kSecret), ErrorCode::kUnauthenticated);
}

TEST(QuickbloxSignature, WrongSecretIsRejected) {
  ExpectCode(VerifySessionSignature(Pairs(kAppSessionBody), "local-auth-secreT"), ErrorCode::kUnauthenticated);
  ExpectCode(VerifySessionSignature(Pairs(kSha256SessionBody), ""), ErrorCode::kUnauthenticated);
}

TEST(QuickbloxSignature, AlgorithmFollowsTheLength) {
  // The SHA-256 MAC of the app-session string, truncated to 40 hex digits, is not its SHA-1 MAC.
  const std::string sts = "application_id=1&auth_key=local-auth-key&nonce=2605&timestamp=1795342065";
  const std::string sha256 = Sign(MacAlgorithm::kSha256, sts, kSecret);
  ASSERT_EQ(sha256.size(), 64u);
  EXPECT_TRUE(VerifySignature(sts, sha256, kSecret).has_value());
  ExpectCode(VerifySignature(sts, sha256.substr(0, 40), kSecret), ErrorCode::kUnauthenticated);
}

TEST(QuickbloxSignature, WrongLengthIsInvalid) {
  const std::string sts = "a=1";
  const std::string sha1 = Sign(MacAlgorithm::kSha1, sts, kSecret);
  ExpectCode(VerifySignature(sts, "", kSecret), ErrorCode::kInvalidArgument);
  ExpectCode(VerifySignature(sts, sha1.substr(0, 39), kSecret), ErrorCode::kInvalidArgument);
  ExpectCode(VerifySignature(sts, sha1 + "0", kSecret), ErrorCode::kInvalidArgument);
  ExpectCode(VerifySignature(sts, Sign(MacAlgorithm::kSha512, sts, kSecret), kSecret),
             ErrorCode::kInvalidArgument);  // 128 hex: SHA-512 is not a QuickBlox option
}

TEST(QuickbloxSignature, NonHexIsInvalid) {
  const std::string sts = "a=1";
  std::string sha1 = Sign(MacAlgorithm::kSha1, sts, kSecret);
  for (const char bad : {'g', 'G', ' ', '-', 'x', '\0'}) {
    std::string tampered = sha1;
    tampered[17] = bad;
    ExpectCode(VerifySignature(sts, tampered, kSecret), ErrorCode::kInvalidArgument);
  }
  ExpectCode(VerifySignature(sts, std::string(40, 'z'), kSecret), ErrorCode::kInvalidArgument);
  ExpectCode(VerifySignature(sts, std::string(64, '%'), kSecret), ErrorCode::kInvalidArgument);
}

TEST(QuickbloxSignature, MissingOrRepeatedSignatureIsInvalid) {
  auto missing = Pairs(kAppSessionBody);
  std::erase_if(missing, [](const FormPair& p) { return p.key == "signature"; });
  ExpectCode(VerifySessionSignature(missing, kSecret), ErrorCode::kInvalidArgument);

  auto repeated = Pairs(kAppSessionBody);
  repeated.push_back({"signature", "4ee4857c485e91af861dbf2259e8b2f28510b061"});
  ExpectCode(VerifySessionSignature(repeated, kSecret), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace roster::dialects::quickblox
