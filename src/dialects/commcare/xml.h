// Tastypie's XML serialization (tastypie/serializers.py, Serializer.to_xml and to_etree),
// which CommCare HQ answers for `?format=xml` or an Accept header preferring XML: rendered
// from the same JSON value the JSON answer is.
//
//   <?xml version='1.0' encoding='utf-8'?>
//   <response><meta type="hash"><limit type="integer">20</limit>...</meta>
//   <objects type="list"><object type="hash"><email>a@b.org</email>...</object></objects></response>
//
// The top object is <response>; a member is an element named by its key (children
// sorted by name, as to_etree sorts them); an object inside a list is <object
// type="hash">, a list <name type="list"> (<objects> inside a list), a scalar inside a
// list <value>. Scalars carry type="integer|float|boolean|null" (strings none); booleans
// read True/False, null has no text. A key that is no XML name (CommCare drops user_data
// keys starting with a digit for XML; lxml refuses the others) is left out, and characters
// XML 1.0 cannot hold are replaced by U+FFFD, so the answer always parses.
#pragma once

#include <boost/json.hpp>

#include <string>

#include "http/message.h"

namespace roster::dialects::commcare {

std::string TastypieXml(const boost::json::value& value);

// Whether the request asks for XML: `format=xml`, or, without `format`, an Accept header
// that prefers application/xml or text/xml to application/json (ties go to JSON, as
// tastypie's determine_format with its formats reversed).
bool WantsXml(const http::Request& req);

// `r` (a JSON answer) as XML, when the request wants it; other answers unchanged.
http::Response AsRequested(const http::Request& req, http::Response r);

}  // namespace roster::dialects::commcare
