#include "dialects/commcare/mapping.h"

#include "core/json_policy.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "core/rules.h"
#include "service/groups.h"

namespace roster::dialects::commcare {
namespace json = boost::json;
using core::InvalidArgument;
using core::Status;

namespace {

constexpr std::size_t kMaxName = 256;      // code points
constexpr std::size_t kMaxEmail = 254;     // bytes (ASCII-checked by IsValidEmail)
constexpr std::size_t kMaxLanguage = 64;   // code points
constexpr std::size_t kMaxPhones = 32;
constexpr std::size_t kMaxGroups = 1000;
constexpr std::size_t kMaxMembers = 10000;
constexpr std::size_t kMaxPassword = 1024;  // bytes, as UserService
constexpr std::size_t kMaxRawUsername = 254;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// A string member: absent leaves `out` unset, null sets "", a string is checked.
Status OptText(const json::object& o, std::string_view key, std::optional<std::string>& out, std::size_t max_cp) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  const std::string field(key);
  if (v->is_null()) {
    out = std::string();
    return {};
  }
  if (!v->is_string()) return InvalidArgument(field, field + " must be a string");
  const auto& s = v->get_string();
  if (!core::IsValidUtf8(s)) return InvalidArgument(field, field + " must be valid UTF-8");
  if (core::CodePoints(s) > max_cp)
    return InvalidArgument(field, field + " must be at most " + std::to_string(max_cp) + " characters");
  out = std::string(s);
  return {};
}

// An array-of-strings member: absent leaves `out` unset, null gives an empty list.
Status OptStrings(const json::object& o, std::string_view key, std::optional<std::vector<std::string>>& out,
                  std::size_t max_items) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  const std::string field(key);
  out = std::vector<std::string>();
  if (v->is_null()) return {};
  if (!v->is_array()) return InvalidArgument(field, field + " must be a list");
  const auto& a = v->get_array();
  if (a.size() > max_items)
    return InvalidArgument(field, field + " must have at most " + std::to_string(max_items) + " entries");
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    if (!a[i].is_string()) return InvalidArgument(at, at + " must be a string");
    out->emplace_back(a[i].get_string());
  }
  return {};
}

// A list of 32-hex ids: each converted to its UUID, duplicates dropped (first kept).
Status OptIds(const json::object& o, std::string_view key, std::optional<std::vector<std::string>>& out,
              std::size_t max_items, std::string_view what) {
  std::optional<std::vector<std::string>> raw;
  if (auto st = OptStrings(o, key, raw, max_items); !st) return st;
  if (!raw) return {};
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < raw->size(); ++i) {
    auto uuid = UuidFromHex((*raw)[i]);
    const std::string at = std::string(key) + "[" + std::to_string(i) + "]";
    if (!uuid) return InvalidArgument(at, at + " is not a valid " + std::string(what) + " id");
    if (std::find(ids.begin(), ids.end(), *uuid) == ids.end()) ids.push_back(std::move(*uuid));
  }
  out = std::move(ids);
  return {};
}

Status OptBool(const json::object& o, std::string_view key, std::optional<bool>& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!v->is_bool()) return InvalidArgument(std::string(key), std::string(key) + " must be true or false");
  out = v->get_bool();
  return {};
}

Status OptObject(const json::object& o, std::string_view key, std::optional<json::object>& out) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (v->is_null()) {
    out = json::object();
    return {};
  }
  if (!v->is_object()) return InvalidArgument(std::string(key), std::string(key) + " must be an object");
  out = v->get_object();
  return {};
}

bool IsPhone(std::string_view v) {
  if (v.empty() || v.size() > 32) return false;
  int digits = 0;
  for (char c : v) {
    if (c >= '0' && c <= '9') ++digits;
    else if (c != '+' && c != '-' && c != ' ' && c != '(' && c != ')' && c != '.') return false;
  }
  return digits >= 3;
}

// CommCare's strip_plus (corehq/apps/sms/util.py): numbers are stored without a leading
// '+'.
std::string StripPlus(std::string_view n) {
  return std::string(!n.empty() && n.front() == '+' ? n.substr(1) : n);
}

const core::Contact* PrimaryPhone(const core::Profile& p) {
  for (const auto& c : p.phone_numbers)
    if (c.primary) return &c;
  return nullptr;
}

// Python's int() on a query value: optional sign, digits, surrounding spaces. Values
// beyond int64 saturate (Tastypie has big integers).
std::optional<std::int64_t> ParseInt(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ptr != text.data() + text.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range)
    return text.front() == '-' ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
  if (ec != std::errc()) return std::nullopt;
  return value;
}

std::string PageUri(std::string_view list_uri, const std::vector<QueryParam>& query, std::int64_t limit,
                    std::int64_t offset, std::string_view cursor = {}) {
  std::vector<QueryParam> params;
  for (const auto& p : query)
    if (p.key != "limit" && p.key != "offset" && p.key != "cursor") params.push_back(p);
  params.push_back({"limit", std::to_string(limit)});
  params.push_back({"offset", std::to_string(offset)});
  if (!cursor.empty()) params.push_back({"cursor", std::string(cursor)});
  return std::string(list_uri) + "?" + EncodeQuery(params);
}

json::object CommCareKey(const service::Record& group) {
  const auto* v = group.body.if_contains("commcare");
  return v && v->is_object() ? v->get_object() : json::object();
}

}  // namespace

// ---- ids ----

std::string HexId(std::string_view uuid) {
  std::string out;
  out.reserve(32);
  for (char c : uuid)
    if (c != '-') out.push_back(c);
  return out;
}

std::optional<std::string> UuidFromHex(std::string_view hex) {
  if (hex.size() != 32 || !std::all_of(hex.begin(), hex.end(), IsLowerHex)) return std::nullopt;
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    out.push_back(hex[i]);
  }
  return out;
}

std::string ListUri(std::string_view domain, std::string_view resource) {
  return "/a/" + std::string(domain) + "/api/" + kApiVersion + "/" + std::string(resource) + "/";
}

std::string DetailUri(std::string_view domain, std::string_view resource, std::string_view uuid) {
  return ListUri(domain, resource) + HexId(uuid) + "/";
}

// ---- usernames ----

bool IsValidAccountRoot(std::string_view root) {
  if (root.empty() || root.size() > 128) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = root.find('.', start);
    const std::string_view label = root.substr(start, dot == std::string_view::npos ? root.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string UsernameTakenMessage(std::string_view raw) {
  return "Username '" + std::string(raw) + "' is already taken or reserved.";
}

core::Result<std::string> MobileUsername(std::string_view raw, std::string_view domain, std::string_view root) {
  const auto bad = [](std::string message) { return InvalidArgument("username", std::move(message)); };
  if (raw.empty()) return bad("Username is required.");
  if (raw.size() > kMaxRawUsername) return bad("Username must be a valid email address of at most 254 characters.");
  if (!core::IsValidUtf8(raw)) return bad("Username may not contain special characters.");
  const std::string quoted = "Username '" + std::string(raw) + "'";
  // format_username: runs of whitespace become one '.', then lower case.
  std::string name;
  for (std::size_t i = 0; i < raw.size();) {
    if (IsSpace(raw[i])) {
      name.push_back('.');
      while (i < raw.size() && IsSpace(raw[i])) ++i;
    } else {
      name.push_back(Lower(raw[i++]));
    }
  }
  const std::string suffix = LowerAscii(domain) + "." + std::string(root);
  std::string local = name;
  if (const auto at = name.find('@'); at != std::string::npos) {
    local = name.substr(0, at);
    if (name.substr(at + 1) != suffix) return bad(quoted + " must end with @" + suffix + ".");
  }
  if (local == "admin" || local == "demo_user") return bad(UsernameTakenMessage(raw));
  if (local.empty()) return bad("Username is required.");
  if (local.find("..") != std::string::npos) return bad("Username may not contain consecutive . (period).");
  if (local.back() == '.') return bad("Username may not end with a . (period).");
  for (char c : local) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '+';
    if (!ok) return bad("Username may not contain special characters.");
  }
  const std::string full = local + "@" + suffix;
  if (local.front() == '.' || !core::IsValidEmail(full)) return bad(quoted + " must be a valid email address.");
  return full;
}

// ---- query strings ----

std::vector<QueryParam> ParseQuery(std::string_view raw) {
  const auto decode = [](std::string_view in) {
    std::string out;
    out.reserve(in.size());
    const auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '+') {
        out.push_back(' ');
      } else if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
        out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
        i += 2;
      } else {
        out.push_back(in[i]);
      }
    }
    return out;
  };
  std::vector<QueryParam> out;
  while (!raw.empty()) {
    const std::size_t amp = raw.find('&');
    const std::string_view piece = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    if (eq == std::string_view::npos) out.push_back({decode(piece), std::string()});
    else out.push_back({decode(piece.substr(0, eq)), decode(piece.substr(eq + 1))});
  }
  return out;
}

std::optional<std::string> QueryValue(const std::vector<QueryParam>& query, std::string_view key) {
  std::optional<std::string> out;
  for (const auto& p : query)
    if (p.key == key) out = p.value;
  return out;
}

std::string EncodeQuery(const std::vector<QueryParam>& query) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto encode = [](std::string_view in, std::string& out) {
    for (unsigned char c : in) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
          c == '-' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else if (c == ' ') {
        out.push_back('+');
      } else {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
    }
  };
  std::string out;
  for (const auto& p : query) {
    if (!out.empty()) out.push_back('&');
    encode(p.key, out);
    out.push_back('=');
    encode(p.value, out);
  }
  return out;
}

std::optional<bool> ParseBool(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  const std::string v = LowerAscii(text);
  for (const char* t : {"yes", "true", "y", "t", "1", "on"})
    if (v == t) return true;
  for (const char* f : {"no", "false", "n", "f", "0", "off"})
    if (v == f) return false;
  return std::nullopt;
}

// ---- paging ----

core::Result<Page> ReadPage(const std::vector<QueryParam>& query) {
  // Far past any real count (an empty page), yet offset + limit cannot overflow.
  constexpr std::int64_t kFarOffset = std::numeric_limits<std::int64_t>::max() / 4;
  Page page;
  if (auto text = QueryValue(query, "limit")) {
    const auto n = ParseInt(*text);
    if (!n) return InvalidArgument("limit", "Invalid limit '" + *text + "' provided. Please provide a positive integer.");
    if (*n < 0)
      return InvalidArgument("limit", "Invalid limit '" + *text + "' provided. Please provide a positive integer >= 0.");
    page.limit = *n == 0 || *n > kMaxLimit ? kMaxLimit : *n;
  }
  if (auto text = QueryValue(query, "offset")) {
    const auto n = ParseInt(*text);
    if (!n) return InvalidArgument("offset", "Invalid offset '" + *text + "' provided. Please provide an integer.");
    if (*n < 0)
      return InvalidArgument("offset",
                             "Invalid offset '" + *text + "' provided. Please provide a positive integer >= 0.");
    page.offset = std::min(*n, kFarOffset);
  }
  return page;
}

core::Result<std::optional<Cursor>> ReadCursor(const std::vector<QueryParam>& query, const Page& page) {
  const auto text = QueryValue(query, "cursor");
  if (!text) return std::optional<Cursor>{};
  const auto bad = InvalidArgument("cursor", "Invalid cursor '" + text->substr(0, 40) + "' provided.");
  const auto dot = text->find('.');
  const auto after = ParseInt(std::string_view(*text).substr(0, dot));
  const auto skip = dot == std::string::npos ? std::optional<std::int64_t>(0)
                                             : ParseInt(std::string_view(*text).substr(dot + 1));
  if (!after || !skip || *after < 0 || *skip < 0 || *skip > page.offset) return bad;
  return std::optional<Cursor>(Cursor{*after, *skip});
}

std::string CursorUri(std::string_view list_uri, const std::vector<QueryParam>& query, std::int64_t limit,
                      std::int64_t offset, const Cursor& cursor) {
  std::string text = std::to_string(cursor.after);
  if (cursor.skip > 0) text += "." + std::to_string(cursor.skip);
  return PageUri(list_uri, query, limit, offset, text);
}

json::object PageMeta(const Page& page, std::int64_t total, std::string_view list_uri,
                      const std::vector<QueryParam>& query) {
  json::object meta;
  meta["limit"] = page.limit;
  meta["next"] = page.offset + page.limit >= total ? json::value(nullptr)
                                                   : json::value(PageUri(list_uri, query, page.limit, page.offset + page.limit));
  meta["offset"] = page.offset;
  meta["previous"] = page.offset - page.limit < 0
                         ? json::value(nullptr)
                         : json::value(PageUri(list_uri, query, page.limit, page.offset - page.limit));
  meta["total_count"] = total;
  return meta;
}

// ---- mobile workers ----

const std::vector<std::string>& RoleNames() {
  static const std::vector<std::string> names = {"Admin",         "App Editor",    "Read Only",
                                                 "Field Implementer", "Billing Admin", "Mobile Worker Default"};
  return names;
}

const std::vector<std::string>& TableauRoles() {
  static const std::vector<std::string> names = {"Explorer", "ExplorerCanPublish", "SiteAdministratorExplorer",
                                                 "Viewer", "Unlicensed"};
  return names;
}

std::string RoleOf(const core::User& user) {
  auto it = user.dialect_json.find("commcare");
  if (it == user.dialect_json.end()) return {};
  boost::system::error_code ec;
  json::value v = json::parse(it->second, ec);
  if (ec || !v.is_object()) return {};
  const auto* role = v.get_object().if_contains("role");
  return role && role->is_string() ? std::string(role->get_string()) : std::string();
}

core::Result<UserFields> ReadUserFields(const json::object& body) {
  UserFields f;
  if (auto st = OptText(body, "first_name", f.first_name, kMaxName); !st) return std::unexpected(st.error());
  if (auto st = OptText(body, "last_name", f.last_name, kMaxName); !st) return std::unexpected(st.error());
  if (auto st = OptText(body, "email", f.email, kMaxEmail); !st) return std::unexpected(st.error());
  if (f.email) {
    *f.email = LowerAscii(*f.email);  // CommCare stores emails lower-cased
    if (!f.email->empty() && !core::IsValidEmail(*f.email))
      return InvalidArgument("email", "email must be a valid email address");
  }
  if (auto st = OptText(body, "language", f.language, kMaxLanguage); !st) return std::unexpected(st.error());
  if (auto st = OptStrings(body, "phone_numbers", f.phone_numbers, kMaxPhones); !st)
    return std::unexpected(st.error());
  if (f.phone_numbers) {
    std::vector<std::string> unique;
    for (std::size_t i = 0; i < f.phone_numbers->size(); ++i) {
      const std::string& n = (*f.phone_numbers)[i];
      const std::string at = "phone_numbers[" + std::to_string(i) + "]";
      if (!IsPhone(n)) return InvalidArgument(at, at + " must be a phone number (digits, spaces, + - ( ) .)");
      const std::string stripped = StripPlus(n);
      if (std::find(unique.begin(), unique.end(), stripped) == unique.end()) unique.push_back(stripped);
    }
    f.phone_numbers = std::move(unique);
  }
  if (auto st = OptText(body, "default_phone_number", f.default_phone_number, 32); !st)
    return std::unexpected(st.error());
  if (f.default_phone_number && !f.default_phone_number->empty() && !IsPhone(*f.default_phone_number))
    return InvalidArgument("default_phone_number", "default_phone_number must be a phone number (digits, spaces, + - ( ) .)");
  if (f.default_phone_number) *f.default_phone_number = StripPlus(*f.default_phone_number);
  if (auto st = OptObject(body, "user_data", f.user_data); !st) return std::unexpected(st.error());
  // The keys CommCare injects on read are the system's, not data: a GET-modify-PUT sends
  // them back, and they are dropped rather than stored.
  if (f.user_data)
    for (const char* key : kSystemUserData) f.user_data->erase(key);
  if (auto st = OptIds(body, "groups", f.groups, kMaxGroups, "group"); !st) return std::unexpected(st.error());
  // Locations: ids (32 hex digits) of the domain's locations; primary_location one of
  // them (null or "" for none). The rules are the service's (service/locations.h).
  if (auto st = OptIds(body, "locations", f.locations, kMaxGroups, "location"); !st) return std::unexpected(st.error());
  if (const auto* v = body.if_contains("primary_location")) {
    if (v->is_null() || (v->is_string() && v->get_string().empty())) {
      f.primary_location = std::string();
    } else {
      auto uuid = v->is_string() ? UuidFromHex(v->get_string()) : std::nullopt;
      if (!uuid) return InvalidArgument("primary_location", "primary_location is not a valid location id");
      f.primary_location = *uuid;
    }
  }
  if (const auto* v = body.if_contains("password"); v && !v->is_null()) {
    if (!v->is_string()) return InvalidArgument("password", "password must be a string");
    if (v->get_string().empty()) return InvalidArgument("password", "password must not be empty");
    if (v->get_string().size() > kMaxPassword)
      return InvalidArgument("password", "password must be at most 1024 bytes");
    f.password = std::string(v->get_string());
  }
  // user_updates.py (_update_user_role): a role of the project space, by name.
  if (const auto* v = body.if_contains("role"); v && !v->is_null()) {
    if (!v->is_string()) return InvalidArgument("role", "role must be a string");
    const std::string role(v->get_string());
    if (std::find(RoleNames().begin(), RoleNames().end(), role) == RoleNames().end())
      return InvalidArgument("role", "The role '" + role + "' does not exist");
    f.role = role;
  }
  return f;
}

std::vector<std::string> PhoneList(const core::Profile& p) {
  std::vector<std::string> out;
  const core::Contact* primary = PrimaryPhone(p);
  if (primary) out.push_back(primary->value);
  for (const auto& c : p.phone_numbers)
    if (&c != primary) out.push_back(c.value);
  return out;
}

void ApplyUserFields(const UserFields& f, core::User& user) {
  if (f.role) {
    json::object commcare;
    if (auto it = user.dialect_json.find("commcare"); it != user.dialect_json.end()) {
      boost::system::error_code ec;
      json::value v = json::parse(it->second, ec);
      if (!ec && v.is_object()) commcare = std::move(v.get_object());
    }
    commcare["role"] = *f.role;
    user.dialect_json["commcare"] = json::serialize(commcare);
  }
  core::Profile& p = user.profile;
  if (f.first_name) p.name.given_name = *f.first_name;
  if (f.last_name) p.name.family_name = *f.last_name;
  if (f.language) p.preferred_language = *f.language;
  if (f.email) {
    auto primary = std::find_if(p.emails.begin(), p.emails.end(), [](const core::Contact& c) { return c.primary; });
    if (f.email->empty()) {
      std::erase_if(p.emails, [](const core::Contact& c) { return c.primary; });
    } else if (primary != p.emails.end()) {
      primary->value = *f.email;
    } else {
      p.emails.insert(p.emails.begin(), core::Contact{"home", *f.email, true});
    }
  }
  const bool new_default = f.default_phone_number && !f.default_phone_number->empty();
  if (f.phone_numbers || new_default) {
    std::vector<std::string> list = f.phone_numbers ? *f.phone_numbers : PhoneList(p);
    if (new_default) {
      std::erase(list, *f.default_phone_number);
      list.insert(list.begin(), *f.default_phone_number);
    }
    // Keep the type of a number the user already had (another dialect may have typed
    // it); new numbers are mobile numbers. The first is the default (primary).
    std::vector<core::Contact> old = std::move(p.phone_numbers);
    p.phone_numbers.clear();
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string type = "mobile";
      // A number another dialect stored with its '+' is the same number.
      auto it = std::find_if(old.begin(), old.end(), [&](const core::Contact& c) { return StripPlus(c.value) == list[i]; });
      if (it != old.end()) {
        type = it->type.empty() ? "mobile" : it->type;
        old.erase(it);
      }
      p.phone_numbers.push_back({type, list[i], i == 0});
    }
  }
  if (f.user_data) p.extras_json = f.user_data->empty() ? std::string() : json::serialize(*f.user_data);
}

json::object UserWire(const core::User& user, const std::vector<std::string>& group_ids, std::string_view domain,
                      const service::LocationAssignment& locations) {
  const core::Profile& p = user.profile;
  json::object o;
  o["type"] = "user";
  o["id"] = HexId(user.id);
  o["username"] = user.username;
  o["first_name"] = p.name.given_name;
  o["last_name"] = p.name.family_name;
  const std::vector<std::string> phones = PhoneList(p);
  o["default_phone_number"] = phones.empty() ? json::value(nullptr) : json::value(phones.front());
  const core::Contact* email = p.PrimaryEmail();
  o["email"] = email ? email->value : std::string();
  json::array phone_array;
  for (const auto& n : phones) phone_array.emplace_back(n);
  o["phone_numbers"] = std::move(phone_array);
  json::array groups;
  for (const auto& g : group_ids) groups.emplace_back(HexId(g));
  o["groups"] = std::move(groups);
  o["primary_location"] = locations.primary.empty() ? json::value(nullptr) : json::value(HexId(locations.primary));
  json::array location_ids;
  for (const auto& id : locations.locations) location_ids.emplace_back(HexId(id));
  o["locations"] = std::move(location_ids);
  json::object user_data;
  if (!p.extras_json.empty()) {
    boost::system::error_code ec;
    json::value extras = core::ParseStored(p.extras_json, ec);
    if (!ec && extras.is_object()) user_data = std::move(extras.get_object());
  }
  // CommCare's user data as read (SQLUserData.to_dict): the system keys first.
  json::object with_system{{"commcare_project", domain}, {"commcare_profile", ""}};
  if (!locations.primary.empty()) {
    // CommCare's location keys (SQLUserData): the primary, every location, and the
    // primary as the case-sharing owner.
    std::string ids;
    for (const auto& id : locations.locations) ids += (ids.empty() ? "" : " ") + HexId(id);
    with_system["commcare_location_id"] = HexId(locations.primary);
    with_system["commcare_location_ids"] = ids;
    with_system["commcare_primary_case_sharing_id"] = HexId(locations.primary);
  }
  for (auto& [k, v] : user_data) with_system[k] = std::move(v);
  o["user_data"] = std::move(with_system);
  o["eulas"] = "[]";  // CommCare's JSON text of the accepted EULAs; none are recorded here
  o["language"] = p.preferred_language.empty() ? json::value(nullptr) : json::value(p.preferred_language);
  o["is_active"] = user.active;
  const std::string role = RoleOf(user);
  o["role"] = role.empty() ? json::value(nullptr) : json::value(role);  // Roster's: CommCare takes it, never shows it
  o["resource_uri"] = DetailUri(domain, "user", user.id);
  return o;
}

// ---- groups ----

core::Result<GroupFields> ReadGroupFields(const json::object& body, bool creating) {
  GroupFields f;
  if (const auto* v = body.if_contains("name"); v || creating) {
    if (!v || v->is_null()) return InvalidArgument("name", "name is required");
    if (!v->is_string()) return InvalidArgument("name", "name must be a string");
    const std::string name(v->get_string());
    if (auto st = service::CheckGroupName(name); !st) return std::unexpected(st.error());
    f.name = name;
  }
  if (auto st = OptBool(body, "case_sharing", f.case_sharing); !st) return std::unexpected(st.error());
  if (auto st = OptBool(body, "reporting", f.reporting); !st) return std::unexpected(st.error());
  if (auto st = OptObject(body, "metadata", f.metadata); !st) return std::unexpected(st.error());
  if (auto st = OptIds(body, "users", f.users, kMaxMembers, "user"); !st) return std::unexpected(st.error());
  return f;
}

void ApplyGroupFields(const GroupFields& f, service::Record& group, bool creating) {
  if (f.name) group.body["name"] = *f.name;
  if (creating) group.body["default"] = false;
  json::object cc = CommCareKey(group);
  // CommCare's defaults for a new group: reporting on, case sharing off.
  if (f.case_sharing) cc["case_sharing"] = *f.case_sharing;
  else if (!cc.contains("case_sharing")) cc["case_sharing"] = false;
  if (f.reporting) cc["reporting"] = *f.reporting;
  else if (!cc.contains("reporting")) cc["reporting"] = true;
  if (f.metadata) cc["metadata"] = *f.metadata;
  else if (!cc.contains("metadata")) cc["metadata"] = json::object();
  group.body["commcare"] = std::move(cc);
}

json::object GroupWire(const service::Record& group, const std::vector<std::string>& member_ids,
                       std::string_view domain) {
  const json::object cc = CommCareKey(group);
  const auto flag = [&](const char* key, bool fallback) {
    const auto* v = cc.if_contains(key);
    return v && v->is_bool() ? v->get_bool() : fallback;
  };
  json::object o;
  o["id"] = HexId(group.id);
  o["name"] = service::GroupName(group);
  o["domain"] = domain;
  o["case_sharing"] = flag("case_sharing", false);
  o["reporting"] = flag("reporting", true);
  const auto* metadata = cc.if_contains("metadata");
  o["metadata"] = metadata && metadata->is_object() ? *metadata : json::value(json::object());
  json::array users;
  for (const auto& id : member_ids) users.emplace_back(HexId(id));
  o["users"] = std::move(users);
  o["path"] = json::array();
  o["resource_uri"] = DetailUri(domain, "group", group.id);
  return o;
}

}  // namespace roster::dialects::commcare
