// Serializes the sealed part of a user (username + profile) to canonical JSON and back.
// This text is what gets encrypted at rest; its field names follow SCIM where SCIM has
// a name. Decoding tolerates unknown fields so older binaries read newer rows.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/user.h"

namespace roster::core {

std::string EncodeSealed(const User& user);
// Fills user.username and user.profile.
Status DecodeSealed(std::string_view json, User& user);

}  // namespace roster::core
