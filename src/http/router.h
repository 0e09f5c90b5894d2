// Router maps a request to a handler by method and path template, without I/O.
// Templates are literal segments and `{name}` parameters ("/v2/users/{usersId}").
// A route declares where it runs: inline on an I/O thread (cheap work) or on the
// bounded worker pool (password hashing, durable writes). Thread-safe for lookups
// once built; build it before the server starts.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/cors.h"
#include "http/message.h"

namespace roster::http {

enum class Exec { kInline, kWorker };

class PathParams {
 public:
  void Add(std::string name, std::string value);
  // Percent-decoded value of parameter `name`, or empty.
  std::string_view Get(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

using Handler = std::function<Response(const Request&, const PathParams&)>;
// Renders a transport-level error (404, 405, 413, 503...) in one API's wire shape.
using ErrorRenderer = std::function<Response(int status, std::string_view message)>;

struct Route {
  std::string method;
  std::string pattern;  // the template, logged instead of the concrete path
  std::string group;    // who added it (the API's name, for metrics); see Router::SetGroup
  Exec exec = Exec::kInline;
  Handler handler;
  std::vector<std::string> segments;
};

struct Match {
  const Route* route = nullptr;  // null when nothing matched
  PathParams params;
  int status = 200;  // 404 (no path) or 405 (path, other method) when route is null
};

class Router {
 public:
  void Add(std::string_view method, std::string_view pattern, Exec exec, Handler handler);
  // Routes added from now on belong to `group` (an API's name, or "" for the server's
  // own routes); the access record and request metrics carry it.
  void SetGroup(std::string group) { group_ = std::move(group); }
  // Error renderer for paths under `prefix` (longest prefix wins). The default renders
  // {"error": message}.
  void SetErrorRenderer(std::string prefix, ErrorRenderer renderer);

  // CORS for paths under `prefix` (longest prefix wins): Handle answers their preflights,
  // and CorsHeaders gives what each of their responses carries (http/cors.h).
  void SetCors(std::string prefix, CorsPolicy policy);
  // The answer to a CORS preflight under a prefix with a policy (404 for an unknown path);
  // nullopt for any other request.
  std::optional<Response> Preflight(const Request& request) const;
  HeaderList CorsHeaders(const Request& request) const;

  Match Find(std::string_view method, std::string_view path) const;
  // Every route added, in the order added (`roster routes`, the OpenAPI walk test).
  std::vector<const Route*> Routes() const;
  Response RenderError(std::string_view path, int status, std::string_view message) const;
  // Finds and runs the handler inline, rendering 404/405 and handler exceptions (500).
  Response Handle(const Request& request) const;
  // Runs a found route, turning any escaped exception into a rendered 500.
  Response Run(const Match& match, const Request& request) const;

 private:
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<std::pair<std::string, ErrorRenderer>> renderers_;
  std::string group_;
  std::vector<std::pair<std::string, CorsPolicy>> cors_;
  const CorsPolicy* CorsFor(std::string_view path) const;
};

}  // namespace roster::http
