#include "http/message.h"

namespace roster::http {

std::string_view Request::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

Response Response::Json(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

core::Result<boost::json::object> ParseJsonObject(std::string_view body) {
  if (body.empty()) return core::InvalidArgument("body", "request body must be a JSON object");
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::json::value v = boost::json::parse(body, ec, {}, options);
  if (ec) return core::InvalidArgument("body", "request body is not valid JSON");
  if (!v.is_object()) return core::InvalidArgument("body", "request body must be a JSON object");
  return std::move(v.get_object());
}

}  // namespace roster::http
