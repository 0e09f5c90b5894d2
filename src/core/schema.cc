#include "core/schema.h"

#include <boost/json.hpp>

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
  const boost::json::value v = boost::json::parse(json_text, ec);
  if (ec) return std::string(json_text);
  return UniqueValueKey(v);
}

}  // namespace roster::core
