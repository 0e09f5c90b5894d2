#include "core/profile_codec.h"

#include <boost/json.hpp>

#include "core/json_policy.h"

namespace roster::core {
namespace json = boost::json;
namespace {

// Writes `value` under `key` only when non-empty, keeping sealed rows small.
void Put(json::object& o, std::string_view key, const std::string& value) {
  if (!value.empty()) o[key] = value;
}

std::string Str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

template <class T, class F>
void PutList(json::object& o, std::string_view key, const std::vector<T>& items, F to_json) {
  if (items.empty()) return;
  json::array a;
  for (const auto& item : items) a.push_back(to_json(item));
  o[key] = std::move(a);
}

template <class T, class F>
std::vector<T> GetList(const json::object& o, std::string_view key, F from_json) {
  std::vector<T> out;
  const auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const auto& item : v->get_array())
    if (item.is_object()) out.push_back(from_json(item.get_object()));
  return out;
}

json::object ContactJson(const Contact& c) {
  json::object o;
  Put(o, "type", c.type);
  o["value"] = c.value;
  if (c.primary) o["primary"] = true;
  return o;
}
Contact ContactFrom(const json::object& o) {
  const auto* p = o.if_contains("primary");
  return Contact{Str(o, "type"), Str(o, "value"), p && p->is_bool() && p->get_bool()};
}

}  // namespace

std::string EncodeSealed(const User& user) {
  const Profile& p = user.profile;
  json::object o;
  o["username"] = user.username;
  if (user.archived) o["archived"] = true;
  if (user.locked_at_ms != 0) o["lockedAt"] = user.locked_at_ms;
  if (user.unlock_at_ms != 0) o["unlockAt"] = user.unlock_at_ms;
  Put(o, "externalId", user.external_id);
  if (!user.external_ids.empty()) {
    json::object ids;
    for (const auto& [source, value] : user.external_ids) ids[source] = value;
    o["externalIds"] = std::move(ids);
  }
  if (!user.attributes.empty()) {
    json::object attributes;
    for (const auto& [id, text] : user.attributes) {
      // Values were checked on write (CheckSealable), so none is dropped here.
      if (auto v = ParseStored(text)) attributes[id] = std::move(*v);
    }
    o["attributes"] = std::move(attributes);
  }
  if (!user.dialect_json.empty()) {
    json::object dialects;
    for (const auto& [name, text] : user.dialect_json) {
      if (auto v = ParseStored(text); v && v->is_object()) dialects[name] = std::move(*v);
    }
    o["dialects"] = std::move(dialects);
  }
  json::object name;
  Put(name, "formatted", p.name.formatted);
  Put(name, "givenName", p.name.given_name);
  Put(name, "middleName", p.name.middle_name);
  Put(name, "familyName", p.name.family_name);
  Put(name, "honorificPrefix", p.name.honorific_prefix);
  Put(name, "honorificSuffix", p.name.honorific_suffix);
  if (!name.empty()) o["name"] = std::move(name);
  Put(o, "displayName", p.display_name);
  Put(o, "nickName", p.nick_name);
  Put(o, "title", p.title);
  Put(o, "userType", p.user_type);
  Put(o, "preferredLanguage", p.preferred_language);
  Put(o, "locale", p.locale);
  Put(o, "timezone", p.timezone);
  Put(o, "profileUrl", p.profile_url);
  PutList(o, "emails", p.emails, ContactJson);
  PutList(o, "phoneNumbers", p.phone_numbers, ContactJson);
  PutList(o, "addresses", p.addresses, [](const Address& a) {
    json::object j;
    Put(j, "type", a.type);
    Put(j, "streetAddress", a.street_address);
    Put(j, "streetAddress2", a.street_address2);
    Put(j, "locality", a.locality);
    Put(j, "region", a.region);
    Put(j, "postalCode", a.postal_code);
    Put(j, "country", a.country);
    if (a.geocode) j["geocode"] = {{"latitude", a.geocode->latitude}, {"longitude", a.geocode->longitude}};
    return j;
  });
  PutList(o, "photos", p.photos, [](const Photo& ph) {
    return json::object{{"type", ph.type}, {"value", ph.value}};
  });
  json::object enterprise;
  Put(enterprise, "employeeNumber", p.enterprise.employee_number);
  Put(enterprise, "costCenter", p.enterprise.cost_center);
  Put(enterprise, "organization", p.enterprise.organization);
  Put(enterprise, "division", p.enterprise.division);
  Put(enterprise, "department", p.enterprise.department);
  Put(enterprise, "managerId", p.enterprise.manager_id);
  if (!enterprise.empty()) o["enterprise"] = std::move(enterprise);
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
  PutList(health, "mrns", p.mrns, [](const Mrn& m) {
    return json::object{{"institutionId", m.institution_id}, {"mrn", m.mrn}};
  });
  PutList(health, "healthPlans", p.health_plans, [](const HealthPlan& h) {
    return json::object{{"institutionId", h.institution_id}, {"type", h.type},
                        {"groupName", h.group_name}, {"groupId", h.group_id},
                        {"memberId", h.member_id}};
  });
  PutList(health, "guardians", p.guardians, [](const Guardian& g) {
    return json::object{{"guardianId", g.guardian_id}, {"relationship", g.relationship}};
  });
  PutList(health, "languages", p.languages, [](const Language& l) {
    return json::object{{"language", l.language}, {"mode", l.mode}};
  });
  PutList(health, "socialIds", p.social_ids, [](const SocialId& s) {
    return json::object{{"handle", s.handle}, {"network", s.network}};
  });
  if (!health.empty()) o["health"] = std::move(health);
  Put(o, "extras", p.extras_json);
  return json::serialize(o);
}

Status CheckSealable(const User& user) {
  for (const auto& [id, text] : user.attributes)
    if (auto st = CheckStoredText(text, "attributes." + id); !st) return st;
  for (const auto& [name, text] : user.dialect_json)
    if (auto st = CheckStoredText(text, name); !st) return st;
  return CheckStoredText(user.profile.extras_json, "extras");
}

Status DecodeSealed(std::string_view text, User& user) {
  auto parsed = ParseStored(text);
  if (!parsed || !parsed->is_object()) return Internal("sealed profile is not a JSON object");
  const json::object& o = parsed->get_object();
  Profile p;
  user.username = Str(o, "username");
  const auto* archived = o.if_contains("archived");
  user.archived = archived && archived->is_bool() && archived->get_bool();
  const auto* locked_at = o.if_contains("lockedAt");
  user.locked_at_ms = locked_at && locked_at->is_int64() ? locked_at->get_int64() : 0;
  const auto* unlock_at = o.if_contains("unlockAt");
  user.unlock_at_ms = unlock_at && unlock_at->is_int64() ? unlock_at->get_int64() : 0;
  user.external_id = Str(o, "externalId");
  user.external_ids.clear();
  if (const auto* ids = o.if_contains("externalIds"); ids && ids->is_object())
    for (const auto& [source, value] : ids->get_object())
      if (value.is_string()) user.external_ids[std::string(source)] = std::string(value.get_string());
  user.attributes.clear();
  if (const auto* a = o.if_contains("attributes"); a && a->is_object())
    for (const auto& [id, value] : a->get_object()) user.attributes[std::string(id)] = json::serialize(value);
  user.dialect_json.clear();
  if (const auto* d = o.if_contains("dialects"); d && d->is_object()) {
    for (const auto& [name, value] : d->get_object()) {
      if (!value.is_object()) continue;
      json::object entry = value.get_object();
      // Profiles sealed before attributes and external ids were canonical kept PingOne
      // custom values and the QuickBlox facebook_id in their dialect's entry.
      if (name == "pingone" && o.if_contains("attributes") == nullptr) {
        if (const auto* custom = entry.if_contains("custom"); custom && custom->is_object())
          for (const auto& [id, v] : custom->get_object()) user.attributes[std::string(id)] = json::serialize(v);
        entry.erase("custom");
      }
      if (name == "quickblox" && o.if_contains("externalIds") == nullptr) {
        if (const auto* fb = entry.if_contains("facebook_id"); fb && fb->is_string() && !fb->get_string().empty())
          user.external_ids["facebook"] = std::string(fb->get_string());
        entry.erase("facebook_id");
      }
      user.dialect_json[std::string(name)] = json::serialize(entry);
    }
  }
  if (const auto* n = o.if_contains("name"); n && n->is_object()) {
    const auto& name = n->get_object();
    p.name = Name{Str(name, "formatted"),  Str(name, "givenName"),
                  Str(name, "middleName"), Str(name, "familyName"),
                  Str(name, "honorificPrefix"), Str(name, "honorificSuffix")};
  }
  p.display_name = Str(o, "displayName");
  p.nick_name = Str(o, "nickName");
  p.title = Str(o, "title");
  p.user_type = Str(o, "userType");
  p.preferred_language = Str(o, "preferredLanguage");
  p.locale = Str(o, "locale");
  p.timezone = Str(o, "timezone");
  p.profile_url = Str(o, "profileUrl");
  p.emails = GetList<Contact>(o, "emails", ContactFrom);
  p.phone_numbers = GetList<Contact>(o, "phoneNumbers", ContactFrom);
  p.addresses = GetList<Address>(o, "addresses", [](const json::object& j) {
    Address a{Str(j, "type"),   Str(j, "streetAddress"), Str(j, "streetAddress2"),
              Str(j, "locality"), Str(j, "region"),      Str(j, "postalCode"),
              Str(j, "country"), std::nullopt};
    if (const auto* g = j.if_contains("geocode"); g && g->is_object()) {
      // A member that is not a number (only a damaged row holds one) leaves the
      // geocode out, as Str reads a non-string as empty: never an exception.
      const auto& go = g->get_object();
      Geocode geo;
      boost::system::error_code ec;
      if (const auto* la = go.if_contains("latitude")) geo.latitude = la->to_number<double>(ec);
      if (const auto* lo = go.if_contains("longitude"); lo && !ec) geo.longitude = lo->to_number<double>(ec);
      if (!ec) a.geocode = geo;
    }
    return a;
  });
  p.photos = GetList<Photo>(o, "photos", [](const json::object& j) {
    return Photo{Str(j, "type"), Str(j, "value")};
  });
  if (const auto* e = o.if_contains("enterprise"); e && e->is_object()) {
    const auto& enterprise = e->get_object();
    p.enterprise = Enterprise{Str(enterprise, "employeeNumber"), Str(enterprise, "costCenter"),
                              Str(enterprise, "organization"),   Str(enterprise, "division"),
                              Str(enterprise, "department"),     Str(enterprise, "managerId")};
  }
  if (const auto* h = o.if_contains("health"); h && h->is_object()) {
    const auto& health = h->get_object();
    p.maiden_name = Str(health, "maidenName");
    p.birth_date = Str(health, "birthDate");
    p.gender = Str(health, "gender");
    p.marital_status = Str(health, "maritalStatus");
    p.religion = Str(health, "religion");
    p.race = Str(health, "race");
    p.ethnicity = Str(health, "ethnicity");
    p.ssn = Str(health, "ssn");
    p.conf_code = Str(health, "confCode");
    p.mrns = GetList<Mrn>(health, "mrns", [](const json::object& j) {
      return Mrn{Str(j, "institutionId"), Str(j, "mrn")};
    });
    p.health_plans = GetList<HealthPlan>(health, "healthPlans", [](const json::object& j) {
      return HealthPlan{Str(j, "institutionId"), Str(j, "type"), Str(j, "groupName"),
                        Str(j, "groupId"), Str(j, "memberId")};
    });
    p.guardians = GetList<Guardian>(health, "guardians", [](const json::object& j) {
      return Guardian{Str(j, "guardianId"), Str(j, "relationship")};
    });
    p.languages = GetList<Language>(health, "languages", [](const json::object& j) {
      return Language{Str(j, "language"), Str(j, "mode")};
    });
    p.social_ids = GetList<SocialId>(health, "socialIds", [](const json::object& j) {
      return SocialId{Str(j, "handle"), Str(j, "network")};
    });
  }
  p.extras_json = Str(o, "extras");
  user.profile = std::move(p);
  return {};
}

}  // namespace roster::core
