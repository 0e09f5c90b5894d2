// PingOne's SCIM-like filter parser (dialects/pingone/filter.h): parsing never crashes;
// what parses evaluates against a user's wire form, gives an index hint and converts to
// the core's query, which evaluates too.
#include "dialects/pingone/filter.h"
#include "fuzz_support.h"
#include "query/evaluate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  using namespace roster::dialects::pingone;
  static const auto known = [](std::string_view path) {
    for (std::string_view k : {"username", "email", "name.given", "name.family", "population.id", "externalId",
                               "enabled", "nickname", "color", "tags", "address.locality", "id", "name"})
      if (path == k) return true;
    return false;
  };
  auto filter = ParseFilter(fuzz::Text(data, size), known);
  if (!filter) return 0;
  static const boost::json::object wire = boost::json::parse(R"({
    "id":"0f8fad5b-d9cb-469f-a165-70867728950e","username":"ada","email":"ada@example.com",
    "name":{"given":"Ada","family":"Lovelace"},"population":{"id":"p1"},"enabled":true,
    "tags":["x","y"],"address":{"locality":"Milwaukee"},"color":"blue"})").as_object();
  (void)Matches(*filter, wire);
  (void)IndexHint(*filter);
  static const core::User user = fuzz::SampleUser();
  (void)query::Matches(ToQuery(*filter), user);
  return 0;
}
