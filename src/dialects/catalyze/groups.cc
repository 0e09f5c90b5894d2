// Catalyze groups and supervisors. Groups are the shared groups of service/groups.h
// (CommCare sees the same ones); supervisors are members of one role record per
// environment.
#include "core/rules.h"
#include "dialects/catalyze/common.h"
#include "http/etag.h"
#include "service/groups.h"

namespace roster::dialects::catalyze {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr int kPage = 500;

json::object GroupWire(const service::Record& g) {
  return json::object{{"groupsId", g.id}, {"name", service::GroupName(g)}, {"default", service::GroupIsDefault(g)}};
}

// Applies {name, default} from a request body (merge: absent keys keep their value).
core::Status ApplyGroup(const json::object& body, service::Record& group, bool creating) {
  if (const auto* v = body.if_contains("name"); v != nullptr || creating) {
    if (v == nullptr || v->is_null()) return core::InvalidArgument("name", "name is required");
    if (!v->is_string()) return core::InvalidArgument("name", "name must be a string");
    const std::string name(v->as_string());
    if (auto st = service::CheckGroupName(name); !st) return st;
    group.body["name"] = name;
  }
  if (const auto* v = body.if_contains("default")) {
    if (!v->is_bool()) return core::InvalidArgument("default", "default must be true or false");
    group.body["default"] = v->as_bool();
  } else if (creating) {
    group.body["default"] = false;
  }
  return {};
}

http::Response GroupFail(const core::Error& e) {
  if (e.code == ErrorCode::kAlreadyExists) return ErrorResponse(409, "a group with this name already exists");
  if (e.code == ErrorCode::kNotFound && e.field == "user") return ErrorResponse(404, "user not found");
  if (e.code == ErrorCode::kNotFound && e.field == "record") return ErrorResponse(404, "group not found");
  if (e.code == ErrorCode::kNotFound && e.field.empty() && e.message == "user is not a member")
    return ErrorResponse(404, "user is not a member of the group");
  if (e.code == ErrorCode::kNotFound) return ErrorResponse(404, "group not found");
  return Fail(e);
}

// If-Match on /v2/groups/{groupsId}: the version the write must still find.
core::Result<std::optional<std::int64_t>> GroupIfMatch(const Services& s, const http::Request& req,
                                                       const std::string& env, const std::string& id) {
  return http::ExpectedVersion(req, [&] { return s.records.VersionOf(env, service::kGroupKind, id); });
}

// Every group of the environment (or only the default ones), in creation order.
core::Result<json::array> AllGroups(const Services& s, const std::string& env, bool only_default) {
  json::array out;
  std::int64_t after = 0;
  for (;;) {
    auto page = s.records.List(env, service::kGroupKind, after, kPage);
    if (!page) return std::unexpected(page.error());
    for (const auto& g : *page)
      if (!only_default || service::GroupIsDefault(g)) out.push_back(GroupWire(g));
    if (static_cast<int>(page->size()) < kPage) return out;
    after = page->back().number;
  }
}

// The environment's supervisor role record, created on first use.
core::Result<service::Record> SupervisorRole(const Services& s, const std::string& env) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto found = s.records.Find(env, kSupervisorClaim, "supervisor");
    if (!found) return std::unexpected(found.error());
    if (!found->empty()) return found->front();
    service::NewRecordRequest r;
    r.environment_id = env;
    r.kind = kSupervisorKind;
    r.body = json::object{{"role", "supervisor"}};
    r.claims = {{kSupervisorClaim, "supervisor", true}};
    auto created = s.records.Create(r);
    if (created) return *created;
    if (created.error().code != ErrorCode::kAlreadyExists) return std::unexpected(created.error());
  }
  return core::Internal("cannot create the supervisor role");
}

// Runs `body` for an authenticated caller who may supervise.
template <class F>
http::Handler Supervised(const Services& s, F body) {
  return [s, body](const http::Request& req, const http::PathParams& params) {
    auto caller = Authenticate(s, req);
    if (!caller) return Fail(caller.error());
    if (auto st = MaySupervise(s, *caller); !st) return Fail(st.error());
    return body(*caller, req, params);
  };
}

}  // namespace

void MountGroups(http::Router& router, const Services& s) {
  router.Add("POST", "/v2/groups", http::Exec::kWorker,
             Supervised(s, [s](const Caller& caller, const http::Request& req, const http::PathParams&) {
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               service::Record group;
               if (auto st = ApplyGroup(*body, group, true); !st) return Fail(st.error());
               service::NewRecordRequest r;
               r.environment_id = caller.key.environment_id;
               r.kind = service::kGroupKind;
               r.body = group.body;
               r.claims = service::GroupClaims(group);
               auto created = s.records.Create(r);
               if (!created) return GroupFail(created.error());
               return http::WithETag(Ok(GroupWire(*created)), created->version);
             }));

  router.Add("GET", "/v2/groups/{groupsId}", http::Exec::kInline,
             Supervised(s, [s](const Caller& caller, const http::Request&, const http::PathParams& params) {
               auto group = s.records.Get(caller.key.environment_id, service::kGroupKind,
                                          std::string(params.Get("groupsId")));
               if (!group) return GroupFail(group.error());
               return http::WithETag(Ok(GroupWire(*group)), group->version);
             }));

  router.Add("PUT", "/v2/groups/{groupsId}", http::Exec::kWorker,
             Supervised(s, [s](const Caller& caller, const http::Request& req, const http::PathParams& params) {
               const std::string id(params.Get("groupsId"));
               auto expected = GroupIfMatch(s, req, caller.key.environment_id, id);
               if (!expected) return GroupFail(expected.error());
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               auto group = s.records.Update(
                   caller.key.environment_id, service::kGroupKind, id,
                   [&](service::Record& g) { return ApplyGroup(*body, g, false); }, service::GroupClaims, *expected);
               if (!group) return GroupFail(group.error());
               return http::WithETag(Ok(GroupWire(*group)), group->version);
             }));

  router.Add("DELETE", "/v2/groups/{groupsId}", http::Exec::kWorker,
             Supervised(s, [s](const Caller& caller, const http::Request& req, const http::PathParams& params) {
               const std::string id(params.Get("groupsId"));
               auto expected = GroupIfMatch(s, req, caller.key.environment_id, id);
               if (!expected) return GroupFail(expected.error());
               auto st = s.records.Delete(caller.key.environment_id, service::kGroupKind, id, *expected);
               if (!st) return GroupFail(st.error());
               return Ok(json::object{});
             }));

  router.Add("GET", "/v2/app/{appId}/groups", http::Exec::kInline,
             Supervised(s, [s](const Caller& caller, const http::Request&, const http::PathParams& params) {
               if (auto st = CheckAppId(s, caller, params.Get("appId")); !st) return Fail(st.error());
               auto groups = AllGroups(s, caller.key.environment_id, false);
               if (!groups) return Fail(groups.error());
               return Ok(*groups);
             }));

  router.Add("GET", "/v2/app/{appId}/groups/default", http::Exec::kInline,
             Supervised(s, [s](const Caller& caller, const http::Request&, const http::PathParams& params) {
               if (auto st = CheckAppId(s, caller, params.Get("appId")); !st) return Fail(st.error());
               auto groups = AllGroups(s, caller.key.environment_id, true);
               if (!groups) return Fail(groups.error());
               return Ok(*groups);
             }));

  router.Add("POST", "/v2/groups/{groupsId}/users/{usersId}", http::Exec::kWorker,
             Supervised(s, [s](const Caller& caller, const http::Request&, const http::PathParams& params) {
               const std::string env = caller.key.environment_id;
               const std::string group_id(params.Get("groupsId"));
               // The id must name a group, not some other record.
               if (auto g = s.records.Get(env, service::kGroupKind, group_id); !g) return GroupFail(g.error());
               if (auto st = s.records.AddMember(env, group_id, std::string(params.Get("usersId"))); !st)
                 return GroupFail(st.error());
               return Ok(json::object{});
             }));

  router.Add("DELETE", "/v2/groups/{groupsId}/users/{usersId}", http::Exec::kWorker,
             Supervised(s, [s](const Caller& caller, const http::Request&, const http::PathParams& params) {
               const std::string env = caller.key.environment_id;
               const std::string group_id(params.Get("groupsId"));
               if (auto g = s.records.Get(env, service::kGroupKind, group_id); !g) return GroupFail(g.error());
               if (auto st = s.records.RemoveMember(env, group_id, std::string(params.Get("usersId"))); !st)
                 return GroupFail(st.error());
               return Ok(json::object{});
             }));

  router.Add("GET", "/v2/groups/{groupsId}/members", http::Exec::kInline,
             Supervised(s, [s](const Caller& caller, const http::Request&, const http::PathParams& params) {
               const std::string env = caller.key.environment_id;
               const std::string group_id(params.Get("groupsId"));
               if (auto g = s.records.Get(env, service::kGroupKind, group_id); !g) return GroupFail(g.error());
               json::array ids;
               std::int64_t after = 0;
               for (;;) {
                 auto page = Users(s, caller).ListMembers(group_id, after, kPage);
                 if (!page) return GroupFail(page.error());
                 for (const auto& u : page->users) ids.push_back(json::string(u.id));
                 if (page->next_after == 0) break;
                 after = page->next_after;
               }
               return Ok(ids);
             }));

  router.Add("GET", "/v2/users/{usersId}/groups", http::Exec::kInline,
             [s](const http::Request& req, const http::PathParams& params) {
               auto caller = Authenticate(s, req);
               if (!caller) return Fail(caller.error());
               const std::string id(params.Get("usersId"));
               if (auto st = MayActOn(*caller, id); !st) {
                 if (!caller->session || !MaySupervise(s, *caller)) return Fail(st.error());
               }
               if (!core::IsUuid(id)) return ErrorResponse(404, "user not found");
               auto groups = s.records.MembershipsOf(caller->key.environment_id, id, service::kGroupKind);
               if (!groups) return GroupFail(groups.error());
               json::array out;
               for (const auto& g : *groups) out.push_back(GroupWire(g));
               return Ok(out);
             });

  // Supervisors manage groups with their own session: admin key only.
  for (const char* method : {"POST", "DELETE"}) {
    const bool add = std::string_view(method) == "POST";
    router.Add(method, "/v2/app/supervisor/{username}", http::Exec::kWorker,
               [s, add](const http::Request& req, const http::PathParams& params) {
                 auto caller = Authenticate(s, req);
                 if (!caller) return Fail(caller.error());
                 if (auto st = MustHave(*caller, core::kCredentialsAdmin); !st) return Fail(st.error());
                 const std::string env = caller->key.environment_id;
                 auto users = Users(s, *caller).FindBy("username", std::string(params.Get("username")));
                 if (!users) return Fail(users.error());
                 if (users->empty()) return ErrorResponse(404, "user not found");
                 auto role = SupervisorRole(s, env);
                 if (!role) return Fail(role.error());
                 auto st = add ? s.records.AddMember(env, role->id, users->front().id)
                               : s.records.RemoveMember(env, role->id, users->front().id);
                 if (!st) {
                   if (st.error().code == ErrorCode::kNotFound) return ErrorResponse(404, "user is not a supervisor");
                   return Fail(st.error());
                 }
                 return Ok(json::object{});
               });
  }
}

}  // namespace roster::dialects::catalyze
