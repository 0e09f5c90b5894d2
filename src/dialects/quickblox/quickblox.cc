// The QuickBlox users REST dialect: /session.json, /login.json, /users.json, /users/...
// See docs/dialects/quickblox.md.
#include "dialects/quickblox/quickblox.h"

#include <memory>

#include "dialects/quickblox/common.h"

namespace roster::dialects::quickblox {

void Mount(http::Router& router, const Services& s) {
  // QuickBlox paths sit at the root; these prefixes render 404/405/413/503 in its shape.
  for (const char* prefix : {"/session.json", "/login.json", "/users.json", "/users"})
    router.SetErrorRenderer(prefix, RenderTransportError);
  MountSessions(router, s);
  MountUsers(router, s);
}

void AddCommands(CLI::App& app, const AddCommand& add) {
  struct Arguments {
    std::string env, id;
    bool end_sessions = false;
  };
  auto args = std::make_shared<Arguments>();
  auto* apps = CommandGroup(*CommandGroup(app, "quickblox", "QuickBlox dialect administration"), "app", "Applications");
  const auto command = [&](const char* name, const char* description, bool with_id) {
    auto* c = apps->add_subcommand(name, description);
    c->add_option("--env", args->env, "Environment name")->required();
    if (with_id) c->add_option("--id", args->id, "The application id")->required();
    return c;
  };
  add(command("create", "Create a QuickBlox application in an environment", false),
      [args](const Services& s) { return CreateApplication(s, args->env); });
  auto* rotate_secret = command(
      "rotate-secret", "Give an application a new auth secret (printed once); the old one is refused at once", true);
  rotate_secret->add_flag("--end-sessions", args->end_sessions,
                          "Also end every session of the application now (default: they run until they expire)");
  add(rotate_secret,
      [args](const Services& s) { return RotateApplicationSecret(s, args->env, args->id, args->end_sessions); });
  add(command("rotate-key", "Give an application a new API key (printed once); the old one is refused at once", true),
      [args](const Services& s) { return RotateApplicationKey(s, args->env, args->id); });
  add(command("delete", "Delete an application; its sessions and API key stop at once", true),
      [args](const Services& s) { return DeleteApplication(s, args->env, args->id); });
}

}  // namespace roster::dialects::quickblox
