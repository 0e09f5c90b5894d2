// Web-user invitations: POST /a/{domain}/api/invitation/v1/ (webuser.rst, "Web User
// Invitation Creation"), kept by service::InvitationAccess. CommCare serves POST only;
// GET of the list and of one invitation are Roster's, for the administrator to see them.
// Creating one mails the invitee the link to the invitation page (/pages/invitation).
#include "dialects/commcare/common.h"
#include "dialects/commcare/web_user_spec.h"
#include "service/invitations.h"

namespace roster::dialects::commcare {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr int kScanPage = 500;

json::object InvitationWire(const service::Record& r, std::string_view domain) {
  json::object o;
  o["id"] = r.id;
  o["email"] = r.body.at("email");
  o["role"] = r.body.at("role");
  const auto primary = TextOrNull(r.body, "primary_location_id");
  o["primary_location_id"] = primary.is_string() ? json::value(HexId(primary.get_string())) : primary;
  o["assigned_location_ids"] = HexIdList(r.body.if_contains("assigned_location_ids"));
  o["profile"] = TextOrNull(r.body, "profile");
  const auto* data = r.body.if_contains("user_data");
  o["user_data"] = data && data->is_object() ? data->get_object() : json::object();
  o["tableau_role"] = TextOrNull(r.body, "tableau_role");
  const auto* groups = r.body.if_contains("tableau_groups");
  o["tableau_groups"] = groups && groups->is_array() ? groups->get_array() : json::array();
  o["resource_uri"] = "/a/" + std::string(domain) + "/api/v0.5/invitation/" + r.id + "/";
  return o;
}

http::Response Create(const Context& c, const Caller& caller, const http::Request& req) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  if (auto st = core::Require(caller.principal, core::kCredentialsAdmin); !st) return Fail(st.error());
  auto body = ParseBody(req);
  if (!body) return Fail(body.error());
  auto checked = CheckWebUserSpec(c, caller, *body, true);
  if (!checked) return Fail(checked.error());
  if (checked->refusal) return *checked->refusal;
  const WebUserSpec& spec = *checked->spec;
  service::InvitationFields f;
  f.email = *spec.email;
  f.role = *spec.role;
  if (spec.locations) f.locations = *spec.locations;
  f.profile = spec.profile;
  if (spec.user_data) f.user_data = *spec.user_data;
  f.tableau_role = spec.tableau_role;
  if (spec.tableau_groups) f.tableau_groups = *spec.tableau_groups;
  f.invited_by = caller.web_user_id;
  // The invitation mail, queued in the invitation's own write, links to the page where
  // the invitee accepts it by choosing a password (src/dialects/pages/).
  service::InvitationMail mail{PageLink(c, "invitation", caller.domain.id), caller.domain.name,
                               c.s.clock.NowMillis()};
  auto created = service::InvitationAccess(c.s.records, caller.principal).Create(f, mail);
  if (!created) {
    // A concurrent invitation of the same email took the claim first.
    if (created.error().code == ErrorCode::kAlreadyExists) return ValidationErrors({created.error().message});
    return Fail(created.error());
  }
  auto response = Json(201, InvitationWire(*created, caller.domain.name));
  response.headers.emplace_back("Location", "/a/" + caller.domain.name + "/api/v0.5/invitation/" + created->id + "/");
  return response;
}

http::Response List(const Context& c, const Caller& caller, const http::Request& req) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  if (auto st = core::Require(caller.principal, core::kCredentialsAdmin); !st) return Fail(st.error());
  auto page = ReadPage(query);
  if (!page) return Fail(page.error());
  service::InvitationAccess access(c.s.records, caller.principal);
  json::array objects;
  std::int64_t total = 0, after = 0;
  for (;;) {
    auto records = access.List(after, kScanPage);
    if (!records) return Fail(records.error());
    for (const auto& r : *records) {
      if (page->Contains(total)) objects.push_back(InvitationWire(r, caller.domain.name));
      ++total;
    }
    if (static_cast<int>(records->size()) < kScanPage) break;
    after = records->back().number;
  }
  json::object out;
  out["meta"] = PageMeta(*page, total, RequestListUri(req), query);
  out["objects"] = std::move(objects);
  return Json(200, out);
}

http::Response Get(const Context& c, const Caller& caller, const http::Request& req,
                   const http::PathParams& params) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  if (auto st = core::Require(caller.principal, core::kCredentialsAdmin); !st) return Fail(st.error());
  const auto not_found = [] { return ErrorResponse(404, "No invitation with this id in this project space."); };
  std::string raw(params.Get("id"));  // the wire's dashed UUID, or its 32 hex digits
  std::erase(raw, '-');
  auto id = UuidFromHex(raw);
  if (!id) return not_found();
  auto r = service::InvitationAccess(c.s.records, caller.principal).Get(*id);
  if (!r) return r.error().code == ErrorCode::kNotFound ? not_found() : Fail(r.error());
  return Json(200, InvitationWire(*r, caller.domain.name));
}

}  // namespace

void MountInvitations(http::Router& router, const Context& c) {
  AddRoutes(router, "POST", "invitation", "", http::Exec::kWorker,
            Authorized(c, Shape::kError, [c](const Caller& caller, const http::Request& req, const http::PathParams&) {
              return Create(c, caller, req);
            }));
  AddRoutes(router, "GET", "invitation", "", http::Exec::kWorker,
            Authorized(c, Shape::kError, [c](const Caller& caller, const http::Request& req, const http::PathParams&) {
              return List(c, caller, req);
            }));
  AddRoutes(router, "GET", "invitation", "/{id}", http::Exec::kInline,
            Authorized(c, Shape::kError,
                       [c](const Caller& caller, const http::Request& req, const http::PathParams& params) {
                         return Get(c, caller, req, params);
                       }));
}

}  // namespace roster::dialects::commcare
