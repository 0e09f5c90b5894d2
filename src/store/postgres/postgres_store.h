// PostgreSQL adapter of the storage port, over libpq. Same schema semantics and error
// codes as the SQLite adapter. A pool of connections serves every call (reads and
// writes alike, since PostgreSQL runs writers in parallel); each connection prepares a
// statement once and reuses it, and commits synchronously (synchronous_commit = on).
// Every write is one transaction; a broken connection makes that call return
// kUnavailable and is reconnected before it is used again. Versioned migrations are
// compiled into the binary and applied under an advisory lock, so any number of
// processes may start against one database at once.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace roster::store::postgres {

struct Options {
  std::string dsn;  // libpq connection string or URI
  int pool_size = 8;
};

// Connects pool_size connections and migrates the database. Throws std::runtime_error if
// the server cannot be reached or the schema cannot be migrated.
std::unique_ptr<Store> Open(const Options& options);

}  // namespace roster::store::postgres
