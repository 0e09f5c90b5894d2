#include "service/invitations.h"

#include "core/rules.h"
#include "crypto/crypto.h"
#include "service/mail_templates.h"

namespace roster::service {
namespace json = boost::json;
using core::ErrorCode;

core::Result<Record> InvitationAccess::Create(const InvitationFields& f, const std::optional<InvitationMail>& mail) {
  if (auto st = core::Require(principal_, core::kCredentialsAdmin); !st) return std::unexpected(st.error());
  const std::string email = core::NormalizeEmail(f.email);
  if (email.empty() || !core::IsValidEmail(email))
    return core::InvalidArgument("email", "User has an invalid email address for their email");
  if (f.role.empty()) return core::InvalidArgument("role", "'role' required for each user");
  auto locations = LocationAccess(records_, principal_).CheckAssignment(f.locations);
  if (!locations) return std::unexpected(locations.error());
  json::array assigned;
  for (const auto& id : locations->locations) assigned.emplace_back(id);
  json::array groups;
  for (const auto& g : f.tableau_groups) groups.emplace_back(g);
  NewRecordRequest r;
  r.environment_id = principal_.environment_id;
  r.kind = kInvitationKind;
  r.body = json::object{{"email", email},
                        {"role", f.role},
                        {"primary_location_id", locations->primary},
                        {"assigned_location_ids", std::move(assigned)},
                        {"profile", f.profile ? json::value(*f.profile) : json::value(nullptr)},
                        {"user_data", f.user_data},
                        {"tableau_role", f.tableau_role ? json::value(*f.tableau_role) : json::value(nullptr)},
                        {"tableau_groups", std::move(groups)},
                        {"invited_by", f.invited_by}};
  r.claims = {{kInvitationEmailClaim, email, true}};
  if (mail) {
    auto mail_template = LoadTemplate(records_, principal_.environment_id, "invitation");
    if (!mail_template) return std::unexpected(mail_template.error());
    const std::string token = crypto::RandomToken();
    const std::map<std::string, std::string> vars{
        {"email", email},
        {"role", f.role},
        {"environment", mail->environment_name},
        {"link", mail->link_base + token},
        {"expiresInDays", std::to_string(kInvitationLinkLifetimeMs / (24 * 3600 * 1000LL))}};
    r.body["link_expires_at_ms"] = mail->now_ms + kInvitationLinkLifetimeMs;
    r.claims.push_back({kInvitationTokenClaim, token, true});
    r.mail = Mail{email, RenderTemplate(mail_template->subject, vars), RenderTemplate(mail_template->body, vars)};
  }
  auto created = records_.Create(r);
  if (!created && created.error().code == ErrorCode::kAlreadyExists)
    return core::AlreadyExists("email", kInvitationTaken);
  return created;
}

core::Result<Record> InvitationAccess::Get(const std::string& id) {
  return records_.Get(principal_.environment_id, kInvitationKind, id);
}

core::Result<std::vector<Record>> InvitationAccess::List(std::int64_t after_number, int limit) {
  return records_.List(principal_.environment_id, kInvitationKind, after_number, limit);
}

core::Result<std::optional<Record>> InvitationAccess::FindByEmail(const std::string& email) {
  auto found = records_.Find(principal_.environment_id, kInvitationEmailClaim, core::NormalizeEmail(email));
  if (!found) return std::unexpected(found.error());
  for (auto& r : *found)
    if (r.kind == kInvitationKind) return std::optional<Record>(std::move(r));
  return std::optional<Record>();
}

core::Result<std::optional<Record>> InvitationAccess::Accept(const std::string& email) {
  if (auto st = core::Require(principal_, core::kCredentialsAdmin); !st) return std::unexpected(st.error());
  auto pending = FindByEmail(email);
  if (!pending || !*pending) return pending;
  auto taken = records_.Take(principal_.environment_id, kInvitationKind, (*pending)->id);
  if (!taken) {
    if (taken.error().code == core::ErrorCode::kNotFound) return std::optional<Record>();  // accepted meanwhile
    return std::unexpected(taken.error());
  }
  return std::optional<Record>(std::move(*taken));
}

}  // namespace roster::service
