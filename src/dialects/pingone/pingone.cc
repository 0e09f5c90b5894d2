// The PingOne Platform dialect: worker-app tokens (/{envID}/as/token) and the
// management API under /v1/environments/{envID}. See docs/dialects/pingone.md.
#include "dialects/pingone/pingone.h"

#include <memory>

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

void AddCommands(CLI::App& app, const AddCommand& add) {
  auto env = std::make_shared<std::string>();
  auto* apps = CommandGroup(*CommandGroup(app, "pingone", "PingOne dialect administration"), "app",
                            "Worker applications");
  auto* create = apps->add_subcommand("create", "Create a worker application (client credentials) in an environment");
  create->add_option("--env", *env, "Environment name")->required();
  add(create, [env](const Services& s) { return CreateWorkerApp(s, *env); });
}

}  // namespace roster::dialects::pingone
