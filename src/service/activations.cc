#include "service/activations.h"

#include <map>

#include "crypto/crypto.h"
#include "service/environment_settings.h"
#include "service/mail_templates.h"

namespace roster::service {
namespace {

namespace json = boost::json;

std::unexpected<core::Error> InvalidToken() { return core::NotFound("activation link is invalid or expired"); }

}  // namespace

std::string_view ActivationModeName(ActivationMode mode) { return mode == ActivationMode::kNone ? "none" : "email"; }

std::optional<ActivationMode> ParseActivationMode(std::string_view name) {
  if (name == "email") return ActivationMode::kEmail;
  if (name == "none") return ActivationMode::kNone;
  return std::nullopt;
}

core::Result<ActivationMode> Activations::Mode(const std::string& environment_id) {
  auto settings = LoadEnvironmentSettings(s_.records, environment_id);
  if (!settings) return std::unexpected(settings.error());
  if (const auto* v = settings->if_contains("activation"); v && v->is_string())
    if (auto mode = ParseActivationMode(v->get_string())) return *mode;
  return ActivationMode::kEmail;
}

core::Status Activations::SetMode(const std::string& environment_id, ActivationMode mode) {
  const std::string name(ActivationModeName(mode));
  return UpdateEnvironmentSettings(s_.records, environment_id, [&](json::object& body) { body["activation"] = name; });
}

core::Status Activations::PrepareSignUp(CreateUserRequest& request) {
  auto mode = Mode(request.environment_id);
  if (!mode) return std::unexpected(mode.error());
  request.user.active = *mode == ActivationMode::kNone;
  if (*mode == ActivationMode::kNone) return {};
  request.records = [self = *this, environment_id = request.environment_id](
                        const core::User& user) mutable -> core::Result<std::vector<NewRecordRequest>> {
    auto link = self.LinkFor(environment_id, user);
    if (!link) return std::unexpected(link.error());
    if (!*link) return std::vector<NewRecordRequest>{};
    return std::vector<NewRecordRequest>{std::move(**link)};
  };
  return {};
}

core::Result<std::optional<NewRecordRequest>> Activations::LinkFor(const std::string& environment_id,
                                                                   const core::User& user) {
  const core::Contact* primary = user.profile.PrimaryEmail();
  if (primary == nullptr) return std::optional<NewRecordRequest>();
  auto mail_template = LoadTemplate(s_.records, environment_id, "activation");
  if (!mail_template) return std::unexpected(mail_template.error());
  auto environment = s_.directory.GetEnvironment(environment_id);
  const std::string token = crypto::RandomToken();
  const std::map<std::string, std::string> vars{
      {"username", user.username},
      {"token", token},
      {"link", link_base_ + token},
      {"environment", environment ? environment->name : environment_id},
      {"expiresInHours", std::to_string(kTokenLifetimeMs / 3600000)}};
  NewRecordRequest r;
  r.environment_id = environment_id;
  r.kind = kTokenKind;
  r.body = json::object{{"user", user.id}};
  r.claims = {{kTokenClaim, token, true}};
  r.expires_at_ms = s_.clock.NowMillis() + kTokenLifetimeMs;
  r.mail = Mail{primary->value, RenderTemplate(mail_template->subject, vars),
                RenderTemplate(mail_template->body, vars)};  // with the token, in one transaction
  return std::optional<NewRecordRequest>(std::move(r));
}

core::Result<core::User> Activations::Complete(const std::string& environment_id, const std::string& token) {
  auto found = s_.records.Find(environment_id, kTokenClaim, token);
  if (!found) return std::unexpected(found.error());
  const Record* record = nullptr;
  for (const auto& r : *found)
    if (r.kind == kTokenKind) record = &r;
  if (record == nullptr) return InvalidToken();
  const auto* user = record->body.if_contains("user");
  if (user == nullptr || !user->is_string()) return InvalidToken();
  const std::string user_id(user->get_string());
  // Exactly one caller takes the token, however many race to use it.
  auto taken = s_.records.Take(environment_id, kTokenKind, record->id);
  if (!taken) {
    if (taken.error().code == core::ErrorCode::kNotFound) return InvalidToken();
    return std::unexpected(taken.error());
  }
  auto updated = s_.users.Update(
      environment_id, user_id,
      [](core::User& u) -> core::Status {
        u.active = true;
        return {};
      },
      std::nullopt);
  if (!updated && updated.error().code == core::ErrorCode::kNotFound) return InvalidToken();
  return updated;
}

}  // namespace roster::service
