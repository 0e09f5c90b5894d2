#include "http/etag.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace roster::http {
namespace {

constexpr std::string_view kField = "If-Match";

core::Error Malformed() {
  return core::Error{core::ErrorCode::kInvalidArgument,
                     "If-Match must be * or a comma-separated list of entity tags such as W/\"3\"",
                     std::string(kField)};
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

// etagc = %x21 / %x23-7E / obs-text
bool IsEtagChar(unsigned char c) { return c == 0x21 || (c >= 0x23 && c != 0x7F); }

// A version is a decimal number without sign or leading zero, as WeakETag writes it.
std::optional<std::int64_t> VersionOf(std::string_view opaque) {
  if (opaque.empty() || opaque.size() > 18 || opaque.front() == '0') return std::nullopt;
  if (!std::all_of(opaque.begin(), opaque.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(opaque.data(), opaque.data() + opaque.size(), v);
  if (ec != std::errc() || ptr != opaque.data() + opaque.size()) return std::nullopt;
  return v;
}

// Adds the entity tags of one field value to `out`; false if malformed.
bool ParseList(std::string_view s, IfMatch& out, bool& star, bool& any_tag) {
  std::size_t i = 0;
  for (;;) {
    while (i < s.size() && (IsOws(s[i]) || s[i] == ',')) ++i;  // empty elements are ignored
    if (i == s.size()) return true;
    if (s[i] == '*') {
      star = true;
      ++i;
    } else {
      if (s.substr(i, 2) == "W/") i += 2;
      if (i == s.size() || s[i] != '"') return false;
      const std::size_t start = ++i;
      while (i < s.size() && IsEtagChar(static_cast<unsigned char>(s[i]))) ++i;
      if (i == s.size() || s[i] != '"') return false;
      if (auto v = VersionOf(s.substr(start, i - start))) out.versions.push_back(*v);
      any_tag = true;
      ++i;
    }
    while (i < s.size() && IsOws(s[i])) ++i;
    if (i < s.size() && s[i] != ',') return false;
  }
}

}  // namespace

std::string WeakETag(std::int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

void SetETag(Response& response, std::int64_t version) { response.headers.emplace_back("ETag", WeakETag(version)); }

Response WithETag(Response response, std::int64_t version) {
  if (response.status < 300) SetETag(response, version);
  return response;
}

bool IfMatch::Matches(std::int64_t version) const {
  return any || std::find(versions.begin(), versions.end(), version) != versions.end();
}

core::Result<std::optional<IfMatch>> ParseIfMatch(const Request& request) {
  IfMatch out;
  bool present = false, star = false, any_tag = false;
  for (const auto& [name, value] : request.headers) {
    if (name != "if-match") continue;
    present = true;
    if (!ParseList(value, out, star, any_tag)) return std::unexpected(Malformed());
  }
  if (!present) return std::optional<IfMatch>();
  if (star && any_tag) return std::unexpected(Malformed());  // "*" stands alone
  out.any = star;
  return std::optional<IfMatch>(std::move(out));
}

core::Result<std::optional<std::int64_t>> ExpectedVersion(const Request& request,
                                                          const std::function<core::Result<std::int64_t>()>& current) {
  auto parsed = ParseIfMatch(request);
  if (!parsed) return std::unexpected(parsed.error());
  if (!*parsed || (*parsed)->any) return std::optional<std::int64_t>();
  const IfMatch& m = **parsed;
  if (m.versions.empty()) return std::optional<std::int64_t>(0);
  if (std::all_of(m.versions.begin(), m.versions.end(), [&](std::int64_t v) { return v == m.versions.front(); }))
    return std::optional<std::int64_t>(m.versions.front());
  auto now = current();
  if (!now) return std::unexpected(now.error());
  return std::optional<std::int64_t>(m.Matches(*now) ? *now : m.versions.front());
}

}  // namespace roster::http
