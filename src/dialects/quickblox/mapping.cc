#include "dialects/quickblox/mapping.h"

#include "core/json_policy.h"

#include <algorithm>
#include <charconv>

#include "core/rules.h"

namespace roster::dialects::quickblox {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxWebsite = 2048;
constexpr std::size_t kMaxCustomData = 64 * 1024;
constexpr std::size_t kMaxShort = 256;
constexpr std::size_t kMaxFacebookId = 64;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string TrimTrailing(std::string s) {
  while (!s.empty() && IsSpace(s.back())) s.pop_back();
  return s;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// A scalar member as trimmed text; a list or object is "is invalid".
std::optional<std::string> Field(const json::object& in, const char* key, FieldErrors& errors) {
  const auto* v = in.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_object() || v->is_array()) {
    errors.Add(key, "is invalid");
    return std::nullopt;
  }
  return TrimTrailing(*Text(in, key));
}

bool TooLong(const std::string& s, std::size_t max) { return core::CodePoints(s) > max; }

std::string TooLongMessage(std::size_t max) {
  return "is too long (maximum is " + std::to_string(max) + " characters)";
}

bool IsPhone(std::string_view v) {
  if (v.empty() || v.size() > 32) return false;
  int digits = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c >= '0' && c <= '9') ++digits;
    else if (c == '+' && i == 0) continue;
    else if (c != '-' && c != ' ' && c != '(' && c != ')' && c != '.') return false;
  }
  return digits >= 3;
}

bool IsHexOrDecimal(std::string_view v) {
  if (v.empty() || v.size() > kMaxFacebookId) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::optional<bool> Flag(std::string_view v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0" || v.empty()) return false;
  return std::nullopt;
}

// The contact flagged primary, else the first; nullptr when there is none.
core::Contact* Primary(std::vector<core::Contact>& contacts) {
  for (auto& c : contacts)
    if (c.primary) return &c;
  return contacts.empty() ? nullptr : &contacts.front();
}

const core::Contact* Primary(const std::vector<core::Contact>& contacts) {
  return Primary(const_cast<std::vector<core::Contact>&>(contacts));
}

// Replaces (or adds, or with an empty value removes) the primary contact.
void SetPrimary(std::vector<core::Contact>& contacts, const std::string& value, const char* type) {
  core::Contact* current = nullptr;
  for (auto& c : contacts)
    if (c.primary) current = &c;
  if (value.empty()) {
    if (current) contacts.erase(contacts.begin() + (current - contacts.data()));
    return;
  }
  if (current) {
    current->value = value;
  } else {
    contacts.insert(contacts.begin(), core::Contact{type, value, true});
  }
}

const core::Contact* PrimaryEmail(const core::User& user) { return user.profile.PrimaryEmail(); }

void SetData(core::User& user, const json::object& data) {
  if (data.empty()) {
    user.dialect_json.erase(kDialect);
  } else {
    user.dialect_json[kDialect] = json::serialize(data);
  }
}

// Sets or (empty) erases a string member of the dialect data.
void PutText(json::object& data, const char* key, const std::string& value) {
  if (value.empty()) {
    data.erase(key);
  } else {
    data[key] = value;
  }
}

json::value TextOrNull(const json::object& data, const char* key) {
  const auto* v = data.if_contains(key);
  if (v == nullptr || !v->is_string() || v->get_string().empty()) return nullptr;
  return *v;
}

bool BoolOf(const json::object& data, const char* key) {
  const auto* v = data.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

// A canonical external id as a QuickBlox number, when it is one.
std::optional<std::uint64_t> ExternalNumber(const std::string& external_id) {
  if (external_id.empty() || external_id.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(external_id.data(), external_id.data() + external_id.size(), v);
  if (ec != std::errc() || ptr != external_id.data() + external_id.size()) return std::nullopt;
  if (v == 0 || v > kMaxExternalUserId || std::to_string(v) != external_id) return std::nullopt;
  return v;
}

}  // namespace

std::vector<std::string> SplitTags(std::string_view text) {
  std::vector<std::string> tags;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string tag = Trim(text.substr(start, end - start));
    if (!tag.empty() && std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(std::move(tag));
    start = end + 1;
  }
  return tags;
}

json::object DialectData(const core::User& user) {
  auto it = user.dialect_json.find(kDialect);
  if (it == user.dialect_json.end()) return {};
  boost::system::error_code ec;
  json::value v = core::ParseStored(it->second, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

void SetLastRequestAt(core::User& user, std::int64_t now_ms) {
  json::object data = DialectData(user);
  data["last_request_at"] = now_ms;
  SetData(user, data);
}

bool HasNoLogin(const core::User& user) { return BoolOf(DialectData(user), "no_login"); }

std::vector<std::string> Tags(const core::User& user) {
  const json::object data = DialectData(user);
  const auto* v = data.if_contains("tag_list");
  if (v == nullptr || !v->is_string()) return {};
  return SplitTags(v->get_string());
}

std::string FullName(const core::User& user) {
  const core::Name& n = user.profile.name;
  if (!n.formatted.empty()) return n.formatted;
  std::string out;
  for (const std::string* part : {&n.given_name, &n.middle_name, &n.family_name}) {
    if (part->empty()) continue;
    if (!out.empty()) out += ' ';
    out += *part;
  }
  return out;
}

void ApplyUser(const json::object& in, bool creating, core::User& user, FieldErrors& errors) {
  json::object data = DialectData(user);
  core::Profile& p = user.profile;
  bool no_login = BoolOf(data, "no_login");

  if (auto login = Field(in, "login", errors)) {
    if (login->empty()) {
      if (!creating) errors.Add("login", "can't be blank");
    } else if (TooLong(*login, kMaxShort) || !core::FoldUsername(*login)) {
      errors.Add("login", "is invalid");
    } else {
      user.username = *login;
      no_login = false;
    }
  } else if (creating) {
    no_login = true;
  }

  if (auto email = Field(in, "email", errors)) {
    if (email->empty()) {
      SetPrimary(p.emails, "", "home");
    } else if (email->size() > 254 || !core::IsValidEmail(*email)) {
      errors.Add("email", "should look like an email address");
    } else {
      SetPrimary(p.emails, *email, "home");
    }
  }
  // Without a login the email is the canonical username (QuickBlox answers login null).
  if (no_login) {
    const core::Contact* email = PrimaryEmail(user);
    if (email != nullptr) {
      user.username = email->value;
    } else if (!errors.Has("email") && !errors.Has("login")) {
      if (creating) errors.Add("base", "Login or email required");
      else errors.Add("email", "can't be blank");
    }
  }
  if (no_login) data["no_login"] = true;
  else data.erase("no_login");

  if (auto name = Field(in, "full_name", errors)) {
    if (TooLong(*name, kMaxFullName)) errors.Add("full_name", TooLongMessage(kMaxFullName));
    else p.name.formatted = *name;
  }
  if (auto phone = Field(in, "phone", errors)) {
    if (!phone->empty() && !IsPhone(*phone)) errors.Add("phone", "is not a number");
    else SetPrimary(p.phone_numbers, *phone, "mobile");
  }
  if (auto website = Field(in, "website", errors)) {
    if (TooLong(*website, kMaxWebsite)) errors.Add("website", TooLongMessage(kMaxWebsite));
    else PutText(data, "website", *website);
  }
  if (auto external = Field(in, "external_user_id", errors)) {
    if (external->empty()) {
      user.external_id.clear();
    } else {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(external->data(), external->data() + external->size(), v);
      if (ec == std::errc::result_out_of_range) errors.Add("external_user_id", "must be less than 4 bytes");
      else if (ec != std::errc() || ptr != external->data() + external->size()) errors.Add("external_user_id", "is not a number");
      else if (v <= 0) errors.Add("external_user_id", "must be greater than 0");
      else if (static_cast<std::uint64_t>(v) > kMaxExternalUserId) errors.Add("external_user_id", "must be less than 4 bytes");
      else user.external_id = std::to_string(v);
    }
  }
  if (auto facebook = Field(in, "facebook_id", errors)) {
    if (!facebook->empty() && !IsHexOrDecimal(*facebook))
      errors.Add("facebook_id", "should be hexadecimal or decimal number");
    else if (facebook->empty()) user.external_ids.erase(kFacebookSource);
    else user.external_ids[kFacebookSource] = *facebook;
  }
  if (auto blob = Field(in, "blob_id", errors)) {
    if (blob->empty()) {
      data.erase("blob_id");
    } else {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(blob->data(), blob->data() + blob->size(), v);
      if (ec != std::errc() || ptr != blob->data() + blob->size() || v < 0) errors.Add("blob_id", "is not a number");
      else data["blob_id"] = v;
    }
  }
  if (const auto* v = in.if_contains("custom_data")) {
    // A JSON client may send an object; QuickBlox keeps custom_data as a string.
    std::string text = v->is_object() || v->is_array() ? json::serialize(*v) : TrimTrailing(*Text(in, "custom_data"));
    if (text.size() > kMaxCustomData) errors.Add("custom_data", TooLongMessage(kMaxCustomData));
    else PutText(data, "custom_data", text);
  }
  if (const auto* v = in.if_contains("tag_list")) {
    std::vector<std::string> tags;
    bool valid = true;
    if (v->is_array()) {
      for (const auto& t : v->get_array()) {
        if (!t.is_string()) valid = false;
        else
          for (auto& tag : SplitTags(t.get_string()))
            if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(std::move(tag));
      }
    } else if (v->is_object()) {
      valid = false;
    } else {
      tags = SplitTags(*Text(in, "tag_list"));
    }
    if (!valid) {
      errors.Add("tag_list", "is invalid");
    } else if (tags.size() > kMaxTags) {
      errors.Add("tag_list", "is too long (maximum is " + std::to_string(kMaxTags) + " tags)");
    } else if (std::any_of(tags.begin(), tags.end(), [](const std::string& t) { return TooLong(t, kMaxShort); })) {
      errors.Add("tag_list", "is invalid");
    } else {
      std::string joined;
      for (const auto& t : tags) joined += (joined.empty() ? "" : ",") + t;
      PutText(data, "tag_list", joined);
    }
  }
  for (const char* key : {"age_over16", "allow_statistics_analysis", "allow_sales_activities"}) {
    if (auto flag = Field(in, key, errors)) {
      auto value = Flag(*flag);
      if (!value) errors.Add(key, "is invalid");
      else if (*value) data[key] = true;
      else data.erase(key);
    }
  }
  if (auto contacts = Field(in, "parents_contacts", errors)) {
    if (TooLong(*contacts, kMaxShort)) errors.Add("parents_contacts", TooLongMessage(kMaxShort));
    else PutText(data, "parents_contacts", *contacts);
  }
  SetData(user, data);
}

std::optional<std::string> ReadPassword(const json::object& in, bool required, FieldErrors& errors) {
  const auto* v = in.if_contains("password");
  if (v == nullptr || (v->is_string() && v->get_string().empty()) || v->is_null()) {
    if (required) errors.Add("password", "can't be blank");
    return std::nullopt;
  }
  if (!v->is_string()) {
    errors.Add("password", "is invalid");
    return std::nullopt;
  }
  std::string password(v->get_string());
  if (core::CodePoints(password) < kMinPasswordLength) {
    errors.Add("password", "is too short (minimum is " + std::to_string(kMinPasswordLength) + " characters)");
    return std::nullopt;
  }
  if (password.size() > kMaxPasswordBytes) {
    errors.Add("password", TooLongMessage(kMaxPasswordBytes));
    return std::nullopt;
  }
  return password;
}

json::object ToWire(const core::User& user) {
  const json::object data = DialectData(user);
  const core::Profile& p = user.profile;
  json::object u;
  u["id"] = user.number;
  const std::string full_name = FullName(user);
  u["full_name"] = full_name.empty() ? json::value(nullptr) : json::value(full_name);
  const core::Contact* email = PrimaryEmail(user);
  u["email"] = email ? json::value(email->value) : json::value(nullptr);
  u["login"] = BoolOf(data, "no_login") ? json::value(nullptr) : json::value(user.username);
  const core::Contact* phone = Primary(p.phone_numbers);
  u["phone"] = phone ? json::value(phone->value) : json::value(nullptr);
  u["website"] = TextOrNull(data, "website");
  u["created_at"] = core::FormatTimestamp(user.created_at_ms, false);
  u["updated_at"] = core::FormatTimestamp(user.updated_at_ms, false);
  const auto* last = data.if_contains("last_request_at");
  u["last_request_at"] =
      last != nullptr && last->is_int64() ? json::value(core::FormatTimestamp(last->get_int64(), false)) : json::value(nullptr);
  const auto external = ExternalNumber(user.external_id);
  u["external_user_id"] = external ? json::value(*external) : json::value(nullptr);
  const auto facebook = user.external_ids.find(kFacebookSource);
  u["facebook_id"] = facebook != user.external_ids.end() ? json::value(facebook->second) : json::value(nullptr);
  u["twitter_id"] = nullptr;
  const auto* blob = data.if_contains("blob_id");
  u["blob_id"] = blob != nullptr && blob->is_int64() ? *blob : json::value(nullptr);
  u["custom_data"] = TextOrNull(data, "custom_data");
  u["age_over16"] = BoolOf(data, "age_over16");
  u["allow_statistics_analysis"] = BoolOf(data, "allow_statistics_analysis");
  u["allow_sales_activities"] = BoolOf(data, "allow_sales_activities");
  const auto* contacts = data.if_contains("parents_contacts");
  u["parents_contacts"] = contacts != nullptr && contacts->is_string() ? *contacts : json::value("");
  u["user_tags"] = TextOrNull(data, "tag_list");
  return u;
}

std::string WireField(std::string_view claim_kind, const core::User& user) {
  if (claim_kind == service::kUsernameClaim) return HasNoLogin(user) ? "email" : "login";
  if (claim_kind == service::kEmailClaim) return "email";
  if (claim_kind == service::kExternalIdClaim) return "external_user_id";
  if (claim_kind == service::ExternalIdClaimKind(kFacebookSource)) return "facebook_id";
  return "base";
}

}  // namespace roster::dialects::quickblox
