// Discovery (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes and /Schemas, generated
// from what this server does: the limits in common.h, the canonical user, the health
// fields (PHI ones only for a caller that may read PHI) and the environment's declared
// attributes.
#include <boost/json.hpp>

#include "core/access.h"
#include "dialects/scim/resources.h"
#include "service/attribute_schema.h"

namespace roster::dialects::scim {
namespace json = boost::json;

namespace {

struct Attr {
  std::string_view name;
  std::string_view type = "string";  // string, boolean, decimal, integer, dateTime, reference, complex
  bool multi = false;
  bool required = false;
  bool case_exact = false;
  std::string_view mutability = "readWrite";
  std::string_view returned = "default";
  std::string_view uniqueness = "none";
  std::vector<Attr> sub = {};
  std::vector<std::string_view> reference_types = {};
  std::string_view description = {};
};

json::object AttrJson(const Attr& a) {
  json::object o{{"name", a.name},
                 {"type", a.type},
                 {"multiValued", a.multi},
                 {"description", a.description.empty() ? a.name : a.description},
                 {"required", a.required},
                 {"mutability", a.mutability},
                 {"returned", a.returned},
                 {"uniqueness", a.uniqueness}};
  if (a.type == "string" || a.type == "reference") o["caseExact"] = a.case_exact;
  if (!a.reference_types.empty()) {
    json::array r;
    for (auto t : a.reference_types) r.push_back(json::string(t));
    o["referenceTypes"] = std::move(r);
  }
  if (!a.sub.empty()) {
    json::array s;
    for (const auto& x : a.sub) s.push_back(AttrJson(x));
    o["subAttributes"] = std::move(s);
  }
  return o;
}

std::vector<Attr> Contact() {
  return {{.name = "value"}, {.name = "display", .mutability = "readOnly"}, {.name = "type"},
          {.name = "primary", .type = "boolean"}};
}

bool IsPhi(std::string_view name) { return core::IsPhiField(name); }

std::vector<Attr> UserAttributes(bool phi) {
  std::vector<Attr> out = {
      {.name = "userName", .required = true, .uniqueness = "server", .description = "Unique, case-insensitively"},
      {.name = "name",
       .type = "complex",
       .sub = {{.name = "formatted"}, {.name = "familyName"}, {.name = "givenName"}, {.name = "middleName"},
               {.name = "honorificPrefix"}, {.name = "honorificSuffix"}}},
      {.name = "displayName"},
      {.name = "nickName"},
      {.name = "profileUrl", .type = "reference", .reference_types = {"external"}},
      {.name = "title"},
      {.name = "userType"},
      {.name = "preferredLanguage"},
      {.name = "locale"},
      {.name = "timezone"},
      {.name = "active", .type = "boolean"},
      {.name = "password", .mutability = "writeOnly", .returned = "never"},
      {.name = "emails", .type = "complex", .multi = true, .sub = Contact()},
      {.name = "phoneNumbers", .type = "complex", .multi = true, .sub = Contact()},
      {.name = "ims", .type = "complex", .multi = true, .sub = Contact()},
      {.name = "photos",
       .type = "complex",
       .multi = true,
       .sub = {{.name = "value", .type = "reference", .reference_types = {"external"}}, {.name = "type"}}},
      {.name = "addresses",
       .type = "complex",
       .multi = true,
       .sub = {{.name = "streetAddress"}, {.name = "locality"}, {.name = "region"}, {.name = "postalCode"},
               {.name = "country"}, {.name = "type"}}},
      {.name = "groups",
       .type = "complex",
       .multi = true,
       .mutability = "readOnly",
       .sub = {{.name = "value", .mutability = "readOnly"},
               {.name = "$ref", .type = "reference", .mutability = "readOnly", .reference_types = {"Group"}},
               {.name = "display", .mutability = "readOnly"},
               {.name = "type", .mutability = "readOnly"}}},
      {.name = "entitlements", .type = "complex", .multi = true, .sub = Contact()},
      {.name = "roles", .type = "complex", .multi = true, .sub = Contact()},
      {.name = "x509Certificates", .type = "complex", .multi = true, .sub = Contact()},
  };
  if (!phi) std::erase_if(out, [](const Attr& a) { return IsPhi(a.name); });
  return out;
}

std::vector<Attr> EnterpriseAttributes() {
  return {{.name = "employeeNumber"}, {.name = "costCenter"}, {.name = "organization"}, {.name = "division"},
          {.name = "department"},
          {.name = "manager",
           .type = "complex",
           .sub = {{.name = "value"},
                   {.name = "$ref", .type = "reference", .reference_types = {"User"}},
                   {.name = "displayName", .mutability = "readOnly"}}}};
}

std::vector<Attr> HealthAttributes(bool phi) {
  std::vector<Attr> out = {
      {.name = "maidenName"},
      {.name = "birthDate", .description = "YYYY-MM-DD"},
      {.name = "gender"},
      {.name = "maritalStatus"},
      {.name = "religion"},
      {.name = "race"},
      {.name = "ethnicity"},
      {.name = "ssn", .description = "Social security number"},
      {.name = "confCode"},
      {.name = "mrns", .type = "complex", .multi = true, .sub = {{.name = "institutionId"}, {.name = "mrn"}}},
      {.name = "healthPlans",
       .type = "complex",
       .multi = true,
       .sub = {{.name = "institutionId"}, {.name = "type"}, {.name = "groupName"}, {.name = "groupId"},
               {.name = "memberId"}}},
      {.name = "guardians", .type = "complex", .multi = true, .sub = {{.name = "guardianId"}, {.name = "relationship"}}},
      {.name = "languages", .type = "complex", .multi = true, .sub = {{.name = "language"}, {.name = "mode"}}},
      {.name = "socialIds", .type = "complex", .multi = true, .sub = {{.name = "handle"}, {.name = "network"}}},
  };
  if (!phi) std::erase_if(out, [](const Attr& a) { return IsPhi(a.name); });
  return out;
}

std::vector<Attr> GroupAttributes() {
  return {{.name = "displayName", .required = true, .uniqueness = "server"},
          {.name = "members",
           .type = "complex",
           .multi = true,
           .sub = {{.name = "value", .mutability = "immutable"},
                   {.name = "$ref", .type = "reference", .mutability = "immutable", .reference_types = {"User", "Group"}},
                   {.name = "display", .mutability = "readOnly"},
                   {.name = "type", .mutability = "immutable"}}}};
}

json::object SchemaJson(const Context& ctx, std::string_view id, std::string_view name, std::string_view description,
                        const std::vector<Attr>& attrs, json::array extra = {}) {
  json::array list;
  for (const auto& a : attrs) list.push_back(AttrJson(a));
  for (auto& e : extra) list.push_back(std::move(e));
  return json::object{{"schemas", json::array{kSchemaSchema}},
                      {"id", id},
                      {"name", name},
                      {"description", description},
                      {"attributes", std::move(list)},
                      {"meta", json::object{{"resourceType", "Schema"},
                                            {"location", ctx.base + "/Schemas/" + std::string(id)}}}};
}

Outcome<std::vector<json::object>> AllSchemas(const Context& ctx) {
  const bool phi = ctx.principal.Has(core::kPhiRead);
  std::vector<json::object> out;
  out.push_back(SchemaJson(ctx, kUserSchema, "User", "User Account", UserAttributes(phi)));
  out.push_back(SchemaJson(ctx, kGroupSchema, "Group", "Group", GroupAttributes()));
  out.push_back(SchemaJson(ctx, kEnterpriseSchema, "EnterpriseUser", "Enterprise User", EnterpriseAttributes()));
  out.push_back(SchemaJson(ctx, kHealthSchema, "HealthUser",
                           phi ? "Health fields of the user (PHI among them)"
                               : "Health fields of the user (PHI ones are listed for credentials that may read PHI)",
                           HealthAttributes(phi)));
  auto schema = service::LoadAttributeSchema(ctx.s.records, ctx.principal.environment_id);
  if (!schema) return Fail(FromCore(schema.error()));
  json::array declared;
  for (const auto& a : schema->attributes) {
    if (!a.enabled || (a.phi && !phi)) continue;
    const std::string_view type = a.type == "BOOLEAN" ? "boolean" : a.type == "JSON" ? "complex" : "string";
    json::object o = AttrJson(Attr{.name = a.name,
                                   .type = type,
                                   .multi = a.multi_valued,
                                   .required = a.required,
                                   .uniqueness = a.unique ? "server" : "none",
                                   .description = a.description.empty() ? a.name : a.description});
    if (!a.enumerated.empty()) {
      json::array values;
      for (const auto& v : a.enumerated)
        if (!v.archived) values.push_back(json::string(v.value));
      o["canonicalValues"] = std::move(values);
    }
    declared.push_back(std::move(o));
  }
  out.push_back(SchemaJson(ctx, kAttributesSchema, "Attributes", "The environment's declared attributes", {},
                           std::move(declared)));
  return out;
}

json::object ResourceType(const Context& ctx, std::string_view name, std::string_view endpoint,
                          std::string_view schema, bool user) {
  json::object o{{"schemas", json::array{kResourceTypeSchema}},
                 {"id", name},
                 {"name", name},
                 {"endpoint", endpoint},
                 {"description", name},
                 {"schema", schema},
                 {"meta", json::object{{"resourceType", "ResourceType"},
                                       {"location", ctx.base + "/ResourceTypes/" + std::string(name)}}}};
  if (user) {
    json::array ext;
    for (auto urn : {kEnterpriseSchema, kHealthSchema, kAttributesSchema})
      ext.push_back(json::object{{"schema", urn}, {"required", false}});
    o["schemaExtensions"] = std::move(ext);
  } else {
    o["schemaExtensions"] = json::array();
  }
  return o;
}

}  // namespace

Result ServiceProviderConfig(const Context& ctx) {
  json::object o{
      {"schemas", json::array{kServiceProviderConfigSchema}},
      {"patch", json::object{{"supported", true}}},
      {"bulk", json::object{{"supported", true},
                            {"maxOperations", kMaxOperations},
                            {"maxPayloadSize", static_cast<std::int64_t>(ctx.max_payload)}}},
      {"filter", json::object{{"supported", true}, {"maxResults", kMaxResults}}},
      {"changePassword", json::object{{"supported", ctx.principal.Has(core::kPasswordSet)}}},
      {"sort", json::object{{"supported", true}}},
      {"etag", json::object{{"supported", true}}},
      {"authenticationSchemes",
       json::array{json::object{{"type", "oauthbearertoken"},
                                {"name", "Bearer token"},
                                {"description", "A token from `roster scim token create`, sent as "
                                                "Authorization: Bearer <token>"},
                                {"primary", true}}}},
      {"meta", json::object{{"resourceType", "ServiceProviderConfig"},
                            {"location", ctx.base + "/ServiceProviderConfig"}}}};
  return Reply{200, std::move(o), {}, std::nullopt};
}

Result ResourceTypes(const Context& ctx, const std::string& name) {
  std::vector<json::object> all = {ResourceType(ctx, "User", "/Users", kUserSchema, true),
                                   ResourceType(ctx, "Group", "/Groups", kGroupSchema, false)};
  if (!name.empty()) {
    for (auto& t : all)
      if (t["id"].as_string() == name) return Reply{200, std::move(t), {}, std::nullopt};
    return Fail(NotFoundError("No resource type named '" + name.substr(0, 100) + "'"));
  }
  std::vector<json::value> items(all.begin(), all.end());
  const auto n = static_cast<std::int64_t>(items.size());
  return Reply{200, ListResponse(std::move(items), n, 1), {}, std::nullopt};
}

Result Schemas(const Context& ctx, const std::string& id) {
  auto all = AllSchemas(ctx);
  if (!all) return Fail(all.error());
  if (!id.empty()) {
    for (auto& s : *all)
      if (IEquals(s["id"].as_string(), id)) return Reply{200, std::move(s), {}, std::nullopt};
    return Fail(NotFoundError("No schema '" + id.substr(0, 200) + "'"));
  }
  std::vector<json::value> items(all->begin(), all->end());
  const auto n = static_cast<std::int64_t>(items.size());
  return Reply{200, ListResponse(std::move(items), n, 1), {}, std::nullopt};
}

}  // namespace roster::dialects::scim
