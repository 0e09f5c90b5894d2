// The Catalyze BaaS v2 dialect, mounted at /v2: routes, the X-Api-Key + Bearer caller
// model, and Catalyze's error shape {"errors":[{"code","message"}]}.
// See docs/dialects/catalyze.md for routes, permissions and the field mapping.
#pragma once

#include "http/router.h"
#include "service/password_resets.h"
#include "service/services.h"

namespace roster::dialects::catalyze {

using Services = service::Services;

// Start-up settings: the server's public base URL, which the activation and reset mails
// link to (the pages of src/dialects/pages/). Empty: the links are paths alone.
struct Config {
  std::string public_url;
};

void Mount(http::Router& router, const Services& services, const Config& config = {});

// Where Catalyze keeps its password-reset tokens (the reset page completes them too).
service::ResetTokens ResetTokenKinds();

// Exposed for tests: the error body for `status` and `message`.
http::Response ErrorResponse(int status, std::string_view message);

}  // namespace roster::dialects::catalyze
