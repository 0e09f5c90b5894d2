// Server-rendered HTML forms (no script): escaping, the same-origin check of a form POST,
// and application/x-www-form-urlencoded bodies. Shared by the pages mails link to
// (dialects/pages) and CommCare's OAuth consent page (dialects/commcare/oauth.cc).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"

namespace roster::http {

// &, <, >, " and ' as character references: safe in element content and quoted attributes.
std::string EscapeHtml(std::string_view text);
// Whether a form POST comes from the page's own origin: no `Sec-Fetch-Site` other than
// same-origin (or none), and an `Origin` (when sent) naming the request's own Host.
bool SameOrigin(const Request& req);
// application/x-www-form-urlencoded name=value pairs ('+' is a space, %XX decoded);
// nullopt when malformed, when a name repeats or with more than `max_fields` pairs.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body,
                                                                         std::size_t max_fields);

}  // namespace roster::http
