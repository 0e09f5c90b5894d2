// Users: /users.json, /users/{id}.json, lookups, lists, external ids, password reset.
#include <algorithm>
#include <charconv>
#include <functional>
#include <map>

#include "core/rules.h"
#include "crypto/crypto.h"
#include "dialects/quickblox/common.h"
#include "dialects/quickblox/filter.h"
#include "dialects/quickblox/mapping.h"
#include "http/etag.h"
#include "service/password_resets.h"

namespace roster::dialects::quickblox {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr int kDefaultPerPage = 10;
constexpr int kMaxPerPage = 100;

using Body = std::function<http::Response(const Services&, const Caller&, const Params&, const http::PathParams&)>;

// Authenticates, parses the parameters, runs `body`, and adds QB-Token-ExpirationDate.
void Route(http::Router& router, const Services& s, std::string_view method, std::string_view pattern,
           http::Exec exec, Body body) {
  AddRoute(router, method, pattern, exec, [s, body](const http::Request& req, const http::PathParams& path) {
    auto caller = Authenticate(s, req);
    if (!caller) return Fail(caller.error());
    auto params = ParseParams(req);
    if (!params) return WithExpiry(*caller, BadRequest(params.error().message));
    params->request = &req;
    return WithExpiry(*caller, body(s, *caller, *params, path));
  });
}

// One user, with its ETag.
http::Response UserResponse(int status, const core::User& user) {
  return http::WithETag(Json(status, json::object{{"user", ToWire(user)}}), user.version);
}

// The request's `user` object, or nullptr when there is none or it is empty.
const json::object* UserObject(const Params& p) {
  const auto* v = p.object.if_contains("user");
  if (v == nullptr || !v->is_object() || v->get_object().empty()) return nullptr;
  return &v->get_object();
}

int IntParam(const json::object& p, const char* key, int fallback, int low, int high) {
  const auto text = Text(p, key);
  if (!text || text->empty()) return fallback;
  int v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec == std::errc::result_out_of_range) return high;
  if (ec != std::errc() || ptr != text->data() + text->size()) return fallback;
  return std::clamp(v, low, high);
}

// {"current_page", "per_page", "total_entries", "items": [{"user": ...}]}, plus
// "next_filter" when the read budget cut a filtered list short (see ListPage).
http::Response Envelope(int page, int per_page, std::int64_t total, json::array items,
                        std::int64_t next_after = 0) {
  json::object out{{"current_page", page}, {"per_page", per_page}, {"total_entries", total}, {"items", std::move(items)}};
  if (next_after != 0) out["next_filter"] = "number id gt " + std::to_string(next_after);
  return Json(200, out);
}

json::array Items(const std::vector<core::User>& users, bool reversed = false) {
  json::array items;
  for (const auto& u : users) items.push_back(json::object{{"user", ToWire(u)}});
  if (reversed) std::reverse(items.begin(), items.end());
  return items;
}

// An unfiltered list in id order: a direct keyset page. Its first user is found from the
// index alone (UserNumberAt), then per_page users are read: the cost does not grow with
// the environment. total_entries is the store's count (retired users included: they
// hold their position but are not shown).
http::Response KeysetPage(service::UserAccess users, int page, int per_page, bool descending) {
  auto total = users.Count();
  if (!total) return Fail(total.error());
  const std::int64_t offset = static_cast<std::int64_t>(page - 1) * per_page;
  // Descending: this page holds positions [total - offset - per_page, total - offset).
  const std::int64_t first = descending ? std::max<std::int64_t>(0, *total - offset - per_page) : offset;
  const std::int64_t size = descending ? *total - offset - first : per_page;
  if (size <= 0 || first >= *total) return Envelope(page, per_page, *total, {});
  std::int64_t after = 0;
  if (first > 0) {
    auto number = users.NumberAt(first - 1);
    if (!number) return Fail(number.error());
    if (*number == 0) return Envelope(page, per_page, *total, {});
    after = *number;
  }
  service::UserQuery q;
  q.after = after;
  q.page_size = static_cast<int>(size);
  auto found = users.Query(q);
  if (!found) return Fail(found.error());
  return Envelope(page, per_page, *total, Items(found->users, descending));
}

// A filtered or otherwise ordered list: the matches among at most kDefaultQueryBudget
// users read in id order (from the filters' lowest id on), sorted by `order`, one page of
// them. total_entries counts the matches in that window; when the budget ended the
// window before the environment did, "next_filter" ("number id gt N") is the filter to
// add to read the next window.
http::Response ListPage(service::UserAccess users, const json::object& p, const query::Node* tree,
                        const Order& order) {
  const int page = IntParam(p, "page", 1, 1, 1'000'000);
  const int per_page = IntParam(p, "per_page", kDefaultPerPage, 1, kMaxPerPage);
  // created_at is assigned with the id, so it orders as the id does.
  const bool by_id = order.field == "id" || order.field == "created_at";
  if (tree == nullptr && by_id) return KeysetPage(users, page, per_page, order.descending);
  service::UserQuery q;
  q.filter = tree;
  q.extension = Attribute;
  q.page_size = service::kDefaultQueryBudget;
  auto found = users.Query(q);
  if (!found) return Fail(found.error());
  std::vector<json::object> window;
  window.reserve(found->users.size());
  for (const auto& u : found->users) window.push_back(ToWire(u));
  std::stable_sort(window.begin(), window.end(),
                   [&](const json::object& a, const json::object& b) { return Before(a, b, order); });
  json::array items;
  const std::size_t start = static_cast<std::size_t>(page - 1) * static_cast<std::size_t>(per_page);
  for (std::size_t i = start; i < window.size() && i < start + static_cast<std::size_t>(per_page); ++i)
    items.push_back(json::object{{"user", std::move(window[i])}});
  return Envelope(page, per_page, static_cast<std::int64_t>(window.size()), std::move(items),
                  found->budget_hit ? found->next_after : 0);
}

// The first user matching one filter (login or email eq: the engine answers from the
// blind index), or 404.
http::Response FirstMatch(service::UserAccess users, const Filter& filter) {
  const query::Node tree = ToQuery({filter});
  service::UserQuery q;
  q.filter = &tree;
  q.extension = Attribute;
  q.page_size = 1;
  auto found = users.Query(q);
  if (!found) return Fail(found.error());
  if (found->users.empty()) return NotFound();
  return UserResponse(200, found->users.front());
}

// QuickBlox keeps emails unique among its users: the service enforces it in the write.
service::WriteOptions QuickBloxRules() {
  service::WriteOptions options;
  options.exclusive_email = true;
  return options;
}

// If-Match on a write to `target` (just read): the write's options, QuickBlox's rules
// included. A stale one fails here already; the service checks it again in the write.
core::Result<service::WriteOptions> IfMatch(const Params& p, const core::User& target) {
  service::WriteOptions options = QuickBloxRules();
  if (p.request == nullptr) return options;
  auto expected = http::ExpectedVersion(*p.request, [&]() -> core::Result<std::int64_t> { return target.version; });
  if (!expected) return std::unexpected(expected.error());
  if (*expected && **expected != target.version) return core::VersionMismatch("user");
  options.expected_version = *expected;
  return options;
}

// Every value of `user` another user holds, each on its wire field (QuickBlox reports
// them all at once). Only the write itself decides; this is for the report.
core::Status AddConflicts(service::UserAccess& users, const core::User& user, FieldErrors& errors) {
  auto taken = users.Conflicts(user, QuickBloxRules());
  if (!taken) return std::unexpected(taken.error());
  for (const auto& kind : *taken)
    if (const std::string field = WireField(kind, user); !errors.Has(field)) errors.Add(field, "has already been taken");
  return {};
}

http::Response FailFor(const core::User& user, const core::Error& e) {
  if (e.code == ErrorCode::kAlreadyExists) {
    FieldErrors errors;
    errors.Add(WireField(e.field, user), "has already been taken");
    return errors.Response();
  }
  return Fail(e);
}

http::Response CreateUser(const Services& s, const Caller& caller, const Params& p) {
  const json::object* in = UserObject(p);
  if (in == nullptr) return NoData();
  FieldErrors errors;
  core::User user;
  user.active = true;
  ApplyUser(*in, true, user, errors);
  auto password = ReadPassword(*in, true, errors);
  if (!errors.empty()) return errors.Response();

  // Through a session (not the application's API key) a create is a sign-up.
  if (!caller.api_key)
    if (auto st = s.users.Admit(service::ThrottledAction::kSignUp, p.request->peer,
                                AppCredential(caller.application_id));
        !st)
      return Fail(st.error());
  auto users = Users(s, caller);
  if (auto st = AddConflicts(users, user, errors); !st) return Fail(st.error());
  if (!errors.empty()) return errors.Response();

  service::CreateUserRequest request;
  request.environment_id = caller.environment_id;
  request.user = std::move(user);
  request.password = std::move(password);
  request.options = QuickBloxRules();
  auto created = users.Create(request);
  if (!created) return FailFor(request.user, created.error());
  return UserResponse(201, created->user);
}

http::Response UpdateUser(const Services& s, const Caller& caller, const Params& p, const core::User& target) {
  if (auto st = MayChange(caller, target.id); !st) return Fail(st.error());
  auto options = IfMatch(p, target);
  if (!options) return Fail(options.error());
  const json::object* in = UserObject(p);
  if (in == nullptr) return NoData();

  FieldErrors errors;
  core::User preview = target;
  ApplyUser(*in, false, preview, errors);
  auto password = ReadPassword(*in, false, errors);
  const std::string old_password = Text(*in, "old_password").value_or("");
  // A new password proves the old one, unless the credential may set passwords
  // (password:set; core/access.h). The service checks the old one.
  const bool needs_old = password && !caller.principal.Has(core::kPasswordSet);
  if (needs_old && old_password.empty()) errors.Add("old_password", "can't be blank");
  if (!errors.empty()) return errors.Response();

  auto users = Users(s, caller);
  if (auto st = AddConflicts(users, preview, errors); !st) return Fail(st.error());
  if (!errors.empty()) return errors.Response();

  // A user changing its own password through its session stays signed in there: its
  // UserService session is the one kept.
  if (password && caller.session && caller.user_id == target.id)
    if (const auto* t = caller.session->body.if_contains("user_token"); t != nullptr && t->is_string())
      options->keep_session = std::string(t->get_string());
  auto updated = users.Update(
      target.id,
      [in](core::User& u) -> core::Status {
        FieldErrors again;  // re-applied to the current version; validated above
        ApplyUser(*in, false, u, again);
        if (!again.empty()) return core::InvalidArgument("base", "The user changed meanwhile; retry");
        return {};
      },
      password, *options, needs_old ? std::optional<std::string>(old_password) : std::nullopt);
  if (!updated) {
    if (updated.error().field == "current_password") {
      errors.Add("old_password", "is incorrect");
      return errors.Response();
    }
    return FailFor(preview, updated.error());
  }
  return UserResponse(200, *updated);
}

http::Response DeleteUser(const Services& s, const Caller& caller, const Params& p, const core::User& target) {
  if (auto st = MayChange(caller, target.id); !st) return Fail(st.error());
  auto options = IfMatch(p, target);
  if (!options) return Fail(options.error());
  if (auto st = Users(s, caller).Delete(target.id, *options); !st) return Fail(st.error());
  return Empty();
}

// The live user holding a unique claim. kNotFound.
core::Result<core::User> Holder(service::UserAccess users, const std::string& kind, const std::string& value) {
  auto found = users.FindBy(kind, value);
  if (!found) return std::unexpected(found.error());
  for (auto& u : *found)
    if (!u.archived) return std::move(u);
  return core::NotFound("user not found");
}

core::Result<core::User> ByExternalId(const Services& s, const Caller& caller, const http::PathParams& path) {
  const auto id = PathId(path.Get("id"));
  if (!id) return core::NotFound("user not found");
  return Holder(Users(s, caller), service::kExternalIdClaim, std::to_string(*id));
}

core::Result<core::User> ByNumber(const Services& s, const Caller& caller, const http::PathParams& path) {
  const auto id = PathId(path.Get("id"));
  if (!id) return core::NotFound("user not found");
  return UserByNumber(Users(s, caller), *id);
}

// GET /users/password/reset.json?email=: mails a single-use reset token to the user
// holding the email. Answers the same, after the same writes, whether or not it exists.
http::Response RequestReset(const Services& s, const Caller& caller, const Params& p, const std::string& public_url) {
  const std::string env = caller.environment_id;
  if (auto st = s.users.Admit(service::ThrottledAction::kPasswordReset, p.request->peer,
                              AppCredential(caller.application_id));
      !st)
    return Fail(st.error());
  const std::string email = Text(p.object, "email").value_or("");
  if (email.empty()) {
    FieldErrors errors;
    errors.Add("email", "can't be blank");
    return errors.Response();
  }
  const std::string address = core::NormalizeEmail(email);
  auto users = s.users.FindBy(env, "email", address);
  if (!users) return Fail(users.error());
  const core::User* user = nullptr;
  for (const auto& u : *users)
    if (!u.archived && user == nullptr) user = &u;
  // The mail links to the reset page (src/dialects/pages/), QuickBlox's own web page's stand-in.
  auto tokens = ResetTokenKinds();
  tokens.link_base = public_url + "/pages/reset/quickblox?env=" + env + "&token=";
  auto sent = service::PasswordResets(s, tokens).Request(env, "quickblox.reset:" + address, user);
  if (!sent) return Fail(sent.error());
  return Empty();
}

// POST /users/password/reset.json {token, password} (a Roster extension: QuickBlox
// completes resets on its own web page). Single use; ends the user's sessions.
http::Response CompleteReset(const Services& s, const Caller& caller, const Params& p) {
  const std::string env = caller.environment_id;
  if (auto st = s.users.Admit(service::ThrottledAction::kPasswordReset, p.request->peer,
                              AppCredential(caller.application_id));
      !st)
    return Fail(st.error());
  const std::string token = Text(p.object, "token").value_or("");
  FieldErrors errors;
  if (token.empty()) errors.Add("token", "can't be blank");
  auto password = ReadPassword(p.object, true, errors);
  if (!errors.empty()) return errors.Response();
  auto reset = service::PasswordResets(s, ResetTokenKinds()).Complete(env, token, *password);
  if (!reset) {
    if (reset.error().code == ErrorCode::kNotFound) return BaseError(422, "Reset token is invalid or expired");
    return Fail(reset.error());
  }
  return Empty();
}

}  // namespace

core::Result<core::User> UserByNumber(service::UserAccess users, std::int64_t number) {
  auto user = users.GetByNumber(number);
  if (user && user->archived) return core::NotFound("user not found");
  return user;
}

service::ResetTokens ResetTokenKinds() { return {kResetKind, kResetClaim}; }

void MountUsers(http::Router& router, const Services& s, const std::string& public_url) {
  Route(router, s, "POST", "/users.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          return CreateUser(s, caller, p);
        });

  Route(router, s, "GET", "/users.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          std::vector<Filter> filters;
          if (const auto* f = p.object.if_contains("filter")) {
            auto parsed = ParseFilterParam(*f);
            if (!parsed) return Fail(parsed.error());
            filters = std::move(*parsed);
          }
          auto order = ParseOrder(Text(p.object, "order").value_or(""));
          if (!order) return Fail(order.error());
          const std::optional<query::Node> tree =
              filters.empty() ? std::nullopt : std::optional<query::Node>(ToQuery(filters));
          return ListPage(Users(s, caller), p.object, tree ? &*tree : nullptr, *order);
        });

  Route(router, s, "GET", "/users/{id}", http::Exec::kInline,
        [](const Services& s, const Caller& caller, const Params&, const http::PathParams& path) {
          auto user = ByNumber(s, caller, path);
          if (!user) return Fail(user.error());
          return UserResponse(200, *user);
        });

  Route(router, s, "PUT", "/users/{id}", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams& path) {
          auto user = ByNumber(s, caller, path);
          if (!user) return Fail(user.error());
          return UpdateUser(s, caller, p, *user);
        });

  Route(router, s, "DELETE", "/users/{id}", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams& path) {
          auto user = ByNumber(s, caller, path);
          if (!user) return Fail(user.error());
          return DeleteUser(s, caller, p, *user);
        });

  Route(router, s, "GET", "/users/by_login.json", http::Exec::kInline,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          return FirstMatch(Users(s, caller), Filter{"login", "eq", {Text(p.object, "login").value_or("")}});
        });

  // A worker: an email the blind index cannot answer (non-ASCII) is a bounded scan.
  Route(router, s, "GET", "/users/by_email.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          return FirstMatch(Users(s, caller), Filter{"email", "eq", {Text(p.object, "email").value_or("")}});
        });

  Route(router, s, "GET", "/users/by_facebook_id.json", http::Exec::kInline,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          const std::string id = Text(p.object, "facebook_id").value_or("");
          if (id.empty()) return NotFound();
          auto user = Holder(Users(s, caller), service::ExternalIdClaimKind(kFacebookSource), id);
          if (!user) return Fail(user.error());
          return UserResponse(200, *user);
        });

  Route(router, s, "GET", "/users/by_full_name.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          // Case-insensitive substring of full_name.
          const std::string want = Text(p.object, "full_name").value_or("");
          if (want.empty()) {
            FieldErrors errors;
            errors.Add("full_name", "can't be blank");
            return errors.Response();
          }
          const query::Node tree = query::Compare(query::AttrPath{std::string(kQuickBloxSchema), {"search_name"}},
                                                  query::Op::kCo, query::String(want));
          return ListPage(Users(s, caller), p.object, &tree, Order{});
        });

  Route(router, s, "GET", "/users/by_tags.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          // tags=a,b or tags[]=a,b: users with at least one of the tags.
          std::vector<std::string> wanted;
          if (const auto* v = p.object.if_contains("tags")) {
            if (v->is_array()) {
              for (const auto& t : v->get_array())
                if (t.is_string())
                  for (auto& tag : SplitTags(t.get_string())) wanted.push_back(std::move(tag));
            } else if (auto text = Text(p.object, "tags")) {
              wanted = SplitTags(*text);
            }
          }
          if (wanted.empty()) {
            FieldErrors errors;
            errors.Add("tags", "can't be blank");
            return errors.Response();
          }
          std::vector<query::Node> any;
          for (auto& tag : wanted)
            any.push_back(query::Compare(query::AttrPath{std::string(kQuickBloxSchema), {"tags"}}, query::Op::kEq,
                                         query::String(std::move(tag))));
          const query::Node tree = query::Or(std::move(any));
          return ListPage(Users(s, caller), p.object, &tree, Order{});
        });

  // What QB.users.get({phone}) asks for (sic: not by_phone).
  Route(router, s, "GET", "/users/phone.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          const std::string phone = Text(p.object, "phone").value_or("");
          // An empty phone matches nobody (the attribute is absent when empty).
          const query::Node tree = query::Compare(query::AttrPath{std::string(kQuickBloxSchema), {"phone"}},
                                                  query::Op::kEq, query::String(phone));
          return ListPage(Users(s, caller), p.object, &tree, Order{});
        });

  Route(router, s, "GET", "/users/external/{id}", http::Exec::kInline,
        [](const Services& s, const Caller& caller, const Params&, const http::PathParams& path) {
          auto user = ByExternalId(s, caller, path);
          if (!user) return Fail(user.error());
          return UserResponse(200, *user);
        });

  Route(router, s, "DELETE", "/users/external/{id}", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams& path) {
          auto user = ByExternalId(s, caller, path);
          if (!user) return Fail(user.error());
          return DeleteUser(s, caller, p, *user);
        });

  Route(router, s, "GET", "/users/password/reset.json", http::Exec::kWorker,
        [public_url](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          return RequestReset(s, caller, p, public_url);
        });

  Route(router, s, "POST", "/users/password/reset.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          return CompleteReset(s, caller, p);
        });
}

}  // namespace roster::dialects::quickblox
