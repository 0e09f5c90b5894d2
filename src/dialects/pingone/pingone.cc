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
  struct Arguments {
    std::string env;
    std::vector<std::string> scopes;
  };
  auto args = std::make_shared<Arguments>();
  auto* apps = CommandGroup(*CommandGroup(app, "pingone", "PingOne dialect administration"), "app",
                            "Worker applications");
  auto* create = apps->add_subcommand("create", "Create a worker application (client credentials) in an environment");
  create->add_option("--env", args->env, "Environment name")->required();
  create->add_option("--scope", args->scopes,
                     "A scope of the application (repeatable; default: everything in its environment but phi:*, "
                     "password:set and credentials:admin; see docs/security.md)");
  add(create, [args](const Services& s) -> core::Result<boost::json::object> {
    auto scopes = core::ScopesFromNames(args->scopes);
    if (!scopes) return std::unexpected(scopes.error());
    return CreateWorkerApp(s, args->env, *scopes);
  });
}

}  // namespace roster::dialects::pingone
