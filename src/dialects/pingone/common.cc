#include "dialects/pingone/common.h"

#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "core/json_policy.h"
#include "core/rules.h"
#include "crypto/base64.h"
#include "crypto/crypto.h"
#include "http/etag.h"

namespace roster::dialects::pingone {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr const char* kInvalidDataMessage =
    "The request could not be completed. One or more validation errors were in the request.";

ApiError Top(int status, std::string code, std::string message) {
  return ApiError{status, std::move(code), std::move(message), {}};
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Canonical field names in service errors -> PingOne attribute names.
std::string TargetOf(const std::string& field) {
  if (field == "emails") return "email";
  if (field == "addresses") return "address";
  if (field == "population.name") return "name";
  return field;
}

}  // namespace

std::string IssuerOf(const std::string& environment_id) { return "urn:roster:pingone:as:" + environment_id; }

// ---- errors ---------------------------------------------------------------------

ApiError InvalidData(std::vector<Detail> details) {
  ApiError e = Top(400, "INVALID_DATA", kInvalidDataMessage);
  e.details = std::move(details);
  return e;
}

ApiError InvalidValue(std::string target, std::string message, std::string detail_code) {
  return InvalidData({Detail{std::move(detail_code), std::move(target), std::move(message), {}}});
}

ApiError RequiredValue(std::string target, std::string message) {
  return InvalidValue(std::move(target), std::move(message), "REQUIRED_VALUE");
}

ApiError InvalidRequest(std::string message) {
  return Top(400, "INVALID_REQUEST", "The request could not be completed. " + message);
}

ApiError NotFoundError(std::string message) { return Top(404, "NOT_FOUND", std::move(message)); }

ApiError UnsupportedMediaType(std::string message) {
  return Top(415, "UNSUPPORTED_MEDIA_TYPE", "The request could not be completed. " + message);
}

ApiError Unauthorized() {
  return Top(401, "ACCESS_FAILED", "The request could not be completed. You do not have access to this resource.");
}

ApiError FromCore(const core::Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument: return InvalidValue(TargetOf(e.field.empty() ? "body" : e.field), e.message);
    case ErrorCode::kAlreadyExists: {
      const std::string target = TargetOf(e.field);
      return InvalidValue(target, target + " must be unique within the environment; the value is already in use",
                          "UNIQUENESS_VIOLATION");
    }
    case ErrorCode::kNotFound: return NotFoundError();
    case ErrorCode::kUnauthenticated: return Unauthorized();
    case ErrorCode::kPermissionDenied: {
      ApiError denied =
          Top(403, "ACCESS_FAILED", "The request could not be completed. You are not authorized to do this.");
      // Which scope or field: the detail names it (never a value).
      denied.details.push_back({"INSUFFICIENT_PERMISSIONS", e.field.empty() ? std::string() : TargetOf(e.field),
                                e.message, {}});
      return denied;
    }
    case ErrorCode::kFailedPrecondition:
      return Top(400, "REQUEST_FAILED", "The request could not be completed. " + e.message);
    case ErrorCode::kAborted:
      return Top(409, "REQUEST_FAILED",
                 "The request could not be completed. The resource was changed concurrently; retry.");
    case ErrorCode::kVersionMismatch:
      return Top(412, "PRECONDITION_FAILED",
                 "The request could not be completed. The resource has changed since the If-Match version; "
                 "read it again.");
    case ErrorCode::kResourceExhausted: {
      ApiError limited =
          Top(429, "REQUEST_LIMITED", "The request could not be completed. Too many requests; retry later.");
      limited.retry_after_s = e.retry_after_s;
      return limited;
    }
    case ErrorCode::kUnavailable:
      return Top(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable; retry.");
    case ErrorCode::kInternal: break;
  }
  return Top(500, "UNEXPECTED_SERVER_ERROR", "An unexpected error occurred.");
}

http::Response Render(const ApiError& e) {
  json::object body;
  body["id"] = crypto::NewUuid();
  body["code"] = e.code;
  body["message"] = e.message;
  if (!e.details.empty()) {
    json::array details;
    for (const auto& d : e.details) {
      json::object o{{"code", d.code}, {"target", d.target}, {"message", d.message}};
      if (!d.inner.empty()) o["innerError"] = d.inner;
      details.push_back(std::move(o));
    }
    body["details"] = std::move(details);
  }
  http::Response r = http::Response::Json(e.status, json::serialize(body));
  if (e.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"roster\", error=\"invalid_token\"");
  if (e.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  return r;
}

http::Response TransportError(int status, std::string_view message) {
  switch (status) {
    case 404: return Render(NotFoundError());
    case 405:
      return Render(Top(405, "METHOD_NOT_ALLOWED",
                        "The request could not be completed. The method is not allowed for this resource."));
    case 413:
      return Render(Top(413, "REQUEST_TOO_LARGE", "The request could not be completed. The body is too large."));
    case 503: return Render(Top(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable; retry."));
    default: break;
  }
  if (status >= 500) return Render(Top(status, "UNEXPECTED_SERVER_ERROR", "An unexpected error occurred."));
  return Render(Top(status, "INVALID_REQUEST", "The request could not be completed. " + std::string(message)));
}

http::Response JsonResponse(int status, const json::value& body) {
  return http::Response::Json(status, json::serialize(body));
}

http::Response NoContent() {
  http::Response r = http::Response::Json(204, "");
  r.content_type.clear();
  return r;
}

// ---- state --------------------------------------------------------------------

core::Result<std::string> State::SigningKey(const std::string& environment_id, bool create) {
  {
    std::lock_guard lock(mu_);
    if (auto it = keys_.find(environment_id); it != keys_.end()) return it->second;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto found = s.records.Find(environment_id, kSigningKeyClaim, "1");
    if (!found) return std::unexpected(found.error());
    for (const auto& r : *found) {
      if (r.kind != kSigningKeyKind) continue;
      const auto* v = r.body.if_contains("key");
      if (v == nullptr || !v->is_string()) return core::Internal("signing key record is malformed");
      auto key = crypto::Base64Decode(v->as_string());
      if (!key || key->size() != 32) return core::Internal("signing key record is malformed");
      std::lock_guard lock(mu_);
      keys_.emplace(environment_id, *key);
      return *key;
    }
    if (!create) return core::NotFound("no signing key");
    const crypto::SecretKey fresh = crypto::SecretKey::Random();
    service::NewRecordRequest r;
    r.environment_id = environment_id;
    r.kind = kSigningKeyKind;
    r.body = json::object{
        {"key", crypto::Base64Encode(std::string_view(reinterpret_cast<const char*>(fresh.data()), fresh.size()))}};
    r.claims = {{kSigningKeyClaim, "1", true}};
    auto created = s.records.Create(r);
    if (!created && created.error().code != ErrorCode::kAlreadyExists) return std::unexpected(created.error());
    // Created, or another request won the race: read back whichever key is stored.
  }
  return core::Internal("cannot create the signing key");
}

// ---- the caller ------------------------------------------------------------------

namespace {

Outcome<AccessClaims> Authenticate(State& st, const http::Request& req, const std::string& env) {
  const std::string_view auth = Trim(req.Header("authorization"));
  if (auth.size() < 8 || !IEquals(auth.substr(0, 7), "bearer ")) return Fail(Unauthorized());
  const std::string_view token = Trim(auth.substr(7));
  if (token.empty() || token.size() > kMaxJwtLength || !core::IsUuid(env)) return Fail(Unauthorized());
  auto key = st.SigningKey(env, false);
  if (!key) {
    if (key.error().code == ErrorCode::kNotFound) return Fail(Unauthorized());
    return Fail(FromCore(key.error()));
  }
  JwtExpectations expected{IssuerOf(env), kAudience, st.s.clock.NowMillis() / 1000, 5};
  auto claims = VerifyJwt(token, *key, expected);
  if (!claims || claims->env != env) return Fail(Unauthorized());
  return *claims;
}

}  // namespace

http::Handler Api(std::shared_ptr<State> state, ApiHandler handler, core::Scopes required) {
  return [state, handler, required](const http::Request& req, const http::PathParams& params) -> http::Response {
    Call call;
    call.req = &req;
    call.params = &params;
    call.env = std::string(params.Get("envID"));
    auto claims = Authenticate(*state, req, call.env);
    if (!claims) return Render(claims.error());
    call.claims = std::move(*claims);
    auto principal = WorkerPrincipal(*state, call.env, call.claims);
    if (!principal) {
      if (principal.error().code == ErrorCode::kUnauthenticated) return Render(Unauthorized());
      return Render(FromCore(principal.error()));
    }
    call.principal = std::move(*principal);
    if (!call.principal.Has(required))
      return Render(FromCore(core::Error{
          ErrorCode::kPermissionDenied,
          "the application lacks a scope this needs: " + [&] {
            std::string names;
            for (const auto& n : core::ScopeNames(required & ~call.principal.scopes))
              names += (names.empty() ? "" : ", ") + n;
            return names;
          }(),
          {}}));
    call.base = BaseUrl(state->config, req);
    auto out = handler(*state, call);
    if (!out) return Render(out.error());
    return std::move(*out);
  };
}

std::string BaseUrl(const Config& config, const http::Request& req) {
  if (!config.public_url.empty()) {
    std::string url = config.public_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  }
  std::string_view host = Trim(req.Header("host"));
  const bool valid = !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
  if (!valid) host = "localhost";
  const std::string_view proto = Trim(req.Header("x-forwarded-proto"));
  return std::string(req.secure || IEquals(proto, "https") ? "https://" : "http://") + std::string(host);
}

// ---- bodies and queries ----------------------------------------------------------

std::string MediaType(const http::Request& req) {
  std::string_view type = req.Header("content-type");
  if (auto semi = type.find(';'); semi != std::string_view::npos) type = type.substr(0, semi);
  type = Trim(type);
  std::string out(type);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

Outcome<json::object> ParseBody(const http::Request& req) {
  if (Trim(req.body).empty()) return Fail(InvalidRequest("The request body must be a JSON object."));
  auto parsed = core::ParseReceived(req.body);
  if (!parsed && parsed.error().field == "body") return Fail(InvalidRequest("The request body is not valid JSON."));
  if (!parsed) return Fail(InvalidValue(parsed.error().field, parsed.error().field + " " + parsed.error().message));
  json::value& v = *parsed;
  if (!v.is_object()) return Fail(InvalidRequest("The request body must be a JSON object."));
  return std::move(v.get_object());
}

Outcome<std::map<std::string, std::string>> ParseQuery(std::string_view raw) {
  std::map<std::string, std::string> out;
  if (raw.empty()) return out;
  // Clients send some characters RFC 3986 leaves out of a query unencoded (Backstage's
  // PingOne importer: filter=memberOfGroups[id%20eq%20%22...%22]); PingOne takes them,
  // so they are read as if percent-encoded.
  std::string lenient;
  lenient.reserve(raw.size());
  for (const char c : raw) {
    if (c == '[' || c == ']' || c == '"' || c == '{' || c == '}' || c == '|' || c == '\\' || c == '^' || c == '`') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      lenient += '%';
      lenient += kHex[static_cast<unsigned char>(c) >> 4];
      lenient += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      lenient += c;
    }
  }
  const std::string_view query = lenient;
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) return Fail(InvalidRequest("The query string is malformed."));
  boost::urls::encoding_opts options;
  options.space_as_plus = true;
  // Valid (checked above), so this constructor does not throw.
  for (const auto& param : boost::urls::params_view(boost::core::string_view(query.data(), query.size()), options)) {
    if (param.key.empty()) continue;
    if (!out.emplace(param.key, param.has_value ? param.value : std::string()).second)
      return Fail(InvalidRequest("The parameter '" + param.key + "' is repeated."));
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Outcome<Paging> ReadPaging(const std::map<std::string, std::string>& query, int fallback, int max) {
  Paging paging;
  paging.limit = fallback;
  if (auto it = query.find("limit"); it != query.end()) {
    const std::string& text = it->second;
    long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > max) {
      Detail d{"OUT_OF_RANGE", "limit", "limit must be a whole number from 1 to " + std::to_string(max), {}};
      d.inner = json::object{{"rangeMinimumValue", 1}, {"rangeMaximumValue", max}};
      return Fail(InvalidData({std::move(d)}));
    }
    paging.limit = static_cast<int>(value);
  }
  if (auto it = query.find("cursor"); it != query.end()) {
    const auto invalid = Fail(InvalidValue("cursor", "cursor is not one this server issued"));
    auto decoded = crypto::Base64UrlDecode(it->second);
    if (!decoded || !decoded->starts_with("roster:")) return invalid;
    const std::string_view digits = std::string_view(*decoded).substr(7);
    long long value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value <= 0) return invalid;
    paging.after = value;
  }
  return paging;
}

std::string EncodeCursor(std::int64_t after) { return crypto::Base64UrlEncode("roster:" + std::to_string(after)); }

Outcome<std::optional<std::string>> OptionalString(const json::object& o, std::string_view key,
                                                   const std::string& target, std::size_t max_chars) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::optional<std::string>();
  if (v->is_null()) return std::optional<std::string>(std::string());
  if (!v->is_string()) return Fail(InvalidValue(target, target + " must be a string"));
  const json::string& s = v->get_string();
  if (!core::IsValidUtf8(s)) return Fail(InvalidValue(target, target + " must be valid UTF-8"));
  if (core::CodePoints(s) > max_chars)
    return Fail(InvalidValue(target, target + " must be at most " + std::to_string(max_chars) + " characters",
                             "SIZE_LIMIT_EXCEEDED"));
  return std::optional<std::string>(std::string(s));
}

Outcome<std::optional<bool>> OptionalBool(const json::object& o, std::string_view key, const std::string& target) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) return Fail(InvalidValue(target, target + " must be true or false"));
  return std::optional<bool>(v->as_bool());
}

// ---- populations -------------------------------------------------------------------

std::string PopulationName(const service::Record& population) {
  const auto* v = population.body.if_contains("name");
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool PopulationIsDefault(const service::Record& population) {
  const auto* v = population.body.if_contains("default");
  return v && v->is_bool() && v->as_bool();
}

std::vector<service::Claim> PopulationClaims(const service::Record& population) {
  std::vector<service::Claim> claims;
  const std::string name = PopulationName(population);
  auto folded = core::FoldUsername(name);
  claims.push_back({kPopulationNameClaim, folded ? *folded : name, true});
  if (PopulationIsDefault(population)) {
    claims.push_back({service::kDefaultClaim, "1", false});
    claims.push_back({kDefaultPopulationClaim, "1", true});
  }
  return claims;
}

core::Result<std::optional<service::Record>> FindDefaultPopulation(State& st, const std::string& env) {
  auto found = st.s.records.Find(env, kDefaultPopulationClaim, "1");
  if (!found) return std::unexpected(found.error());
  for (auto& r : *found)
    if (r.kind == kPopulationKind) return std::optional<service::Record>(std::move(r));
  return std::optional<service::Record>();
}

core::Result<service::Record> EnsureDefaultPopulation(State& st, const std::string& env, bool* created) {
  if (created != nullptr) *created = false;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto found = FindDefaultPopulation(st, env);
    if (!found) return std::unexpected(found.error());
    if (*found) return **found;
    auto first = st.s.records.List(env, kPopulationKind, 0, 1);
    if (!first) return std::unexpected(first.error());
    core::Result<service::Record> made = core::Internal("unreachable");
    if (first->empty()) {
      service::NewRecordRequest r;
      r.environment_id = env;
      r.kind = kPopulationKind;
      r.body =
          json::object{{"name", "Default"}, {"description", "The environment's default population"}, {"default", true}};
      service::Record probe;
      probe.body = r.body;
      r.claims = PopulationClaims(probe);
      made = st.s.records.Create(r);
    } else {
      made = st.s.records.Update(
          env, kPopulationKind, first->front().id,
          [](service::Record& p) -> core::Status {
            p.body["default"] = true;
            return {};
          },
          PopulationClaims);
    }
    if (made) {
      if (created != nullptr) *created = first->empty();
      return *made;
    }
    // Another request created or promoted one meanwhile: look again.
    if (made.error().code != ErrorCode::kAlreadyExists && made.error().code != ErrorCode::kNotFound)
      return std::unexpected(made.error());
  }
  return core::Fail(ErrorCode::kAborted, "the default population is being changed; retry");
}

core::Status AdoptUsersWithoutPopulation(State& st, const std::string& env, const std::string& population_id) {
  std::int64_t after = 0;
  for (;;) {
    auto page = st.s.users.List(env, after, 500);
    if (!page) return std::unexpected(page.error());
    for (const auto& u : page->users) {
      auto memberships = st.s.records.MembershipsOf(env, u.id, kPopulationKind);
      if (!memberships) return std::unexpected(memberships.error());
      if (!memberships->empty()) continue;
      auto added = st.s.records.AddMember(env, population_id, u.id);
      // A user deleted meanwhile is no longer ours to adopt.
      if (!added && added.error().code != ErrorCode::kNotFound) return added;
    }
    if (page->next_after == 0) return {};
    after = page->next_after;
  }
}

core::Result<std::string> PopulationOf(State& st, const std::string& env, const std::string& user_id,
                                       const std::optional<service::Record>& fallback) {
  auto memberships = st.s.records.MembershipsOf(env, user_id, kPopulationKind);
  if (!memberships) return std::unexpected(memberships.error());
  if (!memberships->empty()) return memberships->front().id;
  return fallback ? fallback->id : std::string();
}

Outcome<service::WriteOptions> UserIfMatch(State& st, const Call& call) {
  const std::string id = call.Param("userID");
  auto expected = http::ExpectedVersion(*call.req, [&] { return Users(st, call).VersionOf(id); });
  if (!expected) return Fail(expected.error().code == ErrorCode::kNotFound ? NotFoundError() : FromCore(expected.error()));
  service::WriteOptions options;
  options.expected_version = *expected;
  return options;
}

Outcome<std::optional<std::int64_t>> PopulationIfMatch(State& st, const Call& call) {
  const std::string id = call.Param("populationID");
  auto expected =
      http::ExpectedVersion(*call.req, [&] { return st.s.records.VersionOf(call.env, kPopulationKind, id); });
  if (!expected) return Fail(FromCore(expected.error()));
  return *expected;
}

}  // namespace roster::dialects::pingone
