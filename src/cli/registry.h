// The APIs `roster` serves: one line per API in registry.cc. `serve` mounts every API
// listed there and the CLI adds every API's subcommands from it, so adding an API is its
// folder under src/dialects, its CMake library, one line in registry.cc and linking the
// library in src/cli/CMakeLists.txt (see docs/architecture.md, "Adding an API").
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dialects/api.h"
#include "http/router.h"
#include "service/services.h"

namespace roster::cli {

// Settings of `serve` that belong to one API: flags like every serve setting, so each is
// also a config key and a ROSTER_* variable (cli/settings.h).
struct ApiSettings {
  std::string public_url;             // --public-url, ROSTER_PUBLIC_URL (PingOne links)
  std::string commcare_account_root;  // --commcare-account-root, ROSTER_COMMCARE_ACCOUNT_ROOT
  // --cors-origin (repeatable): origins browsers may call the APIs that opt in to CORS
  // from (Catalyze, QuickBlox); "*" (the default) any.
  std::vector<std::string> cors_origins;
  // serve's --body-limit (not an API's own flag): what an API advertises as the largest
  // request it takes (SCIM's bulk.maxPayloadSize) may not exceed it.
  std::size_t body_limit = 0;
};

struct Api {
  const char* name;
  // Mounts the API's routes, giving it the services and its configuration (from the
  // settings). May throw std::invalid_argument for an invalid setting.
  void (*mount)(http::Router& router, const service::Services& services, const ApiSettings& settings);
  // Adds the API's administrative subcommands to the CLI; nullptr: it has none.
  void (*add_commands)(CLI::App& app, const dialects::AddCommand& add);
};

// Every API, in mount order.
std::span<const Api> Apis();

// Adds the flags of ApiSettings to `serve`.
void AddApiOptions(CLI::App& serve, ApiSettings& settings);
// Fills the defaults of settings no source gave (their checks ran as they were read).
void ResolveApiSettings(ApiSettings& settings);
// Mounts every API.
void MountApis(http::Router& router, const service::Services& services, const ApiSettings& settings);

// The subcommands the APIs added, each with what running it does.
using CommandTable = std::vector<std::pair<CLI::App*, dialects::CommandAction>>;
// Adds every API's subcommands to `app`, each with --json (bound to `as_json`) and the
// options `data_options` adds (--data-dir, --database).
void AddApiCommands(CLI::App& app, CommandTable& table, bool& as_json,
                    const std::function<void(CLI::App*)>& data_options);
// Runs a parsed subcommand and prints its result: the JSON object with --json, else one
// "key: value" line per member. Returns the exit code; throws std::runtime_error with
// the command's error message.
int RunCommand(const dialects::CommandAction& action, const service::Services& services, bool as_json);

}  // namespace roster::cli
