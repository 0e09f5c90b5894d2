#include "service/readiness.h"

namespace roster::service {

Readiness CheckReadiness(store::OperationsStore& store, DirectoryService& directory) {
  auto schema = store.CheckSchema();
  if (!schema) return {false, "store", "the database does not answer: " + schema.error().message};
  if (schema->applied != schema->known)
    return {false, "migrations",
            "the database schema is at version " + std::to_string(schema->applied) + ", this binary needs " +
                std::to_string(schema->known) + " (run roster migrate)"};
  auto environments = directory.ListEnvironments();
  if (!environments) return {false, "store", "the database does not answer: " + environments.error().message};
  for (const auto& environment : *environments) {
    if (auto keys = directory.KeysFor(environment.id); !keys) {
      // Not found: deleted since the list; anything else is a key or database problem.
      if (keys.error().code == core::ErrorCode::kNotFound) continue;
      if (keys.error().code == core::ErrorCode::kUnavailable)
        return {false, "store", "the database does not answer: " + keys.error().message};
      return {false, "keys", "the master key does not open the data key of environment " + environment.name};
    }
  }
  return {true, "", ""};
}

}  // namespace roster::service
