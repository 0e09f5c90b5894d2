// Mobile workers: /a/{domain}/api/v0.5/user/. Every user of the domain's environment is
// a mobile worker here, whichever dialect created it.
#include "core/rules.h"
#include "dialects/commcare/common.h"
#include "service/account_confirmations.h"
#include "service/http_credentials.h"
#include "http/etag.h"
#include "service/groups.h"
#include "service/locations.h"

namespace roster::dialects::commcare {
namespace json = boost::json;
using core::ErrorCode;

namespace {


http::Response UserNotFound() { return ErrorResponse(404, "No mobile worker with this id in this project space."); }

core::Result<std::vector<std::string>> GroupsOf(const Context& c, const std::string& env, const std::string& user_id) {
  auto groups = c.s.records.MembershipsOf(env, user_id, service::kGroupKind);
  if (!groups) return std::unexpected(groups.error());
  std::vector<std::string> ids;
  for (const auto& g : *groups) ids.push_back(g.id);
  return ids;
}

core::Result<json::object> Wire(const Context& c, const Caller& caller, const core::User& user) {
  auto groups = GroupsOf(c, caller.domain.id, user.id);
  if (!groups) return std::unexpected(groups.error());
  auto locations = service::LocationAccess(c.s.records, caller.principal).AssignmentOf(user);
  if (!locations) return std::unexpected(locations.error());
  return UserWire(user, *groups, caller.domain.name, *locations);
}

// The locations a write gives the user (service::LocationAccess checks them): nullopt
// when the body names neither `locations` nor `primary_location`. An update that names
// only one keeps the other as it is (a primary no longer among the locations moves to
// the first of them).
core::Result<std::optional<service::LocationAssignment>> Assignment(const Context& c, const Caller& caller,
                                                                    const UserFields& fields,
                                                                    const core::User* current) {
  if (!fields.locations && !fields.primary_location) return std::optional<service::LocationAssignment>();
  service::LocationAccess access(c.s.records, caller.principal);
  service::LocationAssignment wanted;
  if (current) {
    auto now = access.AssignmentOf(*current);
    if (!now) return std::unexpected(now.error());
    wanted = std::move(*now);
  }
  if (fields.locations) {
    wanted.locations = *fields.locations;
    if (!fields.primary_location &&
        std::find(wanted.locations.begin(), wanted.locations.end(), wanted.primary) == wanted.locations.end())
      wanted.primary.clear();
  }
  if (fields.primary_location) wanted.primary = *fields.primary_location;
  auto checked = access.CheckAssignment(std::move(wanted));
  if (!checked) return std::unexpected(checked.error());
  return std::optional<service::LocationAssignment>(std::move(*checked));
}

// If-Match on a write to user `id` (see http/etag.h): the write's options.
core::Result<service::WriteOptions> IfMatch(service::UserAccess& users, const http::Request& req,
                                            const std::string& id) {
  auto expected = http::ExpectedVersion(req, [&] { return users.VersionOf(id); });
  if (!expected) return std::unexpected(expected.error());
  service::WriteOptions options;
  options.expected_version = *expected;
  return options;
}

// The first id in `groups` that names no group of the domain, as an error naming it
// (a create checks before its write; an update only after the store refused it).
core::Status CheckGroupsExist(const Context& c, const std::string& env, const std::vector<std::string>& groups) {
  for (std::size_t i = 0; i < groups.size(); ++i) {
    auto g = c.s.records.Get(env, service::kGroupKind, groups[i]);
    if (g) continue;
    if (g.error().code != ErrorCode::kNotFound) return std::unexpected(g.error());
    const std::string at = "groups[" + std::to_string(i) + "]";
    return core::InvalidArgument(at, at + " is not a group of this project space");
  }
  return {};
}

// Whether `raw` (a PUT's username) names the user's current username.
bool SameUsername(const Context& c, const Caller& caller, const core::User& user, std::string_view raw) {
  auto current = core::FoldUsername(user.username);
  if (!current) return false;
  if (auto folded = core::FoldUsername(raw); folded && *folded == *current) return true;
  auto formatted = MobileUsername(raw, caller.domain.name, c.account_root);
  if (!formatted) return false;
  auto folded = core::FoldUsername(*formatted);
  return folded && *folded == *current;
}

http::Response List(const Context& c, const Caller& caller, const http::Request& req) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  auto page = ReadPage(query);
  if (!page) return Fail(page.error());
  // CommCare's `archived`: true lists the retired workers instead of the others; a value
  // that is not a boolean counts as false.
  const bool archived = ParseBool(QueryValue(query, "archived").value_or("")).value_or(false);
  const std::string& env = caller.domain.id;
  std::optional<std::string> group;
  if (auto g = QueryValue(query, "group"); g && !g->empty()) {
    auto uuid = UuidFromHex(*g);
    if (uuid) {
      auto found = c.s.records.Get(env, service::kGroupKind, *uuid);
      if (!found && found.error().code != ErrorCode::kNotFound) return Fail(found.error());
      if (found) group = *uuid;
    }
    if (!group) return ErrorResponse(400, "Project " + caller.domain.name + " has no group with id=" + *g);
  }
  // The query engine walks the domain's users (or the group's members) in creation
  // order, reading at most kDefaultQueryBudget of them. Within that budget the page and
  // total_count are exact; beyond it, `cursor` (a Roster parameter in meta.next,
  // "<number>" or "<number>.<matches still to skip>") says where the walk goes on, and
  // total_count is the count so far (at least).
  service::UserQuery q;
  q.environment_id = env;
  q.within_record = group.value_or("");
  q.archived = archived ? service::ArchivedUsers::kOnly : service::ArchivedUsers::kExclude;
  q.page_size = static_cast<int>(page->limit);
  q.count = true;
  q.skip = page->offset;
  std::int64_t before = 0;  // matches before the walk's start
  auto cursor = ReadCursor(query, *page);
  if (!cursor) return Fail(cursor.error());
  if (*cursor) {
    q.after = (*cursor)->after;
    q.skip = (*cursor)->skip;
    before = page->offset - (*cursor)->skip;
  }
  auto found = c.s.users.As(caller.principal).Query(q);
  if (!found) return Fail(found.error());
  const std::vector<core::User>& picked = found->users;
  const std::int64_t matched = before + found->matched;
  json::array objects;
  for (const auto& u : picked) {
    auto wire = Wire(c, caller, u);
    if (!wire) return Fail(wire.error());
    objects.push_back(std::move(*wire));
  }
  json::object out;
  out["meta"] = PageMeta(*page, matched, RequestListUri(req), query);
  // A walk the budget stopped goes on from where it stopped; one that came with a cursor
  // goes on with one too (an offset alone would start from the beginning again).
  if (found->budget_hit || (*cursor && page->offset + page->limit < matched)) {
    const auto returned = static_cast<std::int64_t>(picked.size());
    const std::int64_t still_to_skip = std::max<std::int64_t>(0, page->offset - matched);
    const Cursor next{returned == page->limit ? found->page_end : found->next_after, still_to_skip};
    const std::int64_t next_offset = still_to_skip > 0 ? page->offset : page->offset + returned;
    out["meta"].as_object()["next"] = CursorUri(RequestListUri(req), query, page->limit, next_offset, next);
  }
  out["objects"] = std::move(objects);
  return Json(200, out);
}

// require_account_confirmation and send_confirmation_email_now (mobile-worker.rst).
struct ConfirmationFlags {
  bool require = false, send_now = false;
};
core::Result<ConfirmationFlags> ReadConfirmationFlags(const json::object& body) {
  ConfirmationFlags out;
  for (auto [key, flag] : {std::pair{"require_account_confirmation", &out.require},
                           std::pair{"send_confirmation_email_now", &out.send_now}}) {
    const auto* v = body.if_contains(key);
    if (!v || v->is_null()) continue;
    if (!v->is_bool()) return core::InvalidArgument(key, std::string(key) + " must be a boolean");
    *flag = v->get_bool();
  }
  return out;
}

// The confirmation flow, its mail linking to the confirm page (src/dialects/pages/).
service::AccountConfirmations Confirmations(const Context& c, const std::string& env) {
  return service::AccountConfirmations(c.s, PageLink(c, "confirm", env));
}

http::Response Create(const Context& c, const Caller& caller, const http::Request& req) {
  auto body = ParseBody(req);
  if (!body) return Fail(body.error());
  const auto* raw = body->if_contains("username");
  if (!raw || raw->is_null()) return ErrorResponse(400, "Username is required.");
  if (!raw->is_string()) return ErrorResponse(400, "username must be a string");
  const std::string raw_username(raw->get_string());
  auto username = MobileUsername(raw_username, caller.domain.name, c.account_root);
  if (!username) return Fail(username.error());
  auto fields = ReadUserFields(*body);
  if (!fields) return Fail(fields.error());
  auto confirmation = ReadConfirmationFlags(*body);
  if (!confirmation) return Fail(confirmation.error());
  // Two-stage provisioning (require_account_confirmation): no password, an email to send
  // the confirmation to; the worker is made inactive and unconfirmed (the service's rule).
  if (confirmation->require) {
    if (fields->password)
      return ErrorResponse(400, "'password' must be omitted when 'require_account_confirmation' is set: the mobile "
                                "worker chooses it when confirming the account");
    if (!fields->email || fields->email->empty())
      return ErrorResponse(400, "'email' is required when 'require_account_confirmation' is set: the confirmation "
                                "is sent there");
  }
  // CommCare's message (v0_5.py obj_create); Connect accounts are not served here.
  if (!fields->password && !confirmation->require) return ErrorResponse(400, "Password or connect username required");
  const std::string& env = caller.domain.id;
  service::CreateUserRequest request;
  request.environment_id = env;
  request.user.username = *username;
  request.user.active = true;  // CommCare's mobile workers start active
  ApplyUserFields(*fields, request.user);
  request.password = fields->password;
  // Unconfirmed; with send_confirmation_email_now, its link and mail in the same write.
  if (confirmation->require) Confirmations(c, env).PrepareNew(request, confirmation->send_now);
  if (fields->groups) {
    if (auto st = CheckGroupsExist(c, env, *fields->groups); !st) return Fail(st.error());
    for (const auto& g : *fields->groups) request.member_of.push_back({service::kGroupKind, g});
  }
  auto locations = Assignment(c, caller, *fields, nullptr);
  if (!locations) return Fail(locations.error());
  if (*locations) {
    for (const auto& l : (*locations)->locations) request.member_of.push_back({service::kLocationKind, l});
    service::SetPrimaryLocation(request.user, (*locations)->primary);
  }
  // One transaction: the user, its password, its groups (the default groups too), its
  // locations and, if asked, its confirmation link and mail.
  auto created = c.s.users.As(caller.principal).Create(request);
  if (!created) {
    // A taken username is named in full, as CommCare's generate_mobile_username does.
    if (created.error().code == ErrorCode::kAlreadyExists) return ErrorResponse(400, UsernameTakenMessage(*username));
    return Fail(created.error());
  }
  // The worker's Digest secret, beside its password (a failure here leaves Digest off
  // until its next Basic sign-in; service/http_credentials.h).
  if (fields->password)
    (void)service::HttpCredentials(c.s, kDigestRealm)
        .StoreUserDigest(env, created->user.id, created->user.username, *fields->password);
  auto wire = Wire(c, caller, created->user);
  if (!wire) return Fail(wire.error());
  (*wire)["user_id"] = HexId(created->user.id);
  http::Response r = http::WithETag(Json(201, *wire), created->user.version);
  r.headers.emplace_back("Location", DetailUri(caller.domain.name, "user", created->user.id));
  return r;
}

http::Response Get(const Context& c, const Caller& caller, const http::Request& req, const http::PathParams& params) {
  const auto query = ParseQuery(req.query);
  if (auto st = CheckFormat(query); !st) return Fail(st.error());
  auto id = UuidFromHex(params.Get("id"));
  if (!id) return UserNotFound();
  auto user = c.s.users.As(caller.principal).Get(*id);
  if (!user) return user.error().code == ErrorCode::kNotFound ? UserNotFound() : Fail(user.error());
  auto wire = Wire(c, caller, *user);
  if (!wire) return Fail(wire.error());
  return http::WithETag(Json(200, *wire), user->version);
}

http::Response Update(const Context& c, const Caller& caller, const http::Request& req,
                      const http::PathParams& params) {
  auto id = UuidFromHex(params.Get("id"));
  if (!id) return UserNotFound();
  const std::string& env = caller.domain.id;
  auto users = c.s.users.As(caller.principal);
  auto matched = IfMatch(users, req, *id);
  if (!matched) return matched.error().code == ErrorCode::kNotFound ? UserNotFound() : Fail(matched.error());
  auto current = users.Get(*id);
  if (!current) return current.error().code == ErrorCode::kNotFound ? UserNotFound() : Fail(current.error());
  auto body = ParseBody(req);
  if (!body) return Fail(body.error());
  // The username cannot change; sending the current one back (as a GET-modify-PUT
  // script does) is fine.
  if (const auto* raw = body->if_contains("username"); raw && !raw->is_null()) {
    if (!raw->is_string() || !SameUsername(c, caller, *current, raw->get_string()))
      return ErrorResponse(400,
                           "The request resulted in the following errors: Attempted to update unknown or "
                           "non-editable field 'username'");
  }
  auto fields = ReadUserFields(*body);
  if (!fields && fields.error().field == "role")  // an update error, in CommCare's obj_update words
    return ErrorResponse(400, "The request resulted in the following errors: " + fields.error().message);
  if (!fields) return Fail(fields.error());
  auto confirmation = ReadConfirmationFlags(*body);
  if (!confirmation) return Fail(confirmation.error());
  // send_confirmation_email_now on an update: only for an unconfirmed worker with an email
  // (v0_5.py obj_update refuses the others before writing).
  if (confirmation->send_now) {
    if (service::AccountConfirmations::IsConfirmed(*current))
      return ErrorResponse(400, "The account of this mobile worker is already confirmed.");
    const core::Contact* email = current->profile.PrimaryEmail();
    if (fields->email ? fields->email->empty() : email == nullptr)
      return ErrorResponse(400, "The mobile worker has no email address to send the confirmation to.");
  }
  // One transaction: the profile, the password and, if given, the groups (replaced
  // wholesale); a group that is not the domain's refuses all of it.
  auto locations = Assignment(c, caller, *fields, &*current);
  if (!locations) return Fail(locations.error());
  service::WriteOptions options = *matched;
  if (fields->groups) options.memberships.push_back({service::kGroupKind, *fields->groups});
  if (*locations) options.memberships.push_back({service::kLocationKind, (*locations)->locations});
  auto user = users.Update(
      *id,
      [&](core::User& u) -> core::Status {
        ApplyUserFields(*fields, u);
        if (*locations) service::SetPrimaryLocation(u, (*locations)->primary);
        return {};
      },
      fields->password, options);
  if (!user) {
    if (user.error().code == ErrorCode::kNotFound && user.error().field == "record") {
      // Name the entry (looked up only on this error path).
      if (fields->groups)
        if (auto st = CheckGroupsExist(c, env, *fields->groups); !st) return Fail(st.error());
      return ErrorResponse(400, "groups or locations: one was deleted meanwhile; retry");
    }
    return user.error().code == ErrorCode::kNotFound ? UserNotFound() : Fail(user.error());
  }
  if (fields->password)
    (void)service::HttpCredentials(c.s, kDigestRealm).StoreUserDigest(env, user->id, user->username, *fields->password);
  if (confirmation->send_now)
    if (auto st = Confirmations(c, env).Send(env, *user); !st) return Fail(st.error());
  auto wire = Wire(c, caller, *user);
  if (!wire) return Fail(wire.error());
  return http::WithETag(Json(200, *wire), user->version);
}

// DELETE retires (archives) the worker; activate/deactivate flip `active`.
http::Response SetState(const Context& c, const Caller& caller, const http::Request& req,
                        const http::PathParams& params, bool retire, bool active) {
  auto id = UuidFromHex(params.Get("id"));
  if (!id) return UserNotFound();
  auto users = c.s.users.As(caller.principal);
  auto options = IfMatch(users, req, *id);
  if (!options) return options.error().code == ErrorCode::kNotFound ? UserNotFound() : Fail(options.error());
  auto user = users.Update(
      *id,
      [&](core::User& u) -> core::Status {
        if (retire) {
          u.archived = true;
          u.active = false;
          return {};
        }
        if (u.archived) return core::Fail(ErrorCode::kFailedPrecondition, "This mobile worker is retired.");
        u.active = active;
        return {};
      },
      std::nullopt, *options);
  if (!user) return user.error().code == ErrorCode::kNotFound ? UserNotFound() : Fail(user.error());
  if (retire) return http::WithETag(Empty(202), user->version);
  return http::WithETag(Json(202, json::object()), user->version);
}

}  // namespace

void MountUsers(http::Router& router, const Context& c) {
  AddRoutes(router, "GET", "user", "", http::Exec::kWorker,
             Authorized(c, Shape::kError, [c](const Caller& caller, const http::Request& req, const http::PathParams&) {
               return List(c, caller, req);
             }));
  AddRoutes(router, "POST", "user", "", http::Exec::kWorker,
             Authorized(c, Shape::kError, [c](const Caller& caller, const http::Request& req, const http::PathParams&) {
               return Create(c, caller, req);
             }));
  AddRoutes(router, "GET", "user", "/{id}", http::Exec::kInline,
             Authorized(c, Shape::kError,
                        [c](const Caller& caller, const http::Request& req, const http::PathParams& params) {
                          return Get(c, caller, req, params);
                        }));
  AddRoutes(router, "PUT", "user", "/{id}", http::Exec::kWorker,
             Authorized(c, Shape::kError,
                        [c](const Caller& caller, const http::Request& req, const http::PathParams& params) {
                          return Update(c, caller, req, params);
                        }));
  AddRoutes(router, "DELETE", "user", "/{id}", http::Exec::kWorker,
             Authorized(c, Shape::kError,
                        [c](const Caller& caller, const http::Request& req, const http::PathParams& params) {
                          return SetState(c, caller, req, params, true, false);
                        }));
  for (const bool active : {true, false}) {
    AddRoutes(router, "POST", "user", active ? "/{id}/activate" : "/{id}/deactivate",
               http::Exec::kWorker,
               Authorized(c, Shape::kError,
                          [c, active](const Caller& caller, const http::Request& req, const http::PathParams& params) {
                            return SetState(c, caller, req, params, false, active);
                          }));
  }
}

}  // namespace roster::dialects::commcare
