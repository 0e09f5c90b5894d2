#include "core/pattern.h"

#include <re2/re2.h>

#include "core/rules.h"

namespace roster::core {

Result<Pattern> Pattern::Compile(std::string_view pattern) {
  if (pattern.size() > kMaxPatternBytes)
    return InvalidArgument("pattern", "a pattern is at most " + std::to_string(kMaxPatternBytes) + " bytes");
  if (!IsValidUtf8(pattern)) return InvalidArgument("pattern", "a pattern must be valid UTF-8");
  // Refused by name, before RE2 gives its own words for them.
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (pattern[i + 1] >= '1' && pattern[i + 1] <= '9')
        return InvalidArgument("pattern", "back-references are not supported");
      ++i;
      continue;
    }
    if (pattern[i] == '(' && pattern[i + 1] == '?' && i + 2 < pattern.size() &&
        (pattern[i + 2] == '=' || pattern[i + 2] == '!' ||
         (pattern[i + 2] == '<' && i + 3 < pattern.size() && (pattern[i + 3] == '=' || pattern[i + 3] == '!'))))
      return InvalidArgument("pattern", "look-around is not supported");
    if ((pattern[i] == '+' || pattern[i] == '*' || pattern[i] == '?' || pattern[i] == '}') && pattern[i + 1] == '+')
      return InvalidArgument("pattern", "possessive quantifiers are not supported");
  }
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_log_errors(false);
  options.set_dot_nl(false);
  options.set_max_mem(1 << 20);  // bounds the compiled program and the DFA cache
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) return InvalidArgument("pattern", "invalid pattern: " + re->error());
  if (re->ProgramSize() > kMaxPatternProgram)
    return InvalidArgument("pattern", "the pattern is too complex (its program exceeds " +
                                          std::to_string(kMaxPatternProgram) + " instructions)");
  Pattern p;
  p.re_ = std::move(re);
  return p;
}

bool Pattern::FullMatch(std::string_view value) const {
  if (!re_ || value.size() > kMaxPatternInput || !IsValidUtf8(value)) return false;
  return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
}

int Pattern::program_size() const { return re_ ? re_->ProgramSize() : 0; }

}  // namespace roster::core
