#include "service/record_service.h"

#include "core/json_policy.h"
#include "service/associated_data.h"
#include "service/index_keys.h"
#include "service/unreadable.h"

namespace roster::service {
namespace {

using core::ErrorCode;

constexpr int kMaxUpdateAttempts = 8;

store::RecordRow RowOf(const Record& r) {
  return store::RecordRow{r.id, r.number, r.environment_id, r.kind, r.created_at_ms,
                          r.updated_at_ms, r.version, r.expires_at_ms, {}};
}

}  // namespace

std::string SealMail(const crypto::EnvironmentKeys& keys, const std::string& environment_id, const Mail& mail) {
  const boost::json::object body{{"to", mail.to}, {"subject", mail.subject}, {"body", mail.body}};
  return crypto::Seal(keys.data, boost::json::serialize(body), MailAssociatedData(environment_id));
}

core::Result<Mail> OpenMail(DirectoryService& directory, const crypto::EnvironmentKeys& keys,
                            const std::string& environment_id, const std::string& sealed) {
  auto plain = directory.OpenSealed(environment_id, keys, sealed, MailAssociatedData(environment_id));
  if (!plain) return std::unexpected(plain.error());
  auto value = core::ParseStored(*plain);
  if (!value || !value->is_object()) return core::Internal("sealed mail is not an object");
  const auto& o = value->as_object();
  auto text = [&](const char* key) -> std::string {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  return Mail{text("to"), text("subject"), text("body")};
}

std::vector<store::IndexEntry> RecordService::IndexFor(const crypto::EnvironmentKeys& keys,
                                                       const std::vector<Claim>& claims) {
  std::vector<store::IndexEntry> index;
  index.reserve(claims.size());
  for (const auto& c : claims) index.push_back({c.kind, crypto::BlindIndex(keys.index, c.kind, c.value), c.unique});
  return WithGenerations(keys, std::move(index));
}

core::Result<Record> RecordService::Unseal(const crypto::EnvironmentKeys& keys, const store::RecordRow& row) {
  Record r{row.id, row.number, row.environment_id, row.kind, row.created_at_ms, row.updated_at_ms,
           row.version, row.expires_at_ms, {}};
  auto plain =
      directory_.OpenSealed(row.environment_id, keys, row.sealed, RecordAssociatedData(row.environment_id, row.kind, row.id));
  if (!plain) return std::unexpected(plain.error());
  auto value = core::ParseStored(*plain);
  if (!value || !value->is_object()) return core::Internal("sealed record is not an object");
  r.body = std::move(value->as_object());
  return r;
}

core::Result<std::vector<Record>> RecordService::UnsealAll(
    const std::string& environment_id, const core::Result<std::vector<store::RecordRow>>& rows) {
  if (!rows) return std::unexpected(rows.error());
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  std::vector<Record> out;
  out.reserve(rows->size());
  for (const auto& row : *rows) {
    auto r = Unseal(*keys, row);
    if (!r) {
      SkipUnreadableRow("record", row.id, r.error());
      continue;
    }
    out.push_back(std::move(*r));
  }
  return out;
}

core::Result<Record> RecordService::Create(const NewRecordRequest& request) {
  Record r;
  auto row = PrepareCreate(request, r);
  if (!row) return std::unexpected(row.error());
  auto number = store_.InsertRecord(*row);
  if (!number) return std::unexpected(number.error());
  r.number = *number;
  return r;
}

core::Result<store::NewRecord> RecordService::PrepareCreate(const NewRecordRequest& request, Record& r) {
  auto keys = directory_.KeysFor(request.environment_id);
  if (!keys) return std::unexpected(keys.error());
  r.id = request.id.empty() ? crypto::NewUuid() : request.id;
  r.environment_id = request.environment_id;
  r.kind = request.kind;
  r.created_at_ms = r.updated_at_ms = clock_.NowMillis();
  r.expires_at_ms = request.expires_at_ms;
  r.body = request.body;
  if (auto st = core::CheckStoredDocument(r.body); !st) return std::unexpected(st.error());
  store::NewRecord row;
  row.row = RowOf(r);
  row.row.sealed = crypto::Seal(keys->data, boost::json::serialize(r.body),
                                RecordAssociatedData(r.environment_id, r.kind, r.id));
  row.index = IndexFor(*keys, request.claims);
  if (request.mail) {
    row.mail = store::MailRow{0, r.environment_id, r.created_at_ms, r.created_at_ms, 0,
                              SealMail(*keys, r.environment_id, *request.mail)};
  }
  row.members = request.members;
  row.member_records = request.member_records;
  return row;
}

core::Result<Record> RecordService::Get(const std::string& environment_id, const std::string& kind,
                                        const std::string& id) {
  if (id.empty() || id.size() > 128) return core::NotFound("record not found");
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  auto row = store_.GetRecord(environment_id, kind, id, clock_.NowMillis());
  if (!row) return std::unexpected(row.error());
  return Unseal(*keys, *row);
}

core::Result<std::int64_t> RecordService::VersionOf(const std::string& environment_id, const std::string& kind,
                                                    const std::string& id) {
  if (id.empty() || id.size() > 128) return core::NotFound("record not found");
  auto row = store_.GetRecord(environment_id, kind, id, clock_.NowMillis());
  if (!row) return std::unexpected(row.error());
  return row->version;
}

core::Result<Record> RecordService::GetByNumber(const std::string& kind, std::int64_t number) {
  auto row = store_.GetRecordByNumber(kind, number, clock_.NowMillis());
  if (!row) return std::unexpected(row.error());
  auto keys = directory_.KeysFor(row->environment_id);
  if (!keys) return std::unexpected(keys.error());
  return Unseal(*keys, *row);
}

core::Result<std::string> RecordService::ClaimDigest(const std::string& environment_id, const std::string& kind,
                                                     const std::string& value) {
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  return ClaimLookup(*keys, kind, value);
}

core::Result<std::vector<Record>> RecordService::Find(const std::string& environment_id,
                                                      const std::string& claim_kind, const std::string& value) {
  auto digest = ClaimDigest(environment_id, claim_kind, value);
  if (!digest) return std::unexpected(digest.error());
  return UnsealAll(environment_id, store_.FindRecords(environment_id, claim_kind, *digest, clock_.NowMillis()));
}

core::Result<std::vector<Record>> RecordService::List(const std::string& environment_id, const std::string& kind,
                                                      std::int64_t after_number, int limit) {
  return UnsealAll(environment_id,
                   store_.ListRecords(environment_id, kind, after_number, limit, clock_.NowMillis()));
}

core::Status RecordService::ForEach(const std::string& environment_id, const std::string& kind,
                                    const std::function<bool(const Record&)>& visit, int page_size) {
  for (std::int64_t after = 0;;) {
    auto page = List(environment_id, kind, after, page_size);
    if (!page) return std::unexpected(page.error());
    for (const auto& r : *page)
      if (!visit(r)) return {};
    if (page->size() < static_cast<std::size_t>(page_size)) return {};
    after = page->back().number;
  }
}

core::Result<Record> RecordService::Update(const std::string& environment_id, const std::string& kind,
                                           const std::string& id, const RecordChange& change,
                                           const ClaimsOf& claims, std::optional<std::int64_t> expected_version,
                                           const std::optional<std::vector<std::string>>& members) {
  return Update(environment_id, kind, id, change, claims, expected_version, MemberWrite{members, std::nullopt, {}});
}

core::Result<store::RecordUpdate> RecordService::PrepareUpdate(Record& next, const std::vector<Claim>& claims) {
  auto keys = directory_.KeysFor(next.environment_id);
  if (!keys) return std::unexpected(keys.error());
  next.updated_at_ms = std::max(clock_.NowMillis(), next.updated_at_ms);
  if (auto st = core::CheckStoredDocument(next.body); !st) return std::unexpected(st.error());
  store::RecordUpdate update;
  update.row = RowOf(next);
  update.row.sealed = crypto::Seal(keys->data, boost::json::serialize(next.body),
                                   RecordAssociatedData(next.environment_id, next.kind, next.id));
  update.expected_version = next.version - 1;
  update.index = IndexFor(*keys, claims);
  return update;
}

core::Result<Record> RecordService::Update(const std::string& environment_id, const std::string& kind,
                                           const std::string& id, const RecordChange& change,
                                           const ClaimsOf& claims, std::optional<std::int64_t> expected_version,
                                           const MemberWrite& members) {
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    auto current = Get(environment_id, kind, id);
    if (!current) return std::unexpected(current.error());
    if (expected_version && *expected_version != current->version) return core::VersionMismatch(kind);
    Record next = *current;
    if (auto st = change(next); !st) return std::unexpected(st.error());
    next.id = current->id;  // identity is not the change's to make
    next.environment_id = environment_id;
    next.kind = kind;
    next.updated_at_ms = current->updated_at_ms;
    next.version = current->version + 1;
    auto prepared = PrepareUpdate(next, claims(next));
    if (!prepared) return std::unexpected(prepared.error());
    store::RecordUpdate& update = *prepared;
    update.members = members.users;
    update.member_records = members.records;
    update.changes = members.changes;
    auto st = store_.UpdateRecord(update);
    if (st) return next;
    if (st.error().code != ErrorCode::kAborted) return std::unexpected(st.error());
  }
  return core::Fail(ErrorCode::kAborted, "record is being changed by others; retry");
}

core::Status RecordService::Delete(const std::string& environment_id, const std::string& kind,
                                   const std::string& id, std::optional<std::int64_t> expected_version) {
  if (id.empty() || id.size() > 128) return core::NotFound("record not found");
  auto st = store_.DeleteRecord(environment_id, kind, id, expected_version);
  if (!st && st.error().code == ErrorCode::kAborted && expected_version) return core::VersionMismatch(kind);
  return st;
}

core::Result<Record> RecordService::Take(const std::string& environment_id, const std::string& kind,
                                         const std::string& id) {
  if (id.empty() || id.size() > 128) return core::NotFound("record not found");
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  auto row = store_.TakeRecord(environment_id, kind, id, clock_.NowMillis());
  if (!row) return std::unexpected(row.error());
  return Unseal(*keys, *row);
}

core::Status RecordService::AddMember(const std::string& environment_id, const std::string& record_id,
                                      const std::string& user_id) {
  return store_.AddMember(environment_id, record_id, user_id);
}

core::Status RecordService::RemoveMember(const std::string& environment_id, const std::string& record_id,
                                         const std::string& user_id) {
  return store_.RemoveMember(environment_id, record_id, user_id);
}

core::Status RecordService::SetMemberships(const std::string& environment_id, const std::string& user_id,
                                           const std::string& kind, const std::vector<std::string>& record_ids) {
  return store_.SetMemberships(environment_id, user_id, kind, record_ids);
}

core::Result<std::vector<Record>> RecordService::MembershipsOf(const std::string& environment_id,
                                                               const std::string& user_id, const std::string& kind) {
  return UnsealAll(environment_id, store_.ListMemberships(environment_id, user_id, kind));
}

core::Result<std::int64_t> RecordService::CountMembers(const std::string& environment_id,
                                                       const std::string& record_id) {
  return store_.CountMembers(environment_id, record_id);
}

core::Result<std::vector<Record>> RecordService::ListMemberRecords(const std::string& environment_id,
                                                                   const std::string& record_id,
                                                                   std::int64_t after_number, int limit) {
  return UnsealAll(environment_id, store_.ListMemberRecords(environment_id, record_id, after_number, limit));
}

core::Result<std::vector<Container>> RecordService::ListContainers(const std::string& environment_id,
                                                                   const std::string& member_id,
                                                                   bool member_is_record, const std::string& kind,
                                                                   int max_depth, int limit) {
  auto rows = store_.ListContainingRecords(environment_id, member_id, member_is_record, kind, max_depth, limit);
  if (!rows) return std::unexpected(rows.error());
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  std::vector<Container> out;
  out.reserve(rows->size());
  for (const auto& row : *rows) {
    auto r = Unseal(*keys, row.row);
    if (!r) {
      SkipUnreadableRow("record", row.row.id, r.error());
      continue;
    }
    out.push_back({std::move(*r), row.depth});
  }
  return out;
}

core::Status RecordService::SendMail(const std::string& environment_id, const Mail& mail) {
  auto keys = directory_.KeysFor(environment_id);
  if (!keys) return std::unexpected(keys.error());
  const auto now = clock_.NowMillis();
  auto id = store_.EnqueueMail(store::MailRow{0, environment_id, now, now, 0, SealMail(*keys, environment_id, mail)});
  if (!id) return std::unexpected(id.error());
  return {};
}

}  // namespace roster::service
