// Groups: /a/{domain}/api/v0.5/group/. The shared groups of service/groups.h (Catalyze
// sees the same ones); CommCare's own fields live under body["commcare"].
#include <algorithm>

#include "dialects/commcare/common.h"
#include "http/etag.h"
#include "query/filter.h"
#include "service/groups.h"

namespace roster::dialects::commcare {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr int kScanPage = 500;
constexpr int kMemberPage = 1000;

http::Response GroupFail(const core::Error& e) { return Fail(e, Shape::kErrorMessage); }
http::Response GroupError(int status, std::string_view message) {
  return ErrorResponse(status, message, Shape::kErrorMessage);
}
http::Response GroupNotFound() { return GroupError(404, "No group with this id in this project space."); }

core::Result<std::vector<std::string>> MembersOf(const Context& c, const Caller& caller, const std::string& group) {
  std::vector<std::string> ids;
  std::int64_t after = 0;
  for (;;) {
    auto page = c.s.users.As(caller.principal).ListMembers(group, after, kMemberPage);
    if (!page) return std::unexpected(page.error());
    for (const auto& u : page->users) ids.push_back(u.id);
    if (page->next_after == 0) return ids;
    after = page->next_after;
  }
}

core::Result<json::object> Wire(const Context& c, const Caller& caller, const service::Record& group) {
  auto members = MembersOf(c, caller, group.id);
  if (!members) return std::unexpected(members.error());
  return GroupWire(group, *members, caller.domain.name);
}

// The first id in `users` that names no user of the domain, as an error naming it.
core::Status CheckUsersExist(const Context& c, const std::string& env, const std::vector<std::string>& users) {
  for (std::size_t i = 0; i < users.size(); ++i) {
    auto u = c.s.users.Get(env, users[i]);
    if (u) continue;
    if (u.error().code != ErrorCode::kNotFound) return std::unexpected(u.error());
    const std::string at = "users[" + std::to_string(i) + "]";
    return core::InvalidArgument(at, at + " is not a mobile worker of this project space");
  }
  return {};
}

// A group write refused because a member is not a user of the domain (the store checks
// every id in the write's own transaction): the error names the entry. Looked up only
// on this error path, so a successful write reads no user.
http::Response MemberFail(const Context& c, const std::string& env, const std::vector<std::string>& users) {
  if (auto st = CheckUsersExist(c, env, users); !st) return GroupFail(st.error());
  return GroupError(400, "users: a user was deleted meanwhile; retry");
}

// If-Match on a write to group `id`: the version the write must still find.
core::Result<std::optional<std::int64_t>> IfMatch(const Context& c, const http::Request& req, const std::string& env,
                                                  const std::string& id) {
  return http::ExpectedVersion(req, [&] { return c.s.records.VersionOf(env, service::kGroupKind, id); });
}

http::Response List(const Context& c, const Caller& caller, const http::Request& req) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return GroupFail(st.error());
  auto page = ReadPage(query);
  if (!page) return GroupFail(page.error());
  std::vector<service::Record> picked;
  std::int64_t total = 0;
  std::int64_t after = 0;
  for (;;) {
    auto groups = c.s.records.List(caller.domain.id, service::kGroupKind, after, kScanPage);
    if (!groups) return GroupFail(groups.error());
    for (auto& g : *groups) {
      if (page->Contains(total)) picked.push_back(std::move(g));
      ++total;
    }
    if (static_cast<int>(groups->size()) < kScanPage) break;
    after = groups->back().number;
  }
  json::array objects;
  for (const auto& g : picked) {
    auto wire = Wire(c, caller, g);
    if (!wire) return GroupFail(wire.error());
    objects.push_back(std::move(*wire));
  }
  json::object out;
  out["meta"] = PageMeta(*page, total, RequestListUri(req), query);
  out["objects"] = std::move(objects);
  return Json(200, out);
}

http::Response Create(const Context& c, const Caller& caller, const http::Request& req) {
  if (auto st = core::MayWriteGroups(caller.principal); !st) return GroupFail(st.error());
  auto body = ParseBody(req);
  if (!body) return GroupFail(body.error());
  auto fields = ReadGroupFields(*body, true);
  if (!fields) return GroupFail(fields.error());
  const std::string& env = caller.domain.id;
  service::Record group;
  ApplyGroupFields(*fields, group, true);
  service::NewRecordRequest r;
  r.environment_id = env;
  r.kind = service::kGroupKind;
  r.body = group.body;
  r.claims = service::GroupClaims(group);
  if (fields->users) r.members = *fields->users;  // one transaction: the group and its members
  auto created = c.s.records.Create(r);
  if (!created) {
    if (created.error().code == ErrorCode::kAlreadyExists)
      return GroupError(400, "A group with name " + *fields->name + " already exists");
    if (created.error().code == ErrorCode::kNotFound && created.error().field == "user")
      return MemberFail(c, env, r.members);
    return GroupFail(created.error());
  }
  auto wire = Wire(c, caller, *created);
  if (!wire) return GroupFail(wire.error());
  http::Response out = http::WithETag(Json(201, *wire), created->version);
  out.headers.emplace_back("Location", DetailUri(caller.domain.name, "group", created->id));
  return out;
}

// PATCH on the list: CommCare's bulk create ({"objects": [group, ...]}, Tastypie's
// patch_list), 202 with no body. Every entry is checked (fields, names unique in the
// batch and in the domain, users) before the first is written; each group is then one
// write through service::GroupAccess, in order. A write refused meanwhile (a name taken
// or a user deleted by a concurrent request) stops the batch, naming its entry; the
// groups written before it stay, as on CommCare, whose patch_list is not atomic either.
http::Response BulkCreate(const Context& c, const Caller& caller, const http::Request& req) {
  if (auto st = core::MayWriteGroups(caller.principal); !st) return GroupFail(st.error());
  auto body = ParseBody(req);
  if (!body) return GroupFail(body.error());
  const auto* objects = body->if_contains("objects");
  if (!objects || !objects->is_array()) return GroupError(400, "objects must be a list of groups");
  if (objects->as_array().size() > 100) return GroupError(400, "objects: at most 100 groups per request");
  service::GroupAccess groups(c.s.records, c.s.users, caller.principal);
  std::vector<GroupFields> batch;
  std::vector<std::string> folded_names;
  for (std::size_t i = 0; i < objects->as_array().size(); ++i) {
    const std::string at = "objects[" + std::to_string(i) + "]";
    const auto& o = objects->as_array()[i];
    if (!o.is_object()) return GroupError(400, at + " must be a group object");
    auto fields = ReadGroupFields(o.as_object(), true);
    if (!fields) return GroupError(400, at + ": " + fields.error().message);
    const std::string folded = query::Fold(*fields->name);
    if (std::find(folded_names.begin(), folded_names.end(), folded) != folded_names.end())
      return GroupError(400, at + ": A group with name " + *fields->name + " already exists");
    auto existing = groups.FindByName(*fields->name);
    if (!existing) return GroupFail(existing.error());
    if (*existing) return GroupError(400, at + ": A group with name " + *fields->name + " already exists");
    if (fields->users) {
      if (auto st = CheckUsersExist(c, caller.domain.id, *fields->users); !st)
        return GroupError(400, at + ": " + st.error().message);
    }
    folded_names.push_back(folded);
    batch.push_back(std::move(*fields));
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    service::Record group;
    ApplyGroupFields(batch[i], group, true);
    std::vector<service::MemberRef> members;
    for (const auto& u : batch[i].users.value_or(std::vector<std::string>{}))
      members.push_back({u, service::MemberType::kUser});
    auto created = groups.Create(group.body, members);
    if (!created) {
      const std::string at = "objects[" + std::to_string(i) + "]: ";
      if (created.error().code == ErrorCode::kAlreadyExists)
        return GroupError(400, at + "A group with name " + *batch[i].name + " already exists");
      if (created.error().code == ErrorCode::kNotFound)
        return GroupError(400, at + "users: a user was deleted meanwhile; retry");
      return GroupFail(created.error());
    }
  }
  return Empty(202);
}

http::Response Get(const Context& c, const Caller& caller, const http::Request& req, const http::PathParams& params) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return GroupFail(st.error());
  auto id = UuidFromHex(params.Get("id"));
  if (!id) return GroupNotFound();
  auto group = c.s.records.Get(caller.domain.id, service::kGroupKind, *id);
  if (!group) return group.error().code == ErrorCode::kNotFound ? GroupNotFound() : GroupFail(group.error());
  auto wire = Wire(c, caller, *group);
  if (!wire) return GroupFail(wire.error());
  return http::WithETag(Json(200, *wire), group->version);
}

http::Response Update(const Context& c, const Caller& caller, const http::Request& req,
                      const http::PathParams& params) {
  if (auto st = core::MayWriteGroups(caller.principal); !st) return GroupFail(st.error());
  auto id = UuidFromHex(params.Get("id"));
  if (!id) return GroupNotFound();
  const std::string& env = caller.domain.id;
  auto current = c.s.records.Get(env, service::kGroupKind, *id);
  if (!current) return current.error().code == ErrorCode::kNotFound ? GroupNotFound() : GroupFail(current.error());
  auto expected = http::ExpectedVersion(req, [&]() -> core::Result<std::int64_t> { return current->version; });
  if (!expected) return GroupFail(expected.error());
  auto body = ParseBody(req);
  if (!body) return GroupFail(body.error());
  auto fields = ReadGroupFields(*body, false);
  if (!fields) return GroupFail(fields.error());
  // One transaction: the group's fields and, if given, its members (replaced wholesale).
  auto group = c.s.records.Update(
      env, service::kGroupKind, *id,
      [&](service::Record& g) -> core::Status {
        ApplyGroupFields(*fields, g, false);
        return {};
      },
      service::GroupClaims, *expected, fields->users);
  if (!group) {
    if (group.error().code == ErrorCode::kAlreadyExists) return GroupError(400, "A group with this name already exists");
    if (group.error().code == ErrorCode::kNotFound && group.error().field == "user")
      return MemberFail(c, env, *fields->users);
    if (group.error().code == ErrorCode::kNotFound) return GroupNotFound();
    return GroupFail(group.error());
  }
  auto wire = Wire(c, caller, *group);
  if (!wire) return GroupFail(wire.error());
  return http::WithETag(Json(200, *wire), group->version);
}

http::Response Delete(const Context& c, const Caller& caller, const http::Request& req,
                      const http::PathParams& params) {
  if (auto st = core::MayWriteGroups(caller.principal); !st) return GroupFail(st.error());
  auto id = UuidFromHex(params.Get("id"));
  if (!id) return GroupNotFound();
  auto expected = IfMatch(c, req, caller.domain.id, *id);
  if (!expected) return expected.error().code == ErrorCode::kNotFound ? GroupNotFound() : GroupFail(expected.error());
  if (auto st = c.s.records.Delete(caller.domain.id, service::kGroupKind, *id, *expected); !st)
    return st.error().code == ErrorCode::kNotFound ? GroupNotFound() : GroupFail(st.error());
  return Empty(204);
}

}  // namespace

void MountGroups(http::Router& router, const Context& c) {
  const Shape shape = Shape::kErrorMessage;
  AddRoutes(router, "GET", "group", "", http::Exec::kWorker,
             Authorized(c, shape, [c](const Caller& caller, const http::Request& req, const http::PathParams&) {
               return List(c, caller, req);
             }));
  AddRoutes(router, "PATCH", "group", "", http::Exec::kWorker,
            Authorized(c, Shape::kErrorMessage,
                       [c](const Caller& caller, const http::Request& req, const http::PathParams&) {
                         return BulkCreate(c, caller, req);
                       }));
  AddRoutes(router, "POST", "group", "", http::Exec::kWorker,
             Authorized(c, shape, [c](const Caller& caller, const http::Request& req, const http::PathParams&) {
               return Create(c, caller, req);
             }));
  AddRoutes(router, "GET", "group", "/{id}", http::Exec::kInline,
             Authorized(c, shape, [c](const Caller& caller, const http::Request& req, const http::PathParams& params) {
               return Get(c, caller, req, params);
             }));
  AddRoutes(router, "PUT", "group", "/{id}", http::Exec::kWorker,
             Authorized(c, shape, [c](const Caller& caller, const http::Request& req, const http::PathParams& params) {
               return Update(c, caller, req, params);
             }));
  AddRoutes(router, "DELETE", "group", "/{id}", http::Exec::kWorker,
             Authorized(c, shape, [c](const Caller& caller, const http::Request& req, const http::PathParams& params) {
               return Delete(c, caller, req, params);
             }));
}

}  // namespace roster::dialects::commcare
