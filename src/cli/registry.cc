// The composition root's list of APIs (one line each) and what serve and the CLI do
// with it.
#include "cli/registry.h"

#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include "dialects/catalyze/catalyze.h"
#include "dialects/commcare/commcare.h"
#include "dialects/pingone/pingone.h"
#include "dialects/quickblox/quickblox.h"
#include "dialects/scim/scim.h"

namespace roster::cli {
namespace {

namespace json = boost::json;
using service::Services;

// One line per API: its name, how serve mounts it (its configuration from the
// settings), and its subcommands.
constexpr Api kApis[] = {
    {"catalyze", [](http::Router& r, const Services& s, const ApiSettings&) { dialects::catalyze::Mount(r, s); },
     nullptr},
    {"pingone",
     [](http::Router& r, const Services& s, const ApiSettings& o) { dialects::pingone::Mount(r, s, {o.public_url}); },
     dialects::pingone::AddCommands},
    {"quickblox", [](http::Router& r, const Services& s, const ApiSettings&) { dialects::quickblox::Mount(r, s); },
     dialects::quickblox::AddCommands},
    {"commcare",
     [](http::Router& r, const Services& s, const ApiSettings& o) {
       dialects::commcare::Mount(r, s, {o.commcare_account_root});
     },
     dialects::commcare::AddCommands},
    {"scim", [](http::Router& r, const Services& s, const ApiSettings& o) { dialects::scim::Mount(r, s, {o.public_url}); },
     dialects::scim::AddCommands},
};

}  // namespace

std::span<const Api> Apis() { return kApis; }

void AddApiOptions(CLI::App& serve, ApiSettings& settings) {
  serve.add_option("--public-url", settings.public_url,
                   "Base URL clients reach this server at, for links in responses (PingOne _links, SCIM meta.location), "
                   "e.g. https://id.example.org")
      ->check([](const std::string& v) {
        return v.starts_with("https://") || v.starts_with("http://") ? std::string()
                                                                      : std::string("must start with https:// or http://");
      });
  serve.add_option("--commcare-account-root", settings.commcare_account_root,
                   "CommCare mobile worker usernames end in @DOMAIN.ROOT (default commcarehq.org)");
}

void ResolveApiSettings(ApiSettings& settings) {
  const auto from_environment = [](std::string& value, const char* variable) {
    if (!value.empty()) return false;
    if (const char* v = std::getenv(variable); v && *v) value = v;
    return !value.empty();
  };
  from_environment(settings.public_url, "ROSTER_PUBLIC_URL");
  const bool root_from_environment =
      from_environment(settings.commcare_account_root, "ROSTER_COMMCARE_ACCOUNT_ROOT");
  if (settings.commcare_account_root.empty()) {
    settings.commcare_account_root = dialects::commcare::kDefaultAccountRoot;
  } else if (!dialects::commcare::IsValidAccountRoot(settings.commcare_account_root)) {
    throw std::runtime_error(std::string(root_from_environment ? "ROSTER_COMMCARE_ACCOUNT_ROOT"
                                                               : "--commcare-account-root") +
                             " must be a lower-case DNS name such as commcarehq.org");
  }
}

void MountApis(http::Router& router, const Services& services, const ApiSettings& settings) {
  for (const Api& api : Apis()) api.mount(router, services, settings);
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
