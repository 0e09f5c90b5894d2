// Master-key rotation, the store's half: which master key a store is wrapped under (a
// fingerprint in the store's keyring row), the roots kept wrapped beside it, and the one
// transaction that re-wraps everything under a new key. The key files' half (which file
// holds which key, and when the new one replaces the old) is cli/master_key.h.
// docs/security.md, "Master-key rotation".
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "store/store.h"

namespace roster::service {

// Switches `keyring` to the first of `candidates` whose fingerprint the store's keyring
// holds, and adopts the store's roots; returns that candidate's index. A store without a
// keyring (made before master-key rotation, or new) gets one: the roots `keyring` holds,
// wrapped under candidates[0], once candidates[0] is shown to open the store's data keys.
// kPermissionDenied if no candidate is the store's master key.
core::Result<std::size_t> OpenKeyring(store::DirectoryStore& store, crypto::Keyring& keyring,
                                      const std::vector<crypto::SecretKey>& candidates, const core::Clock& clock);

// Re-wraps every environment's data keys and the roots under `next`, in one store
// transaction (retried while another process changes an environment's keys meanwhile).
// `keyring` must hold the store's master key: kFailedPrecondition otherwise. Returns the
// number of environments re-wrapped. `audit` makes each environment's record of it,
// appended in the same transaction.
core::Result<std::size_t> RewrapUnderMasterKey(
    store::Store& store, const crypto::Keyring& keyring, const crypto::SecretKey& next, const core::Clock& clock,
    const std::function<store::AuditRow(const std::string& environment_id)>& audit);

}  // namespace roster::service
