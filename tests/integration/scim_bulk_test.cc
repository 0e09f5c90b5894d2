// POST /scim/v2/Bulk (RFC 7644 §3.7) against the real binary: bulkId references between
// operations (in data, in paths, forward, broken, circular), per-operation status,
// location, version and error response, failOnErrors, preconditions, the advertised
// limits and 413 above them, and authority per operation.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "integration/harness.h"
#include "integration/scim_support.h"

namespace roster::testing {
namespace {

namespace json = boost::json;
using scim::ExpectError;
using scim::ExpectList;
using scim::Str;

json::object User(const std::string& user_name) {
  return {{"schemas", {scim::kUserSchema}}, {"userName", user_name}};
}
json::object Op(const std::string& method, const std::string& path, json::value data = nullptr,
                const std::string& bulk_id = "") {
  json::object op{{"method", method}, {"path", path}};
  if (!bulk_id.empty()) op["bulkId"] = bulk_id;
  if (!data.is_null()) op["data"] = std::move(data);
  return op;
}
json::object Request(json::array ops, std::optional<int> fail_on_errors = std::nullopt) {
  json::object r{{"schemas", {scim::kBulkRequest}}, {"Operations", std::move(ops)}};
  if (fail_on_errors) r["failOnErrors"] = *fail_on_errors;
  return r;
}
json::object PatchOp(json::array ops) { return {{"schemas", {scim::kPatchOp}}, {"Operations", std::move(ops)}}; }

class ScimBulkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    InitDataDir(dir_->path());
    token_ = new std::string(scim::CreateToken(dir_->path()));
    reader_ = new std::string(scim::CreateToken(dir_->path(), "default", {"profile:read", "users:list"}));
    std::vector<std::string> args = kFastHashing;
    // A body limit above maxPayloadSize, so Bulk's own check is the one that answers.
    args.insert(args.end(), {"--body-limit", std::to_string(4 << 20)});
    server_ = new Server(dir_->path(), args);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete token_;
    delete reader_;
    delete dir_;
  }

  HttpResponse Scim(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_.Send(method, path, body);
  }
  HttpResponse Bulk(const json::object& request) { return client_.Send("POST", "/Bulk", request); }
  // A 200 BulkResponse; its Operations.
  static json::array Results(const HttpResponse& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    const json::value j = r.Json();
    if (!j.is_object() || !j.as_object().contains("Operations")) {
      ADD_FAILURE() << "not a BulkResponse: " << r.body;
      return {};
    }
    EXPECT_EQ(j.at("schemas"), (json::array{scim::kBulkResponse})) << r.body;
    return j.at("Operations").as_array();
  }
  // An operation's error: its status (a string), and the §3.12 body in `response`.
  static void ExpectFailed(const json::value& op, int status, const std::string& scim_type = "") {
    EXPECT_EQ(Str(op, "status"), std::to_string(status)) << op;
    ASSERT_TRUE(op.as_object().contains("response")) << op;
    const json::value& e = op.at("response");
    EXPECT_EQ(e.at("schemas"), (json::array{scim::kErrorSchema})) << op;
    EXPECT_EQ(Str(e, "status"), std::to_string(status)) << op;
    EXPECT_FALSE(Str(e, "detail").empty()) << op;
    if (!scim_type.empty()) EXPECT_EQ(Str(e, "scimType"), scim_type) << op;
  }
  std::int64_t CountNamed(const std::string& user_name) {
    auto r = Scim("GET", "/Users?filter=" + UrlEncode("userName eq \"" + user_name + "\""));
    return r.Json().is_object() ? r.Json().at("totalResults").to_number<std::int64_t>() : -1;
  }
  bool NoGroups() { return Scim("GET", "/Groups?count=1").status == 404; }

  static TempDir* dir_;
  static std::string *token_, *reader_;
  static Server* server_;
  scim::ScimClient client_{server_->base_url(), *token_};
};

TempDir* ScimBulkTest::dir_;
std::string *ScimBulkTest::token_, *ScimBulkTest::reader_;
Server* ScimBulkTest::server_;

TEST_F(ScimBulkTest, ServiceProviderConfigAdvertisesTheLimitsBulkEnforces) {
  auto r = Scim("GET", "/ServiceProviderConfig");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value bulk = r.Json().at("bulk");
  EXPECT_EQ(bulk.at("supported"), true);
  EXPECT_EQ(bulk.at("maxOperations"), 1000);
  EXPECT_EQ(bulk.at("maxPayloadSize"), 1 << 20);
}

TEST_F(ScimBulkTest, CreatesUsersAndResolvesBulkIdsInDataAndPaths) {
  const std::string boss = scim::Unique("bulk.boss"), report = scim::Unique("bulk.report");
  json::object with_manager = User(report);
  with_manager[scim::kEnterpriseSchema] = json::object{{"manager", {{"value", "bulkId:boss"}}}};
  with_manager["schemas"].as_array().push_back(json::value(scim::kEnterpriseSchema));
  auto r = Bulk(Request({
      Op("POST", "/Users", User(boss), "boss"),
      Op("POST", "/Users", with_manager, "report"),
      Op("PATCH", "/Users/bulkId:boss",
         PatchOp({json::object{{"op", "replace"}, {"path", "displayName"}, {"value", "The Boss"}}})),
  }));
  const json::array ops = Results(r);
  ASSERT_EQ(ops.size(), 3u) << r.body;
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(Str(ops[i], "method"), "POST");
    EXPECT_EQ(Str(ops[i], "status"), "201") << ops[i];
    EXPECT_EQ(Str(ops[i], "version"), "W/\"1\"") << ops[i];
  }
  EXPECT_EQ(Str(ops[0], "bulkId"), "boss");
  EXPECT_EQ(Str(ops[1], "bulkId"), "report");
  EXPECT_EQ(Str(ops[2], "method"), "PATCH");
  EXPECT_EQ(Str(ops[2], "status"), "200") << ops[2];
  EXPECT_EQ(Str(ops[2], "version"), "W/\"2\"") << ops[2];
  // location is the resource's URL; the id the created user's.
  const std::string boss_location = Str(ops[0], "location");
  ASSERT_NE(boss_location.find("/scim/v2/Users/"), std::string::npos) << ops[0];
  const std::string boss_id = boss_location.substr(boss_location.rfind('/') + 1);
  EXPECT_EQ(Str(ops[2], "location"), boss_location);
  const std::string report_location = Str(ops[1], "location");
  const std::string report_id = report_location.substr(report_location.rfind('/') + 1);

  auto got = Scim("GET", "/Users/" + boss_id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Str(got.Json(), "userName"), boss);
  EXPECT_EQ(Str(got.Json(), "displayName"), "The Boss");
  EXPECT_EQ(Str(got.Json().at("meta"), "location"), boss_location);
  auto reported = Scim("GET", "/Users/" + report_id);
  ASSERT_EQ(reported.status, 200) << reported.body;
  EXPECT_EQ(Str(reported.Json().at(scim::kEnterpriseSchema).at("manager"), "value"), boss_id) << reported.body;
}

TEST_F(ScimBulkTest, AForwardReferenceWaitsForTheOperationItNames) {
  const std::string first = scim::Unique("bulk.fwd"), second = scim::Unique("bulk.fwd");
  json::object refers = User(first);
  refers["schemas"].as_array().push_back(json::value(scim::kEnterpriseSchema));
  refers[scim::kEnterpriseSchema] = json::object{{"manager", {{"value", "bulkId:later"}}}};
  const json::array ops = Results(Bulk(Request({Op("POST", "/Users", refers, "early"),
                                                Op("POST", "/Users", User(second), "later")})));
  ASSERT_EQ(ops.size(), 2u);
  // The response keeps the request's order.
  EXPECT_EQ(Str(ops[0], "bulkId"), "early");
  EXPECT_EQ(Str(ops[0], "status"), "201") << ops[0];
  EXPECT_EQ(Str(ops[1], "status"), "201") << ops[1];
  const std::string later = Str(ops[1], "location");
  const std::string early = Str(ops[0], "location");
  auto got = Scim("GET", "/Users/" + early.substr(early.rfind('/') + 1));
  EXPECT_EQ(Str(got.Json().at(scim::kEnterpriseSchema).at("manager"), "value"), later.substr(later.rfind('/') + 1));
}

TEST_F(ScimBulkTest, EachOperationIsItsOwnWriteAndAFailureFailsOnlyItAndWhatNamesIt) {
  const std::string taken = scim::Unique("bulk.taken"), fresh = scim::Unique("bulk.fresh");
  ASSERT_EQ(Scim("POST", "/Users", json::serialize(User(taken))).status, 201);
  json::object refers = User(scim::Unique("bulk.dependent"));
  refers["schemas"].as_array().push_back(json::value(scim::kEnterpriseSchema));
  refers[scim::kEnterpriseSchema] = json::object{{"manager", {{"value", "bulkId:dup"}}}};
  const json::array ops = Results(Bulk(Request({
      Op("POST", "/Users", User(fresh), "fresh"),
      Op("POST", "/Users", User(taken), "dup"),
      Op("POST", "/Users", refers, "dependent"),
      Op("POST", "/Users",
         json::object{{"schemas", {scim::kUserSchema}}, {"userName", scim::Unique("bulk.u")}, {"externalId", "bulkId:nobody"}},
         "unknown"),
      Op("DELETE", "/Users/" + scim::Unique("missing")),
  })));
  ASSERT_EQ(ops.size(), 5u);
  EXPECT_EQ(Str(ops[0], "status"), "201") << ops[0];
  ExpectFailed(ops[1], 409, "uniqueness");
  EXPECT_FALSE(ops[1].as_object().contains("location")) << "a failed POST has no location";
  ExpectFailed(ops[2], 409, "invalidValue");
  EXPECT_NE(Str(ops[2].at("response"), "detail").find("bulkId:dup"), std::string::npos) << ops[2];
  ExpectFailed(ops[3], 409, "invalidValue");
  EXPECT_NE(Str(ops[3].at("response"), "detail").find("bulkId:nobody"), std::string::npos) << ops[3];
  ExpectFailed(ops[4], 404);
  // The first operation stays written; the taken name still has one holder.
  EXPECT_EQ(CountNamed(fresh), 1);
  EXPECT_EQ(CountNamed(taken), 1);
}

TEST_F(ScimBulkTest, FailOnErrorsStopsTheRunAndLeavesTheRestOut) {
  const std::string taken = scim::Unique("bulk.stop");
  ASSERT_EQ(Scim("POST", "/Users", json::serialize(User(taken))).status, 201);
  const std::string a = scim::Unique("bulk.a"), b = scim::Unique("bulk.b"), c = scim::Unique("bulk.c");
  auto ops = Results(Bulk(Request({Op("POST", "/Users", User(a), "a"), Op("POST", "/Users", User(taken), "t1"),
                                   Op("POST", "/Users", User(b), "b"), Op("POST", "/Users", User(taken), "t2"),
                                   Op("POST", "/Users", User(c), "c")},
                                  1)));
  ASSERT_EQ(ops.size(), 2u) << json::serialize(ops);
  EXPECT_EQ(Str(ops[0], "status"), "201");
  ExpectFailed(ops[1], 409, "uniqueness");
  EXPECT_EQ(CountNamed(a), 1);
  EXPECT_EQ(CountNamed(b), 0);
  EXPECT_EQ(CountNamed(c), 0);

  const std::string d = scim::Unique("bulk.d"), e = scim::Unique("bulk.e");
  ops = Results(Bulk(Request({Op("POST", "/Users", User(taken), "t1"), Op("POST", "/Users", User(d), "d"),
                              Op("POST", "/Users", User(taken), "t2"), Op("POST", "/Users", User(e), "e")},
                             2)));
  ASSERT_EQ(ops.size(), 3u) << json::serialize(ops);
  EXPECT_EQ(CountNamed(d), 1);
  EXPECT_EQ(CountNamed(e), 0);
  // Without failOnErrors, every operation runs.
  const std::string f = scim::Unique("bulk.f");
  ops = Results(Bulk(Request({Op("POST", "/Users", User(taken), "t1"), Op("POST", "/Users", User(taken), "t2"),
                              Op("POST", "/Users", User(f), "f")})));
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(CountNamed(f), 1);
}

TEST_F(ScimBulkTest, VersionIsAPreconditionAndDeleteAnswers204) {
  auto created = Scim("POST", "/Users", json::serialize(User(scim::Unique("bulk.ver"))));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Str(created.Json(), "id");
  json::object replace = User(Str(created.Json(), "userName"));
  replace["displayName"] = "Stale";
  json::object stale = Op("PUT", "/Users/" + id, replace);
  stale["version"] = "W/\"7\"";
  json::object fresh = Op("PATCH", "/Users/" + id,
                          PatchOp({json::object{{"op", "replace"}, {"path", "displayName"}, {"value", "Fresh"}}}));
  fresh["version"] = "W/\"1\"";
  json::object gone = Op("DELETE", "/Users/" + id);
  gone["version"] = "W/\"2\"";
  const json::array ops = Results(Bulk(Request({stale, fresh, gone})));
  ASSERT_EQ(ops.size(), 3u);
  ExpectFailed(ops[0], 412);
  EXPECT_EQ(Str(ops[1], "status"), "200") << ops[1];
  EXPECT_EQ(Str(ops[1], "version"), "W/\"2\"") << ops[1];
  EXPECT_EQ(Str(ops[2], "method"), "DELETE");
  EXPECT_EQ(Str(ops[2], "status"), "204") << ops[2];
  EXPECT_NE(Str(ops[2], "location").find("/Users/" + id), std::string::npos) << ops[2];
  ExpectError(Scim("GET", "/Users/" + id), 404);
}

TEST_F(ScimBulkTest, MalformedOperationsFailAloneNamingWhatIsWrong) {
  const std::string ok = scim::Unique("bulk.ok");
  const json::array ops = Results(Bulk(Request({
      Op("POST", "/Users", User(scim::Unique("bulk.nobulkid"))),  // POST without bulkId
      Op("FETCH", "/Users/x"),
      Op("PUT", "/Users", User("x")),             // PUT needs one resource
      Op("POST", "/Users/abc", User("x"), "p"),   // POST needs an endpoint
      Op("POST", "/Widgets", json::object{}, "w"),
      Op("PATCH", "/Users/x"),                    // no data
      json::object{{"path", "/Users"}},           // no method
      Op("POST", "/Users", User(ok), "ok"),
      Op("POST", "/Users", json::object{{"schemas", {scim::kUserSchema}}}, "noname"),  // no userName
  })));
  ASSERT_EQ(ops.size(), 9u);
  ExpectFailed(ops[0], 400, "invalidSyntax");
  EXPECT_NE(Str(ops[0].at("response"), "detail").find("bulkId"), std::string::npos);
  ExpectFailed(ops[1], 400, "invalidValue");
  ExpectFailed(ops[2], 400, "invalidPath");
  ExpectFailed(ops[3], 400, "invalidPath");
  ExpectFailed(ops[4], 404);
  ExpectFailed(ops[5], 400, "invalidSyntax");
  ExpectFailed(ops[6], 400, "invalidSyntax");
  EXPECT_EQ(Str(ops[7], "status"), "201") << ops[7];
  ExpectFailed(ops[8], 400, "invalidValue");
  EXPECT_NE(Str(ops[8].at("response"), "detail").find("userName"), std::string::npos) << ops[8];
  EXPECT_EQ(CountNamed(ok), 1);
}

TEST_F(ScimBulkTest, CircularReferencesFailWith409AndWriteNothing) {
  const std::string a = scim::Unique("bulk.cycle"), b = scim::Unique("bulk.cycle");
  json::object ua = User(a), ub = User(b);
  for (auto* u : {&ua, &ub}) (*u)["schemas"].as_array().push_back(json::value(scim::kEnterpriseSchema));
  ua[scim::kEnterpriseSchema] = json::object{{"manager", {{"value", "bulkId:b"}}}};
  ub[scim::kEnterpriseSchema] = json::object{{"manager", {{"value", "bulkId:a"}}}};
  json::object self = User(scim::Unique("bulk.self"));
  self["externalId"] = "bulkId:self";
  const json::array ops =
      Results(Bulk(Request({Op("POST", "/Users", ua, "a"), Op("POST", "/Users", ub, "b"), Op("POST", "/Users", self, "self")})));
  ASSERT_EQ(ops.size(), 3u);
  for (const auto& op : ops) ExpectFailed(op, 409, "invalidValue");
  EXPECT_EQ(CountNamed(a), 0);
  EXPECT_EQ(CountNamed(b), 0);
}

TEST_F(ScimBulkTest, WholeRequestErrorsAre400AndRunNothing) {
  const std::string name = scim::Unique("bulk.never");
  const json::array one = {Op("POST", "/Users", User(name), "n")};
  ExpectError(client_.Send("POST", "/Bulk", json::object{{"Operations", one}}), 400, "invalidSyntax");  // no schemas
  ExpectError(client_.Send("POST", "/Bulk", json::object{{"schemas", {scim::kBulkRequest}}, {"Operations", "x"}}), 400,
              "invalidSyntax");
  ExpectError(Bulk(Request(one, 0)), 400, "invalidValue");
  json::object bad = Request(one);
  bad["failOnErrors"] = "one";
  ExpectError(Bulk(bad), 400, "invalidValue");
  ExpectError(Bulk(Request({Op("POST", "/Users", User(name), "n"), Op("POST", "/Users", User(name + "2"), "n")})), 400,
              "invalidValue");
  ExpectError(client_.Send("POST", "/Bulk", std::string("{\"schemas\":")), 400, "invalidSyntax");
  EXPECT_EQ(CountNamed(name), 0);
  // An empty batch is a batch.
  EXPECT_TRUE(Results(Bulk(Request({}))).empty());
}

TEST_F(ScimBulkTest, AboveMaxOperationsOrMaxPayloadSizeIs413AndRunsNothing) {
  const std::string name = scim::Unique("bulk.big");
  json::array many;
  many.push_back(Op("POST", "/Users", User(name), "first"));
  for (int i = 1; i <= 1000; ++i) many.push_back(Op("DELETE", "/Users/" + std::to_string(i)));
  auto r = Bulk(Request(many));
  ExpectError(r, 413);
  EXPECT_NE(Str(r.Json(), "detail").find("maxOperations"), std::string::npos) << r.body;
  EXPECT_EQ(CountNamed(name), 0);

  json::object padded = User(name);
  padded["displayName"] = std::string((1 << 20) + 16, 'x');
  r = Bulk(Request({Op("POST", "/Users", padded, "padded")}));
  ExpectError(r, 413);
  EXPECT_NE(Str(r.Json(), "detail").find("maxPayloadSize"), std::string::npos) << r.body;
  EXPECT_EQ(CountNamed(name), 0);
}

TEST(ScimBulkLimitTest, AboveTheServersBodyLimitTheTransport413IsInTheScimShape) {
  TempDir dir;
  InitDataDir(dir.path());
  const std::string token = scim::CreateToken(dir.path());
  Server server(dir.path());  // the default body limit: 1 MiB, maxPayloadSize
  scim::ScimClient client(server.base_url(), token);
  json::object padded = User("too.big");
  padded["displayName"] = std::string((1 << 20) + 16, 'x');
  auto r = client.Send("POST", "/Bulk", Request({Op("POST", "/Users", padded, "p")}));
  ExpectError(r, 413);
}

TEST(ScimBulkLimitTest, ASmallerBodyLimitIsTheAdvertisedAndEnforcedMaxPayloadSize) {
  TempDir dir;
  InitDataDir(dir.path());
  const std::string token = scim::CreateToken(dir.path());
  std::vector<std::string> args = kFastHashing;
  args.insert(args.end(), {"--body-limit", "65536"});
  Server server(dir.path(), args);
  scim::ScimClient client(server.base_url(), token);
  auto config = client.Send("GET", "/ServiceProviderConfig");
  ASSERT_EQ(config.status, 200) << config.body;
  EXPECT_EQ(config.Json().at("bulk").at("maxPayloadSize"), 65536);
  json::object padded = User("too.big.small");
  padded["displayName"] = std::string(70000, 'x');
  ExpectError(client.Send("POST", "/Bulk", Request({Op("POST", "/Users", padded, "p")})), 413);
}

TEST_F(ScimBulkTest, EveryOperationIsCheckedAgainstTheTokensScopes) {
  scim::ScimClient reader(server_->base_url(), *reader_);
  const std::string name = scim::Unique("bulk.denied");
  auto created = Scim("POST", "/Users", json::serialize(User(scim::Unique("bulk.victim"))));
  ASSERT_EQ(created.status, 201);
  const std::string id = Str(created.Json(), "id");
  auto r = reader.Send("POST", "/Bulk", Request({Op("POST", "/Users", User(name), "n"), Op("DELETE", "/Users/" + id)}));
  const json::array ops = Results(r);
  ASSERT_EQ(ops.size(), 2u);
  ExpectFailed(ops[0], 403);
  ExpectFailed(ops[1], 403);
  EXPECT_EQ(CountNamed(name), 0);
  EXPECT_EQ(Scim("GET", "/Users/" + id).status, 200);
}

TEST_F(ScimBulkTest, GroupMembersReferenceUsersAndGroupsByBulkId) {
  if (NoGroups()) GTEST_SKIP() << "no /Groups routes on this build yet";
  // RFC 7644 §3.7.2's example: a user and a group naming it by bulkId; and a group nested
  // in another by bulkId.
  const std::string user = scim::Unique("bulk.member");
  const json::array ops = Results(Bulk(Request({
      Op("POST", "/Users", User(user), "qwerty"),
      Op("POST", "/Groups",
         json::object{{"schemas", {scim::kGroupSchema}},
                      {"displayName", scim::Unique("Tour Guides")},
                      {"members", {json::object{{"type", "User"}, {"value", "bulkId:qwerty"}}}}},
         "ytrewq"),
      Op("POST", "/Groups",
         json::object{{"schemas", {scim::kGroupSchema}},
                      {"displayName", scim::Unique("All Staff")},
                      {"members", {json::object{{"type", "Group"}, {"value", "bulkId:ytrewq"}}}}},
         "parent"),
  })));
  ASSERT_EQ(ops.size(), 3u);
  for (const auto& op : ops) EXPECT_EQ(Str(op, "status"), "201") << op;
  const std::string user_location = Str(ops[0], "location");
  const std::string user_id = user_location.substr(user_location.rfind('/') + 1);
  const std::string group_location = Str(ops[1], "location");
  const std::string group_id = group_location.substr(group_location.rfind('/') + 1);
  const std::string parent_location = Str(ops[2], "location");
  auto group = Scim("GET", "/Groups/" + group_id);
  ASSERT_EQ(group.status, 200) << group.body;
  ASSERT_EQ(group.Json().at("members").as_array().size(), 1u) << group.body;
  EXPECT_EQ(Str(group.Json().at("members").at(0), "value"), user_id);
  auto parent = Scim("GET", "/Groups/" + parent_location.substr(parent_location.rfind('/') + 1));
  ASSERT_EQ(parent.status, 200) << parent.body;
  EXPECT_EQ(Str(parent.Json().at("members").at(0), "value"), group_id) << parent.body;
}

}  // namespace
}  // namespace roster::testing
