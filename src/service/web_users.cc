#include "service/web_users.h"

#include "core/rules.h"
#include "service/audit.h"
#include "service/http_credentials.h"
#include "service/invitations.h"

namespace roster::service {
namespace json = boost::json;
using core::ErrorCode;

std::vector<Claim> WebUserClaims(const Record& r) {
  const auto* v = r.body.if_contains("email");
  return {{kWebUserEmailClaim, v && v->is_string() ? std::string(v->get_string()) : std::string(), true}};
}

core::Result<NewWebUser> CreateWebUser(const Services& s, const Environment& env, const std::string& email,
                                       std::optional<core::Scopes> scopes,
                                       const std::optional<std::string>& password, bool require_invitation) {
  const std::string normalized = core::NormalizeEmail(email);
  if (!core::IsValidEmail(normalized)) return core::InvalidArgument("email", "email must be a valid email address");
  const auto taken = [&] {
    return core::AlreadyExists("email", "a web user with this email already exists in domain " + env.name);
  };
  // The record's unique claim below decides; this look-up only spares minting (and
  // revoking) a key for an email that is plainly taken.
  auto existing = s.records.Find(env.id, kWebUserEmailClaim, normalized);
  if (!existing) return std::unexpected(existing.error());
  if (!existing->empty()) return taken();
  // What Basic and Digest check (argon2id, and the HA1s for the realm), sealed with the
  // record; hashed once, before anything is written.
  json::object secrets;
  if (password) {
    auto made = HttpCredentials(s, kWebUserDigestRealm).PasswordSecrets(normalized, *password);
    if (!made) return std::unexpected(made.error());
    secrets = std::move(*made);
  }
  // The key is an app key (not admin) for CommCare only, with a web user's scopes
  // (core::DefaultScopes) unless others are named; the dialect accepts it only together
  // with this web user's record.
  KeyGrant grant;
  grant.apis = core::kCommCareApi;
  grant.kind = core::CredentialKind::kWebUserKey;
  grant.scopes = scopes;
  auto key = s.directory.CreateApiKey(env.name, KeyRole::kApp, normalized, grant);
  if (!key) return std::unexpected(key.error());
  NewRecordRequest r;
  r.environment_id = env.id;
  r.kind = kWebUserKind;
  r.body = json::object{{"email", normalized}, {"key_id", key->info.id}};
  for (const auto& [k, v] : secrets) r.body[k] = v;
  r.claims = {{kWebUserEmailClaim, normalized, true}};
  // Accepting the email's pending invitation (CommCare's accept flow, Invitation.accept):
  // the web user joins with the invitation's role, locations, profile, data and Tableau
  // fields, and the invitation is no longer pending. Taken first, so two creates cannot
  // both accept it; given back if the web user cannot be made.
  core::Principal admin;
  admin.environment_id = env.id;
  admin.api = core::kCommCareApi;
  admin.kind = core::CredentialKind::kAdminKey;
  admin.scopes = core::kAllScopes;
  auto invitation = InvitationAccess(s.records, admin).Accept(normalized);
  if (!invitation) {
    (void)s.directory.RevokeApiKey(key->info.id);
    return std::unexpected(invitation.error());
  }
  if (!*invitation && require_invitation) {
    (void)s.directory.RevokeApiKey(key->info.id);
    return core::NotFound("no pending invitation for this email");
  }
  if (*invitation)
    for (const char* field : {"role", "primary_location_id", "assigned_location_ids", "profile", "user_data",
                              "tableau_role", "tableau_groups"})
      if (const auto* v = (*invitation)->body.if_contains(field)) r.body[field] = *v;
  auto created = s.records.Create(r);
  if (!created) {
    (void)s.directory.RevokeApiKey(key->info.id);  // no usable key without its web user
    if (*invitation) {
      NewRecordRequest back;
      back.environment_id = env.id;
      back.kind = kInvitationKind;
      back.id = (*invitation)->id;
      back.body = (*invitation)->body;
      back.claims = {{kInvitationEmailClaim, normalized, true}};  // the mailed link no longer works
      (void)s.records.Create(back);
    }
    if (created.error().code == ErrorCode::kAlreadyExists) return taken();
    return std::unexpected(created.error());
  }
  return NewWebUser{std::move(*created), std::move(*key), std::move(*invitation)};
}

core::Result<Record> FindInvitationByToken(const Services& s, const std::string& environment_id,
                                           const std::string& token) {
  const auto invalid = [] { return core::NotFound("invitation link is invalid or expired"); };
  if (token.empty() || token.size() > 256) return invalid();
  auto found = s.records.Find(environment_id, kInvitationTokenClaim, token);
  if (!found) return std::unexpected(found.error());
  for (auto& r : *found) {
    if (r.kind != kInvitationKind) continue;
    const auto* expires = r.body.if_contains("link_expires_at_ms");
    if (!expires || !expires->is_int64() || expires->get_int64() <= s.clock.NowMillis()) return invalid();
    return std::move(r);
  }
  return invalid();
}

core::Result<NewWebUser> SignUpByInvitation(const Services& s, const std::string& environment_id,
                                            const std::string& token, const std::string& password) {
  auto invitation = FindInvitationByToken(s, environment_id, token);
  if (!invitation) return std::unexpected(invitation.error());
  auto env = s.directory.GetEnvironment(environment_id);
  if (!env) return std::unexpected(env.error());
  const auto* email = invitation->body.if_contains("email");
  if (!email || !email->is_string()) return core::NotFound("invitation link is invalid or expired");
  // CreateWebUser checks and hashes the password before it takes anything, so a refused
  // password does not spend the link.
  auto made = CreateWebUser(s, *env, std::string(email->get_string()), std::nullopt, password, true);
  if (!made && made.error().code == ErrorCode::kNotFound) return core::NotFound("invitation link is invalid or expired");
  if (!made) return made;
  // A credential event, as OAuth's: a web user made with a password (and a key) on the
  // strength of the invitation (principal.id), durable before the page answers.
  if (AuditLog* log = s.users.audit_log()) {
    core::Principal principal;
    principal.environment_id = environment_id;
    principal.api = core::kCommCareApi;
    principal.kind = core::CredentialKind::kWebUserKey;
    principal.credential_id = invitation->id;
    if (auto st = log->Record(log->Row(principal, "invitation.accept", made->record.id, nullptr,
                                       kAuditCredentials | kAuditPassword));
        !st)
      return std::unexpected(st.error());
  }
  return made;
}

}  // namespace roster::service
