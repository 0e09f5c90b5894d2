// CommCare's WebUserResourceSpec (corehq/apps/api/validation.py): what a web-user PATCH
// and an invitation POST may carry, checked in CommCare's order with its messages. The
// roles are CommCare's presets; a domain's user profiles and Tableau groups are its
// configuration (`roster commcare domain configure`, kept in the environment's settings).
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "dialects/commcare/common.h"
#include "service/locations.h"

namespace roster::dialects::commcare {

// A domain's configuration: profiles and Tableau groups (none: the domain has no user
// profile privilege, no Tableau user syncing).
struct DomainConfig {
  std::vector<std::string> profiles;
  std::vector<std::string> tableau_groups;
};
core::Result<DomainConfig> LoadDomainConfig(const Context& c, const std::string& environment_id);
core::Status SaveDomainConfig(const Services& s, const std::string& environment_id, const DomainConfig& config);

// A checked request: fields absent in the body are nullopt. Location ids are record ids.
struct WebUserSpec {
  std::optional<std::string> email, role, profile, tableau_role;
  std::optional<service::LocationAssignment> locations;
  std::optional<boost::json::object> user_data;
  std::optional<std::vector<std::string>> tableau_groups;
};

// The outcome: the spec, or the response to send (400 {"errors": [...]} or {"error"}).
struct SpecResult {
  std::optional<WebUserSpec> spec;
  std::optional<http::Response> refusal;
};
// `is_post`: an invitation (email and role required, email allowed); else a PATCH.
core::Result<SpecResult> CheckWebUserSpec(const Context& c, const Caller& caller, const boost::json::object& body,
                                          bool is_post);

// Rendering helpers of the web-user and invitation wires: record ids as CommCare's hex
// ids, and a body's text member or null when absent or empty.
boost::json::array HexIdList(const boost::json::value* ids);
boost::json::value TextOrNull(const boost::json::object& body, const char* key);

// {"errors": [message]} with 400, CommCare's WebUserValidationException shape.
http::Response ValidationErrors(std::vector<std::string> messages);

}  // namespace roster::dialects::commcare
