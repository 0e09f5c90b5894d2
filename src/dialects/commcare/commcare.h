// The commcare dialect: routes and administration. See docs/dialects/commcare.md.
#pragma once

#include <boost/json.hpp>

#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "http/router.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "service/user_service.h"

namespace roster::dialects::commcare {

struct Services {
  service::DirectoryService& directory;
  service::UserService& users;
  service::RecordService& records;
  const core::Clock& clock;
  // Mobile worker usernames end in @{domain}.{account_root} (`serve
  // --commcare-account-root`); empty: ROSTER_COMMCARE_ACCOUNT_ROOT, else commcarehq.org.
  std::string account_root;
};

void Mount(http::Router& router, Services services);

// `roster commcare web-user create --domain NAME --email EMAIL`: creates the web user
// (and the domain's environment if missing); returns {"username", "apiKey"}.
core::Result<boost::json::object> CreateWebUser(Services services, const std::string& domain,
                                                const std::string& email);

}  // namespace roster::dialects::commcare
