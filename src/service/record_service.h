// RecordService: environment-scoped objects that are not users (groups, populations,
// schema attributes, applications, single-use tokens), each a JSON body sealed under
// the environment's data key, plus the memberships of users in them. Dialects choose
// the kind and the body; claims (unique or lookup) are blind-indexed here, so a name
// or a token is never stored in plaintext either. Thread-safe.
//
// Default records: a record created with the claim {kDefaultClaim, "1"} is joined by
// every new user of its environment, unless the user is created into another record
// of the same kind (UserService::Create does this).
#pragma once

#include <boost/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/mail.h"
#include "service/directory_service.h"
#include "store/store.h"

namespace roster::service {

inline constexpr const char* kDefaultClaim = "default";

// A lookup key on a record; `value` is compared exactly (fold case before if needed).
struct Claim {
  std::string kind;
  std::string value;
  bool unique = false;
};

struct Record {
  std::string id;
  std::int64_t number = 0;
  std::string environment_id;
  std::string kind;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t version = 1;
  std::int64_t expires_at_ms = 0;  // 0: never
  boost::json::object body;
};

using core::Mail;

struct NewRecordRequest {
  std::string environment_id;
  std::string kind;
  boost::json::object body;
  std::vector<Claim> claims;
  std::string id;                  // empty: a new UUID
  std::int64_t expires_at_ms = 0;  // 0: never
  std::optional<Mail> mail;        // enqueued atomically with the record
  std::vector<std::string> members;  // user ids joined in the record's own transaction
  std::vector<std::string> member_records;  // record ids (of the same kind) joined as well
};

// The members a record update writes in the record's own transaction: `users` and
// `records`, if given, replace the members of each sort; `changes` then remove and add
// (see store::MemberChanges). A record may not come to contain itself (kInvalidArgument
// naming "members"); a member record must be of the record's kind (kNotFound "member").
struct MemberWrite {
  std::optional<std::vector<std::string>> users;
  std::optional<std::vector<std::string>> records;
  store::MemberChanges changes;
};

// A record containing a user or a record: directly (depth 1) or through depth - 1
// member records.
struct Container {
  Record record;
  int depth = 1;
  bool direct() const { return depth == 1; }
};

using RecordChange = std::function<core::Status(Record&)>;
using ClaimsOf = std::function<std::vector<Claim>(const Record&)>;

class RecordService {
 public:
  RecordService(store::Store& store, DirectoryService& directory, const core::Clock& clock)
      : store_(store), directory_(directory), clock_(clock) {}

  // kAlreadyExists (field = the claim kind) when a unique claim is taken; kNotFound
  // (field "user") when a member is not a user of the environment: no record then.
  core::Result<Record> Create(const NewRecordRequest& request);
  // kNotFound for an unknown id, another kind, another environment or an expired record.
  core::Result<Record> Get(const std::string& environment_id, const std::string& kind, const std::string& id);
  // The record's current version (its ETag), without opening it. kNotFound as Get.
  core::Result<std::int64_t> VersionOf(const std::string& environment_id, const std::string& kind,
                                       const std::string& id);
  core::Result<Record> GetByNumber(const std::string& kind, std::int64_t number);
  // Records holding the claim (kind, value), any record kind.
  core::Result<std::vector<Record>> Find(const std::string& environment_id, const std::string& claim_kind,
                                         const std::string& value);
  // Keyset page: records of `kind` numbered after `after_number`.
  core::Result<std::vector<Record>> List(const std::string& environment_id, const std::string& kind,
                                         std::int64_t after_number, int limit);
  // Every record of `kind`, in number order (List's pages of `page_size`), given to
  // `visit` until it returns false. A page that cannot be read is the error.
  core::Status ForEach(const std::string& environment_id, const std::string& kind,
                       const std::function<bool(const Record&)>& visit, int page_size = 500);
  // Applies `change` and re-derives the claims, retrying when the record changed
  // concurrently; `members` (user ids), if given, replace the record's members in the
  // same transaction. kNotFound (field "user" for a member that is not a user of the
  // environment: then nothing changes), kAlreadyExists, or the change's own error. With
  // `expected_version` (If-Match), a record at another version fails unchanged with
  // kVersionMismatch.
  core::Result<Record> Update(const std::string& environment_id, const std::string& kind, const std::string& id,
                              const RecordChange& change, const ClaimsOf& claims,
                              std::optional<std::int64_t> expected_version = std::nullopt,
                              const std::optional<std::vector<std::string>>& members = std::nullopt);
  // The same, writing `members` (users and member records) with the record.
  core::Result<Record> Update(const std::string& environment_id, const std::string& kind, const std::string& id,
                              const RecordChange& change, const ClaimsOf& claims,
                              std::optional<std::int64_t> expected_version, const MemberWrite& members);
  // kNotFound; kVersionMismatch when `expected_version` is given and the record is at
  // another (checked in the deleting transaction).
  core::Status Delete(const std::string& environment_id, const std::string& kind, const std::string& id,
                      std::optional<std::int64_t> expected_version = std::nullopt);
  // Deletes and returns the record: exactly one caller gets a single-use token.
  core::Result<Record> Take(const std::string& environment_id, const std::string& kind, const std::string& id);

  // Memberships (see store::MembershipStore): kNotFound naming "user" or "record".
  core::Status AddMember(const std::string& environment_id, const std::string& record_id,
                         const std::string& user_id);
  core::Status RemoveMember(const std::string& environment_id, const std::string& record_id,
                            const std::string& user_id);
  // Replaces the user's memberships among records of `kind` and nothing else (to change
  // the user as well, pass WriteOptions::memberships to UserService::Update). A record's
  // members are replaced with the record: Create's and Update's `members`.
  core::Status SetMemberships(const std::string& environment_id, const std::string& user_id,
                              const std::string& kind, const std::vector<std::string>& record_ids);
  core::Result<std::vector<Record>> MembershipsOf(const std::string& environment_id, const std::string& user_id,
                                                  const std::string& kind);
  core::Result<std::int64_t> CountMembers(const std::string& environment_id, const std::string& record_id);
  // Records in records (see store::MembershipStore): a keyset page of the member records
  // of `record_id`; the records of `kind` containing the user (or record) `member_id`.
  core::Result<std::vector<Record>> ListMemberRecords(const std::string& environment_id, const std::string& record_id,
                                                      std::int64_t after_number, int limit);
  core::Result<std::vector<Container>> ListContainers(const std::string& environment_id, const std::string& member_id,
                                                      bool member_is_record, const std::string& kind, int max_depth,
                                                      int limit);

  // The write that makes `next` (a record read at next.version - 1, its body changed)
  // the stored record with `claims`, for a caller that commits it in another write's
  // transaction (UserService::CreateBatch's import checkpoint). Moves next.updated_at_ms.
  core::Result<store::RecordUpdate> PrepareUpdate(Record& next, const std::vector<Claim>& claims);
  // The write that creates `request` (Create's, sealed and with its claims and mail), for
  // a caller that commits it in another write's transaction (a sign-up's link, written
  // with the user: UserService::Create). `created` is the record as it will be, but for
  // its number, which the store assigns.
  core::Result<store::NewRecord> PrepareCreate(const NewRecordRequest& request, Record& created);

  // Queues a message for the background sender.
  core::Status SendMail(const std::string& environment_id, const Mail& mail);

  // The digest a claim is stored under (exposed for UserService's default joins).
  core::Result<std::string> ClaimDigest(const std::string& environment_id, const std::string& kind,
                                        const std::string& value);

 private:
  core::Result<Record> Unseal(const crypto::EnvironmentKeys& keys, const store::RecordRow& row);
  core::Result<std::vector<Record>> UnsealAll(const std::string& environment_id,
                                              const core::Result<std::vector<store::RecordRow>>& rows);
  std::vector<store::IndexEntry> IndexFor(const crypto::EnvironmentKeys& keys, const std::vector<Claim>& claims);

  store::Store& store_;
  DirectoryService& directory_;
  const core::Clock& clock_;
};

// Mail sealing is shared by RecordService (enqueue) and the mail sender (dequeue).
std::string SealMail(const crypto::EnvironmentKeys& keys, const std::string& environment_id, const Mail& mail);
// Opens through DirectoryService::OpenSealed (any of the environment's data keys).
core::Result<Mail> OpenMail(DirectoryService& directory, const crypto::EnvironmentKeys& keys,
                            const std::string& environment_id, const std::string& sealed);

}  // namespace roster::service
