// The SCIM filter parser (query/scim.h), shared by every API's searches: parsing never
// crashes, what parses evaluates against a user, and its canonical text (query::ToString)
// parses back to the same tree.
#include "fuzz_support.h"
#include "query/evaluate.h"
#include "query/filter.h"
#include "query/scim.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  auto parsed = query::ParseScimFilter(fuzz::Text(data, size));
  if (!parsed) return 0;
  static const core::User user = fuzz::SampleUser();
  (void)query::Matches(*parsed, user);
  const std::string text = query::ToString(*parsed);
  query::ParseLimits roomy;  // the canonical text adds parentheses and quotes
  roomy.max_length = 1 << 20;
  roomy.max_depth = 1 << 10;
  roomy.max_terms = 1 << 10;
  auto again = query::ParseScimFilter(text, roomy);
  if (!again) fuzz::Finding("canonical filter text does not parse", text);
  if (query::ToString(*again) != text) fuzz::Finding("canonical filter text changes when parsed again", text);
  return 0;
}
