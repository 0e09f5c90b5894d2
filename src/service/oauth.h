// An OAuth 2.0 authorization server for accounts held as records (CommCare's web users):
// the authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636, S256 only) and the
// refresh token grant with rotation (RFC 6749 §6), as django-oauth-toolkit serves them
// for CommCare HQ. The rules live here (clients and their secrets, codes, tokens, their
// lifetimes, PKCE, single use, rotation, revocation); a dialect renders the pages and
// the wire and says which account signed in, and how to tell that the account's
// credentials have not changed since (OAuthBinding).
//
// Everything is a record of the client's environment (sealed under its data key):
//   oauth.client  {"client_id", "name", "redirect_uri", "confidential"}; a confidential
//                 client's secret only as a claim (a keyed blind index), never in the body
//   oauth.code    {"client", "redirect_uri", "redirect_uri_given", "code_challenge",
//                  "account_id", "username", "scopes", "binding"}; expires (60 s)
//   oauth.access  {"client", "account_id", "username", "scopes", "binding"}; expires
//   oauth.refresh the same plus "access" (the access token it was issued with); expires
// A code or token is "<record number>_<64 hex random>": the number finds the record, the
// random part must match the record's unique claim (a keyed BLAKE2b blind index under
// the environment's index key, as every claim): no token is stored in plaintext or as
// an unkeyed hash. A client id is "<record number>_<32 hex random>", compared with the
// record's "client_id".
//
// A token is accepted only while its client exists and its account's binding (the
// dialect's fingerprint of the account's credentials: for a web user its key id and
// password hash) equals the binding at consent: revoking or rotating the account's key,
// changing its password, deactivating or deleting it ends its codes and tokens from the
// next request, without a write to them.
//
// Errors are core::Error whose `field` is the RFC 6749 error code ("invalid_request",
// "invalid_client" (kUnauthenticated), "invalid_grant", "unsupported_grant_type",
// "invalid_scope", "unsupported_response_type") and whose message names the problem;
// CheckClient's are kInvalidArgument naming "client_id" or "redirect_uri" (those are
// never redirected: RFC 6749 §4.1.2.1).
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/access.h"
#include "core/error.h"
#include "service/services.h"

namespace roster::service {

inline constexpr const char* kOAuthClientKind = "oauth.client";
inline constexpr const char* kOAuthCodeKind = "oauth.code";
inline constexpr const char* kOAuthAccessKind = "oauth.access";
inline constexpr const char* kOAuthRefreshKind = "oauth.refresh";

struct OAuthPolicy {
  // django-oauth-toolkit's AUTHORIZATION_CODE_EXPIRE_SECONDS default (CommCare keeps it).
  std::int64_t code_lifetime_ms = 60'000;
  // CommCare HQ's settings: ACCESS_TOKEN_EXPIRE_SECONDS 15 min (HIPAA), refresh 15 days.
  std::int64_t access_lifetime_ms = 15 * 60'000;
  std::int64_t refresh_lifetime_ms = 15ll * 24 * 60 * 60'000;
  // How long the consent page's signed form field stays valid.
  std::int64_t form_lifetime_ms = 30 * 60'000;
  // The scope every grant holds ("access_apis": all the account's project spaces), and
  // the prefix of the scopes that narrow it ("domain:<name>": only the named ones).
  std::string base_scope = "access_apis";
  std::string narrowing_prefix = "domain:";
  // Who the audit records of token issue and refresh name as the credential's API and kind.
  core::Api api = core::kCommCareApi;
  core::CredentialKind credential_kind = core::CredentialKind::kWebUserKey;
};

struct OAuthClient {
  std::string client_id;
  std::string id;  // its record id
  std::string environment_id;
  std::string name;
  std::string redirect_uri;
  bool confidential = false;
  std::int64_t created_at_ms = 0;
};

struct NewOAuthClient {
  std::string environment_id;
  std::string name;
  std::string redirect_uri;  // absolute http(s) URI without a fragment
  bool confidential = false;
};

struct CreatedOAuthClient {
  OAuthClient client;
  std::string secret;  // confidential clients only; shown once, kept only as a claim
};

// What an account holder consented to.
struct OAuthGrant {
  std::string account_id;  // the account's record id in the client's environment
  std::string username;
  std::vector<std::string> scopes;
  std::string binding;  // the account's credentials fingerprint at consent
};

// The account's binding now, in the client's environment; empty when it may not hold
// tokens any more (gone, disabled, no credentials).
using OAuthBinding =
    std::function<core::Result<std::string>(const std::string& environment_id, const std::string& account_id)>;

struct AuthorizationRequest {
  std::string response_type, client_id, redirect_uri, scope, state, code_challenge, code_challenge_method;
  bool redirect_uri_given = false;
};

struct TokenRequest {
  std::string grant_type, code, redirect_uri, code_verifier, refresh_token, scope;
  std::optional<std::string> redirect_uri_given;  // the redirect_uri parameter, if sent
  std::string client_id, client_secret;           // from Basic or the form
  bool secret_given = false;
};

// RFC 7009 token revocation: the token, the client's hint of its type, and the client's
// authentication as at the token endpoint.
struct RevocationRequest {
  std::string token, token_type_hint;
  std::string client_id, client_secret;
  bool secret_given = false;
};

struct OAuthTokens {
  std::string access_token, refresh_token;
  std::int64_t expires_in_s = 0;
  OAuthGrant grant;
  std::string access_id;  // the access token's record id (audit)
  std::string environment_id;
};

// A valid access token.
struct OAuthAccess {
  std::string token_id;  // its record id
  std::string environment_id;
  std::string client_id;
  OAuthGrant grant;
};

class OAuthServer {
 public:
  OAuthServer(const Services& services, OAuthBinding binding, OAuthPolicy policy = {})
      : s_(services), binding_(std::move(binding)), policy_(std::move(policy)) {}

  const OAuthPolicy& policy() const { return policy_; }

  // Clients (registered by an operator). kInvalidArgument naming "name" or "redirect_uri".
  core::Result<CreatedOAuthClient> CreateClient(const NewOAuthClient& request);
  core::Result<std::vector<OAuthClient>> ListClients(const std::string& environment_id);
  // kNotFound naming "client_id" for a client not of the environment. Its codes and
  // tokens are refused from then on.
  core::Status DeleteClient(const std::string& environment_id, const std::string& client_id);

  // The client and the redirect URI an authorization request names: kInvalidArgument
  // naming "client_id" (missing, unknown) or "redirect_uri" (not exactly the registered
  // one; missing means the registered one). Never answered by a redirect.
  core::Result<OAuthClient> CheckClient(std::string_view client_id, std::string_view redirect_uri, bool given);
  // The rest of the request, once the redirect URI is known good: response_type code,
  // PKCE (code_challenge required, method S256), scope. Returns the scopes (the base
  // scope when none asked). Errors to be sent to the redirect URI.
  core::Result<std::vector<std::string>> CheckAuthorization(const AuthorizationRequest& request) const;
  // The scope string's scopes: the base scope, with narrowing ones ("domain:x");
  // invalid_scope for another, or for narrowing ones without the base scope.
  core::Result<std::vector<std::string>> ParseScope(std::string_view scope) const;
  // Whether `scopes` reach `name` (no narrowing scope, or one naming it).
  bool ScopesAllow(const std::vector<std::string>& scopes, std::string_view name) const;

  // The consent form's CSRF field: a MAC (keyed by the client environment's index key)
  // over the request's parameters and an expiry. VerifyForm: kInvalidArgument naming
  // "csrf_token" when it is missing, altered, for other parameters or expired.
  core::Result<std::string> SignForm(const OAuthClient& client, const AuthorizationRequest& request);
  core::Status VerifyForm(const OAuthClient& client, const AuthorizationRequest& request, std::string_view field);

  // The single-use code for a consented request (expires after code_lifetime_ms).
  core::Result<std::string> IssueCode(const OAuthClient& client, const AuthorizationRequest& request,
                                      OAuthGrant grant);
  // The token endpoint: authorization_code or refresh_token (rotated: the old refresh
  // token and the access token issued with it are refused afterwards).
  core::Result<OAuthTokens> Token(const TokenRequest& request);
  // The revocation endpoint (RFC 7009): the client is authenticated as at the token
  // endpoint (invalid_client), then a token it holds ends: an access token alone (its
  // refresh token goes on, as django-oauth-toolkit's), a refresh token with the access
  // token issued with it (§2.1). The hint ("access_token", "refresh_token") only orders
  // the search. An unknown, expired or already revoked token, or another client's,
  // changes nothing and is no error (§2.2). invalid_request for a missing token.
  core::Status Revoke(const RevocationRequest& request);
  // An access token presented as `Bearer`: kUnauthenticated when unknown, expired,
  // rotated away, its client deleted or its account's binding changed.
  core::Result<OAuthAccess> Authenticate(std::string_view token);

 private:
  core::Result<OAuthClient> ClientById(std::string_view client_id);
  core::Result<OAuthClient> AuthenticateClient(const std::string& client_id, const std::string& client_secret,
                                               bool secret_given);
  // The record `token` names among `kind`, checked against its claim; nullopt if none.
  core::Result<std::optional<Record>> Lookup(const char* kind, std::string_view token);
  core::Result<OAuthTokens> Issue(const OAuthClient& client, const OAuthGrant& grant);
  core::Status CheckBinding(const std::string& environment_id, const OAuthGrant& grant, bool as_grant);
  core::Result<std::string> FormMac(const std::string& environment_id, const AuthorizationRequest& request,
                                    std::int64_t expires_ms);

  Services s_;
  OAuthBinding binding_;
  OAuthPolicy policy_;
};

// "S256": BASE64URL(SHA-256(verifier)), unpadded (RFC 7636 §4.2).
std::string PkceS256(std::string_view verifier);

}  // namespace roster::service
