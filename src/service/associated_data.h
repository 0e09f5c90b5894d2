// The associated data that binds each sealed value to its row: a value copied onto
// another row fails to open. Shared by the services that seal and by the data-key
// rotation, which re-seals every row of an environment.
#pragma once

#include <string>

namespace roster::service {

inline std::string ProfileAssociatedData(const std::string& environment_id, const std::string& user_id) {
  return "roster/profile/v1/" + environment_id + "/" + user_id;
}
inline std::string RecordAssociatedData(const std::string& environment_id, const std::string& kind,
                                        const std::string& id) {
  return "roster/record/v1/" + environment_id + "/" + kind + "/" + id;
}
inline std::string MailAssociatedData(const std::string& environment_id) { return "roster/mail/v1/" + environment_id; }

}  // namespace roster::service
