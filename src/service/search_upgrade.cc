#include "service/search_upgrade.h"

#include "service/environment_settings.h"

namespace roster::service {

core::Result<bool> EnsureSearchIndexed(UserService& users, RecordService& records, const std::string& environment_id,
                                       int batch) {
  auto settings = LoadEnvironmentSettings(records, environment_id);
  if (!settings) return std::unexpected(settings.error());
  const auto* v = settings->if_contains("searchIndex");
  const std::int64_t version = v && v->is_int64() ? v->as_int64() : 0;
  if (version >= kSearchIndexVersion) return false;
  // From 1, only the archived users' entries differ (they gain kArchivedMarker): the
  // others are opened to tell, not rewritten.
  const bool archived_only = version == 1;
  std::int64_t after = 0;
  do {
    auto next = users.Reindex(environment_id, after, batch, archived_only);
    if (!next) return std::unexpected(next.error());
    after = *next;
  } while (after != 0);
  if (auto st = UpdateEnvironmentSettings(records, environment_id,
                                          [](boost::json::object& body) { body["searchIndex"] = kSearchIndexVersion; });
      !st)
    return std::unexpected(st.error());
  return true;
}

void MarkNewEnvironmentsIndexed(DirectoryService& directory, RecordService& records) {
  directory.SetEnvironmentCreated([&records](const std::string& environment_id) {
    return UpdateEnvironmentSettings(records, environment_id,
                                     [](boost::json::object& body) { body["searchIndex"] = kSearchIndexVersion; });
  });
}

}  // namespace roster::service
