#include "dialects/catalyze/mapping.h"

#include "core/json_policy.h"

#include <boost/json.hpp>

#include <cmath>

#include "core/rules.h"

namespace roster::dialects::catalyze {
namespace json = boost::json;
using core::Contact;
using core::InvalidArgument;
using core::Status;

namespace {

constexpr std::size_t kMaxShort = 256;
constexpr std::size_t kMaxItems = 32;

// Reads an optional string member into `out`: absent leaves it, null clears it.
Status Text(const json::object& o, std::string_view key, const std::string& path, std::string& out,
            std::size_t max = kMaxShort) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (v->is_null()) {
    out.clear();
    return {};
  }
  if (!v->is_string()) return InvalidArgument(path, path + " must be a string");
  const auto& s = v->get_string();
  if (!core::IsValidUtf8(s)) return InvalidArgument(path, path + " must be valid UTF-8");
  if (core::CodePoints(s) > max)
    return InvalidArgument(path, path + " must be at most " + std::to_string(max) + " characters");
  out.assign(s.data(), s.size());
  return {};
}

// Yields the object at `key` (nullptr if absent or null); errors if another type.
core::Result<const json::object*> Object(const json::object& o, std::string_view key, const std::string& path,
                                         bool* is_null = nullptr) {
  const auto* v = o.if_contains(key);
  if (is_null) *is_null = v && v->is_null();
  if (!v || v->is_null()) return nullptr;
  if (!v->is_object()) return InvalidArgument(path, path + " must be an object");
  return &v->get_object();
}

// Replaces `out` with the array at `key`, each element an object read by `read`.
template <class T, class F>
Status List(const json::object& o, std::string_view key, std::vector<T>& out, F read) {
  const std::string path(key);
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (v->is_null()) {
    out.clear();
    return {};
  }
  if (!v->is_array()) return InvalidArgument(path, path + " must be an array");
  const auto& a = v->get_array();
  if (a.size() > kMaxItems)
    return InvalidArgument(path, path + " must have at most " + std::to_string(kMaxItems) + " entries");
  std::vector<T> items;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    if (!a[i].is_object()) return InvalidArgument(item_path, item_path + " must be an object");
    T item{};
    if (auto st = read(a[i].get_object(), item_path + ".", item); !st) return st;
    items.push_back(std::move(item));
  }
  out = std::move(items);
  return {};
}

// Catalyze's four email slots over canonical typed contacts: primary is the contact
// flagged primary; work and other are the first non-primary of that type; secondary is
// the first non-primary "home". Contacts Catalyze has no slot for are kept as they are.
struct EmailSlots {
  std::string primary, secondary, work, other;
  std::vector<Contact> rest;
};
constexpr std::string_view kEmailSlots[] = {"primary", "secondary", "work", "other"};

EmailSlots ToEmailSlots(const std::vector<Contact>& emails) {
  EmailSlots s;
  for (const auto& e : emails) {
    std::string* slot = nullptr;
    if (e.primary) slot = &s.primary;
    else if (e.type == "work") slot = &s.work;
    else if (e.type == "other") slot = &s.other;
    else if (e.type == "home") slot = &s.secondary;
    if (slot && slot->empty()) *slot = e.value;
    else s.rest.push_back(e);
  }
  return s;
}

std::vector<Contact> FromEmailSlots(const EmailSlots& s) {
  std::vector<Contact> out;
  if (!s.primary.empty()) out.push_back({"home", s.primary, true});
  if (!s.secondary.empty()) out.push_back({"home", s.secondary, false});
  if (!s.work.empty()) out.push_back({"work", s.work, false});
  if (!s.other.empty()) out.push_back({"other", s.other, false});
  out.insert(out.end(), s.rest.begin(), s.rest.end());
  return out;
}

// Phones: one slot per type; `preferred` names the slot flagged primary.
constexpr std::string_view kPhoneSlots[] = {"home", "mobile", "work", "other"};
struct PhoneSlots {
  std::string values[4];
  std::string preferred;
  std::vector<Contact> rest;
};

PhoneSlots ToPhoneSlots(const std::vector<Contact>& phones) {
  PhoneSlots s;
  for (const auto& p : phones) {
    bool placed = false;
    for (std::size_t i = 0; i < 4 && !placed; ++i) {
      if (p.type == kPhoneSlots[i] && s.values[i].empty()) {
        s.values[i] = p.value;
        if (p.primary) s.preferred = p.type;
        placed = true;
      }
    }
    if (!placed) s.rest.push_back(p);
  }
  return s;
}

std::vector<Contact> FromPhoneSlots(const PhoneSlots& s) {
  std::vector<Contact> out;
  for (std::size_t i = 0; i < 4; ++i)
    if (!s.values[i].empty()) out.push_back({std::string(kPhoneSlots[i]), s.values[i], s.preferred == kPhoneSlots[i]});
  out.insert(out.end(), s.rest.begin(), s.rest.end());
  return out;
}

bool IsPhone(std::string_view v) {
  if (v.empty() || v.size() > 32) return false;
  int digits = 0;
  for (char c : v) {
    if (c >= '0' && c <= '9') ++digits;
    else if (c != '+' && c != '-' && c != ' ' && c != '(' && c != ')' && c != '.' && c != 'x') return false;
  }
  return digits >= 3;
}

Status ApplyEmail(const json::object& body, core::Profile& p) {
  bool cleared = false;
  auto obj = Object(body, "email", "email", &cleared);
  if (!obj) return std::unexpected(obj.error());
  if (cleared) return InvalidArgument("email", "email cannot be removed: email.primary is required");
  if (!*obj) return {};
  EmailSlots slots = ToEmailSlots(p.emails);
  std::string* targets[] = {&slots.primary, &slots.secondary, &slots.work, &slots.other};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string path = "email." + std::string(kEmailSlots[i]);
    if (auto st = Text(**obj, kEmailSlots[i], path, *targets[i], 254); !st) return st;
    if (!targets[i]->empty() && !core::IsValidEmail(*targets[i]))
      return InvalidArgument(path, path + " must be a valid email address");
  }
  p.emails = FromEmailSlots(slots);
  return {};
}

Status ApplyPhones(const json::object& body, core::Profile& p) {
  bool cleared = false;
  auto obj = Object(body, "phoneNumber", "phoneNumber", &cleared);
  if (!obj) return std::unexpected(obj.error());
  PhoneSlots slots = ToPhoneSlots(p.phone_numbers);
  if (cleared) {
    p.phone_numbers = std::move(slots.rest);
    return {};
  }
  if (!*obj) return {};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string path = "phoneNumber." + std::string(kPhoneSlots[i]);
    if (auto st = Text(**obj, kPhoneSlots[i], path, slots.values[i], 32); !st) return st;
    if (!slots.values[i].empty() && !IsPhone(slots.values[i]))
      return InvalidArgument(path, path + " must be a phone number (digits, spaces, + - ( ) . x)");
  }
  if (auto st = Text(**obj, "preferred", "phoneNumber.preferred", slots.preferred, 16); !st) return st;
  if (!slots.preferred.empty()) {
    bool known = false;
    for (std::size_t i = 0; i < 4; ++i) known = known || slots.preferred == kPhoneSlots[i];
    if (!known)
      return InvalidArgument("phoneNumber.preferred", "phoneNumber.preferred must be one of home, mobile, work, other");
  }
  p.phone_numbers = FromPhoneSlots(slots);
  return {};
}

Status ApplyName(const json::object& body, core::Profile& p) {
  bool cleared = false;
  auto obj = Object(body, "name", "name", &cleared);
  if (!obj) return std::unexpected(obj.error());
  if (cleared) {
    p.name = {};
    p.maiden_name.clear();
    return {};
  }
  if (!*obj) return {};
  const json::object& n = **obj;
  if (auto st = Text(n, "prefix", "name.prefix", p.name.honorific_prefix); !st) return st;
  if (auto st = Text(n, "firstName", "name.firstName", p.name.given_name); !st) return st;
  if (auto st = Text(n, "middleName", "name.middleName", p.name.middle_name); !st) return st;
  if (auto st = Text(n, "lastName", "name.lastName", p.name.family_name); !st) return st;
  if (auto st = Text(n, "maidenName", "name.maidenName", p.maiden_name); !st) return st;
  if (auto st = Text(n, "suffix", "name.suffix", p.name.honorific_suffix); !st) return st;
  return {};
}

core::Result<double> Coordinate(const json::object& g, std::string_view key, const std::string& path, double limit) {
  const auto* v = g.if_contains(key);
  if (!v || !v->is_number()) return InvalidArgument(path, path + " must be a number");
  const double d = v->to_number<double>();
  if (!std::isfinite(d) || d < -limit || d > limit)
    return InvalidArgument(path, path + " must be between " + std::to_string(static_cast<int>(-limit)) + " and " +
                                     std::to_string(static_cast<int>(limit)));
  return d;
}

Status ReadAddress(const json::object& o, const std::string& at, core::Address& a) {
  if (auto st = Text(o, "type", at + "type", a.type); !st) return st;
  if (auto st = Text(o, "addressLine1", at + "addressLine1", a.street_address); !st) return st;
  if (auto st = Text(o, "addressLine2", at + "addressLine2", a.street_address2); !st) return st;
  if (auto st = Text(o, "city", at + "city", a.locality); !st) return st;
  if (auto st = Text(o, "state", at + "state", a.region); !st) return st;
  if (auto st = Text(o, "zipCode", at + "zipCode", a.postal_code, 32); !st) return st;
  if (auto st = Text(o, "country", at + "country", a.country); !st) return st;
  auto geo = Object(o, "geocode", at + "geocode");
  if (!geo) return std::unexpected(geo.error());
  if (*geo) {
    auto lat = Coordinate(**geo, "latitude", at + "geocode.latitude", 90);
    if (!lat) return std::unexpected(lat.error());
    auto lon = Coordinate(**geo, "longitude", at + "geocode.longitude", 180);
    if (!lon) return std::unexpected(lon.error());
    a.geocode = core::Geocode{*lat, *lon};
  }
  return {};
}

Status SetPhoto(const json::object& body, std::string_view key, std::string_view type, core::Profile& p) {
  if (!body.contains(key)) return {};
  std::string value;
  for (const auto& ph : p.photos)
    if (ph.type == type) value = ph.value;
  if (auto st = Text(body, key, std::string(key), value, 2048); !st) return st;
  std::erase_if(p.photos, [&](const core::Photo& ph) { return ph.type == type; });
  if (!value.empty()) p.photos.push_back({std::string(type), value});
  return {};
}

void PutText(json::object& o, std::string_view key, const std::string& value) {
  if (!value.empty()) o[key] = value;
}

}  // namespace

Status ApplyFields(const json::object& body, core::User& user, std::int64_t now_ms) {
  core::Profile& p = user.profile;
  if (const auto* v = body.if_contains("username")) {
    if (!v->is_string()) return InvalidArgument("username", "username must be a string");
    if (auto folded = core::FoldUsername(v->get_string()); !folded) return std::unexpected(folded.error());
    user.username.assign(v->get_string().data(), v->get_string().size());
  }
  if (auto st = ApplyEmail(body, p); !st) return st;
  if (auto st = ApplyName(body, p); !st) return st;
  if (auto st = ApplyPhones(body, p); !st) return st;
  // The SDKs' own `type` (the iOS tests save "Physician"): the canonical user type.
  if (auto st = Text(body, "type", "type", p.user_type); !st) return st;
  if (auto st = Text(body, "dob", "dob", p.birth_date, 10); !st) return st;
  if (!p.birth_date.empty()) {
    const auto date = core::ParseDate(p.birth_date);
    if (!date) return InvalidArgument("dob", "dob must be a real date written YYYY-MM-DD");
    if (!core::AgeOn(*date, now_ms)) return InvalidArgument("dob", "dob must not be in the future");
  }
  if (auto st = List(body, "addresses", p.addresses, ReadAddress); !st) return st;
  struct {
    std::string_view key;
    std::string* field;
  } texts[] = {{"gender", &p.gender},     {"maritalStatus", &p.marital_status}, {"religion", &p.religion},
               {"race", &p.race},         {"ethnicity", &p.ethnicity},         {"confCode", &p.conf_code},
               {"ssn", &p.ssn}};
  for (const auto& t : texts)
    if (auto st = Text(body, t.key, std::string(t.key), *t.field); !st) return st;
  if (auto st = List(body, "guardians", p.guardians,
                     [](const json::object& o, const std::string& at, core::Guardian& g) -> Status {
                       if (auto st = Text(o, "guardianId", at + "guardianId", g.guardian_id); !st) return st;
                       return Text(o, "relationship", at + "relationship", g.relationship);
                     });
      !st)
    return st;
  if (auto st = List(body, "languages", p.languages,
                     [](const json::object& o, const std::string& at, core::Language& l) -> Status {
                       if (auto st = Text(o, "language", at + "language", l.language); !st) return st;
                       return Text(o, "languageMode", at + "languageMode", l.mode);
                     });
      !st)
    return st;
  if (auto st = List(body, "socialIds", p.social_ids,
                     [](const json::object& o, const std::string& at, core::SocialId& s) -> Status {
                       if (auto st = Text(o, "handle", at + "handle", s.handle); !st) return st;
                       return Text(o, "network", at + "network", s.network);
                     });
      !st)
    return st;
  if (auto st = List(body, "mrns", p.mrns,
                     [](const json::object& o, const std::string& at, core::Mrn& m) -> Status {
                       if (auto st = Text(o, "institutionsId", at + "institutionsId", m.institution_id); !st)
                         return st;
                       return Text(o, "mrn", at + "mrn", m.mrn);
                     });
      !st)
    return st;
  if (auto st = List(body, "healthPlans", p.health_plans,
                     [](const json::object& o, const std::string& at, core::HealthPlan& h) -> Status {
                       if (auto st = Text(o, "institutionsId", at + "institutionsId", h.institution_id); !st)
                         return st;
                       if (auto st = Text(o, "type", at + "type", h.type); !st) return st;
                       if (auto st = Text(o, "groupName", at + "groupName", h.group_name); !st) return st;
                       if (auto st = Text(o, "groupId", at + "groupId", h.group_id); !st) return st;
                       return Text(o, "memberId", at + "memberId", h.member_id);
                     });
      !st)
    return st;
  if (auto st = SetPhoto(body, "avatar", "thumbnail", p); !st) return st;
  if (auto st = SetPhoto(body, "profilePhoto", "photo", p); !st) return st;
  if (const auto* v = body.if_contains("extras")) p.extras_json = v->is_null() ? "" : json::serialize(*v);
  return {};
}

Status CheckRequired(const core::User& user) {
  if (user.username.empty()) return InvalidArgument("username", "username is required");
  if (!user.profile.PrimaryEmail()) return InvalidArgument("email.primary", "email.primary is required");
  return {};
}

core::Result<std::optional<std::string>> ReadPassword(const json::object& body) {
  const auto* v = body.if_contains("password");
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return InvalidArgument("password", "password must be a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

json::object ToWire(const core::User& user, std::int64_t now_ms) {
  const core::Profile& p = user.profile;
  json::object o;
  const EmailSlots emails = ToEmailSlots(p.emails);
  json::object email;
  PutText(email, "primary", emails.primary);
  PutText(email, "secondary", emails.secondary);
  PutText(email, "work", emails.work);
  PutText(email, "other", emails.other);
  o["email"] = std::move(email);
  json::object name;
  PutText(name, "prefix", p.name.honorific_prefix);
  PutText(name, "firstName", p.name.given_name);
  PutText(name, "middleName", p.name.middle_name);
  PutText(name, "lastName", p.name.family_name);
  PutText(name, "maidenName", p.maiden_name);
  PutText(name, "suffix", p.name.honorific_suffix);
  o["name"] = std::move(name);
  const PhoneSlots phones = ToPhoneSlots(p.phone_numbers);
  json::object phone;
  for (std::size_t i = 0; i < 4; ++i) PutText(phone, kPhoneSlots[i], phones.values[i]);
  PutText(phone, "preferred", phones.preferred);
  if (!phone.empty()) o["phoneNumber"] = std::move(phone);
  if (!p.birth_date.empty()) {
    o["dob"] = p.birth_date;
    if (auto date = core::ParseDate(p.birth_date))
      if (auto age = core::AgeOn(*date, now_ms)) o["age"] = *age;
  }
  if (!p.addresses.empty()) {
    json::array a;
    for (const auto& ad : p.addresses) {
      json::object j;
      PutText(j, "type", ad.type);
      PutText(j, "addressLine1", ad.street_address);
      PutText(j, "addressLine2", ad.street_address2);
      PutText(j, "city", ad.locality);
      PutText(j, "state", ad.region);
      PutText(j, "zipCode", ad.postal_code);
      PutText(j, "country", ad.country);
      if (ad.geocode) j["geocode"] = {{"latitude", ad.geocode->latitude}, {"longitude", ad.geocode->longitude}};
      a.push_back(std::move(j));
    }
    o["addresses"] = std::move(a);
  }
  PutText(o, "gender", p.gender);
  PutText(o, "maritalStatus", p.marital_status);
  PutText(o, "religion", p.religion);
  PutText(o, "race", p.race);
  PutText(o, "ethnicity", p.ethnicity);
  auto list = [&](std::string_view key, const auto& items, auto to_json) {
    if (items.empty()) return;
    json::array a;
    for (const auto& item : items) a.push_back(to_json(item));
    o[key] = std::move(a);
  };
  list("guardians", p.guardians, [](const core::Guardian& g) {
    return json::object{{"guardianId", g.guardian_id}, {"relationship", g.relationship}};
  });
  PutText(o, "confCode", p.conf_code);
  list("languages", p.languages, [](const core::Language& l) {
    return json::object{{"language", l.language}, {"languageMode", l.mode}};
  });
  list("socialIds", p.social_ids, [](const core::SocialId& s) {
    return json::object{{"handle", s.handle}, {"network", s.network}};
  });
  list("mrns", p.mrns, [](const core::Mrn& m) {
    return json::object{{"institutionsId", m.institution_id}, {"mrn", m.mrn}};
  });
  list("healthPlans", p.health_plans, [](const core::HealthPlan& h) {
    return json::object{{"institutionsId", h.institution_id}, {"type", h.type}, {"groupName", h.group_name},
                        {"groupId", h.group_id}, {"memberId", h.member_id}};
  });
  for (const auto& ph : p.photos) {
    if (ph.type == "thumbnail" && !o.contains("avatar")) o["avatar"] = ph.value;
    if (ph.type == "photo" && !o.contains("profilePhoto")) o["profilePhoto"] = ph.value;
  }
  PutText(o, "ssn", p.ssn);
  if (!p.extras_json.empty()) {
    boost::system::error_code ec;
    json::value extras = core::ParseStored(p.extras_json, ec);
    if (!ec) o["extras"] = std::move(extras);
  }
  PutText(o, "type", p.user_type);
  o["usersId"] = user.id;
  o["username"] = user.username;
  o["active"] = user.active;
  o["createdAt"] = core::FormatTimestamp(user.created_at_ms, false);
  o["updatedAt"] = core::FormatTimestamp(user.updated_at_ms, false);
  return o;
}

}  // namespace roster::dialects::catalyze
