#include "crypto/base64.h"

#include <sodium.h>

namespace roster::crypto {
namespace {

std::string Encode(std::string_view bytes, int variant) {
  // The length includes the terminating NUL that sodium_bin2base64 writes.
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.pop_back();
  return out;
}

core::Result<std::string> Decode(std::string_view text, int variant) {
  // Every 4 characters carry at most 3 bytes, so this is always large enough.
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t length = 0;
  // No ignore set and no end pointer: libsodium then rejects any character outside
  // the alphabet, trailing input, wrong padding and non-zero leftover bits.
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, nullptr, variant) != 0)
    return core::InvalidArgument("", "invalid base64");
  out.resize(length);
  return out;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  return Encode(bytes, sodium_base64_VARIANT_ORIGINAL);
}

core::Result<std::string> Base64Decode(std::string_view text) {
  return Decode(text, sodium_base64_VARIANT_ORIGINAL);
}

std::string Base64UrlEncode(std::string_view bytes) {
  return Encode(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

core::Result<std::string> Base64UrlDecode(std::string_view text) {
  return Decode(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

}  // namespace roster::crypto
