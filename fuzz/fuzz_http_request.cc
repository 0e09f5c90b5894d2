// The HTTP request parser: bytes as a client sends them, through the server's Beast
// parser and limits (http/wire.h), then what every request meets before a handler:
// routing (path splitting, percent-decoding of parameters), CORS, X-Forwarded-For and
// the JSON body reader.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/asio/buffer.hpp>

#include "http/cors.h"
#include "http/message.h"
#include "http/router.h"
#include "http/wire.h"

namespace {

using namespace roster::http;

const Router& TheRouter() {
  static const Router* router = [] {
    auto* r = new Router;
    const Handler ok = [](const Request&, const PathParams&) { return Response::Json(200, "{}"); };
    r->SetGroup("catalyze");
    r->Add("GET", "/v2/users", Exec::kInline, ok);
    r->Add("POST", "/v2/users", Exec::kWorker, ok);
    r->Add("GET", "/v2/users/{usersId}", Exec::kInline, ok);
    r->Add("PUT", "/v2/users/{usersId}/groups/{groupsId}", Exec::kInline, ok);
    r->SetGroup("pingone");
    r->Add("GET", "/v1/environments/{envID}/users", Exec::kInline, ok);
    r->Add("PATCH", "/v1/environments/{envID}/users/{userID}", Exec::kInline, ok);
    r->SetGroup("quickblox");
    r->Add("POST", "/session.json", Exec::kWorker, ok);
    r->Add("GET", "/users/{id}.json", Exec::kInline, ok);
    r->SetGroup("commcare");
    r->Add("GET", "/a/{domain}/api/v0.5/user/{id}/", Exec::kInline, ok);
    r->SetGroup("scim");
    r->Add("PATCH", "/scim/v2/Users/{id}", Exec::kInline, ok);
    r->SetErrorRenderer("/scim/v2", [](int status, std::string_view) { return Response::Json(status, "{}"); });
    r->SetCors("/v2", CorsPolicy{{"https://app.example"}, {"authorization", "content-type"}, {"etag"}, 600});
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  RequestParser parser;
  Limit(parser, 64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  // Fed in pieces, as a socket delivers them: the split point comes from the input.
  const std::size_t first = size > 0 ? data[0] % 64 + 1 : 1;
  std::size_t chunk = first;
  while (!rest.empty() && !parser.is_done()) {
    const std::size_t offered = rest.size();
    const std::size_t n = std::min(chunk, offered);
    const std::size_t used = parser.put(boost::asio::buffer(rest.data(), n), ec);
    // What the parser used is gone even when it asks for more (an eager parser may take
    // the header and then need more of a chunk line), as beast::http::read consumes it.
    rest.remove_prefix(used);
    if (ec == boost::beast::http::error::need_more) {
      ec = {};
      if (n == offered) break;
      chunk = n - used + first;  // the bytes it left, offered again with more
      continue;
    }
    if (ec) break;
    chunk = first;
  }
  if (!ec && !parser.is_done() && parser.got_some()) parser.put_eof(ec);
  if (ec || !parser.is_done()) {
    // The server answers from the start line alone (OnReadError).
    if (parser.got_some()) (void)PathOf(parser.get().target());
    return 0;
  }
  Request request = FromWire(parser.get());
  (void)request.Header("content-type");
  (void)ForwardedClient(request);
  const Router& router = TheRouter();
  (void)router.CorsHeaders(request);
  (void)router.Preflight(request);
  Match match = router.Find(request.method, request.path);
  if (match.route == nullptr) (void)router.Handle(request);
  (void)ParseJsonObject(request.body);
  return 0;
}
