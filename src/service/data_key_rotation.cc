#include "service/data_key_rotation.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>

#include "crypto/crypto.h"
#include "service/associated_data.h"
#include "service/environment_settings.h"
#include "service/unreadable.h"

namespace roster::service {
namespace {

namespace json = boost::json;

constexpr const char* kStateKey = "dataKeyRotation";  // the member of the settings record
constexpr int kMaxBatch = 100;

struct Table {
  store::SealedTable table;
  const char* name;
};
constexpr std::array<Table, 3> kTables{{{store::SealedTable::kUsers, "users"},
                                        {store::SealedTable::kRecords, "records"},
                                        {store::SealedTable::kMail, "mail"}}};

// The persisted state: the progress plus where the pass is.
struct State {
  DataKeyRotationProgress progress;
  std::size_t table = 0;          // index into kTables
  std::int64_t after = 0;         // keyset cursor in that table
  std::int64_t reseal_from_ms = 0;
  std::int64_t pass_resealed = 0;  // re-sealed by the current verifying pass
};


State FromSettings(const json::object& settings) {
  State s;
  s.progress.phase = "none";
  const auto* v = settings.if_contains(kStateKey);
  if (!v || !v->is_object()) return s;
  const auto& o = v->as_object();
  if (const auto* p = o.if_contains("phase"); p && p->is_string()) s.progress.phase = std::string(p->as_string());
  s.table = static_cast<std::size_t>(std::clamp<std::int64_t>(IntMember(o, "table"), 0, kTables.size()));
  s.after = IntMember(o, "after");
  s.reseal_from_ms = IntMember(o, "resealFrom");
  s.pass_resealed = IntMember(o, "passResealed");
  s.progress.visited = IntMember(o, "visited");
  s.progress.resealed = IntMember(o, "resealed");
  s.progress.current = IntMember(o, "current");
  s.progress.changed = IntMember(o, "changed");
  s.progress.unreadable = IntMember(o, "unreadable");
  return s;
}

constexpr const char* kWhat = "the data-key rotation of this environment";

// Saves the state with this run's claim on the rotation (run_lease.h); `release` at the end.
core::Status Save(RecordService& records, const core::Clock& clock, const std::string& environment_id,
                  const State& s, const RunnerId& me, bool release = false) {
  json::object state{{"phase", s.progress.phase},     {"table", static_cast<std::int64_t>(s.table)},
                     {"after", s.after},              {"resealFrom", s.reseal_from_ms},
                     {"passResealed", s.pass_resealed}, {"visited", s.progress.visited},
                     {"resealed", s.progress.resealed}, {"current", s.progress.current},
                     {"changed", s.progress.changed},   {"unreadable", s.progress.unreadable}};
  return SaveRunState(records, environment_id, kStateKey, std::move(state), me, clock.NowMillis(), kWhat, release);
}

std::string AssociatedData(store::SealedTable table, const std::string& environment_id, const store::SealedValue& v) {
  switch (table) {
    case store::SealedTable::kUsers: return ProfileAssociatedData(environment_id, v.id);
    case store::SealedTable::kRecords: return RecordAssociatedData(environment_id, v.kind, v.id);
    case store::SealedTable::kMail: return MailAssociatedData(environment_id);
  }
  return {};
}

const char* RowKind(store::SealedTable table) {
  return table == store::SealedTable::kUsers ? "user" : table == store::SealedTable::kRecords ? "record" : "mail";
}

}  // namespace

json::object ToJson(const DataKeyRotationProgress& p) {
  json::object o{{"phase", p.phase}, {"keys", p.keys},         {"visited", p.visited},
                 {"resealed", p.resealed}, {"current", p.current}, {"changed", p.changed},
                 {"unreadable", p.unreadable}};
  if (!p.table.empty()) o["table"] = p.table;
  if (p.rows_per_second > 0) o["rowsPerSecond"] = static_cast<std::int64_t>(p.rows_per_second + 0.5);
  if (p.wait_ms > 0) o["waitMs"] = p.wait_ms;
  return o;
}

core::Result<DataKeyRotationProgress> DataKeyRotationStatus(DirectoryService& directory, RecordService& records,
                                                            const std::string& environment_id) {
  auto count = directory.DataKeyCount(environment_id);
  if (!count) return std::unexpected(count.error());
  auto settings = LoadEnvironmentSettings(records, environment_id);
  if (!settings) return std::unexpected(settings.error());
  State s = FromSettings(*settings);
  s.progress.keys = static_cast<std::int64_t>(*count);
  if (s.table < kTables.size() && (s.progress.phase == "resealing" || s.progress.phase == "verifying"))
    s.progress.table = kTables[s.table].name;
  return s.progress;
}

core::Result<DataKeyRotationProgress> RotateDataKey(DirectoryService& directory, RecordService& records,
                                                    store::ResealStore& store, const core::Clock& clock,
                                                    const std::string& environment_id,
                                                    const DataKeyRotationOptions& options) {
  const auto sleep = options.sleep ? options.sleep : [](std::int64_t ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  };
  const auto report = [&](const DataKeyRotationProgress& p) {
    if (options.progress) options.progress(p);
  };
  auto count = directory.DataKeyCount(environment_id);
  if (!count) return std::unexpected(count.error());
  auto settings = LoadEnvironmentSettings(records, environment_id);
  if (!settings) return std::unexpected(settings.error());
  State s = FromSettings(*settings);
  const std::string& phase = s.progress.phase;
  const auto save = [&](bool release = false) {
    return Save(records, clock, environment_id, s, options.runner, release);
  };
  // Claim the run before changing anything: a second run refuses here.
  if (auto st = save(); !st) return std::unexpected(st.error());

  if (*count == 1 && phase == "dropping") {
    // Killed after the older keys were removed, before the state said so.
    s.progress.phase = "done";
  } else if (*count == 1 || phase == "none" || phase == "done") {
    // A new rotation; or a new key is durable already and the state was never saved
    // (killed in between): AddDataKey keeps that key, and the wait starts again.
    auto added = directory.AddDataKey(environment_id);
    if (!added) return std::unexpected(added.error());
    s = State{};
    s.progress.phase = "settling";
    s.reseal_from_ms = clock.NowMillis() + options.settle_ms;
  } else {
    if (auto keys = directory.RefreshKeys(environment_id); !keys) return std::unexpected(keys.error());
  }
  if (auto st = save(); !st) return std::unexpected(st.error());
  if (auto c = directory.DataKeyCount(environment_id); c) s.progress.keys = static_cast<std::int64_t>(*c);

  // Settling: every server re-reads the key list within kDataKeyTtlMs, so after this
  // wait every new seal anywhere is under the new key.
  for (std::int64_t left = s.reseal_from_ms - clock.NowMillis(); s.progress.phase == "settling" && left > 0;
       left = s.reseal_from_ms - clock.NowMillis()) {
    s.progress.wait_ms = left;
    if (auto st = save(); !st) return std::unexpected(st.error());  // renews the claim
    report(s.progress);
    sleep(std::min<std::int64_t>(left, 1'000));
  }
  s.progress.wait_ms = 0;
  if (s.progress.phase == "settling") {
    s.progress.phase = "resealing";
    s.table = 0;
    s.after = 0;
  }

  const double rate = options.rows_per_second;
  const int batch = rate > 0 ? static_cast<int>(std::clamp(rate / 4, 1.0, static_cast<double>(kMaxBatch))) : kMaxBatch;
  const auto started = std::chrono::steady_clock::now();
  std::int64_t visited_this_run = 0;
  auto keys = directory.RefreshKeys(environment_id);
  if (!keys) return std::unexpected(keys.error());

  while (s.progress.phase == "resealing" || s.progress.phase == "verifying") {
    if (s.table >= kTables.size()) {
      // A pass ended. The verifying pass that re-sealed nothing ends the re-sealing.
      if (s.progress.phase == "verifying" && s.pass_resealed == 0) {
        s.progress.phase = "dropping";
      } else {
        s.progress.phase = "verifying";
        s.table = 0;
        s.after = 0;
        s.pass_resealed = 0;
      }
      if (auto st = save(); !st) return std::unexpected(st.error());
      continue;
    }
    const Table& t = kTables[s.table];
    s.progress.table = t.name;
    auto rows = store.ListSealed(t.table, environment_id, s.after, batch);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& v : *rows) {
      ++s.progress.visited;
      ++visited_this_run;
      const std::string ad = AssociatedData(t.table, environment_id, v);
      if (crypto::Open(keys->data, v.sealed, ad)) {
        ++s.progress.current;
        continue;
      }
      auto plain = crypto::OpenAny(*keys, v.sealed, ad);
      if (!plain) {
        ++s.progress.unreadable;
        SkipUnreadableRow(RowKind(t.table), v.id.empty() ? std::to_string(v.number) : v.id, plain.error());
        continue;
      }
      auto replaced = store.ReplaceSealed(t.table, environment_id, v.number, v.sealed,
                                          crypto::Seal(keys->data, *plain, ad));
      if (!replaced) return std::unexpected(replaced.error());
      if (*replaced) {
        ++s.progress.resealed;
        ++s.pass_resealed;
      } else {
        ++s.progress.changed;
        ++s.pass_resealed;  // looked at again by a verifying pass
      }
    }
    if (!rows->empty()) s.after = rows->back().number;
    if (static_cast<int>(rows->size()) < batch) {
      ++s.table;
      s.after = 0;
    }
    if (auto st = save(); !st) return std::unexpected(st.error());
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    s.progress.rows_per_second = elapsed > 0 ? static_cast<double>(visited_this_run) / elapsed : 0;
    report(s.progress);
    if (rate > 0) {
      const double due = static_cast<double>(visited_this_run) / rate;
      if (due > elapsed) sleep(static_cast<std::int64_t>((due - elapsed) * 1000));
    }
  }

  if (s.progress.phase == "dropping") {
    if (auto st = directory.DropOlderDataKeys(environment_id); !st) return std::unexpected(st.error());
    s.progress.phase = "done";
  }
  s.progress.table.clear();
  if (auto st = save(/*release=*/true); !st) return std::unexpected(st.error());
  if (auto c = directory.DataKeyCount(environment_id); c) s.progress.keys = static_cast<std::int64_t>(*c);
  report(s.progress);
  return s.progress;
}

}  // namespace roster::service
