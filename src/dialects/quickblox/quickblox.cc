// Placeholder until the dialect is built: mounts nothing.
#include "dialects/quickblox/quickblox.h"

namespace roster::dialects::quickblox {

void Mount(http::Router&, Services) {}

core::Result<boost::json::object> CreateApplication(Services, const std::string&) {
  return core::Fail(core::ErrorCode::kFailedPrecondition, "the QuickBlox dialect is not built yet");
}

}  // namespace roster::dialects::quickblox
