// The SCIM 2.0 dialect (RFC 7643 schema, RFC 7644 protocol) under /scim/v2: identity
// providers provision the directory's users and groups. See docs/dialects/scim.md.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>

#include "core/access.h"
#include "core/error.h"
#include "dialects/api.h"
#include "http/router.h"
#include "service/services.h"

namespace roster::dialects::scim {

using Services = service::Services;

// Start-up settings, filled by the composition root from `serve`'s flags.
struct Config {
  // Base of `meta.location` and `Location` (`serve --public-url`); empty: the request's
  // Host and X-Forwarded-Proto.
  std::string public_url;
  // The server's request body limit (`serve --body-limit`; 0: none known): Bulk's
  // advertised and enforced maxPayloadSize is the smaller of it and kMaxPayloadSize.
  std::size_t body_limit = 0;
};

void Mount(http::Router& router, const Services& services, const Config& config);

// `roster scim token create --env NAME [--scope S ...]`: a bearer token for the
// environment, returned once as {"id", "environment", "token", "scopes"}; stored as a
// digest. Without scopes: the defaults of a SCIM token (core::DefaultScopes).
core::Result<boost::json::object> CreateToken(Services services, const std::string& environment_name,
                                              std::optional<core::Scopes> scopes = std::nullopt);
// `roster scim token list --env NAME`: {"environment", "tokens": [{"id", "createdAt",
// "revoked", "scopes"}]}; never a token.
core::Result<boost::json::object> ListTokens(Services services, const std::string& environment_name);
// `roster scim token revoke --env NAME --id ID`: refused from then on.
core::Result<boost::json::object> RevokeToken(Services services, const std::string& environment_name,
                                              const std::string& id);

// Adds `roster scim token create|list|revoke`.
void AddCommands(CLI::App& app, const AddCommand& add);

}  // namespace roster::dialects::scim
