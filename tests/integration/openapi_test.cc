// The OpenAPI walk (issue 20): for each API with a document, every route `roster routes
// --json` lists for it is an operation of GET /openapi/<api>.json as a running server
// serves it, and every operation of the document is a route and is served (a request
// to it is not the router's 404/405). APIs without a document yet are asserted absent,
// so this test changes when their documents arrive. The responses themselves are
// validated against the documents by ctest's openapi.responses_validate.
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

// Every API group `roster routes` shows, by what its document is.
const std::set<std::string> kDocumented = {"catalyze", "quickblox", "scim"};
// Documents come with their new routes (next session): until then 404.
const std::set<std::string> kPending = {"pingone", "commcare"};
// Not an API's wire: the server's probes ("") and the HTML pages mails link to.
const std::set<std::string> kNotApis = {"", "pages"};

const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"};

using Operation = std::pair<std::string, std::string>;  // METHOD, template

std::map<std::string, std::set<Operation>> RoutesByApi() {
  auto r = RunRoster({"routes", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::set<Operation>> out;
  const json::value parsed = json::parse(r.out);
  const json::array routes = parsed.at("routes").as_array();
  for (const auto& route : routes) {
    const auto& o = route.as_object();
    out[std::string(o.at("api").as_string())].insert(
        {std::string(o.at("method").as_string()), std::string(o.at("path").as_string())});
  }
  return out;
}

// Resolves "#/paths/~1users.json" (a Path Item $ref) in `doc`.
const json::object& PathItem(const json::object& doc, const json::object& item) {
  const auto* ref = item.if_contains("$ref");
  if (ref == nullptr) return item;
  std::string pointer(ref->as_string());
  EXPECT_TRUE(pointer.starts_with("#/paths/")) << pointer;
  std::string key;
  for (std::size_t i = 8; i < pointer.size(); ++i) {
    if (pointer[i] == '~' && i + 1 < pointer.size()) {
      key += pointer[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      key += pointer[i];
    }
  }
  return doc.at("paths").at(key).as_object();
}

std::set<Operation> Documented(const json::object& doc) {
  std::set<Operation> out;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : PathItem(doc, item.as_object())) {
      if (!kMethods.contains(std::string(method))) continue;  // parameters, summary, ...
      std::string upper(method);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.insert({upper, std::string(path)});
    }
  }
  return out;
}

// A concrete path for a template: every {param} becomes "x1".
std::string Concrete(const std::string& templ) {
  std::string out;
  for (std::size_t i = 0; i < templ.size(); ++i) {
    if (templ[i] == '{') {
      i = templ.find('}', i);
      out += "x1";
    } else {
      out += templ[i];
    }
  }
  return out;
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitDataDir(dir_.path());
    server_ = std::make_unique<Server>(dir_.path());
    client_ = std::make_unique<Client>(server_->base_url());
  }
  TempDir dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(OpenApiTest, EveryApiGroupIsDocumentedPendingOrNotAnApi) {
  const auto routes = RoutesByApi();
  for (const auto& [api, ops] : routes) {
    EXPECT_TRUE(kDocumented.contains(api) || kPending.contains(api) || kNotApis.contains(api))
        << "API '" << api << "' has " << ops.size() << " routes and no place in openapi_test.cc: give it "
        << "src/dialects/" << api << "/openapi.json and list it in kDocumented";
  }
  for (const auto& api : kDocumented) EXPECT_TRUE(routes.contains(api)) << api;
  for (const auto& api : kPending) EXPECT_TRUE(routes.contains(api)) << api;
}

TEST_F(OpenApiTest, EveryRouteIsDocumentedAndEveryOperationIsServed) {
  const auto routes = RoutesByApi();
  for (const auto& api : kDocumented) {
    SCOPED_TRACE(api);
    const auto r = client_->Send("GET", "/openapi/" + api + ".json");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("content-type").substr(0, 16), "application/json");
    const json::value parsed = r.Json();
    ASSERT_TRUE(parsed.is_object());
    const json::object& doc = parsed.as_object();
    EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
    const std::set<Operation> documented = Documented(doc);
    const std::set<Operation>& served = routes.at(api);
    // The document's own route is a route of the API like any other: no exclusion.
    EXPECT_TRUE(served.contains({"GET", "/openapi/" + api + ".json"}));
    for (const auto& [method, templ] : served)
      EXPECT_TRUE(documented.contains({method, templ})) << method << " " << templ << " is served, not documented";
    for (const auto& [method, templ] : documented) {
      EXPECT_TRUE(served.contains({method, templ})) << method << " " << templ << " is documented, not a route";
      // Served: a request to it reaches its handler (which refuses the missing caller, or
      // answers), not the router's 404 (no such path) or 405 (no such method).
      const auto answer = client_->Send(method, Concrete(templ), method == "GET" || method == "DELETE" ? "" : "{}");
      EXPECT_NE(answer.status, 405) << method << " " << templ;
      EXPECT_NE(answer.status, 404) << method << " " << templ << ": " << answer.body;
    }
  }
}

TEST_F(OpenApiTest, QuickbloxDocumentsEveryRouteWithAndWithoutJson) {
  const auto routes = RoutesByApi();
  const auto& served = routes.at("quickblox");
  int pairs = 0;
  for (const auto& [method, templ] : served) {
    if (!templ.ends_with(".json") || templ.starts_with("/openapi/")) continue;
    EXPECT_TRUE(served.contains({method, templ.substr(0, templ.size() - 5)})) << method << " " << templ;
    ++pairs;
  }
  EXPECT_GE(pairs, 10);
}

TEST_F(OpenApiTest, DocumentsAreServedWithoutCredentials) {
  // No X-Api-Key, QB-Token or bearer token: the documents describe the wire, not a directory.
  for (const auto& api : kDocumented) {
    const auto r = client_->Send("GET", "/openapi/" + api + ".json");
    EXPECT_EQ(r.status, 200) << api;
  }
}

TEST_F(OpenApiTest, ApisWithoutADocumentYetAnswer404) {
  // PingOne and CommCare get their documents with their new routes; this test is updated then.
  for (const auto& api : kPending) {
    const auto r = client_->Send("GET", "/openapi/" + api + ".json");
    EXPECT_EQ(r.status, 404) << api << ": " << r.body;
  }
  const auto routes = RoutesByApi();
  for (const auto& api : kPending)
    EXPECT_FALSE(routes.at(api).contains({"GET", "/openapi/" + api + ".json"})) << api;
}

TEST(RoutesCommandTest, PrintsMethodTemplateAndApiPerLine) {
  auto r = RunRoster({"routes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("GET /v2/users/{usersId} catalyze\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("POST /scim/v2/Bulk scim\n"), std::string::npos);
  EXPECT_NE(r.out.find("GET /openapi/quickblox.json quickblox\n"), std::string::npos);
  EXPECT_NE(r.out.find("GET /healthz -\n"), std::string::npos);
}

TEST(RoutesCommandTest, JsonListsEveryRouteServeMounts) {
  const auto routes = RoutesByApi();
  // One of each API's routes, as serve mounts them.
  EXPECT_TRUE(routes.at("catalyze").contains({"POST", "/v2/auth/signin"}));
  EXPECT_TRUE(routes.at("pingone").contains({"POST", "/{envID}/as/token"}));
  EXPECT_TRUE(routes.at("pages").contains({"GET", "/pages/activate"}));
  EXPECT_TRUE(routes.at("quickblox").contains({"GET", "/users"}));
  EXPECT_TRUE(routes.at("scim").contains({"PATCH", "/scim/v2/Groups/{id}"}));
  EXPECT_TRUE(routes.at("").contains({"GET", "/readyz"}));
}

}  // namespace
}  // namespace roster::testing
