// `roster env rotate-data-key NAME [--rate R] [--status]` (service/data_key_rotation.h) and
// `roster env rotate-index-key NAME [--rate R] [--status]` (service/index_key_rotation.h).
#pragma once

#include <string>

#include "service/audit.h"
#include "service/directory_service.h"
#include "service/record_service.h"
#include "store/store.h"

namespace roster::cli {

// Runs (or resumes) the rotation, a progress line per batch on stderr, and prints the
// outcome; with `status`, prints where the rotation is and changes nothing. Throws
// std::runtime_error on failure.
// Each run (not `status`) leaves a `data-key.rotate` audit record first.
int RotateDataKey(service::DirectoryService& directory, service::RecordService& records, store::Store& store,
                  service::AuditLog& audit, const std::string& environment, double rows_per_second, bool status,
                  bool as_json);

// The same for the index key (an `index-key.rotate` audit record first).
int RotateIndexKey(service::DirectoryService& directory, service::RecordService& records, store::Store& store,
                   service::AuditLog& audit, const std::string& environment, double rows_per_second, bool status,
                   bool as_json);

}  // namespace roster::cli
