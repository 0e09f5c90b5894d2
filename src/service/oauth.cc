#include "service/oauth.h"

#include <algorithm>
#include <charconv>

#include "crypto/base64.h"
#include "crypto/crypto.h"
#include "crypto/mac.h"
#include "service/audit.h"

namespace roster::service {
namespace json = boost::json;
using core::ErrorCode;

namespace {

constexpr const char* kClientSecretClaim = "oauth.client.secret";
constexpr const char* kFormMacKind = "oauth.form";
constexpr std::size_t kMaxParameter = 2048;

std::unexpected<core::Error> OAuthFail(ErrorCode code, const char* error, std::string message) {
  return core::Fail(code, std::move(message), error);
}
std::unexpected<core::Error> InvalidRequest(std::string message) {
  return OAuthFail(ErrorCode::kInvalidArgument, "invalid_request", std::move(message));
}
std::unexpected<core::Error> InvalidGrant(std::string message) {
  return OAuthFail(ErrorCode::kInvalidArgument, "invalid_grant", std::move(message));
}
std::unexpected<core::Error> InvalidClient() {
  return OAuthFail(ErrorCode::kUnauthenticated, "invalid_client", "Client authentication failed.");
}

std::string Str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// "<number>_<secret>": the record number and the random part.
std::optional<std::pair<std::int64_t, std::string_view>> SplitToken(std::string_view token) {
  if (token.size() > 200) return std::nullopt;
  const auto underscore = token.find('_');
  if (underscore == std::string_view::npos || underscore == 0 || underscore + 1 == token.size()) return std::nullopt;
  std::int64_t number = 0;
  const auto digits = token.substr(0, underscore);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (ec != std::errc() || end != digits.data() + digits.size() || number <= 0) return std::nullopt;
  return std::pair{number, token.substr(underscore + 1)};
}

std::string ClaimKindOf(const char* kind) { return std::string(kind) + ".secret"; }

json::array ToArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::vector<std::string> FromArray(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* a = o.if_contains(key); a && a->is_array())
    for (const auto& v : a->get_array())
      if (v.is_string()) out.emplace_back(v.get_string());
  return out;
}

json::object GrantBody(const std::string& client_record_id, const OAuthGrant& grant) {
  return json::object{{"client", client_record_id},
                      {"account_id", grant.account_id},
                      {"username", grant.username},
                      {"scopes", ToArray(grant.scopes)},
                      {"binding", grant.binding}};
}

OAuthGrant GrantOf(const json::object& body) {
  return OAuthGrant{Str(body, "account_id"), Str(body, "username"), FromArray(body, "scopes"), Str(body, "binding")};
}

OAuthClient ClientOf(const Record& r) {
  OAuthClient c;
  c.client_id = Str(r.body, "client_id");
  c.id = r.id;
  c.environment_id = r.environment_id;
  c.name = Str(r.body, "name");
  c.redirect_uri = Str(r.body, "redirect_uri");
  const auto* confidential = r.body.if_contains("confidential");
  c.confidential = confidential && confidential->is_bool() && confidential->get_bool();
  c.created_at_ms = r.created_at_ms;
  return c;
}

// An absolute http(s) URI without a fragment (RFC 6749 §3.1.2).
bool IsRedirectUri(std::string_view uri) {
  if (uri.size() > kMaxParameter || uri.find('#') != std::string_view::npos) return false;
  for (char ch : uri)
    if (static_cast<unsigned char>(ch) <= ' ' || ch == '"' || ch == '<' || ch == '>' || ch == 0x7f) return false;
  for (std::string_view scheme : {"https://", "http://"})
    if (uri.starts_with(scheme) && uri.size() > scheme.size() && uri[scheme.size()] != '/') return true;
  return false;
}

// RFC 7636 §4.1: 43 to 128 unreserved characters.
bool IsPkceValue(std::string_view v) {
  if (v.size() < 43 || v.size() > 128) return false;
  return std::all_of(v.begin(), v.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '.' || ch == '_' || ch == '~';
  });
}

void AppendField(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
}

}  // namespace

std::string PkceS256(std::string_view verifier) {
  return crypto::Base64UrlEncode(crypto::Digest(crypto::MacAlgorithm::kSha256, verifier));
}

// ---- clients ----

core::Result<CreatedOAuthClient> OAuthServer::CreateClient(const NewOAuthClient& request) {
  if (request.name.empty() || request.name.size() > 200)
    return core::InvalidArgument("name", "name must be 1 to 200 characters");
  if (!IsRedirectUri(request.redirect_uri))
    return core::InvalidArgument("redirect_uri",
                                 "redirect_uri must be an absolute http or https URI without a fragment");
  // The number is known only once the record exists: the record's own random part is
  // generated first and the client id written right after.
  const std::string random = crypto::RandomToken().substr(0, 32);
  NewRecordRequest r;
  r.environment_id = request.environment_id;
  r.kind = kOAuthClientKind;
  r.body = json::object{{"name", request.name},
                        {"redirect_uri", request.redirect_uri},
                        {"confidential", request.confidential},
                        {"random", random}};
  CreatedOAuthClient out;
  if (request.confidential) {
    out.secret = crypto::RandomToken();
    r.claims.push_back(Claim{kClientSecretClaim, out.secret, true});
  }
  auto created = s_.records.Create(r);
  if (!created) return std::unexpected(created.error());
  const std::string client_id = std::to_string(created->number) + "_" + random;
  const std::vector<Claim> claims = r.claims;
  auto updated = s_.records.Update(
      request.environment_id, kOAuthClientKind, created->id,
      [&](Record& rec) -> core::Status {
        rec.body["client_id"] = client_id;
        rec.body.erase("random");
        return {};
      },
      [claims](const Record&) { return claims; });
  if (!updated) return std::unexpected(updated.error());
  out.client = ClientOf(*updated);
  return out;
}

core::Result<std::vector<OAuthClient>> OAuthServer::ListClients(const std::string& environment_id) {
  std::vector<OAuthClient> out;
  auto listed = s_.records.ForEach(environment_id, kOAuthClientKind, [&](const Record& r) {
    out.push_back(ClientOf(r));
    return true;
  });
  if (!listed) return std::unexpected(listed.error());
  return out;
}

core::Status OAuthServer::DeleteClient(const std::string& environment_id, const std::string& client_id) {
  auto client = ClientById(client_id);
  if (!client || client->environment_id != environment_id)
    return core::Fail(ErrorCode::kNotFound, "no OAuth client '" + client_id + "' in this environment", "client_id");
  return s_.records.Delete(environment_id, kOAuthClientKind, client->id);
}

core::Result<OAuthClient> OAuthServer::ClientById(std::string_view client_id) {
  const auto split = SplitToken(client_id);
  if (!split) return core::Fail(ErrorCode::kNotFound, "unknown client", "client_id");
  auto r = s_.records.GetByNumber(kOAuthClientKind, split->first);
  if (!r) return std::unexpected(r.error());
  OAuthClient c = ClientOf(*r);
  if (c.client_id.empty() || !crypto::SecretsEqual(c.client_id, client_id))
    return core::Fail(ErrorCode::kNotFound, "unknown client", "client_id");
  return c;
}

// ---- the authorization request ----

core::Result<OAuthClient> OAuthServer::CheckClient(std::string_view client_id, std::string_view redirect_uri,
                                                   bool given) {
  if (client_id.empty()) return core::InvalidArgument("client_id", "Missing client_id parameter.");
  auto client = ClientById(client_id);
  if (!client) {
    if (client.error().code == ErrorCode::kNotFound)
      return core::InvalidArgument("client_id", "Invalid client_id parameter value.");
    return std::unexpected(client.error());
  }
  if (given && redirect_uri != client->redirect_uri)
    return core::InvalidArgument("redirect_uri", "Mismatching redirect URI: it must be the one registered.");
  return client;
}

core::Result<std::vector<std::string>> OAuthServer::ParseScope(std::string_view scope) const {
  std::vector<std::string> out;
  bool base = false;
  std::size_t i = 0;
  while (i < scope.size()) {
    const auto end = std::min(scope.find(' ', i), scope.size());
    const std::string_view s = scope.substr(i, end - i);
    i = end + 1;
    if (s.empty()) continue;
    const bool narrowing = s.starts_with(policy_.narrowing_prefix) && s.size() > policy_.narrowing_prefix.size();
    if (s == policy_.base_scope) base = true;
    else if (!narrowing)
      return OAuthFail(ErrorCode::kInvalidArgument, "invalid_scope",
                       "Unknown scope '" + std::string(s) + "': supported are " + policy_.base_scope + " and " +
                           policy_.narrowing_prefix + "<name>.");
    if (std::find(out.begin(), out.end(), s) == out.end()) out.emplace_back(s);
  }
  if (out.empty()) return std::vector<std::string>{policy_.base_scope};
  if (!base)
    return OAuthFail(ErrorCode::kInvalidArgument, "invalid_scope",
                     "The scope must include " + policy_.base_scope + " (" + policy_.narrowing_prefix +
                         "<name> scopes only narrow it).");
  // The base scope first, then the narrowing ones as asked.
  std::stable_partition(out.begin(), out.end(), [&](const std::string& s) { return s == policy_.base_scope; });
  return out;
}

bool OAuthServer::ScopesAllow(const std::vector<std::string>& scopes, std::string_view name) const {
  bool narrowed = false;
  for (const auto& s : scopes) {
    if (!s.starts_with(policy_.narrowing_prefix)) continue;
    narrowed = true;
    if (std::string_view(s).substr(policy_.narrowing_prefix.size()) == name) return true;
  }
  return !narrowed && std::find(scopes.begin(), scopes.end(), policy_.base_scope) != scopes.end();
}

core::Result<std::vector<std::string>> OAuthServer::CheckAuthorization(const AuthorizationRequest& request) const {
  if (request.response_type.empty()) return InvalidRequest("Missing response_type parameter.");
  if (request.response_type != "code")
    return OAuthFail(ErrorCode::kInvalidArgument, "unsupported_response_type",
                     "response_type must be 'code' (the only one supported).");
  if (request.code_challenge.empty()) return InvalidRequest("Code challenge required (PKCE): send code_challenge.");
  if (request.code_challenge_method != "S256")
    return InvalidRequest("Unsupported code challenge method: code_challenge_method must be S256.");
  if (!IsPkceValue(request.code_challenge))
    return InvalidRequest("code_challenge must be 43 to 128 unreserved characters (RFC 7636).");
  if (request.state.size() > kMaxParameter) return InvalidRequest("state is too long.");
  return ParseScope(request.scope);
}

core::Result<std::string> OAuthServer::FormMac(const std::string& environment_id, const AuthorizationRequest& r,
                                               std::int64_t expires_ms) {
  std::string payload;
  for (std::string_view v : {std::string_view(r.client_id), std::string_view(r.redirect_uri),
                             std::string_view(r.response_type), std::string_view(r.scope), std::string_view(r.state),
                             std::string_view(r.code_challenge), std::string_view(r.code_challenge_method)})
    AppendField(payload, v);
  AppendField(payload, r.redirect_uri_given ? "1" : "0");
  AppendField(payload, std::to_string(expires_ms));
  auto mac = s_.records.ClaimDigest(environment_id, kFormMacKind, payload);
  if (!mac) return std::unexpected(mac.error());
  return crypto::ToHex(*mac);
}

core::Result<std::string> OAuthServer::SignForm(const OAuthClient& client, const AuthorizationRequest& request) {
  const std::int64_t expires = s_.clock.NowMillis() + policy_.form_lifetime_ms;
  auto mac = FormMac(client.environment_id, request, expires);
  if (!mac) return std::unexpected(mac.error());
  return std::to_string(expires) + "." + *mac;
}

core::Status OAuthServer::VerifyForm(const OAuthClient& client, const AuthorizationRequest& request,
                                     std::string_view field) {
  const auto bad = core::InvalidArgument("csrf_token",
                                         "The form's csrf_token is missing, altered or expired: reload the page.");
  const auto dot = field.find('.');
  if (dot == std::string_view::npos || dot == 0) return bad;
  std::int64_t expires = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + dot, expires);
  if (ec != std::errc() || end != field.data() + dot) return bad;
  auto mac = FormMac(client.environment_id, request, expires);
  if (!mac) return std::unexpected(mac.error());
  if (!crypto::SecretsEqual(*mac, field.substr(dot + 1)) || expires <= s_.clock.NowMillis()) return bad;
  return {};
}

// ---- codes and tokens ----

core::Result<std::optional<Record>> OAuthServer::Lookup(const char* kind, std::string_view token) {
  const auto split = SplitToken(token);
  if (!split) return std::optional<Record>();
  auto r = s_.records.GetByNumber(kind, split->first);
  if (!r) {
    if (r.error().code == ErrorCode::kNotFound) return std::optional<Record>();
    return std::unexpected(r.error());
  }
  auto found = s_.records.Find(r->environment_id, ClaimKindOf(kind), std::string(split->second));
  if (!found) return std::unexpected(found.error());
  for (const auto& f : *found)
    if (f.id == r->id && f.kind == kind) return std::optional<Record>(std::move(*r));
  return std::optional<Record>();
}

core::Result<std::string> OAuthServer::IssueCode(const OAuthClient& client, const AuthorizationRequest& request,
                                                 OAuthGrant grant) {
  const std::string secret = crypto::RandomToken();
  NewRecordRequest r;
  r.environment_id = client.environment_id;
  r.kind = kOAuthCodeKind;
  r.body = GrantBody(client.id, grant);
  r.body["redirect_uri"] = client.redirect_uri;
  r.body["redirect_uri_given"] = request.redirect_uri_given;
  r.body["code_challenge"] = request.code_challenge;
  r.claims.push_back(Claim{ClaimKindOf(kOAuthCodeKind), secret, true});
  r.expires_at_ms = s_.clock.NowMillis() + policy_.code_lifetime_ms;
  auto created = s_.records.Create(r);
  if (!created) return std::unexpected(created.error());
  return std::to_string(created->number) + "_" + secret;
}

core::Status OAuthServer::CheckBinding(const std::string& environment_id, const OAuthGrant& grant, bool as_grant) {
  auto now = binding_(environment_id, grant.account_id);
  if (!now) {
    if (now.error().code != ErrorCode::kNotFound) return std::unexpected(now.error());
    now = std::string();
  }
  if (!now->empty() && crypto::SecretsEqual(*now, grant.binding)) return {};
  const std::string message = "The account's credentials changed, or it was deactivated, since it consented.";
  if (as_grant) return InvalidGrant(message);
  return core::Fail(ErrorCode::kUnauthenticated, "Invalid or expired access token.");
}

core::Result<OAuthClient> OAuthServer::AuthenticateClient(const std::string& client_id,
                                                          const std::string& client_secret, bool secret_given) {
  if (client_id.empty()) return InvalidClient();
  auto client = ClientById(client_id);
  if (!client) {
    if (client.error().code == ErrorCode::kNotFound) return InvalidClient();
    return std::unexpected(client.error());
  }
  if (!client->confidential) return client;
  if (!secret_given || client_secret.empty() || client_secret.size() > 256) return InvalidClient();
  auto found = s_.records.Find(client->environment_id, kClientSecretClaim, client_secret);
  if (!found) return std::unexpected(found.error());
  for (const auto& f : *found)
    if (f.id == client->id) return client;
  return InvalidClient();
}

core::Result<OAuthTokens> OAuthServer::Issue(const OAuthClient& client, const OAuthGrant& grant) {
  const std::int64_t now = s_.clock.NowMillis();
  const std::string access_secret = crypto::RandomToken(), refresh_secret = crypto::RandomToken();
  NewRecordRequest access;
  access.environment_id = client.environment_id;
  access.kind = kOAuthAccessKind;
  access.body = GrantBody(client.id, grant);
  access.claims.push_back(Claim{ClaimKindOf(kOAuthAccessKind), access_secret, true});
  access.expires_at_ms = now + policy_.access_lifetime_ms;
  auto a = s_.records.Create(access);
  if (!a) return std::unexpected(a.error());
  NewRecordRequest refresh;
  refresh.environment_id = client.environment_id;
  refresh.kind = kOAuthRefreshKind;
  refresh.body = GrantBody(client.id, grant);
  refresh.body["access"] = a->id;
  refresh.claims.push_back(Claim{ClaimKindOf(kOAuthRefreshKind), refresh_secret, true});
  refresh.expires_at_ms = now + policy_.refresh_lifetime_ms;
  auto r = s_.records.Create(refresh);
  if (!r) return std::unexpected(r.error());
  OAuthTokens out;
  out.access_token = std::to_string(a->number) + "_" + access_secret;
  out.refresh_token = std::to_string(r->number) + "_" + refresh_secret;
  out.expires_in_s = policy_.access_lifetime_ms / 1000;
  out.grant = grant;
  out.access_id = a->id;
  out.environment_id = client.environment_id;
  return out;
}

core::Result<OAuthTokens> OAuthServer::Token(const TokenRequest& request) {
  if (request.grant_type.empty()) return InvalidRequest("Missing grant_type parameter.");
  const bool code_grant = request.grant_type == "authorization_code";
  if (!code_grant && request.grant_type != "refresh_token")
    return OAuthFail(ErrorCode::kInvalidArgument, "unsupported_grant_type",
                     "grant_type must be authorization_code or refresh_token.");
  auto client = AuthenticateClient(request.client_id, request.client_secret, request.secret_given);
  if (!client) return std::unexpected(client.error());

  OAuthGrant grant;
  const char* action = "credential.create";
  if (code_grant) {
    if (request.code.empty()) return InvalidRequest("Missing code parameter.");
    if (request.code_verifier.empty()) return InvalidRequest("Missing code_verifier parameter (PKCE is required).");
    if (!IsPkceValue(request.code_verifier))
      return InvalidRequest("code_verifier must be 43 to 128 unreserved characters (RFC 7636).");
    auto found = Lookup(kOAuthCodeKind, request.code);
    if (!found) return std::unexpected(found.error());
    if (!*found) return InvalidGrant("The code is invalid, expired or already used.");
    // Single use: whoever takes the record first; the others find it gone.
    auto taken = s_.records.Take((*found)->environment_id, kOAuthCodeKind, (*found)->id);
    if (!taken) {
      if (taken.error().code == ErrorCode::kNotFound)
        return InvalidGrant("The code is invalid, expired or already used.");
      return std::unexpected(taken.error());
    }
    const json::object& body = taken->body;
    if (Str(body, "client") != client->id) return InvalidGrant("The code was issued to another client.");
    const auto* given = body.if_contains("redirect_uri_given");
    const bool was_given = given && given->is_bool() && given->get_bool();
    if (was_given && !request.redirect_uri_given)
      return InvalidGrant("redirect_uri is required: the authorization request sent one.");
    if (request.redirect_uri_given && *request.redirect_uri_given != Str(body, "redirect_uri"))
      return InvalidGrant("Mismatching redirect_uri: it must be the authorization request's.");
    if (!crypto::SecretsEqual(PkceS256(request.code_verifier), Str(body, "code_challenge")))
      return InvalidGrant("The code_verifier does not match the code_challenge.");
    grant = GrantOf(body);
  } else {
    if (request.refresh_token.empty()) return InvalidRequest("Missing refresh_token parameter.");
    auto found = Lookup(kOAuthRefreshKind, request.refresh_token);
    if (!found) return std::unexpected(found.error());
    if (!*found) return InvalidGrant("The refresh token is invalid, expired or already used.");
    if (Str((*found)->body, "client") != client->id)
      return InvalidGrant("The refresh token was issued to another client.");
    grant = GrantOf((*found)->body);
    if (!request.scope.empty()) {
      auto asked = ParseScope(request.scope);
      if (!asked) return std::unexpected(asked.error());
      for (const auto& s : *asked)
        if (std::find(grant.scopes.begin(), grant.scopes.end(), s) == grant.scopes.end())
          return OAuthFail(ErrorCode::kInvalidArgument, "invalid_scope",
                           "The scope '" + s + "' exceeds the scope originally granted.");
      // Narrowing may only narrow: asking for fewer domain scopes than granted, or none
      // where the grant had some, must not widen the reach.
      const bool had_narrowing = std::any_of(grant.scopes.begin(), grant.scopes.end(), [&](const std::string& s) {
        return s.starts_with(policy_.narrowing_prefix);
      });
      const bool asks_narrowing = std::any_of(asked->begin(), asked->end(), [&](const std::string& s) {
        return s.starts_with(policy_.narrowing_prefix);
      });
      if (had_narrowing && !asks_narrowing)
        return OAuthFail(ErrorCode::kInvalidArgument, "invalid_scope",
                         "The scope exceeds the scope originally granted (its domain: scopes are required).");
      grant.scopes = std::move(*asked);
    }
    // Rotation: the refresh token is used up (one of concurrent refreshes wins), and
    // the access token issued with it ends.
    auto taken = s_.records.Take((*found)->environment_id, kOAuthRefreshKind, (*found)->id);
    if (!taken) {
      if (taken.error().code == ErrorCode::kNotFound)
        return InvalidGrant("The refresh token is invalid, expired or already used.");
      return std::unexpected(taken.error());
    }
    if (auto st = s_.records.Delete(taken->environment_id, kOAuthAccessKind, Str(taken->body, "access"));
        !st && st.error().code != ErrorCode::kNotFound)
      return std::unexpected(st.error());
    action = "credential.rotate";
  }
  if (auto st = CheckBinding(client->environment_id, grant, true); !st) return std::unexpected(st.error());
  auto tokens = Issue(*client, grant);
  if (!tokens) return std::unexpected(tokens.error());
  // A credential event: who got a token (the account), through which client.
  if (AuditLog* log = s_.users.audit_log()) {
    core::Principal principal;
    principal.environment_id = client->environment_id;
    principal.api = policy_.api;
    principal.kind = policy_.credential_kind;
    principal.credential_id = tokens->access_id;
    if (auto st = log->Record(log->Row(principal, action, grant.account_id, nullptr, kAuditCredentials)); !st)
      return std::unexpected(st.error());
  }
  return tokens;
}

core::Status OAuthServer::Revoke(const RevocationRequest& request) {
  auto client = AuthenticateClient(request.client_id, request.client_secret, request.secret_given);
  if (!client) return std::unexpected(client.error());
  if (request.token.empty()) return InvalidRequest("Missing token parameter.");
  const bool refresh_first = request.token_type_hint == "refresh_token";
  for (const char* kind : {refresh_first ? kOAuthRefreshKind : kOAuthAccessKind,
                           refresh_first ? kOAuthAccessKind : kOAuthRefreshKind}) {
    auto found = Lookup(kind, request.token);
    if (!found) return std::unexpected(found.error());
    if (!*found) continue;
    const Record& r = **found;
    // Another client's token is none of this client's business: nothing happens.
    if (r.environment_id != client->environment_id || Str(r.body, "client") != client->id) return {};
    if (auto st = s_.records.Delete(r.environment_id, kind, r.id); !st) {
      if (st.error().code == ErrorCode::kNotFound) return {};  // revoked, used or expired meanwhile
      return std::unexpected(st.error());
    }
    if (kind == kOAuthRefreshKind) {
      if (auto st = s_.records.Delete(r.environment_id, kOAuthAccessKind, Str(r.body, "access"));
          !st && st.error().code != ErrorCode::kNotFound)
        return std::unexpected(st.error());
    }
    // A credential event: which token of which account ended, through which client.
    if (AuditLog* log = s_.users.audit_log()) {
      core::Principal principal;
      principal.environment_id = r.environment_id;
      principal.api = policy_.api;
      principal.kind = policy_.credential_kind;
      principal.credential_id = r.id;
      if (auto st = log->Record(
              log->Row(principal, "credential.revoke", Str(r.body, "account_id"), nullptr, kAuditCredentials));
          !st)
        return std::unexpected(st.error());
    }
    return {};
  }
  return {};
}

core::Result<OAuthAccess> OAuthServer::Authenticate(std::string_view token) {
  const auto invalid = core::Fail(ErrorCode::kUnauthenticated, "Invalid or expired access token.");
  auto found = Lookup(kOAuthAccessKind, token);
  if (!found) return std::unexpected(found.error());
  if (!*found) return invalid;
  const Record& r = **found;
  auto client = s_.records.Get(r.environment_id, kOAuthClientKind, Str(r.body, "client"));
  if (!client) return client.error().code == ErrorCode::kNotFound ? invalid : std::unexpected(client.error());
  OAuthAccess out;
  out.token_id = r.id;
  out.environment_id = r.environment_id;
  out.client_id = Str(client->body, "client_id");
  out.grant = GrantOf(r.body);
  if (auto st = CheckBinding(r.environment_id, out.grant, false); !st) return std::unexpected(st.error());
  return out;
}

}  // namespace roster::service
