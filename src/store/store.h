// The storage port: plain rows in and out, split by role and privilege. Values that
// are secret or personal arrive already sealed, digested or hashed: a store never sees
// plaintext PII. Every write is one transaction; uniqueness is enforced by unique
// indexes (a violated one returns kAlreadyExists naming the index kind in
// Error::field). Implementations are safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace roster::store {

using core::Result;
using core::Status;

struct EnvironmentRow {
  std::string id;
  std::string name;
  // The environment's data keys, each sealed by the master key, newest first
  // (crypto::Keyring encodes the list; one key before any rotation).
  std::string wrapped_key;
  std::int64_t created_at_ms = 0;
  // CreateEnvironment only (not a column): when set, the environment is created only
  // while the store's keyring holds this master-key fingerprint (kAborted otherwise), so
  // no key wrapped under a master key that was just rotated away gets in.
  std::string master_fingerprint = {};
};

// The store's keyring (one row): the master key's fingerprint (a keyed hash, telling
// which master key the store is wrapped under) and the roots every key is derived from
// (blind-index root, token digest key, audit key), sealed under the master key.
struct KeyringRow {
  std::string fingerprint;
  std::string wrapped_roots;
  std::int64_t updated_at_ms = 0;
};

// One environment's key list re-wrapped by a master-key rotation.
struct EnvironmentKeysChange {
  std::string id;
  std::string expected;
  std::string replacement;
};

struct ApiKeyRow {
  std::string id;
  std::string environment_id;
  std::string role;        // "admin" | "app"
  std::string identifier;  // bound app identifier, empty = any
  std::string digest;      // keyed digest of the secret
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> revoked_at_ms;
  // The APIs and scopes it was made for, as comma-separated names (core/access.h);
  // empty for a key made before keys carried them (the service applies defaults).
  std::string apis;
  std::string scopes;
};

// A blind-index claim: (kind, digest) points at one user. Unique claims (username,
// external ids, unique attributes) are enforced by a unique index per environment;
// others (email) are lookups only. An exclusive claim is unique and, in the same
// transaction, also refused while any other user of the environment holds the same
// (kind, digest) as a lookup (a platform whose emails are unique, among users whose
// emails need not be). Violations return kAlreadyExists naming the kind.
struct IndexEntry {
  std::string kind;
  std::string digest;
  bool unique = false;
  bool exclusive = false;  // users only; implies unique
  // The blind-index key generation the digest is under (service/index_keys.h): during an
  // index-key rotation a claim is held under two generations at once.
  std::int64_t generation = 0;
};

struct UserRow {
  std::string id;
  std::int64_t number = 0;  // assigned by the store on insert
  std::string environment_id;
  bool active = false;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t version = 1;
  std::string sealed;  // the sealed profile
};

struct SessionRow {
  std::string digest;
  std::string environment_id;
  std::string user_id;
  std::int64_t created_at_ms = 0;
  std::int64_t last_used_at_ms = 0;
  std::int64_t expires_at_ms = 0;  // 0 = no absolute expiry
};

// An audit record (decided by service/audit.h): who touched which user how, and with
// what outcome; never a value. The store numbers each environment's records 1, 2, ...
// (`seq`) and links each to its predecessor in the appending transaction: `prev` is
// the predecessor's `hash` (32 zero bytes for the first), `hash` the keyed MAC of this
// record's canonical bytes (store/audit_chain.h), prev included.
struct AuditRow {
  std::string environment_id;
  std::int64_t seq = 0;   // assigned by the store
  std::int64_t at_ms = 0;
  std::string principal_kind;  // credential kind ("admin-key", "user-session", ..., "cli")
  std::string principal_id;    // the credential's id (key, application, session's key)
  std::string principal_user;  // a user session's user id, else empty
  std::string api;             // "catalyze", "pingone", ..., "cli"
  std::string route;           // the route template (or the CLI command)
  std::string request_id;
  std::string action;          // "user.read", "user.create", "session.sign-in", ...
  std::string subject;         // the user (or record) id acted on; may be empty
  std::string outcome;         // "ok", or the error's code name ("permission-denied", ...)
  std::string fields;          // field groups touched, comma-separated: profile,phi,password,credentials
  std::string prev;            // assigned by the store
  std::string hash;            // assigned by the store
};

// A signed position in an environment's chain: the hash of record `seq`, MACed under
// the audit key. Written every kAuditCheckpointEvery records; a purge keeps the newest
// checkpoint at or before the first record it keeps, so the rest still verifies.
struct AuditCheckpoint {
  std::string environment_id;
  std::int64_t seq = 0;
  std::string hash;
  std::int64_t at_ms = 0;
  std::string mac;
};

// The newest record of an environment's chain, MACed: a truncated tail shows.
struct AuditHead {
  std::string environment_id;
  std::int64_t seq = 0;
  std::string hash;
  std::string mac;
};

// Keyed 32-byte MAC of bytes (crypto::Keyring::AuditMac), given to the store by the
// service so the store links the chain without holding a key.
using AuditMac = std::function<std::string(std::string_view)>;

// A record: an environment-scoped object that is not a user (a group, a population, a
// schema attribute, an application, a single-use token), with a sealed body. `number`
// is assigned by the store, unique across all environments and never reused (QuickBlox
// application ids are record numbers). A record whose expires_at_ms is set (non-zero)
// and has passed is invisible to every read.
struct RecordRow {
  std::string id;
  std::int64_t number = 0;
  std::string environment_id;
  std::string kind;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t version = 1;
  std::int64_t expires_at_ms = 0;
  std::string sealed;
};

// An outgoing mail message waiting in the outbox; the envelope and body are sealed.
struct MailRow {
  std::int64_t id = 0;  // assigned by the store
  std::string environment_id;
  std::int64_t created_at_ms = 0;
  std::int64_t next_attempt_at_ms = 0;
  std::int64_t attempts = 0;
  std::string sealed;
};

// Memberships written with their entity: every id must name a user (or a record of
// the set's kind) of the entity's environment, else the whole write fails with
// kNotFound naming "user" (or "record") in Error::field, as MembershipStore does, and
// nothing of it is written.
//
// Records in records (a group in a group): a record's member records are records of its
// own kind and environment (kNotFound naming "member" otherwise). A write that would
// make a record contain itself, directly or through its member records, fails with
// kInvalidArgument naming "members" and writes nothing; the check runs in the write's
// transaction, serialised with every other such write of the environment, so two
// concurrent writes cannot close a cycle between them.
struct NewRecord {
  RecordRow row;
  std::vector<IndexEntry> index;  // claims on records of the same environment
  std::optional<MailRow> mail;    // enqueued in the same transaction
  std::vector<std::string> members;  // user ids joined in the same transaction
  std::vector<std::string> member_records;  // record ids (of the same kind) joined as well
};

struct NewUser {
  UserRow row;
  std::vector<IndexEntry> index;
  std::optional<std::string> password_hash;
  std::optional<SessionRow> session;  // issued in the same transaction
  std::vector<std::string> member_of;  // record ids (groups, populations) joined at once
  std::vector<AuditRow> audit;         // appended to the chain in the same transaction
  // Records inserted in the same transaction, as InsertRecord inserts them (a sign-up's
  // single-use link and its mail): the user and its link land together or not at all.
  std::vector<NewRecord> records;
};

// Members removed and then added by a record update, after any replacement; adding a
// member already there, or removing one that is not (or no such id), changes nothing and
// is no error. An added id must name a member as a replacement's must.
struct MemberChanges {
  std::vector<std::string> add_users;
  std::vector<std::string> remove_users;
  std::vector<std::string> add_records;
  std::vector<std::string> remove_records;
  bool empty() const { return add_users.empty() && remove_users.empty() && add_records.empty() && remove_records.empty(); }
};

struct RecordUpdate {
  RecordRow row;  // id + environment_id + kind select the record
  std::int64_t expected_version = 0;
  std::vector<IndexEntry> index;  // replaces every claim of the record
  std::optional<std::vector<std::string>> members;  // if set, replaces the members (user ids)
  std::optional<std::vector<std::string>> member_records;  // if set, replaces the member records
  MemberChanges changes;
};

// A record that contains a user or a record, directly (depth 1) or through member
// records (depth n: n - 1 records in between).
struct ContainingRecord {
  RecordRow row;
  int depth = 1;
};

// The records of `kind` a user belongs to, replacing its memberships among that kind.
struct MembershipSet {
  std::string kind;
  std::vector<std::string> record_ids;
};

struct UserUpdate {
  UserRow row;  // id + environment_id select the user; other fields are the new values
  std::int64_t expected_version = 0;  // kAborted if the stored version differs
  std::vector<IndexEntry> index;      // replaces every claim of the user
  std::optional<std::string> password_hash;
  bool clear_password = false;  // the user's password is removed (without password_hash)
  bool revoke_sessions = false;
  // With revoke_sessions: the session (digest) that is kept, e.g. the one that changed
  // the password; every other session of the user ends. A digest that is not a session
  // of this user keeps nothing.
  std::optional<std::string> keep_session;
  std::vector<MembershipSet> memberships;  // each replaces the user's memberships of its kind
  std::vector<MailRow> mail;               // enqueued in the same transaction (notices)
  std::vector<AuditRow> audit;             // appended to the chain in the same transaction
};

// Told that API keys may have changed, from any process on the same database. Each call
// means "forget what you cached". `live` says whether later changes will be told too:
// false while the store cannot watch (its channel is down); a later call with true
// follows once it can again.
using KeyChangeListener = std::function<void(bool live)>;

// Ends a watch on destruction; by then no call of its listener is running or will run.
class Watch {
 public:
  virtual ~Watch() = default;
};

// Environments and API keys: the control plane.
class DirectoryStore {
 public:
  virtual ~DirectoryStore() = default;
  // kAlreadyExists (field "name") if the name is taken.
  virtual Status CreateEnvironment(const EnvironmentRow& row) = 0;
  // kNotFound if absent.
  virtual Result<EnvironmentRow> FindEnvironmentByName(const std::string& name) = 0;
  virtual Result<EnvironmentRow> FindEnvironmentById(const std::string& id) = 0;
  virtual Result<std::vector<EnvironmentRow>> ListEnvironments() = 0;

  virtual Status CreateApiKey(const ApiKeyRow& row) = 0;
  // Replaces the environment's wrapped keys only while they are still `expected` (a
  // compare-and-swap: two rotations cannot both win). kAborted if they changed,
  // kNotFound if there is no such environment.
  virtual Status ReplaceEnvironmentKeys(const std::string& id, const std::string& expected,
                                        const std::string& replacement) = 0;

  // The keyring row; kNotFound before one was created.
  virtual Result<KeyringRow> GetKeyring() = 0;
  // Creates the keyring row; kAlreadyExists if there is one.
  virtual Status CreateKeyring(const KeyringRow& row) = 0;
  // A master-key rotation, in one transaction: replaces the keyring while its fingerprint
  // is still `expected_fingerprint`, and every environment's key list while still as
  // read; `environments` must name every environment. kAborted if anything changed
  // (or an environment was created) meanwhile; then nothing is written. `audit` is
  // appended in the same transaction.
  virtual Status RotateKeyring(const std::string& expected_fingerprint, const KeyringRow& row,
                               const std::vector<EnvironmentKeysChange>& environments,
                               const std::vector<AuditRow>& audit) = 0;

  // kNotFound if no key has this digest (revoked keys are returned; callers check).
  virtual Result<ApiKeyRow> FindApiKeyByDigest(const std::string& digest) = 0;
  virtual Result<std::vector<ApiKeyRow>> ListApiKeys(const std::string& environment_id) = 0;
  // kNotFound if no such key, kFailedPrecondition if already revoked.
  virtual Status RevokeApiKey(const std::string& id, std::int64_t now_ms) = 0;
  // Reports every later key revocation, whichever process makes it, to `listener` (from
  // a thread of the store's). nullptr if this store cannot tell other processes' changes:
  // then key lookups must not be cached.
  virtual std::unique_ptr<Watch> WatchApiKeys(KeyChangeListener listener) {
    (void)listener;
    return nullptr;
  }
};

// Profiles. Never returns credentials.
// Users written together (bulk import): see UserStore::InsertUsers.
struct UserBatch {
  std::vector<NewUser> users;
  // Updated in the same transaction (an import's checkpoint): its failure fails the batch.
  std::optional<RecordUpdate> record;
};

class UserStore {
 public:
  virtual ~UserStore() = default;
  // Returns the assigned number. kAlreadyExists (field = index kind) on a unique claim.
  virtual Result<std::int64_t> InsertUser(const NewUser& user) = 0;
  // Inserts the batch's users in one transaction, each behind its own savepoint: a user
  // that fails as InsertUser would (a claim taken, by a stored user or an earlier one of
  // the batch) is left out with its error and the others land. Per user, its number or
  // error; the call's own error (the record's update failing, the store unavailable)
  // means nothing landed.
  virtual Result<std::vector<Result<std::int64_t>>> InsertUsers(const UserBatch& batch) = 0;
  // kNotFound if the environment has no such user.
  virtual Result<UserRow> GetUser(const std::string& environment_id, const std::string& id) = 0;
  virtual Result<std::vector<UserRow>> FindUsers(const std::string& environment_id,
                                                 const std::string& kind,
                                                 const std::string& digest) = 0;
  // The holders of one (kind, digest) claim in number order after `after_number`, at most
  // `limit`: keyset paging over one blind-index entry (the query engine's index walk).
  virtual Result<std::vector<UserRow>> FindUsersAfter(const std::string& environment_id, const std::string& kind,
                                                      const std::string& digest, std::int64_t after_number,
                                                      int limit) = 0;
  // Counts from the index alone, opening no user: of the holders of (kind, digest)
  // numbered after `after_number`, at most `cap` are looked at; `holders` is how many,
  // `also` how many of them also hold (also_kind, also_digest).
  struct HolderCount {
    std::int64_t holders = 0;
    std::int64_t also = 0;
  };
  virtual Result<HolderCount> CountHolders(const std::string& environment_id, const std::string& kind,
                                           const std::string& digest, std::int64_t after_number,
                                           const std::string& also_kind, const std::string& also_digest,
                                           std::int64_t cap) = 0;
  // kNotFound, kAborted (version moved on), kAlreadyExists (unique claim taken).
  virtual Status UpdateUser(const UserUpdate& update) = 0;
  // Removes the user with its claims, credentials, sessions and memberships. kNotFound.
  // With `expected_version`, only while the user is still at that version (checked in
  // the deleting transaction): kAborted otherwise, and nothing is removed.
  // `audit` is appended to the chain in the deleting transaction.
  virtual Status DeleteUser(const std::string& environment_id, const std::string& id,
                            std::optional<std::int64_t> expected_version = std::nullopt,
                            const std::vector<AuditRow>& audit = {}) = 0;
  // The environment's users in number order, after `after_number` (0 = from the start):
  // keyset paging, so a deep page costs what the first one does.
  virtual Result<std::vector<UserRow>> ListUsers(const std::string& environment_id,
                                                 std::int64_t after_number, int limit) = 0;
  virtual Result<std::int64_t> CountUsers(const std::string& environment_id) = 0;
  // The number of the user at 0-based position `offset` in number order, 0 if there is
  // none (or `offset` < 0), so an offset page can start from a keyset position. Nothing
  // is read but counts and numbers: SQLite sums its per-1,024-numbers counts to the block
  // holding the position and skips fewer than 1,024 index entries in it; PostgreSQL
  // skips `offset` entries of its index.
  virtual Result<std::int64_t> UserNumberAt(const std::string& environment_id, std::int64_t offset) = 0;
};

// Records (see RecordRow) and their claims.
class RecordStore {
 public:
  virtual ~RecordStore() = default;
  // Returns the assigned number. kAlreadyExists (field = index kind) on a unique claim.
  virtual Result<std::int64_t> InsertRecord(const NewRecord& record) = 0;
  // kNotFound if absent, of another kind or environment, or expired.
  virtual Result<RecordRow> GetRecord(const std::string& environment_id, const std::string& kind,
                                      const std::string& id, std::int64_t now_ms) = 0;
  // Across environments: for ids that arrive without one. kNotFound.
  virtual Result<RecordRow> GetRecordByNumber(const std::string& kind, std::int64_t number,
                                              std::int64_t now_ms) = 0;
  virtual Result<std::vector<RecordRow>> FindRecords(const std::string& environment_id,
                                                     const std::string& index_kind,
                                                     const std::string& digest, std::int64_t now_ms) = 0;
  // In number order after `after_number`; keyset paging as ListUsers.
  virtual Result<std::vector<RecordRow>> ListRecords(const std::string& environment_id,
                                                     const std::string& kind, std::int64_t after_number,
                                                     int limit, std::int64_t now_ms) = 0;
  // kNotFound, kAborted (version moved on), kAlreadyExists (unique claim taken).
  virtual Status UpdateRecord(const RecordUpdate& update) = 0;
  // Removes the record, its claims and memberships (its members, and its membership of
  // other records). kNotFound. With `expected_version`,
  // only while the record is still at that version: kAborted otherwise, nothing removed.
  virtual Status DeleteRecord(const std::string& environment_id, const std::string& kind, const std::string& id,
                              std::optional<std::int64_t> expected_version = std::nullopt) = 0;
  // Deletes and returns a live record in one step, so exactly one caller gets a
  // single-use token. kNotFound if absent or expired (an expired one is removed too).
  virtual Result<RecordRow> TakeRecord(const std::string& environment_id, const std::string& kind,
                                       const std::string& id, std::int64_t now_ms) = 0;
  // Housekeeping: deletes every record that expired at or before `now_ms` (with its
  // claims and memberships); returns how many.
  virtual Result<std::int64_t> PurgeExpiredRecords(std::int64_t now_ms) = 0;
};

// Membership of users in records (groups, populations). Every id must belong to the
// environment (kNotFound naming "user" or "record" in Error::field otherwise).
class MembershipStore {
 public:
  virtual ~MembershipStore() = default;
  virtual Status AddMember(const std::string& environment_id, const std::string& record_id,
                           const std::string& user_id) = 0;  // idempotent
  // kNotFound if the user is not a member.
  virtual Status RemoveMember(const std::string& environment_id, const std::string& record_id,
                              const std::string& user_id) = 0;
  // Replaces the record's members.
  virtual Status SetMembers(const std::string& environment_id, const std::string& record_id,
                            const std::vector<std::string>& user_ids) = 0;
  // Replaces the user's memberships among records of `kind`.
  virtual Status SetMemberships(const std::string& environment_id, const std::string& user_id,
                                const std::string& kind, const std::vector<std::string>& record_ids) = 0;
  // Members in user-number order after `after_number`.
  virtual Result<std::vector<UserRow>> ListMembers(const std::string& environment_id,
                                                   const std::string& record_id, std::int64_t after_number,
                                                   int limit) = 0;
  virtual Result<std::int64_t> CountMembers(const std::string& environment_id, const std::string& record_id) = 0;
  // The records of `kind` the user belongs to, in number order.
  virtual Result<std::vector<RecordRow>> ListMemberships(const std::string& environment_id,
                                                         const std::string& user_id, const std::string& kind) = 0;

  // Records in records (written with the record: NewRecord, RecordUpdate). The member
  // records of `record_id`, in number order after `after_number`. kNotFound "record".
  virtual Result<std::vector<RecordRow>> ListMemberRecords(const std::string& environment_id,
                                                           const std::string& record_id, std::int64_t after_number,
                                                           int limit) = 0;
  // The records of `kind` containing the user `member_id` (or, with `member_is_record`,
  // the record `member_id`), directly or through member records, each once at its least
  // depth, at most `max_depth` deep: ordered by depth, then number, at most `limit`.
  // The work is bounded by max_depth times the containing records. kNotFound naming
  // "user" (or "record") when the environment has no such member.
  virtual Result<std::vector<ContainingRecord>> ListContainingRecords(const std::string& environment_id,
                                                                      const std::string& member_id,
                                                                      bool member_is_record, const std::string& kind,
                                                                      int max_depth, int limit) = 0;
};

// The mail outbox. Delivery is at least once: a claimed message is leased, and comes
// back to ClaimMail when the lease ends without CompleteMail (a crashed sender).
class MailStore {
 public:
  virtual ~MailStore() = default;
  virtual Result<std::int64_t> EnqueueMail(const MailRow& mail) = 0;
  // Up to `limit` due messages (next_attempt_at <= now), oldest first; each is leased
  // until `lease_until_ms` so no other sender takes it meanwhile.
  virtual Result<std::vector<MailRow>> ClaimMail(std::int64_t now_ms, std::int64_t lease_until_ms, int limit) = 0;
  virtual Status CompleteMail(std::int64_t id) = 0;  // delivered: removed
  virtual Status RetryMail(std::int64_t id, std::int64_t attempts, std::int64_t next_attempt_at_ms) = 0;
  virtual Result<std::int64_t> CountMail() = 0;
};

struct CounterWindow {
  std::int64_t count = 0;
  std::int64_t window_start_ms = 0;
};

// Fixed-window counters (sign-in throttling, replay protection), counted exactly under
// concurrency: each Hit is one atomic read-modify-write.
class CounterStore {
 public:
  virtual ~CounterStore() = default;
  // Adds one to `key`'s window and returns the new count; a window that started
  // `window_ms` or more before `now_ms` restarts at 1.
  virtual Result<std::int64_t> HitCounter(const std::string& key, std::int64_t now_ms, std::int64_t window_ms) = 0;
  virtual Status ResetCounter(const std::string& key) = 0;
  // The count of `key`'s window and when it started, counting nothing ({0, 0}: none).
  virtual Result<CounterWindow> ReadCounter(const std::string& key) = 0;
  // Drops every counter whose key starts with `prefix` (bytes).
  virtual Status ResetCountersWithPrefix(const std::string& prefix) = 0;
  // Housekeeping: drops windows that started before `before_ms`.
  virtual Status PurgeCounters(std::int64_t before_ms) = 0;
};

// Password hashes: only the credential path depends on this port.
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  // kNotFound if the user has no password.
  virtual Result<std::string> GetPasswordHash(const std::string& environment_id,
                                              const std::string& user_id) = 0;
  // Replaces the user's hash only if it is still `expected` (a re-hash of the same
  // password must not undo a password change made meanwhile). kAborted otherwise, or
  // if the user has no password or does not exist. Touches nothing else of the user.
  virtual Status ReplacePasswordHash(const std::string& environment_id, const std::string& user_id,
                                     const std::string& expected, const std::string& replacement) = 0;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // kNotFound if no live row has this digest.
  virtual Result<SessionRow> FindSession(const std::string& digest) = 0;
  virtual Status TouchSession(const std::string& digest, std::int64_t now_ms) = 0;
  virtual Status DeleteSession(const std::string& digest) = 0;
  // A new session for an existing user (row.user_id in row.environment_id). kNotFound.
  virtual Status CreateSession(const SessionRow& row) = 0;
  // The same, and the attempt counter `counter_key` (CounterStore) cleared, in one
  // transaction: a successful sign-in makes one durable write, not two. kNotFound (and
  // the counter kept) if there is no such user.
  virtual Status CreateSessionClearingCounter(const SessionRow& row, const std::string& counter_key) = 0;
  // Housekeeping: deletes every session that expired at or before `now_ms`
  // (expires_at_ms set), was last used at or before `idle_since_ms`, or was created at
  // or before `created_since_ms` (0: that rule is off); returns how many.
  virtual Result<std::int64_t> PurgeSessions(std::int64_t now_ms, std::int64_t idle_since_ms,
                                             std::int64_t created_since_ms) = 0;
};

// Re-keying (a data-key rotation): every sealed value of an environment, table by
// table, and its replacement by the same plaintext under another key.
enum class SealedTable { kUsers, kRecords, kMail };
struct SealedValue {
  std::int64_t number = 0;  // the keyset position: users' and records' number, mail's id
  std::string id;           // users and records (their associated data names it)
  std::string kind;         // records
  std::string sealed;
};
enum class IndexTable { kUsers, kRecords };
struct IndexedEntry {
  std::int64_t number = 0;  // the user's or record's
  std::string kind;
  std::string digest;
};
struct IndexCopy {
  std::int64_t number = 0;
  std::string kind;
  std::string from, to;  // digests
};
class ResealStore {
 public:
  virtual ~ResealStore() = default;
  // The environment's rows of `table` with number > `after_number`, in number order, at
  // most `limit`; expired records and leased mail included.
  virtual Result<std::vector<SealedValue>> ListSealed(SealedTable table, const std::string& environment_id,
                                                      std::int64_t after_number, int limit) = 0;
  // Replaces the sealed bytes of the row `number` of the environment only while they are
  // still `expected`, and nothing else of it (not its version, not its updated time).
  // False when the row changed meanwhile or is gone.
  virtual Result<bool> ReplaceSealed(SealedTable table, const std::string& environment_id, std::int64_t number,
                                     const std::string& expected, const std::string& replacement) = 0;

  // Index-key rotation (service/index_key_rotation.h). The blind-index entries of
  // `generation` of the environment's rows (users or records) with number > after_number,
  // of the next `rows` rows in number order; `last` is the last row number looked at (0
  // when none was left).
  struct IndexBatch {
    std::vector<IndexedEntry> entries;
    std::int64_t rows = 0;  // rows looked at
    std::int64_t last = 0;
  };
  virtual Result<IndexBatch> ListIndexEntries(IndexTable table, const std::string& environment_id,
                                              std::int64_t generation, std::int64_t after_number, int rows) = 0;
  // In one transaction, for each copy whose `from` entry (kind, digest, row, generation
  // - 1) still exists, adds the entry (kind, `to`, row, `generation`) with the same
  // uniqueness; an entry already there is left as it is. Returns how many were added.
  virtual Result<std::int64_t> CopyIndexEntries(IndexTable table, const std::string& environment_id,
                                                std::int64_t generation, const std::vector<IndexCopy>& copies) = 0;
  // How many entries of each generation the environment's rows of `table` hold (one
  // statement: a consistent count).
  virtual Result<std::map<std::int64_t, std::int64_t>> CountIndexGenerations(IndexTable table,
                                                                             const std::string& environment_id) = 0;
  // Deletes every entry of the environment (users' and records') not of `keep`, in one
  // transaction; returns how many.
  virtual Result<std::int64_t> DropIndexGenerations(const std::string& environment_id, std::int64_t keep) = 0;
};

// The audit trail: hash-chained per environment (see AuditRow). Rows also arrive with
// user writes (NewUser, UserUpdate, DeleteUser), in the write's transaction.
inline constexpr std::int64_t kAuditCheckpointEvery = 256;
class AuditStore {
 public:
  virtual ~AuditStore() = default;
  // The MAC that links the chain; set once before any append (appends fail with
  // kFailedPrecondition until then).
  virtual void SetAuditMac(AuditMac mac) = 0;
  // Appends rows (of any environments) in one transaction: the group commit of reads.
  virtual Status AppendAudit(const std::vector<AuditRow>& rows) = 0;
  // An environment's records in seq order after `after_seq`.
  virtual Result<std::vector<AuditRow>> ListAudit(const std::string& environment_id, std::int64_t after_seq,
                                                  int limit) = 0;
  virtual Result<std::optional<AuditHead>> GetAuditHead(const std::string& environment_id) = 0;
  virtual Result<std::vector<AuditCheckpoint>> ListAuditCheckpoints(const std::string& environment_id) = 0;
  // Retention: deletes the environment's records up to the newest checkpoint taken
  // before `before_ms` (and older checkpoints), keeping that checkpoint; returns how many.
  virtual Result<std::int64_t> PurgeAudit(const std::string& environment_id, std::int64_t before_ms) = 0;
};

// What operating the store needs: readiness, figures for metrics, an online backup.
struct SchemaStatus {
  std::int64_t applied = 0;  // the newest migration the database has
  std::int64_t known = 0;    // the newest this binary knows
};
struct PoolStats {
  int size = 0;                  // connections in the pool (0: the adapter has none)
  int in_use = 0;                // lent out now
  std::uint64_t waits = 0;       // borrowers that found none idle
  double wait_seconds = 0;       // time they waited, in total
};
struct OutboxStats {
  std::int64_t depth = 0;              // messages waiting
  std::int64_t oldest_created_ms = 0;  // creation time of the oldest (0: none)
};
class OperationsStore {
 public:
  virtual ~OperationsStore() = default;
  // One round trip: the schema version the database holds (kUnavailable when it does
  // not answer).
  virtual Result<SchemaStatus> CheckSchema() = 0;
  virtual Result<OutboxStats> Outbox() = 0;
  virtual PoolStats Pool() const { return {}; }
  // A consistent copy of the whole database into a new file at `path`, taken while
  // others keep reading and writing (SQLite: the online backup API). kFailedPrecondition
  // where the database has its own tools (PostgreSQL: pg_dump).
  virtual Status BackupTo(const std::string& path) {
    (void)path;
    return core::Fail(core::ErrorCode::kFailedPrecondition, "this store has no built-in backup");
  }
};

// One object serving every port over one database.
class Store : public DirectoryStore,
              public UserStore,
              public CredentialStore,
              public SessionStore,
              public RecordStore,
              public MembershipStore,
              public MailStore,
              public CounterStore,
              public OperationsStore,
              public AuditStore,
              public ResealStore {};

}  // namespace roster::store
