#include "core/json_policy.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>

namespace roster::core {
namespace json = boost::json;
namespace {

constexpr std::size_t kMaxFieldNames = 4;

// A decimal number as sign, significant digits (no leading or trailing zeros) and the
// exponent of its last digit; zero is {false, "", 0}.
struct Decimal {
  bool negative = false;
  std::string digits;
  std::int64_t exponent = 0;
  bool operator==(const Decimal&) const = default;
};

// Reads JSON's number grammar and the serializer's ("1.5E2"); nullopt for anything else
// ("Infinity", "NaN").
std::optional<Decimal> Normalize(std::string_view s) {
  Decimal d;
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') d.negative = true, ++i;
  std::int64_t exponent = 0;
  bool any = false, point = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      any = true;
      if (!(d.digits.empty() && c == '0')) d.digits.push_back(c);
      if (point) --exponent;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!any) return std::nullopt;
  if (i < s.size()) {
    if (s[i] != 'e' && s[i] != 'E') return std::nullopt;
    ++i;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i] == '-', ++i;
    if (i == s.size()) return std::nullopt;
    std::int64_t e = 0;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      if (e < 1'000'000'000) e = e * 10 + (s[i] - '0');  // saturates far beyond any double
    }
    exponent += negative ? -e : e;
  }
  // Leading zeros were never kept; a leading "0.00" still counted its places above.
  while (!d.digits.empty() && d.digits.back() == '0') d.digits.pop_back(), ++exponent;
  if (d.digits.empty()) return Decimal{};
  d.exponent = exponent;
  return d;
}

// The double a JSON number's text denotes, correctly rounded (std::from_chars); `d`, the
// parser's own reading, when the text is out of a double's range.
double ExactDouble(double d, std::string_view text) {
  double exact = 0;
  const char* end = text.data() + text.size();
  if (auto [ptr, err] = std::from_chars(text.data(), end, exact); err == std::errc{} && ptr == end) return exact;
  return d;
}

struct Frame {
  bool object = false;
  std::string key;  // the member being read, in an object
};

// A basic_parser handler that builds nothing: it checks depth and numbers and, on a
// breach, remembers where. The value itself is then built by json::parse.
class Checker {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::optional<JsonProblem> problem;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code& ec) { return Open(true, ec); }
  bool on_object_end(std::size_t, boost::system::error_code&) { return Close(); }
  bool on_array_begin(boost::system::error_code& ec) { return Open(false, ec); }
  bool on_array_end(std::size_t, boost::system::error_code&) { return Close(); }
  bool on_key_part(json::string_view part, std::size_t, boost::system::error_code&) {
    key_.append(part.data(), part.size());
    return true;
  }
  bool on_key(json::string_view part, std::size_t, boost::system::error_code&) {
    key_.append(part.data(), part.size());
    if (!stack_.empty()) stack_.back().key = std::move(key_);
    key_.clear();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_number_part(json::string_view part, boost::system::error_code&) {
    number_.append(part.data(), part.size());
    return true;
  }
  bool on_int64(std::int64_t, json::string_view, boost::system::error_code&) { return Number(); }
  bool on_uint64(std::uint64_t, json::string_view, boost::system::error_code&) { return Number(); }
  bool on_double(double d, json::string_view part, boost::system::error_code& ec) {
    number_.append(part.data(), part.size());
    const bool exact = DoubleKeepsText(ExactDouble(d, number_), number_);
    number_.clear();
    if (exact) return true;
    problem = JsonProblem{Path(), "holds a number a 64-bit float cannot keep exactly (send it as a string)"};
    ec = json::error::exception;  // any error: stops the parse
    return false;
  }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  bool Open(bool object, boost::system::error_code& ec) {
    if (stack_.size() + 1 > kMaxReceivedDepth) {
      problem = JsonProblem{Path(), "nests deeper than " + std::to_string(kMaxReceivedDepth) + " levels"};
      ec = json::error::too_deep;
      return false;
    }
    stack_.push_back(Frame{object, {}});
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }
  bool Number() {
    number_.clear();
    return true;
  }
  std::string Path() const {
    std::string path;
    std::size_t names = 0;
    for (const auto& f : stack_) {
      if (!f.object || f.key.empty()) continue;
      if (names++ == kMaxFieldNames) break;
      if (!path.empty()) path += '.';
      path += f.key;
    }
    return path.empty() ? "body" : path;
  }

  std::vector<Frame> stack_;
  std::string key_;
  std::string number_;
};

// A basic_parser handler that builds the value as json::parse does, but reads each
// floating-point number exactly (std::from_chars, correctly rounded) from its text:
// Boost.JSON 1.81's own conversion may be one ulp off, so a stored geocode or extras
// number read back would differ from the one written, and a received number a double
// holds exactly could be refused as inexact.
class ExactBuilder {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  ExactBuilder() { st.reset(); }
  json::value_stack st;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) { return true; }
  bool on_object_end(std::size_t n, boost::system::error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t n, boost::system::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view part, boost::system::error_code&) {
    number_.append(part.data(), part.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, boost::system::error_code&) {
    number_.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, boost::system::error_code&) {
    number_.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view part, boost::system::error_code&) {
    number_.append(part.data(), part.size());
    st.push_double(ExactDouble(d, number_));
    number_.clear();
    return true;
  }
  bool on_bool(bool b, boost::system::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(boost::system::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  std::string number_;
};

// json::parse with exact floating-point numbers (ExactBuilder).
json::value ParseExact(std::string_view text, std::size_t max_depth, boost::system::error_code& ec) {
  json::parse_options options;
  options.max_depth = max_depth;
  json::basic_parser<ExactBuilder> p(options);
  const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = json::error::extra_data;
  if (ec) return nullptr;
  return p.handler().st.release();
}

std::size_t Depth(const json::value& v, std::size_t limit) {
  // Iterative: a value from anywhere is measured without recursion.
  std::size_t deepest = 0;
  std::vector<std::pair<const json::value*, std::size_t>> todo{{&v, 0}};
  while (!todo.empty()) {
    auto [value, depth] = todo.back();
    todo.pop_back();
    if (value->is_object()) {
      deepest = std::max(deepest, depth + 1);
      if (deepest > limit) return deepest;
      for (const auto& [k, child] : value->get_object()) todo.emplace_back(&child, depth + 1);
    } else if (value->is_array()) {
      deepest = std::max(deepest, depth + 1);
      if (deepest > limit) return deepest;
      for (const auto& child : value->get_array()) todo.emplace_back(&child, depth + 1);
    }
  }
  return deepest;
}

}  // namespace

bool DoubleKeepsText(double d, std::string_view text) {
  if (!std::isfinite(d)) return false;
  const auto sent = Normalize(text);
  const auto kept = Normalize(json::serialize(json::value(d)));
  return sent && kept && *sent == *kept;
}

std::expected<json::value, JsonProblem> ParseReceived(std::string_view text) {
  json::parse_options options;
  options.max_depth = kMaxReceivedDepth + 1;  // the checker stops first, naming the field
  json::basic_parser<Checker> checker(options);
  boost::system::error_code ec;
  checker.write_some(false, text.data(), text.size(), ec);
  if (auto& problem = checker.handler().problem) return std::unexpected(std::move(*problem));
  if (ec) return std::unexpected(JsonProblem{"body", "is not valid JSON"});
  json::value v = ParseExact(text, kMaxReceivedDepth, ec);
  if (ec) return std::unexpected(JsonProblem{"body", "is not valid JSON"});
  return v;
}

std::expected<json::value, boost::system::error_code> ParseStored(std::string_view text) {
  boost::system::error_code ec;
  json::value v = ParseStored(text, ec);
  if (ec) return std::unexpected(ec);
  return v;
}

json::value ParseStored(std::string_view text, boost::system::error_code& ec) {
  return ParseExact(text, kMaxStoredDepth, ec);
}

std::size_t JsonDepth(const json::value& v) { return Depth(v, std::size_t(-1)); }

Status CheckStoredValue(const json::value& v, const std::string& field) {
  if (Depth(v, kMaxValueDepth) > kMaxValueDepth)
    return InvalidArgument(field, field + " nests deeper than " + std::to_string(kMaxValueDepth) + " levels");
  return {};
}

Status CheckStoredDocument(const json::object& document) {
  for (const auto& [key, value] : document)
    if (Depth(value, kMaxStoredDepth) + 1 > kMaxStoredDepth)
      return InvalidArgument(std::string(key), std::string(key) + " nests deeper than " +
                                                   std::to_string(kMaxStoredDepth - 1) + " levels");
  return {};
}

Status CheckStoredText(std::string_view text, const std::string& field) {
  if (text.empty()) return {};
  auto v = ParseStored(text);
  if (!v) return InvalidArgument(field, field + " is not JSON a store can keep");
  return CheckStoredValue(*v, field);
}

}  // namespace roster::core
