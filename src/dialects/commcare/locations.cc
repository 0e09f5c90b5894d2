// Locations and location types (corehq/apps/locations/resources/v0_5.py, v0_6.py) over
// service::LocationAccess, which owns the rules:
//   location_type  /a/{domain}/api/v0.5/location_type/ and location_type/v1/: GET list
//                  and detail (by integer id); POST, PUT and DELETE are Roster's (CommCare
//                  edits types in its web UI only).
//   location (v1)  /a/{domain}/api/v0.5/location/ and location/v1/: GET list and detail.
//   location (v2)  /a/{domain}/api/v0.6/location/ and location/v2/: GET list, POST,
//                  PATCH (bulk create or update), GET and PUT detail; DELETE is Roster's.
// Errors are {"error": ...} (CommCare's LocationAPIError, a Tastypie BadRequest).
#include <charconv>
#include <functional>
#include <map>

#include "core/rules.h"
#include "dialects/commcare/common.h"
#include "http/etag.h"
#include "service/locations.h"

namespace roster::dialects::commcare {
namespace json = boost::json;
using core::ErrorCode;
using service::BodyText;
using service::Record;

namespace {

constexpr int kScanPage = 500;
constexpr std::size_t kPatchLimit = 100;

// CommCare's naive ISO timestamps ("2023-05-09T16:10:47.225000"; USE_TZ is off).
std::string NaiveTime(std::int64_t ms) {
  std::string t = core::FormatTimestamp(ms, true);
  if (!t.empty() && t.back() == 'Z') t.pop_back();
  return t + "000";
}

std::string TypeUri(std::string_view domain, std::int64_t number) {
  return ListUri(domain, "location_type") + std::to_string(number) + "/";
}

json::value TextOrNull(const Record& r, const char* key) {
  const auto* v = r.body.if_contains(key);
  return v && v->is_string() ? json::value(v->get_string()) : json::value(nullptr);
}

json::object LocationData(const Record& r) {
  const auto* v = r.body.if_contains("location_data");
  return v && v->is_object() ? v->get_object() : json::object();
}

bool Flag(const Record& r, const char* key) {
  const auto* v = r.body.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

// Every type of the domain by id (a domain has a handful).
core::Result<std::map<std::string, Record>> TypesById(service::LocationAccess& access) {
  std::map<std::string, Record> out;
  std::int64_t after = 0;
  for (;;) {
    auto page = access.ListTypes(after, kScanPage);
    if (!page) return std::unexpected(page.error());
    for (auto& t : *page) out.emplace(t.id, std::move(t));
    if (static_cast<int>(page->size()) < kScanPage) return out;
    after = page->back().number;
  }
}

json::object TypeWire(const Record& t, const std::map<std::string, Record>& types, std::string_view domain) {
  json::object o;
  o["id"] = t.number;
  o["domain"] = domain;
  o["name"] = BodyText(t, "name");
  o["code"] = BodyText(t, "code");
  auto parent = types.find(BodyText(t, "parent_id"));
  o["parent"] = parent == types.end() ? json::value(nullptr) : json::value(TypeUri(domain, parent->second.number));
  o["administrative"] = Flag(t, "administrative");
  o["shares_cases"] = Flag(t, "shares_cases");
  o["view_descendants"] = Flag(t, "view_descendants");
  o["resource_uri"] = TypeUri(domain, t.number);
  return o;
}

// v1 (v0.5): integer id, the type and the parent as resource URIs.
json::object LocationV1(const Record& l, const std::map<std::string, Record>& types, std::string_view domain) {
  json::object o;
  o["id"] = l.number;
  o["name"] = BodyText(l, "name");
  o["domain"] = domain;
  o["location_id"] = HexId(l.id);
  o["site_code"] = BodyText(l, "site_code");
  o["external_id"] = TextOrNull(l, "external_id");
  o["created_at"] = NaiveTime(l.created_at_ms);
  o["last_modified"] = NaiveTime(l.updated_at_ms);
  o["latitude"] = TextOrNull(l, "latitude");
  o["longitude"] = TextOrNull(l, "longitude");
  o["location_data"] = LocationData(l);
  auto type = types.find(BodyText(l, "type_id"));
  o["location_type"] = type == types.end() ? json::value(nullptr) : json::value(TypeUri(domain, type->second.number));
  const std::string parent = BodyText(l, "parent_id");
  o["parent"] = parent.empty() ? json::value(nullptr) : json::value(DetailUri(domain, "location", parent));
  o["resource_uri"] = DetailUri(domain, "location", l.id);
  return o;
}

// v2 (v0.6): the type by code and name, the parent by id ("" at the root).
json::object LocationV2(const Record& l, const std::map<std::string, Record>& types, std::string_view domain) {
  json::object o;
  o["domain"] = domain;
  o["location_id"] = HexId(l.id);
  o["name"] = BodyText(l, "name");
  o["site_code"] = BodyText(l, "site_code");
  o["last_modified"] = NaiveTime(l.updated_at_ms);
  o["latitude"] = TextOrNull(l, "latitude");
  o["longitude"] = TextOrNull(l, "longitude");
  o["location_data"] = LocationData(l);
  auto type = types.find(BodyText(l, "type_id"));
  o["location_type_code"] = type == types.end() ? std::string() : BodyText(type->second, "code");
  o["location_type_name"] = type == types.end() ? std::string() : BodyText(type->second, "name");
  const std::string parent = BodyText(l, "parent_id");
  o["parent_location_id"] = parent.empty() ? std::string() : HexId(parent);
  return o;
}

http::Response TypeNotFound() { return ErrorResponse(404, "No location type with this id in this project space."); }
http::Response LocationNotFound() { return ErrorResponse(404, "No location with this id in this project space."); }

// Tastypie's list paging over every record of the domain that `keep` keeps.
template <class Keep, class Render>
http::Response ListPage(const http::Request& req, const std::vector<QueryParam>& query, const Page& page,
                        const std::function<core::Result<std::vector<Record>>(std::int64_t)>& next_page,
                        const Keep& keep, const Render& render) {
  json::array objects;
  std::int64_t total = 0, after = 0;
  for (;;) {
    auto records = next_page(after);
    if (!records) return Fail(records.error());
    for (const auto& r : *records) {
      if (!keep(r)) continue;
      if (page.Contains(total)) objects.push_back(render(r));
      ++total;
    }
    if (static_cast<int>(records->size()) < kScanPage) break;
    after = records->back().number;
  }
  json::object out;
  out["meta"] = PageMeta(page, total, RequestListUri(req), query);
  out["objects"] = std::move(objects);
  return Json(200, out);
}

// ---- location types ----

std::optional<std::int64_t> TypeNumber(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t n = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + (ch - '0');
  }
  return n;
}

// A type's parent as a write names it: null, its integer id, or its resource URI.
core::Result<std::string> ParentType(service::LocationAccess& access, const json::value& v) {
  if (v.is_null()) return std::string();
  std::optional<std::int64_t> number;
  if (v.is_int64() && v.get_int64() > 0) number = v.get_int64();
  if (v.is_string()) {
    std::string_view s = v.get_string();
    if (!s.empty() && s.back() == '/') s.remove_suffix(1);
    number = TypeNumber(s.substr(s.rfind('/') == std::string_view::npos ? 0 : s.rfind('/') + 1));
  }
  if (!number) return core::InvalidArgument("parent", "parent must be a location type's id or resource_uri, or null");
  auto type = access.GetTypeByNumber(*number);
  if (!type) {
    if (type.error().code == ErrorCode::kNotFound)
      return core::InvalidArgument("parent", "The parent location type does not exist.");
    return std::unexpected(type.error());
  }
  return type->id;
}

core::Result<service::LocationTypeFields> ReadTypeFields(service::LocationAccess& access, const json::object& body) {
  service::LocationTypeFields f;
  for (const auto& [key, v] : body) {
    const std::string k(key);
    if (k == "name" || k == "code") {
      if (!v.is_string()) return core::InvalidArgument(k, k + " must be a string");
      (k == "name" ? f.name : f.code) = std::string(v.get_string());
    } else if (k == "administrative" || k == "shares_cases" || k == "view_descendants") {
      if (!v.is_bool()) return core::InvalidArgument(k, k + " must be true or false");
      (k == "administrative" ? f.administrative : k == "shares_cases" ? f.shares_cases : f.view_descendants) =
          v.get_bool();
    } else if (k == "parent") {
      auto parent = ParentType(access, v);
      if (!parent) return std::unexpected(parent.error());
      f.parent_id = *parent;
    } else if (k != "id" && k != "domain" && k != "resource_uri") {
      return core::InvalidArgument(k, "Invalid fields were included in request: ['" + k + "'].");
    }
  }
  return f;
}

http::Response TypeFail(const core::Error& e) {
  if (e.code == ErrorCode::kAlreadyExists) return ErrorResponse(400, "A location type with this code already exists.");
  return Fail(e);
}

core::Result<Record> TypeAt(service::LocationAccess& access, const http::PathParams& params) {
  auto number = TypeNumber(params.Get("id"));
  if (!number) return core::NotFound("location type not found");
  return access.GetTypeByNumber(*number);
}

http::Response ListTypes(const Caller& caller, service::LocationAccess& access, const http::Request& req) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  auto page = ReadPage(query);
  if (!page) return Fail(page.error());
  auto types = TypesById(access);
  if (!types) return Fail(types.error());
  return ListPage(
      req, query, *page, [&](std::int64_t after) { return access.ListTypes(after, kScanPage); },
      [](const Record&) { return true; },
      [&](const Record& t) { return TypeWire(t, *types, caller.domain.name); });
}

http::Response TypeResponse(int status, service::LocationAccess& access, const Caller& caller, const Record& t) {
  auto types = TypesById(access);
  if (!types) return Fail(types.error());
  return http::WithETag(Json(status, TypeWire(t, *types, caller.domain.name)), t.version);
}

http::Response GetType(const Caller& caller, service::LocationAccess& access, const http::Request& req,
                       const http::PathParams& params) {
  if (auto st = CheckFormat(ParseQuery(req.query)); !st) return Fail(st.error());
  auto type = TypeAt(access, params);
  if (!type) return type.error().code == ErrorCode::kNotFound ? TypeNotFound() : Fail(type.error());
  return TypeResponse(200, access, caller, *type);
}

http::Response CreateType(const Caller& caller, service::LocationAccess& access, const http::Request& req) {
  auto body = ParseBody(req);
  if (!body) return Fail(body.error());
  auto fields = ReadTypeFields(access, *body);
  if (!fields) return Fail(fields.error());
  auto created = access.CreateType(*fields);
  if (!created) return TypeFail(created.error());
  http::Response r = TypeResponse(201, access, caller, *created);
  r.headers.emplace_back("Location", TypeUri(caller.domain.name, created->number));
  return r;
}

http::Response UpdateType(const Caller& caller, service::LocationAccess& access, const http::Request& req,
                          const http::PathParams& params) {
  auto type = TypeAt(access, params);
  if (!type) return type.error().code == ErrorCode::kNotFound ? TypeNotFound() : Fail(type.error());
  auto expected = http::ExpectedVersion(req, [&]() -> core::Result<std::int64_t> { return type->version; });
  if (!expected) return Fail(expected.error());
  auto body = ParseBody(req);
  if (!body) return Fail(body.error());
  auto fields = ReadTypeFields(access, *body);
  if (!fields) return Fail(fields.error());
  auto updated = access.UpdateType(type->id, *fields, *expected);
  if (!updated) return updated.error().code == ErrorCode::kNotFound ? TypeNotFound() : TypeFail(updated.error());
  return TypeResponse(200, access, caller, *updated);
}

// DELETE of a record read first (`found`): If-Match against its version, then
// `remove(id, expected)`; 204, or `not_found()`.
template <class Remove>
http::Response DeleteFound(const core::Result<Record>& found, const http::Request& req, http::Response (*not_found)(),
                           const Remove& remove) {
  if (!found) return found.error().code == ErrorCode::kNotFound ? not_found() : Fail(found.error());
  auto expected = http::ExpectedVersion(req, [&]() -> core::Result<std::int64_t> { return found->version; });
  if (!expected) return Fail(expected.error());
  if (core::Status st = remove(found->id, *expected); !st)
    return st.error().code == ErrorCode::kNotFound ? not_found() : Fail(st.error());
  return Empty(204);
}

http::Response DeleteType(service::LocationAccess& access, const http::Request& req, const http::PathParams& params) {
  return DeleteFound(TypeAt(access, params), req, TypeNotFound, [&](const std::string& id, auto expected) {
    return access.DeleteType(id, expected);
  });
}

// ---- locations ----

// Python's repr of a list of keys, as CommCare's "Invalid fields" message prints it.
std::string PyList(const std::vector<std::string>& keys) {
  std::string out = "[";
  for (std::size_t i = 0; i < keys.size(); ++i) out += (i ? ", '" : "'") + keys[i] + "'";
  return out + "]";
}

// A v2 body (CommCare's _update): name, site_code, latitude, longitude (a number or a
// decimal string), location_data, location_type_code, parent_location_id; `location_id`
// only in a bulk update. Any other key: "Invalid fields were included in request".
struct LocationWrite {
  service::LocationFields fields;
  std::optional<std::string> location_id;  // canonical UUID, or "" for no valid id (bulk update)
  std::string location_id_text;            // as sent
  std::optional<std::string> site_code;    // as sent, for CommCare's message suffix
};

core::Result<LocationWrite> ReadLocation(service::LocationAccess& access, const json::object& body, bool bulk) {
  LocationWrite w;
  std::vector<std::string> unknown;
  const auto coordinate = [](const std::string& k, const json::value& v) -> core::Result<std::optional<std::string>> {
    if (v.is_null()) return std::optional<std::string>();
    if (v.is_string()) return std::optional<std::string>(std::string(v.get_string()));
    if (v.is_int64()) return std::optional<std::string>(std::to_string(v.get_int64()));
    if (v.is_uint64()) return std::optional<std::string>(std::to_string(v.get_uint64()));
    if (v.is_double()) {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double(), std::chars_format::fixed);
      if (ec == std::errc()) return std::optional<std::string>(std::string(buf, end));
    }
    return core::InvalidArgument(k, k + " must be a number or a decimal string");
  };
  for (const auto& [key, v] : body) {
    const std::string k(key);
    if (k == "name" || k == "site_code" || k == "location_type_code") {
      if (!v.is_string()) return core::InvalidArgument(k, k + " must be a string");
      const std::string text(v.get_string());
      if (k == "name") w.fields.name = text;
      if (k == "site_code") w.fields.site_code = w.site_code = text;
      if (k == "location_type_code") {
        auto type = access.FindTypeByCode(text);
        if (!type) return std::unexpected(type.error());
        if (!*type) return core::InvalidArgument(k, "Location type with code '" + text + "' does not exist.");
        w.fields.type_id = (*type)->id;
      }
    } else if (k == "latitude" || k == "longitude") {
      auto c = coordinate(k, v);
      if (!c) return std::unexpected(c.error());
      (k == "latitude" ? w.fields.latitude : w.fields.longitude) = *c;
    } else if (k == "location_data") {
      if (!v.is_object()) return core::InvalidArgument(k, "location_data must be an object");
      w.fields.location_data = v.get_object();
    } else if (k == "parent_location_id") {
      if (v.is_null() || (v.is_string() && v.get_string().empty())) {
        w.fields.parent_id = std::string();
      } else {
        auto uuid = v.is_string() ? UuidFromHex(v.get_string()) : std::nullopt;
        if (!uuid) return core::InvalidArgument(k, "Could not find parent location with the given ID.");
        w.fields.parent_id = *uuid;
      }
    } else if (k == "location_id" && bulk) {
      auto uuid = v.is_string() ? UuidFromHex(v.get_string()) : std::nullopt;
      // An id that is no location's: the update's own "could not find" below.
      w.location_id = uuid.value_or(std::string());
      w.location_id_text = v.is_string() ? std::string(v.get_string()) : json::serialize(v);
    } else {
      unknown.push_back(k);
    }
  }
  if (!unknown.empty())
    return core::InvalidArgument(unknown.front(), "Invalid fields were included in request: " + PyList(unknown) + ".");
  return w;
}

// CommCare's LocationAPIError: the message, then " Location site code: <code>." when the
// body named one.
http::Response LocationFail(const core::Error& e, const std::optional<std::string>& site_code,
                            const std::string& prefix = {}) {
  std::string message = e.message;
  if (e.code == ErrorCode::kAlreadyExists) {
    message = e.field == service::kLocationSiteCodeClaim ? "Location with this site code already exists."
                                                         : "Location with same name and parent already exists.";
  } else if (StatusOf(e.code) != 400) {
    return Fail(e);
  }
  if (site_code) message += " Location site code: " + *site_code + ".";
  return ErrorResponse(400, prefix + message);
}

core::Result<Record> LocationAt(service::LocationAccess& access, const http::PathParams& params) {
  auto id = UuidFromHex(params.Get("id"));
  if (!id) return core::NotFound("location not found");
  return access.Get(*id);
}

// The v1 filters (site_code, external_id) and the v2 ones (site_code, name,
// location_type_code, parent_location_id); exact matches.
http::Response ListLocations(const Caller& caller, service::LocationAccess& access, const http::Request& req,
                             bool v2) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  auto page = ReadPage(query);
  if (!page) return Fail(page.error());
  auto types = TypesById(access);
  if (!types) return Fail(types.error());
  const auto site_code = QueryValue(query, "site_code");
  const auto external_id = v2 ? std::nullopt : QueryValue(query, "external_id");
  const auto name = v2 ? QueryValue(query, "name") : std::nullopt;
  std::optional<std::string> type_id, parent_id;
  if (auto code = v2 ? QueryValue(query, "location_type_code") : std::nullopt) {
    type_id = "";  // no such type: nothing matches
    for (const auto& [id, t] : *types)
      if (BodyText(t, "code") == *code) type_id = id;
  }
  if (auto parent = v2 ? QueryValue(query, "parent_location_id") : std::nullopt) {
    std::erase(*parent, '-');  // the docs' example writes the UUID with dashes
    parent_id = UuidFromHex(*parent).value_or("-");
  }
  const auto keep = [&](const Record& l) {
    if (site_code && BodyText(l, "site_code") != *site_code) return false;
    if (external_id && BodyText(l, "external_id") != *external_id) return false;
    if (name && BodyText(l, "name") != *name) return false;
    if (type_id && BodyText(l, "type_id") != *type_id) return false;
    if (parent_id && BodyText(l, "parent_id") != *parent_id) return false;
    return true;
  };
  return ListPage(
      req, query, *page, [&](std::int64_t after) { return access.List(after, kScanPage); }, keep,
      [&](const Record& l) {
        return v2 ? LocationV2(l, *types, caller.domain.name) : LocationV1(l, *types, caller.domain.name);
      });
}

http::Response LocationResponse(int status, service::LocationAccess& access, const Caller& caller, const Record& l,
                                bool v2) {
  auto types = TypesById(access);
  if (!types) return Fail(types.error());
  const json::object wire = v2 ? LocationV2(l, *types, caller.domain.name) : LocationV1(l, *types, caller.domain.name);
  return http::WithETag(Json(status, wire), l.version);
}

http::Response GetLocation(const Caller& caller, service::LocationAccess& access, const http::Request& req,
                           const http::PathParams& params, bool v2) {
  if (auto st = CheckFormat(ParseQuery(req.query)); !st) return Fail(st.error());
  auto l = LocationAt(access, params);
  if (!l) return l.error().code == ErrorCode::kNotFound ? LocationNotFound() : Fail(l.error());
  return LocationResponse(200, access, caller, *l, v2);
}

http::Response CreateLocation(const Caller& caller, service::LocationAccess& access, const http::Request& req) {
  auto body = ParseBody(req);
  if (!body) return Fail(body.error());
  auto w = ReadLocation(access, *body, false);
  if (!w) return LocationFail(w.error(), std::nullopt);
  auto created = access.Create(w->fields);
  if (!created) return LocationFail(created.error(), w->site_code);
  http::Response r = LocationResponse(201, access, caller, *created, true);
  r.headers.emplace_back("Location", DetailUri(caller.domain.name, "location", created->id));
  return r;
}

std::string CouldNotUpdate(const std::string& id) {
  return "Could not update: could not find location with given ID " + id + " on the domain.";
}

http::Response UpdateLocation(const Caller& caller, service::LocationAccess& access, const http::Request& req,
                              const http::PathParams& params) {
  // CommCare answers an unknown id with 400 (obj_update's LocationAPIError), not 404.
  auto l = LocationAt(access, params);
  if (!l && l.error().code != ErrorCode::kNotFound) return Fail(l.error());
  auto body = ParseBody(req);
  if (!body) return Fail(body.error());
  auto w = ReadLocation(access, *body, false);
  if (!w) return LocationFail(w.error(), std::nullopt);
  if (!l) return ErrorResponse(400, CouldNotUpdate(std::string(params.Get("id"))));
  auto expected = http::ExpectedVersion(req, [&]() -> core::Result<std::int64_t> { return l->version; });
  if (!expected) return Fail(expected.error());
  auto updated = access.Update(l->id, w->fields, *expected);
  if (!updated) {
    if (updated.error().code == ErrorCode::kNotFound)
      return ErrorResponse(400, CouldNotUpdate(std::string(params.Get("id"))));
    return LocationFail(updated.error(), w->site_code);
  }
  return LocationResponse(200, access, caller, *updated, true);
}

// PATCH on the v2 list: {"objects": [...]}, at most 100, each a create (no location_id)
// or an update. Every entry is read (fields, type codes) before the first write; the
// writes go in order, each its own transaction, and a refused one stops the batch naming
// its entry (the ones before it stay: CommCare's is one database transaction).
http::Response BulkLocations(service::LocationAccess& access, const http::Request& req) {
  auto body = ParseBody(req);
  if (!body) return Fail(body.error());
  const auto* objects = body->if_contains("objects");
  if (!objects || !objects->is_array()) return ErrorResponse(400, "objects must be a list of locations");
  if (objects->as_array().size() > kPatchLimit) return ErrorResponse(400, "Object count exceeds limit for PATCH method.");
  std::vector<LocationWrite> batch;
  for (std::size_t i = 0; i < objects->as_array().size(); ++i) {
    const std::string at = "objects[" + std::to_string(i) + "]: ";
    const auto& o = objects->as_array()[i];
    if (!o.is_object()) return ErrorResponse(400, at + "must be a location object");
    auto w = ReadLocation(access, o.as_object(), true);
    if (!w) return LocationFail(w.error(), std::nullopt, at);
    batch.push_back(std::move(*w));
  }
  json::array ids;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::string at = "objects[" + std::to_string(i) + "]: ";
    const LocationWrite& w = batch[i];
    core::Result<Record> written = !w.location_id ? access.Create(w.fields)
                                   : w.location_id->empty() ? core::NotFound("location not found")
                                                            : access.Update(*w.location_id, w.fields);
    if (!written) {
      if (w.location_id && written.error().code == ErrorCode::kNotFound)
        return ErrorResponse(400, at + CouldNotUpdate(w.location_id_text));
      return LocationFail(written.error(), w.site_code, at);
    }
    ids.emplace_back(HexId(written->id));
  }
  return Json(202, ids);
}

http::Response DeleteLocation(service::LocationAccess& access, const http::Request& req,
                              const http::PathParams& params) {
  return DeleteFound(LocationAt(access, params), req, LocationNotFound, [&](const std::string& id, auto expected) {
    return access.Delete(id, expected);
  });
}

// Runs `f(caller, access, req, params)` for an authorized caller.
template <class F>
http::Handler WithLocations(const Context& c, F f) {
  return Authorized(c, Shape::kError, [c, f](const Caller& caller, const http::Request& req,
                                             const http::PathParams& params) {
    service::LocationAccess access(c.s.records, caller.principal);
    return f(caller, access, req, params);
  });
}

// v2 lives at v0.6 and location/v2.
void AddV2(http::Router& router, const char* method, std::string_view suffix, const http::Handler& handler) {
  for (const char* base : {"/a/{domain}/api/v0.6/location", "/a/{domain}/api/location/v2"})
    router.Add(method, std::string(base) + std::string(suffix), http::Exec::kWorker, Negotiated(handler));
}

}  // namespace

void MountLocations(http::Router& router, const Context& c) {
  using P = http::PathParams;
  using R = http::Request;
  using A = service::LocationAccess;
  AddRoutes(router, "GET", "location_type", "", http::Exec::kWorker,
            WithLocations(c, [](const Caller& k, A& a, const R& r, const P&) { return ListTypes(k, a, r); }));
  AddRoutes(router, "POST", "location_type", "", http::Exec::kWorker,
            WithLocations(c, [](const Caller& k, A& a, const R& r, const P&) { return CreateType(k, a, r); }));
  AddRoutes(router, "GET", "location_type", "/{id}", http::Exec::kWorker,
            WithLocations(c, [](const Caller& k, A& a, const R& r, const P& p) { return GetType(k, a, r, p); }));
  AddRoutes(router, "PUT", "location_type", "/{id}", http::Exec::kWorker,
            WithLocations(c, [](const Caller& k, A& a, const R& r, const P& p) { return UpdateType(k, a, r, p); }));
  AddRoutes(router, "DELETE", "location_type", "/{id}", http::Exec::kWorker,
            WithLocations(c, [](const Caller&, A& a, const R& r, const P& p) { return DeleteType(a, r, p); }));
  AddRoutes(router, "GET", "location", "", http::Exec::kWorker,
            WithLocations(c, [](const Caller& k, A& a, const R& r, const P&) { return ListLocations(k, a, r, false); }));
  AddRoutes(router, "GET", "location", "/{id}", http::Exec::kWorker,
            WithLocations(c, [](const Caller& k, A& a, const R& r, const P& p) {
              return GetLocation(k, a, r, p, false);
            }));
  AddV2(router, "GET", "",
        WithLocations(c, [](const Caller& k, A& a, const R& r, const P&) { return ListLocations(k, a, r, true); }));
  AddV2(router, "POST", "",
        WithLocations(c, [](const Caller& k, A& a, const R& r, const P&) { return CreateLocation(k, a, r); }));
  AddV2(router, "PATCH", "", WithLocations(c, [](const Caller&, A& a, const R& r, const P&) { return BulkLocations(a, r); }));
  AddV2(router, "GET", "/{id}",
        WithLocations(c, [](const Caller& k, A& a, const R& r, const P& p) { return GetLocation(k, a, r, p, true); }));
  AddV2(router, "PUT", "/{id}",
        WithLocations(c, [](const Caller& k, A& a, const R& r, const P& p) { return UpdateLocation(k, a, r, p); }));
  AddV2(router, "DELETE", "/{id}",
        WithLocations(c, [](const Caller&, A& a, const R& r, const P& p) { return DeleteLocation(a, r, p); }));
}

}  // namespace roster::dialects::commcare
