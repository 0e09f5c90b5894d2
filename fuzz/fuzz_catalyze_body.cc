// The Catalyze v2 API's body decoders (dialects/catalyze/mapping.h): a user body applied
// to a user, its password; what is accepted can be stored, read back and rendered.
#include "dialects/catalyze/common.h"
#include "dialects/catalyze/mapping.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  using namespace roster::dialects::catalyze;
  auto body = ParseBody(fuzz::JsonRequest(fuzz::Text(data, size)));
  if (!body) return 0;
  (void)ReadPassword(*body);
  (void)RequiredString(*body, "username", 256);
  for (core::User user : {core::User{}, fuzz::SampleUser()}) {
    if (!ApplyFields(*body, user, 1'700'000'000'000)) continue;
    (void)CheckRequired(user);
    (void)ToWire(user, 1'700'000'000'000);
    fuzz::CheckStoredRoundTrip(user);
  }
  return 0;
}
