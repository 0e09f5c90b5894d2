// CommCare's OAuth2 (django-oauth-toolkit's authorization code flow with PKCE, as
// CommCare HQ serves it) against the real binary over HTTP, the way a client
// application and a browser drive it: the client reads the metadata, sends the browser
// to /oauth/authorize/, the web user signs in and consents on the HTML page (its form
// posted back with the hidden fields and the csrf_token, as a browser does), the 302 to
// the redirect_uri carries the code, the client exchanges it at /oauth/token/ with its
// PKCE verifier and calls the API with `Authorization: Bearer`. Most tests replay what an
// RFC 6749/7636 client library sends (form-encoded token requests, client_id in the form
// for a public client, Basic for a confidential one, the `refresh_token` grant), so each
// error path can be aimed at; Oauth4webapiClientRunsTheWholeFlow runs a real client library,
// oauth4webapi (tests/sdk/commcare/oauth_flow.mjs, installed by scripts/sdk-setup.sh),
// through the whole flow with its own checks of every answer.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string Base64Url(std::string_view in) {
  std::string b = Base64(in);
  for (char& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

// RFC 7636 §4.1-4.2: a random verifier and its S256 challenge.
struct Pkce {
  std::string verifier, challenge;
};
Pkce NewPkce() {
  unsigned char random[32];
  RAND_bytes(random, sizeof random);
  Pkce p;
  p.verifier = Base64Url(std::string_view(reinterpret_cast<char*>(random), sizeof random));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(p.verifier.data(), p.verifier.size(), digest, &length, EVP_sha256(), nullptr);
  p.challenge = Base64Url(std::string_view(reinterpret_cast<char*>(digest), length));
  return p;
}

std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + UrlEncode(k) + "=" + UrlEncode(v);
  return out;
}

std::string HtmlUnescape(std::string s) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
  }
  return s;
}

// What a browser submits of the page's form: its hidden fields.
std::vector<std::pair<std::string, std::string>> HiddenFields(const std::string& html) {
  std::vector<std::pair<std::string, std::string>> out;
  static const std::regex kHidden(R"re(<input type="hidden" name="([^"]*)" value="([^"]*)">)re");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), kHidden); it != std::sregex_iterator(); ++it)
    out.emplace_back(HtmlUnescape((*it)[1]), HtmlUnescape((*it)[2]));
  return out;
}

std::map<std::string, std::string> QueryOf(const std::string& location) {
  std::map<std::string, std::string> out;
  const auto q = location.find('?');
  if (q == std::string::npos) return out;
  std::string rest = location.substr(q + 1);
  std::size_t i = 0;
  while (i <= rest.size()) {
    const auto amp = std::min(rest.find('&', i), rest.size());
    const std::string pair = rest.substr(i, amp - i);
    const auto eq = pair.find('=');
    std::string value = eq == std::string::npos ? "" : pair.substr(eq + 1), decoded;
    for (std::size_t k = 0; k < value.size(); ++k) {
      if (value[k] == '+') decoded += ' ';
      else if (value[k] == '%' && k + 2 < value.size()) {
        decoded += static_cast<char>(std::stoi(value.substr(k + 1, 2), nullptr, 16));
        k += 2;
      } else decoded += value[k];
    }
    if (!pair.empty()) out[pair.substr(0, eq)] = decoded;
    i = amp + 1;
  }
  return out;
}

constexpr const char* kRedirect = "http://127.0.0.1:9/callback";
constexpr const char* kPassword = "correct horse battery";
const Headers kFormType = {{"Content-Type", "application/x-www-form-urlencoded"}};

class CommCareOAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    InitDataDir(dir_->path());
    {
      std::ofstream(dir_->path() + "/pw.txt") << kPassword << "\n";
    }
    // One web user (one email) in three project spaces; its password in "demo".
    for (const char* domain : {"demo", "other", "third"}) {
      std::vector<std::string> args{"commcare", "web-user", "create", "--domain", domain, "--email",
                                    "admin@example.org", "--data-dir", dir_->path(), "--json"};
      if (std::string(domain) == "demo") args.insert(args.end(), {"--password-file", dir_->path() + "/pw.txt"});
      auto r = RunRoster(args);
      if (r.exit_code != 0) throw std::runtime_error(r.err);
    }
    auto r = RunRoster({"commcare", "web-user", "create", "--domain", "demo", "--email", "second@example.org",
                        "--password-file", dir_->path() + "/pw.txt", "--data-dir", dir_->path(), "--json"});
    if (r.exit_code != 0) throw std::runtime_error(r.err);
    public_id_ = CreateClient("Public app", false).at("client_id").as_string().c_str();
    auto confidential = CreateClient("Server app", true);
    confidential_id_ = confidential.at("client_id").as_string().c_str();
    confidential_secret_ = confidential.at("client_secret").as_string().c_str();
    server_ = new Server(dir_->path());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static json::object CreateClient(const std::string& name, bool confidential) {
    std::vector<std::string> args{"commcare", "oauth-client", "create", "--env", "demo", "--name", name,
                                  "--redirect-uri", kRedirect, "--data-dir", dir_->path(), "--json"};
    if (confidential) args.push_back("--confidential");
    auto r = RunRoster(args);
    if (r.exit_code != 0) throw std::runtime_error(r.err);
    return json::parse(r.out).as_object();
  }

  std::string AuthorizeQuery(const std::string& client_id, const Pkce& pkce, const std::string& scope,
                             const std::string& state = "st4te") {
    return "/oauth/authorize/?" + Form({{"response_type", "code"},
                                        {"client_id", client_id},
                                        {"redirect_uri", kRedirect},
                                        {"scope", scope},
                                        {"state", state},
                                        {"code_challenge", pkce.challenge},
                                        {"code_challenge_method", "S256"}});
  }

  // The browser's part: open the page, fill in the form, submit it; the 302 it gets.
  HttpResponse SignIn(const std::string& client_id, const Pkce& pkce, const std::string& scope,
                      const std::string& password = kPassword, const std::string& email = "admin@example.org") {
    auto page = client_.Send("GET", AuthorizeQuery(client_id, pkce, scope));
    EXPECT_EQ(page.status, 200) << page.body;
    auto fields = HiddenFields(page.body);
    fields.push_back({"username", email});
    fields.push_back({"password", password});
    fields.push_back({"allow", "Authorize"});
    return client_.Send("POST", "/oauth/authorize/", Form(fields), kFormType);
  }

  // The whole flow for a public client, signed in as `email`: the code from the
  // redirect, exchanged.
  json::object TokensFor(const std::string& email, const std::string& scope = "access_apis") {
    const Pkce pkce = NewPkce();
    auto redirect = SignIn(public_id_, pkce, scope, kPassword, email);
    EXPECT_EQ(redirect.status, 302) << redirect.body;
    const auto location = redirect.Header("location");
    EXPECT_TRUE(location.starts_with(std::string(kRedirect) + "?")) << location;
    auto params = QueryOf(location);
    EXPECT_EQ(params["state"], "st4te");
    auto token = client_.Send("POST", "/oauth/token/",
                              Form({{"grant_type", "authorization_code"},
                                    {"code", params["code"]},
                                    {"redirect_uri", kRedirect},
                                    {"client_id", public_id_},
                                    {"code_verifier", pkce.verifier}}),
                              kFormType);
    EXPECT_EQ(token.status, 200) << token.body;
    EXPECT_EQ(token.Header("cache-control"), "no-store");
    auto body = token.Json();
    return body.is_object() ? body.as_object() : json::object{};
  }
  json::object Tokens(const std::string& scope = "access_apis") { return TokensFor("admin@example.org", scope); }

  static Headers Bearer(const json::object& tokens) {
    return {{"Authorization", "Bearer " + std::string(tokens.at("access_token").as_string())}};
  }
  HttpResponse Refresh(const std::string& refresh_token, const std::string& scope = "") {
    std::vector<std::pair<std::string, std::string>> fields{
        {"grant_type", "refresh_token"}, {"refresh_token", refresh_token}, {"client_id", public_id_}};
    if (!scope.empty()) fields.push_back({"scope", scope});
    return client_.Send("POST", "/oauth/token/", Form(fields), kFormType);
  }
  static void ExpectOAuthError(const HttpResponse& r, long status, const std::string& error,
                               const std::string& mentions = "") {
    EXPECT_EQ(r.status, status) << r.body;
    auto body = r.Json();
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_EQ(body.at("error"), json::value(error)) << r.body;
    EXPECT_NE(std::string(body.at("error_description").as_string()).find(mentions), std::string::npos) << r.body;
  }

  static TempDir* dir_;
  static Server* server_;
  static std::string public_id_, confidential_id_, confidential_secret_;
  Client client_{server_->base_url()};
};

TempDir* CommCareOAuthTest::dir_ = nullptr;
Server* CommCareOAuthTest::server_ = nullptr;
std::string CommCareOAuthTest::public_id_, CommCareOAuthTest::confidential_id_,
    CommCareOAuthTest::confidential_secret_;

TEST_F(CommCareOAuthTest, MetadataIsCommCares) {
  auto r = client_.Send("GET", "/.well-known/oauth-authorization-server");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.Json();
  EXPECT_EQ(body.at("grant_types_supported"), json::parse(R"(["authorization_code", "refresh_token"])"));
  EXPECT_EQ(body.at("response_types_supported"), json::parse(R"(["code"])"));
  EXPECT_EQ(body.at("code_challenge_methods_supported"), json::parse(R"(["S256"])"));
  EXPECT_EQ(body.at("scopes_supported"), json::parse(R"(["access_apis"])"));
  EXPECT_EQ(body.at("token_endpoint"), json::value(server_->base_url() + "/oauth/token/"));
  EXPECT_EQ(body.at("authorization_endpoint"), json::value(server_->base_url() + "/oauth/authorize/"));
  EXPECT_EQ(body.at("revocation_endpoint"), json::value(server_->base_url() + "/oauth/revoke_token/"));
}

TEST_F(CommCareOAuthTest, CliListsAndDeletesClients) {
  auto listed = RunRoster({"commcare", "oauth-client", "list", "--env", "demo", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(public_id_), std::string::npos);
  EXPECT_EQ(listed.out.find(confidential_secret_), std::string::npos);  // the secret is shown once
  auto extra = CreateClient("Short-lived", false);
  const std::string id(extra.at("client_id").as_string());
  EXPECT_EQ(extra.at("client_type"), json::value("public"));
  EXPECT_FALSE(extra.contains("client_secret"));
  auto deleted = RunRoster({"commcare", "oauth-client", "delete", "--env", "demo", "--client-id", id, "--data-dir",
                            dir_->path(), "--json"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  auto page = client_.Send("GET", AuthorizeQuery(id, NewPkce(), "access_apis"));
  EXPECT_EQ(page.status, 400);
  EXPECT_NE(page.body.find("client_id"), std::string::npos) << page.body;
  auto again = RunRoster({"commcare", "oauth-client", "delete", "--env", "demo", "--client-id", id, "--data-dir",
                          dir_->path(), "--json"});
  EXPECT_NE(again.exit_code, 0);
  auto bad = RunRoster({"commcare", "oauth-client", "create", "--env", "demo", "--name", "x", "--redirect-uri",
                        "not a uri", "--data-dir", dir_->path(), "--json"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE((bad.out + bad.err).find("redirect_uri"), std::string::npos);
}

TEST_F(CommCareOAuthTest, FullFlowThenBearerOnTheApi) {
  const auto tokens = Tokens();
  EXPECT_EQ(tokens.at("token_type"), json::value("Bearer"));
  EXPECT_EQ(tokens.at("expires_in"), json::value(900));
  EXPECT_EQ(tokens.at("scope"), json::value("access_apis"));
  ASSERT_TRUE(tokens.contains("refresh_token"));
  // The web user's project spaces, as its key would (access_apis: all of them).
  for (const char* domain : {"demo", "other"}) {
    auto r = client_.Send("GET", std::string("/a/") + domain + "/api/v0.5/user/", "", Bearer(tokens));
    EXPECT_EQ(r.status, 200) << domain << ": " << r.body;
    EXPECT_TRUE(r.Json().at("objects").is_array());
  }
  auto identity = client_.Send("GET", "/api/v0.5/identity/", "", Bearer(tokens));
  EXPECT_EQ(identity.status, 200) << identity.body;
  EXPECT_EQ(identity.Json().at("username"), json::value("admin@example.org"));
  // Not a member there: 403.
  auto stranger = client_.Send("GET", "/a/elsewhere/api/v0.5/user/", "", Bearer(tokens));
  EXPECT_EQ(stranger.status, 403) << stranger.body;
  // A made-up token: 401 in CommCare's shape.
  auto unknown = client_.Send("GET", "/a/demo/api/v0.5/user/", "", {{"Authorization", "Bearer 1_deadbeef"}});
  EXPECT_EQ(unknown.status, 401);
  EXPECT_TRUE(unknown.Json().at("error").is_string());
}

TEST_F(CommCareOAuthTest, RefreshRotates) {
  const auto first = Tokens();
  const std::string old_refresh(first.at("refresh_token").as_string());
  auto refreshed = Refresh(old_refresh);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(refreshed.Header("cache-control"), "no-store");
  const auto second = refreshed.Json().as_object();
  EXPECT_NE(second.at("refresh_token"), first.at("refresh_token"));
  EXPECT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(second)).status, 200);
  // The old refresh token is used up; the access token issued with it ended.
  ExpectOAuthError(Refresh(old_refresh), 400, "invalid_grant", "already used");
  EXPECT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(first)).status, 401);
}

TEST_F(CommCareOAuthTest, DomainScopeNarrows) {
  const auto tokens = Tokens("access_apis domain:demo");
  EXPECT_EQ(tokens.at("scope"), json::value("access_apis domain:demo"));
  EXPECT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(tokens)).status, 200);
  auto other = client_.Send("GET", "/a/other/api/v0.5/user/", "", Bearer(tokens));
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_NE(other.body.find("scope"), std::string::npos) << other.body;
  // A refresh cannot widen it.
  ExpectOAuthError(Refresh(std::string(tokens.at("refresh_token").as_string()), "access_apis"), 400, "invalid_scope");
}

TEST_F(CommCareOAuthTest, ConfidentialClientAuthenticatesWithBasicOrForm) {
  const Pkce pkce = NewPkce();
  auto redirect = SignIn(confidential_id_, pkce, "access_apis");
  ASSERT_EQ(redirect.status, 302) << redirect.body;
  const std::string code = QueryOf(redirect.Header("location"))["code"];
  const std::string form = Form({{"grant_type", "authorization_code"},
                                 {"code", code},
                                 {"redirect_uri", kRedirect},
                                 {"code_verifier", pkce.verifier}});
  Headers wrong = kFormType;
  wrong.push_back({"Authorization", "Basic " + Base64(confidential_id_ + ":not-the-secret")});
  auto refused = client_.Send("POST", "/oauth/token/", form, wrong);
  ExpectOAuthError(refused, 401, "invalid_client");
  EXPECT_NE(refused.Header("www-authenticate").find("Basic"), std::string::npos);
  // Without any secret (as a public client would): refused too.
  ExpectOAuthError(client_.Send("POST", "/oauth/token/", form + "&client_id=" + UrlEncode(confidential_id_), kFormType),
                   401, "invalid_client");
  Headers right = kFormType;
  right.push_back({"Authorization", "Basic " + Base64(confidential_id_ + ":" + confidential_secret_)});
  // Two client authentications at once (Basic and client_secret in the form): refused.
  ExpectOAuthError(client_.Send("POST", "/oauth/token/", form + "&client_secret=" + UrlEncode(confidential_secret_),
                                right),
                   400, "invalid_request", "one client authentication");
  auto ok = client_.Send("POST", "/oauth/token/", form, right);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(ok.Json().as_object())).status, 200);
  // client_secret_post: the secret in the form.
  const Pkce pkce2 = NewPkce();
  auto again = SignIn(confidential_id_, pkce2, "access_apis");
  ASSERT_EQ(again.status, 302) << again.body;
  auto posted = client_.Send("POST", "/oauth/token/",
                             Form({{"grant_type", "authorization_code"},
                                   {"code", QueryOf(again.Header("location"))["code"]},
                                   {"redirect_uri", kRedirect},
                                   {"code_verifier", pkce2.verifier},
                                   {"client_id", confidential_id_},
                                   {"client_secret", confidential_secret_}}),
                             kFormType);
  EXPECT_EQ(posted.status, 200) << posted.body;
}

TEST_F(CommCareOAuthTest, AuthorizationRequestErrors) {
  const Pkce pkce = NewPkce();
  // Bad client_id or redirect_uri: an HTML 400, never a redirect.
  auto unknown = client_.Send("GET", AuthorizeQuery("123_nope", pkce, "access_apis"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.Header("content-type").substr(0, 9), "text/html");
  EXPECT_NE(unknown.body.find("client_id"), std::string::npos);
  std::string other_redirect = AuthorizeQuery(public_id_, pkce, "access_apis");
  other_redirect.replace(other_redirect.find("callback"), 8, "elsewhere");
  auto mismatch = client_.Send("GET", other_redirect);
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_NE(mismatch.body.find("redirect URI"), std::string::npos) << mismatch.body;
  // Everything else goes back to the client (RFC 6749 §4.1.2.1).
  const auto redirected = [&](const std::string& query, const std::string& error) {
    auto r = client_.Send("GET", query);
    EXPECT_EQ(r.status, 302) << r.body;
    auto params = QueryOf(r.Header("location"));
    EXPECT_EQ(params["error"], error) << r.Header("location");
    EXPECT_EQ(params["state"], "st4te");
    return params["error_description"];
  };
  std::string no_pkce = AuthorizeQuery(public_id_, pkce, "access_apis");
  no_pkce.replace(no_pkce.find("code_challenge="), std::string("code_challenge=").size() + pkce.challenge.size(),
                  "code_challenge=");
  EXPECT_NE(redirected(no_pkce, "invalid_request").find("code_challenge"), std::string::npos);
  std::string plain = AuthorizeQuery(public_id_, pkce, "access_apis");
  plain.replace(plain.find("S256"), 4, "plain");
  EXPECT_NE(redirected(plain, "invalid_request").find("S256"), std::string::npos);
  EXPECT_NE(redirected(AuthorizeQuery(public_id_, pkce, "reports:view"), "invalid_scope").find("reports:view"),
            std::string::npos);
  std::string token_type = AuthorizeQuery(public_id_, pkce, "access_apis");
  token_type.replace(token_type.find("response_type=code"), 18, "response_type=token");
  redirected(token_type, "unsupported_response_type");
  // A repeated parameter (RFC 6749 §3.1).
  EXPECT_NE(redirected(AuthorizeQuery(public_id_, pkce, "access_apis") + "&scope=access_apis", "invalid_request")
                .find("scope"),
            std::string::npos);
  auto twice =
      client_.Send("GET", AuthorizeQuery(public_id_, pkce, "access_apis") + "&client_id=" + UrlEncode(public_id_));
  EXPECT_EQ(twice.status, 400);
  EXPECT_NE(twice.body.find("client_id"), std::string::npos);
}

TEST_F(CommCareOAuthTest, ConsentFormErrors) {
  const Pkce pkce = NewPkce();
  // A wrong password: the form again, 401, nothing escaped out of place.
  auto wrong = SignIn(public_id_, pkce, "access_apis", "wrong password");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.body.find("Invalid email or password"), std::string::npos);
  EXPECT_FALSE(HiddenFields(wrong.body).empty());
  // A web user of the domain with a password but no API key any more.
  auto revoked = RunRoster({"commcare", "web-user", "revoke-key", "--domain", "demo", "--email", "second@example.org",
                            "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  auto no_access = SignIn(public_id_, pkce, "access_apis", kPassword, "second@example.org");
  EXPECT_EQ(no_access.status, 403);
  EXPECT_NE(no_access.body.find("no API access"), std::string::npos);
  // An altered hidden field (the scope widened) or a forged csrf_token: refused.
  auto page = client_.Send("GET", AuthorizeQuery(public_id_, pkce, "access_apis domain:demo"));
  auto fields = HiddenFields(page.body);
  for (auto& [k, v] : fields)
    if (k == "scope") v = "access_apis";
  fields.insert(fields.end(), {{"username", "admin@example.org"}, {"password", kPassword}, {"allow", "Authorize"}});
  auto altered = client_.Send("POST", "/oauth/authorize/", Form(fields), kFormType);
  EXPECT_EQ(altered.status, 400);
  EXPECT_NE(altered.body.find("csrf_token"), std::string::npos);
  // Posted from another site.
  fields = HiddenFields(page.body);
  fields.insert(fields.end(), {{"username", "admin@example.org"}, {"password", kPassword}, {"allow", "Authorize"}});
  Headers cross = kFormType;
  cross.push_back({"Sec-Fetch-Site", "cross-site"});
  EXPECT_EQ(client_.Send("POST", "/oauth/authorize/", Form(fields), cross).status, 403);
  // Cancel: access_denied back to the client.
  fields = HiddenFields(page.body);
  fields.push_back({"cancel", "Cancel"});
  auto cancelled = client_.Send("POST", "/oauth/authorize/", Form(fields), kFormType);
  EXPECT_EQ(cancelled.status, 302);
  EXPECT_EQ(QueryOf(cancelled.Header("location"))["error"], "access_denied");
  // Markup in the state is escaped on the page.
  auto page2 = client_.Send("GET", AuthorizeQuery(public_id_, pkce, "access_apis", "<script>x</script>"));
  EXPECT_EQ(page2.body.find("<script>"), std::string::npos);
  EXPECT_NE(page2.body.find("&lt;script&gt;"), std::string::npos);
}

TEST_F(CommCareOAuthTest, TokenEndpointErrors) {
  const Pkce pkce = NewPkce();
  auto redirect = SignIn(public_id_, pkce, "access_apis");
  ASSERT_EQ(redirect.status, 302);
  const std::string code = QueryOf(redirect.Header("location"))["code"];
  const auto exchange = [&](const std::string& verifier, const std::string& redirect_uri = kRedirect) {
    return client_.Send("POST", "/oauth/token/",
                        Form({{"grant_type", "authorization_code"},
                              {"code", code},
                              {"redirect_uri", redirect_uri},
                              {"client_id", public_id_},
                              {"code_verifier", verifier}}),
                        kFormType);
  };
  // A wrong verifier burns the code: the right one is refused afterwards.
  ExpectOAuthError(exchange(NewPkce().verifier), 400, "invalid_grant", "code_verifier");
  ExpectOAuthError(exchange(pkce.verifier), 400, "invalid_grant", "already used");
  // Reuse of a good code.
  const Pkce pkce2 = NewPkce();
  const std::string code2 = QueryOf(SignIn(public_id_, pkce2, "access_apis").Header("location"))["code"];
  const std::string good = Form({{"grant_type", "authorization_code"},
                                 {"code", code2},
                                 {"redirect_uri", kRedirect},
                                 {"client_id", public_id_},
                                 {"code_verifier", pkce2.verifier}});
  EXPECT_EQ(client_.Send("POST", "/oauth/token/", good, kFormType).status, 200);
  ExpectOAuthError(client_.Send("POST", "/oauth/token/", good, kFormType), 400, "invalid_grant", "already used");
  // Another redirect_uri than the authorization request's.
  const Pkce pkce3 = NewPkce();
  const std::string code3 = QueryOf(SignIn(public_id_, pkce3, "access_apis").Header("location"))["code"];
  ExpectOAuthError(client_.Send("POST", "/oauth/token/",
                                Form({{"grant_type", "authorization_code"},
                                      {"code", code3},
                                      {"redirect_uri", "http://127.0.0.1:9/other"},
                                      {"client_id", public_id_},
                                      {"code_verifier", pkce3.verifier}}),
                                kFormType),
                   400, "invalid_grant", "redirect_uri");
  ExpectOAuthError(client_.Send("POST", "/oauth/token/", "grant_type=password&username=a&password=b&client_id=" +
                                                             UrlEncode(public_id_),
                                kFormType),
                   400, "unsupported_grant_type");
  ExpectOAuthError(client_.Send("POST", "/oauth/token/", "grant_type=client_credentials&client_id=" +
                                                             UrlEncode(public_id_),
                                kFormType),
                   400, "unsupported_grant_type");
  ExpectOAuthError(client_.Send("POST", "/oauth/token/", R"({"grant_type":"authorization_code"})",
                                {{"Content-Type", "application/json"}}),
                   400, "invalid_request", "x-www-form-urlencoded");
  ExpectOAuthError(
      client_.Send("POST", "/oauth/token/", "grant_type=refresh_token&grant_type=refresh_token", kFormType), 400,
      "invalid_request", "repeats");
  ExpectOAuthError(
      client_.Send("POST", "/oauth/token/", "grant_type=authorization_code&client_id=1_unknown", kFormType), 401,
      "invalid_client");
  ExpectOAuthError(client_.Send("POST", "/oauth/token/",
                                "grant_type=authorization_code&client_id=" + UrlEncode(public_id_), kFormType),
                   400, "invalid_request", "code");
}

TEST_F(CommCareOAuthTest, NewPasswordOrRevokedKeyEndsTokens) {
  // A web user of its own (this test changes its credentials).
  auto r = RunRoster({"commcare", "web-user", "create", "--domain", "demo", "--email", "third@example.org",
                      "--password-file", dir_->path() + "/pw.txt", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tokens = TokensFor("third@example.org");
  ASSERT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(tokens)).status, 200);
  {
    std::ofstream(dir_->path() + "/pw2.txt") << "a brand new password\n";
  }
  r = RunRoster({"commcare", "web-user", "set-password", "--domain", "demo", "--email", "third@example.org",
                 "--password-file", dir_->path() + "/pw2.txt", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(tokens)).status, 401);
  ExpectOAuthError(Refresh(std::string(tokens.at("refresh_token").as_string())), 400, "invalid_grant", "credentials");
  // With the new password: new tokens, ended by revoking the web user's key.
  r = RunRoster({"commcare", "web-user", "set-password", "--domain", "demo", "--email", "third@example.org",
                 "--password-file", dir_->path() + "/pw.txt", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  tokens = TokensFor("third@example.org");
  ASSERT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(tokens)).status, 200);
  r = RunRoster({"commcare", "web-user", "revoke-key", "--domain", "demo", "--email", "third@example.org",
                 "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(tokens)).status, 401);
}

TEST_F(CommCareOAuthTest, RevokingTheKeyDirectlyEndsTokens) {
  auto r = RunRoster({"commcare", "web-user", "create", "--domain", "demo", "--email", "fifth@example.org",
                      "--password-file", dir_->path() + "/pw.txt", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto tokens = TokensFor("fifth@example.org");
  ASSERT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(tokens)).status, 200);
  auto listed = RunRoster({"key", "list", "--env", "demo", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::string key_id;
  const json::value keys = json::parse(listed.out);
  for (const auto& k : keys.at("keys").as_array())
    if (k.at("identifier") == json::value("fifth@example.org")) key_id = std::string(k.at("id").as_string());
  ASSERT_FALSE(key_id.empty());
  auto revoked = RunRoster({"key", "revoke", key_id, "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_TRUE(RefusedOnceRevocationArrives(
      [&] { return client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(tokens)).status == 401; }));
  ExpectOAuthError(Refresh(std::string(tokens.at("refresh_token").as_string())), 400, "invalid_grant", "credentials");
}

TEST_F(CommCareOAuthTest, DeactivatingTheWebUserSuspendsItsTokens) {
  auto boss = RunRoster({"commcare", "web-user", "create", "--domain", "demo", "--email", "boss@example.org", "--scope",
                         "credentials:admin", "--scope", "profile:read", "--scope", "users:list", "--data-dir",
                         dir_->path(), "--json"});
  ASSERT_EQ(boss.exit_code, 0) << boss.err;
  const Headers boss_key = {{"Authorization", "ApiKey boss@example.org:" +
                                                  std::string(json::parse(boss.out).at("apiKey").as_string())}};
  auto r = RunRoster({"commcare", "web-user", "create", "--domain", "demo", "--email", "fourth@example.org",
                      "--password-file", dir_->path() + "/pw.txt", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto tokens = TokensFor("fourth@example.org");
  auto listed = client_.Send("GET", "/a/demo/api/v0.5/web-user/?limit=100", "", boss_key);
  ASSERT_EQ(listed.status, 200) << listed.body;
  std::string id;
  const auto body = listed.Json();
  for (const auto& w : body.at("objects").as_array())
    if (w.at("username") == json::value("fourth@example.org")) id = std::string(w.at("id").as_string());
  ASSERT_FALSE(id.empty());
  const std::string users = "/a/demo/api/v0.5/user/";
  ASSERT_EQ(client_.Send("GET", users, "", Bearer(tokens)).status, 200);
  ASSERT_EQ(client_.Send("POST", "/a/demo/api/v0.5/web-user/" + id + "/deactivate/", "", boss_key).status, 202);
  EXPECT_EQ(client_.Send("GET", users, "", Bearer(tokens)).status, 401);
  ASSERT_EQ(client_.Send("POST", "/a/demo/api/v0.5/web-user/" + id + "/activate/", "{}", boss_key).status, 202);
  EXPECT_EQ(client_.Send("GET", users, "", Bearer(tokens)).status, 200);
}

// RFC 7009 on the wire (django-oauth-toolkit's /oauth/revoke_token/): 200 and an empty
// body for a revoked, unknown or another client's token; the errors in RFC 6749's shape;
// each revocation audited as credential.revoke.
TEST_F(CommCareOAuthTest, RevocationEndpointRevokesAndAnswersInRfc6749Shape) {
  const std::string revoke = "/oauth/revoke_token/";
  const auto tokens = Tokens();
  const std::string access(tokens.at("access_token").as_string()), refresh(tokens.at("refresh_token").as_string());
  // Errors first; nothing is revoked by them.
  ExpectOAuthError(client_.Send("POST", revoke, Form({{"client_id", public_id_}}), kFormType), 400, "invalid_request",
                   "token");
  ExpectOAuthError(client_.Send("POST", revoke, Form({{"token", access}}), kFormType), 401, "invalid_client");
  ExpectOAuthError(client_.Send("POST", revoke, R"({"token":"x"})", {{"Content-Type", "application/json"}}), 400,
                   "invalid_request", "x-www-form-urlencoded");
  ExpectOAuthError(client_.Send("POST", revoke, Form({{"token", access}, {"client_id", confidential_id_}}), kFormType),
                   401, "invalid_client");
  // The confidential client's revocation of the public client's token: 200, no effect.
  Headers basic = kFormType;
  basic.push_back({"Authorization", "Basic " + Base64(confidential_id_ + ":" + confidential_secret_)});
  auto foreign = client_.Send("POST", revoke, Form({{"token", access}}), basic);
  EXPECT_EQ(foreign.status, 200) << foreign.body;
  EXPECT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(tokens)).status, 200);
  // Its own client revokes the access token: 200, empty, no-store; the token is refused.
  auto ok = client_.Send("POST", revoke, Form({{"token", access}, {"token_type_hint", "access_token"},
                                               {"client_id", public_id_}}),
                         kFormType);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, "");
  EXPECT_EQ(ok.Header("cache-control"), "no-store");
  EXPECT_EQ(client_.Send("GET", "/a/demo/api/v0.5/user/", "", Bearer(tokens)).status, 401);
  // Again, and an unknown token: 200 all the same.
  EXPECT_EQ(client_.Send("POST", revoke, Form({{"token", access}, {"client_id", public_id_}}), kFormType).status, 200);
  EXPECT_EQ(client_.Send("POST", revoke, Form({{"token", "1_feed"}, {"client_id", public_id_}}), kFormType).status, 200);
  // The refresh token: revoked, it refreshes no more.
  EXPECT_EQ(client_.Send("POST", revoke, Form({{"token", refresh}, {"client_id", public_id_}}), kFormType).status, 200);
  ExpectOAuthError(Refresh(refresh), 400, "invalid_grant");
  // Audited: one credential.revoke per token revoked, none for the others.
  auto exported = RunRoster({"audit", "export", "--env", "demo", "--data-dir", dir_->path()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  int revoked = 0;
  std::istringstream lines(exported.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto row = json::parse(line).as_object();
    if (row.at("action") != json::value("credential.revoke")) continue;
    EXPECT_EQ(row.at("route"), json::value("/oauth/revoke_token"));
    EXPECT_EQ(row.at("fields"), json::parse(R"(["credentials"])"));
    ++revoked;
  }
  EXPECT_GE(revoked, 2);
  EXPECT_EQ(exported.out.find(access), std::string::npos);
  EXPECT_EQ(exported.out.find(refresh), std::string::npos);
}

TEST_F(CommCareOAuthTest, TokenIssueAndRefreshAreAudited) {
  const auto tokens = Tokens();
  ASSERT_EQ(Refresh(std::string(tokens.at("refresh_token").as_string())).status, 200);
  auto exported = RunRoster({"audit", "export", "--env", "demo", "--data-dir", dir_->path()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  int issued = 0, rotated = 0;
  std::istringstream lines(exported.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto row = json::parse(line).as_object();
    if (row.at("route") != json::value("/oauth/token")) continue;
    EXPECT_EQ(row.at("fields"), json::parse(R"(["credentials"])"));
    EXPECT_EQ(row.at("api"), json::value("commcare"));
    if (row.at("action") == json::value("credential.create")) ++issued;
    if (row.at("action") == json::value("credential.rotate")) ++rotated;
  }
  EXPECT_GE(issued, 1);
  EXPECT_GE(rotated, 1);
  // No token in the trail.
  EXPECT_EQ(exported.out.find(std::string(tokens.at("access_token").as_string())), std::string::npos);
}

TEST_F(CommCareOAuthTest, Oauth4webapiClientRunsTheWholeFlow) {
  std::string out;
  if (Shell("command -v node", &out) != 0) GTEST_SKIP() << "node is not installed: run scripts/sdk-setup.sh";
  const std::string sdk = std::string(kTestSource) + "/sdk/commcare";
  ASSERT_TRUE(std::filesystem::exists(sdk + "/node_modules/oauth4webapi"))
      << "oauth4webapi is not installed in " << sdk << ": run scripts/sdk-setup.sh";
  const std::string command = "cd '" + sdk + "' && ROSTER_URL='" + server_->base_url() + "' PUBLIC_ID='" + public_id_ +
                              "' CONFIDENTIAL_ID='" + confidential_id_ + "' CONFIDENTIAL_SECRET='" +
                              confidential_secret_ + "' REDIRECT_URI='" + kRedirect +
                              "' EMAIL='admin@example.org' PASSWORD='" + kPassword + "' node oauth_flow.mjs";
  ASSERT_EQ(Shell(command, &out), 0) << out;
  // The results are the last line (anything node warned about comes before it).
  std::string last = out;
  while (!last.empty() && last.back() == '\n') last.pop_back();
  if (const auto nl = last.rfind('\n'); nl != std::string::npos) last = last.substr(nl + 1);
  const json::value r = json::parse(last);
  EXPECT_EQ(r.at("metadata").at("grant_types_supported"), json::parse(R"(["authorization_code","refresh_token"])"));
  EXPECT_EQ(r.at("metadata").at("code_challenge_methods_supported"), json::parse(R"(["S256"])"));
  const auto& first = r.at("public");
  EXPECT_EQ(first.at("token_type"), json::value("bearer"));  // oauth4webapi lower-cases it
  EXPECT_EQ(first.at("expires_in"), json::value(900));
  EXPECT_EQ(first.at("scope"), json::value("access_apis"));
  EXPECT_EQ(first.at("has_refresh_token"), json::value(true));
  EXPECT_EQ(first.at("cache_control"), json::value("no-store"));
  EXPECT_EQ(first.at("users_status"), json::value(200));
  EXPECT_EQ(r.at("refresh").at("rotated"), json::value(true));
  EXPECT_EQ(r.at("refresh").at("users_status"), json::value(200));
  EXPECT_EQ(r.at("refresh").at("old_access_status"), json::value(401));
  EXPECT_EQ(r.at("refresh").at("old_refresh_error"), json::value("invalid_grant"));
  EXPECT_EQ(r.at("narrowed").at("scope"), json::value("access_apis domain:demo"));
  EXPECT_EQ(r.at("narrowed").at("demo_status"), json::value(200));
  EXPECT_EQ(r.at("narrowed").at("other_status"), json::value(403));
  EXPECT_EQ(r.at("wrong_secret_error"), json::value("invalid_client"));
  EXPECT_EQ(r.at("wrong_secret_status"), json::value(401));
  EXPECT_EQ(r.at("wrong_secret_challenge"), json::parse(R"(["basic"])"));
  EXPECT_EQ(r.at("confidential").at("users_status"), json::value(200));
  const auto& revocation = r.at("revocation");
  EXPECT_EQ(revocation.at("endpoint"), json::value(server_->base_url() + "/oauth/revoke_token/"));
  EXPECT_EQ(revocation.at("revoked_pair_access_status"), json::value(401));
  EXPECT_EQ(revocation.at("revoked_refresh_error"), json::value("invalid_grant"));
  EXPECT_EQ(revocation.at("revoked_access_status"), json::value(401));
  EXPECT_EQ(revocation.at("refresh_after_access_revoked_status"), json::value(200));
  EXPECT_EQ(revocation.at("unknown_token_ok"), json::value(true));
}

}  // namespace
}  // namespace roster::testing
