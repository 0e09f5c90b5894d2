// /Groups: the directory's groups (service/groups.h: a SCIM group is the group Catalyze,
// CommCare and PingOne see; displayName is its name) through service::GroupAccess, which
// owns the rules: groups:write, unique names, members of type User and Group, no cycles.
// SCIM keeps only externalId of its own, under the group body's "scim" entry.
#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "dialects/scim/patch.h"
#include "dialects/scim/resources.h"
#include "query/evaluate.h"
#include "query/scim.h"
#include "service/groups.h"

namespace roster::dialects::scim {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr const char* kDialectKey = "scim";
constexpr int kMemberPage = 500;
constexpr int kScanPage = 500;
// Groups read at most to answer one list request (every match is counted): more is 400
// tooMany, as for Users.
constexpr int kGroupListBudget = kListBudget;

service::GroupAccess Groups(const Context& ctx) {
  return service::GroupAccess(ctx.s.records, ctx.s.users, ctx.principal);
}

std::optional<std::string> ExternalIdOf(const service::Record& g) {
  const auto* scim = g.body.if_contains(kDialectKey);
  if (scim == nullptr || !scim->is_object()) return std::nullopt;
  const auto* v = scim->get_object().if_contains("externalId");
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// Group errors in SCIM's words: the group model names "name" and "members".
Error GroupFail(const core::Error& e) {
  if (e.field == "members" && (e.code == ErrorCode::kNotFound || e.code == ErrorCode::kInvalidArgument))
    return BadRequest("invalidValue", e.message.find("members") == 0 ? e.message : "members: " + e.message);
  if (e.field == "name" && e.code == ErrorCode::kInvalidArgument) {
    std::string detail = e.message;
    if (detail.rfind("name", 0) == 0) detail = "displayName" + detail.substr(4);
    return BadRequest("invalidValue", detail);
  }
  return FromCore(e);
}

// ---- members ------------------------------------------------------------------------

struct GroupMember {
  std::string id;
  service::MemberType type;
  std::string display;
};

std::string DisplayOf(const core::User& u) { return u.profile.display_name.empty() ? u.username : u.profile.display_name; }

// Every member of group `id` (groups first, then users), read in keyset pages.
Outcome<std::vector<GroupMember>> MembersOf(const Context& ctx, const std::string& id) {
  auto groups = Groups(ctx);
  std::vector<GroupMember> out;
  service::MemberPosition at;
  for (;;) {
    auto page = groups.Members(id, at, kMemberPage);
    if (!page) return Fail(GroupFail(page.error()));
    for (const auto& g : page->groups) out.push_back({g.id, service::MemberType::kGroup, service::GroupName(g)});
    for (const auto& u : page->users) out.push_back({u.id, service::MemberType::kUser, DisplayOf(u)});
    if (!page->next) return out;
    at = *page->next;
  }
}

json::object MemberJson(const Context& ctx, const GroupMember& m) {
  const bool user = m.type == service::MemberType::kUser;
  return json::object{{"value", m.id},
                      {"$ref", user ? ctx.UserLocation(m.id) : ctx.GroupLocation(m.id)},
                      {"display", m.display},
                      {"type", user ? "User" : "Group"}};
}

// Whether the projection returns `members` (reading them is the costly part of a group).
bool WantsMembers(const Projection& p) {
  const auto names_members = [](const AttrRef& a) {
    return (a.urn.empty() || IEquals(a.urn, kGroupSchema)) && IEquals(a.name, "members");
  };
  if (!p.attributes.empty() && std::none_of(p.attributes.begin(), p.attributes.end(), names_members)) return false;
  return std::none_of(p.excluded.begin(), p.excluded.end(),
                      [&](const AttrRef& a) { return names_members(a) && a.sub.empty(); });
}

json::object Resource(const Context& ctx, const service::Record& g, const std::vector<GroupMember>* members) {
  json::object r{{"schemas", json::array{kGroupSchema}}, {"id", g.id}};
  if (auto ext = ExternalIdOf(g)) r["externalId"] = *ext;
  r["displayName"] = service::GroupName(g);
  if (members) {
    json::array a;
    for (const auto& m : *members) a.push_back(MemberJson(ctx, m));
    r["members"] = std::move(a);
  }
  r["meta"] = Meta("Group", g.created_at_ms, g.updated_at_ms, ctx.GroupLocation(g.id), g.version);
  return r;
}

Outcome<json::object> RenderGroup(const Context& ctx, const service::Record& g, const Projection& projection) {
  std::optional<std::vector<GroupMember>> members;
  if (WantsMembers(projection)) {
    auto m = MembersOf(ctx, g.id);
    if (!m) return Fail(m.error());
    members = std::move(*m);
  }
  json::object r = Resource(ctx, g, members ? &*members : nullptr);
  Project(r, projection, kGroupSchema);
  return r;
}

Reply GroupReply(const Context& ctx, int status, json::object resource, const service::Record& g, bool location) {
  Reply r{status, std::move(resource), {}, g.version};
  if (location) r.location = ctx.GroupLocation(g.id);
  return r;
}

// One member of a write: {"value": id, "type"?: "User"|"Group"} ($ref and display are
// ignored); a bare string is taken as the id.
Outcome<service::MemberRef> MemberRefOf(const json::value& v) {
  if (v.is_string()) return service::MemberRef{std::string(v.get_string()), std::nullopt};
  if (!v.is_object()) return Fail(BadRequest("invalidValue", "members: each member must be an object with a value"));
  const auto* value = Member(v.get_object(), "value");
  if (value == nullptr || !value->is_string() || value->get_string().empty())
    return Fail(BadRequest("invalidValue", "members: each member needs a value (the member's id)"));
  service::MemberRef ref{std::string(value->get_string()), std::nullopt};
  if (const auto* type = Member(v.get_object(), "type"); type != nullptr && !type->is_null()) {
    if (!type->is_string()) return Fail(BadRequest("invalidValue", "members: type must be \"User\" or \"Group\""));
    if (IEquals(type->get_string(), "User")) ref.type = service::MemberType::kUser;
    else if (IEquals(type->get_string(), "Group")) ref.type = service::MemberType::kGroup;
    else return Fail(BadRequest("invalidValue", "members: type must be \"User\" or \"Group\""));
  }
  return ref;
}

// A members value: an array of members, or one member.
Outcome<std::vector<service::MemberRef>> MemberRefsOf(const json::value& v) {
  std::vector<service::MemberRef> out;
  if (v.is_null()) return out;
  if (!v.is_array()) {
    auto one = MemberRefOf(v);
    if (!one) return Fail(one.error());
    out.push_back(std::move(*one));
    return out;
  }
  for (const auto& e : v.get_array()) {
    auto one = MemberRefOf(e);
    if (!one) return Fail(one.error());
    out.push_back(std::move(*one));
  }
  return out;
}

// ---- whole resources (POST, PUT) ------------------------------------------------------

struct GroupInput {
  std::string display_name;
  std::optional<std::string> external_id;
  std::vector<service::MemberRef> members;
};

Outcome<GroupInput> ReadGroup(const json::object& body) {
  if (auto st = RequireSchema(body, kGroupSchema); !st) return Fail(st.error());
  GroupInput in;
  const auto* name = Member(body, "displayName");
  if (name == nullptr || !name->is_string() || name->get_string().empty())
    return Fail(BadRequest("invalidValue", "displayName is required and must be a string"));
  in.display_name = std::string(name->get_string());
  if (const auto* ext = Member(body, "externalId"); ext != nullptr && !ext->is_null()) {
    if (!ext->is_string()) return Fail(BadRequest("invalidValue", "externalId must be a string"));
    in.external_id = std::string(ext->get_string());
  }
  if (const auto* members = Member(body, "members"); members != nullptr) {
    if (!members->is_array() && !members->is_null())
      return Fail(BadRequest("invalidValue", "members must be an array"));
    auto refs = MemberRefsOf(*members);
    if (!refs) return Fail(refs.error());
    in.members = std::move(*refs);
  }
  return in;
}

// Sets the group body's name and SCIM entry, leaving other APIs' entries alone.
void ApplyFields(service::Record& g, const std::string& display_name, const std::optional<std::string>& external_id) {
  g.body["name"] = display_name;
  json::object scim;
  if (const auto* old = g.body.if_contains(kDialectKey); old != nullptr && old->is_object()) scim = old->get_object();
  if (external_id) scim["externalId"] = *external_id;
  else scim.erase("externalId");
  if (scim.empty()) g.body.erase(kDialectKey);
  else g.body[kDialectKey] = std::move(scim);
}

Outcome<std::optional<std::int64_t>> Expected(const Context& ctx, const std::string& id,
                                              const Precondition& precondition) {
  auto expected = ExpectedVersion(precondition, [&] { return Groups(ctx).VersionOf(id); });
  if (!expected) return Fail(GroupFail(expected.error()));
  return *expected;
}

// ---- PATCH ------------------------------------------------------------------------------

// What a PatchOp does to the members, folded in order: a replacement (if any op replaced
// them), then removals and additions. Exact for any sequence of add/remove/replace.
struct MemberPlan {
  std::optional<std::vector<service::MemberRef>> replacement;
  std::vector<service::MemberRef> add;
  std::vector<service::MemberRef> remove;

  static void Drop(std::vector<service::MemberRef>& list, const std::string& id) {
    std::erase_if(list, [&](const service::MemberRef& r) { return r.id == id; });
  }
  void Add(const std::vector<service::MemberRef>& refs) {
    for (const auto& r : refs) {
      if (replacement) {
        Drop(*replacement, r.id);
        replacement->push_back(r);
      } else {
        Drop(remove, r.id);
        Drop(add, r.id);
        add.push_back(r);
      }
    }
  }
  void Remove(const std::vector<service::MemberRef>& refs) {
    for (const auto& r : refs) {
      if (replacement) {
        Drop(*replacement, r.id);
      } else {
        Drop(add, r.id);
        Drop(remove, r.id);
        remove.push_back(r);
      }
    }
  }
  void Replace(std::vector<service::MemberRef> refs) {
    replacement = std::move(refs);
    add.clear();
    remove.clear();
  }
  bool touched() const { return replacement || !add.empty() || !remove.empty(); }
};

// The ids a value filter picks when it is `value eq "id"` (or an `or` of them): Entra
// ID's and Okta's member removal. Anything else: nullopt (the filter is evaluated).
std::optional<std::vector<std::string>> IdsOfFilter(const query::Node& n) {
  if (n.kind == query::Node::Kind::kCompare && n.op == query::Op::kEq && n.path.names.size() == 1 &&
      n.path.names.front() == "value" && n.value.kind == query::Literal::Kind::kString)
    return std::vector<std::string>{n.value.text};
  if (n.kind != query::Node::Kind::kOr) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& c : n.children) {
    auto ids = IdsOfFilter(c);
    if (!ids) return std::nullopt;
    out.insert(out.end(), ids->begin(), ids->end());
  }
  return out;
}

bool IsMembers(const PatchPath& p) {
  return (p.urn.empty() || IEquals(p.urn, kGroupSchema)) && IEquals(p.attr, "members");
}

struct GroupPatch {
  std::vector<PatchOperation> attribute_ops;  // displayName, externalId (and what is refused)
  MemberPlan members;
};

// The members as the plan has left them so far, over `current` (read when a filter
// other than `value eq` must be evaluated against the members themselves).
std::vector<GroupMember> Materialise(const std::vector<GroupMember>& current, const MemberPlan& plan) {
  std::vector<GroupMember> out;
  const auto known = [&](const std::string& id) -> std::optional<GroupMember> {
    for (const auto& m : current)
      if (m.id == id) return m;
    return std::nullopt;
  };
  const auto of = [&](const service::MemberRef& r) {
    if (auto m = known(r.id)) return *m;
    return GroupMember{r.id, r.type.value_or(service::MemberType::kUser), {}};
  };
  if (plan.replacement) {
    for (const auto& r : *plan.replacement) out.push_back(of(r));
    return out;
  }
  for (const auto& m : current)
    if (std::none_of(plan.remove.begin(), plan.remove.end(), [&](const auto& r) { return r.id == m.id; }))
      out.push_back(m);
  for (const auto& r : plan.add)
    if (std::none_of(out.begin(), out.end(), [&](const GroupMember& m) { return m.id == r.id; })) out.push_back(of(r));
  return out;
}

// Splits a PatchOp into the group's attribute operations and a member plan. `current`
// reads the members when an operation needs them (a value filter on members other than
// `value eq "id"`); `read_members` is set then, so the write pins the version read.
Outcome<GroupPatch> PlanPatch(const Context& ctx, const std::vector<PatchOperation>& ops,
                              const std::function<Outcome<std::vector<GroupMember>>()>& current, bool& read_members) {
  GroupPatch plan;
  using Op = PatchOperation::Op;
  const PatchTarget target{kGroupSchema, {}, {"id", "meta"}};
  for (const auto& op : ops) {
    if (!op.path) {
      // No path: the value's attributes, each as if it were the path.
      if (!op.value.is_object()) return Fail(BadRequest("invalidValue", "an operation without a path needs an object value"));
      json::object rest;
      for (const auto& [k, v] : op.value.get_object()) {
        if (IEquals(k, "members")) {
          auto refs = MemberRefsOf(v);
          if (!refs) return Fail(refs.error());
          if (op.op == Op::kReplace) plan.members.Replace(std::move(*refs));
          else if (op.op == Op::kAdd) plan.members.Add(*refs);
          else plan.members.Remove(*refs);
        } else if (IEquals(k, "id") || IEquals(k, "schemas") || IEquals(k, "meta")) {
          continue;  // Entra ID sends the id back with a no-path Replace
        } else if (IEquals(k, "displayName") || IEquals(k, "externalId")) {
          rest[k] = v;
        } else {
          return Fail(BadRequest("invalidPath", "a Group has no attribute '" + std::string(k) + "'"));
        }
      }
      if (!rest.empty()) plan.attribute_ops.push_back(PatchOperation{op.op, std::nullopt, std::move(rest)});
      continue;
    }
    // ParsePatch keeps the path's text; it is parsed against the resource here (and again
    // by ApplyPatch for the operations passed on to it).
    auto parsed = ParsePatchPath(op.path->attr, &target);
    if (!parsed) return Fail(parsed.error());
    const PatchPath& p = *parsed;
    if (!IsMembers(p)) {
      const bool known = (p.urn.empty() || IEquals(p.urn, kGroupSchema)) &&
                         (IEquals(p.attr, "displayName") || IEquals(p.attr, "externalId") ||
                          IEquals(p.attr, "id") || IEquals(p.attr, "meta"));
      if (!known) return Fail(BadRequest("invalidPath", "a Group has no attribute '" + p.attr + "'"));
      plan.attribute_ops.push_back(op);
      continue;
    }
    if (!p.sub.empty() && !(p.filter && op.op == Op::kRemove))
      return Fail(BadRequest("mutability", "members." + p.sub + " cannot be changed; add or remove the member"));
    if (!p.filter) {
      if (op.op == Op::kRemove && (op.value.is_null() || (op.value.is_array() && op.value.get_array().empty()))) {
        plan.members.Replace({});  // remove "members": all of them
        continue;
      }
      auto refs = MemberRefsOf(op.value);
      if (!refs) return Fail(refs.error());
      if (op.op == Op::kReplace) plan.members.Replace(std::move(*refs));
      else if (op.op == Op::kAdd) plan.members.Add(*refs);
      else plan.members.Remove(*refs);
      continue;
    }
    // A value filter: members[value eq "id"] (Entra ID, Okta) without reading anything.
    if (op.op == Op::kRemove && p.sub.empty()) {
      if (auto ids = IdsOfFilter(*p.filter)) {
        std::vector<service::MemberRef> refs;
        for (auto& id : *ids) refs.push_back({std::move(id), std::nullopt});
        plan.members.Remove(refs);
        continue;
      }
    }
    // Any other filter is evaluated on the members as they stand (the patch engine's own
    // semantics); the result replaces them.
    auto members = current();
    if (!members) return Fail(members.error());
    read_members = true;
    json::object doc;
    json::array a;
    for (const auto& m : Materialise(*members, plan.members)) a.push_back(MemberJson(ctx, m));
    doc["members"] = std::move(a);
    if (auto st = ApplyPatch(doc, {op}, target); !st) return Fail(st.error());
    std::vector<service::MemberRef> refs;
    if (const auto* after = doc.if_contains("members"); after != nullptr) {
      auto parsed = MemberRefsOf(*after);
      if (!parsed) return Fail(parsed.error());
      refs = std::move(*parsed);
    }
    plan.members.Replace(std::move(refs));
  }
  return plan;
}

// ---- searching ---------------------------------------------------------------------------

bool MentionsMembers(const query::Node& n) {
  if (!n.path.names.empty() && n.path.names.front() == "members") return true;
  return std::any_of(n.children.begin(), n.children.end(), MentionsMembers);
}

bool InGroupSchema(const query::AttrPath& p) {
  static const std::string urn = [] {
    std::string s(kGroupSchema);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  }();
  return p.schema.empty() || p.schema == urn;
}

// The values of a group's attribute, as the query engine compares them (RFC 7643 §4.2:
// displayName is caseExact false; id, externalId and member values are caseExact).
query::Values Resolve(const service::Record& g, const std::vector<GroupMember>* members, const query::AttrPath& path) {
  if (path.names.empty() || !InGroupSchema(path)) return {};
  const std::string& top = path.names.front();
  query::Values values;
  if (top == "id") {
    values.push_back(query::Text(g.id, true));
  } else if (top == "displayname") {
    values.push_back(query::Text(service::GroupName(g)));
  } else if (top == "externalid") {
    if (auto ext = ExternalIdOf(g)) values.push_back(query::Text(*ext, true));
  } else if (top == "meta") {
    query::Value meta;
    meta.type = query::Value::Type::kComplex;
    meta.members = {{"created", query::DateTime(g.created_at_ms)},
                    {"lastmodified", query::DateTime(g.updated_at_ms)},
                    {"resourcetype", query::Text("Group", true)},
                    {"version", query::Text("W/\"" + std::to_string(g.version) + "\"", true)}};
    values.push_back(std::move(meta));
  } else if (top == "members" && members != nullptr) {
    for (const auto& m : *members) {
      query::Value v;
      v.type = query::Value::Type::kComplex;
      v.members = {{"value", query::Text(m.id, true)},
                   {"type", query::Text(m.type == service::MemberType::kUser ? "User" : "Group")},
                   {"display", query::Text(m.display)}};
      values.push_back(std::move(v));
    }
  }
  if (path.names.size() == 1) return values;
  query::Values out;
  for (const auto& v : values)
    for (const auto& m : v.members)
      if (m.name == path.names[1]) out.push_back(m.value);
  return out;
}

// A narrower set of candidates than every group, when the filter requires one equality
// the directory indexes: displayName (the unique name), id, or a member's id.
Outcome<std::optional<std::vector<service::Record>>> Candidates(const Context& ctx, const query::Node& n) {
  using K = query::Node::Kind;
  if (n.kind == K::kAnd) {
    for (const auto& c : n.children) {
      auto narrowed = Candidates(ctx, c);
      if (!narrowed || *narrowed) return narrowed;
    }
    return std::optional<std::vector<service::Record>>();
  }
  if (n.kind == K::kValuePath && n.path.names == std::vector<std::string>{"members"} && InGroupSchema(n.path)) {
    if (auto ids = IdsOfFilter(n.children.front()); ids && ids->size() == 1) {
      query::Node eq = query::Compare(query::Path("members.value"), query::Op::kEq, query::String(ids->front()));
      return Candidates(ctx, eq);
    }
  }
  if (n.kind != K::kCompare || n.op != query::Op::kEq || n.value.kind != query::Literal::Kind::kString ||
      !InGroupSchema(n.path))
    return std::optional<std::vector<service::Record>>();
  auto groups = Groups(ctx);
  std::vector<service::Record> out;
  const std::string& value = n.value.text;
  if (n.path.names == std::vector<std::string>{"displayname"}) {
    auto found = groups.FindByName(value);
    if (!found) return Fail(GroupFail(found.error()));
    if (*found) out.push_back(std::move(**found));
    return std::optional<std::vector<service::Record>>(std::move(out));
  }
  if (n.path.names == std::vector<std::string>{"id"}) {
    auto g = groups.Get(value);
    if (g) out.push_back(std::move(*g));
    else if (g.error().code != ErrorCode::kNotFound) return Fail(GroupFail(g.error()));
    return std::optional<std::vector<service::Record>>(std::move(out));
  }
  if (n.path.names == std::vector<std::string>{"members", "value"}) {
    // The groups the id is a direct member of, whether it is a user's or a group's.
    auto of_user = ctx.s.records.MembershipsOf(ctx.principal.environment_id, value, service::kGroupKind);
    if (of_user) return std::optional<std::vector<service::Record>>(std::move(*of_user));
    if (of_user.error().code != ErrorCode::kNotFound) return Fail(GroupFail(of_user.error()));
    auto of_group = groups.GroupsOfGroup(value);
    if (!of_group) {
      if (of_group.error().code != ErrorCode::kNotFound) return Fail(GroupFail(of_group.error()));
      return std::optional<std::vector<service::Record>>(std::move(out));
    }
    for (auto& c : of_group->groups)
      if (c.direct()) out.push_back(std::move(c.record));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
    return std::optional<std::vector<service::Record>>(std::move(out));
  }
  return std::optional<std::vector<service::Record>>();
}

}  // namespace

// ---- operations ----------------------------------------------------------------------------

Result CreateGroup(const Context& ctx, const json::object& body) {
  auto in = ReadGroup(body);
  if (!in) return Fail(in.error());
  service::Record g;
  ApplyFields(g, in->display_name, in->external_id);
  auto created = Groups(ctx).Create(std::move(g.body), in->members);
  if (!created) return Fail(GroupFail(created.error()));
  auto resource = RenderGroup(ctx, *created, {});
  if (!resource) return Fail(resource.error());
  return GroupReply(ctx, 201, std::move(*resource), *created, true);
}

Result GetGroup(const Context& ctx, const std::string& id, const Projection& projection) {
  auto g = Groups(ctx).Get(id);
  if (!g) return Fail(GroupFail(g.error()));
  auto resource = RenderGroup(ctx, *g, projection);
  if (!resource) return Fail(resource.error());
  return GroupReply(ctx, 200, std::move(*resource), *g, false);
}

Result ReplaceGroup(const Context& ctx, const std::string& id, const json::object& body,
                    const Precondition& precondition) {
  auto in = ReadGroup(body);
  if (!in) return Fail(in.error());
  auto expected = Expected(ctx, id, precondition);
  if (!expected) return Fail(expected.error());
  auto updated = Groups(ctx).Update(
      id,
      [&](service::Record& g) -> core::Status {
        ApplyFields(g, in->display_name, in->external_id);
        return {};
      },
      *expected, in->members);
  if (!updated) return Fail(GroupFail(updated.error()));
  auto resource = RenderGroup(ctx, *updated, {});
  if (!resource) return Fail(resource.error());
  return GroupReply(ctx, 200, std::move(*resource), *updated, false);
}

Result PatchGroup(const Context& ctx, const std::string& id, const json::object& body,
                  const Precondition& precondition) {
  auto ops = ParsePatch(body);
  if (!ops) return Fail(ops.error());
  auto expected = Expected(ctx, id, precondition);
  if (!expected) return Fail(expected.error());
  auto groups = Groups(ctx);
  // A plan read from the members pins the version it read; without the caller's
  // If-Match, a concurrent change just means planning again.
  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto current = groups.Get(id);
    if (!current) return Fail(GroupFail(current.error()));
    if (*expected && **expected != current->version) return Fail(FromCore(core::VersionMismatch("group").error()));
    bool read_members = false;
    auto plan = PlanPatch(
        ctx, *ops, [&] { return MembersOf(ctx, id); }, read_members);
    if (!plan) return Fail(plan.error());
    // displayName and externalId: the patch engine over just those two.
    json::object doc{{"schemas", json::array{kGroupSchema}}, {"displayName", service::GroupName(*current)}};
    if (auto ext = ExternalIdOf(*current)) doc["externalId"] = *ext;
    if (!plan->attribute_ops.empty()) {
      const PatchTarget target{kGroupSchema, {}, {"id", "meta"}};
      if (auto st = ApplyPatch(doc, plan->attribute_ops, target); !st) return Fail(st.error());
    }
    const auto* name = Member(doc, "displayName");
    if (name == nullptr || !name->is_string() || name->get_string().empty())
      return Fail(BadRequest("invalidValue", "displayName is required and must be a string"));
    std::optional<std::string> external_id;
    if (const auto* ext = Member(doc, "externalId"); ext != nullptr && !ext->is_null()) {
      if (!ext->is_string()) return Fail(BadRequest("invalidValue", "externalId must be a string"));
      external_id = std::string(ext->get_string());
    }
    const std::string display_name(name->get_string());
    std::optional<std::int64_t> pin = *expected;
    if (!pin && read_members) pin = current->version;
    auto updated = groups.Update(
        id,
        [&](service::Record& g) -> core::Status {
          ApplyFields(g, display_name, external_id);
          return {};
        },
        pin, plan->members.replacement, service::MemberEdits{plan->members.add, plan->members.remove});
    if (!updated && updated.error().code == ErrorCode::kVersionMismatch && !*expected) continue;
    if (!updated) return Fail(GroupFail(updated.error()));
    auto resource = RenderGroup(ctx, *updated, {});
    if (!resource) return Fail(resource.error());
    return GroupReply(ctx, 200, std::move(*resource), *updated, false);
  }
  return Fail(Error{503, {}, "The group is being changed by others; retry"});
}

Result DeleteGroup(const Context& ctx, const std::string& id, const Precondition& precondition) {
  auto expected = Expected(ctx, id, precondition);
  if (!expected) return Fail(expected.error());
  if (auto st = Groups(ctx).Delete(id, *expected); !st) return Fail(GroupFail(st.error()));
  return Reply{204, nullptr, {}, std::nullopt};
}

Result SearchGroups(const Context& ctx, const Search& search) {
  auto compiled = Compile(search);
  if (!compiled) return Fail(compiled.error());
  const std::optional<query::Node>& filter = compiled->filter;
  const std::optional<query::AttrPath>& sort_path = compiled->sort_path;
  const bool filter_members = filter && MentionsMembers(*filter);
  auto groups = Groups(ctx);

  // Candidates: an indexed equality the filter requires, or every group (bounded).
  std::vector<service::Record> candidates;
  bool narrowed = false;
  if (filter) {
    auto c = Candidates(ctx, *filter);
    if (!c) return Fail(c.error());
    if (*c) {
      candidates = std::move(**c);
      narrowed = true;
    }
  }
  std::vector<std::pair<service::Record, std::optional<std::vector<GroupMember>>>> matches;
  const auto consider = [&](service::Record g) -> Outcome<void> {
    std::optional<std::vector<GroupMember>> members;
    if (filter_members) {
      auto m = MembersOf(ctx, g.id);
      if (!m) return Fail(m.error());
      members = std::move(*m);
    }
    if (filter && !query::MatchesResolved(*filter, [&](const query::AttrPath& p) {
          return Resolve(g, members ? &*members : nullptr, p);
        }))
      return {};
    matches.emplace_back(std::move(g), std::move(members));
    return {};
  };
  if (narrowed) {
    for (auto& g : candidates)
      if (auto st = consider(std::move(g)); !st) return Fail(st.error());
  } else {
    std::int64_t after = 0;
    int read = 0;
    for (;;) {
      auto page = groups.List(after, kScanPage);
      if (!page) return Fail(GroupFail(page.error()));
      for (auto& g : *page) {
        after = g.number;
        if (++read > kGroupListBudget)
          return Fail(BadRequest("tooMany", "More groups than one request may examine (" +
                                                std::to_string(kGroupListBudget) + "); narrow the filter"));
        if (auto st = consider(std::move(g)); !st) return Fail(st.error());
      }
      if (static_cast<int>(page->size()) < kScanPage) break;
    }
  }
  if (sort_path) {
    std::vector<std::optional<query::Value>> keys;
    for (const auto& [g, members] : matches) {
      auto values = Resolve(g, members ? &*members : nullptr, *sort_path);
      keys.push_back(values.empty() || values.front().type == query::Value::Type::kComplex
                         ? std::nullopt
                         : std::optional<query::Value>(values.front()));
    }
    std::vector<std::size_t> order(matches.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      if (!keys[a] || !keys[b]) return keys[a].has_value() && !keys[b].has_value();
      const int c = CompareSortValues(*keys[a], *keys[b]);
      return search.descending ? c > 0 : c < 0;
    });
    decltype(matches) sorted;
    sorted.reserve(matches.size());
    for (auto i : order) sorted.push_back(std::move(matches[i]));
    matches = std::move(sorted);
  }
  const std::int64_t total = static_cast<std::int64_t>(matches.size());
  std::vector<json::value> resources;
  const bool wants_members = WantsMembers(search.projection);
  for (std::int64_t i = search.page.start_index - 1; i < total && static_cast<int>(resources.size()) < search.page.count;
       ++i) {
    auto& [g, members] = matches[static_cast<std::size_t>(i)];
    if (wants_members && !members) {
      auto m = MembersOf(ctx, g.id);
      if (!m) return Fail(m.error());
      members = std::move(*m);
    }
    json::object r = Resource(ctx, g, wants_members ? &*members : nullptr);
    Project(r, search.projection, kGroupSchema);
    resources.push_back(std::move(r));
  }
  return Reply{200, ListResponse(std::move(resources), total, search.page.start_index), {}, std::nullopt};
}

}  // namespace roster::dialects::scim
