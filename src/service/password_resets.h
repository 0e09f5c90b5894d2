// PasswordResets: the password-reset flow every API that offers one shares. Request
// issues a single-use reset token (a record that expires) and queues the
// `password_reset` mail carrying it in the same write; Complete takes the token (once)
// and sets the new password, which ends the user's sessions. The APIs own only their
// wire: which user a request names, and how they answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/user.h"
#include "service/services.h"

namespace roster::service {

// Where an API keeps its reset tokens: a record kind and the token's unique claim of its
// own, so a token issued through one API is completed through that API only.
struct ResetTokens {
  std::string record_kind;
  std::string claim_kind;
  // What the mail's {{link}} starts with (the reset page, src/dialects/pages/); the token
  // is appended. Empty: the link is the token alone.
  std::string link_base = {};
  // How long a token lives.
  std::int64_t lifetime_ms = 60 * 60 * 1000;
  // 0: a 64-character token; N: a code of N upper-case letters and digits (PingOne's
  // 8-character recovery code), completed case-insensitively, for callers that also
  // name the user (Complete's `for_user`) and throttle attempts.
  int code_length = 0;
  // The mail template sent (mail_templates.h): `password_reset`, or `recovery_code` for a code.
  std::string mail_template = "password_reset";
};

class PasswordResets {
 public:
  static constexpr std::int64_t kTokenLifetimeMs = 60 * 60 * 1000;  // ResetTokens' default
  // Mail a requester can trigger per budget key (an address, a username) per window.
  static constexpr std::int64_t kMailBudget = 5;
  static constexpr std::int64_t kMailWindowMs = 60 * 60 * 1000;

  PasswordResets(const Services& services, ResetTokens tokens) : s_(services), tokens_(std::move(tokens)) {}

  // Counts one request against the mail budget of `budget_key`. Within the budget, and
  // when `user` is given and has a primary email, creates a token that expires after
  // ResetTokens::lifetime_ms and queues the environment's `password_reset` mail to that address
  // in the same write. Otherwise it makes one padding write instead, so a request costs
  // the same writes whether or not anyone is mailed. Returns whether a mail was queued,
  // which the caller must not reveal.
  core::Result<bool> Request(const std::string& environment_id, const std::string& budget_key,
                             const core::User* user);
  // Request's budget count and, within it for a user with a primary email, its token
  // record and mail, unwritten (for a caller that writes them in another write's
  // transaction: a new user's confirmation link, AccountConfirmations::PrepareNew);
  // nullopt where Request makes its padding write instead.
  core::Result<std::optional<NewRecordRequest>> Link(const std::string& environment_id, const std::string& budget_key,
                                                     const core::User* user);

  // Takes `token` and sets the user's new password (ending all of the user's sessions),
  // applying `change` (if any) to the user in the same write.
  // kNotFound "reset token is invalid or expired" for a token that is unknown, expired,
  // already used, or (with `for_user`) issued for another user, which leaves it unused;
  // also when its user no longer exists. The password's own errors come from
  // UserService::Update, after the token was used.
  core::Result<core::User> Complete(const std::string& environment_id, const std::string& token,
                                    const std::string& new_password,
                                    const std::optional<std::string>& for_user = std::nullopt,
                                    const UserChange& change = {});

 private:
  Services s_;
  ResetTokens tokens_;
};

}  // namespace roster::service
