// The Catalyze BaaS v2 dialect, mounted at /v2: routes, the X-Api-Key + Bearer caller
// model, and Catalyze's error shape {"errors":[{"code","message"}]}.
// See docs/dialects/catalyze.md for routes, permissions and the field mapping.
#pragma once

#include "http/router.h"
#include "service/services.h"

namespace roster::dialects::catalyze {

using Services = service::Services;

void Mount(http::Router& router, const Services& services);

// Exposed for tests: the error body for `status` and `message`.
http::Response ErrorResponse(int status, std::string_view message);

}  // namespace roster::dialects::catalyze
