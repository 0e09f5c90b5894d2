#include "service/index_key_rotation.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>

#include "crypto/crypto.h"
#include "service/environment_settings.h"
#include "service/index_keys.h"

namespace roster::service {
namespace {

namespace json = boost::json;

constexpr const char* kStateKey = "indexKeyRotation";  // the member of the settings record
constexpr int kMaxBatch = 100;

struct Table {
  store::IndexTable table;
  const char* name;
};
constexpr std::array<Table, 2> kTables{{{store::IndexTable::kUsers, "users"}, {store::IndexTable::kRecords, "records"}}};

// The persisted state: the progress plus where the pass is.
struct State {
  IndexKeyRotationProgress progress;
  std::size_t table = 0;    // index into kTables
  std::int64_t after = 0;   // keyset cursor (row number) in that table
  std::int64_t until = 0;   // when the current wait ends
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
  s.until = IntMember(o, "until");
  s.progress.from = IntMember(o, "from");
  s.progress.to = IntMember(o, "to");
  s.progress.visited = IntMember(o, "visited");
  s.progress.copied = IntMember(o, "copied");
  s.progress.passes = IntMember(o, "passes");
  s.progress.dropped = IntMember(o, "dropped");
  return s;
}

constexpr const char* kWhat = "the index-key rotation of this environment";

// Saves the state with this run's claim on the rotation (run_lease.h); `release` at the end.
core::Status Save(RecordService& records, const core::Clock& clock, const std::string& environment_id,
                  const State& s, const RunnerId& me, bool release = false) {
  json::object state{{"phase", s.progress.phase}, {"from", s.progress.from},
                     {"to", s.progress.to},       {"table", static_cast<std::int64_t>(s.table)},
                     {"after", s.after},          {"until", s.until},
                     {"visited", s.progress.visited}, {"copied", s.progress.copied},
                     {"passes", s.progress.passes},   {"dropped", s.progress.dropped}};
  return SaveRunState(records, environment_id, kStateKey, std::move(state), me, clock.NowMillis(), kWhat, release);
}

core::Result<crypto::IndexGenerations> Generations(store::Store& store, const std::string& environment_id) {
  auto env = store.FindEnvironmentById(environment_id);
  if (!env) return std::unexpected(env.error());
  return crypto::Keyring::IndexGenerationsOf(env->wrapped_key);
}

// Makes `want` the environment's generations: a compare-and-swap of its key list (a
// data-key or master-key rotation changing it meanwhile is read again).
core::Status SetGenerations(DirectoryService& directory, store::Store& store, const std::string& environment_id,
                            const crypto::IndexGenerations& want) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto env = store.FindEnvironmentById(environment_id);
    if (!env) return std::unexpected(env.error());
    if (crypto::Keyring::IndexGenerationsOf(env->wrapped_key) != want) {
      auto st = store.ReplaceEnvironmentKeys(environment_id, env->wrapped_key,
                                             crypto::Keyring::WithIndexGenerations(env->wrapped_key, want));
      if (!st && st.error().code == core::ErrorCode::kAborted) continue;
      if (!st) return st;
    }
    if (auto keys = directory.RefreshKeys(environment_id); !keys) return std::unexpected(keys.error());
    return {};
  }
  return core::Fail(core::ErrorCode::kAborted, "the environment's keys keep changing");
}

}  // namespace

json::object ToJson(const IndexKeyRotationProgress& p) {
  json::object o{{"phase", p.phase},     {"generation", p.generation}, {"from", p.from},
                 {"to", p.to},           {"visited", p.visited},       {"copied", p.copied},
                 {"passes", p.passes},   {"dropped", p.dropped}};
  if (!p.table.empty()) o["table"] = p.table;
  if (p.rows_per_second > 0) o["rowsPerSecond"] = static_cast<std::int64_t>(p.rows_per_second + 0.5);
  if (p.wait_ms > 0) o["waitMs"] = p.wait_ms;
  return o;
}

core::Result<IndexKeyRotationProgress> IndexKeyRotationStatus(RecordService& records, store::Store& store,
                                                              const std::string& environment_id) {
  auto gens = Generations(store, environment_id);
  if (!gens) return std::unexpected(gens.error());
  auto settings = LoadEnvironmentSettings(records, environment_id);
  if (!settings) return std::unexpected(settings.error());
  State s = FromSettings(*settings);
  s.progress.generation = gens->read;
  if (s.table < kTables.size() && s.progress.phase == "copying") s.progress.table = kTables[s.table].name;
  return s.progress;
}

core::Result<IndexKeyRotationProgress> RotateIndexKey(DirectoryService& directory, RecordService& records,
                                                      store::Store& store, const core::Clock& clock,
                                                      const std::string& environment_id,
                                                      const IndexKeyRotationOptions& options) {
  const auto sleep = options.sleep ? options.sleep : [](std::int64_t ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  };
  auto gens = Generations(store, environment_id);
  if (!gens) return std::unexpected(gens.error());
  auto settings = LoadEnvironmentSettings(records, environment_id);
  if (!settings) return std::unexpected(settings.error());
  State s = FromSettings(*settings);
  auto& p = s.progress;
  const auto report = [&] {
    p.generation = gens->read;
    if (options.progress) options.progress(p);
  };
  const auto save = [&](bool release = false) {
    return Save(records, clock, environment_id, s, options.runner, release);
  };
  // Claim the run before changing anything: a second run refuses here.
  if (auto st = save(); !st) return std::unexpected(st.error());
  const auto set = [&](const crypto::IndexGenerations& want) -> core::Status {
    if (auto st = SetGenerations(directory, store, environment_id, want); !st) return st;
    *gens = want;
    return {};
  };
  const auto hold = [&] { s.until = clock.NowMillis() + options.settle_ms; };

  // Where a run killed earlier left things: the key list is the truth, the settings say
  // how far the current state's wait and pass went.
  if (gens->low == gens->read && gens->read == gens->high) {
    if ((p.phase == "switching" || p.phase == "dropping") && p.to == gens->read && p.to > 0) {
      if (p.phase == "switching") {  // the switch to steady was made; its wait was never saved
        p.phase = "dropping";
        hold();
      }
    } else {
      const std::int64_t g = gens->read;
      if (auto st = set({g, g, g + 1}); !st) return std::unexpected(st.error());
      s = State{};
      p.phase = "settling";
      p.from = g;
      p.to = g + 1;
      hold();
    }
  } else if (gens->read == gens->low) {
    if (!((p.phase == "settling" || p.phase == "copying") && p.to == gens->high)) {
      s = State{};
      p.phase = "settling";
      p.from = gens->low;
      p.to = gens->high;
      hold();
    }
  } else if (p.phase != "switching" || p.to != gens->high) {
    p.phase = "switching";
    p.from = gens->low;
    p.to = gens->high;
    hold();
  }
  if (auto st = save(); !st) return std::unexpected(st.error());

  const auto wait = [&] {
    for (std::int64_t left = s.until - clock.NowMillis(); left > 0; left = s.until - clock.NowMillis()) {
      p.wait_ms = left;
      if (auto st = save(); !st) return st;  // renews the claim
      report();
      sleep(std::min<std::int64_t>(left, 1'000));
    }
    p.wait_ms = 0;
    return core::Status{};
  };
  const double rate = options.rows_per_second;
  const int batch = rate > 0 ? static_cast<int>(std::clamp(rate / 4, 1.0, static_cast<double>(kMaxBatch))) : kMaxBatch;
  const auto started = std::chrono::steady_clock::now();
  std::int64_t visited_this_run = 0;

  while (p.phase != "done") {
    if (p.phase == "settling") {
      // Every server writes both generations once this wait is over.
      if (auto st = wait(); !st) return std::unexpected(st.error());
      p.phase = "copying";
      s.table = 0;
      s.after = 0;
      ++p.passes;
    } else if (p.phase == "copying") {
      auto keys = directory.RefreshKeys(environment_id);
      if (!keys) return std::unexpected(keys.error());
      if (static_cast<std::int64_t>(keys->index_steps.size()) < p.to)
        return core::Internal("the index-key generation is not in the key list");
      const crypto::SecretKey& step = keys->index_steps[static_cast<std::size_t>(p.to - 1)];
      if (s.table >= kTables.size()) {
        // A pass ended: done when both generations hold as many entries (a row written
        // meanwhile holds both; one the pass missed holds only the old one).
        bool even = true;
        for (const auto& t : kTables) {
          auto counts = store.CountIndexGenerations(t.table, environment_id);
          if (!counts) return std::unexpected(counts.error());
          even = even && (*counts)[p.from] == (*counts)[p.to];
        }
        if (even) {
          if (auto st = set({p.from, p.to, p.to}); !st) return std::unexpected(st.error());
          p.phase = "switching";
          p.table.clear();
          hold();
        } else {
          s.table = 0;
          s.after = 0;
          ++p.passes;
        }
      } else {
        const Table& t = kTables[s.table];
        p.table = t.name;
        auto rows = store.ListIndexEntries(t.table, environment_id, p.from, s.after, batch);
        if (!rows) return std::unexpected(rows.error());
        std::vector<store::IndexCopy> copies;
        copies.reserve(rows->entries.size());
        for (auto& e : rows->entries)
          copies.push_back({e.number, e.kind, e.digest, IndexStep(step, e.kind, e.digest)});
        auto copied = store.CopyIndexEntries(t.table, environment_id, p.to, copies);
        if (!copied) return std::unexpected(copied.error());
        p.copied += *copied;
        p.visited += rows->rows;
        visited_this_run += rows->rows;
        if (rows->rows < batch) {
          ++s.table;
          s.after = 0;
        } else {
          s.after = rows->last;
        }
        if (auto st = save(); !st) return std::unexpected(st.error());
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        p.rows_per_second = elapsed > 0 ? static_cast<double>(visited_this_run) / elapsed : 0;
        report();
        if (rate > 0) {
          const double due = static_cast<double>(visited_this_run) / rate;
          if (due > elapsed) sleep(static_cast<std::int64_t>((due - elapsed) * 1000));
        }
        continue;
      }
    } else if (p.phase == "switching") {
      // Every server looks up under the new generation once this wait is over.
      if (auto st = wait(); !st) return std::unexpected(st.error());
      if (auto st = set({p.to, p.to, p.to}); !st) return std::unexpected(st.error());
      p.phase = "dropping";
      hold();
    } else if (p.phase == "dropping") {
      // No server writes the old generation once this wait is over.
      if (auto st = wait(); !st) return std::unexpected(st.error());
      auto dropped = store.DropIndexGenerations(environment_id, p.to);
      if (!dropped) return std::unexpected(dropped.error());
      p.dropped += *dropped;
      p.phase = "done";
    } else {
      return core::Internal("unknown index-key rotation phase " + p.phase);
    }
    if (auto st = save(/*release=*/p.phase == "done"); !st) return std::unexpected(st.error());
    report();
  }
  report();
  return p;
}

}  // namespace roster::service
