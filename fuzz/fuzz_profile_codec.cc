// The sealed profile codec (core/profile_codec.h): decoding any stored text never
// crashes, and for every user decode(encode(user)) == user. The user is built from the
// input: either decoded from it (any JSON a row may hold) or filled field by field.
#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_support.h"

namespace {

using namespace roster;

// Stored strings come from JSON (valid UTF-8) through the core's rules; keep to that.
std::string Utf8(FuzzedDataProvider& in) {
  std::string s = in.ConsumeRandomLengthString(40);
  boost::json::string js(s);
  std::string out = boost::json::serialize(boost::json::value(js));
  boost::system::error_code ec;
  auto v = boost::json::parse(out, ec);
  return !ec && v.is_string() ? std::string(v.get_string()) : std::string();
}

std::string JsonText(FuzzedDataProvider& in, bool object) {
  const std::string s = in.ConsumeRandomLengthString(60);
  boost::system::error_code ec;
  auto v = boost::json::parse(s, ec);
  if (ec || (object && !v.is_object())) return object ? "{}" : "null";
  return boost::json::serialize(v);
}

core::User Build(FuzzedDataProvider& in) {
  core::User u;
  u.username = Utf8(in);
  u.archived = in.ConsumeBool();
  u.external_id = Utf8(in);
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i) u.external_ids[Utf8(in)] = Utf8(in);
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i) u.attributes[Utf8(in)] = JsonText(in, false);
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i) u.dialect_json[Utf8(in)] = JsonText(in, true);
  core::Profile& p = u.profile;
  p.name = {Utf8(in), Utf8(in), Utf8(in), Utf8(in), Utf8(in), Utf8(in)};
  p.display_name = Utf8(in);
  p.nick_name = Utf8(in);
  p.title = Utf8(in);
  p.locale = Utf8(in);
  p.timezone = Utf8(in);
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i) p.emails.push_back({Utf8(in), Utf8(in), in.ConsumeBool()});
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i)
    p.phone_numbers.push_back({Utf8(in), Utf8(in), in.ConsumeBool()});
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i) {
    core::Address a{Utf8(in), Utf8(in), Utf8(in), Utf8(in), Utf8(in), Utf8(in), Utf8(in), std::nullopt};
    if (in.ConsumeBool())
      a.geocode = core::Geocode{in.ConsumeFloatingPointInRange(-90.0, 90.0), in.ConsumeFloatingPointInRange(-180.0, 180.0)};
    p.addresses.push_back(a);
  }
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i) p.photos.push_back({Utf8(in), Utf8(in)});
  p.enterprise = {Utf8(in), Utf8(in), Utf8(in), Utf8(in), Utf8(in), Utf8(in)};
  p.maiden_name = Utf8(in);
  p.birth_date = Utf8(in);
  p.ssn = Utf8(in);
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i) p.mrns.push_back({Utf8(in), Utf8(in)});
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i)
    p.health_plans.push_back({Utf8(in), Utf8(in), Utf8(in), Utf8(in), Utf8(in)});
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i) p.guardians.push_back({Utf8(in), Utf8(in)});
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i) p.languages.push_back({Utf8(in), Utf8(in)});
  for (int i = in.ConsumeIntegralInRange(0, 2); i > 0; --i) p.social_ids.push_back({Utf8(in), Utf8(in)});
  p.extras_json = JsonText(in, true);
  if (p.extras_json == "{}") p.extras_json.clear();
  return u;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (data[0] == '{') {
    // Any stored text: decoding never crashes, and what it decodes round-trips.
    core::User user;
    if (core::DecodeSealed(fuzz::Text(data, size), user)) fuzz::CheckStoredRoundTrip(user);
    return 0;
  }
  FuzzedDataProvider in(data, size);
  const core::User user = Build(in);
  // Only what a write accepts is stored: UserService checks CheckSealable before sealing
  // (a JSON value nested too deep, or a number beyond double's range such as 1e400, is
  // refused with a 4xx naming the field). So that is what must round-trip; the rest must
  // be refused, not dropped silently.
  if (!core::CheckSealable(user)) return 0;
  fuzz::CheckStoredRoundTrip(user);
  return 0;
}
