#include "http/etag.h"

#include <gtest/gtest.h>

namespace roster::http {
namespace {

Request WithIfMatch(std::vector<std::string> values) {
  Request r;
  r.headers.emplace_back("content-type", "application/json");
  for (auto& v : values) r.headers.emplace_back("if-match", std::move(v));
  return r;
}

IfMatch Parsed(std::vector<std::string> values) {
  auto m = ParseIfMatch(WithIfMatch(std::move(values)));
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
  EXPECT_TRUE(m && m->has_value());
  return m && *m ? **m : IfMatch{};
}

core::Result<std::int64_t> Never() {
  ADD_FAILURE() << "current version read when not needed";
  return 0;
}

TEST(ETagTest, FormatsAWeakTagOfTheVersion) {
  EXPECT_EQ(WeakETag(3), "W/\"3\"");
  Response r;
  SetETag(r, 12);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "ETag");
  EXPECT_EQ(r.headers[0].second, "W/\"12\"");
}

TEST(ETagTest, NoIfMatchIsNoCondition) {
  auto m = ParseIfMatch(WithIfMatch({}));
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->has_value());
  auto v = ExpectedVersion(WithIfMatch({}), Never);
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->has_value());
}

TEST(ETagTest, ParsesWeakAndStrongTagsAsVersions) {
  EXPECT_EQ(Parsed({"W/\"3\""}).versions, std::vector<std::int64_t>{3});
  EXPECT_EQ(Parsed({"\"3\""}).versions, std::vector<std::int64_t>{3});
  EXPECT_EQ(Parsed({" W/\"3\" , \"5\",W/\"7\"\t"}).versions, (std::vector<std::int64_t>{3, 5, 7}));
  EXPECT_EQ(Parsed({"W/\"3\"", "\"4\""}).versions, (std::vector<std::int64_t>{3, 4}));  // fields combine
  EXPECT_EQ(Parsed({",, W/\"3\" ,"}).versions, std::vector<std::int64_t>{3});           // empty elements ignored
  const IfMatch m = Parsed({"W/\"3\", \"5\""});
  EXPECT_TRUE(m.Matches(3));
  EXPECT_TRUE(m.Matches(5));
  EXPECT_FALSE(m.Matches(4));
}

TEST(ETagTest, TagsThatAreNotVersionsMatchNothing) {
  const IfMatch m = Parsed({"\"abc\", W/\"\", \"03\", \"-1\", \"99999999999999999999\""});
  EXPECT_FALSE(m.any);
  EXPECT_TRUE(m.versions.empty());
  EXPECT_FALSE(m.Matches(3));
  auto v = ExpectedVersion(WithIfMatch({"\"abc\""}), Never);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, std::optional<std::int64_t>(0));
  // An empty list is a condition too, and nothing meets it.
  auto empty = ExpectedVersion(WithIfMatch({""}), Never);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, std::optional<std::int64_t>(0));
}

TEST(ETagTest, StarMatchesAnyVersion) {
  const IfMatch m = Parsed({" * "});
  EXPECT_TRUE(m.any);
  EXPECT_TRUE(m.Matches(1));
  auto v = ExpectedVersion(WithIfMatch({"*"}), Never);
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->has_value());
}

TEST(ETagTest, MalformedIfMatchNamesTheHeader) {
  for (const char* bad : {"3", "W/3", "\"3", "W/ \"3\"", "\"3\" \"4\"", "\"3\";x", "*, \"3\"", "w/\"3\"",
                          "\"a b\"", "\"a\"\"b\""}) {
    auto m = ParseIfMatch(WithIfMatch({bad}));
    ASSERT_FALSE(m.has_value()) << bad;
    EXPECT_EQ(m.error().code, core::ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(m.error().field, "If-Match") << bad;
    auto v = ExpectedVersion(WithIfMatch({bad}), Never);
    ASSERT_FALSE(v.has_value()) << bad;
    EXPECT_EQ(v.error().field, "If-Match");
  }
  // A bad field among good ones spoils the list.
  EXPECT_FALSE(ParseIfMatch(WithIfMatch({"W/\"3\"", "3"})).has_value());
}

TEST(ETagTest, ExpectedVersionIsTheListedVersion) {
  auto v = ExpectedVersion(WithIfMatch({"W/\"4\""}), Never);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, std::optional<std::int64_t>(4));
  auto same = ExpectedVersion(WithIfMatch({"W/\"4\", \"4\""}), Never);
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(*same, std::optional<std::int64_t>(4));
}

TEST(ETagTest, SeveralVersionsResolveAgainstTheCurrentOne) {
  const auto at = [](std::int64_t v) { return [v]() -> core::Result<std::int64_t> { return v; }; };
  auto listed = ExpectedVersion(WithIfMatch({"W/\"3\", W/\"5\""}), at(5));
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(*listed, std::optional<std::int64_t>(5));
  auto other = ExpectedVersion(WithIfMatch({"W/\"3\", W/\"5\""}), at(6));
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(other->has_value());
  EXPECT_NE(**other, 6);  // so the write fails
  auto gone = ExpectedVersion(WithIfMatch({"W/\"3\", W/\"5\""}),
                              []() -> core::Result<std::int64_t> { return core::NotFound("user not found"); });
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, core::ErrorCode::kNotFound);
}

}  // namespace
}  // namespace roster::http
