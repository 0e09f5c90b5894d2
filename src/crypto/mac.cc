#include "crypto/mac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace roster::crypto {
namespace {

const EVP_MD* Md(MacAlgorithm algorithm) {
  switch (algorithm) {
    case MacAlgorithm::kSha1: return EVP_sha1();
    case MacAlgorithm::kSha256: return EVP_sha256();
    case MacAlgorithm::kSha512: return EVP_sha512();
  }
  return EVP_sha256();
}

}  // namespace

std::string Hmac(MacAlgorithm algorithm, std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(Md(algorithm), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &length) == nullptr)
    throw std::runtime_error("HMAC failed");
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string Digest(MacAlgorithm algorithm, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(message.data(), message.size(), out, &length, Md(algorithm), nullptr) != 1)
    throw std::runtime_error("digest failed");
  return std::string(reinterpret_cast<const char*>(out), length);
}

}  // namespace roster::crypto
