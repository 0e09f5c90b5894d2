#include "service/activations.h"

#include <map>

#include "crypto/crypto.h"
#include "service/mail_templates.h"

namespace roster::service {
namespace {

namespace json = boost::json;

// One settings record per environment, found by its unique claim.
constexpr const char* kSettingsKind = "environment.settings";
constexpr const char* kSettingsClaim = "environment.settings";

std::unexpected<core::Error> InvalidToken() { return core::NotFound("activation link is invalid or expired"); }

}  // namespace

std::string_view ActivationModeName(ActivationMode mode) { return mode == ActivationMode::kNone ? "none" : "email"; }

std::optional<ActivationMode> ParseActivationMode(std::string_view name) {
  if (name == "email") return ActivationMode::kEmail;
  if (name == "none") return ActivationMode::kNone;
  return std::nullopt;
}

core::Result<ActivationMode> Activations::Mode(const std::string& environment_id) {
  auto found = s_.records.Find(environment_id, kSettingsClaim, "settings");
  if (!found) return std::unexpected(found.error());
  for (const auto& r : *found) {
    if (r.kind != kSettingsKind) continue;
    if (const auto* v = r.body.if_contains("activation"); v && v->is_string())
      if (auto mode = ParseActivationMode(v->get_string())) return *mode;
  }
  return ActivationMode::kEmail;
}

core::Status Activations::SetMode(const std::string& environment_id, ActivationMode mode) {
  const std::string name(ActivationModeName(mode));
  const auto claims = [](const Record&) { return std::vector<Claim>{{kSettingsClaim, "settings", true}}; };
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto found = s_.records.Find(environment_id, kSettingsClaim, "settings");
    if (!found) return std::unexpected(found.error());
    if (!found->empty()) {
      auto updated = s_.records.Update(environment_id, kSettingsKind, found->front().id,
                                       [&](Record& r) -> core::Status {
                                         r.body["activation"] = name;
                                         return {};
                                       },
                                       claims);
      if (!updated) return std::unexpected(updated.error());
      return {};
    }
    NewRecordRequest r;
    r.environment_id = environment_id;
    r.kind = kSettingsKind;
    r.body = json::object{{"activation", name}};
    r.claims = {{kSettingsClaim, "settings", true}};
    auto created = s_.records.Create(r);
    if (created) return {};
    // Another process made it first: update that one.
    if (created.error().code != core::ErrorCode::kAlreadyExists) return std::unexpected(created.error());
  }
  return core::Internal("cannot save the environment's settings");
}

core::Result<bool> Activations::Request(const std::string& environment_id, const core::User& user) {
  const core::Contact* primary = user.profile.PrimaryEmail();
  if (primary == nullptr || user.active) return false;
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
  if (auto created = s_.records.Create(r); !created) return std::unexpected(created.error());
  return true;
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
