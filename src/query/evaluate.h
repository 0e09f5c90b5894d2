// Evaluates a filter tree (filter.h) on a canonical user (core/user.h).
//
// Canonical attributes (SCIM 2.0 names, case-insensitive; type in brackets):
//   id, externalId [string, caseExact]; userName, displayName, nickName, title, userType,
//   locale, timezone, preferredLanguage, profileUrl [string]; active [boolean];
//   number [number: Roster's integer id, the keyset order];
//   name.{givenName, familyName, middleName, formatted, honorificPrefix, honorificSuffix};
//   emails[], phoneNumbers[] .{value, type [string], primary [boolean]};
//   addresses[] .{type, streetAddress, locality, region, postalCode, country [string]};
//   meta.{created, lastModified [dateTime, from created_at_ms / updated_at_ms],
//   resourceType}.
// The enterprise extension (schema urn:ietf:params:scim:schemas:extension:enterprise:2.0:
// User): employeeNumber, costCenter, organization, division, department [string],
// manager.value [string, caseExact: the manager's id].
// A multi-valued or complex attribute named without a sub-attribute stands for its
// `value` sub-attribute (RFC 7644 3.4.2.2).
//
// Semantics (RFC 7643 2.2, 7644 3.4.2.2): strings compare case-insensitively (Fold)
// unless caseExact; gt/ge/lt/le order strings lexicographically (of the folded text),
// numbers numerically, dateTimes chronologically (the literal is a string in xsd:dateTime
// form, "2024-01-31T12:00:00Z", fractions and offsets allowed, or a date alone). A
// multi-valued attribute matches when any element does. An absent attribute (empty
// string, empty list) matches no comparison but `eq null`; `ne null` is `pr`. A literal
// of another type than the attribute (a number for a string...) does not match.
// A value path `emails[type eq "work" and primary eq true]` matches when one element
// satisfies the whole sub-filter.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/user.h"
#include "query/filter.h"

namespace roster::query {

inline constexpr std::string_view kEnterpriseUserSchema =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user";  // lower-cased, as AttrPath::schema

struct Member;

// One attribute value as the evaluator sees it.
struct Value {
  enum class Type { kString, kBool, kNumber, kDateTime, kComplex };
  Type type = Type::kString;
  std::string text;         // kString
  bool case_exact = false;  // kString
  bool boolean = false;     // kBool
  double number = 0;        // kNumber; kDateTime: milliseconds since the epoch
  std::vector<Member> members;  // kComplex: sub-attributes (lower-case names)
};
struct Member {
  std::string name;
  Value value;
};
using Values = std::vector<Value>;  // empty: absent

Value Text(std::string text, bool case_exact = false);
Value Boolean(bool value);
Value Numeric(double value);
Value DateTime(std::int64_t ms);

// The extension hook: values of an attribute only a dialect has (e.g. QuickBlox tags in
// dialect_json), or nullopt when the path is not the dialect's, so the canonical
// attributes apply. Called with the path as written in the tree (lower-cased).
using Extension = std::function<std::optional<Values>(const core::User& user, const AttrPath& path)>;

// Whether `user` satisfies `filter`.
bool Matches(const Node& filter, const core::User& user, const Extension& extension = {});

// Whether the values `resolve` gives for each attribute path satisfy `filter`: the same
// semantics over another kind of object (e.g. one element of a SCIM multi-valued
// attribute in a PATCH path's value filter). Names reach `resolve` lower-cased.
bool MatchesResolved(const Node& filter, const std::function<Values(const AttrPath&)>& resolve);

// The values of one attribute path of a user (canonical, or the extension's).
Values Resolve(const core::User& user, const AttrPath& path, const Extension& extension = {});

// xsd:dateTime / RFC 3339 ("YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm)") to
// milliseconds since the epoch; nullopt if malformed.
std::optional<std::int64_t> ParseDateTime(std::string_view text);

}  // namespace roster::query
