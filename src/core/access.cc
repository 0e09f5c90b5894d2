#include "core/access.h"

#include <algorithm>
#include <array>
#include <utility>

namespace roster::core {

namespace {

constexpr std::array<std::string_view, 11> kScopeNames = {
    "profile:read", "profile:write", "phi:read",   "phi:write", "password:set", "groups:write",
    "schema:write", "credentials:admin", "users:list", "contact:read", "signup"};

constexpr std::array<std::string_view, 5> kApiNames = {"catalyze", "pingone", "quickblox", "commcare", "scim"};

// Names -> bits of `table` (bit i is table[i]); "all" or "*" is `all`, "none" nothing.
template <std::size_t N>
std::optional<std::uint32_t> ParseBits(const std::vector<std::string>& names,
                                       const std::array<std::string_view, N>& table, std::uint32_t all,
                                       std::string* unknown) {
  std::uint32_t out = 0;
  for (const auto& name : names) {
    if (name == "none") continue;
    if (name == "*" || name == "all") {
      out |= all;
      continue;
    }
    const auto it = std::find(table.begin(), table.end(), name);
    if (it == table.end()) {
      if (unknown) *unknown = name;
      return std::nullopt;
    }
    out |= 1u << (it - table.begin());
  }
  return out;
}

std::unexpected<Error> Denied(std::string message, std::string field = {}) {
  return Fail(ErrorCode::kPermissionDenied, std::move(message), std::move(field));
}

// One PHI field of the canonical user: its wire-neutral name, whether it is set, and
// how to copy it from another user or clear it.
struct PhiField {
  std::string_view name;
  bool (*set)(const Profile&);
  bool (*same)(const Profile&, const Profile&);
  void (*copy)(Profile& to, const Profile& from);
  void (*clear)(Profile&);
};

#define ROSTER_PHI_FIELD(wire, member)                                                  \
  PhiField {                                                                            \
    wire, [](const Profile& p) { return !p.member.empty(); },                           \
        [](const Profile& a, const Profile& b) { return a.member == b.member; },        \
        [](Profile& to, const Profile& from) { to.member = from.member; },              \
        [](Profile& p) { p.member = {}; }                                               \
  }

const std::array<PhiField, 11>& PhiFields() {
  static const std::array<PhiField, 11> fields = {
      ROSTER_PHI_FIELD("ssn", ssn),
      ROSTER_PHI_FIELD("birthDate", birth_date),
      ROSTER_PHI_FIELD("mrns", mrns),
      ROSTER_PHI_FIELD("healthPlans", health_plans),
      ROSTER_PHI_FIELD("guardians", guardians),
      ROSTER_PHI_FIELD("race", race),
      ROSTER_PHI_FIELD("ethnicity", ethnicity),
      ROSTER_PHI_FIELD("religion", religion),
      ROSTER_PHI_FIELD("maritalStatus", marital_status),
      ROSTER_PHI_FIELD("gender", gender),
      ROSTER_PHI_FIELD("addresses", addresses),
  };
  return fields;
}

#undef ROSTER_PHI_FIELD

bool IsPhiAttribute(const AttributeSchema* schema, const std::string& id) {
  if (schema == nullptr) return false;
  const auto* def = schema->ById(id);
  return def != nullptr && def->phi;
}

// Own data: a user's session acting on itself, or a credential that can only sign up
// creating the account it will own.
bool OwnData(const Principal& p, const User* before, const User& after) {
  if (p.IsSelf(after.id)) return true;
  return before == nullptr && p.Has(kSignUp) && !p.Has(kProfileWrite);
}

}  // namespace

std::string_view ScopeName(Scope scope) {
  for (std::size_t i = 0; i < kScopeNames.size(); ++i)
    if (scope == (1u << i)) return kScopeNames[i];
  return {};
}

std::vector<std::string> ScopeNames(Scopes scopes) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kScopeNames.size(); ++i)
    if (scopes & (1u << i)) out.emplace_back(kScopeNames[i]);
  return out;
}

std::optional<Scopes> ParseScopes(const std::vector<std::string>& names, std::string* unknown) {
  return ParseBits(names, kScopeNames, kAllScopes, unknown);
}

Result<std::optional<Scopes>> ScopesFromNames(const std::vector<std::string>& names) {
  if (names.empty()) return std::optional<Scopes>();
  std::string unknown;
  auto scopes = ParseScopes(names, &unknown);
  if (!scopes) {
    std::string known;
    for (auto n : kScopeNames) known += (known.empty() ? "" : ", ") + std::string(n);
    return InvalidArgument("scope", "unknown scope '" + unknown + "' (known: " + known + ")");
  }
  return std::optional<Scopes>(*scopes);
}

std::string_view ApiName(Api api) {
  for (std::size_t i = 0; i < kApiNames.size(); ++i)
    if (api == (1u << i)) return kApiNames[i];
  return {};
}

std::optional<Apis> ParseApis(const std::vector<std::string>& names, std::string* unknown) {
  return ParseBits(names, kApiNames, kAllApis, unknown);
}

std::vector<std::string> ApiNames(Apis apis) {
  if (apis == kAllApis) return {"all"};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kApiNames.size(); ++i)
    if (apis & (1u << i)) out.emplace_back(kApiNames[i]);
  return out;
}

std::string_view CredentialKindName(CredentialKind kind) {
  switch (kind) {
    case CredentialKind::kAdminKey: return "admin_key";
    case CredentialKind::kAppKey: return "app_key";
    case CredentialKind::kWorkerApp: return "worker_app";
    case CredentialKind::kQuickBloxApp: return "quickblox_app";
    case CredentialKind::kWebUserKey: return "web_user_key";
    case CredentialKind::kUserSession: return "user_session";
    case CredentialKind::kScimToken: return "scim_token";
  }
  return "unknown";
}

Scopes DefaultScopes(CredentialKind kind, Api api) {
  // Management credentials: everything in their environment but PHI and setting other
  // users' passwords, unless granted.
  constexpr Scopes kManage = kProfileRead | kProfileWrite | kUsersList | kContactRead;
  switch (kind) {
    case CredentialKind::kAdminKey: return kAllScopes;
    case CredentialKind::kAppKey:
      // A Catalyze application key ships inside apps: sign-up, and users acting on
      // themselves through their sessions. A QuickBlox application's API key is its
      // server-side key: it manages the application's users.
      if (api == kQuickBloxApi) return kSignUp | kManage;
      return kSignUp;
    case CredentialKind::kWorkerApp: return kManage | kGroupsWrite | kSchemaWrite;
    case CredentialKind::kQuickBloxApp:
      // The auth key and secret ship inside every mobile app: sign-up, and a user by id.
      // Listing and contact fields are per-application settings.
      return kSignUp | kProfileRead;
    case CredentialKind::kWebUserKey: return kManage | kGroupsWrite;
    case CredentialKind::kUserSession:
      // Catalyze lets a signed-in user set a new password without the current one;
      // QuickBlox asks for old_password.
      return api == kCatalyzeApi ? Scopes{kPasswordSet} : Scopes{0};
    case CredentialKind::kScimToken:
      // An identity provider provisions users and groups; PHI and passwords when granted.
      return kManage | kGroupsWrite;
  }
  return 0;
}

std::string FirstPhiField(const User& user, const AttributeSchema* schema) {
  for (const auto& f : PhiFields())
    if (f.set(user.profile)) return std::string(f.name);
  if (schema != nullptr)
    for (const auto& [id, value] : user.attributes)
      if (IsPhiAttribute(schema, id)) {
        const auto* def = schema->ById(id);
        return def->name;
      }
  return {};
}

bool IsPhiField(std::string_view name) {
  for (const auto& f : PhiFields())
    if (f.name == name) return true;
  return false;
}

bool SeesEverything(const Principal& principal, std::string_view user_id) {
  return principal.IsSelf(user_id) || principal.Has(kPhiRead | kContactRead);
}

void Redact(const Principal& principal, User& user, const AttributeSchema* schema) {
  if (SeesEverything(principal, user.id)) return;
  if (!principal.Has(kPhiRead)) {
    for (const auto& f : PhiFields()) f.clear(user.profile);
    if (schema != nullptr)
      std::erase_if(user.attributes, [&](const auto& entry) { return IsPhiAttribute(schema, entry.first); });
  }
  if (!principal.Has(kContactRead)) {
    user.profile.emails.clear();
    user.profile.phone_numbers.clear();
  }
}

bool RedactKeeps(const Principal& principal, std::string_view path) {
  if (principal.Has(kPhiRead | kContactRead)) return true;
  static constexpr std::string_view kNeverRedacted[] = {
      "username", "displayname", "nickname", "externalid", "name.givenname", "name.familyname",
      "name.middlename", "name.formatted", "name.honorificprefix", "name.honorificsuffix"};
  for (std::string_view kept : kNeverRedacted)
    if (path == kept) return true;
  if (path.starts_with("emails") || path.starts_with("phonenumbers")) return principal.Has(kContactRead);
  return false;
}

Status MayRead(const Principal& principal, std::string_view user_id) {
  if (principal.IsSelf(user_id) || principal.Has(kProfileRead)) return {};
  return Denied("this credential may not read other users (it lacks the profile:read scope)");
}

Status MayList(const Principal& principal) {
  if (principal.Has(kUsersList)) return {};
  return Denied("this credential may not list or search users (it lacks the users:list scope)");
}

Status MayCreate(const Principal& principal) {
  if (principal.Has(kProfileWrite) || principal.Has(kSignUp)) return {};
  return Denied("this credential may not create users (it lacks the profile:write scope)");
}

Status MayWrite(const Principal& principal, std::string_view user_id) {
  if (principal.IsSelf(user_id) || principal.Has(kProfileWrite)) return {};
  if (!principal.self_user_id.empty()) return Denied("a user may only change itself");
  return Denied("this credential may not change other users (it lacks the profile:write scope)");
}

Status MaySetPassword(const Principal& principal, std::string_view user_id) {
  if (principal.Has(kPasswordSet) && (principal.IsSelf(user_id) || principal.Has(kProfileWrite))) return {};
  return Denied("setting a password without the current one requires the password:set scope", "password");
}

Status MayWriteGroups(const Principal& principal) {
  if (principal.Has(kGroupsWrite)) return {};
  return Denied("this credential may not change groups (it lacks the groups:write scope)");
}

Status Require(const Principal& principal, Scope scope) {
  if (principal.Has(scope)) return {};
  return Denied("this credential lacks the " + std::string(ScopeName(scope)) + " scope");
}

Status MayWriteSchema(const Principal& principal) {
  if (principal.Has(kSchemaWrite)) return {};
  return Denied("this credential may not change the schema (it lacks the schema:write scope)");
}

Status CheckChange(const Principal& principal, const User* before, User& after, const AttributeSchema* schema) {
  // Being switched on and off is the administrator's: a user may send its own state back
  // unchanged, not change it.
  if (before != nullptr && !principal.Has(kProfileWrite) &&
      (before->active != after.active || before->archived != after.archived))
    return Denied("only a credential with the profile:write scope may activate or deactivate a user", "active");
  if (OwnData(principal, before, after)) return {};
  static const User kNobody;
  const User& was = before != nullptr ? *before : kNobody;
  if (!principal.Has(kPhiWrite)) {
    const bool saw = principal.Has(kPhiRead);
    for (const auto& f : PhiFields()) {
      if (f.same(was.profile, after.profile)) continue;
      // Left out by a credential that never saw it: kept. Anything else is a write.
      if (!saw && !f.set(after.profile)) {
        f.copy(after.profile, was.profile);
        continue;
      }
      return Denied("writing " + std::string(f.name) + " (PHI) requires the phi:write scope", std::string(f.name));
    }
    if (schema != nullptr) {
      for (const auto& def : schema->attributes) {
        if (!def.phi) continue;
        auto old_it = was.attributes.find(def.id);
        auto new_it = after.attributes.find(def.id);
        const bool had = old_it != was.attributes.end(), has = new_it != after.attributes.end();
        if (had == has && (!had || old_it->second == new_it->second)) continue;
        if (!saw && !has) {
          after.attributes[def.id] = old_it->second;
          continue;
        }
        return Denied("writing " + def.name + " (PHI) requires the phi:write scope", def.name);
      }
    }
  }
  if (!principal.Has(kContactRead)) {
    // Contact fields it cannot see and left out are kept; new values may be written.
    if (after.profile.emails.empty()) after.profile.emails = was.profile.emails;
    if (after.profile.phone_numbers.empty()) after.profile.phone_numbers = was.profile.phone_numbers;
  }
  return {};
}

}  // namespace roster::core
