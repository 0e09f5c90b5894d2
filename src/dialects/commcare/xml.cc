#include "dialects/commcare/xml.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <optional>
#include <vector>

#include "dialects/commcare/mapping.h"

namespace roster::dialects::commcare {
namespace json = boost::json;

namespace {

// lxml takes a tag that is an XML NCName; anything else it refuses (a 500 on CommCare).
bool IsXmlName(std::string_view name) {
  if (name.empty()) return false;
  const auto start = [](unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; };
  if (!start(static_cast<unsigned char>(name.front()))) return false;
  for (unsigned char c : name)
    if (!(start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  return true;
}

// Escaped as libxml2 escapes text; characters XML 1.0 cannot hold become U+FFFD.
void AppendText(std::string& out, std::string_view text) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '&': out += "&amp;"; continue;
      case '<': out += "&lt;"; continue;
      case '>': out += "&gt;"; continue;
      case '\r': out += "&#13;"; continue;
      case '\t':
      case '\n': out.push_back(static_cast<char>(c)); continue;
      default: break;
    }
    if (c < 0x20) {
      out += kReplacement;
    } else if (c == 0xEF && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xBF &&
               (static_cast<unsigned char>(text[i + 2]) == 0xBE || static_cast<unsigned char>(text[i + 2]) == 0xBF)) {
      out += kReplacement;  // U+FFFE, U+FFFF
      i += 2;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// Python's str() of a float: the shortest repr, with ".0" when it reads as an integer
// (to_chars picks scientific notation by length, where Python by exponent: they can
// differ for numbers over 1e15).
std::string PythonFloat(double d) {
  char buffer[64];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;
  std::string s(buffer, end);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

struct Node {
  std::string tag;
  std::string type;  // the `type` attribute; empty: none
  std::optional<std::string> text;
  std::vector<Node> children;
};

// tastypie's to_etree: `name` empty means None.
Node ToEtree(const json::value& v, std::string_view name, int depth) {
  Node n;
  const auto sorted = [](std::vector<Node>& children) {
    std::stable_sort(children.begin(), children.end(), [](const Node& a, const Node& b) { return a.tag < b.tag; });
  };
  if (v.is_array()) {
    n.tag = name.empty() ? "objects" : std::string(name);
    if (!name.empty()) n.type = "list";
    for (const auto& item : v.get_array()) n.children.push_back(ToEtree(item, "", depth + 1));
    sorted(n.children);
  } else if (v.is_object()) {
    n.tag = !name.empty() ? std::string(name) : depth == 0 ? "response" : "object";
    if (depth != 0) n.type = "hash";
    for (const auto& [key, value] : v.get_object())
      if (IsXmlName(key)) n.children.push_back(ToEtree(value, key, depth + 1));
    sorted(n.children);
  } else {
    n.tag = name.empty() ? "value" : std::string(name);
    if (v.is_string()) {
      n.text = std::string(v.get_string());
    } else if (v.is_bool()) {
      n.type = "boolean";
      n.text = v.get_bool() ? "True" : "False";
    } else if (v.is_int64()) {
      n.type = "integer";
      n.text = std::to_string(v.get_int64());
    } else if (v.is_uint64()) {
      n.type = "integer";
      n.text = std::to_string(v.get_uint64());
    } else if (v.is_double()) {
      n.type = "float";
      n.text = PythonFloat(v.get_double());
    } else {
      n.type = "null";
    }
  }
  return n;
}

// lxml's tostring: an element without text or children is self-closed.
void Write(std::string& out, const Node& n) {
  out += "<" + n.tag;
  if (!n.type.empty()) out += " type=\"" + n.type + "\"";
  if (!n.text && n.children.empty()) {
    out += "/>";
    return;
  }
  out += ">";
  if (n.text) AppendText(out, *n.text);
  for (const auto& child : n.children) Write(out, child);
  out += "</" + n.tag + ">";
}

// The q of the Accept entry that best names `types` (exact, then type/*, then */*); -1: none.
double AcceptQuality(std::string_view accept, std::initializer_list<std::string_view> types) {
  double best = -1;
  int best_specificity = -1;
  std::size_t i = 0;
  while (i <= accept.size()) {
    std::size_t comma = accept.find(',', i);
    if (comma == std::string_view::npos) comma = accept.size();
    std::string_view entry = accept.substr(i, comma - i);
    i = comma + 1;
    const std::size_t semi = entry.find(';');
    std::string_view range = entry.substr(0, semi);
    while (!range.empty() && range.front() == ' ') range.remove_prefix(1);
    while (!range.empty() && range.back() == ' ') range.remove_suffix(1);
    double q = 1;
    if (semi != std::string_view::npos) {
      const std::size_t at = entry.find("q=", semi);
      if (at != std::string_view::npos) {
        std::string text(entry.substr(at + 2));
        try {
          q = std::stod(text);
        } catch (...) {
          q = 0;
        }
      }
    }
    for (const auto type : types) {
      int specificity = -1;
      if (range == type) specificity = 2;
      else if (range == "*/*") specificity = 0;
      else if (range.ends_with("/*") && type.starts_with(range.substr(0, range.size() - 1))) specificity = 1;
      if (specificity > best_specificity) {
        best_specificity = specificity;
        best = q;
      }
    }
  }
  return best;
}

}  // namespace

std::string TastypieXml(const json::value& value) {
  std::string out = "<?xml version='1.0' encoding='utf-8'?>\n";
  Write(out, ToEtree(value, "", 0));
  return out;
}

bool WantsXml(const http::Request& req) {
  const auto query = ParseQuery(req.query);
  if (auto format = QueryValue(query, "format")) return *format == "xml";
  const std::string_view accept = req.Header("accept");
  if (accept.empty()) return false;
  return AcceptQuality(accept, {"application/xml", "text/xml"}) > AcceptQuality(accept, {"application/json"});
}

http::Response AsRequested(const http::Request& req, http::Response r) {
  if (!r.content_type.starts_with("application/json") || r.body.empty() || !WantsXml(req)) return r;
  boost::system::error_code ec;
  const json::value value = json::parse(r.body, ec);
  if (ec) return r;
  r.body = TastypieXml(value);
  r.content_type = "application/xml; charset=utf-8";
  return r;
}

}  // namespace roster::dialects::commcare
