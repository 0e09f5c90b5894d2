#include "dialects/pingone/filter.h"

#include "query/evaluate.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <cctype>
#include <set>
#include <string>

namespace roster::dialects::pingone {
namespace {

namespace json = boost::json;

// The attributes a PingOne environment might allow, plus a few custom ones.
bool Known(std::string_view path) {
  static const std::set<std::string, std::less<>> kKnown = {
      "username", "userName", "USERNAME", "email",    "name.given", "name.family", "population.id",
      "externalId", "enabled", "nickname", "tags",    "emails.value", "age",     "address.locality",
      "a",        "b",        "c",        "d",       "name",        "memberOfGroups.id",
  };
  return kKnown.contains(path);
}

Filter MustParse(std::string_view text) {
  auto filter = ParseFilter(text, Known);
  EXPECT_TRUE(filter.has_value()) << text << ": " << (filter ? "" : filter.error().message);
  return filter ? std::move(*filter) : Filter{};
}

// Refused with kInvalidArgument on field "filter" and a message containing `part`.
void ExpectInvalid(std::string_view text, std::string_view part) {
  auto filter = ParseFilter(text, Known);
  ASSERT_FALSE(filter.has_value()) << "accepted: " << text;
  EXPECT_EQ(filter.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(filter.error().field, "filter");
  EXPECT_NE(filter.error().message.find(part), std::string::npos)
      << text << " -> " << filter.error().message << " (wanted '" << part << "')";
}

const json::object& Alice() {
  static const json::object user = json::parse(R"({
    "id": "4d1a3c5e-0000-4000-8000-000000000001",
    "username": "alice",
    "email": "Alice.Smith@Example.com",
    "name": {"given": "Alice", "family": "Smith"},
    "population": {"id": "pop-1"},
    "externalId": "EXT-42",
    "enabled": true,
    "nickname": "Stra\u00dfe",
    "tags": ["blue", "Green"],
    "emails": [{"value": "work@example.com"}, {"value": "home@example.com"}],
    "age": 42,
    "address": "not an object"
  })").as_object();
  return user;
}

bool M(std::string_view text, const json::object& user = Alice()) {
  return Matches(MustParse(text), user);
}

// ---- parsing ------------------------------------------------------------------------

TEST(FilterParseTest, ParsesASingleComparison) {
  const Filter f = MustParse(R"(name.given eq "Alice")");
  ASSERT_EQ(f.kind, Filter::Kind::kComparison);
  EXPECT_EQ(f.comparison.path, "name.given");
  EXPECT_EQ(f.comparison.segments, (std::vector<std::string>{"name", "given"}));
  EXPECT_EQ(f.comparison.op, FilterOp::kEq);
  EXPECT_EQ(std::get<std::string>(f.comparison.value), "Alice");
  EXPECT_EQ(f.comparison.folded, "alice");
}

TEST(FilterParseTest, KeywordsAndOperatorsIgnoreCase) {
  const Filter f = MustParse(R"(username EQ "a" AND email Sw "b" oR enabled eq TRUE)");
  ASSERT_EQ(f.kind, Filter::Kind::kOr);
  ASSERT_EQ(f.children.size(), 2u);
  EXPECT_EQ(f.children[0].kind, Filter::Kind::kAnd);
  EXPECT_EQ(f.children[0].children[1].comparison.op, FilterOp::kSw);
  EXPECT_EQ(std::get<bool>(f.children[1].comparison.value), true);
}

TEST(FilterParseTest, AndBindsTighterThanOr) {
  const Filter f = MustParse(R"(a eq "1" or b eq "2" and c eq "3" or d eq "4")");
  ASSERT_EQ(f.kind, Filter::Kind::kOr);
  ASSERT_EQ(f.children.size(), 3u);
  EXPECT_EQ(f.children[0].comparison.path, "a");
  ASSERT_EQ(f.children[1].kind, Filter::Kind::kAnd);
  EXPECT_EQ(f.children[1].children[0].comparison.path, "b");
  EXPECT_EQ(f.children[1].children[1].comparison.path, "c");
  EXPECT_EQ(f.children[2].comparison.path, "d");
}

TEST(FilterParseTest, ParenthesesGroup) {
  const Filter f = MustParse(R"((a eq "1" or b eq "2") and c eq "3")");
  ASSERT_EQ(f.kind, Filter::Kind::kAnd);
  ASSERT_EQ(f.children.size(), 2u);
  EXPECT_EQ(f.children[0].kind, Filter::Kind::kOr);
  EXPECT_EQ(f.children[1].comparison.path, "c");
  // Redundant parentheses and free whitespace change nothing.
  const Filter g = MustParse("  ((( a eq \"1\" )))\t");
  EXPECT_EQ(g.kind, Filter::Kind::kComparison);
  const Filter h = MustParse(R"((a eq "1")and(b eq "2"))");
  EXPECT_EQ(h.kind, Filter::Kind::kAnd);
}

TEST(FilterParseTest, DecodesJsonStringEscapes) {
  const Filter f = MustParse(R"(nickname eq "say \"hi\" \\ \/ \u00e9\t\ud83d\ude00")");
  EXPECT_EQ(std::get<std::string>(f.comparison.value), "say \"hi\" \\ / \xc3\xa9\t\xf0\x9f\x98\x80");
  const Filter g = MustParse(R"(nickname eq "")");
  EXPECT_EQ(std::get<std::string>(g.comparison.value), "");
  const Filter h = MustParse(R"(nickname eq "and or ( ) eq")");
  EXPECT_EQ(std::get<std::string>(h.comparison.value), "and or ( ) eq");
}

TEST(FilterParseTest, RefusesOtherScimOperatorsByName) {
  ExpectInvalid(R"(username co "x")", "unsupported operator 'co' at position 9");
  for (const char* op : {"ne", "ew", "gt", "ge", "lt", "le", "NE", "Co"}) {
    std::string lower(op);
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    ExpectInvalid(std::string("username ") + op + " \"x\"", "unsupported operator '" + lower + "'");
  }
  ExpectInvalid("username pr", "unsupported operator 'pr'");
  ExpectInvalid(R"(not (username eq "x"))", "unsupported operator 'not' at position 0");
  ExpectInvalid(R"(username is "x")", "unknown operator 'is' at position 9");
  ExpectInvalid(R"(username = "x")", "unexpected character '=' at position 9");
  ExpectInvalid(R"(username "x")", "expected an operator after 'username' at position 9");
}

TEST(FilterParseTest, RefusesBadValues) {
  ExpectInvalid("age eq 42", "unsupported value '42' at position 7");
  ExpectInvalid("username eq null", "unsupported value 'null'");
  ExpectInvalid("username eq alice", "unsupported value 'alice'");
  ExpectInvalid("username eq", "expected a value after 'eq' at position 11");
  ExpectInvalid("username eq (", "expected a value after 'eq' at position 12");
  ExpectInvalid("enabled sw true", "'sw' needs a string value at position 11");
  ExpectInvalid(R"(username eq 'alice')", "unexpected character");
}

TEST(FilterParseTest, RefusesBadStrings) {
  ExpectInvalid(R"(username eq "alice)", "unterminated string at position 12");
  ExpectInvalid(R"(username eq "alice\")", "unterminated string at position 12");
  ExpectInvalid(R"(username eq "a\x")", "invalid string at position 12");
  ExpectInvalid(R"(username eq "\u12")", "invalid string at position 12");
  ExpectInvalid("username eq \"a\xff\"", "invalid string at position 12");  // not UTF-8
  ExpectInvalid("username eq \"a\tb\"", "invalid string");  // raw control character
}

TEST(FilterParseTest, RefusesBadStructure) {
  ExpectInvalid("", "filter is empty");
  ExpectInvalid("   ", "filter is empty");
  ExpectInvalid(R"(username eq "a" email eq "b")", "expected 'and' or 'or' at position 16");
  ExpectInvalid(R"(username eq "a" and)", "expected an attribute name at position 19");
  ExpectInvalid(R"(or username eq "a")", "unknown attribute 'or'");
  ExpectInvalid(R"((username eq "a")", "missing ')' for the '(' at position 0");
  ExpectInvalid(R"(username eq "a"))", "unbalanced ')' at position 15");
  ExpectInvalid("()", "expected an attribute name at position 1");
  ExpectInvalid(R"(username eq "a" [)", "expected 'and' or 'or' at position 16");  // "[" is a token now
  ExpectInvalid(R"(username eq "a" {)", "unexpected character '{' at position 16");
  ExpectInvalid("\x01", "unexpected character at position 0");
  ExpectInvalid(R"("username" eq "a")", "expected an attribute name at position 0");
}

TEST(FilterParseTest, RefusesUnknownAndInvalidAttributes) {
  ExpectInvalid(R"(password eq "x")", "unknown attribute 'password'");
  ExpectInvalid(R"(name.middle eq "x")", "unknown attribute 'name.middle'");
  ExpectInvalid(R"(Email eq "x")", "unknown attribute 'Email'");  // the predicate decides case
  for (const char* path : {"name..given", ".name", "name.", "1name", "name.1st", "-x", "_x"}) {
    ExpectInvalid(std::string(path) + " eq \"x\"", "invalid attribute name");
  }
  // Without a predicate nothing is known.
  auto none = ParseFilter(R"(username eq "x")", nullptr);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("unknown attribute 'username'"), std::string::npos);
  // The predicate sees the path exactly as written.
  std::string seen;
  (void)ParseFilter(R"(name.given eq "x")", [&](std::string_view p) {
    seen = p;
    return true;
  });
  EXPECT_EQ(seen, "name.given");
}

TEST(FilterParseTest, EnforcesLengthLimit) {
  const std::string padded = R"(username eq ")" + std::string(kMaxFilterLength - 14, 'x') + "\"";
  ASSERT_EQ(padded.size(), kMaxFilterLength);
  EXPECT_TRUE(ParseFilter(padded, Known).has_value());
  const std::string longer = R"(username eq ")" + std::string(kMaxFilterLength - 13, 'x') + "\"";
  ExpectInvalid(longer, "longer than 2048 bytes");
}

TEST(FilterParseTest, EnforcesComparisonLimit) {
  auto chain = [](std::size_t n) {
    std::string text = R"(a eq "0")";
    for (std::size_t i = 1; i < n; ++i) text += R"( or a eq ")" + std::to_string(i) + "\"";
    return text;
  };
  const Filter f = MustParse(chain(kMaxFilterComparisons));
  EXPECT_EQ(f.children.size(), kMaxFilterComparisons);
  ExpectInvalid(chain(kMaxFilterComparisons + 1), "more than 32 comparisons");
}

TEST(FilterParseTest, EnforcesNestingLimit) {
  auto nested = [](std::size_t depth) {
    return std::string(depth, '(') + R"(a eq "x")" + std::string(depth, ')');
  };
  EXPECT_TRUE(ParseFilter(nested(kMaxFilterDepth), Known).has_value());
  ExpectInvalid(nested(kMaxFilterDepth + 1), "parentheses nested deeper than 16 at position 16");
  // Nesting counts the open parentheses at a point, not how many there are in all.
  std::string siblings = R"((a eq "x"))";
  for (int i = 0; i < 20; ++i) siblings += R"( or (a eq "x"))";
  EXPECT_TRUE(ParseFilter(siblings, Known).has_value());
  // A hostile run of '(' stops at the limit, long before the stack is at risk.
  ExpectInvalid(std::string(2000, '('), "nested deeper than 16");
}

// ---- matching -----------------------------------------------------------------------

TEST(FilterMatchTest, EqIgnoresCase) {
  EXPECT_TRUE(M(R"(username eq "alice")"));
  EXPECT_TRUE(M(R"(username eq "ALICE")"));
  EXPECT_TRUE(M(R"(email eq "alice.smith@example.COM")"));
  EXPECT_FALSE(M(R"(username eq "alic")"));
  EXPECT_FALSE(M(R"(username eq "alice ")"));
  // Unicode case folding, as usernames compare: "Straße" equals "STRASSE".
  EXPECT_TRUE(M(R"(nickname eq "STRASSE")"));
  EXPECT_TRUE(M(R"(nickname eq "stra\u00dfe")"));
}

TEST(FilterMatchTest, SwIsACaseInsensitivePrefix) {
  EXPECT_TRUE(M(R"(email sw "alice.")"));
  EXPECT_TRUE(M(R"(email sw "ALICE.SMITH@EXAMPLE.COM")"));
  EXPECT_TRUE(M(R"(name.family sw "")"));
  EXPECT_FALSE(M(R"(email sw "smith")"));
  EXPECT_FALSE(M(R"(email sw "alice.smith@example.com.")"));
}

TEST(FilterMatchTest, PathsWalkNestedObjects) {
  EXPECT_TRUE(M(R"(name.given eq "alice")"));
  EXPECT_TRUE(M(R"(population.id eq "pop-1")"));
  EXPECT_FALSE(M(R"(population.id eq "pop-2")"));
  EXPECT_TRUE(M(R"(externalId eq "ext-42")"));
  // Through something that is not an object: no match.
  EXPECT_FALSE(M(R"(address.locality eq "x")"));
  // An object is not a string, whatever it holds.
  EXPECT_FALSE(M(R"(name eq "alice")"));
  EXPECT_FALSE(M(R"(name sw "")"));
}

TEST(FilterMatchTest, MemberNamesFallBackToCaseInsensitive) {
  EXPECT_TRUE(M(R"(userName eq "alice")"));
  EXPECT_TRUE(M(R"(USERNAME eq "alice")"));
  // An exact member wins over a case-insensitive one.
  const json::object both = json::parse(R"({"userName": "exact", "username": "other"})").as_object();
  EXPECT_TRUE(M(R"(userName eq "exact")", both));
  EXPECT_TRUE(M(R"(username eq "other")", both));
}

TEST(FilterMatchTest, MissingAttributesNeverMatch) {
  const json::object empty;
  EXPECT_FALSE(M(R"(username eq "alice")", empty));
  EXPECT_FALSE(M(R"(username sw "")", empty));
  EXPECT_FALSE(M(R"(enabled eq false)", empty));
  const json::object nulls = json::parse(R"({"username": null, "name": null})").as_object();
  EXPECT_FALSE(M(R"(username eq "null")", nulls));
  EXPECT_FALSE(M(R"(name.given eq "x")", nulls));
}

TEST(FilterMatchTest, ArraysMatchIfAnyElementMatches) {
  EXPECT_TRUE(M(R"(tags eq "green")"));
  EXPECT_TRUE(M(R"(tags eq "BLUE")"));
  EXPECT_TRUE(M(R"(tags sw "gr")"));
  EXPECT_FALSE(M(R"(tags eq "red")"));
  EXPECT_TRUE(M(R"(emails.value eq "home@example.com")"));
  EXPECT_FALSE(M(R"(emails.value eq "other@example.com")"));
  const json::object empty_list = json::parse(R"({"tags": []})").as_object();
  EXPECT_FALSE(M(R"(tags sw "")", empty_list));
}

TEST(FilterMatchTest, BooleansCompareOnlyWithBooleans) {
  EXPECT_TRUE(M("enabled eq true"));
  EXPECT_FALSE(M("enabled eq false"));
  EXPECT_FALSE(M(R"(enabled eq "true")"));
  EXPECT_FALSE(M("username eq true"));
  const json::object text = json::parse(R"({"enabled": "true"})").as_object();
  EXPECT_FALSE(M("enabled eq true", text));
  const json::object disabled = json::parse(R"({"enabled": false})").as_object();
  EXPECT_TRUE(M("enabled eq false", disabled));
}

TEST(FilterMatchTest, NumbersAreNotStrings) {
  EXPECT_FALSE(M(R"(age eq "42")"));
  EXPECT_FALSE(M(R"(age sw "4")"));
}

TEST(FilterMatchTest, LogicEvaluatesAsWritten) {
  EXPECT_TRUE(M(R"(username eq "alice" and enabled eq true)"));
  EXPECT_FALSE(M(R"(username eq "alice" and enabled eq false)"));
  EXPECT_TRUE(M(R"(username eq "bob" or email sw "alice")"));
  EXPECT_FALSE(M(R"(username eq "bob" or email sw "bob")"));
  // and binds tighter: true or (false and false) is true; (true or false) and false is not.
  EXPECT_TRUE(M(R"(username eq "alice" or username eq "bob" and enabled eq false)"));
  EXPECT_FALSE(M(R"((username eq "alice" or username eq "bob") and enabled eq false)"));
}

TEST(FilterMatchTest, AParsedFilterIsReusable) {
  const Filter f = MustParse(R"(username sw "a")");
  const json::object bob = json::parse(R"({"username": "bob"})").as_object();
  const json::object anna = json::parse(R"({"username": "Anna"})").as_object();
  EXPECT_TRUE(Matches(f, Alice()));
  EXPECT_FALSE(Matches(f, bob));
  EXPECT_TRUE(Matches(f, anna));
  const Filter copy = f;
  EXPECT_TRUE(Matches(copy, anna));
}

// ---- index hint ---------------------------------------------------------------------

TEST(FilterIndexHintTest, SingleEqualityOnUsernameOrEmail) {
  auto hint = IndexHint(MustParse(R"(username eq "Alice")"));
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->attribute, "username");
  EXPECT_EQ(hint->value, "Alice");  // as written: the caller folds like its index
  hint = IndexHint(MustParse(R"(email eq "A@Example.com")"));
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->attribute, "email");
  EXPECT_EQ(hint->value, "A@Example.com");
  hint = IndexHint(MustParse(R"(USERNAME EQ "x")"));
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->attribute, "username");
  hint = IndexHint(MustParse(R"(((username eq "x")))"));
  ASSERT_TRUE(hint.has_value());
}

TEST(FilterIndexHintTest, OneOperandOfAnAndIsEnough) {
  auto hint = IndexHint(MustParse(R"(enabled eq true and email eq "a@example.com")"));
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->attribute, "email");
  hint = IndexHint(MustParse(R"(name.given sw "a" and (enabled eq true and username eq "u"))"));
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->attribute, "username");
  EXPECT_EQ(hint->value, "u");
  // The first usable operand wins.
  hint = IndexHint(MustParse(R"(email eq "e@example.com" and username eq "u")"));
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->attribute, "email");
}

TEST(FilterIndexHintTest, NoHintWhenAMatchMightLackTheEquality) {
  EXPECT_FALSE(IndexHint(MustParse(R"(username sw "a")")).has_value());
  EXPECT_FALSE(IndexHint(MustParse(R"(username eq "a" or email eq "b")")).has_value());
  EXPECT_FALSE(IndexHint(MustParse(R"(enabled eq true and (username eq "a" or enabled eq false))")).has_value());
  EXPECT_FALSE(IndexHint(MustParse(R"(name.given eq "a")")).has_value());
  EXPECT_FALSE(IndexHint(MustParse(R"(externalId eq "a" and enabled eq true)")).has_value());
  EXPECT_FALSE(IndexHint(MustParse("username eq true")).has_value());
  EXPECT_FALSE(IndexHint(MustParse(R"(emails.value eq "a@example.com")")).has_value());
}

TEST(FilterParseTest, ABracketedComparisonIsTheDottedOne) {
  const Filter f = MustParse(R"(memberOfGroups[id eq "g-1"])");
  ASSERT_EQ(f.kind, Filter::Kind::kComparison);
  EXPECT_EQ(f.comparison.path, "memberOfGroups.id");
  EXPECT_EQ(std::get<std::string>(f.comparison.value), "g-1");
  EXPECT_EQ(MustParse(R"(memberOfGroups[id eq "a"] or username eq "b")").children.size(), 2u);
  ExpectInvalid(R"(memberOfGroups[id sw "g"])", "only 'eq' is supported inside '[...]'");
  ExpectInvalid(R"(memberOfGroups[id eq "g")", "missing ']'");
  ExpectInvalid(R"(memberOfGroups[name eq "g"])", "unknown attribute 'memberOfGroups.name'");
  ExpectInvalid(R"(memberOfGroups["g"])", "expected a sub-attribute name after '['");
}

TEST(FilterParseTest, EndsWithOnlyWhereAllowed) {
  const auto on_email = [](std::string_view path) { return path == "email"; };
  auto ok = ParseFilter(R"(email ew "@example.com")", Known, on_email);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->comparison.op, FilterOp::kEw);
  EXPECT_TRUE(Matches(*ok, Alice()));
  auto refused = ParseFilter(R"(username ew "ce")", Known, on_email);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("unsupported operator 'ew' on 'username'"), std::string::npos);
  auto boolean = ParseFilter("email ew true", Known, on_email);
  ASSERT_FALSE(boolean.has_value());
  EXPECT_NE(boolean.error().message.find("'ew' needs a string value"), std::string::npos);
}

TEST(FilterToQueryTest, MapsEveryStandardAttributeItCan) {
  auto q = [](std::string_view text) { return query::ToString(ToQuery(MustParse(text))); };
  EXPECT_EQ(q(R"(nickname eq "N")"), R"(nickname eq "N")");
  EXPECT_EQ(q(R"(address.locality sw "P")"), R"(addresses.locality sw "P")");
  EXPECT_EQ(q(R"(enabled eq "true")"), "active eq true");
  EXPECT_EQ(q(R"(memberOfGroups[id eq "g"])"), R"(urn:roster:pingone:memberofgroups.id eq "g")");
  EXPECT_TRUE(IsBooleanUserAttribute("Enabled"));
  EXPECT_TRUE(IsBooleanUserAttribute("mfaEnabled"));
  EXPECT_FALSE(IsBooleanUserAttribute("title"));

  core::User u;
  u.profile.phone_numbers = {{"home", "+1 555 0100", true}, {"mobile", "+1 555 0199", false}};
  u.profile.addresses.push_back(core::Address{});
  u.profile.addresses.front().country = "FR";
  u.profile.nick_name = "Gigi";
  u.profile.name.middle_name = "Mae";
  const auto matches = [&](std::string_view text, std::string_view ew_on = "") {
    auto f = ParseFilter(text, [](std::string_view) { return true; },
                         [&](std::string_view path) { return path == ew_on; });
    EXPECT_TRUE(f.has_value()) << text;
    return f && query::Matches(ToQuery(*f), u);
  };
  EXPECT_TRUE(matches(R"(mobilePhone eq "+1 555 0199")"));
  EXPECT_FALSE(matches(R"(mobilePhone eq "+1 555 0100")"));
  EXPECT_TRUE(matches(R"(primaryPhone sw "+1 555 01")"));
  EXPECT_FALSE(matches(R"(primaryPhone eq "+1 555 0199")"));
  EXPECT_TRUE(matches(R"(address.countryCode eq "fr")"));
  EXPECT_TRUE(matches(R"(nickname sw "gi")"));
  EXPECT_TRUE(matches(R"(name.middle ew "AE")", "name.middle"));
}

}  // namespace
}  // namespace roster::dialects::pingone

namespace roster::dialects::pingone {
namespace {

TEST(FilterToQueryTest, MapsPingOneNamesToCanonicalPaths) {
  auto q = [](std::string_view text) { return query::ToString(ToQuery(MustParse(text))); };
  EXPECT_EQ(q(R"(username eq "Al")"), R"(username eq "Al")");
  EXPECT_EQ(q(R"(email sw "al")"), R"(emails[(primary eq true and value sw "al")])");
  EXPECT_EQ(q(R"(name.given eq "A" and name.family eq "B" or enabled eq false)"),
            R"(((name.givenname eq "A" and name.familyname eq "B") or active eq false))");
  EXPECT_EQ(q(R"(population.id eq "p" and externalId eq "X")"),
            R"((urn:roster:pingone:population.id eq "p" and urn:roster:pingone:externalid eq "X"))");
}

TEST(FilterToQueryTest, EvaluatesAsMatchesDoesOnTheWire) {
  core::User u;
  u.username = "Stra\u00dfe";
  u.active = true;
  u.profile.name.given_name = "Alice";
  u.profile.emails = {{"", "home@example.com", false}, {"", "Alice.Smith@Example.com", true}};
  for (const auto& [text, expected] : std::vector<std::pair<std::string, bool>>{
           {R"(username eq "STRASSE")", true},
           {R"(email eq "alice.smith@example.COM")", true},
           {R"(email eq "home@example.com")", false},  // not the primary email
           {R"(email sw "ALICE")", true},
           {R"(name.given sw "al" and enabled eq true)", true},
           {R"(enabled eq "true")", true},  // a quoted boolean on a boolean attribute
           {R"(enabled eq "FALSE")", false},
           {R"(name.family eq "x" or username sw "str")", true}}) {
    EXPECT_EQ(query::Matches(ToQuery(MustParse(text)), u), expected) << text;
  }
}

}  // namespace
}  // namespace roster::dialects::pingone
