// Invitations to administer an environment (CommCare's web-user invitations, issue 17):
// who is invited (an email), with which role, locations, profile and data, by whom and
// when. The invitation is the directory's state, so it lives here for every API: a record
// of kind "invitation" with a unique claim on the lower-cased email, so one email has at
// most one pending invitation per environment, whichever process writes it.
//
//   invitation {"email", "role", "primary_location_id", "assigned_location_ids": [...],
//               "profile" (null: none), "user_data": {...}, "tableau_role" (null),
//               "tableau_groups": [...], "invited_by"} (invited on: the record's created_at_ms)
//
// Location ids are location record ids (service/locations.h); the primary is among the
// assigned ones. What a role, a profile or a Tableau group may be named is the dialect's
// (CommCare's role presets and its domain configuration); this layer keeps what it is given.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/access.h"
#include "service/locations.h"
#include "service/record_service.h"

namespace roster::service {

inline constexpr const char* kInvitationKind = "invitation";
inline constexpr const char* kInvitationEmailClaim = "invitation.email";
// The mailed link's token: a unique claim of the invitation (only its keyed digest is
// stored), valid until the body's "link_expires_at_ms", used once (accepting takes the
// invitation, claims and all).
inline constexpr const char* kInvitationTokenClaim = "invitation.token";
inline constexpr std::int64_t kInvitationLinkLifetimeMs = 7LL * 24 * 60 * 60 * 1000;

// The invitation mail (template `invitation`, mail_templates.h) Create queues.
struct InvitationMail {
  std::string link_base;         // what the mail's {{link}} starts with; the token is appended
  std::string environment_name;  // the project space the mail names
  std::int64_t now_ms = 0;       // the link expires kInvitationLinkLifetimeMs after
};

struct InvitationFields {
  std::string email;  // normalized here (lower-cased)
  std::string role;
  LocationAssignment locations;  // primary "" with no locations
  std::optional<std::string> profile;
  boost::json::object user_data;
  std::optional<std::string> tableau_role;
  std::vector<std::string> tableau_groups;
  std::string invited_by;  // the inviting web user's id
};

// The invitation use cases as `principal` may perform them: inviting needs
// credentials:admin (who may administer the environment is credentials administration).
// Errors: kPermissionDenied; kInvalidArgument naming "email", "role" or the location
// field; kAlreadyExists naming "email" for an email with a pending invitation (CommCare's
// words); kNotFound for an unknown id.
class InvitationAccess {
 public:
  InvitationAccess(RecordService& records, core::Principal principal)
      : records_(records), principal_(std::move(principal)) {}

  // The locations are checked (LocationAccess::CheckAssignment) in the same request; the
  // record and its email claim are one write. With `mail`, the same write also claims a
  // new link token and queues the invitation mail carrying the link to the invitee.
  core::Result<Record> Create(const InvitationFields& fields, const std::optional<InvitationMail>& mail = std::nullopt);
  core::Result<Record> Get(const std::string& id);
  core::Result<std::vector<Record>> List(std::int64_t after_number, int limit);
  // The pending invitation of `email` (normalized here), if any.
  core::Result<std::optional<Record>> FindByEmail(const std::string& email);
  // Accepting: takes (once, however many race) the pending invitation of `email` and
  // returns it, so its role, locations, profile, data and Tableau fields become the web
  // user's; the email is then free for a new invitation. nullopt when none is pending.
  // Needs credentials:admin (who joins the environment is credentials administration).
  core::Result<std::optional<Record>> Accept(const std::string& email);

 private:
  RecordService& records_;
  core::Principal principal_;
};

inline constexpr const char* kInvitationTaken =
    "A user with this email address is already in this project or has a pending invitation.";

}  // namespace roster::service
