#include "crypto/base64.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"

namespace roster::crypto {
namespace {

class Base64Test : public ::testing::Test {
 protected:
  void SetUp() override { Init(); }
};

// RFC 4648 section 10 test vectors.
TEST_F(Base64Test, StandardMatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST_F(Base64Test, UrlSafeMatchesRfc4648VectorsWithoutPadding) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded);
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST_F(Base64Test, AlphabetsDifferOnlyInTheLastTwoCharacters) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_FALSE(Base64Decode("-_-_").has_value());
  EXPECT_FALSE(Base64UrlDecode("+/+/").has_value());
}

TEST_F(Base64Test, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string bytes = all.substr(0, n);
    EXPECT_EQ(*Base64Decode(Base64Encode(bytes)), bytes);
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
  }
}

TEST_F(Base64Test, StandardDecodingIsStrict) {
  for (const char* bad : {
           "Zg",        // missing padding
           "Zg=",       // short padding
           "Zg===",     // extra padding
           "Zm9v=",     // padding where none belongs
           "Zh==",      // non-zero unused bits: not what any encoder writes
           "Z",         // impossible length
           "Zm9v YmFy", // whitespace
           "Zm9v\n",    // trailing newline
           "Zm9v!",     // character outside the alphabet
           "Zm9vYg==Zg==",  // data after padding
           "=",
       }) {
    auto decoded = Base64Decode(bad);
    EXPECT_FALSE(decoded.has_value()) << bad;
    if (!decoded) {
      EXPECT_EQ(decoded.error().code, core::ErrorCode::kInvalidArgument);
    }
  }
}

TEST_F(Base64Test, UrlDecodingIsStrict) {
  for (const char* bad : {"Zg==", "Zg=", "Zh", "Z", "Zm9v Yg", "Zm9v.", "Zm9v/", "Zm9v+"}) {
    auto decoded = Base64UrlDecode(bad);
    EXPECT_FALSE(decoded.has_value()) << bad;
    if (!decoded) {
      EXPECT_EQ(decoded.error().code, core::ErrorCode::kInvalidArgument);
    }
  }
}

TEST_F(Base64Test, DecodesEmbeddedNulBytes) {
  const std::string bytes("a\0b\0", 4);
  EXPECT_EQ(*Base64Decode(Base64Encode(bytes)), bytes);
  EXPECT_EQ(Base64Decode(Base64Encode(bytes))->size(), 4u);
}

}  // namespace
}  // namespace roster::crypto
