// The commcare dialect: routes and administration. See docs/dialects/commcare.md.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/access.h"
#include "core/error.h"
#include "dialects/api.h"
#include "http/router.h"
#include "service/services.h"

namespace roster::dialects::commcare {

using Services = service::Services;

// HQ_ACCOUNT_ROOT: mobile worker usernames are `<name>@<domain>.<root>`.
inline constexpr const char* kDefaultAccountRoot = "commcarehq.org";
// True when `root` can follow "<domain>." in an email address (e.g. "commcarehq.org").
bool IsValidAccountRoot(std::string_view root);

// Start-up settings, filled by the composition root from `serve`'s flags.
struct Config {
  std::string account_root = kDefaultAccountRoot;  // `serve --commcare-account-root`
  std::string public_url = {};  // `serve --public-url`: the confirmation mail's link starts with it
};

// Throws std::invalid_argument for an invalid account root.
void Mount(http::Router& router, const Services& services, const Config& config);

// `roster commcare web-user create --domain NAME --email EMAIL`: creates the web user
// (and the domain's environment if missing) through service::CreateWebUser, with
// `password` if given; returns {"username", "apiKey", "passwordSet"?, "acceptedInvitation"?}.
core::Result<boost::json::object> CreateWebUser(Services services, const std::string& domain,
                                                const std::string& email,
                                                std::optional<core::Scopes> scopes = std::nullopt,
                                                const std::optional<std::string>& password = std::nullopt);

// `roster commcare web-user revoke-key --domain D --email E`: the web user's API key is
// refused at once (the web user stays, inactive); returns {"username", "revokedKeyId"}.
core::Result<boost::json::object> RevokeWebUserKey(Services services, const std::string& domain,
                                                   const std::string& email);
// `roster commcare web-user rotate-key --domain D --email E`: a new API key, returned
// once ({"username", "apiKey", "revokedKeyId"?}); the old key, if any, is refused at once.
core::Result<boost::json::object> RotateWebUserKey(Services services, const std::string& domain,
                                                   const std::string& email);

// `roster commcare web-user set-password --domain D --email E --password-file F`: the web
// user's password for HTTP Basic and Digest (argon2id and the Digest HA1s, sealed in its
// record); returns {"username", "passwordSet": true}.
core::Result<boost::json::object> SetWebUserPassword(Services services, const std::string& domain,
                                                     const std::string& email, const std::string& password);

// Adds `roster commcare web-user create|set-password|revoke-key|rotate-key` for the CLI.
void AddCommands(CLI::App& app, const AddCommand& add);

}  // namespace roster::dialects::commcare
