// The audit chain's canonical bytes and linking, shared by every adapter and by the
// verifier (service/audit.h). Pure functions; the MAC is the caller's (store::AuditMac).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace roster::store::audit_chain {

inline const std::string& Genesis() {
  static const std::string zero(32, '\0');
  return zero;
}

inline void Put(std::string& out, std::string_view v) {
  const auto n = static_cast<std::uint32_t>(v.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(v);
}

// Every field but `hash`, length-prefixed, after a domain tag.
inline std::string RecordBytes(const AuditRow& r) {
  std::string out;
  Put(out, "roster.audit.record.v1");
  // Named, not temporaries in the list below: a temporary there would die before the
  // loop reads its view (lifetime extension in range-for initialisers is C++23's P2718,
  // which g++ 12 does not implement).
  const std::string seq = std::to_string(r.seq), at = std::to_string(r.at_ms);
  for (std::string_view v : {std::string_view(r.environment_id), std::string_view(seq),
                             std::string_view(at), std::string_view(r.principal_kind),
                             std::string_view(r.principal_id), std::string_view(r.principal_user),
                             std::string_view(r.api), std::string_view(r.route), std::string_view(r.request_id),
                             std::string_view(r.action), std::string_view(r.subject), std::string_view(r.outcome),
                             std::string_view(r.fields), std::string_view(r.prev)})
    Put(out, v);
  return out;
}
inline std::string HeadBytes(const std::string& environment_id, std::int64_t seq, const std::string& hash) {
  std::string out;
  Put(out, "roster.audit.head.v1");
  Put(out, environment_id);
  Put(out, std::to_string(seq));
  Put(out, hash);
  return out;
}
inline std::string CheckpointBytes(const std::string& environment_id, std::int64_t seq, const std::string& hash,
                                   std::int64_t at_ms) {
  std::string out;
  Put(out, "roster.audit.checkpoint.v1");
  Put(out, environment_id);
  Put(out, std::to_string(seq));
  Put(out, hash);
  Put(out, std::to_string(at_ms));
  return out;
}

struct Linked {
  AuditHead head;
  std::vector<AuditCheckpoint> checkpoints;
};

// Links `rows` (all of `environment_id`, in order) after `head` (nullopt: the chain
// starts here): assigns seq, prev and hash; returns the new head and the checkpoints due.
inline Linked Link(const AuditMac& mac, const std::string& environment_id, const std::optional<AuditHead>& head,
                   std::vector<AuditRow>& rows) {
  Linked out;
  std::int64_t seq = head ? head->seq : 0;
  std::string prev = head ? head->hash : Genesis();
  for (auto& r : rows) {
    r.environment_id = environment_id;
    r.seq = ++seq;
    r.prev = prev;
    r.hash = mac(RecordBytes(r));
    prev = r.hash;
    if (r.seq % kAuditCheckpointEvery == 0)
      out.checkpoints.push_back({environment_id, r.seq, r.hash, r.at_ms,
                                 mac(CheckpointBytes(environment_id, r.seq, r.hash, r.at_ms))});
  }
  out.head = {environment_id, seq, prev, mac(HeadBytes(environment_id, seq, prev))};
  return out;
}

// The rows grouped by environment, each group in its original order, groups in
// environment id order (so concurrent appends lock chain heads in one order).
inline std::vector<std::vector<AuditRow>> ByEnvironment(const std::vector<AuditRow>& rows) {
  std::vector<std::vector<AuditRow>> groups;
  for (const auto& r : rows) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.front().environment_id == r.environment_id; });
    if (it == groups.end()) {
      groups.push_back({r});
    } else {
      it->push_back(r);
    }
  }
  std::sort(groups.begin(), groups.end(),
            [](const auto& a, const auto& b) { return a.front().environment_id < b.front().environment_id; });
  return groups;
}

}  // namespace roster::store::audit_chain
