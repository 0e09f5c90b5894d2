// QuickBlox wire user <-> canonical user (the table in docs/dialects/quickblox.md), with
// QuickBlox's validation rules and messages. Pure: no I/O.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/user.h"
#include "dialects/quickblox/common.h"

namespace roster::dialects::quickblox {

inline constexpr const char* kDialect = "quickblox";
inline constexpr std::size_t kMaxPasswordBytes = 1024;
inline constexpr std::size_t kMaxFullName = 200;
inline constexpr std::size_t kMaxTags = 5;
inline constexpr std::uint64_t kMaxExternalUserId = 4294967295ULL;  // fits in 4 bytes

// Applies the members of a request's `user` object to `user`, adding every QuickBlox
// validation error to `errors` (the user is then partly changed: discard it). Present
// members replace, an empty string (or JSON null) clears; string values lose trailing
// whitespace. With `creating`, `login` or `email` is required; without a login the
// email is the canonical username and `login` reads as null.
void ApplyUser(const boost::json::object& in, bool creating, core::User& user, FieldErrors& errors);

// The `password` member (never trimmed): 8 to 1024 bytes; `required` on create.
std::optional<std::string> ReadPassword(const boost::json::object& in, bool required, FieldErrors& errors);

// The wire user: {"id", "full_name", "email", "login", ..., "user_tags"}, nulls for absent values.
boost::json::object ToWire(const core::User& user);

// Records the user's last request (QuickBlox last_request_at), in milliseconds.
void SetLastRequestAt(core::User& user, std::int64_t now_ms);

// The source of User::external_ids that holds the facebook_id.
inline constexpr const char* kFacebookSource = "facebook";
// The wire field a claim conflict (service/user_service.h claim kinds) is reported on:
// login (or email, for a user that has no login), email, external_user_id, facebook_id.
std::string WireField(std::string_view claim_kind, const core::User& user);

// Accessors for what only QuickBlox keeps (dialect_json["quickblox"]).
boost::json::object DialectData(const core::User& user);
// The tags of `user_tags` as stored; the display name QuickBlox calls full_name.
std::vector<std::string> Tags(const core::User& user);
std::string FullName(const core::User& user);
// True when the user has no QuickBlox login (created with an email only).
bool HasNoLogin(const core::User& user);

// "a, b,,c " -> {"a", "b", "c"} (trimmed, empty and repeated tags dropped).
std::vector<std::string> SplitTags(std::string_view text);

}  // namespace roster::dialects::quickblox
