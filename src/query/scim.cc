#include "query/scim.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cmath>
#include <optional>
#include <string>

namespace roster::query {
namespace {

namespace json = boost::json;

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Lower(c);
  return out;
}
bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) {
  return IsAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '$';
}
bool IsNumberChar(char c) { return IsDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'; }

// Words are echoed in messages to help the caller, but only briefly.
std::string Quote(std::string_view word) {
  constexpr std::size_t kMax = 40;
  return "'" + std::string(word.substr(0, kMax)) + (word.size() > kMax ? "...'" : "'");
}
std::string At(std::size_t position) { return " at position " + std::to_string(position); }
std::unexpected<core::Error> Invalid(std::string message) {
  return core::InvalidArgument("filter", std::move(message));
}

struct Token {
  enum class Kind { kEnd, kOpen, kClose, kOpenBracket, kCloseBracket, kWord, kString, kNumber };
  Kind kind = Kind::kEnd;
  std::string_view text;  // as written (strings with their quotes)
  std::size_t position = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  core::Result<Token> Peek() {
    if (!peeked_) {
      auto token = Scan();
      if (!token) return token;
      peeked_ = *token;
    }
    return *peeked_;
  }
  core::Result<Token> Next() {
    auto token = Peek();
    peeked_.reset();
    return token;
  }

 private:
  core::Result<Token> Scan() {
    while (pos_ < input_.size() &&
           (input_[pos_] == ' ' || input_[pos_] == '\t' || input_[pos_] == '\r' || input_[pos_] == '\n'))
      ++pos_;
    const std::size_t start = pos_;
    if (pos_ == input_.size()) return Token{Token::Kind::kEnd, {}, start};
    const char c = input_[pos_];
    auto single = [&](Token::Kind kind) {
      ++pos_;
      return Token{kind, input_.substr(start, 1), start};
    };
    if (c == '(') return single(Token::Kind::kOpen);
    if (c == ')') return single(Token::Kind::kClose);
    if (c == '[') return single(Token::Kind::kOpenBracket);
    if (c == ']') return single(Token::Kind::kCloseBracket);
    if (c == '"') {
      ++pos_;
      while (pos_ < input_.size() && input_[pos_] != '"') pos_ += input_[pos_] == '\\' ? 2 : 1;
      if (pos_ >= input_.size()) return Invalid("unterminated string" + At(start));
      ++pos_;
      return Token{Token::Kind::kString, input_.substr(start, pos_ - start), start};
    }
    if (IsDigit(c) || c == '-') {
      while (pos_ < input_.size() && IsNumberChar(input_[pos_])) ++pos_;
      return Token{Token::Kind::kNumber, input_.substr(start, pos_ - start), start};
    }
    if (IsAlpha(c) || c == '$') {
      while (pos_ < input_.size() && IsWordChar(input_[pos_])) ++pos_;
      return Token{Token::Kind::kWord, input_.substr(start, pos_ - start), start};
    }
    const bool printable = c > 0x20 && c < 0x7f;
    return Invalid("unexpected character" + (printable ? " " + Quote(std::string_view(&c, 1)) : "") + At(start));
  }

  std::string_view input_;
  std::size_t pos_ = 0;
  std::optional<Token> peeked_;
};

bool IsKeyword(const Token& token, std::string_view keyword) {
  return token.kind == Token::Kind::kWord && Lower(token.text) == keyword;
}

std::optional<Op> ParseOp(std::string_view word) {
  static constexpr Op kAll[] = {Op::kEq, Op::kNe, Op::kCo, Op::kSw, Op::kEw, Op::kGt, Op::kGe, Op::kLt, Op::kLe};
  const std::string lower = Lower(word);
  for (Op op : kAll)
    if (OpName(op) == lower) return op;
  return std::nullopt;
}

// ATTRNAME: ALPHA *(ALPHA / DIGIT / "-" / "_"), or "$ref".
bool IsAttrName(std::string_view name) {
  if (name == "$ref") return true;
  if (name.empty() || !IsAlpha(name[0])) return false;
  for (char c : name)
    if (!IsAlpha(c) && !IsDigit(c) && c != '-' && c != '_') return false;
  return true;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseLimits& limits) : lexer_(text), limits_(limits) {}

  core::Result<Node> Parse() {
    auto first = lexer_.Peek();
    if (!first) return std::unexpected(first.error());
    if (first->kind == Token::Kind::kEnd) return Invalid("filter is empty");
    auto filter = ParseOr(0, false);
    if (!filter) return filter;
    auto rest = lexer_.Next();
    if (!rest) return std::unexpected(rest.error());
    if (rest->kind == Token::Kind::kClose) return Invalid("unbalanced ')'" + At(rest->position));
    if (rest->kind == Token::Kind::kCloseBracket) return Invalid("unbalanced ']'" + At(rest->position));
    if (rest->kind != Token::Kind::kEnd) return Invalid("expected 'and' or 'or'" + At(rest->position));
    return filter;
  }

 private:
  // `inside`: within a value path's brackets (attributes are sub-attributes there).
  core::Result<Node> ParseOr(std::size_t depth, bool inside) {
    std::vector<Node> terms;
    while (true) {
      auto term = ParseAnd(depth, inside);
      if (!term) return term;
      terms.push_back(std::move(*term));
      auto next = lexer_.Peek();
      if (!next) return std::unexpected(next.error());
      if (!IsKeyword(*next, "or")) break;
      (void)lexer_.Next();
    }
    return Or(std::move(terms));
  }

  core::Result<Node> ParseAnd(std::size_t depth, bool inside) {
    std::vector<Node> terms;
    while (true) {
      auto term = ParseUnary(depth, inside);
      if (!term) return term;
      terms.push_back(std::move(*term));
      auto next = lexer_.Peek();
      if (!next) return std::unexpected(next.error());
      if (!IsKeyword(*next, "and")) break;
      (void)lexer_.Next();
    }
    return And(std::move(terms));
  }

  core::Status Deeper(std::size_t depth, const Token& at) {
    if (depth + 1 > limits_.max_depth)
      return Invalid("filter nested deeper than " + std::to_string(limits_.max_depth) + At(at.position));
    return {};
  }

  core::Result<Node> ParseGroup(std::size_t depth, bool inside, const Token& open) {
    auto inner = ParseOr(depth + 1, inside);
    if (!inner) return inner;
    auto close = lexer_.Next();
    if (!close) return std::unexpected(close.error());
    if (close->kind != Token::Kind::kClose) return Invalid("missing ')' for the '('" + At(open.position));
    return inner;
  }

  core::Result<Node> ParseUnary(std::size_t depth, bool inside) {
    auto token = lexer_.Next();
    if (!token) return std::unexpected(token.error());
    if (token->kind == Token::Kind::kOpen) {
      if (auto st = Deeper(depth, *token); !st) return std::unexpected(st.error());
      return ParseGroup(depth, inside, *token);
    }
    if (IsKeyword(*token, "not")) {
      auto open = lexer_.Peek();
      if (!open) return std::unexpected(open.error());
      if (open->kind == Token::Kind::kOpen) {
        (void)lexer_.Next();
        if (auto st = Deeper(depth, *open); !st) return std::unexpected(st.error());
        auto inner = ParseGroup(depth, inside, *open);
        if (!inner) return inner;
        return Not(std::move(*inner));
      }
      // Otherwise "not" is an attribute name.
    }
    if (token->kind == Token::Kind::kEnd) return Invalid("filter ends where an attribute was expected" + At(token->position));
    if (token->kind != Token::Kind::kWord) return Invalid("expected an attribute name" + At(token->position));
    auto path = ParsePath(*token, inside);
    if (!path) return std::unexpected(path.error());

    auto next = lexer_.Peek();
    if (!next) return std::unexpected(next.error());
    if (next->kind == Token::Kind::kOpenBracket) {
      (void)lexer_.Next();
      if (inside) return Invalid("value paths do not nest" + At(next->position));
      if (path->names.size() != 1)
        return Invalid("a value path filters a multi-valued attribute, not " + Quote(token->text) + At(token->position));
      if (auto st = Deeper(depth, *next); !st) return std::unexpected(st.error());
      auto inner = ParseOr(depth + 1, true);
      if (!inner) return inner;
      auto close = lexer_.Next();
      if (!close) return std::unexpected(close.error());
      if (close->kind != Token::Kind::kCloseBracket) return Invalid("missing ']' for the '['" + At(next->position));
      return ValuePath(std::move(*path), std::move(*inner));
    }
    return ParseExpression(*token, std::move(*path));
  }

  core::Result<AttrPath> ParsePath(const Token& token, bool inside) {
    std::string_view text = token.text;
    AttrPath path;
    if (text.size() > 4 && Lower(text.substr(0, 4)) == "urn:") {
      const auto colon = text.rfind(':');
      path.schema = Lower(text.substr(0, colon));
      if (path.schema == kCoreUserSchema) path.schema.clear();
      text = text.substr(colon + 1);
    }
    std::size_t start = 0;
    while (true) {
      const auto dot = text.find('.', start);
      const std::string_view name = text.substr(start, dot == text.npos ? text.npos : dot - start);
      if (!IsAttrName(name)) return Invalid("invalid attribute name " + Quote(token.text) + At(token.position));
      path.names.push_back(Lower(name));
      if (dot == text.npos) break;
      start = dot + 1;
    }
    if (path.names.size() > 2)
      return Invalid("attribute path " + Quote(token.text) + " has more than one sub-attribute" + At(token.position));
    if (inside && (path.names.size() != 1 || !path.schema.empty()))
      return Invalid("inside [...] name a sub-attribute, not " + Quote(token.text) + At(token.position));
    if (++terms_ > limits_.max_terms)
      return Invalid("more than " + std::to_string(limits_.max_terms) + " comparisons" + At(token.position));
    return path;
  }

  core::Result<Node> ParseExpression(const Token& attribute, AttrPath path) {
    auto op_token = lexer_.Next();
    if (!op_token) return std::unexpected(op_token.error());
    if (op_token->kind != Token::Kind::kWord)
      return Invalid("expected an operator after " + Quote(attribute.text) + At(op_token->position));
    if (IsKeyword(*op_token, "pr")) return Present(std::move(path));
    const auto op = ParseOp(op_token->text);
    if (!op) return Invalid("unknown operator " + Quote(op_token->text) + At(op_token->position));

    auto value = lexer_.Next();
    if (!value) return std::unexpected(value.error());
    Literal literal;
    switch (value->kind) {
      case Token::Kind::kString: {
        boost::system::error_code ec;
        json::value decoded = json::parse(value->text, ec);
        if (ec || !decoded.is_string()) return Invalid("invalid string" + At(value->position));
        literal = String(std::string(decoded.as_string()));
        break;
      }
      case Token::Kind::kNumber: {
        boost::system::error_code ec;
        json::value decoded = json::parse(value->text, ec);
        if (ec || !decoded.is_number()) return Invalid("invalid number " + Quote(value->text) + At(value->position));
        // Correctly rounded from the text (Boost.JSON 1.81's conversion may be one ulp
        // off, so the canonical text, "%.17g", would not parse back to the same number).
        double number = decoded.to_number<double>();
        const char* end = value->text.data() + value->text.size();
        if (auto [ptr, err] = std::from_chars(value->text.data(), end, number); err != std::errc{} || ptr != end)
          number = decoded.to_number<double>();
        // Beyond double's range (1e999): no finite number to compare with, and "inf" is not
        // a SCIM number, so refused rather than taken as infinity.
        if (!std::isfinite(number))
          return Invalid("number out of range " + Quote(value->text) + At(value->position));
        literal = Number(number);
        break;
      }
      case Token::Kind::kWord:
        if (IsKeyword(*value, "true") || IsKeyword(*value, "false")) {
          literal = Bool(IsKeyword(*value, "true"));
        } else if (IsKeyword(*value, "null")) {
          literal = Null();
        } else {
          return Invalid("unsupported value " + Quote(value->text) + At(value->position) +
                         "; use a quoted string, a number, true, false or null");
        }
        break;
      default:
        return Invalid("expected a value after " + Quote(OpName(*op)) + At(value->position));
    }
    const bool ordering = *op == Op::kGt || *op == Op::kGe || *op == Op::kLt || *op == Op::kLe;
    const bool substring = *op == Op::kCo || *op == Op::kSw || *op == Op::kEw;
    if (substring && literal.kind != Literal::Kind::kString)
      return Invalid(Quote(OpName(*op)) + " needs a string value" + At(value->position));
    if (ordering && (literal.kind == Literal::Kind::kBool || literal.kind == Literal::Kind::kNull))
      return Invalid(Quote(OpName(*op)) + " needs a string, number or date value" + At(value->position));
    return Compare(std::move(path), *op, std::move(literal));
  }

  Lexer lexer_;
  const ParseLimits& limits_;
  std::size_t terms_ = 0;
};

}  // namespace

core::Result<Node> ParseScimFilter(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_length)
    return Invalid("filter is longer than " + std::to_string(limits.max_length) + " bytes");
  return Parser(text, limits).Parse();
}

}  // namespace roster::query
