#include "service/search_index.h"

#include <algorithm>
#include <set>

#include "core/rules.h"

namespace roster::service {
namespace {

using query::Literal;
using query::Node;
using query::Op;

constexpr std::string_view kUsernameClaimKind = "username";      // as user_service.h's kUsernameClaim
constexpr std::string_view kExternalIdClaimKind = "externalId";  // as kExternalIdClaim

bool CaseExact(std::string_view path) { return path == "externalid"; }

// The first `n` code points of valid-or-not UTF-8 text (as core::CodePoints counts).
std::string_view FirstCodePoints(std::string_view text, std::size_t n) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (seen == n) return text.substr(0, i);
      ++seen;
    }
  }
  return text;
}

std::string FoldFor(std::string_view path, std::string_view value) {
  return CaseExact(path) ? std::string(value) : query::Fold(value);
}

// The longest indexed prefix length <= `length`, 0 if none.
int PrefixLengthFor(std::size_t length) {
  int best = 0;
  for (int l : kSearchPrefixLengths)
    if (static_cast<std::size_t>(l) <= length) best = l;
  return best;
}

// Candidate plan with a rough selectivity score (higher: fewer candidates).
struct Plan {
  std::vector<IndexLookup> lookups;
  int score = 0;
};

std::optional<Plan> PlanNode(const SearchPolicy& policy, const Node& node, const std::string& within);

std::optional<Plan> PlanCompare(const SearchPolicy& policy, const Node& node, const std::string& within) {
  if (node.op != Op::kEq && node.op != Op::kSw) return std::nullopt;
  if (node.value.kind != Literal::Kind::kString || node.value.text.empty()) return std::nullopt;
  if (!node.path.schema.empty() || node.path.names.empty()) return std::nullopt;
  std::string path = within;
  for (const auto& name : node.path.names) path += (path.empty() ? "" : ".") + name;
  if (path == "emails" || path == "phonenumbers") path += ".value";  // the value sub-attribute
  if (node.op == Op::kEq) {
    // Uniqueness claims answer these whatever the policy says.
    if (path == "username") {
      auto folded = core::FoldUsername(node.value.text);
      if (folded) return Plan{{{std::string(kUsernameClaimKind), std::move(*folded)}}, 100};
    }
    if (path == "externalid") return Plan{{{std::string(kExternalIdClaimKind), node.value.text}}, 100};
    if (policy.ModeOf(path) == SearchMode::kOff) return std::nullopt;
    return Plan{{{SearchEqualityKind(path), FoldFor(path, node.value.text)}}, 90};
  }
  if (policy.ModeOf(path) != SearchMode::kPrefix) return std::nullopt;
  const std::string folded = FoldFor(path, node.value.text);
  const int length = PrefixLengthFor(core::CodePoints(folded));
  if (length == 0) return std::nullopt;  // too short to be worth an index: the scan finds matches densely
  return Plan{{{SearchPrefixKind(path), std::string(FirstCodePoints(folded, static_cast<std::size_t>(length)))}},
              length};
}

std::optional<Plan> PlanNode(const SearchPolicy& policy, const Node& node, const std::string& within) {
  switch (node.kind) {
    case Node::Kind::kCompare:
      return PlanCompare(policy, node, within);
    case Node::Kind::kAnd: {
      std::optional<Plan> best;
      for (const Node& child : node.children) {
        auto plan = PlanNode(policy, child, within);
        if (plan && (!best || plan->score > best->score)) best = std::move(plan);
      }
      return best;
    }
    case Node::Kind::kOr: {
      Plan all;
      all.score = 1000;
      for (const Node& child : node.children) {
        auto plan = PlanNode(policy, child, within);
        if (!plan) return std::nullopt;
        all.score = std::min(all.score, plan->score);
        for (auto& l : plan->lookups) all.lookups.push_back(std::move(l));
      }
      all.score -= static_cast<int>(all.lookups.size());  // more streams, more rows
      return all;
    }
    case Node::Kind::kValuePath:
      if (!within.empty() || !node.path.schema.empty() || node.path.names.size() != 1) return std::nullopt;
      return PlanNode(policy, node.children.front(), node.path.names.front());
    case Node::Kind::kPresent:
    case Node::Kind::kNot:
      return std::nullopt;
  }
  return std::nullopt;
}

void Add(std::vector<std::pair<std::string, std::string>>& out, const char* path, const std::string& value) {
  if (!value.empty()) out.emplace_back(path, value);
}

// The (path, value) pairs of a user's searchable attributes.
std::vector<std::pair<std::string, std::string>> SearchableValues(const core::User& u) {
  std::vector<std::pair<std::string, std::string>> out;
  const core::Profile& p = u.profile;
  Add(out, "username", u.username);
  Add(out, "displayname", p.display_name);
  Add(out, "nickname", p.nick_name);
  Add(out, "externalid", u.external_id);
  Add(out, "name.givenname", p.name.given_name);
  Add(out, "name.familyname", p.name.family_name);
  Add(out, "name.middlename", p.name.middle_name);
  Add(out, "name.formatted", p.name.formatted);
  for (const auto& c : p.emails) Add(out, "emails.value", c.value);
  for (const auto& c : p.phone_numbers) Add(out, "phonenumbers.value", c.value);
  return out;
}

}  // namespace

const std::vector<std::string>& SearchablePaths() {
  static const std::vector<std::string> paths{"username",        "displayname",     "nickname",
                                              "externalid",      "name.givenname",  "name.familyname",
                                              "name.middlename", "name.formatted",  "emails.value",
                                              "phonenumbers.value"};
  return paths;
}

SearchPolicy SearchPolicy::Default() {
  SearchPolicy p;
  for (const char* path : {"username", "displayname", "name.givenname", "name.familyname", "name.formatted",
                           "emails.value"})
    p.modes[path] = SearchMode::kPrefix;
  p.modes["phonenumbers.value"] = SearchMode::kEquality;
  return p;
}

SearchMode SearchPolicy::ModeOf(const std::string& path) const {
  auto it = modes.find(path);
  return it == modes.end() ? SearchMode::kOff : it->second;
}

core::Result<SearchPolicy> SearchPolicy::Parse(std::string_view text) {
  SearchPolicy policy = Default();
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return core::InvalidArgument("search-index", "expected path=mode: " + std::string(item));
    std::string path(item.substr(0, eq));
    std::transform(path.begin(), path.end(), path.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string_view mode = item.substr(eq + 1);
    const auto& known = SearchablePaths();
    if (std::find(known.begin(), known.end(), path) == known.end())
      return core::InvalidArgument("search-index", "not a searchable attribute: " + path);
    if (mode == "off") policy.modes.erase(path);
    else if (mode == "equality") policy.modes[path] = SearchMode::kEquality;
    else if (mode == "prefix") policy.modes[path] = SearchMode::kPrefix;
    else return core::InvalidArgument("search-index", "mode must be off, equality or prefix: " + std::string(mode));
  }
  return policy;
}

std::string SearchPolicy::ToString() const {
  std::string out;
  for (const auto& [path, mode] : modes)
    out += (out.empty() ? "" : ",") + path + "=" +
           (mode == SearchMode::kPrefix ? "prefix" : mode == SearchMode::kEquality ? "equality" : "off");
  return out;
}

std::string SearchEqualityKind(const std::string& path) { return "s=" + path; }
std::string SearchPrefixKind(const std::string& path) { return "s^" + path; }
bool IsSearchKind(std::string_view kind) { return kind.starts_with("s=") || kind.starts_with("s^"); }

std::string SearchDigest(const crypto::SecretKey& index_key, const std::string& kind, std::string_view key) {
  std::string digest = crypto::BlindIndex(index_key, kind, key);
  digest.resize(kSearchDigestBytes);
  return digest;
}

std::vector<store::IndexEntry> SearchEntries(const crypto::SecretKey& index_key, const SearchPolicy& policy,
                                             const core::User& user) {
  std::set<std::pair<std::string, std::string>> keys;  // (kind, folded key), once each
  for (const auto& [path, value] : SearchableValues(user)) {
    const SearchMode mode = policy.ModeOf(path);
    if (mode == SearchMode::kOff) continue;
    const std::string folded = FoldFor(path, value);
    keys.emplace(SearchEqualityKind(path), folded);
    if (mode != SearchMode::kPrefix) continue;
    const std::size_t length = core::CodePoints(folded);
    for (int l : kSearchPrefixLengths)
      if (static_cast<std::size_t>(l) <= length)
        keys.emplace(SearchPrefixKind(path), std::string(FirstCodePoints(folded, static_cast<std::size_t>(l))));
  }
  std::vector<store::IndexEntry> out;
  std::set<std::pair<std::string, std::string>> digests;
  out.reserve(keys.size());
  for (const auto& [kind, key] : keys) {
    std::string digest = SearchDigest(index_key, kind, key);
    if (!digests.emplace(kind, digest).second) continue;  // a truncated digest may repeat
    out.push_back({kind, std::move(digest), false, false});
  }
  return out;
}

std::optional<IndexLookup> ExactSearch(const SearchPolicy& policy, const Node& filter) {
  const Node* node = &filter;
  std::string within;
  if (node->kind == Node::Kind::kValuePath) {
    if (!node->path.schema.empty() || node->path.names.size() != 1) return std::nullopt;
    within = node->path.names.front();
    node = &node->children.front();
  }
  if (node->kind != Node::Kind::kCompare) return std::nullopt;
  auto plan = PlanCompare(policy, *node, within);
  if (!plan || plan->lookups.size() != 1 || !IsSearchKind(plan->lookups.front().kind)) return std::nullopt;
  IndexLookup& lookup = plan->lookups.front();
  // A shorter indexed prefix than the text only names candidates. (A case-exact
  // attribute's prefix is of the text unfolded: left to the evaluator.)
  if (node->op == Op::kSw &&
      (lookup.kind == SearchPrefixKind("externalid") || lookup.key != query::Fold(node->value.text)))
    return std::nullopt;
  return std::move(lookup);
}

std::optional<std::vector<IndexLookup>> PlanSearch(const SearchPolicy& policy, const Node& filter) {
  auto plan = PlanNode(policy, filter, {});
  if (!plan) return std::nullopt;
  return std::move(plan->lookups);
}

}  // namespace roster::service
