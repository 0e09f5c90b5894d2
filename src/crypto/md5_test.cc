#include "crypto/md5.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"

namespace roster::crypto {
namespace {

// RFC 1321 appendix A.5.
TEST(Md5Test, MatchesRfc1321Vectors) {
  EXPECT_EQ(ToHex(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(ToHex(Md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
}

}  // namespace
}  // namespace roster::crypto
