// The QuickBlox session signature (POST /session.json), exactly as the JavaScript SDK
// computes it (modules/qbAuth.js, signMessage):
//
//   every parameter except "signature" becomes "key=value" (a nested object gives one
//   "key[sub]=value" per member; those are sorted and joined with '&' into one chunk),
//   the chunks are sorted with JavaScript's default sort (UTF-16 code-unit order) and
//   joined with '&'. Values are the raw, decoded values (never URL-encoded).
//   signature = lower-case hex of HMAC-SHA1(key = auth secret, message = that string),
//   or HMAC-SHA256 with the SDK's hash:'sha256' option.
//
// Pure: no I/O. Callers obtain the decoded pairs from ParseForm (form.h).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "crypto/mac.h"
#include "dialects/quickblox/form.h"

namespace roster::dialects::quickblox {

// The parameter that carries the signature; StringToSign skips it.
inline constexpr std::string_view kSignatureParam = "signature";

// Builds the string to sign from decoded pairs in any order. A key with brackets
// ("user[login]") is grouped by its name before the first '['. Pairs named exactly
// "signature" are skipped, so the whole parsed form may be passed.
std::string StringToSign(std::span<const FormPair> pairs);

// Lower-case hex HMAC of `string_to_sign` under `auth_secret` (kSha1 or kSha256), as the
// SDK sends it. For tests and tools; the server only verifies.
std::string Sign(crypto::MacAlgorithm algorithm, std::string_view string_to_sign,
                 std::string_view auth_secret);

// Checks `signature_hex` against `string_to_sign`: 40 hex digits select HMAC-SHA1, 64
// select HMAC-SHA256; hex digits in either case; the MACs are compared in constant time.
// kInvalidArgument (field "signature") if it is not 40 or 64 hex digits;
// kUnauthenticated (field "signature") if it does not match.
core::Status VerifySignature(std::string_view string_to_sign, std::string_view signature_hex,
                             std::string_view auth_secret);

// The whole check for a parsed POST /session.json: finds the one "signature" pair
// (kInvalidArgument if it is missing or repeated), builds the string to sign from the
// others and verifies it as above.
core::Status VerifySessionSignature(std::span<const FormPair> pairs, std::string_view auth_secret);

}  // namespace roster::dialects::quickblox
