// HTTP/1.1 requests as they come off the wire: the Beast parser with the server's limits
// and its message turned into a Request. Shared by the server and the request fuzzer
// (fuzz/fuzz_http_request.cc), so both parse exactly the same way.
#pragma once

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/message.h"

namespace roster::http {

inline constexpr std::uint32_t kHeaderLimit = 16 * 1024;

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;
using WireRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Sets the server's header limit (431 beyond it) and `body_limit` (413 beyond it).
void Limit(RequestParser& parser, std::size_t body_limit);

// The path (percent-encoded, without the query) of a request target.
std::string_view PathOf(std::string_view target);

// The request as handlers see it: method, path, query, lower-cased header names, the
// body (moved out of `message`). request_id and peer are left for the server to set.
Request FromWire(WireRequest& message);

}  // namespace roster::http
