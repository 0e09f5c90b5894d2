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

// `roster quickblox app rotate-secret --env NAME --id APP [--end-sessions]`: a new auth
// secret, returned once ({"applicationId", "authKey", "authSecret", "sessionsEnded"});
// a session signature made with the old one is refused at once. Existing sessions go on
// until they expire, unless `end_sessions`: then every session of the application ends.
core::Result<boost::json::object> RotateApplicationSecret(Services services, const std::string& environment_name,
                                                          const std::string& application_id, bool end_sessions);
// `roster quickblox app rotate-key --env NAME --id APP`: a new API key, returned once
// ({"applicationId", "apiKey", "revokedKeyId"}); the old key is refused at once.
core::Result<boost::json::object> RotateApplicationKey(Services services, const std::string& environment_name,
                                                       const std::string& application_id);
// `roster quickblox app delete --env NAME --id APP`: its sessions and API key stop at once.
core::Result<boost::json::object> DeleteApplication(Services services, const std::string& environment_name,
                                                    const std::string& application_id);

// Adds `roster quickblox app create|rotate-secret|rotate-key|delete` for the CLI.
void AddCommands(CLI::App& app, const AddCommand& add);

}  // namespace roster::dialects::quickblox
