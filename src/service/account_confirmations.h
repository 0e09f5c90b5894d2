// Account confirmation: a user an administrator creates unconfirmed (CommCare's
// `require_account_confirmation`, two-stage provisioning) is inactive and has no password
// until it confirms its account: it follows the mailed link and chooses its password,
// which sets the password and activates the user in one write, once (a confirmed account
// cannot be confirmed again). The state is the user's own, in the service's dialect_json
// slot kAccountKey ({"confirmed": false}; absent: confirmed), so every API sees and keeps
// it. The mail and its single-use token are the password-reset flow's (password_resets.h)
// with their own token kinds and the `account_confirmation` template; the page that takes
// the token is wire (src/dialects/pages/).
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/user.h"
#include "service/password_resets.h"
#include "service/services.h"
#include "service/user_service.h"

namespace roster::service {

inline constexpr const char* kAccountKey = "account";

class AccountConfirmations {
 public:
  // A link works for 7 days, once.
  static constexpr std::int64_t kTokenLifetimeMs = 7LL * 24 * 60 * 60 * 1000;
  static constexpr const char* kTokenKind = "account.confirmation";
  static constexpr const char* kTokenClaim = "account.confirmation.token";

  // `link_base`: what the mail's {{link}} starts with; the token is appended.
  explicit AccountConfirmations(const Services& services, std::string link_base = {});

  // The token kinds and mail of the flow (for the page that completes it).
  static ResetTokens Tokens(std::string link_base = {});

  // Makes `user` (not yet created) unconfirmed: inactive, awaiting confirmation.
  static void MarkUnconfirmed(core::User& user);
  static bool IsConfirmed(const core::User& user);

  // Mails the confirmation link to the unconfirmed `user`'s primary email (a token valid
  // kTokenLifetimeMs and the mail in one write; at most PasswordResets::kMailBudget an
  // hour per user). kFailedPrecondition "the account is already confirmed" for a
  // confirmed user, "the user has no email address to send the confirmation to" for one
  // without an email; kResourceExhausted when the user's mail budget is spent.
  core::Status Send(const std::string& environment_id, const core::User& user);

  // A new user made unconfirmed (MarkUnconfirmed) and, with `send_now`, its confirmation
  // link and mail (as Send makes them) written in the user's own transaction
  // (CreateUserRequest::records): a creation that fails leaves no link, and a link that
  // cannot be made fails the creation (nothing written). Then give the request to
  // UserService::Create.
  void PrepareNew(CreateUserRequest& request, bool send_now) const;

  // Takes `token` (once) and confirms its user: `password` set, active, confirmed, in one
  // write. kNotFound "confirmation link is invalid or expired" for an unknown, expired or
  // used token; kFailedPrecondition "the account is already confirmed" (the token is
  // spent, nothing changes); the password's own errors (kInvalidArgument).
  core::Result<core::User> Confirm(const std::string& environment_id, const std::string& token,
                                   const std::string& password);

 private:
  Services s_;
  std::string link_base_;
};

}  // namespace roster::service
