// The services every API (dialect) and every administrative subcommand works with,
// built once by the composition root (src/cli) and handed to each dialect with the
// dialect's own configuration. A bundle of references: cheap to copy, owned elsewhere.
#pragma once

#include "core/clock.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "service/user_access.h"
#include "service/user_service.h"

namespace roster::service {

struct Services {
  DirectoryService& directory;
  UserService& users;
  RecordService& records;
  const core::Clock& clock;
};

}  // namespace roster::service
