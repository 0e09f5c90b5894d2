// GET /users.json filters and order, evaluated over wire users (mapping.h ToWire).
//
//   filter[]=<type> <field> <op> <value>     type: number | string | date
//   op: eq ne gt lt ge le in between         in: "a,b,c"; between: "a,b" (inclusive)
//   order=<asc|desc> <type> <field>          (the type may be left out)
//
// Fields: id, external_user_id, blob_id (compared as numbers); created_at, updated_at,
// last_request_at (dates: ISO 8601 "YYYY-MM-DD[THH:MM:SS[.fff]Z]" or Unix seconds);
// login, email (case-insensitive), full_name, phone, website (strings); facebook_id (a
// string; digits compare as the number they write, so "number facebook_id gt 9" finds 10).
// The declared type is checked for spelling only: the SDK sends "string" for dates and
// numbers. A user whose field is null matches no filter on it (as SQL NULL would).
//
// Several filters may arrive as separate filter[] values, or joined into one value with
// commas (what the JavaScript SDK sends for a list): "number id in 1,2,string login eq x"
// splits before every ",<type> <field> <op> ". Pure: no I/O.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/user.h"
#include "query/evaluate.h"
#include "query/filter.h"

namespace roster::dialects::quickblox {

struct Filter {
  std::string field;
  std::string op;
  std::vector<std::string> values;  // one; several for in; two for between
};

struct Order {
  std::string field = "id";
  bool descending = false;
};

// kInvalidArgument (field "filter") naming what is wrong.
core::Result<std::vector<Filter>> ParseFilters(std::string_view text);
// `param` is the filter parameter: a string, or an array of strings.
core::Result<std::vector<Filter>> ParseFilterParam(const boost::json::value& param);
// kInvalidArgument (field "order").
core::Result<Order> ParseOrder(std::string_view text);

// QuickBlox fields without a canonical name are compiled to this schema (one name each,
// the wire field's) for Attribute to resolve; also "tags" (tag_list, each tag exact)
// and "search_name" (full_name compared ignoring case).
inline constexpr std::string_view kQuickBloxSchema = "urn:roster:quickblox";

// The core query tree (query/filter.h) requiring every filter, for the query engine:
// id -> number, email ->
// emails[primary eq true and value ...], login eq x -> userName eq x (the blind index)
// and the wire login; `in` -> "or" of eq, `between` -> ge and le; the rest (dates
// included: they compare at the wire's one-second precision) -> kQuickBloxSchema.
// Same matching as Matches. `filters` must not be empty.
query::Node ToQuery(const std::vector<Filter>& filters);
// The query::Extension resolving kQuickBloxSchema on a user's wire form.
std::optional<query::Values> Attribute(const core::User& user, const query::AttrPath& path);

bool Matches(const boost::json::object& user, const Filter& filter);
bool MatchesAll(const boost::json::object& user, const std::vector<Filter>& filters);
// Strict weak order for sorting: by the order field (nulls first ascending), then by id.
bool Before(const boost::json::object& a, const boost::json::object& b, const Order& order);

}  // namespace roster::dialects::quickblox
