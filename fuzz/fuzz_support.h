// Shared by the fuzz targets: the input as text, a sample user and directory schema for
// decoders to write into, and the check that what a decoder accepted can be stored and
// read back (the sealed profile codec round trip).
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/profile_codec.h"
#include "core/schema.h"
#include "core/user.h"
#include "http/message.h"

namespace roster::fuzz {

inline std::string_view Text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Stops the run with a finding libFuzzer reports with its reproducer.
[[noreturn]] inline void Finding(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "FINDING: %s %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline http::Request JsonRequest(std::string_view body, std::string_view content_type = "application/json") {
  http::Request req;
  req.method = "POST";
  req.path = "/";
  req.headers.emplace_back("content-type", std::string(content_type));
  req.body = std::string(body);
  return req;
}

// A user with a little of everything, as stored.
inline core::User SampleUser() {
  core::User u;
  u.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  u.number = 7;
  u.environment_id = "c2c2b4f8-ab3a-4b2e-9b1e-6d2f5d5b0b11";
  u.username = "ada";
  u.profile.name.given_name = "Ada";
  u.profile.name.family_name = "Lovelace";
  u.profile.emails = {{"work", "ada@example.com", true}};
  u.profile.phone_numbers = {{"mobile", "+14155550100", false}};
  u.profile.addresses = {{"home", "1 Main", "", "Milwaukee", "WI", "53202", "US", core::Geocode{1.5, -2.25}}};
  u.profile.birth_date = "1815-12-10";
  u.profile.extras_json = R"({"a":[1,2,{"b":null}]})";
  u.attributes["a1"] = R"("blue")";
  u.external_ids["facebook"] = "8887366";
  u.dialect_json["quickblox"] = R"({"tag_list":"a,b"})";
  return u;
}

// The environment's declared attributes: one of each type and rule.
inline const core::AttributeSchema& SampleSchema() {
  static const core::AttributeSchema schema = [] {
    core::AttributeSchema s;
    core::AttributeDefinition color;
    color.id = "a1";
    color.name = "color";
    color.type = "STRING";
    color.enumerated = {{"blue", "Blue", false}, {"red", "Red", true}};
    core::AttributeDefinition prefs;
    prefs.id = "a2";
    prefs.name = "prefs";
    prefs.type = "JSON";
    core::AttributeDefinition vip;
    vip.id = "a3";
    vip.name = "vip";
    vip.type = "BOOLEAN";
    core::AttributeDefinition tags;
    tags.id = "a4";
    tags.name = "tags";
    tags.type = "STRING";
    tags.multi_valued = true;
    tags.unique = true;
    core::AttributeDefinition off;
    off.id = "a5";
    off.name = "off";
    off.type = "STRING";
    off.enabled = false;
    s.attributes = {color, prefs, vip, tags, off};
    return s;
  }();
  return schema;
}

// What a decoder accepted into `user` can be stored and read back unchanged.
inline void CheckStoredRoundTrip(const core::User& user) {
  const std::string sealed = core::EncodeSealed(user);
  core::User back;
  if (!core::DecodeSealed(sealed, back)) Finding("sealed profile does not decode", sealed);
  if (back.username != user.username) Finding("username changed by the round trip");
  if (back.profile != user.profile) Finding("profile changed by the round trip", sealed);
  if (back.archived != user.archived || back.external_id != user.external_id ||
      back.external_ids != user.external_ids)
    Finding("external ids or archive changed by the round trip", sealed);
  if (back.attributes != user.attributes) Finding("attributes changed by the round trip", sealed);
  if (back.dialect_json != user.dialect_json) Finding("dialect data changed by the round trip", sealed);
}

}  // namespace roster::fuzz
