#include "service/user_access.h"

#include "service/attribute_schema.h"

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
  if (auto st = core::MayCreate(principal_); !st) return std::unexpected(st.error());
  request.environment_id = principal_.environment_id;
  auto schema = SchemaFor(!principal_.Has(core::kPhiWrite) && !request.user.attributes.empty());
  if (!schema) return std::unexpected(schema.error());
  if (auto st = core::CheckChange(principal_, nullptr, request.user, *schema); !st) return std::unexpected(st.error());
  auto created = users_.Create(request);
  if (!created) return created;
  // Someone signing up sees its own account; anyone else, what its scopes show.
  if (principal_.Has(core::kProfileWrite)) View(created->user);
  return created;
}

core::Result<core::User> UserAccess::Get(const std::string& id) {
  if (auto st = core::MayRead(principal_, id); !st) return std::unexpected(st.error());
  auto user = users_.Get(principal_.environment_id, id);
  if (user) View(*user);
  return user;
}

core::Result<core::User> UserAccess::GetByNumber(std::int64_t number) {
  if (number <= 0) return core::NotFound("user not found");
  // Keyset paging in number order: the first user after number - 1 is the one, if any.
  auto page = users_.List(principal_.environment_id, number - 1, 1);
  if (!page) return std::unexpected(page.error());
  if (page->users.empty() || page->users.front().number != number) return core::NotFound("user not found");
  core::User user = std::move(page->users.front());
  if (auto st = core::MayRead(principal_, user.id); !st) return std::unexpected(st.error());
  View(user);
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
  if (auto st = core::MayWrite(principal_, id); !st) return std::unexpected(st.error());
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
  auto updated = users_.Update(
      principal_.environment_id, id,
      [&](core::User& u) -> core::Status {
        const core::User before = u;
        if (blind) core::Redact(phi_view, u, nullptr);
        if (auto st = change(u); !st) return st;
        return core::CheckChange(principal_, &before, u, rules);
      },
      new_password, options);
  if (updated) View(*updated);
  return updated;
}

core::Status UserAccess::Delete(const std::string& id, const WriteOptions& options) {
  if (auto st = core::MayWrite(principal_, id); !st) return st;
  return users_.Delete(principal_.environment_id, id, options);
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
  return out;
}

core::Result<QueryResult> UserAccess::Query(UserQuery query) {
  if (auto st = core::MayList(principal_); !st) return std::unexpected(st.error());
  query.environment_id = principal_.environment_id;
  if (!principal_.Has(core::kPhiRead | core::kContactRead)) query.view = [this](core::User& u) { View(u); };
  return users_.Query(query);
}

core::Result<UserPage> UserAccess::List(std::int64_t after_number, int limit) {
  if (auto st = core::MayList(principal_); !st) return std::unexpected(st.error());
  auto page = users_.List(principal_.environment_id, after_number, limit);
  if (page)
    for (auto& u : page->users) View(u);
  return page;
}

core::Result<UserPage> UserAccess::ListMembers(const std::string& record_id, std::int64_t after_number, int limit) {
  if (auto st = core::MayList(principal_); !st) return std::unexpected(st.error());
  auto page = users_.ListMembers(principal_.environment_id, record_id, after_number, limit);
  if (page)
    for (auto& u : page->users) View(u);
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

}  // namespace roster::service
