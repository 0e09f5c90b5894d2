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

// `roster pingone app rotate-secret --env NAME --id CLIENT_ID`: a new secret, returned
// once as {"environmentId", "clientId", "clientSecret"}; the old secret and every token
// issued before are refused from then on.
core::Result<boost::json::object> RotateWorkerAppSecret(Services services, const std::string& environment_name,
                                                        const std::string& client_id);
// `roster pingone app delete --env NAME --id CLIENT_ID`: its tokens are refused at once.
core::Result<boost::json::object> DeleteWorkerApp(Services services, const std::string& environment_name,
                                                  const std::string& client_id);
// `roster pingone app list --env NAME`: {"environmentId", "apps": [{"clientId", "name",
// "type", "createdAt", "secretRotatedAt"?}]}; never a secret.
core::Result<boost::json::object> ListWorkerApps(Services services, const std::string& environment_name);

// Adds `roster pingone app create|rotate-secret|delete|list` for the CLI.
void AddCommands(CLI::App& app, const AddCommand& add);

}  // namespace roster::dialects::pingone
