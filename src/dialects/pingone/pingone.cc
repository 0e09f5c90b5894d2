// Placeholder until the dialect is built: mounts nothing.
#include "dialects/pingone/pingone.h"

namespace roster::dialects::pingone {

void Mount(http::Router&, Services) {}

core::Result<boost::json::object> CreateWorkerApp(Services, const std::string&) {
  return core::Fail(core::ErrorCode::kFailedPrecondition, "the PingOne dialect is not built yet");
}

}  // namespace roster::dialects::pingone
