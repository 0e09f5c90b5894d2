#include "service/master_key.h"

namespace roster::service {

core::Result<std::size_t> OpenKeyring(store::DirectoryStore& store, crypto::Keyring& keyring,
                                      const std::vector<crypto::SecretKey>& candidates, const core::Clock& clock) {
  if (candidates.empty()) return core::Internal("no master key");
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto row = store.GetKeyring();
    if (row) {
      for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (!crypto::SecretsEqual(crypto::Keyring::Fingerprint(candidates[i]), row->fingerprint)) continue;
        keyring.SwitchMaster(candidates[i]);
        if (auto st = keyring.AdoptRoots(row->wrapped_roots); !st) return std::unexpected(st.error());
        return i;
      }
      return core::Fail(core::ErrorCode::kPermissionDenied,
                        "the master key does not open this store (it was rotated: use the newer key)");
    }
    if (row.error().code != core::ErrorCode::kNotFound) return std::unexpected(row.error());
    // No keyring yet: the roots are derived from the key the store was made with. Make
    // sure that is candidates[0] before writing them down for ever.
    keyring.SwitchMaster(candidates[0]);
    auto environments = store.ListEnvironments();
    if (!environments) return std::unexpected(environments.error());
    for (const auto& env : *environments) {
      if (!keyring.Unwrap(env.id, env.wrapped_key))
        return core::Fail(core::ErrorCode::kPermissionDenied, "the master key does not open this store");
    }
    auto created = store.CreateKeyring({crypto::Keyring::Fingerprint(candidates[0]), keyring.WrapRoots(),
                                        clock.NowMillis()});
    if (created) return 0;
    if (created.error().code != core::ErrorCode::kAlreadyExists) return std::unexpected(created.error());
    // Another process created it meanwhile: read it.
  }
  return core::Internal("cannot open the store's keyring");
}

core::Result<std::size_t> RewrapUnderMasterKey(
    store::Store& store, const crypto::Keyring& keyring, const crypto::SecretKey& next, const core::Clock& clock,
    const std::function<store::AuditRow(const std::string& environment_id)>& audit) {
  const crypto::Keyring to(next, keyring);
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto row = store.GetKeyring();
    if (!row) return std::unexpected(row.error());
    if (!crypto::SecretsEqual(row->fingerprint, keyring.Fingerprint()))
      return core::Fail(core::ErrorCode::kFailedPrecondition, "the store is not wrapped under this master key");
    auto environments = store.ListEnvironments();
    if (!environments) return std::unexpected(environments.error());
    std::vector<store::EnvironmentKeysChange> changes;
    std::vector<store::AuditRow> records;
    for (const auto& env : *environments) {
      if (audit) records.push_back(audit(env.id));
      auto rewrapped = keyring.Rewrap(env.id, env.wrapped_key, to);
      if (!rewrapped) return std::unexpected(rewrapped.error());
      changes.push_back({env.id, env.wrapped_key, *rewrapped});
    }
    auto st = store.RotateKeyring(row->fingerprint, {to.Fingerprint(), to.WrapRoots(), clock.NowMillis()}, changes,
                                 records);
    if (st) return changes.size();
    if (st.error().code != core::ErrorCode::kAborted) return std::unexpected(st.error());
  }
  return core::Fail(core::ErrorCode::kAborted, "the environments' keys keep changing; run the rotation again");
}

}  // namespace roster::service
