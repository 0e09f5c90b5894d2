// SQLite adapter of the storage port: one file, WAL, synchronous=FULL (an acknowledged
// write survives power loss), foreign keys on, prepared statements cached per
// connection, versioned migrations compiled into the binary. Writes go through one
// connection under a mutex (SQLite allows one writer); reads use a small pool of
// connections that run in parallel under WAL.
#pragma once

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

// PRAGMA integrity_check on the database file at `path`, read-only: "ok" when sound,
// else SQLite's list of problems.
Result<std::string> IntegrityCheck(const std::string& path);

}  // namespace roster::store::sqlite
