// The composition root's list of APIs (one line each) and what serve and the CLI do
// with it.
#include "cli/registry.h"

#include <boost/json.hpp>

#include <iostream>
#include <stdexcept>

#include "dialects/catalyze/catalyze.h"
#include "dialects/commcare/commcare.h"
#include "dialects/pages/pages.h"
#include "dialects/pingone/pingone.h"
#include "dialects/quickblox/quickblox.h"
#include "dialects/scim/scim.h"

namespace roster::cli {
namespace {

namespace json = boost::json;
using service::Services;

// CORS for an API's path prefixes: the --cors-origin origins (default any), the request
// headers its SDKs send and the response headers they read (http/cors.h).
void Cors(http::Router& r, const ApiSettings& o, std::initializer_list<const char*> prefixes,
          std::vector<std::string> allow, std::vector<std::string> expose) {
  http::CorsPolicy policy{o.cors_origins.empty() ? std::vector<std::string>{"*"} : o.cors_origins, std::move(allow),
                          std::move(expose)};
  for (const char* prefix : prefixes) r.SetCors(prefix, policy);
}

// One line per API: its name, how serve mounts it (its configuration from the
// settings), and its subcommands.
constexpr Api kApis[] = {
    {"catalyze",
     [](http::Router& r, const Services& s, const ApiSettings& o) {
       dialects::catalyze::Mount(r, s, {o.public_url});
       Cors(r, o, {"/v2"}, {"X-Api-Key", "Authorization", "Content-Type", "Accept", "If-Match"},
            {"ETag", "Retry-After", "X-Request-Id"});
     },
     nullptr},
    {"pingone",
     [](http::Router& r, const Services& s, const ApiSettings& o) { dialects::pingone::Mount(r, s, {o.public_url}); },
     dialects::pingone::AddCommands},
    {"quickblox",
     [](http::Router& r, const Services& s, const ApiSettings& o) {
       dialects::quickblox::Mount(r, s, {o.public_url});
       Cors(r, o, {"/session.json", "/login.json", "/users.json", "/users", "/session", "/login"},
            {"QB-Token", "QB-SDK", "Authorization", "Content-Type", "Accept", "If-Match"},
            {"QB-Token-ExpirationDate", "ETag", "Retry-After", "X-Request-Id"});
     },
     dialects::quickblox::AddCommands},
    {"commcare",
     [](http::Router& r, const Services& s, const ApiSettings& o) {
       dialects::commcare::Mount(r, s, {o.commcare_account_root, o.public_url});
     },
     dialects::commcare::AddCommands},
    {"scim",
     [](http::Router& r, const Services& s, const ApiSettings& o) {
       dialects::scim::Mount(r, s, {o.public_url, o.body_limit});
     },
     dialects::scim::AddCommands},
    // The activation and password-reset pages the mails link to (Catalyze's and QuickBlox's resets).
    {"pages",
     [](http::Router& r, const Services& s, const ApiSettings&) {
       dialects::pages::Mount(r, s, {{{"catalyze", dialects::catalyze::ResetTokenKinds()},
                                      {"quickblox", dialects::quickblox::ResetTokenKinds(),
                                       dialects::quickblox::kMinPasswordLength}}});
     },
     nullptr},
};

}  // namespace

std::span<const Api> Apis() { return kApis; }

void AddApiOptions(CLI::App& serve, ApiSettings& settings) {
  serve.add_option("--public-url", settings.public_url,
                   "Base URL clients reach this server at, for links in responses (PingOne _links, SCIM meta.location) "
                   "and in activation and reset mails, "
                   "e.g. https://id.example.org")
      ->check([](const std::string& v) {
        return v.starts_with("https://") || v.starts_with("http://") ? std::string()
                                                                      : std::string("must start with https:// or http://");
      });
  serve.add_option("--cors-origin", settings.cors_origins,
                   "An origin browsers may call the Catalyze and QuickBlox APIs from, e.g. https://app.example.org "
                   "(repeatable; default *: any origin; no credentials mode)")
      ->check([](const std::string& v) {
        return v == "*" || v.starts_with("https://") || v.starts_with("http://")
                   ? std::string()
                   : std::string("must be * or start with https:// or http://");
      });
  serve.add_option("--commcare-account-root", settings.commcare_account_root,
                   "CommCare mobile worker usernames end in @DOMAIN.ROOT (default commcarehq.org)")
      ->check([](const std::string& v) {
        return dialects::commcare::IsValidAccountRoot(v) ? std::string()
                                                         : std::string("must be a lower-case DNS name such as commcarehq.org");
      });
}

// The flags' checks ran on every source (flag, ROSTER_* variable, config file: see
// cli/settings.h); what is left is the defaults.
void ResolveApiSettings(ApiSettings& settings) {
  if (settings.commcare_account_root.empty()) settings.commcare_account_root = dialects::commcare::kDefaultAccountRoot;
}

void MountApis(http::Router& router, const Services& services, const ApiSettings& settings) {
  for (const Api& api : Apis()) {
    router.SetGroup(api.name);  // its routes carry its name in the access log and metrics
    api.mount(router, services, settings);
  }
  router.SetGroup("");
}

void AddApiCommands(CLI::App& app, CommandTable& table, bool& as_json,
                    const std::function<void(CLI::App*)>& data_options) {
  const dialects::AddCommand add = [&](CLI::App* command, dialects::CommandAction action) {
    command->add_flag("--json", as_json, "Print one JSON object");
    data_options(command);
    table.emplace_back(command, std::move(action));
  };
  for (const Api& api : Apis())
    if (api.add_commands) api.add_commands(app, add);
}

int RunCommand(const dialects::CommandAction& action, const Services& services, bool as_json) {
  const auto result = action(services);
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

}  // namespace roster::cli
