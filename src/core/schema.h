// The directory's attribute schema: the attributes an environment declares beside the
// canonical user's own (PingOne custom attributes today, SCIM schema extensions next).
// Values live in core::User::attributes keyed by attribute id; the schema says which are
// enabled, required, multi-valued and unique. No I/O: service/attribute_schema.h loads it.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roster::core {

struct EnumeratedValue {
  std::string value, description;
  bool archived = false;
};

struct PatternRule {
  std::string pattern, requirements;
  std::vector<std::string> should_match, should_not_match;
};

struct AttributeDefinition {
  std::string id, name, display_name, description;
  std::string type;  // STRING, JSON or BOOLEAN
  bool enabled = true, required = false, unique = false, multi_valued = false;
  std::vector<EnumeratedValue> enumerated;
  std::optional<PatternRule> pattern;
  std::int64_t created_at_ms = 0, updated_at_ms = 0;
};

struct AttributeSchema {
  std::vector<AttributeDefinition> attributes;  // every declared attribute, enabled or not
  // An enabled attribute by exact name, or null.
  const AttributeDefinition* Enabled(std::string_view name) const;
  const AttributeDefinition* ById(std::string_view id) const;
};

// The claim kind a unique attribute's values are held under.
std::string AttributeClaimKind(std::string_view attribute_id);

// The form a unique attribute value is compared in: a string folded like a username
// (case- and width-insensitive), anything else as its JSON text.
std::string UniqueValueKey(const boost::json::value& value);
// The same for a value's JSON text (as kept in User::attributes).
std::string UniqueValueKey(std::string_view json_text);

}  // namespace roster::core
