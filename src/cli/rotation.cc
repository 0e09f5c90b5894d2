#include "cli/rotation.h"

#include <boost/json.hpp>
#include <iostream>
#include <stdexcept>

#include "core/clock.h"
#include "service/data_key_rotation.h"
#include "service/index_key_rotation.h"

namespace roster::cli {
namespace {

std::string Line(const std::string& environment, const service::DataKeyRotationProgress& p) {
  std::string out = "rotate-data-key " + environment + ": " + p.phase;
  if (p.wait_ms > 0) out += ", re-sealing starts in " + std::to_string((p.wait_ms + 999) / 1000) + " s";
  if (!p.table.empty()) out += " " + p.table;
  out += ", " + std::to_string(p.visited) + " rows visited (" + std::to_string(p.resealed) + " re-sealed, " +
         std::to_string(p.current) + " current, " + std::to_string(p.changed) + " changed, " +
         std::to_string(p.unreadable) + " unreadable)";
  if (p.rows_per_second > 0) out += ", " + std::to_string(static_cast<long long>(p.rows_per_second + 0.5)) + " rows/s";
  out += ", " + std::to_string(p.keys) + (p.keys == 1 ? " key" : " keys");
  return out;
}

std::string Line(const std::string& environment, const service::IndexKeyRotationProgress& p) {
  std::string out = "rotate-index-key " + environment + ": " + p.phase;
  if (p.to > 0) out += " (generation " + std::to_string(p.from) + " -> " + std::to_string(p.to) + ")";
  if (p.wait_ms > 0) out += ", next step in " + std::to_string((p.wait_ms + 999) / 1000) + " s";
  if (!p.table.empty()) out += " " + p.table;
  out += ", " + std::to_string(p.visited) + " rows visited, " + std::to_string(p.copied) + " entries copied, " +
         std::to_string(p.dropped) + " old entries dropped";
  if (p.rows_per_second > 0) out += ", " + std::to_string(static_cast<long long>(p.rows_per_second + 0.5)) + " rows/s";
  out += ", lookups under generation " + std::to_string(p.generation);
  return out;
}

// Runs (or, with `status`, only reports) one rotation: the audit record first, a progress
// line per step on stderr, the outcome as JSON or one line. `Options` is the rotation's
// options type; `rotate(options)` and `report()` return its progress.
template <typename Options, typename Rotate, typename Report>
int Run(service::AuditLog& audit, const service::Environment& env, const char* command, const char* action,
        double rows_per_second, bool status, bool as_json, const Rotate& rotate, const Report& report) {
  auto result = status ? report() : decltype(report()){core::Internal("not run")};
  if (!status) {
    if (auto st = audit.Record(audit.CommandRow(env.id, command, action, "", nullptr, service::kAuditCredentials));
        !st)
      throw std::runtime_error(st.error().message);
    Options options;
    options.rows_per_second = rows_per_second;
    options.progress = [&](const auto& p) { std::cerr << Line(env.name, p) << std::endl; };
    result = rotate(options);
  }
  if (!result) throw std::runtime_error(result.error().message);
  if (as_json) {
    auto o = service::ToJson(*result);
    o["environment"] = env.name;
    std::cout << boost::json::serialize(o) << std::endl;
  } else {
    std::cout << Line(env.name, *result) << std::endl;
  }
  return 0;
}

}  // namespace

int RotateIndexKey(service::DirectoryService& directory, service::RecordService& records, store::Store& store,
                   service::AuditLog& audit, const std::string& environment, double rows_per_second, bool status,
                   bool as_json) {
  auto env = directory.ResolveEnvironment(environment);
  if (!env) throw std::runtime_error(env.error().message);
  core::SystemClock clock;
  return Run<service::IndexKeyRotationOptions>(
      audit, *env, "env rotate-index-key", "index-key.rotate", rows_per_second, status, as_json,
      [&](const service::IndexKeyRotationOptions& options) {
        return service::RotateIndexKey(directory, records, store, clock, env->id, options);
      },
      [&] { return service::IndexKeyRotationStatus(records, store, env->id); });
}

int RotateDataKey(service::DirectoryService& directory, service::RecordService& records, store::Store& store,
                  service::AuditLog& audit, const std::string& environment, double rows_per_second, bool status,
                  bool as_json) {
  auto env = directory.ResolveEnvironment(environment);
  if (!env) throw std::runtime_error(env.error().message);
  core::SystemClock clock;
  return Run<service::DataKeyRotationOptions>(
      audit, *env, "env rotate-data-key", "data-key.rotate", rows_per_second, status, as_json,
      [&](const service::DataKeyRotationOptions& options) {
        return service::RotateDataKey(directory, records, store, clock, env->id, options);
      },
      [&] { return service::DataKeyRotationStatus(directory, records, env->id); });
}

}  // namespace roster::cli
