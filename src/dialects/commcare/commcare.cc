// The CommCare HQ dialect: mounts the user, group and web-user APIs under /a.
#include "dialects/commcare/commcare.h"

#include <stdexcept>

#include "dialects/commcare/common.h"

namespace roster::dialects::commcare {

void Mount(http::Router& router, const Services& services, const Config& config) {
  if (!IsValidAccountRoot(config.account_root))
    throw std::invalid_argument("the CommCare account root must be a lower-case DNS name such as commcarehq.org");
  const Context c{services, config.account_root};
  // Transport errors (404, 405, 413, 503) under /a in CommCare's {"error": ...} shape.
  router.SetErrorRenderer("/a", [](int status, std::string_view message) { return ErrorResponse(status, message); });
  MountUsers(router, c);
  MountGroups(router, c);
  MountWebUsers(router, c);
}

}  // namespace roster::dialects::commcare
