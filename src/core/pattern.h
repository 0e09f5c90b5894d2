// Patterns for attribute values (schema `regexValidation`), on RE2: a pattern chosen by a
// client must never cost more than linear time or bounded memory. RE2 (Debian's
// libre2-dev) compiles to automata with no backtracking: time is linear in the value,
// memory bounded by the program size we cap below. It replaces a hand-written Thompson
// NFA: the same guarantees, a larger and better-tested syntax, and less code of ours.
//
// Syntax: RE2's, which covers the Java / ECMAScript subset clients write for attribute
// validation (literals, ".", classes, groups, alternation, greedy and lazy quantifiers,
// {n,m}, anchors, \d \w \s and their negations, \b, (?i) flags). Refused, because they
// cannot be matched in linear time: back-references and look-around; also possessive
// quantifiers. Matching is whole-value (Java's String.matches), as PingOne applies it.
// Limits: pattern <= 512 bytes, counted repetition <= 1000, compiled program <= 5000
// instructions, values <= 4096 bytes of valid UTF-8. Thread-safe once compiled.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace re2 {
class RE2;
}

namespace roster::core {

inline constexpr std::size_t kMaxPatternBytes = 512;
inline constexpr int kMaxPatternProgram = 5000;
inline constexpr std::size_t kMaxPatternInput = 4096;

class Pattern {
 public:
  // The compiled pattern, or kInvalidArgument (field "pattern") saying what is wrong.
  static Result<Pattern> Compile(std::string_view pattern);

  // Whether the whole of `value` matches. Values over kMaxPatternInput bytes or that are
  // not valid UTF-8 never match.
  bool FullMatch(std::string_view value) const;

  int program_size() const;

 private:
  std::shared_ptr<const re2::RE2> re_;
};

}  // namespace roster::core
