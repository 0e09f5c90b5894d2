#include "service/unreadable.h"

#include <mutex>

#include "metrics/metrics.h"

namespace roster::service {
namespace {

struct LogHook {
  std::mutex mu;
  std::function<void(const std::string&)> log;
};
LogHook& Hook() {
  static LogHook hook;
  return hook;
}
metrics::Counter& Count(std::string_view kind) {
  static auto& f = metrics::Registry::Global().AddCounter(
      "roster_unreadable_rows_total", "Stored rows skipped in a listing because they could not be read.", {"kind"});
  return f.With({kind});
}
[[maybe_unused]] const bool kMetricsRegistered = [] {
  for (const char* kind : {"user", "record"}) Count(kind);
  return true;
}();

}  // namespace

void SetUnreadableRowLog(std::function<void(const std::string&)> log) {
  std::lock_guard lock(Hook().mu);
  Hook().log = std::move(log);
}

void SkipUnreadableRow(std::string_view kind, const std::string& id, const core::Error& error) {
  Count(kind).Inc();
  std::function<void(const std::string&)> log;
  {
    std::lock_guard lock(Hook().mu);
    log = Hook().log;
  }
  // The error's message is safe to show (core/error.h): it never holds a value.
  if (log) log("unreadable " + std::string(kind) + " " + id + " skipped: " + error.message);
}

std::uint64_t UnreadableRows(std::string_view kind) { return Count(kind).Value(); }

}  // namespace roster::service
