#include "query/filter.h"

#include <boost/json.hpp>

#include <cstdio>

#include "core/rules.h"

namespace roster::query {
namespace {

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A string literal as the filter grammar writes one (RFC 7644 §3.4.2.2: a JSON string),
// so control characters are escaped too and the text parses back.
std::string Quoted(std::string_view text) { return boost::json::serialize(boost::json::string(text)); }

std::string ToString(const Literal& v) {
  switch (v.kind) {
    case Literal::Kind::kNull:
      return "null";
    case Literal::Kind::kBool:
      return v.boolean ? "true" : "false";
    case Literal::Kind::kNumber: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", v.number);
      return buffer;
    }
    case Literal::Kind::kString:
      return Quoted(v.text);
  }
  return {};
}

Node Chain(Node::Kind kind, std::vector<Node> children) {
  if (children.size() == 1) return std::move(children.front());
  Node n;
  n.kind = kind;
  n.children = std::move(children);
  return n;
}

}  // namespace

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kEq: return "eq";
    case Op::kNe: return "ne";
    case Op::kCo: return "co";
    case Op::kSw: return "sw";
    case Op::kEw: return "ew";
    case Op::kGt: return "gt";
    case Op::kGe: return "ge";
    case Op::kLt: return "lt";
    case Op::kLe: return "le";
  }
  return "?";
}

Literal Null() { return {}; }
Literal Bool(bool value) {
  Literal v;
  v.kind = Literal::Kind::kBool;
  v.boolean = value;
  return v;
}
Literal Number(double value) {
  Literal v;
  v.kind = Literal::Kind::kNumber;
  v.number = value;
  return v;
}
Literal String(std::string text) {
  Literal v;
  v.kind = Literal::Kind::kString;
  v.folded = Fold(text);
  v.text = std::move(text);
  return v;
}

AttrPath Path(std::string_view dotted, std::string_view schema) {
  AttrPath p;
  p.schema = AsciiLower(schema);
  std::size_t start = 0;
  while (true) {
    const auto dot = dotted.find('.', start);
    p.names.push_back(AsciiLower(dotted.substr(start, dot == dotted.npos ? dotted.npos : dot - start)));
    if (dot == dotted.npos) break;
    start = dot + 1;
  }
  return p;
}

std::string ToString(const AttrPath& path) {
  std::string out = path.schema.empty() ? "" : path.schema + ":";
  for (std::size_t i = 0; i < path.names.size(); ++i) out += (i ? "." : "") + path.names[i];
  return out;
}

Node Compare(AttrPath path, Op op, Literal value) {
  Node n;
  n.kind = Node::Kind::kCompare;
  n.path = std::move(path);
  n.op = op;
  n.value = std::move(value);
  return n;
}
Node Present(AttrPath path) {
  Node n;
  n.kind = Node::Kind::kPresent;
  n.path = std::move(path);
  return n;
}
Node And(std::vector<Node> children) { return Chain(Node::Kind::kAnd, std::move(children)); }
Node Or(std::vector<Node> children) { return Chain(Node::Kind::kOr, std::move(children)); }
Node Not(Node child) {
  Node n;
  n.kind = Node::Kind::kNot;
  n.children.push_back(std::move(child));
  return n;
}
Node ValuePath(AttrPath path, Node filter) {
  Node n;
  n.kind = Node::Kind::kValuePath;
  n.path = std::move(path);
  n.children.push_back(std::move(filter));
  return n;
}

std::string Fold(std::string_view text) {
  if (text.empty()) return {};
  auto folded = core::FoldUsername(text);
  return folded ? std::move(*folded) : AsciiLower(text);
}

std::string ToString(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kCompare:
      return ToString(node.path) + " " + std::string(OpName(node.op)) + " " + ToString(node.value);
    case Node::Kind::kPresent:
      return ToString(node.path) + " pr";
    case Node::Kind::kAnd:
    case Node::Kind::kOr: {
      std::string out = "(";
      for (std::size_t i = 0; i < node.children.size(); ++i)
        out += (i ? (node.kind == Node::Kind::kAnd ? " and " : " or ") : "") + ToString(node.children[i]);
      return out + ")";
    }
    case Node::Kind::kNot:
      return "not (" + ToString(node.children.front()) + ")";
    case Node::Kind::kValuePath:
      return ToString(node.path) + "[" + ToString(node.children.front()) + "]";
  }
  return {};
}

}  // namespace roster::query
