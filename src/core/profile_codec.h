// Serializes the sealed part of a user (username + profile) to canonical JSON and back.
// This text is what gets encrypted at rest; its field names follow SCIM where SCIM has
// a name. Decoding tolerates unknown fields so older binaries read newer rows.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/user.h"

namespace roster::core {

// Refuses (kInvalidArgument naming the field) a user whose attributes, dialect state or
// extras nest deeper than core::kMaxValueDepth (json_policy.h): such a value would be
// sealed but could not be read back. Every writer calls it before EncodeSealed.
Status CheckSealable(const User& user);
std::string EncodeSealed(const User& user);
// Fills user.username and user.profile.
Status DecodeSealed(std::string_view json, User& user);

}  // namespace roster::core
