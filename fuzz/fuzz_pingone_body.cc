// The PingOne API's decoders: user bodies for create, replace, merge and import
// (dialects/pingone/mapping.h) against a schema with custom attributes, and query
// strings (filter, limit, cursor). Whatever is accepted can be stored, read back and
// rendered.
#include "dialects/pingone/common.h"
#include "dialects/pingone/mapping.h"
#include "dialects/pingone/schema.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  using namespace roster::dialects::pingone;
  const std::string_view text = fuzz::Text(data, size);
  static const Schema schema{"s1", fuzz::SampleSchema().attributes};
  if (auto body = ParseBody(fuzz::JsonRequest(text))) {
    for (WriteMode mode : {WriteMode::kCreate, WriteMode::kReplace, WriteMode::kMerge}) {
      core::User user = mode == WriteMode::kCreate ? core::User{} : fuzz::SampleUser();
      if (!ApplyUser(*body, user, mode, schema, mode == WriteMode::kCreate)) continue;
      (void)UserWire(user, WireContext{"env", "https://x/v1/environments/env", "p1", &schema});
      fuzz::CheckStoredRoundTrip(user);
    }
  }
  if (auto query = ParseQuery(text)) (void)ReadPaging(*query, 100, 1000);
  return 0;
}
