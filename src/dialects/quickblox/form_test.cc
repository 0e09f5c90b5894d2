#include "dialects/quickblox/form.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

namespace roster::dialects::quickblox {
namespace {

namespace json = boost::json;
using core::ErrorCode;

json::object Parse(std::string_view input) {
  auto form = ParseForm(input);
  EXPECT_TRUE(form.has_value()) << input << ": " << (form ? "" : form.error().message);
  return form ? form->object : json::object();
}

// The error of a form that must be rejected.
core::Error Reject(std::string_view input) {
  auto form = ParseForm(input);
  EXPECT_FALSE(form.has_value()) << input << " was accepted: " << json::serialize(form->object);
  if (form) return {};
  EXPECT_EQ(form.error().code, ErrorCode::kInvalidArgument) << input;
  EXPECT_FALSE(form.error().message.empty()) << input;
  return form.error();
}

TEST(QuickbloxForm, EmptyInputIsAnEmptyObject) {
  auto form = ParseForm("");
  ASSERT_TRUE(form.has_value());
  EXPECT_TRUE(form->object.empty());
  EXPECT_TRUE(form->pairs.empty());
}

TEST(QuickbloxForm, EmptySegmentsAreSkipped) {
  EXPECT_TRUE(Parse("&").empty());
  EXPECT_TRUE(Parse("&&&").empty());
  EXPECT_EQ(Parse("a=1&&b=2&"), json::parse(R"({"a":"1","b":"2"})").as_object());
  auto form = ParseForm("&a=1&");
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(form->pairs.size(), 1u);
}

TEST(QuickbloxForm, ScalarPairs) {
  EXPECT_EQ(Parse("a=1"), json::parse(R"({"a":"1"})").as_object());
  EXPECT_EQ(Parse("login=alice1&password=Passw0rd!ice1"),
            json::parse(R"({"login":"alice1","password":"Passw0rd!ice1"})").as_object());
}

TEST(QuickbloxForm, LeafValuesAreAlwaysStrings) {
  const json::object o = Parse("n=1&b=true&z=null&f=1.5");
  for (const auto& [key, value] : o) EXPECT_TRUE(value.is_string()) << key;
  EXPECT_EQ(o.at("n").as_string(), "1");
  EXPECT_EQ(o.at("z").as_string(), "null");
}

TEST(QuickbloxForm, MissingOrEmptyValues) {
  EXPECT_EQ(Parse("a"), json::parse(R"({"a":""})").as_object());
  EXPECT_EQ(Parse("a="), json::parse(R"({"a":""})").as_object());
  EXPECT_EQ(Parse("a=b=c"), json::parse(R"({"a":"b=c"})").as_object());
  EXPECT_EQ(Parse("user[login]"), json::parse(R"({"user":{"login":""}})").as_object());
}

TEST(QuickbloxForm, NestedObject) {
  EXPECT_EQ(Parse("user[login]=x"), json::parse(R"({"user":{"login":"x"}})").as_object());
  EXPECT_EQ(Parse("user[login]=x&user[password]=y&z=1"),
            json::parse(R"({"user":{"login":"x","password":"y"},"z":"1"})").as_object());
}

TEST(QuickbloxForm, ArrayParameters) {
  EXPECT_EQ(Parse("filter[]=a&filter[]=b"), json::parse(R"({"filter":["a","b"]})").as_object());
  EXPECT_EQ(Parse("filter[]=a"), json::parse(R"({"filter":["a"]})").as_object());
  EXPECT_EQ(Parse("tags[]=t1%2Ct2"), json::parse(R"({"tags":["t1,t2"]})").as_object());
  EXPECT_EQ(Parse("filter[]="), json::parse(R"({"filter":[""]})").as_object());
}

TEST(QuickbloxForm, TwoLevelsOfNesting) {
  EXPECT_EQ(Parse("a[b][c]=1&a[b][d]=2&a[e]=3"),
            json::parse(R"({"a":{"b":{"c":"1","d":"2"},"e":"3"}})").as_object());
  EXPECT_EQ(Parse("a[b][]=1&a[b][]=2"), json::parse(R"({"a":{"b":["1","2"]}})").as_object());
}

TEST(QuickbloxForm, PercentDecodingAsTheSdkEncodes) {
  // encodeURIComponent: space is %20, '+' is %2B; !'()*~ stay raw.
  EXPECT_EQ(Parse("a=Test%20User%20alice1").at("a").as_string(), "Test User alice1");
  EXPECT_EQ(Parse("a=%2B15550001234").at("a").as_string(), "+15550001234");
  EXPECT_EQ(Parse("a=Passw0rd!(x)*'~").at("a").as_string(), "Passw0rd!(x)*'~");
  EXPECT_EQ(Parse("a=alice1%40example.com").at("a").as_string(), "alice1@example.com");
  EXPECT_EQ(Parse("a=%7b%22x%22%7D").at("a").as_string(), R"({"x"})");  // either hex case
}

TEST(QuickbloxForm, PlusIsASpace) {
  EXPECT_EQ(Parse("a=Test+User").at("a").as_string(), "Test User");
  EXPECT_EQ(Parse("a=1+%2B+1").at("a").as_string(), "1 + 1");
  EXPECT_EQ(Parse("filter[]=string+login+eq+x"),
            json::parse(R"({"filter":["string login eq x"]})").as_object());
  EXPECT_EQ(Parse("first+name=x"), json::parse(R"({"first name":"x"})").as_object());
}

TEST(QuickbloxForm, PercentEncodedBrackets) {
  EXPECT_EQ(Parse("user%5Blogin%5D=x"), json::parse(R"({"user":{"login":"x"}})").as_object());
  EXPECT_EQ(Parse("user%5blogin%5d=x"), json::parse(R"({"user":{"login":"x"}})").as_object());
  EXPECT_EQ(Parse("filter%5B%5D=a&filter[]=b"), json::parse(R"({"filter":["a","b"]})").as_object());
  auto form = ParseForm("user%5Blogin%5D=x");
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(form->pairs.at(0).key, "user[login]");  // decoded, as the signature needs
}

TEST(QuickbloxForm, Utf8IsAccepted) {
  EXPECT_EQ(Parse("a=%E2%82%AC").at("a").as_string(), "\xE2\x82\xAC");          // U+20AC
  EXPECT_EQ(Parse("a=%F0%9F%98%80").at("a").as_string(), "\xF0\x9F\x98\x80");   // U+1F600
  EXPECT_EQ(Parse("a=\xC3\xA9").at("a").as_string(), "\xC3\xA9");               // raw é
  EXPECT_EQ(Parse("%C3%A9=1"), json::parse("{\"\xC3\xA9\":\"1\"}").as_object());
  EXPECT_EQ(Parse("a=%F4%8F%BF%BF").at("a").as_string(), "\xF4\x8F\xBF\xBF");   // U+10FFFF
}

TEST(QuickbloxForm, SdkCreateUserBody) {
  // Verbatim body of QB.users.create (quickblox-sdk-requests.md, #2).
  const std::string body =
      "user[custom_data]=%7B%22plan%22%3A%22free%22%2C%22n%22%3A1%7D&user[email]=alice1%40example.com"
      "&user[external_user_id]=795342065&user[full_name]=Test%20User%20alice1&user[login]=alice1"
      "&user[password]=Passw0rd!ice1&user[phone]=%2B15550001234&user[tag_list]=alpha%2Cbeta"
      "&user[website]=https%3A%2F%2Fexample.com%2Falice1";
  auto form = ParseForm(body);
  ASSERT_TRUE(form.has_value()) << form.error().message;
  EXPECT_EQ(form->object, json::parse(R"({"user":{
      "custom_data":"{\"plan\":\"free\",\"n\":1}",
      "email":"alice1@example.com",
      "external_user_id":"795342065",
      "full_name":"Test User alice1",
      "login":"alice1",
      "password":"Passw0rd!ice1",
      "phone":"+15550001234",
      "tag_list":"alpha,beta",
      "website":"https://example.com/alice1"}})").as_object());
  ASSERT_EQ(form->pairs.size(), 9u);
  EXPECT_EQ(form->pairs.front(), (FormPair{"user[custom_data]", R"({"plan":"free","n":1})"}));
  EXPECT_EQ(form->pairs.back(), (FormPair{"user[website]", "https://example.com/alice1"}));
}

TEST(QuickbloxForm, SdkListUsersQuery) {
  EXPECT_EQ(Parse("filter[]=string%20login%20eq%20alice1&order=desc%20string%20created_at&page=1&per_page=10"),
            json::parse(R"({"filter":["string login eq alice1"],"order":"desc string created_at",
                            "page":"1","per_page":"10"})").as_object());
}

TEST(QuickbloxForm, SdkSessionBodyPairsKeepWireOrder) {
  auto form = ParseForm(
      "application_id=1&auth_key=local-auth-key&nonce=9949&signature=9b93418d973b5316491d81279ee9426129a08c44"
      "&timestamp=1795342065&user[login]=bob2&user[password]=Passw0rd!bob2");
  ASSERT_TRUE(form.has_value());
  const std::vector<FormPair> expected = {
      {"application_id", "1"},
      {"auth_key", "local-auth-key"},
      {"nonce", "9949"},
      {"signature", "9b93418d973b5316491d81279ee9426129a08c44"},
      {"timestamp", "1795342065"},
      {"user[login]", "bob2"},
      {"user[password]", "Passw0rd!bob2"},
  };
  EXPECT_EQ(form->pairs, expected);
  EXPECT_EQ(form->object.at("user").as_object().at("login").as_string(), "bob2");
}

TEST(QuickbloxForm, RejectsInvalidPercentEncoding) {
  Reject("a=%");
  Reject("a=%2");
  Reject("a=%zz");
  Reject("a=%G0");
  Reject("a=100%");
  Reject("%zz=1");
  Reject("user%5=1");
  EXPECT_EQ(Reject("user[login]=%").field, "user[login]");
}

TEST(QuickbloxForm, RejectsInvalidUtf8) {
  Reject("a=%FF");
  Reject("a=%80");                // lone continuation byte
  Reject("a=%C0%AF");             // overlong '/'
  Reject("a=%E0%80%AF");          // overlong, 3 bytes
  Reject("a=%ED%A0%80");          // UTF-16 surrogate D800
  Reject("a=%F4%90%80%80");       // above U+10FFFF
  Reject("a=%E2%82");             // truncated
  Reject("a=%C3%28");             // bad continuation
  Reject("a=\xFF");               // raw byte
  Reject("%FF=1");                // in the key
  EXPECT_EQ(Reject("name=%FF").field, "name");
}

TEST(QuickbloxForm, ErrorsNeverEchoTheValue) {
  const core::Error bad_escape = Reject("password=hunter2%zz");
  EXPECT_EQ(bad_escape.message.find("hunter2"), std::string::npos);
  const core::Error bad_utf8 = Reject("password=hunter2%FF");
  EXPECT_EQ(bad_utf8.message.find("hunter2"), std::string::npos);
}

TEST(QuickbloxForm, RejectsMoreThanTwoLevelsOfNesting) {
  const core::Error e = Reject("a[b][c][d]=1");
  EXPECT_EQ(e.field, "a[b][c][d]");
  EXPECT_NE(e.message.find("nested"), std::string::npos);
  Reject("a[b][c][]=1");
  Reject("a%5Bb%5D%5Bc%5D%5Bd%5D=1");
}

TEST(QuickbloxForm, RejectsMalformedKeys) {
  Reject("=1");
  Reject("=");
  Reject("[a]=1");
  Reject("[]=1");
  Reject("a[b=1");
  Reject("a]=1");
  Reject("a]b[c]=1");
  Reject("a[b]c=1");
  Reject("a[b[c]]=1");
  Reject("a[][b]=1");  // arrays of objects are not supported
  Reject("a[][]=1");
}

TEST(QuickbloxForm, AcceptsExactlyTheMaximumNumberOfPairs) {
  std::string input;
  for (std::size_t i = 0; i < kMaxFormPairs; ++i) input += "k" + std::to_string(i) + "=v&";
  auto form = ParseForm(input);
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(form->pairs.size(), kMaxFormPairs);
  EXPECT_EQ(form->object.size(), kMaxFormPairs);

  input += "one=more";
  const core::Error e = Reject(input);
  EXPECT_NE(e.message.find("256"), std::string::npos);
}

TEST(QuickbloxForm, PairLimitCountsArrayItems) {
  std::string input;
  for (std::size_t i = 0; i <= kMaxFormPairs; ++i) input += "f[]=x&";
  Reject(input);
}

TEST(QuickbloxForm, RejectsAKeyThatIsBothScalarAndObject) {
  EXPECT_EQ(Reject("a=1&a[b]=2").field, "a[b]");
  EXPECT_EQ(Reject("a[b]=2&a=1").field, "a");
  Reject("user[login]=x&user=y");
  Reject("a[b]=1&a[b][c]=2");
  Reject("a[b][c]=2&a[b]=1");
}

TEST(QuickbloxForm, RejectsAKeyThatIsBothListAndOtherwise) {
  Reject("a=1&a[]=2");
  Reject("a[]=1&a=2");
  Reject("a[b]=1&a[]=2");
  Reject("a[]=1&a[b]=2");
  Reject("a[b][]=1&a[b]=2");
}

TEST(QuickbloxForm, RejectsRepeatedKeys) {
  EXPECT_EQ(Reject("a=1&a=2").field, "a");
  EXPECT_EQ(Reject("user[login]=a&user[login]=b").field, "user[login]");
  Reject("a=1&a=1");
  Reject("user%5Blogin%5D=a&user[login]=b");  // the same key, spelled two ways
}

}  // namespace
}  // namespace roster::dialects::quickblox
