// MD5, only for protocols that mandate it (HTTP Digest's default algorithm, RFC 7616):
// never for anything that needs collision resistance. OpenSSL's libcrypto; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace roster::crypto {

// Raw (binary) MD5 digest of `message`.
std::string Md5(std::string_view message);

}  // namespace roster::crypto
