// The SCIM-style filter subset PingOne accepts on GET /users?filter=..., parsed once
// into a small tree and then evaluated against each user's PingOne JSON. Pure
// functions, no I/O.
//
// Grammar (keywords and operators case-insensitive, whitespace between tokens free):
//   filter     := or
//   or         := and ("or" and)*
//   and        := primary ("and" primary)*          -- "and" binds tighter than "or"
//   primary    := "(" or ")" | comparison
//   comparison := path ("eq" | "sw" | "ew") value
//              | name "[" name "eq" value "]"         -- memberOfGroups[id eq "..."]
//   path       := name ("." name)*                   -- name: letter [letter digit _ -]*
//   value      := JSON string (all JSON escapes) | true | false
// "a[b eq v]" is the comparison "a.b eq v". "ew" only on the attributes the caller
// allows it on. Any other SCIM operator (ne, co, gt, ge, lt, le, pr, not), numbers and
// null are refused by name. Limits: 2048 bytes, 32 comparisons, parentheses nested 16 deep.
// Error positions are byte offsets into the filter, counted from 0.
//
// Matching: string comparisons ignore case the way usernames do (Unicode NFKC case
// fold, core::FoldUsername; ASCII lower-casing for values that rule refuses, such as
// texts over 256 characters). "eq" is equality of the folded texts, "sw" a prefix test
// on them. true/false match only JSON booleans, strings only JSON strings.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"
#include "query/filter.h"

namespace roster::dialects::pingone {

enum class FilterOp { kEq, kSw, kEw };

struct Comparison {
  std::string path;                   // as written, e.g. "name.given"
  std::vector<std::string> segments;  // the path split at its dots
  FilterOp op = FilterOp::kEq;
  std::variant<std::string, bool> value;  // the literal, unescaped, case as written
  std::string folded;                     // a string literal case-folded once, for matching
};

struct Filter {
  enum class Kind { kComparison, kAnd, kOr };
  Kind kind = Kind::kComparison;
  Comparison comparison;         // kComparison only
  std::vector<Filter> children;  // kAnd and kOr: two or more, in the order written
};

// An exact-match lookup the dialect can answer from a blind index.
struct Equality {
  std::string attribute;  // "username" or "email", lower-case whatever the filter's case
  std::string value;      // the literal as written; the caller folds it as its index does
};

inline constexpr std::size_t kMaxFilterLength = 2048;
inline constexpr std::size_t kMaxFilterComparisons = 32;
inline constexpr std::size_t kMaxFilterDepth = 16;

// Says whether an attribute path (as written, e.g. "name.given") may be filtered on.
using KnownAttribute = std::function<bool(std::string_view path)>;

// The parsed filter, or kInvalidArgument with field "filter" and a message saying what
// is wrong and where ("unsupported operator 'co' at position 9", "unterminated string
// at position 12", "unknown attribute 'nickname'").
// `ends_with`: the paths "ew" is allowed on (none when empty).
core::Result<Filter> ParseFilter(std::string_view text, const KnownAttribute& known,
                                 const KnownAttribute& ends_with = {});

// Whether `user` satisfies `filter`. A path walks nested objects, member names matched
// exactly or else ignoring ASCII case; where it meets an array (of values or of
// objects) any element may match. A missing attribute, or one of another JSON type
// than the literal, does not match.
bool Matches(const Filter& filter, const boost::json::object& user);

// The (attribute, value) of an `eq` on username or email when that comparison must
// hold for every match: the whole filter, or one operand of a top-level "and" (nested
// "and"s included, "or"s never). Lets the dialect narrow candidates by blind index and
// then run Matches on them; the index must fold values no finer than Matches does.
std::optional<Equality> IndexHint(const Filter& filter);

// PingOne's user attributes that have no canonical name are compiled to this schema, one
// lower-cased name each ("population.id", "externalid", custom attributes), for the
// dialect's query::Extension to resolve.
inline constexpr std::string_view kPingOneSchema = "urn:roster:pingone";

// PingOne's boolean user attributes; a filter may quote their values ("true", as
// Terraform sends `enabled eq "true"`): ToQuery reads them as booleans.
bool IsBooleanUserAttribute(std::string_view path);

// The core query tree (query/filter.h) of a parsed user filter, for the query engine.
// PingOne names map to canonical paths (query/evaluate.h): username -> userName, email ->
// emails[primary eq true and value ...], name.given/family/middle/formatted/
// honorificPrefix/honorificSuffix -> name.givenName/..., nickname -> nickName, title,
// type -> userType, locale, timezone, preferredLanguage, enabled -> active, mobilePhone
// -> phoneNumbers[type eq "mobile"].value, primaryPhone -> phoneNumbers[primary eq
// true].value, address.streetAddress/locality/region/postalCode/countryCode ->
// addresses.streetAddress/.../country; every other path (id, externalId, population.id,
// memberOfGroups.id, accountId, photo.href, lifecycle.status, mfaEnabled, custom
// attributes) -> kPingOneSchema, lower-cased. A quoted "true"/"false" on a boolean
// attribute is the boolean. Strings compare as Matches does (the engine's fold is the same).
query::Node ToQuery(const Filter& filter);

}  // namespace roster::dialects::pingone
