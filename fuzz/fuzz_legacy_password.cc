// Imported password hashes (crypto/legacy_password.h): {SSHA*}, {BCRYPT}, {ARGON2},
// {PBKDF2} and {SCRYPT} encodings. The parser behind the format check and verification
// never crashes, and for cheap encodings (salted SHA, bcrypt cost 4 or 5) verification
// agrees with the check on what is well-formed. The key derivations at the parser's
// maximum costs (bcrypt 14, 1M PBKDF2 iterations, 64 MiB argon2/scrypt) take seconds
// each and are exercised by the unit tests. The input is "<encoded>\n<password>".
#include "crypto/legacy_password.h"
#include "fuzz_support.h"

namespace {

bool Cheap(std::string_view encoded) {
  const auto upper = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    return out;
  };
  const std::string head = upper(encoded.substr(0, 16));
  if (head.starts_with("{SSHA")) return true;
  if (!head.starts_with("{BCRYPT}$2")) return false;
  const auto cost = encoded.find('$', 10);  // "{BCRYPT}$2b$" then the cost
  return cost != encoded.npos && encoded.substr(cost + 1, 3) <= "05$";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  const std::string_view text = fuzz::Text(data, size);
  const auto newline = text.find('\n');
  const std::string_view encoded = text.substr(0, newline);
  const std::string_view password = newline == text.npos ? std::string_view{} : text.substr(newline + 1);
  const bool well_formed = crypto::CheckLegacyPasswordFormat(encoded).has_value();
  if (!Cheap(encoded)) return 0;
  auto verified = crypto::VerifyLegacyPassword(encoded, password);
  if (well_formed != verified.has_value()) fuzz::Finding("format check and verification disagree", encoded);
  return 0;
}
