// The QuickBlox users REST dialect: /session.json, /login.json, /users.json, /users/...
// See docs/dialects/quickblox.md.
#include "dialects/quickblox/quickblox.h"

#include <memory>

#include "dialects/openapi.h"
#include "dialects/quickblox/common.h"

namespace roster::dialects::quickblox {

// This API's OpenAPI document (openapi.json, embedded at build time).
extern const std::string_view kOpenApiDocument;

void Mount(http::Router& router, const Services& s, const Config& config) {
  // QuickBlox paths sit at the root; these prefixes render 404/405/413/503 in its shape.
  for (const char* prefix : {"/session.json", "/login.json", "/users.json", "/users", "/session", "/login"})
    router.SetErrorRenderer(prefix, RenderTransportError);
  MountSessions(router, s);
  std::string public_url = config.public_url;
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  MountUsers(router, s, public_url);
  MountOpenApi(router, "quickblox", kOpenApiDocument);
}

void AddCommands(CLI::App& app, const AddCommand& add) {
  struct Arguments {
    std::string env;
    std::int64_t id = 0;
    bool allow_user_list = false, allow_contact_fields = false;  // create
    std::vector<std::string> key_scopes;                          // create
    AppSettings settings;                                         // update
    bool end_sessions = false;                                    // rotate-secret
  };
  auto args = std::make_shared<Arguments>();
  auto* apps = CommandGroup(*CommandGroup(app, "quickblox", "QuickBlox dialect administration"), "app", "Applications");
  const auto command = [&](const char* name, const char* description, bool with_id) {
    auto* c = apps->add_subcommand(name, description);
    c->add_option("--env", args->env, "Environment name")->required();
    if (with_id) c->add_option("--id", args->id, "Application id")->required();
    return c;
  };
  auto* create = command("create", "Create a QuickBlox application in an environment", false);
  create->add_flag("--allow-user-list", args->allow_user_list,
                   "Let application and user sessions list and search users (off by default, as QuickBlox)");
  create->add_flag("--allow-contact-fields", args->allow_contact_fields,
                   "Show other users' email and phone to application and user sessions (off by default)");
  create->add_option("--scope", args->key_scopes,
                     "A scope of the application's API key (repeatable; default: signup profile:read profile:write "
                     "users:list contact:read; see docs/security.md)");
  add(create, [args](const Services& s) -> core::Result<boost::json::object> {
    AppSettings settings;
    settings.allow_user_list = args->allow_user_list;
    settings.allow_contact_fields = args->allow_contact_fields;
    auto scopes = core::ScopesFromNames(args->key_scopes);
    if (!scopes) return std::unexpected(scopes.error());
    settings.key_scopes = *scopes;
    return CreateApplication(s, args->env, settings);
  });
  auto* update = command("update", "Change a QuickBlox application's settings (its sessions see the change at once)",
                         true);
  update->add_option("--allow-user-list", args->settings.allow_user_list, "true or false");
  update->add_option("--allow-contact-fields", args->settings.allow_contact_fields, "true or false");
  add(update, [args](const Services& s) { return UpdateApplication(s, args->env, args->id, args->settings); });
  auto* rotate_secret = command(
      "rotate-secret", "Give an application a new auth secret (printed once); the old one is refused at once", true);
  rotate_secret->add_flag("--end-sessions", args->end_sessions,
                          "Also end every session of the application now (default: they run until they expire)");
  add(rotate_secret,
      [args](const Services& s) { return RotateApplicationSecret(s, args->env, args->id, args->end_sessions); });
  add(command("rotate-key",
              "Give an application a new API key with the old one's scopes (printed once); the old one is refused "
              "at once",
              true),
      [args](const Services& s) { return RotateApplicationKey(s, args->env, args->id); });
  add(command("delete", "Delete an application; its sessions and API key stop at once", true),
      [args](const Services& s) { return DeleteApplication(s, args->env, args->id); });
}

}  // namespace roster::dialects::quickblox
