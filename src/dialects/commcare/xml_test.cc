#include "dialects/commcare/xml.h"

#include <gtest/gtest.h>

namespace roster::dialects::commcare {
namespace {

namespace json = boost::json;

http::Request RequestWith(std::string query, std::string accept = "") {
  http::Request req;
  req.method = "GET";
  req.path = "/a/demo/api/v0.5/user/";
  req.query = std::move(query);
  if (!accept.empty()) req.headers.emplace_back("accept", std::move(accept));
  return req;
}

// A Tastypie list envelope, as tastypie's to_xml renders it (children sorted by tag,
// scalars typed, strings untyped, null self-closed).
TEST(TastypieXmlTest, RendersTheListEnvelopeAsTastypie) {
  const auto value = json::parse(R"({
    "meta": {"limit": 20, "next": null, "offset": 0, "previous": null, "total_count": 1},
    "objects": [{"username": "jdoe@demo.commcarehq.org", "is_active": true, "groups": ["g1", "g2"],
                 "user_data": {"chw_id": "13/43", "1st": "dropped", "a b": "dropped"}, "email": "",
                 "primary_location": null, "ratio": 1.5, "whole": 2.0}]
  })");
  EXPECT_EQ(TastypieXml(value),
            "<?xml version='1.0' encoding='utf-8'?>\n"
            "<response><meta type=\"hash\"><limit type=\"integer\">20</limit><next type=\"null\"/>"
            "<offset type=\"integer\">0</offset><previous type=\"null\"/>"
            "<total_count type=\"integer\">1</total_count></meta>"
            "<objects type=\"list\"><object type=\"hash\"><email></email>"
            "<groups type=\"list\"><value>g1</value><value>g2</value></groups>"
            "<is_active type=\"boolean\">True</is_active><primary_location type=\"null\"/>"
            "<ratio type=\"float\">1.5</ratio>"
            "<user_data type=\"hash\"><chw_id>13/43</chw_id></user_data>"
            "<username>jdoe@demo.commcarehq.org</username><whole type=\"float\">2.0</whole>"
            "</object></objects></response>");
}

TEST(TastypieXmlTest, EscapesTextAndReplacesWhatXmlCannotHold) {
  EXPECT_EQ(TastypieXml(json::parse(R"({"error": "a<b & c>d \"q\"\u0001\r"})")),
            "<?xml version='1.0' encoding='utf-8'?>\n"
            "<response><error>a&lt;b &amp; c&gt;d \"q\"\xEF\xBF\xBD&#13;</error></response>");
  EXPECT_EQ(TastypieXml(json::parse(R"({"empty": [], "nested": [[1], {}]})")),
            "<?xml version='1.0' encoding='utf-8'?>\n"
            "<response><empty type=\"list\"/><nested type=\"list\"><object type=\"hash\"/>"
            "<objects><value type=\"integer\">1</value></objects></nested></response>");
}

TEST(TastypieXmlTest, FormatParameterOrAcceptHeaderAsksForXml) {
  EXPECT_TRUE(WantsXml(RequestWith("format=xml")));
  EXPECT_FALSE(WantsXml(RequestWith("format=json", "application/xml")));
  EXPECT_FALSE(WantsXml(RequestWith("")));
  EXPECT_TRUE(WantsXml(RequestWith("", "application/xml")));
  EXPECT_TRUE(WantsXml(RequestWith("limit=1", "text/xml, application/json;q=0.5")));
  EXPECT_FALSE(WantsXml(RequestWith("", "application/json, application/xml")));  // a tie: JSON
  EXPECT_FALSE(WantsXml(RequestWith("", "*/*")));
  http::Response json_answer = http::Response::Json(200, R"({"id": "x"})");
  auto xml = AsRequested(RequestWith("format=xml"), json_answer);
  EXPECT_EQ(xml.content_type, "application/xml; charset=utf-8");
  EXPECT_EQ(xml.body, "<?xml version='1.0' encoding='utf-8'?>\n<response><id>x</id></response>");
  EXPECT_EQ(AsRequested(RequestWith(""), json_answer).body, json_answer.body);
}

}  // namespace
}  // namespace roster::dialects::commcare
