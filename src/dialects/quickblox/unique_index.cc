#include "dialects/quickblox/unique_index.h"

namespace roster::dialects::quickblox {
namespace json = boost::json;
using core::ErrorCode;

namespace {

// An entry unbound for this long is left over from a create that never finished.
constexpr std::int64_t kPendingGraceMs = 2 * 60 * 1000;
constexpr const char* kUserClaim = "quickblox.uid";
constexpr std::string_view kClaimPrefix = "quickblox.";

std::string ClaimKind(std::string_view field) { return std::string(kClaimPrefix) + std::string(field); }

bool Empty(const UniqueValues& v) { return v == UniqueValues{}; }

std::string Member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

UniqueValues ValuesOfEntry(const json::object& body) {
  UniqueValues v;
  for (const char* field : kUniqueFields) v.Get(field) = Member(body, field);
  return v;
}

json::object EntryBody(const std::string& user_id, const UniqueValues& values) {
  json::object body{{"user", user_id}};
  for (const char* field : kUniqueFields)
    if (!values.Get(field).empty()) body[field] = values.Get(field);
  return body;
}

std::vector<service::Claim> ClaimsFor(const std::string& user_id, const UniqueValues& values) {
  std::vector<service::Claim> claims;
  for (const char* field : kUniqueFields)
    if (!values.Get(field).empty()) claims.push_back({ClaimKind(field), values.Get(field), true});
  if (!user_id.empty()) claims.push_back({kUserClaim, user_id, true});
  return claims;
}

std::vector<service::Claim> ClaimsOf(const service::Record& r) {
  return ClaimsFor(Member(r.body, "user"), ValuesOfEntry(r.body));
}

// A taken claim, named by its wire field.
core::Error AsTaken(core::Error e) {
  if (e.code == ErrorCode::kAlreadyExists && e.field.starts_with(kClaimPrefix))
    e.field = e.field.substr(kClaimPrefix.size());
  return e;
}

}  // namespace

core::Result<bool> UniqueIndex::StillHolds(const service::Record& entry, std::string_view field,
                                           const std::string& value) {
  const std::string user_id = Member(entry.body, "user");
  auto drop = [&]() -> core::Result<bool> {
    auto st = s_.records.Delete(environment_id_, kUserIndexKind, entry.id);
    if (!st && st.error().code != ErrorCode::kNotFound) return std::unexpected(st.error());
    return false;
  };
  if (user_id.empty()) {
    if (s_.clock.NowMillis() - entry.created_at_ms < kPendingGraceMs) return true;  // a create in flight
    return drop();
  }
  auto user = s_.users.Get(environment_id_, user_id);
  if (!user) return user.error().code == ErrorCode::kNotFound ? drop() : std::unexpected(user.error());
  const UniqueValues actual = ValuesOf(*user);
  if (actual == ValuesOfEntry(entry.body)) return true;
  // Stale (the user changed elsewhere, or an update stopped half-way): follow the user.
  auto fixed = s_.records.Update(
      environment_id_, kUserIndexKind, entry.id,
      [&](service::Record& r) -> core::Status {
        r.body = EntryBody(user_id, actual);
        return {};
      },
      ClaimsOf);
  if (!fixed && fixed.error().code == ErrorCode::kNotFound) return false;
  if (!fixed && fixed.error().code != ErrorCode::kAlreadyExists) return std::unexpected(fixed.error());
  return actual.Get(field) == value;
}

core::Result<std::vector<std::string>> UniqueIndex::Taken(const UniqueValues& values, const std::string& self) {
  std::vector<std::string> taken;
  for (const char* field : kUniqueFields) {
    const std::string& value = values.Get(field);
    if (value.empty()) continue;
    bool held = false;
    auto entries = s_.records.Find(environment_id_, ClaimKind(field), value);
    if (!entries) return std::unexpected(entries.error());
    for (const auto& entry : *entries) {
      if (entry.kind != kUserIndexKind) continue;
      if (!self.empty() && Member(entry.body, "user") == self) continue;
      auto holds = StillHolds(entry, field, value);
      if (!holds) return std::unexpected(holds.error());
      held = held || *holds;
    }
    if (!held && std::string_view(field) == "email") {
      // Users of other dialects have no entry, but the canonical email index knows them.
      auto users = s_.users.FindBy(environment_id_, "email", value);
      if (!users) return std::unexpected(users.error());
      for (const auto& u : *users) held = held || u.id != self;
    }
    if (held) taken.emplace_back(field);
  }
  return taken;
}

core::Result<std::optional<std::string>> UniqueIndex::Reserve(const UniqueValues& values) {
  if (Empty(values)) return std::optional<std::string>();
  service::NewRecordRequest request;
  request.environment_id = environment_id_;
  request.kind = kUserIndexKind;
  request.body = EntryBody("", values);
  request.claims = ClaimsFor("", values);
  auto created = s_.records.Create(request);
  if (!created) return std::unexpected(AsTaken(created.error()));
  return std::optional<std::string>(created->id);
}

core::Status UniqueIndex::Bind(const std::string& entry_id, const std::string& user_id) {
  auto bound = s_.records.Update(
      environment_id_, kUserIndexKind, entry_id,
      [&](service::Record& r) -> core::Status {
        r.body["user"] = user_id;
        return {};
      },
      ClaimsOf);
  if (!bound) return std::unexpected(AsTaken(bound.error()));
  return {};
}

void UniqueIndex::Release(const std::string& entry_id) {
  (void)s_.records.Delete(environment_id_, kUserIndexKind, entry_id);
}

core::Result<std::optional<service::Record>> UniqueIndex::EntryOf(const std::string& user_id) {
  auto entries = s_.records.Find(environment_id_, kUserClaim, user_id);
  if (!entries) return std::unexpected(entries.error());
  for (auto& entry : *entries)
    if (entry.kind == kUserIndexKind) return std::optional<service::Record>(std::move(entry));
  return std::optional<service::Record>();
}

core::Status UniqueIndex::Set(const std::string& user_id, const UniqueValues& values) {
  auto entry = EntryOf(user_id);
  if (!entry) return std::unexpected(entry.error());
  if (!*entry) {
    if (Empty(values)) return {};
    service::NewRecordRequest request;
    request.environment_id = environment_id_;
    request.kind = kUserIndexKind;
    request.body = EntryBody(user_id, values);
    request.claims = ClaimsFor(user_id, values);
    auto created = s_.records.Create(request);
    if (!created) return std::unexpected(AsTaken(created.error()));
    return {};
  }
  if (Empty(values)) {
    auto st = s_.records.Delete(environment_id_, kUserIndexKind, (*entry)->id);
    if (!st && st.error().code != ErrorCode::kNotFound) return st;
    return {};
  }
  auto updated = s_.records.Update(
      environment_id_, kUserIndexKind, (*entry)->id,
      [&](service::Record& r) -> core::Status {
        r.body = EntryBody(user_id, values);
        return {};
      },
      ClaimsOf);
  if (!updated) return std::unexpected(AsTaken(updated.error()));
  return {};
}

void UniqueIndex::Forget(const std::string& user_id) {
  auto entry = EntryOf(user_id);
  if (entry && *entry) (void)s_.records.Delete(environment_id_, kUserIndexKind, (*entry)->id);
}

core::Result<core::User> UniqueIndex::Lookup(std::string_view field, const std::string& value) {
  auto entries = s_.records.Find(environment_id_, ClaimKind(field), value);
  if (!entries) return std::unexpected(entries.error());
  for (const auto& entry : *entries) {
    const std::string user_id = Member(entry.body, "user");
    if (entry.kind != kUserIndexKind || user_id.empty()) continue;
    auto user = s_.users.Get(environment_id_, user_id);
    if (!user) {
      if (user.error().code == ErrorCode::kNotFound) continue;
      return std::unexpected(user.error());
    }
    if (!user->archived && ValuesOf(*user).Get(field) == value) return user;
  }
  return core::NotFound("user not found");
}

}  // namespace roster::dialects::quickblox
