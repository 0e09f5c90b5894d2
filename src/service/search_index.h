// Searchable encrypted attributes: keyed blind indexes for equality, case-insensitive
// equality and prefix (`sw`) search over sealed profiles (docs/security.md, "Search
// indexes", says what each reveals and costs).
//
// Each attribute the policy names gets, per value, in the user_index table:
//   equality: one entry of kind "s=<path>": the keyed digest of the folded value;
//   prefix:   that, plus one entry of kind "s^<path>" per prefix length in
//             kSearchPrefixLengths the folded value reaches (its first 2, 3, 4, 6, 8
//             code points).
// Folding is the evaluator's (query::Fold: ICU NFKC_Casefold, i.e. Unicode normalised
// and case-folded), so the index's candidates include every user the filter matches;
// caseExact attributes (externalId) are not folded. Digests are BLAKE2b keyed with the
// environment's index key, truncated to kSearchDigestBytes: collisions only add
// candidates, and the query engine evaluates the whole filter on each opened candidate.
//
// SearchEntries is the one derivation of these entries; UserService::IndexFor adds them
// to the claims of every write (create, update, re-index).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/user.h"
#include "crypto/crypto.h"
#include "query/filter.h"
#include "store/store.h"

namespace roster::service {

enum class SearchMode { kOff, kEquality, kPrefix };

inline constexpr int kSearchPrefixLengths[] = {2, 3, 4, 6, 8};
inline constexpr std::size_t kSearchDigestBytes = 12;

// Attribute paths (canonical, lower-case, as query/evaluate.h names them):
//   username, displayname, nickname, externalid, name.givenname, name.familyname,
//   name.middlename, name.formatted, emails.value, phonenumbers.value.
struct SearchPolicy {
  std::map<std::string, SearchMode> modes;  // a path not named is off
  // username, displayname, name.{givenname,familyname,formatted}, emails.value: prefix;
  // phonenumbers.value: equality. (externalId and username equality are answered by
  // their uniqueness claims whatever the policy says.)
  static SearchPolicy Default();
  SearchMode ModeOf(const std::string& path) const;
  // "path=off|equality|prefix,..." applied over the defaults; kInvalidArgument naming
  // "search-index" for an unknown path or mode.
  static core::Result<SearchPolicy> Parse(std::string_view text);
  // A stable description ("displayname=prefix,..."), for logs and docs.
  std::string ToString() const;
};

// Every attribute path SearchPolicy accepts.
const std::vector<std::string>& SearchablePaths();

std::string SearchEqualityKind(const std::string& path);  // "s=<path>"
std::string SearchPrefixKind(const std::string& path);    // "s^<path>"
// The digest a search entry (or lookup) of `kind` stores for the folded `key`.
std::string SearchDigest(const crypto::SecretKey& index_key, const std::string& kind, std::string_view key);
bool IsSearchKind(std::string_view kind);

// The search entries of a user under `policy`, without duplicates.
std::vector<store::IndexEntry> SearchEntries(const crypto::SecretKey& index_key, const SearchPolicy& policy,
                                             const core::User& user);

// One index lookup: the holders of (kind, digest of key).
struct IndexLookup {
  std::string kind;  // a search kind, or a claim kind ("username", "externalId")
  std::string key;   // the folded (claim-normalised) value whose digest is looked up
};

// Lookups whose holders, together, include every user `filter` matches; nullopt when
// the index cannot bound the filter (then the engine scans). An "and" uses the most
// selective of its operands that has a plan; an "or" the union of its operands' plans
// (all must have one); `eq` and `sw` on an indexed attribute (also inside a value path
// such as emails[type eq "work" and value sw "ann"]) look up one entry.
std::optional<std::vector<IndexLookup>> PlanSearch(const SearchPolicy& policy, const query::Node& filter);

// The one lookup whose holders are exactly the users `filter` matches, so they can be
// counted without opening any: `filter` is one `eq` on an attribute the policy indexes,
// or one `sw` whose folded text is as long as an indexed prefix (2, 3, 4, 6 or 8 code
// points), alone or as the only test of a value path (emails[value sw "ann"]). The
// evaluator folds both sides as the index does (query::Fold), so a holder matches and a
// match holds the entry; the one exception is two folded values whose truncated digests
// collide (kSearchDigestBytes: 2^-96 per pair). nullopt for anything else, including the
// uniqueness claims (username, externalId: at most one holder, nothing to save).
std::optional<IndexLookup> ExactSearch(const SearchPolicy& policy, const query::Node& filter);

}  // namespace roster::service
