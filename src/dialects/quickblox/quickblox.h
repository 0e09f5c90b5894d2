// The quickblox dialect: routes and administration. See docs/dialects/quickblox.md.
#pragma once

#include <boost/json.hpp>

#include <string>

#include "core/error.h"
#include "dialects/api.h"
#include "http/router.h"
#include "service/services.h"

namespace roster::dialects::quickblox {

using Services = service::Services;

void Mount(http::Router& router, const Services& services);

// `roster quickblox app create --env NAME`: returns
// {"applicationId", "authKey", "authSecret", "apiKey"}.
core::Result<boost::json::object> CreateApplication(Services services, const std::string& environment_name);

// Adds `roster quickblox app create` (CreateApplication) for the CLI.
void AddCommands(CLI::App& app, const AddCommand& add);

}  // namespace roster::dialects::quickblox
