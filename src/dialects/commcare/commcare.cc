// The CommCare HQ dialect: mounts the user, group and web-user APIs under /a.
#include "dialects/commcare/commcare.h"

#include <fstream>
#include <memory>
#include <stdexcept>

#include "dialects/commcare/common.h"
#include "dialects/commcare/web_user_spec.h"
#include "dialects/openapi.h"

namespace roster::dialects::commcare {

// src/dialects/commcare/openapi.json, embedded by roster_embed_text.
extern const std::string_view kOpenApiDocument;

void Mount(http::Router& router, const Services& services, const Config& config) {
  if (!IsValidAccountRoot(config.account_root))
    throw std::invalid_argument("the CommCare account root must be a lower-case DNS name such as commcarehq.org");
  const Context c{services, config.account_root, config.public_url};
  // Transport errors (404, 405, 413, 503) under /a in CommCare's {"error": ...} shape.
  router.SetErrorRenderer("/a", [](int status, std::string_view message) { return ErrorResponse(status, message); });
  MountUsers(router, c);
  MountGroups(router, c);
  MountWebUsers(router, c);
  MountIdentity(router, c);
  MountBulkUsers(router, c);
  MountLocations(router, c);
  MountInvitations(router, c);
  MountOAuth(router, c);
  MountOpenApi(router, "commcare", kOpenApiDocument);
}

void AddCommands(CLI::App& app, const AddCommand& add) {
  struct Arguments {
    std::string domain, email, password_file;
    std::vector<std::string> scopes;
  };
  // The first line of the file (without its line end): a password never goes on a
  // command line, where `ps` shows it.
  const auto read_password = [](const std::string& path) -> core::Result<std::string> {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line))
      return core::InvalidArgument("password-file", "cannot read a password from " + path);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) return core::InvalidArgument("password-file", "the first line of " + path + " is empty");
    return line;
  };
  auto args = std::make_shared<Arguments>();
  auto* commcare = CommandGroup(app, "commcare", "CommCare HQ dialect administration");
  auto* web_users = CommandGroup(*commcare, "web-user", "Web users");
  const auto command = [&](const char* name, const char* description) {
    auto* c = web_users->add_subcommand(name, description);
    c->add_option("--domain", args->domain, "Project space (domain) name")->required();
    c->add_option("--email", args->email, "Web user's email (its username)")->required();
    return c;
  };
  auto* create = command("create", "Create a web user with an API key (and the domain's environment if missing)");
  create->add_option("--scope", args->scopes,
                     "A scope of its key (repeatable; default: profile:read profile:write users:list contact:read "
                     "groups:write; see docs/security.md)");
  create->add_option("--password-file", args->password_file,
                     "A file whose first line is the web user's password (HTTP Basic and Digest)");
  add(create, [args, read_password](const Services& s) -> core::Result<boost::json::object> {
    auto scopes = core::ScopesFromNames(args->scopes);
    if (!scopes) return std::unexpected(scopes.error());
    std::optional<std::string> password;
    if (!args->password_file.empty()) {
      auto read = read_password(args->password_file);
      if (!read) return std::unexpected(read.error());
      password = std::move(*read);
    }
    return CreateWebUser(s, args->domain, args->email, *scopes, password);
  });
  auto* set_password = command("set-password", "Set a web user's password (for HTTP Basic and Digest)");
  set_password->add_option("--password-file", args->password_file,
                           "A file whose first line is the new password")->required();
  add(set_password, [args, read_password](const Services& s) -> core::Result<boost::json::object> {
    auto password = read_password(args->password_file);
    if (!password) return std::unexpected(password.error());
    return SetWebUserPassword(s, args->domain, args->email, *password);
  });
  // `roster commcare domain configure`: the project space's user profiles and Tableau
  // groups, which web-user PATCH and invitations accept (none: the privilege is off).
  struct DomainArguments {
    std::string domain;
    std::vector<std::string> profiles, tableau_groups;
  };
  auto dargs = std::make_shared<DomainArguments>();
  auto* domains = CommandGroup(*commcare, "domain", "Project spaces");
  auto* configure = domains->add_subcommand(
      "configure", "Set a project space's user profiles and Tableau groups (replacing the lists)");
  configure->add_option("--domain", dargs->domain, "Project space (domain) name")->required();
  configure->add_option("--profile", dargs->profiles, "A user profile name (repeatable)");
  configure->add_option("--tableau-group", dargs->tableau_groups, "A Tableau group name (repeatable)");
  add(configure, [dargs](const Services& s) -> core::Result<boost::json::object> {
    auto env = s.directory.EnsureEnvironment(dargs->domain);
    if (!env) return std::unexpected(env.error());
    if (auto st = SaveDomainConfig(s, env->id, {dargs->profiles, dargs->tableau_groups}); !st)
      return std::unexpected(st.error());
    boost::json::array profiles, groups;
    for (const auto& p : dargs->profiles) profiles.emplace_back(p);
    for (const auto& g : dargs->tableau_groups) groups.emplace_back(g);
    return boost::json::object{{"domain", dargs->domain}, {"profiles", std::move(profiles)},
                               {"tableau_groups", std::move(groups)}};
  });
  AddOAuthCommands(*commcare, add);
  add(command("revoke-key", "Revoke a web user's API key; it is refused at once"),
      [args](const Services& s) { return RevokeWebUserKey(s, args->domain, args->email); });
  add(command("rotate-key",
              "Give a web user a new API key with the old one's scopes (printed once); the old one is refused at once"),
      [args](const Services& s) { return RotateWebUserKey(s, args->domain, args->email); });
}

}  // namespace roster::dialects::commcare
