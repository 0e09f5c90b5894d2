#include "service/account_confirmations.h"

#include <boost/json.hpp>

namespace roster::service {
namespace json = boost::json;

AccountConfirmations::AccountConfirmations(const Services& services, std::string link_base)
    : s_(services), link_base_(std::move(link_base)) {}

ResetTokens AccountConfirmations::Tokens(std::string link_base) {
  ResetTokens tokens{kTokenKind, kTokenClaim, std::move(link_base)};
  tokens.lifetime_ms = kTokenLifetimeMs;
  tokens.mail_template = "account_confirmation";
  return tokens;
}

void AccountConfirmations::MarkUnconfirmed(core::User& user) {
  user.active = false;
  user.dialect_json[kAccountKey] = json::serialize(json::object{{"confirmed", false}});
}

bool AccountConfirmations::IsConfirmed(const core::User& user) {
  const auto it = user.dialect_json.find(kAccountKey);
  if (it == user.dialect_json.end()) return true;
  boost::system::error_code ec;
  const json::value v = json::parse(it->second, ec);
  if (ec || !v.is_object()) return true;
  const auto* confirmed = v.get_object().if_contains("confirmed");
  return !(confirmed && confirmed->is_bool() && !confirmed->get_bool());
}

core::Status AccountConfirmations::Send(const std::string& environment_id, const core::User& user) {
  if (IsConfirmed(user)) return core::Fail(core::ErrorCode::kFailedPrecondition, "the account is already confirmed");
  if (!user.profile.PrimaryEmail())
    return core::Fail(core::ErrorCode::kFailedPrecondition,
                      "the user has no email address to send the confirmation to");
  auto sent = PasswordResets(s_, Tokens(link_base_)).Request(environment_id, "confirm/" + user.id, &user);
  if (!sent) return std::unexpected(sent.error());
  if (!*sent)
    return core::TooManyRequests("too many confirmation mails for this user; try again later",
                                 PasswordResets::kMailWindowMs / 1000);
  return {};
}

void AccountConfirmations::PrepareNew(CreateUserRequest& request, bool send_now) const {
  MarkUnconfirmed(request.user);
  if (!send_now) return;
  request.records = [s = s_, link_base = link_base_, environment_id = request.environment_id](
                        const core::User& user) -> core::Result<std::vector<NewRecordRequest>> {
    if (!user.profile.PrimaryEmail())
      return core::Fail(core::ErrorCode::kFailedPrecondition,
                        "the user has no email address to send the confirmation to");
    auto link = PasswordResets(s, Tokens(link_base)).Link(environment_id, "confirm/" + user.id, &user);
    if (!link) return std::unexpected(link.error());
    if (!*link)  // a new user's budget is whole: not reached
      return core::TooManyRequests("too many confirmation mails for this user; try again later",
                                   PasswordResets::kMailWindowMs / 1000);
    return std::vector<NewRecordRequest>{std::move(**link)};
  };
}

core::Result<core::User> AccountConfirmations::Confirm(const std::string& environment_id, const std::string& token,
                                                       const std::string& password) {
  auto confirmed = PasswordResets(s_, Tokens()).Complete(
      environment_id, token, password, std::nullopt, [](core::User& u) -> core::Status {
        // CommCare's IllegalAccountConfirmation: a confirmed account is not confirmed again.
        if (IsConfirmed(u)) return core::Fail(core::ErrorCode::kFailedPrecondition, "the account is already confirmed");
        u.dialect_json.erase(kAccountKey);
        u.active = true;
        return {};
      });
  if (!confirmed && confirmed.error().code == core::ErrorCode::kNotFound)
    return core::NotFound("confirmation link is invalid or expired");
  return confirmed;
}

}  // namespace roster::service
