// Passwords on /users/{userID}/password, the operation chosen by Content-Type:
//   PUT  application/vnd.pingidentity.password.set+json       {"value","forceChange","bypassPolicy"}
//   PUT  application/vnd.pingidentity.password.setValue+json  the same; no `value` unsets the password
//   PUT  application/vnd.pingidentity.password.reset+json     {"currentPassword","newPassword"}
//   POST application/vnd.pingidentity.password.check+json     {"password"}
//   POST application/vnd.pingidentity.password.forceChange(+json)       no body: MUST_CHANGE_PASSWORD
//   POST application/vnd.pingidentity.password.sendRecoveryCode(+json)  no body: mails a code
//   POST application/vnd.pingidentity.password.recover+json   {"recoveryCode","newPassword"}
//   POST application/vnd.pingidentity.password.unlock(+json)  no body: clears the sign-in lockout
// Any other Content-Type is 415. Passwords go to UserService (argon2id); an imported
// hash is verified by UserService::VerifyPassword and upgraded to argon2id there; the
// recovery code is service::PasswordResets' (the outbox's `recovery_code` mail).
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

#include "core/rules.h"
#include "dialects/pingone/common.h"
#include "dialects/pingone/mapping.h"
#include "http/etag.h"
#include "service/password_resets.h"

namespace roster::dialects::pingone {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr const char* kSetType = "application/vnd.pingidentity.password.set+json";
constexpr const char* kResetType = "application/vnd.pingidentity.password.reset+json";
constexpr const char* kCheckType = "application/vnd.pingidentity.password.check+json";
constexpr const char* kSetValueType = "application/vnd.pingidentity.password.setValue+json";
constexpr const char* kRecoverType = "application/vnd.pingidentity.password.recover+json";
// PingOne documents these without +json and clients send both.
constexpr const char* kForceChangeType = "application/vnd.pingidentity.password.forceChange";
constexpr const char* kSendCodeType = "application/vnd.pingidentity.password.sendRecoveryCode";
constexpr const char* kUnlockType = "application/vnd.pingidentity.password.unlock";
// The recovery code: 8 letters and digits, valid for five minutes (as PingOne's).
constexpr std::int64_t kRecoveryCodeLifetimeMs = 5 * 60 * 1000;
constexpr int kRecoveryCodeLength = 8;

// `media` (MediaType: lower-cased) is `type`, with or without "+json", in any case.
bool IsType(const std::string& media, std::string_view type) {
  std::string lower(type);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.ends_with("+json")) lower.resize(lower.size() - 5);
  return media == lower || media == lower + "+json";
}

// PingOne's recovery codes: records of their own (service::PasswordResets), completed
// only through this API and only for the user they were sent to.
service::ResetTokens RecoveryCodes() {
  service::ResetTokens tokens{"pingone.recovery_code", "pingone.recovery_code"};
  tokens.lifetime_ms = kRecoveryCodeLifetimeMs;
  tokens.code_length = kRecoveryCodeLength;
  tokens.mail_template = "recovery_code";
  return tokens;
}

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

// The password's state: NO_PASSWORD for a user with none; PASSWORD_LOCKED_OUT while the
// sign-in lockout of its username holds from every address (service::PasswordLockout,
// with secondsUntilUnlock); else the recorded status (OK, MUST_CHANGE_PASSWORD).
json::object PasswordState(const Call& call, const core::User& user, bool has_password,
                           const service::PasswordLockout& lockout) {
  const json::object state = PingOneState(user);
  std::string status = "OK";
  if (const auto* v = state.if_contains("passwordStatus"); v && v->is_string()) status = v->as_string();
  if (!has_password)
    status = "NO_PASSWORD";
  else if (lockout.locked)
    status = "PASSWORD_LOCKED_OUT";
  const std::string user_url = call.EnvUrl() + "/users/" + user.id;
  json::object out{{"_links", {{"self", {{"href", user_url + "/password"}}}, {"user", {{"href", user_url}}}}},
                   {"environment", {{"id", call.env}}},
                   {"user", {{"id", user.id}}},
                   {"status", status}};
  // PingOne leaves lastChangedAt out for a user without a password.
  if (has_password) out["lastChangedAt"] = core::FormatTimestamp(user.updated_at_ms, true);
  if (has_password && lockout.locked) out["secondsUntilUnlock"] = lockout.seconds_until_unlock;
  return out;
}

// The state of `user`'s password as stored now (whether it has one, its lockout).
Outcome<json::object> CurrentState(State& st, const Call& call, const core::User& user) {
  auto has = st.s.users.HasPassword(call.env, user.id);
  if (!has) return Fail(FromCore(has.error()));
  auto lockout = st.s.users.SignInLockout(call.env, user.id);
  if (!lockout) return Fail(FromCore(lockout.error()));
  return PasswordState(call, user, *has, *lockout);
}

// 200 with the state of `user`'s password, and the user's ETag when `etag`.
Outcome<http::Response> StateResponse(State& st, const Call& call, const core::User& user, bool etag = true) {
  auto state = CurrentState(st, call, user);
  if (!state) return Fail(state.error());
  auto response = JsonResponse(200, *state);
  return etag ? http::WithETag(std::move(response), user.version) : response;
}

// The change that records the password's status (dialect_json["pingone"].passwordStatus).
service::UserChange WithPasswordStatus(std::string status) {
  return [status = std::move(status)](core::User& u) -> core::Status {
    json::object state = PingOneState(u);
    state["passwordStatus"] = status;
    SetPingOneState(u, state);
    return {};
  };
}

// Sets a new cleartext password (re-hashed by UserService; the user's sessions end).
// `current`: the current password, proven by the caller (checked by the service);
// without it the application needs password:set.
Outcome<http::Response> Store(State& st, const Call& call, const std::string& password, bool force_change,
                              const std::optional<std::string>& current = std::nullopt) {
  auto options = UserIfMatch(st, call);
  if (!options) return Fail(options.error());
  // An administrator's new password ends the sign-in lockout, as PingOne's reset does.
  if (!current)
    if (auto cleared = st.s.users.ClearSignInLockout(call.env, call.Param("userID")); !cleared)
      return Fail(FromCore(cleared.error()));
  auto updated = Users(st, call).Update(call.Param("userID"),
                                        WithPasswordStatus(force_change ? "MUST_CHANGE_PASSWORD" : "OK"), password,
                                        *options, current);
  if (!updated) {
    if (updated.error().code == ErrorCode::kInvalidArgument && updated.error().field == "password")
      return Fail(InvalidValue("password", updated.error().message));
    if (updated.error().field == "current_password")
      return Fail(InvalidValue("currentPassword", "the current password is incorrect"));
    return Fail(FromCore(updated.error()));
  }
  return StateResponse(st, call, *updated);
}

// setValue without a value: the user has no password from now on (NO_PASSWORD), as in
// PingOne; its sessions end (service::WriteOptions::clear_password). Needs password:set.
Outcome<http::Response> Unset(State& st, const Call& call) {
  auto options = UserIfMatch(st, call);
  if (!options) return Fail(options.error());
  options->clear_password = true;
  auto updated = Users(st, call).Update(call.Param("userID"), WithPasswordStatus("OK"), std::nullopt, *options);
  if (!updated) return Fail(FromCore(updated.error()));
  return StateResponse(st, call, *updated);
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

// set+json and setValue+json. set requires `value`; setValue without one (absent or
// null) unsets the password, as PingOne's does.
Outcome<http::Response> SetPassword(State& st, const Call& call, bool set_value) {
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  auto force = OptionalBool(*body, "forceChange", "forceChange");
  if (!force) return Fail(force.error());
  auto bypass = OptionalBool(*body, "bypassPolicy", "bypassPolicy");
  if (!bypass) return Fail(bypass.error());
  if (const json::value* v = body->if_contains("value"); set_value && (v == nullptr || v->is_null())) {
    if (force->value_or(false))
      return Fail(InvalidValue("forceChange", "forceChange needs a value: a user without a password cannot change it"));
    return Unset(st, call);
  }
  auto value = RequiredSecret(*body, "value");
  if (!value) return Fail(value.error());
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
  // A locked-out password is not checked (PingOne answers 400 for PASSWORD_LOCKED_OUT).
  auto lockout = st.s.users.SignInLockout(call.env, id);
  if (!lockout) return Fail(FromCore(lockout.error()));
  if (lockout->locked)
    return Fail(ApiError{400, "REQUEST_FAILED",
                         "The request could not be completed. The password is locked out (PASSWORD_LOCKED_OUT) for " +
                             std::to_string(lockout->seconds_until_unlock) + " more seconds, or until unlocked.",
                         {}});
  if (auto ok = st.s.users.VerifyPassword(call.env, id, *password); !ok) {
    if (ok.error().code == ErrorCode::kUnauthenticated)
      return Fail(InvalidValue("password", "the password did not match"));
    return Fail(FromCore(ok.error()));
  }
  auto user = Users(st, call).Get(id);
  if (!user) return Fail(FromCore(user.error()));
  return StateResponse(st, call, *user, false);
}

// The user's password state after `change` (the PingOne state only; no new password).
Outcome<http::Response> ChangeState(State& st, const Call& call, const std::string& status) {
  auto options = UserIfMatch(st, call);
  if (!options) return Fail(options.error());
  auto updated = Users(st, call).Update(call.Param("userID"), WithPasswordStatus(status), std::nullopt, *options);
  if (!updated) return Fail(FromCore(updated.error()));
  return StateResponse(st, call, *updated);
}

// The user of the path, who must have a password (400 REQUEST_FAILED otherwise).
Outcome<core::User> UserWithPassword(State& st, const Call& call) {
  auto user = Users(st, call).Get(call.Param("userID"));
  if (!user) return Fail(FromCore(user.error()));
  auto has = st.s.users.HasPassword(call.env, user->id);
  if (!has) return Fail(FromCore(has.error()));
  if (!*has)
    return Fail(ApiError{400, "REQUEST_FAILED", "The request could not be completed. The user has no password.", {}});
  return std::move(*user);
}

// forceChange: the password stays; the user must change it at the next sign-on. As
// PingOne's administrative reset, it also lifts the password's sign-in lockout.
Outcome<http::Response> ForceChange(State& st, const Call& call) {
  auto user = UserWithPassword(st, call);
  if (!user) return Fail(user.error());
  if (auto cleared = st.s.users.ClearSignInLockout(call.env, user->id); !cleared) return Fail(FromCore(cleared.error()));
  return ChangeState(st, call, "MUST_CHANGE_PASSWORD");
}

// unlock: the sign-in lockout of the user's username ends now, from every address and
// from each.
Outcome<http::Response> UnlockPassword(State& st, const Call& call) {
  auto user = Users(st, call).Get(call.Param("userID"));
  if (!user) return Fail(FromCore(user.error()));
  if (auto cleared = st.s.users.ClearSignInLockout(call.env, user->id); !cleared) return Fail(FromCore(cleared.error()));
  return StateResponse(st, call, *user);
}

core::Status AdmitRecovery(State& st, const Call& call) {
  return st.s.users.Admit(service::ThrottledAction::kPasswordReset, call.req->peer, "p1-app:" + call.claims.client_id);
}

// sendRecoveryCode: mails an 8-character code, valid five minutes, to the user's primary
// email (the outbox's `recovery_code` template: {{code}} is the code). Not for a
// disabled user, one without a password, or one without an email (400 REQUEST_FAILED).
Outcome<http::Response> SendRecoveryCode(State& st, const Call& call) {
  if (auto admitted = AdmitRecovery(st, call); !admitted) return Fail(FromCore(admitted.error()));
  auto user = UserWithPassword(st, call);
  if (!user) return Fail(user.error());
  const auto refused = [](const std::string& why) {
    return Fail(ApiError{400, "REQUEST_FAILED", "The request could not be completed. " + why, {}});
  };
  if (!user->active) return refused("The user is disabled.");
  // The address is read whatever the application may see of it: it is mailed, never shown.
  auto full = st.s.users.Get(call.env, user->id);
  if (!full) return Fail(FromCore(full.error()));
  if (full->profile.PrimaryEmail() == nullptr) return refused("The user has no email address.");
  auto sent = service::PasswordResets(st.s, RecoveryCodes()).Request(call.env, "pingone.recovery:" + user->id, &*full);
  if (!sent) return Fail(FromCore(sent.error()));
  if (!*sent) {
    ApiError limited{429, "REQUEST_LIMITED",
                     "The request could not be completed. Too many recovery codes were sent; retry later.", {}};
    limited.retry_after_s = service::PasswordResets::kMailWindowMs / 1000;
    return Fail(limited);
  }
  return StateResponse(st, call, *user, false);
}

// recover: {"recoveryCode","newPassword"}: the code mailed to this user (once, within its
// five minutes) sets a new password meeting the policy; the status becomes OK.
Outcome<http::Response> Recover(State& st, const Call& call) {
  if (auto admitted = AdmitRecovery(st, call); !admitted) return Fail(FromCore(admitted.error()));
  auto body = ParseBody(*call.req);
  if (!body) return Fail(body.error());
  auto code = RequiredSecret(*body, "recoveryCode");
  if (!code) return Fail(code.error());
  auto fresh = RequiredSecret(*body, "newPassword");
  if (!fresh) return Fail(fresh.error());
  auto user = Users(st, call).Get(call.Param("userID"));
  if (!user) return Fail(FromCore(user.error()));
  // Checked before the code is taken, so a refused password leaves the code usable.
  if (auto ok = CheckPasswordPolicy(*fresh, user->username, "newPassword"); !ok) return Fail(ok.error());
  auto recovered = service::PasswordResets(st.s, RecoveryCodes())
                       .Complete(call.env, *code, *fresh, user->id, WithPasswordStatus("OK"));
  if (!recovered) {
    if (recovered.error().code == ErrorCode::kNotFound)
      return Fail(InvalidValue("recoveryCode", "the recovery code is invalid or expired"));
    if (recovered.error().field == "password") return Fail(InvalidValue("newPassword", recovered.error().message));
    return Fail(FromCore(recovered.error()));
  }
  return StateResponse(st, call, *recovered);
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
  // The password's state: OK, MUST_CHANGE_PASSWORD, PASSWORD_LOCKED_OUT, or NO_PASSWORD.
  router.Add("GET", path, http::Exec::kInline, Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               auto user = Users(st, call).Get(call.Param("userID"));
               if (!user) return Fail(FromCore(user.error()));
               return StateResponse(st, call, *user);
             }));
  router.Add("PUT", path, http::Exec::kWorker, Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               const std::string media = MediaType(*call.req);
               if (media == kSetType) return SetPassword(st, call, false);
               if (IsType(media, kSetValueType)) return SetPassword(st, call, true);
               if (media == kResetType) return ResetPassword(st, call);
               return Fail(UnsupportedMediaType(std::string("PUT a password with Content-Type ") + kSetType + ", " +
                                                kSetValueType + " or " + kResetType + "."));
             }));
  router.Add("POST", path, http::Exec::kWorker, Api(state, [](State& st, const Call& call) -> Outcome<http::Response> {
               const std::string media = MediaType(*call.req);
               if (media == kCheckType) return CheckPassword(st, call);
               if (IsType(media, kForceChangeType)) return ForceChange(st, call);
               if (IsType(media, kSendCodeType)) return SendRecoveryCode(st, call);
               if (IsType(media, kRecoverType)) return Recover(st, call);
               if (IsType(media, kUnlockType)) return UnlockPassword(st, call);
               return Fail(UnsupportedMediaType(std::string("POST to a password with Content-Type ") + kCheckType +
                                                ", " + kForceChangeType + "+json, " + kSendCodeType + "+json, " +
                                                kRecoverType + " or " + kUnlockType + "+json."));
             }));
}

}  // namespace roster::dialects::pingone
