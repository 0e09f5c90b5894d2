// SCIM PATCH (RFC 7644 §3.5.2) over a rendered resource: add, remove and replace, with
// or without a path; paths `attr`, `attr.sub`, `urn:...:attr[.sub]`, and value filters
// `attr[filter]` / `attr[filter].sub` (the filter grammar and semantics of the query
// engine). Operation names are case-insensitive ("Replace", as Microsoft Entra ID
// sends). The patched document is then read back as a whole resource, so every rule
// of a PUT applies to the result and the write is one transaction.
//
// Leniencies (documented in docs/dialects/scim.md): `add`/`replace` through a value
// filter that matches no element adds one built from the filter's `eq` comparisons (how
// Entra ID sets `emails[type eq "work"].value` on a user with no work email); a no-path
// value's keys may themselves be paths ("name.givenName", "urn:...:User:department").
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialects/scim/common.h"
#include "query/filter.h"

namespace roster::dialects::scim {

struct PatchPath {
  std::string urn;   // empty: the core schema; else an extension URN, as known by the target
  std::string attr;  // empty: the whole extension (only with urn)
  std::optional<query::Node> filter;
  std::string sub;
};

struct PatchOperation {
  enum class Op { kAdd, kRemove, kReplace };
  Op op = Op::kAdd;
  std::optional<PatchPath> path;
  boost::json::value value;
};

// What the resource is: its core schema, the extension URNs it may carry, and its
// read-only attributes (a PATCH naming one is 400 mutability).
struct PatchTarget {
  std::string_view core_urn;
  std::vector<std::string_view> extensions;
  std::vector<std::string_view> read_only;
  // Names a path may give without their extension's URN, and that URN: Microsoft Entra ID
  // sends "path": "manager" for the enterprise extension's manager.
  std::vector<std::pair<std::string_view, std::string_view>> aliases = {};
};

// The Operations of a PatchOp body: 400 invalidSyntax (no schema, no Operations, an
// unknown op), invalidPath (a malformed path) or invalidValue (a missing value).
Outcome<std::vector<PatchOperation>> ParsePatch(const boost::json::object& body);

// Applies `ops` in order; the first failing one fails all (400 noTarget, invalidPath,
// mutability, invalidValue).
Outcome<void> ApplyPatch(boost::json::object& resource, const std::vector<PatchOperation>& ops,
                         const PatchTarget& target);

// One path (for tests and for Groups' member shortcuts): 400 invalidPath.
Outcome<PatchPath> ParsePatchPath(std::string_view text, const PatchTarget* target = nullptr);

}  // namespace roster::dialects::scim
