// The pingone dialect: routes and administration. See docs/dialects/pingone.md.
#pragma once

#include <boost/json.hpp>

#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "http/router.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "service/user_service.h"

namespace roster::dialects::pingone {

struct Services {
  service::DirectoryService& directory;
  service::UserService& users;
  service::RecordService& records;
  const core::Clock& clock;
  // Base of the `_links` hrefs (`serve --public-url`); empty: ROSTER_PUBLIC_URL, else
  // the request's Host and X-Forwarded-Proto.
  std::string public_url;
};

void Mount(http::Router& router, Services services);

// `roster pingone app create --env NAME`: a worker application; returns
// {"environmentId", "clientId", "clientSecret"}.
core::Result<boost::json::object> CreateWorkerApp(Services services, const std::string& environment_name);

}  // namespace roster::dialects::pingone
