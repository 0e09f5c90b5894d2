// Groups: /groups (create, list), /groups/{id} (read, replace, delete), nested groups
// (/groups/{id}/memberOfGroups) and a user's groups (/users/{id}/memberOfGroups). A
// PingOne group is the directory's group (service/groups.h): the same record SCIM,
// Catalyze and CommCare see; membership, nesting and cycle refusal are the service's.
// What only PingOne has of a group (description, customData) lives under the group
// body's "pingone" key; externalId is shared with SCIM (the body's "scim" key).
#include <boost/json.hpp>

#include <algorithm>

#include "core/rules.h"
#include "dialects/pingone/common.h"
#include "dialects/pingone/filter.h"
#include "http/etag.h"
#include "service/groups.h"

namespace roster::dialects::pingone {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr const char* kDialectKey = "pingone";
constexpr const char* kScimKey = "scim";  // SCIM keeps a group's externalId there
constexpr int kDefaultGroupPage = 100;
constexpr int kMaxGroupPage = 1000;
constexpr std::size_t kMaxDescription = 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

service::GroupAccess Groups(State& st, const Call& call) {
  return service::GroupAccess(st.s.records, st.s.users, call.principal);
}

// The service names its fields after the group model; PingOne names attributes.
ApiError GroupError(const core::Error& e, const std::string& member_target = "id") {
  if (e.code == ErrorCode::kAlreadyExists && e.field == service::kGroupNameClaim)
    return InvalidValue("name", "name must be unique within the environment; the value is already in use",
                        "UNIQUENESS_VIOLATION");
  if (e.field == "members" && e.code == ErrorCode::kNotFound)
    return InvalidValue(member_target, member_target + " does not name a group of this environment");
  if (e.field == "members" && e.code == ErrorCode::kInvalidArgument)
    return InvalidValue(member_target, "a group cannot be a member of itself, directly or through its groups");
  return FromCore(e);
}

const json::object* Own(const service::Record& g, const char* key) {
  const auto* v = g.body.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

std::string GroupUrl(const Call& call, const std::string& id) { return call.EnvUrl() + "/groups/" + id; }

json::object GroupWire(const Call& call, const service::Record& g) {
  json::object o;
  o["_links"] = json::object{{"self", {{"href", GroupUrl(call, g.id)}}},
                             {"environment", {{"href", call.EnvUrl()}}},
                             {"memberOfGroups", {{"href", GroupUrl(call, g.id) + "/memberOfGroups"}}}};
  o["id"] = g.id;
  o["environment"] = json::object{{"id", call.env}};
  const std::string name = service::GroupName(g);
  o["name"] = name;
  o["displayName"] = name;
  if (const auto* own = Own(g, kDialectKey)) {
    if (const auto* d = own->if_contains("description"); d && d->is_string()) o["description"] = *d;
    if (const auto* c = own->if_contains("customData"); c && c->is_object()) o["customData"] = *c;
  }
  if (const auto* scim = Own(g, kScimKey))
    if (const auto* x = scim->if_contains("externalId"); x && x->is_string() && !x->as_string().empty())
      o["externalId"] = *x;
  o["createdAt"] = core::FormatTimestamp(g.created_at_ms, true);
  o["updatedAt"] = core::FormatTimestamp(g.updated_at_ms, true);
  return o;
}

// name, description, externalId, customData of a POST or PUT body, applied to `g`
// (PUT replaces: an absent member is cleared). Every bad member is reported at once.
Done ApplyGroup(const json::object& body, service::Record& g) {
  std::vector<Detail> errors;
  const auto take = [&](auto outcome) {
    if (!outcome) errors.insert(errors.end(), outcome.error().details.begin(), outcome.error().details.end());
    return outcome ? *outcome : std::optional<std::string>();
  };
  auto name = take(OptionalString(body, "name", "name", service::kMaxGroupNameLength));
  auto description = take(OptionalString(body, "description", "description", kMaxDescription));
  auto external = take(OptionalString(body, "externalId", "externalId", 1024));
  const json::value* custom = body.if_contains("customData");
  if (custom && !custom->is_null() && !custom->is_object())
    errors.push_back({"INVALID_VALUE", "customData", "customData must be an object", {}});
  else if (custom && custom->is_object() && json::serialize(*custom).size() > 16 * 1024)
    errors.push_back({"SIZE_LIMIT_EXCEEDED", "customData", "customData must be at most 16 KiB", {}});
  if (const json::value* f = body.if_contains("userFilter"); f && !f->is_null())
    errors.push_back({"INVALID_VALUE", "userFilter", "dynamic groups (userFilter) are not supported", {}});
  if (const json::value* p = body.if_contains("population"); p && !p->is_null())
    errors.push_back({"INVALID_VALUE", "population.id", "population groups are not supported; omit population", {}});
  if (!name || name->empty()) {
    if (errors.empty() || std::none_of(errors.begin(), errors.end(), [](const Detail& d) { return d.target == "name"; }))
      errors.push_back({"REQUIRED_VALUE", "name", "name is required", {}});
  } else if (auto st = service::CheckGroupName(*name); !st) {
    errors.push_back({"INVALID_VALUE", "name", st.error().message, {}});
  }
  if (!errors.empty()) return Fail(InvalidData(std::move(errors)));

  g.body["name"] = *name;
  json::object own = Own(g, kDialectKey) ? *Own(g, kDialectKey) : json::object{};
  if (description && !description->empty()) own["description"] = *description;
  else own.erase("description");
  if (custom && custom->is_object()) own["customData"] = *custom;
  else own.erase("customData");
  if (own.empty()) g.body.erase(kDialectKey);
  else g.body[kDialectKey] = std::move(own);
  json::object scim = Own(g, kScimKey) ? *Own(g, kScimKey) : json::object{};
  if (external && !external->empty()) scim["externalId"] = *external;
  else scim.erase("externalId");
  if (scim.empty()) g.body.erase(kScimKey);
  else g.body[kScimKey] = std::move(scim);
  return {};
}

Outcome<std::optional<std::int64_t>> GroupIfMatch(State& st, const Call& call) {
  auto groups = Groups(st, call);
  const std::string id = call.Param("groupID");
  auto expected = http::ExpectedVersion(*call.req, [&] { return groups.VersionOf(id); });
  if (!expected) return Fail(GroupError(expected.error()));
  return *expected;
}

Outcome<http::Response> CreateGroup(State& st, const Call& call) {
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  service::Record g;
  if (auto ok = ApplyGroup(*body, g); !ok) return Fail(ok.error());
  auto created = Groups(st, call).Create(std::move(g.body), {});
  if (!created) return Fail(GroupError(created.error()));
  return http::WithETag(JsonResponse(201, GroupWire(call, *created)), created->version);
}

Outcome<http::Response> ReadGroup(State& st, const Call& call) {
  auto g = Groups(st, call).Get(call.Param("groupID"));
  if (!g) return Fail(GroupError(g.error()));
  return http::WithETag(JsonResponse(200, GroupWire(call, *g)), g->version);
}

Outcome<http::Response> ReplaceGroup(State& st, const Call& call) {
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  auto expected = GroupIfMatch(st, call);
  if (!expected) return Fail(expected.error());
  std::optional<ApiError> failure;
  auto updated = Groups(st, call).Update(
      call.Param("groupID"),
      [&](service::Record& g) -> core::Status {
        if (auto ok = ApplyGroup(*body, g); !ok) {
          failure = ok.error();
          return core::InvalidArgument("body", "invalid group");
        }
        return {};
      },
      *expected, std::nullopt);
  if (failure) return Fail(*failure);
  if (!updated) return Fail(GroupError(updated.error()));
  return http::WithETag(JsonResponse(200, GroupWire(call, *updated)), updated->version);
}

Outcome<http::Response> DeleteGroup(State& st, const Call& call) {
  auto expected = GroupIfMatch(st, call);
  if (!expected) return Fail(expected.error());
  if (auto s = Groups(st, call).Delete(call.Param("groupID"), *expected); !s) return Fail(GroupError(s.error()));
  return NoContent();
}

// GET /groups?limit=&cursor=&filter=: keyset pages in creation order. `filter` takes
// `name eq "x"` (the name index) and `id eq "x"`.
Outcome<http::Response> ListGroups(State& st, const Call& call) {
  auto query = ParseQuery(call.req->query);
  if (!query) return Fail(query.error());
  auto paging = ReadPaging(*query, kDefaultGroupPage, kMaxGroupPage);
  if (!paging) return Fail(paging.error());
  auto groups = Groups(st, call);
  json::array items;
  std::int64_t next = 0;
  std::optional<std::int64_t> count;
  if (auto it = query->find("filter"); it != query->end()) {
    auto parsed = ParseFilter(it->second, [](std::string_view path) {
      const std::string p = Lower(path);
      return p == "name" || p == "id";
    });
    if (!parsed) return Fail(InvalidValue("filter", parsed.error().message, "INVALID_FILTER"));
    const Filter& f = *parsed;
    const auto* value = f.kind == Filter::Kind::kComparison ? std::get_if<std::string>(&f.comparison.value) : nullptr;
    if (value == nullptr || f.comparison.op != FilterOp::kEq)
      return Fail(InvalidValue("filter", "groups filter on name eq \"...\" or id eq \"...\" alone", "INVALID_FILTER"));
    std::optional<service::Record> found;
    if (Lower(f.comparison.path) == "name") {
      auto r = groups.FindByName(*value);
      if (!r) return Fail(GroupError(r.error()));
      found = std::move(*r);
    } else {
      auto r = groups.Get(Lower(*value));
      if (!r && r.error().code != ErrorCode::kNotFound) return Fail(GroupError(r.error()));
      if (r) found = std::move(*r);
    }
    if (found) items.push_back(GroupWire(call, *found));
    count = static_cast<std::int64_t>(items.size());
  } else {
    auto page = groups.List(paging->after, paging->limit + 1);
    if (!page) return Fail(GroupError(page.error()));
    if (static_cast<int>(page->size()) > paging->limit) {
      page->resize(paging->limit);
      next = page->back().number;
    }
    for (const auto& g : *page) items.push_back(GroupWire(call, g));
    // The total is known without a count when everything is on the first page.
    if (paging->after == 0 && next == 0) count = static_cast<std::int64_t>(items.size());
  }
  const std::string self = call.EnvUrl() + "/groups";
  json::object links{{"self", {{"href", call.req->query.empty() ? self : self + "?" + call.req->query}}}};
  if (next != 0)
    links["next"] = {{"href", self + "?limit=" + std::to_string(paging->limit) + "&cursor=" + EncodeCursor(next)}};
  json::object out;
  out["_links"] = std::move(links);
  const auto size = items.size();
  out["_embedded"] = json::object{{"groups", std::move(items)}};
  if (count) out["count"] = *count;
  out["size"] = size;
  return JsonResponse(200, out);
}

// One group membership as PingOne lists it: the containing group's id, name and type.
json::object MembershipWire(const Call& call, const std::string& self, const service::Container& c) {
  return json::object{
      {"_links", {{"self", {{"href", self + "/" + c.record.id}}}, {"group", {{"href", GroupUrl(call, c.record.id)}}}}},
      {"id", c.record.id},
      {"environment", {{"id", call.env}}},
      {"name", service::GroupName(c.record)},
      {"type", c.direct() ? "DIRECT" : "INDIRECT"}};
}

// GET /users/{id}/memberOfGroups and /groups/{id}/memberOfGroups: the groups containing
// the user (group), direct ones first, then by depth. `filter=type eq "DIRECT"` keeps the
// direct ones.
Outcome<http::Response> ListMemberships(State& st, const Call& call, bool of_group) {
  auto query = ParseQuery(call.req->query);
  if (!query) return Fail(query.error());
  auto paging = ReadPaging(*query, kDefaultGroupPage, kMaxGroupPage);
  if (!paging) return Fail(paging.error());
  bool direct_only = false, indirect_only = false;
  if (auto it = query->find("filter"); it != query->end()) {
    auto parsed = ParseFilter(it->second, [](std::string_view path) { return Lower(path) == "type"; });
    const auto* value = parsed && parsed->kind == Filter::Kind::kComparison
                            ? std::get_if<std::string>(&parsed->comparison.value)
                            : nullptr;
    if (!parsed) return Fail(InvalidValue("filter", parsed.error().message, "INVALID_FILTER"));
    if (value == nullptr || parsed->comparison.op != FilterOp::kEq ||
        (Lower(*value) != "direct" && Lower(*value) != "indirect"))
      return Fail(InvalidValue("filter", "filter memberships with type eq \"DIRECT\" or \"INDIRECT\"", "INVALID_FILTER"));
    direct_only = Lower(*value) == "direct";
    indirect_only = !direct_only;
  }
  const std::string id = call.Param(of_group ? "groupID" : "userID");
  auto groups = Groups(st, call);
  if (!of_group)
    if (auto v = st.s.users.VersionOf(call.env, id); !v) return Fail(GroupError(v.error()));
  auto containing = of_group ? groups.GroupsOfGroup(id) : groups.GroupsOfUser(id);
  if (!containing) return Fail(GroupError(containing.error()));
  const std::string self = call.EnvUrl() + (of_group ? "/groups/" : "/users/") + id + "/memberOfGroups";
  json::array items;
  std::int64_t index = 0, total = 0, next = 0;
  for (const auto& c : containing->groups) {
    if ((direct_only && !c.direct()) || (indirect_only && c.direct())) continue;
    ++total;
    if (++index <= paging->after) continue;
    if (static_cast<int>(items.size()) == paging->limit) {
      next = paging->after + paging->limit;
      continue;
    }
    items.push_back(MembershipWire(call, self, c));
  }
  json::object links{{"self", {{"href", call.req->query.empty() ? self : self + "?" + call.req->query}}}};
  if (next != 0) {
    std::string href = self + "?limit=" + std::to_string(paging->limit);
    if (auto it = query->find("filter"); it != query->end()) href += "&filter=" + UrlEncode(it->second);
    links["next"] = {{"href", href + "&cursor=" + EncodeCursor(next)}};
  }
  json::object out;
  out["_links"] = std::move(links);
  const auto size = items.size();
  out["_embedded"] = json::object{{"groupMemberships", std::move(items)}};
  out["count"] = total;
  out["size"] = size;
  return JsonResponse(200, out);
}

// POST /users/{id}/memberOfGroups and /groups/{id}/memberOfGroups {"id": <group>}: the
// user (group) joins the group. 201 with the membership.
Outcome<http::Response> AddMembership(State& st, const Call& call, bool of_group) {
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  auto group_id = OptionalString(*body, "id", "id", 64);
  if (!group_id) return Fail(group_id.error());
  if (!*group_id || (*group_id)->empty()) return Fail(RequiredValue("id", "id is required"));
  const std::string target = Lower(**group_id);
  const std::string member = call.Param(of_group ? "groupID" : "userID");
  auto groups = Groups(st, call);
  if (auto v = of_group ? groups.VersionOf(member) : st.s.users.VersionOf(call.env, member); !v)
    return Fail(GroupError(v.error()));
  auto parent = groups.Get(target);
  if (!parent) {
    if (parent.error().code == ErrorCode::kNotFound)
      return Fail(InvalidValue("id", "id does not name a group of this environment"));
    return Fail(GroupError(parent.error()));
  }
  core::Result<service::Record> updated =
      of_group ? groups.AddGroup(target, member)
               : groups.Update(target, [](service::Record&) -> core::Status { return {}; }, std::nullopt, std::nullopt,
                               service::MemberEdits{{{member, service::MemberType::kUser}}, {}});
  if (!updated) return Fail(GroupError(updated.error()));
  const std::string self = call.EnvUrl() + (of_group ? "/groups/" : "/users/") + member + "/memberOfGroups";
  return JsonResponse(201, MembershipWire(call, self, service::Container{*updated, 1}));
}

// DELETE /users/{id}/memberOfGroups/{groupID} (and for a group): leaves the group. 404
// when it is not a direct member.
Outcome<http::Response> RemoveMembership(State& st, const Call& call, bool of_group) {
  const std::string member = call.Param(of_group ? "groupID" : "userID");
  const std::string target = Lower(call.Param("parentID"));
  auto groups = Groups(st, call);
  if (!of_group)
    if (auto v = st.s.users.VersionOf(call.env, member); !v) return Fail(GroupError(v.error()));
  auto containing = of_group ? groups.GroupsOfGroup(member) : groups.GroupsOfUser(member);
  if (!containing) return Fail(GroupError(containing.error()));
  const bool is_member = std::any_of(containing->groups.begin(), containing->groups.end(),
                                     [&](const service::Container& c) { return c.direct() && c.record.id == target; });
  if (!is_member) return Fail(NotFoundError());
  auto updated = of_group ? groups.RemoveGroup(target, member)
                          : groups.Update(target, [](service::Record&) -> core::Status { return {}; }, std::nullopt,
                                          std::nullopt, service::MemberEdits{{}, {{member, service::MemberType::kUser}}});
  if (!updated) return Fail(GroupError(updated.error()));
  return NoContent();
}

}  // namespace

void MountGroups(http::Router& router, std::shared_ptr<State> state) {
  const std::string groups = "/v1/environments/{envID}/groups";
  const std::string group = groups + "/{groupID}";
  router.Add("POST", groups, http::Exec::kWorker, Api(state, CreateGroup));
  router.Add("GET", groups, http::Exec::kWorker, Api(state, ListGroups));
  router.Add("GET", group, http::Exec::kInline, Api(state, ReadGroup));
  router.Add("PUT", group, http::Exec::kWorker, Api(state, ReplaceGroup));
  router.Add("DELETE", group, http::Exec::kWorker, Api(state, DeleteGroup));
  const std::string user = "/v1/environments/{envID}/users/{userID}";
  for (const bool of_group : {true, false}) {
    const std::string base = (of_group ? group : user) + "/memberOfGroups";
    router.Add("GET", base, http::Exec::kWorker, Api(state, [of_group](State& st, const Call& call) {
                 return ListMemberships(st, call, of_group);
               }));
    router.Add("POST", base, http::Exec::kWorker, Api(state, [of_group](State& st, const Call& call) {
                 return AddMembership(st, call, of_group);
               }));
    router.Add("DELETE", base + "/{parentID}", http::Exec::kWorker, Api(state, [of_group](State& st, const Call& call) {
                 return RemoveMembership(st, call, of_group);
               }));
  }
}

}  // namespace roster::dialects::pingone
