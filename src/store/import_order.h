// The order in which both adapters write a bulk import's index entries
// (UserStore::InsertUsers' one pass). Pure; no I/O.
#pragma once

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include "store/store.h"

namespace roster::store {

// Every (user, entry) of the batch, users[user].index[entry], in (environment, kind,
// digest) order: the key order of user_index, so consecutive inserts land on
// neighbouring index pages instead of each on a random leaf.
inline std::vector<std::pair<std::uint32_t, std::uint32_t>> IndexEntriesInKeyOrder(const std::vector<NewUser>& users) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> order;
  for (std::size_t u = 0; u < users.size(); ++u)
    for (std::size_t e = 0; e < users[u].index.size(); ++e)
      order.emplace_back(static_cast<std::uint32_t>(u), static_cast<std::uint32_t>(e));
  auto key = [&](const std::pair<std::uint32_t, std::uint32_t>& p) {
    const IndexEntry& e = users[p.first].index[p.second];
    return std::tie(users[p.first].row.environment_id, e.kind, e.digest);
  };
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
  return order;
}

}  // namespace roster::store
