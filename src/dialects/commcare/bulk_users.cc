// bulk-user: /a/{domain}/api/bulk-user/v1/ (and v0.4/v0.5), CommCare's BulkUserResource:
// a few fields of every mobile worker, `q` to search, `fields` to pick fields.
#include <algorithm>
#include <array>

#include "dialects/commcare/common.h"
#include "query/filter.h"

namespace roster::dialects::commcare {
namespace json = boost::json;

namespace {

constexpr std::array<const char*, 7> kBulkFields = {"id",        "email",         "username",    "first_name",
                                                    "last_name", "phone_numbers", "resource_uri"};

json::object BulkWire(const core::User& user, const std::vector<std::string>& fields) {
  const core::Profile& p = user.profile;
  json::object all;
  all["id"] = HexId(user.id);
  const core::Contact* email = p.PrimaryEmail();
  all["email"] = email ? email->value : std::string();
  all["username"] = user.username;
  all["first_name"] = p.name.given_name;
  all["last_name"] = p.name.family_name;
  json::array phones;
  for (const auto& n : PhoneList(p)) phones.emplace_back(n);
  all["phone_numbers"] = std::move(phones);
  all["resource_uri"] = "";  // CommCare's is always empty here
  if (fields.empty()) return all;
  json::object picked;
  for (const auto& f : fields) picked[f] = all.at(f);
  return picked;
}

http::Response List(const Context& c, const Caller& caller, const http::Request& req) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  auto page = ReadPage(query);
  if (!page) return Fail(page.error());
  std::vector<std::string> fields;
  for (const auto& q : query) {
    if (q.key != "fields") continue;
    if (std::find_if(kBulkFields.begin(), kBulkFields.end(), [&](const char* f) { return q.value == f; }) ==
        kBulkFields.end())
      return ErrorResponse(400, q.value + " is not a valid field");
    fields.push_back(q.value);
  }
  // `q`: CommCare passes it to Elasticsearch; here, a case-insensitive substring of the
  // username, first or last name or email (the service's query engine evaluates it).
  std::optional<query::Node> filter;
  if (auto q = QueryValue(query, "q"); q && !q->empty()) {
    std::vector<query::Node> any;
    for (const char* path : {"username", "name.givenName", "name.familyName", "emails.value"})
      any.push_back(query::Compare(query::Path(path), query::Op::kCo, query::String(*q)));
    filter = query::Or(std::move(any));
  }
  service::UserQuery q;
  q.environment_id = caller.domain.id;
  q.filter = filter ? &*filter : nullptr;
  q.page_size = static_cast<int>(page->limit);
  q.skip = page->offset;
  q.count = true;
  auto found = c.s.users.As(caller.principal).Query(q);
  if (!found) return Fail(found.error());
  json::array objects;
  for (const auto& u : found->users) objects.push_back(BulkWire(u, fields));
  json::object out;
  out["meta"] = PageMeta(*page, found->matched, RequestListUri(req), query);
  out["objects"] = std::move(objects);
  return Json(200, out);
}

}  // namespace

void MountBulkUsers(http::Router& router, const Context& c) {
  AddRoutes(router, "GET", "bulk-user", "", http::Exec::kWorker,
            Authorized(c, Shape::kError, [c](const Caller& caller, const http::Request& req, const http::PathParams&) {
              return List(c, caller, req);
            }));
}

}  // namespace roster::dialects::commcare
