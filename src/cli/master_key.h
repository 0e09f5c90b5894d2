// The master key's files, and `roster master-key rotate` (docs/security.md, "Master-key
// rotation"). DATA/master.key holds the key in use; during a rotation DATA/master.key.next
// holds the new one, written and synced before the store switches to it and renamed over
// master.key once the switch has committed. The store's keyring names the key it is
// wrapped under (a fingerprint), so whichever moment a rotation was killed at, the start
// finds the key that opens the store among the two files. DATA/master.key.lock serialises
// rotations and that check.
#pragma once

#include <functional>
#include <string>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "service/audit.h"
#include "store/store.h"

namespace roster::cli {

// Opens the store's keyring (service::OpenKeyring) with `master` (from ROSTER_MASTER_KEY
// when `from_environment`, else DATA/master.key, re-read here under the lock) or
// DATA/master.key.next. Finishes a rotation killed after its commit (renames
// master.key.next over master.key) and removes the key of one killed before (never
// committed). Returns the key that opens the store. Throws std::runtime_error when
// neither key does.
crypto::SecretKey OpenMasterKey(const std::string& data_dir, bool from_environment, const crypto::SecretKey& master,
                   store::DirectoryStore& store, crypto::Keyring& keyring, const core::Clock& clock);

// For DirectoryService::SetMasterKeyReloader: when the store's keyring names another
// master key than `keyring` holds, finds it in DATA/master.key or DATA/master.key.next
// and switches to it (at most one look a second).
std::function<bool()> MasterKeyReloader(const std::string& data_dir, store::DirectoryStore& store,
                                        crypto::Keyring& keyring);

// `roster master-key rotate`. `step_delay_ms` sleeps between the steps (tests kill the
// command there). Throws std::runtime_error.
int RotateMasterKey(const std::string& data_dir, bool from_environment, store::Store& store, crypto::Keyring& keyring,
                    service::AuditLog& audit, const core::Clock& clock, int step_delay_ms, bool as_json);

}  // namespace roster::cli
