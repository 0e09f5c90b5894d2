// Cross-origin resource sharing (the Fetch standard's CORS protocol) for APIs that
// browsers call from other origins. The composition root gives a path prefix a policy
// (Router::SetCors); the router then answers that prefix's preflights and the server
// adds the response headers. No credentials mode: APIs here authenticate with headers
// (X-Api-Key, Authorization), never cookies, so Access-Control-Allow-Credentials is
// never sent. Pure values and functions, no I/O.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"

namespace roster::http {

struct CorsPolicy {
  // Origins allowed ("https://app.example.org", compared exactly, ASCII case-insensitive);
  // "*" allows any origin.
  std::vector<std::string> origins;
  std::vector<std::string> allow_headers;   // request headers a preflight may ask for
  std::vector<std::string> expose_headers;  // response headers the page's script may read
  int max_age_s = 600;                      // how long a browser may cache a preflight
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

bool OriginAllowed(const CorsPolicy& policy, std::string_view origin);
// Headers every response to `req` carries under `policy`: Access-Control-Allow-Origin,
// -Expose-Headers and Vary when the request names an allowed Origin; none otherwise.
HeaderList CorsResponseHeaders(const CorsPolicy& policy, const Request& req);
// Whether `req` is a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method.
bool IsPreflight(const Request& req);
// The answer to a preflight for a path whose routes take `allowed_methods` ("GET, PUT"):
// 204 with the Allow-* headers when the origin is allowed and the method one of them;
// 403 (no CORS headers, so the browser refuses) otherwise.
Response PreflightResponse(const CorsPolicy& policy, const Request& req, std::string_view allowed_methods);

}  // namespace roster::http
