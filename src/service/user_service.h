// UserService: the use cases on users (create, read, merge-update, delete) and their
// sessions. The only code that seals profiles, derives blind indexes, hashes
// passwords and issues tokens. Dialects call it with canonical users; every call is
// scoped to one environment. Thread-safe; Create and Update hash passwords (argon2id),
// so call them from a worker thread, never an I/O thread.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "core/access.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/schema.h"
#include "core/user.h"
#include "crypto/crypto.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "service/search_index.h"
#include "service/throttle.h"
#include "service/user_query.h"
#include "store/store.h"

namespace roster::service {

// The claims a user holds (store::IndexEntry kinds). Every unique identifier is a claim
// written in the user's own transaction, so the store's unique index is the only
// arbiter; a conflict is kAlreadyExists whose Error::field is the claim kind.
inline constexpr const char* kUsernameClaim = "username";      // unique, folded
inline constexpr const char* kEmailClaim = "email";            // lookup; exclusive on request
inline constexpr const char* kExternalIdClaim = "externalId";  // unique, exact
// Held by every archived (retired) user, the same digest for all of an environment's:
// what lets the query engine count an index entry's holders that lists show
// (user_query.cc) without opening them. Reveals which users are retired, as the users
// table's `active` reveals which are disabled (docs/security.md).
inline constexpr const char* kArchivedMarker = "archived";
// "external:<source>" for User::external_ids (unique per source, exact).
std::string ExternalIdClaimKind(std::string_view source);
// core::AttributeClaimKind(id) ("attribute:<id>") for unique schema attributes.

// How long a user session lives. The defaults are NIST SP 800-63B-4's AAL2 reauthentication
// limits (sec. 2.2.3: an overall timeout of no more than 24 hours, an inactivity timeout of
// no more than 1 hour), since Roster holds PHI; docs/security.md. 0 turns a limit off.
struct SessionPolicy {
  static constexpr std::int64_t kDefaultIdleTimeoutMs = 60 * 60 * 1000;
  static constexpr std::int64_t kDefaultAbsoluteLifetimeMs = 24 * 60 * 60 * 1000;
  std::int64_t idle_timeout_ms = kDefaultIdleTimeoutMs;            // since the session's last use
  std::int64_t absolute_lifetime_ms = kDefaultAbsoluteLifetimeMs;  // since sign-in, however busy
};

struct MembershipRef {
  std::string kind;
  std::string record_id;
};

// {kind, record ids}: the user's memberships among records of `kind` become these.
using MembershipSet = store::MembershipSet;

// Sign-in lockout: at most `max_attempts` attempts per username from one client address
// in a fixed window, and at most `max_attempts_per_user` per username from all addresses
// together (every attempt counts, and a success clears both counts), so the budget holds
// exactly however many attempts arrive at once, and one client cannot lock a user out of
// signing in from elsewhere. max_attempts 0 disables both.
struct SignInPolicy {
  std::int64_t max_attempts = 5;
  std::int64_t window_ms = 15 * 60 * 1000;
  std::int64_t max_attempts_per_user = 50;  // 0: no ceiling across addresses
};

// A user's password lockout: the sign-in attempts counted against its username from
// every address have reached the SignInPolicy ceiling (max_attempts_per_user), so it
// signs in from nowhere until the window ends or ClearSignInLockout.
struct PasswordLockout {
  bool locked = false;
  std::int64_t seconds_until_unlock = 0;  // while locked: until the window ends (at least 1)
};

// Conditions and platform rules a write carries beside its change.
struct WriteOptions {
  // If-Match: the version the client last read. A user that has moved on fails the
  // write unchanged (see Update/Delete).
  std::optional<std::int64_t> expected_version;
  // The primary email must be held by no other user (QuickBlox's rule); enforced in the
  // write's own transaction.
  bool exclusive_email = false;
  // Update only: each set replaces the user's memberships among records of its kind,
  // in the update's own transaction. An id that is not a record of that kind in the
  // environment fails the update (kNotFound, field "record") and nothing changes.
  std::vector<MembershipSet> memberships;
  // Update only: the session token of a user changing its own password through that
  // session. The new password ends every other session of the user; this one goes on
  // (unless the same write deactivates or archives the user).
  std::optional<std::string> keep_session;
  // Update only: the user's password is removed (it then has none: no password sign-in
  // until one is set), as a new password would be: its sessions end and the owner of the
  // primary address is told. Not with a new password (kInvalidArgument).
  bool clear_password = false;
  // Update only: bookkeeping the user did not ask for (QuickBlox's last_request_at): the
  // version moves on, updated_at stays.
  bool keep_updated_at = false;
  // The write's audit record (service/audit.h), appended in the write's own
  // transaction; UserService fills in the subject (a new user's id) and the field
  // groups written. Unset: the write is not audited (AuditLog off, internal writes).
  std::optional<store::AuditRow> audit;
};

struct CreateUserRequest {
  std::string environment_id;
  core::User user;  // username, active and profile are taken; ids and times are assigned
  std::optional<std::string> password;
  // A hash imported from another system ("{SSHA256}...", see crypto/legacy_password.h);
  // verified on sign-in and replaced by argon2id then. Exclusive with `password`.
  std::optional<std::string> imported_password_hash;
  bool issue_session = false;
  // Records (groups, populations) to join. For each record kind with a default record
  // (RecordService kDefaultClaim) not named here, the user joins the default too.
  std::vector<MembershipRef> member_of;
  WriteOptions options;
  // Records to create in the user's own transaction, made from the user as it will be
  // stored (its id assigned): a sign-up's single-use link and its mail
  // (Activations::PrepareSignUp, AccountConfirmations::PrepareNew), so that the user and
  // its link land together or not at all. Create only (CreateBatch refuses it).
  std::function<core::Result<std::vector<NewRecordRequest>>(const core::User& user)> records;
};

struct SignedIn {
  core::User user;
  std::string session_token;  // shown once
};

// A page of users in number order; `next_after` feeds the next call (0: no more).
struct UserPage {
  std::vector<core::User> users;
  std::int64_t next_after = 0;
};

struct CreatedUser {
  core::User user;
  std::optional<std::string> session_token;  // shown once
};

struct Session {
  std::string environment_id;
  std::string user_id;
};

class UserAccess;
class AuditLog;

// Applies a change to a user; returns an error to abort the update unchanged.
using UserChange = std::function<core::Status(core::User&)>;

class UserService {
 public:
  UserService(store::Store& store, DirectoryService& directory, const crypto::Keyring& keyring,
              const crypto::PasswordHasher& hasher, const core::Clock& clock, SessionPolicy policy = {},
              SignInPolicy sign_in = {}, ThrottlePolicy throttle = {})
      : store_(store), users_(store), sessions_(store), directory_(directory), records_(store, directory, clock),
        keyring_(keyring), hasher_(hasher), clock_(clock), policy_(policy), sign_in_(sign_in),
        throttle_(clock, throttle) {}

  // Every API calls this before an action an attacker repeats (throttle.h): one token
  // from the action's bucket for the client `address` and for the authenticated
  // `credential` (an API key, application or client id; empty: none).
  // kResourceExhausted with Error::retry_after_s when either is spent.
  core::Status Admit(ThrottledAction action, std::string_view address, std::string_view credential);

  // The use cases below as `principal` may perform them (service/user_access.h): what
  // every API calls on behalf of a credential.
  UserAccess As(core::Principal principal);

  // The audit trail every UserAccess records to (null: none). Set once at start-up.
  void SetAuditLog(AuditLog* audit) { audit_ = audit; }
  AuditLog* audit_log() const { return audit_; }

  // kInvalidArgument (bad username or email), kAlreadyExists (field: the claim kind).
  // With a password, a claim another user holds already is found before the password
  // is hashed (a duplicate sign-up costs no argon2id); the write still decides.
  core::Result<CreatedUser> Create(const CreateUserRequest& request);
  // Bulk import: the requests (all of `environment_id`, no sessions) validated as Create
  // validates and written in one transaction, with `record` (an import's checkpoint,
  // RecordService::PrepareUpdate) updated in it. A request that fails its checks, or
  // whose claim a stored user or an earlier request of the batch holds, gets its error
  // and the others land. The call's own error means nothing landed.
  core::Result<std::vector<core::Status>> CreateBatch(const std::string& environment_id,
                                                      const std::vector<CreateUserRequest>& requests,
                                                      std::optional<store::RecordUpdate> record);
  // kNotFound for an id that is not a user of the environment (malformed ids included).
  core::Result<core::User> Get(const std::string& environment_id, const std::string& id);
  // Reads, applies `change`, re-validates and writes, retrying if the user changed
  // concurrently. A new password is re-hashed; it, or the change making the user
  // inactive or archived, ends all of the user's sessions (but options.keep_session).
  // A new password or primary email queues a notice (mail templates "password_changed",
  // "email_changed") to the primary address the user had before, in the same write; a
  // user without one gets none. `options.memberships` are
  // replaced in the same write: all of it lands, or none of it. With
  // options.expected_version, a user read at another version fails unchanged with
  // kVersionMismatch (no retry past it: the write is conditioned on the version read).
  core::Result<core::User> Update(const std::string& environment_id, const std::string& id,
                                  const UserChange& change,
                                  const std::optional<std::string>& new_password,
                                  const WriteOptions& options = {});
  // The user's current version (its ETag), without opening the profile. kNotFound.
  core::Result<std::int64_t> VersionOf(const std::string& environment_id, const std::string& id);
  // Irreversible: profile, index entries, credentials and sessions. kNotFound; with
  // options.expected_version, kVersionMismatch (nothing deleted) when the user is at
  // another version, checked in the deleting transaction.
  core::Status Delete(const std::string& environment_id, const std::string& id, const WriteOptions& options = {});

  // Users holding the claim `kind` (see the claim kinds above) for `value`: username
  // (folded), email (primary, normalised), externalId and external:<source> (exact),
  // attribute:<id> (`value` is the JSON text of the value). An invalid value finds nobody.
  core::Result<std::vector<core::User>> FindBy(const std::string& environment_id, const std::string& kind,
                                               const std::string& value);
  // The claim kinds of `user` (its id empty for a user still to be created) that
  // another user of the environment holds now: for reporting every conflict at once.
  // Only a write decides: another write may take a value after this returns.
  core::Result<std::vector<std::string>> Conflicts(const std::string& environment_id, const core::User& user,
                                                   const WriteOptions& options = {});
  // Keyset paging in creation order; the cost of a page does not grow with depth.
  core::Result<UserPage> List(const std::string& environment_id, std::int64_t after_number, int limit);
  core::Result<std::int64_t> Count(const std::string& environment_id);
  // The number of the user at 0-based position `offset` in number order (0: none), read
  // from the index alone: where an offset page starts.
  core::Result<std::int64_t> NumberAt(const std::string& environment_id, std::int64_t offset);
  // The query engine (user_query.h): a page of the users matching a filter, reading at
  // most query.budget users.
  core::Result<QueryResult> Query(const UserQuery& query);
  // The search index policy (search_index.h) every write derives its search entries
  // with and the query engine plans with. Set before serving; changing it needs a
  // re-index (Reindex) before the index answers searches on the attributes it changed.
  void SetSearchPolicy(SearchPolicy policy) { search_ = std::move(policy); }
  const SearchPolicy& search_policy() const { return search_; }
  // Whether the query engine answers `filter` from the blind indexes (no scan).
  bool AnswersFromIndex(const query::Node& filter) const;
  // Re-derives every claim and search entry of up to `limit` users after `after_number`
  // (each its own write at the version read; a user changed meanwhile is left, its
  // write derived them already). Returns where to go on (0: done). `archived_only`:
  // only archived users are written (the others are opened and left as they are).
  core::Result<std::int64_t> Reindex(const std::string& environment_id, std::int64_t after_number, int limit,
                                     bool archived_only = false);
  // Members of a record (group, population), paged like List.
  core::Result<UserPage> ListMembers(const std::string& environment_id, const std::string& record_id,
                                     std::int64_t after_number, int limit);

  // Password sign-in by username (case-insensitive) from the client `address`. Unknown
  // user, wrong password, no password, inactive, archived and locked user all give the same
  // kUnauthenticated after at least one argon2id verification whatever the stored
  // hash's scheme (a dummy hash is verified when there is no user, no password, or an
  // imported hash refused the password). kResourceExhausted (retry_after_s: the window)
  // while the username's attempt budget from this address, or its ceiling from all
  // addresses, is spent, whatever the password (SignInPolicy).
  core::Result<SignedIn> SignIn(const std::string& environment_id, const std::string& username,
                                const std::string& password, std::string_view address);
  // What SignIn checks (the same lockout counts and refusals), for a caller that proves
  // the user's password otherwise or opens no session: HTTP Basic and Digest on every
  // request (service/http_credentials.h). `proves(user)` says whether the credential
  // presented is the user's (user null: no such username; it should cost what a real
  // check costs); an error of it is returned as is, the attempt staying counted. On
  // success the counts are cleared as a sign-in clears them; no session is opened.
  using CredentialCheck = std::function<core::Result<bool>(const core::User* user)>;
  core::Result<core::User> CheckSignIn(const std::string& environment_id, const std::string& username,
                                       std::string_view address, const CredentialCheck& proves);
  // The check SignIn makes of a password (one argon2id verification, a dummy one for no
  // user), for CheckSignIn.
  CredentialCheck PasswordCheck(const std::string& environment_id, const std::string& password);
  // Clears the sign-in attempts counted against the user's username, from every address
  // together (the SignInPolicy ceiling that stops it signing in from anywhere) and from
  // each address, as an administrator's unlock. kNotFound.
  core::Status ClearSignInLockout(const std::string& environment_id, const std::string& user_id);
  // Whether the user's username is locked out of signing in from every address (reads
  // the count, counts nothing). kNotFound.
  core::Result<PasswordLockout> SignInLockout(const std::string& environment_id, const std::string& user_id);
  // Checks a user's current password (kUnauthenticated if wrong or none); an imported
  // or outdated hash is upgraded to the current argon2id parameters on success.
  core::Status VerifyPassword(const std::string& environment_id, const std::string& user_id,
                              const std::string& password);
  // Whether the user has a password (of any scheme, imported ones included). Reads the
  // credential's presence only, never verifies anything. kNotFound for a malformed id.
  core::Result<bool> HasPassword(const std::string& environment_id, const std::string& user_id);
  // The stored hash (an argon2id PHC string, or an imported "{SCHEME}..." one) for
  // `roster export --with-password-hashes`; kNotFound when the user has no password.
  core::Result<std::string> PasswordHashOf(const std::string& environment_id, const std::string& user_id);
  // A new session for an existing user. Returns the token (shown once).
  core::Result<std::string> IssueSession(const std::string& environment_id, const std::string& user_id);
  // kUnauthenticated for an unknown, expired or idle-timed-out token, or one older than
  // the absolute lifetime. A deactivated, archived or deleted user has no sessions left
  // (Update and Delete end them in their own write).
  core::Result<Session> AuthenticateSession(std::string_view token);
  // Ends the session; kUnauthenticated if the token is not a live session.
  core::Status SignOut(std::string_view token);

  // Counts one request that may send mail on behalf of `key` (an address, a username)
  // and says whether it is within `budget` per window (budget 0: count only). One
  // durable write either way, so callers can keep known and unknown keys alike in cost.
  core::Result<bool> HitMailBudget(const std::string& environment_id, const std::string& key, std::int64_t budget,
                                   std::int64_t window_ms);

 private:
  // The unique (or exclusive) claims of `index` another user than `user_id` holds now.
  core::Result<std::vector<std::string>> TakenClaims(const std::string& environment_id,
                                                    const std::vector<store::IndexEntry>& index,
                                                    const std::string& user_id);
  struct PreparedUser {
    store::NewUser row;
    CreatedUser created;
  };
  // Create's checks and row (`member_of`: the record ids it joins), not yet written.
  core::Result<PreparedUser> PrepareCreate(const crypto::EnvironmentKeys& keys, const core::AttributeSchema& schema,
                                           const CreateUserRequest& request, std::vector<std::string> member_of);
  core::Result<std::vector<store::IndexEntry>> IndexFor(const crypto::EnvironmentKeys& keys,
                                                        const core::AttributeSchema& schema, const core::User& user,
                                                        const WriteOptions& options);
  // The value a claim of `kind` is digested from, normalised; nullopt if `value` can
  // hold no such claim.
  static std::optional<std::string> ClaimKey(std::string_view kind, const std::string& value);
  std::optional<std::vector<IndexLookup>> Lookups(const query::Node& filter) const;
  std::string AssociatedData(const core::User& user) const;
  core::Result<core::User> Unseal(const crypto::EnvironmentKeys& keys, const store::UserRow& row);
  core::Result<UserPage> Page(const std::string& environment_id,
                              const core::Result<std::vector<store::UserRow>>& rows, int limit);
  core::Result<std::vector<std::string>> Memberships(const std::string& environment_id,
                                                     const std::vector<MembershipRef>& named);
  // SignIn and CheckSignIn: the lockout counts, the user, `proves`, and a session if asked.
  core::Result<SignedIn> Attempt(const std::string& environment_id, const std::string& username,
                                 std::string_view address, const CredentialCheck& proves, bool open_session);
  void VerifyDummy(const std::string& password);
  // Verifies against the stored hash; upgrades it on success when outdated.
  core::Result<bool> CheckStoredPassword(const std::string& environment_id, const std::string& user_id,
                                         const std::string& password);
  // The notice `name` (a mail template) about `user`'s account, to `to`, sealed for the outbox.
  core::Result<store::MailRow> Notice(const crypto::EnvironmentKeys& keys, const std::string& environment_id,
                                      const char* name, const core::User& user, const std::string& to);
  store::SessionRow NewSessionRow(const std::string& token, const std::string& environment_id,
                                  const std::string& user_id, std::int64_t now) const;

  store::Store& store_;
  store::UserStore& users_;
  store::SessionStore& sessions_;
  DirectoryService& directory_;
  RecordService records_;  // the environment's attribute schema
  const crypto::Keyring& keyring_;
  const crypto::PasswordHasher& hasher_;
  const core::Clock& clock_;
  SessionPolicy policy_;
  SearchPolicy search_ = SearchPolicy::Default();
  SignInPolicy sign_in_;
  Throttle throttle_;
  AuditLog* audit_ = nullptr;
  std::once_flag dummy_once_;
  std::string dummy_hash_;
};

}  // namespace roster::service
