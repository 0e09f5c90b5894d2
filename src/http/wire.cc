#include "http/wire.h"

#include <string>

namespace roster::http {
namespace {

std::string Lower(std::string_view in) {
  std::string out(in);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

void Limit(RequestParser& parser, std::size_t body_limit) {
  parser.header_limit(kHeaderLimit);
  parser.body_limit(body_limit);
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

Request FromWire(WireRequest& message) {
  Request request;
  request.method = std::string(message.method_string());
  const std::string_view target = message.target();
  const std::size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != target.npos) request.query = std::string(target.substr(question + 1));
  for (const auto& field : message) {
    request.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  return request;
}

}  // namespace roster::http
