// `roster routes [--json]`: every route `serve` mounts, with its method, template and API
// (the router group MountApis gives it; "" for the server's own probes).
#pragma once

#include <filesystem>
#include <ostream>

#include "http/router.h"

namespace roster::cli {

// Prints `router`'s routes in the order added: one "METHOD TEMPLATE API" line each
// (API "-" for none), or with `as_json` one object {"routes":[{"method","path","api"}]}.
void PrintRoutes(const http::Router& router, std::ostream& out, bool as_json);

// A new private directory under the system's temporary directory, removed with
// everything in it when this goes (the throwaway data directory `routes` mounts over).
class ScratchDirectory {
 public:
  ScratchDirectory();
  ~ScratchDirectory();
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace roster::cli
