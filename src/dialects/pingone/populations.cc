// Populations: records of kind "population" ({name, description, default}); a user's
// population is a membership. Exactly one population per environment is the default
// (a unique claim holds it), and new users without one join it (kDefaultClaim).
#include <boost/json.hpp>

#include "core/rules.h"
#include "dialects/pingone/common.h"
#include "dialects/pingone/filter.h"
#include "http/etag.h"

namespace roster::dialects::pingone {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr int kScanBudget = 1000;  // records read per list request at most

}  // namespace

Outcome<json::object> PopulationWire(State& st, const Call& call, const service::Record& p) {
  auto count = st.s.records.CountMembers(call.env, p.id);
  if (!count) return Fail(FromCore(count.error()));
  json::object o;
  o["_links"] = json::object{{"self", {{"href", call.EnvUrl() + "/populations/" + p.id}}},
                             {"environment", {{"href", call.EnvUrl()}}}};
  o["id"] = p.id;
  o["environment"] = json::object{{"id", call.env}};
  o["name"] = PopulationName(p);
  if (const auto* d = p.body.if_contains("description"); d && d->is_string() && !d->as_string().empty())
    o["description"] = *d;
  o["default"] = PopulationIsDefault(p);
  for (const char* key : {"theme", "passwordPolicy", "preferredLanguage", "alternativeIdentifiers"})
    if (const auto* v = p.body.if_contains(key)) o[key] = *v;
  o["userCount"] = *count;
  o["createdAt"] = core::FormatTimestamp(p.created_at_ms, true);
  o["updatedAt"] = core::FormatTimestamp(p.updated_at_ms, true);
  return o;
}

namespace {

struct PopulationInput {
  std::string name;
  std::optional<std::string> description;  // nullopt: absent
  std::optional<bool> make_default;        // nullopt: absent
  // theme.id, passwordPolicy.id, preferredLanguage, alternativeIdentifiers: stored as
  // sent (a PUT without one clears it); Roster has one password policy and no themes, so
  // the ids are references the client keeps, echoed back.
  json::object references;
};

// `key: {id: "<uuid>"}` or null/absent.
void ReadReference(const json::object& body, const char* key, json::object& out, std::vector<Detail>& errors) {
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return;
  const json::value* id = v->is_object() ? v->as_object().if_contains("id") : nullptr;
  if (id == nullptr || !id->is_string() || !core::IsUuid(std::string(id->as_string())))
    errors.push_back({"INVALID_VALUE", std::string(key) + ".id", std::string(key) + ".id must be a UUID", {}});
  else
    out[key] = json::object{{"id", *id}};
}

Outcome<PopulationInput> ReadPopulation(const json::object& body) {
  std::vector<Detail> errors;
  PopulationInput in;
  auto name = OptionalString(body, "name", "name", 255);
  if (!name)
    errors.insert(errors.end(), name.error().details.begin(), name.error().details.end());
  else if (!*name || (*name)->empty())
    errors.push_back({"REQUIRED_VALUE", "name", "name is required", {}});
  else {
    in.name = **name;
    for (unsigned char c : in.name)
      if (c < 0x20 || c == 0x7f) {
        errors.push_back({"INVALID_VALUE", "name", "name must not contain control characters", {}});
        break;
      }
  }
  auto description = OptionalString(body, "description", "description", 1024);
  if (!description)
    errors.insert(errors.end(), description.error().details.begin(), description.error().details.end());
  else
    in.description = *description;
  auto make_default = OptionalBool(body, "default", "default");
  if (!make_default)
    errors.insert(errors.end(), make_default.error().details.begin(), make_default.error().details.end());
  else
    in.make_default = *make_default;
  ReadReference(body, "theme", in.references, errors);
  ReadReference(body, "passwordPolicy", in.references, errors);
  auto language = OptionalString(body, "preferredLanguage", "preferredLanguage", 64);
  if (!language)
    errors.insert(errors.end(), language.error().details.begin(), language.error().details.end());
  else if (*language && !(*language)->empty())
    in.references["preferredLanguage"] = **language;
  if (const json::value* v = body.if_contains("alternativeIdentifiers"); v && !v->is_null()) {
    bool ok = v->is_array() && v->as_array().size() <= 100;
    if (ok)
      for (const auto& e : v->as_array())
        ok = ok && e.is_string() && !e.as_string().empty() && core::IsValidUtf8(e.as_string()) &&
             core::CodePoints(e.as_string()) <= 255;
    if (!ok)
      errors.push_back({"INVALID_VALUE", "alternativeIdentifiers",
                        "alternativeIdentifiers must be an array of at most 100 non-empty strings", {}});
    else
      in.references["alternativeIdentifiers"] = *v;
  }
  if (!errors.empty()) return Fail(InvalidData(std::move(errors)));
  return in;
}

ApiError PopulationWriteError(const core::Error& e) {
  if (e.code == ErrorCode::kAlreadyExists && e.field == kPopulationNameClaim)
    return InvalidValue("name", "a population with this name already exists", "UNIQUENESS_VIOLATION");
  return FromCore(e);
}

void Apply(const PopulationInput& in, service::Record& p, bool replace) {
  p.body["name"] = in.name;
  if (in.description)
    p.body["description"] = *in.description;
  else if (replace)
    p.body.erase("description");
  for (const char* key : {"theme", "passwordPolicy", "preferredLanguage", "alternativeIdentifiers"}) {
    if (const auto* v = in.references.if_contains(key))
      p.body[key] = *v;
    else if (replace)
      p.body.erase(key);
  }
}

// Clears the default flag of population `id` (its claims follow).
core::Status SetDefaultFlag(State& st, const std::string& env, const std::string& id, bool value) {
  auto r = st.s.records.Update(
      env, kPopulationKind, id,
      [&](service::Record& p) -> core::Status {
        p.body["default"] = value;
        return {};
      },
      PopulationClaims);
  if (!r) return std::unexpected(r.error());
  return {};
}

// Makes `target` the default population, applying `change` to it in the same write;
// the previous default is cleared first (and restored if the change fails), so there is
// never more than one default; a crash between the two writes leaves none, which
// EnsureDefaultPopulation repairs.
core::Result<service::Record> MakeDefault(State& st, const std::string& env, const std::string& target,
                                          const service::RecordChange& change,
                                          std::optional<std::int64_t> expected_version = std::nullopt) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto current = FindDefaultPopulation(st, env);
    if (!current) return std::unexpected(current.error());
    std::string previous;
    if (*current && (*current)->id != target) {
      previous = (*current)->id;
      if (auto s = SetDefaultFlag(st, env, previous, false); !s) {
        if (s.error().code == ErrorCode::kNotFound) continue;
        return std::unexpected(s.error());
      }
    }
    auto updated = st.s.records.Update(
        env, kPopulationKind, target,
        [&](service::Record& p) -> core::Status {
          if (auto s = change(p); !s) return s;
          p.body["default"] = true;
          return {};
        },
        PopulationClaims, expected_version);
    if (updated) return updated;
    if (!previous.empty()) (void)SetDefaultFlag(st, env, previous, true);
    if (updated.error().code == ErrorCode::kAlreadyExists && updated.error().field == kDefaultPopulationClaim)
      continue;  // another request made a third population the default meanwhile
    return updated;
  }
  return core::Fail(ErrorCode::kAborted, "the default population is being changed; retry");
}

Outcome<http::Response> List(State& st, const Call& call) {
  auto query = ParseQuery(call.req->query);
  if (!query) return Fail(query.error());
  auto paging = ReadPaging(*query, 100, 1000);
  if (!paging) return Fail(paging.error());
  std::optional<Filter> filter;
  if (auto it = query->find("filter"); it != query->end()) {
    auto parsed = ParseFilter(it->second, [](std::string_view path) { return path == "name" || path == "id"; });
    if (!parsed) return Fail(InvalidValue("filter", parsed.error().message, "INVALID_FILTER"));
    filter = std::move(*parsed);
  }
  json::array items;
  std::int64_t cursor = paging->after;
  bool more = false;
  int scanned = 0;
  while (static_cast<int>(items.size()) < paging->limit && scanned < kScanBudget) {
    const int want = paging->limit - static_cast<int>(items.size());
    const int batch = filter ? 200 : want + 1;  // one extra says whether more follow
    auto page = st.s.records.List(call.env, kPopulationKind, cursor, batch);
    if (!page) return Fail(FromCore(page.error()));
    bool leftover = false;
    for (const auto& p : *page) {
      if (static_cast<int>(items.size()) == paging->limit) {
        leftover = true;
        break;
      }
      ++scanned;
      cursor = p.number;
      if (filter && !Matches(*filter, json::object{{"id", p.id}, {"name", PopulationName(p)}})) continue;
      auto wire = PopulationWire(st, call, p);
      if (!wire) return Fail(wire.error());
      items.push_back(std::move(*wire));
    }
    more = leftover || static_cast<int>(page->size()) == batch;
    if (!more) break;
  }
  const std::int64_t next = more ? cursor : 0;
  const std::string self = call.EnvUrl() + "/populations";
  std::string keep = "limit=" + std::to_string(paging->limit);
  if (auto it = query->find("filter"); it != query->end()) keep += "&filter=" + UrlEncode(it->second);
  json::object links{{"self", {{"href", call.req->query.empty() ? self : self + "?" + call.req->query}}}};
  if (next != 0) links["next"] = {{"href", self + "?" + keep + "&cursor=" + EncodeCursor(next)}};
  json::object out;
  out["_links"] = std::move(links);
  const auto size = items.size();
  out["_embedded"] = json::object{{"populations", std::move(items)}};
  if (paging->after == 0 && next == 0) out["count"] = size;
  out["size"] = size;
  return JsonResponse(200, out);
}

}  // namespace

void MountPopulations(http::Router& router, std::shared_ptr<State> state) {
  // The list may create the default population on first use, so it runs on a worker.
  router.Add("GET", "/v1/environments/{envID}/populations", http::Exec::kWorker,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               if (auto d = EnsureDefaultPopulation(st, call.env); !d) return Fail(FromCore(d.error()));
               return List(st, call);
             }));

  router.Add("POST", "/v1/environments/{envID}/populations", http::Exec::kWorker,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               auto body = ParseBody(*call.req);
               if (!body) return Fail(body.error());
               auto in = ReadPopulation(*body);
               if (!in) return Fail(in.error());
               if (auto d = EnsureDefaultPopulation(st, call.env); !d) return Fail(FromCore(d.error()));
               service::NewRecordRequest r;
               r.environment_id = call.env;
               r.kind = kPopulationKind;
               service::Record probe;
               Apply(*in, probe, true);
               probe.body["default"] = false;
               r.body = probe.body;
               r.claims = PopulationClaims(probe);
               auto created = st.s.records.Create(r);
               if (!created) return Fail(PopulationWriteError(created.error()));
               service::Record result = *created;
               if (in->make_default.value_or(false)) {
                 auto made =
                     MakeDefault(st, call.env, created->id, [](service::Record&) -> core::Status { return {}; });
                 if (!made) {
                   // No partial write: the new population goes away again.
                   (void)st.s.records.Delete(call.env, kPopulationKind, created->id);
                   return Fail(PopulationWriteError(made.error()));
                 }
                 result = *made;
               }
               auto wire = PopulationWire(st, call, result);
               if (!wire) return Fail(wire.error());
               return http::WithETag(JsonResponse(201, *wire), result.version);
             }, core::kGroupsWrite));

  router.Add("GET", "/v1/environments/{envID}/populations/{populationID}", http::Exec::kInline,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               auto p = st.s.records.Get(call.env, kPopulationKind, call.Param("populationID"));
               if (!p) return Fail(FromCore(p.error()));
               auto wire = PopulationWire(st, call, *p);
               if (!wire) return Fail(wire.error());
               return http::WithETag(JsonResponse(200, *wire), p->version);
             }));

  router.Add("PUT", "/v1/environments/{envID}/populations/{populationID}", http::Exec::kWorker,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               auto body = ParseBody(*call.req);
               if (!body) return Fail(body.error());
               auto in = ReadPopulation(*body);
               if (!in) return Fail(in.error());
               const std::string id = call.Param("populationID");
               auto expected = PopulationIfMatch(st, call);
               if (!expected) return Fail(expected.error());
               auto current = st.s.records.Get(call.env, kPopulationKind, id);
               if (!current) return Fail(FromCore(current.error()));
               // Checked here too, so a stale write never touches the previous default.
               if (*expected && **expected != current->version) return Fail(FromCore(core::VersionMismatch("population").error()));
               const bool was_default = PopulationIsDefault(*current);
               if (in->make_default == false && was_default)
                 return Fail(InvalidValue("default",
                                          "an environment always has one default population: make another "
                                          "population the default instead"));
               const auto change = [&](service::Record& p) -> core::Status {
                 Apply(*in, p, true);
                 return {};
               };
               core::Result<service::Record> updated = core::Internal("unreachable");
               if (in->make_default == true && !was_default)
                 updated = MakeDefault(st, call.env, id, change, *expected);
               else
                 updated = st.s.records.Update(call.env, kPopulationKind, id, change, PopulationClaims, *expected);
               if (!updated) return Fail(PopulationWriteError(updated.error()));
               auto wire = PopulationWire(st, call, *updated);
               if (!wire) return Fail(wire.error());
               return http::WithETag(JsonResponse(200, *wire), updated->version);
             }, core::kGroupsWrite));

  router.Add("DELETE", "/v1/environments/{envID}/populations/{populationID}", http::Exec::kWorker,
             Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               const std::string id = call.Param("populationID");
               auto expected = PopulationIfMatch(st, call);
               if (!expected) return Fail(expected.error());
               auto p = st.s.records.Get(call.env, kPopulationKind, id);
               if (!p) return Fail(FromCore(p.error()));
               if (PopulationIsDefault(*p))
                 return Fail(ApiError{400,
                                      "REQUEST_FAILED",
                                      "The request could not be completed.",
                                      {{"INVALID_VALUE",
                                        "default",
                                        "the default population cannot be deleted: make another population the "
                                        "default first",
                                        {}}}});
               auto count = st.s.records.CountMembers(call.env, id);
               if (!count) return Fail(FromCore(count.error()));
               if (*count > 0)
                 return Fail(ApiError{
                     400,
                     "REQUEST_FAILED",
                     "The request could not be completed.",
                     {{"INVALID_VALUE",
                       "userCount",
                       "the population still has " + std::to_string(*count) + " users: move or delete them first",
                       {}}}});
               if (auto s = st.s.records.Delete(call.env, kPopulationKind, id, *expected); !s)
                 return Fail(FromCore(s.error()));
               return NoContent();
             }, core::kGroupsWrite));
}

}  // namespace roster::dialects::pingone
