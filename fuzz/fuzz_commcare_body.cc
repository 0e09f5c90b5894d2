// The CommCare API's decoders (dialects/commcare/mapping.h): user and group bodies,
// query strings (limit, offset, cursor, format), usernames and hex ids. Whatever is
// accepted into a user can be stored, read back and rendered.
#include "dialects/commcare/common.h"
#include "dialects/commcare/mapping.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  using namespace roster::dialects::commcare;
  const std::string_view text = fuzz::Text(data, size);
  if (auto body = ParseBody(fuzz::JsonRequest(text))) {
    if (auto fields = ReadUserFields(*body)) {
      core::User user = fuzz::SampleUser();
      ApplyUserFields(*fields, user);
      (void)UserWire(user, {"g1"}, "demo");
      fuzz::CheckStoredRoundTrip(user);
    }
    for (bool creating : {true, false}) {
      if (auto fields = ReadGroupFields(*body, creating)) {
        service::Record group;
        group.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        ApplyGroupFields(*fields, group, creating);
        (void)GroupWire(group, {"u1"}, "demo");
      }
    }
  }
  const auto query = ParseQuery(text);
  (void)CheckFormat(query);
  (void)EncodeQuery(query);
  if (auto page = ReadPage(query)) {
    (void)PageMeta(*page, 1000, "/a/demo/api/v0.5/user/", query);
    if (auto cursor = ReadCursor(query, *page); cursor && *cursor)
      (void)CursorUri("/a/demo/api/v0.5/user/", query, page->limit, page->offset, **cursor);
  }
  (void)MobileUsername(text, "demo", "commcarehq.org");
  (void)UuidFromHex(text);
  (void)ParseBool(text);
  return 0;
}
