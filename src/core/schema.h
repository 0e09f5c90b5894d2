// The directory's attribute schema: the attributes an environment declares beside the
// canonical user's own (PingOne custom attributes today, SCIM schema extensions next).
// Values live in core::User::attributes keyed by attribute id; the schema says which are
// enabled, required, multi-valued and unique. No I/O: service/attribute_schema.h loads it.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roster::core {

class Pattern;

inline constexpr std::size_t kMaxAttributeValues = 32;       // of a multi-valued attribute
inline constexpr std::size_t kMaxAttributeString = 2048;     // code points
inline constexpr std::size_t kMaxAttributeJsonBytes = 16384;  // a JSON value, serialized

struct EnumeratedValue {
  std::string value, description;
  bool archived = false;
};

struct PatternRule {
  std::string pattern, requirements;
  std::vector<std::string> should_match, should_not_match;
  std::shared_ptr<const Pattern> compiled;  // null if the pattern does not compile
};

struct AttributeDefinition {
  std::string id, name, display_name, description;
  std::string type;  // STRING, JSON or BOOLEAN
  bool enabled = true, required = false, unique = false, multi_valued = false;
  bool phi = false;  // PHI: omitted without phi:read, refused without phi:write (core/access.h)
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

// Why a value is refused for an attribute (the message names the attribute).
struct AttributeViolation {
  enum class Kind { kInvalid, kSizeLimit, kNotEnumerated, kPattern };
  Kind kind = Kind::kInvalid;
  std::string message;
};

// The directory's rules for a (non-null) value of `attribute`: its type (STRING, JSON
// object, BOOLEAN), multiplicity (an array of at most kMaxAttributeValues for a
// multi-valued one, never an array otherwise), sizes, enumerated values (archived ones
// refused) and pattern (whole-value). nullopt when the value is allowed.
std::optional<AttributeViolation> CheckAttributeValue(const AttributeDefinition& attribute,
                                                      const boost::json::value& value);

// The claim kind a unique attribute's values are held under.
std::string AttributeClaimKind(std::string_view attribute_id);

// The form a unique attribute value is compared in: a string folded like a username
// (case- and width-insensitive), anything else as its JSON text.
std::string UniqueValueKey(const boost::json::value& value);
// The same for a value's JSON text (as kept in User::attributes).
std::string UniqueValueKey(std::string_view json_text);

}  // namespace roster::core
