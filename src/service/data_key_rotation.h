// Online data-key rotation (`roster env rotate-data-key`): a new data key is put in
// front of the environment's keys (durably, first); after every server has had time to
// pick it up (DirectoryService::kDataKeyTtlMs), a rate-limited pass re-seals every sealed
// row of the environment (users, records, outbox mail) under it, replacing only the
// sealed bytes of rows still as read (never a version or an updated time); a second pass
// verifies every row opens under the newest key; then the older keys are removed.
// The state (phase, table, cursor, counts) lives in the environment's settings record
// (environment_settings.h), saved after every batch: a run that is killed is resumed by
// running it again (one run at a time: run_lease.h), and no row is ever lost (every row opens under one of the keys the
// environment holds until the verifying pass found nothing left to re-seal).
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

struct DataKeyRotationProgress {
  std::string phase;  // none, settling, resealing, verifying, dropping, done
  std::string table;  // users, records or mail: where the pass is
  std::int64_t keys = 0;  // data keys the environment holds
  // Rows visited by the passes of this rotation (every run), and what became of them:
  // re-sealed, already under the newest key, changed meanwhile (a server rewrote or
  // deleted it; the verifying pass looks at it again) or unreadable under every key
  // (damaged; logged by id, left as it is).
  std::int64_t visited = 0, resealed = 0, current = 0, changed = 0, unreadable = 0;
  double rows_per_second = 0;  // this run's pace
  std::int64_t wait_ms = 0;    // settling: how long until re-sealing starts
};

boost::json::object ToJson(const DataKeyRotationProgress& progress);

struct DataKeyRotationOptions {
  double rows_per_second = 500;  // rows visited per second at most (<= 0: no limit)
  // How long after the new key is durable the pass starts: longer than any server
  // caches a key list (DirectoryService::kDataKeyTtlMs), so none seals under an older key
  // once the pass has passed its row.
  std::int64_t settle_ms = 2 * DirectoryService::kDataKeyTtlMs + 1'000;
  std::function<void(std::int64_t ms)> sleep;  // default: sleeps this thread
  std::function<void(const DataKeyRotationProgress&)> progress;  // after every batch
  // Who runs it (run_lease.h): one run per environment at a time; another live run's
  // claim makes RotateDataKey refuse (kFailedPrecondition) before it changes anything.
  RunnerId runner = ThisRunner();
};

// Starts or resumes the rotation of the environment's data key and runs it to the end.
core::Result<DataKeyRotationProgress> RotateDataKey(DirectoryService& directory, RecordService& records,
                                                    store::ResealStore& store, const core::Clock& clock,
                                                    const std::string& environment_id,
                                                    const DataKeyRotationOptions& options = {});

// Where the environment's rotation is (phase "none" if it never rotated).
core::Result<DataKeyRotationProgress> DataKeyRotationStatus(DirectoryService& directory, RecordService& records,
                                                            const std::string& environment_id);

}  // namespace roster::service
