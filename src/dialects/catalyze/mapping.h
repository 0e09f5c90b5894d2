// Catalyze BaaS v2 wire JSON <-> canonical user. Pure functions, no I/O.
// The mapping table lives in docs/dialects/catalyze.md; keep them in step.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>

#include "core/error.h"
#include "core/user.h"

namespace roster::dialects::catalyze {

// Applies the Catalyze fields present in `body` to `user`: a present field replaces the
// stored one, `null` clears it, nested objects (email, name, phoneNumber) merge key by
// key, arrays are replaced whole, unknown fields and server-owned fields (usersId, age,
// createdAt, ...) are ignored. Serves create (applied to an empty user) and PUT's
// "update or add to". Returns kInvalidArgument naming the field on the first bad value.
// `password` is not applied here (see ReadPassword).
core::Status ApplyFields(const boost::json::object& body, core::User& user, std::int64_t now_ms);

// Checks the fields Catalyze requires of a complete user (username, email.primary).
core::Status CheckRequired(const core::User& user);

// The password member, if present: kInvalidArgument unless a string.
core::Result<std::optional<std::string>> ReadPassword(const boost::json::object& body);

// The user as Catalyze returns it (username included, as the seed's create response
// shows and the SDKs read it back); never the password; `age` derived from dob.
boost::json::object ToWire(const core::User& user, std::int64_t now_ms);

}  // namespace roster::dialects::catalyze
