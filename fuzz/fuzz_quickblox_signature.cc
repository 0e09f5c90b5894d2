// QuickBlox request signatures (dialects/quickblox/signature.h): the form is parsed, its
// string to sign built and the `signature` parameter checked. Never crashes; a request
// signed with the right secret always verifies, and with another secret never does.
#include "dialects/quickblox/form.h"
#include "dialects/quickblox/signature.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  using namespace roster::dialects::quickblox;
  const std::string_view text = fuzz::Text(data, size);
  constexpr std::string_view kSecret = "fuzz-auth-secret";
  auto form = ParseForm(text);
  if (!form) {
    // A signature compared as sent: any hex (or not) against any string to sign.
    const auto half = size / 2;
    (void)VerifySignature(text.substr(0, half), text.substr(half), kSecret);
    return 0;
  }
  (void)VerifySessionSignature(form->pairs, kSecret);
  std::vector<FormPair> pairs;
  for (const auto& pair : form->pairs)
    if (pair.key != kSignatureParam) pairs.push_back(pair);
  const std::string to_sign = StringToSign(pairs);
  for (auto algorithm : {crypto::MacAlgorithm::kSha1, crypto::MacAlgorithm::kSha256}) {
    std::vector<FormPair> signed_pairs = pairs;
    signed_pairs.push_back({std::string(kSignatureParam), Sign(algorithm, to_sign, kSecret)});
    if (StringToSign(signed_pairs) != to_sign) fuzz::Finding("the signature parameter is part of the string to sign");
    if (!VerifySessionSignature(signed_pairs, kSecret)) fuzz::Finding("a correctly signed request is refused", to_sign);
    if (VerifySessionSignature(signed_pairs, "another-secret")) fuzz::Finding("a wrong secret verifies", to_sign);
  }
  return 0;
}
