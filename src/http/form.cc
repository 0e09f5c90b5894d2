#include "http/form.h"

namespace roster::http {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> Decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size() || Hex(in[i + 1]) < 0 || Hex(in[i + 2]) < 0) return std::nullopt;
      out.push_back(static_cast<char>(Hex(in[i + 1]) * 16 + Hex(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

bool SameOrigin(const http::Request& req) {
  const std::string_view site = req.Header("sec-fetch-site");
  if (!site.empty() && site != "same-origin" && site != "none") return false;
  const std::string_view origin = req.Header("origin");
  if (origin.empty()) return true;  // a browser sends Sec-Fetch-Site or Origin on a cross-site POST
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;  // includes "null"
  const std::string_view host = req.Header("host");
  return !host.empty() && origin.substr(scheme_end + 3) == host;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body,
                                                                         std::size_t max_fields) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (out.size() == max_fields) return std::nullopt;
    const auto eq = pair.find('=');
    auto key = Decode(pair.substr(0, eq));
    auto value = Decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value) return std::nullopt;
    for (const auto& [k, v] : out)
      if (k == *key) return std::nullopt;  // a field given twice is not ours
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

}  // namespace roster::http
