#include "dialects/pingone/mapping.h"

#include "core/json_policy.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/rules.h"

namespace roster::dialects::pingone {
namespace json = boost::json;
using core::Contact;

namespace {

constexpr std::size_t kMaxShort = 256;

bool IsPhone(std::string_view v) {
  if (v.empty() || v.size() > 32) return false;
  int digits = 0;
  for (char c : v) {
    if (c >= '0' && c <= '9')
      ++digits;
    else if (c != '+' && c != '-' && c != ' ' && c != '(' && c != ')' && c != '.' && c != 'x')
      return false;
  }
  return digits >= 3;
}

bool IsTimezone(std::string_view v) {
  // "UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"
  if (v.empty() || v.size() > 64) return false;
  bool segment_start = true;
  for (char c : v) {
    if (c == '/') {
      if (segment_start) return false;
      segment_start = true;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '+') return false;
    segment_start = false;
  }
  return !segment_start;
}

class Applier {
 public:
  Applier(const json::object& body, WriteMode mode) : body_(body), mode_(mode) {}

  std::vector<Detail>& errors() { return errors_; }
  void Error(std::string code, std::string target, std::string message) {
    errors_.push_back({std::move(code), std::move(target), std::move(message), {}});
  }

  // A string member of `o`: a string sets it, null or "" clears it, absence clears it
  // only when replacing. Returns whether `out` was written.
  bool Text(const json::object& o, std::string_view key, const std::string& target, std::size_t max, std::string& out) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) {
      if (mode_ == WriteMode::kMerge) return false;
      out.clear();
      return true;
    }
    if (v->is_null()) {
      out.clear();
      return true;
    }
    if (!v->is_string()) {
      Error("INVALID_VALUE", target, target + " must be a string");
      return false;
    }
    const json::string& s = v->get_string();
    if (!core::IsValidUtf8(s)) {
      Error("INVALID_VALUE", target, target + " must be valid UTF-8");
      return false;
    }
    if (core::CodePoints(s) > max) {
      Error("SIZE_LIMIT_EXCEEDED", target, target + " must be at most " + std::to_string(max) + " characters");
      return false;
    }
    out.assign(s.data(), s.size());
    return true;
  }

  // A nested object member: applies `apply` to its members. Absent on replace, or null,
  // clears every member (applied to an empty object in replace mode); absent on merge
  // changes nothing.
  template <class F>
  void Nested(std::string_view key, F apply) {
    static const json::object kEmpty;
    const json::value* v = body_.if_contains(key);
    if (v != nullptr && !v->is_null() && !v->is_object()) {
      Error("INVALID_VALUE", std::string(key), std::string(key) + " must be an object");
      return;
    }
    if (v == nullptr && mode_ == WriteMode::kMerge) return;
    const WriteMode saved = mode_;
    if (v == nullptr || v->is_null()) mode_ = WriteMode::kReplace;
    apply(v != nullptr && v->is_object() ? v->get_object() : kEmpty);
    mode_ = saved;
  }

  WriteMode mode() const { return mode_; }

 private:
  const json::object& body_;
  WriteMode mode_;
  std::vector<Detail> errors_;
};

Contact* PrimaryEmail(core::Profile& p) {
  for (auto& e : p.emails)
    if (e.primary) return &e;
  return nullptr;
}

std::string PrimaryPhoneValue(const core::Profile& p) {
  for (const auto& c : p.phone_numbers)
    if (c.primary) return c.value;
  return {};
}

std::string MobileValue(const core::Profile& p) {
  for (const auto& c : p.phone_numbers)
    if (c.type == "mobile") return c.value;
  return {};
}

void SetMobile(core::Profile& p, const std::string& value) {
  auto it =
      std::find_if(p.phone_numbers.begin(), p.phone_numbers.end(), [](const Contact& c) { return c.type == "mobile"; });
  if (value.empty()) {
    if (it != p.phone_numbers.end()) p.phone_numbers.erase(it);
  } else if (it != p.phone_numbers.end()) {
    it->value = value;
  } else {
    p.phone_numbers.push_back({"mobile", value, false});
  }
}

// primaryPhone is the contact flagged primary. Writing it keeps a flagged contact that
// is not the mobile and replaces its value; otherwise the first "home" number (added if
// missing) becomes the primary one.
void SetPrimaryPhone(core::Profile& p, const std::string& value) {
  auto primary =
      std::find_if(p.phone_numbers.begin(), p.phone_numbers.end(), [](const Contact& c) { return c.primary; });
  if (value.empty()) {
    if (primary == p.phone_numbers.end()) return;
    if (primary->type == "mobile")
      primary->primary = false;
    else
      p.phone_numbers.erase(primary);
    return;
  }
  if (primary != p.phone_numbers.end() && primary->value == value) return;
  if (primary != p.phone_numbers.end() && primary->type != "mobile") {
    primary->value = value;
    return;
  }
  for (auto& c : p.phone_numbers) c.primary = false;
  auto home =
      std::find_if(p.phone_numbers.begin(), p.phone_numbers.end(), [](const Contact& c) { return c.type == "home"; });
  if (home != p.phone_numbers.end()) {
    home->value = value;
    home->primary = true;
  } else {
    p.phone_numbers.push_back({"home", value, true});
  }
}

void PutText(json::object& o, std::string_view key, const std::string& value) {
  if (!value.empty()) o[key] = value;
}

}  // namespace

json::object PingOneState(const core::User& user) {
  auto it = user.dialect_json.find("pingone");
  if (it == user.dialect_json.end() || it->second.empty()) return {};
  boost::system::error_code ec;
  json::value v = core::ParseStored(it->second, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

void SetPingOneState(core::User& user, const json::object& state) {
  if (state.empty())
    user.dialect_json.erase("pingone");
  else
    user.dialect_json["pingone"] = json::serialize(state);
}

bool MfaEnabled(const core::User& user) {
  const json::object state = PingOneState(user);
  const auto* v = state.if_contains("mfaEnabled");
  return v && v->is_bool() && v->as_bool();
}

Outcome<UserRequest> ApplyUser(const json::object& body, core::User& user, WriteMode mode, const Schema& schema,
                               bool import) {
  Applier a(body, mode);
  UserRequest request;
  // A disabled standard attribute is ignored: neither read nor, on replace, cleared.
  const auto on = [&](std::string_view name) { return schema.StandardEnabled(name); };
  core::Profile& p = user.profile;
  json::object state = PingOneState(user);

  // username: required on create and replace, never cleared.
  {
    const json::value* v = body.if_contains("username");
    if (v == nullptr || v->is_null() || (v->is_string() && v->as_string().empty())) {
      if (mode != WriteMode::kMerge || v != nullptr) a.Error("REQUIRED_VALUE", "username", "username is required");
    } else if (!v->is_string()) {
      a.Error("INVALID_VALUE", "username", "username must be a string");
    } else if (core::IsValidUtf8(v->as_string()) && core::CodePoints(v->as_string()) > 128) {
      a.Error("SIZE_LIMIT_EXCEEDED", "username", "username must be at most 128 characters");
    } else if (auto folded = core::FoldUsername(v->as_string()); !folded) {
      a.Error("INVALID_VALUE", "username", folded.error().message);
    } else {
      user.username.assign(v->as_string().data(), v->as_string().size());
    }
  }

  // email: the primary email.
  if (on("email")) {
    Contact* primary = PrimaryEmail(p);
    std::string email = primary ? primary->value : std::string();
    if (a.Text(body, "email", "email", 254, email)) {
      if (email.empty()) {
        std::erase_if(p.emails, [](const Contact& c) { return c.primary; });
      } else if (!core::IsValidEmail(email)) {
        a.Error("INVALID_VALUE", "email", "email must be a valid email address");
      } else if (primary) {
        primary->value = email;
      } else {
        p.emails.insert(p.emails.begin(), Contact{"home", email, true});
      }
    }
  }

  if (on("name")) a.Nested("name", [&](const json::object& n) {
    a.Text(n, "given", "name.given", kMaxShort, p.name.given_name);
    a.Text(n, "family", "name.family", kMaxShort, p.name.family_name);
    a.Text(n, "middle", "name.middle", kMaxShort, p.name.middle_name);
    a.Text(n, "formatted", "name.formatted", kMaxShort, p.name.formatted);
    a.Text(n, "honorificPrefix", "name.honorificPrefix", kMaxShort, p.name.honorific_prefix);
    a.Text(n, "honorificSuffix", "name.honorificSuffix", kMaxShort, p.name.honorific_suffix);
  });

  if (on("nickname")) a.Text(body, "nickname", "nickname", kMaxShort, p.nick_name);
  if (on("title")) a.Text(body, "title", "title", kMaxShort, p.title);
  if (on("type")) a.Text(body, "type", "type", kMaxShort, p.user_type);
  if (on("preferredLanguage")) a.Text(body, "preferredLanguage", "preferredLanguage", kMaxShort, p.preferred_language);
  if (on("locale")) a.Text(body, "locale", "locale", kMaxShort, p.locale);
  if (on("timezone")) {
    std::string tz = p.timezone;
    if (a.Text(body, "timezone", "timezone", 64, tz)) {
      if (!tz.empty() && !IsTimezone(tz))
        a.Error("INVALID_VALUE", "timezone", "timezone must be an IANA time zone name such as Europe/Paris");
      else
        p.timezone = tz;
    }
  }
  if (on("externalId")) a.Text(body, "externalId", "externalId", 1024, user.external_id);
  if (on("accountId")) {
    std::string account_id;
    if (const auto* v = state.if_contains("accountId"); v && v->is_string()) account_id = v->as_string();
    if (a.Text(body, "accountId", "accountId", kMaxShort, account_id)) {
      if (account_id.empty())
        state.erase("accountId");
      else
        state["accountId"] = account_id;
    }
  }
  if (on("mobilePhone")) {
    std::string mobile = MobileValue(p);
    if (a.Text(body, "mobilePhone", "mobilePhone", 32, mobile)) {
      if (!mobile.empty() && !IsPhone(mobile))
        a.Error("INVALID_VALUE", "mobilePhone", "mobilePhone must be a phone number (digits, spaces, + - ( ) . x)");
      else
        SetMobile(p, mobile);
    }
  }
  if (on("primaryPhone")) {
    std::string primary = PrimaryPhoneValue(p);
    if (a.Text(body, "primaryPhone", "primaryPhone", 32, primary)) {
      if (!primary.empty() && !IsPhone(primary))
        a.Error("INVALID_VALUE", "primaryPhone", "primaryPhone must be a phone number (digits, spaces, + - ( ) . x)");
      else
        SetPrimaryPhone(p, primary);
    }
  }

  // address: the first address.
  if (on("address")) a.Nested("address", [&](const json::object& o) {
    core::Address addr = p.addresses.empty() ? core::Address{} : p.addresses.front();
    a.Text(o, "streetAddress", "address.streetAddress", kMaxShort, addr.street_address);
    a.Text(o, "locality", "address.locality", kMaxShort, addr.locality);
    a.Text(o, "region", "address.region", kMaxShort, addr.region);
    if (o.contains("postalCode") || !o.contains("zipCode")) {
      a.Text(o, "postalCode", "address.postalCode", 40, addr.postal_code);
    } else {
      a.Text(o, "zipCode", "address.zipCode", 40, addr.postal_code);
    }
    std::string country = addr.country;
    if (a.Text(o, "countryCode", "address.countryCode", 2, country)) {
      if (!country.empty() && (country.size() != 2 || !std::isupper(static_cast<unsigned char>(country[0])) ||
                               !std::isupper(static_cast<unsigned char>(country[1]))))
        a.Error("INVALID_VALUE", "address.countryCode",
                "address.countryCode must be two upper-case letters (ISO 3166-1)");
      else
        addr.country = country;
    }
    const bool empty = addr.street_address.empty() && addr.street_address2.empty() && addr.locality.empty() &&
                       addr.region.empty() && addr.postal_code.empty() && addr.country.empty() && !addr.geocode;
    if (empty) {
      if (!p.addresses.empty()) p.addresses.erase(p.addresses.begin());
    } else if (p.addresses.empty()) {
      p.addresses.push_back(std::move(addr));
    } else {
      p.addresses.front() = std::move(addr);
    }
  });

  if (on("photo")) a.Nested("photo", [&](const json::object& o) {
    std::string href;
    for (const auto& ph : p.photos)
      if (ph.type == "photo") href = ph.value;
    if (!a.Text(o, "href", "photo.href", 2048, href)) return;
    if (!href.empty() && !href.starts_with("https://") && !href.starts_with("http://")) {
      a.Error("INVALID_VALUE", "photo.href", "photo.href must be an http(s) URL");
      return;
    }
    std::erase_if(p.photos, [](const core::Photo& ph) { return ph.type == "photo"; });
    if (!href.empty()) p.photos.push_back({"photo", href});
  });

  // Members with their own resources: read for create, returned for comparison otherwise.
  if (const json::value* v = body.if_contains("enabled"); v && !v->is_null()) {
    if (!v->is_bool())
      a.Error("INVALID_VALUE", "enabled", "enabled must be true or false");
    else
      request.enabled = v->as_bool();
  }
  if (const json::value* v = body.if_contains("mfaEnabled"); v && !v->is_null()) {
    if (!v->is_bool())
      a.Error("INVALID_VALUE", "mfaEnabled", "mfaEnabled must be true or false");
    else
      request.mfa_enabled = v->as_bool();
  }
  if (const json::value* v = body.if_contains("population"); v && !v->is_null()) {
    const json::value* id = v->is_object() ? v->as_object().if_contains("id") : nullptr;
    if (!v->is_object() || (id && !id->is_null() && !id->is_string()))
      a.Error("INVALID_VALUE", "population.id", "population must be an object with a string id");
    else if (id && id->is_string())
      request.population_id = std::string(id->as_string());
  }
  if (mode == WriteMode::kCreate) {
    if (const json::value* v = body.if_contains("identityProvider"); v && !v->is_null()) {
      const json::value* id = v->is_object() ? v->as_object().if_contains("id") : nullptr;
      if (!v->is_object())
        a.Error("INVALID_VALUE", "identityProvider", "identityProvider must be an object");
      else if (id && !id->is_null())
        a.Error("INVALID_VALUE", "identityProvider.id",
                "external identity providers are not supported: omit identityProvider.id (PingOne is the provider)");
    }
    std::string status = "ACCOUNT_OK";
    if (const json::value* v = body.if_contains("lifecycle"); v && !v->is_null()) {
      const json::value* s = v->is_object() ? v->as_object().if_contains("status") : nullptr;
      if (!v->is_object() || (s && !s->is_null() && !s->is_string())) {
        a.Error("INVALID_VALUE", "lifecycle.status", "lifecycle must be an object with a string status");
      } else if (s && s->is_string()) {
        status = std::string(s->as_string());
        if (status != "ACCOUNT_OK" && status != "VERIFICATION_REQUIRED")
          a.Error("INVALID_VALUE", "lifecycle.status", "lifecycle.status must be ACCOUNT_OK or VERIFICATION_REQUIRED");
      }
    }
    state["lifecycle"] = status;
    state["mfaEnabled"] = request.mfa_enabled.value_or(false);
    if (import) {
      if (const json::value* v = body.if_contains("password"); v && !v->is_null()) {
        const json::object* o = v->is_object() ? &v->as_object() : nullptr;
        const json::value* value = o ? o->if_contains("value") : nullptr;
        if (o == nullptr) {
          a.Error("INVALID_VALUE", "password", "password must be an object with a value");
        } else if (value == nullptr || value->is_null() || (value->is_string() && value->as_string().empty())) {
          a.Error("REQUIRED_VALUE", "password.value", "password.value is required");
        } else if (!value->is_string()) {
          a.Error("INVALID_VALUE", "password.value", "password.value must be a string");
        } else {
          request.password = std::string(value->as_string());
        }
        if (o != nullptr) {
          if (const json::value* f = o->if_contains("forceChange"); f && !f->is_null()) {
            if (!f->is_bool())
              a.Error("INVALID_VALUE", "password.forceChange", "password.forceChange must be true or false");
            else
              request.force_change = f->as_bool();
          }
        }
      }
    }
  }

  // Custom attributes: declared and enabled ones are validated and stored (keyed by
  // attribute id); anything else is ignored, never stored.
  std::map<std::string, std::string>& custom = user.attributes;
  // Values of deleted attributes are pruned on every write.
  std::erase_if(custom, [&](const auto& kv) { return schema.ById(kv.first) == nullptr; });
  for (const auto& attribute : schema.custom) {
    if (!attribute.enabled) continue;
    const json::value* v = body.if_contains(attribute.name);
    if (v == nullptr) {
      if (mode == WriteMode::kReplace) custom.erase(attribute.id);
      continue;
    }
    if (v->is_null()) {
      custom.erase(attribute.id);
      continue;
    }
    auto checked = CheckCustomValue(attribute, *v);
    if (!checked) {
      a.errors().insert(a.errors().end(), checked.error().details.begin(), checked.error().details.end());
      continue;
    }
    custom[attribute.id] = json::serialize(*checked);
  }
  for (const auto& attribute : schema.custom)
    if (attribute.enabled && attribute.required && !custom.contains(attribute.id))
      a.Error("REQUIRED_VALUE", attribute.name, attribute.name + " is required");

  if (!a.errors().empty()) return Fail(InvalidData(std::move(a.errors())));
  SetPingOneState(user, state);
  return request;
}

json::object UserWire(const core::User& user, const WireContext& ctx) {
  const core::Profile& p = user.profile;
  const json::object state = PingOneState(user);
  const std::string self = ctx.env_url + "/users/" + user.id;
  json::object links;
  links["self"] = {{"href", self}};
  links["environment"] = {{"href", ctx.env_url}};
  if (!ctx.population_id.empty()) links["population"] = {{"href", ctx.env_url + "/populations/" + ctx.population_id}};
  links["password"] = {{"href", self + "/password"}};
  links["password.reset"] = {{"href", self + "/password"}};
  links["password.set"] = {{"href", self + "/password"}};
  links["password.check"] = {{"href", self + "/password"}};
  links["enabled"] = {{"href", self + "/enabled"}};
  links["memberOfGroups"] = {{"href", self + "/memberOfGroups"}};

  json::object o;
  o["_links"] = std::move(links);
  o["id"] = user.id;
  o["environment"] = {{"id", ctx.env}};
  if (!ctx.population_id.empty()) o["population"] = {{"id", ctx.population_id}};
  o["createdAt"] = core::FormatTimestamp(user.created_at_ms, true);
  for (const auto& e : p.emails)
    if (e.primary) {
      o["email"] = e.value;
      break;
    }
  o["enabled"] = user.active;
  // account: the administrative lock (core::User::LockedAt; sign-in lockout is per
  // client address, not the account's). A user can authenticate when enabled and unlocked.
  {
    const bool locked = user.LockedAt(ctx.now_ms);
    json::object account{{"canAuthenticate", user.active && !locked}, {"status", locked ? "LOCKED" : "OK"}};
    if (locked) {
      account["lockedAt"] = core::FormatTimestamp(user.locked_at_ms, true);
      if (user.unlock_at_ms != 0) {
        account["unlockAt"] = core::FormatTimestamp(user.unlock_at_ms, true);
        account["secondsUntilUnlock"] = (user.unlock_at_ms - ctx.now_ms + 999) / 1000;
      }
    }
    o["account"] = std::move(account);
  }
  {
    const auto* v = state.if_contains("emailVerified");
    o["emailVerified"] = v && v->is_bool() && v->as_bool();
  }
  o["verifyStatus"] = "NOT_INITIATED";
  o["identityProvider"] = {{"type", "PING_ONE"}};
  std::string lifecycle = "ACCOUNT_OK";
  if (const auto* v = state.if_contains("lifecycle"); v && v->is_string()) lifecycle = v->as_string();
  o["lifecycle"] = {{"status", lifecycle}};
  o["mfaEnabled"] = MfaEnabled(user);
  json::object name;
  PutText(name, "given", p.name.given_name);
  PutText(name, "family", p.name.family_name);
  PutText(name, "middle", p.name.middle_name);
  PutText(name, "formatted", p.name.formatted);
  PutText(name, "honorificPrefix", p.name.honorific_prefix);
  PutText(name, "honorificSuffix", p.name.honorific_suffix);
  if (!name.empty()) o["name"] = std::move(name);
  PutText(o, "nickname", p.nick_name);
  PutText(o, "title", p.title);
  PutText(o, "type", p.user_type);
  PutText(o, "preferredLanguage", p.preferred_language);
  PutText(o, "locale", p.locale);
  PutText(o, "timezone", p.timezone);
  PutText(o, "externalId", user.external_id);
  if (const auto* v = state.if_contains("accountId"); v && v->is_string()) o["accountId"] = *v;
  PutText(o, "mobilePhone", MobileValue(p));
  PutText(o, "primaryPhone", PrimaryPhoneValue(p));
  if (!p.addresses.empty()) {
    const core::Address& ad = p.addresses.front();
    json::object address;
    PutText(address, "streetAddress", ad.street_address);
    PutText(address, "locality", ad.locality);
    PutText(address, "region", ad.region);
    PutText(address, "postalCode", ad.postal_code);
    PutText(address, "countryCode", ad.country);
    if (!address.empty()) o["address"] = std::move(address);
  }
  for (const auto& ph : p.photos)
    if (ph.type == "photo") {
      o["photo"] = {{"href", ph.value}};
      break;
    }
  if (ctx.schema != nullptr) {
    for (const auto& [id, text] : user.attributes) {
      const CustomAttribute* attribute = ctx.schema->ById(id);
      if (attribute == nullptr || !attribute->enabled) continue;
      boost::system::error_code ec;
      json::value value = core::ParseStored(text, ec);
      if (!ec) o[attribute->name] = std::move(value);
    }
  }
  // Disabled standard attributes are not returned.
  if (ctx.schema != nullptr)
    for (const auto& name : ctx.schema->disabled_standard) o.erase(name);
  o["updatedAt"] = core::FormatTimestamp(user.updated_at_ms, true);
  o["username"] = user.username;
  return o;
}

}  // namespace roster::dialects::pingone
