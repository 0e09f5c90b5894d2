#include "service/user_service.h"

#include "core/profile_codec.h"
#include "core/rules.h"

namespace roster::service {
namespace {

using core::ErrorCode;

constexpr int kMaxUpdateAttempts = 8;
constexpr std::size_t kMaxPasswordBytes = 1024;

core::Status CheckPassword(const std::string& password) {
  if (password.empty()) return core::InvalidArgument("password", "password must not be empty");
  if (password.size() > kMaxPasswordBytes)
    return core::InvalidArgument("password", "password must be at most 1024 bytes");
  return {};
}

}  // namespace

std::string UserService::AssociatedData(const core::User& user) const {
  // Binds a sealed profile to its environment and user: a row copied over another
  // row's profile fails authentication instead of serving someone else's data.
  return "roster/profile/v1/" + user.environment_id + "/" + user.id;
}

core::Result<std::vector<store::IndexEntry>> UserService::IndexFor(const crypto::EnvironmentKeys& keys,
                                                                   const core::User& user) {
  auto folded = core::FoldUsername(user.username);
  if (!folded) return std::unexpected(folded.error());
  std::vector<store::IndexEntry> index;
  index.push_back({"username", crypto::BlindIndex(keys.index, "username", *folded), true});
  if (const auto* email = user.profile.PrimaryEmail()) {
    if (!core::IsValidEmail(email->value))
      return core::InvalidArgument("emails", "primary email is not a valid email address");
    index.push_back({"email", crypto::BlindIndex(keys.index, "email", core::NormalizeEmail(email->value)), false});
  }
  return index;
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
  auto plain = crypto::Open(keys.data, row.sealed, AssociatedData(user));
  if (!plain) return std::unexpected(plain.error());
  if (auto st = core::DecodeSealed(*plain, user); !st) return std::unexpected(st.error());
  return user;
}

core::Result<CreatedUser> UserService::Create(const CreateUserRequest& request) {
  auto keys = directory_.KeysFor(request.environment_id);
  if (!keys) return std::unexpected(keys.error());
  core::User user = request.user;
  user.environment_id = request.environment_id;
  user.id = crypto::NewUuid();
  user.created_at_ms = user.updated_at_ms = clock_.NowMillis();
  user.version = 1;
  auto index = IndexFor(*keys, user);
  if (!index) return std::unexpected(index.error());

  store::NewUser row;
  row.row = store::UserRow{user.id, 0, user.environment_id, user.active, user.created_at_ms,
                           user.updated_at_ms, user.version, {}};
  row.row.sealed = crypto::Seal(keys->data, core::EncodeSealed(user), AssociatedData(user));
  row.index = std::move(*index);
  if (request.password) {
    if (auto st = CheckPassword(*request.password); !st) return std::unexpected(st.error());
    auto hash = hasher_.Hash(*request.password);
    if (!hash) return std::unexpected(hash.error());
    row.password_hash = std::move(*hash);
  }
  CreatedUser created;
  if (request.issue_session) {
    created.session_token = crypto::RandomToken();
    const auto now = user.created_at_ms;
    row.session = store::SessionRow{keyring_.Digest(*created.session_token), user.environment_id, user.id,
                                    now, now,
                                    policy_.absolute_lifetime_ms ? now + policy_.absolute_lifetime_ms : 0};
  }
  auto number = users_.InsertUser(row);
  if (!number) return std::unexpected(number.error());
  user.number = *number;
  created.user = std::move(user);
  return created;
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
                                             const std::optional<std::string>& new_password) {
  if (!core::IsUuid(id)) return core::NotFound("user not found");
  std::optional<std::string> hash;
  if (new_password) {
    if (auto st = CheckPassword(*new_password); !st) return std::unexpected(st.error());
  }
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    auto row = users_.GetUser(environment_id, id);
    if (!row) return std::unexpected(row.error());
    auto user = Unseal(*keys, *row);
    if (!user) return std::unexpected(user.error());
    if (auto st = change(*user); !st) return std::unexpected(st.error());
    auto index = IndexFor(*keys, *user);
    if (!index) return std::unexpected(index.error());
    // Hash once, only after the change validated, and outside the write transaction.
    if (new_password && !hash) {
      auto h = hasher_.Hash(*new_password);
      if (!h) return std::unexpected(h.error());
      hash = std::move(*h);
    }
    user->updated_at_ms = std::max(clock_.NowMillis(), row->updated_at_ms);
    user->version = row->version + 1;
    store::UserUpdate update;
    update.row = store::UserRow{user->id, row->number, environment_id, user->active, user->created_at_ms,
                                user->updated_at_ms, user->version, {}};
    update.row.sealed = crypto::Seal(keys->data, core::EncodeSealed(*user), AssociatedData(*user));
    update.expected_version = row->version;
    update.index = std::move(*index);
    update.password_hash = hash;
    update.revoke_sessions = hash.has_value();
    auto st = users_.UpdateUser(update);
    if (st) return *user;
    if (st.error().code != ErrorCode::kAborted) return std::unexpected(st.error());
  }
  return core::Fail(ErrorCode::kAborted, "user is being changed by others; retry");
}

core::Status UserService::Delete(const std::string& environment_id, const std::string& id) {
  if (!core::IsUuid(id)) return core::NotFound("user not found");
  return users_.DeleteUser(environment_id, id);
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
  if ((row->expires_at_ms && now >= row->expires_at_ms) ||
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
