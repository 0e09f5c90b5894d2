// Pure CommCare mapping logic: ids, usernames, query strings, paging, wire <-> canonical.
#include "dialects/commcare/mapping.h"

#include <gtest/gtest.h>

#include "dialects/commcare/common.h"

namespace roster::dialects::commcare {
namespace {

namespace json = boost::json;

TEST(CommCareIds, HexAndUuidRoundTrip) {
  const std::string uuid = "3c5a623a-f057-4e23-a32a-e4000cf29133";
  EXPECT_EQ(HexId(uuid), "3c5a623af0574e23a32ae4000cf29133");
  EXPECT_EQ(UuidFromHex("3c5a623af0574e23a32ae4000cf29133"), uuid);
  EXPECT_FALSE(UuidFromHex("3C5A623AF0574E23A32AE4000CF29133"));  // upper case
  EXPECT_FALSE(UuidFromHex(uuid));                                 // hyphens
  EXPECT_FALSE(UuidFromHex("3c5a623af0574e23a32ae4000cf2913"));   // 31
  EXPECT_FALSE(UuidFromHex("3c5a623af0574e23a32ae4000cf29133a"));  // 33
  EXPECT_FALSE(UuidFromHex("3c5a623af0574e23a32ae4000cf2913g"));
  EXPECT_FALSE(UuidFromHex(""));
  EXPECT_EQ(DetailUri("demo", "user", uuid), "/a/demo/api/v0.5/user/3c5a623af0574e23a32ae4000cf29133/");
}

TEST(CommCareUsernames, FormatsLikeCommCare) {
  EXPECT_EQ(MobileUsername("jdoe", "demo", "commcarehq.org"), "jdoe@demo.commcarehq.org");
  EXPECT_EQ(MobileUsername("JDoe", "Demo", "commcarehq.org"), "jdoe@demo.commcarehq.org");
  EXPECT_EQ(MobileUsername("john  doe", "demo", "commcarehq.org"), "john.doe@demo.commcarehq.org");
  EXPECT_EQ(MobileUsername("jdoe@demo.commcarehq.org", "demo", "commcarehq.org"), "jdoe@demo.commcarehq.org");
  EXPECT_EQ(MobileUsername("JDOE@Demo.CommCareHQ.org", "demo", "commcarehq.org"), "jdoe@demo.commcarehq.org");
  EXPECT_EQ(MobileUsername("j_doe-1+x", "demo", "example.org"), "j_doe-1+x@demo.example.org");
}

TEST(CommCareUsernames, RefusesWithCommCareMessages) {
  const auto message = [](std::string_view raw) {
    auto r = MobileUsername(raw, "demo", "commcarehq.org");
    EXPECT_FALSE(r) << raw;
    EXPECT_EQ(r.error().field, "username");
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(message(""), "Username is required.");
  EXPECT_EQ(message("admin"), "Username 'admin' is already taken or reserved.");
  EXPECT_EQ(message("Demo_User"), "Username 'Demo_User' is already taken or reserved.");
  EXPECT_EQ(message("admin@demo.commcarehq.org"), "Username 'admin@demo.commcarehq.org' is already taken or reserved.");
  EXPECT_EQ(message("a..b"), "Username may not contain consecutive . (period).");
  EXPECT_EQ(message("ab."), "Username may not end with a . (period).");
  EXPECT_EQ(message("a%b"), "Username may not contain special characters.");
  EXPECT_EQ(message("caf\xc3\xa9"), "Username may not contain special characters.");
  EXPECT_EQ(message(" lead"), "Username ' lead' must be a valid email address.");
  EXPECT_EQ(message("jdoe@other.commcarehq.org"),
            "Username 'jdoe@other.commcarehq.org' must end with @demo.commcarehq.org.");
  EXPECT_EQ(message(std::string(65, 'a')), "Username '" + std::string(65, 'a') + "' must be a valid email address.");
  EXPECT_NE(message(std::string(300, 'a')).find("at most 254"), std::string::npos);
  EXPECT_EQ(UsernameTakenMessage("jdoe"), "Username 'jdoe' is already taken or reserved.");
}

TEST(CommCareUsernames, AccountRootMustBeADnsName) {
  EXPECT_TRUE(IsValidAccountRoot("commcarehq.org"));
  EXPECT_TRUE(IsValidAccountRoot("example"));
  EXPECT_FALSE(IsValidAccountRoot(""));
  EXPECT_FALSE(IsValidAccountRoot("Example.org"));
  EXPECT_FALSE(IsValidAccountRoot("a..b"));
  EXPECT_FALSE(IsValidAccountRoot("-a.org"));
  EXPECT_FALSE(IsValidAccountRoot("a_b.org"));
}

TEST(CommCareQuery, ParsesAndEncodesLikeDjango) {
  auto q = ParseQuery("limit=5&group=ab%20c&x=a+b&flag&&offset=%zz&limit=7");
  ASSERT_EQ(q.size(), 6u);
  EXPECT_EQ(q[1].value, "ab c");
  EXPECT_EQ(q[2].value, "a b");
  EXPECT_EQ(q[3].key, "flag");
  EXPECT_EQ(q[3].value, "");
  EXPECT_EQ(q[4].value, "%zz");
  EXPECT_EQ(QueryValue(q, "limit"), "7");  // the last one, as QueryDict.get
  EXPECT_FALSE(QueryValue(q, "nope"));
  EXPECT_EQ(EncodeQuery({{"a b", "c&d"}, {"e", "f/g~h"}}), "a+b=c%26d&e=f%2Fg~h");
}

TEST(CommCareQuery, BooleansAsStringToBoolean) {
  for (const char* t : {"true", "True", "1", "yes", "y", "t", "on", " TRUE "}) EXPECT_EQ(ParseBool(t), true) << t;
  for (const char* f : {"false", "0", "no", "n", "f", "off"}) EXPECT_EQ(ParseBool(f), false) << f;
  EXPECT_FALSE(ParseBool("maybe"));
  EXPECT_FALSE(ParseBool(""));
}

TEST(CommCarePaging, DefaultsLimitsAndMessages) {
  auto page = ReadPage({});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->limit, 20);
  EXPECT_EQ(page->offset, 0);
  EXPECT_EQ(ReadPage(ParseQuery("limit=0"))->limit, 1000);
  EXPECT_EQ(ReadPage(ParseQuery("limit=5000"))->limit, 1000);
  EXPECT_EQ(ReadPage(ParseQuery("limit=99999999999999999999999"))->limit, 1000);
  EXPECT_EQ(ReadPage(ParseQuery("limit=7&offset=3"))->offset, 3);
  EXPECT_EQ(ReadPage(ParseQuery("limit=abc")).error().message,
            "Invalid limit 'abc' provided. Please provide a positive integer.");
  EXPECT_EQ(ReadPage(ParseQuery("limit=-1")).error().message,
            "Invalid limit '-1' provided. Please provide a positive integer >= 0.");
  EXPECT_EQ(ReadPage(ParseQuery("offset=x")).error().message,
            "Invalid offset 'x' provided. Please provide an integer.");
  EXPECT_EQ(ReadPage(ParseQuery("offset=-2")).error().message,
            "Invalid offset '-2' provided. Please provide a positive integer >= 0.");
  EXPECT_FALSE(ReadPage(ParseQuery("offset=-99999999999999999999999")));
  EXPECT_TRUE(ReadPage(ParseQuery("offset=99999999999999999999999")));
}

TEST(CommCarePaging, NextAndPreviousAsTastypie) {
  const auto query = ParseQuery("group=abc&limit=2&archived=true&offset=2");
  auto meta = PageMeta(Page{2, 2}, 5, "/a/demo/api/v0.5/user/", query);
  EXPECT_EQ(meta["limit"], 2);
  EXPECT_EQ(meta["offset"], 2);
  EXPECT_EQ(meta["total_count"], 5);
  EXPECT_EQ(meta["next"], "/a/demo/api/v0.5/user/?group=abc&archived=true&limit=2&offset=4");
  EXPECT_EQ(meta["previous"], "/a/demo/api/v0.5/user/?group=abc&archived=true&limit=2&offset=0");
  meta = PageMeta(Page{2, 4}, 5, "/x/", {});
  EXPECT_TRUE(meta["next"].is_null());
  EXPECT_EQ(meta["previous"], "/x/?limit=2&offset=2");
  meta = PageMeta(Page{20, 5}, 30, "/x/", {});
  EXPECT_TRUE(meta["previous"].is_null());  // offset - limit < 0, as Tastypie
  EXPECT_EQ(meta["next"], "/x/?limit=20&offset=25");
}

TEST(CommCarePaging, CursorReadAndCarriedInNext) {
  const std::vector<QueryParam> query = {{"group", "abc"}, {"cursor", "7"}, {"limit", "2"}};
  auto none = ReadCursor({}, Page{2, 0});
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto plain = ReadCursor(query, Page{2, 4});
  ASSERT_TRUE(plain && *plain);
  EXPECT_EQ((*plain)->after, 7);
  EXPECT_EQ((*plain)->skip, 0);
  auto skipping = ReadCursor({{"cursor", "1200.30"}}, Page{20, 40});
  ASSERT_TRUE(skipping && *skipping);
  EXPECT_EQ((*skipping)->after, 1200);
  EXPECT_EQ((*skipping)->skip, 30);
  for (const char* bad : {"x", "-1", "5.x", "5.41", "", "5.-1"}) {
    auto r = ReadCursor({{"cursor", bad}}, Page{20, 40});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().field, "cursor");
    EXPECT_EQ(r.error().message, "Invalid cursor '" + std::string(bad) + "' provided.");
  }
  EXPECT_EQ(CursorUri("/a/demo/api/v0.5/user/", query, 2, 6, Cursor{9, 0}),
            "/a/demo/api/v0.5/user/?group=abc&limit=2&offset=6&cursor=9");
  EXPECT_EQ(CursorUri("/x/", {}, 20, 40, Cursor{9, 3}), "/x/?limit=20&offset=40&cursor=9.3");
  // Offset links leave an old cursor out.
  EXPECT_EQ(PageMeta(Page{2, 2}, 5, "/x/", query)["next"], "/x/?group=abc&limit=2&offset=4");
}

TEST(CommCareUsers, ReadApplyAndWire) {
  auto body = json::parse(R"({"first_name":"John","last_name":"Doe","email":"JDoe@Example.org","language":"en",
    "phone_numbers":["+50253311399","50253314588","+50253311399"],"groups":["9a0accdba29e01a61ea099394737c4fb"],
    "user_data":{"chw_id":"13/43/DFA"},"password":"qwer1234","id":"ignored","locations":[],"primary_location":null})")
                  .as_object();
  auto f = ReadUserFields(body);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->phone_numbers->size(), 2u);
  EXPECT_EQ(f->groups->front(), "9a0accdb-a29e-01a6-1ea0-99394737c4fb");
  EXPECT_EQ(f->password, "qwer1234");
  core::User u;
  u.id = "3c5a623a-f057-4e23-a32a-e4000cf29133";
  u.username = "jdoe@demo.commcarehq.org";
  u.active = true;
  ApplyUserFields(*f, u);
  EXPECT_EQ(u.profile.name.given_name, "John");
  EXPECT_EQ(u.profile.emails.at(0).value, "jdoe@example.org");
  EXPECT_TRUE(u.profile.emails.at(0).primary);
  EXPECT_TRUE(u.profile.phone_numbers.at(0).primary);
  EXPECT_EQ(u.profile.phone_numbers.at(1).type, "mobile");
  auto wire = UserWire(u, {"9a0accdb-a29e-01a6-1ea0-99394737c4fb"}, "demo");
  EXPECT_EQ(wire["id"], "3c5a623af0574e23a32ae4000cf29133");
  EXPECT_EQ(wire["username"], "jdoe@demo.commcarehq.org");
  EXPECT_EQ(wire["default_phone_number"], "+50253311399");
  EXPECT_EQ(wire["phone_numbers"], json::parse(R"(["+50253311399","50253314588"])"));
  EXPECT_EQ(wire["groups"], json::parse(R"(["9a0accdba29e01a61ea099394737c4fb"])"));
  EXPECT_EQ(wire["user_data"], json::parse(R"({"commcare_project":"demo","commcare_profile":"","chw_id":"13/43/DFA"})"));
  EXPECT_EQ(wire["eulas"], "[]");
  EXPECT_EQ(wire["email"], "jdoe@example.org");
  EXPECT_EQ(wire["language"], "en");
  EXPECT_FALSE(wire.contains("password"));
  EXPECT_EQ(wire["resource_uri"], "/a/demo/api/v0.5/user/3c5a623af0574e23a32ae4000cf29133/");
}

TEST(CommCareUsers, DefaultPhoneAndTypesKept) {
  core::User u;
  u.profile.phone_numbers = {{"home", "111-111", false}, {"work", "222-222", true}};
  EXPECT_EQ(PhoneList(u.profile), (std::vector<std::string>{"222-222", "111-111"}));
  auto f = ReadUserFields(json::parse(R"({"default_phone_number":"111-111"})").as_object());
  ASSERT_TRUE(f);
  ApplyUserFields(*f, u);
  ASSERT_EQ(u.profile.phone_numbers.size(), 2u);
  EXPECT_EQ(u.profile.phone_numbers[0].value, "111-111");
  EXPECT_EQ(u.profile.phone_numbers[0].type, "home");
  EXPECT_TRUE(u.profile.phone_numbers[0].primary);
  EXPECT_EQ(u.profile.phone_numbers[1].type, "work");
  EXPECT_FALSE(u.profile.phone_numbers[1].primary);
  f = ReadUserFields(json::parse(R"({"phone_numbers":null,"email":null,"user_data":null})").as_object());
  ASSERT_TRUE(f);
  u.profile.emails = {{"home", "a@b.co", true}, {"work", "w@b.co", false}};
  u.profile.extras_json = R"({"a":1})";
  ApplyUserFields(*f, u);
  EXPECT_TRUE(u.profile.phone_numbers.empty());
  ASSERT_EQ(u.profile.emails.size(), 1u);
  EXPECT_EQ(u.profile.emails[0].value, "w@b.co");
  EXPECT_EQ(u.profile.extras_json, "");
}

TEST(CommCareUsers, RejectsBadFieldsNamingThem) {
  const auto field = [](std::string_view text) {
    auto f = ReadUserFields(json::parse(text).as_object());
    EXPECT_FALSE(f) << text;
    return f ? std::string() : f.error().field;
  };
  EXPECT_EQ(field(R"({"first_name":5})"), "first_name");
  EXPECT_EQ(field(R"({"email":"nope"})"), "email");
  EXPECT_EQ(field(R"({"phone_numbers":"123"})"), "phone_numbers");
  EXPECT_EQ(field(R"({"phone_numbers":["123",4]})"), "phone_numbers[1]");
  EXPECT_EQ(field(R"({"phone_numbers":["12a3"]})"), "phone_numbers[0]");
  EXPECT_EQ(field(R"({"default_phone_number":"x"})"), "default_phone_number");
  EXPECT_EQ(field(R"({"groups":["nothex"]})"), "groups[0]");
  EXPECT_EQ(field(R"({"user_data":[1]})"), "user_data");
  EXPECT_EQ(field(R"({"locations":["26fc44e2792b4f2fa8ef86178f0a958e"]})"), "locations");
  EXPECT_EQ(field(R"({"primary_location":"26fc44e2792b4f2fa8ef86178f0a958e"})"), "primary_location");
  EXPECT_EQ(field(R"({"password":""})"), "password");
  EXPECT_EQ(field(R"({"password":1})"), "password");
  EXPECT_EQ(field(R"({"language":")" + std::string(65, 'x') + "\"}"), "language");
}

TEST(CommCareGroups, ReadApplyAndWireKeepOtherDialects) {
  auto f = ReadGroupFields(json::parse(R"({"name":"Wozzle","metadata":{"k":"v"},"users":[]})").as_object(), true);
  ASSERT_TRUE(f);
  service::Record g;
  g.id = "1eb59d69-38fc-7e51-0254-d8c2f63d944f";
  g.body["catalyze"] = json::object{{"x", 1}};
  ApplyGroupFields(*f, g, true);
  EXPECT_EQ(g.body["name"], "Wozzle");
  EXPECT_EQ(g.body["default"], false);
  EXPECT_EQ(g.body["catalyze"], json::parse(R"({"x":1})"));
  auto wire = GroupWire(g, {"3c5a623a-f057-4e23-a32a-e4000cf29133"}, "demo");
  EXPECT_EQ(wire["id"], "1eb59d6938fc7e510254d8c2f63d944f");
  EXPECT_EQ(wire["case_sharing"], false);
  EXPECT_EQ(wire["reporting"], true);
  EXPECT_EQ(wire["metadata"], json::parse(R"({"k":"v"})"));
  EXPECT_EQ(wire["users"], json::parse(R"(["3c5a623af0574e23a32ae4000cf29133"])"));
  EXPECT_EQ(wire["domain"], "demo");
  // Update: only what is sent changes.
  f = ReadGroupFields(json::parse(R"({"case_sharing":true})").as_object(), false);
  ASSERT_TRUE(f);
  ApplyGroupFields(*f, g, false);
  wire = GroupWire(g, {}, "demo");
  EXPECT_EQ(wire["name"], "Wozzle");
  EXPECT_EQ(wire["case_sharing"], true);
  EXPECT_EQ(wire["metadata"], json::parse(R"({"k":"v"})"));
  // A group made by another dialect reads with CommCare's defaults.
  service::Record plain;
  plain.body = json::object{{"name", "Plain"}, {"default", true}};
  wire = GroupWire(plain, {}, "demo");
  EXPECT_EQ(wire["reporting"], true);
  EXPECT_EQ(wire["metadata"], json::object());
}

TEST(CommCareGroups, RejectsBadFieldsNamingThem) {
  const auto field = [](std::string_view text, bool creating) {
    auto f = ReadGroupFields(json::parse(text).as_object(), creating);
    EXPECT_FALSE(f) << text;
    return f ? std::string() : f.error().field;
  };
  EXPECT_EQ(field(R"({})", true), "name");
  EXPECT_EQ(field(R"({"name":""})", true), "name");
  EXPECT_EQ(field(R"({"name":null})", false), "name");
  EXPECT_EQ(field(R"({"name":"a","case_sharing":"yes"})", true), "case_sharing");
  EXPECT_EQ(field(R"({"name":"a","reporting":1})", true), "reporting");
  EXPECT_EQ(field(R"({"name":"a","metadata":[]})", true), "metadata");
  EXPECT_EQ(field(R"({"name":"a","users":["x"]})", true), "users[0]");
  EXPECT_TRUE(ReadGroupFields(json::parse(R"({"reporting":false})").as_object(), false));
}

// Throttling refusals (issue 12) come out as CommCare's 429 with Retry-After.
TEST(CommCareErrors, TooManyRequestsCarriesRetryAfter) {
  const http::Response r = Fail(core::TooManyRequests("too many sign-in requests; retry later", 7).error());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(json::parse(r.body).at("error"), "too many sign-in requests; retry later");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "7"}));
  // Other errors carry none.
  EXPECT_TRUE(Fail(core::NotFound("no such user").error()).headers.empty());
}

}  // namespace
}  // namespace roster::dialects::commcare
