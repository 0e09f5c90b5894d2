// Users: create (plain and import), read, list (filter, cursor paging), replace (PUT),

#include "core/json_policy.h"
// merge (PATCH), delete, and the enabled / mfaEnabled / population sub-resources.
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#include "core/rules.h"
#include "crypto/legacy_password.h"
#include "dialects/pingone/common.h"
#include "dialects/pingone/filter.h"
#include "dialects/pingone/mapping.h"
#include "dialects/pingone/schema.h"
#include "http/etag.h"
#include "service/groups.h"

namespace roster::dialects::pingone {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr const char* kImportType = "application/vnd.pingidentity.user.import+json";
constexpr const char* kLockType = "application/vnd.pingidentity.account.lock+json";
constexpr const char* kUnlockType = "application/vnd.pingidentity.account.unlock+json";
constexpr int kDefaultUserPage = 100;
constexpr int kMaxUserPage = 1000;

// The user attributes a filter may name (lower-case), as PingOne documents them: eq and
// sw on each, besides the environment's enabled custom STRING attributes; ew on kEndsWith.
const std::set<std::string, std::less<>> kFilterable = {
    "id", "username", "email", "externalid", "accountid", "population.id", "memberofgroups.id",
    "name.given", "name.family", "name.middle", "name.formatted", "name.honorificprefix", "name.honorificsuffix",
    "nickname", "title", "type", "locale", "timezone", "preferredlanguage", "mobilephone", "primaryphone",
    "photo.href", "address.streetaddress", "address.locality", "address.region", "address.postalcode",
    "address.countrycode", "enabled", "mfaenabled", "lifecycle.status"};
const std::set<std::string, std::less<>> kEndsWith = {"email", "name.given", "name.family"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// A conflict names the claim kind (service/user_service.h); PingOne names the attribute.
ApiError UserWriteError(const core::Error& e, const Schema* schema = nullptr) {
  if (e.code == ErrorCode::kAlreadyExists) {
    std::string target;
    if (e.field == service::kUsernameClaim) target = "username";
    else if (e.field == service::kExternalIdClaim) target = "externalId";
    else if (schema != nullptr)
      for (const auto& a : schema->custom)
        if (core::AttributeClaimKind(a.id) == e.field) target = a.name;
    if (!target.empty())
      return InvalidValue(target, target + " must be unique within the environment; the value is already in use",
                          "UNIQUENESS_VIOLATION");
  }
  if (e.code == ErrorCode::kNotFound) return NotFoundError();
  return FromCore(e);
}

// Everything needed to render users of one environment.
struct Renderer {
  State& st;
  const Call& call;
  Schema schema;
  std::optional<service::Record> default_population;
  bool group_ids = false;    // include=memberOfGroupIDs
  bool group_names = false;  // include=memberOfGroupNames

  Outcome<json::object> Render(const core::User& user, const std::string& known_population = {}) const {
    std::string population = known_population;
    if (population.empty()) {
      auto p = PopulationOf(st, call.env, user.id, default_population);
      if (!p) return Fail(FromCore(p.error()));
      population = *p;
    }
    WireContext ctx{call.env, call.EnvUrl(), population, &schema, st.s.clock.NowMillis()};
    json::object wire = UserWire(user, ctx);
    if (group_ids || group_names) {
      // Every group the user is in, directly or through groups.
      auto groups = service::GroupAccess(st.s.records, st.s.users, call.principal).GroupsOfUser(user.id);
      if (!groups) return Fail(FromCore(groups.error()));
      json::array ids, names;
      for (const auto& c : groups->groups) {
        ids.emplace_back(c.record.id);
        names.emplace_back(service::GroupName(c.record));
      }
      if (group_ids) wire["memberOfGroupIDs"] = std::move(ids);
      if (group_names) wire["memberOfGroupNames"] = std::move(names);
    }
    return wire;
  }
};

Outcome<Renderer> MakeRenderer(State& st, const Call& call) {
  auto schema = LoadSchema(st, call.env);
  if (!schema) return Fail(FromCore(schema.error()));
  auto fallback = FindDefaultPopulation(st, call.env);
  if (!fallback) return Fail(FromCore(fallback.error()));
  Renderer renderer{st, call, std::move(*schema), std::move(*fallback)};
  // include=memberOfGroupIDs,memberOfGroupNames (comma-separated) on reads and lists.
  auto query = ParseQuery(call.req->query);
  if (!query) return Fail(query.error());
  if (auto it = query->find("include"); it != query->end()) {
    std::string_view rest = it->second;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      if (item == "memberOfGroupIDs") renderer.group_ids = true;
      else if (item == "memberOfGroupNames") renderer.group_names = true;
      else return Fail(InvalidValue("include", "include takes memberOfGroupIDs and memberOfGroupNames"));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  return renderer;
}

Outcome<std::string> ChooseImportedHash(const std::string& value, const std::string& username,
                                        service::CreateUserRequest& request) {
  if (IsEncodedPassword(value)) {
    if (auto st = crypto::CheckLegacyPasswordFormat(value); !st)
      return Fail(InvalidValue("password.value", st.error().message));
    request.imported_password_hash = value;
    return std::string("OK");
  }
  if (auto st = CheckPasswordPolicy(value, username, "password.value"); !st) return Fail(st.error());
  request.password = value;
  return std::string("OK");
}

Outcome<http::Response> Create(State& st, const Call& call) {
  const std::string media = MediaType(*call.req);
  const bool import = media == kImportType;
  if (!import && media != "application/json")
    return Fail(UnsupportedMediaType("Send application/json to create a user, or " + std::string(kImportType) +
                                     " to import one with a password."));
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  auto renderer = MakeRenderer(st, call);
  if (!renderer) return Fail(renderer.error());

  service::CreateUserRequest request;
  request.environment_id = call.env;
  request.user.active = true;
  auto asked = ApplyUser(*body, request.user, WriteMode::kCreate, renderer->schema, import);
  if (!asked) return Fail(asked.error());
  if (asked->enabled) request.user.active = *asked->enabled;

  std::string population;
  if (asked->population_id) {
    auto p = st.s.records.Get(call.env, kPopulationKind, *asked->population_id);
    if (!p) {
      if (p.error().code == ErrorCode::kNotFound)
        return Fail(InvalidValue("population.id", "population.id does not name a population of this environment"));
      return Fail(FromCore(p.error()));
    }
    population = p->id;
  } else {
    auto d = EnsureDefaultPopulation(st, call.env);
    if (!d) return Fail(FromCore(d.error()));
    population = d->id;
    renderer->default_population = *d;
  }
  request.member_of = {{kPopulationKind, population}};

  if (asked->password) {
    auto chosen = ChooseImportedHash(*asked->password, request.user.username, request);
    if (!chosen) return Fail(chosen.error());
    json::object state = PingOneState(request.user);
    state["passwordStatus"] = asked->force_change ? "MUST_CHANGE_PASSWORD" : "OK";
    SetPingOneState(request.user, state);
  }

  auto created = Users(st, call).Create(request);
  if (!created) return Fail(UserWriteError(created.error(), &renderer->schema));
  auto wire = renderer->Render(created->user, population);
  if (!wire) return Fail(wire.error());
  return http::WithETag(JsonResponse(201, *wire), created->user.version);
}

Outcome<http::Response> Read(State& st, const Call& call) {
  auto user = Users(st, call).Get(call.Param("userID"));
  if (!user) return Fail(UserWriteError(user.error()));
  auto renderer = MakeRenderer(st, call);
  if (!renderer) return Fail(renderer.error());
  auto wire = renderer->Render(*user);
  if (!wire) return Fail(wire.error());
  return http::WithETag(JsonResponse(200, *wire), user->version);
}

// PUT (replace) and PATCH (merge).
Outcome<http::Response> Write(State& st, const Call& call, WriteMode mode) {
  if (const std::string media = MediaType(*call.req); media != "application/json" && !media.empty())
    return Fail(UnsupportedMediaType("Send application/json."));
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  const std::string id = call.Param("userID");
  auto options = UserIfMatch(st, call);
  if (!options) return Fail(options.error());
  auto current = Users(st, call).Get(id);
  if (!current) return Fail(UserWriteError(current.error()));
  auto renderer = MakeRenderer(st, call);
  if (!renderer) return Fail(renderer.error());
  auto population = PopulationOf(st, call.env, id, renderer->default_population);
  if (!population) return Fail(FromCore(population.error()));

  std::optional<ApiError> failure;
  auto updated = Users(st, call).Update(
      id,
      [&](core::User& u) -> core::Status {
        const bool enabled = u.active;
        const bool mfa = MfaEnabled(u);
        auto asked = ApplyUser(*body, u, mode, renderer->schema, false);
        if (!asked) {
          failure = asked.error();
          return core::InvalidArgument("body", "invalid user");
        }
        std::vector<Detail> errors;
        if (asked->enabled && *asked->enabled != enabled)
          errors.push_back({"INVALID_VALUE", "enabled", "enabled is changed with PUT /users/{userID}/enabled", {}});
        if (asked->mfa_enabled && *asked->mfa_enabled != mfa)
          errors.push_back(
              {"INVALID_VALUE", "mfaEnabled", "mfaEnabled is changed with PUT /users/{userID}/mfaEnabled", {}});
        if (asked->population_id && *asked->population_id != *population)
          errors.push_back(
              {"INVALID_VALUE", "population.id", "the population is changed with PUT /users/{userID}/population", {}});
        if (!errors.empty()) {
          failure = InvalidData(std::move(errors));
          return core::InvalidArgument("body", "invalid user");
        }
        return {};
      },
      std::nullopt, *options);
  if (failure) return Fail(*failure);
  if (!updated) return Fail(UserWriteError(updated.error(), &renderer->schema));
  auto wire = renderer->Render(*updated, *population);
  if (!wire) return Fail(wire.error());
  return http::WithETag(JsonResponse(200, *wire), updated->version);
}

Outcome<http::Response> Remove(State& st, const Call& call) {
  const std::string id = call.Param("userID");
  auto options = UserIfMatch(st, call);
  if (!options) return Fail(options.error());
  if (auto s = Users(st, call).Delete(id, *options); !s) return Fail(UserWriteError(s.error()));
  return NoContent();
}

// The top-level "<path> eq <id>" (population.id, memberOfGroups.id) a filter requires of
// every match, if any.
std::optional<std::string> RecordHint(const Filter& f, std::string_view path) {
  if (f.kind == Filter::Kind::kAnd) {
    for (const Filter& child : f.children)
      if (auto hint = RecordHint(child, path)) return hint;
    return std::nullopt;
  }
  if (f.kind != Filter::Kind::kComparison || f.comparison.op != FilterOp::kEq) return std::nullopt;
  if (Lower(f.comparison.path) != path) return std::nullopt;
  const auto* value = std::get_if<std::string>(&f.comparison.value);
  if (value == nullptr || !core::IsUuid(Lower(*value))) return std::nullopt;
  return Lower(*value);
}

// How many comparisons of the filter name `path` (lower-case).
std::size_t Mentions(const Filter& f, std::string_view path) {
  if (f.kind == Filter::Kind::kComparison) return Lower(f.comparison.path) == path ? 1 : 0;
  std::size_t n = 0;
  for (const Filter& child : f.children) n += Mentions(child, path);
  return n;
}

// Resolves the kPingOneSchema attributes of ToQuery: id, externalId, population.id and
// the environment's custom attributes, each compared as PingOne does (ignoring case).
// `only_population` / `only_group`: every candidate is a member of it (the engine walks its
// members), so it is not looked up per user.
query::Extension PingOneAttributes(State& st, const Call& call, const Renderer& renderer,
                                   const std::optional<std::string>& only_population,
                                   const std::optional<std::string>& only_group) {
  return [&st, &call, &renderer, only_population, only_group](
             const core::User& u, const query::AttrPath& path) -> std::optional<query::Values> {
    if (path.schema != kPingOneSchema) return std::nullopt;
    const std::string& name = path.names.front();
    query::Values out;
    const auto add = [&](std::string_view text) {
      if (!text.empty()) out.push_back(query::Text(std::string(text)));
    };
    if (name == "id") {
      add(u.id);
    } else if (name == "externalid") {
      add(u.external_id);
    } else if (name == "memberofgroups.id") {
      if (only_group) {
        add(*only_group);
      } else if (auto groups = service::GroupAccess(st.s.records, st.s.users, call.principal).GroupsOfUser(u.id)) {
        for (const auto& c : groups->groups)
          if (c.direct()) add(c.record.id);
      }
    } else if (name == "accountid" || name == "lifecycle.status" || name == "mfaenabled") {
      const json::object state = PingOneState(u);
      if (name == "mfaenabled") {
        out.push_back(query::Boolean(MfaEnabled(u)));
      } else if (name == "lifecycle.status") {
        const auto* v = state.if_contains("lifecycle");
        add(v && v->is_string() ? std::string_view(v->as_string()) : std::string_view("ACCOUNT_OK"));
      } else if (const auto* v = state.if_contains("accountId"); v && v->is_string()) {
        add(v->as_string());
      }
    } else if (name == "photo.href") {
      for (const auto& ph : u.profile.photos)
        if (ph.type == "photo") {
          add(ph.value);
          break;
        }
    } else if (name == "population.id") {
      if (only_population) {
        add(*only_population);  // every candidate is a member of it
      } else if (auto p = PopulationOf(st, call.env, u.id, renderer.default_population)) {
        add(*p);
      }
    } else {
      for (const auto& a : renderer.schema.custom) {
        if (!a.enabled || Lower(a.name) != name) continue;
        const auto it = u.attributes.find(a.id);
        if (it == u.attributes.end()) continue;
        boost::system::error_code ec;
        const json::value v = core::ParseStored(it->second, ec);
        if (ec) continue;
        if (v.is_string()) add(v.as_string());
        if (v.is_array())
          for (const auto& e : v.as_array())
            if (e.is_string()) add(e.as_string());
      }
    }
    return out;
  };
}

// Boolean attributes take eq with true/false, quoted or not; anything else names the
// attribute in PingOne's error shape (never a silent empty result).
Done CheckBooleans(const Filter& f) {
  if (f.kind != Filter::Kind::kComparison) {
    for (const Filter& child : f.children)
      if (auto ok = CheckBooleans(child); !ok) return ok;
    return {};
  }
  const Comparison& c = f.comparison;
  const bool boolean_attribute = IsBooleanUserAttribute(c.path);
  const std::string* text = std::get_if<std::string>(&c.value);
  if (boolean_attribute) {
    const bool ok = c.op == FilterOp::kEq && (!text || Lower(*text) == "true" || Lower(*text) == "false");
    if (!ok)
      return Fail(InvalidValue("filter", "'" + c.path + "' is a boolean: compare it with eq true or eq false",
                               "INVALID_FILTER"));
  } else if (!text) {
    return Fail(InvalidValue("filter", "'" + c.path + "' is a string: compare it with a quoted value",
                             "INVALID_FILTER"));
  }
  return {};
}

Outcome<http::Response> List(State& st, const Call& call) {
  auto query = ParseQuery(call.req->query);
  if (!query) return Fail(query.error());
  auto paging = ReadPaging(*query, kDefaultUserPage, kMaxUserPage);
  if (!paging) return Fail(paging.error());
  auto renderer = MakeRenderer(st, call);
  if (!renderer) return Fail(renderer.error());
  const Schema& schema = renderer->schema;

  std::optional<Filter> filter;
  std::optional<query::Node> tree;
  std::string filter_text;
  if (auto it = query->find("filter"); it != query->end()) {
    filter_text = it->second;
    auto parsed = ParseFilter(
        filter_text,
        [&](std::string_view path) {
          if (schema.DisabledPath(path)) return false;  // a disabled standard attribute
          if (kFilterable.contains(Lower(path))) return true;
          for (const auto& a : schema.custom)
            if (a.enabled && a.type == "STRING" && Lower(a.name) == Lower(path)) return true;
          return false;
        },
        [](std::string_view path) { return kEndsWith.contains(Lower(path)); });
    if (!parsed) return Fail(InvalidValue("filter", parsed.error().message, "INVALID_FILTER"));
    if (auto ok = CheckBooleans(*parsed); !ok) return Fail(ok.error());
    filter = std::move(*parsed);
    tree = ToQuery(*filter);
  }

  // The engine narrows by blind index (username, email) when it can; otherwise, when the
  // filter names one population (other than the default, which also shows users who are
  // in none), it walks that population's members, else every user: at most
  // kDefaultQueryBudget users per request, so a page may hold fewer than `limit` users:
  // follow _links.next.
  // A group named by memberOfGroups[id eq ...] is walked the same way (its direct members).
  std::optional<std::string> only, only_group;
  if (filter && !st.s.users.AnswersFromIndex(*tree)) {
    only_group = RecordHint(*filter, "memberofgroups.id");
    if (!only_group) only = RecordHint(*filter, "population.id");
  }
  if (only && renderer->default_population && *only == renderer->default_population->id) only.reset();
  bool none = false;  // the filter names no population (group) of this environment: nobody matches
  if (only || only_group) {
    auto p = st.s.records.Get(call.env, only ? kPopulationKind : service::kGroupKind, only ? *only : *only_group);
    if (!p && p.error().code != ErrorCode::kNotFound) return Fail(FromCore(p.error()));
    none = !p;
  }
  service::QueryResult found;
  std::optional<std::int64_t> count;
  if (!none) {
    service::UserQuery q;
    q.environment_id = call.env;
    q.filter = tree ? &*tree : nullptr;
    // Every candidate is in the walked group; when the filter names no other group, the
    // extension need not look each one's groups up.
    const bool one_group = only_group && Mentions(*filter, "memberofgroups.id") == 1;
    q.extension = PingOneAttributes(st, call, *renderer, only, one_group ? only_group : std::optional<std::string>());
    q.within_record = only ? *only : only_group.value_or("");
    q.after = paging->after;
    q.page_size = paging->limit;
    auto r = Users(st, call).Query(q);
    if (!r) return Fail(FromCore(r.error()));
    found = std::move(*r);
    if (filter && (paging->after != 0 || found.next_after != 0)) {
      // The filtered total over the whole result (not only this page), when the engine
      // can count it within its read budget; otherwise left out.
      q.after = 0;
      q.page_size = 1;
      q.count = true;
      auto counted = Users(st, call).Query(q);
      if (!counted) return Fail(FromCore(counted.error()));
      if (!counted->budget_hit) count = counted->matched;
    }
  } else {
    count = 0;
  }
  json::array items;
  for (const auto& u : found.users) {
    auto wire = renderer->Render(u, only.value_or(""));
    if (!wire) return Fail(wire.error());
    items.push_back(std::move(*wire));
  }
  const std::int64_t next = found.next_after;
  if (!filter) {
    auto total = Users(st, call).Count();
    if (!total) return Fail(FromCore(total.error()));
    count = *total;
  } else if (paging->after == 0 && next == 0 && !none) {
    count = static_cast<std::int64_t>(items.size());
  }

  const std::string self = call.EnvUrl() + "/users";
  json::object links{{"self", {{"href", call.req->query.empty() ? self : self + "?" + call.req->query}}}};
  if (next != 0) {
    std::string href = self + "?limit=" + std::to_string(paging->limit);
    if (filter) href += "&filter=" + UrlEncode(filter_text);
    links["next"] = {{"href", href + "&cursor=" + EncodeCursor(next)}};
  }
  json::object out;
  out["_links"] = std::move(links);
  const auto size = items.size();
  out["_embedded"] = json::object{{"users", std::move(items)}};
  if (count) out["count"] = *count;
  out["size"] = size;
  return JsonResponse(200, out);
}

// PUT /users/{id}/enabled and /mfaEnabled: {"<member>": bool}.
Outcome<http::Response> SetFlag(State& st, const Call& call, const char* member) {
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  auto value = OptionalBool(*body, member, member);
  if (!value) return Fail(value.error());
  if (!*value) return Fail(RequiredValue(member, std::string(member) + " is required"));
  const std::string id = call.Param("userID");
  auto options = UserIfMatch(st, call);
  if (!options) return Fail(options.error());
  const bool is_enabled = std::string_view(member) == "enabled";
  auto updated = Users(st, call).Update(
      id,
      [&](core::User& u) -> core::Status {
        if (is_enabled) {
          u.active = **value;
        } else {
          json::object state = PingOneState(u);
          state["mfaEnabled"] = **value;
          SetPingOneState(u, state);
        }
        return {};
      },
      std::nullopt, *options);
  if (!updated) return Fail(UserWriteError(updated.error()));
  const std::string user_url = call.EnvUrl() + "/users/" + id;
  return http::WithETag(
      JsonResponse(200, json::object{{"_links", {{"self", {{"href", user_url + "/" + member}}}, {"user", {{"href", user_url}}}}},
                                     {member, **value}}),
      updated->version);
}

Outcome<http::Response> GetFlag(State& st, const Call& call, const char* member) {
  const std::string id = call.Param("userID");
  auto user = Users(st, call).Get(id);
  if (!user) return Fail(UserWriteError(user.error()));
  const bool value = std::string_view(member) == "enabled" ? user->active : MfaEnabled(*user);
  const std::string user_url = call.EnvUrl() + "/users/" + id;
  return http::WithETag(
      JsonResponse(200, json::object{{"_links", {{"self", {{"href", user_url + "/" + member}}}, {"user", {{"href", user_url}}}}},
                                     {member, value}}),
      user->version);
}

// "2023-06-07T23:59:59Z", "2023-06-07T23:59:59.123+02:00" (RFC 3339) as Unix ms.
std::optional<std::int64_t> ParseDateTime(std::string_view t) {
  if (t.size() < 20 || t[10] != 'T' || t[13] != ':' || t[16] != ':') return std::nullopt;
  const auto date = core::ParseDate(t.substr(0, 10));
  if (!date) return std::nullopt;
  const auto two = [&](std::size_t at) -> int {
    if (!std::isdigit(static_cast<unsigned char>(t[at])) || !std::isdigit(static_cast<unsigned char>(t[at + 1])))
      return -1;
    return (t[at] - '0') * 10 + (t[at + 1] - '0');
  };
  const int hh = two(11), mm = two(14), ss = two(17);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60) return std::nullopt;
  std::size_t i = 19;
  std::int64_t millis = 0;
  if (t[i] == '.') {
    int digits = 0;
    for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i, ++digits)
      if (digits < 3) millis = millis * 10 + (t[i] - '0');
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  std::int64_t offset_min = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    const int oh = two(i + 1), om = two(i + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset_min = (t[i] == '-' ? -1 : 1) * (oh * 60 + om);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != t.size()) return std::nullopt;
  using namespace std::chrono;
  const sys_days days = year_month_day(year(date->year), month(static_cast<unsigned>(date->month)),
                                       day(static_cast<unsigned>(date->day)));
  const std::int64_t seconds = days.time_since_epoch().count() * 86400LL + hh * 3600 + mm * 60 + ss - offset_min * 60;
  return seconds * 1000 + millis;
}

// POST /users/{id}, application/vnd.pingidentity.account.lock+json ({"unlockAt"?}) or
// .unlock+json (no body): the account lock of core::User (no API signs a locked user in;
// locking ends its sessions). An unlockAt in the past leaves the account unlocked, as
// PingOne does. Answers the user.
Outcome<http::Response> SetAccountLock(State& st, const Call& call, bool lock) {
  std::optional<std::int64_t> unlock_at;
  if (!Trim(call.req->body).empty()) {
    auto body = ParseBody(*call.req);
    if (!body) return Fail(body.error());
    if (lock) {
      auto text = OptionalString(*body, "unlockAt", "unlockAt", 64);
      if (!text) return Fail(text.error());
      if (*text && !(*text)->empty()) {
        unlock_at = ParseDateTime(**text);
        if (!unlock_at)
          return Fail(InvalidValue("unlockAt", "unlockAt must be a date-time such as 2030-06-07T23:59:59Z"));
      }
    }
  }
  const std::string id = call.Param("userID");
  auto options = UserIfMatch(st, call);
  if (!options) return Fail(options.error());
  const std::int64_t now = st.s.clock.NowMillis();
  auto updated = Users(st, call).Update(
      id,
      [&](core::User& u) -> core::Status {
        if (!lock || (unlock_at && *unlock_at <= now)) {
          u.locked_at_ms = 0;
          u.unlock_at_ms = 0;
        } else {
          if (!u.LockedAt(now)) u.locked_at_ms = now;
          u.unlock_at_ms = unlock_at.value_or(0);
        }
        return {};
      },
      std::nullopt, *options);
  if (!updated) return Fail(UserWriteError(updated.error()));
  auto renderer = MakeRenderer(st, call);
  if (!renderer) return Fail(renderer.error());
  auto wire = renderer->Render(*updated);
  if (!wire) return Fail(wire.error());
  return http::WithETag(JsonResponse(200, *wire), updated->version);
}

}  // namespace

void MountUsers(http::Router& router, std::shared_ptr<State> state) {
  const std::string users = "/v1/environments/{envID}/users";
  const std::string user = users + "/{userID}";
  router.Add("POST", users, http::Exec::kWorker, Api(state, Create));
  // A list reads up to service::kDefaultQueryBudget users: a worker, not an I/O thread.
  router.Add("GET", users, http::Exec::kWorker, Api(state, List));
  router.Add("GET", user, http::Exec::kInline, Api(state, Read));
  router.Add("PUT", user, http::Exec::kWorker,
             Api(state, [](State& st, const Call& call) { return Write(st, call, WriteMode::kReplace); }));
  router.Add("PATCH", user, http::Exec::kWorker,
             Api(state, [](State& st, const Call& call) { return Write(st, call, WriteMode::kMerge); }));
  router.Add("DELETE", user, http::Exec::kWorker, Api(state, Remove));
  // Account operations, chosen by Content-Type (PingOne's User Account Lock / Unlock).
  router.Add("POST", user, http::Exec::kWorker, Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               const std::string media = MediaType(*call.req);
               if (media == kLockType) return SetAccountLock(st, call, true);
               if (media == kUnlockType) return SetAccountLock(st, call, false);
               return Fail(UnsupportedMediaType(std::string("POST to a user with Content-Type ") + kLockType + " or " +
                                                kUnlockType + "."));
             }));

  for (const char* member : {"enabled", "mfaEnabled"}) {
    router.Add("GET", user + "/" + member, http::Exec::kInline,
               Api(state, [member](State& st, const Call& call) { return GetFlag(st, call, member); }));
    router.Add("PUT", user + "/" + member, http::Exec::kWorker,
               Api(state, [member](State& st, const Call& call) { return SetFlag(st, call, member); }));
  }

  router.Add("GET", user + "/population", http::Exec::kInline,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               const std::string id = call.Param("userID");
               if (auto u = Users(st, call).Get(id); !u) return Fail(UserWriteError(u.error()));
               auto fallback = FindDefaultPopulation(st, call.env);
               if (!fallback) return Fail(FromCore(fallback.error()));
               auto population_id = PopulationOf(st, call.env, id, *fallback);
               if (!population_id) return Fail(FromCore(population_id.error()));
               if (population_id->empty()) return Fail(NotFoundError());
               auto p = st.s.records.Get(call.env, kPopulationKind, *population_id);
               if (!p) return Fail(FromCore(p.error()));
               auto wire = PopulationWire(st, call, *p);
               if (!wire) return Fail(wire.error());
               return JsonResponse(200, *wire);
             }));

  router.Add("PUT", user + "/population", http::Exec::kWorker,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               auto body = ParseBody(*call.req);
               if (!body) return Fail(body.error());
               auto population_id = OptionalString(*body, "id", "id", 64);
               if (!population_id) return Fail(population_id.error());
               if (!*population_id || (*population_id)->empty()) return Fail(RequiredValue("id", "id is required"));
               const std::string id = call.Param("userID");
               auto options = UserIfMatch(st, call);
               if (!options) return Fail(options.error());
               auto u = Users(st, call).Get(id);
               if (!u) return Fail(UserWriteError(u.error()));
               auto p = st.s.records.Get(call.env, kPopulationKind, **population_id);
               if (!p) {
                 if (p.error().code == ErrorCode::kNotFound)
                   return Fail(InvalidValue("id", "id does not name a population of this environment"));
                 return Fail(FromCore(p.error()));
               }
               // The population is part of the user's representation: the move takes the
               // next version (conditioned on If-Match), then the membership is written.
               u = Users(st, call).Update(
      id, [](core::User&) -> core::Status { return {}; }, std::nullopt, *options);
               if (!u) return Fail(UserWriteError(u.error()));
               if (auto s = st.s.records.SetMemberships(call.env, id, kPopulationKind, {p->id}); !s)
                 return Fail(UserWriteError(s.error()));
               // PingOne answers the user's population reference, not the user.
               const std::string user_url = call.EnvUrl() + "/users/" + id;
               return http::WithETag(
                   JsonResponse(200, json::object{{"_links",
                                                   {{"self", {{"href", user_url + "/population"}}},
                                                    {"user", {{"href", user_url}}},
                                                    {"population", {{"href", call.EnvUrl() + "/populations/" + p->id}}}}},
                                                  {"id", p->id}}),
                   u->version);
             }));
}

}  // namespace roster::dialects::pingone
