// UserService::Query, the query engine (see user_query.h).
#include <algorithm>
#include <cmath>

#include "service/user_service.h"
#include "service/index_keys.h"

namespace roster::service {
namespace {

using query::Literal;
using query::Node;
using query::Op;

bool IsCanonical(const query::AttrPath& path, std::string_view name) {
  return path.schema.empty() && path.names.size() == 1 && path.names.front() == name;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// The operands a filter ANDs (itself when it is not an "and").
void Conjuncts(const Node& node, std::vector<const Node*>& out) {
  if (node.kind == Node::Kind::kAnd) {
    for (const Node& child : node.children) Conjuncts(child, out);
  } else {
    out.push_back(&node);
  }
}

std::optional<std::string> StringEquality(const Node& node, std::string_view name) {
  if (node.kind != Node::Kind::kCompare || node.op != Op::kEq || node.value.kind != Literal::Kind::kString ||
      !IsCanonical(node.path, name))
    return std::nullopt;
  return node.value.text;
}

// emails[primary eq true and value eq "x"] (operands in any order, more allowed).
std::optional<std::string> PrimaryEmailEquality(const Node& node) {
  if (node.kind != Node::Kind::kValuePath || !IsCanonical(node.path, "emails")) return std::nullopt;
  std::vector<const Node*> inner;
  Conjuncts(node.children.front(), inner);
  bool primary = false;
  std::optional<std::string> value;
  for (const Node* n : inner) {
    if (n->kind == Node::Kind::kCompare && n->op == Op::kEq && IsCanonical(n->path, "primary") &&
        n->value.kind == Literal::Kind::kBool && n->value.boolean)
      primary = true;
    if (auto v = StringEquality(*n, "value")) value = v;
  }
  if (!primary || !value || !IsAscii(*value)) return std::nullopt;
  return value;
}

}  // namespace

std::optional<IndexEquality> IndexHint(const Node& filter) {
  std::vector<const Node*> all;
  Conjuncts(filter, all);
  for (const Node* n : all)
    if (auto v = StringEquality(*n, "username")) return IndexEquality{"username", *v};
  for (const Node* n : all)
    if (auto v = StringEquality(*n, "externalid")) return IndexEquality{kExternalIdClaim, *v};  // both exact
  for (const Node* n : all)
    if (auto v = PrimaryEmailEquality(*n)) return IndexEquality{kEmailClaim, *v};
  return std::nullopt;
}

NumberRange NumberRangeOf(const Node& filter) {
  NumberRange range;
  std::vector<const Node*> all;
  Conjuncts(filter, all);
  for (const Node* n : all) {
    if (n->kind != Node::Kind::kCompare || n->value.kind != Literal::Kind::kNumber || !IsCanonical(n->path, "number"))
      continue;
    const double v = n->value.number;
    if (!(std::fabs(v) < 9e15)) continue;  // beyond exact integers: leave it to the evaluator
    const auto floor = static_cast<std::int64_t>(std::floor(v));
    const auto ceil = static_cast<std::int64_t>(std::ceil(v));
    switch (n->op) {
      case Op::kGt: range.after = std::max(range.after, floor); break;
      case Op::kGe: range.after = std::max(range.after, ceil - 1); break;
      case Op::kEq: range.after = std::max(range.after, ceil - 1); range.upto = std::min(range.upto, floor); break;
      case Op::kLt: range.upto = std::min(range.upto, ceil - 1); break;
      case Op::kLe: range.upto = std::min(range.upto, floor); break;
      default: break;
    }
  }
  return range;
}

core::Result<std::int64_t> UserService::NumberAt(const std::string& environment_id, std::int64_t offset) {
  return users_.UserNumberAt(environment_id, offset);
}

// The index lookups that answer `filter`: the search index's plan, else a blind-index
// equality of the primary email (IndexHint) when the policy leaves emails unindexed.
std::optional<std::vector<IndexLookup>> UserService::Lookups(const query::Node& filter) const {
  if (auto plan = PlanSearch(search_, filter)) return plan;
  auto hint = IndexHint(filter);
  if (!hint) return std::nullopt;
  auto key = ClaimKey(hint->kind, hint->value);
  if (!key) return std::vector<IndexLookup>{};  // a value no user can hold: nobody
  return std::vector<IndexLookup>{{hint->kind, std::move(*key)}};
}

bool UserService::AnswersFromIndex(const query::Node& filter) const { return Lookups(filter).has_value(); }

core::Result<QueryResult> UserService::Query(const UserQuery& q) {
  const int page_size = std::clamp(q.page_size, 1, 1000);
  const std::int64_t budget = std::max(q.budget, 1);
  QueryResult result;
  std::int64_t skip = std::max<std::int64_t>(q.skip, 0);
  NumberRange range = q.filter ? NumberRangeOf(*q.filter) : NumberRange{};
  std::int64_t cursor = std::max(q.after, range.after);
  bool done = false;  // a stop decided: a known further match, or the range's end
  bool counting = q.count;  // the walk goes on past the page to count matches

  // Takes one opened user in number order; false when the walk stops here.
  const auto take = [&](core::User& u) -> bool {
    if (u.number > range.upto) {
      done = true;
      result.next_after = 0;
      return false;
    }
    ++result.rows_read;
    cursor = u.number;
    const bool keep = q.archived == ArchivedUsers::kInclude || (q.archived == ArchivedUsers::kOnly) == u.archived;
    if (keep && q.view) q.view(u);
    if (keep && (!q.filter || query::Matches(*q.filter, u, q.extension))) {
      if (skip > 0) {
        --skip;
        ++result.matched;
      } else if (static_cast<int>(result.users.size()) < page_size) {
        ++result.matched;
        result.page_end = u.number;
        result.users.push_back(std::move(u));
      } else if (counting) {
        ++result.matched;
      } else {
        // A match beyond the page: there is more; go on after the page's last user.
        done = true;
        result.next_after = result.page_end;
        return false;
      }
    }
    if (result.rows_read >= budget) {
      result.budget_hit = true;
      result.next_after = cursor;
      return false;
    }
    return true;
  };

  if (q.filter && q.within_record.empty()) {
    if (auto lookups = Lookups(*q.filter)) {
      auto keys = directory_.KeysFor(q.environment_id);
      if (!keys) return std::unexpected(keys.error());
      // One keyset stream per lookup, merged in number order (a user in several streams
      // is taken once): each stream reads its entry's holders after the cursor, a chunk
      // at a time, so the work is bounded by the budget as a scan's is.
      struct Stream {
        std::string kind, digest;
        std::vector<store::UserRow> rows;
        std::size_t at = 0;
        std::int64_t after = 0;
        bool exhausted = false;
      };
      std::vector<Stream> streams;
      for (const auto& l : *lookups) {
        Stream st;
        st.kind = l.kind;
        st.digest = LookupDigest(*keys, l.kind,
                                 IsSearchKind(l.kind) ? SearchDigest(keys->index, l.kind, l.key)
                                                      : crypto::BlindIndex(keys->index, l.kind, l.key));
        st.after = cursor;
        result.plan += (result.plan.empty() ? "" : "|") + l.kind;
        streams.push_back(std::move(st));
      }
      // A total the index alone can tell (ExactSearch: then the plan is that one
      // lookup, the stream above) is counted there, from index rows without opening a
      // user, and the walk stops after the page as it does without a count. Only when
      // the principal's view keeps the attribute (a field hidden from it cannot match for
      // it) and up to kExactCountCap holders; else the walk counts.
      std::optional<std::int64_t> exact_total;
      if (q.count) {
        auto exact = ExactSearch(search_, *q.filter);
        // A search kind is "s=<path>" or "s^<path>".
        if (exact && q.view && !(q.view_keeps && q.view_keeps(std::string_view(exact->kind).substr(2))))
          exact.reset();
        if (exact && streams.size() == 1 && streams.front().kind == exact->kind) {
          auto held = users_.CountHolders(q.environment_id, exact->kind, streams.front().digest, cursor,
                                          kArchivedMarker, ClaimLookup(*keys, kArchivedMarker, ""), kExactCountCap);
          if (!held) return std::unexpected(held.error());
          if (held->holders < kExactCountCap) {
            exact_total = q.archived == ArchivedUsers::kInclude ? held->holders
                          : q.archived == ArchivedUsers::kOnly  ? held->also
                                                                : held->holders - held->also;
            counting = false;
          }
        }
      }
      int chunk = 0;
      while (true) {
        std::int64_t next = INT64_MAX;
        for (auto& st : streams) {
          if (st.at == st.rows.size() && !st.exhausted) {
            const std::int64_t need = counting ? budget : skip + page_size + 1;
            chunk = static_cast<int>(std::clamp<std::int64_t>(std::max<std::int64_t>(need, chunk * 2LL), 1, 500));
            auto rows = users_.FindUsersAfter(q.environment_id, st.kind, st.digest, st.after, chunk);
            if (!rows) return std::unexpected(rows.error());
            st.exhausted = static_cast<int>(rows->size()) < chunk;
            if (!rows->empty()) st.after = rows->back().number;
            st.rows = std::move(*rows);
            st.at = 0;
          }
          if (st.at < st.rows.size()) next = std::min(next, st.rows[st.at].number);
        }
        if (next == INT64_MAX) {  // every stream ran out
          result.next_after = 0;
          break;
        }
        const store::UserRow* row = nullptr;
        for (auto& st : streams)
          if (st.at < st.rows.size() && st.rows[st.at].number == next) row = &st.rows[st.at++];
        auto u = Unseal(*keys, *row);
        if (!u) return std::unexpected(u.error());
        if (!take(*u)) break;
      }
      // A walk the budget stopped reports what it saw (callers go on from there).
      if (exact_total && !result.budget_hit) {
        result.matched = *exact_total;
        result.plan += "+count";
      }
      return result;
    }
  }

  result.plan = q.within_record.empty() ? "scan" : "members";
  int chunk = 0;
  while (true) {
    // Unfiltered: exactly what the page still needs (+1 to know whether more follow).
    // Filtered: that much first, then doubling, since the match rate is unknown.
    const std::int64_t need = q.count ? budget : skip + (page_size - static_cast<std::int64_t>(result.users.size())) + 1;
    std::int64_t want = q.filter ? std::max<std::int64_t>(need, chunk * 2LL) : need;
    want = std::clamp<std::int64_t>(want, 1, std::min<std::int64_t>(budget - result.rows_read, 500));
    chunk = static_cast<int>(want);
    auto page = q.within_record.empty() ? List(q.environment_id, cursor, chunk)
                                        : ListMembers(q.environment_id, q.within_record, cursor, chunk);
    if (!page) return std::unexpected(page.error());
    bool stopped = false;
    for (auto& u : page->users) {
      if (!take(u)) {
        stopped = true;
        break;
      }
    }
    if (stopped) break;
    if (static_cast<int>(page->users.size()) < chunk) {  // the end of the environment (or record)
      result.next_after = 0;
      break;
    }
  }
  return result;
}

}  // namespace roster::service
