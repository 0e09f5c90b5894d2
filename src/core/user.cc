#include "core/user.h"

namespace roster::core {

const Contact* Profile::PrimaryEmail() const {
  for (const auto& e : emails)
    if (e.primary) return &e;
  return nullptr;
}

}  // namespace roster::core
