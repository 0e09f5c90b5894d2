// The CommCare HQ dialect: mounts the user, group and web-user APIs under /a.
#include "dialects/commcare/commcare.h"

#include <cstdlib>
#include <stdexcept>

#include "dialects/commcare/common.h"

namespace roster::dialects::commcare {

void Mount(http::Router& router, Services services) {
  Context c{services, kDefaultAccountRoot};
  if (!services.account_root.empty()) {
    if (!IsValidAccountRoot(services.account_root))
      throw std::invalid_argument("--commcare-account-root must be a lower-case DNS name such as commcarehq.org");
    c.account_root = services.account_root;
  } else if (const char* root = std::getenv(kAccountRootVariable); root && *root) {
    if (!IsValidAccountRoot(root))
      throw std::invalid_argument(std::string(kAccountRootVariable) +
                                  " must be a lower-case DNS name such as commcarehq.org");
    c.account_root = root;
  }
  // Transport errors (404, 405, 413, 503) under /a in CommCare's {"error": ...} shape.
  router.SetErrorRenderer("/a", [](int status, std::string_view message) { return ErrorResponse(status, message); });
  MountUsers(router, c);
  MountGroups(router, c);
  MountWebUsers(router, c);
}

}  // namespace roster::dialects::commcare
