// Locations and location types as CommCare models an organization (issue 17): a tree
// of location types (state > district > facility), and locations placed in it, each of
// a type whose parent type is the type of the location's parent (a root location has a
// root type). Users are assigned to locations (memberships of kind "location") and
// have one primary location among them.
//
// Both are records (service/record_service.h) of the environment:
//   location_type  {"name", "code", "parent_id", "administrative", "shares_cases",
//                   "view_descendants"}; code unique per environment (a unique claim).
//   location       {"name", "site_code", "type_id", "parent_id", "location_data",
//                   "latitude", "longitude", "external_id"}; site_code unique per
//                   environment, and the name unique among its siblings (unique
//                   claims, so concurrent writes cannot both take one).
// parent_id is "" for a root. Codes and site codes are stored lower-cased. The rules
// live here, for every API; the CommCare dialect only renders them.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/access.h"
#include "core/user.h"
#include "service/record_service.h"
#include "service/user_service.h"

namespace roster::service {

inline constexpr const char* kLocationKind = "location";
inline constexpr const char* kLocationTypeKind = "location_type";
inline constexpr const char* kLocationSiteCodeClaim = "location.site_code";
inline constexpr const char* kLocationSiblingClaim = "location.sibling_name";
inline constexpr const char* kLocationParentClaim = "location.parent";
inline constexpr const char* kLocationTypeOfClaim = "location.type";
inline constexpr const char* kLocationTypeCodeClaim = "location_type.code";
inline constexpr const char* kLocationTypeParentClaim = "location_type.parent";
// Where a user's primary location is kept: user.dialect_json[kUserLocationsKey] =
// {"primary": "<location id>"} (the assignments themselves are memberships).
inline constexpr const char* kUserLocationsKey = "locations";

// The fields of a write; absent members are left as they are (an update) or defaulted
// (a create). Type and parent are record ids ("" parent: a root).
struct LocationTypeFields {
  std::optional<std::string> name, code, parent_id;
  std::optional<bool> administrative, shares_cases, view_descendants;
};
struct LocationFields {
  std::optional<std::string> name, site_code, type_id, parent_id;
  std::optional<boost::json::object> location_data;
  std::optional<std::optional<std::string>> latitude, longitude;  // nullopt inside: null
  std::optional<std::optional<std::string>> external_id;
};

std::string BodyText(const Record& r, const char* key);

// A user's assignment: its locations (record ids) and its primary one ("" when none).
struct LocationAssignment {
  std::vector<std::string> locations;
  std::string primary;
};
// The user's stored primary location id ("" when none).
std::string PrimaryLocationOf(const core::User& user);
// Sets (or, with "", clears) the primary location in `user`.
void SetPrimaryLocation(core::User& user, const std::string& location_id);

// The location use cases as `principal` may perform them: writes need groups:write (the
// organization, like groups). Errors: kPermissionDenied; kNotFound for the record
// addressed; kInvalidArgument naming the field for a rule broken (messages as CommCare
// words them); kAlreadyExists naming the claim for a taken code or site code or a
// sibling of the same name; kFailedPrecondition for a delete that would orphan
// locations or assignments. A cheap value: build one per request.
class LocationAccess {
 public:
  LocationAccess(RecordService& records, core::Principal principal)
      : records_(records), principal_(std::move(principal)) {}

  // ---- location types ----
  core::Result<Record> GetType(const std::string& id);
  core::Result<Record> GetTypeByNumber(std::int64_t number);
  core::Result<std::optional<Record>> FindTypeByCode(const std::string& code);
  core::Result<std::vector<Record>> ListTypes(std::int64_t after_number, int limit);
  // name required; code defaults to the name made a slug; parent_id "" or a type.
  core::Result<Record> CreateType(const LocationTypeFields& fields);
  // A type's parent changes only while no location is of the type, and never to itself
  // or one of its descendants.
  core::Result<Record> UpdateType(const std::string& id, const LocationTypeFields& fields,
                                  std::optional<std::int64_t> expected_version = std::nullopt);
  // Refused while a location is of the type or a type has it as parent.
  core::Status DeleteType(const std::string& id, std::optional<std::int64_t> expected_version = std::nullopt);

  // ---- locations ----
  core::Result<Record> Get(const std::string& id);
  core::Result<std::optional<Record>> FindBySiteCode(const std::string& site_code);
  core::Result<std::vector<Record>> List(std::int64_t after_number, int limit);
  // name and type_id required; site_code defaults to the name made a slug (made unique
  // with a number); the type's parent type must be the parent's type (none for a root).
  core::Result<Record> Create(const LocationFields& fields);
  // The same rules for what changes; a location with children keeps its type.
  core::Result<Record> Update(const std::string& id, const LocationFields& fields,
                              std::optional<std::int64_t> expected_version = std::nullopt);
  // Refused while it has child locations, or users, web users or a pending invitation
  // assigned to it.
  core::Status Delete(const std::string& id, std::optional<std::int64_t> expected_version = std::nullopt);

  // ---- users ----
  // The assignment to write: kInvalidArgument naming "locations[i]" for an id that is no
  // location of the environment (or a duplicate), "primary_location" for a primary not
  // among the locations. Without a primary, the first location is the primary.
  core::Result<LocationAssignment> CheckAssignment(LocationAssignment assignment);
  // The user's assignment as stored (a primary no longer among its locations is none).
  core::Result<LocationAssignment> AssignmentOf(const core::User& user);

 private:
  const std::string& env() const { return principal_.environment_id; }
  core::Status CheckHierarchy(const Record& type, const std::string& parent_id);
  core::Result<std::string> GenerateSiteCode(const std::string& name);
  core::Result<std::vector<Record>> Children(const std::string& id);

  RecordService& records_;
  core::Principal principal_;
};

// The claims of a location type and of a location (exposed for tests and re-derivation).
std::vector<Claim> LocationTypeClaims(const Record& type);
std::vector<Claim> LocationClaims(const Record& location);
// CommCare's slug for a code or site code: lower-cased, runs of other than [a-z0-9]
// become one '_', trimmed of '_'.
std::string LocationSlug(const std::string& text);

}  // namespace roster::service
