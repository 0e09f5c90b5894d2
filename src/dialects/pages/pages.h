// The pages a mailed link opens: account activation and password reset, small
// server-rendered HTML forms (no script, every value escaped). Mounted at /pages like an
// API. Each page's token is the single-use secret of its flow (service::Activations,
// service::PasswordResets); the page only carries it from the link to the form's POST.
// CSRF: the POST must carry that token (a cross-site page cannot know it) and come from
// the page's own origin (Origin / Sec-Fetch-Site checked); responses forbid framing and
// send no Referer, so the token in the link leaks to no other site.
//
//   GET  /pages/activate?env=E&token=T         a button that activates the account
//   POST /pages/activate                       env, token
//   GET  /pages/confirm?env=E&token=T          a form for the first password (account confirmation)
//   POST /pages/confirm                        env, token, password, confirm
//   GET  /pages/invitation?env=E&token=T       the invitation (project space, role), a password form
//   POST /pages/invitation                     env, token, password, confirm: signs the web user up
//   GET  /pages/reset/{api}?env=E&token=T      a form for the new password
//   POST /pages/reset/{api}                    env, token, password, confirm
//
// `{api}` names whose reset tokens these are (Catalyze's, QuickBlox's): the composition
// root passes each API's token kinds (Config::resets).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/router.h"
#include "service/password_resets.h"
#include "service/services.h"

namespace roster::dialects::pages {

using Services = service::Services;

struct ResetFlow {
  std::string api;  // the {api} path segment
  service::ResetTokens tokens;
  std::size_t min_password_chars = 1;  // the API's own shortest password
};

struct Config {
  std::vector<ResetFlow> resets;
};

void Mount(http::Router& router, const Services& services, const Config& config);

// Exposed for tests.
std::string EscapeHtml(std::string_view text);
// Whether a form POST comes from the page's own origin: no `Sec-Fetch-Site` other than
// same-origin, and an `Origin` (when sent) naming the request's own Host.
bool SameOrigin(const http::Request& req);
// application/x-www-form-urlencoded name=value pairs; nullopt when malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body);

}  // namespace roster::dialects::pages
