// An environment's settings: one sealed record per environment (kind and unique claim
// "environment.settings"), a JSON object whose members belong to whoever sets them
// (`activation`: service/activations.h; `searchIndex`: service/search_upgrade.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <boost/json/object.hpp>

#include "core/error.h"
#include "service/record_service.h"

namespace roster::service {

// The environment's settings; an empty object when none were ever saved.
core::Result<boost::json::object> LoadEnvironmentSettings(RecordService& records, const std::string& environment_id);

// Applies `change` to the settings and saves them in one write (creating the record the
// first time; another process creating it first is retried as an update).
// An integer member of a settings object (0 when absent or not an integer).
std::int64_t IntMember(const boost::json::object& object, const char* key);

core::Status UpdateEnvironmentSettings(RecordService& records, const std::string& environment_id,
                                       const std::function<void(boost::json::object&)>& change);
// The same, where `change` may refuse: its error is returned and nothing is saved. It sees
// the settings as they are in the write (run again if another write came first).
core::Status UpdateEnvironmentSettingsIf(RecordService& records, const std::string& environment_id,
                                         const std::function<core::Status(boost::json::object&)>& change);

}  // namespace roster::service
