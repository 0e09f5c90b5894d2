// application/x-www-form-urlencoded bodies and query strings as the QuickBlox SDK
// (and browsers, curl) send them, turned into a JSON object with Rails-style brackets.
//
//   a=1                        -> {"a":"1"}
//   user[login]=x&user[n]=y    -> {"user":{"login":"x","n":"y"}}
//   filter[]=a&filter[]=b      -> {"filter":["a","b"]}
//   a[b][c]=1  a[b][]=1        -> {"a":{"b":{"c":"1"}}}  {"a":{"b":["1"]}}
//
// Pure: no I/O, no HTTP types. Every leaf value is a JSON string.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace roster::dialects::quickblox {

// At most this many bracket groups after the name: "a[b][c]" is the deepest key accepted.
inline constexpr std::size_t kMaxFormNesting = 2;
// At most this many key=value pairs in one body or query string.
inline constexpr std::size_t kMaxFormPairs = 256;

// One decoded pair, in wire order. `key` is the whole decoded key, brackets included
// ("user[login]", "filter[]"): the form the session signature is computed over.
struct FormPair {
  std::string key;
  std::string value;
  friend bool operator==(const FormPair&, const FormPair&) = default;
};

struct ParsedForm {
  boost::json::object object;
  std::vector<FormPair> pairs;
};

// Parses `input` (a body, or a query string without its '?').
//
// Decoding: "%XX" escapes (hex digits in either case) and '+' as a space; brackets may be
// literal or percent-encoded ("%5B"/"%5D"). Pairs are separated by '&'; empty segments
// ("a=1&&b=2", a trailing '&') are skipped; a segment without '=' has an empty value.
// Empty input gives an empty object.
//
// Fails with kInvalidArgument (message names the problem, never a value; `field` is the
// decoded key when one is known) on: a malformed "%" escape, a key or value that is not
// valid UTF-8, an empty name ("=1", "[a]=1"), malformed brackets ("a[b", "a]", "a[b]c"),
// an empty sub-key anywhere but last ("a[][b]"), more than kMaxFormNesting bracket
// groups, more than kMaxFormPairs pairs, a key given twice ("a=1&a=2"; only "[]" keys
// repeat), and a key used with two shapes ("a=1&a[b]=2", "a[]=1&a=2", "a[b]=1&a[]=2").
core::Result<ParsedForm> ParseForm(std::string_view input);

}  // namespace roster::dialects::quickblox
