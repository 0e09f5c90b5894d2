// The QuickBlox users REST dialect: /session.json, /login.json, /users.json, /users/...
// See docs/dialects/quickblox.md.
#include "dialects/quickblox/quickblox.h"

#include "dialects/quickblox/common.h"

namespace roster::dialects::quickblox {

void Mount(http::Router& router, Services s) {
  // QuickBlox paths sit at the root; these prefixes render 404/405/413/503 in its shape.
  for (const char* prefix : {"/session.json", "/login.json", "/users.json", "/users"})
    router.SetErrorRenderer(prefix, RenderTransportError);
  MountSessions(router, s);
  MountUsers(router, s);
}

}  // namespace roster::dialects::quickblox
