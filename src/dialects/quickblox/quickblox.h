// The quickblox dialect: routes and administration. See docs/dialects/quickblox.md.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "dialects/api.h"
#include "http/router.h"
#include "service/password_resets.h"
#include "service/services.h"

namespace roster::dialects::quickblox {

using Services = service::Services;

// Start-up settings: the server's public base URL, which the reset mail links to.
struct Config {
  std::string public_url;
};

void Mount(http::Router& router, const Services& services, const Config& config = {});

// QuickBlox's shortest password, in characters (the reset page applies it too).
inline constexpr std::size_t kMinPasswordLength = 8;

// Where QuickBlox keeps its password-reset tokens (the reset page completes them too).
service::ResetTokens ResetTokenKinds();

// `roster quickblox app create --env NAME`: returns
// {"applicationId", "authKey", "authSecret", "apiKey"}.
// An application's settings, as the QuickBlox dashboard has them: whether application
// and user sessions may list and search users, and see other users' email and phone.
struct AppSettings {
  std::optional<bool> allow_user_list, allow_contact_fields;  // unset: unchanged (update) / off (create)
  std::optional<core::Scopes> key_scopes;                     // create: its API key's (unset: the defaults)
};
core::Result<boost::json::object> CreateApplication(Services services, const std::string& environment_name,
                                                    const AppSettings& settings = {});
// `roster quickblox app update --env NAME --id N [--allow-user-list B] [--allow-contact-fields B]`.
core::Result<boost::json::object> UpdateApplication(Services services, const std::string& environment_name,
                                                    std::int64_t id, const AppSettings& settings);

// `roster quickblox app rotate-secret --env NAME --id APP [--end-sessions]`: a new auth
// secret, returned once ({"applicationId", "authKey", "authSecret", "sessionsEnded"});
// a session signature made with the old one is refused at once. Existing sessions go on
// until they expire, unless `end_sessions`: then every session of the application ends.
core::Result<boost::json::object> RotateApplicationSecret(Services services, const std::string& environment_name,
                                                          std::int64_t application_id, bool end_sessions);
// `roster quickblox app rotate-key --env NAME --id APP`: a new API key, returned once
// ({"applicationId", "apiKey", "revokedKeyId"}) with the old key's APIs and scopes; the
// old key is refused at once.
core::Result<boost::json::object> RotateApplicationKey(Services services, const std::string& environment_name,
                                                       std::int64_t application_id);
// `roster quickblox app delete --env NAME --id APP`: its sessions and API key stop at once.
core::Result<boost::json::object> DeleteApplication(Services services, const std::string& environment_name,
                                                    std::int64_t application_id);

// Adds `roster quickblox app create|rotate-secret|rotate-key|delete` for the CLI.
void AddCommands(CLI::App& app, const AddCommand& add);

}  // namespace roster::dialects::quickblox
