#include "http/message.h"

#include <boost/asio/ip/address.hpp>

#include "core/json_policy.h"

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
  auto parsed = core::ParseReceived(body);
  if (!parsed) {
    const auto& p = parsed.error();
    if (p.field == "body") return core::InvalidArgument("body", "request body is not valid JSON");
    return core::InvalidArgument(p.field, p.field + " " + p.message);
  }
  boost::json::value& v = *parsed;
  if (!v.is_object()) return core::InvalidArgument("body", "request body must be a JSON object");
  return std::move(v.get_object());
}

Response WithRetryAfter(Response r, const core::Error& e) {
  if (e.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  return r;
}

std::string ForwardedClient(const Request& req) {
  std::string_view last;
  for (const auto& [name, value] : req.headers)
    if (name == "x-forwarded-for") last = value;
  if (const auto comma = last.rfind(','); comma != std::string_view::npos) last.remove_prefix(comma + 1);
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
  if (last.empty() || last.size() > 64) return {};
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(last), ec);
  if (ec) return {};
  return address.to_string();
}

}  // namespace roster::http
