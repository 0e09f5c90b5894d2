// The SCIM API's decoders: request bodies (User resources, PatchOp applied to a user,
// SearchRequest) and query strings (filter, sortBy, attributes, startIndex, If-Match).
// Whatever a decoder accepts into a user can be stored and read back.
#include "dialects/scim/common.h"
#include "dialects/scim/mapping.h"
#include "dialects/scim/patch.h"
#include "dialects/scim/resources.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster;
  using namespace roster::dialects::scim;
  const std::string_view text = fuzz::Text(data, size);
  const core::AttributeSchema& schema = fuzz::SampleSchema();

  if (auto body = ParseBody(fuzz::JsonRequest(text, "application/scim+json"))) {
    core::User user = fuzz::SampleUser();
    if (ApplyUserResource(*body, user, &schema)) fuzz::CheckStoredRoundTrip(user);
    if (auto ops = ParsePatch(*body)) {
      core::User patched = fuzz::SampleUser();
      boost::json::object resource = UserResource(patched, RenderContext{"https://x/scim/v2", &schema, {}});
      resource.erase("meta");
      if (ApplyPatch(resource, *ops, UserPatchTarget()) && ApplyUserResource(resource, patched, &schema))
        fuzz::CheckStoredRoundTrip(patched);
    }
    if (auto search = SearchFromBody(*body)) (void)Compile(*search);
  }

  if (auto query = ParseQuery(text)) {
    if (auto search = SearchFromQuery(*query)) (void)Compile(*search);
  }
  const auto half = text.substr(0, size / 2), rest = text.substr(size / 2);
  (void)ParseProjection(half, rest);
  (void)ParsePage(half, rest);
  (void)PreconditionOf(text);
  return 0;
}
