// Groups as every dialect shares them: records of kind "group" whose body holds
// "name" (string), "default" (bool) and, under a key named after a dialect, whatever
// that dialect keeps of its own (CommCare's case_sharing, reporting, metadata). A
// dialect updates its own key and leaves the others alone. Names are unique per
// environment, compared case-insensitively; default groups are joined by new users.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "core/rules.h"
#include "service/record_service.h"

namespace roster::service {

inline constexpr const char* kGroupKind = "group";
inline constexpr const char* kGroupNameClaim = "group.name";
inline constexpr std::size_t kMaxGroupNameLength = 255;

inline std::string GroupName(const Record& group) {
  const auto* v = group.body.if_contains("name");
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline bool GroupIsDefault(const Record& group) {
  const auto* v = group.body.if_contains("default");
  return v && v->is_bool() && v->as_bool();
}

// kInvalidArgument (field "name") unless 1..255 characters of valid UTF-8 with no
// control characters.
inline core::Status CheckGroupName(const std::string& name) {
  if (name.empty()) return core::InvalidArgument("name", "name is required");
  if (!core::IsValidUtf8(name)) return core::InvalidArgument("name", "name must be valid UTF-8");
  if (core::CodePoints(name) > kMaxGroupNameLength)
    return core::InvalidArgument("name", "name must be at most 255 characters");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return core::InvalidArgument("name", "name must not contain control characters");
  return {};
}

inline std::vector<Claim> GroupClaims(const Record& group) {
  std::vector<Claim> claims;
  const std::string name = GroupName(group);
  auto folded = core::FoldUsername(name);
  claims.push_back({kGroupNameClaim, folded ? *folded : name, true});
  if (GroupIsDefault(group)) claims.push_back({kDefaultClaim, "1", false});
  return claims;
}

}  // namespace roster::service
