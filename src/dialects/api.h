// What every API (dialect) offers the composition root besides its Mount function: the
// administrative subcommands of the `roster` CLI (`roster pingone app create`, ...).
// Each dialect's entry header (dialects/<api>/<api>.h) declares its Mount and, if it has
// subcommands, an AddCommands(CLI::App&, const AddCommand&); src/cli/registry.cc lists
// them, one line per API.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <functional>

#include "core/error.h"
#include "service/services.h"

namespace roster::dialects {

// What a parsed subcommand does: one JSON object, which the CLI prints (with --json) or
// lists as "key: value" lines; an error exits 1 with its message.
using CommandAction = std::function<core::Result<boost::json::object>(const service::Services&)>;

// Registers a leaf subcommand the dialect added under `app`: the CLI gives it --json,
// --data-dir and --database, and runs `action` on the data directory's services when the
// command line names it.
using AddCommand = std::function<void(CLI::App* command, CommandAction action)>;

// A subcommand that only groups others (`roster pingone`, `roster pingone app`): one of
// them is required.
inline CLI::App* CommandGroup(CLI::App& parent, const char* name, const char* description) {
  auto* group = parent.add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}

}  // namespace roster::dialects
