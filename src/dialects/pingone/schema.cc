#include "dialects/pingone/schema.h"

#include "service/attribute_schema.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/rules.h"
#include "crypto/crypto.h"
#include "crypto/mac.h"

namespace roster::dialects::pingone {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr std::size_t kMaxEnumeratedValues = 500;
constexpr std::size_t kMaxRegexSamples = 20;

struct Standard {
  const char* name;
  const char* type;
  const char* schema_type;
  bool required, unique;
  std::vector<const char*> sub;
};

// PingOne's core and standard user attributes, as its schema lists them.
const std::vector<Standard>& StandardAttributes() {
  static const std::vector<Standard> kStandard = {
      {"username", "STRING", "CORE", true, true, {}},
      {"population", "COMPLEX", "CORE", true, false, {"id"}},
      {"accountId", "STRING", "STANDARD", false, false, {}},
      {"address",
       "COMPLEX",
       "STANDARD",
       false,
       false,
       {"countryCode", "locality", "postalCode", "region", "streetAddress"}},
      {"email", "STRING", "STANDARD", false, false, {}},
      {"enabled", "BOOLEAN", "CORE", false, false, {}},
      {"externalId", "STRING", "STANDARD", false, false, {}},
      {"locale", "STRING", "STANDARD", false, false, {}},
      {"mobilePhone", "STRING", "STANDARD", false, false, {}},
      {"name",
       "COMPLEX",
       "STANDARD",
       false,
       false,
       {"family", "formatted", "given", "honorificPrefix", "honorificSuffix", "middle"}},
      {"nickname", "STRING", "STANDARD", false, false, {}},
      {"photo", "COMPLEX", "STANDARD", false, false, {"href"}},
      {"preferredLanguage", "STRING", "STANDARD", false, false, {}},
      {"primaryPhone", "STRING", "STANDARD", false, false, {}},
      {"timezone", "STRING", "STANDARD", false, false, {}},
      {"title", "STRING", "STANDARD", false, false, {}},
      {"type", "STRING", "STANDARD", false, false, {}},
  };
  return kStandard;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool IsAttributeName(std::string_view name) {
  if (name.empty() || name.size() > 100 || !std::isalpha(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::string Text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

CustomAttribute FromRecord(const service::Record& r) { return service::AttributeFromRecord(r); }

// A JSON array of strings under `key` (absent or null: empty); errors appended.
std::vector<std::string> StringArray(const json::object& o, std::string_view key, const std::string& target,
                                     std::size_t max_items, std::vector<Detail>& errors) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) {
    errors.push_back({"INVALID_VALUE", target, target + " must be an array of strings", {}});
    return out;
  }
  if (v->as_array().size() > max_items) {
    errors.push_back(
        {"SIZE_LIMIT_EXCEEDED", target, target + " must have at most " + std::to_string(max_items) + " entries", {}});
    return out;
  }
  for (const auto& item : v->as_array()) {
    if (!item.is_string() || item.as_string().size() > core::kMaxPatternInput) {
      errors.push_back({"INVALID_VALUE", target, target + " must be an array of strings", {}});
      return {};
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

// Validates a complete attribute description (after merging) and returns the body to
// store. `existing`: the stored body on update, for the immutable members.
Outcome<json::object> NormalizeAttribute(const json::object& in, const json::object* existing) {
  std::vector<Detail> errors;
  json::object out;
  auto text = [&](std::string_view key, std::size_t max, bool required) -> std::string {
    const std::string target(key);
    auto v = OptionalString(in, key, target, max);
    if (!v) {
      errors.insert(errors.end(), v.error().details.begin(), v.error().details.end());
      return {};
    }
    if (required && (!*v || (*v)->empty())) errors.push_back({"REQUIRED_VALUE", target, target + " is required", {}});
    return v->value_or("");
  };
  auto flag = [&](std::string_view key, bool required) -> bool {
    const std::string target(key);
    auto v = OptionalBool(in, key, target);
    if (!v) {
      errors.insert(errors.end(), v.error().details.begin(), v.error().details.end());
      return false;
    }
    if (required && !*v) errors.push_back({"REQUIRED_VALUE", target, target + " is required", {}});
    return v->value_or(false);
  };

  const std::string name = text("name", 100, true);
  if (!name.empty()) {
    if (!IsAttributeName(name))
      errors.push_back({"INVALID_VALUE",
                        "name",
                        "name must start with a letter and hold only letters, digits and '_' (at most 100)",
                        {}});
    else if (IsReservedAttributeName(name))
      errors.push_back({"INVALID_VALUE", "name", "name is taken by a core or standard attribute", {}});
  }
  const std::string type = text("type", 16, true);
  if (!type.empty() && type != "STRING" && type != "JSON" && type != "BOOLEAN")
    errors.push_back(
        {"INVALID_VALUE",
         "type",
         type == "COMPLEX" ? "COMPLEX custom attributes are not supported" : "type must be STRING, JSON or BOOLEAN",
         {}});
  const bool enabled = flag("enabled", true);
  const std::string display_name = text("displayName", 256, false);
  const std::string description = text("description", 1024, false);
  const bool required = flag("required", false);
  const bool unique = flag("unique", false);
  const bool multi_valued = flag("multiValued", false);
  // A Roster extension: the attribute holds PHI (omitted without phi:read, refused
  // without phi:write; docs/security.md).
  const bool phi = flag("phi", false);
  if (unique && (type != "STRING" || multi_valued))
    errors.push_back({"INVALID_VALUE", "unique", "only single-valued STRING attributes can be unique", {}});

  json::array enumerated;
  if (const auto* v = in.if_contains("enumeratedValues"); v && !v->is_null()) {
    if (type != "STRING") {
      errors.push_back({"INVALID_VALUE", "enumeratedValues", "only STRING attributes take enumeratedValues", {}});
    } else if (!v->is_array()) {
      errors.push_back({"INVALID_VALUE", "enumeratedValues", "enumeratedValues must be an array", {}});
    } else if (v->as_array().size() > kMaxEnumeratedValues) {
      errors.push_back({"SIZE_LIMIT_EXCEEDED",
                        "enumeratedValues",
                        "enumeratedValues must have at most " + std::to_string(kMaxEnumeratedValues) + " entries",
                        {}});
    } else {
      std::set<std::string> seen;
      for (std::size_t i = 0; i < v->as_array().size(); ++i) {
        const std::string target = "enumeratedValues[" + std::to_string(i) + "]";
        const auto& item = v->as_array()[i];
        if (!item.is_object()) {
          errors.push_back({"INVALID_VALUE", target, target + " must be an object with a value", {}});
          continue;
        }
        const auto& o = item.as_object();
        auto value = OptionalString(o, "value", target + ".value", 256);
        auto desc = OptionalString(o, "description", target + ".description", 1024);
        auto archived = OptionalBool(o, "archived", target + ".archived");
        if (!value || !desc || !archived) {
          for (const auto* e : {value ? nullptr : &value.error(), desc ? nullptr : &desc.error(),
                                archived ? nullptr : &archived.error()})
            if (e) errors.insert(errors.end(), e->details.begin(), e->details.end());
          continue;
        }
        if (!*value || (*value)->empty()) {
          errors.push_back({"REQUIRED_VALUE", target + ".value", target + ".value is required", {}});
          continue;
        }
        if (!seen.insert(**value).second) {
          errors.push_back({"INVALID_VALUE", target + ".value", "enumerated values must be distinct", {}});
          continue;
        }
        json::object e{{"value", **value}, {"archived", archived->value_or(false)}};
        if (*desc && !(*desc)->empty()) e["description"] = **desc;
        enumerated.push_back(std::move(e));
      }
    }
  }

  std::optional<json::object> regex;
  if (const auto* v = in.if_contains("regexValidation"); v && !v->is_null()) {
    if (type != "STRING") {
      errors.push_back({"INVALID_VALUE", "regexValidation", "only STRING attributes take regexValidation", {}});
    } else if (!v->is_object()) {
      errors.push_back({"INVALID_VALUE", "regexValidation", "regexValidation must be an object", {}});
    } else {
      const auto& o = v->as_object();
      auto pattern = OptionalString(o, "pattern", "regexValidation.pattern", core::kMaxPatternBytes);
      auto requirements = OptionalString(o, "requirements", "regexValidation.requirements", 1024);
      const auto should = StringArray(o, "valuesPatternShouldMatch", "regexValidation.valuesPatternShouldMatch",
                                      kMaxRegexSamples, errors);
      const auto should_not = StringArray(o, "valuesPatternShouldNotMatch",
                                          "regexValidation.valuesPatternShouldNotMatch", kMaxRegexSamples, errors);
      if (!pattern) {
        errors.insert(errors.end(), pattern.error().details.begin(), pattern.error().details.end());
      } else if (!requirements) {
        errors.insert(errors.end(), requirements.error().details.begin(), requirements.error().details.end());
      } else if (!*pattern || (*pattern)->empty()) {
        errors.push_back({"REQUIRED_VALUE", "regexValidation.pattern", "regexValidation.pattern is required", {}});
      } else if (auto compiled = core::Pattern::Compile(**pattern); !compiled) {
        errors.push_back({"INVALID_VALUE", "regexValidation.pattern", compiled.error().message, {}});
      } else {
        for (const auto& sample : should)
          if (!compiled->FullMatch(sample))
            errors.push_back({"INVALID_VALUE",
                              "regexValidation.valuesPatternShouldMatch",
                              "a value listed in valuesPatternShouldMatch does not match the pattern",
                              {}});
        for (const auto& sample : should_not)
          if (compiled->FullMatch(sample))
            errors.push_back({"INVALID_VALUE",
                              "regexValidation.valuesPatternShouldNotMatch",
                              "a value listed in valuesPatternShouldNotMatch matches the pattern",
                              {}});
        json::object r{{"pattern", **pattern}};
        if (*requirements && !(*requirements)->empty()) r["requirements"] = **requirements;
        json::array a, b;
        for (const auto& s : should) a.emplace_back(s);
        for (const auto& s : should_not) b.emplace_back(s);
        r["valuesPatternShouldMatch"] = std::move(a);
        r["valuesPatternShouldNotMatch"] = std::move(b);
        regex = std::move(r);
      }
    }
  }

  if (existing != nullptr) {
    auto immutable = [&](std::string_view key, const json::value& now) {
      const auto* before = existing->if_contains(key);
      if (before != nullptr && *before != now)
        errors.push_back(
            {"INVALID_VALUE", std::string(key), std::string(key) + " cannot be changed once the attribute exists", {}});
    };
    if (!name.empty()) immutable("name", json::value(name));
    if (!type.empty()) immutable("type", json::value(type));
    immutable("multiValued", json::value(multi_valued));
    immutable("unique", json::value(unique));
  }
  if (!errors.empty()) return Fail(InvalidData(std::move(errors)));

  out["name"] = name;
  out["type"] = type;
  out["enabled"] = enabled;
  out["required"] = required;
  out["unique"] = unique;
  out["multiValued"] = multi_valued;
  out["phi"] = phi;
  if (!display_name.empty()) out["displayName"] = display_name;
  if (!description.empty()) out["description"] = description;
  if (!enumerated.empty()) out["enumeratedValues"] = std::move(enumerated);
  if (regex) out["regexValidation"] = std::move(*regex);
  return out;
}

std::vector<service::Claim> AttributeClaims(const service::Record& r) {
  return {{kAttributeNameClaim, Lower(Text(r.body, "name")), true}};
}

json::object SchemaLinks(const Call& call, const std::string& schema_id) {
  return json::object{{"self", {{"href", call.EnvUrl() + "/schemas/" + schema_id}}},
                      {"attributes", {{"href", call.EnvUrl() + "/schemas/" + schema_id + "/attributes"}}}};
}

json::object CustomWire(const Call& call, const std::string& schema_id, const CustomAttribute& a) {
  const std::string self = call.EnvUrl() + "/schemas/" + schema_id + "/attributes/" + a.id;
  json::object o;
  o["_links"] =
      json::object{{"self", {{"href", self}}}, {"schema", {{"href", call.EnvUrl() + "/schemas/" + schema_id}}}};
  o["id"] = a.id;
  o["environment"] = json::object{{"id", call.env}};
  o["schema"] = json::object{{"id", schema_id}};
  o["name"] = a.name;
  o["displayName"] = a.display_name.empty() ? a.name : a.display_name;
  if (!a.description.empty()) o["description"] = a.description;
  o["type"] = a.type;
  o["enabled"] = a.enabled;
  o["required"] = a.required;
  o["unique"] = a.unique;
  o["multiValued"] = a.multi_valued;
  if (a.phi) o["phi"] = true;
  o["schemaType"] = "CUSTOM";
  if (!a.enumerated.empty()) {
    json::array values;
    for (const auto& e : a.enumerated) {
      json::object v{{"value", e.value}, {"archived", e.archived}};
      if (!e.description.empty()) v["description"] = e.description;
      values.push_back(std::move(v));
    }
    o["enumeratedValues"] = std::move(values);
  }
  if (a.pattern) {
    json::object r{{"pattern", a.pattern->pattern}};
    r["requirements"] = a.pattern->requirements;  // PingOne's SchemaAttribute requires it, "" when none was given
    json::array m, n;
    for (const auto& s : a.pattern->should_match) m.emplace_back(s);
    for (const auto& s : a.pattern->should_not_match) n.emplace_back(s);
    r["valuesPatternShouldMatch"] = std::move(m);
    r["valuesPatternShouldNotMatch"] = std::move(n);
    o["regexValidation"] = std::move(r);
  }
  o["createdAt"] = core::FormatTimestamp(a.created_at_ms, true);
  o["updatedAt"] = core::FormatTimestamp(a.updated_at_ms, true);
  return o;
}

json::object StandardWire(const Call& call, const Schema& schema, const Standard& s) {
  const std::string& schema_id = schema.id;
  const std::string id = StandardAttributeId(call.env, s.name);
  json::object o;
  o["_links"] = json::object{{"self", {{"href", call.EnvUrl() + "/schemas/" + schema_id + "/attributes/" + id}}},
                             {"schema", {{"href", call.EnvUrl() + "/schemas/" + schema_id}}}};
  o["id"] = id;
  o["environment"] = json::object{{"id", call.env}};
  o["schema"] = json::object{{"id", schema_id}};
  o["name"] = s.name;
  o["displayName"] = s.name;
  o["type"] = s.type;
  o["enabled"] = schema.StandardEnabled(s.name);
  o["required"] = s.required;
  o["unique"] = s.unique;
  o["multiValued"] = false;
  o["schemaType"] = s.schema_type;
  if (!s.sub.empty()) {
    json::array sub;
    for (const char* name : s.sub)
      sub.push_back(json::object{{"name", name},
                                 {"type", "STRING"},
                                 {"enabled", true},
                                 {"required", false},
                                 {"unique", false},
                                 {"multiValued", false}});
    o["subAttributes"] = std::move(sub);
  }
  return o;
}

const Standard* StandardById(const std::string& env, std::string_view id) {
  for (const auto& s : StandardAttributes())
    if (StandardAttributeId(env, s.name) == id) return &s;
  return nullptr;
}

json::array AllAttributesWire(const Call& call, const Schema& schema) {
  json::array out;
  for (const auto& s : StandardAttributes()) out.push_back(StandardWire(call, schema, s));
  for (const auto& a : schema.custom) out.push_back(CustomWire(call, schema.id, a));
  return out;
}

json::object SchemaWire(const Call& call, const Schema& schema) {
  json::object o;
  o["_links"] = SchemaLinks(call, schema.id);
  o["id"] = schema.id;
  o["name"] = "User";
  o["description"] = "The environment's user schema";
  o["environment"] = json::object{{"id", call.env}};
  o["attributes"] = AllAttributesWire(call, schema);
  return o;
}

Outcome<Schema> SchemaFor(State& st, const Call& call) {
  if (call.Param("schemaID") != SchemaIdOf(call.env)) return Fail(NotFoundError());
  auto schema = LoadSchema(st, call.env);
  if (!schema) return Fail(FromCore(schema.error()));
  return std::move(*schema);
}

std::vector<service::Claim> StandardClaims(const service::Record& r) {
  return {{kStandardAttributeKind, Text(r.body, "name"), true}};
}

// PUT/PATCH of a core or standard attribute. Core ones cannot change (PingOne's
// REQUEST_FAILED). Of a standard one only `enabled` changes (required on PUT); the
// other members it describes may be sent back as read (Terraform's pingone_schema_attribute
// sends them all) and are refused by name when they differ. The setting is a record of
// the environment (kStandardAttributeKind, id the attribute's), so every server sees it.
Outcome<http::Response> WriteStandard(State& st, const Call& call, const Schema& schema, const Standard& s,
                                      const json::object& body, bool merge) {
  if (std::string_view(s.schema_type) == "CORE")
    return Fail(ApiError{400,
                         "REQUEST_FAILED",
                         "The request could not be completed. Core attributes cannot be changed.",
                         {}});
  std::vector<Detail> errors;
  std::optional<bool> enabled;
  if (const json::value* v = body.if_contains("enabled"); v == nullptr || v->is_null()) {
    if (!merge || v != nullptr) errors.push_back({"REQUIRED_VALUE", "enabled", "enabled is required", {}});
  } else if (!v->is_bool()) {
    errors.push_back({"INVALID_VALUE", "enabled", "enabled must be true or false", {}});
  } else {
    enabled = v->as_bool();
  }
  // The members a standard attribute has, as StandardWire answers them.
  const json::object fixed{{"name", s.name},         {"displayName", s.name}, {"type", s.type},
                           {"schemaType", s.schema_type}, {"required", s.required}, {"unique", s.unique},
                           {"multiValued", false}};
  for (const auto& [key, now] : fixed) {
    const json::value* v = body.if_contains(key);
    if (v != nullptr && !v->is_null() && *v != now)
      errors.push_back({"INVALID_VALUE", std::string(key),
                        std::string(key) + " of a standard attribute cannot be changed (only enabled can)", {}});
  }
  for (const char* key : {"description", "enumeratedValues", "regexValidation"}) {
    const json::value* v = body.if_contains(key);
    const bool empty = v == nullptr || v->is_null() || (v->is_array() && v->as_array().empty());
    if (!empty)
      errors.push_back({"INVALID_VALUE", key, std::string(key) + " cannot be set on a standard attribute", {}});
  }
  if (!errors.empty()) return Fail(InvalidData(std::move(errors)));
  Schema next = schema;
  if (enabled) {
    const std::string id = StandardAttributeId(call.env, s.name);
    const auto change = [&](service::Record& r) -> core::Status {
      r.body["enabled"] = *enabled;
      return {};
    };
    auto updated = st.s.records.Update(call.env, kStandardAttributeKind, id, change, StandardClaims);
    if (!updated && updated.error().code == ErrorCode::kNotFound) {
      service::NewRecordRequest r;
      r.environment_id = call.env;
      r.kind = kStandardAttributeKind;
      r.id = id;
      r.body = json::object{{"name", s.name}, {"enabled", *enabled}};
      service::Record probe;
      probe.body = r.body;
      r.claims = StandardClaims(probe);
      updated = st.s.records.Create(r);
      // Another writer created it first: change theirs.
      if (!updated && updated.error().code == ErrorCode::kAlreadyExists)
        updated = st.s.records.Update(call.env, kStandardAttributeKind, id, change, StandardClaims);
    }
    if (!updated) return Fail(FromCore(updated.error()));
    if (*enabled)
      next.disabled_standard.erase(std::string(s.name));
    else
      next.disabled_standard.insert(s.name);
  }
  return JsonResponse(200, StandardWire(call, next, s));
}

// Writes a new or changed attribute: `merge` for PATCH, neither for PUT, no id for POST.
Outcome<http::Response> WriteAttribute(State& st, const Call& call, bool merge) {
  auto schema = SchemaFor(st, call);
  if (!schema) return Fail(schema.error());
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  const std::string id = call.Param("attributeID");
  if (id.empty()) {
    if (schema->custom.size() >= kMaxCustomAttributes)
      return Fail(InvalidValue(
          "name", "an environment may declare at most " + std::to_string(kMaxCustomAttributes) + " custom attributes",
          "SIZE_LIMIT_EXCEEDED"));
    auto normalized = NormalizeAttribute(*body, nullptr);
    if (!normalized) return Fail(normalized.error());
    service::NewRecordRequest r;
    r.environment_id = call.env;
    r.kind = kAttributeKind;
    r.body = std::move(*normalized);
    service::Record probe;
    probe.body = r.body;
    r.claims = AttributeClaims(probe);
    auto created = st.s.records.Create(r);
    if (!created) {
      if (created.error().code == ErrorCode::kAlreadyExists)
        return Fail(InvalidValue("name", "a custom attribute with this name already exists", "UNIQUENESS_VIOLATION"));
      return Fail(FromCore(created.error()));
    }
    return JsonResponse(201, CustomWire(call, schema->id, FromRecord(*created)));
  }
  if (const Standard* s = StandardById(call.env, id)) return WriteStandard(st, call, *schema, *s, *body, merge);
  std::optional<ApiError> failure;
  auto updated = st.s.records.Update(
      call.env, kAttributeKind, id,
      [&](service::Record& r) -> core::Status {
        json::object input = merge ? r.body : json::object{};
        for (const auto& [key, value] : *body) {
          if (merge && value.is_null())
            input.erase(key);
          else
            input[key] = value;
        }
        auto normalized = NormalizeAttribute(input, &r.body);
        if (!normalized) {
          failure = normalized.error();
          return core::InvalidArgument("body", "invalid attribute");
        }
        r.body = std::move(*normalized);
        return {};
      },
      AttributeClaims);
  if (failure) return Fail(*failure);
  if (!updated) return Fail(FromCore(updated.error()));
  return JsonResponse(200, CustomWire(call, schema->id, FromRecord(*updated)));
}

}  // namespace

const CustomAttribute* Schema::Enabled(std::string_view name) const {
  for (const auto& a : custom)
    if (a.enabled && a.name == name) return &a;
  return nullptr;
}

bool Schema::DisabledPath(std::string_view path) const {
  const std::string head = Lower(path.substr(0, path.find('.')));
  for (const auto& name : disabled_standard)
    if (Lower(name) == head) return true;
  return false;
}

const CustomAttribute* Schema::ById(std::string_view id) const {
  for (const auto& a : custom)
    if (a.id == id) return &a;
  return nullptr;
}

namespace {

// A stable UUID (RFC 9562 version 8 layout) from a name.
std::string NameUuid(std::string_view name) {
  std::string d = crypto::Digest(crypto::MacAlgorithm::kSha256, name).substr(0, 16);
  d[6] = static_cast<char>((d[6] & 0x0F) | 0x80);
  d[8] = static_cast<char>((d[8] & 0x3F) | 0x80);
  const std::string hex = crypto::ToHex(d);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

}  // namespace

std::string SchemaIdOf(const std::string& environment_id) {
  return NameUuid("roster/pingone/schema/" + environment_id);
}

std::string StandardAttributeId(const std::string& environment_id, std::string_view name) {
  return NameUuid("roster/pingone/attribute/" + environment_id + "/" + std::string(name));
}

bool IsReservedAttributeName(std::string_view name) {
  static const std::set<std::string, std::less<>> kReserved = {"_links",
                                                               "_embedded",
                                                               "id",
                                                               "environment",
                                                               "population",
                                                               "createdat",
                                                               "updatedat",
                                                               "username",
                                                               "email",
                                                               "emailverified",
                                                               "enabled",
                                                               "externalid",
                                                               "name",
                                                               "nickname",
                                                               "title",
                                                               "type",
                                                               "locale",
                                                               "preferredlanguage",
                                                               "timezone",
                                                               "mobilephone",
                                                               "primaryphone",
                                                               "address",
                                                               "photo",
                                                               "accountid",
                                                               "lifecycle",
                                                               "account",
                                                               "identityprovider",
                                                               "lastsignon",
                                                               "mfaenabled",
                                                               "verifystatus",
                                                               "memberofgroupids",
                                                               "memberofgroupnames",
                                                               "password",
                                                               "schema",
                                                               "schematype"};
  return kReserved.contains(Lower(name));
}

core::Result<Schema> LoadSchema(State& st, const std::string& env) {
  auto loaded = service::LoadAttributeSchema(st.s.records, env);
  if (!loaded) return std::unexpected(loaded.error());
  Schema schema;
  schema.id = SchemaIdOf(env);
  schema.custom = std::move(loaded->attributes);
  // The standard attributes' settings: one record per attribute ever changed (at most 14).
  auto settings = st.s.records.List(env, kStandardAttributeKind, 0, 100);
  if (!settings) return std::unexpected(settings.error());
  for (const auto& r : *settings) {
    const auto* enabled = r.body.if_contains("enabled");
    const std::string name = Text(r.body, "name");
    if (enabled && enabled->is_bool() && !enabled->as_bool() && r.id == StandardAttributeId(env, name))
      schema.disabled_standard.insert(name);
  }
  return schema;
}

// The directory's rule (core::CheckAttributeValue) in PingOne's words.
Outcome<json::value> CheckCustomValue(const CustomAttribute& a, const json::value& value) {
  using Kind = core::AttributeViolation::Kind;
  auto violation = core::CheckAttributeValue(a, value);
  if (!violation) return value;
  Detail d{violation->kind == Kind::kSizeLimit ? "SIZE_LIMIT_EXCEEDED" : "INVALID_VALUE", a.name, violation->message,
           {}};
  if (violation->kind == Kind::kNotEnumerated) {
    json::array values;
    for (const auto& e : a.enumerated)
      if (!e.archived) values.emplace_back(e.value);
    d.inner = json::object{{"allowedValues", std::move(values)}};
  } else if (violation->kind == Kind::kPattern) {
    d.inner = json::object{{"allowedPattern", a.pattern->pattern}};
  }
  return Fail(InvalidData({std::move(d)}));
}

void MountSchemas(http::Router& router, std::shared_ptr<State> state) {
  router.Add("GET", "/v1/environments/{envID}/schemas", http::Exec::kInline,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               auto schema = LoadSchema(st, call.env);
               if (!schema) return Fail(FromCore(schema.error()));
               json::object out;
               out["_links"] = json::object{{"self", {{"href", call.EnvUrl() + "/schemas"}}}};
               out["_embedded"] = json::object{{"schemas", json::array{SchemaWire(call, *schema)}}};
               out["count"] = 1;
               out["size"] = 1;
               return JsonResponse(200, out);
             }));

  router.Add("GET", "/v1/environments/{envID}/schemas/{schemaID}", http::Exec::kInline,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               auto schema = SchemaFor(st, call);
               if (!schema) return Fail(schema.error());
               return JsonResponse(200, SchemaWire(call, *schema));
             }));

  router.Add(
      "GET", "/v1/environments/{envID}/schemas/{schemaID}/attributes", http::Exec::kInline,
      Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
        auto schema = SchemaFor(st, call);
        if (!schema) return Fail(schema.error());
        json::array all = AllAttributesWire(call, *schema);
        json::object out;
        out["_links"] = json::object{{"self", {{"href", call.EnvUrl() + "/schemas/" + schema->id + "/attributes"}}}};
        const auto size = all.size();
        out["_embedded"] = json::object{{"attributes", std::move(all)}};
        out["count"] = size;
        out["size"] = size;
        return JsonResponse(200, out);
      }));

  router.Add("POST", "/v1/environments/{envID}/schemas/{schemaID}/attributes", http::Exec::kWorker,
             Api(state, [](State& st, const Call& call) { return WriteAttribute(st, call, false); }, core::kSchemaWrite));

  router.Add("GET", "/v1/environments/{envID}/schemas/{schemaID}/attributes/{attributeID}", http::Exec::kInline,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               auto schema = SchemaFor(st, call);
               if (!schema) return Fail(schema.error());
               const std::string id = call.Param("attributeID");
               if (const Standard* s = StandardById(call.env, id))
                 return JsonResponse(200, StandardWire(call, *schema, *s));
               if (const CustomAttribute* a = schema->ById(id))
                 return JsonResponse(200, CustomWire(call, schema->id, *a));
               return Fail(NotFoundError());
             }));

  router.Add("PUT", "/v1/environments/{envID}/schemas/{schemaID}/attributes/{attributeID}", http::Exec::kWorker,
             Api(state, [](State& st, const Call& call) { return WriteAttribute(st, call, false); }, core::kSchemaWrite));
  router.Add("PATCH", "/v1/environments/{envID}/schemas/{schemaID}/attributes/{attributeID}", http::Exec::kWorker,
             Api(state, [](State& st, const Call& call) { return WriteAttribute(st, call, true); }, core::kSchemaWrite));

  router.Add(
      "DELETE", "/v1/environments/{envID}/schemas/{schemaID}/attributes/{attributeID}", http::Exec::kWorker,
      Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
        if (call.Param("schemaID") != SchemaIdOf(call.env)) return Fail(NotFoundError());
        const std::string id = call.Param("attributeID");
        if (StandardById(call.env, id) != nullptr)
          return Fail(ApiError{400,
                               "REQUEST_FAILED",
                               "The request could not be completed. Core and standard attributes cannot be deleted.",
                               {}});
        // Values stay sealed in users until each is next written (then they are
        // pruned); they are keyed by attribute id, so a new attribute of the same
        // name never sees them.
        if (auto st2 = st.s.records.Delete(call.env, kAttributeKind, id); !st2) return Fail(FromCore(st2.error()));
        return NoContent();
      }, core::kSchemaWrite));
}

}  // namespace roster::dialects::pingone
