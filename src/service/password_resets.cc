#include "service/password_resets.h"

#include <cctype>
#include <map>

#include "crypto/crypto.h"
#include "service/mail_templates.h"

namespace roster::service {
namespace {

namespace json = boost::json;

std::unexpected<core::Error> InvalidToken() { return core::NotFound("reset token is invalid or expired"); }

// The user a token record was issued for ("userId" in tokens Catalyze issued before the
// flow moved here).
std::optional<std::string> UserOf(const Record& record) {
  for (const char* key : {"user", "userId"})
    if (const auto* v = record.body.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return std::nullopt;
}

// A token as ResetTokens asks: 64 hex characters, or a code of `length` characters of
// an alphabet of 32 (no 0/O, 1/I), 5 random bits each.
std::string NewToken(int length) {
  const std::string token = crypto::RandomToken();
  if (length <= 0) return token;
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string code;
  for (int i = 0; i < length && static_cast<std::size_t>(2 * i + 1) < token.size(); ++i)
    code += kAlphabet[std::stoi(token.substr(2 * static_cast<std::size_t>(i), 2), nullptr, 16) % 32];
  return code;
}

// How a presented token is looked up: codes case-insensitively.
std::string Normalized(std::string token, int code_length) {
  if (code_length > 0)
    for (char& c : token) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return token;
}

}  // namespace

core::Result<bool> PasswordResets::Request(const std::string& environment_id, const std::string& budget_key,
                                           const core::User* user) {
  auto link = Link(environment_id, budget_key, user);
  if (!link) return std::unexpected(link.error());
  if (!*link) return false;
  if (auto created = s_.records.Create(**link); !created) return std::unexpected(created.error());
  return true;
}

core::Result<std::optional<NewRecordRequest>> PasswordResets::Link(const std::string& environment_id,
                                                                   const std::string& budget_key,
                                                                   const core::User* user) {
  auto budget = s_.users.HitMailBudget(environment_id, budget_key, kMailBudget, kMailWindowMs);
  if (!budget) return std::unexpected(budget.error());
  const core::Contact* primary = user ? user->profile.PrimaryEmail() : nullptr;
  if (!*budget || primary == nullptr) {
    (void)s_.users.HitMailBudget(environment_id, "pad", 0, kMailWindowMs);
    return std::optional<NewRecordRequest>();
  }
  auto mail_template = LoadTemplate(s_.records, environment_id, tokens_.mail_template);
  if (!mail_template) return std::unexpected(mail_template.error());
  auto environment = s_.directory.GetEnvironment(environment_id);
  const std::string token = NewToken(tokens_.code_length);
  const std::map<std::string, std::string> vars{{"username", user->username},
                                                {"token", token},
                                                {"code", token},
                                                {"link", tokens_.link_base + token},
                                                {"environment", environment ? environment->name : environment_id},
                                                {"expiresInMinutes", std::to_string(tokens_.lifetime_ms / 60000)},
                                                {"expiresInHours", std::to_string(tokens_.lifetime_ms / 3600000)}};
  NewRecordRequest r;
  r.environment_id = environment_id;
  r.kind = tokens_.record_kind;
  r.body = json::object{{"user", user->id}};
  r.claims = {{tokens_.claim_kind, token, true}};
  r.expires_at_ms = s_.clock.NowMillis() + tokens_.lifetime_ms;
  r.mail = Mail{primary->value, RenderTemplate(mail_template->subject, vars),
                RenderTemplate(mail_template->body, vars)};  // stored with the token, in one transaction
  return std::optional<NewRecordRequest>(std::move(r));
}

core::Result<core::User> PasswordResets::Complete(const std::string& environment_id, const std::string& token,
                                                  const std::string& new_password,
                                                  const std::optional<std::string>& for_user,
                                                  const UserChange& change) {
  if (token.empty() || token.size() > 256) return InvalidToken();
  auto found = s_.records.Find(environment_id, tokens_.claim_kind, Normalized(token, tokens_.code_length));
  if (!found) return std::unexpected(found.error());
  const Record* reset = nullptr;
  for (const auto& r : *found)
    if (r.kind == tokens_.record_kind) reset = &r;
  if (reset == nullptr) return InvalidToken();
  const auto user_id = UserOf(*reset);
  if (!user_id || (for_user && *for_user != *user_id)) return InvalidToken();
  // Exactly one caller takes the token, however many race to use it.
  auto taken = s_.records.Take(environment_id, tokens_.record_kind, reset->id);
  if (!taken) {
    if (taken.error().code == core::ErrorCode::kNotFound) return InvalidToken();
    return std::unexpected(taken.error());
  }
  auto updated = s_.users.Update(
      environment_id, *user_id,
      [&change](core::User& u) -> core::Status { return change ? change(u) : core::Status{}; }, new_password);
  if (!updated && updated.error().code == core::ErrorCode::kNotFound) return InvalidToken();
  return updated;
}

}  // namespace roster::service
