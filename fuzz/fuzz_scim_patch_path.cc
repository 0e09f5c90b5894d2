// SCIM PATCH paths (dialects/scim/patch.h): `attr`, `urn:...:attr.sub`,
// `emails[type eq "work"].value`. Parsing never crashes, with and without a target.
#include "dialects/scim/common.h"
#include "dialects/scim/patch.h"
#include "dialects/scim/resources.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roster::dialects::scim;
  static const PatchTarget user = UserPatchTarget();
  const std::string_view text = roster::fuzz::Text(data, size);
  (void)ParsePatchPath(text);
  (void)ParsePatchPath(text, &user);
  return 0;
}
