#include "http/cors.h"

#include <algorithm>
#include <cctype>

namespace roster::http {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

bool AnyOrigin(const CorsPolicy& policy) {
  return std::find(policy.origins.begin(), policy.origins.end(), "*") != policy.origins.end();
}

// Whether `method` is one of the comma-separated `methods`.
bool Listed(std::string_view methods, std::string_view method) {
  while (!methods.empty()) {
    const auto comma = methods.find(',');
    std::string_view item = methods.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == method) return true;
    if (comma == std::string_view::npos) break;
    methods.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool OriginAllowed(const CorsPolicy& policy, std::string_view origin) {
  if (origin.empty() || origin == "null") return false;
  if (AnyOrigin(policy)) return true;
  return std::any_of(policy.origins.begin(), policy.origins.end(),
                     [&](const std::string& o) { return EqualsIgnoreCase(o, origin); });
}

HeaderList CorsResponseHeaders(const CorsPolicy& policy, const Request& req) {
  const std::string_view origin = req.Header("origin");
  if (!OriginAllowed(policy, origin)) return {};
  HeaderList out;
  // Echoing the origin (not "*") keeps one answer shape; Vary keeps caches honest.
  out.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  out.emplace_back("Vary", "Origin");
  if (!policy.expose_headers.empty()) out.emplace_back("Access-Control-Expose-Headers", Join(policy.expose_headers));
  return out;
}

bool IsPreflight(const Request& req) {
  return req.method == "OPTIONS" && !req.Header("origin").empty() &&
         !req.Header("access-control-request-method").empty();
}

Response PreflightResponse(const CorsPolicy& policy, const Request& req, std::string_view allowed_methods) {
  const std::string_view origin = req.Header("origin");
  const std::string_view method = req.Header("access-control-request-method");
  Response r;
  r.content_type = "text/plain";
  if (!OriginAllowed(policy, origin) || !Listed(allowed_methods, method)) {
    r.status = 403;
    r.headers.emplace_back("Vary", "Origin");
    return r;
  }
  r.status = 204;
  r.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  r.headers.emplace_back("Vary", "Origin");
  r.headers.emplace_back("Access-Control-Allow-Methods", std::string(allowed_methods));
  if (!policy.allow_headers.empty()) r.headers.emplace_back("Access-Control-Allow-Headers", Join(policy.allow_headers));
  r.headers.emplace_back("Access-Control-Max-Age", std::to_string(policy.max_age_s));
  return r;
}

}  // namespace roster::http
