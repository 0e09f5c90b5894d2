// Bringing an environment's search entries (search_index.h) up to date. A database
// written before the entries existed holds users without them, and the query engine,
// which answers `eq`/`sw` from the index, would silently leave those users out. The
// environment's settings (environment_settings.h, member `searchIndex`) record the
// derivation its entries follow; `serve` calls EnsureSearchIndexed for every
// environment before it listens, so an upgraded database is re-indexed once, and a
// database at the current derivation costs one read per environment.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "service/record_service.h"
#include "service/user_service.h"

namespace roster::service {

// Bump when SearchEntries derives other entries for the same user (a new kind, other
// prefix lengths, another folding): every environment is then re-indexed at start.
// 2: archived users hold kArchivedMarker (user_service.h), which the query engine's
// counts from the index rely on. From 1 only archived users are rewritten.
inline constexpr std::int64_t kSearchIndexVersion = 2;

// Re-derives every user's claims and search entries (UserService::Reindex, `batch` users
// per write) unless the settings say they follow kSearchIndexVersion already; then
// records that they do. True when it re-indexed.
core::Result<bool> EnsureSearchIndexed(UserService& users, RecordService& records, const std::string& environment_id,
                                       int batch = 500);

}  // namespace roster::service
