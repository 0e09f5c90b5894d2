// Placeholder until the dialect is built: mounts nothing.
#include "dialects/commcare/commcare.h"

namespace roster::dialects::commcare {

void Mount(http::Router&, Services) {}

core::Result<boost::json::object> CreateWebUser(Services, const std::string&, const std::string&) {
  return core::Fail(core::ErrorCode::kFailedPrecondition, "the CommCare dialect is not built yet");
}

}  // namespace roster::dialects::commcare
