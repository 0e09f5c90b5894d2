#include "http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace roster::http {
namespace {

Handler Reply(std::string body) {
  return [body](const Request&, const PathParams&) { return Response::Json(200, body); };
}

Request Make(std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

std::string HeaderOf(const Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

TEST(MessageTest, HeaderReturnsFirstValueOrEmpty) {
  Request request;
  request.headers = {{"x-a", "1"}, {"x-a", "2"}, {"content-type", "text/plain"}};
  EXPECT_EQ(request.Header("x-a"), "1");
  EXPECT_EQ(request.Header("content-type"), "text/plain");
  EXPECT_EQ(request.Header("missing"), "");
}

TEST(MessageTest, JsonSetsStatusAndType) {
  Response response = Response::Json(201, R"({"ok":true})");
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"ok":true})");
}

TEST(RouterTest, MatchesLiteralAndParamSegments) {
  Router router;
  router.Add("GET", "/v2/users", Exec::kInline, Reply("list"));
  router.Add("GET", "/v2/users/{usersId}", Exec::kWorker, Reply("one"));

  Match list = router.Find("GET", "/v2/users");
  ASSERT_NE(list.route, nullptr);
  EXPECT_EQ(list.route->pattern, "/v2/users");
  EXPECT_EQ(list.status, 200);

  Match one = router.Find("GET", "/v2/users/abc");
  ASSERT_NE(one.route, nullptr);
  EXPECT_EQ(one.route->pattern, "/v2/users/{usersId}");
  EXPECT_EQ(one.route->exec, Exec::kWorker);
  EXPECT_EQ(one.params.Get("usersId"), "abc");
  EXPECT_EQ(one.params.Get("other"), "");

  EXPECT_EQ(router.Find("GET", "/v2/users/abc/extra").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/v2").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/v2/users//").route, nullptr);
  EXPECT_EQ(router.Find("GET", "relative").route, nullptr);
}

TEST(RouterTest, PercentDecodesParams) {
  Router router;
  router.Add("GET", "/groups/{group}/members/{member}", Exec::kInline, Reply("m"));
  Match match = router.Find("GET", "/groups/a%20b%2Fc/members/x%2By+z");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.params.Get("group"), "a b/c");
  EXPECT_EQ(match.params.Get("member"), "x+y+z");

  Match bad = router.Find("GET", "/groups/%zz/members/1");
  EXPECT_EQ(bad.route, nullptr);
  EXPECT_EQ(bad.status, 404);
  EXPECT_EQ(router.Find("GET", "/groups/abc%2/members/1").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/groups/%/members/1").route, nullptr);
}

TEST(RouterTest, TrailingSlashIsTolerated) {
  Router router;
  router.Add("GET", "/v2/users", Exec::kInline, Reply("list"));
  router.Add("GET", "/", Exec::kInline, Reply("root"));
  ASSERT_NE(router.Find("GET", "/v2/users/").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/v2/users/").route->pattern, "/v2/users");
  ASSERT_NE(router.Find("GET", "/").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/").route->pattern, "/");
}

TEST(RouterTest, LiteralBeatsParamRegardlessOfOrder) {
  Router router;
  router.Add("GET", "/users/{id}", Exec::kInline, Reply("param"));
  router.Add("GET", "/users/me", Exec::kInline, Reply("me"));
  EXPECT_EQ(router.Find("GET", "/users/me").route->pattern, "/users/me");
  EXPECT_EQ(router.Find("GET", "/users/you").route->pattern, "/users/{id}");
}

TEST(RouterTest, NotFoundVersusMethodNotAllowed) {
  Router router;
  router.Add("GET", "/v2/users/{id}", Exec::kInline, Reply("get"));
  router.Add("DELETE", "/v2/users/{id}", Exec::kInline, Reply("delete"));

  Match missing = router.Find("GET", "/nope");
  EXPECT_EQ(missing.route, nullptr);
  EXPECT_EQ(missing.status, 404);

  Match wrong = router.Find("POST", "/v2/users/1");
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_EQ(wrong.status, 405);

  Response not_found = router.Handle(Make("GET", "/nope"));
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(not_found.body, R"({"error":"not found"})");

  Response not_allowed = router.Handle(Make("POST", "/v2/users/1"));
  EXPECT_EQ(not_allowed.status, 405);
  EXPECT_EQ(not_allowed.body, R"({"error":"method not allowed"})");
  EXPECT_EQ(HeaderOf(not_allowed, "Allow"), "GET, DELETE");

  Response ok = router.Handle(Make("DELETE", "/v2/users/1"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "delete");
}

TEST(RouterTest, ErrorRendererLongestPrefixWins) {
  Router router;
  router.SetErrorRenderer(
      "/", [](int status, std::string_view) { return Response::Json(status, "root"); });
  router.SetErrorRenderer("/scim/v2", [](int status, std::string_view message) {
    return Response::Json(status, "scim:" + std::string(message));
  });
  router.SetErrorRenderer(
      "/scim", [](int status, std::string_view) { return Response::Json(status, "scim-outer"); });

  EXPECT_EQ(router.RenderError("/scim/v2/Users", 404, "not found").body, "scim:not found");
  EXPECT_EQ(router.RenderError("/scim/v2", 404, "x").body, "scim:x");
  EXPECT_EQ(router.RenderError("/scim/other", 404, "x").body, "scim-outer");
  // Prefixes match whole segments only.
  EXPECT_EQ(router.RenderError("/scim/v20", 404, "x").body, "scim-outer");
  EXPECT_EQ(router.RenderError("/v2/users", 413, "x").body, "root");
  EXPECT_EQ(router.RenderError("/v2/users", 413, "x").status, 413);
}

TEST(RouterTest, DefaultRendererEscapesJson) {
  Router router;
  Response response = router.RenderError("/x", 400, "bad \"quote\" \\ \n end");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error":"bad \"quote\" \\ \n end"})");
}

TEST(RouterTest, HandlerExceptionBecomes500WithoutLeaking) {
  Router router;
  router.Add("GET", "/boom", Exec::kInline, [](const Request&, const PathParams&) -> Response {
    throw std::runtime_error("secret table users_pw");
  });
  router.Add("GET", "/int", Exec::kInline,
             [](const Request&, const PathParams&) -> Response { throw 42; });
  Response response = router.Handle(Make("GET", "/boom"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body, R"({"error":"internal error"})");
  EXPECT_EQ(response.body.find("secret"), std::string::npos);

  Match match = router.Find("GET", "/int");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(router.Run(match, Make("GET", "/int")).status, 500);
}

TEST(RouterTest, ThrowingRendererFallsBackToDefault) {
  Router router;
  router.SetErrorRenderer(
      "/", [](int, std::string_view) -> Response { throw std::runtime_error("renderer broke"); });
  Response response = router.RenderError("/a", 404, "not found");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, R"({"error":"not found"})");
}

TEST(RouterTest, RejectsMalformedPatterns) {
  Router router;
  EXPECT_THROW(router.Add("GET", "users", Exec::kInline, Reply("x")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a//b", Exec::kInline, Reply("x")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a/{}", Exec::kInline, Reply("x")), std::invalid_argument);
}

}  // namespace
}  // namespace roster::http

namespace roster::http {
namespace {

TEST(ParseJsonObjectTest, AcceptsOnlyOneObjectOfBoundedDepth) {
  auto ok = ParseJsonObject(R"({"a":[1,{"b":null}]})");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->at("a").as_array().size(), 2u);
  for (std::string_view bad : {"", "[1]", "\"x\"", "{\"a\":", "nope"}) {
    auto r = ParseJsonObject(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().field, "body");
  }
  std::string deep(40, '[');
  deep = "{\"a\":" + deep + std::string(40, ']') + "}";
  EXPECT_FALSE(ParseJsonObject(deep).has_value());
}

}  // namespace
}  // namespace roster::http

namespace roster::http {
namespace {

Request Preflight(std::string path, std::string origin, std::string method) {
  Request r;
  r.method = "OPTIONS";
  r.path = std::move(path);
  r.headers = {{"origin", std::move(origin)},
               {"access-control-request-method", std::move(method)},
               {"access-control-request-headers", "x-api-key,authorization"}};
  return r;
}

std::string Header(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (key == name) return value;
  return {};
}

class CorsTest : public ::testing::Test {
 protected:
  CorsTest() {
    router_.Add("GET", "/v2/users/{id}", Exec::kInline,
                [](const Request&, const PathParams&) { return Response::Json(200, "{}"); });
    router_.Add("PUT", "/v2/users/{id}", Exec::kInline,
                [](const Request&, const PathParams&) { return Response::Json(200, "{}"); });
    router_.Add("GET", "/other", Exec::kInline,
                [](const Request&, const PathParams&) { return Response::Json(200, "{}"); });
    router_.SetCors("/v2", {{"https://app.example.org"}, {"X-Api-Key", "Authorization"}, {"ETag"}, 300});
  }
  Router router_;
};

TEST_F(CorsTest, PreflightForAnAllowedOriginListsTheRoutesMethods) {
  const Response r = router_.Handle(Preflight("/v2/users/1", "https://app.example.org", "PUT"));
  EXPECT_EQ(r.status, 204);
  const HeaderList& h = r.headers;
  EXPECT_EQ(Header(h, "Access-Control-Allow-Origin"), "https://app.example.org");
  EXPECT_EQ(Header(h, "Access-Control-Allow-Methods"), "GET, PUT");
  EXPECT_EQ(Header(h, "Access-Control-Allow-Headers"), "X-Api-Key, Authorization");
  EXPECT_EQ(Header(h, "Access-Control-Max-Age"), "300");
  EXPECT_EQ(Header(h, "Access-Control-Allow-Credentials"), "");  // no credentials mode
}

TEST_F(CorsTest, PreflightRefusesOtherOriginsMethodsAndUnknownPaths) {
  auto other = router_.Handle(Preflight("/v2/users/1", "https://evil.example", "GET"));
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(Header(other.headers, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(router_.Handle(Preflight("/v2/users/1", "https://app.example.org", "DELETE")).status, 403);
  EXPECT_EQ(router_.Handle(Preflight("/v2/nothing", "https://app.example.org", "GET")).status, 404);
  // No policy outside the prefix: OPTIONS is just another method there.
  EXPECT_EQ(router_.Handle(Preflight("/other", "https://app.example.org", "GET")).status, 405);
}

TEST_F(CorsTest, ResponsesToAnAllowedOriginCarryTheHeaders) {
  Request get;
  get.method = "GET";
  get.path = "/v2/users/1";
  EXPECT_TRUE(router_.CorsHeaders(get).empty());  // no Origin: not a cross-origin call
  get.headers = {{"origin", "https://app.example.org"}};
  const auto h = router_.CorsHeaders(get);
  EXPECT_EQ(Header(h, "Access-Control-Allow-Origin"), "https://app.example.org");
  EXPECT_EQ(Header(h, "Access-Control-Expose-Headers"), "ETag");
  EXPECT_EQ(Header(h, "Vary"), "Origin");
  get.headers = {{"origin", "https://evil.example"}};
  EXPECT_TRUE(router_.CorsHeaders(get).empty());
  get.path = "/other";
  get.headers = {{"origin", "https://app.example.org"}};
  EXPECT_TRUE(router_.CorsHeaders(get).empty());
}

TEST(CorsPolicyTest, StarAllowsAnyOriginButNull) {
  CorsPolicy any{{"*"}, {}, {}, 600};
  EXPECT_TRUE(OriginAllowed(any, "https://anything.example"));
  EXPECT_FALSE(OriginAllowed(any, "null"));
  EXPECT_FALSE(OriginAllowed(any, ""));
  CorsPolicy one{{"https://App.Example.org"}, {}, {}, 600};
  EXPECT_TRUE(OriginAllowed(one, "https://app.example.org"));
  EXPECT_FALSE(OriginAllowed(one, "https://app.example.org.evil"));
}

}  // namespace
}  // namespace roster::http
