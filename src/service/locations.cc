#include "service/locations.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/json_policy.h"
#include "core/rules.h"
#include "service/groups.h"
#include "service/invitations.h"
#include "service/web_users.h"

namespace roster::service {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr int kScanPage = 500;
constexpr int kMaxTypeDepth = 64;
constexpr std::size_t kMaxCode = 255;

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// A code or site code as stored: trimmed, lower-cased, 1..255 characters without
// control characters.
core::Result<std::string> CheckCode(const std::string& field, const std::string& raw) {
  std::string s = raw;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(s.begin());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  if (s.empty()) return core::InvalidArgument(field, field + " must not be empty");
  if (!core::IsValidUtf8(s)) return core::InvalidArgument(field, field + " must be valid UTF-8");
  if (s.size() > kMaxCode) return core::InvalidArgument(field, field + " must be at most 255 bytes");
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return core::InvalidArgument(field, field + " must not contain control characters");
  return Lower(std::move(s));
}

// Records of `kind` holding the lookup claim (claim, value).
core::Result<std::vector<Record>> Holding(RecordService& records, const std::string& env, const char* claim,
                                          const std::string& value, const char* kind) {
  auto found = records.Find(env, claim, value);
  if (!found) return std::unexpected(found.error());
  std::vector<Record> out;
  for (auto& r : *found)
    if (r.kind == kind) out.push_back(std::move(r));
  return out;
}

core::Result<std::optional<Record>> FirstHolding(RecordService& records, const std::string& env, const char* claim,
                                                 const std::string& value, const char* kind) {
  auto found = Holding(records, env, claim, value, kind);
  if (!found) return std::unexpected(found.error());
  if (found->empty()) return std::optional<Record>();
  return std::optional<Record>(std::move(found->front()));
}

// A new record of `kind` with `body` and the claims derived from it.
core::Result<Record> CreateRecord(RecordService& records, const std::string& env, const char* kind, json::object body,
                                  const ClaimsOf& claims) {
  NewRecordRequest r;
  r.environment_id = env;
  r.kind = kind;
  Record probe;
  probe.body = std::move(body);
  r.claims = claims(probe);
  r.body = std::move(probe.body);
  return records.Create(r);
}

core::Result<std::vector<Record>> ListAll(RecordService& records, const std::string& env, const char* kind,
                                          std::int64_t after, int limit) {
  return records.List(env, kind, after, std::clamp(limit, 1, kScanPage));
}

// Whether a record of `kind` lists `location_id` among its "assigned_location_ids" (the
// primary is one of them).
core::Result<bool> AnyNaming(RecordService& records, const std::string& env, const char* kind,
                             const std::string& location_id) {
  bool named = false;
  auto scanned = records.ForEach(
      env, kind,
      [&](const Record& r) {
        const auto* assigned = r.body.if_contains("assigned_location_ids");
        if (assigned && assigned->is_array())
          for (const auto& l : assigned->get_array())
            if (l.is_string() && l.get_string() == location_id) named = true;
        return !named;
      },
      kScanPage);
  if (!scanned) return std::unexpected(scanned.error());
  return named;
}

}  // namespace

std::string BodyText(const Record& r, const char* key) {
  const auto* v = r.body.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string LocationSlug(const std::string& text) {
  std::string out;
  bool gap = false;
  for (unsigned char c : text) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    if (!keep) {
      gap = !out.empty();
      continue;
    }
    if (gap) out.push_back('_');
    gap = false;
    out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  return out;
}

std::vector<Claim> LocationTypeClaims(const Record& type) {
  return {{kLocationTypeCodeClaim, BodyText(type, "code"), true},
          {kLocationTypeParentClaim, BodyText(type, "parent_id"), false}};
}

std::vector<Claim> LocationClaims(const Record& location) {
  const std::string parent = BodyText(location, "parent_id");
  return {{kLocationSiteCodeClaim, BodyText(location, "site_code"), true},
          {kLocationSiblingClaim, parent + "/" + GroupNameKey(BodyText(location, "name")), true},
          {kLocationParentClaim, parent, false},
          {kLocationTypeOfClaim, BodyText(location, "type_id"), false}};
}

std::string PrimaryLocationOf(const core::User& user) {
  auto it = user.dialect_json.find(kUserLocationsKey);
  if (it == user.dialect_json.end() || it->second.empty()) return {};
  boost::system::error_code ec;
  json::value v = core::ParseStored(it->second, ec);
  if (ec || !v.is_object()) return {};
  const auto* primary = v.as_object().if_contains("primary");
  return primary && primary->is_string() ? std::string(primary->get_string()) : std::string();
}

void SetPrimaryLocation(core::User& user, const std::string& location_id) {
  if (location_id.empty()) {
    user.dialect_json.erase(kUserLocationsKey);
    return;
  }
  user.dialect_json[kUserLocationsKey] = json::serialize(json::object{{"primary", location_id}});
}

// ---- location types ----

core::Result<Record> LocationAccess::GetType(const std::string& id) {
  return records_.Get(env(), kLocationTypeKind, id);
}

core::Result<Record> LocationAccess::GetTypeByNumber(std::int64_t number) {
  auto r = records_.GetByNumber(kLocationTypeKind, number);
  if (!r) return std::unexpected(r.error());
  if (r->environment_id != env()) return core::NotFound("location type not found");
  return r;
}

core::Result<std::optional<Record>> LocationAccess::FindTypeByCode(const std::string& code) {
  return FirstHolding(records_, env(), kLocationTypeCodeClaim, Lower(code), kLocationTypeKind);
}

core::Result<std::vector<Record>> LocationAccess::ListTypes(std::int64_t after_number, int limit) {
  return ListAll(records_, env(), kLocationTypeKind, after_number, limit);
}

namespace {

// Applies `f` to a type body; checks the name and the code.
core::Status ApplyTypeFields(const LocationTypeFields& f, json::object& body) {
  if (f.name) {
    if (auto st = CheckGroupName(*f.name); !st) return st;
    body["name"] = *f.name;
  }
  if (f.code) {
    auto code = CheckCode("code", *f.code);
    if (!code) return std::unexpected(code.error());
    body["code"] = *code;
  }
  if (f.administrative) body["administrative"] = *f.administrative;
  if (f.shares_cases) body["shares_cases"] = *f.shares_cases;
  if (f.view_descendants) body["view_descendants"] = *f.view_descendants;
  return {};
}

}  // namespace

core::Result<Record> LocationAccess::CreateType(const LocationTypeFields& fields) {
  if (auto st = core::MayWriteGroups(principal_); !st) return std::unexpected(st.error());
  if (!fields.name) return core::InvalidArgument("name", "name is required");
  json::object body{{"name", ""},           {"code", ""},          {"parent_id", ""},
                    {"administrative", false}, {"shares_cases", false}, {"view_descendants", false}};
  LocationTypeFields f = fields;
  if (!f.code) {
    f.code = LocationSlug(*f.name);
    if (f.code->empty()) return core::InvalidArgument("code", "code is required when the name has no letters or digits");
  }
  if (auto st = ApplyTypeFields(f, body); !st) return std::unexpected(st.error());
  if (f.parent_id && !f.parent_id->empty()) {
    auto parent = GetType(*f.parent_id);
    if (!parent) {
      if (parent.error().code == ErrorCode::kNotFound)
        return core::InvalidArgument("parent", "The parent location type does not exist.");
      return std::unexpected(parent.error());
    }
    body["parent_id"] = parent->id;
  }
  return CreateRecord(records_, env(), kLocationTypeKind, std::move(body), LocationTypeClaims);
}

core::Result<Record> LocationAccess::UpdateType(const std::string& id, const LocationTypeFields& fields,
                                                std::optional<std::int64_t> expected_version) {
  if (auto st = core::MayWriteGroups(principal_); !st) return std::unexpected(st.error());
  return records_.Update(
      env(), kLocationTypeKind, id,
      [&](Record& type) -> core::Status {
        if (auto st = ApplyTypeFields(fields, type.body); !st) return st;
        if (!fields.parent_id || *fields.parent_id == BodyText(type, "parent_id")) return {};
        // A new parent: no location may be of the type (their parents would no longer
        // fit), and the type may not come under itself.
        auto used = FirstHolding(records_, env(), kLocationTypeOfClaim, type.id, kLocationKind);
        if (!used) return std::unexpected(used.error());
        if (*used)
          return core::InvalidArgument("parent", "The parent of a location type with locations cannot change.");
        std::string at = *fields.parent_id;
        for (int depth = 0; !at.empty(); ++depth) {
          if (at == type.id || depth > kMaxTypeDepth)
            return core::InvalidArgument("parent", "A location type cannot be its own ancestor.");
          auto up = GetType(at);
          if (!up) {
            if (up.error().code == ErrorCode::kNotFound)
              return core::InvalidArgument("parent", "The parent location type does not exist.");
            return std::unexpected(up.error());
          }
          at = BodyText(*up, "parent_id");
        }
        type.body["parent_id"] = *fields.parent_id;
        return {};
      },
      LocationTypeClaims, expected_version);
}

core::Status LocationAccess::DeleteType(const std::string& id, std::optional<std::int64_t> expected_version) {
  if (auto st = core::MayWriteGroups(principal_); !st) return st;
  auto type = GetType(id);
  if (!type) return std::unexpected(type.error());
  auto used = FirstHolding(records_, env(), kLocationTypeOfClaim, id, kLocationKind);
  if (!used) return std::unexpected(used.error());
  if (*used) return core::Fail(ErrorCode::kFailedPrecondition, "This location type has locations.");
  auto child = FirstHolding(records_, env(), kLocationTypeParentClaim, id, kLocationTypeKind);
  if (!child) return std::unexpected(child.error());
  if (*child) return core::Fail(ErrorCode::kFailedPrecondition, "This location type has child location types.");
  return records_.Delete(env(), kLocationTypeKind, id, expected_version);
}

// ---- locations ----

core::Result<Record> LocationAccess::Get(const std::string& id) { return records_.Get(env(), kLocationKind, id); }

core::Result<std::optional<Record>> LocationAccess::FindBySiteCode(const std::string& site_code) {
  return FirstHolding(records_, env(), kLocationSiteCodeClaim, Lower(site_code), kLocationKind);
}

core::Result<std::vector<Record>> LocationAccess::List(std::int64_t after_number, int limit) {
  return ListAll(records_, env(), kLocationKind, after_number, limit);
}

core::Result<std::vector<Record>> LocationAccess::Children(const std::string& id) {
  return Holding(records_, env(), kLocationParentClaim, id, kLocationKind);
}

// CommCare's LocationForm.get_allowed_types: under a parent, the types whose parent type
// is the parent's type; at the root, the root types.
core::Status LocationAccess::CheckHierarchy(const Record& type, const std::string& parent_id) {
  std::string parent_type;
  if (!parent_id.empty()) {
    auto parent = Get(parent_id);
    if (!parent) {
      if (parent.error().code == ErrorCode::kNotFound)
        return core::InvalidArgument("parent_location_id", "Could not find parent location with the given ID.");
      return std::unexpected(parent.error());
    }
    parent_type = BodyText(*parent, "type_id");
    auto allowed = FirstHolding(records_, env(), kLocationTypeParentClaim, parent_type, kLocationTypeKind);
    if (!allowed) return std::unexpected(allowed.error());
    if (!*allowed)
      return core::InvalidArgument("parent_location_id", "The selected parent location cannot have child locations!");
  }
  if (BodyText(type, "parent_id") != parent_type) {
    if (parent_id.empty())
      return core::InvalidArgument("location_type_code",
                                   "Location type '" + BodyText(type, "code") + "' cannot be a root location's type.");
    return core::InvalidArgument("location_type_code", "Parent cannot have children of this location's type.");
  }
  return {};
}

core::Result<std::string> LocationAccess::GenerateSiteCode(const std::string& name) {
  std::string base = LocationSlug(name);
  if (base.empty()) base = "location";
  if (base.size() > 200) base.resize(200);
  for (int n = 0; n < 1000; ++n) {
    const std::string code = n == 0 ? base : base + std::to_string(n);
    auto taken = FindBySiteCode(code);
    if (!taken) return std::unexpected(taken.error());
    if (!*taken) return code;
  }
  return core::InvalidArgument("site_code", "site_code is required: no free code could be made from the name");
}

namespace {

core::Status CheckCoordinate(const char* field, const std::optional<std::string>& v, double limit) {
  if (!v) return {};
  const std::string& s = *v;
  const std::size_t start = s.empty() || (s[0] != '-' && s[0] != '+') ? 0 : 1;
  bool digits = false, dot = false, bad = false;
  for (std::size_t i = start; i < s.size() && !bad; ++i) {
    if (s[i] >= '0' && s[i] <= '9') digits = true;
    else if (s[i] == '.' && !dot) dot = true;
    else bad = true;
  }
  if (bad || !digits || s.size() > 32 || std::abs(std::stod(s)) > limit)
    return core::InvalidArgument(field, std::string(field) + " must be a decimal number between -" +
                                            std::to_string(static_cast<int>(limit)) + " and " +
                                            std::to_string(static_cast<int>(limit)) + ".");
  return {};
}

}  // namespace

core::Result<Record> LocationAccess::Create(const LocationFields& fields) {
  if (auto st = core::MayWriteGroups(principal_); !st) return std::unexpected(st.error());
  if (!fields.name || !fields.type_id)
    return core::InvalidArgument(!fields.name ? "name" : "location_type_code",
                                 "'name' and 'location_type_code' are required fields when creating a new location.");
  if (auto st = CheckGroupName(*fields.name); !st) return std::unexpected(st.error());
  if (auto st = CheckCoordinate("latitude", fields.latitude.value_or(std::nullopt), 90); !st)
    return std::unexpected(st.error());
  if (auto st = CheckCoordinate("longitude", fields.longitude.value_or(std::nullopt), 180); !st)
    return std::unexpected(st.error());
  auto type = GetType(*fields.type_id);
  if (!type) {
    if (type.error().code == ErrorCode::kNotFound)
      return core::InvalidArgument("location_type_code", "Location type does not exist.");
    return std::unexpected(type.error());
  }
  const std::string parent_id = fields.parent_id.value_or("");
  if (auto st = CheckHierarchy(*type, parent_id); !st) return std::unexpected(st.error());
  std::string site_code;
  if (fields.site_code) {
    auto code = CheckCode("site_code", *fields.site_code);
    if (!code) return std::unexpected(code.error());
    site_code = *code;
  } else {
    auto code = GenerateSiteCode(*fields.name);
    if (!code) return std::unexpected(code.error());
    site_code = *code;
  }
  const auto text_or_null = [](const std::optional<std::optional<std::string>>& v) {
    return v && *v ? json::value(**v) : json::value(nullptr);
  };
  json::object body{{"name", *fields.name},
                    {"site_code", site_code},
                    {"type_id", type->id},
                    {"parent_id", parent_id},
                    {"location_data", fields.location_data.value_or(json::object())},
                    {"latitude", text_or_null(fields.latitude)},
                    {"longitude", text_or_null(fields.longitude)},
                    {"external_id", text_or_null(fields.external_id)}};
  return CreateRecord(records_, env(), kLocationKind, std::move(body), LocationClaims);
}

core::Result<Record> LocationAccess::Update(const std::string& id, const LocationFields& fields,
                                            std::optional<std::int64_t> expected_version) {
  if (auto st = core::MayWriteGroups(principal_); !st) return std::unexpected(st.error());
  if (fields.name)
    if (auto st = CheckGroupName(*fields.name); !st) return std::unexpected(st.error());
  if (fields.latitude)
    if (auto st = CheckCoordinate("latitude", *fields.latitude, 90); !st) return std::unexpected(st.error());
  if (fields.longitude)
    if (auto st = CheckCoordinate("longitude", *fields.longitude, 180); !st) return std::unexpected(st.error());
  std::optional<std::string> site_code;
  if (fields.site_code) {
    auto code = CheckCode("site_code", *fields.site_code);
    if (!code) return std::unexpected(code.error());
    site_code = *code;
  }
  return records_.Update(
      env(), kLocationKind, id,
      [&](Record& l) -> core::Status {
        const std::string old_type = BodyText(l, "type_id"), old_parent = BodyText(l, "parent_id");
        const std::string new_type = fields.type_id.value_or(old_type);
        const std::string new_parent = fields.parent_id.value_or(old_parent);
        if (new_type != old_type || new_parent != old_parent) {
          if (new_parent == l.id)
            return core::InvalidArgument("parent_location_id", "A location cannot be its own parent.");
          if (new_type != old_type) {
            auto children = Children(l.id);
            if (!children) return std::unexpected(children.error());
            if (!children->empty())
              return core::InvalidArgument("location_type_code",
                                           "The type of a location with child locations cannot change.");
          }
          auto type = GetType(new_type);
          if (!type) {
            if (type.error().code == ErrorCode::kNotFound)
              return core::InvalidArgument("location_type_code", "Location type does not exist.");
            return std::unexpected(type.error());
          }
          if (auto st = CheckHierarchy(*type, new_parent); !st) return st;
          l.body["type_id"] = new_type;
          l.body["parent_id"] = new_parent;
        }
        if (fields.name) l.body["name"] = *fields.name;
        if (site_code) l.body["site_code"] = *site_code;
        if (fields.location_data) l.body["location_data"] = *fields.location_data;
        const auto set = [&](const char* key, const std::optional<std::optional<std::string>>& v) {
          if (v) l.body[key] = *v ? json::value(**v) : json::value(nullptr);
        };
        set("latitude", fields.latitude);
        set("longitude", fields.longitude);
        set("external_id", fields.external_id);
        return {};
      },
      LocationClaims, expected_version);
}

core::Status LocationAccess::Delete(const std::string& id, std::optional<std::int64_t> expected_version) {
  if (auto st = core::MayWriteGroups(principal_); !st) return st;
  auto location = Get(id);
  if (!location) return std::unexpected(location.error());
  auto children = Children(id);
  if (!children) return std::unexpected(children.error());
  if (!children->empty()) return core::Fail(ErrorCode::kFailedPrecondition, "This location has child locations.");
  auto members = records_.CountMembers(env(), id);
  if (!members) return std::unexpected(members.error());
  if (*members > 0) return core::Fail(ErrorCode::kFailedPrecondition, "Users are assigned to this location.");
  // Web users and pending invitations name their locations in their bodies (web_users.h,
  // invitations.h), not as memberships: a scan of the environment's few of each.
  for (const char* kind : {kWebUserKind, kInvitationKind}) {
    auto named = AnyNaming(records_, env(), kind, id);
    if (!named) return std::unexpected(named.error());
    if (*named)
      return core::Fail(ErrorCode::kFailedPrecondition, kind == kWebUserKind
                                                             ? "Web users are assigned to this location."
                                                             : "A pending invitation assigns this location.");
  }
  return records_.Delete(env(), kLocationKind, id, expected_version);
}

// ---- users ----

core::Result<LocationAssignment> LocationAccess::CheckAssignment(LocationAssignment a) {
  for (std::size_t i = 0; i < a.locations.size(); ++i) {
    const std::string at = "locations[" + std::to_string(i) + "]";
    if (std::find(a.locations.begin(), a.locations.begin() + static_cast<std::ptrdiff_t>(i), a.locations[i]) !=
        a.locations.begin() + static_cast<std::ptrdiff_t>(i))
      return core::InvalidArgument(at, at + " is listed twice");
    auto l = Get(a.locations[i]);
    if (l) continue;
    if (l.error().code != ErrorCode::kNotFound) return std::unexpected(l.error());
    return core::InvalidArgument(at, at + " is not a location of this project space");
  }
  if (a.primary.empty()) {
    if (!a.locations.empty()) a.primary = a.locations.front();
    return a;
  }
  if (std::find(a.locations.begin(), a.locations.end(), a.primary) == a.locations.end())
    return core::InvalidArgument("primary_location", "Primary location must be included in the list of locations.");
  return a;
}

core::Result<LocationAssignment> LocationAccess::AssignmentOf(const core::User& user) {
  auto held = records_.MembershipsOf(env(), user.id, kLocationKind);
  if (!held) return std::unexpected(held.error());
  LocationAssignment a;
  for (const auto& r : *held) a.locations.push_back(r.id);
  const std::string primary = PrimaryLocationOf(user);
  if (std::find(a.locations.begin(), a.locations.end(), primary) != a.locations.end()) a.primary = primary;
  return a;
}

}  // namespace roster::service
