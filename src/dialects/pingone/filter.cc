#include "dialects/pingone/filter.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/rules.h"

namespace roster::dialects::pingone {
namespace {

namespace json = boost::json;

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  return true;
}

// The case-insensitive form strings are compared in (see the header).
std::string Fold(std::string_view text) {
  auto folded = core::FoldUsername(text);
  return folded ? std::move(*folded) : AsciiLower(text);
}

bool IsLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsLetter(c) || IsDigit(c) || c == '_' || c == '-' || c == '.'; }

// Words are echoed in messages to help the caller, but only briefly.
std::string Quote(std::string_view word) {
  constexpr std::size_t kMax = 40;
  return "'" + std::string(word.substr(0, kMax)) + (word.size() > kMax ? "...'" : "'");
}

std::unexpected<core::Error> Invalid(std::string message) {
  return core::InvalidArgument("filter", std::move(message));
}

std::string At(std::size_t position) { return " at position " + std::to_string(position); }

// ---- tokens -------------------------------------------------------------------------

struct Token {
  enum class Kind { kEnd, kOpen, kClose, kOpenBracket, kCloseBracket, kWord, kString };
  Kind kind = Kind::kEnd;
  std::string_view text;  // as written (strings include their quotes)
  std::size_t position = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  // The next token without consuming it.
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
    if (c == '(' || c == ')') {
      ++pos_;
      return Token{c == '(' ? Token::Kind::kOpen : Token::Kind::kClose, input_.substr(start, 1), start};
    }
    if (c == '[' || c == ']') {
      ++pos_;
      return Token{c == '[' ? Token::Kind::kOpenBracket : Token::Kind::kCloseBracket, input_.substr(start, 1), start};
    }
    if (c == '"') return ScanString();
    if (IsWordChar(c)) {
      while (pos_ < input_.size() && IsWordChar(input_[pos_])) ++pos_;
      return Token{Token::Kind::kWord, input_.substr(start, pos_ - start), start};
    }
    const bool printable = c > 0x20 && c < 0x7f;
    return Invalid("unexpected character" + (printable ? " " + Quote(std::string_view(&c, 1)) : "") +
                   At(start));
  }

  // Finds the closing quote; decoding is left to the JSON parser (ParseString).
  core::Result<Token> ScanString() {
    const std::size_t start = pos_++;
    while (pos_ < input_.size() && input_[pos_] != '"') pos_ += input_[pos_] == '\\' ? 2 : 1;
    if (pos_ >= input_.size()) return Invalid("unterminated string" + At(start));
    ++pos_;
    return Token{Token::Kind::kString, input_.substr(start, pos_ - start), start};
  }

  std::string_view input_;
  std::size_t pos_ = 0;
  std::optional<Token> peeked_;
};

bool IsKeyword(const Token& token, std::string_view keyword) {
  return token.kind == Token::Kind::kWord && EqualsIgnoreCase(token.text, keyword);
}

// A JSON string literal decoded with JSON's own rules: every escape, valid UTF-8 only.
core::Result<std::string> ParseString(const Token& token) {
  boost::system::error_code ec;
  json::value value = json::parse(token.text, ec);
  if (ec || !value.is_string()) return Invalid("invalid string" + At(token.position));
  return std::string(value.as_string());
}

// name ("." name)*, name: letter [letter digit _ -]*
bool IsAttributePath(std::string_view path, std::vector<std::string>& segments) {
  segments.clear();
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string_view name = path.substr(start, dot == path.npos ? path.npos : dot - start);
    if (name.empty() || !IsLetter(name[0])) return false;
    for (char c : name)
      if (!IsLetter(c) && !IsDigit(c) && c != '_' && c != '-') return false;
    segments.emplace_back(name);
    if (dot == path.npos) return true;
    start = dot + 1;
  }
}

// ---- parser -------------------------------------------------------------------------

class Parser {
 public:
  Parser(std::string_view text, const KnownAttribute& known, const KnownAttribute& ends_with)
      : lexer_(text), known_(known), ends_with_(ends_with) {}

  core::Result<Filter> Parse() {
    auto first = lexer_.Peek();
    if (!first) return std::unexpected(first.error());
    if (first->kind == Token::Kind::kEnd) return Invalid("filter is empty");
    auto filter = ParseOr(0);
    if (!filter) return filter;
    auto rest = lexer_.Next();
    if (!rest) return std::unexpected(rest.error());
    if (rest->kind == Token::Kind::kClose) return Invalid("unbalanced ')'" + At(rest->position));
    if (rest->kind != Token::Kind::kEnd)
      return Invalid("expected 'and' or 'or'" + At(rest->position));
    return filter;
  }

 private:
  // One loop serves "or" over "and" terms and "and" over primaries.
  core::Result<Filter> ParseChain(Filter::Kind kind, std::string_view keyword, std::size_t depth) {
    auto first = kind == Filter::Kind::kOr ? ParseChain(Filter::Kind::kAnd, "and", depth) : ParsePrimary(depth);
    if (!first) return first;
    Filter chain{kind, {}, {}};
    chain.children.push_back(std::move(*first));
    while (true) {
      auto next = lexer_.Peek();
      if (!next) return std::unexpected(next.error());
      if (!IsKeyword(*next, keyword)) break;
      (void)lexer_.Next();
      auto operand = kind == Filter::Kind::kOr ? ParseChain(Filter::Kind::kAnd, "and", depth)
                                               : ParsePrimary(depth);
      if (!operand) return operand;
      chain.children.push_back(std::move(*operand));
    }
    if (chain.children.size() == 1) return std::move(chain.children.front());
    return chain;
  }

  core::Result<Filter> ParseOr(std::size_t depth) { return ParseChain(Filter::Kind::kOr, "or", depth); }

  core::Result<Filter> ParsePrimary(std::size_t depth) {
    auto token = lexer_.Next();
    if (!token) return std::unexpected(token.error());
    if (token->kind == Token::Kind::kOpen) {
      if (depth + 1 > kMaxFilterDepth)
        return Invalid("parentheses nested deeper than " + std::to_string(kMaxFilterDepth) + At(token->position));
      auto inner = ParseOr(depth + 1);
      if (!inner) return inner;
      auto close = lexer_.Next();
      if (!close) return std::unexpected(close.error());
      if (close->kind != Token::Kind::kClose)
        return Invalid("missing ')' for the '('" + At(token->position));
      return inner;
    }
    if (IsKeyword(*token, "not")) return Invalid("unsupported operator 'not'" + At(token->position));
    if (token->kind != Token::Kind::kWord)
      return Invalid("expected an attribute name" + At(token->position));
    return ParseComparison(*token);
  }

  core::Result<Filter> ParseComparison(const Token& attribute) {
    Comparison c;
    c.path = std::string(attribute.text);
    if (!IsAttributePath(c.path, c.segments))
      return Invalid("invalid attribute name " + Quote(c.path) + At(attribute.position));
    // a[b eq v]: the comparison a.b eq v, closed by "]".
    auto bracket = lexer_.Peek();
    if (!bracket) return std::unexpected(bracket.error());
    const bool bracketed = bracket->kind == Token::Kind::kOpenBracket;
    if (bracketed) {
      (void)lexer_.Next();
      auto sub = lexer_.Next();
      if (!sub) return std::unexpected(sub.error());
      std::vector<std::string> sub_segments;
      if (sub->kind != Token::Kind::kWord || !IsAttributePath(sub->text, sub_segments))
        return Invalid("expected a sub-attribute name after '['" + At(sub->position));
      c.path += "." + std::string(sub->text);
      c.segments.insert(c.segments.end(), sub_segments.begin(), sub_segments.end());
    }
    if (!known_ || !known_(c.path)) return Invalid("unknown attribute " + Quote(c.path));
    if (++comparisons_ > kMaxFilterComparisons)
      return Invalid("more than " + std::to_string(kMaxFilterComparisons) + " comparisons");
    auto done = ParseOperatorAndValue(c);
    if (!done) return std::unexpected(done.error());
    if (bracketed) {
      if (c.op != FilterOp::kEq) return Invalid("only 'eq' is supported inside '[...]'");
      auto close = lexer_.Next();
      if (!close) return std::unexpected(close.error());
      if (close->kind != Token::Kind::kCloseBracket) return Invalid("missing ']'" + At(close->position));
    }
    return Filter{Filter::Kind::kComparison, std::move(c), {}};
  }

  core::Status ParseOperatorAndValue(Comparison& c) {
    auto op = lexer_.Next();
    if (!op) return std::unexpected(op.error());
    if (op->kind != Token::Kind::kWord)
      return Invalid("expected an operator after " + Quote(c.path) + At(op->position));
    const std::string name = AsciiLower(op->text);
    if (name == "eq") {
      c.op = FilterOp::kEq;
    } else if (name == "sw") {
      c.op = FilterOp::kSw;
    } else if (name == "ew" && ends_with_ && ends_with_(c.path)) {
      c.op = FilterOp::kEw;
    } else if (name == "ew") {
      return Invalid("unsupported operator 'ew' on " + Quote(c.path) + At(op->position));
    } else if (name == "ne" || name == "co" || name == "gt" || name == "ge" ||
               name == "lt" || name == "le" || name == "pr") {
      return Invalid("unsupported operator " + Quote(name) + At(op->position));
    } else {
      return Invalid("unknown operator " + Quote(op->text) + At(op->position));
    }

    auto value = lexer_.Next();
    if (!value) return std::unexpected(value.error());
    if (value->kind == Token::Kind::kString) {
      auto text = ParseString(*value);
      if (!text) return std::unexpected(text.error());
      c.folded = Fold(*text);
      c.value = std::move(*text);
    } else if (IsKeyword(*value, "true") || IsKeyword(*value, "false")) {
      if (c.op != FilterOp::kEq) return Invalid("'" + name + "' needs a string value" + At(value->position));
      c.value = IsKeyword(*value, "true");
    } else if (value->kind == Token::Kind::kWord) {
      return Invalid("unsupported value " + Quote(value->text) + At(value->position) +
                     "; use a quoted string, true or false");
    } else {
      return Invalid("expected a value after " + Quote(name) + At(value->position));
    }
    return {};
  }

  Lexer lexer_;
  const KnownAttribute& known_;
  const KnownAttribute& ends_with_;
  std::size_t comparisons_ = 0;
};

// ---- evaluation ---------------------------------------------------------------------

const json::value* Member(const json::object& object, std::string_view name) {
  if (const json::value* exact = object.if_contains(name)) return exact;
  for (const auto& member : object)
    if (EqualsIgnoreCase(member.key(), name)) return &member.value();
  return nullptr;
}

bool LeafMatches(const Comparison& c, const json::value& value) {
  if (value.is_array()) {
    for (const json::value& element : value.as_array())
      if (LeafMatches(c, element)) return true;
    return false;
  }
  if (const bool* literal = std::get_if<bool>(&c.value))
    return value.is_bool() && value.as_bool() == *literal;
  if (!value.is_string()) return false;
  const std::string folded = Fold(value.as_string());
  if (c.op == FilterOp::kEw) return folded.ends_with(c.folded);
  return c.op == FilterOp::kEq ? folded == c.folded : folded.starts_with(c.folded);
}

// Walks c.segments from `index` down from `value`.
bool PathMatches(const Comparison& c, const json::value& value, std::size_t index) {
  if (index == c.segments.size()) return LeafMatches(c, value);
  if (value.is_array()) {
    for (const json::value& element : value.as_array())
      if (PathMatches(c, element, index)) return true;
    return false;
  }
  if (!value.is_object()) return false;
  const json::value* member = Member(value.as_object(), c.segments[index]);
  return member != nullptr && PathMatches(c, *member, index + 1);
}

bool ComparisonMatches(const Comparison& c, const json::object& user) {
  const json::value* first = Member(user, c.segments.front());
  return first != nullptr && PathMatches(c, *first, 1);
}

}  // namespace

core::Result<Filter> ParseFilter(std::string_view text, const KnownAttribute& known,
                                 const KnownAttribute& ends_with) {
  if (text.size() > kMaxFilterLength)
    return Invalid("filter is longer than " + std::to_string(kMaxFilterLength) + " bytes");
  return Parser(text, known, ends_with).Parse();
}

bool Matches(const Filter& filter, const boost::json::object& user) {
  switch (filter.kind) {
    case Filter::Kind::kComparison:
      return ComparisonMatches(filter.comparison, user);
    case Filter::Kind::kAnd:
      for (const Filter& child : filter.children)
        if (!Matches(child, user)) return false;
      return true;
    case Filter::Kind::kOr:
      for (const Filter& child : filter.children)
        if (Matches(child, user)) return true;
      return false;
  }
  return false;
}

bool IsBooleanUserAttribute(std::string_view path) {
  const std::string p = AsciiLower(path);
  return p == "enabled" || p == "mfaenabled" || p == "emailverified" || p == "account.canauthenticate";
}

query::Node ToQuery(const Filter& filter) {
  if (filter.kind != Filter::Kind::kComparison) {
    std::vector<query::Node> children;
    for (const Filter& child : filter.children) children.push_back(ToQuery(child));
    return filter.kind == Filter::Kind::kAnd ? query::And(std::move(children)) : query::Or(std::move(children));
  }
  const Comparison& c = filter.comparison;
  const query::Op op = c.op == FilterOp::kEq ? query::Op::kEq : c.op == FilterOp::kSw ? query::Op::kSw : query::Op::kEw;
  const std::string path = AsciiLower(c.path);
  query::Literal literal = query::String("");
  if (const bool* b = std::get_if<bool>(&c.value)) {
    literal = query::Bool(*b);
  } else if (const std::string& text = std::get<std::string>(c.value);
             IsBooleanUserAttribute(path) && (EqualsIgnoreCase(text, "true") || EqualsIgnoreCase(text, "false"))) {
    literal = query::Bool(EqualsIgnoreCase(text, "true"));
  } else {
    literal = query::String(text);
  }
  // An element of a multi-valued canonical attribute chosen by `selector`, compared on `member`.
  const auto element = [&](std::string_view attribute, query::Node selector, std::string_view member) {
    return query::ValuePath(query::Path(attribute),
                            query::And({std::move(selector), query::Compare(query::Path(member), op, literal)}));
  };
  if (path == "email")
    return element("emails", query::Compare(query::Path("primary"), query::Op::kEq, query::Bool(true)), "value");
  if (path == "mobilephone")
    return element("phoneNumbers", query::Compare(query::Path("type"), query::Op::kEq, query::String("mobile")),
                   "value");
  if (path == "primaryphone")
    return element("phoneNumbers", query::Compare(query::Path("primary"), query::Op::kEq, query::Bool(true)), "value");
  static const std::pair<std::string_view, std::string_view> kCanonical[] = {
      {"username", "userName"},
      {"name.given", "name.givenName"},
      {"name.family", "name.familyName"},
      {"name.middle", "name.middleName"},
      {"name.formatted", "name.formatted"},
      {"name.honorificprefix", "name.honorificPrefix"},
      {"name.honorificsuffix", "name.honorificSuffix"},
      {"nickname", "nickName"},
      {"title", "title"},
      {"type", "userType"},
      {"locale", "locale"},
      {"timezone", "timezone"},
      {"preferredlanguage", "preferredLanguage"},
      {"enabled", "active"},
      {"address.streetaddress", "addresses.streetAddress"},
      {"address.locality", "addresses.locality"},
      {"address.region", "addresses.region"},
      {"address.postalcode", "addresses.postalCode"},
      {"address.countrycode", "addresses.country"}};
  for (const auto& [wire, canonical] : kCanonical)
    if (path == wire) return query::Compare(query::Path(canonical), op, std::move(literal));
  return query::Compare(query::AttrPath{std::string(kPingOneSchema), {path}}, op, std::move(literal));
}

std::optional<Equality> IndexHint(const Filter& filter) {
  if (filter.kind == Filter::Kind::kAnd) {
    for (const Filter& child : filter.children)
      if (auto hint = IndexHint(child)) return hint;
    return std::nullopt;
  }
  if (filter.kind != Filter::Kind::kComparison) return std::nullopt;
  const Comparison& c = filter.comparison;
  const std::string* value = std::get_if<std::string>(&c.value);
  if (c.op != FilterOp::kEq || value == nullptr) return std::nullopt;
  if (EqualsIgnoreCase(c.path, "username")) return Equality{"username", *value};
  if (EqualsIgnoreCase(c.path, "email")) return Equality{"email", *value};
  return std::nullopt;
}

}  // namespace roster::dialects::pingone
