// ETag and If-Match over a resource's version number (RFC 9110 §8.8.3, §13.1.1): wire
// helpers only. Whether a write holds is the service's check (WriteOptions::
// expected_version, RecordService's expected_version), made in the write's transaction.
//
// Roster's ETags are weak, W/"<version>": each API renders the same stored state in its
// own bytes, but the version names that state exactly, which is what a conditional write
// is about. So If-Match compares versions and ignores W/ (RFC 9110 asks for the strong
// comparison, under which a weak tag never matches; echoing our ETag must work).
// A malformed If-Match is a 400 naming the header, not a 412: the client did not state a
// condition we can evaluate, and "the resource changed" would send it round a retry loop.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "http/message.h"

namespace roster::http {

// W/"<version>"
std::string WeakETag(std::int64_t version);
// Adds `ETag: W/"<version>"` to the response.
void SetETag(Response& response, std::int64_t version);
// The response with that ETag, unless it is an error (status >= 300).
Response WithETag(Response response, std::int64_t version);

struct IfMatch {
  bool any = false;                    // "*": any current representation
  std::vector<std::int64_t> versions;  // listed tags that are versions, W/ or not; other tags match nothing
  bool Matches(std::int64_t version) const;
};

// The request's If-Match (several fields combine into one list); nullopt without one.
// kInvalidArgument, field "If-Match", when it is neither "*" nor a list of entity tags
// (e.g. an unquoted 3). An empty list is valid and matches nothing.
core::Result<std::optional<IfMatch>> ParseIfMatch(const Request& request);

// The version a write must still find, for expected_version: nullopt without If-Match or
// with "*"; the listed version; with several listed, `current()` (the resource's version
// now, called only then) if it is among them. A list naming no version (or only others)
// gives a listed version or 0, which the resource is not at, so the write fails with 412.
core::Result<std::optional<std::int64_t>> ExpectedVersion(const Request& request,
                                                          const std::function<core::Result<std::int64_t>()>& current);

}  // namespace roster::http
