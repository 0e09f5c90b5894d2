#include "cli/master_key.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "service/master_key.h"

namespace roster::cli {
namespace {

namespace fs = std::filesystem;

std::string KeyPath(const std::string& data_dir) { return (fs::path(data_dir) / "master.key").string(); }
std::string NextPath(const std::string& data_dir) { return (fs::path(data_dir) / "master.key.next").string(); }

// An exclusive flock on DATA/master.key.lock for its lifetime (released by the kernel if
// the process dies).
class KeyLock {
 public:
  KeyLock(const std::string& data_dir, bool wait) {
    const std::string path = (fs::path(data_dir) / "master.key.lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd_, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
      if (!wait) throw std::runtime_error("another master-key rotation is running on " + data_dir);
      throw std::runtime_error("cannot lock " + path + ": " + std::strerror(errno));
    }
  }
  ~KeyLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  KeyLock(const KeyLock&) = delete;
  KeyLock& operator=(const KeyLock&) = delete;

 private:
  int fd_ = -1;
};

std::optional<crypto::SecretKey> ReadKeyFile(const std::string& path) {
  if (!fs::exists(path)) return std::nullopt;
  try {
    return crypto::LoadOrCreateKeyFile(path, false);
  } catch (const std::exception&) {
    return std::nullopt;  // half-written by a rotation killed while writing it: never committed
  }
}

}  // namespace

crypto::SecretKey OpenMasterKey(const std::string& data_dir, bool from_environment, const crypto::SecretKey& master,
                                store::DirectoryStore& store, crypto::Keyring& keyring, const core::Clock& clock) {
  if (from_environment) {
    auto opened = service::OpenKeyring(store, keyring, {master}, clock);
    if (!opened) throw std::runtime_error("ROSTER_MASTER_KEY: " + opened.error().message);
    return master;
  }
  const KeyLock lock(data_dir, true);
  // Under the lock no rotation is half-way: re-read both files.
  std::vector<crypto::SecretKey> candidates{ReadKeyFile(KeyPath(data_dir)).value_or(master)};
  const auto next = ReadKeyFile(NextPath(data_dir));
  if (next) candidates.push_back(*next);
  auto opened = service::OpenKeyring(store, keyring, candidates, clock);
  if (!opened) throw std::runtime_error(KeyPath(data_dir) + ": " + opened.error().message);
  if (*opened == 1) {
    crypto::ReplaceKeyFile(NextPath(data_dir), KeyPath(data_dir));  // killed after the commit
  } else if (fs::exists(NextPath(data_dir))) {
    fs::remove(NextPath(data_dir));  // killed before it: that key wraps nothing
  }
  return candidates[*opened];
}

std::function<bool()> MasterKeyReloader(const std::string& data_dir, store::DirectoryStore& store,
                                        crypto::Keyring& keyring) {
  struct State {
    std::mutex mu;
    std::chrono::steady_clock::time_point last{};
  };
  auto state = std::make_shared<State>();
  return [data_dir, &store, &keyring, state]() -> bool {
    std::lock_guard lock(state->mu);
    const auto now = std::chrono::steady_clock::now();
    if (state->last != std::chrono::steady_clock::time_point{} && now - state->last < std::chrono::seconds(1))
      return false;
    state->last = now;
    auto row = store.GetKeyring();
    if (!row || crypto::SecretsEqual(row->fingerprint, keyring.Fingerprint())) return false;
    // master.key first: a rotation renames master.key.next over it, so look there again last.
    for (const auto& path : {KeyPath(data_dir), NextPath(data_dir), KeyPath(data_dir)}) {
      auto key = ReadKeyFile(path);
      if (key && crypto::SecretsEqual(crypto::Keyring::Fingerprint(*key), row->fingerprint)) {
        keyring.SwitchMaster(*key);
        return true;
      }
    }
    return false;
  };
}

int RotateMasterKey(const std::string& data_dir, bool from_environment, store::Store& store, crypto::Keyring& keyring,
                    service::AuditLog& audit, const core::Clock& clock, int step_delay_ms, bool as_json) {
  if (from_environment)
    throw std::runtime_error(
        "master-key rotate writes the new key to DATA/master.key: unset ROSTER_MASTER_KEY and put the key in that "
        "file first");
  const KeyLock lock(data_dir, false);
  const auto pause = [&] {
    if (step_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step_delay_ms));
  };
  // OpenMasterKey left master.key holding the store's key and no master.key.next; check
  // again under the lock (another rotation may have finished since).
  auto row = store.GetKeyring();
  if (!row) throw std::runtime_error(row.error().message);
  const auto current = ReadKeyFile(KeyPath(data_dir));
  if (!current || !crypto::SecretsEqual(crypto::Keyring::Fingerprint(*current), row->fingerprint) ||
      !crypto::SecretsEqual(keyring.Fingerprint(), row->fingerprint))
    throw std::runtime_error("the master key changed meanwhile; run the rotation again");
  if (fs::exists(NextPath(data_dir))) fs::remove(NextPath(data_dir));
  const std::string old_fingerprint = crypto::ToHex(row->fingerprint).substr(0, 16);

  // 1. The new key, durable before anything is wrapped under it.
  const crypto::SecretKey next = crypto::SecretKey::Random();
  crypto::WriteKeyFile(NextPath(data_dir), next);
  std::cerr << "master-key rotate: new key written to " << NextPath(data_dir) << std::endl;
  pause();
  // 2. Every data key and the roots re-wrapped, in one transaction, with its audit records.
  auto rewrapped = service::RewrapUnderMasterKey(store, keyring, next, clock, [&](const std::string& env) {
    return audit.CommandRow(env, "master-key rotate", "master-key.rotate", "", nullptr, service::kAuditCredentials);
  });
  if (!rewrapped) {
    fs::remove(NextPath(data_dir));
    throw std::runtime_error("master-key rotation failed, nothing changed: " + rewrapped.error().message);
  }
  std::cerr << "master-key rotate: " << *rewrapped << " environment(s) re-wrapped (committed)" << std::endl;
  pause();
  // 3. The switch: the new key replaces the old one's file.
  crypto::ReplaceKeyFile(NextPath(data_dir), KeyPath(data_dir));
  keyring.SwitchMaster(next);
  const std::string new_fingerprint = crypto::ToHex(keyring.Fingerprint()).substr(0, 16);
  if (as_json) {
    std::cout << boost::json::serialize(boost::json::object{{"rotated", true},
                                                            {"environments", *rewrapped},
                                                            {"oldFingerprint", old_fingerprint},
                                                            {"fingerprint", new_fingerprint}})
              << std::endl;
  } else {
    std::cout << "master key rotated: " << *rewrapped << " environment(s) re-wrapped; fingerprint "
              << old_fingerprint << " -> " << new_fingerprint << "; " << KeyPath(data_dir)
              << " holds the new key (copy it to every server's data directory and to your backups)" << std::endl;
  }
  return 0;
}

}  // namespace roster::cli
