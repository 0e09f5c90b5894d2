// Plain HTTP request and response values. The router and every handler speak only
// these types, so handlers are tested without sockets and Beast stays inside http/.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/holds.h"

namespace roster::http {

struct Request {
  std::string method;  // upper case, e.g. "GET"
  std::string path;    // percent-encoded path as received, without the query
  std::string query;   // raw query string without '?', may be empty
  // Header names lower-cased; values as received (duplicates kept in order).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;  // assigned by the server, echoed as X-Request-Id
  // The client's address: the connection's peer, or with --trust-forwarded-for the
  // address the trusted proxy appended to X-Forwarded-For. The access log records it and
  // the service's throttles count per address.
  std::string peer;
  // The matched route's template ("/v2/users/{usersId}"), set before the handler runs:
  // what an audit record names instead of the path.
  std::string route;
  bool secure = false;  // arrived over TLS (the server's own; a proxy's is X-Forwarded-Proto)

  // First value of header `lower_name`, or empty.
  std::string_view Header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Effects that must be durable before this answer leaves (core/holds.h), collected by
  // Router::Run; the server sends a 503 instead if one fails.
  std::vector<core::Hold> holds;

  static Response Json(int status, std::string body);
};

// The address a trusted reverse proxy appended to X-Forwarded-For: the last entry of the
// last such header, if it is an IP address; empty otherwise. Only meaningful when every
// request comes through that proxy (serve --trust-forwarded-for).
std::string ForwardedClient(const Request& req);

// `r` with `Retry-After: <e.retry_after_s>` when the error carries one (429s).
Response WithRetryAfter(Response r, const core::Error& e);

// A request body that must be one JSON object (nesting at most 32 deep). kInvalidArgument
// with field "body" for an empty body, invalid JSON or another JSON type.
core::Result<boost::json::object> ParseJsonObject(std::string_view body);

}  // namespace roster::http
