#include "dialects/quickblox/signature.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "crypto/crypto.h"

namespace roster::dialects::quickblox {
namespace {

// UTF-8 -> UTF-16 code units, the units JavaScript's default sort compares. Input from
// ParseForm is valid UTF-8; any other byte is passed through as one unit so the order
// stays total and deterministic.
std::u16string ToUtf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    std::size_t length = 1;
    std::uint32_t cp = c;
    if (c >= 0xC0 && c < 0xE0) length = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c < 0xF0) length = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c < 0xF8) length = 4, cp = c & 0x07;
    bool ok = length > 1 && s.size() - i >= length;
    for (std::size_t k = 1; ok && k < length; ++k) {
      const auto cc = static_cast<std::uint8_t>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(static_cast<char16_t>(c));
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += length;
  }
  return out;
}

// Sorts UTF-8 strings as JavaScript's Array.prototype.sort() without a comparator does.
void JsSort(std::vector<std::string>& items) {
  std::vector<std::pair<std::u16string, std::string>> keyed;
  keyed.reserve(items.size());
  for (auto& item : items) keyed.emplace_back(ToUtf16(item), std::move(item));
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = std::move(keyed[i].second);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += '&';
    out += item;
  }
  return out;
}

std::optional<int> HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

}  // namespace

std::string StringToSign(std::span<const FormPair> pairs) {
  // Top-level scalars are chunks of their own; members of one bracketed name form one
  // chunk, sorted inside (as signMessage maps a nested object).
  std::vector<std::string> chunks;
  std::map<std::string, std::vector<std::string>, std::less<>> groups;
  for (const FormPair& pair : pairs) {
    if (pair.key == kSignatureParam) continue;
    std::string item = pair.key + '=' + pair.value;
    const std::size_t open = pair.key.find('[');
    if (open == std::string::npos) {
      chunks.push_back(std::move(item));
    } else {
      groups[pair.key.substr(0, open)].push_back(std::move(item));
    }
  }
  for (auto& [name, members] : groups) {
    JsSort(members);
    chunks.push_back(Join(members));
  }
  JsSort(chunks);
  return Join(chunks);
}

std::string Sign(crypto::MacAlgorithm algorithm, std::string_view string_to_sign,
                 std::string_view auth_secret) {
  return crypto::ToHex(crypto::Hmac(algorithm, auth_secret, string_to_sign));
}

core::Status VerifySignature(std::string_view string_to_sign, std::string_view signature_hex,
                             std::string_view auth_secret) {
  crypto::MacAlgorithm algorithm;
  if (signature_hex.size() == 40) {
    algorithm = crypto::MacAlgorithm::kSha1;
  } else if (signature_hex.size() == 64) {
    algorithm = crypto::MacAlgorithm::kSha256;
  } else {
    return core::InvalidArgument(
        std::string(kSignatureParam),
        "signature must be 40 (HMAC-SHA1) or 64 (HMAC-SHA256) hexadecimal digits");
  }
  std::string given(signature_hex.size() / 2, '\0');
  for (std::size_t i = 0; i < given.size(); ++i) {
    const auto high = HexDigit(signature_hex[2 * i]);
    const auto low = HexDigit(signature_hex[2 * i + 1]);
    if (!high || !low) {
      return core::InvalidArgument(std::string(kSignatureParam),
                                   "signature must be hexadecimal digits");
    }
    given[i] = static_cast<char>((*high << 4) | *low);
  }
  const std::string expected = crypto::Hmac(algorithm, auth_secret, string_to_sign);
  if (!crypto::SecretsEqual(expected, given)) {
    return core::Fail(core::ErrorCode::kUnauthenticated, "unexpected signature",
                      std::string(kSignatureParam));
  }
  return {};
}

core::Status VerifySessionSignature(std::span<const FormPair> pairs, std::string_view auth_secret) {
  const FormPair* signature = nullptr;
  for (const FormPair& pair : pairs) {
    if (pair.key != kSignatureParam) continue;
    if (signature != nullptr) {
      return core::InvalidArgument(std::string(kSignatureParam), "signature is given more than once");
    }
    signature = &pair;
  }
  if (signature == nullptr) {
    return core::InvalidArgument(std::string(kSignatureParam), "signature is missing");
  }
  return VerifySignature(StringToSign(pairs), signature->value, auth_secret);
}

}  // namespace roster::dialects::quickblox
