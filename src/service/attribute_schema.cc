#include "service/attribute_schema.h"

#include "core/pattern.h"

namespace roster::service {
namespace json = boost::json;

namespace {

std::string Text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool Flag(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && v->as_bool();
}

std::vector<std::string> Strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* v = o.if_contains(key); v && v->is_array())
    for (const auto& item : v->as_array())
      if (item.is_string()) out.emplace_back(item.as_string());
  return out;
}

}  // namespace

core::AttributeDefinition AttributeFromRecord(const Record& r) {
  core::AttributeDefinition a;
  a.id = r.id;
  a.name = Text(r.body, "name");
  a.display_name = Text(r.body, "displayName");
  a.description = Text(r.body, "description");
  a.type = Text(r.body, "type");
  a.enabled = Flag(r.body, "enabled");
  a.required = Flag(r.body, "required");
  a.unique = Flag(r.body, "unique");
  a.multi_valued = Flag(r.body, "multiValued");
  a.phi = Flag(r.body, "phi");
  a.created_at_ms = r.created_at_ms;
  a.updated_at_ms = r.updated_at_ms;
  if (const auto* v = r.body.if_contains("enumeratedValues"); v && v->is_array()) {
    for (const auto& item : v->as_array()) {
      if (!item.is_object()) continue;
      a.enumerated.push_back(
          {Text(item.as_object(), "value"), Text(item.as_object(), "description"), Flag(item.as_object(), "archived")});
    }
  }
  if (const auto* v = r.body.if_contains("regexValidation"); v && v->is_object()) {
    const auto& o = v->as_object();
    a.pattern = core::PatternRule{Text(o, "pattern"), Text(o, "requirements"), Strings(o, "valuesPatternShouldMatch"),
                                  Strings(o, "valuesPatternShouldNotMatch"), nullptr};
    if (auto compiled = core::Pattern::Compile(a.pattern->pattern))
      a.pattern->compiled = std::make_shared<const core::Pattern>(std::move(*compiled));
  }
  return a;
}

core::Result<core::AttributeSchema> LoadAttributeSchema(RecordService& records, const std::string& environment_id) {
  core::AttributeSchema schema;
  std::int64_t after = 0;
  for (;;) {
    auto page = records.List(environment_id, kAttributeKind, after, 200);
    if (!page) return std::unexpected(page.error());
    for (const auto& r : *page) schema.attributes.push_back(AttributeFromRecord(r));
    if (page->size() < 200 || schema.attributes.size() > kMaxAttributes * 2) break;
    after = page->back().number;
  }
  return schema;
}

}  // namespace roster::service
