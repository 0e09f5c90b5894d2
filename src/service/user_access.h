// UserAccess: the user use cases as one principal may perform them. Every dialect
// reads and writes users through it, so authority is decided here, once, for every API:
// what the credential's scopes allow (core/access.h), what PHI and contact fields it
// receives (removed from every user it is given, and from what its filters can test),
// which fields it may write, and when it may set a password without the current one.
// The environment is always the principal's. A cheap value: build one per request with
// UserService::As.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "core/access.h"
#include "core/error.h"
#include "core/schema.h"
#include "core/user.h"
#include "service/user_query.h"
#include "service/user_service.h"

namespace roster::service {

class UserAccess {
 public:
  UserAccess(UserService& users, RecordService& records, core::Principal principal)
      : users_(users), records_(records), principal_(std::move(principal)) {}

  const core::Principal& principal() const { return principal_; }
  const std::string& environment_id() const { return principal_.environment_id; }

  // profile:write, or sign-up (its own account, PHI included). PHI in a user made for
  // someone else needs phi:write.
  core::Result<CreatedUser> Create(CreateUserRequest request);
  // The user, as the principal may see it. kPermissionDenied without profile:read
  // (unless it is the principal's own user).
  core::Result<core::User> Get(const std::string& id);
  // By the user's number (integer-id APIs). kNotFound.
  core::Result<core::User> GetByNumber(std::int64_t number);
  // `current_password`: the caller proves the current one (checked here; kUnauthenticated
  // with field "current_password" if wrong). Without it, a new password needs
  // password:set. The change may not write fields the principal may not write; PHI it
  // cannot see and left out is kept.
  core::Result<core::User> Update(const std::string& id, const UserChange& change,
                                  const std::optional<std::string>& new_password, const WriteOptions& options = {},
                                  const std::optional<std::string>& current_password = std::nullopt);
  core::Status Delete(const std::string& id, const WriteOptions& options = {});
  core::Result<std::int64_t> VersionOf(const std::string& id);

  // Searches and lists: users:list.
  core::Result<std::vector<core::User>> FindBy(const std::string& kind, const std::string& value);
  core::Result<QueryResult> Query(UserQuery query);
  core::Result<UserPage> List(std::int64_t after_number, int limit);
  core::Result<UserPage> ListMembers(const std::string& record_id, std::int64_t after_number, int limit);
  core::Result<std::int64_t> Count();
  core::Result<std::int64_t> NumberAt(std::int64_t offset);
  // For a write the principal may make (create or change).
  core::Result<std::vector<std::string>> Conflicts(const core::User& user, const WriteOptions& options = {});

  // What the principal may see of a user it was given by another path.
  void View(core::User& user);

  // Password sign-in through the principal's application credential (its environment);
  // audited, success and failure alike. As UserService::SignIn.
  core::Result<SignedIn> SignIn(const std::string& username, const std::string& password, std::string_view address);
  // Ends the session `token`; audited with the session's user. As UserService::SignOut.
  core::Status SignOut(std::string_view token);

 private:
  // The audit trail (service/audit.h), when one is kept. A read's record goes through
  // the writer; a write's record travels in WriteOptions::audit into its transaction.
  core::Result<core::User> UpdateAudited(const std::string& id, const UserChange& change,
                                         const std::optional<std::string>& new_password, WriteOptions options,
                                         const std::optional<std::string>& current_password);
  core::Status Audit(std::string_view action, std::string_view subject, const core::Error* error,
                     std::uint32_t fields);
  std::optional<store::AuditRow> WriteRecord(std::string_view action, std::string_view subject);
  // What a record of reading `user` (as the principal saw it) names: profile, and phi
  // when the user it received holds any.
  std::uint32_t ReadFields(const core::User& user);
  // Records a read of each user (one transaction for all of them).
  core::Status AuditReads(std::string_view action, const std::vector<core::User>& users);

  // The environment's schema, loaded at most once, only when some custom attribute may
  // be PHI for this principal. Null when not needed.
  core::Result<const core::AttributeSchema*> SchemaFor(bool needed);

  UserService& users_;
  RecordService& records_;
  core::Principal principal_;
  std::optional<core::AttributeSchema> schema_;
};

}  // namespace roster::service
