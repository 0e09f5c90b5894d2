#include "service/user_service.h"
#include "service/index_keys.h"

#include "service/associated_data.h"

#include "metrics/metrics.h"

#include <map>
#include <mutex>
#include <set>

#include <boost/json.hpp>

#include "core/json_policy.h"
#include "core/profile_codec.h"
#include "core/rules.h"
#include "crypto/legacy_password.h"
#include "service/attribute_schema.h"
#include "service/audit.h"
#include "service/mail_templates.h"
#include "service/record_service.h"
#include "service/unreadable.h"

namespace roster::service {
namespace {

using core::ErrorCode;

constexpr int kMaxUpdateAttempts = 8;
constexpr std::int64_t kCountTtlMs = 1000;

struct CachedCount {
  std::int64_t count = 0;
  std::int64_t read_at_ms = 0;
};
struct CountCache {
  std::mutex mutex;
  std::map<std::string, CachedCount> counts;
  std::uint64_t generation = 0;
};
CountCache& Counts() {
  static CountCache cache;
  return cache;
}
void ForgetCount(const std::string& environment_id) {
  CountCache& cache = Counts();
  std::lock_guard lock(cache.mutex);
  cache.counts.erase(environment_id);
  ++cache.generation;
}
constexpr std::size_t kMaxPasswordBytes = 1024;

core::Status CheckPassword(const std::string& password) {
  if (password.empty()) return core::InvalidArgument("password", "password must not be empty");
  if (password.size() > kMaxPasswordBytes)
    return core::InvalidArgument("password", "password must be at most 1024 bytes");
  return {};
}

// The schema's rules for every attribute value a write sets (values it keeps are not
// judged again: a rule tightened later does not block unrelated changes).
core::Status CheckAttributes(const core::AttributeSchema& schema, const core::User& user,
                             const std::map<std::string, std::string>& before) {
  for (const auto& [id, text] : user.attributes) {
    if (auto it = before.find(id); it != before.end() && it->second == text) continue;
    const core::AttributeDefinition* a = schema.ById(id);
    if (a == nullptr) return core::InvalidArgument("attributes", "no such attribute is declared: " + id);
    const auto parsed = core::ParseStored(text);
    if (!parsed || parsed->is_null()) return core::InvalidArgument(a->name, a->name + " must be a JSON value");
    const boost::json::value& value = *parsed;
    if (auto violation = core::CheckAttributeValue(*a, value)) return core::InvalidArgument(a->name, violation->message);
  }
  return {};
}

std::string PrimaryEmailKey(const core::User& user) {
  const auto* email = user.profile.PrimaryEmail();
  return email != nullptr ? core::NormalizeEmail(email->value) : std::string();
}

}  // namespace

std::string UserService::AssociatedData(const core::User& user) const {
  // Binds a sealed profile to its environment and user: a row copied over another
  // row's profile fails authentication instead of serving someone else's data.
  return ProfileAssociatedData(user.environment_id, user.id);
}

std::string ExternalIdClaimKind(std::string_view source) { return "external:" + std::string(source); }

std::optional<std::string> UserService::ClaimKey(std::string_view kind, const std::string& value) {
  if (kind == kUsernameClaim) {
    auto folded = core::FoldUsername(value);
    if (!folded) return std::nullopt;
    return *folded;
  }
  if (kind == kEmailClaim) {
    if (!core::IsValidEmail(value)) return std::nullopt;
    return core::NormalizeEmail(value);
  }
  if (value.empty() || value.size() > 4096) return std::nullopt;
  if (kind == kExternalIdClaim || kind.starts_with("external:")) return value;
  if (kind.starts_with("attribute:")) return core::UniqueValueKey(value);
  return std::nullopt;
}

core::Result<std::vector<store::IndexEntry>> UserService::IndexFor(const crypto::EnvironmentKeys& keys,
                                                                   const core::AttributeSchema& schema,
                                                                   const core::User& user,
                                                                   const WriteOptions& options) {
  auto folded = core::FoldUsername(user.username);
  if (!folded) return std::unexpected(folded.error());
  std::vector<store::IndexEntry> index;
  auto claim = [&](std::string kind, const std::string& key, bool unique, bool exclusive = false) {
    std::string digest = crypto::BlindIndex(keys.index, kind, key);
    index.push_back({std::move(kind), std::move(digest), unique, exclusive});
  };
  claim(kUsernameClaim, *folded, true);
  if (const auto* email = user.profile.PrimaryEmail()) {
    if (!core::IsValidEmail(email->value))
      return core::InvalidArgument("emails", "primary email is not a valid email address");
    claim(kEmailClaim, core::NormalizeEmail(email->value), false, options.exclusive_email);
  }
  if (!user.external_id.empty()) claim(kExternalIdClaim, user.external_id, true);
  if (user.archived) claim(kArchivedMarker, "", false);
  for (const auto& [source, value] : user.external_ids)
    if (!value.empty()) claim(ExternalIdClaimKind(source), value, true);
  for (const auto& [id, text] : user.attributes) {
    const core::AttributeDefinition* a = schema.ById(id);
    if (a != nullptr && a->unique) claim(core::AttributeClaimKind(id), core::UniqueValueKey(text), true);
  }
  for (auto& entry : SearchEntries(keys.index, search_, user)) index.push_back(std::move(entry));
  return WithGenerations(keys, std::move(index));
}

core::Result<std::int64_t> UserService::Reindex(const std::string& environment_id, std::int64_t after_number,
                                                int limit, bool archived_only) {
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  auto schema = LoadAttributeSchema(records_, environment_id);
  if (!schema) return std::unexpected(schema.error());
  limit = std::clamp(limit, 1, 1000);
  auto rows = users_.ListUsers(environment_id, after_number, limit);
  if (!rows) return std::unexpected(rows.error());
  for (const auto& row : *rows) {
    auto user = Unseal(*keys, row);
    if (!user) {  // as lists do: one damaged row never stops the rest (unreadable.h)
      SkipUnreadableRow("user", row.id, user.error());
      continue;
    }
    if (archived_only && !user->archived) continue;
    auto index = IndexFor(*keys, *schema, *user, {});
    if (!index) return std::unexpected(index.error());
    store::UserUpdate update;
    update.row = row;
    update.expected_version = row.version;
    update.index = std::move(*index);
    auto st = users_.UpdateUser(update);
    if (!st && st.error().code != ErrorCode::kAborted && st.error().code != ErrorCode::kNotFound)
      return std::unexpected(st.error());
  }
  return static_cast<int>(rows->size()) == limit ? rows->back().number : 0;
}

core::Result<std::vector<std::string>> UserService::Conflicts(const std::string& environment_id,
                                                              const core::User& user, const WriteOptions& options) {
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  auto schema = LoadAttributeSchema(records_, environment_id);
  if (!schema) return std::unexpected(schema.error());
  WriteOptions rules = options;
  if (rules.exclusive_email && !user.id.empty()) {
    // As Update: only an email the write changes is claimed exclusively.
    auto stored = Get(environment_id, user.id);
    if (stored && PrimaryEmailKey(*stored) == PrimaryEmailKey(user)) rules.exclusive_email = false;
  }
  auto index = IndexFor(*keys, *schema, user, rules);
  if (!index) return std::unexpected(index.error());
  return TakenClaims(environment_id, *index, user.id);
}

core::Result<std::vector<std::string>> UserService::TakenClaims(const std::string& environment_id,
                                                                const std::vector<store::IndexEntry>& index,
                                                                const std::string& user_id) {
  std::vector<std::string> taken;
  for (const auto& e : index) {
    if (!e.unique && !e.exclusive) continue;
    // During an index-key rotation a claim is held under two generations: either tells.
    if (std::find(taken.begin(), taken.end(), e.kind) != taken.end()) continue;
    auto rows = users_.FindUsers(environment_id, e.kind, e.digest);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& row : *rows)
      if (row.id != user_id) {
        taken.push_back(e.kind);
        break;
      }
  }
  return taken;
}

core::Result<core::User> UserService::Unseal(const crypto::EnvironmentKeys& keys, const store::UserRow& row) {
  core::User user;
  user.id = row.id;
  user.number = row.number;
  user.environment_id = row.environment_id;
  user.active = row.active;
  user.created_at_ms = row.created_at_ms;
  user.updated_at_ms = row.updated_at_ms;
  user.version = row.version;
  auto plain = directory_.OpenSealed(row.environment_id, keys, row.sealed, AssociatedData(user));
  if (!plain) return std::unexpected(plain.error());
  if (auto st = core::DecodeSealed(*plain, user); !st) return std::unexpected(st.error());
  return user;
}

core::Result<CreatedUser> UserService::Create(const CreateUserRequest& request) {
  auto keys = directory_.KeysFor(request.environment_id);
  if (!keys) return std::unexpected(keys.error());
  auto schema = LoadAttributeSchema(records_, request.environment_id);
  if (!schema) return std::unexpected(schema.error());
  auto member_of = Memberships(request.environment_id, request.member_of);
  if (!member_of) return std::unexpected(member_of.error());
  auto prepared = PrepareCreate(*keys, *schema, request, std::move(*member_of));
  if (!prepared) return std::unexpected(prepared.error());
  if (request.records) {
    auto wanted = request.records(prepared->created.user);
    if (!wanted) return std::unexpected(wanted.error());
    for (const auto& r : *wanted) {
      Record created;
      auto row = records_.PrepareCreate(r, created);
      if (!row) return std::unexpected(row.error());
      prepared->row.records.push_back(std::move(*row));
    }
  }
  auto number = users_.InsertUser(prepared->row);
  if (!number) return std::unexpected(number.error());
  ForgetCount(request.environment_id);
  prepared->created.user.number = *number;
  return std::move(prepared->created);
}

core::Result<std::vector<core::Status>> UserService::CreateBatch(const std::string& environment_id,
                                                                 const std::vector<CreateUserRequest>& requests,
                                                                 std::optional<store::RecordUpdate> record) {
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  auto schema = LoadAttributeSchema(records_, environment_id);
  if (!schema) return std::unexpected(schema.error());
  auto defaults = Memberships(environment_id, {});
  if (!defaults) return std::unexpected(defaults.error());
  std::vector<core::Status> out(requests.size());
  std::vector<std::size_t> slots;  // batch.users[k] is requests[slots[k]]
  store::UserBatch batch;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& request = requests[i];
    if (request.environment_id != environment_id || request.issue_session || request.records) {
      out[i] = core::InvalidArgument("environment",
                                     "a batch creates users of one environment, without sessions or records");
      continue;
    }
    auto member_of = request.member_of.empty() ? *defaults : Memberships(environment_id, request.member_of);
    if (!member_of) {
      out[i] = std::unexpected(member_of.error());
      continue;
    }
    auto prepared = PrepareCreate(*keys, *schema, request, std::move(*member_of));
    if (!prepared) {
      out[i] = std::unexpected(prepared.error());
      continue;
    }
    batch.users.push_back(std::move(prepared->row));
    slots.push_back(i);
  }
  batch.record = std::move(record);
  auto written = users_.InsertUsers(batch);
  if (!written) return std::unexpected(written.error());
  for (std::size_t k = 0; k < written->size(); ++k)
    if (!(*written)[k]) out[slots[k]] = std::unexpected((*written)[k].error());
  if (!batch.users.empty()) ForgetCount(environment_id);
  return out;
}

core::Result<UserService::PreparedUser> UserService::PrepareCreate(const crypto::EnvironmentKeys& keys,
                                                                   const core::AttributeSchema& schema,
                                                                   const CreateUserRequest& request,
                                                                   std::vector<std::string> member_of) {
  PreparedUser prepared;
  core::User& user = prepared.created.user;
  user = request.user;
  user.environment_id = request.environment_id;
  user.id = crypto::NewUuid();
  user.created_at_ms = user.updated_at_ms = clock_.NowMillis();
  user.version = 1;
  if (auto st = CheckAttributes(schema, user, {}); !st) return std::unexpected(st.error());
  if (auto st = core::CheckSealable(user); !st) return std::unexpected(st.error());
  auto index = IndexFor(keys, schema, user, request.options);
  if (!index) return std::unexpected(index.error());

  store::NewUser& row = prepared.row;
  row.row = store::UserRow{user.id, 0, user.environment_id, user.active, user.created_at_ms,
                           user.updated_at_ms, user.version, {}};
  row.row.sealed = crypto::Seal(keys.data, core::EncodeSealed(user), AssociatedData(user));
  row.index = std::move(*index);
  row.member_of = std::move(member_of);
  if (request.password && request.imported_password_hash)
    return core::InvalidArgument("password", "give a password or an encoded password, not both");
  if (request.imported_password_hash) {
    // Roster's own argon2id PHC string (`roster export --with-password-hashes`) is kept
    // as it is, checked as PingOne's {ARGON2} form of it.
    const std::string& hash = *request.imported_password_hash;
    if (auto st = crypto::CheckLegacyPasswordFormat(hash.starts_with("$argon2id$") ? "{ARGON2}" + hash : hash); !st)
      return std::unexpected(st.error());
    row.password_hash = *request.imported_password_hash;
  }
  if (request.password) {
    if (auto st = CheckPassword(*request.password); !st) return std::unexpected(st.error());
    // A claim held already fails here, before the hash: a duplicate sign-up costs a few
    // index reads, not an argon2id. The insert below still decides (a race loses there).
    auto taken = TakenClaims(request.environment_id, row.index, user.id);
    if (!taken) return std::unexpected(taken.error());
    if (!taken->empty()) return core::AlreadyExists(taken->front(), taken->front() + " is already taken");  // as the store says
    auto hash = hasher_.Hash(*request.password);
    if (!hash) return std::unexpected(hash.error());
    row.password_hash = std::move(*hash);
  }
  if (request.issue_session) {
    prepared.created.session_token = crypto::RandomToken();
    const auto now = user.created_at_ms;
    row.session = NewSessionRow(*prepared.created.session_token, user.environment_id, user.id, now);
  }
  if (request.options.audit) {
    store::AuditRow audit = *request.options.audit;
    audit.subject = user.id;
    audit.fields = AuditFieldNames(kAuditProfile | (core::FirstPhiField(user, &schema).empty() ? 0u : kAuditPhi) |
                                   (row.password_hash ? kAuditPassword : 0u));
    row.audit.push_back(std::move(audit));
  }
  return prepared;
}

store::SessionRow UserService::NewSessionRow(const std::string& token, const std::string& environment_id,
                                            const std::string& user_id, std::int64_t now) const {
  return store::SessionRow{keyring_.Digest(token), environment_id, user_id, now, now,
                           policy_.absolute_lifetime_ms ? now + policy_.absolute_lifetime_ms : 0};
}

core::Result<std::vector<std::string>> UserService::Memberships(const std::string& environment_id,
                                                                const std::vector<MembershipRef>& named) {
  std::vector<std::string> ids;
  std::set<std::string> kinds;
  for (const auto& m : named) {
    kinds.insert(m.kind);
    ids.push_back(m.record_id);
  }
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  auto defaults = store_.FindRecords(environment_id, kDefaultClaim,
                                     ClaimLookup(*keys, kDefaultClaim, "1"), clock_.NowMillis());
  if (!defaults) return std::unexpected(defaults.error());
  for (const auto& d : *defaults)
    if (!kinds.contains(d.kind)) ids.push_back(d.id);
  return ids;
}

core::Result<std::string> UserService::PasswordHashOf(const std::string& environment_id, const std::string& user_id) {
  if (!core::IsUuid(user_id)) return core::NotFound("user not found");
  return store_.GetPasswordHash(environment_id, user_id);
}

core::Result<core::User> UserService::Get(const std::string& environment_id, const std::string& id) {
  if (!core::IsUuid(id)) return core::NotFound("user not found");
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  auto row = users_.GetUser(environment_id, id);
  if (!row) return std::unexpected(row.error());
  return Unseal(*keys, *row);
}

core::Result<core::User> UserService::Update(const std::string& environment_id, const std::string& id,
                                             const UserChange& change,
                                             const std::optional<std::string>& new_password,
                                             const WriteOptions& options) {
  if (!core::IsUuid(id)) return core::NotFound("user not found");
  std::optional<std::string> hash;
  if (new_password) {
    if (auto st = CheckPassword(*new_password); !st) return std::unexpected(st.error());
    if (options.clear_password) return core::InvalidArgument("password", "a new password and none at once");
  }
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  auto schema = LoadAttributeSchema(records_, environment_id);
  if (!schema) return std::unexpected(schema.error());
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    auto row = users_.GetUser(environment_id, id);
    if (!row) return std::unexpected(row.error());
    // Checked against the version read; the write below succeeds only if it is still
    // that version, so a retry after a concurrent write fails here.
    if (options.expected_version && *options.expected_version != row->version) return core::VersionMismatch("user");
    auto user = Unseal(*keys, *row);
    if (!user) return std::unexpected(user.error());
    const bool was_archived = user->archived;
    const bool was_locked = user->LockedAt(clock_.NowMillis());
    const std::string email_before = PrimaryEmailKey(*user);
    const core::Contact* primary_before = user->profile.PrimaryEmail();
    const std::string address_before = primary_before != nullptr ? primary_before->value : std::string();
    const auto attributes_before = user->attributes;
    const bool phi_before = !core::FirstPhiField(*user, &*schema).empty();
    if (auto st = change(*user); !st) return std::unexpected(st.error());
    if (auto st = CheckAttributes(*schema, *user, attributes_before); !st) return std::unexpected(st.error());
    if (auto st = core::CheckSealable(*user); !st) return std::unexpected(st.error());
    // An exclusive email is claimed when a write sets it; a kept one stays as it is.
    WriteOptions rules = options;
    rules.exclusive_email = options.exclusive_email && PrimaryEmailKey(*user) != email_before;
    auto index = IndexFor(*keys, *schema, *user, rules);
    if (!index) return std::unexpected(index.error());
    // Hash once, only after the change validated, and outside the write transaction.
    if (new_password && !hash) {
      auto h = hasher_.Hash(*new_password);
      if (!h) return std::unexpected(h.error());
      hash = std::move(*h);
    }
    if (!options.keep_updated_at) user->updated_at_ms = std::max(clock_.NowMillis(), row->updated_at_ms);
    user->version = row->version + 1;
    store::UserUpdate update;
    update.row = store::UserRow{user->id, row->number, environment_id, user->active, user->created_at_ms,
                                user->updated_at_ms, user->version, {}};
    update.row.sealed = crypto::Seal(keys->data, core::EncodeSealed(*user), AssociatedData(*user));
    update.expected_version = row->version;
    update.index = std::move(*index);
    update.password_hash = hash;
    update.clear_password = options.clear_password;
    const bool password_changed = hash.has_value() || options.clear_password;
    // A new (or removed) password, or a user switched off (deactivated, retired, locked), ends its
    // sessions; a password changed through a session keeps that one.
    const bool switched_off =
        (row->active && !user->active) || (!was_archived && user->archived) || (!was_locked && user->LockedAt(clock_.NowMillis()));
    update.revoke_sessions = password_changed || switched_off;
    if (hash && options.keep_session && !switched_off) update.keep_session = keyring_.Digest(*options.keep_session);
    update.memberships = options.memberships;
    // The owner of the address hears of a new password or address there, with the write.
    if (!email_before.empty()) {
      std::vector<const char*> notices;
      if (password_changed) notices.push_back("password_changed");
      if (PrimaryEmailKey(*user) != email_before) notices.push_back("email_changed");
      for (const char* name : notices) {
        auto mail = Notice(*keys, environment_id, name, *user, address_before);
        if (!mail) return std::unexpected(mail.error());
        update.mail.push_back(std::move(*mail));
      }
    }
    if (options.audit) {
      store::AuditRow audit = *options.audit;
      audit.subject = user->id;
      const bool phi = phi_before || !core::FirstPhiField(*user, &*schema).empty();
      audit.fields = AuditFieldNames(kAuditProfile | (phi ? kAuditPhi : 0u) | (password_changed ? kAuditPassword : 0u));
      update.audit.push_back(std::move(audit));
    }
    auto st = users_.UpdateUser(update);
    if (st) return *user;
    if (st.error().code != ErrorCode::kAborted) return std::unexpected(st.error());
  }
  return core::Fail(ErrorCode::kAborted, "user is being changed by others; retry");
}

core::Result<store::MailRow> UserService::Notice(const crypto::EnvironmentKeys& keys,
                                                const std::string& environment_id, const char* name,
                                                const core::User& user, const std::string& to) {
  auto mail_template = LoadTemplate(records_, environment_id, name);
  if (!mail_template) return std::unexpected(mail_template.error());
  auto environment = directory_.GetEnvironment(environment_id);
  const std::map<std::string, std::string> vars{{"username", user.username},
                                                {"environment", environment ? environment->name : environment_id}};
  const core::Mail mail{to, RenderTemplate(mail_template->subject, vars), RenderTemplate(mail_template->body, vars)};
  const auto now = clock_.NowMillis();
  return store::MailRow{0, environment_id, now, now, 0, SealMail(keys, environment_id, mail)};
}

core::Result<std::int64_t> UserService::VersionOf(const std::string& environment_id, const std::string& id) {
  if (!core::IsUuid(id)) return core::NotFound("user not found");
  auto row = users_.GetUser(environment_id, id);
  if (!row) return std::unexpected(row.error());
  return row->version;
}

core::Status UserService::Delete(const std::string& environment_id, const std::string& id,
                                const WriteOptions& options) {
  if (!core::IsUuid(id)) return core::NotFound("user not found");
  std::vector<store::AuditRow> audit;
  if (options.audit) {
    audit.push_back(*options.audit);
    audit.back().subject = id;
    audit.back().fields = AuditFieldNames(kAuditProfile);
  }
  auto st = users_.DeleteUser(environment_id, id, options.expected_version, audit);
  if (!st && st.error().code == ErrorCode::kAborted && options.expected_version) return core::VersionMismatch("user");
  if (st) ForgetCount(environment_id);
  return st;
}

core::Result<std::vector<core::User>> UserService::FindBy(const std::string& environment_id,
                                                          const std::string& kind, const std::string& value) {
  if (kind != kUsernameClaim && kind != kEmailClaim && kind != kExternalIdClaim && !kind.starts_with("external:") &&
      !kind.starts_with("attribute:"))
    return core::InvalidArgument("kind", "users are found by a claim kind");
  const auto claimed = ClaimKey(kind, value);
  if (!claimed) return std::vector<core::User>{};
  const std::string& key = *claimed;
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  auto rows = users_.FindUsers(environment_id, kind, ClaimLookup(*keys, kind, key));
  if (!rows) return std::unexpected(rows.error());
  std::vector<core::User> out;
  for (const auto& row : *rows) {
    auto user = Unseal(*keys, row);
    if (!user) {
      SkipUnreadableRow("user", row.id, user.error());
      continue;
    }
    out.push_back(std::move(*user));
  }
  return out;
}

core::Result<UserPage> UserService::Page(const std::string& environment_id,
                                         const core::Result<std::vector<store::UserRow>>& rows, int limit) {
  if (!rows) return std::unexpected(rows.error());
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  UserPage page;
  page.users.reserve(rows->size());
  for (const auto& row : *rows) {
    auto user = Unseal(*keys, row);
    if (!user) {
      SkipUnreadableRow("user", row.id, user.error());
      continue;
    }
    page.users.push_back(std::move(*user));
  }
  if (static_cast<int>(rows->size()) == limit && !rows->empty()) page.next_after = rows->back().number;
  return page;
}

core::Result<UserPage> UserService::List(const std::string& environment_id, std::int64_t after_number, int limit) {
  limit = std::clamp(limit, 1, 1000);
  return Page(environment_id, users_.ListUsers(environment_id, after_number, limit), limit);
}

core::Result<std::int64_t> UserService::Count(const std::string& environment_id) {
  // A count is O(users) in the store, so it is kept per environment for at most a
  // second and dropped by this process's creates and deletes: exact within one process,
  // at most that stale across processes. Environment ids are random UUIDs, so one
  // process-wide table serves every UserService.
  CountCache& cache = Counts();
  const std::int64_t now = clock_.NowMillis();
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(cache.mutex);
    auto it = cache.counts.find(environment_id);
    if (it != cache.counts.end() && now >= it->second.read_at_ms && now - it->second.read_at_ms < kCountTtlMs)
      return it->second.count;
    generation = cache.generation;
  }
  auto count = users_.CountUsers(environment_id);
  if (!count) return count;
  std::lock_guard lock(cache.mutex);
  // A create or delete of this process since the read began: the count may miss it.
  if (generation != cache.generation) return count;
  if (cache.counts.size() > 10'000) cache.counts.clear();  // bounded: environments are few
  cache.counts[environment_id] = CachedCount{*count, now};
  return count;
}

core::Result<UserPage> UserService::ListMembers(const std::string& environment_id, const std::string& record_id,
                                                std::int64_t after_number, int limit) {
  limit = std::clamp(limit, 1, 1000);
  return Page(environment_id, store_.ListMembers(environment_id, record_id, after_number, limit), limit);
}

core::Result<bool> UserService::CheckStoredPassword(const std::string& environment_id, const std::string& user_id,
                                                    const std::string& password) {
  auto stored = store_.GetPasswordHash(environment_id, user_id);
  if (!stored) {
    if (stored.error().code != ErrorCode::kNotFound) return std::unexpected(stored.error());
    VerifyDummy(password);
    return false;
  }
  const bool imported = !stored->empty() && stored->front() == '{';
  bool ok = false;
  if (imported) {
    auto verified = hasher_.VerifyImported(*stored, password);
    if (!verified) return std::unexpected(verified.error());
    ok = *verified;
    // A salted SHA check takes microseconds: a refusal costs one argon2id like every
    // other, so the time does not tell imported users apart.
    if (!ok) VerifyDummy(password);
  } else {
    ok = hasher_.Verify(*stored, password);
  }
  if (ok && (imported || hasher_.NeedsRehash(*stored))) {
    // Best effort: if the password changed meanwhile, the old hash is not put back.
    if (auto fresh = hasher_.Hash(password)) (void)store_.ReplacePasswordHash(environment_id, user_id, *stored, *fresh);
  }
  return ok;
}

void UserService::VerifyDummy(const std::string& password) {
  // Same work as a real verification, so "no such user" is not faster than "wrong password".
  std::call_once(dummy_once_, [&] { dummy_hash_ = hasher_.Hash(crypto::RandomToken()).value_or(""); });
  (void)hasher_.Verify(dummy_hash_, password);
}

namespace {
// Counted into the process's metrics registry (served at /metrics); no label carries a
// user's value.
metrics::Counter& SignInFailures() {
  static metrics::Counter& c =
      metrics::Registry::Global()
          .AddCounter("roster_signin_failures_total", "Password sign-ins refused (wrong or unknown credentials).")
          .With({});
  return c;
}
metrics::Counter& SignInLockouts() {
  static metrics::Counter& c = metrics::Registry::Global()
                                   .AddCounter("roster_signin_lockouts_total",
                                               "Sign-in attempts refused because the username's attempts are spent.")
                                   .With({});
  return c;
}
metrics::Family<metrics::Counter>& Throttled() {
  static auto& f = metrics::Registry::Global().AddCounter(
      "roster_throttled_total", "Requests refused with 429 by a request bucket, by action.", {"action"});
  return f;
}
// Present (at 0) from the start, so alerts see them before the first event.
[[maybe_unused]] const bool kMetricsRegistered = [] {
  SignInFailures();
  SignInLockouts();
  for (std::size_t i = 0; i < kThrottledActionCount; ++i)
    Throttled().With({ThrottledActionName(static_cast<ThrottledAction>(i))});
  return true;
}();

// The sign-in attempt count of a (folded) username from every address together.
std::string SignInUserKey(const crypto::Keyring& keyring, const std::string& environment_id, const std::string& name) {
  return keyring.Digest("signin/" + environment_id + "/" + name);
}
}  // namespace

core::Status UserService::Admit(ThrottledAction action, std::string_view address, std::string_view credential) {
  auto admitted = throttle_.Take(action, address, credential);
  if (!admitted) Throttled().With({ThrottledActionName(action)}).Inc();
  return admitted;
}

core::Result<SignedIn> UserService::SignIn(const std::string& environment_id, const std::string& username,
                                           const std::string& password, std::string_view address) {
  if (password.size() > kMaxPasswordBytes || username.size() > 1024)
    return core::Fail(ErrorCode::kUnauthenticated, "invalid username or password");
  return Attempt(environment_id, username, address, PasswordCheck(environment_id, password), true);
}

core::Result<core::User> UserService::CheckSignIn(const std::string& environment_id, const std::string& username,
                                                  std::string_view address, const CredentialCheck& proves) {
  if (username.size() > 1024) return core::Fail(ErrorCode::kUnauthenticated, "invalid username or password");
  auto attempt = Attempt(environment_id, username, address, proves, false);
  if (!attempt) return std::unexpected(attempt.error());
  return std::move(attempt->user);
}

UserService::CredentialCheck UserService::PasswordCheck(const std::string& environment_id,
                                                        const std::string& password) {
  return [this, environment_id, password](const core::User* user) -> core::Result<bool> {
    if (password.size() > kMaxPasswordBytes) return false;
    if (!user) {
      VerifyDummy(password);
      return false;
    }
    return CheckStoredPassword(environment_id, user->id, password);
  };
}

core::Result<SignedIn> UserService::Attempt(const std::string& environment_id, const std::string& username,
                                            std::string_view address, const CredentialCheck& proves,
                                            bool open_session) {
  const auto refused = core::Fail(ErrorCode::kUnauthenticated, "invalid username or password");
  auto folded = core::FoldUsername(username);
  const std::string name = folded ? *folded : username;
  const auto now = clock_.NowMillis();
  // Two counts per attempt: the username from this address (the lockout one client
  // can reach), and the username from every address (the ceiling on a distributed guess).
  const bool counted = sign_in_.max_attempts > 0;
  const std::string user_key = counted ? SignInUserKey(keyring_, environment_id, name) : std::string();
  // The username's key, then the address's: an unlock clears every address's by prefix.
  const std::string pair_key =
      counted ? user_key + keyring_.Digest("signin/" + environment_id + "/" + name + "/" + std::string(address))
              : std::string();
  std::int64_t user_hits = 0;
  if (counted) {
    const auto locked = core::TooManyRequests("too many sign-in attempts; try again later",
                                              std::max<std::int64_t>(1, sign_in_.window_ms / 1000));
    auto hits = store_.HitCounter(pair_key, now, sign_in_.window_ms);
    if (!hits) return std::unexpected(hits.error());
    if (*hits > sign_in_.max_attempts) {
      SignInLockouts().Inc();
      return locked;
    }
    if (sign_in_.max_attempts_per_user > 0) {
      auto all = store_.HitCounter(user_key, now, sign_in_.window_ms);
      if (!all) return std::unexpected(all.error());
      user_hits = *all;
      if (user_hits > sign_in_.max_attempts_per_user) {
        SignInLockouts().Inc();
        return locked;
      }
    }
  }
  auto found = FindBy(environment_id, "username", username);
  if (!found) return std::unexpected(found.error());
  if (found->empty()) {
    auto ok = proves(nullptr);
    if (!ok) return std::unexpected(ok.error());
    SignInFailures().Inc();
    return refused;
  }
  core::User user = std::move(found->front());
  auto ok = proves(&user);
  if (!ok) return std::unexpected(ok.error());
  // A retired (archived) user stays retired whatever API archived it and left `active`;
  // a locked one stays out until an API unlocks it.
  if (!*ok || !user.active || user.archived || user.LockedAt(now)) {
    SignInFailures().Inc();
    return refused;
  }
  if (!open_session) {
    if (counted) {
      if (auto st = store_.ResetCounter(pair_key); !st) return std::unexpected(st.error());
      if (user_hits > 1) (void)store_.ResetCounter(user_key);
    }
    return SignedIn{std::move(user), std::string()};
  }
  if (!counted) {
    auto token = IssueSession(environment_id, user.id);
    if (!token) return std::unexpected(token.error());
    return SignedIn{std::move(user), std::move(token.value())};
  }
  // The session and this address's cleared count: one write. The count from every
  // address is cleared too when others than this attempt are in it.
  std::string token = crypto::RandomToken();
  if (auto st = sessions_.CreateSessionClearingCounter(NewSessionRow(token, environment_id, user.id, clock_.NowMillis()),
                                                       pair_key);
      !st)
    return std::unexpected(st.error());
  if (user_hits > 1) (void)store_.ResetCounter(user_key);
  return SignedIn{std::move(user), std::move(token)};
}

core::Status UserService::ClearSignInLockout(const std::string& environment_id, const std::string& user_id) {
  auto user = Get(environment_id, user_id);
  if (!user) return std::unexpected(user.error());
  auto folded = core::FoldUsername(user->username);
  const std::string name = folded ? *folded : user->username;
  // The username's count from every address, and (keyed under it) from each address.
  return store_.ResetCountersWithPrefix(SignInUserKey(keyring_, environment_id, name));
}

core::Result<PasswordLockout> UserService::SignInLockout(const std::string& environment_id,
                                                         const std::string& user_id) {
  auto user = Get(environment_id, user_id);
  if (!user) return std::unexpected(user.error());
  if (sign_in_.max_attempts <= 0 || sign_in_.max_attempts_per_user <= 0) return PasswordLockout{};
  auto folded = core::FoldUsername(user->username);
  auto window = store_.ReadCounter(SignInUserKey(keyring_, environment_id, folded ? *folded : user->username));
  if (!window) return std::unexpected(window.error());
  const auto now = clock_.NowMillis();
  const std::int64_t ends = window->window_start_ms + sign_in_.window_ms;
  // SignIn refuses an attempt that takes the count past the ceiling: at the ceiling, the
  // next one is refused whatever its password, until the window ends.
  if (window->count < sign_in_.max_attempts_per_user || ends <= now) return PasswordLockout{};
  return PasswordLockout{true, std::max<std::int64_t>(1, (ends - now + 999) / 1000)};
}

core::Status UserService::VerifyPassword(const std::string& environment_id, const std::string& user_id,
                                         const std::string& password) {
  if (!core::IsUuid(user_id)) return core::NotFound("user not found");
  if (password.size() > kMaxPasswordBytes) return core::Fail(ErrorCode::kUnauthenticated, "password is incorrect");
  auto ok = CheckStoredPassword(environment_id, user_id, password);
  if (!ok) return std::unexpected(ok.error());
  if (!*ok) return core::Fail(ErrorCode::kUnauthenticated, "password is incorrect");
  return {};
}

core::Result<bool> UserService::HasPassword(const std::string& environment_id, const std::string& user_id) {
  if (!core::IsUuid(user_id)) return core::NotFound("user not found");
  auto stored = store_.GetPasswordHash(environment_id, user_id);
  if (stored) return true;
  if (stored.error().code == ErrorCode::kNotFound) return false;
  return std::unexpected(stored.error());
}

core::Result<std::string> UserService::IssueSession(const std::string& environment_id, const std::string& user_id) {
  std::string token = crypto::RandomToken();
  if (auto st = sessions_.CreateSession(NewSessionRow(token, environment_id, user_id, clock_.NowMillis())); !st)
    return std::unexpected(st.error());
  return token;
}

core::Status UserService::SignOut(std::string_view token) {
  if (token.empty() || token.size() > 256) return core::Fail(ErrorCode::kUnauthenticated, "invalid session token");
  auto st = sessions_.DeleteSession(keyring_.Digest(token));
  if (!st && st.error().code == ErrorCode::kNotFound)
    return core::Fail(ErrorCode::kUnauthenticated, "invalid session token");
  return st;
}

core::Result<bool> UserService::HitMailBudget(const std::string& environment_id, const std::string& key,
                                             std::int64_t budget, std::int64_t window_ms) {
  auto hits = store_.HitCounter(keyring_.Digest("mail/" + environment_id + "/" + key), clock_.NowMillis(), window_ms);
  if (!hits) return std::unexpected(hits.error());
  return budget == 0 || *hits <= budget;
}

core::Result<Session> UserService::AuthenticateSession(std::string_view token) {
  const auto unauthenticated = core::Fail(ErrorCode::kUnauthenticated, "invalid session token");
  if (token.empty() || token.size() > 256) return unauthenticated;
  auto row = sessions_.FindSession(keyring_.Digest(token));
  if (!row) {
    if (row.error().code == ErrorCode::kNotFound) return unauthenticated;
    return std::unexpected(row.error());
  }
  const auto now = clock_.NowMillis();
  // The lifetime is also judged from the creation time, so a lifetime set (or shortened)
  // after a session began holds for it too.
  if ((row->expires_at_ms && now >= row->expires_at_ms) ||
      (policy_.absolute_lifetime_ms && now - row->created_at_ms >= policy_.absolute_lifetime_ms) ||
      (policy_.idle_timeout_ms && now - row->last_used_at_ms >= policy_.idle_timeout_ms))
    return unauthenticated;
  // Record use for the idle timeout, but at most once per quarter timeout (and per
  // minute), so reads do not each become a write.
  if (policy_.idle_timeout_ms &&
      now - row->last_used_at_ms >= std::min<std::int64_t>(policy_.idle_timeout_ms / 4, 60'000)) {
    if (auto st = sessions_.TouchSession(row->digest, now); !st) return std::unexpected(st.error());
  }
  return Session{row->environment_id, row->user_id};
}

}  // namespace roster::service
