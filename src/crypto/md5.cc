#include "crypto/md5.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace roster::crypto {

std::string Md5(std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(message.data(), message.size(), out, &length, EVP_md5(), nullptr) != 1)
    throw std::runtime_error("MD5 failed");
  return std::string(reinterpret_cast<const char*>(out), length);
}

}  // namespace roster::crypto
