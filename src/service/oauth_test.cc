#include "service/oauth.h"

#include <gtest/gtest.h>

#include <map>

#include "service/record_service.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

using core::ErrorCode;

// RFC 7636 Appendix B's example.
TEST(PkceTest, S256MatchesRfc7636Example) {
  EXPECT_EQ(PkceS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

class OAuthServerTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  static constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  static constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  static constexpr const char* kRedirect = "https://client.example.org/callback";

  OAuthServerTest()
      : ServiceFixture("roster-oauth-"),
        server_(services(),
                [this](const std::string&, const std::string& account) -> core::Result<std::string> {
                  auto it = bindings_.find(account);
                  return it == bindings_.end() ? std::string() : it->second;
                }) {
    env_ = directory_.CreateEnvironment("clinic")->id;
    public_ = server_.CreateClient({env_, "Public app", kRedirect, false})->client;
    auto confidential = server_.CreateClient({env_, "Server app", kRedirect, true});
    confidential_ = confidential->client;
    secret_ = confidential->secret;
    bindings_["web-user-1"] = "binding-1";
  }

  AuthorizationRequest Request(const OAuthClient& client, std::string scope = "access_apis") {
    AuthorizationRequest r;
    r.response_type = "code";
    r.client_id = client.client_id;
    r.redirect_uri = kRedirect;
    r.redirect_uri_given = true;
    r.scope = std::move(scope);
    r.state = "xyz";
    r.code_challenge = kChallenge;
    r.code_challenge_method = "S256";
    return r;
  }
  std::string Code(const OAuthClient& client, std::string scope = "access_apis") {
    auto request = Request(client, scope);
    auto scopes = server_.CheckAuthorization(request);
    EXPECT_TRUE(scopes.has_value());
    auto code = server_.IssueCode(client, request, OAuthGrant{"web-user-1", "admin@example.org", *scopes, "binding-1"});
    EXPECT_TRUE(code.has_value());
    return *code;
  }
  // `client` authenticated in a TokenRequest or a RevocationRequest (with its secret
  // when it is confidential).
  template <class Request>
  void As(const OAuthClient& client, Request& r) const {
    r.client_id = client.client_id;
    if (client.confidential) {
      r.client_secret = secret_;
      r.secret_given = true;
    }
  }
  TokenRequest Exchange(const OAuthClient& client, const std::string& code) {
    TokenRequest t;
    t.grant_type = "authorization_code";
    t.code = code;
    t.redirect_uri_given = kRedirect;
    t.code_verifier = kVerifier;
    As(client, t);
    return t;
  }
  TokenRequest Refresh(const OAuthClient& client, const std::string& refresh_token) {
    TokenRequest t;
    t.grant_type = "refresh_token";
    t.refresh_token = refresh_token;
    t.client_id = client.client_id;
    return t;
  }
  static std::string OAuthErrorOf(const core::Result<OAuthTokens>& r) { return r ? "" : r.error().field; }

  std::map<std::string, std::string> bindings_;
  OAuthServer server_;
  std::string env_;
  OAuthClient public_, confidential_;
  std::string secret_;
};

TEST_F(OAuthServerTest, ClientsAreListedAndSecretsKeptOnlyAsClaims) {
  auto clients = server_.ListClients(env_);
  ASSERT_TRUE(clients.has_value());
  ASSERT_EQ(clients->size(), 2u);
  EXPECT_EQ((*clients)[1].client_id, confidential_.client_id);
  EXPECT_TRUE((*clients)[1].confidential);
  auto record = records_.Get(env_, kOAuthClientKind, confidential_.id);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(boost::json::serialize(record->body).find(secret_), std::string::npos);
  EXPECT_EQ(server_.CreateClient({env_, "x", "ftp://nope", false}).error().field, "redirect_uri");
  EXPECT_EQ(server_.CreateClient({env_, "x", "https://a.example/cb#frag", false}).error().field, "redirect_uri");
  EXPECT_EQ(server_.CreateClient({env_, "", kRedirect, false}).error().field, "name");
}

TEST_F(OAuthServerTest, AuthorizationRequestChecks) {
  EXPECT_EQ(server_.CheckClient("", kRedirect, true).error().field, "client_id");
  EXPECT_EQ(server_.CheckClient("999_abc", kRedirect, true).error().field, "client_id");
  // The number of a real client with another random part is no client id.
  const std::string forged = public_.client_id.substr(0, public_.client_id.find('_') + 1) + "0123";
  EXPECT_EQ(server_.CheckClient(forged, kRedirect, true).error().field, "client_id");
  EXPECT_EQ(server_.CheckClient(public_.client_id, "https://client.example.org/other", true).error().field,
            "redirect_uri");
  EXPECT_TRUE(server_.CheckClient(public_.client_id, "", false).has_value());

  auto r = Request(public_);
  r.response_type = "token";
  EXPECT_EQ(server_.CheckAuthorization(r).error().field, "unsupported_response_type");
  r = Request(public_);
  r.code_challenge.clear();
  EXPECT_EQ(server_.CheckAuthorization(r).error().field, "invalid_request");
  r = Request(public_);
  r.code_challenge_method = "plain";
  EXPECT_EQ(server_.CheckAuthorization(r).error().field, "invalid_request");
  EXPECT_EQ(server_.CheckAuthorization(Request(public_, "reports:view")).error().field, "invalid_scope");
  EXPECT_EQ(server_.CheckAuthorization(Request(public_, "domain:clinic")).error().field, "invalid_scope");
  EXPECT_EQ(*server_.CheckAuthorization(Request(public_, "")), std::vector<std::string>{"access_apis"});
  EXPECT_EQ(*server_.CheckAuthorization(Request(public_, "domain:clinic access_apis")),
            (std::vector<std::string>{"access_apis", "domain:clinic"}));
}

TEST_F(OAuthServerTest, FormFieldIsBoundToTheRequestAndExpires) {
  auto r = Request(public_);
  auto field = server_.SignForm(public_, r);
  ASSERT_TRUE(field.has_value());
  EXPECT_TRUE(server_.VerifyForm(public_, r, *field).has_value());
  auto altered = r;
  altered.scope = "access_apis domain:other";
  EXPECT_EQ(server_.VerifyForm(public_, altered, *field).error().field, "csrf_token");
  EXPECT_EQ(server_.VerifyForm(public_, r, "").error().field, "csrf_token");
  EXPECT_EQ(server_.VerifyForm(public_, r, "1." + field->substr(field->find('.') + 1)).error().field, "csrf_token");
  clock_.now += server_.policy().form_lifetime_ms + 1;
  EXPECT_EQ(server_.VerifyForm(public_, r, *field).error().field, "csrf_token");
}

TEST_F(OAuthServerTest, CodeExchangeIssuesTokensThatAuthenticate) {
  auto tokens = server_.Token(Exchange(public_, Code(public_)));
  ASSERT_TRUE(tokens.has_value()) << tokens.error().message;
  EXPECT_EQ(tokens->expires_in_s, 900);
  EXPECT_EQ(tokens->grant.scopes, std::vector<std::string>{"access_apis"});
  auto access = server_.Authenticate(tokens->access_token);
  ASSERT_TRUE(access.has_value());
  EXPECT_EQ(access->grant.account_id, "web-user-1");
  EXPECT_EQ(access->grant.username, "admin@example.org");
  EXPECT_EQ(access->client_id, public_.client_id);
  // The refresh token, a guess, or a token whose random part is altered: no access token.
  EXPECT_EQ(server_.Authenticate(tokens->refresh_token).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(server_.Authenticate("1_00").error().code, ErrorCode::kUnauthenticated);
  std::string altered = tokens->access_token;
  altered.back() = altered.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(server_.Authenticate(altered).error().code, ErrorCode::kUnauthenticated);
  // No token is stored in plaintext.
  auto record = records_.Get(env_, kOAuthAccessKind, access->token_id);
  ASSERT_TRUE(record.has_value());
  const std::string secret = tokens->access_token.substr(tokens->access_token.find('_') + 1);
  EXPECT_EQ(boost::json::serialize(record->body).find(secret), std::string::npos);
  // Fifteen minutes later it has expired.
  clock_.now += 15 * 60'000 + 1;
  EXPECT_EQ(server_.Authenticate(tokens->access_token).error().code, ErrorCode::kUnauthenticated);
}

TEST_F(OAuthServerTest, PkceMismatchIsRefusedAndBurnsTheCode) {
  const std::string code = Code(public_);
  auto wrong = Exchange(public_, code);
  wrong.code_verifier = std::string(43, 'a');
  auto refused = server_.Token(wrong);
  EXPECT_EQ(OAuthErrorOf(refused), "invalid_grant");
  EXPECT_NE(refused.error().message.find("code_verifier"), std::string::npos);
  EXPECT_EQ(OAuthErrorOf(server_.Token(Exchange(public_, code))), "invalid_grant");
  auto missing = Exchange(public_, Code(public_));
  missing.code_verifier.clear();
  EXPECT_EQ(OAuthErrorOf(server_.Token(missing)), "invalid_request");
}

TEST_F(OAuthServerTest, CodeIsSingleUse) {
  const std::string code = Code(public_);
  EXPECT_TRUE(server_.Token(Exchange(public_, code)).has_value());
  auto again = server_.Token(Exchange(public_, code));
  EXPECT_EQ(OAuthErrorOf(again), "invalid_grant");
  EXPECT_NE(again.error().message.find("already used"), std::string::npos);
}

TEST_F(OAuthServerTest, CodeExpiresAfterSixtySeconds) {
  const std::string code = Code(public_);
  clock_.now += 60'001;
  EXPECT_EQ(OAuthErrorOf(server_.Token(Exchange(public_, code))), "invalid_grant");
}

TEST_F(OAuthServerTest, RedirectUriMustMatchTheAuthorizationRequest) {
  auto other = Exchange(public_, Code(public_));
  other.redirect_uri_given = "https://client.example.org/other";
  EXPECT_EQ(OAuthErrorOf(server_.Token(other)), "invalid_grant");
  auto missing = Exchange(public_, Code(public_));
  missing.redirect_uri_given.reset();
  EXPECT_EQ(OAuthErrorOf(server_.Token(missing)), "invalid_grant");
}

TEST_F(OAuthServerTest, ConfidentialClientMustAuthenticate) {
  const std::string code = Code(confidential_);
  auto wrong = Exchange(confidential_, code);
  wrong.client_secret = "not-the-secret";
  auto refused = server_.Token(wrong);
  EXPECT_EQ(OAuthErrorOf(refused), "invalid_client");
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
  auto none = Exchange(confidential_, code);
  none.secret_given = false;
  none.client_secret.clear();
  EXPECT_EQ(OAuthErrorOf(server_.Token(none)), "invalid_client");
  // A refused client authentication does not use the code up.
  EXPECT_TRUE(server_.Token(Exchange(confidential_, code)).has_value());
  // Another client's code.
  auto stolen = Exchange(public_, Code(confidential_));
  EXPECT_EQ(OAuthErrorOf(server_.Token(stolen)), "invalid_grant");
  auto unknown = Exchange(public_, Code(public_));
  unknown.client_id = "12345_nope";
  EXPECT_EQ(OAuthErrorOf(server_.Token(unknown)), "invalid_client");
}

TEST_F(OAuthServerTest, RefreshRotatesAndEndsTheOldPair) {
  auto first = server_.Token(Exchange(public_, Code(public_)));
  ASSERT_TRUE(first.has_value());
  auto second = server_.Token(Refresh(public_, first->refresh_token));
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_NE(second->refresh_token, first->refresh_token);
  EXPECT_TRUE(server_.Authenticate(second->access_token).has_value());
  // The old refresh token is used up, and the access token issued with it ends.
  EXPECT_EQ(OAuthErrorOf(server_.Token(Refresh(public_, first->refresh_token))), "invalid_grant");
  EXPECT_EQ(server_.Authenticate(first->access_token).error().code, ErrorCode::kUnauthenticated);
  // Another client cannot use it.
  EXPECT_EQ(OAuthErrorOf(server_.Token(Refresh(confidential_, second->refresh_token))), "invalid_client");
  auto as_other = Refresh(confidential_, second->refresh_token);
  as_other.client_secret = secret_;
  as_other.secret_given = true;
  EXPECT_EQ(OAuthErrorOf(server_.Token(as_other)), "invalid_grant");
  EXPECT_EQ(OAuthErrorOf(server_.Token(Refresh(public_, "7_feed"))), "invalid_grant");
}

TEST_F(OAuthServerTest, ScopeNarrowing) {
  auto narrowed = server_.Token(Exchange(public_, Code(public_, "access_apis domain:clinic")));
  ASSERT_TRUE(narrowed.has_value());
  EXPECT_TRUE(server_.ScopesAllow(narrowed->grant.scopes, "clinic"));
  EXPECT_FALSE(server_.ScopesAllow(narrowed->grant.scopes, "other"));
  EXPECT_TRUE(server_.ScopesAllow({"access_apis"}, "other"));
  // A refresh may keep or narrow the scope, never widen it.
  auto widen = Refresh(public_, narrowed->refresh_token);
  widen.scope = "access_apis";
  EXPECT_EQ(OAuthErrorOf(server_.Token(widen)), "invalid_scope");
  widen.scope = "access_apis domain:other";
  EXPECT_EQ(OAuthErrorOf(server_.Token(widen)), "invalid_scope");
  auto full = server_.Token(Exchange(public_, Code(public_)));
  auto narrow = Refresh(public_, full->refresh_token);
  narrow.scope = "access_apis domain:clinic";
  // domain:clinic was not granted (access_apis was, wider): a refresh names only granted scopes.
  EXPECT_EQ(OAuthErrorOf(server_.Token(narrow)), "invalid_scope");
  narrow.scope = "access_apis";
  EXPECT_TRUE(server_.Token(narrow).has_value());
}

TEST_F(OAuthServerTest, ChangedAccountCredentialsEndCodesAndTokens) {
  const std::string code = Code(public_);
  auto tokens = server_.Token(Exchange(public_, Code(public_)));
  ASSERT_TRUE(tokens.has_value());
  bindings_["web-user-1"] = "binding-2";  // a new password or key
  EXPECT_EQ(server_.Authenticate(tokens->access_token).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(OAuthErrorOf(server_.Token(Refresh(public_, tokens->refresh_token))), "invalid_grant");
  EXPECT_EQ(OAuthErrorOf(server_.Token(Exchange(public_, code))), "invalid_grant");
  bindings_.erase("web-user-1");  // deactivated
  EXPECT_EQ(server_.Authenticate(tokens->access_token).error().code, ErrorCode::kUnauthenticated);
}

TEST_F(OAuthServerTest, DeletedClientEndsItsTokens) {
  auto tokens = server_.Token(Exchange(public_, Code(public_)));
  ASSERT_TRUE(tokens.has_value());
  ASSERT_TRUE(server_.DeleteClient(env_, public_.client_id).has_value());
  EXPECT_EQ(server_.Authenticate(tokens->access_token).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(OAuthErrorOf(server_.Token(Refresh(public_, tokens->refresh_token))), "invalid_client");
  EXPECT_EQ(server_.DeleteClient(env_, public_.client_id).error().code, ErrorCode::kNotFound);
}

// RFC 7009: a client revokes its own tokens; a refresh token takes its access token with
// it, an access token goes alone; anything else is no error and changes nothing.
TEST_F(OAuthServerTest, RevocationEndsTheClientsOwnTokens) {
  const auto revoke = [&](const OAuthClient& client, const std::string& token, const std::string& hint = "") {
    RevocationRequest r;
    r.token = token;
    r.token_type_hint = hint;
    As(client, r);
    return server_.Revoke(r);
  };
  // A refresh token (with a hint that says otherwise: the search goes on) ends its pair.
  auto pair = server_.Token(Exchange(public_, Code(public_)));
  ASSERT_TRUE(pair.has_value());
  ASSERT_TRUE(revoke(public_, pair->refresh_token, "access_token").has_value());
  EXPECT_EQ(OAuthErrorOf(server_.Token(Refresh(public_, pair->refresh_token))), "invalid_grant");
  EXPECT_EQ(server_.Authenticate(pair->access_token).error().code, ErrorCode::kUnauthenticated);
  // Revoked again, or never issued: no error.
  EXPECT_TRUE(revoke(public_, pair->refresh_token).has_value());
  EXPECT_TRUE(revoke(public_, "7_feed").has_value());
  EXPECT_TRUE(revoke(public_, "not a token", "refresh_token").has_value());
  // An access token ends alone: its refresh token still refreshes.
  auto other = server_.Token(Exchange(public_, Code(public_)));
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(revoke(public_, other->access_token, "access_token").has_value());
  EXPECT_EQ(server_.Authenticate(other->access_token).error().code, ErrorCode::kUnauthenticated);
  auto refreshed = server_.Token(Refresh(public_, other->refresh_token));
  ASSERT_TRUE(refreshed.has_value()) << refreshed.error().message;
  // Another client's token is left as it is.
  ASSERT_TRUE(revoke(confidential_, refreshed->access_token).has_value());
  ASSERT_TRUE(revoke(confidential_, refreshed->refresh_token, "refresh_token").has_value());
  EXPECT_TRUE(server_.Authenticate(refreshed->access_token).has_value());
  // The client authenticates as at the token endpoint; a token is required.
  RevocationRequest unauthenticated;
  unauthenticated.token = refreshed->access_token;
  unauthenticated.client_id = confidential_.client_id;
  auto refused = server_.Revoke(unauthenticated);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().field, "invalid_client");
  unauthenticated.client_id.clear();
  EXPECT_EQ(server_.Revoke(unauthenticated).error().field, "invalid_client");
  auto empty = revoke(public_, "");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().field, "invalid_request");
  EXPECT_TRUE(server_.Authenticate(refreshed->access_token).has_value());
  // A confidential client revokes its own with its secret.
  auto own = server_.Token(Exchange(confidential_, Code(confidential_)));
  ASSERT_TRUE(own.has_value());
  ASSERT_TRUE(revoke(confidential_, own->access_token).has_value());
  EXPECT_EQ(server_.Authenticate(own->access_token).error().code, ErrorCode::kUnauthenticated);
}

TEST_F(OAuthServerTest, OtherGrantTypesAreUnsupported) {
  TokenRequest t;
  t.grant_type = "password";
  t.client_id = public_.client_id;
  EXPECT_EQ(OAuthErrorOf(server_.Token(t)), "unsupported_grant_type");
  t.grant_type = "client_credentials";
  EXPECT_EQ(OAuthErrorOf(server_.Token(t)), "unsupported_grant_type");
  t.grant_type.clear();
  EXPECT_EQ(OAuthErrorOf(server_.Token(t)), "invalid_request");
}

}  // namespace
}  // namespace roster::service
