// QuickBlox's filter[] and order parsers (dialects/quickblox/filter.h): never crash;
// what parses evaluates against a user's wire form and converts to the core's query.
#include "dialects/quickblox/filter.h"
#include "dialects/quickblox/mapping.h"
#include "fuzz_support.h"
#include "query/evaluate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  using namespace roster::dialects::quickblox;
  const std::string_view text = fuzz::Text(data, size);
  static const core::User user = fuzz::SampleUser();
  static const boost::json::object wire = ToWire(user);
  if (auto order = ParseOrder(text)) (void)Before(wire, wire, *order);
  // filter[] arrives as one string or (repeated) as an array of strings.
  boost::json::array several;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    several.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  for (const boost::json::value& param : {boost::json::value(text), boost::json::value(several)}) {
    auto filters = ParseFilterParam(param);
    if (!filters) continue;
    (void)MatchesAll(wire, *filters);
    (void)query::Matches(ToQuery(*filters), user, [](const core::User& u, const query::AttrPath& path) {
      return Attribute(u, path);
    });
  }
  return 0;
}
