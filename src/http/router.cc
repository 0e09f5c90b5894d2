#include "http/router.h"

#include <algorithm>
#include <boost/json.hpp>
#include <stdexcept>
#include <utility>

namespace roster::http {
namespace {

bool IsParam(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Splits "/a/b/" into {"a", "b"}. One trailing slash is ignored so "/v2/users/" and
// "/v2/users" are the same resource; inner empty segments ("//") are kept so they
// never match a template. Returns false for paths that are not origin-form.
bool SplitPath(std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return true;
  while (true) {
    const std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; false on a malformed escape. '+' stays '+': this is a path,
// not a form-encoded query.
bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool MatchSegments(const Route& route, const std::vector<std::string_view>& segments,
                   PathParams& params) {
  if (route.segments.size() != segments.size()) return false;
  std::string decoded;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& want = route.segments[i];
    if (IsParam(want)) {
      if (segments[i].empty() || !PercentDecode(segments[i], decoded)) return false;
      params.Add(want.substr(1, want.size() - 2), decoded);
    } else if (want != segments[i]) {
      return false;
    }
  }
  return true;
}

// A literal segment beats a parameter at the first position where they differ, so
// "/users/me" wins over "/users/{id}" regardless of registration order.
bool MoreSpecific(const Route& a, const Route& b) {
  for (std::size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    const bool a_param = IsParam(a.segments[i]);
    const bool b_param = IsParam(b.segments[i]);
    if (a_param != b_param) return !a_param;
  }
  return false;
}

// Prefix match on segment boundaries: "/v2" covers "/v2" and "/v2/x", not "/v20".
bool PrefixCovers(std::string_view prefix, std::string_view path) {
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.empty()) return true;
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

// The value registered for the longest prefix covering `path`, or null.
template <class T>
const T* LongestPrefix(const std::vector<std::pair<std::string, T>>& items, std::string_view path) {
  const T* best = nullptr;
  std::size_t best_length = 0;
  for (const auto& [prefix, value] : items) {
    if (!PrefixCovers(prefix, path)) continue;
    if (best == nullptr || prefix.size() > best_length) {
      best = &value;
      best_length = prefix.size();
    }
  }
  return best;
}

Response DefaultError(int status, std::string_view message) {
  boost::json::object body;
  body["error"] = message;
  return Response::Json(status, boost::json::serialize(body));
}

std::string AllowedMethods(const std::vector<std::unique_ptr<Route>>& routes,
                           std::string_view path) {
  std::vector<std::string_view> segments;
  if (!SplitPath(path, segments)) return {};
  std::string allow;
  std::vector<std::string_view> seen;
  for (const auto& route : routes) {
    PathParams ignored;
    if (!MatchSegments(*route, segments, ignored)) continue;
    if (std::find(seen.begin(), seen.end(), route->method) != seen.end()) continue;
    seen.push_back(route->method);
    if (!allow.empty()) allow += ", ";
    allow += route->method;
  }
  return allow;
}

}  // namespace

void PathParams::Add(std::string name, std::string value) {
  items_.emplace_back(std::move(name), std::move(value));
}

std::string_view PathParams::Get(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key == name) return value;
  }
  return {};
}

void Router::Add(std::string_view method, std::string_view pattern, Exec exec, Handler handler) {
  auto route = std::make_unique<Route>();
  std::vector<std::string_view> segments;
  if (!SplitPath(pattern, segments)) {
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  }
  for (std::string_view segment : segments) {
    if (segment.empty() || (IsParam(segment) && segment.size() == 2)) {
      throw std::invalid_argument("malformed route pattern: " + std::string(pattern));
    }
    route->segments.emplace_back(segment);
  }
  route->method = std::string(method);
  route->pattern = std::string(pattern);
  route->group = group_;
  route->exec = exec;
  route->handler = std::move(handler);
  routes_.push_back(std::move(route));
}

void Router::SetErrorRenderer(std::string prefix, ErrorRenderer renderer) {
  for (auto& [existing, current] : renderers_) {
    if (existing == prefix) {
      current = std::move(renderer);
      return;
    }
  }
  renderers_.emplace_back(std::move(prefix), std::move(renderer));
}

std::vector<const Route*> Router::Routes() const {
  std::vector<const Route*> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.push_back(route.get());
  return out;
}

Match Router::Find(std::string_view method, std::string_view path) const {
  Match result;
  result.status = 404;
  std::vector<std::string_view> segments;
  if (!SplitPath(path, segments)) return result;
  bool path_known = false;
  for (const auto& route : routes_) {
    PathParams params;
    if (!MatchSegments(*route, segments, params)) continue;
    path_known = true;
    if (route->method != method) continue;
    if (result.route == nullptr || MoreSpecific(*route, *result.route)) {
      result.route = route.get();
      result.params = std::move(params);
    }
  }
  if (result.route != nullptr) {
    result.status = 200;
  } else if (path_known) {
    result.status = 405;
  }
  return result;
}

Response Router::RenderError(std::string_view path, int status, std::string_view message) const {
  const ErrorRenderer* best = LongestPrefix(renderers_, path);
  if (best != nullptr && *best) {
    // A throwing renderer must not turn an error response into no response.
    try {
      return (*best)(status, message);
    } catch (...) {
    }
  }
  return DefaultError(status, message);
}

void Router::SetCors(std::string prefix, CorsPolicy policy) {
  for (auto& [existing, current] : cors_) {
    if (existing == prefix) {
      current = std::move(policy);
      return;
    }
  }
  cors_.emplace_back(std::move(prefix), std::move(policy));
}

const CorsPolicy* Router::CorsFor(std::string_view path) const { return LongestPrefix(cors_, path); }

std::optional<Response> Router::Preflight(const Request& request) const {
  if (!IsPreflight(request)) return std::nullopt;
  const CorsPolicy* policy = CorsFor(request.path);
  if (policy == nullptr) return std::nullopt;
  const std::string allowed = AllowedMethods(routes_, request.path);
  if (allowed.empty()) return RenderError(request.path, 404, "not found");
  return PreflightResponse(*policy, request, allowed);
}

HeaderList Router::CorsHeaders(const Request& request) const {
  const CorsPolicy* policy = cors_.empty() ? nullptr : CorsFor(request.path);
  return policy == nullptr ? HeaderList{} : CorsResponseHeaders(*policy, request);
}

Response Router::Handle(const Request& request) const {
  if (auto preflight = Preflight(request)) return *preflight;
  Match match = Find(request.method, request.path);
  if (match.route == nullptr) {
    const bool wrong_method = match.status == 405;
    Response response =
        RenderError(request.path, match.status, wrong_method ? "method not allowed" : "not found");
    if (wrong_method) {
      std::string allow = AllowedMethods(routes_, request.path);
      if (!allow.empty()) response.headers.emplace_back("Allow", std::move(allow));
    }
    return response;
  }
  Request routed = request;
  routed.route = match.route->pattern;
  Response response = Run(match, routed);
  // No server to wait without blocking: wait here.
  if (!response.holds.empty() && !core::AwaitHolds(std::exchange(response.holds, {})))
    return RenderError(request.path, 503, "service unavailable");
  return response;
}

Response Router::Run(const Match& match, const Request& request) const {
  // Exception text may carry internals (SQL, file paths); only a generic 500 leaves.
  core::HoldScope holds(request.route.empty() && match.route ? match.route->pattern : request.route,
                       request.request_id);
  try {
    if (match.route == nullptr || !match.route->handler) {
      return RenderError(request.path, 500, "internal error");
    }
    Response response = match.route->handler(request, match.params);
    response.holds = holds.Take();
    return response;
  } catch (...) {
    Response response = RenderError(request.path, 500, "internal error");
    // What the handler revealed before it failed is still recorded before the answer.
    response.holds = holds.Take();
    return response;
  }
}

}  // namespace roster::http
