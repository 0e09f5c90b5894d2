// Passwords on /users/{userID}/password, the operation chosen by Content-Type:
//   PUT  application/vnd.pingidentity.password.set+json    {"value","forceChange","bypassPolicy"}
//   PUT  application/vnd.pingidentity.password.reset+json  {"currentPassword","newPassword"}
//   POST application/vnd.pingidentity.password.check+json  {"password"}
// Any other Content-Type is 415. Passwords go to UserService (argon2id); an imported
// hash is verified by UserService::VerifyPassword and upgraded to argon2id there.
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

#include "core/rules.h"
#include "dialects/pingone/common.h"
#include "dialects/pingone/mapping.h"
#include "http/etag.h"

namespace roster::dialects::pingone {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr const char* kSetType = "application/vnd.pingidentity.password.set+json";
constexpr const char* kResetType = "application/vnd.pingidentity.password.reset+json";
constexpr const char* kCheckType = "application/vnd.pingidentity.password.check+json";
constexpr std::size_t kMinLength = 8;
constexpr std::size_t kMaxLength = 255;

// Decodes UTF-8 into code points (the text is valid UTF-8).
std::vector<char32_t> CodePointsOf(std::string_view s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    int n = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
    char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

// `has_password` false: NO_PASSWORD whatever was recorded.
json::object PasswordState(const Call& call, const core::User& user, bool has_password = true) {
  const json::object state = PingOneState(user);
  std::string status = "OK";
  if (const auto* v = state.if_contains("passwordStatus"); v && v->is_string()) status = v->as_string();
  if (!has_password) status = "NO_PASSWORD";
  const std::string user_url = call.EnvUrl() + "/users/" + user.id;
  return json::object{{"_links", {{"self", {{"href", user_url + "/password"}}}, {"user", {{"href", user_url}}}}},
                      {"environment", {{"id", call.env}}},
                      {"user", {{"id", user.id}}},
                      {"status", status},
                      {"lastChangedAt", core::FormatTimestamp(user.updated_at_ms, true)}};
}

// Sets a new cleartext password (re-hashed by UserService; the user's sessions end).
// `current`: the current password, proven by the caller (checked by the service);
// without it the application needs password:set.
Outcome<http::Response> Store(State& st, const Call& call, const std::string& password, bool force_change,
                              const std::optional<std::string>& current = std::nullopt) {
  auto options = UserIfMatch(st, call);
  if (!options) return Fail(options.error());
  auto updated = Users(st, call).Update(
      call.Param("userID"),
      [&](core::User& u) -> core::Status {
        json::object state = PingOneState(u);
        state["passwordStatus"] = force_change ? "MUST_CHANGE_PASSWORD" : "OK";
        SetPingOneState(u, state);
        return {};
      },
      password, *options, current);
  if (!updated) {
    if (updated.error().code == ErrorCode::kInvalidArgument && updated.error().field == "password")
      return Fail(InvalidValue("password", updated.error().message));
    if (updated.error().field == "current_password")
      return Fail(InvalidValue("currentPassword", "the current password is incorrect"));
    return Fail(FromCore(updated.error()));
  }
  return http::WithETag(JsonResponse(200, PasswordState(call, *updated)), updated->version);
}

Outcome<std::string> RequiredSecret(const json::object& body, const char* key) {
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null() || (v->is_string() && v->as_string().empty()))
    return Fail(RequiredValue(key, std::string(key) + " is required"));
  if (!v->is_string()) return Fail(InvalidValue(key, std::string(key) + " must be a string"));
  if (v->as_string().size() > 1024)
    return Fail(InvalidValue(key, std::string(key) + " must be at most 1024 bytes", "SIZE_LIMIT_EXCEEDED"));
  return std::string(v->as_string());
}

Outcome<http::Response> SetPassword(State& st, const Call& call) {
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  auto value = RequiredSecret(*body, "value");
  if (!value) return Fail(value.error());
  auto force = OptionalBool(*body, "forceChange", "forceChange");
  if (!force) return Fail(force.error());
  auto bypass = OptionalBool(*body, "bypassPolicy", "bypassPolicy");
  if (!bypass) return Fail(bypass.error());
  auto user = Users(st, call).Get(call.Param("userID"));
  if (!user) return Fail(FromCore(user.error()));
  if (IsEncodedPassword(*value))
    return Fail(InvalidValue("value",
                             "pre-encoded passwords are accepted when a user is imported "
                             "(application/vnd.pingidentity.user.import+json), not here"));
  if (!bypass->value_or(false))
    if (auto ok = CheckPasswordPolicy(*value, user->username, "value"); !ok) return Fail(ok.error());
  return Store(st, call, *value, force->value_or(false));
}

Outcome<http::Response> ResetPassword(State& st, const Call& call) {
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  auto current = RequiredSecret(*body, "currentPassword");
  if (!current) return Fail(current.error());
  auto fresh = RequiredSecret(*body, "newPassword");
  if (!fresh) return Fail(fresh.error());
  const std::string id = call.Param("userID");
  auto user = Users(st, call).Get(id);
  if (!user) return Fail(FromCore(user.error()));
  if (*fresh == *current) return Fail(InvalidValue("newPassword", "newPassword must differ from the current password"));
  if (auto ok = CheckPasswordPolicy(*fresh, user->username, "newPassword"); !ok) return Fail(ok.error());
  return Store(st, call, *fresh, false, *current);
}

Outcome<http::Response> CheckPassword(State& st, const Call& call) {
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  auto password = RequiredSecret(*body, "password");
  if (!password) return Fail(password.error());
  const std::string id = call.Param("userID");
  if (auto user = Users(st, call).Get(id); !user) return Fail(FromCore(user.error()));
  if (auto ok = st.s.users.VerifyPassword(call.env, id, *password); !ok) {
    if (ok.error().code == ErrorCode::kUnauthenticated)
      return Fail(InvalidValue("password", "the password did not match"));
    return Fail(FromCore(ok.error()));
  }
  auto user = Users(st, call).Get(id);
  if (!user) return Fail(FromCore(user.error()));
  return JsonResponse(200, PasswordState(call, *user));
}

}  // namespace

bool IsEncodedPassword(std::string_view value) {
  if (value.size() < 3 || value.front() != '{') return false;
  const auto close = value.find('}');
  if (close == std::string_view::npos || close < 2 || close > 20) return false;
  std::string scheme(value.substr(1, close - 1));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::toupper(c); });
  static constexpr std::string_view kSchemes[] = {"SSHA",   "SSHA256", "SSHA384", "SSHA512",        "BCRYPT",
                                                  "PBKDF2", "ARGON2",  "SCRYPT",  "SCRYPT_RFC7914", "MSKCC_PBKDF2"};
  return std::find(std::begin(kSchemes), std::end(kSchemes), scheme) != std::end(kSchemes);
}

Done CheckPasswordPolicy(std::string_view password, const std::string& username, const std::string& target) {
  json::array unmet;
  std::string message;
  if (!core::IsValidUtf8(password)) return Fail(InvalidValue(target, target + " must be valid UTF-8"));
  const auto cps = CodePointsOf(password);
  if (cps.size() < kMinLength || cps.size() > kMaxLength) {
    unmet.emplace_back("length");
    message += "be " + std::to_string(kMinLength) + " to " + std::to_string(kMaxLength) + " characters long; ";
  }
  bool upper = false, lower = false, digit = false, special = false;
  int run = 1, longest = cps.empty() ? 0 : 1;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    if (c >= 'A' && c <= 'Z')
      upper = true;
    else if (c >= 'a' && c <= 'z')
      lower = true;
    else if (c >= '0' && c <= '9')
      digit = true;
    else
      special = true;
    if (i > 0) {
      run = cps[i] == cps[i - 1] ? run + 1 : 1;
      longest = std::max(longest, run);
    }
  }
  if (!upper || !lower || !digit || !special) {
    unmet.emplace_back("minCharacters");
    message += "contain an upper-case letter, a lower-case letter, a digit and a special character; ";
  }
  if (longest > 2) {
    unmet.emplace_back("maxRepeatedCharacters");
    message += "not repeat a character more than twice in a row; ";
  }
  auto folded_password = core::FoldUsername(password);
  auto folded_username = core::FoldUsername(username);
  if (!username.empty() && folded_password && folded_username && *folded_password == *folded_username) {
    unmet.emplace_back("excludesProfileData");
    message += "differ from the username; ";
  }
  if (unmet.empty()) return {};
  message.resize(message.size() - 2);
  Detail d{"INVALID_VALUE", target, "The password must " + message + ".", {}};
  d.inner = json::object{{"unsatisfiedRequirements", std::move(unmet)}};
  return Fail(InvalidData({std::move(d)}));
}

void MountPasswords(http::Router& router, std::shared_ptr<State> state) {
  const std::string path = "/v1/environments/{envID}/users/{userID}/password";
  // The password's state: OK, MUST_CHANGE_PASSWORD, or NO_PASSWORD for a user with none.
  router.Add("GET", path, http::Exec::kInline, Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               auto user = Users(st, call).Get(call.Param("userID"));
               if (!user) return Fail(FromCore(user.error()));
               auto has = st.s.users.HasPassword(call.env, user->id);
               if (!has) return Fail(FromCore(has.error()));
               return http::WithETag(JsonResponse(200, PasswordState(call, *user, *has)), user->version);
             }));
  router.Add("PUT", path, http::Exec::kWorker, Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               const std::string media = MediaType(*call.req);
               if (media == kSetType) return SetPassword(st, call);
               if (media == kResetType) return ResetPassword(st, call);
               return Fail(UnsupportedMediaType(std::string("PUT a password with Content-Type ") + kSetType + " or " +
                                                kResetType + "."));
             }));
  router.Add("POST", path, http::Exec::kWorker, Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               if (MediaType(*call.req) == kCheckType) return CheckPassword(st, call);
               return Fail(
                   UnsupportedMediaType(std::string("POST to check a password with Content-Type ") + kCheckType + "."));
             }));
}

}  // namespace roster::dialects::pingone
