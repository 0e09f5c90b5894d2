#include "crypto/legacy_password.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/crypto.h"

namespace roster::crypto {
namespace {

// Every vector below was made once with tools independent of this code and pasted in.
// The password is "Tr0ub4dor&3" unless a test says otherwise.
constexpr const char* kPassword = "Tr0ub4dor&3";

class LegacyPasswordTest : public ::testing::Test {
 protected:
  void SetUp() override { Init(); }

  static void ExpectMatches(const std::string& encoded, std::string_view password = kPassword) {
    EXPECT_TRUE(CheckLegacyPasswordFormat(encoded).has_value()) << encoded;
    auto ok = VerifyLegacyPassword(encoded, password);
    ASSERT_TRUE(ok.has_value()) << encoded << ": " << ok.error().message;
    EXPECT_TRUE(*ok) << encoded;
    for (std::string_view wrong : {"tr0ub4dor&3", "Tr0ub4dor&", "Tr0ub4dor&33", ""}) {
      auto no = VerifyLegacyPassword(encoded, wrong);
      ASSERT_TRUE(no.has_value()) << encoded;
      EXPECT_FALSE(*no) << encoded << " accepted " << wrong;
    }
  }

  // Malformed or over-cost values: refused by both functions with the same error,
  // which names the field and never echoes the value.
  static void ExpectRejected(const std::string& encoded, std::string_view message_part = {}) {
    auto check = CheckLegacyPasswordFormat(encoded);
    ASSERT_FALSE(check.has_value()) << encoded;
    EXPECT_EQ(check.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_EQ(check.error().field, "password");
    if (!message_part.empty()) {
      EXPECT_NE(check.error().message.find(message_part), std::string::npos) << check.error().message;
    }
    const auto brace = encoded.find('}');
    if (brace != std::string::npos && encoded.size() > brace + 4) {
      EXPECT_EQ(check.error().message.find(encoded.substr(brace + 1)), std::string::npos);
    }
    auto verify = VerifyLegacyPassword(encoded, kPassword);
    ASSERT_FALSE(verify.has_value()) << encoded;
    EXPECT_EQ(verify.error().message, check.error().message);
  }
};

// ---- salted SHA ---------------------------------------------------------------------
// python3: base64.b64encode(hashlib.shaN(password + salt).digest() + salt)

TEST_F(LegacyPasswordTest, SaltedSha1) {
  // salt 0102030405060708
  ExpectMatches("{SSHA}NKk9D8FAJgCRQMioJ8MJz85sKtsBAgMEBQYHCA==");
}

TEST_F(LegacyPasswordTest, SaltedSha256) {
  // salt a1b2c3d4e5f60718
  ExpectMatches("{SSHA256}yxyQ7VKq60L3P/vRh6yArWH5zBVDYv39KlGwJC2Fn1+hssPU5fYHGA==");
}

TEST_F(LegacyPasswordTest, SaltedSha384) {
  // salt 00ff00ff00ff00ff1122
  ExpectMatches(
      "{SSHA384}Qto2idCYY7VprYSdX0ta8DH/4QNbsKZgFBDyVv8lBP3sfJ/i6MVnIEgvGX+C6F52AP8A/wD/AP8RIg==");
}

TEST_F(LegacyPasswordTest, SaltedSha512) {
  // salt bytes 0..31
  ExpectMatches(
      "{SSHA512}UWl3nZZlviwN/isaoW3jTDQEWQcKt2tjE7TR1GTBlhFCJouohjkJ0UeERV944sP8QHMg07c9k3kp4PRiM9sGrQ"
      "ABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f");
}

TEST_F(LegacyPasswordTest, SaltedShaHashesUtf8BytesAndSchemeNameIsCaseInsensitive) {
  // password "pässwörd" (UTF-8), salt "saltsalt"
  const std::string encoded = "{ssha256}uLH7nJBoLEP4qrQ1Diy6xyxzqeOA/Zap8IeqYbbqcNtzYWx0c2FsdA==";
  EXPECT_TRUE(*VerifyLegacyPassword(encoded, "p\xc3\xa4ssw\xc3\xb6rd"));
  EXPECT_FALSE(*VerifyLegacyPassword(encoded, "passwort"));
}

TEST_F(LegacyPasswordTest, SaltedShaRejectsMalformedValues) {
  ExpectRejected("{SSHA}NKk9D8FAJgCRQMioJ8MJz85sKts=", "wrong length");  // digest only, no salt
  ExpectRejected("{SSHA}NKk9D8FAJgCRQMioJ8MJz85sKtsBAgMEBQYHCA", "base64");  // unpadded
  ExpectRejected("{SSHA}NKk9D8FAJgCRQMioJ8MJz85sKtsBAgMEBQYHCA==\n", "base64");
  ExpectRejected("{SSHA512}" + std::string(80, 'A'), "wrong length");  // 60 bytes < SHA-512
  ExpectRejected("{SSHA}", "wrong length");
}

TEST_F(LegacyPasswordTest, TamperedSaltedShaDoesNotMatch) {
  // One salt byte changed (..CA== -> ..CQ== flips the last salt byte 08 -> 09).
  EXPECT_FALSE(*VerifyLegacyPassword("{SSHA}NKk9D8FAJgCRQMioJ8MJz85sKtsBAgMEBQYHCQ==", kPassword));
}

// ---- bcrypt -------------------------------------------------------------------------

TEST_F(LegacyPasswordTest, BcryptFromHtpasswd) {
  // htpasswd -bnBC 5 u 'Tr0ub4dor&3' (Apache APR's own bcrypt, not libxcrypt)
  ExpectMatches("{BCRYPT}$2y$05$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJe");
  // $2a$, $2b$ and $2y$ differ only in how old bugs handled 8-bit characters, so for
  // this ASCII password the same salt and hash verify under each prefix.
  ExpectMatches("{BCRYPT}$2b$05$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJe");
  ExpectMatches("{BCRYPT}$2a$05$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJe");
}

TEST_F(LegacyPasswordTest, BcryptRejectsOverCostAndMalformedValues) {
  // htpasswd -bnBC 15 u x: a real hash, refused for its cost alone.
  ExpectRejected("{BCRYPT}$2y$15$1HyQ1Tu8ZmmpWD7vWPYG2.X41W84JJq3cPtA/Ot7y5lpFWmpYez2a",
                 "between 4 and 14");
  ExpectRejected("{BCRYPT}$2y$31$1HyQ1Tu8ZmmpWD7vWPYG2.X41W84JJq3cPtA/Ot7y5lpFWmpYez2a",
                 "between 4 and 14");
  ExpectRejected("{BCRYPT}$2y$03$1HyQ1Tu8ZmmpWD7vWPYG2.X41W84JJq3cPtA/Ot7y5lpFWmpYez2a",
                 "between 4 and 14");
  ExpectRejected("{BCRYPT}$2x$05$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJe", "variant");
  ExpectRejected("{BCRYPT}$2y$5$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJe");
  ExpectRejected("{BCRYPT}$2y$0a$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJe", "two digits");
  ExpectRejected("{BCRYPT}$2y$05$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJ", "53");
  ExpectRejected("{BCRYPT}$2y$05$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJ!",
                 "invalid character");
  ExpectRejected("{BCRYPT}$1$abc$def");
}

TEST_F(LegacyPasswordTest, BcryptNeverMatchesAPasswordWithANulByte) {
  const std::string encoded = "{BCRYPT}$2y$05$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJe";
  EXPECT_FALSE(*VerifyLegacyPassword(encoded, std::string("Tr0ub4dor&3\0x", 13)));
}

// ---- argon2 -------------------------------------------------------------------------
// Debian's argon2 CLI (the reference implementation):
//   echo -n 'Tr0ub4dor&3' | argon2 SALT -id|-i -t T -k M -p P -e

TEST_F(LegacyPasswordTest, Argon2id) {
  // salt "somesalt16bytes!", -id -t 2 -k 1024 -p 1
  ExpectMatches(
      "{ARGON2}$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQxNmJ5dGVzIQ$"
      "8XWjCssHM88QVLw7hxVqDEadhZ5igFzQWZEH/8I1Be0");
}

TEST_F(LegacyPasswordTest, Argon2i) {
  // salt "saltsaltsaltsalt", -i -t 3 -k 512 -p 1
  ExpectMatches(
      "{ARGON2}$argon2i$v=19$m=512,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
      "nrZA/vbscnpxACvXHCFYQtttPoRv+HZmbgpbn/uKO4s");
}

TEST_F(LegacyPasswordTest, Argon2idWithTwoLanes) {
  // salt "saltsaltsaltsalt", -id -t 1 -k 2048 -p 2
  ExpectMatches(
      "{ARGON2}$argon2id$v=19$m=2048,t=1,p=2$c2FsdHNhbHRzYWx0c2FsdA$"
      "aOd44YY7bdf1zAeEoqT0/CNxjFPKeyo7iReTM8GysCs");
}

TEST_F(LegacyPasswordTest, Argon2RejectsOverCostAndMalformedValues) {
  const std::string tail = "$c2FsdHNhbHRzYWx0c2FsdA$aOd44YY7bdf1zAeEoqT0/CNxjFPKeyo7iReTM8GysCs";
  ExpectRejected("{ARGON2}$argon2id$v=19$m=65537,t=1,p=1" + tail, "65536 KiB");
  ExpectRejected("{ARGON2}$argon2id$v=19$m=4194304,t=1,p=1" + tail, "65536 KiB");
  ExpectRejected("{ARGON2}$argon2id$v=19$m=1024,t=11,p=1" + tail, "passes");
  ExpectRejected("{ARGON2}$argon2id$v=19$m=1024,t=0,p=1" + tail, "passes");
  ExpectRejected("{ARGON2}$argon2id$v=19$m=1024,t=1,p=9" + tail, "lanes");
  ExpectRejected("{ARGON2}$argon2id$v=19$m=1024,t=1,p=0" + tail, "lanes");
  ExpectRejected("{ARGON2}$argon2id$v=19$m=99999999999999999999,t=1,p=1" + tail);
  // argon2d (from the same CLI with -d) is not a scheme PingOne or libsodium verifies.
  ExpectRejected(
      "{ARGON2}$argon2d$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
      "EUjuKblGxuYadeE+69vAS4eIrU32q9qHBvlprhtFwUI",
      "variant");
  ExpectRejected("{ARGON2}$argon2id$v=16$m=1024,t=1,p=1" + tail, "version");
  ExpectRejected("{ARGON2}$argon2id$m=1024,t=1,p=1" + tail);
  ExpectRejected("{ARGON2}$argon2id$v=19$t=1,m=1024,p=1" + tail, "m=..,t=..,p=..");
  ExpectRejected("{ARGON2}$argon2id$v=19$m=01024,t=1,p=1" + tail, "m=..,t=..,p=..");
  ExpectRejected("{ARGON2}$argon2id$v=19$m=1024,t=1,p=1,x=2" + tail, "m=..,t=..,p=..");
  ExpectRejected("{ARGON2}$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aOd44YY7bdf1zAeEoqT0/CNxjFPKeyo7iReTM8GysCs",
                 "salt");  // 4-byte salt
  ExpectRejected("{ARGON2}$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aOd44YY7",
                 "hash");  // 6-byte hash
  ExpectRejected("{ARGON2}$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA==$"
                 "aOd44YY7bdf1zAeEoqT0/CNxjFPKeyo7iReTM8GysCs",
                 "salt");  // PHC base64 has no padding
  ExpectRejected("{ARGON2}$argon2id$v=19$m=2048,t=1,p=2" + tail + "$extra", "must look like");
  ExpectRejected("{ARGON2}argon2id$v=19$m=2048,t=1,p=2" + tail);
}

TEST_F(LegacyPasswordTest, Argon2WithTamperedParametersDoesNotMatch) {
  // The right hash under different parameters is a different hash.
  EXPECT_FALSE(*VerifyLegacyPassword(
      "{ARGON2}$argon2id$v=19$m=1024,t=3,p=1$c29tZXNhbHQxNmJ5dGVzIQ$"
      "8XWjCssHM88QVLw7hxVqDEadhZ5igFzQWZEH/8I1Be0",
      kPassword));
}

// ---- PBKDF2 -------------------------------------------------------------------------
// python3: salt = bytes(range(16)); dk = hashlib.pbkdf2_hmac(NAME, password, salt, 1000, LEN)
//   base64.b64encode(struct.pack(">HH", 1, 16) + salt + struct.pack(">IH", 1000, PRF) + dk)

TEST_F(LegacyPasswordTest, Pbkdf2HmacSha1) {
  // PRF 1, dkLen 20
  ExpectMatches("{PBKDF2}AAEAEAABAgMEBQYHCAkKCwwNDg8AAAPoAAGPkbnzOcu9fOsgQ3QA7rq9onn3Ug==");
}

TEST_F(LegacyPasswordTest, Pbkdf2HmacSha256) {
  // PRF 2, dkLen 32
  ExpectMatches("{PBKDF2}AAEAEAABAgMEBQYHCAkKCwwNDg8AAAPoAAIhhe1/WuekQKg10H1FFI4NOZU8oykX+Bxjgxj/6nIiAw==");
}

TEST_F(LegacyPasswordTest, Pbkdf2HmacSha512) {
  // PRF 3, dkLen 64
  ExpectMatches(
      "{PBKDF2}AAEAEAABAgMEBQYHCAkKCwwNDg8AAAPoAANjU6ogYjK+iBW5gyaC9n9WKddtj1/wmzMaRjjiNQDcL0PLA1GSSFgM"
      "KEtuRW2qEootExoTFrqiee/N3HrNFlBH");
}

TEST_F(LegacyPasswordTest, Pbkdf2RejectsOverCostAndMalformedValues) {
  // 1,000,001 iterations of HMAC-SHA256 (python3 struct.pack, zero salt and key).
  ExpectRejected("{PBKDF2}AAEAEAAAAAAAAAAAAAAAAAAAAAAAD0JBAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
                 "iterations");
  // The SHA-256 vector with its fields changed one at a time (base64 of the bytes):
  //   version 2
  ExpectRejected("{PBKDF2}AAIAEAABAgMEBQYHCAkKCwwNDg8AAAPoAAIhhe1/WuekQKg10H1FFI4NOZU8oykX+Bxjgxj/6nIiAw==",
                 "version");
  //   PRF 4
  ExpectRejected("{PBKDF2}AAEAEAABAgMEBQYHCAkKCwwNDg8AAAPoAAQhhe1/WuekQKg10H1FFI4NOZU8oykX+Bxjgxj/6nIiAw==",
                 "function");
  //   0 iterations
  ExpectRejected("{PBKDF2}AAEAEAABAgMEBQYHCAkKCwwNDg8AAAAAAAIhhe1/WuekQKg10H1FFI4NOZU8oykX+Bxjgxj/6nIiAw==",
                 "iterations");
  //   salt length 0
  ExpectRejected("{PBKDF2}AAEAAAABAgMEBQYHCAkKCwwNDg8AAAPoAAIhhe1/WuekQKg10H1FFI4NOZU8oykX+Bxjgxj/6nIiAw==",
                 "salt length");
  //   salt length beyond the value
  ExpectRejected("{PBKDF2}AAEA/wABAgMEBQYHCAkKCwwNDg8AAAPoAAIhhe1/WuekQKg10H1FFI4NOZU8oykX+Bxjgxj/6nIiAw==",
                 "truncated");
  //   derived key cut to 8 bytes
  ExpectRejected("{PBKDF2}AAEAEAABAgMEBQYHCAkKCwwNDg8AAAPoAAIhhe1/WuekQA==", "derived key");
  ExpectRejected("{PBKDF2}AAE=", "truncated");
  ExpectRejected("{PBKDF2}not base64!", "base64");
}

// ---- scrypt -------------------------------------------------------------------------
// python3, the scrypt tool's header format:
//   hdr = b"scrypt\0" + bytes([logN]) + struct.pack(">II", r, p) + salt
//   chk = hashlib.sha256(hdr).digest()[:16]
//   dk = hashlib.scrypt(password, salt=salt, n=2**logN, r=r, p=p, dklen=64)
//   base64.b64encode(hdr + chk + hmac.new(dk[32:], hdr + chk, hashlib.sha256).digest())

TEST_F(LegacyPasswordTest, ScryptN1024R8P1) {
  // salt bytes 100..131
  ExpectMatches(
      "{SCRYPT}c2NyeXB0AAoAAAAIAAAAAWRlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDOpnirwO+CYrPkxC6LXgFcUA7"
      "WnIfpByVW1Nfd/t8noBliEWqo77O2WRvlSObQq9T");
}

TEST_F(LegacyPasswordTest, ScryptN16R1P2) {
  // salt bytes 0..31
  ExpectMatches(
      "{SCRYPT}c2NyeXB0AAQAAAABAAAAAgABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fjltdHIe+t6V19yOp1JRuHYED"
      "Iz2dJ2qy67rHrNcE3e48vDKqgvjQddKwO7RQbIZb");
}

TEST_F(LegacyPasswordTest, ScryptRejectsOverCostAndMalformedValues) {
  // Valid headers and checksums (same python3 recipe, zero salt and MAC):
  //   N = 2^20, r = 8: 1 GiB of memory
  ExpectRejected(
      "{SCRYPT}c2NyeXB0ABQAAAAIAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALNYXln8Dt0XQDjR5ubDDCAAAAA"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "64 MiB");
  //   N = 2^10, r = 8, p = 64
  ExpectRejected(
      "{SCRYPT}c2NyeXB0AAoAAAAIAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA6uCTITLz7WlS9ldktPP8ngAAAA"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "parallelism");
  // The N=1024 vector with log2(N) changed 10 -> 11 without fixing the checksum.
  ExpectRejected(
      "{SCRYPT}c2NyeXB0AAsAAAAIAAAAAWRlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDOpnirwO+CYrPkxC6LXgFcUA7"
      "WnIfpByVW1Nfd/t8noBliEWqo77O2WRvlSObQq9T",
      "checksum");
  // Truncated to 64 bytes.
  ExpectRejected(
      "{SCRYPT}c2NyeXB0AAoAAAAIAAAAAWRlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDOpnirwO+CYrPkxC6LXgFcUA7",
      "96-byte");
  ExpectRejected("{SCRYPT}" + std::string(128, 'A'), "96-byte");  // no "scrypt" magic
  ExpectRejected("{SCRYPT}c2NyeXB0", "96-byte");
}

TEST_F(LegacyPasswordTest, ScryptWithTamperedMacDoesNotMatch) {
  // Last MAC byte changed (..Qq9T -> ..Qq9U).
  EXPECT_FALSE(*VerifyLegacyPassword(
      "{SCRYPT}c2NyeXB0AAoAAAAIAAAAAWRlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDOpnirwO+CYrPkxC6LXgFcUA7"
      "WnIfpByVW1Nfd/t8noBliEWqo77O2WRvlSObQq9U",
      kPassword));
}

// ---- cost limits --------------------------------------------------------------------

// The largest accepted costs pass the format check (which never runs the hash), and
// one step beyond each is refused. Values from the python3 recipes above.
TEST_F(LegacyPasswordTest, CostLimitsAreInclusive) {
  EXPECT_TRUE(CheckLegacyPasswordFormat(
      "{BCRYPT}$2b$14$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJe").has_value());
  ExpectRejected("{BCRYPT}$2b$15$ga9UtS2eWTwIRG1YeFzdOeq5xPuk.9AHXdNKd0AIdPuT3eya2BHJe", "14");

  // 1,000,000 iterations is accepted; 1,000,001 is refused above.
  EXPECT_TRUE(CheckLegacyPasswordFormat(
      "{PBKDF2}AAEAEAAAAAAAAAAAAAAAAAAAAAAAD0JAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==").has_value());

  const std::string tail = "$c2FsdHNhbHRzYWx0c2FsdA$aOd44YY7bdf1zAeEoqT0/CNxjFPKeyo7iReTM8GysCs";
  EXPECT_TRUE(CheckLegacyPasswordFormat("{ARGON2}$argon2id$v=19$m=65536,t=10,p=8" + tail).has_value());

  // N = 2^16, r = 8: exactly 64 MiB; with p = 4 exactly 256 MiB of work.
  EXPECT_TRUE(CheckLegacyPasswordFormat(
      "{SCRYPT}c2NyeXB0ABAAAAAIAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAI5xyyeufjgSEBKcGoczvngAAAA"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").has_value());
  // p = 5: 320 MiB of work.
  ExpectRejected(
      "{SCRYPT}c2NyeXB0ABAAAAAIAAAABQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA0jZIB97k+nUU7bM9gD1cHgAAAA"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "256 MiB");
  // N = 2^17, r = 8: 128 MiB.
  ExpectRejected(
      "{SCRYPT}c2NyeXB0ABEAAAAIAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAh/3buxEWMV7VChNqaFzNDAAAAA"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "64 MiB");
  // N = 2^16, r = 9: 72 MiB.
  ExpectRejected(
      "{SCRYPT}c2NyeXB0ABAAAAAJAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAxzkbr58vsj5DmmmPLFnYNwAAAA"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "64 MiB");
}

// ---- scheme prefix ------------------------------------------------------------------

TEST_F(LegacyPasswordTest, RejectsUnknownOrMissingSchemes) {
  ExpectRejected("{MD5}X03MO1qnZdYdgyfeuILPmQ==", "unsupported password scheme");
  ExpectRejected("{MSKCC_PBKDF2}AAAA", "unsupported password scheme");
  ExpectRejected("{CRYPT}$1$abc$def", "unsupported password scheme");
  ExpectRejected("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "unsupported password scheme");
  ExpectRejected("Tr0ub4dor&3", "{SCHEME}");
  ExpectRejected("{SSHA", "{SCHEME}");
  ExpectRejected("", "{SCHEME}");
  ExpectRejected(" {SSHA}NKk9D8FAJgCRQMioJ8MJz85sKtsBAgMEBQYHCA==", "{SCHEME}");
}

TEST_F(LegacyPasswordTest, UnknownSchemeMessageDoesNotEchoTheValue) {
  // A mistyped value could be somebody's cleartext password.
  auto status = CheckLegacyPasswordFormat("{hunter2}rest");
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().message.find("hunter2"), std::string::npos);
}

TEST_F(LegacyPasswordTest, RejectsOverlongValues) {
  ExpectRejected("{SSHA}" + std::string(5000, 'A'), "too long");
}

}  // namespace
}  // namespace roster::crypto
