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
#include "service/password_resets.h"

namespace roster::dialects::quickblox {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr int kDefaultPerPage = 10;
constexpr int kMaxPerPage = 100;
constexpr int kScanPage = 1000;
const service::ResetTokens kResetTokens{kResetKind, kResetClaim};

using Body = std::function<http::Response(const Services&, const Caller&, const Params&, const http::PathParams&)>;

// Authenticates, parses the parameters, runs `body`, and adds QB-Token-ExpirationDate.
void Route(http::Router& router, const Services& s, std::string_view method, std::string_view pattern,
           http::Exec exec, Body body) {
  router.Add(method, pattern, exec, [s, body](const http::Request& req, const http::PathParams& path) {
    auto caller = Authenticate(s, req);
    if (!caller) return Fail(caller.error());
    auto params = ParseParams(req);
    if (!params) return WithExpiry(*caller, BadRequest(params.error().message));
    return WithExpiry(*caller, body(s, *caller, *params, path));
  });
}

http::Response UserResponse(int status, const core::User& user) {
  return Json(status, json::object{{"user", ToWire(user)}});
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

// Every live user of the environment, in number order, that `keep` accepts, as wire
// users. A full scan: the store has no QuickBlox-shaped query (see the docs).
core::Result<std::vector<json::object>> Scan(const Services& s, const std::string& environment_id,
                                             const std::function<bool(const core::User&, const json::object&)>& keep) {
  std::vector<json::object> out;
  std::int64_t after = 0;
  while (true) {
    auto page = s.users.List(environment_id, after, kScanPage);
    if (!page) return std::unexpected(page.error());
    for (const auto& user : page->users) {
      if (user.archived) continue;
      json::object wire = ToWire(user);
      if (keep(user, wire)) out.push_back(std::move(wire));
    }
    if (page->next_after == 0) break;
    after = page->next_after;
  }
  return out;
}

// {"current_page", "per_page", "total_entries", "items": [{"user": ...}]}
http::Response Envelope(const json::object& p, std::vector<json::object> users) {
  const int page = IntParam(p, "page", 1, 1, 1'000'000);
  const int per_page = IntParam(p, "per_page", kDefaultPerPage, 1, kMaxPerPage);
  json::array items;
  const std::size_t start = static_cast<std::size_t>(page - 1) * static_cast<std::size_t>(per_page);
  for (std::size_t i = start; i < users.size() && i < start + static_cast<std::size_t>(per_page); ++i)
    items.push_back(json::object{{"user", std::move(users[i])}});
  return Json(200, json::object{{"current_page", page},
                                {"per_page", per_page},
                                {"total_entries", users.size()},
                                {"items", std::move(items)}});
}

http::Response ScanResponse(const Services& s, const Caller& caller, const Params& p,
                            const std::function<bool(const core::User&, const json::object&)>& keep) {
  auto users = Scan(s, caller.environment_id, keep);
  if (!users) return Fail(users.error());
  return Envelope(p.object, std::move(*users));
}

// QuickBlox keeps emails unique among its users: the service enforces it in the write.
service::WriteOptions QuickBloxRules() {
  service::WriteOptions options;
  options.exclusive_email = true;
  return options;
}

// Every value of `user` another user holds, each on its wire field (QuickBlox reports
// them all at once). Only the write itself decides; this is for the report.
core::Status AddConflicts(const Services& s, const std::string& environment_id, const core::User& user,
                          FieldErrors& errors) {
  auto taken = s.users.Conflicts(environment_id, user, QuickBloxRules());
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

  const std::string& env = caller.environment_id;
  if (auto st = AddConflicts(s, env, user, errors); !st) return Fail(st.error());
  if (!errors.empty()) return errors.Response();

  service::CreateUserRequest request;
  request.environment_id = env;
  request.user = std::move(user);
  request.password = std::move(password);
  request.options = QuickBloxRules();
  auto created = s.users.Create(request);
  if (!created) return FailFor(request.user, created.error());
  return UserResponse(201, created->user);
}

http::Response UpdateUser(const Services& s, const Caller& caller, const Params& p, const core::User& target) {
  if (auto st = MayChange(caller, target.id); !st) return Fail(st.error());
  const json::object* in = UserObject(p);
  if (in == nullptr) return NoData();
  const std::string& env = caller.environment_id;

  FieldErrors errors;
  core::User preview = target;
  ApplyUser(*in, false, preview, errors);
  auto password = ReadPassword(*in, false, errors);
  const std::string old_password = Text(*in, "old_password").value_or("");
  // A user changing its own password proves the old one; the API key need not.
  const bool needs_old = password && !caller.api_key;
  if (needs_old && old_password.empty()) errors.Add("old_password", "can't be blank");
  if (!errors.empty()) return errors.Response();
  if (needs_old) {
    auto st = s.users.VerifyPassword(env, target.id, old_password);
    if (!st) {
      if (st.error().code != ErrorCode::kUnauthenticated) return Fail(st.error());
      errors.Add("old_password", "is incorrect");
      return errors.Response();
    }
  }

  if (auto st = AddConflicts(s, env, preview, errors); !st) return Fail(st.error());
  if (!errors.empty()) return errors.Response();

  auto updated = s.users.Update(
      env, target.id,
      [in](core::User& u) -> core::Status {
        FieldErrors again;  // re-applied to the current version; validated above
        ApplyUser(*in, false, u, again);
        if (!again.empty()) return core::InvalidArgument("base", "The user changed meanwhile; retry");
        return {};
      },
      password, QuickBloxRules());
  if (!updated) return FailFor(preview, updated.error());
  // A new password ends the user's sessions; the session that changed it goes on.
  if (password && caller.session && caller.user_id == target.id) {
    if (auto token = s.users.IssueSession(env, target.id)) {
      (void)s.records.Update(
          env, kSessionKind, caller.session->id,
          [&](service::Record& r) -> core::Status {
            r.body["user_token"] = *token;
            return {};
          },
          SessionClaims);
    }
  }
  return UserResponse(200, *updated);
}

http::Response DeleteUser(const Services& s, const Caller& caller, const core::User& target) {
  if (auto st = MayChange(caller, target.id); !st) return Fail(st.error());
  if (auto st = s.users.Delete(caller.environment_id, target.id); !st) return Fail(st.error());
  return Empty();
}

// The live user holding a unique claim. kNotFound.
core::Result<core::User> Holder(const Services& s, const std::string& environment_id, const std::string& kind,
                                const std::string& value) {
  auto found = s.users.FindBy(environment_id, kind, value);
  if (!found) return std::unexpected(found.error());
  for (auto& u : *found)
    if (!u.archived) return std::move(u);
  return core::NotFound("user not found");
}

core::Result<core::User> ByExternalId(const Services& s, const Caller& caller, const http::PathParams& path) {
  const auto id = PathId(path.Get("id"));
  if (!id) return core::NotFound("user not found");
  return Holder(s, caller.environment_id, service::kExternalIdClaim, std::to_string(*id));
}

core::Result<core::User> ByNumber(const Services& s, const Caller& caller, const http::PathParams& path) {
  const auto id = PathId(path.Get("id"));
  if (!id) return core::NotFound("user not found");
  return UserByNumber(s, caller.environment_id, *id);
}

// GET /users/password/reset.json?email=: mails a single-use reset token to the user
// holding the email. Answers the same, after the same writes, whether or not it exists.
http::Response RequestReset(const Services& s, const Caller& caller, const Params& p) {
  const std::string env = caller.environment_id;
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
  auto sent = service::PasswordResets(s, kResetTokens).Request(env, "quickblox.reset:" + address, user);
  if (!sent) return Fail(sent.error());
  return Empty();
}

// POST /users/password/reset.json {token, password} (a Roster extension: QuickBlox
// completes resets on its own web page). Single use; ends the user's sessions.
http::Response CompleteReset(const Services& s, const Caller& caller, const Params& p) {
  const std::string env = caller.environment_id;
  const std::string token = Text(p.object, "token").value_or("");
  FieldErrors errors;
  if (token.empty()) errors.Add("token", "can't be blank");
  auto password = ReadPassword(p.object, true, errors);
  if (!errors.empty()) return errors.Response();
  auto reset = service::PasswordResets(s, kResetTokens).Complete(env, token, *password);
  if (!reset) {
    if (reset.error().code == ErrorCode::kNotFound) return BaseError(422, "Reset token is invalid or expired");
    return Fail(reset.error());
  }
  return Empty();
}

}  // namespace

core::Result<core::User> UserByNumber(const Services& s, const std::string& environment_id, std::int64_t number) {
  if (number <= 0) return core::NotFound("user not found");
  // Keyset paging in number order: the first user after number - 1 is the one, if any.
  auto page = s.users.List(environment_id, number - 1, 1);
  if (!page) return std::unexpected(page.error());
  if (page->users.empty() || page->users.front().number != number || page->users.front().archived)
    return core::NotFound("user not found");
  return std::move(page->users.front());
}

void MountUsers(http::Router& router, const Services& s) {
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
          auto users = Scan(s, caller.environment_id,
                            [&](const core::User&, const json::object& wire) { return MatchesAll(wire, filters); });
          if (!users) return Fail(users.error());
          std::stable_sort(users->begin(), users->end(),
                           [&](const json::object& a, const json::object& b) { return Before(a, b, *order); });
          return Envelope(p.object, std::move(*users));
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
        [](const Services& s, const Caller& caller, const Params&, const http::PathParams& path) {
          auto user = ByNumber(s, caller, path);
          if (!user) return Fail(user.error());
          return DeleteUser(s, caller, *user);
        });

  Route(router, s, "GET", "/users/by_login.json", http::Exec::kInline,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          const std::string login = Text(p.object, "login").value_or("");
          auto found = s.users.FindBy(caller.environment_id, "username", login);
          if (!found) return Fail(found.error());
          for (const auto& u : *found)
            if (!u.archived && !HasNoLogin(u)) return UserResponse(200, u);
          return NotFound();
        });

  Route(router, s, "GET", "/users/by_email.json", http::Exec::kInline,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          const std::string email = Text(p.object, "email").value_or("");
          auto found = s.users.FindBy(caller.environment_id, "email", email);
          if (!found) return Fail(found.error());
          for (const auto& u : *found)
            if (!u.archived) return UserResponse(200, u);
          return NotFound();
        });

  Route(router, s, "GET", "/users/by_facebook_id.json", http::Exec::kInline,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          const std::string id = Text(p.object, "facebook_id").value_or("");
          if (id.empty()) return NotFound();
          auto user = Holder(s, caller.environment_id, service::ExternalIdClaimKind(kFacebookSource), id);
          if (!user) return Fail(user.error());
          return UserResponse(200, *user);
        });

  Route(router, s, "GET", "/users/by_full_name.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          // Case-insensitive (ASCII) substring of full_name.
          auto lower = [](std::string v) {
            for (auto& c : v)
              if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            return v;
          };
          const std::string want = lower(Text(p.object, "full_name").value_or(""));
          if (want.empty()) {
            FieldErrors errors;
            errors.Add("full_name", "can't be blank");
            return errors.Response();
          }
          return ScanResponse(s, caller, p, [&](const core::User& u, const json::object&) {
            return lower(FullName(u)).find(want) != std::string::npos;
          });
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
          return ScanResponse(s, caller, p, [&](const core::User& u, const json::object&) {
            for (const auto& tag : Tags(u))
              if (std::find(wanted.begin(), wanted.end(), tag) != wanted.end()) return true;
            return false;
          });
        });

  // What QB.users.get({phone}) asks for (sic: not by_phone).
  Route(router, s, "GET", "/users/phone.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          const std::string phone = Text(p.object, "phone").value_or("");
          return ScanResponse(s, caller, p, [&](const core::User&, const json::object& wire) {
            const auto* v = wire.if_contains("phone");
            return !phone.empty() && v != nullptr && v->is_string() && v->get_string() == phone;
          });
        });

  Route(router, s, "GET", "/users/external/{id}", http::Exec::kInline,
        [](const Services& s, const Caller& caller, const Params&, const http::PathParams& path) {
          auto user = ByExternalId(s, caller, path);
          if (!user) return Fail(user.error());
          return UserResponse(200, *user);
        });

  Route(router, s, "DELETE", "/users/external/{id}", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params&, const http::PathParams& path) {
          auto user = ByExternalId(s, caller, path);
          if (!user) return Fail(user.error());
          return DeleteUser(s, caller, *user);
        });

  Route(router, s, "GET", "/users/password/reset.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          return RequestReset(s, caller, p);
        });

  Route(router, s, "POST", "/users/password/reset.json", http::Exec::kWorker,
        [](const Services& s, const Caller& caller, const Params& p, const http::PathParams&) {
          return CompleteReset(s, caller, p);
        });
}

}  // namespace roster::dialects::quickblox
