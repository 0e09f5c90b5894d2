// Bringing an environment's search entries (search_index.h) up to date. A database
// written before the entries existed holds users without them, and the query engine,
// which answers `eq`/`sw` from the index, would silently leave those users out. The
// environment's settings (environment_settings.h, member `searchIndex`) record the
// derivation its entries follow; `serve` calls EnsureSearchIndexed for every
// environment before it listens, so an upgraded database is re-indexed once, and a
// database at the current derivation costs one read per environment. An environment
// created by this build starts at the current derivation (MarkNewEnvironmentsIndexed), so
// users imported or created before the next start are not re-derived by it.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "service/directory_service.h"
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

// Makes every environment `directory` creates from now on record kSearchIndexVersion at
// once: it has no users, so none follow an older derivation. Without it, a new
// environment's users (an import of a million, or a CommCare domain's workers created
// while serving) would all be re-derived at the next start, before the server listens.
// If recording fails, CreateEnvironment returns that error; the environment exists and
// is re-derived at the next start (correct, only slower).
void MarkNewEnvironmentsIndexed(DirectoryService& directory, RecordService& records);

}  // namespace roster::service
