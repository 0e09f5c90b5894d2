// The one query engine every list path uses: a filter tree (query/filter.h) over an
// environment's users, with bounded work per request.
//
// Profiles are sealed, so a filter is evaluated on opened users. The engine picks what
// narrows the candidates: a blind-index equality (username, externalId, primary email) the
// filter is or ANDs in; a record's members (`within_record`); a range on `number` the
// filter ANDs in (it moves the keyset start and end). Otherwise it walks the
// environment's users in keyset (number) order, in chunks, opening and testing each.
// It reads at most `budget` rows per call and never holds more than one chunk plus the
// page: the result says where to continue (`next_after`, the last number read) and
// whether the budget stopped it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/user.h"
#include "query/evaluate.h"
#include "query/filter.h"

namespace roster::service {

// Rows a query reads at most per call, unless the call says otherwise.
inline constexpr int kDefaultQueryBudget = 1000;
// Index rows a count from the index alone reads at most (more: the walk counts, within
// its budget). An index row costs ~1/50 of an opened user.
inline constexpr std::int64_t kExactCountCap = 50'000;

enum class ArchivedUsers { kExclude, kInclude, kOnly };

struct UserQuery {
  std::string environment_id;
  const query::Node* filter = nullptr;  // null: every user
  query::Extension extension;           // the dialect's own attributes, if any
  std::string within_record;            // non-empty: only the members of this record
  std::int64_t after = 0;               // continuation: the number after which to read
  int page_size = 100;                  // matches returned at most (1..1000)
  std::int64_t skip = 0;                // matches passed over before the page
  // Keep reading after the page is full (within the budget), counting matches, so the
  // caller can tell a total (exact when the walk reached the end).
  bool count = false;
  int budget = kDefaultQueryBudget;  // rows read at most (>= 1)
  ArchivedUsers archived = ArchivedUsers::kExclude;
  // What the caller may see of each user (service::UserAccess sets it): applied to every
  // user read before the filter is evaluated, so a filter cannot test a hidden field.
  std::function<void(core::User&)> view;
  // Whether `view` leaves an attribute path (canonical, lower-case) as it is on every
  // user (UserAccess: core::RedactKeeps). A total is counted from the index alone only
  // for a filter on a path it keeps; unset while `view` is set: none.
  std::function<bool(std::string_view path)> view_keeps;
};

struct QueryResult {
  std::vector<core::User> users;  // the page, in number order
  std::int64_t matched = 0;       // matches seen: skipped + returned (+ counted)
  std::int64_t rows_read = 0;     // users opened
  // Where to go on: the number after which the next call should read (the last row
  // read, or the last user returned when a further match is known); 0 when nothing is left.
  std::int64_t next_after = 0;
  std::int64_t page_end = 0;  // the number of the last user returned (0: none)
  bool budget_hit = false;    // stopped by the budget, not by the end or a full page
  // The claim kinds used ("|" between streams), "members" or "scan"; "+count" when the
  // total came from the index alone (for tests, logs).
  std::string plan;
};

// The (kind, value) of a blind-index equality the filter requires of every match:
// `userName eq "x"`, `externalId eq "x"` (exact, as its claim), or
// `emails[primary eq true and value eq "x"]` (ASCII value only: the email index
// lower-cases ASCII, the filter folds Unicode), as the whole filter or an operand of its
// top-level "and"s, preferred in that order.
struct IndexEquality {
  std::string kind;  // a claim kind: "username", "externalId" or "email"
  std::string value;
};
std::optional<IndexEquality> IndexHint(const query::Node& filter);

// The keyset range on `number` the filter's top-level "and"s require: (after, upto].
struct NumberRange {
  std::int64_t after = 0;
  std::int64_t upto = INT64_MAX;
};
NumberRange NumberRangeOf(const query::Node& filter);

}  // namespace roster::service
