#include "cli/commands.h"

#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "dialects/commcare/commcare.h"
#include "dialects/pingone/pingone.h"
#include "dialects/quickblox/quickblox.h"

namespace roster::cli {
namespace {

namespace json = boost::json;

// Prints a dialect command's result: the JSON object with --json, else one "key: value"
// line per member.
int Print(const core::Result<json::object>& result, bool as_json) {
  if (!result) throw std::runtime_error(result.error().message);
  if (as_json) {
    std::cout << json::serialize(*result) << std::endl;
  } else {
    for (const auto& [key, value] : *result)
      std::cout << std::string(key) << ": "
                << (value.is_string() ? std::string(value.as_string()) : json::serialize(value)) << "\n";
    std::cout << std::flush;
  }
  return 0;
}

struct Arguments {
  std::string env, domain, email;
  bool as_json = false;
};

CLI::App* Group(CLI::App& parent, const char* name, const char* description) {
  auto* g = parent.add_subcommand(name, description);
  g->require_subcommand(1);
  return g;
}

}  // namespace

void AddDialectCommands(CLI::App& app, CommandTable& table, const std::function<void(CLI::App*)>& data_options) {
  auto args = std::make_shared<Arguments>();

  auto* pingone_app = Group(*Group(app, "pingone", "PingOne dialect administration"), "app", "Worker applications");
  auto* pingone_create =
      pingone_app->add_subcommand("create", "Create a worker application (client credentials) in an environment");
  pingone_create->add_option("--env", args->env, "Environment name")->required();
  pingone_create->add_flag("--json", args->as_json, "Print one JSON object");
  data_options(pingone_create);
  table.emplace_back(pingone_create, [args](Runtime& rt) {
    return Print(dialects::pingone::CreateWorkerApp({rt.directory, rt.users, rt.records, rt.clock}, args->env),
                 args->as_json);
  });

  auto* qb_app = Group(*Group(app, "quickblox", "QuickBlox dialect administration"), "app", "Applications");
  auto* qb_create = qb_app->add_subcommand("create", "Create a QuickBlox application in an environment");
  qb_create->add_option("--env", args->env, "Environment name")->required();
  qb_create->add_flag("--json", args->as_json, "Print one JSON object");
  data_options(qb_create);
  table.emplace_back(qb_create, [args](Runtime& rt) {
    return Print(dialects::quickblox::CreateApplication({rt.directory, rt.users, rt.records, rt.clock}, args->env),
                 args->as_json);
  });

  auto* web_user = Group(*Group(app, "commcare", "CommCare HQ dialect administration"), "web-user", "Web users");
  auto* web_user_create = web_user->add_subcommand(
      "create", "Create a web user with an API key (and the domain's environment if missing)");
  web_user_create->add_option("--domain", args->domain, "Project space (domain) name")->required();
  web_user_create->add_option("--email", args->email, "Web user's email (its username)")->required();
  web_user_create->add_flag("--json", args->as_json, "Print one JSON object");
  data_options(web_user_create);
  table.emplace_back(web_user_create, [args](Runtime& rt) {
    return Print(dialects::commcare::CreateWebUser({rt.directory, rt.users, rt.records, rt.clock}, args->domain,
                                                   args->email),
                 args->as_json);
  });
}

void MountDialects(http::Router& router, const Runtime& rt, const DialectOptions& options) {
  const service::Services services{rt.directory, rt.users, rt.records, rt.clock};
  std::string public_url = options.public_url;
  if (const char* env = std::getenv("ROSTER_PUBLIC_URL"); public_url.empty() && env) public_url = env;
  dialects::pingone::Mount(router, services, {public_url});
  dialects::quickblox::Mount(router, services);
  dialects::commcare::Config commcare;
  if (!options.commcare_account_root.empty()) {
    if (!dialects::commcare::IsValidAccountRoot(options.commcare_account_root))
      throw std::invalid_argument("--commcare-account-root must be a lower-case DNS name such as commcarehq.org");
    commcare.account_root = options.commcare_account_root;
  } else if (const char* root = std::getenv("ROSTER_COMMCARE_ACCOUNT_ROOT"); root && *root) {
    if (!dialects::commcare::IsValidAccountRoot(root))
      throw std::invalid_argument("ROSTER_COMMCARE_ACCOUNT_ROOT must be a lower-case DNS name such as commcarehq.org");
    commcare.account_root = root;
  }
  dialects::commcare::Mount(router, services, commcare);
}

}  // namespace roster::cli
