// Web users: the domain's API callers. Each is a record (kind commcare.web_user, unique
// claim on the email) naming its API key; the key is bound to the email as identifier.
// Created by `roster commcare web-user create`; listed at /a/{domain}/api/v0.5/web-user/.
#include <map>

#include "core/rules.h"
#include "dialects/commcare/common.h"

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
  o["role"] = "Admin";
  o["is_admin"] = true;
  o["permissions"] = std::move(permissions);
  o["is_active"] = active;
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
  return it != states.end() && it->second;
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
  out["meta"] = PageMeta(*page, total, ListUri(caller.domain.name, "web-user"), query);
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
  router.Add("GET", "/a/{domain}/api/v0.5/web-user", http::Exec::kWorker,
             Authorized(c, Shape::kError, [c](const Caller& caller, const http::Request& req, const http::PathParams&) {
               return List(c, caller, req);
             }));
  router.Add("GET", "/a/{domain}/api/v0.5/web-user/{id}", http::Exec::kInline,
             Authorized(c, Shape::kError,
                        [c](const Caller& caller, const http::Request& req, const http::PathParams& params) {
                          return Get(c, caller, req, params);
                        }));
}

core::Result<json::object> CreateWebUser(Services s, const std::string& domain, const std::string& email,
                                         std::optional<core::Scopes> scopes) {
  const std::string normalized = core::NormalizeEmail(email);
  if (!core::IsValidEmail(normalized))
    return core::InvalidArgument("email", "email must be a valid email address");
  auto env = s.directory.EnsureEnvironment(domain);  // the domain's environment, created on first use
  if (!env) return std::unexpected(env.error());
  // The record's unique claim below decides; this look-up only spares minting (and
  // revoking) a key for an email that is plainly taken.
  auto existing = s.records.Find(env->id, kWebUserEmailClaim, normalized);
  if (!existing) return std::unexpected(existing.error());
  if (!existing->empty())
    return core::AlreadyExists("email", "a web user with this email already exists in domain " + domain);
  // The key is an app key (not admin) for CommCare only, with a web user's scopes
  // (core::DefaultScopes) unless others are named; the dialect accepts it only together
  // with this web user's record.
  service::KeyGrant grant;
  grant.apis = core::kCommCareApi;
  grant.kind = core::CredentialKind::kWebUserKey;
  grant.scopes = scopes;
  auto key = s.directory.CreateApiKey(env->name, service::KeyRole::kApp, normalized, grant);
  if (!key) return std::unexpected(key.error());
  service::NewRecordRequest r;
  r.environment_id = env->id;
  r.kind = kWebUserKind;
  r.body = json::object{{"email", normalized}, {"key_id", key->info.id}};
  r.claims = {{kWebUserEmailClaim, normalized, true}};
  auto created = s.records.Create(r);
  if (!created) {
    (void)s.directory.RevokeApiKey(key->info.id);  // no usable key without its web user
    if (created.error().code == ErrorCode::kAlreadyExists)
      return core::AlreadyExists("email", "a web user with this email already exists in domain " + domain);
    return std::unexpected(created.error());
  }
  json::array names;
  for (const auto& n : core::ScopeNames(key->info.scopes)) names.emplace_back(n);
  return json::object{{"username", normalized}, {"apiKey", key->secret}, {"scopes", std::move(names)}};
}

}  // namespace roster::dialects::commcare
