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
  MountGroups(router, state);
}

void AddCommands(CLI::App& app, const AddCommand& add) {
  struct Arguments {
    std::string env, id;
    std::vector<std::string> scopes;
  };
  auto args = std::make_shared<Arguments>();
  auto* apps = CommandGroup(*CommandGroup(app, "pingone", "PingOne dialect administration"), "app",
                            "Worker applications");
  const auto command = [&](const char* name, const char* description, bool with_id) {
    auto* c = apps->add_subcommand(name, description);
    c->add_option("--env", args->env, "Environment name")->required();
    if (with_id) c->add_option("--id", args->id, "The application's client id")->required();
    return c;
  };
  auto* create = command("create", "Create a worker application (client credentials) in an environment", false);
  create->add_option("--scope", args->scopes,
                     "A scope of the application (repeatable; default: everything in its environment but phi:*, "
                     "password:set and credentials:admin; see docs/security.md)");
  add(create, [args](const Services& s) -> core::Result<boost::json::object> {
    auto scopes = core::ScopesFromNames(args->scopes);
    if (!scopes) return std::unexpected(scopes.error());
    return CreateWorkerApp(s, args->env, *scopes);
  });
  add(command("rotate-secret",
              "Give a worker application a new secret (printed once); the old secret and its tokens stop at once",
              true),
      [args](const Services& s) { return RotateWorkerAppSecret(s, args->env, args->id); });
  add(command("delete", "Delete a worker application; its tokens stop at once", true),
      [args](const Services& s) { return DeleteWorkerApp(s, args->env, args->id); });
  add(command("list", "List an environment's worker applications (never their secrets)", false),
      [args](const Services& s) { return ListWorkerApps(s, args->env); });
}

}  // namespace roster::dialects::pingone
