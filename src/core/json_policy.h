// One JSON reading policy for every document Roster receives and every document it
// stores (sealed profiles, sealed records, attribute values, dialect state). Writers
// and readers share these limits, so what was accepted can always be read back:
//
//   a received document (a request body, a value in a form) nests at most
//   kMaxReceivedDepth deep and its numbers come back exactly as sent (a number a
//   double cannot hold - 1e999999, 12345678901234567890123 - is refused, naming its
//   field, instead of being stored as something else);
//   a value a writer stores (one attribute, one dialect's state, extras, a record body)
//   nests at most kMaxValueDepth deep (CheckStoredValue, on write);
//   a stored document is read with kMaxStoredDepth, which is kMaxValueDepth plus more
//   than any envelope a store adds around a value, so the reader's depth is never lower
//   than the writer's.
//
// Every parse of client or stored JSON goes through ParseReceived or ParseStored.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/error.h"

namespace roster::core {

inline constexpr std::size_t kMaxReceivedDepth = 32;
inline constexpr std::size_t kMaxValueDepth = kMaxReceivedDepth;
inline constexpr std::size_t kMaxStoredDepth = 2 * kMaxValueDepth;

// Why a received document was refused. `field` is the dotted path of the member that
// broke the policy ("extras", "attributes.color.a"; array positions are left out so
// the path names a field, at most four names deep), or "body" for a document that is
// not JSON at all; `message` is safe to show (never a value).
struct JsonProblem {
  std::string field;
  std::string message;
};

// A client's document: syntax, depth (kMaxReceivedDepth) and exact numbers checked.
std::expected<boost::json::value, JsonProblem> ParseReceived(std::string_view text);

// A stored document or a stored fragment of one: read with kMaxStoredDepth.
std::expected<boost::json::value, boost::system::error_code> ParseStored(std::string_view text);
// The same in json::parse's form: sets `ec` and returns null on failure.
boost::json::value ParseStored(std::string_view text, boost::system::error_code& ec);

// How deep `v` nests: 0 for a scalar, 1 for an object or array of scalars.
std::size_t JsonDepth(const boost::json::value& v);

// For writers: refuses (kInvalidArgument naming `field`) a value nesting deeper than
// kMaxValueDepth, so a stored document never needs a deeper reader than ParseStored.
Status CheckStoredValue(const boost::json::value& v, const std::string& field);
// For a stored document (a record's body): refuses, naming the member, a body that
// nests deeper than kMaxStoredDepth, the depth ParseStored reads.
Status CheckStoredDocument(const boost::json::object& document);
// The same as CheckStoredValue for a value held as JSON text (attributes, dialect state, extras).
Status CheckStoredText(std::string_view text, const std::string& field);

// Whether the JSON number text `text` (as sent) reads back unchanged from the double
// `d` a parser made of it: same sign, digits and exponent once normalized. False for
// an overflow (infinity), an underflow to zero and a digit a double cannot keep.
bool DoubleKeepsText(double d, std::string_view text);

}  // namespace roster::core
