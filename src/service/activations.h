// Activations: how a self-signed-up user becomes active, per environment. In `email`
// mode (the default) a new inactive user with a primary email is sent the `activation`
// mail carrying a single-use link (a token record that expires, and the mail, in one
// write); following it and confirming activates the user. In `none` mode users are
// active at creation. The mode is an environment setting (`roster env set NAME
// --catalyze-activation email|none`); the Catalyze API's sign-up reads it. The pages
// that take the token are wire (src/dialects/pages/); the policy is here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/user.h"
#include "service/services.h"
#include "service/user_service.h"

namespace roster::service {

enum class ActivationMode { kEmail, kNone };
std::string_view ActivationModeName(ActivationMode mode);
std::optional<ActivationMode> ParseActivationMode(std::string_view name);

class Activations {
 public:
  // A link works for 48 hours (docs/security.md), once.
  static constexpr std::int64_t kTokenLifetimeMs = 48LL * 60 * 60 * 1000;
  static constexpr const char* kTokenKind = "activation";
  static constexpr const char* kTokenClaim = "activation.token";

  // `link_base`: what the mail's {{link}} starts with; the token is appended.
  explicit Activations(const Services& services, std::string link_base = {})
      : s_(services), link_base_(std::move(link_base)) {}

  core::Result<ActivationMode> Mode(const std::string& environment_id);
  core::Status SetMode(const std::string& environment_id, ActivationMode mode);

  // A self sign-up by the environment's mode: in `none` mode the user is created active;
  // in `email` mode inactive and, when it has a primary email, with a token valid
  // kTokenLifetimeMs and the environment's `activation` mail carrying its link, written in
  // the user's own transaction (CreateUserRequest::records), so a sign-up that fails
  // leaves neither. Then give the request to UserService::Create.
  core::Status PrepareSignUp(CreateUserRequest& request);

  // Takes `token` (once) and activates its user. kNotFound "activation link is invalid
  // or expired" for an unknown, expired or used token, or a user that no longer exists.
  core::Result<core::User> Complete(const std::string& environment_id, const std::string& token);

 private:
  // The token record and mail for `user`, unwritten; nullopt for a user without a
  // primary email.
  core::Result<std::optional<NewRecordRequest>> LinkFor(const std::string& environment_id, const core::User& user);

  Services s_;
  std::string link_base_;
};

}  // namespace roster::service
