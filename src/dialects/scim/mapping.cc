#include "dialects/scim/mapping.h"

namespace roster::dialects::scim {
namespace json = boost::json;

json::object UserResource(const core::User& user, const RenderContext& ctx) {
  json::object o = service::RenderUserResource(user, ctx);
  o["meta"] = Meta("User", user.created_at_ms, user.updated_at_ms, ctx.base + "/Users/" + user.id, user.version);
  return o;
}

Outcome<UserInput> ApplyUserResource(const json::object& body, core::User& user, const core::AttributeSchema* schema) {
  auto input = service::ApplyUserResource(body, user, schema);
  if (!input) return Fail(BadRequest("invalidValue", input.error().message));
  return *input;
}

}  // namespace roster::dialects::scim
