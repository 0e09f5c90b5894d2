// Base64 encodings over plain strings, backed by libsodium's constant-time codec.
//
// Two alphabets: standard (RFC 4648 section 4, "+/" with "=" padding), used by the
// LDAP-style password encodings, and URL-safe (section 5, "-_" without padding), used
// by JWTs. Decoding is strict so one value has exactly one accepted spelling: a
// character outside the alphabet, whitespace, missing or extra padding, a length no
// encoder produces, or non-zero unused trailing bits all fail with kInvalidArgument.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace roster::crypto {

std::string Base64Encode(std::string_view bytes);
core::Result<std::string> Base64Decode(std::string_view text);

std::string Base64UrlEncode(std::string_view bytes);
core::Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace roster::crypto
