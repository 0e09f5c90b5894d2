#include "cli/audit.h"

#include <boost/json.hpp>

#include <charconv>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <vector>

#include "http/message.h"

namespace roster::cli {
namespace json = boost::json;

std::optional<std::int64_t> ParseAuditTime(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::int64_t ms = 0;
  const char* end = text.data() + text.size();
  if (auto [p, ec] = std::from_chars(text.data(), end, ms); ec == std::errc() && p == end) return ms;
  std::tm tm{};
  std::istringstream in(text);
  if (text.size() == 10) {
    in >> std::get_time(&tm, "%Y-%m-%d");
  } else {
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    if (in.fail() || in.get() != 'Z' || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  }
  if (in.fail()) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

namespace {

core::Result<service::AuditFilter> Filter(const AuditCommandOptions& o) {
  service::AuditFilter f;
  if (!o.since.empty()) {
    f.since_ms = ParseAuditTime(o.since);
    if (!f.since_ms) return core::InvalidArgument("since", "since must be an RFC 3339 UTC time or milliseconds");
  }
  if (!o.until.empty()) {
    f.until_ms = ParseAuditTime(o.until);
    if (!f.until_ms) return core::InvalidArgument("until", "until must be an RFC 3339 UTC time or milliseconds");
  }
  if (!o.subject.empty()) f.subject = o.subject;
  return f;
}

}  // namespace

int AuditVerify(service::DirectoryService& directory, service::AuditLog& audit, const AuditCommandOptions& o,
                bool as_json) {
  std::vector<service::Environment> environments;
  if (o.env.empty()) {
    auto all = directory.ListEnvironments();
    if (!all) throw std::runtime_error(all.error().message);
    environments = std::move(*all);
  } else {
    auto one = directory.ResolveEnvironment(o.env);
    if (!one) throw std::runtime_error(one.error().message);
    environments.push_back(*one);
  }
  bool all_ok = true;
  json::array out;
  for (const auto& env : environments) {
    auto v = audit.Verify(env.id);
    if (!v) throw std::runtime_error(v.error().message);
    all_ok = all_ok && v->ok;
    if (as_json) {
      out.push_back(json::object{{"environment", env.name},
                                 {"ok", v->ok},
                                 {"records", v->records},
                                 {"firstRecord", v->first_seq},
                                 {"badRecord", v->bad_seq},
                                 {"problem", v->problem}});
    } else if (v->ok) {
      std::cout << env.name << ": ok, " << v->records << " records verified" << std::endl;
    } else {
      std::cout << env.name << ": BROKEN at record " << v->bad_seq << ": " << v->problem << std::endl;
    }
  }
  if (as_json) std::cout << json::serialize(json::object{{"ok", all_ok}, {"environments", std::move(out)}}) << std::endl;
  return all_ok ? 0 : 1;
}

int AuditExport(service::DirectoryService& directory, service::AuditLog& audit, const AuditCommandOptions& o) {
  auto env = directory.ResolveEnvironment(o.env);
  if (!env) throw std::runtime_error(env.error().message);
  auto filter = Filter(o);
  if (!filter) throw std::runtime_error(filter.error().message);
  // Recorded first: an export that leaves this host is on the chain before it does.
  if (auto st = audit.Record(audit.CommandRow(env->id, "audit export", "audit.export", o.subject, nullptr, 0)); !st)
    throw std::runtime_error(st.error().message);
  auto st = audit.Export(env->id, *filter, [](const store::AuditRow& row) { std::cout << service::AuditJson(row) << '\n'; });
  std::cout << std::flush;
  if (!st) throw std::runtime_error(st.error().message);
  return 0;
}

namespace {

std::string QueryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      int byte = 0;
      if (raw[i] == '%' && i + 2 < raw.size() &&
          std::from_chars(raw.data() + i + 1, raw.data() + i + 3, byte, 16).ptr == raw.data() + i + 3) {
        out.push_back(static_cast<char>(byte));
        i += 2;
      } else {
        out.push_back(raw[i] == '+' ? ' ' : raw[i]);
      }
    }
    return out;
  }
  return {};
}

http::Response Error(int status, std::string_view message, std::string_view field = {}) {
  json::object o{{"error", message}};
  if (!field.empty()) o["field"] = field;
  return http::Response::Json(status, json::serialize(o));
}

}  // namespace

void MountAuditRoute(http::Router& router, service::DirectoryService& directory, service::AuditLog& audit) {
  router.Add("GET", "/admin/v1/audit", http::Exec::kWorker,
             [&directory, &audit](const http::Request& req, const http::PathParams&) {
               std::string secret(req.Header("x-api-key"));
               if (secret.empty()) {
                 const std::string_view auth = req.Header("authorization");
                 if (auth.starts_with("Bearer ")) secret = std::string(auth.substr(7));
               }
               if (secret.empty()) return Error(401, "an admin API key is required");
               // An admin key of any API it was made for.
               std::optional<service::ApiKeyInfo> key;
               for (core::Api api : {core::kCatalyzeApi, core::kPingOneApi, core::kQuickBloxApi, core::kCommCareApi,
                                     core::kScimApi}) {
                 auto k = directory.AuthenticateApiKey(secret, "", api);
                 if (k) {
                   key = *k;
                   break;
                 }
               }
               if (!key) return Error(401, "an admin API key is required");
               if (key->role != service::KeyRole::kAdmin) return Error(403, "only an admin API key may read the audit trail");
               AuditCommandOptions o;
               o.env = QueryValue(req.query, "env");
               o.since = QueryValue(req.query, "since");
               o.until = QueryValue(req.query, "until");
               o.subject = QueryValue(req.query, "subject");
               auto env = o.env.empty() ? directory.GetEnvironment(key->environment_id) : directory.ResolveEnvironment(o.env);
               if (!env || env->id != key->environment_id)
                 return Error(404, "no such environment for this key", "env");
               auto filter = Filter(o);
               if (!filter) return Error(400, filter.error().message, filter.error().field);
               core::Principal principal;
               principal.environment_id = env->id;
               principal.kind = core::CredentialKind::kAdminKey;
               principal.credential_id = key->id;
               store::AuditRow row = audit.Row(principal, "audit.export", o.subject, nullptr, 0);
               row.api = "admin";
               if (auto st = audit.Record(std::move(row)); !st) return Error(503, "service unavailable");
               std::string body;
               auto st = audit.Export(env->id, *filter, [&body](const store::AuditRow& r) {
                 body += service::AuditJson(r);
                 body += '\n';
               });
               if (!st) return Error(503, "service unavailable");
               http::Response r;
               r.status = 200;
               r.content_type = "application/x-ndjson";
               r.body = std::move(body);
               return r;
             });
}

}  // namespace roster::cli
