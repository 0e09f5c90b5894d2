#include "dialects/quickblox/form.h"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/pct_string_view.hpp>

#include <cstdint>
#include <utility>

namespace roster::dialects::quickblox {
namespace {

using core::InvalidArgument;
using core::Result;
using core::Status;

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool ValidUtf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      length = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;  // a continuation byte, or 0xF8..0xFF
    }
    if (n - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto cc = static_cast<std::uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

// Percent-decodes one key or value ('+' is a space) and checks it is UTF-8.
// `what` is "key" or "value"; `field` names the key in errors (empty while decoding it).
Result<std::string> Decode(std::string_view raw, std::string_view what, const std::string& field) {
  auto pct = boost::urls::make_pct_string_view(raw);
  if (!pct) {
    return InvalidArgument(field, "invalid percent-encoding in a form " + std::string(what) +
                                      " (every '%' must start a %XX escape)");
  }
  std::string out = pct->decode(boost::urls::encoding_opts(/*space_as_plus=*/true));
  if (!ValidUtf8(out)) {
    return InvalidArgument(field, "form " + std::string(what) + " is not valid UTF-8");
  }
  return out;
}

// "user[login]" -> {"user", "login"}; "filter[]" -> {"filter", ""}.
Result<std::vector<std::string_view>> SplitKey(std::string_view key) {
  const std::string field(key);
  std::vector<std::string_view> path;
  const std::size_t open = key.find('[');
  const std::string_view name = key.substr(0, open);
  if (name.empty()) return InvalidArgument(field, "form parameter has an empty name");
  if (name.find(']') != std::string_view::npos) {
    return InvalidArgument(field, "form parameter name has an unmatched ']'");
  }
  path.push_back(name);
  std::size_t pos = open;
  while (pos != std::string_view::npos && pos < key.size()) {
    if (key[pos] != '[') {
      return InvalidArgument(field, "form parameter name has text after a closing ']'");
    }
    const std::size_t close = key.find(']', pos + 1);
    if (close == std::string_view::npos) {
      return InvalidArgument(field, "form parameter name has an unmatched '['");
    }
    const std::string_view sub = key.substr(pos + 1, close - pos - 1);
    if (sub.find('[') != std::string_view::npos) {
      return InvalidArgument(field, "form parameter name has a '[' inside brackets");
    }
    if (path.size() > 1 && path.back().empty()) {
      return InvalidArgument(field, "'[]' is only allowed at the end of a form parameter name");
    }
    if (path.size() - 1 == kMaxFormNesting) {
      return InvalidArgument(field, "form parameter is nested more than " +
                                        std::to_string(kMaxFormNesting) + " levels deep");
    }
    path.push_back(sub);
    pos = close + 1;
  }
  return path;
}

// Stores one decoded pair into `root` following its bracket path.
Status Insert(boost::json::object& root, const std::string& key, std::string value) {
  auto split = SplitKey(key);
  if (!split) return std::unexpected(split.error());
  std::vector<std::string_view>& path = *split;
  const bool append = path.size() > 1 && path.back().empty();
  if (append) path.pop_back();

  boost::json::object* object = &root;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    auto [it, inserted] = object->emplace(path[i], boost::json::object());
    if (it->value().is_array()) {
      return InvalidArgument(key, "form parameter is given both as a list ('[]') and otherwise");
    }
    if (!it->value().is_object()) {
      return InvalidArgument(key, "form parameter is given both as a value and with sub-keys");
    }
    object = &it->value().as_object();
  }

  const std::string_view last = path.back();
  if (append) {
    auto [it, inserted] = object->emplace(last, boost::json::array());
    if (!it->value().is_array()) {
      return InvalidArgument(key, "form parameter is given both as a list ('[]') and otherwise");
    }
    it->value().as_array().emplace_back(boost::json::string(value));
    return {};
  }
  auto [it, inserted] = object->emplace(last, boost::json::string(value));
  if (inserted) return {};
  if (it->value().is_string()) return InvalidArgument(key, "form parameter is given more than once");
  if (it->value().is_array()) {
    return InvalidArgument(key, "form parameter is given both as a list ('[]') and otherwise");
  }
  return InvalidArgument(key, "form parameter is given both as a value and with sub-keys");
}

}  // namespace

Result<ParsedForm> ParseForm(std::string_view input) {
  ParsedForm form;
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('&', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view segment = input.substr(start, end - start);
    start = end + 1;
    if (segment.empty()) continue;
    if (form.pairs.size() == kMaxFormPairs) {
      return InvalidArgument("", "form has more than " + std::to_string(kMaxFormPairs) +
                                     " parameters");
    }
    const std::size_t eq = segment.find('=');
    const std::string_view raw_key = segment.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : segment.substr(eq + 1);

    auto key = Decode(raw_key, "key", "");
    if (!key) return std::unexpected(key.error());
    auto value = Decode(raw_value, "value", *key);
    if (!value) return std::unexpected(value.error());
    if (auto stored = Insert(form.object, *key, *value); !stored) {
      return std::unexpected(stored.error());
    }
    form.pairs.push_back(FormPair{std::move(*key), std::move(*value)});
  }
  return form;
}

}  // namespace roster::dialects::quickblox
