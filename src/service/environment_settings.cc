#include "service/environment_settings.h"

#include <vector>

namespace roster::service {
namespace {

constexpr const char* kSettingsKind = "environment.settings";
constexpr const char* kSettingsClaim = "environment.settings";

std::vector<Claim> SettingsClaims(const Record&) { return {{kSettingsClaim, "settings", true}}; }

}  // namespace

std::int64_t IntMember(const boost::json::object& object, const char* key) {
  const auto* v = object.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return 0;
}

core::Result<boost::json::object> LoadEnvironmentSettings(RecordService& records, const std::string& environment_id) {
  auto found = records.Find(environment_id, kSettingsClaim, "settings");
  if (!found) return std::unexpected(found.error());
  for (const auto& r : *found)
    if (r.kind == kSettingsKind) return r.body;
  return boost::json::object{};
}

core::Status UpdateEnvironmentSettings(RecordService& records, const std::string& environment_id,
                                       const std::function<void(boost::json::object&)>& change) {
  return UpdateEnvironmentSettingsIf(records, environment_id, [&](boost::json::object& settings) -> core::Status {
    change(settings);
    return {};
  });
}

core::Status UpdateEnvironmentSettingsIf(RecordService& records, const std::string& environment_id,
                                         const std::function<core::Status(boost::json::object&)>& change) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto found = records.Find(environment_id, kSettingsClaim, "settings");
    if (!found) return std::unexpected(found.error());
    if (!found->empty()) {
      auto updated = records.Update(environment_id, kSettingsKind, found->front().id,
                                    [&](Record& r) -> core::Status { return change(r.body); }, SettingsClaims);
      if (!updated) return std::unexpected(updated.error());
      return {};
    }
    NewRecordRequest r;
    r.environment_id = environment_id;
    r.kind = kSettingsKind;
    if (auto st = change(r.body); !st) return st;
    r.claims = {{kSettingsClaim, "settings", true}};
    auto created = records.Create(r);
    if (created) return {};
    // Another process made it first: update that one.
    if (created.error().code != core::ErrorCode::kAlreadyExists) return std::unexpected(created.error());
  }
  return core::Internal("cannot save the environment's settings");
}

}  // namespace roster::service
