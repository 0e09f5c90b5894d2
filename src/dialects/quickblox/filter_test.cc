#include "dialects/quickblox/filter.h"

#include "dialects/quickblox/mapping.h"

#include <gtest/gtest.h>

namespace roster::dialects::quickblox {
namespace {

namespace json = boost::json;

json::object User(std::int64_t id, std::string login, std::string created_at, json::value external = nullptr) {
  return json::object{{"id", id},
                      {"login", login},
                      {"email", login + "@example.com"},
                      {"full_name", nullptr},
                      {"created_at", created_at},
                      {"external_user_id", external}};
}

std::vector<Filter> Parse(std::string_view text) {
  auto f = ParseFilters(text);
  EXPECT_TRUE(f.has_value()) << text << ": " << (f ? "" : f.error().message);
  return f ? *f : std::vector<Filter>{};
}

TEST(QuickBloxFilter, ParsesTheSdkForms) {
  auto one = Parse("string login eq alice1");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].field, "login");
  EXPECT_EQ(one[0].op, "eq");
  EXPECT_EQ(one[0].values, std::vector<std::string>{"alice1"});

  // The SDK joins a list of filters with commas, in one parameter.
  auto two = Parse("number id in 1001,1002,string login eq xtra1");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].values, (std::vector<std::string>{"1001", "1002"}));
  EXPECT_EQ(two[1].field, "login");

  auto date = Parse("string created_at gt 2020-01-01T00:00:00Z");
  ASSERT_EQ(date.size(), 1u);
  auto between = Parse("number id between 1, 5");
  ASSERT_EQ(between.size(), 1u);
  EXPECT_EQ(between[0].values, (std::vector<std::string>{"1", "5"}));
  auto spaced = Parse("string full_name eq John Doe");
  ASSERT_EQ(spaced.size(), 1u);
  EXPECT_EQ(spaced[0].values, std::vector<std::string>{"John Doe"});

  auto array = ParseFilterParam(json::array{"number id gt 1", "string login ne bob"});
  ASSERT_TRUE(array);
  EXPECT_EQ(array->size(), 2u);
}

TEST(QuickBloxFilter, RejectsMalformedFilters) {
  for (std::string_view bad : {"login eq x", "string nope eq x", "string login like x", "string login eq",
                               "number id eq abc", "number id between 1", "date created_at gt yesterday"}) {
    auto f = ParseFilters(bad);
    ASSERT_FALSE(f.has_value()) << bad;
    EXPECT_EQ(f.error().field, "filter");
  }
  EXPECT_FALSE(ParseFilterParam(json::value(5)));
  EXPECT_FALSE(ParseOrder("sideways string id"));
  EXPECT_FALSE(ParseOrder("asc string nope"));
  EXPECT_FALSE(ParseOrder("asc"));
}

TEST(QuickBloxFilter, MatchesByKind) {
  const auto alice = User(3, "Alice", "2024-05-01T10:00:00Z", 777);
  EXPECT_TRUE(MatchesAll(alice, Parse("string login eq alice")));  // logins compare case-insensitively
  EXPECT_FALSE(MatchesAll(alice, Parse("string login ne alice")));
  EXPECT_TRUE(MatchesAll(alice, Parse("number id in 1,3")));
  EXPECT_TRUE(MatchesAll(alice, Parse("string id ge 3")));
  EXPECT_FALSE(MatchesAll(alice, Parse("number id lt 3")));
  EXPECT_TRUE(MatchesAll(alice, Parse("number id between 3,4")));
  EXPECT_TRUE(MatchesAll(alice, Parse("string created_at gt 2020-01-01T00:00:00Z")));
  EXPECT_TRUE(MatchesAll(alice, Parse("date created_at lt 2024-05-02")));
  EXPECT_TRUE(MatchesAll(alice, Parse("number created_at gt 1700000000")));
  EXPECT_TRUE(MatchesAll(alice, Parse("number external_user_id eq 777")));
  EXPECT_FALSE(MatchesAll(alice, Parse("string full_name ne x")));  // null matches nothing
  EXPECT_FALSE(MatchesAll(alice, Parse("number id eq 3,string login eq bob")));
}

// The compiled tree matches what Matches does on the wire form, field by field.
TEST(QuickBloxFilter, CompilesToTheCoreTree) {
  core::User u;
  u.number = 3;
  u.username = "Alice";
  u.created_at_ms = 1'714'557'600'500;  // 2024-05-01T10:00:00.5Z: the wire shows whole seconds
  u.updated_at_ms = u.created_at_ms;
  u.profile.name.formatted = "Alice Liddell";
  u.profile.emails = {{"", "Alice@Example.com", true}};
  u.profile.phone_numbers = {{"", "+1555", true}};
  u.dialect_json["quickblox"] = R"({"tag_list":"red,blue"})";
  const json::object wire = ToWire(u);
  for (const char* text :
       {"string login eq ALICE", "string login ne bob", "string email eq alice@example.com", "number id gt 2",
        "number id between 3,4", "number id in 1,3", "string full_name eq Alice Liddell",
        "string full_name eq alice liddell", "string full_name gt Alice", "string phone eq +1555",
        "date created_at eq 2024-05-01T10:00:00Z", "date created_at ge 1714557600", "date created_at lt 2024-05-01",
        "string email lt b", "number external_user_id eq 1", "string website ne x", "number id eq 3,string login eq x",
        "string login in bob,alice"}) {
    auto filters = ParseFilters(text);
    ASSERT_TRUE(filters) << text;
    EXPECT_EQ(query::Matches(ToQuery(*filters), u, Attribute), MatchesAll(wire, *filters)) << text;
  }
  const query::Node tags = query::Compare(query::AttrPath{std::string(kQuickBloxSchema), {"tags"}}, query::Op::kEq,
                                          query::String("blue"));
  EXPECT_TRUE(query::Matches(tags, u, Attribute));
  const query::Node name = query::Compare(query::AttrPath{std::string(kQuickBloxSchema), {"search_name"}},
                                          query::Op::kCo, query::String("LIDD"));
  EXPECT_TRUE(query::Matches(name, u, Attribute));
}

// Issue 15: number comparisons on facebook_id and external_user_id compare numbers
// ("10" > "9"), in the wire matcher and in the compiled tree alike; last_request_at is a
// date kept in the dialect's data.
TEST(QuickBloxFilter, NumbersCompareAsNumbersAndLastRequestAtIsADate) {
  core::User u;
  u.number = 4;
  u.username = "numbers";
  u.external_id = "10";
  u.external_ids["facebook"] = "10";
  SetLastRequestAt(u, 1'714'557'600'000);  // 2024-05-01T10:00:00Z
  const json::object wire = ToWire(u);
  EXPECT_EQ(wire.at("last_request_at"), "2024-05-01T10:00:00Z");
  for (const auto& [text, want] : std::vector<std::pair<const char*, bool>>{
           {"number facebook_id gt 9", true},        {"number facebook_id lt 9", false},
           {"number facebook_id between 9,11", true}, {"string facebook_id eq 010", true},
           {"number external_user_id gt 9", true},   {"number external_user_id le 9", false},
           {"date last_request_at gt 2024-05-01", true}, {"date last_request_at lt 2024-05-01", false}}) {
    auto filters = ParseFilters(text);
    ASSERT_TRUE(filters) << text;
    EXPECT_EQ(MatchesAll(wire, *filters), want) << text;
    EXPECT_EQ(query::Matches(ToQuery(*filters), u, Attribute), want) << text;
  }
  core::User nine = u;
  nine.number = 5;
  nine.external_ids["facebook"] = "9";
  auto o = ParseOrder("asc number facebook_id");
  ASSERT_TRUE(o);
  EXPECT_TRUE(Before(ToWire(nine), wire, *o));
  EXPECT_TRUE(ParseOrder("desc date last_request_at"));
}

TEST(QuickBloxFilter, OrdersWithIdAsTieBreak) {
  std::vector<json::object> users{User(1, "carol", "2024-01-02T00:00:00Z"), User(2, "alice", "2024-01-03T00:00:00Z"),
                                  User(3, "bob", "2024-01-02T00:00:00Z")};
  auto sorted = [&](std::string_view order) {
    auto o = ParseOrder(order);
    EXPECT_TRUE(o);
    auto copy = users;
    std::stable_sort(copy.begin(), copy.end(), [&](const auto& a, const auto& b) { return Before(a, b, *o); });
    std::vector<std::int64_t> ids;
    for (const auto& u : copy) ids.push_back(u.at("id").as_int64());
    return ids;
  };
  EXPECT_EQ(sorted(""), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(sorted("desc string id"), (std::vector<std::int64_t>{3, 2, 1}));
  EXPECT_EQ(sorted("asc string login"), (std::vector<std::int64_t>{2, 3, 1}));
  EXPECT_EQ(sorted("desc date created_at"), (std::vector<std::int64_t>{2, 1, 3}));
  EXPECT_EQ(sorted("asc created_at"), (std::vector<std::int64_t>{1, 3, 2}));
}

}  // namespace
}  // namespace roster::dialects::quickblox
