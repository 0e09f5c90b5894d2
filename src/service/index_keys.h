// The one place blind-index digests meet the environment's index-key generations
// (`roster env rotate-index-key`, service/index_key_rotation.h; docs/security.md,
// "Index-key rotation"). A digest of generation 0 is crypto::BlindIndex under keys.index
// (truncated for search entries, search_index.h); a digest of generation g >= 1 is the
// digest of generation g - 1 keyed again under the generation's step key (same kind,
// same length). So a rotation re-indexes from the index alone (no profile, no record
// body is opened: records' claims are not derivable from their bodies), uniqueness is
// the store's constraint on each generation, and equal values still meet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.h"
#include "store/store.h"

namespace roster::service {

// One step: the digest of the next generation from one of the previous.
std::string IndexStep(const crypto::SecretKey& step, std::string_view kind, std::string_view digest);

// `digest` (generation 0) carried to `generation` (<= keys.index_steps.size()).
std::string DigestAt(const crypto::EnvironmentKeys& keys, std::string_view kind, std::string digest,
                     std::int64_t generation);

// What lookups use: `digest` (generation 0) carried to keys.index_read.
std::string LookupDigest(const crypto::EnvironmentKeys& keys, std::string_view kind, std::string digest);
// The same for a claim's value: BlindIndex(keys.index, kind, value) carried to index_read.
std::string ClaimLookup(const crypto::EnvironmentKeys& keys, std::string_view kind, std::string_view value);

// Entries to write: each of `base` (digests of generation 0) under every generation
// writes hold (keys.index_low .. the newest), tagged with its generation.
std::vector<store::IndexEntry> WithGenerations(const crypto::EnvironmentKeys& keys,
                                               std::vector<store::IndexEntry> base);

}  // namespace roster::service
