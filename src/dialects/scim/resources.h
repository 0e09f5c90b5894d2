// The SCIM resource operations, as the routes (scim.cc) and /Bulk (bulk.cc) both run
// them: each takes a Context and parsed input and gives a Reply or an Error, never an
// HTTP response, so a Bulk operation is exactly the request it stands for.
#pragma once

#include <boost/json.hpp>

#include <string>

#include "dialects/scim/common.h"
#include "dialects/scim/patch.h"
#include "query/evaluate.h"
#include "query/filter.h"

namespace roster::dialects::scim {

// A list or search request (GET query parameters, or a SearchRequest body).
struct Search {
  std::string filter;   // empty: every resource
  std::string sort_by;  // empty: creation order
  bool descending = false;
  Page page;
  Projection projection;
};
// From GET query parameters / a POST .search body; 400 invalidValue / invalidSyntax.
Outcome<Search> SearchFromQuery(const std::map<std::string, std::string>& query);
Outcome<Search> SearchFromBody(const boost::json::object& body);

// A Search's filter and sortBy, parsed once for every resource type: 400 invalidFilter,
// or invalidValue when sortBy is not one attribute path.
struct CompiledSearch {
  std::optional<query::Node> filter;
  std::optional<query::AttrPath> sort_path;
};
Outcome<CompiledSearch> Compile(const Search& search);
// How sortBy orders two values of an attribute (RFC 7644 §3.4.2.3): strings by their
// folded text unless caseExact, booleans false first, numbers and dateTimes numerically.
int CompareSortValues(const query::Value& a, const query::Value& b);

// ---- Users (users.cc) -------------------------------------------------------------

Result CreateUser(const Context& ctx, const boost::json::object& body);
Result GetUser(const Context& ctx, const std::string& id, const Projection& projection = {});
// PUT: the body replaces every attribute the caller may write (readOnly ones ignored).
Result ReplaceUser(const Context& ctx, const std::string& id, const boost::json::object& body,
                   const Precondition& precondition);
// PATCH: a PatchOp (RFC 7644 §3.5.2).
// What a User PATCH may change: the core schema, its extensions and their aliases.
PatchTarget UserPatchTarget();
Result PatchUser(const Context& ctx, const std::string& id, const boost::json::object& body,
                 const Precondition& precondition);
Result DeleteUser(const Context& ctx, const std::string& id, const Precondition& precondition);
Result SearchUsers(const Context& ctx, const Search& search);

// ---- Groups (groups.cc) -------------------------------------------------------------

Result CreateGroup(const Context& ctx, const boost::json::object& body);
Result GetGroup(const Context& ctx, const std::string& id, const Projection& projection = {});
// PUT: displayName, externalId and the members, replaced (absent ones cleared).
Result ReplaceGroup(const Context& ctx, const std::string& id, const boost::json::object& body,
                    const Precondition& precondition);
// PATCH: a PatchOp on displayName, externalId and members (Entra ID's member batches too).
Result PatchGroup(const Context& ctx, const std::string& id, const boost::json::object& body,
                  const Precondition& precondition);
Result DeleteGroup(const Context& ctx, const std::string& id, const Precondition& precondition);
Result SearchGroups(const Context& ctx, const Search& search);

// ---- Bulk (bulk.cc) ---------------------------------------------------------------

// POST /Bulk (RFC 7644 §3.7): a BulkRequest body (at most kMaxPayloadSize bytes, 413
// above) whose operations run through the functions above, each its own write.
Result Bulk(const Context& ctx, const http::Request& req);

// ---- discovery (discovery.cc) --------------------------------------------------------

Result ServiceProviderConfig(const Context& ctx);
Result ResourceTypes(const Context& ctx, const std::string& name = {});
Result Schemas(const Context& ctx, const std::string& id = {});

}  // namespace roster::dialects::scim
