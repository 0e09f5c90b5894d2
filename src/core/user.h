// The canonical user: one vocabulary (SCIM 2.0 core + enterprise names, plus a health
// extension for the PII/PHI fields Catalyze carries) that every dialect maps to and
// from. Optional values are empty strings / empty vectors when absent. `age` is never
// stored: AgeOn() derives it from birthDate at read time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace roster::core {

struct Name {
  std::string formatted, given_name, middle_name, family_name, honorific_prefix,
      honorific_suffix;
  bool operator==(const Name&) const = default;
};

// A typed, multi-valued contact (SCIM emails[] / phoneNumbers[]).
struct Contact {
  std::string type;  // "home", "work", "mobile", "other", ...
  std::string value;
  bool primary = false;
  bool operator==(const Contact&) const = default;
};

struct Geocode {
  double latitude = 0, longitude = 0;
  bool operator==(const Geocode&) const = default;
};

struct Address {
  std::string type, street_address, street_address2, locality, region, postal_code, country;
  std::optional<Geocode> geocode;
  bool operator==(const Address&) const = default;
};

struct Photo {
  std::string type;  // "photo" or "thumbnail" (SCIM)
  std::string value;
  bool operator==(const Photo&) const = default;
};

struct Guardian {
  std::string guardian_id, relationship;
  bool operator==(const Guardian&) const = default;
};
struct Language {
  std::string language, mode;
  bool operator==(const Language&) const = default;
};
struct SocialId {
  std::string handle, network;
  bool operator==(const SocialId&) const = default;
};
struct Mrn {
  std::string institution_id, mrn;
  bool operator==(const Mrn&) const = default;
};
struct HealthPlan {
  std::string institution_id, type, group_name, group_id, member_id;
  bool operator==(const HealthPlan&) const = default;
};

// The SCIM enterprise extension (RFC 7643 §4.3): urn:ietf:params:scim:schemas:extension:
// enterprise:2.0:User. `manager_id` is the id of another user of the environment.
struct Enterprise {
  std::string employee_number, cost_center, organization, division, department, manager_id;
  bool operator==(const Enterprise&) const = default;
  bool empty() const { return *this == Enterprise{}; }
};

// Everything sealed at rest. Serialized by profile_codec.h.
struct Profile {
  Name name;
  std::string display_name, nick_name, title, user_type, preferred_language, locale, timezone,
      profile_url;
  std::vector<Contact> emails;
  std::vector<Contact> phone_numbers;
  std::vector<Address> addresses;
  std::vector<Photo> photos;
  Enterprise enterprise;
  // health extension
  std::string maiden_name, birth_date /* YYYY-MM-DD */, gender, marital_status, religion, race,
      ethnicity, ssn, conf_code;
  std::vector<Mrn> mrns;
  std::vector<HealthPlan> health_plans;
  std::vector<Guardian> guardians;
  std::vector<Language> languages;
  std::vector<SocialId> social_ids;
  // Free JSON returned as stored (Catalyze extras); serialized JSON text, empty if absent.
  std::string extras_json;
  bool operator==(const Profile&) const = default;

  // The primary email (the one flagged primary, else none).
  const Contact* PrimaryEmail() const;
};

struct User {
  std::string id;  // UUID, lower-case canonical form
  std::int64_t number = 0;  // for APIs with integer ids
  std::string environment_id;
  std::string username;  // as sent; compared case-folded (see username.h)
  bool active = false;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t version = 0;
  Profile profile;
  // Retired (CommCare's archive): kept, and its username stays reserved, but dialects
  // that list users leave it out unless asked for archived users.
  bool archived = false;
  // Administratively locked (PingOne's account lock) since locked_at_ms (0: not locked),
  // until unlock_at_ms (0: until an API unlocks it). Kept and listed as it is, but no API
  // signs a locked user in, and locking it ends its sessions (UserService).
  std::int64_t locked_at_ms = 0;
  std::int64_t unlock_at_ms = 0;
  bool LockedAt(std::int64_t now_ms) const {
    return locked_at_ms != 0 && (unlock_at_ms == 0 || now_ms < unlock_at_ms);
  }
  // An identifier the user has in a client's own system (SCIM and PingOne externalId,
  // QuickBlox external_user_id): unique per environment.
  std::string external_id;
  // Identifiers the user has in other systems, by source (e.g. "facebook": QuickBlox
  // facebook_id). Each is unique per environment and source.
  std::map<std::string, std::string> external_ids;
  // Values of the environment's declared attributes (core/schema.h): attribute id ->
  // the value as JSON text. The schema says which are unique.
  std::map<std::string, std::string> attributes;
  // What one dialect keeps that no other has a field for: dialect name -> a JSON
  // object's text (e.g. "quickblox" -> {"tag_list":...}). Sealed with the profile;
  // a dialect changes only its own entry.
  std::map<std::string, std::string> dialect_json;
};

}  // namespace roster::core
