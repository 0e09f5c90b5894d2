// The PingOne Platform dialect: worker-app tokens (/{envID}/as/token) and the
// management API under /v1/environments/{envID}. See docs/dialects/pingone.md.
#include "dialects/pingone/pingone.h"

#include "dialects/pingone/common.h"

namespace roster::dialects::pingone {

void Mount(http::Router& router, const Services& services, const Config& config) {
  auto state = std::make_shared<State>(services, config);
  router.SetErrorRenderer("/v1/environments", TransportError);
  MountToken(router, state);
  MountEnvironment(router, state);
  MountPopulations(router, state);
  MountSchemas(router, state);
  MountUsers(router, state);
  MountPasswords(router, state);
}

}  // namespace roster::dialects::pingone
