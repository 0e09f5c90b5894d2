#include "dialects/commcare/web_user_spec.h"

#include <algorithm>

#include "core/rules.h"
#include "service/environment_settings.h"
#include "service/invitations.h"

namespace roster::dialects::commcare {
namespace json = boost::json;

namespace {

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string Join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> Strings(const json::value* v) {
  std::vector<std::string> out;
  if (v && v->is_array())
    for (const auto& e : v->get_array())
      if (e.is_string()) out.emplace_back(e.get_string());
  return out;
}

// A string member, nullopt when absent or null; kInvalidArgument for another type.
core::Result<std::optional<std::string>> OptionalText(const json::object& body, const char* key) {
  const auto* v = body.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return core::InvalidArgument(key, std::string("'") + key + "' must be a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

core::Result<std::optional<std::vector<std::string>>> OptionalList(const json::object& body, const char* key) {
  const auto* v = body.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::vector<std::string>>();
  const std::string bad = std::string("'") + key + "' must be a list of strings";
  if (!v->is_array()) return core::InvalidArgument(key, bad);
  std::vector<std::string> out;
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return core::InvalidArgument(key, bad);
    out.emplace_back(e.get_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

}  // namespace

core::Result<DomainConfig> LoadDomainConfig(const Context& c, const std::string& environment_id) {
  auto settings = service::LoadEnvironmentSettings(c.s.records, environment_id);
  if (!settings) return std::unexpected(settings.error());
  DomainConfig out;
  if (const auto* cc = settings->if_contains("commcare"); cc && cc->is_object()) {
    out.profiles = Strings(cc->get_object().if_contains("profiles"));
    out.tableau_groups = Strings(cc->get_object().if_contains("tableau_groups"));
  }
  return out;
}

core::Status SaveDomainConfig(const Services& s, const std::string& environment_id, const DomainConfig& config) {
  return service::UpdateEnvironmentSettings(s.records, environment_id, [&](json::object& settings) {
    json::array profiles, groups;
    for (const auto& p : config.profiles) profiles.emplace_back(p);
    for (const auto& g : config.tableau_groups) groups.emplace_back(g);
    settings["commcare"] = json::object{{"profiles", std::move(profiles)}, {"tableau_groups", std::move(groups)}};
  });
}

json::array HexIdList(const json::value* ids) {
  json::array out;
  if (ids && ids->is_array())
    for (const auto& id : ids->get_array())
      if (id.is_string()) out.emplace_back(HexId(id.get_string()));
  return out;
}

json::value TextOrNull(const json::object& body, const char* key) {
  const auto* v = body.if_contains(key);
  return v && v->is_string() && !v->get_string().empty() ? *v : json::value(nullptr);
}

http::Response ValidationErrors(std::vector<std::string> messages) {
  json::array errors;
  for (auto& m : messages) errors.emplace_back(m);
  return Json(400, json::object{{"errors", std::move(errors)}});
}

core::Result<SpecResult> CheckWebUserSpec(const Context& c, const Caller& caller, const json::object& body,
                                          bool is_post) {
  const auto refuse = [](std::string message) -> core::Result<SpecResult> {
    return SpecResult{std::nullopt, ValidationErrors({std::move(message)})};
  };
  WebUserSpec spec;
  // Types first (CommCare's Python takes what it is given; a wrong type is a 400 here).
  auto email = OptionalText(body, "email");
  auto role = OptionalText(body, "role");
  auto primary = OptionalText(body, "primary_location_id");
  auto assigned = OptionalList(body, "assigned_location_ids");
  auto profile = OptionalText(body, "profile");
  auto tableau_role = OptionalText(body, "tableau_role");
  auto tableau_groups = OptionalList(body, "tableau_groups");
  for (const core::Error* e : {email ? nullptr : &email.error(), role ? nullptr : &role.error(),
                               primary ? nullptr : &primary.error(), assigned ? nullptr : &assigned.error(),
                               profile ? nullptr : &profile.error(), tableau_role ? nullptr : &tableau_role.error(),
                               tableau_groups ? nullptr : &tableau_groups.error()})
    if (e) return refuse(e->message);
  if (const auto* data = body.if_contains("user_data"); data && !data->is_null()) {
    if (!data->is_object()) return refuse("'user_data' must be a dictionary");
    spec.user_data = data->get_object();
  }
  auto config = LoadDomainConfig(c, caller.domain.id);
  if (!config) return std::unexpected(config.error());

  // CommCare's validators, in its attribute order: email, role, locations, profile,
  // user_data, tableau_role, tableau_groups, parameters; the first refusal answers.
  if (is_post) {
    if (*email && !(*email)->empty()) {
      const std::string normalized = core::NormalizeEmail(**email);
      auto web_user = c.s.records.Find(caller.domain.id, kWebUserEmailClaim, normalized);
      if (!web_user) return std::unexpected(web_user.error());
      auto invited = service::InvitationAccess(c.s.records, caller.principal).FindByEmail(normalized);
      if (!invited) return std::unexpected(invited.error());
      if (!web_user->empty() || invited->has_value()) return refuse(service::kInvitationTaken);
      if (!core::IsValidEmail(normalized)) return refuse("User has an invalid email address for their email");
    } else {
      return refuse("'email' is required for each user");
    }
    if (!*role || (*role)->empty()) return refuse("'role' required for each user");
  } else if (*role && (*role)->empty()) {
    return refuse("'role' is required for each user");
  }
  if (*role && !Contains(RoleNames(), **role))
    return refuse("Role '" + **role + "' does not exist or you do not have permission to access it");
  if (*primary || *assigned) {
    if (!*primary || !*assigned) return refuse("Both primary_location and locations must be provided together.");
    if (!(*primary)->empty() && !Contains(**assigned, **primary))
      return refuse("Primary location must be one of the user's locations");
    if (!(*assigned)->empty() && (*primary)->empty())
      return refuse("Primary location can't be empty if the user has any locations set");
    service::LocationAssignment a;
    std::vector<std::string> missing;
    service::LocationAccess locations(c.s.records, caller.principal);
    for (const auto& hex : **assigned) {
      auto id = UuidFromHex(hex);
      if (id) {
        auto l = locations.Get(*id);
        if (l) {
          a.locations.push_back(*id);
          if (hex == **primary) a.primary = *id;
          continue;
        }
        if (l.error().code != core::ErrorCode::kNotFound) return std::unexpected(l.error());
      }
      missing.push_back(hex);
    }
    if (!missing.empty())
      return SpecResult{std::nullopt, ErrorResponse(400, "Could not find location ids: " + Join(missing) + ".")};
    spec.locations = std::move(a);
  }
  if (*profile && !config->profiles.empty() && !Contains(config->profiles, **profile))
    return refuse("Profile '" + **profile + "' does not exist");
  if (spec.user_data && spec.user_data->contains("commcare_profile"))
    return refuse("'commcare_profile' is defined by the profile so cannot be set directly");
  if (*tableau_role && !Contains(TableauRoles(), **tableau_role))
    return refuse("Invalid tableau role: '" + **tableau_role +
                  "'. Please choose one of the following: " + Join(TableauRoles()));
  if (*tableau_groups) {
    std::vector<std::string> invalid;
    for (const auto& g : **tableau_groups)
      if (!Contains(config->tableau_groups, g)) invalid.push_back(g);
    if (!invalid.empty() && !config->tableau_groups.empty())
      return refuse("These groups, " + Join(invalid) + ", are not valid for this domain. Please choose from the "
                    "following: " + Join(config->tableau_groups));
  }
  std::vector<std::string> param_errors;
  std::vector<std::string> invalid_params;
  for (const auto& [key, value] : body) {
    static const std::vector<std::string> allowed = {"role",    "primary_location_id", "assigned_location_ids",
                                                     "profile", "user_data",           "tableau_role",
                                                     "tableau_groups"};
    if (!Contains(allowed, std::string(key)) && !(is_post && key == "email")) invalid_params.emplace_back(key);
  }
  if (!invalid_params.empty()) param_errors.push_back("Invalid parameter(s): " + Join(invalid_params));
  if ((body.contains("tableau_role") || body.contains("tableau_groups")) && config->tableau_groups.empty())
    param_errors.emplace_back("You do not have permission to edit Tableau Configuration.");
  if (body.contains("profile") && config->profiles.empty())
    param_errors.emplace_back("This domain does not have user profile privileges.");
  if (!param_errors.empty()) return SpecResult{std::nullopt, ValidationErrors(std::move(param_errors))};

  if (*email) spec.email = core::NormalizeEmail(**email);
  spec.role = *role;
  spec.profile = *profile;
  spec.tableau_role = *tableau_role;
  spec.tableau_groups = *tableau_groups;
  return SpecResult{std::move(spec), std::nullopt};
}

}  // namespace roster::dialects::commcare
