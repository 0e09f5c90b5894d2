#include "dialects/pingone/regex.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace roster::dialects::pingone {
namespace {

using Instruction = SafeRegex::Instruction;
using Op = SafeRegex::Op;
using CharClass = SafeRegex::CharClass;

// Decodes one UTF-8 code point at `i`, advancing it; nullopt on malformed input.
std::optional<char32_t> NextCodePoint(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int length = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    cp = b0 & 0x07;
  } else {
    return std::nullopt;
  }
  if (i + length > s.size()) return std::nullopt;
  for (int k = 1; k < length; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  i += length;
  return cp;
}

struct Node {
  enum class Kind { kEmpty, kChar, kAny, kClass, kBol, kEol, kConcat, kAlternate, kRepeat };
  Kind kind = Kind::kEmpty;
  char32_t c = 0;
  std::uint32_t class_index = 0;
  int min = 0, max = 0;  // kRepeat; max -1: unbounded
  std::vector<Node> children;
};

CharClass Digits() { return CharClass{{{U'0', U'9'}}, false}; }
CharClass Words() { return CharClass{{{U'0', U'9'}, {U'A', U'Z'}, {U'_', U'_'}, {U'a', U'z'}}, false}; }
CharClass Spaces() { return CharClass{{{U'\t', U'\r'}, {U' ', U' '}}, false}; }

class Parser {
 public:
  Parser(std::string_view pattern, std::vector<CharClass>& classes) : p_(pattern), classes_(classes) {}

  core::Result<Node> Parse() {
    auto node = Alternation(0);
    if (!node) return node;
    if (pos_ < p_.size()) return Error("unbalanced ')'");
    return node;
  }

 private:
  std::unexpected<core::Error> Error(const std::string& what) const {
    return core::InvalidArgument("pattern", what + " at position " + std::to_string(pos_));
  }

  bool AtEnd() const { return pos_ >= p_.size(); }
  char Peek() const { return p_[pos_]; }

  core::Result<Node> Alternation(int depth) {
    if (depth > 32) return Error("groups nested too deeply");
    Node alt{Node::Kind::kAlternate};
    auto first = Concatenation(depth);
    if (!first) return first;
    alt.children.push_back(std::move(*first));
    while (!AtEnd() && Peek() == '|') {
      ++pos_;
      auto next = Concatenation(depth);
      if (!next) return next;
      alt.children.push_back(std::move(*next));
    }
    if (alt.children.size() == 1) return std::move(alt.children.front());
    return alt;
  }

  core::Result<Node> Concatenation(int depth) {
    Node cat{Node::Kind::kConcat};
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      auto atom = Atom(depth);
      if (!atom) return atom;
      auto repeated = Quantifiers(std::move(*atom));
      if (!repeated) return repeated;
      cat.children.push_back(std::move(*repeated));
    }
    if (cat.children.empty()) return Node{Node::Kind::kEmpty};
    if (cat.children.size() == 1) return std::move(cat.children.front());
    return cat;
  }

  std::optional<int> Number() {
    const std::size_t start = pos_;
    long value = 0;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
      value = value * 10 + (Peek() - '0');
      if (value > 1'000'000) value = 1'000'000;
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    return static_cast<int>(value);
  }

  core::Result<Node> Quantifiers(Node atom) {
    while (!AtEnd()) {
      int min = 0, max = -1;
      const char q = Peek();
      if (q == '*') {
        ++pos_;
      } else if (q == '+') {
        min = 1;
        ++pos_;
      } else if (q == '?') {
        max = 1;
        ++pos_;
      } else if (q == '{') {
        ++pos_;
        auto low = Number();
        if (!low) return Error("expected a number after '{'");
        min = *low;
        max = min;
        if (!AtEnd() && Peek() == ',') {
          ++pos_;
          auto high = Number();
          max = high ? *high : -1;
        }
        if (AtEnd() || Peek() != '}') return Error("expected '}'");
        ++pos_;
        if (min > kMaxRegexRepeat || max > kMaxRegexRepeat)
          return Error("repetition counts are limited to " + std::to_string(kMaxRegexRepeat));
        if (max != -1 && max < min) return Error("repetition range is reversed");
      } else {
        break;
      }
      if (atom.kind == Node::Kind::kBol || atom.kind == Node::Kind::kEol) return Error("nothing to repeat");
      if (!AtEnd() && Peek() == '?') ++pos_;  // lazy: same language
      if (!AtEnd() && Peek() == '+') return Error("possessive quantifiers are not supported");
      Node repeat{Node::Kind::kRepeat};
      repeat.min = min;
      repeat.max = max;
      repeat.children.push_back(std::move(atom));
      atom = std::move(repeat);
    }
    return atom;
  }

  std::uint32_t AddClass(CharClass c) {
    classes_.push_back(std::move(c));
    return static_cast<std::uint32_t>(classes_.size() - 1);
  }

  Node ClassNode(CharClass c) {
    Node n{Node::Kind::kClass};
    n.class_index = AddClass(std::move(c));
    return n;
  }

  // After a backslash outside a class: a class escape, or a literal.
  core::Result<Node> Escape() {
    if (AtEnd()) return Error("pattern ends with '\\'");
    const char e = Peek();
    ++pos_;
    auto negated = [](CharClass c) {
      c.negated = true;
      return c;
    };
    switch (e) {
      case 'd': return ClassNode(Digits());
      case 'D': return ClassNode(negated(Digits()));
      case 'w': return ClassNode(Words());
      case 'W': return ClassNode(negated(Words()));
      case 's': return ClassNode(Spaces());
      case 'S': return ClassNode(negated(Spaces()));
      default: break;
    }
    auto literal = EscapedLiteral(e);
    if (!literal) return std::unexpected(literal.error());
    Node n{Node::Kind::kChar};
    n.c = *literal;
    return n;
  }

  core::Result<char32_t> EscapedLiteral(char e) {
    switch (e) {
      case 't': return U'\t';
      case 'n': return U'\n';
      case 'r': return U'\r';
      case 'f': return U'\f';
      case 'v': return U'\v';
      default: break;
    }
    if (e >= '1' && e <= '9') return Error("back-references are not supported");
    const unsigned char u = static_cast<unsigned char>(e);
    if (u < 0x80 && !std::isalnum(u) && u > 0x20) return static_cast<char32_t>(u);
    return Error(std::string("unsupported escape '\\") + e + "'");
  }

  core::Result<Node> Class() {
    CharClass c;
    if (!AtEnd() && Peek() == '^') {
      c.negated = true;
      ++pos_;
    }
    bool first = true;
    while (true) {
      if (AtEnd()) return Error("unterminated character class");
      if (Peek() == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      // One member: an escape (possibly a class escape) or a code point, then maybe a range.
      char32_t low = 0;
      if (Peek() == '\\') {
        ++pos_;
        if (AtEnd()) return Error("unterminated character class");
        const char e = Peek();
        ++pos_;
        const CharClass* named = nullptr;
        CharClass d = Digits(), w = Words(), s = Spaces();
        if (e == 'd') named = &d;
        if (e == 'w') named = &w;
        if (e == 's') named = &s;
        if (named != nullptr) {
          c.ranges.insert(c.ranges.end(), named->ranges.begin(), named->ranges.end());
          continue;
        }
        if (e == 'D' || e == 'W' || e == 'S') return Error("negated class escapes inside [] are not supported");
        auto literal = EscapedLiteral(e);
        if (!literal) return std::unexpected(literal.error());
        low = *literal;
      } else {
        auto cp = NextCodePoint(p_, pos_);
        if (!cp) return Error("pattern is not valid UTF-8");
        low = *cp;
      }
      char32_t high = low;
      if (pos_ + 1 < p_.size() && Peek() == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        if (Peek() == '\\') {
          ++pos_;
          if (AtEnd()) return Error("unterminated character class");
          const char e = Peek();
          ++pos_;
          auto literal = EscapedLiteral(e);
          if (!literal) return std::unexpected(literal.error());
          high = *literal;
        } else {
          auto cp = NextCodePoint(p_, pos_);
          if (!cp) return Error("pattern is not valid UTF-8");
          high = *cp;
        }
        if (high < low) return Error("character range is reversed");
      }
      c.ranges.push_back({low, high});
      if (c.ranges.size() > 256) return Error("character class is too large");
    }
    return ClassNode(std::move(c));
  }

  core::Result<Node> Atom(int depth) {
    const char ch = Peek();
    switch (ch) {
      case '(': {
        ++pos_;
        if (!AtEnd() && Peek() == '?') {
          if (pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
            pos_ += 2;
          } else {
            return Error("look-around, named groups and inline flags are not supported");
          }
        }
        auto inner = Alternation(depth + 1);
        if (!inner) return inner;
        if (AtEnd() || Peek() != ')') return Error("missing ')'");
        ++pos_;
        return inner;
      }
      case '[': ++pos_; return Class();
      case '.': ++pos_; return Node{Node::Kind::kAny};
      case '^': ++pos_; return Node{Node::Kind::kBol};
      case '$': ++pos_; return Node{Node::Kind::kEol};
      case '\\': ++pos_; return Escape();
      case '*':
      case '+':
      case '?':
      case '{': return Error("nothing to repeat");
      case ')': return Error("unbalanced ')'");
      default: break;
    }
    auto cp = NextCodePoint(p_, pos_);
    if (!cp) return Error("pattern is not valid UTF-8");
    Node n{Node::Kind::kChar};
    n.c = *cp;
    return n;
  }

  std::string_view p_;
  std::vector<CharClass>& classes_;
  std::size_t pos_ = 0;
};

class Compiler {
 public:
  explicit Compiler(std::vector<Instruction>& out) : out_(out) {}

  bool Emit(const Node& n) {
    switch (n.kind) {
      case Node::Kind::kEmpty: return true;
      case Node::Kind::kChar: return Add({Op::kChar, n.c, 0, 0});
      case Node::Kind::kAny: return Add({Op::kAny, 0, 0, 0});
      case Node::Kind::kClass: return Add({Op::kClass, 0, n.class_index, 0});
      case Node::Kind::kBol: return Add({Op::kBol, 0, 0, 0});
      case Node::Kind::kEol: return Add({Op::kEol, 0, 0, 0});
      case Node::Kind::kConcat:
        for (const Node& child : n.children)
          if (!Emit(child)) return false;
        return true;
      case Node::Kind::kAlternate: return EmitAlternation(n.children, 0);
      case Node::Kind::kRepeat: return EmitRepeat(n);
    }
    return false;
  }

 private:
  bool Add(Instruction i) {
    if (out_.size() >= kMaxRegexProgram) return false;
    out_.push_back(i);
    return true;
  }
  std::uint32_t Here() const { return static_cast<std::uint32_t>(out_.size()); }

  // split L1, L2; L1: a; jmp end; L2: (rest)
  bool EmitAlternation(const std::vector<Node>& children, std::size_t from) {
    if (from + 1 == children.size()) return Emit(children[from]);
    const std::uint32_t split = Here();
    if (!Add({Op::kSplit, 0, split + 1, 0})) return false;
    if (!Emit(children[from])) return false;
    const std::uint32_t jump = Here();
    if (!Add({Op::kJmp, 0, 0, 0})) return false;
    out_[split].y = Here();
    if (!EmitAlternation(children, from + 1)) return false;
    out_[jump].x = Here();
    return true;
  }

  bool EmitRepeat(const Node& n) {
    const Node& body = n.children.front();
    for (int i = 0; i < n.min; ++i)
      if (!Emit(body)) return false;
    if (n.max == -1) {
      // L: split body, end; body; jmp L
      const std::uint32_t loop = Here();
      if (!Add({Op::kSplit, 0, loop + 1, 0})) return false;
      if (!Emit(body)) return false;
      if (!Add({Op::kJmp, 0, loop, 0})) return false;
      out_[loop].y = Here();
      return true;
    }
    // (max - min) nested optionals: split body, end; body; ... all jumping to the end.
    std::vector<std::uint32_t> splits;
    for (int i = n.min; i < n.max; ++i) {
      splits.push_back(Here());
      if (!Add({Op::kSplit, 0, Here() + 1, 0})) return false;
      if (!Emit(body)) return false;
    }
    for (std::uint32_t s : splits) out_[s].y = Here();
    return true;
  }

  std::vector<Instruction>& out_;
};

}  // namespace

bool SafeRegex::CharClass::Contains(char32_t c) const {
  bool in = false;
  for (const Range& r : ranges) {
    if (c >= r.low && c <= r.high) {
      in = true;
      break;
    }
  }
  return in != negated;
}

core::Result<SafeRegex> SafeRegex::Compile(std::string_view pattern) {
  if (pattern.size() > kMaxRegexPattern)
    return core::InvalidArgument("pattern", "pattern must be at most " + std::to_string(kMaxRegexPattern) + " bytes");
  auto program = std::make_shared<Program>();
  Parser parser(pattern, program->classes);
  auto tree = parser.Parse();
  if (!tree) return std::unexpected(tree.error());
  Compiler compiler(program->instructions);
  if (!compiler.Emit(*tree) || program->instructions.size() >= kMaxRegexProgram)
    return core::InvalidArgument("pattern", "pattern is too complex (counted repetitions expand it beyond " +
                                                std::to_string(kMaxRegexProgram) + " instructions)");
  program->instructions.push_back({Op::kMatch, 0, 0, 0});
  SafeRegex regex;
  regex.program_ = std::move(program);
  return regex;
}

bool SafeRegex::FullMatch(std::string_view value) const {
  if (!program_ || value.size() > kMaxRegexInput) return false;
  const auto& code = program_->instructions;
  const std::size_t n = code.size();
  std::vector<std::uint32_t> current, next, stack;
  std::vector<std::uint64_t> mark(n, 0);
  std::uint64_t generation = 0;
  current.reserve(n);
  next.reserve(n);

  // Adds pc and its epsilon closure to `list` at the position between code points:
  // at_start / at_end say whether that position is the start / end of the value.
  auto add = [&](std::vector<std::uint32_t>& list, std::uint32_t pc, bool at_start, bool at_end) {
    stack.clear();
    stack.push_back(pc);
    while (!stack.empty()) {
      const std::uint32_t p = stack.back();
      stack.pop_back();
      if (mark[p] == generation) continue;
      mark[p] = generation;
      const Instruction& in = code[p];
      switch (in.op) {
        case Op::kJmp: stack.push_back(in.x); break;
        case Op::kSplit:
          stack.push_back(in.y);
          stack.push_back(in.x);
          break;
        case Op::kBol:
          if (at_start) stack.push_back(p + 1);
          break;
        case Op::kEol:
          if (at_end) stack.push_back(p + 1);
          break;
        default: list.push_back(p); break;
      }
    }
  };

  std::size_t i = 0;
  ++generation;
  add(current, 0, true, value.empty());
  while (i < value.size()) {
    if (current.empty()) return false;
    auto cp = NextCodePoint(value, i);
    if (!cp) return false;
    const bool at_end = i == value.size();
    ++generation;
    next.clear();
    for (std::uint32_t pc : current) {
      const Instruction& in = code[pc];
      bool step = false;
      switch (in.op) {
        case Op::kChar: step = in.c == *cp; break;
        case Op::kAny: step = *cp != U'\n'; break;
        case Op::kClass: step = program_->classes[in.x].Contains(*cp); break;
        default: break;
      }
      if (step) add(next, pc + 1, false, at_end);
    }
    current.swap(next);
  }
  for (std::uint32_t pc : current)
    if (code[pc].op == Op::kMatch) return true;
  return false;
}

}  // namespace roster::dialects::pingone
