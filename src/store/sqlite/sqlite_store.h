// SQLite adapter of the storage port: one file, WAL, synchronous=FULL (an acknowledged
// write survives power loss), foreign keys on, prepared statements cached per
// connection, versioned migrations compiled into the binary. Writes go through one
// connection (SQLite allows one writer), batched by group commit: concurrent writes share
// one transaction and one fsync, each in its own savepoint (docs/architecture.md); reads
// use a small pool of connections that run in parallel under WAL.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "store/store.h"

namespace roster::store::sqlite {

struct Options {
  std::string path;
  int read_connections = 4;
  int busy_timeout_ms = 5000;
};

// Opens (creating if needed) and migrates the database. Throws std::runtime_error if
// the file cannot be opened or migrated.
std::unique_ptr<Store> Open(const Options& options);

// The group-commit writer's counts since the store was opened: transactions (batches)
// begun, writes they carried, the most in one, and writes queued now for the next.
struct WriteStats {
  std::uint64_t batches = 0, writes = 0, largest = 0, queued = 0;
};
// Zeros for a store that Open did not make.
WriteStats GetWriteStats(Store& store);

// PRAGMA integrity_check on the database file at `path`, read-only: "ok" when sound,
// else SQLite's list of problems.
Result<std::string> IntegrityCheck(const std::string& path);

}  // namespace roster::store::sqlite
