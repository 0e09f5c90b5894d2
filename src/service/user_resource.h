// The SCIM 2.0 User resource (RFC 7643 core + enterprise extension + Roster's health and
// attributes extensions) <-> the canonical user (core/user.h): one mapping shared by the
// SCIM API (dialects/scim/mapping.h adds meta and its error shape) and `roster export` /
// `roster import` (cli/transfer.cc, which add Roster's own extension below). The
// canonical user is SCIM-shaped already: core attributes map one to one, the enterprise
// extension to Profile::enterprise, the health extension to the health fields, the
// attributes extension to the environment's declared attributes (by name), and what SCIM
// has and no other API does (ims, roles, entitlements, x509Certificates) to the user's
// "scim" dialect entry. The table is in docs/dialects/scim.md.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/schema.h"
#include "core/user.h"

namespace roster::service {

// Schema URNs (RFC 7643 §8.7 and Roster's own).
inline constexpr std::string_view kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr std::string_view kEnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
// The health fields of the canonical user (PHI among them): Roster's extension.
inline constexpr std::string_view kHealthSchema = "urn:roster:params:scim:schemas:extension:health:2.0:User";
// The environment's declared attributes (core/schema.h), by name: Roster's extension,
// its schema generated per environment.
inline constexpr std::string_view kAttributesSchema = "urn:roster:params:scim:schemas:extension:attributes:2.0:User";
// What only a bulk export carries (cli/transfer.cc): the password hash (on request), the
// archived flag, identifiers in other systems, other APIs' own fields and extras.
inline constexpr std::string_view kRosterSchema = "urn:roster:params:scim:schemas:extension:roster:2.0:User";

// A member by name, matched case-insensitively (RFC 7643 §2.1) when not exact.
const boost::json::value* ResourceMember(const boost::json::object& o, std::string_view name);

// A group the user belongs to, for the read-only `groups` attribute.
struct GroupRef {
  std::string id, display;
  bool direct = true;
};

struct RenderContext {
  std::string base;                               // ".../scim/v2"; empty: no "$ref"s
  const core::AttributeSchema* schema = nullptr;  // the environment's declared attributes
  std::vector<GroupRef> groups;
};

// The resource without `meta` (the SCIM API adds it), "schemas" first.
boost::json::object RenderUserResource(const core::User& user, const RenderContext& ctx);

// What a body asks beyond the user's attributes.
struct UserInput {
  std::optional<std::string> password;
};

// Sets `user` from a User resource, as a whole (POST, PUT, and PATCH's patched
// document): every attribute the resource can carry is set from the body, or cleared
// when absent; readOnly ones (id, meta, groups) are ignored; what SCIM cannot express
// (other APIs' own fields, archived, extras) is kept. kInvalidArgument whose field is
// the attribute and whose message reads "<attribute> <what is wrong>" for a wrongly
// typed value, a missing userName, or an unknown declared attribute in the attributes
// extension.
core::Result<UserInput> ApplyUserResource(const boost::json::object& body, core::User& user,
                                          const core::AttributeSchema* schema);

}  // namespace roster::service
