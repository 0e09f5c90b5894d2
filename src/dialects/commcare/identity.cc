// The routes outside a project space: identity (who the key is) and user_domains (the
// project spaces its user belongs to), at /api/v0.5/... and /api/.../v1/ as CommCare
// mounts them (corehq/apps/api/urls.py: root-mounted, LoginAuthentication).
#include "dialects/commcare/common.h"

namespace roster::dialects::commcare {
namespace json = boost::json;
using core::ErrorCode;

namespace {

// user_domains' 401: plain text, as CommCare's UserDomainsResource.dispatch_list words it.
http::Response UserDomainsUnauthorized() {
  http::Response r;
  r.status = 401;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "Username or API Key is incorrect, expired or deactivated";
  return r;
}

http::Response Identity(const Context& c, const http::Request& req) {
  auto holder = AuthorizeKey(c, req);
  if (!holder) return holder.error().code == ErrorCode::kUnauthenticated ? ErrorResponse(401, holder.error().message)
                                                                       : Fail(holder.error());
  json::object o;
  if (holder->worker) {
    // A mobile worker: CommCare's IdentityResource renders any signed-in couch user.
    const core::User& u = holder->worker->user;
    const core::Contact* email = u.profile.PrimaryEmail();
    o["id"] = HexId(u.id);
    o["username"] = u.username;
    o["first_name"] = u.profile.name.given_name;
    o["last_name"] = u.profile.name.family_name;
    o["email"] = email ? email->value : "";
    return Json(200, o);
  }
  o["id"] = HexId(holder->web_user.id);
  o["username"] = holder->email;
  o["first_name"] = "";
  o["last_name"] = "";
  o["email"] = holder->email;
  return Json(200, o);
}

http::Response UserDomains(const Context& c, const http::Request& req) {
  auto holder = AuthorizeKey(c, req);
  if (!holder) return holder.error().code == ErrorCode::kUnauthenticated ? UserDomainsUnauthorized()
                                                                       : Fail(holder.error());
  if (holder->worker) {
    // A mobile worker belongs to its own domain only.
    const std::string& name = holder->worker->domain.name;
    json::object out;
    out["meta"] = json::object{{"total_count", 1}};
    out["objects"] = json::array{json::object{{"domain_name", name}, {"project_name", name}}};
    return Json(200, out);
  }
  auto envs = c.s.directory.ListEnvironments();
  if (!envs) return Fail(envs.error());
  json::array objects;
  for (const auto& env : *envs) {
    bool member = env.id == holder->key.environment_id;
    if (!member) {
      auto m = IsMember(c, env, holder->email);
      if (!m) return Fail(m.error());
      member = *m;
    }
    if (member) objects.push_back(json::object{{"domain_name", env.name}, {"project_name", env.name}});
  }
  // CommCare's DoesNothingPaginator: every domain, meta holds only total_count.
  json::object out;
  out["meta"] = json::object{{"total_count", objects.size()}};
  out["objects"] = std::move(objects);
  return Json(200, out);
}

}  // namespace

void MountIdentity(http::Router& router, const Context& c) {
  for (const char* path : {"/api/v0.5/identity", "/api/identity/v1"})
    router.Add("GET", path, http::Exec::kInline,
               Negotiated([c](const http::Request& req, const http::PathParams&) { return Identity(c, req); }));
  for (const char* path : {"/api/v0.5/user_domains", "/api/user_domains/v1"})
    router.Add("GET", path, http::Exec::kWorker,
               Negotiated([c](const http::Request& req, const http::PathParams&) { return UserDomains(c, req); }));
}

}  // namespace roster::dialects::commcare
