// The Catalyze BaaS v2 dialect, mounted at /v2: routes, the X-Api-Key + Bearer caller
// model, and Catalyze's error shape {"errors":[{"code","message"}]}.
// See docs/dialects/catalyze.md for routes, permissions and the field mapping.
#pragma once

#include "core/clock.h"
#include "http/router.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "service/user_service.h"

namespace roster::dialects::catalyze {

struct Services {
  service::DirectoryService& directory;
  service::UserService& users;
  service::RecordService& records;
  const core::Clock& clock;
};

void Mount(http::Router& router, Services services);

// Exposed for tests: the error body for `status` and `message`.
http::Response ErrorResponse(int status, std::string_view message);

}  // namespace roster::dialects::catalyze
