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

// Prints a rotation's outcome (or status) as JSON or one line.
template <typename Progress>
void Print(const std::string& environment, const Progress& p, bool as_json) {
  if (as_json) {
    auto o = service::ToJson(p);
    o["environment"] = environment;
    std::cout << boost::json::serialize(o) << std::endl;
  } else {
    std::cout << Line(environment, p) << std::endl;
  }
}

}  // namespace

int RotateIndexKey(service::DirectoryService& directory, service::RecordService& records, store::Store& store,
                   service::AuditLog& audit, const std::string& environment, double rows_per_second, bool status,
                   bool as_json) {
  auto env = directory.ResolveEnvironment(environment);
  if (!env) throw std::runtime_error(env.error().message);
  core::Result<service::IndexKeyRotationProgress> result;
  if (status) {
    result = service::IndexKeyRotationStatus(records, store, env->id);
  } else {
    if (auto st = audit.Record(audit.CommandRow(env->id, "env rotate-index-key", "index-key.rotate", "", nullptr,
                                                service::kAuditCredentials));
        !st)
      throw std::runtime_error(st.error().message);
    core::SystemClock clock;
    service::IndexKeyRotationOptions options;
    options.rows_per_second = rows_per_second;
    options.progress = [&](const service::IndexKeyRotationProgress& p) { std::cerr << Line(env->name, p) << std::endl; };
    result = service::RotateIndexKey(directory, records, store, clock, env->id, options);
  }
  if (!result) throw std::runtime_error(result.error().message);
  Print(env->name, *result, as_json);
  return 0;
}

int RotateDataKey(service::DirectoryService& directory, service::RecordService& records, store::Store& store,
                  service::AuditLog& audit, const std::string& environment, double rows_per_second, bool status,
                  bool as_json) {
  auto env = directory.ResolveEnvironment(environment);
  if (!env) throw std::runtime_error(env.error().message);
  core::Result<service::DataKeyRotationProgress> result;
  if (status) {
    result = service::DataKeyRotationStatus(directory, records, env->id);
  } else {
    if (auto st = audit.Record(audit.CommandRow(env->id, "env rotate-data-key", "data-key.rotate", "", nullptr,
                                                service::kAuditCredentials));
        !st)
      throw std::runtime_error(st.error().message);
    core::SystemClock clock;
    service::DataKeyRotationOptions options;
    options.rows_per_second = rows_per_second;
    options.progress = [&](const service::DataKeyRotationProgress& p) {
      std::cerr << Line(env->name, p) << std::endl;
    };
    result = service::RotateDataKey(directory, records, store, clock, env->id, options);
  }
  if (!result) throw std::runtime_error(result.error().message);
  Print(env->name, *result, as_json);
  return 0;
}

}  // namespace roster::cli
