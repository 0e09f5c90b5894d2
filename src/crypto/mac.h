// Message authentication and digests the platform dialects need to speak their
// protocols (QuickBlox request signatures, JWT HS256, legacy password formats).
// OpenSSL's libcrypto behind plain strings; all functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace roster::crypto {

enum class MacAlgorithm { kSha1, kSha256, kSha512 };

// Raw (binary) HMAC of `message` under `key`.
std::string Hmac(MacAlgorithm algorithm, std::string_view key, std::string_view message);
// Raw (binary) message digest.
std::string Digest(MacAlgorithm algorithm, std::string_view message);

}  // namespace roster::crypto
