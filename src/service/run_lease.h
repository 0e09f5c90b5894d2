// One runner at a time for an environment's long-running operations (the data-key and
// index-key rotations). Two runs of the same rotation at once would each add a key or a
// generation and then drop what the other still needs (a data key dropped under rows the
// other run had just re-sealed: unreadable users). So the runner's claim lives in the
// operation's own member of the settings record (environment_settings.h), beside its
// progress, and every save of the progress re-checks and renews it in the same write
// (RecordService::Update's compare-and-swap decides between two racing runs):
//   "runner": {"id": <random>, "host": <hostname>, "pid": <pid>, "until": <ms>}
// A claim may be taken over when it is this runner's own (or this process's), when it has expired (a runner
// renews at least every few seconds; kRunLeaseMs is the bound), or at once when its
// process is gone from this host (a run killed and started again resumes without
// waiting). A runner on another host (PostgreSQL) that died is taken over after expiry.
#pragma once

#include <cstdint>
#include <string>

#include <boost/json/object.hpp>

#include "core/error.h"
#include "service/record_service.h"

namespace roster::service {

struct RunnerId {
  std::string id;    // random, one per run
  std::string host;  // gethostname()
  std::int64_t pid = 0;
};

// This process's identity for one run (a new random id each call).
RunnerId ThisRunner();

// How long a claim holds without renewal. Runs renew on every saved batch and once a
// second while waiting, so only a runner that died on another host, or one stuck for
// this long, loses its claim.
inline constexpr std::int64_t kRunLeaseMs = 120'000;

// Checks that `me` may write `state` (an operation's settings member) at `now_ms` and
// sets its claim there, holding until now_ms + lease_ms. kFailedPrecondition naming the
// other runner (host, pid, seconds left) when another live run holds it; `what` names
// the operation in that message ("the data-key rotation of this environment").
core::Status ClaimRun(boost::json::object& state, const boost::json::object* previous, const RunnerId& me,
                      std::int64_t now_ms, std::int64_t lease_ms, const std::string& what);

// Saves `state` as the settings member `key` (an operation's progress) in one write,
// with `me`'s claim on the run (ClaimRun; refused, nothing saved, when another live run
// holds it). `release`: the run is over, the member is saved without a claim.
core::Status SaveRunState(RecordService& records, const std::string& environment_id, const char* key,
                          boost::json::object state, const RunnerId& me, std::int64_t now_ms,
                          const std::string& what, bool release = false);

}  // namespace roster::service
