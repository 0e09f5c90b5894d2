// Small, pure domain rules shared by every dialect: identifiers, emails, dates, ages,
// and the username comparison rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace roster::core {

struct Date {
  int year = 0, month = 0, day = 0;
};

// Usernames: 1..256 code points of valid UTF-8, no control characters, not blank.
// Two usernames are the same when their NFKC case folds are equal (ICU
// NFKC_Casefold), so "Alice", "ALICE" and "alice" collide, as do "Straße" and
// "STRASSE". The case as sent is preserved for display.
Result<std::string> FoldUsername(std::string_view username);

// Emails: addr-spec subset: one '@', non-empty local part (<= 64), a domain of dot-
// separated labels (letters, digits, hyphens, or UTF-8), total <= 254, no spaces.
bool IsValidEmail(std::string_view email);
// The form used for blind-index lookups: trimmed and lower-cased (ASCII), so
// lookups are case-insensitive.
std::string NormalizeEmail(std::string_view email);

// Strict YYYY-MM-DD with a real calendar day (leap years included), year >= 1800.
std::optional<Date> ParseDate(std::string_view text);
// Whole years between `birth` and the UTC day of `now_ms`; nullopt if birth is later.
std::optional<int> AgeOn(const Date& birth, std::int64_t now_ms);
Date DateOf(std::int64_t ms);

// "2013-11-07T12:00:00Z" (seconds) or "2013-11-07T12:00:00.123Z" (milliseconds).
std::string FormatTimestamp(std::int64_t ms, bool with_millis);

// Canonical lower-case 8-4-4-4-12 hex UUID.
bool IsUuid(std::string_view text);
bool IsValidUtf8(std::string_view text);
// Number of Unicode code points (text must be valid UTF-8).
std::size_t CodePoints(std::string_view text);

}  // namespace roster::core
