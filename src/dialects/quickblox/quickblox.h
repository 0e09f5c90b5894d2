// The quickblox dialect: routes and administration. See docs/dialects/quickblox.md.
#pragma once

#include <boost/json.hpp>

#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "http/router.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "service/user_service.h"

namespace roster::dialects::quickblox {

struct Services {
  service::DirectoryService& directory;
  service::UserService& users;
  service::RecordService& records;
  const core::Clock& clock;
};

void Mount(http::Router& router, Services services);

// `roster quickblox app create --env NAME`: returns
// {"applicationId", "authKey", "authSecret", "apiKey"}.
core::Result<boost::json::object> CreateApplication(Services services, const std::string& environment_name);

}  // namespace roster::dialects::quickblox
