// Web users (CommCare's): accounts of one environment held as records, each naming its
// API key, with an optional password for HTTP Basic and Digest (http_credentials.h).
// Made by `roster commcare web-user create` and by an invitee on the invitation page
// (src/dialects/pages/), both through CreateWebUser, which accepts the email's pending
// invitation (invitations.h) so the web user joins with its role, locations, profile,
// data and Tableau fields.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>

#include "core/access.h"
#include "core/error.h"
#include "service/record_service.h"
#include "service/services.h"

namespace roster::service {

// Records of this kind with a unique claim on the normalized email; the body holds
// {"email", "key_id", "role"?, locations, profile, data, Tableau fields, password secrets?}.
inline constexpr const char* kWebUserKind = "commcare.web_user";
inline constexpr const char* kWebUserEmailClaim = "commcare.web_user.email";
// The realm a web user's Digest secrets are computed for: CommCare HQ's (django-digest's default).
inline constexpr const char* kWebUserDigestRealm = "DJANGO";

std::vector<Claim> WebUserClaims(const Record& web_user);

struct NewWebUser {
  Record record;
  NewApiKey key;  // its secret shown once
  std::optional<Record> accepted_invitation;
};

// Creates the web user `email` of `environment`: a CommCare app key with `scopes` (a web
// user's defaults when none), the record with the password's secrets when `password` is
// given (hashed before the write, in the record's own write), and accepts the email's
// pending invitation (InvitationAccess::Accept: taken once however many race; given back
// if the web user cannot be made). kInvalidArgument naming "email" or "password";
// kAlreadyExists naming "email" when the environment has a web user with this email;
// with `require_invitation`, kNotFound (nothing made) when no invitation is pending.
core::Result<NewWebUser> CreateWebUser(const Services& services, const Environment& environment,
                                       const std::string& email, std::optional<core::Scopes> scopes = std::nullopt,
                                       const std::optional<std::string>& password = std::nullopt,
                                       bool require_invitation = false);

// The invitation page's two steps (CommCare's accept-invitation sign-up). `token` is the
// mailed link's (invitations.h, InvitationMail). kNotFound "invitation link is invalid or
// expired" for a token that is unknown, expired, or whose invitation was already accepted.
core::Result<Record> FindInvitationByToken(const Services& services, const std::string& environment_id,
                                           const std::string& token);
// The invitee signs up: CreateWebUser for the invitation's email with `password` (its
// rules: kInvalidArgument naming "password", checked before anything is taken), accepting
// that invitation, once however many requests race; kNotFound as above, and for the loser
// of a race; kAlreadyExists when the email is already a web user of the environment.
core::Result<NewWebUser> SignUpByInvitation(const Services& services, const std::string& environment_id,
                                            const std::string& token, const std::string& password);

}  // namespace roster::service
