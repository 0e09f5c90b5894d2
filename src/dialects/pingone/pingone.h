// The pingone dialect: routes and administration. See docs/dialects/pingone.md.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>

#include "core/access.h"
#include "core/error.h"
#include "dialects/api.h"
#include "http/router.h"
#include "service/services.h"

namespace roster::dialects::pingone {

using Services = service::Services;

// Start-up settings, filled by the composition root from `serve`'s flags.
struct Config {
  // Base of the `_links` hrefs (`serve --public-url`); empty: the request's Host and
  // X-Forwarded-Proto.
  std::string public_url;
};

void Mount(http::Router& router, const Services& services, const Config& config);

// `roster pingone app create --env NAME`: a worker application; returns
// {"environmentId", "clientId", "clientSecret"}.
core::Result<boost::json::object> CreateWorkerApp(Services services, const std::string& environment_name,
                                                  std::optional<core::Scopes> scopes = std::nullopt);

// Adds `roster pingone app create` (CreateWorkerApp) for the CLI.
void AddCommands(CLI::App& app, const AddCommand& add);

}  // namespace roster::dialects::pingone
