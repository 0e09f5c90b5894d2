#include "service/index_keys.h"
#include <algorithm>

namespace roster::service {

std::string IndexStep(const crypto::SecretKey& step, std::string_view kind, std::string_view digest) {
  std::string next = crypto::BlindIndex(step, kind, digest);
  next.resize(std::min(next.size(), digest.size()));
  return next;
}

std::string DigestAt(const crypto::EnvironmentKeys& keys, std::string_view kind, std::string digest,
                     std::int64_t generation) {
  const auto steps = std::min<std::int64_t>(generation, static_cast<std::int64_t>(keys.index_steps.size()));
  for (std::int64_t g = 0; g < steps; ++g) digest = IndexStep(keys.index_steps[static_cast<std::size_t>(g)], kind, digest);
  return digest;
}

std::string LookupDigest(const crypto::EnvironmentKeys& keys, std::string_view kind, std::string digest) {
  return DigestAt(keys, kind, std::move(digest), keys.index_read);
}

std::string ClaimLookup(const crypto::EnvironmentKeys& keys, std::string_view kind, std::string_view value) {
  return LookupDigest(keys, kind, crypto::BlindIndex(keys.index, kind, value));
}

std::vector<store::IndexEntry> WithGenerations(const crypto::EnvironmentKeys& keys,
                                               std::vector<store::IndexEntry> base) {
  const auto high = static_cast<std::int64_t>(keys.index_steps.size());
  if (high == 0) return base;
  std::vector<store::IndexEntry> out;
  out.reserve(base.size() * static_cast<std::size_t>(high - keys.index_low + 1));
  for (auto& e : base) {
    // Generations low..high: step from 0 up to low, then one entry per step.
    std::string digest = DigestAt(keys, e.kind, e.digest, keys.index_low);
    for (std::int64_t g = keys.index_low; g <= high; ++g) {
      if (g > keys.index_low) digest = IndexStep(keys.index_steps[static_cast<std::size_t>(g - 1)], e.kind, digest);
      store::IndexEntry copy = e;
      copy.digest = digest;
      copy.generation = g;
      out.push_back(std::move(copy));
    }
  }
  return out;
}

}  // namespace roster::service
