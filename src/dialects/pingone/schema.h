// The environment's user schema: PingOne's core and standard attributes (fixed) and the
// custom attributes clients declare (the directory's attribute schema, core/schema.h,
// loaded by service/attribute_schema.h), plus the validation of custom values on users.
// Unique values are claims the service derives and writes with the user.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dialects/pingone/common.h"
#include "core/pattern.h"
#include "core/schema.h"

namespace roster::dialects::pingone {

// A custom attribute is the directory's attribute definition (core/schema.h).
using CustomAttribute = core::AttributeDefinition;

struct Schema {
  std::string id;
  std::vector<CustomAttribute> custom;  // every declared attribute, enabled or not
  // The standard attributes disabled in the environment (exact names: "nickname"): not
  // returned on users, ignored on writes, refused in filters.
  std::set<std::string, std::less<>> disabled_standard;
  bool StandardEnabled(std::string_view name) const { return !disabled_standard.contains(name); }
  // Whether a filter path ("address.locality", any case) names a disabled standard attribute.
  bool DisabledPath(std::string_view path) const;
  // An enabled custom attribute by exact name, or null.
  const CustomAttribute* Enabled(std::string_view name) const;
  const CustomAttribute* ById(std::string_view id) const;
};

inline constexpr std::size_t kMaxCustomAttributes = 500;
inline constexpr std::size_t kMaxMultiValues = core::kMaxAttributeValues;
inline constexpr std::size_t kMaxCustomString = core::kMaxAttributeString;
inline constexpr std::size_t kMaxCustomJsonBytes = core::kMaxAttributeJsonBytes;

// The environment's one schema id (stable: derived from the environment id).
std::string SchemaIdOf(const std::string& environment_id);
// The id of a standard attribute (stable per environment and name).
std::string StandardAttributeId(const std::string& environment_id, std::string_view name);
// The records (service::RecordService) of the environment's standard attribute settings:
// one per changed standard attribute, its id the attribute's, body {name, enabled}.
inline constexpr const char* kStandardAttributeKind = "pingone.standard_attribute";

// Whether `name` is a core or standard attribute or another member PingOne reserves on
// users (compared ignoring ASCII case), so no custom attribute may take it.
bool IsReservedAttributeName(std::string_view name);

core::Result<Schema> LoadSchema(State& st, const std::string& env);

// A custom value as it will be stored, or INVALID_DATA naming the attribute. `value`
// is not null.
Outcome<boost::json::value> CheckCustomValue(const CustomAttribute& attribute, const boost::json::value& value);

}  // namespace roster::dialects::pingone
