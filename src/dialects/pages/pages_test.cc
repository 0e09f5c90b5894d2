#include "dialects/pages/pages.h"

#include <gtest/gtest.h>

namespace roster::dialects::pages {
namespace {

http::Request Post(std::vector<std::pair<std::string, std::string>> headers) {
  http::Request r;
  r.method = "POST";
  r.path = "/pages/activate";
  r.headers = std::move(headers);
  return r;
}

TEST(PagesTest, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(EscapeHtml(R"(<a href="x">'&'</a>)"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(EscapeHtml("plain"), "plain");
}

TEST(PagesTest, OnlySameOriginPostsPass) {
  EXPECT_TRUE(SameOrigin(Post({{"host", "id.example.org"}})));  // no browser headers: a script or curl
  EXPECT_TRUE(SameOrigin(Post({{"host", "id.example.org"}, {"origin", "https://id.example.org"}})));
  EXPECT_TRUE(SameOrigin(Post({{"host", "id.example.org"}, {"sec-fetch-site", "same-origin"}})));
  EXPECT_FALSE(SameOrigin(Post({{"host", "id.example.org"}, {"origin", "https://evil.example"}})));
  EXPECT_FALSE(SameOrigin(Post({{"host", "id.example.org"}, {"origin", "null"}})));
  EXPECT_FALSE(SameOrigin(Post({{"host", "id.example.org"}, {"sec-fetch-site", "cross-site"}})));
  EXPECT_FALSE(SameOrigin(Post({{"host", "id.example.org"}, {"sec-fetch-site", "same-site"}})));
}

TEST(PagesTest, ParsesFlatFormsAndRefusesMalformedOnes) {
  auto f = ParseForm("env=e1&token=ab%2Fc&password=a+b%26c&empty=");
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[1].second, "ab/c");
  EXPECT_EQ((*f)[2].second, "a b&c");
  EXPECT_EQ((*f)[3].second, "");
  EXPECT_FALSE(ParseForm("token=%zz").has_value());
  EXPECT_FALSE(ParseForm("token=a&token=b").has_value());  // given twice
  std::string many;
  for (int i = 0; i < 17; ++i) many += "k" + std::to_string(i) + "=v&";
  EXPECT_FALSE(ParseForm(many).has_value());
}

}  // namespace
}  // namespace roster::dialects::pages
