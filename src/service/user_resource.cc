#include "service/user_resource.h"

#include "core/json_policy.h"

#include <algorithm>
#include <cctype>
#include <functional>

namespace roster::service {
namespace json = boost::json;

namespace {

// What only SCIM carries, kept in the user's "scim" dialect entry.
constexpr const char* kDialect = "scim";
constexpr std::string_view kOwnLists[] = {"ims", "roles", "entitlements", "x509Certificates"};

void Put(json::object& o, std::string_view key, const std::string& value) {
  if (!value.empty()) o[key] = value;
}

json::object ContactJson(const core::Contact& c) {
  json::object o{{"value", c.value}};
  Put(o, "type", c.type);
  o["primary"] = c.primary;
  return o;
}

template <class T, class F>
void PutList(json::object& o, std::string_view key, const std::vector<T>& items, F render) {
  if (items.empty()) return;
  json::array a;
  for (const auto& item : items) a.push_back(render(item));
  o[key] = std::move(a);
}

json::object DialectEntry(const core::User& user) {
  auto it = user.dialect_json.find(kDialect);
  if (it == user.dialect_json.end()) return {};
  boost::system::error_code ec;
  json::value v = core::ParseStored(it->second, ec);
  return !ec && v.is_object() ? v.get_object() : json::object();
}

// ---- reading a body -------------------------------------------------------------------

std::unexpected<core::Error> Invalid(std::string_view attribute, std::string_view what) {
  return core::InvalidArgument(std::string(attribute), std::string(attribute) + " " + std::string(what));
}
std::unexpected<core::Error> Fail(std::unexpected<core::Error> e) { return e; }
std::unexpected<core::Error> Fail(const core::Error& e) { return std::unexpected(e); }

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
const json::value* Member(const json::object& o, std::string_view name) { return ResourceMember(o, name); }

// A string attribute: absent or null clears it.
core::Result<std::string> String(const json::object& o, std::string_view name, std::string_view label) {
  const auto* v = Member(o, name);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return Fail(Invalid(label, "must be a string"));
  return std::string(v->get_string());
}

// A boolean, also as the strings "true"/"false" in any case (Microsoft Entra ID sends
// "False").
core::Result<std::optional<bool>> Boolean(const json::object& o, std::string_view name, std::string_view label) {
  const auto* v = Member(o, name);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (v->is_bool()) return std::optional<bool>(v->get_bool());
  if (v->is_string()) {
    if (IEquals(v->get_string(), "true")) return std::optional<bool>(true);
    if (IEquals(v->get_string(), "false")) return std::optional<bool>(false);
  }
  return Fail(Invalid(label, "must be a boolean"));
}

// A multi-valued complex attribute: absent or null is empty.
template <class T>
core::Result<std::vector<T>> List(const json::object& o, std::string_view name,
                             const std::function<core::Result<T>(const json::object&, const std::string&)>& read) {
  std::vector<T> out;
  const auto* v = Member(o, name);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) return Fail(Invalid(name, "must be an array"));
  std::size_t i = 0;
  for (const auto& e : v->get_array()) {
    const std::string label = std::string(name) + "[" + std::to_string(i++) + "]";
    if (!e.is_object()) return Fail(Invalid(label, "must be an object"));
    auto item = read(e.get_object(), label);
    if (!item) return Fail(item.error());
    out.push_back(std::move(*item));
  }
  return out;
}

core::Result<core::Contact> ReadContact(const json::object& o, const std::string& label) {
  core::Contact c;
  auto value = String(o, "value", label + ".value");
  if (!value) return Fail(value.error());
  if (value->empty()) return Fail(Invalid(label + ".value", "is required"));
  auto type = String(o, "type", label + ".type");
  if (!type) return Fail(type.error());
  auto primary = Boolean(o, "primary", label + ".primary");
  if (!primary) return Fail(primary.error());
  return core::Contact{std::move(*type), std::move(*value), primary->value_or(false)};
}

#define SCIM_STRING(target, object, name, label)            \
  do {                                                      \
    auto v_ = String(object, name, label);                  \
    if (!v_) return Fail(v_.error());                       \
    target = std::move(*v_);                                \
  } while (false)

core::Result<core::Address> ReadAddress(const json::object& o, const std::string& label) {
  core::Address a;
  std::string street;
  SCIM_STRING(a.type, o, "type", label + ".type");
  SCIM_STRING(street, o, "streetAddress", label + ".streetAddress");
  SCIM_STRING(a.locality, o, "locality", label + ".locality");
  SCIM_STRING(a.region, o, "region", label + ".region");
  SCIM_STRING(a.postal_code, o, "postalCode", label + ".postalCode");
  SCIM_STRING(a.country, o, "country", label + ".country");
  // streetAddress is one string in SCIM and may hold newlines; the second line of the
  // canonical address is what follows the first newline.
  if (auto nl = street.find('\n'); nl != std::string::npos) {
    a.street_address = street.substr(0, nl);
    a.street_address2 = street.substr(nl + 1);
  } else {
    a.street_address = std::move(street);
  }
  return a;
}

core::Result<core::Photo> ReadPhoto(const json::object& o, const std::string& label) {
  core::Photo p;
  SCIM_STRING(p.value, o, "value", label + ".value");
  SCIM_STRING(p.type, o, "type", label + ".type");
  if (p.value.empty()) return Fail(Invalid(label + ".value", "is required"));
  return p;
}

core::Result<void> ReadHealth(const json::object& h, core::Profile& p) {
  const std::string u = std::string(kHealthSchema) + ":";
  SCIM_STRING(p.maiden_name, h, "maidenName", u + "maidenName");
  SCIM_STRING(p.birth_date, h, "birthDate", u + "birthDate");
  SCIM_STRING(p.gender, h, "gender", u + "gender");
  SCIM_STRING(p.marital_status, h, "maritalStatus", u + "maritalStatus");
  SCIM_STRING(p.religion, h, "religion", u + "religion");
  SCIM_STRING(p.race, h, "race", u + "race");
  SCIM_STRING(p.ethnicity, h, "ethnicity", u + "ethnicity");
  SCIM_STRING(p.ssn, h, "ssn", u + "ssn");
  SCIM_STRING(p.conf_code, h, "confCode", u + "confCode");
  auto mrns = List<core::Mrn>(h, "mrns", [](const json::object& o, const std::string& l) -> core::Result<core::Mrn> {
    core::Mrn m;
    SCIM_STRING(m.institution_id, o, "institutionId", l + ".institutionId");
    SCIM_STRING(m.mrn, o, "mrn", l + ".mrn");
    return m;
  });
  if (!mrns) return Fail(mrns.error());
  p.mrns = std::move(*mrns);
  auto plans = List<core::HealthPlan>(
      h, "healthPlans", [](const json::object& o, const std::string& l) -> core::Result<core::HealthPlan> {
        core::HealthPlan hp;
        SCIM_STRING(hp.institution_id, o, "institutionId", l + ".institutionId");
        SCIM_STRING(hp.type, o, "type", l + ".type");
        SCIM_STRING(hp.group_name, o, "groupName", l + ".groupName");
        SCIM_STRING(hp.group_id, o, "groupId", l + ".groupId");
        SCIM_STRING(hp.member_id, o, "memberId", l + ".memberId");
        return hp;
      });
  if (!plans) return Fail(plans.error());
  p.health_plans = std::move(*plans);
  auto guardians =
      List<core::Guardian>(h, "guardians", [](const json::object& o, const std::string& l) -> core::Result<core::Guardian> {
        core::Guardian g;
        SCIM_STRING(g.guardian_id, o, "guardianId", l + ".guardianId");
        SCIM_STRING(g.relationship, o, "relationship", l + ".relationship");
        return g;
      });
  if (!guardians) return Fail(guardians.error());
  p.guardians = std::move(*guardians);
  auto languages =
      List<core::Language>(h, "languages", [](const json::object& o, const std::string& l) -> core::Result<core::Language> {
        core::Language g;
        SCIM_STRING(g.language, o, "language", l + ".language");
        SCIM_STRING(g.mode, o, "mode", l + ".mode");
        return g;
      });
  if (!languages) return Fail(languages.error());
  p.languages = std::move(*languages);
  auto social =
      List<core::SocialId>(h, "socialIds", [](const json::object& o, const std::string& l) -> core::Result<core::SocialId> {
        core::SocialId g;
        SCIM_STRING(g.handle, o, "handle", l + ".handle");
        SCIM_STRING(g.network, o, "network", l + ".network");
        return g;
      });
  if (!social) return Fail(social.error());
  p.social_ids = std::move(*social);
  return {};
}

}  // namespace

const json::value* ResourceMember(const json::object& o, std::string_view name) {
  if (const auto* v = o.if_contains(name)) return v;
  for (const auto& [key, value] : o)
    if (IEquals(key, name)) return &value;
  return nullptr;
}

json::object RenderUserResource(const core::User& user, const RenderContext& ctx) {
  const core::Profile& p = user.profile;
  json::array schemas{kUserSchema};
  json::object o;
  o["id"] = user.id;
  Put(o, "externalId", user.external_id);
  o["userName"] = user.username;
  json::object name;
  Put(name, "formatted", p.name.formatted);
  Put(name, "familyName", p.name.family_name);
  Put(name, "givenName", p.name.given_name);
  Put(name, "middleName", p.name.middle_name);
  Put(name, "honorificPrefix", p.name.honorific_prefix);
  Put(name, "honorificSuffix", p.name.honorific_suffix);
  if (!name.empty()) o["name"] = std::move(name);
  Put(o, "displayName", p.display_name);
  Put(o, "nickName", p.nick_name);
  Put(o, "profileUrl", p.profile_url);
  Put(o, "title", p.title);
  Put(o, "userType", p.user_type);
  Put(o, "preferredLanguage", p.preferred_language);
  Put(o, "locale", p.locale);
  Put(o, "timezone", p.timezone);
  o["active"] = user.active;
  PutList(o, "emails", p.emails, ContactJson);
  PutList(o, "phoneNumbers", p.phone_numbers, ContactJson);
  PutList(o, "addresses", p.addresses, [](const core::Address& a) {
    json::object j;
    Put(j, "type", a.type);
    std::string street = a.street_address;
    if (!a.street_address2.empty()) street += (street.empty() ? "" : "\n") + a.street_address2;
    Put(j, "streetAddress", street);
    Put(j, "locality", a.locality);
    Put(j, "region", a.region);
    Put(j, "postalCode", a.postal_code);
    Put(j, "country", a.country);
    return j;
  });
  PutList(o, "photos", p.photos, [](const core::Photo& ph) {
    json::object j{{"value", ph.value}};
    Put(j, "type", ph.type);
    return j;
  });
  const json::object own = DialectEntry(user);
  for (auto key : kOwnLists)
    if (const auto* v = own.if_contains(key); v && v->is_array() && !v->get_array().empty()) o[key] = *v;
  if (!ctx.groups.empty()) {
    json::array groups;
    for (const auto& g : ctx.groups)
      groups.push_back(json::object{{"value", g.id},
                                    {"$ref", ctx.base + "/Groups/" + g.id},
                                    {"display", g.display},
                                    {"type", g.direct ? "direct" : "indirect"}});
    o["groups"] = std::move(groups);
  }
  if (!p.enterprise.empty()) {
    const core::Enterprise& e = p.enterprise;
    json::object ent;
    Put(ent, "employeeNumber", e.employee_number);
    Put(ent, "costCenter", e.cost_center);
    Put(ent, "organization", e.organization);
    Put(ent, "division", e.division);
    Put(ent, "department", e.department);
    if (!e.manager_id.empty())
      ent["manager"] = ctx.base.empty()
                           ? json::object{{"value", e.manager_id}}
                           : json::object{{"value", e.manager_id}, {"$ref", ctx.base + "/Users/" + e.manager_id}};
    schemas.push_back(json::string(kEnterpriseSchema));
    o[kEnterpriseSchema] = std::move(ent);
  }
  json::object health;
  Put(health, "maidenName", p.maiden_name);
  Put(health, "birthDate", p.birth_date);
  Put(health, "gender", p.gender);
  Put(health, "maritalStatus", p.marital_status);
  Put(health, "religion", p.religion);
  Put(health, "race", p.race);
  Put(health, "ethnicity", p.ethnicity);
  Put(health, "ssn", p.ssn);
  Put(health, "confCode", p.conf_code);
  PutList(health, "mrns", p.mrns, [](const core::Mrn& m) {
    return json::object{{"institutionId", m.institution_id}, {"mrn", m.mrn}};
  });
  PutList(health, "healthPlans", p.health_plans, [](const core::HealthPlan& h) {
    return json::object{{"institutionId", h.institution_id}, {"type", h.type}, {"groupName", h.group_name},
                        {"groupId", h.group_id}, {"memberId", h.member_id}};
  });
  PutList(health, "guardians", p.guardians, [](const core::Guardian& g) {
    return json::object{{"guardianId", g.guardian_id}, {"relationship", g.relationship}};
  });
  PutList(health, "languages", p.languages, [](const core::Language& l) {
    return json::object{{"language", l.language}, {"mode", l.mode}};
  });
  PutList(health, "socialIds", p.social_ids, [](const core::SocialId& s) {
    return json::object{{"handle", s.handle}, {"network", s.network}};
  });
  if (!health.empty()) {
    schemas.push_back(json::string(kHealthSchema));
    o[kHealthSchema] = std::move(health);
  }
  if (!user.attributes.empty() && ctx.schema != nullptr) {
    json::object attrs;
    for (const auto& [id, text] : user.attributes) {
      const auto* def = ctx.schema->ById(id);
      if (def == nullptr || !def->enabled) continue;
      boost::system::error_code ec;
      json::value v = core::ParseStored(text, ec);
      if (!ec) attrs[def->name] = std::move(v);
    }
    if (!attrs.empty()) {
      schemas.push_back(json::string(kAttributesSchema));
      o[kAttributesSchema] = std::move(attrs);
    }
  }
  o["schemas"] = std::move(schemas);
  // "schemas" first, as every example of RFC 7643 has it.
  json::object ordered;
  ordered["schemas"] = o["schemas"];
  for (auto& [k, v] : o)
    if (k != "schemas") ordered[k] = std::move(v);
  return ordered;
}

core::Result<UserInput> ApplyUserResource(const json::object& body, core::User& user, const core::AttributeSchema* schema) {
  UserInput input;
  core::Profile& p = user.profile;
  const core::Profile before = p;
  p = core::Profile{};
  // Kept: what SCIM cannot express.
  p.extras_json = before.extras_json;

  auto username = String(body, "userName", "userName");
  if (!username) return Fail(username.error());
  if (username->empty()) return Fail(Invalid("userName", "is required"));
  user.username = std::move(*username);
  SCIM_STRING(user.external_id, body, "externalId", "externalId");
  if (const auto* n = Member(body, "name"); n != nullptr && !n->is_null()) {
    if (!n->is_object()) return Fail(Invalid("name", "must be an object"));
    const auto& no = n->get_object();
    SCIM_STRING(p.name.formatted, no, "formatted", "name.formatted");
    SCIM_STRING(p.name.family_name, no, "familyName", "name.familyName");
    SCIM_STRING(p.name.given_name, no, "givenName", "name.givenName");
    SCIM_STRING(p.name.middle_name, no, "middleName", "name.middleName");
    SCIM_STRING(p.name.honorific_prefix, no, "honorificPrefix", "name.honorificPrefix");
    SCIM_STRING(p.name.honorific_suffix, no, "honorificSuffix", "name.honorificSuffix");
  }
  SCIM_STRING(p.display_name, body, "displayName", "displayName");
  SCIM_STRING(p.nick_name, body, "nickName", "nickName");
  SCIM_STRING(p.profile_url, body, "profileUrl", "profileUrl");
  SCIM_STRING(p.title, body, "title", "title");
  SCIM_STRING(p.user_type, body, "userType", "userType");
  SCIM_STRING(p.preferred_language, body, "preferredLanguage", "preferredLanguage");
  SCIM_STRING(p.locale, body, "locale", "locale");
  SCIM_STRING(p.timezone, body, "timezone", "timezone");
  auto active = Boolean(body, "active", "active");
  if (!active) return Fail(active.error());
  if (*active) user.active = **active;
  auto emails = List<core::Contact>(body, "emails", ReadContact);
  if (!emails) return Fail(emails.error());
  p.emails = std::move(*emails);
  auto phones = List<core::Contact>(body, "phoneNumbers", ReadContact);
  if (!phones) return Fail(phones.error());
  p.phone_numbers = std::move(*phones);
  auto addresses = List<core::Address>(body, "addresses", ReadAddress);
  if (!addresses) return Fail(addresses.error());
  p.addresses = std::move(*addresses);
  auto photos = List<core::Photo>(body, "photos", ReadPhoto);
  if (!photos) return Fail(photos.error());
  p.photos = std::move(*photos);

  json::object own = DialectEntry(user);
  for (auto key : kOwnLists) {
    own.erase(key);
    const auto* v = Member(body, key);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_array()) return Fail(Invalid(key, "must be an array"));
    for (const auto& e : v->get_array())
      if (!e.is_object()) return Fail(Invalid(key, "must be an array of objects"));
    if (!v->get_array().empty()) own[key] = *v;
  }
  if (own.empty()) user.dialect_json.erase(kDialect);
  else user.dialect_json[kDialect] = json::serialize(own);

  if (const auto* pw = Member(body, "password"); pw != nullptr && !pw->is_null()) {
    if (!pw->is_string() || pw->get_string().empty()) return Fail(Invalid("password", "must be a non-empty string"));
    input.password = std::string(pw->get_string());
  }

  if (const auto* e = Member(body, kEnterpriseSchema); e != nullptr && !e->is_null()) {
    if (!e->is_object()) return Fail(Invalid(kEnterpriseSchema, "must be an object"));
    const auto& eo = e->get_object();
    const std::string u = std::string(kEnterpriseSchema) + ":";
    SCIM_STRING(p.enterprise.employee_number, eo, "employeeNumber", u + "employeeNumber");
    SCIM_STRING(p.enterprise.cost_center, eo, "costCenter", u + "costCenter");
    SCIM_STRING(p.enterprise.organization, eo, "organization", u + "organization");
    SCIM_STRING(p.enterprise.division, eo, "division", u + "division");
    SCIM_STRING(p.enterprise.department, eo, "department", u + "department");
    if (const auto* m = Member(eo, "manager"); m != nullptr && !m->is_null()) {
      // {"value": id}; or, as providers send, the id as a string, or a list of one
      // reference (Microsoft Entra ID's PATCH of "manager").
      if (m->is_array() && m->get_array().size() == 1) m = &m->get_array().front();
      if (m->is_string()) {
        p.enterprise.manager_id = std::string(m->get_string());
      } else if (m->is_object()) {
        SCIM_STRING(p.enterprise.manager_id, m->get_object(), "value", u + "manager.value");
      } else {
        return Fail(Invalid(u + "manager", "must be an object"));
      }
      if (p.enterprise.manager_id.size() > 255) return Fail(Invalid(u + "manager.value", "is too long"));
    }
  }
  if (const auto* h = Member(body, kHealthSchema); h != nullptr && !h->is_null()) {
    if (!h->is_object()) return Fail(Invalid(kHealthSchema, "must be an object"));
    if (auto st = ReadHealth(h->get_object(), p); !st) return Fail(st.error());
  }
  // Declared attributes: the extension replaces the values of every enabled attribute.
  std::map<std::string, std::string> attributes;
  for (const auto& [id, text] : user.attributes) {
    const auto* def = schema != nullptr ? schema->ById(id) : nullptr;
    if (def == nullptr || !def->enabled) attributes[id] = text;  // not expressible here: kept
  }
  if (const auto* a = Member(body, kAttributesSchema); a != nullptr && !a->is_null()) {
    if (!a->is_object()) return Fail(Invalid(kAttributesSchema, "must be an object"));
    for (const auto& [name, value] : a->get_object()) {
      const std::string label = std::string(kAttributesSchema) + ":" + std::string(name);
      const auto* def = schema != nullptr ? schema->Enabled(name) : nullptr;
      if (def == nullptr) return Fail(Invalid(label, "is not an attribute of this environment"));
      if (value.is_null()) continue;
      attributes[def->id] = json::serialize(value);
    }
  }
  user.attributes = std::move(attributes);
  return input;
}

}  // namespace roster::service
