// /Users: create, read, replace, patch, delete, list and .search, through the core's
// UserAccess (authority, PHI) and query engine (filters, bounded work).
#include <boost/json.hpp>

#include <algorithm>

#include "dialects/scim/mapping.h"
#include "dialects/scim/patch.h"
#include "dialects/scim/resources.h"
#include "query/scim.h"
#include "service/attribute_schema.h"
#include "service/groups.h"

namespace roster::dialects::scim {
namespace json = boost::json;
using core::ErrorCode;

namespace {

// Read-only attributes of a User: a PATCH naming them is 400 mutability.
constexpr std::string_view kUserReadOnly[] = {"id", "meta", "groups"};

Outcome<core::AttributeSchema> SchemaOf(const Context& ctx) {
  auto schema = service::LoadAttributeSchema(ctx.s.records, ctx.principal.environment_id);
  if (!schema) return Fail(FromCore(schema.error()));
  return std::move(*schema);
}

// Direct and indirect (through nested groups), bounded as GroupAccess::GroupsOfUser is.
Outcome<std::vector<GroupRef>> GroupsOf(const Context& ctx, const std::string& user_id) {
  auto groups = ctx.s.records.ListContainers(ctx.principal.environment_id, user_id, false, service::kGroupKind,
                                             service::kMaxGroupDepth, service::kMaxContainingGroups);
  if (!groups) return Fail(FromCore(groups.error()));
  std::vector<GroupRef> out;
  for (const auto& g : *groups) out.push_back({g.record.id, service::GroupName(g.record), g.direct()});
  return out;
}

Outcome<json::object> Resource(const Context& ctx, const core::User& user, const core::AttributeSchema& schema) {
  RenderContext rc{ctx.base, &schema, {}};
  auto groups = GroupsOf(ctx, user.id);
  if (!groups) return Fail(groups.error());
  rc.groups = std::move(*groups);
  return UserResource(user, rc);
}

Reply UserReply(const Context& ctx, int status, json::object resource, const core::User& user, bool with_location) {
  Reply r{status, std::move(resource), {}, user.version};
  if (with_location) r.location = ctx.UserLocation(user.id);
  return r;
}

}  // namespace

// ---- search requests -------------------------------------------------------------

Outcome<Search> SearchFromQuery(const std::map<std::string, std::string>& query) {
  Search s;
  const auto get = [&](std::string_view name) -> std::string {
    for (const auto& [k, v] : query)
      if (IEquals(k, name)) return v;
    return {};
  };
  s.filter = get("filter");
  s.sort_by = get("sortBy");
  const std::string order = get("sortOrder");
  if (!order.empty() && !IEquals(order, "ascending") && !IEquals(order, "descending"))
    return Fail(BadRequest("invalidValue", "sortOrder must be ascending or descending"));
  s.descending = IEquals(order, "descending");
  auto page = ParsePage(get("startIndex"), get("count"));
  if (!page) return Fail(page.error());
  s.page = *page;
  auto projection = ParseProjection(get("attributes"), get("excludedAttributes"));
  if (!projection) return Fail(projection.error());
  s.projection = std::move(*projection);
  return s;
}

Outcome<Search> SearchFromBody(const json::object& body) {
  if (auto st = RequireSchema(body, kSearchRequestSchema); !st) return Fail(st.error());
  std::map<std::string, std::string> query;
  const auto text = [&](std::string_view name) -> Outcome<void> {
    const auto* v = Member(body, name);
    if (v == nullptr || v->is_null()) return {};
    if (v->is_string()) {
      query[std::string(name)] = std::string(v->get_string());
    } else if (v->is_int64() || v->is_uint64()) {
      query[std::string(name)] = json::serialize(*v);
    } else if (v->is_array() && (name == "attributes" || name == "excludedAttributes")) {
      std::string joined;
      for (const auto& e : v->get_array()) {
        if (!e.is_string()) return Fail(BadRequest("invalidValue", std::string(name) + " must list strings"));
        joined += (joined.empty() ? "" : ",") + std::string(e.get_string());
      }
      query[std::string(name)] = joined;
    } else {
      return Fail(BadRequest("invalidValue", std::string(name) + " has the wrong type"));
    }
    return {};
  };
  for (auto name : {"filter", "sortBy", "sortOrder", "startIndex", "count", "attributes", "excludedAttributes"})
    if (auto st = text(name); !st) return Fail(st.error());
  return SearchFromQuery(query);
}

Outcome<CompiledSearch> Compile(const Search& search) {
  CompiledSearch out;
  if (!search.filter.empty()) {
    auto parsed = query::ParseScimFilter(search.filter);
    if (!parsed) return Fail(BadRequest("invalidFilter", parsed.error().message));
    out.filter = std::move(*parsed);
  }
  if (!search.sort_by.empty()) {
    // sortBy is an attribute path: parse it as the left side of a presence test.
    auto parsed = query::ParseScimFilter(search.sort_by + " pr");
    if (!parsed || parsed->kind != query::Node::Kind::kPresent)
      return Fail(BadRequest("invalidValue", "sortBy must name one attribute"));
    out.sort_path = parsed->path;
  }
  return out;
}

int CompareSortValues(const query::Value& a, const query::Value& b) {
  using T = query::Value::Type;
  if (a.type == T::kString && b.type == T::kString) {
    const std::string fa = a.case_exact ? a.text : query::Fold(a.text);
    const std::string fb = b.case_exact ? b.text : query::Fold(b.text);
    return fa.compare(fb) < 0 ? -1 : fa == fb ? 0 : 1;
  }
  if (a.type == T::kBool && b.type == T::kBool) return static_cast<int>(a.boolean) - static_cast<int>(b.boolean);
  if (a.number < b.number) return -1;
  return a.number > b.number ? 1 : 0;
}

// ---- operations -------------------------------------------------------------------

Result CreateUser(const Context& ctx, const json::object& body) {
  if (auto st = RequireSchema(body, kUserSchema); !st) return Fail(st.error());
  auto schema = SchemaOf(ctx);
  if (!schema) return Fail(schema.error());
  service::CreateUserRequest request;
  request.user.active = true;
  auto input = ApplyUserResource(body, request.user, &*schema);
  if (!input) return Fail(input.error());
  request.password = input->password;
  auto created = ctx.Users().Create(std::move(request));
  if (!created) return Fail(FromCore(created.error()));
  auto resource = Resource(ctx, created->user, *schema);
  if (!resource) return Fail(resource.error());
  return UserReply(ctx, 201, std::move(*resource), created->user, true);
}

Result GetUser(const Context& ctx, const std::string& id, const Projection& projection) {
  auto user = ctx.Users().Get(id);
  if (!user) return Fail(FromCore(user.error()));
  auto schema = SchemaOf(ctx);
  if (!schema) return Fail(schema.error());
  auto resource = Resource(ctx, *user, *schema);
  if (!resource) return Fail(resource.error());
  Project(*resource, projection, kUserSchema);
  return UserReply(ctx, 200, std::move(*resource), *user, false);
}

namespace {

// Writes `id` with `apply` run on the user as the caller sees it (PUT and PATCH).
Result WriteUser(const Context& ctx, const std::string& id, const Precondition& precondition,
                 const std::function<Outcome<UserInput>(core::User&, const core::AttributeSchema&)>& apply) {
  auto schema = SchemaOf(ctx);
  if (!schema) return Fail(schema.error());
  auto users = ctx.Users();
  auto expected = ExpectedVersion(precondition, [&] { return users.VersionOf(id); });
  if (!expected) return Fail(FromCore(expected.error()));
  service::WriteOptions options;
  options.expected_version = *expected;
  std::optional<Error> failure;
  std::optional<std::string> password;
  // The password is known only once the body is applied; the body does not change
  // between retries, so a first application outside the write finds it.
  {
    auto current = users.Get(id);
    if (!current) return Fail(FromCore(current.error()));
    core::User probe = *current;
    auto input = apply(probe, *schema);
    if (!input) return Fail(input.error());
    password = input->password;
  }
  auto updated = users.Update(
      id,
      [&](core::User& u) -> core::Status {
        auto input = apply(u, *schema);
        if (!input) {
          failure = input.error();
          return core::InvalidArgument("", "refused");
        }
        return {};
      },
      password, options);
  if (failure) return Fail(*failure);
  if (!updated) return Fail(FromCore(updated.error()));
  auto resource = Resource(ctx, *updated, *schema);
  if (!resource) return Fail(resource.error());
  return UserReply(ctx, 200, std::move(*resource), *updated, false);
}

}  // namespace

Result ReplaceUser(const Context& ctx, const std::string& id, const json::object& body,
                   const Precondition& precondition) {
  if (auto st = RequireSchema(body, kUserSchema); !st) return Fail(st.error());
  return WriteUser(ctx, id, precondition, [&](core::User& u, const core::AttributeSchema& schema) {
    return ApplyUserResource(body, u, &schema);
  });
}

PatchTarget UserPatchTarget() {
  return PatchTarget{kUserSchema, {kEnterpriseSchema, kHealthSchema, kAttributesSchema},
                     std::vector<std::string_view>(std::begin(kUserReadOnly), std::end(kUserReadOnly)),
                     {{"employeeNumber", kEnterpriseSchema},
                      {"costCenter", kEnterpriseSchema},
                      {"organization", kEnterpriseSchema},
                      {"division", kEnterpriseSchema},
                      {"department", kEnterpriseSchema},
                      {"manager", kEnterpriseSchema}}};
}

Result PatchUser(const Context& ctx, const std::string& id, const json::object& body,
                 const Precondition& precondition) {
  auto ops = ParsePatch(body);
  if (!ops) return Fail(ops.error());
  const PatchTarget target = UserPatchTarget();
  return WriteUser(ctx, id, precondition,
                   [&](core::User& u, const core::AttributeSchema& schema) -> Outcome<UserInput> {
                     json::object resource = UserResource(u, RenderContext{ctx.base, &schema, {}});
                     resource.erase("meta");
                     if (auto st = ApplyPatch(resource, *ops, target); !st) return Fail(st.error());
                     return ApplyUserResource(resource, u, &schema);
                   });
}

Result DeleteUser(const Context& ctx, const std::string& id, const Precondition& precondition) {
  auto users = ctx.Users();
  auto expected = ExpectedVersion(precondition, [&] { return users.VersionOf(id); });
  if (!expected) return Fail(FromCore(expected.error()));
  service::WriteOptions options;
  options.expected_version = *expected;
  if (auto st = users.Delete(id, options); !st) return Fail(FromCore(st.error()));
  return Reply{204, nullptr, {}, std::nullopt};
}

namespace {

// The value a user sorts by (RFC 7644 §3.4.2.3): the first value of the attribute (the
// primary one of a multi-valued attribute), compared as the evaluator orders them;
// users without one sort last in either order.
std::optional<query::Value> SortKey(const core::User& user, const query::AttrPath& path) {
  query::Values values = query::Resolve(user, path);
  if (values.empty()) return std::nullopt;
  for (const auto& v : values)
    if (v.type == query::Value::Type::kComplex)
      for (const auto& m : v.members)
        if (m.name == "primary" && m.value.boolean) {
          for (const auto& n : v.members)
            if (n.name == "value") return n.value;
        }
  const query::Value& first = values.front();
  if (first.type == query::Value::Type::kComplex) {
    for (const auto& m : first.members)
      if (m.name == "value") return m.value;
    return std::nullopt;
  }
  return first;
}


}  // namespace

Result SearchUsers(const Context& ctx, const Search& search) {
  auto compiled = Compile(search);
  if (!compiled) return Fail(compiled.error());
  const std::optional<query::Node>& filter = compiled->filter;
  const std::optional<query::AttrPath>& sort_path = compiled->sort_path;
  auto schema = SchemaOf(ctx);
  if (!schema) return Fail(schema.error());
  auto users = ctx.Users();

  std::vector<core::User> page;
  std::int64_t total = 0;
  const std::int64_t skip = search.page.start_index - 1;
  if (!sort_path && !filter) {
    // Every user, in creation (keyset) order: the total is the index's count and the
    // page starts at the number found at startIndex - 1, so a page costs the same at any
    // depth and any size (an identity provider's import walks every page). Archived
    // (CommCare-retired) users are counted in both but never returned.
    auto count = users.Count();
    if (!count) return Fail(FromCore(count.error()));
    total = *count;
    if (search.page.count > 0 && skip < total) {
      auto start = users.NumberAt(skip);
      if (!start) return Fail(FromCore(start.error()));
      if (*start > 0) {
        service::UserQuery q;
        q.after = *start - 1;
        q.page_size = search.page.count;
        q.budget = kListBudget;
        auto result = users.Query(q);
        if (!result) return Fail(FromCore(result.error()));
        page = std::move(result->users);
      }
    }
  } else if (!sort_path) {
    // Creation (keyset) order: the engine skips to startIndex and counts the rest.
    service::UserQuery q;
    q.filter = filter ? &*filter : nullptr;
    q.page_size = std::max(search.page.count, 1);
    q.skip = skip;
    q.count = true;
    q.budget = kListBudget;
    auto result = users.Query(q);
    if (!result) return Fail(FromCore(result.error()));
    if (result->budget_hit)
      return Fail(BadRequest("tooMany", "The filter matches more users than one request may examine (" +
                                            std::to_string(kListBudget) + "); narrow it"));
    total = result->matched;
    page = std::move(result->users);
    if (search.page.count == 0) page.clear();
  } else {
    // Sorted: every match is read (within the budget), sorted, then the page is cut.
    service::UserQuery q;
    q.filter = filter ? &*filter : nullptr;
    q.page_size = kMaxResults;
    q.budget = kListBudget;
    std::vector<core::User> all;
    std::int64_t after = 0;
    int rows = 0;
    while (true) {
      q.after = after;
      q.budget = kListBudget - rows;
      auto result = users.Query(q);
      if (!result) return Fail(FromCore(result.error()));
      rows += static_cast<int>(result->rows_read);
      for (auto& u : result->users) all.push_back(std::move(u));
      if (result->next_after == 0) break;
      if (result->budget_hit || rows >= kListBudget || all.size() > static_cast<std::size_t>(kListBudget))
        return Fail(BadRequest("tooMany", "Sorting reads every match; the filter matches more users than one "
                                          "request may examine (" + std::to_string(kListBudget) + "); narrow it"));
      after = result->next_after;
    }
    std::vector<std::pair<std::optional<query::Value>, std::size_t>> keys;
    keys.reserve(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) keys.emplace_back(SortKey(all[i], *sort_path), i);
    std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
      if (!a.first || !b.first) return a.first.has_value() && !b.first.has_value();
      const int c = CompareSortValues(*a.first, *b.first);
      return search.descending ? c > 0 : c < 0;
    });
    total = static_cast<std::int64_t>(all.size());
    for (std::int64_t i = skip; i < total && static_cast<int>(page.size()) < search.page.count; ++i)
      page.push_back(std::move(all[keys[static_cast<std::size_t>(i)].second]));
  }
  std::vector<json::value> resources;
  resources.reserve(page.size());
  for (const auto& u : page) {
    auto resource = Resource(ctx, u, *schema);
    if (!resource) return Fail(resource.error());
    Project(*resource, search.projection, kUserSchema);
    resources.push_back(std::move(*resource));
  }
  return Reply{200, ListResponse(std::move(resources), total, search.page.start_index), {}, std::nullopt};
}

}  // namespace roster::dialects::scim
