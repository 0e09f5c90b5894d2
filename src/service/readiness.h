// Readiness: whether this process can serve requests now. Ready when the store answers,
// its schema is the one this binary knows (migrations current), and the master key
// opens every environment's data key. GET /readyz renders it; GET /healthz only says
// the process is alive.
#pragma once

#include <string>

#include "service/directory_service.h"
#include "store/store.h"

namespace roster::service {

struct Readiness {
  bool ready = false;
  std::string check;   // the check that failed: "store", "migrations" or "keys"
  std::string reason;  // why, for operators (no user data)
};

Readiness CheckReadiness(store::OperationsStore& store, DirectoryService& directory);

}  // namespace roster::service
