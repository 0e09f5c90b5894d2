#include "core/schema.h"

#include "core/json_policy.h"

#include <boost/json.hpp>

#include "core/pattern.h"
#include "core/rules.h"

namespace roster::core {

const AttributeDefinition* AttributeSchema::Enabled(std::string_view name) const {
  for (const auto& a : attributes)
    if (a.enabled && a.name == name) return &a;
  return nullptr;
}

const AttributeDefinition* AttributeSchema::ById(std::string_view id) const {
  for (const auto& a : attributes)
    if (a.id == id) return &a;
  return nullptr;
}

std::optional<AttributeViolation> CheckAttributeValue(const AttributeDefinition& a, const boost::json::value& value) {
  using Kind = AttributeViolation::Kind;
  const std::string& name = a.name;
  auto one = [&](const boost::json::value& v) -> std::optional<AttributeViolation> {
    if (a.type == "BOOLEAN") {
      if (!v.is_bool()) return AttributeViolation{Kind::kInvalid, name + " must be true or false"};
      return std::nullopt;
    }
    if (a.type == "JSON") {
      if (!v.is_object()) return AttributeViolation{Kind::kInvalid, name + " must be a JSON object"};
      if (boost::json::serialize(v).size() > kMaxAttributeJsonBytes)
        return AttributeViolation{
            Kind::kSizeLimit, name + " must be at most " + std::to_string(kMaxAttributeJsonBytes) + " bytes of JSON"};
      return std::nullopt;
    }
    if (!v.is_string()) return AttributeViolation{Kind::kInvalid, name + " must be a string"};
    const std::string_view s(v.as_string());
    if (!IsValidUtf8(s) || CodePoints(s) > kMaxAttributeString)
      return AttributeViolation{Kind::kSizeLimit,
                                name + " must be at most " + std::to_string(kMaxAttributeString) + " characters"};
    if (!a.enumerated.empty()) {
      bool allowed = false;
      for (const auto& e : a.enumerated) allowed = allowed || (!e.archived && e.value == s);
      if (!allowed) return AttributeViolation{Kind::kNotEnumerated, name + " must be one of the attribute's enumerated values"};
    }
    if (a.pattern && a.pattern->compiled && !a.pattern->compiled->FullMatch(s))
      return AttributeViolation{Kind::kPattern, a.pattern->requirements.empty()
                                                    ? name + " does not match the attribute's pattern"
                                                    : a.pattern->requirements};
    return std::nullopt;
  };
  if (a.multi_valued) {
    if (!value.is_array())
      return AttributeViolation{Kind::kInvalid, name + " is multi-valued: its value must be an array"};
    if (value.as_array().size() > kMaxAttributeValues)
      return AttributeViolation{Kind::kSizeLimit,
                                name + " must have at most " + std::to_string(kMaxAttributeValues) + " values"};
    for (const auto& item : value.as_array())
      if (auto v = one(item)) return v;
    return std::nullopt;
  }
  if (value.is_array())
    return AttributeViolation{Kind::kInvalid, name + " is single-valued: its value must not be an array"};
  return one(value);
}

std::string AttributeClaimKind(std::string_view attribute_id) { return "attribute:" + std::string(attribute_id); }

std::string UniqueValueKey(const boost::json::value& value) {
  if (value.is_string()) {
    const std::string s(value.as_string());
    auto folded = FoldUsername(s);
    return folded ? *folded : s;
  }
  return boost::json::serialize(value);
}

std::string UniqueValueKey(std::string_view json_text) {
  boost::system::error_code ec;
  const boost::json::value v = ParseStored(json_text, ec);
  if (ec) return std::string(json_text);
  return UniqueValueKey(v);
}

}  // namespace roster::core
