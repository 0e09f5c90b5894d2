// The SCIM User resource <-> the canonical user (core/user.h). The canonical user is
// SCIM-shaped already: core attributes map one to one, the enterprise extension to
// Profile::enterprise, Roster's health extension to the health fields, the attributes
// extension to the environment's declared attributes (by name), and what SCIM has and no
// other API does (ims, roles, entitlements, x509Certificates) to the user's "scim"
// dialect entry. The table is in docs/dialects/scim.md.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/schema.h"
#include "core/user.h"
#include "dialects/scim/common.h"

namespace roster::dialects::scim {

// A group the user belongs to, for the read-only `groups` attribute.
struct GroupRef {
  std::string id, display;
  bool direct = true;
};

struct RenderContext {
  std::string base;                               // ".../scim/v2"
  const core::AttributeSchema* schema = nullptr;  // the environment's declared attributes
  std::vector<GroupRef> groups;
};

boost::json::object UserResource(const core::User& user, const RenderContext& ctx);

// What a body asks beyond the user's attributes.
struct UserInput {
  std::optional<std::string> password;
};

// Sets `user` from a User resource, as a whole (POST, PUT, and PATCH's patched
// document): every attribute the resource can carry is set from the body, or cleared
// when absent; readOnly ones (id, meta, groups) are ignored; what SCIM cannot express
// (other APIs' own fields, archived, extras) is kept. 400 invalidValue naming the
// attribute for a wrongly typed value, a missing userName, or an unknown declared
// attribute in the attributes extension.
Outcome<UserInput> ApplyUserResource(const boost::json::object& body, core::User& user,
                                     const core::AttributeSchema* schema);

}  // namespace roster::dialects::scim
