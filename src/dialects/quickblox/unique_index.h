// Uniqueness of external_user_id, facebook_id and email among an environment's users.
//
// The canonical store keeps only the username unique, so each user that holds one of
// these values has one record (kind "quickblox.user") with a unique claim per value
// and one on its user id. A create reserves the values first (an entry without a user),
// creates the user, then binds the entry; an update moves the entry before the user.
// The entry is a cache of the user's values that heals itself: when a claim is found
// held by an entry whose user is gone, whose values differ from the user's (changed by
// another dialect, or a write that failed half-way) or which stayed unbound for two
// minutes (a crash between the writes), the entry is corrected before it is reported
// as taken. Email uniqueness also checks the canonical email index, so users made by
// other dialects count. See docs/dialects/quickblox.md ("Uniqueness").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dialects/quickblox/common.h"
#include "dialects/quickblox/mapping.h"

namespace roster::dialects::quickblox {

inline constexpr const char* kUserIndexKind = "quickblox.user";

class UniqueIndex {
 public:
  UniqueIndex(const Services& s, std::string environment_id) : s_(s), environment_id_(std::move(environment_id)) {}

  // The wire fields whose value in `values` another user than `self` holds.
  core::Result<std::vector<std::string>> Taken(const UniqueValues& values, const std::string& self);
  // Before a create: an entry holding `values` (nullopt when there is nothing to hold).
  // kAlreadyExists naming the wire field if one was taken meanwhile.
  core::Result<std::optional<std::string>> Reserve(const UniqueValues& values);
  // After the create: the entry belongs to `user_id`.
  core::Status Bind(const std::string& entry_id, const std::string& user_id);
  // A create that failed gives its reservation back (best effort).
  void Release(const std::string& entry_id);
  // Sets an existing user's values, creating or removing its entry. kAlreadyExists.
  core::Status Set(const std::string& user_id, const UniqueValues& values);
  // After a delete (best effort).
  void Forget(const std::string& user_id);
  // The user holding `field` = `value` now. kNotFound.
  core::Result<core::User> Lookup(std::string_view field, const std::string& value);

 private:
  // Corrects the entry if stale; says whether it still holds `field` = `value`.
  core::Result<bool> StillHolds(const service::Record& entry, std::string_view field, const std::string& value);
  core::Result<std::optional<service::Record>> EntryOf(const std::string& user_id);

  const Services& s_;
  std::string environment_id_;
};

}  // namespace roster::dialects::quickblox
