#include "service/search_upgrade.h"

#include "service/environment_settings.h"

namespace roster::service {

core::Result<bool> EnsureSearchIndexed(UserService& users, RecordService& records, const std::string& environment_id,
                                       int batch) {
  auto settings = LoadEnvironmentSettings(records, environment_id);
  if (!settings) return std::unexpected(settings.error());
  if (const auto* v = settings->if_contains("searchIndex"); v && v->is_int64() && v->as_int64() >= kSearchIndexVersion)
    return false;
  std::int64_t after = 0;
  do {
    auto next = users.Reindex(environment_id, after, batch);
    if (!next) return std::unexpected(next.error());
    after = *next;
  } while (after != 0);
  if (auto st = UpdateEnvironmentSettings(records, environment_id,
                                          [](boost::json::object& body) { body["searchIndex"] = kSearchIndexVersion; });
      !st)
    return std::unexpected(st.error());
  return true;
}

}  // namespace roster::service
