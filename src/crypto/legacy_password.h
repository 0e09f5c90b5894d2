// Verification of password hashes imported from other systems ("pre-encoded"
// passwords), in the encodings PingOne accepts on user import and password set:
// "{SCHEME}" followed by the scheme's own encoding. Roster never produces these; it
// only checks a password against one, so a migrated user can sign in once and be
// re-hashed with argon2id (crypto.h PasswordHasher) by the caller.
//
// Sources: PingOne "Password encoding"
// (https://developer.pingidentity.com/pingone-api/platform/reference/password-encoding.html),
// PingOne "Set password" (https://apidocs.pingidentity.com/pingone/platform/v1/api/
// src/management-apis/users/user-passwords/update-password-set/), PingDirectory
// "Scrypt Password Storage Scheme" (https://developer.pingidentity.com/reference/
// pingdirectory/10.2.0.0/config-guide/scrypt-password-storage-scheme.html) and the
// scrypt FORMAT file of Colin Percival's scrypt tool. Scheme names are matched
// case-insensitively ("{ssha256}" is accepted), everything after them exactly. An
// encoded value longer than 4096 characters is refused.
//
//   {SSHA} {SSHA256} {SSHA384} {SSHA512}
//       LDAP userPassword salted SHA: base64(digest(password || salt) || salt), standard
//       alphabet with padding; SHA-1 / SHA-256 / SHA-384 / SHA-512; salt 1..1024 bytes.
//   {BCRYPT}$2a$CC$... / $2b$ / $2y$
//       The usual 60-character modular-crypt string; cost CC in 4..14. Verified with
//       libxcrypt's crypt_rn.
//   {ARGON2}$argon2id$v=19$m=..,t=..,p=..$salt$hash (also $argon2i$)
//       The PHC string (salt 8..64 and hash 16..64 bytes, unpadded base64), version 19
//       only. Verified with libsodium. Limits: m <= 65536 KiB (64 MiB), t <= 10,
//       p <= 8. argon2d is not accepted.
//   {PBKDF2}base64(version | salt length | salt | iterations | prf | derived key)
//       PingOne documents the layout as starting with a 2-byte version and a 2-byte
//       salt length, then the salt and the iteration count; the public copy we could
//       read stops there, so the remainder is our choice and fully specified here. All
//       integers big-endian:
//         version      2 bytes, must be 1
//         salt length  2 bytes, 1..1024
//         salt         that many bytes
//         iterations   4 bytes, 1..1,000,000
//         prf          2 bytes: 1 = HMAC-SHA1, 2 = HMAC-SHA256, 3 = HMAC-SHA512
//         derived key  the remaining 16..64 bytes (its length is dkLen)
//       Standard base64 with padding.
//   {SCRYPT}base64(96-byte scrypt header), the "c2NyeXB0" format PingDirectory uses:
//         0  6  "scrypt"
//         6  1  0 (format version)
//         7  1  log2(N), 1..63
//         8  4  r, big-endian
//        12  4  p, big-endian
//        16 32  salt
//        48 16  first 16 bytes of SHA-256(bytes 0..47)
//        64 32  HMAC-SHA256(bytes 0..63) keyed with bytes 32..63 of
//               scrypt(password, salt, N, r, p, 64)
//       Limits: 128 * N * r <= 64 MiB of memory, p <= 16, and 128 * N * r * p <= 256 MiB
//       of mixing work.
//
// The limits exist because an imported hash is attacker-controlled input: without
// them one crafted value could make each sign-in attempt cost minutes or gigabytes.
// All functions are thread-safe; call crypto::Init() first.
#pragma once

#include <string_view>

#include "core/error.h"

namespace roster::crypto {

// Ok when `encoded` is a well-formed value of a supported scheme within the cost
// limits above; kInvalidArgument (field "password") saying what is wrong otherwise.
// Cheap: it parses, it never runs the hash.
core::Status CheckLegacyPasswordFormat(std::string_view encoded);

// true when `password` matches `encoded`, false when it does not (compared in constant
// time); the CheckLegacyPasswordFormat error when `encoded` is not acceptable;
// kResourceExhausted if the hash could not get its memory.
core::Result<bool> VerifyLegacyPassword(std::string_view encoded, std::string_view password);

}  // namespace roster::crypto
