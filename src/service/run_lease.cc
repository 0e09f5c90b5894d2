#include "service/run_lease.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "crypto/crypto.h"
#include "service/environment_settings.h"

namespace roster::service {
namespace {

namespace json = boost::json;

std::string StringMember(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Whether process `pid` of this host is gone (a zombie still counts as there: its parent
// has not seen it end).
bool Gone(std::int64_t pid) { return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

}  // namespace

RunnerId ThisRunner() {
  RunnerId me;
  me.id = crypto::RandomToken();
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) me.host = host;
  me.pid = ::getpid();
  return me;
}

core::Status ClaimRun(json::object& state, const json::object* previous, const RunnerId& me, std::int64_t now_ms,
                      std::int64_t lease_ms, const std::string& what) {
  const json::value* held = previous ? previous->if_contains("runner") : nullptr;
  if (held && held->is_object()) {
    const auto& r = held->as_object();
    const std::string id = StringMember(r, "id"), host = StringMember(r, "host");
    const std::int64_t pid = IntMember(r, "pid"), until = IntMember(r, "until");
    // This process's own claim (a run resumed in the process after an error) is its own.
    const bool mine = id == me.id || (host == me.host && pid == me.pid), expired = until <= now_ms, dead = host == me.host && Gone(pid);
    if (!mine && !expired && !dead)
      return core::Fail(core::ErrorCode::kFailedPrecondition,
                        "another run is doing " + what + " (process " + std::to_string(pid) + " on " +
                            (host.empty() ? std::string("an unnamed host") : host) + "; its claim ends in " +
                            std::to_string((until - now_ms + 999) / 1000) +
                            " s unless it renews it); wait for it, or stop it and run this again");
  }
  state["runner"] = json::object{{"id", me.id}, {"host", me.host}, {"pid", me.pid}, {"until", now_ms + lease_ms}};
  return {};
}

core::Status SaveRunState(RecordService& records, const std::string& environment_id, const char* key,
                          json::object state, const RunnerId& me, std::int64_t now_ms, const std::string& what,
                          bool release) {
  return UpdateEnvironmentSettingsIf(records, environment_id, [&](json::object& settings) -> core::Status {
    const json::value* previous = settings.if_contains(key);
    json::object next = state;
    if (auto st = ClaimRun(next, previous && previous->is_object() ? &previous->as_object() : nullptr, me, now_ms,
                           kRunLeaseMs, what);
        !st)
      return st;
    if (release) next.erase("runner");
    settings[key] = std::move(next);
    return {};
  });
}

}  // namespace roster::service
