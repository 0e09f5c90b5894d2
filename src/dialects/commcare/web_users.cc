// Web users: the domain's API callers. Each is a record (kind commcare.web_user, unique
// claim on the email) naming its API key; the key is bound to the email as identifier.
// Created by `roster commcare web-user create`; listed at /a/{domain}/api/v0.5/web-user/.
#include <map>

#include "core/rules.h"
#include "dialects/commcare/common.h"
#include "dialects/commcare/web_user_spec.h"
#include "service/http_credentials.h"
#include "service/invitations.h"

namespace roster::dialects::commcare {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr int kScanPage = 500;

std::string Text(const service::Record& r, const char* key) {
  const auto* v = r.body.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::object WebUserWire(const service::Record& r, std::string_view domain, bool active) {
  const std::string email = Text(r, "email");
  std::string role = Text(r, "role");
  if (role.empty()) role = "Admin";  // web users made by `roster commcare web-user create`
  json::object permissions{{"doc_type", "Permissions"},   {"edit_apps", true},   {"edit_commcare_users", true},
                           {"edit_data", true},           {"edit_web_users", true}, {"view_report_list", json::array()},
                           {"view_reports", true}};
  json::object o;
  o["id"] = HexId(r.id);
  o["username"] = email;
  o["email"] = email;
  o["first_name"] = "";
  o["last_name"] = "";
  o["default_phone_number"] = nullptr;
  o["phone_numbers"] = json::array();
  o["role"] = role;
  o["is_admin"] = role == "Admin";
  o["permissions"] = std::move(permissions);
  o["is_active"] = active;
  const std::string primary = Text(r, "primary_location_id");
  o["primary_location_id"] = primary.empty() ? json::value(nullptr) : json::value(HexId(primary));
  o["assigned_location_ids"] = HexIdList(r.body.if_contains("assigned_location_ids"));
  o["profile"] = TextOrNull(r.body, "profile");
  const auto* data = r.body.if_contains("user_data");
  o["user_data"] = data && data->is_object() ? data->get_object() : json::object();
  o["tableau_role"] = TextOrNull(r.body, "tableau_role");
  const auto* groups = r.body.if_contains("tableau_groups");
  o["tableau_groups"] = groups && groups->is_array() ? groups->get_array() : json::array();
  o["eulas"] = "[]";
  o["resource_uri"] = DetailUri(domain, "web-user", r.id);
  return o;
}

// key id -> still valid, for the domain's keys.
core::Result<std::map<std::string, bool>> KeyStates(const Context& c, const Caller& caller) {
  auto keys = c.s.directory.ListApiKeys(caller.domain.name);
  if (!keys) return std::unexpected(keys.error());
  std::map<std::string, bool> out;
  for (const auto& k : *keys) out[k.id] = !k.revoked;
  return out;
}

bool Active(const std::map<std::string, bool>& states, const service::Record& r) {
  auto it = states.find(Text(r, "key_id"));
  return it != states.end() && it->second && WebUserEnabled(r);
}

using service::WebUserClaims;

// POST .../web-user/{id}/activate/ and deactivate/ (webuser.rst, "User Enable/Disable"):
// the web user's membership of this project space; 202 {}. Changing web users is
// credentials administration (credentials:admin); no web user deactivates itself.
http::Response SetActive(const Context& c, const Caller& caller, const http::PathParams& params, bool active) {
  if (auto st = core::Require(caller.principal, core::kCredentialsAdmin); !st) return Fail(st.error());
  const auto not_found = [] { return ErrorResponse(404, "No web user with this id in this project space."); };
  auto id = UuidFromHex(params.Get("id"));
  if (!id) return not_found();
  if (!active && *id == caller.web_user_id) return ErrorResponse(400, "A web user cannot deactivate itself.");
  auto updated = c.s.records.Update(
      caller.domain.id, kWebUserKind, *id,
      [&](service::Record& r) -> core::Status {
        r.body["is_active"] = active;
        return {};
      },
      WebUserClaims);
  if (!updated) return updated.error().code == ErrorCode::kNotFound ? not_found() : Fail(updated.error());
  return Json(202, json::object());
}

// PATCH .../web-user/v1/{id}/ (webuser.rst, "Web User Edit"): role, locations, profile,
// user_data (merged onto the stored one), tableau_role, tableau_groups; 202 with the web
// user. Checked as CommCare's WebUserResourceSpec (web_user_spec.h) before the one write.
http::Response Patch(const Context& c, const Caller& caller, const http::Request& req,
                     const http::PathParams& params) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  if (auto st = core::Require(caller.principal, core::kCredentialsAdmin); !st) return Fail(st.error());
  const auto not_found = [] { return ErrorResponse(404, "No web user with this id in this project space."); };
  auto id = UuidFromHex(params.Get("id"));
  if (!id) return not_found();
  auto body = ParseBody(req);
  if (!body) return Fail(body.error());
  auto checked = CheckWebUserSpec(c, caller, *body, false);
  if (!checked) return Fail(checked.error());
  if (checked->refusal) return *checked->refusal;
  const WebUserSpec& spec = *checked->spec;
  auto updated = c.s.records.Update(
      caller.domain.id, kWebUserKind, *id,
      [&](service::Record& r) -> core::Status {
        if (spec.role) r.body["role"] = *spec.role;
        if (spec.locations) {
          json::array ids;
          for (const auto& l : spec.locations->locations) ids.emplace_back(l);
          r.body["assigned_location_ids"] = std::move(ids);
          r.body["primary_location_id"] = spec.locations->primary;
        }
        if (spec.profile) r.body["profile"] = *spec.profile;
        if (spec.user_data) {
          json::object merged;
          if (const auto* old = r.body.if_contains("user_data"); old && old->is_object()) merged = old->get_object();
          for (const auto& [k, v] : *spec.user_data) merged[k] = v;
          r.body["user_data"] = std::move(merged);
        }
        if (spec.tableau_role) r.body["tableau_role"] = *spec.tableau_role;
        if (spec.tableau_groups) {
          json::array groups;
          for (const auto& g : *spec.tableau_groups) groups.emplace_back(g);
          r.body["tableau_groups"] = std::move(groups);
        }
        return {};
      },
      WebUserClaims);
  if (!updated) return updated.error().code == ErrorCode::kNotFound ? not_found() : Fail(updated.error());
  auto states = KeyStates(c, caller);
  if (!states) return Fail(states.error());
  return Json(202, WebUserWire(*updated, caller.domain.name, Active(*states, *updated)));
}

http::Response List(const Context& c, const Caller& caller, const http::Request& req) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  auto page = ReadPage(query);
  if (!page) return Fail(page.error());
  // CommCare's filter is `username` (documented) or `web_username` (v0.1 code).
  std::optional<std::string> username = QueryValue(query, "username");
  if (!username) username = QueryValue(query, "web_username");
  if (username) *username = core::NormalizeEmail(*username);
  auto states = KeyStates(c, caller);
  if (!states) return Fail(states.error());
  json::array objects;
  std::int64_t total = 0;
  std::int64_t after = 0;
  for (;;) {
    auto records = c.s.records.List(caller.domain.id, kWebUserKind, after, kScanPage);
    if (!records) return Fail(records.error());
    for (const auto& r : *records) {
      if (username && Text(r, "email") != *username) continue;
      if (page->Contains(total)) objects.push_back(WebUserWire(r, caller.domain.name, Active(*states, r)));
      ++total;
    }
    if (static_cast<int>(records->size()) < kScanPage) break;
    after = records->back().number;
  }
  json::object out;
  out["meta"] = PageMeta(*page, total, RequestListUri(req), query);
  out["objects"] = std::move(objects);
  return Json(200, out);
}

http::Response Get(const Context& c, const Caller& caller, const http::Request& req, const http::PathParams& params) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  const auto not_found = [] { return ErrorResponse(404, "No web user with this id in this project space."); };
  auto id = UuidFromHex(params.Get("id"));
  if (!id) return not_found();
  auto record = c.s.records.Get(caller.domain.id, kWebUserKind, *id);
  if (!record) return record.error().code == ErrorCode::kNotFound ? not_found() : Fail(record.error());
  auto states = KeyStates(c, caller);
  if (!states) return Fail(states.error());
  return Json(200, WebUserWire(*record, caller.domain.name, Active(*states, *record)));
}

}  // namespace

void MountWebUsers(http::Router& router, const Context& c) {
  AddRoutes(router, "GET", "web-user", "", http::Exec::kWorker,
             Authorized(c, Shape::kError, [c](const Caller& caller, const http::Request& req, const http::PathParams&) {
               return List(c, caller, req);
             }));
  AddRoutes(router, "GET", "web-user", "/{id}", http::Exec::kInline,
             Authorized(c, Shape::kError,
                        [c](const Caller& caller, const http::Request& req, const http::PathParams& params) {
                          return Get(c, caller, req, params);
                        }));
  AddRoutes(router, "PATCH", "web-user", "/{id}", http::Exec::kWorker,
            Authorized(c, Shape::kError,
                       [c](const Caller& caller, const http::Request& req, const http::PathParams& params) {
                         return Patch(c, caller, req, params);
                       }));
  for (const bool active : {true, false}) {
    AddRoutes(router, "POST", "web-user", active ? "/{id}/activate" : "/{id}/deactivate", http::Exec::kWorker,
              Authorized(c, Shape::kError,
                         [c, active](const Caller& caller, const http::Request&, const http::PathParams& params) {
                           return SetActive(c, caller, params, active);
                         }));
  }
}

core::Result<json::object> CreateWebUser(Services s, const std::string& domain, const std::string& email,
                                         std::optional<core::Scopes> scopes, const std::optional<std::string>& password) {
  if (!core::IsValidEmail(core::NormalizeEmail(email)))
    return core::InvalidArgument("email", "email must be a valid email address");
  auto env = s.directory.EnsureEnvironment(domain);  // the domain's environment, created on first use
  if (!env) return std::unexpected(env.error());
  // The same service call as the invitation page's sign-up (service/web_users.h).
  auto made = service::CreateWebUser(s, *env, email, scopes, password);
  if (!made) return std::unexpected(made.error());
  json::array names;
  for (const auto& n : core::ScopeNames(made->key.info.scopes)) names.emplace_back(n);
  json::object out{{"username", made->record.body.at("email")}, {"apiKey", made->key.secret},
                   {"scopes", std::move(names)}};
  if (password) out["passwordSet"] = true;
  if (made->accepted_invitation) out["acceptedInvitation"] = made->accepted_invitation->id;
  return out;
}

namespace {

// The web user `email` of `domain`, for the key commands. kNotFound for either.
core::Result<service::Record> NamedWebUser(const Services& s, const std::string& domain, const std::string& email) {
  auto env = s.directory.FindEnvironment(domain);
  if (!env) {
    if (env.error().code == ErrorCode::kNotFound) return core::NotFound("no domain named '" + domain + "'");
    return std::unexpected(env.error());
  }
  const std::string normalized = core::NormalizeEmail(email);
  auto found = s.records.Find(env->id, kWebUserEmailClaim, normalized);
  if (!found) return std::unexpected(found.error());
  for (auto& r : *found)
    if (r.kind == kWebUserKind) return std::move(r);
  return core::NotFound("no web user '" + normalized + "' in domain " + domain);
}

// Points the web user's record at `new_key_id` ("" for none) in one write, and returns
// the key id it held. Authorize accepts only the key the record names, so the old key is
// refused by every process from this commit on, whatever key lookups a server caches.
core::Result<std::string> ReplaceKey(const Services& s, const service::Record& web_user,
                                     const std::string& new_key_id) {
  std::string old_key;
  auto updated = s.records.Update(
      web_user.environment_id, kWebUserKind, web_user.id,
      [&](service::Record& r) -> core::Status {
        old_key = Text(r, "key_id");
        r.body["key_id"] = new_key_id;
        // The last key it had, whose scopes a later rotate-key gives the new key.
        if (!old_key.empty()) r.body["previous_key_id"] = old_key;
        return {};
      },
      WebUserClaims);
  if (!updated) return std::unexpected(updated.error());
  return old_key;
}

// Revokes the key too (for `roster key list` and every other API); one already revoked
// or gone is fine.
core::Status RevokeKey(const Services& s, const std::string& key_id) {
  if (key_id.empty()) return {};
  auto revoked = s.directory.RevokeApiKey(key_id);
  if (!revoked && revoked.error().code != ErrorCode::kNotFound &&
      revoked.error().code != ErrorCode::kFailedPrecondition)
    return revoked;
  return {};
}

}  // namespace

core::Result<json::object> SetWebUserPassword(Services s, const std::string& domain, const std::string& email,
                                              const std::string& password) {
  auto web_user = NamedWebUser(s, domain, email);
  if (!web_user) return std::unexpected(web_user.error());
  const std::string username = Text(*web_user, "email");
  // What Basic and Digest check (argon2id, and the HA1s for the realm), sealed with the
  // record; hashed once, before the write.
  auto secrets = service::HttpCredentials(s, kDigestRealm).PasswordSecrets(username, password);
  if (!secrets) return std::unexpected(secrets.error());
  auto updated = s.records.Update(
      web_user->environment_id, kWebUserKind, web_user->id,
      [&](service::Record& r) -> core::Status {
        for (const auto& [k, v] : *secrets) r.body[k] = v;
        return {};
      },
      WebUserClaims);
  if (!updated) return std::unexpected(updated.error());
  return json::object{{"username", username}, {"passwordSet", true}};
}

core::Result<json::object> RevokeWebUserKey(Services s, const std::string& domain, const std::string& email) {
  auto web_user = NamedWebUser(s, domain, email);
  if (!web_user) return std::unexpected(web_user.error());
  if (Text(*web_user, "key_id").empty())
    return core::Fail(ErrorCode::kFailedPrecondition,
                      "web user '" + Text(*web_user, "email") + "' has no API key; rotate-key issues one");
  auto old_key = ReplaceKey(s, *web_user, "");
  if (!old_key) return std::unexpected(old_key.error());
  if (auto st = RevokeKey(s, *old_key); !st) return std::unexpected(st.error());
  return json::object{{"username", Text(*web_user, "email")}, {"revokedKeyId", *old_key}};
}

core::Result<json::object> RotateWebUserKey(Services s, const std::string& domain, const std::string& email) {
  auto web_user = NamedWebUser(s, domain, email);
  if (!web_user) return std::unexpected(web_user.error());
  const std::string username = Text(*web_user, "email");
  // The same kind of key as CreateWebUser's, with the scopes of the key it replaces (or
  // of the last one it had, if that was revoked): a rotation changes no permission.
  service::KeyGrant grant;
  grant.apis = core::kCommCareApi;
  grant.kind = core::CredentialKind::kWebUserKey;
  std::string last_key = Text(*web_user, "key_id");
  if (last_key.empty()) last_key = Text(*web_user, "previous_key_id");
  auto keys = s.directory.ListApiKeys(domain);
  if (!keys) return std::unexpected(keys.error());
  for (const auto& k : *keys)
    if (!last_key.empty() && k.id == last_key) grant.scopes = k.scopes;
  auto key = s.directory.CreateApiKey(domain, service::KeyRole::kApp, username, grant);
  if (!key) return std::unexpected(key.error());
  auto old_key = ReplaceKey(s, *web_user, key->info.id);
  if (!old_key) {
    (void)s.directory.RevokeApiKey(key->info.id);  // no usable key without its web user
    return std::unexpected(old_key.error());
  }
  if (auto st = RevokeKey(s, *old_key); !st) return std::unexpected(st.error());
  json::array scopes;
  for (const auto& n : core::ScopeNames(key->info.scopes)) scopes.emplace_back(n);
  json::object out{{"username", username}, {"apiKey", key->secret}, {"scopes", std::move(scopes)}};
  if (!old_key->empty()) out["revokedKeyId"] = *old_key;
  return out;
}

}  // namespace roster::dialects::commcare
