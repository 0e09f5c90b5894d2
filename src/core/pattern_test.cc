#include "core/pattern.h"

#include <gtest/gtest.h>

#include <string>

namespace roster::core {
namespace {

bool M(std::string_view pattern, std::string_view value) {
  auto re = Pattern::Compile(pattern);
  EXPECT_TRUE(re.has_value()) << pattern << ": " << (re ? "" : re.error().message);
  return re && re->FullMatch(value);
}

void ExpectRefused(std::string_view pattern, std::string_view part) {
  auto re = Pattern::Compile(pattern);
  ASSERT_FALSE(re.has_value()) << "accepted: " << pattern;
  EXPECT_EQ(re.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(re.error().field, "pattern");
  EXPECT_NE(re.error().message.find(part), std::string::npos) << pattern << " -> " << re.error().message;
}

TEST(Pattern, LiteralsMatchWholeValues) {
  EXPECT_TRUE(M("abc", "abc"));
  EXPECT_FALSE(M("abc", "abcd"));
  EXPECT_FALSE(M("abc", "xabc"));
  EXPECT_TRUE(M("", ""));
  EXPECT_FALSE(M("", "a"));
  EXPECT_TRUE(M("^abc$", "abc"));
}

TEST(Pattern, ClassesAndEscapes) {
  EXPECT_TRUE(M("[A-Z]{2}-\\d{4}", "AB-1234"));
  EXPECT_FALSE(M("[A-Z]{2}-\\d{4}", "Ab-1234"));
  EXPECT_TRUE(M("[^0-9]+", "abc"));
  EXPECT_FALSE(M("[^0-9]+", "ab1"));
  EXPECT_TRUE(M("\\w+@\\w+\\.com", "a_b@x1.com"));
  EXPECT_TRUE(M("\\s\\S", " x"));
  EXPECT_TRUE(M("[\\d.]+", "1.2.3"));
  EXPECT_TRUE(M("[]a]", "]"));
  EXPECT_TRUE(M("[a-]+", "a-a"));
  EXPECT_TRUE(M("\\(\\)\\[\\]\\{\\}\\.\\*\\+\\?\\|\\^\\$\\\\", "()[]{}.*+?|^$\\"));
  EXPECT_TRUE(M("a.c",
                "a\xc3\xa9"
                "c"));  // "." is one code point
  EXPECT_FALSE(M("a.c", "a\nc"));
  EXPECT_TRUE(M("[\xc3\xa0-\xc3\xbf]", "\xc3\xa9"));
}

TEST(Pattern, GroupsAlternationAndQuantifiers) {
  EXPECT_TRUE(M("(ab|cd)+", "abcdab"));
  EXPECT_FALSE(M("(ab|cd)+", ""));
  EXPECT_TRUE(M("(?:ab)*", ""));
  EXPECT_TRUE(M("colou?r", "color"));
  EXPECT_TRUE(M("colou?r", "colour"));
  EXPECT_TRUE(M("a{2,3}", "aaa"));
  EXPECT_FALSE(M("a{2,3}", "aaaa"));
  EXPECT_FALSE(M("a{2,3}", "a"));
  EXPECT_TRUE(M("a{2,}", "aaaaaa"));
  EXPECT_TRUE(M("a{3}", "aaa"));
  EXPECT_TRUE(M("a+?b*?", "aab"));
  EXPECT_TRUE(M("(a*)*b", "aaab"));
  EXPECT_TRUE(M("x|", ""));
}

// RE2 never backtracks: these finish in time linear in the value (timing is bench/'s).
TEST(Pattern, CatastrophicPatternsAreMatchedCorrectly) {
  const std::string value = std::string(4000, 'a') + "!";
  EXPECT_FALSE(M("(a+)+b", value));
  EXPECT_FALSE(M("(a|a)*b", value));
  EXPECT_FALSE(M("(a*)*(a*)*(a*)*b", value));
  EXPECT_TRUE(M("(a+)+!", value));
}

TEST(Pattern, RefusesWhatItCannotBound) {
  ExpectRefused("(a", "missing )");
  ExpectRefused("a)", "unexpected )");
  ExpectRefused("*a", "no argument for repetition");
  ExpectRefused("[a", "missing ]");
  ExpectRefused("(a)\\1", "back-references");
  ExpectRefused("(?=a)", "look-around");
  ExpectRefused("(?<!a)b", "look-around");
  ExpectRefused("a++", "possessive");
  ExpectRefused("a{5,2}", "invalid repetition size");
  ExpectRefused("a{1001}", "invalid repetition size");
  ExpectRefused("((a{100}){100}){100}", "invalid repetition size");
  ExpectRefused(std::string(600, 'a'), "at most 512");
  ExpectRefused("[z-a]", "invalid character class range");
  ExpectRefused("a\xff\xfe", "valid UTF-8");
}

TEST(Pattern, OversizedOrInvalidValuesNeverMatch) {
  auto re = Pattern::Compile(".*");
  ASSERT_TRUE(re.has_value());
  EXPECT_TRUE(re->FullMatch(std::string(kMaxPatternInput, 'a')));
  EXPECT_FALSE(re->FullMatch(std::string(kMaxPatternInput + 1, 'a')));
  EXPECT_FALSE(re->FullMatch("\xff"));
}

}  // namespace
}  // namespace roster::core
