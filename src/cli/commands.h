// The dialects' administrative subcommands (roster pingone|quickblox|commcare ...) and
// their HTTP mounts, kept out of main.cc so each dialect's wiring sits in one place.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "http/router.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "service/user_service.h"
#include "store/store.h"

namespace roster::cli {

// What a subcommand or a dialect may use, built by main from the data directory.
struct Runtime {
  const core::Clock& clock;
  store::Store& store;
  const crypto::Keyring& keyring;
  service::DirectoryService& directory;
  service::UserService& users;
  service::RecordService& records;
};

// A parsed subcommand and what running it does (returns the exit code).
using CommandTable = std::vector<std::pair<CLI::App*, std::function<int(Runtime&)>>>;

// Adds every dialect's subcommands to `app`; `data_options` adds --data-dir/--database.
void AddDialectCommands(CLI::App& app, CommandTable& table, const std::function<void(CLI::App*)>& data_options);

// Settings of `serve` that belong to one dialect.
struct DialectOptions {
  std::string public_url;             // --public-url (PingOne links)
  std::string commcare_account_root;  // --commcare-account-root
};

// Mounts the PingOne, QuickBlox and CommCare dialects (Catalyze is mounted by main).
// Throws std::invalid_argument for an invalid option.
void MountDialects(http::Router& router, const Runtime& runtime, const DialectOptions& options);

}  // namespace roster::cli
