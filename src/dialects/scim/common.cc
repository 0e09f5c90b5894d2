#include "dialects/scim/common.h"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/json_policy.h"

namespace roster::dialects::scim {
namespace json = boost::json;
using core::ErrorCode;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string BaseUrl(const Config& config, const http::Request& req) {
  std::string url;
  if (!config.public_url.empty()) {
    url = config.public_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
  } else {
    std::string_view host = Trim(req.Header("host"));
    const bool valid = !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    });
    if (!valid) host = "localhost";
    const std::string_view proto = Trim(req.Header("x-forwarded-proto"));
    url = std::string(IEquals(proto, "https") ? "https://" : "http://") + std::string(host);
  }
  return url + std::string(kPrefix);
}

}  // namespace

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// ---- errors -----------------------------------------------------------------------

Error BadRequest(std::string scim_type, std::string detail) {
  return Error{400, std::move(scim_type), std::move(detail)};
}

Error NotFoundError(std::string detail) { return Error{404, {}, std::move(detail)}; }

Error FromCore(const core::Error& e) {
  const std::string field = e.field;
  switch (e.code) {
    case ErrorCode::kInvalidArgument: {
      std::string detail = e.message;
      if (!field.empty() && detail.find(field) == std::string::npos) detail = field + ": " + detail;
      if (field == "filter") return BadRequest("invalidFilter", detail);
      return BadRequest("invalidValue", detail);
    }
    case ErrorCode::kAlreadyExists: {
      std::string what = field;
      if (field == service::kUsernameClaim) what = "userName";
      else if (field == service::kExternalIdClaim) what = "externalId";
      else if (field == "group.name") what = "displayName";
      else if (field == service::kEmailClaim) what = "emails";
      return Error{409, "uniqueness", what.empty() ? e.message : what + " is already in use in this environment"};
    }
    case ErrorCode::kNotFound: return NotFoundError(e.message.empty() ? "Resource not found" : e.message);
    case ErrorCode::kVersionMismatch:
      return Error{412, {}, "The resource has changed since the version given in If-Match; read it again"};
    case ErrorCode::kPermissionDenied: return Error{403, {}, e.message};
    case ErrorCode::kUnauthenticated: return Error{401, {}, e.message.empty() ? "Authentication failed" : e.message};
    case ErrorCode::kFailedPrecondition: return Error{409, {}, e.message};
    case ErrorCode::kResourceExhausted: return Error{429, {}, e.message, e.retry_after_s};
    case ErrorCode::kUnavailable:
    case ErrorCode::kAborted: return Error{503, {}, "The service is busy; retry"};
    case ErrorCode::kInternal: break;
  }
  return Error{500, {}, "Internal error"};
}

json::object ErrorBody(const Error& e) {
  json::object o{{"schemas", json::array{kErrorSchema}}, {"status", std::to_string(e.status)}};
  if (!e.scim_type.empty()) o["scimType"] = e.scim_type;
  if (!e.detail.empty()) o["detail"] = e.detail;
  return o;
}

http::Response Render(const Error& e) {
  http::Response r = http::Response::Json(e.status, json::serialize(ErrorBody(e)));
  r.content_type = std::string(kContentType);
  if (e.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"scim\"");
  if (e.status == 429 && e.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  return r;
}

http::Response Render(const Reply& reply) {
  http::Response r;
  r.status = reply.status;
  if (reply.body.is_null()) {
    r.content_type.clear();
  } else {
    r.content_type = std::string(kContentType);
    r.body = json::serialize(reply.body);
  }
  if (!reply.location.empty()) r.headers.emplace_back("Location", reply.location);
  if (reply.version) http::SetETag(r, *reply.version);
  return r;
}

http::Response TransportError(int status, std::string_view message) {
  Error e{status, {}, std::string(message)};
  if (status == 413) e.detail = "The request is larger than this server accepts";
  return Render(e);
}

// ---- the caller -----------------------------------------------------------------------

Outcome<Context> Authenticate(const Services& s, const Config& config, const http::Request& req) {
  const Error unauthorized{401, {}, "A valid bearer token is required"};
  std::string_view header = Trim(req.Header("authorization"));
  if (header.size() < 7 || !IEquals(header.substr(0, 7), "bearer ")) return Fail(unauthorized);
  const std::string_view token = Trim(header.substr(7));
  if (token.empty()) return Fail(unauthorized);
  auto key = s.directory.AuthenticateApiKey(token, "", core::kScimApi);
  if (!key) {
    if (key.error().code == ErrorCode::kUnauthenticated) return Fail(unauthorized);
    return Fail(FromCore(key.error()));
  }
  core::Principal principal;
  principal.environment_id = key->environment_id;
  principal.api = core::kScimApi;
  principal.kind =
      key->role == service::KeyRole::kAdmin ? core::CredentialKind::kAdminKey : core::CredentialKind::kScimToken;
  principal.credential_id = key->id;
  principal.scopes = key->scopes;
  Context ctx{s, std::move(principal), BaseUrl(config, req)};
  if (config.body_limit > 0) ctx.max_payload = std::min(kMaxPayloadSize, config.body_limit);
  return ctx;
}

// ---- requests -------------------------------------------------------------------------

Outcome<json::object> ParseBody(const http::Request& req) {
  std::string_view media = req.Header("content-type");
  if (auto semi = media.find(';'); semi != std::string_view::npos) media = media.substr(0, semi);
  media = Trim(media);
  if (!media.empty() && !IEquals(media, "application/json") && !IEquals(media, kContentType))
    return Fail(Error{415, {}, "Send application/scim+json or application/json"});
  auto parsed = core::ParseReceived(req.body);
  if (!parsed && parsed.error().field == "body")
    return Fail(BadRequest("invalidSyntax", "The request body is not valid JSON"));
  if (!parsed) return Fail(BadRequest("invalidValue", parsed.error().field + " " + parsed.error().message));
  json::value& v = *parsed;
  if (!v.is_object()) return Fail(BadRequest("invalidSyntax", "The request body must be a JSON object"));
  return std::move(v.get_object());
}

Outcome<std::map<std::string, std::string>> ParseQuery(std::string_view raw) {
  std::map<std::string, std::string> out;
  if (raw.empty()) return out;
  // A NUL-terminated copy: Boost.URL 1.81's parse_query reads its argument up to a NUL
  // (strlen) whatever length the view says (found by fuzz_scim_body, whose input has no
  // terminator; the server's own query strings always have one).
  const std::string copy(raw);
  const std::string_view query = copy;
  if (!boost::urls::parse_query(query)) return Fail(BadRequest("invalidSyntax", "The query string is malformed"));
  boost::urls::encoding_opts options;
  options.space_as_plus = true;
  for (const auto& param : boost::urls::params_view(boost::core::string_view(query.data(), query.size()), options)) {
    if (param.key.empty()) continue;
    if (!out.emplace(param.key, param.has_value ? param.value : std::string()).second)
      return Fail(BadRequest("invalidSyntax", "The parameter '" + param.key + "' is repeated"));
  }
  return out;
}

const json::value* Member(const json::object& o, std::string_view name) { return service::ResourceMember(o, name); }

Outcome<void> RequireSchema(const json::object& body, std::string_view urn) {
  const auto* schemas = Member(body, "schemas");
  if (schemas == nullptr || !schemas->is_array())
    return Fail(BadRequest("invalidSyntax", "schemas must list " + std::string(urn)));
  bool found = false;
  for (const auto& s : schemas->get_array()) {
    if (!s.is_string()) return Fail(BadRequest("invalidSyntax", "schemas must be an array of strings"));
    if (IEquals(s.get_string(), urn)) found = true;
  }
  if (!found) return Fail(BadRequest("invalidSyntax", "schemas must list " + std::string(urn)));
  return {};
}

Outcome<Precondition> PreconditionOf(const http::Request& req) {
  auto parsed = http::ParseIfMatch(req);
  if (!parsed) return Fail(BadRequest("invalidValue", "If-Match: " + parsed.error().message));
  return *parsed;
}

Outcome<Precondition> PreconditionOf(std::string_view if_match_value) {
  http::Request req;
  req.headers.emplace_back("if-match", std::string(if_match_value));
  auto parsed = http::ParseIfMatch(req);
  if (!parsed) return Fail(BadRequest("invalidValue", "version: " + parsed.error().message));
  return *parsed;
}

core::Result<std::optional<std::int64_t>> ExpectedVersion(const Precondition& p,
                                                          const std::function<core::Result<std::int64_t>()>& current) {
  if (!p || p->any) return std::optional<std::int64_t>();
  if (p->versions.empty()) return std::optional<std::int64_t>(0);  // matches nothing: 412
  if (p->versions.size() == 1) return std::optional<std::int64_t>(p->versions.front());
  auto now = current();
  if (!now) return std::unexpected(now.error());
  for (auto v : p->versions)
    if (v == *now) return std::optional<std::int64_t>(v);
  return std::optional<std::int64_t>(p->versions.front() == *now ? *now : 0);
}

// ---- projection ---------------------------------------------------------------------

namespace {

Outcome<std::vector<AttrRef>> ParseRefs(std::string_view list, std::string_view parameter) {
  std::vector<AttrRef> out;
  if (Trim(list).empty()) return out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = Trim(list.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) return Fail(BadRequest("invalidValue", std::string(parameter) + " has an empty attribute name"));
    if (out.size() >= 100) return Fail(BadRequest("invalidValue", std::string(parameter) + " names too many attributes"));
    AttrRef ref;
    std::string_view rest = item;
    if (rest.size() > 4 && IEquals(rest.substr(0, 4), "urn:")) {
      // urn:...:Schema[:attr[.sub]]: the attribute follows the last ':' when it holds no
      // further ':' and the URN names a known resource schema; else the whole is a URN.
      const auto colon = rest.rfind(':');
      std::string_view last = rest.substr(colon + 1);
      std::string_view urn = rest.substr(0, colon);
      const bool last_is_schema = IEquals(last, "User") || IEquals(last, "Group");
      if (last_is_schema) {
        ref.urn = std::string(rest);
        out.push_back(std::move(ref));
        continue;
      }
      ref.urn = std::string(urn);
      rest = last;
    }
    const auto dot = rest.find('.');
    ref.name = std::string(rest.substr(0, dot));
    if (dot != std::string_view::npos) ref.sub = std::string(rest.substr(dot + 1));
    const auto valid = [](std::string_view n) {
      return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '$';
      });
    };
    if (!valid(ref.name) || (dot != std::string_view::npos && !valid(ref.sub)))
      return Fail(BadRequest("invalidValue", std::string(parameter) + " names an invalid attribute '" +
                                                 std::string(item.substr(0, 80)) + "'"));
    out.push_back(std::move(ref));
  }
  return out;
}

// The member of `o` named `name` (case-insensitive), as an iterator.
json::object::iterator Find(json::object& o, std::string_view name) {
  for (auto it = o.begin(); it != o.end(); ++it)
    if (IEquals(it->key(), name)) return it;
  return o.end();
}

// The object an AttrRef is about: the resource itself (core schema), or the extension's.
json::object* Holder(json::object& resource, const AttrRef& ref, std::string_view core_urn) {
  if (ref.urn.empty() || IEquals(ref.urn, core_urn)) return &resource;
  auto it = Find(resource, ref.urn);
  if (it == resource.end() || !it->value().is_object()) return nullptr;
  return &it->value().get_object();
}

void Remove(json::object& resource, const AttrRef& ref, std::string_view core_urn) {
  if (ref.name.empty()) {  // a whole extension
    if (auto it = Find(resource, ref.urn); it != resource.end()) resource.erase(it);
    return;
  }
  json::object* holder = Holder(resource, ref, core_urn);
  if (holder == nullptr) return;
  auto it = Find(*holder, ref.name);
  if (it == holder->end()) return;
  if (ref.sub.empty()) {
    holder->erase(it);
    return;
  }
  auto strip = [&](json::value& v) {
    if (!v.is_object()) return;
    if (auto s = Find(v.get_object(), ref.sub); s != v.get_object().end()) v.get_object().erase(s);
  };
  if (it->value().is_array())
    for (auto& e : it->value().get_array()) strip(e);
  else
    strip(it->value());
}

// Copies what `ref` names from `from` into `to`.
void Copy(const json::object& from_resource, json::object& to, const AttrRef& ref, std::string_view core_urn) {
  json::object& from = const_cast<json::object&>(from_resource);  // Find is read-only here
  if (ref.name.empty()) {
    if (auto it = Find(from, ref.urn); it != from.end()) to[it->key()] = it->value();
    return;
  }
  json::object* holder = Holder(from, ref, core_urn);
  if (holder == nullptr) return;
  auto it = Find(*holder, ref.name);
  if (it == holder->end()) return;
  json::object* target = &to;
  if (!ref.urn.empty() && !IEquals(ref.urn, core_urn)) {
    // The extension object keeps its URN key as the resource spells it.
    auto ext = Find(from, ref.urn);
    auto& slot = to[ext->key()];
    if (!slot.is_object()) slot = json::object();
    target = &slot.get_object();
  }
  if (ref.sub.empty()) {
    (*target)[it->key()] = it->value();
    return;
  }
  auto pick = [&](const json::value& v) -> std::optional<json::value> {
    if (!v.is_object()) return std::nullopt;
    json::object& vo = const_cast<json::object&>(v.get_object());
    auto s = Find(vo, ref.sub);
    if (s == vo.end()) return std::nullopt;
    return json::value(json::object{{s->key(), s->value()}});
  };
  auto& slot = (*target)[it->key()];
  if (it->value().is_array()) {
    json::array merged = slot.is_array() ? slot.get_array() : json::array();
    const auto& source = it->value().get_array();
    if (merged.size() != source.size()) merged = json::array(source.size(), json::object());
    for (std::size_t i = 0; i < source.size(); ++i) {
      if (auto p = pick(source[i]); p && merged[i].is_object())
        for (const auto& [k, v] : p->get_object()) merged[i].get_object()[k] = v;
    }
    slot = std::move(merged);
  } else if (auto p = pick(it->value())) {
    if (!slot.is_object()) slot = json::object();
    for (const auto& [k, v] : p->get_object()) slot.get_object()[k] = v;
  }
}

}  // namespace

Outcome<Projection> ParseProjection(std::string_view attributes, std::string_view excluded) {
  Projection p;
  auto a = ParseRefs(attributes, "attributes");
  if (!a) return Fail(a.error());
  auto e = ParseRefs(excluded, "excludedAttributes");
  if (!e) return Fail(e.error());
  p.attributes = std::move(*a);
  p.excluded = std::move(*e);
  return p;
}

void Project(json::object& resource, const Projection& projection, std::string_view core_urn,
             std::initializer_list<std::string_view> always) {
  const auto kept = [&](std::string_view key) {
    if (IEquals(key, "id") || IEquals(key, "schemas")) return true;
    for (auto a : always)
      if (IEquals(key, a)) return true;
    return false;
  };
  if (!projection.attributes.empty()) {
    json::object out;
    for (const auto& [k, v] : resource)
      if (kept(k)) out[k] = v;
    for (const auto& ref : projection.attributes) Copy(resource, out, ref, core_urn);
    resource = std::move(out);
  }
  for (const auto& ref : projection.excluded) {
    if (ref.sub.empty() && (ref.urn.empty() || IEquals(ref.urn, core_urn)) && kept(ref.name)) continue;
    Remove(resource, ref, core_urn);
  }
}

// ---- lists ---------------------------------------------------------------------------

Outcome<Page> ParsePage(std::string_view start_index, std::string_view count) {
  Page page;
  const auto number = [](std::string_view text, std::string_view name) -> Outcome<std::int64_t> {
    text = Trim(text);
    std::int64_t v = 0;
    bool negative = !text.empty() && text.front() == '-';
    std::string_view digits = negative ? text.substr(1) : text;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec == std::errc::result_out_of_range) {
      if (!digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return negative ? INT64_MIN : INT64_MAX;  // out of range: clamped below
      return Fail(BadRequest("invalidValue", std::string(name) + " must be an integer"));
    }
    if (ec != std::errc() || p != digits.data() + digits.size())
      return Fail(BadRequest("invalidValue", std::string(name) + " must be an integer"));
    return negative ? -v : v;
  };
  if (!start_index.empty()) {
    auto v = number(start_index, "startIndex");
    if (!v) return Fail(v.error());
    page.start_index = std::max<std::int64_t>(1, *v);  // RFC 7644 §3.4.2.4: < 1 is 1
  }
  if (!count.empty()) {
    auto v = number(count, "count");
    if (!v) return Fail(v.error());
    page.count = static_cast<int>(std::clamp<std::int64_t>(*v, 0, kMaxResults));  // negative is 0
  }
  return page;
}

json::object ListResponse(std::vector<json::value> resources, std::int64_t total, std::int64_t start_index) {
  json::object o{{"schemas", json::array{kListResponseSchema}},
                 {"totalResults", total},
                 {"startIndex", start_index},
                 {"itemsPerPage", static_cast<std::int64_t>(resources.size())}};
  json::array items;
  for (auto& r : resources) items.push_back(std::move(r));
  o["Resources"] = std::move(items);
  return o;
}

std::string Timestamp(std::int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

json::object Meta(std::string_view resource_type, std::int64_t created_ms, std::int64_t modified_ms,
                  std::string location, std::int64_t version) {
  return json::object{{"resourceType", resource_type},
                      {"created", Timestamp(created_ms)},
                      {"lastModified", Timestamp(modified_ms)},
                      {"location", std::move(location)},
                      {"version", http::WeakETag(version)}};
}

}  // namespace roster::dialects::scim
