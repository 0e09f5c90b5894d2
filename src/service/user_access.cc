#include "service/user_access.h"

#include "service/attribute_schema.h"
#include "service/audit.h"

namespace roster::service {

using core::ErrorCode;

UserAccess UserService::As(core::Principal principal) { return UserAccess(*this, records_, std::move(principal)); }

core::Result<const core::AttributeSchema*> UserAccess::SchemaFor(bool needed) {
  if (!needed) return nullptr;
  if (!schema_) {
    auto loaded = LoadAttributeSchema(records_, principal_.environment_id);
    if (!loaded) return std::unexpected(loaded.error());
    schema_ = std::move(*loaded);
  }
  return &*schema_;
}

core::Status UserAccess::Audit(std::string_view action, std::string_view subject, const core::Error* error,
                               std::uint32_t fields) {
  AuditLog* log = users_.audit_log();
  if (log == nullptr) return {};
  return log->Record(log->Row(principal_, action, subject, error, fields));
}

std::optional<store::AuditRow> UserAccess::WriteRecord(std::string_view action, std::string_view subject) {
  AuditLog* log = users_.audit_log();
  if (log == nullptr) return std::nullopt;
  return log->Row(principal_, action, subject, nullptr, 0);
}

std::uint32_t UserAccess::ReadFields(const core::User& user) {
  auto schema = SchemaFor(!user.attributes.empty());
  const core::AttributeSchema* rules = schema ? *schema : nullptr;
  return kAuditProfile | (core::FirstPhiField(user, rules).empty() ? 0u : kAuditPhi);
}

core::Status UserAccess::AuditReads(std::string_view action, const std::vector<core::User>& users) {
  AuditLog* log = users_.audit_log();
  if (log == nullptr || users.empty()) return {};
  std::vector<store::AuditRow> rows;
  rows.reserve(users.size());
  for (const auto& u : users) rows.push_back(log->Row(principal_, action, u.id, nullptr, ReadFields(u)));
  return log->Record(std::move(rows));
}

// The outcome of a use case, recorded: `result` passes through unless the record of
// what it revealed cannot be made durable.
#define ROSTER_AUDIT_FAILURE(action, subject, result)                          \
  do {                                                                         \
    if (!(result)) {                                                           \
      (void)Audit(action, subject, &(result).error(), 0);                      \
      return result;                                                           \
    }                                                                          \
  } while (0)

void UserAccess::View(core::User& user) {
  if (core::SeesEverything(principal_, user.id)) return;
  // Custom attributes may be PHI: the schema says, read only when it can matter.
  const bool attributes = !principal_.Has(core::kPhiRead) && !user.attributes.empty();
  auto schema = SchemaFor(attributes);
  if (!schema) {
    // Unable to tell which attributes are PHI: show none of them.
    user.attributes.clear();
    core::Redact(principal_, user, nullptr);
    return;
  }
  core::Redact(principal_, user, *schema);
}

core::Result<CreatedUser> UserAccess::Create(CreateUserRequest request) {
  auto created = [&]() -> core::Result<CreatedUser> {
    if (auto st = core::MayCreate(principal_); !st) return std::unexpected(st.error());
    request.environment_id = principal_.environment_id;
    auto schema = SchemaFor(!principal_.Has(core::kPhiWrite) && !request.user.attributes.empty());
    if (!schema) return std::unexpected(schema.error());
    if (auto st = core::CheckChange(principal_, nullptr, request.user, *schema); !st)
      return std::unexpected(st.error());
    request.options.audit = WriteRecord("user.create", "");
    return users_.Create(request);
  }();
  ROSTER_AUDIT_FAILURE("user.create", "", created);
  // Someone signing up sees its own account; anyone else, what its scopes show.
  if (principal_.Has(core::kProfileWrite)) View(created->user);
  return created;
}

core::Result<core::User> UserAccess::Get(const std::string& id) {
  auto user = [&]() -> core::Result<core::User> {
    if (auto st = core::MayRead(principal_, id); !st) return std::unexpected(st.error());
    return users_.Get(principal_.environment_id, id);
  }();
  ROSTER_AUDIT_FAILURE("user.read", id, user);
  View(*user);
  if (auto st = Audit("user.read", id, nullptr, ReadFields(*user)); !st) return std::unexpected(st.error());
  return user;
}

core::Result<core::User> UserAccess::GetByNumber(std::int64_t number) {
  auto user = [&]() -> core::Result<core::User> {
    if (number <= 0) return core::NotFound("user not found");
    // Keyset paging in number order: the first user after number - 1 is the one, if any.
    auto page = users_.List(principal_.environment_id, number - 1, 1);
    if (!page) return std::unexpected(page.error());
    if (page->users.empty() || page->users.front().number != number) return core::NotFound("user not found");
    core::User found = std::move(page->users.front());
    if (auto st = core::MayRead(principal_, found.id); !st) return std::unexpected(st.error());
    return found;
  }();
  ROSTER_AUDIT_FAILURE("user.read", "", user);
  View(*user);
  if (auto st = Audit("user.read", user->id, nullptr, ReadFields(*user)); !st) return std::unexpected(st.error());
  return user;
}

core::Result<std::int64_t> UserAccess::VersionOf(const std::string& id) {
  if (auto st = core::MayRead(principal_, id); !st) return std::unexpected(st.error());
  return users_.VersionOf(principal_.environment_id, id);
}

core::Result<core::User> UserAccess::Update(const std::string& id, const UserChange& change,
                                            const std::optional<std::string>& new_password,
                                            const WriteOptions& options,
                                            const std::optional<std::string>& current_password) {
  auto updated = UpdateAudited(id, change, new_password, options, current_password);
  ROSTER_AUDIT_FAILURE("user.update", id, updated);
  View(*updated);
  return updated;
}

core::Result<core::User> UserAccess::UpdateAudited(const std::string& id, const UserChange& change,
                                                   const std::optional<std::string>& new_password,
                                                   WriteOptions options,
                                                   const std::optional<std::string>& current_password) {
  if (auto st = core::MayWrite(principal_, id); !st) return std::unexpected(st.error());
  if (options.clear_password && !new_password) {
    // Removing a password proves nothing: it needs password:set, as setting one does.
    if (auto st = core::MaySetPassword(principal_, id); !st) return std::unexpected(st.error());
  }
  if (new_password) {
    if (current_password) {
      if (auto st = users_.VerifyPassword(principal_.environment_id, id, *current_password); !st) {
        if (st.error().code == ErrorCode::kUnauthenticated)
          return core::Fail(ErrorCode::kUnauthenticated, "the current password is incorrect", "current_password");
        return std::unexpected(st.error());
      }
    } else if (auto st = core::MaySetPassword(principal_, id); !st) {
      return std::unexpected(st.error());
    }
  }
  auto schema = SchemaFor(!principal_.IsSelf(id) && !principal_.Has(core::kPhiWrite));
  if (!schema) return std::unexpected(schema.error());
  const core::AttributeSchema* rules = *schema;
  // A principal that may neither read nor write PHI changes the user as it sees it: the
  // change starts without the PHI it never received, so a replace that leaves PHI out
  // (or keeps only part of a list it cannot see, as PingOne's one `address` of several)
  // leaves it as it was (CheckChange restores it) instead of counting as a write of PHI.
  core::Principal phi_view = principal_;
  phi_view.scopes |= core::kContactRead;  // contact fields: CheckChange's own rule
  const bool blind = !principal_.Has(core::kPhiWrite) && !core::SeesEverything(phi_view, id);
  options.audit = WriteRecord("user.update", id);
  return users_.Update(
      principal_.environment_id, id,
      [&](core::User& u) -> core::Status {
        const core::User before = u;
        if (blind) core::Redact(phi_view, u, nullptr);
        if (auto st = change(u); !st) return st;
        return core::CheckChange(principal_, &before, u, rules);
      },
      new_password, options);
}

core::Status UserAccess::Delete(const std::string& id, const WriteOptions& options) {
  auto deleted = [&]() -> core::Status {
    if (auto st = core::MayWrite(principal_, id); !st) return st;
    WriteOptions audited = options;
    audited.audit = WriteRecord("user.delete", id);
    return users_.Delete(principal_.environment_id, id, audited);
  }();
  ROSTER_AUDIT_FAILURE("user.delete", id, deleted);
  return deleted;
}

core::Result<std::vector<core::User>> UserAccess::FindBy(const std::string& kind, const std::string& value) {
  if (auto st = core::MayList(principal_); !st) return std::unexpected(st.error());
  auto found = users_.FindBy(principal_.environment_id, kind, value);
  if (!found) return found;
  // A lookup by a field the principal may not see finds nobody it could not find by
  // filtering what it sees.
  std::vector<core::User> out;
  for (auto& u : *found) {
    const bool hidden_contact = kind == kEmailClaim && !principal_.Has(core::kContactRead) && !principal_.IsSelf(u.id);
    if (hidden_contact) continue;
    View(u);
    out.push_back(std::move(u));
  }
  if (auto st = AuditReads("user.search", out); !st) return std::unexpected(st.error());
  return out;
}

core::Result<QueryResult> UserAccess::Query(UserQuery query) {
  if (auto st = core::MayList(principal_); !st) return std::unexpected(st.error());
  query.environment_id = principal_.environment_id;
  if (!principal_.Has(core::kPhiRead | core::kContactRead)) {
    query.view = [this](core::User& u) { View(u); };
    query.view_keeps = [this](std::string_view path) { return core::RedactKeeps(principal_, path); };
  }
  auto result = users_.Query(query);
  if (result)
    if (auto st = AuditReads("user.search", result->users); !st) return std::unexpected(st.error());
  return result;
}

core::Result<UserPage> UserAccess::List(std::int64_t after_number, int limit) {
  if (auto st = core::MayList(principal_); !st) return std::unexpected(st.error());
  auto page = users_.List(principal_.environment_id, after_number, limit);
  if (page) {
    for (auto& u : page->users) View(u);
    if (auto st = AuditReads("user.list", page->users); !st) return std::unexpected(st.error());
  }
  return page;
}

core::Result<UserPage> UserAccess::ListMembers(const std::string& record_id, std::int64_t after_number, int limit) {
  if (auto st = core::MayList(principal_); !st) return std::unexpected(st.error());
  auto page = users_.ListMembers(principal_.environment_id, record_id, after_number, limit);
  if (page) {
    for (auto& u : page->users) View(u);
    if (auto st = AuditReads("user.list", page->users); !st) return std::unexpected(st.error());
  }
  return page;
}

core::Result<std::int64_t> UserAccess::Count() {
  if (auto st = core::MayList(principal_); !st) return std::unexpected(st.error());
  return users_.Count(principal_.environment_id);
}

core::Result<std::int64_t> UserAccess::NumberAt(std::int64_t offset) {
  if (auto st = core::MayList(principal_); !st) return std::unexpected(st.error());
  return users_.NumberAt(principal_.environment_id, offset);
}

core::Result<std::vector<std::string>> UserAccess::Conflicts(const core::User& user, const WriteOptions& options) {
  if (user.id.empty()) {
    if (auto st = core::MayCreate(principal_); !st) return std::unexpected(st.error());
  } else if (auto st = core::MayWrite(principal_, user.id); !st) {
    return std::unexpected(st.error());
  }
  return users_.Conflicts(principal_.environment_id, user, options);
}

core::Result<SignedIn> UserAccess::SignIn(const std::string& username, const std::string& password,
                                          std::string_view address) {
  auto signed_in = users_.SignIn(principal_.environment_id, username, password, address);
  // A failure names no subject: the username is a value, and may name nobody.
  if (!signed_in) {
    (void)Audit("session.sign-in", "", &signed_in.error(), kAuditPassword);
    return signed_in;
  }
  if (auto st = Audit("session.sign-in", signed_in->user.id, nullptr, kAuditPassword); !st)
    return std::unexpected(st.error());
  return signed_in;
}

core::Status UserAccess::SignOut(std::string_view token) {
  auto session = users_.AuthenticateSession(token);
  auto ended = session ? users_.SignOut(token) : core::Status(std::unexpected(session.error()));
  const std::string subject = session ? session->user_id : std::string();
  ROSTER_AUDIT_FAILURE("session.end", subject, ended);
  if (auto st = Audit("session.end", subject, nullptr, 0); !st) return st;
  return ended;
}

#undef ROSTER_AUDIT_FAILURE

}  // namespace roster::service
