#include "core/rules.h"

#include <gtest/gtest.h>

namespace roster::core {
namespace {

TEST(FoldUsernameTest, FoldsCaseAndCompatibilityForms) {
  EXPECT_EQ(*FoldUsername("Alice"), *FoldUsername("aLICE"));
  EXPECT_EQ(*FoldUsername("Straße"), *FoldUsername("STRASSE"));
  EXPECT_EQ(*FoldUsername("ΣΊΣΥΦΟΣ"), *FoldUsername("σίσυφος"));
  EXPECT_NE(*FoldUsername("alice"), *FoldUsername("alicia"));
}

TEST(FoldUsernameTest, RejectsBadUsernames) {
  const char* bad[] = {"", "   ", "a\nb", "tab\there", "\xff\xfe"};
  for (const char* name : bad) {
    auto r = FoldUsername(name);
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().field, "username");
  }
  EXPECT_FALSE(FoldUsername(std::string(257, 'a')).has_value());
  EXPECT_TRUE(FoldUsername(std::string(256, 'a')).has_value());
}

TEST(EmailTest, AcceptsAndRejects) {
  for (const char* ok : {"a@b.co", "first.last+tag@example.com", "x@sub.domain.org", "ü@bücher.de"})
    EXPECT_TRUE(IsValidEmail(ok)) << ok;
  for (const char* bad : {"", "plain", "@example.com", "a@", "a@b", "a b@c.com", "a@@b.com", "a@-b.com",
                          "a..b@c.com", ".a@c.com", "a@b..com", "a@b.com\n"})
    EXPECT_FALSE(IsValidEmail(bad)) << bad;
  EXPECT_EQ(NormalizeEmail(" Bob@Example.COM "), "bob@example.com");
}

TEST(DateTest, ParsesRealDaysOnly) {
  EXPECT_TRUE(ParseDate("2000-02-29").has_value());
  for (const char* bad : {"1999-02-29", "2000-13-01", "2000-00-10", "2000-04-31", "2000-1-01", "20000101",
                          "2000-01-01T00:00", "1700-01-01", "abcd-ef-gh"})
    EXPECT_FALSE(ParseDate(bad).has_value()) << bad;
}

TEST(DateTest, AgeCountsWholeYears) {
  // 2021-06-15T00:00:00Z
  const std::int64_t now = 1623715200000;
  EXPECT_EQ(AgeOn(*ParseDate("2000-06-15"), now), 21);
  EXPECT_EQ(AgeOn(*ParseDate("2000-06-16"), now), 20);
  EXPECT_EQ(AgeOn(*ParseDate("2021-06-15"), now), 0);
  EXPECT_FALSE(AgeOn(*ParseDate("2021-06-16"), now).has_value());
}

TEST(TimestampTest, FormatsUtc) {
  EXPECT_EQ(FormatTimestamp(1383825600000, false), "2013-11-07T12:00:00Z");
  EXPECT_EQ(FormatTimestamp(1383825600123, true), "2013-11-07T12:00:00.123Z");
}

TEST(UuidTest, CanonicalFormOnly) {
  EXPECT_TRUE(IsUuid("a564ef59-085b-4803-b514-37288e32709e"));
  EXPECT_FALSE(IsUuid("A564EF59-085B-4803-B514-37288E32709E"));
  EXPECT_FALSE(IsUuid("a564ef59085b4803b51437288e32709e"));
  EXPECT_FALSE(IsUuid("../../etc/passwd"));
}

}  // namespace
}  // namespace roster::core
