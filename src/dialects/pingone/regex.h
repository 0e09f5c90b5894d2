// A small regular-expression engine with a guaranteed cost, for the regexValidation of
// PingOne custom attributes. std::regex backtracks (exponential time on patterns such
// as "(a+)+b") and recurses per input character (stack overflow on long input), and a
// pattern here is chosen by a client, so it is not used. This engine compiles a pattern
// to a Thompson NFA and simulates it (Pike VM without captures): time is at most
// proportional to input length x program size, memory to program size, whatever the
// pattern. Pure functions, no I/O, thread-safe.
//
// Syntax (a common subset of Java / ECMAScript regular expressions):
//   literals (any UTF-8 code point), "." (any code point but \n), [abc] [^a-z] classes
//   with ranges, groups (...) and (?:...), alternation |, quantifiers * + ? {n} {n,}
//   {n,m} (a trailing "?" for a lazy quantifier is accepted: it does not change whether
//   a value matches), anchors ^ and $, escapes \d \D \w \W \s \S \t \n \r \f \v and
//   \ before any punctuation. Refused by name: back-references, look-around, named
//   groups, inline flags, possessive quantifiers, \b and other letter escapes.
// Matching is whole-value (Java's String.matches): the pattern must match all of the
// value, as PingOne applies regexValidation.
// Limits: pattern <= 512 bytes, counted repetition <= 1000, compiled program <= 2000
// instructions (counted repetitions are expanded, so "(a{100}){100}" is refused),
// values <= 4096 bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace roster::dialects::pingone {

inline constexpr std::size_t kMaxRegexPattern = 512;
inline constexpr std::size_t kMaxRegexProgram = 2000;
inline constexpr std::size_t kMaxRegexInput = 4096;
inline constexpr int kMaxRegexRepeat = 1000;

class SafeRegex {
 public:
  // The compiled pattern, or kInvalidArgument (field "pattern") saying what is wrong.
  static core::Result<SafeRegex> Compile(std::string_view pattern);

  // Whether the whole of `value` matches. Values over kMaxRegexInput bytes or that are
  // not valid UTF-8 never match.
  bool FullMatch(std::string_view value) const;

  std::size_t program_size() const { return program_ ? program_->instructions.size() : 0; }

  struct Range {
    char32_t low, high;
  };
  struct CharClass {
    std::vector<Range> ranges;
    bool negated = false;
    bool Contains(char32_t c) const;
  };
  enum class Op : std::uint8_t { kChar, kAny, kClass, kSplit, kJmp, kBol, kEol, kMatch };
  struct Instruction {
    Op op = Op::kMatch;
    char32_t c = 0;       // kChar
    std::uint32_t x = 0;  // kClass: class index; kSplit/kJmp: target
    std::uint32_t y = 0;  // kSplit: second target
  };
  struct Program {
    std::vector<Instruction> instructions;
    std::vector<CharClass> classes;
  };

 private:
  std::shared_ptr<const Program> program_;
};

}  // namespace roster::dialects::pingone
