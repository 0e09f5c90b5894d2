// `roster export` and `roster import`: an environment's users as JSON Lines (one SCIM 2.0
// User resource per line: service/user_resource.h plus Roster's own extension,
// kRosterSchema) or CSV with a header row (the same resource, one column per simple
// attribute, JSON text in the cells of complex ones). Export pages through the users in
// number order (constant memory); import validates each row as the APIs do
// (UserService::CreateBatch), commits in batches with a checkpoint record in each
// batch's transaction, and resumes from it when run again. docs/operations.md.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <string>

#include "service/audit.h"
#include "service/services.h"

namespace roster::cli {

struct ExportOptions {
  std::string environment;  // name or id
  std::string out;          // empty: stdout
  std::string format = "jsonl";
  bool with_password_hashes = false;
};

// Writes the file; returns {"environment","format","exported","unreadable"}. With an
// audit log, the export is on the environment's chain (action users.export) before a
// line is written.
boost::json::object Export(const service::Services& services, const ExportOptions& options,
                           service::AuditLog* audit = nullptr);

struct ImportOptions {
  std::string environment;  // name or id
  std::string file;
  std::string format;       // jsonl or csv; empty: from the file name (.csv), else jsonl
  std::int64_t max_errors = 100;  // stop once this many rows were refused (0: never)
  int batch_size = 500;
  bool progress = true;     // on stderr: a bar on a terminal, plain lines otherwise
};

// Returns {"environment","file","imported","refused","skipped" (lines a previous run
// committed), "resumedAfterLine", "stopped" (max-errors reached), "errors": [{line, field,
// message}]}. Each refused row is also printed on stderr as "line N: field: message".
// With an audit log, each user created leaves a user.create record (api "cli", route
// "import") in its batch's transaction.
boost::json::object Import(const service::Services& services, const ImportOptions& options,
                           service::AuditLog* audit = nullptr);

}  // namespace roster::cli
