#include "cli/routes.h"

#include <boost/json.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

namespace roster::cli {

void PrintRoutes(const http::Router& router, std::ostream& out, bool as_json) {
  boost::json::array routes;
  for (const http::Route* route : router.Routes()) {
    if (as_json) {
      routes.push_back(boost::json::object{{"method", route->method}, {"path", route->pattern}, {"api", route->group}});
    } else {
      out << route->method << " " << route->pattern << " " << (route->group.empty() ? "-" : route->group) << "\n";
    }
  }
  if (as_json) out << boost::json::serialize(boost::json::object{{"routes", std::move(routes)}}) << "\n";
  out.flush();
}

ScratchDirectory::ScratchDirectory() {
  std::string templ = (std::filesystem::temp_directory_path() / "roster-routes-XXXXXX").string();
  if (!::mkdtemp(templ.data())) throw std::runtime_error("cannot create a temporary directory");
  path_ = templ;
}

ScratchDirectory::~ScratchDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace roster::cli
