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
  auto env = std::make_shared<std::string>();
  auto* apps = CommandGroup(*CommandGroup(app, "quickblox", "QuickBlox dialect administration"), "app", "Applications");
  auto* create = apps->add_subcommand("create", "Create a QuickBlox application in an environment");
  create->add_option("--env", *env, "Environment name")->required();
  add(create, [env](const Services& s) { return CreateApplication(s, *env); });
}

}  // namespace roster::dialects::quickblox
