// Online index-key rotation (`roster env rotate-index-key`; docs/security.md,
// "Index-key rotation"). Blind-index digests come in generations (service/index_keys.h):
// the environment's stored key list names the generations servers write (low..high) and
// the one lookups use (read); every server re-reads it within DirectoryService::
// kDataKeyTtlMs, on SQLite and PostgreSQL alike, so none needs a restart. A rotation from
// generation g to g + 1 goes through four states, each entered by one compare-and-swap
// of that list and held for a settling time longer than any server caches it:
//   adding    writes g and g + 1, reads g: a pass copies every entry of g (users' and
//             records') to g + 1 (resumable by row number, rate-limited), then checks
//             that both generations hold as many entries (else it passes again);
//   switching writes g and g + 1, reads g + 1;
//   dropping  writes g + 1, reads g + 1: then deletes every entry of g (one transaction).
// A claim is held under the generation every server checks at every moment, so the
// store's unique constraints keep holding; lookups always use a generation every row
// holds. The progress (phase, cursor, counts, the settling deadline) lives in the
// environment's settings record (member `indexKeyRotation`), saved after every batch: a
// run that is killed is resumed by running it again.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <boost/json/object.hpp>

#include "core/clock.h"
#include "core/error.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "service/run_lease.h"
#include "store/store.h"

namespace roster::service {

struct IndexKeyRotationProgress {
  std::string phase;  // none, settling, copying, switching, dropping, done
  std::string table;  // users or records: where the copying pass is
  std::int64_t generation = 0;  // the generation lookups use
  std::int64_t from = 0, to = 0;  // this rotation's generations (none: both 0)
  // Rows visited and entries copied by the passes of this rotation (every run), passes
  // started, entries of the old generation deleted at its end.
  std::int64_t visited = 0, copied = 0, passes = 0, dropped = 0;
  double rows_per_second = 0;  // this run's pace
  std::int64_t wait_ms = 0;    // settling, switching or dropping: how long until the next step
};

boost::json::object ToJson(const IndexKeyRotationProgress& progress);

struct IndexKeyRotationOptions {
  double rows_per_second = 500;  // rows visited per second at most (<= 0: no limit)
  // How long each new state is held before the next step: longer than any server caches
  // the key list (DirectoryService::kDataKeyTtlMs).
  std::int64_t settle_ms = 2 * DirectoryService::kDataKeyTtlMs + 1'000;
  std::function<void(std::int64_t ms)> sleep;  // default: sleeps this thread
  std::function<void(const IndexKeyRotationProgress&)> progress;  // after every step
  // Who runs it (run_lease.h): one run per environment at a time; another live run's
  // claim makes RotateIndexKey refuse (kFailedPrecondition) before it changes anything.
  RunnerId runner = ThisRunner();
};

// Starts or resumes the rotation of the environment's index key and runs it to the end.
core::Result<IndexKeyRotationProgress> RotateIndexKey(DirectoryService& directory, RecordService& records,
                                                      store::Store& store, const core::Clock& clock,
                                                      const std::string& environment_id,
                                                      const IndexKeyRotationOptions& options = {});

// Where the environment's rotation is (phase "none" if it never rotated).
core::Result<IndexKeyRotationProgress> IndexKeyRotationStatus(RecordService& records, store::Store& store,
                                                              const std::string& environment_id);

}  // namespace roster::service
