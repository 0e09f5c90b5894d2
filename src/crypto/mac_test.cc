#include "crypto/mac.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"

namespace roster::crypto {
namespace {

// RFC 4231 test case 2 and RFC 2202 test case 2.
TEST(MacTest, HmacMatchesPublishedVectors) {
  EXPECT_EQ(ToHex(Hmac(MacAlgorithm::kSha256, "Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(ToHex(Hmac(MacAlgorithm::kSha1, "Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(MacTest, DigestMatchesPublishedVectors) {
  EXPECT_EQ(ToHex(Digest(MacAlgorithm::kSha1, "abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(ToHex(Digest(MacAlgorithm::kSha256, "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace roster::crypto
