// Plain HTTP request and response values. The router and every handler speak only
// these types, so handlers are tested without sockets and Beast stays inside http/.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace roster::http {

struct Request {
  std::string method;  // upper case, e.g. "GET"
  std::string path;    // percent-encoded path as received, without the query
  std::string query;   // raw query string without '?', may be empty
  // Header names lower-cased; values as received (duplicates kept in order).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;  // assigned by the server, echoed as X-Request-Id
  std::string peer;        // remote address, for the access log only

  // First value of header `lower_name`, or empty.
  std::string_view Header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response Json(int status, std::string body);
};

// A request body that must be one JSON object (nesting at most 32 deep). kInvalidArgument
// with field "body" for an empty body, invalid JSON or another JSON type.
core::Result<boost::json::object> ParseJsonObject(std::string_view body);

}  // namespace roster::http
