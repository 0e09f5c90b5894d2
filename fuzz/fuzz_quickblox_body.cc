// The QuickBlox API's decoders: parameters from a form body, a JSON body and the query
// string (dialects/quickblox/common.h, form.h), the user object applied to a user on
// create and update (mapping.h), filter[] and order. Whatever is accepted into a user
// can be stored, read back and rendered.
#include "dialects/quickblox/common.h"
#include "dialects/quickblox/filter.h"
#include "dialects/quickblox/form.h"
#include "dialects/quickblox/mapping.h"
#include "dialects/quickblox/signature.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  using namespace roster::dialects::quickblox;
  if (size == 0) return 0;
  // The first byte picks where the rest arrives: form body, JSON body or query string.
  const std::string_view text = fuzz::Text(data + 1, size - 1);
  http::Request req = fuzz::JsonRequest("", data[0] % 3 == 1 ? "application/json" : "application/x-www-form-urlencoded");
  (data[0] % 3 == 2 ? req.query : req.body) = std::string(text);
  auto params = ParseParams(req);
  if (!params) return 0;
  (void)StringToSign(params->pairs);
  if (const auto* filter = params->object.if_contains("filter")) {
    if (auto filters = ParseFilterParam(*filter)) (void)ToQuery(*filters);
  }
  if (auto order = Text(params->object, "order")) (void)ParseOrder(*order);
  const auto* in = params->object.if_contains("user");
  if (in == nullptr || !in->is_object()) return 0;
  for (bool creating : {true, false}) {
    core::User user = creating ? core::User{} : fuzz::SampleUser();
    FieldErrors errors;
    ApplyUser(in->get_object(), creating, user, errors);
    (void)ReadPassword(in->get_object(), creating, errors);
    if (!errors.empty()) continue;
    (void)ToWire(user);
    (void)Tags(user);
    fuzz::CheckStoredRoundTrip(user);
  }
  return 0;
}
