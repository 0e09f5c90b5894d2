// The SCIM User resource <-> the canonical user: service/user_resource.h holds the
// mapping (`roster export`/`import` share it); this adds what only the API has, the
// resource's `meta`, and SCIM's error shape. The table is in docs/dialects/scim.md.
#pragma once

#include <boost/json.hpp>

#include "core/schema.h"
#include "core/user.h"
#include "dialects/scim/common.h"
#include "service/user_resource.h"

namespace roster::dialects::scim {

using service::GroupRef;
using service::RenderContext;
using service::UserInput;

// The resource with its meta (location under ctx.base).
boost::json::object UserResource(const core::User& user, const RenderContext& ctx);

// service::ApplyUserResource; its refusal as 400 invalidValue.
Outcome<UserInput> ApplyUserResource(const boost::json::object& body, core::User& user,
                                     const core::AttributeSchema* schema);

}  // namespace roster::dialects::scim
